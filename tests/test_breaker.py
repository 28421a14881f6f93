"""The circuit breaker's state machine, on an injected clock: its counts, its one probe, and
the permits that tell the probe's outcome from a stale call's."""

from __future__ import annotations

import structlog.testing

from triage.breaker import BreakerState, CircuitBreaker, Permit


def make(threshold: int = 3, reset_s: float = 10.0) -> tuple[CircuitBreaker, list[float]]:
    now = [0.0]
    return CircuitBreaker("dep", threshold, reset_s, clock=lambda: now[0]), now


def allowed(breaker: CircuitBreaker) -> Permit:
    permit = breaker.allow()
    assert permit is not None
    return permit


def fail(breaker: CircuitBreaker, times: int = 1) -> None:
    for _ in range(times):
        breaker.failure(allowed(breaker))


def test_opens_after_consecutive_failures_only() -> None:
    """A success in between resets the count; the threshold-th failure in a row opens it."""
    breaker, _ = make(threshold=3)
    fail(breaker, 2)
    breaker.success(allowed(breaker))
    fail(breaker, 2)
    assert breaker.state is BreakerState.CLOSED and breaker.allow()
    assert breaker.failure(allowed(breaker)) is True
    assert breaker.state is BreakerState.OPEN
    assert breaker.allow() is None


def test_failure_says_whether_it_opened_the_breaker() -> None:
    """Only the failure that opens the breaker (the threshold-th, or the probe's) says so."""
    breaker, now = make(threshold=2, reset_s=10)
    assert breaker.failure(allowed(breaker)) is False
    assert breaker.failure(allowed(breaker)) is True
    now[0] = 10
    assert breaker.failure(allowed(breaker)) is True


def test_half_open_lets_exactly_one_probe_through() -> None:
    """After reset_s one caller probes; others are refused until the probe reports."""
    breaker, now = make(threshold=1, reset_s=10)
    fail(breaker)
    assert breaker.retry_at() == 10
    now[0] = 9.9
    assert breaker.allow() is None
    now[0] = 10
    assert breaker.state is BreakerState.HALF_OPEN
    probe = allowed(breaker)
    assert probe.probe and breaker.allow() is None
    breaker.success(probe)
    assert breaker.state is BreakerState.CLOSED and breaker.allow()


def test_failed_probe_reopens_for_another_period() -> None:
    """A failing probe opens the breaker again from the time it failed."""
    breaker, now = make(threshold=2, reset_s=10)
    fail(breaker, 2)
    now[0] = 15
    fail(breaker)
    assert breaker.state is BreakerState.OPEN
    assert breaker.retry_at() == 25


def test_cancelled_probe_frees_the_slot() -> None:
    """A probe that was cancelled lets the next caller probe instead of blocking forever."""
    breaker, now = make(threshold=1, reset_s=1)
    fail(breaker)
    now[0] = 1
    breaker.cancelled(allowed(breaker))
    assert breaker.allow() is not None


def test_a_stale_success_does_not_close_a_breaker_whose_probe_is_out() -> None:
    """A call let through while closed that succeeds after the breaker opened (and while its
    probe is out) closes nothing: the probe is still the only one out, and its outcome counts."""
    breaker, now = make(threshold=1, reset_s=10)
    stale = allowed(breaker)
    fail(breaker)
    now[0] = 10
    probe = allowed(breaker)
    breaker.success(stale)
    assert breaker.state is BreakerState.HALF_OPEN and breaker.allow() is None
    breaker.failure(probe)
    assert breaker.state is BreakerState.OPEN and breaker.retry_at() == 20


def test_a_stale_failure_does_not_reopen_a_breaker_its_probe_closed() -> None:
    """A call let through before the breaker opened that fails after a probe closed it
    leaves it closed, and is not counted towards the next opening."""
    breaker, now = make(threshold=1, reset_s=10)
    stale = allowed(breaker)
    fail(breaker)
    now[0] = 10
    breaker.success(allowed(breaker))
    assert breaker.failure(stale) is False
    assert breaker.state is BreakerState.CLOSED and breaker.allow() is not None


def test_a_stale_outcome_does_not_take_the_probe_slot() -> None:
    """A stale call's failure or cancellation while the probe is out neither reopens the
    breaker nor lets a second probe through."""
    breaker, now = make(threshold=1, reset_s=10)
    stale = [allowed(breaker), allowed(breaker)]
    fail(breaker)
    now[0] = 10
    probe = allowed(breaker)
    assert breaker.failure(stale[0]) is False
    breaker.cancelled(stale[1])
    assert breaker.state is BreakerState.HALF_OPEN and breaker.allow() is None
    assert not breaker.admits(stale[0]) and breaker.admits(probe)
    breaker.success(probe)
    assert breaker.state is BreakerState.CLOSED


def test_a_trip_makes_the_probe_out_stale() -> None:
    """Tripped while its probe is out (the service said it is down), the breaker opens for
    another period, and the old probe's late success does not close it."""
    breaker, now = make(threshold=1, reset_s=10)
    fail(breaker)
    now[0] = 10
    probe = allowed(breaker)
    now[0] = 12
    breaker.trip("asked_to_wait")
    breaker.success(probe)
    assert breaker.state is BreakerState.OPEN and breaker.retry_at() == 22


def test_an_outage_is_one_warning_however_many_probes_fail() -> None:
    """The opening is `breaker.opened` at warning; each failed probe after it reopens the
    breaker with `breaker.reopened` at info, and the probe that succeeds says `breaker.closed`."""
    breaker, now = make(threshold=1, reset_s=10)
    with structlog.testing.capture_logs() as logs:
        fail(breaker)
        for _ in range(3):
            now[0] += 10
            fail(breaker)
        now[0] += 10
        breaker.success(allowed(breaker))
    assert [(e["event"], e["log_level"]) for e in logs] == [
        ("breaker.opened", "warning"),
        *[("breaker.reopened", "info")] * 3,
        ("breaker.closed", "info"),
    ]
