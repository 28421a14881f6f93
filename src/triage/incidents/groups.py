"""Groups: related alerts as one incident, one ticket.

A route with `group_by` (label names) makes the alerts it matches members of one incident per
combination of those labels' values: its key is a hash of the route and the values. The group's
lifecycle, per member event:

    stored \\ member  | firing                                   | resolved
    none             | open (its first ticket may wait           | record, no ticket
                     |   `group_window_s` to gather members)     |
    open             | join or fire again; at most one update    | when it was the last one
                     |   per update interval lists the members   |   firing: close (damped
                     |   (one owed, see below)                   |   when it flaps); else as
                     |                                           |   for firing
    closed recently  | reopen (counted, no effect, while a       | ignore (remembered)
                     |   damped close waits)                     |
    closed long ago  | a new group incident                      | ignore

Each member keeps its own out-of-order guard (its newest event's time, and when that event's
message was queued, for events stamped alike); a repeat of a member stamped as its newest event
is counted without a write (a group is one record, rewritten on each change), one stamped later
writes only its time (a member counted past the tracked ones too, by its short id); a firing
one queued a quarter of `Policy.member_kept` after the event kept for it writes its queue time,
so the member joins again and its record of the group it fires in does not expire while it
fires (`rejoin_due`); in a closed group, one queued later writes its queue time
(`_again_closed`). A group opened anew keeps its earlier members, resolved, for that guard.
`MAX_MEMBERS` are tracked (listed, and holding the group open while they fire; one resolved
longest ago makes room for a new one), more are only counted, while they fire: each holds the
group open as a tracked one does, and its resolve takes it off the count (it is known by a
short id, `MAX_UNTRACKED_IDS` at most; past them, by one bit of a bitmap hashed from its
fingerprint, `HASHED_BITS` long, so a resend of one counts nothing and members sharing a bit
count once). The members that are not tracked (counted past them, by id or by bit,
resolved, or having made room) keep the same guard by short id (`Group.untracked_times`,
`MAX_UNTRACKED_TIMES` at most, a resolved one with the oldest event dropped first): a late
firing older than one's resolve, or a late resolve older than its firing, is ignored, and a
firing one's resends stamped as before write its queue time now and then (`rejoin_due`), as a
tracked member's do. One whose time was dropped renews its record of its group itself
(`members.renews_own_record`).

A change of the members inside the update interval (one joined, fired again or resolved) is
owed to the ticket (`Incident.update_owed_at_s`, when the interval ends): it goes out as an
update with the members as they are then, with the next member event after that time, even a
repeat stamped as before, or by the sweep. Members joining while the group's first ticket
gathers them owe nothing: that ticket lists them. A flapping group whose close waits (damped)
is open for its tickets, which list the members as before its last resolve: a member firing
in that wait other than the one that resolved last, or a change owed before that resolve
(the damped close keeps it), is owed too (`_fired_while_close_waits`).

A group whose first ticket gathers members (`group_window_s`) keeps, until that ticket opens,
the labels its firing members have shared so far (`Incident.labels`, as silences read them:
`agreed_labels`): a silence added while it gathers holds the ticket when it matches every member
by those and the labels the group is keyed by (`silencing_members`), not one member's own
(`pod=api-0`). Once the ticket opens, its labels are the alert's it opened with, as any
incident's.
"""

from __future__ import annotations

import dataclasses
import hashlib
import itertools
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from types import MappingProxyType

from triage.incidents.lifecycle import (
    Action,
    AlertEvent,
    Decision,
    Group,
    Incident,
    Member,
    Policy,
    State,
    Trace,
    changing_priority,
    closing,
    fired_while_close_waits,
    priority_changed,
    queued_at,
    reopenable,
    reopening,
    replace_incident,
    sending_owed_update,
    tie_status,
    with_priority_raised,
)
from triage.incidents.records import Sent
from triage.incidents.schedule import gathering_ends
from triage.incidents.silences import FIELDS, Silence, shown_value
from triage.models import EffectKind, Status, fingerprint_of
from triage.redact import Redactor
from triage.view import AlertView, GroupView

#: Members tracked per group: a DynamoDB item holds at most 400 KB, and a ticket lists them.
MAX_MEMBERS = 1000
#: Members past MAX_MEMBERS are known by a short id (8 hex digits of their fingerprint), up to
#: this many, so a repeat of one is counted as one member, without a write; past it, each is
#: known by one bit of a bitmap (`HASHED_BITS`).
MAX_UNTRACKED_IDS = 5000
UNTRACKED_ID_CHARS = 8
#: Members past MAX_UNTRACKED_IDS are each known by one bit of a bitmap this long
#: (`Group.untracked_bits`), set by a hash of the member's fingerprint while it fires: a
#: resend of one finds its bit set and counts nothing (nor writes), and its resolve clears it,
#: so a storm of any size stays one group that closes when its members resolve. A fixed
#: bitmap keeps the record bounded (8 KB, 11 KB as stored) however large the storm; members
#: sharing a bit (of 5,000 hashed members, about 1 in 14 shares one) count once, so the group
#: may close while one of them still fires, and that member's next resend reopens it, rather
#: than a count no resolve can bring to zero keeping it open for good.
HASHED_BITS = 1 << 16
#: The members that are not tracked (past MAX_MEMBERS, or that made room) whose newest event's
#: time is kept, by short id, for the order of their events (`Group.untracked_times`): 47
#: bytes of the record each at most (47 KB), so a group at every bound takes 269 KB with its
#: titles left out (the hashed members' 11 KB included), and the store's 350 KB leave 81 KB
#: for its ticket, labels and history.
MAX_UNTRACKED_TIMES = 1000
#: A member's title as kept and listed.
MEMBER_TITLE_CHARS = 120
#: Of a group's first member, the labels kept as those its members may share (`agreed_labels`):
#: as many, and values as long, as a ticket keeps of an alert's. A label past them is not kept,
#: so no silence is judged on a part of it (the ticket goes out, as for any label not shared).
SHARED_LABELS = 64
SHARED_LABEL_CHARS = 256


@dataclass(frozen=True, slots=True)
class GroupKey:
    """Which group an alert belongs to: the incident key, and how the group is described."""

    key: str
    route: str
    #: The label values the members agree on, redacted, as given (a key read from the store,
    #: or made with `of`); a key made of an alert's view (`of_view`) reads them from that
    #: view instead, when first asked for (`by`).
    given_by: tuple[tuple[str, str], ...] = field(compare=False)
    window: timedelta = timedelta(0)
    #: Every label of the alert the key was made for, as routes read them
    #: (`Alert.routed_labels`): not redacted, so never stored as they are; read for the names
    #: of the labels a group's members share (`_shared_after`), each value as shown
    #: (`shown_label`). None when no alert is at hand (a key read from the store): nothing is
    #: then known to be shared.
    labels: Mapping[str, str] | None = field(default=None, compare=False, repr=False)
    #: The view of the alert the key was made for (`of_view`), whose labels the group shows.
    shown: _Shown | None = field(default=None, compare=False, repr=False)

    @classmethod
    def of(
        cls,
        route: str,
        group_by: tuple[str, ...],
        labels: Mapping[str, str],
        window_s: float,
        redact: Callable[[str], str],
        uncut: Mapping[str, str] | None = None,
    ) -> GroupKey:
        """The group of an alert with `labels` (as shown: `Alert.routed_labels`) on `route`; a
        missing label counts as empty (`_key_of` says what is hashed). Each value is kept as
        `redact` leaves it alone: a value the alert holds under a secret's name elsewhere is
        not taken out of it, so this is for a caller that needs only the key (`moves`). The
        pipeline makes the groups it stores and shows with `of_view`."""
        key = _key_of(route, group_by, labels, uncut or {})
        shown = tuple((name, redact(labels.get(name, ""))) for name in group_by)
        return cls(key, route, shown, timedelta(seconds=window_s), labels)

    @classmethod
    def of_view(
        cls, route: str, group_by: tuple[str, ...], window_s: float, view: AlertView
    ) -> GroupKey:
        """The group of the alert `view` redacts, on `route`: keyed as `of` keys it (the raw
        values: an open group keeps its key), its values shown as the alert's view shows its
        labels, so a value the alert holds under a secret's name (`db_password: hunter2xyz`)
        is blanked in a label it is keyed by too (`instance: db-1/hunter2xyz`), as in the
        stored title and what silences match. The view is read only when the values are
        (a group made, or its shared labels changed), and shared with the event's title
        when the caller hands the same `AlertView` to both: a storm's repeat redacts
        nothing for its group."""
        alert = view.alert
        key = _key_of(route, group_by, alert.routed_labels, alert.uncut_labels)
        window = timedelta(seconds=window_s)
        return cls(key, route, (), window, alert.routed_labels, _Shown(view, group_by))

    @classmethod
    def stored(cls, key: str, group: Group) -> GroupKey:
        """The key of a stored group incident (its label values were redacted when stored)."""
        return cls(key, group.route, tuple(group.by.items()), timedelta(seconds=group.window_s))

    @property
    def by(self) -> tuple[tuple[str, str], ...]:
        """The label values the members agree on, redacted: they are stored and shown."""
        return self.given_by if self.shown is None else self.shown.by

    @property
    def title(self) -> str:
        return ", ".join(f"{name}={value or '∅'}" for name, value in self.by)

    @property
    def view(self) -> AlertView | None:
        """The alert's view the key was made of (`of_view`): the caller's event reads its
        title from the same one, so the alert is redacted once for both."""
        return self.shown.view if self.shown is not None else None

    def shown_label(self, name: str) -> str:
        """Label `name` of the alert the key was made for, as the group keeps it: as its view
        shows it (`of_view`), else as `shown_value` reads the value alone; empty when the
        alert has none (or is not at hand)."""
        if self.shown is not None:
            return self.shown.label(name)
        return shown_value(name, (self.labels or {}).get(name, ""))


def _key_of(
    route: str, group_by: tuple[str, ...], labels: Mapping[str, str], uncut: Mapping[str, str]
) -> str:
    """The key of the group on `route` of an alert with `labels` (as shown): a hash of the
    route and the exact values, whole where a shown one is cut (`uncut`:
    `Alert.uncut_labels`), so values that differ only past the cut are two groups; a value
    within the cut is hashed as shown, as it always was, so open groups keep their keys."""
    values = {name: uncut.get(name, labels.get(name, "")) for name in group_by}
    return fingerprint_of(f"group:{route}", values)


#: Redacts a label past the cap of a view that carries no redactor of its own (`_Shown`).
_REDACTOR = Redactor()


class _Shown:
    """An alert's labels as its view shows them (`AlertView`), read when first asked for: the
    view's own redaction, made once for the event's title, the group and the effect's text,
    never again here."""

    __slots__ = ("_by", "_names", "_view")

    def __init__(self, view: AlertView, names: tuple[str, ...]) -> None:
        self._view = view
        self._names = names
        self._by: tuple[tuple[str, str], ...] | None = None

    @property
    def view(self) -> AlertView:
        """The alert's view the labels are read from."""
        return self._view

    @property
    def by(self) -> tuple[tuple[str, str], ...]:
        """The values of the labels the group is keyed by, as shown."""
        if self._by is None:
            self._by = tuple((name, self.label(name)) for name in self._names)
        return self._by

    def label(self, name: str) -> str:
        """Label `name` as the view shows it; one past the 64 a view shows, as silences read
        it (`silences.AsShown`): redacted as a shown one is (`shown_value`), and without the
        values the alert holds under a secret's name; empty when the alert has none."""
        fields = self._view.view()
        shown = fields.labels.get(name)
        if shown is not None:
            return shown
        raw = self._view.alert.routed_labels.get(name)
        if raw is None:
            return ""
        redactor = fields.redaction[0] if fields.redaction is not None else _REDACTOR
        return redactor.without(shown_value(name, raw, redactor), fields.named_secrets)


def decide_group(
    stored: Incident | None, event: AlertEvent, now: datetime, policy: Policy, group: GroupKey
) -> Decision:
    """Apply one member event to the group incident (see the module docstring). A member
    stating a priority above the group's ticket's raises it at once, as a single incident's
    repeat does (`with_priority_raised`); a person's change of a member's priority moves the
    group's ticket (`changing_priority`): it is no event of the member."""
    if priority_changed(event):
        return changing_priority(
            stored, event, now, policy, older=_older_than_member(stored, event)
        )
    decision = _decide_member(stored, event, now, policy, group)
    return with_priority_raised(stored, event, now, decision)


def _older_than_member(stored: Incident | None, event: AlertEvent) -> bool | None:
    """A person's change of a member's priority (`event`) is older than that member's own
    events, as the group knows it: made before a firing member began firing (its `since`), or
    before the newest event of one resolved (None: the group does not know the member, or
    counts it firing past the tracked ones with no `since` kept, and when the group's ticket
    opened or reopened judges it).
    Not the group's newest event: that is another member's as often as not, and a change
    made before a member joined in a storm is no older than the alert it was made on."""
    group = stored.group if stored is not None else None
    if group is None:
        return None
    tracked = group.members.get(event.fingerprint)
    if tracked is not None and tracked.status is Status.FIRING:
        # Made since the member began firing, the change stands, however many of its repeats
        # came since: a repeat does not undo a person's change (in a storm, a change delivered
        # a second late is stamped before the member's newest repeat).
        return event.occurred_at < tracked.since
    known = tracked or _untracked_member(group, event.fingerprint)
    if known is None or known.status is Status.FIRING:
        # Firing past the tracked ones, its kept time is its newest repeat's, not when it
        # began firing (`Trace` keeps no `since`): the group's ticket judges the change, so
        # a repeat does not undo it here either.
        return None
    return known.newer_than(event.occurred_at, queued_at(event), status=tie_status(event))


def _decide_member(
    stored: Incident | None, event: AlertEvent, now: datetime, policy: Policy, group: GroupKey
) -> Decision:
    """`decide_group` by the module docstring alone, priority aside."""
    firing = event.status is Status.FIRING
    if stored is None or stored.group is None:
        return _new(stored, event, now, group, firing)
    tracked = stored.group.members.get(event.fingerprint)
    known = tracked or _untracked_member(stored.group, event.fingerprint)
    if known is not None and known.newer_than(
        event.occurred_at, queued_at(event), status=tie_status(event)
    ):
        return Decision(Action.IGNORE, None)  # older than this member's newest event
    counted = tracked is None and (
        _short(event.fingerprint) in stored.group.untracked_ids
        or hashed_firing(stored.group, event.fingerprint)
    )
    if counted and stored.state is State.OPEN:
        # A member past MAX_MEMBERS, counted firing already (by its short id, or its bit past
        # the ids): firing again, it is a repeat as a tracked member's is. Stamped later, its kept time moves on (else a late
        # resolve stamped between the two firings closed the group while it fires); with no
        # time kept (past MAX_UNTRACKED_TIMES), nothing is written. Firing again once the
        # group closed, it reopens it as any does.
        if firing:
            return _repeat(stored, event, known, now, policy)
        joined = _timed(_untracked_resolved(stored.group, event.fingerprint), event)
    else:
        if stored.state is State.CLOSED and known is not None and _again(known, event):
            return _again_closed(stored, event, known, now)
        if known is not None and known.status is event.status and stored.state is State.OPEN:
            return _repeat(stored, event, known, now, policy)
        joined = _with_member(stored.group, event, tracked)
    seen = replace_incident(
        stored,
        group=joined,
        last_event_at=max(stored.last_event_at, event.occurred_at),
        applied_at=now,
        labels=_shared_after(stored, event, group),
    )
    if stored.state is State.OPEN:
        if firing:
            seen = replace_incident(seen, occurrences=stored.occurrences + 1)
        elif joined.still_firing == 0:
            return closing(stored, seen, event, now, policy)
        # A group whose members and count are as they were (a resolve of a member it never
        # counted: only its time is kept) is no news for its ticket.
        changed = joined.members is not stored.group.members or (
            joined.untracked != stored.group.untracked
        )
        due = (stored.last_update_at or stored.opened_at) + policy.update_interval
        if (changed or stored.update_owed_at is not None) and now >= due:
            return sending_owed_update(seen, now)
        if changed and stored.update_owed_at is None and not _gathering(stored, now):
            seen = replace_incident(seen, update_owed_at_s=due.timestamp())
        return Decision(Action.COUNT, seen)
    if not firing:
        return Decision(Action.IGNORE, seen)
    if stored.close_waits(now):
        return _fired_while_close_waits(stored, seen, event, policy)
    if reopenable(stored, now, policy):
        return reopening(stored, seen, now, policy)
    return _new(stored, event, now, group, firing)


def _fired_while_close_waits(
    stored: Incident, seen: Incident, event: AlertEvent, policy: Policy
) -> Decision:
    """A member fires while the flapping group's close is held (`fired_while_close_waits`):
    for its tickets the group never closed, and they list the members as they were before
    the resolve that was damped. The member whose resolve that was, firing again, is as
    they show it; another member firing (or a change owed before that resolve, which the
    damped close keeps) is news for the ticket, owed to it at the end of the update interval
    as any change of the members is."""
    decision = fired_while_close_waits(seen)
    reopened = decision.incident
    assert reopened is not None
    if reopened.update_owed_at_s is not None or _closed_by(stored, event.fingerprint):
        return decision
    due = (stored.last_update_at or stored.opened_at) + policy.update_interval
    return Decision(decision.action, replace_incident(reopened, update_owed_at_s=due.timestamp()))


def _closed_by(stored: Incident, fingerprint: str) -> bool:
    """The member `fingerprint`'s resolve is, as far as the closed group `stored` can tell,
    the one that closed it: it is the member that resolved last (its `since`, when it
    stopped firing, later than any other's: a resolve repeated since moves no `since`)."""
    group = stored.group
    assert group is not None
    member = group.members.get(fingerprint) or _untracked_member(group, fingerprint)
    if member is None or member.status is not Status.RESOLVED:
        return False
    others = (m for fp, m in group.members.items() if fp != fingerprint)
    return all(m.since < member.since for m in others if m.status is Status.RESOLVED)


def _shared_after(stored: Incident, event: AlertEvent, group: GroupKey) -> dict[str, str]:
    """The labels `stored`'s members share once `event` (of a member, its labels those
    `group` was made with) is applied: a firing takes out those it does not share while the
    group has no ticket yet (its first one gathers, or a silence holds it). A resolve changes
    nothing (it may come without the labels its alert fired with), nor does any event once
    the ticket opened (the labels are then the alert's it opened with)."""
    if stored.ticket is not None or event.status is not Status.FIRING:
        return stored.labels
    if group.labels is None:
        return {}  # a member whose labels are not at hand: none is known to be shared
    shared = {
        name: value for name, value in stored.labels.items() if group.shown_label(name) == value
    }
    return stored.labels if len(shared) == len(stored.labels) else shared


def _first_shared(event: AlertEvent, group: GroupKey) -> dict[str, str]:
    """The labels a group's first member (`event`, its labels those `group` was made with)
    holds for every member to share, as silences read them (redacted: they are stored):
    none for a resolve, or when they are not at hand, or when the group's first ticket does
    not gather members (no `group_window_s`: no silence can come between its first member
    and its ticket); at most `SHARED_LABELS`, none whose value is longer than
    `SHARED_LABEL_CHARS`."""
    if event.status is not Status.FIRING or group.labels is None or not group.window:
        return {}
    shared: dict[str, str] = {}
    for name in itertools.islice(group.labels, SHARED_LABELS):
        value = group.shown_label(name)
        if len(name) <= SHARED_LABEL_CHARS and len(value) <= SHARED_LABEL_CHARS:
            shared[name] = value
    return shared


def agreed_labels(incident: Incident) -> dict[str, str]:
    """The labels every member of the group `incident` has alike, as silences read them: the
    values it is keyed by, and, until its first ticket opens, the labels its firing members
    have shared so far (`Incident.labels`). Nothing else of a member is known to hold for
    all of them."""
    group = incident.group
    shared = incident.labels if incident.ticket is None else {}
    return {**shared, **(group.by if group is not None else {})}


@dataclass(frozen=True, slots=True)
class _Agreed:
    """What every member of a group has alike, as a silence reads it (`agreed_labels`)."""

    labels: Mapping[str, str]
    source: str = ""
    team: str | None = None
    title: str = ""


def silencing_group(
    silences: Iterable[Silence],
    group: Group,
    now: datetime,
    shared: Mapping[str, str] | None = None,
) -> Silence | None:
    """The first active silence that matches every member of `group`: each of its matchers
    reads a label every member has alike (one the group is keyed by, or one of the labels
    its members `shared` so far) and holds for that value. A silence on one member's own
    labels (`pod=api-0`), or on a field (`team`, `title`: not kept per member), does not
    hold the group's first ticket from the others (README: a silence on one member does not
    quiet the storm)."""
    agreed = {**(shared or {}), **group.by}
    names = {name for name in agreed if name not in FIELDS}
    subject = _Agreed(MappingProxyType(agreed))
    for silence in silences:
        if not silence.active(now) or not silence.matchers:
            continue
        if all(m.name in names for m in silence.matchers) and silence.matches(subject):
            return silence
    return None


def silencing_members(
    silences: Iterable[Silence], incident: Incident, now: datetime
) -> Silence | None:
    """`silencing_group` for the stored group `incident`, by the labels its members have
    alike (`agreed_labels`); None for an incident that is no group."""
    if incident.group is None:
        return None
    return silencing_group(silences, incident.group, now, agreed_labels(incident))


def member_silence_holds(silence: Silence, stored: Incident | None, now: datetime) -> bool:
    """A `silence` that matches a member's own alert holds the effect that member's event
    brings its group (`stored`, as read before the event): while the group has no open
    ticket (its first member, a group gathering or held, a closed one reopening: that
    member's labels are all its episode is known to share so far, and a member the silence
    does not match lets the held effect go), or when the silence matches every member
    (`silencing_members`). A silence on one member's own labels (`pod=api-0`) must not hold
    the update an open group owes for the others for as long as that silence lasts, only
    because that member's resend carried it (README: a silence on one member does not
    quiet the storm)."""
    if stored is None or stored.group is None:
        return True
    if stored.state is not State.OPEN or not stored.has_ticket:
        return True
    return silencing_members((silence,), stored, now) is not None


def _gathering(stored: Incident, now: datetime) -> bool:
    """The group's first ticket waits for members still (`gathering_ends`, with the clock
    rules): it lists those joining now."""
    pending = stored.pending
    return (
        pending is not None
        and pending.kind is EffectKind.OPEN
        and not pending.done
        and gathering_ends(stored, now) is not None
    )


def _owed_now(stored: Incident, now: datetime) -> bool:
    """The update `stored` owes its ticket may go out now."""
    owed = stored.update_owed_at
    return owed is not None and owed <= now


def _repeat(
    stored: Incident, event: AlertEvent, known: Member | None, now: datetime, policy: Policy
) -> Decision:
    """A repeat of a member as it is, in its open group (`known`: as the group knows it, by
    its kept time when it is counted past the tracked ones; None for one of those whose time
    was dropped, whose repeats write nothing). Stamped as its
    newest event (a storm of Alertmanager's or Grafana's, which carry the time it started):
    nothing to write, as a group's record is large. Stamped later: its time is written, or an
    event of the other status stamped between the two, arriving late, would be taken for the
    member's newest (a late resolve closed a group whose member had fired since). Either way,
    once the update the group owes is due, it goes out (Alertmanager's resend of the whole
    group, stamped as before, may be the only event for hours). A firing member's resend
    stamped as before, queued long after the one whose queue time the group keeps
    (`rejoin_due`), writes that queue time: the write makes the pipeline join the member to
    the group again, which keeps its record of the group it fires in from expiring while it
    fires (a resolve without the group's labels then still finds it)."""
    same = known is None or event.occurred_at == known.last_event_at
    timed = not same or rejoin_due(known, event, policy)
    if _owed_now(stored, now):
        seen = _member_time(stored, event) if timed else stored
        return sending_owed_update(replace_incident(seen, applied_at=now), now)
    if not timed:
        if _quiet_clock_due(stored, now):
            # A route that closes the group for want of alerts counts from when one was
            # applied: its resends move that on, one write a minute at most.
            return Decision(Action.COUNT, replace_incident(stored, applied_at=now))
        return Decision(Action.COUNT, None)
    return Decision(Action.COUNT, replace_incident(_member_time(stored, event), applied_at=now))


def rejoin_due(known: Member | None, event: AlertEvent, policy: Policy) -> bool:
    """A firing member's repeat (`event`) is queued a quarter of `Policy.member_kept` or
    more after the event the group keeps for it (`known`): its join, which the write of that
    queue time brings, keeps the member's record of its group from expiring. A resend comes
    at least that often (Alertmanager's every few hours), so the record, kept `member_kept`
    past a join and renewed by one in the second half of that, never runs out while the
    member fires; and each firing member writes its group a few times a TTL at most."""
    queued = queued_at(event)
    if known is None or known.status is not Status.FIRING or queued is None:
        return False
    last = known.last_queued_at
    return last is None or queued - last >= policy.member_kept / 4


def _member_time(stored: Incident, event: AlertEvent) -> Incident:
    """`stored` with its member's newest event's time (and queue time) that of `event`."""
    assert stored.group is not None
    known = stored.group.members.get(event.fingerprint)
    if known is None:
        group = _timed(stored.group, event)
    else:
        member = dataclasses.replace(
            known, last_event_at=event.occurred_at, last_queued_at=queued_at(event)
        )
        group = dataclasses.replace(
            stored.group, members={**stored.group.members, event.fingerprint: member}
        )
    return replace_incident(
        stored, group=group, last_event_at=max(stored.last_event_at, event.occurred_at)
    )


def _again_closed(stored: Incident, event: AlertEvent, known: Member, now: datetime) -> Decision:
    """The event a member of the closed group `stored` has its state from, again: delivered
    again, nothing is written. Repeated (queued later: a resolve sent twice), its queue time
    is, as an incident's own repeat writes it: an event of the other status stamped alike and
    queued between the two is then older, as it is (a firing queued before a repeated
    resolve reopened the group, or opened the alert's own incident on routes that do not
    group it). A closed group's repeats are few: a storm's resends fire in an open one."""
    queued = queued_at(event)
    last = known.last_queued_at
    if queued is None or (last is not None and queued <= last):
        return Decision(Action.IGNORE, None)  # a closed group is not rewritten for nothing
    return Decision(Action.IGNORE, replace_incident(_member_time(stored, event), applied_at=now))


#: How often a resend that writes nothing else moves a group's quiet clock (`_repeat`).
_QUIET_CLOCK_STEP = timedelta(minutes=1)


def _quiet_clock_due(stored: Incident, now: datetime) -> bool:
    """`stored` is closed for want of alerts (its route's `resolve_after_s`) and the time of
    its newest applied alert is a minute old or more."""
    if stored.resolve_after_s is None:
        return False
    return stored.applied_at is None or now - stored.applied_at >= _QUIET_CLOCK_STEP


def _again(known: Member | None, event: AlertEvent) -> bool:
    """`event` is the one its member's state came from, delivered again."""
    return (
        known is not None
        and known.status is event.status
        and known.last_event_at == event.occurred_at
    )


def _new(
    stored: Incident | None, event: AlertEvent, now: datetime, group: GroupKey, firing: bool
) -> Decision:
    """A group incident begins with this member (a first one, or after a close long ago).
    The members of the closed group it follows stay known, resolved, as a closed incident
    keeps its newest event's time: a firing of one that arrives late, older than its resolve,
    is ignored (it reopened the new incident). `_with_member` makes room among them."""
    known = stored.group.members if stored is not None and stored.group is not None else {}
    members = {**known, event.fingerprint: _member(event, known.get(event.fingerprint))}
    incident = Incident(
        fingerprint=group.key,
        state=State.OPEN if firing else State.CLOSED,
        source=event.source,
        title=group.title,
        opened_at=now,
        last_event_at=event.occurred_at,
        closed_at=None if firing else now,
        occurrences=1 if firing else 0,
        occurrences_at_update=1 if firing else 0,
        applied_at=now,
        seq=stored.seq if stored else 0,
        version=stored.version if stored else 0,
        labels=_first_shared(event, group),
        group=Group(
            route=group.route,
            by=dict(group.by),
            members=members,
            window_s=group.window.total_seconds(),
            untracked_times=_untimed(stored.group, event.fingerprint).untracked_times
            if stored is not None and stored.group is not None
            else {},
        ),
    )
    return Decision(Action.OPEN if firing else Action.RECORD, incident)


def _with_member(group: Group, event: AlertEvent, known: Member | None) -> Group:
    """`group` with the event of a member it does not count firing past the tracked ones:
    tracked (`known`, or joining while there is room or a resolved member to make it), else
    counted past them while it fires, its time kept by short id."""
    fingerprint = event.fingerprint
    if known is not None or len(group.members) < MAX_MEMBERS:
        joined = dataclasses.replace(
            group, members={**group.members, fingerprint: _member(event, known)}
        )
        return _untimed(joined, fingerprint)
    quiet = _longest_resolved(group)
    if quiet is not None:
        # A member resolved longest ago makes room: its time is kept by short id, so a late
        # firing of it, older than its resolve, is still ignored.
        left = group.members[quiet]
        members = {fp: m for fp, m in group.members.items() if fp != quiet}
        members[fingerprint] = _member(event, None)
        tracked = _untimed(dataclasses.replace(group, members=members), fingerprint)
        tracked = _timed(tracked, Trace(left.last_event_at, left.last_queued_at), quiet)
        if _short(fingerprint) in group.untracked_ids:
            # Counted before past the tracked ones: tracked now, so no longer counted.
            return _untracked_resolved(tracked, fingerprint)
        return tracked
    if event.status is not Status.FIRING:
        return _timed(_untracked_resolved(group, None), event)
    if len(group.untracked_ids) >= MAX_UNTRACKED_IDS:
        # Known by its bit (not set: `decide_group` takes a member whose bit is set for a
        # repeat), its time kept by short id as one known by its id is: firing while its bit
        # is set (`_untracked_member`).
        hashed = dataclasses.replace(
            group,
            untracked=group.untracked + 1,
            untracked_bits=_with_bit(group, fingerprint, firing=True),
        )
        return _timed(hashed, event)
    ids = group.untracked_ids | {_short(fingerprint)}
    counted = dataclasses.replace(group, untracked=group.untracked + 1, untracked_ids=ids)
    return _timed(counted, event)


def _short(fingerprint: str) -> str:
    """The short id a member past the tracked ones is known by."""
    return fingerprint[:UNTRACKED_ID_CHARS]


def _bit_of(fingerprint: str) -> int:
    """The bit of `Group.untracked_bits` member `fingerprint` is known by past the short ids:
    a hash of its whole fingerprint (a source's own key need not be hex, nor vary early)."""
    digest = hashlib.blake2b(fingerprint.encode(), digest_size=4).digest()
    return int.from_bytes(digest) % HASHED_BITS


def _live_bits(group: Group) -> bytes:
    """The bitmap of `group`'s hashed members firing: none while no member past the ids is
    counted (a close for want of alerts sets the count to 0; bits it left mean nothing)."""
    if group.untracked <= len(group.untracked_ids):
        return b""
    return group.untracked_bits


def hashed_firing(group: Group, fingerprint: str) -> bool:
    """Member `fingerprint` is counted firing in `group` by its bit past the short ids (or
    another firing member that shares the bit is)."""
    bits = _live_bits(group)
    if not bits:
        return False
    byte, shift = divmod(_bit_of(fingerprint), 8)
    return byte < len(bits) and bool(bits[byte] >> shift & 1)


def _with_bit(group: Group, fingerprint: str, *, firing: bool) -> bytes:
    """`group`'s bitmap of hashed members with the bit of `fingerprint` set (`firing`) or
    cleared; empty when no bit is left set, so a group without hashed members stores none."""
    bits = bytearray(_live_bits(group).ljust(HASHED_BITS // 8, b"\0"))
    byte, shift = divmod(_bit_of(fingerprint), 8)
    if firing:
        bits[byte] |= 1 << shift
    else:
        bits[byte] &= ~(1 << shift) & 0xFF
    return bytes(bits) if any(bits) else b""


def _counted_by_no_id(group: Group) -> int:
    """Members counted firing by neither short id nor bit: those a release before the bitmap
    counted past the ids (each resolve of a member the group does not know takes one off)."""
    hashed = int.from_bytes(_live_bits(group)).bit_count()
    return max(0, group.untracked - len(group.untracked_ids) - hashed)


def _untracked_member(group: Group, fingerprint: str) -> Member | None:
    """A member that is not tracked, as `group` knows it (None: its time is not kept):
    firing while its short id is counted firing, or its bit past the ids is set, dated by
    its kept time."""
    short = _short(fingerprint)
    trace = group.untracked_times.get(short)
    if trace is None:
        return None
    counted = short in group.untracked_ids or hashed_firing(group, fingerprint)
    status = Status.FIRING if counted else Status.RESOLVED
    at = trace.last_event_at
    return Member(status, "", at, at, trace.last_queued_at)


def _timed(group: Group, event: AlertEvent | Trace, fingerprint: str | None = None) -> Group:
    """`group` keeping the time of `event` (of the member `fingerprint`, by default the
    event's own) by short id: at most `MAX_UNTRACKED_TIMES`, the resolved one with the
    oldest event making room first (then the oldest firing one, still counted by its id),
    as their loss costs least. A member known by its bit is taken for a resolved one here
    (a short id does not give the bit): its loss costs it the order of its late events, and
    its count stays."""
    if isinstance(event, Trace):
        trace = event
    else:
        trace = Trace(event.occurred_at, queued_at(event))
        fingerprint = event.fingerprint
    assert fingerprint is not None
    short = _short(fingerprint)
    times = dict(group.untracked_times)
    if short not in times and len(times) >= MAX_UNTRACKED_TIMES:
        ids = group.untracked_ids
        del times[min(times, key=lambda s: (s in ids, times[s].last_event_at))]
    times[short] = trace
    return dataclasses.replace(group, untracked_times=times)


def _untimed(group: Group, fingerprint: str) -> Group:
    """`group` no longer keeping a time by the short id of `fingerprint` (tracked now)."""
    short = _short(fingerprint)
    if short not in group.untracked_times:
        return group
    times = {s: t for s, t in group.untracked_times.items() if s != short}
    return dataclasses.replace(group, untracked_times=times)


def _untracked_resolved(group: Group, fingerprint: str | None) -> Group:
    """`group` with one member past the tracked ones no longer counted firing: the one whose
    short id `fingerprint` starts with, or whose bit it is known by past the ids; or, for a
    resolve of a member the group does not know (`fingerprint` None), one of those a release
    before the bitmap counted by no id, if any. The group is unchanged when none is counted."""
    ids = group.untracked_ids
    if fingerprint is not None and _short(fingerprint) in ids:
        ids = ids - {_short(fingerprint)}
    elif fingerprint is not None and hashed_firing(group, fingerprint):
        bits = _with_bit(group, fingerprint, firing=False)
        return dataclasses.replace(group, untracked=group.untracked - 1, untracked_bits=bits)
    elif not _counted_by_no_id(group):
        return group
    return dataclasses.replace(group, untracked=max(0, group.untracked - 1), untracked_ids=ids)


def _longest_resolved(group: Group) -> str | None:
    """The member that resolved longest ago, if any has."""
    resolved = [
        (m.last_event_at, fp) for fp, m in group.members.items() if m.status is Status.RESOLVED
    ]
    return min(resolved)[1] if resolved else None


def _member(event: AlertEvent, known: Member | None) -> Member:
    same = known is not None and known.status is event.status
    return Member(
        status=event.status,
        title=event.title[:MEMBER_TITLE_CHARS],
        last_event_at=event.occurred_at,
        since=known.since if same and known is not None else event.occurred_at,
        last_queued_at=queued_at(event),
    )


#: What a description cut to fit a kept body (`sent_fitted`) ends with.
CUT_NOTE = "\n… (cut: the alert was too long to keep)"
#: A cut description keeps at least this much before a group's member titles are left out.
KEPT_DESCRIPTION_CHARS = 4000


def sent_fitted(sent: Sent, size: Callable[[Sent], int], limit: int) -> Sent:
    """`sent`, a body too large for the store to keep (`size` over `limit` bytes), made to
    fit: its alert's description cut (to `KEPT_DESCRIPTION_CHARS` first), then its group's
    member titles left out (every member still listed and counted), then the description cut
    further. Every attempt of an effect must send the same body (a backend enforcing the
    Idempotency-Key draft answers another with a 422), and a body that is not kept is built
    afresh on a retry (a member joined, the summary written again): the first attempt sends
    this one, and it is kept. Returned as it is when only its summary could be cut (too
    long to keep whatever is done here)."""
    fitted = _description_cut(sent, size, limit, KEPT_DESCRIPTION_CHARS)
    group = fitted.alert.group
    if size(fitted) > limit and group is not None and any(m.title for m in group.members):
        untitled = tuple(dataclasses.replace(m, title="") for m in group.members)
        alert = dataclasses.replace(
            fitted.alert, group=GroupView(group.by, untitled, group.untracked)
        )
        fitted = dataclasses.replace(fitted, alert=alert)
    return _description_cut(fitted, size, limit, 0)


def _description_cut(sent: Sent, size: Callable[[Sent], int], limit: int, floor: int) -> Sent:
    """`sent` with its alert's description cut until the body fits `limit` bytes, keeping
    at least `floor` characters of it (each turn cuts as many characters as the body is
    over in bytes: one takes a byte at least)."""
    alert = sent.alert
    text = alert.description.removesuffix(CUT_NOTE)
    over = size(sent) - limit
    while over > 0 and len(text) > floor:
        text = text[: max(floor, len(text) - over - len(CUT_NOTE))]
        alert = dataclasses.replace(sent.alert, description=text + CUT_NOTE)
        over = size(dataclasses.replace(sent, alert=alert)) - limit
    if alert is sent.alert:
        return sent
    return dataclasses.replace(sent, alert=alert)
