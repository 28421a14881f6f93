"""Round 7 (helper 537): storms, flapping and priorities. What round 6 left (a person's change
of a member past the tracked ones, a held close's displaced update redone by the sweep, a
sender's clock skew) and what an operator meets in a storm: two replicas, SQS's order,
redeliveries, long flapping, silences mid-storm and one alert through two paths."""

from __future__ import annotations

import asyncio
import dataclasses
import json
from pathlib import Path

import pytest

from test_flap_damping import _flap
from test_priority_raised_452 import ROUTE as PRIORITY_ROUTE
from test_priority_raised_452 import Rig as PriorityRig
from test_redteam_round4_storms import (
    Cluster,
    at,
    grouping,
    groups,
    iso,
    pod,
    silence,
    webhook,
)
from test_silences import Rig
from test_storms_round4_484 import script
from test_storms_round6_519 import DUE, changed
from test_storms_round14_455 import _member as member
from triage.errors import GatheringError, StoreBusyError
from triage.incidents import Action
from triage.incidents import groups as group_rules
from triage.incidents.codec import incident_to_json
from triage.incidents.lifecycle import Pending, State
from triage.models import Alert, Priority, Status
from triage.sqs.inbox import RECEIVED_AT_ATTRIBUTE, Message


def member_changed(name: str, minutes: float, priority: Priority) -> Alert:
    """A person's change of member `name`'s priority to `priority`, made at `minutes`."""
    return member(name, minutes, priority).model_copy(update={"priority_changed": True})


async def test_a_persons_change_of_an_untracked_member_after_its_later_repeat_moves_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A group tracks one member; api-1 is counted past it and storms every minute. A person
    lowers api-1 at minute 4.5; the change is delivered after api-1's repeat of minute 5: it
    stands, as it does for a tracked member (a repeat does not undo a person's change). One
    made before the group's ticket opened is still stale."""
    monkeypatch.setattr(group_rules, "MAX_MEMBERS", 1)
    r = PriorityRig(tmp_path, PRIORITY_ROUTE + 'group_by = ["service"]\n')
    assert await r.send(0, member("api-0", 0, Priority.HIGH)) is Action.OPEN
    for n in range(1, 6):
        await r.send(n, member("api-1", n, Priority.HIGH))
    [group] = await r.store.incidents()
    assert group.group is not None and group.group.untracked == 1
    assert await r.send(5.1, member_changed("api-1", 4.5, Priority.LOW)) is Action.UPDATE
    assert r.backend.effects[-1].ticket.priority is Priority.LOW
    stale = member_changed("api-1", -1, Priority.CRITICAL)
    assert await r.send(5.2, stale) is Action.IGNORE
    assert r.backend.effects[-1].ticket.priority is Priority.LOW


async def test_a_displaced_close_whose_update_is_abandoned_is_redone_as_firing() -> None:
    """A flapping incident's close is held; a person's change claims the update in its place
    and its worker dies before any sink hears of it. The sweep redoes that update with the
    incident as stored: it must tell the ticket the alert fires (its tickets are open while
    the close waits), not resolved; the held close then goes out once when due."""
    r = Rig()
    await _flap(r, 5, sweeps=0)
    r.clock.at(10)
    taken = await r.store.begin(changed(10, Priority.CRITICAL), "change#0@dead", r.clock.now)
    assert taken.action is Action.UPDATE
    r.clock.at(30)
    await r.sweep().once()
    assert r.sink.kinds()[7:] == ["update"]
    redo = r.sink.effects[-1]
    assert redo.ticket.priority is Priority.CRITICAL
    assert redo.alert.status is Status.FIRING
    r.clock.at(DUE)
    await r.sweep().once()
    assert r.sink.kinds()[7:] == ["update", "close"]
    assert r.sink.effects[-1].alert.status is Status.RESOLVED


# --- A sender's clock just inside TRIAGE_MAX_FUTURE_SKEW_S ----------------------------------


async def test_a_resolve_from_a_fast_clock_does_not_hide_a_later_real_firing() -> None:
    """pod 0 fires (minute 0, both senders in step); sender `am-fast`, its clock 4 minutes
    ahead (within the 5 minutes past its receive that were once believed), sends its resolve
    at minute 10, stamped 14: it is dated by its message's queueing (minute 10). At
    minute 12 the pod fires again, sent by `am-exact` (stamped 12), and Alertmanager re-sends
    that firing every few minutes stamped as it started. The pod fires: its ticket must be
    open again, not closed while every resend is ignored for good."""
    c = Cluster()
    assert await c.deliver(c.message(webhook([pod(0)], "am-exact"), 0)) == [Action.OPEN]
    fast = webhook([pod(0, "resolved", 14, starts=0)], "am-fast")
    assert await c.deliver(c.message(fast, 10)) == [Action.CLOSE]
    for minutes in (12, 16, 20, 60):
        await c.deliver(c.message(webhook([pod(0, minutes=12)], "am-exact"), minutes))
    [incident] = await c.store.incidents()
    assert incident.state is State.OPEN
    kinds = c.kinds()
    assert kinds[:3] == ["open", "close", "reopen"]
    assert set(kinds[3:]) <= {"update"}  # the interval's update by minute 60, nothing else


# --- What an operator meets in a storm -------------------------------------------------------


async def pending_of(c: Cluster) -> Pending | None:
    [incident] = await c.store.incidents()
    return incident.pending


async def until_pending(c: Cluster) -> None:
    """Let other tasks run until the one incident has an effect in progress."""
    for _ in range(1000):
        if (await c.store.incidents()) and await pending_of(c) is not None:
            return
        await asyncio.sleep(0)
    raise AssertionError("no effect was claimed")


async def test_two_replicas_taking_the_first_firing_and_its_resolve_at_once_close_it() -> None:
    """Replica 0 opens an alert's ticket (its sink call still out) when replica 1 takes the
    alert's resolve, half a minute later by their stamps: the resolve is held, not lost, and
    its retry closes the one ticket; the incident is closed with nothing in progress."""
    c = Cluster()
    c.sink.gate = asyncio.Event()
    firing = c.message(script("firing", 0), 0)
    resolve = c.message(script("resolved", 0.5), 0.5)
    c.clock.now = firing.received_at
    opening = asyncio.ensure_future(c.pipelines[0].process(firing))
    await until_pending(c)
    c.clock.now = resolve.received_at
    with pytest.raises(StoreBusyError):
        await c.pipelines[1].process(resolve)
    c.sink.gate.set()
    assert [o.action for o in await opening] == [Action.OPEN]
    assert await c.deliver(resolve, 1) == [Action.CLOSE]
    assert c.kinds() == ["open", "close"]
    [incident] = await c.store.incidents()
    assert incident.state is State.CLOSED and incident.pending is None


async def test_two_replicas_deciding_a_firing_and_its_resolve_together_leave_it_closed() -> None:
    """The same two messages handled together by two replicas, each retried while the
    incident is busy (as SQS hands a held message out again): whichever is decided first,
    the incident ends closed, its ticket never left open (opened and closed, or never
    opened), and nothing is in progress."""
    c = Cluster()
    firing = c.message(script("firing", 0), 0)
    resolve = c.message(script("resolved", 0.5), 0.5)
    c.clock.now = resolve.received_at

    async def settled(message: Message, replica: int) -> None:
        for _ in range(200):
            try:
                await c.pipelines[replica].process(message)
                return
            except StoreBusyError:
                await asyncio.sleep(0)
        raise AssertionError("the message never got its turn")

    await asyncio.gather(settled(firing, 0), settled(resolve, 1))
    assert c.kinds() in ([], ["open", "close"])
    [incident] = await c.store.incidents()
    assert incident.state is State.CLOSED and incident.pending is None


async def test_a_resolve_delivered_before_its_firing_opens_no_ticket() -> None:
    """SQS hands out an alert's resolve (stamped 1) before its firing (stamped 0), each to
    another replica: the resolve is recorded, the firing is older and opens nothing (the
    alert is resolved); the alert firing again later opens one ticket."""
    c = Cluster()
    firing = c.message(script("firing", 0), 0)
    resolve = c.message(script("resolved", 1), 1)
    assert await c.deliver(resolve, 1) == [Action.RECORD]
    assert await c.deliver(dataclasses.replace(firing, received_at=at(1.1))) == [Action.IGNORE]
    assert c.kinds() == []
    assert await c.deliver(c.message(script("firing", 5), 5), 1) == [Action.OPEN]
    assert c.kinds() == ["open"]


async def test_a_firing_delivered_again_after_its_resolves_close_was_acked_changes_nothing() -> (
    None
):
    """A storm's firing is counted; its delete is lost, so SQS hands it out again, but only
    after the resolve's close went out and was acked (another replica): it neither reopens
    nor counts, and the ticket stays closed; a real re-fire later reopens it once."""
    c = Cluster()
    await c.deliver(c.message(script("firing", 0), 0))
    repeat = c.message(script("firing", 1), 1)
    assert await c.deliver(repeat) == [Action.COUNT]
    assert await c.deliver(c.message(script("resolved", 2), 2), 1) == [Action.CLOSE]
    again = dataclasses.replace(
        repeat, receipt_handle="rh-again", receive_count=2, received_at=at(3)
    )
    assert await c.deliver(again) == [Action.IGNORE]
    [incident] = await c.store.incidents()
    assert incident.state is State.CLOSED and incident.occurrences == 2
    assert await c.deliver(c.message(script("firing", 4), 4), 1) == [Action.REOPEN]
    assert c.kinds() == ["open", "close", "reopen"]


async def test_a_check_flapping_for_a_day_keeps_its_record_bounded() -> None:
    """A check fires every minute and resolves half a minute later, for 24 hours: after the
    first hour its record is as large as after the day (history, counted ids and the held
    close bounded, only counts growing), its reopens are not counted on (the wait counts the
    firings), and its tickets hear nothing more until it is quiet, then one close."""
    r = Rig()
    await _flap(r, 60, sweeps=0)
    sizes = [len(incident_to_json((await r.store.incidents())[0]))]
    sent = r.sink.kinds()
    for hour in range(1, 24):
        for minute in range(hour * 60, hour * 60 + 60):
            await r.send(minute, Status.FIRING)
            await r.send(minute + 0.5, Status.RESOLVED)
        await r.sweep().once()
        sizes.append(len(incident_to_json((await r.store.incidents())[0])))
    [incident] = await r.store.incidents()
    assert max(sizes) - min(sizes) < 64, sizes
    assert incident.reopens == 3 and incident.occurrences == 24 * 60
    assert r.sink.kinds() == sent
    r.clock.at(24 * 60 - 0.5 + 61)
    await r.sweep().once()
    assert r.sink.kinds() == [*sent, "close"]


async def test_an_alertmanager_group_whose_alerts_are_all_replaced_stays_one_ticket(
    tmp_path: Path,
) -> None:
    """A rolling deploy: the group (one groupKey) fires for pods 0-2; its next notification
    lists pods 3-5 firing since minute 4 and pods 0-2 resolved at 5. Applied in the order
    they happened, the group never has no member firing: no close, no reopen, one ticket,
    six members, three firing; the new pods resolving closes it once."""
    c = grouping(tmp_path)
    await c.deliver(c.message(webhook([pod(i) for i in range(3)]), 0))
    replaced = [
        *(pod(i, "resolved", 5, starts=0) for i in range(3)),
        *(pod(i, minutes=4) for i in range(3, 6)),
    ]
    await c.deliver(c.message(webhook(replaced), 5.5), 1)
    [group] = await groups(c)
    assert group.state is State.OPEN and group.group is not None
    assert group.group.firing == 3 and len(group.group.members) == 6
    assert c.kinds() == ["open"]
    ended = [
        *(pod(i, "resolved", 5, starts=0) for i in range(3)),
        *(pod(i, "resolved", 9, starts=4) for i in range(3, 6)),
    ]
    await c.deliver(c.message(webhook(ended), 9.5))
    assert c.kinds() == ["open", "close"]


async def test_a_storm_closed_by_hand_again_and_again_reopens_once_each_never_flapping() -> None:
    """An operator closes a storm's incident by hand three times while it repeats every
    minute (`triage incidents close`): each close goes out, the next repeat reopens the one
    ticket once (the others counted), it is never marked flapping (the alert never
    resolved), and its real resolve then closes it at once, not damped."""
    c = Cluster()
    await c.deliver(c.message(script("firing", 0), 0))
    [incident] = await c.store.incidents()
    minute = 1
    for _ in range(3):
        c.clock.now = at(minute - 0.5)
        assert await c.pipelines[1].close(incident.fingerprint, "op", "noise", "alice") is (
            Action.CLOSE
        )
        actions = []
        for _ in range(3):
            actions += await c.deliver(c.message(script("firing", minute), minute), minute % 2)
            minute += 1
        assert actions == [Action.REOPEN, Action.COUNT, Action.COUNT]
    [incident] = await c.store.incidents()
    assert not incident.flapping and incident.reopens == 1
    assert await c.deliver(c.message(script("resolved", minute), minute)) == [Action.CLOSE]
    assert c.kinds() == ["open", *["close", "reopen"] * 3, "close"]


async def test_a_silence_expiring_as_a_repeat_arrives_sends_the_held_update_once() -> None:
    """A storm's update is held by a silence added mid-storm; the silence is expired and, at
    that moment, replica 1 takes the next repeat while replica 0's sweep lets the held update
    go: one update goes out (not two), telling no count the store does not hold, and the
    storm goes on counted until the next interval's update tells every occurrence."""
    c = Cluster(silenced=True)
    await c.deliver(c.message(script("firing", 0), 0))
    made = await silence(c, "dedup_key=api-5xx")
    for n in range(1, 21):
        await c.deliver(c.message(script("firing", n), n))
    assert c.kinds() == ["open"]
    c.clock.now = at(21)
    assert await c.store.expire_silence(made.id, c.clock.now) is not None
    repeat = c.message(script("firing", 21), 21)
    outcomes = await asyncio.gather(
        c.sweep().once(), c.pipelines[1].process(repeat), return_exceptions=True
    )
    if isinstance(outcomes[1], StoreBusyError):
        await c.deliver(repeat, 1)
    else:
        assert not isinstance(outcomes[1], BaseException), outcomes[1]
    await c.sweep().once()
    assert c.kinds() == ["open", "update"]
    [incident] = await c.store.incidents()
    assert incident.occurrences == 22 and incident.held is None
    assert c.sink.effects[-1].occurrences <= incident.occurrences
    for n in range(22, 37):
        await c.deliver(c.message(script("firing", n), n))
    assert c.kinds() == ["open", "update", "update"]
    assert c.sink.effects[-1].occurrences == 37


def through_sns(body: str, minutes: float) -> str:
    """`body` as SNS delivers it to an SQS queue subscribed to its topic (raw delivery off)."""
    return json.dumps({
        "Type": "Notification", "MessageId": f"sns-{minutes}",
        "TopicArn": "arn:aws:sns:eu-west-1:123456789012:alerts", "Message": body,
        "Timestamp": iso(at(minutes)),
    })  # fmt: skip


def through_gateway(c: Cluster, body: str, minutes: float) -> Message:
    """`body` posted to `triage ingest`, which stamps when it received it."""
    message = c.message(body, minutes)
    stamp = {RECEIVED_AT_ATTRIBUTE: at(minutes).isoformat()}
    return dataclasses.replace(message, attributes=stamp)


async def test_one_alert_through_sns_and_the_gateway_at_once_is_one_ticket() -> None:
    """A script posts each alert both to an SNS topic and to the gateway: its first firing
    reaches two replicas at once by both paths; one ticket opens (one summary), the other
    copy waits for it and adds no second ticket (it is counted, as two senders' repeats
    stamped alike are); the resolve by both paths closes it once."""
    c = Cluster()
    first = script("firing", 0)
    copies = [c.message(through_sns(first, 0), 0), through_gateway(c, first, 0)]

    async def settled(message: Message, replica: int) -> list[Action]:
        for _ in range(200):
            try:
                return [o.action for o in await c.pipelines[replica].process(message)]
            except StoreBusyError:
                await asyncio.sleep(0)
        raise AssertionError("the message never got its turn")

    c.clock.now = at(0)
    both = await asyncio.gather(settled(copies[0], 0), settled(copies[1], 1))
    assert Action.OPEN in both[0] + both[1] and Action.REOPEN not in both[0] + both[1]
    assert c.kinds() == ["open"] and c.summariser.calls == 1
    end = script("resolved", 3)
    c.clock.now = at(3)
    await asyncio.gather(
        settled(c.message(through_sns(end, 3), 3), 1), settled(through_gateway(c, end, 3), 0)
    )
    assert c.kinds() == ["open", "close"]
    [incident] = await c.store.incidents()
    assert incident.state is State.CLOSED


async def test_an_operators_close_while_a_change_holds_a_flapping_close_back_closes_now() -> None:
    """A flapping incident's close is held for an hour; a person's change of its priority
    is an update in the close's place when the operator closes it by hand: while that update
    runs, the close is busy (not "closed already", which would leave its tickets open for the
    hour); once the update's worker is gone, the operator's close goes out at once with
    their note, and nothing more when the held close was due."""
    r = Rig()
    await _flap(r, 5, sweeps=0)
    [damped] = await r.store.incidents()
    r.clock.at(10)
    await r.store.begin(changed(10, Priority.CRITICAL), "change#0@dead", r.clock.now)
    with pytest.raises(StoreBusyError):
        await r.pipeline.close(damped.fingerprint, "op", "known noise", "alice")
    r.clock.at(30)
    assert await r.pipeline.close(damped.fingerprint, "op", "known noise", "alice") is (
        Action.CLOSE
    )
    assert r.sink.kinds()[7:] == ["close"]
    assert "known noise" in r.sink.effects[-1].alert.title
    r.clock.at(DUE)
    await r.sweep().once()
    assert r.sink.kinds()[7:] == ["close"]
    [closed] = await r.store.incidents()
    assert closed.pending is None and closed.state is State.CLOSED


async def test_a_held_open_let_go_as_a_repeat_arrives_opens_one_ticket_counting_all() -> None:
    """A silence is added as a storm begins: its new incident's open is held while its
    repeats are counted. The silence is expired mid-storm, and at that moment replica 1
    takes the next repeat while replica 0's sweep lets the held open go: one ticket opens
    (one summary), telling the count so far; the next update comes an interval after that
    open (not after the first alert held) and tells the occurrences since the open, so
    its "N more, M in all" agrees with what the open said."""
    c = Cluster(silenced=True)
    c.clock.now = at(0)
    made = await silence(c, "dedup_key=api-5xx")
    for n in range(10):
        assert await c.deliver(c.message(script("firing", n), n)) == [Action.SILENCED]
    assert c.kinds() == []
    c.clock.now = at(10)
    assert await c.store.expire_silence(made.id, c.clock.now) is not None
    repeat = c.message(script("firing", 10), 10)
    outcomes = await asyncio.gather(
        c.sweep().once(), c.pipelines[1].process(repeat), return_exceptions=True
    )
    if isinstance(outcomes[1], StoreBusyError):
        await c.deliver(repeat, 1)
    else:
        assert not isinstance(outcomes[1], BaseException), outcomes[1]
    await c.sweep().once()
    assert c.kinds() == ["open"] and c.summariser.calls == 1
    [incident] = await c.store.incidents()
    assert incident.occurrences == 11 and incident.held is None and incident.pending is None
    for n in range(11, 26):
        await c.deliver(c.message(script("firing", n), n))
    assert c.kinds() == ["open", "update"]
    opened, updated = c.sink.effects
    assert updated.occurrences == 26
    assert updated.new_occurrences == updated.occurrences - opened.occurrences


async def test_a_gathered_groups_first_update_counts_from_what_its_open_told(
    tmp_path: Path,
) -> None:
    """A group gathers five pods in its 30 s window; its ticket opens listing the five (five
    occurrences). A sixth pod joins 20 minutes later: the update says one more since the
    last update, six in all (not five more, which the open had told already)."""
    c = grouping(tmp_path, window_s=30)
    first = c.message(webhook([pod(0)]), 0)
    with pytest.raises(GatheringError):
        await c.deliver(first, 0)
    for i in range(1, 5):
        await c.deliver(c.message(webhook([pod(i)]), 0.1 * i), 1)
    await c.deliver(dataclasses.replace(first, receipt_handle="rh-again", received_at=at(0.6)))
    await c.deliver(c.message(webhook([pod(5, minutes=20)]), 20), 1)
    assert c.kinds() == ["open", "update"]
    opened, updated = c.sink.effects
    assert opened.occurrences == 5 and updated.occurrences == 6
    assert updated.new_occurrences == 1


async def test_a_gathered_group_the_sweep_opens_counts_its_first_update_from_its_open(
    tmp_path: Path,
) -> None:
    """The same when no message comes back once the window is over and the sweep opens the
    group's ticket: the first update counts from the open's five occurrences."""
    c = grouping(tmp_path, window_s=30)
    with pytest.raises(GatheringError):
        await c.deliver(c.message(webhook([pod(0)]), 0), 0)
    for i in range(1, 5):
        await c.deliver(c.message(webhook([pod(i)]), 0.1 * i), 1)
    c.clock.now = at(5)
    await c.sweep().once()
    await c.deliver(c.message(webhook([pod(5, minutes=20)]), 20), 1)
    assert c.kinds() == ["open", "update"]
    opened, updated = c.sink.effects
    assert opened.occurrences == 5 and updated.new_occurrences == 1
