"""A `visibility_timeout_s` the heartbeat cannot keep: SQS hides a delivery for at most 12 h from
its receive, so a timeout near that cap made a message's first extension reach it (one warning
per message) and every hold be released at once. Such a setting is caught once, at start-up:
clamped to the longest timeout whose first extension SQS always grants in full, with one warning
naming the setting. Over an in-memory inbox that records what each receive asked for."""

from __future__ import annotations

import asyncio
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import structlog

from memory_inbox import MemoryInbox
from triage.errors import SinkThrottledError
from triage.incidents.lifecycle import Outcome
from triage.metrics import Metrics
from triage.sqs.base import MAX_HEARTBEAT_VISIBILITY_S
from triage.sqs.inbox import MAX_VISIBILITY_S, Message
from triage.sqs.supervisor import Progress, Supervisor, SupervisorConfig


class RecordingInbox(MemoryInbox):
    """A MemoryInbox that records the visibility timeout every receive asked for."""

    def __init__(self) -> None:
        super().__init__()
        self.hidden_for: list[int] = []

    async def receive(self, max_messages: int, wait_s: int, visibility_s: int) -> list[Message]:
        self.hidden_for.append(visibility_s)
        return await super().receive(max_messages, wait_s, visibility_s)


def _config(**changes: object) -> SupervisorConfig:
    values: dict[str, object] = {"wait_s": 0, "retry_base_s": 0, "shutdown_grace_s": 1}
    values.update(changes)
    return SupervisorConfig(**values)  # type: ignore[arg-type]


async def _acked(message: Message, _progress: Progress) -> list[Outcome]:
    return []


async def test_a_timeout_past_what_the_heartbeat_can_keep_is_clamped_once_at_start() -> None:
    """Clamped with one warning, not refused: the value is one SQS itself accepts (a fleet
    redeployed with it keeps consuming), and a shorter timeout loses nothing, since the
    heartbeat keeps a message hidden while it is worked on, and a crashed replica's messages
    come back sooner. Every receive asks for the clamped timeout; three messages say nothing
    more (no per-message warning)."""
    inbox = RecordingInbox()
    inbox.put("a", "b", "c")
    config = _config(drain=True, visibility_timeout_s=MAX_VISIBILITY_S)
    with structlog.testing.capture_logs() as logs:
        supervisor = Supervisor(config, inbox, _acked, Metrics())
        await supervisor.serve()
    assert sorted(inbox.deleted) == ["m0", "m1", "m2"]
    assert inbox.hidden_for and set(inbox.hidden_for) == {MAX_HEARTBEAT_VISIBILITY_S}
    [said] = [e for e in logs if e["event"] == "config.past_visibility_max"]
    assert said["log_level"] == "warning"
    assert said["setting"] == "visibility_timeout_s"
    assert (said["value_s"], said["used_s"]) == (MAX_VISIBILITY_S, MAX_HEARTBEAT_VISIBILITY_S)
    assert not [e for e in logs if e["event"].startswith("message.visibility")]


async def test_a_timeout_the_heartbeat_can_keep_is_used_as_set_and_says_nothing() -> None:
    """The default and the longest keepable timeout are used unchanged, without a warning."""
    for timeout_s in (60, MAX_HEARTBEAT_VISIBILITY_S):
        inbox = RecordingInbox()
        inbox.put("a")
        config = _config(drain=True, visibility_timeout_s=timeout_s)
        with structlog.testing.capture_logs() as logs:
            await Supervisor(config, inbox, _acked, Metrics()).serve()
        assert set(inbox.hidden_for) == {timeout_s}
        assert not [e for e in logs if e["event"] == "config.past_visibility_max"]


def test_the_longest_keepable_timeout_is_granted_in_full_at_its_latest_first_beat() -> None:
    """With the clamped timeout, a message's first extension is granted in full by SQS even
    when it comes as late as it can (just before the receive's own timeout ends): the first
    beat never reaches the 12 h cap, so nothing is said per message."""
    config = _config(visibility_timeout_s=MAX_VISIBILITY_S)
    supervisor = Supervisor(config, MemoryInbox(), _acked, Metrics())
    timeout_s = supervisor.config.visibility_timeout_s
    received = datetime.now(UTC) - timedelta(seconds=timeout_s - 1)
    message = Message("m0", "a", "rh-m0-1", 1, None, received_at=received)
    with structlog.testing.capture_logs() as logs:
        assert supervisor._extensions([message], timeout_s) == {timeout_s: [message]}
    assert not logs
    # One second more than the clamp could not be: its latest first beat would be capped.
    late = replace(message, received_at=received - timedelta(seconds=2))
    assert supervisor._hideable_s(late) < timeout_s + 1


async def test_a_short_hold_under_a_long_timeout_is_held_not_released_at_once() -> None:
    """A message a sink throttles for a moment is held and then handled on the same receive:
    under the 12 h timeout, unclamped, every hold already reached SQS's cap and spent a
    receive at once (`hold_limit` sqs_visibility_max)."""
    inbox = MemoryInbox()
    inbox.put("a")
    throttled = [SinkThrottledError("429", retry_after_s=0.05)]

    async def handler(message: Message, _progress: Progress) -> list[Outcome]:
        if throttled:
            raise throttled.pop()
        return []

    config = _config(drain=True, visibility_timeout_s=MAX_VISIBILITY_S)
    supervisor = Supervisor(config, inbox, handler, Metrics())
    with structlog.testing.capture_logs() as logs:
        await asyncio.wait_for(supervisor.serve(), 10)
    assert inbox.deleted == ["m0"]
    assert (supervisor.stats.held, supervisor.stats.retried) == (1, 0)
    assert not [e for e in logs if e.get("hold_limit")]


async def test_a_retry_wait_past_sqs_visibility_max_is_said_once_at_start() -> None:
    """`retry_max_s` above 12 h cannot be had (a release hides a delivery no longer than SQS
    lets it): one warning at start-up naming the setting and what is used at most, none per
    message released."""
    inbox = MemoryInbox()
    inbox.put("a")
    failures = [SinkThrottledError("down", retry_after_s=0.01)]

    async def handler(message: Message, _progress: Progress) -> list[Outcome]:
        if failures:
            raise failures.pop()
        return []

    config = _config(drain=True, retry_max_s=50_000.0, max_hold_s=0.0)
    with structlog.testing.capture_logs() as logs:
        await asyncio.wait_for(Supervisor(config, inbox, handler, Metrics()).serve(), 10)
    said = [e for e in logs if e["event"] == "config.past_visibility_max"]
    assert [(e["setting"], e["value_s"], e["used_s"]) for e in said] == [
        ("retry_max_s", 50_000.0, MAX_VISIBILITY_S)
    ]
