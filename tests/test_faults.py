"""Fault injection against the daemon as a process: moto's SQS with a real DLQ (redrive after 5
receives, as in production), loopback services that fail on cue. Each test asserts that no
message is lost, no ticket is duplicated, and the daemon stays alive."""

from __future__ import annotations

import signal
import time
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from daemon_harness import Daemon, Queues, make_queues, settings_for
from triage.stubs.ticketd import TicketServer


def generic(key: str, status: str = "firing") -> dict[str, Any]:
    return {"title": f"{key} failed", "source": "cron", "status": status, "dedup_key": key}


@pytest.fixture
def prod_queues(moto_url: str) -> Queues:
    """The queue with production's redrive policy: the DLQ after 5 receives."""
    return make_queues(moto_url, max_receive_count=5)


def wait_until(predicate: Any, timeout_s: float, what: str) -> None:
    deadline = time.monotonic() + timeout_s
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.2)


def test_backend_outage_of_60_s_dead_letters_nothing(
    prod_queues: Queues, backend: TicketServer, tmp_path: Path
) -> None:
    """The backend answers 503 to everything for 60 s: the sink's breaker pauses intake, the
    backend is probed without spending messages, and after recovery every incident gets exactly
    one ticket, with nothing in the DLQ and the daemon still running."""
    backend.down = True
    keys = [f"outage-{i}" for i in range(20)]
    prod_queues.send(*(generic(k) for k in keys))
    settings = settings_for(
        prod_queues,
        backend.url,
        tmp_path / "triage.db",
        concurrency=4,
        sink_breaker_failures=3,
        sink_breaker_reset_s=5,
        retry_base_s=1,
        retry_max_s=10,
    )
    daemon = Daemon(settings, log_dir=tmp_path)
    try:
        wait_until(
            lambda: any(e["event"] == "intake.paused" for e in daemon.events()),
            30,
            "intake to pause",
        )
        time.sleep(60)
        during = backend.request_count
        backend.down = False
        wait_until(lambda: len(backend.tickets) >= len(keys), 90, "every ticket after recovery")
        wait_until(lambda: prod_queues.depth() == 0, 30, "the queue to empty")
        assert daemon.process.poll() is None, "the daemon died during the outage"
        daemon.signal(signal.SIGTERM)
        assert daemon.wait(timeout=30) == 0, daemon.log
    finally:
        daemon.kill()
    posts = Counter(t["body"]["fingerprint"] for t in backend.tickets)
    assert len(posts) == len(keys) and set(posts.values()) == {1}
    assert prod_queues.dead_letters() == []
    names = [e["event"] for e in daemon.events()]
    assert "intake.resumed" in names
    assert "sink.probe_ok" in names
    # Paused, not spinning: a handful of failed POSTs before the breaker opened, no flood.
    assert during <= 8
