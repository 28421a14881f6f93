"""Round 8 signals, beyond the red team's own tests: the dead-letter line names its alert on
every path a message leaves by (a failed delete, a stop that cut its work short), /readyz
follows a sink's breaker back to closed while a held message fills every slot, and the
gateway's `tracing.enabled` line names the service its spans are exported as."""

from __future__ import annotations

import asyncio
import io
import json
from collections.abc import Callable, MutableMapping, Sequence
from pathlib import Path
from typing import Any

import pytest
import structlog

from memory_inbox import MemoryInbox
from memory_store import MemoryStore
from test_pipeline import CountingSummariser, FakeSink
from triage.breaker import BreakerState, CircuitBreaker
from triage.errors import InboxError, SinkUnavailableError
from triage.health import Health
from triage.incidents import Ledger, Policy
from triage.logs import configure_logging
from triage.metrics import Metrics
from triage.pipeline import Pipeline
from triage.redact import Redactor
from triage.sinks.guard import Backpressure, GuardedSink
from triage.sqs.inbox import Message
from triage.sqs.supervisor import Supervisor, SupervisorConfig
from triage.tracing import Tracing

GENERIC = (Path(__file__).parent / "payloads" / "generic" / "firing.json").read_text()
FINGERPRINT = "0f71bd4e951738198a3c904c0023a01d"
POLICY = Policy()

Logs = list[MutableMapping[str, Any]]


def _pipeline(sink: Any) -> Pipeline:
    """A pipeline on an in-memory store with one sink and a counting summariser."""
    return Pipeline(
        Ledger(MemoryStore(POLICY)),
        CountingSummariser(),
        [sink],
        Metrics(),
        redactor=Redactor(),
        policy=POLICY,
    )


async def _until(condition: Callable[[], bool], timeout_s: float = 10.0) -> None:
    """Wait for `condition()` to hold, at most `timeout_s`."""
    async with asyncio.timeout(timeout_s):
        while not condition():
            await asyncio.sleep(0.01)


def _lines(logs: Logs, event: str) -> list[MutableMapping[str, Any]]:
    """The captured lines of `event`, in order."""
    return [e for e in logs if e["event"] == event]


class _DeleteFails(MemoryInbox):
    """A queue whose every delete fails, as SQS in an outage does."""

    async def delete(self, messages: Sequence[Message]) -> list[str]:
        raise InboxError("delete failed: connection reset")


async def test_a_message_whose_delete_failed_on_its_last_receive_names_its_alert() -> None:
    """A one-alert message handled but not deleted on its last receive: its
    `message.dead_lettered` line (reason `delete`) names the alert's fingerprint, as its
    `message.not_deleted` line does."""
    inbox = _DeleteFails()
    inbox.put(GENERIC)
    config = SupervisorConfig(wait_s=0, retry_base_s=0, shutdown_grace_s=1)
    supervisor = Supervisor(config, inbox, _pipeline(FakeSink()).process, Metrics())
    supervisor.max_receive_count = 1
    with structlog.testing.capture_logs() as logs:
        serving = asyncio.create_task(supervisor.serve())
        try:
            await _until(lambda: bool(_lines(logs, "message.dead_lettered")))
        finally:
            supervisor.should_exit.set()
            await asyncio.wait_for(serving, 10)
    [dead] = _lines(logs, "message.dead_lettered")
    assert dead["reason"] == "delete"
    assert dead.get("fingerprint") == FINGERPRINT


class _StuckSink(FakeSink):
    """A backend whose call never answers: says when it was called, then waits for ever."""

    def __init__(self) -> None:
        super().__init__()
        self.called = asyncio.Event()

    async def apply(self, effect: Any) -> Any:
        self.called.set()
        await asyncio.Event().wait()


async def test_a_stop_that_cuts_an_alerts_work_short_on_its_last_receive_names_the_alert() -> None:
    """A stop past its grace cancels a message stuck in its sink on its last receive: the
    `message.dead_lettered` line (reason `shutdown`) names the alert whose work was cut off."""
    inbox = MemoryInbox()
    inbox.put(GENERIC)
    sink = _StuckSink()
    config = SupervisorConfig(wait_s=0, retry_base_s=0, shutdown_grace_s=0.1)
    supervisor = Supervisor(config, inbox, _pipeline(sink).process, Metrics())
    supervisor.max_receive_count = 1
    with structlog.testing.capture_logs() as logs:
        serving = asyncio.create_task(supervisor.serve())
        try:
            await asyncio.wait_for(sink.called.wait(), 10)
        finally:
            supervisor.should_exit.set()
            await asyncio.wait_for(serving, 10)
    [dead] = _lines(logs, "message.dead_lettered")
    assert dead["reason"] == "shutdown"
    assert dead.get("fingerprint") == FINGERPRINT
    assert dead.get("source") == "generic"


class _BackendComingBack(FakeSink):
    """A backend that is down (its calls and its probe fail) until `up` is set; once up, its
    probe answers and its calls wait on `gate`, so the message holds its slot."""

    def __init__(self) -> None:
        super().__init__()
        self.up = False
        self.gate = asyncio.Event()

    async def apply(self, effect: Any) -> Any:
        if not self.up:
            raise SinkUnavailableError("backend answered 503")
        return await super().apply(effect)

    async def probe(self) -> None:
        if not self.up:
            raise SinkUnavailableError("backend probe answered 503")


async def test_readiness_turns_ready_when_the_breaker_closes_while_every_slot_is_held() -> None:
    """The backend's breaker opens with its one message filling the only slot, then its probe
    finds it back: /readyz says ready as soon as the breaker closes, though the slot is still
    held (the message's call is slow), not only once a slot frees."""
    inbox = MemoryInbox()
    inbox.put(GENERIC)
    health = Health()
    breaker = CircuitBreaker("sink:backend", failure_threshold=5, reset_s=0.2)
    backend = _BackendComingBack()
    guard = GuardedSink(backend, breaker)
    backpressure = Backpressure([guard], health)
    pipeline = _pipeline(guard)
    config = SupervisorConfig(wait_s=0, retry_base_s=0, shutdown_grace_s=0.5, concurrency=1)
    supervisor = Supervisor(
        config,
        inbox,
        pipeline.process,
        Metrics(),
        health=health,
        intake_limit=backpressure.intake_limit,
    )
    supervisor.TURN_S = 0.05
    serving = asyncio.create_task(supervisor.serve())
    try:
        await _until(lambda: breaker.state is not BreakerState.CLOSED and not health.ready)
        backend.up = True
        await _until(lambda: breaker.state is BreakerState.CLOSED)
        await _until(lambda: health.ready, timeout_s=2.0)
        assert supervisor.stats.acked == 0  # the slot was still held when it said ready
    finally:
        backend.gate.set()
        supervisor.should_exit.set()
        await asyncio.wait_for(serving, 10)
        await backpressure.aclose()


def test_the_tracing_line_names_the_service_the_spans_are_exported_as(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """`tracing.enabled` says under `otel_service` the name the spans carry, which
    `OTEL_SERVICE_NAME` overrides, and leaves `service` as every line has it."""
    monkeypatch.setenv("OTEL_EXPORTER_OTLP_ENDPOINT", "http://127.0.0.1:4318")
    monkeypatch.setenv("OTEL_SERVICE_NAME", "alerts-gateway")
    stream = io.StringIO()
    configure_logging("json", "info", stream)
    tracing = Tracing.from_environment("triage-ingest")
    try:
        lines = [json.loads(line) for line in stream.getvalue().splitlines()]
    finally:
        tracing.shutdown()
    [enabled] = [line for line in lines if line["event"] == "tracing.enabled"]
    assert enabled["service"] == "triage"
    assert enabled["otel_service"] == "alerts-gateway"
