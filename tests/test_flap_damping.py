"""Flap damping: a flapping incident's resolve holds its close back until the incident has stayed
resolved for the quiet period (`TRIAGE_FLAP_QUIET_S`); a firing meanwhile is only counted, and
the sweep of one replica closes it once. The lifecycle as pure functions, the pipeline and sweep
on the in-memory store, and the index and claim on SQLite and DynamoDB (moto)."""

from __future__ import annotations

import dataclasses
import json
from collections.abc import AsyncIterator
from datetime import datetime, timedelta
from pathlib import Path

import pytest

from factories import T0, alert, kept_ttl
from github_stub import GitHubServer
from memory_store import MemoryStore
from moto_speed import loopback_aws_client
from test_config_faults import config_error, load_with
from test_pipeline import LEASE, POLICY
from test_silences import Rig
from triage.app import policy_from
from triage.errors import SinkThrottledError
from triage.incidents.codec import incident_from_json, incident_to_json, view_from_json
from triage.incidents.dynamodb import DynamoDBStore, create_table
from triage.incidents.groups import GroupKey, decide_group
from triage.incidents.lifecycle import (
    FLAP_HOLD,
    Action,
    Held,
    Incident,
    Pending,
    Policy,
    State,
    decide,
)
from triage.incidents.sqlite import SQLiteStore
from triage.incidents.store import Routing, Store
from triage.models import EffectKind, Priority, Status, Ticket
from triage.ops.operator import Filter, incident_json, list_incidents
from triage.redact import Redactor
from triage.routes import load_router
from triage.settings import Settings
from triage.sinks.github.sink import GitHubSink
from triage.sinks.guard import BREAKER_OPEN

HOUR = timedelta(hours=1)
TICKET = Ticket(title="api-5xx is failing", priority=Priority.HIGH, description="d", steps=("s",))


def at(minutes: float) -> datetime:
    return T0 + timedelta(minutes=minutes)


def _flapping(**changes: object) -> Incident:
    """An open incident with a ticket that has reopened three times in a row: flapping."""
    opened = decide(None, alert(), T0, POLICY).incident
    assert opened is not None
    flapping = dataclasses.replace(opened, refs={"backend": "T-1"}, reopens=3, flapping=True)
    return dataclasses.replace(flapping, **changes)  # type: ignore[arg-type]


def _damped(minutes: float = 10, policy: Policy = POLICY) -> Incident:
    """`_flapping()` resolved `minutes` after T0: its close held back."""
    decision = decide(
        _flapping(), alert(status=Status.RESOLVED, minutes=minutes), at(minutes), policy
    )
    assert decision.action is Action.DAMPED and decision.incident is not None
    return decision.incident


# --- The lifecycle, pure --------------------------------------------------------------------


def test_a_resolve_of_a_flapping_incident_closes_it_and_holds_its_close_back() -> None:
    """A flapping incident that resolves is closed with no effect; its close waits, due one
    quiet period (by default the reopen window) later, with a note saying why it waited."""
    damped = _damped(10)
    assert damped.state is State.CLOSED and damped.closed_at == at(10)
    pending = damped.pending
    assert pending is not None and pending.kind is EffectKind.CLOSE
    assert pending.owner == FLAP_HOLD and pending.until == at(10) + HOUR
    assert pending.seq == damped.seq == 1
    assert damped.close_held_until == at(70) and damped.close_waits(at(69))
    assert pending.alert is not None
    note = view_from_json(pending.alert)
    assert note.status is Status.RESOLVED and note.occurred_at == at(10)
    assert "api-5xx is failing" in note.title
    assert "resolving and firing again" in note.title and "1 h" in note.title


def test_a_firing_while_the_close_waits_is_counted_with_no_effect() -> None:
    """A firing during the quiet period is an occurrence of the incident its ticket still
    shows open: counted, open again, the held close dropped, no reopen."""
    damped = _damped(10)
    decision = decide(damped, alert(minutes=11), at(11), POLICY)
    assert decision.action is Action.COUNT and decision.action.effect is None
    fired = decision.incident
    assert fired is not None and fired.state is State.OPEN and fired.closed_at is None
    assert fired.pending is None and fired.close_held_until is None
    assert fired.occurrences == damped.occurrences + 1 and fired.flapping
    again = decide(fired, alert(status=Status.RESOLVED, minutes=12), at(12), POLICY)
    assert again.action is Action.DAMPED and again.incident is not None
    assert again.incident.pending is not None and again.incident.pending.until == at(12) + HOUR


def test_another_resolve_or_an_older_firing_in_the_wait_changes_nothing() -> None:
    """A resolve sent again during the wait does not restart the quiet period, and a firing
    older than the resolve never moves the incident back to open."""
    damped = _damped(10)
    resolve = decide(damped, alert(status=Status.RESOLVED, minutes=30), at(30), POLICY)
    assert resolve.action is Action.IGNORE
    assert resolve.incident is not None and resolve.incident.pending == damped.pending
    older = decide(damped, alert(minutes=9), at(31), POLICY)
    assert older.action is Action.IGNORE and older.incident is None


def test_a_close_is_held_only_for_a_flapping_incident_with_nothing_in_the_way() -> None:
    """Not flapping, damping off (0), a silence holding its effect, or another effect in
    progress: the resolve is the close it always was."""
    resolved = alert(status=Status.RESOLVED, minutes=10)
    off = dataclasses.replace(POLICY, flap_quiet=timedelta(0))
    held = Held(EffectKind.UPDATE, "s1", "{}", T0, at(60))
    busy = Pending(EffectKind.REOPEN, "m9@d", at(12), 4)
    cases = [
        (_flapping(flapping=False), POLICY),
        (_flapping(), off),
        (_flapping(held=held), POLICY),
        (_flapping(pending=busy), POLICY),
    ]
    for stored, policy in cases:
        decision = decide(stored, resolved, at(10), policy)
        assert decision.action is Action.CLOSE, stored
        assert decision.incident is not None and decision.incident.close_held_until is None


def test_the_quiet_period_is_the_setting_else_the_reopen_window() -> None:
    """TRIAGE_FLAP_QUIET_S sets the quiet period; unset, it follows TRIAGE_REOPEN_WINDOW_S."""
    assert policy_from(Settings(reopen_window_s=600)).quiet == timedelta(minutes=10)
    quiet = policy_from(Settings(reopen_window_s=600, flap_quiet_s=900))
    assert quiet.quiet == timedelta(minutes=15)
    damped = _damped(10, dataclasses.replace(POLICY, flap_quiet=timedelta(minutes=15)))
    assert damped.close_held_until == at(25)
    assert damped.pending is not None and damped.pending.alert is not None
    assert "15 min" in view_from_json(damped.pending.alert).title


def test_after_the_held_close_a_reopen_counts_afresh_from_when_it_went_out() -> None:
    """The held close ends the flapping: a re-fire within the reopen window of when the close
    went out reopens the ticket as a first reopen, not flapping; later, it is a new ticket."""
    closed = dataclasses.replace(_damped(10), pending=None)  # the sweep carried it out at 70
    reopen = decide(closed, alert(minutes=100), at(100), POLICY)
    assert reopen.action is Action.REOPEN and reopen.incident is not None
    assert reopen.incident.reopens == 1 and not reopen.incident.flapping
    assert reopen.incident.quiet_until is None and reopen.incident.refs == {"backend": "T-1"}
    fresh = decide(closed, alert(minutes=131), at(131), POLICY)
    assert fresh.action is Action.OPEN and fresh.incident is not None
    assert fresh.incident.reopens == 0 and fresh.incident.quiet_until is None


def test_without_damping_a_flapping_incident_stays_flapping_as_it_reopens() -> None:
    """With damping off every close is real and the reopens keep counting, as before."""
    off = dataclasses.replace(POLICY, flap_quiet=timedelta(0))
    closed = decide(_flapping(), alert(status=Status.RESOLVED, minutes=10), at(10), off).incident
    assert closed is not None
    reopen = decide(closed, alert(minutes=11), at(11), off)
    assert reopen.incident is not None and reopen.incident.flapping
    assert reopen.incident.reopens == 4


GROUP = GroupKey("g" * 32, "payments", (("service", "api"),))


def test_a_flapping_group_is_damped_and_a_member_firing_in_the_wait_is_counted() -> None:
    """A group is damped as a single incident is: its last member's resolve holds the close,
    and a member firing in the wait opens the group again with no effect."""
    first = decide_group(None, alert("a"), T0, POLICY, GROUP).incident
    assert first is not None
    flapping = dataclasses.replace(first, refs={"backend": "T-1"}, flapping=True, reopens=3)
    resolved = decide_group(flapping, alert("a", Status.RESOLVED, minutes=5), at(5), POLICY, GROUP)
    assert resolved.action is Action.DAMPED and resolved.incident is not None
    assert resolved.incident.close_held_until == at(5) + HOUR
    fired = decide_group(resolved.incident, alert("b", minutes=6), at(6), POLICY, GROUP)
    assert fired.action is Action.COUNT and fired.incident is not None
    assert fired.incident.state is State.OPEN and fired.incident.pending is None
    assert fired.incident.group is not None and fired.incident.group.firing == 1


def test_a_damped_incident_is_stored_and_read_back_and_old_records_still_load() -> None:
    """The codec keeps the held close and its due time; a record written before the field
    existed loads (not damped), and one that does not use the fields added in this release
    (a held close, counted repeats) does not write them, so a replica of the release before
    it (a rolling deploy) still reads it instead of sending its alerts to the DLQ."""
    damped = _damped(10)
    assert incident_from_json(incident_to_json(damped)) == damped
    plain = _flapping()
    body = json.loads(incident_to_json(plain))
    assert "quiet_until" not in body and "counted_by" not in body
    assert incident_from_json(json.dumps(body)) == plain
    assert incident_from_json(json.dumps(body)).close_held_until is None


def test_operators_see_when_a_held_close_is_due() -> None:
    """`incidents list` and the API show when the held close of a resolved, flapping incident
    goes out, and nothing once it has; until then it is open, as the lists and counts have it
    (its tickets are)."""
    damped = _damped(10)
    shown = incident_json(damped, Redactor())
    assert shown["state"] == "open" and shown["flapping"] is True
    assert shown["close_held_until"] == at(70).isoformat(timespec="seconds")
    gone = incident_json(dataclasses.replace(damped, pending=None), Redactor())
    assert gone["close_held_until"] is None


# --- The pipeline and the sweep, in memory --------------------------------------------------


async def _flap(r: Rig, cycles: int, sweeps: int = 2, name: str = "api-5xx") -> list[Action]:
    """The check `name` fires at each whole minute and resolves half a minute later, `cycles`
    times; `sweeps` replicas' sweeps run after every alert."""
    actions = []
    replicas = [r.sweep(f"sweep-{n}") for n in range(sweeps)]
    for minute in range(cycles):
        for offset, status in ((0.0, Status.FIRING), (0.5, Status.RESOLVED)):
            actions.append(await r.send(minute + offset, status, name))
            for sweep in replicas:
                await sweep.once()
    return actions


async def test_a_check_flapping_for_an_hour_makes_one_close_not_one_per_cycle() -> None:
    """Sixty fire/resolve cycles a minute apart, two replicas sweeping: three reopens mark the
    incident flapping, then the sinks hear nothing until it has stayed resolved for the quiet
    period, when one replica's sweep closes it once, with the note."""
    r = Rig()
    actions = await _flap(r, 60)
    assert r.sink.kinds() == ["open", "close", "reopen", "close", "reopen", "close", "reopen"]
    assert actions[7:10] == [Action.DAMPED, Action.COUNT, Action.DAMPED]
    assert set(actions[7:]) == {Action.DAMPED, Action.COUNT}
    a, b = r.sweep("sweep-a"), r.sweep("sweep-b")
    r.clock.at(59.5 + 59)
    await a.once()
    assert len(r.sink.effects) == 7  # not quiet long enough yet
    r.clock.at(59.5 + 60)
    await a.once()
    await b.once()
    assert r.sink.kinds()[7:] == ["close"]
    close = r.sink.effects[-1]
    assert close.occurrences == 60 and "resolving and firing again" in close.alert.title
    [stored] = await r.store.incidents()
    assert stored.state is State.CLOSED and stored.pending is None
    assert stored.close_held_until is None
    assert [(e.action, e.note) for e in stored.history[-3:]] == [
        ("damped", ""),
        ("close", "held while flapping"),
        ("close", "backend: T-1"),
    ]
    assert r.metrics.total("ClosesHeld") == actions.count(Action.DAMPED) > 0


async def test_the_open_list_shows_a_flapping_incident_whose_tickets_are_still_open() -> None:
    """Resolved while flapping, its close held back, an incident is closed in the store but
    open on its tickets: `incidents list` (open by default), `--flapping` and the status page
    list it among the open ones, and no longer once the close has gone out."""
    r = Rig()
    await _flap(r, 5, sweeps=0)
    [damped] = await r.store.incidents()
    assert damped.state is State.CLOSED and damped.close_held_until is not None
    assert await list_incidents(r.store, Filter("open")) == [damped]
    assert await list_incidents(r.store, Filter("open", flapping=True)) == [damped]
    assert not await list_incidents(r.store, Filter("closed"))
    r.clock.at(4.5 + 60)
    await r.sweep().once()
    assert r.sink.kinds()[-1] == "close"
    assert not await list_incidents(r.store, Filter("open"))
    assert len(await list_incidents(r.store, Filter("closed"))) == 1


async def test_held_closes_a_sinks_open_breaker_stops_are_no_warning_each() -> None:
    """Due closes of many incidents meeting a sink whose breaker is open log
    `sweep.incident_failed` at info: the breaker's own `breaker.opened` is the outage's one
    warning, not one more per incident and pass."""
    from structlog.testing import capture_logs

    r = Rig()
    for name in ("api-5xx", "db-lag", "disk-full"):
        await _flap(r, 5, sweeps=0, name=name)
    open_breaker = SinkThrottledError(
        "backend circuit breaker is open", retry_after_s=5.0, reason=BREAKER_OPEN
    )

    async def refuse(effect: object) -> None:
        raise open_breaker

    r.sink.apply = refuse  # type: ignore[assignment,method-assign]
    r.clock.at(4.5 + 61)
    with capture_logs() as logs:
        await r.sweep().once()
    failed = [line for line in logs if line["event"] == "sweep.incident_failed"]
    assert len(failed) == 3
    assert {line["log_level"] for line in failed} == {"info"}


async def test_a_close_by_hand_while_the_close_is_held_closes_the_tickets_now() -> None:
    """`triage incidents close` on a flapping incident whose close is held sends that close at
    once with the operator's note (it answered `ignore` while the ticket stayed open), and the
    sweep sends no second one when the quiet period ends."""
    r = Rig()
    await _flap(r, 5, sweeps=0)
    [damped] = await r.store.incidents()
    assert damped.close_held_until is not None
    action = await r.pipeline.close(damped.fingerprint, "cli-1", "fixed the probe", "ana")
    assert action is Action.CLOSE
    assert r.sink.kinds()[-1] == "close" and "fixed the probe" in r.sink.effects[-1].alert.title
    closes = r.sink.kinds().count("close")
    r.clock.at(4.5 + 61)
    await r.sweep().once()
    assert r.sink.kinds().count("close") == closes
    [stored] = await r.store.incidents()
    assert stored.pending is None and stored.close_held_until is None
    assert not await list_incidents(r.store, Filter("open"))
    assert (stored.history[-2].action, stored.history[-2].note) == (
        "close",
        "by hand, held while flapping",
    )
    assert stored.history[-1].note == "backend: T-1"
    assert await r.pipeline.close(stored.fingerprint, "cli-1", "again", "ana") is Action.IGNORE


async def test_a_firing_after_the_quiet_period_before_any_sweep_closes_then_reopens() -> None:
    """Its message carries out the due close first (before its own alert), then reopens the
    ticket afresh: a first reopen, not flapping."""
    r = Rig()
    await _flap(r, 5, sweeps=0)
    assert await r.send(4.5 + 60 + 1) is Action.REOPEN
    assert r.sink.kinds()[7:] == ["close", "reopen"]
    assert r.sink.effects[-1].flapping is False
    [stored] = await r.store.incidents()
    assert stored.reopens == 1 and not stored.flapping


async def test_a_held_close_a_sink_fails_is_tried_again_by_the_sweep_once() -> None:
    """The sink is down when the held close is due: the sweep tries again after its wait, and
    the close goes out once."""
    r = Rig()
    await _flap(r, 5, sweeps=0)
    r.sink.failures = 1
    r.clock.at(4.5 + 60)
    await r.sweep().once()
    assert r.sink.kinds()[7:] == []
    r.clock.at(4.5 + 60.6)
    await r.sweep().once()
    await r.sweep().once()
    assert r.sink.kinds()[7:] == ["close"]


async def _apply(
    store: Store, minute: float, status: Status = Status.FIRING, routing: Routing | None = None
) -> Action:
    """One alert of `api-5xx` applied `minute`s after T0, its effect (if any) carried out by
    the backend sink at once (with `routing` kept, when it opens the ticket)."""
    owner = f"m{minute}"
    t = await store.begin(alert(status=status, minutes=minute), owner, at(minute))
    if t.action.effect is not None:
        if routing is not None:
            await store.save_ticket(t.fingerprint, owner, TICKET, routing)
        ref = "T-1" if t.action is Action.OPEN else None
        await store.confirm(t.fingerprint, owner, "backend", ref, finish=True)
    return t.action


async def _damp(store: Store, routing: Routing | None = None) -> str:
    """Open, close and reopen `api-5xx` until it flaps (three reopens), resolve it at minute
    7: its close is held; returns its fingerprint."""
    await _apply(store, 0, routing=routing)
    for minute in range(1, 7):
        await _apply(store, minute, Status.RESOLVED if minute % 2 else Status.FIRING)
    assert await _apply(store, 7, Status.RESOLVED) is Action.DAMPED
    return alert().fingerprint


async def test_a_damped_incident_is_not_escalated_while_resolved() -> None:
    """While its close waits the incident is resolved, so its escalation is not due; a firing
    in the wait opens it again, past its route's delay since the last reopen: due."""
    store = MemoryStore(POLICY, LEASE)
    fp = await _damp(store, Routing("payments", "payments", {}, escalate_after_s=120))
    assert await store.claim_escalation(fp, "sweep", at(9), lambda _: None) is None
    assert await _apply(store, 10) is Action.COUNT
    assert await store.claim_escalation(fp, "sweep", at(10), lambda _: None) is not None


GH_TOKEN = "ghp_" + "Fl4pD4mp1ng" * 3


async def test_on_github_a_flapping_check_is_one_issue_closed_once_at_the_end() -> None:
    """Through the GitHub sink and a loopback GitHub: thirty fire/resolve cycles are one issue
    labelled flapping with three reopens, whose close comments stop once it flaps; one more
    close comment and the close come when it has stayed resolved, taking the `flapping` label
    off (the close ends the flapping). The comment says why it waited, however long the
    alert's title (GitHub's comment cuts the title at 300)."""
    with GitHubServer(tokens={GH_TOKEN: "triage-bot"}) as github:
        settings = Settings(
            sinks=("github",),
            github_api_url=github.url,
            github_repository="acme/ops",
            github_token=GH_TOKEN,
        )
        r = Rig(load_router(settings))
        r.store.policy = dataclasses.replace(POLICY, flap_quiet=timedelta(minutes=90))
        sink = GitHubSink(settings)
        r.pipeline.sinks = {sink.name: sink}
        try:
            await _flap(r, 30, name="checkout-latency-" * 11 + "ab")  # a title of 200
            assert "flapping" in [x["name"] for x in github.issues()[0]["labels"]]
            calls_while_flapping = len(github.calls)
            for minute in range(30, 119):  # the sweep runs on: nothing until it is quiet
                r.clock.at(minute)
                await r.sweep().once()
            assert len(github.calls) == calls_while_flapping
            r.clock.at(29.5 + 90)
            await r.sweep().once()
        finally:
            await sink.aclose()
        [issue] = github.issues()
    assert issue["state"] == "closed" and "flapping" not in [x["name"] for x in issue["labels"]]
    bodies = issue["comment_bodies"]
    assert [b.split(" at ")[0] for b in bodies] == ["Resolved", "Fired again"] * 3 + ["Resolved"]
    assert "kept resolving and firing again" in bodies[-1]
    assert "stayed resolved for 1 h 30 min" in bodies[-1]


# --- The stores ------------------------------------------------------------------------------


@pytest.fixture(params=["sqlite", "dynamodb"])
async def store(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Store]:
    """SQLite on disk, DynamoDB on moto's server."""
    if request.param == "sqlite":
        s = SQLiteStore(str(tmp_path / "t.db"), POLICY, LEASE, kept_ttl())
        await s.open()
        yield s
        await s.aclose()
        return
    moto_url = request.getfixturevalue("moto_url")
    async with loopback_aws_client("dynamodb", endpoint_url=moto_url) as client:
        await create_table(client, "incidents")
        yield DynamoDBStore(client, "incidents", POLICY, LEASE, timedelta(days=30))


async def _replica_of(store: Store) -> Store:
    """A second store on the same data, as another replica has."""
    if isinstance(store, SQLiteStore):
        replica = SQLiteStore(store.path, POLICY, LEASE, kept_ttl())
        await replica.open()
        return replica
    assert isinstance(store, DynamoDBStore)
    return DynamoDBStore(store._ddb, store.table, POLICY, LEASE, timedelta(days=30))


async def test_every_store_keeps_the_held_close_due_and_one_replica_takes_it(store: Store) -> None:
    """The store's sweep index holds a damped incident from its close's due time (not
    before), the incident reads back with it, and of two replicas claiming it when due, one
    gets it, with the idempotency key the hold was given."""
    fp = await _damp(store)
    stored = await store.get(fp)
    assert stored is not None and stored.close_held_until == at(7) + HOUR
    assert fp not in await store.due(at(66))
    assert fp in await store.due(at(67))
    replica = await _replica_of(store)
    try:
        claims = [
            await store.take_over(fp, "sweep-a", at(67)),
            await replica.take_over(fp, "sweep-b", at(67)),
        ]
    finally:
        if replica is not store and isinstance(replica, SQLiteStore):
            await replica.aclose()
    [taken] = [c for c in claims if c is not None]
    assert taken.action is Action.CLOSE and taken.idempotency_key == f"{fp}:{stored.seq}"


def test_a_quiet_period_the_store_would_not_outlive_is_refused(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A closed incident is deleted `TRIAGE_CLOSED_TTL_S` after it resolved: a quiet period
    as long (here the reopen window's, an hour, against a TTL of 30 min) would delete a
    damped incident with its held close, and its ticket would stay open for good. One line
    names both; a shorter quiet period, or none, loads."""
    message = config_error(monkeypatch, TRIAGE_CLOSED_TTL_S="1800")
    assert "TRIAGE_FLAP_QUIET_S" in message and "TRIAGE_CLOSED_TTL_S (1800)" in message
    assert load_with(monkeypatch, TRIAGE_FLAP_QUIET_S="900").flap_quiet_s == 900
    assert load_with(monkeypatch, TRIAGE_FLAP_QUIET_S="0").flap_quiet_s == 0
