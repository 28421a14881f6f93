"""Red team, round 4b: the sources round 4 left out, in shapes the other tests do not send.
Each tool's alert is carried through its states (firing, repeated, acknowledged, resolved,
flapping, a test notification) by the real normaliser and an in-memory pipeline, delivered as
the tool sends it (JSON, a form's field, a query string, wrapped in a Lambda event), and what a
user expects is asserted: the right status, one incident per alert, a sensible title and
priority, a resolve that closes it, a test that opens nothing, nothing lost. A behaviour that
holds is one chunked test; each bug found was a strict xfail, and each has since been fixed."""

from __future__ import annotations

import copy
import json
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from case_chunks import assert_each, dealt
from recording_pipeline import Sink, pipeline_into
from triage.models import Priority
from triage.normalize import normalize_body
from triage.sqs.inbox import Message

PAYLOADS = Path(__file__).parent / "payloads"
#: When the first message of a life is received: after every time its payloads state, so
#: each is dated by its own clock (a time later than its receipt is replaced by the receipt).
RECEIVED = datetime(2026, 12, 6, 0, 0, tzinfo=UTC)


def _sample(name: str) -> dict[str, Any]:
    value: dict[str, Any] = json.loads((PAYLOADS / name).read_text(encoding="utf-8"))
    return value


async def _lifecycle(bodies: list[Any]) -> tuple[list[list[str]], list[str]]:
    """What one fresh pipeline decides for each body in turn (a minute apart), and the effects
    its sink received, in order."""
    sink = Sink()
    pipeline = pipeline_into(sink)
    actions = []
    for minute, body in enumerate(bodies):
        at = RECEIVED + timedelta(minutes=minute)
        message = Message(f"m-{minute}", json.dumps(body), f"r-{minute}", 1, at, received_at=at)
        actions.append([str(outcome.action) for outcome in await pipeline.process(message)])
    return actions, [str(effect.kind) for effect in sink.effects]


# --- New Relic workflows ------------------------------------------------------------------------


def _newrelic(state: str, trigger: str, at: int, **more: Any) -> dict[str, Any]:
    """A workflow's default payload for an issue that correlates a second incident, as New
    Relic's docs show it: the issue's state and the event that sent it (`trigger`)."""
    issue = "d1b1f3fd-995a-4066-88ab-8ce4f6960654"
    return {
        "id": issue,
        "issueUrl": f"https://radar-api.service.newrelic.com/accounts/1/issues/{issue}",
        "title": "Memory Used % > 90 for at least 2 minutes on 'checkout'",
        "priority": "CRITICAL", "impactedEntities": ["checkout", "checkout-worker"],
        "totalIncidents": 1, "state": state, "trigger": trigger, "isCorrelated": False,
        "createdAt": 1795424400000, "updatedAt": at, "sources": ["newrelic"],
        "alertPolicyNames": ["Golden Signals"], "alertConditionNames": ["Memory high"],
        "workflowName": "checkout on-call",
    } | more  # fmt: skip


# --- Splunk, Graylog, Kapacitor -----------------------------------------------------------------


def _splunk_run(at: int, run: int, count: str) -> dict[str, Any]:
    """A scheduled saved search's run, as Splunk's webhook alert action posts it."""
    sid = f"scheduler__admin__search__RMD5e461b39d4ff19795_at_{at}_{run}"
    return {
        "result": {"sourcetype": "nginx", "status": "502", "count": count},
        "sid": sid,
        "results_link": f"https://splunk.example.com:8000/app/search/@go?sid={sid}",
        "search_name": "Checkout 502s in the last 5 minutes",
        "owner": "admin",
        "app": "search",
    }


def _graylog(key: str, at: str, count: float) -> dict[str, Any]:
    """Graylog's HTTP Notification of an aggregation event grouped by `source`."""
    event = copy.deepcopy(_sample("graylog/event.json"))
    event["event"] |= {
        "id": f"01HGZ8Q5J7K2M4N6P8R0S2T4{key[-2:].upper()}",
        "key": key,
        "key_tuple": [key],
        "group_by_fields": {"source": key},
        "timestamp": at,
        "message": f"Failed SSH logins: count()={count}",
    }
    return event


#: Graylog's "Execute Test Notification": NotificationTestData's fixed definition and texts.
GRAYLOG_TEST = {
    "event_definition_id": "NotificationTestId",
    "event_definition_type": "test-dummy-v1",
    "event_definition_title": "Event Definition Test Title",
    "event_definition_description": "Event Definition Test Description",
    "job_definition_id": "<unknown>",
    "job_trigger_id": "<unknown>",
    "event": {
        "id": "TEST_NOTIFICATION_ID",
        "event_definition_type": "notification-test-v1",
        "event_definition_id": "EventDefinitionTestId",
        "origin_context": "urn:graylog:message:es:testIndex_42:b5e53442-12bb-4374-90ed-0deadbeefbaz",
        "timestamp": "2026-12-05T11:00:00.000Z",
        "timestamp_processing": "2026-12-05T11:00:00.000Z",
        "message": "Notification test message triggered from user <admin>",
        "source": "000000000000000000000001",
        "key_tuple": ["testkey"],
        "key": "testkey",
        "priority": 2,
        "alert": True,
        "fields": {"field1": "value1", "field2": "value2"},
        "group_by_fields": {},
    },
    "backlog": [],
}


def _kapacitor(level: str, previous: str, at: str, idle: float) -> dict[str, Any]:
    """A TICKscript's `.post()` alert of a stream grouped by host and by `team`."""
    return {
        "id": "cpu_alert:host=db-2,team=data", "message": f"cpu_alert:host=db-2 is {level}",
        "details": f"usage_idle {idle}", "time": at, "duration": 180000000000, "level": level,
        "data": {"series": [{"name": "cpu", "tags": {"host": "db-2", "team": "data"},
                             "columns": ["time", "usage_idle"], "values": [[at, idle]]}]},
        "previousLevel": previous, "recoverable": True,
    }  # fmt: skip


#: `kapacitor service-tests httppost`: the JSON of `alert.Event{}.AlertData()`, an empty alert
#: whose zero levels encode as OK (services/httppost/service.go, Test).
KAPACITOR_TEST = {
    "id": "", "message": "", "details": "", "time": "0001-01-01T00:00:00Z", "duration": 0,
    "level": "OK", "data": {"series": None}, "previousLevel": "OK", "recoverable": False,
}  # fmt: skip


# --- Zabbix, by its webhook media type templated as a generic alert ----------------------------


def _zabbix(subject: str, status: str | None, severity: str = "High") -> dict[str, Any]:
    """A Zabbix webhook media type's body: `{ALERT.SUBJECT}` as the title, `{EVENT.STATUS}`,
    `{EVENT.SEVERITY}` and the problem's `{EVENT.ID}`, which its recovery and updates keep."""
    body: dict[str, Any] = {
        "title": subject, "dedup_key": "zabbix-event-3455", "host": "db-1",
        "severity": severity, "priority": severity,
        "description": "Free disk space is less than 10% on volume /",
    }  # fmt: skip
    return body | ({"status": status} if status else {})


def _kibana(status: str, date: str) -> dict[str, Any]:
    """A Kibana Elasticsearch-query rule's Webhook connector body, one action on "Query
    matched" sending `firing` and one on "Recovered" sending `resolved`, per alert."""
    return {
        "title": "Checkout 5xx over 50 in 5m", "status": status,
        "dedup_key": "kibana-9f1c2b7e-query matched", "timestamp": date,
        "description": "Document count is 73 in the last 5m in logs-checkout-*",
        "url": "https://kibana.example.com/app/management/insightsAndAlerting/triggersActions/rule/9f1c2b7e",
        "team": "payments", "priority": "P1",
    }  # fmt: skip


# --- uptime checkers ----------------------------------------------------------------------------


def _kuma(status: int, minute: int, *, form: bool = False) -> dict[str, Any]:
    """Uptime Kuma's webhook of monitor 29 at 09:`minute`; `form`: its "form-data" body."""
    body = copy.deepcopy(_sample("uptimekuma/json-down.json"))
    body["heartbeat"] |= {"status": status, "time": f"2026-11-23 09:{minute:02d}:35.527"}
    body["msg"] = f"[Shop] [{'🔴 Down' if status == 0 else '✅ Up'}] {body['heartbeat']['msg']}"
    return {"data": json.dumps(body)} if form else body


def _uptimerobot(alert_type: str, at: str, details: str) -> dict[str, Any]:
    """UptimeRobot's query-string webhook, read as its parameters (every value text)."""
    names = {"1": "Down", "2": "Up"}
    return {
        "monitorID": "797745302", "monitorURL": "https://shop.example.com/",
        "monitorFriendlyName": "Shop", "alertType": alert_type,
        "alertTypeFriendlyName": names[alert_type], "alertDetails": details,
        "alertDuration": "" if alert_type == "1" else "300", "alertDateTime": at,
    }  # fmt: skip


def _pingdom(check_type: str, previous: str, current: str, at: int) -> dict[str, Any]:
    """Pingdom's state change webhook, as its docs show it (both of its samples, the HTTP
    check's and the transaction check's, name check 12345)."""
    return {
        "check_id": 12345, "check_name": f"Shop {check_type.lower()} check",
        "check_type": check_type,
        "check_params": {"full_url": "https://shop.example.com/cart", "hostname": "shop.example.com"},
        "tags": ["shop"], "previous_state": previous, "current_state": current,
        "importance_level": "HIGH", "state_changed_timestamp": at,
        "description": "Step 3: element #pay not found", "long_description": "Timeout",
    }  # fmt: skip


def _honeycomb(status: str, *, test: bool = False) -> dict[str, Any]:
    """A Honeycomb trigger that alerts on every run while true (`on_true`)."""
    groups = [{"Group": {"service.name": "api"}, "Result": 2500}] if status == "TRIGGERED" else []
    return {
        "version": "v0.1.0", "id": "2LcsAbDxPzz", "name": "api p99 latency over 2s",
        "trigger_description": "p99(duration_ms) > 2000", "alert_type": "on_true",
        "trigger_url": "https://ui.honeycomb.io/acme/environments/prod/triggers/2LcsAbDxPzz",
        "status": status, "summary": f"{status.title()}: api p99 latency over 2s",
        "description": "Currently greater than threshold value (2000) for service.name:api",
        "operator": "greater than", "threshold": 2000,
        "result_url": "https://ui.honeycomb.io/acme/result/abc", "result_groups": groups,
        "result_groups_triggered": groups, "is_test": test,
    }  # fmt: skip


def _statuspage(status: str, updated: str) -> dict[str, Any]:
    """The vendor page's incident as it moves through its statuses."""
    body = copy.deepcopy(_sample("statuspage/incident-identified.json"))
    body["incident"] |= {"status": status, "updated_at": updated}
    return body


def _component(new: str, old: str, at: str) -> dict[str, Any]:
    body = copy.deepcopy(_sample("statuspage/component-major-outage.json"))
    body["component"]["status"] = new
    body["component_update"] |= {"new_status": new, "old_status": old, "created_at": at}
    return body


def _freshping(state: str, at: str) -> dict[str, Any]:
    body = copy.deepcopy(_sample("freshping/unreachable.json"))
    body["webhook_event_data"] |= {"check_state_name": state, "request_start_time": at}
    body["webhook_event_created_on"] = at
    return body


def _betterstack(event: str) -> dict[str, Any]:
    return _sample("betterstack/incident-resolved.json") | {"event": event}


def _librato(trigger_time: int, *, clear: str | None = None) -> dict[str, Any]:
    if clear:
        return _sample("librato/cleared.json") | {"trigger_time": trigger_time, "clear": clear}
    return _sample("librato/triggered.json") | {"trigger_time": trigger_time}


def _threshold(state: str, at: str, value: float) -> dict[str, Any]:
    return _sample("threshold/triggered.json") | {
        "state": state,
        "evaluated_at": at,
        "current_value": value,
    }


# --- Google Cloud Monitoring and Azure Monitor --------------------------------------------------


def _gcp(state: str, ended: int | None = None) -> dict[str, Any]:
    """A metric threshold policy's incident (version 1.2) on a GKE node, as Google's docs
    show it, with the policy's `team` user label."""
    incident = {
        "incident_id": "0.opqiw61fsv7p", "scoping_project_id": "shop-prod",
        "scoping_project_number": 12345,
        "url": "https://console.cloud.google.com/monitoring/alerting/incidents/0.opqiw61fsv7p",
        "started_at": 1795424400, "ended_at": ended, "state": state, "resource_id": "11223344",
        "resource_name": "shop-prod gke-pool-1-e2df4cbd-dgp3",
        "resource_display_name": "gke-pool-1-e2df4cbd-dgp3",
        "resource_type_display_name": "VM Instance",
        "resource": {"type": "gce_instance", "labels": {"instance_id": "11223344"}},
        "metric": {"type": "compute.googleapis.com/instance/cpu/utilization",
                   "displayName": "CPU utilization"},
        "policy_name": "Node CPU", "policy_user_labels": {"team": "platform"},
        "documentation": {"content": "Drain the node", "mime_type": "text/markdown"},
        "condition_name": "VM Instance - CPU utilization", "threshold_value": "0.9",
        "observed_value": "0.97", "severity": "Error",
        "summary": "CPU utilization for gke-pool-1-e2df4cbd-dgp3 is above the threshold.",
    }  # fmt: skip
    return {"version": "1.2", "incident": incident}


#: The webhook channel's "Send test notification", as Google's docs show it.
GCP_TEST = {
    "version": "test",
    "incident": {
        "incident_id": "12345", "scoping_project_id": "12345", "url": "http://www.example.com",
        "started_at": 0, "ended_at": 0, "state": "OPEN", "summary": "Test Incident",
        "policy_name": "projects/12345/alertPolicies/12345", "condition_name": "Example condition",
        "resource_name": "projects/12345/monitoredResources/12345", "documentation": "Test",
    },
}  # fmt: skip

_SUBSCRIPTION = "/subscriptions/aaaaaaaa-1111-2222-3333-444444444444"


def _azure_metric(condition: str, *, severity: str = "Sev0", **times: str) -> dict[str, Any]:
    """A dynamic-threshold metric alert on a VM, in the common alert schema."""
    essentials = {
        "alertId": f"{_SUBSCRIPTION}/providers/Microsoft.AlertsManagement/alerts/b9569717",
        "alertRule": "vm CPU anomaly", "severity": severity, "signalType": "Metric",
        "monitorCondition": condition, "monitoringService": "Platform",
        "alertTargetIDs": [f"{_SUBSCRIPTION}/resourcegroups/shop/providers/"
                           "microsoft.compute/virtualmachines/shop-vm-1"],
        "configurationItems": ["shop-vm-1"], "originAlertId": "3f2d4487_shop_vm-cpu",
        "firedDateTime": "2026-11-23T09:00:00.000Z", "description": "CPU out of its band",
        "essentialsVersion": "1.0", "alertContextVersion": "1.0",
    } | times  # fmt: skip
    context = {
        "properties": None, "conditionType": "DynamicThresholdCriteria",
        "condition": {"windowSize": "PT5M", "allOf": [{
            "alertSensitivity": "Medium", "metricName": "Percentage CPU",
            "metricNamespace": "Microsoft.Compute/virtualMachines", "operator": "GreaterThan",
            "timeAggregation": "Average", "dimensions": [], "metricValue": 97.5,
            "failingPeriods": {"numberOfEvaluationPeriods": 4, "minFailingPeriodsToAlert": 4},
        }]},
    }  # fmt: skip
    return {
        "schemaId": "azureMonitorCommonAlertSchema",
        "data": {"essentials": essentials, "alertContext": context,
                 "customProperties": {"team": "compute"}},
    }  # fmt: skip


def _azure_activity(correlation: str) -> dict[str, Any]:
    """An activity log alert on a VM's deletion (Administrative): each is its own instance."""
    return {
        "schemaId": "azureMonitorCommonAlertSchema",
        "data": {
            "essentials": {
                "alertId": f"{_SUBSCRIPTION}/providers/Microsoft.AlertsManagement/alerts/{correlation}",
                "alertRule": "VM deleted", "severity": "Sev4", "signalType": "Activity Log",
                "monitorCondition": "Fired", "monitoringService": "Activity Log - Administrative",
                "alertTargetIDs": [f"{_SUBSCRIPTION}/resourcegroups/shop/providers/"
                                   f"microsoft.compute/virtualmachines/{correlation}"],
                "configurationItems": [correlation], "originAlertId": correlation,
                "firedDateTime": "2026-11-23T09:00:00Z", "essentialsVersion": "1.0",
                "alertContextVersion": "1.0",
            },
            "alertContext": {
                "caller": "someone", "channels": "Operation", "correlationId": correlation,
                "eventSource": "Administrative", "eventTimestamp": "2026-11-23T09:00:00Z",
                "level": "Informational", "operationName": "Microsoft.Compute/virtualMachines/delete",
                "status": "Succeeded", "subStatus": "",
            },
            "customProperties": None,
        },
    }  # fmt: skip


def _azure_log_v2(condition: str, computer: str) -> dict[str, Any]:
    """A stateful log search alert (V2) split by Computer: its Fired and Resolved share one
    alert instance."""
    body = copy.deepcopy(_sample("azure/log-stateless-fired.json"))
    essentials = body["data"]["essentials"]
    essentials |= {"monitorCondition": condition, "configurationItems": [computer]}
    essentials["alertId"] = essentials["alertId"][:-1] + computer[-1]
    if condition == "Resolved":
        essentials["resolvedDateTime"] = "2026-11-23T09:30:00Z"
    body["data"]["alertContext"]["condition"]["allOf"][0]["dimensions"] = [
        {"name": "Computer", "value": computer}
    ]
    return body


def _resource_health(status: str, at: str) -> dict[str, Any]:
    body = copy.deepcopy(_sample("azure/resource-health-unavailable.json"))
    body["data"]["essentials"]["alertId"] += f"-{status}"
    properties = body["data"]["alertContext"]["properties"]
    properties["currentHealthStatus"] = status
    body["data"]["alertContext"]["eventTimestamp"] = at
    body["data"]["essentials"]["firedDateTime"] = at
    return body


def _service_health_rca() -> dict[str, Any]:
    """The Service Health event's post-incident review, a new alert instance."""
    body = copy.deepcopy(_sample("azure/service-health-resolved.json"))
    body["data"]["essentials"]["alertId"] += "-rca"
    body["data"]["essentials"]["firedDateTime"] = "2026-11-26T09:00:00Z"
    context = body["data"]["alertContext"]
    context["properties"]["stage"] = "RCA"
    context["eventTimestamp"] = "2026-11-26T09:00:00Z"
    return body


# --- Alertmanager from Loki's ruler, vmalert posting alone --------------------------------------


def _loki_group(status: str) -> dict[str, Any]:
    """Alertmanager's webhook of one alert of Loki's ruler (a LogQL rule: its labels are the
    stream's, its annotations the rule's templates)."""
    ended = "2026-11-23T09:20:00Z" if status == "resolved" else "0001-01-01T00:00:00Z"
    labels = {"alertname": "CheckoutErrorBurst", "namespace": "shop", "app": "checkout",
              "severity": "critical", "team": "payments"}  # fmt: skip
    return {
        "version": "4", "groupKey": '{}:{alertname="CheckoutErrorBurst"}',
        "truncatedAlerts": 0, "status": status, "receiver": "triage",
        "groupLabels": {"alertname": "CheckoutErrorBurst"}, "commonLabels": labels,
        "commonAnnotations": {}, "externalURL": "http://alertmanager:9093",
        "alerts": [{
            "status": status, "labels": labels,
            "annotations": {"summary": "checkout logs 120 errors a minute",
                            "runbook_url": "https://runbooks.example.com/checkout-errors"},
            "startsAt": "2026-11-23T09:00:00Z", "endsAt": ended,
            "generatorURL": "http://loki:3100/graph?g0.expr=sum(rate(%7Bapp%3D%22checkout%22%7D))",
            "fingerprint": "6f2b0cd2ed1b7a6c",
        }],
    }  # fmt: skip


def _vmalert(ends: str | None) -> list[dict[str, Any]]:
    """vmalert's post to Alertmanager's API: the sample alert, resolved once `endsAt` has
    passed."""
    alerts = _sample("prometheus/vmalert-firing.json")
    alerts = json.loads(json.dumps(alerts))
    return [a | {"endsAt": ends} for a in alerts] if ends else alerts


# --- wrapped in Lambda events -------------------------------------------------------------------


def _sqs_record(body: Any, n: int) -> dict[str, Any]:
    """An SQS record of a Lambda event (a function's batch, or a Pipe's)."""
    return {
        "messageId": f"0c2a3f1e-{n:04d}", "receiptHandle": f"AQEB{n}", "body": json.dumps(body),
        "attributes": {"ApproximateReceiveCount": "1", "SentTimestamp": str(1795424400000 + n),
                       "SenderId": "AIDAEXAMPLE", "ApproximateFirstReceiveTimestamp": "1795424400001"},
        "messageAttributes": {}, "md5OfBody": "x", "eventSource": "aws:sqs",
        "eventSourceARN": "arn:aws:sqs:eu-west-1:123456789012:alerts", "awsRegion": "eu-west-1",
    }  # fmt: skip


def _sns_record(envelope: dict[str, Any]) -> dict[str, Any]:
    return {
        "EventSource": "aws:sns",
        "EventVersion": "1.0",
        "EventSubscriptionArn": f"{envelope['TopicArn']}:2bcfbf39",
        "Sns": envelope,
    }


def _on_failure(event: dict[str, Any]) -> dict[str, Any]:
    """An asynchronous invocation's record, as its on-failure destination receives it."""
    return {
        "version": "1.0", "timestamp": "2026-11-23T10:00:00.000Z",
        "requestContext": {"requestId": "e1", "condition": "RetriesExhausted",
                           "functionArn": "arn:aws:lambda:eu-west-1:123456789012:function:fwd",
                           "approximateInvokeCount": 3},
        "requestPayload": event,
        "responseContext": {"statusCode": 200, "executedVersion": "$LATEST",
                            "functionError": "Unhandled"},
        "responsePayload": {"errorMessage": "Task timed out after 3.00 seconds"},
    }  # fmt: skip


@dataclass(frozen=True)
class Life:
    """One alert's messages in order and what the pipeline should decide for each."""

    name: str
    bodies: list[Any]
    expected: list[list[str]]

    def __repr__(self) -> str:
        return self.name


THRESHOLD_FIRED = _threshold("triggered", "2026-11-23T09:45:00Z", 97.2)
THRESHOLD_RESOLVED = _threshold("resolved", "2026-11-23T10:10:00Z", 41.0)

LIVES = [
    Life(
        "newrelic workflow: CREATED, correlated ACTIVATED, ACKNOWLEDGED, priority changed, CLOSED",
        [
            _newrelic("CREATED", "INCIDENT_ADDED", 1795424400000),
            _newrelic("ACTIVATED", "INCIDENT_ADDED", 1795424460000, totalIncidents=2,
                      isCorrelated=True),
            _newrelic("ACKNOWLEDGED", "STATE_CHANGE", 1795424520000),
            _newrelic("ACTIVATED", "PRIORITY_CHANGED", 1795424580000, priority="HIGH"),
            _newrelic("CLOSED", "INCIDENT_CLOSED", 1795425000000),
        ],
        [["open"], ["count"], [], ["count"], ["close"]],
    ),
    Life(
        "splunk scheduled search: three runs that match (Splunk sends no recovery)",
        [_splunk_run(1795424400, 3, "14"), _splunk_run(1795424700, 4, "22"),
         _splunk_run(1795425000, 5, "9")],
        [["open"], ["count"], ["count"]],
    ),
    Life(
        "graylog: web-1 twice, web-2 its own, the test notification",
        [_graylog("web-1", "2026-11-23T09:00:00.000Z", 14.0),
         _graylog("web-1", "2026-11-23T09:05:00.000Z", 31.0),
         _graylog("web-2", "2026-11-23T09:06:00.000Z", 12.0), GRAYLOG_TEST],
        [["open"], ["count"], ["open"], []],
    ),
    Life(
        "kapacitor: WARNING, CRITICAL, OK, WARNING again, the handler's test",
        [_kapacitor("WARNING", "OK", "2026-11-23T09:00:00Z", 12.0),
         _kapacitor("CRITICAL", "WARNING", "2026-11-23T09:02:00Z", 3.1),
         _kapacitor("OK", "CRITICAL", "2026-11-23T09:10:00Z", 64.0),
         _kapacitor("WARNING", "OK", "2026-11-23T09:12:00Z", 11.0), KAPACITOR_TEST],
        # CRITICAL after WARNING raises the open ticket's priority: an update, at once.
        [["open"], ["update"], ["close"], ["reopen"], []],
    ),
    Life(
        "zabbix media type: Problem, Updated problem (acknowledged), Resolved in",
        [_zabbix("Problem: Free disk space is less than 10% on volume /", "PROBLEM"),
         _zabbix("Updated problem in 5m 10s: Free disk space is less than 10% on volume /",
                 None),
         _zabbix("Resolved in 12m 3s: Free disk space is less than 10% on volume /",
                 "RESOLVED")],
        [["open"], [], ["close"]],
    ),
    Life(
        "kibana query rule by its webhook connector: matched, matched again, recovered",
        [_kibana("firing", "2026-11-23T09:00:00.000Z"),
         _kibana("firing", "2026-11-23T09:05:00.000Z"),
         _kibana("resolved", "2026-11-23T09:20:00.000Z")],
        [["open"], ["count"], ["close"]],
    ),
    Life(
        "uptime kuma: down by form-data, resent down as JSON, up, the Test button",
        [_kuma(0, 0, form=True), _kuma(0, 5), _kuma(1, 9),
         {"heartbeat": None, "monitor": None, "msg": "Uptime Kuma Webhook Testing"}],
        [["open"], ["count"], ["close"], []],
    ),
    Life(
        "uptime kuma: a monitor flapping down and up four times",
        [_kuma(status, minute) for minute, status in enumerate([0, 1] * 4)],
        [["open"], ["close"], ["reopen"], ["close"], ["reopen"], ["close"], ["reopen"],
         ["damped"]],
    ),
    Life(
        "uptimerobot by query string: Down, Up, Down again, its test notification",
        [_uptimerobot("1", "1795424400", "Connection Timeout"),
         _uptimerobot("2", "1795424700", "HTTP 200 - OK"),
         _uptimerobot("1", "1795424760", "HTTP 503 - Service Unavailable"),
         _sample("uptimerobot/test-notification.json")],
        [["open"], ["close"], ["reopen"], []],
    ),
    Life(
        "pingdom transaction check: FAILING, still FAILING, SUCCESS",
        [_pingdom("TRANSACTION", "SUCCESS", "FAILING", 1795424400),
         _pingdom("TRANSACTION", "FAILING", "FAILING", 1795424460),
         _pingdom("TRANSACTION", "FAILING", "SUCCESS", 1795424700)],
        [["open"], ["count"], ["close"]],
    ),
    Life(
        "statuspage incident: investigating, identified, monitoring, resolved, postmortem",
        [_statuspage(status, f"2026-12-05T07:{30 + n}:00.000Z") for n, status in
         enumerate(["investigating", "identified", "monitoring", "resolved", "postmortem"])],
        [["open"], ["count"], ["count"], ["close"], ["ignore"]],
    ),
    Life(
        "statuspage component: major outage, partial outage, operational, under maintenance",
        [_component("major_outage", "operational", "2026-12-05T07:59:09.379Z"),
         _component("partial_outage", "major_outage", "2026-12-05T08:05:00.000Z"),
         _component("operational", "partial_outage", "2026-12-05T08:20:00.000Z"),
         _component("under_maintenance", "operational", "2026-12-05T09:00:00.000Z")],
        [["open"], ["count"], ["close"], []],
    ),
    Life(
        "honeycomb on_true trigger: TRIGGERED twice, OK, a test",
        [_honeycomb("TRIGGERED"), _honeycomb("TRIGGERED"), _honeycomb("OK"),
         _honeycomb("TRIGGERED", test=True)],
        [["open"], ["count"], ["close"], []],
    ),
    Life(
        "freshping: Reporting Error, Not Responding, Available, Paused, the test",
        [_freshping("Reporting Error", "2026-11-23T09:00:00+00:00"),
         _freshping("Not Responding", "2026-11-23T09:01:00+00:00"),
         _freshping("Available", "2026-11-23T09:10:00+00:00"),
         _freshping("Paused", "2026-11-23T09:20:00+00:00"), _sample("freshping/test.json")],
        [["open"], ["count"], ["close"], [], []],
    ),
    Life(
        "better stack: started, acknowledged, resolved",
        [_sample("betterstack/incident-started.json"), _betterstack("acknowledged"),
         _betterstack("resolved")],
        [["open"], [], ["close"]],
    ),
    Life(
        "raygun: new error, follow-up, assigned, marked resolved, marked active",
        [_sample("raygun/new-error.json"), _sample("raygun/follow-up.json"),
         _sample("raygun/assigned.json"), _sample("raygun/status-changed.json"),
         _sample("raygun/status-active.json")],
        [["open"], ["count"], [], ["close"], ["reopen"]],
    ),
    Life(
        "librato: triggered, renotified, cleared automatically, the test",
        [_librato(1444177459), _librato(1444177759), _librato(1444178059, clear="auto"),
         _sample("librato/test.json")],
        [["open"], ["count"], ["close"], []],
    ),
    Life(
        "threshold: triggered, triggered higher, acknowledged, resolved, pending",
        [THRESHOLD_FIRED, _threshold("triggered", "2026-11-23T09:50:00Z", 99.1),
         _threshold("acknowledged", "2026-11-23T09:55:00Z", 99.0), THRESHOLD_RESOLVED,
         _threshold("pending", "2026-11-23T10:15:00Z", 91.0)],
        [["open"], ["count"], [], ["close"], []],
    ),
    Life(
        "gcp metric policy: OPEN, acknowledged, CLOSED, the channel's test",
        [_gcp("OPEN"), _gcp("acknowledged"), _gcp("CLOSED", ended=1795425000), GCP_TEST],
        [["open"], [], ["close"], []],
    ),
    Life(
        "azure dynamic-threshold metric alert: Fired, Resolved, the test action group",
        [_azure_metric("Fired"),
         _azure_metric("Resolved", resolvedDateTime="2026-11-23T09:20:00.000Z"),
         _sample("azure/test-action-group-metric.json")],
        [["open"], ["close"], []],
    ),
    Life(
        "azure stateful log search alert split by Computer: two computers fire, one resolves",
        [_azure_log_v2("Fired", "orders-api-1"), _azure_log_v2("Fired", "orders-api-2"),
         _azure_log_v2("Resolved", "orders-api-1")],
        [["open"], ["open"], ["close"]],
    ),
    Life(
        "azure activity log: two VMs deleted are two alerts that only fire",
        [_azure_activity("vm-a"), _azure_activity("vm-b")],
        [["open"], ["open"]],
    ),
    Life(
        "azure service health: Active, an update, Resolved, then its RCA",
        [_sample("azure/service-health-active.json"), _sample("azure/service-health-update.json"),
         _sample("azure/service-health-resolved.json"), _service_health_rca()],
        [["open"], ["count"], ["close"], ["ignore"]],
    ),
    Life(
        "azure resource health: Unavailable, Unknown, Degraded, Available",
        [_resource_health("Unavailable", "2026-11-23T09:00:00Z"),
         _resource_health("Unknown", "2026-11-23T09:05:00Z"),
         _resource_health("Degraded", "2026-11-23T09:10:00Z"),
         _resource_health("Available", "2026-11-23T09:20:00Z")],
        [["open"], [], ["count"], ["close"]],
    ),
    Life(
        "loki ruler through alertmanager: firing, repeated, resolved",
        [_loki_group("firing"), _loki_group("firing"), _loki_group("resolved")],
        [["open"], ["count"], ["close"]],
    ),
    Life(
        "vmalert posting alone: firing, firing, resolved by endsAt",
        [_vmalert(None), _vmalert(None), _vmalert("2026-11-23T09:30:00Z")],
        [["open"], ["count"], ["close"]],
    ),
    Life(
        "lambda sqs batch: a threshold's trigger and resolve in one event",
        [{"Records": [_sqs_record(THRESHOLD_FIRED, 0), _sqs_record(THRESHOLD_RESOLVED, 1)]}],
        [["open", "close"]],
    ),
    Life(
        "lambda sqs batch out of order: the resolve first, the older trigger after it",
        [{"Records": [_sqs_record(THRESHOLD_RESOLVED, 0), _sqs_record(THRESHOLD_FIRED, 1)]}],
        [["record", "ignore"]],
    ),
    Life(
        "lambda: an SNS record's alarm, then its OK by a Pipe's SQS batch",
        [{"Records": [_sns_record(_sample("cloudwatch/sns-alarm.json"))]},
         [_sqs_record(_sample("cloudwatch/sns-ok.json"), 0)]],
        [["open"], ["close"]],
    ),
    Life(
        "lambda on-failure destination: an SNS event's alarm, then the OK by SNS itself",
        [_on_failure({"Records": [_sns_record(_sample("cloudwatch/sns-alarm.json"))]}),
         _sample("cloudwatch/sns-ok.json")],
        [["open"], ["close"]],
    ),
]  # fmt: skip


@pytest.mark.parametrize("lives", dealt(LIVES, 3))
async def test_each_sources_alert_is_one_incident_through_its_states(lives: list[Life]) -> None:
    """For every source, one alert's messages through its states open one incident, count its
    repeats, change nothing for acknowledgements, maintenance and tests, close it with the
    resolve and reopen it when it fires again: a ticket per incident, none lost or invented."""
    decided = {life.name: await _lifecycle(life.bodies) for life in lives}
    assert_each(lives, lambda life: (decided[life.name][0], life.expected), name="life")


#: Sources delivered out of order (SQS is not FIFO): the resolve first, its older trigger after.
OUT_OF_ORDER = {
    "newrelic": (_newrelic("CREATED", "INCIDENT_ADDED", 1795424400000),
                 _newrelic("CLOSED", "INCIDENT_CLOSED", 1795425000000)),
    "kapacitor": (_kapacitor("CRITICAL", "OK", "2026-11-23T09:02:00Z", 3.1),
                  _kapacitor("OK", "CRITICAL", "2026-11-23T09:10:00Z", 64.0)),
    "uptime kuma": (_kuma(0, 0), _kuma(1, 9)),
    "uptimerobot": (_uptimerobot("1", "1795424400", "Timeout"),
                    _uptimerobot("2", "1795424700", "OK")),
    "pingdom": (_pingdom("HTTP", "UP", "DOWN", 1795424400),
                _pingdom("HTTP", "DOWN", "UP", 1795424700)),
    "statuspage": (_statuspage("investigating", "2026-12-05T07:30:00.000Z"),
                   _statuspage("resolved", "2026-12-05T08:07:20.837Z")),
    "freshping": (_freshping("Not Responding", "2026-11-23T09:01:00+00:00"),
                  _freshping("Available", "2026-11-23T09:10:00+00:00")),
    "better stack": (_sample("betterstack/incident-started.json"), _betterstack("resolved")),
    "librato": (_librato(1444177459), _librato(1444178059, clear="normal")),
    "gcp": (_gcp("OPEN"), _gcp("CLOSED", ended=1795425000)),
    "azure metric": (_azure_metric("Fired"),
                     _azure_metric("Resolved", resolvedDateTime="2026-11-23T09:20:00.000Z")),
    "azure resource health": (_resource_health("Unavailable", "2026-11-23T09:00:00Z"),
                              _resource_health("Available", "2026-11-23T09:20:00Z")),
    "threshold": (THRESHOLD_FIRED, THRESHOLD_RESOLVED),
}  # fmt: skip


async def test_a_resolve_delivered_before_its_trigger_opens_no_ticket() -> None:
    """A tool's resolve that arrives before its older trigger is remembered, and the trigger
    then opens nothing: the alert is over, so no ticket is left open for it."""
    decided = {
        name: await _lifecycle([resolved, fired])
        for name, (fired, resolved) in OUT_OF_ORDER.items()
    }
    assert_each(
        list(OUT_OF_ORDER),
        lambda name: (decided[name], ([["record"], ["ignore"]], [])),
        name="source",
    )


#: A firing alert of each source and the title and priority its ticket should carry.
TITLES = {
    "newrelic": (_newrelic("ACTIVATED", "STATE_CHANGE", 1795424400000),
                 "Memory Used % > 90 for at least 2 minutes on 'checkout'", Priority.CRITICAL),
    "gcp severity Error": (_gcp("OPEN"), "Node CPU on gke-pool-1-e2df4cbd-dgp3", Priority.HIGH),
    "azure Sev0": (_azure_metric("Fired"), "vm CPU anomaly on shop-vm-1", Priority.CRITICAL),
    "azure Sev2": (_azure_metric("Fired", severity="Sev2"), "vm CPU anomaly on shop-vm-1",
                   Priority.MEDIUM),
    "pingdom HIGH": (_pingdom("HTTP", "UP", "DOWN", 1795424400), "Shop http check",
                     Priority.HIGH),
    "zabbix Disaster": (_zabbix("Problem: Free disk space is less than 10% on volume /",
                                "PROBLEM", "Disaster"),
                        "Free disk space is less than 10% on volume /", Priority.CRITICAL),
    "zabbix Average": (_zabbix("Problem: Free disk space is less than 10% on volume /",
                               "PROBLEM", "Average"),
                       "Free disk space is less than 10% on volume /", Priority.MEDIUM),
    "threshold P0": (THRESHOLD_FIRED | {"priority": "P0"},
                     "CPU above 90% on edge-router-17.fra1.example.net", Priority.CRITICAL),
    "kibana P1": (_kibana("firing", "2026-11-23T09:00:00.000Z"), "Checkout 5xx over 50 in 5m",
                  Priority.HIGH),
    "uptime kuma": (_kuma(0, 0, form=True), "Shop", None),
    "honeycomb": (_honeycomb("TRIGGERED"), "api p99 latency over 2s", None),
    "splunk": (_splunk_run(1795424400, 3, "14"), "Checkout 502s in the last 5 minutes", None),
}  # fmt: skip


def test_each_sources_ticket_is_titled_and_prioritised_as_the_tool_says() -> None:
    """A firing alert of each source is one alert titled by what is wrong (without the state
    the tool prefixes) with the priority the tool states, and none where it states none."""

    def titled(name: str) -> tuple[tuple[str, Priority | None], tuple[str, Priority | None]]:
        body, title, priority = TITLES[name]
        [alert] = normalize_body(json.dumps(body)).alerts
        return (alert.title, alert.priority), (title, priority)

    assert_each(list(TITLES), titled, name="source")


# --- bugs found -------------------------------------------------------------------------------


async def test_a_pingdom_uptime_check_and_a_transaction_check_of_one_id_are_two_incidents() -> None:
    """An HTTP check and a transaction check that share a number are two incidents: each
    opens its own ticket, and the HTTP check's recovery closes only its own."""
    actions, _ = await _lifecycle(
        [
            _pingdom("HTTP", "UP", "DOWN", 1795424400),
            _pingdom("TRANSACTION", "SUCCESS", "FAILING", 1795424460),
            _pingdom("HTTP", "DOWN", "UP", 1795424700),
        ]
    )
    assert actions == [["open"], ["open"], ["close"]]


#: Zabbix's severities in order, and the priorities a reader expects of the four it ranks.
ZABBIX_SEVERITIES = {
    "Information": {Priority.LOW},
    "Warning": {Priority.LOW, Priority.MEDIUM},
    "Average": {Priority.MEDIUM},
    "High": {Priority.HIGH},
    "Disaster": {Priority.CRITICAL},
}


def test_every_zabbix_severity_is_read_as_a_priority_in_its_order() -> None:
    """A Zabbix problem's `{EVENT.SEVERITY}` as its priority, each of the five Zabbix ranks,
    gives a priority in Zabbix's order: Warning between Information and Average."""

    def ranked(severity: str) -> tuple[Priority | None, Priority | set[Priority] | None]:
        body = _zabbix("Problem: Free disk space low", "PROBLEM", severity)
        [alert] = normalize_body(json.dumps(body)).alerts
        allowed = ZABBIX_SEVERITIES[severity]
        # Equal when the priority is one of those allowed; else the allowed set is shown.
        return alert.priority, alert.priority if alert.priority in allowed else allowed

    assert_each(list(ZABBIX_SEVERITIES), ranked, name="severity")


def _azure_instance(instance: str, condition: str, fired: str, **times: str) -> dict[str, Any]:
    """The dynamic-threshold metric alert as alert instance `instance`: Azure makes a new
    instance (a new `alertId`) each time a stateless rule notifies, and each time a stateful
    rule fires again after it resolved."""
    body = _azure_metric(condition, firedDateTime=fired, **times)
    essentials = body["data"]["essentials"]
    essentials["alertId"] = essentials["alertId"].rsplit("/", 1)[0] + f"/{instance}"
    return body


#: A metric alert rule's notices as Azure sends them ("Alerts and state", Azure Monitor's
#: alerts overview): a stateless rule (autoMitigate off) notifies again every few minutes while
#: its condition holds, each a new alert instance whose condition is always Fired; a stateful
#: rule's Fired and Resolved share an instance, and its next firing is a new one.
AZURE_METRIC_INSTANCES = {
    "stateless rule notifying twice while CPU stays high": (
        [_azure_instance("7f1c0a11", "Fired", "2026-11-23T09:00:00Z"),
         _azure_instance("8a2d1b22", "Fired", "2026-11-23T09:06:00Z")],
        [["open"], ["count"]],
    ),
    "stateful rule firing again ten minutes after it resolved": (
        [_azure_instance("7f1c0a11", "Fired", "2026-11-23T09:00:00Z"),
         _azure_instance("7f1c0a11", "Resolved", "2026-11-23T09:00:00Z",
                         resolvedDateTime="2026-11-23T09:20:00Z"),
         _azure_instance("9b3e2c33", "Fired", "2026-11-23T09:30:00Z")],
        [["open"], ["close"], ["reopen"]],
    ),
}  # fmt: skip


async def test_an_azure_metric_rules_new_alert_instances_are_one_incident() -> None:
    """A metric alert rule's notices about one resource are one incident: a stateless rule's
    repeats are counted on its ticket, and a stateful rule that fires again soon after it
    resolved reopens the ticket it closed."""
    decided = {
        name: (await _lifecycle(bodies))[0] for name, (bodies, _) in AZURE_METRIC_INSTANCES.items()
    }
    assert_each(
        list(AZURE_METRIC_INSTANCES),
        lambda name: (decided[name], AZURE_METRIC_INSTANCES[name][1]),
        name="rule",
    )


def _betterstack_outage(event: str, incident: int, minute: int) -> dict[str, Any]:
    """Better Stack's incident `incident` of monitor 1123, which went down at 09:`minute`:
    every outage of a monitor is a new incident with an id of its own."""
    body = copy.deepcopy(_sample("betterstack/incident-resolved.json"))
    body["event"] = event
    body["data"]["id"] = str(incident)
    body["data"]["attributes"] |= {
        "started_at": f"2026-11-23T09:{minute:02d}:00.000Z",
        "acknowledged_at": None,
        "resolved_at": f"2026-11-23T09:{minute + 2:02d}:00.000Z" if event == "resolved" else None,
    }
    return body


def _gcp_uptime(
    state: str, incident: str, started: int, ended: int | None = None
) -> dict[str, Any]:
    """Cloud Monitoring's uptime check policy in incident `incident`: each time the check fails
    again after its incident closed, Google opens a new incident."""
    body = copy.deepcopy(_sample("gcp/uptime-open.json"))
    body["incident"] |= {"incident_id": incident, "state": state, "started_at": started,
                         "ended_at": ended}  # fmt: skip
    return body


#: A check that goes down, up and down again within minutes, as each tool reports it.
FLAPPING_MONITORS = {
    "better stack monitor": (
        [_betterstack_outage("started", 318462, 0), _betterstack_outage("resolved", 318462, 0),
         _betterstack_outage("started", 318470, 5), _betterstack_outage("resolved", 318470, 5),
         _betterstack_outage("started", 318480, 10)],
        [["open"], ["close"], ["reopen"], ["close"], ["reopen"]],
    ),
    "gcp uptime check": (
        [_gcp_uptime("open", "0.ligwyr056k2l", 1795424400),
         _gcp_uptime("closed", "0.ligwyr056k2l", 1795424400, 1795424700),
         _gcp_uptime("open", "0.mzhx0s167l3m", 1795425000)],
        [["open"], ["close"], ["reopen"]],
    ),
}  # fmt: skip


async def test_a_flapping_monitors_outages_reopen_one_ticket() -> None:
    """A Better Stack monitor or a Cloud Monitoring uptime check that goes down again minutes
    after it recovered reopens the ticket it closed, as every other uptime checker's does."""
    decided = {
        name: (await _lifecycle(bodies))[0] for name, (bodies, _) in FLAPPING_MONITORS.items()
    }
    assert_each(
        list(FLAPPING_MONITORS),
        lambda name: (decided[name], FLAPPING_MONITORS[name][1]),
        name="monitor",
    )


async def test_a_lambda_batchs_readable_records_are_ticketed_beside_an_unreadable_one() -> None:
    """A function's SQS batch holding a threshold event and a script's alert with a status
    no tool sends opens the threshold event's ticket, as a group with one bad alert does."""
    garbled = {"title": "Disk full on db-1", "status": "weird-state"}
    batch = {"Records": [_sqs_record(THRESHOLD_FIRED, 0), _sqs_record(garbled, 1)]}
    assert await _lifecycle([batch]) == ([["open"]], ["open"])


#: Graylog's event priorities as its web interface names them today
#: (graylog2-web-interface/src/logic/alerts/EventDefinitionPriorityEnum.ts): 0 to 4.
GRAYLOG_PRIORITIES = {0: "info", 1: "low", 2: "medium", 3: "high", 4: "critical"}


def test_every_graylog_event_priority_is_its_severity() -> None:
    """A Graylog event of each priority Graylog offers, Info to Critical, carries it as its
    severity (2 is `normal` or, as Graylog now names it, `medium`)."""

    def severity(priority: int) -> tuple[str | None, str]:
        event = _graylog("web-1", "2026-11-23T09:00:00.000Z", 14.0)
        event["event"]["priority"] = priority
        [alert] = normalize_body(json.dumps(event)).alerts
        named = GRAYLOG_PRIORITIES[priority]
        got = "medium" if alert.severity == "normal" else alert.severity
        return got, named

    assert_each(list(GRAYLOG_PRIORITIES), severity, name="priority")


def _newrelic_legacy(state: str, at: int) -> dict[str, Any]:
    """A New Relic alert policy's legacy webhook channel (its documented default payload,
    before workflows): the incident's `current_state` open, acknowledged or closed."""
    return {
        "account_id": 1234567, "account_name": "Acme", "condition_id": 987654,
        "condition_name": "Apdex below 0.8", "current_state": state,
        "details": "Apdex < 0.80 for at least 10 minutes on 'Checkout'", "event_type": "INCIDENT",
        "incident_acknowledge_url": "https://alerts.newrelic.com/accounts/1234567/incidents/5678/acknowledge",
        "incident_api_url": "https://api.newrelic.com/v2/alerts_incidents/5678",
        "incident_id": 5678, "incident_url": "https://alerts.newrelic.com/accounts/1234567/incidents/5678",
        "owner": "", "policy_name": "Checkout APM", "policy_url": "https://alerts.newrelic.com/accounts/1234567/policies/456",
        "runbook_url": "https://runbooks.example.com/apdex", "severity": "CRITICAL",
        "targets": [{"id": "23456", "name": "Checkout", "link": "https://rpm.newrelic.com/accounts/1234567/applications/23456",
                     "labels": {"Team": "payments"}, "product": "APM", "type": "Application"}],
        "timestamp": at,
    }  # fmt: skip


async def test_a_legacy_new_relic_channels_incident_is_one_ticket_opened_and_closed() -> None:
    """A New Relic legacy channel's incident, open, acknowledged then closed, opens one
    ticket, changes nothing when acknowledged and closes it."""
    actions, _ = await _lifecycle(
        [
            _newrelic_legacy("open", 1795424400000),
            _newrelic_legacy("acknowledged", 1795424460000),
            _newrelic_legacy("closed", 1795425000000),
        ]
    )
    assert actions == [["open"], [], ["close"]]
