"""The `Inbox` seam and its SQS implementation: receive, delete in batches, release with a delay.

The supervisor knows only `Inbox`; tests and benchmarks may give it another implementation.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Protocol

import structlog
from botocore.exceptions import BotoCoreError, ClientError

from triage.errors import InboxError

log = structlog.get_logger(__name__)

#: SQS's limits, here and nowhere else: the most messages per receive and per batch call,
#: and the longest a message may stay hidden (12 hours).
MAX_BATCH = 10
MAX_VISIBILITY_S = 43_200

#: The message attribute `triage ingest` copies a Sentry webhook's `Sentry-Hook-Resource` into.
SENTRY_RESOURCE_ATTRIBUTE = "sentry_hook_resource"
#: The message attribute `triage ingest` stores its span's W3C trace context in.
TRACEPARENT_ATTRIBUTE = "traceparent"


@dataclass(frozen=True, slots=True)
class Message:
    id: str
    body: str
    receipt_handle: str
    #: ApproximateReceiveCount: 1 on the first delivery.
    receive_count: int
    sent_at: datetime | None
    #: When this process received it: event times far ahead of it are not believed.
    received_at: datetime = field(default_factory=lambda: datetime.now(UTC))
    #: The message's string attributes (what `triage ingest` adds: source, request id …).
    attributes: Mapping[str, str] = field(default_factory=dict)
    #: SQS's AWSTraceHeader system attribute (X-Ray), when the sender was traced.
    trace_header: str | None = None

    @property
    def sentry_resource(self) -> str | None:
        return self.attributes.get(SENTRY_RESOURCE_ATTRIBUTE)


@dataclass(frozen=True, slots=True)
class Depth:
    visible: int
    in_flight: int
    delayed: int

    @property
    def empty(self) -> bool:
        return self.visible == 0 and self.in_flight == 0 and self.delayed == 0


class Inbox(Protocol):
    async def receive(self, max_messages: int, wait_s: int, visibility_s: int) -> list[Message]:
        """Long-poll for up to `max_messages`, hidden from other consumers for `visibility_s`."""
        ...

    async def delete(self, messages: Sequence[Message]) -> list[str]:
        """Delete the messages (in as many calls as the queue's batch limit needs); return the
        ids the queue failed to delete."""
        ...

    async def change_visibility(self, messages: Sequence[Message], timeout_s: int) -> None:
        """Hide the messages for `timeout_s` more seconds (batched as the queue needs): 0
        releases them at once, a delay spaces out a retry, and a heartbeat extends messages
        still being worked on."""
        ...

    async def depth(self) -> Depth: ...


class SqsInbox:
    """An SQS queue through one aiobotocore client (opened and closed by the caller)."""

    def __init__(self, client: Any, queue_url: str) -> None:
        self._sqs = client
        self.queue_url = queue_url

    async def receive(self, max_messages: int, wait_s: int, visibility_s: int) -> list[Message]:
        try:
            response = await self._sqs.receive_message(
                QueueUrl=self.queue_url,
                MaxNumberOfMessages=max_messages,
                WaitTimeSeconds=wait_s,
                VisibilityTimeout=visibility_s,
                MessageSystemAttributeNames=[
                    "ApproximateReceiveCount",
                    "SentTimestamp",
                    "AWSTraceHeader",
                ],
                MessageAttributeNames=["All"],
            )
        except (ClientError, BotoCoreError) as exc:
            raise InboxError(f"receive failed: {_describe(exc)}") from exc
        return [message_from(raw) for raw in response.get("Messages", [])]

    async def delete(self, messages: Sequence[Message]) -> list[str]:
        failed: list[str] = []
        for batch in _batches(messages):
            failed += await self._delete(batch)
        return failed

    async def _delete(self, messages: Sequence[Message]) -> list[str]:
        entries = [
            {"Id": str(i), "ReceiptHandle": m.receipt_handle} for i, m in enumerate(messages)
        ]
        try:
            response = await self._sqs.delete_message_batch(
                QueueUrl=self.queue_url, Entries=entries
            )
        except (ClientError, BotoCoreError) as exc:
            raise InboxError(f"delete failed: {_describe(exc)}") from exc
        failed = []
        for entry in response.get("Failed", []):
            message = messages[int(entry["Id"])]
            log.warning(
                "message.delete_failed",
                message_id=message.id,
                code=entry.get("Code"),
                reason=entry.get("Message"),
            )
            failed.append(message.id)
        return failed

    async def change_visibility(self, messages: Sequence[Message], timeout_s: int) -> None:
        timeout_s = max(0, min(int(timeout_s), MAX_VISIBILITY_S))
        for batch in _batches(messages):
            await self._change_visibility(batch, timeout_s)

    async def _change_visibility(self, messages: Sequence[Message], timeout_s: int) -> None:
        entries = [
            {"Id": str(i), "ReceiptHandle": m.receipt_handle, "VisibilityTimeout": timeout_s}
            for i, m in enumerate(messages)
        ]
        try:
            response = await self._sqs.change_message_visibility_batch(
                QueueUrl=self.queue_url, Entries=entries
            )
        except (ClientError, BotoCoreError) as exc:
            # Not fatal: the message reappears when its visibility timeout ends anyway.
            log.warning("message.visibility_failed", error=_describe(exc), count=len(messages))
            return
        for entry in response.get("Failed", []):
            log.warning(
                "message.visibility_failed",
                message_id=messages[int(entry["Id"])].id,
                code=entry.get("Code"),
                reason=entry.get("Message"),
            )

    async def depth(self) -> Depth:
        try:
            response = await self._sqs.get_queue_attributes(
                QueueUrl=self.queue_url,
                AttributeNames=[
                    "ApproximateNumberOfMessages",
                    "ApproximateNumberOfMessagesNotVisible",
                    "ApproximateNumberOfMessagesDelayed",
                ],
            )
        except (ClientError, BotoCoreError) as exc:
            raise InboxError(f"get_queue_attributes failed: {_describe(exc)}") from exc
        attrs = response.get("Attributes", {})
        return Depth(
            visible=int(attrs.get("ApproximateNumberOfMessages", 0)),
            in_flight=int(attrs.get("ApproximateNumberOfMessagesNotVisible", 0)),
            delayed=int(attrs.get("ApproximateNumberOfMessagesDelayed", 0)),
        )


def message_from(raw: dict[str, Any]) -> Message:
    """A Message from one entry of ReceiveMessage's answer."""
    attrs = raw.get("Attributes", {})
    sent = attrs.get("SentTimestamp")
    return Message(
        id=raw["MessageId"],
        body=raw.get("Body", ""),
        receipt_handle=raw["ReceiptHandle"],
        receive_count=int(attrs.get("ApproximateReceiveCount", 1)),
        sent_at=datetime.fromtimestamp(int(sent) / 1000, UTC) if sent else None,
        attributes={
            name: value["StringValue"]
            for name, value in raw.get("MessageAttributes", {}).items()
            if isinstance(value.get("StringValue"), str)
        },
        trace_header=attrs.get("AWSTraceHeader"),
    )


def _batches(messages: Sequence[Message]) -> list[Sequence[Message]]:
    return [messages[i : i + MAX_BATCH] for i in range(0, len(messages), MAX_BATCH)]


def _describe(exc: Exception) -> str:
    if isinstance(exc, ClientError):
        error = exc.response.get("Error", {})
        return f"{error.get('Code', '?')}: {error.get('Message', '')}".strip()
    return str(exc)
