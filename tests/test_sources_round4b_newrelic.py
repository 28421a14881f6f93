"""New Relic's legacy webhook channel (an alert policy's channel, before workflows): its
incident opens one ticket, an acknowledgement changes none, its close resolves it, the
channel's test is skipped, and a workflow's payload is not taken for one.

The reader is `monitors.matches_newrelic_legacy` / `normalize_newrelic_legacy`, read here
directly: `triage.normalize.FORMATS` offers it as format `newrelic-legacy` once registered
there (keys `incident_id`, `current_state`)."""

from __future__ import annotations

from typing import Any

import pytest

from source_samples import Samples
from triage.errors import InvalidAlertError
from triage.models import Alert, Priority, Status
from triage.normalize import monitors

NEWRELIC = Samples("newrelic")


def _legacy(state: str, at: int = 1795424400000, **more: Any) -> dict[str, Any]:
    """The channel's documented default payload of incident 5678."""
    return {
        "account_id": 1234567, "account_name": "Acme", "condition_id": 987654,
        "condition_name": "Apdex below 0.8", "current_state": state,
        "details": "Apdex < 0.80 for at least 10 minutes on 'Checkout'", "event_type": "INCIDENT",
        "incident_id": 5678,
        "incident_url": "https://alerts.newrelic.com/accounts/1234567/incidents/5678",
        "policy_name": "Checkout APM", "runbook_url": "https://runbooks.example.com/apdex",
        "severity": "CRITICAL", "timestamp": at,
        "targets": [{"id": "23456", "name": "Checkout", "type": "Application"}],
    } | more  # fmt: skip


def _one(payload: dict[str, Any]) -> Alert:
    assert monitors.matches_newrelic_legacy(payload)
    [alert] = monitors.normalize_newrelic_legacy(payload).alerts
    return alert


def test_a_legacy_incidents_open_and_close_are_one_incident() -> None:
    """open fires and closed resolves with one fingerprint, titled by its details, with the
    severity's priority, its runbook and its incident's link."""
    opened, closed = _one(_legacy("open")), _one(_legacy("closed", 1795425000000))
    assert (opened.status, closed.status) == (Status.FIRING, Status.RESOLVED)
    assert opened.fingerprint == closed.fingerprint
    assert opened.title == "Apdex < 0.80 for at least 10 minutes on 'Checkout'"
    assert (opened.priority, opened.runbook_url) == (
        Priority.CRITICAL,
        "https://runbooks.example.com/apdex",
    )
    assert opened.labels["incident_id"] == "5678" and opened.labels["targets"] == "Checkout"
    # The next violation of the same condition and target is a new incident_id: one incident.
    assert _one(_legacy("open", incident_id=5679)).fingerprint == opened.fingerprint


@pytest.mark.parametrize(("state", "reason"), [("acknowledged", "no_state_change"),
                                               ("test", "test_notification")])  # fmt: skip
def test_an_acknowledgement_and_the_channels_test_change_no_ticket(state: str, reason: str) -> None:
    """An acknowledged incident and the channel's test notification are skipped, saying why."""
    result = monitors.normalize_newrelic_legacy(_legacy(state))
    assert (result.alerts, [s.reason for s in result.skipped]) == ((), [reason])


def test_a_state_the_channel_never_sends_is_refused_naming_it() -> None:
    """A current_state other than open, acknowledged, closed or test is refused, naming it."""
    with pytest.raises(InvalidAlertError, match="current_state 'reopened'"):
        monitors.normalize_newrelic_legacy(_legacy("reopened"))


def test_the_legacy_reader_and_the_workflow_reader_take_only_their_own_payloads() -> None:
    """A workflow's payload is not a legacy one, a legacy one is not a workflow's, and a
    script's titled alert with these keys stays a generic alert."""
    workflow = NEWRELIC.body("created.json")
    assert not monitors.matches_newrelic_legacy(workflow)
    assert not monitors.matches_newrelic(_legacy("open"))
    assert not monitors.matches_newrelic_legacy(_legacy("open", title="Apdex low"))
