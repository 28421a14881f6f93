"""An incident's history says what triage did: which sink got which effect and answered what
(or why it sent nothing), how many alerts came, noted at most once per update window, and an
effect's failed attempts as one line (a storm or an outage neither floods the history nor
costs a write of its own). Run on the in-memory store, SQLite and DynamoDB."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from datetime import datetime, timedelta
from pathlib import Path

import pytest

from factories import T0, alert
from memory_store import MemoryStore
from moto_speed import loopback_aws_client
from test_store import LEASE, POLICY, _hold, _silence
from triage.incidents.dynamodb import DynamoDBStore, create_table
from triage.incidents.groups import GroupKey
from triage.incidents.lifecycle import HISTORY, Action, Incident
from triage.incidents.sqlite import SQLiteStore
from triage.incidents.store import INCIDENT, TIMES, Store, delivery_owner
from triage.models import Status

ISSUE = "https://github.com/acme/db/issues/12"


@pytest.fixture(params=["memory", "sqlite", "dynamodb"])
async def store(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Store]:
    """Each test runs once per store: in memory, SQLite on disk, DynamoDB on moto's server."""
    if request.param == "memory":
        yield MemoryStore(POLICY, LEASE, timedelta(days=30))
        return
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


def _lines(incident: Incident) -> list[tuple[str, str]]:
    return [(e.action, e.note) for e in incident.history]


async def _history(store: Store, fp: str) -> list[tuple[str, str]]:
    stored = await store.get(fp)
    assert stored is not None
    return _lines(stored)


async def _open(store: Store, at: datetime = T0) -> str:
    """An incident opened on two sinks: the backend's T-812 and a GitHub issue."""
    t = await store.begin(alert(at=at), "m0", at)
    assert t.action is Action.OPEN and t.after is not None
    fp = t.after.fingerprint
    await store.confirm(fp, "m0", "backend", "T-812", gone=False, now=at)
    await store.confirm(fp, "m0", "github", ISSUE, finish=True, gone=False, now=at)
    return fp


async def test_each_sink_effect_confirmed_is_one_history_line(store: Store) -> None:
    """Open, update and close say per sink what it got and what it answered: its ticket, a
    ticket gone for good, or nothing sent (a skip, a refusal)."""
    fp = await _open(store)
    assert await _history(store, fp) == [
        ("open", ""),
        ("open", "backend: T-812"),
        ("open", f"github: {ISSUE}"),
    ]
    due = T0 + POLICY.update_interval
    t = await store.begin(alert(minutes=15), "m1", due)
    assert t.action is Action.UPDATE
    await store.confirm(fp, "m1", "backend", None, gone=False, now=due)
    await store.confirm(fp, "m1", "github", None, finish=True, gone=True, now=due)
    t = await store.begin(
        alert(status=Status.RESOLVED, minutes=16), "m2", due + timedelta(minutes=1)
    )
    assert t.action is Action.CLOSE
    await store.confirm(fp, "m2", "backend", None, finish=True, now=due)
    assert (await _history(store, fp))[3:] == [
        ("update", "2 alerts (+1)"),
        ("update", "backend: T-812"),
        ("update", f"github: {ISSUE} (gone)"),
        ("close", ""),
        ("close", "backend: not sent"),
    ]


async def test_a_storm_of_repeats_is_one_count_line_per_update_window_and_no_extra_write(
    store: Store,
) -> None:
    """300 repeats inside one update window leave one count line, kept current (how many
    alerts, how many since the ticket was last told); the next window's update and its
    repeats add one line each; every repeat costs its one write and no other (the incident's version rises by one each)."""
    fp = await _open(store)
    before = await store.get(fp)
    assert before is not None
    for n in range(1, 301):
        await store.begin(alert(minutes=n / 100), f"r{n}", T0 + timedelta(seconds=2 * n))
    counted = await store.get(fp)
    # Every write of an incident is conditional on its version and raises it by one.
    assert counted is not None and counted.version == before.version + 300
    assert (await _history(store, fp))[3:] == [("count", "301 alerts (+300)")]
    due = T0 + POLICY.update_interval
    await store.begin(alert(minutes=15), "u1", due)
    await store.finish(fp, "u1")
    for n in range(1, 50):
        await store.begin(alert(minutes=15 + n / 100), f"s{n}", due + timedelta(seconds=n))
    assert (await _history(store, fp))[3:] == [
        ("count", "301 alerts (+300)"),
        ("update", "302 alerts (+301)"),
        ("count", "351 alerts (+49)"),
    ]


async def test_a_storm_under_a_silence_is_its_start_and_one_count_line(store: Store) -> None:
    """A silence holding an incident is noted when it begins to hold it; its repeats, however
    many and for however long, are one count line kept current, not one line each."""
    silence = _silence("team=payments")
    hold = _hold(silence)
    t = await store.begin(alert(), "m0", T0, hold=hold)
    assert t.action is Action.SILENCED and t.after is not None
    fp = t.after.fingerprint
    for n in range(1, 120):
        t = await store.begin(alert(minutes=n), f"r{n}", T0 + timedelta(minutes=n), hold=hold)
        assert t.action is Action.SILENCED
    assert await _history(store, fp) == [
        ("silenced", f"silence {silence.id}"),
        ("silenced", "120 alerts (+119)"),
    ]


async def test_resolves_of_a_closed_incident_add_no_line(store: Store) -> None:
    """A closed incident resolved again and again (a source re-sending its resolve) changes
    nothing an operator needs to read: its history stays as the close left it."""
    fp = await _open(store)
    t = await store.begin(alert(status=Status.RESOLVED, minutes=1), "c", T0 + timedelta(minutes=1))
    await store.confirm(fp, "c", "backend", None, gone=False)
    await store.confirm(fp, "c", "github", None, finish=True, gone=False)
    closed = await _history(store, fp)
    for n in range(2, 30):
        at = T0 + timedelta(minutes=n)
        t = await store.begin(alert(status=Status.RESOLVED, minutes=n), f"c{n}", at)
        assert t.action is Action.IGNORE
    assert await _history(store, fp) == closed


async def test_the_history_keeps_its_newest_lines_within_its_cap(store: Store) -> None:
    """Hours of updates and repeats keep the newest HISTORY lines, oldest first, each three
    values (time, action, note) as every release reads them."""
    fp = await _open(store)
    for window in range(1, 12):
        at = T0 + window * POLICY.update_interval
        await store.begin(alert(at=at), f"u{window}", at)
        await store.confirm(fp, f"u{window}", "backend", None, finish=True, gone=False, now=at)
        await store.begin(alert(at=at, minutes=1), f"c{window}", at + timedelta(minutes=1))
    stored = await store.get(fp)
    assert stored is not None and len(stored.history) == HISTORY
    assert [e.at for e in stored.history] == sorted(e.at for e in stored.history)
    assert _lines(stored)[-3:] == [
        ("update", "22 alerts (+2)"),
        ("update", "backend: T-812"),
        ("count", "23 alerts (+1)"),
    ]
    record = await store._get(INCIDENT, fp)
    assert record is not None
    lines = json.loads(record.body)["history"]
    assert all(len(line) == 3 and all(isinstance(v, str) for v in line) for line in lines)


async def test_a_groups_members_joining_are_one_count_line_and_a_repeat_none(
    store: Store,
) -> None:
    """Members joining a group within its update window are one count line (the alerts so
    far); a member repeating as it is counts nothing and notes nothing."""
    group = GroupKey.of("pods", ("alertname",), {"alertname": "Crash"}, 0, str)
    t = await store.begin(alert("api-0"), "m0", T0, group)
    assert t.action is Action.OPEN
    await store.confirm(group.key, "m0", "backend", "T-1", finish=True, gone=False, now=T0)
    for n in range(1, 6):
        at = T0 + timedelta(seconds=n)
        assert (await store.begin(alert(f"api-{n}"), f"j{n}", at, group)).action is Action.COUNT
    repeat = await store.begin(alert("api-1", minutes=1), "r1", T0 + timedelta(minutes=1), group)
    assert repeat.action is Action.COUNT
    assert await _history(store, group.key) == [
        ("open", ""),
        ("open", "backend: T-1"),
        ("count", "6 alerts (+5)"),
    ]


async def test_a_firing_while_a_flapping_close_is_held_is_noted_once(store: Store) -> None:
    """A flapping incident resolved (its close held back, `damped`) that fires again before
    the close goes out is open again without an effect: one line says the close was not sent,
    not a count line that reads like any repeat."""
    fp = await _open(store)
    minute = 0
    for action in (Action.CLOSE, Action.REOPEN) * POLICY.flap_threshold:
        minute += 1
        status = Status.RESOLVED if action is Action.CLOSE else Status.FIRING
        at = T0 + timedelta(minutes=minute)
        t = await store.begin(alert(status=status, minutes=minute), f"f{minute}", at)
        assert t.action is action
        await store.confirm(fp, f"f{minute}", "backend", None, finish=True, gone=False, now=at)
    minute += 1
    at = T0 + timedelta(minutes=minute)
    damped = await store.begin(alert(status=Status.RESOLVED, minutes=minute), "d", at)
    assert damped.action is Action.DAMPED
    again = await store.begin(alert(minutes=minute + 1), "a", at + timedelta(minutes=1))
    assert again.action is Action.COUNT
    assert (await _history(store, fp))[-2:] == [
        ("damped", ""),
        ("count", "fired while its close was held: not closed"),
    ]


async def test_an_effect_retried_by_its_own_alert_is_one_decision_line(store: Store) -> None:
    """A message retried after its sink failed (the backend down for a while) takes its own
    claim again: the decision stays one line, and only the answer that came is noted."""
    first = delivery_owner("m1#0", "a")
    t = await store.begin(alert(), first, T0)
    assert t.action is Action.OPEN and t.after is not None
    fp = t.after.fingerprint
    for n, delivery in enumerate("bcd", start=1):
        await store.release(fp, delivery_owner("m1#0", chr(ord(delivery) - 1)))
        at = T0 + timedelta(seconds=n)
        retry = await store.begin(alert(), delivery_owner("m1#0", delivery), at)
        assert retry.action is Action.OPEN and not retry.redo
    await store.confirm(fp, delivery_owner("m1#0", "d"), "backend", "T-1", finish=True, now=T0)
    assert await _history(store, fp) == [
        ("open", ""),
        ("open", "backend: T-1 (after 3 failed attempts)"),
    ]


async def test_failed_attempts_are_one_line_rewritten_then_replaced_by_the_answer(
    store: Store,
) -> None:
    """An effect failing again and again (the backend down) is one line, its count rewritten
    in the write each release makes anyway (the version rises by one a release); the answer
    that finally comes replaces it, saying how many attempts failed before."""
    first = delivery_owner("m1#0", "a")
    t = await store.begin(alert(), first, T0)
    assert t.after is not None
    fp = t.after.fingerprint
    owner = first
    for n, delivery in enumerate("bcd", start=1):
        before = await store.get(fp)
        assert before is not None
        await store.release(fp, owner, reason="backend unavailable")
        released = await store.get(fp)
        assert released is not None and released.version == before.version + 1
        assert _lines(released) == [
            ("open", ""),
            ("open", f"failed {TIMES}{n}: backend unavailable"),
        ]
        owner = delivery_owner("m1#0", delivery)
        await store.begin(alert(), owner, T0 + timedelta(seconds=n))
    await store.confirm(fp, owner, "backend", "T-1", finish=True, gone=False, now=T0)
    assert await _history(store, fp) == [
        ("open", ""),
        ("open", "backend: T-1 (after 3 failed attempts)"),
    ]


async def test_a_failure_line_is_rewritten_past_count_lines_and_new_per_effect(
    store: Store,
) -> None:
    """Repeats counted while an update is in flight do not make its next failure a line of its
    own; a later effect that fails starts its own line, the older one kept as it was."""
    fp = await _open(store)
    due = T0 + POLICY.update_interval
    await store.begin(alert(minutes=15), "u1", due)
    await store.begin(alert(minutes=15.1), "r1", due + timedelta(seconds=5))
    await store.release(fp, "u1", reason="github network")
    await store.begin(alert(minutes=15.5), "u1", due + timedelta(seconds=30))
    await store.begin(alert(minutes=15.6), "r2", due + timedelta(seconds=35))
    await store.release(fp, "u1", reason="github rate limited")
    assert (await _history(store, fp))[3:] == [
        ("update", "2 alerts (+1)"),
        ("count", "3 alerts (+1)"),
        ("update", f"failed {TIMES}2: github rate limited"),
        ("count", "4 alerts (+2)"),
    ]
    await store.begin(alert(minutes=16), "u1", due + timedelta(minutes=1))
    await store.confirm(fp, "u1", "github", None, finish=True, gone=False, now=due)
    later = due + 2 * POLICY.update_interval
    await store.begin(alert(minutes=45), "u2", later)
    await store.release(fp, "u2")
    assert (await _history(store, fp))[4:] == [
        ("count", "3 alerts (+1)"),
        ("count", "4 alerts (+2)"),
        ("update", f"github: {ISSUE} (after 2 failed attempts)"),
        ("update", "5 alerts (+3)"),
        ("update", f"failed {TIMES}1"),
    ]


async def test_a_sink_that_sent_nothing_says_whether_it_skipped_or_refused(
    store: Store,
) -> None:
    """A sink that sent nothing says why in a fixed word: skipped (a resolve without a resolve
    route) or refused by its service; neither reads `not sent` any more."""
    fp = await _open(store)
    t = await store.begin(alert(status=Status.RESOLVED, minutes=1), "c", T0 + timedelta(minutes=1))
    assert t.action is Action.CLOSE
    await store.confirm(fp, "c", "backend", None, why="no route", now=T0)
    await store.confirm(fp, "c", "github", None, finish=True, why="refused", now=T0)
    assert (await _history(store, fp))[-2:] == [
        ("close", "backend: skipped: no route"),
        ("close", "github: refused"),
    ]


async def test_only_the_first_answer_after_failures_takes_their_line(store: Store) -> None:
    """An open that failed twice at its first sink: that sink's answer replaces the failure
    line and says so; the next sink's answer is a line as any, not a second claim of failure."""
    t = await store.begin(alert(), "m1", T0)
    assert t.after is not None
    fp = t.after.fingerprint
    for n in range(2):
        await store.release(fp, "m1", reason="backend unavailable")
        await store.begin(alert(), "m1", T0 + timedelta(seconds=n + 1))
    await store.confirm(fp, "m1", "backend", "T-1", gone=False, now=T0)
    await store.confirm(fp, "m1", "github", ISSUE, finish=True, gone=False, now=T0)
    assert await _history(store, fp) == [
        ("open", ""),
        ("open", "backend: T-1 (after 2 failed attempts)"),
        ("open", f"github: {ISSUE}"),
    ]
