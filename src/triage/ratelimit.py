"""Token buckets that spread callers out instead of refusing them all at once.

A `TokenBucket` holds up to `capacity` tokens and refills at `capacity / period_s` per second.
`acquire(key)` either takes a token now (returns 0.0) or *reserves* the next free one for `key`
and returns how long that caller must wait. The balance may go negative: each reservation pushes
the next caller's turn one refill interval later, so a hundred callers refused together come back
one by one rather than all at the same instant. A caller that returns with the same key after its
wait takes its reserved token; one that never returns gives it back once `abandon_after_s` passes.

The clock is injected (`time.monotonic` by default), so tests move time instead of sleeping.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass


@dataclass(slots=True)
class _Reservation:
    ready_at: float
    expires_at: float


class TokenBucket:
    """`capacity` tokens per `period_s`, refilled continuously; not thread-safe (one event loop)."""

    def __init__(
        self,
        capacity: int,
        period_s: float,
        *,
        clock: Callable[[], float] = time.monotonic,
        abandon_after_s: float | None = None,
    ) -> None:
        if capacity < 1 or period_s <= 0:
            raise ValueError("a token bucket needs capacity >= 1 and period_s > 0")
        self.capacity = capacity
        self.rate_per_s = capacity / period_s
        self._clock = clock
        # A reservation not claimed this long after it is ready was abandoned (the message went
        # to another replica, or was dropped); its token goes back into the bucket.
        self._abandon_after_s = abandon_after_s if abandon_after_s is not None else period_s
        self._tokens = float(capacity)
        self._updated = clock()
        self._reservations: dict[str, _Reservation] = {}

    def available(self) -> float:
        """Tokens that can be taken now without waiting (may be negative while callers wait)."""
        self._refill()
        return self._tokens

    def has(self, count: float = 1.0) -> bool:
        """True if `count` tokens could be taken now, without taking them."""
        return self.available() >= count

    def holds(self, key: str) -> bool:
        """True if `key` holds a reservation (it already waited its turn once)."""
        self._refill()
        return key in self._reservations

    def acquire(self, key: str, *, keep: int = 0) -> float:
        """Take a token for `key`: 0.0 when taken, else the seconds until its reserved token is
        ready. `keep` tokens stay in the bucket for other uses (they are never handed out here)."""
        self._refill()
        now = self._clock()
        held = self._reservations.get(key)
        if held is not None:
            if now >= held.ready_at:
                del self._reservations[key]  # its token was taken when it was reserved
                return 0.0
            return held.ready_at - now
        if self._tokens - keep >= 1:
            self._tokens -= 1
            return 0.0
        # Take the token now (the balance goes negative) and tell the caller when the balance
        # will be back where this token would have been free: every later caller waits longer.
        self._tokens -= 1
        wait_s = (keep - self._tokens) / self.rate_per_s
        self._reservations[key] = _Reservation(now + wait_s, now + wait_s + self._abandon_after_s)
        return wait_s

    def give_back(self) -> None:
        """Return a token `acquire` handed out at once but the caller did not use (another
        limit refused it), so the next caller can have it."""
        self._refill()
        self._tokens = min(float(self.capacity), self._tokens + 1)

    def cancel(self, key: str) -> None:
        """Give back `key`'s reserved token (it no longer needs one)."""
        if self._reservations.pop(key, None) is not None:
            self._tokens = min(float(self.capacity), self._tokens + 1)

    def _refill(self) -> None:
        now = self._clock()
        elapsed = max(0.0, now - self._updated)
        self._updated = now
        self._tokens = min(float(self.capacity), self._tokens + elapsed * self.rate_per_s)
        for key in [k for k, r in self._reservations.items() if now >= r.expires_at]:
            self.cancel(key)
