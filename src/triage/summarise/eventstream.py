"""A Converse answer sent as an event stream (`application/vnd.amazon.eventstream`), read whole.

Converse answers JSON, but ConverseStream's framing may come back to a plain Converse request (a
proxy or a Bedrock-compatible server that always streams). Such a body holds the whole answer once
it ends with `messageStop`, so it is read as the Converse JSON it spells, and botocore parses that
as it parses any other answer.

The framing, message after message: a prelude (total length and headers length, big-endian
uint32 each, then the CRC32 of those 8 bytes), the headers (name length, name, value type, value),
the payload, and the CRC32 of everything before it. Every length is checked against the bytes
there are and both checksums are checked, one pass by offsets over a body the client already
bounded (`bedrock.MAX_ANSWER_BYTES`). ConverseStream's events, in order: `messageStart`,
`contentBlockStart` / `contentBlockDelta` / `contentBlockStop` per block, `messageStop` (the stop
reason), `metadata` (token counts); an `exception` message ends the stream with an error.

A stream that does not hold a whole answer (cut off, a checksum wrong, a payload no JSON, no
`messageStop`, an exception) is refused whole (`StreamRefused`): none of it is read in part. One
that stops before its end (a message cut short, or whole messages and no `messageStop`) is marked
`cut`: a stream sent with `Connection: close` and no length ends where the connection does, so a
proxy's idle cut reads as its end, which is a broken connection, not a bad answer.
"""

from __future__ import annotations

import json
import struct
import zlib
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

#: The content type of AWS's event stream framing.
CONTENT_TYPE = "application/vnd.amazon.eventstream"

#: Prelude (8 bytes and their CRC) plus the message CRC: the smallest message is this long.
_PRELUDE = struct.Struct(">III")
_OVERHEAD = _PRELUDE.size + 4
#: Bytes of a header value of each fixed-size type (bool true, bool false, byte, short, int,
#: long, timestamp, uuid); types 6 and 7 (bytes, string) carry a 2-byte length instead.
_FIXED_VALUE = {0: 0, 1: 0, 2: 1, 3: 2, 4: 4, 5: 8, 8: 8, 9: 16}
_SIZED_VALUE = (6, 7)

#: Exceptions an answer's stream may end with that mean a busy or failing model, as the same
#: error answered as JSON does, and the fallback reason each counts as (all are retried).
BUSY_EXCEPTIONS = {
    "throttlingException": "rate_limited",
    "serviceUnavailableException": "server_error_503",
    "internalServerException": "server_error_500",
    "modelStreamErrorException": "server_error_424",
    "modelTimeoutException": "timeout",
}


class StreamRefused(ValueError):
    """Raised when an event stream holds no whole Converse answer; `busy` names the reason of
    an exception event that says the model is busy or failing (`BUSY_EXCEPTIONS`), else None;
    `cut` says the stream stopped before its end (the connection broke, not the answer)."""

    def __init__(self, why: str, busy: str | None = None, *, cut: bool = False) -> None:
        super().__init__(why)
        self.busy = busy
        self.cut = cut


@dataclass(frozen=True, slots=True)
class Message:
    headers: dict[str, Any]
    payload: bytes


def is_event_stream(content_type: str | None) -> bool:
    """Whether a response's Content-Type is the event stream's (parameters ignored)."""
    return (content_type or "").split(";", 1)[0].strip().lower() == CONTENT_TYPE


def converse_answer(body: bytes) -> dict[str, Any]:
    """The Converse answer (`output.message.content`, `stopReason`, `usage`) the event stream
    `body` spells; StreamRefused saying why when it holds none whole."""
    answer = _Answer()
    for message in messages(body):
        answer.add(message)
    if answer.stop_reason is None:
        raise StreamRefused("no messageStop event: the answer never ended", cut=True)
    return answer.converse()


def messages(body: bytes) -> Iterator[Message]:
    """The messages of `body`, each checked; StreamRefused at the first that is not whole."""
    view = memoryview(body)
    at = 0
    while at < len(view):
        if len(view) - at < _OVERHEAD:
            raise StreamRefused(f"cut off: {len(view) - at} bytes are no whole message", cut=True)
        total, headers_length, prelude_crc = _PRELUDE.unpack_from(view, at)
        if zlib.crc32(view[at : at + 8]) != prelude_crc:
            raise StreamRefused("a prelude checksum does not match")
        if total < _OVERHEAD + headers_length:
            raise StreamRefused("a prelude's lengths do not add up")
        if at + total > len(view):
            raise StreamRefused(
                f"cut off: a message of {total} bytes has {len(view) - at}", cut=True
            )
        end = at + total - 4
        (message_crc,) = struct.unpack_from(">I", view, end)
        if zlib.crc32(view[at:end]) != message_crc:
            raise StreamRefused("a message checksum does not match")
        headers_end = at + _PRELUDE.size + headers_length
        headers = _headers(view[at + _PRELUDE.size : headers_end])
        yield Message(headers, bytes(view[headers_end:end]))
        at += total


def _headers(data: memoryview) -> dict[str, Any]:
    """A message's headers by name: strings decoded, other values as their bytes."""
    headers: dict[str, Any] = {}
    at = 0
    try:
        while at < len(data):
            name_end = at + 1 + data[at]
            name = bytes(data[at + 1 : name_end]).decode()
            kind = data[name_end]
            at = name_end + 1
            if kind in _SIZED_VALUE:
                (size,) = struct.unpack_from(">H", data, at)
                at += 2
            elif kind in _FIXED_VALUE:
                size = _FIXED_VALUE[kind]
            else:
                raise StreamRefused(f"a header of unknown value type {kind}")
            if at + size > len(data):
                raise StreamRefused("a header runs past the headers")
            value = bytes(data[at : at + size])
            headers[name] = value.decode() if kind == 7 else value
            at += size
    except (IndexError, struct.error, UnicodeDecodeError):
        raise StreamRefused("a header cut off or not UTF-8") from None
    return headers


@dataclass
class _Answer:
    """A Converse answer as its events build it."""

    #: Content blocks by index: the text deltas of each, and the other kinds it holds.
    texts: dict[int, list[str]] = field(default_factory=dict)
    others: dict[int, dict[str, Any]] = field(default_factory=dict)
    stop_reason: str | None = None
    usage: Any = None

    def add(self, message: Message) -> None:
        kind = message.headers.get(":message-type")
        if kind != "event":
            raise _refused_by(message)
        event = message.headers.get(":event-type")
        payload = _payload(message, event)
        if event == "contentBlockDelta":
            self._delta(payload)
        elif event == "contentBlockStart":
            start = payload.get("start")
            if isinstance(start, dict) and "toolUse" in start:
                self.others[_index(payload)] = {"toolUse": start["toolUse"]}
        elif event == "messageStop":
            self.stop_reason = str(payload.get("stopReason") or "end_turn")
        elif event == "metadata":
            self.usage = payload.get("usage")

    def _delta(self, payload: dict[str, Any]) -> None:
        index, delta = _index(payload), payload.get("delta")
        if not isinstance(delta, dict):
            raise StreamRefused("a contentBlockDelta without a delta")
        if "text" in delta:
            if not isinstance(delta["text"], str):
                raise StreamRefused("a text delta that is no text")
            self.texts.setdefault(index, []).append(delta["text"])
        elif "reasoningContent" in delta:
            # Its text is not the answer: only that the model thought (`bedrock._thinks`).
            self.others[index] = {"reasoningContent": {"reasoningText": {"text": ""}}}

    def converse(self) -> dict[str, Any]:
        blocks = {index: {"text": "".join(parts)} for index, parts in self.texts.items()}
        blocks.update((i, block) for i, block in self.others.items() if i not in blocks)
        answer: dict[str, Any] = {
            "output": {
                "message": {
                    "role": "assistant",
                    "content": [block for _, block in sorted(blocks.items())],
                }
            },
            "stopReason": self.stop_reason,
        }
        if self.usage is not None:
            answer["usage"] = self.usage
        return answer


def _payload(message: Message, event: Any) -> dict[str, Any]:
    try:
        payload = json.loads(message.payload) if message.payload else {}
    except (ValueError, RecursionError):
        raise StreamRefused(f"a {_named(event)} event's payload is no JSON") from None
    if not isinstance(payload, dict):
        raise StreamRefused(f"a {_named(event)} event's payload is no object")
    return payload


def _index(payload: dict[str, Any]) -> int:
    index = payload.get("contentBlockIndex", 0)
    if not isinstance(index, int) or isinstance(index, bool) or not 0 <= index < 1024:
        raise StreamRefused("a content block index that is no small number")
    return index


def _refused_by(message: Message) -> StreamRefused:
    """The error an `exception` (or `error`) message ends the stream with: named by its type
    (AWS's words, not the server's message, which may say anything)."""
    kind = message.headers.get(":message-type")
    if kind not in ("exception", "error"):
        return StreamRefused(f"a message of type {_named(kind)}, not an event")
    name = _named(message.headers.get(":exception-type") or message.headers.get(":error-code"))
    return StreamRefused(f"an exception event: {name}", busy=BUSY_EXCEPTIONS.get(name))


#: ConverseStream's events, as its API model names them.
_EVENTS = "messageStart contentBlockStart contentBlockDelta contentBlockStop messageStop metadata"
#: The errors Converse and ConverseStream answer with, without their "Exception": a stream
#: writes them in lower camel case ("throttlingException"), an error answer in upper.
_ERRORS = (
    "AccessDenied Throttling ResourceNotFound ModelTimeout InternalServer ServiceUnavailable"
    " Validation ModelNotReady ModelError ModelStreamError ServiceQuotaExceeded"
)
#: Every name a refusal may say as it is: AWS's own message, event and exception types.
_AWS_NAMES = frozenset(
    [
        "event",
        "exception",
        "error",
        *_EVENTS.split(),
        *(f"{error}Exception" for error in _ERRORS.split()),
        *(f"{error[0].lower()}{error[1:]}Exception" for error in _ERRORS.split()),
    ]
)


def _named(value: Any) -> str:
    """A header value as a refusal may name it: one of AWS's own names (`_AWS_NAMES`) as it
    is, anything else as `unnamed`. Whatever answers writes the headers, and an identifier
    may be a credential ("AKIA…", "ghp_…"): the refusal goes to logs, metrics' reasons and
    `triage check`'s line alike, so it is safe before any of them redacts it."""
    return value if isinstance(value, str) and value in _AWS_NAMES else "unnamed"
