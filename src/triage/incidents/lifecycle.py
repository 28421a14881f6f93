"""The incident lifecycle: what one alert does to the incident its fingerprint names.

A pure function over DESIGN.md's table, so every store (SQLite, DynamoDB) applies the same rules
inside its own atomic read-modify-write:

    stored \\ incoming | firing                                  | resolved
    none              | open (summarise once)                   | record, no ticket
    open              | count; at most one update per interval  | close
    closed recently   | reopen; flapping after repeated reopens | ignore
    closed long ago   | new ticket                              | ignore

An event older than the newest one applied never moves state backwards, but the newest one's
time is believed only up to `max_future_skew` past the moment it was applied: an event stamped in
the year 2999 cannot hold an incident still (the pipeline also replaces such times on arrival).
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum
from typing import NamedTuple, Protocol

from triage.models import EffectKind, Status, Ticket


class State(StrEnum):
    OPEN = "open"
    CLOSED = "closed"


class Action(StrEnum):
    """What the pipeline does for one alert; the first four have a sink effect."""

    OPEN = "open"
    UPDATE = "update"
    CLOSE = "close"
    REOPEN = "reopen"
    COUNT = "count"  # a repeat inside the update interval: counted, no effect
    RECORD = "record"  # resolved with nothing open: remembered for ordering, no ticket
    IGNORE = "ignore"  # stale or redundant (older event, resolve of a closed incident)
    SILENCED = "silenced"  # a silence matched: counted and stored, its effect held

    @property
    def effect(self) -> EffectKind | None:
        return _EFFECTS.get(self)


class Outcome(NamedTuple):
    """What a message did to one incident: the supervisor logs these when it acks."""

    fingerprint: str
    action: Action


_EFFECTS = {
    Action.OPEN: EffectKind.OPEN,
    Action.UPDATE: EffectKind.UPDATE,
    Action.CLOSE: EffectKind.CLOSE,
    Action.REOPEN: EffectKind.REOPEN,
}


@dataclass(frozen=True, slots=True)
class Policy:
    """Lifecycle windows, from Settings (`TRIAGE_UPDATE_INTERVAL_S`, …)."""

    update_interval: timedelta = timedelta(minutes=15)
    reopen_window: timedelta = timedelta(hours=1)
    flap_threshold: int = 3
    #: How far past the moment it was applied an event's own time is believed (ordering only).
    max_future_skew: timedelta = timedelta(minutes=5)


class AlertEvent(Protocol):
    """What the lifecycle reads of an alert (an `Alert`, or the pipeline's redacted view)."""

    @property
    def fingerprint(self) -> str: ...
    @property
    def source(self) -> str: ...
    @property
    def status(self) -> Status: ...
    @property
    def title(self) -> str: ...
    @property
    def occurred_at(self) -> datetime: ...


@dataclass(frozen=True, slots=True)
class Pending:
    """A sink effect that a worker has claimed but not yet confirmed done.

    Recorded in the same write that decides the effect, so a crash between the sink call and
    the confirmation is healed: after `until`, any worker may take the effect over and redo it
    with the same idempotency key (`seq`).
    """

    kind: EffectKind
    owner: str
    until: datetime
    seq: int
    #: Firing occurrences since the previous update (for UPDATE's comment).
    delta: int = 0
    #: Sinks that already confirmed this effect (skipped on a redo).
    done: tuple[str, ...] = ()
    #: A group's first ticket waits this long for more members (`group_window_s`).
    not_before: datetime | None = None
    #: The alert the effect is for (a redacted view as JSON), when no message carries it: an
    #: effect a silence held and the sweep let go, or an operator's close.
    alert: str | None = None
    #: Failed tries of an effect that carries its own alert, and when the sweep may try it
    #: again (later after each failure, so a sink that is down is not called every pass).
    attempts: int = 0
    retry_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class Held:
    """The effect a silence holds back: carried out when no silence matches any more."""

    kind: EffectKind
    #: The silence that matched last.
    silence: str
    #: The latest alert, redacted (a view as JSON): what the effect is carried out with.
    alert: str
    since: datetime
    #: When that silence ends: the sweep looks again then (or when a silence is expired).
    until: datetime


@dataclass(frozen=True, slots=True)
class Event:
    """One line of an incident's recent history: what a change did, and when."""

    at: datetime
    action: str
    #: A short fixed note (`silence 3fa2…`, `by hand`), never alert text.
    note: str = ""


#: History lines kept per incident (the newest).
HISTORY = 20
EFFECTS_KEPT = 8


@dataclass(frozen=True, slots=True)
class Escalation:
    """An incident's escalation: claimed by `owner` until `until`, done at `done_at`."""

    owner: str
    until: datetime
    done_at: datetime | None = None
    #: The targets (`slack`, `github`) already told: a retry tells only the others.
    sent: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Member:
    """One alert of a group incident, as its latest event left it."""

    status: Status
    #: Redacted, cut: members are listed in the ticket.
    title: str
    last_event_at: datetime
    #: When it last started firing, or resolved.
    since: datetime


@dataclass(frozen=True, slots=True)
class Group:
    """What makes an incident a group: the route that groups it, the label values its members
    agree on, and the members (by their own fingerprints)."""

    route: str
    by: dict[str, str]
    members: dict[str, Member] = field(default_factory=dict)
    #: Members beyond the ones tracked (`MAX_MEMBERS`): counted, never holding the group open.
    untracked: int = 0
    #: Short ids of those members (`groups.MAX_UNTRACKED_IDS` at most), so one is counted once
    #: however often it fires.
    untracked_ids: frozenset[str] = frozenset()
    #: The first ticket waits this long for more members to join.
    window_s: float = 0.0

    @property
    def firing(self) -> int:
        return sum(m.status is Status.FIRING for m in self.members.values())


@dataclass(frozen=True, slots=True)
class Incident:
    """The stored state of one fingerprint; `version` makes every write conditional."""

    fingerprint: str
    state: State
    source: str
    title: str
    opened_at: datetime
    #: occurred_at of the newest event applied: the out-of-order guard.
    last_event_at: datetime
    closed_at: datetime | None = None
    occurrences: int = 0
    occurrences_at_update: int = 0
    last_update_at: datetime | None = None
    #: Reopens whose previous close was within the reopen window, in a row.
    reopens: int = 0
    flapping: bool = False
    #: Each sink's reference for this incident's ticket (`{"backend": "T-17"}`).
    refs: dict[str, str] = field(default_factory=dict)
    ticket: Ticket | None = None
    pending: Pending | None = None
    #: Effects decided so far; the next effect's idempotency key uses seq + 1.
    seq: int = 0
    version: int = 0
    #: When (our clock) the newest event was applied; None in records written before it existed.
    applied_at: datetime | None = None
    #: Set when the incident is a group of alerts (a route with `group_by`).
    group: Group | None = None
    #: From the redacted alert its ticket was opened with (what operators list and silences
    #: match on when no alert is at hand), and the route it took.
    team: str | None = None
    labels: dict[str, str] = field(default_factory=dict)
    route: str | None = None
    #: The route's `escalate_after_s`; the clock runs from opening, or from the latest reopen.
    escalate_after_s: float | None = None
    reopened_at: datetime | None = None
    escalation: Escalation | None = None
    #: A silence holds this incident's effect back.
    held: Held | None = None
    #: The newest changes, oldest first (at most `HISTORY`).
    history: tuple[Event, ...] = ()
    #: The alerts (message id and index) whose effects finished most recently, at most
    #: `EFFECTS_KEPT`: another delivery of one of them (one that waited for the first, or SQS
    #: delivering twice) changes nothing.
    effects_by: tuple[str, ...] = ()

    def noted(self, at: datetime, action: str, note: str = "") -> Incident:
        """This incident with one more line of history."""
        kept = (*self.history, Event(at, action, note))[-HISTORY:]
        return dataclasses.replace(self, history=kept)

    @property
    def escalate_at(self) -> datetime | None:
        """When an open incident of an escalating route is due for escalation."""
        if self.escalate_after_s is None:
            return None
        return (self.reopened_at or self.opened_at) + timedelta(seconds=self.escalate_after_s)

    @property
    def has_ticket(self) -> bool:
        return bool(self.refs) or self.ticket is not None

    def guards(self, occurred_at: datetime, policy: Policy) -> bool:
        """True if an event that occurred at `occurred_at` is older than the newest one applied
        and must be ignored. The newest event's time counts only up to `max_future_skew` (never
        more than the reopen window) past when it was applied, so no event time, however far in
        the future, can hold the incident for longer than that."""
        applied = self.applied_at or max(
            t for t in (self.opened_at, self.closed_at, self.last_update_at) if t is not None
        )
        horizon = applied + min(policy.max_future_skew, policy.reopen_window)
        return occurred_at < min(self.last_event_at, horizon)


@dataclass(frozen=True, slots=True)
class Decision:
    action: Action
    #: The incident to write (None: write nothing).
    incident: Incident | None


def decide(stored: Incident | None, alert: AlertEvent, now: datetime, policy: Policy) -> Decision:
    """Apply one alert to the stored incident; returns what to do and what to store."""
    firing = alert.status is Status.FIRING
    if stored is None:
        new = Incident(
            fingerprint=alert.fingerprint,
            state=State.OPEN if firing else State.CLOSED,
            source=alert.source,
            title=alert.title,
            opened_at=now,
            last_event_at=alert.occurred_at,
            closed_at=None if firing else now,
            occurrences=1 if firing else 0,
            # The opening occurrence is in the ticket: the first update counts the ones after it.
            occurrences_at_update=1 if firing else 0,
            applied_at=now,
        )
        return Decision(Action.OPEN if firing else Action.RECORD, new)

    if stored.guards(alert.occurred_at, policy):
        return Decision(Action.IGNORE, None)
    if stored.state is State.OPEN and firing:
        # A repeat, the storm's case: one copy of the incident, not one per change.
        occurrences = stored.occurrences + 1
        since = stored.last_update_at or stored.opened_at
        if now - since >= policy.update_interval:
            updated = dataclasses.replace(
                stored,
                last_event_at=alert.occurred_at,
                applied_at=now,
                occurrences=occurrences,
                last_update_at=now,
                occurrences_at_update=occurrences,
            )
            return Decision(Action.UPDATE, updated)
        counted = dataclasses.replace(
            stored, last_event_at=alert.occurred_at, applied_at=now, occurrences=occurrences
        )
        return Decision(Action.COUNT, counted)
    seen = dataclasses.replace(stored, last_event_at=alert.occurred_at, applied_at=now)

    if stored.state is State.OPEN:
        return Decision(Action.CLOSE, dataclasses.replace(seen, state=State.CLOSED, closed_at=now))

    # Closed (or only ever seen resolved).
    if not firing:
        return Decision(Action.IGNORE, seen)
    closed_at = stored.closed_at or stored.opened_at
    if stored.has_ticket and now - closed_at <= policy.reopen_window:
        reopens = stored.reopens + 1
        occurrences = stored.occurrences + 1
        return Decision(
            Action.REOPEN,
            dataclasses.replace(
                seen,
                state=State.OPEN,
                closed_at=None,
                occurrences=occurrences,
                reopens=reopens,
                flapping=stored.flapping or reopens >= policy.flap_threshold,
                # The reopen tells the ticket the occurrences so far: the update of its interval.
                last_update_at=now,
                occurrences_at_update=occurrences,
            ),
        )
    # Closed long ago, or never ticketed: a new incident under the same fingerprint.
    fresh = Incident(
        fingerprint=stored.fingerprint,
        state=State.OPEN,
        source=alert.source,
        title=alert.title,
        opened_at=now,
        last_event_at=alert.occurred_at,
        occurrences=1,
        occurrences_at_update=1,
        seq=stored.seq,
        version=stored.version,
        applied_at=now,
    )
    return Decision(Action.OPEN, fresh)
