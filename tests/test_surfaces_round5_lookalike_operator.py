"""`triage incidents list|show --output text` keep alert text from reading as triage's own
facts: a team, source or label that holds more than a plain word is written as a quoted JSON
string (`team "ops · source cloudwatch" · source generic`), so it cannot add a source, a route
or another label; a list line's flags come before the title, so a title ending `[silenced]` is
no flag. In-process, on `operator_text`'s renderers."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import pytest

from triage.ops.operator_text import incident_block, incident_line

NOW = datetime(2026, 12, 6, 9, 0, tzinfo=UTC)


def shown(**fields: Any) -> dict[str, Any]:
    """An incident as `operator.incident_json` gives it, with `fields` changed."""
    incident: dict[str, Any] = {
        "fingerprint": "f" * 32, "state": "open", "opened_at": NOW.isoformat(),
        "closed_at": None, "updated_at": NOW.isoformat(), "priority": "high",
        "team": "payments", "source": "generic", "route": "db", "occurrences": 3,
        "tickets": {"backend": "T-1"}, "labels": {"env": "prod"}, "title": "Checkout down",
        "history": [], "close_held_until": None, "escalated_at": None,
    }  # fmt: skip
    return incident | fields


def _fact(block: str, name: str) -> str:
    [line] = [line for line in block.splitlines() if line.strip().startswith(f"{name} ")]
    return line.strip().removeprefix(name).strip()


@pytest.mark.parametrize(
    ("team", "written"),
    [
        ("ops · source cloudwatch · route payments", '"ops · source cloudwatch · route payments"'),
        ('pay" · source "x', '"pay\\" · source \\"x"'),
        ("pay\u2800", '"pay\\u2800"'),
        ("p\u0430y", '"p\\u0430y"'),  # a Cyrillic a: no team that passes for `pay`
        ("payments", "payments"),
        ("team-a/eu.west@x", "team-a/eu.west@x"),
    ],
)
def test_a_team_is_one_delimited_value_on_show(team: str, written: str) -> None:
    """`show`'s team fact writes the team bare when it is one plain word, else as a quoted
    JSON string: the source and route after it are the only ones on the line."""
    fact = _fact(incident_block(shown(team=team, source="generic"), NOW), "team")
    assert fact == f"{written} · source generic · route db", fact
    if written.startswith('"'):
        assert json.loads(written) == team


def test_a_source_is_one_delimited_value_on_show() -> None:
    """A source holding ` · route x` cannot read as the incident's route."""
    fact = _fact(incident_block(shown(source="generic · route payments"), NOW), "team")
    assert fact == 'payments · source "generic · route payments" · route db', fact


def test_a_label_value_cannot_add_another_label_on_show() -> None:
    """A label's key or value holding `, k=v` is quoted: it cannot read as a second label."""
    labels = {"env": "prod, severity=critical", "a=b, c": "d"}
    fact = _fact(incident_block(shown(labels=labels), NOW), "labels")
    assert fact == 'env="prod, severity=critical", "a=b, c"=d', fact


def test_a_list_lines_team_and_source_are_delimited() -> None:
    """A list line writes a team or source of more than a plain word as a quoted JSON string:
    `pay cloudwatch` cannot read as team `pay` and source `cloudwatch`."""
    line = incident_line(shown(team="pay cloudwatch", source="generic"), NOW, NOW)
    assert '  "pay cloudwatch"  generic  ' in line, line
    look_alike = incident_line(shown(team="p\u0430y", source="generic"), NOW, NOW)
    assert '  "p\\u0430y"  generic  ' in look_alike, look_alike
    plain = incident_line(shown(), NOW, NOW)
    assert "  payments  generic  " in plain, plain


@pytest.mark.parametrize("flag", ["silenced", "flapping"])
def test_a_title_cannot_imitate_a_list_lines_flag(flag: str) -> None:
    """A list line's flags stand before the title: a title ending `[silenced]` is read as
    the title's words, and a silenced incident's flag is where no title can write one."""
    tricked = incident_line(shown(title=f"Checkout down [{flag}]"), NOW, NOW)
    before_title = tricked.split("Checkout down")[0]
    assert f"[{flag}]" not in before_title, tricked
    real = incident_line(shown(**{flag: True}), NOW, NOW)
    assert f"[{flag}]" in real.split("Checkout down")[0], real
    assert f"[{flag}]" not in real.split("Checkout down")[1], real


def test_a_title_spelling_an_escape_is_told_apart_from_the_character() -> None:
    """A title holding the text `\\u202e` is shown with its backslash doubled on `list` and
    `show`, and one holding the character U+202E as `\\u202e`: the two read apart."""
    spelled = shown(title="db \\u202e down", team="pay\\u2800")
    real = shown(title="db \u202e down", team="pay\u2800")
    for text in (incident_line(spelled, NOW, NOW), incident_block(spelled, NOW)):
        assert "db \\\\u202e down" in text, text
    assert '"pay\\\\u2800"' in incident_block(spelled, NOW)
    for text in (incident_line(real, NOW, NOW), incident_block(real, NOW)):
        assert "db \\u202e down" in text and "\\\\u202e" not in text, text
    assert '"pay\\u2800"' in incident_block(real, NOW)
