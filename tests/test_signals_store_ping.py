"""The SQLite store's ping (what `/readyz` follows while no traffic comes) fails for what a
write would hit: a lock another connection holds, a disk that is full. It writes no incident
or record: only its own heartbeat row."""

from __future__ import annotations

import os
import sqlite3
import subprocess
from collections.abc import AsyncIterator, Iterator
from datetime import timedelta
from pathlib import Path

import pytest

from factories import T0, alert
from triage.errors import StoreUnavailableError
from triage.incidents.lifecycle import Policy
from triage.incidents.sqlite import SQLiteStore

POLICY = Policy(update_interval=timedelta(minutes=15), reopen_window=timedelta(hours=1))


def store_at(path: Path) -> SQLiteStore:
    store = SQLiteStore(str(path), POLICY, timedelta(minutes=2), timedelta(days=30))
    store.busy_timeout_s = 0.1  # a lock held is found at once, not after 5 s
    return store


@pytest.fixture
async def store(tmp_path: Path) -> AsyncIterator[SQLiteStore]:
    s = store_at(tmp_path / "t.db")
    await s.open()
    yield s
    await s.aclose()


def user_rows(path: str) -> tuple[int, int]:
    """How many incidents and records another process reading the file sees."""
    conn = sqlite3.connect(path)
    try:
        incidents = conn.execute("SELECT count(*) FROM incidents").fetchone()[0]
        records = conn.execute("SELECT count(*) FROM records").fetchone()[0]
        return int(incidents), int(records)
    finally:
        conn.close()


async def test_a_ping_fails_while_another_connection_holds_the_write_lock(
    store: SQLiteStore,
) -> None:
    """A write lock held by another process past the busy timeout fails the ping (as it fails
    every write), and the ping answers again once the lock is let go."""
    other = sqlite3.connect(store.path, isolation_level=None)
    try:
        other.execute("BEGIN IMMEDIATE")
        with pytest.raises(StoreUnavailableError, match="locked"):
            await store.ping()
        with pytest.raises(StoreUnavailableError, match="locked"):
            await store.begin(alert("a"), "m1", T0)  # what the ping stands for
        other.execute("ROLLBACK")
    finally:
        other.close()
    await store.ping()


async def test_a_ping_writes_no_incident_nor_record(store: SQLiteStore) -> None:
    """Pings leave the incidents and records other processes read as they were."""
    await store.begin(alert("a"), "m1", T0)
    before = user_rows(store.path)
    for _ in range(3):
        await store.ping()
    assert user_rows(store.path) == before


async def test_a_ping_fails_when_the_disk_has_less_room_than_the_store_needs(
    store: SQLiteStore,
) -> None:
    """A file system with less free space than `min_free_bytes` fails the ping with 'disk
    full' (the writes to come need room: new pages, the write-ahead log, checkpoints)."""
    await store.ping()
    st = os.statvfs(os.path.dirname(store.path))
    store.min_free_bytes = st.f_bavail * st.f_frsize + 2**30  # more than this disk has free
    with pytest.raises(StoreUnavailableError, match="full"):
        await store.ping()


@pytest.fixture
def tiny_disk(tmp_path: Path) -> Iterator[Path]:
    """A 2 MiB tmpfs mounted at a fresh directory (needs the right to mount: root)."""
    mount = tmp_path / "tiny"
    mount.mkdir()
    done = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=2m", "tmpfs", str(mount)],
        capture_output=True,
        check=False,
    )
    if done.returncode != 0:
        pytest.skip("mounting a tmpfs needs privileges this run does not have")
    try:
        yield mount
    finally:
        subprocess.run(["umount", "-l", str(mount)], capture_output=True, check=False)


def fill(directory: Path) -> None:
    """Write a file until the file system has no space left."""
    with open(directory / "filler", "wb", buffering=0) as f:
        try:
            while True:
                f.write(b"\0" * 65536)
        except OSError:
            pass
    with open(directory / "filler", "ab", buffering=0) as f:
        try:
            while True:
                f.write(b"\0" * 512)
        except OSError:
            pass


async def test_a_ping_fails_on_a_really_full_disk_as_a_write_does(tiny_disk: Path) -> None:
    """On a file system filled to the last byte the ping fails (the write it stands for fails
    too, 'database or disk is full'), and answers again once room is made."""
    store = store_at(tiny_disk / "t.db")
    await store.open()
    try:
        await store.ping()
        fill(tiny_disk)
        with pytest.raises(StoreUnavailableError, match="full"):
            await store.ping()
        big = alert("big").model_copy(update={"description": "y" * 60_000})
        with pytest.raises(StoreUnavailableError, match="full"):
            await store.begin(big, "m1", T0)
        (tiny_disk / "filler").unlink()
        await store.ping()
    finally:
        await store.aclose()
