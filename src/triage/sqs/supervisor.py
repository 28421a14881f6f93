"""The daemon's lifecycle: receive only as many messages as there are free workers, run each in
its own task, ack in batches, and stop in two timed stages on SIGTERM/SIGINT.

    startup ─► serve: receive ─► worker tasks (bounded) ─► ack/release ─► shutdown
                 ▲                                                      │
                 └── stop event (signal, --drain finding the queue empty, a crashed helper)

A signal only sets `should_exit`. Shutdown stops receiving at once (the pending long poll is
cancelled), gives in-flight messages `shutdown_grace_s` to finish (a second signal ends the
grace at once), then cancels the rest and gives their cancellation (which releases store claims)
at most `cancel_deadline_s` before it makes them visible again and returns. A cancelled message
is never acked.

A message whose handler says "wait" (`BackpressureError`: a rate limit, a spent budget, an open
breaker) is *held*: kept invisible by the heartbeat while intake pauses, then tried again, so
waiting never spends its receive count; one whose wait is its own (an incident another worker
holds: `pauses_intake` false) is held without pausing intake. So is a message the
store failed (`StoreUnavailableError`: locked, full, corrupt, unreachable, denied): the store's
fault is never the message's, so it is tried again after a wait that doubles up to
`STORE_HOLD_MAX_S`, while `/readyz` says `store: unavailable` and one line says why (and one
that it is back). Only past `max_hold_s` does a held message spend a receive. While no message
is held for the store, a ping (`store_probe`, every `STORE_PROBE_S`) watches it, so readiness
follows the store even when no traffic comes. The store is marked down by any failure (a
message's or a ping's) and up by a success only while nothing says otherwise (no message held
for it, the last ping answered), so readiness never flips with each message.

The helpers (heartbeat, acker, and the caller's: watchdog, metric flushers) run as tasks owned
here: a helper that crashes stops the daemon loudly (`DaemonCrashed`) instead of letting
messages expire unnoticed.
"""

from __future__ import annotations

import asyncio
import contextlib
import signal
import threading
import time
from collections.abc import Awaitable

import structlog

from triage.errors import (
    TransientError,
)
from triage.sqs.base import Handler, Helper, Progress, Stats, SupervisorConfig
from triage.sqs.holding import _BREAKER, _HELD, _backoff
from triage.sqs.inbox import MAX_BATCH, Message
from triage.sqs.working import Working

#: Other modules import these from here, wherever they are defined.
__all__ = [
    "DaemonCrashed",
    "Handler",
    "Helper",
    "Progress",
    "Stats",
    "Supervisor",
    "SupervisorConfig",
]

log = structlog.get_logger(__name__)


class DaemonCrashed(Exception):
    """Raised by `serve()` after a clean shutdown when a helper task crashed."""


class Supervisor(Working):
    #: How often intake is re-checked while paused by backpressure.
    PAUSE_POLL_S = 0.5
    #: Most receives in flight at once while draining a backlog into many free slots.
    MAX_PARALLEL_RECEIVES = 8

    # --- Lifecycle -------------------------------------------------------------------------

    async def serve(self) -> None:
        """Run until a signal (or --drain) says stop; return after a clean shutdown, or raise
        DaemonCrashed after it if a helper crashed."""
        self._install_signal_handlers()
        for name, run in self._helper_specs():
            task = asyncio.create_task(run(), name=name)
            self._helpers[task] = name
            task.add_done_callback(self._helper_done)
        log.info("daemon.started", concurrency=self.config.concurrency, drain=self.config.drain)
        try:
            await self._receive_loop()
        finally:
            try:
                await self._shutdown()
                await self._release_dry_held()
                await self._stop_helpers()
            finally:
                self._remove_signal_handlers()
            log.info("daemon.stopped", **self._counters())
        if self._crashed:
            raise DaemonCrashed(f"{', '.join(self._crashed)} crashed; see daemon.helper_crashed")

    def _helper_specs(self) -> tuple[Helper, ...]:
        """The helpers `serve()` starts, in order: ours (the heartbeat, the acker, and the
        store's probe when there is one), then the caller's."""
        return (
            ("heartbeat", self._heartbeat),
            ("acker", self._acker.run),
            *((("store_probe", self._probe_store),) if self._store_probe else ()),
            *self._caller_helpers,
        )

    def _counters(self) -> dict[str, int]:
        """The stats, then every counter: summed over its dimensions, and per `sink`."""
        counters: dict[str, int] = {
            "received": self.stats.received,
            "acked": self.stats.acked,
            "retried": self.stats.retried,
            "rejected": self.stats.rejected,
            "held": self.stats.held,
            "released_on_shutdown": self.stats.released_on_shutdown,
            "delete_failed": self.stats.delete_failed,
        }
        for (name, dims), value in sorted(self.metrics.counters().items()):
            counters[name] = counters.get(name, 0) + int(value)
            sink = dict(dims).get("sink")
            if sink is not None:
                key = f"{name}.{sink}"
                counters[key] = counters.get(key, 0) + int(value)
        return counters

    def _install_signal_handlers(self) -> None:
        if threading.current_thread() is not threading.main_thread():
            return  # signals can only be handled on the main thread (tests run us elsewhere)
        loop = asyncio.get_running_loop()
        # SIGHUP too: a closed terminal (or a supervisor that sends it) stops us cleanly.
        for sig in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
            loop.add_signal_handler(sig, self.handle_exit, sig)
            self._signals.append(sig)

    def _remove_signal_handlers(self) -> None:
        loop = asyncio.get_running_loop()
        for sig in self._signals:
            loop.remove_signal_handler(sig)
        self._signals.clear()

    def handle_exit(self, sig: signal.Signals) -> None:
        """A signal only sets flags: the first starts the shutdown, a second ends its grace."""
        if self.should_exit.is_set():
            self.force_exit.set()
        log.info("daemon.signal", signal=sig.name, force=self.force_exit.is_set())
        self.should_exit.set()
        self._slot_free.set()

    def _helper_done(self, task: asyncio.Task[None]) -> None:
        name = self._helpers.get(task, task.get_name())
        if task.cancelled():
            return
        error = task.exception()
        if error is None and self.should_exit.is_set():
            return  # it finished because we are stopping
        self._crashed.append(name)
        log.error(
            "daemon.helper_crashed",
            helper=name,
            error=repr(error) if error else "returned while the daemon ran",
            exc_info=error,
        )
        self.should_exit.set()
        self._slot_free.set()

    #: How long the acker may take to send the deletes still queued at shutdown.
    ACKER_STOP_S = 1.0

    async def _stop_helpers(self) -> None:
        """The acker sends what is queued first (briefly: undeleted messages only come back as
        repeats); the others are cancelled, last started first."""
        await self._acker.stop()
        acker = next((t for t, name in self._helpers.items() if name == "acker"), None)
        if acker is not None:
            await asyncio.wait({acker}, timeout=self.ACKER_STOP_S)
        for task in reversed(list(self._helpers)):
            task.cancel()
        await asyncio.gather(*self._helpers, return_exceptions=True)

    # --- Receiving -------------------------------------------------------------------------

    async def _receive_loop(self) -> None:
        failures = 0
        #: Long polls in a row that came back empty at once (not how SQS answers: backed off).
        early = 0
        #: The last answer came back full: the queue has a backlog worth several receives.
        backlog = False
        batch = min(MAX_BATCH, self.config.max_messages)
        try:
            while not self.should_exit.is_set():
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
                    await self._slot_or_answer(backoff_s)
                    continue
                asking = sum(self._polls.values())
                free = self._free_slots() - asking
                if free <= 0:
                    # Receive only what we can start now: nothing waits invisible in a buffer.
                    await self._slot_or_answer()
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
                    if len(self._polls) < self.MAX_PARALLEL_RECEIVES and (
                        free >= batch or not self._polls
                    ):
                        self._poll(min(batch, free))
                    else:
                        await self._slot_or_answer()
                    continue
                if self._polls:
                    await self._slot_or_answer()  # the backlog's last polls are still out
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
            # Messages a cancelled poll had already taken reappear after their visibility timeout.
            for poll in self._polls:
                poll.cancel()
            await asyncio.gather(*self._polls, return_exceptions=True)
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
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._slot_free.wait(), timeout_s)

    def _receive_failed(self, exc: TransientError, failures: int) -> None:
        """Say why, and send no new receive for a backoff that grows with the failures in a
        row (1 s, doubling, at most 30 s). An outage is one warning: a receive failing again
        for the same reason is debug, until one succeeds (`receive.recovered`)."""
        delay = _backoff(failures, 1.0, 30.0)
        self._receive_after = time.monotonic() + delay
        self.health.set("queue", False, str(exc))
        error = str(exc)
        emit = log.debug if failures > 1 and error == self._receive_error else log.warning
        self._receive_error = error
        emit("receive.failed", error=error, failures=failures, retry_in_s=round(delay, 2))

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

    def _free_slots(self) -> int:
        """Worker slots free now. Messages waiting for their delete do not take a slot, but at
        most `concurrency` of them may wait: if SQS deletes fall behind, intake slows with them."""
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
        if receive.done():
            return receive.result()
        # Messages the cancelled poll had already taken reappear after their visibility timeout.
        receive.cancel()
        await asyncio.gather(receive, return_exceptions=True)
        return None

    async def _queue_empty(self) -> bool:
        try:
            depth = await self.inbox.depth()
        except TransientError as exc:
            log.warning("drain.depth_failed", error=str(exc))
            return False
        if self.config.dry_run:  # what we hold is in flight by design
            return depth.visible == 0 and depth.delayed == 0
        return depth.empty

    # --- Shutdown --------------------------------------------------------------------------

    async def _release_dry_held(self) -> None:
        held = list(self._dry_held.values())
        await self.inbox.change_visibility(held, 0)
        for message in held:
            self._leases.pop(message.receipt_handle, None)
        self._dry_held.clear()
        if held:
            log.info("daemon.dry_run_released", count=len(held))

    async def _shutdown(self) -> None:
        """Stage one: wait up to the grace for in-flight messages (a second signal ends it).
        Stage two: cancel the rest, give the cancellation at most `cancel_deadline_s`, then
        make those messages visible again; never more than that, whatever the store does."""
        # Not ready from the first moment of the drain: it takes no new work.
        self.health.set("shutting_down", False, "draining")
        if self._in_flight and not self.force_exit.is_set():
            log.info(
                "daemon.draining",
                in_flight=len(self._in_flight),
                grace_s=self.config.shutdown_grace_s,
            )
            await self._grace(self.config.shutdown_grace_s)
        leftovers = dict(self._in_flight)
        if not leftovers:
            return
        reason = "second signal" if self.force_exit.is_set() else "shutdown grace exceeded"
        stage_end = time.monotonic() + self.config.cancel_deadline_s
        for task in leftovers:
            task.cancel(reason)
        # Two thirds of the stage for the cancellations, the rest for the visibility calls.
        _, stuck = await asyncio.wait(leftovers, timeout=self.config.cancel_deadline_s * 2 / 3)
        if stuck:
            # Their store claims stay until their lease ends; another worker then redoes them.
            log.warning(
                "daemon.cancel_overran",
                count=len(stuck),
                deadline_s=self.config.cancel_deadline_s,
            )
        messages = list(leftovers.values())
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(max(stage_end - time.monotonic(), 0.5)):
                await self.inbox.change_visibility(messages, 0)
        self.stats.released_on_shutdown += len(messages)
        log.warning("daemon.released", count=len(messages), reason=reason)

    async def _grace(self, grace_s: float) -> None:
        """Wait until nothing is in flight, the grace is over, or a second signal came."""
        deadline = time.monotonic() + grace_s
        force = asyncio.ensure_future(self.force_exit.wait())
        try:
            while self._in_flight and not force.done():
                left_s = deadline - time.monotonic()
                if left_s <= 0:
                    break
                await asyncio.wait(
                    {*self._in_flight, force}, timeout=left_s, return_when=asyncio.FIRST_COMPLETED
                )
        finally:
            force.cancel()
