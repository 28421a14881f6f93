"""Seeded mutants (`json_mutants`) of what the model servers answer: an OpenAI chat completion,
the chunks of one streamed, and a Converse answer. Read in process by the providers' readers,
each is an `Answer` or a `ModelError` naming why (which the summariser turns into the
deterministic ticket), never another exception. A failure names the seed, the mutant's number
and its mutations: `json_mutants.mutants(BODY, SEED, number + 1)` ends with it."""

from __future__ import annotations

import json
import struct
import zlib
from typing import Any

import pytest

from json_mutants import mutants
from test_summarise_hostile_answers import TICKET
from triage.demo.converse import converse_reply
from triage.demo.model import completion
from triage.errors import ModelError
from triage.summarise import bedrock, openai_chat
from triage.summarise.chat import Answer
from triage.summarise.eventstream import StreamRefused, converse_answer

GOOD = json.dumps(TICKET)
SEED = "llm-answer-shapes-1"
MUTANTS = 400

_CHUNKS = [
    {"id": "c1", "choices": [{"index": 0, "delta": {"role": "assistant", "content": GOOD}}]},
    {"id": "c1", "choices": [{"index": 0, "delta": {}, "finish_reason": "stop"}]},
    {"id": "c1", "choices": [], "usage": {"prompt_tokens": 10, "completion_tokens": 5}},
]


class Unparsed(Exception):
    """A mutant the clients' own parse refuses before any reader sees it (nested past the
    parser's stack, an integer of more digits than Python reads): the SDK's parse and
    botocore's are caught as `bad_response`, so it is not read here."""


def _parsed(body: str) -> Any:
    try:
        return json.loads(body)
    except (RecursionError, ValueError):
        raise Unparsed from None


def _streamed(body: str) -> str:
    """A mutant of the chunks' list, sent as the events of one stream, one per line."""
    try:
        chunks = _parsed(body)
    except Unparsed:
        return f"data: {body}\n\n"  # the stream's own reader parses each event
    items = chunks if isinstance(chunks, list) else [chunks]
    return "".join(f"data: {json.dumps(c)}\n\n" for c in items) + "data: [DONE]\n\n"


async def _openai(body: str) -> Answer:
    return await openai_chat.read_answer(_parsed(body))


async def _openai_stream(body: str) -> Answer:
    return await openai_chat.read_answer(_streamed(body))


async def _converse(body: str) -> Answer:
    return bedrock.read_answer(_parsed(body))


READERS = [
    pytest.param(json.dumps(completion(GOOD).body), _openai, id="openai"),
    pytest.param(json.dumps(_CHUNKS), _openai_stream, id="openai-stream"),
    pytest.param(json.dumps(converse_reply(GOOD).body), _converse, id="converse"),
]


@pytest.mark.parametrize(("body", "read"), READERS)
async def test_no_mutant_of_an_answer_raises_anything_but_a_model_error(
    body: str, read: Any
) -> None:
    """Every mutant of a chat completion, a stream of chunks or a Converse answer reads as an
    Answer or raises ModelError with a reason; no other exception escapes the reader."""
    failures: list[str] = []
    answered = 0
    for mutant in mutants(body, SEED, MUTANTS):
        try:
            found = await read(mutant.body)
        except (ModelError, Unparsed):
            continue
        except Exception as exc:  # what the test is for: name the mutant that raised it
            failures.append(f"{mutant.describe(SEED)}: {type(exc).__name__}: {exc}"[:400])
            continue
        assert isinstance(found, Answer) and isinstance(found.text, str)
        answered += 1
    assert not failures, "\n".join(failures[:10])
    assert answered > MUTANTS // 10  # not only refusals: the readers still read most shapes


_EVENTS = [
    ["messageStart", {"role": "assistant"}],
    ["contentBlockDelta", {"contentBlockIndex": 0, "delta": {"text": GOOD}}],
    ["contentBlockStop", {"contentBlockIndex": 0}],
    ["messageStop", {"stopReason": "end_turn"}],
    ["metadata", {"usage": {"inputTokens": 10, "outputTokens": 5}}],
]


def _event_stream(body: str) -> bytes:
    """A mutant of the events' list, framed as ConverseStream frames them; a mutant whose
    events are no longer [type, payload] pairs keeps what still is one."""
    events = _parsed(body)
    pairs = events if isinstance(events, list) else []
    return b"".join(
        _event(pair[0], json.dumps(pair[1]).encode())
        for pair in pairs
        if isinstance(pair, list)
        and len(pair) == 2
        and isinstance(pair[0], str)
        and len(pair[0].encode("utf-8", "surrogatepass")) < 128
    )


def _event(event_type: str, payload: bytes) -> bytes:
    headers = b""
    for name, value in ((":event-type", event_type), (":message-type", "event")):
        encoded = value.encode("utf-8", "surrogatepass")  # bytes no UTF-8 reader accepts
        headers += bytes([len(name)]) + name.encode() + b"\x07"
        headers += struct.pack(">H", len(encoded)) + encoded
    prelude = struct.pack(">II", 12 + len(headers) + len(payload) + 4, len(headers))
    message = prelude + struct.pack(">I", zlib.crc32(prelude)) + headers + payload
    return message + struct.pack(">I", zlib.crc32(message))


def test_no_mutant_of_an_event_stream_raises_anything_but_a_refusal() -> None:
    """Every mutant of a ConverseStream answer's events reads as the Converse answer it
    spells, which `bedrock.read_answer` reads as an Answer or refuses with ModelError, or is
    refused whole (StreamRefused); no other exception escapes either reader."""
    failures: list[str] = []
    answered = 0
    for mutant in mutants(json.dumps(_EVENTS), SEED, MUTANTS):
        try:
            found = bedrock.read_answer(converse_answer(_event_stream(mutant.body)))
        except (StreamRefused, ModelError, Unparsed):
            continue
        except Exception as exc:  # what the test is for: name the mutant that raised it
            failures.append(f"{mutant.describe(SEED)}: {type(exc).__name__}: {exc}"[:400])
            continue
        assert isinstance(found, Answer) and isinstance(found.text, str)
        answered += 1
    assert not failures, "\n".join(failures[:10])
    assert answered > MUTANTS // 10
