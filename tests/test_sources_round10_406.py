"""Alert sources, round 10 (helper 406): alerts real senders send that triage read wrongly,
built from the tools' documented payloads, each with the behaviour its fix must keep."""

from __future__ import annotations

import json
from typing import Any

from triage.models import Alert, Status
from triage.normalize import normalize_body


def _only(body: dict[str, Any]) -> Alert:
    """The one alert `body` becomes."""
    [alert] = normalize_body(json.dumps(body)).alerts
    return alert


# --- cloudwatch: an anomaly detection alarm loses the metric it watches -------------------------

#: The queries of an anomaly detection alarm on one load balancer's response time, as the
#: classic SNS message's Trigger.Metrics writes them (AWS's documented shape: the metric's
#: MetricStat and the ANOMALY_DETECTION_BAND expression its threshold is).
_ANOMALY_METRICS = [
    {
        "Id": "m1",
        "ReturnData": True,
        "MetricStat": {
            "Metric": {
                "Namespace": "AWS/ApplicationELB",
                "MetricName": "TargetResponseTime",
                "Dimensions": [{"value": "app/checkout/50dc6c495c0c9188", "name": "LoadBalancer"}],
            },
            "Period": 300,
            "Stat": "Average",
        },
    },
    {
        "Id": "ad1",
        "Expression": "ANOMALY_DETECTION_BAND(m1, 2)",
        "Label": "TargetResponseTime (expected)",
        "ReturnData": True,
    },
]


def _anomaly_alarm(state: str, old: str) -> dict[str, Any]:
    """A classic CloudWatch alarm notification of the anomaly detection alarm."""
    arn = "arn:aws:cloudwatch:us-east-1:123456789012:alarm:checkout-latency-anomaly"
    return {
        "AlarmName": "checkout-latency-anomaly",
        "AlarmDescription": None,
        "AWSAccountId": "123456789012",
        "AlarmConfigurationUpdatedTimestamp": "2026-12-06T09:00:00.000+0000",
        "NewStateValue": state,
        "NewStateReason": "Thresholds Crossed: 1 out of the last 1 datapoints was greater "
        "than the upper thresholds [0.41].",
        "StateChangeTime": "2026-12-06T10:00:00.000+0000",
        "Region": "US East (N. Virginia)",
        "AlarmArn": arn,
        "OldStateValue": old,
        "OKActions": [],
        "AlarmActions": ["arn:aws:sns:us-east-1:123456789012:triage"],
        "InsufficientDataActions": [],
        "Trigger": {
            "Period": 300,
            "EvaluationPeriods": 1,
            "DatapointsToAlarm": 1,
            "ComparisonOperator": "GreaterThanUpperThreshold",
            "ThresholdMetricId": "ad1",
            "TreatMissingData": "missing",
            "EvaluateLowSampleCountPercentile": "",
            "Metrics": _ANOMALY_METRICS,
        },
    }


def _anomaly_event() -> dict[str, Any]:
    """The same alarm's EventBridge state change (its configuration in camelCase, dimensions
    as an object)."""
    return {
        "version": "0",
        "id": "c4c1c1c9-6542-e61b-6ef0-8c4d36933a92",
        "detail-type": "CloudWatch Alarm State Change",
        "source": "aws.cloudwatch",
        "account": "123456789012",
        "time": "2026-12-06T10:00:00Z",
        "region": "us-east-1",
        "resources": ["arn:aws:cloudwatch:us-east-1:123456789012:alarm:checkout-latency-anomaly"],
        "detail": {
            "alarmName": "checkout-latency-anomaly",
            "state": {
                "value": "ALARM",
                "reason": "Thresholds Crossed",
                "timestamp": "2026-12-06T10:00:00.000+0000",
            },
            "previousState": {
                "value": "OK",
                "reason": "Thresholds Crossed",
                "timestamp": "2026-12-06T09:00:00.000+0000",
            },
            "configuration": {
                "metrics": [
                    {
                        "id": "m1",
                        "metricStat": {
                            "metric": {
                                "namespace": "AWS/ApplicationELB",
                                "name": "TargetResponseTime",
                                "dimensions": {"LoadBalancer": "app/checkout/50dc6c495c0c9188"},
                            },
                            "period": 300,
                            "stat": "Average",
                        },
                        "returnData": True,
                    },
                    {
                        "id": "ad1",
                        "expression": "ANOMALY_DETECTION_BAND(m1, 2)",
                        "label": "TargetResponseTime (expected)",
                        "returnData": True,
                    },
                ],
                "thresholdMetricId": "ad1",
            },
        },
    }


def test_an_anomaly_alarms_metric_and_dimensions_are_its_labels() -> None:
    """An anomaly detection alarm (one metric and its band) keeps the metric it watches, its
    namespace, statistic and dimensions as labels, as a single-metric alarm does."""
    for body in (_anomaly_alarm("ALARM", "OK"), _anomaly_event()):
        labels = _only(body).labels
        assert labels.get("dimensions") == "LoadBalancer=app/checkout/50dc6c495c0c9188"
        assert labels.get("metric") == "TargetResponseTime"
        assert labels.get("namespace") == "AWS/ApplicationELB"
        assert labels.get("statistic") == "Average"
        assert labels.get("alarm_type") == "anomaly_detection"
        assert labels.get("threshold_metric") == "ad1"


def test_an_anomaly_alarms_firing_and_ok_are_one_incident() -> None:
    """The anomaly alarm's ALARM and OK are one incident, keyed by the alarm, not its labels."""
    firing = _only(_anomaly_alarm("ALARM", "OK"))
    resolved = _only(_anomaly_alarm("OK", "ALARM"))
    assert (firing.status, resolved.status) == (Status.FIRING, Status.RESOLVED)
    assert firing.identity == resolved.identity


def test_a_metric_math_alarm_over_two_metrics_names_no_single_metric() -> None:
    """A metric math alarm over two metrics of two load balancers keeps its one-line summary
    and claims neither metric's dimensions as the alarm's (round 17: math over one resource's
    metrics keeps that resource, tests/test_sources_round17_469.py)."""
    body = _anomaly_alarm("ALARM", "OK")
    errors = json.loads(json.dumps(_ANOMALY_METRICS[0]))
    errors["Id"] = "m2"
    errors["MetricStat"]["Metric"]["MetricName"] = "HTTPCode_Target_5XX_Count"
    errors["MetricStat"]["Metric"]["Dimensions"] = [
        {"value": "app/payments/9f1e07d5c1a2b3c4", "name": "LoadBalancer"}
    ]
    body["Trigger"].pop("ThresholdMetricId")
    body["Trigger"]["Metrics"] = [
        _ANOMALY_METRICS[0],
        errors,
        {"Id": "e1", "Expression": "m2 / m1", "ReturnData": True},
    ]
    labels = _only(body).labels
    assert labels.get("alarm_type") == "metric_math"
    assert "metric" not in labels
    assert "dimensions" not in labels
