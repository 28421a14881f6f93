"""A storm repeat's per-message work (issue 18): the lines of one message keep every field
they had (the trace id on each, the alert it reached) while what only a debug line or a new
incident needs is no longer done for every repeat."""

from __future__ import annotations

import asyncio
from dataclasses import replace

import structlog

from memory_inbox import MemoryInbox
from triage.incidents.lifecycle import Outcome
from triage.metrics import Metrics
from triage.sqs.inbox import TRACEPARENT_ATTRIBUTE, Message
from triage.sqs.supervisor import Progress, Supervisor, SupervisorConfig

SENDER_TRACE = "4bf92f3577b34da6a3ce929d0e0e4736"
TRACEPARENT = f"00-{SENDER_TRACE}-00f067aa0ba902b7-01"


def _config() -> SupervisorConfig:
    return SupervisorConfig(wait_s=0, drain=True, retry_base_s=0, shutdown_grace_s=1)


class _TracedTwiceInbox(MemoryInbox):
    """Hands each delivery out twice in one answer (one receipt handle), as SQS may, every
    message carrying the gateway's `traceparent`."""

    async def receive(self, max_messages: int, wait_s: int, visibility_s: int) -> list[Message]:
        got = await super().receive(max_messages, wait_s, visibility_s)
        traced = [replace(m, attributes={TRACEPARENT_ATTRIBUTE: TRACEPARENT}) for m in got]
        return [*traced, *traced]


async def test_a_duplicate_delivery_line_names_the_messages_trace() -> None:
    """`message.duplicate_delivery` carries the trace id its message came with, as every other
    line of that message does: an operator following the trace finds it."""
    inbox = _TracedTwiceInbox()
    inbox.put("once")

    async def handler(message: Message, _progress: Progress) -> list[Outcome]:
        await asyncio.sleep(0)
        return []

    supervisor = Supervisor(_config(), inbox, handler, Metrics())
    with structlog.testing.capture_logs(
        processors=[structlog.contextvars.merge_contextvars]
    ) as logs:
        await supervisor.serve()
    duplicates = [e for e in logs if e["event"] == "message.duplicate_delivery"]
    assert [(e.get("trace_id"), e["message_id"]) for e in duplicates] == [(SENDER_TRACE, "m0")]
