"""Red team round 3c: latency histograms tell the truth when things go wrong. A sink call that
times out or cannot connect is a call the operator waited for: `SinkLatency` must hold it, or
the histogram looks healthiest exactly while the sink is down. The same holds for a message
that fails: `ProcessingLatency` ("one message, decode to last sink") must include it."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import pytest
from pydantic import SecretStr

import test_backend_sink as backend_tests
import test_pipeline as pipeline_tests
import test_slack_sink as slack_tests
from hostile_server import Answer, answer, hostile
from triage.errors import PermanentError, SinkUnavailableError, TriageError
from triage.metrics import Metrics
from triage.settings import Settings
from triage.sinks.slack import SlackSink
from triage.sqs.inbox import Message


@pytest.fixture(autouse=True)
def backend_token(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("BACKEND_TOKEN", "t0ken-for-the-test")


def never_answers() -> Answer:
    """An answer that never comes: the client's read timeout must end the call."""

    async def write(writer: asyncio.StreamWriter) -> None:
        await asyncio.Event().wait()

    return write


def closed_port() -> int:
    return backend_tests.closed_port()


def sink_latency(metrics: Metrics, sink: str) -> int:
    timing = metrics.timings().get(("SinkLatency", (("sink", sink),)))
    return 0 if timing is None else timing.count


@asynccontextmanager
async def slack_sink(url: str, metrics: Metrics, **settings: object) -> AsyncIterator[SlackSink]:
    sink = SlackSink(
        Settings(slack_webhook_url=SecretStr(url), **settings),  # type: ignore[arg-type]
        metrics=metrics,
    )
    try:
        yield sink
    finally:
        await sink.aclose()


async def test_backend_latency_counts_a_call_that_was_answered_503() -> None:
    """Guard: a backend answering 503 is one SinkLatency observation (the call was made)."""
    metrics = Metrics()
    async with (
        hostile(answer(503)) as server,
        backend_tests.open_sink(server.url, metrics=metrics) as sink,
    ):
        with pytest.raises(TriageError):
            await sink.apply(backend_tests.effect())
    assert sink_latency(metrics, "backend") == 1


async def test_backend_latency_counts_a_call_that_timed_out() -> None:
    """A backend that takes the request and never answers (read timeout) is one SinkLatency
    observation: the call the operator waited for is in the histogram."""
    metrics = Metrics()
    async with (
        hostile(never_answers()) as server,
        backend_tests.open_sink(server.url, metrics=metrics, backend_timeout_s=0.2) as sink,
    ):
        with pytest.raises(SinkUnavailableError):
            await sink.apply(backend_tests.effect())
        assert len(server.requests) == 1
    assert metrics.counter("SinkCalls", sink="backend", outcome="network") == 1
    assert sink_latency(metrics, "backend") == 1


async def test_backend_latency_counts_a_call_refused_at_connect() -> None:
    """A backend whose port refuses the connection is one SinkLatency observation too, as its
    `SinkCalls{outcome="network"}` is one call."""
    metrics = Metrics()
    url = f"http://127.0.0.1:{closed_port()}"
    async with backend_tests.open_sink(url, metrics=metrics) as sink:
        with pytest.raises(SinkUnavailableError):
            await sink.apply(backend_tests.effect())
    assert metrics.counter("SinkCalls", sink="backend", outcome="network") == 1
    assert sink_latency(metrics, "backend") == 1


async def test_slack_latency_counts_a_post_that_timed_out() -> None:
    """A Slack webhook that takes the post and never answers is one SinkLatency observation."""
    metrics = Metrics()
    async with hostile(never_answers()) as server:
        url = server.url + "/services/T0001/B0002/s3cr3t"
        async with slack_sink(url, metrics, slack_timeout_s=0.2) as sink:
            with pytest.raises(TriageError):
                await sink.apply(slack_tests.effect())
        assert len(server.requests) == 1
    assert metrics.counter("SinkCalls", sink="slack", outcome="network") == 1
    assert sink_latency(metrics, "slack") == 1


def processing_latency(r: pipeline_tests.Rig) -> int:
    timing = r.pipeline.metrics.timings().get(("ProcessingLatency", ()))
    return 0 if timing is None else timing.count


async def test_processing_latency_counts_a_handled_message() -> None:
    """Guard: a message handled through its sink is one ProcessingLatency observation."""
    r = pipeline_tests.rig()
    await r.pipeline.process(pipeline_tests.crash_loops(range(1)))
    assert r.sink.kinds() == ["open"]
    assert processing_latency(r) == 1


async def test_processing_latency_counts_a_message_whose_sink_failed() -> None:
    """A message whose sink answers 503 (it fails and is retried later) is one
    ProcessingLatency observation: the time spent on it is in the histogram too."""
    r = pipeline_tests.rig()
    r.sink.failures = 1
    with pytest.raises(SinkUnavailableError):
        await r.pipeline.process(pipeline_tests.crash_loops(range(1)))
    assert r.sink.kinds() == []
    assert processing_latency(r) == 1


async def test_processing_latency_counts_a_message_that_does_not_decode() -> None:
    """A body that is no alert (a permanent failure, bound for the DLQ) is one
    ProcessingLatency observation."""
    r = pipeline_tests.rig()
    with pytest.raises(PermanentError):
        await r.pipeline.process(Message("m-bad", "{not json", "rh-bad", 1, None))
    assert processing_latency(r) == 1
