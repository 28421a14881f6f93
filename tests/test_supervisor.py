"""The supervisor's contract: bounded intake, acks decided by the error tree, heartbeats,
timeouts and a two-stage shutdown, over an in-memory inbox with SQS's visibility rules."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest
import structlog

from memory_inbox import MemoryInbox
from triage.errors import DecodeError, InboxError, SinkUnavailableError, StoreUnavailableError
from triage.health import Health
from triage.incidents.lifecycle import Action, Outcome
from triage.metrics import Metrics
from triage.sqs.acker import Acker
from triage.sqs.inbox import Message
from triage.sqs.supervisor import (
    DaemonCrashed,
    Progress,
    Supervisor,
    SupervisorConfig,
    _backoff,
)


def config(**changes: object) -> SupervisorConfig:
    values: dict[str, object] = {
        "wait_s": 0,
        "drain": True,
        "retry_base_s": 0,
        "shutdown_grace_s": 1,
    }
    values.update(changes)
    return SupervisorConfig(**values)  # type: ignore[arg-type]


async def test_receives_only_as_many_as_free_workers() -> None:
    """With 3 workers busy, receive never asks SQS for more than the free slots."""
    inbox = MemoryInbox()
    inbox.put(*[f"b{i}" for i in range(8)])
    running = 0
    peak = 0

    async def handler(message: Message, _progress: Progress) -> list[Outcome]:
        nonlocal running, peak
        running += 1
        peak = max(peak, running)
        await asyncio.sleep(0.05)
        running -= 1
        return []

    await Supervisor(config(concurrency=3), inbox, handler, Metrics()).serve()
    assert peak == 3
    assert max(inbox.asked) <= 3
    assert len(inbox.deleted) == 8


async def test_backlog_fills_free_slots_with_parallel_receives_never_over_asking() -> None:
    """With a backlog and 45 free slots, receives of a full batch each run in parallel, and
    together they never ask for more messages than there are free slots."""

    class CountingInbox(MemoryInbox):
        def __init__(self) -> None:
            super().__init__()
            self.outstanding = 0  # messages asked for by receives in flight
            self.peak_outstanding = 0
            self.calls_in_flight = 0
            self.peak_calls = 0

        async def receive(self, max_messages: int, wait_s: int, visibility_s: int) -> list[Message]:
            self.outstanding += max_messages
            self.calls_in_flight += 1
            self.peak_outstanding = max(self.peak_outstanding, self.outstanding)
            self.peak_calls = max(self.peak_calls, self.calls_in_flight)
            try:
                await asyncio.sleep(0.01)  # a round trip, so parallel calls overlap
                return await super().receive(max_messages, wait_s, visibility_s)
            finally:
                self.outstanding -= max_messages
                self.calls_in_flight -= 1

    inbox = CountingInbox()
    inbox.put(*[f"b{i}" for i in range(100)])

    async def handler(message: Message, _progress: Progress) -> list[Outcome]:
        await asyncio.sleep(0.05)
        return []

    await Supervisor(config(concurrency=45), inbox, handler, Metrics()).serve()
    assert len(inbox.deleted) == 100
    assert inbox.peak_calls > 1
    assert inbox.peak_outstanding <= 45


async def test_a_backlog_polls_answer_is_started_while_a_slower_poll_is_still_out() -> None:
    """Draining a backlog, each short poll's messages start as it answers: one slow poll holds
    up neither the others' messages nor the next poll for the slots that free meanwhile."""

    class OneSlowPoll(MemoryInbox):
        def __init__(self) -> None:
            super().__init__()
            self.slow = asyncio.Event()
            self.calls = 0

        async def receive(self, max_messages: int, wait_s: int, visibility_s: int) -> list[Message]:
            self.calls += 1
            if self.calls == 2:  # the first short poll after the full first answer
                got = await super().receive(max_messages, wait_s, visibility_s)
                await self.slow.wait()
                return got
            return await super().receive(max_messages, wait_s, visibility_s)

    inbox = OneSlowPoll()
    inbox.put(*[f"b{i}" for i in range(60)])
    started: list[str] = []

    async def handler(message: Message, _progress: Progress) -> list[Outcome]:
        started.append(message.id)
        if len(started) == 30:  # the first answer and a later poll's, the slow one still out
            inbox.slow.set()
        return []

    supervisor = Supervisor(config(concurrency=30), inbox, handler, Metrics())
    await asyncio.wait_for(supervisor.serve(), timeout=10)
    assert len(inbox.deleted) == 60
    # The slow poll's ten messages (m10-m19) were started after thirty others.
    assert {f"m{i}" for i in range(10, 20)}.isdisjoint(started[:30])


async def test_a_failed_backlog_poll_loses_nothing_and_the_others_answers_run() -> None:
    """One short poll of a backlog fails (SQS throttled it): one `receive.failed` line, and
    every message, those of the polls out beside it too, is still processed and acked once."""

    class OnePollFails(MemoryInbox):
        def __init__(self) -> None:
            super().__init__()
            self.calls = 0

        async def receive(self, max_messages: int, wait_s: int, visibility_s: int) -> list[Message]:
            self.calls += 1
            if self.calls == 3:  # the second short poll, the first one out beside it
                await asyncio.sleep(0.01)
                raise InboxError("receive failed: ThrottlingException")
            await asyncio.sleep(0.02)
            return await super().receive(max_messages, wait_s, visibility_s)

    inbox = OnePollFails()
    inbox.put(*[f"b{i}" for i in range(50)])
    handled: list[str] = []

    async def handler(message: Message, _progress: Progress) -> list[Outcome]:
        handled.append(message.id)
        await asyncio.sleep(0.05)
        return []

    with structlog.testing.capture_logs() as logs:
        await asyncio.wait_for(
            Supervisor(config(concurrency=30), inbox, handler, Metrics()).serve(), timeout=10
        )
    assert sorted(handled) == sorted(set(handled)) and len(handled) == 50
    assert len(inbox.deleted) == 50
    assert [e["event"] for e in logs if e["event"].startswith("receive.")] == [
        "receive.failed",
        "receive.recovered",
    ]


async def test_receives_failing_for_one_reason_are_one_warning_then_one_recovery_line() -> None:
    """SQS refusing receive after receive for the same reason (a KMS key, an outage) is one
    `receive.failed` warning, the repeats at debug, and one `receive.recovered` when a receive
    answers: not a warning every backoff."""

    class DownThenUp(MemoryInbox):
        def __init__(self) -> None:
            super().__init__()
            self.failing = 2

        async def receive(self, max_messages: int, wait_s: int, visibility_s: int) -> list[Message]:
            if self.failing:
                self.failing -= 1
                raise InboxError("receive failed: KMS.AccessDeniedException")
            return await super().receive(max_messages, wait_s, visibility_s)

    inbox = DownThenUp()
    inbox.put("a")

    async def handler(message: Message, _progress: Progress) -> list[Outcome]:
        return []

    with structlog.testing.capture_logs() as logs:
        # A short backoff: what is logged is under test, not how long the receives wait.
        supervisor = Supervisor(config(receive_retry_base_s=0.05), inbox, handler, Metrics())
        await asyncio.wait_for(supervisor.serve(), 20)
    assert len(inbox.deleted) == 1
    seen = [(e["event"], e["log_level"]) for e in logs if e["event"].startswith("receive.")]
    assert seen == [
        ("receive.failed", "warning"),
        ("receive.failed", "debug"),
        ("receive.recovered", "info"),
    ]


async def test_shutdown_with_backlog_polls_out_cancels_them_and_starts_nothing_they_took() -> None:
    """A stop while short polls of a backlog are out: serve() returns without waiting for them,
    and the messages they had taken are never started (they reappear after their timeout)."""

    class HangingPolls(MemoryInbox):
        def __init__(self) -> None:
            super().__init__()
            self.calls = 0
            self.polls_out = asyncio.Event()

        async def receive(self, max_messages: int, wait_s: int, visibility_s: int) -> list[Message]:
            self.calls += 1
            got = await super().receive(max_messages, wait_s, visibility_s)
            if self.calls > 1:  # every short poll after the first, full answer hangs
                self.polls_out.set()
                await asyncio.Event().wait()
            return got

    inbox = HangingPolls()
    inbox.put(*[f"b{i}" for i in range(40)])
    handled: list[str] = []

    async def handler(message: Message, _progress: Progress) -> list[Outcome]:
        handled.append(message.id)
        return []

    supervisor = Supervisor(config(concurrency=30, drain=False), inbox, handler, Metrics())
    task = asyncio.create_task(supervisor.serve())
    await asyncio.wait_for(inbox.polls_out.wait(), timeout=10)
    supervisor.should_exit.set()
    await asyncio.wait_for(task, timeout=10)
    assert sorted(handled) == sorted(f"m{i}" for i in range(10))  # the first answer only
    assert sorted(inbox.deleted) == sorted(handled)


async def test_permanent_error_is_released_at_once_and_not_acked() -> None:
    """A permanent failure makes the message visible again at once (for the DLQ) and never deletes it."""
    inbox = MemoryInbox()
    [bad] = inbox.put("not json")

    async def handler(message: Message, _progress: Progress) -> list[Outcome]:
        raise DecodeError("body is not JSON")

    supervisor = Supervisor(config(drain=False), inbox, handler, Metrics())
    task = asyncio.create_task(supervisor.serve())
    while not inbox.visibility_calls:
        await asyncio.sleep(0.01)
    supervisor.should_exit.set()
    await task
    assert inbox.visibility_calls[0] == (bad, 0)
    assert inbox.deleted == []
    assert supervisor.stats.failures[bad].reason == "decode"


async def test_transient_error_backs_off_and_honours_retry_after() -> None:
    """A transient failure is released with a delay; a Retry-After longer than the backoff wins."""
    inbox = MemoryInbox()
    [mid] = inbox.put("x")

    async def handler(message: Message, _progress: Progress) -> list[Outcome]:
        raise SinkUnavailableError("503", retry_after_s=42)

    supervisor = Supervisor(config(drain=False, retry_base_s=1), inbox, handler, Metrics())
    task = asyncio.create_task(supervisor.serve())
    while not inbox.visibility_calls:
        await asyncio.sleep(0.01)
    supervisor.should_exit.set()
    await task
    assert inbox.visibility_calls == [(mid, 42)]


def test_backoff_grows_with_receive_count_and_is_capped() -> None:
    """The retry delay doubles per receive (jittered between half and all of it) up to the cap."""
    for attempt, ceiling in [(1, 2), (2, 4), (3, 8), (10, 300)]:
        delays = [_backoff(attempt, 2, 300) for _ in range(200)]
        assert min(delays) >= ceiling / 2
        assert max(delays) <= ceiling


async def test_heartbeat_extends_slow_message_and_stops_before_delete() -> None:
    """A message slower than its visibility timeout is extended while worked on, never after."""
    inbox = MemoryInbox()
    [mid] = inbox.put("slow")

    async def handler(message: Message, _progress: Progress) -> list[Outcome]:
        await asyncio.sleep(2.5)
        return []

    supervisor = Supervisor(config(visibility_timeout_s=2), inbox, handler, Metrics())
    await supervisor.serve()
    extensions = [t for m, t in inbox.visibility_calls if m == mid]
    assert extensions  # extended at least once before the 2 s visibility ran out
    assert set(extensions) == {2}
    assert inbox.deleted == [mid]
    # It never became visible to another receive while being worked on.
    assert supervisor.stats.received == 1


async def test_message_timeout_cancels_work_and_retries_later() -> None:
    """Work running past the message timeout is cancelled (no later side effect) and retried."""
    inbox = MemoryInbox()
    [mid] = inbox.put("stuck")
    effects: list[str] = []

    async def handler(message: Message, _progress: Progress) -> list[Outcome]:
        await asyncio.sleep(5)
        effects.append("posted")  # must never happen
        return []

    supervisor = Supervisor(
        config(drain=False, message_timeout_s=0.2, retry_base_s=60), inbox, handler, Metrics()
    )
    task = asyncio.create_task(supervisor.serve())
    while not inbox.visibility_calls:
        await asyncio.sleep(0.01)
    supervisor.should_exit.set()
    await task
    await asyncio.sleep(0.1)
    assert effects == []
    assert supervisor.stats.failures[mid].reason == "timeout"
    assert inbox.visibility_calls[0][0] == mid
    assert inbox.visibility_calls[0][1] >= 30
    assert inbox.deleted == []


async def test_shutdown_waits_for_in_flight_within_grace() -> None:
    """On stop, in-flight messages that finish within the grace are acked."""
    inbox = MemoryInbox()
    ids = inbox.put("a", "b")

    async def handler(message: Message, _progress: Progress) -> list[Outcome]:
        await asyncio.sleep(0.3)
        return []

    supervisor = Supervisor(config(drain=False, shutdown_grace_s=5), inbox, handler, Metrics())
    task = asyncio.create_task(supervisor.serve())
    while supervisor.stats.received < 2:
        await asyncio.sleep(0.01)
    supervisor.should_exit.set()
    await task
    assert sorted(inbox.deleted) == sorted(ids)


async def test_shutdown_past_grace_cancels_and_releases_without_ack() -> None:
    """Messages still running when the grace ends are cancelled, made visible again, never acked."""
    inbox = MemoryInbox()
    ids = inbox.put("a", "b")

    async def handler(message: Message, _progress: Progress) -> list[Outcome]:
        await asyncio.sleep(30)
        return []

    supervisor = Supervisor(config(drain=False, shutdown_grace_s=0.2), inbox, handler, Metrics())
    task = asyncio.create_task(supervisor.serve())
    while supervisor.stats.received < 2:
        await asyncio.sleep(0.01)
    supervisor.should_exit.set()
    await asyncio.wait_for(task, timeout=5)
    assert inbox.deleted == []
    assert sorted(inbox.visibility_calls) == sorted((i, 0) for i in ids)
    assert supervisor.stats.released_on_shutdown == 2


async def test_a_bug_in_one_message_never_stops_the_others() -> None:
    """An unexpected exception is logged and retried; the messages around it are acked."""
    inbox = MemoryInbox()
    good1, bad, good2 = inbox.put("ok", "boom", "ok")

    async def handler(message: Message, _progress: Progress) -> list[Outcome]:
        if message.body == "boom":
            raise ZeroDivisionError("bug")
        return []

    supervisor = Supervisor(config(drain=False, retry_base_s=60), inbox, handler, Metrics())
    task = asyncio.create_task(supervisor.serve())
    while len(inbox.deleted) < 2:
        await asyncio.sleep(0.01)
    supervisor.should_exit.set()
    await task
    assert sorted(inbox.deleted) == sorted([good1, good2])
    assert supervisor.stats.failures[bad].reason == "bug"


async def test_a_long_poll_answered_empty_at_once_backs_off_and_says_so() -> None:
    """A queue endpoint that answers a 20 s long poll empty at once (a proxy, a broken
    emulator) is polled with a growing pause and one warning, not in a busy loop."""

    class InstantInbox(MemoryInbox):
        def __init__(self) -> None:
            super().__init__()
            self.polls: list[float] = []

        async def receive(self, max_messages: int, wait_s: int, visibility_s: int) -> list[Message]:
            self.polls.append(asyncio.get_running_loop().time())
            return []

    inbox = InstantInbox()

    async def handler(message: Message, _progress: Progress) -> list[Outcome]:
        return []

    supervisor = Supervisor(config(drain=False, wait_s=20), inbox, handler, Metrics())
    with structlog.testing.capture_logs() as logs:
        task = asyncio.create_task(supervisor.serve())
        while len(inbox.polls) < 5:
            await asyncio.sleep(0.01)
        supervisor.should_exit.set()
        await task
    gaps = [b - a for a, b in zip(inbox.polls, inbox.polls[1:], strict=False)][:4]
    # Backoff with jitter: at least half of 0.1, 0.2, 0.4, 0.8 s.
    assert all(gap >= 0.05 * 2**i * 0.95 for i, gap in enumerate(gaps)), gaps
    warned = [e for e in logs if e["event"] == "receive.empty_at_once"]
    assert [e["times"] for e in warned] == [1]


async def test_a_backlog_round_of_short_polls_coming_back_empty_is_no_anomaly() -> None:
    """After a full receive, free slots are filled by parallel short polls (wait 0): when those
    come back empty the queue simply ran dry; no warning, no backoff, the next poll is long."""

    class DryingInbox(MemoryInbox):
        def __init__(self) -> None:
            super().__init__()
            self.long_poll = asyncio.Event()

        async def receive(self, max_messages: int, wait_s: int, visibility_s: int) -> list[Message]:
            if wait_s and (await self.depth()).visible == 0:
                # A long poll with nothing visible (in flight or gone) waits, as SQS's does.
                self.long_poll.set()
                await asyncio.Event().wait()  # until stopped
            return await super().receive(max_messages, 0, visibility_s)

    inbox = DryingInbox()
    inbox.put(*["x"] * 10)

    async def handler(message: Message, _progress: Progress) -> list[Outcome]:
        return []

    supervisor = Supervisor(
        config(drain=False, wait_s=20, concurrency=40), inbox, handler, Metrics()
    )
    with structlog.testing.capture_logs() as logs:
        task = asyncio.create_task(supervisor.serve())
        await asyncio.wait_for(inbox.long_poll.wait(), timeout=10)
        supervisor.should_exit.set()
        await task
    assert not [e for e in logs if e["event"] == "receive.empty_at_once"]


async def test_a_message_handed_out_twice_at_once_is_worked_on_once() -> None:
    """One delivery twice in an answer (same receipt handle): the copy is not started beside
    the first, one warning says so, the message is acked once."""

    class TwiceInbox(MemoryInbox):
        async def receive(self, max_messages: int, wait_s: int, visibility_s: int) -> list[Message]:
            got = await super().receive(max_messages, wait_s, visibility_s)
            return [*got, *got]

    inbox = TwiceInbox()
    inbox.put("once")
    calls = 0

    async def handler(message: Message, _progress: Progress) -> list[Outcome]:
        nonlocal calls
        calls += 1
        await asyncio.sleep(0)
        return []

    supervisor = Supervisor(config(), inbox, handler, Metrics())
    with structlog.testing.capture_logs() as logs:
        await supervisor.serve()
    assert calls == 1 and len(inbox.deleted) == 1
    assert [e["event"] for e in logs if e["event"] == "message.duplicate_delivery"] == [
        "message.duplicate_delivery"
    ]
    assert (supervisor.stats.received, supervisor.stats.acked) == (1, 1)


async def test_a_handled_message_whose_delete_fails_is_counted_as_such() -> None:
    """SQS refusing a delete leaves the handled message counted (delete_failed and
    MessagesFailed{reason=delete}), not missing from every outcome; it comes back and is
    acked then."""

    class RefusingOnceInbox(MemoryInbox):
        refused = False

        async def delete(self, messages: Sequence[Message]) -> list[str]:
            if not self.refused:
                self.refused = True
                for m in messages:  # visible again at once, as after a lost delete
                    self.entries[m.id].visible_at = 0.0
                return [m.id for m in messages]
            return await super().delete(messages)

    inbox = RefusingOnceInbox()
    inbox.put("once")

    async def handler(message: Message, _progress: Progress) -> list[Outcome]:
        return []

    metrics = Metrics()
    supervisor = Supervisor(config(), inbox, handler, metrics)
    await supervisor.serve()
    stats = supervisor.stats
    assert (stats.received, stats.acked, stats.delete_failed) == (2, 1, 1)
    assert (
        metrics.counter("MessagesFailed", reason="delete") == 1 == metrics.total("MessagesFailed")
    )


async def test_a_store_outage_holds_messages_and_says_so_once_not_once_per_message() -> None:
    """While the store fails, 20 messages are held (none released, none towards the DLQ),
    readiness names the store, and the log says why in one warning, one info held line and one
    line once it is back, whatever the number of messages and tries."""
    inbox = MemoryInbox()
    inbox.put(*[f"b{i}" for i in range(20)])
    tries: dict[str, int] = {}
    readiness: list[object] = []

    async def handler(message: Message, _progress: Progress) -> list[Outcome]:
        tries[message.id] = tries.get(message.id, 0) + 1
        if sum(tries.values()) <= 60:
            raise StoreUnavailableError("sqlite: database is locked")
        readiness.append(supervisor.health.readiness())
        return [Outcome("f" * 32, Action.COUNT)]

    supervisor = Supervisor(config(concurrency=20), inbox, handler, Metrics())
    supervisor.DEFAULT_HOLD_S = 0.01
    with structlog.testing.capture_logs() as logs:
        await supervisor.serve()
    assert len(inbox.deleted) == 20 and inbox.visibility_calls == []
    assert (supervisor.stats.retried, supervisor.stats.rejected) == (0, 0)
    assert readiness[0] == {"ready": False, "failing": {"store": "unavailable"}}
    assert "store" not in supervisor.health.failing()  # recovered (shutting_down: stopped)
    loud = [e["event"] for e in logs if e["log_level"] in ("info", "warning", "error")]
    assert loud.count("store.unavailable") == 1 and loud.count("store.recovered") == 1
    assert loud.count("message.held") == 1
    assert "message.retry" not in loud


async def test_a_message_the_store_fails_past_max_hold_spends_a_receive() -> None:
    """A store that stays down past `max_hold_s` releases the message for a retry (a fault that
    persists ends in the DLQ after maxReceiveCount, not in a message held forever)."""
    inbox = MemoryInbox()
    inbox.put("b")

    async def handler(message: Message, _progress: Progress) -> list[Outcome]:
        raise StoreUnavailableError("sqlite: the store file /x/t.db was deleted")

    supervisor = Supervisor(config(max_hold_s=0.1, drain=False), inbox, handler, Metrics())
    supervisor.DEFAULT_HOLD_S = 0.01
    with structlog.testing.capture_logs() as logs:
        serving = asyncio.create_task(supervisor.serve())
        async with asyncio.timeout(10):
            while supervisor.stats.retried < 1:
                await asyncio.sleep(0.01)
        supervisor.should_exit.set()
        await serving
    assert supervisor.stats.held >= 1
    assert supervisor.stats.failures["m0"].reason == "store_unavailable"
    # The outage's warning is `store.unavailable`; the release says so at info, not again.
    warnings = [e["event"] for e in logs if e["log_level"] in ("warning", "error")]
    assert warnings == ["store.unavailable"]
    [retry] = [e for e in logs if e["event"] == "message.retry"][:1]
    assert retry["log_level"] == "info" and retry["held_s"] >= 0.05


async def test_a_message_of_repeats_is_acked_at_debug_and_one_with_an_effect_at_info() -> None:
    """In a storm every message would log an info line: one whose alerts were all repeats is
    acked at debug (DuplicatesSuppressed counts them); one that changed a ticket at info."""
    inbox = MemoryInbox()
    inbox.put("repeat", "open")

    async def handler(message: Message, _progress: Progress) -> list[Outcome]:
        action = Action.COUNT if message.body == "repeat" else Action.OPEN
        return [Outcome("f" * 32, action)]

    with structlog.testing.capture_logs() as logs:
        await Supervisor(config(), inbox, handler, Metrics()).serve()
    acked = sorted((e["actions"], e["log_level"]) for e in logs if e["event"] == "message.acked")
    assert acked == [(["count"], "debug"), (["open"], "info")]


@pytest.mark.parametrize("count", [0, 25])
async def test_drain_exits_when_queue_is_empty(count: int) -> None:
    """--drain returns once everything queued is handled and the queue reports empty."""
    inbox = MemoryInbox()
    inbox.put(*["x"] * count)

    async def handler(message: Message, _progress: Progress) -> list[Outcome]:
        return []

    await asyncio.wait_for(Supervisor(config(), inbox, handler, Metrics()).serve(), timeout=10)
    assert len(inbox.deleted) == count


async def test_dry_run_never_acks_and_releases_everything_at_exit() -> None:
    """--dry-run handles each message once, deletes nothing, releases nothing early (not even
    failures, which would otherwise head for the DLQ), and makes all visible again at exit."""
    inbox = MemoryInbox()
    ids = inbox.put("ok", "bad", "ok")
    seen: list[str] = []

    async def handler(message: Message, _progress: Progress) -> list[Outcome]:
        seen.append(message.id)
        if message.body == "bad":
            raise DecodeError("not JSON")
        return []

    supervisor = Supervisor(config(dry_run=True), inbox, handler, Metrics())
    await asyncio.wait_for(supervisor.serve(), timeout=10)
    assert sorted(seen) == sorted(ids)  # each exactly once
    assert inbox.deleted == []
    assert sorted(inbox.visibility_calls) == sorted((i, 0) for i in ids)  # only the final release
    assert supervisor.stats.failures[ids[1]].reason == "decode"


async def test_acker_sends_full_batches_at_once_and_holds_a_lone_delete_for_company() -> None:
    """Twenty deletes leave as two batches of ten without lingering; a lone delete lingers (here
    a minute) for others to join it, and stopping the acker sends it at once."""

    class BatchInbox(MemoryInbox):
        def __init__(self) -> None:
            super().__init__()
            self.batches: list[int] = []

        async def delete(self, messages: Sequence[Message]) -> list[str]:
            self.batches.append(len(messages))
            return await super().delete(messages)

    inbox = BatchInbox()
    ids = inbox.put(*[f"b{i}" for i in range(21)])
    messages = await inbox.receive(21, 0, 30)
    acker = Acker(inbox, linger_s=60)
    runner = asyncio.create_task(acker.run())
    deletes = asyncio.gather(*(acker.delete(m) for m in messages[:20]))
    assert all(await asyncio.wait_for(deletes, timeout=10))
    assert inbox.batches == [10, 10]
    lone = asyncio.create_task(acker.delete(messages[20]))
    await asyncio.sleep(0.1)
    assert inbox.batches == [10, 10] and not lone.done()
    await acker.stop()
    await asyncio.wait_for(runner, timeout=10)
    assert await lone
    assert inbox.batches == [10, 10, 1]
    assert sorted(inbox.deleted) == sorted(ids)


async def test_acker_sends_the_next_full_batch_while_a_slow_delete_is_still_out() -> None:
    """Deletes go out side by side (up to `Acker.MAX_CALLS`): a batch whose call is slow holds up
    neither the next batch nor its workers' answers."""

    class SlowFirstDelete(MemoryInbox):
        def __init__(self) -> None:
            super().__init__()
            self.release = asyncio.Event()
            self.calls = 0

        async def delete(self, messages: Sequence[Message]) -> list[str]:
            self.calls += 1
            if self.calls == 1:
                await self.release.wait()
            return await super().delete(messages)

    inbox = SlowFirstDelete()
    inbox.put(*[f"b{i}" for i in range(20)])
    messages = await inbox.receive(20, 0, 30)
    acker = Acker(inbox, linger_s=60)
    runner = asyncio.create_task(acker.run())
    first = asyncio.gather(*(acker.delete(m) for m in messages[:10]))
    second = asyncio.gather(*(acker.delete(m) for m in messages[10:]))
    assert all(await asyncio.wait_for(second, timeout=10))
    assert not first.done()
    inbox.release.set()
    assert all(await asyncio.wait_for(first, timeout=10))
    await acker.stop()
    await asyncio.wait_for(runner, timeout=10)


async def test_a_delete_call_raising_what_it_should_not_ends_the_acker_with_it() -> None:
    """A bug under a delete call (not a TransientError) answers its workers "not deleted" and
    ends the acker with that error, so the daemon stops loudly instead of never acking again."""

    class BrokenDelete(MemoryInbox):
        async def delete(self, messages: Sequence[Message]) -> list[str]:
            raise RuntimeError("a bug under the delete call")

    inbox = BrokenDelete()
    inbox.put("b")
    [message] = await inbox.receive(1, 0, 30)
    acker = Acker(inbox, linger_s=0.01)
    runner = asyncio.create_task(acker.run())
    assert await asyncio.wait_for(acker.delete(message), timeout=10) is False
    with pytest.raises(RuntimeError, match="a bug under the delete call"):
        await asyncio.wait_for(runner, timeout=10)


async def test_acker_stopped_before_it_runs_sends_without_lingering() -> None:
    """A delete queued together with the stop leaves at once: shutdown never waits a linger."""
    inbox = MemoryInbox()
    [mid] = inbox.put("b")
    [message] = await inbox.receive(1, 0, 30)
    acker = Acker(inbox, linger_s=60)
    pending = asyncio.create_task(acker.delete(message))
    await asyncio.sleep(0)  # the delete is queued before the stop
    await acker.stop()
    await asyncio.wait_for(acker.run(), timeout=10)
    assert await pending
    assert inbox.deleted == [mid]


async def test_a_crashed_helper_stops_the_daemon_loudly() -> None:
    """When a helper dies (a metrics flusher, the sweep: a bug of ours), the daemon does not run
    on without it: one `daemon.helper_crashed` line names it, the shutdown is clean (the
    message in hand is finished and acked), and serve() raises DaemonCrashed (`triage run`
    prints it and exits 1)."""
    inbox = MemoryInbox()
    inbox.put("in hand")
    started = asyncio.Event()

    async def handler(message: Message, _progress: Progress) -> list[Outcome]:
        started.set()
        return []

    async def flusher() -> None:
        await started.wait()
        raise ZeroDivisionError("a bug in the flusher")

    supervisor = Supervisor(
        config(drain=False), inbox, handler, Metrics(), helpers=[("metrics", flusher)]
    )
    with structlog.testing.capture_logs() as logs, pytest.raises(DaemonCrashed, match="metrics"):
        await asyncio.wait_for(supervisor.serve(), timeout=10)
    [crashed] = [e for e in logs if e["event"] == "daemon.helper_crashed"]
    assert crashed["helper"] == "metrics" and "ZeroDivisionError" in crashed["error"]
    assert inbox.deleted == ["m0"]


async def _returns_at_once(message: Message, _progress: Progress) -> list[Outcome]:
    return []


class _HandClock:
    """A monotonic clock moved by hand, for the health's beats."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


async def _until(condition: Callable[[], bool], deadline_s: float = 5.0) -> None:
    """Wait until `condition()` holds, failing the test past `deadline_s`."""
    async with asyncio.timeout(deadline_s):
        while not condition():
            await asyncio.sleep(0.005)


async def test_a_receive_that_never_answers_makes_intake_stalled() -> None:
    """A receive stuck past the long poll plus its slack stops the loop's beats, so /healthz's
    `stalled` names intake; a loop that keeps turning is never stalled."""
    answered = asyncio.Event()

    class StuckInbox(MemoryInbox):
        async def receive(self, max_messages: int, wait_s: int, visibility_s: int) -> list[Message]:
            answered.set()
            await asyncio.Event().wait()  # nothing ends this wait
            return []

    clock = _HandClock()
    health = Health(clock=clock)
    supervisor = Supervisor(
        config(wait_s=20, drain=False), StuckInbox(), _returns_at_once, Metrics(), health=health
    )
    serving = asyncio.create_task(supervisor.serve())
    await _until(answered.is_set)
    assert health.stalled() == []
    clock.now += 20 + Supervisor.BEAT_SLACK_S + 1
    assert health.stalled() == ["intake"]
    supervisor.should_exit.set()
    await serving


async def test_every_slot_held_keeps_intake_turning(monkeypatch: pytest.MonkeyPatch) -> None:
    """With every worker slot held by a message that does not finish, the receive loop still
    turns (each `TURN_S`) and beats: intake paused by busy slots is not stalled."""
    monkeypatch.setattr(Supervisor, "TURN_S", 0.01)
    release = asyncio.Event()
    started = 0

    async def held(message: Message, _progress: Progress) -> list[Outcome]:
        nonlocal started
        started += 1
        await release.wait()
        return []

    class CountingHealth(Health):
        beats = 0

        def beat(self, name: str, within_s: float) -> None:
            self.beats += 1
            super().beat(name, within_s)

    inbox = MemoryInbox()
    inbox.put("a", "b")
    clock = _HandClock()
    health = CountingHealth(clock=clock)
    supervisor = Supervisor(
        config(concurrency=2, wait_s=20, drain=False), inbox, held, Metrics(), health=health
    )
    serving = asyncio.create_task(supervisor.serve())
    await _until(lambda: started == 2)
    for _ in range(3):  # past the last beat's promise by more than half: beaten again since
        beats = health.beats
        clock.now += 20 + Supervisor.BEAT_SLACK_S - 1
        await _until(lambda: health.beats > beats)  # noqa: B023 - read at once, in this turn
        assert health.stalled() == []
    release.set()
    supervisor.should_exit.set()
    await serving


async def test_queue_lag_is_the_wait_before_the_first_receive_only() -> None:
    """`QueueLag` is observed on a message's first delivery: a redelivery's age counts its own
    earlier attempts and backoff, which would read as a queue backing up."""
    inbox = MemoryInbox()
    [mid] = inbox.put("x")
    sent = datetime.now(UTC) - timedelta(seconds=2)
    inbox.entries[mid].message = replace(inbox.entries[mid].message, sent_at=sent)
    attempts = 0

    async def handler(message: Message, _progress: Progress) -> list[Outcome]:
        nonlocal attempts
        attempts += 1
        if attempts == 1:
            raise SinkUnavailableError("503")
        return []

    metrics = Metrics()
    await Supervisor(config(), inbox, handler, metrics).serve()
    assert (attempts, inbox.deleted) == (2, [mid])
    [lag] = [timing for key, timing in metrics.timings().items() if key[0] == "QueueLag"]
    assert lag.count == 1
    assert 2000 <= lag.maximum < 60_000
