"""The acker through an outage of DeleteMessageBatch: each failed batch's messages are
answered "not deleted" (they come back as repeats), and the outage is one warning, not one
per batch; once a delete answers, the next outage warns again."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence

import structlog

from memory_inbox import MemoryInbox
from triage.errors import InboxError
from triage.sqs.acker import Acker
from triage.sqs.inbox import Message


class FlakyDeletes(MemoryInbox):
    """Deletes fail while `failing` is set, with SQS's reason."""

    failing = True

    async def delete(self, messages: Sequence[Message]) -> list[str]:
        if self.failing:
            raise InboxError("delete failed: InternalError: try again")
        return await super().delete(messages)


async def _delete_one_by_one(acker: Acker, inbox: FlakyDeletes, count: int) -> list[bool]:
    """Delete `count` new messages, each in a batch of its own."""
    results = []
    for mid in inbox.put(*["x"] * count):
        message = Message(mid, "x", f"rh-{mid}", 1, None)
        results.append(await acker.delete(message))
    return results


async def test_a_delete_outage_is_one_warning_and_every_message_is_answered() -> None:
    """Three batches failing for one reason: three "not deleted" answers, one warning and
    two debug lines; a delete that answers, then a new failure, warns again."""
    inbox = FlakyDeletes()
    acker = Acker(inbox, linger_s=0)
    running = asyncio.create_task(acker.run())
    with structlog.testing.capture_logs() as logs:
        assert await _delete_one_by_one(acker, inbox, 3) == [False, False, False]
        inbox.failing = False
        assert await _delete_one_by_one(acker, inbox, 1) == [True]
        inbox.failing = True
        assert await _delete_one_by_one(acker, inbox, 1) == [False]
    await acker.stop()
    await asyncio.wait_for(running, 5)
    levels = [e["log_level"] for e in logs if e["event"] == "message.delete_failed"]
    assert levels == ["warning", "debug", "debug", "warning"]
