"""What every part of the `Supervisor` shares: its configuration, its counters (`Stats`), the
types of its handler and helpers, and the state a running daemon keeps (the messages in hand,
the worker slots, the pause of intake, the store's readiness), all made in one constructor.

Apart from `supervisor` so that the parts split out of it build on one base class, each adding
the methods of one seam: `store_watch` (is the store answering), `holding` (a failed message
held or released for a retry), `working` (the bounded pool: a message from start to ack, and
the heartbeat), `receiving` (intake). `supervisor` keeps the lifecycle: serve, signals,
helpers and the two-stage shutdown.
"""

from __future__ import annotations

import asyncio
import contextlib
import signal
import time
from collections.abc import Awaitable, Callable, Coroutine, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from typing import Any

from triage.health import Health
from triage.incidents.lifecycle import Outcome
from triage.metrics import Metrics
from triage.sqs.acker import Acker
from triage.sqs.inbox import MAX_BATCH, MAX_VISIBILITY_S, Inbox, Message
from triage.tracing import NO_SPANS, Tracing

#: Called by a handler each time it finishes a part of the message (one alert of a group).
Progress = Callable[[], None]
Handler = Callable[[Message, Progress], Awaitable[list[Outcome]]]
#: A helper: a name and the coroutine function that runs it until cancelled.
Helper = tuple[str, Callable[[], Coroutine[Any, Any, None]]]

#: SQS hides a delivery for at most MAX_VISIBILITY_S from its receive, which it counts from
#: before its answer reached us: this much of it is left unused, for that and for the clock,
#: so no extension or release asks for more than SQS allows.
VISIBILITY_MARGIN_S = 30.0
#: The longest visibility timeout the heartbeat can keep: a message's first extension, due
#: within half the timeout of its receive but late by up to the other half (a busy loop, a
#: slow SQS call), is still granted in full (21,585 s). A longer one would reach the 12 h cap
#: at its first beat, so a longer setting is clamped to this, once, at start-up.
MAX_HEARTBEAT_VISIBILITY_S = int((MAX_VISIBILITY_S - VISIBILITY_MARGIN_S) // 2)


class DeliveriesInHand(set[str]):
    """The receipt handles of the deliveries in hand (a set, added to as each comes in), and
    for each, when it came in by the monotonic clock and by the wall clock: how long SQS has
    kept it hidden so far (`age_s`) is measured on the monotonic clock, as SQS counts its
    12 h on its own clock, which a wall clock stepped meanwhile (NTP, a VM resumed) does not
    move."""

    def __init__(
        self,
        *,
        monotonic: Callable[[], float] = time.monotonic,
        wall: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        super().__init__()
        self._monotonic = monotonic
        self._wall = wall
        self._came_in: dict[str, tuple[float, datetime]] = {}

    def add(self, handle: str) -> None:
        if handle not in self:
            self._came_in[handle] = (self._monotonic(), self._wall())
        super().add(handle)

    def discard(self, handle: object) -> None:
        super().discard(handle)
        if isinstance(handle, str):
            self._came_in.pop(handle, None)

    def age_s(self, message: Message) -> float | None:
        """Seconds since `message`'s receive, or None when it is not in hand. The age it came
        in with (its `received_at`, set by the inbox at the receive: a moment, or what a test
        dates back) counts only within what SQS allows: dated further back than SQS keeps a
        delivery hidden, or after it came in, it was dated by a clock stepped since."""
        came_in = self._came_in.get(message.receipt_handle)
        if came_in is None:
            return None
        monotonic_s, wall = came_in
        before_s = (wall - message.received_at).total_seconds()
        if not 0 <= before_s <= MAX_VISIBILITY_S:
            before_s = 0.0
        return before_s + self._monotonic() - monotonic_s


@dataclass(frozen=True, slots=True)
class SupervisorConfig:
    """How the daemon runs: its bounds, waits and modes (`app.py` builds it from `Settings`)."""

    concurrency: int = 16
    max_messages: int = MAX_BATCH
    wait_s: int = 20
    shutdown_grace_s: float = 25.0
    #: After the grace, cancelling the rest (their store claims released) and making their
    #: messages visible again take this long at most, whatever the store and SQS do.
    cancel_deadline_s: float = 3.0
    retry_base_s: float = 2.0
    retry_max_s: float = 300.0
    #: A receive that failed is sent again after this, doubling with the failures in a row, at
    #: most `receive_retry_max_s` (an SQS outage, or the queue deleted).
    receive_retry_base_s: float = 1.0
    receive_retry_max_s: float = 30.0
    #: Messages are received hidden for this long and extended by the heartbeat while worked
    #: on; past MAX_HEARTBEAT_VISIBILITY_S it is clamped to that (said once at start-up).
    visibility_timeout_s: int = 60
    #: A message whose work makes no progress for this long is cancelled and retried later.
    message_timeout_s: float = 120.0
    #: A held message is released (spending a receive) rather than held past this, or past
    #: what SQS allows (12 h from its receive), whichever comes first.
    max_hold_s: float = 3600.0
    #: Exit once the queue is empty and nothing is in flight.
    drain: bool = False
    #: --drain gives up (`DrainFailed`) once this many calls of one kind to the queue failed
    #: in a row (receives, or the depth it asks before it ends): a drain is a batch job that
    #: must end. A blip or two is ridden out; each call and backoff is bounded, so the wait
    #: is too. The daemon without --drain retries on: it serves again once the queue is back.
    drain_max_failures: int = 5
    #: Never ack or release during the run: each message is held (extended by the heartbeat)
    #: after one pass, so it is neither reprocessed nor pushed towards the DLQ, and released
    #: at shutdown.
    dry_run: bool = False


def config_past_sqs(config: SupervisorConfig) -> list[tuple[str, float, float]]:
    """The settings of `config` that SQS's 12 h visibility cap keeps from being had as set,
    each as (setting, value, what is used instead at most)."""
    past: list[tuple[str, float, float]] = []
    if config.visibility_timeout_s > MAX_HEARTBEAT_VISIBILITY_S:
        past.append(
            ("visibility_timeout_s", config.visibility_timeout_s, MAX_HEARTBEAT_VISIBILITY_S)
        )
    for setting, value_s in (
        ("retry_max_s", config.retry_max_s),
        ("max_hold_s", config.max_hold_s),
    ):
        if value_s > MAX_VISIBILITY_S:
            past.append((setting, value_s, MAX_VISIBILITY_S))
    return past


@dataclass(slots=True)
class _Failure:
    """Why a message last failed: its error's reason and text."""

    reason: str
    error: str


@dataclass(slots=True)
class Stats:
    """What happened to messages, for the shutdown counters line and the demo's report."""

    received: int = 0
    acked: int = 0
    retried: int = 0
    rejected: int = 0
    held: int = 0
    released_on_shutdown: int = 0
    #: Handled, but SQS did not confirm the delete: it comes back and is handled again (a
    #: repeat), so nothing is lost, but it is neither acked nor failed.
    delete_failed: int = 0
    #: Given up because SQS said the delivery is no longer ours (another replica has it, or
    #: it is visible again): whoever has it now finishes it.
    lost: int = 0
    #: Last failure per message id (bounded), so a report can say why a message left.
    failures: dict[str, _Failure] = field(default_factory=dict)

    def remember(self, message_id: str, reason: str, error: str) -> None:
        if len(self.failures) >= 10_000:
            self.failures.pop(next(iter(self.failures)))
        self.failures[message_id] = _Failure(reason, error)


class SupervisorBase:
    """The state every part of the daemon reads and changes, set once here, and the wait they
    all share (a sleep that a stop ends)."""

    #: How long a held message waits when the service named no time.
    DEFAULT_HOLD_S = 1.0
    #: The module's VISIBILITY_MARGIN_S, where the tests and the parts read it.
    VISIBILITY_MARGIN_S = VISIBILITY_MARGIN_S
    #: How long holds may pause intake before the daemon is not ready (`intake: held`): a
    #: service's wait longer than this is an outage to readiness, as an open breaker is.
    PAUSED_UNREADY_S = 30.0
    #: A pause that starts within this of the last one's end continues it (its message was
    #: tried again and held anew), so a wait repeated forever still becomes not ready.
    PAUSE_GAP_S = 5.0
    #: Holds in progress that pause intake (`Holding._hold`).
    _pausing_holds: int = 0
    #: The pause of intake as its lines and `IntakePausedDuration` say it
    #: (`Holding._note_pause`): since when (monotonic; None while none), when it last ended
    #: while that end is not yet sure (None while it goes on), the holds it took, and the
    #: timer that says its end.
    _pause_started: float | None = None
    _pause_over_at: float | None = None
    _pause_holds: int = 0
    _pause_timer: asyncio.TimerHandle | None = None

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
        helpers: Sequence[Helper] = (),
        tracing: Tracing = NO_SPANS,
        store_probe: Callable[[], Awaitable[None]] | None = None,
        own_signals: bool = True,
    ) -> None:
        #: Whether `serve()` installs the stop signals' handlers (and removes them when it
        #: returns). `run_daemon` holds them itself, from before start-up until its clients
        #: are closed (`app.DaemonSignals`), so it passes False: a signal after `serve()`
        #: would otherwise meet the defaults and kill the process mid-flush.
        self.own_signals = own_signals
        #: As set: `serve()` says once what of it cannot be had (`config_past_sqs`).
        self.configured = config
        #: As used: a visibility timeout the heartbeat cannot keep clamped to one it can.
        self.config = replace(
            config,
            visibility_timeout_s=min(config.visibility_timeout_s, MAX_HEARTBEAT_VISIBILITY_S),
        )
        #: One span per message (and its trace id on every log line of it).
        self.tracing = tracing
        self.inbox = inbox
        self.handler = handler
        self.metrics = metrics
        self.stats = Stats()
        self.health = health or Health()
        #: Set by a signal, by --drain, by a crashed helper, or by an embedding program (the
        #: demo) to stop.
        self.should_exit = should_exit or asyncio.Event()
        #: Set by a second signal: skip what is left of the grace.
        self.force_exit = asyncio.Event()
        #: Every message we hold, from receive until its delete is confirmed (or it is released).
        self._in_flight: dict[asyncio.Task[None], Message] = {}
        #: Their deliveries (receipt handles): the same delivery twice in one answer is started
        #: once. (Another delivery of a message in hand is started: the store makes it wait.)
        #: Each with when it came in, for how long SQS still hides it (`_hideable_s`).
        self._deliveries_in_flight = DeliveriesInHand()
        #: The part of those still being processed: these fill the worker slots. A processed
        #: message waiting for its batched delete has given its slot back.
        self._working: set[asyncio.Task[None]] = set()
        #: Messages still being worked on, with when their visibility was last extended.
        self._leases: dict[str, tuple[Message, float]] = {}
        #: --dry-run: messages already handled once, held until shutdown.
        self._dry_held: dict[str, Message] = {}
        self._slot_free = asyncio.Event()
        #: Short polls out while a backlog drains, each with the slots it asked for.
        self._polls: dict[asyncio.Future[list[Message]], int] = {}
        #: Messages receives brought in as the stop came, never started: the shutdown gives
        #: them back at once.
        self._unstarted: list[Message] = []
        #: Deliveries (receipt handles) held through a wait or being released after a failure,
        #: with the wait's or failure's reason: a stop that cancels one counts it under that
        #: reason, not `shutdown`.
        self._failed_for: dict[str, str] = {}
        #: Deliveries in hand SQS said are no longer ours (`Message.on_lost`): not extended,
        #: released, held or tried again here.
        self._lost_deliveries: set[str] = set()
        #: The latest delivery in hand of each message (by id): a newer one makes it stale.
        self._delivery_of: dict[str, Message] = {}
        #: Each attempt at work's timeout, with when it is due (loop time: its last progress
        #: plus `message_timeout_s`), and the one check that expires them (`Working._attempt`).
        self._deadlines: dict[asyncio.Timeout, float] = {}
        self._deadline_check: asyncio.TimerHandle | None = None
        #: The held deliveries' wake-ups: set when SQS says one is lost, so its hold ends.
        self._hold_wakers: dict[str, asyncio.Event] = {}
        #: After a failed receive, no new one before this (time.monotonic()).
        self._receive_after = 0.0
        self._acker = Acker(inbox, health=self.health)
        #: Backpressure from the sinks: how many messages may be in flight (None: no limit).
        self._intake_limit = intake_limit
        #: A held message pauses intake until then (time.monotonic()).
        self._hold_until = 0.0
        self._paused: str | None = None
        #: Since when pausing holds have held intake, a short gap between two of them (a
        #: held message tried again and held anew) counted in (monotonic); None while none
        #: has. And when the last one ended (`Holding._pausing_hold_over`).
        self._paused_since: float | None = None
        self._pause_ended_at = 0.0
        self.health.watch("intake", self._intake_held)
        #: Why the last receive failed, while receives fail (its warning said it once).
        self._receive_error: str | None = None
        #: Why the last depth --drain asked for failed, while it fails (said once at warning).
        self._depth_error: str | None = None
        #: How many depths --drain asked for failed in a row.
        self._depth_failures = 0
        #: Why --drain gave up on its queue (`drain_max_failures`): `serve()` raises it.
        self._drain_gave_up: str | None = None
        #: Messages held now, per reason: the first says why, the rest at debug.
        self._holding: dict[str, int] = {}
        #: Since when (time.monotonic()) the store fails, while it does: from now when the
        #: caller found it failing before serving (`store` failing in `health`, said then), so
        #: the first ping or message it answers marks it back (`store.recovered`).
        self._store_down_since: float | None = (
            time.monotonic() if "store" in self.health.failing() else None
        )
        #: A cheap call that raises while the store is down (`Store.ping`).
        self._store_probe = store_probe
        #: The last ping failed: no message's success marks the store up until one answers.
        self._ping_failed = False
        #: The last ping failed with no known store fault, and that was said (`_probe_once`).
        self._ping_erring = False
        #: Deliveries the store failed that are still trying (held or trying again): while
        #: any is, they are the probe, and no other success marks the store up.
        self._waiting_on_store: set[str] = set()
        #: The caller's helpers (watchdog, metric flushers): `serve()` starts them after ours.
        self._caller_helpers = tuple(helpers)
        self._helpers: dict[asyncio.Task[None], str] = {}
        self._crashed: list[str] = []
        self._signals: list[signal.Signals] = []
        metrics.gauge("MessagesInFlight", lambda: len(self._held()))
        metrics.gauge("OldestMessageAge", self._oldest_age_s, unit="Seconds")
        metrics.gauge("IntakePausedDuration", self._paused_for_s, unit="Seconds")

    def _intake_held(self) -> str | None:
        """Readiness's `intake` condition: failing once holds that pause intake have held it
        for PAUSED_UNREADY_S (nothing moves, as behind an open breaker), None before (a
        short wait is no outage) and once no such hold is in progress."""
        since = self._paused_since
        if not self._pausing_holds or since is None:
            return None
        paused_s = time.monotonic() - since
        return f"held for {paused_s:.0f} s" if paused_s >= self.PAUSED_UNREADY_S else None

    def _paused_for_s(self) -> float:
        """`IntakePausedDuration`: how long intake has been paused, across the held message's
        retries (`Holding._note_pause`); held at its length while its end is not yet sure, 0
        when no pause is in progress."""
        started = self._pause_started
        if started is None:
            return 0.0
        end = self._pause_over_at if self._pause_over_at is not None else time.monotonic()
        return end - started

    def _got_through(self) -> None:
        """A message's work succeeded: messages move, so a pause holding intake now counts
        from now (`_intake_held`), and none is left to continue once none is in progress."""
        self._paused_since = time.monotonic() if self._pausing_holds else None

    def _held(self) -> list[Message]:
        """Every delivery this process holds (received, not yet deleted or released), each
        once: those at work or waiting for their delete, and those a dry run keeps hidden
        after its pass (its heartbeat extends them until the stop releases them). One is held
        by the dry run a moment before its task leaves `_in_flight`: the same object, once."""
        held = list(self._in_flight.values())
        at_work = {id(m) for m in held}
        held += [m for m in self._dry_held.values() if id(m) not in at_work]
        return held

    def _oldest_age_s(self) -> float:
        """Age of the oldest message held (received, not yet deleted or released): what this
        process sees of the queue's oldest message, since SQS itself has no such attribute.
        Read on SQS's clock (`Message.age_s`): a host minutes fast would add as much to it."""
        now = datetime.now(UTC)
        ages = [age for m in self._held() if (age := m.age_s(now)) is not None]
        return max(0.0, max(ages, default=0.0))

    def _hideable_s(self, message: Message) -> float:
        """How much longer SQS lets `message`'s delivery stay hidden: MAX_VISIBILITY_S from
        its receive, less VISIBILITY_MARGIN_S; negative once that has passed. Its age is
        measured on the monotonic clock while it is in hand (a wall clock stepped forward
        would drop a retry's backoff and stop the heartbeat); on the wall clock only for one
        never started here."""
        age_s = self._deliveries_in_flight.age_s(message)
        if age_s is None:
            age_s = (datetime.now(UTC) - message.received_at).total_seconds()
        return MAX_VISIBILITY_S - self.VISIBILITY_MARGIN_S - age_s

    async def _sleep_unless_exit(self, delay_s: float) -> None:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self.should_exit.wait(), timeout=delay_s)
