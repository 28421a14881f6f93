"""The Store behaviour suite: claims, intents, takeovers and races, run against every store."""

from __future__ import annotations

import asyncio
import contextlib
import sqlite3
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path

import aioboto3
import pytest

from factories import T0, alert
from triage.errors import StoreBusyError
from triage.lifecycle import Action, Policy, State
from triage.models import Priority, Status, Ticket
from triage.ratelimit import Budget
from triage.store import SQLiteStore, VersionedStore
from triage.store_dynamodb import DynamoDBStore, create_table

POLICY = Policy(update_interval=timedelta(minutes=15), reopen_window=timedelta(hours=1))
LEASE = timedelta(minutes=2)
TICKET = Ticket(
    title="api-5xx is failing", priority=Priority.HIGH, description="d", steps=("look",)
)


@pytest.fixture(params=["sqlite", "dynamodb"])
async def store(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[VersionedStore]:
    """Each test runs once per store: SQLite on disk, DynamoDB on moto's server."""
    if request.param == "sqlite":
        s = SQLiteStore(str(tmp_path / "t.db"), POLICY, LEASE, timedelta(days=30))
        await s.open()
        yield s
        await s.aclose()
        return
    moto_url = request.getfixturevalue("moto_url")
    session = aioboto3.Session(region_name="us-east-1")
    async with session.client("dynamodb", endpoint_url=moto_url) as client:
        await create_table(client, "incidents")
        yield DynamoDBStore(client, "incidents", POLICY, LEASE, timedelta(days=30))


async def test_open_claims_effect_and_finish_clears_it(store: VersionedStore) -> None:
    """A new incident is claimed with a pending OPEN; confirm+finish store the ref and clear it."""
    t = await store.begin(alert(), "m1", T0)
    assert t.action is Action.OPEN
    assert t.after is not None and t.after.pending is not None
    assert t.idempotency_key.endswith(":1")
    await store.save_ticket(t.after.fingerprint, "m1", TICKET)
    await store.confirm(t.after.fingerprint, "m1", "backend", "T-1")
    await store.finish(t.after.fingerprint, "m1")
    stored = await store.get(t.after.fingerprint)
    assert stored is not None
    assert stored.pending is None
    assert stored.refs == {"backend": "T-1"}
    assert stored.ticket == TICKET


async def test_repeat_while_open_pending_is_counted(store: VersionedStore) -> None:
    """A repeat arriving while another worker is still opening the ticket is just counted."""
    await store.begin(alert(), "m1", T0)
    t = await store.begin(alert(minutes=1), "m2", T0 + timedelta(minutes=1))
    assert t.action is Action.COUNT
    assert t.after is not None and t.after.occurrences == 2


async def test_effect_while_other_owner_holds_lease_is_busy(store: VersionedStore) -> None:
    """A resolve that needs an effect while another worker holds the pending OPEN is retried later."""
    await store.begin(alert(), "m1", T0)
    with pytest.raises(StoreBusyError):
        await store.begin(alert(status=Status.RESOLVED, minutes=1), "m2", T0 + timedelta(minutes=1))


async def test_abandoned_effect_is_taken_over_with_same_key(store: VersionedStore) -> None:
    """After the lease ends, the next worker redoes the abandoned OPEN with the same idempotency key."""
    first = await store.begin(alert(), "m1", T0)
    later = T0 + LEASE + timedelta(seconds=1)
    redo = await store.begin(alert(minutes=3), "m2", later)
    assert redo.action is Action.OPEN
    assert redo.redo
    assert redo.idempotency_key == first.idempotency_key
    assert redo.after is not None and redo.after.pending is not None
    assert redo.after.pending.owner == "m2"


async def test_own_retry_redoes_effect_without_reapplying(store: VersionedStore) -> None:
    """The same message retried redoes its own pending effect and is not counted twice."""
    await store.begin(alert(), "m1", T0)
    again = await store.begin(alert(), "m1", T0 + timedelta(seconds=5))
    assert again.action is Action.OPEN
    assert not again.redo
    assert again.after is not None and again.after.occurrences == 1


async def test_release_lets_a_retry_take_over_at_once(store: VersionedStore) -> None:
    """release() after a failure ends the lease, so another worker may take over immediately."""
    first = await store.begin(alert(), "m1", T0)
    assert first.after is not None
    await store.release(first.after.fingerprint, "m1")
    redo = await store.begin(alert(minutes=1), "m2", T0 + timedelta(seconds=1))
    assert redo.redo


async def test_confirmed_sinks_are_remembered_for_redo(store: VersionedStore) -> None:
    """A sink that confirmed before a crash is listed as done in the redone effect."""
    t = await store.begin(alert(), "m1", T0)
    assert t.after is not None
    await store.confirm(t.after.fingerprint, "m1", "backend", "T-1")
    redo = await store.begin(alert(), "m2", T0 + LEASE * 2)
    assert redo.after is not None and redo.after.pending is not None
    assert redo.after.pending.done == ("backend",)
    assert redo.after.refs == {"backend": "T-1"}


async def test_last_confirmation_finishes_the_effect_in_the_same_write(
    store: VersionedStore,
) -> None:
    """confirm(finish=True) records the ref and clears the pending effect at once."""
    t = await store.begin(alert(), "m1", T0)
    assert t.after is not None
    await store.confirm(t.after.fingerprint, "m1", "backend", "T-1", finish=True)
    stored = await store.get(t.after.fingerprint)
    assert stored is not None
    assert stored.pending is None
    assert stored.refs == {"backend": "T-1"}
    assert stored.version == t.after.version + 1


async def test_racing_workers_open_exactly_once(store: VersionedStore) -> None:
    """Twenty workers racing on one new incident produce exactly one OPEN."""
    results = await asyncio.gather(*(store.begin(alert(), f"m{i}", T0) for i in range(20)))
    actions = [t.action for t in results]
    assert actions.count(Action.OPEN) == 1
    assert actions.count(Action.COUNT) == 19


async def test_close_then_reopen_keeps_refs(store: VersionedStore) -> None:
    """Open → close → re-fire within the window reopens the same ticket reference."""
    fp = alert().fingerprint
    t = await store.begin(alert(), "m1", T0)
    await store.confirm(fp, "m1", "backend", "T-1")
    await store.finish(fp, "m1")
    close = await store.begin(
        alert(status=Status.RESOLVED, minutes=5), "m2", T0 + timedelta(minutes=5)
    )
    assert close.action is Action.CLOSE
    await store.finish(fp, "m2")
    reopen = await store.begin(alert(minutes=10), "m3", T0 + timedelta(minutes=10))
    assert reopen.action is Action.REOPEN
    assert reopen.after is not None and reopen.after.refs == {"backend": "T-1"}
    assert reopen.after.state is State.OPEN
    assert t.after is not None and reopen.after.pending is not None
    assert reopen.after.pending.seq == 3


async def test_lost_lease_does_not_overwrite_new_owner(store: VersionedStore) -> None:
    """A worker whose lease was taken over cannot clear the new owner's pending effect."""
    fp = alert().fingerprint
    await store.begin(alert(), "m1", T0)
    await store.begin(alert(), "m2", T0 + LEASE * 2)
    await store.finish(fp, "m1")
    stored = await store.get(fp)
    assert stored is not None and stored.pending is not None
    assert stored.pending.owner == "m2"


async def test_closed_incidents_carry_an_expiry(store: VersionedStore) -> None:
    """A closed incident is stored with an expiry (TTL) closed_ttl after closing; an open one has none."""
    fp = alert().fingerprint
    await store.begin(alert(), "m1", T0)
    await store.finish(fp, "m1")
    opened = await store.get(fp)
    assert opened is not None and store._expiry(opened) is None
    assert await _stored_expiry(store, fp) is None
    await store.begin(alert(status=Status.RESOLVED, minutes=1), "m2", T0 + timedelta(minutes=1))
    closed = await store.get(fp)
    assert closed is not None and closed.state is State.CLOSED
    expected = (T0 + timedelta(minutes=1, days=30)).timestamp()
    assert store._expiry(closed) == expected
    assert await _stored_expiry(store, fp) == int(expected)


async def _stored_expiry(store: VersionedStore, fp: str) -> int | None:
    """The expiry as written: SQLite's expires_at column, DynamoDB's TTL attribute."""
    if isinstance(store, SQLiteStore):
        with contextlib.closing(sqlite3.connect(store.path)) as conn:
            row = conn.execute("SELECT expires_at FROM incidents WHERE fingerprint = ?", (fp,))
            [(value,)] = row.fetchall()
        return None if value is None else int(value)
    assert isinstance(store, DynamoDBStore)
    item = await store._ddb.get_item(TableName=store.table, Key={"fingerprint": {"S": fp}})
    value = item["Item"].get("expires_at")
    return None if value is None else int(value["N"])


async def test_sqlite_deletes_expired_closed_incidents_while_running(tmp_path: Path) -> None:
    """A running SQLite store deletes closed incidents past their expiry (DynamoDB's TTL does
    this for the other store); open incidents stay."""
    # A day's TTL on incidents closed at T0 (2026-11-23): expired by the time any test runs.
    store = SQLiteStore(str(tmp_path / "t.db"), POLICY, LEASE, timedelta(days=1))
    await store.open()
    try:
        closed, still_open = alert("closed"), alert("open")
        for a in (closed, still_open):
            await store.begin(a, "m1", T0)
            await store.finish(a.fingerprint, "m1")
        await store.begin(alert("closed", Status.RESOLVED, minutes=1), "m2", T0)
        assert await store.get(closed.fingerprint) is not None  # purged at most hourly
        store.purge_every_s = 0
        await store.begin(alert("other"), "m3", T0)
        assert await store.get(closed.fingerprint) is None
        assert await store.get(still_open.fingerprint) is not None
    finally:
        await store.aclose()


BUDGET = Budget("github:create:acme/ops:minute", capacity=3, period_s=60.0)
NOW_S = T0.timestamp()


async def test_budget_gives_capacity_tokens_then_says_how_long_to_wait(
    store: VersionedStore,
) -> None:
    """A budget hands out `capacity` tokens, then answers with the seconds until the next one,
    and refills at capacity per period."""
    assert [await store.take_token(BUDGET, NOW_S) for _ in range(3)] == [0.0, 0.0, 0.0]
    assert await store.take_token(BUDGET, NOW_S) == pytest.approx(20.0)
    assert await store.take_token(BUDGET, NOW_S + 20) == 0.0
    assert await store.budget_tokens(BUDGET, NOW_S + 20) == pytest.approx(0.0)


async def test_budget_keeps_tokens_back_and_takes_returns(store: VersionedStore) -> None:
    """take_token(keep=1) leaves the last token; give_back_token returns one for the next caller."""
    assert await store.take_token(BUDGET, NOW_S, keep=1) == 0.0
    assert await store.take_token(BUDGET, NOW_S, keep=1) == 0.0
    assert await store.take_token(BUDGET, NOW_S, keep=1) == pytest.approx(20.0)
    assert await store.take_token(BUDGET, NOW_S) == 0.0  # the kept one, for who may use it
    await store.give_back_token(BUDGET, NOW_S)
    assert await store.budget_tokens(BUDGET, NOW_S) == pytest.approx(1.0)


async def test_racing_takers_never_overdraw_a_budget(store: VersionedStore) -> None:
    """Twenty concurrent takers on a budget of 3 get exactly 3 tokens: one conditional write each."""
    waits = await asyncio.gather(*(store.take_token(BUDGET, NOW_S) for _ in range(20)))
    assert waits.count(0.0) == 3
