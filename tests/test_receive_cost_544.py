"""What a storm message costs around the SQS client (issue 18, helper 544): a backlog is
received in full batches while workers are about to free the slots for one, never a receive
for the last few free slots each time (one call per 1-9 messages), and a receive still goes
out, briefly later, when the slots stay taken (new incidents never queue behind them); one
deadline timer through a storm, not one per message."""

from __future__ import annotations

import asyncio
from typing import Any

from memory_inbox import MemoryInbox
from triage.incidents.lifecycle import Outcome
from triage.metrics import Metrics
from triage.sqs.inbox import MAX_BATCH, Message
from triage.sqs.supervisor import Progress, Supervisor, SupervisorConfig


class AskedInbox(MemoryInbox):
    """A memory inbox that notes, of each receive, how many it asked for and how many were
    being worked on as it was sent."""

    def __init__(self) -> None:
        super().__init__()
        self.sizes: list[int] = []
        self.round_trip_s = 0.0

    async def receive(self, max_messages: int, wait_s: int, visibility_s: int) -> list[Message]:
        self.sizes.append(max_messages)
        await asyncio.sleep(self.round_trip_s)  # the workers go on meanwhile
        return await super().receive(max_messages, wait_s, visibility_s)


def _config(**changes: object) -> SupervisorConfig:
    values: dict[str, object] = {"wait_s": 0, "drain": True, "retry_base_s": 0}
    values.update(changes)
    return SupervisorConfig(**values)  # type: ignore[arg-type]


async def test_a_storm_backlog_is_received_in_full_batches() -> None:
    """Draining a backlog of quick messages with 32 slots, every receive asks for a full
    batch of 10: none spends a call on the few slots left free after an answer started."""
    inbox = AskedInbox()
    inbox.round_trip_s = 0.001
    inbox.put(*[f"b{i}" for i in range(600)])

    async def handler(message: Message, _progress: Progress) -> list[Outcome]:
        await asyncio.sleep(0.003)  # a repeat's store calls, longer than a receive
        return []

    supervisor = Supervisor(_config(concurrency=32), inbox, handler, Metrics())
    supervisor.SHORT_BATCH_WAIT_S = 3600.0  # however loaded the machine: the workers free them
    await asyncio.wait_for(supervisor.serve(), timeout=30)
    assert len(inbox.deleted) == 600
    small = [size for size in inbox.sizes if size < MAX_BATCH]
    assert not small, f"{len(small)} of {len(inbox.sizes)} receives asked for fewer than 10"


async def test_slots_that_stay_taken_do_not_stop_intake() -> None:
    """With 12 slots and 5 taken by messages that do not end, fewer than 10 are ever free:
    the waiting for a full batch is bounded, so the other messages are all received and
    handled while those 5 still run."""
    inbox = AskedInbox()
    inbox.put(*[f"b{i}" for i in range(60)])
    stuck = asyncio.Event()
    done: list[str] = []

    async def handler(message: Message, _progress: Progress) -> list[Outcome]:
        if int(message.body[1:]) < 5:
            await stuck.wait()
        done.append(message.body)
        return []

    supervisor = Supervisor(_config(concurrency=12), inbox, handler, Metrics())
    serving = asyncio.create_task(supervisor.serve())
    try:
        async with asyncio.timeout(20):
            while len(done) < 55:
                await asyncio.sleep(0.01)
    finally:
        stuck.set()
    await asyncio.wait_for(serving, timeout=20)
    assert len(inbox.deleted) == 60


async def test_a_pool_smaller_than_a_batch_receives_as_its_slots_free() -> None:
    """With 4 slots (fewer than a batch), a backlog's receive goes out once all 4 are free,
    never waiting out the bound for a batch of 10 it can never have."""
    inbox = AskedInbox()
    inbox.put(*[f"b{i}" for i in range(40)])

    async def handler(message: Message, _progress: Progress) -> list[Outcome]:
        return []

    supervisor = Supervisor(_config(concurrency=4), inbox, handler, Metrics())
    supervisor.SHORT_BATCH_WAIT_S = 3600.0  # a wait for 10 would never end
    await asyncio.wait_for(supervisor.serve(), timeout=20)
    assert len(inbox.deleted) == 40
    assert set(inbox.sizes) == {4}


async def test_quick_attempts_one_after_another_keep_one_deadline_timer() -> None:
    """A storm of quick messages whose attempts each end before the next starts arms the
    shared deadline timer a few times, not once per message; after the stop none is left."""
    inbox = MemoryInbox()
    inbox.put(*(f"m{i}" for i in range(300)))
    loop = asyncio.get_running_loop()
    supervisor = Supervisor(_config(concurrency=32), inbox, _quick, Metrics())
    armed = 0
    call_at = loop.call_at

    def counting_call_at(when: float, callback: Any, *args: Any, **kw: Any) -> Any:
        nonlocal armed
        if getattr(callback, "__func__", None) is Supervisor._check_deadlines:
            armed += 1
        return call_at(when, callback, *args, **kw)

    loop.call_at = counting_call_at  # type: ignore[method-assign]
    try:
        await asyncio.wait_for(supervisor.serve(), timeout=30)
    finally:
        del loop.call_at  # type: ignore[method-assign]
    assert len(inbox.deleted) == 300
    assert armed < 60, f"the deadline timer was armed {armed} times for 300 messages"
    assert supervisor._deadline_check is None


async def _quick(_message: Message, _progress: Progress) -> list[Outcome]:
    return []
