"""Alert sources, round 9 (helper 399): alerts real senders send that triage read wrongly,
built from the tools' documented payloads, each with the behaviour its fix must keep."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from triage.models import Alert, Priority, Status
from triage.normalize import normalize_body
from triage.summarise.priority import default_priority

#: Least to most urgent, to compare two priorities.
_LADDER = (Priority.LOW, Priority.MEDIUM, Priority.HIGH, Priority.CRITICAL)

PAYLOADS = Path(__file__).parent / "payloads"


def _only(body: dict[str, Any] | list[Any]) -> Alert:
    """The one alert `body` becomes."""
    [alert] = normalize_body(json.dumps(body)).alerts
    return alert


def _ticket_priority(alert: Alert) -> Priority:
    """The priority the ticket gets before any reading of its text: the stated one, else the
    severity's default (`triage.summarise.priority.decide`)."""
    return alert.priority or default_priority(alert.severity)


# --- alertmanager: kube-prometheus' InfoInhibitor ticketed --------------------------------------


def _webhook_group(labels: dict[str, str], annotations: dict[str, str]) -> dict[str, Any]:
    """An Alertmanager webhook (version 4) holding one firing alert."""
    alert = {
        "status": "firing",
        "labels": labels,
        "annotations": annotations,
        "startsAt": "2026-12-06T10:00:00Z",
        "endsAt": "0001-01-01T00:00:00Z",
        "generatorURL": "http://prometheus-k8s-0:9090/graph?g0.expr=ALERTS",
        "fingerprint": "7d1c0e2f3a4b5c6d",
    }
    return {
        "version": "4",
        "groupKey": '{}:{namespace="monitoring"}',
        "truncatedAlerts": 0,
        "status": "firing",
        "receiver": "triage",
        "groupLabels": {"namespace": labels.get("namespace", "")},
        "commonLabels": labels,
        "commonAnnotations": annotations,
        "externalURL": "http://alertmanager-main-0:9093",
        "alerts": [alert],
    }


#: kube-prometheus' InfoInhibitor (general.rules), as it arrives: the labels of the info alert
#: it stands beside (from the ALERTS series) with its own name and severity "none".
_INFO_INHIBITOR_LABELS = {
    "alertname": "InfoInhibitor",
    "alertstate": "firing",
    "severity": "none",
    "namespace": "monitoring",
    "prometheus": "monitoring/k8s",
}
_INFO_INHIBITOR_ANNOTATIONS = {
    "summary": "Info-level alert inhibition.",
    "description": "This is an alert that is used to inhibit info alerts.\nBy themselves, the "
    "info-level alerts are sometimes very noisy, but they are relevant when combined with "
    'other alerts.\nThis alert fires every time there\'s a severity="info" alert, and stops '
    "firing when another alert with a severity of 'warning' or 'critical' starts firing on "
    "the same namespace.\nThis alert should be routed to a null receiver and configured to "
    'inhibit alerts with severity="info".',
    "runbook_url": "https://runbooks.prometheus-operator.dev/runbooks/general/infoinhibitor",
}


def test_the_kube_prometheus_info_inhibitor_opens_no_ticket() -> None:
    """kube-prometheus' InfoInhibitor, an alert that exists only to inhibit info alerts (its
    runbook: no impact, route it to a null receiver), is skipped, not ticketed."""
    group = _webhook_group(_INFO_INHIBITOR_LABELS, _INFO_INHIBITOR_ANNOTATIONS)
    normalized = normalize_body(json.dumps(group))
    assert normalized.alerts == ()
    [skipped] = normalized.skipped
    assert skipped.reason == "inhibitor"


def test_the_info_inhibitor_posted_to_the_alertmanager_api_opens_no_ticket() -> None:
    """The InfoInhibitor as Prometheus posts it to the Alertmanager API (a bare array, read
    as `prometheus`) is skipped too."""
    posted = [
        {
            "labels": _INFO_INHIBITOR_LABELS,
            "annotations": _INFO_INHIBITOR_ANNOTATIONS,
            "startsAt": "2026-12-06T10:00:00Z",
            "endsAt": "2099-12-06T10:04:00Z",
            "generatorURL": "http://prometheus-k8s-0:9090/graph",
        }
    ]
    normalized = normalize_body(json.dumps(posted))
    assert (normalized.alerts, [s.reason for s in normalized.skipped]) == ((), ["inhibitor"])


def test_an_alert_named_info_inhibitor_at_a_real_severity_still_fires() -> None:
    """An alert of that name someone gave a real severity is their own, and fires."""
    labels = {**_INFO_INHIBITOR_LABELS, "severity": "warning"}
    alert = _only(_webhook_group(labels, {"summary": "inhibitor rule broken"}))
    assert (alert.status, _ticket_priority(alert)) == (Status.FIRING, Priority.MEDIUM)


# --- nagios / icinga / checkmk: a host DOWN ranked as a service WARNING -------------------------


@pytest.mark.parametrize(
    ("down", "up"),
    [
        ("** PROBLEM Host Alert: web-1 is DOWN **", "** RECOVERY Host Alert: web-1 is UP **"),
        ("[PROBLEM] Host web-1 is DOWN!", "[RECOVERY] Host web-1 is UP!"),
        ("Check_MK: web-1 - UP -> DOWN", "Check_MK: web-1 - DOWN -> UP"),
    ],
    ids=["nagios", "icinga", "checkmk"],
)
def test_a_host_gone_down_ranks_as_a_critical_check(down: str, up: str) -> None:
    """A host DOWN (the state a host check's CRITICAL result puts it in) gets a critical
    default priority, not a service WARNING's medium, and its recovery closes the same
    incident."""
    fired, recovered = _only({"title": down}), _only({"title": up})
    assert _ticket_priority(fired) is Priority.CRITICAL
    assert (recovered.status, recovered.fingerprint) == (Status.RESOLVED, fired.fingerprint)


@pytest.mark.parametrize(
    "title",
    ["** PROBLEM Host Alert: web-1 is UNREACHABLE **", "Checkmk: web-1 - UP -> UNREACH"],
    ids=["nagios", "checkmk"],
)
def test_a_host_unreachable_behind_its_parent_ranks_high(title: str) -> None:
    """A host UNREACHABLE (down or cut off behind a parent that is down, the parent's own
    incident being the critical one) ranks high: above a WARNING, below its parent's DOWN."""
    assert _ticket_priority(_only({"title": title})) is Priority.HIGH


@pytest.mark.parametrize(
    "body",
    [
        {"title": "[Alert] Checkout website is down"},
        {"title": "Problem: checkout website is down"},
        {"title": "web-1", "status": "DOWN"},
    ],
    ids=["prose-bracket", "prose-colon", "status"],
)
def test_a_title_saying_down_in_prose_or_a_down_status_ranks_as_before(
    body: dict[str, Any],
) -> None:
    """Only a monitor's host state (DOWN in capitals, as Nagios, Icinga and Checkmk write
    $HOSTSTATE$) ranks so: prose that says down, and a script's `status` down, stay medium."""
    assert _ticket_priority(_only(body)) is Priority.MEDIUM


# --- datadog: a monitor's Triggered (alert threshold) ranked as its Warn ------------------------


def _datadog_default(title: str) -> dict[str, Any]:
    """The Webhooks integration's default payload ($EVENT_MSG, $LAST_UPDATED, $EVENT_TYPE,
    $EVENT_TITLE, $DATE, $ORG_ID, $ORG_NAME, $ID): it carries no $ALERT_TYPE."""
    return {
        "body": "%%%\n@webhook-triage\n\n**system.cpu.user** over **host:web-1** was **> 90.0** "
        "on average during the **last 5m**.\n%%%",
        "last_updated": "1795510985000",
        "event_type": "query_alert_monitor",
        "title": title,
        "date": "1795510985000",
        "org": {"id": "415600", "name": "Example Shop"},
        "id": "5485379890863845239",
    }


@pytest.mark.parametrize("transition", ["Triggered", "Re-Triggered"])
def test_a_datadog_monitors_alert_outranks_its_warn(transition: str) -> None:
    """A monitor over its alert threshold (Triggered: Datadog's $ALERT_TYPE error) gets a
    higher default priority than the same monitor over its warning threshold (Warn), one
    incident either way, in the default payload that states no $ALERT_TYPE."""
    alert = _only(_datadog_default(f"[{transition} on {{host:web-1}}] CPU high"))
    warn = _only(_datadog_default("[Warn on {host:web-1}] CPU high"))
    assert alert.fingerprint == warn.fingerprint
    assert _LADDER.index(_ticket_priority(alert)) > _LADDER.index(_ticket_priority(warn))


def test_a_datadog_triggered_ranks_as_its_stated_error_does() -> None:
    """The default payload's Triggered ranks as a custom payload's Triggered with $ALERT_TYPE
    error does, and a stated alert type still wins (info stays low)."""
    default = _only(_datadog_default("[Triggered on {host:web-1}] CPU high"))
    custom = {
        "title": "[Triggered on {host:web-1}] CPU high",
        "alert_transition": "Triggered",
        "alert_type": "error",
        "alert_id": "18692904",
    }
    stated_info = {**custom, "alert_type": "info"}
    assert _ticket_priority(default) == _ticket_priority(_only(custom)) == Priority.HIGH
    assert _ticket_priority(_only(stated_info)) is Priority.LOW


def test_a_datadog_warn_and_a_stated_priority_rank_as_before() -> None:
    """A Warn stays a warning (medium), and a [P1]..[P5] the title states still decides."""
    warn = _only(_datadog_default("[Warn on {host:web-1}] CPU high"))
    stated = _only(_datadog_default("[P4] [Triggered on {host:web-1}] CPU high"))
    assert (_ticket_priority(warn), _ticket_priority(stated)) == (Priority.MEDIUM, Priority.LOW)


# --- gcp and azure: the alert's own labels (user labels, custom properties) lost ----------------


def _gcp_incident(**user_labels: str) -> dict[str, Any]:
    """A Cloud Monitoring webhook (schema 1.2) whose policy carries these user labels."""
    return {
        "version": "1.2",
        "incident": {
            "incident_id": "0.opqiw61fsv7p",
            "scoping_project_id": "shop-prod",
            "severity": "Warning",
            "started_at": 1795510985,
            "ended_at": None,
            "state": "open",
            "summary": "CPU utilization for shop-prod gke-web-1 is above the threshold of 0.800.",
            "resource": {"type": "gce_instance", "labels": {"instance_id": "11223344"}},
            "resource_display_name": "gke-web-1",
            "metric": {"type": "compute.googleapis.com/instance/cpu/utilization", "labels": {}},
            "metadata": {"system_labels": {}, "user_labels": {}},
            "policy_name": "Web CPU high",
            "policy_user_labels": user_labels,
            "condition": {"name": "projects/shop-prod/alertPolicies/123/conditions/456"},
            "condition_name": "VM CPU above 80%",
        },
    }


def test_a_gcp_policys_user_labels_are_its_labels() -> None:
    """A Cloud Monitoring policy's user labels (`policy_user_labels`: env, service …) are the
    alert's labels by their own names, where routes and groups read them, as an Alertmanager
    alert's are; the reader's own (`project`) keep the reader's value."""
    alert = _only(_gcp_incident(team="web", env="prod", service="checkout", project="other"))
    assert alert.labels["env"] == "prod"
    assert alert.labels["service"] == "checkout"
    assert (alert.team, alert.labels["project"]) == ("web", "shop-prod")


def test_a_gcp_policys_user_labels_key_nothing() -> None:
    """Labels added to the policy while its incident is open do not make a new incident."""
    assert _only(_gcp_incident()).fingerprint == _only(_gcp_incident(env="prod")).fingerprint


def _azure_alert(custom: dict[str, Any]) -> dict[str, Any]:
    """A metric alert in the common alert schema whose action group (or alert rule) sets
    these custom properties."""
    return {
        "schemaId": "azureMonitorCommonAlertSchema",
        "data": {
            "essentials": {
                "alertId": "/subscriptions/1a2b3c4d-2222-3333-4444-555555555555/providers/"
                "Microsoft.AlertsManagement/alerts/b9569717-bc32-442f-add5-83a997729330",
                "alertRule": "orders-api CPU above 90%",
                "severity": "Sev2",
                "signalType": "Metric",
                "monitorCondition": "Fired",
                "monitoringService": "Platform",
                "alertTargetIDs": ["/subscriptions/1a2b3c4d/resourcegroups/orders-rg"],
                "configurationItems": ["orders-api-1"],
                "firedDateTime": "2026-11-23T09:00:24.3713213Z",
            },
            "alertContext": {"conditionType": "SingleResourceMultipleMetricCriteria"},
            "customProperties": custom,
        },
    }


def test_an_azure_alerts_custom_properties_are_its_labels() -> None:
    """An Azure alert's custom properties (`data.customProperties`, set on its action group or
    alert rule: env, service …) are its labels by their own names; the reader's own (`rule`)
    keep the reader's value, and one that is an object is passed over."""
    alert = _only(
        _azure_alert(
            {"team": "orders", "env": "prod", "service": "orders-api", "rule": "x", "o": {}}
        )
    )
    assert (alert.labels["env"], alert.labels["service"]) == ("prod", "orders-api")
    assert (alert.team, alert.labels["rule"]) == ("orders", "orders-api CPU above 90%")
    assert "o" not in alert.labels


@pytest.mark.parametrize(
    "sample", ["azure/service-health-active.json", "azure/resource-health-unavailable.json"]
)
def test_an_azure_health_alerts_custom_properties_are_its_labels(sample: str) -> None:
    """A Service Health or Resource Health alert's custom properties are its labels too."""
    body = json.loads((PAYLOADS / sample).read_text(encoding="utf-8"))
    body["data"]["customProperties"] = {"team": "platform", "env": "prod"}
    alert = _only(body)
    assert (alert.team, alert.labels["env"]) == ("platform", "prod")


# --- grafana: a heartbeat or inhibitor from an imported kube-prometheus rule set ticketed ------


def _grafana_group(labels: dict[str, str], annotations: dict[str, str]) -> dict[str, Any]:
    """A Grafana webhook (unified alerting) holding one firing alert, as Grafana sends it for
    a rule it evaluates or a Mimir ruler's that its alerting forwards."""
    group = _webhook_group(labels, annotations)
    alert = group["alerts"][0]
    alert.update(silenceURL="https://grafana.example.com/alerting/silence/new", values={"A": 1})
    group.update(
        version="1",
        orgId=1,
        title=f"[FIRING:1] {labels['alertname']}",
        state="alerting",
        message="**Firing**",
    )
    return group


#: kube-prometheus' Watchdog as its rule is imported into Grafana alerting (Grafana adds the
#: folder it is kept in).
_WATCHDOG_LABELS = {"alertname": "Watchdog", "severity": "none", "grafana_folder": "general"}


@pytest.mark.parametrize(
    ("labels", "reason"),
    [
        (_WATCHDOG_LABELS, "heartbeat"),
        ({**_INFO_INHIBITOR_LABELS, "grafana_folder": "general"}, "inhibitor"),
    ],
    ids=["watchdog", "info-inhibitor"],
)
def test_a_kube_prometheus_heartbeat_through_grafana_opens_no_ticket(
    labels: dict[str, str], reason: str
) -> None:
    """kube-prometheus' Watchdog and InfoInhibitor (severity none) sent by Grafana's webhook
    (its rules imported into Grafana alerting, or a Mimir ruler's) are skipped as on the
    Alertmanager paths, not ticketed."""
    normalized = normalize_body(json.dumps(_grafana_group(labels, {"summary": "x"})))
    assert (normalized.alerts, [s.reason for s in normalized.skipped]) == ((), [reason])


def test_a_grafana_rule_named_watchdog_at_a_real_severity_still_fires() -> None:
    """A Grafana rule of that name with a real severity is someone's own, and fires."""
    labels = {**_WATCHDOG_LABELS, "severity": "critical"}
    alert = _only(_grafana_group(labels, {"summary": "watchdog timer fired on db-1"}))
    assert (alert.source, alert.status) == ("grafana", Status.FIRING)
