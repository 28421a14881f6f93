"""Storms, round 5 (part A): members past the tracked ones (`groups.MAX_MEMBERS`) and those that
made room keep their newest event's time by short id (`Group.untracked_times`), so events of
theirs delivered out of order or again end as the newest says; the map is bounded, and a group
at every bound still fits a store record. The lifecycle's pure functions and the codec."""

from __future__ import annotations

import dataclasses
import json
from datetime import timedelta
from pathlib import Path

import pytest

from factories import T0, alert
from test_groups_round4_untracked import KEY, Event, apply, ticketed
from test_pipeline import POLICY
from test_redteam_round4_storms import Cluster, at, grouping, pod, webhook
from test_redteam_round4_storms import groups as storm_groups
from triage.incidents import groups
from triage.incidents.codec import incident_from_json, incident_to_json
from triage.incidents.groups import decide_group
from triage.incidents.lifecycle import (
    Action,
    Decision,
    Group,
    Incident,
    Member,
    State,
    Trace,
    decide,
    update_owed_due,
)
from triage.incidents.store import MAX_RECORD_BYTES
from triage.models import Status


def full(monkeypatch: pytest.MonkeyPatch, tracked: str, untracked: str = "") -> Incident:
    """A ticketed group tracking the members named in `tracked` (its limit), all firing at 0,
    and counting those in `untracked` past them."""
    monkeypatch.setattr(groups, "MAX_MEMBERS", len(tracked))
    stored: Incident | None = None
    for name in tracked + untracked:
        _, stored = apply(stored, Event(name), 0)
    return ticketed(stored)


def counted(incident: Incident | None) -> int:
    """Members the group counts firing, tracked or not."""
    assert incident is not None and incident.group is not None
    return incident.group.still_firing


def test_an_unknown_members_resolve_then_its_older_firing_leaves_it_resolved(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """In a full group, a member's resolve (5 min) overtakes its firing (1 min): the firing
    is older and ignored, so the member is not counted firing."""
    stored = full(monkeypatch, "ab")
    _, stored = apply(stored, Event("c", Status.RESOLVED, 5, 5), 5)
    action, after = apply(stored, Event("c", minutes=1, queued_minutes=1), 5.5)
    assert action is Action.IGNORE
    assert counted(after) == 2


def test_an_untracked_members_late_old_resolve_after_it_fired_again_is_ignored(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """An untracked member fires, resolves (2 min), fires again (3 min); a copy of the 2-minute
    resolve arriving last is older than its newest event: it still counts firing."""
    stored = full(monkeypatch, "ab", "c")
    _, stored = apply(stored, Event("c", Status.RESOLVED, 2, 2), 2)
    _, stored = apply(stored, Event("c", minutes=3, queued_minutes=3), 3)
    assert counted(stored) == 3
    action, after = apply(stored, Event("c", Status.RESOLVED, 2, 2.1), 4)
    assert action is Action.IGNORE
    assert counted(after) == 3


def test_a_member_that_made_room_ignores_its_late_older_firing(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A tracked member resolves (5 min) and makes room for a new one; a late copy of its
    firing (0 min) is older than that resolve: not counted firing again."""
    stored = full(monkeypatch, "ab")
    _, stored = apply(stored, Event("a", Status.RESOLVED, 5, 5), 5)
    _, stored = apply(stored, Event("c", minutes=6, queued_minutes=6), 6)
    assert stored is not None and stored.group is not None
    assert "fp-a" not in stored.group.members
    action, after = apply(stored, Event("a", minutes=0, queued_minutes=0.5), 7)
    assert action is Action.IGNORE
    assert counted(after) == 2


def test_a_closed_groups_untracked_members_late_firing_does_not_reopen_it(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Every member resolves at 5 min, closing the group; a late copy of an untracked
    member's firing at 0 min is older than its resolve: the group stays closed."""
    stored = full(monkeypatch, "ab", "c")
    for name in "abc":
        _, stored = apply(stored, Event(name, Status.RESOLVED, 5, 5), 5)
    assert stored is not None and stored.state is State.CLOSED
    action, after = apply(stored, Event("c", minutes=0, queued_minutes=0.5), 6)
    assert action is Action.IGNORE
    assert after is not None and after.state is State.CLOSED


def test_an_untracked_members_repeats_write_at_most_their_time(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Resends of a member counted firing past the tracked ones are counted once: stamped as
    its event with no write (a storm's case), stamped later writing only its kept time (so a
    late resolve stamped between the two is older than its newest event)."""
    stored = full(monkeypatch, "ab", "c")
    same = decide_group(
        stored, Event("c", minutes=0, queued_minutes=2), T0 + timedelta(minutes=2), POLICY, KEY
    )
    assert same.action is Action.COUNT and same.incident is None
    later = decide_group(
        stored, Event("c", minutes=2, queued_minutes=2), T0 + timedelta(minutes=2), POLICY, KEY
    )
    assert later.action is Action.COUNT and later.incident is not None
    assert later.incident.group is not None and stored.group is not None
    assert later.incident.group.untracked == stored.group.untracked
    assert later.incident.group.untracked_times["fp-c"].last_event_at == T0 + timedelta(minutes=2)


def test_the_untracked_times_are_bounded_and_drop_a_resolved_one_first(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Past `MAX_UNTRACKED_TIMES`, a new member's time takes the place of the resolved one
    with the oldest event, never one still counted firing."""
    monkeypatch.setattr(groups, "MAX_UNTRACKED_TIMES", 3)
    stored = full(monkeypatch, "ab", "cde")
    _, stored = apply(stored, Event("d", Status.RESOLVED, 2, 2), 2)
    _, stored = apply(stored, Event("f", minutes=3, queued_minutes=3), 3)
    assert stored is not None and stored.group is not None
    assert set(stored.group.untracked_times) == {"fp-c", "fp-e", "fp-f"}
    assert counted(stored) == 5


def at_every_bound(title: str = "") -> Incident:
    """A group at every bound: `MAX_MEMBERS` tracked (titled `title`), `MAX_UNTRACKED_IDS`
    counted by id and `MAX_UNTRACKED_TIMES` times, each time and fingerprint at full length."""
    long_ago = T0 + timedelta(microseconds=123_456)
    members = {
        f"{n:032x}": Member(Status.RESOLVED, title, long_ago, long_ago, long_ago)
        for n in range(groups.MAX_MEMBERS)
    }
    ids = frozenset(f"{n:08x}" for n in range(groups.MAX_UNTRACKED_IDS))
    times = {f"{n:08x}": Trace(long_ago, long_ago) for n in range(groups.MAX_UNTRACKED_TIMES)}
    group = Group(
        "crash-loops", {"namespace": "shop"}, members, len(ids), ids, untracked_times=times
    )
    return Incident(
        fingerprint=KEY.key,
        state=State.OPEN,
        source="alertmanager",
        title=KEY.title,
        opened_at=T0,
        last_event_at=T0,
        group=group,
    )


def test_a_group_at_every_bound_leaves_room_in_its_record() -> None:
    """Untitled (the store leaves titles out to fit), a group at every bound takes at most
    260 KB of the 350 KB a record holds: the rest is for its ticket, labels and history."""
    body = incident_to_json(at_every_bound())
    assert len(body.encode()) <= MAX_RECORD_BYTES - 90_000


def test_untracked_times_read_back_exactly_and_are_absent_when_empty() -> None:
    """The times read back as written (to the microsecond, queue time or none); a group with
    none writes no field, and a record without the field (an older release's) reads as none."""
    precise = T0 + timedelta(microseconds=654_321)
    times = {"0badcafe": Trace(precise, precise + timedelta(seconds=3)), "00c0ffee": Trace(T0)}
    incident = dataclasses.replace(
        at_every_bound(),
        group=Group("crash-loops", {}, {}, 1, frozenset({"0badcafe"}), untracked_times=times),
    )
    assert incident_from_json(incident_to_json(incident)) == incident
    bare = dataclasses.replace(incident, group=Group("crash-loops", {}))
    document = json.loads(incident_to_json(bare))
    assert "untracked_times" not in document["group"]
    assert incident_from_json(json.dumps(document)) == bare


# --- a group closed by hand while its members fire -------------------------------------------


async def test_a_group_closed_by_hand_reopens_at_the_resend_of_a_member_past_the_tracked_ones(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A group of two tracked pods and one counted past them is closed by hand while all
    fire: it counts none firing, and Alertmanager's resend of the counted pod alone (stamped
    as before) reopens its ticket, as a tracked pod's does."""
    monkeypatch.setattr(groups, "MAX_MEMBERS", 2)
    c = grouping(tmp_path)
    await c.deliver(c.message(webhook([pod(i) for i in range(3)]), 0))
    [opened] = await storm_groups(c)
    assert await c.pipelines[0].close(opened.fingerprint, "cli-1", "seen", "ana") is Action.CLOSE
    [closed] = await storm_groups(c)
    assert closed.group is not None and closed.group.still_firing == 0
    await c.deliver(c.message(webhook([pod(2)]), 30), 1)
    assert c.kinds() == ["open", "close", "reopen"]


# --- a single incident's occurrences counted inside the update interval ----------------------


def repeats(minutes: list[float]) -> list[Decision]:
    """The decisions of one alert opening at 0 and firing again (stamped later) at each of
    `minutes`, its ticket opened."""
    stored = decide(None, alert(), T0, POLICY).incident
    assert stored is not None
    stored = dataclasses.replace(stored, refs={"backend": "T-1"})
    decisions = []
    for m in minutes:
        decision = decide(stored, alert(minutes=m), T0 + timedelta(minutes=m), POLICY)
        decisions.append(decision)
        stored = decision.incident or stored
    return decisions


def test_occurrences_counted_inside_the_interval_owe_an_update_at_its_end() -> None:
    """A repeat inside the update interval owes the ticket an update when the interval ends
    (the sweep sends it if no alert comes), in the write it makes anyway: the next repeats
    keep that time, and the sweep finds it due only then."""
    first, second = repeats([1, 2])
    assert first.action is Action.COUNT and first.incident is not None
    due = T0 + POLICY.update_interval
    assert first.incident.update_owed_at == due
    assert second.incident is not None and second.incident.update_owed_at == due
    assert not update_owed_due(second.incident, due - timedelta(seconds=1))
    assert update_owed_due(second.incident, due)


def test_an_update_a_repeat_sends_leaves_nothing_owed() -> None:
    """The repeat after the interval sends the update itself (telling every occurrence so
    far), so the sweep owes nothing more; a repeat after it owes the next interval's end."""
    *_, update, after = repeats([1, 16, 17])
    assert update.action is Action.UPDATE and update.incident is not None
    assert update.incident.update_owed_at is None
    assert update.incident.occurrences_at_update == update.incident.occurrences == 3
    assert after.incident is not None
    assert after.incident.update_owed_at == T0 + timedelta(minutes=16) + POLICY.update_interval


async def test_the_sweep_tells_a_ticket_the_occurrences_a_storm_ended_with() -> None:
    """An alert fires at 0, 1 and 2 minutes, then stops: once the update interval has ended
    the sweep sends one update telling all 3 (2 new), notes it so, and owes nothing more."""
    c = Cluster()
    for minute in range(3):
        await c.deliver(c.message(webhook([pod(0, minutes=minute)]), minute), minute % 2)
    c.clock.now = at(14)
    await c.sweep().once()
    assert c.kinds() == ["open"]
    for minutes in (16, 40):
        c.clock.now = at(minutes)
        await c.sweep().once()
    assert c.kinds() == ["open", "update"]
    update = c.sink.effects[-1]
    assert (update.occurrences, update.new_occurrences) == (3, 2)
    [stored] = await c.store.incidents()
    assert stored.update_owed_at is None
    assert ("update", "3 alerts (+2)") in [(e.action, e.note) for e in stored.history]
