"""CloudWatch alarms through SNS, raw delivery and EventBridge: one alarm, one fingerprint."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from triage.errors import DecodeError, InvalidAlertError
from triage.models import Alert, Priority, Status
from triage.normalize import Normalized, normalize_body
from triage.normalize.aws_regions import REGION_CODES, region_code
from triage.normalize.cloudwatch import console_link, parse_arn, parse_description

PAYLOADS = Path(__file__).parent / "payloads"


def read(name: str) -> str:
    return (PAYLOADS / name).read_text(encoding="utf-8")


def load(name: str) -> Normalized:
    return normalize_body(read(name))


def only(name: str) -> Alert:
    result = load(name)
    assert len(result.alerts) == 1, result
    return result.alerts[0]


def raw_alarm(**changes: Any) -> dict[str, Any]:
    payload: dict[str, Any] = json.loads(read("cloudwatch/raw-alarm.json"))
    payload.update(changes)
    return payload


def test_sns_alarm_becomes_a_firing_alert() -> None:
    """The classic SNS alarm message fills every canonical field from the inner message."""
    alert = only("cloudwatch/sns-alarm.json")
    assert alert.source == "cloudwatch"
    assert alert.status is Status.FIRING
    assert alert.title == "orders-api-p99-latency"
    assert alert.team == "orders"
    assert alert.priority is Priority.HIGH
    assert alert.runbook_url == "https://runbooks.example.com/orders/latency"
    assert alert.description.startswith("p99 latency of the orders API above 800 ms for 3 minutes")
    assert "State reason: Threshold Crossed" in alert.description
    assert alert.occurred_at == datetime(2026, 11, 23, 10, 0, 12, 845000, tzinfo=UTC)
    assert alert.identity == {
        "account": "123456789012",
        "region": "us-east-1",
        "alarm": "orders-api-p99-latency",
    }
    assert alert.labels["metric"] == "TargetResponseTime"
    assert alert.labels["namespace"] == "AWS/ApplicationELB"
    assert alert.labels["statistic"] == "p99"
    assert alert.labels["threshold"] == "0.8"
    assert alert.labels["comparison"] == "GreaterThanThreshold"
    assert alert.labels["dimensions"] == "LoadBalancer=app/orders-api/50dc6c495c0c9188"
    assert alert.labels["region"] == "us-east-1"
    assert alert.links["alarm"] == (
        "https://us-east-1.console.aws.amazon.com/cloudwatch/home?region=us-east-1"
        "#alarmsV2:alarm/orders-api-p99-latency"
    )
    assert alert.raw["AlarmName"] == "orders-api-p99-latency"
    assert "TopicArn" not in alert.raw


@pytest.mark.parametrize(
    "name",
    [
        "cloudwatch/raw-alarm.json",
        "cloudwatch/sns-alarm-no-arn.json",
        "cloudwatch/eventbridge-alarm.json",
        "cloudwatch/sns-eventbridge-ok.json",
        "cloudwatch/sns-ok.json",
    ],
)
def test_every_delivery_form_shares_one_fingerprint(name: str) -> None:
    """SNS, raw, EventBridge (raw or in SNS) and the ARN-less message: one alarm, one fingerprint."""
    assert only(name).fingerprint == only("cloudwatch/sns-alarm.json").fingerprint


def test_ok_resolves_the_same_incident() -> None:
    """OK is resolved, with the alarm's fingerprint and its own state-change time."""
    firing, resolved = only("cloudwatch/sns-alarm.json"), only("cloudwatch/sns-ok.json")
    assert resolved.status is Status.RESOLVED
    assert resolved.fingerprint == firing.fingerprint
    assert resolved.occurred_at > firing.occurred_at


def test_eventbridge_event_reads_detail_and_reason_data() -> None:
    """The EventBridge form fills the same fields, plus threshold and value from reasonData."""
    alert = only("cloudwatch/eventbridge-alarm.json")
    assert alert.status is Status.FIRING
    assert (alert.team, alert.priority) == ("orders", Priority.HIGH)
    assert alert.labels["metric"] == "TargetResponseTime"
    assert alert.labels["dimensions"] == "LoadBalancer=app/orders-api/50dc6c495c0c9188"
    assert alert.labels["threshold"] == "0.8"
    assert alert.labels["value"] == "0.9124"
    assert alert.raw["detail-type"] == "CloudWatch Alarm State Change"


@pytest.mark.parametrize(
    "name", ["cloudwatch/sns-alarm-eu-west-1.json", "cloudwatch/sns-alarm-other-account.json"]
)
def test_same_alarm_name_elsewhere_is_another_incident(name: str) -> None:
    """The same alarm name in another Region or account has a different fingerprint."""
    assert only(name).fingerprint != only("cloudwatch/sns-alarm.json").fingerprint


def test_insufficient_data_is_skipped() -> None:
    """INSUFFICIENT_DATA changes no ticket: no alert, one Skipped naming the alarm."""
    result = load("cloudwatch/sns-insufficient-data.json")
    assert result.alerts == ()
    assert [(s.source, s.reason) for s in result.skipped] == [("cloudwatch", "insufficient_data")]
    assert "orders-api-p99-latency" in result.skipped[0].detail


def test_null_description_is_fine() -> None:
    """A null AlarmDescription gives no team or priority and a description of the reason only."""
    alert = only("cloudwatch/raw-alarm-null-description.json")
    assert (alert.team, alert.priority, alert.runbook_url) == (None, None, None)
    assert alert.description.startswith("State reason:")


def test_long_alarm_name_is_never_taken_from_the_subject() -> None:
    """Names past SNS's 100-character Subject stay whole in the identity and the title."""
    envelope = json.loads(read("cloudwatch/sns-alarm-long-name.json"))
    name = json.loads(envelope["Message"])["AlarmName"]
    assert len(name) > 100 and len(envelope["Subject"]) == 100
    alert = only("cloudwatch/sns-alarm-long-name.json")
    assert alert.identity["alarm"] == name
    assert alert.title == name
    assert alert.identity["region"] == "eu-central-1"


@pytest.mark.parametrize(
    "name", ["cloudwatch/raw-metric-math.json", "cloudwatch/eventbridge-metric-math.json"]
)
def test_metric_math_alarm_lists_its_queries(name: str) -> None:
    """Metric-math alarms (Trigger.Metrics or detail.configuration.metrics) summarise each query."""
    alert = only(name)
    assert alert.labels["alarm_type"] == "metric_math"
    assert alert.labels["metrics"].startswith("e1 = 100 * errors / requests (5xx share (%))")
    assert "HTTPCode_Target_5XX_Count" in alert.labels["metrics"]
    assert (alert.team, alert.priority) == ("orders", Priority.HIGH)


def test_metric_math_forms_share_a_fingerprint() -> None:
    """The classic and EventBridge forms of a metric-math alarm are one incident."""
    classic = only("cloudwatch/raw-metric-math.json")
    assert only("cloudwatch/eventbridge-metric-math.json").fingerprint == classic.fingerprint


def test_composite_alarm_event() -> None:
    """A composite alarm's event carries its rule, and its description's segments."""
    alert = only("cloudwatch/eventbridge-composite.json")
    assert alert.labels["alarm_type"] == "composite"
    assert alert.labels["alarm_rule"] == (
        "ALARM(orders-api-5xx-ratio) OR ALARM(orders-api-p99-latency)"
    )
    assert (alert.team, alert.priority) == ("payments", Priority.CRITICAL)
    assert alert.runbook_url == "https://runbooks.example.com/checkout/degraded"


def test_classic_composite_alarm_message() -> None:
    """A classic composite-alarm message (AlarmRule, TriggeringChildren, no Trigger) works."""
    payload = raw_alarm(
        AlarmName="checkout-degraded",
        AlarmArn="arn:aws:cloudwatch:us-east-1:123456789012:alarm:checkout-degraded",
        AlarmRule="ALARM(orders-api-5xx-ratio) OR ALARM(orders-api-p99-latency)",
        TriggeringChildren=[
            {
                "Arn": "arn:aws:cloudwatch:us-east-1:123456789012:alarm:orders-api-5xx-ratio",
                "State": {"Value": "ALARM", "Timestamp": "2026-11-23T10:02:05.312+0000"},
            }
        ],
    )
    del payload["Trigger"]
    alert = normalize_body(json.dumps(payload)).alerts[0]
    assert alert.labels["alarm_type"] == "composite"
    assert alert.labels["triggering_alarms"] == "orders-api-5xx-ratio"
    assert alert.fingerprint == only("cloudwatch/eventbridge-composite.json").fingerprint


@pytest.mark.parametrize(
    ("description", "facts", "free"),
    [
        (
            "p99 high | TEAM=orders | PRIORITY=P1 | RUNBOOK=https://r.example/x",
            {"team": "orders", "priority": "P1", "runbook": "https://r.example/x"},
            "p99 high",
        ),
        (
            "p99 high\nteam = orders\nPriority: critical\nrunbook_url=https://r.example/x?a=b",
            {"team": "orders", "priority": "critical", "runbook": "https://r.example/x?a=b"},
            "p99 high",
        ),
        (
            "First line\nSecond | with a pipe\nTEAM=a | PRIORITY=low",
            {"team": "a", "priority": "low"},
            "First line\nSecond | with a pipe",
        ),
        ("latency | p99 | above SLO", {}, "latency | p99 | above SLO"),
        ("TEAM= | PRIORITY=high", {"priority": "high"}, ""),
        ("Severity=SEV-2|team=db", {"severity": "SEV-2", "team": "db"}, ""),
        ("", {}, ""),
    ],
)
def test_description_segments(description: str, facts: dict[str, str], free: str) -> None:
    """KEY=value segments split on newlines (else on "|"), keys in any case; the rest is text."""
    assert parse_description(description) == (facts, free)


def test_runbook_that_is_not_a_link_stays_readable() -> None:
    """A RUNBOOK segment that is not an http(s) URL is kept in the description, not as a link."""
    payload = raw_alarm(AlarmDescription="Disk full | RUNBOOK=see the wiki page 'disks'")
    alert = normalize_body(json.dumps(payload)).alerts[0]
    assert alert.runbook_url is None
    assert "Runbook: see the wiki page 'disks'" in alert.description


@pytest.mark.parametrize(
    ("display", "code"),
    [
        ("US East (N. Virginia)", "us-east-1"),
        ("EU (Ireland)", "eu-west-1"),
        ("Europe (Ireland)", "eu-west-1"),
        ("asia pacific (tokyo)", "ap-northeast-1"),
        ("South America (São Paulo)", "sa-east-1"),
        ("  US  West (Oregon) ", "us-west-2"),
        ("eu-south-2", "eu-south-2"),
        ("Atlantis (Central)", None),
    ],
)
def test_region_display_names_map_to_codes(display: str, code: str | None) -> None:
    """Display names map to codes ignoring case and spacing; a code passes through."""
    assert region_code(display) == code


def test_every_commercial_region_is_mapped() -> None:
    """The table covers all commercial Regions (botocore's list of 2025) plus GovCloud and China."""
    codes = set(REGION_CODES.values())
    for code in ("us-east-1", "ap-southeast-7", "mx-central-1", "ca-west-1", "il-central-1"):
        assert code in codes
    assert len(codes) == 38


def test_unknown_region_name_still_makes_an_alert_with_a_note() -> None:
    """A Region name we cannot map is used as is (noted), rather than losing the alarm."""
    payload = raw_alarm(Region="Atlantis (Central)")
    del payload["AlarmArn"]
    result = normalize_body(json.dumps(payload))
    assert result.alerts[0].identity["region"] == "Atlantis (Central)"
    assert "alarm" not in result.alerts[0].links
    assert "unknown AWS Region" in result.notes[0]


def test_alarm_arn_names_may_contain_colons() -> None:
    """Only the first six colons of an alarm ARN are structure; the name may hold more."""
    arn = parse_arn("arn:aws:cloudwatch:eu-west-1:123456789012:alarm:svc:api:5xx")
    assert arn is not None and (arn.region, arn.account, arn.name) == (
        "eu-west-1",
        "123456789012",
        "svc:api:5xx",
    )
    assert parse_arn("arn:aws:sns:eu-west-1:123456789012:topic") is None
    assert parse_arn(42) is None


def test_console_links_follow_the_partition() -> None:
    """China and GovCloud alarms link to their own console domains; names are URL-quoted."""
    assert console_link("cn-north-1", "a b").startswith(  # type: ignore[union-attr]
        "https://cn-north-1.console.amazonaws.cn/"
    )
    assert console_link("us-gov-west-1", "x").startswith(  # type: ignore[union-attr]
        "https://console.amazonaws-us-gov.com/"
    )
    assert console_link("eu-west-1", "a/b c").endswith("alarm/a%2Fb%20c")  # type: ignore[union-attr]


def test_unknown_state_is_invalid() -> None:
    """A state other than ALARM, OK or INSUFFICIENT_DATA is a InvalidAlertError."""
    with pytest.raises(InvalidAlertError, match="not ALARM, OK"):
        normalize_body(json.dumps(raw_alarm(NewStateValue="MAYBE")))


def test_alarm_without_account_is_invalid() -> None:
    """Without an ARN or AWSAccountId the alarm cannot be identified."""
    payload = raw_alarm(AWSAccountId=None)
    del payload["AlarmArn"]
    with pytest.raises(InvalidAlertError, match="AWSAccountId"):
        normalize_body(json.dumps(payload))


def test_numbers_in_name_fields_are_text() -> None:
    """A numeric alarm name and account id are coerced to text, not a crash."""
    payload = raw_alarm(AlarmName=404, AWSAccountId=123456789012)
    del payload["AlarmArn"]
    alert = normalize_body(json.dumps(payload)).alerts[0]
    assert (alert.title, alert.identity["account"]) == ("404", "123456789012")


def test_other_cloudwatch_events_are_skipped() -> None:
    """Alarm configuration-change events reach no ticket; they are skipped, not errors."""
    event = json.loads(read("cloudwatch/eventbridge-alarm.json"))
    event["detail-type"] = "CloudWatch Alarm Configuration Change"
    result = normalize_body(json.dumps(event))
    assert result.alerts == ()
    assert result.skipped[0].reason == "not_a_state_change"


def test_event_alarm_tags_fill_gaps_the_description_leaves() -> None:
    """Propagated alarm tags supply team/priority when the description has none."""
    event = json.loads(read("cloudwatch/eventbridge-alarm.json"))
    event["detail"]["configuration"]["description"] = "no segments here"
    event["detail"]["alarmTags"] = {"Team": "sre", "Priority": "P0"}
    alert = normalize_body(json.dumps(event)).alerts[0]
    assert (alert.team, alert.priority) == ("sre", Priority.CRITICAL)


@pytest.mark.parametrize(
    "tags",
    [
        {"Team": "sre", "Priority": "P0", "env": "prod"},
        [{"Key": "Team", "Value": "sre"}, {"Key": "Priority", "Value": "P0"}],
    ],
)
def test_sns_alarm_tags_fill_gaps_as_the_event_s_do(tags: Any) -> None:
    """The SNS message's propagated `AlarmTags` (an object, or Key/Value pairs) supply
    team/priority as the event's `alarmTags` do, so both forms of one alarm agree."""
    payload = raw_alarm(AlarmDescription="no segments here", AlarmTags=tags)
    alert = normalize_body(json.dumps(payload)).alerts[0]
    assert (alert.team, alert.priority) == ("sre", Priority.CRITICAL)


def test_an_alarm_tag_that_is_not_text_is_passed_over() -> None:
    """A tag whose value is an object neither names a team nor costs the alarm its ticket."""
    event = json.loads(read("cloudwatch/eventbridge-alarm.json"))
    event["detail"]["configuration"]["description"] = "no segments here"
    event["detail"]["alarmTags"] = {"Team": {"name": "sre"}, "Priority": 1, "x": ["y"]}
    alert = normalize_body(json.dumps(event)).alerts[0]
    assert (alert.status, alert.team, alert.priority) == (Status.FIRING, None, Priority.HIGH)


def test_a_composite_alarm_in_its_wait_period_fires_and_names_its_children() -> None:
    """EventBridge sends a composite alarm whose actions wait (WaitPeriod): it still fires
    (the actions run when the wait ends), labelled so, with the child alarms that fired."""
    alert = only("cloudwatch/eventbridge-composite-suppressed-waitperiod.json")
    assert alert.status is Status.FIRING
    assert alert.labels["actions_suppressed_by"] == "WaitPeriod"
    assert alert.labels["triggering_alarms"] == "ServerCpuTooHigh"


def test_a_composite_alarm_suppressed_by_its_suppressor_opens_nothing() -> None:
    """Suppressed by its suppressor alarm (a maintenance window), a composite alarm's actions
    do nothing, SNS included: triage skips it too rather than open a ticket EventBridge-only."""
    event = json.loads(read("cloudwatch/eventbridge-composite-suppressed-waitperiod.json"))
    event["detail"]["state"]["actionsSuppressedBy"] = "Alarm"
    result = normalize_body(json.dumps(event))
    assert result.alerts == ()
    [skipped] = result.skipped
    assert skipped.reason == "actions_suppressed"
    assert "ServiceMaintenanceAlarm" in skipped.detail


def test_a_composite_alarm_back_to_ok_while_suppressed_still_resolves() -> None:
    """A composite alarm that returns to OK during its suppressor's window resolves (labelled
    so), on the same fingerprint: a ticket opened before the window does not stay open."""
    event = json.loads(read("cloudwatch/eventbridge-composite-suppressed-waitperiod.json"))
    firing = normalize_body(json.dumps(event)).alerts[0]
    event["detail"]["state"] |= {"actionsSuppressedBy": "Alarm", "value": "OK"}
    event["detail"]["previousState"]["value"] = "ALARM"
    [alert] = normalize_body(json.dumps(event)).alerts
    assert alert.status is Status.RESOLVED
    assert alert.labels["actions_suppressed_by"] == "Alarm"
    assert alert.fingerprint == firing.fingerprint


def test_a_description_sentence_after_a_key_stays_prose() -> None:
    """ "Severity: High - CPU above 80% for 15 minutes …" is a sentence, not a KEY=value
    segment: the description keeps it and the severity is not the whole sentence."""
    alert = only("cloudwatch/description-severity-prose.json")
    assert alert.severity is None
    assert alert.description.startswith("Severity: High - CPU above 80%")
    assert parse_description("Severity: high | TEAM=payments")[0] == {
        "severity": "high",
        "team": "payments",
    }


def test_an_anomaly_detection_alarm_is_labelled_so_with_its_band() -> None:
    """An alarm whose threshold is a query (ThresholdMetricId: an anomaly detection band) is
    labelled anomaly_detection, naming the band, not plain metric math."""
    alert = only("cloudwatch/sns-anomaly-detection.json")
    assert alert.labels["alarm_type"] == "anomaly_detection"
    assert alert.labels["threshold_metric"] == "t1"
    assert "ANOMALY_DETECTION_BAND(m1, 3)" in alert.labels["metrics"]


@pytest.mark.parametrize("threshold_metric_id", ["ad1", None])
def test_an_anomaly_detection_event_is_labelled_so_too(threshold_metric_id: str | None) -> None:
    """The EventBridge form of an anomaly detection alarm (thresholdMetricId, or only the
    ANOMALY_DETECTION_BAND query) is labelled as the SNS form is, not as metric math."""
    event = json.loads(read("cloudwatch/eventbridge-alarm.json"))
    config = event["detail"]["configuration"]
    config["metrics"] = [
        {
            "id": "m1",
            "metricStat": {
                "metric": {"namespace": "AWS/EC2", "name": "NetworkIn", "dimensions": {}},
                "period": 300,
                "stat": "Average",
            },
            "returnData": True,
        },
        {"id": "ad1", "expression": "ANOMALY_DETECTION_BAND(m1, 2)", "returnData": True},
    ]
    if threshold_metric_id:
        config["thresholdMetricId"] = threshold_metric_id
    alert = normalize_body(json.dumps(event)).alerts[0]
    assert alert.labels["alarm_type"] == "anomaly_detection"
    assert alert.labels["threshold_metric"] == "ad1"


def test_dimension_values_that_are_not_text_read_as_json() -> None:
    """A null, boolean or object dimension value reads as JSON writes it, not as Python prints it."""
    dimensions = [
        {"name": "InstanceId", "value": None},
        {"name": "Spot", "value": True},
        {"name": "Tags", "value": {"a": 1}},
    ]
    payload = raw_alarm(Trigger={**raw_alarm()["Trigger"], "Dimensions": dimensions})
    alert = normalize_body(json.dumps(payload)).alerts[0]
    assert alert.labels["dimensions"] == 'InstanceId=null, Spot=true, Tags={"a":1}'
    event = json.loads(read("cloudwatch/eventbridge-alarm.json"))
    stat = event["detail"]["configuration"]["metrics"][0]["metricStat"]
    stat["metric"]["dimensions"] = {"InstanceId": None}
    assert normalize_body(json.dumps(event)).alerts[0].labels["dimensions"] == "InstanceId=null"


def test_a_null_alarm_rule_is_no_composite_alarm() -> None:
    """A classic message with "AlarmRule": null is a metric alarm, as a null event alarmRule is."""
    alert = normalize_body(json.dumps(raw_alarm(AlarmRule=None))).alerts[0]
    assert "alarm_type" not in alert.labels
    assert alert.labels["metric"] == "TargetResponseTime"


def _changed(name: str, path: tuple[str, ...], value: Any) -> str:
    body = json.loads(read(name))
    if "Message" in body:  # the SNS envelope: change the alarm inside it
        inner = json.loads(body["Message"])
        _set(inner, path, value)
        body["Message"] = json.dumps(inner)
    else:
        _set(body, path, value)
    return json.dumps(body)


def _set(node: Any, path: tuple[str, ...], value: Any) -> None:
    for step in path[:-1]:
        node = node[step]
    node[path[-1]] = value


@pytest.mark.parametrize("odd", [{"a": None}, ["x", True], 7, "text"])
@pytest.mark.parametrize(
    ("name", "path"),
    [
        ("cloudwatch/sns-alarm.json", ("AlarmDescription",)),
        ("cloudwatch/sns-alarm.json", ("NewStateReason",)),
        ("cloudwatch/sns-alarm.json", ("OldStateValue",)),
        ("cloudwatch/sns-alarm.json", ("Trigger",)),
        ("cloudwatch/raw-metric-math.json", ("Trigger", "Metrics")),
        ("cloudwatch/eventbridge-metric-math.json", ("detail", "configuration")),
        ("cloudwatch/eventbridge-metric-math.json", ("detail", "configuration", "metrics")),
        ("cloudwatch/eventbridge-metric-math.json", ("detail", "configuration", "description")),
        ("cloudwatch/eventbridge-metric-math.json", ("detail", "previousState")),
        ("cloudwatch/eventbridge-metric-math.json", ("detail", "previousState", "value")),
        ("cloudwatch/eventbridge-metric-math.json", ("detail", "state", "reason")),
        ("cloudwatch/eventbridge-composite.json", ("detail", "state", "actionsSuppressedBy")),
    ],
)
def test_a_display_only_field_of_any_json_type_keeps_the_alarm(
    name: str, path: tuple[str, ...], odd: Any
) -> None:
    """A description, reason, old state, trigger, configuration or metrics list of any JSON type
    gives the same alarm with the same fingerprint, never a refusal or a Python repr."""
    before = only(name)
    [alert] = normalize_body(_changed(name, path, odd)).alerts
    assert (alert.fingerprint, alert.status, alert.title) == (
        before.fingerprint,
        before.status,
        before.title,
    )
    shown = [alert.description, *alert.labels.values()]
    assert not any(word in text for text in shown for word in ("None", "True", "{'", "['"))


def test_a_description_that_is_an_object_reads_as_json_text() -> None:
    """An AlarmDescription that is an object is shown as JSON text in the description."""
    alert = only_body(_changed("cloudwatch/sns-alarm.json", ("AlarmDescription",), {"a": [1]}))
    assert alert.description.startswith('{"a":[1]}')


def only_body(body: str) -> Alert:
    [alert] = normalize_body(body).alerts
    return alert


@pytest.mark.parametrize(
    ("message", "error"),
    [
        ('{"AlarmName": "orders-api-5xx", "NewStateValue": "ALA', "SNS Message is not valid JSON"),
        ("[1, 2]", "SNS Message is JSON an array, not an object"),
    ],
)
def test_an_sns_message_that_is_broken_json_is_a_one_line_decode_error(
    message: str, error: str
) -> None:
    """An SNS notification whose Message starts like JSON but is no JSON object (cut short, an
    array) is a DecodeError saying so in one line, not an alert or a crash."""
    envelope = json.loads(read("cloudwatch/sns-alarm.json"))
    envelope["Message"] = message
    with pytest.raises(DecodeError, match=error) as caught:
        normalize_body(json.dumps(envelope))
    assert "\n" not in str(caught.value)
