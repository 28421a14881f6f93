"""Round 6 leftovers (task 336): the AWS readers that cleaned a value for show (`common.word`,
cut at 256 characters) before `add_label` now give `add_label` the whole value, so routes and
groups read it whole (`Alert.label`) as they do every other label's: a CloudWatch alarm's old
state and what suppresses its actions, the AWS Health event's affected entities, event type and
Region, Security Hub's resources (ASFF and OCSF), GuardDuty's finding type, SSM's command,
CodeDeploy's deployment, Inspector's resource and status, Inspector Classic's target, Trusted
Advisor's status, Auto Scaling's group, Cost Anomaly Detection's monitor and dimension, and a
budget's threshold."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from triage.models import Alert
from triage.normalize import normalize_body

PAYLOADS = Path(__file__).parent / "payloads"

#: sha256 (first 16 hex digits) of [fingerprint, labels] of each alert these samples read as,
#: recorded at commit 1372091e, before their readers gave `add_label` whole values: within the
#: limits, every label and every fingerprint is as it was.
BEFORE = {
    "cloudwatch/eventbridge-composite-suppressed-waitperiod.json": ["7aad0deec5d4381b"],
    "cloudwatch/sns-ok.json": ["c1145543df8f14d7"],
    "cloudwatch/sns-eventbridge-ok.json": ["0e819e2461da3f2f"],
    "eventbridge/health-issue.json": ["9fd0fab9ebaad05c"],
    "eventbridge/health-closed.json": ["9fd0fab9ebaad05c"],
    "eventbridge/guardduty-finding.json": ["f3bc956864d0c22e"],
    "eventbridge/securityhub-findings.json": ["82cd5267d5913800", "0575f617c517740b"],
    "eventbridge/securityhub-findings-v2.json": ["0a176861c331551e"],
    "aws/ssm-invocation-failed.json": ["48a109c34f7d5b1a"],
    "aws/codedeploy-deployment-failed.json": ["f7714265bf683ef0"],
    "aws/inspector2-finding-sns.json": ["91c3785b2a40e691"],
    "aws/inspector-finding-reported.json": ["4c443485b88298c3"],
    "aws/autoscaling-launch-error.json": ["7ddc3eff0ca928c5"],
    "aws/cost-anomaly.json": ["714da24871f5c78f"],
    "aws/budgets-actual-exceeded.json": ["5ee7eca55728887e"],
}


def _digest(alert: Alert) -> str:
    blob = json.dumps([alert.fingerprint, alert.labels], sort_keys=True, ensure_ascii=False)
    return hashlib.sha256(blob.encode()).hexdigest()[:16]


def _sample(name: str) -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads((PAYLOADS / name).read_text())
    return loaded


def _alerts(payload: dict[str, Any]) -> tuple[Alert, ...]:
    return normalize_body(json.dumps(payload)).alerts


@pytest.mark.parametrize("name", sorted(BEFORE))
def test_labels_within_the_limits_read_as_before(name: str) -> None:
    """Each reader's alerts within the label limits have the fingerprints and labels they had
    before it gave `add_label` whole values, and no value is read besides (none was cut)."""
    alerts = _alerts(_sample(name))
    assert [_digest(a) for a in alerts] == BEFORE[name]
    assert all(not a.uncut_labels for a in alerts)


# --- A long value keys its own group -------------------------------------------------------


def _in_message(
    edit: Callable[[dict[str, Any], str], None],
) -> Callable[[dict[str, Any], str], None]:
    """`edit` applied to an SNS notification's JSON `Message`."""

    def edited(payload: dict[str, Any], value: str) -> None:
        message = json.loads(payload["Message"])
        edit(message, value)
        payload["Message"] = json.dumps(message)

    return edited


def _set(*path: str | int) -> Callable[[dict[str, Any], str], None]:
    """An edit that sets the field at `path` to the value."""

    def edit(payload: dict[str, Any], value: str) -> None:
        node: Any = payload
        for step in path[:-1]:
            node = node[step]
        node[path[-1]] = value

    return edit


def _budget_threshold(payload: dict[str, Any], value: str) -> None:
    """A budget notification's text with `value` as its "Alert Threshold" line."""
    payload["Message"] = payload["Message"].replace(
        "Alert Threshold: > $800.00", f"Alert Threshold: {value}"
    )


#: A value of over 300 characters (an ARN, a resource id); the two values a test reads differ
#: only past the 256 characters a label shows.
LONG = "arn:aws:s3:::orders-exports/" + "part-" * 60


#: (sample, label, edit that puts a value into the field that label shows).
LONG_VALUES = [
    ("cloudwatch/sns-alarm.json", "old_state", _in_message(_set("OldStateValue"))),
    ("cloudwatch/eventbridge-alarm.json", "old_state", _set("detail", "previousState", "value")),
    ("cloudwatch/eventbridge-composite-suppressed-waitperiod.json", "actions_suppressed_by",
     _set("detail", "state", "actionsSuppressedBy")),
    ("eventbridge/health-issue.json", "resources",
     _set("detail", "affectedEntities", 0, "entityValue")),
    ("eventbridge/health-issue.json", "event_type", _set("detail", "eventTypeCode")),
    ("eventbridge/health-issue.json", "region", _set("detail", "eventRegion")),
    ("eventbridge/guardduty-finding.json", "finding_type", _set("detail", "type")),
    ("eventbridge/securityhub-findings.json", "resources",
     _set("detail", "findings", 0, "Resources", 0, "Id")),
    ("eventbridge/securityhub-findings-v2.json", "resources",
     _set("detail", "findings", 0, "resources", 0, "uid")),
    ("aws/ssm-invocation-failed.json", "command", _in_message(_set("commandId"))),
    ("aws/codedeploy-deployment-failed.json", "deployment", _in_message(_set("deploymentId"))),
    ("aws/inspector2-finding-sns.json", "source_id",
     _in_message(_set("detail", "resources", 0, "id"))),
    ("aws/inspector2-finding-sns.json", "status", _in_message(_set("detail", "status"))),
    ("aws/inspector-finding-reported.json", "target", _in_message(_set("target"))),
    ("aws/autoscaling-launch-error.json", "group", _in_message(_set("AutoScalingGroupName"))),
    ("aws/cost-anomaly.json", "monitor", _in_message(_set("monitorName"))),
    ("aws/cost-anomaly.json", "dimension", _in_message(_set("dimensionalValue"))),
    ("aws/budgets-actual-exceeded.json", "threshold", _budget_threshold),
]  # fmt: skip


def _read_with(name: str, edit: Callable[[dict[str, Any], str], None], value: str) -> Alert:
    payload = _sample(name)
    edit(payload, value)
    return _alerts(payload)[0]


@pytest.mark.parametrize(
    ("name", "label", "edit"), LONG_VALUES, ids=[f"{c[0]}:{c[1]}" for c in LONG_VALUES]
)
def test_a_long_value_keys_its_own_group(
    name: str, label: str, edit: Callable[[dict[str, Any], str], None]
) -> None:
    """Two alerts whose label differs only past the 256 characters it shows show it alike
    (cut, "…" marking the cut) but are read apart by routes and group keys (`Alert.label`)."""
    one, two = (_read_with(name, edit, f"{LONG}{n}") for n in (1, 2))
    assert one.labels[label] == two.labels[label]
    assert one.labels[label].endswith("…")
    assert one.label(label) != two.label(label)
    assert str(one.label(label)).endswith("part-1")  # whole: its end is read


def _trusted_advisor(status: str) -> Alert:
    """A Trusted Advisor check item refreshed with `status`, as EventBridge sends it in SNS."""
    payload = _sample("aws/inspector2-finding-sns.json")
    event = json.loads(payload["Message"]) | {
        "detail-type": "Trusted Advisor Check Item Refresh Notification",
        "source": "aws.trustedadvisor",
        "resources": [],
        "detail": {
            "check-name": "High Utilization Amazon EC2 Instances",
            "status": status,
            "resource_id": "arn:aws:ec2:us-west-2:123456789012:instance/i-b6218518",
        },
    }
    payload["Message"] = json.dumps(event)
    return _alerts(payload)[0]


def test_a_trusted_advisor_status_is_read_whole() -> None:
    """A Trusted Advisor status AWS does not write (over 256 characters) keys its own group,
    while a known one is its label in AWS's capitals as before ("warn" shows "WARN")."""
    assert _trusted_advisor("warn").labels["status"] == "WARN"
    assert not _trusted_advisor("warn").uncut_labels
    one, two = (_trusted_advisor(f"{LONG}{n}") for n in (1, 2))
    assert one.labels["status"] == two.labels["status"]
    assert one.labels["status"].endswith("…")
    assert one.label("status") != two.label("status")
