"""A CloudWatch description that names one segment twice (`TEAM=a | TEAM=b`): the first is
used, the second stays visible in the description with a word on the conflict, and a note
says so; a repeat of the same value is no conflict."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from triage.normalize import normalize_body
from triage.normalize.cloudwatch_segments import parse_description, read_description

PAYLOADS = Path(__file__).parent / "payloads"


def _alarm(description: str) -> dict[str, Any]:
    raw: dict[str, Any] = json.loads((PAYLOADS / "cloudwatch/raw-alarm.json").read_text())
    return raw | {"AlarmDescription": description}


@pytest.mark.parametrize(
    ("description", "kept"),
    [
        ("disk full | TEAM=a | TEAM=b", "TEAM=b"),
        ("disk full\nTEAM=a\nteam: b", "team: b"),
        ("TEAM=a PRIORITY=P1 TEAM=b", "TEAM=b"),
        ("RUNBOOK=https://r.example/a | RUNBOOK_URL=https://r.example/b", "https://r.example/b"),
    ],
)
def test_a_second_value_stays_in_the_description(description: str, kept: str) -> None:
    """The first value is the fact; the second is kept in the free text, marked as not used."""
    facts, free = parse_description(description)
    assert "b" not in {facts.get("team"), facts.get("runbook")}
    assert kept in free
    assert "not used" in free


def test_the_conflict_is_noted() -> None:
    """`read_description` returns a note naming the key and both values, for the log."""
    read = read_description("disk full | TEAM=a | TEAM=b")
    assert read.facts == {"team": "a"}
    [note] = read.notes
    assert "TEAM" in note and "'a'" in note and "'b'" in note


@pytest.mark.parametrize("description", ["TEAM=a | TEAM=a", "TEAM=ops | team = OPS"])
def test_a_repeat_of_the_same_value_is_no_conflict(description: str) -> None:
    """The same value given twice (any case) is one fact, and nothing is added to the text."""
    read = read_description(description)
    assert read.facts["team"].casefold() == "ops" or read.facts["team"] == "a"
    assert read.free_text == ""
    assert read.notes == ()


def test_the_alarms_ticket_shows_the_second_team() -> None:
    """Through the CloudWatch reader: routed to the first team, the second one shown in the
    description rather than silently dropped."""
    [alert] = normalize_body(json.dumps(_alarm("disk full | TEAM=a | TEAM=b"))).alerts
    assert alert.team == "a"
    assert "TEAM=b" in alert.description


def test_a_description_without_repeats_reads_as_before() -> None:
    """No repeated key: facts and free text as they always were, and no note."""
    read = read_description("p99 high | TEAM=orders | PRIORITY=P1")
    assert (read.facts, read.free_text, read.notes) == (
        {"team": "orders", "priority": "P1"},
        "p99 high",
        (),
    )


def test_the_alarms_conflict_is_logged() -> None:
    """Through the CloudWatch reader, the conflict is a note for the log (`alert.note`)."""
    normalized = normalize_body(json.dumps(_alarm("disk full | TEAM=a | TEAM=b")))
    assert any("TEAM" in note for note in normalized.notes)
