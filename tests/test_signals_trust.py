"""Whether triage's own signals can be trusted across what happens to a process: a restart
shows on /metrics (its start time, counters that start at 0); CloudWatch is sent only dimension
values it takes, timings it can compute percentiles from (a storm's too, fairly sampled), and
what a flush cut short by the stop had taken."""

from __future__ import annotations

import asyncio
import contextlib
import io
import json
import re
import time
from collections import Counter
from pathlib import Path
from typing import Any

from test_metrics_export import readme_dimensions
from test_signals_faults import promtool_check, samples
from triage.metrics import Metrics
from triage.ops.metrics_export import (
    METRICS,
    UNLABELLED_COUNTERS,
    EmfExporter,
    PutMetricDataExporter,
    prometheus_name,
)
from triage.ops.prometheus import prometheus_text
from triage.settings import Settings
from triage.sinks.github.digest import create_budgets


def _boot_time_s() -> float:
    """When this machine booted (epoch seconds), from the kernel's own `btime`."""
    for line in Path("/proc/stat").read_text().splitlines():
        if line.startswith("btime "):
            return float(line.split()[1])
    raise AssertionError("/proc/stat has no btime")


def test_metrics_name_the_process_start_so_a_restart_shows() -> None:
    """/metrics carries `process_start_time_seconds`, the same at every scrape and between the
    machine's boot and now, so a restart (which resets every counter) is visible to queries."""
    metrics = Metrics()
    first = samples(prometheus_text(metrics))
    second = samples(prometheus_text(metrics))
    started = first.get("process_start_time_seconds")
    assert started is not None, sorted(first)
    assert started == second["process_start_time_seconds"]
    assert _boot_time_s() - 1 <= started <= time.time()


def test_counters_without_dimensions_start_at_zero_so_the_first_event_counts() -> None:
    """Before any event, every counter without dimensions is on /metrics at 0 (so `increase()`
    sees the first event after a restart), and the page stays promtool clean."""
    text = prometheus_text(Metrics())
    got = samples(text)
    for name in sorted(UNLABELLED_COUNTERS):
        assert got.get(prometheus_name(name, "counter")) == 0, name
    promtool_check(text)


def test_the_counters_shown_at_zero_are_exactly_those_without_dimensions() -> None:
    """The set of counters shown at 0 is the README's counters with no dimension: one with
    dimensions shown bare would read as a series of its own with every label empty."""
    documented = readme_dimensions()
    bare = {
        name for name, described in METRICS.items()
        if described.kind == "counter" and not documented[name]
    }  # fmt: skip
    assert sorted(UNLABELLED_COUNTERS ^ bare) == []


#: What CloudWatch's API reference allows in a dimension value: ASCII without control
#: characters, 1 to 1,024 characters, not only whitespace. One value that is not fails the
#: whole PutMetricData call (InvalidParameterValue), and the batch it refuses is dropped.
CLOUDWATCH_DIMENSION_VALUE = re.compile(r"(?=.*\S)[ -~]{1,1024}")

AWKWARD_VALUES = ["ünï", "line\nbreak", "\x1b[31mred", "tab\there", "\udcff", "del\x7f", "  "]


def test_dimension_values_sent_to_cloudwatch_are_ones_it_takes() -> None:
    """Dimension values that are not CloudWatch's (non-ASCII, control characters, blank), such
    as a budget named after a GITHUB_REPOSITORY with accents (the setting accepts it), reach
    PutMetricData and EMF as printable ASCII, still distinct, beside the other series."""
    repository = Settings(github_repository="équipe/dépôt").github_repository
    assert repository is not None
    metrics = Metrics()
    for budget in create_budgets(Settings(), repository):
        metrics.gauge("BudgetTokens", lambda: 3.0, budget=budget.name)
    for n, value in enumerate(AWKWARD_VALUES):
        metrics.incr("MessagesFailed", n + 1, reason=value)
    metrics.incr("TicketsCreated", sink="backend", source="grafana", team="ops")
    client = Recorder()
    asyncio.run(PutMetricDataExporter(metrics, "Trust", client).flush())
    emf = io.StringIO()
    EmfExporter(metrics, "Trust", stream=emf).flush(now_ms=1_700_000_000_000)
    lines = [json.loads(line) for line in emf.getvalue().splitlines()]
    sent = [d["Value"] for item in client.data for d in item["Dimensions"]]
    written = [
        doc[key] for doc in lines for key in doc["_aws"]["CloudWatchMetrics"][0]["Dimensions"][0]
    ]
    bad = [v for v in sent + written if not CLOUDWATCH_DIMENSION_VALUE.fullmatch(v)]
    assert bad == []
    reasons = {
        d["Value"] for item in client.data for d in item["Dimensions"] if d["Name"] == "reason"
    }
    assert len(reasons) == len(AWKWARD_VALUES)
    assert "TicketsCreated" in {item["MetricName"] for item in client.data}


class Recorder:
    """A CloudWatch client that keeps what PutMetricData was given."""

    def __init__(self) -> None:
        self.data: list[dict[str, Any]] = []

    async def put_metric_data(self, Namespace: str, MetricData: list[dict[str, Any]]) -> None:
        self.data += MetricData


def test_timings_reach_cloudwatch_as_values_it_computes_percentiles_from() -> None:
    """PutMetricData gets a timing's observations as `Values` with their `Counts` (at most 150
    distinct a datum), never as a statistic set, from which CloudWatch computes no percentile
    (the dashboard's p50 and p99 latency widgets stayed empty); every observation is there."""
    metrics = Metrics()
    observed = [float(ms % 400) for ms in range(1_000)]  # 400 distinct values, each 2 or 3 times
    for ms in observed:
        metrics.observe("ProcessingLatency", ms)
    metrics.observe("SinkLatency", 12.5, sink="backend")
    client = Recorder()
    asyncio.run(PutMetricDataExporter(metrics, "Trust", client).flush())
    assert not [item for item in client.data if "StatisticValues" in item]
    latency = [
        item
        for item in client.data
        if item["MetricName"] == "ProcessingLatency" and len(item["Dimensions"]) == 1
    ]
    assert all(len(item["Values"]) == len(item["Counts"]) <= 150 for item in latency)
    sent: Counter[float] = Counter()
    for item in latency:
        sent.update(dict(zip(item["Values"], item["Counts"], strict=True)))
    assert sent == Counter(observed)
    [single] = [
        i for i in client.data if i["MetricName"] == "SinkLatency" and len(i["Dimensions"]) == 2
    ]
    assert single["Value"] == 12.5


def test_a_storm_of_timings_keeps_a_fair_sample_for_cloudwatch() -> None:
    """Past the 10,000 raw values a series keeps between flushes (a storm's minute), those kept
    are a fair sample of the whole interval, not its first 10,000: a slowdown late in the
    minute shows in CloudWatch's percentiles."""
    metrics = Metrics()
    for _ in range(Metrics.MAX_PENDING):
        metrics.observe("ProcessingLatency", 5.0)
    for _ in range(Metrics.MAX_PENDING):
        metrics.observe("ProcessingLatency", 9_000.0)  # the second half of the minute is slow
    [timing] = metrics.timings(drain=True).values()
    assert timing.count == 2 * Metrics.MAX_PENDING
    assert len(timing.pending) == Metrics.MAX_PENDING
    slow = timing.pending.count(9_000.0) / len(timing.pending)
    assert 0.4 < slow < 0.6  # half the interval was slow; 0.4 is 28 standard deviations off
    metrics.observe("ProcessingLatency", 7.0)
    [after] = metrics.timings(drain=True).values()
    assert after.pending == [7.0]  # the next interval's sample starts afresh


class Hanging(Recorder):
    """A CloudWatch client whose calls wait until `answer` is set, then are kept."""

    def __init__(self) -> None:
        super().__init__()
        self.answer = asyncio.Event()
        self.waiting = asyncio.Event()

    async def put_metric_data(self, Namespace: str, MetricData: list[dict[str, Any]]) -> None:
        self.waiting.set()
        await self.answer.wait()
        await super().put_metric_data(Namespace, MetricData)


async def test_a_flush_cancelled_at_shutdown_leaves_its_timings_to_the_last_flush() -> None:
    """The periodic flush cancelled while its call is out (the stop came then) keeps the timing
    values it had taken, so the last flush at shutdown sends them with everything else."""
    metrics = Metrics()
    metrics.observe("ProcessingLatency", 40.0)
    metrics.observe("ProcessingLatency", 60.0)
    client = Hanging()
    exporter = PutMetricDataExporter(metrics, "Trust", client)
    periodic = asyncio.create_task(exporter.flush())
    async with asyncio.timeout(5):
        await client.waiting.wait()
    periodic.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await periodic
    client.answer.set()
    await exporter.flush()
    values = [item.get("Values") for item in client.data if len(item["Dimensions"]) == 1]
    assert values == [[40.0, 60.0]]
