"""Triage's own signals tell the truth under faults: a counter's HELP says whether it counts
messages or attempts at them, every family `/metrics` exports is documented, label values from
outside stay few and escaped, /healthz fails when a loop that must keep turning stops, and a
log call never fails its caller nor writes a line that is not JSON."""

from __future__ import annotations

import asyncio
import io
import json
import logging
import re
from pathlib import Path

import pytest
import structlog
from prometheus_client.parser import text_string_to_metric_families

from factories import alert
from memory_inbox import MemoryInbox
from test_http_endpoints import HEALTHZ, ask, running
from test_metrics_export import assert_valid_emf
from test_pipeline import rig
from test_signals_faults import promtool_check
from triage.errors import DecodeError, SinkUnavailableError
from triage.health import Health
from triage.incidents.lifecycle import Outcome
from triage.logs import MAX_LINE_BYTES, configure_logging
from triage.metrics import MAX_LABEL_VALUES, OTHER, Metrics
from triage.ops.metrics_export import METRICS, EmfExporter
from triage.ops.prometheus import prometheus_text
from triage.sqs.inbox import Message
from triage.sqs.supervisor import Progress, Supervisor, SupervisorConfig

ROOT = Path(__file__).resolve().parents[1]


def _help(text: str, family: str) -> str:
    """The `# HELP` text of `family` in Prometheus text."""
    found = re.search(rf"^# HELP {re.escape(family)} (.*)$", text, re.MULTILINE)
    assert found is not None, f"no HELP for {family}"
    return found.group(1)


async def test_a_retried_message_counts_once_per_failed_attempt_as_its_help_says() -> None:
    """A message whose sink fails twice and then takes it, and one that never decodes (three
    deliveries before the DLQ), count MessagesFailed once per failed delivery; the metric's
    HELP says it counts attempts, so nobody reads it as messages lost."""
    inbox = MemoryInbox()
    flaky, poison = inbox.put("flaky", "poison")
    tries = {flaky: 0, poison: 0}

    async def handler(message: Message, _progress: Progress) -> list[Outcome]:
        tries[message.id] += 1
        if message.id == poison:
            if tries[poison] >= 3:
                inbox.entries.pop(poison)  # the redrive policy's third receive: to the DLQ
            raise DecodeError("not JSON")
        if tries[flaky] <= 2:
            raise SinkUnavailableError("503")
        return []

    metrics = Metrics()
    config = SupervisorConfig(wait_s=0, drain=True, retry_base_s=0, shutdown_grace_s=1)
    await asyncio.wait_for(Supervisor(config, inbox, handler, metrics).serve(), 10)
    assert inbox.deleted == [flaky]
    assert metrics.counter("MessagesFailed", reason="sink_unavailable") == 2
    assert metrics.counter("MessagesFailed", reason="decode") == 3
    help_text = _help(prometheus_text(metrics), "triage_messages_failed_total")
    assert "attempt" in help_text and "once per" in help_text


def _operations_section() -> str:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    start = readme.index("## Operations")
    return readme[start : readme.index("\n## ", start + 1)]


def _documented_prometheus_families() -> set[str]:
    """The Prometheus names in the second column of the README's metrics table."""
    names: set[str] = set()
    for line in _operations_section().splitlines():
        cells = [cell.strip() for cell in line.strip().strip("|").split("|")]
        if len(cells) == 5 and cells[2] in ("counter", "gauge", "histogram"):
            names |= set(re.findall(r"`((?:triage|process)_\w+)`", cells[1]))
    return names


def _every_metric_recorded() -> Metrics:
    """A Metrics in which every metric the code describes has a series."""
    metrics = Metrics()
    for name, described in METRICS.items():
        if described.kind == "counter":
            metrics.incr(name, reason="x")
        elif described.kind == "histogram":
            metrics.observe(name, 5.0, described.unit)
        else:
            metrics.set(name, 1.0, described.unit)
    return metrics


def test_every_family_metrics_exports_is_in_the_readme_and_back() -> None:
    """The families of a /metrics page on which every metric has a series are exactly the
    Prometheus names of the README's table, the process collector's `process_*` family
    documented as a group: a series added to the exposition without a row, or a row for a
    series no longer exported, breaks this."""
    text = prometheus_text(_every_metric_recorded())
    exported = set(re.findall(r"^# TYPE (\S+) ", text, re.MULTILINE))
    documented = _documented_prometheus_families()
    assert "`process_*`" in _operations_section()
    undocumented = {n for n in exported - documented if not n.startswith("process_")}
    assert sorted(undocumented) == []
    assert sorted(documented - exported) == []
    assert {"triage_build_info", "triage_messages_failed_total"} <= exported


async def test_invented_teams_and_sources_make_a_bounded_page() -> None:
    """500 alerts (25 times the bound), each with a team and source of its own holding `"`,
    `\\` and a line break, through the pipeline: the ticket counter holds at most the bound's
    20 values per dimension plus `other`, every alert is counted, and promtool finds the page
    clean."""
    r = rig()
    for i in range(500):
        hostile = alert(f"n{i}").model_copy(update={"team": f'team"{i}\\\n', "source": f"s{i}\n"})
        await r.pipeline.handle(hostile, f"owner-{i}")
    text = prometheus_text(r.pipeline.metrics)
    series = [line for line in text.splitlines() if line.startswith("triage_tickets_created_total")]
    assert len(series) <= MAX_LABEL_VALUES + 1
    assert f'source="{OTHER}",team="{OTHER}"' in "".join(series)
    assert r.pipeline.metrics.total("TicketsCreated") == 500
    promtool_check(text)


def test_label_values_outside_the_cleaned_ones_round_trip_escaped() -> None:
    """Dimension values that are not cleaned (a sink's, a breaker's or a budget's name from
    the configuration) holding `\\`, `"` and a line break are escaped per the exposition
    format: each line stays one sample, promtool finds nothing, and a parser reads the
    original values back."""

    awkward = 'a\\b"c\nd'
    metrics = Metrics()
    metrics.incr("SinkCalls", sink=awkward, outcome="ok")
    metrics.set("BudgetTokens", 3, budget=awkward)
    metrics.observe("SinkLatency", 12.0, sink=awkward)
    text = prometheus_text(metrics)
    assert all(not line or line[0] in "#tp" for line in text.splitlines())
    promtool_check(text)
    read = {
        (family.name, sample.name): sample.labels
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }
    assert read[("triage_sink_calls", "triage_sink_calls_total")]["sink"] == awkward
    assert read[("triage_budget_tokens", "triage_budget_tokens")]["budget"] == awkward
    assert read[("triage_sink_latency_seconds", "triage_sink_latency_seconds_count")]["sink"] == (
        awkward
    )


class _Clock:
    """A monotonic clock the test moves by hand."""

    def __init__(self) -> None:
        self.now = 1_000.0

    def __call__(self) -> float:
        return self.now


async def test_healthz_fails_when_a_watched_loop_stops_turning_but_not_while_draining() -> None:
    """/healthz answers 200 while the intake loop beats within its promise, 503 naming it once
    a beat is overdue (its event loop and HTTP server still answering), and 200 again once a
    shutdown drains, when intake stopping is the plan."""
    clock = _Clock()
    health = Health(clock=clock)
    health.beat("intake", within_s=60)
    async with running(health=health) as server:
        status, _, body = await ask(server.port, HEALTHZ)
        assert (status, json.loads(body)["stalled"]) == (200, [])
        clock.now += 59
        assert (await ask(server.port, HEALTHZ))[0] == 200
        clock.now += 2
        status, _, body = await ask(server.port, HEALTHZ)
        assert (status, json.loads(body)["alive"], json.loads(body)["stalled"]) == (
            503,
            False,
            ["intake"],
        )
        health.beat("intake", within_s=60)
        assert (await ask(server.port, HEALTHZ))[0] == 200
        clock.now += 120
        health.set("shutting_down", False, "draining")
        assert (await ask(server.port, HEALTHZ))[0] == 200


class _Unprintable:
    """A value whose text cannot be had: str() and repr() both raise."""

    def __str__(self) -> str:
        raise RuntimeError("no text")

    def __repr__(self) -> str:
        raise RuntimeError("no repr")


def test_a_library_log_call_that_cannot_be_formatted_is_one_line_not_a_crash(
    capsys: pytest.CaptureFixture[str],
) -> None:
    """A library's warning whose arguments do not fit its format (`%d` given text), or whose
    argument has no text, returns to the library instead of raising into it, and is one JSON
    line naming its logger, its format and why it was not formatted; nothing else is written."""
    out = io.StringIO()
    configure_logging("json", "info", out)
    logging.getLogger("somelib").warning("retry %d of %s", "three")
    logging.getLogger("otherlib").warning("value %s", _Unprintable())
    lines = [json.loads(line) for line in out.getvalue().splitlines()]
    assert [(line["logger"], line["level"]) for line in lines] == [
        ("somelib", "warning"),
        ("otherlib", "warning"),
    ]
    assert lines[0]["event"] == "retry %d of %s (not formatted: TypeError)"
    assert lines[1]["event"] == "value %s (not formatted: RuntimeError)"
    assert capsys.readouterr().err == ""


def test_a_value_without_text_is_logged_as_its_type_not_raised() -> None:
    """Triage logging a value whose str() raises (an exception class with a broken __str__)
    writes its line, the value shown as `<unprintable TYPE>`, nested ones too, instead of
    failing the code that logged it."""
    out = io.StringIO()
    configure_logging("json", "info", out)
    structlog.get_logger("triage.x").warning(
        "sink.failed", error=_Unprintable(), nested={"errors": [_Unprintable()]}
    )
    [line] = [json.loads(text) for text in out.getvalue().splitlines()]
    assert line["error"] == "<unprintable _Unprintable>"
    assert line["nested"] == {"errors": ["<unprintable _Unprintable>"]}


def _strict_json(line: str) -> dict[str, object]:
    """`line` parsed as JSON proper: NaN and Infinity, which Python writes and most log
    pipelines refuse, fail the parse."""

    def refuse(constant: str) -> object:
        raise ValueError(f"not JSON: {constant}")

    parsed: dict[str, object] = json.loads(line, parse_constant=refuse)
    return parsed


def test_numbers_json_cannot_hold_are_written_as_text_not_a_broken_line() -> None:
    """A NaN or infinite float (a duration computed from a bad clock or a provider's number)
    and an integer too long to write in decimal, top-level or nested, leave a line that is
    JSON proper, the values as text, instead of a line with `NaN` or a log call that raises."""
    out = io.StringIO()
    configure_logging("json", "info", out)
    structlog.get_logger("triage.x").warning(
        "llm.usage",
        wait_s=float("nan"),
        cost=float("inf"),
        count=10**5000,  # (not `tokens`: a value under a credential's name that is no count goes)
        nested={"lag": [float("-inf")]},
        ok=1.5,
    )
    [line] = [_strict_json(text) for text in out.getvalue().splitlines()]
    assert (line["wait_s"], line["cost"], line["nested"], line["ok"]) == (
        "nan",
        "inf",
        {"lag": ["-inf"]},
        1.5,
    )
    assert line["count"] == "<int of 16610 bits>"


def test_a_json_line_never_outgrows_what_the_log_driver_ships_whole() -> None:
    """A 100 KB error text and a 60 KB traceback, ours and a library's: each is one line of
    at most MAX_LINE_BYTES (Docker cuts lines at 16 KiB, and the awslogs driver in the
    non-blocking mode of deploy/ecs ships each piece as an event of its own, none of them
    JSON), still JSON, its identifiers whole, the long values cut in their middle."""
    out = io.StringIO()
    configure_logging("json", "info", out)
    error = "head " + "x" * 100_000 + " tail"

    def crash() -> None:
        raise RuntimeError("deep\n" * 10_000 + "the end")

    try:
        crash()
    except RuntimeError:
        structlog.get_logger("triage.x").exception("message.crashed", error=error)
    logging.getLogger("somelib").warning("said %s", "y\u2028" * 30_000)
    lines = out.getvalue().splitlines()
    assert len(lines) == 2
    assert all(len(line.encode()) <= MAX_LINE_BYTES for line in lines)
    ours, library = (_strict_json(line) for line in lines)
    assert (ours["event"], ours["level"], ours["logger"]) == (
        "message.crashed",
        "error",
        "triage.x",
    )
    assert str(ours["error"]).startswith("head x") and str(ours["error"]).endswith("x tail")
    assert str(ours["exception"]).endswith("the end") and int(str(ours["cut_chars"])) > 100_000
    assert (library["logger"], library["level"]) == ("somelib", "warning")
    assert str(library["event"]).startswith("said y")


def test_an_emf_line_never_outgrows_what_the_log_driver_ships_whole() -> None:
    """Forty timings of 100 values each under long dimension values (a storm, a wide
    dimension set): every EMF line is at most MAX_LINE_BYTES, since awslogs in non-blocking
    mode ships a longer line in pieces that CloudWatch cannot read as EMF; together the lines
    still carry every value once, each line valid EMF."""
    metrics = Metrics()
    dims = {f"d{i}": "v" * 200 for i in range(20)}
    for n in range(40):
        for i in range(100):
            metrics.observe(f"Timing{n}", 1000.0 + i + n / 7, **dims)
    out = io.StringIO()
    EmfExporter(metrics, "AlertTriage", stream=out).flush(now_ms=1_700_000_000_000)
    lines = out.getvalue().splitlines()
    assert all(len(line.encode()) <= MAX_LINE_BYTES for line in lines)
    carried = 0
    for line in lines:
        doc = assert_valid_emf(line)
        for metric in doc["_aws"]["CloudWatchMetrics"][0]["Metrics"]:
            value = doc[metric["Name"]]
            carried += len(value) if isinstance(value, list) else 1
    assert carried == 40 * 100  # a line declares the series and its roll-up under Service


def test_a_line_whose_identifiers_are_too_long_still_says_what_happened() -> None:
    """A field kept whole in a cut line (here a 40 KB `source`) that alone passes the bound:
    the line keeps its event, level and logger, and how much was cut, within the bound."""
    out = io.StringIO()
    configure_logging("json", "info", out)
    structlog.get_logger("triage.x").warning("alert.failed", source="s" * 40_000, error="e")
    [line] = out.getvalue().splitlines()
    assert len(line.encode()) <= MAX_LINE_BYTES
    parsed = _strict_json(line)
    assert (parsed["event"], parsed["level"], parsed["logger"]) == (
        "alert.failed",
        "warning",
        "triage.x",
    )
    assert "source" not in parsed and int(str(parsed["cut_chars"])) >= 0
