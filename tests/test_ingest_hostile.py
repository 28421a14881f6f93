"""`triage ingest` against a hostile client: requests written byte by byte on a raw socket (so
nothing in an HTTP client tidies them up), each answered with a clear status and a short reason,
one log line, and no credential or body echoed back or logged."""

from __future__ import annotations

import asyncio
import base64
import dataclasses
import gzip
import json
import re
from collections.abc import AsyncIterator, MutableMapping, Sequence
from typing import Any

import pytest
from structlog.testing import capture_logs

from daemon_harness import Queues
from ingest_harness import (
    TOKENS,
    SqsProxy,
    bearer,
    ingest_settings,
    loopback_client,
    payload,
    running,
    sentry_headers,
)
from triage.ingest import IngestService, connections
from triage.sqs.identity import GATEWAY_ID_ATTRIBUTE, new_gateway_id

GENERIC = payload("generic/firing.json")
SENTRY = payload("sentry/issue-created.json")
BEARER = f"Authorization: Bearer {TOKENS['generic']}\r\n"


@pytest.fixture
async def gateway(queues: Queues) -> AsyncIterator[IngestService]:
    """The gateway on a free port, with the harness's tokens, in front of moto's `alerts` queue."""
    async with running(ingest_settings(queues.url, queues.endpoint)) as service:
        yield service


def received(queues: Queues) -> list[dict[str, Any]]:
    """Messages now on the queue (left in place: visibility 0)."""
    response = queues.client().receive_message(
        QueueUrl=queues.url, MaxNumberOfMessages=10, VisibilityTimeout=0
    )
    messages: list[dict[str, Any]] = response.get("Messages", [])
    return messages


class Answer:
    """One HTTP answer as read off the socket: status, headers (lower-case names), body."""

    def __init__(self, status: int, headers: dict[str, str], body: bytes) -> None:
        self.status = status
        self.headers = headers
        self.body = body

    def json(self) -> Any:
        return json.loads(self.body)


async def read_answer(reader: asyncio.StreamReader) -> Answer:
    """The next answer on the connection (an interim 100 included), within 10 s."""
    head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), timeout=10)
    status_line, *lines = head.decode("latin-1").split("\r\n")
    headers = {}
    for line in lines:
        if line:
            name, _, value = line.partition(":")
            headers[name.strip().lower()] = value.strip()
    length = int(headers.get("content-length", "0"))
    body = await asyncio.wait_for(reader.readexactly(length), timeout=10) if length else b""
    return Answer(int(status_line.split()[1]), headers, body)


async def exchange(port: int, request: bytes) -> Answer:
    """Send `request` whole and read one answer."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    try:
        writer.write(request)
        await writer.drain()
        return await read_answer(reader)
    finally:
        writer.close()


def head(path: str, headers: str, method: str = "POST") -> bytes:
    return f"{method} {path} HTTP/1.1\r\nHost: x\r\n{headers}\r\n".encode()


async def wait_logged(
    logs: Sequence[MutableMapping[str, Any]], event: str
) -> list[MutableMapping[str, Any]]:
    """The `event` lines once at least one is logged (10 s at most)."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + 10
    while not any(e["event"] == event for e in logs):
        assert loop.time() < deadline, logs
        await asyncio.sleep(0.01)
    return [e for e in logs if e["event"] == event]


# --- Expect: 100-continue ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("path", "headers", "status"),
    [
        ("/v1/alerts/generic", BEARER + "Content-Length: 50000000\r\n", 413),
        ("/v1/alerts/generic", "Content-Length: 489\r\n", 401),
        ("/v1/alerts/pagerduty", BEARER + "Content-Length: 489\r\n", 404),
        ("/v1/alerts/generic", BEARER + "Content-Length: 489\r\nContent-Encoding: br\r\n", 415),
        ("/v1/alerts/sentry", "Content-Length: 489\r\nSentry-Hook-Signature: 00\r\n", 401),
        ("/v1/nope", BEARER + "Content-Length: 489\r\n", 404),
        ("/healthz", "Content-Length: 489\r\n", 405),
    ],
    ids=[
        "oversized",
        "no-credential",
        "unknown-source",
        "unsupported-coding",
        "no-signature",
        "unknown-path",
        "wrong-method",
    ],
)
async def test_expect_100_continue_is_refused_from_the_head_before_any_body(
    gateway: IngestService, queues: Queues, path: str, headers: str, status: int
) -> None:
    """A head that condemns the request is refused as the first answer, never after a 100."""
    # No `100 Continue` invites a body the head already condemns; the connection is marked done,
    # since the sender may now send the body or not.
    request = head(path, headers + "Expect: 100-continue\r\n")
    with capture_logs() as logs:
        answer = await exchange(gateway.port, request)
    assert answer.status == status, (answer.status, answer.body)
    assert answer.json()["error"]
    assert answer.headers.get("connection", "").lower() == "close"
    [line] = [e for e in logs if e["event"] == "ingest.refused"]
    assert line["status"] == status
    assert received(queues) == []


async def test_expect_100_continue_is_answered_once_the_head_passes(
    gateway: IngestService, queues: Queues
) -> None:
    """A request whose head passes every check gets 100 Continue, sends its body, and gets 202."""
    reader, writer = await asyncio.open_connection("127.0.0.1", gateway.port)
    try:
        writer.write(
            head(
                "/v1/alerts/generic",
                BEARER + f"Content-Length: {len(GENERIC)}\r\nExpect: 100-continue\r\n",
            )
        )
        await writer.drain()
        interim = await read_answer(reader)
        writer.write(GENERIC)
        await writer.drain()
        final = await read_answer(reader)
    finally:
        writer.close()
    assert (interim.status, final.status) == (100, 202)
    assert [m["Body"].encode() for m in received(queues)] == [GENERIC]


async def test_an_unknown_expectation_is_417_with_a_reason_and_a_log_line(
    gateway: IngestService, queues: Queues
) -> None:
    """An Expect other than 100-continue is a JSON 417 with one ingest.refused line."""
    # aiohttp's own answer was plain text and unlogged.
    request = head(
        "/v1/alerts/generic", BEARER + "Content-Length: 489\r\nExpect: something-else\r\n"
    )
    with capture_logs() as logs:
        answer = await exchange(gateway.port, request + GENERIC)
    assert answer.status == 417
    assert "100-continue" in answer.json()["error"]
    assert [(e["status"], e["reason"]) for e in logs if e["event"] == "ingest.refused"] == [
        (417, "expectation_failed")
    ]
    assert received(queues) == []


# --- Requests aiohttp cannot parse ----------------------------------------------------------


@pytest.mark.parametrize(
    "request_bytes",
    [
        # A token with a stray control character (read from a file with a trailing \r, …).
        head("/v1/alerts/generic", BEARER.replace("\r\n", "\x01\r\n") + "Content-Length: 2\r\n")
        + b"{}",
        head("/v1/alerts/generic", BEARER + "Transfer-Encoding: chunked\r\n")
        + f"z{TOKENS['generic']}\r\n".encode(),
        head(f"/v1/alerts/generic?token={TOKENS['generic']}\x7f", "Content-Length: 0\r\n"),
    ],
    ids=["control-in-token", "bad-chunk-size", "control-in-query"],
)
async def test_an_unparsable_request_is_answered_without_quoting_it(
    gateway: IngestService, queues: Queues, request_bytes: bytes
) -> None:
    """An unparsable request's 400 names what was wrong in JSON and never quotes its bytes."""
    # aiohttp's own 400 quoted the bytes (a header with its token, the body) in plain text, which
    # senders such as Alertmanager write to their logs.
    with capture_logs() as logs:
        answer = await exchange(gateway.port, request_bytes)
        await wait_logged(logs, "ingest.bad_http")
    assert answer.status == 400
    assert answer.headers["content-type"].startswith("application/json")
    error = answer.json()["error"]
    assert error.startswith("bad request: ") and len(error) < 160
    assert TOKENS["generic"].encode() not in answer.body
    assert b"Nightly" not in answer.body and b"\\x" not in answer.body
    assert TOKENS["generic"] not in json.dumps(logs)
    assert received(queues) == []


@pytest.mark.parametrize(
    ("extra", "says"),
    [
        (
            "Content-Length: 2\r\nTransfer-Encoding: chunked\r\n",
            "Transfer-Encoding can't be present with Content-Length",
        ),
        ("Content-Length: 2\r\nContent-Length: 3\r\n", "Duplicate Content-Length"),
        (
            "Content-Length: 2\r\nContent-Type: a/b\r\nContent-Type: c/d\r\n",
            "Duplicate Content-Type header found.",
        ),
    ],
    ids=["length-and-chunked", "two-lengths", "two-types"],
)
async def test_a_request_smuggling_head_is_400_saying_what_is_wrong_in_full(
    gateway: IngestService, queues: Queues, extra: str, says: str
) -> None:
    """A head that frames its body two ways, or sends a one-value header twice, is 400 with
    aiohttp's reason whole (an apostrophe, or a header name it quotes, does not cut it short)."""
    with capture_logs() as logs:
        answer = await exchange(gateway.port, head("/v1/alerts/generic", BEARER + extra) + b"{}")
        (line,) = await wait_logged(logs, "ingest.bad_http")
    assert answer.status == 400
    assert answer.json()["error"] == f"bad request: {says}"
    assert line["reason"] == says
    assert received(queues) == []


def padded_head(total_bytes: int) -> bytes:
    """A generic POST head of about `total_bytes` (4,000-byte headers, each far under aiohttp's
    own 8,190-byte limit and fewer than its 128), without the blank line that ends it."""
    start = f"POST /v1/alerts/generic HTTP/1.1\r\nHost: x\r\n{BEARER}".encode()
    pads = b"".join(b"X-Pad-%d: %s\r\n" % (i, b"a" * 4000) for i in range(total_bytes // 4000 + 1))
    return (start + pads)[:total_bytes]


async def test_a_request_head_over_64_kib_is_431_before_it_ends(
    gateway: IngestService, queues: Queues
) -> None:
    """An unfinished head of many long headers is answered 431 and closed once it passes
    64 KiB, instead of held (about 2 MB per connection) until the idle timeout; one line."""
    reader, writer = await asyncio.open_connection("127.0.0.1", gateway.port)
    try:
        with capture_logs() as logs:
            # The last piece crosses the limit: the gateway has read everything sent when it
            # closes, so its answer is not lost to a reset.
            whole = padded_head(66_000)
            writer.write(whole[:65_400])
            await writer.drain()
            writer.write(whole[65_400:])
            await writer.drain()
            answer = await read_answer(reader)
            (line,) = await wait_logged(logs, "ingest.bad_http")
        assert answer.status == 431
        assert answer.json() == {"error": "bad request: request head over 65536 bytes"}
        assert (line["status"], line["reason"]) == (431, "request head over 65536 bytes")
        assert await asyncio.wait_for(reader.read(), 10) == b""  # closed
    finally:
        writer.close()
    assert received(queues) == []


async def test_a_request_head_over_64_kib_that_comes_whole_is_431_too(
    gateway: IngestService, queues: Queues
) -> None:
    """A 100 KB head written at once (so it arrives whole, never unfinished) is held to the
    same 64 KiB limit: 431 with the same reason, one line, nothing queued."""
    body = b'{"title": "t"}'
    length = f"\r\nContent-Length: {len(body)}\r\n\r\n".encode()
    with capture_logs() as logs:
        answer = await exchange(gateway.port, padded_head(100_000) + length + body)
    assert answer.status == 431, answer.body
    assert answer.json()["error"] == "bad request: request head over 65536 bytes"
    assert len([e for e in logs if e["event"] in ("ingest.refused", "ingest.bad_http")]) == 1
    assert received(queues) == []


async def test_unfinished_heads_together_are_bounded_and_freed_when_they_go(
    gateway: IngestService, queues: Queues, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Unfinished heads, each under its own limit, are bounded together: the connection that
    takes them past the budget is 503 with Retry-After and closed (one line); once the others
    go, a webhook passes."""
    monkeypatch.setattr(connections, "MAX_HEADS_BYTES", 100_000)
    runner = gateway._runner
    assert runner is not None
    holders = []
    for _ in range(2):
        _, writer = await asyncio.open_connection("127.0.0.1", gateway.port)
        writer.write(padded_head(49_000))
        await writer.drain()
        holders.append(writer)
    loop = asyncio.get_running_loop()
    deadline = loop.time() + 10
    while (heads := runner.connections) is None or heads.head_bytes < 98_000:
        assert loop.time() < deadline, "the gateway never read the two heads"
        await asyncio.sleep(0.01)
    reader, writer = await asyncio.open_connection("127.0.0.1", gateway.port)
    try:
        with capture_logs() as logs:
            # A small last piece crosses the budget: read whole, its answer is not reset.
            writer.write(padded_head(5_000))
            await writer.drain()
            answer = await read_answer(reader)
            (line,) = await wait_logged(logs, "ingest.bad_http")
    finally:
        writer.close()
    assert answer.status == 503
    assert answer.headers["retry-after"] == "1"
    assert answer.json() == {"error": "too many request heads arriving at once"}
    assert line["status"] == 503
    for holder in holders:
        holder.close()
    while heads.head_bytes > 0:
        assert loop.time() < deadline, "the closed connections' heads were never let go"
        await asyncio.sleep(0.01)
    body = b'{"title": "after"}'
    request = head("/v1/alerts/generic", BEARER + f"Content-Length: {len(body)}\r\n") + body
    assert (await exchange(gateway.port, request)).status == 202


async def test_a_request_head_under_64_kib_passes(gateway: IngestService, queues: Queues) -> None:
    """A head of 60 KB (long, but under the limit) is read and the webhook accepted."""
    body = b'{"title": "t"}'
    length = f"\r\nContent-Length: {len(body)}\r\n\r\n".encode()
    answer = await exchange(gateway.port, padded_head(60_000) + length + body)
    assert answer.status == 202, answer.body


@pytest.mark.parametrize("chunked", [False, True], ids=["length", "chunked"])
async def test_a_large_body_right_behind_its_head_is_not_taken_for_a_head(
    gateway: IngestService, queues: Queues, chunked: bool
) -> None:
    """A 900 KB body sent in the same write as its head (and a second request pipelined behind
    it) is read as a body, not counted against the head limit: both are accepted."""
    body = json.dumps({"title": "big", "description": "x" * 900_000}).encode()
    if chunked:
        framing = "Transfer-Encoding: chunked\r\n"
        sent = b"".join(
            b"%x\r\n%s\r\n" % (len(body[i : i + 5000]), body[i : i + 5000])
            for i in range(0, len(body), 5000)
        )
        sent += b"0\r\n\r\n"
    else:
        framing, sent = f"Content-Length: {len(body)}\r\n", body
    small = b'{"title": "small"}'
    second = head("/v1/alerts/generic", BEARER + f"Content-Length: {len(small)}\r\n") + small
    reader, writer = await asyncio.open_connection("127.0.0.1", gateway.port)
    try:
        writer.write(head("/v1/alerts/generic", BEARER + framing) + sent + second)
        await writer.drain()
        statuses = [(await read_answer(reader)).status for _ in range(2)]
    finally:
        writer.close()
    assert statuses == [202, 202]


async def test_bytes_after_an_upgrade_request_are_not_taken_for_a_head(
    gateway: IngestService, queues: Queues
) -> None:
    """A webhook that asks to upgrade the connection and sends 300 KB after its body is
    answered for itself (202, queued), not 431: aiohttp holds those bytes aside, bounded."""
    body = b'{"title": "upgrade"}'
    upgrade = (
        "Connection: Upgrade\r\nUpgrade: websocket\r\nSec-WebSocket-Version: 13\r\n"
        "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
    )
    request = head("/v1/alerts/generic", BEARER + upgrade + f"Content-Length: {len(body)}\r\n")
    reader, writer = await asyncio.open_connection("127.0.0.1", gateway.port)
    try:
        writer.write(request + body + b"x" * 300_000)
        await writer.drain()
        answer = await read_answer(reader)
    finally:
        writer.close()
    assert answer.status == 202, answer.body
    assert len(received(queues)) == 1


# --- Chunked bodies that are mostly framing -----------------------------------------------


def chunked(body: bytes, size: int) -> bytes:
    """`body` as chunks of `size` bytes, and the last chunk."""
    pieces = (body[i : i + size] for i in range(0, len(body), size))
    return b"".join(b"%x\r\n%s\r\n" % (len(p), p) for p in pieces) + b"0\r\n\r\n"


TINY_CHUNKS = b"1\r\nx\r\n" * 10_000  # 60 KB on the wire for 10 KB of body
SIGNATURE = f"Sentry-Hook-Signature: {'0' * 64}\r\n"  # shaped right: its body is read


async def test_a_body_of_one_byte_chunks_is_400_without_parsing_it_all(
    gateway: IngestService, queues: Queues
) -> None:
    """A megabyte sent as 1-byte chunks (6 MB on the wire, each chunk costing the parser as
    much as a large one) is refused 400 once its framing outweighs it, before its (wrong)
    signature is ever checked, and the connection closed; one line says why; nothing is
    queued. (The sender, still sending, may see the close as a reset before the answer.)"""
    request = head("/v1/alerts/sentry", SIGNATURE + "Transfer-Encoding: chunked\r\n")
    reader, writer = await asyncio.open_connection("127.0.0.1", gateway.port)
    with capture_logs() as logs:
        writer.write(request + b"1\r\nx\r\n" * 1024 * 1024)  # sent in the background
        try:
            answer = await read_answer(reader)
            assert answer.status == 400, answer.body
            assert answer.json()["error"] == "bad request: chunks too small for their framing"
        except (ConnectionResetError, asyncio.IncompleteReadError):
            pass
        await wait_logged(logs, "ingest.refused")
        writer.transport.abort()
    (line,) = [e for e in logs if e["event"] in ("ingest.refused", "ingest.bad_http")]
    assert (line["reason"], line["status"]) == ("chunks_too_small", 400)
    assert received(queues) == []


async def test_a_chunk_extension_of_megabytes_is_refused_like_tiny_chunks(
    gateway: IngestService, queues: Queues
) -> None:
    """Chunks whose size lines carry 2 MB of extensions (framing, not body; 4 KB each, within
    the bound on one line's) are refused 400 once the framing outweighs the body, not read on
    to the body timeout."""
    request = head("/v1/alerts/generic", BEARER + "Transfer-Encoding: chunked\r\n")
    body = (b"1;" + b"x" * 4000 + b"\r\n{\r\n") * 500 + b"0\r\n\r\n"
    _, writer = await asyncio.open_connection("127.0.0.1", gateway.port)
    with capture_logs() as logs:
        writer.write(request + body)
        await wait_logged(logs, "ingest.refused")
        writer.transport.abort()
    (line,) = [e for e in logs if e["event"] == "ingest.refused"]
    assert (line["status"], line["reason"]) == (400, "chunks_too_small")
    assert received(queues) == []


async def test_one_byte_chunks_after_an_early_answer_end_the_connection_with_one_line(
    gateway: IngestService,
) -> None:
    """A sender answered 401 from its head that goes on sending 1-byte chunks is cut off once
    their framing outweighs them, instead of being read for aiohttp's 10 s of lingering; one
    ingest.bad_http line says why."""
    request = head("/v1/alerts/generic", "Transfer-Encoding: chunked\r\n")
    reader, writer = await asyncio.open_connection("127.0.0.1", gateway.port)
    with capture_logs() as logs:
        writer.write(request)
        assert (await read_answer(reader)).status == 401
        loop = asyncio.get_running_loop()
        deadline = loop.time() + 10
        while not any(e["event"] == "ingest.bad_http" for e in logs):
            assert loop.time() < deadline, "the chunks were read on"
            writer.write(TINY_CHUNKS)
            await asyncio.sleep(0.001)
        writer.transport.abort()
    (line,) = [e for e in logs if e["event"] == "ingest.bad_http"]
    assert line["reason"] == "chunks too small for their framing"


async def test_a_large_body_in_small_honest_chunks_is_accepted(
    gateway: IngestService, queues: Queues
) -> None:
    """A 300 KB webhook sent as 8-byte chunks (13 bytes on the wire for 8) is accepted."""
    body = json.dumps({"title": "small chunks", "description": "x" * 300_000}).encode()
    request = head("/v1/alerts/generic", BEARER + "Transfer-Encoding: chunked\r\n")
    answer = await exchange(gateway.port, request + chunked(body, 8))
    assert answer.status == 202, answer.body
    assert len(received(queues)) == 1


@pytest.mark.parametrize(
    "codings", ["gzip, chunked", "deflate, chunked", "x-custom, chunked", "identity, chunked"]
)
async def test_a_transfer_coding_besides_chunked_is_501_not_judged_as_the_body(
    gateway: IngestService, queues: Queues, codings: str
) -> None:
    """A body sent with a transfer coding the gateway does not undo (aiohttp reads only the
    chunked framing) is 501 naming what to send instead, not a 422 about bytes the sender
    never meant as JSON; one line; nothing queued."""
    body = gzip.compress(b'{"title": "compressed in transfer"}')
    request = head("/v1/alerts/generic", BEARER + f"Transfer-Encoding: {codings}\r\n")
    with capture_logs() as logs:
        answer = await exchange(gateway.port, request + chunked(body, 1000))
    assert answer.status == 501, answer.body
    assert answer.json()["error"].startswith("the only Transfer-Encoding read is chunked")
    (line,) = [e for e in logs if e["event"] == "ingest.refused"]
    assert line["reason"] == "unsupported_transfer_encoding"
    assert received(queues) == []


# --- Other shapes of request -------------------------------------------------------------


async def test_tls_bytes_on_the_plain_port_are_400_saying_so(gateway: IngestService) -> None:
    """A TLS ClientHello sent to the plain-HTTP port (a sender with an https:// URL and no TLS
    in front) is answered 400 naming the mistake and closed, with one line."""
    hello = bytes.fromhex("16030100a5010000a10303") + bytes(32) + b"\x00\x00\x02\x13\x01\x01\x00"
    with capture_logs() as logs:
        answer = await exchange(gateway.port, hello)
    assert answer.status == 400
    assert answer.json() == {"error": "bad request: Received HTTPS traffic on an HTTP port"}
    (line,) = [e for e in logs if e["event"] == "ingest.bad_http"]
    assert line["status"] == 400


@pytest.mark.parametrize(
    ("start", "host"),
    [
        ("POST /v1/alerts/generic HTTP/1.0", ""),
        ("POST http://triage-ingest.example.com/v1/alerts/generic HTTP/1.1", "Host: x\r\n"),
    ],
    ids=["http-1.0", "absolute-form"],
)
async def test_http_1_0_and_absolute_form_requests_are_accepted(
    gateway: IngestService, queues: Queues, start: str, host: str
) -> None:
    """An HTTP/1.0 webhook without keep-alive (answered, then closed) and one whose target is
    in absolute form (as a proxy would send it; RFC 9112 has servers take it) are queued."""
    request = f"{start}\r\n{host}{BEARER}Content-Length: {len(GENERIC)}\r\n\r\n".encode()
    answer = await exchange(gateway.port, request + GENERIC)
    assert answer.status == 202, answer.body
    assert len(received(queues)) == 1


# --- Paths and methods ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("method", "path", "status", "reason"),
    [
        ("POST", "/nope", 404, "unknown_path"),
        ("POST", "/v1/alerts/generic/", 404, "unknown_path"),
        ("POST", "/v1/alerts/%2e%2e/alerts/generic", 404, "unknown_path"),
        ("POST", "//v1/alerts/generic", 404, "unknown_path"),
        ("PATCH", "/v1/alerts/generic", 405, "method_not_allowed"),
        ("PUT", "/v1/alerts/generic", 405, "method_not_allowed"),
        ("OPTIONS", "/v1/alerts/generic", 405, "method_not_allowed"),
        ("TRACE", "/v1/alerts/generic", 405, "method_not_allowed"),
        ("DELETE", "/healthz", 405, "method_not_allowed"),
        # A source that does not exist is no path: no method is allowed there to name.
        ("POST", "/v1/alerts/pagerduty", 404, "unknown_path"),
        ("GET", "/v1/alerts/pagerduty", 404, "unknown_path"),
        ("PUT", "/v1/alerts/pagerduty", 404, "unknown_path"),
        ("PUT", "/v1/alerts/sentry-x", 404, "unknown_path"),
    ],
)
async def test_unknown_paths_and_methods_are_answered_like_every_refusal(
    gateway: IngestService, queues: Queues, method: str, path: str, status: int, reason: str
) -> None:
    """Other paths and methods get a JSON 404/405 and one log line, query secrets in neither."""
    # aiohttp's own answer was unlogged plain text, without a request id; 405 names the methods.
    secret = "s3cr3t-in-the-query-0123"
    request = head(f"{path}?token={secret}", BEARER + "Content-Length: 2\r\n", method) + b"{}"
    with capture_logs() as logs:
        answer = await exchange(gateway.port, request)
    assert answer.status == status
    body = answer.json()
    assert body["error"] == ("not found" if status == 404 else "method not allowed")
    assert answer.headers["x-request-id"] == body["request_id"]
    if status == 405:
        assert answer.headers["allow"]
    [line] = [e for e in logs if e["event"].startswith("ingest.")]
    assert (line["event"], line["status"], line["reason"]) == ("ingest.refused", status, reason)
    assert line["source"] == "unknown"
    assert secret not in json.dumps(logs) and TOKENS["generic"] not in json.dumps(logs)
    assert gateway.metrics.counters()[
        ("IngestRequests", (("source", "unknown"), ("status", str(status))))
    ]
    assert received(queues) == []


# --- Duplicated credentials -----------------------------------------------------------------


def _signed(body: bytes) -> str:
    return sentry_headers(body)["Sentry-Hook-Signature"]


@pytest.mark.parametrize(
    ("path", "headers", "body", "name"),
    [
        (
            "/v1/alerts/generic",
            BEARER + "Authorization: Bearer not-the-token-0123456789\r\n",
            GENERIC,
            "Authorization",
        ),
        (
            "/v1/alerts/generic",
            "Authorization: Bearer not-the-token-0123456789\r\n" + BEARER,
            GENERIC,
            "Authorization",
        ),
        (
            "/v1/alerts/generic",
            f"X-Grafana-Token: {TOKENS['generic']}\r\nX-Grafana-Token: x\r\n",
            GENERIC,
            "X-Grafana-Token",
        ),
        (
            "/v1/alerts/sentry",
            f"Sentry-Hook-Signature: {_signed(SENTRY)}\r\nSentry-Hook-Signature: {'0' * 64}\r\n",
            SENTRY,
            "Sentry-Hook-Signature",
        ),
        (
            "/v1/alerts/sentry",
            f"Sentry-Hook-Signature: {_signed(SENTRY)}\r\n"
            "Sentry-Hook-Resource: issue\r\nSentry-Hook-Resource: metric_alert\r\n",
            SENTRY,
            "Sentry-Hook-Resource",
        ),
    ],
    ids=["good-then-bad", "bad-then-good", "x-grafana-token", "signature", "resource"],
)
async def test_a_credential_header_sent_twice_is_400_whichever_comes_first(
    gateway: IngestService, queues: Queues, path: str, headers: str, body: bytes, name: str
) -> None:
    """A credential header sent twice is 400 naming it, whichever value is right, logged nowhere."""
    # Two values of a one-value header are ambiguous (a proxy in front may have checked the other
    # one); the gateway used the first silently.
    request = head(path, headers + f"Content-Length: {len(body)}\r\n") + body
    with capture_logs() as logs:
        answer = await exchange(gateway.port, request)
    assert answer.status == 400, answer.body
    assert answer.json()["error"] == f"more than one {name} header"
    [line] = [e for e in logs if e["event"].startswith("ingest.")]
    assert (line["status"], line["reason"]) == (400, "duplicate_header")
    assert TOKENS["generic"] not in json.dumps(logs) and _signed(SENTRY) not in json.dumps(logs)
    assert received(queues) == []


async def test_a_credential_in_two_different_headers_still_passes(
    gateway: IngestService, queues: Queues
) -> None:
    """Bearer and X-Grafana-Token are two forms, not one header twice: either may carry it."""
    headers = f"X-Grafana-Token: {TOKENS['generic']}\r\n" + BEARER
    request = head("/v1/alerts/generic", headers + f"Content-Length: {len(GENERIC)}\r\n")
    answer = await exchange(gateway.port, request + GENERIC)
    assert answer.status == 202


# --- Charsets ---------------------------------------------------------------------------------


def _typed(charset: str) -> str:
    return BEARER + f"Content-Type: application/json; charset={charset}\r\n"


@pytest.mark.parametrize(
    ("charset", "body", "title"),
    [
        ("iso-8859-1", '{"title": "café down"}'.encode("latin-1"), "café down"),
        ("ISO-8859-1", '{"title": "é sent as UTF-8"}'.encode(), "é sent as UTF-8"),
        ("windows-1252", '{"title": "€ budget"}'.encode("cp1252"), "€ budget"),
        ("utf-16", '{"title": "ünïcode"}'.encode("utf-16"), "ünïcode"),
        ("UTF-8", '{"title": "ünïcode"}'.encode(), "ünïcode"),
        ('"utf-8"', '{"title": "ünïcode"}'.encode(), "ünïcode"),
    ],
    ids=["latin-1", "utf-8-labelled-latin-1", "windows-1252", "utf-16", "utf-8", "quoted"],
)
async def test_a_declared_charset_is_how_the_body_is_read(
    gateway: IngestService, queues: Queues, charset: str, body: bytes, title: str
) -> None:
    """A body is read in the charset its Content-Type declares and queued as the same text."""
    # latin-1 bytes that happen to be valid UTF-8 were queued as other letters, and any other
    # non-ASCII was refused as "not UTF-8".
    request = head("/v1/alerts/generic", _typed(charset) + f"Content-Length: {len(body)}\r\n")
    answer = await exchange(gateway.port, request + body)
    assert answer.status == 202, answer.body
    [message] = received(queues)
    assert json.loads(message["Body"])["title"] == title


@pytest.mark.parametrize(
    "charset",
    ["koi8-r", "rot13", "base64", "utf-7", "x" * 300, "utf-8; charset=latin1"],
    ids=["koi8-r", "rot13", "base64", "utf-7", "long", "two"],
)
async def test_a_charset_the_gateway_does_not_read_is_415_before_the_body(
    gateway: IngestService, queues: Queues, charset: str
) -> None:
    """A charset the gateway does not read is 415 from the head, never looked up as a codec."""
    request = head(
        "/v1/alerts/generic", _typed(charset) + "Content-Length: 100000\r\nExpect: 100-continue\r\n"
    )
    answer = await exchange(gateway.port, request)
    assert answer.status == 415
    error = answer.json()["error"]
    assert "UTF-8" in error and len(error) < 200
    assert received(queues) == []


async def test_a_body_that_grows_as_utf_8_is_measured_as_queued(
    gateway: IngestService, queues: Queues
) -> None:
    """A latin-1 body is measured against the queue's limit as the UTF-8 it is queued as."""
    queues.client().set_queue_attributes(
        QueueUrl=queues.url, Attributes={"MaximumMessageSize": "1024"}
    )
    assert gateway.gateway is not None
    await gateway.gateway.probe.refresh()
    body = json.dumps({"title": "é" * 700}, ensure_ascii=False).encode("latin-1")
    assert len(body) < 1024 - 200
    request = head("/v1/alerts/generic", _typed("latin1") + f"Content-Length: {len(body)}\r\n")
    answer = await exchange(gateway.port, request + body)
    assert answer.status == 413
    assert "1,024" in answer.json()["error"]
    assert received(queues) == []


@pytest.mark.parametrize(
    ("declared", "body"),
    [
        ("", '{"title": "\u00fcx"}'.encode("utf-16")),
        (
            "Content-Type: application/json; charset=utf-8\r\n",
            '{"title": "\u00fcx"}'.encode("utf-16"),
        ),
        ("", '{"title": "\u00fcx"}'.encode("utf-16-le")),
        ("", '{"title": "\u00fcx"}'.encode("utf-16-be")),
        ("", '\n{"title": "\u00fcx"}'.encode("utf-16-le")),
    ],
    ids=["bom", "bom-declared-utf-8", "le", "be", "le-newline"],
)
async def test_a_utf_16_body_is_read_by_its_own_bytes(
    gateway: IngestService, queues: Queues, declared: str, body: bytes
) -> None:
    """A UTF-16 body that declares no charset, or UTF-8, is read in the UTF-16 its bytes show
    (a byte-order mark, or zero bytes beside its first characters: neither begins UTF-8 JSON)
    and queued as UTF-8."""
    # PowerShell's Out-File writes these; the gateway answered 422 to a body it could read.
    request = head("/v1/alerts/generic", BEARER + declared + f"Content-Length: {len(body)}\r\n")
    answer = await exchange(gateway.port, request + body)
    assert answer.status == 202, answer.body
    [message] = received(queues)
    assert json.loads(message["Body"]) == {"title": "\u00fcx"}


# --- What SQS cannot carry -------------------------------------------------------------------


async def test_characters_sqs_refuses_are_queued_escaped_not_refused(
    gateway: IngestService, queues: Queues
) -> None:
    """U+FFFE and U+FFFF are queued as their JSON escapes, the same value, not refused 422."""
    # Outside SQS's character set, they can only stand inside a JSON string, where the escape is
    # exact; the alert was refused, and so lost.
    sent = {"title": "disk \ufffe full \uffff", "dedup_key": "d\uffff"}
    body = json.dumps(sent, ensure_ascii=False).encode()
    assert "\uffff".encode() in body
    request = head("/v1/alerts/generic", BEARER + f"Content-Length: {len(body)}\r\n")
    answer = await exchange(gateway.port, request + body)
    assert answer.status == 202, answer.body
    [message] = received(queues)
    assert "\ufffe" not in message["Body"] and "\uffff" not in message["Body"]
    assert json.loads(message["Body"]) == sent


async def test_a_signed_sentry_body_with_such_characters_is_queued_escaped(
    gateway: IngestService, queues: Queues
) -> None:
    """A signed Sentry body is checked as sent and queued with such characters escaped."""
    sent = json.loads(SENTRY)
    sent["data"]["issue"]["title"] = "ValueError: bad byte \uffff"
    body = json.dumps(sent, ensure_ascii=False).encode()
    headers = "".join(f"{k}: {v}\r\n" for k, v in sentry_headers(body).items())
    request = head("/v1/alerts/sentry", headers + f"Content-Length: {len(body)}\r\n")
    answer = await exchange(gateway.port, request + body)
    assert answer.status == 202, answer.body
    [message] = received(queues)
    assert json.loads(message["Body"]) == sent


@pytest.mark.parametrize("charset", ["utf-8", "utf-16", "latin-1"])
def test_no_checked_body_holds_a_character_outside_sqss_set(charset: str) -> None:
    """No checked body, in any charset read, holds a character outside SQS's set."""
    # A raw control character makes the body invalid JSON (422); anything else is escaped.
    from triage.ingest.validate import CHARSETS, Invalid, check

    allowed = re.compile("[\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]*")
    samples = [chr(c) for c in (*range(0x20), 0x7F, 0x85, 0xD7FF, 0xE000, 0xFFFD, 0xFFFE, 0xFFFF)]
    for char in samples:
        try:
            body = f'{{"title": "a{char}b"}}'.encode(charset)  # raw, as json.dumps never writes
        except UnicodeEncodeError:
            continue  # latin-1 has no such character
        try:
            checked = check("generic", body, None, str, CHARSETS[charset])
        except Invalid:
            assert char < " ", repr(char)  # JSON holds no raw control character in a string
            continue
        assert allowed.fullmatch(checked.text), repr(char)
        # A Latin-1 label reads as windows-1252 (WHATWG): byte 0x85 is `…`, not NEL.
        expected = f"a{char}b".encode(charset).decode(CHARSETS[charset])
        assert json.loads(checked.text)["title"] == expected
        assert checked.size_bytes == len(checked.text.encode())


# --- Credentials, as a hostile client writes them ---------------------------------------------


def _basic(value: bytes) -> str:
    return "Basic " + base64.b64encode(value).decode()


TOKEN = TOKENS["generic"]


@pytest.mark.parametrize(
    ("authorization", "status"),
    [
        (f"bearer {TOKEN}", 202),
        (f"BEARER {TOKEN}", 202),
        (f"Bearer    {TOKEN}   ", 202),  # spaces around the token are HTTP's, not the token's
        (_basic(f"any-user:{TOKEN}".encode()), 202),
        (f"Bearer {_basic(f'u:{TOKEN}'.encode())[6:]}", 401),  # Basic's payload as a Bearer
        (f"Basic {TOKEN}", 401),  # the bare token as Basic
        (_basic(TOKEN.encode()), 401),  # Basic without a user:password colon
        (_basic(f"u:{TOKEN}\n".encode()), 401),
        (_basic(f"u:{TOKEN}\x00".encode()), 401),
        (_basic(f"u:{TOKEN} ".encode()), 401),
        (f"Bearer {TOKEN[:-1]}", 401),
        (f"Bearer {TOKEN}x", 401),
        ("Bearer " + "a" * 5000, 401),
        ("Bearer", 401),
        ("", 401),
    ],
)
async def test_each_written_form_of_a_credential_is_judged_as_it_should_be(
    gateway: IngestService, queues: Queues, authorization: str, status: int
) -> None:
    """Each hostile way of writing a credential is judged as it should be and logged nowhere."""
    # The scheme is case-insensitive and HTTP's spaces are not the token's; anything else that
    # is not the token exactly is 401.
    request = head(
        f"/v1/alerts/generic?token={TOKEN}",
        f"Authorization: {authorization}\r\nContent-Length: {len(GENERIC)}\r\n",
    )
    with capture_logs() as logs:
        answer = await exchange(gateway.port, request + GENERIC)
    assert answer.status == status, answer.body
    assert TOKEN not in json.dumps(logs)
    assert len(received(queues)) == (1 if status == 202 else 0)


# --- Memory held while SQS is slow ------------------------------------------------------------


@pytest.fixture
def proxy(moto_url: str) -> Any:
    with SqsProxy(moto_url) as running_proxy:
        yield running_proxy


async def test_bodies_waiting_for_sqs_count_against_the_budget(
    queues: Queues, proxy: SqsProxy
) -> None:
    """Bodies waiting for a slow SQS count against the budget: past it a new one is 503."""
    # The budget counted only bodies being read, so while SQS was slow, read bodies piled up
    # waiting for it without bound (a sender with a token, 1 MiB each, at its whole rate).
    settings = ingest_settings(queues.url, proxy.url)
    big = json.dumps({"title": "held", "description": "x" * 50_000}).encode()
    more = json.dumps({"title": "more", "description": "y" * 20_000}).encode()
    async with running(settings) as service, loopback_client(service.port) as client:
        assert service.gateway is not None
        limits = service.gateway.limits
        service.gateway.limits = dataclasses.replace(limits, reading_budget_bytes=60_000)
        proxy.released.clear()
        held = asyncio.create_task(
            client.post("/v1/alerts/generic", content=big, headers=bearer("generic"))
        )
        loop = asyncio.get_running_loop()
        deadline = loop.time() + 10
        while proxy.sends_waiting < 1:
            assert loop.time() < deadline, "the first send never reached SQS"
            await asyncio.sleep(0.01)
        second = asyncio.create_task(
            client.post("/v1/alerts/generic", content=more, headers=bearer("generic"))
        )
        while not second.done() and proxy.sends_waiting < 2:
            assert loop.time() < deadline, "the second request was neither answered nor sent"
            await asyncio.sleep(0.01)
        proxy.released.set()
        refused, accepted = await second, await held
        again = await client.post("/v1/alerts/generic", content=more, headers=bearer("generic"))
    assert (accepted.status_code, refused.status_code, again.status_code) == (202, 503, 202)
    assert refused.json()["error"] == "too many bodies arriving at once"
    assert refused.headers["retry-after"] == "1"
    assert service.gateway.bodies.reading_bytes == 0


# --- What the answers say about the server ------------------------------------------------


@pytest.mark.parametrize(
    "request_bytes",
    [
        head("/v1/alerts/generic", BEARER + f"Content-Length: {len(GENERIC)}\r\n") + GENERIC,
        head("/v1/alerts/generic", "Content-Length: 2\r\n") + b"{}",
        head("/nope", "Content-Length: 0\r\n"),
        head("/healthz", "", "GET"),
        head("/v1/alerts/generic", "X-Bad: \x01\r\n"),
    ],
    ids=["202", "401", "404", "healthz", "unparsable"],
)
async def test_no_answer_names_the_servers_software_or_version(
    gateway: IngestService, request_bytes: bytes
) -> None:
    """Every answer's Server header says triage-ingest, not aiohttp's and Python's versions."""
    answer = await exchange(gateway.port, request_bytes)
    assert answer.headers["server"] == "triage-ingest"


# --- Sizes at the edge --------------------------------------------------------------------


def _sized(size: int) -> bytes:
    """A generic body of exactly `size` bytes."""
    start, end = b'{"title": "t", "description": "', b'"}'
    return start + b"x" * (size - len(start) - len(end)) + end


async def test_a_body_exactly_at_the_queues_limit_passes_and_one_byte_more_is_413(
    gateway: IngestService, queues: Queues
) -> None:
    """A message of exactly the queue's limit is queued; one byte more is 413, never a 202."""
    # SQS counts the body and each attribute's name, type and value, as the gateway does.
    queues.client().set_queue_attributes(
        QueueUrl=queues.url, Attributes={"MaximumMessageSize": "262144"}
    )
    assert gateway.gateway is not None
    await gateway.gateway.probe.refresh()
    # source, received_at (27 characters: to the microsecond) and request_id (32), each with
    # "String".
    attributes = len("source") + 6 + len("generic") + len("received_at") + 6 + 27
    attributes += len("request_id") + 6 + 32
    # … and the gateway's own stamp (triage.sqs.identity).
    attributes += len(GATEWAY_ID_ATTRIBUTE) + 6 + len(new_gateway_id())
    answers = []
    for size in (262_144 - attributes, 262_144 - attributes + 1, 1_048_577):
        body = _sized(size) if size < 1_048_576 else b""  # refused from its head alone
        request = head("/v1/alerts/generic", BEARER + f"Content-Length: {size}\r\n")
        answers.append(await exchange(gateway.port, request + body))
    assert [a.status for a in answers] == [202, 413, 413]
    assert "262,144" in answers[1].json()["error"]
    assert "1,048,576" in answers[2].json()["error"]
    [message] = received(queues)
    assert len(message["Body"]) == 262_144 - attributes


# --- Behind a proxy -----------------------------------------------------------------------------


async def _stall_sentry(port: int, forwarded_for: str) -> Any:
    """A signed-looking Sentry request, relayed for `forwarded_for`, that sends 80,000 of its
    200,000 bytes and stalls; its writer, to close."""
    _, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(
        head(
            "/v1/alerts/sentry",
            f"X-Forwarded-For: {forwarded_for}\r\nContent-Length: 200000\r\n"
            f"Sentry-Hook-Signature: {'0' * 64}\r\n",
        )
        + b" " * 80_000
    )
    await writer.drain()
    return writer


@pytest.fixture
async def proxied(queues: Queues) -> AsyncIterator[IngestService]:
    """The gateway behind one trusted proxy (TRIAGE_INGEST_TRUSTED_PROXY_HOPS=1, as behind the
    Terraform module's ALB)."""
    settings = ingest_settings(queues.url, queues.endpoint, ingest_trusted_proxy_hops=1)
    async with running(settings) as service:
        yield service


async def test_behind_a_proxy_each_sender_gets_its_own_share_of_the_unauthenticated_budget(
    proxied: IngestService,
) -> None:
    """Behind trusted proxies, a sender's share is keyed on the address they saw, not theirs."""
    # Behind the ALB every connection comes from the ALB's own address: one sender holding its
    # share of the unauthenticated budget made every Sentry webhook through that node a 503.
    # The proxy appends the address it saw; entries before it are the sender's own words.
    gateway = proxied
    assert gateway.gateway is not None
    limits = gateway.gateway.limits
    gateway.gateway.limits = dataclasses.replace(limits, unauthenticated_per_peer_bytes=100_000)
    holder = await _stall_sentry(gateway.port, "203.0.113.1")
    loop = asyncio.get_running_loop()
    deadline = loop.time() + 10
    while gateway.gateway.bodies.unauthenticated_bytes < 80_000:
        assert loop.time() < deadline, gateway.gateway.bodies.unauthenticated_bytes
        await asyncio.sleep(0.01)
    signed = {"Sentry-Hook-Signature": "0" * 64}
    async with loopback_client(gateway.port) as client:
        other = await client.post(
            "/v1/alerts/sentry",
            content=b" " * 60_000,
            headers={**signed, "X-Forwarded-For": "203.0.113.1, 198.51.100.7"},
        )
        same = await client.post(
            "/v1/alerts/sentry",
            content=b" " * 60_000,
            headers={**signed, "X-Forwarded-For": "10.9.9.9, 203.0.113.1"},
        )
    holder.close()
    assert other.status_code == 401  # read whole, its own share: then its signature is wrong
    assert same.status_code == 503
