"""Round 6 (helper 519): storms, flapping and priorities. A person's priority change on a
flapping incident whose close is held reaches its ticket while the close still goes out when
its quiet period ends; the real pipeline and sweep on the in-memory store (`test_silences.Rig`),
the flapping check of `test_flap_damping` (fires at each whole minute, resolves half a minute
later; the fifth cycle's resolve, at minute 4.5, is held until 64.5)."""

from __future__ import annotations

import asyncio
import dataclasses
from datetime import timedelta
from pathlib import Path

import pytest

from factories import alert
from test_flap_damping import _damp, _flap, store  # noqa: F401 (the `store` fixture)
from test_pipeline import LEASE
from test_priority_raised_452 import ROUTE as PRIORITY_ROUTE
from test_priority_raised_452 import Rig as PriorityRig
from test_redteam_round4_storms import Cluster, at, grouping, pod, silence, webhook
from test_silences import Rig
from test_storms_round4_484 import flapped, script
from test_storms_round14_455 import _member as member
from triage.errors import StoreBusyError, TriageError
from triage.incidents import Action
from triage.incidents.lifecycle import FLAP_HOLD, Incident, Pending, State, replace_incident
from triage.incidents.store import Routing, Store
from triage.models import Alert, EffectKind, Priority

#: When the held close of `_flap(r, 5)` is due: its last resolve (4.5) plus the reopen window.
DUE = 4.5 + 60


def changed(minutes: float, priority: Priority) -> Alert:
    """A person's change of `api-5xx`'s priority to `priority` in its source (PagerDuty's
    `incident.priority_updated`), made at `minutes`."""
    return alert(minutes=minutes, priority=priority).model_copy(update={"priority_changed": True})


async def change_priority(r: Rig, minutes: float, priority: Priority) -> Action:
    r.clock.at(minutes)
    return await r.pipeline.handle(changed(minutes, priority), f"change{minutes}")


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


# --- What a user whose alerts storm and flap sees ---------------------------------------------


async def pending_of(c: Cluster) -> Pending | None:
    [incident] = await c.store.incidents()
    return incident.pending


async def test_a_resolve_through_a_second_replica_while_the_first_updates_closes_once() -> None:
    """Replica 0 is carrying out a storm's update (its sink call still out) when replica 1
    receives the resolve: the resolve is held, not lost, and once the update is done its retry
    closes the one ticket; the count is the storm's."""
    c = Cluster()
    await c.deliver(c.message(script("firing", 0), 0))
    for n in range(1, 10):
        assert await c.deliver(c.message(script("firing", n), n)) == [Action.COUNT]
    c.sink.gate = asyncio.Event()
    c.clock.now = at(20)
    updating = asyncio.ensure_future(c.pipelines[0].process(c.message(script("firing", 20), 20)))
    for _ in range(1000):
        if await pending_of(c) is not None:
            break
        await asyncio.sleep(0)
    assert await pending_of(c) is not None
    resolve = c.message(script("resolved", 20.5), 20.5)
    c.clock.now = resolve.received_at
    with pytest.raises(StoreBusyError):
        await c.pipelines[1].process(resolve)
    c.sink.gate.set()
    assert [o.action for o in await updating] == [Action.UPDATE]
    assert await c.deliver(resolve, 1) == [Action.CLOSE]
    assert c.kinds() == ["open", "update", "close"]
    [incident] = await c.store.incidents()
    assert incident.state is State.CLOSED and incident.occurrences == 11


async def test_an_incident_silenced_mid_storm_and_unsilenced_tells_its_ticket_every_count() -> None:
    """A storm's incident is silenced while it repeats: the update due at the interval's end
    is held (the repeats still counted), the silence is expired, the sweep sends that update
    counting every occurrence so far, the storm goes on counted, and the resolve closes the
    one ticket; the ticket is never told a count the store does not hold."""
    c = Cluster(silenced=True)
    await c.deliver(c.message(script("firing", 0), 0))
    made = await silence(c, "dedup_key=api-5xx")
    actions = []
    for n in range(1, 21):
        actions += await c.deliver(c.message(script("firing", n), n))
    assert actions[:14] == [Action.COUNT] * 14 and set(actions[14:]) == {Action.SILENCED}
    assert c.kinds() == ["open"]
    c.clock.now = at(21)
    assert await c.store.expire_silence(made.id, c.clock.now) is not None
    await c.sweep().once()
    assert c.kinds() == ["open", "update"]
    assert c.sink.effects[-1].occurrences == 21
    for n in range(22, 30):
        assert await c.deliver(c.message(script("firing", n), n)) == [Action.COUNT]
    assert await c.deliver(c.message(script("resolved", 30), 30)) == [Action.CLOSE]
    assert c.kinds() == ["open", "update", "close"]
    [incident] = await c.store.incidents()
    assert incident.occurrences == 29 and incident.state is State.CLOSED


async def test_a_refire_exactly_when_a_held_close_is_due_closes_then_reopens_afresh() -> None:
    """A flapping check resolves, stays quiet for exactly the quiet period, and fires again at
    the instant its held close is due (before any sweep): the held close goes out first, then
    one reopen, counted afresh (not flapping); nothing else is sent."""
    c = Cluster()
    resumed = await flapped(c, times=4)
    [damped] = await c.store.incidents()
    due = damped.close_held_until
    assert due is not None
    sent = len(c.kinds())
    minutes = (due - at(0)).total_seconds() / 60
    assert await c.deliver(c.message(script("firing", minutes), minutes)) == [Action.REOPEN]
    assert c.kinds()[sent:] == ["close", "reopen"]
    [incident] = await c.store.incidents()
    assert incident.state is State.OPEN and incident.reopens == 1 and not incident.flapping
    assert resumed < minutes


async def test_a_late_repeat_older_than_a_held_close_changes_nothing() -> None:
    """A flapping check's close is held; a repeat stamped before that resolve arrives late
    (SQS keeping no order): it neither reopens the incident, nor drops the held close, nor
    is counted (it happened before the resolve, while the ticket was told of the firing)."""
    c = Cluster()
    await flapped(c, times=4)
    [damped] = await c.store.incidents()
    due, counted = damped.close_held_until, damped.occurrences
    assert due is not None
    resolve_at = (damped.last_event_at - at(0)).total_seconds() / 60
    late = dataclasses.replace(
        c.message(script("firing", resolve_at - 0.005), resolve_at - 0.005),
        received_at=at(resolve_at + 1),
    )
    assert await c.deliver(late) == [Action.IGNORE]
    [stored] = await c.store.incidents()
    assert stored.close_held_until == due and stored.occurrences == counted
    assert stored.state is State.CLOSED


# --- A person's change delivered while the storm goes on --------------------------------------


async def test_a_persons_change_delivered_after_a_later_repeat_still_moves_the_ticket(
    tmp_path: Path,
) -> None:
    """A storm repeats every minute; a person lowers the ticket in PagerDuty at minute 4.5, and
    the change is delivered after the repeat of minute 5 (a webhook retried, SQS keeping no
    order): the change stands (the repeat does not undo a person's change), so the ticket
    goes to low. A change made before the ticket opened is still stale."""
    r = PriorityRig(tmp_path)
    assert await r.send(0, alert(minutes=0, priority=Priority.HIGH)) is Action.OPEN
    for n in range(1, 6):
        assert await r.send(n, alert(minutes=n, priority=Priority.HIGH)) is Action.COUNT
    assert await r.send(5.1, changed(4.5, Priority.LOW)) is Action.UPDATE
    assert r.backend.effects[-1].ticket.priority is Priority.LOW
    assert await r.send(5.2, changed(-1, Priority.CRITICAL)) is Action.IGNORE
    assert r.backend.effects[-1].ticket.priority is Priority.LOW


async def test_a_persons_change_of_a_member_delivered_after_its_later_repeat_still_moves_it(
    tmp_path: Path,
) -> None:
    """The same for a group's member whose own storm goes on: the change made at minute 4.5,
    delivered after that member's repeat of minute 5, moves the group's ticket; one made
    before the member's firing began is stale."""
    r = PriorityRig(tmp_path, PRIORITY_ROUTE + 'group_by = ["service"]\n')
    assert await r.send(0, member("api-0", 0, Priority.HIGH)) is Action.OPEN
    for n in range(1, 6):
        await r.send(n, member("api-0", n, Priority.HIGH))
    change = member("api-0", 4.5, Priority.LOW).model_copy(update={"priority_changed": True})
    assert await r.send(5.1, change) is Action.UPDATE
    assert r.backend.effects[-1].ticket.priority is Priority.LOW
    stale = member("api-0", -1, Priority.CRITICAL).model_copy(update={"priority_changed": True})
    assert await r.send(5.2, stale) is Action.IGNORE


async def test_every_store_puts_the_held_close_back_due_when_it_was(store: Store) -> None:  # noqa: F811
    """On SQLite and DynamoDB: a person's change while the close is held is an update claimed
    in the close's place (the incident still listed with its close held); once confirmed, the
    close is held again, in the sweep's index from its due time (not before), and one replica
    takes it then."""
    fp = await _damp(store, Routing("payments", "payments", {}))
    change = changed(10, Priority.LOW)
    taken = await store.begin(change, "change#0@d", at(10))
    assert taken.action is Action.UPDATE
    updating = await store.get(fp)
    assert updating is not None and updating.close_held_until == at(7) + timedelta(hours=1)
    await store.confirm(fp, "change#0@d", "backend", None, finish=True)
    stored = await store.get(fp)
    assert stored is not None and stored.close_held_until == at(7) + timedelta(hours=1)
    assert stored.ticket is not None and stored.ticket.priority is Priority.LOW
    assert fp not in await store.due(at(66))
    assert fp in await store.due(at(67))
    close = await store.take_over(fp, "sweep-a", at(67))
    assert close is not None and close.action is Action.CLOSE
    assert close.idempotency_key == f"{fp}:{stored.seq}"


async def test_a_groups_members_from_two_senders_with_skewed_clocks_open_and_close_it_once(
    tmp_path: Path,
) -> None:
    """One group's pods come from two senders, one clock four minutes fast: pod 0 fires (its
    stamp 4 minutes ahead), pod 1 fires and resolves by the right clock, stamped before pod
    0's firing; pod 1's resolve is judged by pod 1's own events, so the group stays open for
    pod 0 and closes once when pod 0 resolves; pod 1 firing again reopens the one ticket."""
    c = grouping(tmp_path)
    fast = 4.0
    assert await c.deliver(c.message(webhook([pod(0, minutes=0 + fast)], "am-fast"), 0)) == [
        Action.OPEN
    ]
    await c.deliver(c.message(webhook([pod(1, minutes=1)], "am-exact"), 1), 1)
    await c.deliver(c.message(webhook([pod(1, "resolved", 2, starts=1)], "am-exact"), 2), 1)
    [group] = await c.store.incidents()
    assert group.state is State.OPEN and group.group is not None and group.group.firing == 1
    resolved = webhook([pod(0, "resolved", 3 + fast, starts=fast)], "am-fast")
    await c.deliver(c.message(resolved, 3), 0)
    assert c.kinds() == ["open", "close"]
    await c.deliver(c.message(webhook([pod(1, minutes=5)], "am-exact"), 5), 1)
    assert c.kinds() == ["open", "close", "reopen"]
    [group] = await c.store.incidents()
    assert group.state is State.OPEN and group.group is not None and group.group.firing == 1


async def test_a_late_repeat_older_than_the_close_before_a_new_ticket_is_not_counted_there() -> (
    None
):
    """An alert fires (minute 0) and repeats, resolves at 5, and fires again at 70, past the
    reopen window: a new ticket. A repeat of the first outage stamped 2, delivered only now
    (SQS keeping no order after an outage of triage), belongs to the closed incident: the
    new ticket's count stays 1. A late repeat of the new outage itself is still counted."""
    c = Cluster()
    await c.deliver(c.message(script("firing", 0), 0))
    held_back = c.message(script("firing", 2), 2)
    assert await c.deliver(c.message(script("resolved", 5), 5)) == [Action.CLOSE]
    assert await c.deliver(c.message(script("firing", 72), 72)) == [Action.OPEN]
    late = dataclasses.replace(held_back, received_at=at(73))
    assert await c.deliver(late) == [Action.IGNORE]
    [incident] = await c.store.incidents()
    assert incident.occurrences == 1
    own = dataclasses.replace(c.message(script("firing", 71), 71), received_at=at(74))
    assert await c.deliver(own) == [Action.COUNT]
    [incident] = await c.store.incidents()
    assert incident.occurrences == 2
    assert c.kinds() == ["open", "close", "open"]


async def test_an_ha_pairs_partly_resolved_group_through_two_replicas_closes_once(
    tmp_path: Path,
) -> None:
    """An Alertmanager HA pair sends each notification of one group twice, through two
    replicas: three pods fire; then pod 0 resolves while pods 1 and 2 keep firing (the ticket
    stays open, its members counted once each, not twice); then the rest resolve, one replica
    each, in either order: one close."""
    c = grouping(tmp_path)
    for sender, replica in (("am-0", 0), ("am-1", 1)):
        await c.deliver(c.message(webhook([pod(i) for i in range(3)], sender), 0), replica)
    partly = [pod(0, "resolved", 2, starts=0), pod(1), pod(2)]
    for sender, replica in (("am-1", 1), ("am-0", 0)):
        await c.deliver(c.message(webhook(partly, sender), 2), replica)
    [group] = await c.store.incidents()
    assert group.state is State.OPEN and group.group is not None
    assert group.group.firing == 2 and len(group.group.members) == 3
    assert c.kinds() == ["open"]
    rest = [pod(0, "resolved", 2, starts=0), *(pod(i, "resolved", 4, starts=0) for i in (1, 2))]
    for sender, replica in (("am-0", 1), ("am-1", 0)):
        await c.deliver(c.message(webhook(rest, sender), 4), replica)
    assert c.kinds() == ["open", "close"]
    [group] = await c.store.incidents()
    assert group.state is State.CLOSED


async def test_seventy_repeats_held_busy_and_retried_interleaved_count_once_each() -> None:
    """Seventy late repeats, arriving past the update interval, each find the incident busy
    (held: another worker's effect in progress), are retried in another order once it is
    free, and ten of them are then handed out again by SQS: each counts once, though the
    incident keeps only the newest 64 short ids of the repeats it counted."""
    c = Cluster()
    await c.deliver(c.message(script("firing", 0), 0))
    await c.deliver(c.message(script("firing", 10), 10))
    c.clock.now = at(20)
    await busy_single(c, holding=True)
    held = []
    for n in range(70):
        stamp = 1 + n / 10
        message = dataclasses.replace(c.message(script("firing", stamp), stamp), received_at=at(20))
        with pytest.raises(StoreBusyError):
            await c.pipelines[0].process(message)
        held.append(message)
    await busy_single(c, holding=False)
    for message in [*held[1::2], *held[::2]]:
        await c.pipelines[0].process(message)
    for message in held[:10]:
        again = dataclasses.replace(message, receipt_handle=message.receipt_handle + "-2")
        again = dataclasses.replace(again, receive_count=2, received_at=at(21))
        assert await c.deliver(again) == [Action.IGNORE]
    [incident] = await c.store.incidents()
    assert incident.occurrences == 72


async def busy_single(c: Cluster, holding: bool) -> None:
    """Another worker takes (`holding`) or finishes an effect of the one incident."""
    [incident] = await c.store.incidents()
    await hold(c, incident.title, holding)
