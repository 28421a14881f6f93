"""The SQLite store does not read back from its file what this process wrote or read there
while no other connection has written the file since (`PRAGMA data_version`): a new
incident's ticket and confirmation, and every repeat of a storm, change the record their
claim left without a SELECT. A write of another process sharing the file, a transaction that
failed, the purge of expired records and a file put in place of the store's are read again."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator, Callable
from datetime import timedelta
from pathlib import Path

import pytest

from factories import T0, alert
from triage.errors import StoreUnavailableError
from triage.incidents.lifecycle import Action, Policy
from triage.incidents.records import MEMBER, Record
from triage.incidents.sqlite import SQLiteStore
from triage.incidents.store import delivery_owner
from triage.models import Priority, Ticket

LEASE = timedelta(minutes=2)
TICKET = Ticket(title="api is failing", priority=Priority.HIGH, description="d", steps=("look",))


def _store(path: Path) -> SQLiteStore:
    return SQLiteStore(str(path), Policy(), LEASE, timedelta(days=30))


@pytest.fixture
async def store(tmp_path: Path) -> AsyncIterator[SQLiteStore]:
    s = _store(tmp_path / "t.db")
    await s.open()
    yield s
    await s.aclose()


@pytest.fixture
async def other(store: SQLiteStore) -> AsyncIterator[SQLiteStore]:
    """Another process's store on the same file (a connection of its own)."""
    s = _store(Path(store.path))
    await s.open()
    yield s
    await s.aclose()


async def _selects(store: SQLiteStore) -> list[str]:
    """The SELECTs the store's connection runs from now on (SQLite's own trace of them)."""
    statements: list[str] = []

    def trace(sql: str) -> None:
        if sql.lstrip().upper().startswith("SELECT"):
            statements.append(sql)

    await store._call(lambda: store._db().set_trace_callback(trace))
    return statements


def _put(key: str, body: str) -> Callable[[Record | None], tuple[Record | None, None]]:
    def change(record: Record | None) -> tuple[Record | None, None]:
        version = record.version + 1 if record else 1
        return Record(key, MEMBER, version, body, None), None

    return change


async def test_a_new_incident_reads_its_record_once(store: SQLiteStore) -> None:
    """A new incident's claim reads its record (there is none yet); its ticket, confirmation
    and a repeat of it read nothing from the file (each read it before)."""
    selects = await _selects(store)
    owner = delivery_owner("m1#0", "d1")
    opened = await store.begin(alert("api"), owner, T0)
    assert opened.after is not None
    fp = opened.after.fingerprint
    assert len(selects) == 1
    await store.save_ticket(fp, owner, TICKET)
    await store.confirm(fp, owner, "backend", "T-1", finish=True, now=T0)
    repeat = await store.begin(alert("api", minutes=1), delivery_owner("m2#0", "d1"), T0)
    assert repeat.action is Action.COUNT
    assert len(selects) == 1
    stored = await store.get(fp)
    assert stored is not None and stored.refs == {"backend": "T-1"} and stored.occurrences == 2
    assert len(selects) == 1


async def test_another_connections_write_is_read(store: SQLiteStore, other: SQLiteStore) -> None:
    """A record another process changed since this one wrote it is read again, by a change
    and by a read: neither sees this process's older copy."""
    await store._update(MEMBER, "k", _put("k", "mine"))
    await other._update(MEMBER, "k", _put("k", "theirs"))
    read = await store._get(MEMBER, "k")
    assert read is not None and (read.body, read.version) == ("theirs", 2)
    await other._update(MEMBER, "k", _put("k", "theirs again"))
    seen: list[Record | None] = []

    def change(record: Record | None) -> tuple[Record | None, None]:
        seen.append(record)
        return None, None

    await store._update(MEMBER, "k", change)
    assert seen[0] is not None and (seen[0].body, seen[0].version) == ("theirs again", 3)


async def test_a_record_another_connection_deleted_is_gone(
    store: SQLiteStore, other: SQLiteStore
) -> None:
    """A record this process read, which another deleted since, reads as none."""
    await store._update(MEMBER, "k", _put("k", "v"))
    assert await store._get(MEMBER, "k") is not None

    def delete() -> None:
        other._db().execute("DELETE FROM records WHERE key = 'k'")

    await other._call(delete)
    assert await store._get(MEMBER, "k") is None


async def test_a_failed_transaction_keeps_nothing_it_did_not_commit(store: SQLiteStore) -> None:
    """Writes of a transaction that failed (the disk was full when its record was written)
    are not taken for the file's: the next change and read see what the file holds."""
    await store._update(MEMBER, "k", _put("k", "committed"))

    def fill_disk() -> None:
        pages = store._db().execute("PRAGMA page_count").fetchone()[0]
        store._db().execute(f"PRAGMA max_page_count = {pages}")

    await store._call(fill_disk)
    with pytest.raises(StoreUnavailableError, match="full"):
        await store._update(MEMBER, "k", _put("k", "lost " * 50_000))
    await store._call(lambda: store._db().execute("PRAGMA max_page_count = 1073741823"))
    read = await store._get(MEMBER, "k")
    assert read is not None and read.body == "committed"
    seen: list[Record | None] = []

    def change(record: Record | None) -> tuple[Record | None, None]:
        seen.append(record)
        return None, None

    await store._update(MEMBER, "k", change)
    assert seen[0] is not None and seen[0].body == "committed"


async def test_purged_records_are_not_served(store: SQLiteStore) -> None:
    """A record the purge deleted (expired) reads as none afterwards."""

    def expired(record: Record | None) -> tuple[Record | None, None]:
        return Record("old", MEMBER, 1, "v", 1.0), None  # expired in 1970

    await store._update(MEMBER, "old", expired)
    assert await store._get(MEMBER, "old") is not None
    store.purge_every_s = 0.0
    await store._update(MEMBER, "other", _put("other", "v"))  # the purge runs after its commit
    assert await store._get(MEMBER, "old") is None


async def test_a_file_put_in_place_is_read(store: SQLiteStore, tmp_path: Path) -> None:
    """A file moved into the store's place (a backup put back) is read, not what this process
    kept of the file before it."""
    await store._update(MEMBER, "k", _put("k", "before"))
    backup = _store(tmp_path / "backup.db")
    await backup.open()
    await backup._update(MEMBER, "k", _put("k", "from the backup"))
    await backup.aclose()
    os.replace(tmp_path / "backup.db", store.path)
    read = await store._get(MEMBER, "k")
    assert read is not None and read.body == "from the backup"
