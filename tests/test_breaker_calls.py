"""The breakers' users tell their probe from a stale call: the LLM summariser and a guarded
sink, each with calls held open by the test, so a call let through before the breaker opened
can report after it has (or after its probe closed it again); and cancelled calls give back
their probe slot and the LLM's request slots."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from dataclasses import dataclass, field

import pytest

from factories import alert, view
from triage.breaker import BreakerState, CircuitBreaker
from triage.errors import ModelError, SinkThrottledError, SinkUnavailableError, SummariserError
from triage.health import Health
from triage.models import EffectKind, Priority, Ticket
from triage.settings import Settings
from triage.sinks.base import Applied, Effect
from triage.sinks.guard import Backpressure, GuardedSink
from triage.summarise.chat import Answer
from triage.summarise.llm import LlmSummariser

RESET_S = 10.0
GOOD = Answer(
    json.dumps(
        {"title": "API fails", "priority": "high", "description": "It fails.", "steps": ["Look"]}
    )
)
DOWN = ModelError("server_error_503", outcome="server_error", retryable=True)


async def until(condition: Callable[[], bool]) -> None:
    """Wait for `condition`, at most 5 s."""
    async with asyncio.timeout(5):
        while not condition():
            await asyncio.sleep(0)


class GatedModel:
    """A model whose every request waits until the test answers it (`calls[i]`)."""

    provider = "gated"
    model = "gated"

    def __init__(self) -> None:
        self.calls: list[asyncio.Future[Answer | ModelError]] = []

    async def complete(self, system: str, user: str, timeout_s: float) -> Answer:
        call: asyncio.Future[Answer | ModelError] = asyncio.get_running_loop().create_future()
        self.calls.append(call)
        outcome = await call
        if isinstance(outcome, ModelError):
            raise outcome
        return outcome

    async def aclose(self) -> None:
        return None


def llm_with(model: GatedModel, now: list[float]) -> LlmSummariser:
    breaker = CircuitBreaker("llm", 1, RESET_S, clock=lambda: now[0])
    settings = Settings(openai_api_key="sk-test-" + "k" * 32, llm_retries=0)
    return LlmSummariser(settings, model=model, breaker=breaker)


async def started(model: GatedModel, llm: LlmSummariser) -> asyncio.Task[Ticket]:
    """A summarise call, once its request is waiting for an answer."""
    count = len(model.calls)
    task = asyncio.create_task(llm.summarise(view(alert())))
    await until(lambda: len(model.calls) > count)
    return task


async def opened(model: GatedModel, llm: LlmSummariser) -> None:
    """A call that fails by the provider's fault: the breaker (threshold 1) opens."""
    failing = await started(model, llm)
    model.calls[-1].set_result(DOWN)
    with pytest.raises(SummariserError):
        await failing
    assert llm.breaker.state is BreakerState.OPEN


async def test_a_stale_success_does_not_close_the_llm_breaker_while_its_probe_is_out() -> None:
    """A model call made before the breaker opened that succeeds while the half-open probe
    is still out leaves the breaker half-open: the next call is refused, not sent beside it."""
    now = [0.0]
    model = GatedModel()
    llm = llm_with(model, now)
    stale = await started(model, llm)
    await opened(model, llm)
    now[0] = RESET_S
    probe = await started(model, llm)
    model.calls[0].set_result(GOOD)
    await stale
    assert llm.breaker.state is BreakerState.HALF_OPEN
    with pytest.raises(SummariserError, match="breaker_open"):
        await llm.summarise(view(alert()))
    model.calls[2].set_result(GOOD)
    await probe
    assert llm.breaker.state is BreakerState.CLOSED


async def test_a_stale_failure_does_not_reopen_the_llm_breaker_its_probe_closed() -> None:
    """A model call made before the breaker opened that fails after the probe closed it
    leaves it closed."""
    now = [0.0]
    model = GatedModel()
    llm = llm_with(model, now)
    stale = await started(model, llm)
    await opened(model, llm)
    now[0] = RESET_S
    probe = await started(model, llm)
    model.calls[2].set_result(GOOD)
    await probe
    model.calls[0].set_result(DOWN)
    with pytest.raises(SummariserError):
        await stale
    assert llm.breaker.state is BreakerState.CLOSED


async def test_a_cancelled_llm_probe_lets_the_next_call_probe() -> None:
    """A probe cancelled mid-request (its message timed out, the daemon stopped) frees the
    probe slot: the next call is the probe, not refused for ever."""
    now = [0.0]
    model = GatedModel()
    llm = llm_with(model, now)
    await opened(model, llm)
    now[0] = RESET_S
    probe = await started(model, llm)
    probe.cancel()
    await asyncio.gather(probe, return_exceptions=True)
    second = await started(model, llm)
    model.calls[-1].set_result(GOOD)
    await second
    assert llm.breaker.state is BreakerState.CLOSED


@dataclass
class GatedSink:
    """A sink whose every call waits until the test answers it."""

    name: str = "backend"
    calls: list[asyncio.Future[str]] = field(default_factory=list)

    async def _wait(self) -> None:
        call: asyncio.Future[str] = asyncio.get_running_loop().create_future()
        self.calls.append(call)
        if await call == "down":
            raise SinkUnavailableError("503")

    async def apply(self, effect: Effect) -> Applied:
        await self._wait()
        return Applied("T-1")

    async def aclose(self) -> None:
        return None


@dataclass
class GatedProbedSink(GatedSink):
    """A GatedSink with a probe of its own, gated too."""

    async def probe(self) -> None:
        await self._wait()


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


def guard(sink: GatedSink, now: list[float]) -> GuardedSink:
    clock = lambda: now[0]  # noqa: E731
    return GuardedSink(sink, CircuitBreaker("sink:backend", 1, RESET_S, clock=clock), clock=clock)


async def applying(sink: GatedSink, guarded: GuardedSink) -> asyncio.Task[Applied]:
    """An apply call, once it waits for the sink's answer."""
    count = len(sink.calls)
    task = asyncio.create_task(guarded.apply(effect()))
    await until(lambda: len(sink.calls) > count)
    return task


async def test_a_stale_success_does_not_close_a_sink_breaker_whose_probe_message_is_out() -> None:
    """A sink without a probe: a call made before its breaker opened that succeeds while the
    probing message is out leaves the breaker half-open, so a second message is still held."""
    now = [0.0]
    sink = GatedSink()
    guarded = guard(sink, now)
    stale = await applying(sink, guarded)
    failing = await applying(sink, guarded)
    sink.calls[1].set_result("down")
    with pytest.raises(SinkUnavailableError):
        await failing
    now[0] = RESET_S
    probe = await applying(sink, guarded)
    sink.calls[0].set_result("ok")
    await stale
    assert guarded.breaker.state is BreakerState.HALF_OPEN
    with pytest.raises(SinkThrottledError):
        await guarded.apply(effect())
    sink.calls[2].set_result("ok")
    await probe
    assert guarded.breaker.state is BreakerState.CLOSED


async def test_a_stale_failure_does_not_restart_a_sink_breakers_probe() -> None:
    """A sink with a probe: a call made before its breaker opened that fails while the probe
    is out is held, and neither reopens the breaker for another period nor lets a second
    probe out; the probe's success closes it."""
    now = [0.0]
    sink = GatedProbedSink()
    guarded = guard(sink, now)
    stale = await applying(sink, guarded)
    failing = await applying(sink, guarded)
    sink.calls[1].set_result("down")  # the call fails, and the probe that confirms it does too
    await until(lambda: len(sink.calls) == 3)
    sink.calls[2].set_result("down")
    with pytest.raises(SinkThrottledError):
        await failing
    now[0] = RESET_S
    guarded.start_probe()
    await until(lambda: len(sink.calls) == 4)
    sink.calls[0].set_result("down")
    with pytest.raises(SinkThrottledError):
        await stale
    assert guarded.breaker.state is BreakerState.HALF_OPEN
    guarded.start_probe()
    sink.calls[3].set_result("ok")
    await until(lambda: guarded.breaker.state is BreakerState.CLOSED)
    assert len(sink.calls) == 4
    await guarded.aclose()


async def test_cancelled_calls_give_their_request_slots_back() -> None:
    """With TRIAGE_LLM_CONCURRENCY 1, calls cancelled while they wait for the slot, or while
    they hold it (one in the same turn as the holder's answer wakes it), leave the slot free:
    the next call makes its request."""
    model = GatedModel()
    settings = Settings(openai_api_key="sk-test-" + "k" * 32, llm_retries=0, llm_concurrency=1)
    llm = LlmSummariser(settings, model=model)
    holder = await started(model, llm)
    waiting = [asyncio.create_task(llm.summarise(view(alert()))) for _ in range(2)]
    for _ in range(10):  # let both reach the slot's queue (no request goes out meanwhile)
        await asyncio.sleep(0)
    assert len(model.calls) == 1
    waiting[0].cancel()
    model.calls[0].set_result(GOOD)
    waiting[1].cancel()
    await holder
    await asyncio.gather(*waiting, return_exceptions=True)
    second = await started(model, llm)
    second.cancel()
    await asyncio.gather(second, return_exceptions=True)
    third = await started(model, llm)
    model.calls[-1].set_result(GOOD)
    await third


async def test_a_half_open_sink_limits_intake_only_while_its_probe_is_out() -> None:
    """A half-open sink without a probe of its own (Slack, which only some routes use) does
    not hold intake to one message before a message has called it: messages for other sinks
    go on at full speed (intake stayed at one until one of its own came). While its probe
    message is out, intake is one; once it succeeds, unlimited."""
    now = [0.0]
    slack, other = GatedSink("slack"), GatedSink("backend")
    guarded = guard(slack, now)
    pressure = Backpressure([guarded, guard(other, now)], Health())
    failing = await applying(slack, guarded)
    slack.calls[0].set_result("down")
    with pytest.raises(SinkUnavailableError):
        await failing
    assert pressure.intake_limit() == 0
    now[0] = RESET_S
    assert pressure.intake_limit() is None
    probe = await applying(slack, guarded)
    assert pressure.intake_limit() == 1
    slack.calls[1].set_result("ok")
    await probe
    assert pressure.intake_limit() is None
