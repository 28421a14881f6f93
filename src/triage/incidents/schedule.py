"""When the sweep must look at an incident, and what it finds due there: an effect its owner
abandoned (`sweep_from`), a failed one's next try (`sweep_retry_delay`), a silence ending, an
escalation, the update a group owes its ticket, a close for want of alerts (`resolve_due`).

Apart from `Store` because these are times, not writes: `Store` stores the earliest of them
with each incident (`Record.sweep_at`), so the sweep reads only the incidents due, and
`ops.sweep` asks the same functions whether an effect is its to take.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from triage.incidents.lifecycle import Incident, Pending, State

#: How far past a lease from now a live claim may end: the clocks of the replicas that claim
#: agree within seconds (DynamoDB's store follows the `Date` of its answers past
#: CLOCK_TRUSTED_S). A claim that ends later than that was made by a clock that was ahead and
#: has been stepped back since; nothing says when it was made, so it is over (`dated_ahead`).
#: Here, not in `store`, because `sweeping` asks it too and cannot import `store`.
CLAIM_CLOCK_SLACK = timedelta(minutes=1)


def dated_ahead(until: datetime, now: datetime, lease: timedelta) -> bool:
    """True when a claim running until `until` ends further ahead of `now` than any live
    claim can (a `lease` and `CLAIM_CLOCK_SLACK`): it was made while the clock was ahead and
    is over, as `begin()` has it (`Store._lease_over`)."""
    return until - now > lease + CLAIM_CLOCK_SLACK


def dated_ahead_after(now: datetime, lease: timedelta) -> datetime:
    """Past this time, the sweep index's time of an incident may be that of a claim a clock
    ahead of `now`'s set (`dated_ahead`): a live claim's lease ends, with the sweep's
    `ABANDONED_GRACE` after it, within a lease and `CLAIM_CLOCK_SLACK` of `now` (a group's
    window, at most half a lease, too). Other times are indexed there as well (escalations,
    silences ending, auto-closes, a failed effect's later tries): the sweep looks at each of
    those once per time it reads there."""
    return now + lease + CLAIM_CLOCK_SLACK


def gathering_ends(incident: Incident, now: datetime) -> datetime | None:
    """When `incident`'s group stops gathering members for its first ticket, if it still
    gathers at `now` (None: it does not). Its effect's `not_before`, unless that lies further
    ahead of `now` than its window can (the group's `window_s` and `CLAIM_CLOCK_SLACK`): set
    while the clock was ahead and stepped back since, the window is over, as a claim
    `dated_ahead` is, rather than holding the first ticket until the clock catches up."""
    pending = incident.pending
    not_before = pending.not_before if pending is not None else None
    if not_before is None or not_before <= now:
        return None
    group = incident.group
    window = timedelta(seconds=group.window_s if group is not None else 0.0)
    return None if dated_ahead(not_before, now, window) else not_before


def escalation_due(incident: Incident, now: datetime, lease: timedelta) -> bool:
    """True when the sweep may claim `incident`'s escalation at `now`: open, ticketed, nothing
    held, past its route's `escalate_after_s`, not escalated yet, and no claim on it running.
    A claim (or a failed escalation's retry time, kept in the same `until`) runs until
    `until`, unless it is `dated_ahead` of `now` by the claims' `lease`: then the clock that
    set it was ahead and has been stepped back, its holder is taken for dead, and the
    escalation is due at once rather than when the clock catches up. (A retry is set a
    minute ahead, `ops.sweep.ESCALATION_RETRY`, never more than `CLAIM_CLOCK_SLACK`.)"""
    escalate_at = incident.escalate_at
    if incident.state is not State.OPEN or escalate_at is None or escalate_at > now:
        return False
    if incident.held is not None or not incident.has_ticket:
        return False
    escalation = incident.escalation
    if escalation is None:
        return True
    if escalation.done_at is not None:
        return False
    return escalation.until <= now or dated_ahead(escalation.until, now, lease)


#: A quiet incident's close goes into the index rounded up to this step: every repeat moves
#: the quiet time, and the index key is rewritten (on DynamoDB, one index write) only when the
#: step it falls in changes, not for each repeat of a storm.
RESOLVE_INDEX_STEP_S = 60


def _index_step_up(at: datetime) -> datetime:
    """`at` rounded up to a whole `RESOLVE_INDEX_STEP_S`: never before it, so the sweep that
    looks then finds the incident due."""
    step = RESOLVE_INDEX_STEP_S
    return datetime.fromtimestamp(-(-at.timestamp() // step) * step, at.tzinfo)


def resolve_due(incident: Incident, now: datetime) -> bool:
    """True when the sweep closes `incident` for want of alerts: open, ticketed, no event
    applied for its route's `resolve_after_s`, and no effect in progress (the close waits
    for it to finish, as a resolve does)."""
    resolve_at = incident.resolve_at
    return resolve_at is not None and resolve_at <= now and incident.pending is None


#: After the first failure of an effect the sweep carries out, it waits this long before the
#: next try; twice as long after each further failure, up to `SWEEP_RETRY_MAX`.
SWEEP_RETRY_FIRST = timedelta(seconds=30)
SWEEP_RETRY_MAX = timedelta(minutes=15)


def sweep_retry_delay(attempts: int) -> timedelta:
    """How long after its `attempts`-th failed try the sweep leaves an effect alone."""
    doubled: timedelta = SWEEP_RETRY_FIRST * 2 ** min(attempts - 1, 16)
    return min(doubled, SWEEP_RETRY_MAX)


#: How long past its lease an effect a message's alert claimed waits before the sweep takes
#: it over. The message usually comes back for it first (SQS shows a dead replica's message
#: again before the lease ends, and the retry redoes the effect with its own alert); the sweep
#: is for the effect whose message never does: its retry routed to another place (a routes
#: change, a member that moved), decided otherwise, or acked by another delivery.
ABANDONED_GRACE = SWEEP_RETRY_FIRST


def sweep_from(pending: Pending) -> datetime:
    """When the sweep may take `pending` over: once its owner's lease has run out (past the
    grace a message's own retry has, when no alert is carried), its wait after a failure is
    over, and, for a group's first ticket, its members' window has closed."""
    lease_end = pending.until if pending.alert is not None else pending.until + ABANDONED_GRACE
    times = [lease_end, pending.retry_at, pending.not_before]
    return max(t for t in times if t is not None)


def sweep_waits(pending: Pending, now: datetime) -> bool:
    """True while an effect is not the sweep's to take (`sweep_from`)."""
    return sweep_from(pending) > now


def sweep_at(incident: Incident) -> float | None:
    """When the sweep must look at `incident` next (None: never, until it changes)."""
    times = []
    pending = incident.pending
    if pending is not None:
        # Redone by the sweep if its owner dies and no message finishes it, or after a
        # failure once its wait is over. In the write that claims it: no write of its own.
        times.append(sweep_from(pending))
    if incident.state is State.CLOSED:
        return min(times).timestamp() if times else None
    if incident.held is not None:
        times.append(incident.held.until)
    escalation, escalate_at = incident.escalation, incident.escalate_at
    if escalate_at is not None and (escalation is None or escalation.done_at is None):
        # A claim's end, or a failed escalation's retry, by the clock that set it: one set
        # while the clock was ahead is due at once after a step back (`escalation_due`), and
        # found, as an effect's claim is, not by this time but by the sweep's pass after the
        # step back (which reads every incident) or, on a replica whose clock never stepped,
        # by its read of the index's far end (`dated_ahead_after`).
        times.append(escalation.until if escalation is not None else escalate_at)
    owed = incident.update_owed_at
    if owed is not None and pending is None and incident.held is None and incident.has_ticket:
        # The update a group owes its ticket (`lifecycle.update_owed_due`); with an effect in
        # progress, the write that finishes it puts this time back.
        times.append(owed)
    resolve_at = incident.resolve_at
    if resolve_at is not None and pending is None:
        # With an effect in progress, the write that finishes it puts this time back.
        times.append(_index_step_up(resolve_at))
    return min(times).timestamp() if times else None
