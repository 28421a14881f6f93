"""Token buckets: `TokenBucket` in this process's memory, and `Budget`, whose state lives in the
store so that every replica draws on one budget (GitHub's issue-creation budget).

A `TokenBucket` holds up to `capacity` tokens and refills at `capacity / period_s` per second.
`acquire(key)` either takes a token now (returns 0.0) or *reserves* the next free one for `key`
and returns how long that caller must wait. The balance may go negative: each reservation pushes
the next caller's turn one refill interval later, so a hundred callers refused together come back
one by one rather than all at the same instant. A caller that returns with the same key after its
wait takes its reserved token; one that never returns gives it back once `abandon_after_s` passes.

A `Budget` is only the arithmetic (capacity, period, refill); `Budgets` draws tokens from wherever
its state is kept: the store (one conditional write per token) or `LocalBudgets`. A caller that
is refused is told how long until a token is free, and comes back then.

Clocks are injected, so tests move time instead of sleeping.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol


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


@dataclass(frozen=True, slots=True)
class Budget:
    """`capacity` tokens per `period_s`, refilled continuously, whose state is kept elsewhere
    (the store, so every replica draws on the same budget). Times are epoch seconds."""

    name: str
    capacity: int
    period_s: float

    @property
    def rate_per_s(self) -> float:
        return self.capacity / self.period_s

    def tokens(self, state: tuple[float, float] | None, now_s: float) -> float:
        """The tokens held at `now_s`, from the stored (tokens, updated_s); full when unknown."""
        return self.settled(state, now_s)[0]

    def settled(self, state: tuple[float, float] | None, now_s: float) -> tuple[float, float]:
        """The stored (tokens, updated_s) as it stands at `now_s`, dated `now_s`: refilled for
        the time since it was written, full when unknown. A record dated later than `now_s`
        was written by a clock ahead of this one (stepped back since, or a replica's that
        disagrees): it is never refilled for time that has not passed, and is dated now, so
        refills count from now, not from when the clock gets back to it. Dated a whole
        period or more ahead, it says nothing of now (no replica's clock is that far off
        unless one was stepped): full, as an unknown budget is."""
        if state is None:
            return float(self.capacity), now_s
        tokens, updated_s = state
        ahead_s = updated_s - now_s
        if ahead_s >= self.period_s:
            return float(self.capacity), now_s
        refill = max(0.0, -ahead_s) * self.rate_per_s
        return min(float(self.capacity), tokens + refill), now_s

    def wait_s(self, tokens: float, keep: int = 0) -> float:
        """Seconds until `tokens` have refilled far enough to give one away and keep `keep`."""
        return max(0.0, (1 + keep - tokens) / self.rate_per_s)


class Budgets(Protocol):
    """Where budgets are drawn from: the store (shared by replicas) or `LocalBudgets`."""

    async def take_token(self, budget: Budget, now_s: float, *, keep: int = 0) -> float:
        """Take a token unless fewer than `keep` would be left: 0.0 when taken, else the
        seconds until one is free."""
        ...

    async def give_back_token(self, budget: Budget, now_s: float) -> None: ...

    async def budget_tokens(self, budget: Budget, now_s: float) -> float: ...


class LocalBudgets:
    """Budgets in this process's memory, for a process without a shared store (`triage check`,
    tests); the daemon draws on the store's."""

    def __init__(self) -> None:
        self._state: dict[str, tuple[float, float]] = {}

    async def take_token(self, budget: Budget, now_s: float, *, keep: int = 0) -> float:
        tokens, _ = settled = budget.settled(self._state.get(budget.name), now_s)
        if tokens - keep < 1:
            # Written even when refused: a record dated ahead of the clock is dated now.
            self._state[budget.name] = settled
            return budget.wait_s(tokens, keep)
        self._state[budget.name] = (tokens - 1, now_s)
        return 0.0

    async def give_back_token(self, budget: Budget, now_s: float) -> None:
        tokens = budget.tokens(self._state.get(budget.name), now_s)
        self._state[budget.name] = (min(float(budget.capacity), tokens + 1), now_s)

    async def budget_tokens(self, budget: Budget, now_s: float) -> float:
        return budget.tokens(self._state.get(budget.name), now_s)
