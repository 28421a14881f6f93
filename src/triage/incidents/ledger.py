"""The unit of work the pipeline claims per alert: decide, carry out, confirm or release.

    async with ledger.claim(event, owner, redo=carry_out) as work:
        if work.effect is not None:
            await carry_out(work)        # summarise, work.freeze(sent), call the sinks,
                                         # work.confirm(sink, ref)

Entering the block decides the alert in one conditional write (`Store.begin`) and, when the
decision has an effect, holds that effect for `owner` (the SQS message's alert) under a lease, with an
idempotency key that stays the same on every retry. An effect a crashed worker abandoned on this
incident is redone first, by `redo` (the same code the pipeline runs for its own effects); then
the alert's own decision is taken on top of it. Leaving the block finishes the effect (every sink
confirmed); an error or a cancellation releases the claim at once instead, so a retry, here or
on another replica, takes it over without waiting for the lease to end. The claim then names the
incident it gave back (`Claim.released`), for the message's retry to finish that effect even
when its alert is routed elsewhere by then.

A confirmation the store wrote but did not answer (DynamoDB's timeout after the write) is read
back: the sink's part is done, and the effect goes on. One the store did not write (throttled)
leaves the sink's answer with the process (`SinkAnswers`): the effect's retry here writes it
without calling the sink again (Slack takes no idempotency key). Another replica's cannot know it.
A new incident's summary whose save the store did not write is kept the same way
(`Ledger.summaries`): the effect's retry here goes out with it instead of a second model call.

A group's first ticket may wait for members (`group_window_s`): until then entering raises
`GatheringError` and the claim stays with its owner, whose message comes back for it. When it
comes back (or the sweep takes it) under a silence added during the window that matches every
member (`silencing_members`), the open is held, as one decided under it is (`hold_gathered`).
"""

from __future__ import annotations

import asyncio
import dataclasses
import functools
import re
import time
from collections import OrderedDict
from collections.abc import Awaitable, Callable, Hashable, Mapping
from datetime import datetime
from types import MappingProxyType, TracebackType
from typing import Generic, TypeVar

import structlog

from triage.errors import GatheringError, StoreBusyError, StoreUnavailableError, TriageError
from triage.incidents.claims import gathered_untried
from triage.incidents.codec import view_to_json
from triage.incidents.groups import GroupKey, agreed_labels, decide_group, silencing_members
from triage.incidents.lifecycle import (
    Action,
    AlertEvent,
    Decision,
    Incident,
    Pending,
    State,
    decide,
    stored_alert,
)
from triage.incidents.schedule import CLAIM_CLOCK_SLACK, gathering_ends
from triage.incidents.store import (
    Hold,
    Routing,
    Sent,
    Store,
    Transition,
    incident_busy,
    lease_lost,
)
from triage.models import EffectKind, Ticket
from triage.view import RedactedAlert

log = structlog.get_logger(__name__)

V = TypeVar("V")

#: What carries out a claimed effect: summarise if needed, call the sinks, confirm each.
EffectRunner = Callable[["Work"], Awaitable[None]]

#: One effect of one incident: its fingerprint, when the incident opened (the fingerprint's
#: next incident counts its effects from the start again), the effect's number and kind.
EffectKey = tuple[str, datetime, int, EffectKind]


@dataclasses.dataclass(frozen=True, slots=True)
class SinkAnswer:
    """What a sink answered an effect, as its confirmation writes it (`Work.confirm`)."""

    ref: str | None
    gone: bool | None
    why: str | None
    #: The effect was counted (a `Tickets*` metric, its `alert.routed` line) when its
    #: confirmation failed without saying whether it was written (`Work.counted`): a retry
    #: that recalls this answer writes it and counts it no more.
    counted: bool = False

    @property
    def sent(self) -> bool:
        """The sink carried the effect out (no word for why it sent nothing)."""
        return self.why is None


class Remembered(Generic[V]):
    """What this process heard or made for an effect that the store has not kept (yet, or
    ever: its write throttled, unanswered and unread, the claim lost meanwhile), by the effect
    and what it is of (a sink's name, `SUMMARY`). The effect's retry in this process uses it
    instead of asking again. Another replica cannot know it.

    Bounded: `max_kept` values, each for `keep_s` (on the monotonic clock: a wall clock that
    steps neither keeps nor drops one), the oldest forgotten first. A write that is done
    forgets its value at once, so only failed writes stay."""

    #: Values kept at most: failed writes between a retry and the next, a few at a time.
    MAX_KEPT = 1024
    #: Longer than a throttled table's usual outage and the sweep's longest wait between tries
    #: of an effect (15 minutes): a retry later than this asks again, as before.
    KEEP_S = 3600.0

    def __init__(
        self,
        max_kept: int = MAX_KEPT,
        keep_s: float = KEEP_S,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._max_kept = max_kept
        self._keep_s = keep_s
        self._clock = clock
        #: (effect, of) -> (the value, when it stops being kept), oldest first.
        self._kept: OrderedDict[tuple[Hashable, str], tuple[V, float]] = OrderedDict()

    def __len__(self) -> int:
        return len(self._kept)

    def remember(self, effect: Hashable, of: str, value: V) -> None:
        """`value` is `effect`'s, of `of`; kept until its write is done or it expires."""
        self._drop_expired()
        self._kept.pop((effect, of), None)
        self._kept[(effect, of)] = (value, self._clock() + self._keep_s)
        while len(self._kept) > self._max_kept:
            self._kept.popitem(last=False)

    def recall(self, effect: Hashable, of: str) -> V | None:
        """`effect`'s value of `of` in this process, if its write may not be done."""
        self._drop_expired()
        kept = self._kept.get((effect, of))
        return kept[0] if kept is not None else None

    def forget(self, effect: Hashable, of: str) -> None:
        """The write of `effect`'s value of `of` is done: nothing left to redo."""
        self._kept.pop((effect, of), None)

    def _drop_expired(self) -> None:
        now = self._clock()
        while self._kept:
            _, until = next(iter(self._kept.values()))
            if until > now:
                return
            self._kept.popitem(last=False)


class SinkAnswers(Remembered[SinkAnswer]):
    """The sinks' answers this process heard whose confirmation the store has not written. The
    effect's retry in this process, its message's or the sweep's, writes the answer instead of
    calling the sink again: Slack takes no idempotency key and would post twice. `effect` names
    what was answered: a claimed effect (`EffectKey`), or anything else a sink answers once (an
    escalation)."""


#: What `Ledger.summaries` keeps of an effect: the summary, and the route it took.
SUMMARY = "summary"
UnsavedSummary = tuple[Ticket, Routing | None]


class Work:
    """One claimed decision: its action and, when it has an effect, what that effect needs."""

    def __init__(
        self,
        store: Store,
        transition: Transition,
        owner: str,
        carrying: set[str] | None = None,
        clock: Callable[[], datetime] | None = None,
        answers: SinkAnswers | None = None,
        summaries: Remembered[UnsavedSummary] | None = None,
    ) -> None:
        self._store = store
        #: The ledger's clock, the one the claim's lease was set with (`Ledger.clock`).
        self._clock = clock or store.now
        #: The owners whose effects this process carries out (`Ledger.carrying`): this one's
        #: leaves it when its effect ends.
        self._carrying = carrying if carrying is not None else set()
        #: The sinks' answers whose confirmation failed, in this process (`Ledger.answers`).
        self._answers = answers if answers is not None else SinkAnswers()
        #: The summaries whose save failed, in this process (`Ledger.summaries`).
        self._summaries = summaries if summaries is not None else Remembered()
        self._transition = transition
        self.owner = owner
        self.action: Action = transition.action
        self._open = transition.action.effect is not None
        #: The sink whose call failed, if one did (`failed_at`): named in the failure line.
        self._failed_sink: str | None = None
        #: When the claim's lease ends as this worker's confirmations renewed it (None: as
        #: claimed, `pending.until`).
        self._renewed_until: datetime | None = None

    @property
    def effect(self) -> EffectKind | None:
        return self.action.effect

    @property
    def redo(self) -> bool:
        """Someone else's abandoned effect, not this alert's own decision."""
        return self._transition.redo

    @property
    def redelivery(self) -> bool:
        """Another delivery of an alert whose decision is applied already: nothing new."""
        return self._transition.redelivery

    @property
    def wrote(self) -> bool:
        """The decision changed the incident (a repeat that changes nothing writes nothing)."""
        return self._transition.after is not None

    @property
    def opened(self) -> bool:
        """The decision opened the incident (new, or closed before it)."""
        before, after = self._transition.before, self._transition.after
        was_open = before is not None and before.state is State.OPEN
        return after is not None and after.state is State.OPEN and not was_open

    @property
    def before(self) -> Incident | None:
        """The incident as this decision read it (None: none was stored): what a repeat
        that wrote nothing was counted in."""
        return self._transition.before

    @property
    def incident(self) -> Incident:
        """The incident as this decision wrote it."""
        assert self._transition.after is not None
        return self._transition.after

    @property
    def fingerprint(self) -> str:
        return self.incident.fingerprint

    @property
    def pending(self) -> Pending:
        assert self.incident.pending is not None
        return self.incident.pending

    @property
    def idempotency_key(self) -> str:
        return self._transition.idempotency_key

    @property
    def ticket(self) -> Ticket | None:
        """The incident's summary, if it was written already (by this or an earlier effect),
        or the one this process wrote for this effect whose save failed (`save_ticket`): the
        effect's retry goes out with it, saved then (`freeze`), rather than ask the summariser
        again (a model call, billed) because the store was throttled."""
        if self.incident.ticket is not None or self.effect is None:
            return self.incident.ticket
        unsaved = self._summaries.recall(self._effect_key, SUMMARY)
        return unsaved[0] if unsaved is not None else None

    @property
    def refs(self) -> Mapping[str, str]:
        """Each sink's reference for the incident's ticket, as claimed."""
        return MappingProxyType(self.incident.refs)

    @property
    def alert(self) -> str | None:
        """The alert the effect carries itself (a redacted view as JSON), when no message
        does: a held effect the sweep let go, or a close by hand."""
        return self.pending.alert

    async def save_ticket(self, ticket: Ticket, routing: Routing | None = None) -> None:
        """Keep the summary (with the route it took), so a redo or a later effect never
        summarises again. Until the write is done, this process keeps it too (`ticket`)."""
        effect = self._effect_key
        self._summaries.remember(effect, SUMMARY, (ticket, routing))
        await self._store.save_ticket(self.fingerprint, self.owner, ticket, routing)
        self._summaries.forget(effect, SUMMARY)

    async def _save_unsaved(self) -> None:
        """Save the summary an earlier attempt at this effect wrote and could not save, now
        that this attempt goes out with it (`ticket`)."""
        if self.incident.ticket is not None:
            return
        unsaved = self._summaries.recall(self._effect_key, SUMMARY)
        if unsaved is not None:
            await self.save_ticket(*unsaved)

    async def freeze(self, sent: Sent) -> Sent:
        """What this effect sends its sinks: what its first attempt sent, when this is a redo
        (its own retry, or a takeover), else `sent`, kept for the redos (`Store.freeze_effect`).
        Called before the first sink call of every attempt (after it, each sink's confirmation
        says whether the claim still holds: `confirm`). StoreBusyError when the effect is
        no longer this worker's (its lease lapsed, and another took it over or finished it):
        no sink may be called, and the claim is not given back (it is not ours).

        The incident is read to ask only when the lease is within `CLAIM_CLOCK_SLACK` of its
        end by this clock: before that no replica whose clock is within the slack takes the
        effect over, and no worker of this process does (`carrying`), so a prompt effect
        costs no read more."""
        await self._save_unsaved()
        holder = self.owner if self._lease_ending() else None
        try:
            return await self._store.freeze_effect(self.fingerprint, sent, holder)
        except StoreBusyError:
            self._let_go()
            raise

    @property
    def lease_ends(self) -> datetime:
        """When this claim's lease ends: as claimed, or as the last confirmation renewed it."""
        return self._renewed_until or self.pending.until

    def _lease_ending(self) -> bool:
        """This claim's lease has ended, or ends within `CLAIM_CLOCK_SLACK`, by its clock."""
        return self._clock() >= self.lease_ends - CLAIM_CLOCK_SLACK

    @property
    def _effect_key(self) -> EffectKey:
        """This effect among every effect of every incident (`EffectKey`)."""
        pending = self.pending
        return (self.fingerprint, self.incident.opened_at, pending.seq, pending.kind)

    def answered(self, sink: str) -> SinkAnswer | None:
        """What `sink` answered this effect in this process, when the write confirming it
        failed (`SinkAnswers`): the caller confirms that instead of calling the sink again."""
        return self._answers.recall(self._effect_key, sink)

    async def confirm(
        self,
        sink: str,
        ref: str | None,
        *,
        last: bool = False,
        gone: bool | None = None,
        why: str | None = None,
        failing: bool = False,
    ) -> None:
        """`sink` carried the effect out (its ticket reference, if any); with `last`, it was the
        last sink, and the effect is finished in the same write. `gone`: the sink said its
        ticket is gone for good (True), reached it (False), or neither (None); `why`: the
        fixed word for why it sent nothing (`REFUSED`, or a skip's); `failing`: its refusal
        fails the message, whose next delivery sends a refused open again: see
        `Store.confirm`.

        The write renews the lease, dated by the ledger's clock (the one the claim was made
        on), and the renewal is kept here. StoreBusyError, with one `store.lease_lost` line,
        when the claim is no longer this worker's (its lease ran out during the sink's call,
        and another took the effect over or finished it): it must call no later sink, which
        the effect's new holder calls, and gives nothing back (`lease_lost`).

        Until the write is known done, the answer is remembered (`answered`): a retry of the
        effect here writes it without calling the sink again. A refusal that fails the message
        is not: asking again sends nothing, and says whether the sink still refuses."""
        at = self._clock()
        effect = self._effect_key
        if not failing:
            self._answers.remember(effect, sink, SinkAnswer(ref, gone, why))
        confirming = functools.partial(
            self._store.confirm,
            self.fingerprint,
            self.owner,
            sink,
            ref,
            finish=last,
            gone=gone,
            why=why,
            now=at,
            failing=failing,
        )
        try:
            written = await confirming()
        except asyncio.CancelledError:
            _confirm_anyway(confirming)
            raise
        except StoreUnavailableError:
            read_back = await self._written(sink, last)
            if read_back is None:
                raise
            written = read_back
            if written:
                # Its answer was lost, not the write: the sink's part is done, and counted
                # once (a retry would find it confirmed, skip the sink, and count nothing).
                log.info("store.confirm_answer_lost", sink=sink)
        if not written:
            self._let_go()
            raise lease_lost(self.fingerprint, self.pending.seq, self.owner, now_at=None)
        self._answers.forget(effect, sink)
        self._renewed_until = max(self.lease_ends, at + self._store.lease)
        if last:
            self._let_go()

    def _let_go(self) -> None:
        """The effect is no longer this worker's (finished, withdrawn or given back)."""
        self._open = False
        self._carrying.discard(self.owner)

    def counted(self, sink: str) -> None:
        """`sink`'s answer to this effect, whose confirmation failed, was counted as carried
        out: that confirmation may have been written, unanswered, and then a retry finds the
        sink done (or the effect finished) and counts nothing. One that was not written is
        written by a retry recalling the answer (`answered`), which then counts it no more."""
        effect = self._effect_key
        answer = self._answers.recall(effect, sink)
        if answer is not None:
            self._answers.remember(effect, sink, dataclasses.replace(answer, counted=True))

    def failed_at(self, sink: str) -> None:
        """The call to `sink` failed: if the effect is given back, its failure line names it."""
        self._failed_sink = sink

    async def _written(self, sink: str, last: bool) -> bool | None:
        """Whether `sink`'s confirmation of this effect (with `last`, the one that finished
        it) was written although the store failed to answer it (DynamoDB's timeout after the
        write), read back. True when the effect is still this worker's with the sink done, or,
        for the last, over (finished, or a later one followed); False when the claim is
        someone else's now or the effect over before its last sink (taken over: no later sink
        is this worker's); None when it was not written, or the read fails too (the retry
        then finds out)."""
        try:
            stored = await self._store.get(self.fingerprint)
        except TriageError:
            return None
        pending = stored.pending if stored is not None else None
        if pending is None or pending.seq != self.pending.seq:
            return last
        if pending.owner != self.owner:
            return False
        return True if sink in pending.done else None

    async def withdraw(self, event: AlertEvent, now: datetime, group: GroupKey | None) -> bool:
        """Take this claim's effect back before any sink heard of it: the incident is written
        as `event` (the alert, resolved at once) leaves the incident as it was before the
        claim. True when taken back; False when someone changed the incident since (the
        effect then goes out as claimed)."""
        taken = await self._store.withdraw(self._transition, self.owner, event, now, group)
        if taken:
            self._let_go()
        return taken

    async def _end(self, failed: bool, error: BaseException | None = None) -> None:
        if not self._open:
            return
        self._let_go()
        if failed:
            # Shielded: a cancelled worker must still give its claim back. When it was
            # cancelled, nobody awaits the release: its failure is logged, not left unretrieved.
            reason = failure_words(error, self._failed_sink)
            releasing = self._store.release(self.fingerprint, self.owner, reason=reason)
            release = asyncio.ensure_future(releasing)
            release.add_done_callback(_log_failed_release)
            await asyncio.shield(release)
        else:
            await self._store.finish(self.fingerprint, self.owner)


#: What an error's `reason` may be to be written in a history line: a machine word.
_REASON_WORD = re.compile(r"[a-z][a-z0-9_]{0,39}")


def failure_words(error: BaseException | None, sink: str | None = None) -> str:
    """Why an attempt failed, in fixed words for an incident's history: the sink it failed at
    and its error's reason from the error tree (`backend unavailable`, `github network`),
    never the error's text (a service's answer may echo the alert, or a credential)."""
    if isinstance(error, asyncio.CancelledError):
        word = "interrupted"
    elif isinstance(error, TriageError):
        reason = error.reason
        if not _REASON_WORD.fullmatch(reason):
            reason = type(error).reason  # one given when raised that is no word: its class's
        word = reason.removeprefix("sink_").replace("_", " ")
    else:
        word = "error"
    return f"{sink} {word}" if sink else word


def _log_failed_release(release: asyncio.Future[None]) -> None:
    if not release.cancelled() and release.exception() is not None:
        log.warning("store.release_failed", error=str(release.exception()))


def _confirm_anyway(confirming: Callable[[], Awaitable[bool]]) -> None:
    """The worker was cancelled (a stop past its grace, the message's time limit) while the
    write confirming a sink's answer was out, or still waiting to go out (for a connection, the
    incident's turn, botocore's backoff after a throttle): the write is made again, in a task
    of its own, before the claim is given back (the store takes one write of an incident at a
    time, and this one is asked first). Given back without it, the next delivery, on another
    replica or after a restart, called the sink again: Slack posted twice, TicketsCreated
    counted one ticket twice. When the first write had landed after all, this one finds the
    effect finished (the last sink's) and writes nothing, or notes the sink's answer once more
    (one more history line). Nobody awaits it: its failure is said here."""
    writing = asyncio.ensure_future(confirming())
    writing.add_done_callback(_log_failed_confirm)


def _log_failed_confirm(confirm: asyncio.Future[bool]) -> None:
    if not confirm.cancelled() and confirm.exception() is not None:
        log.warning("store.confirm_failed", error=str(confirm.exception()))


class Claim:
    """`async with ledger.claim(...) as work`: see the module docstring."""

    def __init__(
        self,
        ledger: Ledger,
        event: AlertEvent,
        owner: str,
        redo: EffectRunner,
        group: GroupKey | None,
        hold: Hold | None = None,
    ) -> None:
        self._ledger = ledger
        self._event = event
        self._owner = owner
        self._redo = redo
        self._group = group
        self._hold = hold
        self._work: Work | None = None
        #: The incident whose effect this claim held (or may hold: a write went unanswered)
        #: when it failed, its own or an abandoned one it redid: its message's retry must
        #: finish it, wherever that retry's alert is routed (`Store.remember_claim`).
        self.released: str | None = None
        #: The abandoned effects this claim redid before the alert's own decision, for what
        #: their delivery would have done after them (`Moves.after_own_redo`).
        self.redone: list[Transition] = []

    async def __aenter__(self) -> Work:
        store = self._ledger.store
        for _ in range(self._ledger.MAX_REDOS + 1):
            now = self._ledger.clock()
            try:
                transition = await store.begin(
                    self._event,
                    self._owner,
                    now,
                    self._group,
                    self._hold,
                    carrying=self._ledger.carrying,
                )
            except StoreUnavailableError:
                # Unanswered, not necessarily unwritten (DynamoDB's timeout after the write):
                # the claim may be this alert's now, for its message's retry to look at.
                self.released = self._group.key if self._group else self._event.fingerprint
                raise
            work = self._ledger.work(transition, self._owner)
            not_before = gathering_ends(work.incident, now) if work.effect is not None else None
            if not_before is not None:
                # A group gathering members: the claim stays ours (no release), and this
                # message comes back for it when the window is over (never later than a
                # window from now: `gathering_ends` holds the clock rules).
                raise GatheringError(
                    f"group {work.fingerprint} gathers members until {not_before:%H:%M:%S}",
                    retry_after_s=(not_before - now).total_seconds(),
                )
            if self._hold is not None and work.effect is EffectKind.OPEN:
                held = await self._ledger.hold_gathered(transition, self._owner, self._hold.alert)
                if held is not transition:
                    # A group's first ticket, gathered while a silence came: held, not sent.
                    if held.redo:
                        continue  # another alert's open: this alert is decided on top of it
                    work = self._ledger.work(held, self._owner)
            if work.effect is not None:
                self._ledger.carrying.add(self._owner)
            if not work.redo:
                self._work = work
                return work
            # An abandoned effect comes first; this alert is decided on top of it.
            try:
                await _run(work, self._redo)
            except BaseException:
                self.released = work.fingerprint
                raise
            self.redone.append(transition)
        raise incident_busy(
            f"incident {self._event.fingerprint} had {self._ledger.MAX_REDOS} abandoned effects "
            "in a row",
            retry_after_s=1.0,
        )

    async def __aexit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        work = self._work
        if work is None:
            return
        holding = work._open
        try:
            await work._end(failed=error is not None, error=error)
        except BaseException:
            if holding:  # the finish or the release failed: the claim may still be held
                self.released = work.fingerprint
            raise
        if holding and error is not None:
            self.released = work.fingerprint


def _agreed_alert(incident: Incident) -> RedactedAlert:
    """The stored group `incident` as the alert a held open is carried out with, its labels
    those every member has alike (`agreed_labels`: the values it is keyed by, and the labels
    its members shared while it gathered): the sweep's silence check reads them
    (`ops.sweep.subject_of`), so it holds the open while the silence that held it lasts."""
    agreed = agreed_labels(incident)
    return dataclasses.replace(stored_alert(incident), labels=MappingProxyType(agreed))


async def _run(work: Work, runner: EffectRunner) -> None:
    try:
        await runner(work)
    except BaseException as error:
        await work._end(failed=True, error=error)
        raise
    await work._end(failed=False)


class Ledger:
    """Claims per alert on one store; `preview` decides without writing (dry runs)."""

    #: Abandoned effects redone in a row before the alert's own decision is left for a retry.
    MAX_REDOS = 3

    def __init__(self, store: Store, clock: Callable[[], datetime] | None = None) -> None:
        self.store = store
        #: The store's time (`Store.now`) unless a test gives another: replicas compare the
        #: times they write, so they take them from the clock they share.
        self.clock = clock or store.now
        #: The claim owners whose effects this process's workers are carrying out now: the
        #: store never hands one of them to another alert, whatever the clock did.
        self.carrying: set[str] = set()
        #: The sinks' answers whose confirmation failed: a retry here writes them instead of
        #: calling the sink again (`SinkAnswers`).
        self.answers = SinkAnswers()
        #: The summaries whose save failed: a retry here goes out with them instead of asking
        #: the summariser again (`Work.ticket`).
        self.summaries: Remembered[UnsavedSummary] = Remembered()

    def work(self, transition: Transition, owner: str) -> Work:
        """The work of `transition`'s claim by `owner`, on this ledger's clock and memories."""
        return Work(
            self.store,
            transition,
            owner,
            self.carrying,
            self.clock,
            self.answers,
            self.summaries,
        )

    def claim(
        self,
        event: AlertEvent,
        owner: str,
        *,
        redo: EffectRunner,
        group: GroupKey | None = None,
        hold: Hold | None = None,
    ) -> Claim:
        """The claim of `event`'s decision (as a member of `group`, when it has one); with
        `hold`, a silence matched it and its effect is held."""
        return Claim(self, event, owner, redo, group, hold)

    async def carry_out(self, transition: Transition, owner: str, runner: EffectRunner) -> None:
        """Carry out an effect claimed outside a message (the sweep's, a close by hand):
        finished when `runner` returns, released if it fails. A group's first ticket that no
        message came back for after its window (the sweep's) is held instead while a silence
        matches the group, as its message's retry would hold it."""
        if transition.action.effect is EffectKind.OPEN and transition.after is not None:
            seen = view_to_json(_agreed_alert(transition.after))
            if await self.hold_gathered(transition, owner, seen) is not transition:
                return
        work = self.work(transition, owner)
        if work.effect is not None:
            self.carrying.add(owner)
            await _run(work, runner)

    async def hold_gathered(self, transition: Transition, owner: str, alert: str) -> Transition:
        """When `owner` just claimed a group's first ticket whose window is over and that
        nobody tried yet (`gathered_untried`), and a silence added meanwhile matches every
        member (`silencing_members`): the open held instead, to be carried out with `alert` (a
        redacted view as JSON) once no silence matches (`Store.hold_gathered`). Otherwise
        `transition` itself. The silences are read from the store only for such a claim."""
        before, after, now = transition.before, transition.after, self.clock()
        taken = before.pending if before is not None else None
        if after is None or after.group is None or not gathered_untried(taken, now):
            return transition
        silence = silencing_members(await self.store.silences(), after, now)
        if silence is None:
            return transition
        hold = Hold(silence.id, silence.ends(), alert)
        held = await self.store.hold_gathered(transition, owner, hold, now)
        if held is not transition:
            log.info("incident.gathered_open_held", incident=after.fingerprint, silence=silence.id)
        return held

    async def preview(
        self, event: AlertEvent, group: GroupKey | None = None
    ) -> tuple[Decision, Incident | None]:
        """What `claim` would decide now, and the incident it would decide on; writes nothing."""
        now, policy = self.clock(), self.store.policy
        if group is None:
            stored = await self.store.get(event.fingerprint)
            return decide(stored, event, now, policy), stored
        stored = await self.store.get(group.key)
        return decide_group(stored, event, now, policy, group), stored
