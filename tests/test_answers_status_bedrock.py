"""Bedrock's Converse client judges an error answer by its status first, whatever its body: one
larger than any answer (it was `answer_too_large` for every status), or one botocore cannot
read as AWS's error (a proxy's HTML page, truncated JSON, a body in a coding never asked for),
which botocore names by its status alone (a 429 of that kind was `rejected_429`, never
retried). Against a loopback server on 127.0.0.1 with the real aioboto3 client."""

from __future__ import annotations

import pytest

from hostile_server import answer, hostile
from triage.errors import ModelError
from triage.settings import Settings
from triage.summarise.bedrock import MAX_ANSWER_BYTES, BedrockChat

#: Error bodies that are no AWS error botocore can read: (headers, body).
UNREADABLE: dict[str, tuple[dict[str, str], bytes]] = {
    "over-the-bound": ({"Content-Type": "text/html"}, b"<p>" + b"x" * MAX_ANSWER_BYTES),
    "html-page": ({"Content-Type": "text/html"}, b"<html><h1>429 Too Many Requests</h1></html>"),
    "truncated-json": ({"Content-Type": "application/json"}, b'{"message": "Too many re'),
    "brotli": ({"Content-Type": "application/json", "Content-Encoding": "br"}, b"\x1b\x1a\x00"),
}

#: Status (and headers) -> reason, retryable, retry_after_s, provider_fault, until_fixed.
VERDICTS: dict[int, tuple[dict[str, str], str, bool, float | None, bool, bool]] = {
    429: ({"Retry-After": "7"}, "rate_limited", True, 7.0, True, False),
    503: ({"Retry-After": "7"}, "server_error_503", True, 7.0, True, False),
    401: ({}, "rejected_401", False, None, True, True),
    403: ({}, "rejected_403", False, None, True, True),
    400: ({}, "rejected_400", False, None, True, False),
}


async def outcome(status: int, headers: dict[str, str], body: bytes) -> ModelError:
    """The ModelError one Converse call ends with against a server answering so."""
    async with hostile(answer(status, headers, body)) as server:
        chat = BedrockChat(
            Settings(
                llm_provider="bedrock",
                aws_region="eu-west-1",
                aws_endpoint_url_bedrock_runtime=server.url,
                llm_timeout_s=30.0,
            )
        )
        try:
            with pytest.raises(ModelError) as raised:
                await chat.complete("system", "user", 30.0)
        finally:
            await chat.aclose()
    return raised.value


@pytest.mark.parametrize("status", list(VERDICTS))
@pytest.mark.parametrize("body", list(UNREADABLE))
async def test_an_error_answer_is_judged_by_its_status_whatever_its_body(
    status: int, body: str
) -> None:
    """An error answer whose body is no readable AWS error is what its status says: a 429 a
    wait with its Retry-After (retried), a 503 the endpoint unwell, a 401 or 403 the refused
    credentials (the breaker opens at once), a 400 a refusal; never `answer_too_large`."""
    extra, reason, retryable, retry_after_s, provider_fault, until_fixed = VERDICTS[status]
    headers, content = UNREADABLE[body]
    error = await outcome(status, {**headers, **extra}, content)
    assert (
        error.reason,
        error.retryable,
        error.retry_after_s,
        error.provider_fault,
        error.until_fixed,
    ) == (reason, retryable, retry_after_s, provider_fault, until_fixed)


async def test_a_success_larger_than_any_answer_is_still_too_large() -> None:
    """A 200 over MAX_ANSWER_BYTES is `answer_too_large`, as before: not retried, counted
    against the breaker."""
    headers, content = UNREADABLE["over-the-bound"]
    error = await outcome(200, headers, content)
    assert (error.reason, error.retryable, error.provider_fault) == (
        "answer_too_large",
        False,
        True,
    )
