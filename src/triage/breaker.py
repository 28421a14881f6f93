"""A circuit breaker: stop calling a dependency that keeps failing, and probe it now and then.

    closed ──(failure_threshold consecutive failures)──► open
    open ──(reset_s elapsed)──► half-open: one caller is let through as the probe
    half-open ──probe succeeds──► closed        half-open ──probe fails──► open again

Callers ask `allow()` before each call and report the outcome with `success()` / `failure()`.
The LLM summariser skips the model while its breaker is open (the deterministic summariser
writes the ticket); a sink's open breaker makes the supervisor stop taking messages.
All of it runs on the event loop's thread, so plain attributes need no lock.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from enum import StrEnum

import structlog

log = structlog.get_logger(__name__)


class BreakerState(StrEnum):
    CLOSED = "closed"
    OPEN = "open"
    HALF_OPEN = "half_open"


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
        self._opened_at: float | None = None
        self._probing = False

    @property
    def state(self) -> BreakerState:
        if self._opened_at is None:
            return BreakerState.CLOSED
        if self._clock() - self._opened_at < self.reset_s:
            return BreakerState.OPEN
        return BreakerState.HALF_OPEN

    def open_for_s(self) -> float:
        """How long it has been open (half-open included): 0.0 while closed."""
        if self._opened_at is None:
            return 0.0
        return max(0.0, self._clock() - self._opened_at)

    def retry_at(self) -> float | None:
        """The clock time at which the next probe is allowed, while open; else None."""
        if self._opened_at is None:
            return None
        return self._opened_at + self.reset_s

    def allow(self) -> bool:
        """True if a call may go ahead now. In half-open state only one probe is let through
        until it reports back; everyone else is refused as if the breaker were open."""
        state = self.state
        if state is BreakerState.CLOSED:
            return True
        if state is BreakerState.HALF_OPEN and not self._probing:
            self._probing = True
            return True
        return False

    def success(self) -> None:
        if self._opened_at is not None:
            log.info("breaker.closed", breaker=self.name)
        self._failures = 0
        self._opened_at = None
        self._probing = False

    def failure(self) -> None:
        self._failures += 1
        was_probe = self._probing
        self._probing = False
        if was_probe or (self._opened_at is None and self._failures >= self.failure_threshold):
            self._opened_at = self._clock()
            log.warning(
                "breaker.opened",
                breaker=self.name,
                failures=self._failures,
                retry_in_s=self.reset_s,
            )

    def trip(self, why: str = "probed", error: str | None = None) -> None:
        """Open now, whatever the count: the service was found down by a probe of its own
        (`probed`), or told us to wait longer than a call may (`asked_to_wait`). `error`, the
        failure that found it so, is said in the line (the outage's one line at warning)."""
        if self._opened_at is None:
            said = {"error": error} if error is not None else {}
            log.warning("breaker.opened", breaker=self.name, failures=self._failures + 1,
                        retry_in_s=self.reset_s, why=why, **said)  # fmt: skip
        self._failures += 1
        self._opened_at = self._clock()
        self._probing = False

    def cancelled(self) -> None:
        """The call neither succeeded nor failed (it was cancelled): free the probe slot."""
        self._probing = False
