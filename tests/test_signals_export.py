"""CloudWatch export under an unlucky CloudWatch: an outage said once and its end said, a
batch refused for good dropped instead of holding every later flush, and values CloudWatch
never takes kept out of what is sent."""

from __future__ import annotations

import io
import json
import re
import urllib.parse

import structlog
from botocore.config import Config

from fault_proxy import FaultProxy
from hostile_server import answer, hostile
from moto_speed import aws_session
from triage.metrics import Metrics
from triage.ops.metrics_export import EmfExporter, PutMetricDataExporter
from triage.ops.prometheus import prometheus_text

_XMLNS = 'xmlns="http://monitoring.amazonaws.com/doc/2010-08-01/"'
ACCEPTED = answer(
    200,
    {"Content-Type": "text/xml"},
    f"<PutMetricDataResponse {_XMLNS}><ResponseMetadata><RequestId>r</RequestId>"
    "</ResponseMetadata></PutMetricDataResponse>".encode(),
)
INVALID = answer(
    400,
    {"Content-Type": "text/xml"},
    f"<ErrorResponse {_XMLNS}><Error><Type>Sender</Type><Code>InvalidParameterValue</Code>"
    "<Message>The value 1.0E200 for parameter MetricData.member.1.Value is invalid.</Message>"
    "</Error><RequestId>r</RequestId></ErrorResponse>".encode(),
)
ONCE = Config(retries={"total_max_attempts": 1})
TICKET_DIMS = {"sink": "backend", "source": "generic", "team": "ops"}


def sent_values(body: bytes) -> dict[str, list[str]]:
    """Each MetricName of a PutMetricData request (query protocol) with the values sent: its
    `Value`, or each of its `Values`."""
    fields = dict(urllib.parse.parse_qsl(body.decode()))
    out: dict[str, list[str]] = {}
    for key, name in fields.items():
        if key.endswith(".MetricName"):
            prefix = key.removesuffix("MetricName")
            listed = [v for k, v in fields.items() if k.startswith(prefix + "Values.member.")]
            single = [fields[prefix + "Value"]] if prefix + "Value" in fields else []
            out.setdefault(name, []).extend(single + listed)
    return out


async def test_a_cloudwatch_outage_is_one_warning_and_its_end_one_line(moto_url: str) -> None:
    """Three flushes failing in a row log one metrics.put_failed warning (the rest debug), and
    the flush that works again logs metrics.put_recovered with how many failed."""
    metrics = Metrics()
    metrics.incr("TicketsCreated", 1, **TICKET_DIMS)
    session = aws_session()
    with FaultProxy(moto_url) as proxy:
        async with session.client("cloudwatch", endpoint_url=proxy.url, config=ONCE) as client:
            exporter = PutMetricDataExporter(metrics, "Signals", client)
            proxy.break_answers("", "reset")
            with structlog.testing.capture_logs() as logs:
                for _ in range(3):
                    metrics.incr("TicketsCreated", 1, **TICKET_DIMS)
                    assert await exporter.flush() == 0
                proxy.heal("")
                assert await exporter.flush() > 0
                assert await exporter.flush() == 0  # nothing new, and no second recovery
    shown = [(e["event"], e["log_level"]) for e in logs if e["log_level"] != "debug"]
    assert shown == [("metrics.put_failed", "warning"), ("metrics.put_recovered", "info")]
    assert logs[-1]["failed_flushes"] == 3


async def test_a_batch_cloudwatch_refuses_for_good_is_dropped_not_sent_at_every_flush() -> None:
    """A 400 InvalidParameterValue drops the batch with one metrics.put_refused error: the next
    flush sends only what is new, instead of the refused data again (refused again, forever)."""
    metrics = Metrics()
    metrics.incr("TicketsCreated", 2, **TICKET_DIMS)
    session = aws_session()
    async with (
        hostile(INVALID, ACCEPTED) as server,
        session.client("cloudwatch", endpoint_url=server.url, config=ONCE) as client,
    ):
        exporter = PutMetricDataExporter(metrics, "Signals", client)
        with structlog.testing.capture_logs() as logs:
            assert await exporter.flush() == 0
            metrics.incr("TicketsCreated", 1, **TICKET_DIMS)
            assert await exporter.flush() == 2  # the new delta, with its Service rollup
    assert [(e["event"], e["log_level"]) for e in logs] == [("metrics.put_refused", "error")]
    assert logs[0]["code"] == "InvalidParameterValue" and logs[0]["dropped"] == 2
    assert sent_values(server.requests[-1].body) == {"TicketsCreated": ["1.0", "1.0"]}


async def test_values_cloudwatch_never_takes_stay_out_of_every_export() -> None:
    """A count or timing beyond ±2^360 (a provider billing 1e200 tokens) is neither written to
    EMF nor sent with PutMetricData, where it would fail the call and its whole batch; the
    other series of the flush still go."""
    metrics = Metrics()
    metrics.incr("LLMTokensIn", 1e200)
    metrics.observe("LLMLatency", 1e300)
    metrics.observe("LLMLatency", 1e300)
    metrics.incr("LLMCalls", outcome="ok")
    out = io.StringIO()
    EmfExporter(metrics, "Signals", stream=out).flush(now_ms=1_700_000_000_000)
    emf = [json.loads(line) for line in out.getvalue().splitlines()]
    assert {k for doc in emf for k in doc} & {"LLMTokensIn", "LLMLatency"} == set()
    assert any("LLMCalls" in doc for doc in emf)
    session = aws_session()
    async with (
        hostile(ACCEPTED) as server,
        session.client("cloudwatch", endpoint_url=server.url, config=ONCE) as client,
    ):
        metrics = fresh_with_huge_values()
        assert await PutMetricDataExporter(metrics, "Signals", client).flush() > 0
    sent = sent_values(server.requests[0].body)
    assert set(sent) == {"LLMCalls", "ProcessingLatency"}
    assert all(abs(float(v)) <= 2.0**360 for values in sent.values() for v in values)


def fresh_with_huge_values() -> Metrics:
    """Metrics holding values past CloudWatch's range, beside a sum of in-range values that
    adds up past it."""
    metrics = Metrics()
    metrics.incr("LLMTokensIn", 1e200)
    metrics.observe("LLMLatency", 1e300)
    metrics.incr("LLMCalls", outcome="ok")
    for _ in range(3):
        metrics.observe("ProcessingLatency", 2.0**359)
    return metrics


def test_a_gauge_that_is_not_finite_is_left_out_of_every_export() -> None:
    """A gauge set to NaN or infinity, or whose reader reads one (a damaged budget record), is
    unknown: left out of /metrics (where NaN would read as a value) and EMF alike, with one
    warning per gauge however many exports."""
    metrics = Metrics()
    metrics.set("QueueMessagesVisible", 4)
    with structlog.testing.capture_logs() as logs:
        metrics.set("QueueMessagesVisible", float("inf"))
        metrics.set("QueueMessagesDelayed", float("nan"))
        metrics.gauge("BudgetTokens", lambda: float("nan"), budget="github:create:a/b:minute")
        texts = [prometheus_text(metrics) for _ in range(3)]
        out = io.StringIO()
        EmfExporter(metrics, "Signals", stream=out).flush(now_ms=1_700_000_000_000)
    for text in texts:
        assert "NaN" not in text and "Inf\n" not in text
        assert not re.search(r"^triage_(queue_messages|budget_tokens)", text, re.M)
    assert "QueueMessages" not in out.getvalue() and "BudgetTokens" not in out.getvalue()
    assert sorted(e["event"] for e in logs) == ["metrics.gauge_failed"] + ["metrics.refused"] * 2
