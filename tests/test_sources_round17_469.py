"""AWS alert sources, round 17 (helper 469): CloudWatch alarms and EventBridge events in the
shapes AWS documents that triage read wrongly."""

from __future__ import annotations

import json
from typing import Any

from triage.models import Alert
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
