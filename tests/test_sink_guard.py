"""Per-sink circuit breakers and the intake limit they put on the supervisor."""

from __future__ import annotations

from dataclasses import dataclass, field

import pytest

from factories import alert, view
from triage.breaker import BreakerState, CircuitBreaker
from triage.errors import SinkRejectedError, SinkThrottledError, SinkUnavailableError
from triage.health import Health
from triage.models import EffectKind, Priority, Ticket
from triage.sinks.base import Applied, Effect
from triage.sinks.guard import Backpressure, GuardedSink


@dataclass
class FlakySink:
    """A sink whose next answers are scripted: "ok", "down" or "reject"."""

    name: str = "backend"
    answers: list[str] = field(default_factory=list)
    calls: int = 0
    paused: float | None = None

    async def apply(self, effect: Effect) -> Applied:
        self.calls += 1
        answer = self.answers.pop(0) if self.answers else "ok"
        if answer == "down":
            raise SinkUnavailableError("503")
        if answer == "reject":
            raise SinkRejectedError("422")
        return Applied("T-1")

    async def aclose(self) -> None:
        return None

    def paused_until(self) -> float | None:
        return self.paused


def effect() -> Effect:
    return Effect(
        kind=EffectKind.OPEN,
        fingerprint="f" * 32,
        alert=view(alert()),
        ticket=Ticket(title="t", priority=Priority.HIGH, description="d"),
        ref=None,
        occurrences=1,
        new_occurrences=1,
        flapping=False,
        idempotency_key="f:1",
    )


def guard(sink: FlakySink, now: list[float], failures: int = 2) -> GuardedSink:
    clock = lambda: now[0]  # noqa: E731
    return GuardedSink(sink, CircuitBreaker("sink:x", failures, 30, clock=clock), clock=clock)


async def test_open_breaker_stops_calls_and_pauses_intake() -> None:
    """After consecutive outages the sink is not called, and intake drops to zero."""
    now = [0.0]
    sink = FlakySink(answers=["down", "down"])
    guarded = guard(sink, now)
    health = Health()
    pressure = Backpressure([guarded], health)
    for _ in range(2):
        with pytest.raises(SinkUnavailableError):
            await guarded.apply(effect())
    assert pressure.intake_limit() == 0
    assert not health.ready and "breaker:backend" in health.failing()
    with pytest.raises(SinkThrottledError, match="circuit breaker is open") as caught:
        await guarded.apply(effect())
    assert caught.value.retry_after_s == 30
    assert sink.calls == 2


async def test_half_open_takes_one_probe_and_recovery_reopens_intake() -> None:
    """After the reset time the next message to call the sink is its probe (intake is not
    held to one before it: tests/test_breaker_calls.py); its success restores full intake."""
    now = [0.0]
    sink = FlakySink(answers=["down", "down"])
    guarded = guard(sink, now)
    health = Health()
    pressure = Backpressure([guarded], health)
    for _ in range(2):
        with pytest.raises(SinkUnavailableError):
            await guarded.apply(effect())
    now[0] = 30
    assert pressure.intake_limit() is None and not health.ready
    assert (await guarded.apply(effect())).ref == "T-1"
    assert pressure.intake_limit() is None
    assert health.ready


async def test_rejections_do_not_open_the_breaker() -> None:
    """A 4xx for one ticket means the service is up: it never opens the breaker."""
    now = [0.0]
    sink = FlakySink(answers=["reject"] * 5)
    guarded = guard(sink, now)
    for _ in range(5):
        with pytest.raises(SinkRejectedError):
            await guarded.apply(effect())
    assert Backpressure([guarded], Health()).intake_limit() is None


async def test_a_paused_sink_stops_intake_until_its_deadline() -> None:
    """A sink that reports a rate-limit deadline pauses intake until then, breaker or not."""
    now = [100.0]
    sink = FlakySink(paused=160.0)
    pressure = Backpressure([guard(sink, now)], Health())
    assert pressure.intake_limit() == 0
    now[0] = 161
    assert pressure.intake_limit() is None


@dataclass
class ProbedSink(FlakySink):
    """A FlakySink with a probe of its own, whose answers are scripted too."""

    probes: list[str] = field(default_factory=list)
    probed: int = 0

    async def probe(self) -> str:
        self.probed += 1
        if (self.probes.pop(0) if self.probes else "ok") == "down":
            raise SinkUnavailableError("503 on OPTIONS")
        return "up"


async def test_a_failure_its_probe_confirms_opens_at_once_and_holds_the_message() -> None:
    """One failed call whose probe fails too opens the breaker (threshold 5 or not) and is a
    hold, not a failure of the message; a failure the probe does not confirm only counts."""
    now = [0.0]
    sink = ProbedSink(answers=["down", "down"], probes=["ok", "down"])
    guarded = guard(sink, now, failures=5)
    with pytest.raises(SinkUnavailableError):
        await guarded.apply(effect())  # the probe answers: the message's own failure
    assert guarded.breaker.state is BreakerState.CLOSED
    with pytest.raises(SinkThrottledError, match="held until its probe"):
        await guarded.apply(effect())
    assert guarded.breaker.state is BreakerState.OPEN
    assert Backpressure([guarded], Health()).intake_limit() == 0


async def test_held_messages_alone_get_a_half_open_sink_probed_and_resumed() -> None:
    """While every worker holds a message (no receive asks for the intake limit), a held
    message's retry in half-open starts the sink's own probe instead of being the probe
    itself; once the probe answers the next retry goes through."""
    now = [0.0]
    sink = ProbedSink(answers=["down"], probes=["down"])
    guarded = guard(sink, now, failures=5)
    with pytest.raises(SinkThrottledError):
        await guarded.apply(effect())
    now[0] = 30  # half-open
    with pytest.raises(SinkThrottledError):
        await guarded.apply(effect())
    assert guarded._probe is not None
    await guarded._probe
    assert guarded.breaker.state is BreakerState.CLOSED
    assert (await guarded.apply(effect())).ref == "T-1"
    assert (sink.calls, sink.probed) == (2, 2)
