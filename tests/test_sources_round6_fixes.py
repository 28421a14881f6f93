"""The fixes for red team round 6's source bugs (tests/test_redteam_round6_sources.py), held
at the class of each: a merge closes the merged incident's own ticket (PagerDuty's merge
reason, Dynatrace's MERGED; the incident it joined keeps its own), a severity no one chose is no severity (Azure's health alerts), every older Azure schema is
refused saying what to do, Uptime Kuma's notices without a monitor are alerts unless they are
the Test button's, and Statuspage's and Dynatrace's own scales order their tickets."""

from __future__ import annotations

import copy
import json
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from factories import T0
from recording_pipeline import Sink, pipeline_into
from triage.errors import InvalidAlertError, TriageError
from triage.models import Alert, Priority, Status
from triage.normalize import normalize_body
from triage.sqs.inbox import Message
from triage.summarise.priority import default_priority

PAYLOADS = Path(__file__).parent / "payloads"


def _sample(name: str) -> dict[str, Any]:
    value: dict[str, Any] = json.loads((PAYLOADS / name).read_text(encoding="utf-8"))
    return value


def _one(body: dict[str, Any]) -> Alert:
    [alert] = normalize_body(json.dumps(body)).alerts
    return alert


def _default(alert: Alert) -> Priority:
    return alert.priority or default_priority(alert.severity)


async def _lifecycle(bodies: list[dict[str, Any]]) -> list[list[str]]:
    """What one fresh pipeline decides for each body in turn, a minute apart."""
    pipeline = pipeline_into(Sink())
    actions = []
    for minute, body in enumerate(bodies):
        at = T0 + timedelta(minutes=minute)
        message = Message(f"m-{minute}", json.dumps(body), f"r-{minute}", 1, at, received_at=at)
        actions.append([str(outcome.action) for outcome in await pipeline.process(message)])
    return actions


# --- pagerduty: a merge resolve -----------------------------------------------------------------


def _merged_into(incident: str, summary: str | None) -> dict[str, Any]:
    """PagerDuty's `resolve_reason` of an incident merged into `incident`."""
    reference: dict[str, Any] = {"id": incident, "type": "incident_reference"}
    if summary is not None:
        reference["summary"] = summary
    return {"type": "merge_resolve_reason", "incident": reference}


def _pagerduty(
    event_type: str, incident: str, title: str, minute: int = 0, **data: Any
) -> dict[str, Any]:
    """A v3 webhook (the sample's shape) about `incident`, titled `title`, sent `minute`
    minutes after T0."""
    fired = event_type == "incident.triggered"
    body = _sample("pagerduty/triggered.json" if fired else "pagerduty/resolved.json")
    body["event"]["event_type"] = event_type
    body["event"]["occurred_at"] = (T0 + timedelta(minutes=minute)).isoformat()
    body["event"]["data"] |= {"id": incident, "title": title} | data
    return body


def test_a_pagerduty_merge_into_an_unnamed_survivor_resolves_the_merged_incident() -> None:
    """Each incident is keyed by its own id or `incident_key`, so the survivor, named or not,
    has a ticket of its own: the merged-away incident's resolve closes only its own."""
    body = _pagerduty(
        "incident.resolved", "PA", "Checkout 5xx", resolve_reason=_merged_into("PB", None)
    )
    assert _one(body).status is Status.RESOLVED
    assert _one(body).identity == {"incident": "PA"}


async def test_a_pagerduty_merge_into_another_check_closes_the_merged_ticket() -> None:
    """Merged into an incident of another title (its own ticket), the merged-away incident is
    gone from PagerDuty: its ticket closes, as its own resolve would close it."""
    actions = await _lifecycle(
        [
            _pagerduty("incident.triggered", "PA", "Checkout 5xx"),
            _pagerduty("incident.triggered", "PB", "Payments down", 1),
            _pagerduty(
                "incident.resolved",
                "PA",
                "Checkout 5xx",
                2,
                resolve_reason=_merged_into("PB", "[#11] Payments down"),
            ),
        ]
    )
    assert actions == [["open"], ["open"], ["close"]]


def test_a_pagerduty_merge_of_an_incident_keyed_by_its_incident_key_resolves() -> None:
    """An incident keyed by its `incident_key` shares no ticket with the survivor (PagerDuty
    keeps one open incident per key on a service), so its merge resolves it."""
    body = _pagerduty(
        "incident.resolved",
        "PA",
        "Checkout 5xx",
        incident_key="checkout-5xx",
        resolve_reason=_merged_into("PB", "[#11] Checkout 5xx"),
    )
    assert _one(body).status is Status.RESOLVED


# --- dynatrace: a merged problem --------------------------------------------------------------


async def test_a_dynatrace_problem_merged_into_another_closes_its_own_ticket() -> None:
    """Dynatrace merges a problem into another that goes on under its own PID, so its own
    ticket: MERGED, sent for the merged problem, closes the merged problem's ticket only
    (tests/test_title_identity_round7.py shows the survivor's staying open)."""
    opened = _sample("tools/dynatrace-open.json")
    actions = await _lifecycle([opened, dict(opened, State="MERGED")])
    assert actions == [["open"], ["close"]]


# --- azure: health alerts' fixed Sev4; the older schemas --------------------------------------


@pytest.mark.parametrize(
    "name", ["azure/service-health-active.json", "azure/resource-health-unavailable.json"]
)
def test_an_azure_health_alerts_fixed_sev4_is_kept_only_as_a_label(name: str) -> None:
    """The activity log's fixed Sev4 is no severity (no one chose it), yet an operator reading
    the ticket still sees what Azure sent, as the label `azure_severity`."""
    alert = _one(_sample(name))
    assert alert.severity is None
    assert alert.labels["azure_severity"] == "Sev4"


def test_an_azure_log_alert_in_its_own_schema_says_to_turn_on_the_common_schema() -> None:
    """An Application Insights log alert's older webhook (`Microsoft.Insights/LogAlert`) is
    refused, as the other older schemas are, saying what to do."""
    body = {
        "schemaId": "Microsoft.Insights/LogAlert",
        "data": {"SubscriptionId": "s1", "AlertRuleName": "AcmeRule", "SearchQuery": "requests"},
    }
    with pytest.raises(TriageError) as refused:
        normalize_body(json.dumps(body))
    assert "common alert schema" in str(refused.value)


# --- uptime kuma: notices without a monitor ---------------------------------------------------


def _kuma_notice(msg: Any) -> dict[str, Any]:
    return {"heartbeat": None, "monitor": None, "msg": msg}


CERTIFICATE = "[Shop][https://shop.example.com] server certificate shop.example.com will be expired in {} days"
DOMAIN = "Domain name example.com will expire in {} days"


@pytest.mark.parametrize("notice", [CERTIFICATE, DOMAIN], ids=["certificate", "domain"])
async def test_uptime_kumas_notices_of_one_expiry_count_on_one_ticket(notice: str) -> None:
    """Uptime Kuma sends an expiry notice at 21, 14 and 7 days: they are one ticket, counted,
    keyed by what expires, not by the days left."""
    actions = await _lifecycle([_kuma_notice(notice.format(days)) for days in (21, 14, 7)])
    assert actions == [["open"], ["count"], ["count"]]


def test_uptime_kumas_notices_of_two_domains_stay_apart() -> None:
    """Each domain's expiry is its own ticket."""
    one = _one(_kuma_notice(DOMAIN.format(7)))
    other = _one(_kuma_notice("Domain name example.org will expire in 7 days"))
    assert one.fingerprint != other.fingerprint
    assert one.labels["days_left"] == "7"


def test_uptime_kumas_test_button_of_any_notification_name_is_skipped() -> None:
    """The Test button sends the notification's name and " Testing", whatever the name."""
    normalized = normalize_body(json.dumps(_kuma_notice("Ops pager (prod) Testing")))
    assert normalized.alerts == ()
    assert [s.reason for s in normalized.skipped] == ["test_notification"]


def test_uptime_kumas_other_notice_fires_keyed_by_its_text() -> None:
    """A notice of another kind (no monitor, not the Test button's) is an alert too: it is
    not dropped as a test."""
    alert = _one(_kuma_notice("Backup job failed on nas-1"))
    assert alert.status is Status.FIRING
    assert alert.title == "Backup job failed on nas-1"


@pytest.mark.parametrize("msg", [None, "", 7])
def test_uptime_kumas_notice_without_text_is_refused(msg: Any) -> None:
    """No monitor, no heartbeat and no message is nothing to act on: refused naming `msg`,
    so it goes to the DLQ rather than vanishing."""
    with pytest.raises(InvalidAlertError, match="msg"):
        normalize_body(json.dumps(_kuma_notice(msg)))


# --- statuspage: a component's status as its severity -----------------------------------------


def _component(new_status: str) -> dict[str, Any]:
    body = copy.deepcopy(_sample("statuspage/component-major-outage.json"))
    body["component"]["status"] = new_status
    body["component_update"]["new_status"] = new_status
    return body


def test_a_statuspage_components_outages_rank_above_its_degraded_performance() -> None:
    """Statuspage's scale for a component: degraded performance is medium, a partial or a
    major outage (some or all users cut off) high, as Statuspage's own incident impact for a
    partial outage (major) is; the status is kept as the label `status`."""
    ranks = {
        s: _default(_one(_component(s)))
        for s in ("degraded_performance", "partial_outage", "major_outage")
    }
    assert ranks == {
        "degraded_performance": Priority.MEDIUM,
        "partial_outage": Priority.HIGH,
        "major_outage": Priority.HIGH,
    }
    assert _one(_component("partial_outage")).labels["status"] == "partial_outage"


def test_a_statuspage_component_back_to_operational_still_resolves() -> None:
    """Operational resolves, as before."""
    assert _one(_component("operational")).status is Status.RESOLVED


# --- dynatrace: its severity levels -----------------------------------------------------------


@pytest.mark.parametrize(
    ("level", "expected"),
    [
        ("AVAILABILITY", Priority.CRITICAL),
        ("ERROR", Priority.HIGH),
        ("PERFORMANCE", Priority.MEDIUM),
        ("RESOURCE_CONTENTION", Priority.MEDIUM),
        ("CUSTOM_ALERT", Priority.MEDIUM),
        ("MONITORING_UNAVAILABLE", Priority.MEDIUM),
        ("INFO", Priority.LOW),
        ("SOMETHING_NEW", Priority.MEDIUM),
    ],
)
def test_a_dynatrace_problems_severity_level_sets_its_default(
    level: str, expected: Priority
) -> None:
    """Dynatrace's levels, worst first, as defaults; a level it adds later is unknown (medium);
    the level as sent is kept as the label `problem_severity`."""
    alert = _one(_sample("tools/dynatrace-open.json") | {"ProblemSeverity": level})
    assert alert.priority is None
    assert default_priority(alert.severity) is expected
    assert alert.labels["problem_severity"] == level
