"""An OpenAI-compatible server's answer whose body cannot be read (not the gzip it says, a
coding we never asked for such as `br` or `zstd`, larger than any answer, in a charset that is
no text's, an HTML page, truncated JSON) is judged by its status first, against a loopback
server on 127.0.0.1 with the real client: a 429 or 503 stays a wait with its Retry-After, a
401 or 403 the refused key, a 400 the refusal; the unread body only adds a reason to the log.
A 2xx whose body cannot be read is still `answer_undecodable` (or `answer_too_large`)."""

from __future__ import annotations

import gzip
from collections.abc import MutableMapping
from typing import Any

import pytest

from hostile_server import answer, hostile
from triage.errors import ModelError
from triage.settings import Settings
from triage.summarise.openai_chat import MAX_BODY_BYTES, OpenAiChat

JSON = "application/json"

#: Bodies no client reads as their headers say: (headers, body, the reason a 2xx gets).
UNREADABLE: dict[str, tuple[dict[str, str], bytes, str]] = {
    "gzip-not-gzip": (
        {"Content-Type": JSON, "Content-Encoding": "gzip"},
        b'{"error": {"message": "slow down"}}',
        "answer_undecodable",
    ),
    "brotli": (
        {"Content-Type": JSON, "Content-Encoding": "br"},
        b"\x1b\x1a\x00\xf8\xa5\x00",
        "answer_undecodable",
    ),
    "zstd": (
        {"Content-Type": JSON, "Content-Encoding": "zstd"},
        b"\x28\xb5\x2f\xfd\x00\x58\x11\x00\x00",
        "answer_undecodable",
    ),
    "gzip-over-the-bound": (
        {"Content-Type": "text/html", "Content-Encoding": "gzip"},
        gzip.compress(b" " * (MAX_BODY_BYTES + 1), compresslevel=9),
        "answer_too_large",
    ),
    "over-the-bound": (
        {"Content-Type": "text/html"},
        b"<p>" + b"x" * MAX_BODY_BYTES,
        "answer_too_large",
    ),
    "utf-16-without-bom": (
        {"Content-Type": "application/json; charset=utf-16"},
        b'{"error": {"message": "xy"}}',
        "bad_response",
    ),
    "charset-no-text": (
        {"Content-Type": "text/plain; charset=zlib"},
        b"rate limited",
        "bad_response",
    ),
    "html-page": (
        {"Content-Type": "text/html"},
        b"<html><body><h1>502 Bad Gateway</h1></body></html>",
        "bad_response",
    ),
    "truncated-json": ({"Content-Type": JSON}, b'{"error": {"message": "rate li', "bad_response"),
}

#: Status (and headers) -> what the call must end as: reason, retryable, retry_after_s,
#: provider_fault.
VERDICTS: dict[int, tuple[dict[str, str], str, bool, float | None, bool]] = {
    429: ({"Retry-After": "7"}, "rate_limited", True, 7.0, True),
    503: ({"Retry-After": "7"}, "server_error_503", True, 7.0, True),
    401: ({}, "rejected_401", False, None, True),
    403: ({}, "rejected_403", False, None, True),
    400: ({}, "rejected_400", False, None, True),
}


async def outcome(status: int, headers: dict[str, str], body: bytes) -> ModelError:
    """The ModelError one completion ends with against a server answering so."""
    async with hostile(answer(status, headers, body)) as server:
        settings = Settings(
            openai_api_key="sk-test-" + "k" * 32,
            openai_base_url=server.url + "/v1",
            llm_timeout_s=30.0,
        )
        chat = OpenAiChat(settings)
        try:
            with pytest.raises(ModelError) as raised:
                await chat.complete("system", "user", 30.0)
        finally:
            await chat._client.close()
    return raised.value


@pytest.mark.parametrize("status", list(VERDICTS))
@pytest.mark.parametrize("body", list(UNREADABLE))
async def test_an_error_answer_is_judged_by_its_status_whatever_its_body(
    status: int, body: str
) -> None:
    """An error answer whose body will not read is what its status says: the wait and its
    Retry-After, the refused key, the refusal; never `answer_undecodable`, `unreachable` or
    `bad_response`."""
    extra, reason, retryable, retry_after_s, provider_fault = VERDICTS[status]
    headers, content, _ = UNREADABLE[body]
    error = await outcome(status, {**headers, **extra}, content)
    assert (error.reason, error.retryable, error.retry_after_s, error.provider_fault) == (
        reason,
        retryable,
        retry_after_s,
        provider_fault,
    )


@pytest.mark.parametrize("body", list(UNREADABLE))
async def test_a_success_whose_body_will_not_read_is_no_answer(body: str) -> None:
    """A 200 whose body will not read came whole and would come so again: not retried,
    counted against the breaker, named by why (`answer_undecodable` for a coding it is not in,
    or one we never asked for, as `br` and `zstd` are; never `unreachable`)."""
    headers, content, reason = UNREADABLE[body]
    error = await outcome(200, headers, content)
    assert (error.reason, error.retryable, error.provider_fault) == (reason, False, True)


async def test_the_unread_body_of_an_error_answer_is_named_in_the_log(
    logs: list[MutableMapping[str, Any]],
) -> None:
    """A 429 whose body is not its gzip says so in a line (our words: the answer's are never
    read), beside the wait its status asked for."""
    headers, content, _ = UNREADABLE["gzip-not-gzip"]
    await outcome(429, {**headers, "Retry-After": "7"}, content)
    [line] = [e for e in logs if e["event"] == "llm.answer_unread"]
    assert (line["status"], line["unread"]) == (429, "AnswerUndecodable")
