"""Every write of the store's protocol leaves the same record as before the store's write path
was made cheaper: a scenario that takes each kind of write (a new incident's claim, its ticket
and its confirmations, a repeat, an update, a release and its retry, a close, a reopen taken
back, a silenced alert, a group, the sweep's and an operator's writes, member and claim records)
is digested record by record, after each step, on the SQLite store and on the in-memory one."""

from __future__ import annotations

import hashlib
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from factories import alert
from memory_store import MemoryStore
from triage.incidents.groups import GroupKey
from triage.incidents.lifecycle import Policy
from triage.incidents.records import CLAIMS, INCIDENT, MEMBER
from triage.incidents.sqlite import SQLiteStore
from triage.incidents.store import REFUSED, Hold, Record, Routing, Store, delivery_owner
from triage.models import Priority, Status, Ticket

T0 = datetime(2026, 12, 6, 1, 0, 0, 123456, tzinfo=UTC)
POLICY = Policy(update_interval=timedelta(minutes=15), reopen_window=timedelta(hours=1))
LEASE = timedelta(minutes=2)
TICKET = Ticket(title="api is failing", priority=Priority.HIGH, description="d", steps=("look",))

#: sha256 (first 16 hex digits) of every record after every step of `_scenario`, as the store
#: wrote them at commit 5159e09f, before its write path changed; since then, a group's second
#: member joining inside the update interval writes the update it owes (`update_owed_at_s`)
#: and its sweep time, and a single incident's repeat inside the update interval writes the
#: update it owes (`update_owed_at_s`) and its sweep time; and a sink's confirmation that leaves
#: the effect pending renews its lease (`until`, and its sweep time); and an incident opened
#: or reopened by a firing keeps the priority its alert stated (`priority_stated`, the floor a
#: later raise must pass: the digest is the one above when that field is left unset); and an
#: operator's close keeps when it was made (`closed_by_hand_at`: a message queued before it
#: reopens nothing; fb859c5666838c24 with that field left unset); and a held open let go
#: by the sweep is the update of its interval (`last_update_at`, `occurrences_at_update`:
#: e0d44caf508fd280 before).
EXPECTED = "89121a8bdf8b4b25"


@pytest.fixture(params=["memory", "sqlite"])
async def store(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Store]:
    """The scenario on each store that runs in process."""
    if request.param == "memory":
        yield MemoryStore(POLICY, LEASE, timedelta(days=30))
        return
    s = SQLiteStore(str(tmp_path / "t.db"), POLICY, LEASE, timedelta(days=30))
    await s.open()
    yield s
    await s.aclose()


def _at(minutes: float) -> datetime:
    return T0 + timedelta(minutes=minutes)


class _Digest:
    """What the store holds under the keys the scenario touched, after each step."""

    def __init__(self, store: Store) -> None:
        self.store = store
        self.hash = hashlib.sha256()
        self.keys: list[tuple[str, str]] = []
        self.steps = 0

    def touch(self, kind: str, key: str) -> None:
        if (kind, key) not in self.keys:
            self.keys.append((kind, key))

    async def step(self, name: str) -> None:
        self.steps += 1
        self.hash.update(name.encode())
        for kind, key in self.keys:
            record: Record | None = await self.store._get(kind, key)
            line = "-" if record is None else _line(record)
            self.hash.update(f"{kind}|{key}|{line}\n".encode())
        # When the sweep looks at each incident (a column of its own, not in the record read).
        for at in (_at(0), _at(10), _at(100), _at(10**4), None):
            self.hash.update(f"due {at}: {sorted(await self.store.due(at))}\n".encode())


def _line(record: Record) -> str:
    return f"{record.version}|{record.expires_at}|{record.body}"


async def _scenario(store: Store) -> _Digest:
    d = _Digest(store)
    a = alert("api")
    fp = a.fingerprint
    d.touch(INCIDENT, fp)
    o1 = delivery_owner("m1#0", "d1")
    opened = await store.begin(a, o1, _at(0))
    assert opened.after is not None
    await d.step("open claimed")
    routing = Routing("default", "payments", {"host": "h1"}, 600.0, 3600.0)
    await store.save_ticket(fp, o1, TICKET, routing)
    await d.step("ticket saved")
    await store.confirm(fp, o1, "backend", "T-1", gone=False, now=_at(0.1))
    await d.step("backend confirmed")
    await store.confirm(fp, o1, "slack", "ts-1", finish=True, gone=False, now=_at(0.2))
    await d.step("slack confirmed, finished")
    await store.begin(alert("api", minutes=1), delivery_owner("m2#0", "d1"), _at(1))
    await d.step("repeat counted")
    o3 = delivery_owner("m3#0", "d1")
    await store.begin(alert("api", minutes=20), o3, _at(20))
    await d.step("update claimed")
    await store.release(fp, o3, reason="backend unavailable", now=_at(20.1))
    await d.step("update released")
    o3b = delivery_owner("m3#0", "d2")
    await store.begin(alert("api", minutes=20), o3b, _at(21))
    await d.step("update retried")
    await store.confirm(fp, o3b, "backend", None, gone=True, now=_at(21.1))
    await store.confirm(fp, o3b, "slack", None, finish=True, why="minimum", now=_at(21.2))
    await d.step("update confirmed")
    o4 = delivery_owner("m4#0", "d1")
    await store.begin(alert("api", Status.RESOLVED, minutes=30), o4, _at(30))
    await d.step("close claimed")
    await store.confirm(fp, o4, "backend", None, now=_at(30.1))
    await store.finish(fp, o4)
    await d.step("close finished")
    o5 = delivery_owner("m5#0", "d1")
    reopened = await store.begin(alert("api", minutes=40), o5, _at(40))
    await d.step("reopen claimed")
    gone = alert("api", Status.RESOLVED, minutes=40)
    assert await store.withdraw(reopened, o5, gone, _at(40.1))
    await d.step("reopen withdrawn")
    o6 = delivery_owner("m6#0", "d1")
    await store.begin(alert("api", minutes=45), o6, _at(45))
    await store.confirm(
        fp, o6, "backend", "T-1", finish=True, failing=True, why=REFUSED, now=_at(45.1)
    )
    await d.step("reopen refused")

    b = alert("db")
    d.touch(INCIDENT, b.fingerprint)
    held = Hold("s1", _at(100), '{"title":"db"}')
    await store.begin(b, delivery_owner("m7#0", "d1"), _at(50), hold=held)
    await d.step("silenced")
    await store.release_held(b.fingerprint, "sweep", _at(101), lambda _: None)
    await d.step("silence ended")
    await store.take_over(b.fingerprint, "sweep2", _at(101) + LEASE + timedelta(seconds=1))
    await d.step("taken over")
    await store.save_ticket(b.fingerprint, "sweep2", TICKET, routing)
    await store.confirm(b.fingerprint, "sweep2", "backend", "T-2", finish=True, now=_at(106))
    await d.step("held open finished")
    escalation = await store.claim_escalation(b.fingerprint, "sweep", _at(200), lambda _: None)
    await d.step(f"escalation claimed {escalation is not None}")
    await store.escalation_sent(b.fingerprint, "sweep", "pager")
    await store.end_escalation(b.fingerprint, "sweep", _at(201))
    await d.step("escalated")
    closing = await store.close(b.fingerprint, "op", _at(210), '{"title":"by hand"}')
    await d.step(f"closed by hand {closing.action}")
    await store.confirm(b.fingerprint, "op", "backend", None, finish=True, now=_at(211))
    await d.step("hand close finished")

    group = GroupKey.of("grouped", ("service",), {"service": "api"}, 0.0, _same)
    d.touch(INCIDENT, group.key)
    members = [alert(name) for name in ("g1", "g2")]
    for m in members:
        d.touch(MEMBER, m.fingerprint)
    og = delivery_owner("m8#0", "d1")
    await store.begin(members[0], og, _at(300), group)
    await store.place_member(members[0].fingerprint, group.key, _at(300))
    await d.step("group opened")
    await store.save_ticket(group.key, og, TICKET, routing)
    await store.confirm(group.key, og, "backend", "T-3", finish=True, now=_at(300.1))
    await store.begin(members[1], delivery_owner("m9#0", "d1"), _at(301), group)
    await store.place_member(members[1].fingerprint, group.key, _at(301))
    await d.step("second member")
    await store.begin(alert("g2", Status.RESOLVED), delivery_owner("m11#0", "d1"), _at(305), group)
    await d.step("one member resolved")
    d.touch(CLAIMS, "m10")
    o10 = delivery_owner("m10#0", "d1")
    closing = await store.begin(alert("g1", Status.RESOLVED), o10, _at(310), group)
    assert closing.after is not None and closing.after.pending is not None
    await store.release(group.key, o10, reason="error", now=_at(310.1))
    await store.remember_claim("m10", group.key, o10, _at(310.1))
    await d.step("member resolve released")
    again = await store.reclaim(group.key, delivery_owner("m10#0", "d2"), _at(311))
    await d.step(f"reclaimed {again is not None}")
    return d


def _same(text: str) -> str:
    return text


async def test_every_write_leaves_the_records_it_left_before(store: Store) -> None:
    """The records after each of the scenario's writes digest to what the store wrote before
    its write path changed: the same bodies, versions, expiries and sweep times."""
    digest = await _scenario(store)
    assert digest.steps == 27
    assert digest.hash.hexdigest()[:16] == EXPECTED


def test_digest_sees_a_changed_body() -> None:
    """The digest is of the bodies: one character changed in one record changes it."""

    def digest_of(edit: Callable[[str], str]) -> str:
        h = hashlib.sha256()
        h.update(_line(Record("fp", INCIDENT, 1, edit('{"a":1}'), None, None)).encode())
        return h.hexdigest()

    assert digest_of(lambda body: body) != digest_of(lambda body: body.replace("1", "2"))
