"""Red team, round 7b: the non-AWS tools' documented payloads that triage read wrongly when this
was written: a Checkly check's failure ranked no higher than its being slow, a Grafana
OnCall alert group that forgets the severity the alert it forwards was labelled with, and two
Splunk owners' private searches of one name merged into one incident. Each bug
is a strict xfail that fails today for the reason it names and passes once the bug is fixed;
each plain test beside one holds the behaviour the fix must keep."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest

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


def _default(alert: Alert) -> Priority:
    """The ticket's priority: the one the tool stated, else the one its severity defaults to."""
    return alert.priority or default_priority(alert.severity)


# --- checkly: a failed check against a degraded (slow) one ------------------------------------


def _checkly(alert_type: str) -> Alert:
    """The sample failure of the check "Login flow", sent as `alert_type` ({{ALERT_TYPE}})."""
    body = _sample("checkly/failure.json") | {"alert_type": alert_type}
    return _one(body)


def test_a_checkly_failure_outranks_the_same_checks_degradation() -> None:
    """Checkly says a check is degraded when it passed but slower than its degraded threshold,
    and failed when it did not pass (or passed slower than its max response time): a login
    flow that fails is worse than one that is slow. Its ticket must default higher than the
    degraded one's; today both come out medium."""
    failed = _checkly("ALERT_FAILURE")
    degraded = _checkly("ALERT_DEGRADED")
    assert failed.status is degraded.status is Status.FIRING
    assert _default(failed).rank < _default(degraded).rank


# --- grafana oncall: the forwarded alert's severity -------------------------------------------

#: What an OnCall Alertmanager (or Grafana alerting) integration keeps as the group's
#: `alert_payload`: the Alertmanager webhook group it was sent, whose alerts and common labels
#: say how bad it is (`severity="critical"`).
_ALERTMANAGER_GROUP = {
    "receiver": "grafana-oncall",
    "status": "firing",
    "alerts": [
        {
            "status": "firing",
            "labels": {"alertname": "CheckoutDown", "severity": "critical", "job": "checkout"},
            "annotations": {"summary": "Checkout is down"},
            "startsAt": "2026-12-05T10:41:00Z",
            "endsAt": "0001-01-01T00:00:00Z",
            "generatorURL": "http://prometheus-0:9090/graph",
            "fingerprint": "c0ffee0123456789",
        }
    ],
    "groupLabels": {"alertname": "CheckoutDown"},
    "commonLabels": {"alertname": "CheckoutDown", "severity": "critical", "job": "checkout"},
    "commonAnnotations": {"summary": "Checkout is down"},
    "externalURL": "http://alertmanager-0:9093",
    "version": "4",
    "groupKey": '{}:{alertname="CheckoutDown"}',
    "truncatedAlerts": 0,
}


def _oncall_group(alert_payload: dict[str, Any], integration_type: str) -> dict[str, Any]:
    """The sample "alert group created" webhook, its group made from `alert_payload`."""
    body = copy.deepcopy(_sample("tools/grafana-oncall-created.json"))
    body["alert_payload"] = copy.deepcopy(alert_payload)
    body["integration"]["type"] = integration_type
    return body


def _single_alert() -> dict[str, Any]:
    """The sample's own alert payload (one alert, a webhook integration's), labelled
    `severity="critical"` as the rule that raised it labels it."""
    alert_payload = copy.deepcopy(_sample("tools/grafana-oncall-created.json")["alert_payload"])
    alert_payload["labels"]["severity"] = "critical"
    return alert_payload


ONCALL_CRITICAL = {
    "alertmanager group": (_ALERTMANAGER_GROUP, "alertmanager"),
    "single alert": (_single_alert(), "webhook"),
}


@pytest.mark.parametrize(
    ("alert_payload", "integration_type"), list(ONCALL_CRITICAL.values()), ids=list(ONCALL_CRITICAL)
)
def test_an_oncall_group_of_a_critical_alert_defaults_to_critical(
    alert_payload: dict[str, Any], integration_type: str
) -> None:
    """OnCall forwards the alert it grouped as `alert_payload`; an Alertmanager alert labelled
    severity=critical read straight from Alertmanager defaults its ticket to critical, and the
    same alert routed through OnCall must not come out medium."""
    alert = _one(_oncall_group(alert_payload, integration_type))
    assert alert.status is Status.FIRING
    assert _default(alert) is Priority.CRITICAL


def test_the_same_alert_straight_from_alertmanager_defaults_to_critical() -> None:
    """The behaviour the OnCall case is held against: Alertmanager's own webhook of the group
    above makes a critical ticket."""
    assert _default(_one(_ALERTMANAGER_GROUP)) is Priority.CRITICAL


# --- splunk: two owners' private searches of one name ---------------------------------------


def _splunk(owner: str, run: int) -> dict[str, Any]:
    """The sample alert ("Nginx 5xx burst" in app search) as `owner`'s own saved search sends
    it on its `run`-th scheduled run: Splunk names the owner in `owner` and in the run's sid."""
    body = copy.deepcopy(_sample("vendors/splunk-alert.json"))
    sid = f"scheduler__{owner}__search__RMD5e461b39d4ff19c24_at_17955109{run:02d}_132"
    body |= {"owner": owner, "sid": sid}
    body["results_link"] = f"https://splunk.example.com:8000/app/search/@go?sid={sid}"
    return body


def test_two_owners_private_splunk_searches_of_one_name_are_two_incidents() -> None:
    """A saved search is Splunk's by owner, app and name: alice and bob may each keep a
    private "Nginx 5xx burst" in the search app, about their own services. Their alerts are
    two incidents; keyed without the owner, bob's is counted on alice's ticket, and whoever
    closes hers closes his."""
    alice = _one(_splunk("alice", 1))
    bob = _one(_splunk("bob", 1))
    assert alice.identity != bob.identity


def test_one_splunk_searchs_runs_are_one_incident() -> None:
    """The behaviour the owner case is held against: every run of one owner's search (each
    with its own sid) is the same incident."""
    assert _one(_splunk("alice", 1)).identity == _one(_splunk("alice", 2)).identity
