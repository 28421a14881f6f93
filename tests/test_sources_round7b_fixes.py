"""Round 7b source fixes: a Checkly failure outranks a degradation, a Grafana OnCall group takes
the severity of the alert it forwards, and a Splunk search is keyed with its owner. The red
team's cases are in test_redteam_round7b_sources.py; these hold the edges of each fix."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest

from triage.errors import InvalidAlertError
from triage.models import Alert, Priority, Status
from triage.normalize import normalize_body
from triage.summarise.priority import default_priority

PAYLOADS = Path(__file__).parent / "payloads"


def _sample(name: str) -> dict[str, Any]:
    value: dict[str, Any] = json.loads((PAYLOADS / name).read_text(encoding="utf-8"))
    return value


def _one(body: dict[str, Any]) -> Alert:
    [alert] = normalize_body(json.dumps(body)).alerts
    return alert


# --- checkly ------------------------------------------------------------------------------------

#: Checkly's alert types by the state the check is in afterwards (its alert-states table):
#: failing after ALERT_FAILURE, _REMAIN and the escalation from degraded; degraded after
#: ALERT_DEGRADED, _REMAIN and the de-escalation from failing.
CHECKLY_SEVERITY = {
    "ALERT_FAILURE": "error",
    "ALERT_FAILURE_REMAIN": "error",
    "ALERT_DEGRADED_FAILURE": "error",
    "ALERT_DEGRADED": "warning",
    "ALERT_DEGRADED_REMAIN": "warning",
    "ALERT_FAILURE_DEGRADED": "warning",
}


@pytest.mark.parametrize(("alert_type", "severity"), list(CHECKLY_SEVERITY.items()))
def test_a_checkly_alert_is_as_severe_as_the_state_it_leaves_the_check_in(
    alert_type: str, severity: str
) -> None:
    """A check failing after the alert is an error (high), one degraded after it a warning
    (medium): an escalation to failure ranks as a failure, a de-escalation as a degradation."""
    alert = _one(_sample("checkly/failure.json") | {"alert_type": alert_type})
    assert alert.status is Status.FIRING
    assert alert.severity == severity


def test_a_checkly_failure_defaults_its_ticket_to_high() -> None:
    """The severity a failure carries maps to a high ticket, a degradation's to medium."""
    failed = _one(_sample("checkly/failure.json"))
    degraded = _one(_sample("checkly/failure.json") | {"alert_type": "alert_degraded"})
    assert default_priority(failed.severity) is Priority.HIGH
    assert default_priority(degraded.severity) is Priority.MEDIUM


@pytest.mark.parametrize("alert_type", ["ALERT_RECOVERY", "ALERT_DEGRADED_RECOVERY", "ALERT_SSL"])
def test_a_checkly_recovery_or_certificate_notice_states_no_severity(alert_type: str) -> None:
    """A recovery and a certificate expiry notice say nothing of how bad a failure is: no
    severity is made up for them."""
    alert = _one(_sample("checkly/failure.json") | {"alert_type": alert_type})
    assert alert.severity is None


# --- grafana oncall -----------------------------------------------------------------------------


def _oncall(alert_payload: dict[str, Any]) -> Alert:
    """The sample "alert group created" webhook forwarding `alert_payload`."""
    body = copy.deepcopy(_sample("tools/grafana-oncall-created.json"))
    body["alert_payload"] = alert_payload
    return _one(body)


def _firing(severity: str) -> dict[str, Any]:
    """One Alertmanager alert labelled `severity`."""
    return {"status": "firing", "labels": {"alertname": "CheckoutDown", "severity": severity}}


def test_an_oncall_group_takes_its_forwarded_groups_common_severity() -> None:
    """An Alertmanager group's common `severity` label is the group's severity, ahead of its
    first alert's."""
    group = {"alerts": [_firing("warning")], "commonLabels": {"severity": "critical"}}
    assert _oncall(group).severity == "critical"


def test_an_oncall_group_of_mixed_severities_takes_its_first_alerts() -> None:
    """Alerts of several severities share no common `severity`: the first alert's is read."""
    group = {
        "alerts": [_firing("critical"), _firing("warning")],
        "commonLabels": {"alertname": "CheckoutDown"},
    }
    assert _oncall(group).severity == "critical"


def test_an_oncall_single_alert_payload_takes_its_own_severity_label() -> None:
    """A webhook or Grafana alerting integration's single alert keeps its `labels.severity`,
    read ahead of any first alert it lists."""
    single = {"labels": {"severity": "warning"}, "alerts": [_firing("critical")]}
    assert _oncall(single).severity == "warning"


@pytest.mark.parametrize(
    "alert_payload",
    [
        {},
        {"labels": {"region": "eu-1"}},
        {"commonLabels": {"severity": {"level": "critical"}}, "labels": "severity=critical"},
        {"alerts": "not a list", "commonLabels": ["severity"]},
        {"alerts": [{"labels": {"severity": ["critical"]}}]},
        {"alerts": ["firing"]},
    ],
    ids=["empty", "unlabelled", "odd-labels", "odd-alerts", "odd-first-severity", "odd-first"],
)
def test_an_oncall_group_without_a_readable_severity_keeps_its_ticket(
    alert_payload: dict[str, Any],
) -> None:
    """A payload with no severity, or one in a shape no label has, costs the group its
    severity only: it still fires its ticket, at the default."""
    alert = _oncall(alert_payload)
    assert alert.status is Status.FIRING
    assert alert.severity is None


# --- splunk -------------------------------------------------------------------------------------


def test_a_splunk_search_is_keyed_by_app_owner_and_name() -> None:
    """An owner's saved search is keyed by its app, its owner and its name."""
    alert = _one(_sample("vendors/splunk-alert.json"))
    assert alert.identity == {"app": "search", "owner": "admin", "search": "Nginx 5xx burst"}


@pytest.mark.parametrize("owner", [None, "", "   "], ids=["null", "empty", "blank"])
def test_a_splunk_search_sent_without_an_owner_keeps_its_old_identity(owner: str | None) -> None:
    """A body with no owner (an alert action template that leaves it out, or sends it empty)
    is keyed as before the owner was read, so its open incident is still found."""
    body = _sample("vendors/splunk-alert.json")
    del body["owner"]
    before = _one(body).identity
    assert before == {"app": "search", "search": "Nginx 5xx burst"}
    assert _one(body | {"owner": owner}).identity == before


def test_a_splunk_search_sent_without_an_owner_keeps_its_pinned_fingerprint() -> None:
    """The sample without its owner hashes to the fingerprint the sample was pinned to before
    owners were read (tests/test_fingerprint_golden.py until 2026-12-06): its incidents, and
    the marker in their tickets, are still found after the upgrade."""
    body = _sample("vendors/splunk-alert.json")
    del body["owner"]
    assert _one(body).fingerprint == "ff4201c5e73c3b0c1f3cd6a70f95e388"


def test_an_unnamed_splunk_search_is_keyed_with_its_owner_too() -> None:
    """A search without a name is keyed by its sid's stem and, as a named one, its owner."""
    alert = _one(_sample("vendors/splunk-alert-unnamed.json"))
    assert alert.identity == {
        "app": "search",
        "owner": "admin",
        "search": "scheduler_admin_search_W2",
    }


def test_a_splunk_owner_that_is_an_object_is_refused_by_name() -> None:
    """An owner that is not text cannot key the search: the alert is refused naming `owner`,
    not keyed as if no owner had been sent (which would merge it with another owner's)."""
    body = _sample("vendors/splunk-alert.json") | {"owner": {"name": "alice"}}
    with pytest.raises(InvalidAlertError, match="owner"):
        normalize_body(json.dumps(body))
