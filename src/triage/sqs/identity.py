"""Which message a delivery carries, under a name that survives a DLQ redrive.

SQS gives a message a new MessageId when it is redriven (StartMessageMoveTask and a send by
`triage dlq redrive` alike), so a count keyed by it counts a redriven message's alerts again.
The identity is taken, in this order, from what the move keeps:

    gw:<uuid>          the id `triage ingest` stamps on each message it queues
                       (GATEWAY_ID_ATTRIBUTE)
    sns:<id>.<digest>  an SNS notification's own MessageId (one per publish, so SNS delivering
                       the same publish twice is recognised too) with a digest of the body;
                       for a Lambda SNS event queued whole (a function's dead-letter queue,
                       or the `requestPayload` of its on-failure destination's invocation
                       record), the MessageId of its one record's notification
    eb:<id>.<digest>   an EventBridge event's id, for an event delivered to the queue directly
    <id>               the identity `triage dlq redrive` carried over (REDRIVEN_FROM_ATTRIBUTE),
                       else SQS's own MessageId, bare: what claims were keyed by before
                       identities existed (sqs:<digest> for an id of no id's shape)

SQS's own move task (StartMessageMoveTask, the console's "redrive") moves the body and the
message attributes; AWS documents the moved copy as a new message, with a new MessageId and a
new enqueue time (SentTimestamp), and says nothing of SenderId or the other system attributes
across a move (SenderId names the sending principal, the same for every send of one script).
So a message none of the above names (queued by `aws sqs send-message`, no envelope) comes
back from that task as a new message and its alerts are counted again: its body cannot name
it, since two sends of one body are two occurrences. Nothing else a standard queue keeps
names it either: SentTimestamp and ApproximateFirstReceiveTimestamp are the copy's, SenderId
names the sending principal, MD5OfBody the body, DeadLetterQueueSourceArn the queue. A ticket
a sink refused for good that such a message tried is therefore not sent again by the copy (a
repeat, counted): the incident's next update or reopen sends it (`effects.sinks_for`), and
`triage dlq redrive` carries the identity over. (LocalStack's task keeps the MessageId and
SentTimestamp, as AWS does not: the tests move a letter as AWS documents.)

An id read from a body is bound to that body: a redrive moves it byte for byte, while an
envelope copied by hand from a sample (its MessageId with it) and sent with another alert in it
is another message; were it the same, its resolve would be taken for the firing it copied and
ignored.

Attributes and bodies are written by whoever can send to the queue: a value that is not of its
kind's shape is ignored (one `message.bad_identity` line, never the value), and each sender
has its own namespace, so no sender's id can take another's. An id is at most 100 letters,
digits and dashes: it never holds the separators claim owners are built with (`#`, `@`, `/`).
"""

from __future__ import annotations

import hashlib
import json
import re
import uuid
from collections.abc import Callable, Mapping

import structlog

from triage.decode import LAMBDA_SNS, SNS_NOTIFICATION, is_sns_envelope, lambda_records

log = structlog.get_logger(__name__)

#: Whether to log that something of message `id` at `where` was ignored: `say(id, where)`.
Say = Callable[[str, str], bool]

#: The message attribute `triage ingest` stamps each message with (`new_gateway_id`).
GATEWAY_ID_ATTRIBUTE = "gateway_message_id"
#: The message attribute `triage dlq redrive` adds: the identity of the dead letter it sends.
REDRIVEN_FROM_ATTRIBUTE = "redriven_from"

GATEWAY = "gw"
SNS = "sns"
EVENTBRIDGE = "eb"
SQS = "sqs"

_ID = r"[A-Za-z0-9][A-Za-z0-9-]{0,99}"
_UUID = r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}"
_BARE = re.compile(_ID, re.ASCII)
#: A UUID in either case: what SNS's MessageId and EventBridge's id are.
_ANY_UUID = re.compile(_UUID, re.ASCII | re.IGNORECASE)
_GATEWAY_ID = re.compile(rf"{GATEWAY}:{_UUID}", re.ASCII)
_DIGEST = r"[0-9a-f]{16}"
_IDENTITY = re.compile(
    rf"(?:{GATEWAY}:{_UUID}|(?:{SNS}|{EVENTBRIDGE}):{_ID}\.{_DIGEST}|{SQS}:[0-9a-f]{{32}}|{_ID})",
    re.ASCII,
)
#: The first keys of the top-level object, in the order SNS and EventBridge write them: read
#: without parsing the body (the pipeline parses it anyway, and a storm's every message passes
#: here). A body written in another order (a forwarder that re-serialised it) is parsed.
_SNS_HEAD = re.compile(
    r'\s*\{\s*"Type"\s*:\s*"Notification"\s*,\s*"MessageId"\s*:\s*"([^"\\]{0,200})"\s*,'
    r'\s*"TopicArn"\s*:\s*"',
    re.ASCII,
)
_EVENT_HEAD = re.compile(
    r'\s*\{\s*"version"\s*:\s*"[^"\\]{0,20}"\s*,\s*"id"\s*:\s*"([^"\\]{0,200})"\s*,'
    r'\s*"detail-type"\s*:\s*"',
    re.ASCII,
)


def new_gateway_id() -> str:
    """A fresh identity for one message `triage ingest` queues."""
    return f"{GATEWAY}:{uuid.uuid4()}"


def is_identity(value: str) -> bool:
    """`value` has the shape of an identity of any namespace."""
    return _IDENTITY.fullmatch(value) is not None


def _always(_message_id: str, _where: str) -> bool:
    return True


def message_identity(
    sqs_id: str, body: str, attributes: Mapping[str, str], say: Say = _always
) -> str:
    """The identity of the message SQS calls `sqs_id` (see the module docstring). A value
    ignored is logged when `say(sqs_id, where)` agrees (the inbox: once per message, not on
    every delivery)."""
    stamped = _attribute(sqs_id, attributes, GATEWAY_ID_ATTRIBUTE, _GATEWAY_ID, say)
    if stamped is not None:
        return stamped
    carried = _carried_by_body(sqs_id, body, say)
    if carried is not None:
        return carried
    redriven = _attribute(sqs_id, attributes, REDRIVEN_FROM_ATTRIBUTE, _IDENTITY, say)
    if redriven is not None:
        return redriven
    # SQS's own id, bare when it has an id's shape (as every SQS endpoint's does); any other
    # is digested, so it holds no separator of a claim owner's, in a namespace of its own.
    if _BARE.fullmatch(sqs_id):
        return sqs_id
    return f"{SQS}:{_digest(sqs_id, 16)}"


def _attribute(
    sqs_id: str, attributes: Mapping[str, str], name: str, shape: re.Pattern[str], say: Say
) -> str | None:
    value = attributes.get(name)
    if value is None:
        return None
    if shape.fullmatch(value):
        return value
    _bad(sqs_id, name, len(value), say)
    return None


def _bad(sqs_id: str, where: str, length: int | None, say: Say) -> None:
    """The one line that says a value naming the message was ignored (never the value)."""
    if say(sqs_id, where):
        log.warning("message.bad_identity", message_id=sqs_id, attribute=where, length=length)


def _carried_by_body(sqs_id: str, body: str, say: Say) -> str | None:
    """`sns:<MessageId>.<digest>` for an SNS notification's envelope, `eb:<id>.<digest>` for an
    EventBridge event; None for any other body, and for one that does not parse (the pipeline
    says why)."""
    if (written := _SNS_HEAD.match(body)) is not None:
        return _bound(sqs_id, SNS, written.group(1), "body.MessageId", body, say)
    if (written := _EVENT_HEAD.match(body)) is not None:
        return _bound(sqs_id, EVENTBRIDGE, written.group(1), "body.id", body, say)
    if '"Notification"' not in body and '"detail-type"' not in body:
        return None  # neither kind, whatever its keys' order: not parsed
    try:
        payload = json.loads(body)
    except (ValueError, RecursionError):
        return None
    if not isinstance(payload, dict):
        return None
    if is_sns_envelope(payload) and payload["Type"] == SNS_NOTIFICATION:
        return _bound(sqs_id, SNS, payload.get("MessageId"), "body.MessageId", body, say)
    if (notification := _lambda_notification(payload)) is not None:
        where = "body.Records[0].Sns.MessageId"
        return _bound(sqs_id, SNS, notification.get("MessageId"), where, body, say)
    if isinstance(payload.get("detail-type"), str) and "detail" in payload:
        return _bound(sqs_id, EVENTBRIDGE, payload.get("id"), "body.id", body, say)
    return None


def _lambda_notification(payload: dict[str, object]) -> dict[str, object] | None:
    """The SNS notification of a Lambda SNS event queued whole, or of the event an on-failure
    destination's invocation record holds (`requestPayload`, as `decode` reads it): Lambda's
    SNS event holds one record. None for any other body, a batch of records included (no one
    notification names it)."""
    if isinstance(payload.get("requestContext"), dict) and "responseContext" in payload:
        event = payload.get("requestPayload")
    else:
        event = payload
    records = lambda_records(event)
    if records is None or len(records) != 1:
        return None
    record = records[0]
    notification = record.get("Sns") if record.get("EventSource") == LAMBDA_SNS else None
    if isinstance(notification, dict) and notification.get("Type") == SNS_NOTIFICATION:
        return notification
    return None


def _bound(
    sqs_id: str, namespace: str, value: object, where: str, body: str, say: Say
) -> str | None:
    """`<namespace>:<value>.<digest of body>`, or None (logged) for a value of no id's shape.
    A value that is no UUID (SNS and EventBridge write only UUIDs) is kept as its digest: the
    body's writer chose it, and the identity is kept at rest (an incident's `effects_by`)
    and logged, where a key or token put there would otherwise stay whole."""
    if isinstance(value, str) and _BARE.fullmatch(value):
        named = value if _ANY_UUID.fullmatch(value) else _digest(value, 16)
        return f"{namespace}:{named}.{_digest(body, 8)}"
    _bad(sqs_id, where, len(value) if isinstance(value, str) else None, say)
    return None


def _digest(text: str, size: int) -> str:
    return hashlib.blake2b(text.encode("utf-8", "surrogatepass"), digest_size=size).hexdigest()
