"""The LLM summariser reads a model's answer only up to a ticket's plausible size: a larger one
falls back unparsed, for every provider, so no answer can hold the event loop for its parse."""

from __future__ import annotations

import json

import pytest

from factories import alert, view
from triage.errors import SummariserError
from triage.metrics import Metrics
from triage.settings import Settings
from triage.summarise.answer import MAX_ANSWER_CHARS
from triage.summarise.chat import Answer
from triage.summarise.llm import LlmSummariser

TICKET = {"title": "API fails", "priority": "high", "description": "It fails.", "steps": ["Look"]}


class FixedModel:
    """A model whose every request is answered with `text`."""

    provider = "fixed"
    model = "fixed"

    def __init__(self, text: str) -> None:
        self.text = text

    async def complete(self, system: str, user: str, timeout_s: float) -> Answer:
        return Answer(self.text)

    async def aclose(self) -> None:
        return None


def padded(chars: int) -> str:
    """A valid ticket's JSON, `chars` long: whitespace, which JSON allows, before its end."""
    body = json.dumps(TICKET)
    return body[:-1] + " " * (chars - len(body)) + "}"


def summariser(text: str, metrics: Metrics) -> LlmSummariser:
    settings = Settings(openai_api_key="sk-test-" + "k" * 32, llm_retries=0)
    return LlmSummariser(settings, model=FixedModel(text), metrics=metrics)


async def test_an_answer_over_the_bound_falls_back_unparsed() -> None:
    """A ticket's JSON one character over MAX_ANSWER_CHARS, which would read as a ticket, is
    refused as answer_too_large: no model writes that much for a ticket, and its parse (json
    and re hold the GIL, so a thread would not free the loop) is never paid."""
    metrics = Metrics()
    with pytest.raises(SummariserError, match="answer_too_large"):
        await summariser(padded(MAX_ANSWER_CHARS + 1), metrics).summarise(view(alert()))
    assert metrics.counter("LLMCalls", outcome="invalid") == 1


async def test_an_answer_at_the_bound_is_read() -> None:
    """A ticket's JSON of exactly MAX_ANSWER_CHARS is still read as the ticket."""
    metrics = Metrics()
    ticket = await summariser(padded(MAX_ANSWER_CHARS), metrics).summarise(view(alert()))
    assert ticket.description.startswith("It fails.")
    assert metrics.counter("LLMCalls", outcome="ok") == 1
