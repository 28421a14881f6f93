"""AWS alert sources, round 15 (helper 480): CloudWatch alarms through SNS and EventBridge, and
AWS services' own events, in shapes AWS documents (or that its consoles let a user write) that
triage read wrongly: console links into the wrong partition, Markdown alarm descriptions whose
TEAM/PRIORITY/RUNBOOK segments went unread, and an SNS Message encoded twice read as prose."""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import urlsplit

import pytest

from triage.errors import DecodeError
from triage.models import Alert, Priority, Status
from triage.normalize import normalize_body
from triage.normalize.common import Normalized

ACCOUNT = "123456789012"


def _read(body: dict[str, Any] | str) -> Normalized:
    """What `body` becomes."""
    return normalize_body(body if isinstance(body, str) else json.dumps(body))


def _only(body: dict[str, Any] | str) -> Alert:
    """The one alert `body` becomes."""
    [alert] = _read(body).alerts
    return alert


def _host(url: str | None) -> str:
    """The host a link points at ("" for no link)."""
    return urlsplit(url).hostname or "" if url else ""


def _alarm_message(
    *,
    name: str = "orders-api-cpu",
    partition: str = "aws",
    region: str = "us-east-1",
    region_name: str = "US East (N. Virginia)",
    state: str = "ALARM",
    old_state: str = "OK",
    description: str | None = None,
) -> dict[str, Any]:
    """A classic alarm message, as the CloudWatch user guide's "Amazon SNS notification
    payload" shows it (AlarmArn in the alarm's own partition)."""
    return {
        "AlarmName": name,
        "AlarmDescription": description,
        "AWSAccountId": ACCOUNT,
        "NewStateValue": state,
        "NewStateReason": "Threshold Crossed: 1 out of the last 1 datapoints was greater than the threshold (80.0)",
        "StateChangeTime": "2026-11-23T10:00:12.845+0000",
        "Region": region_name,
        "AlarmArn": f"arn:{partition}:cloudwatch:{region}:{ACCOUNT}:alarm:{name}",
        "OldStateValue": old_state,
        "OKActions": [f"arn:{partition}:sns:{region}:{ACCOUNT}:ops"],
        "AlarmActions": [f"arn:{partition}:sns:{region}:{ACCOUNT}:ops"],
        "InsufficientDataActions": [],
        "Trigger": {
            "MetricName": "CPUUtilization",
            "Namespace": "AWS/EC2",
            "StatisticType": "Statistic",
            "Statistic": "AVERAGE",
            "Unit": None,
            "Dimensions": [{"value": "i-0abc1234def567890", "name": "InstanceId"}],
            "Period": 300,
            "EvaluationPeriods": 1,
            "ComparisonOperator": "GreaterThanThreshold",
            "Threshold": 80.0,
            "TreatMissingData": "missing",
            "EvaluateLowSampleCountPercentile": "",
        },
    }


def _sns(message: str, *, partition: str = "aws", region: str = "us-east-1") -> dict[str, Any]:
    """The SNS notification an SQS subscription receives (SNS developer guide, "Amazon SNS
    message and JSON formats": HTTP/S notification JSON), signature fields included."""
    domain = "amazonaws.com.cn" if partition == "aws-cn" else "amazonaws.com"
    return {
        "Type": "Notification",
        "MessageId": "22b80b92-fdea-4c2c-8f9d-bdfb0c7bf324",
        "TopicArn": f"arn:{partition}:sns:{region}:{ACCOUNT}:ops",
        "Subject": None,
        "Message": message,
        "Timestamp": "2026-11-23T10:00:13.012Z",
        "SignatureVersion": "1",
        "Signature": "EXAMPLEpH+DcEwjAPg8O9mY8dReBSwksfg2S7WKQcikcNKWLQjwu6A4VbeS0QHVCkhRS7fUQvi2egU3N858fiTDN6bkkOxYDVrY0Ad8L10Hs3zH81mtnPk5uvvolIC1CXGu43obcgFxeL3khZl8IKvO61GWB6jI9b5+gLPoBc1Q=",
        "SigningCertURL": f"https://sns.{region}.{domain}/SimpleNotificationService-f3ecfb7224c7233fe7bb5f59f96de52f.pem",
        "UnsubscribeURL": f"https://sns.{region}.{domain}/?Action=Unsubscribe&SubscriptionArn=arn:{partition}:sns:{region}:{ACCOUNT}:ops:c9135db0",
    }


def _event(
    source: str, kind: str, detail: dict[str, Any], *, region: str = "us-east-1", **more: Any
) -> dict[str, Any]:
    """An EventBridge event envelope (EventBridge user guide, "Amazon EventBridge events")."""
    return {
        "version": "0",
        "id": "6a7e8feb-b491-4cf7-a9f1-bf3703467718",
        "detail-type": kind,
        "source": source,
        "account": ACCOUNT,
        "time": "2026-11-23T10:00:12Z",
        "region": region,
        "resources": [],
        "detail": detail,
        **more,
    }


# --- Console links in the partition the alarm or finding lives in ----------------------------


def _guardduty(partition: str, region: str, *, archived: bool = False) -> dict[str, Any]:
    """A GuardDuty Finding event as GuardDuty's user guide ("EventBridge event format for
    GuardDuty") shows it, with its own `partition` field, in `region`."""
    finding = "16afba5c5c43e07c9e3e5e2e544e95df"
    detail = {
        "schemaVersion": "2.0",
        "accountId": ACCOUNT,
        "region": region,
        "partition": partition,
        "id": finding,
        "arn": f"arn:{partition}:guardduty:{region}:{ACCOUNT}:detector/123456/finding/{finding}",
        "type": "Recon:EC2/PortProbeUnprotectedPort",
        "resource": {"resourceType": "Instance"},
        "service": {"serviceName": "guardduty", "archived": archived, "count": 1},
        "severity": 2.0,
        "updatedAt": "2026-11-23T10:00:00.000Z",
        "title": "Unprotected port on EC2 instance is being probed.",
    }
    return _event("aws.guardduty", "GuardDuty Finding", detail, region=region)


@pytest.mark.parametrize(
    ("partition", "region", "host"),
    [
        ("aws-cn", "cn-north-1", "cn-north-1.console.amazonaws.cn"),
        ("aws-us-gov", "us-gov-west-1", "console.amazonaws-us-gov.com"),
        ("aws", "eu-west-1", "eu-west-1.console.aws.amazon.com"),
    ],
)
def test_guardduty_finding_links_to_its_partitions_console(
    partition: str, region: str, host: str
) -> None:
    """A GuardDuty finding in China or GovCloud links to that partition's console, not to the
    commercial console (where its account cannot sign in)."""
    alert = _only(_guardduty(partition, region))
    assert _host(alert.links.get("finding")) == host


@pytest.mark.parametrize(
    ("partition", "region"),
    [("aws-iso", "us-iso-east-1"), ("aws-iso-b", "us-isob-east-1"), ("aws-eusc", "eusc-de-east-1")],
)
def test_alarm_in_a_partition_without_a_known_console_has_no_commercial_link(
    partition: str, region: str
) -> None:
    """An alarm in an isolated or sovereign partition (its AlarmArn says so) keeps its
    incident but gets no link into the commercial console, which does not hold it."""
    message = _alarm_message(partition=partition, region=region, region_name=region)
    alert = _only(_sns(json.dumps(message)))
    assert alert.status is Status.FIRING
    assert alert.identity["region"] == region
    assert not alert.links.get("alarm", "").count("aws.amazon.com")


def _codedeploy_failed(partition: str, region: str) -> dict[str, Any]:
    """A CodeDeploy trigger's notice (CodeDeploy user guide, "Monitoring deployments with
    Amazon SNS event notifications": its JSON Message) of a failed deployment in `region`."""
    message = {
        "region": region,
        "accountId": ACCOUNT,
        "eventTriggerName": "checkout-deploy-failed",
        "applicationName": "checkout",
        "deploymentId": "d-75I7MBT7C",
        "deploymentGroupName": "checkout-prod",
        "createTime": "Sat Dec 05 05:49:55 UTC 2026",
        "completeTime": "Sat Dec 05 05:52:12 UTC 2026",
        "status": "FAILED",
    }
    return _sns(json.dumps(message), partition=partition, region=region)


@pytest.mark.parametrize(
    ("partition", "region", "host"),
    [
        ("aws-cn", "cn-northwest-1", "cn-northwest-1.console.amazonaws.cn"),
        ("aws-us-gov", "us-gov-east-1", "console.amazonaws-us-gov.com"),
    ],
)
def test_codedeploy_deployment_links_to_its_partitions_console(
    partition: str, region: str, host: str
) -> None:
    """A failed CodeDeploy deployment in China or GovCloud links that partition's console."""
    alert = _only(_codedeploy_failed(partition, region))
    assert alert.status is Status.FIRING
    assert _host(alert.links.get("deployment")) == host


def test_health_event_outside_the_aws_partition_does_not_link_the_commercial_dashboard() -> None:
    """An AWS Health event in China (its eventArn's partition aws-cn) does not link the
    commercial Health Dashboard, which shows no event of that partition."""
    detail = {
        "eventArn": "arn:aws-cn:health:cn-north-1::event/EC2/AWS_EC2_OPERATIONAL_ISSUE/AWS_EC2_OPERATIONAL_ISSUE_7f35c8ae",
        "service": "EC2",
        "eventTypeCode": "AWS_EC2_OPERATIONAL_ISSUE",
        "eventTypeCategory": "issue",
        "statusCode": "open",
        "eventDescription": [{"language": "en_US", "latestDescription": "Elevated errors."}],
    }
    alert = _only(_event("aws.health", "AWS Health Event", detail, region="cn-north-1"))
    assert "health.aws.amazon.com" not in alert.links.get("event", "")


def test_health_event_in_the_aws_partition_keeps_its_dashboard_link() -> None:
    """A commercial AWS Health event still links its event in the Health Dashboard."""
    detail = {
        "eventArn": "arn:aws:health:us-east-1::event/EC2/AWS_EC2_OPERATIONAL_ISSUE/AWS_EC2_OPERATIONAL_ISSUE_7f35c8ae",
        "service": "EC2",
        "eventTypeCode": "AWS_EC2_OPERATIONAL_ISSUE",
        "eventTypeCategory": "issue",
        "statusCode": "open",
    }
    alert = _only(_event("aws.health", "AWS Health Event", detail))
    assert _host(alert.links.get("event")) == "health.aws.amazon.com"


def test_govcloud_alarm_fired_by_sns_is_resolved_by_its_eventbridge_ok() -> None:
    """A GovCloud alarm's ALARM through SNS and its OK through EventBridge (CloudWatch user
    guide, "Alarm events and EventBridge") are one incident: the OK closes it."""
    name = "orders-api-cpu"
    fired = _only(
        _sns(
            json.dumps(
                _alarm_message(
                    partition="aws-us-gov",
                    region="us-gov-west-1",
                    region_name="AWS GovCloud (US-West)",
                )
            )
        )
    )
    detail = {
        "alarmName": name,
        "state": {
            "value": "OK",
            "reason": "Threshold Crossed",
            "timestamp": "2026-11-23T10:10:00.000+0000",
        },
        "previousState": {"value": "ALARM"},
        "configuration": {"metrics": []},
    }
    arn = f"arn:aws-us-gov:cloudwatch:us-gov-west-1:{ACCOUNT}:alarm:{name}"
    ok = _only(
        _event(
            "aws.cloudwatch",
            "CloudWatch Alarm State Change",
            detail,
            region="us-gov-west-1",
            resources=[arn],
        )
    )
    assert (fired.status, ok.status) == (Status.FIRING, Status.RESOLVED)
    assert ok.fingerprint == fired.fingerprint


# --- Markdown in an alarm's description ----------------------------------------------------


def _described(description: str) -> Alert:
    """The alert of an ALARM whose AlarmDescription is `description` (at most 1,024
    characters, CloudWatch API reference, PutMetricAlarm)."""
    return _only(_sns(json.dumps(_alarm_message(description=description))))


def test_markdown_list_of_segments_routes_the_alarm() -> None:
    """TEAM/PRIORITY/RUNBOOK written as a Markdown list ("- TEAM=payments") are read as
    segments: the alarm goes to its team with its priority and runbook, not to the default."""
    alert = _described(
        "High CPU on the payments API.\n"
        "- TEAM=payments\n"
        "- PRIORITY=P1\n"
        "- RUNBOOK=https://wiki.example.com/runbooks/payments-cpu"
    )
    assert alert.team == "payments"
    assert alert.priority is Priority.HIGH
    assert alert.runbook_url == "https://wiki.example.com/runbooks/payments-cpu"
    assert "TEAM" not in alert.description


def test_markdown_bold_keys_route_the_alarm() -> None:
    """Segments with bold keys ("**Team:** payments", "* **SEVERITY**=high") are read as
    segments, and a plain Markdown bullet of prose stays in the description."""
    alert = _described(
        "**Team:** payments\n* **SEVERITY**=high\n- check the dashboard before paging anyone"
    )
    assert alert.team == "payments"
    assert alert.severity == "high"
    assert "- check the dashboard before paging anyone" in alert.description
    assert "Team" not in alert.description


def test_markdown_link_as_runbook_is_its_url() -> None:
    """RUNBOOK given as a Markdown link ("[runbook](https://…)") or an autolink
    ("<https://…>") is that URL, linked as the ticket's runbook."""
    linked = _described("CPU | TEAM=ops | RUNBOOK=[open runbook](https://wiki.example.com/rb/cpu)")
    auto = _described("CPU\nTEAM=ops\nRUNBOOK=<https://wiki.example.com/rb/cpu>")
    assert linked.runbook_url == auto.runbook_url == "https://wiki.example.com/rb/cpu"


def test_code_span_segments_route_the_alarm() -> None:
    """Segments each in a code span on one line ("`TEAM=ops` `PRIORITY=P2`") are read."""
    alert = _described("Disk almost full\n`TEAM=ops` `PRIORITY=P2`")
    assert alert.team == "ops"
    assert alert.priority is Priority.MEDIUM


def test_markdown_does_not_move_the_fingerprint() -> None:
    """An alarm's Markdown description changes no identity: its OK resolves its ALARM."""
    description = "- TEAM=payments\n- PRIORITY=P1"
    fired = _described(description)
    ok = _only(
        _sns(json.dumps(_alarm_message(description=description, state="OK", old_state="ALARM")))
    )
    assert ok.status is Status.RESOLVED
    assert ok.fingerprint == fired.fingerprint


# --- An SNS Message encoded twice ------------------------------------------------------------


def test_alarm_message_encoded_twice_in_its_string_is_refused_not_prose() -> None:
    """A forwarder that JSON-encodes an already encoded alarm (Message `"\\"{…}\\""`) gets a
    clear refusal naming the Message, as a raw body encoded so is refused, never an SNS text
    alert keyed by its Subject: that one's OK would open another incident, not close it."""
    for state, old in (("ALARM", "OK"), ("OK", "ALARM")):
        message = json.dumps(json.dumps(json.dumps(_alarm_message(state=state, old_state=old))))
        with pytest.raises(DecodeError, match=r"SNS Message is an object's JSON encoded 3 times"):
            _read(_sns(message))


# --- SNS subscription confirmations ------------------------------------------------------------


def _confirmation(kind: str) -> dict[str, Any]:
    """An SNS subscription (or unsubscribe) confirmation as the SNS developer guide's "HTTP/HTTPS
    subscription confirmation JSON format" shows it."""
    topic = f"arn:aws:sns:us-west-2:{ACCOUNT}:ops"
    token = "2336412f37fb687f5d51e6e2425c464de12884ff7da54e6d55f8c7a6a72e0e2a11c3"
    return {
        "Type": kind,
        "MessageId": "165545c9-2a5c-472c-8df2-7ff2be2b3b1b",
        "Token": token,
        "TopicArn": topic,
        "Message": f"You have chosen to subscribe to the topic {topic}.\nTo confirm the subscription, visit the SubscribeURL included in this message.",
        "SubscribeURL": f"https://sns.us-west-2.amazonaws.com/?Action=ConfirmSubscription&TopicArn={topic}&Token={token}",
        "Timestamp": "2026-11-23T10:00:00.000Z",
        "SignatureVersion": "1",
        "Signature": "EXAMPLEpH+DcEwjAPg8O9mY8dReBSwksfg2S7WKQcikcNKWLQjwu6A4VbeS0QHVCkhRS7fUQvi2egU3N858fiTDN6bkkOxYDVrY0Ad8L10Hs3zH81mtnPk5uvvolIC1CXGu43obcgFxeL3khZl8IKvO61GWB6jI9b5+gLPoBc1Q=",
        "SigningCertURL": "https://sns.us-west-2.amazonaws.com/SimpleNotificationService-f3ecfb7224c7233fe7bb5f59f96de52f.pem",
    }


@pytest.mark.parametrize("kind", ["SubscriptionConfirmation", "UnsubscribeConfirmation"])
def test_sns_confirmation_warns_in_one_line_without_its_url(kind: str) -> None:
    """A subscription or unsubscribe confirmation is skipped, and a note (logged as a warning)
    says in one line that alerts from the topic do not arrive and what to do, naming the
    topic and never the SubscribeURL or its Token."""
    normalized = _read(_confirmation(kind))
    assert normalized.alerts == ()
    assert [s.source for s in normalized.skipped] == ["sns"]
    [note] = normalized.notes
    assert "\n" not in note
    assert f"arn:aws:sns:us-west-2:{ACCOUNT}:ops" in note
    assert "no alert arrives" in note
    assert "2336412f37fb" not in note and "ConfirmSubscription" not in note


# --- INSUFFICIENT_DATA, to and from ----------------------------------------------------------


def test_alarm_to_insufficient_data_says_its_incident_stays_open() -> None:
    """ALARM → INSUFFICIENT_DATA (CloudWatch user guide, "Alarm states": the metric is not
    available, a terminated instance's) changes no ticket, and the skip says the incident the
    ALARM opened stays open until the alarm's OK, so an operator reading the log knows why a
    ticket for a gone resource does not close; from OK it says no such thing."""
    from_alarm = _read(
        _sns(json.dumps(_alarm_message(state="INSUFFICIENT_DATA", old_state="ALARM")))
    )
    from_ok = _read(_sns(json.dumps(_alarm_message(state="INSUFFICIENT_DATA", old_state="OK"))))
    [skipped] = from_alarm.skipped
    assert from_alarm.alerts == from_ok.alerts == ()
    assert skipped.reason == "insufficient_data"
    assert "stays open" in skipped.detail
    assert "stays open" not in from_ok.skipped[0].detail


def test_insufficient_data_to_ok_resolves_what_insufficient_data_to_alarm_opened() -> None:
    """INSUFFICIENT_DATA → ALARM fires and INSUFFICIENT_DATA → OK resolves one incident: a
    new alarm's first evaluations (CloudWatch sets a new alarm INSUFFICIENT_DATA) lose nothing."""
    fired = _only(_sns(json.dumps(_alarm_message(state="ALARM", old_state="INSUFFICIENT_DATA"))))
    ok = _only(_sns(json.dumps(_alarm_message(state="OK", old_state="INSUFFICIENT_DATA"))))
    assert (fired.status, ok.status) == (Status.FIRING, Status.RESOLVED)
    assert ok.fingerprint == fired.fingerprint
