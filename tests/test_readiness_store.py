"""`/readyz`'s `store` check tells the truth with or without traffic: a store that goes away
while no message comes turns it within a bound, and once down it comes back only when nothing
says otherwise (no message held for the store, the last ping answered), never per message."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

import pytest
import structlog

from memory_inbox import MemoryInbox
from triage.errors import StoreUnavailableError
from triage.incidents.lifecycle import Action, Outcome
from triage.metrics import Metrics
from triage.sqs.inbox import Message
from triage.sqs.supervisor import Handler, Progress, Supervisor, SupervisorConfig

#: Hold and probe in milliseconds, so an outage plays out at once.
PROBE_S = 0.01


async def until(condition: Callable[[], bool], timeout_s: float = 5.0) -> None:
    """Wait for `condition` with a deadline (never a fixed sleep)."""
    async with asyncio.timeout(timeout_s):
        while not condition():
            await asyncio.sleep(0.002)


def quick(supervisor: Supervisor) -> Supervisor:
    """Holds and store probes in milliseconds."""
    supervisor.DEFAULT_HOLD_S = PROBE_S
    supervisor.STORE_HOLD_MAX_S = 2 * PROBE_S
    supervisor.STORE_PROBE_S = PROBE_S
    return supervisor


def supervisor_for(
    inbox: MemoryInbox, handler: Handler, ping: Callable[[], Awaitable[None]]
) -> Supervisor:
    """A daemon (no drain) whose released messages stay away: no traffic but what a test puts."""
    cfg = SupervisorConfig(wait_s=0, retry_base_s=1000, shutdown_grace_s=1)
    return quick(Supervisor(cfg, inbox, handler, Metrics(), store_probe=ping))


async def nothing(message: Message, _progress: Progress) -> list[Outcome]:
    """A message that goes through."""
    return [Outcome("f" * 32, Action.COUNT)]


async def answering_ping() -> None:
    """A ping that always answers."""


def store_lines(logs: list[MutableMapping[str, Any]]) -> list[object]:
    """The store's own lines, in order: one when it goes down, one when it is back."""
    return [e["event"] for e in logs if e["event"] in ("store.unavailable", "store.recovered")]


@pytest.mark.parametrize("fault", ["refused", "silent"])
async def test_a_store_that_goes_away_with_no_traffic_turns_readyz_unavailable(fault: str) -> None:
    """A store that answered at start and then fails (or stops answering) while no message
    comes makes `/readyz` say `store: unavailable` in one line, and ready again once back."""
    state = "up"
    answered = 0
    back = asyncio.Event()

    async def ping() -> None:
        nonlocal answered
        if state == "down" and fault == "refused":
            raise StoreUnavailableError("dynamodb: could not connect")
        if state == "down":
            await back.wait()
        answered += 1

    supervisor = supervisor_for(MemoryInbox(), nothing, ping)
    with structlog.testing.capture_logs() as logs:
        serving = asyncio.create_task(supervisor.serve())
        await until(lambda: answered > 0 and supervisor.health.ready)
        state = "down"
        await until(lambda: not supervisor.health.ready)
        assert supervisor.health.readiness()["failing"] == {"store": "unavailable"}
        state = "up"
        back.set()
        await until(lambda: supervisor.health.ready)
        supervisor.should_exit.set()
        await serving
    assert store_lines(logs) == ["store.unavailable", "store.recovered"]


async def test_one_message_through_does_not_mark_the_store_up_while_another_is_held() -> None:
    """While one message is held for the store, another that goes through leaves readiness
    failing (no `store.recovered`): only once nothing is held for it is the store back."""
    inbox = MemoryInbox()
    inbox.put("held", "through")
    store_back = False
    readiness_after: list[bool] = []

    async def handler(message: Message, _progress: Progress) -> list[Outcome]:
        if message.body == "held" and not store_back:
            raise StoreUnavailableError("dynamodb: ProvisionedThroughputExceeded")
        if message.body == "through":  # goes through once the other is held for the store
            await until(lambda: supervisor.stats.held > 0)
        return [Outcome("f" * 32, Action.COUNT)]

    supervisor = supervisor_for(inbox, handler, answering_ping)
    with structlog.testing.capture_logs() as logs:
        serving = asyncio.create_task(supervisor.serve())
        await until(lambda: "m1" in inbox.deleted)
        readiness_after.append(supervisor.health.ready)
        store_back = True
        await until(lambda: "m0" in inbox.deleted)
        supervisor.should_exit.set()
        await serving
    assert readiness_after == [False]
    assert "store" not in supervisor.health.failing()
    assert store_lines(logs) == ["store.unavailable", "store.recovered"]


async def test_a_message_through_does_not_override_a_ping_that_fails() -> None:
    """A store whose ping fails stays unavailable while messages go through (no flip per
    message); the next ping that answers brings it back, in one line each way."""
    inbox = MemoryInbox()
    down = True

    async def ping() -> None:
        if down:
            raise StoreUnavailableError("dynamodb: DescribeTable timed out")

    supervisor = supervisor_for(inbox, nothing, ping)
    with structlog.testing.capture_logs() as logs:
        serving = asyncio.create_task(supervisor.serve())
        await until(lambda: not supervisor.health.ready)
        inbox.put("a", "b", "c")
        await until(lambda: len(inbox.deleted) == 3)
        assert supervisor.health.readiness()["failing"] == {"store": "unavailable"}
        down = False
        await until(lambda: supervisor.health.ready)
        supervisor.should_exit.set()
        await serving
    assert store_lines(logs) == ["store.unavailable", "store.recovered"]


async def test_a_ping_does_not_flip_readiness_between_a_held_messages_tries() -> None:
    """While a message the store failed tries again (a slow try, not only its wait), pings
    do not run, so a ping that answers where the message's writes fail (its own item written
    while the message's record is refused: a lock just taken, one hot key's range throttled)
    cannot mark the store up between two of its failures: one line each way, no flip between."""
    inbox = MemoryInbox()
    inbox.put("slow")
    tries = 0
    pings = 0
    readiness: list[bool] = []

    async def handler(message: Message, _progress: Progress) -> list[Outcome]:
        nonlocal tries
        tries += 1
        if tries == 2:
            # A slow try: long enough for several probe periods.
            seen = pings
            with contextlib.suppress(TimeoutError):
                await until(lambda: pings > seen, timeout_s=10 * PROBE_S)
            readiness.append(supervisor.health.ready)
        if tries <= 2:
            raise StoreUnavailableError("sqlite: database is locked")
        return [Outcome("f" * 32, Action.COUNT)]

    async def ping() -> None:
        nonlocal pings
        pings += 1

    supervisor = supervisor_for(inbox, handler, ping)
    with structlog.testing.capture_logs() as logs:
        serving = asyncio.create_task(supervisor.serve())
        await until(lambda: "m0" in inbox.deleted)
        supervisor.should_exit.set()
        await serving
    assert readiness == [False]
    assert store_lines(logs) == ["store.unavailable", "store.recovered"]
