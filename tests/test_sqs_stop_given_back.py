"""What a stop does with the messages it holds but is not handling: those a short poll had
already brought in go back at once (visibility 0) and, on their last receive, count under
`shutdown`; a message held through a wait counts under its wait's reason, wherever the stop
finds it."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence
from dataclasses import replace

import pytest
import structlog

from test_signals_dead_letters import LIMIT, RedriveInbox
from triage.errors import DecodeError, InboxError, SinkThrottledError, SinkUnavailableError
from triage.incidents.lifecycle import Outcome
from triage.metrics import Metrics
from triage.sqs.inbox import Depth, Message
from triage.sqs.supervisor import Progress, Supervisor, SupervisorConfig


async def until(condition: Callable[[], bool], what: str, timeout_s: float = 5.0) -> None:
    """Wait for `condition`, at most `timeout_s`."""
    async with asyncio.timeout(timeout_s):
        while not condition():
            await asyncio.sleep(0.01)
    assert condition(), what


def _config(**overrides: object) -> SupervisorConfig:
    base = SupervisorConfig(
        wait_s=0,
        retry_base_s=0,
        shutdown_grace_s=0.2,
        cancel_deadline_s=1,
        concurrency=20,
        visibility_timeout_s=600,
    )
    return replace(base, **overrides)  # type: ignore[arg-type]


async def _hang(_message: Message, _progress: Progress) -> list[Outcome]:
    """A handler that never finishes: only the shutdown's cancellation ends it."""
    await asyncio.Event().wait()
    return []


class StopOnShortPoll(RedriveInbox):
    """The stop comes just as a backlog's short poll answers: the answer is in, but the
    receive loop sees the stop before it starts those messages."""

    def __init__(self) -> None:
        super().__init__()
        self.supervisor: Supervisor | None = None
        self.answered: list[str] = []

    async def receive(self, max_messages: int, wait_s: int, visibility_s: int) -> list[Message]:
        got = await super().receive(max_messages, wait_s, visibility_s)
        if len(self.asked) > 1 and not self.answered:
            assert self.supervisor is not None
            self.supervisor.should_exit.set()
            self.answered = [m.id for m in got]
        return got


async def test_messages_a_short_poll_brought_in_as_the_stop_came_go_back_at_once() -> None:
    """A backlog's short poll that answered as the stop came: its messages, never started,
    are made visible again at once (not left hidden for their 600 s visibility), and the one
    on its last receive counts once under `shutdown`, with one line saying so."""
    inbox = StopOnShortPoll()
    ids = inbox.put(*[f"b{i}" for i in range(20)])
    last = ids[12]
    inbox.entries[last].receives = LIMIT - 1
    metrics = Metrics()
    supervisor = Supervisor(_config(), inbox, _hang, metrics)
    supervisor.max_receive_count = LIMIT
    inbox.supervisor = supervisor

    with structlog.testing.capture_logs() as logs:
        await asyncio.wait_for(supervisor.serve(), 10)

    assert sorted(inbox.answered) == sorted(ids[10:])
    released_at_once = {mid for mid, timeout_s in inbox.visibility_calls if timeout_s == 0}
    assert released_at_once == set(ids)  # the 10 in hand and the 10 not started
    assert metrics.counter("MessagesDeadLettered", reason="shutdown") == 1
    assert supervisor.stats.released_on_shutdown == 20
    assert supervisor.stats.received == 20
    given_back = [e for e in logs if e["event"] == "daemon.unstarted_released"]
    assert [e["count"] for e in given_back] == [10]
    await inbox.receive(20, 0, 30)
    assert inbox.dead == [last]


async def test_an_unstarted_delivery_of_a_message_in_hand_is_left_to_the_copy_in_hand() -> None:
    """The same delivery (one receipt handle) in hand and in a poll's answer at the stop is
    released once, by the shutdown of the copy in hand, and counted once."""

    class Again(StopOnShortPoll):
        first: list[Message]

        async def receive(self, max_messages: int, wait_s: int, visibility_s: int) -> list[Message]:
            got = await super().receive(max_messages, wait_s, visibility_s)
            if len(self.asked) == 1:
                self.first = got
                return got
            return [*got, self.first[0]]

    inbox = Again()
    ids = inbox.put(*[f"b{i}" for i in range(20)])
    inbox.entries[ids[0]].receives = LIMIT - 1
    metrics = Metrics()
    supervisor = Supervisor(_config(), inbox, _hang, metrics)
    supervisor.max_receive_count = LIMIT
    inbox.supervisor = supervisor

    await asyncio.wait_for(supervisor.serve(), 10)

    assert [timeout_s for mid, timeout_s in inbox.visibility_calls if mid == ids[0]] == [0]
    assert metrics.counter("MessagesDeadLettered", reason="shutdown") == 1


async def test_a_message_held_through_a_wait_at_the_stop_counts_under_its_waits_reason() -> None:
    """A message held for a throttle on its last receive when the stop comes is given back
    for what is left of its wait and counts once under the throttle's reason, not `shutdown`
    (README: a message held through a wait counts under its wait's reason)."""
    inbox = RedriveInbox()
    (held,) = inbox.put("held")
    inbox.entries[held].receives = LIMIT - 1

    async def throttled(_message: Message, _progress: Progress) -> list[Outcome]:
        raise SinkThrottledError("429", retry_after_s=300)

    metrics = Metrics()
    supervisor = Supervisor(_config(), inbox, throttled, metrics)
    supervisor.max_receive_count = LIMIT
    served = asyncio.create_task(supervisor.serve())
    await until(lambda: supervisor.stats.held == 1, "the message held")
    supervisor.should_exit.set()
    await asyncio.wait_for(served, 10)

    reason = SinkThrottledError.reason
    assert metrics.counter("MessagesDeadLettered", reason=reason) == 1
    assert metrics.counter("MessagesDeadLettered", reason="shutdown") == 0
    assert supervisor.stats.released_on_shutdown == 1
    [(mid, hidden_s)] = inbox.visibility_calls
    assert mid == held and 0 < hidden_s <= 300


async def test_a_held_message_whose_release_at_the_stop_hangs_still_counts_its_wait() -> None:
    """A held message whose release at the stop hangs (SQS not answering) is cancelled with
    the rest after the grace: it still counts once under its wait's reason, not `shutdown`."""

    class HangingRelease(RedriveInbox):
        async def change_visibility(self, messages: Sequence[Message], timeout_s: int) -> None:
            if timeout_s > 0:
                await asyncio.Event().wait()  # the release of what is left of the wait
            await super().change_visibility(messages, timeout_s)

    inbox = HangingRelease()
    (held,) = inbox.put("held")
    inbox.entries[held].receives = LIMIT - 1

    async def throttled(_message: Message, _progress: Progress) -> list[Outcome]:
        raise SinkThrottledError("429", retry_after_s=300)

    metrics = Metrics()
    supervisor = Supervisor(_config(), inbox, throttled, metrics)
    supervisor.max_receive_count = LIMIT
    served = asyncio.create_task(supervisor.serve())
    await until(lambda: supervisor.stats.held == 1, "the message held")
    supervisor.should_exit.set()
    await asyncio.wait_for(served, 10)

    assert metrics.counter("MessagesDeadLettered", reason=SinkThrottledError.reason) == 1
    assert metrics.total("MessagesDeadLettered") == 1
    assert inbox.visibility_calls == [(held, 0)]  # made visible at once by the stage two


async def test_a_dry_runs_release_at_the_stop_is_bounded_and_still_counts() -> None:
    """The release of what a dry run held, when SQS never answers it, ends within the stop's
    cancel stage with one line; the message on its last receive still counts under
    `dry_run` (it comes back, and goes to the DLQ, when its visibility ends)."""

    class HangingRelease(RedriveInbox):
        async def change_visibility(self, messages: Sequence[Message], timeout_s: int) -> None:
            if timeout_s == 0:
                await asyncio.Event().wait()
            await super().change_visibility(messages, timeout_s)

    inbox = HangingRelease()
    (last,) = inbox.put("last")
    inbox.entries[last].receives = LIMIT - 1

    async def handled(_message: Message, _progress: Progress) -> list[Outcome]:
        return []

    metrics = Metrics()
    supervisor = Supervisor(_config(dry_run=True), inbox, handled, metrics)
    supervisor.max_receive_count = LIMIT
    with structlog.testing.capture_logs() as logs:
        served = asyncio.create_task(supervisor.serve())
        await until(lambda: last in supervisor._dry_held, "the message held by the dry run")
        supervisor.should_exit.set()
        await asyncio.wait_for(served, 10)

    assert metrics.counter("MessagesDeadLettered", reason="dry_run") == 1
    overran = [e for e in logs if e["event"] == "daemon.release_overran"]
    assert [e["count"] for e in overran] == [1]


async def test_a_long_polls_answer_that_comes_with_the_stop_is_given_back_not_started() -> None:
    """A long poll answering in the same moment the stop comes: its messages are not started
    (the stop takes no new work) but made visible again at once and counted as received."""

    class StopOnLongPoll(RedriveInbox):
        supervisor: Supervisor

        async def receive(self, max_messages: int, wait_s: int, visibility_s: int) -> list[Message]:
            got = await super().receive(max_messages, wait_s, visibility_s)
            self.supervisor.should_exit.set()
            return got

    inbox = StopOnLongPoll()
    ids = inbox.put("a", "b")
    started: list[str] = []

    async def handler(message: Message, _progress: Progress) -> list[Outcome]:
        started.append(message.id)
        return []

    supervisor = Supervisor(_config(wait_s=1), inbox, handler, Metrics())
    inbox.supervisor = supervisor
    await asyncio.wait_for(supervisor.serve(), 10)

    assert started == []
    assert sorted(inbox.visibility_calls) == sorted((mid, 0) for mid in ids)
    assert (supervisor.stats.received, supervisor.stats.released_on_shutdown) == (2, 2)


async def test_drain_whose_depth_keeps_failing_says_so_once_and_drains_once_it_answers() -> None:
    """--drain asks the queue's depth after each empty receive: while GetQueueAttributes fails
    (four times in a row, short of `drain_max_failures`), one warning says why (the others are
    debug), each failure is followed by the receives' backoff (doubling), the daemon keeps
    going, and it stops once the depth answers that the queue is empty."""

    class FailingDepth(RedriveInbox):
        failures = 4

        async def depth(self) -> Depth:
            if self.failures:
                self.failures -= 1
                raise InboxError("get_queue_attributes failed: ThrottlingException: slow down")
            return await super().depth()

    inbox = FailingDepth()
    config = _config(drain=True, receive_retry_base_s=0.01, receive_retry_max_s=1)
    supervisor = Supervisor(config, inbox, _hang, Metrics())
    with structlog.testing.capture_logs() as logs:
        await asyncio.wait_for(supervisor.serve(), 10)

    assert inbox.failures == 0
    failed = [e for e in logs if e["event"] == "drain.depth_failed"]
    assert [e["log_level"] for e in failed] == ["warning"] + ["debug"] * 3
    for n, event in enumerate(failed, 1):
        ceiling = 0.01 * 2 ** (n - 1)  # the receives' backoff: half of it to all of it
        assert ceiling / 2 - 0.005 <= event["retry_in_s"] <= ceiling + 0.005, failed
    assert [e["event"] for e in logs if e["event"] == "daemon.drained"] == ["daemon.drained"]


async def test_a_release_after_a_failure_cut_short_by_a_second_signal_counts_its_reason() -> None:
    """A message released for a retry after a sink failure on its last receive, whose release
    SQS has not answered when a second signal ends the grace: it is cancelled with the rest
    and counts once under its failure's reason, not `shutdown`."""

    class HangingRetryRelease(RedriveInbox):
        releasing = asyncio.Event()

        async def change_visibility(self, messages: Sequence[Message], timeout_s: int) -> None:
            if timeout_s > 0:
                self.releasing.set()
                await asyncio.Event().wait()
            await super().change_visibility(messages, timeout_s)

    inbox = HangingRetryRelease()
    (failing,) = inbox.put("failing")
    inbox.entries[failing].receives = LIMIT - 1

    async def unavailable(_message: Message, _progress: Progress) -> list[Outcome]:
        raise SinkUnavailableError("503")

    metrics = Metrics()
    supervisor = Supervisor(
        _config(shutdown_grace_s=30, retry_base_s=10), inbox, unavailable, metrics
    )
    supervisor.max_receive_count = LIMIT
    served = asyncio.create_task(supervisor.serve())
    await asyncio.wait_for(inbox.releasing.wait(), 5)
    supervisor.should_exit.set()
    supervisor.force_exit.set()
    await asyncio.wait_for(served, 10)

    assert metrics.counter("MessagesDeadLettered", reason=SinkUnavailableError.reason) == 1
    assert metrics.total("MessagesDeadLettered") == 1


async def test_a_release_at_the_stop_that_raises_is_said_and_the_stop_goes_on() -> None:
    """A visibility call at the stop raising what it should not (a bug in an inbox): one
    error line names it, the messages still count, and the daemon still stops."""

    class BrokenRelease(StopOnShortPoll):
        async def change_visibility(self, messages: Sequence[Message], timeout_s: int) -> None:
            if timeout_s == 0 and messages and messages[0].id == self.answered[0]:
                raise RuntimeError("the inbox's own bug")
            await super().change_visibility(messages, timeout_s)

    inbox = BrokenRelease()
    ids = inbox.put(*[f"b{i}" for i in range(20)])
    inbox.entries[ids[15]].receives = LIMIT - 1
    metrics = Metrics()
    supervisor = Supervisor(_config(), inbox, _hang, metrics)
    supervisor.max_receive_count = LIMIT
    inbox.supervisor = supervisor

    with structlog.testing.capture_logs() as logs:
        await asyncio.wait_for(supervisor.serve(), 10)

    failed = [e for e in logs if e["event"] == "daemon.release_failed"]
    assert [(e["count"], e["log_level"]) for e in failed] == [(10, "error")]
    assert metrics.counter("MessagesDeadLettered", reason="shutdown") == 1


async def test_a_message_whose_cancel_overruns_is_not_hidden_again_after_its_release() -> None:
    """A handler that keeps working past the cancel stage: its message is made visible again
    at the stage's end, and the heartbeat, still beating while the acker sends its last
    deletes, does not hide it again (its last visibility call is the release)."""

    class SlowDeletes(RedriveInbox):
        async def delete(self, messages: Sequence[Message]) -> list[str]:
            await asyncio.Event().wait()  # the acker's last second runs out waiting
            return []

    inbox = SlowDeletes()
    handled, stubborn = inbox.put("handled", "stubborn")
    finished = asyncio.Event()

    async def handler(message: Message, _progress: Progress) -> list[Outcome]:
        if message.id == handled:
            return []
        try:
            await asyncio.Event().wait()
        except asyncio.CancelledError:
            await asyncio.sleep(2)  # still at it well past the stage's end
            finished.set()
            raise
        return []

    config = _config(visibility_timeout_s=1, cancel_deadline_s=0.3)
    supervisor = Supervisor(config, inbox, handler, Metrics())
    served = asyncio.create_task(supervisor.serve())
    await until(lambda: len(supervisor._in_flight) == 2, "both in hand")
    supervisor.should_exit.set()
    await asyncio.wait_for(served, 10)
    await asyncio.wait_for(finished.wait(), 5)

    calls = [timeout_s for m, timeout_s in inbox.visibility_calls if m == stubborn]
    assert calls[-1] == 0, calls


@pytest.mark.parametrize("error", [DecodeError("not JSON"), SinkUnavailableError("503")])
async def test_a_message_being_released_after_a_failure_is_not_extended_meanwhile(
    error: Exception,
) -> None:
    """While SQS takes its time answering the release of a failed message (at once for a
    permanent failure, after a backoff for a transient one), the heartbeat does not extend
    it: an extension sent after the release would hide it again for the full timeout."""

    class SlowReleases(RedriveInbox):
        def __init__(self) -> None:
            super().__init__()
            #: (receipt handle, timeout_s) of every visibility call, as sent.
            self.sent: list[tuple[str, int]] = []
            self.answered = asyncio.Event()

        async def receive(self, max_messages: int, wait_s: int, visibility_s: int) -> list[Message]:
            if self.asked:  # one delivery only: what follows concerns it alone
                self.asked.append(max_messages)
                return []
            return await super().receive(max_messages, wait_s, visibility_s)

        async def change_visibility(self, messages: Sequence[Message], timeout_s: int) -> None:
            self.sent += [(m.receipt_handle, timeout_s) for m in messages]
            if timeout_s != 1:  # the release: sent, then answered slowly
                await asyncio.sleep(1)
                self.answered.set()

    inbox = SlowReleases()
    inbox.put("failing")

    async def handler(_message: Message, _progress: Progress) -> list[Outcome]:
        await asyncio.sleep(0.6)  # old enough to be due for an extension
        raise error

    config = _config(visibility_timeout_s=1, retry_base_s=10)
    supervisor = Supervisor(config, inbox, handler, Metrics())
    served = asyncio.create_task(supervisor.serve())
    await asyncio.wait_for(inbox.answered.wait(), 5)
    supervisor.should_exit.set()
    await asyncio.wait_for(served, 10)

    release = next(i for i, (_, timeout_s) in enumerate(inbox.sent) if timeout_s != 1)
    assert inbox.sent[release + 1 :] == [], inbox.sent
