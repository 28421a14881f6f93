"""Traces from webhook to ticket: one trace through `triage ingest`, SQS and the daemon to the
backend's ticket, read back from an in-process span exporter; trace ids from X-Ray headers; the
trace id on every log line of a message and in the ticket; no spans and no import without the
`otel` extra."""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import httpx2
import pytest
import structlog
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from daemon_harness import SRC, TOKEN, Queues, drain_settings, settings_for
from factories import alert, view
from ingest_harness import bearer, ingest_settings, payload
from triage.app import run_daemon
from triage.demo.ticketd import TicketServer
from triage.ingest import IngestService
from triage.models import EffectKind, Priority, Ticket
from triage.sinks.base import Effect
from triage.sinks.github.text import issue_body
from triage.tracing import Tracing, current_trace_id, from_xray, valid_traceparent

SENDER_TRACE = "4bf92f3577b34da6a3ce929d0e0e4736"
SENDER_SPAN = "00f067aa0ba902b7"


@pytest.fixture
def spans() -> Iterator[tuple[Tracing, InMemorySpanExporter]]:
    """A tracer whose spans land in memory (never the global provider)."""
    exporter = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    yield Tracing.from_provider(provider), exporter
    provider.shutdown()


def _hex(value: int, width: int) -> str:
    return format(value, f"0{width}x")


async def test_one_trace_runs_from_the_webhook_to_the_ticket(
    queues: Queues,
    backend: TicketServer,
    tmp_path: Path,
    spans: tuple[Tracing, InMemorySpanExporter],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A webhook sent with a traceparent becomes one trace: the gateway's span is the sender's
    child, the daemon's message span the gateway's, and the summary and backend call the
    message's; the ticket and every log line of the message carry the trace id."""
    tracing, exporter = spans
    service = IngestService(
        ingest_settings(queues.url, queues.endpoint), stop=asyncio.Event(), tracing=tracing
    )
    await service.startup()
    try:
        async with httpx2.AsyncClient(base_url=f"http://127.0.0.1:{service.port}") as client:
            response = await client.post(
                "/v1/alerts/generic",
                content=payload("generic/firing.json"),
                headers={**bearer("generic"), "traceparent": f"00-{SENDER_TRACE}-{SENDER_SPAN}-01"},
            )
        assert response.status_code == 202, response.text
        message_id = response.json()["message_id"]
    finally:
        service.should_exit.set()
        await service.shutdown()

    monkeypatch.setenv("BACKEND_TOKEN", TOKEN)
    settings = settings_for(queues, backend.url, tmp_path / "triage.db", queue_depth_poll_s=0)
    with structlog.testing.capture_logs(
        processors=[structlog.contextvars.merge_contextvars]
    ) as logs:
        result = await run_daemon(drain_settings(settings), drain=True, tracing=tracing)
    assert result.stats.acked == 1

    by_name: dict[str, ReadableSpan] = {s.name: s for s in exporter.get_finished_spans()}
    assert set(by_name) == {"ingest.webhook", "message.process", "summarise", "sink.backend"}
    assert {_hex(s.context.trace_id, 32) for s in by_name.values()} == {SENDER_TRACE}

    def parent(name: str) -> str:
        span = by_name[name]
        assert span.parent is not None, name
        return _hex(span.parent.span_id, 16)

    def own(name: str) -> str:
        return _hex(by_name[name].context.span_id, 16)

    assert parent("ingest.webhook") == SENDER_SPAN
    assert parent("message.process") == own("ingest.webhook")
    assert parent("summarise") == own("message.process")
    assert parent("sink.backend") == own("message.process")
    assert by_name["message.process"].attributes == {
        "messaging.system": "aws_sqs",
        "messaging.message.id": message_id,
    }

    [ticket] = backend.tickets
    assert ticket["body"]["trace_id"] == SENDER_TRACE
    of_message = [e for e in logs if e.get("message_id") == message_id]
    assert {e["event"] for e in of_message} >= {"alert.routed", "message.acked"}
    assert [e["event"] for e in of_message if e.get("trace_id") != SENDER_TRACE] == []


async def test_a_webhook_without_trace_context_starts_a_trace_the_message_joins(
    queues: Queues, spans: tuple[Tracing, InMemorySpanExporter]
) -> None:
    """With no traceparent from the sender, the gateway's span is a root, and its context is the
    queued message's traceparent attribute."""
    tracing, exporter = spans
    service = IngestService(
        ingest_settings(queues.url, queues.endpoint), stop=asyncio.Event(), tracing=tracing
    )
    await service.startup()
    try:
        async with httpx2.AsyncClient(base_url=f"http://127.0.0.1:{service.port}") as client:
            response = await client.post(
                "/v1/alerts/generic",
                content=payload("generic/firing.json"),
                headers=bearer("generic"),
            )
        assert response.status_code == 202
    finally:
        service.should_exit.set()
        await service.shutdown()
    [span] = exporter.get_finished_spans()
    assert span.name == "ingest.webhook" and span.parent is None
    [message] = queues.client().receive_message(
        QueueUrl=queues.url, MessageAttributeNames=["All"], VisibilityTimeout=0
    )["Messages"]
    stored = message["MessageAttributes"]["traceparent"]["StringValue"]
    _version, trace_id, parent_id, flags = stored.split("-")
    assert (trace_id, parent_id) == (
        _hex(span.context.trace_id, 32),
        _hex(span.context.span_id, 16),
    )
    assert int(flags, 16) & 1  # sampled


def test_an_xray_trace_header_becomes_the_parent() -> None:
    """SQS's AWSTraceHeader (X-Ray) reads as the same trace in W3C form; a broken one is none."""
    header = "Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=1"
    assert from_xray(header) == "00-5759e988bd862e3fe1be46a994272793-53995c3f42cd8ad8-01"
    assert from_xray(
        "Sampled=0;Parent=53995c3f42cd8ad8;Root=1-5759e988-bd862e3fe1be46a994272793"
    ) == ("00-5759e988bd862e3fe1be46a994272793-53995c3f42cd8ad8-00")
    assert from_xray("Root=1-5759e988-bd862e3fe1be46a994272793") is None  # no parent span
    assert from_xray("Root=1-zz;Parent=53995c3f42cd8ad8") is None


@pytest.mark.parametrize(
    "header",
    [
        f"00-{'0' * 32}-{SENDER_SPAN}-01",  # all-zero trace id
        f"00-{SENDER_TRACE}-{'0' * 16}-01",  # all-zero parent id
        f"ff-{SENDER_TRACE}-{SENDER_SPAN}-01",  # the forbidden version
        f"00-{SENDER_TRACE.upper()}-{SENDER_SPAN}-01",
        "<script>",
        f"00-{SENDER_TRACE}-{SENDER_SPAN}-01-00",  # version 00 has exactly four fields
        f"01-{SENDER_TRACE}-{SENDER_SPAN}-01-<script>{{}}\"'",  # a later version: hex fields only
    ],
)
def test_a_malformed_traceparent_is_dropped(header: str) -> None:
    """Trace context that W3C calls invalid is never continued nor forwarded."""
    assert valid_traceparent(header) is None


def test_a_later_versions_extra_hex_fields_are_kept() -> None:
    """A future version's traceparent (more hex fields after the flags) is still continued."""
    header = f"01-{SENDER_TRACE}-{SENDER_SPAN}-01-abcd"
    assert valid_traceparent(header) == header


def test_xray_parent_is_continued_by_the_message_span(
    spans: tuple[Tracing, InMemorySpanExporter],
) -> None:
    """A message without a traceparent attribute but with an AWSTraceHeader joins that trace."""
    tracing, exporter = spans
    header = "Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=1"
    with tracing.message("m-1", None, header) as trace_id:
        assert trace_id == current_trace_id() == "5759e988bd862e3fe1be46a994272793"
    [span] = exporter.get_finished_spans()
    assert span.parent is not None and _hex(span.parent.span_id, 16) == "53995c3f42cd8ad8"


def test_without_spans_the_trace_id_that_came_is_still_carried() -> None:
    """With no tracer (no extra, no endpoint) a message's traceparent still names its trace in
    the logs and the ticket; a message without one, and what comes after, has no trace id."""
    tracing = Tracing()
    with structlog.testing.capture_logs(
        processors=[structlog.contextvars.merge_contextvars]
    ) as logs:
        with tracing.message("m-1", f"00-{SENDER_TRACE}-{SENDER_SPAN}-01"):
            assert current_trace_id() == SENDER_TRACE
            structlog.get_logger().info("inside")
        with tracing.message("m-2", None):
            assert current_trace_id() is None
            structlog.get_logger().info("untraced")
        structlog.get_logger().info("after")
    assert logs[0]["trace_id"] == SENDER_TRACE
    assert "trace_id" not in logs[1] and "trace_id" not in logs[2]  # unbound on the way out
    assert current_trace_id() is None


def test_without_spans_a_failing_message_unbinds_its_trace_id() -> None:
    """With no tracer, a message whose work raises still unbinds its trace id from the task
    and the log context, and the exception passes through unchanged."""
    tracing = Tracing()
    seen: list[str | None] = []

    def fail_inside() -> None:
        with tracing.message("m-1", f"00-{SENDER_TRACE}-{SENDER_SPAN}-01") as trace_id:
            seen.append(trace_id)
            raise LookupError("boom")

    with structlog.testing.capture_logs(
        processors=[structlog.contextvars.merge_contextvars]
    ) as logs:
        with pytest.raises(LookupError, match="boom"):
            fail_inside()
        structlog.get_logger().info("after")
    assert seen == [SENDER_TRACE]
    assert current_trace_id() is None
    assert "trace_id" not in logs[0]


def test_the_github_issue_names_its_trace() -> None:
    """A traced effect's issue body has a `Trace:` line with the id; an untraced one has none."""
    ticket = Ticket(title="t", priority=Priority.HIGH, description="d", steps=("s",))
    effect = Effect(EffectKind.OPEN, "fp", view(alert()), ticket, None, 1, 1, False, "fp:1")
    assert "Trace:" not in issue_body(effect)
    traced = Effect(
        EffectKind.OPEN,
        "fp",
        view(alert()),
        ticket,
        None,
        1,
        1,
        False,
        "fp:1",
        trace_id=SENDER_TRACE,
    )
    assert f"Trace: `{SENDER_TRACE}`" in issue_body(traced)


def test_an_endpoint_without_the_extra_says_how_to_get_it_and_runs_on() -> None:
    """With OTEL_EXPORTER_OTLP_ENDPOINT set but OpenTelemetry not importable, the daemon's and
    gateway's modules import, tracing is off, and one log line names the extra to install."""
    code = (
        "import sys; sys.modules['opentelemetry'] = None\n"
        "import triage.app, triage.ingest\n"
        "from triage.logs import configure_logging\n"
        "from triage.tracing import Tracing\n"
        "configure_logging()\n"
        "assert not Tracing.from_environment('triage').enabled\n"
    )
    env = {
        "PATH": "/usr/bin:/bin",
        "PYTHONPATH": str(SRC),
        "OTEL_EXPORTER_OTLP_ENDPOINT": "http://127.0.0.1:9",
    }
    result = subprocess.run(
        [sys.executable, "-c", code],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    [line] = [json.loads(x) for x in result.stderr.splitlines()]
    assert line["event"] == "tracing.unavailable" and "triage[otel]" in line["reason"]


def test_no_endpoint_means_no_spans_and_an_endpoint_means_otlp(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Without an OTLP endpoint no tracer is made; with one (the extra installed) it is."""
    monkeypatch.delenv("OTEL_EXPORTER_OTLP_ENDPOINT", raising=False)
    monkeypatch.delenv("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", raising=False)
    assert not Tracing.from_environment("triage").enabled
    monkeypatch.setenv("OTEL_EXPORTER_OTLP_ENDPOINT", "http://127.0.0.1:9")
    tracing = Tracing.from_environment("triage")
    assert tracing.enabled
    tracing.shutdown()
