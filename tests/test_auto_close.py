"""Closing for want of alerts: a route's `resolve_after_s` closes an incident that has had no
alert for that long, for sources that never send a resolve (Graylog, Splunk, SNS text, …).
The routes file, the pipeline and sweep on the in-memory store, and the index and the one
conditional claim on SQLite and DynamoDB (moto)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path

import pytest
import structlog

from factories import T0, alert
from moto_speed import loopback_aws_client
from test_config_faults import route_error, routes
from test_pipeline import LEASE, POLICY
from test_silences import Rig
from triage.incidents.base import next_version
from triage.incidents.dynamodb import DynamoDBStore, create_table
from triage.incidents.lifecycle import Action, Incident, State
from triage.incidents.sqlite import SQLiteStore
from triage.incidents.store import Routing, Store
from triage.models import Alert, Priority, Status, Ticket
from triage.routes import load_router
from triage.settings import Settings

HOURS_4 = 4 * 3600.0
TICKET = Ticket(title="api-5xx is failing", priority=Priority.HIGH, description="d", steps=("s",))


async def route_says_resolve_after(store: Store, fingerprint: str, seconds: float) -> None:
    """The route's `resolve_after_s` on the ticketed incident, as the effect that opened its
    ticket would copy it (see `test_the_route_setting_reaches_the_incident_it_opens`)."""

    def change(stored: Incident | None) -> tuple[Incident | None, None]:
        assert stored is not None
        return next_version(stored, resolve_after_s=seconds), None

    await store._transact(fingerprint, change)


async def opened(r: Rig, name: str = "api-5xx", seconds: float = HOURS_4) -> Incident:
    """An incident `name` opened at minute 0, of a route that closes it after `seconds`."""
    assert await r.send(0, name=name) is Action.OPEN
    [incident] = [i for i in await r.store.incidents() if i.title == f"{name} is failing"]
    await route_says_resolve_after(r.store, incident.fingerprint, seconds)
    return incident


async def swept(r: Rig, minutes: float, *owners: str) -> None:
    """One pass of each replica's sweep (`owners`, default one) at `minutes`."""
    r.clock.at(minutes)
    await asyncio.gather(*(r.sweep(owner).once() for owner in owners or ("sweep-a",)))


async def stored(r: Rig, fingerprint: str) -> Incident:
    incident = await r.store.get(fingerprint)
    assert incident is not None
    return incident


# --- The routes file ----------------------------------------------------------------------------


def test_a_routes_resolve_after_s_is_read_and_off_by_default(tmp_path: Path) -> None:
    """`resolve_after_s` is read onto its route; a route without it, and the default route,
    never close an incident for want of alerts."""
    text = '[[route]]\nname = "logs"\nsinks = ["backend"]\nresolve_after_s = 14400\n'
    text += '[route.match]\nsource = ["graylog", "splunk"]\n'
    text += '[[route]]\nname = "rest"\nsinks = ["backend"]\n'
    router = load_router(routes(tmp_path, text))
    assert [r.route.resolve_after_s for r in router.rules] == [14400.0, None]
    assert router.default.resolve_after_s is None


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("0", "resolve_after_s: must be more than 0"),
        ("-60", "resolve_after_s: must be more than 0"),
        ("inf", "resolve_after_s"),
        ("nan", "resolve_after_s"),
        ("1e300", "resolve_after_s: must be at most 315360000"),
        ('"4h"', "resolve_after_s: expected a number of seconds (14400 for 4 h)"),
        ("[14400]", "resolve_after_s: expected a number of seconds"),
    ],
)
def test_a_bad_resolve_after_s_is_one_line_naming_it(
    tmp_path: Path, value: str, expected: str
) -> None:
    """A time that is no positive number of seconds up to ten years stops start-up with one
    line naming the key (`"4h"` says that seconds are wanted), as escalate_after_s does."""
    text = f'[[route]]\nname = "logs"\nsinks = ["backend"]\nresolve_after_s = {value}\n'
    message = route_error(tmp_path, text)
    assert "route 'logs'" in message and expected in message


@pytest.mark.parametrize("key", ["group_window_s", "escalate_after_s"])
def test_every_route_duration_written_as_words_says_seconds_are_wanted(
    tmp_path: Path, key: str
) -> None:
    """`"30s"` or `"4h"` in any of a route's durations is refused saying it wants seconds,
    where it said only "expected a number"."""
    text = f'[[route]]\nname = "a"\nsinks = ["backend"]\ngroup_by = ["x"]\n{key} = "4h"\n'
    assert f"{key}: expected a number of seconds" in route_error(tmp_path, text)


def test_a_misspelt_resolve_after_s_says_what_it_meant(tmp_path: Path) -> None:
    """`resolve_afer_s` is refused with the key it was a typo of."""
    text = '[[route]]\nname = "logs"\nsinks = ["backend"]\nresolve_afer_s = 14400\n'
    assert "did you mean 'resolve_after_s'" in route_error(tmp_path, text)


async def test_the_route_setting_reaches_the_incident_it_opens(tmp_path: Path) -> None:
    """An incident opened on a route with `resolve_after_s` carries it, and the sweep closes
    it once it has had no alert for that long."""
    text = '[[route]]\nname = "logs"\nsinks = ["backend"]\nresolve_after_s = 14400\n'
    r = Rig(load_router(routes(tmp_path, text)))
    await r.send(0)
    [incident] = await r.store.incidents()
    assert incident.resolve_after_s == HOURS_4
    await swept(r, 240)
    assert r.sink.kinds() == ["open", "close"]


# --- The sweep closes a quiet incident --------------------------------------------------------


async def test_a_quiet_incident_is_closed_once_with_a_note_saying_why() -> None:
    """No alert for the route's 4 h: of two replicas' sweeps one closes the incident, the sink
    is told once with "no alert for 4 h", the history says so and one log line counts it."""
    r = Rig()
    incident = await opened(r)
    await swept(r, 239, "sweep-a", "sweep-b")
    assert r.sink.kinds() == ["open"]
    with structlog.testing.capture_logs() as logs:
        await swept(r, 240, "sweep-a", "sweep-b")
    assert r.sink.kinds() == ["open", "close"]
    closed = r.sink.effects[-1].alert
    assert closed.status is Status.RESOLVED
    assert closed.title == "api-5xx is failing (no alert for 4 h)"
    after = await stored(r, incident.fingerprint)
    assert after.state is State.CLOSED and after.pending is None
    assert ("close", "no alert for 4 h") in [(e.action, e.note) for e in after.history]
    auto = [line for line in logs if line["event"] == "sweep.auto_closed"]
    assert [(a["action"], a["quiet_s"]) for a in auto] == [("close", HOURS_4)]
    await swept(r, 600)
    assert r.sink.kinds() == ["open", "close"]


async def test_a_close_its_sink_fails_is_tried_again_with_its_note_not_lost() -> None:
    """A sink down when the quiet incident closes: the close stays claimed in the store and a
    later pass sends it, with its note, once."""
    r = Rig()
    await opened(r)
    r.sink.failures = 1
    await swept(r, 240)
    assert r.sink.kinds() == ["open"]
    await swept(r, 241)
    assert r.sink.kinds() == ["open", "close"]
    assert r.sink.effects[-1].alert.title == "api-5xx is failing (no alert for 4 h)"
    await swept(r, 300)
    assert r.sink.kinds() == ["open", "close"]


async def test_each_alert_and_repeat_starts_the_quiet_time_again() -> None:
    """A repeat (counted, no effect) and an update each push the close back: it comes 4 h
    after the last alert, not 4 h after the incident opened."""
    r = Rig()
    incident = await opened(r)
    assert await r.send(5) is Action.COUNT
    assert await r.send(200) is Action.UPDATE
    await swept(r, 300)
    assert r.sink.kinds() == ["open", "update"]
    await swept(r, 440)
    assert r.sink.kinds() == ["open", "update", "close"]
    assert (await stored(r, incident.fingerprint)).closed_at == T0 + timedelta(minutes=440)


async def test_without_the_setting_nothing_is_ever_closed_for_want_of_alerts() -> None:
    """Never on by default: an incident of a route without `resolve_after_s` stays open and
    out of the sweep index, however long it is quiet."""
    r = Rig()
    assert await r.send(0) is Action.OPEN
    await swept(r, 60 * 24 * 365 * 10)
    assert r.sink.kinds() == ["open"]
    assert await r.store.due(None) == []


async def test_an_alert_after_the_close_reopens_it_within_the_window_else_opens_anew() -> None:
    """After the close, a firing within the reopen window reopens the ticket, and the quiet
    time runs again from it; one later than the window opens a new ticket."""
    r = Rig()
    await opened(r)
    await swept(r, 240)
    assert await r.send(250) is Action.REOPEN
    await swept(r, 490)
    assert r.sink.kinds() == ["open", "close", "reopen", "close"]
    assert await r.send(600) is Action.OPEN
    assert r.summariser.calls == 2


async def test_repeats_within_a_minute_leave_the_index_time_as_it_was() -> None:
    """The quiet time goes into the index rounded up to the minute, so a storm of repeats does
    not rewrite the index key (a DynamoDB index write) on every one; the close still waits
    for the whole quiet time (the update the repeats owe goes out first, at the interval's
    end)."""
    r = Rig()
    incident = await opened(r)
    key = ("incident", incident.fingerprint)
    times = []
    for second in (1, 20, 40, 59):
        await r.send(second / 60)
        times.append(r.store.records[key].sweep_at)
    assert len(set(times)) == 1
    assert times[0] == (T0 + timedelta(minutes=15)).timestamp()  # the update they owe
    await swept(r, 15)
    assert r.sink.kinds() == ["open", "update"]
    assert r.store.records[key].sweep_at == (T0 + timedelta(hours=4, minutes=1)).timestamp()
    await swept(r, 240 + 58 / 60)
    assert r.sink.kinds() == ["open", "update"]
    await swept(r, 240 + 59 / 60)
    assert r.sink.kinds() == ["open", "update", "close"]


# --- Existing rules that keep holding ---------------------------------------------------------


async def test_a_held_update_gives_way_to_the_close_and_alerts_under_a_silence_count() -> None:
    """An update a silence holds is dropped when the quiet incident closes, and the close goes
    out (a silence never keeps a ticket open); alerts under the silence are alerts: they
    keep the incident from closing."""
    r = Rig()
    incident = await opened(r)
    await r.silence("team=payments", hours=24)
    assert await r.send(20) is Action.SILENCED
    await swept(r, 241)
    assert r.sink.kinds() == ["open"]
    assert await r.send(200) is Action.SILENCED
    await swept(r, 440)
    assert r.sink.kinds() == ["open", "close"]
    after = await stored(r, incident.fingerprint)
    assert after.state is State.CLOSED and after.held is None


async def test_a_held_reopen_closes_with_nothing_sent() -> None:
    """A reopen a silence holds never reached the sinks, whose ticket is closed: when the
    incident is quiet for its time it closes in the store only, as a close by hand does."""
    r = Rig()
    incident = await opened(r)
    assert await r.send(1, Status.RESOLVED) is Action.CLOSE
    await r.silence("team=payments", hours=24)
    assert await r.send(2) is Action.SILENCED
    await swept(r, 242)
    assert r.sink.kinds() == ["open", "close"]
    after = await stored(r, incident.fingerprint)
    assert after.state is State.CLOSED and after.held is None and after.pending is None
    assert after.history[-1].action == "record" and after.history[-1].note == "no alert for 4 h"


async def test_a_flapping_incident_is_damped_when_it_goes_quiet() -> None:
    """A flapping incident's close for want of alerts is damped as a resolve's is: closed in
    the store, its tickets told only after the quiet period, with a note giving both
    reasons; a firing in that wait is only counted."""
    r = Rig()
    incident = await opened(r)
    for minute in (1, 3, 5):
        await r.send(minute, Status.RESOLVED)
        await r.send(minute + 1)
    assert (await stored(r, incident.fingerprint)).flapping
    kinds = r.sink.kinds()
    await swept(r, 246)
    assert r.sink.kinds() == kinds
    assert (await stored(r, incident.fingerprint)).state is State.CLOSED
    await swept(r, 306)
    assert r.sink.kinds() == [*kinds, "close"]
    assert r.sink.effects[-1].alert.title == (
        "api-5xx is failing (no alert for 4 h; it kept resolving and firing again: the close "
        "waited until it had stayed resolved for 1 h)"
    )


async def test_a_firing_while_a_damped_close_waits_is_only_counted() -> None:
    """A firing while the damped close waits keeps the ticket open with no effect, and the
    quiet time starts again from it."""
    r = Rig()
    incident = await opened(r)
    for minute in (1, 3, 5):
        await r.send(minute, Status.RESOLVED)
        await r.send(minute + 1)
    kinds = r.sink.kinds()
    await swept(r, 246)
    assert await r.send(280) is Action.COUNT
    await swept(r, 400)
    assert r.sink.kinds() == kinds
    assert (await stored(r, incident.fingerprint)).state is State.OPEN


async def test_a_group_closes_once_no_member_has_had_an_alert_for_its_time(
    tmp_path: Path,
) -> None:
    """A group stays open while any member has alerts; quiet for its time, it closes with its
    members resolved, and the next alert of one (even stamped as its last) reopens it. (The
    member that joined inside the update interval is owed to the ticket: the sweep's update.)"""
    text = '[[route]]\nname = "hosts"\nsinks = ["backend"]\ngroup_by = ["host"]\n'
    r = Rig(load_router(Settings(routes_file=_write(tmp_path, text))))

    async def member(name: str, minutes: float, stamp: float | None = None) -> Action:
        r.clock.at(minutes)
        fired = _on_host(alert(name, minutes=minutes if stamp is None else stamp))
        return await r.pipeline.handle(fired, f"{name}-{minutes}", r.pipeline.group_of(fired))

    assert await member("disk-a", 0) is Action.OPEN
    await member("disk-b", 1)
    [group] = await r.store.incidents()
    await route_says_resolve_after(r.store, group.fingerprint, HOURS_4)
    await member("disk-b", 200)
    await swept(r, 300)
    assert r.sink.kinds() == ["open", "update"]
    await swept(r, 440)
    assert r.sink.kinds() == ["open", "update", "close"]
    closed = await stored(r, group.fingerprint)
    assert closed.group is not None and closed.group.firing == 0
    assert await member("disk-b", 450, stamp=200) is Action.REOPEN
    assert r.sink.kinds() == ["open", "update", "close", "reopen"]


async def test_a_groups_resends_stamped_as_their_last_event_keep_it_open(
    tmp_path: Path,
) -> None:
    """A group whose one member Alertmanager resends every hour, each stamped with when it
    started (a resend writes nothing else), stays open past its quiet time: the resends move
    its clock on (it was closed at 4 h, and the next resend reopened it)."""
    text = '[[route]]\nname = "hosts"\nsinks = ["backend"]\ngroup_by = ["host"]\n'
    r = Rig(load_router(Settings(routes_file=_write(tmp_path, text))))

    async def resend(minutes: float) -> Action:
        r.clock.at(minutes)
        fired = _on_host(alert("disk-a", minutes=0))
        return await r.pipeline.handle(fired, f"disk-a-{minutes}", r.pipeline.group_of(fired))

    assert await resend(0) is Action.OPEN
    [group] = await r.store.incidents()
    await route_says_resolve_after(r.store, group.fingerprint, HOURS_4)
    for hour in range(1, 7):
        await resend(hour * 60)
        await swept(r, hour * 60 + 1)
    assert r.sink.kinds() == ["open"]
    await swept(r, 6 * 60 + 4 * 60 + 2)
    assert r.sink.kinds() == ["open", "close"]


# --- The store: index and claim on every backend ----------------------------------------------


@pytest.fixture(params=["sqlite", "dynamodb"])
async def store(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Store]:
    """Each test runs once per store: SQLite on disk, DynamoDB on moto's server."""
    if request.param == "sqlite":
        s = SQLiteStore(str(tmp_path / "t.db"), POLICY, LEASE, timedelta(days=30))
        await s.open()
        yield s
        await s.aclose()
        return
    moto_url = request.getfixturevalue("moto_url")
    async with loopback_aws_client("dynamodb", endpoint_url=moto_url) as client:
        await create_table(client, "incidents")
        yield DynamoDBStore(client, "incidents", POLICY, LEASE, timedelta(days=30))


async def test_the_index_holds_the_quiet_time_and_one_claim_closes(store: Store) -> None:
    """The index has a quiet incident due at its time and not before; of two replicas, one
    claims its close; while an effect is in progress nobody can, and the write finishing it
    puts the time back."""
    t = await store.begin(alert(), "m0", T0)
    assert t.after is not None
    fp = t.after.fingerprint
    await store.save_ticket(fp, "m0", TICKET, Routing("logs", "payments", {}))
    await store.confirm(fp, "m0", "backend", "T-1", finish=True)
    await route_says_resolve_after(store, fp, HOURS_4)
    late = T0 + timedelta(hours=4, minutes=20)
    # An update in progress (claimed, its sink not yet answered) when the time comes.
    update_at = T0 + timedelta(minutes=20)
    updating = await store.begin(alert(minutes=20), "m1", update_at)
    assert updating.action is Action.UPDATE
    assert await store.auto_close(fp, "a", late) is None
    await store.confirm(fp, "m1", "backend", None, finish=True)
    assert await store.due(late - timedelta(seconds=1)) == []
    assert await store.due(late) == [fp]
    replica = await _replica(store)
    try:
        claims = await asyncio.gather(
            store.auto_close(fp, "a", late), replica.auto_close(fp, "b", late)
        )
    finally:
        if isinstance(replica, SQLiteStore):
            await replica.aclose()
    [closed] = [c for c in claims if c is not None]
    assert closed.action is Action.CLOSE and closed.after is not None
    assert closed.after.state is State.CLOSED and closed.after.pending is not None
    assert closed.after.pending.kind.value == "close" and closed.after.pending.alert
    assert (await store.get(fp)) == closed.after


async def _replica(store: Store) -> Store:
    """A second store on the same data, as another replica would have."""
    if isinstance(store, SQLiteStore):
        replica = SQLiteStore(store.path, POLICY, LEASE, timedelta(days=30))
        await replica.open()
        return replica
    assert isinstance(store, DynamoDBStore)
    return DynamoDBStore(store._ddb, store.table, POLICY, LEASE, timedelta(days=30))


def _write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "routes.toml"
    path.write_text(text, encoding="utf-8")
    return path


def _on_host(fired: Alert) -> Alert:
    return fired.model_copy(update={"labels": {"host": "a"}})
