"""An AWS service's own notice is keyed by the topic it was published to, whichever way the
notification reaches the queue: sent once, forwarded through a second topic, or handed to a
Lambda function as the one record of its event. An unknown message in any of them names SNS
in its error."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from triage.errors import UnknownFormatError
from triage.normalize import recognise_body

PAYLOADS = Path(__file__).parent / "payloads"
FAN_IN = "arn:aws:sns:us-east-1:210987654321:fan-in"


def _notice() -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads((PAYLOADS / "aws/ssm-invocation-failed.json").read_text())
    return loaded


def _forwarded(inner: dict[str, Any]) -> dict[str, Any]:
    """`inner` published again to the fan-in topic, in another account and Region."""
    return inner | {"TopicArn": FAN_IN, "Message": json.dumps(inner)}


def _lambda_event(inner: dict[str, Any]) -> dict[str, Any]:
    """`inner` as the one record of an SNS-triggered Lambda function's event."""
    return {"Records": [{"EventSource": "aws:sns", "EventVersion": "1.0", "Sns": inner}]}


def _read(payload: dict[str, Any]) -> tuple[str, str, dict[str, str]]:
    recognised = recognise_body(json.dumps(payload))
    [alert] = recognised.normalized.alerts
    return recognised.format, alert.fingerprint, alert.labels


@pytest.mark.parametrize("wrap", [_forwarded, _lambda_event], ids=["forwarded", "lambda-record"])
def test_a_wrapped_aws_notice_is_the_incident_it_is_when_sent_once(wrap: Any) -> None:
    """The notice keeps its own topic's account and Region (its fingerprint and labels), not
    the fan-in topic's, and is read as an AWS notice either way."""
    inner = _notice()
    assert _read(wrap(inner)) == _read(inner)


@pytest.mark.parametrize("wrap", [_forwarded, _lambda_event], ids=["forwarded", "lambda-record"])
def test_an_unknown_message_in_a_wrapped_notification_names_sns(wrap: Any) -> None:
    """A message no format reads, in a notification however it came, is refused with the hint
    saying which AWS services' own notifications are read."""
    inner = _notice() | {"Message": json.dumps({"something": "else"})}
    with pytest.raises(UnknownFormatError, match="an SNS notification that an AWS service"):
        recognise_body(json.dumps(wrap(inner)))
