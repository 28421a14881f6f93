"""The children record (`Store.note_children`, `Store.children`): which contributors of a
CloudWatch alarm fire, kept under the alarm's fingerprint on every store, so the alarm's
deletion reads one record instead of scanning incidents. The newest event of a child wins,
whatever order replicas write in; the record stays bounded."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path

import pytest

from factories import T0
from memory_store import MemoryStore
from moto_speed import loopback_aws_client
from triage.incidents.dynamodb import DynamoDBStore, create_table
from triage.incidents.lifecycle import Policy
from triage.incidents.records import CHILDREN
from triage.incidents.shared import MAX_CHILDREN, Child
from triage.incidents.sqlite import SQLiteStore
from triage.incidents.store import MAX_RECORD_BYTES, Store

LEASE = timedelta(minutes=2)


@pytest.fixture(params=["memory", "sqlite", "dynamodb"])
async def store(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Store]:
    """Each test runs once per store: in memory, SQLite on disk, DynamoDB on moto's server."""
    if request.param == "memory":
        yield MemoryStore(Policy(), LEASE)
        return
    if request.param == "sqlite":
        s = SQLiteStore(str(tmp_path / "t.db"), Policy(), LEASE, timedelta(days=30))
        await s.open()
        yield s
        await s.aclose()
        return
    moto_url = request.getfixturevalue("moto_url")
    async with loopback_aws_client("dynamodb", moto_url) as client:
        await create_table(client, "incidents")
        yield DynamoDBStore(client, "incidents", Policy(), LEASE, timedelta(days=30))


def child(fp: str, minutes: float, *, firing: bool = True) -> Child:
    return Child(fp, f"alarm ({fp})", firing, T0 + timedelta(minutes=minutes))


async def test_children_fire_and_resolve_under_their_parent(store: Store) -> None:
    """Children noted under a parent are read back with their state; another parent has
    none; a parent nobody noted has none."""
    await store.note_children("p", [child("a", 1), child("b", 2)], T0)
    await store.note_children("p", [child("b", 3, firing=False)], T0)
    assert await store.children("p") == [child("a", 1), child("b", 3, firing=False)]
    assert await store.children("other") == []


async def test_a_late_resolve_never_hides_a_newer_firing(store: Store) -> None:
    """Two replicas write a child's resolve (older) after its re-firing (newer): the firing
    stays, so the parent's deletion still closes it; an older firing after a newer resolve
    changes nothing either; of two events stamped alike, the firing wins."""
    await store.note_children("p", [child("a", 5)], T0)
    await store.note_children("p", [child("a", 3, firing=False)], T0)
    assert await store.children("p") == [child("a", 5)]
    await store.note_children("p", [child("a", 7, firing=False)], T0)
    await store.note_children("p", [child("a", 6)], T0)
    assert await store.children("p") == [child("a", 7, firing=False)]
    await store.note_children("p", [child("a", 7)], T0)
    await store.note_children("p", [child("a", 7, firing=False)], T0)
    assert await store.children("p") == [child("a", 7)]


async def test_a_repeat_writes_nothing(store: Store) -> None:
    """Noting a child as it is already known (a redelivery) writes nothing: the record's
    version stays."""
    await store.note_children("p", [child("a", 1)], T0)
    before = await store._get(CHILDREN, "p")
    await store.note_children("p", [child("a", 1)], T0)
    await store.note_children("p", [child("a", 0)], T0)
    assert await store._get(CHILDREN, "p") == before


async def test_the_record_expires_closed_ttl_after_its_last_change(store: Store) -> None:
    """Firing or not, the record expires `closed_ttl` after its last change (a child reported
    firing again keeps it: test_children_expiry.py)."""
    await store.note_children("p", [child("a", 1)], T0)
    firing = await store._get(CHILDREN, "p")
    assert firing is not None and firing.expires_at == (T0 + store.closed_ttl).timestamp()
    await store.note_children("p", [child("a", 2, firing=False)], T0)
    resolved = await store._get(CHILDREN, "p")
    assert resolved is not None
    assert resolved.expires_at == (T0 + store.closed_ttl).timestamp()


async def test_the_record_is_bounded_and_keeps_the_firing_children() -> None:
    """Past MAX_CHILDREN children the one resolved longest ago makes room, so the record stays
    within a DynamoDB item; the firing ones are all kept."""
    store = MemoryStore(Policy(), LEASE)
    firing = [child(f"f{i}", i) for i in range(MAX_CHILDREN - 2)]
    resolved = [child(f"r{i}", i, firing=False) for i in range(2)]
    await store.note_children("p", [*firing, *resolved], T0)
    await store.note_children("p", [child("new", 1000)], T0)
    kept = {c.fingerprint for c in await store.children("p")}
    assert len(kept) == MAX_CHILDREN
    assert "r0" not in kept and {"r1", "new"} <= kept
    assert {c.fingerprint for c in firing} <= kept


async def test_a_full_record_of_the_longest_titles_fits_a_dynamodb_item() -> None:
    """MAX_CHILDREN children with titles of four-byte characters, longer than kept, make a
    record within the store's size bound (a DynamoDB item holds 400 KB): the alarm's
    contributors never cost it its record."""
    store = MemoryStore(Policy(), LEASE)
    emoji = "\U0001f525" * 1000
    many = [Child(f"{i:032x}", emoji, True, T0) for i in range(MAX_CHILDREN)]
    await store.note_children("p", many, T0)
    record = await store._get(CHILDREN, "p")
    assert record is not None
    assert len(record.body.encode("utf-8")) <= MAX_RECORD_BYTES
    assert len(await store.children("p")) == MAX_CHILDREN
