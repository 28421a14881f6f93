"""AWS alert sources, round 17 (helper 469): CloudWatch alarms and EventBridge events in the
shapes AWS documents that triage read wrongly."""

from __future__ import annotations

import json
from typing import Any

import pytest

from triage.errors import UnknownFormatError
from triage.models import Alert, Status
from triage.normalize import normalize_body
from triage.normalize.common import Normalized


def _read(body: dict[str, Any]) -> Normalized:
    """What `body` becomes."""
    return normalize_body(json.dumps(body))


def _only(body: dict[str, Any]) -> Alert:
    """The one alert `body` becomes."""
    [alert] = _read(body).alerts
    return alert


# --- CloudWatch: a metric math alarm over several metrics -------------------------------------

#: An error-rate alarm as the CloudWatch user guide builds one ("Create a CloudWatch alarm
#: based on a metric math expression"): 5XX count over request count on one load balancer.
_LB = [{"value": "app/orders/50dc6c495c0c9188", "name": "LoadBalancer"}]


def _stat(query_id: str, metric: str, dimensions: list[dict[str, str]]) -> dict[str, Any]:
    """A classic message's `Trigger.Metrics` entry reading `metric` of the load balancer."""
    return {
        "Id": query_id,
        "MetricStat": {
            "Metric": {
                "Dimensions": dimensions,
                "MetricName": metric,
                "Namespace": "AWS/ApplicationELB",
            },
            "Period": 60,
            "Stat": "Sum",
        },
        "ReturnData": False,
    }


def _math_alarm(state: str = "ALARM", old: str = "OK") -> dict[str, Any]:
    """The classic SNS alarm message of the error-rate alarm, in state `state`."""
    return {
        "AlarmName": "orders-5xx-rate",
        "AlarmDescription": None,
        "AWSAccountId": "123456789012",
        "NewStateValue": state,
        "NewStateReason": "Threshold Crossed: 1 datapoint [7.5] was greater than 5.0.",
        "StateChangeTime": "2026-11-01T10:00:00.000+0000",
        "Region": "US East (N. Virginia)",
        "AlarmArn": "arn:aws:cloudwatch:us-east-1:123456789012:alarm:orders-5xx-rate",
        "OldStateValue": old,
        "Trigger": {
            "Period": 60,
            "EvaluationPeriods": 1,
            "ComparisonOperator": "GreaterThanThreshold",
            "Threshold": 5.0,
            "TreatMissingData": "notBreaching",
            "Metrics": [
                _stat("m1", "HTTPCode_Target_5XX_Count", _LB),
                _stat("m2", "RequestCount", _LB),
                {"Expression": "100*m1/m2", "Id": "e1", "Label": "error %", "ReturnData": True},
            ],
        },
    }


def test_a_metric_math_alarm_whose_metrics_share_dimensions_keeps_them() -> None:
    """An error-rate alarm reading two metrics of one load balancer keeps that load balancer
    as its `dimensions`, as a single-metric alarm on it does."""
    labels = _only(_math_alarm()).labels
    assert labels.get("alarm_type") == "metric_math"
    assert labels.get("dimensions") == "LoadBalancer=app/orders/50dc6c495c0c9188"


def test_a_metric_math_alarm_over_two_resources_names_each_query_s_dimensions() -> None:
    """Metric math over two load balancers claims neither as the alarm's, but its query
    summary names each metric's dimensions, so the resources are not lost."""
    body = _math_alarm()
    other = [{"value": "app/payments/9f1e", "name": "LoadBalancer"}]
    body["Trigger"]["Metrics"][1] = _stat("m2", "HTTPCode_Target_5XX_Count", other)
    labels = _only(body).labels
    assert "dimensions" not in labels
    summary = labels["metrics"]
    assert "m1 = AWS/ApplicationELB HTTPCode_Target_5XX_Count Sum" in summary
    assert "LoadBalancer=app/orders/50dc6c495c0c9188" in summary
    assert "LoadBalancer=app/payments/9f1e" in summary


def test_a_metric_math_event_whose_metrics_share_dimensions_keeps_them() -> None:
    """The same alarm's EventBridge state change (camelCase, dimensions as an object) keeps
    the load balancer too, and is the same incident as its SNS message."""
    event = {
        "version": "0",
        "id": "c4c1c1c9-6542-e61b-6ef0-8c4d36933a92",
        "detail-type": "CloudWatch Alarm State Change",
        "source": "aws.cloudwatch",
        "account": "123456789012",
        "time": "2026-11-01T10:00:00Z",
        "region": "us-east-1",
        "resources": ["arn:aws:cloudwatch:us-east-1:123456789012:alarm:orders-5xx-rate"],
        "detail": {
            "alarmName": "orders-5xx-rate",
            "state": {"value": "ALARM", "reason": "Threshold Crossed", "reasonData": "{}"},
            "previousState": {"value": "OK"},
            "configuration": {
                "metrics": [
                    {
                        "id": query_id,
                        "metricStat": {
                            "metric": {
                                "namespace": "AWS/ApplicationELB",
                                "name": metric,
                                "dimensions": {"LoadBalancer": "app/orders/50dc6c495c0c9188"},
                            },
                            "period": 60,
                            "stat": "Sum",
                        },
                        "returnData": False,
                    }
                    for query_id, metric in (
                        ("m1", "HTTPCode_Target_5XX_Count"),
                        ("m2", "RequestCount"),
                    )
                ]
                + [{"id": "e1", "expression": "100*m1/m2", "returnData": True}]
            },
        },
    }
    alert = _only(event)
    assert alert.labels.get("dimensions") == "LoadBalancer=app/orders/50dc6c495c0c9188"
    assert alert.fingerprint == _only(_math_alarm()).fingerprint


def test_a_metric_math_alarm_s_firing_and_ok_stay_one_incident() -> None:
    """Keeping the dimensions changes labels only: the alarm's ALARM and OK share one
    fingerprint, keyed by account, Region and alarm name as before."""
    firing, resolved = _only(_math_alarm()), _only(_math_alarm("OK", "ALARM"))
    assert firing.fingerprint == resolved.fingerprint
    assert firing.identity == {
        "account": "123456789012",
        "region": "us-east-1",
        "alarm": "orders-5xx-rate",
    }


# --- S3 event notifications sent to triage's queue by mistake ----------------------------------

#: The message S3 sends to a queue or topic when a bucket's event notification to it is set up
#: (S3 user guide, "Event message structure": the `s3:TestEvent`).
_S3_TEST_EVENT = {
    "Service": "Amazon S3",
    "Event": "s3:TestEvent",
    "Time": "2026-11-01T10:00:00.000Z",
    "Bucket": "orders-uploads",
    "RequestId": "5582815E1AEA5ADF",
    "HostId": "8cLeGAmw098X5cv4Zkwcmo8vvZa3eH3eKxsPzbB9wrR+YstdA6Knx4Ip8EXAMPLE",
}

#: An object created in that bucket, as S3's event notification (version 2.1) writes it.
_S3_RECORDS = {
    "Records": [
        {
            "eventVersion": "2.1",
            "eventSource": "aws:s3",
            "awsRegion": "us-east-1",
            "eventTime": "2026-11-01T10:00:00.000Z",
            "eventName": "ObjectCreated:Put",
            "userIdentity": {"principalId": "AWS:AIDAJDPLRKLG7UEXAMPLE"},
            "requestParameters": {"sourceIPAddress": "203.0.113.7"},
            "responseElements": {"x-amz-request-id": "C3D13FE58DE4C810"},
            "s3": {
                "s3SchemaVersion": "1.0",
                "configurationId": "to-triage",
                "bucket": {
                    "name": "orders-uploads",
                    "ownerIdentity": {"principalId": "A3NL1KOZZKExample"},
                    "arn": "arn:aws:s3:::orders-uploads",
                },
                "object": {"key": "2026/11/01/batch.csv", "size": 1024, "sequencer": "0A1B2C"},
            },
        }
    ]
}


def _in_sns(message: dict[str, Any]) -> dict[str, Any]:
    """`message` as an SNS topic delivers it to the queue, raw message delivery off."""
    return {
        "Type": "Notification",
        "MessageId": "22b80b92-fdea-4c2c-8f9d-bdfb0c7bf324",
        "TopicArn": "arn:aws:sns:us-east-1:123456789012:uploads",
        "Subject": "Amazon S3 Notification",
        "Message": json.dumps(message),
        "Timestamp": "2026-11-01T10:00:00.000Z",
    }


@pytest.mark.parametrize("body", [_S3_TEST_EVENT, _in_sns(_S3_TEST_EVENT)], ids=["raw", "sns"])
def test_s3_s_test_event_is_skipped_naming_the_bucket_not_refused(body: dict[str, Any]) -> None:
    """The s3:TestEvent S3 sends when a bucket's notification to the queue is set up changes
    no ticket and is not refused to the DLQ; its log line names the bucket sending to it."""
    read = _read(body)
    assert read.alerts == ()
    [skip] = read.skipped
    assert (skip.source, skip.reason) == ("s3", "s3_test_event")
    assert "orders-uploads" in skip.detail


@pytest.mark.parametrize("body", [_S3_RECORDS, _in_sns(_S3_RECORDS)], ids=["raw", "sns"])
def test_an_s3_event_notification_is_refused_saying_what_it_is(body: dict[str, Any]) -> None:
    """An object's S3 event notification is no alert: refused (kept in the DLQ, nothing lost)
    with an error that names S3, the event and the bucket, and how to stop it."""
    with pytest.raises(UnknownFormatError) as raised:
        _read(body)
    message = str(raised.value)
    assert "top-level keys: 'Records'" in message
    assert "S3 event notification" in message
    assert "ObjectCreated:Put" in message and "orders-uploads" in message


def test_a_body_that_only_names_s3_s_test_event_is_still_an_alert() -> None:
    """A script's generic alert whose text mentions s3:TestEvent is read as the alert it is."""
    body = {"title": "s3:TestEvent seen on orders-uploads", "Event": "s3:TestEvent"}
    alert = _only(body)
    assert alert.status is Status.FIRING


# --- Findings of a member account, received in the administrator account ----------------------

#: A delegated administrator's EventBridge receives its members' findings: the envelope's
#: `account` is the administrator's, the finding's own account is in `detail` (GuardDuty's
#: `accountId`, "the ID of the account in which the finding was generated"; Inspector's
#: `awsAccountId`; Macie's `accountId`).
_ADMIN, _MEMBER = "111111111111", "222222222222"


def _finding_event(source: str, detail_type: str, detail: dict[str, Any]) -> dict[str, Any]:
    """`detail` as the administrator account's EventBridge delivers it."""
    return {
        "version": "0",
        "id": "8a3bd5e1-7f0c-4d5b-9f1e-1b2c3d4e5f60",
        "detail-type": detail_type,
        "source": source,
        "account": _ADMIN,
        "time": "2026-11-01T10:00:00Z",
        "region": "us-east-1",
        "resources": [],
        "detail": detail,
    }


def _guardduty(account: str = _MEMBER, count: int = 3) -> dict[str, Any]:
    """A member's GuardDuty finding (port probe on an instance), seen `count` times."""
    return _finding_event(
        "aws.guardduty",
        "GuardDuty Finding",
        {
            "schemaVersion": "2.0",
            "accountId": account,
            "region": "us-east-1",
            "partition": "aws",
            "id": "16afba5c5c43e07c9e3e5e2e544e95df",
            "arn": f"arn:aws:guardduty:us-east-1:{account}:detector/d1/finding/16afba5c",
            "type": "Recon:EC2/PortProbeUnprotectedPort",
            "resource": {"resourceType": "Instance", "instanceDetails": {"instanceId": "i-99"}},
            "severity": 5,
            "title": "Unprotected port on EC2 instance i-99 is being probed.",
            "service": {"count": count, "archived": False},
        },
    )


def _inspector() -> dict[str, Any]:
    """A member's Inspector package vulnerability finding on an instance."""
    arn = f"arn:aws:inspector2:us-east-1:{_MEMBER}:finding/0f2e3d4c5b6a"
    return _finding_event(
        "aws.inspector2",
        "Inspector2 Finding",
        {
            "awsAccountId": _MEMBER,
            "findingArn": arn,
            "resources": [{"id": "i-99", "type": "AWS_EC2_INSTANCE", "region": "us-east-1"}],
            "severity": "HIGH",
            "status": "ACTIVE",
            "title": "CVE-2023-0286 - openssl",
            "type": "PACKAGE_VULNERABILITY",
        },
    )


def _macie() -> dict[str, Any]:
    """A member's Macie policy finding on a bucket."""
    return _finding_event(
        "aws.macie",
        "Macie Finding",
        {
            "schemaVersion": "1.0",
            "id": "64b917aa-3843-014c-91d8-937ffexample",
            "accountId": _MEMBER,
            "region": "us-east-1",
            "type": "Policy:IAMUser/S3BucketPublic",
            "title": "The S3 bucket is publicly accessible",
            "severity": {"score": 3, "description": "High"},
            "resourcesAffected": {"s3Bucket": {"name": "orders-exports"}},
            "archived": False,
        },
    )


@pytest.mark.parametrize("body", [_guardduty(), _inspector(), _macie()], ids=lambda b: b["source"])
def test_a_member_s_finding_names_the_member_account_it_is_in(body: dict[str, Any]) -> None:
    """A member account's finding received by the administrator keeps the member's account
    (`finding_account`): the account whose resource it is, which the responder must open."""
    alert = _only(body)
    assert alert.labels.get("finding_account") == _MEMBER
    assert alert.labels.get("account") == _ADMIN


def test_a_member_s_finding_keeps_its_incident_keyed_as_before() -> None:
    """Naming the member's account is a label only: the finding's fingerprint is the one the
    administrator's events keyed it by before, and its count rising is the same incident."""
    first, again = _only(_guardduty(count=3)), _only(_guardduty(count=9))
    assert first.identity == {
        "account": _ADMIN,
        "region": "us-east-1",
        "finding": "16afba5c5c43e07c9e3e5e2e544e95df",
    }
    assert first.fingerprint == again.fingerprint


def test_an_own_account_s_finding_adds_no_second_account() -> None:
    """A finding in the account that received it names that account once, as before."""
    body = _guardduty(account=_ADMIN)
    assert "finding_account" not in _only(body).labels


# --- CloudWatch: a cross-account alarm names the account whose metrics it reads ----------------

#: A monitoring account's alarm on a source account's metric (PutMetricAlarm, "Cross-account
#: alarms": each MetricDataQuery's `AccountId`).
_SOURCE_ACCOUNT = "444455556666"


def test_a_cross_account_alarm_names_the_account_of_the_metrics_it_reads() -> None:
    """A monitoring account's alarm over a source account's metrics labels that account
    (`metric_account`): the account whose load balancer it is; the alarm stays keyed by its
    own account."""
    body = _math_alarm()
    for query in body["Trigger"]["Metrics"]:
        query["AccountId"] = _SOURCE_ACCOUNT
    alert = _only(body)
    assert alert.labels.get("metric_account") == _SOURCE_ACCOUNT
    assert alert.identity["account"] == "123456789012"
    assert alert.fingerprint == _only(_math_alarm()).fingerprint


def test_an_alarm_over_its_own_account_s_metrics_names_no_second_account() -> None:
    """Queries that name the alarm's own account add no `metric_account`."""
    body = _math_alarm()
    for query in body["Trigger"]["Metrics"]:
        query["AccountId"] = "123456789012"
    assert "metric_account" not in _only(body).labels
