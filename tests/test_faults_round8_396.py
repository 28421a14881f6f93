"""Round 8 faults, neighbours of red team 395's (helper 396): how a hold ends and what it
leaves behind.

A pause of intake lasts as long as a hold that pauses it is still in progress, however that
hold ended (its wait over, its breaker closed, its delivery lost): not as long as the longest
wait any hold was once given. Another pausing hold still in progress keeps it paused. Every
wait that is its message's own (a busy record as well as a sink's outage or a gathering
group) gives the worker slot back. A message the store failed that got past the store on a
later attempt is no longer the store's probe: its next store failure waits from the first
step again.
"""

from __future__ import annotations

import asyncio
import signal
from dataclasses import dataclass, field
from typing import Any

import structlog

from memory_inbox import MemoryInbox
from test_sink_outage import until
from triage.breaker import CircuitBreaker, note_wake
from triage.errors import (
    BackpressureError,
    SinkThrottledError,
    StoreBusyError,
    StoreUnavailableError,
)
from triage.health import Health
from triage.metrics import Metrics
from triage.sinks.guard import BREAKER_OPEN
from triage.sqs.inbox import Message
from triage.sqs.supervisor import Supervisor, SupervisorConfig


def _config(concurrency: int) -> SupervisorConfig:
    """A daemon with `concurrency` workers, short polls and a short stop."""
    return SupervisorConfig(
        concurrency=concurrency, wait_s=0, shutdown_grace_s=1, visibility_timeout_s=30
    )


class TurnCountingHealth(Health):
    """Health that counts the receive loop's turns (its `intake` beats): a paused loop still
    turns, so a few turns without a receive prove intake stayed paused, with no fixed sleep."""

    def __init__(self) -> None:
        super().__init__()
        self.turns = 0

    def beat(self, name: str, within_s: float) -> None:
        if name == "intake":
            self.turns += 1
        super().beat(name, within_s)


@dataclass
class WaitsUntilLet:
    """A handler: a message whose body is in `waits` is refused with that wait until its body
    is in `let`; any other message goes through. Keeps the last delivery of each (by body)."""

    waits: dict[str, BackpressureError]
    let: set[str] = field(default_factory=set)
    handled: list[str] = field(default_factory=list)
    deliveries: dict[str, Message] = field(default_factory=dict)

    async def __call__(self, message: Message, progress: Any) -> list[Any]:
        self.deliveries[message.body] = message
        refused = self.waits.get(message.body)
        if refused is not None and message.body not in self.let:
            raise refused
        self.handled.append(message.body)
        return []


def _lose(message: Message) -> None:
    """SQS says `message`'s delivery is no longer ours (another replica took it over)."""
    for lost in list(message.on_lost):
        lost()


async def _stop(daemon: Supervisor, serving: asyncio.Task[None]) -> None:
    daemon.handle_exit(signal.SIGTERM)
    await asyncio.wait_for(serving, 10)


async def test_intake_resumes_when_the_delivery_a_pausing_hold_held_is_lost() -> None:
    """A message is held for a wait that pauses intake (ten minutes); SQS then says its
    delivery is lost (another replica has it): its hold ends, and a message queued next is
    received and handled now, not when the lost message's wait would have ended."""
    throttled = BackpressureError("rate limited", retry_after_s=600)
    handler = WaitsUntilLet({"throttled": throttled})
    queue = MemoryInbox()
    queue.put("throttled")
    daemon = Supervisor(_config(4), queue, handler, Metrics())
    serving = asyncio.create_task(daemon.serve())
    try:
        await until(lambda: daemon.stats.held >= 1)
        _lose(handler.deliveries["throttled"])
        await until(lambda: daemon.stats.lost >= 1)
        (later,) = queue.put("disk full on db-1")
        await until(lambda: later in queue.deleted)
    finally:
        await _stop(daemon, serving)
    assert handler.handled == ["disk full on db-1"]


async def test_intake_stays_paused_while_another_pausing_hold_is_in_progress() -> None:
    """Two messages held for waits that pause intake: one for the backend's breaker, woken
    when it closes, and one for a rate limit. The first goes through; intake stays paused
    while the second is still held, and resumes once its hold ends."""
    now = [0.0]
    breaker = CircuitBreaker("sink:backend", 1, 600, clock=lambda: now[0])
    opened = breaker.allow()
    assert opened is not None and breaker.failure(opened)
    for_breaker = SinkThrottledError(
        "backend's probe is out", retry_after_s=600, reason=BREAKER_OPEN
    )
    note_wake(for_breaker, breaker)
    throttled = BackpressureError("rate limited", retry_after_s=600)
    handler = WaitsUntilLet({"for breaker": for_breaker, "throttled": throttled})
    queue = MemoryInbox()
    (first, _) = queue.put("for breaker", "throttled")
    health = TurnCountingHealth()
    daemon = Supervisor(_config(4), queue, handler, Metrics(), health=health)
    serving = asyncio.create_task(daemon.serve())
    try:
        await until(lambda: daemon.stats.held >= 2)
        handler.let.add("for breaker")
        now[0] = 600.0
        probe = breaker.allow()
        assert probe is not None
        breaker.success(probe)
        await until(lambda: first in queue.deleted)
        (later,) = queue.put("disk full on db-1")
        turned = health.turns
        await until(lambda: health.turns >= turned + 3)
        received_while_held = queue.entries[later].receives
        _lose(handler.deliveries["throttled"])
        await until(lambda: later in queue.deleted)
    finally:
        await _stop(daemon, serving)
    assert received_while_held == 0, "intake resumed while a pausing hold was in progress"


async def test_a_message_held_for_a_busy_record_gives_its_worker_slot_back() -> None:
    """One worker; a message waits for its incident's effect another worker carries out (a
    minute, as the claim's lease says): a message queued next, for another incident, is
    received and handled while it waits, as a busy record's wait promises (intake goes on)."""
    busy = StoreBusyError("incident f1 has an effect in progress (open)", retry_after_s=60)
    handler = WaitsUntilLet({"busy": busy})
    queue = MemoryInbox()
    queue.put("busy")
    daemon = Supervisor(_config(1), queue, handler, Metrics())
    serving = asyncio.create_task(daemon.serve())
    try:
        await until(lambda: daemon.stats.held >= 1)
        (later,) = queue.put("disk full on db-1")
        await until(lambda: later in queue.deleted)
        handler.let.add("busy")
    finally:
        await _stop(daemon, serving)
    assert handler.handled[:1] == ["disk full on db-1"]


@dataclass
class StoreSlackStore:
    """A handler: its one message finds the store failing twice, then Slack's breaker open
    (its messages' own wait) until `slack_back`, then the store failing once more."""

    slack_back: asyncio.Event = field(default_factory=asyncio.Event)
    attempts: int = 0

    async def __call__(self, message: Message, progress: Any) -> list[Any]:
        self.attempts += 1
        if self.attempts in (1, 2, 4):
            raise StoreUnavailableError("database is locked")
        if self.attempts == 3:
            refused = SinkThrottledError(
                "slack's breaker is open", retry_after_s=0.05, reason=BREAKER_OPEN
            )
            refused.pauses_intake = False
            raise refused
        return []


async def test_a_store_failure_after_the_store_answered_waits_from_the_first_step() -> None:
    """A message the store failed twice (waits of one, then two steps) gets past the store
    and waits for Slack; the store then fails it again: that is a new run of failures, so it
    waits one step again, not four (the wait doubles with failures in a row)."""
    handler = StoreSlackStore()
    queue = MemoryInbox()
    (only,) = queue.put("for slack")
    daemon = Supervisor(_config(2), queue, handler, Metrics())
    daemon.DEFAULT_HOLD_S = 0.05
    with structlog.testing.capture_logs() as logs:
        serving = asyncio.create_task(daemon.serve())
        try:
            await until(lambda: only in queue.deleted)
        finally:
            await _stop(daemon, serving)
    waits = [
        e["retry_in_s"]
        for e in logs
        if e["event"] == "message.held" and e["reason"] == "store_unavailable"
    ]
    assert waits == [0.05, 0.1, 0.05]
