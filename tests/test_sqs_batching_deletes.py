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


class RoundTripInbox(BatchInbox):
    """Every call takes a loopback round trip, as SQS's do, so a backlog's polls overlap."""

    async def receive(self, max_messages: int, wait_s: int, visibility_s: int) -> list[Message]:
        await asyncio.sleep(0.002)
        return await super().receive(max_messages, 0, visibility_s)

    async def delete(self, messages: Sequence[Message]) -> list[str]:
        await asyncio.sleep(0.002)
        return await super().delete(messages)


async def test_in_a_storm_deletes_still_leave_in_full_batches() -> None:
    """Quick messages (repeats in a storm) leave no worker busy between a backlog's polls:
    while a poll is out, deletes still wait for company, so every batch is full."""
    inbox = RoundTripInbox()
    inbox.put(*[f"b{i}" for i in range(600)])

    async def handler(message: Message, _progress: Progress) -> list[Outcome]:
        await asyncio.sleep(0)
        return []

    config = SupervisorConfig(concurrency=32, wait_s=0, drain=True)
    supervisor = Supervisor(config, inbox, handler, Metrics())
    supervisor._acker.linger_s = ENDLESS_LINGER_S
    await asyncio.wait_for(supervisor.serve(), DEADLINE_S * 3)
    assert len(inbox.deleted) == 600
    assert set(inbox.batches) == {10}, sorted(inbox.batches)


class GatedPolls(BatchInbox):
    """The first two receives answer at once; later ones wait until the test opens `gate`."""

    def __init__(self) -> None:
        super().__init__()
        self.calls = 0
        self.gate = asyncio.Event()

    async def receive(self, max_messages: int, wait_s: int, visibility_s: int) -> list[Message]:
        self.calls += 1
        if self.calls > 2:
            await self.gate.wait()
        return await super().receive(max_messages, 0, visibility_s)


async def test_with_a_backlog_left_deletes_wait_for_company_though_no_worker_is_busy() -> None:
    """Every worker free but the queue's backlog not over (its receives still out): the two
    deletes left after a full batch wait for the next messages' deletes, not sent alone."""
    inbox = GatedPolls()
    inbox.put(*[f"b{i}" for i in range(20)])
    release = asyncio.Event()
    started: list[str] = []

    async def handler(message: Message, _progress: Progress) -> list[Outcome]:
        started.append(message.id)
        if int(message.id[1:]) < 10:  # the first answer's ten wait for the test
            await release.wait()
        return []

    config = SupervisorConfig(concurrency=12, wait_s=0, drain=True)
    supervisor = Supervisor(config, inbox, handler, Metrics())
    supervisor._acker.linger_s = ENDLESS_LINGER_S
    serving = asyncio.create_task(supervisor.serve())
    await wait_until(lambda: len(started) == 12 and len(inbox.deleted) == 0)
    release.set()
    await wait_until(lambda: inbox.batches == [10] and inbox.calls > 2)
    for _ in range(50):  # turns of the loop for a lone batch to leave, if it would
        await asyncio.sleep(0)
    assert inbox.batches == [10]
    inbox.gate.set()
    await asyncio.wait_for(serving, DEADLINE_S)
    assert len(inbox.deleted) == 20
    assert inbox.batches == [10, 10]
