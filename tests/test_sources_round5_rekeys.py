"""Sources whose vendor makes a new id for every outage (New Relic's issue and legacy incident
ids, Grafana OnCall's alert group id, Opsgenie's alertId, PagerDuty's incident id) are keyed by
what stays the same across outages: a check that flaps reopens one ticket rather than opening
one per outage, the resolve of an outage still closes it, and the per-outage id is still shown
as a label. Only a payload with nothing stable is keyed by its per-outage id; for Opsgenie,
PagerDuty and OnCall only the sender's alias, `incident_key` or `groupKey` is stable, and
Dynatrace's problems are always keyed by their PID (a message or title may be shared by two open
alerts: tests/test_pagerduty_identity.py, tests/test_title_identity_round7.py)."""

from __future__ import annotations

import copy
import dataclasses
import json
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from triage.incidents.lifecycle import Action, Incident, Policy, decide
from triage.models import Alert, Status
from triage.normalize import normalize_payload

PAYLOADS = Path(__file__).parent / "payloads"
T0 = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)
POLICY = Policy(
    update_interval=timedelta(minutes=15), reopen_window=timedelta(hours=1), flap_threshold=3
)


def _sample(name: str) -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads((PAYLOADS / name).read_text(encoding="utf-8"))
    return loaded


def _one(payload: dict[str, Any]) -> Alert:
    [alert] = normalize_payload(payload).alerts
    return alert


# --- each source's outages: (firing, resolved) payloads of outage n ---------------------------


def _dynatrace(n: int, state: str) -> dict[str, Any]:
    body = _sample("tools/dynatrace-open.json")
    pid = f"-46382553647857430{n}_17649216000{n:02d}V2"
    body |= {"PID": pid, "ProblemID": f"P-25121{n:02d}", "State": state}
    body["Problem URL"] = f"https://abc12345.live.dynatrace.com/#problems/problemdetails;pid={pid}"
    return body


def _oncall(n: int, state: str, group_key: str | None = None) -> dict[str, Any]:
    body = _sample("tools/grafana-oncall-created.json")
    group_id = f"I6HNZGUFG4K{n:02d}"
    body["alert_group"] |= {"id": group_id, "state": state}
    body["alert_group_id"] = group_id
    body["event"]["type"] = "resolve" if state == "resolved" else "alert group created"
    if group_key is not None:
        body["alert_payload"]["groupKey"] = group_key
    return body


#: What an Alertmanager integration's alert payload groups by, the same in each outage.
GROUP_KEY = '{}:{alertname="DiskFull"}'


def _newrelic(n: int, state: str) -> dict[str, Any]:
    body = _sample("newrelic/created.json")
    issue = f"0ea2df1c-adab-45d2-aae0-042b609d23{n:02d}"
    url = f"https://radar-api.service.newrelic.com/accounts/1/issues/{issue}?notifier=WEBHOOK"
    return body | {"id": issue, "issueUrl": url, "state": state}


def _newrelic_legacy(n: int, state: str) -> dict[str, Any]:
    body = _sample("newrelic/legacy-open.json")
    url = f"https://alerts.newrelic.com/accounts/1234567/incidents/56{n:02d}"
    return body | {"incident_id": 5600 + n, "incident_url": url, "current_state": state}


def _opsgenie(n: int, action: str, alias: str | None = "disk-db-7-/var") -> dict[str, Any]:
    body = _sample("vendors/opsgenie-create.json")
    alert_id = f"ec03dad6-62c8-4c94-b38b-d88f398e90{n:02d}"
    body["alert"] |= {"alertId": alert_id, "tinyId": str(200 + n), "alias": alias or alert_id}
    body["action"] = action
    return body


def _pagerduty(n: int, kind: str) -> dict[str, Any]:
    body = _sample("pagerduty/triggered.json")
    incident = f"PFQZP{n:02d}"
    body["event"]["event_type"] = kind
    body["event"]["data"] |= {
        "id": incident,
        "number": 9 + n,
        "html_url": f"https://pig208.pagerduty.com/incidents/{incident}",
        "incident_key": "disk-db-7",
    }
    return body


Outage = Callable[[int, Status], dict[str, Any]]

#: source → (a builder of outage n's firing or resolved payload, the label that shows its id).
OUTAGES: dict[str, tuple[Outage, str]] = {
    "grafana-oncall": (
        lambda n, s: _oncall(n, "firing" if s is Status.FIRING else "resolved", GROUP_KEY),
        "alert_group_id",
    ),
    "newrelic": (
        lambda n, s: _newrelic(n, "ACTIVATED" if s is Status.FIRING else "CLOSED"),
        "issue_id",
    ),
    "newrelic-legacy": (
        lambda n, s: _newrelic_legacy(n, "open" if s is Status.FIRING else "closed"),
        "incident_id",
    ),
    "opsgenie": (
        lambda n, s: _opsgenie(n, "Create" if s is Status.FIRING else "Close"),
        "alert_id",
    ),
    "pagerduty": (
        lambda n, s: _pagerduty(
            n, "incident.triggered" if s is Status.FIRING else "incident.resolved"
        ),
        "incident_id",
    ),
}


@pytest.mark.parametrize("source", sorted(OUTAGES))
def test_two_outages_of_one_check_share_a_fingerprint(source: str) -> None:
    """Two outages, each with its own vendor id, are one incident: same fingerprint."""
    outage, _ = OUTAGES[source]
    first, second = _one(outage(1, Status.FIRING)), _one(outage(2, Status.FIRING))
    assert first.fingerprint == second.fingerprint


@pytest.mark.parametrize("source", sorted(OUTAGES))
def test_the_per_outage_id_is_still_shown_as_a_label(source: str) -> None:
    """The vendor's id of this outage is kept as a label, so the ticket still names it."""
    outage, label = OUTAGES[source]
    first, second = _one(outage(1, Status.FIRING)), _one(outage(2, Status.FIRING))
    assert first.labels[label] != second.labels[label]


@pytest.mark.parametrize("source", sorted(OUTAGES))
def test_a_flapping_check_reopens_one_ticket_and_each_resolve_closes_it(source: str) -> None:
    """Fire, resolve, fire again with a new vendor id, resolve: one incident opened, closed,
    reopened and closed again, never a second ticket."""
    outage, _ = OUTAGES[source]
    events = [(1, Status.FIRING), (1, Status.RESOLVED), (2, Status.FIRING), (2, Status.RESOLVED)]
    stored: Incident | None = None
    actions = []
    for minute, (n, status) in enumerate(events):
        at = T0 + timedelta(minutes=minute)
        alert = _one(outage(n, status)).model_copy(update={"occurred_at": at})
        assert alert.status is status
        if stored is not None:
            assert alert.fingerprint == stored.fingerprint
        decision = decide(stored, alert, at, POLICY)
        actions.append(decision.action)
        stored = decision.incident or stored
        if decision.action is Action.OPEN and stored is not None:  # its ticket, to reopen
            stored = dataclasses.replace(stored, refs={"github": "acme/ops#1"})
    assert actions == [Action.OPEN, Action.CLOSE, Action.REOPEN, Action.CLOSE]


# --- what tells incidents apart ----------------------------------------------------------------


def _changed(body: dict[str, Any], path: str, value: Any) -> dict[str, Any]:
    changed = copy.deepcopy(body)
    *parents, key = path.split(".")
    target = changed
    for parent in parents:
        target = target[parent]
    target[key] = value
    return changed


#: source → (outage 1's firing payload, fields whose change makes another incident).
APART: dict[str, tuple[dict[str, Any], list[tuple[str, Any]]]] = {
    "dynatrace": (_dynatrace(1, "OPEN"), [("PID", "-4638255364785743099_1764921600099V2")]),
    "grafana-oncall": (
        _oncall(1, "firing", GROUP_KEY),
        [("integration.id", "CZ7URAT4V3QF9"), ("alert_payload.groupKey", '{}:{alertname="X"}')],
    ),
    "grafana-oncall-group": (_oncall(1, "firing"), [("alert_group.id", "I6HNZGUFG4K99")]),
    "newrelic": (
        _newrelic(1, "ACTIVATED"),
        [
            ("alertConditionNames", ["Low memory"]),
            ("alertPolicyNames", ["Other policy"]),
            ("impactedEntities", ["MAIN-APP-2"]),
        ],
    ),
    "newrelic-legacy": (
        _newrelic_legacy(1, "open"),
        [
            ("condition_id", 11),
            ("account_id", 7654321),
            ("targets", [{"id": "99", "name": "Cart", "type": "Application"}]),
        ],
    ),
    "opsgenie": (
        _opsgenie(1, "Create"),
        [("alert.alias", "cpu-db-7")],
    ),
    "pagerduty": (
        _pagerduty(1, "incident.triggered"),
        [("event.data.incident_key", "cpu-db-7"), ("event.data.service.id", "PB0000")],
    ),
}


@pytest.mark.parametrize(
    ("source", "path", "value"),
    [(source, path, value) for source, (_, changes) in APART.items() for path, value in changes],
)
def test_another_check_is_another_incident(source: str, path: str, value: Any) -> None:
    """What the new key is made of tells checks apart: changing it is another fingerprint."""
    body, _ = APART[source]
    assert _one(body).fingerprint != _one(_changed(body, path, value)).fingerprint


def test_opsgenie_keeps_its_own_alias_as_the_key() -> None:
    """An alias set by the sender (Opsgenie's de-duplication key) is the key, whatever the
    message or alert id: the existing incidents keyed by it keep their fingerprint."""
    first = _one(_opsgenie(1, "Create", alias="disk-db-7-/var"))
    renamed = _changed(_opsgenie(2, "Create", alias="disk-db-7-/var"), "alert.message", "other")
    assert first.identity == {"alias": "disk-db-7-/var"}
    assert _one(renamed).fingerprint == first.fingerprint


def test_opsgenie_without_an_alias_is_keyed_by_its_alert_id() -> None:
    """Opsgenie fills an alert's alias with its alertId when the sender gives none: such an
    alias is no key, and the alert's id is (as is an absent alias)."""
    body = _opsgenie(1, "Create")
    del body["alert"]["alias"]
    assert _one(body).identity == {"alert_id": body["alert"]["alertId"]}
    assert _one(_opsgenie(1, "Create", alias=None)).fingerprint == _one(body).fingerprint


def test_pagerduty_is_keyed_by_its_incident_key_when_sent() -> None:
    """PagerDuty's `incident_key` (the Events API dedup key) and the service key the incident,
    whatever its title."""
    body = _pagerduty(1, "incident.triggered")
    other = _changed(_pagerduty(2, "incident.triggered"), "event.data.title", "Disk 97% full")
    assert _one(body).identity == {"service": "PA2P440", "incident_key": "disk-db-7"}
    assert _one(other).fingerprint == _one(body).fingerprint


def test_grafana_oncall_prefers_the_alert_payloads_group_key() -> None:
    """An Alertmanager or Grafana alerting integration's `groupKey` (what OnCall groups by)
    keys the group with its integration, whatever its rendered title."""
    body = _oncall(1, "firing")
    body["alert_payload"]["groupKey"] = '{}:{alertname="DiskFull"}'
    other = _changed(_oncall(2, "firing"), "alert_group.title", "[FIRING:2] DiskFull")
    other["alert_payload"]["groupKey"] = '{}:{alertname="DiskFull"}'
    assert _one(body).identity == {
        "integration": "CZ7URAT4V3QF2",
        "group_key": '{}:{alertname="DiskFull"}',
    }
    assert _one(other).fingerprint == _one(body).fingerprint


#: source → (a payload with nothing stable to key it by, its per-outage identity).
NOTHING_STABLE: dict[str, Callable[[], tuple[dict[str, Any], dict[str, str]]]] = {}


def _dynatrace_bare() -> tuple[dict[str, Any], dict[str, str]]:
    body = _dynatrace(1, "OPEN")
    del body["ImpactedEntities"], body["ImpactedEntity"]
    return body, {"problem": body["PID"]}


def _oncall_bare() -> tuple[dict[str, Any], dict[str, str]]:
    body = _oncall(1, "firing")
    del body["integration"], body["alert_group"]["integration_id"]
    return body, {"alert_group": "I6HNZGUFG4K01"}


def _newrelic_bare() -> tuple[dict[str, Any], dict[str, str]]:
    body = _newrelic(1, "ACTIVATED")
    del body["alertConditionNames"], body["alertPolicyNames"]
    return body, {"issue": body["id"]}


def _newrelic_legacy_bare() -> tuple[dict[str, Any], dict[str, str]]:
    body = _newrelic_legacy(1, "open")
    del body["condition_id"], body["condition_name"], body["policy_name"]
    return body, {"account": "1234567", "incident": "5601"}


def _opsgenie_bare() -> tuple[dict[str, Any], dict[str, str]]:
    body = _opsgenie(1, "Create", alias=None)
    return body, {"alert_id": body["alert"]["alertId"]}


def _pagerduty_bare() -> tuple[dict[str, Any], dict[str, str]]:
    body = _pagerduty(1, "incident.triggered")
    del body["event"]["data"]["incident_key"]
    return body, {"incident": "PFQZP01"}


NOTHING_STABLE.update(
    {
        "dynatrace": _dynatrace_bare,
        "grafana-oncall": _oncall_bare,
        "newrelic": _newrelic_bare,
        "newrelic-legacy": _newrelic_legacy_bare,
        "opsgenie": _opsgenie_bare,
        "pagerduty": _pagerduty_bare,
    }
)


@pytest.mark.parametrize("source", sorted(NOTHING_STABLE))
def test_a_payload_with_nothing_stable_is_keyed_by_its_own_id(source: str) -> None:
    """A payload that names nothing stable (a template that left it out) is still keyed, by
    the vendor's id of the outage, as before."""
    body, identity = NOTHING_STABLE[source]()
    assert _one(body).identity == identity


def test_a_dynatrace_problem_keeps_its_key_as_entities_join_it() -> None:
    """An entity that joins an open problem (listed after the one it opened with) leaves its
    key as it was: the problem's close, listing both, closes its incident."""
    opened = _dynatrace(1, "OPEN")
    closed = _dynatrace(1, "RESOLVED")
    joined = {"type": "HOST", "name": "web-1", "entity": "HOST-0001"}
    closed["ImpactedEntities"] = [*closed["ImpactedEntities"], joined]
    closed["ImpactedEntity"] = "checkout-service, web-1"
    assert _one(closed).fingerprint == _one(opened).fingerprint


@pytest.mark.parametrize(
    ("field", "joined"),
    [
        ("alertConditionNames", "Low memory"),
        ("alertPolicyNames", "Other policy"),
        ("impactedEntities", "MAIN-APP-2"),
    ],
)
def test_a_new_relic_issue_keeps_its_key_as_incidents_join_it(field: str, joined: str) -> None:
    """An issue that gathers another incident (one issue per policy: its update lists one more
    condition or entity, after those it opened with) keeps its key, so its update counts on the
    open incident and its close closes it."""
    opened = _newrelic(1, "ACTIVATED")
    grown = copy.deepcopy(opened) | {"totalIncidents": 2}
    grown[field] = [*opened[field], joined]
    closed = grown | {"state": "CLOSED"}
    assert _one(grown).fingerprint == _one(opened).fingerprint
    assert _one(closed).fingerprint == _one(opened).fingerprint
