"""A script's generic alert read under its keys in any case (PowerShell's `Status`, a shell
script's `STATUS`), and PagerDuty's state keys (`event_type` v1, `event_action` v2): the
exact lower-case key wins when both are sent, and the spelling passed over is noted. The
identity's keys (`title`, `source`, the dedup keys) stay exact, so no fingerprint moves."""

from __future__ import annotations

import json
from typing import Any

import pytest

from triage.models import Priority, Status
from triage.normalize import normalize_body
from triage.normalize.common import Normalized


def _script(**fields: Any) -> Normalized:
    body = {"title": "Nightly backup failed", "dedup_key": "backup-orders"} | fields
    return normalize_body(json.dumps(body))


@pytest.mark.parametrize(
    "fields",
    [
        {"Status": "resolved"},
        {"STATUS": "Resolved"},
        {"State": "ok"},
        {"event_type": "resolve", "incident_key": "backup-orders"},
        {"event_action": "resolve"},
        {"Event_Action": "RESOLVE"},
    ],
    ids=["Status", "STATUS", "State", "event_type", "event_action", "Event_Action"],
)
def test_a_resolve_under_another_spelling_or_pagerdutys_key_resolves(
    fields: dict[str, str],
) -> None:
    """A resolve written under a capitalised key or PagerDuty's state key reads as resolved,
    not as the default firing."""
    [alert] = _script(**fields).alerts
    assert alert.status is Status.RESOLVED


@pytest.mark.parametrize("key", ["event_type", "event_action"])
def test_pagerdutys_acknowledge_changes_no_ticket(key: str) -> None:
    """PagerDuty's `acknowledge` under its state key is skipped as an acknowledged `status` is."""
    normalized = _script(**{key: "acknowledge"})
    assert normalized.alerts == ()
    assert [s.reason for s in normalized.skipped] == ["no_state_change"]


def test_an_event_type_that_names_no_state_is_not_read_as_one() -> None:
    """A script's own `event_type` ("backup") says nothing about state: the alert fires as
    one without a status does, and is not refused."""
    [alert] = _script(event_type="backup").alerts
    assert alert.status is Status.FIRING


def test_the_exact_lower_case_key_wins_and_the_other_spelling_is_noted() -> None:
    """`status` and `Status` both sent: `status` is read, and a note names `Status` as
    ignored, so the operator learns why its value had no effect."""
    normalized = _script(status="firing", Status="resolved")
    [alert] = normalized.alerts
    assert alert.status is Status.FIRING
    assert any("'Status'" in note and "ignored" in note for note in normalized.notes)


def test_a_stated_status_wins_over_pagerdutys_key() -> None:
    """`status` is the documented key: an `event_action` beside it does not override it."""
    [alert] = _script(status="firing", event_action="resolve").alerts
    assert alert.status is Status.FIRING


def test_capitalised_priority_team_severity_and_description_are_read() -> None:
    """`Priority`, `Team`, `Severity` and `Description` read as their lower-case keys do."""
    [alert] = _script(
        Priority="P1", Team="data", Severity="critical", Description="disk full"
    ).alerts
    assert (alert.priority, alert.team, alert.severity) == (Priority.HIGH, "data", "critical")
    assert alert.description.startswith("disk full")


def test_the_identitys_keys_stay_exact() -> None:
    """A `Dedup_Key` is not the `dedup_key`: the identity reads its keys exactly, so an
    incident keyed by source + title keeps its fingerprint."""
    plain = normalize_body(json.dumps({"title": "Disk full", "source": "cron"})).alerts[0]
    other = normalize_body(
        json.dumps({"title": "Disk full", "source": "cron", "Dedup_Key": "x"})
    ).alerts[0]
    assert other.identity == plain.identity == {"source": "cron", "title": "Disk full"}


def test_a_raw_alert_keeps_the_keys_as_sent() -> None:
    """The alert's `raw` is the script's object as sent, its spellings included."""
    [alert] = _script(Status="resolved", Team="data").alerts
    assert alert.raw["Status"] == "resolved" and "status" not in alert.raw
