"""CloudWatch alarm tags that disagree with the description, or with each other, about one
fact (team, priority, runbook, severity): the winner is as before (the description over tags,
the first of two tags), and one note names the conflict, its values redacted; the same value
given twice is no conflict."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from triage.normalize import Normalized, normalize_body

PAYLOADS = Path(__file__).parent / "payloads"


def _sns_alarm(description: str, tags: Any) -> dict[str, Any]:
    raw: dict[str, Any] = json.loads((PAYLOADS / "cloudwatch/raw-alarm.json").read_text())
    return raw | {"AlarmDescription": description, "AlarmTags": tags}


def _event(description: str, tags: Any) -> dict[str, Any]:
    event: dict[str, Any] = json.loads((PAYLOADS / "cloudwatch/eventbridge-alarm.json").read_text())
    event["detail"]["configuration"]["description"] = description
    event["detail"]["alarmTags"] = tags
    return event


def _read(payload: dict[str, Any]) -> Normalized:
    return normalize_body(json.dumps(payload))


def _tag_notes(result: Normalized) -> list[str]:
    return [n for n in result.notes if "tag" in n.lower()]


@pytest.mark.parametrize("build", [_sns_alarm, _event], ids=["sns", "event"])
def test_description_over_a_tag_is_noted(build: Any) -> None:
    """TEAM=a in the description and tag Team=b: routed to a as before, one note names both."""
    result = _read(build("disk full | TEAM=a", {"Team": "b"}))
    assert result.alerts[0].team == "a"
    [note] = _tag_notes(result)
    assert "'a'" in note and "'b'" in note and "Team" in note


@pytest.mark.parametrize(
    ("tags", "first", "second"),
    [
        ({"Team": "a", "team": "b"}, "Team", "team"),
        (
            [
                {"Key": "runbook", "Value": "https://r.example/a"},
                {"Key": "runbook_url", "Value": "https://r.example/b"},
            ],
            "runbook",
            "runbook_url",
        ),
    ],
)
def test_two_tags_for_one_fact_are_noted(tags: Any, first: str, second: str) -> None:
    """Two tags naming one fact with other values: the first is used, one note names both."""
    result = _read(_sns_alarm("no segments", tags))
    alert = result.alerts[0]
    assert alert.team == "a" or alert.runbook_url == "https://r.example/a"
    [note] = _tag_notes(result)
    assert first in note and second in note
    assert "a'" in note and "b'" in note


@pytest.mark.parametrize(
    ("description", "tags"),
    [
        ("TEAM=ops", {"Team": "OPS"}),
        ("no segments", {"Team": "ops", "team": "ops"}),
        ("no segments", {"Team": "ops", "Priority": "P1"}),
    ],
)
def test_the_same_value_is_no_conflict(description: str, tags: Any) -> None:
    """A tag that agrees (in any case) with the description or another tag adds no note."""
    result = _read(_sns_alarm(description, tags))
    assert result.alerts[0].team is not None
    assert _tag_notes(result) == []


def test_the_note_redacts_the_values() -> None:
    """A secret in a losing tag's value never reaches the note as it was sent."""
    secret = "ghp_" + "A1b2C3d4E5f6G7h8I9j0K1l2M3n4O5p6Q7r8"
    result = _read(_sns_alarm("RUNBOOK=https://r.example/a", {"runbook": secret}))
    [note] = _tag_notes(result)
    assert secret not in note and "ghp_A1b2" not in note
