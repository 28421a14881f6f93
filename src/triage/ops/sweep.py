"""The sweep: what happens to incidents with time rather than with an alert.

Every `TRIAGE_SWEEP_INTERVAL_S`, each replica asks the store which incidents are due (its sweep
index: never a scan of the table) and, for each, tries one conditional claim; the replica whose
claim wins does the work, the others find nothing to do:

    held effect       no silence matches any more: the held OPEN, UPDATE or REOPEN goes out
                      now, with the alert the silence held (a silence that still matches is
                      noted, and the incident looked at again when it ends)
    abandoned effect  an effect whose owner died is redone, with the same idempotency key:
                      one carrying its own alert (a held one let go, a close by hand) once its
                      lease is over; one a message's alert claimed 30 s after that, written
                      from the stored incident (the message's retry, which redoes it with its
                      alert, comes first, unless it went elsewhere: a routes change, a member
                      that moved, another delivery that acked it). One that failed is tried
                      again 30 s later, then twice as long after each further failure, up to
                      15 minutes (a message for the incident redoes it at once)
    held close        a flapping incident that has stayed resolved for its quiet period
                      (`TRIAGE_FLAP_QUIET_S`): the close its resolve held back goes out, with a
                      note saying why it waited (taken over as an abandoned effect is: one
                      replica's claim wins, and a failure is tried again the same way)
    escalation        open past its route's `escalate_after_s`, no silence matching: escalated
                      once (`ops/escalate.py`); a failure is tried again a minute later, and
                      one held by its service's open breaker waits, quietly, the same way
    owed update       an incident that counted alerts inside its update interval (a group:
                      members joined, fired again or resolved), and no event since the
                      interval ended: the update it owes its ticket goes out, with every
                      occurrence counted (a group's listing the members as they are); while
                      a silence matches it, it waits (the first pass after it ends sends it)
    auto-close        open with no alert for its route's `resolve_after_s` (sources that never
                      send a resolve): closed as a resolve would close it, its sinks told with
                      a note (`no alert for 4 h`); damped if it flaps; a held open or reopen
                      is dropped, a held update gives way to the close (as a close by hand);
                      after an effect in progress, never during it

When the silences change (one added, or expired early), the next pass looks at every incident
the index holds, not only the due ones, so a silence expired by hand lets go of its incidents
within one pass. So does the pass after the clock stepped back (by more than
`CLAIM_CLOCK_SLACK`): the index dates an effect claimed while the clock was ahead by that
clock, and its dead holder's claim, which `begin()` takes over at once, would wait for the
clock to catch up. A replica whose own clock never stepped finds such a claim (a dead
replica's, made while that replica's clock was ahead) by the far end of the index: each pass
also reads the incidents dated later than a lease and `CLAIM_CLOCK_SLACK` from now
(`Store.dated_after`, a range read of keys and times alone) and looks at those whose time it
has not seen there before, so each is read once per time it is given, not on every pass. A
far-end read that fails (a throttled range read) leaves the pass to the due incidents, and
what it saw there before to the next pass: the outage is one warning, and one line when it ends.

An effect is the sweep's to take over by the rules every claim follows (`sweep_may_take`):
never one a worker of this process is carrying out (`Ledger.carrying`), whatever the clock did.
So is an escalation (`escalation_due`): another sweep's claim, or a failed escalation's retry
time, set while the clock was ahead and since stepped back is due at once. One this process is
carrying out is never claimed again by it, even after a jump forward past its lease: a pass
escalates one incident at a time and claims nothing while it does, and passes never overlap
(another replica whose clock jumped too takes it over once the lease is past, as it would an
effect).
"""

from __future__ import annotations

import asyncio
import os
import secrets
import socket
from collections.abc import Callable
from datetime import datetime, timedelta

import structlog

from triage.breaker import opened_by
from triage.errors import SinkRejectedError, SinkThrottledError, TriageError
from triage.incidents import Incident, Store
from triage.incidents.codec import view_from_json
from triage.incidents.lifecycle import FLAP_HOLD, Action, Pending, update_owed_due
from triage.incidents.schedule import CLAIM_CLOCK_SLACK, dated_ahead_after, resolve_due
from triage.incidents.silences import Silence, SilenceCache, Subject, first_match
from triage.ops.escalate import Escalator
from triage.pipeline import Pipeline
from triage.sinks.guard import BREAKER_OPEN

log = structlog.get_logger(__name__)

#: The key `Sweep._failing` notes a failed far-end read under (no fingerprint is blank-led).
FAR_END_KEY = " far end"

#: A failed escalation (Slack or GitHub down) is tried again this much later. No more than
#: `CLAIM_CLOCK_SLACK`: a retry time further ahead than a lease and that slack reads as one set
#: while the clock was ahead (`escalation_due`), and would be tried at once.
ESCALATION_RETRY = timedelta(minutes=1)


def sweep_owner() -> str:
    """This process's name in the claims it takes (host, pid and a random part)."""
    return f"sweep:{socket.gethostname()}:{os.getpid()}:{secrets.token_hex(3)}"


class Sweep:
    def __init__(
        self,
        store: Store,
        pipeline: Pipeline,
        silences: SilenceCache,
        escalator: Escalator | None,
        interval_s: float,
        *,
        owner: str | None = None,
        clock: Callable[[], datetime] | None = None,
    ) -> None:
        self.store = store
        self.pipeline = pipeline
        self.silences = silences
        self.escalator = escalator
        self.interval_s = interval_s
        self.owner = owner or sweep_owner()
        #: The store's time, as the pipeline's claims take it (leases are compared across
        #: replicas).
        self.clock = clock or store.now
        self._seen: tuple[Silence, ...] | None = None
        #: The latest time a pass ran at: a pass that finds the clock well behind it looks at
        #: every incident (see the module docstring).
        self._latest: datetime | None = None
        #: What failed on the previous pass and why: the pass itself (key ""), its far-end
        #: read (`FAR_END_KEY`) or an incident.
        #: A failure that repeats is logged at debug, so an outage is one warning, not one
        #: every `interval_s`.
        self._failing: dict[str, str] = {}
        #: Incidents whose held effect waits behind another effect in progress: looked at
        #: again on every pass until that one is done. The index has them due when the
        #: silence was to end, so a silence expired by hand meanwhile would hold them till then.
        self._held_behind: set[str] = set()
        #: The far end of the index at the last pass (`Store.dated_after`): each incident's
        #: index time, so a pass looks only at those whose time is new there.
        self._far_seen: dict[str, float] = {}

    async def run_forever(self) -> None:
        while True:
            await self.once()
            await asyncio.sleep(self.interval_s)

    async def once(self) -> int:
        """One pass; returns how many incidents were looked at. A failure is one log line,
        and the incident is looked at again on the next pass."""
        now = self.clock()
        try:
            silences = await self.silences.current()
            # Every incident of the index on the first pass (a silence may have been expired
            # while no replica ran), when the silences changed, and after a step back; else
            # the due ones.
            changed = self._seen is None or silences != self._seen
            back_s = self._behind_s(now)
            stepped_back = back_s > CLAIM_CLOCK_SLACK.total_seconds()
            due = await self.store.due(None if changed or stepped_back else now)
            # What each incident is matched against: the silences that mute, not the ended
            # ones kept beside them (up to a thousand, each read once per incident).
            in_effect = tuple(s for s in silences if s.may_mute(now))
        except TriageError as exc:
            self._failed("", "sweep.failed", exc)
            return 0
        if self._failing.pop("", None) is not None:
            log.info("sweep.recovered")
        if stepped_back:
            log.info("sweep.clock_stepped_back", by_s=back_s)
        self._seen = silences
        self._latest = now if stepped_back else max(now, self._latest or now)
        far = await self._far_end(now)
        looked = set(due)
        behind = self._held_behind.difference(looked)
        ahead = self._far_news(far or [], looked)
        failed: set[str] = set()
        for fingerprint in [*due, *sorted(behind), *ahead]:
            with structlog.contextvars.bound_contextvars(fingerprint=fingerprint):
                try:
                    await self._visit(fingerprint, now, in_effect)
                except TriageError as exc:
                    failed.add(fingerprint)
                    self._failed(fingerprint, "sweep.incident_failed", exc)
                else:
                    self._failing.pop(fingerprint, None)
        if far is not None:
            # Looked at again on the next pass only when its time changed, or its visit failed.
            self._far_seen = {key: at for key, at in far if key not in failed}
        return len(due)

    async def _far_end(self, now: datetime) -> list[tuple[str, float]] | None:
        """The index's far end (`Store.dated_after`), or None when that read failed: the
        pass goes on with the due incidents, and what was seen there is kept for the next
        pass (an outage is one log line, as the pass's own failure is)."""
        try:
            far = await self.store.dated_after(dated_ahead_after(now, self.store.lease))
        except TriageError as exc:
            self._failed(FAR_END_KEY, "sweep.far_end_failed", exc)
            return None
        if self._failing.pop(FAR_END_KEY, None) is not None:
            log.info("sweep.far_end_recovered")
        return far

    def _far_news(self, far: list[tuple[str, float]], looked: set[str]) -> list[str]:
        """The incidents of the index's far end (`far`: each with its index time) to look at
        on this pass: those not looked at already whose time this sweep has not seen there.
        A claim made while its clock was ahead (its holder dead, this clock never stepped)
        is among them the pass after it was written, and taken over as `begin()` would."""
        seen = self._far_seen
        return [key for key, at in far if key not in looked and seen.get(key) != at]

    def _behind_s(self, now: datetime) -> float:
        """How far `now` reads before the latest pass (0 when it does not). More than
        `CLAIM_CLOCK_SLACK`: the clock stepped back, a claim made before may be dated past a
        lease ahead, and the index has it due only when the clock gets back there."""
        if self._latest is None or now >= self._latest:
            return 0.0
        return (self._latest - now).total_seconds()

    def _failed(self, key: str, event: str, exc: TriageError) -> None:
        """One warning when `key` starts failing for a reason; at debug while it goes on. A
        sink's open breaker is info: its `breaker.opened` is the outage's one warning, and
        every due incident of the pass would otherwise add one."""
        again = self._failing.get(key) == exc.reason
        self._failing[key] = exc.reason
        outage = exc.reason == BREAKER_OPEN or opened_by(exc) is not None
        emit = log.debug if again else log.info if outage else log.warning
        emit(event, reason=exc.reason, error=str(exc))

    async def _visit(self, fingerprint: str, now: datetime, silences: tuple[Silence, ...]) -> None:
        incident = await self.store.get(fingerprint)
        self._held_behind.discard(fingerprint)
        if incident is None:
            return

        def match(stored: Incident) -> Silence | None:
            return first_match(silences, subject_of(stored), now)

        pending = incident.pending
        if pending is not None:
            if incident.held is not None:
                self._held_behind.add(fingerprint)
            carrying = self.pipeline.ledger.carrying
            if self.store.sweep_may_take(pending, now, carrying):
                redo = await self.store.take_over(fingerprint, self.owner, now, carrying=carrying)
                if redo is not None:
                    self._log_redo(pending, redo.action)
                    await self.pipeline.carry_out(redo, self.owner)
            return
        if resolve_due(incident, now):
            # Before a held effect is let go: a held update or reopen would be stale news
            # to sinks about to hear of the close.
            await self._auto_close(fingerprint, now)
            return
        if incident.held is not None:
            released = await self.store.release_held(fingerprint, self.owner, now, match)
            if released is not None:
                log.info("sweep.released", action=str(released.action))
                await self.pipeline.carry_out(released, self.owner)
            return
        if update_owed_due(incident, now) and match(incident) is None:
            # While a silence matches, the update waits, as an escalation does: the index
            # keeps the incident due, so the first pass after the silence ends sends it.
            await self._send_owed_update(fingerprint, now)
        escalate_at = incident.escalate_at
        if escalate_at is not None and escalate_at <= now and self.escalator is not None:
            await self._escalate(fingerprint, now, match)

    async def _auto_close(self, fingerprint: str, now: datetime) -> None:
        """Close an incident quiet for its route's `resolve_after_s`, if this replica's claim
        wins, and tell its sinks."""
        closed = await self.store.auto_close(fingerprint, self.owner, now)
        if closed is None:
            return
        before = closed.before
        assert before is not None and before.resolve_after_s is not None
        log.info("sweep.auto_closed", action=str(closed.action), quiet_s=before.resolve_after_s)
        if closed.action.effect is not None:
            await self.pipeline.carry_out(closed, self.owner)

    async def _send_owed_update(self, fingerprint: str, now: datetime) -> None:
        """Send the update an incident owes its ticket, if this replica's claim wins."""
        sent = await self.store.send_owed_update(fingerprint, self.owner, now)
        if sent is None:
            return
        log.info("sweep.owed_update", action=str(sent.action))
        await self.pipeline.carry_out(sent, self.owner)

    def _log_redo(self, pending: Pending, action: Action) -> None:
        """The one line that says why the sweep carries an effect out: a close held while the
        incident flapped, an abandoned effect with its own alert, or one a message's alert
        claimed whose delivery never finished it (`from_incident`: nothing but the stored
        incident to write it from)."""
        if pending.owner == FLAP_HOLD:
            log.info("sweep.held_close", action=str(action))
        elif pending.alert is not None:
            log.info("sweep.redo", action=str(action))
        else:
            log.info("sweep.redo", action=str(action), from_incident=True, left_by=pending.owner)

    async def _escalate(
        self, fingerprint: str, now: datetime, match: Callable[[Incident], Silence | None]
    ) -> None:
        assert self.escalator is not None
        claimed = await self.store.claim_escalation(fingerprint, self.owner, now, match)
        if claimed is None:
            return

        async def sent(target: str) -> None:
            await self.store.escalation_sent(fingerprint, self.owner, target)

        try:
            await self.escalator.escalate(claimed, now, sent)
        except SinkRejectedError as exc:
            # Refused for good (a deleted issue, a revoked webhook): no retry can succeed.
            # Done, with the reason logged.
            await self.store.end_escalation(fingerprint, self.owner, now)
            log.warning("escalation.refused", reason=exc.reason, error=str(exc))
            return
        except TriageError as exc:
            retry = now + ESCALATION_RETRY
            await self.store.end_escalation(fingerprint, self.owner, now, retry_at=retry)
            # A sink's open breaker (or the failure that opened it) is an outage whose one
            # line is `breaker.opened`: the escalation waits for it without a line of its own.
            outage = exc.reason == BREAKER_OPEN or opened_by(exc) is not None
            if outage:
                log.debug("escalation.failed", reason=exc.reason, error=str(exc))
            elif isinstance(exc, SinkThrottledError):
                # A rate limit is a wait, not a failure: the escalator holds the webhook for
                # it (no request until it passes), and the retry comes a minute later.
                log.info("escalation.waiting", retry_after_s=exc.retry_after_s, error=str(exc))
            else:
                log.warning("escalation.failed", reason=exc.reason, error=str(exc))
            return
        except BaseException:
            await asyncio.shield(
                self.store.end_escalation(fingerprint, self.owner, now, retry_at=now)
            )
            raise
        await self.store.end_escalation(fingerprint, self.owner, now)


def subject_of(incident: Incident) -> Subject:
    """What a silence is matched against for a stored incident: the alert a silence held
    (with its labels past the 64 it shows, which the pipeline matched it by too: a silence
    on one holds the alert until it ends), else the incident as its ticket was opened, with
    the labels past the 64 it shows that it keeps (`Incident.matched`)."""
    if incident.held is not None:
        return view_from_json(incident.held.alert).matched
    return incident.matched
