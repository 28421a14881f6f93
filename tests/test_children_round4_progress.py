"""A deleted GROUP BY alarm with many contributors closes them in bounded, durable steps: at
most `CLOSE_CONCURRENCY` resolves at once (more than the LLM's `alert_concurrency`, as no
summary is made), a progress report per contributor (so the no-progress timeout never cuts
off a deletion that keeps moving), and the children it closed noted as it goes, so that a
delivery that failed or was cut off midway is continued by its retry, which resolves none
twice, on the in-memory fakes and on the loopback ticket backend."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable, Callable, MutableMapping
from dataclasses import dataclass, field
from typing import Any

import pytest

from memory_store import MemoryStore
from test_cloudwatch_contributors_close import (
    Replica,
    contributor,
    deletion,
    message,
    replica,
    title,
)
from test_cloudwatch_contributors_close import store as store  # the store per backend
from test_pipeline import LEASE, POLICY, Clock, CountingSummariser, FakeSink
from triage.children import CLOSE_CONCURRENCY, NOTE_EVERY
from triage.demo.ticketd import TicketServer
from triage.errors import SinkUnavailableError
from triage.incidents import Action, Ledger, Store
from triage.metrics import Metrics
from triage.models import Alert, EffectKind
from triage.normalize import normalize_body
from triage.pipeline import Pipeline
from triage.redact import Redactor
from triage.secrets import BackendToken
from triage.settings import Settings
from triage.sinks.backend import BackendSink
from triage.sinks.base import Applied, Effect

Logs = list[MutableMapping[str, Any]]


async def until(condition: Callable[[], Awaitable[bool]], deadline_s: float = 10.0) -> None:
    """Wait until `condition()` holds, failing the test past `deadline_s`."""
    async with asyncio.timeout(deadline_s):
        while not await condition():
            await asyncio.sleep(0.005)


async def fired(one: Replica, count: int) -> None:
    """`count` contributors (tables t0, t1, …) fire, one message each."""
    for i in range(count):
        await one.process(message(f"f{i}", contributor(f"t{i}", "ALARM", "13:00")))


def parent_of() -> str:
    """The alarm's fingerprint, as its contributors name it."""
    body = json.dumps(contributor("x", "ALARM", "13:00")).encode()
    [parent] = [a.parent for a in normalize_body(body).alerts if a.parent is not None]
    return parent


async def firing(store: Store) -> int:
    return sum(c.firing for c in await store.children(parent_of()))


def decided(logs: Logs) -> list[str]:
    return [str(e["action"]) for e in logs if e["event"] == "alert.decided"]


async def test_a_deletion_that_fails_midway_notes_what_it_closed(store: Store, logs: Logs) -> None:
    """One of three closes fails: the message fails, but the two closed are noted resolved at
    once, so its retry sends a resolve to the third alone; each ticket is closed once."""
    one = replica(store, Clock())
    await fired(one, 3)
    one.backend.failures = 1
    with pytest.raises(SinkUnavailableError):
        await one.process(message("del", deletion()))
    assert await firing(store) == 1
    logs.clear()
    await one.process(message("del", deletion(), receive=2))
    assert sorted(decided(logs)) == ["close", "ignore"]  # the third, and the alarm's own again
    assert sorted(one.closed()) == sorted(title(f"t{i}") for i in range(3))
    assert await firing(store) == 0


@dataclass
class StallingSink(FakeSink):
    """A backend that closes `closes_allowed` tickets, then holds every other close until
    `resume` is set (a backend gone slow); it counts the closes in flight."""

    closes_allowed: int = 0
    resume: asyncio.Event = field(default_factory=asyncio.Event)
    in_flight: int = 0
    most_in_flight: int = 0

    async def apply(self, effect: Effect) -> Applied:
        if effect.kind is not EffectKind.CLOSE:
            return await super().apply(effect)
        self.in_flight += 1
        self.most_in_flight = max(self.most_in_flight, self.in_flight)
        try:
            if self.closes_allowed <= 0:
                await self.resume.wait()
            self.closes_allowed -= 1
            return await super().apply(effect)
        finally:
            self.in_flight -= 1


def stalling(store: Store, closes_allowed: int) -> tuple[Replica, StallingSink]:
    one = replica(store, Clock())
    sink = StallingSink(closes_allowed=closes_allowed)
    one.pipeline.sinks = {"backend": sink}
    return Replica(one.pipeline, sink), sink


async def test_a_deletion_cut_off_midway_is_continued_by_its_retry(logs: Logs) -> None:
    """The backend stalls after NOTE_EVERY closes and the delivery is cut off (the
    no-progress timeout cancels it): the closes done are noted, and the retry resolves only
    the contributors left; every ticket is closed once."""
    store = MemoryStore(POLICY, LEASE)
    count = NOTE_EVERY + 8
    one, sink = stalling(store, NOTE_EVERY)
    await fired(one, count)
    cut = asyncio.create_task(one.process(message("del", deletion())))

    async def stalled_with_progress_noted() -> bool:
        return sink.in_flight > 0 and await firing(store) == count - NOTE_EVERY

    await until(stalled_with_progress_noted)
    cut.cancel()
    with pytest.raises(asyncio.CancelledError):
        await cut
    sink.resume.set()
    logs.clear()
    await one.process(message("del", deletion(), receive=2))
    children_decided = len(decided(logs)) - 1  # less the alarm's own resolve, ignored
    assert children_decided == count - NOTE_EVERY
    closed = one.closed()
    assert sorted(closed) == sorted(title(f"t{i}") for i in range(count))


async def test_contributors_close_more_at_once_than_alerts_but_bounded() -> None:
    """A deletion closes its contributors CLOSE_CONCURRENCY at once (more than the pipeline's
    `alert_concurrency`), never more, however many fire."""
    store = MemoryStore(POLICY, LEASE)
    one, sink = stalling(store, 0)
    assert one.pipeline.alert_concurrency < CLOSE_CONCURRENCY
    await fired(one, CLOSE_CONCURRENCY + 10)
    deleting = asyncio.create_task(one.process(message("del", deletion())))

    async def at_the_bound() -> bool:
        return sink.in_flight == CLOSE_CONCURRENCY

    await until(at_the_bound)
    for _ in range(50):  # give any close beyond the bound the chance to start
        await asyncio.sleep(0)
    assert sink.in_flight == CLOSE_CONCURRENCY
    sink.resume.set()
    await deleting
    assert sink.most_in_flight == CLOSE_CONCURRENCY
    assert len(one.closed()) == CLOSE_CONCURRENCY + 10


async def test_each_contributor_closed_reports_progress() -> None:
    """The deletion reports progress once per contributor it handles, so the supervisor's
    no-progress timeout restarts while a long deletion keeps moving."""
    store = MemoryStore(POLICY, LEASE)
    one = replica(store, Clock())
    await fired(one, 5)
    [gone] = _alerts_of(deletion())
    reports: list[None] = []
    results = await one.pipeline.children.close(gone, "del#0", None, lambda: reports.append(None))
    assert results == [Action.CLOSE] * 5
    assert len(reports) == 5


def _alerts_of(body: dict[str, Any]) -> list[Alert]:
    return list(normalize_body(json.dumps(body).encode()).alerts)


async def test_hundreds_of_contributors_close_once_each_on_the_loopback_backend(
    backend: TicketServer, monkeypatch: pytest.MonkeyPatch, logs: Logs
) -> None:
    """200 contributors' tickets on the loopback ticket backend; some closes of the deletion
    answer 503: its retry decides and sends those alone, and each ticket is resolved exactly
    once."""
    monkeypatch.setenv("BACKEND_TOKEN", backend.token)
    settings = Settings(
        backend_base_url=backend.url,
        backend_resolve_route="/api/service/tickets/{ref}/resolve",
    )
    sink = BackendSink(settings, BackendToken(settings))
    store = MemoryStore(POLICY, LEASE)
    pipeline = Pipeline(
        Ledger(store, clock=Clock()),
        CountingSummariser(),
        [sink],
        Metrics(),
        redactor=Redactor(),
        policy=POLICY,
    )
    one = Replica(pipeline, FakeSink())
    try:
        await fired(one, 200)
        assert len(backend.tickets) == 200
        backend.fail_next(5, 503)
        with pytest.raises(SinkUnavailableError):
            await one.process(message("del", deletion()))
        before = backend.request_count
        logs.clear()
        await one.process(message("del", deletion(), receive=2))
        assert backend.request_count - before == 5
        assert sorted(decided(logs)) == ["close"] * 5 + ["ignore"]  # and the alarm's own
        resolved = [e["id"] for e in backend.events if e["kind"] == "resolve"]
        assert sorted(resolved) == sorted(t["id"] for t in backend.tickets)
    finally:
        await sink.aclose()
