"""A sink that refused an incident's open for good holds no ticket for it; once the message
that tried it is gone (dead-lettered and dropped, or its redrive refused again), the
incident's next update or reopen sends that sink an open of its own (the summary written
the first time, under the effect's own Idempotency-Key), while the sinks holding a ticket
get the update or reopen. A close never opens a ticket, and a sink that sent nothing by its
own choice (Slack below its minimum priority) is not asked again. The real pipeline on the
in-memory store, with recording sinks and the loopback ticket backend."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from daemon_harness import TOKEN
from memory_store import MemoryStore
from test_pipeline import LEASE, POLICY, CountingSummariser, crash_loops, group_rig
from test_refused_open import delivery, only_incident_key, refusal
from test_refused_open import store as store  # the stores: SQLite, and DynamoDB on moto
from test_signals_trust_scenarios import FIRING, LIMIT, RESOLVED, Recorder
from triage.demo.ticketd import TicketServer
from triage.errors import SinkRejectedError
from triage.incidents import Action, Ledger
from triage.incidents.claims import refusals_kept
from triage.incidents.lifecycle import Incident, Refusal, State, replace_incident
from triage.incidents.store import Store
from triage.metrics import Metrics
from triage.models import EffectKind
from triage.normalize import normalize_body
from triage.pipeline import Pipeline
from triage.redact import Redactor
from triage.secrets import BackendToken
from triage.settings import Settings
from triage.sinks.backend import BackendSink
from triage.sinks.base import Applied, Effect, NotSent, Sink

#: Past the update interval: the next firing of an open incident is an update.
LATER = POLICY.update_interval + timedelta(minutes=1)


@dataclass
class Rig:
    """The pipeline on an in-memory store whose clock a test moves on (`later`)."""

    pipeline: Pipeline
    summariser: CountingSummariser
    offset: list[timedelta] = field(default_factory=lambda: [timedelta(0)])

    def later(self, by: timedelta = LATER) -> None:
        self.offset[0] += by

    async def incident(self) -> Incident:
        stored = await self.pipeline.ledger.store.get(only_incident_key(self.pipeline))
        assert stored is not None
        return stored


def rig(sinks: list[Sink]) -> Rig:
    offset = [timedelta(0)]
    summariser = CountingSummariser()
    ledger = Ledger(MemoryStore(POLICY, LEASE), lambda: datetime.now(UTC) + offset[0])
    handler = Pipeline(ledger, summariser, sinks, Metrics(), redactor=Redactor(), policy=POLICY)
    return Rig(handler, summariser, offset)


async def refused_until_dead(r: Rig, mid: str = "m0") -> None:
    """The open's message refused on every receive until SQS dead-letters it (and it is
    dropped there: never delivered again)."""
    for receive in range(1, LIMIT + 1):
        with pytest.raises(SinkRejectedError):
            await r.pipeline.process(delivery(mid, FIRING, receive))


async def test_the_next_update_opens_the_ticket_the_backend_refused() -> None:
    """The backend refused the open on every receive and the message is gone: the incident's
    next update goes to GitHub as an update and to the backend as an open (with the summary
    of the first attempt: no second LLM call), whose ticket later effects then follow."""
    backend = Recorder(failures=[refusal() for _ in range(LIMIT)])
    github = Recorder(name="github")
    r = rig([backend, github])
    await refused_until_dead(r)
    assert backend.kinds() == [] and github.kinds() == ["open"]
    r.later()
    (update,) = await r.pipeline.process(delivery("m1", FIRING, 1))
    assert update.action is Action.UPDATE
    assert github.kinds() == ["open", "update"] and backend.kinds() == ["open"]
    [opened] = backend.effects
    assert opened.ref is None and opened.ticket.title and r.summariser.calls == 1
    metrics = r.pipeline.metrics
    assert metrics.counter("TicketsCreated", sink="backend") == 1
    assert metrics.counter("TicketsUpdated", sink="github") == 1
    assert metrics.counter("TicketsUpdated", sink="backend") == 0
    incident = await r.incident()
    assert incident.refs == {"backend": "T-1", "github": "T-1"} and not incident.refused
    notes = [(line.action, line.note) for line in incident.history if ":" in line.note]
    assert notes[-2:] == [("update", "backend: T-1 (opened)"), ("update", "github: T-1")]
    (closed,) = await r.pipeline.process(delivery("m2", RESOLVED, 1))
    assert closed.action is Action.CLOSE
    assert backend.kinds() == ["open", "close"] and backend.effects[1].ref == "T-1"


async def test_a_close_of_an_incident_the_backend_never_ticketed_opens_nothing_there() -> None:
    """The incident resolves while the backend holds no ticket for it (its open was refused
    and the message is gone): the close goes to GitHub alone, and the backend is not called."""
    backend = Recorder(failures=[refusal() for _ in range(LIMIT)])
    github = Recorder(name="github")
    r = rig([backend, github])
    await refused_until_dead(r)
    (closed,) = await r.pipeline.process(delivery("m1", RESOLVED, 1))
    assert closed.action is Action.CLOSE
    assert github.kinds() == ["open", "close"] and backend.kinds() == []
    assert (await r.incident()).refs == {"github": "T-1"}


async def test_the_reopen_opens_the_ticket_the_backend_refused() -> None:
    """The backend refused the open, the message is gone and the incident closed (at GitHub
    alone): its re-fire within the reopen window reopens GitHub's issue and opens the
    backend's first ticket, summarised once; the close after it reaches both."""
    backend = Recorder(failures=[refusal() for _ in range(LIMIT)])
    github = Recorder(name="github")
    r = rig([backend, github])
    await refused_until_dead(r)
    await r.pipeline.process(delivery("m1", RESOLVED, 1))
    (reopened,) = await r.pipeline.process(delivery("m2", FIRING, 1))
    assert reopened.action is Action.REOPEN
    assert github.kinds() == ["open", "close", "reopen"] and backend.kinds() == ["open"]
    assert r.summariser.calls == 1
    assert (await r.incident()).refs == {"backend": "T-1", "github": "T-1"}
    await r.pipeline.process(delivery("m3", RESOLVED, 1))
    assert backend.kinds() == ["open", "close"]


async def test_the_catch_up_open_refused_again_fails_its_message_and_is_sent_again() -> None:
    """The update's open to the backend is refused too: the update's message fails (for the
    DLQ to show), GitHub keeps its one update, and the message's next delivery sends the
    backend the open again, alone, which it takes."""
    backend = Recorder(failures=[refusal() for _ in range(LIMIT + 1)])
    github = Recorder(name="github")
    r = rig([backend, github])
    await refused_until_dead(r)
    r.later()
    with pytest.raises(SinkRejectedError):
        await r.pipeline.process(delivery("m1", FIRING, 1))
    assert github.kinds() == ["open", "update"] and backend.kinds() == []
    (again,) = await r.pipeline.process(delivery("m1", FIRING, 2))
    assert again.action is Action.UPDATE
    assert github.kinds() == ["open", "update"] and backend.kinds() == ["open"]
    incident = await r.incident()
    assert incident.refs == {"backend": "T-1", "github": "T-1"} and not incident.refused
    assert incident.pending is None


async def test_the_open_goes_under_the_later_effects_own_key() -> None:
    """The backend's open rides the update's own Idempotency-Key, not the refused open's
    (which a backend keeping answers by key would refuse again), and each retry of it keeps
    that key."""
    backend = Recorder(failures=[refusal() for _ in range(LIMIT)])
    r = rig([backend])
    await refused_until_dead(r)
    r.later()
    await r.pipeline.process(delivery("m1", FIRING, 1))
    [opened] = backend.effects
    fingerprint = only_incident_key(r.pipeline)
    assert opened.kind is EffectKind.OPEN
    assert opened.idempotency_key.startswith(f"{fingerprint}:")
    assert opened.idempotency_key != f"{fingerprint}:1"


async def test_a_plain_letter_moved_back_by_sqs_is_a_repeat_and_the_update_sends_the_open() -> None:
    """A refused open's message queued with nothing naming it (`aws sqs send-message`) comes
    back from SQS's own move task as a new message (AWS gives it a new MessageId and enqueue
    time), which nothing tells from another send of its body: it is counted as a repeat and
    acked, the backend not called; the incident's next update sends the backend its open."""
    backend = Recorder(failures=[refusal() for _ in range(LIMIT)])
    r = rig([backend])
    await refused_until_dead(r)
    moved = delivery("m9", FIRING, 1)
    assert moved.identity == "m9"
    (counted,) = await r.pipeline.process(moved)
    assert counted.action is Action.COUNT and backend.kinds() == []
    assert (await r.incident()).owed == ("backend",)
    r.later()
    (update,) = await r.pipeline.process(delivery("m10", FIRING, 1))
    assert update.action is Action.UPDATE and backend.kinds() == ["open"]


async def test_a_groups_next_update_opens_the_ticket_the_backend_refused(tmp_path: Path) -> None:
    """A grouping route's first ticket refused on every receive of its member's message: the
    member that joins after the update interval sends the backend the group's open (listing
    both members, summarised once), and the next update is an update of that ticket."""
    g = group_rig(tmp_path)
    backend = Recorder(failures=[refusal() for _ in range(LIMIT)])
    g.pipeline.sinks = {"backend": backend}
    for receive in range(LIMIT):
        with pytest.raises(SinkRejectedError):
            await g.pipeline.process(crash_loops(range(1), receipt=f"rh-{receive}"))
    g.clock.at(16)
    [joined] = await g.pipeline.process(crash_loops(range(1, 2), minutes=16))
    assert joined.action is Action.UPDATE and backend.kinds() == ["open"]
    [opened] = backend.effects
    assert opened.alert.group is not None and opened.alert.group.count == 2
    g.clock.at(40)
    await g.pipeline.process(crash_loops(range(2, 3), minutes=40))
    assert backend.kinds() == ["open", "update"] and backend.effects[1].ref == "T-1"
    assert g.summariser.calls == 1


async def test_a_resolve_whose_delivery_redid_a_refused_update_is_still_applied() -> None:
    """A worker died holding the incident's update; the resolve's delivery redoes it first,
    and the backend refuses that update for good (400), failing the resolve's message. The
    message's retry sends the update again and then applies its own resolve: the incident
    closes and the backend gets the close."""
    backend = Recorder()
    r = rig([backend])
    await r.pipeline.process(delivery("m0", FIRING, 1))
    r.later()
    (firing,) = normalize_body(FIRING).alerts
    shared = r.pipeline.ledger.store
    abandoned = await shared.begin(r.pipeline.event(firing), "m1#0@d1", r.pipeline.ledger.clock())
    assert abandoned.action is Action.UPDATE
    r.later(LEASE + timedelta(minutes=1))
    backend.failures.append(SinkRejectedError("400: bad request"))
    with pytest.raises(SinkRejectedError):
        await r.pipeline.process(delivery("m2", RESOLVED, 1))
    outcomes = await r.pipeline.process(delivery("m2", RESOLVED, 2))
    assert [o.action for o in outcomes] == [Action.CLOSE]
    assert backend.kinds() == ["open", "update", "close"]
    assert (await r.incident()).state is State.CLOSED


async def test_another_replicas_update_opens_the_ticket_the_backend_refused(
    store: Store,
) -> None:
    """On SQLite and on DynamoDB: the refusal one replica kept in the shared store makes the
    other replica's update send the backend its open (and GitHub its update), summarised
    once."""
    backend = Recorder(failures=[refusal() for _ in range(LIMIT)])
    github = Recorder(name="github")
    summariser = CountingSummariser()
    offset = [timedelta(0)]

    def replica() -> Pipeline:
        ledger = Ledger(store, lambda: datetime.now(UTC) + offset[0])
        sinks: list[Sink] = [backend, github]
        return Pipeline(ledger, summariser, sinks, Metrics(), redactor=Redactor(), policy=POLICY)

    first, second = replica(), replica()
    for receive in range(1, LIMIT + 1):
        with pytest.raises(SinkRejectedError):
            await first.process(delivery("m0", FIRING, receive))
    offset[0] = LATER
    (update,) = await second.process(delivery("m1", FIRING, 1))
    assert update.action is Action.UPDATE
    assert backend.kinds() == ["open"] and github.kinds() == ["open", "update"]
    assert summariser.calls == 1
    incident = await store.get(update.fingerprint)
    assert incident is not None and incident.refs == {"backend": "T-1", "github": "T-1"}
    assert not incident.refused


@dataclass
class Choosy:
    """A sink that sends nothing for a new incident by its own choice (as Slack below its
    minimum priority does), and records every effect it is asked to carry out."""

    name: str = "slack"
    asked: list[Effect] = field(default_factory=list)

    async def apply(self, effect: Effect) -> Applied:
        self.asked.append(effect)
        return Applied.skip("priority below high", why=NotSent.BELOW_MIN_PRIORITY)

    async def aclose(self) -> None:
        return None


async def test_a_sink_that_skipped_the_open_by_choice_is_not_asked_again() -> None:
    """Only a refusal owes a sink a ticket: a sink that sent nothing for the open by its own
    choice is not sent an open with the incident's update, reopen or close."""
    choosy = Choosy()
    github = Recorder(name="github")
    r = rig([github, choosy])
    await r.pipeline.process(delivery("m0", FIRING, 1))
    r.later()
    await r.pipeline.process(delivery("m1", FIRING, 1))
    await r.pipeline.process(delivery("m2", RESOLVED, 1))
    await r.pipeline.process(delivery("m3", FIRING, 1))
    assert github.kinds() == ["open", "update", "close", "reopen"]
    assert [str(e.kind) for e in choosy.asked] == ["open"]


@pytest.fixture
def tickets() -> Iterator[TicketServer]:
    server = TicketServer(token=TOKEN)
    server.start()
    yield server
    server.stop()


async def test_the_loopback_backend_gets_its_ticket_with_the_next_update(
    tickets: TicketServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Over real HTTP: the ticket backend answers 422 to the open on every receive, then
    takes the update's open as a new ticket (one create, under a key it never saw), whose
    close then goes to the backend's resolve route."""
    monkeypatch.setenv("BACKEND_TOKEN", TOKEN)
    settings = Settings(
        backend_base_url=tickets.url,
        backend_update_route=f"{tickets.route}/{{ref}}/updates",
        backend_resolve_route=f"{tickets.route}/{{ref}}/resolve",
    )
    sink = BackendSink(settings, BackendToken(settings))
    try:
        r = rig([sink])
        tickets.fail_next(LIMIT, status=422)
        await refused_until_dead(r)
        assert tickets.tickets == []
        r.later()
        (update,) = await r.pipeline.process(delivery("m1", FIRING, 1))
        assert update.action is Action.UPDATE
        [ticket] = tickets.tickets
        assert (await r.incident()).refs == {"backend": ticket["id"]}
        await r.pipeline.process(delivery("m2", RESOLVED, 1))
    finally:
        await sink.aclose()
    assert tickets.replayed_creates == 0
    assert [e["kind"] for e in tickets.events] == ["resolve"]
    assert (await r.incident()).state is State.CLOSED


def test_a_turn_of_the_incident_keeps_only_the_tickets_still_owed() -> None:
    """What a close or a reopen keeps of the incident's refusals (`refusals_kept`): a ticket
    a sink refused and holds none of (for the reopen to open), not a refused close or update
    of a sink holding a ticket; a new incident under the fingerprint keeps none."""
    at = datetime(2026, 1, 1, tzinfo=UTC)
    refused = {
        "backend": Refusal(EffectKind.OPEN, "m0#0"),
        "github": Refusal(EffectKind.UPDATE, "m1#0"),
    }
    stored = Incident(
        "fp", State.OPEN, "generic", "t", at, at, refs={"github": "7"}, refused=refused
    )
    closed = replace_incident(stored, state=State.CLOSED)
    assert stored.owed == ("backend",)
    assert refusals_kept(stored, closed, Action.CLOSE) == {"backend": refused["backend"]}
    assert refusals_kept(closed, stored, Action.REOPEN) == {"backend": refused["backend"]}
    fresh = Incident("fp", State.OPEN, "generic", "t", at, at)
    assert refusals_kept(closed, fresh, Action.OPEN) == {}
