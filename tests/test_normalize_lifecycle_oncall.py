"""Grafana OnCall's outgoing webhook: every event type OnCall sends maps to the lifecycle.

OnCall names its event types in `event.type` ("alert group created", "acknowledge", "resolve",
"silence", "unsilence", "unresolve", "escalation" for a manual or escalation-step trigger,
"unacknowledge", "status change", "personal notification": PUBLIC_TRIGGER_TYPES_MAP in
grafana/oncall engine/apps/webhooks/models/webhook.py; the trigger types are listed at
https://grafana.com/docs/oncall/latest/configure/integrations/outgoing-webhooks/). It builds
the payload when it sends it, with the alert group's state at that moment in
`alert_group.state` (firing, acknowledged, silenced or resolved): a webhook triggered by hand,
or sent after the group moved on, names an event the group is no longer in.
"""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest

from triage.models import Status
from triage.normalize import normalize_payload

SAMPLE = Path(__file__).parent / "payloads" / "tools" / "grafana-oncall-created.json"
BASE: dict[str, Any] = json.loads(SAMPLE.read_text(encoding="utf-8"))

SKIPPED = "skipped"

#: (event.type, alert_group.state) → the alert's status, or SKIPPED (no ticket change).
CASES = [
    # Opening events: the group is open, whatever its state short of resolved.
    ("alert group created", "firing", Status.FIRING),
    ("alert group created", "acknowledged", Status.FIRING),  # acknowledged at once
    ("escalation", "firing", Status.FIRING),
    ("escalation", "silenced", Status.FIRING),
    ("unresolve", "firing", Status.FIRING),
    ("unacknowledge", "firing", Status.FIRING),  # escalation starts again
    ("unsilence", "firing", Status.FIRING),  # escalation starts again
    ("personal notification", "firing", Status.FIRING),  # a user paged while it escalates
    ("status change", "firing", Status.FIRING),  # a status-change webhook as escalation step
    # Someone is on it, or it was quieted: the ticket stays as it is.
    ("acknowledge", "acknowledged", SKIPPED),
    ("silence", "silenced", SKIPPED),
    ("status change", "acknowledged", SKIPPED),
    # Resolved.
    ("resolve", "resolved", Status.RESOLVED),
    ("status change", "resolved", Status.RESOLVED),
    # The group was resolved by the time OnCall sent it (a webhook triggered by hand on an
    # old group, or a late one): never reopens its ticket.
    ("escalation", "resolved", Status.RESOLVED),
    ("personal notification", "resolved", Status.RESOLVED),
    ("alert group created", "resolved", Status.RESOLVED),
    ("unsilence", "resolved", Status.RESOLVED),
    ("unresolve", "resolved", Status.RESOLVED),
    # A resolve webhook triggered by hand on a group that is firing does not close it.
    ("resolve", "firing", Status.FIRING),
]

#: A payload whose template left the group's state out: the event type alone decides.
STATELESS = [
    ("alert group created", Status.FIRING),
    ("escalation", Status.FIRING),
    ("unresolve", Status.FIRING),
    ("unacknowledge", Status.FIRING),
    ("unsilence", Status.FIRING),
    ("personal notification", Status.FIRING),
    ("resolve", Status.RESOLVED),
    ("acknowledge", SKIPPED),
    ("silence", SKIPPED),
    ("status change", SKIPPED),
]


def event(kind: str, state: str | None) -> dict[str, Any]:
    body = copy.deepcopy(BASE)
    body["event"]["type"] = kind
    if state is None:
        del body["alert_group"]["state"]
    else:
        body["alert_group"]["state"] = state
    return body


def outcome(body: dict[str, Any]) -> Status | str:
    normalized = normalize_payload(body)
    if normalized.skipped:
        assert not normalized.alerts
        return SKIPPED
    [alert] = normalized.alerts
    return alert.status


def test_every_event_type_and_group_state_maps_to_its_lifecycle() -> None:
    """Each OnCall event type, with the group's state when sent, fires, resolves or changes no
    ticket as the group's state says; every failing pair is named."""
    failed = [
        (kind, state, got, expected)
        for kind, state, expected in CASES
        if (got := outcome(event(kind, state))) != expected
    ]
    assert not failed, failed


@pytest.mark.parametrize(("kind", "expected"), STATELESS)
def test_without_the_group_state_the_event_type_decides(kind: str, expected: Status | str) -> None:
    """With no `alert_group.state`, an event that puts the group back to firing (unacknowledge,
    unsilence, personal notification) fires it, and acknowledge, silence and a bare status
    change change no ticket."""
    assert outcome(event(kind, None)) == expected


@pytest.mark.parametrize("kind", ["Unacknowledge", " personal notification ", "ESCALATION"])
def test_event_types_are_read_in_any_case(kind: str) -> None:
    """An event type is matched in any case and without surrounding blanks."""
    assert outcome(event(kind, "firing")) == Status.FIRING


def test_an_unknown_event_type_changes_no_ticket() -> None:
    """An event type OnCall may add later is understood as no ticket change, even on a firing
    group, rather than guessed."""
    assert outcome(event("escalation chain finished", "firing")) == SKIPPED


def test_an_unknown_group_state_falls_back_to_the_event_type() -> None:
    """A state word OnCall does not document is not trusted: the event type decides."""
    assert outcome(event("resolve", "snoozed")) == Status.RESOLVED
    assert outcome(event("escalation", "snoozed")) == Status.FIRING


def test_every_event_of_one_group_shares_its_fingerprint() -> None:
    """Firing and resolve of one alert group are one incident."""
    fired = normalize_payload(event("unacknowledge", "firing")).alerts[0]
    resolved = normalize_payload(event("resolve", "resolved")).alerts[0]
    assert fired.fingerprint == resolved.fingerprint
