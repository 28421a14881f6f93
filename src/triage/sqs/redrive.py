"""The queue's redrive policy as the daemon needs it: its maxReceiveCount, so the supervisor
knows which release is a message's last and counts it in `MessagesDeadLettered`. Read at
start-up, then followed while the daemon runs (`RedriveLimit`): an operator may change the
policy at any time. Unknown (None) when the queue has no policy, SQS does not answer or the
policy does not hold a positive whole count: a guessed limit would count wrongly."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable, Mapping
from typing import Any

import structlog

from triage.aws import AWS_CALL_ERRORS
from triage.sqs.inbox import sqs_count
from triage.view import url_origin

log = structlog.get_logger(__name__)

_ATTRIBUTE = "RedrivePolicy"
#: The longest one read may take: a queue endpoint that takes the connection and never
#: answers must not hold the daemon's start for botocore's read timeout and retries.
READ_TIMEOUT_S = 10.0
#: How often the policy is read again when no depth poll reads it (`TRIAGE_QUEUE_DEPTH_POLL_S`
#: 0): one call a minute, never one per message.
REFRESH_S = 60.0


class _Unread(Exception):
    """Raised by `_read_attributes` when SQS did not say the queue's attributes: `reason`
    is the line's reason, the message what went wrong."""

    def __init__(self, reason: str, error: str) -> None:
        super().__init__(error)
        self.reason = reason


async def _read_attributes(client: Any, queue_url: str, timeout_s: float) -> Mapping[str, Any]:
    """The queue's RedrivePolicy attribute as SQS answers it (one GetQueueAttributes call)."""
    try:
        async with asyncio.timeout(timeout_s):
            response = await client.get_queue_attributes(
                QueueUrl=queue_url, AttributeNames=[_ATTRIBUTE]
            )
    except TimeoutError:
        raise _Unread("queue attributes unanswered", f"no answer within {timeout_s:g} s") from None
    except AWS_CALL_ERRORS as exc:
        raise _Unread("queue attributes unreadable", str(exc) or type(exc).__name__) from None
    attributes = response.get("Attributes", {}) if isinstance(response, Mapping) else None
    if not isinstance(attributes, Mapping):
        error = f"answered as {type(attributes).__name__}"
        raise _Unread("queue attributes unreadable", error)
    return attributes


async def read_max_receive_count(
    client: Any, queue_url: str, *, timeout_s: float = READ_TIMEOUT_S
) -> int | None:
    """The maxReceiveCount of the queue at `queue_url` (one GetQueueAttributes call), or None
    with one warning when SQS does not say it within `timeout_s`."""
    try:
        attributes = await _read_attributes(client, queue_url, timeout_s)
    except _Unread as exc:
        _unknown(exc.reason, str(exc))
        return None
    limit = max_receive_count(attributes)
    if limit is None and _ATTRIBUTE in attributes:
        _unknown("maxReceiveCount unreadable", "")
    elif _ATTRIBUTE not in attributes:
        # Nothing ever leaves such a queue: a message that fails for good comes back after
        # each backoff for as long as the queue keeps it, and is then lost unseen.
        log.warning(
            "redrive.none",
            queue=url_origin(queue_url),
            detail="the queue has no redrive policy: a message that fails for good is retried "
            "until the queue's retention deletes it, never moved to a dead-letter queue; give "
            "the queue a RedrivePolicy naming a DLQ",
        )
    return limit


def _unknown(reason: str, error: str) -> None:
    """The one line that says the daemon counts no dead letters until a read says the limit,
    and why."""
    log.warning("redrive.unknown", reason=reason, error=error)


class RedriveLimit:
    """The queue's maxReceiveCount as SQS last said it, kept current while the daemon runs.

    Every queue-attributes answer that asked for the RedrivePolicy updates it (`observe`: the
    depth poll's, or `refresh` on an interval of its own), so no message costs a call. An
    answer without a policy is a real "none" (None: no dead letters counted); a read that
    fails, or a policy that holds no positive whole count, changes nothing: the last good
    count stays, with one warning per outage and one line when a read works again. Each
    change is logged (`redrive.changed`) and handed to every `follow`er."""

    def __init__(self, value: int | None) -> None:
        self.value = value
        self._listeners: list[Callable[[int | None], None]] = []
        #: Reads failed in a row: the first says so, the one that works again ends it.
        self._failed_reads = 0

    def follow(self, listener: Callable[[int | None], None]) -> None:
        """Hand `listener` the count now and on each change."""
        self._listeners.append(listener)
        listener(self.value)

    def observe(self, attributes: Mapping[str, Any]) -> None:
        """Follow what a GetQueueAttributes answer (that asked for RedrivePolicy) says."""
        count = max_receive_count(attributes)
        if count is None and _ATTRIBUTE in attributes:
            self.unread("maxReceiveCount unreadable")
            return
        if self._failed_reads:
            log.info("redrive.recovered", failed_reads=self._failed_reads)
            self._failed_reads = 0
        if count != self.value:
            log.info("redrive.changed", previous=self.value, max_receive_count=count)
            self.value = count
            for listener in self._listeners:
                listener(count)

    def unread(self, error: str) -> None:
        """A read that said nothing: keep the last good count; warn at an outage's first."""
        self._failed_reads += 1
        emit = log.warning if self._failed_reads == 1 else log.debug
        emit("redrive.unread", error=error, kept=self.value, failed_reads=self._failed_reads)

    async def refresh(
        self, client: Any, queue_url: str, *, timeout_s: float = READ_TIMEOUT_S
    ) -> None:
        """Read the policy once (one GetQueueAttributes call) and follow it."""
        try:
            attributes = await _read_attributes(client, queue_url, timeout_s)
        except _Unread as exc:
            self.unread(str(exc))
            return
        self.observe(attributes)

    async def run(self, client: Any, queue_url: str) -> None:
        """Read the policy every `REFRESH_S` until cancelled (when no depth poll reads it)."""
        while True:
            await asyncio.sleep(REFRESH_S)
            await self.refresh(client, queue_url, timeout_s=min(READ_TIMEOUT_S, REFRESH_S))


def max_receive_count(attributes: object) -> int | None:
    """maxReceiveCount of a queue's attributes: SQS writes it as a number or a string of one;
    None without a policy or when it holds no positive whole count (and for attributes or a
    policy of a shape SQS never answers: no map, no JSON text, nested past the parser)."""
    text = attributes.get(_ATTRIBUTE) if isinstance(attributes, Mapping) else None
    if not isinstance(text, str):
        return None
    try:
        policy = json.loads(text)
    except (ValueError, RecursionError):
        return None
    value = policy.get("maxReceiveCount") if isinstance(policy, dict) else None
    if isinstance(value, bool):
        return None
    try:
        count = sqs_count(value)  # as strictly as the inbox reads SQS's counts
    except ValueError:
        return None
    return count if count > 0 else None
