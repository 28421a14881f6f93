"""The backend sink against what happens to a ticket after triage created it (deleted, closed
by a person, an update field now refused), over real HTTP to the loopback ticket backend taught
those answers."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator, MutableMapping
from datetime import UTC, datetime
from typing import Any

import pytest

from factories import alert as pipeline_alert
from factories import view
from test_pipeline import rig
from triage.breaker import BreakerState, CircuitBreaker
from triage.demo.ticketd import TicketServer
from triage.errors import (
    SinkRejectedError,
    SinkThrottledError,
    SinkUnavailableError,
    TransientError,
)
from triage.incidents.lifecycle import Action
from triage.models import Alert, EffectKind, Priority, Status, Ticket
from triage.secrets import BackendToken
from triage.settings import Settings
from triage.sinks.backend import BackendSink
from triage.sinks.base import Effect, NotSent
from triage.sinks.guard import GuardedSink

TOKEN = "backend-token"
ALERT = Alert(
    source="generic",
    status=Status.FIRING,
    title="orders-db backup failed",
    team="data",
    priority=Priority.HIGH,
    occurred_at=datetime(2026, 11, 23, 3, tzinfo=UTC),
    identity={"dedup_key": "backup"},
)
TICKET = Ticket(title="Backup failed", priority=Priority.HIGH, description="pg_dump exited 1")
LATER = [EffectKind.UPDATE, EffectKind.REOPEN, EffectKind.CLOSE]


class LaterLifeTickets(TicketServer):
    """ticketd, plus tickets a person deleted (410 Gone; or, as ticketd answers an id it never
    had, 404), closed (409 Conflict on every later event) and update fields the backend
    stopped taking (422)."""

    def __init__(self, token: str) -> None:
        self.deleted: set[str] = set()
        self.gone: set[str] = set()
        self.closed_by_person: set[str] = set()
        self.refused_fields: set[str] = set()
        super().__init__(token)

    def _event(
        self, ticket_id: str, kind: str, body: dict[str, Any], headers: dict[str, str], key: Any
    ) -> tuple[int, Any]:
        if ticket_id in self.deleted:
            return 404, {"error": f"no ticket {ticket_id}"}
        if ticket_id in self.gone:
            return 410, {"error": f"ticket {ticket_id} was deleted"}
        if ticket_id in self.closed_by_person:
            return 409, {"error": f"ticket {ticket_id} is closed"}
        if refused := sorted(self.refused_fields & body.keys()):
            return 422, {"error": f"unknown fields: {', '.join(refused)}"}
        return super()._event(ticket_id, kind, body, headers, key)


class FakeClock:
    def __init__(self) -> None:
        self.now = 1_000.0

    def __call__(self) -> float:
        return self.now


def effect(kind: EffectKind, ref: str | None = None, key: str = "fp:2") -> Effect:
    return Effect(kind, ALERT.fingerprint, view(ALERT), TICKET, ref, 3, 2, False, key)


@pytest.fixture
def backend(monkeypatch: pytest.MonkeyPatch) -> Iterator[LaterLifeTickets]:
    monkeypatch.setenv("BACKEND_TOKEN", TOKEN)
    server = LaterLifeTickets(TOKEN)
    server.start()
    yield server
    server.stop()


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
async def sink(backend: LaterLifeTickets, clock: FakeClock) -> AsyncIterator[BackendSink]:
    settings = Settings(
        backend_base_url=backend.url,
        backend_update_route="/api/service/tickets/{ref}/updates",
        backend_resolve_route="/api/service/tickets/{ref}/resolve",
    )
    s = BackendSink(settings, BackendToken(settings), clock=clock)
    try:
        yield s
    finally:
        await s.aclose()


def warnings(logs: list[MutableMapping[str, Any]]) -> list[str]:
    return [e["event"] for e in logs if e["log_level"] == "warning"]


async def opened(sink: BackendSink) -> str:
    ref = (await sink.apply(effect(EffectKind.OPEN, key="fp:1"))).ref
    assert ref is not None
    return ref


async def routes_answered(sink: BackendSink) -> None:
    """Another ticket is created, updated and closed: both routes have answered for a ticket,
    so a 404 on them from now on says a ticket is gone, not that the route is wrong."""
    other = (await sink.apply(effect(EffectKind.OPEN, key="other:1"))).ref
    await sink.apply(effect(EffectKind.UPDATE, other, key="other:2"))
    await sink.apply(effect(EffectKind.CLOSE, other, key="other:3"))


@pytest.mark.parametrize("kind", [EffectKind.UPDATE, EffectKind.CLOSE])
async def test_an_effect_on_a_deleted_ticket_is_skipped_with_one_warning(
    sink: BackendSink,
    backend: LaterLifeTickets,
    logs: list[MutableMapping[str, Any]],
    kind: EffectKind,
) -> None:
    """An update or close of a ticket the backend no longer knows (404) is skipped with one
    `backend.ticket_gone` warning, instead of failing its message (and every later one); it
    opens no new ticket (only a re-fire does)."""
    await routes_answered(sink)
    ref = await opened(sink)
    backend.deleted.add(ref)
    gone = await sink.apply(effect(kind, ref))
    assert (gone.skipped, gone.why) == ("ticket gone (404)", NotSent.REFUSED)
    assert warnings(logs) == ["backend.ticket_gone"]
    assert len(backend.tickets) == 2


async def test_a_refire_of_a_ticket_deleted_on_a_proven_route_opens_one_new_ticket(
    sink: BackendSink, backend: LaterLifeTickets, logs: list[MutableMapping[str, Any]]
) -> None:
    """A reopen answered 404 on an update route that has answered for a ticket (so the 404
    says deleted, not a wrong route) opens one new ticket under `<key>:new`, as a 410 does,
    with one `backend.ticket_gone` warning; retried, it opens no second."""
    await routes_answered(sink)
    ref = await opened(sink)
    backend.deleted.add(ref)
    first = await sink.apply(effect(EffectKind.REOPEN, ref, key="fp:3"))
    again = await sink.apply(effect(EffectKind.REOPEN, ref, key="fp:3"))
    assert first.skipped is None and first.ref == again.ref not in (None, ref)
    assert backend.tickets[-1]["headers"]["idempotency-key"] == "fp:3:new"
    assert len(backend.tickets) == 3
    assert warnings(logs) == ["backend.ticket_gone"] * 2


async def test_a_refire_of_a_deleted_ticket_creates_one_new_ticket(
    sink: BackendSink, backend: LaterLifeTickets, logs: list[MutableMapping[str, Any]]
) -> None:
    """A reopen the backend answers 410 Gone (someone deleted the ticket) creates a new ticket
    (the incident's reference from then on), with one warning an attempt; retried, the same
    effect creates no second."""
    ref = await opened(sink)
    backend.gone.add(ref)
    first = await sink.apply(effect(EffectKind.REOPEN, ref, key="fp:3"))
    again = await sink.apply(effect(EffectKind.REOPEN, ref, key="fp:3"))
    assert first.ref == again.ref == "T-2"
    assert [t["headers"]["idempotency-key"] for t in backend.tickets] == ["fp:1", "fp:3:new"]
    assert warnings(logs) == ["backend.ticket_gone"] * 2


async def test_an_update_field_the_backend_now_refuses_skips_the_update(
    sink: BackendSink, backend: LaterLifeTickets, logs: list[MutableMapping[str, Any]]
) -> None:
    """A 422 to an update (the backend stopped taking one of its fields) skips that update
    with one `backend.update_refused` warning naming the status and the backend's reason."""
    ref = await opened(sink)
    backend.refused_fields.add("flapping")
    refused = await sink.apply(effect(EffectKind.UPDATE, ref))
    assert (refused.skipped, refused.why) == ("refused (422)", NotSent.REFUSED)
    [line] = [e for e in logs if e["log_level"] == "warning"]
    assert (line["event"], line["status"]) == ("backend.update_refused", 422)
    assert "unknown fields: flapping" in line["reason"]


async def test_a_ticket_closed_by_a_person_is_held_only_for_a_while(
    sink: BackendSink,
    backend: LaterLifeTickets,
    clock: FakeClock,
    logs: list[MutableMapping[str, Any]],
) -> None:
    """A 409 is first taken for the same key in flight: its message alone is held (intake
    goes on). Once 409s for that key have lasted `conflict_s`, it is the ticket's state (a
    person closed it), and the effect is skipped with one warning instead of held for ever."""
    ref = await opened(sink)
    backend.closed_by_person.add(ref)
    with pytest.raises(SinkThrottledError) as held:
        await sink.apply(effect(EffectKind.UPDATE, ref))
    assert held.value.pauses_intake is False
    clock.now += sink.conflict_s
    refused = await sink.apply(effect(EffectKind.UPDATE, ref))
    assert (refused.skipped, refused.why) == ("refused (409)", NotSent.REFUSED)
    assert warnings(logs) == ["backend.update_refused"]


async def test_a_409_that_ends_starts_afresh(
    sink: BackendSink, backend: LaterLifeTickets, clock: FakeClock
) -> None:
    """A key whose 409 ended in a success is forgotten: a later 409 for it is held again, not
    taken for a lasting conflict because of the old one."""
    ref = await opened(sink)
    backend.fail_next(1, status=409)
    with pytest.raises(SinkThrottledError):
        await sink.apply(effect(EffectKind.UPDATE, ref))
    await sink.apply(effect(EffectKind.UPDATE, ref))
    clock.now += sink.conflict_s
    backend.fail_next(1, status=409)
    with pytest.raises(SinkThrottledError):
        await sink.apply(effect(EffectKind.UPDATE, ref))


async def test_a_rate_limit_still_pauses_intake_and_a_refused_open_still_fails(
    sink: BackendSink, backend: LaterLifeTickets
) -> None:
    """A 429 is about every call (intake pauses), and a refused OPEN has no ticket to be out
    of reach: it still fails its message for good."""
    backend.fail_next(1, status=429)
    with pytest.raises(SinkThrottledError) as held:
        await sink.apply(effect(EffectKind.OPEN))
    assert held.value.pauses_intake is True
    backend.fail_next(1, status=422)
    with pytest.raises(SinkRejectedError):
        await sink.apply(effect(EffectKind.OPEN))


@pytest.mark.parametrize(("status", "gone"), [(404, True), (410, True), (422, False)])
async def test_only_a_deleted_ticket_is_said_gone_for_good(
    sink: BackendSink, backend: LaterLifeTickets, status: int, gone: bool
) -> None:
    """An update answered 404 or 410 tells the pipeline the ticket is gone (its later updates
    and closes then skip this sink); a 422 (a field refused) skips only that update."""
    await routes_answered(sink)
    ref = await opened(sink)
    if status == 422:
        backend.refused_fields.add("flapping")
    else:
        (backend.deleted if status == 404 else backend.gone).add(ref)
    assert (await sink.apply(effect(EffectKind.UPDATE, ref))).gone is gone


@pytest.mark.parametrize("status", [400, 403])
async def test_a_refusal_that_is_not_about_the_ticket_still_fails_the_message(
    sink: BackendSink, backend: LaterLifeTickets, status: int
) -> None:
    """A close answered 400 or 403 (the request or the token's rights are wrong, not the
    ticket) fails its message, which a DLQ redrive sends again once fixed: it is not skipped."""
    ref = await opened(sink)
    backend.fail_next(1, status=status)
    with pytest.raises(SinkRejectedError):
        await sink.apply(effect(EffectKind.CLOSE, ref))


def wrong_routes(backend: LaterLifeTickets) -> Settings:
    """Update and resolve routes the backend does not have (`/tickets/…` for `/api/service/…`):
    it answers 404 `{"error": "no route …"}` for every ticket, as for a deleted one."""
    return Settings(
        backend_base_url=backend.url,
        backend_update_route="/tickets/{ref}/updates",
        backend_resolve_route="/tickets/{ref}/resolve",
    )


@pytest.mark.parametrize("kind", LATER)
async def test_a_wrong_route_fails_loudly_at_the_first_update_of_a_new_ticket(
    backend: LaterLifeTickets, logs: list[MutableMapping[str, Any]], kind: EffectKind
) -> None:
    """A 404 for a ticket this process just created, on a route that never answered for a
    ticket, is the route's: the effect fails as transient (its message stays on the queue) with
    one error line naming the route and its setting, and the ticket is not marked gone."""
    sink = BackendSink(wrong_routes(backend), BackendToken(wrong_routes(backend)))
    try:
        ref = await opened(sink)
        for _ in range(2):
            with pytest.raises(TransientError, match="check TRIAGE_BACKEND_") as caught:
                await sink.apply(effect(kind, ref))
            assert caught.value.reason == "route_not_found"
    finally:
        await sink.aclose()
    [line] = [e for e in logs if e["log_level"] in ("warning", "error")]
    assert (line["event"], line["log_level"]) == ("backend.route_not_found", "error")
    assert (
        line["route"] == f"/tickets/{{ref}}/{'resolve' if kind is EffectKind.CLOSE else 'updates'}"
    )


async def test_tickets_of_an_earlier_process_tell_a_wrong_route_by_their_number(
    backend: LaterLifeTickets, logs: list[MutableMapping[str, Any]]
) -> None:
    """After a restart (no ticket created here), 404s from a route that never answered: the
    first two different tickets are taken as deleted, the third says the route is wrong, and
    from then on every 404 there fails its message instead of marking a ticket gone."""
    settings = wrong_routes(backend)
    earlier = BackendSink(settings, BackendToken(settings))
    sink = BackendSink(settings, BackendToken(settings))
    try:
        refs = [(await earlier.apply(effect(EffectKind.OPEN, key=f"k{n}:1"))).ref for n in range(4)]
        gone = [(await sink.apply(effect(EffectKind.UPDATE, ref))).gone for ref in refs[:2]]
        assert gone == [True, True]
        for ref in refs[2:]:
            with pytest.raises(TransientError, match="3 different tickets"):
                await sink.apply(effect(EffectKind.UPDATE, ref))
    finally:
        await earlier.aclose()
        await sink.aclose()
    loud = [e["event"] for e in logs if e["log_level"] in ("warning", "error")]
    assert loud == ["backend.ticket_gone"] * 2 + ["backend.route_not_found"]


async def test_a_route_that_answered_takes_a_404_for_a_deleted_ticket(
    sink: BackendSink, backend: LaterLifeTickets
) -> None:
    """Once a route has answered for one ticket, a 404 there is the ticket's, even for one
    this process just created: gone, as before, not a wrong route."""
    ref = await opened(sink)
    await sink.apply(effect(EffectKind.UPDATE, ref, key="fp:2"))
    backend.deleted.add(ref)
    assert (await sink.apply(effect(EffectKind.UPDATE, ref, key="fp:3"))).gone is True


async def test_a_ticket_the_backend_knew_is_gone_on_a_route_new_to_it(
    sink: BackendSink, backend: LaterLifeTickets, logs: list[MutableMapping[str, Any]]
) -> None:
    """A ticket created here and updated since, then deleted, whose close is the resolve
    route's first call: its 404 says the ticket is gone (the backend knew it a moment ago),
    not that the resolve route is wrong."""
    ref = await opened(sink)
    await sink.apply(effect(EffectKind.UPDATE, ref, key="fp:2"))
    backend.deleted.add(ref)
    assert (await sink.apply(effect(EffectKind.CLOSE, ref, key="fp:3"))).gone is True
    assert warnings(logs) == ["backend.ticket_gone"]


async def test_through_the_pipeline_a_wrong_route_marks_no_ticket_gone(
    backend: LaterLifeTickets,
) -> None:
    """Through the pipeline and its store: the first update on a wrong route fails its
    message as transient (the message stays on the queue) and leaves the incident's ticket
    unmarked, so once the route is fixed the update, and every later one, reaches it."""
    settings = wrong_routes(backend)
    sink = BackendSink(settings, BackendToken(settings))
    r = rig()
    r.pipeline.sinks = {sink.name: sink}
    try:
        assert await r.send(0) is Action.OPEN
        with pytest.raises(TransientError):
            await r.send(16)
        incident = await r.store.get(pipeline_alert().fingerprint)
    finally:
        await sink.aclose()
    assert incident is not None and incident.gone == {}
    assert backend.events == []


async def test_a_wrong_route_does_not_open_the_breaker_for_new_tickets(
    backend: LaterLifeTickets,
) -> None:
    """A wrong update route is the backend answering, not the backend down: its failures
    (not SinkUnavailableError) leave the sink's breaker closed, so new incidents' tickets,
    which the create route takes, go on being opened."""
    settings = wrong_routes(backend)
    guarded = GuardedSink(
        BackendSink(settings, BackendToken(settings)), CircuitBreaker("sink:backend", 1, 30)
    )
    try:
        ref = (await guarded.apply(effect(EffectKind.OPEN, key="fp:1"))).ref
        for n in range(3):
            with pytest.raises(TransientError) as caught:
                await guarded.apply(effect(EffectKind.UPDATE, ref, key=f"fp:{n + 2}"))
            assert not isinstance(caught.value, SinkUnavailableError)
        assert guarded.breaker.state is BreakerState.CLOSED
        assert (await guarded.apply(effect(EffectKind.OPEN, key="other:1"))).ref == "T-2"
    finally:
        await guarded.aclose()


async def test_a_ticket_named_by_its_key_says_so_when_its_update_is_not_found(
    backend: LaterLifeTickets,
) -> None:
    """A backend whose create answer holds no id gets the effect's Idempotency-Key as the
    reference; the first update's 404 then says the ticket was named so, the likelier cause
    than the route."""
    settings = Settings(
        backend_base_url=backend.url,
        backend_update_route="/api/service/tickets/{ref}/updates",
    )
    sink = BackendSink(settings, BackendToken(settings))
    backend.fail_next(1, status=201)  # a 201 whose body holds no ticket id
    try:
        ref = (await sink.apply(effect(EffectKind.OPEN, key="fp:1"))).ref
        assert ref == "fp:1"
        with pytest.raises(TransientError, match="named by its Idempotency-Key"):
            await sink.apply(effect(EffectKind.UPDATE, ref))
    finally:
        await sink.aclose()
