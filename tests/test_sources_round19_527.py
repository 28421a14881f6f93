"""Sources, round 19 (helper 527): AWS services' and the big four's newest shapes. Each body
must be ticketed right (title, state, a resolve closing its firing), skipped with a reason, or
refused clearly: never a wrong incident."""

from __future__ import annotations

import copy
import json
from datetime import timedelta
from typing import Any

import pytest

from factories import T0
from recording_pipeline import Sink, pipeline_into
from triage.errors import InvalidAlertError
from triage.incidents import Action
from triage.models import Alert, Status
from triage.normalize import aws_lambda_destinations, normalize_body
from triage.sqs.inbox import Message

# --- Lambda stream event source mappings' on-failure records ----------------------------------

#: What a Kinesis event source mapping's on-failure destination receives when Lambda discards a
#: batch (https://docs.aws.amazon.com/lambda/latest/dg/kinesis-on-failure-destination.html,
#: "Example invocation record"): the invocation's context and the batch's place in the stream,
#: never the records themselves, and no `requestPayload` (unlike an asynchronous invocation's).
_KINESIS_FAILURE: dict[str, Any] = {
    "requestContext": {
        "requestId": "c9b8fa9f-5a7f-xmpl-af9c-0c604cde93a5",
        "functionArn": "arn:aws:lambda:us-east-2:123456789012:function:myfunction",
        "condition": "RetryAttemptsExhausted",
        "approximateInvokeCount": 1,
    },
    "responseContext": {
        "statusCode": 200,
        "executedVersion": "$LATEST",
        "functionError": "Unhandled",
    },
    "version": "1.0",
    "timestamp": "2026-11-23T00:38:06.021Z",
    "KinesisBatchInfo": {
        "shardId": "shardId-000000000001",
        "startSequenceNumber": "49601189658422359378836298521827638475320189012309704722",
        "endSequenceNumber": "49601189658422359378836298522902373528957594348623495186",
        "approximateArrivalOfFirstRecord": "2026-11-23T00:38:04.835Z",
        "approximateArrivalOfLastRecord": "2026-11-23T00:38:05.580Z",
        "batchSize": 500,
        "streamArn": "arn:aws:kinesis:us-east-2:123456789012:stream/mystream",
    },
}

#: A DynamoDB Streams mapping's on-failure record
#: (https://docs.aws.amazon.com/lambda/latest/dg/services-ddb-batchfailurereporting.html,
#: "Example invocation record": `DDBStreamBatchInfo`), here discarded for its age.
_DYNAMODB_FAILURE: dict[str, Any] = {
    "requestContext": {
        "requestId": "316aa6d0-8154-xmpl-9af7-85d5f4a6bc81",
        "functionArn": "arn:aws:lambda:us-east-2:123456789012:function:myfunction:live",
        "condition": "RecordAgeExceeded",
        "approximateInvokeCount": 1,
    },
    "responseContext": {
        "statusCode": 200,
        "executedVersion": "$LATEST",
        "functionError": "Unhandled",
    },
    "version": "1.0",
    "timestamp": "2026-11-23T00:13:49.717Z",
    "DDBStreamBatchInfo": {
        "shardId": "shardId-00000001573689847184-864758bb",
        "startSequenceNumber": "800000000003126276362",
        "endSequenceNumber": "800000000003126276362",
        "approximateArrivalOfFirstRecord": "2026-11-23T00:00:00Z",
        "approximateArrivalOfLastRecord": "2026-11-23T00:00:00Z",
        "batchSize": 1,
        "streamArn": "arn:aws:dynamodb:us-east-2:123456789012:table/orders/stream/2026-11-14T00:04:06.388",
    },
}


def _only(body: dict[str, Any]) -> Alert:
    """The one alert the module reads from `body`."""
    assert aws_lambda_destinations.matches(body)
    [alert] = aws_lambda_destinations.normalize(body).alerts
    return alert


def test_a_kinesis_mapping_s_discarded_batch_is_a_firing_alert_naming_function_and_stream() -> None:
    """A Kinesis batch Lambda gave up on (records lost to the function) fires, titled with the
    function, the stream and why, dated when Lambda sent it."""
    alert = _only(_KINESIS_FAILURE)
    assert alert.status is Status.FIRING
    assert alert.title == (
        "Lambda myfunction discarded a batch of Kinesis stream mystream (RetryAttemptsExhausted)"
    )
    assert alert.severity == "error"
    assert alert.labels["condition"] == "RetryAttemptsExhausted"
    assert alert.labels["function_error"] == "Unhandled"
    assert alert.labels["batch_size"] == "500"
    assert alert.labels["shard"] == "shardId-000000000001"
    assert alert.occurred_at.isoformat() == "2026-11-23T00:38:06.021000+00:00"
    assert "49601189658422359378836298521827638475320189012309704722" in alert.description


def test_a_dynamodb_mapping_s_discarded_batch_names_the_table() -> None:
    """A DynamoDB Streams batch discarded for its age names the table, not the stream's date."""
    alert = _only(_DYNAMODB_FAILURE)
    assert alert.title == (
        "Lambda myfunction discarded a batch of DynamoDB table orders (RecordAgeExceeded)"
    )
    assert alert.labels["stream"] == _DYNAMODB_FAILURE["DDBStreamBatchInfo"]["streamArn"]


def test_each_discarded_batch_of_a_mapping_is_one_incident_whatever_its_condition() -> None:
    """The function (any version or alias) and the stream are the incident: another batch, for
    another reason, on another shard, is that incident again, never a new one per batch."""
    first = _only(_KINESIS_FAILURE)
    again = copy.deepcopy(_KINESIS_FAILURE)
    again["requestContext"].update(
        requestId="another", condition="RecordAgeExceeded",
        functionArn="arn:aws:lambda:us-east-2:123456789012:function:myfunction:7",
    )  # fmt: skip
    again["KinesisBatchInfo"]["shardId"] = "shardId-000000000002"
    assert _only(again).fingerprint == first.fingerprint
    other = copy.deepcopy(_KINESIS_FAILURE)
    other["KinesisBatchInfo"]["streamArn"] = "arn:aws:kinesis:us-east-2:123456789012:stream/other"
    assert _only(other).fingerprint != first.fingerprint
    assert first.identity == {
        "function": "arn:aws:lambda:us-east-2:123456789012:function:myfunction",
        "stream": "arn:aws:kinesis:us-east-2:123456789012:stream/mystream",
    }


def test_a_failure_record_without_a_function_is_refused_naming_the_field() -> None:
    """A record whose functionArn is missing cannot be keyed: a clear error, not a guess."""
    body = copy.deepcopy(_KINESIS_FAILURE)
    del body["requestContext"]["functionArn"]
    assert not aws_lambda_destinations.matches(body)
    body["requestContext"]["functionArn"] = ""
    with pytest.raises(InvalidAlertError, match="functionArn"):
        aws_lambda_destinations.normalize(body)


def test_an_invocation_record_with_its_event_is_not_read_here() -> None:
    """An asynchronous invocation's record carries `requestPayload`: the decoder reads it as
    the event it holds (tests/test_sources_round3c_lambda_events.py), so it is no match here."""
    body = {**_KINESIS_FAILURE, "requestPayload": {"ORDER_IDS": ["1"]}}
    assert not aws_lambda_destinations.matches(body)


async def test_a_discarded_batch_through_the_pipeline_opens_one_ticket_then_repeats() -> None:
    """Through the pipeline the first discarded batch opens a ticket and the next is a repeat of
    it (Lambda sends no success record: the ticket is closed by hand)."""
    pipeline = pipeline_into(Sink())
    actions: list[Action] = []
    for minute in range(2):
        at = T0 + timedelta(minutes=minute)
        body = json.dumps(_KINESIS_FAILURE)
        message = Message(f"m-{minute}", body, f"r-{minute}", 1, at, received_at=at)
        actions += [outcome.action for outcome in await pipeline.process(message)]
    assert normalize_body(json.dumps(_KINESIS_FAILURE)).alerts
    assert actions == [Action.OPEN, Action.COUNT]


# --- ECS service actions: the warnings and errors ECS documents are known ---------------------


def _ecs_service_action(event_type: str, event_name: str) -> dict[str, Any]:
    """An `ECS Service Action` event as ECS documents it
    (https://docs.aws.amazon.com/AmazonECS/latest/developerguide/ecs_service_events.html,
    "Example service steady state event"), of the given level and name."""
    return {
        "version": "0",
        "id": "af3c496d-f4a8-65d1-70f4-a69d52e9b584",
        "detail-type": "ECS Service Action",
        "source": "aws.ecs",
        "account": "111122223333",
        "time": "2026-11-23T10:00:00Z",
        "region": "us-west-2",
        "resources": ["arn:aws:ecs:us-west-2:111122223333:service/default/servicetest"],
        "detail": {
            "eventType": event_type,
            "eventName": event_name,
            "clusterArn": "arn:aws:ecs:us-west-2:111122223333:cluster/default",
            "createdAt": "2026-11-23T10:00:00.000Z",
            "reasons": ["RESOURCE:MEMORY"],
        },
    }


#: The WARN and ERROR service actions ECS documents (ecs_service_events.html).
_ECS_SERVICE_PROBLEMS = [
    ("WARN", "SERVICE_TASK_START_IMPAIRED"),
    ("WARN", "SERVICE_DISCOVERY_INSTANCE_UNHEALTHY"),
    ("WARN", "VPC_LATTICE_TARGET_UNHEALTHY"),
    ("ERROR", "SERVICE_DAEMON_PLACEMENT_CONSTRAINT_VIOLATED"),
    ("ERROR", "ECS_OPERATION_THROTTLED"),
    ("ERROR", "SERVICE_DISCOVERY_OPERATION_THROTTLED"),
    ("ERROR", "SERVICE_TASK_PLACEMENT_FAILURE"),
    ("ERROR", "SERVICE_TASK_CONFIGURATION_FAILURE"),
]


@pytest.mark.parametrize(("level", "name"), _ECS_SERVICE_PROBLEMS)
def test_a_documented_ecs_service_problem_fires_without_an_unknown_state_note(
    level: str, name: str
) -> None:
    """A warning or error ECS documents fires at its level, with no log note calling its
    state one triage does not know (that note is for names AWS adds later)."""
    result = normalize_body(json.dumps(_ecs_service_action(level, name)))
    [alert] = result.alerts
    assert alert.status is Status.FIRING
    assert alert.severity == level
    assert result.notes == ()


async def test_an_ecs_service_problem_is_closed_by_its_steady_state() -> None:
    """Through the pipeline a placement failure opens the service's ticket and the service's
    steady state closes it."""
    pipeline = pipeline_into(Sink())
    actions: list[Action] = []
    bodies = [
        _ecs_service_action("ERROR", "SERVICE_TASK_PLACEMENT_FAILURE"),
        _ecs_service_action("INFO", "SERVICE_STEADY_STATE"),
    ]
    for minute, body in enumerate(bodies):
        at = T0 + timedelta(minutes=minute)
        message = Message(f"m-{minute}", json.dumps(body), f"r-{minute}", 1, at, received_at=at)
        actions += [outcome.action for outcome in await pipeline.process(message)]
    assert actions == [Action.OPEN, Action.CLOSE]
