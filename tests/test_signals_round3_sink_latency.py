"""Round 3 signals: each sink's `SinkLatency` holds every call that went to its service, however
it ended, and no effect that sent nothing; and GitHub's `SinkCalls` counts every effect under
an outcome, whatever error ends it."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import pytest
from pydantic import SecretStr

import test_backend_sink as backend_tests
import test_slack_sink as slack_tests
from github_stub import GitHubServer
from hostile_server import Answer, answer, hostile
from test_github_sink import FakeClock, effect, github, mono, open_sink, wall
from triage.errors import (
    GitHubThrottledError,
    SinkRejectedError,
    SinkUnavailableError,
    SinkUnreachableError,
    StoreBusyError,
    StoreUnavailableError,
    TriageError,
)
from triage.metrics import Metrics
from triage.ratelimit import Budget, LocalBudgets
from triage.settings import Settings
from triage.sinks.base import Target
from triage.sinks.slack import SlackSink

__all__ = ["github", "mono", "wall"]  # fixtures of test_github_sink, used here by name


@pytest.fixture(autouse=True)
def backend_token(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("BACKEND_TOKEN", "t0ken-for-the-test")


def never_answers() -> Answer:
    """An answer that never comes: the client's read timeout must end the call."""

    async def write(writer: asyncio.StreamWriter) -> None:
        await asyncio.Event().wait()

    return write


def latency_count(metrics: Metrics, sink: str) -> int:
    timing = metrics.timings().get(("SinkLatency", (("sink", sink),)))
    return 0 if timing is None else timing.count


def sink_calls(metrics: Metrics, sink: str) -> dict[str, float]:
    """Every `SinkCalls` outcome counted for `sink`, by outcome."""
    return {
        dict(dims)["outcome"]: value
        for (name, dims), value in metrics.counters().items()
        if name == "SinkCalls" and dict(dims)["sink"] == sink
    }


@asynccontextmanager
async def slack_sink(url: str, metrics: Metrics, **settings: object) -> AsyncIterator[SlackSink]:
    sink = SlackSink(
        Settings(slack_webhook_url=SecretStr(url), **settings),  # type: ignore[arg-type]
        metrics=metrics,
    )
    try:
        yield sink
    finally:
        await sink.aclose()


# --- Backend ---------------------------------------------------------------------------------


async def test_backend_401_then_a_timeout_is_one_latency() -> None:
    """A request answered 401, sent again with the token read again and timing out, is one
    SinkLatency observation (both requests are the effect's)."""
    metrics = Metrics()
    async with (
        hostile(answer(401), never_answers()) as server,
        backend_tests.open_sink(server.url, metrics=metrics, backend_timeout_s=0.2) as sink,
    ):
        with pytest.raises(SinkUnavailableError):
            await sink.apply(backend_tests.effect())
        assert len(server.requests) == 2
    assert sink_calls(metrics, "backend") == {"unauthorized": 1, "network": 1}
    assert latency_count(metrics, "backend") == 1


async def test_backend_without_a_token_sends_nothing_and_times_nothing(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A backend effect that fails before its request (no token can be read) adds no
    SinkLatency observation: no call was made."""
    monkeypatch.delenv("BACKEND_TOKEN")
    metrics = Metrics()
    async with (
        hostile(answer(201)) as server,
        backend_tests.open_sink(server.url, metrics=metrics) as sink,
    ):
        with pytest.raises(SinkUnavailableError):
            await sink.apply(backend_tests.effect())
        assert server.requests == []
    assert latency_count(metrics, "backend") == 0


# --- Slack -----------------------------------------------------------------------------------


async def test_slack_refused_at_connect_is_one_latency() -> None:
    """A Slack webhook whose port refuses the connection is one SinkLatency observation, as
    its `SinkCalls{outcome="network"}` is one call."""
    metrics = Metrics()
    url = f"http://127.0.0.1:{backend_tests.closed_port()}/services/T0001/B0002/s3cr3t"
    async with slack_sink(url, metrics) as sink:
        with pytest.raises(TriageError):
            await sink.apply(slack_tests.effect())
    assert sink_calls(metrics, "slack") == {"network": 1}
    assert latency_count(metrics, "slack") == 1


async def test_slack_effects_that_send_nothing_time_nothing() -> None:
    """A Slack post not sent (a webhook URL that is not http(s); a webhook held back by
    Slack's rate limit) adds no SinkLatency observation; the post that was answered 429 is
    the only one."""
    metrics = Metrics()
    async with hostile(answer(429, {"Retry-After": "60"})) as server:
        url = server.url + "/services/T0001/B0002/s3cr3t"
        async with slack_sink(url, metrics) as sink:
            with pytest.raises(SinkRejectedError):
                await sink.apply(slack_tests.effect(webhook_url="ftp://example.com/hook"))
            for _ in range(2):  # the first is answered 429, the second held without a request
                with pytest.raises(TriageError):
                    await sink.apply(slack_tests.effect())
        assert len(server.requests) == 1
    assert sink_calls(metrics, "slack") == {"rejected": 1, "throttled": 1, "unavailable": 1}
    assert latency_count(metrics, "slack") == 1


# --- GitHub ----------------------------------------------------------------------------------


async def test_github_effect_refused_while_paused_is_no_latency(
    github: GitHubServer, mono: FakeClock, wall: FakeClock
) -> None:
    """An effect GitHub's rate-limit pause refuses before any request adds no SinkLatency
    observation; the call that GitHub refused (and that paused us) is the one."""
    github.set_rate_limit(0)
    metrics = Metrics()
    async with open_sink(github, mono, wall, metrics=metrics) as sink:
        with pytest.raises(GitHubThrottledError):
            await sink.apply(effect())
        sent = len(github.calls)
        with pytest.raises(GitHubThrottledError, match="in force"):
            await sink.apply(effect(key="fp:2"))
        assert len(github.calls) == sent  # the second sent nothing
    assert latency_count(metrics, "github") == 1


class FailingBudgets(LocalBudgets):
    """Creation budgets whose store fails with `error` when a token is taken."""

    def __init__(self, error: Exception) -> None:
        super().__init__()
        self.error = error

    async def take_token(self, budget: Budget, now_s: float, *, keep: int = 0) -> float:
        raise self.error


@pytest.mark.parametrize(
    ("error", "outcome"),
    [
        (StoreUnavailableError("the store is locked"), "unavailable"),
        (StoreBusyError("another worker holds it"), "throttled"),
        (RuntimeError("a bug"), "unavailable"),
    ],
)
async def test_github_effect_ended_by_another_error_is_counted(
    github: GitHubServer, mono: FakeClock, wall: FakeClock, error: Exception, outcome: str
) -> None:
    """An open ended by an error that is neither GitHub's nor a refusal (the store's, a bug) is
    counted under a `SinkCalls` outcome, as every effect is: the transient and the bug as
    `unavailable`, a wait as `throttled`."""
    metrics = Metrics()
    async with open_sink(github, mono, wall, metrics=metrics, budgets=FailingBudgets(error)) as s:
        with pytest.raises(type(error)):
            await s.apply(effect())
    assert sink_calls(metrics, "github") == {outcome: 1}


async def test_github_route_repository_that_refuses_us_is_counted_no_access(
    github: GitHubServer, mono: FakeClock, wall: FakeClock
) -> None:
    """An open whose route's repository GitHub does not show us, while the default reads
    (SinkUnreachableError), is counted as GitHub's own `no_access` refusal is, and timed: it
    asked GitHub."""
    metrics = Metrics()
    async with open_sink(github, mono, wall, metrics=metrics) as sink:
        with pytest.raises(SinkUnreachableError):
            await sink.apply(effect(target=Target(repository="acme/missing")))
    assert sink_calls(metrics, "github") == {"no_access": 1}
    assert latency_count(metrics, "github") == 1
