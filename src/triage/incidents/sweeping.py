"""What the sweep and operators do to incidents beside the flow of alerts: find the incidents
due (`due`), take over an abandoned effect (`take_over`), let a held effect go once its silence
ends (`release_held`), escalate (`claim_escalation`, `escalation_sent`, `end_escalation`),
close one that has had no alert for its route's `resolve_after_s` (`auto_close`), send the
update an incident owes its ticket (`send_owed_update`), and close one by hand (`close`).

Apart from `store` because no alert drives these: each claims work for the sweep's or an
operator's owner in one conditional write, so one replica does it, and the effect claimed goes
out as any other would (`claims`). When they are due is `schedule`'s.
"""

from __future__ import annotations

import abc
import dataclasses
from collections.abc import Callable, Container
from datetime import datetime

from triage.errors import StoreBusyError
from triage.incidents.base import StoreBase, next_version
from triage.incidents.claims import is_gathering, opening_counted
from triage.incidents.codec import view_to_json
from triage.incidents.lifecycle import (
    FLAP_HOLD,
    Action,
    Decision,
    Escalation,
    Held,
    Incident,
    Pending,
    State,
    auto_close_note,
    auto_closing,
    closed_by_hand,
    displaced_close,
    quiet_words,
    replace_incident,
    sending_owed_update,
    stored_alert,
    update_owed_due,
)
from triage.incidents.records import INCIDENT, Transition
from triage.incidents.schedule import escalation_due, resolve_due, sweep_waits
from triage.incidents.silences import Silence
from triage.models import EffectKind

#: Which silence (if any) holds a stored incident now; the sweep passes the one it reads.
SilenceMatch = Callable[[Incident], "Silence | None"]


def close_held(decision: Decision, held: Held | None) -> Decision:
    """A close while an effect is held: the sinks never heard of a held open or reopen, so
    there is nothing to tell them; a held update is dropped and the close goes out."""
    assert decision.incident is not None
    incident = replace_incident(decision.incident, held=None)
    if held is not None and held.kind in (EffectKind.OPEN, EffectKind.REOPEN):
        return Decision(Action.RECORD, incident)
    return Decision(decision.action, incident)


def held_released(decided: Incident, held: Held, now: datetime) -> Decision:
    """The held effect, now that no silence matches."""
    # Whatever its kind, it lists a group's members as they are: an update owed for them (they
    # joined while it was held) goes out with it. A held open tells its new ticket every
    # occurrence so far, as a reopen does: the update of its interval (the next one counts
    # from it and comes an interval after it, not after the first alert the silence held).
    if held.kind in (EffectKind.OPEN, EffectKind.UPDATE, EffectKind.REOPEN):
        incident = replace_incident(
            decided,
            held=None,
            last_update_at=now,
            occurrences_at_update=decided.occurrences,
            update_owed_at_s=None,
        )
    else:
        incident = replace_incident(decided, held=None, update_owed_at_s=None)
    return Decision(Action(held.kind.value), incident)


def unheld(decision: Decision, held: Held, now: datetime) -> Decision:
    """What an alert's claim decides of an incident whose effect a silence held, once no
    silence matches it: a close goes out or not as `close_held` says; else the held effect
    goes out now (`held_released`). A dry run shows the same (`Pipeline._preview`)."""
    decided = decision.incident
    assert decided is not None
    if decided.state is State.CLOSED:
        return close_held(decision, held)
    return held_released(decided, held, now)


def _owed_note(stored: Incident) -> str:
    """What an owed update's history line says: a group's members changed; an incident's
    alerts counted, and how many since its ticket was told (`N alerts (+K)`)."""
    if stored.group is not None:
        return "members changed"
    return f"{stored.occurrences} alerts (+{stored.occurrences - stored.occurrences_at_update})"


class Sweeping(StoreBase):
    """`Store`'s side of the sweep and of operators (see the module docstring)."""

    @abc.abstractmethod
    def _lease_over(self, pending: Pending, now: datetime, carrying: Container[str]) -> bool:
        """`pending`'s holder is gone by this clock (see `Store._lease_over`)."""

    def sweep_may_take(
        self, pending: Pending, now: datetime, carrying: Container[str] = frozenset()
    ) -> bool:
        """Whether the sweep may take `pending` over at `now`: never one a worker of the
        sweep's process is `carrying` out; one whose lease, grace and wait after a failure
        are over (`sweep_waits`); or one dated further ahead than any live claim can be
        (made while the clock was ahead, then stepped back), which `begin()` takes over at
        once too: its times say nothing of when it was made."""
        if pending.owner in carrying:
            return False
        if not sweep_waits(pending, now):
            return True
        # The lease has not ended by this clock, yet `begin()` would take the claim over.
        return pending.until > now and self._lease_over(pending, now, carrying)

    async def due(self, now: datetime | None) -> list[str]:
        """Fingerprints the sweep must look at by `now` (None: every one it may have to)."""
        return await self._due(now.timestamp() if now is not None else None)

    async def dated_after(self, after: datetime) -> list[tuple[str, float]]:
        """The incidents the sweep index dates later than `after`, each with its index time
        (epoch seconds): the far end of the index, where a claim made while the clock was
        ahead waits (`schedule.dated_ahead_after`)."""
        return await self._dated_after(after.timestamp())

    async def _dated_after(self, after_s: float) -> list[tuple[str, float]]:
        """`dated_after` from every incident record; a backend with an index reads its range
        instead (SQLite, DynamoDB)."""
        return [
            (record.key, record.sweep_at)
            for record in await self._scan(INCIDENT)
            if record.sweep_at is not None and record.sweep_at > after_s
        ]

    async def close(
        self,
        fingerprint: str,
        owner: str,
        now: datetime,
        alert: str,
        *,
        carrying: Container[str] = frozenset(),
    ) -> Transition:
        """Close an open incident by hand, as a resolve would: a CLOSE effect claimed for
        `owner` (carried out with `alert`, the operator's note as a redacted view), or nothing
        to do when it is closed already (IGNORE) or its ticket was never sent (RECORD). A
        flapping incident resolved while its tickets' close is held back is closed on them now,
        also when a person's change holds that close's place (`_closed_in_a_changes_place`).
        Raises LookupError for an unknown fingerprint, StoreBusyError while an effect runs: one
        whose holder `begin()` would not take it from (its lease runs, or a worker of the
        caller's process is `carrying` it out)."""

        def change(stored: Incident | None) -> tuple[Incident | None, Transition]:
            if stored is None:
                raise LookupError(fingerprint)
            held = stored.pending
            if held is not None and held.owner == FLAP_HOLD:
                # Closed in the store, open on its tickets: the operator's close is the one
                # held back, sent now (its idempotency key unchanged) with their note; it ends
                # the flapping as the held close would (`quiet_until`: when it went out).
                claimed = dataclasses.replace(
                    held, owner=owner, until=now + self.lease, alert=alert
                )
                after = next_version(stored, pending=claimed, quiet_until=now, applied_at=now)
                after = after.noted(now, Action.CLOSE.value, "by hand, held while flapping")
                return after, Transition(Action.CLOSE, stored, after)
            if displaced_close(stored):
                return self._closed_in_a_changes_place(stored, owner, now, alert, carrying)
            if stored.state is State.CLOSED:
                return None, Transition(Action.IGNORE, stored, None)
            pending = stored.pending
            gathering = is_gathering(stored, now)
            if pending is not None and not (gathering or self._lease_over(pending, now, carrying)):
                raise StoreBusyError(
                    f"incident {fingerprint} has an effect in progress ({pending.kind})",
                    retry_after_s=max(1.0, (pending.until - now).total_seconds()),
                )
            # An effect nobody holds (its message failed for good, or its worker died and no
            # message came since) would keep the incident busy for ever: the close replaces
            # it, and goes to the sinks that effect (or an earlier one) reached. So does a
            # group's first ticket still gathering members: no sink was called yet.
            # A group's members firing are resolved with it, as a close for want of alerts
            # resolves them: their next resend reopens it rather than being taken for the
            # event the group has. Nothing is owed to a closed ticket, and the flap count
            # ends: the alert never resolved (`closed_by_hand`).
            closed = closed_by_hand(stored, now)
            decision = close_held(Decision(Action.CLOSE, closed), stored.held)
            if not stored.has_ticket or gathering:
                # Nobody was told of it (a group's first ticket still waits for members).
                decision = Decision(Action.RECORD, replace_incident(closed, held=None))
            effect = decision.action.effect
            after = self._stamp(stored, decision, effect, owner, now, alert=alert)
            after = after.noted(now, decision.action.value, "by hand")
            return after, Transition(decision.action, stored, after)

        return await self._transact(fingerprint, change)

    def _closed_in_a_changes_place(
        self, stored: Incident, owner: str, now: datetime, alert: str, carrying: Container[str]
    ) -> tuple[Incident, Transition]:
        """A close by hand of a flapping incident whose held close a person's change of the
        priority holds the place of (`displaced_close`): its tickets are open, so it is not
        "closed already". While that update runs, the close waits for it, as for any effect
        (StoreBusyError); an update whose holder is gone is replaced by the operator's close,
        sent now with their note (one effect number on), ending the flapping as the held
        close going out would (`quiet_until`: when it went out)."""
        pending = stored.pending
        assert pending is not None
        if not self._lease_over(pending, now, carrying):
            raise StoreBusyError(
                f"incident {stored.fingerprint} has an effect in progress ({pending.kind})",
                retry_after_s=max(1.0, (pending.until - now).total_seconds()),
            )
        seq = stored.seq + 1
        claimed = Pending(EffectKind.CLOSE, owner, now + self.lease, seq, alert=alert)
        after = next_version(stored, pending=claimed, seq=seq, quiet_until=now, applied_at=now)
        after = after.noted(now, Action.CLOSE.value, "by hand, held while flapping")
        return after, Transition(Action.CLOSE, stored, after)

    async def auto_close(self, fingerprint: str, owner: str, now: datetime) -> Transition | None:
        """Close an incident that has had no alert for its route's `resolve_after_s`
        (`resolve_due`), as the resolve its source never sends would: a CLOSE effect claimed
        for `owner`, carried out with a note saying why; damped when it flaps; the rules of a
        held effect as a close by hand has them. One conditional write, so one replica closes
        it. None when it is not due (an event came, an effect is in progress, it closed)."""

        def change(stored: Incident | None) -> tuple[Incident | None, Transition | None]:
            if stored is None or not resolve_due(stored, now):
                return None, None
            decision = auto_closing(stored, now, self.policy)
            if decision.action is Action.CLOSE:
                decision = close_held(decision, stored.held)
            alert = view_to_json(auto_close_note(stored, now))
            after = self._stamp(stored, decision, decision.action.effect, owner, now, alert=alert)
            after = after.noted(now, decision.action.value, quiet_words(stored))
            return after, Transition(decision.action, stored, after)

        return await self._transact(fingerprint, change)

    async def send_owed_update(
        self, fingerprint: str, owner: str, now: datetime
    ) -> Transition | None:
        """Claim, for `owner`, the update an incident owes its ticket for alerts counted
        inside its update interval (a group's members that changed), once due
        (`update_owed_due`): an UPDATE carried out with the incident as stored (its count,
        and a group's members, as they are now). One conditional write, so one replica sends
        it. None when it is not due (sent, closed, an effect in progress)."""

        def change(stored: Incident | None) -> tuple[Incident | None, Transition | None]:
            if stored is None or not update_owed_due(stored, now):
                return None, None
            decision = sending_owed_update(stored, now)
            alert = view_to_json(stored_alert(stored))
            after = self._stamp(
                stored, decision, EffectKind.UPDATE, owner, now, gather=False, alert=alert
            )
            after = after.noted(now, decision.action.value, _owed_note(stored))
            return after, Transition(decision.action, stored, after)

        return await self._transact(fingerprint, change)

    async def release_held(
        self, fingerprint: str, owner: str, now: datetime, match: SilenceMatch
    ) -> Transition | None:
        """The sweep's turn at a held incident: when no silence (`match`) holds it any more,
        its held effect is claimed for `owner` (carried out with the held alert); while one
        does, the silence it waits for is noted. None when there is nothing to carry out."""

        def change(stored: Incident | None) -> tuple[Incident | None, Transition | None]:
            if stored is None or stored.held is None or stored.pending is not None:
                return None, None
            held = stored.held
            if stored.state is State.CLOSED:  # cannot be, but never send a held effect then
                return next_version(stored, held=None), None
            silence = match(stored)
            if silence is not None:
                if (silence.id, silence.ends()) == (held.silence, held.until):
                    return None, None
                waits = dataclasses.replace(held, silence=silence.id, until=silence.ends())
                return next_version(stored, held=waits), None
            decision = held_released(stored, held, now)
            after = self._stamp(
                stored, decision, decision.action.effect, owner, now, gather=False, alert=held.alert
            )
            after = after.noted(now, decision.action.value, "silence ended")
            return after, Transition(decision.action, stored, after)

        return await self._transact(fingerprint, change)

    async def take_over(
        self,
        fingerprint: str,
        owner: str,
        now: datetime,
        *,
        carrying: Container[str] = frozenset(),
    ) -> Transition | None:
        """Claim an abandoned effect for the sweep, to redo it with the same idempotency key:
        one that carries its own alert (a held one let go, an operator's close), or one a
        message's alert claimed that no delivery finished (see `sweep_from`). None when there
        is none, or it is not the sweep's yet (`sweep_may_take`, with the owners a worker of
        the sweep's process is `carrying` out)."""

        def change(stored: Incident | None) -> tuple[Incident | None, Transition | None]:
            pending = stored.pending if stored else None
            if stored is None or pending is None:
                return None, None
            if not self.sweep_may_take(pending, now, carrying):
                return None, None
            claimed = dataclasses.replace(pending, owner=owner, until=now + self.lease)
            after = next_version(stored, pending=claimed, **opening_counted(stored, pending, now))
            if pending.owner == FLAP_HOLD:  # not a redo: the close held while it flapped
                after = after.noted(now, pending.kind.value, "held while flapping")
            return after, Transition(Action(pending.kind.value), stored, after, redo=True)

        return await self._transact(fingerprint, change)

    async def claim_escalation(
        self, fingerprint: str, owner: str, now: datetime, match: SilenceMatch
    ) -> Incident | None:
        """Claim the escalation of an incident that is due (open, ticketed, past its route's
        `escalate_after_s`, not escalated, no silence matching) for `owner`; one conditional
        write, so one replica escalates it. None when it is not due. Another sweep's claim, or
        a failed escalation's retry time, is waited for by the rules every claim follows
        (`escalation_due`): not when the clock that set it was ahead and has stepped back."""

        def change(stored: Incident | None) -> tuple[Incident | None, Incident | None]:
            if stored is None or not escalation_due(stored, now, self.lease):
                return None, None
            if match(stored) is not None:
                return None, None
            told = stored.escalation.sent if stored.escalation is not None else ()
            claim = Escalation(owner, now + self.lease, sent=told)  # who was told stays told
            after = next_version(stored, escalation=claim)
            return after, after

        return await self._transact(fingerprint, change)

    async def escalation_sent(self, fingerprint: str, owner: str, target: str) -> None:
        """`owner`'s escalation told `target`: a retry tells only the others."""

        def change(stored: Incident | None) -> tuple[Incident | None, None]:
            escalation = stored.escalation if stored else None
            if stored is None or escalation is None or escalation.owner != owner:
                return None, None
            if target in escalation.sent:
                return None, None
            told = dataclasses.replace(escalation, sent=(*escalation.sent, target))
            return next_version(stored, escalation=told), None

        await self._transact(fingerprint, change)

    async def end_escalation(
        self, fingerprint: str, owner: str, now: datetime, *, retry_at: datetime | None = None
    ) -> None:
        """The escalation `owner` claimed is done; or, with `retry_at`, failed and is due again
        then."""

        def change(stored: Incident | None) -> tuple[Incident | None, None]:
            escalation = stored.escalation if stored else None
            if stored is None or escalation is None or escalation.owner != owner:
                return None, None
            if retry_at is None:
                ended = dataclasses.replace(escalation, done_at=now)
                return next_version(stored, escalation=ended).noted(now, "escalated"), None
            ended = dataclasses.replace(escalation, until=retry_at)
            return next_version(stored, escalation=ended), None

        await self._transact(fingerprint, change)
