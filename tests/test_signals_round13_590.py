"""Signals round 13 (helper 590): the line that says why a message failed says what happened (a
timeout the work raised is not the message's deadline), and /readyz is not ready while no
message can move (receives refused, the process out of descriptors, intake held by waits),
yet never for a single short wait."""

from __future__ import annotations

import asyncio
import errno
from collections.abc import Sequence

import pytest
import structlog
from botocore.exceptions import ClientError

from memory_inbox import MemoryInbox
from test_signals_faults import until
from triage.errors import InboxError, SinkThrottledError
from triage.health import Health
from triage.incidents.lifecycle import Outcome
from triage.metrics import Metrics
from triage.sqs import working
from triage.sqs.acker import Acker
from triage.sqs.inbox import Message
from triage.sqs.supervisor import Progress, Supervisor, SupervisorConfig


async def test_a_timeout_the_handler_raises_itself_is_not_said_as_the_message_deadline() -> None:
    """A TimeoutError a library raised inside the work, long before the message's own deadline,
    is logged as the bug it is (message.crashed, its own text and traceback), not as "no
    progress for 120 s" under reason timeout, which sent an operator to look for a hang."""
    inbox = MemoryInbox()
    inbox.put("b")

    async def handler(message: Message, _progress: Progress) -> list[Outcome]:
        raise TimeoutError("connect to 10.0.0.1:443 timed out")

    cfg = SupervisorConfig(wait_s=0, retry_base_s=1000, shutdown_grace_s=1)
    metrics = Metrics()
    supervisor = Supervisor(cfg, inbox, handler, metrics)
    with structlog.testing.capture_logs() as logs:
        serving = asyncio.create_task(supervisor.serve())
        await until(lambda: supervisor.stats.retried == 1)
        supervisor.should_exit.set()
        await serving
    [line] = [e for e in logs if e["event"] in {"message.retry", "message.crashed"}]
    assert line["event"] == "message.crashed" and line["log_level"] == "error"
    assert line["reason"] == "bug"
    assert "10.0.0.1:443 timed out" in line["error"]
    assert "no progress" not in line["error"]
    assert line["exc_info"] is not None
    assert metrics.counter("MessagesFailed", reason="bug") == 1
    assert metrics.counter("MessagesFailed", reason="timeout") == 0


async def test_a_message_past_its_deadline_is_still_said_as_a_timeout() -> None:
    """A handler that makes no progress for message_timeout_s is cut off and said once as
    message.retry with reason timeout and "no progress for …" (the deadline's own words)."""
    inbox = MemoryInbox()
    inbox.put("b")

    async def handler(message: Message, _progress: Progress) -> list[Outcome]:
        await asyncio.Event().wait()
        raise AssertionError("never")

    cfg = SupervisorConfig(wait_s=0, retry_base_s=1000, shutdown_grace_s=1, message_timeout_s=0.05)
    metrics = Metrics()
    supervisor = Supervisor(cfg, inbox, handler, metrics)
    with structlog.testing.capture_logs() as logs:
        serving = asyncio.create_task(supervisor.serve())
        await until(lambda: supervisor.stats.retried == 1)
        supervisor.should_exit.set()
        await serving
    [line] = [e for e in logs if e["event"] in {"message.retry", "message.crashed"}]
    assert line["event"] == "message.retry" and line["reason"] == "timeout"
    assert line["error"].startswith("no progress for")
    assert metrics.counter("MessagesFailed", reason="timeout") == 1


class _ReceivesRefused(MemoryInbox):
    """The in-memory queue, but ReceiveMessage fails as the SQS inbox says it, with `code`
    (AccessDenied: the role lacks sqs:ReceiveMessage; the queue deleted), until `allow`."""

    def __init__(self, code: str) -> None:
        super().__init__()
        self.code = code
        self.allow = False

    async def receive(self, max_messages: int, wait_s: int, visibility_s: int) -> list[Message]:
        if not self.allow:
            error = {"Error": {"Code": self.code, "Message": "not allowed"}}
            cause = ClientError(error, "ReceiveMessage")  # type: ignore[arg-type]
            raise InboxError(f"receive failed: {self.code}: not allowed") from cause
        return await super().receive(max_messages, wait_s, visibility_s)


@pytest.mark.parametrize(
    ("code", "said"),
    [
        ("AccessDenied", "refused"),
        ("AWS.SimpleQueueService.NonExistentQueue", "refused"),
        ("ServiceUnavailable", "unreachable"),
    ],
)
async def test_receives_refused_as_not_allowed_read_refused_in_readyz(code: str, said: str) -> None:
    """A receive SQS refuses as not allowed (AccessDenied, the queue gone) makes /readyz name
    the queue `refused`, as a refused delete or send does, not `unreachable`: SQS answered,
    and the fix is the role or the queue, not the network. A receive failing otherwise stays
    `unreachable`; a receive that works again makes the daemon ready."""
    inbox = _ReceivesRefused(code)

    async def handler(message: Message, _progress: Progress) -> list[Outcome]:
        return []

    cfg = SupervisorConfig(
        wait_s=0, shutdown_grace_s=1, receive_retry_base_s=0.01, receive_retry_max_s=0.01
    )
    supervisor = Supervisor(cfg, inbox, handler, Metrics())
    serving = asyncio.create_task(supervisor.serve())
    try:
        await until(lambda: not supervisor.health.ready)
        assert supervisor.health.readiness()["failing"] == {"queue": said}
        inbox.allow = True
        await until(lambda: supervisor.health.ready)
    finally:
        supervisor.should_exit.set()
        await serving


async def test_a_process_out_of_file_descriptors_is_not_ready_until_a_message_gets_through(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Work failing because the process ran out of file descriptors (EMFILE) holds every
    message and pauses intake: nothing can move, so /readyz names `process: out_of_files`
    (503) from the first such failure, across the hold's retries, and is ready again once a
    message gets past it (descriptors freed)."""
    inbox = MemoryInbox()
    inbox.put("b")
    failures = 2
    readiness: list[dict[str, object]] = []
    monkeypatch.setattr(working, "PROCESS_LIMIT_WAIT_S", 0.3)

    async def handler(message: Message, _progress: Progress) -> list[Outcome]:
        nonlocal failures
        if failures:
            failures -= 1
            raise OSError(errno.EMFILE, "Too many open files")
        return []

    cfg = SupervisorConfig(wait_s=0, shutdown_grace_s=1, max_hold_s=60)
    supervisor = Supervisor(cfg, inbox, handler, Metrics())
    serving = asyncio.create_task(supervisor.serve())
    try:
        await until(lambda: supervisor.stats.held >= 1)
        readiness.append(supervisor.health.readiness())
        await until(lambda: supervisor.stats.held >= 2)
        readiness.append(supervisor.health.readiness())
        await until(lambda: inbox.deleted == ["m0"])
        await until(lambda: supervisor.health.ready)
    finally:
        supervisor.should_exit.set()
        await serving
    unready = {"ready": False, "failing": {"process": "out_of_files"}}
    assert readiness == [unready, unready]


async def test_intake_paused_by_a_service_wait_is_not_ready_once_it_lasts() -> None:
    """A service that says wait for every message (the backend's 429 with a long Retry-After,
    DynamoDB throttling the table) pauses intake: nothing moves, so once the pause has lasted
    PAUSED_UNREADY_S, across the held message's retries, /readyz names `intake: held` (503);
    until then it stays ready (a short wait is no outage), and it is ready again once a
    message gets through."""
    inbox = MemoryInbox()
    inbox.put("b")
    waits = [0.2, 0.2, 0.2]
    readiness: list[dict[str, object]] = []

    async def handler(message: Message, _progress: Progress) -> list[Outcome]:
        if waits:
            raise SinkThrottledError("backend answered 429", retry_after_s=waits.pop())
        return []

    cfg = SupervisorConfig(wait_s=0, shutdown_grace_s=1, max_hold_s=60)
    supervisor = Supervisor(cfg, inbox, handler, Metrics())
    supervisor.PAUSED_UNREADY_S = 0.3
    serving = asyncio.create_task(supervisor.serve())
    try:
        await until(lambda: supervisor.stats.held == 1)
        readiness.append(supervisor.health.readiness())
        await until(lambda: not supervisor.health.ready)
        readiness.append(supervisor.health.readiness())
        await until(lambda: inbox.deleted == ["m0"])
        await until(lambda: supervisor.health.ready)
    finally:
        supervisor.should_exit.set()
        await serving
    assert readiness == [
        {"ready": True, "failing": {}},
        {"ready": False, "failing": {"intake": "held"}},
    ]
    assert supervisor.stats.held == 3


async def test_a_wait_shorter_than_the_grace_never_flips_readiness() -> None:
    """Guard: a message held once for a wait well within PAUSED_UNREADY_S (a 429 saying one
    moment) leaves /readyz ready throughout: a single slow answer is no outage."""
    inbox = MemoryInbox()
    inbox.put("b")
    waits = [0.05]
    seen: list[bool] = []

    async def handler(message: Message, _progress: Progress) -> list[Outcome]:
        if waits:
            raise SinkThrottledError("backend answered 429", retry_after_s=waits.pop())
        return []

    cfg = SupervisorConfig(wait_s=0, shutdown_grace_s=1)
    supervisor = Supervisor(cfg, inbox, handler, Metrics())

    def done() -> bool:
        seen.append(supervisor.health.ready)
        return inbox.deleted == ["m0"]

    serving = asyncio.create_task(supervisor.serve())
    try:
        await until(done)
    finally:
        supervisor.should_exit.set()
        await serving
    assert supervisor.stats.held == 1 and all(seen)


async def test_messages_getting_through_between_waits_keep_the_daemon_ready() -> None:
    """Guard: holds that keep pausing intake while other messages still get through (a rate
    limit that lets some by) are not a daemon that takes nothing: each message handled starts
    the grace again, so /readyz stays ready while they move."""
    inbox = MemoryInbox()
    inbox.put(*["b"] * 12)
    seen: list[bool] = []
    calls = 0

    async def handler(message: Message, _progress: Progress) -> list[Outcome]:
        nonlocal calls
        calls += 1
        if calls % 2:  # every other call told to wait a little
            raise SinkThrottledError("backend answered 429", retry_after_s=0.05)
        return []

    cfg = SupervisorConfig(wait_s=0, shutdown_grace_s=1, concurrency=1)
    supervisor = Supervisor(cfg, inbox, handler, Metrics())
    supervisor.PAUSED_UNREADY_S = 0.2

    def done() -> bool:
        seen.append(supervisor.health.ready)
        return len(inbox.deleted) == 12

    serving = asyncio.create_task(supervisor.serve())
    try:
        await until(done)
    finally:
        supervisor.should_exit.set()
        await serving
    assert supervisor.stats.held >= 12 and all(seen)


async def test_a_deadline_a_library_turned_into_a_timeout_error_is_still_the_deadline() -> None:
    """Guard: work that meets the message's deadline's cancellation and raises TimeoutError in
    its place (as some libraries do) is still said as the deadline, reason timeout."""
    inbox = MemoryInbox()
    inbox.put("b")

    async def handler(message: Message, _progress: Progress) -> list[Outcome]:
        try:
            await asyncio.Event().wait()
        except asyncio.CancelledError:
            raise TimeoutError("read timed out") from None
        raise AssertionError("never")

    cfg = SupervisorConfig(wait_s=0, retry_base_s=1000, shutdown_grace_s=1, message_timeout_s=0.05)
    metrics = Metrics()
    supervisor = Supervisor(cfg, inbox, handler, metrics)
    serving = asyncio.create_task(supervisor.serve())
    try:
        await until(lambda: supervisor.stats.retried == 1)
    finally:
        supervisor.should_exit.set()
        await serving
    assert metrics.counter("MessagesFailed", reason="timeout") == 1


class _DeletesFailing(MemoryInbox):
    """The in-memory queue, but every DeleteMessageBatch call fails as an SQS outage of deletes
    alone does (ServiceUnavailable), until `allow` is set."""

    def __init__(self) -> None:
        super().__init__()
        self.allow = False

    async def delete(self, messages: Sequence[Message]) -> list[str]:
        if not self.allow:
            error = {"Error": {"Code": "ServiceUnavailable", "Message": "try later"}}
            cause = ClientError(error, "DeleteMessageBatch")  # type: ignore[arg-type]
            raise InboxError("delete failed: ServiceUnavailable: try later") from cause
        return await super().delete(messages)


def _delivery(n: int) -> Message:
    return Message(f"m-{n}", "{}", f"rh-{n}", 1, None)


async def test_deletes_failing_for_a_while_make_the_daemon_not_ready_until_one_works() -> None:
    """Every delete call failing (not refused: an outage of deletes while receives work) for
    DELETES_UNREADY_S: every message handled comes back and is handled again, none leaves the
    queue, so /readyz names `queue_deletes: failing`; ready again once a delete call works."""
    health = Health()
    inbox = _DeletesFailing()
    acker = Acker(inbox, linger_s=0, health=health)
    acker.DELETES_UNREADY_S = 0.2
    runner = asyncio.create_task(acker.run())
    n = 0
    try:
        assert await acker.delete(_delivery(n)) is False
        assert health.ready  # one failed call is no outage
        async with asyncio.timeout(10):  # a deadline, as `until` has
            while health.ready:
                n += 1
                assert await acker.delete(_delivery(n)) is False
                await asyncio.sleep(0.01)
        readiness = health.readiness()
        inbox.allow = True
        assert await acker.delete(_delivery(n + 1)) is True
    finally:
        await acker.stop()
        await asyncio.wait_for(runner, 10)
    assert readiness == {"ready": False, "failing": {"queue_deletes": "failing"}}
    assert health.ready


async def test_one_failed_delete_then_quiet_never_makes_the_daemon_unready() -> None:
    """Guard: a single failed delete call, then nothing to delete for longer than
    DELETES_UNREADY_S (an idle queue), leaves /readyz ready: one failure is no outage."""
    health = Health()
    acker = Acker(_DeletesFailing(), linger_s=0, health=health)
    acker.DELETES_UNREADY_S = 0.05
    runner = asyncio.create_task(acker.run())
    try:
        assert await acker.delete(_delivery(0)) is False
        later = asyncio.get_running_loop().time() + 0.2
        seen = []
        await until(lambda: seen.append(health.ready) or asyncio.get_running_loop().time() > later)
    finally:
        await acker.stop()
        await asyncio.wait_for(runner, 10)
    assert all(seen)
