"""The pipeline's own ways of taking a claim over, under a clock that steps: finishing a close a
moved alert's own incident was left with (`Moves.finish_close`), and an operator's close by hand
(`Pipeline.close`). Each takes over a dead holder's claim dated an hour ahead at once, as
`begin` does, and never one a worker of this process is carrying out after a jump forward."""

from __future__ import annotations

import asyncio
import contextlib
from datetime import timedelta

import pytest

from factories import T0, alert
from test_lease_clock_sweep import Daemon, daemon, until
from triage.errors import StoreBusyError
from triage.incidents.store import ABANDONED_GRACE, delivery_owner
from triage.models import EffectKind, Status

HOUR = timedelta(hours=1)
OPENER, CLOSER = delivery_owner("m1#0", "a"), delivery_owner("m2#0", "a")
#: The firing whose routes changed: it looks at its own incident, which a resolve closed.
MOVED, MOVED_OWNER = alert(minutes=1), delivery_owner("m3#0", "b")


async def opened(d: Daemon) -> str:
    """An open incident whose OPEN reached the sink as T-1 (written to the store, no sink
    call); its fingerprint."""
    opening = await d.store.begin(alert(minutes=-10), OPENER, T0 - timedelta(minutes=10))
    await d.store.confirm(opening.fingerprint, OPENER, "backend", "T-1", finish=True)
    return opening.fingerprint


def kinds(d: Daemon) -> list[EffectKind]:
    return [effect.kind for effect in d.sink.effects]


async def test_finish_close_takes_a_dead_close_from_a_clock_an_hour_ahead() -> None:
    """A resolve's worker died holding the CLOSE it claimed at T0, then the clock stepped
    back an hour: the moved firing finishes that close now (as `begin` takes a claim dated so
    far ahead over), not holding its message busy for an hour."""
    d = daemon()
    d.sink.gate.set()
    fingerprint = await opened(d)
    assert (await d.store.begin(alert(status=Status.RESOLVED), CLOSER, T0)).action.effect
    d.clock.now = T0 - HOUR
    own = await d.store.get(fingerprint)
    assert own is not None
    await d.pipeline.moves.finish_close(MOVED, MOVED_OWNER, own, None)
    assert kinds(d) == [EffectKind.CLOSE]
    finished = await d.store.get(fingerprint)
    assert finished is not None and finished.pending is None


async def test_finish_close_leaves_a_close_carried_out_here_after_a_jump_forward() -> None:
    """A worker is in the middle of the resolve's CLOSE when the clock jumps an hour past its
    lease: the moved firing does not take the close over (waiting for it, or leaving it to
    that worker), and the sink is told to close once."""
    d = daemon()
    fingerprint = await opened(d)
    worker = asyncio.create_task(d.pipeline.handle(alert(status=Status.RESOLVED), CLOSER))
    await until(lambda: d.sink.calls == 1)
    d.clock.now = T0 + HOUR
    own = await d.store.get(fingerprint)
    assert own is not None and own.pending is not None
    # Waiting for the worker (busy) is as good as leaving the close to it.
    with contextlib.suppress(StoreBusyError):
        await d.pipeline.moves.finish_close(MOVED, MOVED_OWNER, own, None)
    held = await d.store.get(fingerprint)
    assert held is not None and held.pending is not None and held.pending.owner == CLOSER
    d.sink.gate.set()
    await worker
    assert kinds(d) == [EffectKind.CLOSE]


async def test_a_close_by_hand_waits_for_an_open_carried_out_here_after_a_jump() -> None:
    """A worker is in the middle of an OPEN when the clock jumps past its lease and the grace:
    an operator's close in the same process waits for it (replaced, the OPEN would reach the
    sink after the CLOSE, and the ticket stay open)."""
    d = daemon()
    worker = asyncio.create_task(d.pipeline.handle(alert(), OPENER))
    await until(lambda: d.sink.calls == 1)
    d.clock.now = T0 + d.store.lease + ABANDONED_GRACE + HOUR
    [incident] = await d.store.incidents()
    try:
        with pytest.raises(StoreBusyError):
            await d.pipeline.close(incident.fingerprint, "cli:op", "rolled back", "op")
    finally:
        d.sink.gate.set()
        await worker
    assert kinds(d) == [EffectKind.OPEN]


async def test_a_close_by_hand_replaces_a_dead_open_from_a_clock_an_hour_ahead() -> None:
    """A worker died holding an OPEN it had sent to the sink, claimed at T0; the clock was an
    hour ahead and has been stepped back: the operator's close goes out now."""
    d = daemon()
    d.sink.gate.set()
    fingerprint = (await d.store.begin(alert(), OPENER, T0)).fingerprint
    await d.store.confirm(fingerprint, OPENER, "backend", "T-1")
    d.clock.now = T0 - HOUR
    action = await d.pipeline.close(fingerprint, "cli:op", "rolled back", "op")
    assert str(action) == "close" and kinds(d) == [EffectKind.CLOSE]
