"""Round 5 faults, more cases (helper 301): messages held for Slack's outage past what may be
parked in hand wait in the queue, but never at the cost of their last receive.

Past `concurrency` parked messages (`Holding._park`), a message held for a sink's own wait is
hidden in the queue for its wait (`Holding._hold_queued`): its return is one more receive, so
one that the queue's redrive policy could then dead-letter on a later failure stays in hand.
A parked message's wait for its slot back is bounded as a hold is (`max_hold_s`)."""

from __future__ import annotations

import asyncio
import dataclasses
from pathlib import Path

import structlog

from test_sink_outage import SlackLike, body, rig, slack_sink, until
from test_sink_outage import slack as slack  # the loopback Slack fixture
from triage.sinks.base import Applied, Effect
from triage.sinks.guard import BREAKER_OPEN


async def test_held_messages_whose_next_receive_could_be_their_last_stay_in_hand(
    tmp_path: Path, slack: SlackLike
) -> None:
    """maxReceiveCount 2, two workers, Slack down: no held payments alert is hidden in the
    queue for its wait (its return would be its last receive), and all go through when Slack
    is back."""
    now = [0.0]
    r = rig(tmp_path, slack_sink(slack.url), concurrency=2, reset_s=30, clock=lambda: now[0])
    r.daemon.max_receive_count = 2
    payments = r.queue.put(*(body(f"card declines {n}", "payments") for n in range(5)))
    with structlog.testing.capture_logs() as logs:
        serving = asyncio.create_task(r.daemon.serve())
        try:
            await until(lambda: r.metrics.counter("MessagesHeld", reason=BREAKER_OPEN) >= 4)
            with slack.lock:
                slack.down = False
            now[0] = 30.0
            r.breaker.wake()
            await asyncio.wait_for(serving, 20)
        finally:
            serving.cancel()
            await asyncio.gather(serving, return_exceptions=True)
            await r.close()
    assert sorted(r.queue.deleted) == sorted(payments)
    held = [e for e in logs if e["event"] == "message.held"]
    assert held and not [e for e in held if e.get("in_queue")]


async def test_a_parked_message_waiting_for_a_slot_past_max_hold_s_is_released(
    tmp_path: Path, slack: SlackLike
) -> None:
    """One worker, max_hold_s 2.5 s: a payments alert held for Slack's outage (2 s) wants its
    slot back while an ops alert holds it (its backend call stuck); past max_hold_s it is
    released to the queue, naming the limit, and goes through once the slot is free."""
    now = [0.0]
    r = rig(tmp_path, slack_sink(slack.url), concurrency=1, reset_s=2, clock=lambda: now[0])
    r.daemon.config = dataclasses.replace(r.daemon.config, max_hold_s=2.5)
    stuck = asyncio.Event()
    apply = r.backend.apply

    async def gated(effect: Effect) -> Applied:
        if effect.alert.title.startswith("disk"):
            await stuck.wait()
        return await apply(effect)

    r.backend.apply = gated  # type: ignore[method-assign]
    (payment,) = r.queue.put(body("card declines", "payments"))
    with structlog.testing.capture_logs() as logs:
        serving = asyncio.create_task(r.daemon.serve())
        try:
            await until(lambda: r.metrics.counter("MessagesHeld", reason=BREAKER_OPEN) >= 1)
            (other,) = r.queue.put(body("disk full", "ops"))

            def released() -> bool:
                return any(e.get("hold_limit") == "max_hold_s" for e in logs)

            await until(released)
            with slack.lock:
                slack.down = False
            now[0] = 30.0
            stuck.set()
            await asyncio.wait_for(serving, 20)
        finally:
            stuck.set()
            serving.cancel()
            await asyncio.gather(serving, return_exceptions=True)
            await r.close()
    assert sorted(r.queue.deleted) == sorted([payment, other])
