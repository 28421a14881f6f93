"""Intake: receive only as many messages as there are free worker slots, and none while a held
message or an open breaker pauses it. An idle queue gets one long poll at a time, a backlog
short polls in parallel, each answer started as it comes; a failing receive backs off and
says so once; --drain stops the daemon once the queue is empty, or gives up on a queue that
keeps failing (`drain_max_failures`).

Apart from `working` so that how many to take, and when, reads in one place: nothing waits
invisible in a buffer, every message received is one a worker starts at once.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Awaitable

import structlog

from triage.aws import QUEUE_REFUSALS
from triage.errors import TransientError
from triage.health import REFUSED
from triage.sqs.holding import _BREAKER, _HELD, _backoff
from triage.sqs.inbox import MAX_BATCH, Message, told_code
from triage.sqs.working import Working

# Logged as the supervisor: its events keep the logger name they had before the split.
log = structlog.get_logger("triage.sqs.supervisor")


class Receiving(Working):
    """The receive loop, and what it asks of the queue."""

    #: How often intake is re-checked while paused by backpressure.
    PAUSE_POLL_S = 0.5
    #: Most receives in flight at once while draining a backlog into many free slots.
    MAX_PARALLEL_RECEIVES = 8
    #: The longest wait for a slot, or in a receive's backoff, before the loop turns again (and
    #: beats): every slot held by a message waiting out an outage is intake paused, and a
    #: backoff is a wait as configured, not a stuck loop.
    TURN_S = 5.0
    #: One turn may take a long poll (`wait_s`) plus this: the inbox's bound on an answer
    #: (`RECEIVE_SLACK_S`) and the wait for a slot, with room to spare. Past it, /healthz
    #: says intake is stalled.
    BEAT_SLACK_S = 45.0
    #: The longest a backlog's poll waits for a full batch of free slots before it asks for
    #: fewer (`_short_batch_wait_s`): a few workers' turns in a storm, and a small share of
    #: any model's latency for a new incident behind slots that stay taken.
    SHORT_BATCH_WAIT_S = 0.01
    #: When the free slots last fell short of a batch, while a backlog's poll waits for them.
    _short_since: float | None = None

    async def _receive_loop(self) -> None:
        failures = 0
        #: Long polls in a row that came back empty at once (not how SQS answers: backed off).
        early = 0
        #: The last answer came back full: the queue has a backlog worth several receives.
        backlog = False
        batch = min(MAX_BATCH, self.config.max_messages)
        try:
            while not self.should_exit.is_set():
                self.health.beat("intake", within_s=self.config.wait_s + self.BEAT_SLACK_S)
                if any(poll.done() for poll in self._polls):
                    got, errors, backlog = self._harvest()
                    if errors:
                        failures += 1
                        self._receive_failed(errors[0], failures)
                    elif got:
                        failures = self._receive_ok(failures)
                    elif await self._drained():
                        break
                    continue
                backoff_s = self._receive_after - time.monotonic()
                if backoff_s > 0:
                    # After a failed receive: the polls still out are started as they answer.
                    # A turn at a time, each beating: a backoff longer than the beat's promise
                    # (TRIAGE_RECEIVE_RETRY_MAX_S past the long poll plus BEAT_SLACK_S) is a
                    # wait as configured, not a stalled intake.
                    await self._slot_or_answer(min(backoff_s, self.TURN_S))
                    continue
                asking = sum(self._polls.values())
                free = self._free_slots() - asking
                if free <= 0:
                    # Receive only what we can start now: nothing waits invisible in a buffer.
                    await self._slot_or_answer(self.TURN_S)
                    continue
                limit = self._intake_limit() if self._intake_limit else None
                if limit is not None:
                    free = min(free, limit - len(self._working) - asking)
                held_s = self._hold_until - time.monotonic()
                self._note_pause(_HELD if held_s > 0 else _BREAKER if limit == 0 else None)
                if held_s > 0 or free <= 0:
                    # Leave messages in SQS, receive counts intact, until the wait is over (the
                    # polls still out are started as they answer).
                    await self._slot_or_answer(min(max(held_s, 0.05), self.PAUSE_POLL_S))
                    continue
                if backlog:
                    # Short polls, each sent as soon as a batch's worth of slots is free and each
                    # answer started as it comes, while the others are out: a slot never waits
                    # for a round of receives to end.
                    if len(self._polls) >= self.MAX_PARALLEL_RECEIVES or (
                        free < batch and self._polls
                    ):
                        await self._slot_or_answer(self.TURN_S)
                        continue
                    short_s = self._short_batch_wait_s(free, batch)
                    if short_s > 0:
                        await self._slot_or_answer(short_s)
                        continue
                    self._poll(min(batch, free))
                    continue
                if self._polls:
                    # The backlog's last polls are still out.
                    await self._slot_or_answer(self.TURN_S)
                    continue
                # An idle queue (or the first look): one poll at a time (SQS bills per call).
                wait_s = min(self.config.wait_s, 1) if self.config.drain else self.config.wait_s
                if limit is not None:
                    wait_s = min(wait_s, 1)  # probing: look at the breakers again soon
                per_call = min(batch, free)
                asked_at = time.monotonic()
                try:
                    messages = await self._until_exit(
                        self.inbox.receive(per_call, wait_s, self.config.visibility_timeout_s)
                    )
                except TransientError as exc:
                    failures += 1
                    self._receive_failed(exc, failures)
                    continue
                if messages is None:
                    break  # stop requested while polling
                failures = self._receive_ok(failures)
                backlog = len(messages) >= per_call
                for message in messages:
                    self._start(message)
                if not messages and wait_s == 0:
                    await self._sleep_unless_exit(0.1)  # short polling: don't spin on empty
                elif not messages and time.monotonic() - asked_at < wait_s / 2:
                    # A long poll answered empty at once: not how SQS behaves (a proxy answering
                    # 200 without messages, an endpoint that ignores the wait). Back off.
                    early += 1
                    delay = _backoff(early, 0.1, 5.0)
                    if early in (1, 10) or early % 100 == 0:
                        log.warning("receive.empty_at_once", times=early, wait_s=wait_s)
                    await self._sleep_unless_exit(delay)
                elif messages or early:
                    early = 0
                if not messages and await self._drained():
                    break
        finally:
            self._say_resumed()  # a pause that ended just before the stop
            await self._stop_polls()

    def _short_batch_wait_s(self, free: int, batch: int) -> float:
        """How much longer a backlog's poll waits for a full batch of free slots, none out:
        0 to send it now. In a storm the last answer's messages take all but a few slots,
        and a receive for those few (one in five, helper 531) costs a call's CPU for 1-9
        messages; the workers at work free the rest within moments. Bounded by
        `SHORT_BATCH_WAIT_S` from when the slots first fell short, so slots that stay taken
        (slow new incidents) never keep a new one waiting in the queue for long. A pool
        smaller than a batch waits for all its slots."""
        if free >= min(batch, self.config.concurrency) or not self._working:
            self._short_since = None
            return 0.0
        now = time.monotonic()
        if self._short_since is None:
            self._short_since = now
        left_s = self._short_since + self.SHORT_BATCH_WAIT_S - now
        if left_s <= 0:
            self._short_since = None
            return 0.0
        return left_s

    async def _stop_polls(self) -> None:
        """Cancel the polls still out. Those that had answered keep their messages, which are
        never started now: the shutdown gives them back at once. (What a cancelled poll had
        already taken in SQS reappears after its visibility timeout: nothing names it.)"""
        for poll in self._polls:
            poll.cancel()
        await asyncio.gather(*self._polls, return_exceptions=True)
        for poll in self._polls:
            self._unstarted += _answered(poll)
        self._polls.clear()

    def _poll(self, size: int) -> None:
        """Send a short poll for `size` messages; its slots count as taken until it answers."""
        poll = asyncio.ensure_future(self.inbox.receive(size, 0, self.config.visibility_timeout_s))
        self._polls[poll] = size
        poll.add_done_callback(lambda _: self._slot_free.set())

    def _harvest(self) -> tuple[int, list[TransientError], bool]:
        """Start the messages of the polls that answered: how many came, the polls' transient
        errors, and whether the backlog goes on (a poll came back full)."""
        got, errors, full = 0, [], False
        for poll in [p for p in self._polls if p.done()]:
            size = self._polls.pop(poll)
            error = poll.exception()
            if isinstance(error, TransientError):
                errors.append(error)
                continue
            if error is not None:
                raise error  # a bug, or cancellation: as an awaited receive would
            messages = poll.result()
            got += len(messages)
            full = full or len(messages) >= size
            for message in messages:
                self._start(message)
        return got, errors, full

    async def _slot_or_answer(self, timeout_s: float | None = None) -> None:
        """Wait until a worker slot frees, a poll answers, or `timeout_s` has passed."""
        self._slot_free.clear()
        if not any(poll.done() for poll in self._polls):
            # `asyncio.timeout` arms a timer on this task (~3 µs); `wait_for` with a timeout
            # would make a task of the wait each turn (~6 µs more).
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(timeout_s):
                    await self._slot_free.wait()

    def _receive_failed(self, exc: TransientError, failures: int) -> None:
        """Say why, and send no new receive for a backoff that grows with the failures in a
        row (`receive_retry_base_s`, 1 s, doubling, at most `receive_retry_max_s`, 30 s). An
        outage is one warning: a receive failing again for the same reason is debug, until one
        succeeds (`receive.recovered`)."""
        config = self.config
        delay = _backoff(failures, config.receive_retry_base_s, config.receive_retry_max_s)
        self._receive_after = time.monotonic() + delay
        code = told_code(exc)
        # Refused as not allowed (the role, the queue gone): /readyz says `refused`, as for a
        # refused delete or send, not `unreachable`, which sent an operator to the network.
        refused = f"{REFUSED}: {code}: " if code in QUEUE_REFUSALS else ""
        self.health.set("queue", False, refused + str(exc))
        error = str(exc)
        emit = log.debug if failures > 1 and error == self._receive_error else log.warning
        self._receive_error = error
        emit("receive.failed", error=error, failures=failures, retry_in_s=round(delay, 2))
        self._drain_fails_on(exc, "ReceiveMessage", failures)

    def _receive_ok(self, failures: int) -> int:
        """A receive answered: the queue is back, if it was failing (`failures` in a row,
        said once); the new count of failures in a row, 0."""
        self.health.set("queue", True)
        if failures:
            log.info("receive.recovered", failures=failures)
            self._receive_error = None
        return 0

    async def _drained(self) -> bool:
        """--drain: nothing came, nothing is held or asked for, and the queue is empty. Then
        the daemon stops."""
        if not self.config.drain or self._in_flight or self._polls:
            return False
        if not await self._queue_empty():
            return False
        log.info("daemon.drained")
        self.should_exit.set()
        return True

    def _drain_fails_on(self, exc: TransientError, call: str, failures: int) -> None:
        """--drain: `call` failed `failures` times in a row; at `drain_max_failures` the drain
        gives up: one error line naming the queue's code (`told_code`), and the daemon stops
        (what it holds is finished or given back as at any stop), for `serve()` to raise
        `DrainFailed`. An operator or CI waits on a drain: it must end, not back off forever."""
        if not self.config.drain or failures < self.config.drain_max_failures:
            return
        code = told_code(exc)
        log.error("drain.gave_up", call=call, failures=failures, code=code)
        self._drain_gave_up = (
            f"--drain gave up: {failures} {call} calls to the queue failed in a row "
            f"(the last: {code}); what is queued stays for a later run"
        )
        self.should_exit.set()
        self._slot_free.set()

    def _free_slots(self) -> int:
        """Worker slots free now. Messages waiting for their delete, or parked (held for a wait
        of their own, `Holding._park`), do not take a slot, but at most `concurrency` of them
        may be in hand: if SQS deletes fall behind, intake slows with them. Parked messages
        alone never fill it: past `concurrency` of them, a held message waits in the queue
        (`Holding._hold_queued`)."""
        concurrency = self.config.concurrency
        return min(concurrency - len(self._working), 2 * concurrency - len(self._in_flight))

    async def _until_exit(self, call: Awaitable[list[Message]]) -> list[Message] | None:
        """Await `call`, or cancel it as soon as shutdown starts (returns None then)."""
        receive = asyncio.ensure_future(call)
        stop = asyncio.ensure_future(self.should_exit.wait())
        try:
            await asyncio.wait({receive, stop}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            stop.cancel()
        if receive.done() and not self.should_exit.is_set():
            return receive.result()
        # Messages the cancelled poll had already taken reappear after their visibility timeout;
        # an answer that came with the stop (or in spite of the cancel) is not started: the
        # shutdown gives it back.
        receive.cancel()
        await asyncio.gather(receive, return_exceptions=True)
        self._unstarted += _answered(receive)
        return None

    async def _queue_empty(self) -> bool:
        """--drain: whether the queue says it is empty. A depth that fails (the answer
        after each empty receive) is one warning per reason while it fails, then debug, and
        the next receive (then depth) waits as after a failed receive, so the failures that
        make a drain give up (`drain_max_failures`) are spaced as the receives' are."""
        try:
            depth = await self.inbox.depth()
        except TransientError as exc:
            self._depth_failures += 1
            config = self.config
            delay = _backoff(
                self._depth_failures, config.receive_retry_base_s, config.receive_retry_max_s
            )
            self._receive_after = time.monotonic() + delay
            error = str(exc)
            emit = log.debug if error == self._depth_error else log.warning
            self._depth_error = error
            emit("drain.depth_failed", error=error, retry_in_s=round(delay, 2))
            self._drain_fails_on(exc, "GetQueueAttributes", self._depth_failures)
            return False
        self._depth_error = None
        self._depth_failures = 0
        if self.config.dry_run:  # what we hold is in flight by design
            return depth.visible == 0 and depth.delayed == 0
        return depth.empty


def _answered(poll: asyncio.Future[list[Message]]) -> list[Message]:
    """The messages of a finished poll that answered; none for one cancelled or failed."""
    if poll.cancelled() or poll.exception() is not None:
        return []
    return poll.result()
