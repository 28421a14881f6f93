"""Who an incident's effect belongs to, and what its holder does with it after `begin()`.

A claim's owner is one delivery of one alert (`delivery_owner`); `Claims` holds what that owner
does next: `confirm()` each sink's answer, `finish()`, `release()` on failure (remembered per
message, `remember_claim`, for its retry to `reclaim()`), or `withdraw()` an open no sink was
told of. Each is one conditional write that holds only while the owner still holds the claim.

A sink's refusal that fails the message (`confirm(..., failing=True)`: a 400 to a new ticket)
finishes that sink's part for everyone else, and is kept in the incident (`Incident.refused`)
for the alert whose delivery tried it: its next delivery or DLQ redrive sends the effect to
that sink again (`refused_again`), while the incident is still as the effect left it.

Whoever takes a claim over (`begin()`, a retry's `reclaim()`, the sweep, a close by hand)
follows one rule, `holder_gone`: its lease has ended, or it is dated further ahead than any live
claim can be (the clock stepped back since), and never while a worker of the caller's process
carries it out, whatever the clock did.

Apart from `store` because these act on a claim already made. `Store.begin()`, which makes it
(the lifecycle decision and the claim in one write), stays in `store`; the questions it asks of
a claim someone holds (`applied`, `is_closing`, `is_gathering`, `claimant`, `refused_again`)
are here.
"""

from __future__ import annotations

import abc
import dataclasses
import json
from collections.abc import Callable, Container
from datetime import datetime, timedelta

import structlog

from triage.errors import StoreBusyError
from triage.incidents.base import StoreBase, next_version
from triage.incidents.groups import GroupKey, decide_group
from triage.incidents.history import (
    answered,
    decision_history,
    failed_history,
    failed_note,
    sink_note,
)
from triage.incidents.lifecycle import (
    FLAP_HOLD,
    Action,
    AlertEvent,
    Event,
    Held,
    Incident,
    Pending,
    Refusal,
    State,
    decide,
    held_close_back,
    replace_incident,
)
from triage.incidents.records import CLAIMS, Hold, Record, Routing, Transition
from triage.incidents.schedule import gathering_ends, sweep_retry_delay
from triage.models import EffectKind, Ticket

# Logged as the store: its events (`store.*`) keep the logger name they had before the split.
log = structlog.get_logger("triage.incidents.store")

#: Between an alert's owner (its message's id and index, the same on every delivery) and the
#: delivery carrying it out (see `delivery_owner`).
DELIVERY_MARK = "@"


def delivery_owner(alert_owner: str, delivery: str) -> str:
    """The claim owner of one delivery of an alert. Two deliveries of one message (its
    visibility lapsed while the first still ran) own different claims, so the second waits
    for the first instead of running the same effect beside it; a retry after the first ended
    finds the claim its alert left and takes it as its own."""
    return f"{alert_owner}{DELIVERY_MARK}{delivery}"


def alert_of(owner: str) -> str:
    """The alert a claim owner is one delivery of (its message's id and index)."""
    alert, mark, _ = owner.rpartition(DELIVERY_MARK)
    return alert if mark else owner


def same_alert(owner: str, other: str) -> bool:
    """Claim owners `owner` and `other` are one alert's (on the same or another delivery)."""
    return alert_of(owner) == alert_of(other)


#: How long a message's released claims are kept: as long as SQS may keep the message.
CLAIMS_KEPT = timedelta(days=14)


def incident_busy(message: str, *, retry_after_s: float) -> StoreBusyError:
    """One incident is busy with an effect another worker holds: the message waits for it
    alone, and the daemon goes on taking others (a StoreBusyError never pauses intake)."""
    return StoreBusyError(message, retry_after_s=retry_after_s)


def applied(incident: Incident, alert_owner: str, counted: str | None) -> bool:
    """The incident holds the decision of the alert `alert_owner` (short id `counted`)
    already: its effect, or its counted repeat."""
    if alert_owner in incident.effects_by:
        return True
    return counted is not None and counted in incident.counted_by


def is_closing(stored: Incident | None, decided: Incident | None, group: GroupKey | None) -> bool:
    """A member's event would change a closed group whose close a worker is carrying out: it
    waits for that close, and takes it over if its worker died. The event may be the last
    that reaches this group (a resolve whose retry goes where the member has moved since),
    and a close nobody takes over is left half done: one sink told, the others never."""
    pending = stored.pending if stored is not None else None
    return (
        group is not None
        and decided is not None
        and pending is not None
        and pending.owner != FLAP_HOLD
        and stored is not None
        and stored.state is State.CLOSED
    )


def is_gathering(stored: Incident, now: datetime) -> bool:
    """`stored`'s effect is a group's first ticket, waiting for members at `now`
    (`gathering_ends`, which holds the clock rules): no sink was called yet."""
    pending = stored.pending
    return (
        pending is not None
        and pending.kind is EffectKind.OPEN
        and not pending.done
        and gathering_ends(stored, now) is not None
    )


def claimant(stored: Incident, owner: str, now: datetime) -> str:
    """Who holds `stored`'s effect once `owner` claims it: no delivery while its group
    gathers (`gathering_ends`)."""
    if gathering_ends(stored, now) is not None:
        return alert_of(owner)
    return owner


def gathered_untried(pending: Pending | None, now: datetime) -> bool:
    """`pending` is a group's first ticket whose gathering window is over and that nobody
    has tried to carry out yet: it waited for members without a holder (its owner names no
    delivery, `claimant`), no attempt failed and no sink answered. A silence may still hold
    it (`Claims.hold_gathered`): no sink can have heard of it."""
    return (
        pending is not None
        and pending.kind is EffectKind.OPEN
        and pending.not_before is not None
        and pending.not_before <= now
        and pending.owner == alert_of(pending.owner)
        and pending.attempts == 0
        and not pending.done
    )


def opening_counted(stored: Incident, pending: Pending, now: datetime) -> dict[str, object]:
    """The fields a claim of `stored`'s effect `pending` changes beside the claim: for a
    group's first ticket claimed once its window is over and before anyone tried it
    (`gathered_untried`), the occurrences its open tells (every member counted while it
    gathered) are the ones the first update counts from, as for a reopen: else that update
    told "5 more, 6 in all" after an open of 5. Nothing for any other claim."""
    if not gathered_untried(pending, now):
        return {}
    return {"occurrences_at_update": stored.occurrences}


def held_open(stored: Incident, hold: Hold, now: datetime) -> Incident:
    """`stored`, a group whose gathered first ticket (`gathered_untried`) a silence matching
    now holds instead: no effect in progress, the open held (as `Store.begin` holds one
    decided under a silence) with the history line a silenced decision earns."""
    held = Held(EffectKind.OPEN, hold.silence, hold.alert, now, hold.until)
    history = decision_history(stored, Action.SILENCED, stored, now, hold)
    return next_version(stored, pending=None, held=held, history=history)


def _claims_of(record: Record | None) -> list[list[str]]:
    """The [incident key, owner] pairs a claims record holds; none when it does not read (the
    next claim given back writes over it)."""
    try:
        entries = json.loads(record.body) if record is not None else []
    except ValueError:
        return []
    if not isinstance(entries, list):
        return []
    return [
        [str(e[0]), str(e[1])]
        for e in entries
        if isinstance(e, list) and len(e) == 2 and all(isinstance(part, str) for part in e)
    ]


def _gone_marks(
    marks: dict[str, str], sink: str, ref: str | None, gone: bool | None
) -> dict[str, str]:
    """The incident's gone marks after `sink` answered for its reference `ref`: marked when
    the sink said gone; lifted when it reached the ticket, or when the reference is no longer
    the one marked (a new ticket replaced it)."""
    if gone and ref is not None:
        return {**marks, sink: ref}
    if sink in marks and (gone is False or marks[sink] != ref):
        return {name: marked for name, marked in marks.items() if name != sink}
    return marks


def _refusals(
    refused: dict[str, Refusal], sink: str, pending: Pending, failing: bool
) -> dict[str, Refusal]:
    """The incident's refused effects once `sink` answered `pending`: one it refused in a way
    that fails the message is kept with the alert whose delivery tried it (that alert's next
    delivery sends it again); once the sink answered otherwise, its refusal is over."""
    if failing:
        return {**refused, sink: Refusal(pending.kind, alert_of(pending.owner))}
    if sink in refused:
        return {name: refusal for name, refusal in refused.items() if name != sink}
    return refused


#: The state an incident is left in by each effect: a refused one is due while it lasts.
_LEFT_IN = {
    EffectKind.OPEN: State.OPEN,
    EffectKind.UPDATE: State.OPEN,
    EffectKind.REOPEN: State.OPEN,
    EffectKind.CLOSE: State.CLOSED,
}


def refused_again(stored: Incident, alert_owner: str) -> tuple[EffectKind | None, tuple[str, ...]]:
    """The effect of `stored` that sinks refused when `alert_owner` (a message's alert) tried
    it, and those sinks, while the incident is still as that effect left it: that alert's
    delivery sends it to them again. (None, ()) when there is none."""
    if stored.held is not None:
        return None, ()
    due = [
        (sink, refusal.kind)
        for sink, refusal in stored.refused.items()
        if refusal.alert == alert_owner and _LEFT_IN[refusal.kind] is stored.state
    ]
    if not due:
        return None, ()
    kind = due[0][1]  # an alert decides one effect: its refusals are all of one kind
    return kind, tuple(sink for sink, refused in due if refused is kind)


def refusals_kept(stored: Incident, decided: Incident, action: Action) -> dict[str, Refusal]:
    """The refusals of `stored` that `decided` keeps when the decision `action` turns the
    incident (closes it, or opens it again): the tickets sinks refused and hold none of
    (`Incident.owed`), so its reopen sends each of them an open. Every other refused effect
    is no longer due, and a new incident under the fingerprint (OPEN) owes nothing yet."""
    if action is Action.OPEN:
        return {}
    return {sink: r for sink, r in stored.refused.items() if sink not in decided.refs}


class Claims(StoreBase):
    """`Store`'s side of a claim once made (see the module docstring)."""

    @abc.abstractmethod
    def _lease_over(self, pending: Pending, now: datetime, carrying: Container[str]) -> bool:
        """`pending`'s holder is gone by this clock (see `Store._lease_over`)."""

    def holder_gone(
        self, pending: Pending, now: datetime, carrying: Container[str] = frozenset()
    ) -> bool:
        """Whether `pending` may be taken over at `now` by the rules `begin()` follows: its
        lease has ended, or it is dated further ahead than any live claim can be (made while
        the clock was ahead); never while a worker of the caller's process is `carrying` it
        out, whatever the clock did. Every path that takes a claim over asks this."""
        return self._lease_over(pending, now, carrying)

    async def reclaim(
        self, key: str, owner: str, now: datetime, *, carrying: Container[str] = frozenset()
    ) -> Transition | None:
        """Claim again, for `owner`, the effect on incident `key` that another delivery of the
        same alert claimed and gave back on failure (see `CLAIMS`), to finish it with the same
        idempotency key; None when it is not that alert's any more (finished, or taken over).
        Raises StoreBusyError while another delivery of the alert still carries it out: one
        whose lease runs, or one a worker of this process is `carrying` out (`holder_gone`)."""

        def change(stored: Incident | None) -> tuple[Incident | None, Transition | None]:
            pending = stored.pending if stored else None
            if stored is None or pending is None or not same_alert(pending.owner, owner):
                return None, None
            if gathering_ends(stored, now) is not None:
                return None, None  # a group gathering members: the alert comes back for it
            if pending.owner != owner and not self._lease_over(pending, now, carrying):
                raise incident_busy(
                    f"incident {key}: another delivery of this message is carrying out its "
                    f"{pending.kind} effect",
                    retry_after_s=self._wait(pending, now),
                )
            claimed = dataclasses.replace(pending, owner=owner, until=now + self.lease)
            after = next_version(stored, pending=claimed)
            return after, Transition(Action(pending.kind.value), stored, after, redo=True)

        return await self._transact(key, change)

    async def hold_gathered(
        self, transition: Transition, owner: str, hold: Hold, now: datetime
    ) -> Transition:
        """`owner` just claimed a group's first ticket whose window is over (`transition`,
        from `begin` or `take_over`; untried before it, `gathered_untried`), and a silence
        added meanwhile holds the group now (`hold`, `groups.silencing_members`): the open is held
        instead, as one decided under that silence is, and the sweep carries it out once no
        silence matches (README: a silence opens nothing). The window let the silence come
        after the open was decided; without this, the open went out under it. `transition`
        unchanged when the claim is not that (or no longer `owner`'s as claimed: it then goes
        out as claimed)."""
        claimed, before = transition.after, transition.before
        taken = before.pending if before is not None else None
        if claimed is None or before is None or not gathered_untried(taken, now):
            return transition

        def change(stored: Incident | None) -> tuple[Incident | None, Transition]:
            pending = stored.pending if stored is not None else None
            if (
                stored is None
                or pending is None
                or stored.version != claimed.version
                or pending.owner != owner
            ):
                return None, transition
            after = held_open(stored, hold, now)
            return after, Transition(Action.SILENCED, before, after, redo=transition.redo)

        return await self._transact(claimed.fingerprint, change)

    async def remember_claim(self, message: str, key: str, owner: str, now: datetime) -> None:
        """The alert `owner` (a claim owner) of `message` gave its claim on incident `key`
        back on failure: kept for the message's retry (`released_claims`)."""
        entry = [key, alert_of(owner)]
        expires = (now + CLAIMS_KEPT).timestamp()

        def change(record: Record | None) -> tuple[Record | None, None]:
            kept = _claims_of(record)
            if entry in kept:
                return None, None
            body = json.dumps([*kept, entry], separators=(",", ":"))
            version = record.version + 1 if record is not None else 1
            return Record(message, CLAIMS, version, body, expires), None

        await self._update(CLAIMS, message, change)

    async def released_claims(self, message: str) -> list[tuple[str, str]]:
        """The (incident key, claim owner without its delivery) pairs `message`'s alerts gave
        back on failure (`remember_claim`)."""
        return [(key, owner) for key, owner in _claims_of(await self._get(CLAIMS, message))]

    async def withdraw(
        self,
        transition: Transition,
        owner: str,
        event: AlertEvent,
        now: datetime,
        group: GroupKey | None = None,
    ) -> bool:
        """Take back the open, reopen or (a group member's) update `owner` claimed in
        `transition` before any sink was called: the incident is written as it was before the claim, with `event` (the alert,
        resolved) applied to it. False, writing nothing, when the incident changed since the
        claim, or the claim was taken over from a holder that died (its effect then goes out
        as claimed, and is undone as any would be)."""
        claimed, before = transition.after, transition.before
        assert claimed is not None
        if before is not None and before.pending is not None:
            # A claim taken again (its first holder died): a sink may have acted on it.
            return False

        def change(stored: Incident | None) -> tuple[Incident | None, bool]:
            pending = stored.pending if stored is not None else None
            if (
                stored is None
                or pending is None
                or stored.version != claimed.version
                or pending.owner != owner
                or pending.done
                or pending.kind not in (EffectKind.OPEN, EffectKind.REOPEN, EffectKind.UPDATE)
                or (pending.kind is EffectKind.UPDATE and group is None)
            ):
                return None, False
            if group is None:
                decision = decide(before, event, now, self.policy)
            else:
                decision = decide_group(before, event, now, self.policy, group)
            if pending.kind is EffectKind.UPDATE:
                # A group member's update, taken back only when the member's resolve there
                # counts or updates (it neither closes nor reopens the group): no sink heard of
                # the firing, so none hears of its resolve, and the group's update window
                # stays as it was.
                if decision.action not in (Action.UPDATE, Action.COUNT) or before is None:
                    return None, False
                if decision.incident is not None:
                    decision = dataclasses.replace(
                        decision,
                        incident=replace_incident(
                            decision.incident,
                            last_update_at=before.last_update_at,
                            occurrences_at_update=before.occurrences_at_update,
                        ),
                    )
            kept = decision.incident or before
            assert kept is not None  # a first event always makes an incident
            # Its key's number stays used: no two effects ever share an idempotency key.
            back = replace_incident(kept, version=stored.version + 1, seq=stored.seq)
            return back.noted(now, Action.IGNORE.value, "withdrawn"), True

        return await self._transact(claimed.fingerprint, change)

    def recheck_after(self, pending: Pending, now: datetime) -> float:
        """How long a message waits for `pending`, held by another worker (see `_wait`)."""
        return self._wait(pending, now)

    async def save_ticket(
        self, fingerprint: str, owner: str, ticket: Ticket, routing: Routing | None = None
    ) -> None:
        changes: dict[str, object] = {"ticket": ticket}
        if routing is not None:
            changes.update(
                route=routing.route,
                team=routing.team,
                labels=routing.labels,
                labels_past_cap=routing.labels_past_cap,
                escalate_after_s=routing.escalate_after_s,
                resolve_after_s=routing.resolve_after_s,
            )
        await self._mutate(fingerprint, owner, lambda _: changes)

    async def confirm(
        self,
        fingerprint: str,
        owner: str,
        sink: str,
        ref: str | None,
        *,
        finish: bool = False,
        gone: bool | None = None,
        why: str | None = None,
        now: datetime | None = None,
        failing: bool = False,
    ) -> bool:
        """`sink` carried out the pending effect (`ref`: its new reference, if any). `gone`:
        True when it said the ticket is gone for good (marked, in the same write), False when
        it reached the ticket (a mark is lifted), None when it said neither (a skip). `why`:
        why it sent nothing, a fixed word (`REFUSED`, or a skip's); `failing`: its refusal of
        a new ticket fails the message, whose next delivery sends it the open again
        (`Incident.refused`). One history line says so, dated `now` (default: `self.now()`),
        in place of the line of this effect's failed attempts, if any (`release`).

        The same write renews the claim's lease: it runs a lease from `now` (never ends
        earlier than it did), so a worker whose sink answered after the lease ran out, while
        nobody took the effect over, holds it for its next sink's call; without that, another
        replica could take the effect over during that call and send it to that sink again.
        True when written; False, writing and logging nothing, when `owner` no longer holds
        the effect (taken over, or finished by another): its caller must call no later sink
        and say so (`Work.confirm`)."""
        at = now or self.now()

        def apply(incident: Incident) -> dict[str, object]:
            pending = incident.pending
            assert pending is not None
            kind = pending.kind
            done = (*pending.done, sink)
            refs = {**incident.refs, sink: ref} if ref is not None else incident.refs
            marks = _gone_marks(incident.gone, sink, refs.get(sink), gone)
            refused = _refusals(incident.refused, sink, pending, failing)
            # What the sink got and answered, in the confirmation's own write: a later effect
            # that gave a sink its first ticket here opened it (a ticket it was owed).
            opened = kind is not EffectKind.OPEN and ref is not None and sink not in incident.refs
            note = sink_note(sink, ref, refs.get(sink), gone, why, opened=opened)
            line = Event(at, kind.value, note)
            history = answered(incident.history, line, pending.attempts)
            return {
                "refs": refs,
                "pending": renewed(pending, done, at, self.lease),
                **(held_close_back(incident, self.policy) if finish else {}),
                "gone": marks,
                "refused": refused,
                "history": history,
            }

        return await self._mutate(fingerprint, owner, apply, say_lost=False)

    async def finish(self, fingerprint: str, owner: str) -> None:
        """`owner`'s effect is over: none is pending, or the held close an update took the
        place of is again (`held_close_back`)."""
        await self._mutate(
            fingerprint, owner, lambda incident: held_close_back(incident, self.policy)
        )

    async def release(
        self,
        fingerprint: str,
        owner: str,
        *,
        reason: str | None = None,
        now: datetime | None = None,
    ) -> None:
        """`owner` gives its claim back on failure, for a retry to take over at once. The
        effect's one failure line (`failed`, how many times, and `reason`: a fixed word such as
        `backend unavailable`, never an error's text) is written or rewritten in the same write, dated
        `now` (default: `self.now()`)."""
        at = now or self.now()

        def apply(incident: Incident) -> dict[str, object]:
            # Move the lease's end back to when it was claimed or last renewed (a sink's
            # confirmation, `renewed`): already past for any later begin(), on the same clock
            # the lease was set with (not this host's wall clock).
            pending = incident.pending
            assert pending is not None
            claimed = pending.until - self.lease
            # A message for the incident redoes it at once. The sweep tries it again too,
            # later after each failure (no message may bring it back: one that carries its
            # own alert has none, and a message's retry may be routed elsewhere by then).
            attempts = pending.attempts + 1
            retry_at = claimed + sweep_retry_delay(attempts)
            released = dataclasses.replace(
                pending, until=claimed, attempts=attempts, retry_at=retry_at
            )
            line = Event(at, pending.kind.value, failed_note(attempts, reason))
            history = failed_history(incident.history, line, first=attempts == 1)
            return {"pending": released, "history": history}

        await self._mutate(fingerprint, owner, apply)

    async def _mutate(
        self,
        fingerprint: str,
        owner: str,
        edit: Callable[[Incident], dict[str, object]],
        *,
        say_lost: bool = True,
    ) -> bool:
        """Change the fields `edit` says while `owner` still holds the pending effect; else do
        nothing, with one line unless `say_lost` is False (the caller says it): no effect
        pending is `store.claim_already_over` (info), another owner's is `store.lease_lost`
        (warning). The incident is copied once, with its next version (`replace_incident`).
        True when written."""
        seen: list[Incident | None] = []

        def change(stored: Incident | None) -> tuple[Incident | None, bool]:
            seen[:] = [stored]
            if stored is None or stored.pending is None or stored.pending.owner != owner:
                return None, False
            return next_version(stored, **edit(stored)), True

        written = await self._transact(fingerprint, change)
        if not written and say_lost:
            _say_not_ours(fingerprint, owner, seen[0] if seen else None)
        return written


def _say_not_ours(fingerprint: str, owner: str, stored: Incident | None) -> None:
    """The one line for a write of `owner`'s claim that found the effect no longer its own.
    No effect pending (or no incident): it is over, most likely by our own finishing
    confirmation, which the store wrote but did not answer (DynamoDB's timeout after the
    write): no one took anything over, and the message's retry finds it done. An effect
    another owner holds: someone took it over (our lease ran out); they redo it with the same
    idempotency key, so our result is not lost, only not recorded by us."""
    if stored is None or stored.pending is None:
        log.info(
            "store.claim_already_over",
            fingerprint=fingerprint,
            owner=owner,
            reason="no effect pending: a write of ours the store did not answer may have "
            "finished it",
        )
        return
    log.warning("store.lease_lost", fingerprint=fingerprint, owner=owner)


def renewed(pending: Pending, done: tuple[str, ...], at: datetime, lease: timedelta) -> Pending:
    """`pending` once a sink confirmed it at `at` (`done`: the sinks that have, with it): its
    lease runs a `lease` from `at`, or as long as it did when that is later (a confirmation
    dated by a clock behind the one that claimed it never shortens it)."""
    return dataclasses.replace(pending, done=done, until=max(pending.until, at + lease))
