"""The bounded pool of workers: each received message runs in its own task and holds a worker
slot until its work is over (not until its delete). One pass of the handler at a time, under
a timeout that restarts with progress; the error tree decides each failure's fate; a success
is acked through the batching acker. Also the heartbeat that keeps messages in hand invisible,
and the release (and the delete) that waits for an extension of its message the heartbeat has
out: SQS applies visibility calls as they arrive, so an extension overtaken by a release would
hide the message again for the whole visibility timeout (and one overtaken by the delete is
refused, a warning for a message handled well).

Apart from `receiving` (how many to take, and when) and `holding` (what follows a failure):
this is one message's life, from its start to its ack.
"""

from __future__ import annotations

import asyncio
import functools
import math
import time
from collections.abc import Callable, Iterable, Mapping
from datetime import UTC, datetime
from types import MappingProxyType

import structlog

from triage.errors import (
    BackpressureError,
    PermanentError,
    ProcessLimitError,
    StoreUnavailableError,
    TransientError,
    TriageError,
    process_limit,
)
from triage.incidents.lifecycle import Action, Outcome
from triage.logs import get_logger
from triage.pipeline import alert_fields
from triage.sqs.holding import Holding, _backoff, _whole_s
from triage.sqs.inbox import (
    MAX_VISIBILITY_S,
    TRACEPARENT_ATTRIBUTE,
    UNREADABLE_REASON,
    Message,
    UnreadableEntry,
    alert_named,
)
from triage.sqs.store_watch import StoreWatch

#: How long a message whose work ran out of file descriptors is held before it is tried again.
PROCESS_LIMIT_WAIT_S = 1.0

# Logged as the supervisor: its events keep the logger name they had before the split.
log = get_logger("triage.sqs.supervisor")

#: The `MessagesDeadLettered` reasons of messages the daemon gives back when it stops, not
#: for a failure of theirs: cancelled past the shutdown's grace, or held by a dry run.
SHUTDOWN_REASON = "shutdown"
DRY_RUN_REASON = "dry_run"

#: Outcomes counted (metric, message id) remembered at most (`RecentlyCounted`); the latest
#: half of it at least. About 200 bytes each: 1.6 MB at most, and a storm of 100 messages a
#: second is still covered for 40 s.
RECENTLY_COUNTED_KEPT = 8192
#: How long they are remembered, at least: SQS's own late copies come within moments.
RECENTLY_COUNTED_MIN_S = 300.0


class ForeignTimeoutError(Exception):
    """A TimeoutError that the work of a message raised itself (a library's, never turned
    into a triage error) before the message's deadline: a bug (`message.crashed`, with its
    traceback), retried as one, never taken for the deadline's own timeout."""


class RecentlyCounted:
    """The outcomes (metric, message id) counted lately, each remembered for `kept_s` at most:
    SQS may deliver a message again after its delivery here was deleted or given up (the
    delete was lost or came late, or another SQS server still held a copy). That copy is the
    same message, and counting it again made MessagesHandled and MessagesDeadLettered show a
    message nobody sent.

    Two generations of `limit // 2` keys (the newer filling while the older is still read):
    the latest `limit // 2` are always held, `limit` at most, and the oldest generation is
    dropped whole. Each message handled costs a clock read, two lookups and one plain dict
    insert; an ordered dict, forgetting one key at a time, cost three to four times that."""

    __slots__ = ("_clock", "_current", "_generation", "_previous", "kept_s")

    def __init__(
        self, kept_s: float, limit: int, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.kept_s = kept_s
        self._generation = max(1, limit // 2)
        self._clock = clock
        #: When each key was counted: the newer generation, and the one before it.
        self._current: dict[tuple[str, str], float] = {}
        self._previous: dict[tuple[str, str], float] = {}

    def __len__(self) -> int:
        return len(self._current) + len(self._previous)

    def first(self, key: tuple[str, str]) -> bool:
        """`key` was not counted within `kept_s`: remember it now, and say so."""
        now = self._clock()
        counted_at = self._current.get(key)
        if counted_at is None:
            counted_at = self._previous.get(key)
        if counted_at is not None and now - counted_at < self.kept_s:
            return False
        current = self._current
        current[key] = now
        if len(current) >= self._generation:
            self._previous, self._current = current, {}
        return True


class Working(Holding, StoreWatch):
    """A message's work from its start to its ack, and the heartbeat over the messages in hand."""

    #: The queue's maxReceiveCount (its redrive policy), set by whoever read the policy before
    #: `serve()`; None while unknown (or no policy), and then no message is counted as
    #: dead-lettered.
    max_receive_count: int | None = None
    #: Messages (by id) that have had more than one delivery in hand at once (an SQS
    #: at-least-once copy, a redelivery while the first is still at work), with how many are
    #: in hand now: each counts its outcome once (`_first_to_count`). Rare, so replaced rather
    #: than changed in place: the class's empty one is every supervisor's until its first copy.
    _copies: Mapping[str, int] = MappingProxyType({})
    #: The (metric, message id) already counted by a delivery of a message in `_copies`.
    _counted_once: frozenset[tuple[str, str]] = frozenset()

    @functools.cached_property
    def _recently_counted(self) -> RecentlyCounted:
        """The outcomes counted lately, so a copy delivered after its message was finished
        here counts nothing: remembered for two visibility timeouts (a lost delete's message
        is visible again one timeout after its last extension), five minutes at least."""
        kept_s = max(RECENTLY_COUNTED_MIN_S, 2.0 * self.config.visibility_timeout_s)
        return RecentlyCounted(kept_s, RECENTLY_COUNTED_KEPT)

    @functools.cached_property
    def _failed_alerts(self) -> dict[str, dict[str, str]]:
        """The alert (its `fingerprint` and `source`) each delivery's last failed attempt
        reached, by receipt handle, until the delivery is tried again or given up: the line
        that says it was given up (`message.dead_lettered`) comes after the failure's own,
        or from a stop that cancelled it, where the error that named the alert is gone."""
        return {}

    def _start(self, message: Message) -> None:
        if message.receipt_handle in self._deliveries_in_flight:
            # The same delivery twice in one answer: the copy in hand finishes it (and is the
            # one counted as received, so every received message has one outcome). Outside
            # its work, so the trace it came with is bound here, as on every line of it.
            traceparent = message.attributes.get(TRACEPARENT_ATTRIBUTE)
            with self.tracing.carried(traceparent, message.trace_header):
                log.warning("message.duplicate_delivery", message_id=message.id)
            return
        self.stats.received += 1
        if message.sent_at is not None and message.first_delivery:
            # The wait before its first delivery: a redelivery's age holds its own attempts
            # (and so may one whose count SQS did not say).
            # On SQS's clock (`Message.age_s`): a host minutes fast would add as much to it.
            lag_s = message.age_s(datetime.now(UTC)) or 0.0
            self.metrics.observe("QueueLag", max(0.0, lag_s * 1000))
        message.on_lost.append(functools.partial(self._delivery_lost, message))
        task = asyncio.create_task(self._work(message), name=f"message-{message.id}")
        self._in_flight[task] = message
        self._deliveries_in_flight.add(message.receipt_handle)
        self._working.add(task)
        task.add_done_callback(self._done)
        older = self._delivery_of.get(message.id)
        self._delivery_of[message.id] = message
        self._copy_started(message.id, another_in_hand=older is not None)
        if older is not None and older.receipt_handle in self._hold_wakers:
            # Another delivery of a message held here: its visibility most likely ran out
            # (SQS's rare copies aside), and this one does the work, so the held one is given
            # up rather than tried again beside it. One at work finishes, extended until SQS
            # says it is lost (the store makes this one wait for it).
            self._delivery_lost(older)

    def _done(self, task: asyncio.Task[None]) -> None:
        message = self._in_flight.pop(task, None)
        if message is not None:
            # Its delivery is over: the callbacks (which hold the message and this supervisor)
            # go, so a finished message is no reference cycle left for the collector.
            message.on_lost.clear()
            message.on_deleted.clear()
            self._deliveries_in_flight.discard(message.receipt_handle)
            self._lost_deliveries.discard(message.receipt_handle)
            if self._delivery_of.get(message.id) is message:
                del self._delivery_of[message.id]
            self._copy_done(message.id)
        self._working.discard(task)
        self._slot_free.set()

    def _copy_started(self, message_id: str, *, another_in_hand: bool) -> None:
        """A delivery of `message_id` was started: count it in `_copies` when another is in
        hand (found by `_delivery_of`, which holds the one delivery of a message that has
        had no copy) or the message has copies already."""
        copies = self._copies.get(message_id)
        if copies is not None or another_in_hand:
            self._copies = {**self._copies, message_id: (copies or 1) + 1}

    def _copy_done(self, message_id: str) -> None:
        """A delivery of `message_id` is over: once none of its copies is in hand, what was
        counted for it here is forgotten (`_recently_counted` still holds it for a while)."""
        copies = self._copies.get(message_id)
        if copies is None:
            return
        left = {k: v for k, v in self._copies.items() if k != message_id}
        if copies > 1:
            left[message_id] = copies - 1
        else:
            self._counted_once = frozenset(k for k in self._counted_once if k[1] != message_id)
        self._copies = left

    def _first_to_count(self, metric: str, message: Message) -> bool:
        """`message`'s outcome is to be counted in `metric`: False when another delivery of
        it counted it already, in hand at the same time or finished lately
        (`_recently_counted`). Two copies SQS handed out, both deleted (or both given up on
        their last receive), are one message: counted twice, MessagesHandled showed a message
        nobody sent, and its HELP says once."""
        key = (metric, message.id)
        if not self._recently_counted.first(key):
            return False
        if message.id not in self._copies:
            return True  # the only delivery of it in hand
        if key in self._counted_once:
            return False
        self._counted_once = self._counted_once | {key}
        return True

    def _processed(self) -> None:
        """The current message's work is over; only its delete is left: free its slot."""
        task = asyncio.current_task()
        if task in self._working:
            self._working.discard(task)
            self._slot_free.set()

    async def _work(self, message: Message) -> None:
        """Process one message and decide its fate; never raises (but for cancellation)."""
        self._leases[message.receipt_handle] = (message, time.monotonic())
        attributes = message.attributes
        with self.tracing.message(
            message.id, attributes.get(TRACEPARENT_ATTRIBUTE), message.trace_header
        ):
            # Logged inside the message's trace, like every other line of it.
            log.debug(
                "message.received",
                message_id=message.id,
                receive_count=message.known_receive_count,
            )
            await self._work_traced(message)

    async def _work_traced(self, message: Message) -> None:
        if self.config.dry_run:
            await self._dry_run(message)
            return
        # Bound and reset by token: `bound_contextvars` copies the whole context per message.
        tokens = structlog.contextvars.bind_contextvars(message_id=message.id)
        try:
            try:
                outcomes = await self._until_done(message)
            finally:
                # The heartbeat stops before the delete, and never extends a finished message.
                self._leases.pop(message.receipt_handle, None)
                self._waiting_on_store.discard(message.receipt_handle)
                self._process_past(message.receipt_handle)
            if outcomes is None:
                return  # released, to be retried or dead-lettered
            self._processed()
            # Named on the delivery, so a failed or unconfirmed delete's line says its alert
            # (what it handled, in place of what a failed attempt reached).
            incident = _incident_fields(outcomes)
            message.alert.clear()
            message.alert.update(incident)
            # SQS applies calls as they arrive: an extension of this message the heartbeat sent
            # before its work ended (a slow call, botocore's retry, a later batch of the beat)
            # that landed after the delete was refused as a stale receipt handle, a
            # `message.visibility_failed` warning for a message handled well.
            await self._extension_answered([message])
            if await self._acker.delete(message):
                self.stats.acked += 1
                for deleted in message.on_deleted:
                    deleted()
                if not self._first_to_count("MessagesHandled", message):
                    # Another copy of it was acked and said (in hand with this one, or
                    # lately): this one is the same message.
                    log.debug("message.acked", copy=True, **_acked_fields(outcomes, incident))
                    return
                self.metrics.incr("MessagesHandled")
                # A message of repeats only changed no ticket: in a storm, one info line each
                # would be most of the log and a large share of the CPU (DuplicatesSuppressed
                # counts them; debug shows them, and only then is the line put together).
                quiet = outcomes and all(o.action is Action.COUNT for o in outcomes)
                if not quiet:
                    log.info("message.acked", **_acked_fields(outcomes, incident))
                elif log.writes_debug:
                    log.debug("message.acked", **_acked_fields(outcomes, incident))
            else:
                # The acker (or the inbox) logged why; SQS shows it again once its visibility
                # ends, and it is handled again as a repeat. Said for this message, in place
                # of its `message.acked`: an outage's batch lines after its first are debug.
                log.info("message.not_deleted", **_acked_fields(outcomes, incident))
                self.stats.delete_failed += 1
                self.metrics.incr("MessagesFailed", reason="delete")
                if message.receipt_handle not in self._lost_deliveries:  # see `_until_done`
                    self._count_if_last(message, "delete", incident)
        finally:
            structlog.contextvars.reset_contextvars(**tokens)

    async def _until_done(self, message: Message) -> list[Outcome] | None:
        """Attempt the message, holding it through every "wait"; the outcomes when it is done,
        None when it was released (for a retry, or to the DLQ)."""
        held_since: float | None = None
        store_failures = 0
        while True:
            try:
                outcomes = await self._attempt_noted(message)
            except TimeoutError as exc:
                # The handler was cancelled: nothing it would have done afterwards happens.
                error = f"no progress for {self.config.message_timeout_s:g} s"
                reason = "timeout"
                await self._retry_later(message, reason, error, None, exc)
            except PermanentError as exc:
                # Visible again at once, so redrive moves it to the DLQ after maxReceiveCount
                # (without a policy, after a backoff: `_rejected_hidden_s`).
                reason = exc.reason
                self.stats.rejected += 1
                self.stats.remember(message.id, exc.reason, str(exc))
                self.metrics.incr("MessagesFailed", reason=exc.reason)
                self.tracing.failed(exc)
                log.error(
                    "message.rejected",
                    reason=exc.reason,
                    error=str(exc),
                    receive_count=message.known_receive_count,
                    **alert_fields(exc),
                )
                self._failed_for[message.receipt_handle] = reason  # see `_hold`
                await self._release([message], self._rejected_hidden_s(message))
            except BackpressureError as exc:
                reason = exc.reason
                if message.receipt_handle in self._waiting_on_store:
                    # The store failed it before; this attempt got past the store (a sink's
                    # wait, a busy record, a group gathering): a new run of store failures
                    # would start from the first wait.
                    store_failures = 0
                    self._got_past_store(message.receipt_handle)
                held_since = held_since if held_since is not None else time.monotonic()
                wait_s = exc.retry_after_s if exc.retry_after_s is not None else None
                if await self._hold(message, exc, held_since, wait_s, exc.pauses_intake):
                    continue
            except StoreUnavailableError as exc:
                reason = exc.reason
                held_since = held_since if held_since is not None else time.monotonic()
                store_failures += 1
                self._waiting_on_store.add(message.receipt_handle)
                if await self._hold(
                    message, exc, held_since, self._store_down(exc, store_failures)
                ):
                    continue
            except TransientError as exc:
                reason = exc.reason
                await self._retry_later(message, exc.reason, str(exc), exc.retry_after_s, exc)
            except Exception as exc:  # a bug: retried like a transient failure, but loud
                spent = process_limit(exc)
                if spent is None:
                    reason = "bug"
                    await self._retry_later(message, reason, repr(exc), None, exc)
                else:  # the process's file descriptors or memory, not the message: held as an outage
                    reason = spent.reason
                    self._process_short(message, spent)
                    held_since = held_since if held_since is not None else time.monotonic()
                    if await self._hold(message, spent, held_since, PROCESS_LIMIT_WAIT_S):
                        continue
            else:
                self._waiting_on_store.discard(message.receipt_handle)
                self._store_up()
                self._got_through()
                return outcomes
            self._failed_for.pop(message.receipt_handle, None)
            failed_alert = self._failed_alerts.pop(message.receipt_handle, {})
            if message.receipt_handle not in self._lost_deliveries:
                # A delivery no longer ours may be anyone's now: whether it was its last
                # receive is for whoever holds it to say.
                self._count_if_last(message, reason, failed_alert)
            return None

    def _rejected_hidden_s(self, message: Message) -> int:
        """How long a message that failed for good stays hidden: 0 while the queue's redrive
        policy is known, so SQS moves it to the DLQ after maxReceiveCount receives, as soon
        as it can. Without one known (the queue has none, or it was not read), nothing moves
        it: made visible at once, it was received again at once, in a loop as fast as SQS
        answers, each pass an error line, on every replica. It waits out the retry backoff
        instead, as a transient failure does (`retry_base_s` doubling to `retry_max_s`)."""
        if self.max_receive_count is not None:
            return 0
        attempt = message.known_receive_count or 1
        delay = _backoff(attempt, self.config.retry_base_s, self.config.retry_max_s)
        return min(math.ceil(delay), MAX_VISIBILITY_S, _whole_s(self._hideable_s(message)))

    async def _attempt_noted(self, message: Message) -> list[Outcome]:
        """`_attempt`, noting the alert its failure reached (`_failed_alerts`), a stop's
        cancellation included: the pipeline names it on the error as it passes."""
        handle = message.receipt_handle
        self._failed_alerts.pop(handle, None)  # an earlier attempt's, held and tried again
        try:
            outcomes = await self._attempt(message)
        except BaseException as exc:
            failed_alert = alert_fields(exc)
            if failed_alert:
                self._failed_alerts[handle] = failed_alert
                # On the delivery too: the inbox's lines about its release name it.
                message.alert.clear()
                message.alert.update(failed_alert)
            if process_limit(exc) is None:
                self._process_past(handle)
            raise
        self._process_past(handle)
        return outcomes

    @functools.cached_property
    def _short_of_process(self) -> set[str]:
        """The deliveries whose last attempt failed because this process ran out of file
        descriptors or memory (held, intake paused): while any is, nothing can move, and
        /readyz names `process` (`_process_short`), across the hold's retries, until each
        has got past it or left our hands."""
        return set()

    def _process_short(self, message: Message, spent: ProcessLimitError) -> None:
        """`message`'s work found the process short of descriptors or memory: not ready."""
        self._short_of_process.add(message.receipt_handle)
        self.health.set("process", False, str(spent))

    def _process_past(self, handle: str) -> None:
        """The delivery `handle` got past the process's limit (another outcome), or left our
        hands: ready again once no delivery is held for it."""
        short = self._short_of_process
        if handle in short:
            short.discard(handle)
            if not short:
                self.health.set("process", True)

    def _count_unreadable(self, entry: UnreadableEntry) -> int:
        """Count an entry of a receive's answer that cannot be read as any failed message
        (the inbox's listener, `SqsInbox.on_unreadable`): received, failed
        (`MessagesFailed{reason=unreadable}`), and dead-lettered on its last receive, since
        SQS moves it to the DLQ at its next receive as it does any message left undeleted.
        No worker ever holds it: its `message.unreadable_entry` line (the inbox's) says why.
        Entries without a MessageId are each a message apart: never taken for one another.
        Returns how long it stays hidden: as long as a message rejected for good
        (`_rejected_hidden_s`: at once with a known redrive policy, else the retry backoff,
        so a queue without one does not hand it back in a loop)."""
        self.stats.received += 1
        self.stats.rejected += 1
        if entry.message_id is not None:
            self.stats.remember(entry.message_id, UNREADABLE_REASON, entry.error)
        message = Message(entry.message_id or "?", "", "", entry.receive_count, None)
        with structlog.contextvars.bound_contextvars(message_id=entry.message_id):
            self.metrics.incr("MessagesFailed", reason=UNREADABLE_REASON)
            self._count_if_last(message, UNREADABLE_REASON, {}, once=entry.message_id is not None)
        return self._rejected_hidden_s(message)

    def _count_if_last(
        self,
        message: Message,
        reason: str,
        incident: Mapping[str, object],
        *,
        once: bool = True,
    ) -> None:
        """Count `message` in MessagesDeadLettered when it leaves our hands undeleted on its
        last receive: the redrive policy moves it to the DLQ at its next receive, so this is
        the message given up on (MessagesFailed counts each failed attempt), once however
        many deliveries of it were in hand (`_first_to_count`). Nothing is counted while the
        queue's maxReceiveCount is unknown, nor for a delivery whose count SQS did not say
        (its `message.unreadable_attribute` line said so): a guess would lie both ways, and
        SQS, which knows both, redrives it all the same. Its line names the `incident`
        (the alert its failure reached, or what its work did), as every line of one alert
        does: it is the line an operator searches for what went to the DLQ. Not `once`:
        counted whatever was counted before (a message without an id to know it by)."""
        limit, count = self.max_receive_count, message.known_receive_count
        if limit is None or count is None or count < limit:
            return
        fields = {"reason": reason, "receive_count": count, "max_receive_count": limit}
        fields.update(incident)
        if once and not self._first_to_count("MessagesDeadLettered", message):
            # Another copy of it in hand was given up and said: one message, one dead letter.
            log.debug("message.dead_lettered", copy=True, **fields)
            return
        self.metrics.incr("MessagesDeadLettered", reason=reason)
        log.warning("message.dead_lettered", **fields)

    def _count_given_back(self, messages: Iterable[Message], reason: str) -> None:
        """Count the messages a stop gives back undeleted that were on their last receive,
        once per message: two deliveries of one message in hand are one dead letter (the
        later receive, with the higher count, is the one SQS goes by). Under `reason`, but a
        message held through a wait, or being released after a failure, counts under that
        wait's or failure's reason, wherever the stop found it."""
        latest: dict[str, Message] = {}
        for message in messages:
            seen = latest.get(message.id)
            if seen is None or message.receive_count > seen.receive_count:
                latest[message.id] = message
        for message in latest.values():
            handle = message.receipt_handle
            failed_alert = self._failed_alerts.pop(handle, {})
            traceparent = message.attributes.get(TRACEPARENT_ATTRIBUTE)
            with (
                self.tracing.carried(traceparent, message.trace_header),
                structlog.contextvars.bound_contextvars(message_id=message.id),
            ):
                self._count_if_last(message, self._failed_for.get(handle, reason), failed_alert)

    async def _attempt(self, message: Message) -> list[Outcome]:
        """One pass of the handler. Its timeout restarts whenever the handler reports progress,
        so a large group that keeps moving is never cut off, while a stuck one is.

        The timeout is asyncio's (its cancellation and TimeoutError), expired by one timer
        shared by every attempt (`_check_deadlines`) rather than a timer of its own: in a storm
        each message's timer, pushed into and cancelled out of the loop's heap (and again at
        each progress), cost more than the rest of its wait. The shared timer is set for the
        earliest deadline, which a new attempt or a progress can only move later, so each
        attempt is still cut off when `message_timeout_s` has passed without progress."""
        timeout_s = self.config.message_timeout_s
        loop = asyncio.get_running_loop()
        async with asyncio.timeout(None) as deadline:
            deadlines = self._deadlines
            due = deadlines[deadline] = loop.time() + timeout_s
            if self._deadline_check is None:
                self._deadline_check = loop.call_at(due, self._check_deadlines, loop)

            def progress() -> None:
                if deadline in deadlines:  # not once it has been expired
                    deadlines[deadline] = loop.time() + timeout_s

            try:
                return await self.handler(message, progress)
            except TimeoutError as exc:
                if deadline.expired():
                    raise  # the deadline's cancellation, made a TimeoutError by a library
                # Raised by the work itself (the deadline's own is raised by the `async with`
                # above, from its cancellation): said as this timeout and where, not as "no
                # progress for message_timeout_s", which sent an operator to look for a hang.
                raise ForeignTimeoutError(
                    f"a timeout inside the work, not the message's deadline: {exc!r}"
                ) from exc
            finally:
                deadlines.pop(deadline, None)
                if not deadlines and len(self._working) <= 1:
                    # None left to watch, and no other message at work to start an attempt
                    # soon: no timer outlives the work (nor the daemon). Kept while others
                    # are at work: in a storm each attempt often ends before the next one
                    # starts, and a timer armed and cancelled per message cost more than
                    # the one that fires, finds nothing due, and is not set again.
                    self._stop_deadline_check()

    def _stop_deadline_check(self) -> None:
        """No attempt is watched: the shared timer (`_check_deadlines`) goes."""
        if self._deadline_check is not None:
            self._deadline_check.cancel()
            self._deadline_check = None

    def _check_deadlines(self, loop: asyncio.AbstractEventLoop) -> None:
        """Expire every attempt past its deadline (its `asyncio.timeout` cancels it and raises
        TimeoutError, as if its own timer had fired); then wait for the earliest deadline left.
        (The attempt it was set for may have finished or made progress since: then nothing
        is due yet, and it waits again.)"""
        self._deadline_check = None
        now = loop.time()
        deadlines = self._deadlines
        for deadline in [d for d, due in deadlines.items() if due <= now]:
            del deadlines[deadline]
            deadline.reschedule(now)
        if deadlines:
            earliest = min(deadlines.values())
            self._deadline_check = loop.call_at(earliest, self._check_deadlines, loop)

    async def _dry_run(self, message: Message) -> None:
        with structlog.contextvars.bound_contextvars(message_id=message.id):
            try:
                async with asyncio.timeout(self.config.message_timeout_s):
                    await self.handler(message, _ignore_progress)
            except Exception as exc:  # reported, never acted on: this is a dry run
                self._dry_run_failed(message, exc)
        # Held, still extended by the heartbeat, until shutdown releases it unchanged.
        self._dry_held[message.id] = message

    def _dry_run_failed(self, message: Message, exc: Exception) -> None:
        """Say a dry run's failure in one line, as a real run says its own: naming the alert
        it reached, and a bug at error with its traceback (`message.crashed`'s way), since a
        dry run is how an operator tries a new release before it takes real work."""
        if isinstance(exc, TriageError):
            reason = exc.reason
        else:
            reason = "timeout" if isinstance(exc, TimeoutError) else "bug"
        self.stats.remember(message.id, reason, str(exc))
        self.tracing.failed(exc)
        fields = {"reason": reason, "error": str(exc), **alert_fields(exc)}
        if reason == "bug":
            log.error("message.dry_run_failed", exc_info=exc, **fields)
        else:
            log.warning("message.dry_run_failed", **fields)

    async def _heartbeat(self) -> None:
        """Extend messages still being worked on before their visibility runs out, in batches.
        While the call is out, a release of one of them waits for it (`_release`)."""
        timeout_s = self.config.visibility_timeout_s
        # A message is extended at most half its timeout after the last extension (a quarter
        # between looks, a quarter of age to be due), so a busy loop or a slow SQS call still
        # has half the timeout of slack before the message would reappear.
        every_s = timeout_s / 4
        while True:
            await asyncio.sleep(max(0.2, every_s))
            now = time.monotonic()
            due = [m for m, extended in self._leases.values() if now - extended >= every_s]
            due = [m for m in due if m.receipt_handle in self._leases]
            if not due:
                continue
            call = asyncio.ensure_future(self._extend(self._extensions(due, timeout_s)))
            self._extension = call
            self._extending = frozenset(m.receipt_handle for m in due)
            try:
                await call
            finally:
                self._extension, self._extending = None, frozenset()
            for message in due:
                if message.receipt_handle in self._leases:
                    self._leases[message.receipt_handle] = (message, now)
            log.debug("heartbeat.extended", count=len(due), timeout_s=timeout_s)

    def _extensions(self, due: list[Message], timeout_s: int) -> dict[int, list[Message]]:
        """The extension each message in `due` gets, grouped by its timeout: `timeout_s`,
        or for one SQS would not hide that long (12 h from its receive) what is left of
        that, once. That one is said once at warning and left alone from then on: it shows
        again when the cap is reached, whatever we ask."""
        extensions: dict[int, list[Message]] = {}
        for message in due:
            hideable_s = _whole_s(self._hideable_s(message))
            if hideable_s >= timeout_s:
                extensions.setdefault(timeout_s, []).append(message)
                continue
            self._leases.pop(message.receipt_handle, None)
            log.warning(
                "message.visibility_capped",
                message_id=message.id,
                visible_in_s=hideable_s,
                max_visibility_s=MAX_VISIBILITY_S,
                **alert_named(message),
            )
            if hideable_s > 0:
                extensions.setdefault(hideable_s, []).append(message)
        return extensions

    async def _extend(self, extensions: dict[int, list[Message]]) -> None:
        """One visibility call per timeout (nearly always one: the capped are rare)."""
        for timeout_s, messages in extensions.items():
            await self.inbox.change_visibility(messages, timeout_s)


def _ignore_progress() -> None:
    """Dry runs keep the plain timeout: they do one pass and hold the message."""


def _acked_fields(outcomes: list[Outcome], incident: dict[str, object]) -> dict[str, object]:
    """The ack line names the incident(s) (`incident`, `_incident_fields` of `outcomes`):
    `fingerprint` and `source` for one alert, `fingerprints` for a group (Grafana,
    Alertmanager), none for a message without alerts (SNS confirmation)."""
    return {"actions": [str(o.action) for o in outcomes], **incident}


def _incident_fields(outcomes: list[Outcome]) -> dict[str, object]:
    """The incident(s) a message's work reached: for one alert its `fingerprint` and
    `source`, as every line of one alert names it; `fingerprints` for a group (whose alerts
    may each have their own source); none for a message without alerts."""
    if len(outcomes) == 1:
        only = outcomes[0]
        return {"fingerprint": only.fingerprint, "source": only.source}
    if outcomes:
        return {"fingerprints": [o.fingerprint for o in outcomes]}
    return {}
