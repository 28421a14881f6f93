"""Moving an alert whose route changed: it fires in a new place (a group, or an incident of its
own) while the store still remembers it in another (a group it was a member of before a label
the group is keyed by changed, or before the routes file was changed; its own incident, on
routes that did not group it).

Every firing asks where its alert was remembered. When that place is another one, the alert
resolves there before the move is remembered (`Moves.join`, `Moves.leave_group`), so the old
ticket closes and a retry finds the old place's effect as its own. A firing older than the
alert's newest event in the old place arrived late, under labels changed since: it stays
where its newest event put it and resolves in the new place (`_late_firing`). While a routes
change rolls out, replicas on old and new routes take the same message at once; each applies
one rule (the place holding the newest event, or this very event, keeps the alert; a group
it is remembered in keeps a resend stamped alike when only the routes changed, so a `group_by`
rollout moves no member back and forth: `Moves._stays_in`) and finishes what another delivery
of the message claimed there and may have left on dying.

The pipeline (pipeline.py) decides and applies an alert where it is routed; this module does
the moves around that decision, through the pipeline's `apply`, for a message's alerts.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

import structlog

from triage.effects import Effects
from triage.incidents import Action, Incident, State, Work
from triage.incidents.claims import alert_of, refused_again
from triage.incidents.groups import GroupKey
from triage.incidents.lifecycle import FLAP_HOLD, AnswersFiring, Member
from triage.incidents.members import Members, known_member
from triage.incidents.schedule import gathering_ends
from triage.incidents.store import (
    DELIVERY_MARK,
    Transition,
    delivery_owner,
    incident_busy,
    same_alert,
)
from triage.models import Alert, EffectKind, Status

if TYPE_CHECKING:
    from triage.pipeline import Pipeline

log = structlog.get_logger(__name__)


class Moves:
    """The moves of one pipeline's alerts between the places their routes send them."""

    def __init__(self, pipeline: Pipeline) -> None:
        self.pipeline = pipeline

    def _moved_out(self, gone: Alert, queued_at: datetime | None = None) -> MovedOut:
        """The event of `gone`, a resolve this move writes (its message queued at
        `queued_at`), marked as a move's (`MovedOut`)."""
        return MovedOut(self.pipeline.event(gone, queued_at))

    async def join(
        self,
        alert: Alert,
        owner: str,
        group: GroupKey,
        queued_at: datetime | None = None,
        joining: Looked | None = None,
    ) -> None:
        """Remember that `alert` (its message queued at `queued_at`) fires in `group`. When it
        was a member of another group (a label that one is keyed by changed), it resolves
        there first; only then is the move remembered, so a retry of a message whose resolve
        failed finishes it (its claim there is the retry's own). A late firing, older than the
        member's newest event in the group it was in, moves nothing (`_late_firing`). What
        `_place_early` learned before the group's effect went out (`joining`) is not read
        again."""
        if joining is not None and joining.withdrawn:
            return
        members = Members(self.pipeline.ledger.store)
        if joining is not None and joining.looked:
            left, late = joining.left, joining.late
        else:
            left = await members.left_group(alert.fingerprint, group)
            late = left is not None and await self._stays_in(alert, left, queued_at)
        if late and left is not None:
            await self._late_firing(alert, owner, group, left, queued_at)
            return
        looked_own = joining is not None and joining.own_looked
        if joining is not None and joining.own is not None:
            await self._stays_own(alert, owner, group, joining.own, queued_at, withdrawn=False)
            return
        if left is not None:
            if joining is None or not joining.looked:
                # What `_place_early` notes before an effect: a firing that had none here (a
                # silence held its open, or the group gathers) may fail to leave the group it
                # left (busy there), and its retry, on routes that do not group the alert,
                # must find this group too.
                await members.note_joining(alert.fingerprint, group, self.pipeline.ledger.clock())
            await self._leave(alert, owner, group, left, queued_at)
        if joining is None or not joining.placed:
            await members.place(alert.fingerprint, group, self.pipeline.ledger.clock())
        if not looked_own:
            # Looked at once the alert is remembered here: a firing that opens its own
            # incident meanwhile looks at this group after opening it, so one of the two sees
            # the other (each looked before the other wrote, and it fired in both).
            own = await self._own_keeps(alert, owner, group, queued_at, joining)
            if own is not None:
                await self._stays_own(alert, owner, group, own, queued_at, withdrawn=False)
                return
        if left is not None:
            await self._stale_move(alert, owner, group, left, members, queued_at)
        if joining is not None and joining.close_refused:
            # Once the group's effect is done: a sink refusing it again fails the message
            # (for the DLQ to show) without holding the alert's ticket in the group back.
            await self._close_again(alert, owner, queued_at)

    async def note_before_claim(self, alert: Alert, group: GroupKey) -> bool:
        """Before `alert`'s firing is claimed in `group`: unless its member record names that
        group already, the group is noted as the one it is going to (`Members.note_joining`).
        The claim may make it a firing member there, and the replica die before the record
        names the group (`_place_early` and `join` write after the claim): the message's
        retry, or a newer firing, on routes that do not group the alert would then open its
        own incident without finding the group, and the group's open, finished by the sweep,
        keep it firing there too. A storm's resends, remembered there, write nothing. True
        when the record names the group already.

        An alert has one such note. One naming another group where the alert fires while its
        record names none (a first join whose replica died before placing it) is made its
        record before this note replaces it: this firing then finds that group as the one
        it left, opening nothing here when older than the alert's event there, and leaving
        it when newer (overwritten, that group was named by nothing, and the alert fired
        there and in its own incident)."""
        store = self.pipeline.ledger.store
        members = Members(store)
        now = self.pipeline.ledger.clock()
        placed = await store.member_group(alert.fingerprint)
        if placed == group.key:
            return True
        if placed is None:
            joining, _ = await members.joining_record(alert.fingerprint)
            if joining is not None and joining.key != group.key:
                await members.place_looked(alert.fingerprint, joining, now, None)
        await members.note_joining(alert.fingerprint, group, now)
        return False

    async def _stays_in(self, alert: Alert, left: GroupKey, queued_at: datetime | None) -> bool:
        """The group `alert` is remembered in (`left`) keeps it, and this firing elsewhere
        moves nothing: that group holds a newer event of the alert, or fires with one stamped
        alike (an Alertmanager or Grafana resend, stamped with when the alert started, taken
        on the other routes while a `group_by` change rolls out, or one message handed to a
        replica on each routes: `_routes_moved`). The rule a grouping route added or removed follows
        (`_own_keeps`, `_look_at_group`): resends taken in turn on either routes would
        otherwise move the alert back and forth, closing one ticket and reopening the other."""
        stored = await self.pipeline.ledger.store.get(left.key)
        group = stored.group if stored is not None else None
        member = known_member(group, alert.fingerprint) if group is not None else None
        if member is None:
            return False
        if member.newer_than(alert.occurred_at, queued_at, status=Status.FIRING):
            return True
        alike = member.status is Status.FIRING and member.last_event_at == alert.occurred_at
        return alike and self._routes_moved(alert, left)

    def _routes_moved(self, alert: Alert, left: GroupKey) -> bool:
        """`alert`'s labels still give the group it is remembered in (`left`) under that
        group's route: it fires elsewhere because the routes changed, not its labels. (A
        member whose labels changed moves as its newest event says, one stamped alike by its
        message's queue time.)"""
        names = tuple(name for name, _ in left.by)
        again = GroupKey.of(
            left.route,
            names,
            alert.routed_labels,
            0.0,
            self.pipeline.redactor.text,
            alert.uncut_labels,
        )
        return again.key == left.key

    async def _leave(
        self, alert: Alert, owner: str, group: GroupKey, left: GroupKey, queued_at: datetime | None
    ) -> None:
        """`alert` fires in `group` now: it resolves in the group it `left`."""
        log.info("alert.changed_group", left=left.key, joined=group.key)
        gone = alert.model_copy(update={"status": Status.RESOLVED})
        event = self._moved_out(gone, queued_at)
        await self.pipeline.apply(gone, event, leaving_owner(owner), left)

    async def move_after_failure(
        self,
        alert: Alert,
        owner: str,
        group: GroupKey,
        joining: Looked,
        queued_at: datetime | None,
    ) -> None:
        """A member's effect in `group` failed while it was moving there from another group:
        the move is finished and remembered now, so the message's retry, which a replica on
        routes that do not group the alert may take, finds this group and its effect (it
        found the group the alert left, and the effect here was left for good)."""
        left = joining.left
        if not joining.carrying or joining.placed or left is None or joining.late:
            return
        await self._leave(alert, owner, group, left, queued_at)
        members = Members(self.pipeline.ledger.store)
        if await members.newer_in(alert.fingerprint, left, alert.occurred_at, queued_at):
            # A newer firing was counted there beside this move (the move's resolve there was
            # ignored): the alert stays there, and the retry finds this firing late.
            return
        await members.place(alert.fingerprint, group, self.pipeline.ledger.clock())

    async def before_joining(
        self,
        work: Work,
        alert: Alert,
        owner: str,
        group: GroupKey,
        joining: Looked,
        queued_at: datetime | None,
    ) -> bool:
        """`_look_before_joining`; noting, when the effect is to go out, that it does."""
        withdrawn = await self._look_before_joining(work, alert, owner, group, joining, queued_at)
        joining.carrying = not withdrawn
        return withdrawn

    async def _look_before_joining(
        self,
        work: Work,
        alert: Alert,
        owner: str,
        group: GroupKey,
        joining: Looked,
        queued_at: datetime | None,
    ) -> bool:
        """Before a member's effect in `group` (`work`) goes out, what `join` looks at: where
        the alert was remembered (placing it here early), and its own incident. A late firing
        opens nothing here. When its own incident keeps the alert (a replica on routes that do
        not group it took the same event at once, or a newer one), the group's open is taken
        back before any sink hears of it, and True: a replica dying in that open's sink call
        would leave it for good, as the other delivery of the message, done with its own
        incident, acks it."""
        await self._place_early(alert, group, joining, queued_at)
        left = joining.left
        gone = alert.model_copy(update={"status": Status.RESOLVED})
        event = self._moved_out(gone, queued_at)
        if left is not None:
            joining.late = await self._stays_in(alert, left, queued_at)
            if joining.late:
                # It stays where its newer event is: nothing opens here. (A failed open
                # here would be left for good when the message's retry is taken by a
                # replica on routes that do not group it.)
                joining.withdrawn = await work.withdraw(event, self.pipeline.ledger.clock(), group)
                if joining.withdrawn:
                    log.info("alert.late_firing", stays=left.key, fired_in=group.key)
                    await self._finish_left(alert, owner, left, queued_at)
                    await self._finish_own(alert, owner, queued_at)
                return joining.withdrawn
        if not joining.placed:
            return False  # a move: its own incident is looked at once it is remembered here
        joining.own = await self._own_keeps(alert, owner, group, queued_at, joining)
        joining.own_looked = True
        if joining.own is None:
            return False
        if not await work.withdraw(event, self.pipeline.ledger.clock(), group):
            return False
        joining.withdrawn = True
        await self._stays_own(alert, owner, group, joining.own, queued_at, withdrawn=True)
        return True

    async def _finish_left(
        self, alert: Alert, owner: str, left: GroupKey, queued_at: datetime | None
    ) -> None:
        """A firing that stays in the group it is remembered in (`left`), fired elsewhere
        because a route's `group_by` changed: an effect another delivery of its message
        claimed there (the group's first ticket it started, held while the group gathered
        its members) is carried out now, the firing applied there as that delivery's retry.
        Acked without it, that ticket waited for the sweep to take it over once the claim's
        lease ran out, though its window was over."""
        stored = await self.pipeline.ledger.store.get(left.key)
        pending = stored.pending if stored is not None else None
        if pending is None or not same_alert(pending.owner, owner):
            return
        firing = self.pipeline.event(alert, queued_at)
        await self.pipeline.apply(alert, firing, owner, left)

    async def _finish_own(self, alert: Alert, owner: str, queued_at: datetime | None) -> None:
        """A late firing in a group (withdrawn, or resolved again there): another delivery of
        its message, on routes that do not group the alert, may have claimed the open of its
        own incident and died in a sink call. That open is finished now, with what that
        replica would have done after it (`leave_group`: the rule every replica applies then
        says where the alert fires); left to the sweep, it went out without that step, and the
        alert fired in two places."""
        own = await self.pipeline.ledger.store.get(alert.fingerprint)
        pending = own.pending if own is not None else None
        if own is None or own.group is not None or pending is None:
            return
        if not same_alert(pending.owner, owner):
            return
        firing = self.pipeline.event(alert, queued_at)
        await self.pipeline.apply(alert, firing, owner, None)
        await self.leave_group(alert, owner, queued_at)

    async def _place_early(
        self, alert: Alert, group: GroupKey, joining: Looked, queued_at: datetime | None
    ) -> None:
        """Before `group`'s effect for `alert` goes out: remember that the alert fires there,
        when nothing is left to do where it was remembered (nowhere, or a group where it
        resolved before this firing and no effect is in progress). A replica on routes that do
        not group the alert may take the same message at once and ack it; it then finds this
        group, and finishes its effect, even if this replica dies in a sink call (the effect
        was left for good, and the alert fired in two places)."""
        members = Members(self.pipeline.ledger.store)
        left, stored = await members.left_group_record(alert.fingerprint, group)
        joining.looked, joining.left = True, left
        if left is not None and not _done_with(stored, alert, queued_at):
            await members.note_joining(alert.fingerprint, group, self.pipeline.ledger.clock())
            return
        await members.place_looked(alert.fingerprint, group, self.pipeline.ledger.clock(), left)
        joining.placed = True

    async def _own_keeps(
        self,
        alert: Alert,
        owner: str,
        group: GroupKey,
        queued_at: datetime | None,
        joining: Looked | None = None,
    ) -> Incident | None:
        """`alert` fires in `group`; when it has an open incident of its own (routes that did
        not group it), that one resolves, as a group it left would, and None. Unless it holds
        a newer event (a replica on those routes saw the alert fire since, even after this
        looked: the resolve is ignored there) or one stamped alike (this very firing, taken
        by a replica on those routes at the same moment, or a resend of it: Alertmanager and
        Grafana stamp resends with when the alert started, and each would move it back and
        forth, closing one ticket and reopening the other): then it keeps the alert, and is
        returned; the rule every replica applies, so they agree where the alert fires. So is
        a closed one whose resolve is newer than this firing. A close of it left half done
        (its replica died) is finished as that resolve's retry would; one a sink refused for
        good (this move's, on an earlier delivery of the message) is sent again: by `join`
        once the group's effect is done, when `joining` is given (noted there), else now."""
        own = await self.pipeline.ledger.store.get(alert.fingerprint)
        if own is None or own.group is not None:
            return None
        if own.state is not State.OPEN:
            if closing(own):
                await self.finish_close(alert, owner, own, queued_at)
            elif close_refused(own, owner) and joining is not None:
                joining.close_refused = True
            elif close_refused(own, owner):
                await self._close_again(alert, owner, queued_at)
            # It resolved there after this firing, which is then the late one (not when that
            # resolve is this firing's own answer there, `_resolve_late`, on another delivery).
            newer = own.guards(
                alert.occurred_at, self.pipeline.policy, queued_at, status=alert.status
            )
            answered = _answers(own.last_event_at, own.last_queued_at, alert, queued_at)
            return own if newer and not answered else None
        stamped_alike = own.last_event_at == alert.occurred_at
        if (
            own.guards(alert.occurred_at, self.pipeline.policy, queued_at, status=alert.status)
            or stamped_alike
        ):
            return own
        log.info("alert.changed_group", left=alert.fingerprint, joined=group.key)
        gone = alert.model_copy(update={"status": Status.RESOLVED})
        # Ordered just before this firing: a replica on routes that do not group the alert
        # may count the same firing there meanwhile, and its own incident then keeps it (the
        # rule above); this resolve, written after, must not close it (each replica moved it
        # out of the other's place, and it fired nowhere).
        event = self._moved_out(gone, _just_before(queued_at))
        action, _, _ = await self.pipeline.apply(gone, event, leaving_owner(owner), None)
        if action is Action.IGNORE:
            # A newer firing was counted there after it was looked at (a replica on routes
            # that do not group the alert counts a repeat without looking at groups): it
            # keeps the alert, as if it had been seen first.
            again = await self.pipeline.ledger.store.get(alert.fingerprint)
            if again is not None and again.group is None and again.state is State.OPEN:
                return again
        return None

    async def _close_again(self, alert: Alert, owner: str, queued_at: datetime | None) -> None:
        """The close this move sent `alert`'s own incident (a delivery of its message before
        this one) was refused for good by a sink, failing the message: it is sent to that sink
        again, as any alert's next delivery sends an effect refused for it (the store's claim
        of a refused effect). Only the move's resolve, under its own owner, asks for it: the
        firing's own effect is the group's, and without it the ticket stayed open for good."""
        gone = alert.model_copy(update={"status": Status.RESOLVED})
        event = self._moved_out(gone, _just_before(queued_at))
        await self.pipeline.apply(gone, event, leaving_owner(owner), None)

    async def finish_close(
        self, alert: Alert, owner: str, own: Incident, queued_at: datetime | None
    ) -> None:
        """Finish the close of `alert`'s own incident `own` that a worker is carrying out, or
        left half done: this message waits (held) while that worker's lease runs, and takes
        the close over once it has ended. The message may be the last to reach the incident
        (its retries go to the group on the new routes): acked meanwhile, it left the close
        half done for good."""
        pending = own.pending
        assert pending is not None
        ledger = self.pipeline.ledger
        now = ledger.clock()
        leaving = leaving_owner(owner)
        if not same_alert(pending.owner, leaving):
            if not ledger.store.holder_gone(pending, now, ledger.carrying):
                raise incident_busy(
                    f"incident {own.fingerprint}: its close is being carried out",
                    retry_after_s=ledger.store.recheck_after(pending, now),
                )
            # Another alert's claim: taken over under an owner of its own (the leaving one
            # may have decided it before, and would be ignored as applied already).
            leaving = owner_for(owner, "finish")
        gone = alert.model_copy(update={"status": Status.RESOLVED})
        event = self._moved_out(gone, queued_at)
        await self.pipeline.apply(gone, event, leaving, None)

    async def _stays_own(
        self,
        alert: Alert,
        owner: str,
        group: GroupKey,
        own: Incident,
        queued_at: datetime | None,
        *,
        withdrawn: bool,
    ) -> None:
        """`alert` stays in its own incident `own`, not in `group`: the firing is applied
        there, as the other routes apply it, so the place that keeps the alert holds its
        newest event (a resend stamped alike, kept there, left its queue time in `group`
        alone, on the resolve that took its open back; the firing it resends, delivered
        again, took that for a newer event and resolved its own incident). An effect
        another delivery of its message claimed there (a replica on the other routes, which
        may have died) is finished so before this one is acked, with what that replica
        would have done after it (`leave_group`), and, unless the group's open was
        `withdrawn`, the alert is resolved again in `group`."""
        log.info("alert.late_firing", stays=alert.fingerprint, fired_in=group.key)
        firing = self.pipeline.event(alert, queued_at)
        await self.pipeline.apply(alert, firing, owner, None)
        if _alike(own, alert, queued_at):
            # This very firing opened it there: what that replica does next, as it may have
            # died first (the alert fired in the group it was remembered in too).
            await self.leave_group(alert, owner, queued_at)
        if not withdrawn:
            await self._resolve_late(alert, owner, group, queued_at)

    async def after_own_redo(self, transition: Transition, owner: str) -> None:
        """After `owner` (the sweep, or a message's alert taking it over) redid the open or
        reopen of an alert's own incident that a message's alert claimed and no delivery
        finished (`transition`): what that delivery looks at before such an open (`before_owning`),
        the group the alert is remembered in, or one a move was going to. When that group holds
        a newer event of the alert, the open was a late firing's (its replica died taking it
        back, and another delivery of its message, on routes that group the alert, acked it):
        the incident resolves again, as of that event (it stayed open for good, the alert
        firing though its newest event resolved it, or firing in two places)."""
        opened = transition.after
        pending = opened.pending if opened is not None else None
        if (
            opened is None
            or pending is None
            or pending.alert is not None
            or opened.group is not None
            or not transition.redo
            or pending.kind not in (EffectKind.OPEN, EffectKind.REOPEN)
        ):
            return
        members = Members(self.pipeline.ledger.store)
        newer, stays = None, None
        for key, stored in (
            await members.remembered_record(opened.fingerprint),
            await members.joining_record(opened.fingerprint),
        ):
            group = stored.group if stored is not None else None
            member = known_member(group, opened.fingerprint) if group is not None else None
            if key is not None and member is not None and _newer_there(member, opened):
                newer, stays = member, key
                break
        if newer is None or stays is None:
            return
        log.info("alert.late_firing", stays=stays.key, fired_in=opened.fingerprint, redo=True)
        event = _Resolved(
            opened.fingerprint,
            opened.source,
            Status.RESOLVED,
            opened.title,
            newer.last_event_at,
            newer.last_queued_at,
        )
        runner = Effects(self.pipeline, None).carry_out
        claim = self.pipeline.ledger.claim(event, owner_for(owner, "redone"), redo=runner)
        async with claim as work:
            if work.effect is not None:
                await runner(work)

    async def before_owning(
        self, work: Work, alert: Alert, looked: Looked, queued_at: datetime | None
    ) -> bool:
        """Before the open (or reopen) of `alert`'s own incident (`work`) goes out, what
        `leave_group` looks at: the group it was remembered in. When that group holds a newer
        event of it, or took this very event first (its effect there is done: a replica on
        routes that group the alert handled the same message), the open is taken back before
        any sink hears of it, and True: a replica dying in that open's sink call would leave
        it for good, as the other delivery of the message, done with the group, acks it. An
        effect another alert left in progress there (an open whose replica died) does not
        hide that the group took this very event: that alert's retry, or the sweep, finishes
        it, and the alert fires there. Nor does one this alert's other delivery claimed there
        (a group's first ticket it started, gathered while the routes stopped grouping it):
        that effect is finished here, once the open is taken back, so the alert fires in the
        group alone, as it was stamped there."""
        stored = await self._look_at_group(alert, looked, queued_at)
        group = stored.group if stored is not None else None
        member = known_member(group, alert.fingerprint) if group is not None else None
        left = looked.left
        if left is None or stored is None or member is None:
            return False
        if not (looked.late or _alike_member(member, alert, queued_at)):
            return False
        gone = alert.model_copy(update={"status": Status.RESOLVED})
        event = self._moved_out(gone, queued_at)
        if not await work.withdraw(event, self.pipeline.ledger.clock(), None):
            return False
        looked.withdrawn = True
        log.info("alert.late_firing", stays=left.key, fired_in=alert.fingerprint)
        if looked.theirs:
            # Taken back first: a sink failing the group's effect leaves no open of its own
            # half done, and the message's retry finishes the group's (`_finish_released`).
            firing = self.pipeline.event(alert, queued_at)
            await self.pipeline.apply(alert, firing, looked.owner, left)
            looked.theirs = False
        return True

    async def _look_at_group(
        self, alert: Alert, looked: Looked, queued_at: datetime | None, joining: bool = False
    ) -> Incident | None:
        """Note in `looked` the group `alert` was remembered in, if it still knows it (with
        `joining`: the group a move was going to, if it fires there), whether that holds a
        newer event of it, and whether its effect there is one another delivery of this alert
        claimed; the group incident as stored."""
        members = Members(self.pipeline.ledger.store)
        if joining:
            left, stored = await members.joining_record(alert.fingerprint)
        else:
            left, stored = await members.remembered_record(alert.fingerprint)
        looked.looked, looked.left = True, left
        group = stored.group if stored is not None else None
        member = known_member(group, alert.fingerprint) if group is not None else None
        if left is None or stored is None or member is None:
            return stored
        # A firing stamped as the one it fires with there (Alertmanager and Grafana resend
        # a firing alert stamped with when it started) is no newer event: its own incident
        # keeps it, as `_own_keeps` says on the other routes.
        repeat = member.status is Status.FIRING and member.last_event_at == alert.occurred_at
        # The resolve this firing answered with there (`_resolve_late`, on another delivery)
        # is no newer event of the alert.
        answered = member.status is Status.RESOLVED and _answers(
            member.last_event_at, member.last_queued_at, alert, queued_at
        )
        newer = member.newer_than(alert.occurred_at, queued_at, status=alert.status)
        looked.late = newer and not (repeat or answered)
        if repeat and newer:
            looked.queued_at = member.last_queued_at  # its resolve there must not be older
        pending = stored.pending
        # A group's first ticket still gathering its members was left half done by nobody:
        # it waits for its window, and applying the firing there again would only wait too.
        gathering = gathering_ends(stored, self.pipeline.ledger.clock()) is not None
        looked.theirs = (
            pending is not None and same_alert(pending.owner, looked.owner) and not gathering
        )
        return stored

    async def leave_group(
        self,
        alert: Alert,
        owner: str,
        queued_at: datetime | None,
        looked: Looked | None = None,
    ) -> None:
        """`alert` fires as its own incident (routes that do not group it) and was a member of
        a group (routes that did): it leaves the group, unless the group holds a newer event
        of it (then this firing is the late one, and its own incident resolves). What
        `before_owning` learned (`looked`) is not read again; when it took the open back
        (the alert stays in that group), only the group a move was going to is looked at."""
        if looked is None or not looked.looked:
            looked = Looked(owner=owner)
            await self._look_at_group(alert, looked, queued_at)
        if looked.left is not None and not looked.withdrawn:
            await self._leave_place(alert, owner, queued_at, looked)
        # A move out of that group may have stopped after its effect in the group it was
        # going to, before it was remembered there (its replica died, or a sink failed): a
        # late firing's too, whose effect there (an update) could not be taken back. So may
        # a first join, remembered nowhere yet (`note_before_claim`).
        joining = Looked(owner=owner)
        await self._look_at_group(alert, joining, queued_at, joining=True)
        if joining.left is not None:
            await self._leave_place(alert, owner, queued_at, joining)

    async def _leave_place(
        self, alert: Alert, owner: str, queued_at: datetime | None, looked: Looked
    ) -> None:
        """`leave_group` for one group, as `looked` found it."""
        left, late = looked.left, looked.late
        if left is None:
            return
        if looked.theirs:
            # Another delivery of this message, on routes that group the alert, claimed its
            # effect there and may have died: it is finished before this one is acked.
            firing = self.pipeline.event(alert, queued_at)
            await self.pipeline.apply(alert, firing, owner, left)
        if late:
            log.info("alert.late_firing", stays=left.key, fired_in=alert.fingerprint)
            await self._resolve_late(alert, owner, None, queued_at)
            return
        gone = alert.model_copy(update={"status": Status.RESOLVED})
        event = self._moved_out(gone, queued_at)
        log.info("alert.changed_group", left=left.key, joined=alert.fingerprint)
        if looked.queued_at is not None:
            event = self._moved_out(gone, looked.queued_at)
        await self.pipeline.apply(gone, event, leaving_owner(owner), left)

    async def _late_firing(
        self,
        alert: Alert,
        owner: str,
        group: GroupKey,
        left: GroupKey,
        queued_at: datetime | None,
    ) -> None:
        """`alert` fired in `group`, but the member has a newer event in the group it is
        remembered in (`left`): a firing that arrived late, under labels it has changed since.
        It stays where its newest event put it, and is resolved again in `group`."""
        log.info("alert.late_firing", stays=left.key, fired_in=group.key)
        await self._resolve_late(alert, owner, group, queued_at)
        await self._finish_left(alert, owner, left, queued_at)
        await self._finish_own(alert, owner, queued_at)

    async def _resolve_late(
        self, alert: Alert, owner: str, place: GroupKey | None, queued_at: datetime | None
    ) -> None:
        """Resolve `alert` again in `place` (a group, or None: its own incident), where its
        firing was just applied although it stays elsewhere. Ordered just after that firing,
        not stamped alike: the place may not remember which alerts it counted (a group never
        does, an incident forgets them once it closes), so another delivery of the firing,
        as new as a resolve stamped alike, would be applied over it, and this resolve, its
        effect done, ignored as applied (it fired in both places)."""
        gone = alert.model_copy(update={"status": Status.RESOLVED})
        event = self._moved_out(gone, _just_after(queued_at))
        await self.pipeline.apply(gone, event, owner_for(owner, "late"), place)

    async def _stale_move(
        self,
        alert: Alert,
        owner: str,
        group: GroupKey,
        left: GroupKey,
        members: Members,
        queued_at: datetime | None,
    ) -> None:
        """After a move is remembered: when the member resolved in the group it left later than
        this firing (a resolve that ran beside the move, or arrived before this older firing),
        that resolve is the member's newest event, and it resolves here as well. When it fired
        there later (a newer firing another replica counted there beside the move, finding it
        remembered there still), this firing is the late one: it resolves here, and the member
        is remembered there again (it fired in both groups for good)."""
        fp = alert.fingerprint
        resolved_at = await members.resolved_since(fp, left, alert.occurred_at)
        if resolved_at is not None:
            log.info("alert.stale_move", left=left.key, joined=group.key)
            gone = alert.model_copy(update={"status": Status.RESOLVED, "occurred_at": resolved_at})
            event = self._moved_out(gone)
            await self.pipeline.apply(gone, event, owner_for(owner, "stale"), group)
        elif await members.newer_in(fp, left, alert.occurred_at, queued_at):
            await self._late_firing(alert, owner, group, left, queued_at)
            await members.place(fp, left, self.pipeline.ledger.clock())


@dataclass(frozen=True, slots=True)
class _Resolved:
    """A resolve of an alert's own incident written from the stored incident and the newer
    event a group holds of the alert (`Moves.after_own_redo`): what the lifecycle reads of
    an alert (`AlertEvent`), with the queue time that orders events stamped alike."""

    fingerprint: str
    source: str
    status: Status
    title: str
    occurred_at: datetime
    queued_at: datetime | None


#: A move's resolve: the lifecycle's `AnswersFiring` (it answers the firing that moves the
#: alert, and takes the alert out of its place when written after that firing).
MovedOut = AnswersFiring


def leaving_owner(owner: str) -> str:
    """The claim owner of the resolve an alert sends to the group it left: an alert of its
    own (on the same delivery), so another delivery of the message does it once."""
    return owner_for(owner, "left")


def owner_for(owner: str, part: str) -> str:
    """The claim owner of a further alert one alert of a message makes (`part`: what for),
    on the same delivery: another delivery of the message makes it once."""
    alert_owner, mark, delivery = owner.rpartition(DELIVERY_MARK)
    if not mark:
        return f"{owner}/{part}"
    return delivery_owner(f"{alert_owner}/{part}", delivery)


@dataclass(slots=True)
class Looked:
    """What a firing learned of the other places its alert may fire in, once its effect was
    claimed and before any sink heard of it (`Moves.before_joining`, `before_owning`),
    for `Moves.join` or `leave_group` after it: nothing is read twice."""

    #: The member record was looked up (`left`: the group it names that still knows the alert;
    #: `late`: that group holds a newer event of it).
    looked: bool = False
    left: GroupKey | None = None
    late: bool = False
    #: The alert was remembered in its group already.
    placed: bool = False
    #: The group's effect is going out (nothing more was to be looked at first).
    carrying: bool = False
    #: Its own incident was looked at (`own`: that incident, when it keeps the alert).
    own_looked: bool = False
    own: Incident | None = None
    #: The group's open was taken back: the alert stays in its own incident.
    withdrawn: bool = False
    #: The close this alert's move sent its own incident was refused for good by a sink (on
    #: an earlier delivery of the message): `join` sends it again (`close_refused`).
    close_refused: bool = False
    #: The claim owner of the firing; `theirs`: the effect in progress in the group it was
    #: remembered in is another delivery's of this very alert.
    owner: str = ""
    theirs: bool = False
    #: When the firing the alert fires with in that group was queued, when later than this
    #: one stamped alike: the resolve that moves it out is dated so.
    queued_at: datetime | None = None


def _done_with(stored: Incident | None, alert: Alert, queued_at: datetime | None) -> bool:
    """Nothing is left to do for `alert` in the group `stored` it was remembered in: it
    resolved there before this firing, and no close is in progress there (one its resolve
    may have left half done; another member's open or update is that member's to finish)."""
    group = stored.group if stored is not None else None
    member = known_member(group, alert.fingerprint) if group is not None else None
    pending = stored.pending if stored is not None else None
    return (
        stored is not None
        and (pending is None or pending.kind is not EffectKind.CLOSE)
        and member is not None
        and member.status is Status.RESOLVED
        and not member.newer_than(alert.occurred_at, queued_at, status=alert.status)
    )


def close_refused(own: Incident, owner: str) -> bool:
    """A sink refused for good the close of an alert's own incident `own` that its move out
    of it sent (`leaving_owner(owner)`, on any delivery of the message `owner` is of), and
    `own` is still as that close left it: this delivery sends it again (`refused_again`)."""
    kind, _ = refused_again(own, alert_of(leaving_owner(owner)))
    return kind is EffectKind.CLOSE


def closing(own: Incident) -> bool:
    """The closed incident `own` has a close in progress, or left half done by a replica that
    died (not one held back while it flapped)."""
    return own.pending is not None and own.pending.owner != FLAP_HOLD


def _just_after(queued_at: datetime | None) -> datetime | None:
    """A queue time just after `queued_at`: an event stamped alike and queued then is newer
    than one queued at `queued_at` (`Incident.guards`, `Member.newer_than`)."""
    return queued_at + timedelta(microseconds=1) if queued_at is not None else None


def _answers(
    last_event_at: datetime,
    last_queued_at: datetime | None,
    alert: Alert,
    queued_at: datetime | None,
) -> bool:
    """A place's newest event (stamped `last_event_at`, queued at `last_queued_at`) is the
    resolve `alert`'s firing (its message queued at `queued_at`) answered with there
    (`Moves._resolve_late`): ordered just after the firing, it is newer than the firing, but
    it is no newer event of the alert."""
    return (
        last_event_at == alert.occurred_at
        and queued_at is not None
        and last_queued_at == _just_after(queued_at)
    )


def _newer_there(member: Member, own: Incident) -> bool:
    """The group member `member` holds a newer event of the alert than its own incident
    `own`'s newest firing, as `Moves._look_at_group` reads one: not that firing stamped
    alike there, nor the resolve it answered with there (`Moves._resolve_late`)."""
    at, queued = own.last_event_at, own.last_queued_at
    if not member.newer_than(at, queued, status=Status.FIRING):
        return False
    if member.last_event_at != at:
        return True
    if member.status is Status.FIRING:
        return False
    return queued is None or member.last_queued_at != _just_after(queued)


def _just_before(queued_at: datetime | None) -> datetime | None:
    """A queue time just before `queued_at`: an event stamped alike and queued then is older
    than one queued at `queued_at` (`Incident.guards`)."""
    return queued_at - timedelta(microseconds=1) if queued_at is not None else None


def _alike_member(member: Member, alert: Alert, queued_at: datetime | None) -> bool:
    """The group member's newest event is `alert`'s firing itself (see `_alike`)."""
    last = member.last_queued_at
    same_queue = queued_at is None or last is None or queued_at == last
    return (
        member.status is Status.FIRING and member.last_event_at == alert.occurred_at and same_queue
    )


def _alike(own: Incident, alert: Alert, queued_at: datetime | None) -> bool:
    """`own`'s newest event is `alert`'s firing itself (stamped alike and queued alike): a
    replica on routes that do not group the alert took the same event at once. Its own
    incident keeps it, so both replicas agree where it fires (each moved it out of the
    other's place, and it fired nowhere)."""
    last = own.last_queued_at
    same_queue = queued_at is None or last is None or queued_at == last
    return own.last_event_at == alert.occurred_at and same_queue
