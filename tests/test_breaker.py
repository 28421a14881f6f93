"""The circuit breaker's state machine, on an injected clock."""

from __future__ import annotations

from triage.breaker import BreakerState, CircuitBreaker


def make(threshold: int = 3, reset_s: float = 10.0) -> tuple[CircuitBreaker, list[float]]:
    now = [0.0]
    return CircuitBreaker("dep", threshold, reset_s, clock=lambda: now[0]), now


def test_opens_after_consecutive_failures_only() -> None:
    """A success in between resets the count; the threshold-th failure in a row opens it."""
    breaker, _ = make(threshold=3)
    breaker.failure()
    breaker.failure()
    breaker.success()
    breaker.failure()
    breaker.failure()
    assert breaker.state is BreakerState.CLOSED and breaker.allow()
    breaker.failure()
    assert breaker.state is BreakerState.OPEN
    assert not breaker.allow()


def test_half_open_lets_exactly_one_probe_through() -> None:
    """After reset_s one caller probes; others are refused until the probe reports."""
    breaker, now = make(threshold=1, reset_s=10)
    breaker.failure()
    assert breaker.retry_at() == 10
    now[0] = 9.9
    assert not breaker.allow()
    now[0] = 10
    assert breaker.state is BreakerState.HALF_OPEN
    assert breaker.allow()
    assert not breaker.allow()
    breaker.success()
    assert breaker.state is BreakerState.CLOSED and breaker.allow()


def test_failed_probe_reopens_for_another_period() -> None:
    """A failing probe opens the breaker again from the time it failed."""
    breaker, now = make(threshold=2, reset_s=10)
    breaker.failure()
    breaker.failure()
    now[0] = 15
    assert breaker.allow()
    breaker.failure()
    assert breaker.state is BreakerState.OPEN
    assert breaker.retry_at() == 25


def test_cancelled_probe_frees_the_slot() -> None:
    """A probe that was cancelled lets the next caller probe instead of blocking forever."""
    breaker, now = make(threshold=1, reset_s=1)
    breaker.failure()
    now[0] = 1
    assert breaker.allow()
    breaker.cancelled()
    assert breaker.allow()
