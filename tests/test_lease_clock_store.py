"""The store's other ways of taking a claim over follow `begin`'s clock rules: a message's retry
finishing a claim its alert gave back (`reclaim`), the sweep taking an abandoned effect over
(`take_over`, `sweep_may_take`) and an operator's close by hand (`close`). None takes over a
claim this process is carrying out after the clock jumped forward past its lease (its effect
would go out twice); each takes over a claim dated further ahead than any live claim can be (made
while the clock was ahead, its holder dead) at once, instead of holding the incident busy until
the clock catches up; a claim a few seconds ahead (replicas' clocks disagreeing) stays live.
Run on the in-memory store: the planning is the same code for every backend."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from factories import T0, alert, view
from memory_store import MemoryStore
from triage.errors import StoreBusyError
from triage.incidents.codec import view_to_json
from triage.incidents.lifecycle import Action, Policy, State
from triage.incidents.store import ABANDONED_GRACE, CLAIM_CLOCK_SLACK, delivery_owner
from triage.models import EffectKind, Status

LEASE = timedelta(minutes=2)
HOUR = timedelta(hours=1)
#: One delivery of a message's alert, and another delivery of the same message.
FIRST, FIRST_AGAIN = delivery_owner("m1#0", "a"), delivery_owner("m1#0", "b")
#: The sweep's claim owner.
SWEEP = "sweep:host:1:abc"
#: Past the lease and the grace the sweep gives a message's retry, by an hour.
JUMPED = T0 + LEASE + ABANDONED_GRACE + HOUR
#: The clock stepped back an hour after the claim at T0.
STEPPED_BACK = T0 - HOUR
#: Behind the claim's clock by a little less than replicas may disagree.
SLIGHTLY_BEHIND = T0 - CLAIM_CLOCK_SLACK + timedelta(seconds=1)
NOTE = view_to_json(view(alert(status=Status.RESOLVED)))


def store() -> MemoryStore:
    return MemoryStore(Policy(), LEASE)


async def given_back(incidents: MemoryStore) -> str:
    """FIRST claimed the OPEN at T0 and gave it back on failure; its key."""
    opening = await incidents.begin(alert(), FIRST, T0)
    await incidents.release(opening.fingerprint, FIRST, reason="backend unavailable", now=T0)
    return opening.fingerprint


async def held_by_first(incidents: MemoryStore, at: datetime = T0) -> str:
    """FIRST claimed the OPEN at `at` and holds it (not given back); its key."""
    return (await incidents.begin(alert(), FIRST, at)).fingerprint


async def holder(incidents: MemoryStore, key: str) -> str:
    stored = await incidents.get(key)
    assert stored is not None and stored.pending is not None
    return stored.pending.owner


# --- reclaim: a message's retry finishing what its alert gave back -----------------------------


async def test_reclaim_leaves_a_claim_carried_out_here_after_a_jump_forward() -> None:
    """Another delivery of the message holds the OPEN it took back and this process carries
    it out; after a jump past the lease, a third delivery's `reclaim` waits for it, never
    taking it over to send it again."""
    incidents = store()
    key = await given_back(incidents)
    assert await incidents.reclaim(key, FIRST_AGAIN, T0) is not None
    third = delivery_owner("m1#0", "c")
    with pytest.raises(StoreBusyError, match="another delivery"):
        await incidents.reclaim(key, third, JUMPED, carrying={FIRST_AGAIN})
    assert await holder(incidents, key) == FIRST_AGAIN


async def test_reclaim_takes_a_given_back_claim_from_a_clock_an_hour_ahead() -> None:
    """Given back at T0, then the clock stepped back an hour: the retry's `reclaim` takes the
    claim now (as `begin` would), not an hour later when the clock catches up."""
    incidents = store()
    key = await given_back(incidents)
    taken = await incidents.reclaim(key, FIRST_AGAIN, STEPPED_BACK)
    assert taken is not None and taken.action is Action.OPEN and taken.redo
    assert await holder(incidents, key) == FIRST_AGAIN


async def test_reclaim_takes_a_live_claim_from_a_clock_an_hour_ahead() -> None:
    """A delivery that died holding its claim, made an hour ahead of the clock as it now
    reads: another delivery's `reclaim` takes it at once."""
    incidents = store()
    key = await held_by_first(incidents)
    taken = await incidents.reclaim(key, FIRST_AGAIN, STEPPED_BACK)
    assert taken is not None and taken.redo
    assert await holder(incidents, key) == FIRST_AGAIN


async def test_reclaim_waits_for_a_claim_from_a_clock_slightly_ahead() -> None:
    """A live claim from a clock a few seconds ahead (within CLAIM_CLOCK_SLACK) is still
    another delivery's: `reclaim` waits, as `begin` does."""
    incidents = store()
    key = await held_by_first(incidents)
    with pytest.raises(StoreBusyError, match="another delivery"):
        await incidents.reclaim(key, FIRST_AGAIN, SLIGHTLY_BEHIND)
    assert await holder(incidents, key) == FIRST


async def test_reclaim_takes_a_claim_not_carried_out_here_once_its_lease_ended() -> None:
    """A claim no worker of this process carries out is taken once its lease has ended."""
    incidents = store()
    key = await held_by_first(incidents)
    taken = await incidents.reclaim(
        key, FIRST_AGAIN, T0 + LEASE + timedelta(seconds=1), carrying={"m9#0@z"}
    )
    assert taken is not None and await holder(incidents, key) == FIRST_AGAIN


# --- take_over: the sweep redoing an abandoned effect --------------------------------------------


async def test_the_sweep_leaves_a_claim_carried_out_here_after_a_jump_forward() -> None:
    """The clock jumps past the lease and the grace while this process carries the OPEN out:
    the sweep neither counts it as its to take nor takes it over."""
    incidents = store()
    key = await held_by_first(incidents)
    stored = await incidents.get(key)
    assert stored is not None and stored.pending is not None
    assert not incidents.sweep_may_take(stored.pending, JUMPED, {FIRST})
    assert await incidents.take_over(key, SWEEP, JUMPED, carrying={FIRST}) is None
    assert await holder(incidents, key) == FIRST


async def test_the_sweep_takes_over_a_claim_from_a_clock_an_hour_ahead() -> None:
    """A claim its dead holder made an hour ahead of the clock as it now reads: the sweep
    takes it over now, as `begin` would, with the same idempotency key."""
    incidents = store()
    opening = await incidents.begin(alert(), FIRST, T0)
    stored = await incidents.get(opening.fingerprint)
    assert stored is not None and stored.pending is not None
    assert incidents.sweep_may_take(stored.pending, STEPPED_BACK, frozenset())
    redo = await incidents.take_over(opening.fingerprint, SWEEP, STEPPED_BACK)
    assert redo is not None and redo.redo and redo.action is Action.OPEN
    assert redo.idempotency_key == opening.idempotency_key


async def test_the_sweep_takes_over_a_failed_effect_from_a_clock_an_hour_ahead() -> None:
    """An effect given back at T0 waits 30 s for the sweep's next try; the clock stepped back
    an hour since: the sweep tries it now, not in an hour and 30 s."""
    incidents = store()
    key = await given_back(incidents)
    assert await incidents.take_over(key, SWEEP, STEPPED_BACK) is not None
    assert await holder(incidents, key) == SWEEP


async def test_the_sweep_leaves_a_claim_from_a_clock_slightly_ahead() -> None:
    """A live claim a few seconds ahead of this clock (within CLAIM_CLOCK_SLACK) is left."""
    incidents = store()
    key = await held_by_first(incidents)
    assert await incidents.take_over(key, SWEEP, SLIGHTLY_BEHIND) is None
    assert await holder(incidents, key) == FIRST


async def test_the_sweep_still_gives_a_message_its_grace_after_the_lease() -> None:
    """Past its lease but within the grace a message's own retry has, an effect a message's
    alert claimed is not the sweep's yet; after the grace, it is."""
    incidents = store()
    key = await held_by_first(incidents)
    within = T0 + LEASE + ABANDONED_GRACE - timedelta(seconds=1)
    assert await incidents.take_over(key, SWEEP, within) is None
    assert await incidents.take_over(key, SWEEP, within + timedelta(seconds=2)) is not None


# --- close: an operator's close by hand ----------------------------------------------------------


async def test_a_close_by_hand_waits_for_an_effect_carried_out_here_after_a_jump() -> None:
    """The clock jumps past the lease while this process carries the OPEN out: a close by
    hand waits for it, not replacing it (the open would reach the sink after the close)."""
    incidents = store()
    key = await held_by_first(incidents)
    with pytest.raises(StoreBusyError, match="in progress"):
        await incidents.close(key, "cli:op", JUMPED, NOTE, carrying={FIRST})
    assert await holder(incidents, key) == FIRST


async def test_a_close_by_hand_replaces_a_dead_claim_from_a_clock_an_hour_ahead() -> None:
    """An OPEN its dead holder claimed (and sent to one sink) an hour ahead of the clock as it now reads: the close
    by hand replaces it now, as `begin` would take it over, not in an hour."""
    fresh = store()
    key = await held_by_first(fresh)
    await fresh.confirm(key, FIRST, "backend", "T-1")  # the OPEN reached a sink, then died
    closed = await fresh.close(key, "cli:op", STEPPED_BACK, NOTE)
    assert closed.action is Action.CLOSE
    after = await fresh.get(key)
    assert after is not None and after.state is State.CLOSED
    assert after.pending is not None and after.pending.kind is EffectKind.CLOSE
    assert after.pending.owner == "cli:op"


async def test_a_close_by_hand_waits_for_a_claim_from_a_clock_slightly_ahead() -> None:
    """A live claim a few seconds ahead (within CLAIM_CLOCK_SLACK): the close waits."""
    incidents = store()
    key = await held_by_first(incidents)
    with pytest.raises(StoreBusyError, match="in progress"):
        await incidents.close(key, "cli:op", SLIGHTLY_BEHIND, NOTE)
    assert await holder(incidents, key) == FIRST
