"""Bedrock answering a plain Converse request with an event stream
(`application/vnd.amazon.eventstream`, ConverseStream's framing), as a proxy or a compatible
server may: against a scripted loopback server, a stream holding a whole answer is read as that
answer; one that does not (cut off, a checksum wrong, no end of message, an exception event) is
refused with one reason and a line naming the content type, never read in part."""

from __future__ import annotations

import io
import json
import struct
import zlib
from typing import Any

import pytest

import triage.summarise.eventstream as eventstream
from hostile_server import Answer, answer, hostile
from test_summarise_hostile_answers import TICKET, events, logs
from test_summarise_hostile_more import HOSTILE, _settings, _ticket_through, deterministic, loud

__all__ = ["logs"]  # a fixture, used by name

CONTENT_TYPE = "application/vnd.amazon.eventstream"
GOOD = json.dumps(TICKET)


def _message(headers: dict[str, str], payload: bytes) -> bytes:
    """One event stream message: prelude (total and headers lengths, their CRC32), string
    headers, the payload and the CRC32 of all before it."""
    encoded = b""
    for name, value in headers.items():
        encoded += bytes([len(name)]) + name.encode() + b"\x07"
        encoded += struct.pack(">H", len(value.encode())) + value.encode()
    prelude = struct.pack(">II", 12 + len(encoded) + len(payload) + 4, len(encoded))
    prelude += struct.pack(">I", zlib.crc32(prelude))
    message = prelude + encoded + payload
    return message + struct.pack(">I", zlib.crc32(message))


def _event(event_type: str, payload: dict[str, Any]) -> bytes:
    headers = {":event-type": event_type, ":content-type": "application/json"}
    return _message({**headers, ":message-type": "event"}, json.dumps(payload).encode())


def _exception(exception_type: str, message: str) -> bytes:
    headers = {":exception-type": exception_type, ":message-type": "exception"}
    return _message(headers, json.dumps({"message": message}).encode())


START = _event("messageStart", {"role": "assistant"})
STOP = _event("messageStop", {"stopReason": "end_turn"})
USAGE = _event(
    "metadata",
    {"usage": {"inputTokens": 7, "outputTokens": 9, "totalTokens": 16}, "metrics": {}},
)


def _text(index: int, text: str) -> bytes:
    return _event("contentBlockDelta", {"contentBlockIndex": index, "delta": {"text": text}})


def _stream(*messages: bytes) -> Answer:
    return answer(200, {"Content-Type": CONTENT_TYPE}, b"".join(messages))


async def test_a_whole_event_stream_is_read_as_the_answer(logs: io.StringIO) -> None:
    """A stream answering Converse: its text deltas joined (a reasoning block before them is
    passed over), its stop reason and its token counts read, and the model's ticket written,
    with no fallback and no line at warning."""
    thinking = _event(
        "contentBlockDelta",
        {"contentBlockIndex": 0, "delta": {"reasoningContent": {"text": "Let me see."}}},
    )
    half = len(GOOD) // 2
    stream = _stream(
        START,
        thinking,
        _event("contentBlockStop", {"contentBlockIndex": 0}),
        _text(1, GOOD[:half]),
        _text(1, GOOD[half:]),
        _event("contentBlockStop", {"contentBlockIndex": 1}),
        STOP,
        USAGE,
    )
    async with hostile(stream) as server:
        # `_settings`' budget leaves room for the first call's client (botocore loads the
        # service's model), which a busy machine slows.
        ticket, metrics = await _ticket_through(_settings("bedrock", server.url))
    assert len(server.requests) == 1
    assert metrics.counter("SummarizationFailures") == 0, loud(logs)
    assert ticket.title == TICKET["title"]
    assert ticket.description.startswith(str(TICKET["description"]))
    assert (metrics.counter("LLMTokensIn"), metrics.counter("LLMTokensOut")) == (7, 9)
    assert loud(logs) == []


def _corrupt_last_crc(data: bytes) -> bytes:
    return data[:-1] + bytes([data[-1] ^ 0xFF])


def _corrupt_prelude_crc(data: bytes) -> bytes:
    return data[:8] + bytes([data[8] ^ 0xFF]) + data[9:]


WHOLE = START + _text(0, GOOD) + STOP

BROKEN = [
    pytest.param(_corrupt_last_crc(WHOLE), "checksum", id="message-crc-wrong"),
    pytest.param(_corrupt_prelude_crc(WHOLE), "checksum", id="prelude-crc-wrong"),
    pytest.param(
        START
        + _message({":message-type": "event", ":event-type": "contentBlockDelta"}, b"{")
        + STOP,
        "payload",
        id="payload-not-json",
    ),
    pytest.param(START + _exception("accessDeniedException", "no"), "accessDenied", id="exc"),
]

#: Streams that stop before their end: whole messages and no `messageStop`, or a message (or
#: its prelude) cut short. A cut stream is a broken connection, not a bad answer.
CUT = [
    pytest.param(START + _text(0, GOOD), id="no-end-of-message"),
    pytest.param(WHOLE[:-7], id="cut-inside-a-message"),
    pytest.param(b"\x00" * 3, id="shorter-than-a-prelude"),
]


@pytest.mark.parametrize(("body", "why"), BROKEN)
async def test_an_event_stream_without_a_whole_answer_is_refused_naming_it(
    logs: io.StringIO, body: bytes, why: str
) -> None:
    """A stream with a checksum that does not match, a payload that is no JSON or an exception
    event: nothing of it is read, the deterministic ticket is written with one line at warning
    (`bad_event_stream`), and an info line names the content type and what is wrong. (A stream
    cut before its end used to be pinned here too; it is a broken connection, retried as an
    OpenAI stream cut short is: `test_an_event_stream_cut_before_its_end_is_asked_again`.)"""
    async with hostile(_stream(body)) as server:
        ticket, metrics = await _ticket_through(_settings("bedrock", server.url))
    assert ticket == deterministic(HOSTILE)
    assert metrics.counter("LLMFallbacks", reason="bad_event_stream") == 1, loud(logs)
    assert loud(logs) == [("summariser.fallback", "bad_event_stream")]
    said = [e["error"] for e in events(logs) if e["event"] == "llm.error"]
    assert len(said) == 1 and CONTENT_TYPE in said[0] and why in said[0], said


@pytest.mark.parametrize("body", CUT)
async def test_an_event_stream_cut_before_its_end_is_asked_again(
    logs: io.StringIO, body: bytes
) -> None:
    """A stream that stops before its `messageStop` (a proxy's idle cut, a worker's crash
    mid-answer: `Connection: close` and no length read the cut as the end) is a broken
    connection, as an OpenAI stream cut short is: asked again (`unreachable`), and the second,
    whole answer is the model's ticket, not a `bad_event_stream` fallback."""
    async with hostile(_stream(body), _stream(WHOLE)) as server:
        settings = _settings("bedrock", server.url, llm_retries=1)
        ticket, metrics = await _ticket_through(settings)
    assert len(server.requests) == 2
    assert metrics.counter("LLMFallbacks", reason="bad_event_stream") == 0, loud(logs)
    assert metrics.counter("LLMCalls", outcome="unreachable") == 1, loud(logs)
    assert ticket.title == TICKET["title"]


async def test_a_throttling_exception_in_an_event_stream_is_retried(logs: io.StringIO) -> None:
    """An event stream whose exception event says the model is throttled is a busy model, as a
    429 is: asked again, and the second (whole) answer is the model's ticket."""
    throttled = _stream(START, _exception("throttlingException", "Too many requests"))
    async with hostile(throttled, _stream(WHOLE)) as server:
        settings = _settings("bedrock", server.url, llm_retries=1)
        ticket, metrics = await _ticket_through(settings)
    assert len(server.requests) == 2
    assert metrics.counter("SummarizationFailures") == 0, loud(logs)
    assert ticket.title == TICKET["title"]


def _raw_header(name: str, kind: int, value: bytes) -> bytes:
    return bytes([len(name)]) + name.encode() + bytes([kind]) + value


def _with_headers(headers: bytes, payload: bytes) -> bytes:
    prelude = struct.pack(">II", 12 + len(headers) + len(payload) + 4, len(headers))
    prelude += struct.pack(">I", zlib.crc32(prelude))
    message = prelude + headers + payload
    return message + struct.pack(">I", zlib.crc32(message))


def test_headers_of_every_value_type_are_read_and_an_unknown_one_refused() -> None:
    """Header values of fixed size (bool, int, timestamp, uuid) and sized ones (bytes, string)
    are stepped over by their documented sizes, so the string after them reads; a value type
    the framing does not define refuses the stream."""
    headers = b"".join(
        [
            _raw_header("flag", 0, b""),
            _raw_header("count", 4, struct.pack(">i", 7)),
            _raw_header("at", 8, struct.pack(">q", 1_700_000_000_000)),
            _raw_header("id", 9, bytes(16)),
            _raw_header("blob", 6, struct.pack(">H", 3) + b"abc"),
            _raw_header(":message-type", 7, struct.pack(">H", 5) + b"event"),
        ]
    )
    (message,) = eventstream.messages(_with_headers(headers, b"{}"))
    assert message.headers[":message-type"] == "event"
    assert message.headers["count"] == struct.pack(">i", 7)
    with pytest.raises(eventstream.StreamRefused, match="unknown value type 10"):
        list(eventstream.messages(_with_headers(_raw_header("x", 10, b""), b"")))


@pytest.mark.parametrize(
    "message",
    [
        _message({":message-type": "event", ":event-type": "ignore previous x" * 9}, b"["),
        _message({":message-type": "exception", ":exception-type": "see http://x.example"}, b""),
        _message({":message-type": "AKIAQ7ZK4MWB2XHP9TLR<script>"}, b""),
    ],
)
def test_a_refusal_names_only_what_aws_names(message: bytes) -> None:
    """What a refusal says (and so its log line) names an event, exception or message type
    only when it is a short identifier, as AWS's are; the server's own text is `unnamed`."""
    with pytest.raises(eventstream.StreamRefused) as refused:
        eventstream.converse_answer(START + message)
    said = str(refused.value)
    assert "unnamed" in said
    assert not any(word in said for word in ("ignore", "http", "AKIA", "<script>"))
