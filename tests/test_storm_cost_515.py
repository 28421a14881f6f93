"""A storm's repeat costs the store no JSON encoder and, on SQLite, a write of the two columns
it changes (issue 18, helper 515, from helper 496's patch): its body fills a template of the
fields it keeps (`codec._json_keeping_runs`), byte for byte what the encoder writes, whatever
a field holds; and a row whose expiry and sweep time are those the store committed gets its
version and body alone (`SQLiteStore._put_sync`)."""

from __future__ import annotations

import contextlib
import dataclasses
import sqlite3
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from factories import alert
from test_store_writes_same_bodies import LEASE, POLICY, TICKET, _at
from triage.errors import StoreUnavailableError
from triage.incidents import codec, lifecycle
from triage.incidents.codec import incident_from_json, incident_to_json
from triage.incidents.lifecycle import Action, Event, Incident, State
from triage.incidents.records import Record
from triage.incidents.schedule import sweep_at
from triage.incidents.sqlite import SQLiteStore
from triage.incidents.store import Routing, Store, delivery_owner

T0 = datetime(2026, 12, 7, 4, 0, 0, 654321, tzinfo=UTC)


class _Stamp(datetime):
    """A time of a datetime subclass (not the type a repeat's template writes by hand)."""


def _plain(incident: Incident) -> str:
    """The body as the encoder writes it from the incident's fields, nothing kept."""
    return codec._ENCODE(codec._fields(incident))


def _incident(**changes: Any) -> Incident:
    """An open incident with a ticket's reference, as a storm's repeats find it."""
    base = Incident(
        fingerprint="fp-515",
        state=State.OPEN,
        source="generic",
        title="api is failing",
        opened_at=T0,
        last_event_at=T0,
        occurrences=1,
        occurrences_at_update=1,
        refs={"backend": "T-1"},
        applied_at=T0,
        history=(Event(T0, "open", ""), Event(T0, "open", "backend: T-1")),
    )
    return dataclasses.replace(base, **changes)


def _repeat(incident: Incident, n: int, **changes: Any) -> Incident:
    """The next write of a repeat: the fields a repeat changes, the rest the same objects."""
    at = T0 + timedelta(seconds=n)
    line = Event(at, "count", f"{incident.occurrences + 1} alerts (+{n})")
    fields: dict[str, Any] = {
        "last_event_at": at,
        "applied_at": at,
        "occurrences": incident.occurrences + 1,
        "version": incident.version + 1,
        "history": (*incident.history[:2], line),
        "counted_by": (*incident.counted_by, f"{n:012x}")[-3:],
    }
    fields.update(changes)
    return lifecycle.replace_incident(incident, **fields)


def _chain(first: Incident, changes: list[dict[str, Any]]) -> list[Incident]:
    """`first` and a repeat of it for each of `changes`, each written in turn."""
    chain = [first]
    for n, change in enumerate(changes, 1):
        chain.append(_repeat(chain[-1], n, **change))
    return chain


async def _ticketed(store: Store) -> str:
    """An incident opened, ticketed and confirmed: its next alert is a counted repeat."""
    owner = delivery_owner("m1#0", "d1")
    fingerprint = alert("api").fingerprint
    await store.begin(alert("api"), owner, _at(0))
    await store.save_ticket(fingerprint, owner, TICKET, Routing("default", "payments", {}))
    await store.confirm(fingerprint, owner, "backend", "T-1", finish=True, now=_at(0.1))
    return fingerprint


def test_a_repeat_is_written_without_the_json_encoder(monkeypatch: pytest.MonkeyPatch) -> None:
    """Once an incident's kept runs are made, a repeat's body (its new count line included)
    calls no JSON encoder, and is byte for byte the body the encoder writes."""
    chain = _chain(_incident(), [{}, {}, {}, {}])
    for incident in chain[:2]:
        incident_to_json(incident)  # the first write, then the runs
    encoded: list[object] = []
    encode = codec._ENCODE

    def counting(value: object) -> str:
        encoded.append(value)
        return encode(value)

    monkeypatch.setattr(codec, "_ENCODE", counting)
    bodies = [incident_to_json(incident) for incident in chain[2:]]
    assert encoded == []
    monkeypatch.setattr(codec, "_ENCODE", encode)
    assert bodies == [_plain(incident) for incident in chain[2:]]


def test_percent_signs_in_kept_fields_are_written_as_they_are() -> None:
    """A kept field holding `%` (a title, a label, a team) is written as it is by the
    template a repeat fills: `%s`, `%d` and `%%` in text are no placeholders."""
    first = _incident(
        title="100% CPU on %s (%d cores) %%",
        team="%(team)s",
        labels={"load": "99.9%", "%s": "%"},
    )
    for incident in _chain(first, [{}, {}, {}]):
        body = incident_to_json(incident)
        assert body == _plain(incident)
        assert incident_from_json(body) == incident


def test_a_repeat_may_change_which_fields_it_writes() -> None:
    """Counted ids and the queue time are written only when set: repeats that set, drop and
    set them again each write the body the encoder writes."""
    at = T0 + timedelta(minutes=5)
    changes: list[dict[str, Any]] = [
        {},
        {"counted_by": ()},
        {"last_queued_at": at},
        {"counted_by": (), "last_queued_at": None},
        {"last_queued_at": at},
        {},
    ]
    for incident in _chain(_incident(), changes):
        body = incident_to_json(incident)
        assert body == _plain(incident)
        assert incident_from_json(body) == incident


@pytest.mark.parametrize(
    "change",
    [
        {"applied_at": None},
        {"occurrences": True},
        {"version": 2.0},
        {"counted_by": (1, "a")},
        {"last_event_at": _Stamp(2026, 12, 7, 4, tzinfo=UTC)},
        {"last_queued_at": _Stamp(2026, 12, 7, 4, 1)},
        {"applied_at": T0.replace(tzinfo=None)},
    ],
)
def test_changing_fields_of_other_types_are_written_as_the_encoder_would(
    change: dict[str, Any],
) -> None:
    """A changing field holding a value of another type than a repeat writes (null, a bool
    for a count, a float, a number among the ids, a datetime subclass, a naive time) is
    written as the encoder writes it, not as the template's fast path would."""
    for incident in _chain(_incident(), [{}, {}, change, {}]):
        assert incident_to_json(incident) == _plain(incident)


@pytest.mark.parametrize(
    "event",
    [
        Event(T0, "count", "3 alerts (+2)"),
        Event(T0, 'a "quoted" \\ action', "tab\tnew\nline\x00\x1f\x7f"),
        Event(T0, "count", "\u2028\u2029 ✓ </script> \U0001f525 \ud800 lone"),
        Event(T0.replace(tzinfo=None), "open", ""),
        Event(T0.astimezone(UTC).replace(microsecond=0), "note", "é" * 50),
    ],
)
def test_history_lines_are_written_as_the_encoder_would(event: Event) -> None:
    """A history line of any text (quotes, control characters, line separators, a lone
    surrogate, a naive time) is written as the encoder writes `[at, action, note]`."""
    codec._EVENT_JSON.clear()
    expected = codec._ENCODE([event.at.isoformat(), event.action, event.note])
    assert codec._event_json(event) == expected
    assert codec._event_json(event) == expected  # kept, and the same


async def _sqlite_ticketed(path: Path) -> tuple[SQLiteStore, str]:
    """A SQLite store at `path` holding a ticketed incident (see `_ticketed`)."""
    store = SQLiteStore(str(path), POLICY, LEASE, timedelta(days=30))
    await store.open()
    return store, await _ticketed(store)


async def _traced(store: SQLiteStore) -> list[str]:
    """The statements the store's connection runs from now on (set on the store's thread,
    the only one that may touch its connection)."""
    statements: list[str] = []
    assert store._conn is not None
    await store._call(store._conn.set_trace_callback, statements.append)
    return statements


def _columns(path: Path, fingerprint: str) -> tuple[int, float | None, float | None]:
    """The incident's version, expiry and sweep time as the file holds them."""
    with contextlib.closing(sqlite3.connect(path)) as db:
        row = db.execute(
            "SELECT version, expires_at, sweep_at FROM incidents WHERE fingerprint = ?",
            (fingerprint,),
        ).fetchone()
    return row[0], row[1], row[2]


async def _repeat_on(store: SQLiteStore, n: int) -> Incident:
    """The `n`th repeat of the ticketed incident, counted; the incident as written."""
    transition = await store.begin(
        alert("api", minutes=n), delivery_owner(f"m{n + 1}#0", "d1"), _at(n)
    )
    assert transition.action is Action.COUNT and transition.after is not None
    return transition.after


async def test_a_sqlite_repeat_writes_only_its_version_and_body(tmp_path: Path) -> None:
    """Once its row's expiry and sweep time are those this store committed, a repeat updates
    the version and the body alone (no upsert, which rewrote the sweep index's entry); the
    file's columns stay those of the incident written."""
    path = tmp_path / "s.db"
    store, fingerprint = await _sqlite_ticketed(path)
    try:
        await _repeat_on(store, 1)  # the first repeat owes the ticket an update: a sweep time
        statements = await _traced(store)
        for n in range(2, 5):
            written = await _repeat_on(store, n)
        upserts = [s for s in statements if s.startswith("INSERT INTO incidents")]
        updates = [s for s in statements if s.startswith("UPDATE incidents")]
        assert upserts == [] and len(updates) == 3
        assert _columns(path, fingerprint) == (written.version, None, sweep_at(written))
        assert await store.get(fingerprint) == written
    finally:
        await store.aclose()


async def test_a_repeat_after_another_writer_writes_every_column(tmp_path: Path) -> None:
    """A row another connection wrote since (another replica on the file closed it, so it
    expires) is written whole by this store's next write: columns it did not commit are not
    taken for its own."""
    path = tmp_path / "s.db"
    store, fingerprint = await _sqlite_ticketed(path)
    other = SQLiteStore(str(path), POLICY, LEASE, timedelta(days=30))
    await other.open()
    try:
        await _repeat_on(store, 1)
        await _repeat_on(store, 2)
        with contextlib.closing(sqlite3.connect(path)) as db, db:
            db.execute("UPDATE incidents SET expires_at = 1.0, sweep_at = NULL")
        statements = await _traced(store)
        written = await _repeat_on(store, 3)
        assert [s for s in statements if s.startswith("INSERT INTO incidents")] != []
        assert _columns(path, fingerprint) == (written.version, None, sweep_at(written))
        await _repeat_on(other, 4)  # the other replica's write, then ours again
        statements.clear()
        written = await _repeat_on(store, 5)
        assert [s for s in statements if s.startswith("INSERT INTO incidents")] != []
        assert _columns(path, fingerprint) == (written.version, None, sweep_at(written))
    finally:
        await other.aclose()
        await store.aclose()


async def test_a_failed_transaction_forgets_the_columns_it_did_not_commit(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A transaction that fails leaves nothing kept of what it would have written: the next
    write of the incident is whole, and the file holds the incident as last committed."""
    path = tmp_path / "s.db"
    store, fingerprint = await _sqlite_ticketed(path)
    try:
        await _repeat_on(store, 1)
        committed = await _repeat_on(store, 2)
        put = store._put_sync

        def failing(record: Record) -> None:
            put(record)
            raise sqlite3.OperationalError("disk I/O error")

        monkeypatch.setattr(store, "_put_sync", failing)
        with pytest.raises(StoreUnavailableError):
            await _repeat_on(store, 3)
        monkeypatch.undo()
        assert _columns(path, fingerprint) == (committed.version, None, sweep_at(committed))
        statements = await _traced(store)
        written = await _repeat_on(store, 4)
        assert [s for s in statements if s.startswith("INSERT INTO incidents")] != []
        assert written.version == committed.version + 1
        assert _columns(path, fingerprint) == (written.version, None, sweep_at(written))
    finally:
        await store.aclose()
