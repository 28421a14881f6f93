"""The acker's batches of deletes: a delete lingers for company only while company can come.
Once no message is at work, nothing can join the batch before a new receive and a whole
message's work, so the batch leaves at once instead of waiting out its linger."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Sequence

from memory_inbox import MemoryInbox
from triage.incidents.lifecycle import Outcome
from triage.metrics import Metrics
from triage.sqs.acker import Acker
from triage.sqs.inbox import Message
from triage.sqs.supervisor import Progress, Supervisor, SupervisorConfig

#: How long a test waits for a condition before it fails (never how long anything should take).
DEADLINE_S = 10.0
#: A linger no test may wait out: a delete that waited for it fails the test's deadline.
ENDLESS_LINGER_S = 600.0


async def wait_until(condition: Callable[[], bool]) -> None:
    """Turn the loop until `condition` holds; fail past DEADLINE_S."""
    deadline = time.monotonic() + DEADLINE_S
    while not condition():
        assert time.monotonic() < deadline, "condition not reached in time"
        await asyncio.sleep(0.001)


class BatchInbox(MemoryInbox):
    """Remembers the size of every delete call."""

    def __init__(self) -> None:
        super().__init__()
        self.batches: list[int] = []

    async def delete(self, messages: Sequence[Message]) -> list[str]:
        self.batches.append(len(messages))
        return await super().delete(messages)


async def test_a_lone_delete_leaves_at_once_when_nothing_else_can_join_it() -> None:
    """With nothing at work (`idle` says so), a lone delete is sent at once, not after the
    linger; while work goes on, it lingers for company as before."""
    inbox = BatchInbox()
    inbox.put("a", "b")
    first, second = await inbox.receive(2, 0, 30)
    at_work = True
    acker = Acker(inbox, linger_s=ENDLESS_LINGER_S, idle=lambda: not at_work)
    runner = asyncio.create_task(acker.run())
    lingering = asyncio.create_task(acker.delete(first))
    await asyncio.sleep(0.05)
    assert not lingering.done() and inbox.batches == []
    at_work = False
    acker.wake()  # the last message at work has finished
    assert await asyncio.wait_for(lingering, DEADLINE_S)
    assert await asyncio.wait_for(acker.delete(second), DEADLINE_S)
    assert inbox.batches == [1, 1]
    await acker.stop()
    await asyncio.wait_for(runner, DEADLINE_S)


async def test_the_daemons_last_message_is_deleted_without_waiting_out_the_linger() -> None:
    """The supervisor tells its acker when no message is at work any more: the last
    message of a burst is deleted at once, however long the linger."""
    inbox = BatchInbox()
    inbox.put(*[f"b{i}" for i in range(3)])

    async def handler(message: Message, _progress: Progress) -> list[Outcome]:
        return []

    config = SupervisorConfig(concurrency=4, wait_s=1)
    supervisor = Supervisor(config, inbox, handler, Metrics())
    supervisor._acker.linger_s = ENDLESS_LINGER_S
    serving = asyncio.create_task(supervisor.serve())
    try:
        await wait_until(lambda: len(inbox.deleted) == 3)
    finally:
        supervisor.should_exit.set()
        await asyncio.wait_for(serving, DEADLINE_S)
    assert sum(inbox.batches) == 3
