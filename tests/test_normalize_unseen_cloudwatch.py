"""CloudWatch shapes the other normaliser tests do not send: the EventBridge "CloudWatch Alarm
Configuration Change" of an alarm being deleted. CloudWatch sends no OK for a deleted alarm, so
without reading the deletion its open ticket would stay open for good (Grafana resolves a deleted
rule's alerts, and Alertmanager a vanished rule's, in the same way)."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest

from triage.errors import InvalidAlertError
from triage.models import Alert, Status
from triage.normalize import normalize_body

PAYLOADS = Path(__file__).parent / "payloads"
CONFIG_CHANGE = "CloudWatch Alarm Configuration Change"


def state_change() -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads(
        (PAYLOADS / "cloudwatch/eventbridge-alarm.json").read_text(encoding="utf-8")
    )
    return loaded


def config_change(operation: str, state: str = "ALARM") -> dict[str, Any]:
    """The sample alarm's configuration-change event, as CloudWatch sends it to EventBridge."""
    event = copy.deepcopy(state_change())
    event["detail-type"] = CONFIG_CHANGE
    event["time"] = "2026-11-23T11:00:00Z"
    detail = event["detail"]
    detail.pop("previousState", None)
    detail["operation"] = operation
    detail["state"] = {
        "value": state,
        "reason": "Threshold Crossed",
        "timestamp": "2026-11-23T10:00:12.845+0000",
    }
    return event


def only(body: dict[str, Any]) -> Alert:
    result = normalize_body(json.dumps(body))
    assert len(result.alerts) == 1, result
    return result.alerts[0]


@pytest.mark.parametrize("state", ["ALARM", "OK", "INSUFFICIENT_DATA"])
def test_deleted_alarm_resolves_its_incident(state: str) -> None:
    """An alarm deleted in any state resolves its incident (same fingerprint as its firing),
    dated by the deletion and saying why."""
    firing = only(state_change())
    deleted = only(config_change("delete", state))
    assert firing.status is Status.FIRING
    assert deleted.status is Status.RESOLVED
    assert deleted.fingerprint == firing.fingerprint
    assert deleted.occurred_at.isoformat() == "2026-11-23T11:00:00+00:00"
    assert "deleted" in deleted.description
    assert deleted.labels["operation"] == "delete"
    assert deleted.labels["state"] == state
    assert (deleted.team, deleted.priority) == (firing.team, firing.priority)


def test_deleted_alarm_through_sns_resolves_too() -> None:
    """The deletion event published to SNS (EventBridge → SNS → SQS) resolves the same way."""
    envelope = {
        "Type": "Notification",
        "MessageId": "5c3e2a0e-0b4a-5c1a-9d1e-2f8b1e4a9c77",
        "TopicArn": "arn:aws:sns:us-east-1:123456789012:alarm-events",
        "Message": json.dumps(config_change("delete")),
        "Timestamp": "2026-11-23T11:00:01.000Z",
    }
    deleted = only(envelope)
    assert deleted.status is Status.RESOLVED
    assert deleted.fingerprint == only(state_change()).fingerprint


@pytest.mark.parametrize("operation", ["create", "update", "", None, 7])
def test_other_configuration_changes_stay_skipped(operation: Any) -> None:
    """Creating or updating an alarm (or an operation not named) changes no ticket."""
    event = config_change("delete")
    event["detail"]["operation"] = operation
    result = normalize_body(json.dumps(event))
    assert result.alerts == ()
    assert [s.reason for s in result.skipped] == ["not_a_state_change"]


@pytest.mark.parametrize("state", [None, "ALARM", {"value": {"odd": 1}}, []])
def test_deleted_alarm_state_of_any_shape_still_resolves(state: Any) -> None:
    """A deletion's last state is only shown: absent or of any JSON shape, it still resolves."""
    event = config_change("delete")
    event["detail"]["state"] = state
    deleted = only(event)
    assert deleted.status is Status.RESOLVED
    assert "state" not in deleted.labels


def test_deleted_alarm_without_a_name_is_refused_naming_the_field() -> None:
    """A deletion that names no alarm (no name, no ARN) is refused, naming the field."""
    event = config_change("delete")
    event["resources"] = []
    del event["detail"]["alarmName"]
    with pytest.raises(InvalidAlertError, match=r"alarmName"):
        normalize_body(json.dumps(event))
