"""Operations surface: EMF lines, Prometheus text, PutMetricData, and the HTTP endpoints."""

from __future__ import annotations

import asyncio
import io
import json
import time
from collections.abc import AsyncIterator

import boto3
import httpx2
import pytest

from memory_inbox import MemoryInbox
from moto_speed import aws_session
from triage.errors import TransientError
from triage.health import Health
from triage.incidents.lifecycle import Action
from triage.metrics import Metrics
from triage.ops.endpoints import EndpointServer
from triage.ops.metrics_export import EmfExporter, PutMetricDataExporter
from triage.ops.prometheus import prometheus_text
from triage.sqs.inbox import Depth, Message
from triage.sqs.supervisor import Supervisor, SupervisorConfig


def _metrics() -> Metrics:
    m = Metrics()
    m.incr("TicketsCreated", 2)
    m.incr("MessagesFailed", reason="decode")
    m.observe("ProcessingLatency", 12.5)
    m.observe("ProcessingLatency", 30.0)
    return m


def test_emf_lines_are_valid_embedded_metric_format() -> None:
    """Each EMF line declares its namespace, dimensions and metrics, and carries every value it declares."""
    out = io.StringIO()
    assert EmfExporter(_metrics(), "AlertTriage", stream=out).flush(now_ms=1_700_000_000_000) == 2
    for line in out.getvalue().splitlines():
        doc = json.loads(line)
        meta = doc["_aws"]
        assert meta["Timestamp"] == 1_700_000_000_000
        [directive] = meta["CloudWatchMetrics"]
        assert directive["Namespace"] == "AlertTriage"
        for dimension_set in directive["Dimensions"]:
            assert all(isinstance(doc[d], str) for d in dimension_set)
        for metric in directive["Metrics"]:
            assert metric["Name"] in doc
            assert metric["Unit"] in {"Count", "Milliseconds"}
    docs = [json.loads(line) for line in out.getvalue().splitlines()]
    plain = next(d for d in docs if "TicketsCreated" in d)
    assert plain["TicketsCreated"] == 2
    assert plain["ProcessingLatency"] == [12.5, 30.0]


def test_emf_exports_counter_deltas_only() -> None:
    """A second flush exports only what was counted since the first."""
    out = io.StringIO()
    metrics = _metrics()
    exporter = EmfExporter(metrics, "AlertTriage", stream=out)
    exporter.flush()
    out.truncate(0)
    out.seek(0)
    metrics.incr("TicketsCreated")
    exporter.flush()
    [doc] = [json.loads(line) for line in out.getvalue().splitlines()]
    assert doc["TicketsCreated"] == 1
    assert "ProcessingLatency" not in doc


def test_prometheus_text_has_counters_and_histograms() -> None:
    """/metrics text names counters with _total and labels, and timings as histograms in seconds."""
    text = prometheus_text(_metrics())
    assert "triage_tickets_created_total 2.0" in text
    assert 'triage_messages_failed_total{reason="decode"} 1.0' in text
    assert "triage_processing_latency_seconds_count 2.0" in text
    assert "triage_processing_latency_seconds_sum 0.0425" in text


async def test_put_metric_data_reaches_cloudwatch(moto_url: str) -> None:
    """The PutMetricData exporter sends counters and statistic sets that CloudWatch stores."""
    session = aws_session()
    async with session.client("cloudwatch", endpoint_url=moto_url) as client:
        sent = await PutMetricDataExporter(_metrics(), "AlertTriage", client).flush()
    assert sent == 4  # MessagesFailed{reason} is also sent under Service alone
    cw = boto3.client("cloudwatch", endpoint_url=moto_url, region_name="us-east-1")
    names = {m["MetricName"] for m in cw.list_metrics(Namespace="AlertTriage")["Metrics"]}
    assert names == {"TicketsCreated", "MessagesFailed", "ProcessingLatency"}


@pytest.fixture
async def endpoints() -> AsyncIterator[tuple[EndpointServer, Health]]:
    health = Health()
    server = EndpointServer(health, _metrics(), "127.0.0.1", 0)
    await server.start()
    yield server, health
    await server.aclose()


async def test_endpoints_answer(endpoints: tuple[EndpointServer, Health]) -> None:
    """/healthz and /readyz answer 200 when healthy, /metrics serves Prometheus text, others 404."""
    server, _ = endpoints
    async with httpx2.AsyncClient(base_url=f"http://127.0.0.1:{server.port}") as client:
        assert (await client.get("/healthz")).status_code == 200
        ready = await client.get("/readyz")
        assert ready.status_code == 200
        assert ready.json()["ready"] is True
        metrics = await client.get("/metrics")
        assert "triage_tickets_created_total 2.0" in metrics.text
        assert (await client.get("/nope")).status_code == 404


class _UnreachableInbox(MemoryInbox):
    async def receive(self, max_messages: int, wait_s: int, visibility_s: int) -> list[Message]:
        raise TransientError("receive failed: could not connect to the endpoint URL")

    async def depth(self) -> Depth:
        raise TransientError("unreachable")


async def test_readyz_turns_unready_when_queue_is_unreachable(
    endpoints: tuple[EndpointServer, Health],
) -> None:
    """When receives fail, /readyz answers 503 naming the queue (the error text stays in the
    process), and the daemon keeps running."""
    server, health = endpoints

    async def handler(message: Message, _progress: object) -> list[Action]:
        return []

    supervisor = Supervisor(
        SupervisorConfig(wait_s=0), _UnreachableInbox(), handler, Metrics(), health=health
    )
    task = asyncio.create_task(supervisor.serve())
    try:
        async with httpx2.AsyncClient(base_url=f"http://127.0.0.1:{server.port}") as client:
            for _ in range(100):
                response = await client.get("/readyz")
                if response.status_code == 503:
                    break
                await asyncio.sleep(0.02)
        assert response.status_code == 503
        assert response.json()["failing"] == {"queue": "unreachable"}
        assert "could not connect" not in response.text
        assert "could not connect" in health.failing()["queue"]
        assert not task.done()
    finally:
        supervisor.should_exit.set()
        await task


async def test_healthz_reports_a_stalled_loop() -> None:
    """A loop blocked past the limit shows as lag, and /healthz turns unhealthy."""
    health = Health()
    watcher = asyncio.create_task(health.watch_loop(interval_s=0.05))
    await asyncio.sleep(0.1)
    time.sleep(0.3)  # noqa: ASYNC251 - block the loop on purpose
    await asyncio.sleep(0.1)
    watcher.cancel()
    assert health.loop_lag_s >= 0.2  # the spike is remembered after the loop recovers
    health.MAX_LAG_S = 0.2
    assert not health.alive
