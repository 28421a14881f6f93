"""Red team, round 6: alerts real senders send that triage read wrongly when this was written,
built from the vendors' documented payloads and their own source: a PagerDuty incident merged
into a twin, Azure's health alerts under their fixed Sev4 and its budget alert's own schema,
Uptime Kuma's certificate and domain expiry notices, a Statuspage component's major outage and
a Dynatrace availability problem. Each bug is a strict xfail that fails today for the reason
it names and passes once the bug is fixed; each plain test beside one holds the behaviour the
fix must keep."""

from __future__ import annotations

import copy
import json
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from factories import T0
from recording_pipeline import Sink, pipeline_into
from triage.errors import TriageError
from triage.models import Priority, Status
from triage.normalize import normalize_body
from triage.sqs.inbox import Message
from triage.summarise.priority import default_priority

PAYLOADS = Path(__file__).parent / "payloads"


def _sample(name: str) -> dict[str, Any]:
    value: dict[str, Any] = json.loads((PAYLOADS / name).read_text(encoding="utf-8"))
    return value


async def _lifecycle(bodies: list[dict[str, Any]]) -> list[list[str]]:
    """What one fresh pipeline decides for each body in turn, a minute apart."""
    pipeline = pipeline_into(Sink())
    actions = []
    for minute, body in enumerate(bodies):
        at = T0 + timedelta(minutes=minute)
        message = Message(f"m-{minute}", json.dumps(body), f"r-{minute}", 1, at, received_at=at)
        actions.append([str(outcome.action) for outcome in await pipeline.process(message)])
    return actions


# --- pagerduty: an incident merged into its twin ----------------------------------------------

#: What PagerDuty's incident object says of an incident a responder merged into another
#: (REST API v2 `resolve_reason`, which v3 webhooks carry in `event.data`): it is resolved,
#: and the incident it was merged into carries on, open.
_MERGED_INTO_PB = {
    "type": "merge_resolve_reason",
    "incident": {
        "id": "PB",
        "type": "incident_reference",
        "summary": "[#11] Checkout API 5xx rate high",
        "self": "https://api.pagerduty.com/incidents/PB",
        "html_url": "https://acme.pagerduty.com/incidents/PB",
    },
}


def _pagerduty(
    event_type: str, incident: str, number: int, minute: int, **data: Any
) -> dict[str, Any]:
    """A v3 webhook (the sample's shape) about `incident` on the sample's service, titled as
    an Events API integration titles every incident of one check."""
    fired = event_type == "incident.triggered"
    body = _sample("pagerduty/triggered.json" if fired else "pagerduty/resolved.json")
    event = body["event"]
    event["event_type"] = event_type
    event["occurred_at"] = (T0 + timedelta(minutes=minute)).isoformat()
    event["data"] |= {"id": incident, "number": number, "title": "Checkout API 5xx rate high"}
    event["data"] |= data
    return body


async def test_a_pagerduty_incident_merged_into_its_twin_leaves_the_ticket_open() -> None:
    """Two incidents of one check on one service, each with its own ticket (keyed by its id:
    no `incident_key`); a responder merges the first into the second, which PagerDuty sends as
    the first's `incident.resolved` with a merge reason. The outage goes on in the second
    incident, so its ticket must stay open until its own resolve closes it."""
    actions = await _lifecycle(
        [
            _pagerduty("incident.triggered", "PA", 10, 0),
            _pagerduty("incident.triggered", "PB", 11, 1),
            _pagerduty("incident.resolved", "PA", 10, 2, resolve_reason=_MERGED_INTO_PB),
            _pagerduty("incident.resolved", "PB", 11, 3, resolve_reason=None),
        ]
    )
    assert actions == [["open"], ["open"], ["close"], ["close"]]


async def test_a_pagerduty_incidents_own_resolve_closes_its_ticket() -> None:
    """The behaviour the merge case is held against: an incident resolved by a person (no
    merge reason) closes the ticket it opened."""
    actions = await _lifecycle(
        [
            _pagerduty("incident.triggered", "PA", 10, 0),
            _pagerduty("incident.resolved", "PA", 10, 1, resolve_reason=None),
        ]
    )
    assert actions == [["open"], ["close"]]


# --- azure: Service Health and Resource Health under the activity log's fixed Sev4 ------------

#: Azure's health alerts: an Azure service's outage in a region, and a VM gone unavailable.
HEALTH_ALERTS = ["azure/service-health-active.json", "azure/resource-health-unavailable.json"]


@pytest.mark.parametrize("name", HEALTH_ALERTS)
def test_an_azure_health_alert_is_not_defaulted_to_low_by_its_fixed_sev4(name: str) -> None:
    """Every Service Health and Resource Health alert is Sev4, whatever it is about: no rule's
    author chose it (azure_stateless says it "sets no priority"). A region's SQL outage or an
    unavailable VM must default to medium, as an alert of unknown severity does, not to low
    as a chosen Sev4 (verbose) would."""
    [alert] = normalize_body(json.dumps(_sample(name))).alerts
    assert alert.priority is None  # no stated priority: the default decides
    assert default_priority(alert.severity) is Priority.MEDIUM


def test_an_azure_metric_alerts_chosen_sev4_stays_low() -> None:
    """The behaviour the health case is held against: a severity the rule's author chose
    (a log search alert's Sev4) still makes the ticket low."""
    body = _sample("azure/log-stateless-fired.json")
    body["data"]["essentials"]["severity"] = "Sev4"
    [alert] = normalize_body(json.dumps(body)).alerts
    assert (alert.priority or default_priority(alert.severity)) is Priority.LOW


#: What an action group posts for a budget alert while the common alert schema is off
#: (learn.microsoft.com, "Budget alert" webhook payload; budgets have sent the common schema
#: too since 2022): the Cost Management schema, as metric and activity log alerts had theirs.
AZURE_BUDGET_SCHEMA = {
    "schemaId": "AIP Budget Notification",
    "data": {
        "SubscriptionName": "Orders production",
        "SubscriptionId": "11111111-2222-3333-4444-555555555555",
        "ResourceGroup": "",
        "SpendingAmount": "4.36",
        "BudgetStartDate": "6/1/2026 12:00:00 AM -08:00",
        "Budget": "10",
        "Unit": "USD",
        "BudgetCreator": "finops@example.com",
        "BudgetName": "orders-monthly",
        "BudgetType": "Cost",
        "NotificationThresholdAmount": "8.0",
    },
}


def test_an_azure_budget_alert_in_its_own_schema_says_to_turn_on_the_common_schema() -> None:
    """Azure's older schemas are refused with what to do (README: "the older schemas are
    refused, saying to turn it on"); a budget's is one of them, yet it is refused as an
    unknown body listing forty formats, which tells the operator nothing about Azure."""
    with pytest.raises(TriageError) as refused:
        normalize_body(json.dumps(AZURE_BUDGET_SCHEMA))
    assert "common alert schema" in str(refused.value)


# --- uptime kuma: a certificate expiry notice -------------------------------------------------

#: What Uptime Kuma's webhook posts for a monitor's TLS certificate about to expire
#: (server/model/monitor.js, sendCertNotificationByTargetDays) and, from 2.0, for its domain
#: name about to expire (server/model/domain_expiry.js, sendDomainNotificationByTargetDays):
#: `Notification.send(config, msg)`, with neither monitor nor heartbeat. The Test button
#: (server.js, testNotification) sends `notification.name + " Testing"` the same way.
KUMA_EXPIRY_NOTICES = {
    "certificate": "[Shop][https://shop.example.com] server certificate shop.example.com will "
    "be expired in 7 days",
    "domain": "Domain name example.com will expire in 7 days",
}
KUMA_TEST = {"heartbeat": None, "monitor": None, "msg": "triage webhook Testing"}


@pytest.mark.parametrize("msg", KUMA_EXPIRY_NOTICES.values(), ids=KUMA_EXPIRY_NOTICES.keys())
def test_uptime_kumas_expiry_notice_is_an_alert(msg: str) -> None:
    """A certificate or domain about to expire is a problem someone must act on before the
    site goes down; Uptime Kuma sends it once per threshold (21, 14, 7 days). Read as a test
    notification, it is dropped with a debug line and nobody renews it."""
    normalized = normalize_body(json.dumps({"heartbeat": None, "monitor": None, "msg": msg}))
    assert [s.reason for s in normalized.skipped] == []
    [alert] = normalized.alerts
    assert alert.status is Status.FIRING


def test_uptime_kumas_test_button_is_still_skipped() -> None:
    """The behaviour the certificate case is held against: the Test button's message opens no
    ticket."""
    normalized = normalize_body(json.dumps(KUMA_TEST))
    assert normalized.alerts == ()
    assert [s.reason for s in normalized.skipped] == ["test_notification"]


# --- statuspage: how bad a component's outage is ----------------------------------------------


def _component(new_status: str) -> dict[str, Any]:
    """The sample's component update, moved to `new_status` from operational."""
    body = copy.deepcopy(_sample("statuspage/component-major-outage.json"))
    body["component"]["status"] = new_status
    body["component_update"]["new_status"] = new_status
    return body


def _component_default(new_status: str) -> Priority:
    [alert] = normalize_body(json.dumps(_component(new_status))).alerts
    return alert.priority or default_priority(alert.severity)


def test_a_statuspage_components_major_outage_outranks_its_degraded_performance() -> None:
    """Statuspage's own scale for a component, degraded_performance < partial_outage <
    major_outage, orders its tickets: a vendor's database down everywhere is not the medium
    ticket a slow one is, and ranks at least as high as an incident of impact major does."""
    degraded = _component_default("degraded_performance")
    major = _component_default("major_outage")
    incident = normalize_body(json.dumps(_sample("statuspage/incident-identified.json")))
    [incident_alert] = incident.alerts
    assert incident_alert.severity == "major"
    incident_default = incident_alert.priority or default_priority(incident_alert.severity)
    assert degraded is Priority.MEDIUM
    assert major is incident_default
    assert major is not degraded


# --- dynatrace: its severity levels, worst first ----------------------------------------------


def _dynatrace_default(severity: str) -> Priority:
    """The default priority of the sample problem sent with `ProblemSeverity` `severity`
    (the `{ProblemSeverity}` placeholder of a custom integration's payload)."""
    body = _sample("tools/dynatrace-open.json") | {"ProblemSeverity": severity}
    [alert] = normalize_body(json.dumps(body)).alerts
    return alert.priority or default_priority(alert.severity)


def test_a_dynatrace_availability_problem_outranks_an_error_problem() -> None:
    """Dynatrace's levels run AVAILABILITY (the service or host is down), ERROR, PERFORMANCE,
    RESOURCE_CONTENTION, CUSTOM_ALERT. An availability problem must default at least as high
    as an error-rate one; read as an unknown word it defaults to medium while ERROR, a word
    the severity table knows, defaults to high."""
    availability = _dynatrace_default("AVAILABILITY")
    error = _dynatrace_default("ERROR")
    assert error is Priority.HIGH
    assert availability in (Priority.HIGH, Priority.CRITICAL)
