"""`SinkCalls` and `SinkLatency` say exactly what they count: for the backend, each request
and how it ended (a 401 and the retry it causes are two), `skipped` for an effect that sent no
request, and one latency per effect over all its requests; their HELP says so, so nobody
divides one by effects or reads `skipped` as traffic."""

from __future__ import annotations

import re

import pytest

from test_backend_sink import effect, open_sink
from triage.demo.ticketd import TicketServer
from triage.metrics import Metrics
from triage.ops.prometheus import prometheus_text
from triage.sinks.base import EffectKind


@pytest.fixture(autouse=True)
def token_env(monkeypatch: pytest.MonkeyPatch, backend: TicketServer) -> None:
    monkeypatch.setenv("BACKEND_TOKEN", backend.token)


async def test_sink_calls_counts_requests_and_skips_as_its_help_says(
    backend: TicketServer,
) -> None:
    """One open answered 401 and then taken is two requests, counted `unauthorized` and `ok`;
    an update with no route sends nothing and is counted `skipped`; the HELP names both the
    per-request count and `skipped` as no request."""
    metrics = Metrics()
    backend.fail_next(1, status=401)
    async with open_sink(backend.url, metrics=metrics) as sink:
        await sink.apply(effect())
        await sink.apply(effect(EffectKind.UPDATE, ref="T-1", key="fp:2"))
    assert backend.request_count == 2
    assert metrics.counter("SinkCalls", sink="backend", outcome="unauthorized") == 1
    assert metrics.counter("SinkCalls", sink="backend", outcome="ok") == 1
    assert metrics.counter("SinkCalls", sink="backend", outcome="skipped") == 1
    found = re.search(r"^# HELP triage_sink_calls_total (.*)$", prometheus_text(metrics), re.M)
    assert found is not None
    help_text = found.group(1)
    assert "each request" in help_text
    assert "each ticket effect" in help_text  # GitHub's count
    assert "`skipped`" in help_text and "sent no request" in help_text


async def test_sink_latency_is_one_observation_per_effect_as_its_help_says(
    backend: TicketServer,
) -> None:
    """An open answered 401 and then taken makes two requests but one SinkLatency
    observation, covering both; the HELP says it times one ticket effect, not one call."""
    metrics = Metrics()
    backend.fail_next(1, status=401)
    async with open_sink(backend.url, metrics=metrics) as sink:
        await sink.apply(effect())
    assert backend.request_count == 2
    assert metrics.timings()[("SinkLatency", (("sink", "backend"),))].count == 1
    found = re.search(r"^# HELP triage_sink_latency_seconds (.*)$", prometheus_text(metrics), re.M)
    assert found is not None
    assert "one ticket effect" in found.group(1)
