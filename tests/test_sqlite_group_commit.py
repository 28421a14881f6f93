"""The SQLite store's group commit: concurrent changes share one transaction, each caller is
answered only once its change is committed, a change that raises fails alone, and a transaction
that fails fails every change in it (the messages stay on the queue, nothing is counted)."""

from __future__ import annotations

import asyncio
import json
import sqlite3
from collections.abc import AsyncIterator, Iterator, Sequence
from datetime import timedelta
from pathlib import Path

import pytest

from factories import T0, alert
from memory_inbox import MemoryInbox
from test_pipeline import CountingSummariser, FakeSink
from triage.errors import StoreBusyError, StoreUnavailableError
from triage.incidents import Action, Ledger, Policy
from triage.incidents.sqlite import SQLiteStore
from triage.metrics import Metrics
from triage.models import Status
from triage.pipeline import Pipeline
from triage.redact import Redactor
from triage.sqs.inbox import Message
from triage.sqs.supervisor import Supervisor, SupervisorConfig

POLICY = Policy(update_interval=timedelta(minutes=15), reopen_window=timedelta(hours=1))
LEASE = timedelta(minutes=2)
REPEATS = 20


@pytest.fixture
async def store(tmp_path: Path) -> AsyncIterator[SQLiteStore]:
    s = SQLiteStore(str(tmp_path / "t.db"), POLICY, LEASE, timedelta(days=30))
    s.busy_timeout_s = 0.05  # a transaction blocked by another process fails fast
    await s.open()
    yield s
    await s.aclose()


def occurrences(path: str, fingerprint: str) -> int:
    """What another process reading the file sees committed."""
    with sqlite3.connect(path) as conn:
        row = conn.execute(
            "SELECT body FROM incidents WHERE fingerprint = ?", (fingerprint,)
        ).fetchone()
    return int(json.loads(row[0])["occurrences"]) if row else 0


@pytest.fixture
def locked(store: SQLiteStore) -> Iterator[sqlite3.Connection]:
    """Another process holding the file's write lock."""
    other = sqlite3.connect(store.path, isolation_level=None)
    other.execute("BEGIN IMMEDIATE")
    yield other
    other.execute("ROLLBACK")
    other.close()


async def _open(store: SQLiteStore) -> str:
    t = await store.begin(alert(), "opener", T0)
    await store.finish(t.fingerprint, "opener")
    return t.fingerprint


async def test_concurrent_repeats_share_one_transaction_and_return_once_committed(
    store: SQLiteStore,
) -> None:
    """Twenty concurrent repeats of an incident are committed in one transaction, and each
    caller returns only when a reader of the file sees its occurrence."""
    fingerprint = await _open(store)
    before = store.transactions
    returned = 0

    async def repeat(i: int) -> None:
        nonlocal returned
        t = await store.begin(alert(minutes=1), f"m{i}", T0 + timedelta(minutes=1))
        assert t.action is Action.COUNT
        returned += 1
        assert occurrences(store.path, fingerprint) >= 1 + returned

    await asyncio.gather(*(repeat(i) for i in range(REPEATS)))
    assert store.transactions - before == 1
    assert occurrences(store.path, fingerprint) == 1 + REPEATS


async def test_a_change_that_raises_fails_alone(store: SQLiteStore) -> None:
    """In one transaction, a resolve refused while another worker's effect runs gets its
    StoreBusyError; the repeats beside it are still counted."""
    t = await store.begin(alert(), "holder", T0)  # its OPEN stays in progress
    now = T0 + timedelta(minutes=1)
    before = store.transactions
    results = await asyncio.gather(
        store.begin(alert(minutes=1), "m1", now),
        store.begin(alert(status=Status.RESOLVED, minutes=1), "m2", now),
        store.begin(alert(minutes=1), "m3", now),
        return_exceptions=True,
    )
    assert store.transactions - before == 1
    assert [getattr(r, "action", None) for r in results] == [Action.COUNT, None, Action.COUNT]
    assert isinstance(results[1], StoreBusyError)
    assert occurrences(store.path, t.fingerprint) == 3


async def test_a_failed_transaction_fails_every_change_in_it(
    store: SQLiteStore, locked: sqlite3.Connection
) -> None:
    """While another process holds the lock, every change of the group fails as unavailable
    and none is written; once the lock is free, the same changes commit."""
    fingerprint = alert().fingerprint
    results = await asyncio.gather(
        *(store.begin(alert(), f"m{i}", T0) for i in range(5)), return_exceptions=True
    )
    assert all(isinstance(r, StoreUnavailableError) for r in results), results
    locked.execute("ROLLBACK")
    locked.execute("BEGIN")  # the fixture's ROLLBACK ends this one
    assert occurrences(store.path, fingerprint) == 0
    t = await store.begin(alert(), "m0", T0)
    assert t.action is Action.OPEN


# --- Through the pipeline and the supervisor ------------------------------------------------


class _CheckedInbox(MemoryInbox):
    """Notes, at each delete, how many occurrences a reader of the store's file saw."""

    def __init__(self, path: str, fingerprint: str) -> None:
        super().__init__()
        self.path, self.fingerprint = path, fingerprint
        self.seen_at_delete: list[tuple[int, int]] = []

    async def delete(self, messages: Sequence[Message]) -> list[str]:
        failed = await super().delete(messages)
        self.seen_at_delete.append((len(self.deleted), occurrences(self.path, self.fingerprint)))
        return failed


def _body() -> str:
    return json.dumps({"title": "checkout is failing", "dedup_key": "checkout"})


def _supervisor(store: SQLiteStore, inbox: MemoryInbox, **config: object) -> Supervisor:
    metrics = Metrics()
    pipeline = Pipeline(
        Ledger(store),
        CountingSummariser(),
        [FakeSink()],
        metrics,
        redactor=Redactor(),
        alert_concurrency=8,
    )
    return Supervisor(
        SupervisorConfig(concurrency=REPEATS, wait_s=0, **config),  # type: ignore[arg-type]
        inbox,
        pipeline.process,
        metrics,
    )


async def test_repeats_are_acked_only_after_their_occurrences_are_committed(
    store: SQLiteStore,
) -> None:
    """A storm of repeats through the supervisor takes fewer transactions than messages, and
    every delete comes after the store holds the occurrence of each message it deletes."""
    inbox = _CheckedInbox(store.path, "")
    inbox.put(_body())
    await _supervisor(store, inbox, drain=True).serve()
    inbox.fingerprint = (await store.incidents())[0].fingerprint
    inbox.seen_at_delete.clear()
    before = store.transactions
    inbox.put(*[_body()] * REPEATS)
    await _supervisor(store, inbox, drain=True).serve()
    assert len(inbox.deleted) == 1 + REPEATS
    assert store.transactions - before < REPEATS
    assert all(seen >= deleted for deleted, seen in inbox.seen_at_delete), inbox.seen_at_delete
    assert occurrences(store.path, inbox.fingerprint) == 1 + REPEATS


async def test_a_locked_store_holds_every_message_without_spending_a_receive(
    store: SQLiteStore,
) -> None:
    """While another process holds the file's lock past the busy timeout, no message is
    deleted or released towards the DLQ: each is held (readiness says the store is
    unavailable), and once the lock is gone each is acked, received once."""
    other = sqlite3.connect(store.path, isolation_level=None)
    other.execute("BEGIN IMMEDIATE")
    inbox = MemoryInbox()
    ids = inbox.put(*[_body()] * 5)
    supervisor = _supervisor(store, inbox, drain=True)
    supervisor.DEFAULT_HOLD_S = 0.05
    serving = asyncio.create_task(supervisor.serve())
    try:
        async with asyncio.timeout(10):
            while supervisor.stats.held < 5:
                await asyncio.sleep(0.01)
        assert inbox.deleted == []
        assert supervisor.health.readiness() == {
            "ready": False,
            "failing": {"store": "unavailable"},
        }
    finally:
        other.execute("ROLLBACK")
        other.close()
    async with asyncio.timeout(10):
        await serving
    assert sorted(inbox.deleted) == sorted(ids)
    assert (supervisor.stats.received, supervisor.stats.retried) == (5, 0)
    assert inbox.visibility_calls == []
    assert "store" not in supervisor.health.failing()  # recovered (shutting_down: stopped)


async def test_an_incident_another_replica_changed_is_read_again(store: SQLiteStore) -> None:
    """A replica's write is seen at once, though this store keeps the incidents it wrote
    decoded: each replica's repeats add to the other's count."""
    replica = SQLiteStore(store.path, POLICY, LEASE, timedelta(days=30))
    await replica.open()
    try:
        fingerprint = await _open(store)
        for minute in range(1, 4):
            now = T0 + timedelta(minutes=minute)
            await store.begin(alert(minutes=minute), f"a{minute}", now)
            t = await replica.begin(alert(minutes=minute), f"b{minute}", now)
            assert t.after is not None and t.after.occurrences == 1 + 2 * minute
        closed = await replica.begin(alert(status=Status.RESOLVED, minutes=5), "b5", T0)
        assert closed.action is Action.CLOSE
        stored = await store.get(fingerprint)
        assert stored is not None and stored.pending is not None
        t = await store.begin(alert(minutes=6), "a6", T0 + timedelta(minutes=6))
        assert t.before is not None and t.before.occurrences == 7
        assert t.before.state.value == "closed"
    finally:
        await replica.aclose()
