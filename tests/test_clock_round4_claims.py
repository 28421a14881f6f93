"""An effect's claim under a clock that steps. A jump forward past the lease never lets a
claim this process is still carrying out be taken over (it would be sent twice); a claim
dated further ahead than a lease can be (made while the clock was ahead, its holder dead) is
taken over at once, instead of holding its incident busy until the clock catches up. Run on
the in-memory store: the planning is the same code for every backend."""

from __future__ import annotations

from datetime import timedelta

import pytest

from factories import T0, alert
from memory_store import MemoryStore
from triage.errors import StoreBusyError
from triage.incidents.lifecycle import Action, Policy
from triage.incidents.store import CLAIM_CLOCK_SLACK, delivery_owner
from triage.models import Status

LEASE = timedelta(minutes=2)
HOUR = timedelta(hours=1)
#: Two alerts' deliveries, and a second delivery of the first alert's message.
FIRST, SECOND = delivery_owner("m1#0", "a"), delivery_owner("m2#0", "a")
FIRST_AGAIN = delivery_owner("m1#0", "b")
#: The incident resolved: an effect of its own, which waits while another is in progress.
RESOLVED = alert(status=Status.RESOLVED, minutes=1)


def store() -> MemoryStore:
    return MemoryStore(Policy(), LEASE)


async def test_a_claim_carried_out_here_is_not_taken_over_after_a_jump_forward() -> None:
    """The clock jumps past the lease while this process still carries the OPEN out: another
    alert of the incident (a repeat due an update by now, a resolve) waits for it, never
    handed the OPEN to send again."""
    incidents = store()
    await incidents.begin(alert(), FIRST, T0)
    later = T0 + LEASE + HOUR
    for event, owner in ((alert(minutes=61), SECOND), (RESOLVED, delivery_owner("m3#0", "a"))):
        with pytest.raises(StoreBusyError):
            await incidents.begin(event, owner, later, carrying={FIRST})


async def test_another_delivery_waits_for_one_carried_out_here_after_a_jump_forward() -> None:
    """Another delivery of the message whose OPEN this process still carries out, after the
    clock jumped past the lease: it waits, and does not take the claim as its own."""
    incidents = store()
    await incidents.begin(alert(), FIRST, T0)
    with pytest.raises(StoreBusyError, match="another delivery"):
        await incidents.begin(alert(), FIRST_AGAIN, T0 + LEASE + HOUR, carrying={FIRST})


async def test_a_claim_not_carried_out_here_is_taken_over_once_its_lease_has_ended() -> None:
    """A claim no worker of this process carries out (its holder elsewhere died) is still
    taken over once its lease has ended, with the same idempotency key."""
    incidents = store()
    first = await incidents.begin(alert(), FIRST, T0)
    redo = await incidents.begin(
        alert(minutes=3), SECOND, T0 + LEASE + timedelta(seconds=1), carrying={FIRST_AGAIN}
    )
    assert redo.action is Action.OPEN and redo.redo
    assert redo.idempotency_key == first.idempotency_key


async def test_a_dead_holders_claim_from_a_clock_an_hour_ahead_is_taken_over_at_once() -> None:
    """Claimed at T0, then the clock stepped back an hour: the claim ends an hour and a lease
    from now, more than any live claim can, so another alert takes it over now."""
    incidents = store()
    first = await incidents.begin(alert(), FIRST, T0)
    redo = await incidents.begin(alert(minutes=3), SECOND, T0 - HOUR + timedelta(seconds=30))
    assert redo.action is Action.OPEN and redo.redo
    assert redo.idempotency_key == first.idempotency_key
    assert redo.after is not None and redo.after.pending is not None
    assert redo.after.pending.owner == SECOND


async def test_another_delivery_takes_over_a_claim_from_a_clock_an_hour_ahead() -> None:
    """The message's redelivery finds its own alert's claim made an hour ahead of the clock
    as it now reads (the delivery that made it died): it takes the claim as its own."""
    incidents = store()
    await incidents.begin(alert(), FIRST, T0)
    again = await incidents.begin(alert(), FIRST_AGAIN, T0 - HOUR + timedelta(seconds=30))
    assert again.action is Action.OPEN and not again.redo
    assert again.after is not None and again.after.pending is not None
    assert again.after.pending.owner == FIRST_AGAIN


async def test_a_claim_from_a_clock_slightly_ahead_is_still_busy() -> None:
    """Replicas whose clocks disagree by seconds (less than CLAIM_CLOCK_SLACK) see a fresh
    claim as live: the other alert waits, it does not send the OPEN beside the holder."""
    incidents = store()
    await incidents.begin(alert(), FIRST, T0)
    behind = T0 - CLAIM_CLOCK_SLACK + timedelta(seconds=1)
    repeat = await incidents.begin(alert(minutes=1), SECOND, behind)
    assert repeat.action is Action.COUNT and not repeat.redo
    with pytest.raises(StoreBusyError):
        await incidents.begin(RESOLVED, delivery_owner("m3#0", "a"), behind)
    with pytest.raises(StoreBusyError, match="another delivery"):
        await incidents.begin(alert(), FIRST_AGAIN, behind)


async def test_a_claim_from_a_clock_ahead_carried_out_here_is_not_taken_over() -> None:
    """The clock stepped back an hour while this process carries the OPEN out: its claim reads
    as stale, but this process knows it is live, so another alert is counted beside it."""
    incidents = store()
    await incidents.begin(alert(), FIRST, T0)
    repeat = await incidents.begin(alert(minutes=3), SECOND, T0 - HOUR, carrying={FIRST})
    assert repeat.action is Action.COUNT and not repeat.redo
