"""Triage's counters against what really happened, one fault at a time: the real supervisor and
pipeline on an in-memory queue and store, each scenario's tickets, deletes and dead letters
counted by hand and compared with every counter the metrics hold, exactly (a counter that
counts a repeat, a retry or a lost delivery a second time shows as an extra entry)."""

from __future__ import annotations

import ast
import asyncio
import json
import re
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx2
import pytest
import structlog

from daemon_harness import Queues
from ingest_harness import bearer, ingest_settings, loopback_client, running
from memory_inbox import MemoryInbox
from memory_store import MemoryStore
from test_backend_sink import open_sink
from test_pipeline import LEASE, POLICY, CountingSummariser
from test_silences import Rig as SilencesRig
from triage import errors
from triage.breaker import CircuitBreaker
from triage.demo.ticketd import TicketServer
from triage.errors import (
    InboxError,
    SinkRejectedError,
    SinkThrottledError,
    SinkUnavailableError,
    StoreUnavailableError,
    SummariserError,
    TriageError,
)
from triage.incidents import Ledger
from triage.incidents.silences import Matcher, Silence, SilenceCache
from triage.incidents.store import R, Record, RecordChange
from triage.metrics import Metrics
from triage.models import EffectKind, Ticket
from triage.ops.endpoints import EndpointServer
from triage.ops.gauges import watch_breakers
from triage.ops.known_series import declare_known_series
from triage.ops.prometheus import prometheus_text
from triage.pipeline import Pipeline
from triage.redact import Redactor
from triage.sinks.base import Applied, Effect, Sink
from triage.sinks.guard import BREAKER_OPEN, GuardedSink
from triage.sqs.inbox import UNKNOWN_RECEIVE_COUNT, Message
from triage.sqs.supervisor import Supervisor, SupervisorConfig
from triage.summarise import FallbackSummariser
from triage.summarise.deterministic import DeterministicSummariser
from triage.view import RedactedAlert

#: The queue's redrive policy: received this many times and visible again, a message is moved
#: to the DLQ.
LIMIT = 3

#: One alert of the incident `api-5xx`, as a script sends it.
FIRING = json.dumps({"title": "api 5xx", "dedup_key": "api-5xx", "team": "payments"})
RESOLVED = json.dumps(
    {"title": "api 5xx", "dedup_key": "api-5xx", "team": "payments", "status": "resolved"}
)


class Queue(MemoryInbox):
    """SQS as these scenarios need it: its redrive policy (`LIMIT`); deletes it refuses
    (`refuse_deletes`: the message shows again at once, as when its visibility ends, and the
    stale handle of a delivery received since is refused too); deliveries it takes back
    (`lose`: the next visibility change of the delivery in hand is answered
    ReceiptHandleIsInvalid, and the message is visible for anyone again); and receive counts
    it may not say (`counts_said`). `name` starts its receipt handles: two replicas' queues
    hand out one message under handles of their own, as SQS does."""

    def __init__(self, *, counts_said: bool = True, name: str = "") -> None:
        super().__init__()
        self.counts_said = counts_said
        self.name = name
        self.dead: list[str] = []
        self.refuse_deletes: dict[str, int] = {}
        self.lose: set[str] = set()
        self.lost_handles: set[str] = set()
        self.refused: list[str] = []

    async def receive(self, max_messages: int, wait_s: int, visibility_s: int) -> list[Message]:
        now = time.monotonic()
        for mid, entry in list(self.entries.items()):
            if entry.receives >= LIMIT and entry.visible_at <= now:
                del self.entries[mid]
                self.dead.append(mid)
        received = [
            replace(m, receipt_handle=self.name + m.receipt_handle)
            for m in await super().receive(max_messages, wait_s, visibility_s)
        ]
        if self.counts_said:
            return received
        return [replace(m, receive_count=UNKNOWN_RECEIVE_COUNT) for m in received]

    async def delete(self, messages: Sequence[Message]) -> list[str]:
        refused = [m.id for m in messages if self._refuses_delete(m)]
        await super().delete([m for m in messages if m.id not in refused])
        self.refused += refused
        return refused

    def _refuses_delete(self, message: Message) -> bool:
        entry = self.entries.get(message.id)
        if entry is None:
            return False
        if self.refuse_deletes.get(message.id, 0) > 0:
            self.refuse_deletes[message.id] -= 1
            entry.visible_at = 0.0
            return True
        current = f"{self.name}rh-{message.id}-{entry.receives}"
        return message.receipt_handle != current or message.receipt_handle in self.lost_handles

    async def change_visibility(self, messages: Sequence[Message], timeout_s: int) -> None:
        kept = []
        for message in messages:
            if message.receipt_handle in self.lost_handles:
                continue  # SqsInbox sends no change for a delivery it was told is lost
            if message.id in self.lose:
                self.lose.discard(message.id)
                self.lost_handles.add(message.receipt_handle)
                self.entries[message.id].visible_at = 0.0
                for lost in message.on_lost:
                    lost()
                continue
            kept.append(message)
        await super().change_visibility(kept, timeout_s)


@dataclass
class Recorder:
    """A sink that keeps every effect it carried out; `failures` are raised first, in order,
    and `gate`, when given, holds each call until it is set."""

    name: str = "backend"
    effects: list[Effect] = field(default_factory=list)
    failures: list[Exception] = field(default_factory=list)
    gate: asyncio.Event | None = None

    async def apply(self, effect: Effect) -> Applied:
        if self.gate is not None:
            await self.gate.wait()
        if self.failures:
            raise self.failures.pop(0)
        self.effects.append(effect)
        return Applied("T-1") if effect.kind is EffectKind.OPEN else Applied()

    async def aclose(self) -> None:
        return None

    def kinds(self) -> list[str]:
        return [str(e.kind) for e in self.effects]


def pipeline(
    sinks: Sequence[Sink],
    metrics: Metrics,
    *,
    store: MemoryStore | None = None,
    summariser: object | None = None,
    silences: SilenceCache | None = None,
) -> Pipeline:
    """The real pipeline on an in-memory store (the real clock), with `sinks`."""
    return Pipeline(
        Ledger(store or MemoryStore(POLICY, LEASE)),
        summariser or CountingSummariser(),  # type: ignore[arg-type]
        sinks,
        metrics,
        redactor=Redactor(),
        policy=POLICY,
        silences=silences,
    )


#: Receives hide a message this long: ample, so a busy machine never sees a delivery expire
#: mid-scenario (one more receive would change the counts).
VISIBILITY_S = 30
#: For the scenarios in which SQS takes a delivery back: the heartbeat, whose extension SQS
#: answers so, then beats every half second.
BEATING_VISIBILITY_S = 2


def supervisor(
    queue: Queue, handler: Pipeline, metrics: Metrics, visibility_s: int = VISIBILITY_S
) -> Supervisor:
    """The real supervisor, knowing the redrive policy, draining `queue`: retries come back at
    once."""
    config = SupervisorConfig(
        wait_s=0,
        drain=True,
        retry_base_s=0,
        shutdown_grace_s=1,
        visibility_timeout_s=visibility_s,
    )
    daemon = Supervisor(config, queue, handler.process, metrics)
    daemon.max_receive_count = LIMIT
    return daemon


async def drain(
    queue: Queue, handler: Pipeline, metrics: Metrics, visibility_s: int = VISIBILITY_S
) -> Supervisor:
    """Serve until `queue` is empty; the supervisor, for its stats."""
    daemon = supervisor(queue, handler, metrics, visibility_s)
    await asyncio.wait_for(daemon.serve(), 20)
    return daemon


def counted(*registries: Metrics) -> dict[str, float]:
    """Every counter that counted, summed over its dimensions and over `registries` (the
    replicas): what an operator summing the fleet's series reads."""
    totals: dict[str, float] = {}
    for metrics in registries:
        for (name, _), value in metrics.counters().items():
            if value:
                totals[name] = totals.get(name, 0) + value
    return totals


# --- A message delivered twice ----------------------------------------------------------------


async def test_a_redelivery_after_a_lost_delete_is_counted_only_as_the_lost_delete() -> None:
    """A ticket opened, its message's delete refused, the message handled again: one ticket,
    one TicketsCreated, and the repeat counted once under MessagesFailed{delete} and nowhere
    else (no DuplicatesSuppressed, AlertsIgnored, nor a dead letter)."""
    queue, sink, metrics = Queue(), Recorder(), Metrics()
    (mid,) = queue.put(FIRING)
    queue.refuse_deletes[mid] = 1
    await drain(queue, pipeline([sink], metrics), metrics)
    assert queue.deleted == [mid] and queue.dead == [] and queue.refused == [mid]
    assert sink.kinds() == ["open"]
    assert counted(metrics) == {"TicketsCreated": 1, "MessagesFailed": 1, "MessagesHandled": 1}
    assert metrics.counter("MessagesFailed", reason="delete") == 1


async def test_one_message_at_two_replicas_is_one_ticket_and_counted_once() -> None:
    """SQS handing one message to two replicas at once (two copies, one store), both at work
    together: one ticket and one summary; summed over both replicas, one TicketsCreated, and
    the copy that waited for the other one hold (`store_busy`), no failure, no duplicate."""
    store, sink = MemoryStore(POLICY, LEASE), Recorder(gate=asyncio.Event())
    summariser = CountingSummariser()
    replicas = [(Queue(name=name), Metrics()) for name in ("a-", "b-")]
    daemons = []
    for queue, metrics in replicas:
        queue.put(FIRING)  # the same id, "m0", in both
        handler = pipeline([sink], metrics, store=store, summariser=summariser)
        daemons.append(supervisor(queue, handler, metrics))
    serving = asyncio.gather(*(daemon.serve() for daemon in daemons))
    await until(lambda: all(daemon.stats.received == 1 for daemon in daemons))
    held = [metrics for _, metrics in replicas]
    await until(lambda: sum(m.total("MessagesHeld") for m in held) >= 1)
    assert sink.gate is not None
    sink.gate.set()
    await asyncio.wait_for(serving, 20)
    assert [queue.deleted for queue, _ in replicas] == [["m0"], ["m0"]]
    assert sink.kinds() == ["open"] and summariser.calls == 1
    totals = counted(*held)
    assert totals.pop("TicketsCreated") == 1
    assert totals.pop("MessagesHandled") == 2  # each replica deleted its copy
    assert totals.pop("MessagesHeld") == sum(
        m.counter("MessagesHeld", reason="store_busy") for m in held
    )
    assert totals == {}


# --- A delivery SQS says is lost ----------------------------------------------------------------


def throttled() -> SinkThrottledError:
    """A sink's "wait" for this message alone (a 409's), longer than the heartbeat's beat: the
    delivery is still held when SQS says it is lost."""
    error = SinkThrottledError("409: in flight", retry_after_s=10)
    error.pauses_intake = False
    return error


async def test_a_held_delivery_sqs_takes_back_is_given_up_and_counted_nowhere() -> None:
    """A message held (its sink said wait) whose delivery SQS takes back is given up; its next
    delivery opens the ticket. One ticket, one hold, and the lost delivery counts in neither
    MessagesFailed nor MessagesDeadLettered; one `message.delivery_lost` info line says what
    became of it, and nothing about it is a warning but the hold's own line."""
    queue, metrics = Queue(), Metrics()
    sink = Recorder(failures=[throttled()])
    (mid,) = queue.put(FIRING)
    queue.lose.add(mid)
    with structlog.testing.capture_logs() as logs:
        await drain(queue, pipeline([sink], metrics), metrics, BEATING_VISIBILITY_S)
    assert queue.lost_handles == {f"rh-{mid}-1"} and queue.deleted == [mid]
    assert sink.kinds() == ["open"]
    assert counted(metrics) == {"TicketsCreated": 1, "MessagesHeld": 1, "MessagesHandled": 1}
    lost = [e["log_level"] for e in logs if e["event"] == "message.delivery_lost"]
    loud = [e["event"] for e in logs if e["log_level"] in ("warning", "error", "critical")]
    assert lost == ["info"] and loud == ["message.held"]


async def test_the_stopped_line_accounts_for_a_delivery_given_up_as_lost() -> None:
    """`daemon.stopped` says what became of every delivery received: the held one SQS took
    back and the daemon gave up is one `lost`, so received = acked + retried + rejected +
    delete_failed + released_on_shutdown + lost, as for every other outcome."""
    queue, metrics = Queue(), Metrics()
    sink = Recorder(failures=[throttled()])
    (mid,) = queue.put(FIRING)
    queue.lose.add(mid)
    with structlog.testing.capture_logs() as logs:
        await drain(queue, pipeline([sink], metrics), metrics, BEATING_VISIBILITY_S)
    [stopped] = [e for e in logs if e["event"] == "daemon.stopped"]
    outcomes = ("acked", "retried", "rejected", "delete_failed", "released_on_shutdown", "lost")
    assert stopped["received"] == 2 and stopped["lost"] == 1
    assert stopped["received"] == sum(stopped[outcome] for outcome in outcomes)


async def test_a_held_delivery_lost_on_its_last_receive_is_not_counted_as_dead_lettered() -> None:
    """The same on the message's last receive: SQS moves it to the DLQ, but the daemon, which
    gave it up, does not say it did (MessagesDeadLettered is the deliveries it gave back)."""
    queue, metrics = Queue(), Metrics()
    sink = Recorder(failures=[throttled()])
    (mid,) = queue.put(FIRING)
    queue.entries[mid].receives = LIMIT - 1
    queue.lose.add(mid)
    await drain(queue, pipeline([sink], metrics), metrics, BEATING_VISIBILITY_S)
    assert queue.dead == [mid] and sink.effects == []
    assert counted(metrics) == {"MessagesHeld": 1}


async def test_a_delivery_lost_at_work_finishes_once_and_its_repeat_changes_nothing() -> None:
    """A delivery SQS takes back while its sink call is out finishes (one ticket); the next
    delivery, received meanwhile, waits for it and changes nothing. The first one's refused
    delete is the one failure counted (the second delivery is its repeat); nothing is
    counted as dead-lettered, suppressed or ignored."""
    queue, metrics = Queue(), Metrics()
    sink = Recorder(gate=asyncio.Event())
    (mid,) = queue.put(FIRING)
    queue.lose.add(mid)
    handler = pipeline([sink], metrics)
    daemon = supervisor(queue, handler, metrics, BEATING_VISIBILITY_S)
    serving = asyncio.create_task(daemon.serve())
    await until(lambda: daemon.stats.received == 2)
    assert queue.lost_handles == {f"rh-{mid}-1"}
    assert sink.gate is not None
    sink.gate.set()
    await asyncio.wait_for(serving, 20)
    assert sink.kinds() == ["open"] and queue.deleted == [mid] and queue.dead == []
    totals = counted(metrics)
    assert totals.pop("TicketsCreated") == 1
    assert totals.pop("MessagesHandled") == 1
    assert totals.pop("MessagesFailed") == metrics.counter("MessagesFailed", reason="delete") == 1
    assert totals.pop("MessagesHeld") == metrics.counter("MessagesHeld", reason="store_busy")
    assert totals == {}


# --- A poison message ---------------------------------------------------------------------------


@pytest.mark.parametrize(("counts_said", "dead_lettered"), [(True, 1), (False, 0)])
async def test_a_poison_message_is_dead_lettered_once_and_only_when_its_count_is_known(
    counts_said: bool, dead_lettered: int
) -> None:
    """A body that never decodes fails each of its LIMIT receives (MessagesFailed{decode} each
    time) and is moved to the DLQ: MessagesDeadLettered{decode} counts it once, on its last
    receive; when SQS did not say the receive counts, never. Each receive says why in one
    `message.rejected` error, and the last one's `message.dead_lettered` warning says it once."""
    queue, sink, metrics = Queue(counts_said=counts_said), Recorder(), Metrics()
    (mid,) = queue.put("this is not an alert")
    with structlog.testing.capture_logs() as logs:
        await drain(queue, pipeline([sink], metrics), metrics)
    loud = [(e["event"], e["log_level"]) for e in logs if e["log_level"] in ("warning", "error")]
    rejected = [("message.rejected", "error")] * LIMIT
    assert loud == rejected + [("message.dead_lettered", "warning")] * dead_lettered
    assert queue.dead == [mid] and queue.deleted == []
    expected = {"MessagesFailed": LIMIT}
    if dead_lettered:
        expected["MessagesDeadLettered"] = dead_lettered
    assert counted(metrics) == expected
    assert metrics.counter("MessagesFailed", reason="decode") == LIMIT
    assert metrics.counter("MessagesDeadLettered", reason="decode") == dead_lettered


async def test_a_new_ticket_the_sink_refuses_for_good_fails_its_message_into_the_dlq() -> None:
    """README (The ticket backend): "A new ticket's permanent refusal fails its message (the
    DLQ shows it)". A sink refusing the open on every try (a 400): each receive sends the open
    to it again and fails (MessagesFailed{sink_rejected}), and on its LIMIT-th the message is
    moved to the DLQ, counted once in MessagesDeadLettered{sink_rejected}."""
    queue, metrics = Queue(), Metrics()
    sink = Recorder(failures=[SinkRejectedError("400: bad request") for _ in range(LIMIT)])
    (mid,) = queue.put(FIRING)
    await drain(queue, pipeline([sink], metrics), metrics)
    assert sink.effects == [] and sink.failures == []
    assert queue.dead == [mid] and queue.deleted == []
    assert counted(metrics) == {"MessagesFailed": LIMIT, "MessagesDeadLettered": 1}
    assert metrics.counter("MessagesDeadLettered", reason="sink_rejected") == 1


# --- The summariser's fallback ------------------------------------------------------------------


class FailingModel:
    """An LLM summariser that always fails with `reason` (a timeout, a bad answer, an open
    breaker), counting its calls."""

    def __init__(self, reason: str) -> None:
        self.reason = reason
        self.calls = 0

    async def summarise(self, alert: RedactedAlert) -> Ticket:
        self.calls += 1
        raise SummariserError(self.reason)

    async def aclose(self) -> None:
        return None


@pytest.mark.parametrize("reason", ["timeout", "bad_response", "breaker_open"])
async def test_a_fallback_ticket_is_one_summarization_failure_however_often_its_sink_fails(
    reason: str,
) -> None:
    """The model fails and the deterministic summariser writes the ticket; the sink then fails
    twice before it takes it. SummarizationFailures and LLMFallbacks{reason} count the one
    ticket written, once, not once per attempt at the message; so does its one
    `summariser.fallback` line (info for an open breaker, whose own line said it at warning)."""
    queue, metrics = Queue(), Metrics()
    sink = Recorder(failures=[SinkUnavailableError("503"), SinkUnavailableError("503")])
    model = FailingModel(reason)
    summariser = FallbackSummariser(model, DeterministicSummariser(), metrics, Redactor())
    queue.put(FIRING)
    with structlog.testing.capture_logs() as logs:
        await drain(queue, pipeline([sink], metrics, summariser=summariser), metrics)
    fallbacks = [e["log_level"] for e in logs if e["event"] == "summariser.fallback"]
    assert fallbacks == ["info" if reason == "breaker_open" else "warning"]
    assert sink.kinds() == ["open"] and model.calls == 1
    assert counted(metrics) == {
        "TicketsCreated": 1,
        "SummarizationFailures": 1,
        "LLMFallbacks": 1,
        "MessagesFailed": 2,
        "MessagesHandled": 1,
    }
    assert metrics.counter("LLMFallbacks", reason=reason) == 1
    assert metrics.counter("MessagesFailed", reason="sink_unavailable") == 2


# --- A sink down, then up -----------------------------------------------------------------------


@pytest.fixture
def backend_token(monkeypatch: pytest.MonkeyPatch, backend: TicketServer) -> None:
    """The loopback backend's token where the backend sink reads it."""
    monkeypatch.setenv("BACKEND_TOKEN", backend.token)


@pytest.mark.usefixtures("backend_token")
async def test_a_backend_down_then_up_counts_each_failed_request_and_attempt_once(
    backend: TicketServer,
) -> None:
    """The loopback backend answers 503 twice, then takes the ticket: SinkCalls counts the two
    requests `unavailable` and one `ok`, MessagesFailed{sink_unavailable} the two failed
    attempts, TicketsCreated the one ticket the backend holds; its breaker (threshold 5)
    stays closed and nothing is dead-lettered though the message used its last receive."""
    queue, metrics = Queue(), Metrics()
    (mid,) = queue.put(FIRING)
    backend.fail_next(2, status=503)
    async with open_sink(backend.url, metrics=metrics) as inner:
        guarded = GuardedSink(inner, CircuitBreaker("sink:backend", 5, 30))
        await drain(queue, pipeline([guarded], metrics), metrics)
    assert queue.deleted == [mid] and len(backend.tickets) == 1
    assert counted(metrics) == {
        "TicketsCreated": 1,
        "SinkCalls": 3,
        "MessagesFailed": 2,
        "MessagesHandled": 1,
    }
    assert metrics.counter("SinkCalls", sink="backend", outcome="unavailable") == 2
    assert metrics.counter("SinkCalls", sink="backend", outcome="ok") == 1
    assert metrics.counter("MessagesFailed", reason="sink_unavailable") == 2
    assert metrics.counter("TicketsCreated", sink="backend") == 1


@pytest.mark.usefixtures("backend_token")
async def test_a_backend_found_down_holds_its_message_and_counts_no_failure(
    backend: TicketServer,
) -> None:
    """The backend down (its POSTs and its probe answer 503): the first call's failure, which
    the sink's own probe confirms, opens the breaker and holds the message instead of failing
    it. Once the backend is back, the probe closes the breaker and the message opens the
    ticket: SinkCalls counts the one failed request and the one taken, MessagesHeld the holds
    (`breaker_open`), and neither MessagesFailed nor MessagesDeadLettered counts anything."""
    queue, metrics = Queue(), Metrics()
    (mid,) = queue.put(FIRING)
    backend.down = True
    async with open_sink(backend.url, metrics=metrics) as inner:
        breaker = CircuitBreaker("sink:backend", 5, 0.05)
        watch_breakers(metrics, [breaker])
        daemon = supervisor(queue, pipeline([GuardedSink(inner, breaker)], metrics), metrics)
        serving = asyncio.create_task(daemon.serve())
        await until(lambda: metrics.counter("MessagesHeld", reason="breaker_open") > 0)
        state, open_for = breaker_gauges(metrics)
        assert state in (1.0, 2.0) and open_for >= 0  # open, or half-open while it probes
        backend.down = False
        await asyncio.wait_for(serving, 20)
    assert queue.deleted == [mid] and len(backend.tickets) == 1
    assert breaker_gauges(metrics) == (0.0, 0.0)
    totals = counted(metrics)
    assert totals.pop("TicketsCreated") == 1
    assert totals.pop("MessagesHandled") == 1
    assert totals.pop("SinkCalls") == 2
    assert metrics.counter("SinkCalls", sink="backend", outcome="unavailable") == 1
    assert totals.pop("MessagesHeld") == metrics.counter("MessagesHeld", reason="breaker_open")
    assert totals == {}


def breaker_gauges(metrics: Metrics) -> tuple[float, float]:
    """The backend breaker's BreakerState and BreakerOpenDuration, as an export reads them."""
    gauges = metrics.gauges()
    key = (("breaker", "sink:backend"),)
    return gauges[("BreakerState", key)].value, gauges[("BreakerOpenDuration", key)].value


# --- Silenced alerts, and a reopen ----------------------------------------------------------------


async def test_a_silenced_alert_delivered_twice_is_counted_once_and_opens_nothing() -> None:
    """An alert a silence matches, its delete lost and its message handled again: no ticket,
    no summary, AlertsSilenced once and the lost delete; no other counter."""
    store, sink, metrics = MemoryStore(POLICY, LEASE), Recorder(), Metrics()
    summariser = CountingSummariser()
    now = datetime.now(UTC)
    matchers = [Matcher.parse("team=payments")]
    silence = Silence.new(matchers, now, now + timedelta(hours=1), "maintenance", "alice")
    await store.add_silence(silence, now)
    silences = SilenceCache(store, max_age_s=0.0)
    queue = Queue()
    (mid,) = queue.put(FIRING)
    queue.refuse_deletes[mid] = 1
    handler = pipeline([sink], metrics, store=store, summariser=summariser, silences=silences)
    await drain(queue, handler, metrics)
    assert queue.deleted == [mid] and sink.effects == [] and summariser.calls == 0
    assert counted(metrics) == {"AlertsSilenced": 1, "MessagesFailed": 1, "MessagesHandled": 1}


async def test_a_silenced_incident_counts_its_ticket_once_when_the_silence_ends() -> None:
    """Two alerts under a silence count AlertsSilenced twice and open nothing; when it ends,
    two replicas' sweeps open the one ticket: TicketsCreated once, and nothing else counted
    (the held alerts are not counted again as repeats)."""
    r = SilencesRig()
    await r.silence("team=payments")
    await r.send(0)
    await r.send(5)
    r.clock.at(61)
    await r.sweep("sweep-a").once()
    await r.sweep("sweep-b").once()
    assert r.sink.kinds() == ["open"] and r.summariser.calls == 1
    assert counted(r.metrics) == {"AlertsSilenced": 2, "TicketsCreated": 1}


async def test_a_reopen_is_counted_with_the_ticket_it_reopened() -> None:
    """Firing, resolved, firing again within the reopen window: one ticket opened, closed and
    reopened, each counted once per sink with the alert's source and team, and on /metrics."""
    store, sink, metrics = MemoryStore(POLICY, LEASE), Recorder(), Metrics()
    handler = pipeline([sink], metrics, store=store)
    queue = Queue()
    for body in (FIRING, RESOLVED, FIRING):  # one at a time, in order: m0, m1, m2
        queue.put(body)
        await drain(queue, handler, metrics)
    assert sink.kinds() == ["open", "close", "reopen"]
    assert counted(metrics) == {
        "TicketsCreated": 1,
        "TicketsClosed": 1,
        "TicketsReopened": 1,
        "MessagesHandled": 3,
    }
    assert metrics.counter("TicketsReopened", sink="backend", source="generic") == 1
    text = prometheus_text(metrics)
    assert (
        'triage_tickets_reopened_total{sink="backend",source="generic",team="payments"} 1.0' in text
    )


async def until(condition: Callable[[], bool], timeout_s: float = 10.0) -> None:
    """Wait for `condition` with a deadline (never a fixed sleep)."""
    async with asyncio.timeout(timeout_s):
        while not condition():
            await asyncio.sleep(0.005)


# --- Outages: /readyz and /healthz, and what the held messages count ---------------------------


class FlakyStore(MemoryStore):
    """The in-memory store, out of service (every read, write and ping fails) while `down`."""

    down = False

    def _check(self) -> None:
        if self.down:
            raise StoreUnavailableError("memory: the store is down")

    async def _get(self, kind: str, key: str) -> Record | None:
        self._check()
        return await super()._get(kind, key)

    async def _update(self, kind: str, key: str, change: RecordChange[R]) -> R:
        self._check()
        return await super()._update(kind, key, change)

    async def ping(self) -> None:
        self._check()


class FlakyQueue(Queue):
    """A Queue whose receives fail (an SQS outage) while `down`."""

    down = False

    async def receive(self, max_messages: int, wait_s: int, visibility_s: int) -> list[Message]:
        if self.down:
            raise InboxError("receive failed: connection refused")
        return await super().receive(max_messages, wait_s, visibility_s)


async def probe(http: httpx2.AsyncClient) -> tuple[int, object, int]:
    """/readyz's status and what it says is failing, and /healthz's status."""
    ready = await http.get("/readyz")
    alive = await http.get("/healthz")
    return ready.status_code, ready.json()["failing"], alive.status_code


async def test_readyz_follows_a_store_outage_and_a_queue_outage_while_healthz_stays_alive() -> None:
    """A message arrives while the store is down: /readyz answers 503 `store: unavailable`
    and /healthz 200, the message is held (MessagesHeld{store_unavailable}), never failed;
    the store back, the ticket opens and /readyz is 200. Then receives fail: 503 `queue:
    unreachable`, /healthz still 200; SQS back, 200 again, and nothing else was counted."""
    store, sink, metrics = FlakyStore(POLICY, LEASE), Recorder(), Metrics()
    queue = FlakyQueue()
    handler = pipeline([sink], metrics, store=store)
    config = SupervisorConfig(
        wait_s=0, retry_base_s=0, shutdown_grace_s=1, receive_retry_base_s=0.05
    )
    daemon = Supervisor(config, queue, handler.process, metrics, store_probe=store.ping)
    daemon.DEFAULT_HOLD_S, daemon.STORE_HOLD_MAX_S, daemon.STORE_PROBE_S = 0.01, 0.02, 0.01
    endpoints = EndpointServer(daemon.health, metrics, "127.0.0.1", 0)
    await endpoints.start()
    serving = asyncio.create_task(daemon.serve())
    try:
        async with httpx2.AsyncClient(base_url=f"http://127.0.0.1:{endpoints.port}") as http:
            await until(lambda: daemon.health.ready)
            store.down = True
            queue.put(FIRING)
            await until(lambda: metrics.counter("MessagesHeld", reason="store_unavailable") > 0)
            assert await probe(http) == (503, {"store": "unavailable"}, 200)
            store.down = False
            await until(lambda: daemon.health.ready and daemon.stats.acked == 1)
            assert await probe(http) == (200, {}, 200)
            queue.down = True
            await until(lambda: not daemon.health.ready)
            assert await probe(http) == (503, {"queue": "unreachable"}, 200)
            queue.down = False
            await until(lambda: daemon.health.ready)
            assert await probe(http) == (200, {}, 200)
    finally:
        daemon.should_exit.set()
        await asyncio.wait_for(serving, 10)
        await endpoints.aclose()
    assert sink.kinds() == ["open"]
    totals = counted(metrics)
    assert totals.pop("TicketsCreated") == 1
    assert totals.pop("MessagesHandled") == 1
    assert totals.pop("MessagesHeld") == metrics.counter("MessagesHeld", reason="store_unavailable")
    assert totals == {}


def test_messages_held_says_it_counts_the_stores_waits_and_a_group_gathering() -> None:
    """MessagesHeld counts holds for the store (an outage, `store_unavailable`; another
    delivery at work on the incident, `store_busy`, as the scenarios above show) and for a
    group gathering its members, besides a service's or budget's wait: its HELP says so, so
    a store outage's holds are not read as a service throttling triage."""
    metrics = Metrics()
    metrics.incr("MessagesHeld", reason="store_unavailable")
    found = re.search(r"^# HELP triage_messages_held_total (.*)$", prometheus_text(metrics), re.M)
    assert found is not None
    help_text = found.group(1)
    assert "store" in help_text and "another delivery" in help_text and "group" in help_text


# --- The gateway's latency ----------------------------------------------------------------------


async def test_ingest_latency_times_each_answer_the_gateway_gives_per_source(
    queues: Queues,
) -> None:
    """Three webhooks to `triage ingest` (one queued: 202; one with a wrong token: 401; one
    that is not JSON: 422) are three IngestRequests{source=generic} and three IngestLatency
    observations under the same source, on /metrics as the histogram's count."""
    async with (
        running(ingest_settings(queues.url, queues.endpoint)) as gateway,
        loopback_client(gateway.port) as client,
    ):
        for headers, body, status in (
            (bearer("generic"), FIRING.encode(), 202),
            ({"Authorization": "Bearer wrong"}, FIRING.encode(), 401),
            (bearer("generic"), b"{not json", 422),
        ):
            answer = await client.post("/v1/alerts/generic", content=body, headers=headers)
            assert answer.status_code == status, answer.text
    metrics = gateway.metrics
    assert metrics.counter("IngestRequests", source="generic") == 3
    timing = metrics.timings()[("IngestLatency", (("source", "generic"),))]
    assert timing.count == 3
    text = prometheus_text(metrics)
    assert 'triage_ingest_latency_seconds_count{source="generic"} 3.0' in text


async def test_ingest_batch_entries_sum_to_the_webhooks_queued(queues: Queues) -> None:
    """Fifteen webhooks at once: each queued once (the queue holds fifteen), and the
    IngestBatchEntries observations (one per SendMessage or SendMessageBatch call, at most ten
    entries each) add up to fifteen, so the histogram's sum is the webhooks sent to SQS."""
    async with (
        running(ingest_settings(queues.url, queues.endpoint)) as gateway,
        loopback_client(gateway.port) as client,
    ):
        bodies = [
            json.dumps({"title": f"job {i} failed", "dedup_key": f"job-{i}"}).encode()
            for i in range(15)
        ]
        answers = await asyncio.gather(
            *(
                client.post("/v1/alerts/generic", content=body, headers=bearer("generic"))
                for body in bodies
            )
        )
    assert [a.status_code for a in answers] == [202] * 15
    assert queues.depth() == 15
    [batches] = [
        t for (name, _), t in gateway.metrics.timings().items() if name == "IngestBatchEntries"
    ]
    assert batches.total == 15 and 2 <= batches.count <= 15


# --- Reasons known at start-up ------------------------------------------------------------------

SRC = Path(__file__).resolve().parents[1] / "src" / "triage"


def reasons_raised_by_name() -> dict[str, set[type[TriageError]]]:
    """Each fixed reason the code gives an error it raises (`SomethingError(..., reason="x")`
    or `reason=A_CONSTANT`), beside its class's own, with the error classes raised with it."""
    constants = {"BREAKER_OPEN": BREAKER_OPEN}
    found: dict[str, set[type[TriageError]]] = {}
    for path in SRC.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if not isinstance(node, ast.Call):
                continue
            func = node.func
            name = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")
            kind = getattr(errors, name, None)
            if not (isinstance(kind, type) and issubclass(kind, TriageError)):
                continue
            for keyword in node.keywords:
                value = keyword.value
                if keyword.arg != "reason":
                    continue
                if isinstance(value, ast.Constant) and isinstance(value.value, str):
                    reason = value.value
                elif isinstance(value, ast.Name) and value.id in constants:
                    reason = constants[value.id]
                else:
                    continue  # a reason passed on (`exc.reason`), not named here
                found.setdefault(reason, set()).add(kind)
    return found


def test_every_reason_a_raise_names_is_on_the_page_at_zero_from_the_start() -> None:
    """README (Operations, Prometheus): MessagesFailed and MessagesHeld "by every reason the
    error tree names" are on /metrics at 0 from the start, so `increase()` counts their first
    event after a restart. A reason given where the error is raised (`breaker_open`, which
    the backend-down scenario above holds its message under; a backend's `unauthorized`;
    GitHub's `rate_limited`) is as fixed, and known at start-up, as a class's: each is
    declared for MessagesFailed and MessagesDeadLettered (a held message released past its
    bound fails under its wait's reason), and a wait's for MessagesHeld too."""
    named = reasons_raised_by_name()
    assert {"breaker_open", "unauthorized", "rate_limited"} <= set(named)
    metrics = Metrics()
    declare_known_series(metrics, ["backend", "github", "slack"], dead_letters=True)
    declared = {(name, dict(dims).get("reason")) for name, dims in metrics.declared()}
    missing = set()
    for reason, kinds in named.items():
        waits = any(issubclass(kind, errors.BackpressureError) for kind in kinds)
        for metric in ("MessagesFailed", "MessagesDeadLettered", *(("MessagesHeld",) * waits)):
            if (metric, reason) not in declared:
                missing.add((metric, reason))
    assert not missing, sorted(missing)
