"""Round 20 of the two HTTP ports (helper 586), under both of aiohttp's parsers (llhttp, and the
pure-Python one AIOHTTP_NO_EXTENSIONS=1 selects; the `parser` fixture of round 17):

- a HEAD request refused for its request line (another version, a bad target, two spaces …)
  is answered without content on both ports (RFC 9110 9.3.2: an answer to HEAD has none, and
  its client would read the content as the next answer);
- a HEAD refused from its head, pipelined behind a request with a body, is answered without
  content on the gateway too;
- both ports take 128 header fields and refuse the 129th (431).

Over raw sockets on 127.0.0.1."""

from __future__ import annotations

import asyncio

import pytest
from aiohttp.http_exceptions import TransferEncodingError

from daemon_harness import Queues
from ingest_harness import TOKENS, ingest_settings, running
from test_ingest_hostile import read_answer
from test_operator_hostile import serving, store  # noqa: F401 (the store fixture)
from test_ports_round17_572 import parser  # noqa: F401 (the parser fixture)
from test_ports_round18_576 import _after_head
from triage.incidents.sqlite import SQLiteStore
from triage.ingest.chunks import ChunkSizes

#: Every test runs under each parser (the fixture of round 17).
pytestmark = pytest.mark.usefixtures("parser")

HOST = b"\r\nHost: x\r\nConnection: close\r\n\r\n"

#: HEAD request lines each port refuses, and the status both answer (with no content).
REFUSED_HEAD_LINES = [
    (b"HEAD /healthz HTTP/2.0", 505),
    (b"HEAD /healthz HTTP/1.2", 505),
    (b"HEAD  /healthz HTTP/1.1", 400),
    (b"HEAD /healthz  HTTP/1.1", 400),
    (b"HEAD /healthz", 400),
    (b"HEAD /healthz http/1.1", 400),
    (b"HEAD * HTTP/1.1", 400),
    (b"HEAD /healthz#top HTTP/1.1", 400),
    (b"HEAD http://user@x/healthz HTTP/1.1", 400),
    (b"HEAD ftp://x/healthz HTTP/1.1", 400),
    (b"HEAD /h\xc3\xa9 HTTP/1.1", 400),
    (b"HEAD /" + b"a" * 9000 + b" HTTP/1.1", 414),
]


@pytest.mark.parametrize(("line", "status"), REFUSED_HEAD_LINES)
async def test_a_head_refused_for_its_request_line_has_no_content_on_either_port(
    queues: Queues,
    store: SQLiteStore,  # noqa: F811 (the fixture)
    line: bytes,
    status: int,
) -> None:
    """Each HEAD line of REFUSED_HEAD_LINES is answered its status and nothing after the
    answer's head, by the gateway as by the operators' port."""
    async with (
        running(ingest_settings(queues.url, queues.endpoint)) as gateway,
        serving(store) as operators,
    ):
        answers = (
            await _after_head(gateway.port, line + HOST),
            await _after_head(operators.port, line + HOST),
        )
    assert answers == ((status, b""), (status, b""))


def _alert(framing: str) -> bytes:
    body = b'{"title": "disk full", "dedup_key": "round20"}'
    head = b"POST /v1/alerts/generic HTTP/1.1\r\nHost: x\r\n"
    head += f"Authorization: Bearer {TOKENS['generic']}\r\n".encode()
    if framing == "length":
        return head + b"Content-Length: %d\r\n\r\n" % len(body) + body
    trailer = b"X-Trace: 1\r\n" if framing == "trailer" else b""
    head += b"Transfer-Encoding: chunked\r\n\r\n"
    return head + b"%x\r\n%s\r\n0\r\n%s\r\n" % (len(body), body, trailer)


#: HEAD requests the gateway refuses, pipelined behind an alert: from their head, or their line.
PIPELINED_HEADS = [
    (b"HEAD /healthz HTTP/1.1\r\nHost: x\r\nX: \x01\r\n\r\n", 400),
    (b"HEAD /healthz HTTP/1.1\r\nHost: x\r\n folded\r\n\r\n", 400),
    (b"HEAD /healthz HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: gzip\r\n\r\n", 400),
    (b"HEAD /healthz HTTP/2.0\r\nHost: x\r\n\r\n", 505),
    (b"HEAD  /healthz HTTP/1.1\r\nHost: x\r\n\r\n", 400),
]


@pytest.mark.parametrize("split", [False, True])
@pytest.mark.parametrize("framing", ["length", "chunked"])
@pytest.mark.parametrize(("refused", "status"), PIPELINED_HEADS)
async def test_a_refused_head_behind_an_alert_with_a_body_has_no_content(
    queues: Queues, framing: str, refused: bytes, status: int, split: bool
) -> None:
    """An alert (its body framed by `framing`) then a HEAD of PIPELINED_HEADS, in one write or
    (`split`) with the body's last bytes sent apart with the HEAD: the alert is queued (202),
    and the HEAD's refusal carries no content after its head."""
    alert = _alert(framing)
    async with running(ingest_settings(queues.url, queues.endpoint)) as gateway:
        reader, writer = await asyncio.open_connection("127.0.0.1", gateway.port)
        try:
            if split:
                writer.write(alert[:-9])
                await writer.drain()
                alert = alert[-9:]
            writer.write(alert + refused)
            served = await read_answer(reader)
            rest = await asyncio.wait_for(reader.read(), timeout=10)
        finally:
            writer.close()
    head, _, content = rest.partition(b"\r\n\r\n")
    assert (served.status, int(head.split(b" ", 2)[1]), content) == (202, status, b"")


def _with_fields(count: int) -> bytes:
    """A GET /healthz whose head holds `count` header fields, Host among them."""
    fields = b"".join(b"X-%d: 1\r\n" % i for i in range(count - 2))
    return b"GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n" + fields + b"\r\n"


async def test_both_ports_take_128_header_fields_and_refuse_the_129th(
    queues: Queues,
    store: SQLiteStore,  # noqa: F811 (the fixture)
) -> None:
    """A head of 128 header fields is served (200) and one of 129 refused (431) by the gateway
    and by the operators' port alike."""
    async with (
        running(ingest_settings(queues.url, queues.endpoint)) as gateway,
        serving(store) as operators,
    ):
        got = [
            ((await _after_head(port, _with_fields(count))) or ("none",))[0]
            for count in (128, 129)
            for port in (gateway.port, operators.port)
        ]
    assert got == [200, 200, 431, 431]


def _generic(headers: bytes = b"") -> bytes:
    body = b'{"title": "disk full", "dedup_key": "round20-next"}'
    head = b"POST /v1/alerts/generic HTTP/1.1\r\nHost: x\r\n" + headers
    return head + b"Content-Length: %d\r\n\r\n" % len(body) + body


async def test_a_trailer_field_never_becomes_a_header_of_the_next_request(
    queues: Queues,
) -> None:
    """A chunked alert whose trailer section names a credential, then an alert without one in
    the same write: the first is queued and its answer closes the connection, so the second is
    never read with the first's trailer fields as its headers (llhttp carries them over; the
    pure-Python parser drops them), whichever parser reads it."""
    trailered = _alert("chunked").removesuffix(b"\r\n")
    trailered += f"Authorization: Bearer {TOKENS['generic']}\r\n\r\n".encode()
    async with running(ingest_settings(queues.url, queues.endpoint)) as gateway:
        reader, writer = await asyncio.open_connection("127.0.0.1", gateway.port)
        try:
            writer.write(trailered + _generic())
            first = await read_answer(reader)
            rest = await asyncio.wait_for(reader.read(), timeout=10)
        finally:
            writer.close()
    assert (first.status, first.headers.get("connection"), rest) == (202, "close", b"")
    assert queues.depth() == 1


#: Requests both ports refuse, whichever parser reads them, and their status.
CLOSE = b"Host: x\r\nConnection: close\r\n\r\n"
REFUSED_ALIKE = [
    (b"\nGET /healthz HTTP/1.1\r\n" + CLOSE, 400),  # an empty line ended by a bare LF
    (b"\r\n\nGET /healthz HTTP/1.1\r\n" + CLOSE, 400),
    (b"\r\r\nGET /healthz HTTP/1.1\r\n" + CLOSE, 400),
    (b"\nHEAD /healthz HTTP/1.1\r\n" + CLOSE, 400),
    (b"\r\n\r\nGET /healthz HTTP/1.1\r\n" + CLOSE, 200),
    (b"GET http://x:99999/healthz HTTP/1.1\r\n" + CLOSE, 400),  # no port is past 65535
    (b"GET http://x:000080/healthz HTTP/1.1\r\n" + CLOSE, 200),
    (b"GET /healthz HTTP/1.1\r\nHost: x:65536\r\nConnection: close\r\n\r\n", 400),
    (b"GET /healthz HTTP/1.1\r\nHost: x:" + b"9" * 5000 + b"\r\nConnection: close\r\n\r\n", 400),
]


@pytest.mark.parametrize(("request_bytes", "status"), REFUSED_ALIKE)
async def test_both_ports_answer_these_alike_under_either_parser(
    queues: Queues,
    store: SQLiteStore,  # noqa: F811 (the fixture)
    request_bytes: bytes,
    status: int,
) -> None:
    """Each request of REFUSED_ALIKE (a bare LF before the request line, which llhttp took;
    an absolute-form target's port past 65535, which the operators' port took) gets its
    status from the gateway and from the operators' port."""
    async with (
        running(ingest_settings(queues.url, queues.endpoint)) as gateway,
        serving(store) as operators,
    ):
        answers = (
            await _after_head(gateway.port, request_bytes),
            await _after_head(operators.port, request_bytes),
        )
    assert [answer[0] for answer in answers] == [status, status]


def _head_of(size: int) -> bytes:
    """A GET /healthz whose header lines take about `size` bytes, 4,000 bytes each."""
    lines = b"".join(b"X-%d: %s\r\n" % (i, b"a" * 3990) for i in range(size // 4000))
    return b"GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n" + lines + b"\r\n"


async def test_both_ports_take_a_head_of_60_kib_and_refuse_one_of_68(
    queues: Queues,
    store: SQLiteStore,  # noqa: F811 (the fixture)
) -> None:
    """A head of about 60 KiB (large cookies, an identity proxy's tokens) is served by the
    gateway and by the operators' port, and one of about 68 KiB refused 431 by both."""
    async with (
        running(ingest_settings(queues.url, queues.endpoint)) as gateway,
        serving(store) as operators,
    ):
        got = [
            ((await _after_head(port, _head_of(size))) or ("none",))[0]
            for size in (60 * 1024, 68 * 1024)
            for port in (gateway.port, operators.port)
        ]
    assert got == [200, 200, 431, 431]


async def _trickled(port: int, request: bytes) -> tuple[int, bytes]:
    """`request` written a byte at a time (each write drained), then the status of its answer
    and every byte after that answer's head, read to the connection's end."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    try:
        for at in range(len(request)):
            writer.write(request[at : at + 1])
            await writer.drain()
        answer = await asyncio.wait_for(reader.read(), timeout=10)
    finally:
        writer.close()
    head, _, rest = answer.partition(b"\r\n\r\n")
    return int(head.split(b" ", 2)[1]), rest


#: Requests trickled a byte at a time, and what both ports answer: its status, and whether
#: content follows the answer's head.
TRICKLED = [
    (b"\r\nGET /healthz HTTP/1.1\r\n" + CLOSE, 200, True),
    (b"\r\n\nGET /healthz HTTP/1.1\r\n" + CLOSE, 400, True),
    (b"HEAD /healthz HTTP/2.0\r\n" + CLOSE, 505, False),
    (b"HEAD  /healthz HTTP/1.1\r\n" + CLOSE, 400, False),
    (b"HEAD /healthz HTTP/1.1\r\nX: \x01\r\n" + CLOSE, 400, False),
]


@pytest.mark.parametrize(("request_bytes", "status", "content"), TRICKLED)
async def test_a_request_trickled_a_byte_at_a_time_is_answered_as_sent_whole(
    queues: Queues,
    store: SQLiteStore,  # noqa: F811 (the fixture)
    request_bytes: bytes,
    status: int,
    content: bool,
) -> None:
    """Each request of TRICKLED, a byte per write, gets its status from both ports, with
    content after the answer's head or (a HEAD's) none: an empty line's CR and LF, or a
    request line, read apart are judged as read together."""
    async with (
        running(ingest_settings(queues.url, queues.endpoint)) as gateway,
        serving(store) as operators,
    ):
        answers = [
            await _trickled(gateway.port, request_bytes),
            await _trickled(operators.port, request_bytes),
        ]
    assert [(got, bool(rest)) for got, rest in answers] == [(status, content)] * 2


#: Trailer sections with a line ended by a bare LF (the last is a request's head swallowed:
#: read to CRLF lines only, it is trailer lines).
BARE_LF_TRAILERS = [
    b"X: y\n\r\n",
    b"X: y\r\nZ: w\n\r\n",
    b"X: y\nGET /healthz HTTP/1.1\r\nHost: x\r\n\r\n",
]


@pytest.mark.parametrize("trailer", BARE_LF_TRAILERS)
async def test_a_trailer_line_ended_by_a_bare_lf_is_400_under_both_parsers(
    queues: Queues, trailer: bytes
) -> None:
    """A chunked alert whose trailer section has a line ended by a bare LF is answered 400 at
    once and not queued, whichever parser reads it (the pure-Python parser read on, waiting
    for a CRLF line, until the body's time ran out; llhttp refuses it)."""
    request = _alert("chunked").removesuffix(b"\r\n") + trailer
    async with running(ingest_settings(queues.url, queues.endpoint)) as gateway:
        status, _ = await _after_head(gateway.port, request)
    assert (status, queues.depth()) == (400, 0)


@pytest.mark.parametrize("by", [1, 2, 5, 10_000])
def test_chunk_sizes_refuse_a_bare_lf_trailer_line_however_it_is_read(by: int) -> None:
    """ChunkSizes, fed a body `by` bytes at a time, refuses each of BARE_LF_TRAILERS and takes
    the first two ended by CRLF (the third's Host is refused anyway)."""
    body = b"5\r\nhello\r\n0\r\n"
    assert [_fed(body + trailer, by) for trailer in BARE_LF_TRAILERS] == [False] * 3
    assert _fed(body + b"X: y\r\n\r\n", by) and _fed(body + b"X: y\r\nZ: w\r\n\r\n", by)


def _fed(data: bytes, by: int) -> bool:
    sizes = ChunkSizes()
    try:
        for at in range(0, len(data), by):
            sizes.check(data[at : at + by])
    except TransferEncodingError:
        return False
    return True
