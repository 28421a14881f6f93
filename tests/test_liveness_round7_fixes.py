"""Round 7's liveness fixes: a receive backoff is waited out in turns that each check in with
/healthz, yet a receive that truly hangs is still called stalled; and a signal ignored at start
(`nohup`'s SIGHUP) stays ignored by the daemon and the ingest gateway, while the stop signals
not ignored are still handled."""

from __future__ import annotations

import asyncio
import signal
import time
from collections.abc import Callable, Iterator

import pytest

from memory_inbox import MemoryInbox
from triage.errors import InboxError
from triage.health import Health
from triage.incidents.lifecycle import Outcome
from triage.ingest.service import IngestService
from triage.metrics import Metrics
from triage.settings import Settings
from triage.sqs.inbox import Message
from triage.sqs.supervisor import Supervisor, SupervisorConfig

#: The long poll the tests' supervisors are configured with.
WAIT_S = 20


class _HandClock:
    """A monotonic clock moved by hand, for the health's beats."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


class _FailingThenHangingInbox(MemoryInbox):
    """SQS down for the first receive, then a receive that never answers (a loop truly stuck);
    records when each receive was asked (`time.monotonic()`)."""

    def __init__(self) -> None:
        super().__init__()
        self.asked_at: list[float] = []

    async def receive(self, max_messages: int, wait_s: int, visibility_s: int) -> list[Message]:
        self.asked_at.append(time.monotonic())
        if len(self.asked_at) == 1:
            raise InboxError("receive failed: ServiceUnavailable")
        await asyncio.Event().wait()  # hangs until cancelled
        return []


async def _no_work(message: Message, _progress: object) -> list[Outcome]:
    return []


async def _until(condition: Callable[[], object], deadline_s: float = 10.0) -> None:
    """Turn the loop until `condition()` holds; TimeoutError past `deadline_s`."""
    async with asyncio.timeout(deadline_s):
        while not condition():
            await asyncio.sleep(0.005)


def _supervisor(inbox: MemoryInbox, health: Health, retry_s: float) -> Supervisor:
    settings = SupervisorConfig(
        wait_s=WAIT_S, drain=False, receive_retry_base_s=retry_s, receive_retry_max_s=retry_s
    )
    return Supervisor(settings, inbox, _no_work, Metrics(), health=health)


async def test_a_receive_backoff_ends_when_configured_and_a_hung_receive_is_still_stalled(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Waiting in short turns does not cut the backoff short (the next receive is asked no
    sooner than the failure said), and once that receive hangs past the beat's promise,
    /healthz still says intake is stalled: the turns excuse a wait, never a stuck loop."""
    monkeypatch.setattr(Supervisor, "TURN_S", 0.01)
    inbox, clock = _FailingThenHangingInbox(), _HandClock()
    health = Health(clock=clock)
    supervisor = _supervisor(inbox, health, retry_s=0.3)
    serving = asyncio.create_task(supervisor.serve())
    try:
        await _until(lambda: len(inbox.asked_at) == 1 and "queue" in health.failing())
        retry_at = supervisor._receive_after
        await _until(lambda: len(inbox.asked_at) == 2)
        assert inbox.asked_at[1] >= retry_at
        assert health.stalled() == []
        clock.now += WAIT_S + Supervisor.BEAT_SLACK_S + 1
        assert health.stalled() == ["intake"]
    finally:
        supervisor.handle_exit(signal.SIGTERM)
        await serving


async def test_each_turn_of_a_long_backoff_checks_in_with_healthz(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """In a backoff many beats long, every time the beat's promise passes the loop has checked
    in again: intake is never said stalled while it only waits, however long the wait."""
    monkeypatch.setattr(Supervisor, "TURN_S", 0.01)
    inbox, clock = _FailingThenHangingInbox(), _HandClock()
    health = Health(clock=clock)
    supervisor = _supervisor(inbox, health, retry_s=3600.0)
    serving = asyncio.create_task(supervisor.serve())
    try:
        await _until(lambda: len(inbox.asked_at) == 1 and "queue" in health.failing())
        for _ in range(3):
            clock.now += WAIT_S + Supervisor.BEAT_SLACK_S + 1
            await _until(lambda: not health.stalled())
        assert len(inbox.asked_at) == 1  # still in its backoff
    finally:
        supervisor.handle_exit(signal.SIGTERM)
        await serving


# --- Signals ignored at start -----------------------------------------------------------------


@pytest.fixture
def hangup_ignored() -> Iterator[None]:
    """SIGHUP ignored, as `nohup` starts a program; the disposition before is restored after."""
    before = signal.signal(signal.SIGHUP, signal.SIG_IGN)
    try:
        yield
    finally:
        signal.signal(signal.SIGHUP, before)


@pytest.fixture
def hangup_default() -> Iterator[None]:
    """SIGHUP at its default, as a program started from a terminal has it."""
    before = signal.signal(signal.SIGHUP, signal.SIG_DFL)
    try:
        yield
    finally:
        signal.signal(signal.SIGHUP, before)


def _gateway() -> IngestService:
    return IngestService(Settings(queue_url="http://127.0.0.1:9/000000000000/q"))


@pytest.mark.usefixtures("hangup_ignored", "sigint_not_ignored")
async def test_the_daemon_leaves_an_ignored_sighup_ignored() -> None:
    """Started under `nohup`, the daemon handles SIGTERM and SIGINT but not SIGHUP, which stays
    ignored: the terminal closing does not stop it."""
    supervisor = _supervisor(MemoryInbox(), Health(), retry_s=1.0)
    supervisor._install_signal_handlers()
    try:
        assert supervisor._signals == [signal.SIGTERM, signal.SIGINT]
        assert signal.getsignal(signal.SIGHUP) is signal.SIG_IGN
    finally:
        supervisor._remove_signal_handlers()
    assert signal.getsignal(signal.SIGHUP) is signal.SIG_IGN


@pytest.mark.usefixtures("hangup_default", "sigint_not_ignored")
async def test_the_daemon_still_stops_on_sighup_from_a_terminal() -> None:
    """Started from a terminal (SIGHUP not ignored), the daemon still stops cleanly on it."""
    supervisor = _supervisor(MemoryInbox(), Health(), retry_s=1.0)
    supervisor._install_signal_handlers()
    try:
        assert supervisor._signals == [signal.SIGTERM, signal.SIGINT, signal.SIGHUP]
    finally:
        supervisor._remove_signal_handlers()


@pytest.mark.usefixtures("hangup_ignored", "sigint_not_ignored")
async def test_the_ingest_gateway_leaves_an_ignored_sighup_ignored() -> None:
    """`nohup triage ingest &` keeps its gateway when the terminal closes: SIGHUP stays
    ignored, SIGTERM and SIGINT still stop it."""
    gateway = _gateway()
    gateway._install_signal_handlers()
    try:
        assert gateway._signals == [signal.SIGTERM, signal.SIGINT]
        assert signal.getsignal(signal.SIGHUP) is signal.SIG_IGN
    finally:
        gateway._remove_signal_handlers()


@pytest.mark.usefixtures("hangup_default", "sigint_not_ignored")
async def test_the_ingest_gateway_still_stops_on_sighup_from_a_terminal() -> None:
    """Started from a terminal, the ingest gateway still stops cleanly on SIGHUP."""
    gateway = _gateway()
    gateway._install_signal_handlers()
    try:
        assert gateway._signals == [signal.SIGTERM, signal.SIGINT, signal.SIGHUP]
    finally:
        gateway._remove_signal_handlers()
