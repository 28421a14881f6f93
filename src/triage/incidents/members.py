"""Which group a member alert fires in, so a group closes even when its members' labels change.

A group is keyed by label values, and labels are not identity: a script may resolve with its
`dedup_key` only (without the `host` its group is keyed by), and an alarm's team may change
while it fires. The store keeps, per member fingerprint, the key of the group it last joined
(`Store.place_member`). A resolve then goes to that group as well as where its labels say
(`resolve_targets`), and a member that fires in another group first resolves in the one it left
(`left_group`), which closes once none of its members fires.
The pipeline carries those resolves out, as it does any alert's.

A move and a resolve of one member may run at once on two replicas (or arrive out of order).
Each writes, then reads what the other writes: the resolve, after its groups, looks for a move
remembered meanwhile (`moved_to`) and resolves there too; the move, once remembered, looks at
the group it left for a resolve newer than its firing (`resolved_since`) and applies it to the
group it joined. Whichever reads last sees the other's write, so the newest event wins.
A firing that arrives late, older than the member's newest event in the group it is remembered
in (`newer_in`), moves it nowhere: it is resolved again in the group it reached.

An alert's own incident is one more place it may fire in while a routes change that groups it
(or stops grouping it) rolls out: replicas on either routes move it as between groups.

A group tracks `groups.MAX_MEMBERS` members; one past them is known only by its short id
(counted firing, and its newest event's time), and one past those ids by its bit (counted
firing, and its time likewise): it is a member all the same (`known_member`),
so its move or its resolve without the group's labels still finds it there. Its record here
is kept `TRIAGE_CLOSED_TTL_S` past its last join, as any member's: a resend writes the group
now and then so it joins again (`groups.rejoin_due`), but one whose time the group dropped
(past `groups.MAX_UNTRACKED_TIMES`) writes nothing, so its resend renews its record itself
(`renews_own_record`).
"""

from __future__ import annotations

from datetime import UTC, datetime

from triage.incidents.groups import UNTRACKED_ID_CHARS, GroupKey, hashed_firing
from triage.incidents.lifecycle import FLAP_HOLD, Group, Incident, Member, State
from triage.incidents.store import Store
from triage.models import Status

#: The member record of a move in progress: its key is the member's fingerprint with this
#: suffix, its body the key of the group the member is moving to (`Members.note_joining`).
JOINING = ">joining"


class Members:
    """The member records of one store."""

    def __init__(self, store: Store) -> None:
        self.store = store

    async def resolve_targets(
        self, fingerprint: str, group: GroupKey | None
    ) -> list[GroupKey | None]:
        """Where the resolve of alert `fingerprint`, whose labels name `group` (None: its own
        incident), goes: there, and to the group it was remembered in when that is another
        one that still knows it (it fires there, or a resolve there was left half done). The
        labels' target is left out when the alert does not fire there (a resolve without
        the labels its group is keyed by). The first target takes the alert's own decision.
        Its own incident, open while a routes change rolls out, is looked at by the caller
        after these (`own_open`). The group a move was going to (`note_joining`) is one
        more target while the alert fires there: a move whose effect there went out before
        it was remembered."""
        targets = await self._targets(fingerprint, group)
        joining, _ = await self.joining_record(fingerprint)
        if joining is None or joining.key in {t.key for t in targets if t is not None}:
            return targets
        return [*targets, joining]

    async def _targets(self, fingerprint: str, group: GroupKey | None) -> list[GroupKey | None]:
        key = await self.store.member_group(fingerprint)
        if key is None or (group is not None and key == group.key):
            return [group]
        remembered = await self._member_of(fingerprint, key, firing=False)
        if remembered is None:
            return [group]
        if group is not None:
            here = await self._member_of(fingerprint, group.key, firing=True) is not None
        else:
            here = await self.own_open(fingerprint)
        return [group, remembered] if here else [remembered]

    async def own_open(self, fingerprint: str) -> bool:
        """Alert `fingerprint` has an open incident of its own (routes that did not group
        it, before a routes change, or on a replica the change has not reached), or one whose
        close is still being carried out (a resolve's retry finishes it there)."""
        own = await self.store.get(fingerprint)
        if own is None or own.group is not None:
            return False
        closing = own.pending is not None and own.pending.owner != FLAP_HOLD
        return own.state is State.OPEN or closing

    async def remembered(self, fingerprint: str) -> GroupKey | None:
        """The group alert `fingerprint` was remembered in, if that group still knows it."""
        key = await self.store.member_group(fingerprint)
        return await self._member_of(fingerprint, key, firing=False) if key else None

    async def remembered_record(self, fingerprint: str) -> tuple[GroupKey | None, Incident | None]:
        """`remembered`, with the stored group incident the member record names (None: none)."""
        key = await self.store.member_group(fingerprint)
        if key is None:
            return None, None
        stored = await self.store.get(key)
        return _member_key(fingerprint, key, stored, firing=False), stored

    async def moved_to(self, fingerprint: str, targets: list[GroupKey | None]) -> GroupKey | None:
        """The group alert `fingerprint` fires in now when it is none of `targets` (the ones
        its resolve went to): a move another worker remembered while the resolve ran."""
        key = await self.store.member_group(fingerprint)
        if key is None or key in {target.key for target in targets if target is not None}:
            return None
        return await self._member_of(fingerprint, key, firing=True)

    async def resolved_since(
        self, fingerprint: str, group: GroupKey, since: datetime
    ) -> datetime | None:
        """When alert `fingerprint` resolved in `group`, if that is later than `since`: a
        firing at `since` in another group is older than the member's newest event."""
        stored = await self.store.get(group.key)
        member = known_member(stored.group, fingerprint) if stored and stored.group else None
        if member is None or member.status is not Status.RESOLVED:
            return None
        return member.last_event_at if member.last_event_at > since else None

    async def newer_in(
        self, fingerprint: str, group: GroupKey, than: datetime, queued_at: datetime | None
    ) -> bool:
        """Alert `fingerprint` has an event in `group` newer than a firing at `than` (its
        message queued at `queued_at`) elsewhere: that firing is older than the member's
        newest event, and moves it nowhere."""
        stored = await self.store.get(group.key)
        member = known_member(stored.group, fingerprint) if stored and stored.group else None
        return member is not None and member.newer_than(than, queued_at, status=Status.FIRING)

    async def left_group(self, fingerprint: str, group: GroupKey) -> GroupKey | None:
        """The group alert `fingerprint` was a member of before it fired in `group`, if
        another (firing there, or left there by a resolve that failed half way)."""
        before = await self.store.member_group(fingerprint)
        if before is None or before == group.key:
            return None
        return await self._member_of(fingerprint, before, firing=False)

    async def left_group_record(
        self, fingerprint: str, group: GroupKey
    ) -> tuple[GroupKey | None, Incident | None]:
        """`left_group`, with the stored group incident it names (None: none)."""
        before = await self.store.member_group(fingerprint)
        if before is None or before == group.key:
            return None, None
        stored = await self.store.get(before)
        return _member_key(fingerprint, before, stored, firing=False), stored

    async def note_joining(self, fingerprint: str, group: GroupKey, now: datetime) -> None:
        """Alert `fingerprint` is moving to `group`, and its effect there goes out before the
        move is remembered (`place`, once it has resolved in the group it leaves): noted
        apart, so a retry of its message on routes that do not group the alert finds that
        group too, when the replica moving it died or a sink failed in between
        (`joining_record`)."""
        await self.store.place_member(fingerprint + JOINING, group.key, now)

    async def joining_record(self, fingerprint: str) -> tuple[GroupKey | None, Incident | None]:
        """The group a move of alert `fingerprint` was going to (`note_joining`), when it is
        not remembered there and fires there, with the stored group incident."""
        key = await self.store.member_group(fingerprint + JOINING)
        if key is None or key == await self.store.member_group(fingerprint):
            return None, None
        stored = await self.store.get(key)
        return _member_key(fingerprint, key, stored, firing=True), stored

    async def place(self, fingerprint: str, group: GroupKey, now: datetime) -> None:
        """Alert `fingerprint` fires in `group` now (once it has left any group before)."""
        await self.store.place_member(fingerprint, group.key, now)

    async def place_looked(
        self, fingerprint: str, group: GroupKey, now: datetime, left: GroupKey | None
    ) -> None:
        """`place`, while the alert's record still names what `left_group_record` read
        (`left`, or no other group); else StoreBusyError, for the retry to look again."""
        left_key = left.key if left is not None else None
        await self.store.place_member(fingerprint, group.key, now, left=left_key, looked=True)

    async def place_resolved(self, fingerprint: str, group: GroupKey, now: datetime) -> None:
        """Alert `fingerprint`, never seen firing in a group, resolved in `group`: remembered
        there, so a firing older than the resolve that arrives after it, under other labels,
        finds the newer resolve (`newer_in`) and stays resolved."""
        await self.store.place_member(fingerprint, group.key, now, first=True)

    async def _member_of(self, fingerprint: str, key: str, *, firing: bool) -> GroupKey | None:
        """The group incident `key`, when alert `fingerprint` is one of its members (with
        `firing`, a firing one)."""
        return _member_key(fingerprint, key, await self.store.get(key), firing=firing)


def _member_key(
    fingerprint: str, key: str, stored: Incident | None, *, firing: bool
) -> GroupKey | None:
    """The key of group incident `stored` (stored under `key`), when alert `fingerprint` is
    one of its members (with `firing`, a firing one)."""
    group = stored.group if stored is not None else None
    member = known_member(group, fingerprint) if group is not None else None
    if group is None or member is None or (firing and member.status is not Status.FIRING):
        return None
    return GroupKey.stored(key, group)


def renews_own_record(incident: Incident, fingerprint: str) -> bool:
    """A firing repeat of member `fingerprint`, counted in the open group `incident`
    without a write, renews the member's record of that group itself (`Members.place`, a
    write only in the second half of its time to live): the group keeps no time for it
    (its time dropped past `groups.MAX_UNTRACKED_TIMES`, known by its short id or its bit), so no
    write of the group ever makes it join again (`groups.rejoin_due`), and its record
    would expire while it fires: its resolve without the group's labels would then find
    nothing, and the group stay open for good counting it."""
    group = incident.group
    if group is None or incident.state is not State.OPEN or fingerprint in group.members:
        return False
    short = fingerprint[:UNTRACKED_ID_CHARS]
    if short in group.untracked_times:
        return False
    return short in group.untracked_ids or hashed_firing(group, fingerprint)


#: The time of an untracked member counted firing whose own time was dropped (past
#: `groups.MAX_UNTRACKED_TIMES`): older than any event, so none is taken for older than it.
_UNKNOWN_TIME = datetime.min.replace(tzinfo=UTC)


def known_member(group: Group, fingerprint: str) -> Member | None:
    """Alert `fingerprint` as `group` knows it: tracked, or past the tracked ones (known by
    its short id: firing while counted by it, dated by its kept time), else None. An
    untracked member holds its group open as a tracked one does, so a move or a resolve
    that looks only at the tracked ones leaves the group open for good. One past the short
    ids is known firing by its bit (`groups.hashed_firing`), its time unknown."""
    tracked = group.members.get(fingerprint)
    if tracked is not None:
        return tracked
    short = fingerprint[:UNTRACKED_ID_CHARS]
    trace = group.untracked_times.get(short)
    counted = short in group.untracked_ids or hashed_firing(group, fingerprint)
    if trace is None and not counted:
        return None
    at = trace.last_event_at if trace is not None else _UNKNOWN_TIME
    queued = trace.last_queued_at if trace is not None else None
    status = Status.FIRING if counted else Status.RESOLVED
    return Member(status, "", at, at, queued)
