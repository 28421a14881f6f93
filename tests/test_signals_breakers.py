"""The breaker gauges over a long outage: BreakerOpenDuration counts from the outage's start
through every failed probe, so the breaker-open alarm (300 s against a 30 s reset) can fire."""

from __future__ import annotations

import structlog

from triage.breaker import CircuitBreaker
from triage.metrics import Metrics
from triage.ops.gauges import watch_breakers

DURATION = ("BreakerOpenDuration", (("breaker", "sink:backend"),))
STATE = ("BreakerState", (("breaker", "sink:backend"),))


def test_open_duration_counts_the_whole_outage_through_failed_probes() -> None:
    """Opened at t=0 with a 30 s reset, probed and found down again every 30 s for ten minutes:
    the gauge reads 600 s (not the 30 s since the last reopen), the state stays open, and
    the probe that succeeds says open_s for the whole outage and reads 0 again."""
    now = [1000.0]
    breaker = CircuitBreaker("sink:backend", 1, 30, clock=lambda: now[0])
    metrics = Metrics()
    watch_breakers(metrics, [breaker])
    breaker.trip(error="connection refused")
    for _ in range(20):
        now[0] += 30
        probe = breaker.allow()
        assert probe is not None and probe.probe
        breaker.failure(probe, "connection refused")
    gauges = metrics.gauges()
    assert gauges[DURATION].value == 600
    assert gauges[STATE].value == 2
    now[0] += 30
    probe = breaker.allow()
    assert probe is not None
    with structlog.testing.capture_logs() as logs:
        breaker.success(probe)
    assert [(e["event"], e["open_s"]) for e in logs] == [("breaker.closed", 630)]
    assert metrics.gauges()[DURATION].value == 0


def test_a_new_outage_counts_from_its_own_start() -> None:
    """After the breaker closed, the next opening counts from 0 again."""
    now = [0.0]
    breaker = CircuitBreaker("sink:backend", 1, 30, clock=lambda: now[0])
    breaker.trip()
    now[0] += 45
    probe = breaker.allow()
    assert probe is not None
    breaker.success(probe)
    now[0] += 100
    breaker.trip()
    now[0] += 5
    assert breaker.open_for_s() == 5
