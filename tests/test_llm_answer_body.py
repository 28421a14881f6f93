"""A chat completion's body read from the HTTP answer itself, as the SDK reads it for
`cast_to=object`, without the SDK's response wrapper."""

from __future__ import annotations

import json

import httpx2
import openai
import pytest

from triage.summarise.openai_chat import answer_body

COMPLETION = json.dumps({"choices": [{"message": {"content": "{}"}}]}).encode()
EVENTS = b'data: {"choices":[{"delta":{"content":"{}"}}]}\n\ndata: [DONE]\n\n'

CASES = [
    ("application/json", COMPLETION),
    ("application/json; charset=utf-8", COMPLETION),
    ("application/problem+json", b'{"error": {"message": "busy"}}'),
    ("text/json", b"[1, 2]"),
    ("text/event-stream", EVENTS),
    ("text/html", b"<html>Sign in</html>"),
    (None, COMPLETION),
    ("application/json", b"null"),
    ("text/plain; charset=utf-8", "caf\u00e9".encode()),
]


def _answering(content_type: str | None, content: bytes) -> httpx2.AsyncClient:
    headers = {"Content-Type": content_type} if content_type else {}

    def handler(request: httpx2.Request) -> httpx2.Response:
        return httpx2.Response(200, headers=headers, content=content)

    return httpx2.AsyncClient(transport=httpx2.MockTransport(handler))


async def _both(content_type: str | None, content: bytes) -> tuple[object, object]:
    client = openai.AsyncOpenAI(
        api_key="sk-test",
        base_url="http://127.0.0.1:9/v1",
        max_retries=0,
        http_client=_answering(content_type, content),
    )
    async with client:
        sdk = await client.post("/chat/completions", cast_to=object, body={})
        raw = await client.post("/chat/completions", cast_to=httpx2.Response, body={})
        return sdk, answer_body(raw)


@pytest.mark.parametrize(("content_type", "content"), CASES)
async def test_the_body_is_what_the_sdk_would_have_read(
    content_type: str | None, content: bytes
) -> None:
    """JSON for a JSON media type (parameters aside), else the text: the SDK's own reading."""
    sdk, ours = await _both(content_type, content)
    assert ours == sdk
    assert type(ours) is type(sdk)


@pytest.mark.parametrize("content", [b"<html>", b"[" * 100_000])
async def test_a_json_label_on_no_json_fails_as_the_sdk_does(content: bytes) -> None:
    """A 200 labelled JSON that is not (or nests past the parser's stack) raises what the SDK's
    reading raised, which `_completion` turns into `bad_response`."""
    client = openai.AsyncOpenAI(
        api_key="sk-test",
        base_url="http://127.0.0.1:9/v1",
        max_retries=0,
        http_client=_answering("application/json", content),
    )
    async with client:
        with pytest.raises((ValueError, RecursionError)) as sdk:
            await client.post("/chat/completions", cast_to=object, body={})
        raw = await client.post("/chat/completions", cast_to=httpx2.Response, body={})
        with pytest.raises((ValueError, RecursionError)) as ours:
            answer_body(raw)
    assert type(ours.value) is type(sdk.value)
