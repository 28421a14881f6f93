"""Shutdown round 3 (helper 477): a signal while a start-up failure unwinds, and the default
thread pool's calls that never return, for `triage run` and `triage ingest`."""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest
from structlog.testing import capture_logs

from daemon_harness import TOKEN, Queues, settings_for
from ingest_harness import ingest_settings
from triage.app import DaemonSignals, run_daemon
from triage.demo.ticketd import TicketServer
from triage.errors import ConfigError
from triage.ingest import service as ingest_service
from triage.ingest.service import IngestService, run_gateway
from triage.settings import Settings

#: How long a test waits for what it expects before failing (never asserted as a duration).
DEADLINE_S = 30.0


async def until(condition: Callable[[], bool], what: str) -> None:
    """Poll `condition` on the loop until it holds; fail naming `what` at the deadline."""
    deadline = time.monotonic() + DEADLINE_S
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        await asyncio.sleep(0.01)


def missing_queue(queues: Queues) -> Queues:
    """A queue SQS does not have: start-up refuses it (ConfigError)."""
    return Queues(queues.endpoint, f"{queues.endpoint}/123456789012/no-such-queue", "")


class Stuck:
    """A call that blocks a default-pool thread (as a getaddrinfo that never answers would)
    until the test lets it go; `returned` says whether it ever did."""

    def __init__(self) -> None:
        self.started = threading.Event()
        self.release = threading.Event()
        self.returned = False

    def __call__(self) -> None:
        self.started.set()
        self.release.wait(DEADLINE_S)
        self.returned = True


async def signal_then_wait(handled: list[str]) -> None:
    """SIGTERM to this process, then wait until the loop's handler has run."""
    seen = len(handled)
    os.kill(os.getpid(), signal.SIGTERM)
    await until(lambda: len(handled) > seen, "the signal's handler")


# --- triage run -------------------------------------------------------------------------------


def test_daemon_sigterm_while_a_start_up_failure_unwinds_keeps_the_failure(
    queues: Queues, backend: TicketServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A SIGTERM during the unwinding of a refused queue leaves the ConfigError (exit 2) standing."""
    from triage import app

    handled: list[str] = []
    real_handle = DaemonSignals.handle

    def handle(self: DaemonSignals, sig: signal.Signals) -> None:
        real_handle(self, sig)
        handled.append(sig.name)

    real_aclose = app.Aws.aclose

    async def aclose(self: Any) -> None:  # the exit stack's first await after the refusal
        await signal_then_wait(handled)
        await real_aclose(self)

    monkeypatch.setattr(DaemonSignals, "handle", handle)
    monkeypatch.setattr(app.Aws, "aclose", aclose)
    monkeypatch.setenv("BACKEND_TOKEN", TOKEN)  # the queue is the one thing refused
    settings = settings_for(missing_queue(queues), backend.url, tmp_path / "triage.db")
    with pytest.raises(ConfigError):
        asyncio.run(run_daemon(settings))
    assert handled == ["SIGTERM"]


def test_daemon_exit_leaves_a_stuck_default_pool_thread_behind(
    queues: Queues, backend: TicketServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """SIGTERM with a default-pool call that never returns: the run ends and names the call."""
    monkeypatch.setenv("BACKEND_TOKEN", TOKEN)
    queues.send({"title": "disk full", "source": "cron", "status": "firing", "dedup_key": "k1"})
    settings = settings_for(queues, backend.url, tmp_path / "triage.db", shutdown_grace_s=2)
    stuck = Stuck()

    async def main() -> None:
        daemon = asyncio.create_task(run_daemon(settings))
        await until(lambda: len(backend.tickets) == 1 or daemon.done(), "the ticket")
        asyncio.get_running_loop().run_in_executor(None, stuck)
        await until(stuck.started.is_set, "the stuck call")
        os.kill(os.getpid(), signal.SIGTERM)
        await daemon

    try:
        with capture_logs() as logs:
            asyncio.run(main())
        assert not stuck.returned, "the exit waited for the stuck call"
    finally:
        stuck.release.set()
    abandoned = [e for e in logs if e["event"] == "process.threads_abandoned"]
    assert len(abandoned) == 1, logs
    assert abandoned[0]["calls"] == [f"{__name__}.Stuck"]


def test_a_process_exits_with_a_pool_thread_stuck_for_good() -> None:
    """A real process whose default-pool call never returns still exits, with its own code."""
    code = (
        "import asyncio, sys, threading\n"
        "from triage.sqs.supervisor import ExitBoundedExecutor\n"
        "async def main():\n"
        "    loop = asyncio.get_running_loop()\n"
        "    loop.set_default_executor(ExitBoundedExecutor(exit_wait_s=0.1))\n"
        "    started = threading.Event()\n"
        "    loop.run_in_executor(None, lambda: (started.set(), threading.Event().wait()))\n"
        "    await asyncio.to_thread(started.wait)\n"
        "asyncio.run(main())\n"
        "sys.exit(3)\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=DEADLINE_S
    )
    assert done.returncode == 3, done.stderr
    assert "process.threads_abandoned" in done.stdout + done.stderr


# --- triage ingest ----------------------------------------------------------------------------


def test_gateway_sigterm_while_a_start_up_failure_unwinds_keeps_the_failure(
    queues: Queues, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A SIGTERM while the gateway unwinds a refused queue leaves the ConfigError (exit 2)."""
    handled: list[str] = []
    real_handle = IngestService.handle_exit

    def handle_exit(self: IngestService, sig: signal.Signals) -> None:
        real_handle(self, sig)
        handled.append(sig.name)

    class SignalledStack(contextlib.AsyncExitStack):
        async def aclose(self) -> None:
            await signal_then_wait(handled)
            await super().aclose()

    monkeypatch.setattr(IngestService, "handle_exit", handle_exit)
    monkeypatch.setattr(ingest_service, "AsyncExitStack", SignalledStack)
    missing = missing_queue(queues)
    with pytest.raises(ConfigError):
        asyncio.run(run_gateway(ingest_settings(missing.url, missing.endpoint)))
    assert handled == ["SIGTERM"]


def test_gateway_exit_leaves_a_stuck_default_pool_thread_behind(queues: Queues) -> None:
    """SIGTERM with a default-pool call that never returns: the gateway ends and names it."""
    settings: Settings = ingest_settings(queues.url, queues.endpoint)
    stuck = Stuck()

    async def main(run: Callable[[Settings], Awaitable[None]]) -> None:
        gateway = asyncio.create_task(run(settings))
        await until(lambda: _listening(gateway), "start-up")
        asyncio.get_running_loop().run_in_executor(None, stuck)
        await until(stuck.started.is_set, "the stuck call")
        os.kill(os.getpid(), signal.SIGTERM)
        await gateway

    started: list[IngestService] = []

    async def run(settings: Settings) -> None:
        service = IngestService(settings)
        started.append(service)
        await service.startup()
        try:
            await service.serve()
        finally:
            await service.shutdown()

    def _listening(task: asyncio.Task[None]) -> bool:
        return task.done() or (bool(started) and started[0].port != 0)

    try:
        with capture_logs() as logs:
            asyncio.run(main(run))
        assert not stuck.returned, "the exit waited for the stuck call"
    finally:
        stuck.release.set()
    abandoned = [e for e in logs if e["event"] == "process.threads_abandoned"]
    assert len(abandoned) == 1, logs
    assert abandoned[0]["calls"] == [f"{__name__}.Stuck"]
