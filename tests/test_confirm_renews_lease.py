"""A sink's confirmation renews its effect's lease in the same write (`Store.confirm`), and a
confirmation the store refuses (the claim is no longer the worker's) stops the worker before
its next sink (`Work.confirm`). A worker whose first sink answered after its lease ran out, with
nobody taking the effect over meanwhile, still holds the claim: without the renewal another
replica could take the effect over while the next sink's call runs and send it to that sink
a second time.

Run on every store: in memory, SQLite on disk, DynamoDB on moto's server; two replicas (two
pipelines, each its own ledger) share the store and one fake clock."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path

import pytest

from factories import T0, alert
from memory_store import MemoryStore
from moto_speed import loopback_aws_client
from recording_pipeline import POLICY, Summariser
from test_effects_lost_claim import Recorder
from test_pipeline import LEASE, Clock
from triage.incidents.dynamodb import DynamoDBStore, create_table
from triage.incidents.ledger import Ledger
from triage.incidents.sqlite import SQLiteStore
from triage.incidents.store import Store, delivery_owner
from triage.metrics import Metrics
from triage.models import EffectKind
from triage.pipeline import Pipeline
from triage.redact import Redactor


@pytest.fixture(params=["memory", "sqlite", "dynamodb"])
async def store(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Store]:
    """Each test runs once per store."""
    if request.param == "memory":
        yield MemoryStore(POLICY, LEASE)
        return
    if request.param == "sqlite":
        s = SQLiteStore(str(tmp_path / "t.db"), POLICY, LEASE, timedelta(days=30))
        await s.open()
        yield s
        await s.aclose()
        return
    moto_url = request.getfixturevalue("moto_url")
    async with loopback_aws_client("dynamodb", endpoint_url=moto_url) as client:
        await create_table(client, "incidents")
        yield DynamoDBStore(client, "incidents", POLICY, LEASE, timedelta(days=30))


@dataclass
class Rig:
    """One store, one clock, three sinks the replicas share; the backend and GitHub are each
    slower than the lease on their first call."""

    store: Store
    clock: Clock = field(default_factory=Clock)
    backend: Recorder = field(default_factory=lambda: Recorder("backend", slow_first=True))
    github: Recorder = field(default_factory=lambda: Recorder("github", slow_first=True))
    slack: Recorder = field(default_factory=lambda: Recorder("slack"))

    def replica(self) -> Pipeline:
        """A replica: its own ledger (its own `carrying`), on the shared store and clock."""
        sinks = [self.backend, self.github, self.slack]
        return Pipeline(
            Ledger(self.store, clock=self.clock), Summariser(), sinks, Metrics(),
            redactor=Redactor(), policy=POLICY,
        )  # fmt: skip


async def _until_started(sink: Recorder) -> None:
    """Wait until `sink`'s first call has started."""
    async with asyncio.timeout(5):
        while sink.started < 1:
            await asyncio.sleep(0)


async def test_a_confirmation_on_a_lapsed_lease_renews_it_for_the_next_sink(store: Store) -> None:
    """Replica A's backend answers a minute after the lease ran out (nobody took the open
    over); its confirmation renews the lease, so replica B, whose alert arrives while A's
    GitHub call runs, counts it as a repeat instead of taking the open over: GitHub and Slack
    each get one OPEN, and A finishes the effect."""
    rig = Rig(store)
    a, b = rig.replica(), rig.replica()
    slow = asyncio.create_task(a.handle(alert(), "m1#0@a"))
    await _until_started(rig.backend)
    rig.clock.now = T0 + LEASE + timedelta(minutes=1)
    rig.backend.gate.set()
    await _until_started(rig.github)
    rig.clock.now = T0 + LEASE + timedelta(minutes=2)
    await b.handle(alert(minutes=3), "m2#0@b")  # a repeat: counted, the open left to A
    rig.github.gate.set()
    async with asyncio.timeout(5):
        await slow
    assert [e.kind for e in rig.github.effects] == [EffectKind.OPEN]
    assert [e.kind for e in rig.slack.effects] == [EffectKind.OPEN]
    stored = await store.get(alert().fingerprint)
    assert stored is not None and stored.pending is None
    assert dict(stored.refs) == {"backend": "backend-1", "github": "github-1", "slack": "slack-1"}


async def test_confirm_renews_the_lease_and_says_whether_it_wrote(store: Store) -> None:
    """`Store.confirm` by the holder dates the lease a lease from its time (never earlier than
    it was) and answers True; by a worker that no longer holds the claim it writes nothing
    and answers False."""
    owner = delivery_owner("m1#0", "a")
    claimed = await store.begin(alert(), owner, T0)
    assert claimed.after is not None and claimed.after.pending is not None
    fingerprint = claimed.after.fingerprint
    late = T0 + LEASE + timedelta(minutes=1)
    assert await store.confirm(fingerprint, owner, "backend", "b-1", now=late) is True
    renewed = await store.get(fingerprint)
    assert renewed is not None and renewed.pending is not None
    assert renewed.pending.until == late + LEASE
    assert await store.confirm(fingerprint, owner, "github", "g-1", now=T0) is True
    again = await store.get(fingerprint)
    assert again is not None and again.pending is not None
    assert again.pending.until == late + LEASE  # an earlier time never shortens it
    other = delivery_owner("m2#0", "b")
    assert await store.confirm(fingerprint, other, "slack", "s-1", now=late) is False
    assert await store.get(fingerprint) == again


async def test_a_claim_released_after_a_renewal_is_taken_over_at_once(store: Store) -> None:
    """A claim given back on failure after a confirmation renewed its lease ends at the
    renewal's time, already past: a retry takes it over at once, not a lease later."""
    owner = delivery_owner("m1#0", "a")
    claimed = await store.begin(alert(), owner, T0)
    assert claimed.after is not None
    fingerprint = claimed.after.fingerprint
    confirmed_at = T0 + timedelta(seconds=30)
    await store.confirm(fingerprint, owner, "backend", "b-1", now=confirmed_at)
    await store.release(fingerprint, owner, now=confirmed_at + timedelta(seconds=5))
    released = await store.get(fingerprint)
    assert released is not None and released.pending is not None
    assert released.pending.until == confirmed_at
    retry = delivery_owner("m1#0", "b")
    taken = await store.reclaim(fingerprint, retry, confirmed_at + timedelta(seconds=6))
    assert taken is not None and taken.after is not None and taken.after.pending is not None
    assert taken.after.pending.owner == retry
