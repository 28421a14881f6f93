"""The SQLite store's reads go to its thread with the changes waiting there: a read that
arrives while a transaction runs costs no thread hop of its own (a new incident reads its
alert's member record between its claim and its ticket, beside 63 other incidents' writes).
What each read answers, and what a failing transaction or read does to the others, is as
before: a read is never answered from a transaction that failed, nor fails with it."""

from __future__ import annotations

import asyncio
import os
import sqlite3
from collections.abc import AsyncIterator, Callable
from concurrent.futures import Future
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from triage.errors import StoreUnavailableError
from triage.incidents.lifecycle import Policy
from triage.incidents.records import MEMBER, Record
from triage.incidents.sqlite import SQLiteStore

LEASE = timedelta(minutes=2)


@pytest.fixture
async def store(tmp_path: Path) -> AsyncIterator[SQLiteStore]:
    s = SQLiteStore(str(tmp_path / "t.db"), Policy(), LEASE, timedelta(days=30))
    await s.open()
    yield s
    await s.aclose()


def _count_trips(store: SQLiteStore, monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """How many calls go to the store's thread from now on (one item each)."""
    trips: list[int] = []
    submit = store._executor.submit

    def counting(fn: Callable[..., Any], /, *args: Any, **kwargs: Any) -> Future[Any]:
        trips.append(1)
        return submit(fn, *args, **kwargs)

    monkeypatch.setattr(store._executor, "submit", counting)
    return trips


def _put(key: str, body: str) -> Callable[[Record | None], tuple[Record | None, None]]:
    def change(record: Record | None) -> tuple[Record | None, None]:
        version = record.version + 1 if record else 1
        return Record(key, MEMBER, version, body, None), None

    return change


async def test_reads_arriving_beside_writes_share_their_trip(
    store: SQLiteStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Ten writes and ten reads started together take one trip to the store's thread (each
    read took its own), and each read answers the record as stored."""
    for n in range(10):
        await store._update(MEMBER, f"r{n}", _put(f"r{n}", "before"))
    trips = _count_trips(store, monkeypatch)
    writes = [store._update(MEMBER, f"w{n}", _put(f"w{n}", "new")) for n in range(10)]
    reads = [store._get(MEMBER, f"r{n}") for n in range(10)]
    results = await asyncio.gather(*writes, *reads)
    assert len(trips) == 1
    answered = results[10:]
    assert [r.body if r else None for r in answered] == ["before"] * 10
    assert [await store._get(MEMBER, f"w{n}") for n in range(3)] != [None] * 3


async def test_a_read_sees_what_was_written_before_it_was_asked(store: SQLiteStore) -> None:
    """A read asked once a write is answered sees that write; a read of a record written in
    the same trip sees the record as it was or as written, never anything else."""
    await store._update(MEMBER, "k", _put("k", "one"))
    record = await store._get(MEMBER, "k")
    assert record is not None and record.body == "one"
    write = store._update(MEMBER, "k", _put("k", "two"))
    read = store._get(MEMBER, "k")
    _, during = await asyncio.gather(write, read)
    assert during is not None and during.body in ("one", "two")
    after = await store._get(MEMBER, "k")
    assert after is not None and after.body == "two"


async def test_a_read_alone_takes_one_trip_and_no_transaction(
    store: SQLiteStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A read with nothing else waiting goes to the store's thread at once, commits nothing,
    and answers None for a record that is not there."""
    trips = _count_trips(store, monkeypatch)
    before = store.transactions
    assert await store._get(MEMBER, "nowhere") is None
    assert len(trips) == 1
    assert store.transactions == before


async def test_a_failed_transaction_fails_its_writes_not_the_reads_beside_it(
    store: SQLiteStore,
) -> None:
    """When the transaction of a group fails (the file locked past the busy timeout), its
    writes fail as unavailable, and the reads that went with them are answered all the same."""
    await store._update(MEMBER, "r", _put("r", "kept"))
    await store._call(lambda: store._db().execute("PRAGMA busy_timeout = 0"))
    other = sqlite3.connect(store.path, isolation_level=None)
    other.execute("BEGIN IMMEDIATE")  # another process holds the write lock
    try:
        write = store._update(MEMBER, "w", _put("w", "lost"))
        read = store._get(MEMBER, "r")
        failed, answered = await asyncio.gather(write, read, return_exceptions=True)
    finally:
        other.execute("ROLLBACK")
        other.close()
    assert isinstance(failed, StoreUnavailableError)
    assert isinstance(answered, Record) and answered.body == "kept"
    assert await store._get(MEMBER, "w") is None


async def test_a_read_of_a_deleted_file_fails_as_unavailable(store: SQLiteStore) -> None:
    """A read after the store's file was deleted fails as unavailable, as a write does, and
    the store reads again once the file is back."""
    os.rename(store.path, store.path + ".away")
    with pytest.raises(StoreUnavailableError):
        await store._get(MEMBER, "k")
    with pytest.raises(StoreUnavailableError):
        await store._update(MEMBER, "k", _put("k", "x"))
    os.rename(store.path + ".away", store.path)
    assert await store._get(MEMBER, "k") is None


async def test_a_cancelled_read_is_not_answered(store: SQLiteStore) -> None:
    """A read cancelled while it waits for the transaction before it leaves nothing behind,
    and the reads and writes beside it are answered."""
    first = asyncio.ensure_future(store._update(MEMBER, "a", _put("a", "1")))
    await asyncio.sleep(0)  # its trip is on the way: the next ones wait for it
    cancelled = asyncio.ensure_future(store._get(MEMBER, "a"))
    kept = asyncio.ensure_future(store._get(MEMBER, "a"))
    await asyncio.sleep(0)
    cancelled.cancel()
    await first
    record = await kept
    assert record is not None and record.body == "1"
    assert cancelled.cancelled()
