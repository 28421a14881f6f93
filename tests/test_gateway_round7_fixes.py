"""The gateway fixes for red team round 7 (tests/test_redteam_round7_gateway.py holds the
attacks themselves): a held token found however a JSON writer escaped it, a webhook group split
to fit the queue bounded in what it queues, and a relayed sender keyed by its address without
the port its proxy appended."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest

from triage.ingest.credentials import TOKEN_BLANK, without_tokens
from triage.ingest.groups import MAX_SPLIT_GROWTH, EnvelopeTooLarge, split_group
from triage.ingest.messages import messages_for
from triage.ingest.reader import sender_key
from triage.ingest.refused import Refused
from triage.ingest.validate import check
from triage.sqs.inbox import RECEIVED_AT_ATTRIBUTE

PAYLOADS = Path(__file__).parent / "payloads"
#: A token with every kind of character a JSON writer may escape: `&<>` (Go), `/`, `"`, `\`.
TOKEN = 'gen&tok<en>/with"quote\\0123'


def every_char_escaped(text: str, upper: bool = False) -> str:
    """`text` as a JSON string body with every character written as `\\uXXXX`."""
    hex_format = "\\u{:04X}" if upper else "\\u{:04x}"
    return "".join(hex_format.format(ord(ch)) for ch in text)


def go_escaped(text: str) -> str:
    """`text` as a JSON string body as Go writes it: `&<>` as \\u0026, \\u003c, \\u003e."""
    escaped = json.dumps(text)[1:-1]
    return escaped.replace("&", "\\u0026").replace("<", "\\u003c").replace(">", "\\u003e")


@pytest.mark.parametrize(
    "written",
    [
        go_escaped(TOKEN),
        every_char_escaped(TOKEN),
        every_char_escaped(TOKEN, upper=True),
        go_escaped(TOKEN).replace("/", "\\/"),
        # Only one character escaped, the rest plain (but JSON's own `"` and `\`).
        json.dumps(TOKEN)[1:-1].replace("t", "\\u0074", 1),
    ],
    ids=["go", "all-lower", "all-upper", "solidus", "one-char"],
)
def test_a_token_written_with_json_escapes_is_blanked_in_values_and_keys(written: str) -> None:
    """A held token a JSON writer escaped, in part or whole, is blanked in a value, inside
    more text and in a key, and the text is still JSON holding everything else as sent."""
    text = f'{{"title":"t","note":"see ?k={written} now","{written}":1,"n":2}}'
    assert json.loads(text)["note"] == f"see ?k={TOKEN} now"  # the escapes spell the token
    blanked = without_tokens(text, [TOKEN])
    assert blanked is not None
    assert json.loads(blanked) == {
        "title": "t",
        "note": f"see ?k={TOKEN_BLANK} now",
        TOKEN_BLANK: 1,
        "n": 2,
    }


def test_a_token_with_an_astral_character_written_as_a_surrogate_pair_is_blanked() -> None:
    """A token holding a character past U+FFFF, which JSON escapes as a surrogate pair, is
    found as that pair decodes."""
    token = "key\U0001f511secret-0123"
    text = json.dumps({"note": f"token {token} here"}).replace("\\ud83d\\udd11", "\\uD83D\\uDD11")
    assert "\\uD83D\\uDD11" in text  # as a writer with upper-case hex sends it
    blanked = without_tokens(text, [token])
    assert blanked is not None
    assert json.loads(blanked) == {"note": f"token {TOKEN_BLANK} here"}


def test_a_token_past_ascii_with_a_quote_is_blanked_however_its_ascii_is_escaped() -> None:
    """A token holding a character past ASCII and a quote, sent with that character as it is
    and its `&` escaped, is found: the quote stays escaped however the token is read."""
    token = 'clé"&secret-0123'
    text = '{"note":"token clé\\"\\u0026secret-0123 here"}'
    assert json.loads(text) == {"note": f"token {token} here"}
    blanked = without_tokens(text, [token])
    assert blanked is not None
    assert json.loads(blanked) == {"note": f"token {TOKEN_BLANK} here"}


def test_escaped_text_without_a_token_is_left_as_sent() -> None:
    """A body holding escapes but no token is not written again (None: queued as sent), and a
    lone escaped surrogate or a NaN in it is no reason to touch it."""
    text = '{"title":"a\\u0026b\\/c\\n","raw":"\\ud800","k":"gen\\u0026token","n":NaN}'
    assert without_tokens(text, [TOKEN, "gen&token<0123>"]) is None


def test_text_that_is_no_json_keeps_its_escapes_and_loses_a_plain_token() -> None:
    """Text that does not parse is blanked where a token stands plainly, its escapes kept."""
    text = f"not json \\u0026 {TOKEN} end"
    assert without_tokens(text, [TOKEN]) == f"not json \\u0026 {TOKEN_BLANK} end"
    assert without_tokens("not json \\u0026 at all", [TOKEN]) is None


# --- A webhook group split to fit the queue ------------------------------------------------

SAMPLES = {"alertmanager": "alertmanager/group-firing.json", "grafana": "grafana/group-firing.json"}


def a_group(fmt: str, alerts: int, **envelope: Any) -> dict[str, Any]:
    """The sample group of `fmt` holding `alerts` alerts shaped as its first, with `envelope`'s
    fields set on the group."""
    group: dict[str, Any] = json.loads((PAYLOADS / SAMPLES[fmt]).read_text(encoding="utf-8"))
    first = group["alerts"][0]
    group["alerts"] = [
        copy.deepcopy(first) | {"labels": first["labels"] | {"instance": f"node-{i}:9100"}}
        for i in range(alerts)
    ]
    return group | envelope


def test_a_group_whose_envelope_nearly_fills_a_message_is_refused_naming_why() -> None:
    """A group whose fields besides its alerts would be copied into so many parts that they
    queue more than MAX_SPLIT_GROWTH times the group is refused, saying so."""
    group = a_group("alertmanager", 40, commonAnnotations={"description": "x" * 14200})
    text = json.dumps(group)
    with pytest.raises(EnvelopeTooLarge, match=r"times the group's .* bytes"):
        split_group(text, "alertmanager", 16 * 1024, lambda t: t)


async def test_the_gateway_answers_413_for_a_group_that_would_multiply() -> None:
    """messages_for turns the refusal into a 413 (too_large_for_queue) that says why."""
    group = a_group("alertmanager", 40, commonAnnotations={"description": "x" * 14200})
    checked = check("alertmanager", json.dumps(group).encode(), None, lambda text: text)
    attributes = {RECEIVED_AT_ATTRIBUTE: "2026-01-01T00:00:00.000Z"}
    with pytest.raises(Refused) as refused:
        await messages_for(checked, attributes, 16 * 1024)
    assert refused.value.status == 413
    assert refused.value.reason == "too_large_for_queue"
    assert "copied into each of" in refused.value.error


@pytest.mark.parametrize("fmt", SAMPLES)
@pytest.mark.parametrize("limit", [16 * 1024, 256 * 1024])
def test_a_real_group_still_splits_and_queues_at_most_the_bound(fmt: str, limit: int) -> None:
    """An Alertmanager or Grafana group of ordinary alerts and envelope still splits into
    parts that each fit, queueing at most MAX_SPLIT_GROWTH times its bytes."""
    text = json.dumps(a_group(fmt, 1000))
    parts = split_group(text, fmt, limit, lambda t: t)
    assert len(parts) > 1
    assert all(len(part.encode()) <= limit for part in parts)
    assert sum(len(part.encode()) for part in parts) <= MAX_SPLIT_GROWTH * len(text.encode())
    assert sum(len(json.loads(part)["alerts"]) for part in parts) == 1000


# --- The sender behind a proxy that appends its port -----------------------------------------


@pytest.mark.parametrize(
    ("relayed", "key"),
    [
        ("203.0.113.1:40001", "203.0.113.1"),
        ("203.0.113.1", "203.0.113.1"),
        ("[2001:db8:1:2::1]:40001", "2001:db8:1:2::/64"),
        ("[2001:db8:1:2::1]", "2001:db8:1:2::/64"),
        ("2001:db8:1:2::1", "2001:db8:1:2::/64"),
        ("[::ffff:203.0.113.1]:5", "203.0.113.1"),
    ],
)
def test_a_relayed_address_with_a_port_is_keyed_by_its_address(relayed: str, key: str) -> None:
    """An address a proxy wrote with its port (`ip:port`, `[ipv6]:port`) or in brackets is
    the same sender as the address alone."""
    assert sender_key(relayed) == key


@pytest.mark.parametrize(
    "garbage",
    [
        "unknown",
        "nonsense:80",
        "203.0.113.1:port",
        "203.0.113.1:",
        "[2001:db8::1]x:1",
        "[2001:db8::1",
        "[nonsense]:80",
        "203.0.113.1:99999999999999999999",
        "_hidden:1",
    ],
)
def test_an_entry_that_is_no_address_stays_itself(garbage: str) -> None:
    """What is no address, with or without something like a port, is keyed as sent: never
    read as some address it is not."""
    assert sender_key(garbage) == garbage
