"""The queue's redrive policy as the daemon needs it: its maxReceiveCount, read once at
start-up, so the supervisor knows which release is a message's last and counts it in
`MessagesDeadLettered`. Unknown (None) when the queue has no policy, SQS does not answer or
the policy does not hold a positive whole count: a guessed limit would count wrongly."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Mapping
from typing import Any

import structlog

from triage.aws import AWS_CALL_ERRORS
from triage.sqs.inbox import sqs_count

log = structlog.get_logger(__name__)

_ATTRIBUTE = "RedrivePolicy"
#: The longest the start-up read may take: a queue endpoint that takes the connection and never
#: answers must not hold the daemon's start for botocore's read timeout and retries.
READ_TIMEOUT_S = 10.0


async def read_max_receive_count(
    client: Any, queue_url: str, *, timeout_s: float = READ_TIMEOUT_S
) -> int | None:
    """The maxReceiveCount of the queue at `queue_url` (one GetQueueAttributes call), or None
    with one warning when SQS does not say it within `timeout_s`."""
    try:
        async with asyncio.timeout(timeout_s):
            response = await client.get_queue_attributes(
                QueueUrl=queue_url, AttributeNames=[_ATTRIBUTE]
            )
    except TimeoutError:
        _unknown("queue attributes unanswered", f"no answer within {timeout_s:g} s")
        return None
    except AWS_CALL_ERRORS as exc:
        _unknown("queue attributes unreadable", str(exc) or type(exc).__name__)
        return None
    attributes = response.get("Attributes", {}) if isinstance(response, Mapping) else None
    if not isinstance(attributes, Mapping):
        _unknown("queue attributes unreadable", f"answered as {type(attributes).__name__}")
        return None
    limit = max_receive_count(attributes)
    if limit is None and _ATTRIBUTE in attributes:
        _unknown("maxReceiveCount unreadable", "")
    return limit


def _unknown(reason: str, error: str) -> None:
    """The one line that says the daemon counts no dead letters this run, and why."""
    log.warning("redrive.unknown", reason=reason, error=error)


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
