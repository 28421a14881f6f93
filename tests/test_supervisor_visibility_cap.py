"""SQS hides a delivery for at most 12 hours from its receive: the heartbeat extends a message up
to that cap and says so once per message (never an extension SQS would refuse at every beat), a
held message is released for its wait before the cap, and a `max_hold_s` past 12 h is said
once at start-up. Over an in-memory inbox whose messages were received long ago (their
`received_at` set back), since no test waits 12 hours."""

from __future__ import annotations

import asyncio
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import structlog

from memory_inbox import MemoryInbox
from triage.errors import SinkThrottledError
from triage.incidents.lifecycle import Outcome
from triage.metrics import Metrics
from triage.sqs.inbox import MAX_VISIBILITY_S, Message
from triage.sqs.supervisor import Progress, Supervisor, SupervisorConfig


class AgedInbox(MemoryInbox):
    """A MemoryInbox whose deliveries are received now, as SQS's are, but for the first
    delivery of each message in `aged`, received so long ago that SQS lets it stay hidden
    only that many more seconds (by the supervisor's reckoning, margin included)."""

    def __init__(self) -> None:
        super().__init__()
        self.aged: dict[str, float] = {}

    async def receive(self, max_messages: int, wait_s: int, visibility_s: int) -> list[Message]:
        now = datetime.now(UTC)
        out = []
        for message in await super().receive(max_messages, wait_s, visibility_s):
            received = now
            if message.id in self.aged:
                hideable_s = self.aged.pop(message.id)
                age_s = MAX_VISIBILITY_S - Supervisor.VISIBILITY_MARGIN_S - hideable_s
                received = now - timedelta(seconds=age_s)
            out.append(replace(message, received_at=received))
        return out


def _config(**changes: object) -> SupervisorConfig:
    values: dict[str, object] = {"wait_s": 0, "retry_base_s": 0, "shutdown_grace_s": 1}
    values.update(changes)
    return SupervisorConfig(**values)  # type: ignore[arg-type]


async def test_the_heartbeat_extends_up_to_the_cap_once_and_says_so_once() -> None:
    """A message near its 12 h cap is extended once, to the cap (not by the full visibility
    timeout SQS would refuse), with one warning; later beats, which go on extending a fresh
    message beside it, leave it alone and say nothing more."""
    inbox = AgedInbox()
    old, fresh = inbox.put("old", "fresh")
    # With a 4 s timeout its first beat comes 1-2 s after its receive (a second between looks,
    # a second of age to be due): 3.95 s hideable leaves 1-2 whole seconds to ask for then,
    # below the timeout, with ~1 s of slack for a loaded loop. (3 s and 2.0 left none when
    # the receive came a hair after the heartbeat's start, which made the first look 1.5 s
    # late; a loaded CI worker failed on it.)
    inbox.aged[old] = 3.95

    def extensions(mid: str) -> list[int]:
        return [t for m, t in inbox.visibility_calls if m == mid]

    async def handler(message: Message, _progress: Progress) -> list[Outcome]:
        async with asyncio.timeout(15):
            while len(extensions(fresh)) < 3:
                await asyncio.sleep(0.05)
        return []

    supervisor = Supervisor(_config(drain=True, visibility_timeout_s=4), inbox, handler, Metrics())
    with structlog.testing.capture_logs() as logs:
        await supervisor.serve()
    assert fresh in inbox.deleted
    capped, *later = extensions(old)
    assert 0 < capped < 4
    # Shown again at its cap while the drain goes on, it may be received again: a delivery of
    # its own, received now, extended as any (never another capped extension or warning).
    assert all(timeout_s == 4 for timeout_s in later)
    assert set(extensions(fresh)) == {4}
    [said] = [e for e in logs if e["event"] == "message.visibility_capped"]
    assert said["log_level"] == "warning" and said["message_id"] == old


async def test_a_message_held_towards_the_cap_is_released_for_its_wait_before_it() -> None:
    """With `max_hold_s` past 12 h, a message held for a throttled sink is released (spending a
    receive) while SQS still lets it be hidden for its wait, not kept until SQS shows it
    again mid-hold; the release names the limit, hides it no longer than SQS allows, and no
    extension reaches the cap."""
    inbox = AgedInbox()
    [mid] = inbox.put("held")
    inbox.aged[mid] = 4.5

    async def handler(message: Message, _progress: Progress) -> list[Outcome]:
        raise SinkThrottledError("429")

    supervisor = Supervisor(
        _config(drain=False, visibility_timeout_s=3, max_hold_s=100_000.0),
        inbox,
        handler,
        Metrics(),
    )
    supervisor.DEFAULT_HOLD_S = 0.2
    with structlog.testing.capture_logs() as logs:
        serving = asyncio.create_task(supervisor.serve())
        async with asyncio.timeout(10):
            while supervisor.stats.retried < 1:
                await asyncio.sleep(0.02)
        supervisor.should_exit.set()
        await serving
    [retry] = [e for e in logs if e["event"] == "message.retry"][:1]
    assert retry["hold_limit"] == "sqs_visibility_max"
    released = [t for m, t in inbox.visibility_calls if m == mid and t != 3]
    assert released and released[0] <= 4
    assert not [e for e in logs if e["event"] == "message.visibility_capped"]


async def test_a_max_hold_past_sqs_visibility_max_is_said_once_at_start() -> None:
    """`max_hold_s` above SQS's 12 h cap is one warning at start-up naming the setting; a
    setting within it says nothing."""
    for max_hold_s, said in ((50_000.0, 1), (3_600.0, 0)):
        inbox = MemoryInbox()

        async def handler(message: Message, _progress: Progress) -> list[Outcome]:
            return []

        config = _config(drain=True, max_hold_s=max_hold_s)
        with structlog.testing.capture_logs() as logs:
            await Supervisor(config, inbox, handler, Metrics()).serve()
        lines = [e for e in logs if e["event"] == "config.past_visibility_max"]
        assert len(lines) == said
        if said:
            assert lines[0]["setting"] == "max_hold_s" and lines[0]["log_level"] == "warning"
