"""A priority a source states that triage cannot read (`P9`, `Priority 1`, `S1`) is not
dropped without a trace: the alert states none, a note for the log names the value (redacted),
and the value stays visible as the alert's `priority` label."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from triage.models import Priority
from triage.normalize import Normalized, normalize_body

PAYLOADS = Path(__file__).parent / "payloads"
TOKEN = "ghp_" + "aB3" * 12

THRESHOLD = {
    "event_type": "threshold_alert", "state": "triggered", "rule_id": "r-1",
    "rule_name": "cpu high", "metric": "cpu", "current_value": 97, "threshold_value": 90,
    "operator": ">", "host": "web-1",
}  # fmt: skip


def _read(body: dict[str, Any] | list[Any]) -> Normalized:
    return normalize_body(json.dumps(body))


def _priority_notes(normalized: Normalized) -> list[str]:
    return [note for note in normalized.notes if "priority" in note]


def test_an_unread_generic_priority_is_noted_and_kept_as_a_label() -> None:
    """`"priority": "P9"`: no priority, the label `priority=P9`, one note quoting 'P9'."""
    normalized = _read({"title": "Disk full", "priority": "P9"})
    [alert] = normalized.alerts
    assert alert.priority is None
    assert alert.labels["priority"] == "P9"
    [note] = _priority_notes(normalized)
    assert "'P9'" in note


def test_an_unread_priority_from_the_generic_labels_is_noted_once_labelled() -> None:
    """A priority read from the script's `labels` stays its label as given, and is noted."""
    normalized = _read({"title": "Disk full", "labels": {"priority": "urgentish"}})
    [alert] = normalized.alerts
    assert (alert.priority, alert.labels["priority"]) == (None, "urgentish")
    assert len(_priority_notes(normalized)) == 1


def test_an_unread_threshold_priority_is_noted_and_kept_as_a_label() -> None:
    """A threshold event's `Priority 1` is named in a note and shown as a label."""
    normalized = _read(THRESHOLD | {"priority": "Priority 1"})
    [alert] = normalized.alerts
    assert (alert.priority, alert.labels["priority"]) == (None, "Priority 1")
    assert "'Priority 1'" in _priority_notes(normalized)[0]


@pytest.mark.parametrize("stated", [None, "", "   ", "\u200b"])
def test_no_stated_priority_makes_no_note(stated: Any) -> None:
    """Absent, blank or invisible is no stated priority: no note, no label."""
    normalized = _read({"title": "Disk full", "priority": stated})
    assert _priority_notes(normalized) == []
    assert "priority" not in normalized.alerts[0].labels


def test_a_readable_priority_makes_no_note_and_no_new_label() -> None:
    """A priority triage reads is the alert's, with no note and no label added."""
    normalized = _read(THRESHOLD | {"priority": "P1"})
    [alert] = normalized.alerts
    assert alert.priority is Priority.HIGH
    assert (_priority_notes(normalized), "priority" in alert.labels) == ([], False)


def test_a_group_of_unread_priorities_is_one_note() -> None:
    """A Prometheus batch of three alerts stating unread priorities is one note naming the
    distinct values and how many alerts, not a line per alert."""
    alerts = [
        {"labels": {"alertname": f"A{i}", "priority": value}} for i, value in enumerate(["P9", "P9", "S1"])
    ]  # fmt: skip
    normalized = _read(alerts)
    assert [a.priority for a in normalized.alerts] == [None, None, None]
    [note] = _priority_notes(normalized)
    assert "3 alerts" in note and "'P9'" in note and "'S1'" in note
    assert note.count("'P9'") == 1


def test_an_unread_legacy_grafana_priority_tag_is_noted() -> None:
    """A legacy Grafana alert's `priority` tag triage cannot read is named in a note."""
    payload = json.loads((PAYLOADS / "grafana" / "legacy-alerting.json").read_text())
    payload["tags"]["priority"] = "P9"
    normalized = _read(payload)
    assert normalized.alerts[0].priority is None
    assert "'P9'" in _priority_notes(normalized)[0]


def test_an_unread_priority_holding_a_credential_is_noted_redacted() -> None:
    """The note quotes the value redacted: a token a script put in its priority never
    reaches the log."""
    normalized = _read({"title": "Disk full", "priority": f"P9 {TOKEN}"})
    [note] = _priority_notes(normalized)
    assert TOKEN not in note and "REDACTED" in note
