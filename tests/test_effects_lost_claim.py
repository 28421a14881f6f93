"""A worker whose claim is lost while a sink call runs (the call outlasts the lease, and another
replica takes the effect over) calls none of the effect's later sinks (`Work.confirm`: the
sink's confirmation is refused):
the effect went out, or goes out, from its new holder, and a second post to a sink without
an idempotency key (Slack) is a duplicate people see. A worker whose lease ran out but whose
claim nobody took goes on as before.

Two replicas (two pipelines, each its own ledger) on one in-memory store and one fake clock,
with recording sinks named as the configured ones."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

import pytest
import structlog

from factories import T0, alert
from memory_store import MemoryStore
from recording_pipeline import POLICY, Summariser
from test_pipeline import LEASE, Clock
from triage.errors import StoreBusyError, StoreUnavailableError
from triage.incidents.ledger import Ledger
from triage.incidents.records import Record
from triage.incidents.store import R, RecordChange
from triage.metrics import Metrics
from triage.models import EffectKind
from triage.pipeline import Pipeline
from triage.redact import Redactor
from triage.sinks.base import Applied, Effect


@dataclass
class Recorder:
    """A sink that keeps every effect it is sent and answers an OPEN with `<name>-<n>`; with
    `slow_first`, its first call waits for `gate` (a backend slower than the lease)."""

    name: str
    slow_first: bool = False
    gate: asyncio.Event = field(default_factory=asyncio.Event)
    effects: list[Effect] = field(default_factory=list)
    started: int = 0

    async def apply(self, effect: Effect) -> Applied:
        self.started += 1
        if self.slow_first and self.started == 1:
            await self.gate.wait()
        self.effects.append(effect)
        return Applied(f"{self.name}-{len(self.effects)}")

    async def aclose(self) -> None:
        return None


@dataclass
class Rig:
    """One store, one clock, three sinks shared by the replicas (they call the same services)."""

    store: MemoryStore = field(default_factory=lambda: MemoryStore(POLICY, LEASE))
    clock: Clock = field(default_factory=Clock)
    backend: Recorder = field(default_factory=lambda: Recorder("backend", slow_first=True))
    github: Recorder = field(default_factory=lambda: Recorder("github"))
    slack: Recorder = field(default_factory=lambda: Recorder("slack"))

    def replica(self) -> Pipeline:
        """A replica: its own ledger (its own `carrying`), on the shared store and clock."""
        sinks = [self.backend, self.github, self.slack]
        return Pipeline(
            Ledger(self.store, clock=self.clock), Summariser(), sinks, Metrics(),
            redactor=Redactor(), policy=POLICY,
        )  # fmt: skip


async def _until_backend_called(rig: Rig) -> None:
    """Wait until the backend's first (slow) call has started."""
    async with asyncio.timeout(5):
        while rig.backend.started < 1:
            await asyncio.sleep(0)


async def test_a_worker_whose_claim_was_taken_during_a_sink_call_calls_no_later_sink() -> None:
    """Replica A's backend call outlasts the lease; replica B takes the OPEN over and sends it
    to every sink. When A's backend answers, A calls neither GitHub nor Slack (each gets one
    OPEN, B's), overwrites none of B's confirmations, fails as a busy incident does, and one
    line says why it stopped, and before which sink."""
    rig = Rig()
    a, b = rig.replica(), rig.replica()
    slow = asyncio.create_task(a.handle(alert(), "m1#0@a"))
    await _until_backend_called(rig)
    rig.clock.now = T0 + LEASE + timedelta(minutes=1)
    await b.handle(alert(minutes=3), "m2#0@b")  # takes the lapsed OPEN over and finishes it
    finished_by_b = await rig.store.get(alert().fingerprint)
    assert finished_by_b is not None and finished_by_b.pending is None
    merged = [structlog.contextvars.merge_contextvars]
    with structlog.testing.capture_logs(processors=merged) as logs:
        rig.backend.gate.set()
        async with asyncio.timeout(5):
            (outcome,) = await asyncio.gather(slow, return_exceptions=True)
    assert [e.kind for e in rig.github.effects] == [EffectKind.OPEN]
    assert [e.kind for e in rig.slack.effects] == [EffectKind.OPEN]
    assert isinstance(outcome, StoreBusyError)
    assert await rig.store.get(alert().fingerprint) == finished_by_b
    stopped = [line for line in logs if line["event"] == "store.lease_lost"]
    assert [line.get("stopped_before") for line in stopped] == ["github"]


async def test_a_worker_whose_lease_ran_out_unclaimed_goes_on_to_its_later_sinks() -> None:
    """Replica A's backend call outlasts the lease but nobody takes the effect over: A still
    holds the claim, so it goes on to GitHub and Slack and finishes the effect, each sink
    confirmed with its own reference."""
    rig = Rig()
    a = rig.replica()
    slow = asyncio.create_task(a.handle(alert(), "m1#0@a"))
    await _until_backend_called(rig)
    rig.clock.now = T0 + LEASE + timedelta(minutes=1)
    rig.backend.gate.set()
    async with asyncio.timeout(5):
        await slow
    assert [len(s.effects) for s in (rig.backend, rig.github, rig.slack)] == [1, 1, 1]
    stored = await rig.store.get(alert().fingerprint)
    assert stored is not None and stored.pending is None
    assert dict(stored.refs) == {"backend": "backend-1", "github": "github-1", "slack": "slack-1"}


class CountingStore(MemoryStore):
    """The in-memory store, counting the records it reads (a conditional write reads its
    record first)."""

    def __init__(self) -> None:
        super().__init__(POLICY, LEASE)
        self.reads = 0

    async def _get(self, kind: str, key: str) -> Record | None:
        self.reads += 1
        return await super()._get(kind, key)

    async def _update(self, kind: str, key: str, change: RecordChange[R]) -> R:
        self.reads += 1
        return await super()._update(kind, key, change)


async def _reads_of_an_open(sinks: int) -> int:
    """The records read (alone or to write) while one prompt alert opens its incident on the
    first `sinks` sinks, less one confirmation's write per sink."""
    store = CountingStore()
    rig = Rig(store=store, backend=Recorder("backend"))
    chosen = [rig.backend, rig.github, rig.slack][:sinks]
    pipeline = Pipeline(
        Ledger(store, clock=rig.clock), Summariser(), chosen, Metrics(), redactor=Redactor(),
        policy=POLICY,
    )  # fmt: skip
    await pipeline.handle(alert(), "m1#0@a")
    assert all(len(sink.effects) == 1 for sink in chosen)
    return store.reads - sinks


async def test_prompt_sinks_after_the_first_cost_no_store_read() -> None:
    """An effect whose sinks answer well within the lease reads the store no more for three
    sinks than for one: each sink's confirmation says whether the claim still holds."""
    assert await _reads_of_an_open(3) == await _reads_of_an_open(1)


class TakenOverWhileConfirming(MemoryStore):
    """The in-memory store whose first confirmation goes unanswered and unwritten, while
    `meanwhile` runs (another replica takes the effect over and finishes it)."""

    def __init__(self) -> None:
        super().__init__(POLICY, LEASE)
        self.meanwhile: Callable[[], Awaitable[None]] | None = None

    async def confirm(self, *args: Any, **kwargs: Any) -> bool:
        meanwhile, self.meanwhile = self.meanwhile, None
        if meanwhile is None:
            return await super().confirm(*args, **kwargs)
        await meanwhile()
        raise StoreUnavailableError("injected: the confirmation's answer was lost")


async def test_an_unanswered_confirmation_of_an_effect_finished_by_another_stops_the_worker() -> (
    None
):
    """Replica A's backend confirmation goes unanswered, and reading the incident back finds
    the effect over before A's last sink (replica B took it over and finished it): A calls
    neither GitHub nor Slack again, and fails as a busy incident does."""
    store = TakenOverWhileConfirming()
    rig = Rig(store=store, backend=Recorder("backend"))
    a, b = rig.replica(), rig.replica()

    async def b_takes_over() -> None:
        rig.clock.now = T0 + LEASE + timedelta(minutes=1)
        await b.handle(alert(minutes=3), "m2#0@b")

    store.meanwhile = b_takes_over
    with pytest.raises(StoreBusyError):
        await a.handle(alert(), "m1#0@a")
    assert [e.kind for e in rig.github.effects] == [EffectKind.OPEN]
    assert [e.kind for e in rig.slack.effects] == [EffectKind.OPEN]
