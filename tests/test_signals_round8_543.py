"""Triage's own signals, round 8 (helper 543): under a flood of one problem, the line budget
still gives another problem its first line, and a budget nobody gave a summary still says how
many lines it dropped."""

from __future__ import annotations

import asyncio
import io
import json
import time
from collections import Counter
from collections.abc import Callable

import structlog
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import StatusCode

from factories import T0
from memory_inbox import MemoryInbox
from memory_store import MemoryStore
from recording_pipeline import POLICY, Sink, Summariser
from triage.incidents.ledger import Ledger
from triage.incidents.lifecycle import Outcome
from triage.ingest.lines import RefusalLines
from triage.linebudget import FIRST_LINES, LineBudget
from triage.metrics import MAX_LABEL_VALUES, OTHER, Metrics, SeriesKey
from triage.models import Alert, Status
from triage.ops.metrics_export import EmfExporter
from triage.pipeline import Pipeline
from triage.redact import Redactor
from triage.sqs.inbox import Message
from triage.sqs.supervisor import Progress, Supervisor, SupervisorConfig
from triage.tracing import Tracing


def test_a_flood_of_one_problem_leaves_another_its_first_line() -> None:
    """Past the burst, spent by a flood of one key, the first event of another key in the same
    window gets its own line (with its detail); its repeats are counted in the summary. A
    flood of wrong tokens hid the first `413 too_large` of a real sender behind a count."""
    now = [0.0]
    summaries: list[Counter[str]] = []
    budget = LineBudget(3, 1.0, summaries.append, clock=lambda: now[0])
    flood = [budget.admit("401 bad_token") for _ in range(50)]
    assert flood.count(True) == 3
    assert budget.admit("413 too_large")
    assert not budget.admit("413 too_large")
    now[0] = 1.0
    budget.admit("401 bad_token")
    assert summaries == [Counter({"401 bad_token": 47, "413 too_large": 1})]


def test_endless_distinct_keys_still_get_a_bounded_number_of_lines() -> None:
    """A key never seen gets its first line only FIRST_LINES times a window past the burst:
    distinct keys cannot undo the budget."""
    budget = LineBudget(2, 1.0, lambda _counts: None, clock=lambda: 0.0)
    lines = [budget.admit(f"key-{n}") for n in range(1_000)]
    assert lines.count(True) == 2 + FIRST_LINES


def test_the_gateways_refusal_lines_name_a_rare_refusal_in_a_flood() -> None:
    """The gateway's `ingest.refused` lines: a flood of one refusal past the burst, then one
    refusal of another kind, which is logged with its own line."""
    refusals = RefusalLines(burst=5, clock=lambda: 0.0)
    with structlog.testing.capture_logs() as logs:
        for _ in range(100):
            refusals.refused(401, "bad_token", source="grafana")
        refusals.refused(413, "too_large", source="grafana")
    lines = [(e["status"], e["reason"]) for e in logs if e["event"] == "ingest.refused"]
    assert lines.count((401, "bad_token")) == 5
    assert (413, "too_large") in lines


def test_a_budget_without_a_summary_says_how_many_lines_it_dropped() -> None:
    """A budget made without a summary (the ingest server's `client_not_reading`,
    `head_timeout` and connection error lines) says at the window's end how many lines it
    dropped, under its name: they were dropped without a word, so a flood looked like ten."""
    now = [0.0]
    budget = LineBudget(2, 1.0, clock=lambda: now[0], name="ingest.client_not_reading")
    with structlog.testing.capture_logs() as logs:
        assert [budget.admit() for _ in range(10)].count(True) == 2
        now[0] = 1.0
        budget.admit()
    (line,) = logs
    assert line["event"] == "log.lines_dropped"
    assert line["lines"] == "ingest.client_not_reading"
    assert line["dropped"] == 8
    assert line["log_level"] == "warning"


#: Messages of the cardinality test, each with a team, source and route label of its own.
HOSTILE_MESSAGES = 10_000


async def test_ten_thousand_alerts_of_distinct_teams_and_sources_make_few_series() -> None:
    """10,000 alerts, each naming a team, source and route of its own (a hostile sender
    inventing them), make at most (MAX_LABEL_VALUES + 2) values in each alert-fed dimension
    and a few thousand series in all, not one a message: past MAX_LABEL_VALUES each new
    value is `(other)`, and the counts all land there."""
    metrics = Metrics()
    pipeline = Pipeline(
        Ledger(MemoryStore(POLICY)), Summariser(), [Sink()], metrics, redactor=Redactor(),
        policy=POLICY,
    )  # fmt: skip
    for n in range(HOSTILE_MESSAGES):
        alert = Alert(
            source=f"source-{n}",
            status=Status.FIRING,
            title=f"invented {n}",
            team=f"team-{n}",
            labels={"route": f"route-{n}", "team": f"team-{n}"},
            occurred_at=T0,
            identity={"dedup_key": f"card-{n}"},
        )
        await pipeline.handle(alert, f"owner-{n}")
    series = _all_series(metrics)
    assert len(series) <= 2_000, len(series)
    values: dict[str, set[str]] = {}
    for _name, dims in series:
        for dimension, value in dims:
            values.setdefault(dimension, set()).add(value)
    for dimension in ("team", "source"):
        assert len(values.get(dimension, set())) <= MAX_LABEL_VALUES + 2, dimension
    assert "route" not in values
    assert metrics.counter("TicketsCreated", team=OTHER) >= HOSTILE_MESSAGES - MAX_LABEL_VALUES


def _all_series(metrics: Metrics) -> set[SeriesKey]:
    """Every series the registry holds: counters, timings and gauges."""
    return {*metrics.counters(), *metrics.timings(), *metrics.gauges()}


#: Two teams whose names differ only past what a dimension value keeps of them: 64 characters
#: (a long ASCII name), and 41 CJK characters (each 6 characters escaped, `\\u4e2d`, in
#: CloudWatch's 250).
LONG_TEAMS = [
    ("platform-infrastructure-observability-and-reliability-engineering-emea",
     "platform-infrastructure-observability-and-reliability-engineering-apac"),
    ("\u57fa\u76e4" * 22 + "\u6771", "\u57fa\u76e4" * 22 + "\u897f"),
]  # fmt: skip


def test_two_teams_differing_past_the_cut_keep_two_series_everywhere() -> None:
    """Two teams whose names differ only past the cut (64 characters, or 250 characters of
    CloudWatch's escapes) are two series in the registry and two dimension values in the EMF
    lines, each value within 250 characters (what a CloudWatch alarm's dimension takes):
    cut alike, their tickets were counted as one team's, and the other team had none."""
    for first, second in LONG_TEAMS:
        metrics = Metrics()
        for team in (first, second):
            metrics.incr("TicketsCreated", sink="backend", team=metrics.bounded("team", team))
        assert len(metrics.counters()) == 2
        stream = io.StringIO()
        EmfExporter(metrics, "Round8", stream=stream).flush(now_ms=1_700_000_000_000)
        shown = {json.loads(line)["team"] for line in stream.getvalue().splitlines()}
        assert len(shown) == 2, shown
        assert all(len(value) <= 250 for value in shown)


async def test_a_message_given_back_at_shutdown_ends_its_span_failed() -> None:
    """A message still being handled when a stop's grace ends ends its `message.process` span
    (exported, not left open with the process) and marks it failed by the cancellation, its
    attributes holding no text of the message's."""
    exporter = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    inbox = MemoryInbox()
    inbox.put("hangs token=hunter2")
    config = SupervisorConfig(wait_s=0, retry_base_s=0, shutdown_grace_s=0.1, cancel_deadline_s=1)
    supervisor = Supervisor(
        config, inbox, _hang, Metrics(), tracing=Tracing.from_provider(provider)
    )
    try:
        served = asyncio.create_task(supervisor.serve())
        await _until(lambda: len(supervisor._in_flight) == 1)
        supervisor.should_exit.set()
        await asyncio.wait_for(served, 10)
    finally:
        provider.shutdown()
    (span,) = [s for s in exporter.get_finished_spans() if s.name == "message.process"]
    assert span.status.status_code is StatusCode.ERROR
    assert "CancelledError" in str(span.status.description)
    assert "hunter2" not in json.dumps({k: str(v) for k, v in (span.attributes or {}).items()})


async def _hang(_message: Message, _progress: Progress) -> list[Outcome]:
    """A handler that never finishes: only the shutdown's cancellation ends it."""
    await asyncio.Event().wait()
    return []


async def _until(condition: Callable[[], bool], deadline_s: float = 10.0) -> None:
    """Wait for `condition`, failing past `deadline_s`."""
    give_up = time.monotonic() + deadline_s
    while not condition():
        assert time.monotonic() < give_up, "condition not met in time"
        await asyncio.sleep(0.01)


def test_each_gauge_series_failing_is_said_and_said_again_after_it_recovered() -> None:
    """A gauge reader failing is said once per series and per failing spell: a second
    breaker's gauge failing an hour after the first's, or the first failing again after it
    had read well, was not said at all (one warning per metric name for the process's life),
    and its gauge vanished from every export without a word."""
    metrics = Metrics()
    failing = {"sink:backend": True, "sink:slack": False}

    def reader(name: str) -> Callable[[], float]:
        def read() -> float:
            if failing[name]:
                raise KeyError(name)
            return 0.0

        return read

    for name in failing:
        metrics.gauge("BreakerState", reader(name), unit="None", breaker=name)
    with structlog.testing.capture_logs() as logs:
        metrics.gauges()
        metrics.gauges()  # the same spell: no second line
        failing["sink:slack"] = True
        metrics.gauges()
        failing["sink:backend"] = False
        metrics.gauges()
        failing["sink:backend"] = True
        metrics.gauges()
    said = [(e["event"], e.get("breaker")) for e in logs]
    assert said == [
        ("metrics.gauge_failed", "sink:backend"),
        ("metrics.gauge_failed", "sink:slack"),
        ("metrics.gauge_recovered", "sink:backend"),
        ("metrics.gauge_failed", "sink:backend"),
    ]
