"""A contributor of a GROUP BY alarm closed beside the flow of alerts (by hand through the
operator API, or by the sweep for want of alerts) counts as done in the alarm's children
record: its later OK is noted although the lifecycle ignores it, so the record expires once
none fires; and the alarm's deletion reads its incident, finds it closed, and sends it no
resolve of its own."""

from __future__ import annotations

import json
from collections.abc import MutableMapping
from pathlib import Path
from typing import Any

from memory_store import MemoryStore
from test_auto_close import route_says_resolve_after
from test_cloudwatch_contributors_close import (
    Replica,
    contributor,
    deletion,
    message,
    replica,
    title,
)
from test_cloudwatch_contributors_close import store as store  # the store per backend
from test_pipeline import LEASE, POLICY, Clock
from triage.incidents import Action, State, Store
from triage.incidents.records import CHILDREN
from triage.incidents.silences import SilenceCache
from triage.normalize import normalize_body
from triage.ops.sweep import Sweep


async def incident_of(store: Store, name: str) -> str:
    """The fingerprint of the incident titled `name`."""
    [fingerprint] = [i.fingerprint for i in await store.incidents() if i.title == name]
    return fingerprint


async def close_by_hand(store: Store, clock: Clock, name: str) -> str:
    """The operator API's close of the incident titled `name`, carried out (its effect done)."""
    fingerprint = await incident_of(store, name)
    transition = await store.close(fingerprint, "operator", clock(), "{}")
    assert transition.action is Action.CLOSE
    await store.finish(fingerprint, "operator")
    return fingerprint


async def test_a_contributor_closed_by_hand_then_ok_lets_the_record_expire(store: Store) -> None:
    """Contributor a is closed by hand; its OK then comes, which the lifecycle ignores (closed
    already): the record notes it resolved all the same, and with none firing, expires."""
    clock = Clock()
    one = replica(store, clock)
    assert await one.process(message("f", contributor("a", "ALARM", "13:00"))) == [Action.OPEN]
    parent = await _parent(one)
    await close_by_hand(store, clock, title("a"))
    assert await one.process(message("ok", contributor("a", "OK", "14:00"))) == [Action.IGNORE]
    [kept] = await store.children(parent)
    assert not kept.firing
    record = await store._get(CHILDREN, parent)
    assert record is not None and record.expires_at is not None


async def _parent(one: Replica) -> str:
    """The alarm's fingerprint, as its contributors name it."""
    body = json.dumps(contributor("x", "ALARM", "13:00")).encode()
    [parent] = [a.parent for a in normalize_body(body).alerts if a.parent is not None]
    return parent


ROUTES = """
[[route]]
name = "contributors"
sinks = ["backend"]
resolve_after_s = 600
"""


async def test_a_contributor_closed_by_the_sweep_then_ok_lets_the_record_expire(
    tmp_path: Path,
) -> None:
    """The sweep closes contributor a for want of alerts (its route's `resolve_after_s`); its
    OK then comes, ignored by the lifecycle: the record notes it resolved, and expires."""
    store = MemoryStore(POLICY, LEASE)
    clock = Clock()
    routes = tmp_path / "routes.toml"
    routes.write_text(ROUTES)
    one = replica(store, clock, routes)
    await one.process(message("f", contributor("a", "ALARM", "13:00")))
    fingerprint = await incident_of(store, title("a"))
    await route_says_resolve_after(store, fingerprint, 600)
    clock.at(60)
    sweep = Sweep(store, one.pipeline, SilenceCache(store), None, 1.0, owner="s", clock=clock)
    await sweep.once()
    stored = await store.get(fingerprint)
    assert stored is not None and stored.state is State.CLOSED and stored.pending is None
    assert await one.process(message("ok", contributor("a", "OK", "14:00"))) == [Action.IGNORE]
    parent = await _parent(one)
    assert [c.firing for c in await store.children(parent)] == [False]
    record = await store._get(CHILDREN, parent)
    assert record is not None and record.expires_at is not None


async def test_the_deletion_counts_a_contributor_closed_by_hand_as_done(
    store: Store, logs: list[MutableMapping[str, Any]]
) -> None:
    """Contributors a and b fire, a is closed by hand: the alarm's deletion sends a no resolve
    (no decision is taken for it), closes b, says so in its one line, and leaves a record in
    which none fires, so it expires."""
    clock = Clock()
    one = replica(store, clock)
    for table in ("a", "b"):
        await one.process(message(f"f-{table}", contributor(table, "ALARM", "13:00")))
    hand_closed = await close_by_hand(store, clock, title("a"))
    before = await store.get(hand_closed)
    logs.clear()
    assert await one.process(message("del", deletion())) == [Action.RECORD]
    assert one.closed() == [title("b")]
    decided = sorted(e["action"] for e in logs if e["event"] == "alert.decided")
    assert decided == ["close", "record"]  # b's close and the alarm's own: none for a
    [line] = [e for e in logs if e["event"] == "alert.children_closed"]
    assert (line["firing"], line["closed"], line["already_closed"], line["failed"]) == (2, 1, 1, 0)
    assert await store.get(hand_closed) == before
    parent = await _parent(one)
    assert [c.firing for c in await store.children(parent)] == [False, False]
    record = await store._get(CHILDREN, parent)
    assert record is not None and record.expires_at is not None
