"""Shutdown round 2 (helper 465): signals that come while a stop is already under way, or
before serving began, in real processes, and the gateway's own threads for costly bodies."""

from __future__ import annotations

import signal
import threading
import time
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from daemon_harness import Daemon, Queues, settings_for
from triage.demo.ticketd import TicketServer


def wait_until(condition: Callable[[], bool], timeout_s: float, what: str) -> None:
    """Poll `condition` until it holds; fail naming `what` at the deadline."""
    deadline = time.monotonic() + timeout_s
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.02)


def event_names(daemon: Daemon) -> list[str]:
    return [e.get("event", "") for e in daemon.events()]


class SlowCollector:
    """An OTLP/HTTP trace collector on 127.0.0.1 that holds each export's answer until the
    test releases it: the daemon's exit stack (its last step, the trace export) is then
    observably running while the test acts."""

    def __init__(self) -> None:
        self.arrived = threading.Event()
        self.release = threading.Event()
        collector = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                self.rfile.read(int(self.headers.get("Content-Length", "0")))
                collector.arrived.set()
                collector.release.wait(30)
                self.send_response(200)
                self.send_header("Content-Type", "application/x-protobuf")
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self._thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self) -> SlowCollector:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.release.set()
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def collector() -> Iterator[SlowCollector]:
    with SlowCollector() as c:
        yield c


def test_signal_during_the_exit_stack_still_ends_as_one_clean_stop(
    queues: Queues, backend: TicketServer, tmp_path: Path, collector: SlowCollector
) -> None:
    """A SIGTERM that comes while the stopped daemon exports its last spans exits 0, not 143."""
    queues.send({"title": "disk full", "source": "cron", "status": "firing", "dedup_key": "k1"})
    settings = settings_for(queues, backend.url, tmp_path / "triage.db", shutdown_grace_s=2)
    otel = {
        "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT": f"{collector.url}/v1/traces",
        # Only the stop's export sends spans: none on the processor's own schedule.
        "OTEL_BSP_SCHEDULE_DELAY": "600000",
    }
    daemon = Daemon(settings, log_dir=tmp_path, env=otel)
    try:
        wait_until(lambda: len(backend.tickets) == 1, 30, "the ticket")
        daemon.signal(signal.SIGTERM)
        wait_until(collector.arrived.is_set, 30, "the trace export at the stop")
        daemon.signal(signal.SIGTERM)  # while the exit stack waits for the collector
        wait_until(
            lambda: (
                daemon.process.poll() is not None or "daemon.signal_late" in event_names(daemon)
            ),
            10,
            "the late signal's line, or the daemon's end",
        )
        collector.release.set()
        assert daemon.wait(timeout=30) == 0, daemon.log[-3000:]
    finally:
        daemon.kill()
    names = event_names(daemon)
    assert "daemon.stopped" in names
    assert "daemon.signal_late" in names


def test_sigterm_while_start_up_reads_the_queue_is_a_clean_stop(
    backend: TicketServer, tmp_path: Path, collector: SlowCollector
) -> None:
    """SIGTERM while start-up waits for the queue's attributes exits 0 with one line saying why."""
    # The "SQS" here is the collector: it takes GetQueueAttributes and holds its answer.
    silent = Queues(collector.url, f"{collector.url}/123456789012/alerts", "")
    daemon = Daemon(settings_for(silent, backend.url, tmp_path / "triage.db"), log_dir=tmp_path)
    try:
        wait_until(collector.arrived.is_set, 30, "start-up's queue read")
        daemon.signal(signal.SIGTERM)
        assert daemon.wait(timeout=30) == 0, daemon.log[-3000:]
    finally:
        daemon.kill()
    stopped = [e for e in daemon.events() if e.get("event") == "daemon.stopped"]
    assert len(stopped) == 1
    assert stopped[0]["signal"] == "SIGTERM"
    assert "start-up" in stopped[0]["reason"]
