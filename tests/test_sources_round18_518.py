"""Sources, round 18 (helper 518): alerts from tools and versions not seen before. Each body
must be ticketed right (title, state, a resolve closing its firing), skipped with a reason, or
refused clearly: never a wrong incident."""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from factories import T0
from recording_pipeline import Sink, pipeline_into
from triage.incidents import Action
from triage.models import Alert, Status
from triage.normalize import normalize_body
from triage.normalize.common import Normalized
from triage.sqs.inbox import Message

PAYLOADS = Path(__file__).parent / "payloads"


def _read(body: dict[str, Any]) -> Normalized:
    """What `body` becomes."""
    return normalize_body(json.dumps(body))


def _only(body: dict[str, Any]) -> Alert:
    """The one alert `body` becomes."""
    [alert] = _read(body).alerts
    return alert


# --- CloudWatch PromQL alarms: one incident per contributor, not N+1 ---------------------------


#: A PromQL alarm (https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/alarm-promql.html;
#: PutMetricAlarm's `EvaluationCriteria.PromQLCriteria`, API_AlarmPromQLCriteria: `Query`,
#: `PendingPeriod`, `RecoveryPeriod`) tracks each series its query returns as a contributor,
#: as a Metrics Insights GROUP BY alarm does; the alarm's own message carries no metric.
_PROMQL = {"Query": "my_gauge_metric < 20", "PendingPeriod": 120, "RecoveryPeriod": 300}


def _promql_sns(state: str, **fields: Any) -> dict[str, Any]:
    """The SNS notification of a PromQL alarm, from the Metrics Insights contributor sample:
    its trigger holds the PromQL criteria, not a query of metrics."""
    envelope = json.loads((PAYLOADS / "cloudwatch/sns-contributor.json").read_text())
    message = json.loads(envelope["Message"])
    message.update(AlarmName="MyPromQLAlarm", NewStateValue=state)
    message["AlarmArn"] = message["AlarmArn"].replace("DynamoDBInsightsAlarm", "MyPromQLAlarm")
    message["Trigger"] = {"EvaluationCriteria": {"PromQLCriteria": _PROMQL}}
    del message["AlarmContributorId"], message["AlarmContributorAttributes"]
    message.update(fields)
    return {**envelope, "Message": json.dumps(message)}


def _promql_contributor(state: str, instance: str) -> dict[str, Any]:
    """A PromQL alarm's notification for the series of `instance`."""
    return _promql_sns(
        state,
        AlarmContributorId=f"id-{instance}",
        AlarmContributorAttributes={"instance": instance},
    )


def test_a_promql_alarm_s_own_firing_opens_no_ticket_beside_its_contributors() -> None:
    """Two breaching series of a PromQL alarm make two incidents: the alarm's own ALARM, sent
    to the same actions, is skipped as a Metrics Insights GROUP BY alarm's is."""
    bodies = [
        _promql_sns("ALARM"),
        _promql_contributor("ALARM", "a"),
        _promql_contributor("ALARM", "b"),
    ]
    results = [_read(body) for body in bodies]
    assert [s.reason for s in results[0].skipped] == ["per_contributor"]
    alerts = [a for r in results for a in r.alerts]
    assert sorted(a.identity["contributor"] for a in alerts) == ["instance=a", "instance=b"]


@pytest.mark.parametrize(
    "place",
    ["top level", "trigger query"],
)
def test_a_promql_alarm_is_known_wherever_its_query_is_sent(place: str) -> None:
    """The criteria at the message's top level, or the query alone as the trigger's `Query`,
    say a PromQL alarm too: its own ALARM is skipped."""
    body = _promql_sns("ALARM")
    message = json.loads(body["Message"])
    if place == "top level":
        message["EvaluationCriteria"] = message.pop("Trigger")["EvaluationCriteria"]
    else:
        message["Trigger"] = {"Query": _PROMQL["Query"]}
    result = _read({**body, "Message": json.dumps(message)})
    assert [s.reason for s in result.skipped] == ["per_contributor"]


def test_a_promql_alarm_s_ok_resolves_the_alarm_and_a_contributor_names_its_query() -> None:
    """The alarm's own OK still resolves its own fingerprint; a contributor's alert shows the
    query it breached."""
    resolved = _only(_promql_sns("OK"))
    assert resolved.status is Status.RESOLVED
    assert "contributor" not in resolved.identity
    fired = _only(_promql_contributor("ALARM", "a"))
    assert fired.labels["query"] == "my_gauge_metric < 20"
    assert fired.labels["alarm_type"] == "promql"


def test_a_promql_event_through_a_lambda_action_skips_the_alarm_s_own_firing() -> None:
    """A Lambda action's payload of a PromQL alarm (`configuration.evaluationCriteria`) is
    per time series too: its own ALARM is skipped."""
    event = json.loads((PAYLOADS / "cloudwatch/eventbridge-contributor.json").read_text())
    detail = event["detail"]
    del detail["alarmContributor"]
    detail["configuration"] = {"evaluationCriteria": {"promQLCriteria": {"query": "up == 0"}}}
    detail["state"]["value"] = "ALARM"
    body = {
        "source": "aws.cloudwatch",
        "alarmArn": event["resources"][0],
        "accountId": event["account"],
        "time": event["time"],
        "region": event["region"],
        "alarmData": detail,
    }
    assert [s.reason for s in _read(body).skipped] == ["per_contributor"]


# --- Splunk On-Call (VictorOps) REST endpoint bodies ------------------------------------------


#: The REST endpoint integration's body (Splunk On-Call "REST Endpoint Integration Guide",
#: help.victorops.com/knowledge-base/rest-endpoint-integration-guide): `message_type`
#: CRITICAL, WARNING, ACKNOWLEDGEMENT, INFO or RECOVERY; `entity_id` identifies the incident,
#: `entity_display_name` its summary, `state_message` its details, `state_start_time` epoch s.
def _oncall(kind: str, **fields: Any) -> dict[str, Any]:
    """A Splunk On-Call REST body of `message_type` `kind`."""
    return {
        "message_type": kind,
        "entity_id": "disk.space/db-1",
        "entity_display_name": "Disk space low on db-1",
        "state_message": "/var at 97%",
        "state_start_time": 1796205600,
        "monitoring_tool": "collectd",
        **fields,
    }


def test_splunk_on_call_recovery_resolves_its_critical() -> None:
    """A RECOVERY resolves the incident its CRITICAL opened (keyed by `entity_id`), titled by
    its display name; it used to be refused (no title) or, with a title, to fire again."""
    fired = _only(_oncall("CRITICAL"))
    cleared = _only(_oncall("RECOVERY", entity_display_name="Disk space OK on db-1"))
    assert (fired.status, cleared.status) == (Status.FIRING, Status.RESOLVED)
    assert fired.title == "Disk space low on db-1"
    assert fired.severity == "critical"
    assert cleared.fingerprint == fired.fingerprint


def test_splunk_on_call_recovery_with_a_title_still_resolves() -> None:
    """A relay that adds a `title` keeps the `message_type` as the state: RECOVERY resolves."""
    fired = _only(_oncall("CRITICAL", title="disk full"))
    cleared = _only(_oncall("RECOVERY", title="disk full"))
    assert cleared.status is Status.RESOLVED
    assert cleared.fingerprint == fired.fingerprint


@pytest.mark.parametrize("kind", ["ACKNOWLEDGEMENT", "INFO", "info"])
def test_splunk_on_call_acknowledgement_and_info_change_no_ticket(kind: str) -> None:
    """An ACKNOWLEDGEMENT, and an INFO (a timeline note that opens no incident), are skipped."""
    result = _read(_oncall(kind))
    assert result.alerts == ()
    assert len(result.skipped) == 1


def test_splunk_on_call_warning_fires_below_its_critical() -> None:
    """A WARNING fires ranked warning; the body's time is its `state_start_time`."""
    alert = _only(_oncall("WARNING"))
    assert (alert.status, alert.severity) == (Status.FIRING, "warning")
    assert alert.occurred_at.isoformat() == "2026-12-02T10:00:00+00:00"


def test_a_script_s_own_message_type_without_an_entity_id_reads_as_before() -> None:
    """A generic alert's `message_type` without Splunk On-Call's `entity_id` says nothing."""
    alert = _only({"title": "backup done", "message_type": "RECOVERY"})
    assert alert.status is Status.FIRING
    assert alert.identity == {"source": "generic", "title": "backup done"}


# --- Kibana: a grouped Elasticsearch query rule's recovery ------------------------------------


#: Kibana's es_query action context (x-pack stack_alerts, action_context.ts): the title is
#: "rule '{name}' matched query for group {group}" firing and "rule '{name}' recovered" on
#: recovery (no group); `context.conditions` names the group both times: 'Number of matching
#: documents for group "{group}" is …'.
def _kibana(group: str, recovered: bool) -> dict[str, Any]:
    """A Webhook connector body: {{context.title}}, {{alert.actionGroupName}},
    {{context.conditions}}."""
    verb = "recovered" if recovered else f"matched query for group {group}"
    negation = "NOT " if recovered else ""
    return {
        "title": f"rule 'errors by host' {verb}",
        "status": "Recovered" if recovered else "Query matched",
        "conditions": f'Number of matching documents for group "{group}" is {negation}greater than 5',
    }


def test_a_grouped_kibana_es_query_recovery_closes_its_own_group() -> None:
    """host-1's recovery closes host-1's incident, not host-2's, nor a rule-wide one."""
    one, two = _only(_kibana("host-1", False)), _only(_kibana("host-2", False))
    cleared = _only(_kibana("host-1", True))
    assert cleared.status is Status.RESOLVED
    assert cleared.fingerprint == one.fingerprint != two.fingerprint


def test_an_ungrouped_kibana_es_query_recovery_keys_as_before() -> None:
    """Without a group in its conditions, the recovery keys as its firing title as before."""
    fired = _only({"title": "rule 'errors' matched query", "status": "Query matched"})
    cleared = _only({"title": "rule 'errors' recovered", "status": "Recovered"})
    assert cleared.fingerprint == fired.fingerprint


# --- GitLab's alert format: `fingerprint` keys the alert ---------------------------------------


#: GitLab's HTTP endpoint alert format (docs.gitlab.com/operations/incident_management/
#: integrations, "Customize the alert payload"): `title`, `start_time`, `end_time`,
#: `severity`, `fingerprint` ("the unique identifier of the alert", by which GitLab groups
#: repeats), `monitoring_tool`, `hosts`.
def _gitlab(title: str, **fields: Any) -> dict[str, Any]:
    return {
        "title": title,
        "start_time": "2026-11-23T08:00:00Z",
        "severity": "high",
        "fingerprint": "b1946ac92492d2347c6235b4d2611184",
        "monitoring_tool": "Zabbix",
        "hosts": ["web-1"],
        **fields,
    }


def test_a_gitlab_format_alert_is_keyed_by_its_fingerprint() -> None:
    """Its `end_time` resolves the incident its firing opened though the title changed (the
    value in it moved): `fingerprint` is the alert's key."""
    fired = _only(_gitlab("CPU at 91% on web-1"))
    cleared = _only(_gitlab("CPU at 42% on web-1", end_time="2026-11-23T08:30:00Z"))
    assert (fired.status, cleared.status) == (Status.FIRING, Status.RESOLVED)
    assert cleared.fingerprint == fired.fingerprint
    assert fired.occurred_at.isoformat() == "2026-11-23T08:00:00+00:00"
    assert cleared.occurred_at.isoformat() == "2026-11-23T08:30:00+00:00"


@pytest.mark.parametrize("fingerprint", [{"hash": "abc"}, ["abc"], ""])
def test_a_fingerprint_that_is_no_key_leaves_the_alert_keyed_by_its_title(fingerprint: Any) -> None:
    """A `fingerprint` object, array or blank keys nothing: the alert is keyed by its title as
    before `fingerprint` was read, never refused."""
    alert = _only({"title": "T", "fingerprint": fingerprint})
    assert alert.identity == {"source": "generic", "title": "T"}


# --- other time fields ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("key", "value"),
    [
        ("start_time", "2026-12-01T10:00:00Z"),  # GitLab's alert format
        ("createTimestamp", "2026-12-01T10:00:00Z"),  # Sematext's Custom Webhook
        ("triggeredAt", "2026-12-01T10:00:00.000Z"),
        ("lastOccurrence", "2026-12-01T10:00:00Z"),
        ("startsAt", "2026-12-01T10:00:00Z"),
        ("start_time", 1796119200),  # epoch seconds
        ("triggeredAt", 1796119200000),  # milliseconds
        ("lastOccurrence", 1796119200000000),  # microseconds
    ],
)
def test_a_generic_alert_is_dated_by_the_time_field_its_tool_names(key: str, value: Any) -> None:
    """A tool's own name for when the alert began dates it, in seconds, ms or µs."""
    alert = _only({"title": "T", key: value})
    assert alert.occurred_at.isoformat() == "2026-12-01T10:00:00+00:00"


def test_a_stated_timestamp_wins_over_another_time_field() -> None:
    """`timestamp` stays the alert's time when it is sent beside another one."""
    alert = _only({"title": "T", "timestamp": "2026-12-01T09:00:00Z", "start_time": 1796119200})
    assert alert.occurred_at.isoformat() == "2026-12-01T09:00:00+00:00"


# --- through the pipeline: each new shape opens one ticket and its resolve closes it ----------


async def _actions(bodies: list[dict[str, Any]], start: datetime = T0) -> list[Action]:
    """What a fresh pipeline (in-memory store, recording sink) decides for `bodies`, sent in
    order a minute apart from `start`."""
    pipeline = pipeline_into(Sink())
    actions = []
    for minute, body in enumerate(bodies):
        at = start + timedelta(minutes=minute)
        message = Message(f"m-{minute}", json.dumps(body), f"r-{minute}", 1, at, received_at=at)
        actions += [outcome.action for outcome in await pipeline.process(message)]
    return actions


_ROUND_TRIPS = {
    "splunk on-call": [
        _oncall("CRITICAL", state_start_time=1796205600),
        _oncall("ACKNOWLEDGEMENT", state_start_time=1796205660),
        _oncall("RECOVERY", state_start_time=1796205900, entity_display_name="Disk OK on db-1"),
    ],
    "gitlab fingerprint": [
        _gitlab("CPU at 91% on web-1"),
        _gitlab("CPU at 42% on web-1", end_time="2026-11-23T08:30:00Z"),
    ],
    "kibana grouped es query": [
        _kibana("host-1", False),
        _kibana("host-1", True),
    ],
    "cloudwatch promql": [
        _promql_sns("ALARM"),
        _promql_contributor("ALARM", "a"),
        _promql_contributor("OK", "a"),
    ],
}


@pytest.mark.parametrize("shape", sorted(_ROUND_TRIPS))
async def test_a_new_shape_s_firing_opens_one_ticket_and_its_resolve_closes_it(shape: str) -> None:
    """Through the pipeline, the shape's firing opens one ticket, what changes no ticket
    changes none, and its resolve closes that ticket."""
    assert await _actions(_ROUND_TRIPS[shape]) == [Action.OPEN, Action.CLOSE]


async def test_a_recovery_that_arrives_before_its_critical_opens_no_ticket() -> None:
    """A Splunk On-Call RECOVERY delivered before the CRITICAL it ends (a queue's reordering)
    is remembered, and the older CRITICAL then opens no ticket: both are dated by their own
    `state_start_time`, not by when they were queued."""
    actions = await _actions(
        [
            _oncall("RECOVERY", state_start_time=1795424700),  # 2026-11-23 09:05 UTC
            _oncall("CRITICAL", state_start_time=1795424400),  # 09:00, queued after
        ],
        start=T0 + timedelta(minutes=10),  # both sent after they happened
    )
    assert Action.OPEN not in actions
