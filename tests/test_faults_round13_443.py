"""Faults and triage's own signals, round 13 (task 443): each test a fault a replica meets in
production, proved at the fastest level that shows it.

- The backend opened a ticket whose confirmation DynamoDB wrote but did not answer (a
  timeout after the write, the read-back failing in the same blip): the message's retry
  found the effect done and skipped it, so TicketsCreated never counted that ticket and no
  `alert.routed` line named it.
- A new incident's summary whose save the store throttled was written again by the
  message's retry: a second model call (and its tokens) for one incident, and with the model
  failing, SummarizationFailures counted twice for one ticket.
- A body that never decodes, on a queue without a redrive policy (or one the daemon could
  not read), was made visible again at once for a DLQ that does not exist: received and
  rejected again at once, in a loop as fast as SQS answers, an error line each time.
- `message.visibility_capped`, the warning that SQS will show a message again whatever the
  heartbeat asks (so another replica may work it), named only its message id: the
  heartbeat writes it outside the message's log context, and it named no alert.
- A backend request cut off by the message's time limit or a stop was timed in SinkLatency
  but counted in no SinkCalls outcome (the sibling of LLMCalls' `cancelled`, task 430).
- A message whose attempt failed (a body that never decodes, on its way to the DLQ; a sink's
  5xx, released for a retry) ended its `message.process` span as if it had gone well: a
  tracing backend's error view showed no failed message at all, only the sink's child span
  when there was one.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx2
import pytest
import structlog
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import StatusCode

from factories import alert as factory_alert
from factories import view
from memory_inbox import MemoryInbox
from memory_store import MemoryStore
from recording_pipeline import POLICY, Sink, Summariser
from triage.errors import (
    DecodeError,
    SinkUnavailableError,
    StoreThrottledError,
    StoreUnavailableError,
)
from triage.incidents.ledger import Ledger
from triage.incidents.lifecycle import Incident, Outcome
from triage.metrics import Metrics
from triage.models import EffectKind, Priority, Ticket
from triage.pipeline import Pipeline
from triage.redact import Redactor
from triage.secrets import BackendToken
from triage.settings import Settings
from triage.sinks.backend import BackendSink
from triage.sinks.base import Effect
from triage.sqs.inbox import MAX_VISIBILITY_S, Message
from triage.sqs.supervisor import Handler, Progress, Supervisor, SupervisorConfig
from triage.tracing import Tracing
from triage.view import RedactedAlert


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


# --- A confirmation the store wrote but never said it did ------------------------------------


class _AnswerLost(MemoryStore):
    """A store whose first confirmation is written but unanswered (DynamoDB's timeout after
    the write), and whose read-back right after it fails too (the same network blip); with
    `throttled`, the first confirmation is refused instead (not written: its retry writes it)."""

    def __init__(self, *, throttled: bool = False) -> None:
        super().__init__(POLICY)
        self.throttled = throttled
        self._confirms_to_fail = 1
        self._reads_to_fail = 0

    async def confirm(self, *args: Any, **kwargs: Any) -> bool:
        if self._confirms_to_fail and self.throttled:
            self._confirms_to_fail -= 1
            raise StoreThrottledError("dynamodb put_item throttled", retry_after_s=1.0)
        written = await super().confirm(*args, **kwargs)
        if self._confirms_to_fail:
            self._confirms_to_fail -= 1
            self._reads_to_fail = 1
            raise StoreUnavailableError("dynamodb put_item failed: Read timeout on endpoint")
        return written

    async def get(self, fingerprint: str) -> Incident | None:
        if self._reads_to_fail:
            self._reads_to_fail -= 1
            raise StoreUnavailableError("dynamodb get_item failed: Could not connect")
        return await super().get(fingerprint)


@pytest.mark.parametrize(
    "throttled",
    [
        pytest.param(False, id="answer_lost"),
        pytest.param(True, id="throttled"),
    ],
)
async def test_a_ticket_whose_confirmation_went_unanswered_is_counted_once(
    throttled: bool,
) -> None:
    """The backend opened the ticket, and the store wrote its confirmation but did not answer
    (nor the read-back after it): the message's retry finds the effect done. TicketsCreated
    still counts the ticket once, and `alert.routed` names it once; a confirmation the store
    refused (throttled, not written) is counted once too, by whichever attempt counts it."""
    sink = Sink()
    metrics = Metrics()
    store = _AnswerLost(throttled=throttled)
    pipeline = Pipeline(
        Ledger(store), Summariser(), [sink], metrics, redactor=Redactor(), policy=POLICY
    )
    body = json.dumps({"title": "disk full on db-1", "dedup_key": "disk-db-1", "team": "ops"})
    with structlog.testing.capture_logs() as logs:
        for receive in (1, 2):
            message = Message("m-1", body, f"rh-{receive}", receive, None)
            try:
                await pipeline.process(message)
            except (StoreUnavailableError, StoreThrottledError):
                assert receive == 1  # the first attempt's confirmation failed; the retry works
    assert [e.kind for e in sink.effects] == [EffectKind.OPEN]
    assert metrics.total("TicketsCreated") == 1
    assert len([e for e in logs if e["event"] == "alert.routed"]) == 1


# --- A summary whose save the store refused ---------------------------------------------------


class _SaveThrottled(MemoryStore):
    """A store that refuses the first write of a new incident's summary (throttled: DynamoDB's
    table over its capacity for a moment), and takes everything else."""

    def __init__(self) -> None:
        super().__init__(POLICY)
        self._saves_to_fail = 1

    async def save_ticket(self, *args: Any, **kwargs: Any) -> None:
        if self._saves_to_fail:
            self._saves_to_fail -= 1
            raise StoreThrottledError("dynamodb put_item throttled", retry_after_s=1.0)
        await super().save_ticket(*args, **kwargs)


class _CountingSummariser(Summariser):
    """The recording pipeline's summariser, counting its calls (each a model call, billed)."""

    def __init__(self) -> None:
        self.calls = 0

    async def summarise(self, alert: RedactedAlert) -> Ticket:
        self.calls += 1
        return await super().summarise(alert)


async def test_a_summary_whose_save_was_throttled_is_not_written_again() -> None:
    """A new incident's summary is written, and its save throttled: the message's retry in
    this process opens the ticket with that summary, saved then, instead of asking the model
    again (an LLM call, and its tokens, once per incident, whatever the store does)."""
    sink = Sink()
    summariser = _CountingSummariser()
    store = _SaveThrottled()
    pipeline = Pipeline(
        Ledger(store), summariser, [sink], Metrics(), redactor=Redactor(), policy=POLICY
    )
    body = json.dumps({"title": "disk full on db-1", "dedup_key": "disk-db-1", "team": "ops"})
    with pytest.raises(StoreThrottledError):
        await pipeline.process(Message("m-1", body, "rh-1", 1, None))
    await pipeline.process(Message("m-1", body, "rh-2", 2, None))
    assert summariser.calls == 1
    assert [e.kind for e in sink.effects] == [EffectKind.OPEN]
    incident = await store.get(sink.effects[0].fingerprint)
    assert incident is not None and incident.ticket is not None
    assert incident.ticket.title == "disk full on db-1" and incident.route == "default"


# --- A message that never decodes, on a queue without a DLQ ------------------------------------


async def test_a_rejected_message_on_a_queue_without_a_redrive_policy_is_not_received_in_a_loop() -> (
    None
):
    """A body that never decodes is made visible again at once so that the redrive policy
    moves it to the DLQ; on a queue without one (its maxReceiveCount unknown), it came straight
    back, received and rejected as fast as SQS answers, an error line each time. It is hidden
    for the retry backoff instead, as a transient failure is; with a policy it still goes
    back at once."""
    inbox = MemoryInbox()
    inbox.put("not json")

    async def handler(_message: Message, _progress: Progress) -> list[Outcome]:
        raise DecodeError("body is not JSON")

    config = SupervisorConfig(wait_s=0, retry_base_s=2.0, retry_max_s=300.0)
    for limit, released_at_once in ((None, False), (5, True)):
        inbox.visibility_calls.clear()
        for entry in inbox.entries.values():
            entry.visible_at = 0.0
        supervisor = Supervisor(config, inbox, handler, Metrics())
        supervisor.max_receive_count = limit
        serving = asyncio.create_task(supervisor.serve())
        await _until(lambda: bool(inbox.visibility_calls))
        supervisor.should_exit.set()
        await serving
        (_, hidden_s), *_ = inbox.visibility_calls
        assert (hidden_s == 0) is released_at_once, (limit, hidden_s)


async def _until(condition: Callable[[], bool], timeout_s: float = 10.0) -> None:
    """Wait until `condition()` holds (polled), failing after `timeout_s`."""
    async with asyncio.timeout(timeout_s):
        while not condition():
            await asyncio.sleep(0.01)


# --- The heartbeat's line about a message at SQS's 12 h cap -----------------------------------


def test_the_visibility_cap_line_names_the_alert_the_message_reached() -> None:
    """`message.visibility_capped` (a message SQS will show again whatever we ask, so another
    replica may work it) names the alert its work reached, as every line about one message's
    delivery does: the heartbeat writes it outside the message's own log context."""
    supervisor = Supervisor(SupervisorConfig(), MemoryInbox(), _never_called, Metrics())
    age_s = MAX_VISIBILITY_S - Supervisor.VISIBILITY_MARGIN_S - 5
    received = datetime.now(UTC) - timedelta(seconds=age_s)
    message = Message("m-1", "{}", "rh-1", 1, None, received_at=received)
    message.alert.update({"fingerprint": "f6d45450e2cb", "source": "grafana"})
    with structlog.testing.capture_logs() as logs:
        supervisor._extensions([message], 60)
    [said] = [e for e in logs if e["event"] == "message.visibility_capped"]
    assert said["message_id"] == "m-1"
    assert (said["fingerprint"], said["source"]) == ("f6d45450e2cb", "grafana")


async def _never_called(_message: Message, _progress: Progress) -> list[Outcome]:
    raise AssertionError("no message is worked here")


# --- A backend request cut off by the message's time limit or a stop --------------------------


async def test_a_backend_request_cut_off_is_counted_as_it_is_timed(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A request to the backend cut off by the message's time limit or a stop: SinkLatency
    times it, as every request that went out, and SinkCalls counts it once (`cancelled`), so
    the two agree on how many requests there were."""
    monkeypatch.setenv("BACKEND_TOKEN", "test-token-123")
    started = asyncio.Event()

    async def never_answers(_request: httpx2.Request) -> httpx2.Response:
        started.set()
        await asyncio.Event().wait()
        raise AssertionError("unreachable")

    settings = Settings(backend_base_url="http://127.0.0.1:9")
    metrics = Metrics()
    sink = BackendSink(
        settings,
        BackendToken(settings),
        metrics=metrics,
        transport=httpx2.MockTransport(never_answers),
    )
    ticket = Ticket(title="disk full", priority=Priority.HIGH, description="d", steps=("s",))
    fired = factory_alert()
    effect = Effect(EffectKind.OPEN, fired.fingerprint, view(fired), ticket, None, 1, 1, False, "k")
    try:
        call = asyncio.create_task(sink.apply(effect))
        await started.wait()
        call.cancel()
        with pytest.raises(asyncio.CancelledError):
            await call
    finally:
        await sink.aclose()
    [timing] = [t for (name, _), t in metrics.timings().items() if name == "SinkLatency"]
    assert timing.count == 1
    assert metrics.counter("SinkCalls", sink="backend") == 1
    assert metrics.counter("SinkCalls", sink="backend", outcome="cancelled") == 1
