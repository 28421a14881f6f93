"""`triage ingest` on raw sockets, for framings RFC 9112 settles and a hostile sender bends: what
follows a request that closes its connection is ignored, a good request is answered even with
garbage behind it in the same packet, and each odd framing (a folded header, a bare LF, a
chunk-size line without end, chunk extensions, trailers, an HTTP/1.0 keep-alive, a tab in the
request line, an absolute-form target, …) is a clear 4xx or a correct answer, its body queued
as many times as it holds good requests."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import pytest
from aiohttp.http_parser import HttpRequestParser
from structlog.testing import capture_logs

from daemon_harness import Queues
from ingest_harness import TOKENS, ingest_settings, payload, running
from test_ingest_hostile import read_answer, wait_logged
from triage.ingest import IngestService
from triage.ingest.framing import MAX_CUTS, HeadByHead

GENERIC = payload("generic/firing.json")
BEARER = f"Authorization: Bearer {TOKENS['generic']}\r\n"


@pytest.fixture
async def gateway(queues: Queues) -> AsyncIterator[IngestService]:
    """The gateway on a free port, with the harness's tokens, in front of moto's `alerts` queue."""
    async with running(ingest_settings(queues.url, queues.endpoint)) as service:
        yield service


def post(extra_headers: str = "", *, version: str = "HTTP/1.1") -> bytes:
    """A generic alert's POST with its Content-Length and `extra_headers` (each ending CRLF)."""
    head = f"POST /v1/alerts/generic {version}\r\nHost: x\r\n{BEARER}{extra_headers}"
    head += f"Content-Length: {len(GENERIC)}\r\n\r\n"
    return head.encode() + GENERIC


def chunked(trailer: str = "", extension: str = "", headers: str = BEARER) -> bytes:
    """A generic alert's POST in one chunk, with a chunk `extension` and a `trailer` section."""
    head = f"POST /v1/alerts/generic HTTP/1.1\r\nHost: x\r\n{headers}"
    head += "Transfer-Encoding: chunked\r\n\r\n"
    size = f"{len(GENERIC):x}{extension}\r\n".encode()
    return head.encode() + size + GENERIC + f"\r\n0{extension}\r\n{trailer}\r\n".encode()


async def statuses(port: int, request: bytes, expected: int) -> tuple[list[int], bool]:
    """Send `request` whole; the statuses of up to `expected` answers, and whether the gateway
    closed the connection after them (only waited for after a 400: the parser cannot go on
    past a request it could not read; after any other answer the connection may stay open)."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    try:
        writer.write(request)
        await writer.drain()
        got = []
        for _ in range(expected):
            try:
                got.append((await read_answer(reader)).status)
            except (asyncio.IncompleteReadError, ConnectionResetError):
                return got, True
        if 400 not in got:
            return got, False
        return got, await asyncio.wait_for(reader.read(), 10) == b""
    finally:
        writer.close()


def queued(gateway: IngestService) -> float:
    """Alerts the gateway has queued so far (answered 202)."""
    return gateway.metrics.counter("IngestRequests", source="generic", status="202")


async def test_what_follows_a_request_that_closes_is_ignored(
    gateway: IngestService, queues: Queues
) -> None:
    """A request with `Connection: close` followed in the same packet by more bytes (garbage,
    another alert, a request, blank lines) is answered as if alone (202, queued once) and the
    connection closed; RFC 9112 9.6 has a server process nothing after it: no answer, no line."""
    behind = {
        "garbage": b"garbage\x00\x01 not http at all",
        "another alert": post(),
        "a request": b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n",
        "blank lines": b"\r\n\r\n\r\n",
    }
    with capture_logs() as logs:
        for what, tail in behind.items():
            before = queued(gateway)
            request = post("Connection: close\r\n") + tail
            assert await statuses(gateway.port, request, 2) == ([202], True), what
            assert queued(gateway) == before + 1, what
    assert [e for e in logs if e["event"] == "ingest.bad_http"] == []
    assert queues.depth() == len(behind)


async def test_a_good_request_with_garbage_behind_it_is_answered_then_refused(
    gateway: IngestService, queues: Queues
) -> None:
    """A keep-alive request followed in the same packet by bytes that are no request is
    answered 202 (queued once), then the garbage 400 with one line and the connection closed:
    aiohttp answered the packet 400 and the good alert was lost."""
    with capture_logs() as logs:
        answers = await statuses(gateway.port, post() + b"BREW /pot HTCPCP/1.0\x00\r\n\r\n", 2)
        (line,) = await wait_logged(logs, "ingest.bad_http")
    assert answers == ([202, 400], True)
    assert line["status"] == 400
    assert queues.depth() == 1


async def test_an_http_1_0_post_without_a_length_has_no_body_and_what_follows_is_ignored(
    gateway: IngestService, queues: Queues
) -> None:
    """An HTTP/1.0 POST without Content-Length has an empty body (RFC 9112 6.3: a request is
    never framed by the connection's end) and closes its connection: it is refused as empty
    (422), and the bytes after it, a body holding a token, are neither read, quoted nor
    queued."""
    request = b"POST /v1/alerts/generic HTTP/1.0\r\n" + BEARER.encode() + b"\r\n"
    request += GENERIC.replace(b"backup", TOKENS["generic"].encode())
    reader, writer = await asyncio.open_connection("127.0.0.1", gateway.port)
    with capture_logs() as logs:
        writer.write(request)
        answer = await read_answer(reader)
    writer.close()
    assert answer.status == 422
    assert TOKENS["generic"] not in answer.body.decode() + str(logs)
    assert queues.depth() == 0


#: Framings a sender may bend, each with the answers it gets and how many alerts it queues.
FRAMINGS: dict[str, tuple[bytes, list[int], int]] = {
    "obs-fold": (post("X-Folded: a\r\n b\r\n"), [400], 0),
    "bare LF in the head": (post().replace(b"Host: x\r\n", b"Host: x\n"), [400], 0),
    "bare LF ending the head": (post().replace(b"\r\n\r\n", b"\n\n"), [400], 0),
    "chunk size of 40 digits": (chunked().replace(b"%x\r\n" % len(GENERIC), b"f" * 40 + b"\r\n"), [400], 0),
    "chunk extensions": (chunked(extension=';a=b;c="d"'), [202], 1),
    "credential only in a trailer": (chunked(trailer=BEARER, headers=""), [401], 0),
    "wrong credential in a trailer": (chunked(trailer="Authorization: Bearer nope\r\n"), [202], 1),
    "Content-Length in a trailer": (chunked(trailer="Content-Length: 5\r\n"), [400], 0),
    "two Host headers": (post("Host: y\r\n"), [400], 0),
    "Content-Length with a sign": (post().replace(b"Length: ", b"Length: +"), [400], 0),
    "Content-Length as a list": (post().replace(b"Length: %d" % len(GENERIC), b"Length: %d, %d" % (len(GENERIC), len(GENERIC))), [400], 0),
    "chunked twice": (chunked(headers=BEARER + "Transfer-Encoding: chunked\r\n"), [400], 0),
    "space before a colon": (post().replace(b"Content-Length:", b"Content-Length :"), [400], 0),
    "space inside a name": (post("X Forwarded-For: 192.0.2.1\r\n"), [400], 0),
    "a line that begins with a colon": (post(":authority: x\r\n"), [400], 0),
    "NUL in a value": (post("X-Note: a\x00b\r\n"), [400], 0),
    "bare CR in a value": (post("X-Note: a\rContent-Length: 0\r\n"), [400], 0),
    "chunked, identity": (chunked(headers=BEARER).replace(b"Encoding: chunked", b"Encoding: chunked, identity"), [400], 0),
    "tab after the method": (post().replace(b"POST /", b"POST\t/"), [400], 0),
    "tab before the version": (post().replace(b"generic HTTP", b"generic\tHTTP"), [400], 0),
    "absolute-form target": (post().replace(b"POST /v1", b"POST http://elsewhere.example/v1"), [202], 1),
    "HTTP/1.0 keep-alive, twice": (post("Connection: keep-alive\r\n", version="HTTP/1.0") * 2, [202, 202], 2),
    "100-continue, close, junk": (post("Expect: 100-continue\r\nConnection: close\r\n") + b"junk", [100, 202], 1),
    "blank lines before": (b"\r\n\r\n" + post(), [202], 1),
    "three pipelined": (post() * 3, [202, 202, 202], 3),
    "the second closes, junk": (post() + post("Connection: keep-alive, close\r\n") + b"junk", [202, 202], 2),
    "chunked, closes, junk": (chunked(headers=BEARER + "Connection: close\r\n") + b"\x00junk\r\n\r\n", [202], 1),
    "HTTP/1.0, junk": (post(version="HTTP/1.0") + b"junk\r\n\r\n", [202], 1),
    "refused, closes, junk": (post("Connection: close\r\n").replace(TOKENS["generic"].encode(), b"wrong") + b"\x00junk", [401], 0),
    "no Host in HTTP/1.1": (post().replace(b"Host: x\r\n", b""), [400], 0),
}  # fmt: skip


async def test_each_bent_framing_is_a_clear_4xx_or_a_correct_answer(
    gateway: IngestService, queues: Queues
) -> None:
    """Each framing in FRAMINGS gets the answers listed (a 400 saying what was wrong, before
    any handler and never a guess at the body, closes its connection) and queues exactly the
    alerts it holds."""
    for name, (request, expected, alerts) in FRAMINGS.items():
        before, unreadable = queued(gateway), refused_unread(gateway)
        answers, closed = await statuses(gateway.port, request, len(expected))
        assert answers == expected, name
        assert queued(gateway) == before + alerts, name
        if 400 in expected:
            assert closed, name
            assert refused_unread(gateway) == unreadable + 1, name
    assert queues.depth() == sum(alerts for _, _, alerts in FRAMINGS.values())


def refused_unread(gateway: IngestService) -> float:
    """Requests answered 400 before any handler read them (the parser could not)."""
    return gateway.metrics.counter("IngestRequests", source="unknown", status="400")


def test_a_head_end_cut_between_two_reads_still_keeps_the_request_before_garbage() -> None:
    """A request whose head ends across two reads (its `\\r\\n\\r` in one, `\\n` and the
    garbage behind it in the next) is still returned, the garbage ignored after it closes."""

    class Connection:
        _reading_paused = False

    loop = asyncio.new_event_loop()
    try:
        parser = HeadByHead(HttpRequestParser(Connection(), loop, 2**16))
        first = b"GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r"
        assert not parser.feed_data(first)[0]
        messages: Any = parser.feed_data(b"\ngarbage")[0]
    finally:
        loop.close()
    assert [m.path for m, _ in messages] == ["/healthz"]
    assert parser.closed


def test_a_body_of_blank_lines_costs_a_bounded_number_of_parser_calls() -> None:
    """A read of 64 KiB of blank lines (16,384 places a head could end) is cut at most
    MAX_CUTS times: each cut is a call into the parser, and a sender must not buy one per
    four bytes."""

    class Counting:
        calls = 0

        def feed_data(self, data: bytes) -> tuple[Any, bool, bytes]:
            Counting.calls += 1
            return (), False, b""

    parser = HeadByHead(Counting())
    parser.feed_data(b"\r\n\r\n" * 16_384)
    assert Counting.calls == MAX_CUTS + 1
