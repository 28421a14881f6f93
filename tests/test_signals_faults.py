"""triage's own signals under faults and hostile input: readiness that follows the store and the
drain, Prometheus text that stays valid and bounded, counters that account for every message,
log lines that cannot be forged or flooded, and spans that carry no alert text."""

from __future__ import annotations

import asyncio
import io
import json
import logging
import re
import socket
import subprocess
import threading
from collections.abc import Callable
from pathlib import Path

import boto3
import httpx2
import pytest
import structlog
from botocore.config import Config
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from daemon_harness import TOKEN, Queues, settings_for
from fault_proxy import FaultProxy
from hostile_server import answer, hostile
from memory_inbox import MemoryInbox
from moto_speed import aws_session
from programs import program_or_skip
from triage.app import run_daemon
from triage.demo.ticketd import TicketServer
from triage.errors import StoreUnavailableError
from triage.incidents.lifecycle import Action, Outcome
from triage.logs import RepeatFilter, configure_logging
from triage.metrics import MAX_LABEL_VALUES, OTHER, Metrics
from triage.ops.endpoints import EndpointServer
from triage.ops.gauges import MeteredBudgets
from triage.ops.metrics_export import EmfExporter, PutMetricDataExporter, flush_every
from triage.ops.prometheus import prometheus_text
from triage.ratelimit import Budget, LocalBudgets
from triage.sqs.inbox import Message
from triage.sqs.supervisor import Progress, Supervisor, SupervisorConfig
from triage.tracing import Tracing


async def until(condition: Callable[[], bool], timeout_s: float = 10.0) -> None:
    """Wait for `condition` with a deadline (never a fixed sleep)."""
    async with asyncio.timeout(timeout_s):
        while not condition():
            await asyncio.sleep(0.005)


def quick(supervisor: Supervisor) -> Supervisor:
    """Holds and store probes in milliseconds, so an outage plays out at once."""
    supervisor.DEFAULT_HOLD_S = 0.01
    supervisor.STORE_HOLD_MAX_S = 0.02
    supervisor.STORE_PROBE_S = 0.01
    return supervisor


# --- Readiness ------------------------------------------------------------------------------


async def test_readiness_comes_back_with_the_store_when_no_message_follows() -> None:
    """A store outage that outlasts the hold releases the message; once the store answers
    again, the probe makes /readyz ready with no traffic at all, and says so in one line."""
    inbox = MemoryInbox()
    inbox.put("b")
    down = True

    async def handler(message: Message, _progress: Progress) -> list[Outcome]:
        raise StoreUnavailableError("sqlite: database is locked")

    async def ping() -> None:
        if down:
            raise StoreUnavailableError("sqlite: database is locked")

    # A long retry backoff: the released message stays away, so no traffic follows.
    cfg = SupervisorConfig(wait_s=0, max_hold_s=0.1, retry_base_s=1000, shutdown_grace_s=1)
    supervisor = quick(Supervisor(cfg, inbox, handler, Metrics(), store_probe=ping))
    with structlog.testing.capture_logs() as logs:
        serving = asyncio.create_task(supervisor.serve())
        await until(lambda: supervisor.stats.retried == 1)
        assert supervisor.health.readiness()["failing"] == {"store": "unavailable"}
        down = False
        await until(lambda: supervisor.health.ready)
        supervisor.should_exit.set()
        await serving
    events = [e["event"] for e in logs]
    assert events.count("store.unavailable") == 1 and events.count("store.recovered") == 1


async def test_a_store_down_at_start_is_not_ready_before_any_message() -> None:
    """A store that does not answer when the daemon starts makes /readyz fail at once, with
    no traffic; once it answers, the daemon is ready."""
    down = True

    async def ping() -> None:
        if down:
            raise StoreUnavailableError("dynamodb: could not connect")

    async def handler(message: Message, _progress: Progress) -> list[Outcome]:
        return []

    cfg = SupervisorConfig(wait_s=0, shutdown_grace_s=1)
    supervisor = quick(Supervisor(cfg, MemoryInbox(), handler, Metrics(), store_probe=ping))
    serving = asyncio.create_task(supervisor.serve())
    await until(lambda: not supervisor.health.ready)
    assert supervisor.health.readiness()["failing"] == {"store": "unavailable"}
    down = False
    await until(lambda: supervisor.health.ready)
    supervisor.should_exit.set()
    await serving


async def test_a_store_that_never_answers_at_start_is_not_ready() -> None:
    """A store that takes the ping and never answers (a black-holed DynamoDB endpoint) is
    unavailable after STORE_PROBE_S, not after the client's minutes of timeouts and retries."""
    hang = asyncio.Event()

    async def ping() -> None:
        await hang.wait()

    async def handler(message: Message, _progress: Progress) -> list[Outcome]:
        return []

    cfg = SupervisorConfig(wait_s=0, shutdown_grace_s=1)
    supervisor = quick(Supervisor(cfg, MemoryInbox(), handler, Metrics(), store_probe=ping))
    with structlog.testing.capture_logs() as logs:
        serving = asyncio.create_task(supervisor.serve())
        await until(lambda: not supervisor.health.ready)
        supervisor.should_exit.set()
        await serving
    assert "did not answer a ping" in supervisor.health.failing()["store"]
    assert [e["event"] for e in logs].count("store.unavailable") == 1


async def test_a_held_message_not_the_probe_decides_while_it_waits() -> None:
    """While a message is held for the store, a ping that answers (a SQLite file that is
    locked answers SELECT 1) neither runs nor flips readiness: only the message's own
    success brings the store back."""
    inbox = MemoryInbox()
    inbox.put("b")
    tries = 0
    pings = 0
    seen: list[bool] = []

    async def handler(message: Message, _progress: Progress) -> list[Outcome]:
        nonlocal tries
        tries += 1
        if tries <= 8:
            seen.append(supervisor.health.ready)
            raise StoreUnavailableError("sqlite: database is locked")
        return [Outcome("f" * 32, Action.COUNT)]

    async def ping() -> None:
        nonlocal pings
        if 0 < tries <= 8:  # from its first failure until it goes through
            pings += 1

    cfg = SupervisorConfig(wait_s=0, drain=True, retry_base_s=0, shutdown_grace_s=1)
    supervisor = quick(Supervisor(cfg, inbox, handler, Metrics(), store_probe=ping))
    await supervisor.serve()
    assert seen[1:] == [False] * 7 and pings == 0  # none while it waits for the store
    assert inbox.deleted == ["m0"] and "store" not in supervisor.health.failing()


async def test_readiness_fails_as_soon_as_the_drain_starts() -> None:
    """From the first moment of a shutdown the daemon takes no new work, so /readyz answers
    503 `shutting_down: draining` while in-flight messages finish (and /healthz stays 200)."""
    inbox = MemoryInbox()
    inbox.put("b")
    started, finish = asyncio.Event(), asyncio.Event()

    async def handler(message: Message, _progress: Progress) -> list[Outcome]:
        started.set()
        await finish.wait()
        return []

    cfg = SupervisorConfig(wait_s=0, shutdown_grace_s=10)
    supervisor = Supervisor(cfg, inbox, handler, Metrics())
    endpoints = EndpointServer(supervisor.health, supervisor.metrics, "127.0.0.1", 0)
    await endpoints.start()
    try:
        async with httpx2.AsyncClient(base_url=f"http://127.0.0.1:{endpoints.port}") as http:
            serving = asyncio.create_task(supervisor.serve())
            await started.wait()
            assert (await http.get("/readyz")).status_code == 200
            supervisor.should_exit.set()
            await until(lambda: not supervisor.health.ready)
            answer = await http.get("/readyz")
            assert (await http.get("/healthz")).status_code == 200  # alive while it drains
            finish.set()
            await serving
    finally:
        await endpoints.aclose()
    assert answer.status_code == 503
    assert answer.json() == {"ready": False, "failing": {"shutting_down": "draining"}}
    assert inbox.deleted == ["m0"]


# --- Metrics --------------------------------------------------------------------------------


def samples(text: str) -> dict[str, float]:
    """The Prometheus text's samples by name and labels."""
    out = {}
    for line in text.splitlines():
        if line and not line.startswith("#"):
            name, value = line.rsplit(" ", 1)
            out[name] = float(value)
    return out


def promtool_check(text: str) -> None:
    """`promtool check metrics` finds nothing in `text`."""
    promtool = program_or_skip("promtool", install="Debian: apt-get install prometheus")
    checked = subprocess.run(
        [promtool, "check", "metrics"], input=text, capture_output=True, text=True, timeout=30
    )
    assert checked.returncode == 0 and not (checked.stdout + checked.stderr).strip(), checked


def test_a_counter_never_goes_down_nor_becomes_nan() -> None:
    """An increment that is negative, NaN or infinite (a provider's broken token count) is
    refused with one warning: the counter keeps growing from what it was, as `rate()` needs."""
    metrics = Metrics()
    metrics.incr("LLMTokensIn", 5)
    with structlog.testing.capture_logs() as logs:
        for bad in (-3.0, float("nan"), float("inf"), -float("inf")):
            metrics.incr("LLMTokensIn", bad)
    metrics.incr("LLMTokensIn", 2)
    assert samples(prometheus_text(metrics))["triage_llm_tokens_in_total"] == 7
    assert [e["event"] for e in logs] == ["metrics.refused"]


def test_a_timing_that_is_not_finite_is_refused_and_its_histogram_stays_consistent() -> None:
    """A NaN or infinite timing is not observed (a NaN `_sum` would stay for the process's
    life), a negative one (a clock stepped back) counts as zero, and `_count` is the `+Inf`
    bucket with a finite `_sum`."""
    metrics = Metrics()
    with structlog.testing.capture_logs():
        for ms in (float("nan"), 30.0, float("inf"), -5000.0, 4000.0):
            metrics.observe("SinkLatency", ms, sink="backend")
    got = samples(prometheus_text(metrics))
    name = "triage_sink_latency_seconds"
    assert got[f'{name}_count{{sink="backend"}}'] == 3
    assert got[f'{name}_bucket{{le="+Inf",sink="backend"}}'] == 3
    assert got[f'{name}_bucket{{le="0.025",sink="backend"}}'] == 1  # the zero
    assert got[f'{name}_sum{{sink="backend"}}'] == 4.03


def test_a_label_value_that_is_not_utf8_is_escaped_not_a_failed_scrape() -> None:
    """A dimension holding a lone surrogate (bytes that were not UTF-8, from the environment
    or a file name) is written escaped: /metrics and the EMF line still render, promtool
    finds nothing, and quotes, backslashes and newlines in labels are escaped."""
    metrics = Metrics()
    metrics.incr("SinkCalls", sink="back\udcffend", outcome="ok")
    metrics.incr("SinkCalls", sink='a"b\\c\nd', outcome="ok")
    text = prometheus_text(metrics)
    assert 'sink="back\\\\udcffend"' in text
    promtool_check(text)
    stream = io.StringIO()
    EmfExporter(metrics, "ns", stream).flush(now_ms=1)
    sinks = {json.loads(line).get("sink") for line in stream.getvalue().splitlines()}
    assert "back\\udcffend" in sinks


def test_a_gauge_whose_reader_raises_is_left_out_not_the_scrape() -> None:
    """A broken gauge reader (one that raises, or reads no number) leaves its gauge out
    (unknown) with one warning, however many exports: the other series are still scraped and flushed, and the flusher (a supervisor
    helper whose crash would stop the daemon) does not raise."""
    metrics = Metrics()
    metrics.incr("TicketsCreated", sink="backend")

    def broken() -> float:
        raise KeyError("budget")

    metrics.gauge("BudgetTokens", broken, budget="github:create:a/b:minute")
    metrics.gauge("BreakerState", lambda: "open", breaker="llm")  # type: ignore[arg-type,return-value]
    with structlog.testing.capture_logs() as logs:
        texts = [prometheus_text(metrics) for _ in range(3)]
        stream = io.StringIO()
        EmfExporter(metrics, "ns", stream).flush(now_ms=1)
    assert all("triage_tickets_created_total" in t for t in texts)
    assert not any("triage_budget_tokens" in t or "triage_breaker_state" in t for t in texts)
    assert "TicketsCreated" in stream.getvalue()
    assert [e["event"] for e in logs] == ["metrics.gauge_failed"] * 2  # once per gauge


TICKET_DIMS = {"sink": "backend", "source": "generic", "team": "ops"}


async def test_a_cloudwatch_outage_delays_counts_instead_of_losing_them(moto_url: str) -> None:
    """PutMetricData failing (connections reset) keeps what it did not send: once CloudWatch
    answers, it holds every count and every timing, the outage's included, each once."""
    metrics = Metrics()
    metrics.incr("TicketsCreated", 2, **TICKET_DIMS)
    metrics.observe("ProcessingLatency", 40)
    session = aws_session()
    # One attempt per flush: botocore's `max_attempts` here counts retries, each after a backoff.
    once = Config(retries={"total_max_attempts": 1})
    with FaultProxy(moto_url) as proxy:
        async with session.client("cloudwatch", endpoint_url=proxy.url, config=once) as client:
            exporter = PutMetricDataExporter(metrics, "Signals", client)
            proxy.break_answers("", "reset")  # CloudWatch's calls carry no X-Amz-Target
            with structlog.testing.capture_logs() as logs:
                assert await exporter.flush() == 0
            metrics.incr("TicketsCreated", 1, **TICKET_DIMS)
            metrics.observe("ProcessingLatency", 60)
            proxy.heal("")
            assert await exporter.flush() > 0
            assert await exporter.flush() == 0  # nothing new: nothing sent twice
    assert [e["event"] for e in logs] == ["metrics.put_failed"]
    cw = boto3.client("cloudwatch", endpoint_url=moto_url, region_name="us-east-1")

    def statistic(name: str, stat: str, dims: list[dict[str, str]]) -> float:
        points = cw.get_metric_statistics(
            Namespace="Signals",
            MetricName=name,
            Dimensions=dims,
            StartTime="2000-01-01T00:00:00Z",
            EndTime="2100-01-01T00:00:00Z",
            Period=86400 * 365 * 100,
            Statistics=[stat],
        )["Datapoints"]
        return sum(p[stat] for p in points)

    service = [{"Name": "Service", "Value": "triage"}]
    dims = [*service, *({"Name": k, "Value": v} for k, v in TICKET_DIMS.items())]
    assert statistic("TicketsCreated", "Sum", dims) == 3
    assert statistic("ProcessingLatency", "SampleCount", service) == 2


async def test_the_last_flush_never_holds_up_the_stop() -> None:
    """At shutdown, a PutMetricData that never answers (a black-holed endpoint) is given up
    after `final_s` with one warning, so the daemon still stops inside ECS's kill timeout."""
    never = asyncio.Event()
    flushes = 0

    async def flush() -> None:
        nonlocal flushes
        flushes += 1
        await never.wait()

    helper = asyncio.create_task(flush_every(3600, flush, final_s=0.05))
    await asyncio.sleep(0)
    with structlog.testing.capture_logs() as logs:
        helper.cancel()
        async with asyncio.timeout(10):
            await asyncio.gather(helper, return_exceptions=True)
    assert flushes == 1 and helper.cancelled()
    assert [e["event"] for e in logs] == ["metrics.final_flush_timeout"]


class ReadFailsAfterTake(LocalBudgets):
    """Budgets whose store goes down right after a token is taken: the read fails."""

    async def budget_tokens(self, budget: Budget, now_s: float) -> float:
        raise StoreUnavailableError("dynamodb: could not connect")


async def test_a_budget_gauge_read_that_fails_never_fails_the_take() -> None:
    """Taking a token succeeds even when the gauge's read after it fails: the caller gets the
    token it took (not an error that would have it taken again), and the gauge keeps its last
    value."""
    inner, metrics = ReadFailsAfterTake(), Metrics()
    budgets = MeteredBudgets(inner, metrics, clock=lambda: 0.0)
    budget = Budget("github:create:a/b:minute", 2, 60.0)
    assert await budgets.take_token(budget, 0.0) == 0.0
    await budgets.give_back_token(budget, 0.0)
    assert await budgets.take_token(budget, 0.0) == 0.0
    assert await LocalBudgets.budget_tokens(inner, budget, 0.0) == 1.0


# --- Logs -----------------------------------------------------------------------------------

SECRET = "ghp_R4nd0mT0k3nValueAbCdEfGhIjKlMnOpQr12"
#: Alert text that tries to start a log line of its own.
FORGED = "\n2026-12-04T00:00:00.000000Z [critical ] daemon.stopped  acked=0"


def hostile_lines(fmt: str) -> str:
    """What one process writes in `fmt` for a library message and an exception, both quoting
    alert text with a forged line in it."""
    out = io.StringIO()
    configure_logging(fmt, "info", out)
    logging.getLogger("aiohttp.client").warning("bad header %s", f"x{FORGED}")

    def fail() -> None:
        raise ValueError(f"alert said {FORGED} {SECRET}")

    try:
        fail()
    except ValueError:
        structlog.get_logger("triage.sqs.supervisor").exception("message.crashed")
    return out.getvalue()


def test_a_console_line_cannot_be_forged_by_alert_text() -> None:
    """With TRIAGE_LOG_FORMAT=console, alert text quoted in a library's message or in an
    exception never starts a line at the margin: a message's line break is escaped and a
    traceback is indented, so every line at the margin is one the logger started."""
    text = hostile_lines("console")
    starts = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d+Z \[(warning|error) ")
    at_margin = [line for line in text.splitlines() if not line.startswith("  ")]
    assert len(at_margin) == 2 and all(starts.match(line) for line in at_margin), text
    assert "ValueError: alert said" in text and SECRET not in text


def test_a_json_line_cannot_be_forged_by_alert_text() -> None:
    """In the default JSON format the same text stays inside its line's strings."""
    lines = [json.loads(line) for line in hostile_lines("json").splitlines()]
    assert [line["level"] for line in lines] == ["warning", "error"]
    assert "[critical ]" in lines[1]["exception"] and SECRET not in json.dumps(lines)


def test_a_logged_value_that_is_not_text_is_redacted_too() -> None:
    """An exception, bytes or a path logged as a value (the renderer writes their repr) are
    redacted as their text, nested ones too: no token leaves in any of them."""
    out = io.StringIO()
    configure_logging("json", "info", out)
    structlog.get_logger("triage.x").warning(
        "sink.failed",
        error=ValueError(f"token {SECRET}"),
        body=f"token={SECRET}".encode(),
        path=Path(f"/tmp/{SECRET}"),
        nested={"errors": [RuntimeError(SECRET)]},
    )
    [line] = [json.loads(text) for text in out.getvalue().splitlines()]
    assert SECRET not in json.dumps(line)
    assert line["error"] == "token [REDACTED:github-token]"
    assert line["nested"] == {"errors": ["[REDACTED:github-token]"]}


def test_a_library_repeating_a_warning_writes_one_line_not_a_storm() -> None:
    """An exporter retrying against a collector that is down says so on every try: fifty
    warnings that differ only in their numbers are one line, while a different warning, and
    every line of triage's own, still each get theirs."""
    out = io.StringIO()
    configure_logging("json", "info", out)
    exporter = logging.getLogger("opentelemetry.exporter.otlp.proto.http.trace_exporter")
    for n in range(50):
        exporter.warning("Transient error %s, retrying in %.1fs.", f"port={n}", n / 7)
    exporter.error("Failed to export batch code: 401")
    for _ in range(3):
        structlog.get_logger("triage.sqs.supervisor").warning("receive.failed", error="down")
    events = [json.loads(line)["event"] for line in out.getvalue().splitlines()]
    assert events == [
        "Transient error port=0, retrying in 0.0s.",
        "Failed to export batch code: 401",
        *["receive.failed"] * 3,
    ]


def test_a_repeated_library_warning_comes_back_after_a_quiet_minute_with_its_count() -> None:
    """After the window, the warning is shown again and says how many were left out."""
    now = [0.0]
    repeats = RepeatFilter(clock=lambda: now[0])

    def record(message: str, level: int = logging.WARNING) -> logging.LogRecord:
        return logging.LogRecord("botocore.retries", level, "x.py", 1, message, None, None)

    shown = [repeats.filter(record(f"retry {n}")) for n in range(5)]
    assert shown == [True, False, False, False, False]
    assert repeats.filter(record("debug detail", logging.DEBUG))
    now[0] = RepeatFilter.WINDOW_S + 1
    again = record("retry 99")
    assert repeats.filter(again) and again.triage_repeated == 4


# --- Traces ---------------------------------------------------------------------------------


async def test_a_failed_sink_call_puts_no_error_text_on_its_spans(
    queues: Queues, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A backend answering 503 with a body that quotes a token: the exported spans say the
    call failed (status, `error.type`, the fixed reason) but carry neither the exception's
    message nor its traceback, which OpenTelemetry would record unredacted."""
    monkeypatch.setenv("BACKEND_TOKEN", TOKEN)
    exporter = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    body = json.dumps({"error": f"upstream echoed {SECRET} for DROP TABLE"}).encode()
    queues.send({"title": "api failed", "dedup_key": "api"})
    async with hostile(answer(503, {"Content-Type": "application/json"}, body)) as backend:
        settings = settings_for(queues, backend.url, tmp_path / "t.db")
        stop = asyncio.Event()
        daemon = asyncio.create_task(
            run_daemon(settings, stop=stop, tracing=Tracing.from_provider(provider))
        )
        # The breaker opens on the 503 and holds the message: stop once its call has ended.
        await until(lambda: any(s.name == "sink.backend" for s in exporter.get_finished_spans()))
        stop.set()
        await daemon
    provider.shutdown()
    spans = exporter.get_finished_spans()
    exported = json.dumps(
        [
            [s.name, s.status.description, dict(s.attributes or {})]
            + [[e.name, dict(e.attributes or {})] for e in s.events]
            for s in spans
        ]
    )
    assert SECRET not in exported and "DROP TABLE" not in exported
    failed = [s for s in spans if s.name == "sink.backend"]
    assert failed and not any(s.events for s in failed)
    for span in failed:  # e.g. `SinkThrottledError: breaker_open`: a class and a fixed word
        assert re.fullmatch(r"Sink\w+Error: [a-z_]+", span.status.description or ""), span.status
        assert span.attributes and span.attributes["error.type"].startswith("Sink")


# --- Counters against what really happened ---------------------------------------------------

#: Team names an alert may carry: quotes, backslashes, line breaks, non-ASCII, huge, and more
#: distinct ones than a dimension may take.
HOSTILE_TEAMS = [
    'pay"ments',
    "back\\slash",
    "line\nbreak",
    "ünïcode",
    "\x1b[31mred",
    "t" * 10_000,
    *[f"team-{i}" for i in range(MAX_LABEL_VALUES + 5)],
]


async def test_counters_match_what_the_backend_and_the_queue_saw(
    queues: Queues, backend: TicketServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Over hostile teams, repeats, resolves and malformed bodies, every delivery ends in one
    outcome (acked, failed for a retry, rejected), the ticket counter is what the loopback
    backend received, MessagesFailed is the failures, and /metrics stays valid with a bounded
    `team` label."""
    monkeypatch.setenv("BACKEND_TOKEN", TOKEN)
    alerts = [
        {"title": f"job {i} failed", "dedup_key": f"job-{i}", "team": team}
        for i, team in enumerate(HOSTILE_TEAMS)
    ]
    queues.send(*alerts)
    queues.send(*[{**alerts[0], "description": f"repeat {n}"} for n in range(3)])
    queues.send({"title": "gone", "dedup_key": "never-opened", "status": "resolved"})
    queues.send('{"title": "broken', "not json at all")
    metrics = Metrics()
    # Short polls: the drain's empty receives end at once (the counts are under test, not the
    # long poll, which held the end of the drain for a second per empty receive).
    settings = settings_for(queues, backend.url, tmp_path / "t.db", concurrency=8, sqs_wait_time=0)
    result = await run_daemon(settings, drain=True, metrics=metrics)
    stats = result.stats
    assert stats.received == stats.acked + stats.retried + stats.rejected
    assert stats.released_on_shutdown == 0
    assert metrics.total("MessagesFailed") == stats.retried + stats.rejected == 4
    assert metrics.counter("TicketsCreated", sink="backend") == len(backend.tickets) == len(alerts)
    assert metrics.total("DuplicatesSuppressed") == 3
    assert metrics.total("ResolvedWithoutTicket") == 1
    assert len(queues.dead_letters()) == 2
    text = prometheus_text(metrics)
    promtool_check(text)
    teams = set(re.findall(r'team="([^"]*)"', text))
    assert len(teams) <= MAX_LABEL_VALUES + 1 and OTHER in teams
    # Letters of any script are kept (`ünïcode`); quotes, line breaks, escapes are not.
    assert all(re.fullmatch(r"[\w.:/-]{1,64}", team) for team in teams - {OTHER}), teams
    assert "ünïcode" in teams


def test_a_collector_that_never_answers_cannot_hold_up_the_exit(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """With the OTLP endpoint taking connections and never answering, exporting the buffered
    spans at exit is given up after SHUTDOWN_S with one warning (it held the exit for the
    exporter's 10 s, past the stop budget ECS gives)."""
    with socket.socket() as black_hole:
        black_hole.bind(("127.0.0.1", 0))
        black_hole.listen(16)
        port = black_hole.getsockname()[1]
        monkeypatch.setenv("OTEL_EXPORTER_OTLP_ENDPOINT", f"http://127.0.0.1:{port}")
        # The exporter's own timeout (10 s by default) ends the export left behind, so this
        # test waits for it rather than leaving a thread that writes to stderr after it ends;
        # half a second more than SHUTDOWN_S, so the export is surely still running past it.
        monkeypatch.setenv("OTEL_EXPORTER_OTLP_TIMEOUT", "0.6")
        tracing = Tracing.from_environment("triage")
        tracing.SHUTDOWN_S = 0.1
        with tracing.message("m1", None):
            pass
        with structlog.testing.capture_logs() as logs:
            tracing.shutdown()
        left = [t for t in threading.enumerate() if t.name == "tracing-shutdown"]
        assert left, "the export should still be running past SHUTDOWN_S"
        # Its "Failed to export" line is the exporter's, not triage's: the daemon's logging
        # shapes it; here it would go to stderr (logging's last resort).
        exporter_log, quiet = logging.getLogger("opentelemetry"), logging.NullHandler()
        exporter_log.addHandler(quiet)
        exporter_log.propagate, propagated = False, exporter_log.propagate
        try:
            for thread in left:
                thread.join(timeout=15)  # the exporter's 0.6 s, with its retries' backoff
        finally:
            exporter_log.propagate = propagated
            exporter_log.removeHandler(quiet)
        assert not any(thread.is_alive() for thread in left), "the exporter never gave up"
    assert [e["event"] for e in logs] == ["tracing.shutdown_timeout"]
