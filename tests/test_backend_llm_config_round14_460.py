"""Round 14 (helper 460): the ticket backend sink, the model clients and configuration against
loopback servers behaving as real services and proxies do."""

from __future__ import annotations

import json
from typing import Any

import pytest

from factories import alert, view
from hostile_server import answer, hostile
from triage.demo.model import ChatServer, Reply, completion
from triage.metrics import Metrics
from triage.redact import Redactor
from triage.settings import Settings
from triage.summarise import FallbackSummariser, build_summariser

KEY = "proxy-cred-Q7w9zXy2Lk"


def summariser_for(url: str, metrics: Metrics, **overrides: Any) -> FallbackSummariser:
    values: dict[str, Any] = {
        "openai_api_key": KEY,
        "openai_base_url": url,
        "llm_timeout_s": 30.0,
        "llm_retries": 2,
        "llm_breaker_failures": 2,
        "llm_breaker_reset_s": 60.0,
        **overrides,
    }
    summariser = build_summariser(Settings(**values), metrics, Redactor())
    assert isinstance(summariser, FallbackSummariser)
    return summariser


TICKET = {
    "title": "Checkout API returns 5xx",
    "priority": "medium",
    "description": "The checkout API fails.",
    "steps": ["Check the error rate dashboard"],
}


def _sse(*chunks: dict[str, Any], done: bool = True) -> bytes:
    events = [f"data: {json.dumps(c)}\n\n" for c in chunks]
    if done:
        events.append("data: [DONE]\n\n")
    return "".join(events).encode()


def _delta(text: str, finish: str | None = None) -> dict[str, Any]:
    return {"choices": [{"index": 0, "delta": {"content": text}, "finish_reason": finish}]}


async def test_a_streamed_answer_cut_before_its_end_is_asked_again() -> None:
    """A stream closed mid-answer (no finish reason, no [DONE]: `Connection: close` and no
    length, so the cut reads as the end) is retried, not judged as the model's invalid JSON."""
    text = json.dumps(TICKET)
    cut = _sse(_delta(text[:30]), done=False)
    whole = _sse(_delta(text[:30]), _delta(text[30:], "stop"))
    head = {"Content-Type": "text/event-stream"}
    metrics = Metrics()
    async with hostile(answer(200, head, cut), answer(200, head, whole)) as server:
        summariser = summariser_for(server.url + "/v1", metrics)
        ticket = await summariser.summarise(view(alert()))
        await summariser.aclose()
    assert ticket.title == TICKET["title"]
    assert metrics.counter("LLMCalls", outcome="unreachable") == 1
    assert metrics.counter("SummarizationFailures") == 0


@pytest.mark.parametrize(
    ("error", "outcome"),
    [
        pytest.param(
            {"message": "The server had an error", "type": "server_error", "code": None},
            "server_error",
            id="openai-server-error-type",
        ),
        pytest.param({"message": "upstream", "code": "502"}, "server_error", id="code-as-text"),
        pytest.param(
            {"message": "Rate limit reached", "type": "requests", "code": "rate_limit_exceeded"},
            "rate_limited",
            id="openai-rate-limit-code",
        ),
        pytest.param({"message": "slow down", "code": "429"}, "rate_limited", id="429-as-text"),
    ],
)
async def test_an_error_in_a_200_named_in_words_or_text_is_retried(
    error: dict[str, Any], outcome: str
) -> None:
    """A 200 whose `error` names a 5xx or 429 as text ("502") or in OpenAI's words
    (`server_error`, `rate_limit_exceeded`) is retried as that status is, not a bad_response."""
    metrics = Metrics()
    with ChatServer() as chat:
        chat.then(Reply(200, {"error": error}), completion(json.dumps(TICKET)))
        summariser = summariser_for(chat.url, metrics)
        ticket = await summariser.summarise(view(alert()))
        await summariser.aclose()
    assert ticket.title == TICKET["title"]
    assert metrics.counter("LLMCalls", outcome=outcome) == 1
    assert metrics.counter("SummarizationFailures") == 0
