"""The LLM summariser reads a model's answer only up to a ticket's plausible size: a larger one
falls back unparsed, for every provider, so no answer can hold the event loop for its parse."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable

import pytest

from factories import alert, view
from triage.errors import ModelError, SummariserError
from triage.metrics import Metrics
from triage.settings import Settings
from triage.summarise.answer import MAX_ANSWER_CHARS
from triage.summarise.chat import Answer
from triage.summarise.llm import LlmSummariser
from triage.summarise.openai_chat import read_answer

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


# --- an answer streamed though no stream was asked for (OpenAI-compatible gateways) ----------


def streamed(text: str, piece_chars: int = 16) -> str:
    """`text` as a gateway streams it: one server-sent event per piece, then [DONE]."""
    events = [
        "data: "
        + json.dumps({"choices": [{"index": 0, "delta": {"content": text[i : i + piece_chars]}}]})
        for i in range(0, len(text), piece_chars)
    ]
    return "\n\n".join([*events, "data: [DONE]"]) + "\n\n"


async def loop_turns_during(read: Awaitable[Answer]) -> tuple[int, Answer]:
    """How often another task on the event loop ran while `read` was awaited, and its answer."""
    turns = 0

    async def probe() -> None:
        nonlocal turns
        while True:
            turns += 1
            await asyncio.sleep(0)

    task = asyncio.create_task(probe())
    await asyncio.sleep(0)  # the probe is running
    before = turns
    try:
        answer = await read
    finally:
        task.cancel()
    return turns - before, answer


@pytest.mark.parametrize(
    "completion",
    [
        {"choices": [{"message": {"content": json.dumps(TICKET)}, "finish_reason": "stop"}]},
        streamed(json.dumps(TICKET)),
    ],
    ids=["json", "short-stream"],
)
async def test_a_short_answer_is_read_on_the_event_loop(completion: object) -> None:
    """A ticket-sized answer, JSON or a short stream, is read where it is, on the event loop:
    no other task runs meanwhile (a worker thread's hop would cost more than the read)."""
    turns, answer = await loop_turns_during(read_answer(completion))
    assert turns == 0
    assert json.loads(answer.text) == TICKET


async def test_a_long_streamed_answer_is_assembled_off_the_event_loop() -> None:
    """A stream of many events (each parsed apart: milliseconds for a long one) is assembled
    in a worker thread: other tasks on the event loop run while it is."""
    text = json.dumps({**TICKET, "description": "It fails. " * 6000})
    turns, answer = await loop_turns_during(read_answer(streamed(text)))
    assert turns > 0
    assert answer.text == text


async def test_a_stream_longer_than_any_ticket_is_too_large() -> None:
    """A stream whose text passes MAX_ANSWER_CHARS is refused as answer_too_large, as a
    plain answer that long is, without assembling the rest of it."""
    text = json.dumps({**TICKET, "description": "x" * MAX_ANSWER_CHARS})
    with pytest.raises(ModelError) as raised:
        await read_answer(streamed(text, piece_chars=4096))
    assert raised.value.reason == "answer_too_large"
    assert raised.value.provider_fault


async def test_a_stream_event_nested_past_the_parser_is_no_chat_completion() -> None:
    """An event nested deeper than the JSON parser's stack is an answer that is no chat
    completion (bad_response, the provider's fault), not an error no ModelError names."""
    events = "data: " + "[" * 100_000 + "]" * 100_000 + "\n\ndata: [DONE]\n\n"
    with pytest.raises(ModelError) as raised:
        await read_answer(events)
    assert raised.value.reason == "bad_response"
    assert raised.value.provider_fault
