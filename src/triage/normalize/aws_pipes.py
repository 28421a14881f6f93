"""The record an EventBridge pipe sends its dead-letter queue (or topic) when it discards a
batch of its Kinesis or DynamoDB stream source: the pipe failed to deliver the batch to its
enrichment or target until its retry policy gave up (`context.condition`:
RetryAttemptsExhausted, RecordAgeExpired …), so its records never reached the target and
someone must replay them from the stream. Teams point that dead-letter queue at their alert
queue.

The record names the pipe (`context.partnerResourceArn`) and where the batch sits in the
stream (`KinesisBatchInfo` or `DDBStreamBatchInfo`, as a Lambda stream mapping's on-failure
record does: `aws_lambda_destinations`), never the records. Read as format
`pipes-dead-letter`, source `aws`: it fires titled with the pipe, the stream and the condition;
keyed by the pipe and the stream, never the condition, shard, sequence numbers or time, which
differ for every batch, so a pipe that keeps failing is one incident counting repeats. Pipes
sends nothing once batches pass again: the incident stays open until `triage incidents close`
closes it (or its route's `resolve_after_s`).
"""

from __future__ import annotations

from typing import Any

from triage.models import Alert, Status
from triage.normalize import aws_dead_letters as letters
from triage.normalize import common
from triage.normalize.aws_lambda_destinations import (
    BATCH_INFO,
    batch_key,
    batch_places,
    stream_name,
    stream_of,
)
from triage.normalize.common import Normalized
from triage.normalize.generic import dated
from triage.normalize.vendors import labelled

SOURCE = "aws"
FORMAT = "pipes-dead-letter"
#: The key of the record's context: the pipe (`partnerResourceArn`) and why it gave up.
CONTEXT = "context"
#: The stream sources a pipe's dead-letter record names (Kafka and MQ sources have none).
_STREAMS = ("KinesisBatchInfo", "DDBStreamBatchInfo")


def matches(payload: dict[str, Any]) -> bool:
    """A pipe's dead-letter record: its `context` naming a pipe's ARN, and a Kinesis or
    DynamoDB stream's batch info."""
    context = payload.get(CONTEXT)
    if not isinstance(context, dict):
        return False
    pipe = context.get("partnerResourceArn")
    return (
        isinstance(pipe, str)
        and pipe.startswith("arn:")
        and ":pipes:" in pipe
        and batch_key(payload) in _STREAMS
    )


def normalize(payload: dict[str, Any]) -> Normalized:
    """One firing alert for the discarded batch, keyed by pipe and stream."""
    context = common.obj(payload.get(CONTEXT), CONTEXT, required=True)
    key = batch_key(payload) or _STREAMS[0]
    batch = common.obj(payload.get(key), key, required=True)
    pipe = common.ident(context.get("partnerResourceArn"), "context.partnerResourceArn")
    stream = stream_of(batch, key)
    condition = common.word(context.get("condition"), "context.condition")
    occurred, notes = dated(payload.get("timestamp"), "pipe dead-letter record timestamp")
    name = letters.resource_name(pipe)
    alert = Alert(
        source=SOURCE,
        status=Status.FIRING,
        title=_title(name, BATCH_INFO[key], stream, condition),
        severity="error",
        description=_description(batch),
        labels=labelled(
            ("service", "pipes"),
            ("pipe", name),
            ("stream", stream),
            ("condition", condition),
            ("batch_size", batch.get("batchSize")),
            ("shard", batch.get("shardId")),
            ("account", letters.arn_part(pipe, 4)),
            ("region", letters.arn_part(pipe, 3)),
        ),
        occurred_at=occurred,
        identity={"service": "pipes", "pipe": pipe, "stream": stream},
        raw=payload,
    )
    return Normalized((alert,), (), notes)


def _title(pipe: str, kind: str, stream: str, condition: str | None) -> str:
    """ "EventBridge pipe orders-pipe discarded a batch of Kinesis stream orders
    (RetryAttemptsExhausted)": names, not ARNs (a DynamoDB stream by its table)."""
    why = f" ({condition})" if condition else ""
    return common.title(
        f"EventBridge pipe {pipe} discarded a batch of {kind} {stream_name(stream)}{why}"
    )


def _description(batch: dict[str, Any]) -> str:
    """Where the discarded records are, so they can be read again from the stream."""
    text = "The pipe failed to deliver this batch until EventBridge Pipes discarded it; its "
    text += "records never reached the pipe's target. Replay them from the stream:\n"
    text += "\n".join(batch_places(batch))
    return common.text(text, "description", common.DESCRIPTION_MAX) or ""
