"""A Lambda asynchronous invocation's on-failure destination record whose event is no alert is
read as the function's failure (helper 530); one whose event is an alert stays that alert."""

from __future__ import annotations

import copy
import json
from datetime import timedelta
from typing import Any

import pytest

from factories import T0
from recording_pipeline import Sink, pipeline_into
from triage.errors import InvalidAlertError, UnknownFormatError
from triage.incidents import Action
from triage.models import Status
from triage.normalize import recognise_body
from triage.sqs.inbox import Message

_FUNCTION = "arn:aws:lambda:us-east-2:123456789012:function:myfunction"

#: What an asynchronous invocation's on-failure destination receives when Lambda gives up
#: (https://docs.aws.amazon.com/lambda/latest/dg/invocation-async-retain-records.html): the
#: event the function was invoked with, and the error it ended with.
_FAILURE: dict[str, Any] = {
    "version": "1.0",
    "timestamp": "2026-11-23T10:00:15.568Z",
    "requestContext": {
        "requestId": "e4b46cbf-b738-4f5a-8880-a18cdf61200e",
        "functionArn": f"{_FUNCTION}:$LATEST",
        "condition": "RetriesExhausted",
        "approximateInvokeCount": 3,
    },
    "requestPayload": {"ORDER_IDS": ["9e07af03-ce31-4ff3", "637de236-e7b2-464e"]},
    "responseContext": {
        "statusCode": 200,
        "executedVersion": "$LATEST",
        "functionError": "Unhandled",
    },
    "responsePayload": {
        "errorMessage": "Order 9e07af03 could not be charged",
        "errorType": "PaymentDeclined",
        "stackTrace": ['  File "/var/task/app.py", line 7, in handler'],
    },
}


def _failure(**changes: Any) -> dict[str, Any]:
    """The record with top-level `changes` (a value None drops the key)."""
    record = copy.deepcopy(_FAILURE)
    for key, value in changes.items():
        if value is None:
            record.pop(key, None)
        else:
            record[key] = value
    return record


def _context(**changes: Any) -> dict[str, Any]:
    """The record's requestContext with `changes` (a value None drops the key)."""
    context = {**_FAILURE["requestContext"], **changes}
    return {key: value for key, value in context.items() if value is not None}


def test_a_failure_record_of_an_event_that_is_no_alert_is_the_function_s_failure() -> None:
    """The record of an event no format reads fires as the function's failure: source aws,
    severity error, titled with the function, condition and error type, the message shown."""
    recognised = recognise_body(json.dumps(_FAILURE))
    [alert] = recognised.normalized.alerts
    assert recognised.format == "lambda-async-failure"
    assert alert.source == "aws"
    assert alert.status is Status.FIRING
    assert alert.severity == "error"
    assert alert.title == (
        "Lambda myfunction failed an asynchronous invocation (RetriesExhausted): PaymentDeclined"
    )
    assert "Order 9e07af03 could not be charged" in (alert.description or "")
    assert alert.identity == {"function": _FUNCTION, "error_type": "PaymentDeclined"}
    assert alert.occurred_at is not None and alert.occurred_at.year == 2026


def test_each_version_and_request_of_one_function_s_error_is_one_incident() -> None:
    """Another version or alias, request id, message and invocation count keep the fingerprint;
    another error type is another incident."""
    [first] = recognise_body(json.dumps(_FAILURE)).normalized.alerts
    again = _failure(
        requestContext=_context(
            functionArn=f"{_FUNCTION}:7", requestId="other", approximateInvokeCount=1
        ),
        responsePayload={"errorMessage": "Order 637de236 failed", "errorType": "PaymentDeclined"},
    )
    [second] = recognise_body(json.dumps(again)).normalized.alerts
    other = _failure(responsePayload={"errorMessage": "boom", "errorType": "KeyError"})
    [third] = recognise_body(json.dumps(other)).normalized.alerts
    assert second.fingerprint == first.fingerprint
    assert third.fingerprint != first.fingerprint


def test_an_expired_event_the_function_never_ran_names_its_condition() -> None:
    """An event Lambda dropped unrun (EventAgeExceeded, no responsePayload) still fires, titled
    by its condition alone, keyed by the function."""
    record = _failure(
        requestContext=_context(condition="EventAgeExceeded"),
        responseContext={"statusCode": 200},
        responsePayload=None,
    )
    [alert] = recognise_body(json.dumps(record)).normalized.alerts
    assert alert.title == "Lambda myfunction failed an asynchronous invocation (EventAgeExceeded)"
    assert alert.identity == {"function": _FUNCTION}


@pytest.mark.parametrize(
    "payload",
    [
        "order 42",
        [1, 2, 3],
        {"Records": [{"eventSource": "aws:s3", "s3": {"bucket": {"name": "uploads"}}}]},
    ],
    ids=["text", "array", "s3-event"],
)
def test_any_event_that_is_no_alert_is_read_as_the_failure(payload: Any) -> None:
    """An event of text, an array or S3's notification (a function S3 invokes) is no alert
    either: its failure record fires as the function's failure, not refused."""
    [alert] = recognise_body(json.dumps(_failure(requestPayload=payload))).normalized.alerts
    assert alert.title.startswith("Lambda myfunction failed an asynchronous invocation")


def test_a_failure_record_of_an_alert_is_still_that_alert() -> None:
    """A function that failed to forward an alert sends a record whose event is that alert: it
    is read as the alert, as before."""
    event = {"title": "Disk full on db-1", "status": "firing", "dedup_key": "disk-db-1"}
    recognised = recognise_body(json.dumps(_failure(requestPayload=event)))
    assert recognised.format == "generic"
    [alert] = recognised.normalized.alerts
    assert alert.title == "Disk full on db-1"


def test_a_failure_record_delivered_through_sns_is_the_function_s_failure() -> None:
    """An on-failure destination that is an SNS topic the queue subscribes to: the record inside
    the notification is read the same way."""
    envelope = {
        "Type": "Notification",
        "MessageId": "5b6f3a2e-0000-4000-8000-000000000001",
        "TopicArn": "arn:aws:sns:us-east-2:123456789012:lambda-failures",
        "Message": json.dumps(_FAILURE),
        "Timestamp": "2026-11-23T10:00:16.000Z",
    }
    [alert] = recognise_body(json.dumps(envelope)).normalized.alerts
    assert alert.identity == {"function": _FUNCTION, "error_type": "PaymentDeclined"}


def test_a_failure_record_without_a_function_arn_is_refused_naming_it() -> None:
    """A record that names no function cannot be keyed: refused saying it is a Lambda failure
    record missing requestContext.functionArn."""
    record = _failure(requestContext=_context(functionArn=None))
    with pytest.raises(InvalidAlertError, match=r"Lambda.*requestContext\.functionArn"):
        recognise_body(json.dumps(record))


def test_an_on_success_record_of_an_event_that_is_no_alert_stays_refused() -> None:
    """An on-success record is no failure: its event, no alert, is refused as before."""
    record = _failure(requestContext=_context(condition="Success"), responsePayload={"ok": 1})
    with pytest.raises(UnknownFormatError, match="ORDER_IDS"):
        recognise_body(json.dumps(record))


async def test_a_failing_function_through_the_pipeline_opens_one_ticket_then_repeats() -> None:
    """Through the pipeline the first failure opens a ticket and the next failure of the same
    function (another request, another message) repeats it."""
    pipeline = pipeline_into(Sink())
    actions: list[Action] = []
    for minute in range(2):
        at = T0 + timedelta(minutes=minute)
        record = _failure(
            requestContext=_context(requestId=f"request-{minute}"),
            responsePayload={
                "errorMessage": f"Order {minute} failed",
                "errorType": "PaymentDeclined",
            },
        )
        message = Message(f"m-{minute}", json.dumps(record), f"r-{minute}", 1, at, received_at=at)
        actions += [outcome.action for outcome in await pipeline.process(message)]
    assert actions == [Action.OPEN, Action.COUNT]


#: What a display-only field of the record is swapped for: every JSON type, a 100 KB string and
#: text holding a NUL, an ANSI escape and a bidi override.
_HOSTILE: list[Any] = [
    None, True, 0, 1.5, "", "x" * 100_000, ["a", {"b": None}], {"a": {"b": [1, None]}},
    "a\x00b\u202ec\x1b[31m\r\ne",
]  # fmt: skip
#: The record's display-only fields: none of them names the function or its error type.
_DISPLAY_ONLY = [
    ("version",),
    ("timestamp",),
    ("requestContext", "requestId"),
    ("requestContext", "approximateInvokeCount"),
    ("responseContext", "statusCode"),
    ("responseContext", "executedVersion"),
    ("responseContext", "functionError"),
    ("responsePayload", "errorMessage"),
    ("responsePayload", "stackTrace"),
]


@pytest.mark.parametrize("path", _DISPLAY_ONLY, ids=".".join)
def test_a_display_only_field_of_any_type_never_costs_the_alert(path: tuple[str, ...]) -> None:
    """Any JSON type or control text in a display-only field leaves the same one alert, with
    no Python repr or control character in its one-line fields."""
    [expected] = recognise_body(json.dumps(_FAILURE)).normalized.alerts
    for hostile in _HOSTILE:
        record = copy.deepcopy(_FAILURE)
        *parents, field = path
        node = record
        for step in parents:
            node = node[step]
        node[field] = hostile
        [alert] = recognise_body(json.dumps(record)).normalized.alerts
        assert alert.fingerprint == expected.fingerprint, (path, hostile)
        for shown in (alert.title, *alert.labels.values()):
            assert not any(ch in shown for ch in "\x00\x1b\u202e\r\n"), (path, shown)
            assert "None" not in shown and "{'" not in shown, (path, shown)


def test_the_documented_record_s_fingerprint_holds() -> None:
    """The record's fingerprint is pinned: a change to how it is keyed moves existing
    incidents, and must be deliberate."""
    [alert] = recognise_body(json.dumps(_FAILURE)).normalized.alerts
    assert alert.fingerprint == "fc65e8f935469d27c26e91d8c29c114f"
