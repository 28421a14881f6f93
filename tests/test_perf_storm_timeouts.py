"""The message timeout's clock: one shared check on the event loop for every attempt in flight
(not a timer each), which still cuts off each stuck attempt on its own."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

from memory_inbox import MemoryInbox
from triage.incidents.lifecycle import Outcome
from triage.metrics import Metrics
from triage.sqs.base import Progress
from triage.sqs.inbox import Message
from triage.sqs.supervisor import Supervisor, SupervisorConfig


def config(**changes: object) -> SupervisorConfig:
    values: dict[str, object] = {"wait_s": 0, "drain": False, "retry_base_s": 60}
    values.update(changes)
    return SupervisorConfig(**values)  # type: ignore[arg-type]


async def until(condition: Callable[[], bool], what: str, timeout_s: float = 10.0) -> None:
    """Wait for `condition`, failing with `what` past `timeout_s`."""
    try:
        async with asyncio.timeout(timeout_s):
            while not condition():
                await asyncio.sleep(0.005)
    except TimeoutError:
        raise AssertionError(f"no {what} within {timeout_s:g} s") from None


async def test_a_stuck_attempt_times_out_while_another_keeps_making_progress() -> None:
    """The shared check cuts off the stuck message on time, however often its neighbour's
    progress moves its own deadline, and the neighbour is never cut off."""
    inbox = MemoryInbox()
    moving, stuck = inbox.put("moving", "stuck")
    done = asyncio.Event()

    async def handler(message: Message, progress: Progress) -> list[Outcome]:
        if message.id == stuck:
            await asyncio.sleep(30)
            return []
        while not done.is_set():  # progress far more often than the 0.1 s timeout
            progress()
            await asyncio.sleep(0.01)
        return []

    supervisor = Supervisor(config(message_timeout_s=0.1), inbox, handler, Metrics())
    served = asyncio.create_task(supervisor.serve())
    await until(lambda: stuck in supervisor.stats.failures, "the stuck message's timeout")
    assert supervisor.stats.failures[stuck].reason == "timeout"
    assert moving not in supervisor.stats.failures  # still working, never cut off
    done.set()
    await until(lambda: inbox.deleted == [moving], "the moving message's ack")
    supervisor.should_exit.set()
    await served
    assert supervisor.stats.acked == 1


async def test_attempts_in_flight_share_one_timer_and_leave_none() -> None:
    """Forty messages at work add one timer to the event loop, not forty, and once none is
    at work no timer of theirs is left."""
    inbox = MemoryInbox()
    inbox.put(*(f"m{i}" for i in range(40)))
    release = asyncio.Event()

    async def handler(message: Message, progress: Progress) -> list[Outcome]:
        await release.wait()
        progress()
        return []

    loop = asyncio.get_running_loop()
    supervisor = Supervisor(
        config(concurrency=40, message_timeout_s=120), inbox, handler, Metrics()
    )
    served = asyncio.create_task(supervisor.serve())
    await until(lambda: len(supervisor._working) == 40, "forty at work")
    # The loop's other timers (the heartbeat's sleep, the receive loop's turn, this test's
    # own sleep) are a handful; a timer per attempt would be forty more.
    assert len(loop._scheduled) < 10  # type: ignore[attr-defined]
    assert supervisor._deadline_check is not None
    release.set()
    await until(lambda: supervisor.stats.acked == 40, "forty acks")
    assert supervisor._deadline_check is None
    assert supervisor._deadlines == {}
    supervisor.should_exit.set()
    await served


async def test_a_deadline_moved_past_the_shared_timer_still_expires() -> None:
    """The shared timer is set for the earliest deadline; when it fires and that attempt has
    finished and the other has made progress since, nothing is due yet, and it is set again:
    the attempt stuck after its progress is still cut off."""
    inbox = MemoryInbox()
    quick, stalls = inbox.put("quick", "stalls")

    async def handler(message: Message, progress: Progress) -> list[Outcome]:
        if message.id == quick:
            return []
        await asyncio.sleep(0.05)
        progress()  # past the timer set for the first deadline
        await asyncio.sleep(30)
        return []

    supervisor = Supervisor(config(message_timeout_s=0.1), inbox, handler, Metrics())
    served = asyncio.create_task(supervisor.serve())
    await until(lambda: stalls in supervisor.stats.failures, "timeout of the stalled message")
    assert supervisor.stats.failures[stalls].reason == "timeout"
    assert inbox.deleted == [quick]
    supervisor.should_exit.set()
    await served
    assert supervisor._deadline_check is None
