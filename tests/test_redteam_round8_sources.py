"""Red team, round 8: alerts real senders send that triage read wrongly when this was written,
built from the tools' documented payloads: a Nagios, Icinga or Checkmk check's CRITICAL ranked
no higher than its WARNING; a New Relic issue's DEACTIVATED state refused and two accounts'
issues merged; kube-prometheus's Watchdog heartbeat ticketed; a PagerDuty Events API v2 event
refused; an ECS or Redshift Serverless ERROR defaulted to medium; a transient EMR cluster's step
never resolved; an Opsgenie alert's details lost; a Sentry alert rule's and a Grafana OnCall
integration's test notices ticketed. Each bug was a strict xfail that failed for the reason it
named; all are fixed now, and each plain test beside one holds the behaviour the fix must
keep."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from triage.models import Alert, Priority, Status
from triage.normalize import normalize_body
from triage.summarise.priority import default_priority

PAYLOADS = Path(__file__).parent / "payloads"

#: Least to most urgent, to compare two priorities.
_LADDER = (Priority.LOW, Priority.MEDIUM, Priority.HIGH, Priority.CRITICAL)


def _sample(name: str) -> dict[str, Any]:
    value: dict[str, Any] = json.loads((PAYLOADS / name).read_text(encoding="utf-8"))
    return value


def _only(body: dict[str, Any] | list[Any], **kwargs: Any) -> Alert:
    """The one alert `body` becomes."""
    [alert] = normalize_body(json.dumps(body), **kwargs).alerts
    return alert


def _ticket_priority(alert: Alert) -> Priority:
    """The priority the ticket gets before any reading of its text: the stated one, else the
    severity's default (`triage.summarise.priority.decide`)."""
    return alert.priority or default_priority(alert.severity)


def _rank(alert: Alert) -> int:
    return _LADDER.index(_ticket_priority(alert))


# --- nagios / icinga: a CRITICAL check ranked as its WARNING ------------------------------------


@pytest.mark.parametrize(
    ("critical", "warning"),
    [
        ({"title": "db-1/Disk", "status": "CRITICAL"}, {"title": "db-1/Disk", "status": "WARNING"}),
        (
            {"title": "** PROBLEM Service Alert: db-1/Disk is CRITICAL **"},
            {"title": "** PROBLEM Service Alert: db-1/Disk is WARNING **"},
        ),
        ({"title": "Check_MK: db-1/Disk OK -> CRIT"}, {"title": "Check_MK: db-1/Disk OK -> WARN"}),
    ],
    ids=["status", "nagios-subject", "checkmk-subject"],
)
def test_a_checks_critical_state_outranks_its_warning(
    critical: dict[str, Any], warning: dict[str, Any]
) -> None:
    """A check gone CRITICAL gets a higher default priority than the same check gone WARNING
    (one incident: the state is not its identity)."""
    hot, warm = _only(critical), _only(warning)
    assert hot.fingerprint == warm.fingerprint
    assert _rank(hot) > _rank(warm)


def test_a_checks_warning_and_recovery_are_one_incident() -> None:
    """A check's WARNING fires a medium ticket and its RECOVERY resolves the same incident (the
    behaviour the CRITICAL case is held against)."""
    warning = _only({"title": "** PROBLEM Service Alert: db-1/Disk is WARNING **"})
    recovery = _only({"title": "** RECOVERY Service Alert: db-1/Disk is OK **"})
    assert _ticket_priority(warning) is Priority.MEDIUM
    assert (recovery.status, recovery.fingerprint) == (Status.RESOLVED, warning.fingerprint)


# --- new relic workflows: DEACTIVATED refused; two accounts merged ------------------------------


def test_a_new_relic_issue_deactivated_is_not_refused() -> None:
    """A workflow notification of an issue in state DEACTIVATED (one of the four states New
    Relic's issues API lists) is read, as a resolve or as no ticket change, never refused."""
    body = _sample("newrelic/created.json")
    body.update(state="DEACTIVATED", trigger="STATE_CHANGE")
    normalized = normalize_body(json.dumps(body))
    assert all(alert.status is Status.RESOLVED for alert in normalized.alerts)
    assert normalized.alerts or normalized.skipped


def _newrelic_in_account(account: int) -> dict[str, Any]:
    """The sample issue as account `account`'s workflow sends it: the issue page's link is the
    only field of the default template that names the account."""
    body = _sample("newrelic/created.json")
    body["issueUrl"] = body["issueUrl"].replace("/accounts/1/", f"/accounts/{account}/")
    return body


def test_two_new_relic_accounts_issues_of_one_name_are_two_incidents() -> None:
    """Staging's and production's accounts, each with a "Golden Signals" policy whose "High
    CPU" condition fires on an entity of the same name, are two incidents (the legacy channel
    keys by account too)."""
    staging, production = _only(_newrelic_in_account(1)), _only(_newrelic_in_account(2))
    assert staging.fingerprint != production.fingerprint


def test_one_new_relic_accounts_issue_opens_and_closes_one_incident() -> None:
    """One account's issue, created then closed, is one incident that the close resolves."""
    created = _only(_newrelic_in_account(7))
    closed_body = _newrelic_in_account(7)
    closed_body.update(state="CLOSED", trigger="STATE_CHANGE")
    closed = _only(closed_body)
    assert (closed.status, closed.fingerprint) == (Status.RESOLVED, created.fingerprint)


# --- alertmanager: kube-prometheus's Watchdog heartbeat ticketed --------------------------------


def _alertmanager_group(
    alert_labels: dict[str, str], annotations: dict[str, str]
) -> dict[str, Any]:
    """The sample webhook group holding one firing alert with these labels and annotations."""
    body = _sample("alertmanager/group-firing.json")
    alert = {
        "status": "firing",
        "labels": alert_labels,
        "annotations": annotations,
        "startsAt": "2026-12-06T10:00:00Z",
        "endsAt": "0001-01-01T00:00:00Z",
        "generatorURL": "http://prometheus-k8s-0:9090/graph?g0.expr=vector%281%29",
        "fingerprint": "e5d1f2a3b4c5d6e7",
    }
    body.update(
        alerts=[alert],
        groupLabels={"alertname": alert_labels["alertname"]},
        commonLabels=alert_labels,
        commonAnnotations=annotations,
        truncatedAlerts=0,
    )
    return body


#: kube-prometheus' (and kube-prometheus-stack's) Watchdog rule, as its alert arrives.
_WATCHDOG_LABELS = {"alertname": "Watchdog", "severity": "none", "prometheus": "monitoring/k8s"}
_WATCHDOG_ANNOTATIONS = {
    "summary": "An alert that should always be firing to certify that Alertmanager is working "
    "properly.",
    "description": "This is an alert meant to ensure that the entire alerting pipeline is "
    "functional.\nThis alert is always firing, therefore it should always be firing in "
    "Alertmanager\nand always fire against a receiver.",
    "runbook_url": "https://runbooks.prometheus-operator.dev/runbooks/general/watchdog",
}


def test_the_kube_prometheus_watchdog_heartbeat_opens_no_ticket() -> None:
    """The Watchdog alert, which fires forever to prove the pipeline works (a dead man's
    switch), is skipped as a heartbeat, not ticketed."""
    normalized = normalize_body(
        json.dumps(_alertmanager_group(_WATCHDOG_LABELS, _WATCHDOG_ANNOTATIONS))
    )
    assert normalized.alerts == ()
    assert normalized.skipped


def test_an_alert_named_like_a_watchdog_that_is_real_still_fires() -> None:
    """A real alert about a watchdog (a page-level one with its own summary) still opens an
    incident: the fix must skip the heartbeat, not every alert whose name says watchdog."""
    labels = {"alertname": "WatchdogTimerReset", "severity": "critical", "instance": "db-1"}
    alert = _only(_alertmanager_group(labels, {"summary": "db-1 was reset by its watchdog"}))
    assert (alert.status, _ticket_priority(alert)) == (Status.FIRING, Priority.CRITICAL)


# --- pagerduty events api v2: refused outright -------------------------------------------------


def _events_v2(action: str, **extra: Any) -> dict[str, Any]:
    """A PagerDuty Events API v2 event as Alertmanager's `pagerduty_configs` (with `url` set to
    triage), Grafana's PagerDuty contact point or Zabbix's PagerDuty media type posts it."""
    return {
        "routing_key": "R0123456789ABCDEF0123456789ABCDE",
        "event_action": action,
        "dedup_key": "zabbix-event-48213",
        **extra,
    }


_EVENTS_V2_PAYLOAD = {
    "summary": "High CPU utilization on db-1",
    "source": "db-1",
    "severity": "critical",
    "component": "cpu",
    "group": "prod-db",
    "custom_details": {"value": "97 %"},
}


def test_a_pagerduty_events_v2_trigger_and_resolve_are_one_incident() -> None:
    """An Events API v2 trigger fires a critical incident titled by its summary, and the
    resolve of the same `dedup_key` (which carries no payload) resolves it."""
    trigger = _only(_events_v2("trigger", payload=_EVENTS_V2_PAYLOAD))
    resolve = _only(_events_v2("resolve"))
    assert (trigger.status, trigger.title) == (Status.FIRING, "High CPU utilization on db-1")
    assert _ticket_priority(trigger) is Priority.CRITICAL
    assert (resolve.status, resolve.fingerprint) == (Status.RESOLVED, trigger.fingerprint)


def test_a_script_with_a_title_and_event_action_is_read() -> None:
    """A script's generic alert with `event_action` still fires and resolves by it (the
    behaviour the Events v2 fix must keep)."""
    fired = _only(
        {"title": "Nightly export failed", "dedup_key": "export", "event_action": "trigger"}
    )
    ended = _only(
        {"title": "Nightly export failed", "dedup_key": "export", "event_action": "resolve"}
    )
    assert (fired.status, ended.status) == (Status.FIRING, Status.RESOLVED)
    assert fired.fingerprint == ended.fingerprint


# --- ecs and redshift serverless: an event's own ERROR level not read ---------------------------


@pytest.mark.parametrize(
    "sample",
    [
        "eventbridge/ecs-deployment-failed.json",
        "eventbridge/redshift-serverless-rpu-change-failed.json",
    ],
)
def test_an_aws_event_that_says_error_defaults_as_glues_error_does(sample: str) -> None:
    """An event whose own level says ERROR gets the priority a Glue job's ERROR gets."""
    glue = _only(_sample("eventbridge/glue-job-failed.json"))
    event = _sample(sample)
    detail = event["detail"]
    assert "ERROR" in (detail.get("eventType"), detail.get("severity"))
    assert _ticket_priority(_only(event)) is _ticket_priority(glue) is Priority.HIGH


# --- emr: a transient cluster's step keyed by the cluster's id, new every run -------------------


def _emr_step(cluster_id: str, state: str, severity: str) -> dict[str, Any]:
    """An `EMR Step Status Change` of step `load-orders` on a cluster named nightly-spark (a
    transient cluster: a new id every night), as EMR's EventBridge reference shows one."""
    done = "failed" if state == "FAILED" else "completed"
    return {
        "version": "0",
        "id": f"emr-step-{cluster_id}-{state}",
        "detail-type": "EMR Step Status Change",
        "source": "aws.emr",
        "account": "123456789012",
        "time": "2026-12-05T03:10:00Z",
        "region": "eu-west-1",
        "resources": [],
        "detail": {
            "severity": severity,
            "actionOnFailure": "CONTINUE",
            "stepId": f"s-{cluster_id[2:9]}STEP",
            "name": "load-orders",
            "clusterId": cluster_id,
            "state": state,
            "message": f"Step s-{cluster_id[2:9]}STEP (load-orders) in Amazon EMR cluster "
            f"{cluster_id} (nightly-spark) {done}",
        },
    }


def test_an_emr_steps_failure_is_resolved_by_its_success_on_the_next_transient_cluster() -> None:
    """The step that failed on Monday's cluster and completed on Tuesday's (same cluster name,
    new id, as the cluster's own events are keyed by name) is one incident that closes."""
    failed = _only(_emr_step("j-1MONDAY0000A", "FAILED", "ERROR"))
    completed = _only(_emr_step("j-2TUESDAY000B", "COMPLETED", "INFO"))
    assert (failed.status, completed.status) == (Status.FIRING, Status.RESOLVED)
    assert completed.fingerprint == failed.fingerprint


def test_an_emr_steps_failure_and_success_on_one_cluster_are_one_incident() -> None:
    """On one long-running cluster the step's completion resolves its failure."""
    failed = _only(_emr_step("j-1LONGLIVED00", "FAILED", "ERROR"))
    completed = _only(_emr_step("j-1LONGLIVED00", "COMPLETED", "INFO"))
    assert (completed.status, completed.fingerprint) == (Status.RESOLVED, failed.fingerprint)


def test_two_emr_steps_of_one_cluster_are_two_incidents() -> None:
    """Another step's success on the same cluster does not close this step's failure."""
    failed = _only(_emr_step("j-1LONGLIVED00", "FAILED", "ERROR"))
    other = _emr_step("j-1LONGLIVED00", "COMPLETED", "INFO")
    other["detail"]["name"] = "load-customers"
    assert _only(other).fingerprint != failed.fingerprint


# --- opsgenie: an alert's extra properties (details) lost ---------------------------------------


def test_an_opsgenie_alerts_extra_properties_are_its_labels() -> None:
    """The key-value details an Opsgenie alert carries (env, region, service) reach the alert's
    labels, where routes and groups read them, as an Alertmanager alert's labels do."""
    body = _sample("opsgenie/create.json")
    body["alert"]["details"] = {
        "env": "prod",
        "region": "eu-west-1",
        "service": "checkout",
        "team": "payments",
    }
    alert = _only(body)
    assert alert.team == "payments"
    assert {"prod", "eu-west-1", "checkout"} <= set(alert.labels.values())


def test_an_opsgenie_alerts_tags_are_a_label() -> None:
    """The alert's tags are kept as the label `tags` (the behaviour the details fix keeps)."""
    assert _only(_sample("opsgenie/create.json")).labels["tags"] == "vip"


# --- sentry: an alert rule's "Send Test Notification" ticketed ----------------------------------


def _sentry_test_notification() -> dict[str, Any]:
    """What an issue alert rule's *Send Test Notification* posts (Sentry's
    `get_test_notification_event_data`): an `event_alert` `triggered` for a throwaway issue of
    the issue type `send-test-notification` (9001), titled "Test Issue", culprit "Test
    notification", its sample event tagged `sample_event: yes`."""
    body = _sample("sentry/event-alert.json")
    event = body["data"]["event"]
    event.update(
        title="Test Issue",
        culprit="Test notification",
        issue_id="4600000001",
        issue_url="https://sentry.io/api/0/issues/4600000001/",
        web_url="https://acme.sentry.io/issues/4600000001/events/9f2d/",
        tags=[*event["tags"], ["sample_event", "yes"]],
        occurrence={
            "id": "3c0f4be8a4b24d0c9b7c1d2e3f405162",
            "fingerprint": ["0b7e2a6b9d2c4f1e8a3b5c7d9e1f2a3b"],
            "issueTitle": "Test Issue",
            "subtitle": "Test issue created to test a notification related action",
            "resourceId": None,
            "evidenceData": {},
            "evidenceDisplay": [],
            "type": 9001,
            "level": "error",
            "culprit": "Test notification",
        },
    )
    return body


def test_a_sentry_alert_rules_test_notification_opens_no_ticket() -> None:
    """The test a user sends from an issue alert rule proves delivery; it is skipped as
    `test_notification`, as other tools' test buttons are."""
    normalized = normalize_body(
        json.dumps(_sentry_test_notification()), sentry_resource="event_alert"
    )
    assert normalized.alerts == ()
    assert [skip.reason for skip in normalized.skipped] == ["test_notification"]


def test_a_sentry_event_alert_for_a_real_error_fires() -> None:
    """A real issue alert (no sample tag, an error's own title) still fires."""
    alert = _only(_sample("sentry/event-alert.json"), sentry_resource="event_alert")
    assert (alert.status, alert.title) == (Status.FIRING, "ZeroDivisionError: division by zero")


# --- grafana oncall: the integration's "Send demo alert" ticketed -------------------------------

#: What OnCall's *Send demo alert* button puts in the alert it creates (its integrations'
#: demo payload, as OnCall's outgoing-webhook documentation shows it).
_ONCALL_DEMO_DESCRIPTION = "This alert was sent by user for the demonstration purposes"


def _oncall_demo() -> dict[str, Any]:
    """The sample alert group, its alert made by *Send demo alert*: TestAlert, the demo's
    description (the sample itself is of a real alert)."""
    body = _sample("tools/grafana-oncall-created.json")
    body["alert_payload"]["labels"] = {"alertname": "TestAlert", "region": "eu-1"}
    body["alert_payload"]["annotations"] = {"description": _ONCALL_DEMO_DESCRIPTION}
    return body


def test_an_oncall_demo_alert_group_opens_no_ticket() -> None:
    """A demo alert proves the webhook works; it is skipped as `test_notification`, as
    Grafana's own TestAlert is."""
    normalized = normalize_body(json.dumps(_oncall_demo()))
    assert normalized.alerts == ()
    assert [skip.reason for skip in normalized.skipped] == ["test_notification"]


def test_an_oncall_alert_named_testalert_with_its_own_description_fires() -> None:
    """Only the demo's name and description together make a demo: a team's own alert named
    TestAlert, described as a real problem, still fires."""
    body = _oncall_demo()
    body["alert_payload"]["annotations"] = {"description": "p99 above 2s on checkout"}
    assert _only(body).status is Status.FIRING


def test_an_oncall_alert_group_of_a_real_alert_fires() -> None:
    """An alert group of a real alert (its own name and description) still fires."""
    body = _sample("tools/grafana-oncall-created.json")
    body["alert_payload"]["labels"] = {"alertname": "HighLatency", "region": "eu-1"}
    body["alert_payload"]["annotations"] = {"description": "p99 above 2s on checkout"}
    assert _only(body).status is Status.FIRING
