"""The lifecycle table of DESIGN.md, cell by cell, as a pure function."""

from __future__ import annotations

import dataclasses
from datetime import timedelta

import pytest

from factories import T0, alert
from triage.incidents import groups
from triage.incidents.groups import GroupKey, decide_group
from triage.incidents.lifecycle import Action, Decision, Incident, Policy, State, decide
from triage.models import Status

POLICY = Policy(
    update_interval=timedelta(minutes=15), reopen_window=timedelta(hours=1), flap_threshold=3
)


def _open(**changes: object) -> Incident:
    incident = decide(None, alert(), T0, POLICY).incident
    assert incident is not None
    return dataclasses.replace(incident, refs={"backend": "T-1"}, **changes)  # type: ignore[arg-type]


def _closed(at_minutes: float, **changes: object) -> Incident:
    at = T0 + timedelta(minutes=at_minutes)
    closed = _open(state=State.CLOSED, closed_at=at, applied_at=at)
    return dataclasses.replace(closed, **changes)  # type: ignore[arg-type]


def test_new_firing_opens() -> None:
    """A firing alert with nothing stored opens an incident with one occurrence."""
    decision = decide(None, alert(), T0, POLICY)
    assert decision.action is Action.OPEN
    assert decision.incident is not None
    assert decision.incident.state is State.OPEN
    assert decision.incident.occurrences == 1


def test_new_resolved_is_recorded_without_ticket() -> None:
    """A resolved alert with nothing stored is remembered (for ordering) but opens nothing."""
    decision = decide(None, alert(status=Status.RESOLVED), T0, POLICY)
    assert decision.action is Action.RECORD
    assert decision.incident is not None
    assert decision.incident.state is State.CLOSED
    assert not decision.incident.has_ticket


def test_repeat_inside_interval_is_counted_only() -> None:
    """A repeat of an open incident inside the update interval is counted, with no effect."""
    decision = decide(_open(), alert(minutes=5), T0 + timedelta(minutes=5), POLICY)
    assert decision.action is Action.COUNT
    assert decision.incident is not None
    assert decision.incident.occurrences == 2


def test_repeat_after_interval_updates_once() -> None:
    """The first repeat after the interval is an update; the next one inside the new interval is not."""
    now = T0 + timedelta(minutes=16)
    first = decide(_open(), alert(minutes=16), now, POLICY)
    assert first.action is Action.UPDATE
    assert first.incident is not None
    second = decide(first.incident, alert(minutes=17), now + timedelta(minutes=1), POLICY)
    assert second.action is Action.COUNT


def test_resolve_closes_open_incident() -> None:
    """A resolved alert closes the open incident."""
    decision = decide(
        _open(), alert(status=Status.RESOLVED, minutes=10), T0 + timedelta(minutes=10), POLICY
    )
    assert decision.action is Action.CLOSE
    assert decision.incident is not None
    assert decision.incident.state is State.CLOSED


def test_refire_within_window_reopens() -> None:
    """A firing alert soon after the close reopens the same ticket."""
    decision = decide(_closed(10), alert(minutes=20), T0 + timedelta(minutes=20), POLICY)
    assert decision.action is Action.REOPEN
    assert decision.incident is not None
    assert decision.incident.refs == {"backend": "T-1"}
    assert not decision.incident.flapping


def test_repeated_reopens_mark_flapping() -> None:
    """Reaching the flap threshold of reopens marks the incident flapping."""
    decision = decide(_closed(10, reopens=2), alert(minutes=20), T0 + timedelta(minutes=20), POLICY)
    assert decision.action is Action.REOPEN
    assert decision.incident is not None
    assert decision.incident.flapping


def test_refire_long_after_close_opens_new_ticket() -> None:
    """A firing alert long after the close opens a new incident with no old references."""
    now = T0 + timedelta(hours=3)
    decision = decide(_closed(10), alert(minutes=180), now, POLICY)
    assert decision.action is Action.OPEN
    assert decision.incident is not None
    assert decision.incident.refs == {}
    assert decision.incident.occurrences == 1


def test_resolve_of_closed_is_ignored() -> None:
    """A second resolve of a closed incident does nothing."""
    decision = decide(
        _closed(10), alert(status=Status.RESOLVED, minutes=30), T0 + timedelta(minutes=30), POLICY
    )
    assert decision.action is Action.IGNORE


def test_older_event_never_moves_state_back() -> None:
    """A firing alert older than the resolve already applied is ignored, not a reopen."""
    closed = _closed(10, last_event_at=T0 + timedelta(minutes=10))
    decision = decide(closed, alert(minutes=5), T0 + timedelta(minutes=11), POLICY)
    assert decision.action is Action.IGNORE
    assert decision.incident is None


def test_firing_after_resolve_only_record_opens() -> None:
    """A newer firing after a resolve-only record opens a ticket (there was none to reopen)."""
    recorded = decide(None, alert(status=Status.RESOLVED), T0, POLICY).incident
    decision = decide(recorded, alert(minutes=1), T0 + timedelta(minutes=1), POLICY)
    assert decision.action is Action.OPEN


FAR_FUTURE = T0.replace(year=2999)


def test_a_resolve_dated_far_ahead_cannot_hold_the_incident_closed() -> None:
    """After a resolve stamped in 2999 was applied, a real re-fire minutes later reopens."""
    closed = decide(_open(), alert(status=Status.RESOLVED, at=FAR_FUTURE), T0, POLICY).incident
    assert closed is not None and closed.state is State.CLOSED
    later = T0 + timedelta(minutes=10)
    decision = decide(closed, alert(at=later), later, POLICY)
    assert decision.action is Action.REOPEN


def test_a_firing_dated_far_ahead_cannot_keep_the_incident_open() -> None:
    """After a repeat stamped in 2999 was applied, a real resolve minutes later closes."""
    counted = decide(_open(), alert(at=FAR_FUTURE), T0 + timedelta(minutes=1), POLICY).incident
    assert counted is not None
    later = T0 + timedelta(minutes=10)
    decision = decide(counted, alert(status=Status.RESOLVED, at=later), later, POLICY)
    assert decision.action is Action.CLOSE


def test_a_small_skew_still_orders_events() -> None:
    """An event time up to max_future_skew ahead (here set to 5 minutes) still guards: an older
    event arriving within that skew is ignored, as any out-of-order event is."""
    policy = dataclasses.replace(POLICY, max_future_skew=timedelta(minutes=5))
    ahead = T0 + timedelta(minutes=3)
    closed = decide(_open(), alert(status=Status.RESOLVED, at=ahead), T0, policy).incident
    assert closed is not None
    decision = decide(closed, alert(minutes=1), T0 + timedelta(minutes=2), policy)
    assert decision.action is Action.IGNORE


def test_records_written_before_applied_at_existed_cannot_be_held_either() -> None:
    """A record without applied_at (an older release wrote it) bounds the guard by its own
    open/close times, so a 2999 last_event_at stored by that release wedges nothing."""
    legacy = _closed(10, applied_at=None, last_event_at=FAR_FUTURE)
    later = T0 + timedelta(minutes=30)
    assert decide(legacy, alert(at=later), later, POLICY).action is Action.REOPEN


def test_a_member_past_the_tracked_ones_is_counted_once_however_often_it_fires(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Past MAX_MEMBERS a member is only counted: its first event once, and its repeats not
    again (each repeat used to add one and rewrite the group): stamped as before without a
    write, stamped later writing only its time."""
    monkeypatch.setattr(groups, "MAX_MEMBERS", 2)
    key = GroupKey.of("pods", ("alertname",), {"alertname": "Crash"}, 0, str)
    stored: Incident | None = None
    for name in ("a", "b", "c", "d"):
        stored = decide_group(stored, alert(name), T0, POLICY, key).incident
    assert stored is not None and stored.group is not None
    assert (len(stored.group.members), stored.group.untracked) == (2, 2)
    again = decide_group(stored, alert("c"), T0 + timedelta(minutes=1), POLICY, key)
    assert again == Decision(Action.COUNT, None)
    later = decide_group(stored, alert("c", minutes=1), T0 + timedelta(minutes=1), POLICY, key)
    assert later.action is Action.COUNT and later.incident is not None
    assert later.incident.group is not None and later.incident.group.untracked == 2
    quiet = decide_group(stored, alert("d", Status.RESOLVED, minutes=2), T0, POLICY, key)
    assert quiet.action is Action.COUNT and quiet.incident is not None
    assert quiet.incident.group is not None and quiet.incident.group.untracked == 1


def test_a_member_past_the_tracked_ones_firing_again_reopens_a_closed_group(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Once every member resolved, tracked or not, and the group closed, an untracked member
    firing again reopens it, as any member's alert does."""
    monkeypatch.setattr(groups, "MAX_MEMBERS", 2)
    key = GroupKey.of("pods", ("alertname",), {"alertname": "Crash"}, 0, str)
    stored: Incident | None = None
    for name in ("a", "b", "c"):
        stored = decide_group(stored, alert(name), T0, POLICY, key).incident
    for name in ("a", "b", "c"):
        resolved = alert(name, Status.RESOLVED, minutes=1)
        decision = decide_group(stored, resolved, T0 + timedelta(minutes=1), POLICY, key)
        stored = decision.incident or stored
    assert stored is not None and stored.state is State.CLOSED
    stored = dataclasses.replace(stored, refs={"backend": "T-1"})  # its ticket was sent
    again = decide_group(stored, alert("c", minutes=2), T0 + timedelta(minutes=2), POLICY, key)
    assert again.action is Action.REOPEN


def test_a_group_reopen_counts_as_the_update_of_its_interval() -> None:
    """A member joining just after its group reopened is counted, not posted as an update:
    the reopen told the ticket a moment ago."""
    key = GroupKey.of("pods", ("alertname",), {"alertname": "Crash"}, 0, str)
    opened = decide_group(None, alert("a"), T0, POLICY, key).incident
    assert opened is not None
    ticketed = dataclasses.replace(opened, refs={"backend": "T-1"})
    at = T0 + timedelta(minutes=20)
    closed = decide_group(ticketed, alert("a", Status.RESOLVED, at=at), at, POLICY, key).incident
    at += timedelta(minutes=5)
    reopen = decide_group(closed, alert("a", at=at), at, POLICY, key)
    assert reopen.action is Action.REOPEN and reopen.incident is not None
    at += timedelta(minutes=1)
    joined = decide_group(reopen.incident, alert("b", at=at), at, POLICY, key)
    assert joined.action is Action.COUNT


def test_the_same_resolve_again_for_a_closed_group_writes_nothing() -> None:
    """A resolve delivered again after its group closed (SQS delivers at least once) changes
    nothing, so nothing is written (a group is one large record: every duplicate rewrote it)."""
    key = GroupKey.of("pods", ("alertname",), {"alertname": "Crash"}, 0, str)
    opened = decide_group(None, alert("a"), T0, POLICY, key).incident
    at = T0 + timedelta(minutes=5)
    resolved = alert("a", Status.RESOLVED, at=at)
    closed = decide_group(opened, resolved, at, POLICY, key)
    assert closed.action is Action.CLOSE
    again = decide_group(closed.incident, resolved, at + timedelta(minutes=1), POLICY, key)
    assert again == Decision(Action.IGNORE, None)


def test_a_full_group_makes_room_for_a_new_member_by_dropping_the_longest_resolved(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """At MAX_MEMBERS a new member takes the place of the one resolved longest ago, so a group
    that keeps its resolved members (for order) never leaves a firing one untracked for them."""
    monkeypatch.setattr(groups, "MAX_MEMBERS", 2)
    key = GroupKey.of("pods", ("alertname",), {"alertname": "Crash"}, 0, str)
    stored = decide_group(None, alert("a"), T0, POLICY, key).incident
    stored = decide_group(stored, alert("b"), T0, POLICY, key).incident
    stored = decide_group(stored, alert("a", Status.RESOLVED, minutes=1), T0, POLICY, key).incident
    joined = decide_group(stored, alert("c", minutes=2), T0, POLICY, key).incident
    assert joined is not None and joined.group is not None
    assert set(joined.group.members) == {alert("b").fingerprint, alert("c").fingerprint}
    assert joined.group.untracked == 0
