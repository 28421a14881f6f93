"""The daemon's lifecycle: receive only as many messages as there are free workers, run each in
its own task, ack in batches, and stop in two timed stages on SIGTERM/SIGINT.

    startup ─► serve: receive ─► worker tasks (bounded) ─► ack/release ─► shutdown
                 ▲                                                      │
                 └── stop event (signal, --drain finding the queue empty)

A signal only sets `should_exit`. Shutdown stops receiving at once (the pending long poll is
cancelled), gives in-flight messages `shutdown_grace_s` to finish, then cancels the rest and
makes them visible again. A cancelled message is never acked. A second SIGINT exits at once.
"""

from __future__ import annotations

import asyncio
import contextlib
import math
import random
import signal
import threading
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime

import structlog

from triage.errors import PermanentError, TransientError, TriageError
from triage.health import Health
from triage.inbox import Inbox, Message
from triage.lifecycle import Outcome
from triage.metrics import Metrics

log = structlog.get_logger(__name__)

Handler = Callable[[Message], Awaitable[list[Outcome]]]


@dataclass(frozen=True, slots=True)
class SupervisorConfig:
    concurrency: int = 16
    max_messages: int = 10
    wait_s: int = 20
    shutdown_grace_s: float = 25.0
    retry_base_s: float = 2.0
    retry_max_s: float = 300.0
    #: Messages are received hidden for this long and extended by the heartbeat while worked on.
    visibility_timeout_s: int = 60
    #: After this long a message's work is cancelled and the message retried later.
    message_timeout_s: float = 600.0
    #: Exit once the queue is empty and nothing is in flight.
    drain: bool = False
    #: Never ack or release during the run: each message is held (extended by the heartbeat)
    #: after one pass, so it is neither reprocessed nor pushed towards the DLQ, and released
    #: at shutdown.
    dry_run: bool = False


@dataclass(slots=True)
class _Failure:
    reason: str
    error: str


@dataclass(slots=True)
class Stats:
    """What happened to messages, for the shutdown counters line and the demo's report."""

    received: int = 0
    acked: int = 0
    retried: int = 0
    rejected: int = 0
    released_on_shutdown: int = 0
    #: Last failure per message id (bounded), so a report can say why a message left.
    failures: dict[str, _Failure] = field(default_factory=dict)

    def remember(self, message_id: str, reason: str, error: str) -> None:
        if len(self.failures) >= 10_000:
            self.failures.pop(next(iter(self.failures)))
        self.failures[message_id] = _Failure(reason, error)


#: The longest visibility timeout SQS accepts.
SQS_MAX_VISIBILITY_S = 43_200


class Supervisor:
    #: How often intake is re-checked while paused by backpressure.
    PAUSE_POLL_S = 0.5
    #: Most receives in flight at once while draining a backlog into many free slots.
    MAX_PARALLEL_RECEIVES = 8

    def __init__(
        self,
        config: SupervisorConfig,
        inbox: Inbox,
        handler: Handler,
        metrics: Metrics,
        *,
        should_exit: asyncio.Event | None = None,
        health: Health | None = None,
        intake_limit: Callable[[], int | None] | None = None,
    ) -> None:
        self.config = config
        self.inbox = inbox
        self.handler = handler
        self.metrics = metrics
        self.stats = Stats()
        self.health = health or Health()
        #: Set by a signal, by --drain, or by an embedding program (the demo) to stop.
        self.should_exit = should_exit or asyncio.Event()
        self._force_exit = False
        #: Every message we hold, from receive until its delete is confirmed (or it is released).
        self._in_flight: dict[asyncio.Task[None], Message] = {}
        #: The part of those still being processed: these fill the worker slots. A processed
        #: message waiting for its batched delete has given its slot back.
        self._working: set[asyncio.Task[None]] = set()
        #: Messages still being worked on, with when their visibility was last extended.
        self._leases: dict[str, tuple[Message, float]] = {}
        #: --dry-run: messages already handled once, held until shutdown.
        self._held: dict[str, Message] = {}
        self._slot_free = asyncio.Event()
        self._acker = Acker(inbox)
        #: Backpressure from the sinks: how many messages may be in flight (None: no limit).
        self._intake_limit = intake_limit
        self._paused = False

    # --- Lifecycle -------------------------------------------------------------------------

    async def serve(self) -> None:
        """Run until a signal (or --drain) says stop; returns after a clean shutdown."""
        self._install_signal_handlers()
        acker = asyncio.create_task(self._acker.run(), name="acker")
        heartbeat = asyncio.create_task(self._heartbeat(), name="heartbeat")
        log.info("daemon.started", concurrency=self.config.concurrency, drain=self.config.drain)
        try:
            await self._receive_loop()
        finally:
            await self._shutdown()
            await self._release_held()
            heartbeat.cancel()
            await asyncio.gather(heartbeat, return_exceptions=True)
            await self._acker.stop()
            await acker
            log.info(
                "daemon.stopped",
                received=self.stats.received,
                acked=self.stats.acked,
                retried=self.stats.retried,
                rejected=self.stats.rejected,
                released_on_shutdown=self.stats.released_on_shutdown,
                **{name: int(v) for (name, dims), v in self.metrics.counters().items() if not dims},
            )

    def _install_signal_handlers(self) -> None:
        if threading.current_thread() is not threading.main_thread():
            return  # signals can only be handled on the main thread (tests run us elsewhere)
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, self.handle_exit, sig)

    def handle_exit(self, sig: signal.Signals) -> None:
        if self.should_exit.is_set() and sig is signal.SIGINT:
            self._force_exit = True  # a second Ctrl-C: stop waiting for in-flight work
        log.info("daemon.signal", signal=sig.name, force=self._force_exit)
        self.should_exit.set()
        self._slot_free.set()

    # --- Receiving -------------------------------------------------------------------------

    async def _receive_loop(self) -> None:
        failures = 0
        #: The last receive came back full: the queue has a backlog worth several receives.
        backlog = False
        while not self.should_exit.is_set():
            free = self._free_slots()
            if free <= 0:
                # Receive only what we can start now: nothing waits invisible in a local buffer.
                self._slot_free.clear()
                await self._slot_free.wait()
                continue
            limit = self._intake_limit() if self._intake_limit else None
            if limit is not None:
                free = min(free, limit - len(self._working))
            self._note_pause(limit == 0)
            if free <= 0:
                # A sink is down or being probed: leave messages in SQS, receive counts intact.
                await self._sleep_unless_exit(self.PAUSE_POLL_S)
                continue
            wait_s = min(self.config.wait_s, 1) if self.config.drain else self.config.wait_s
            if limit is not None:
                wait_s = min(wait_s, 1)  # probing: look at the breakers again soon
            per_call = min(10, self.config.max_messages, free)
            # With a backlog and many free slots, fill them with parallel receives instead of
            # one round trip per ten; an idle queue keeps a single long poll (SQS bills per call).
            calls = min(-(-free // per_call), self.MAX_PARALLEL_RECEIVES) if backlog else 1
            try:
                messages = await self._until_exit(self._receive(per_call, calls, free, wait_s))
            except TransientError as exc:
                failures += 1
                delay = _backoff(failures, 1.0, 30.0)
                self.health.set("queue", False, str(exc))
                log.warning("receive.failed", error=str(exc), retry_in_s=round(delay, 2))
                await self._sleep_unless_exit(delay)
                continue
            if messages is None:
                break  # stop requested while polling
            failures = 0
            self.health.set("queue", True)
            backlog = len(messages) >= per_call * calls
            for message in messages:
                self._start(message)
            if not messages and wait_s == 0:
                await self._sleep_unless_exit(0.1)  # short polling: don't spin on an empty queue
            if (
                self.config.drain
                and not messages
                and not self._in_flight
                and await self._queue_empty()
            ):
                log.info("daemon.drained")
                self.should_exit.set()

    async def _receive(self, per_call: int, calls: int, free: int, wait_s: int) -> list[Message]:
        """`calls` receives at once, asking for `free` messages in all. Messages from the calls
        that worked are kept even if another failed (they are already invisible on SQS); only
        when every call failed is the error raised."""
        sizes = [min(per_call, free - i * per_call) for i in range(calls)]
        visibility = self.config.visibility_timeout_s
        if len(sizes) == 1:
            return await self.inbox.receive(sizes[0], wait_s, visibility)
        # Short polls: gather waits for every call, and a long poll on a queue that just ran
        # dry would hold the other calls' messages unstarted for up to SQS_WAIT_TIME.
        results = await asyncio.gather(
            *(self.inbox.receive(size, 0, visibility) for size in sizes),
            return_exceptions=True,
        )
        messages = [m for r in results if isinstance(r, list) for m in r]
        errors = [r for r in results if isinstance(r, BaseException)]
        for error in errors:
            if not isinstance(error, Exception):
                raise error  # cancellation and the like
            if messages:
                log.warning("receive.partly_failed", error=str(error))
            else:
                raise error
        return messages

    def _free_slots(self) -> int:
        """Worker slots free now. Messages waiting for their delete do not take a slot, but at
        most `concurrency` of them may wait: if SQS deletes fall behind, intake slows with them."""
        concurrency = self.config.concurrency
        return min(concurrency - len(self._working), 2 * concurrency - len(self._in_flight))

    def _note_pause(self, paused: bool) -> None:
        if paused != self._paused:
            self._paused = paused
            if paused:
                log.warning(
                    "intake.paused", reason="a sink's breaker is open or it is rate-limited"
                )
            else:
                log.info("intake.resumed")

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

    async def _sleep_unless_exit(self, delay_s: float) -> None:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self.should_exit.wait(), timeout=delay_s)

    async def _queue_empty(self) -> bool:
        try:
            depth = await self.inbox.depth()
        except TransientError as exc:
            log.warning("drain.depth_failed", error=str(exc))
            return False
        if self.config.dry_run:  # what we hold is in flight by design
            return depth.visible == 0 and depth.delayed == 0
        return depth.empty

    # --- Working ---------------------------------------------------------------------------

    def _start(self, message: Message) -> None:
        self.stats.received += 1
        if message.sent_at is not None:
            lag = datetime.now(UTC) - message.sent_at
            self.metrics.observe("QueueLag", max(0.0, lag.total_seconds() * 1000))
        log.debug("message.received", message_id=message.id, receive_count=message.receive_count)
        task = asyncio.create_task(self._work(message), name=f"message-{message.id}")
        self._in_flight[task] = message
        self._working.add(task)
        task.add_done_callback(self._done)

    def _done(self, task: asyncio.Task[None]) -> None:
        self._in_flight.pop(task, None)
        self._working.discard(task)
        self._slot_free.set()

    def _processed(self) -> None:
        """The current message's work is over; only its delete is left: free its slot."""
        task = asyncio.current_task()
        if task in self._working:
            self._working.discard(task)
            self._slot_free.set()

    async def _work(self, message: Message) -> None:
        """Process one message and decide its fate; never raises (but for cancellation)."""
        self._leases[message.id] = (message, time.monotonic())
        if self.config.dry_run:
            await self._dry_run(message)
            return
        with structlog.contextvars.bound_contextvars(message_id=message.id):
            try:
                async with asyncio.timeout(self.config.message_timeout_s):
                    outcomes = await self.handler(message)
            except TimeoutError:
                # The handler was cancelled: nothing it would have done afterwards happens.
                await self._retry_later(
                    message, "timeout", f"gave up after {self.config.message_timeout_s:g} s", None
                )
                return
            except PermanentError as exc:
                # Visible again at once, so redrive moves it to the DLQ after maxReceiveCount.
                self.stats.rejected += 1
                self.stats.remember(message.id, exc.reason, str(exc))
                self.metrics.incr("MessagesFailed", reason=exc.reason)
                log.error(
                    "message.rejected",
                    reason=exc.reason,
                    error=str(exc),
                    receive_count=message.receive_count,
                )
                await self.inbox.change_visibility([message], 0)
                return
            except TransientError as exc:
                await self._retry_later(message, exc.reason, str(exc), exc.retry_after_s)
                return
            except Exception as exc:  # a bug: retried like a transient failure, but loud
                log.exception("message.crashed", error=repr(exc))
                await self._retry_later(message, "bug", repr(exc), None)
                return
            finally:
                # The heartbeat stops before the delete, and never extends a finished message.
                self._leases.pop(message.id, None)
            self._processed()
            if await self._acker.delete(message):
                self.stats.acked += 1
                log.info("message.acked", **_acked_fields(outcomes))

    async def _dry_run(self, message: Message) -> None:
        with structlog.contextvars.bound_contextvars(message_id=message.id):
            try:
                async with asyncio.timeout(self.config.message_timeout_s):
                    await self.handler(message)
            except Exception as exc:  # reported, never acted on: this is a dry run
                if isinstance(exc, TriageError):
                    reason = exc.reason
                else:
                    reason = "timeout" if isinstance(exc, TimeoutError) else "bug"
                self.stats.remember(message.id, reason, str(exc))
                log.warning("message.dry_run_failed", reason=reason, error=str(exc))
        # Held, still extended by the heartbeat, until shutdown releases it unchanged.
        self._held[message.id] = message

    async def _retry_later(
        self, message: Message, reason: str, error: str, retry_after_s: float | None
    ) -> None:
        delay = _backoff(message.receive_count, self.config.retry_base_s, self.config.retry_max_s)
        if retry_after_s is not None:
            # The service said when to come back; SQS cannot hide a message for longer than 12 h.
            delay = min(max(delay, retry_after_s), SQS_MAX_VISIBILITY_S)
        self.stats.retried += 1
        self.stats.remember(message.id, reason, error)
        self.metrics.incr("MessagesFailed", reason=reason)
        log.warning(
            "message.retry",
            reason=reason,
            error=error,
            receive_count=message.receive_count,
            retry_in_s=math.ceil(delay),
        )
        # Rounded up: a message must not come back before the time it was told to wait.
        await self.inbox.change_visibility([message], math.ceil(delay))

    async def _heartbeat(self) -> None:
        """Extend messages still being worked on before their visibility runs out, in batches."""
        timeout_s = self.config.visibility_timeout_s
        while True:
            await asyncio.sleep(max(0.2, timeout_s / 3))
            now = time.monotonic()
            due = [m for m, extended in self._leases.values() if now - extended >= timeout_s / 3]
            for start in range(0, len(due), 10):
                batch = [m for m in due[start : start + 10] if m.id in self._leases]
                await self.inbox.change_visibility(batch, timeout_s)
                for message in batch:
                    if message.id in self._leases:
                        self._leases[message.id] = (message, now)
            if due:
                log.debug("heartbeat.extended", count=len(due), timeout_s=timeout_s)

    # --- Shutdown --------------------------------------------------------------------------

    async def _release_held(self) -> None:
        held = list(self._held.values())
        for start in range(0, len(held), 10):
            await self.inbox.change_visibility(held[start : start + 10], 0)
        for message in held:
            self._leases.pop(message.id, None)
        self._held.clear()
        if held:
            log.info("daemon.dry_run_released", count=len(held))

    async def _shutdown(self) -> None:
        if self._in_flight and not self._force_exit:
            log.info(
                "daemon.draining",
                in_flight=len(self._in_flight),
                grace_s=self.config.shutdown_grace_s,
            )
            await asyncio.wait(set(self._in_flight), timeout=self.config.shutdown_grace_s)
        leftovers = dict(self._in_flight)
        if not leftovers:
            return
        for task in leftovers:
            task.cancel("shutdown grace exceeded")
        await asyncio.gather(*leftovers, return_exceptions=True)
        messages = list(leftovers.values())
        for start in range(0, len(messages), 10):
            await self.inbox.change_visibility(messages[start : start + 10], 0)
        self.stats.released_on_shutdown += len(messages)
        log.warning("daemon.released", count=len(messages), reason="shutdown grace exceeded")


class Acker:
    """Batches deletes. A batch leaves when it has ten messages or its first message has waited
    `linger_s`; waiting costs no throughput (the worker slot is already free) and saves SQS
    requests: at a steady flow most batches are full instead of one or two messages."""

    #: How long the first message of a batch waits for others to join it.
    LINGER_S = 0.05

    def __init__(self, inbox: Inbox, linger_s: float = LINGER_S) -> None:
        self.inbox = inbox
        self.linger_s = linger_s
        self._queue: asyncio.Queue[tuple[Message, asyncio.Future[bool]] | None] = asyncio.Queue()
        #: Set when a full batch (or the stop) is waiting: the lingering batch leaves at once.
        self._ready = asyncio.Event()
        self._stopping = False

    async def delete(self, message: Message) -> bool:
        """Queue `message` for deletion; True once SQS confirmed it."""
        done: asyncio.Future[bool] = asyncio.get_running_loop().create_future()
        self._queue.put_nowait((message, done))
        if self._queue.qsize() >= 10:
            self._ready.set()
        return await done

    async def stop(self) -> None:
        """Send what is queued at once (no lingering), then end run()."""
        self._stopping = True
        self._queue.put_nowait(None)
        self._ready.set()

    async def run(self) -> None:
        stopping = False
        while not stopping:
            item = await self._queue.get()
            if item is not None and not self._stopping and self._queue.qsize() < 9:
                self._ready.clear()
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._ready.wait(), self.linger_s)
            batch = []
            while item is not None:
                batch.append(item)
                if len(batch) == 10 or self._queue.empty():
                    break
                item = self._queue.get_nowait()
            stopping = item is None
            if batch:
                await self._flush(batch)

    async def _flush(self, batch: list[tuple[Message, asyncio.Future[bool]]]) -> None:
        messages = [m for m, _ in batch]
        try:
            failed = set(await self.inbox.delete(messages))
        except TransientError as exc:
            # Undeleted messages come back after their visibility timeout and are seen as repeats.
            log.warning("message.delete_failed", error=str(exc), count=len(messages))
            failed = {m.id for m in messages}
        for message, done in batch:
            if not done.done():
                done.set_result(message.id not in failed)


def _acked_fields(outcomes: list[Outcome]) -> dict[str, object]:
    """The ack line names the incident(s): `fingerprint` for one alert, `fingerprints` for a
    group (Grafana, Alertmanager), neither for a message without alerts (SNS confirmation)."""
    fields: dict[str, object] = {"actions": [str(o.action) for o in outcomes]}
    if len(outcomes) == 1:
        fields["fingerprint"] = outcomes[0].fingerprint
    elif outcomes:
        fields["fingerprints"] = [o.fingerprint for o in outcomes]
    return fields


def _backoff(attempt: int, base_s: float, max_s: float) -> float:
    """Exponential backoff with jitter: between half and all of base * 2**(attempt-1), capped."""
    ceiling = min(max_s, base_s * 2 ** max(0, min(attempt - 1, 30)))
    return random.uniform(ceiling / 2, ceiling)
