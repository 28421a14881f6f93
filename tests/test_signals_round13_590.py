"""Signals round 13 (helper 590): what triage says about a message's failure is what happened,
and its gauges, counters and health follow the truth after failures, not only the happy path."""

from __future__ import annotations

import asyncio

import structlog

from memory_inbox import MemoryInbox
from test_signals_faults import until
from triage.incidents.lifecycle import Outcome
from triage.metrics import Metrics
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
