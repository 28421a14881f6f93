"""A Lambda event queued whole (SNS → Lambda → SQS, a Lambda's dead-letter queue or on-failure
destination): an SNS record's notification or an SQS record's body is read as if it came alone,
with the fingerprint it has when sent directly; several records are several alerts of one
message; records of another or unknown kind, too many records and records inside records are
refused with an error naming the record."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest

from triage.decode import MAX_EVENT_RECORDS, EventRecords, decode_body
from triage.errors import DecodeError, UnknownFormatError
from triage.models import Status
from triage.normalize import lambda_events, normalize_body

PAYLOADS = Path(__file__).parent / "payloads"
SNS_ALARM = "cloudwatch/sns-alarm.json"
SNS_OK = "cloudwatch/sns-ok.json"
SNS_TEXT = "sns/text-message.json"
GENERIC = "generic/firing.json"


def _text(name: str) -> str:
    return (PAYLOADS / name).read_text()


def _payload(name: str) -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads(_text(name))
    return loaded


def _sns_record(envelope: dict[str, Any]) -> dict[str, Any]:
    """An SNS notification as Lambda's SNS event carries it: `Sns`, with Lambda's own spelling
    of the two URL fields."""
    renamed = {"SigningCertURL": "SigningCertUrl", "UnsubscribeURL": "UnsubscribeUrl"}
    sns = {renamed.get(key, key): value for key, value in envelope.items()}
    return {
        "EventSource": "aws:sns",
        "EventVersion": "1.0",
        "EventSubscriptionArn": f"{envelope['TopicArn']}:2f0c3a4e-0000-4000-8000-000000000001",
        "Sns": sns,
    }


def _sqs_record(body: str, index: int = 0) -> dict[str, Any]:
    """A message as Lambda's SQS event carries it: its `body` as text."""
    return {
        "messageId": f"059f36b4-87a3-44ab-83d2-66197583{index:04d}",
        "receiptHandle": "AQEBwJnKyrHigUMZj6rYigCgxlaS3SLy0a",
        "body": body,
        "attributes": {"ApproximateReceiveCount": "1", "SentTimestamp": "1545082649183"},
        "messageAttributes": {},
        "md5OfBody": "e4e68fb7bd0e697a0ae8f1bb342846b3",
        "eventSource": "aws:sqs",
        "eventSourceARN": "arn:aws:sqs:us-east-1:123456789012:alerts",
        "awsRegion": "us-east-1",
    }


def _event(*records: dict[str, Any]) -> str:
    return json.dumps({"Records": list(records)})


def _read(body: str) -> list[tuple[str, Status]]:
    return [(alert.fingerprint, alert.status) for alert in normalize_body(body).alerts]


@pytest.mark.parametrize("name", [SNS_ALARM, SNS_OK, SNS_TEXT])
def test_an_sns_event_reads_as_the_notification_sent_directly(name: str) -> None:
    """Lambda's SNS event of one record is the notification it carries: same alert, state and
    fingerprint as SNS delivering it to the queue."""
    assert _read(_event(_sns_record(_payload(name)))) == _read(_text(name))


def test_an_sns_record_with_a_null_subject_is_read() -> None:
    """Lambda writes `"Subject": null` for a notification published without one."""
    envelope = _payload(SNS_TEXT) | {"Subject": None}
    assert _read(_event(_sns_record(envelope))) == _read(json.dumps(envelope))


@pytest.mark.parametrize("name", [SNS_ALARM, SNS_TEXT, GENERIC, "cloudwatch/raw-alarm.json"])
def test_an_sqs_event_reads_as_its_body_sent_directly(name: str) -> None:
    """Lambda's SQS event of one record is its body: an SNS envelope (SNS → SQS → Lambda), a
    script's alert or a raw alarm, read as when that body is queued itself."""
    assert _read(_event(_sqs_record(_text(name)))) == _read(_text(name))


def test_several_records_decode_to_each_records_own_text() -> None:
    """Several records decode to an `EventRecords` holding each record's notification as the
    body it would be alone, in order."""
    decoded = decode_body(_event(_sqs_record(_text(GENERIC)), _sqs_record(_text(SNS_ALARM), 1)))
    assert isinstance(decoded, EventRecords)
    assert decoded["records"] == [_text(GENERIC), _text(SNS_ALARM)]


def test_several_records_are_several_alerts_each_as_alone() -> None:
    """An SQS batch of two messages is two alerts, each with its own fingerprint and state as
    when it comes alone (read by the records' reader)."""
    decoded = decode_body(_event(_sqs_record(_text(SNS_ALARM)), _sqs_record(_text(GENERIC), 1)))
    normalized = lambda_events.normalize(decoded)
    read = [(alert.fingerprint, alert.status) for alert in normalized.alerts]
    assert read == _read(_text(SNS_ALARM)) + _read(_text(GENERIC))


def test_a_records_error_names_the_record() -> None:
    """A record whose notification cannot be read is left out with a note naming its index;
    when no record can be read the message fails with the first one's error."""
    decoded = decode_body(_event(_sqs_record(_text(GENERIC)), _sqs_record('{"nope": 1}', 1)))
    normalized = lambda_events.normalize(decoded)
    assert [(a.fingerprint, a.status) for a in normalized.alerts] == _read(_text(GENERIC))
    assert any("record [1] of 2" in note for note in normalized.notes)
    unread = decode_body(_event(_sqs_record('{"nope": 1}'), _sqs_record('{"nope": 2}', 1)))
    with pytest.raises(UnknownFormatError, match=r"record \[0\] of 2"):
        lambda_events.normalize(unread)


def test_normalize_body_reads_several_records() -> None:
    """Through `normalize_body`: a two-record event is the two alerts."""
    body = _event(_sqs_record(_text(SNS_ALARM)), _sqs_record(_text(GENERIC), 1))
    assert _read(body) == _read(_text(SNS_ALARM)) + _read(_text(GENERIC))


def test_records_of_two_kinds_are_refused_naming_the_record() -> None:
    """An event mixing SNS and SQS records is no event Lambda sends: refused at record [1]."""
    body = _event(_sns_record(_payload(SNS_ALARM)), _sqs_record(_text(GENERIC)))
    with pytest.raises(DecodeError, match=r"record \[1\] is aws:sqs.*record \[0\] is aws:sns"):
        decode_body(body)


def test_a_record_of_an_unknown_kind_is_refused_naming_it() -> None:
    """A record of a source triage does not read (S3) among SQS records: refused, naming its
    index and its source."""
    s3 = {"eventSource": "aws:s3", "eventName": "ObjectCreated:Put", "s3": {}}
    with pytest.raises(DecodeError, match=r"record \[1\] is aws:s3"):
        decode_body(_event(_sqs_record(_text(GENERIC)), s3))


def test_an_event_of_other_records_only_is_still_an_unknown_format() -> None:
    """An S3 event sent to the queue is no Lambda event of alerts: the unknown format it was."""
    s3 = {"eventSource": "aws:s3", "eventName": "ObjectCreated:Put", "s3": {}}
    with pytest.raises(UnknownFormatError, match="top-level keys: 'Records'"):
        normalize_body(_event(s3))


def test_too_many_records_are_refused() -> None:
    """More records than MAX_EVENT_RECORDS: refused with the limit, before any is read."""
    records = [_sqs_record('{"title": "x"}', i) for i in range(MAX_EVENT_RECORDS + 1)]
    with pytest.raises(DecodeError, match=f"limit of {MAX_EVENT_RECORDS}"):
        decode_body(_event(*records))


def test_records_inside_a_record_are_refused() -> None:
    """An SQS record whose body is itself a Lambda event: one level of records is read."""
    inner = _event(_sqs_record(_text(GENERIC)))
    with pytest.raises(DecodeError, match=r"record \[0\].*inside"):
        decode_body(_event(_sqs_record(inner)))


@pytest.mark.parametrize(
    ("record", "says"),
    [
        (_sqs_record("not json at all"), r"record \[0\] body is not valid JSON"),
        (_sqs_record("{}") | {"body": 7}, r"record \[0\] has no body string"),
        ({"EventSource": "aws:sns", "Sns": "x"}, r"record \[0\] has no SNS notification"),
        (
            {"EventSource": "aws:sns", "Sns": {"Type": "Notification", "Message": "{}"}},
            r"record \[0\] has no SNS notification",
        ),
    ],
)
def test_a_broken_record_is_a_clear_error(record: dict[str, Any], says: str) -> None:
    """A record without what its kind carries is a DecodeError naming the record."""
    with pytest.raises(DecodeError, match=says):
        decode_body(_event(record))


def test_an_aws_notice_in_an_sns_event_keeps_its_topics_account_and_region() -> None:
    """A DMS notice (keyed by its topic's account and region) in Lambda's SNS event is the
    incident it is when SNS delivers it to the queue."""
    name = "aws/dms-task-failed.json"
    assert _read(_event(_sns_record(_payload(name)))) == _read(_text(name))


def test_a_records_odd_source_is_not_repeated_in_the_error() -> None:
    """A record whose eventSource is no AWS source name is refused without echoing it (the
    sender's text may hold anything, a secret included)."""
    odd = {"eventSource": "token=ghp_0123456789abcdefghijklmnopqrstuvwxyzAB", "body": "{}"}
    with pytest.raises(DecodeError, match=r"record \[1\] is of no source triage reads") as raised:
        decode_body(_event(_sqs_record(_text(GENERIC)), odd))
    assert "ghp_" not in str(raised.value)


def _invocation_record(event: Any) -> dict[str, Any]:
    """What a Lambda destination (on failure or on success) receives: the event the function
    was invoked with, as `requestPayload`, beside the invocation's outcome."""
    return {
        "version": "1.0",
        "timestamp": "2026-11-23T10:00:15.568Z",
        "requestContext": {
            "requestId": "e4b46cbf-b738-4f5a-8880-a18cdf61200e",
            "functionArn": "arn:aws:lambda:us-east-1:123456789012:function:fan-out:$LATEST",
            "condition": "RetriesExhausted",
            "approximateInvokeCount": 3,
        },
        "requestPayload": event,
        "responseContext": {
            "statusCode": 200,
            "executedVersion": "$LATEST",
            "functionError": "Unhandled",
        },
        "responsePayload": {"errorMessage": "Process exited before completing request"},
    }


@pytest.mark.parametrize("name", [SNS_ALARM, SNS_TEXT])
def test_a_destinations_record_of_an_sns_event_is_the_notification(name: str) -> None:
    """A function subscribed to SNS that failed sends its invocation record to an SQS
    destination: read as the notification of the SNS event it was invoked with."""
    event = {"Records": [_sns_record(_payload(name))]}
    assert _read(json.dumps(_invocation_record(event))) == _read(_text(name))


def test_a_destinations_record_of_an_alarms_action_is_the_alarm() -> None:
    """The invocation record of an alarm's Lambda action is that alarm, as when the function
    forwards the event it got."""
    event = _payload("cloudwatch/lambda-action.json")
    assert _read(json.dumps(_invocation_record(event))) == _read(json.dumps(event))


def test_a_destinations_record_without_an_event_object_is_refused() -> None:
    """An invocation record whose requestPayload is no object is a clear DecodeError."""
    with pytest.raises(DecodeError, match="requestPayload is JSON a number"):
        decode_body(json.dumps(_invocation_record(7)))


def test_a_pipes_single_sqs_record_is_its_body() -> None:
    """An EventBridge Pipe from a queue to this one sends each SQS record as it is (no
    `Records`): read as its body."""
    body = json.dumps(_sqs_record(_text(SNS_ALARM)))
    assert _read(body) == _read(_text(SNS_ALARM))


def test_a_pipes_batch_of_sqs_records_is_read_as_an_event() -> None:
    """A Pipe's batch, a JSON array of SQS records, decodes as an event of those records."""
    batch = [_sqs_record(_text(GENERIC)), _sqs_record(_text(SNS_ALARM), 1)]
    decoded = decode_body(json.dumps(batch))
    assert isinstance(decoded, EventRecords)
    assert decoded["records"] == [_text(GENERIC), _text(SNS_ALARM)]
    assert _read(json.dumps(batch[:1])) == _read(_text(GENERIC))


#: Lambda events of the samples, as the fuzz test mutates a sample: one SNS record, a batch of
#: two SQS records, a destination's invocation record.
_FUZZED = {
    "sns-event": lambda: _event(_sns_record(_payload(SNS_ALARM))),
    "sqs-batch": lambda: _event(_sqs_record(_text(SNS_TEXT)), _sqs_record(_text(GENERIC), 1)),
    "destination": lambda: json.dumps(_invocation_record(json.loads(_event(_sqs_record("{}"))))),
}


@pytest.mark.parametrize("shape", sorted(_FUZZED))
def test_every_mutant_of_a_lambda_event_is_read_or_clearly_refused(shape: str) -> None:
    """Seeded structural mutants of Lambda events (types swapped, keys dropped, huge lists,
    deep nesting) give bounded alerts or a PermanentError with a one-line reason, as every
    sample does in tests/test_normalize_fuzz.py."""
    from json_mutants import mutants
    from test_normalize_fuzz import problem

    seed = f"triage-fuzz-1:lambda:{shape}"
    failures = [
        f"{mutant.describe(seed)}: {found}"
        for mutant in mutants(
            _FUZZED[shape](), seed, int(os.environ.get("FUZZ_MUTANTS_PER_SAMPLE", "60"))
        )
        if (found := problem(mutant))
    ]
    assert not failures, "\n".join(failures[:10])
