"""The evidence's numbers are found as they always were: a text is searched for grouped
numbers ("1,000") only when one of its numbers is followed by a comma and a digit, and for
EC2 names only when it holds "p-" in either case; the clock forms of `occurred_at` are
strftime's."""

from __future__ import annotations

import random
import re
from datetime import UTC, datetime, timedelta, timezone

from triage.summarise import grounding
from triage.summarise.grounding import _ANY_NUMBER, _GROUPED_NUMBER, _canonical, _roundings

_PIECES = (
    "1", "0", "07", "95", "1,000", "12,345,678.5", ",", ".", ",,", "1,00", "1,0000", "2026",
    "\u0663", "\u0661,\u0662\u0663\u0664", "\uff11", "a", "x", " ", "\n", "-", ":", '"',
    "9" * 70, "3.14", ".5", "5.", "1,234.", "p95", "\u00b2",
)  # fmt: skip


def _reference(text: str) -> dict[str, list[tuple[int, int]]]:
    """`_number_places` as it was, both patterns always searched (spans for matches)."""
    found: dict[str, list[tuple[int, int]]] = {}
    for pattern in (_ANY_NUMBER, _GROUPED_NUMBER):
        for match in pattern.finditer(text):
            value = match.group()
            plain = value.isdigit() and value[0] != "0"
            found.setdefault(value if plain else _canonical(value), []).append(match.span())
            if "." in value:
                for rounded in _roundings(value):
                    found.setdefault(rounded, []).append(match.span())
    return found


def _spans(found: dict[str, list[re.Match[str]]]) -> dict[str, list[tuple[int, int]]]:
    return {key: [m.span() for m in matches] for key, matches in found.items()}


def test_numbers_are_placed_as_before_in_texts_of_commas_and_digits() -> None:
    """Thousands of texts of digits (ASCII, Arabic-Indic, fullwidth), commas, dots and
    words: every number found, in the same order, at the same places."""
    rng = random.Random(546)
    grouped = 0
    for _ in range(5000):
        text = "".join(rng.choice(_PIECES) for _ in range(rng.randrange(1, 12)))
        assert _spans(grounding._number_places(text)) == _reference(text), text
        grouped += _GROUPED_NUMBER.search(text) is not None
    assert grouped > 500


def test_clock_parts_are_strftime_s() -> None:
    """The date and clock forms of `occurred_at` for times across a day and zones."""
    rng = random.Random(5461)
    start = datetime(2026, 1, 1, tzinfo=UTC)
    for _ in range(500):
        moment = start + timedelta(seconds=rng.randrange(0, 400 * 86400), microseconds=7)
        moment = moment.astimezone(timezone(timedelta(minutes=rng.randrange(-720, 840, 15))))
        assert grounding._clock_parts(moment.isoformat()) == [
            moment.date().isoformat(),
            moment.strftime("%H:%M"),
            moment.strftime("%H:%M:%S"),
            f"{moment.hour}:{moment.minute:02}",
        ]


def test_ec2_names_ground_their_address_in_either_case() -> None:
    """An EC2 name (`ip-10-0-1-23`, in any case) in the view adds its dotted address to the
    evidence, as before; a view holding none adds nothing."""
    rng = random.Random(5462)
    pieces = ("ip-10-0-1-23", "IP-10-0-1-23", "Ip-1-2-3-4", "iP-10-0-1-", "p-", "xip-1-2-3-4",
              " ", "-", "1", "a", "\n", "host")  # fmt: skip
    named = 0
    for _ in range(3000):
        text = "".join(rng.choice(pieces) for _ in range(rng.randrange(1, 8)))
        names = [".".join(m.groups()) for m in grounding._EC2_NAME.finditer(text)]
        shown = grounding.evidence({"host": text}).text
        assert shown == "".join([f"host\n{text}", *(f"\n{name}" for name in names)]).lower()
        named += bool(names)
    assert named > 500
