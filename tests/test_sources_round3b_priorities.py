"""Every source that reads a stated priority treats one it cannot read alike: the alert states
none, one note for the log names the field and the value (redacted), and the value stays
visible as one label: `priority`, or a Sentry tag's own `tag.priority`. CloudWatch, New Relic,
Pingdom, Datadog, Opsgenie, PagerDuty and Sentry's four webhook shapes, table-driven; a
readable one makes no note, unless an unread one was passed over for it."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from triage.models import Priority
from triage.normalize import Normalized, normalize_body

PAYLOADS = Path(__file__).parent / "payloads"
#: A priority no reader takes: neither P0..P3 nor these tools' P1..P5, nor a word.
UNREAD = "P9"
TOKEN = "ghp_" + "aB3" * 12

Edit = Callable[[dict[str, Any], Any], None]


def _load(name: str) -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads((PAYLOADS / name).read_text())
    return loaded


def _cloudwatch_description(payload: dict[str, Any], stated: Any) -> None:
    payload["AlarmDescription"] = f"Disk full | TEAM=orders | PRIORITY={stated}"


def _cloudwatch_event(payload: dict[str, Any], stated: Any) -> None:
    payload["detail"]["configuration"]["description"] = f"Disk full\nPRIORITY={stated}"


def _cloudwatch_tag(payload: dict[str, Any], stated: Any) -> None:
    payload["AlarmDescription"] = "Disk full"
    payload["AlarmTags"] = [{"Key": "Priority", "Value": stated}]


def _cloudwatch_in_sns(payload: dict[str, Any], stated: Any) -> None:
    message = json.loads(payload["Message"])
    _cloudwatch_description(message, stated)
    payload["Message"] = json.dumps(message)


def _set(*path: str) -> Edit:
    """An edit that sets the value at `path` (objects only) to the stated priority."""

    def edit(payload: dict[str, Any], stated: Any) -> None:
        target = payload
        for key in path[:-1]:
            target = target[key]
        target[path[-1]] = stated

    return edit


def _tag(*path: str) -> Edit:
    """An edit that adds a `priority` tag to the tag list at `path`, in the list's own shape."""

    def edit(payload: dict[str, Any], stated: Any) -> None:
        target: Any = payload
        for key in path:
            target = target[key]
        tags: list[Any] = target
        pair_shaped = isinstance(tags[0], list)
        tags.append(["priority", stated] if pair_shaped else {"key": "priority", "value": stated})

    return edit


@dataclass(frozen=True)
class Case:
    payload: str
    edit: Edit
    #: What the note names as the field the value came from.
    field: str
    #: The one label that shows the unread value (a Sentry tag's is its own `tag.priority`).
    label: str = "priority"


CASES = {
    "cloudwatch-raw": Case("cloudwatch/raw-alarm.json", _cloudwatch_description, "PRIORITY"),
    "cloudwatch-sns": Case("cloudwatch/sns-alarm.json", _cloudwatch_in_sns, "PRIORITY"),
    "cloudwatch-event": Case("cloudwatch/eventbridge-alarm.json", _cloudwatch_event, "PRIORITY"),
    "cloudwatch-tag": Case("cloudwatch/raw-alarm.json", _cloudwatch_tag, "PRIORITY"),
    "newrelic": Case("vendors/newrelic-activated.json", _set("priority"), "newrelic priority"),
    "pingdom": Case(
        "tools/pingdom-http-down.json", _set("importance_level"), "pingdom importance_level"
    ),
    "datadog": Case(
        "vendors/datadog-custom-triggered.json", _set("alert_priority"), "alert_priority"
    ),
    "opsgenie": Case(
        "vendors/opsgenie-create.json", _set("alert", "priority"), "opsgenie alert.priority"
    ),
    "pagerduty": Case(
        "vendors/pagerduty-triggered.json",
        _set("event", "data", "priority", "summary"),
        "pagerduty event.data.priority.summary",
    ),
    "sentry-issue": Case(
        "sentry/issue-created.json", _set("data", "issue", "priority"), "data.issue.priority"
    ),
    "sentry-event-alert": Case(
        "sentry/event-alert.json",
        _tag("data", "event", "tags"),
        "sentry tag priority",
        "tag.priority",
    ),
    "sentry-legacy": Case(
        "sentry/legacy-plugin.json", _tag("event", "tags"), "sentry tag priority", "tag.priority"
    ),
    "sentry-service-hook": Case(
        "sentry/service-hook-event-alert.json", _set("group", "priority"), "group.priority"
    ),
    "sentry-service-hook-tag": Case(
        "sentry/service-hook-event-alert.json",
        _tag("event", "tags"),
        "sentry tag priority",
        "tag.priority",
    ),
}


def _read(case: Case, stated: Any) -> Normalized:
    payload = _load(case.payload)
    case.edit(payload, stated)
    if case.payload.startswith("sentry/service-hook") and case.field.endswith("tag priority"):
        payload["group"].pop("priority")  # the group's own priority is read first
    return normalize_body(json.dumps(payload))


def _priority_notes(normalized: Normalized) -> list[str]:
    return [note for note in normalized.notes if "priority" in note.lower()]


@pytest.mark.parametrize("case", CASES.values(), ids=CASES.keys())
def test_an_unread_priority_is_noted_and_kept_as_a_label(case: Case) -> None:
    """`P9` is no priority triage reads: the alert states none, one note names the field and
    quotes the value, and one label shows it (`priority`, or a Sentry tag's own), as the note
    says."""
    normalized = _read(case, UNREAD)
    [alert] = normalized.alerts
    assert alert.priority is None
    assert [key for key, value in alert.labels.items() if value == UNREAD] == [case.label]
    [note] = _priority_notes(normalized)
    assert case.field in note and f"'{UNREAD}'" in note
    assert note.endswith(f"kept as the label {case.label}")


@pytest.mark.parametrize("case", CASES.values(), ids=CASES.keys())
def test_a_readable_priority_makes_no_note(case: Case) -> None:
    """`P1` is read (critical on these tools' five steps, high on the generic scale), with no
    note and no `priority` label."""
    normalized = _read(case, "P1")
    [alert] = normalized.alerts
    assert alert.priority in (Priority.CRITICAL, Priority.HIGH)
    assert _priority_notes(normalized) == []
    assert "priority" not in alert.labels


@pytest.mark.parametrize("case", CASES.values(), ids=CASES.keys())
def test_an_unread_priority_holding_a_credential_is_noted_redacted(case: Case) -> None:
    """The note quotes the value redacted: a token put in a priority never reaches the log."""
    normalized = _read(case, f"P9 {TOKEN}")
    [note] = _priority_notes(normalized)
    assert TOKEN not in note and "REDACTED" in note


def test_a_later_readable_priority_wins_over_an_earlier_unread_one_noted_as_passed_over() -> None:
    """A Sentry service hook whose issue states `P9` but whose `priority` tag says `high` is
    high, with no label for the P9 and one note saying it was passed over."""
    payload = _load("sentry/service-hook-event-alert.json")
    payload["group"]["priority"] = UNREAD
    payload["event"]["tags"].append({"key": "priority", "value": "high"})
    normalized = normalize_body(json.dumps(payload))
    [alert] = normalized.alerts
    assert alert.priority is Priority.HIGH and "priority" not in alert.labels
    [note] = _priority_notes(normalized)
    assert "sentry group.priority" in note and "passed over" in note


def test_datadog_reads_the_titles_priority_and_notes_the_unread_alert_priority() -> None:
    """A Datadog title's `[P2]` is read when `alert_priority` is not: high, and one note says
    the unread alert_priority was passed over for the title's."""
    payload = _load("vendors/datadog-custom-triggered.json")
    payload |= {"alert_priority": UNREAD, "title": "[P2] [Triggered] Checkout p99 above 2s"}
    normalized = normalize_body(json.dumps(payload))
    assert normalized.alerts[0].priority is Priority.HIGH
    [note] = _priority_notes(normalized)
    assert "datadog alert_priority" in note and "passed over" in note and "datadog title" in note


def test_every_unread_priority_stated_is_noted_and_the_first_is_the_label() -> None:
    """A service hook stating `P9` for the issue and `S1` as a tag: a note for each, and the
    label `priority` is the one read first (the issue's)."""
    payload = _load("sentry/service-hook-event-alert.json")
    payload["group"]["priority"] = UNREAD
    payload["event"]["tags"].append({"key": "priority", "value": "S1"})
    normalized = normalize_body(json.dumps(payload))
    assert normalized.alerts[0].labels["priority"] == UNREAD
    notes = _priority_notes(normalized)
    assert len(notes) == 2 and "'P9'" in notes[0] and "'S1'" in notes[1]
