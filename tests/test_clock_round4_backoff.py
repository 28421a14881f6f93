"""How long SQS has kept a delivery hidden, under a wall clock that steps: measured on the
monotonic clock from when it came in, so a step forward neither drops a retry's backoff nor
stops the heartbeat, while a delivery in hand past SQS's 12 h is still seen as such. Over the
in-memory inbox (a step modelled as the red team does: the delivery's `received_at` set back
further than SQS could keep it hidden) and `DeliveriesInHand` with its clocks moved by hand."""

from __future__ import annotations

import asyncio
import json
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

from memory_inbox import MemoryInbox
from triage.errors import SinkUnavailableError
from triage.metrics import Metrics
from triage.sqs.base import DeliveriesInHand
from triage.sqs.inbox import MAX_VISIBILITY_S, Message
from triage.sqs.supervisor import Supervisor, SupervisorConfig

T0 = datetime(2026, 12, 6, 3, tzinfo=UTC)
STEP = timedelta(hours=13)


class SteppedInbox(MemoryInbox):
    """The in-memory queue, its deliveries dated `STEP` before the host's clock now reads:
    what a wall clock stepped forward that far makes of a receive."""

    async def receive(self, max_messages: int, wait_s: int, visibility_s: int) -> list[Message]:
        received = await super().receive(max_messages, wait_s, visibility_s)
        return [replace(m, received_at=datetime.now(UTC) - STEP) for m in received]


async def until(condition: Any, what: str, timeout_s: float = 10.0) -> None:
    """Wait for `condition()` to hold, at most `timeout_s`."""
    try:
        async with asyncio.timeout(timeout_s):
            while not condition():
                await asyncio.sleep(0.01)
    except TimeoutError:
        raise AssertionError(f"not within {timeout_s} s: {what}") from None


async def test_a_failed_delivery_keeps_its_backoff_after_a_step_forward() -> None:
    """A sink's 503 releases the message for its backoff (at least half of retry_base_s),
    not at once as if SQS's 12 h had passed."""
    inbox = SteppedInbox()
    inbox.put(json.dumps({"title": "orders-db lag"}))

    async def handler(message: Message, _progress: Any) -> list[Any]:
        raise SinkUnavailableError("backend answered 503")

    config = SupervisorConfig(wait_s=0, retry_base_s=10, shutdown_grace_s=1)
    supervisor = Supervisor(config, inbox, handler, Metrics())
    serving = asyncio.create_task(supervisor.serve())
    try:
        await until(lambda: bool(inbox.visibility_calls), "the failed message released")
    finally:
        supervisor.should_exit.set()
        await asyncio.wait_for(serving, 10)
    (_, hidden_s), *_ = inbox.visibility_calls
    assert hidden_s >= 5


async def test_the_heartbeat_goes_on_extending_after_a_step_forward() -> None:
    """A message at work when the wall clock has stepped 13 h is extended by its full
    visibility timeout at every beat, not capped once and then left to show again."""
    inbox = SteppedInbox()
    (mid,) = inbox.put("slow")
    extended = asyncio.Event()

    async def handler(message: Message, _progress: Any) -> list[Any]:
        await asyncio.wait_for(extended.wait(), 15)
        return []

    def beats() -> list[int]:
        beats = [t for m, t in inbox.visibility_calls if m == mid]
        if len(beats) >= 2:
            extended.set()
        return beats

    config = SupervisorConfig(wait_s=0, visibility_timeout_s=2, shutdown_grace_s=1, drain=True)
    serving = asyncio.create_task(Supervisor(config, inbox, handler, Metrics()).serve())
    await until(lambda: len(beats()) >= 2, "two extensions", 15)
    await asyncio.wait_for(serving, 10)
    assert beats()[:2] == [2, 2]


class Clocks:
    """A monotonic and a wall clock moved by hand."""

    def __init__(self) -> None:
        self.mono_s = 100.0
        self.wall = T0

    def monotonic(self) -> float:
        return self.mono_s

    def now(self) -> datetime:
        return self.wall


def delivery(received_at: datetime) -> Message:
    return Message("m1", "{}", "rh-1", 1, None, received_at=received_at)


def test_a_delivery_ages_by_the_monotonic_clock_whatever_the_wall_clock_does() -> None:
    """Ten minutes in hand are ten minutes of SQS's 12 h, with the wall clock stepped 13 h
    forward or an hour back meanwhile."""
    clocks = Clocks()
    deliveries = DeliveriesInHand(monotonic=clocks.monotonic, wall=clocks.now)
    deliveries.add("rh-1")
    clocks.mono_s += 600
    for wall in (T0 + STEP + timedelta(minutes=10), T0 - timedelta(hours=1)):
        clocks.wall = wall
        assert deliveries.age_s(delivery(T0)) == 600


def test_a_delivery_in_hand_past_twelve_hours_is_seen_past_them() -> None:
    """By the monotonic clock, a delivery held 12 h and a minute has no time left hidden."""
    clocks = Clocks()
    deliveries = DeliveriesInHand(monotonic=clocks.monotonic, wall=clocks.now)
    deliveries.add("rh-1")
    clocks.mono_s += MAX_VISIBILITY_S + 60
    assert deliveries.age_s(delivery(T0)) == MAX_VISIBILITY_S + 60


def test_the_age_a_delivery_came_in_with_counts_only_within_what_sqs_allows() -> None:
    """A delivery dated an hour before it came in (a receive's answer that waited) starts an
    hour old; one dated further back than SQS could keep it hidden, or after it came in, was
    dated by a clock stepped since: it starts new."""
    clocks = Clocks()
    deliveries = DeliveriesInHand(monotonic=clocks.monotonic, wall=clocks.now)
    deliveries.add("rh-1")
    clocks.mono_s += 5
    assert deliveries.age_s(delivery(T0 - timedelta(hours=1))) == 3605
    assert deliveries.age_s(delivery(T0 - STEP)) == 5
    assert deliveries.age_s(delivery(T0 + timedelta(hours=1))) == 5


def test_a_delivery_no_longer_in_hand_has_no_age() -> None:
    """Once discarded, a delivery's times go with it (the supervisor falls back to the wall
    clock for one it never started)."""
    deliveries = DeliveriesInHand()
    deliveries.add("rh-1")
    deliveries.discard("rh-1")
    assert "rh-1" not in deliveries
    assert deliveries.age_s(delivery(T0)) is None
