"""A storm's plain repeat (`incidents.plain`, `Store.count_repeat`, `Pipeline._plain_repeat`):
what it writes is what the general path writes, and every case that is not plain falls back to
the general path, in the store's write and in the pipeline."""

from __future__ import annotations

import asyncio
import dataclasses
import json
import sys
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, cast

from factories import T0, kept_ttl
from memory_store import MemoryStore
from triage.incidents import Action, Ledger, Policy
from triage.incidents import silences as silences_module
from triage.incidents.lifecycle import (
    AnswersFiring,
    Event,
    Held,
    Incident,
    Pending,
    Refusal,
    State,
    replace_incident,
)
from triage.incidents.plain import plain_count
from triage.incidents.silences import Matcher, Silence, SilenceCache
from triage.incidents.sqlite import SQLiteStore
from triage.incidents.store import Store, Transition, _counted_id, _remembered
from triage.metrics import Metrics
from triage.models import Alert, EffectKind, Priority, Status, Ticket
from triage.pipeline import Pipeline, _Event
from triage.redact import Redactor
from triage.routes import load_router
from triage.settings import Settings
from triage.sinks.base import Applied, Effect
from triage.sqs.inbox import Message
from triage.view import RedactedAlert

POLICY = Policy(update_interval=timedelta(minutes=15), reopen_window=timedelta(hours=1))
LEASE = timedelta(minutes=2)
OWNER = "m-9#0"
_BENCH = str(Path(__file__).resolve().parents[1] / "bench")
FP_KEY = "api-5xx"


class _Sink:
    name = "backend"

    def __init__(self) -> None:
        self.effects: list[Effect] = []

    async def apply(self, effect: Effect) -> Applied:
        self.effects.append(effect)
        return Applied("T-1") if effect.kind is EffectKind.OPEN else Applied()

    async def aclose(self) -> None:
        return None


class _Summariser:
    async def summarise(self, alert: RedactedAlert) -> Ticket:
        return Ticket(title=alert.title, priority=Priority.HIGH, description="d", steps=("s",))

    async def aclose(self) -> None:
        return None


class _Clock:
    def __init__(self) -> None:
        self.now = T0

    def __call__(self) -> datetime:
        return self.now


class _Counting(MemoryStore):
    """The memory store, counting the plain repeats it was asked to count and those it did."""

    def __init__(self) -> None:
        super().__init__(POLICY, LEASE)
        self.asked = 0
        self.counted = 0

    async def count_repeat(self, alert: Any, owner: str, now: datetime) -> Transition | None:
        self.asked += 1
        counted = await super().count_repeat(alert, owner, now)
        self.counted += counted is not None
        return counted


def _pipeline(store: Store, clock: _Clock, **options: Any) -> tuple[Pipeline, _Sink]:
    sink = _Sink()
    pipeline = Pipeline(
        Ledger(store, clock=clock),
        _Summariser(),
        [sink],
        Metrics(),
        redactor=Redactor(),
        policy=POLICY,
        **options,
    )
    return pipeline, sink


def _body(minutes: float, status: str = "firing", n: int = 0, **extra: object) -> str:
    at = (T0 + timedelta(minutes=minutes)).isoformat()
    sent = {"title": "api 5xx", "dedup_key": FP_KEY, "status": status, "timestamp": at}
    return json.dumps({**sent, "n": n, **extra})


def _message(body: str, n: int, received_at: datetime, receive_count: int = 1) -> Message:
    rh = f"rh-{n}-{receive_count}"
    # Sent as its alert happened: a sender stamps an event before it sends it.
    return Message(f"m-{n}", body, rh, receive_count, received_at, received_at=received_at)


async def _send(
    pipeline: Pipeline, clock: _Clock, minutes: float, n: int, receive_count: int = 1, **extra: Any
) -> Action:
    clock.now = T0 + timedelta(minutes=minutes)
    body = _body(minutes, n=n, **extra)
    message = _message(body, n, clock.now, receive_count)
    outcomes = await pipeline.process(message)
    return outcomes[0].action


# --- The store's decision: the general path's, field for field -----------------------------


async def _opened() -> tuple[MemoryStore, Pipeline, _Clock, Incident]:
    """An open incident with its ticket, opened and repeated once through the general path."""
    store, clock = MemoryStore(POLICY, LEASE), _Clock()
    pipeline, _ = _pipeline(store, clock)
    assert await _send(pipeline, clock, 0, 0) is Action.OPEN
    incident = await store.get((await store.incidents())[0].fingerprint)
    assert incident is not None and incident.ticket is not None and incident.pending is None
    return store, pipeline, clock, incident


def _event(pipeline: Pipeline, stored: Incident, minutes: float, **changes: Any) -> _Event:
    source = Alert(
        source="generic",
        status=changes.pop("status", Status.FIRING),
        title="api 5xx",
        priority=changes.pop("priority", Priority.HIGH),
        occurred_at=T0 + timedelta(minutes=minutes),
        identity={"dedup_key": FP_KEY},
        **changes,
    )
    assert source.fingerprint == stored.fingerprint
    return pipeline.event(source, T0 + timedelta(minutes=minutes))


def _alike(
    pipeline: Pipeline, stored: Incident, queued: datetime | None, *, first_sight: bool
) -> _Event:
    """A firing stamped as `stored`'s newest event, its message queued at `queued`."""
    source = Alert(
        source="generic",
        status=Status.FIRING,
        title="api 5xx",
        priority=Priority.HIGH,
        occurred_at=stored.last_event_at,
        identity={"dedup_key": FP_KEY},
    )
    return pipeline.event(source, queued, first_sight=first_sight)


def _general(store: Store, stored: Incident, event: Any, now: datetime) -> Transition:
    return store._plan(stored, event, OWNER, now)


def _plain(store: Store, stored: Incident | None, event: Any, now: datetime) -> Incident | None:
    counted = _counted_id(OWNER)
    return plain_count(
        stored,
        event,
        now,
        store.policy,
        alert_owner=OWNER,
        counted=counted,
        settled=store._settled,
        remember=lambda incident: _remembered(incident, counted, store._settled),
    )


async def test_a_plain_repeat_writes_what_the_general_path_writes() -> None:
    """A plain repeat's incident equals the general path's COUNT, field for field: first in
    its window, again on top of its own count line, with a stated priority below the ticket's,
    with none, and with settled repeats dropped from what it remembers."""
    store, pipeline, _, stored = await _opened()
    now = T0 + timedelta(minutes=1)
    cases = [
        (stored, _event(pipeline, stored, 1)),
        (stored, _event(pipeline, stored, 1, priority=Priority.LOW)),
        (stored, _event(pipeline, stored, 1, priority=None)),
    ]
    first = _plain(store, stored, cases[0][1], now)
    assert first is not None
    first = replace_incident(first, counted_by=("abc",))  # counted under another alert's id
    cases.append((first, _event(pipeline, first, 2)))
    store.settle(["m-0#0"])
    cases.append((replace_incident(first, counted_by=(_counted_id("m-0#0"), "abc")), cases[-1][1]))
    for before, event in cases:
        general = _general(store, before, event, now + timedelta(minutes=1))
        assert general.action is Action.COUNT
        plain = _plain(store, before, event, now + timedelta(minutes=1))
        assert plain == general.after


async def test_a_repeat_stamped_alike_is_plain_where_the_general_path_counts_it() -> None:
    """A repeat stamped as the newest event (one SendMessageBatch's repeats, dated by their
    queue time) is counted plainly when the general path counts it, queued later or a first
    sight queued alike, and written alike; queued before the newest, or another delivery
    of it, the plain path declines (the general path orders it: a late count, an IGNORE)."""
    store, pipeline, _, stored = await _opened()
    queued = stored.last_queued_at
    assert queued is not None
    now = T0 + timedelta(minutes=2)
    for event in (
        _alike(pipeline, stored, queued + timedelta(seconds=1), first_sight=False),
        _alike(pipeline, stored, queued, first_sight=True),
    ):
        general = _general(store, stored, event, now)
        assert general.action is Action.COUNT
        assert _plain(store, stored, event, now) == general.after
    another = _alike(pipeline, stored, queued, first_sight=False)
    assert _general(store, stored, another, now).action is Action.IGNORE
    assert _plain(store, stored, another, now) is None, "another delivery"
    earlier = _alike(pipeline, stored, queued - timedelta(seconds=1), first_sight=True)
    assert _plain(store, stored, earlier, now) is None, "queued before the newest"


async def test_each_case_that_is_not_plain_falls_back() -> None:
    """Every condition of a plain repeat, broken alone, makes the fast path decline (None): an
    incident closed, a group's, with an effect in progress, held, refused, without its ticket;
    an alert resolved, a priority changed by a person, a resolve triage writes, stamped alike
    or older than the newest event, applied before (its effect, its counted id, a deleted
    message's), a raise above the ticket, and the interval's update due."""
    store, pipeline, _, stored = await _opened()
    now = T0 + timedelta(minutes=1)
    plain = _event(pipeline, stored, 1)
    assert _plain(store, stored, plain, now) is not None
    until = now + LEASE
    counted = _counted_id(OWNER)
    incidents = {
        "closed": replace_incident(stored, state=State.CLOSED, closed_at=now),
        "group": replace_incident(stored, group=cast(Any, object())),
        "pending": replace_incident(stored, pending=Pending(EffectKind.UPDATE, "x", until, 2)),
        "held": replace_incident(stored, held=Held(EffectKind.UPDATE, "s", "{}", now, until)),
        "refused": replace_incident(
            stored, refused={"backend": Refusal(EffectKind.UPDATE, "m-1#0")}
        ),
        "no ticket": replace_incident(stored, ticket=None),
        "applied effect": replace_incident(stored, effects_by=(*stored.effects_by, OWNER)),
        "counted": replace_incident(stored, counted_by=(counted,)),
    }
    for name, changed in incidents.items():
        assert _plain(store, changed, plain, now) is None, name
    events = {
        "resolved": _event(pipeline, stored, 1, status=Status.RESOLVED),
        "priority changed": _event(pipeline, stored, 1, priority_changed=True),
        "answers a firing": AnswersFiring(plain),
        "stamped and queued alike, not its first sight": _event(pipeline, stored, 0),
        "older": _event(pipeline, stored, -1),
        "raise": _event(pipeline, stored, 1, priority=Priority.CRITICAL),
    }
    for name, event in events.items():
        assert _plain(store, stored, event, now) is None, name
    assert _plain(store, stored, plain, T0 + POLICY.update_interval) is None, "update due"
    assert _plain(store, None, plain, now) is None, "new"
    store.settle([OWNER])
    assert _plain(store, stored, plain, now) is None, "settled"


async def test_a_raise_below_what_was_stated_before_is_plain() -> None:
    """A priority above the ticket's but not above what the alerts stated before (a ticket a
    person lowered) is no raise: counted plainly, as the general path counts it."""
    store, pipeline, _, stored = await _opened()
    stored = replace_incident(stored, priority_stated=Priority.CRITICAL)
    event = _event(pipeline, stored, 1, priority=Priority.CRITICAL)
    now = T0 + timedelta(minutes=1)
    general = _general(store, stored, event, now)
    assert general.action is Action.COUNT
    assert _plain(store, stored, event, now) == general.after


async def test_count_repeat_writes_nothing_when_it_declines() -> None:
    """`Store.count_repeat` of a repeat that is not plain (the update due) writes nothing and
    answers None; of a plain one, writes the count in one write and answers COUNT."""
    store, pipeline, _, stored = await _opened()
    record = store.records[("incident", stored.fingerprint)]
    due = T0 + POLICY.update_interval
    declined = await store.count_repeat(_event(pipeline, stored, 15), OWNER, due)
    assert declined is None
    assert store.records[("incident", stored.fingerprint)] is record
    counted = await store.count_repeat(_event(pipeline, stored, 1), OWNER, T0)
    assert counted is not None and counted.action is Action.COUNT
    after = await store.get(stored.fingerprint)
    assert after is not None and after.occurrences == stored.occurrences + 1
    assert after.version == stored.version + 1


# --- The pipeline: the fast path only where it may be taken ---------------------------------


async def _storm(**options: Any) -> tuple[_Counting, Pipeline, _Clock]:
    store, clock = _Counting(), _Clock()
    pipeline, _ = _pipeline(store, clock, **options)
    assert await _send(pipeline, clock, 0, 0) is Action.OPEN
    return store, pipeline, clock


async def test_a_storm_repeat_takes_the_fast_path() -> None:
    """A repeat of an open incident is counted by the fast path, its count and newest event
    exact; the new incident before it was not asked to be (`Store.may_count`)."""
    store, pipeline, clock = await _storm()
    assert store.asked == 0
    for n in range(1, 6):
        assert await _send(pipeline, clock, n, n) is Action.COUNT
    assert (store.asked, store.counted) == (5, 5)
    incident = (await store.incidents())[0]
    assert incident.occurrences == 6
    assert incident.last_event_at == T0 + timedelta(minutes=5)


async def test_repeats_stamped_and_queued_alike_take_the_fast_path() -> None:
    """Repeats stamped and queued as the incident's newest event (one SendMessageBatch's, each
    message's first sight) are counted by the fast path, each once."""
    store, pipeline, clock = await _storm()
    for n in range(1, 4):
        clock.now = T0 + timedelta(minutes=n)
        message = _message(_body(0, n=n), n, clock.now)
        assert (await pipeline.process(message))[0].action is Action.COUNT
    assert (store.asked, store.counted) == (3, 3)
    assert (await store.incidents())[0].occurrences == 4


async def test_a_dry_run_takes_the_general_path() -> None:
    """A dry run writes nothing: the fast path is never asked."""
    store, pipeline, clock = await _storm()
    pipeline.dry_run = True
    assert await _send(pipeline, clock, 1, 1) is Action.COUNT
    assert store.asked == 0
    assert (await store.incidents())[0].occurrences == 1


async def test_a_redelivery_takes_the_general_path() -> None:
    """A message received again (its receive count above 1) is decided by the general path,
    which knows what its first delivery did."""
    store, pipeline, clock = await _storm()
    assert await _send(pipeline, clock, 1, 1, receive_count=2) is Action.COUNT
    assert store.asked == 0


async def test_a_resolve_takes_the_general_path() -> None:
    """A resolve closes the incident through the general path, with its sink's close."""
    store, pipeline, clock = await _storm()
    clock.now = T0 + timedelta(minutes=1)
    message = _message(_body(1, status="resolved", n=1), 1, clock.now)
    assert (await pipeline.process(message))[0].action is Action.CLOSE
    assert store.asked == 0


def _quiet(matcher: str, minutes: float = 60) -> Silence:
    return Silence(
        id=f"s-{matcher}",
        matchers=(Matcher.parse(matcher),),
        starts_at=T0,
        ends_at=T0 + timedelta(minutes=minutes),
        comment="quiet",
        author="test",
    )


async def test_an_unrelated_silence_keeps_the_fast_path() -> None:
    """A storm's repeats with an unrelated silence in effect are counted by the fast path: one
    on a team the alert lacks from the first repeat (`Silence.ruled_out`), one on another
    source from the second (its first made the view `none_match` reads, `_Views.peek`)."""
    silences_module._VIEWS._views.clear()  # the same alert text may be remembered from others
    store, pipeline, clock = await _storm()
    pipeline.silences = SilenceCache(store, max_age_s=0.0)
    await store.add_silence(_quiet("team=nobody"), T0)
    for n in range(1, 4):
        assert await _send(pipeline, clock, n, n) is Action.COUNT
    assert (store.asked, store.counted) == (3, 3)
    await store.add_silence(_quiet("source=nobody"), T0)
    for n in range(4, 7):
        assert await _send(pipeline, clock, n, n) is Action.COUNT
    assert (store.asked, store.counted) == (5, 5)


async def test_a_matching_silence_takes_the_general_path() -> None:
    """While a silence matching the alert is in effect, its repeats go the general path, which
    holds the update due under it; once the silence ends, they take the fast path again."""
    store, pipeline, clock = await _storm()
    pipeline.silences = SilenceCache(store, max_age_s=0.0)
    await store.add_silence(_quiet("team=nobody"), T0)
    await store.add_silence(_quiet("title=api 5xx", minutes=20), T0)
    assert await _send(pipeline, clock, 1, 1) is Action.COUNT
    assert await _send(pipeline, clock, 2, 2) is Action.COUNT
    assert await _send(pipeline, clock, 16, 3) is Action.SILENCED
    assert store.asked == 0
    assert await _send(pipeline, clock, 21, 4) is Action.UPDATE
    assert await _send(pipeline, clock, 22, 5) is Action.COUNT
    assert (store.asked, store.counted) == (1, 1)


async def test_a_grouping_route_takes_the_general_path(tmp_path: Path) -> None:
    """An alert a grouping route takes is a group's member, decided by the general path, also
    when its own incident is open from before the route grouped it (the member moves)."""
    routes = tmp_path / "routes.toml"
    routes.write_text(
        '[[route]]\nname = "disks"\nsinks = ["backend"]\ngroup_by = ["host"]\n'
        '[route.match]\nlabels = { grouped = "yes" }\n'
    )
    store, clock = _Counting(), _Clock()
    pipeline, sink = _pipeline(store, clock)
    labels = {"grouped": "yes", "host": "h1"}
    assert await _send(pipeline, clock, 0, 0, labels=labels) is Action.OPEN
    assert await _send(pipeline, clock, 1, 1, labels=labels) is Action.COUNT
    assert store.asked == 1
    pipeline.router = load_router(Settings(routes_file=routes))
    for n in range(2, 5):
        await _send(pipeline, clock, n, n, labels=labels)
    assert store.asked == 1
    assert [str(e.kind) for e in sink.effects] == ["open", "close", "open"]


async def test_an_incident_with_an_effect_takes_the_general_path() -> None:
    """An incident whose update is due is told by the general path (the fast path declines
    and writes nothing), and counted plainly again after it."""
    store, pipeline, clock = await _storm()
    assert await _send(pipeline, clock, 1, 1) is Action.COUNT
    assert await _send(pipeline, clock, 16, 2) is Action.UPDATE
    assert (store.asked, store.counted) == (2, 1)
    assert await _send(pipeline, clock, 17, 3) is Action.COUNT
    assert (store.asked, store.counted) == (3, 2)
    assert (await store.incidents())[0].occurrences == 4


# --- SQLite: exact counts, and another replica's change -------------------------------------


def _sqlite(path: Path) -> SQLiteStore:
    return SQLiteStore(str(path), POLICY, LEASE, kept_ttl())


async def test_concurrent_repeats_count_exactly(tmp_path: Path) -> None:
    """Repeats processed 16 at a time on SQLite (their writes committed together) count every
    occurrence once, and the newest event is the latest of them, whatever order they land."""
    store, clock = _sqlite(tmp_path / "s.db"), _Clock()
    await store.open()
    try:
        pipeline, _ = _pipeline(store, clock)
        assert await _send(pipeline, clock, 0, 0) is Action.OPEN
        clock.now = T0 + timedelta(minutes=10)
        messages = [_message(_body(n / 100, n=n), n, clock.now) for n in range(1, 201)]
        slots = asyncio.Semaphore(16)

        async def one(message: Message) -> Action:
            async with slots:
                return (await pipeline.process(message))[0].action

        actions = await asyncio.gather(*(one(m) for m in messages))
        assert set(actions) == {Action.COUNT}
        incident = (await store.incidents())[0]
        assert incident.occurrences == 201
        assert incident.last_event_at == T0 + timedelta(minutes=2)
    finally:
        await store.aclose()


async def test_another_replicas_close_is_seen(tmp_path: Path) -> None:
    """Another process sharing the file closes the incident after this one last wrote it:
    this process's next repeat, though its own memory says open, is decided on the record as
    stored (a reopen, through the general path), never counted in the closed incident."""
    path = tmp_path / "s.db"
    mine, theirs, clock = _sqlite(path), _sqlite(path), _Clock()
    await mine.open()
    await theirs.open()
    try:
        pipeline, sink = _pipeline(mine, clock)
        other, _ = _pipeline(theirs, clock)
        assert await _send(pipeline, clock, 0, 0) is Action.OPEN
        assert await _send(pipeline, clock, 1, 1) is Action.COUNT
        fingerprint = (await mine.incidents())[0].fingerprint
        assert mine.may_count(fingerprint)
        clock.now = T0 + timedelta(minutes=2)
        resolve = _message(_body(2, status="resolved", n=2), 2, clock.now)
        assert (await other.process(resolve))[0].action is Action.CLOSE
        assert mine.may_count(fingerprint)  # its memory is stale: the write must not trust it
        assert await _send(pipeline, clock, 3, 3) is Action.REOPEN
        incident = await mine.get(fingerprint)
        assert incident is not None and incident.state is State.OPEN
        assert [str(e.kind) for e in sink.effects] == ["open", "reopen"]
    finally:
        await mine.aclose()
        await theirs.aclose()


def test_history_line_is_the_general_paths() -> None:
    """The count line a plain repeat writes reads as the general path's: `N alerts (+K)`."""
    stored = Incident(
        fingerprint="f",
        state=State.OPEN,
        source="generic",
        title="t",
        opened_at=T0,
        last_event_at=T0,
        occurrences=3,
        occurrences_at_update=1,
        history=(Event(T0, "open"),),
        ticket=Ticket(title="t", priority=Priority.HIGH, description="d", steps=("s",)),
    )
    event = dataclasses.make_dataclass(
        "E",
        [
            ("fingerprint", str),
            ("source", str),
            ("status", Status),
            ("title", str),
            ("occurred_at", datetime),
        ],
    )("f", "generic", Status.FIRING, "t", T0 + timedelta(minutes=1))
    counted = plain_count(
        stored, event, T0 + timedelta(minutes=1), POLICY, alert_owner=OWNER, counted="c",
        settled=(),
    )  # fmt: skip
    assert counted is not None
    assert counted.history[-1].note == "4 alerts (+3)"
    assert counted.counted_by == ("c",)
    assert counted.last_queued_at is None


async def test_the_repeat_harness_counts_its_repeats_plainly() -> None:
    """bench/repeat.py's storm on the SQLite store takes the plain path: it says how many of
    its repeats were counted so, and every one is (they come in order, one at a time)."""
    sys.path.insert(0, _BENCH)
    import repeat

    figures = await repeat.measure(30, incidents=3, concurrency=1)
    assert figures["actions"] == {"count": 30}
    assert figures["plain"] == 30


async def test_the_repeat_harness_keeps_the_plain_path_under_another_teams_silence() -> None:
    """bench/repeat.py with a silence of another team in effect (`--silence team=payments`)
    still counts every repeat plainly: only the opens match the silences the general way."""
    sys.path.insert(0, _BENCH)
    import repeat

    figures = await repeat.measure(30, incidents=3, concurrency=1, silenced=("team=payments",))
    assert figures["actions"] == {"count": 30}
    assert figures["plain"] == 30
