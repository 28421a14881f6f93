"""Replicas sharing one SQLite file (the compose stack's daemons, two `triage` commands) may
open it at the same moment: each opens it, none is refused for the other (a schema column
added twice, a WAL switch refused as locked), on a new file and on one from before the sweep."""

from __future__ import annotations

import asyncio
import sqlite3
import threading
from datetime import timedelta
from pathlib import Path

import pytest

from triage.incidents import Policy
from triage.incidents.sqlite import SQLiteStore

#: Stores opening one file together, and files tried: a race lost once in a few files fails.
OPENERS = 6
FILES = 30


async def _open_together(path: Path) -> list[BaseException]:
    stores = [
        SQLiteStore(str(path), Policy(), timedelta(seconds=60), timedelta(days=30))
        for _ in range(OPENERS)
    ]
    results = await asyncio.gather(*(s.open() for s in stores), return_exceptions=True)
    await asyncio.gather(*(s.aclose() for s in stores), return_exceptions=True)
    return [r for r in results if isinstance(r, BaseException)]


async def test_stores_opening_one_new_file_together_all_open(tmp_path: Path) -> None:
    """Six stores opening one new file at once all open it, over thirty files."""
    refused = {}
    for n in range(FILES):
        errors = await _open_together(tmp_path / f"new-{n}.db")
        if errors:
            refused[n] = [str(e) for e in errors]
    assert refused == {}


async def test_stores_opening_a_file_from_before_the_sweep_together_all_open(
    tmp_path: Path,
) -> None:
    """Six stores opening at once a file whose incidents table lacks `sweep_at` (an older
    release's) all open it, and the column is added once."""
    refused = {}
    for n in range(FILES):
        path = tmp_path / f"old-{n}.db"
        with sqlite3.connect(path) as conn:
            conn.execute(
                "CREATE TABLE incidents (fingerprint TEXT PRIMARY KEY, version INTEGER NOT NULL,"
                " body TEXT NOT NULL, expires_at REAL)"
            )
        errors = await _open_together(path)
        if errors:
            refused[n] = [str(e) for e in errors]
    assert refused == {}


async def test_an_open_cancelled_midway_returns_only_once_its_thread_has_closed_the_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A daemon stopped while its store opens (a SIGTERM at start): the cancelled `open` ends
    only once the store's thread has finished creating the file and closed it, so nothing of
    the store writes in a directory its caller removes next (the demo's temporary store)."""
    entered, release = threading.Event(), threading.Event()
    set_up = SQLiteStore._set_up

    def slow_set_up(self: SQLiteStore, conn: sqlite3.Connection) -> None:
        entered.set()
        release.wait()
        set_up(self, conn)

    monkeypatch.setattr(SQLiteStore, "_set_up", slow_set_up)
    store = SQLiteStore(str(tmp_path / "t.db"), Policy(), timedelta(seconds=60), timedelta(1))
    opening = asyncio.ensure_future(store.open())
    while not entered.is_set():  # the thread is inside the open
        await asyncio.sleep(0)
    opening.cancel()
    try:
        for _ in range(20):  # ample turns for the cancellation to end a task waiting on nothing
            await asyncio.sleep(0)
        assert not opening.done()
    finally:
        release.set()
    with pytest.raises(asyncio.CancelledError):
        await opening
    assert store._conn is None
