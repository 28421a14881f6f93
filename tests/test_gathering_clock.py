"""A group's gathering window follows the claims' clock rules: a window whose end lies further
ahead than the window and CLAIM_CLOCK_SLACK was set while the clock was ahead, and is over
once the clock has stepped back, so the group's first ticket goes out at once (its owner's
retry, another member, a reclaim, the sweep) instead of when the clock catches up; a window set
a few seconds ahead (replicas' clocks disagreeing) still gathers. Injected clocks, in-memory
store."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from factories import T0, alert
from memory_store import MemoryStore
from test_pipeline import Clock, CountingSummariser, FakeSink
from triage.errors import GatheringError
from triage.incidents import Ledger
from triage.incidents.groups import GroupKey
from triage.incidents.lifecycle import Action, Policy
from triage.incidents.schedule import CLAIM_CLOCK_SLACK, gathering_ends
from triage.incidents.store import delivery_owner
from triage.metrics import Metrics
from triage.models import EffectKind
from triage.pipeline import Pipeline
from triage.redact import Redactor

LEASE = timedelta(minutes=2)
HOUR = timedelta(hours=1)
WINDOW = timedelta(seconds=30)
GROUP = GroupKey("g" * 32, "pods", (("alertname", "Crash"),), WINDOW)
FIRST, FIRST_AGAIN = delivery_owner("m1#0", "a"), delivery_owner("m1#0", "b")
OTHER = delivery_owner("m2#0", "a")
#: The clock an hour ahead when the first member fired.
AHEAD = T0 + HOUR


def store() -> MemoryStore:
    return MemoryStore(Policy(), LEASE)


async def gathering_from(incidents: MemoryStore, at: datetime) -> str:
    """The group's first member fired at `at` (the clock then): its first ticket gathers."""
    opened = await incidents.begin(alert("a"), FIRST, at, GROUP)
    assert opened.action is Action.OPEN
    assert opened.after is not None and opened.after.pending is not None
    assert opened.after.pending.not_before == at + WINDOW
    return opened.after.fingerprint


async def test_a_window_set_an_hour_ahead_is_over_after_the_step_back() -> None:
    """The first member fired while the clock was an hour ahead; back at T0, the group no
    longer gathers: its window's end is further ahead than any window set now can be."""
    incidents = store()
    key = await gathering_from(incidents, AHEAD)
    stored = await incidents.get(key)
    assert stored is not None
    assert gathering_ends(stored, T0) is None
    assert gathering_ends(stored, AHEAD) == AHEAD + WINDOW


async def test_a_window_set_a_little_ahead_still_gathers() -> None:
    """Set by a clock ahead by a little less than replicas may disagree: still gathering."""
    incidents = store()
    ahead = T0 + CLAIM_CLOCK_SLACK - timedelta(seconds=1)
    key = await gathering_from(incidents, ahead)
    stored = await incidents.get(key)
    assert stored is not None
    assert gathering_ends(stored, T0) == ahead + WINDOW


async def test_another_member_after_the_step_back_claims_the_first_ticket() -> None:
    """Another member fires after the step back: it takes the group's first ticket as its own
    delivery's claim (no longer a gathering claim nobody holds)."""
    incidents = store()
    await gathering_from(incidents, AHEAD)
    taken = await incidents.begin(alert("b"), OTHER, T0, GROUP)
    assert taken.redo and taken.action is Action.OPEN
    assert taken.after is not None and taken.after.pending is not None
    assert taken.after.pending.owner == OTHER


async def test_the_first_members_reclaim_after_the_step_back_takes_the_open() -> None:
    """The first member's retry, after the step back, reclaims the first ticket for its
    delivery rather than leaving it to a window an hour away."""
    incidents = store()
    key = await gathering_from(incidents, AHEAD)
    reclaimed = await incidents.reclaim(key, FIRST_AGAIN, T0)
    assert reclaimed is not None and reclaimed.after is not None
    assert reclaimed.after.pending is not None
    assert reclaimed.after.pending.owner == FIRST_AGAIN


async def test_the_first_members_retry_is_told_to_wait_no_longer_than_a_window() -> None:
    """Through the ledger: after the step back, the first member's message is not held for
    the hour until the clock catches up; its retry sends the group's first ticket at once."""
    incidents = store()
    clock = Clock()
    clock.now = AHEAD
    sink = FakeSink("backend")
    pipeline = Pipeline(
        Ledger(incidents, clock=clock),
        CountingSummariser(),
        [sink],
        Metrics(),
        redactor=Redactor(),
        policy=Policy(),
    )
    member = alert("a")
    with pytest.raises(GatheringError) as gathering:
        await pipeline.handle(member, FIRST, GROUP)
    assert gathering.value.retry_after_s == pytest.approx(WINDOW.total_seconds())
    clock.now = T0
    await pipeline.handle(member, FIRST_AGAIN, GROUP)
    assert [effect.kind for effect in sink.effects] == [EffectKind.OPEN]


async def test_the_sweep_takes_a_first_ticket_gathering_an_hour_ahead_over() -> None:
    """After the step back the sweep takes over the first ticket whose window (and claim) an
    hour-ahead clock set, and a window set just now is left to gather."""
    incidents = store()
    key = await gathering_from(incidents, AHEAD)
    taken = await incidents.take_over(key, "sweep:host:1:abc", T0)
    assert taken is not None and taken.redo and taken.action is Action.OPEN
    fresh = MemoryStore(Policy(), LEASE)
    await gathering_from(fresh, T0)
    assert await fresh.take_over(key, "sweep:host:1:abc", T0) is None
