"""The sinks (the ticket backend, GitHub, Slack) judge an answer whose body cannot be read by
its status, as they judge one not in its gzip: a body in a coding we never ask for (`br`,
`zstd`, which aiohttp refused whole, status and all, as a network failure) or in a charset no
text is in (`zlib`, UTF-16 without its byte order mark, whose text httpx2 could not read). Each
against a loopback server on 127.0.0.1 with the real client."""

from __future__ import annotations

from typing import Any

import pytest

from hostile_server import Answer, answer, hostile
from test_backend_hostile_answers import backend_sink
from test_backend_hostile_answers import effect as backend_effect
from test_sink_answers_alike import github_api
from test_slack_sink import SECRET_PATH, effect, open_sink
from triage.errors import (
    GitHubThrottledError,
    GitHubUnavailableError,
    SinkRejectedError,
    SinkThrottledError,
    SinkUnavailableError,
)

#: Content codings no client of ours asks for (`Accept-Encoding: gzip, deflate`).
NEVER_ASKED = ["br", "zstd"]


def coded(status: int, coding: str, **headers: str) -> Answer:
    """An answer of `status` whose body is in `coding` (or says it is)."""
    fields = {"Content-Type": "application/json", "Content-Encoding": coding, **headers}
    return answer(status, fields, b"\x1b\x1a\x00\xf8\xa5\x00\x28\xb5\x2f\xfd")


def charset(status: int, name: str) -> Answer:
    """An answer of `status` whose text names a charset no text decodes from."""
    return answer(status, {"Content-Type": f"text/plain; charset={name}"}, b"invalid_payload")


@pytest.mark.parametrize("coding", NEVER_ASKED)
async def test_the_backend_judges_an_answer_in_a_coding_never_asked_for_by_its_status(
    coding: str, logs: list[dict[str, Any]]
) -> None:
    """A 201 in `br` or `zstd` is the ticket made (named by its key, its answer unread); a
    503 is the backend unavailable with its Retry-After; a 429 a wait: never a network
    failure, whose retries would send a created ticket's message to the DLQ."""
    async with hostile(coded(201, coding)) as server, backend_sink(server.url) as sink:
        assert (await sink.apply(backend_effect("fp:7"))).ref == "fp:7"
    [line] = [e for e in logs if e["event"] == "backend.no_ticket_id"]
    assert "AnswerUndecodable" in line["answer"]
    for status, raised in ((503, SinkUnavailableError), (429, SinkThrottledError)):
        reply = coded(status, coding, **{"Retry-After": "9"})
        async with hostile(reply) as server, backend_sink(server.url) as sink:
            with pytest.raises(raised) as caught:
                await sink.apply(backend_effect())
        assert caught.value.retry_after_s == 9.0
        assert getattr(caught.value, "reason", None) != "network"


@pytest.mark.parametrize("coding", NEVER_ASKED)
async def test_github_judges_an_answer_in_a_coding_never_asked_for_by_its_status(
    coding: str,
) -> None:
    """A 429 in `br` or `zstd` is GitHub's limit with its Retry-After, a 502 GitHub unwell, a
    201 a create with no answer to read: as with gzip that is not gzip."""
    limited = coded(429, coding, **{"Retry-After": "30"})
    async with hostile(limited) as server, github_api(server.url) as api:
        with pytest.raises(GitHubThrottledError):
            await api.call("GET", "/repos/acme/ops/issues/1")
    async with hostile(coded(502, coding)) as server, github_api(server.url) as api:
        with pytest.raises(GitHubUnavailableError) as caught:
            await api.call("GET", "/repos/acme/ops/issues/1")
    assert "502" in str(caught.value)
    async with hostile(coded(201, coding)) as server, github_api(server.url) as api:
        assert await api.call("POST", "/repos/acme/ops/issues", json={"title": "t"}) is None


@pytest.mark.parametrize("coding", NEVER_ASKED)
async def test_slack_judges_an_answer_in_a_coding_never_asked_for_by_its_status(
    coding: str, logs: list[dict[str, Any]]
) -> None:
    """A 200 in `br` or `zstd` is the message posted (a retry would post it twice); a 503 is
    Slack unavailable with its Retry-After."""
    async with hostile(coded(200, coding)) as server, open_sink(server.url + SECRET_PATH) as sink:
        assert (await sink.apply(effect())).ref == "posted"
    [posted] = [e for e in logs if e["event"] == "slack.posted"]
    assert "AnswerUndecodable" in posted["answer"]
    reply = coded(503, coding, **{"Retry-After": "9"})
    async with hostile(reply) as server, open_sink(server.url + SECRET_PATH) as sink:
        with pytest.raises(SinkUnavailableError) as caught:
            await sink.apply(effect())
    assert caught.value.retry_after_s == 9.0


@pytest.mark.parametrize("name", ["zlib", "utf-16", "idna", "rot13"])
async def test_slack_reads_a_refusal_in_a_charset_no_text_is_in_as_a_refusal(name: str) -> None:
    """A 400 whose text names a charset Python cannot read any bytes in is still Slack's
    refusal (SinkRejectedError with its status), not a TypeError or UnicodeError from reading
    its text."""
    async with hostile(charset(400, name)) as server, open_sink(server.url + SECRET_PATH) as sink:
        with pytest.raises(SinkRejectedError) as caught:
            await sink.apply(effect())
    assert caught.value.status == 400


@pytest.mark.parametrize("name", ["zlib", "utf-16"])
async def test_github_and_the_backend_read_an_error_in_a_charset_no_text_is_in_by_status(
    name: str,
) -> None:
    """A 503 whose text names a charset no bytes decode in is GitHub, or the backend,
    unavailable: judged by its status, its text read as UTF-8."""
    async with hostile(charset(503, name)) as server, github_api(server.url) as api:
        with pytest.raises(GitHubUnavailableError):
            await api.call("GET", "/repos/acme/ops/issues/1")
    async with hostile(charset(503, name)) as server, backend_sink(server.url) as sink:
        with pytest.raises(SinkUnavailableError):
            await sink.apply(backend_effect())
