"""triage's own signals under faults and hostile input: readiness that follows the store and the
drain, Prometheus text that stays valid and bounded, counters that account for every message,
log lines that cannot be forged or flooded, and spans that carry no alert text."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

import structlog

from memory_inbox import MemoryInbox
from triage.errors import StoreUnavailableError
from triage.incidents.lifecycle import Action, Outcome
from triage.metrics import Metrics
from triage.sqs.inbox import Message
from triage.sqs.supervisor import Progress, Supervisor, SupervisorConfig


async def until(condition: Callable[[], bool], timeout_s: float = 10.0) -> None:
    """Wait for `condition` with a deadline (never a fixed sleep)."""
    async with asyncio.timeout(timeout_s):
        while not condition():
            await asyncio.sleep(0.005)


def quick(supervisor: Supervisor) -> Supervisor:
    """Holds and store probes in milliseconds, so an outage plays out at once."""
    supervisor.DEFAULT_HOLD_S = 0.01
    supervisor.STORE_PROBE_S = 0.01
    return supervisor


# --- Readiness ------------------------------------------------------------------------------


async def test_readiness_comes_back_with_the_store_when_no_message_follows() -> None:
    """A store outage that outlasts the hold releases the message; once the store answers
    again, the probe makes /readyz ready with no traffic at all, and says so in one line."""
    inbox = MemoryInbox()
    inbox.put("b")
    down = True

    async def handler(message: Message, _progress: Progress) -> list[Outcome]:
        raise StoreUnavailableError("sqlite: database is locked")

    async def ping() -> None:
        if down:
            raise StoreUnavailableError("sqlite: database is locked")

    # A long retry backoff: the released message stays away, so no traffic follows.
    cfg = SupervisorConfig(wait_s=0, max_hold_s=0.1, retry_base_s=1000, shutdown_grace_s=1)
    supervisor = quick(Supervisor(cfg, inbox, handler, Metrics(), store_probe=ping))
    with structlog.testing.capture_logs() as logs:
        serving = asyncio.create_task(supervisor.serve())
        await until(lambda: supervisor.stats.retried == 1)
        assert supervisor.health.readiness()["failing"] == {"store": "unavailable"}
        down = False
        await until(lambda: supervisor.health.ready)
        supervisor.should_exit.set()
        await serving
    events = [e["event"] for e in logs]
    assert events.count("store.unavailable") == 1 and events.count("store.recovered") == 1


async def test_a_held_message_not_the_probe_decides_while_it_waits() -> None:
    """While a message is held for the store, a ping that answers (a SQLite file that is
    locked answers SELECT 1) neither runs nor flips readiness: only the message's own
    success brings the store back."""
    inbox = MemoryInbox()
    inbox.put("b")
    tries = 0
    pings = 0
    seen: list[bool] = []

    async def handler(message: Message, _progress: Progress) -> list[Outcome]:
        nonlocal tries
        tries += 1
        if tries <= 8:
            seen.append(supervisor.health.ready)
            raise StoreUnavailableError("sqlite: database is locked")
        return [Outcome("f" * 32, Action.COUNT)]

    async def ping() -> None:
        nonlocal pings
        pings += 1

    cfg = SupervisorConfig(wait_s=0, drain=True, retry_base_s=0, shutdown_grace_s=1)
    supervisor = quick(Supervisor(cfg, inbox, handler, Metrics(), store_probe=ping))
    await supervisor.serve()
    assert seen[1:] == [False] * 7 and pings == 0
    assert inbox.deleted == ["m0"] and "store" not in supervisor.health.failing()


async def test_readiness_fails_as_soon_as_the_drain_starts() -> None:
    """From the first moment of a shutdown the daemon takes no new work, so /readyz says
    `shutting_down: draining` while in-flight messages finish."""
    inbox = MemoryInbox()
    inbox.put("b")
    started, finish = asyncio.Event(), asyncio.Event()

    async def handler(message: Message, _progress: Progress) -> list[Outcome]:
        started.set()
        await finish.wait()
        return []

    cfg = SupervisorConfig(wait_s=0, shutdown_grace_s=10)
    supervisor = Supervisor(cfg, inbox, handler, Metrics())
    serving = asyncio.create_task(supervisor.serve())
    await started.wait()
    assert supervisor.health.ready
    supervisor.should_exit.set()
    await until(lambda: not supervisor.health.ready)
    assert supervisor.health.readiness() == {
        "ready": False,
        "failing": {"shutting_down": "draining"},
    }
    finish.set()
    await serving
    assert inbox.deleted == ["m0"]
