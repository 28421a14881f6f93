"""Every model call `LLMLatency` times is counted in `LLMCalls`, however it ends: one cut off
by cancellation (the message's timeout, a stop) as `cancelled`, one failing with an exception
no `ModelError` names as `error`, each re-raised unchanged. Otherwise the two disagree and an
operator cannot see the calls abandoned."""

from __future__ import annotations

import asyncio
import time

import pytest

from factories import alert, view
from hostile_server import Answer as Reply
from hostile_server import HostileServer, hostile
from triage.metrics import Metrics
from triage.redact import Redactor
from triage.settings import Settings
from triage.summarise import FallbackSummariser, build_summariser
from triage.summarise.chat import Answer
from triage.summarise.llm import LlmSummariser

KEY = "proxy-cred-430-Zq8Lm2"


def _never_answers() -> Reply:
    """Reads the request and never answers: only a cancellation ends the call."""

    async def write(writer: asyncio.StreamWriter) -> None:
        await asyncio.Event().wait()

    return write


def _summariser(url: str, metrics: Metrics) -> FallbackSummariser:
    """The real OpenAI-compatible client, with a timeout far beyond any test's wait, so the
    call ends only by the cancellation the test makes."""
    settings = Settings(
        openai_api_key=KEY,
        openai_base_url=url,
        llm_timeout_s=60.0,
        llm_retries=0,
    )
    summariser = build_summariser(settings, metrics, Redactor())
    assert isinstance(summariser, FallbackSummariser)
    return summariser


async def _request_arrived(server: HostileServer, within_s: float = 30.0) -> None:
    """Wait until the model server holds a request (the call is in flight), within a bound."""
    deadline = time.monotonic() + within_s
    while not server.requests:
        assert time.monotonic() < deadline, "the model call never reached the server"
        await asyncio.sleep(0.01)


def _latency_count(metrics: Metrics) -> int:
    return sum(t.count for (name, _), t in metrics.timings().items() if name == "LLMLatency")


async def test_a_model_call_cut_off_by_a_cancelled_task_counts_as_cancelled() -> None:
    """A stop cancelling a call in flight re-raises the cancellation and counts the call as
    `LLMCalls{outcome=cancelled}`, so `LLMCalls` agrees with `LLMLatency`'s count."""
    metrics = Metrics()
    async with hostile(_never_answers()) as server:
        summariser = _summariser(server.url + "/v1", metrics)
        task = asyncio.create_task(summariser.summarise(view(alert("a1"))))
        await _request_arrived(server)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        await summariser.aclose()
    assert _latency_count(metrics) == 1
    assert metrics.counter("LLMCalls", outcome="cancelled") == 1
    assert metrics.total("LLMCalls") == 1
    # A cancellation is not a failure of the model: no fallback ticket was written for it.
    assert metrics.counter("SummarizationFailures") == 0


async def test_a_model_call_cut_off_by_the_message_timeout_counts_as_cancelled() -> None:
    """The message's own time limit (an `asyncio.timeout` around the work, as `Working`
    runs it) ending a call in flight surfaces as the timeout, and counts the call as
    `LLMCalls{outcome=cancelled}`."""
    metrics = Metrics()
    async with hostile(_never_answers()) as server:
        summariser = _summariser(server.url + "/v1", metrics)

        async def message() -> None:
            async with asyncio.timeout(None) as limit:
                call = asyncio.ensure_future(summariser.summarise(view(alert("a2"))))
                try:
                    await _request_arrived(server)
                    limit.reschedule(asyncio.get_running_loop().time())  # the limit passes now
                    await call
                finally:
                    call.cancel()

        with pytest.raises(TimeoutError):
            await message()
        await summariser.aclose()
    assert _latency_count(metrics) == 1
    assert metrics.counter("LLMCalls", outcome="cancelled") == 1
    assert metrics.total("LLMCalls") == 1


class _BrokenClient:
    """A model client failing with an exception no `ModelError` names (a bug in it, or in a
    library it uses choking on an answer)."""

    provider = "openai"
    model = "stand-in"

    def __init__(self) -> None:
        self.calls = 0

    async def complete(self, system: str, user: str, timeout_s: float) -> Answer:
        self.calls += 1
        raise RuntimeError("the client library choked")

    async def aclose(self) -> None:
        return None


async def test_a_model_call_failing_unexpectedly_counts_as_error_and_reraises() -> None:
    """A call ending in an exception that is not a `ModelError` is re-raised unchanged (the
    fallback logs it as an error) and counted as `LLMCalls{outcome=error}`, the word the
    fallback's `LLMFallbacks{reason}` already uses for it."""
    metrics = Metrics()
    model = _BrokenClient()
    summariser = LlmSummariser(Settings(openai_api_key=KEY), model=model, metrics=metrics)
    with pytest.raises(RuntimeError, match="choked"):
        await summariser.summarise(view(alert("a3")))
    assert model.calls == 1
    assert _latency_count(metrics) == 1
    assert metrics.counter("LLMCalls", outcome="error") == 1
    assert metrics.total("LLMCalls") == 1
