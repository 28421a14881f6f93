"""Red team round 3c: during a fault, the log names each message it happened to. An operator
following one message by its id (an alert that opened no ticket, or opened two) must find
the line that says what went wrong with it, not only a count in a batch's line."""

from __future__ import annotations

import asyncio
from collections.abc import MutableMapping, Sequence
from typing import Any

import structlog

from memory_inbox import MemoryInbox
from triage.errors import InboxError
from triage.incidents.lifecycle import Outcome
from triage.metrics import Metrics
from triage.sqs.inbox import Message
from triage.sqs.supervisor import Progress, Supervisor, SupervisorConfig


class DeleteDownInbox(MemoryInbox):
    """A MemoryInbox whose DeleteMessageBatch calls fail (SQS unreachable for deletes)."""

    async def delete(self, messages: Sequence[Message]) -> list[str]:
        raise InboxError("delete failed: connection reset")


async def handled(_message: Message, _progress: Progress) -> list[Outcome]:
    return []


def loud_lines_naming(logs: list[MutableMapping[str, Any]], message_id: str) -> list[str]:
    """The events at info or above that name `message_id` (bound or as a field)."""
    return [
        e["event"]
        for e in logs
        if e["log_level"] in ("info", "warning", "error")
        and (e.get("message_id") == message_id or message_id in e.get("message_ids", ()))
    ]


async def test_a_lost_delete_is_said_under_its_message_id() -> None:
    """Two messages handled while every delete fails: each has a line at info or above,
    carrying its message_id, that says its delete failed."""
    inbox = DeleteDownInbox()
    ids = inbox.put("one", "two")
    config = SupervisorConfig(wait_s=0, retry_base_s=0, shutdown_grace_s=1)
    supervisor = Supervisor(config, inbox, handled, Metrics())
    with structlog.testing.capture_logs(
        processors=[structlog.contextvars.merge_contextvars]
    ) as logs:
        serving = asyncio.create_task(supervisor.serve())
        try:
            await until_stats(supervisor, delete_failed=2)
        finally:
            supervisor.should_exit.set()
            await asyncio.wait_for(serving, 10)
    for message_id in ids:
        events = loud_lines_naming(logs, message_id)
        assert any("delete" in event for event in events), (message_id, events)


async def until_stats(supervisor: Supervisor, **wanted: int) -> None:
    """Wait (10 s at most) until the supervisor's stats reach `wanted`."""
    async with asyncio.timeout(10):
        while any(getattr(supervisor.stats, k) < v for k, v in wanted.items()):
            await asyncio.sleep(0.01)
