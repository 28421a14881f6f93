"""Gauges read from the daemon's parts: each circuit breaker's state and how long it has been
open, and the tokens left in each shared budget (GitHub's issue-creation budgets)."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable

import structlog

from triage.breaker import BreakerState, CircuitBreaker
from triage.metrics import Metrics
from triage.ratelimit import Budget, Budgets

log = structlog.get_logger(__name__)

#: `BreakerState`'s values: a number an alarm can compare.
_STATE = {BreakerState.CLOSED: 0.0, BreakerState.HALF_OPEN: 1.0, BreakerState.OPEN: 2.0}


def breakers_of(*parts: object) -> list[CircuitBreaker]:
    """The circuit breakers of the daemon's parts: a guarded sink's, and the LLM summariser's
    (also when it stands behind the fallback summariser as its `primary`)."""
    found: list[CircuitBreaker] = []
    for part in parts:
        for candidate in (part, getattr(part, "primary", None)):
            breaker = getattr(candidate, "breaker", None)
            if isinstance(breaker, CircuitBreaker) and breaker not in found:
                found.append(breaker)
    return found


def watch_breakers(metrics: Metrics, breakers: Iterable[CircuitBreaker]) -> None:
    """`BreakerState{breaker}` and `BreakerOpenDuration{breaker}`, read at each export."""
    for breaker in breakers:
        metrics.gauge("BreakerState", _state_of(breaker), unit="None", breaker=breaker.name)
        metrics.gauge(
            "BreakerOpenDuration", breaker.open_for_s, unit="Seconds", breaker=breaker.name
        )


def _state_of(breaker: CircuitBreaker) -> Callable[[], float]:
    return lambda: _STATE[breaker.state]


class MeteredBudgets:
    """The store's budgets, with `BudgetTokens{budget}`: the tokens left as this process last
    read them, refilled to the time of the export (other replicas' draws show at our next).
    Once a take or a read fails, the tokens are unknown (the gauge is left out) until a read
    works: the last reading, refilled through an outage, showed a full budget nobody read."""

    def __init__(
        self, inner: Budgets, metrics: Metrics, *, clock: Callable[[], float] = time.time
    ) -> None:
        self.inner = inner
        self.metrics = metrics
        self._clock = clock
        #: Each budget's last reading (tokens, when), None while unknown.
        self._read: dict[str, tuple[Budget, float, float] | None] = {}

    async def take_token(self, budget: Budget, now_s: float, *, keep: int = 0) -> float:
        try:
            wait_s = await self.inner.take_token(budget, now_s, keep=keep)
        except BaseException:
            self._forget(budget)
            raise
        await self._note(budget, now_s)
        return wait_s

    async def give_back_token(self, budget: Budget, now_s: float) -> None:
        try:
            await self.inner.give_back_token(budget, now_s)
        except BaseException:
            self._forget(budget)
            raise
        await self._note(budget, now_s)

    async def budget_tokens(self, budget: Budget, now_s: float) -> float:
        try:
            tokens = await self.inner.budget_tokens(budget, now_s)
        except BaseException:
            self._forget(budget)
            raise
        self._remember(budget, tokens, now_s)
        return tokens

    async def _note(self, budget: Budget, now_s: float) -> None:
        """Read the tokens left for the gauge. A gauge must never change what it measures: a
        read that fails after the token was taken (the store went down between the two) leaves
        the tokens unknown instead of failing the take, which would lose the token it took."""
        try:
            tokens = await self.inner.budget_tokens(budget, now_s)
        except Exception as exc:  # any failure: unknown until the next read
            log.debug("budget.read_failed", budget=budget.name, error=str(exc))
            self._forget(budget)
            return
        self._remember(budget, tokens, now_s)

    def _remember(self, budget: Budget, tokens: float, now_s: float) -> None:
        if budget.name not in self._read:
            self.metrics.gauge("BudgetTokens", self._reader(budget.name), budget=budget.name)
        self._read[budget.name] = (budget, tokens, now_s)

    def _forget(self, budget: Budget) -> None:
        """The tokens of `budget` are unknown: its gauge is left out until a read works."""
        if budget.name in self._read:
            self._read[budget.name] = None

    def _reader(self, name: str) -> Callable[[], float | None]:
        def read() -> float | None:
            reading = self._read[name]
            if reading is None:
                return None
            budget, tokens, at_s = reading
            return budget.tokens((tokens, at_s), self._clock())

        return read
