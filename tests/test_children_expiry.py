"""The children record's bound (`Store.note_children`): a parent's record of firing children
expires `closed_ttl` after a child last fired or resolved, so a child whose OK never comes (its
source deleted, its incident closed by hand or by the sweep) no longer keeps it for good; a
child firing again, even a repeat stamped alike, keeps it while it fires."""

from __future__ import annotations

import dataclasses
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from factories import T0
from memory_store import MemoryStore
from moto_speed import loopback_aws_client
from triage.incidents.dynamodb import DynamoDBStore, create_table
from triage.incidents.lifecycle import Policy
from triage.incidents.records import CHILDREN
from triage.incidents.shared import Child
from triage.incidents.sqlite import SQLiteStore
from triage.incidents.store import Store

LEASE = timedelta(minutes=2)
TTL = timedelta(days=30)


@pytest.fixture(params=["memory", "sqlite", "dynamodb"])
async def store(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Store]:
    """Each test runs once per store: in memory, SQLite on disk, DynamoDB on moto's server."""
    if request.param == "memory":
        yield MemoryStore(Policy(), LEASE, TTL)
        return
    if request.param == "sqlite":
        s = SQLiteStore(str(tmp_path / "t.db"), Policy(), LEASE, TTL)
        await s.open()
        yield s
        await s.aclose()
        return
    moto_url = request.getfixturevalue("moto_url")
    async with loopback_aws_client("dynamodb", moto_url) as client:
        await create_table(client, "incidents")
        yield DynamoDBStore(client, "incidents", Policy(), LEASE, TTL)


def child(fp: str, minutes: float, *, firing: bool = True) -> Child:
    return Child(fp, f"alarm ({fp})", firing, T0 + timedelta(minutes=minutes))


async def _expires_at(store: Store, parent: str = "p") -> float | None:
    record = await store._get(CHILDREN, parent)
    assert record is not None
    return record.expires_at


async def test_a_record_whose_child_never_resolves_expires_after_closed_ttl(store: Store) -> None:
    """A child fires and is never heard from again: its parent's record expires `closed_ttl`
    after that firing was noted (it had no expiry at all)."""
    await store.note_children("p", [child("a", 1)], T0)
    assert await _expires_at(store) == (T0 + TTL).timestamp()


async def test_a_newer_firing_of_a_child_moves_the_expiry_on(store: Store) -> None:
    """Another child (or the same one, stamped later) firing a week on dates the record's
    expiry from then: the children still firing keep it."""
    await store.note_children("p", [child("a", 1)], T0)
    week = T0 + timedelta(days=7)
    await store.note_children("p", [child("b", 7 * 24 * 60)], week)
    assert await _expires_at(store) == (week + TTL).timestamp()


async def test_a_repeat_of_a_firing_child_refreshes_the_expiry_in_its_second_half(
    store: Store,
) -> None:
    """A repeat stamped alike (a redelivery, a resend) writes nothing while the record has
    more than half its time left, and dates its expiry anew past that, so a child that keeps
    being reported firing keeps its record."""
    await store.note_children("p", [child("a", 1)], T0)
    before = await store._get(CHILDREN, "p")
    await store.note_children("p", [child("a", 1)], T0 + timedelta(days=10))
    assert await store._get(CHILDREN, "p") == before
    later = T0 + timedelta(days=20)
    await store.note_children("p", [child("a", 1)], later)
    assert await _expires_at(store) == (later + TTL).timestamp()
    assert await store.children("p") == [child("a", 1)]


async def test_a_repeat_of_a_resolved_child_does_not_refresh_the_expiry(store: Store) -> None:
    """A resolve noted again late in the record's time (a redelivered OK) leaves its expiry:
    only a child that fires keeps the record."""
    await store.note_children("p", [child("a", 1, firing=False)], T0)
    await store.note_children("p", [child("a", 1, firing=False)], T0 + timedelta(days=20))
    assert await _expires_at(store) == (T0 + TTL).timestamp()


async def test_a_record_kept_without_expiry_gets_one_at_its_childs_next_firing() -> None:
    """A record of a firing child written with no expiry (before records were bounded) gets
    one when the child is next reported firing, even as a repeat."""
    store = MemoryStore(Policy(), LEASE, TTL)
    await store.note_children("p", [child("a", 1)], T0)
    key = (CHILDREN, "p")
    store.records[key] = dataclasses.replace(store.records[key], expires_at=None)
    later = T0 + timedelta(days=1)
    await store.note_children("p", [child("a", 1)], later)
    assert await _expires_at(store) == (later + TTL).timestamp()


async def test_sqlite_forgets_an_expired_record_of_a_child_never_heard_from_again(
    tmp_path: Path,
) -> None:
    """On SQLite, the record of a child that fired long ago (its expiry past) and was never
    heard from again is gone once the store purges: a parent's deletion then finds none."""
    path = str(tmp_path / "t.db")
    long_ago = datetime(2020, 1, 1, tzinfo=UTC)
    first = SQLiteStore(path, Policy(), LEASE, timedelta(days=1))
    await first.open()
    await first.note_children("p", [Child("a", "alarm (a)", True, long_ago)], long_ago)
    await first.aclose()
    again = SQLiteStore(path, Policy(), LEASE, timedelta(days=1))
    await again.open()
    try:
        assert await again.children("p") == []
    finally:
        await again.aclose()
