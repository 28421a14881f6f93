"""A message's visibility calls reach SQS in the order the daemon meant them: a release
(visible at once, or after a backoff) made while the heartbeat's extension of the same message
is still out is sent only once that extension is answered, so the extension cannot land after
it and hide the message again for the whole visibility timeout. At the stop, a message already
handled and waiting for its delete is not made visible (another replica could receive it
before the delete lands), and a stage-two release that raises is one error line, the helpers
still stopped."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence
from dataclasses import replace

import pytest
import structlog

from memory_inbox import MemoryInbox
from triage.errors import DecodeError, SinkThrottledError, SinkUnavailableError
from triage.incidents.lifecycle import Outcome
from triage.metrics import Metrics
from triage.sqs.inbox import Message
from triage.sqs.supervisor import Progress, Supervisor, SupervisorConfig

#: The heartbeat's extensions: the visibility timeout the tests run with.
EXTEND_S = 1
#: How long SQS takes to apply an extension it has taken: the window in which a release
#: sent meanwhile would arrive, and be applied, first.
EXTENSION_LATENCY_S = 0.3


async def until(condition: Callable[[], bool], what: str, timeout_s: float = 5.0) -> None:
    """Wait for `condition`, at most `timeout_s`."""
    try:
        async with asyncio.timeout(timeout_s):
            while not condition():
                await asyncio.sleep(0.01)
    except TimeoutError:
        raise AssertionError(f"timed out waiting for {what}") from None


def _config(**overrides: object) -> SupervisorConfig:
    base = SupervisorConfig(
        wait_s=0,
        retry_base_s=0,
        shutdown_grace_s=0.1,
        cancel_deadline_s=3,
        visibility_timeout_s=EXTEND_S,
    )
    return replace(base, **overrides)  # type: ignore[arg-type]


class SlowExtensions(MemoryInbox):
    """SQS whose extensions (visibility `EXTEND_S`) are applied `EXTENSION_LATENCY_S` after
    they are sent, while any other visibility call is applied as it arrives. Each message is
    delivered once, so what follows concerns that delivery alone."""

    def __init__(self) -> None:
        super().__init__()
        #: Set once an extension is out (sent, not yet applied).
        self.extending = asyncio.Event()
        #: (message id, timeout_s) of every visibility call, in the order SQS applied them.
        self.applied: list[tuple[str, int]] = []
        self._landing: set[asyncio.Future[None]] = set()

    async def receive(self, max_messages: int, wait_s: int, visibility_s: int) -> list[Message]:
        got = await super().receive(max_messages, wait_s, visibility_s)
        return [m for m in got if m.receive_count == 1]

    async def change_visibility(self, messages: Sequence[Message], timeout_s: int) -> None:
        if timeout_s == EXTEND_S and messages:
            self.extending.set()
            # Taken by SQS: applied even if the caller stops waiting for the answer.
            landing = asyncio.ensure_future(self._apply_later(messages, timeout_s))
            self._landing.add(landing)
            await asyncio.shield(landing)
            return
        await self._apply(messages, timeout_s)

    async def _apply_later(self, messages: Sequence[Message], timeout_s: int) -> None:
        await asyncio.sleep(EXTENSION_LATENCY_S)
        await self._apply(messages, timeout_s)

    async def _apply(self, messages: Sequence[Message], timeout_s: int) -> None:
        self.applied += [(m.id, timeout_s) for m in messages]
        await super().change_visibility(messages, timeout_s)

    def last_applied(self, message_id: str) -> int | None:
        calls = [timeout_s for mid, timeout_s in self.applied if mid == message_id]
        return calls[-1] if calls else None


async def _hang(_message: Message, _progress: Progress) -> list[Outcome]:
    """A handler that never finishes: only the shutdown's cancellation ends it."""
    await asyncio.Event().wait()
    return []


@pytest.mark.parametrize("error", [DecodeError("not JSON"), SinkUnavailableError("503")])
async def test_a_release_after_a_failure_lands_after_the_extension_already_out(
    error: Exception,
) -> None:
    """A message failing (permanently: visible at once; transiently: after its backoff)
    while the heartbeat's extension of it is out: the release reaches SQS after that
    extension, so the message is not hidden again for the visibility timeout."""
    inbox = SlowExtensions()
    (failing,) = inbox.put("failing")

    async def handler(_message: Message, _progress: Progress) -> list[Outcome]:
        await inbox.extending.wait()
        raise error

    supervisor = Supervisor(_config(), inbox, handler, Metrics())
    served = asyncio.create_task(supervisor.serve())
    await until(
        lambda: sum(mid == failing for mid, _ in inbox.applied) >= 2,
        "the extension and the release applied",
    )
    supervisor.should_exit.set()
    await asyncio.wait_for(served, 10)

    assert inbox.last_applied(failing) == 0, inbox.applied


async def test_the_stops_release_lands_after_the_extension_already_out() -> None:
    """A message cancelled at the stop while the heartbeat's extension of it is out: its
    release at stage two reaches SQS after that extension, so it is visible at once for
    another replica, not hidden for the visibility timeout."""
    inbox = SlowExtensions()
    (hanging,) = inbox.put("hanging")
    supervisor = Supervisor(_config(), inbox, _hang, Metrics())
    served = asyncio.create_task(supervisor.serve())
    await asyncio.wait_for(inbox.extending.wait(), 5)
    supervisor.should_exit.set()
    supervisor.force_exit.set()  # stage two at once, the extension still out
    await asyncio.wait_for(served, 10)
    await until(lambda: (hanging, EXTEND_S) in inbox.applied, "the extension applied")

    assert inbox.last_applied(hanging) == 0, inbox.applied
    assert supervisor.stats.released_on_shutdown == 1


async def test_a_dry_runs_release_lands_after_the_extension_already_out() -> None:
    """A message a dry run holds, being extended as the stop comes: its release at the stop
    reaches SQS after that extension, so it is visible at once, unchanged."""
    inbox = SlowExtensions()
    (held,) = inbox.put("held")

    async def handled(_message: Message, _progress: Progress) -> list[Outcome]:
        return []

    supervisor = Supervisor(_config(dry_run=True), inbox, handled, Metrics())
    served = asyncio.create_task(supervisor.serve())
    await asyncio.wait_for(inbox.extending.wait(), 5)
    supervisor.should_exit.set()
    await asyncio.wait_for(served, 10)
    await until(lambda: (held, EXTEND_S) in inbox.applied, "the extension applied")

    assert inbox.last_applied(held) == 0, inbox.applied


async def test_a_handled_message_waiting_for_its_delete_is_not_made_visible_at_the_stop() -> None:
    """At stage two, a message already handled whose delete is still out is left to that
    delete, not made visible (another replica could receive it before the delete lands);
    the message still being handled beside it is cancelled and made visible."""

    class SlowDeletes(MemoryInbox):
        supervisor: Supervisor

        async def delete(self, messages: Sequence[Message]) -> list[str]:
            # Lands only once stage two has given back what it cancelled.
            supervisor = self.supervisor
            await until(lambda: supervisor.stats.released_on_shutdown > 0, "stage two's release")
            return await super().delete(messages)

    inbox = SlowDeletes()
    handled, hanging = inbox.put("handled", "hanging")

    async def handler(message: Message, progress: Progress) -> list[Outcome]:
        if message.id == handled:
            return []
        return await _hang(message, progress)

    supervisor = Supervisor(_config(visibility_timeout_s=600), inbox, handler, Metrics())
    inbox.supervisor = supervisor
    served = asyncio.create_task(supervisor.serve())
    await until(lambda: len(supervisor._in_flight) == 2, "both in hand")
    await until(lambda: len(supervisor._working) == 1, "one handled, waiting for its delete")
    with structlog.testing.capture_logs() as logs:
        supervisor.should_exit.set()
        await asyncio.wait_for(served, 10)

    assert inbox.visibility_calls == [(hanging, 0)]
    assert inbox.deleted == [handled]
    assert supervisor.stats.released_on_shutdown == 1
    assert supervisor.stats.acked == 1
    assert [e["count"] for e in logs if e["event"] == "daemon.released"] == [1]


async def test_a_stage_two_release_that_raises_is_one_line_and_the_helpers_still_stop() -> None:
    """The stage-two release raising what it should not (a bug in an inbox): one error line
    names it, serve() returns after a clean stop, and every helper (heartbeat, acker, the
    caller's) is stopped rather than left running."""

    class BrokenRelease(MemoryInbox):
        async def change_visibility(self, messages: Sequence[Message], timeout_s: int) -> None:
            if timeout_s == 0:
                raise RuntimeError("the inbox's own bug")
            await super().change_visibility(messages, timeout_s)

    inbox = BrokenRelease()
    inbox.put("a", "b")
    beats: list[int] = []

    async def caller_helper() -> None:
        while True:
            beats.append(1)
            await asyncio.sleep(0.05)

    supervisor = Supervisor(
        _config(visibility_timeout_s=600),
        inbox,
        _hang,
        Metrics(),
        helpers=[("caller", caller_helper)],
    )
    served = asyncio.create_task(supervisor.serve())
    await until(lambda: len(supervisor._in_flight) == 2, "both in hand")
    with structlog.testing.capture_logs() as logs:
        supervisor.should_exit.set()
        await asyncio.wait_for(served, 10)

    failed = [e for e in logs if e["event"] == "daemon.release_failed"]
    assert [(e["count"], e["log_level"]) for e in failed] == [(2, "error")]
    assert all(task.done() for task in supervisor._helpers)
    assert sorted(supervisor._helpers.values()) == ["acker", "caller", "heartbeat"]
    assert [e["event"] for e in logs if e["event"] == "daemon.stopped"] == ["daemon.stopped"]


async def test_a_held_messages_release_at_the_stop_lands_after_the_extension_already_out() -> None:
    """A message held through a throttle, being extended as the stop comes: its release for
    what is left of the wait reaches SQS after that extension, not before it."""
    inbox = SlowExtensions()
    (held,) = inbox.put("held")

    async def throttled(_message: Message, _progress: Progress) -> list[Outcome]:
        raise SinkThrottledError("429", retry_after_s=300)

    supervisor = Supervisor(_config(), inbox, throttled, Metrics())
    served = asyncio.create_task(supervisor.serve())
    await asyncio.wait_for(inbox.extending.wait(), 5)
    supervisor.should_exit.set()
    await asyncio.wait_for(served, 10)
    await until(lambda: (held, EXTEND_S) in inbox.applied, "the extension applied")

    assert inbox.last_applied(held) not in (None, EXTEND_S), inbox.applied


async def test_a_stage_two_release_sqs_does_not_answer_in_time_is_one_line() -> None:
    """The stage-two release of a cancelled message that SQS does not answer within the
    stage: the stop ends on time with one `daemon.release_overran` line naming how many."""

    class HangingRelease(MemoryInbox):
        async def change_visibility(self, messages: Sequence[Message], timeout_s: int) -> None:
            if timeout_s == 0:
                await asyncio.Event().wait()
            await super().change_visibility(messages, timeout_s)

    inbox = HangingRelease()
    inbox.put("a", "b")
    supervisor = Supervisor(
        _config(visibility_timeout_s=600, cancel_deadline_s=0.3), inbox, _hang, Metrics()
    )
    served = asyncio.create_task(supervisor.serve())
    await until(lambda: len(supervisor._in_flight) == 2, "both in hand")
    with structlog.testing.capture_logs() as logs:
        supervisor.should_exit.set()
        await asyncio.wait_for(served, 10)

    overran = [e for e in logs if e["event"] == "daemon.release_overran"]
    assert [(e["count"], e["log_level"]) for e in overran] == [(2, "warning")]
    assert supervisor.stats.released_on_shutdown == 2
