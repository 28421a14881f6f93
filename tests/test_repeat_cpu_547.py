"""A storm repeat's cheaper paths keep their meaning: the store's settled ids (`Store.settle`)
stay the newest SETTLED_KEPT in order, the oldest dropped in O(1); and bench/repeat.py, which
measures a repeat, runs."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from memory_store import MemoryStore
from triage.incidents import store as store_module
from triage.incidents.store import _counted_id

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "bench"))

import repeat  # bench/repeat.py, put on the path above


def test_settle_keeps_the_newest_settled_ids_in_order(monkeypatch: pytest.MonkeyPatch) -> None:
    """Past SETTLED_KEPT, settling drops the oldest ids first; an id settled again keeps its
    place, as the plain dict's did."""
    monkeypatch.setattr(store_module, "SETTLED_KEPT", 8)
    store = MemoryStore()
    for i in range(12):
        store.settle([f"m{i}#0"])
    store.settle(["m6#0"])  # already settled: no move, nothing dropped
    assert list(store._settled) == [_counted_id(f"m{i}#0") for i in range(4, 12)]


def test_settle_of_a_storm_drops_as_many_as_it_adds() -> None:
    """A storm's settles, far past SETTLED_KEPT, keep exactly SETTLED_KEPT ids: the newest."""
    store = MemoryStore()
    total = store_module.SETTLED_KEPT * 3
    for i in range(total):
        store.settle([f"m{i}#0", f"m{i}#1"])
    assert len(store._settled) == store_module.SETTLED_KEPT
    assert next(iter(store._settled)) == _counted_id(f"m{total - store_module.SETTLED_KEPT // 2}#0")


async def test_the_repeat_harness_counts_every_repeat_on_the_sqlite_store() -> None:
    """bench/repeat.py opens its incidents, then every repeat is counted (one COUNT each, no
    new ticket) through the daemon's pipeline and the SQLite store, its figures measured."""
    figures = await repeat.measure(40, incidents=5, concurrency=4)
    assert figures["opened"] == {"open": 5}
    assert figures["actions"] == {"count": 40}
    assert figures["transactions"] >= 1
    assert figures["process_us"] > 0 and figures["sqlite_thread_us"] > 0
