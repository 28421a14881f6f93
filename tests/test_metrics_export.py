"""What leaves as metrics: EMF lines CloudWatch accepts whole, Prometheus text `promtool` finds
nothing in, and dimensions that alert text cannot grow without bound."""

from __future__ import annotations

import ast
import io
import json
import re
import subprocess
from pathlib import Path
from typing import Any

from programs import program_or_skip
from triage.metrics import MAX_LABEL_VALUES, NONE, OTHER, Metrics
from triage.ops.metrics_export import METRICS, EmfExporter, PutMetricDataExporter
from triage.ops.prometheus import prometheus_text

ROOT = Path(__file__).resolve().parents[1]

#: The units the EMF specification allows in a MetricDefinition.
EMF_UNITS = {
    "Seconds", "Microseconds", "Milliseconds", "Bytes", "Kilobytes", "Megabytes", "Gigabytes",
    "Terabytes", "Bits", "Kilobits", "Megabits", "Gigabits", "Terabits", "Percent", "Count",
    "Bytes/Second", "Kilobytes/Second", "Megabytes/Second", "Gigabytes/Second",
    "Terabytes/Second", "Bits/Second", "Kilobits/Second", "Megabits/Second", "Gigabits/Second",
    "Terabits/Second", "Count/Second", "None",
}  # fmt: skip


def assert_valid_emf(line: str) -> dict[str, Any]:
    """One log event checked against AWS's EMF specification, rule by rule; returns it."""
    doc = json.loads(line)
    assert isinstance(doc, dict)
    meta = doc["_aws"]
    assert set(meta) <= {"Timestamp", "CloudWatchMetrics"}
    assert isinstance(meta["Timestamp"], int) and meta["Timestamp"] > 0  # epoch milliseconds
    directives = meta["CloudWatchMetrics"]
    assert isinstance(directives, list) and directives
    for directive in directives:
        assert set(directive) == {"Namespace", "Dimensions", "Metrics"}
        assert 1 <= len(directive["Namespace"]) <= 1024
        for dimension_set in directive["Dimensions"]:
            assert len(dimension_set) <= 30  # DimensionSet: at most 30 keys
            for key in dimension_set:
                value = doc[key]  # every key names a root member …
                assert isinstance(value, str) and 1 <= len(value) <= 1024 and value.strip()
        metrics = directive["Metrics"]
        assert 1 <= len(metrics) <= 100  # MetricDefinitions per directive
        for metric in metrics:
            assert set(metric) <= {"Name", "Unit", "StorageResolution"}
            assert 1 <= len(metric["Name"]) <= 1024
            assert metric.get("Unit", "None") in EMF_UNITS
            value = doc[metric["Name"]]  # … and so does every metric: a number, or up to 100
            values = value if isinstance(value, list) else [value]
            assert 1 <= len(values) <= 100
            assert all(isinstance(v, int | float) and not isinstance(v, bool) for v in values)
    return doc


def flush(metrics: Metrics) -> list[dict[str, Any]]:
    out = io.StringIO()
    EmfExporter(metrics, "AlertTriage", stream=out).flush(now_ms=1_700_000_000_000)
    return [assert_valid_emf(line) for line in out.getvalue().splitlines()]


def test_emf_splits_a_metric_with_more_than_100_values_across_lines() -> None:
    """250 latencies in one flush become lines of 100, 100 and 50 values, each valid EMF, and
    every value arrives exactly once."""
    metrics = Metrics()
    for i in range(250):
        metrics.observe("SinkLatency", float(i), sink="backend")
    metrics.incr("TicketsCreated", sink="backend")
    docs = flush(metrics)
    latencies = [d["SinkLatency"] for d in docs if "SinkLatency" in d]
    assert [len(v) for v in latencies] == [100, 100, 50]
    assert sorted(v for chunk in latencies for v in chunk) == [float(i) for i in range(250)]


def test_emf_splits_more_than_100_metrics_of_one_dimension_set() -> None:
    """A dimension set with 150 metrics is written as lines of at most 100 definitions."""
    metrics = Metrics()
    for i in range(150):
        metrics.incr(f"Counter{i}")
    docs = flush(metrics)
    sizes = [len(d["_aws"]["CloudWatchMetrics"][0]["Metrics"]) for d in docs]
    assert sorted(sizes) == [50, 100]


def test_emf_publishes_each_series_also_under_service_alone() -> None:
    """A dimensioned series declares its own dimension set and [Service], so alarms can watch
    a metric across its dimensions; an undimensioned one declares [Service] once."""
    metrics = Metrics()
    metrics.incr("LLMCalls", outcome="ok")
    metrics.incr("SummarizationFailures")
    docs = flush(metrics)
    by_metric = {d["_aws"]["CloudWatchMetrics"][0]["Metrics"][0]["Name"]: d for d in docs}
    assert by_metric["LLMCalls"]["_aws"]["CloudWatchMetrics"][0]["Dimensions"] == [
        ["Service", "outcome"],
        ["Service"],
    ]
    assert by_metric["SummarizationFailures"]["_aws"]["CloudWatchMetrics"][0]["Dimensions"] == [
        ["Service"]
    ]


def test_emf_exports_gauges_and_skips_values_json_cannot_hold() -> None:
    """Gauges (set and read) go out at their current value with their unit; NaN never does."""
    metrics = Metrics()
    metrics.set("QueueMessagesVisible", 7)
    metrics.gauge("OldestMessageAge", lambda: 42.0, unit="Seconds")
    metrics.gauge("Unknown", lambda: None)
    metrics.set("Broken", float("nan"))
    [doc] = flush(metrics)
    assert doc["QueueMessagesVisible"] == 7 and doc["OldestMessageAge"] == 42.0
    units = {m["Name"]: m["Unit"] for m in doc["_aws"]["CloudWatchMetrics"][0]["Metrics"]}
    assert units == {"QueueMessagesVisible": "Count", "OldestMessageAge": "Seconds"}


def test_alert_fed_dimensions_are_cleaned_and_capped() -> None:
    """Team names from alerts are cleaned and cut; past the cap every new one is `other`, and
    the ones already seen keep their own series."""
    metrics = Metrics()
    assert metrics.bounded("team", ' pay"ments\n{x} ') == "pay_ments_x"
    assert metrics.bounded("team", None) == NONE
    cut = metrics.bounded("team", "a" * 300)  # its start, and a digest of the whole
    assert len(cut) == 64 and cut.startswith("a" * 55 + "-")
    for i in range(MAX_LABEL_VALUES):
        metrics.bounded("team", f"team-{i}")
    assert metrics.bounded("team", "one-too-many") == OTHER
    assert metrics.bounded("team", "pay_ments_x") == "pay_ments_x"
    assert metrics.bounded("source", "grafana") == "grafana"  # each dimension has its own cap


def test_put_metric_data_sends_each_series_and_its_service_rollup() -> None:
    """PutMetricData carries the same series as the EMF lines: dimensioned, and under Service."""

    class Recorder:
        def __init__(self) -> None:
            self.data: list[dict[str, Any]] = []

        async def put_metric_data(self, Namespace: str, MetricData: list[dict[str, Any]]) -> None:
            self.data += MetricData

    import asyncio

    metrics = Metrics()
    metrics.incr("TicketsCreated", sink="backend", source="grafana", team="ops")
    metrics.set("DlqMessagesVisible", 3)
    client = Recorder()
    asyncio.run(PutMetricDataExporter(metrics, "AlertTriage", client).flush())
    dims = sorted((d["MetricName"], tuple(x["Name"] for x in d["Dimensions"])) for d in client.data)
    assert dims == [
        ("DlqMessagesVisible", ("Service",)),
        ("TicketsCreated", ("Service",)),
        ("TicketsCreated", ("Service", "sink", "source", "team")),
    ]


def _every_metric() -> Metrics:
    """One series of every metric the code records, with large and awkward values."""
    metrics = Metrics()
    for name in METRICS:
        if name.endswith(("Latency", "Lag")):
            metrics.observe(name, 1234.5, sink="backend")
        elif name == "IngestBatchEntries":
            metrics.observe(name, 3, unit="Count")
        elif name in {"OldestMessageAge", "BreakerOpenDuration"}:
            metrics.gauge(name, lambda: 12.0, unit="Seconds", breaker='sink:"odd"\\name')
        elif name.startswith(("Queue", "Dlq", "Breaker", "Budget", "MessagesInFlight")) and (
            name != "QueueDepthPollFailures"
        ):
            metrics.set(name, 5)
        else:
            metrics.incr(name, 1_234_567, reason="timeout", team="payments\nteam")
    return metrics


def test_promtool_finds_nothing_in_the_metrics_text(tmp_path: Path) -> None:
    """`promtool check metrics` (Prometheus's own linter) reports nothing for /metrics with
    every metric present, labels that need escaping, and counters past a million."""
    promtool = program_or_skip("promtool", install="Debian: apt-get install prometheus")
    text = prometheus_text(_every_metric())
    result = subprocess.run(
        [promtool, "check", "metrics"],
        input=text,
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )
    assert result.returncode == 0 and not result.stdout.strip(), result.stdout + result.stderr
    assert result.stderr.strip() == "", result.stderr


def test_prometheus_text_is_exact_typed_and_in_seconds() -> None:
    """A counter of 1,234,567 reads back exactly; every family has HELP and TYPE; timings are
    histograms in seconds whose buckets, count and sum agree; the build is named."""
    metrics = Metrics()
    metrics.incr("TicketsCreated", 1_234_567, sink="backend", source="grafana", team="ops")
    for ms in (30.0, 200.0, 4000.0):
        metrics.observe("SinkLatency", ms, sink="backend")
    metrics.set("DlqMessagesVisible", 2)
    text = prometheus_text(metrics)
    samples = {}
    for line in text.splitlines():
        if not line.startswith("#"):
            name, value = line.rsplit(" ", 1)
            samples[name] = float(value)
    created = 'triage_tickets_created_total{sink="backend",source="grafana",team="ops"}'
    assert samples[created] == 1_234_567
    assert samples['triage_sink_latency_seconds_bucket{le="0.05",sink="backend"}'] == 1
    assert samples['triage_sink_latency_seconds_bucket{le="0.25",sink="backend"}'] == 2
    assert samples['triage_sink_latency_seconds_bucket{le="+Inf",sink="backend"}'] == 3
    assert samples['triage_sink_latency_seconds_count{sink="backend"}'] == 3
    assert abs(samples['triage_sink_latency_seconds_sum{sink="backend"}'] - 4.23) < 1e-9
    assert samples["triage_dlq_messages_visible"] == 2
    assert any(k.startswith("triage_build_info{") for k in samples)
    families = set(re.findall(r"^# TYPE (\S+) (\S+)$", text, re.M))
    helps = set(re.findall(r"^# HELP (\S+) ", text, re.M))
    assert {name for name, _ in families} == helps
    assert ("triage_sink_latency_seconds", "histogram") in families
    assert ("triage_tickets_created_total", "counter") in families


def test_each_exposition_has_its_own_registry() -> None:
    """Two Metrics in one process never show each other's series (no global registry)."""
    one, two = Metrics(), Metrics()
    one.incr("TicketsCreated", sink="backend")
    assert "triage_tickets_created_total" in prometheus_text(one)
    assert "triage_tickets_created_total" not in prometheus_text(two)


def names_in_metric_tables(source: str) -> set[str]:
    """The CamelCase names in a module's constants named for metrics (`_QUIET_METRIC`,
    `_QUEUE_GAUGES` …): the names a call records through a variable, not a literal."""
    found = set()
    for node in ast.parse(source).body:
        if not isinstance(node, ast.Assign | ast.AnnAssign):
            continue
        targets = node.targets if isinstance(node, ast.Assign) else [node.target]
        if not any(re.search(r"METRIC|GAUGE", ast.unparse(t)) for t in targets):
            continue
        for constant in ast.walk(node):
            if isinstance(constant, ast.Constant) and isinstance(constant.value, str):
                found |= set(re.findall(r"^[A-Z][a-z]+(?:[A-Z][a-z0-9]*)+$", constant.value))
    return found


def test_every_metric_the_code_records_is_described_and_documented() -> None:
    """Each metric name passed to incr/observe/set/gauge in src/triage, or held in a table of
    metric names a call picks from, is described (kind, unit, HELP text) and has a row in the
    README's Operations table under both of its names."""
    calls = re.compile(r"\.(incr|observe|set|gauge)\(\s*\"([A-Z]\w+)\"")
    found: set[str] = set()
    for path in (ROOT / "src" / "triage").rglob("*.py"):
        source = path.read_text(encoding="utf-8")
        found |= {m.group(2) for m in calls.finditer(source)}
        found |= names_in_metric_tables(source)
    assert {"DuplicatesSuppressed", "TicketsUpdated", "DlqMessagesVisible"} <= found
    assert len(found) > 20
    assert sorted(found - set(METRICS)) == []
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    operations = readme[readme.index("## Operations") :]
    missing = [
        name
        for name, described in sorted(METRICS.items())
        if f"`{name}" not in operations or f"`{described.prometheus_name(name)}" not in operations
    ]
    assert missing == []


def readme_dimensions() -> dict[str, set[str]]:
    """Each CloudWatch name in the README's metrics table, with the dimensions its row lists."""
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    operations = readme[
        readme.index("## Operations") : readme.index("\n## ", readme.index("## Operations") + 1)
    ]
    rows: dict[str, set[str]] = {}
    for line in operations.splitlines():
        cells = [cell.strip() for cell in line.strip().strip("|").split("|")]
        if len(cells) == 5 and cells[2] in ("counter", "gauge", "histogram"):
            for name in re.findall(r"`([A-Z]\w+)`", cells[0]):
                rows[name] = set(re.findall(r"`(\w+)`", cells[3]))
    return rows


def recorded_dimensions() -> list[tuple[str, str, set[str]]]:
    """(where, metric, dimension keywords) of every call recording a metric in src/triage: by
    a literal name, or by a name picked from a table of metric names (`_TICKET_METRIC[kind]`)."""
    out = []
    for path in (ROOT / "src" / "triage").rglob("*.py"):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        tables = {
            ast.unparse(target): names_in_metric_tables(ast.unparse(node))
            for node in tree.body
            if isinstance(node, ast.Assign)
            for target in node.targets
        }
        for call in ast.walk(tree):
            if not (
                isinstance(call, ast.Call)
                and isinstance(call.func, ast.Attribute)
                and call.func.attr in ("incr", "observe", "set", "gauge")
                and call.args
            ):
                continue
            first = call.args[0]
            if isinstance(first, ast.Constant) and isinstance(first.value, str):
                names = {first.value}
            elif isinstance(first, ast.Subscript):
                names = tables.get(ast.unparse(first.value), set())
            else:
                continue
            dims = {k.arg for k in call.keywords if k.arg not in (None, "unit")}
            out.extend((f"{path.name}:{call.lineno}", name, dims) for name in names & set(METRICS))
    return out


def test_every_metric_is_recorded_with_the_dimensions_the_readme_lists() -> None:
    """Every row of the README's metrics table names a metric the code describes, and every
    call recording one passes exactly the dimensions its row lists (a dimension added or
    dropped in the code, or in the README, breaks this)."""
    documented = readme_dimensions()
    assert sorted(set(documented) ^ set(METRICS)) == []
    calls = recorded_dimensions()
    assert {name for _, name, _ in calls} >= {"TicketsCreated", "IngestRequests", "SinkCalls"}
    drift = [
        (where, name, sorted(dims), sorted(documented[name]))
        for where, name, dims in calls
        if dims != documented[name]
    ]
    assert drift == []


def test_a_counter_read_names_some_dimensions_and_sums_the_rest() -> None:
    """Reading `TicketsCreated{sink}` sums its source and team series, so adding a dimension
    keeps every caller's reading right; a dimension value never counted reads 0."""
    metrics = Metrics()
    metrics.incr("TicketsCreated", sink="backend", source="grafana", team="ops")
    metrics.incr("TicketsCreated", 2, sink="backend", source="sentry", team="web")
    metrics.incr("TicketsCreated", sink="github", source="sentry", team="web")
    assert metrics.counter("TicketsCreated", sink="backend") == 3
    assert metrics.counter("TicketsCreated", source="sentry") == 3
    assert metrics.counter("TicketsCreated", sink="slack") == 0
    assert metrics.counter("TicketsCreated") == 4
