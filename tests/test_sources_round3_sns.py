"""An SNS notification a forwarder published again to a second topic (SNS inside SNS): read as
the notification inside, with the fingerprint it has when sent once; a deeper nesting is a
clear DecodeError, never a guess."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from triage.decode import MAX_SNS_ENVELOPES, decode_body, decode_envelope
from triage.errors import DecodeError
from triage.normalize import normalize_body

PAYLOADS = Path(__file__).parent / "payloads"
FAN_IN = "arn:aws:sns:us-east-1:210987654321:fan-in"


def _payload(name: str) -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads((PAYLOADS / name).read_text())
    return loaded


def _forwarded(inner: dict[str, Any], message: str | None = None) -> dict[str, Any]:
    """`inner` (a whole SNS notification) published again to the fan-in topic: its JSON is
    the outer notification's Message."""
    outer = {key: value for key, value in inner.items() if key != "Subject"}
    return outer | {"TopicArn": FAN_IN, "Message": message or json.dumps(inner)}


def _read(payload: dict[str, Any]) -> tuple[str, str]:
    [alert] = normalize_body(json.dumps(payload)).alerts
    return alert.fingerprint, alert.status


def test_a_forwarded_text_notification_keeps_its_own_topic() -> None:
    """A text notice forwarded through the fan-in topic is the incident of its own topic, as
    when it is sent once, not one of the fan-in topic's."""
    inner = _payload("sns/text-message.json")
    assert _read(_forwarded(inner)) == _read(inner)


def test_a_forwarded_notification_encoded_twice_is_read_too() -> None:
    """A forwarder that serialised the inner notification's JSON once more (a JSON string in
    the Message) is read as the same alarm, as an alarm encoded twice is."""
    inner = _payload("cloudwatch/sns-alarm.json")
    assert _read(_forwarded(inner, json.dumps(json.dumps(inner)))) == _read(inner)


def test_a_forwarded_subscription_confirmation_is_skipped() -> None:
    """A subscription confirmation forwarded through a second topic is skipped as it is when
    it comes alone: no alert, no error."""
    inner = _payload("cloudwatch/sns-alarm.json") | {"Type": "SubscriptionConfirmation"}
    normalized = normalize_body(json.dumps(_forwarded(inner)))
    assert normalized.alerts == ()
    assert [s.reason for s in normalized.skipped] == ["subscription_confirmation"]


def test_an_alarm_nested_deeper_than_one_forward_is_a_clear_error() -> None:
    """SNS(SNS(SNS(alarm))): a DecodeError saying how many envelopes are read, not an
    unknown format listing an envelope's keys."""
    nested = _payload("cloudwatch/sns-alarm.json")
    for _ in range(MAX_SNS_ENVELOPES):
        nested = _forwarded(nested)
    with pytest.raises(DecodeError, match=f"at most {MAX_SNS_ENVELOPES} SNS envelopes"):
        decode_body(json.dumps(nested))


def test_a_forwarded_aws_notice_keeps_its_own_topics_account_and_region() -> None:
    """A Run Command notice forwarded through the fan-in topic (another account and region)
    is the incident it is when sent once: its own topic names its account and region."""
    inner = _payload("aws/ssm-invocation-failed.json")
    assert _read(_forwarded(inner)) == _read(inner)


def test_the_envelope_of_a_forwarded_alarm_is_the_innermost() -> None:
    """`decode_envelope` gives the notification the alarm came in, not the forwarder's."""
    inner = _payload("cloudwatch/sns-alarm.json")
    payload, envelope = decode_envelope(json.dumps(_forwarded(inner)))
    assert payload == json.loads(inner["Message"])
    assert envelope is not None and envelope["TopicArn"] == inner["TopicArn"]
