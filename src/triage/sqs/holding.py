"""What becomes of a message that must wait or failed: *held* (kept invisible by the
heartbeat while intake pauses, or while intake goes on when the wait is its own, such as a
notification sink's outage, a group gathering or a busy record; then tried again, so waiting
never spends a receive) or *released* for a later receive after its backoff, each with the
one line that says why. Also the pause of intake that holds cause (as long as one of them is
in progress), and the backoff formula the receive loop shares.

Apart from `working`, which names the failure (by the error tree), so that what follows it
reads in one place beside the lines it writes.
"""

from __future__ import annotations

import asyncio
import math
import random
import time
from collections.abc import Sequence

import structlog

from triage.breaker import opened_by, wake_of
from triage.errors import (
    GatheringError,
    StoreBusyError,
    StoreUnavailableError,
    TransientError,
)
from triage.pipeline import alert_fields
from triage.sinks.guard import BREAKER_OPEN
from triage.sqs.base import SupervisorBase
from triage.sqs.inbox import MAX_VISIBILITY_S, Message

# Logged as the supervisor: its events keep the logger name they had before the split.
log = structlog.get_logger("triage.sqs.supervisor")

#: How often a parked message waiting for a worker slot looks again (`_unpark`), at most.
_UNPARK_LOOK_S = 0.5

#: Why intake pauses, as `intake.paused` says it.
_HELD = "a message is held: a service or budget said wait, or the store failed"
_BREAKER = "a sink whose outage pauses intake is out or rate-limited"


class Holding(SupervisorBase):
    """Holding a message through a wait, releasing it for a retry, and pausing intake."""

    #: The heartbeat's extension call while it is out, and the deliveries (receipt handles)
    #: it extends: a release of one of them waits for its answer (`_release`).
    _extension: asyncio.Future[None] | None = None
    _extending: frozenset[str] = frozenset()
    #: The queue's maxReceiveCount, None while unknown (see `Working.max_receive_count`).
    max_receive_count: int | None
    #: Messages parked (`_park`): held for a wait of their own, in hand without a worker slot.
    _parked: int = 0
    #: Holds in progress that pause intake: the pause (`_hold_until`, the latest end any of
    #: them was given) ends when the last of them does (`_pausing_hold_over`).
    _pausing_holds: int = 0

    async def _hold(
        self,
        message: Message,
        exc: TransientError,
        held_since: float,
        wait_s: float | None,
        pauses_intake: bool = True,
    ) -> bool:
        """Keep `message` (the heartbeat extends it) for `wait_s` (None: DEFAULT_HOLD_S),
        pausing intake meanwhile unless the wait is this message's alone; True to try it again.
        Past `max_hold_s` or SQS's 12 h (`_hold_limit`), or when the daemon stops, it is
        released for that wait instead (False)."""
        if self._given_up(message, exc):
            return False
        wait_s = max(wait_s if wait_s is not None else self.DEFAULT_HOLD_S, 0.05)
        until = time.monotonic() + wait_s
        limit = self._hold_limit(message, until - held_since, wait_s)
        if limit is not None:
            # An outage that says itself (`store.unavailable`, `breaker.opened`) would add a
            # warning per message it held this long; its release is info, with `held_s`.
            quiet = not _held_is_news(exc)
            held_s = round(time.monotonic() - held_since, 1)
            await self._retry_later(
                message,
                exc.reason,
                str(exc),
                wait_s,
                exc,
                held_s=held_s if quiet else None,
                hold_limit=limit,
            )
            return False
        if pauses_intake:
            # Ended in the `finally` below however the hold ends: a pausing hold awaits
            # nothing before it.
            if not self._pausing_holds and (
                self._paused_since is None
                or time.monotonic() - self._pause_ended_at > self.PAUSE_GAP_S
            ):
                self._paused_since = time.monotonic()  # a new pause (`_intake_held`)
            self._pausing_holds += 1
            self._hold_until = max(self._hold_until, until)
            self._note_pause(_HELD)
            self._pause_holds += 1
        # A wait that is this message's own (a sink's outage, a group gathering, a busy
        # record) gives the worker slot back while it lasts, so as many of them as there are
        # workers never stop intake; past what may be parked in hand, the message waits in
        # the queue instead.
        own_wait = not pauses_intake
        if own_wait and self._parked >= self.config.concurrency and self._may_wait_queued(message):
            await self._hold_queued(message, exc, wait_s)
            return False
        parked = own_wait and self._park()
        self.stats.held += 1
        self.metrics.incr("MessagesHeld", reason=exc.reason)
        # In a storm every message is held for the same cause: the first held says why, the
        # others (while it is still held) at debug.
        holding = self._holding.get(exc.reason, 0)
        emit = log.debug if holding else log.warning if _held_is_news(exc) else log.info
        emit(
            "message.held",
            reason=exc.reason,
            error=str(exc),
            retry_in_s=round(wait_s, 2),
            **alert_fields(exc),
        )
        self._holding[exc.reason] = holding + 1
        # Kept if a stop cancels this task (its release hanging past the grace): the stop
        # then counts it under this reason, as it would have been had the release returned.
        self._failed_for[message.receipt_handle] = exc.reason
        try:
            try:
                await self._hold_wait(message, wait_s, wake_of(exc))
            finally:
                self._holding[exc.reason] -= 1
                if not self._holding[exc.reason]:
                    del self._holding[exc.reason]
                if pauses_intake:
                    self._pausing_hold_over()
            if parked and not await self._unpark(message, exc, held_since):
                return False
        finally:
            if parked:
                self._parked -= 1
        if self._given_up(message, exc):
            return False
        if self.should_exit.is_set():
            # Hidden for what is left of the wait, so no replica runs into it again at once.
            left_s = max(0.0, until - time.monotonic())
            await self._release([message], math.ceil(left_s))
            self.stats.released_on_shutdown += 1
            log.info(
                "message.released",
                reason="shutdown while held",
                hidden_s=math.ceil(left_s),
                **alert_fields(exc),
            )
            return False
        self._failed_for.pop(message.receipt_handle, None)
        return True

    def _pausing_hold_over(self) -> None:
        """A hold that paused intake ended: its wait was over, or it was cut short (the
        breaker that refused its message closed, SQS said its delivery is lost, the daemon
        stops). When no other is in progress, the pause ends now, not when the longest wait
        one of them was given would have (the receive loop is woken to look again); while
        another is, intake stays paused, for as long as that one was told to wait at most."""
        self._pausing_holds -= 1
        if not self._pausing_holds:
            self._pause_ended_at = time.monotonic()
            self._hold_until = 0.0
            self._slot_free.set()

    def _park(self) -> bool:
        """Give the current task's worker slot back while its message is held for a wait of
        its own (a notification sink's outage, a group gathering its members, an incident
        busy with another worker's effect): other messages take the slot meanwhile, instead
        of every slot ending up held by such waits while intake waits for a slot. A parked
        message is still in hand (`_in_flight`, extended by the heartbeat), and at most
        `concurrency` of those beyond the slots may be (`Receiving._free_slots`): so at most
        `concurrency` are parked (`_parked`), the others held in the queue (`_hold_queued`),
        and intake goes on. True when it gave a slot back."""
        task = asyncio.current_task()
        if task is None or task not in self._working:
            return False
        self._working.discard(task)
        self._parked += 1
        self._slot_free.set()
        return True

    def _may_wait_queued(self, message: Message) -> bool:
        """Whether `message` may wait out its hold in the queue: its return is one more
        receive, so not when that could be its last (the redrive policy would move it to the
        DLQ at a later failure it could otherwise retry), nor when its count is unknown
        against a known policy. Such a message is parked in hand past the cap instead."""
        limit, count = self.max_receive_count, message.known_receive_count
        if limit is None:
            return True
        return count is not None and count + 1 < limit

    async def _hold_queued(self, message: Message, exc: TransientError, wait_s: float) -> None:
        """Hold `message` for `wait_s` in the queue rather than in hand: hidden that long
        (ChangeMessageVisibility), as held as a parked message is (MessagesHeld, one
        `message.held` line per reason, the others at debug), not a failed attempt (no
        MessagesFailed, no backoff): its next receive tries it again."""
        hidden_s = min(math.ceil(wait_s), MAX_VISIBILITY_S, _whole_s(self._hideable_s(message)))
        self.stats.held += 1
        self.metrics.incr("MessagesHeld", reason=exc.reason)
        emit = log.debug if self._holding.get(exc.reason) else log.info
        emit(
            "message.held",
            reason=exc.reason,
            error=str(exc),
            retry_in_s=hidden_s,
            in_queue=True,
            **alert_fields(exc),
        )
        self._failed_for[message.receipt_handle] = exc.reason  # see `_hold`
        await self._release([message], hidden_s)

    async def _unpark(self, message: Message, exc: TransientError, held_since: float) -> bool:
        """Take a worker slot again for the parked task, once one is free (or the daemon
        stops: then the message is released, not worked). True once it has one; False when
        the wait for it reached `max_hold_s` or SQS's 12 h (`_hold_limit`): the message is
        released then, as a hold that long is."""
        while len(self._working) >= self.config.concurrency and not self.should_exit.is_set():
            held_s = time.monotonic() - held_since
            limit = self._hold_limit(message, held_s, _UNPARK_LOOK_S)
            if limit is not None:
                await self._retry_later(
                    message, exc.reason, str(exc), None, exc,
                    held_s=round(held_s, 1), hold_limit=limit,
                )  # fmt: skip
                return False
            self._slot_free.clear()
            waits = {
                asyncio.ensure_future(self._slot_free.wait()),
                asyncio.ensure_future(self.should_exit.wait()),
            }
            try:
                # Bounded: the receive loop clears the same event, and may clear it first.
                await asyncio.wait(
                    waits, timeout=_UNPARK_LOOK_S, return_when=asyncio.FIRST_COMPLETED
                )
            finally:
                for wait in waits:
                    wait.cancel()
        task = asyncio.current_task()
        if task is not None:
            self._working.add(task)
        return True

    async def _hold_wait(
        self, message: Message, wait_s: float, ready: asyncio.Event | None = None
    ) -> None:
        """Wait `wait_s`, less if the daemon stops, SQS says the delivery is lost, or `ready`
        is set (the breaker that refused the message lets calls through again)."""
        woken = self._hold_wakers[message.receipt_handle] = asyncio.Event()
        waits = {
            asyncio.ensure_future(self.should_exit.wait()),
            asyncio.ensure_future(woken.wait()),
        }
        if ready is not None:
            waits.add(asyncio.ensure_future(ready.wait()))
        try:
            await asyncio.wait(waits, timeout=wait_s, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for wait in waits:
                wait.cancel()
            self._hold_wakers.pop(message.receipt_handle, None)

    def _delivery_lost(self, message: Message) -> None:
        """SQS said it no longer holds `message`'s delivery (`Message.on_lost`): another
        replica deleted it or holds it now, or anyone may receive it again. Nothing here
        extends or releases it from now on, and a hold of it ends (`_given_up`); work on it
        already under way goes on (cut off, it could leave an effect half made)."""
        handle = message.receipt_handle
        if handle not in self._deliveries_in_flight:
            return  # out of hand already
        self._lost_deliveries.add(handle)
        self._leases.pop(handle, None)
        waker = self._hold_wakers.get(handle)
        if waker is not None:
            waker.set()

    def _given_up(self, message: Message, exc: TransientError) -> bool:
        """Whether `message`'s delivery is lost, so this replica gives it up: tried again
        here, it would be worked twice, here and by whoever has it now. The warning was SQS's
        refusal (`message.visibility_failed`); this line says what became of the message."""
        if message.receipt_handle not in self._lost_deliveries:
            return False
        log.info(
            "message.delivery_lost", reason=exc.reason, message_id=message.id, **alert_fields(exc)
        )
        self.stats.lost += 1
        return True

    def _hold_limit(self, message: Message, held_s: float, wait_s: float) -> str | None:
        """The limit a hold that ends `held_s` after it began, `wait_s` from now, would pass:
        `max_hold_s`, or `sqs_visibility_max` when the heartbeat could not keep the message
        hidden that long (12 h from its receive, less a visibility timeout for the beats
        between), so SQS would show it again mid-hold; None within both."""
        if held_s > self.config.max_hold_s:
            return "max_hold_s"
        if wait_s > self._hideable_s(message) - self.config.visibility_timeout_s:
            return "sqs_visibility_max"
        return None

    async def _retry_later(
        self,
        message: Message,
        reason: str,
        error: str,
        retry_after_s: float | None,
        exc: BaseException,
        *,
        held_s: float | None = None,
        hold_limit: str | None = None,
    ) -> None:
        """Release `message` for a later receive, after its backoff (or what the service
        asked), with the one line that says why: `message.retry`, or for a bug (`reason`
        "bug") `message.crashed` with the traceback. When the failure is the one that opened
        a breaker, `breaker.opened` is the line at warning and `message.retry` is info; so is
        a message released after `held_s` of an outage whose own line said it. A message
        released from a hold names the limit it reached (`hold_limit`)."""
        # A count SQS did not say backs off as a first attempt's: the shortest wait.
        attempt = message.known_receive_count or 1
        delay = _backoff(attempt, self.config.retry_base_s, self.config.retry_max_s)
        if retry_after_s is not None:
            delay = max(delay, retry_after_s)  # the service said when to come back
        # Rounded up (a message must not come back before the time it was told to wait), but
        # never past what SQS lets this delivery stay hidden: it would refuse the change.
        hidden_s = min(math.ceil(delay), MAX_VISIBILITY_S, _whole_s(self._hideable_s(message)))
        self._failed_for[message.receipt_handle] = reason  # see `_hold`
        self.stats.retried += 1
        self.stats.remember(message.id, reason, error)
        self.metrics.incr("MessagesFailed", reason=reason)
        self.tracing.failed(exc)
        fields = {
            "reason": reason,
            "error": error,
            "receive_count": message.known_receive_count,
            "retry_in_s": hidden_s,
            **alert_fields(exc),
        }
        if hold_limit is not None:
            fields["hold_limit"] = hold_limit
        opened = opened_by(exc)
        if reason == "bug":
            log.error("message.crashed", exc_info=exc, **fields)
        elif opened is not None:
            log.info("message.retry", breaker=opened, **fields)
        elif held_s is not None:
            log.info("message.retry", held_s=held_s, **fields)
        else:
            log.warning("message.retry", **fields)
        await self._release([message], hidden_s)

    async def _release(self, messages: Sequence[Message], timeout_s: int) -> None:
        """Make `messages` visible again in `timeout_s` (0: at once). The heartbeat leaves
        them alone from now on, and the call goes out only once an extension of theirs
        already out is answered: SQS applies calls as they arrive, and the extension landing
        second would hide them again for the whole visibility timeout."""
        for message in messages:
            self._stop_extending(message)
        await self._extension_answered(messages)
        # A delivery no longer ours cannot be released: SQS would refuse its stale handle.
        ours = [m for m in messages if m.receipt_handle not in self._lost_deliveries]
        if ours:
            await self.inbox.change_visibility(ours, timeout_s)

    async def _extension_answered(self, messages: Sequence[Message]) -> None:
        """Wait until the heartbeat's extension call, if one is out and extends any of
        `messages`, is answered (or has failed). Never cancels that call."""
        call = self._extension
        if call is None or call.done():
            return
        if any(message.receipt_handle in self._extending for message in messages):
            await asyncio.wait({call})

    def _stop_extending(self, message: Message) -> None:
        """The heartbeat leaves `message` alone from now on: it is being released, and an
        extension SQS took after the release would hide it again for the full timeout."""
        self._leases.pop(message.receipt_handle, None)

    def _note_pause(self, reason: str | None) -> None:
        """Intake is paused for `reason`, or not (None). One pause is one `intake.paused` line
        and one `intake.resumed` line: a pause that starts within PAUSE_GAP_S of the last
        one's end continues it (its message tried again and held anew), so its end is said
        once that gap has passed with none (`_say_resumed`), with how long it lasted and how
        many holds it took; a 1 s Retry-After said for an hour is two lines, not 7,200."""
        if (reason is None) != (self._paused is None):
            if reason is not None:
                self._pause_begins(reason)
            else:
                self._pause_over_at = time.monotonic()
                self._say_resumed_later()
        self._paused = reason

    def _pause_begins(self, reason: str) -> None:
        now = time.monotonic()
        if self._pause_timer is not None:
            self._pause_timer.cancel()
            self._pause_timer = None
        over_at = self._pause_over_at
        if over_at is not None and now - over_at <= self.PAUSE_GAP_S:
            self._pause_over_at = None  # the same pause goes on
            return
        self._say_resumed()  # the last pause's end, if its timer has not said it yet
        self._pause_started, self._pause_holds = now, 0
        # A state, not a failure: the held message (`message.held`) or the opened breaker
        # (`breaker.opened`) said why at warning.
        log.info("intake.paused", reason=reason)

    def _say_resumed_later(self) -> None:
        """Say the pause's end once PAUSE_GAP_S has passed without another (`_say_resumed`)."""
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:  # no loop to wait on: said now
            self._say_resumed()
            return
        self._pause_timer = loop.call_later(self.PAUSE_GAP_S, self._say_resumed)

    def _say_resumed(self) -> None:
        """`intake.resumed` for the pause that ended (if one did and is not said yet): also
        when the daemon stops within PAUSE_GAP_S of its end, so no pause is left open."""
        if self._pause_timer is not None:
            self._pause_timer.cancel()
            self._pause_timer = None
        started, over_at = self._pause_started, self._pause_over_at
        if started is None or over_at is None:
            return
        self._pause_started = self._pause_over_at = None
        log.info("intake.resumed", paused_s=round(over_at - started, 2), holds=self._pause_holds)


def _held_is_news(exc: TransientError) -> bool:
    """Whether the first `message.held` of a reason is the line that says why (at warning):
    a service said wait. Not when the wait is the daemon's own work (a group gathering its
    members, another worker's effect), nor an outage that its own line says once: the
    store's (`store.unavailable`) or a sink's whose breaker is open (`breaker.opened`)."""
    if isinstance(exc, GatheringError | StoreBusyError | StoreUnavailableError):
        return False
    return exc.reason != BREAKER_OPEN


def _whole_s(seconds: float) -> int:
    """`seconds` rounded down to whole seconds, 0 when negative: what may be asked of SQS."""
    return max(0, math.floor(seconds))


def _backoff(attempt: int, base_s: float, max_s: float) -> float:
    """Exponential backoff with jitter: between half and all of base * 2**(attempt-1), capped."""
    ceiling = min(max_s, base_s * 2 ** max(0, min(attempt - 1, 30)))
    return random.uniform(ceiling / 2, ceiling)
