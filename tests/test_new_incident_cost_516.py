"""OpenAI's own client sends a chat completion from a request made once (helper 516, issue 18).

The SDK's `request` rebuilt the same URL, headers and options on every call (~250 µs of the
~3 ms of CPU a new incident costs in process); `OpenAiChat` now makes them once and sends each
call through the same httpx2 client. These tests pin that the shortcut is taken, that what goes
on the wire is still exactly what the SDK's `post` sends, call after call, and that each way a
call can fail still reaches the summariser as the same error."""

from __future__ import annotations

import json
from typing import Any

import httpx2
import openai
import pytest

from triage.errors import ModelError
from triage.settings import Settings
from triage.summarise.openai_chat import OpenAiChat

KEY = "sk-test-0123456789abcdef"
ANSWER = {
    "choices": [{"message": {"content": "{}"}, "finish_reason": "stop"}],
    "usage": {"prompt_tokens": 10, "completion_tokens": 2},
}


def _as_sent(request: httpx2.Request) -> tuple[object, ...]:
    """What goes on the wire, less the idempotency key the SDK draws at random per request."""
    headers = [(k, v) for k, v in request.headers.multi_items() if k != "idempotency-key"]
    return (
        request.method,
        str(request.url),
        headers,
        request.content,
        request.extensions.get("timeout"),
    )


def _chat(handler: Any, base_url: str = "http://127.0.0.1:8080/v1") -> OpenAiChat:
    client = httpx2.AsyncClient(transport=httpx2.MockTransport(handler))
    return OpenAiChat(Settings(openai_api_key=KEY, openai_base_url=base_url), http_client=client)


def _answering(seen: list[httpx2.Request], response: httpx2.Response | None = None) -> Any:
    def handler(request: httpx2.Request) -> httpx2.Response:
        seen.append(request)
        return response if response is not None else httpx2.Response(200, json=ANSWER)

    return handler


async def _refused(*args: object, **kwargs: object) -> object:
    raise AssertionError("the SDK's request was built again")


@pytest.mark.parametrize(
    "base_url", ["http://127.0.0.1:8080/v1", "https://gateway.example.com/v1?team=ops"]
)
async def test_openais_client_sends_without_the_sdks_request_each_call(base_url: str) -> None:
    """OpenAI's own client (a gateway's query too) sends no call through the SDK's `request`."""
    seen: list[httpx2.Request] = []
    chat = _chat(_answering(seen), base_url)
    chat._client.request = _refused  # type: ignore[method-assign]
    for _ in range(3):
        answer = await chat.complete("instructions", "the alert", 5.0)
        assert answer.text == "{}"
    await chat.aclose()
    assert len(seen) == 3


@pytest.mark.parametrize(
    "base_url", ["http://127.0.0.1:8080/v1", "https://gateway.example.com/v1?team=ops"]
)
async def test_each_call_sends_what_the_sdks_post_sends_for_its_body_and_timeout(
    base_url: str,
) -> None:
    """Call after call, other bodies and timeouts too, the request on the wire is `post`'s."""
    seen: list[httpx2.Request] = []
    chat = _chat(_answering(seen), base_url)
    calls = [
        (("instructions", "the alert \u2028 caf\u00e9"), 7.5),
        (("other instructions", 'another alert, \U0001f525 and \\ " quotes'), 30),
        (("instructions", "a third"), 0.25),
    ]
    for messages, timeout_s in calls:
        body = chat._body(messages)
        await chat._post(body, timeout_s)
        await chat._client.post(
            "/chat/completions",
            cast_to=object,
            body=body,
            options={"timeout": timeout_s, "follow_redirects": False},
        )
        ours, sdk = seen[-2:]
        assert _as_sent(ours) == _as_sent(sdk)
        assert json.loads(ours.content) == body
    await chat.aclose()


async def test_an_azure_deployment_still_goes_through_the_sdk() -> None:
    """An Azure deployment's client (its route, its api-version may move) keeps the SDK's."""
    seen: list[httpx2.Request] = []
    chat = _chat(
        _answering(seen),
        "https://res.openai.azure.com/openai/deployments/gpt4o?api-version=2024-10-21",
    )
    built: list[object] = []
    sdk_request = chat._client.request

    async def counting(*args: Any, **kwargs: Any) -> Any:
        built.append(args)
        return await sdk_request(*args, **kwargs)

    chat._client.request = counting  # type: ignore[method-assign]
    await chat.complete("instructions", "the alert", 5.0)
    await chat.aclose()
    assert len(built) == 1 and len(seen) == 1


@pytest.mark.parametrize(
    ("status", "retryable"), [(429, True), (500, True), (401, False), (307, False)]
)
async def test_an_error_answer_is_the_sdks_status_error(status: int, retryable: bool) -> None:
    """A 4xx, 5xx or 3xx answer is the same ModelError as through the SDK's `request`."""
    headers = {"location": "https://elsewhere.example.com/"} if status == 307 else {}
    body = {"error": {"message": "no", "type": "x", "code": None}}
    sdk_seen: list[httpx2.Request] = []
    sdk_chat = _chat(_answering(sdk_seen, httpx2.Response(status, json=body, headers=headers)))
    sdk_chat._wire = None  # the SDK's own `request`, as before this change
    sdk_chat._wire_made = True
    with pytest.raises(ModelError) as through_sdk:
        await sdk_chat.complete("instructions", "the alert", 5.0)
    await sdk_chat.aclose()
    seen: list[httpx2.Request] = []
    chat = _chat(_answering(seen, httpx2.Response(status, json=body, headers=headers)))
    with pytest.raises(ModelError) as ours:
        await chat.complete("instructions", "the alert", 5.0)
    await chat.aclose()
    assert chat._wire is not None
    assert (ours.value.reason, ours.value.retryable) == (
        through_sdk.value.reason,
        through_sdk.value.retryable,
    )
    assert vars(ours.value) == vars(through_sdk.value)
    assert through_sdk.value.retryable is retryable


@pytest.mark.parametrize(
    ("raised", "reason"),
    [
        (httpx2.ReadTimeout("slow"), "timeout"),
        (httpx2.ConnectError("refused"), "unreachable"),
    ],
)
async def test_a_transport_failure_is_the_sdks_error(raised: Exception, reason: str) -> None:
    """A timeout or a refused connection is the SDK's error, its cause kept, as before."""

    def handler(request: httpx2.Request) -> httpx2.Response:
        raise raised

    chat = _chat(handler)
    with pytest.raises(openai.OpenAIError) as sent:
        await chat._post(chat._body(("instructions", "the alert")), 5.0)
    assert chat._wire is not None
    expected = openai.APITimeoutError if reason == "timeout" else openai.APIConnectionError
    assert type(sent.value) is expected
    assert sent.value.__cause__ is raised
    with pytest.raises(ModelError) as failed:
        await chat.complete("instructions", "the alert", 5.0)
    await chat.aclose()
    assert failed.value.reason == reason and failed.value.retryable
