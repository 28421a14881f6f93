"""PagerDuty's and Opsgenie's webhook events map to the lifecycle, each documented event type.

PagerDuty v3 event types (developer.pagerduty.com/docs/webhooks-overview, "Event Types"): an
incident unacknowledged (its acknowledgement timed out) is triggered again and escalates anew,
as a reopened one does. Opsgenie's webhook actions (docs.opsgenie.com/docs/webhook-integration,
"Action Mapping"): UnAcknowledge puts the alert back to notifying. Both fire, as OnCall's
unacknowledge does; acknowledgements, notes, reassignments and the like change no ticket.
"""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

from case_chunks import assert_each
from triage.models import Status
from triage.normalize import normalize_payload

VENDORS = Path(__file__).parent / "payloads" / "vendors"
SKIPPED = "skipped"

PAGERDUTY = [
    ("incident.triggered", Status.FIRING),
    ("incident.reopened", Status.FIRING),
    ("incident.unacknowledged", Status.FIRING),
    ("incident.resolved", Status.RESOLVED),
    ("incident.acknowledged", SKIPPED),
    ("incident.annotated", SKIPPED),
    ("incident.delegated", SKIPPED),
    ("incident.escalated", SKIPPED),
    ("incident.priority_updated", Status.FIRING),  # marked priority_changed
    ("incident.reassigned", SKIPPED),
    ("incident.responder.added", SKIPPED),
    ("incident.responder.replied", SKIPPED),
    ("incident.status_update_published", SKIPPED),
    ("incident.workflow.started", SKIPPED),
    ("service.updated", SKIPPED),
    ("pagey.ping", SKIPPED),
]

OPSGENIE = [
    ("Create", Status.FIRING),
    ("UnAcknowledge", Status.FIRING),
    ("Close", Status.RESOLVED),
    ("Delete", Status.RESOLVED),
    ("Acknowledge", SKIPPED),
    ("AddNote", SKIPPED),
    ("AssignOwnership", SKIPPED),
    ("Escalate", SKIPPED),
    ("Snooze", SKIPPED),
    ("UpdatePriority", Status.FIRING),  # marked priority_changed
]


def sample(name: str) -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads((VENDORS / name).read_text(encoding="utf-8"))
    return loaded


def outcome(body: dict[str, Any]) -> Status | str:
    normalized = normalize_payload(body)
    if normalized.skipped:
        return SKIPPED
    [alert] = normalized.alerts
    return alert.status


def pagerduty(kind: str) -> dict[str, Any]:
    body = copy.deepcopy(sample("pagerduty-triggered.json"))
    body["event"]["event_type"] = kind
    return body


def opsgenie(action: str) -> dict[str, Any]:
    body = copy.deepcopy(sample("opsgenie-create.json"))
    body["action"] = action
    return body


def test_every_pagerduty_event_type_maps_to_its_lifecycle() -> None:
    """Each PagerDuty v3 event type fires, resolves or changes no ticket; an unacknowledged
    incident fires again (it was skipped, so an incident closed here stayed closed while
    PagerDuty paged for it anew)."""
    assert_each(PAGERDUTY, lambda case: (outcome(pagerduty(case[0])), case[1]), "pagerduty")


def test_every_opsgenie_action_maps_to_its_lifecycle() -> None:
    """Each Opsgenie webhook action fires, resolves or changes no ticket; UnAcknowledge fires
    again."""
    assert_each(OPSGENIE, lambda case: (outcome(opsgenie(case[0])), case[1]), "opsgenie")


def test_an_unacknowledgement_is_the_same_incident() -> None:
    """The unacknowledged incident is the one its trigger opened (same fingerprint)."""
    [fired] = normalize_payload(pagerduty("incident.triggered")).alerts
    [again] = normalize_payload(pagerduty("incident.unacknowledged")).alerts
    assert fired.fingerprint == again.fingerprint
    [created] = normalize_payload(opsgenie("Create")).alerts
    [unacked] = normalize_payload(opsgenie("UnAcknowledge")).alerts
    assert created.fingerprint == unacked.fingerprint
