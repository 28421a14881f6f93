"""The incident lifecycle: what one alert does to the incident its fingerprint names.

A pure function over DESIGN.md's table, so every store (SQLite, DynamoDB) applies the same rules
inside its own atomic read-modify-write:

    stored \\ incoming | firing                                  | resolved
    none              | open (summarise once)                   | record, no ticket
    open              | count; at most one update per interval  | close
    closed recently   | reopen; flapping after repeated reopens | ignore
    closed long ago   | new ticket                              | ignore

A flapping incident's resolve is *damped*: the incident is closed, but its tickets are told only
once it has stayed resolved for `Policy.quiet` (a close held back, `FLAP_HOLD`, that the sweep
carries out). A firing in that wait is an occurrence of the incident its tickets still show
open: counted, with no effect. The close that goes out ends the flapping: the next reopen
counts afresh. So does one after a close by hand (`closed_by_hand`): the alert never resolved.

An event older than the newest one applied never moves state backwards, but the newest one's
time is believed only up to `max_future_skew` past the moment it was applied: an event stamped in
the year 2999 cannot hold an incident still (the pipeline also replaces such times on arrival).
Events are ordered by their own time, then by when their messages were queued, then a firing
after a resolve (`older_event`): one order, so replicas writing them in either order agree.
"""

from __future__ import annotations

import dataclasses
from collections import ChainMap
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from types import MappingProxyType
from typing import NamedTuple, Protocol

from triage.models import EffectKind, Priority, Status, Ticket
from triage.view import Matched, RedactedAlert


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
    DAMPED = "damped"  # a flapping incident resolved: closed, its tickets told when it stays so

    @property
    def effect(self) -> EffectKind | None:
        return _EFFECTS.get(self)


class Outcome(NamedTuple):
    """What a message did to one incident: the supervisor logs these when it acks, naming
    the alert by its fingerprint and its source, as every line of one alert does."""

    fingerprint: str
    action: Action
    #: The alert's source (`cloudwatch`, `generic` …); empty from a handler that names none.
    source: str = ""


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
    max_future_skew: timedelta = timedelta(seconds=5)
    #: How long a flapping incident must stay resolved before its tickets are closed (None:
    #: the reopen window; zero: at once, every resolve closes them).
    flap_quiet: timedelta | None = None
    #: How long a member's record of the group it fires in is kept past its last join
    #: (TRIAGE_CLOSED_TTL_S, as `Store.place_member` keeps it): a member firing on resends
    #: stamped as before joins again well within it (`groups.rejoin_due`).
    member_kept: timedelta = timedelta(days=30)

    @property
    def quiet(self) -> timedelta:
        """The quiet period a flapping incident's close waits for. By default the reopen
        window: only a silence that long shows the flapping is over, as a re-fire sooner would
        count as one more reopen (and one more close, reopen and comment)."""
        return self.reopen_window if self.flap_quiet is None else self.flap_quiet


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
class Refusal:
    """An effect a sink refused for good in a way that failed the message of the alert that
    tried it (a 400 from the backend): that alert's next delivery, or its DLQ redrive, sends
    the effect to the sink again (`Store.begin`)."""

    kind: EffectKind
    #: The alert (message id and index) whose delivery tried it.
    alert: str


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
    #: A short note (`silence 3fa2…`, `by hand`, `backend: T-812`, `40 alerts (+39)`), never
    #: alert text; a sink's reference is its answer, redacted and escaped where shown.
    note: str = ""


#: The owner of a close held back while its incident flaps (`Pending.owner`): nobody holds it
#: until it is due at `Pending.until`; then the sweep takes it over, as it does an abandoned
#: effect that carries its alert (one conditional write: one replica carries it out), or the
#: incident's next message does, before its own alert.
FLAP_HOLD = "flapping-hold"

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
    #: When the message of its newest event was queued (None: not known): of two events of
    #: the member stamped alike, the one queued later is the newer (queued alike too, the
    #: firing), as for an incident.
    last_queued_at: datetime | None = None

    def newer_than(
        self, occurred_at: datetime, queued_at: datetime | None, *, status: Status | None
    ) -> bool:
        """This member's newest event is newer than an event of `status` at `occurred_at`
        (its message queued at `queued_at`), which is then older and must be ignored
        (`older_event`'s order)."""
        mine = (self.last_event_at, self.last_queued_at, self.status)
        return older_event((occurred_at, queued_at, status), mine)


@dataclass(frozen=True, slots=True)
class Trace:
    """The newest event of a group's member that is not tracked (one counted past
    `groups.MAX_MEMBERS`, or one that made room for another): its time, and when its message
    was queued (None: not known), for the order its events are applied in. Whether it fires is
    whether the group counts its short id firing (`Group.untracked_ids`), which releases
    before this field keep as well, or its bit past the ids (`Group.untracked_bits`)."""

    last_event_at: datetime
    last_queued_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class Group:
    """What makes an incident a group: the route that groups it, the label values its members
    agree on, and the members (by their own fingerprints)."""

    route: str
    by: dict[str, str]
    members: dict[str, Member] = field(default_factory=dict)
    #: Members beyond the ones tracked (`MAX_MEMBERS`), counted while they fire: each holds the
    #: group open as a tracked member firing does, and its resolve (known by its short id in
    #: `untracked_ids`) takes it off the count, as nothing else of it is kept.
    untracked: int = 0
    #: Short ids of those members (`groups.MAX_UNTRACKED_IDS` at most), so one is counted once
    #: however often it fires.
    untracked_ids: frozenset[str] = frozenset()
    #: The first ticket waits this long for more members to join.
    window_s: float = 0.0
    #: The newest event of each member that is not tracked, by short id
    #: (`groups.MAX_UNTRACKED_TIMES` at most): an event of one older than it is ignored, as a
    #: tracked member's is (`Member.newer_than`).
    untracked_times: dict[str, Trace] = field(default_factory=dict)
    #: Members counted past the ids too (`groups.MAX_UNTRACKED_IDS`), each known by one bit
    #: of this bitmap, set by a hash of its fingerprint while it fires (`groups.HASHED_BITS`
    #: bits, empty while none is set): a resend of one finds its bit set and is not counted
    #: again, its resolve clears it. Members sharing a bit are counted once, so the group may
    #: close while one of them fires; its next resend reopens it.
    untracked_bits: bytes = b""

    @property
    def firing(self) -> int:
        """Tracked members firing."""
        return sum(m.status is Status.FIRING for m in self.members.values())

    @property
    def still_firing(self) -> int:
        """Members firing, tracked or not: the group closes when none is."""
        return self.firing + self.untracked


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
    #: When a resolve of this incident was damped: the time its held close is due (while
    #: `pending` holds it), then the time its tickets were closed; None after any other close.
    quiet_until: datetime | None = None
    #: Each sink's reference for this incident's ticket (`{"backend": "T-17"}`).
    refs: dict[str, str] = field(default_factory=dict)
    #: The references a sink said are gone for good (deleted, archived, moved out of reach),
    #: by sink name (`{"github": "https://…/issues/7"}`). A mark counts only while it is the
    #: sink's reference in `refs`: a reference written since (a re-fire's new ticket, even by a
    #: release that does not know this field) makes it void. Written only when set.
    gone: dict[str, str] = field(default_factory=dict)
    #: The effects sinks refused for good, failing their messages, by sink name: the alert
    #: whose delivery tried one sends it to that sink again on its next delivery or DLQ
    #: redrive, while every other alert of the incident goes on without it. A refusal by a
    #: sink that holds no ticket here (its open refused) also makes the incident's next
    #: update or reopen send that sink an open (`owed`). Kept until the sink answers
    #: otherwise, while the incident stays as the effect left it (open, or closed for a
    #: refused close); written only when set.
    refused: dict[str, Refusal] = field(default_factory=dict)
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
    #: match on when no alert is at hand), and the route it took. Before its ticket, the
    #: route its opening alert chose whatever the summary says (`alert_route`; None: the
    #: summary decides), which an open carried out without the alert goes by.
    team: str | None = None
    labels: dict[str, str] = field(default_factory=dict)
    #: The labels past the 64 `labels` keeps, from the same alert, redacted and bounded
    #: (`codec.past_cap_kept`): never shown nor sent, read only by silences and a listing's
    #: matchers (`matched`), so a silence on one holds the sweep's owed update and escalation
    #: as it held the alert. Written only when set.
    labels_past_cap: dict[str, str] = field(default_factory=dict)
    route: str | None = None
    #: The route's `escalate_after_s`; the clock runs from opening, or from the latest reopen.
    escalate_after_s: float | None = None
    reopened_at: datetime | None = None
    escalation: Escalation | None = None
    #: The route's `resolve_after_s`, copied with the ticket as `escalate_after_s` is: open
    #: with no event applied for that long, the incident is closed by the sweep (`resolve_at`).
    resolve_after_s: float | None = None
    #: A silence holds this incident's effect back.
    held: Held | None = None
    #: The newest changes, oldest first (at most `HISTORY`).
    history: tuple[Event, ...] = ()
    #: The alerts (message id and index) whose effects finished most recently, at most
    #: `EFFECTS_KEPT`: another delivery of one of them (one that waited for the first, or SQS
    #: delivering twice) changes nothing.
    effects_by: tuple[str, ...] = ()
    #: Short ids of the alerts whose repeats were counted and whose messages may still come
    #: back (not yet seen deleted; at most `store.COUNTED_KEPT`): another delivery of one (its
    #: delete failed, or its worker died before it) is not counted again.
    counted_by: tuple[str, ...] = ()
    #: When an operator closed it by hand (`triage incidents close`), while it stays closed by
    #: that close (equal to `closed_at`): an event whose message was queued before it (a
    #: repeat redriven from the DLQ, a slow delivery) was there for the close to answer, and
    #: reopens nothing, though stamped after the newest event applied. Written only when set.
    closed_by_hand_at: datetime | None = None
    #: When the message of the newest event applied was queued (None: not known): of two
    #: events stamped alike, the one queued later is the newer, and of two queued alike too,
    #: the firing (`older_event`), so replicas that write them in either order agree.
    last_queued_at: datetime | None = None
    #: When (epoch seconds, this side's clock) the update an incident owes its ticket may go
    #: out: occurrences were counted inside the update interval (a group's members joined,
    #: fired again or resolved), and the ticket tells those of its last effect. The update
    #: goes out with the next event after that time, or the sweep's (`update_owed_due`). A number rather than a time, so
    #: every store keeps it as it is; None: nothing owed.
    update_owed_at_s: float | None = None
    #: The priority the ticket had before the update that last moved it (a raise by a source's
    #: repeat, or a person's change), until the incident's next effect is decided: what that
    #: update's sinks are told it moved from (`Effect.priority_was`); a redo of the update reads
    #: it alike. None: the latest effect moved no priority. Written only when set.
    priority_was: Priority | None = None
    #: The highest priority the incident's alerts stated since its ticket opened or reopened
    #: (the source's, else its severity's), None when none stated one: a repeat raises the
    #: ticket only past it, so a summary that read the alert as one step below its severity
    #: is not undone by the next repeat at that severity, nor a person's lowering by the next
    #: repeat at the level they lowered from. Written only when set.
    priority_stated: Priority | None = None
    #: When the person's change of the priority that the ticket last took was made (the
    #: change's own time, believed only up to `max_future_skew` past when it was applied, as
    #: an event's is), None when no person changed it: a change made before it, delivered
    #: after it, is stale (`changing_priority`). A change is no event of the alert, so the
    #: incident's newest event cannot judge it. Written only when set.
    priority_changed_at: datetime | None = None
    #: When this fingerprint's incident before this one had its newest event (its resolve),
    #: for an incident opened anew after it was closed past the reopen window (None: none
    #: before, or this one reopened): a late firing stamped before it happened in that closed
    #: incident (SQS handing out a message from before its close only now) and is not counted
    #: as this one's (`_counted_here`). Written only when set.
    counted_from: datetime | None = None
    #: What this release does not know of the stored record (fields a newer release wrote, at
    #: the top level or inside the ticket, effect, hold, escalation, group or history): kept
    #: as read and written back unchanged by `codec.py`, never read here. Empty for an
    #: incident this release makes afresh.
    unknown: Mapping[str, object] = field(default_factory=dict)

    @property
    def matched(self) -> Matched:
        """This incident as a silence or a listing's matcher reads it when no alert is held
        (`silences.Subject`): its fields, and every label it keeps, those past the 64 it
        shows too. No sink takes one, so those labels cannot reach a ticket through it.
        A group is read by the labels every member has alike (`groups.agreed_labels`: those it
        is keyed by, and those its members shared before its ticket opened), not the labels of
        the member its ticket opened with: a silence on that member's own label
        (`pod=api-0`) must not hold the storm's owed updates and escalation (README: a silence
        on one member does not quiet the storm)."""
        labels: Mapping[str, str] = self.labels
        if self.group is not None:
            shared = self.labels if self.ticket is None else {}
            labels = {**shared, **self.group.by}
        elif self.labels_past_cap:
            labels = ChainMap(dict(self.labels), dict(self.labels_past_cap))
        return Matched(self.source, self.team, self.title, labels)

    def noted(self, at: datetime, action: str, note: str = "") -> Incident:
        """This incident with one more line of history."""
        kept = (*self.history, Event(at, action, note))[-HISTORY:]
        return replace_incident(self, history=kept)

    @property
    def escalate_at(self) -> datetime | None:
        """When an open incident of an escalating route is due for escalation."""
        if self.escalate_after_s is None:
            return None
        return (self.reopened_at or self.opened_at) + timedelta(seconds=self.escalate_after_s)

    @property
    def resolve_at(self) -> datetime | None:
        """When an open, ticketed incident of a route with `resolve_after_s` is closed for
        want of alerts: that long after its newest event was applied (this side's clock, not
        the source's, so a skewed timestamp cannot close it early or keep it open)."""
        if self.resolve_after_s is None or self.state is not State.OPEN or not self.has_ticket:
            return None
        last = self.applied_at or self.opened_at
        return last + timedelta(seconds=self.resolve_after_s)

    @property
    def update_owed_at(self) -> datetime | None:
        """When the update this incident owes its ticket may go out (None: nothing owed)."""
        owed = self.update_owed_at_s
        return None if owed is None else datetime.fromtimestamp(owed, UTC)

    def ticket_gone(self, sink: str) -> bool:
        """`sink` said this incident's ticket there is gone for good (and no new one since)."""
        gone = self.gone.get(sink)
        return gone is not None and gone == self.refs.get(sink)

    @property
    def has_ticket(self) -> bool:
        return bool(self.refs) or self.ticket is not None

    @property
    def owed(self) -> tuple[str, ...]:
        """The sinks that refused this incident's ticket for good and hold none: its next
        update or reopen sends each of them an open instead (a close opens nothing)."""
        return tuple(sink for sink in self.refused if sink not in self.refs)

    @property
    def close_held_until(self) -> datetime | None:
        """When the close held back while this incident flapped is due, until it has gone out
        (None: no close is held)."""
        pending = self.pending
        if self.quiet_until is None or pending is None:
            return None
        # An update may hold the effect's place for a while (`displaced_close`).
        held = pending.kind is EffectKind.CLOSE or displaced_close(self)
        return self.quiet_until if held else None

    def close_waits(self, now: datetime) -> bool:
        """True while this incident's close is held back and not yet due: it resolved while
        flapping and has stayed resolved since, for less than the quiet period."""
        pending = self.pending
        return pending is not None and pending.owner == FLAP_HOLD and pending.until > now

    def guards(
        self,
        occurred_at: datetime,
        policy: Policy,
        queued_at: datetime | None = None,
        *,
        status: Status | None,
    ) -> bool:
        """True if an event of `status` that occurred at `occurred_at` (its message queued at
        `queued_at`) is older than the newest one applied and must be ignored (`older_event`'s
        order; the newest one was a firing while the incident is open, a resolve once it has
        closed). The newest event's time counts only up to `max_future_skew` (never more than
        the reopen window) past when it was applied, so no event time, however far in the
        future, can hold the incident for longer than that."""
        if self._queued_before_a_close_by_hand(queued_at):
            return True
        applied = self.applied_at or max(
            t for t in (self.opened_at, self.closed_at, self.last_update_at) if t is not None
        )
        horizon = applied + min(policy.max_future_skew, policy.reopen_window)
        if occurred_at < min(self.last_event_at, horizon):
            return True
        if occurred_at != self.last_event_at:
            return False
        newest = Status.FIRING if self.state is State.OPEN else Status.RESOLVED
        return older_event(
            (occurred_at, queued_at, status), (occurred_at, self.last_queued_at, newest)
        )

    def _queued_before_a_close_by_hand(self, queued_at: datetime | None) -> bool:
        """A close by hand is no event of the alert (`last_event_at` stays the firing's), yet
        it answers every message queued before it: such a message is older than the close."""
        return (
            self.state is State.CLOSED
            and self.closed_by_hand_at is not None
            and self.closed_by_hand_at == self.closed_at
            and queued_at is not None
            and queued_at < self.closed_by_hand_at
        )


#: One event of an alert, as the order of its events reads it: its own time, when its message
#: was queued (None: not known), its status (None: a move's resolve, see `tie_status`).
EventKey = tuple[datetime, datetime | None, Status | None]


def older_event(event: EventKey, than: EventKey) -> bool:
    """`event` is older than `than`, in the one order every replica applies to an alert's
    events, whichever it writes first. By their own time; stamped alike, by when their
    messages were queued; queued alike as well (one SendMessageBatch, a stamp to the second),
    a resolve is older than a firing: of a resolve and a firing in one instant, the firing is
    the alert's state now (a firing that ends at once is no firing; a re-fire starts where
    the resolve ended), so the incident stays or becomes open in either order. Events of one
    status stamped and queued alike are one event (another delivery): neither is older. An
    event whose queue time is not known is older than none stamped alike, and so is a move's
    resolve (`tie_status`): of those, the one applied last counts."""
    at, queued, status = event
    than_at, than_queued, than_status = than
    if at != than_at:
        return at < than_at
    if queued is None or than_queued is None:
        return False
    if queued != than_queued:
        return queued < than_queued
    return status is Status.RESOLVED and than_status is Status.FIRING


def tie_status(alert: AlertEvent) -> Status | None:
    """What `older_event` ranks `alert` by among events stamped and queued alike: its status;
    None for a resolve triage writes itself in answer to a firing, marked `answers_firing`
    (`AnswersFiring`: a move's, or a parent's deletion's). Stamped and queued as the
    firing it answers, it is no older than that firing: written after it, it takes it back."""
    if getattr(alert, "answers_firing", False):
        return None
    return alert.status


def answer_queued_at(
    stored: Incident, alert: AlertEvent, queued: datetime | None
) -> datetime | None:
    """The queue time to store for `alert` applied over `stored`: its own, but for an answer
    (`AnswersFiring`) applied over the firing it answers (stamped and queued alike, the open
    incident's newest event), a microsecond after it. Its firing's message delivered again
    (SQS's redelivery, a lost delete) then ranks older than the answer (`older_event`) and is
    ignored, rather than reopening what the answer closed: as stored, a resolve stamped and
    queued alike with a firing ranks older than it."""
    answered = (
        tie_status(alert) is None
        and queued is not None
        and stored.state is State.OPEN
        and stored.last_event_at == alert.occurred_at
        and stored.last_queued_at == queued
    )
    return queued + timedelta(microseconds=1) if answered and queued is not None else queued


def _incident_copier() -> Callable[[Incident], Incident]:
    """A function that copies an incident field by field, each set through its slot.

    Written out for `Incident`'s fields, as `dataclasses` writes `__init__`: a loop over the
    slots costs twice as much, and `Incident(**fields)` sets each field through the frozen
    class's `object.__setattr__`."""
    names = [f.name for f in dataclasses.fields(Incident)]
    scope: dict[str, object] = {"new": object.__new__, "Incident": Incident}
    scope.update({f"set_{name}": getattr(Incident, name).__set__ for name in names})
    body = "".join(f"    set_{name}(copy, incident.{name})\n" for name in names)
    source = f"def copy_incident(incident):\n    copy = new(Incident)\n{body}    return copy\n"
    exec(source, scope)  # the source is built above from the field names alone
    copier: Callable[[Incident], Incident] = scope["copy_incident"]  # type: ignore[assignment]
    return copier


_copy_incident = _incident_copier()
#: How each field of an incident is set on a copy (its slot's setter, which frozen allows).
_SET_FIELD: dict[str, Callable[[Incident, object], None]] = {
    f.name: getattr(Incident, f.name).__set__ for f in dataclasses.fields(Incident)
}


def replace_incident(incident: Incident, **changes: object) -> Incident:
    """`dataclasses.replace(incident, **changes)`, in a third of the time: a storm's repeat
    makes two of these. `Incident` has no `__post_init__` and no init-only field, so a copy
    with the changes set is the incident `replace` would make (TypeError for a name that is
    not a field, as `replace` raises); a subclass's incident is left to `replace`."""
    if type(incident) is not Incident:
        return dataclasses.replace(incident, **changes)  # type: ignore[arg-type]
    copy = _copy_incident(incident)
    for name, value in changes.items():
        setter = _SET_FIELD.get(name)
        if setter is None:
            raise TypeError(f"Incident has no field {name!r}")
        setter(copy, value)
    return copy


@dataclass(frozen=True, slots=True)
class Decision:
    action: Action
    #: The incident to write (None: write nothing).
    incident: Incident | None


def queued_at(alert: AlertEvent) -> datetime | None:
    """When the message of `alert` was queued, if it says (the pipeline's events do; an
    `Alert` alone does not)."""
    queued: datetime | None = getattr(alert, "queued_at", None)
    return queued


def alert_route(alert: AlertEvent) -> str | None:
    """The route an opening alert's whole labels chose, kept with its new incident until its
    ticket's route replaces it (the pipeline's events say, read only when an incident opens:
    a repeat never reads it; None: the summary decides it, or the event does not say)."""
    route: str | None = getattr(alert, "alert_route", None)
    return route


class AnswersFiring:
    """A resolve triage writes itself in answer to a firing (an event, marked): a move's,
    taking its alert out of a place, or a parent's deletion's, closing a child. Stamped and
    queued as the firing it answers, it is no older than it (`tie_status`), and takes the
    alert out when written after it, as any resolve of its alert does in another instant."""

    __slots__ = ("_event",)

    answers_firing = True

    def __init__(self, event: AlertEvent) -> None:
        self._event = event

    @property
    def fingerprint(self) -> str:
        return self._event.fingerprint

    @property
    def source(self) -> str:
        return self._event.source

    @property
    def status(self) -> Status:
        return self._event.status

    @property
    def title(self) -> str:
        return self._event.title

    @property
    def occurred_at(self) -> datetime:
        return self._event.occurred_at

    @property
    def queued_at(self) -> datetime | None:
        return queued_at(self._event)


def decide(stored: Incident | None, alert: AlertEvent, now: datetime, policy: Policy) -> Decision:
    """Apply one alert to the stored incident; returns what to do and what to store. A firing
    that states a priority above its open ticket's updates the ticket at once
    (`with_priority_raised`); a person's change of the priority is no firing
    (`changing_priority`)."""
    if priority_changed(alert):
        return changing_priority(stored, alert, now, policy)
    return with_priority_raised(stored, alert, now, _decide(stored, alert, now, policy))


def _decide(stored: Incident | None, alert: AlertEvent, now: datetime, policy: Policy) -> Decision:
    """`decide` by DESIGN.md's table alone (the module docstring), priority aside."""
    firing = alert.status is Status.FIRING
    queued = queued_at(alert)
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
            last_queued_at=queued,
            route=alert_route(alert) if firing else None,
            # The floor a later raise must pass, kept in the open's own copy (`_stated_at_open`).
            priority_stated=stated_priority(alert) if firing else None,
        )
        return Decision(Action.OPEN if firing else Action.RECORD, new)

    if stored.guards(alert.occurred_at, policy, queued, status=tie_status(alert)):
        if firing and stored.state is State.OPEN and _counted_here(stored, alert):
            # A late repeat (SQS keeps no order): it happened while the incident fired, so
            # it is counted, and moves none of the newest event's times.
            return repeated(stored, now, policy)
        return Decision(Action.IGNORE, None)
    if stored.state is State.OPEN and firing:
        if another_delivery(stored, alert, queued):
            return Decision(Action.IGNORE, None)
        # A repeat, the storm's case: one copy of the incident, not one per change.
        return repeated(stored, now, policy, last_event_at=alert.occurred_at, last_queued_at=queued)
    seen = replace_incident(
        stored,
        last_event_at=alert.occurred_at,
        last_queued_at=answer_queued_at(stored, alert, queued),
        applied_at=now,
    )

    if stored.state is State.OPEN:
        return closing(stored, seen, alert, now, policy)

    # Closed (or only ever seen resolved).
    if not firing:
        return Decision(Action.IGNORE, seen)
    if stored.close_waits(now):
        return fired_while_close_waits(seen)
    if reopenable(stored, now, policy):
        return reopening(stored, seen, now, policy)
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
        last_queued_at=queued,
        route=alert_route(alert),
        priority_stated=stated_priority(alert),
        counted_from=stored.last_event_at,
    )
    return Decision(Action.OPEN, fresh)


def _counted_here(stored: Incident, alert: AlertEvent) -> bool:
    """The late repeat `alert` (older than the open incident `stored`'s newest event) is
    counted in it: seen for the first time (`first_sight`), and not stamped before the newest
    event of the closed incident this one opened anew after (`Incident.counted_from`): that
    firing was one of its, whose ticket is closed, not one of this new ticket's."""
    before = stored.counted_from
    return first_sight(alert) and (before is None or alert.occurred_at >= before)


def another_delivery(stored: Incident, alert: AlertEvent, queued: datetime | None) -> bool:
    """`alert` is stamped and queued as the newest firing `stored` applied, and is no first
    sight of its message: another delivery of that firing (SQS keeps a copy of a message it
    was asked to delete). Its short id may have left `Incident.counted_by` once the delete
    was confirmed (`Store._settled`), so the order of events is what tells it apart; a first
    sight stamped and queued alike (one SendMessageBatch of alike repeats) is still counted."""
    return (
        queued is not None
        and alert.occurred_at == stored.last_event_at
        and queued == stored.last_queued_at
        and not first_sight(alert)
    )


def first_sight(alert: AlertEvent) -> bool:
    """`alert` is seen for the first time: its message's first delivery, which no other
    message may carry again (the pipeline's event says; see `_Event.first_sight`). Only such a
    late repeat is counted: another copy of one counted before is older than the newest event
    too, and its short id may have been dropped from `Incident.counted_by` since."""
    return bool(getattr(alert, "first_sight", False))


def repeated(
    stored: Incident, now: datetime, policy: Policy, **newest: datetime | None
) -> Decision:
    """A firing of the open incident `stored` counted (`newest`: its event's times, when it is
    the newest event; a late repeat moves none): the interval's update when it is due, else
    owed to the ticket when the interval ends, by the next repeat or the sweep
    (`update_owed_due`), so a storm ending mid-interval is still told in full. Set by the
    first such repeat, in the write it makes anyway. One copy of the incident, not one per
    change."""
    occurrences = stored.occurrences + 1
    moved: dict[str, object] = dict(newest, applied_at=now) if newest else {}
    due = (stored.last_update_at or stored.opened_at) + policy.update_interval
    if now >= due:
        updated = replace_incident(
            stored,
            occurrences=occurrences,
            last_update_at=now,
            occurrences_at_update=occurrences,
            update_owed_at_s=None,
            **moved,
        )
        return Decision(Action.UPDATE, updated)
    owed = stored.update_owed_at_s
    counted = replace_incident(
        stored,
        occurrences=occurrences,
        update_owed_at_s=due.timestamp() if owed is None else owed,
        **moved,
    )
    return Decision(Action.COUNT, counted)


def stated_priority(alert: AlertEvent) -> Priority | None:
    """The priority `alert` states: the pipeline's event says the source's, else the one its
    severity maps to (`_Event.priority`); None when it states none (a repeat without one
    changes no ticket)."""
    priority: Priority | None = getattr(alert, "priority", None)
    return priority


def priority_changed(alert: AlertEvent) -> bool:
    """`alert` is a person's change of its incident's priority in the source
    (`Alert.priority_changed`), not a firing."""
    return bool(getattr(alert, "priority_changed", False))


def with_priority_raised(
    stored: Incident | None, alert: AlertEvent, now: datetime, decision: Decision
) -> Decision:
    """`decision` for the firing `alert`, but an update carrying the new priority when the
    alert states one above the open ticket's: a raise is news, so it goes out at once, not at
    the end of the update interval; once raised, repeats at that priority add nothing more.
    A lower priority changes nothing: an alert flapping between warning and critical must not
    churn the ticket, and the ticket stays at the highest its alerts stated. Only a repeat
    (counted, or the interval's update) of an incident with a ticket is raised: an open, a
    reopen or a close says its own priority, and before its ticket the summary decides it.
    Also read for a group's member (`groups.decide_group`): it raises the group's ticket.
    A raise must also pass what the incident's alerts stated before (`priority_stated`, kept
    from its open or reopen on), so a ticket a summary or a person set below that stays."""
    if decision.action in (Action.OPEN, Action.REOPEN) and alert.status is Status.FIRING:
        opened = _stated_at_open(decision, stated_priority(alert))
        return _reopened_higher(opened) if decision.action is Action.REOPEN else opened
    if stored is None or decision.action not in (Action.COUNT, Action.UPDATE):
        return _move_told(decision)
    if alert.status is not Status.FIRING:
        return _move_told(decision)
    # Judged on what is decided, else on what is stored (a repeat counted without a write):
    # a copy is made only for a raise, not for every repeat of a storm.
    seen = decision.incident or stored
    ticket = seen.ticket
    raised = stated_priority(alert)
    if seen.state is not State.OPEN or raised is None:
        return _move_told(decision)
    if ticket is None:
        return _stated_before_ticket(stored, seen, raised, now, decision)
    floor = seen.priority_stated
    if raised.rank >= ticket.priority.rank or (floor is not None and raised.rank >= floor.rank):
        return _move_told(decision)
    incident = decision.incident or replace_incident(stored, applied_at=now)
    return _updated_to(replace_incident(incident, priority_stated=raised), ticket, raised, now)


def _stated_at_open(decision: Decision, stated: Priority | None) -> Decision:
    """An open or reopen `decision`, its incident keeping what its alert stated (the floor a
    later raise must pass) and no move of an earlier update to tell."""
    incident = decision.incident
    if incident is None:
        return decision
    if incident.priority_stated is stated and incident.priority_was is None:
        return decision
    return Decision(
        decision.action, replace_incident(incident, priority_stated=stated, priority_was=None)
    )


def _reopened_higher(decision: Decision) -> Decision:
    """A reopen `decision` whose alert states a priority above the closed ticket's: the
    reopen carries it, told as a raise (`priority_was`: the ticket's before), as a repeat's
    raise is; at or below the ticket's, the reopen keeps the ticket as it was (a re-fire at
    warning must not lower a ticket a critical opened)."""
    incident = decision.incident
    stated = incident.priority_stated if incident is not None else None
    if incident is None or incident.ticket is None or stated is None:
        return decision
    if stated.rank >= incident.ticket.priority.rank:
        return decision
    moved = incident.ticket.model_copy(update={"priority": stated})
    raised = replace_incident(incident, ticket=moved, priority_was=incident.ticket.priority)
    return Decision(decision.action, raised)


def _stated_before_ticket(
    stored: Incident, seen: Incident, raised: Priority, now: datetime, decision: Decision
) -> Decision:
    """A repeat stating `raised` of an open incident whose summary is not saved yet, above
    every priority stated so far. While a group gathers its members (its open waits for
    `not_before`, or a silence holds it), the priority is kept as stated (`priority_stated`)
    and the open carries it (`effects.raised_as_stated`): the first thing every sink hears is
    the right priority, and the member is not held up for the window. An open in flight (a
    worker summarising it now, which read the incident before this write) cannot carry it:
    the repeat is then an update, which waits for that open as any effect waits for one in
    progress, and is decided again once the ticket is saved: a raise like any other."""
    floor = seen.priority_stated
    if floor is not None and raised.rank >= floor.rank:
        return _move_told(decision)
    incident = decision.incident or replace_incident(stored, applied_at=now)
    stated = replace_incident(incident, priority_stated=raised)
    in_flight = _open_in_flight(stored, now)
    return Decision(Action.UPDATE if in_flight else decision.action, stated)


def _open_in_flight(stored: Incident, now: datetime) -> bool:
    """`stored`'s open was claimed by a worker that read the incident before this write:
    every open but a group's first ticket still gathering its members, or gathered and not
    yet tried by anyone (still owned by the alert that decided it, no attempt failed, no
    sink answered: the worker that claims it reads the incident then). A gathered open
    claimed since (by a delivery of a message, or by the sweep; its summary being written,
    or its body kept by a failed attempt) is in flight as any other: what it tells its sinks
    was read, or frozen, before this raise."""
    # Here, not at the top: the schedule imports this module.
    from triage.incidents.schedule import gathering_ends

    pending = stored.pending
    if pending is None or pending.kind is not EffectKind.OPEN:
        return False
    if pending.not_before is None:
        return True
    if gathering_ends(stored, now) is not None:
        return False
    # Decided while gathering, the open is owned by the deciding alert, named last among
    # those whose effects it keeps (`effects_by`); a claim names a delivery or the sweep.
    untried = pending.owner in stored.effects_by and not pending.attempts
    return not (untried and not pending.done)


def _move_told(decision: Decision) -> Decision:
    """`decision`, its incident no longer remembering the priority an earlier update moved
    from (`Incident.priority_was`) once it has an effect of its own: only the update that
    moved it tells the move."""
    incident = decision.incident
    if incident is None or incident.priority_was is None or decision.action.effect is None:
        return decision
    return Decision(decision.action, replace_incident(incident, priority_was=None))


def changing_priority(
    stored: Incident | None,
    alert: AlertEvent,
    now: datetime,
    policy: Policy,
    *,
    older: bool | None = None,
) -> Decision:
    """A person changed the incident's priority in its source (`priority_changed`): the open
    ticket takes it at once, lower too, by one update, and keeps when it was made
    (`priority_changed_at`). A change made before the ticket opened or last reopened
    (`_made_before_ticket`; repeats since do not make it stale) or before the change kept
    (two changes delivered out of order: the later stands; two made in the same instant: the
    higher stands, in either order), or one of an incident whose tickets are not open
    (closed, never seen, not yet summarised; a close held while it flaps leaves them open)
    writes nothing: it is no firing, so it opens and reopens nothing. The same priority again tells nothing, and only keeps its time when newer
    (`_same_priority_changed`). `older`:
    whether the change is older than what the ticket shows, as the caller judged it (a
    group's, by its member's own events: `groups.decide_group`); None: judged by the
    incident's."""
    priority = stated_priority(alert)
    if stored is None or stored.ticket is None or not _ticket_open(stored, now):
        return Decision(Action.IGNORE, None)
    if priority is None:
        return Decision(Action.IGNORE, None)
    if older is None:
        older = _made_before_ticket(stored, alert.occurred_at)
    made_at = _change_believed_at(alert.occurred_at, now, policy)
    last = stored.priority_changed_at
    if older or (last is not None and made_at < last):
        return Decision(Action.IGNORE, None)
    if last is not None and made_at == last and priority.rank > stored.ticket.priority.rank:
        # Two changes made in the same instant (two people, or a tool and a person): the
        # higher stands, whichever a replica applies last, so SQS's order decides nothing.
        return Decision(Action.IGNORE, None)
    if priority is stored.ticket.priority:
        return _same_priority_changed(stored, made_at)
    if stored.state is State.CLOSED:
        # Its close is held: the update takes the effect's place for as long as it runs, the
        # close keeping its due time (`quiet_until`), and is put back when it ends
        # (`held_close_back`). Its newest event is still the resolve (`applied_at` too: the
        # close is for want of alerts or not, as before).
        displaced = replace_incident(stored, pending=None, priority_changed_at=made_at)
        return _updated_to(displaced, stored.ticket, priority, now)
    changed = replace_incident(stored, applied_at=now, priority_changed_at=made_at)
    return _updated_to(changed, stored.ticket, priority, now)


def _ticket_open(stored: Incident, now: datetime) -> bool:
    """`stored`'s tickets are open: it is open, or closed with its close held back and not
    yet due (`close_waits`), which its tickets have not heard of, or held behind an update
    (`displaced_close`: a change then waits for that update, as for any effect)."""
    return stored.state is State.OPEN or stored.close_waits(now) or displaced_close(stored)


def displaced_close(incident: Incident) -> bool:
    """`incident`'s effect in progress is an update that took the place of its held close (a
    person's change of the priority while the close waited, `changing_priority`): closed,
    the close's due time kept in `quiet_until`, which the close going out leaves with no
    effect pending."""
    pending = incident.pending
    return (
        incident.state is State.CLOSED
        and incident.quiet_until is not None
        and pending is not None
        and pending.kind is EffectKind.UPDATE
    )


def held_close_back(incident: Incident, policy: Policy) -> dict[str, object]:
    """The fields that end `incident`'s effect in progress: no effect pending, but for an
    update that took the place of a held close (`displaced_close`), that close again, due when
    it was (one effect number on, as every effect takes its own), with the note it was held
    with: a close for want of alerts (`auto_closing`) says so, and is dated when it closed; a
    resolve's, by its newest event (the resolve)."""
    if not displaced_close(incident):
        return {"pending": None}
    assert incident.quiet_until is not None and incident.closed_at is not None
    why = quiet_words(incident) if _closed_for_want_of_alerts(incident) else None
    at = incident.closed_at if why else incident.last_event_at
    note = _held_close_note(incident, closing_note(incident, "", at), policy, why)
    seq = incident.seq + 1
    held = Pending(EffectKind.CLOSE, FLAP_HOLD, incident.quiet_until, seq, alert=note)
    return {"pending": held, "seq": seq}


def _closed_for_want_of_alerts(incident: Incident) -> bool:
    """The closed `incident` was closed by the sweep for want of alerts (`auto_closing`): its
    route's `resolve_after_s` had passed since its newest event was applied when it closed. A
    resolve closes it as it is applied (`applied_at` is then the close's time, or later)."""
    applied, closed = incident.applied_at, incident.closed_at
    if incident.resolve_after_s is None or applied is None or closed is None:
        return False
    return applied + timedelta(seconds=incident.resolve_after_s) <= closed


def _made_before_ticket(stored: Incident, made_at: datetime) -> bool:
    """A person's change made at `made_at` is older than the ticket `stored` shows now: made
    before it opened or last reopened (`reopened_at`, else `opened_at`), so it was a change of
    the source's earlier incident, which a reopen does not bring back. Made since, it stands
    however many repeats were applied after it: a repeat does not undo a person's change, and
    in a storm a change delivered a second late is stamped before the newest repeat."""
    return made_at < (stored.reopened_at or stored.opened_at)


def _change_believed_at(made_at: datetime, now: datetime, policy: Policy) -> datetime:
    """The time of a person's change applied at `now`, as it is kept: its own, but never
    more than `max_future_skew` (nor the reopen window) ahead of `now`, as `guards` believes
    an event's time, so a source's skewed clock cannot make every later change look stale."""
    return min(made_at, now + min(policy.max_future_skew, policy.reopen_window))


def _same_priority_changed(stored: Incident, made_at: datetime) -> Decision:
    """A person's change to the priority the ticket already has: nothing to tell, but its
    time is kept when newer than the change kept (one write, no effect), so a change made
    before it and delivered after it is stale as it would be had it moved the ticket. Another
    delivery of the change kept writes nothing."""
    last = stored.priority_changed_at
    if last is not None and made_at <= last:
        return Decision(Action.IGNORE, None)
    return Decision(Action.IGNORE, replace_incident(stored, priority_changed_at=made_at))


def _updated_to(incident: Incident, ticket: Ticket, priority: Priority, now: datetime) -> Decision:
    """The update that moves `incident`'s ticket to `priority`: the stored ticket carries it
    from this write on (what every sink, `triage incidents` and the status page read), and the
    update tells the occurrences counted since the last one, so nothing stays owed."""
    moved = ticket.model_copy(update={"priority": priority})
    updated = replace_incident(
        incident,
        ticket=moved,
        priority_was=ticket.priority,
        last_update_at=now,
        occurrences_at_update=incident.occurrences,
        update_owed_at_s=None,
    )
    return Decision(Action.UPDATE, updated)


def closing(
    stored: Incident,
    seen: Incident,
    alert: AlertEvent,
    now: datetime,
    policy: Policy,
    why: str | None = None,
) -> Decision:
    """The open incident `stored` resolved (`seen`: with the resolve applied): closed, its
    tickets told now; or, when it flaps, damped: closed, with the close held back until it
    has stayed resolved for `policy.quiet`, so a check that flaps every minute costs one
    close, not a close, a reopen and a comment every minute. `why`: why it closed, when no
    alert resolved it (said in the held close's note)."""
    # The repeats counted while it was open need not be remembered: another delivery of one
    # is older than this resolve, which ignores it (and leftovers of stopped processes go).
    closed = replace_incident(
        seen,
        state=State.CLOSED,
        closed_at=now,
        quiet_until=None,
        counted_by=(),
        update_owed_at_s=None,
        priority_was=None,
    )
    if not _damps(stored, policy):
        return Decision(Action.CLOSE, closed)
    due = now + policy.quiet
    seq = stored.seq + 1
    held = Pending(
        EffectKind.CLOSE, FLAP_HOLD, due, seq, alert=_held_close_note(stored, alert, policy, why)
    )
    # A group's tickets still owe the change of its members they were not told of: should a
    # member fire while the close waits, the group is open for them again, and the update
    # lists the members as they are (`groups._fired_while_close_waits`). Nothing reads it
    # while the group is closed, and a reopen or the close going out makes it void.
    owed = stored.update_owed_at_s if stored.group is not None else None
    damped = replace_incident(closed, seq=seq, pending=held, quiet_until=due, update_owed_at_s=owed)
    return Decision(Action.DAMPED, damped)


def _damps(stored: Incident, policy: Policy) -> bool:
    """A resolve of `stored` is damped: it flaps, and nothing else is in the way. An effect
    in progress is left to finish (the resolve then waits for it as any effect does), and an
    incident a silence holds is quiet already (what its sinks were told is the silence's)."""
    return (
        stored.flapping
        and policy.quiet > timedelta(0)
        and stored.has_ticket
        and stored.pending is None
        and stored.held is None
    )


def quiet_words(incident: Incident) -> str:
    """Why an incident of a route with `resolve_after_s` closes without a resolve
    (`no alert for 4 h`): its note, in its history and to its sinks."""
    assert incident.resolve_after_s is not None
    return f"no alert for {_duration(timedelta(seconds=incident.resolve_after_s))}"


def auto_close_note(incident: Incident, now: datetime) -> RedactedAlert:
    """The resolved alert the close of an incident quiet for its `resolve_after_s` goes out
    with: its title (redacted when stored) and why it closed."""
    return closing_note(incident, f"{incident.title} ({quiet_words(incident)})", now)


def auto_closing(stored: Incident, now: datetime, policy: Policy) -> Decision:
    """The open incident `stored` has had no event for its route's `resolve_after_s`: it is
    closed as the resolve its source never sends would close it (damped when it flaps), its
    group's members still firing resolved with it (`with_members_resolved`)."""
    seen = with_members_resolved(stored, now)
    resolved = auto_close_note(stored, now)
    return closing(stored, seen, resolved, now, policy, why=quiet_words(stored))


def with_members_resolved(incident: Incident, now: datetime) -> Incident:
    """`incident` with its group's firing members resolved (`now`), those counted past the
    tracked ones too: a group closed with no resolve of theirs (for want of alerts, by hand)
    counts none firing, so the next event of any of them, even one stamped as its last,
    reopens it as a firing after a resolve does. Their times are kept for the order of
    their events. An incident that is no group, or has no member firing, is returned as is."""
    group = incident.group
    if group is None or not group.still_firing:
        return incident
    members = {
        fp: dataclasses.replace(m, status=Status.RESOLVED, since=now)
        if m.status is Status.FIRING
        else m
        for fp, m in group.members.items()
    }
    quiet_group = dataclasses.replace(
        group, members=members, untracked=0, untracked_ids=frozenset(), untracked_bits=b""
    )
    return replace_incident(incident, group=quiet_group)


def closed_by_hand(stored: Incident, now: datetime) -> Incident:
    """The open incident `stored` as an operator's close leaves it: closed now, its group's
    firing members resolved (`with_members_resolved`), no effect in progress left (the close
    replaces one nobody holds) and nothing owed to a closed ticket. Its flap count ends
    (`reopens` 0): the alert never resolved, so it firing again (its source re-sending an
    alert that never stopped) is a first reopen, not one more in a row; closes by hand of a
    steady alert would otherwise mark it flapping and damp its next resolve.
    The close still goes out as a flapping incident's (its `flapping` kept), so its tickets'
    `flapping` label comes off with it, as with the close that ends the flapping."""
    return replace_incident(
        with_members_resolved(stored, now),
        state=State.CLOSED,
        closed_at=now,
        closed_by_hand_at=now,
        applied_at=now,
        pending=None,
        update_owed_at_s=None,
        reopens=0,
        priority_was=None,
    )


def update_owed_due(incident: Incident, now: datetime) -> bool:
    """The sweep sends the update `incident` owes its ticket now: due, open, ticketed, no
    effect in progress, none held by a silence (the held one lists the members when it goes
    out)."""
    owed = incident.update_owed_at
    return (
        owed is not None
        and owed <= now
        and incident.state is State.OPEN
        and incident.has_ticket
        and incident.pending is None
        and incident.held is None
    )


def sending_owed_update(incident: Incident, now: datetime) -> Decision:
    """The update `incident` owes its ticket, going out now with the members as they are."""
    updated = replace_incident(
        incident,
        last_update_at=now,
        occurrences_at_update=incident.occurrences,
        update_owed_at_s=None,
        priority_was=None,
    )
    return Decision(Action.UPDATE, updated)


def fired_while_close_waits(seen: Incident) -> Decision:
    """A firing while the incident's close is held: for its tickets the incident never
    closed, so it is open again with one more occurrence and no effect (no reopen, no
    comment), and the held close is dropped: the quiet period starts again at its next
    resolve."""
    reopened = replace_incident(
        seen,
        state=State.OPEN,
        closed_at=None,
        occurrences=seen.occurrences + 1,
        pending=None,
        quiet_until=None,
    )
    return Decision(Action.COUNT, reopened)


def reopenable(stored: Incident, now: datetime, policy: Policy) -> bool:
    """The closed incident `stored` reopens on a firing now: it has a ticket, closed within
    the reopen window (counted from when its tickets were closed: a damped close went out
    at the end of its quiet period, not at the resolve)."""
    closed_at = stored.quiet_until or stored.closed_at or stored.opened_at
    return stored.has_ticket and now - closed_at <= policy.reopen_window


def reopening(stored: Incident, seen: Incident, now: datetime, policy: Policy) -> Decision:
    """The closed incident `stored` fires again within the reopen window (`seen`: with the
    event applied). Flapping after `flap_threshold` reopens in a row; a damped close ended
    the flapping, and a close by hand the count (`closed_by_hand`: no reopen counted since,
    yet still flagged flapping), so after either the reopens are counted afresh."""
    afresh = stored.quiet_until is not None or stored.reopens == 0
    reopens = 1 if afresh else stored.reopens + 1
    occurrences = stored.occurrences + 1
    return Decision(
        Action.REOPEN,
        replace_incident(
            seen,
            state=State.OPEN,
            closed_at=None,
            quiet_until=None,
            occurrences=occurrences,
            reopens=reopens,
            flapping=(stored.flapping and not afresh) or reopens >= policy.flap_threshold,
            # The reopen tells the ticket the occurrences so far: the update of its interval.
            last_update_at=now,
            occurrences_at_update=occurrences,
            update_owed_at_s=None,
            priority_was=None,
        ),
    )


def _held_close_note(
    stored: Incident, alert: AlertEvent, policy: Policy, why: str | None = None
) -> str:
    """The alert a held close goes out with (a redacted view as JSON, as a close by hand's):
    the incident's own title (redacted when it was stored), why it closed when no alert
    resolved it (`why`), and why the close waited, dated when the alert resolved."""
    # Here, not at the top: the codec imports this module.
    from triage.incidents.codec import view_to_json

    closed = f"{why}; " if why else ""
    note = (
        f"{stored.title} ({closed}it kept resolving and firing again: the close waited until "
        f"it had stayed resolved for {_duration(policy.quiet)})"
    )
    return view_to_json(closing_note(stored, note, alert.occurred_at))


def closing_note(incident: Incident, note: str, at: datetime) -> RedactedAlert:
    """The resolved alert a close that no alert of its own carries goes out with (a held
    close, a close by hand): `note` (redacted text) as its title and description, the
    incident's source, team, priority and labels, dated `at`."""
    return RedactedAlert(
        fingerprint=incident.fingerprint,
        source=incident.source,
        status=Status.RESOLVED,
        title=note,
        team=incident.team,
        priority=incident.ticket.priority if incident.ticket else None,
        severity=None,
        description=note,
        runbook_url=None,
        occurred_at=at,
        labels=MappingProxyType(dict(incident.labels)),
    )


def stored_alert(incident: Incident) -> RedactedAlert:
    """The alert an effect a message's alert claimed goes out with when that message never
    comes back for it (the sweep's redo, see `store.sweep_from`): what the store keeps of the
    incident, its title (redacted when stored) and description alike, source, team, priority
    and labels, firing while it is open and resolved once closed, dated by its newest event.
    An update that took a held close's place (`displaced_close`) goes out firing: its tickets
    are open while the close waits, and an update saying "resolved" would close them in a
    backend that reads the status, with no close of triage's to follow should it fire again."""
    closed = incident.state is State.CLOSED and not displaced_close(incident)
    return RedactedAlert(
        fingerprint=incident.fingerprint,
        source=incident.source,
        status=Status.RESOLVED if closed else Status.FIRING,
        title=incident.title,
        team=incident.team,
        priority=incident.ticket.priority if incident.ticket else None,
        severity=None,
        description=incident.title,
        runbook_url=None,
        occurred_at=incident.last_event_at,
        labels=MappingProxyType(dict(incident.labels)),
    )


def _duration(span: timedelta) -> str:
    """`90 s`, `15 min`, `1 h`, `1 h 30 min`: a quiet period as the note says it."""
    seconds = round(span.total_seconds())
    if seconds < 120:
        return f"{seconds} s"
    hours, minutes = divmod(round(seconds / 60), 60)
    if not hours:
        return f"{minutes} min"
    return f"{hours} h" + (f" {minutes} min" if minutes else "")
