"""A storm's plain repeat: a firing of an open incident that only counts an occurrence,
decided in one copy of the incident instead of the whole lifecycle (`Store.count_repeat`).

A repeat is plain when nothing in it can change the incident's state or call a sink: the
incident is open, its own (no group's), with no effect in progress, held or refused; the alert
fires, is not older than the newest event applied (an older one, or one stamped alike that
`older_event`'s order puts before it or reads as another delivery of it, is the general
rules'), was not applied before, states no priority above its ticket's, and the interval's
update is not due. Anything else, or any doubt, is `None`: the caller takes the general path
(`Store.begin`), which decides every case. What it writes is what the general path writes
for such a repeat, field for field (`tests/test_plain_repeat.py` holds them to it).
"""

from __future__ import annotations

from collections.abc import Callable, Container
from datetime import datetime

from triage.incidents.history import counted_history
from triage.incidents.lifecycle import (
    Action,
    AlertEvent,
    Incident,
    Policy,
    State,
    another_delivery,
    priority_changed,
    queued_at,
    replace_incident,
    stated_priority,
    tie_status,
)
from triage.models import Status


def plain_count(
    stored: Incident | None,
    alert: AlertEvent,
    now: datetime,
    policy: Policy,
    *,
    alert_owner: str,
    counted: str,
    settled: Container[str],
    remember: Callable[[Incident], tuple[str, ...]] | None = None,
) -> Incident | None:
    """`stored` with `alert` (the claim owner `alert_owner`'s, short id `counted`) counted,
    as its next version, when it is a plain repeat (the module docstring); else None.
    `settled`: the short ids whose messages this process saw deleted (`Store._settled`);
    `remember`: what the incident then remembers of its counted repeats, given it (the
    store's bound, `store._remembered`; None: `counted` added to what it remembers)."""
    if stored is None or type(stored) is not Incident:
        return None
    if stored.state is not State.OPEN or stored.group is not None:
        return None
    if stored.pending is not None or stored.held is not None or stored.refused:
        return None
    if alert.status is not Status.FIRING or priority_changed(alert):
        return None
    if getattr(alert, "answers_firing", False):
        return None
    occurred = alert.occurred_at
    if occurred < stored.last_event_at:
        return None  # older: a late repeat, which the general path counts without moving times
    if occurred == stored.last_event_at and (
        stored.guards(occurred, policy, queued_at(alert), status=tie_status(alert))
        or another_delivery(stored, alert, queued_at(alert))
    ):
        # Stamped alike (the repeats of one SendMessageBatch, dated by their queue time): by
        # `older_event`'s order, queued before the newest event, or another delivery of it.
        return None
    if alert_owner in stored.effects_by or counted in stored.counted_by or counted in settled:
        return None  # applied already (another delivery of it)
    ticket = stored.ticket
    if ticket is None:
        return None  # its summary not saved yet: a stated priority is kept for the open
    raised = stated_priority(alert)
    if raised is not None and raised.rank < ticket.priority.rank:
        floor = stored.priority_stated
        if floor is None or raised.rank < floor.rank:
            return None  # a raise: an update at once
    due = (stored.last_update_at or stored.opened_at) + policy.update_interval
    if now >= due:
        return None  # the interval's update
    owed = stored.update_owed_at_s
    occurrences = stored.occurrences + 1
    history = counted_history(stored, Action.COUNT, occurrences, stored.history, now)
    counted_by = (*stored.counted_by, counted) if remember is None else remember(stored)
    return replace_incident(
        stored,
        occurrences=occurrences,
        update_owed_at_s=due.timestamp() if owed is None else owed,
        last_event_at=occurred,
        last_queued_at=queued_at(alert),
        applied_at=now,
        version=stored.version + 1,
        counted_by=counted_by,
        history=history,
    )
