"""Round 2 of moves, children and effects (helper 462): an open redone after the routes or
the alert's labels changed, a close a sink refused for good during a parent's deletion or a
move, and a move while the new place's group gathers. The real Pipeline on the in-memory
store, replicas sharing one store, one clock and the sinks they call."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path

import pytest

from factories import T0, alert
from memory_store import MemoryStore
from recording_pipeline import POLICY, Summariser
from test_cloudwatch_contributors_close import contributor, deletion
from test_cloudwatch_contributors_close import message as cw_message
from test_cloudwatch_contributors_close import title as contributor_title
from test_pipeline import LEASE, Clock
from triage.errors import GatheringError, SinkRejectedError
from triage.incidents.ledger import Ledger
from triage.metrics import Metrics
from triage.models import EffectKind, Status
from triage.pipeline import Pipeline
from triage.redact import Redactor
from triage.routes import Router, load_router
from triage.settings import Settings
from triage.sinks.base import Applied, Effect
from triage.sqs.inbox import Message


class Stopped(Exception):
    """The process stopped right after a sink answered: its confirmation never written."""


@dataclass
class Issues:
    """GitHub as far as these tests need it: an OPEN files an issue in its target's repository
    (`<repository>#<n>`); with `stop_after_first`, the process stops once the first answered."""

    stop_after_first: bool = False
    name: str = "github"
    effects: list[Effect] = field(default_factory=list)

    async def apply(self, effect: Effect) -> Applied:
        self.effects.append(effect)
        ref = f"{effect.target.repository}#{len(self.effects)}"
        if self.stop_after_first and len(self.effects) == 1:
            raise Stopped(ref)
        return Applied(ref)

    async def aclose(self) -> None:
        return None

    def opened_in(self) -> list[str | None]:
        """The repositories each OPEN went to, in order."""
        return [e.target.repository for e in self.effects if e.kind is EffectKind.OPEN]


OLD_ROUTES = """
[[route]]
name = "payments"
sinks = ["github"]
match = { team = ["payments"] }
[route.github]
repository = "acme/payments"
"""

#: The rolled-out routes: urgent payments alerts now go to a repository of their own, placed
#: before the route the ticket took (still configured, for the others).
NEW_ROUTES = (
    """
[[route]]
name = "payments-urgent"
sinks = ["github"]
match = { team = ["payments"], priority = ["critical", "high"] }
[route.github]
repository = "acme/payments-oncall"
"""
    + OLD_ROUTES
)


def routes(tmp_path: Path, name: str, text: str) -> Router:
    """The router a replica loads from the routes file `text`."""
    path = tmp_path / f"{name}.toml"
    path.write_text(text, encoding="utf-8")
    return load_router(Settings(routes_file=path, sinks="github"))


@dataclass
class Replicas:
    """One store, one clock and one GitHub shared by the replicas, each on its own routes."""

    sink: Issues
    store: MemoryStore = field(default_factory=lambda: MemoryStore(POLICY, LEASE))
    clock: Clock = field(default_factory=Clock)

    def replica(self, router: Router) -> Pipeline:
        """A replica on `router`: its own ledger, on the shared store and clock."""
        return Pipeline(
            Ledger(self.store, clock=self.clock), Summariser(), [self.sink], Metrics(),
            redactor=Redactor(), policy=POLICY, router=router,
        )  # fmt: skip


async def test_an_open_redone_after_the_routes_changed_goes_where_it_first_went(
    tmp_path: Path,
) -> None:
    """Replica A (old routes) files the issue and stops before confirming it; the message's
    retry on replica B (rolled out: a new route placed first would take the alert) redoes the
    OPEN where A sent it, the route its ticket was saved with, so the incident holds one issue
    and none is left open in another repository, never to be closed."""
    rig = Replicas(Issues(stop_after_first=True))
    a = rig.replica(routes(tmp_path, "old", OLD_ROUTES))
    b = rig.replica(routes(tmp_path, "new", NEW_ROUTES))
    with pytest.raises(Stopped):
        await a.handle(alert(), "m1#0@a")
    rig.clock.now = T0 + LEASE + timedelta(minutes=1)
    await b.handle(alert(), "m1#0@b")
    assert rig.sink.opened_in() == ["acme/payments", "acme/payments"]
    stored = await rig.store.get(alert().fingerprint)
    assert stored is not None and stored.pending is None
    assert dict(stored.refs) == {"github": "acme/payments#2"}
    await b.handle(alert(status=Status.RESOLVED, minutes=5), "m2#0@b")
    closes = [e for e in rig.sink.effects if e.kind is EffectKind.CLOSE]
    assert [e.ref for e in closes] == ["acme/payments#2"]


#: Routes by environment: an alert's `env` label picks the repository its issue is filed in.
BY_ENV = """
[[route]]
name = "prod"
sinks = ["github"]
match = { labels = { env = "prod" } }
[route.github]
repository = "acme/prod"

[[route]]
name = "staging"
sinks = ["github"]
match = { labels = { env = "staging" } }
[route.github]
repository = "acme/staging"
"""


async def test_an_abandoned_open_redone_by_a_later_firing_with_other_labels_goes_where_it_went(
    tmp_path: Path,
) -> None:
    """The first firing (env=prod) files its issue and its worker stops before confirming; the
    alert's next firing, relabelled env=staging, takes the abandoned OPEN over once its lease
    ended: the OPEN is redone in acme/prod, where it went, not filed again in acme/staging,
    and the incident's one issue is the one its close reaches."""
    rig = Replicas(Issues(stop_after_first=True))
    one = rig.replica(routes(tmp_path, "by-env", BY_ENV))
    prod = alert().model_copy(update={"labels": {"env": "prod"}})
    with pytest.raises(Stopped):
        await one.handle(prod, "m1#0@a")
    rig.clock.now = T0 + LEASE + timedelta(minutes=1)
    staging = alert(minutes=3).model_copy(update={"labels": {"env": "staging"}})
    await one.handle(staging, "m2#0@a")
    assert rig.sink.opened_in() == ["acme/prod", "acme/prod"]
    stored = await rig.store.get(prod.fingerprint)
    assert stored is not None and dict(stored.refs) == {"github": "acme/prod#2"}


@dataclass
class RefusingBackend:
    """The ticket backend: answers an OPEN with `T-<n>`; refuses the first `refusals` closes of
    a ticket titled `refuse_close_of` for good (a 400: its validation rejected the request)."""

    refuse_close_of: str
    refusals: int = 1
    name: str = "backend"
    effects: list[Effect] = field(default_factory=list)
    refused: int = 0

    async def apply(self, effect: Effect) -> Applied:
        closing_it = effect.kind is EffectKind.CLOSE and effect.alert.title == self.refuse_close_of
        if closing_it and self.refused < self.refusals:
            self.refused += 1
            raise SinkRejectedError("400 Bad Request", status=400)
        self.effects.append(effect)
        opened = sum(e.kind is EffectKind.OPEN for e in self.effects)
        return Applied(f"T-{opened}") if effect.kind is EffectKind.OPEN else Applied()

    async def aclose(self) -> None:
        return None

    def closed(self) -> list[str]:
        """The titles of the tickets closed, in order."""
        return [e.alert.title for e in self.effects if e.kind is EffectKind.CLOSE]


async def test_a_deletions_retry_sends_a_close_its_backend_refused_again() -> None:
    """The alarm's deletion closes contributors a and b; the backend refuses a's close for good
    (the message fails, for the DLQ to show). Its next delivery (or redrive) sends that close
    to the backend again, as any alert's next delivery sends an effect refused for it, rather
    than counting a as closed already: a's ticket is closed once, and b's once."""
    backend = RefusingBackend(refuse_close_of=contributor_title("a"))
    one = Pipeline(
        Ledger(MemoryStore(POLICY, LEASE), clock=Clock()), Summariser(), [backend], Metrics(),
        redactor=Redactor(), policy=POLICY,
    )  # fmt: skip
    for table in "ab":
        await one.process(cw_message(f"f-{table}", contributor(table, "ALARM", "13:00")))
    with pytest.raises(SinkRejectedError):
        await one.process(cw_message("del", deletion()))
    assert backend.closed() == [contributor_title("b")]
    await one.process(cw_message("del", deletion(), receive=2))
    assert sorted(backend.closed()) == [contributor_title("a"), contributor_title("b")]


#: Generic alerts grouped by their `host` field.
BY_HOST = """
[[route]]
name = "hosts"
sinks = ["backend"]
group_by = ["host"]
[route.match]
source = ["generic"]
"""


def generic(n: int, minutes: float, receive: int = 1, **fields: object) -> Message:
    """Message `m-<n>` (its `receive`th delivery): alert `disk-a` stamped `minutes` after T0."""
    at = T0 + timedelta(minutes=minutes)
    body = {"title": "disk-a full", "dedup_key": "disk-a", "timestamp": at.isoformat(), **fields}
    return Message(f"m-{n}", json.dumps(body), f"rh-{n}-{receive}", receive, at, received_at=at)


async def test_a_moves_refused_close_of_its_own_incident_is_sent_again_by_its_retry(
    tmp_path: Path,
) -> None:
    """disk-a fires as its own incident on routes that group nothing; a replica on routes that
    group it by host takes its next firing, which moves it into host b's group: the backend
    refuses the close of its own ticket for good (the message fails). The message's retry sends
    that close again, as any alert's next delivery sends an effect refused for it, so the
    ticket does not stay open for good beside host b's."""
    backend = RefusingBackend(refuse_close_of="disk-a full")
    store, clock = MemoryStore(POLICY, LEASE), Clock()

    def replica(router: Router | None) -> Pipeline:
        return Pipeline(
            Ledger(store, clock=clock), Summariser(), [backend], Metrics(), redactor=Redactor(),
            policy=POLICY, router=router,
        )  # fmt: skip

    ungrouped, grouped = replica(None), replica(routes(tmp_path, "hosts", BY_HOST))
    await ungrouped.process(generic(1, 0, host="a"))
    clock.now = T0 + timedelta(minutes=1)
    with pytest.raises(SinkRejectedError):
        await grouped.process(generic(2, 1, host="b"))
    clock.now = T0 + timedelta(minutes=2)
    await grouped.process(generic(2, 1, receive=2, host="b"))
    own = await store.get(backend.effects[0].fingerprint)  # its own incident, opened first
    assert own is not None and own.group is None and not own.refused
    assert [e.kind for e in backend.effects if e.fingerprint == own.fingerprint] == [
        EffectKind.OPEN,
        EffectKind.CLOSE,
    ]
    group = [e.kind for e in backend.effects if e.fingerprint != own.fingerprint]
    assert group == [EffectKind.OPEN]  # host b's group, opened once


async def test_a_moves_close_refused_again_by_its_retry_holds_back_no_group_ticket(
    tmp_path: Path,
) -> None:
    """The backend refuses the move's close of disk-a's own ticket on both deliveries of the
    message: the retry opens host b's group first, then sends the close again, and fails for
    the DLQ to show, the refusal still kept for a redrive to send once more."""
    backend = RefusingBackend(refuse_close_of="disk-a full", refusals=2)
    store, clock = MemoryStore(POLICY, LEASE), Clock()

    def replica(router: Router | None) -> Pipeline:
        return Pipeline(
            Ledger(store, clock=clock), Summariser(), [backend], Metrics(), redactor=Redactor(),
            policy=POLICY, router=router,
        )  # fmt: skip

    ungrouped, grouped = replica(None), replica(routes(tmp_path, "hosts", BY_HOST))
    await ungrouped.process(generic(1, 0, host="a"))
    clock.now = T0 + timedelta(minutes=1)
    with pytest.raises(SinkRejectedError):
        await grouped.process(generic(2, 1, host="b"))
    clock.now = T0 + timedelta(minutes=2)
    with pytest.raises(SinkRejectedError):
        await grouped.process(generic(2, 1, receive=2, host="b"))
    assert backend.refused == 2
    own = await store.get(backend.effects[0].fingerprint)
    assert own is not None and own.group is None and own.refused
    assert [e.kind for e in backend.effects if e.fingerprint != own.fingerprint] == [
        EffectKind.OPEN  # host b's group
    ]


#: `BY_HOST` with a 30 s gathering window for a group's first ticket.
BY_HOST_GATHERING = BY_HOST.replace(
    'group_by = ["host"]', 'group_by = ["host"]\ngroup_window_s = 30'
)


async def test_a_firing_its_own_incident_took_first_opens_no_gathering_group(
    tmp_path: Path,
) -> None:
    """While a grouping route rolls out, disk-a's firing opens its own incident on a replica
    on the old routes; the same firing (stamped alike, another message) reaches a replica on
    the new routes, whose group for host a starts gathering with it. Its own incident keeps it,
    so the gathering group lets it go: when the window ends the group opens no ticket (no
    ticket opened and closed at once), and disk-a's one ticket closes at its resolve."""
    backend = RefusingBackend(refuse_close_of="", refusals=0)
    store, clock = MemoryStore(POLICY, LEASE), Clock()

    def replica(router: Router | None) -> Pipeline:
        return Pipeline(
            Ledger(store, clock=clock), Summariser(), [backend], Metrics(), redactor=Redactor(),
            policy=POLICY, router=router,
        )  # fmt: skip

    ungrouped, grouped = replica(None), replica(routes(tmp_path, "hosts", BY_HOST_GATHERING))
    await ungrouped.process(generic(1, 0, host="a"))
    clock.now = T0 + timedelta(seconds=12)
    with pytest.raises(GatheringError):
        await grouped.process(generic(2, 0, host="a"))
    clock.now = T0 + timedelta(seconds=45)
    await grouped.process(generic(2, 0, receive=2, host="a"))
    clock.now = T0 + timedelta(minutes=5)
    await ungrouped.process(generic(3, 5, host="a", status="resolved"))
    assert [e.kind for e in backend.effects] == [EffectKind.OPEN, EffectKind.CLOSE]
    assert len({e.fingerprint for e in backend.effects}) == 1  # disk-a's own ticket alone
