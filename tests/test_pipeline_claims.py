"""A message's claims on incidents, through failures the fault model found (in-memory fakes, in
milliseconds): a retry finishes an effect its alert claimed and gave back, even when its alert is
routed elsewhere by then, and an effect whose store confirmation was written but never answered
is counted once."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from factories import T0
from memory_store import MemoryStore
from test_pipeline import LEASE, POLICY, Clock, CountingSummariser, FakeSink
from triage.errors import SinkUnavailableError, StoreUnavailableError
from triage.incidents import Action, Ledger, Store
from triage.incidents.sqlite import SQLiteStore
from triage.incidents.store import R, RecordChange
from triage.metrics import Metrics
from triage.models import EffectKind
from triage.pipeline import Pipeline
from triage.redact import Redactor
from triage.routes import load_router
from triage.settings import Settings
from triage.sqs.inbox import Message

ROUTES = """
[[route]]
name = "disks"
sinks = ["backend", "slack"]
group_by = ["host"]
[route.match]
labels = { grouped = "yes" }

[[route]]
name = "default"
sinks = ["backend", "slack"]
"""


@dataclass
class Replica:
    """One daemon's pipeline on the shared store, with a backend and a Slack fake."""

    pipeline: Pipeline
    backend: FakeSink
    slack: FakeSink
    metrics: Metrics

    async def process(self, message: Message) -> list[Action]:
        return [outcome.action for outcome in await self.pipeline.process(message)]


def replica(tmp_path: Path, store: Store, clock: Clock) -> Replica:
    routes = tmp_path / "routes.toml"
    routes.write_text(ROUTES)
    backend, slack, metrics = FakeSink("backend"), FakeSink("slack"), Metrics()
    pipeline = Pipeline(
        Ledger(store, clock=clock),
        CountingSummariser(),
        [backend, slack],
        metrics,
        redactor=Redactor(),
        policy=POLICY,
        router=load_router(Settings(routes_file=routes)),
    )
    return Replica(pipeline, backend, slack, metrics)


def disk(mid: str, name: str, status: str, host: str, *, receive: int = 1) -> Message:
    """Message `mid`: alert `name` of a host's disks (grouped by host), on its `receive`-th
    receive (each receive its own receipt handle)."""
    body = {
        "title": f"{name} is failing",
        "dedup_key": name,
        "status": status,
        "host": host,
        "labels": {"grouped": "yes"},
        "timestamp": T0.isoformat(),
    }
    return Message(mid, json.dumps(body), f"rh-{mid}-{receive}", receive, T0, received_at=T0)


async def _half_open_group(one: Replica) -> None:
    """Host a's group opened by m1 (disk-2): the backend told, Slack failing. m2, disk-1's
    resolve under host a, takes the open over and fails at Slack too, so m2 holds the claim;
    m3, disk-1's resolve under host b, remembers disk-1 there: m2's resolve goes to host b
    from now on, never back to host a."""
    one.slack.failures = 2
    with pytest.raises(SinkUnavailableError):
        await one.process(disk("m1", "disk-2", "firing", "a"))
    with pytest.raises(SinkUnavailableError):
        await one.process(disk("m2", "disk-1", "resolved", "a"))
    assert await one.process(disk("m3", "disk-1", "resolved", "b")) == [Action.RECORD]
    assert await one.process(disk("m1", "disk-2", "firing", "a", receive=2)) == [Action.IGNORE]


async def _group_a_open_everywhere(store: Store, sinks: list[FakeSink]) -> None:
    groups = [i for i in await store.incidents() if i.title == "host=a"]
    assert [g.pending for g in groups] == [None]
    assert [[str(e.kind) for e in s.effects] for s in sinks] == [["open"], ["open"]]


async def test_a_held_retry_finishes_the_group_effect_it_took_over(tmp_path: Path) -> None:
    """A message that took over a group's open and failed, retried where it was held (its
    resolve now routed to another group), finishes that open before it is acked: Slack hears
    of the group (it never did, and the claim was left for good)."""
    store, clock = MemoryStore(POLICY, LEASE), Clock()
    one = replica(tmp_path, store, clock)
    await _half_open_group(one)
    assert await one.process(disk("m2", "disk-1", "resolved", "a")) == [Action.IGNORE]
    await _group_a_open_everywhere(store, [one.backend, one.slack])


@pytest.mark.parametrize("kind", ["memory", "sqlite"])
async def test_a_retry_on_another_replica_finishes_the_group_effect_it_took_over(
    tmp_path: Path, kind: str
) -> None:
    """The same message received again by another replica (a new receive) finds in the store
    the claim its first receive gave back, and finishes that group's open before it is acked."""
    clock = Clock()
    store: Store = MemoryStore(POLICY, LEASE)
    if kind == "sqlite":
        store = SQLiteStore(str(tmp_path / "t.db"), POLICY, LEASE, timedelta(days=30))
        await store.open()
    try:
        one, two = replica(tmp_path, store, clock), replica(tmp_path, store, clock)
        await _half_open_group(one)
        clock.now = T0 + timedelta(minutes=1)
        retry = disk("m2", "disk-1", "resolved", "a", receive=2)
        assert await two.process(retry) == [Action.IGNORE]
        await _group_a_open_everywhere(store, [one.backend, two.slack])
    finally:
        await store.aclose()


async def test_a_retry_finishes_a_take_over_whose_answer_was_lost(tmp_path: Path) -> None:
    """A message whose take-over of a group's open the store wrote but did not answer holds
    that claim unknowingly; its retry, its resolve routed to another group by then, still
    finishes the open before it is acked (Slack never heard of the group)."""
    store, clock = LostAnswers(0, lost_begins=1), Clock()
    one = replica(tmp_path, store, clock)
    one.slack.failures = 1
    with pytest.raises(SinkUnavailableError):
        await one.process(disk("m1", "disk-2", "firing", "a"))
    with pytest.raises(StoreUnavailableError):
        await one.process(disk("m2", "disk-1", "resolved", "a"))
    assert await one.process(disk("m3", "disk-1", "resolved", "b")) == [Action.RECORD]
    assert await one.process(disk("m1", "disk-2", "firing", "a", receive=2)) == [Action.IGNORE]
    assert await one.process(disk("m2", "disk-1", "resolved", "a")) == [Action.IGNORE]
    await _group_a_open_everywhere(store, [one.backend, one.slack])


async def test_a_retry_leaves_a_claim_another_alert_took_over_since(tmp_path: Path) -> None:
    """A claim given back and taken over by another alert since is that alert's: the retry of
    the message that gave it back carries nothing out for it."""
    store, clock = MemoryStore(POLICY, LEASE), Clock()
    one = replica(tmp_path, store, clock)
    one.slack.failures = 1
    with pytest.raises(SinkUnavailableError):
        await one.process(disk("m1", "disk-2", "firing", "a"))
    assert await one.process(disk("m4", "disk-3", "firing", "a")) == [Action.COUNT]
    slack_calls = len(one.slack.effects)
    assert await one.process(disk("m1", "disk-2", "firing", "a", receive=2)) == [Action.IGNORE]
    assert len(one.slack.effects) == slack_calls


class LostAnswers(MemoryStore):
    """A store whose `confirm` writes, then fails to answer (DynamoDB's timeout after the
    write), the first `lost` times; or fails before writing, with `before`. With `lost_begins`,
    the same happens to that many `begin`s that write an incident holding an effect already."""

    def __init__(self, lost: int, *, before: bool = False, lost_begins: int = 0) -> None:
        super().__init__(POLICY, LEASE)
        self.lost, self.before, self.lost_begins = lost, before, lost_begins
        self._losing = False

    async def confirm(self, *args: object, **kwargs: object) -> bool:
        self._losing = self.lost > 0
        self.lost -= self._losing
        try:
            return await super().confirm(*args, **kwargs)  # type: ignore[arg-type]
        finally:
            self._losing = False

    async def begin(  # type: ignore[override]
        self,
        alert: Any,
        owner: str,
        now: Any,
        group: Any = None,
        hold: Any = None,
        *,
        carrying: Any = frozenset(),
    ) -> Any:
        stored = await self.get(group.key if group else alert.fingerprint)
        self._losing = self.lost_begins > 0 and stored is not None and stored.pending is not None
        self.lost_begins -= self._losing
        try:
            return await super().begin(alert, owner, now, group, hold, carrying=carrying)
        finally:
            self._losing = False

    async def _update(self, kind: str, key: str, change: RecordChange[R]) -> R:
        if not self._losing:
            return await super()._update(kind, key, change)
        self._losing = False
        if self.before:
            raise StoreUnavailableError("injected: the store is unreachable")
        await super()._update(kind, key, change)
        raise StoreUnavailableError("injected: the write's answer was lost")


def single(receive: int = 1) -> Message:
    body = {"title": "api-5xx is failing", "dedup_key": "api-5xx", "timestamp": T0.isoformat()}
    return Message("s1", json.dumps(body), f"rh-s1-{receive}", receive, T0, received_at=T0)


@pytest.mark.parametrize("lost", [1, 2], ids=["first-sink", "both-sinks"])
async def test_a_confirmation_written_whose_answer_was_lost_counts_once(
    tmp_path: Path, lost: int
) -> None:
    """A sink's confirmation the store wrote but never answered (the first, or the last that
    finishes the effect too) counts its ticket once in TicketsCreated, and the effect goes on."""
    store, clock = LostAnswers(lost), Clock()
    one = replica(tmp_path, store, clock)
    assert await one.process(single()) == [Action.OPEN]
    assert await one.process(single(receive=2)) == [Action.IGNORE]
    for sink in ("backend", "slack"):
        assert one.metrics.counter("TicketsCreated", sink=sink) == 1
    assert [i.pending for i in await store.incidents()] == [None]


async def test_a_confirmation_never_written_is_counted_once_by_the_retry(tmp_path: Path) -> None:
    """A confirmation the store failed before writing fails the message, and its retry writes
    the sink's answer without calling it again and counts the ticket then: once, not twice."""
    store, clock = LostAnswers(1, before=True), Clock()
    one = replica(tmp_path, store, clock)
    with pytest.raises(StoreUnavailableError):
        await one.process(single())
    assert await one.process(single(receive=2)) == [Action.OPEN]
    assert one.metrics.counter("TicketsCreated", sink="backend") == 1
    assert [e.kind for e in one.backend.effects] == [EffectKind.OPEN]
