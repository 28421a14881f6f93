"""Freshping's check states map to the lifecycle: a check that times out is down as surely as one
that answers with an error, and a paused check changes no ticket.

Freshping marks a check down when it answers 4xx/5xx ("Reporting Error") or does not answer
within its timeout ("Not Responding"), and a check is Active, Down or Paused
(support.freshping.io articles 50000002811 "How does Freshping's alerting work?" and
50000002726 on availability); its webhook's `webhook_type` PS sends paused and restarted
events, and "Not Responding" and "Available" are the states a Freshping-to-PagerDuty bridge
reads (Aldaviva/FreshPager, FreshPager/Data/FreshpingWebhookPayload.cs).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from triage.errors import InvalidAlertError
from triage.models import Status
from triage.normalize import normalize_payload

DOWN = Path(__file__).parent / "payloads" / "freshping" / "unreachable.json"


def with_state(state: Any) -> dict[str, Any]:
    body: dict[str, Any] = json.loads(DOWN.read_text(encoding="utf-8"))
    body["webhook_event_data"]["check_state_name"] = state
    return body


@pytest.mark.parametrize(
    ("state", "expected"),
    [
        ("Reporting Error", Status.FIRING),
        ("Not Responding", Status.FIRING),
        ("not responding", Status.FIRING),
        ("Available", Status.RESOLVED),
    ],
)
def test_down_states_fire_and_available_resolves(state: str, expected: Status) -> None:
    """A check that timed out fires like one that answered with an error (it was refused,
    so a timeout outage made no ticket); Available resolves."""
    [alert] = normalize_payload(with_state(state)).alerts
    assert alert.status is expected


def test_a_timeout_and_an_error_are_one_incident() -> None:
    """A check that answers with errors, then stops answering, is one incident."""
    [error] = normalize_payload(with_state("Reporting Error")).alerts
    [timeout] = normalize_payload(with_state("Not Responding")).alerts
    assert error.fingerprint == timeout.fingerprint


def test_a_paused_check_changes_no_ticket() -> None:
    """A pause (webhook type PS) is understood and Skipped, not dead-lettered; the detail
    names the check by its id only."""
    normalized = normalize_payload(with_state("Paused"))
    assert normalized.alerts == ()
    [skip] = normalized.skipped
    assert (skip.source, skip.reason) == ("freshping", "no_state_change")
    assert "585767" in skip.detail and "Test Check" not in skip.detail


def test_an_undocumented_state_is_still_refused() -> None:
    """A state Freshping is not known to send still reaches the DLQ, naming it."""
    with pytest.raises(InvalidAlertError, match="'Exploded' is not Reporting Error"):
        normalize_payload(with_state("Exploded"))
