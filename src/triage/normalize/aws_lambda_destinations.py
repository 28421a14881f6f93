"""The record a Lambda stream event source mapping sends its on-failure destination when it
discards a batch: a Kinesis stream's (`KinesisBatchInfo`,
docs.aws.amazon.com/lambda/latest/dg/kinesis-on-failure-destination.html), a DynamoDB
stream's (`DDBStreamBatchInfo`, .../services-ddb-batchfailurereporting.html) or a Kafka
cluster's, MSK or self-managed (`KafkaBatchInfo`, .../kafka-on-failure.html: its
`responseContext` null when the batch was too large to send, MaximumPayloadSizeExceeded). Teams point that
destination at their alert queue: the function failed the batch until Lambda gave up on it
(`requestContext.condition`: RetryAttemptsExhausted, RecordAgeExceeded …), so its records were
never processed, and someone must replay them from the stream.

Such a record holds the invocation's context and where the batch sits in the stream, never the
records (nor a `requestPayload`: an asynchronous invocation's record, which holds the event the
function was invoked with, is read by `triage.decode` as that event). Read as source `aws`.

An asynchronous invocation's on-failure record (`requestPayload`, `responsePayload`,
docs.aws.amazon.com/lambda/latest/dg/invocation-async-retain-records.html) whose event is no
alert (the function was invoked with `{"ORDER_IDS": …}`, S3's notification, text) is read here
instead (`normalize_async_failure`, format `lambda-async-failure`): teams send these records to
an alert queue to learn that a function failed. The same record sent to an EventBridge bus
(the event `lambda` / `Lambda Function Invocation Result - Failure`, its `detail` the record)
and from there to the queue is read the same way (`EVENTBRIDGE_FAILURE`, read by
`eventbridge`, `normalize_failure_record`): one incident whichever destination the record took.

An on-failure record whose event is an alert (a CloudWatch alarm's SNS notification that made
the function fail) is that alert, keyed as the alert is when it comes alone, so the alarm
delivered directly and through the failed function is one incident; its description starts by
naming the function's failure, which its labels (`lambda_function`, `lambda_condition`,
`lambda_error_type`) carry too (`with_failure`), whichever destination the record took. It fires titled with the function, the
condition (RetriesExhausted, EventAgeExceeded) and the error type, the error message shown;
keyed by the function (any version or alias) and its error type, never the request id or
message, so a function failing the same way is one incident counting repeats. An on-success
record is no failure and is not read here.

Identity: the function (its ARN without a version or alias: `myfunction:7` and `myfunction` are
one function) and the stream (a Kafka cluster: its ARN, else its bootstrap servers); never the condition, shard, sequence numbers or request id, which
differ for every batch, so a mapping that keeps failing is one incident counting repeats.
Lambda sends nothing when batches succeed again: the incident stays open until
`triage incidents close` closes it (or its route's `resolve_after_s`).
"""

from __future__ import annotations

import json
from typing import Any

from triage.errors import DecodeError, InvalidAlertError, UnknownFormatError
from triage.models import Alert, Status
from triage.normalize import common
from triage.normalize.common import Normalized
from triage.normalize.generic import dated
from triage.normalize.vendors import labelled

SOURCE = "aws"
#: The format an asynchronous invocation's on-failure record whose event is no alert is read as.
ASYNC_FAILURE = "lambda-async-failure"
#: (source, detail-type) of the event an EventBridge on-failure destination puts on its bus.
EVENTBRIDGE_FAILURE = ("lambda", "Lambda Function Invocation Result - Failure")
#: The condition of an on-success destination's record: the invocation did not fail.
_SUCCEEDED = "Success"

#: The batch-info key of each stream a mapping reads, and how its title names the stream.
BATCH_INFO = {
    "KinesisBatchInfo": "Kinesis stream",
    "DDBStreamBatchInfo": "DynamoDB table",
    "KafkaBatchInfo": "Kafka cluster",
}
#: A Kafka batch's info: where its records are, per topic and partition (`recordsInfo`, or
#: one record's `recordInfo`), and the cluster (an MSK cluster's ARN, else, for a self-managed
#: cluster, its bootstrap servers).
_KAFKA = "KafkaBatchInfo"
#: At most this many of a Kafka batch's topic-partitions are shown.
_PARTITIONS_SHOWN = 10
#: The batch info's fields that say where its records are in the stream, shown in order.
_BATCH_PLACE = (
    "shardId",
    "startSequenceNumber",
    "endSequenceNumber",
    "approximateArrivalOfFirstRecord",
    "approximateArrivalOfLastRecord",
    "batchSize",
)
#: An unqualified function ARN has seven `:`-parts; an eighth is its version or alias.
_FUNCTION_ARN_PARTS = 7


def matches(payload: dict[str, Any]) -> bool:
    """An on-failure record of a stream mapping: the invocation's `requestContext` naming its
    function and condition, its `responseContext`, a stream's batch info, and no
    `requestPayload` (which only an asynchronous invocation's record carries)."""
    context = payload.get("requestContext")
    return (
        isinstance(context, dict)
        and "functionArn" in context
        and "condition" in context
        and _responded(payload)
        and "requestPayload" not in payload
        and batch_key(payload) is not None
    )


def _responded(payload: dict[str, Any]) -> bool:
    """The record's `responseContext`: an object, or, for a Kafka batch never sent to the
    function (MaximumPayloadSizeExceeded), null."""
    response = payload.get("responseContext")
    return isinstance(response, dict) or (
        response is None and "responseContext" in payload and _KAFKA in payload
    )


def normalize(payload: dict[str, Any]) -> Normalized:
    """One firing alert for the discarded batch, keyed by function and stream."""
    context = common.obj(payload.get("requestContext"), "requestContext", required=True)
    response = common.obj_or_empty(payload.get("responseContext"))
    key = batch_key(payload) or "KinesisBatchInfo"
    batch = common.obj(payload.get(key), key, required=True)
    function = _unqualified(common.ident(context.get("functionArn"), "requestContext.functionArn"))
    stream = stream_of(batch, key)
    condition = common.word(context.get("condition"), "requestContext.condition")
    occurred, notes = dated(payload.get("timestamp"), "Lambda destination record timestamp")
    alert = Alert(
        source=SOURCE,
        status=Status.FIRING,
        title=_title(function, BATCH_INFO[key], stream, condition),
        severity="error",
        description=_kafka_description(batch) if key == _KAFKA else _description(batch),
        labels=labelled(
            ("function", function),
            ("stream", stream),
            ("condition", condition),
            ("function_error", response.get("functionError")),
            ("batch_size", batch.get("batchSize")),
            ("shard", batch.get("shardId")),
            ("account", _arn_part(function, 4)),
            ("region", _arn_part(function, 3)),
        ),
        occurred_at=occurred,
        identity={"function": function, "stream": stream},
        raw=payload,
    )
    return Normalized((alert,), (), notes)


def stream_of(batch: dict[str, Any], key: str) -> str:
    """What the mapping reads: a stream's ARN; a Kafka cluster's ARN (MSK), else its bootstrap
    servers (a self-managed cluster's record names no ARN)."""
    if key != _KAFKA:
        return common.ident(batch.get("streamArn"), f"{key}.streamArn")
    arn = common.ident_or_none(common.unnested(batch.get("eventSourceArn")), "eventSourceArn")
    return arn or common.ident(
        common.unnested(batch.get("bootstrapServers")), f"{key}.eventSourceArn"
    )


def batch_key(payload: dict[str, Any]) -> str | None:
    """Which stream's batch info the record carries, if any."""
    return next((key for key in BATCH_INFO if isinstance(payload.get(key), dict)), None)


def _unqualified(arn: str) -> str:
    """The function's ARN without the version or alias it was invoked at."""
    parts = arn.split(":")
    return ":".join(parts[:_FUNCTION_ARN_PARTS]) if len(parts) > _FUNCTION_ARN_PARTS else arn


def _arn_part(arn: str, index: int) -> str | None:
    """Part `index` of an ARN (3 the Region, 4 the account), or None when it has none."""
    parts = arn.split(":")
    return parts[index] if len(parts) > index and parts[index] else None


def _title(function: str, kind: str, stream: str, condition: str | None) -> str:
    """ "Lambda myfunction discarded a batch of Kinesis stream mystream (RetryAttemptsExhausted)":
    the function's and stream's names, not their ARNs (a DynamoDB stream by its table)."""
    name = function.rsplit(":", 1)[-1]
    why = f" ({condition})" if condition else ""
    return common.title(f"Lambda {name} discarded a batch of {kind} {stream_name(stream)}{why}")


def stream_name(stream: str) -> str:
    """`stream/mystream` → mystream; `table/orders/stream/2026-…` → orders."""
    resource = stream.split(":", 5)[-1].split("/")
    return resource[1] if len(resource) > 1 and resource[1] else stream


def _kafka_description(batch: dict[str, Any]) -> str:
    """Where the discarded Kafka records are: each topic-partition's offsets and times."""
    lines = [
        f"{name}: {value}"
        for name in ("batchSize", "payloadSize")
        if (value := common.line(common.unnested(batch.get(name)), name, 200, shown=True))
    ]
    places = common.obj_or_empty(batch.get("recordsInfo"))
    if not places and isinstance(batch.get("recordInfo"), dict):
        places = {"record": batch["recordInfo"]}
    for where, place in list(places.items())[:_PARTITIONS_SHOWN]:
        fields = common.obj_or_empty(place)
        said = ", ".join(
            f"{name} {value}"
            for name in (
                "offset",
                "firstRecordOffset",
                "lastRecordOffset",
                "timestamp",
                "firstRecordTimestamp",
                "lastRecordTimestamp",
            )
            if (value := common.line(common.unnested(fields.get(name)), name, 200, shown=True))
        )
        named = common.line(where, "recordsInfo key", 200, shown=True)
        if named and said:
            lines.append(f"{named}: {said}")
    text = "The function failed this batch until Lambda discarded it; its records were not "
    text += "processed. Replay them from their topics:\n" + "\n".join(lines)
    return common.text(text, "description", common.DESCRIPTION_MAX) or ""


def _description(batch: dict[str, Any]) -> str:
    """Where the discarded records are, so they can be read again from the stream."""
    text = "The function failed this batch until Lambda discarded it; its records were not "
    text += "processed. Replay them from the stream:\n" + "\n".join(batch_places(batch))
    return common.text(text, "description", common.DESCRIPTION_MAX) or ""


def batch_places(batch: dict[str, Any]) -> list[str]:
    """ "shardId: shardId-000000000000", …: where a Kinesis or DynamoDB stream's discarded
    batch sits, one line a field."""
    return [
        f"{name}: {value}"
        for name in _BATCH_PLACE
        if (value := common.line(common.unnested(batch.get(name)), name, 200, shown=True))
    ]


def is_async_failure(record: dict[str, Any]) -> bool:
    """Whether an asynchronous invocation's record (`triage.decode.is_invocation_record`) was
    sent because the invocation failed: a condition other than Success (RetriesExhausted,
    EventAgeExceeded), or, with none, a function error."""
    condition = common.obj_or_empty(record.get("requestContext")).get("condition")
    if condition is not None:
        return bool(condition != _SUCCEEDED)
    return bool(common.obj_or_empty(record.get("responseContext")).get("functionError"))


def normalize_async_failure(record: dict[str, Any]) -> Normalized:
    """One firing alert for the failed invocation, keyed by the function and its error type;
    a record that names no function is refused saying what it is."""
    context = common.obj(record.get("requestContext"), "requestContext", required=True)
    response = common.obj_or_empty(record.get("responseContext"))
    result = common.obj_or_empty(record.get("responsePayload"))
    arn = common.ident_or_none(common.unnested(context.get("functionArn")), "functionArn")
    if arn is None:
        raise InvalidAlertError(
            "Lambda asynchronous invocation's failure record has no "
            "requestContext.functionArn: the function that failed cannot be named"
        )
    function = _unqualified(arn)
    error_type = common.ident_or_none(common.unnested(result.get("errorType")), "errorType")
    condition = common.word(context.get("condition"), "requestContext.condition")
    occurred, notes = dated(record.get("timestamp"), "Lambda destination record timestamp")
    identity = {"function": function}
    if error_type is not None:
        identity["error_type"] = error_type
    alert = Alert(
        source=SOURCE,
        status=Status.FIRING,
        title=_failure_title(function, condition, result.get("errorType")),
        severity="error",
        description=_failure_description(result, context),
        labels=labelled(
            ("function", function),
            ("condition", condition),
            ("error_type", result.get("errorType")),
            ("function_error", response.get("functionError")),
            ("executed_version", response.get("executedVersion")),
            ("invoke_count", context.get("approximateInvokeCount")),
            ("account", _arn_part(function, 4)),
            ("region", _arn_part(function, 3)),
        ),
        occurred_at=occurred,
        identity=identity,
        raw=record,
    )
    return Normalized((alert,), (), notes)


def _failure_title(function: str, condition: str | None, error_type: Any) -> str:
    """ "Lambda myfunction failed an asynchronous invocation (RetriesExhausted): KeyError": the
    function's name, why Lambda gave up, and the error type when the function reported one."""
    name = function.rsplit(":", 1)[-1]
    why = f" ({condition})" if condition else ""
    shown = common.word(error_type, "responsePayload.errorType")
    error = f": {shown}" if shown else ""
    return common.title(f"Lambda {name} failed an asynchronous invocation{why}{error}")


def _failure_description(result: dict[str, Any], context: dict[str, Any]) -> str:
    """The error message the function ended with, and how often Lambda tried the event."""
    message = common.text(common.unnested(result.get("errorMessage")), "errorMessage")
    tries = common.word(context.get("approximateInvokeCount"), "approximateInvokeCount")
    lines = [message or "The function's record holds no error message."]
    if tries:
        lines.append(f"Lambda tried the event {tries} time(s) before giving up.")
    text = "\n".join(lines)
    return common.text(text, "description", common.DESCRIPTION_MAX) or ""


def normalize_failure_record(record: dict[str, Any]) -> Normalized:
    """An on-failure record that `triage.decode` did not read as its event (one an EventBridge
    destination put on its bus, as the event's `detail`; one whose event is SNS's invocation
    event, sent to an SNS destination): the alerts its event holds read alone, each naming the
    function's failure (`with_failure`), as the record sent to a queue is read; an event that
    is no alert, or an alert that cannot be read (noted), the function's failure."""
    # Imported here: this module is one of the formats `normalize_body` reads.
    from triage.normalize import normalize_body

    event = record.get("requestPayload")
    if isinstance(event, dict | list):
        try:
            read = normalize_body(json.dumps(event))
        except (DecodeError, UnknownFormatError):
            return normalize_async_failure(record)
        except InvalidAlertError as exc:
            # The failure is news of its own: the record is not lost for its event's fault.
            failure = normalize_async_failure(record)
            note = f"{ASYNC_FAILURE}: the event the function failed on is an alert that "
            note += f"cannot be read ({exc}): read as the function's failure"
            return Normalized(failure.alerts, failure.skipped, (*failure.notes, note))
        return with_failure(read, record)
    return normalize_async_failure(record)


def with_failure(read: Normalized, record: dict[str, Any]) -> Normalized:
    """The alerts of an on-failure record's event, each with the function's failure first in
    its description and in labels; identity, title and state are the alert's own."""
    if not read.alerts:
        return read
    context = common.obj_or_empty(record.get("requestContext"))
    result = common.obj_or_empty(record.get("responsePayload"))
    arn = common.ident_or_none(common.unnested(context.get("functionArn")), "functionArn")
    function = _unqualified(arn) if arn else None
    condition = common.word(context.get("condition"), "requestContext.condition")
    error_type = common.word(result.get("errorType"), "responsePayload.errorType")
    said = _failure_said(function, condition, error_type, result, context)
    alerts = []
    for alert in read.alerts:
        labels = dict(alert.labels)
        common.add_label(labels, "lambda_function", function)
        common.add_label(labels, "lambda_condition", condition)
        common.add_label(labels, "lambda_error_type", error_type)
        text = f"{said}\n\n{alert.description}" if alert.description else said
        description = common.text(text, "description", common.DESCRIPTION_MAX) or ""
        alerts.append(alert.model_copy(update={"description": description, "labels": labels}))
    return Normalized(tuple(alerts), read.skipped, read.notes)


def _failure_said(
    function: str | None,
    condition: str | None,
    error_type: str | None,
    result: dict[str, Any],
    context: dict[str, Any],
) -> str:
    """ "Lambda function myfunction failed handling this alert (RetriesExhausted):
    KeyError: 'AlarmName'": the alert reached triage through the function's on-failure
    destination, not from the function's own work."""
    name = function.rsplit(":", 1)[-1] if function else "(unnamed)"
    why = f" ({condition})" if condition else ""
    error = f": {error_type}" if error_type else ""
    message = common.line(common.unnested(result.get("errorMessage")), "errorMessage", shown=True)
    said = f"Lambda function {name} failed handling this alert{why}{error}"
    said += f": {message}" if message else ""
    tries = common.word(context.get("approximateInvokeCount"), "approximateInvokeCount")
    after = f" after {tries} attempt(s)" if tries else ""
    return f"{said}. It reached triage through the function's on-failure destination{after}."
