"""Answers that add up to nothing, on both APIs: a stream of no chunks, chunks of no text, only
a finish reason, content that is empty, blank or null beside a tool call or a refusal, Converse
content blocks of no text, a ticket cut at `max_tokens`, a guardrail's stop. Served as raw bytes
by a loopback server, each must end as the deterministic ticket with exactly one line at
warning naming why, never as an empty ticket; and a stream the model did write a ticket in is
read, whatever comment or field lines a gateway puts around its events."""

from __future__ import annotations

import io
import json
import struct
import zlib
from typing import Any

import pytest

from factories import view
from hostile_server import Answer, answer, hostile
from test_summarise_hostile_answers import TICKET, logs
from test_summarise_hostile_more import HOSTILE, _settings, deterministic, loud
from triage.metrics import Metrics
from triage.models import Ticket
from triage.redact import Redactor
from triage.settings import Settings
from triage.summarise import FallbackSummariser, build_summariser

__all__ = ["logs"]  # a fixture, used by name

GOOD = json.dumps(TICKET)
#: A ticket cut where an output bound stops it: half its JSON.
HALF = GOOD[: len(GOOD) // 2]


async def _ticket_through(settings: Settings) -> tuple[Ticket, Metrics]:
    metrics = Metrics()
    summariser = build_summariser(settings, metrics, Redactor())
    assert isinstance(summariser, FallbackSummariser)
    try:
        return await summariser.summarise(view(HOSTILE)), metrics
    finally:
        await summariser.aclose()


# --- OpenAI: streamed (some gateways stream whatever is asked) ---------------------------------


def _sse(*chunks: dict[str, Any] | str, done: bool = True) -> Answer:
    """An event stream of `chunks` (a dict is one `data:` event; a str is written as it is)."""
    text = "".join(c if isinstance(c, str) else f"data: {json.dumps(c)}\n\n" for c in chunks)
    body = (text + ("data: [DONE]\n\n" if done else "")).encode()
    return answer(200, {"Content-Type": "text/event-stream"}, body)


def _delta(delta: dict[str, Any], finish: str | None = None) -> dict[str, Any]:
    choice = {"index": 0, "delta": delta, "finish_reason": finish}
    return {"id": "c1", "object": "chat.completion.chunk", "choices": [choice]}


_ROLE = _delta({"role": "assistant"})

OPENAI_STREAMED_NOTHING = [
    pytest.param(_sse(), "empty_answer", id="done-only"),
    pytest.param(_sse(done=False), "bad_response", id="no-bytes"),
    pytest.param(
        _sse(_ROLE, _delta({"content": None}), _delta({}, "stop")),
        "empty_answer",
        id="null-content",
    ),
    pytest.param(
        _sse(_ROLE, _delta({"content": ""}), _delta({"content": ""}, "stop")),
        "empty_answer",
        id="empty-content",
    ),
    pytest.param(_sse(_delta({}, "stop")), "empty_answer", id="finish-only"),
    pytest.param(_sse(_delta({}, "length")), "truncated", id="length-only"),
    pytest.param(
        _sse(_ROLE, _delta({"content": " \n\t "}, "stop")), "empty_answer", id="blank-content"
    ),
    pytest.param(
        _sse(_ROLE, _delta({"content": "\ufeff\u200b\u2060"}, "stop")),
        "empty_answer",
        id="invisible-content",
    ),
    pytest.param(_sse(_ROLE, _delta({"content": HALF}, "length")), "truncated", id="half-ticket"),
    pytest.param(_sse(_ROLE, _delta({}, "content_filter")), "content_filter", id="filtered"),
    pytest.param(
        _sse(
            _ROLE,
            _delta(
                {
                    "tool_calls": [
                        {
                            "index": 0,
                            "id": "t1",
                            "type": "function",
                            "function": {"name": "page", "arguments": "{}"},
                        }
                    ]
                },
                "tool_calls",
            ),
        ),
        "empty_answer",
        id="tool-call",
    ),
    pytest.param(
        _sse({"choices": [], "prompt_filter_results": []}, {"choices": []}),
        "empty_answer",
        id="no-choices",
    ),
]

OPENAI_PLAIN_NOTHING = [
    pytest.param({"content": ""}, "stop", "empty_answer", id="empty"),
    pytest.param({"content": "  \n\t\r "}, "stop", "empty_answer", id="whitespace"),
    pytest.param({"content": "\u200b\ufeff \u2060\u202e"}, "stop", "empty_answer", id="invisible"),
    pytest.param({"content": None}, "stop", "empty_answer", id="null"),
    pytest.param(
        {
            "content": None,
            "tool_calls": [
                {"id": "t1", "type": "function", "function": {"name": "page", "arguments": "{}"}}
            ],
        },
        "tool_calls",
        "empty_answer",
        id="null-with-tool-call",
    ),
    pytest.param(
        {"content": "", "refusal": "I can't help with that."},
        "stop",
        "refused",
        id="empty-with-refusal",
    ),
    pytest.param(
        {"content": None, "refusal": " \n "}, "stop", "empty_answer", id="null-with-blank-refusal"
    ),
    pytest.param(
        {"content": [{"type": "thinking", "thinking": "hmm"}]},
        "stop",
        "empty_answer",
        id="parts-without-text",
    ),
    pytest.param(
        {"content": "<think>web-1 is down</think>\n\n"}, "stop", "empty_answer", id="thinking-only"
    ),
    pytest.param({"content": None}, "length", "truncated", id="null-at-length"),
    pytest.param({"content": None}, "content_filter", "content_filter", id="null-filtered"),
]


def _plain(message: dict[str, Any], finish: str) -> Answer:
    choice = {"index": 0, "message": {"role": "assistant", **message}, "finish_reason": finish}
    usage = {"prompt_tokens": 10, "completion_tokens": 0, "total_tokens": 10}
    body = json.dumps(
        {"id": "c1", "object": "chat.completion", "choices": [choice], "usage": usage}
    )
    return answer(200, {"Content-Type": "application/json"}, body.encode())


async def _falls_back(logs: io.StringIO, provider: str, reply: Answer, reason: str) -> None:
    """The deterministic ticket, `reason` counted once, and one line at warning saying it."""
    async with hostile(reply) as server:
        ticket, metrics = await _ticket_through(_settings(provider, server.url))
    assert len(server.requests) == 1
    assert ticket == deterministic(HOSTILE)
    assert ticket.title.strip() and ticket.description.strip() and ticket.steps
    assert metrics.counter("SummarizationFailures") == 1
    assert metrics.counter("LLMFallbacks", reason=reason) == 1, loud(logs)
    assert loud(logs) == [("summariser.fallback", reason)]


@pytest.mark.parametrize(("reply", "reason"), OPENAI_STREAMED_NOTHING)
async def test_an_openai_stream_of_nothing_is_a_failed_answer(
    logs: io.StringIO, reply: Answer, reason: str
) -> None:
    """A stream with no chunks, chunks of no text, only a finish reason, a tool call or a
    filter's stop never becomes an empty ticket: the deterministic one, one line naming why."""
    await _falls_back(logs, "openai", reply, reason)


@pytest.mark.parametrize(("message", "finish", "reason"), OPENAI_PLAIN_NOTHING)
async def test_an_openai_answer_of_no_text_is_a_failed_answer(
    logs: io.StringIO, message: dict[str, Any], finish: str, reason: str
) -> None:
    """Content that is empty, blank, invisible or null (beside a tool call, an empty or blank
    refusal, at the length bound or filtered) never becomes an empty ticket: the deterministic
    one, with one line naming why (a refusal in words is `refused`)."""
    await _falls_back(logs, "openai", _plain(message, finish), reason)


@pytest.mark.parametrize(
    "around",
    [
        pytest.param(": OPENROUTER PROCESSING\n\n", id="comment-first"),
        pytest.param("retry: 1000\n\n", id="retry-first"),
        pytest.param("event: ping\ndata: {}\n\n", id="ping-event-first"),
    ],
)
async def test_a_stream_a_gateway_opens_with_other_lines_is_read(
    logs: io.StringIO, around: str
) -> None:
    """A stream whose first lines are an SSE comment, a `retry:` field or an event of another
    kind (OpenRouter opens with `: OPENROUTER PROCESSING`) still holds the model's ticket,
    read as if it were the first thing sent."""
    reply = _sse(around, _delta({"role": "assistant", "content": GOOD}), _delta({}, "stop"))
    async with hostile(reply) as server:
        ticket, metrics = await _ticket_through(_settings("openai", server.url))
    assert metrics.counter("SummarizationFailures") == 0, loud(logs)
    assert ticket.title == TICKET["title"]
    assert loud(logs) == []


# --- Bedrock: Converse's JSON and its event stream --------------------------------------------


def _converse(content: list[dict[str, Any]], stop: str = "end_turn") -> Answer:
    body = {
        "output": {"message": {"role": "assistant", "content": content}},
        "stopReason": stop,
        "usage": {"inputTokens": 10, "outputTokens": 0, "totalTokens": 10},
    }
    return answer(200, {"Content-Type": "application/json"}, json.dumps(body).encode())


def _event(event_type: str, payload: dict[str, Any]) -> bytes:
    """One message of AWS's event stream: prelude, string headers, JSON payload, CRC32s."""
    headers = b""
    for name, value in ((":event-type", event_type), (":message-type", "event")):
        headers += bytes([len(name)]) + name.encode() + b"\x07"
        headers += struct.pack(">H", len(value)) + value.encode()
    body = json.dumps(payload).encode()
    prelude = struct.pack(">II", 12 + len(headers) + len(body) + 4, len(headers))
    message = prelude + struct.pack(">I", zlib.crc32(prelude)) + headers + body
    return message + struct.pack(">I", zlib.crc32(message))


def _stream(*texts: str, stop: str = "end_turn", blocks: bool = True) -> Answer:
    """ConverseStream's framing of one text block made of `texts` (none: no delta), or of no
    block at all (`blocks=False`)."""
    parts = [_event("messageStart", {"role": "assistant"})]
    if blocks:
        parts.append(_event("contentBlockStart", {"contentBlockIndex": 0, "start": {}}))
        parts += [
            _event("contentBlockDelta", {"contentBlockIndex": 0, "delta": {"text": text}})
            for text in texts
        ]
        parts.append(_event("contentBlockStop", {"contentBlockIndex": 0}))
    parts.append(_event("messageStop", {"stopReason": stop}))
    parts.append(_event("metadata", {"usage": {"inputTokens": 10, "outputTokens": 0}}))
    content_type = "application/vnd.amazon.eventstream"
    return answer(200, {"Content-Type": content_type}, b"".join(parts))


_REASONING = {"reasoningContent": {"reasoningText": {"text": "Let me think."}}}

BEDROCK_NOTHING = [
    pytest.param(_converse([]), "empty_answer", id="no-blocks"),
    pytest.param(_converse([{"text": ""}]), "empty_answer", id="empty-block"),
    pytest.param(_converse([{"text": ""}, {"text": " \n"}]), "empty_answer", id="blank-blocks"),
    pytest.param(_converse([{"text": "\u200b\ufeff"}]), "empty_answer", id="invisible-block"),
    pytest.param(_converse([_REASONING]), "empty_answer", id="reasoning-only"),
    pytest.param(_converse([], "max_tokens"), "truncated", id="no-blocks-at-max-tokens"),
    pytest.param(_converse([{"text": HALF}], "max_tokens"), "truncated", id="half-at-max-tokens"),
    pytest.param(
        _converse([{"text": "Sorry, the model cannot answer."}], "guardrail_intervened"),
        "content_filter",
        id="guardrail",
    ),
    pytest.param(_converse([], "guardrail_intervened"), "content_filter", id="guardrail-empty"),
    pytest.param(
        _converse([{"text": GOOD}], "content_filtered"), "content_filter", id="content-filtered"
    ),
    pytest.param(_stream(blocks=False), "empty_answer", id="stream-no-blocks"),
    pytest.param(_stream(), "empty_answer", id="stream-no-deltas"),
    pytest.param(_stream("", ""), "empty_answer", id="stream-empty-deltas"),
    pytest.param(_stream(" ", "\n"), "empty_answer", id="stream-blank-deltas"),
    pytest.param(
        _stream(HALF[:20], HALF[20:], stop="max_tokens"),
        "truncated",
        id="stream-half-at-max-tokens",
    ),
    pytest.param(
        _stream(blocks=False, stop="max_tokens"), "truncated", id="stream-nothing-at-max-tokens"
    ),
    pytest.param(
        _stream("Sorry.", stop="guardrail_intervened"), "content_filter", id="stream-guardrail"
    ),
]


@pytest.mark.parametrize(("reply", "reason"), BEDROCK_NOTHING)
async def test_a_converse_answer_of_nothing_is_a_failed_answer(
    logs: io.StringIO, reply: Answer, reason: str
) -> None:
    """Converse content of no block, empty, blank or invisible blocks, reasoning alone, half
    a ticket at `max_tokens`, a guardrail's or a filter's stop, as JSON or as an event stream:
    never an empty ticket nor half a one, but the deterministic ticket with one line naming
    why."""
    await _falls_back(logs, "bedrock", reply, reason)


async def test_a_stream_of_content_parts_is_read_as_its_text_parts(logs: io.StringIO) -> None:
    """A reasoning model's stream whose deltas carry content as a list of parts (Mistral's
    Magistral: a `thinking` part, then `text` parts) is its text parts joined, not nothing:
    the model's ticket, its thinking left out."""
    thinking = [{"type": "thinking", "thinking": [{"type": "text", "text": "web-9 is down"}]}]
    halves = (GOOD[:30], GOOD[30:])
    reply = _sse(
        _delta({"role": "assistant", "content": thinking}),
        *(_delta({"content": [{"type": "text", "text": half}]}) for half in halves),
        _delta({}, "stop"),
    )
    async with hostile(reply) as server:
        ticket, metrics = await _ticket_through(_settings("openai", server.url))
    assert metrics.counter("SummarizationFailures") == 0, loud(logs)
    assert ticket.title == TICKET["title"]
    assert "web-9" not in ticket.description


@pytest.mark.parametrize(
    "body",
    [
        pytest.param(b":( Something went wrong. Try again later.", id="sad-face-page"),
        pytest.param(b": keep-alive\n\n: keep-alive\n\n", id="comments-only"),
    ],
)
async def test_text_that_only_opens_like_a_stream_is_no_chat_completion(
    logs: io.StringIO, body: bytes
) -> None:
    """Text that opens as a stream might (a colon) but holds no event's data, a gateway's page
    or keep-alives alone, is no chat completion (`bad_response`, which the breaker hears of),
    not an empty answer from the model."""
    reply = answer(200, {"Content-Type": "text/plain"}, body)
    await _falls_back(logs, "openai", reply, "bad_response")


def _pretty_event(chunk: dict[str, Any]) -> str:
    """One event whose data spans lines, as the SSE spec allows: a `data:` line per line."""
    return "".join(f"data: {line}\n" for line in json.dumps(chunk, indent=2).splitlines()) + "\n"


@pytest.mark.parametrize(
    "events",
    [
        pytest.param(
            _pretty_event(_delta({"role": "assistant", "content": GOOD}))
            + _pretty_event(_delta({}, "stop")),
            id="data-over-lines",
        ),
        pytest.param(
            f"data: {json.dumps(_delta({'role': 'assistant', 'content': GOOD}))}\n"
            f"data: {json.dumps(_delta({}, 'stop'))}\n",
            id="no-blank-line-between-events",
        ),
    ],
)
async def test_a_stream_written_either_way_the_spec_allows_is_read(
    logs: io.StringIO, events: str
) -> None:
    """An event whose data spans several `data:` lines (joined by line breaks, as the SSE spec
    says: a server pretty-printing its chunks) and a stream whose events have no blank line
    between them (a `data:` line per chunk) both hold the model's ticket."""
    async with hostile(_sse(events)) as server:
        ticket, metrics = await _ticket_through(_settings("openai", server.url))
    assert metrics.counter("SummarizationFailures") == 0, loud(logs)
    assert ticket.title == TICKET["title"]
