"""Sources, round 18 (helper 518): alerts from tools and versions not seen before. Each body
must be ticketed right (title, state, a resolve closing its firing), skipped with a reason, or
refused clearly: never a wrong incident."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from triage.models import Alert, Status
from triage.normalize import normalize_body
from triage.normalize.common import Normalized

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
