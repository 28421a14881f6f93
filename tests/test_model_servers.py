"""The LLM summariser against OpenAI-compatible servers that answer as their documentation
says (vLLM, Text Generation Inference, FastAPI-based servers, Azure OpenAI), with the real
openai client over loopback HTTP: each gets the model's ticket when one can be had, and the
fallback otherwise, without the answer of one request spoiling the next."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from factories import alert, view
from triage.demo.model import ChatServer, Reply, default_model, estimated_tokens
from triage.metrics import Metrics
from triage.models import Alert
from triage.redact import Redactor
from triage.settings import Settings
from triage.summarise import FallbackSummariser, build_summariser

#: The context window of the small model the vLLM stand-in serves, in tokens.
CONTEXT = 1900


@pytest.fixture
def chat() -> Iterator[ChatServer]:
    with ChatServer() as server:
        yield server


def summariser_for(chat: ChatServer, metrics: Metrics, **overrides: Any) -> FallbackSummariser:
    values: dict[str, Any] = {
        "openai_api_key": "sk-test-key",
        "openai_base_url": chat.url,
        "llm_timeout_s": 2.0,
        "llm_retries": 0,
        **overrides,
    }
    summariser = build_summariser(Settings(**values), metrics, Redactor())
    assert isinstance(summariser, FallbackSummariser)
    return summariser


def vllm_small_context(request: dict[str, Any]) -> Reply:
    """vLLM serving a model with a CONTEXT-token window: a request whose prompt and output
    bound do not fit is refused with vLLM's own 400, which names both token fields."""
    wanted = request.get("max_tokens") or request.get("max_completion_tokens") or 0
    used = sum(estimated_tokens(message["content"]) for message in request["messages"])
    if used + wanted <= CONTEXT:
        return default_model(request)
    message = (
        f"'max_tokens' or 'max_completion_tokens' is too large: {wanted}. This model's maximum"
        f" context length is {CONTEXT} tokens and your request has {used} input tokens"
        f" ({wanted} > {CONTEXT} - {used}). None"
    )
    body = {"object": "error", "message": message, "type": "BadRequestError", "param": None}
    return Reply(400, {**body, "code": 400})


def long_alert() -> Alert:
    """An alert whose raw payload fills a prompt past the small model's context."""
    payload = {"log": " ".join(f"line {i}: request failed upstream" for i in range(600))}
    return alert("long").model_copy(update={"raw": payload})


async def test_a_prompt_too_long_for_vllm_does_not_spoil_later_requests(chat: ChatServer) -> None:
    """vLLM's too-long 400 names max_completion_tokens: it is the prompt's length, not a
    reasoning model's refusal, so later requests keep max_tokens and a short alert still gets
    the model's ticket (every later incident fell back as prompt_too_long before)."""
    chat.responder = vllm_small_context
    metrics = Metrics()
    summariser = summariser_for(chat, metrics, llm_max_input_tokens=3000)
    await summariser.summarise(view(long_alert()))
    await summariser.summarise(view(alert("short")))
    await summariser.aclose()
    assert metrics.counter("LLMCalls", outcome="ok") == 1  # the short alert's: the model's
    assert metrics.counter("SummarizationFailures") == 1  # the long alert's only
    assert all("max_completion_tokens" not in request for request in chat.requests)
