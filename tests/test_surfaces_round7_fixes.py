"""Round 7's surface fixes, on the functions that write each surface: a team label is the
same whichever way Unicode composes its letters; a title opening with a priority word in
full-width letters, or behind an emoji of its own, states no second priority beside the
ticket's; a list line's tickets stand before its title, where no title can write them; and a
team in mathematical letters (which draw as Latin ones) is no plain word beside triage's
facts. In-process."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from triage.models import Priority
from triage.ops.operator_text import incident_line
from triage.sinks.github.text import label_of_team
from triage.sinks.slack import _team_part
from triage.summarise.priority import untagged

NOW = datetime(2026, 12, 6, 9, 0, tzinfo=UTC)


def _fullwidth(text: str) -> str:
    """`text` in full-width letters, digits and signs (U+FF01 to U+FF5E)."""
    return "".join(chr(ord(ch) + 0xFEE0) if "!" <= ch <= "~" else ch for ch in text)


# --- team labels: one per team, however its letters are composed ---------------------------


@pytest.mark.parametrize(
    ("composed", "decomposed"),
    [
        ("p\u00e4y", "pa\u0308y"),  # ä
        ("caf\u00e9", "cafe\u0301"),  # é
        ("\uac00", "\u1100\u1161"),  # a Hangul syllable and its jamo
    ],
)
def test_a_team_composed_or_decomposed_has_one_label(composed: str, decomposed: str) -> None:
    """A team written with a precomposed letter and with its base and combining mark (which
    every reader sees as one) gets one `team:` label, the composed one."""
    assert label_of_team(decomposed) == label_of_team(composed) == f"team:{composed}"


# --- a title states no second priority ---------------------------------------------------------


@pytest.mark.parametrize(
    "title",
    [
        _fullwidth("CRITICAL") + ": payments down",
        _fullwidth("P0") + ": payments down",
        _fullwidth("Critical") + "\uff1a payments down",  # a full-width colon too
        "\N{LARGE RED CIRCLE} " + _fullwidth("CRITICAL") + " payments down",
        "\uff3b" + _fullwidth("CRITICAL") + "\uff3d payments down",  # in full-width brackets
    ],
)
def test_a_priority_word_in_full_width_letters_opening_a_title_is_taken_out(title: str) -> None:
    """A priority marker opening a title in full-width letters (which Unicode folds to the
    ASCII word, and which read as it) is taken out as the ASCII one is, and counted as
    naming another priority than the ticket's."""
    assert untagged(title, Priority.LOW) == ("payments down", 1)


@pytest.mark.parametrize(
    "title",
    [_fullwidth("DB") + ": payments down", "\uff21\uff30\uff29\u969c\u5bb3", "SEV1 outage"],
)
def test_full_width_text_that_names_no_priority_is_the_titles(title: str) -> None:
    """Full-width text opening a title that names no priority (a component, a Japanese title
    naming an API) is left as written."""
    assert untagged(title, Priority.LOW) == (title, 0)


@pytest.mark.parametrize(
    ("title", "kept"),
    [
        ("\N{POLICE CARS REVOLVING LIGHT} CRITICAL: payments down", "\N{POLICE CARS REVOLVING LIGHT}"),
        ("\N{FIRE}\N{FIRE} P0: payments down", "\N{FIRE}\N{FIRE}"),
        ("\u26a0\ufe0f CRITICAL - payments down", "\u26a0\ufe0f"),  # with a variation selector
        ("\U0001f9d1\u200d\U0001f692 CRITICAL: payments down", "\U0001f9d1\u200d\U0001f692"),
        ("\U0001f44e\U0001f3fd CRITICAL: payments down", "\U0001f44e\U0001f3fd"),  # skin tone
        (":rotating_light: CRITICAL: payments down", ":rotating_light:"),
        ("\N{POLICE CARS REVOLVING LIGHT} \N{LARGE RED CIRCLE} CRITICAL: payments down",
         "\N{POLICE CARS REVOLVING LIGHT}"),
    ],
)  # fmt: skip
def test_a_priority_word_behind_an_emoji_is_taken_out(title: str, kept: str) -> None:
    """A priority marker behind an emoji of the title's own (any symbol, a sequence joined
    by ZWJ, a skin tone, a variation selector, Slack's `:code:`) is taken out as one opening
    the title is; the emoji, which names no priority, stays."""
    assert untagged(title, Priority.LOW) == (f"{kept} payments down", 1)


@pytest.mark.parametrize(
    "title",
    [
        "\N{POLICE CARS REVOLVING LIGHT} High CPU on db-1",
        "\N{FIRE} Critical path latency",
        ":fire: payments down",
    ],
)
def test_an_emoji_before_the_titles_own_words_changes_nothing(title: str) -> None:
    """An emoji before words that are the title's (a priority word with no separator after
    it opens text as often as it tags it) leaves the title as written."""
    assert untagged(title, Priority.LOW) == (title, 0)


# --- the operator's list line ------------------------------------------------------------------


def _shown(**fields: Any) -> dict[str, Any]:
    """An incident as `operator.incident_json` gives it, with `fields` changed."""
    incident: dict[str, Any] = {
        "fingerprint": "f" * 32, "state": "open", "opened_at": NOW.isoformat(),
        "closed_at": None, "updated_at": NOW.isoformat(), "priority": "high",
        "team": "payments", "source": "generic", "route": "db", "occurrences": 3,
        "tickets": {"github": "acme/ops#7"}, "labels": {}, "title": "Checkout down",
        "history": [], "close_held_until": None, "escalated_at": None,
    }  # fmt: skip
    return incident | fields


def test_a_list_lines_tickets_stand_before_its_title() -> None:
    """A list line reads fingerprint, tickets, then the title, which ends the line: what a
    title writes after itself is the title's, never a ticket."""
    line = incident_line(_shown(title="Checkout down [github acme/ops#12]"), NOW, NOW)
    assert line.endswith("ffffffffffff  [github acme/ops#7]  Checkout down [github acme/ops#12]")


# --- a team in mathematical letters (needs helper 366's view.py diff) ----------------------------

#: `pay` in mathematical sans-serif letters, which Unicode folds to `pay`.
MATH_PAY = "\U0001d5c9\U0001d5ba\U0001d5d2"


def test_a_team_in_mathematical_letters_is_quoted_and_spelled_in_the_list() -> None:
    """`incidents list` writes a team in mathematical letters as a quoted string of codes,
    not bare where it reads as the team `pay`."""
    line = incident_line(_shown(team=MATH_PAY), NOW, NOW)
    assert '"\\U0001d5c9\\U0001d5ba\\U0001d5d2"' in line or "\\ud835" in line, line
    assert not any(ch in line for ch in MATH_PAY), line


def test_a_team_in_mathematical_letters_is_quoted_and_spelled_in_slack() -> None:
    """Slack's one-line text writes a team in mathematical letters as a quoted string of
    codes, not bare where it reads as the team `pay`."""
    part = _team_part(MATH_PAY)
    assert part.startswith(' · team: "'), part
    assert not any(ch in part for ch in MATH_PAY), part
