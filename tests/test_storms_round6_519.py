"""Round 6 (helper 519): storms, flapping and priorities. A person's priority change on a
flapping incident whose close is held reaches its ticket while the close still goes out when
its quiet period ends; the real pipeline and sweep on the in-memory store (`test_silences.Rig`),
the flapping check of `test_flap_damping` (fires at each whole minute, resolves half a minute
later; the fifth cycle's resolve, at minute 4.5, is held until 64.5)."""

from __future__ import annotations

import pytest

from factories import alert
from test_flap_damping import _flap
from test_pipeline import LEASE
from test_redteam_round4_storms import Cluster, pod, webhook
from test_silences import Rig
from triage.errors import StoreBusyError, TriageError
from triage.incidents import Action
from triage.incidents.lifecycle import FLAP_HOLD, Incident, Pending, State, replace_incident
from triage.models import Alert, EffectKind, Priority

#: When the held close of `_flap(r, 5)` is due: its last resolve (4.5) plus the reopen window.
DUE = 4.5 + 60

#: Until `store._drops_held_close` lets a person's change take a held close's place (helper
#: 519's diff to store.py, helper 515's file), the change waits for the held close (busy).
NEEDS_STORE_DIFF = pytest.mark.xfail(
    strict=True,
    reason="store._drops_held_close still makes a priority change wait for a held close",
)


def changed(minutes: float, priority: Priority) -> Alert:
    """A person's change of `api-5xx`'s priority to `priority` in its source (PagerDuty's
    `incident.priority_updated`), made at `minutes`."""
    return alert(minutes=minutes, priority=priority).model_copy(update={"priority_changed": True})


async def change_priority(r: Rig, minutes: float, priority: Priority) -> Action:
    r.clock.at(minutes)
    return await r.pipeline.handle(changed(minutes, priority), f"change{minutes}")


@NEEDS_STORE_DIFF
async def test_a_priority_change_while_a_flapping_close_is_held_reaches_the_ticket() -> None:
    """A person raises the priority of a flapping incident whose close is held: one update at
    the new priority goes out at once, the close stays held with its due time, and goes out
    once, on time, with the held close's note; the incident is listed closing as before."""
    r = Rig()
    await _flap(r, 5, sweeps=0)
    [damped] = await r.store.incidents()
    due = damped.close_held_until
    assert due is not None
    assert await change_priority(r, 10, Priority.CRITICAL) is Action.UPDATE
    assert r.sink.kinds()[7:] == ["update"]
    assert r.sink.effects[-1].ticket.priority is Priority.CRITICAL
    [stored] = await r.store.incidents()
    assert stored.state is State.CLOSED and stored.close_held_until == due
    assert stored.pending is not None and stored.pending.owner == FLAP_HOLD
    assert stored.ticket is not None and stored.ticket.priority is Priority.CRITICAL
    r.clock.at(DUE - 1)
    await r.sweep().once()
    assert r.sink.kinds()[7:] == ["update"]
    r.clock.at(DUE)
    await r.sweep("sweep-a").once()
    await r.sweep("sweep-b").once()
    assert r.sink.kinds()[7:] == ["update", "close"]
    close = r.sink.effects[-1]
    assert "kept resolving and firing again" in close.alert.title
    [closed] = await r.store.incidents()
    assert closed.pending is None and closed.close_held_until is None


@NEEDS_STORE_DIFF
async def test_a_priority_change_then_a_firing_in_the_wait_is_counted_with_no_effect() -> None:
    """After a person's change went out while the close was held, a firing in the wait is
    still counted with no effect (no reopen) and drops the held close, as with no change."""
    r = Rig()
    await _flap(r, 5, sweeps=0)
    assert await change_priority(r, 10, Priority.LOW) is Action.UPDATE
    assert await r.send(11) is Action.COUNT
    assert r.sink.kinds()[7:] == ["update"]
    [stored] = await r.store.incidents()
    assert stored.state is State.OPEN and stored.pending is None
    assert stored.ticket is not None and stored.ticket.priority is Priority.LOW
    r.clock.at(DUE + 1)
    await r.sweep().once()
    assert r.sink.kinds()[7:] == ["update"]


@NEEDS_STORE_DIFF
async def test_a_held_close_updated_by_a_priority_change_that_failed_still_closes() -> None:
    """The sink fails the person's change: the update is given back; the sweep tries it again
    and, after it, the held close goes out once at its due time (neither effect is lost)."""
    r = Rig()
    await _flap(r, 5, sweeps=0)
    r.sink.failures = 1
    r.clock.at(10)
    with pytest.raises(TriageError):
        await r.pipeline.handle(changed(10, Priority.CRITICAL), "change10")
    r.clock.at(12)
    await r.sweep().once()
    assert r.sink.kinds()[7:] == ["update"]
    [stored] = await r.store.incidents()
    assert stored.pending is not None and stored.pending.kind is EffectKind.CLOSE
    r.clock.at(DUE)
    await r.sweep().once()
    assert r.sink.kinds()[7:] == ["update", "close"]


# --- A count written on an attempt that then waited for a busy incident ----------------------


async def hold(c: Cluster, title: str, holding: bool) -> None:
    """Another worker takes (`holding`) or finishes an effect of the incident whose title
    holds `title`."""
    [incident] = [i for i in await c.store.incidents() if title in i.title]
    pending = Pending(EffectKind.UPDATE, "other#0@d", c.clock.now + LEASE, 9)

    def change(stored: Incident | None) -> tuple[Incident, None]:
        assert stored is not None
        taken = pending if holding else None
        return replace_incident(stored, pending=taken, version=stored.version + 1), None

    await c.store._transact(incident.fingerprint, change)


async def test_a_count_kept_across_a_storm_longer_than_the_counted_ids_is_not_counted_twice() -> (
    None
):
    """A message of two pods' repeats: pod 0's is counted, pod 1's incident is busy, so the
    message is held. While it waits, a storm of 70 repeats of pod 0 alone is counted (more than
    the 64 short ids an incident keeps). The held retry must not count pod 0's repeat again."""
    c = Cluster()
    await c.deliver(c.message(webhook([pod(0), pod(1)]), 0))
    # Pod 0's update goes out at minute 16: its next repeats are counted; pod 1's is due.
    assert await c.deliver(c.message(webhook([pod(0, minutes=16)]), 16)) == [Action.UPDATE]
    both = c.message(webhook([pod(0, minutes=17), pod(1, minutes=17)]), 17)
    c.clock.now = both.received_at
    await hold(c, "api-1", holding=True)
    with pytest.raises(StoreBusyError):
        await c.pipelines[0].process(both)
    for n in range(70):
        minutes = 17 + (n + 1) / 100
        storm = c.message(webhook([pod(0, minutes=minutes)]), minutes)
        assert await c.deliver(storm) == [Action.COUNT]
    await hold(c, "api-1", holding=False)
    c.clock.now = both.received_at
    await c.pipelines[0].process(both)
    counts = sorted(i.occurrences for i in await c.store.incidents())
    assert counts == [2, 73]
