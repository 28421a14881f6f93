"""Red team round 8: can operators trust what triage says about itself? Each xfail here shows
one way a signal (a counter, a gauge, a log line, a health answer) says something that is not
so, and is marked xfail (strict) until the cause it names is fixed."""

from __future__ import annotations

import asyncio
import contextlib
import io
import json
from collections.abc import Callable, MutableMapping
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import structlog

from factories import alert, view
from memory_inbox import MemoryInbox
from memory_store import MemoryStore
from test_pipeline import CountingSummariser, FakeSink
from triage.breaker import BreakerState, CircuitBreaker
from triage.errors import SinkUnavailableError, StoreUnavailableError
from triage.health import Health
from triage.incidents import Ledger, Policy
from triage.incidents.silences import Matcher, Silence, SilenceCache
from triage.logs import configure_logging
from triage.metrics import Metrics
from triage.pipeline import Pipeline
from triage.redact import Redactor
from triage.settings import Settings
from triage.sinks.guard import Backpressure, GuardedSink
from triage.sqs.inbox import Message
from triage.sqs.supervisor import Supervisor, SupervisorConfig
from triage.summarise.chat import Answer
from triage.summarise.llm import LlmSummariser
from triage.tracing import Tracing

PAYLOADS = Path(__file__).parent / "payloads"
GENERIC = (PAYLOADS / "generic" / "firing.json").read_text()
POLICY = Policy()
CONFIG = SupervisorConfig(wait_s=0, retry_base_s=0, shutdown_grace_s=1)
DRY_RUN = SupervisorConfig(wait_s=0, retry_base_s=0, shutdown_grace_s=1, dry_run=True)

Logs = list[MutableMapping[str, Any]]


def _pipeline(
    store: MemoryStore,
    metrics: Metrics,
    *,
    sink: FakeSink | None = None,
    dry_run: bool = False,
    silences: SilenceCache | None = None,
) -> Pipeline:
    """A pipeline on `store` with one fake backend sink and a counting summariser."""
    return Pipeline(
        Ledger(store),
        CountingSummariser(),
        [sink or FakeSink()],
        metrics,
        redactor=Redactor(),
        policy=POLICY,
        dry_run=dry_run,
        silences=silences,
    )


async def _serve_until(supervisor: Supervisor, condition: Callable[[], bool]) -> None:
    """Run `supervisor` until `condition()` holds (10 s at most), then stop it and wait."""
    serving = asyncio.create_task(supervisor.serve())
    try:
        await _until(condition)
    finally:
        supervisor.should_exit.set()
        await asyncio.wait_for(serving, 10)


async def _until(condition: Callable[[], bool], timeout_s: float = 10.0) -> None:
    """Wait for `condition()` to hold, at most `timeout_s`."""
    async with asyncio.timeout(timeout_s):
        while not condition():
            await asyncio.sleep(0.01)


def _lines(logs: Logs, event: str) -> list[MutableMapping[str, Any]]:
    """The captured lines of `event`, in order."""
    return [e for e in logs if e["event"] == event]


# --- pipeline.py: what a dry run says it would do -----------------------------------------------


async def test_a_dry_run_says_silenced_for_an_alert_a_silence_matches() -> None:
    """`--dry-run` "takes the same decisions without a write": an alert an active silence
    matches is `silenced` in a real run, so the dry run's DryRunDecisions and its
    `alert.dry_run` line say silenced too, not `open` (an operator checking a silence with a
    dry run is told it would open a ticket, and the LLM-less summary is written for it)."""
    store = MemoryStore(POLICY)
    now = datetime.now(UTC)
    quiet = Silence.new([Matcher.parse("team=data")], now - timedelta(minutes=1),
                        now + timedelta(hours=1), "maintenance", "alice")  # fmt: skip
    await store.add_silence(quiet, now)
    silences = SilenceCache(store, max_age_s=0.0)
    message = Message("m-1", GENERIC, "rh-1", 1, now)

    dry_metrics = Metrics()
    dry = _pipeline(store, dry_metrics, dry_run=True, silences=silences)
    with structlog.testing.capture_logs() as logs:
        dry_outcomes = await dry.process(message)
    real_outcomes = await _pipeline(store, Metrics(), silences=silences).process(message)
    assert [str(o.action) for o in real_outcomes] == ["silenced"]  # the real run's decision
    assert [str(o.action) for o in dry_outcomes] == ["silenced"]
    assert dry_metrics.counter("DryRunDecisions", action="silenced") == 1
    assert [e["action"] for e in _lines(logs, "alert.dry_run")] == ["silenced"]


# --- sqs/working.py: the line of a dry run's failure -----------------------------------------


class _StoreDown(MemoryStore):
    """The in-memory store, failing every read as a store in an outage does."""

    async def get(self, key: str) -> Any:
        raise StoreUnavailableError("the store did not answer")


async def test_a_dry_runs_failure_line_names_the_alert_it_failed() -> None:
    """A dry run whose store read fails for an alert: its one failure line
    (`message.dry_run_failed`, at warning) names the alert's fingerprint and source, as
    every failure line does once an alert was reached (a real run's `message.held` does)."""
    inbox = MemoryInbox()
    inbox.put(GENERIC)
    pipeline = _pipeline(_StoreDown(POLICY), Metrics(), dry_run=True)
    supervisor = Supervisor(DRY_RUN, inbox, pipeline.process, Metrics())
    with structlog.testing.capture_logs() as logs:
        await _serve_until(supervisor, lambda: bool(_lines(logs, "message.dry_run_failed")))
    [failed] = _lines(logs, "message.dry_run_failed")
    assert failed["reason"] == "store_unavailable"  # the alert was reached, as the bug needs
    assert failed.get("fingerprint") == "0f71bd4e951738198a3c904c0023a01d"
    assert failed.get("source") == "generic"


class _BrokenSummariser(CountingSummariser):
    """A summariser with a bug: every call raises an error no error class names."""

    async def summarise(self, alert: Any) -> Any:
        raise KeyError("a bug")


async def test_a_dry_run_that_crashes_says_so_at_error_with_the_traceback() -> None:
    """A bug met by a dry run is said as a real run says one (`message.crashed`: error, with
    the traceback), not as a warning without where it happened: the dry run is how an
    operator tries a new release before it takes real work."""
    inbox = MemoryInbox()
    inbox.put(GENERIC)
    pipeline = _pipeline(MemoryStore(POLICY), Metrics(), dry_run=True)
    pipeline.summariser = _BrokenSummariser()
    supervisor = Supervisor(DRY_RUN, inbox, pipeline.process, Metrics())
    with structlog.testing.capture_logs() as logs:
        await _serve_until(supervisor, lambda: bool(_lines(logs, "message.dry_run_failed")))
    [failed] = _lines(logs, "message.dry_run_failed")
    assert failed["reason"] == "bug"  # the summariser's bug reached the line, as the bug needs
    assert failed["log_level"] == "error"
    assert "exc_info" in failed or "exception" in failed


# --- sqs/working.py: the line of a message given up on -----------------------------------------


async def test_the_dead_letter_line_of_one_alert_names_its_fingerprint() -> None:
    """A one-alert message whose sink fails on its last receive: its `message.dead_lettered`
    warning, the line an operator searches for what went to the DLQ, names the alert's
    fingerprint and source ("every line of one alert"), as its `message.retry` does."""
    inbox = MemoryInbox()
    inbox.put(GENERIC)
    pipeline = _pipeline(MemoryStore(POLICY), Metrics(), sink=FakeSink(failures=1))
    supervisor = Supervisor(CONFIG, inbox, pipeline.process, Metrics())
    supervisor.max_receive_count = 1
    with structlog.testing.capture_logs() as logs:
        await _serve_until(supervisor, lambda: bool(_lines(logs, "message.dead_lettered")))
    [retry] = _lines(logs, "message.retry")
    [dead] = _lines(logs, "message.dead_lettered")
    assert retry["fingerprint"] == "0f71bd4e951738198a3c904c0023a01d"  # the alert was reached
    assert dead.get("fingerprint") == retry["fingerprint"]
    assert dead.get("source") == "generic"


# --- summarise/llm.py: the model's calls ------------------------------------------------------


class _ContextThenAnswer:
    """A chat model whose first answer is cut off by its context window (`stop` "context",
    tokens billed) and whose second, to the shortened prompt, is a whole ticket."""

    provider = "openai"
    model = "gpt-test"

    def __init__(self) -> None:
        self.calls = 0

    async def complete(self, system: str, user: str, timeout_s: float) -> Answer:
        self.calls += 1
        if self.calls == 1:
            return Answer("{", stop="context", prompt_tokens=9000, completion_tokens=1)
        ticket = {
            "title": "Nightly backup of orders-db failed",
            "priority": "medium",
            "description": "The nightly backup failed.",
            "steps": ["Check the backup job's log"],
        }
        return Answer(json.dumps(ticket), prompt_tokens=2000, completion_tokens=40)

    async def aclose(self) -> None:
        return None


async def test_a_call_the_context_window_cut_off_counts_in_llm_calls() -> None:
    """A summary that took two requests (the first cut off by the model's context window,
    asked again shortened) is two `LLMCalls`, as `LLMLatency` counts two calls and the
    tokens of both are billed: one uncounted call hides every context-window failure from
    the dashboard's outcomes and from the summarisation-failures alarm's denominator."""
    metrics = Metrics()
    model = _ContextThenAnswer()
    summariser = LlmSummariser(
        Settings(openai_api_key="sk-" + "x" * 40), model=model, metrics=metrics
    )
    await summariser.summarise(view(alert()))
    [(_, latency)] = [(k, t) for k, t in metrics.timings().items() if k[0] == "LLMLatency"]
    assert model.calls == 2 and latency.count == 2  # two requests, as the bug needs
    assert metrics.total("LLMCalls") == 2


# --- sinks/guard.py and sqs/receiving.py: readiness while every slot is held ------------------


class _DownBackend(FakeSink):
    """A backend that is down: every call fails, and so does its own probe (the OPTIONS the
    real backend sink sends), so its breaker opens at its first failure."""

    async def apply(self, effect: Any) -> Any:
        raise SinkUnavailableError("backend answered 503")

    async def probe(self) -> None:
        raise SinkUnavailableError("backend probe answered 503")


async def test_readiness_says_the_backend_breaker_is_open_while_its_messages_fill_every_slot() -> (
    None
):
    """The backend's breaker opens and the messages it holds fill every worker slot: /readyz
    must say `breaker:backend` open (503) while it is, however busy the slots are; intake is
    paused and the load balancer must take the replica out, not keep it as ready."""
    inbox = MemoryInbox()
    inbox.put(GENERIC)
    health = Health()
    breaker = CircuitBreaker("sink:backend", failure_threshold=5, reset_s=60)
    guard = GuardedSink(_DownBackend(), breaker)
    backpressure = Backpressure([guard], health)
    pipeline = _pipeline(MemoryStore(POLICY), Metrics())
    pipeline.sinks = {guard.name: guard}
    config = SupervisorConfig(wait_s=0, retry_base_s=0, shutdown_grace_s=0.5, concurrency=1)
    supervisor = Supervisor(
        config,
        inbox,
        pipeline.process,
        Metrics(),
        health=health,
        intake_limit=backpressure.intake_limit,
    )
    supervisor.TURN_S = 0.05  # the receive loop turns often: it has every chance to look
    serving = asyncio.create_task(supervisor.serve())
    try:
        await _until(lambda: breaker.state is BreakerState.OPEN and supervisor.stats.held == 1)
        with contextlib.suppress(TimeoutError):
            await _until(lambda: not health.ready, timeout_s=2.0)
        readiness = health.readiness()
    finally:
        supervisor.should_exit.set()
        await asyncio.wait_for(serving, 10)
        await backpressure.aclose()
    assert breaker.state is BreakerState.OPEN  # still open when readiness was read
    assert readiness["ready"] is False
    assert readiness["failing"] == {"breaker:backend": "open"}


# --- tracing.py: the gateway's line that turns tracing on --------------------------------------


def test_the_gateways_tracing_line_keeps_the_service_every_line_carries(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """`service` is `triage` on every line, the gateway's too (the README's field table): a
    log query on it finds the gateway's `tracing.enabled` line, which must not put its
    tracer's name (`triage-ingest`) in that field."""
    monkeypatch.setenv("OTEL_EXPORTER_OTLP_ENDPOINT", "http://127.0.0.1:4318")
    stream = io.StringIO()
    configure_logging("json", "info", stream)
    tracing = Tracing.from_environment("triage-ingest")
    try:
        lines = [json.loads(line) for line in stream.getvalue().splitlines()]
    finally:
        tracing.shutdown()
    [enabled] = [line for line in lines if line["event"] == "tracing.enabled"]
    assert tracing.enabled  # the exporter was made, as the bug needs
    assert enabled["service"] == "triage"
