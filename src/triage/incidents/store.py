"""Where incidents live, and where replicas agree on who does what.

`Store` is the seam: it holds the protocol every backend shares, on top of two primitives a
backend supplies: read a record (a JSON document with a version), and change it
atomically (write it only if its version is unchanged). Records are of a few kinds: incidents,
the budgets replicas share (GitHub's issue-creation budget), one record per budget, and what
an incident's effect in progress sends its sinks (`freeze_effect`), one record per incident.

Per alert, a worker calls `begin()`: one conditional write decides the lifecycle action and, when
it has a sink effect, records a `Pending` intent owned by the worker (its SQS message's alert,
on this delivery) with a lease. The worker then calls the sinks, `confirm()`s each one, and
`finish()`es. A crash in between leaves the intent; once its lease ends, whoever sees the
incident next redoes the effect with the same idempotency key, so the ticket is neither lost
nor duplicated; and with the same body (`freeze_effect`, before the first sink call), so a
sink that checks a reused key's payload answers the redo as it did the first attempt.

`Store` is put together from parts, a module each, so that each reads on its own:

    base       StoreBase: the backend's primitives, decoding and listing incidents
    records    the record, its kinds, and the values `Store` takes and hands back
    claims     Claims: claim owners, and confirm / finish / release / reclaim / withdraw
    sweeping   Sweeping: the sweep's and operators' writes (take over, held, escalate, close)
    shared     SharedRecords: the budgets replicas share, which group a member fires in
    schedule   when the sweep must look at an incident
    history    the line each write adds to an incident's history

Here: `begin()` (an alert's decision and the claim of its effect, in one write), the one write
of an incident (`_transact`, which holds every record to `MAX_RECORD_BYTES`), and silences
(all of them in one record, held to the same bound).
"""

from __future__ import annotations

import asyncio
import dataclasses
import hashlib
import json
from collections.abc import Container, Iterable, Mapping
from datetime import datetime, timedelta
from typing import Any, NamedTuple

import structlog

from triage.errors import (
    RecordTooLargeError,
    StoreBusyError,
    StoreCorruptError,
    StoreNewerError,
)
from triage.incidents import groups
from triage.incidents.base import _DECODE_BATCH, StoreBase
from triage.incidents.claims import (
    CLAIMS_KEPT,
    DELIVERY_MARK,
    Claims,
    alert_of,
    applied,
    claimant,
    delivery_owner,
    incident_busy,
    is_closing,
    is_gathering,
    opening_counted,
    refusals_kept,
    refused_again,
    same_alert,
)
from triage.incidents.codec import incident_to_json, sent_from_json, sent_to_json
from triage.incidents.groups import GroupKey, decide_group
from triage.incidents.history import REFUSED, TIMES, decision_history
from triage.incidents.lifecycle import (
    EFFECTS_KEPT,
    FLAP_HOLD,
    Action,
    AlertEvent,
    Decision,
    Event,
    Held,
    Incident,
    Pending,
    State,
    decide,
    replace_incident,
)
from triage.incidents.plain import plain_count
from triage.incidents.records import (
    BUDGET,
    CLAIMS,
    INCIDENT,
    MEMBER,
    SENT,
    SILENCES,
    SILENCES_KEY,
    Change,
    Hold,
    R,
    Record,
    RecordChange,
    Routing,
    Sent,
    Transition,
    other_keys,
)
from triage.incidents.schedule import (
    ABANDONED_GRACE,
    CLAIM_CLOCK_SLACK,
    SWEEP_RETRY_FIRST,
    SWEEP_RETRY_MAX,
    dated_ahead,
    sweep_at,
    sweep_from,
    sweep_retry_delay,
    sweep_waits,
)
from triage.incidents.shared import SharedRecords
from triage.incidents.silences import Silence, check_regex_budget, twin_of
from triage.incidents.sweeping import (
    SilenceMatch,
    Sweeping,
    unheld,
)
from triage.models import EffectKind, Status
from triage.settings import KNOWN_SINKS

#: The names other modules import from here, wherever they are defined now (the values of
#: `records`, for one): every import path from before the split keeps working.
__all__ = [
    "ABANDONED_GRACE",
    "BUDGET",
    "BUSY_RECHECK_S",
    "CLAIMS",
    "CLAIMS_KEPT",
    "CLAIM_CLOCK_SLACK",
    "COUNTED_KEPT",
    "DELIVERY_MARK",
    "INCIDENT",
    "MAX_RECORD_BYTES",
    "MAX_SILENCES",
    "MEMBER",
    "REFUSED",
    "SENT",
    "SENT_KEPT_MIN",
    "SETTLED_KEPT",
    "SILENCES",
    "SILENCES_KEY",
    "SILENCE_KEEP",
    "SWEEP_RETRY_FIRST",
    "SWEEP_RETRY_MAX",
    "TIMES",
    "Change",
    "Hold",
    "R",
    "Record",
    "RecordChange",
    "Routing",
    "Sent",
    "SilenceMatch",
    "Store",
    "Transition",
    "delivery_owner",
    "incident_busy",
    "redo_gap",
    "same_alert",
    "sent_keep_problem",
    "sent_kept_for",
    "sweep_from",
    "sweep_retry_delay",
    "sweep_waits",
]

log = structlog.get_logger(__name__)

# The bounds below are read by the code that stays in this module (tests shrink
# `MAX_RECORD_BYTES`, `COUNTED_KEPT` and `BUSY_RECHECK_S` here, and the code must see it).

#: Silences kept after they end (for `triage silence list --all`), and at most this many in all
#: (a new silence past either bound, or the record's size, drops those that ended longest ago).
SILENCE_KEEP = timedelta(days=7)
MAX_SILENCES = 1000
#: The most a record's body may take in UTF-8. DynamoDB refuses an item over 400 KB, its key
#: and other attributes included; SQLite would take more, but every store keeps one bound, so
#: a table can move between them and a test on one proves the other.
MAX_RECORD_BYTES = 350_000

#: The longest a message waits for its incident's effect, held by another worker, to end.
BUSY_RECHECK_S = 2.0

#: Counted repeats an incident remembers at most (short ids of their alerts), so that another
#: delivery of one is ignored, not counted again. The id rides in the repeat's own conditional
#: write (about 15 bytes of the record each), never a write of its own, and is dropped by the
#: next write of the same process once SQS has confirmed its message's delete (`settle`): a
#: message deleted cannot come back, one not deleted may, however many repeats came since.
#: So an incident keeps only the repeats not yet deleted (a delete takes moments) and the few
#: a process stopping left behind, and a repeat is counted again only when more than this
#: many later repeats of its incident are still undeleted when it comes back (a storm while
#: SQS refuses deletes). Each write copies them: an unpruned 256 cost 25 µs a repeat, 64 6 µs.
COUNTED_KEPT = 64
#: Alerts whose messages this process saw deleted, remembered until its writes have dropped
#: their ids from the incidents (a storm writes each incident again within moments).
SETTLED_KEPT = 8192

#: Effects a silence holds back (a close always goes out: the ticket must not stay open).
HOLDABLE = (EffectKind.OPEN, EffectKind.UPDATE, EffectKind.REOPEN)

#: The least time the body an effect sent (`freeze_effect`) is kept past a try of the effect,
#: however short TRIAGE_CLOSED_TTL_S: a redo finding it gone would send a new body under the
#: old idempotency key, which a backend that checks a reused key's payload refuses (422). The
#: sweep tries a failing effect again at least every `redo_gap` (about 22 minutes with the
#: default settings); a day also covers half a day with no replica trying (all of them down,
#: or the store out), and costs one record per incident with an effect (not per alert).
SENT_KEPT_MIN = timedelta(days=1)


def redo_gap(lease: timedelta, sweep_interval: timedelta) -> timedelta:
    """The longest two tries of one failing effect are apart while replicas run, from the
    first's freeze to the next's: the first was claimed before it froze its body; its holder
    gives the claim back on failure and the sweep may take it `sweep_retry_delay` after the
    claim (at most SWEEP_RETRY_MAX), or the holder dies and the sweep may take it when its
    lease ends (`ABANDONED_GRACE` later when a message's alert claimed it); the sweep's next
    pass takes it (a `sweep_interval` later, by a clock up to CLAIM_CLOCK_SLACK behind), and
    the redo freezes within its own lease (the summary is written before the freeze).
    A message's retry may redo it sooner, never later: the sweep does not wait for one."""
    waits = max(SWEEP_RETRY_MAX, lease + ABANDONED_GRACE)
    return waits + sweep_interval + CLAIM_CLOCK_SLACK + lease


def sent_kept_for(closed_ttl: timedelta, lease: timedelta) -> timedelta:
    """How long past a try the body an effect sent is kept: TRIAGE_CLOSED_TTL_S, but at least
    `SENT_KEPT_MIN`, and at least twice the gap between tries that `lease` makes (a redo moves
    the expiry on only once it is within half of this: `freeze_effect`). The sweep's interval
    is not the store's to know: `sent_keep_problem` refuses one this does not cover."""
    return max(closed_ttl, SENT_KEPT_MIN, 2 * redo_gap(lease, timedelta(0)))


def sent_keep_problem(
    closed_ttl: timedelta, lease: timedelta, sweep_interval: timedelta
) -> str | None:
    """Why these settings could lose a kept body between two tries of its effect (a redo
    would then send a new body under the old idempotency key): the sweep looks so seldom that
    its tries are further apart than half the time the body is kept (`sent_kept_for`); None
    when they cannot."""
    kept = sent_kept_for(closed_ttl, lease)
    if 2 * redo_gap(lease, sweep_interval) <= kept:
        return None
    return (
        f"TRIAGE_SWEEP_INTERVAL_S ({sweep_interval.total_seconds():g}) is too long for "
        f"TRIAGE_CLOSED_TTL_S ({closed_ttl.total_seconds():g}): a failing effect's tries "
        f"would be up to {redo_gap(lease, sweep_interval).total_seconds():g} s apart, and "
        f"the body its first try sent is kept {kept.total_seconds():g} s (refreshed by a "
        "try only in its second half), so a retry could send a new body under the same "
        "idempotency key; shorten the interval or lengthen the TTL"
    )


class Listing(NamedTuple):
    """A scan of the incidents: every one that could be read, and how many records could not
    (left out, each logged as `store.unreadable_record`), so that a listing that shows none
    can say it is not the whole store."""

    incidents: list[Incident]
    unreadable: int


class Store(Claims, Sweeping, SharedRecords, StoreBase):
    """The claim/confirm/finish protocol and the shared budgets, over two primitives a backend
    supplies (`_get` a record, `_update` one atomically); `SQLiteStore` and `DynamoDBStore`
    are its backends, and tests add an in-memory one. Its parts are listed in the module
    docstring; this class adds `begin()`, the incident write and silences."""

    #: Records of incidents the newest listing in this process could not read (`listing`):
    #: what the API and the status page, which list through a shared scan, say was left out.
    unreadable_listed = 0
    #: The stored silences the newest `silences()` in this process could not read, each as
    #: (its id, why): what the command line says was left out, and names for an expiry.
    unreadable_silences: tuple[tuple[str, str], ...] = ()
    #: Why `open()` found the store not answering (a backend that starts all the same and
    #: rides the outage out, as DynamoDB's does); None when it answered. The daemon is not
    #: ready from its first `/readyz` until the store answers (`app.run_daemon`).
    unavailable_at_open: str | None = None
    #: Repeats this process counted plainly (`count_repeat`), for the benchmarks to show.
    plain_counts = 0

    # --- Incidents ---------------------------------------------------------------------------

    async def incidents(self) -> list[Incident]:
        """Every incident the store holds that can be read (see `listing`)."""
        return (await self.listing()).incidents

    async def listing(self) -> Listing:
        """Every incident the store holds (a scan: fine at operator scale, never per message),
        and how many records could not be read. Decoding runs on the event loop (about 30 µs
        an incident): it gives way to the daemon's other tasks every `_DECODE_BATCH`, so
        20,000 cannot stall them for 0.6 s."""
        records, unreadable = await self._scan_counted(INCIDENT)
        readable = []
        for n, record in enumerate(records, 1):
            try:
                readable.append(self._decode(record))
            except (StoreCorruptError, StoreNewerError) as exc:
                log.warning("store.unreadable_record", error=str(exc))  # listed without it
                unreadable += 1
            if n % _DECODE_BATCH == 0:
                await asyncio.sleep(0)
        self.unreadable_listed = unreadable
        return Listing(readable, unreadable)

    async def _scan_counted(self, kind: str) -> tuple[list[Record], int]:
        """`_scan(kind)`, and how many stored items it left out as holding no record (a
        backend whose items can lack one, DynamoDB's, says; the others hold none such)."""
        return await self._scan(kind), 0

    async def _transact(self, fingerprint: str, change: Change[R]) -> R:
        """`change` applied to the incident (decoded), its result written back (encoded)."""

        def on_record(record: Record | None) -> tuple[Record | None, R]:
            write, result = change(self._decode(record) if record else None)
            if write is None:
                return None, result
            body = incident_to_json(write)
            if not _fits(body):
                write = _fitted(write)
                body = incident_to_json(write)
            self._keep_decoded(fingerprint, body, write)
            encoded = Record(
                fingerprint, INCIDENT, write.version, body, self._expiry(write), sweep_at(write)
            )
            return encoded, result

        return await self._update(INCIDENT, fingerprint, on_record)

    def settle(self, alert_owners: Iterable[str]) -> None:
        """SQS confirmed the delete of the message these alerts (message id and index) came
        in: it cannot be delivered again, so the incidents need not remember its repeats. No
        write of its own: this process's next write of each incident drops them."""
        settled = self._settled
        for alert_owner in alert_owners:
            settled[_counted_id(alert_owner)] = None
        while len(settled) > SETTLED_KEPT:
            settled.popitem(last=False)

    async def begin(
        self,
        alert: AlertEvent,
        owner: str,
        now: datetime,
        group: GroupKey | None = None,
        hold: Hold | None = None,
        *,
        carrying: Container[str] = frozenset(),
    ) -> Transition:
        """Apply `alert` (to its own incident, or as a member of `group`'s) in one atomic
        write, claiming the effect the decision has, if any, for `owner`; with `hold` (a
        silence matched), the effect is held instead. `carrying`: the claim owners whose
        effects the caller's process is carrying out now, never taken over whatever the
        clock says (a jump forward past their lease would send their effect twice)."""

        def change(stored: Incident | None) -> tuple[Incident | None, Transition]:
            transition = self._plan(stored, alert, owner, now, group, hold, carrying)
            after = transition.after
            if after is None or _unchanged(after, stored):
                return None, transition
            return after, transition

        return await self._transact(group.key if group else alert.fingerprint, change)

    def may_count(self, fingerprint: str) -> bool:
        """Whether `count_repeat` may count a repeat of `fingerprint`, as this process last
        read or wrote the incident (open, its own, no effect in progress or held): a hint,
        read without I/O, so an alert that cannot be a plain repeat (a new incident, one with
        an effect) costs no write that declines. The write itself decides."""
        kept = self._decoded.get(fingerprint)
        if kept is None:
            return False
        incident = kept[1]
        return (
            incident.state is State.OPEN
            and incident.group is None
            and incident.pending is None
            and incident.held is None
            and incident.ticket is not None
        )

    async def count_repeat(self, alert: AlertEvent, owner: str, now: datetime) -> Transition | None:
        """Count `alert` (claim owner `owner`) in its open incident, in one atomic write, when
        it is a plain repeat (`plain.plain_count`: an occurrence counted, nothing else
        changed); None, with nothing written, for anything else: the caller then `begin`s
        the alert as every alert is. The write is conditional as `begin`'s (another replica's
        change in between is read, and decided on, again)."""
        alert_owner = alert_of(owner)
        counted = _counted_id(alert_owner)
        settled = self._settled

        def remember(stored: Incident) -> tuple[str, ...]:
            return _remembered(stored, counted, settled)

        def change(stored: Incident | None) -> tuple[Incident | None, Transition | None]:
            after = plain_count(
                stored,
                alert,
                now,
                self.policy,
                alert_owner=alert_owner,
                counted=counted,
                settled=settled,
                remember=remember,
            )
            if after is None:
                return None, None
            return after, Transition(Action.COUNT, stored, after)

        counted_plainly = await self._transact(alert.fingerprint, change)
        if counted_plainly is not None:
            self.plain_counts += 1
        return counted_plainly

    def _plan(
        self,
        stored: Incident | None,
        alert: AlertEvent,
        owner: str,
        now: datetime,
        group: GroupKey | None = None,
        hold: Hold | None = None,
        carrying: Container[str] = frozenset(),
    ) -> Transition:
        pending = stored.pending if stored else None
        alert_owner = alert_of(owner)
        ours = pending is not None and alert_of(pending.owner) == alert_owner
        # A group counts by its members' states (a member repeated as it is writes nothing),
        # so only a single incident remembers whom it counted (by a short id, hashed once).
        counted = _counted_id(alert_owner) if group is None else None
        refused, again = refused_again(stored, alert_owner) if stored else (None, ())
        if stored is not None and refused is not None and not ours:
            # This alert's effect was refused for good by some of its sinks, failing its
            # message: its next delivery (or DLQ redrive) sends it to them again, and to no
            # other, once the incident's effect in progress (if any) is over.
            if pending is None:
                sent = _send_again(stored, refused, again, owner, now + self.lease)
                # A delivery that redid another alert's effect, refused there, has not had
                # its own decision: it follows the effect, as after any redo.
                return dataclasses.replace(sent, redo=alert_owner not in stored.effects_by)
            if not self._lease_over(pending, now, carrying):
                raise incident_busy(
                    f"incident {alert.fingerprint} has an effect in progress ({pending.kind})",
                    retry_after_s=self._wait(pending, now),
                )
        elif (
            stored is not None
            and not ours
            and (
                applied(stored, alert_owner, counted)
                or (counted is not None and counted in self._settled)
            )
        ):
            # Another delivery of an alert whose effect was decided (and is done, or is being
            # carried out by another worker), or whose repeat was counted: applied already. A
            # late copy of a message this process deleted (`settle`) was applied too, even when
            # the incident has since dropped its repeat from what it remembers.
            return Transition(Action.IGNORE, stored, None, redelivery=True)
        if stored is not None and pending is not None:
            mine = ours
            # A claim no delivery holds (a group gathering) is taken by the next one.
            over = self._lease_over(pending, now, carrying)
            taken = pending.owner != alert_of(pending.owner) and not over
            if mine and taken and pending.owner != owner:
                # Another delivery of this very message is carrying the effect out (its
                # visibility lapsed, so SQS handed it out again): wait for it to end.
                raise incident_busy(
                    f"incident {alert.fingerprint}: another delivery of this message is "
                    f"carrying out its {pending.kind} effect",
                    retry_after_s=self._wait(pending, now),
                )
            if mine or over:
                # Our own retry, or an abandoned effect: redo it before anything else. A claim
                # we hold is our decision only if this alert decided it: one we took over from
                # another alert, and failed, is still a redo, after which ours is decided.
                own = mine and alert_owner in stored.effects_by
                claimed = dataclasses.replace(
                    pending,
                    owner=claimant(stored, owner, now),
                    until=now + self.lease,
                    # The sinks that refused this alert's effect are tried again by its retry.
                    done=_not_again(pending, refused, again) if mine else pending.done,
                )
                after = replace_incident(
                    stored,
                    pending=claimed,
                    version=stored.version + 1,
                    **opening_counted(stored, pending, now),
                )
                return Transition(Action(pending.kind.value), stored, after, redo=not own)
        if group is None:
            decision = decide(stored, alert, now, self.policy)
        else:
            decision = decide_group(stored, alert, now, self.policy, group)
        decided = decision.incident
        if decided is None:
            return Transition(decision.action, stored, None)
        held = stored.held if stored else None
        holds = decision.action.effect in HOLDABLE or held is not None
        if hold is not None and decided.state is State.OPEN and holds:
            return _silenced(stored, decision, hold, now, counted, self._settled)
        gather = True
        if held is not None:
            # No silence matches any more: the held effect goes out now (a close as
            # `close_held` says). A held group open keeps its window: members after the first
            # gather in it.
            decision = unheld(decision, held, now)
            gather = decided.state is State.CLOSED or held.kind is EffectKind.OPEN
        effect = decision.action.effect
        if effect is EffectKind.CLOSE and stored is not None and is_gathering(stored, now):
            # Every member resolved before the group's first ticket went out: nobody was told
            # of it, so there is nothing to close, and the open it waited for is dropped.
            assert decision.incident is not None
            decision = Decision(Action.RECORD, replace_incident(decision.incident, pending=None))
            effect = None
        waits = (
            effect is not None
            and pending is not None
            and not _drops_held_close(pending, decided, now)
        )
        if waits or is_closing(stored, decided, group):
            # Wait for the holder to finish or its lease to run out.
            assert pending is not None
            raise incident_busy(
                f"incident {alert.fingerprint} has an effect in progress ({pending.kind})",
                retry_after_s=self._wait(pending, now),
            )
        assert decision.incident is not None
        # The line the decision earns, in its own write: history never costs one of its own.
        history = decision_history(stored, decision.action, decision.incident, now)
        stamped = self._stamp(
            stored, decision, effect, owner, now, gather=gather, counted=counted, history=history
        )
        return Transition(decision.action, stored, stamped)

    def _lease_over(self, pending: Pending, now: datetime, carrying: Container[str]) -> bool:
        """`pending`'s holder is gone by this clock: its lease has ended, or ends further
        ahead than any live claim can (CLAIM_CLOCK_SLACK past a lease from now: made while
        the clock was ahead, and nothing says when). Never one a worker of this process is
        `carrying` out, whatever the clock did; nor a held close before its quiet period
        ends (its `until` is that end, not a lease)."""
        if pending.owner in carrying:
            return False
        if pending.until <= now:
            return True
        return dated_ahead(pending.until, now, self.lease) and pending.owner != FLAP_HOLD

    def _wait(self, pending: Pending, now: datetime) -> float:
        """How long a message waits for an effect someone else holds before it looks again:
        `BUSY_RECHECK_S` at most, as a live holder is usually done within a sink call (a
        held message spends no receive, so looking again costs one store read), and no
        longer than the lease of a crashed holder has left."""
        remaining = (pending.until - now).total_seconds()
        return max(0.5, min(remaining + 0.5, BUSY_RECHECK_S))

    def _stamp(
        self,
        stored: Incident | None,
        decision: Decision,
        effect: EffectKind | None,
        owner: str,
        now: datetime,
        *,
        gather: bool = True,
        alert: str | None = None,
        counted: str | None = None,
        history: tuple[Event, ...] | None = None,
    ) -> Incident:
        """The decided incident as written: its version, its `history` (default: as decided),
        and the claim of its effect (if any) for `owner`; a repeat (COUNT) remembers
        `counted`, the short id of the alert it counted."""
        decided = decision.incident
        assert decided is not None
        if stored is not None and stored.refused and decided.state is not stored.state:
            # Closed (or opened again): a refused effect is no longer due, but a ticket a
            # sink refused and holds none of is, with the reopen (`refusals_kept`).
            kept = refusals_kept(stored, decided, decision.action)
            decision = Decision(decision.action, replace_incident(decided, refused=kept))
        assert decision.incident is not None
        version = (stored.version + 1) if stored else 1
        # In the replace that sets the version: a repeat is the storm's path (a replace of an
        # incident costs about 2 µs).
        history = decision.incident.history if history is None else history
        if effect is None:
            if counted is not None and decision.action is Action.COUNT:
                remembered = _remembered(decision.incident, counted, self._settled)
                return replace_incident(
                    decision.incident, version=version, counted_by=remembered, history=history
                )
            return replace_incident(decision.incident, version=version, history=history)
        incident = decision.incident
        # Copied once, at the end, with every change (a new incident's claim made four).
        changes: dict[str, object] = {}
        if effect is EffectKind.REOPEN:
            # Open again: the escalation clock starts over.
            changes.update(reopened_at=now, escalation=None)
        seq = incident.seq + 1
        delta = incident.occurrences - (stored.occurrences_at_update if stored else 0)
        group = incident.group
        gathering = group.window_s if group and gather and effect is EffectKind.OPEN else 0
        not_before = now + timedelta(seconds=gathering) if gathering else None
        if not_before is not None:
            # Nobody carries a gathering group's ticket out yet: its alert's next delivery,
            # when the window is over, takes the claim as its own.
            owner = alert_of(owner)
        # The alert whose decision this effect is: another delivery of it changes nothing.
        effects_by = (*incident.effects_by, alert_of(owner))[-EFFECTS_KEPT:]
        pending = Pending(
            effect,
            owner,
            now + self.lease,
            seq,
            delta=delta,
            not_before=not_before,
            alert=alert,
        )
        return replace_incident(
            incident,
            version=version,
            history=history,
            effects_by=effects_by,
            seq=seq,
            pending=pending,
            **changes,
        )

    async def freeze_effect(self, fingerprint: str, sent: Sent, owner: str | None = None) -> Sent:
        """What the incident's effect `sent.seq` sends its sinks: the one its first attempt
        kept, when there is one; else `sent`, kept now for every redo of the effect (a retry,
        a takeover by another message or replica). Called before the first sink call, so a
        redo under the same idempotency key sends the first attempt's body, byte for byte.

        A worker whose effect is over (taken over by another, finished, or followed by a
        later effect: the incident's pending effect is not `owner`'s at this seq, or a body
        is kept for a later seq) keeps nothing and gets StoreBusyError (`lease_lost`): it
        must call no sink, for the effect went out or goes out from its holder. A body kept
        for another incident of the fingerprint (`Sent.opened_at`) is no body for this one.
        The body is kept `sent_kept_for` (`closed_ttl`, but never less than a day, nor less
        than twice the gap between two of the sweep's tries: a short TRIAGE_CLOSED_TTL_S must
        not let it expire between tries); a redo that finds it within half of that of its
        expiry dates it that long from now, so a body is kept while its effect is retried.
        A body over `MAX_RECORD_BYTES` (an alert near the largest message SQS takes, in a
        group of long titles) is not kept: it is sent as built, one `store.sent_not_kept`
        warning says so, and a redo of that effect builds its body afresh, as every redo did
        before bodies were kept."""
        if owner is not None:
            await self._check_holder(fingerprint, sent.seq, owner)
        now_s = self.now().timestamp()
        ttl_s = sent_kept_for(self.closed_ttl, self.lease).total_seconds()
        expires_at = now_s + ttl_s

        def change(record: Record | None) -> tuple[Record | None, Sent]:
            kept = _sent_of(record)
            if kept is not None and _same_incident(kept, sent):
                if kept.seq > sent.seq:
                    raise lease_lost(fingerprint, sent.seq, owner, kept.seq)
                if kept.seq == sent.seq:
                    assert record is not None
                    if record.expires_at is None or record.expires_at >= now_s + ttl_s / 2:
                        return None, kept
                    return dataclasses.replace(record, version=record.version + 1,
                                               expires_at=expires_at), kept  # fmt: skip
            body = sent_to_json(sent)
            if not _fits(body):
                # Cut to fit, and kept: every attempt sends what the first one did.
                fitted = groups.sent_fitted(sent, _sent_bytes, MAX_RECORD_BYTES)
                body = sent_to_json(fitted)
                log.warning(
                    "store.sent_cut" if _fits(body) else "store.sent_not_kept",
                    fingerprint=fingerprint,
                    seq=sent.seq,
                    kb=len(sent_to_json(sent).encode()) // 1000,
                    max_kb=MAX_RECORD_BYTES // 1000,
                )
                if not _fits(body):
                    return None, sent
                version = (record.version + 1) if record else 1
                return Record(fingerprint, SENT, version, body, expires_at), fitted
            version = (record.version + 1) if record else 1
            return Record(fingerprint, SENT, version, body, expires_at), sent

        return await self._update(SENT, fingerprint, change)

    async def _check_holder(self, fingerprint: str, seq: int, owner: str) -> None:
        """Raise `lease_lost` unless `owner` still holds the incident's effect `seq`."""
        stored = await self.get(fingerprint)
        pending = stored.pending if stored is not None else None
        if pending is None or pending.seq != seq or pending.owner != owner:
            now_at = pending.seq if pending is not None else None
            raise lease_lost(fingerprint, seq, owner, now_at)

    def _expiry(self, incident: Incident) -> float | None:
        """Closed incidents expire `closed_ttl` after closing; open ones never do."""
        if incident.state is State.CLOSED and incident.closed_at is not None:
            return (incident.closed_at + self.closed_ttl).timestamp()
        return None

    # --- Silences ----------------------------------------------------------------------------

    async def silences(self) -> list[Silence]:
        """Every silence kept (active, pending and recently ended), in the order added."""
        record = await self._get(SILENCES, SILENCES_KEY)
        warned = record is not None and record.body == self._silences_warned
        readable, unreadable = _read_silences(record)
        self.unreadable_silences = tuple((str(e.get("id"))[:40], why) for e, why in unreadable)
        if unreadable and not warned and record is not None:
            _warn_unreadable(unreadable)
            self._silences_warned = record.body
        return readable

    async def add_silence(self, silence: Silence, now: datetime) -> Silence:
        def change(record: Record | None) -> tuple[Record | None, Silence]:
            kept = [s for s in _silences_of(record) if s.ends() + SILENCE_KEEP > now]
            twin = twin_of(silence, kept, now)
            if twin is not None:  # the same silence asked again: one, ending the later
                if twin.ends_at >= silence.ends_at:
                    return None, twin
                longer = dataclasses.replace(twin, ends_at=silence.ends_at)
                return _silences_record(record, [longer if s is twin else s for s in kept]), longer
            # Ended silences are history: the oldest ended go to make room, so a team that
            # silences every deploy is never refused for silences that no longer mute.
            history = sorted((s for s in kept if s.ends() <= now), key=lambda s: s.ends())
            while len(kept) >= MAX_SILENCES and history:
                kept.remove(history.pop(0))
            if len(kept) >= MAX_SILENCES:
                raise ValueError(f"{MAX_SILENCES} silences are kept already; expire some first")
            check_regex_budget([*(s for s in kept if s.ends() > now), silence])
            while True:
                try:
                    return _silences_record(record, [*kept, silence]), silence
                except ValueError:
                    if not history:
                        raise
                    kept.remove(history.pop(0))

        return await self._update(SILENCES, SILENCES_KEY, change)

    async def expire_silence(self, silence_id: str, now: datetime) -> Silence | None:
        """End a silence now (one that ended already stays as it was); None if unknown."""
        ended = await self.end_silence(silence_id, now)
        return ended[0] if ended is not None else None

    async def end_silence(self, silence_id: str, now: datetime) -> tuple[Silence, bool] | None:
        """End a silence now: the silence as it is then, and whether this call ended it (not
        when it had ended already: run out, or expired by an earlier call, also one made
        before it started, which ends it at its start); None if unknown. An expiry dated
        after `now` (and after its start: made by a clock that was ahead) has not ended it:
        it still mutes, and this call ends it now."""

        def change(record: Record | None) -> tuple[Record | None, tuple[Silence, bool] | None]:
            silences = _silences_of(record)
            found = next((s for s in silences if s.id == silence_id), None)
            if found is None:
                return None, None
            ends_at = max(now, found.starts_at)
            if found.ends() <= ends_at:
                return None, (found, False)
            expired = dataclasses.replace(found, expired_at=ends_at)
            changed = [expired if s.id == silence_id else s for s in silences]
            return _silences_record(record, changed), (expired, True)

        return await self._update(SILENCES, SILENCES_KEY, change)


def lease_lost(fingerprint: str, seq: int, owner: str | None, now_at: int | None) -> StoreBusyError:
    """The incident's effect `seq` is no longer `owner`'s (`now_at`: the seq pending or kept
    now, if any): one warning, and an error that keeps the worker from calling any sink. Its
    message waits like one whose incident is busy; its retry finds its decision applied."""
    log.warning("store.lease_lost", fingerprint=fingerprint, owner=owner, seq=seq, now_at=now_at)
    return incident_busy(
        f"incident {fingerprint}: effect {seq} is no longer this worker's (taken over, "
        "finished or followed by another)",
        retry_after_s=1.0,
    )


def _same_incident(kept: Sent, sent: Sent) -> bool:
    """`kept` was kept for the incident `sent` is of: the same `opened_at`, or one of them
    has none (kept by an older release, or asked by a caller that does not say)."""
    return kept.opened_at is None or sent.opened_at is None or kept.opened_at == sent.opened_at


def _sent_of(record: Record | None) -> Sent | None:
    """The body `record` keeps (None: no record, or one that does not read, which the next
    freeze writes over: a redo then sends what it built, as before bodies were kept).
    StoreNewerError when a newer release marked it as beyond this one (left as it is)."""
    if record is None:
        return None
    try:
        return sent_from_json(record.body)
    except (KeyError, TypeError, ValueError, AttributeError) as exc:
        log.warning("store.sent_unreadable", fingerprint=record.key, error=type(exc).__name__)
        return None


def _unchanged(after: Incident, stored: Incident | None) -> bool:
    """`after` is `stored` as it was: nothing to write. Compared whole only when the versions
    agree (a decision that writes gives the next version: 2.5 µs a repeat saved)."""
    return stored is not None and after.version == stored.version and after == stored


def _sent_bytes(sent: Sent) -> int:
    """The size of `sent` as kept, in bytes."""
    return len(sent_to_json(sent).encode())


def _fits(body: str) -> bool:
    """`body` is within MAX_RECORD_BYTES (encoded only when its length cannot tell)."""
    return len(body) * 4 <= MAX_RECORD_BYTES or len(body.encode()) <= MAX_RECORD_BYTES


def _fitted(incident: Incident) -> Incident:
    """`incident` made small enough to store: a group's member titles left out first, then
    the kept times of members neither tracked nor firing. Raises RecordTooLargeError when
    that is not enough."""
    if incident.group is not None:
        incident = _titles_left_out(incident)
    if incident.group is not None and not _fits(incident_to_json(incident)):
        incident = _times_left_out(incident)
    if _fits(incident_to_json(incident)):
        return incident
    raise RecordTooLargeError(
        f"incident {incident.fingerprint} would take more than {MAX_RECORD_BYTES // 1000} KB"
    )


def _titles_left_out(incident: Incident) -> Incident:
    """A group's member titles are what grows without a bound in bytes (1,000 long non-Latin
    titles pass DynamoDB's limit), so titles are left out, resolved and longest-quiet members
    first, until it fits; every member stays tracked and counted."""
    group = incident.group
    assert group is not None
    titled = sorted(
        (item for item in group.members.items() if item[1].title),
        key=lambda item: (item[1].status is Status.FIRING, item[1].last_event_at),
    )
    # Titles left out before: this group is at the bound, and each member joining now
    # takes a few more titles out. The first cut says so at warning, the later ones at
    # debug (a warning per join would flood a storm's log).
    first_cut = len(titled) == len(group.members)
    cuts = 0
    while titled:
        share = _share_over(incident, len(titled))
        if not share:
            break
        cut, titled = titled[:share], titled[share:]
        members = dict(group.members)
        for fp, member in cut:
            members[fp] = dataclasses.replace(member, title="")
        group = dataclasses.replace(group, members=members)
        incident = dataclasses.replace(incident, group=group)
        cuts += share
    if cuts:
        (log.warning if first_cut else log.debug)(
            "store.group_titles_left_out",
            fingerprint=incident.fingerprint,
            count=cuts,
            untitled=len(group.members) - len(titled),
        )
    return incident


def _times_left_out(incident: Incident) -> Incident:
    """The kept times of a group's resolved untracked members (a full map is 47 KB, so a big
    ticket, labels or held alert beside a group at every bound passes the limit) left out,
    the oldest event first, until it fits. Such a member's late event is then applied as a
    new one's would be; the ids counted firing, and their times, all stay."""
    group = incident.group
    assert group is not None
    resolved = sorted(
        (short for short in group.untracked_times if short not in group.untracked_ids),
        key=lambda short: group.untracked_times[short].last_event_at,
    )
    # A full map has not been cut since it filled: that first cut warns, later ones (a
    # member joining a group at the bound) are at debug, as for titles.
    first_cut = len(group.untracked_times) >= groups.MAX_UNTRACKED_TIMES
    dropped: set[str] = set()
    while resolved:
        share = _share_over(incident, len(resolved))
        if not share:
            break
        dropped.update(resolved[:share])
        resolved = resolved[share:]
        times = {s: t for s, t in group.untracked_times.items() if s not in dropped}
        incident = dataclasses.replace(
            incident, group=dataclasses.replace(group, untracked_times=times)
        )
    if dropped:
        (log.warning if first_cut else log.debug)(
            "store.group_times_left_out",
            fingerprint=incident.fingerprint,
            count=len(dropped),
            kept=len(group.untracked_times) - len(dropped),
        )
    return incident


def _share_over(incident: Incident, items: int) -> int:
    """How many of `items` to leave out of `incident` this turn: none when it fits, else a
    share proportionate to the excess, at least one."""
    size = len(incident_to_json(incident).encode())
    if size <= MAX_RECORD_BYTES:
        return 0
    return min(items, max(1, int(items * (1 - MAX_RECORD_BYTES / size)) + 1))


def _send_again(
    stored: Incident, kind: EffectKind, sinks: tuple[str, ...], owner: str, until: datetime
) -> Transition:
    """The refused effect `kind` of `stored` claimed again for `owner`, for `sinks` alone
    (every other sink is written as done, so a retry of this claim calls none of them either),
    under a new idempotency key: the refused request did nothing, and a backend that keeps
    the answer of a key would refuse the old one again."""
    others = (*KNOWN_SINKS, *stored.refs, *stored.refused)
    done = tuple(dict.fromkeys(name for name in others if name not in sinks))
    seq = stored.seq + 1
    delta = stored.occurrences - stored.occurrences_at_update
    claimed = Pending(kind, owner, until, seq, delta=delta, done=done)
    after = replace_incident(stored, pending=claimed, seq=seq, version=stored.version + 1)
    return Transition(Action(kind.value), stored, after)


def _not_again(
    pending: Pending, refused: EffectKind | None, sinks: tuple[str, ...]
) -> tuple[str, ...]:
    """`pending`'s done sinks, less those that refused it (`refused` is its kind) when its
    alert tried it: they are called again."""
    if refused is not pending.kind:
        return pending.done
    return tuple(name for name in pending.done if name not in sinks)


def _remembered(incident: Incident, counted: str, settled: Mapping[str, None]) -> tuple[str, ...]:
    """The short ids of the alerts `incident` counted whose messages may still come back (not
    `settled`), with `counted` (the newest COUNTED_KEPT)."""
    kept = [i for i in incident.counted_by if i not in settled]
    kept.append(counted)
    return tuple(kept[-COUNTED_KEPT:])


def _counted_id(alert_owner: str) -> str:
    """A short id of an alert (its message id and index): 12 hex digits keep a storm's
    repeats small in the record, and two alerts among the few kept sharing one is a chance in
    about 10^13."""
    return hashlib.blake2b(alert_owner.encode(), digest_size=6).hexdigest()


def _silenced(
    stored: Incident | None,
    decision: Decision,
    hold: Hold,
    now: datetime,
    counted: str | None = None,
    settled: Mapping[str, None] | None = None,
) -> Transition:
    """The decision's effect is held (an effect held already keeps its kind: a ticket not yet
    opened stays to be opened), the alert counted (and remembered by its short id `counted`)
    and stored."""
    assert decision.incident is not None
    held = stored.held if stored else None
    kind = held.kind if held is not None else decision.action.effect
    assert kind is not None
    since = held.since if held is not None else now
    decided = decision.incident
    changes: dict[str, object] = {}
    if stored is not None and decision.action in (Action.UPDATE, Action.REOPEN):
        # No update (nor reopen) went out: the next one counts from the last that did.
        changes.update(
            last_update_at=stored.last_update_at,
            occurrences_at_update=stored.occurrences_at_update,
        )
    after = replace_incident(
        decided,
        **changes,
        held=Held(kind, hold.silence, hold.alert, since, hold.until),
        version=(stored.version + 1) if stored else 1,
        counted_by=_remembered(decided, counted, settled or {}) if counted else decided.counted_by,
        history=decision_history(stored, Action.SILENCED, decided, now, hold),
    )
    return Transition(Action.SILENCED, stored, after)


def _silences_of(record: Record | None) -> list[Silence]:
    """The stored silences this process can honour. One it cannot read (a pattern an earlier
    release accepted that RE2 does not, such as a lookahead) is skipped with a warning."""
    readable, unreadable = _read_silences(record)
    _warn_unreadable(unreadable)
    return readable


def _warn_unreadable(unreadable: list[tuple[dict[str, Any], str]]) -> None:
    for entry, error in unreadable:
        log.warning("silence.unreadable", silence=str(entry.get("id"))[:40], error=error)


#: The last silences record body read, and what it held (silences are frozen values): an add
#: reads the record twice (its silences, then what it cannot read, to write back), and every
#: replica's cache reads the same body again and again. One entry: a changed body replaces it.
_last_read: tuple[str, list[Silence], list[tuple[dict[str, Any], str]]] | None = None


def _read_silences(
    record: Record | None,
) -> tuple[list[Silence], list[tuple[dict[str, Any], str]]]:
    """The silences `record` holds that this process can read, and the entries it cannot (with
    why); new lists each call."""
    global _last_read
    if record is None:
        return [], []
    last = _last_read
    if last is not None and last[0] == record.body:
        return list(last[1]), list(last[2])
    readable, unreadable = _parse_silences(record.body)
    _last_read = (record.body, readable, unreadable)
    return list(readable), list(unreadable)


def _parse_silences(body: str) -> tuple[list[Silence], list[tuple[dict[str, Any], str]]]:
    try:
        entries = json.loads(body)["silences"]
        if not isinstance(entries, list):
            raise TypeError(f"silences is {type(entries).__name__}")  # noqa: TRY301
    except (ValueError, KeyError, TypeError) as exc:
        # The whole record does not read: no silence can be honoured, and alerts go on as if
        # none were set (held, they would all wait on an operator); the next change writes
        # over it.
        return [], [({"id": "(the silences record)"}, f"{type(exc).__name__} {str(exc)[:200]}")]
    readable: list[Silence] = []
    unreadable: list[tuple[dict[str, Any], str]] = []
    for entry in entries:
        try:
            readable.append(Silence.from_json(entry))
        except (ValueError, KeyError, TypeError, AttributeError) as exc:
            unreadable.append((entry if isinstance(entry, dict) else {}, str(exc)[:200]))
    return readable, unreadable


def _silences_record(record: Record | None, silences: list[Silence]) -> Record:
    # A silence this process cannot read is written back as it was, never dropped by a write
    # (a record that does not read at all is written over).
    whole = _read_silences(record)[1]
    kept = [entry for entry, _ in whole if entry.get("id") != "(the silences record)"]
    body = json.dumps(
        {
            **other_keys(record, ("silences",)),
            "silences": [*(s.to_json() for s in silences), *kept],
        },
        separators=(",", ":"),
    )
    if not _fits(body):
        raise ValueError(
            f"the silences kept would take {len(body.encode()) // 1000} KB, more than a store "
            f"record holds ({MAX_RECORD_BYTES // 1000} KB); expire some first"
        )
    return Record(SILENCES_KEY, SILENCES, (record.version + 1) if record else 1, body)


def _drops_held_close(pending: Pending | None, decided: Incident, now: datetime) -> bool:
    """`decided` is a firing while its flapping incident's close is held
    (`fired_while_close_waits`): for its tickets the incident never closed, so the held close
    is dropped and an effect the firing brings (a raise of the priority) goes out at once. Such
    a close is no effect in progress, held by nobody: waiting for it would hold the firing
    until the quiet period ends, then cost the close and a reopen the damping spares. A
    person's change of the priority then (`changing_priority`) takes the close's place with
    its update, the incident closed with the close's due time kept (`quiet_until`), and the
    close is put back when the update ends (`held_close_back`)."""
    if pending is None or pending.owner != FLAP_HOLD or pending.until <= now:
        return False
    if decided.pending is not None:
        return False
    return decided.state is State.OPEN or decided.quiet_until == pending.until
