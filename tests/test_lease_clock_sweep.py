"""The sweep under a clock that steps, through a real pipeline on the in-memory store: after a
jump forward past the lease it never takes over an effect a worker of its own process is still
carrying out (the effect would go out twice); after a step back it finds, and redoes at once, an
effect a dead worker claimed while the clock was ahead (the index dates it an hour later, when
the clock catches up), and it looks at every incident for that once, not on every pass."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta

import pytest

from factories import T0, alert
from memory_store import MemoryStore
from test_pipeline import LEASE, POLICY, Clock, CountingSummariser
from triage.incidents import Ledger
from triage.incidents.silences import SilenceCache
from triage.incidents.store import ABANDONED_GRACE, CLAIM_CLOCK_SLACK
from triage.metrics import Metrics
from triage.models import EffectKind
from triage.ops.sweep import Sweep
from triage.pipeline import Pipeline
from triage.redact import Redactor
from triage.sinks.base import Applied, Effect

HOUR = timedelta(hours=1)


@dataclass
class FirstCallWaits:
    """A sink whose first call waits for `gate` (a worker in the middle of its effect); every
    other call goes through at once. Every effect it carried out is kept."""

    gate: asyncio.Event = field(default_factory=asyncio.Event)
    effects: list[Effect] = field(default_factory=list)
    calls: int = 0
    name: str = "backend"

    async def apply(self, effect: Effect) -> Applied:
        self.calls += 1
        if self.calls == 1:
            await self.gate.wait()
        self.effects.append(effect)
        return Applied("T-1") if effect.kind is EffectKind.OPEN else Applied()

    async def aclose(self) -> None:
        return None


class IndexReads(MemoryStore):
    """The in-memory store, keeping what the sweep asked its index for: a time (the incidents
    due by then) or None (every incident the index holds)."""

    def __init__(self) -> None:
        super().__init__(POLICY, LEASE)
        self.asked: list[float | None] = []

    async def _due(self, now_s: float | None) -> list[str]:
        self.asked.append(now_s)
        return await super()._due(now_s)


@dataclass
class Daemon:
    store: IndexReads
    clock: Clock
    sink: FirstCallWaits
    pipeline: Pipeline
    sweep: Sweep


def daemon() -> Daemon:
    """One process: a pipeline and its sweep on one store, one clock, one sink."""
    store, clock, sink = IndexReads(), Clock(), FirstCallWaits()
    pipeline = Pipeline(
        Ledger(store, clock=clock),
        CountingSummariser(),
        [sink],
        Metrics(),
        redactor=Redactor(),
        policy=POLICY,
    )
    sweep = Sweep(store, pipeline, SilenceCache(store, 1), None, 5, clock=clock)
    return Daemon(store, clock, sink, pipeline, sweep)


async def until(condition: Callable[[], bool], deadline_s: float = 5.0) -> None:
    """Let the other tasks run until `condition` holds; fails after `deadline_s`."""
    async with asyncio.timeout(deadline_s):
        while not condition():
            await asyncio.sleep(0)


async def test_the_sweep_leaves_an_open_its_process_carries_out_after_a_jump_forward() -> None:
    """A worker is in the middle of an OPEN when the clock jumps an hour past its lease: the
    sweep of the same process leaves the OPEN to it, and the sink gets one OPEN, not two."""
    d = daemon()
    worker = asyncio.create_task(d.pipeline.handle(alert(), "m1#0@a"))
    await until(lambda: d.sink.calls == 1)
    d.clock.now = T0 + LEASE + ABANDONED_GRACE + HOUR
    await d.sweep.once()
    d.sink.gate.set()
    await worker
    assert [effect.kind for effect in d.sink.effects] == [EffectKind.OPEN]
    [incident] = await d.store.incidents()
    assert incident.pending is None and incident.refs == {"backend": "T-1"}


async def test_the_sweep_redoes_at_once_an_open_claimed_by_a_clock_an_hour_ahead() -> None:
    """A worker died holding an OPEN claimed at T0; the clock was an hour ahead and has been
    stepped back. The next pass finds it (the index has it due an hour later) and sends it."""
    d = daemon()
    d.sink.gate.set()
    await d.sweep.once()  # the first pass, at T0: nothing yet
    await d.store.begin(alert(), "m1#0@dead", T0)
    d.clock.now = T0 - HOUR
    await d.sweep.once()
    assert [effect.kind for effect in d.sink.effects] == [EffectKind.OPEN]
    [incident] = await d.store.incidents()
    assert incident.pending is None and incident.refs == {"backend": "T-1"}


@pytest.mark.parametrize("small_step", [timedelta(seconds=10), CLAIM_CLOCK_SLACK])
async def test_the_sweep_looks_at_every_incident_once_after_a_step_back(
    small_step: timedelta,
) -> None:
    """The index is asked for every incident on the first pass and on the one after a step
    back of more than CLAIM_CLOCK_SLACK (no claim can be dated past a lease ahead before),
    then for the due ones again; never for every one after a smaller step."""
    d = daemon()
    later = T0 + timedelta(seconds=5)
    passes = [T0, later, later - small_step, T0 - HOUR, T0 - HOUR + small_step]
    for at in passes:
        d.clock.now = at
        await d.sweep.once()
    everything = None
    expected = [everything, passes[1], passes[2], everything, passes[4]]
    assert d.store.asked == [None if at is None else at.timestamp() for at in expected]
