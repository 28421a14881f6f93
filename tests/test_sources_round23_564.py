"""Sources, round 23 (helper 564): dead letters of EventBridge Pipes and of an event bus read
as the failed delivery they are (not as the event they carry, nor refused), and a year from
2100 on read as a year by grounding."""

from __future__ import annotations

import copy
import json
from datetime import timedelta
from pathlib import Path

import pytest

from factories import T0
from recording_pipeline import Sink, pipeline_into
from triage.errors import UnknownFormatError
from triage.incidents import Action
from triage.incidents.codec import view_to_json
from triage.models import Alert, Status
from triage.normalize import normalize_body, recognise_body
from triage.redact import Redactor
from triage.sqs.inbox import Message
from triage.summarise import grounding
from triage.summarise.deterministic import DeterministicSummariser
from triage.view import redact_alert

# --- grounding: a year of any century this product may meet -----------------------------------


@pytest.mark.parametrize("year", ["1999", "2026", "2100", "2101", "2999"])
def test_a_year_after_its_opening_word_is_grounded_by_the_alert_s_date(year: str) -> None:
    """ "Seen since 2101" is a date's piece, grounded by an alert of 2101 as "since 2026" is
    by one of 2026; a count of the same digits stays marked."""
    shown = grounding.evidence(
        {"title": "Checkout API 5xx", "occurred_at": f"{year}-11-23T09:00:00+00:00"}
    )
    assert grounding.check(f"Seen since {year}", shown) == grounding.Checked(f"Seen since {year}")
    assert grounding.check(f"{year} requests failed", shown).rejected == ("number",)


# --- EventBridge Pipes: a discarded stream batch -----------------------------------------------

PAYLOADS = Path(__file__).parent / "payloads"
_PIPE_KINESIS = (PAYLOADS / "aws/pipes-kinesis-dead-letter.json").read_text()
_PIPE_DYNAMODB = (PAYLOADS / "aws/pipes-dynamodb-dead-letter.json").read_text()


def _one(body: str, attributes: dict[str, str] | None = None) -> Alert:
    """The one alert `body` gives."""
    [alert] = normalize_body(body, attributes=attributes).alerts
    return alert


def test_a_pipe_s_dead_letter_record_is_the_pipe_s_failed_batch() -> None:
    """A pipe's dead-letter record of a Kinesis batch, refused before as an unknown format, fires
    titled with the pipe, the stream and the condition, keyed by pipe and stream, and says
    where the batch sits so it can be replayed."""
    recognised = recognise_body(_PIPE_KINESIS)
    assert recognised.format == "pipes-dead-letter"
    [alert] = recognised.normalized.alerts
    assert alert.source == "aws"
    assert alert.status is Status.FIRING
    assert alert.title == (
        "EventBridge pipe orders-pipe discarded a batch of Kinesis stream orders "
        "(RetryAttemptsExhausted)"
    )
    assert "shardId: shardId-000000000000" in alert.description
    assert alert.labels["pipe"] == "orders-pipe"
    assert alert.labels["region"] == "us-east-1"
    assert alert.identity == {
        "service": "pipes",
        "pipe": "arn:aws:pipes:us-east-1:123456789012:pipe/orders-pipe",
        "stream": "arn:aws:kinesis:us-east-1:123456789012:stream/orders",
    }
    dynamodb = _one(_PIPE_DYNAMODB)
    assert dynamodb.title.startswith("EventBridge pipe orders-changes discarded a batch of ")
    assert "DynamoDB table orders (RecordAgeExpired)" in dynamodb.title


def test_another_batch_of_the_pipe_is_the_same_incident() -> None:
    """Another shard, sequence range, condition and time of one pipe and stream is the same
    incident; the same pipe on another stream is another."""
    record = json.loads(_PIPE_KINESIS)
    again = copy.deepcopy(record)
    again["context"]["condition"] = "RecordAgeExpired"
    again["timestamp"] = "2026-11-24T00:00:00Z"
    again["KinesisBatchInfo"] |= {"shardId": "shardId-000000000007", "startSequenceNumber": "9"}
    other = copy.deepcopy(record)
    other["KinesisBatchInfo"]["streamArn"] += "-audit"
    first = _one(_PIPE_KINESIS)
    assert first.fingerprint == _one(json.dumps(again)).fingerprint
    assert first.fingerprint != _one(json.dumps(other)).fingerprint


def test_a_pipe_s_record_through_sns_is_the_same_incident() -> None:
    """A pipe whose dead-letter target is an SNS topic the queue subscribes to gives the same
    incident as one sending to the queue."""
    envelope = {
        "Type": "Notification",
        "MessageId": "5f1c6c56-0d9b-5d4e-b7a3-2c0c4b0a8f11",
        "TopicArn": "arn:aws:sns:us-east-1:123456789012:pipe-dlq",
        "Message": _PIPE_KINESIS,
        "Timestamp": "2026-11-23T10:03:52.000Z",
    }
    assert _one(json.dumps(envelope)).fingerprint == _one(_PIPE_KINESIS).fingerprint


def test_a_context_naming_no_pipe_is_not_a_pipe_s_record() -> None:
    """A `context` naming no pipe's ARN, or a record without a stream's batch, is no pipe's
    dead letter: the body stays refused (or read) as before."""
    record = json.loads(_PIPE_KINESIS)
    for context in ({"partnerResourceArn": "my-pipe"}, {"condition": "RetryAttemptsExhausted"}):
        with pytest.raises(UnknownFormatError):
            normalize_body(json.dumps(record | {"context": context}))
    del record["KinesisBatchInfo"]
    with pytest.raises(UnknownFormatError):
        normalize_body(json.dumps(record))


def test_a_pipe_s_discarded_batch_gets_the_replay_steps() -> None:
    """The deterministic ticket of a pipe's discarded batch gives the pipe's steps (its role,
    target, replaying from the stream), not only the generic three."""
    view = redact_alert(_one(_PIPE_KINESIS), Redactor())
    assert "pipe-discarded-batch" in [p.category for p in DeterministicSummariser().match(view)]
    assert any("replay" in step.lower() for step in DeterministicSummariser().write(view).steps)


async def test_a_pipe_that_keeps_failing_opens_one_ticket() -> None:
    """Through the pipeline the first record opens the pipe's ticket, the next repeats it."""
    record = json.loads(_PIPE_KINESIS)
    record["KinesisBatchInfo"]["shardId"] = "shardId-000000000001"
    assert await _actions([_PIPE_KINESIS, json.dumps(record)]) == [Action.OPEN, Action.COUNT]


# --- An event bus's own dead letter ------------------------------------------------------------

_BUS = "arn:aws:events:us-east-1:123456789012:event-bus/orders-bus"
#: An event the bus could not take: a CloudWatch alarm's state change, which read alone would
#: be the alarm.
_EVENT = (PAYLOADS / "cloudwatch/eventbridge-alarm.json").read_text()


def _bus_dead_letter(**more: str) -> dict[str, str]:
    """The attributes of an event bus's own dead letter: EventBridge's dead-letter attributes
    (EventBridge User Guide, "Using dead-letter queues to process undelivered events"), naming
    no rule."""
    return {
        "ERROR_CODE": "KMS_KEY_DISABLED",
        "ERROR_MESSAGE": "The customer managed key for the event bus is disabled.",
    } | more


def test_a_bus_dead_letter_is_the_bus_s_failure_not_the_event() -> None:
    """A bus's dead letter carrying an alarm's event is the bus's failed delivery, not the
    alarm: titled with the bus (by its account and Region when no ARN names it) and the error
    code, the error message and the event shown, the event kept whole."""
    recognised = recognise_body(_EVENT, attributes=_bus_dead_letter())
    assert recognised.format == "eventbridge-bus-dead-letter"
    [alert] = recognised.normalized.alerts
    assert alert.source == "aws"
    assert alert.status is Status.FIRING
    event = json.loads(_EVENT)
    where = f"{event['account']}/{event['region']}"
    assert alert.title == (
        f"EventBridge event bus in {where} could not deliver an event: KMS_KEY_DISABLED"
    )
    assert "customer managed key" in alert.description
    assert "aws.cloudwatch CloudWatch Alarm State Change" in alert.description
    assert alert.raw["Body"] == _EVENT
    assert alert.fingerprint != _one(_EVENT).fingerprint
    named = _one(_EVENT, _bus_dead_letter(TARGET_ARN=_BUS))
    assert named.title == "EventBridge event bus orders-bus could not deliver an event: " + (
        "KMS_KEY_DISABLED"
    )
    assert named.identity == {"service": "eventbridge", "event_bus": _BUS}


def test_a_bus_that_keeps_refusing_events_is_one_incident() -> None:
    """Another error, retry count and event for one bus is the same incident; another bus is
    another; a text body is read when the attributes name the bus."""
    first = _one(_EVENT, _bus_dead_letter(TARGET_ARN=_BUS))
    again = _one(
        json.dumps({"source": "custom.app", "detail-type": "x", "detail": {}}),
        _bus_dead_letter(TARGET_ARN=_BUS, ERROR_CODE="CROSS_ACCOUNT_INGESTION_FAILED"),
    )
    text = _one("not json", _bus_dead_letter(TARGET_ARN=_BUS, RETRY_ATTEMPTS="3"))
    other = _one(_EVENT, _bus_dead_letter(TARGET_ARN=_BUS.replace("orders", "audit")))
    assert first.fingerprint == again.fingerprint == text.fingerprint != other.fingerprint


def test_attributes_that_are_no_bus_s_dead_letter_leave_the_body_read() -> None:
    """An error code beside a rule's ARN is a rule's dead letter; an error code without a bus
    named over a body that is no EventBridge event, or a bus without an error code, is not a
    dead letter: the body is read as before."""
    rule = "arn:aws:events:us-east-1:123456789012:rule/orders-bus/order-events"
    assert recognise_body(_EVENT, attributes=_bus_dead_letter(RULE_ARN=rule)).format == (
        "eventbridge-dead-letter"
    )
    generic = json.dumps({"title": "Disk full on web-1", "dedup_key": "disk-web-1"})
    assert _one(generic, _bus_dead_letter()).fingerprint == _one(generic).fingerprint
    plain = _one(_EVENT)
    assert _one(_EVENT, {"TARGET_ARN": _BUS}).fingerprint == plain.fingerprint


def test_hostile_bus_dead_letter_attributes_stay_one_line_and_redacted() -> None:
    """Control characters and a bidi override in the error code leave one clean title and
    labels; a key in the error message never reaches the view."""
    hostile = "a\x00b\u202ec\x1b[31m\r\ne"
    key = "AKIAIOSFODNN7EXAMPLE"
    alert = _one(_EVENT, _bus_dead_letter(ERROR_CODE=hostile, ERROR_MESSAGE=f"denied {key}"))
    for shown in (alert.title, *alert.labels.values()):
        assert not any(ch in shown for ch in "\x00\x1b\u202e\r\n")
    assert key not in view_to_json(redact_alert(alert, Redactor()))


def test_a_bus_dead_letter_gets_the_bus_s_steps() -> None:
    """The deterministic ticket of a bus's dead letter gives the bus's steps (its key, its
    policy, sending the events again)."""
    view = redact_alert(_one(_EVENT, _bus_dead_letter(TARGET_ARN=_BUS)), Redactor())
    assert "undelivered-bus-event" in [p.category for p in DeterministicSummariser().match(view)]


async def test_a_bus_dead_letter_through_the_pipeline_opens_then_repeats() -> None:
    """Through the pipeline the first dead letter opens the bus's ticket, the next (another
    event it could not take) repeats it."""
    attributes = _bus_dead_letter(TARGET_ARN=_BUS)
    assert await _actions([_EVENT, '{"detail": {}}'], attributes) == [Action.OPEN, Action.COUNT]


async def _actions(bodies: list[str], attributes: dict[str, str] | None = None) -> list[Action]:
    """What the pipeline does with each body in turn, a minute apart."""
    pipeline = pipeline_into(Sink())
    actions: list[Action] = []
    for minute, body in enumerate(bodies):
        at = T0 + timedelta(minutes=minute)
        message = Message(
            f"m-{minute}", body, f"r-{minute}", 1, at, received_at=at, attributes=attributes or {}
        )
        actions += [outcome.action for outcome in await pipeline.process(message)]
    return actions


# --- A Custom Event Bus subscriber's dead-letter record ----------------------------------------

_SUBSCRIBER_RECORD = (PAYLOADS / "aws/eventbridge-subscriber-dead-letter.json").read_text()


def test_a_subscriber_s_dead_letter_record_is_its_failed_delivery() -> None:
    """A subscriber's dead-letter record, refused before as an unknown format, fires titled with
    the subscriber, its bus, its target and the error code, the failed events' ids shown,
    keyed by subscriber and target."""
    recognised = recognise_body(_SUBSCRIBER_RECORD)
    assert recognised.format == "eventbridge-subscriber-dead-letter"
    [alert] = recognised.normalized.alerts
    assert alert.source == "aws"
    assert alert.status is Status.FIRING
    assert alert.title == (
        "EventBridge subscriber large-orders (orders) could not deliver 2 events to "
        "large-orders: ACCESS_DENIED"
    )
    assert "not authorized to perform sqs:SendMessage" in alert.description
    assert "gave up after 4 retries (MaximumEventAgeInSeconds)" in alert.description
    assert "eventId e5f6a7b8-2222-4c3d-9e8f-abcdef012345" in alert.description
    record = json.loads(_SUBSCRIBER_RECORD)
    assert alert.identity == {
        "service": "eventbridge",
        "subscriber": record["subscriberArn"],
        "target": record["targetArn"],
    }


def test_a_subscriber_that_keeps_failing_one_target_is_one_incident() -> None:
    """Another error, retry count and set of events for one subscriber and target is the same
    incident; another target is another; one failed event is titled as one."""
    record = json.loads(_SUBSCRIBER_RECORD)
    again = record | {
        "errorCode": "THROTTLING",
        "retryAttempts": 185,
        "failedMessages": record["failedMessages"][:1],
    }
    other = record | {"targetArn": record["targetArn"] + "-audit"}
    first, repeat = _one(_SUBSCRIBER_RECORD), _one(json.dumps(again))
    assert first.fingerprint == repeat.fingerprint != _one(json.dumps(other)).fingerprint
    assert "could not deliver an event to large-orders: THROTTLING" in repeat.title


def test_a_subscriber_s_record_gets_the_undelivered_event_steps() -> None:
    """The deterministic ticket of a subscriber's dead letter gives the undelivered-event
    steps, as a rule target's does."""
    view = redact_alert(_one(_SUBSCRIBER_RECORD), Redactor())
    assert "undelivered-event" in [p.category for p in DeterministicSummariser().match(view)]


def test_a_hostile_subscriber_record_stays_one_line_and_cut() -> None:
    """Control characters in the error code and event ids leave one clean title and labels;
    thousands of failed events show at most ten ids."""
    hostile = "a\x00b\u202ec\x1b[31m\r\ne"
    record = json.loads(_SUBSCRIBER_RECORD) | {
        "errorCode": hostile,
        "failedMessages": [{"eventId": f"{hostile}{n}"} for n in range(5_000)],
    }
    alert = _one(json.dumps(record))
    for shown in (alert.title, *alert.labels.values()):
        assert not any(ch in shown for ch in "\x00\x1b\u202e\r\n")
    assert alert.description.count("Failed event:") == 10
    assert "4990 more failed events" in alert.description
