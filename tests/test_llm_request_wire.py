"""The request OpenAiChat sends is the one the SDK's documented `post` sends for its body."""

from __future__ import annotations

import json

import httpx2
import pytest

from triage.settings import Settings
from triage.summarise.openai_chat import OpenAiChat

KEY = "sk-test-0123456789abcdef"
ANSWER = {"choices": [{"message": {"content": "{}"}, "finish_reason": "stop"}]}


def _recording(seen: list[httpx2.Request]) -> httpx2.AsyncClient:
    def handler(request: httpx2.Request) -> httpx2.Response:
        seen.append(request)
        return httpx2.Response(200, json=ANSWER)

    return httpx2.AsyncClient(transport=httpx2.MockTransport(handler))


def _as_sent(request: httpx2.Request) -> tuple[object, ...]:
    """What goes on the wire, less the idempotency key the SDK draws at random per request."""
    headers = [(k, v) for k, v in request.headers.multi_items() if k != "idempotency-key"]
    timeout = request.extensions.get("timeout")
    return request.method, str(request.url), headers, request.content, timeout


@pytest.mark.parametrize(
    "base_url",
    [
        "http://127.0.0.1:8080/v1",
        "https://gateway.example.com/v1?team=ops",
        "https://res.openai.azure.com/openai/deployments/gpt4o?api-version=2024-10-21",
    ],
)
async def test_the_request_is_the_one_the_sdk_post_sends(base_url: str) -> None:
    """Method, URL and query, every header (the key, the SDK's own, the read timeout), the
    JSON body byte for byte and the timeout: as `post` sends them, for OpenAI's client, a
    gateway's query and an Azure deployment."""
    seen: list[httpx2.Request] = []
    chat = OpenAiChat(
        Settings(openai_api_key=KEY, openai_base_url=base_url), http_client=_recording(seen)
    )
    body = chat._body(("instructions", "the alert \u2028 caf\u00e9"))
    answer = await chat._post(body, 7.5)
    await chat._client.post(
        "/chat/completions",
        cast_to=object,
        body=body,
        options={"timeout": 7.5, "follow_redirects": False},
    )
    await chat.aclose()
    ours, sdk = seen
    assert _as_sent(ours) == _as_sent(sdk)
    assert json.loads(ours.content) == body
    assert answer == ANSWER
