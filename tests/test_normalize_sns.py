"""SNS notifications whose Message is text (a script's or the console's `sns publish`, a service
that writes prose): one firing alert each, titled by the Subject, deduplicated per topic."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from test_pipeline import rig
from triage.errors import InvalidAlertError, UnknownFormatError
from triage.models import Alert, Status
from triage.normalize import normalize_body, recognise_body
from triage.sqs.inbox import Message

SAMPLE = Path(__file__).parent / "payloads" / "sns" / "text-message.json"


def envelope(**changes: Any) -> dict[str, Any]:
    payload: dict[str, Any] = json.loads(SAMPLE.read_text(encoding="utf-8"))
    for key, value in changes.items():
        if value is None:
            payload.pop(key, None)
        else:
            payload[key] = value
    return payload


def only(payload: dict[str, Any]) -> Alert:
    [alert] = normalize_body(json.dumps(payload)).alerts
    return alert


def test_a_text_message_is_one_firing_alert_titled_by_its_subject() -> None:
    """The Subject is the title, the message the description, the topic a label, SNS's time
    the alert's; the format is named `sns-text`."""
    recognised = recognise_body(SAMPLE.read_text(encoding="utf-8"))
    assert recognised.format == "sns-text"
    [alert] = recognised.normalized.alerts
    assert alert.source == "sns"
    assert alert.status is Status.FIRING
    assert alert.title == "Nightly backup of orders-db failed"
    assert alert.description.startswith("The nightly backup of orders-db failed at 02:14 UTC.\n")
    assert "snapshot quota exceeded" in alert.description
    assert alert.labels == {"topic": "ops-alerts"}
    assert alert.occurred_at == datetime(2026, 11, 23, 2, 14, 7, 431000, tzinfo=UTC)


def test_without_a_subject_the_first_line_with_text_is_the_title() -> None:
    """No Subject (SNS makes it optional): the message's first line that is not blank."""
    alert = only(envelope(Subject=None, Message="\n  \n disk full on db-7 \nsecond line"))
    assert alert.title == "disk full on db-7"


@pytest.mark.parametrize("message", ["", '"just a string"', "42", "null"])
def test_a_message_that_is_empty_or_a_json_scalar_is_text(message: str) -> None:
    """An empty Message, or one that is JSON but no object, is shown as text under its
    Subject, not refused."""
    alert = only(envelope(Message=message))
    assert alert.title == "Nightly backup of orders-db failed"
    assert alert.description == message


def test_neither_subject_nor_text_is_a_one_line_invalid_alert() -> None:
    """Nothing to title the alert with: a one-line InvalidAlertError, for the DLQ."""
    with pytest.raises(InvalidAlertError, match="neither a Subject nor any Message text") as err:
        normalize_body(json.dumps(envelope(Subject=None, Message=" \n\t ")))
    assert "\n" not in str(err.value)


def test_the_same_subject_on_the_same_topic_is_one_incident() -> None:
    """Topic + title is the identity: another message under the same Subject is a repeat, the
    same Subject on another topic or another Subject on this one is another incident."""
    first = only(envelope())
    again = only(envelope(Message="failed again at 03:14", Timestamp="2026-11-24T03:14:00Z"))
    other_topic = only(envelope(TopicArn="arn:aws:sns:eu-west-1:123456789012:db-alerts"))
    other_subject = only(envelope(Subject="Nightly backup of users-db failed"))
    assert again.fingerprint == first.fingerprint
    assert len({first.fingerprint, other_topic.fingerprint, other_subject.fingerprint}) == 3


def test_the_unsubscribe_link_and_signature_are_not_kept() -> None:
    """Anyone holding UnsubscribeURL can end the subscription: it is in no field of the alert,
    its raw payload included (nor is SNS's signature)."""
    alert = only(envelope())
    kept = alert.model_dump_json()
    assert "Unsubscribe" not in kept
    assert "Signature" not in kept
    assert "SigningCertURL" not in kept


def test_hostile_subject_and_message_are_cleaned_and_bounded() -> None:
    """Controls and bidi overrides leave the title; a megabyte message is cut to the
    description's 4,000 characters."""
    alert = only(envelope(Subject="disk\x1b[31m full\u202e on db-7", Message="x " * 500_000))
    assert alert.title == "disk [31m full on db-7"
    assert len(alert.description) <= 4_000


async def test_a_text_notification_becomes_a_redacted_ticket_through_the_pipeline() -> None:
    """Through the pipeline: one ticket, its alert text redacted before it reaches the
    summariser and the sink, and the same notice again is counted, not ticketed."""
    r = rig()
    body = json.dumps(envelope(Message="restore failed: password=hunter2-is-secret on db-7"))
    for n in range(2):
        message = Message(f"m-{n}", body, f"rh-{n}", 1, None)
        await r.pipeline.process(message)
    assert r.summariser.calls == 1
    [effect] = r.sink.effects
    assert effect.alert.title == "Nightly backup of orders-db failed"
    assert "hunter2-is-secret" not in effect.alert.description
    assert "[REDACTED" in effect.alert.description


def test_an_aws_services_own_sns_notification_says_to_use_eventbridge() -> None:
    """A service publishing JSON to the topic of no alert format and none of the AWS notices
    triage reads: the permanent error names the keys and says how such events reach triage
    (EventBridge); a body of an unknown format outside SNS gets no such advice. (An SES bounce
    has a reason of its own: test_normalize_aws_notices_more.)"""
    bounce = {
        "notificationType": "Digest",
        "digest": {"items": []},
        "sender": {"source": "noreply@example.com"},
    }
    envelope = {
        "Type": "Notification",
        "MessageId": "0b1f",
        "TopicArn": "arn:aws:sns:us-east-1:123456789012:ses-events",
        "Message": json.dumps(bounce),
        "Timestamp": "2026-12-05T03:00:00.000Z",
    }
    with pytest.raises(
        UnknownFormatError, match=r"'notificationType'.*through an EventBridge rule"
    ):
        normalize_body(json.dumps(envelope))
    with pytest.raises(UnknownFormatError) as plain:
        normalize_body(json.dumps(bounce))
    assert "EventBridge" not in str(plain.value)
