"""Payloads of the core sources as they are sent today (2024-2026), from the tools' own docs and
fixtures: CloudWatch Metrics Insights alarms that watch many time series (one incident per
contributor), alarm mute rules seen through EventBridge, and Security Hub's OCSF findings."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from triage.errors import InvalidAlertError
from triage.models import Alert, Status
from triage.normalize import Normalized, normalize_body

PAYLOADS = Path(__file__).parent / "payloads"


def payload(name: str) -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads((PAYLOADS / name).read_text(encoding="utf-8"))
    return loaded


def sample(name: str) -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads((PAYLOADS / name).read_text(encoding="utf-8"))
    return loaded


def normalized(body: dict[str, Any]) -> Normalized:
    return normalize_body(json.dumps(body))


def only(body: dict[str, Any]) -> Alert:
    result = normalized(body)
    assert len(result.alerts) == 1, result
    return result.alerts[0]


def sns_message(envelope: dict[str, Any]) -> dict[str, Any]:
    message: dict[str, Any] = json.loads(envelope["Message"])
    return message


def with_message(envelope: dict[str, Any], message: dict[str, Any]) -> dict[str, Any]:
    return {**envelope, "Message": json.dumps(message)}


# --- CloudWatch: Metrics Insights alarms over many time series (contributors) -----------------


def contributor_event(state: str = "ALARM", **detail: Any) -> dict[str, Any]:
    event = sample("cloudwatch/eventbridge-contributor.json")
    event["detail"]["state"]["value"] = state
    event["detail"].update(detail)
    return event


def contributor_sns(state: str = "ALARM", **fields: Any) -> dict[str, Any]:
    envelope = sample("cloudwatch/sns-contributor.json")
    message = sns_message(envelope)
    message["NewStateValue"] = state
    message.update(fields)
    return with_message(envelope, message)


def test_contributor_event_is_an_alert_of_its_time_series() -> None:
    """A "CloudWatch Alarm Contributor State Change" fires for the one time series that
    breached, named in its title, identity and labels (it used to be skipped)."""
    alert = only(contributor_event())
    assert alert.status is Status.FIRING
    assert alert.title == "DynamoDBInsightsAlarm (TableName=example-dynamodb-table-name)"
    assert alert.identity == {
        "account": "123456789012",
        "region": "us-east-1",
        "alarm": "DynamoDBInsightsAlarm",
        "contributor": "TableName=example-dynamodb-table-name",
    }
    assert alert.labels["contributor"] == "TableName=example-dynamodb-table-name"
    assert alert.labels["contributor_id"] == "6d442278dba546f6"
    assert alert.links["alarm"].endswith("#alarmsV2:alarm/DynamoDBInsightsAlarm")
    assert "Threshold Crossed" in alert.description


def test_contributor_back_to_ok_resolves_its_own_incident() -> None:
    """The contributor's OK resolves the incident its ALARM opened (same fingerprint)."""
    firing, resolved = only(contributor_event("ALARM")), only(contributor_event("OK"))
    assert resolved.status is Status.RESOLVED
    assert resolved.fingerprint == firing.fingerprint


def test_contributor_sns_and_eventbridge_are_one_incident() -> None:
    """The SNS notification of a contributor (AlarmContributorAttributes) and its EventBridge
    event, raw or wrapped in SNS, share one fingerprint."""
    from_sns = only(contributor_sns())
    from_event = only(contributor_event())
    wrapped = sample("cloudwatch/sns-contributor.json")
    from_wrapped_event = only(with_message(wrapped, contributor_event()))
    assert from_sns.fingerprint == from_event.fingerprint == from_wrapped_event.fingerprint
    assert from_sns.title == from_event.title
    assert from_sns.labels["contributor_id"] == "6d442278dba546f6"


def alarm_level_sns(state: str = "ALARM") -> dict[str, Any]:
    """The alarm's own SNS notification of the contributor sample's alarm."""
    envelope = sample("cloudwatch/sns-contributor.json")
    message = sns_message(envelope)
    del message["AlarmContributorId"], message["AlarmContributorAttributes"]
    message["NewStateValue"] = state
    message["NewStateReason"] = "2 out of 150 time series evaluated to ALARM"
    return with_message(envelope, message)


def alarm_level_event(state: str = "ALARM") -> dict[str, Any]:
    """The alarm's own "CloudWatch Alarm State Change" of the contributor sample's alarm."""
    event = contributor_event(state)
    event["detail-type"] = "CloudWatch Alarm State Change"
    del event["detail"]["alarmContributor"], event["detail"]["muteDetail"]
    event["detail"]["state"]["reason"] = "2 out of 150 time series evaluated to ALARM"
    return event


def alarm_level_lambda(state: str = "ALARM") -> dict[str, Any]:
    """The alarm's own Lambda action payload of the contributor sample's alarm."""
    event = alarm_level_event(state)
    return {
        "source": "aws.cloudwatch",
        "alarmArn": event["resources"][0],
        "accountId": event["account"],
        "time": event["time"],
        "region": event["region"],
        "alarmData": event["detail"],
    }


ALARM_LEVEL_FORMS = [alarm_level_sns, alarm_level_event, alarm_level_lambda]


@pytest.mark.parametrize("form", [alarm_level_sns, alarm_level_lambda])
def test_alarm_level_firing_of_a_per_time_series_alarm_opens_no_ticket(form: Any) -> None:
    """A GROUP BY alarm's own ALARM through SNS or a Lambda action opens no ticket: AWS sends
    each contributor's notification to the same actions, and those are the incidents, so N
    contributors make N tickets, not N+1."""
    result = normalized(form("ALARM"))
    assert result.alerts == ()
    assert [s.reason for s in result.skipped] == ["per_contributor"]
    assert "DynamoDBInsightsAlarm" in result.skipped[0].detail


def test_alarm_level_firing_through_eventbridge_still_fires() -> None:
    """Through EventBridge, a GROUP BY alarm's own ALARM fires its own incident: a rule may
    match "CloudWatch Alarm State Change" alone, and skipped, the alarm opened no ticket."""
    fired = only(alarm_level_event("ALARM"))
    assert fired.status is Status.FIRING
    assert fired.identity == {
        "account": "123456789012",
        "region": "us-east-1",
        "alarm": "DynamoDBInsightsAlarm",
    }


@pytest.mark.parametrize("form", ALARM_LEVEL_FORMS)
def test_alarm_level_ok_of_a_per_time_series_alarm_still_resolves_the_alarm(form: Any) -> None:
    """The alarm's own OK still resolves its own fingerprint (a ticket an earlier version
    opened for it closes), never a contributor's."""
    resolved = only(form("OK"))
    assert resolved.status is Status.RESOLVED
    assert resolved.identity == {
        "account": "123456789012",
        "region": "us-east-1",
        "alarm": "DynamoDBInsightsAlarm",
    }
    assert resolved.fingerprint != only(contributor_sns("OK")).fingerprint


def test_n_contributors_and_the_alarm_make_n_incidents() -> None:
    """What one GROUP BY alarm sends when two tables breach (the alarm's ALARM and each
    contributor's, through SNS) is two incidents, one per table."""
    bodies = [
        alarm_level_sns("ALARM"),
        contributor_sns("ALARM"),
        contributor_sns(
            "ALARM",
            AlarmContributorAttributes={"TableName": "orders"},
            AlarmContributorId="a1b2c3d4e5f60718",
        ),
    ]
    alerts = [a for body in bodies for a in normalized(body).alerts]
    assert sorted(a.identity["contributor"] for a in alerts) == [
        "TableName=example-dynamodb-table-name",
        "TableName=orders",
    ]


def test_contributor_ok_never_resolves_another_contributor() -> None:
    """One table back to OK must not close another table's incident: each contributor is
    an incident of its own, apart from the alarm's own fingerprint too."""
    one = only(contributor_sns("OK"))
    other = only(
        contributor_sns(
            AlarmContributorAttributes={"TableName": "orders"},
            AlarmContributorId="a1b2c3d4e5f60718",
        )
    )
    parent = only(alarm_level_sns("OK"))
    assert len({one.fingerprint, other.fingerprint, parent.fingerprint}) == 3


@pytest.mark.parametrize(
    "query",
    [
        'SELECT MAX(CPUUtilization) FROM SCHEMA("AWS/EC2", InstanceId)',
        "SELECT AVG(Latency) FROM \"GROUP BY\" WHERE Stage = 'GROUP BY'",
        "SELECT SUM(Errors) FROM MyApp ORDER BY SUM() DESC",
    ],
)
def test_alarm_on_one_aggregated_series_still_fires(query: str) -> None:
    """A Metrics Insights alarm without GROUP BY (one aggregated series, no contributors),
    "GROUP BY" inside a quoted name included, keeps its own ticket."""
    envelope = alarm_level_sns()
    message = sns_message(envelope)
    message["Trigger"]["Metrics"][0]["Expression"] = query
    alert = only(with_message(envelope, message))
    assert alert.status is Status.FIRING
    assert "contributor" not in alert.identity


def test_contributor_attributes_in_another_order_are_the_same_time_series() -> None:
    """Attributes are a map: their order in the JSON does not change the incident."""
    a = only(contributor_sns(AlarmContributorAttributes={"InstanceId": "i-1", "Az": "a"}))
    b = only(contributor_sns(AlarmContributorAttributes={"Az": "a", "InstanceId": "i-1"}))
    assert a.fingerprint == b.fingerprint
    assert a.identity["contributor"] == "Az=a, InstanceId=i-1"


@pytest.mark.parametrize(
    "contributor",
    [
        {"id": "6d442278dba546f6"},
        {"id": "6d442278dba546f6", "attributes": None},
        {"id": "6d442278dba546f6", "attributes": "TableName=x"},
        {"id": "6d442278dba546f6", "attributes": {}},
    ],
)
def test_contributor_without_readable_attributes_is_known_by_its_id(
    contributor: dict[str, Any],
) -> None:
    """A contributor whose attributes are missing, null or not a map is still read, and
    identified by its id rather than refused."""
    alert = only(contributor_event(alarmContributor=contributor))
    assert alert.identity["contributor"] == "id=6d442278dba546f6"


@pytest.mark.parametrize(
    ("contributor_id", "attributes"), [(None, None), ("", {}), (None, []), ("", None)]
)
def test_alarm_message_with_empty_contributor_fields_is_the_alarms(
    contributor_id: Any, attributes: Any
) -> None:
    """The alarm's own SNS notification, should it carry the contributor fields empty or
    null, is the alarm's own (its ALARM skipped as the contributors carry it, its OK the
    alarm's), not refused."""
    fields = {"AlarmContributorId": contributor_id, "AlarmContributorAttributes": attributes}
    firing = normalized(contributor_sns("ALARM", **fields))
    assert [s.reason for s in firing.skipped] == ["per_contributor"]
    assert "contributor" not in only(contributor_sns("OK", **fields)).identity


@pytest.mark.parametrize(
    ("contributor_id", "attributes"), [({"a": 1}, None), (None, "TableName=x"), ("", ["x"])]
)
def test_alarm_message_with_unreadable_contributor_names_the_field(
    contributor_id: Any, attributes: Any
) -> None:
    """Contributor fields that say something, but nothing readable, are refused naming the
    field: read as the alarm's, its OK would resolve the alarm's incident."""
    body = contributor_sns(AlarmContributorId=contributor_id, AlarmContributorAttributes=attributes)
    with pytest.raises(InvalidAlertError, match="AlarmContributorAttributes"):
        normalized(body)


@pytest.mark.parametrize("contributor", [None, "6d44", {"attributes": None}, {"id": None}])
def test_contributor_event_with_no_contributor_names_the_field(contributor: Any) -> None:
    """A contributor event that does not say which time series changed is refused with an
    error naming the field, never a traceback and never read as the whole alarm."""
    with pytest.raises(InvalidAlertError, match="alarmContributor"):
        normalized(contributor_event(alarmContributor=contributor))


def test_contributor_insufficient_data_changes_nothing() -> None:
    """A contributor is never INSUFFICIENT_DATA by AWS's rules; if one says so, it is
    skipped as the alarm's would be."""
    result = normalized(contributor_event("INSUFFICIENT_DATA"))
    assert result.alerts == ()
    assert [s.reason for s in result.skipped] == ["insufficient_data"]


# --- CloudWatch: alarm mute rules ------------------------------------------------------------


def muted_alarm(state: str = "ALARM", start: str = "2026-11-23T09:00:00.000+0000",
                end: str = "2026-11-23T11:00:00.000+0000") -> dict[str, Any]:  # fmt: skip
    event = payload("cloudwatch/eventbridge-alarm.json")
    event["detail"]["state"]["value"] = state
    event["detail"]["state"]["timestamp"] = "2026-11-23T10:00:12.845+0000"
    event["detail"]["muteDetail"] = {
        "mutedByArn": "arn:aws:cloudwatch:us-east-1:123456789012:alarm-mute-rule:weekly-patching",
        "muteWindowStart": start,
        "muteWindowEnd": end,
    }
    return event


def test_alarm_muted_by_a_mute_rule_opens_no_ticket() -> None:
    """An alarm that fires inside its mute rule's window has its actions (SNS) muted; its
    EventBridge event must not open a ticket either, and the skip names the rule."""
    result = normalized(muted_alarm())
    assert result.alerts == ()
    ((skip,),) = (result.skipped,)
    assert skip.reason == "actions_muted"
    assert "weekly-patching" in skip.detail


def test_muted_alarm_back_to_ok_still_resolves() -> None:
    """A ticket opened before the mute window closes when the alarm returns to OK in it."""
    alert = only(muted_alarm("OK"))
    assert alert.status is Status.RESOLVED
    assert alert.fingerprint == only(payload("cloudwatch/eventbridge-alarm.json")).fingerprint


@pytest.mark.parametrize(
    ("start", "end"),
    [
        ("2026-01-01T10:00:00.000+0000", "2026-01-01T12:00:00.000+0000"),  # AWS's doc example
        ("2026-11-23T10:05:00.000+0000", "2026-11-23T12:00:00.000+0000"),  # not yet begun
    ],
)
def test_mute_window_that_does_not_cover_the_change_keeps_the_alert(start: str, end: str) -> None:
    """`muteDetail` whose window does not hold the state change (as in AWS's own examples)
    mutes nothing: the alarm fires and the rule is shown."""
    alert = only(muted_alarm(start=start, end=end))
    assert alert.status is Status.FIRING
    assert alert.labels["muted_by"].endswith("alarm-mute-rule:weekly-patching")


@pytest.mark.parametrize(
    "detail",
    [
        None,
        "muted",
        {"mutedByArn": None},
        {"mutedByArn": "arn:aws:cloudwatch:us-east-1:123456789012:alarm-mute-rule:x"},
        {"mutedByArn": "arn:x", "muteWindowStart": "soon", "muteWindowEnd": 7},
        {"mutedByArn": "arn:x", "muteWindowStart": 1.5, "muteWindowEnd": "2999-01-01T00:00:00Z"},
    ],
)
def test_mute_detail_of_another_shape_never_costs_the_alarm(detail: Any) -> None:
    """A `muteDetail` that is null, not an object, or without a readable window is passed
    over: the alarm fires (a mute must be proven before a page is dropped)."""
    event = payload("cloudwatch/eventbridge-alarm.json")
    event["detail"]["muteDetail"] = detail
    assert only(event).status is Status.FIRING


# --- Security Hub: "Findings Imported V2" (OCSF findings) -------------------------------------


def ocsf_event(**finding: Any) -> dict[str, Any]:
    event = sample("eventbridge/securityhub-findings-v2.json")
    event["detail"]["findings"][0].update(finding)
    return event


def test_securityhub_v2_ocsf_finding_is_read() -> None:
    """Security Hub's OCSF finding (detail-type "Findings Imported V2") becomes one alert:
    title, description, severity, account, remediation link and the resource's team tag (its
    ASFF reader refused it for want of `Id`, sending the event to the DLQ)."""
    alert = only(sample("eventbridge/securityhub-findings-v2.json"))
    assert alert.source == "eventbridge"
    assert alert.status is Status.FIRING
    assert alert.title == "S3 general purpose buckets should block public access"
    assert alert.severity == "High"
    assert alert.team == "storage"
    assert alert.identity == {
        "account": "111122223333",
        "finding": (
            "arn:aws:securityhub:us-west-2:111122223333:security-control/S3.8/finding/"
            "5f1e2d3c-9a4b-4c7d-8e2f-1a3b5c7d9e0f"
        ),
    }
    assert alert.runbook_url == "https://docs.aws.amazon.com/console/securityhub/S3.8/remediation"
    assert alert.labels["product"] == "Security Hub"
    assert alert.labels["compliance"] == "Fail"
    assert alert.labels["resources"] == "arn:aws:s3:::example-bucket"
    assert alert.description.startswith("This control checks whether")
    assert alert.occurred_at.isoformat() == "2025-11-04T21:50:00+00:00"


@pytest.mark.parametrize(
    "change",
    [
        {"status": "Resolved", "status_id": 4},
        {"status": "Suppressed", "status_id": 3},
        {"status": "Archived"},
        {"status": None, "status_id": 4},
        {"compliance": {"control": "S3.8", "status": "Pass", "status_id": 1}},
    ],
)
def test_securityhub_v2_finding_closed_resolves_its_incident(change: dict[str, Any]) -> None:
    """A finding resolved, suppressed or archived, or whose control now passes, resolves the
    incident its first import opened."""
    opened = only(ocsf_event())
    closed = only(ocsf_event(**change))
    assert closed.status is Status.RESOLVED
    assert closed.fingerprint == opened.fingerprint


@pytest.mark.parametrize(
    "change",
    [
        {"severity": None, "severity_id": 5},
        {"severity": {"label": "x"}, "severity_id": 5},
    ],
)
def test_securityhub_v2_severity_from_its_id(change: dict[str, Any]) -> None:
    """Without a severity name, OCSF's severity_id names it (5 is Critical)."""
    assert only(ocsf_event(**change)).severity == "Critical"


@pytest.mark.parametrize(
    "change",
    [
        {"finding_info": None},
        {"finding_info": {"uid": None, "title": "x"}},
        {"finding_info": {"uid": "", "title": "x"}},
    ],
)
def test_securityhub_v2_finding_without_uid_names_the_field(change: dict[str, Any]) -> None:
    """A finding with no `finding_info.uid` cannot be identified: a clear error names it."""
    with pytest.raises(InvalidAlertError, match=r"finding_info\.uid"):
        normalized(ocsf_event(**change))


@pytest.mark.parametrize(
    "change",
    [
        {"cloud": None, "resources": None, "remediation": None, "metadata": "x"},
        {"finding_info": {"uid": "f-1", "title": None, "desc": ["a"]}},
        {"resources": [{"uid": {"a": 1}, "tags": "team=x"}], "status": 7, "time_dt": None},
        {"brand_new_field": {"nested": [1, 2]}, "remediation": {"references": ["not a link"]}},
    ],
)
def test_securityhub_v2_optional_fields_of_any_shape_are_passed_over(
    change: dict[str, Any],
) -> None:
    """Missing, null, new or oddly typed optional OCSF fields never cost the finding."""
    alert = only(ocsf_event(**change))
    assert alert.status is Status.FIRING
    assert alert.title


# --- CloudWatch: the Lambda alarm action's payload, forwarded to the queue ---------------------


def lambda_action(state: str = "ALARM", **alarm_data: Any) -> dict[str, Any]:
    body = sample("cloudwatch/lambda-action.json")
    body["alarmData"]["state"]["value"] = state
    body["alarmData"].update(alarm_data)
    return body


def test_lambda_action_payload_is_the_alarms_incident() -> None:
    """The payload an alarm's Lambda action receives (`alarmArn`, `alarmData`), forwarded to
    the queue as it came, is the alarm's state change: the same fingerprint as its SNS and
    EventBridge forms (it was an unknown format)."""
    alert = only(lambda_action())
    assert alert.status is Status.FIRING
    assert alert.title == "ServerCpuTooHigh"
    assert alert.labels["metric"] == "CPUUtilization"
    assert alert.labels["threshold"] == "50.0"
    assert alert.identity == {
        "account": "123456789012",
        "region": "us-east-1",
        "alarm": "ServerCpuTooHigh",
    }
    assert alert.raw == sample("cloudwatch/lambda-action.json")
    body = sample("cloudwatch/lambda-action.json")
    event = {
        "detail-type": "CloudWatch Alarm State Change",
        "source": "aws.cloudwatch",
        "account": body["accountId"],
        "region": body["region"],
        "resources": [body["alarmArn"]],
        "detail": body["alarmData"],
    }
    assert only(event).fingerprint == alert.fingerprint
    resolved = only(lambda_action("OK"))
    assert resolved.status is Status.RESOLVED
    assert resolved.fingerprint == alert.fingerprint


def test_lambda_action_of_a_contributor_is_the_contributors_incident() -> None:
    """A multi-time-series alarm's Lambda payload for one contributor is that contributor's
    incident, the one its EventBridge event opens."""
    contributor = {
        "id": "6d442278dba546f6",
        "attributes": {"TableName": "example-dynamodb-table-name"},
    }
    body = lambda_action(alarmName="DynamoDBInsightsAlarm", alarmContributor=contributor)
    body["alarmArn"] = "arn:aws:cloudwatch:us-east-1:123456789012:alarm:DynamoDBInsightsAlarm"
    assert (
        only(body).fingerprint
        == only(sample("cloudwatch/eventbridge-contributor.json")).fingerprint
    )


def test_lambda_action_composite_in_its_wait_period_still_fires() -> None:
    """A composite alarm's Lambda payload whose actions wait (WaitPeriod) is read as the
    event's: it fires, labelled with what suppresses it."""
    body = lambda_action(configuration={"alarmRule": "ALARM(a) OR ALARM(b)"})
    body["alarmData"]["state"]["actionsSuppressedBy"] = "WaitPeriod"
    alert = only(body)
    assert alert.labels["alarm_type"] == "composite"
    assert alert.labels["actions_suppressed_by"] == "WaitPeriod"


@pytest.mark.parametrize("state", [None, "x", {"value": None}, {"value": " "}, {}])
def test_lambda_action_without_a_state_names_the_field(state: Any) -> None:
    """A Lambda payload whose state cannot be read is refused naming the field as the
    payload spells it (`alarmData.state`), not the event's."""
    body = lambda_action()
    body["alarmData"]["state"] = state
    with pytest.raises(InvalidAlertError, match=r"^alarmData\.state"):
        normalized(body)


def test_lambda_action_without_an_account_names_its_field() -> None:
    """Without its ARN and `accountId`, the error names `accountId`."""
    body = lambda_action()
    del body["alarmArn"], body["accountId"]
    with pytest.raises(InvalidAlertError, match=r"^accountId is missing"):
        normalized(body)


@pytest.mark.parametrize("value", [None, "", {"a": 1}])
def test_classic_message_without_a_new_state_names_the_field(value: Any) -> None:
    """A classic alarm message whose NewStateValue is null, empty or no word is refused
    naming NewStateValue (it said "alarm state '' is not ALARM, OK …")."""
    envelope = sample("cloudwatch/sns-contributor.json")
    message = sns_message(envelope)
    message["NewStateValue"] = value
    with pytest.raises(InvalidAlertError, match=r"^NewStateValue (is missing|must be text)"):
        normalized(with_message(envelope, message))


@pytest.mark.parametrize(
    "name", ["cloudwatch/eventbridge-contributor.json", "cloudwatch/sns-contributor.json"]
)
def test_metrics_insights_query_alarm_is_labelled_so(name: str) -> None:
    """An alarm on a Metrics Insights query (SELECT … GROUP BY) is labelled
    `alarm_type: metrics_insights`, not metric math, in both forms."""
    alert = only(sample(name))
    assert alert.labels["alarm_type"] == "metrics_insights"
    assert alert.labels["metrics"].startswith("m1 = SELECT AVG(ConsumedWriteCapacityUnits)")
