"""A circuit breaker: stop calling a dependency that keeps failing, and probe it now and then.

    closed ──(failure_threshold consecutive failures)──► open
    open ──(reset_s elapsed)──► half-open: one caller is let through as the probe
    half-open ──probe succeeds──► closed        half-open ──probe fails──► open again

Callers ask `allow()` before each call: it returns a `Permit` (or None: refused), and the call
reports its outcome with that permit: `success(permit)`, `failure(permit)`, or
`cancelled(permit)` when it ended with neither (cancelled, or it never made its request). A
permit is the breaker's way of knowing which call is speaking: calls still in flight when the
breaker opened (or closed) are *stale*, and their outcomes move nothing; so a late success
cannot close a breaker whose probe is still out, and a late failure cannot re-open one that a
probe has just closed. `trip()` opens it at once, whoever asks: the service itself said so now.

A call the breaker refused may wait for `ready()`: an event set when a call may go again (the
breaker closed, the probe slot came free, or `wake()` was told the breaker is half-open with no
probe out), so a message held for the breaker tries again then, not on a timer of its own
while the probe is still out.

The LLM summariser skips the model while its breaker is open (the deterministic summariser
writes the ticket); a sink's open breaker holds the messages that call that sink (`sinks/guard.py`
says which sinks pause all intake instead). All of it runs on the event loop's thread, so
plain attributes need no lock.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from enum import StrEnum

import structlog

log = structlog.get_logger(__name__)


class BreakerState(StrEnum):
    CLOSED = "closed"
    OPEN = "open"
    HALF_OPEN = "half_open"


class Permit:
    """One call's leave to go ahead, handed out by `CircuitBreaker.allow()`; the call's outcome
    is reported with it. Compared by identity: each permit is its own call."""

    __slots__ = ("epoch", "probe")

    def __init__(self, epoch: int, *, probe: bool) -> None:
        #: The breaker's epoch when it was handed out (it moves each time the breaker opens
        #: or closes): an outcome from another epoch is stale.
        self.epoch = epoch
        #: Whether this call is the half-open breaker's one probe.
        self.probe = probe

    def __repr__(self) -> str:
        return f"Permit(epoch={self.epoch}, probe={self.probe})"


class CircuitBreaker:
    def __init__(
        self,
        name: str,
        failure_threshold: int,
        reset_s: float,
        *,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if failure_threshold < 1 or reset_s <= 0:
            raise ValueError("failure_threshold must be ≥ 1 and reset_s > 0")
        self.name = name
        self.failure_threshold = failure_threshold
        self.reset_s = reset_s
        self._clock = clock
        self._failures = 0
        #: When it last opened (a failed probe opens it again): the reset counts from here.
        self._opened_at: float | None = None
        #: When the outage began: its first opening since it was last closed.
        self._outage_since: float | None = None
        #: Moves on each opening and closing: permits of an earlier epoch are stale.
        self._epoch = 0
        #: The half-open breaker's probe while it is out.
        self._probe: Permit | None = None
        #: Set when a refused call may go again (`ready`); made on demand, replaced once set.
        self._ready: asyncio.Event | None = None

    @property
    def state(self) -> BreakerState:
        if self._opened_at is None:
            return BreakerState.CLOSED
        if self._clock() - self._opened_at < self.reset_s:
            return BreakerState.OPEN
        return BreakerState.HALF_OPEN

    def open_for_s(self) -> float:
        """How long it has been open (half-open included): 0.0 while closed. Counted from the
        outage's first opening, not the last failed probe's: from that one, the gauge and the
        alarm on it would never see more than `reset_s`."""
        if self._outage_since is None:
            return 0.0
        return max(0.0, self._clock() - self._outage_since)

    def retry_at(self) -> float | None:
        """The clock time at which the next probe is allowed, while open; else None."""
        if self._opened_at is None:
            return None
        return self._opened_at + self.reset_s

    @property
    def epoch(self) -> int:
        """Moves each time the breaker opens or closes: a caller may note something true of
        this spell of the breaker (a half-open whose own probe could not tell) by it."""
        return self._epoch

    @property
    def probe_out(self) -> bool:
        """Whether the half-open breaker's probe is out: let through, and not reported yet."""
        return self._probe is not None

    def allow(self) -> Permit | None:
        """A permit if a call may go ahead now, else None. In half-open state only one probe
        is let through until it reports back; everyone else is refused as if it were open."""
        state = self.state
        if state is BreakerState.CLOSED:
            return Permit(self._epoch, probe=False)
        if state is BreakerState.HALF_OPEN and self._probe is None:
            self._probe = Permit(self._epoch, probe=True)
            return self._probe
        return None

    def ready(self) -> asyncio.Event:
        """An event set the next time a refused call may go again: the breaker closes, its
        probe slot comes free, or it is found half-open with no probe out (`wake`)."""
        if self._ready is None:
            self._ready = asyncio.Event()
        return self._ready

    def wake(self) -> None:
        """Set `ready()` if a call may go now (closed, or half-open with no probe out), so the
        calls waiting for it do not wait out timers of their own."""
        state = self.state
        if state is BreakerState.CLOSED or (state is BreakerState.HALF_OPEN and not self.probe_out):
            self._set_ready()

    def _set_ready(self) -> None:
        if self._ready is not None:
            self._ready.set()
            self._ready = None

    def admits(self, permit: Permit) -> bool:
        """Whether a call holding `permit` may still make a request now (a call that waited,
        or retries): while the breaker is closed, or as its probe. A call let through before
        the breaker opened is not, so it does not go out beside the probe."""
        return self.state is BreakerState.CLOSED or permit is self._probe

    def success(self, permit: Permit) -> None:
        """The call answered: the failure count starts again; the probe's success closes."""
        if not self._current(permit):
            return
        if permit.probe:
            log.info("breaker.closed", breaker=self.name, open_s=round(self.open_for_s(), 1))
            self._opened_at = self._outage_since = None
            self._probe = None
            self._epoch += 1
            self._set_ready()
        self._failures = 0

    def failure(self, permit: Permit, error: str | None = None) -> bool:
        """The call failed by the service's fault (`error` says how). True when this failure
        opened the breaker (the threshold-th in a row, or the probe's), so `breaker.opened`,
        quoting `error`, is the line that says so and the caller's own line about it need not
        be loud; False otherwise, a stale call's failure included."""
        if not self._current(permit):
            return False
        self._failures += 1
        said = {"error": error} if error is not None else {}
        if permit.probe:
            # The outage goes on: `breaker.opened` said so when it began.
            log.info("breaker.reopened", breaker=self.name, retry_in_s=self.reset_s, **said)
            self._open()
            return True
        if self._failures >= self.failure_threshold:
            log.warning("breaker.opened", breaker=self.name, failures=self._failures,
                        retry_in_s=self.reset_s, **said)  # fmt: skip
            self._open()
            return True
        return False

    def trip(self, why: str = "probed", error: str | None = None) -> None:
        """Open now, whatever the count and whoever asks: the service was found down by a probe
        of its own (`probed`), or told us to wait longer than a call may (`asked_to_wait`).
        `error`, the failure that found it so, is said in the line (the outage's one line at
        warning). A probe still out is stale from now on."""
        if self._opened_at is None:
            said = {"error": error} if error is not None else {}
            log.warning("breaker.opened", breaker=self.name, failures=self._failures + 1,
                        retry_in_s=self.reset_s, why=why, **said)  # fmt: skip
        self._failures += 1
        self._open()

    def cancelled(self, permit: Permit) -> None:
        """The call ended with neither an answer nor a failure (cancelled, or it gave up before
        its request): a probe slot it held is free again. Harmless after an outcome, so a
        caller may say it in a `finally`."""
        if permit is self._probe:
            self._probe = None
            self._set_ready()  # another call may be the probe now

    def _current(self, permit: Permit) -> bool:
        """Whether `permit`'s outcome is news: it is of this epoch, and, while the breaker is
        not closed, it is the probe that is out."""
        return permit.epoch == self._epoch and (not permit.probe or permit is self._probe)

    def _open(self) -> None:
        self._opened_at = self._clock()
        if self._outage_since is None:
            self._outage_since = self._opened_at
        self._probe = None
        self._epoch += 1


def note_opened(error: BaseException, breaker: CircuitBreaker) -> None:
    """Note on `error` that its failure is the one that opened `breaker`, whose
    `breaker.opened` (at warning) is the outage's one line: the line the message's failure
    gets later (`message.retry`) can then be quiet."""
    error.opened_breaker = breaker.name  # type: ignore[attr-defined]


def opened_by(error: BaseException) -> str | None:
    """The breaker `error`'s failure opened (`note_opened`), if it opened one."""
    name = vars(error).get("opened_breaker")
    return name if isinstance(name, str) else None


def note_wake(error: BaseException, breaker: CircuitBreaker) -> None:
    """Note on `error` (a call `breaker` refused) the event its message may wait for
    (`CircuitBreaker.ready`) instead of the whole of its wait."""
    error.wake = breaker.ready()  # type: ignore[attr-defined]


def wake_of(error: BaseException) -> asyncio.Event | None:
    """The event a message held for `error` may stop waiting at (`note_wake`), if any."""
    event = vars(error).get("wake")
    return event if isinstance(event, asyncio.Event) else None
