"""Signals round 14 (helper 592): a pause of intake is a series an alarm can read
(`IntakePausedDuration`), and one pause, however many times its message is held anew, is one
`intake.paused` line and one `intake.resumed` line, never a pair per hold."""

from __future__ import annotations

import asyncio
import io
import json
from typing import Any

import structlog

from memory_inbox import MemoryInbox
from test_signals_faults import until
from triage.errors import SinkThrottledError
from triage.incidents.lifecycle import Outcome
from triage.metrics import Metrics
from triage.ops.metrics_export import EmfExporter
from triage.ops.prometheus import prometheus_text
from triage.sqs.inbox import Message
from triage.sqs.supervisor import Progress, Supervisor, SupervisorConfig


def _waiting(waits: list[float]) -> Any:
    """A handler whose service says wait (a 429 with Retry-After) once per entry of `waits`,
    then lets every message through."""

    async def handler(message: Message, _progress: Progress) -> list[Outcome]:
        if waits:
            raise SinkThrottledError("backend answered 429", retry_after_s=waits.pop())
        return []

    return handler


def _pause_lines(logs: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [e for e in logs if e["event"] in {"intake.paused", "intake.resumed"}]


async def test_a_wait_said_again_at_every_retry_is_one_pause_in_the_log() -> None:
    """A service that says "wait a moment" six times in a row to the same message is one
    pause: one `intake.paused` when it starts and one `intake.resumed` when it ends, with how
    long it lasted and how many holds it took, both at info (not six pairs: a 1 s
    Retry-After for an hour was ~7,200 lines)."""
    inbox = MemoryInbox()
    inbox.put("b")
    cfg = SupervisorConfig(wait_s=0, shutdown_grace_s=1, max_hold_s=60)
    supervisor = Supervisor(cfg, inbox, _waiting([0.2] * 6), Metrics())
    supervisor.PAUSE_GAP_S = 0.5
    with structlog.testing.capture_logs() as logs:
        serving = asyncio.create_task(supervisor.serve())
        try:
            await until(lambda: inbox.deleted == ["m0"])
            await until(lambda: "intake.resumed" in {e["event"] for e in logs})
        finally:
            supervisor.should_exit.set()
            await serving
    assert len(_pause_lines(logs)) == 2
    paused, resumed = _pause_lines(logs)
    assert paused["event"] == "intake.paused" and paused["log_level"] == "info"
    assert resumed["event"] == "intake.resumed" and resumed["log_level"] == "info"
    assert resumed["holds"] == 6
    assert resumed["paused_s"] >= 1.0  # six waits of 0.2 s, one pause
    assert supervisor.stats.held == 6


async def test_a_new_pause_after_the_last_one_ended_is_said_again() -> None:
    """Guard: a pause that starts well after the last one ended (longer than PAUSE_GAP_S) is a
    new one: the first pause's `intake.resumed` comes first, then the new pause's own
    `intake.paused` line, never swallowed as a continuation."""
    inbox = MemoryInbox()
    inbox.put("b")
    waits = [0.02, 0.02]
    cfg = SupervisorConfig(wait_s=0, shutdown_grace_s=1, max_hold_s=60)
    supervisor = Supervisor(cfg, inbox, _waiting(waits), Metrics())
    supervisor.PAUSE_GAP_S = 0.1
    with structlog.testing.capture_logs() as logs:
        serving = asyncio.create_task(supervisor.serve())
        try:
            await until(lambda: inbox.deleted == ["m0"])
            await until(lambda: len(_pause_lines(logs)) == 2)
            waits.append(0.02)
            inbox.put("b")
            await until(lambda: len(inbox.deleted) == 2)
            await until(lambda: len(_pause_lines(logs)) == 4)
        finally:
            supervisor.should_exit.set()
            await serving
    lines = _pause_lines(logs)
    assert [e["event"] for e in lines] == ["intake.paused", "intake.resumed"] * 2
    assert [lines[1]["holds"], lines[3]["holds"]] == [2, 1]


async def test_a_pause_ended_just_before_the_stop_is_still_said_to_end() -> None:
    """Guard: a daemon stopped within PAUSE_GAP_S of a pause's end (its resume not yet sure
    to be one) still says `intake.resumed` before it stops: no pause is left open in the log."""
    inbox = MemoryInbox()
    inbox.put("b")
    cfg = SupervisorConfig(wait_s=0, shutdown_grace_s=1, max_hold_s=60)
    supervisor = Supervisor(cfg, inbox, _waiting([0.02]), Metrics())
    supervisor.PAUSE_GAP_S = 3600
    with structlog.testing.capture_logs() as logs:
        serving = asyncio.create_task(supervisor.serve())
        try:
            await until(lambda: inbox.deleted == ["m0"])
        finally:
            supervisor.should_exit.set()
            await serving
    assert [e["event"] for e in _pause_lines(logs)] == ["intake.paused", "intake.resumed"]


async def test_intake_paused_duration_is_a_gauge_an_alarm_can_compare() -> None:
    """`IntakePausedDuration` (Prometheus `triage_intake_paused_duration_seconds`) says how
    long intake has been paused, across the held message's retries, on /metrics and in EMF: 0
    before, growing while a service keeps saying wait, and 0 again once the pause is over."""
    inbox = MemoryInbox()
    inbox.put("b")
    metrics = Metrics()
    cfg = SupervisorConfig(wait_s=0, shutdown_grace_s=1, max_hold_s=60)
    supervisor = Supervisor(cfg, inbox, _waiting([0.05] * 6), metrics)
    supervisor.PAUSE_GAP_S = 0.2

    def paused_s() -> float:
        return metrics.gauges()[("IntakePausedDuration", ())].value

    assert paused_s() == 0
    serving = asyncio.create_task(supervisor.serve())
    try:
        await until(lambda: supervisor.stats.held >= 3)
        assert paused_s() > 0
        await until(lambda: paused_s() >= 0.12)  # more than one hold's wait: one pause
        text = prometheus_text(metrics)
        assert "# TYPE triage_intake_paused_duration_seconds gauge" in text
        emf = io.StringIO()
        EmfExporter(metrics, "Triage", emf).flush()
        [doc] = [json.loads(line) for line in emf.getvalue().splitlines() if "Intake" in line]
        assert doc["IntakePausedDuration"] > 0
        await until(lambda: inbox.deleted == ["m0"])
        await until(lambda: paused_s() == 0)
    finally:
        supervisor.should_exit.set()
        await serving
