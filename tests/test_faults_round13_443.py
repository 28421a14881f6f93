"""Faults and triage's own signals, round 13 (task 443): each test a fault a replica meets in
production, proved at the fastest level that shows it.

- A message whose attempt failed (a body that never decodes, on its way to the DLQ; a sink's
  5xx, released for a retry) ended its `message.process` span as if it had gone well: a
  tracing backend's error view showed no failed message at all, only the sink's child span
  when there was one.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator

import pytest
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import StatusCode

from memory_inbox import MemoryInbox
from triage.errors import DecodeError, SinkUnavailableError
from triage.incidents.lifecycle import Outcome
from triage.metrics import Metrics
from triage.sqs.inbox import Message
from triage.sqs.supervisor import Handler, Progress, Supervisor, SupervisorConfig
from triage.tracing import Tracing


@pytest.fixture
def spans() -> Iterator[tuple[Tracing, InMemorySpanExporter]]:
    """A tracer whose spans land in memory (never the global provider)."""
    exporter = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    yield Tracing.from_provider(provider), exporter
    provider.shutdown()


def _drain_config() -> SupervisorConfig:
    """One pass over the in-memory queue: a failed message is released at once, not retried
    in this run (its visibility is what the retry's backoff leaves: none)."""
    return SupervisorConfig(wait_s=0, drain=True, retry_base_s=0, shutdown_grace_s=1)


async def _serve_once(tracing: Tracing, handler: Handler, *bodies: str) -> None:
    """Serve `bodies` from an in-memory queue with `handler` until the queue is drained."""
    inbox = MemoryInbox()
    inbox.put(*bodies)
    supervisor = Supervisor(_drain_config(), inbox, handler, Metrics(), tracing=tracing)
    await asyncio.wait_for(supervisor.serve(), timeout=30)


async def test_a_failed_message_marks_its_message_span_failed(
    spans: tuple[Tracing, InMemorySpanExporter],
) -> None:
    """A delivery that fails (a body that never decodes, a sink's 503) ends its
    `message.process` span failed, naming the error's class and fixed reason only (never its
    text); the handled deliveries' spans (those two again, and a third) are not failed."""
    tracing, exporter = spans

    async def handler(message: Message, _progress: Progress) -> list[Outcome]:
        if message.receive_count == 1 and message.body == "bad":
            raise DecodeError("body is not JSON: token=hunter2")
        if message.receive_count == 1 and message.body == "down":
            raise SinkUnavailableError("backend answered 503: token=hunter2")
        return []

    await _serve_once(tracing, handler, "bad", "down", "fine")
    processed = [s for s in exporter.get_finished_spans() if s.name == "message.process"]
    first = [s for s in processed if s.end_time is not None]
    assert len(first) == 5  # the two failed deliveries, and three handled
    failed = [s for s in first if s.status.status_code is StatusCode.ERROR]
    by_id = {str((s.attributes or {})["messaging.message.id"]): s for s in failed}
    assert sorted(by_id) == ["m0", "m1"]
    bad, down = by_id["m0"], by_id["m1"]
    assert bad.status.status_code is StatusCode.ERROR
    assert bad.status.description == "DecodeError: decode"
    assert (bad.attributes or {})["error.type"] == "DecodeError"
    assert down.status.status_code is StatusCode.ERROR
    assert down.status.description == "SinkUnavailableError: sink_unavailable"
    assert not any("hunter2" in str(s.status.description) for s in processed)
