"""The answers the backend sink learned to read (a 1xx as the final answer, a body not in the
coding its Content-Encoding names) read the same by the Slack and GitHub sinks and the OpenAI
model client, each against a loopback server on 127.0.0.1 with the real HTTP client."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, MutableMapping
from contextlib import asynccontextmanager
from typing import Any

import pytest

from hostile_server import Answer, answer, hostile
from test_llm_faults import summarise_times, summariser_for
from test_slack_sink import SECRET_PATH, effect, open_sink
from triage.errors import (
    GitHubThrottledError,
    GitHubUnavailableError,
    SinkRejectedError,
    SinkUnavailableError,
)
from triage.metrics import Metrics
from triage.settings import Settings
from triage.sinks.github.api import GitHubApi

#: A final answer that switches protocols, to a request that asked for no upgrade.
SWITCHING = b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n"
#: What Content-Encoding names and the body is not.
NOT_GZIP = {"Content-Type": "application/json", "Content-Encoding": "gzip"}


async def switching(writer: asyncio.StreamWriter) -> None:
    writer.write(SWITCHING)
    await writer.drain()


@asynccontextmanager
async def github_api(url: str) -> AsyncIterator[GitHubApi]:
    api = GitHubApi(
        Settings(github_api_url=url, github_repository="acme/ops", github_token="ghp_" + "a" * 36)
    )
    try:
        yield api
    finally:
        await api.aclose()


async def test_slack_reads_an_upgrade_nobody_asked_for_as_a_broken_answer() -> None:
    """A 101 as Slack's final answer to a post breaks HTTP's rules, as an answer cut short
    does: the post failed for now (retried, the breaker counts it), not refused for good."""
    async with hostile(switching) as server, open_sink(server.url + SECRET_PATH) as sink:
        with pytest.raises(SinkUnavailableError, match="101") as caught:
            await sink.apply(effect())
    assert not isinstance(caught.value, SinkRejectedError)


async def test_slack_takes_a_2xx_whose_body_will_not_decode_as_posted(
    logs: list[MutableMapping[str, Any]],
) -> None:
    """A 200 whose body is not the gzip it says: the message is in the channel, so the post
    is done (a retry would post it twice), and its line says the answer went unread."""
    reply = answer(200, NOT_GZIP, b'{"ok": true}')
    async with hostile(reply) as server, open_sink(server.url + SECRET_PATH) as sink:
        assert (await sink.apply(effect())).ref == "posted"
    [posted] = [e for e in logs if e["event"] == "slack.posted"]
    assert "AnswerUndecodable" in posted["answer"]


@pytest.mark.parametrize("method", ["GET", "POST"])
async def test_github_reads_an_upgrade_nobody_asked_for_as_a_broken_answer(method: str) -> None:
    """A 101 as GitHub's final answer is GitHub (or what answers for it) unwell: a wait, as a
    5xx is, never a SinkRejectedError that would dead-letter the ticket."""
    async with hostile(switching) as server, github_api(server.url) as api:
        with pytest.raises(GitHubUnavailableError, match="101") as caught:
            await api.call(method, "/repos/acme/ops/issues", json={"title": "t"})
    assert caught.value.reason == "unavailable"


async def test_github_judges_a_create_whose_body_will_not_decode_by_its_201() -> None:
    """A create answered 201 with a body not in its coding came whole and would come so again:
    the call returns no answer (the sink then says `bad_response`, and the retry finds the
    issue by its marker), not a network failure."""
    reply = answer(201, NOT_GZIP, b'{"number": 1}')
    async with hostile(reply) as server, github_api(server.url) as api:
        assert await api.call("POST", "/repos/acme/ops/issues", json={"title": "t"}) is None


@pytest.mark.parametrize(
    ("status", "headers", "raised"),
    [
        (429, {"Retry-After": "30"}, GitHubThrottledError),
        (410, {}, SinkRejectedError),
    ],
    ids=["limited", "gone"],
)
async def test_github_judges_an_error_whose_body_will_not_decode_by_its_status(
    status: int, headers: dict[str, str], raised: type[Exception]
) -> None:
    """A 429 or a 410 whose body will not decode is still a limit with its Retry-After, and a
    deletion: judged by status and headers, as one too large to read is."""
    reply = answer(status, {**NOT_GZIP, **headers}, b'{"message": "x"}')
    async with hostile(reply) as server, github_api(server.url) as api:
        with pytest.raises(raised) as caught:
            await api.call("GET", "/repos/acme/ops/issues/1")
    assert getattr(caught.value, "reason", None) != "network"
    assert "AnswerUndecodable" in str(caught.value) or status == 429


async def test_the_model_answering_in_a_coding_it_does_not_name_is_not_asked_again() -> None:
    """A model's 200 whose body is not the gzip it says would come the same way again: one
    request, the fallback as `answer_undecodable`, counted against the breaker (it was
    `unreachable`, retried up to the budget)."""
    metrics = Metrics()
    reply: Answer = answer(200, NOT_GZIP, b'{"choices": []}')
    async with hostile(reply) as server:
        summariser = summariser_for(server.url + "/v1", metrics, llm_breaker_failures=1)
        await summarise_times(summariser, 2)
    assert len(server.requests) == 1
    assert metrics.counter("LLMFallbacks", reason="answer_undecodable") == 1
    assert metrics.counter("LLMFallbacks", reason="breaker_open") == 1


async def test_the_model_answering_an_upgrade_nobody_asked_for_is_a_server_fault() -> None:
    """A 101 as the model's final answer is the provider unwell, as a 5xx is: retried within
    the budget, then the fallback, counted against the breaker (it was `rejected_101`, this
    request's own refusal, which the breaker never heard of)."""
    metrics = Metrics()
    async with hostile(switching) as server:
        summariser = summariser_for(server.url + "/v1", metrics, llm_breaker_failures=1)
        await summarise_times(summariser, 2)
    assert len(server.requests) == 3  # the first try and llm_retries=2
    assert metrics.counter("LLMFallbacks", reason="server_error_101") == 1
    assert metrics.counter("LLMFallbacks", reason="breaker_open") == 1
