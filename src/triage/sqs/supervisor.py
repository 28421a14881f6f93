"""The daemon's lifecycle: receive only as many messages as there are free workers, run each in
its own task, ack in batches, and stop in two timed stages on SIGTERM/SIGINT.

    startup ─► serve: receive ─► worker tasks (bounded) ─► ack/release ─► shutdown
                 ▲                                                      │
                 └── stop event (signal, --drain finding the queue empty or giving up
                     on a queue that keeps failing, a crashed helper)

A signal only sets `should_exit`. Shutdown stops receiving at once (the pending long poll is
cancelled; what polls had already brought in, never started, is made visible again at once),
gives in-flight messages `shutdown_grace_s` to finish (a second signal ends the
grace at once), then cancels the rest and gives their cancellation (which releases store claims)
at most `cancel_deadline_s` before it makes them visible again (after any extension of theirs
still out) and returns; a message already handled, waiting for its delete, is left to that
delete rather than made visible. A cancelled message is never acked; one given back on its last receive counts in `MessagesDeadLettered` (reason
`shutdown`, or `dry_run` for what a dry run held, or the reason of the wait a held message was
in), since SQS moves it at its next receive.

A message whose handler says "wait" (`BackpressureError`: a rate limit, a spent budget, an open
breaker) is *held*: kept invisible by the heartbeat while intake pauses, then tried again, so
waiting never spends its receive count; one whose wait is its own (an incident another worker
holds; a sink whose outage does not pause intake, such as Slack: `pauses_intake` false) is held
without pausing intake, and a sink's such wait gives its worker slot back while it lasts
(`holding.py`). So is a message the
store failed (`StoreUnavailableError`: locked, full, corrupt, unreachable, denied): the store's
fault is never the message's, so it is tried again after a wait that doubles up to
`STORE_HOLD_MAX_S`, while `/readyz` says `store: unavailable` and one line says why (and one
that it is back). Only past `max_hold_s`, or near SQS's 12 h from its receive (no delivery
stays hidden longer), does a held message spend a receive. While no message
is held for the store, a ping (`store_probe`, every `STORE_PROBE_S`) watches it, so readiness
follows the store even when no traffic comes. The store is marked down by any failure (a
message's or a ping's) and up by a success only while nothing says otherwise (no message held
for it, the last ping answered), so readiness never flips with each message.

A delivery SQS says is no longer ours (it refused its extension as `ReceiptHandleIsInvalid`,
`MessageNotInflight`, or the `InvalidParameterValue` it answers for a receipt handle a later
receive replaced) is neither extended nor released from then on: held, it is given up
(`message.delivery_lost`), since another replica or delivery has the message now; at work, it
finishes. A held delivery is given up too when another delivery of its message is received
here (that one does the work). A `visibility_timeout_s` the heartbeat cannot keep under SQS's 12 h is clamped, and
said once at start-up (`config.past_visibility_max`), as is a retry wait or hold past 12 h.

The helpers (heartbeat, acker, and the caller's: watchdog, metric flushers) run as tasks owned
here: a helper that crashes stops the daemon loudly (`DaemonCrashed`) instead of letting
messages expire unnoticed. A --drain whose queue fails `drain_max_failures` calls of one kind
in a row (deleted, refusing, unreachable) stops too, with one `drain.gave_up` error line, and
`serve()` raises `DrainFailed` after the shutdown: a drain is a batch job someone waits on.

This module keeps that lifecycle (serve, signals, helpers, the two-stage shutdown); the class
is built from one part per seam, each in its own module, the lower ones first:

    base         SupervisorBase: the config, Stats, and the state every part shares
    store_watch  StoreWatch: the store's readiness, its probe, a failed message's wait
    holding      Holding: a message held through a wait, or released for a retry; the pause
    working      Working: the bounded pool, a message from start to ack; the heartbeat
    receiving    Receiving: intake, as many as there are free slots
"""

from __future__ import annotations

import asyncio
import contextvars
import functools
import queue
import signal
import threading
import time
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any, TypeVar

import structlog

from triage.logs import start_background
from triage.sqs.base import (
    Handler,
    Helper,
    Progress,
    Stats,
    SupervisorConfig,
    config_past_sqs,
)
from triage.sqs.holding import _backoff as _backoff  # re-exported: its tests import it here
from triage.sqs.inbox import MAX_VISIBILITY_S, Message, SaysUnreadable, batch_alerts
from triage.sqs.receiving import Receiving
from triage.sqs.working import DRY_RUN_REASON, SHUTDOWN_REASON

#: Other modules import these from here, wherever they are defined.
__all__ = [
    "DaemonCrashed",
    "DrainFailed",
    "ExitBoundedExecutor",
    "Handler",
    "Helper",
    "Progress",
    "Stats",
    "Supervisor",
    "SupervisorConfig",
    "stop_signals",
]

log = structlog.get_logger(__name__)

_T = TypeVar("_T")

#: How long the process's exit waits for the default thread pool's calls still running (a
#: DNS lookup stuck in getaddrinfo, a read that never returns) before it leaves them behind:
#: grace, cancellation, the last flush and the trace export already take 28 s of ECS's 30.
EXECUTOR_EXIT_WAIT_S = 1.0

_Work = tuple["Future[Any]", Callable[..., Any], tuple[Any, ...], dict[str, Any]]


class ExitBoundedExecutor(ThreadPoolExecutor):
    """The event loop's default thread pool for a process of ours (`triage run`, `triage
    ingest`): as asyncio's own, but its shutdown waits at most `exit_wait_s` and its threads
    are daemon threads. On Python 3.11 `asyncio.run` ends with `shutdown_default_executor`,
    which waits without limit (3.12 has a timeout; 3.11 none), and the interpreter then joins
    the pool's threads again: one call that never returns held the exit past ECS's stop
    timeout, and SIGKILL took the last metrics and traces. What is left running is named in
    one `process.threads_abandoned` line and ends with the process. A ThreadPoolExecutor
    (`set_default_executor` takes no other) whose pool and queue are its own: the base's
    threads are not daemon threads and are joined at the interpreter's exit."""

    def __init__(self, *, exit_wait_s: float = EXECUTOR_EXIT_WAIT_S) -> None:
        super().__init__(thread_name_prefix="triage-pool")  # sets _max_workers, starts nothing
        self._exit_wait_s = exit_wait_s
        self._work: queue.SimpleQueue[_Work | None] = queue.SimpleQueue()
        self._idle = threading.Semaphore(0)
        self._lock = threading.Lock()
        self._pool_threads: list[threading.Thread] = []
        self._running: dict[int, str] = {}  # thread id -> the call it runs
        self._closed = False

    def submit(self, fn: Callable[..., _T], /, *args: Any, **kwargs: Any) -> Future[_T]:
        with self._lock:
            if self._closed:
                raise RuntimeError("cannot schedule new futures after shutdown")
            future: Future[_T] = Future()
            self._work.put((future, fn, args, kwargs))
            if not self._idle.acquire(timeout=0) and len(self._pool_threads) < self._max_workers:
                thread = threading.Thread(
                    target=self._serve, name=f"triage-pool-{len(self._pool_threads)}", daemon=True
                )
                self._pool_threads.append(thread)
                thread.start()
            return future

    def _serve(self) -> None:
        """One thread's loop: run calls until the pool shuts down."""
        while (item := self._work.get()) is not None:
            future, fn, args, kwargs = item
            if future.set_running_or_notify_cancel():
                with self._lock:
                    self._running[threading.get_ident()] = describe_call(fn, args)
                try:
                    future.set_result(fn(*args, **kwargs))
                except BaseException as exc:  # the caller's to see, as ThreadPoolExecutor does
                    future.set_exception(exc)
                finally:
                    with self._lock:
                        del self._running[threading.get_ident()]
            self._idle.release()
        self._work.put(None)  # the next thread stops too

    def shutdown(self, wait: bool = True, *, cancel_futures: bool = False) -> None:
        """No new calls; with `wait`, the running ones get `exit_wait_s` between them, then
        the rest are named and left behind."""
        with self._lock:
            self._closed = True
        if cancel_futures:
            self._cancel_queued()
        self._work.put(None)
        if not wait:
            return
        deadline = time.monotonic() + self._exit_wait_s
        for thread in self._pool_threads:
            thread.join(max(0.0, deadline - time.monotonic()))
        with self._lock:
            left = sorted(self._running.values())
        if left:
            log.warning(
                "process.threads_abandoned",
                calls=left,
                waited_s=self._exit_wait_s,
                reason="still running at the exit: left behind, so the stop ends in time",
            )

    def _cancel_queued(self) -> None:
        while True:
            try:
                item = self._work.get_nowait()
            except queue.Empty:
                return
            if item is not None:
                item[0].cancel()


def describe_call(fn: Callable[..., Any], args: tuple[Any, ...]) -> str:
    """The name of what a pool thread runs (`socket.getaddrinfo`), through the partials
    `asyncio.to_thread` wraps it in; never its arguments, which may carry an alert's text."""
    call: Any = fn
    while True:
        if isinstance(call, functools.partial):
            call, args = call.func, call.args
        elif isinstance(getattr(call, "__self__", None), contextvars.Context) and args:
            call, args = args[0], args[1:]  # Context.run(call, ...): the call
        else:
            break
    module = getattr(call, "__module__", None) or ""
    name = getattr(call, "__qualname__", None) or type(call).__name__
    return f"{module}.{name}" if module else name


def stop_signals() -> list[signal.Signals]:
    """The signals that stop the process cleanly: SIGTERM always, and SIGINT (Ctrl-C) and
    SIGHUP (a closed terminal, or a supervisor that sends it) unless each was ignored when the
    process started. An ignored one was asked for: `nohup triage run &` lets the terminal's
    hangup pass the process by, and a script's `triage run &` (a shell without job control)
    or a supervisor ignores SIGINT so that a Ctrl-C reaches only the foreground job; a handler
    of ours would undo that. Read before any handler of ours is installed."""
    unless_ignored = (signal.SIGINT, signal.SIGHUP)
    return [
        signal.SIGTERM,
        *(s for s in unless_ignored if signal.getsignal(s) is not signal.SIG_IGN),
    ]


class DaemonCrashed(Exception):
    """Raised by `serve()` after a clean shutdown when the daemon could not go on: a helper
    task crashed, or a drain gave up on its queue (`DrainFailed`). `triage run` exits 1."""


class DrainFailed(DaemonCrashed):
    """Raised by `serve()` after a clean shutdown when --drain gave up on a queue whose calls
    kept failing (`SupervisorConfig.drain_max_failures`): deleted, refusing, unreachable."""


class Supervisor(Receiving):
    """The daemon: `serve()` until told to stop, then shut down in two timed stages."""

    # --- Lifecycle -------------------------------------------------------------------------

    async def serve(self) -> None:
        """Run until a signal (or --drain) says stop; return after a clean shutdown, or raise
        DaemonCrashed after it if a helper crashed."""
        self._install_signal_handlers()
        self._listen_for_unreadable()
        for name, run in self._helper_specs():
            task = start_background(run(), name=name)
            self._helpers[task] = name
            task.add_done_callback(self._helper_done)
        self._say_settings_past_sqs()
        log.info("daemon.started", concurrency=self.config.concurrency, drain=self.config.drain)
        try:
            await self._receive_loop()
        finally:
            try:
                try:
                    await self._shutdown()
                finally:
                    # Even past a shutdown that raised: a helper left running would extend,
                    # delete and flush after serve() returned.
                    await self._stop_helpers()
            finally:
                self._remove_signal_handlers()
                self._stop_listening_for_unreadable()
                self._stop_deadline_check()
            log.info("daemon.stopped", **self._counters())
        if self._crashed:
            raise DaemonCrashed(f"{', '.join(self._crashed)} crashed; see daemon.helper_crashed")
        if self._drain_gave_up is not None:
            raise DrainFailed(self._drain_gave_up)

    def _listen_for_unreadable(self) -> None:
        """Count what the inbox cannot read (`_count_unreadable`) while serving, when it says
        so (`SaysUnreadable`: SQS's does; an inbox that reads every entry need not)."""
        if isinstance(self.inbox, SaysUnreadable):
            self.inbox.on_unreadable.append(self._count_unreadable)

    def _stop_listening_for_unreadable(self) -> None:
        """Served: the inbox no longer counts into this supervisor (nor holds on to it)."""
        if isinstance(self.inbox, SaysUnreadable):
            listeners = self.inbox.on_unreadable
            listeners[:] = [f for f in listeners if f != self._count_unreadable]

    def _say_settings_past_sqs(self) -> None:
        """Each setting SQS's 12 h visibility cap keeps from being had as set, said once,
        here, not per message: a visibility timeout the heartbeat cannot keep (clamped to
        MAX_HEARTBEAT_VISIBILITY_S), a retry wait or a hold longer than a delivery may stay
        hidden (a release hides it no longer; a hold releases it before: `_hold_limit`)."""
        for setting, value_s, used_s in config_past_sqs(self.configured):
            log.warning(
                "config.past_visibility_max",
                setting=setting,
                value_s=value_s,
                used_s=used_s,
                max_visibility_s=MAX_VISIBILITY_S,
            )

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
            "lost": self.stats.lost,
        }
        for (name, dims), value in sorted(self.metrics.counters().items()):
            counters[name] = counters.get(name, 0) + int(value)
            sink = dict(dims).get("sink")
            if sink is not None:
                key = f"{name}.{sink}"
                counters[key] = counters.get(key, 0) + int(value)
        return counters

    def _install_signal_handlers(self) -> None:
        if not self.own_signals:
            return  # the caller holds them (`app.DaemonSignals`) and calls `handle_exit`
        if threading.current_thread() is not threading.main_thread():
            return  # signals can only be handled on the main thread (tests run us elsewhere)
        loop = asyncio.get_running_loop()
        for sig in stop_signals():
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
    #: The caller's helpers that flush metrics (`app._operations`): stopped last.
    FLUSHERS = frozenset({"metrics"})

    async def _stop_helpers(self) -> None:
        """The acker sends what is queued first (briefly: undeleted messages only come back as
        repeats); the others are cancelled, last started first; the metrics flushers last of
        all, once the workers whose deletes the acker's stop answered have said so: their
        last flush then carries what the stop itself counted (`MessagesFailed{reason=delete}`)
        and a `MessagesInFlight` without them. Flushed before, CloudWatch never had those
        counts, and kept the messages in flight as the stopped daemon's last word."""
        await self._acker.stop()
        acker = next((t for t, name in self._helpers.items() if name == "acker"), None)
        if acker is not None:
            await asyncio.wait({acker}, timeout=self.ACKER_STOP_S)
        flushers = [t for t, name in self._helpers.items() if name in self.FLUSHERS]
        others = [t for t in self._helpers if t not in flushers]
        for task in reversed(others):
            task.cancel()
        await asyncio.gather(*others, return_exceptions=True)
        # Answered by now (deleted, or not): each finishes at once, bar a bug's hang.
        answered = [t for t in self._in_flight if t not in self._working]
        if answered:
            await asyncio.wait(answered, timeout=self.ACKER_STOP_S)
        for task in reversed(flushers):
            task.cancel()
        await asyncio.gather(*flushers, return_exceptions=True)

    # --- Shutdown --------------------------------------------------------------------------

    async def _release_dry_held(self) -> None:
        """Make the messages a dry run held visible again, unchanged. Its receives were real:
        one held on its last receive goes to the DLQ at its next, so it is counted (whether
        or not SQS answers the release: it comes back when its visibility ends anyway)."""
        held = list(self._dry_held.values())
        self._dry_held.clear()
        self._count_given_back(held, DRY_RUN_REASON)
        if held:
            log.info("daemon.dry_run_released", count=len(held))
            await self._release(held, 0)

    async def _shutdown(self) -> None:
        """Give back at once what the receives brought in as the stop came (never started);
        meanwhile, stage one: wait up to the grace for in-flight messages (a second signal
        ends it). Stage two: cancel the rest, give the cancellation at most
        `cancel_deadline_s`, then make those messages visible again, and what a dry run held;
        never more than that, whatever the store and SQS do. Those on their last receive
        count as dead-lettered, once."""
        # Not ready from the first moment of the drain: it takes no new work.
        self.health.set("shutting_down", False, "draining")
        unstarted = self._take_unstarted()
        # Each release with how many messages it makes visible again.
        releases = {asyncio.ensure_future(self._release_unstarted(unstarted)): len(unstarted)}
        given_back, stage_end = await self._drain_in_flight()
        releases[asyncio.ensure_future(self._release_dry_held())] = len(self._dry_held)
        # Visible again or not, each comes back on its next receive: past the stage, the
        # releases SQS has not answered are given up.
        _, late = await asyncio.wait(releases, timeout=max(stage_end - time.monotonic(), 0.0))
        for release in late:
            release.cancel()
        if late:
            log.warning("daemon.release_overran", count=sum(releases[r] for r in late))
        outcomes = await asyncio.gather(*releases, return_exceptions=True)
        for release, outcome in zip(releases, outcomes, strict=True):
            if isinstance(outcome, Exception):  # a bug: the stop goes on, loudly
                log.error("daemon.release_failed", count=releases[release], exc_info=outcome)
        self._count_given_back([*given_back, *unstarted], SHUTDOWN_REASON)

    def _take_unstarted(self) -> list[Message]:
        """The messages receives brought in that were never started, each delivery once: one
        also in hand is left to the copy in hand (its release covers both)."""
        unstarted: dict[str, Message] = {}
        for message in self._unstarted:
            if message.receipt_handle not in self._deliveries_in_flight:
                unstarted.setdefault(message.receipt_handle, message)
        self._unstarted.clear()
        return list(unstarted.values())

    async def _release_unstarted(self, messages: list[Message]) -> None:
        """Make `messages` visible again at once: received, never started, not ours to keep."""
        if not messages:
            return
        self.stats.received += len(messages)
        self.stats.released_on_shutdown += len(messages)
        log.warning("daemon.unstarted_released", count=len(messages))
        await self.inbox.change_visibility(messages, 0)

    async def _drain_in_flight(self) -> tuple[list[Message], float]:
        """The two stages over the messages in hand: those still handled when cancelled (to
        count as given back), and when stage two ends (`time.monotonic()`)."""
        if self._in_flight and not self.force_exit.is_set():
            log.info(
                "daemon.draining",
                in_flight=len(self._in_flight),
                grace_s=self.config.shutdown_grace_s,
            )
            await self._grace(self.config.shutdown_grace_s)
        stage_end = time.monotonic() + self.config.cancel_deadline_s
        leftovers = dict(self._in_flight)
        if not leftovers:
            return [], stage_end
        reason = "second signal" if self.force_exit.is_set() else "shutdown grace exceeded"
        # Only those still being handled are cancelled and made visible. The others are
        # processed and wait for their delete, which the acker sends (at the latest at its
        # stop): made visible first, one could go to another replica before its delete lands.
        handling = [task for task in leftovers if task in self._working]
        if not handling:
            return [], stage_end
        # A delivery SQS said is no longer ours (`_delivery_lost`) is neither released nor
        # counted as given back: whether it dies is for whoever holds it now to say, as
        # `_until_done` leaves a failed one's. Read now: a task's end forgets it.
        lost = {leftovers[t].receipt_handle for t in handling} & self._lost_deliveries
        for task in handling:
            task.cancel(reason)
        # Two thirds of the stage for the cancellations, the rest for the visibility calls.
        _, stuck = await asyncio.wait(handling, timeout=self.config.cancel_deadline_s * 2 / 3)
        if stuck:
            # Their store claims stay until their lease ends; another worker then redoes them.
            log.warning(
                "daemon.cancel_overran",
                count=len(stuck),
                deadline_s=self.config.cancel_deadline_s,
            )
        # One that finished in spite of the cancellation had its fate decided by its own task.
        given_back = [
            leftovers[t]
            for t in handling
            if (not t.done() or t.cancelled()) and leftovers[t].receipt_handle not in lost
        ]
        if given_back:
            await self._release_in_stage(given_back, stage_end)
            self.stats.released_on_shutdown += len(given_back)
            log.warning(
                "daemon.released",
                count=len(given_back),
                reason=reason,
                alerts=batch_alerts(given_back),
            )
        return given_back, stage_end

    async def _release_in_stage(self, messages: list[Message], stage_end: float) -> None:
        """Make `messages` visible at once, within what is left of the stage. The heartbeat
        beats on while the acker sends its last deletes: `_release` has it leave them alone,
        so one whose cancellation overran is not hidden again. Visible again or not (the call
        may time out or raise, each one line), each comes back on its next receive."""
        try:
            async with asyncio.timeout(max(stage_end - time.monotonic(), 0.5)):
                await self._release(messages, 0)
        except TimeoutError:
            log.warning("daemon.release_overran", count=len(messages))
        except Exception as exc:  # a bug: the stop goes on, loudly
            log.error("daemon.release_failed", count=len(messages), exc_info=exc)

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
