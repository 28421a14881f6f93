"""A Lambda SNS event queued whole (a function's dead-letter queue, or its on-failure
destination's invocation record) is named by the SNS notification's own MessageId, bound to
the body, as an SNS envelope queued directly is: SQS's move task gives the moved copy a new
MessageId, and the SNS id survives it, so a redriven repeat is not counted again."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import structlog

from test_redrive_identity_pipeline import Rig, _counts, rig  # noqa: F401 (a fixture)
from triage.incidents import Action
from triage.sqs.inbox import Message

PAYLOADS = Path(__file__).parent / "payloads"
ALARM: dict[str, Any] = json.loads((PAYLOADS / "cloudwatch" / "sns-alarm.json").read_text())
SNS_ID = ALARM["MessageId"]


def _sns_record(envelope: dict[str, Any]) -> dict[str, Any]:
    """An SNS notification as Lambda's SNS event carries it (Lambda's spelling of the URLs)."""
    renamed = {"SigningCertURL": "SigningCertUrl", "UnsubscribeURL": "UnsubscribeUrl"}
    return {
        "EventSource": "aws:sns",
        "EventVersion": "1.0",
        "EventSubscriptionArn": f"{envelope['TopicArn']}:2f0c3a4e-0000-4000-8000-000000000001",
        "Sns": {renamed.get(key, key): value for key, value in envelope.items()},
    }


def _event(*envelopes: dict[str, Any]) -> str:
    return json.dumps({"Records": [_sns_record(e) for e in envelopes]})


def _invocation_record(event: str) -> str:
    """What an asynchronous invocation's on-failure destination receives."""
    return json.dumps(
        {
            "version": "1.0",
            "timestamp": "2026-12-06T04:00:00.000Z",
            "requestContext": {"requestId": "r-1", "condition": "RetriesExhausted"},
            "requestPayload": json.loads(event),
            "responseContext": {"statusCode": 200, "functionError": "Unhandled"},
        }
    )


def _identity(sqs_id: str, body: str) -> str:
    return Message(sqs_id, body, "rh", 1, None).identity


@pytest.mark.parametrize(
    "body",
    [
        _event(ALARM),
        _invocation_record(_event(ALARM)),
        json.dumps(json.loads(_event(ALARM)), sort_keys=True),
    ],
    ids=["event", "invocation-record", "sorted-keys"],
)
def test_a_lambda_sns_event_is_named_by_snss_message_id(body: str) -> None:
    """Under two SQS ids (a redriven copy) the event is one message, named by SNS's id."""
    first, moved = _identity("id-1", body), _identity("id-2", body)
    assert first == moved
    assert first.startswith(f"sns:{SNS_ID}.")


def test_a_lambda_event_copied_with_another_alert_is_another_message() -> None:
    """The id is bound to the body: the event copied with the alarm's OK in it, SNS's id
    with it, is not the ALARM's redelivery."""
    ok = ALARM | {"Message": ALARM["Message"].replace('"ALARM"', '"OK"')}
    assert ok != ALARM
    assert _identity("id-2", _event(ok)) != _identity("id-1", _event(ALARM))


@pytest.mark.parametrize(
    "body",
    [
        _event(ALARM, ALARM | {"MessageId": "00000000-0000-4000-8000-000000000002"}),
        json.dumps({"Records": [{"EventSource": "aws:sqs", "body": json.dumps(ALARM)}]}),
        json.dumps({"Records": [{"EventSource": "aws:s3", "Sns": ALARM}]}),
    ],
    ids=["two-records", "sqs-record", "s3-record"],
)
def test_other_lambda_events_keep_the_sqs_id(body: str) -> None:
    """An event of several records, or of records other than one SNS record, names no one
    notification: the message keeps its SQS id, quietly."""
    with structlog.testing.capture_logs() as logs:
        assert _identity("own-id", body) == "own-id"
    assert logs == []


def test_a_malformed_sns_id_in_a_lambda_event_is_ignored_with_one_line() -> None:
    """SNS's id not of an id's shape leaves the message its SQS id, with one line."""
    with structlog.testing.capture_logs() as logs:
        assert _identity("own-id", _event(ALARM | {"MessageId": "m#1"})) == "own-id"
    assert [e["event"] for e in logs] == ["message.bad_identity"]


async def test_a_lambda_events_repeat_moved_by_sqs_is_not_counted_again(rig: Rig) -> None:  # noqa: F811
    """An alarm's repeat queued as a Lambda SNS event, counted, dead and moved back by SQS's
    move task (a new MessageId), is known: ignored, the counts as they were."""
    rig.queues.send(_event(ALARM | {"MessageId": "11111111-1111-4111-8111-111111111111"}))
    assert await rig.handle() == [Action.OPEN]
    rig.queues.send(_event(ALARM | {"MessageId": "22222222-2222-4222-8222-222222222222"}))
    repeat, actions = await rig.deliver()
    assert actions == [Action.COUNT]
    await rig.dead_letter(repeat)
    rig.move_as_sqs_does()
    moved, actions = await rig.deliver()
    assert moved.id != repeat.id and moved.identity == repeat.identity
    assert actions == [Action.IGNORE]
    assert (await rig.occurrences(), _counts(rig)) == (2, (1, 1))
