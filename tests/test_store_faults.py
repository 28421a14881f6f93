"""The stores under faults of their own: a SQLite file corrupt, deleted or replaced under a
running store, and DynamoDB answering what a healthy table never does. A fault of the store is
never the alert's fault: it is StoreUnavailableError (held by the supervisor, see
test_store_outage.py), never a bare library exception and never a write to a file nobody reads."""

from __future__ import annotations

import os
import sqlite3
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path

import pytest

from factories import T0, alert
from triage.errors import StoreUnavailableError
from triage.incidents.lifecycle import Action, Policy
from triage.incidents.sqlite import SQLiteStore

POLICY = Policy(update_interval=timedelta(minutes=15), reopen_window=timedelta(hours=1))
LEASE = timedelta(minutes=2)


@pytest.fixture
async def sqlite_store(tmp_path: Path) -> AsyncIterator[SQLiteStore]:
    s = SQLiteStore(str(tmp_path / "t.db"), POLICY, LEASE, timedelta(days=30))
    await s.open()
    yield s
    await s.aclose()


def _damage(path: str, how: str) -> None:
    """Overwrite the file with garbage, or cut it short."""
    if how == "garbage":
        with open(path, "r+b") as f:
            f.write(b"\xa5" * os.path.getsize(path))
    else:
        os.truncate(path, 8192)


def _delete(path: str) -> None:
    for suffix in ("", "-wal", "-shm"):
        Path(path + suffix).unlink(missing_ok=True)


def _rows(path: str) -> int:
    """How many incidents another process reading the file sees."""
    conn = sqlite3.connect(path)
    try:
        return int(conn.execute("SELECT count(*) FROM incidents").fetchone()[0])
    finally:
        conn.close()


@pytest.mark.parametrize("damage", ["garbage", "truncated"])
async def test_a_sqlite_file_corrupted_under_a_running_store_is_unavailable_not_a_crash(
    sqlite_store: SQLiteStore, damage: str
) -> None:
    """A store file overwritten or cut short while open makes reads and writes fail with
    StoreUnavailableError, not sqlite3.DatabaseError (which the supervisor takes for a bug)."""
    s = sqlite_store
    for i in range(50):
        big = alert(f"x{i}").model_copy(update={"description": "y" * 3000})
        await s.begin(big, f"m{i}", T0)
    await s._call(lambda: s._db().execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchall())
    await s._call(lambda: s._db().execute("PRAGMA cache_size = 1"))  # pages are read again
    _damage(s.path, damage)
    with pytest.raises(StoreUnavailableError, match=r"malformed|not a database"):
        await s.begin(alert("x40"), "m-again", T0)
    with pytest.raises(StoreUnavailableError, match=r"malformed|not a database"):
        await s.get(alert("x41").fingerprint)


async def test_a_sqlite_file_deleted_under_a_running_store_is_unavailable_not_written_on(
    sqlite_store: SQLiteStore,
) -> None:
    """A store file deleted while open makes the store unavailable, naming the file, instead
    of writing on into the deleted file (gone at the next start, with every ticket it knew)."""
    s = sqlite_store
    await s.begin(alert("before"), "m1", T0)
    _delete(s.path)
    with pytest.raises(StoreUnavailableError, match="deleted"):
        await s.begin(alert("after"), "m2", T0)
    with pytest.raises(StoreUnavailableError, match="deleted"):
        await s.get(alert("before").fingerprint)
    assert not os.path.lexists(s.path)  # noqa: ASYNC240 (a test's look at the file)


async def test_a_sqlite_file_replaced_under_a_running_store_is_the_store_from_then_on(
    sqlite_store: SQLiteStore, tmp_path: Path
) -> None:
    """A store file replaced while open (a backup put back) is opened in its place: what the
    store reads and writes next is the new file's, seen by every other process."""
    s = sqlite_store
    await s.begin(alert("before"), "m1", T0)
    backup = SQLiteStore(str(tmp_path / "backup.db"), POLICY, LEASE, timedelta(days=30))
    await backup.open()
    await backup.begin(alert("restored"), "m0", T0)
    await backup.aclose()
    os.replace(backup.path, s.path)
    assert await s.get(alert("before").fingerprint) is None
    assert (await s.begin(alert("restored"), "m2", T0)).action is Action.COUNT
    await s.begin(alert("after"), "m3", T0)
    assert _rows(s.path) == 2
