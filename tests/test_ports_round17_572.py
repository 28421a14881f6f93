"""Round 17 of the two HTTP ports (helper 572): one request line, one answer, on the webhook
gateway and on the operators' port, under both of aiohttp's parsers (llhttp, and the pure-Python
one that AIOHTTP_NO_EXTENSIONS=1 selects). `request_head.request_line_fault` is the rule: a
line not `method SP target SP version` is 400 (RFC 9112 3: `GET  /` with two spaces is not
corrected), a method the port does not implement is 501 (RFC 9110 9.1: methods are
case-sensitive, so `get` and `options` are none of GET and OPTIONS), another version than 1.0
and 1.1 is 505, a target none of the method's forms is 400 (`*` is OPTIONS' only). Over raw
sockets on 127.0.0.1."""

from __future__ import annotations

import asyncio

import aiohttp.web_protocol
import pytest
from aiohttp import http_parser

from daemon_harness import Queues
from ingest_harness import TOKENS, ingest_settings, running
from test_ingest_framing import statuses
from test_ingest_hostile import read_answer
from test_operator_hostile import serving, store  # noqa: F401 (the store fixture)
from triage.incidents.sqlite import SQLiteStore
from triage.ingest.chunks import ChunkSizes, FramingTrailer
from triage.request_head import LINE_FAULTS, request_line_fault

HOST = b"\r\nHost: x\r\n\r\n"

#: A request line (its head ends with HOST) and the status both ports answer it with.
LINES = [
    (b"GET /healthz HTTP/1.1", 200),
    (b"GET  /healthz HTTP/1.1", 400),
    (b"GET /healthz  HTTP/1.1", 400),
    (b"get /healthz HTTP/1.1", 501),
    (b"Get /healthz HTTP/1.1", 501),
    (b"options * HTTP/1.1", 501),
    (b"BREW * HTTP/1.1", 501),
    (b"B" * 100 + b" /healthz HTTP/1.1", 501),
    (b"CONNECT example.com:443 HTTP/1.1", 501),
    (b"M-SEARCH * HTTP/1.1", 501),  # methods llhttp knows, with a target it refuses
    (b"PROPFIND * HTTP/1.1", 501),
    (b"PRI * HTTP/2.0", 501),  # HTTP/2's preface, sent to an HTTP/1 port
    (b"OPTIONS * HTTP/1.1", 200),
    (b"GET * HTTP/1.1", 400),
    (b"GET /healthz HTTP/2.0", 505),
    (b"GET /healthz HTTP/1.2", 505),
    (b"GET /healthz", 400),
    (b"GET /healthz http/1.1", 400),
    (b"GET ftp://x/healthz HTTP/1.1", 400),
    (b"GET http://user@x/healthz HTTP/1.1", 400),
    (b"GET http://x/healthz HTTP/1.1", 200),
    (b"GET /h\xc3\xa9 HTTP/1.1", 400),
    (b"\r\nGET /healthz HTTP/1.1", 200),  # RFC 9112 2.2: an empty line before it is dropped
]


@pytest.fixture(params=["llhttp", "python"])
def parser(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    """The gateway's connections parse with llhttp, or with aiohttp's pure-Python parser (what
    AIOHTTP_NO_EXTENSIONS=1 selects: the class aiohttp.web_protocol makes)."""
    # (Without aiohttp's extensions, or with AIOHTTP_NO_EXTENSIONS=1, there is no llhttp.)
    llhttp = getattr(http_parser, "HttpRequestParserC", None)
    if request.param == "llhttp" and llhttp is None:
        pytest.skip("aiohttp's llhttp parser is not built here")
    chosen = llhttp if request.param == "llhttp" else http_parser.HttpRequestParserPy
    monkeypatch.setattr(aiohttp.web_protocol, "HttpRequestParser", chosen)
    return str(request.param)


async def _status(port: int, request: bytes) -> int | str:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    try:
        writer.write(request)
        await writer.drain()
        return (await read_answer(reader)).status
    except (asyncio.IncompleteReadError, ConnectionResetError):
        return "closed"
    finally:
        writer.close()


async def test_both_ports_answer_each_request_line_alike(
    parser: str,
    queues: Queues,
    store: SQLiteStore,  # noqa: F811 (the fixture)
) -> None:
    """Each request line of LINES gets its status from the gateway and from the operators'
    port, whichever parser the gateway's aiohttp uses."""
    got = {}
    async with (
        running(ingest_settings(queues.url, queues.endpoint)) as gateway,
        serving(store) as operators,
    ):
        for line, _ in LINES:
            request = line + HOST
            got[line] = (
                await _status(gateway.port, request),
                await _status(operators.port, request),
            )
    wrong = {
        line: answers
        for (line, want), answers in zip(LINES, got.values(), strict=True)
        if answers != (want, want)
    }
    assert not wrong, wrong


@pytest.mark.parametrize(("line", "status"), LINES)
def test_the_rule_gives_each_line_its_status(line: bytes, status: int) -> None:
    """`request_line_fault` is what both ports answer by (a port taking GET, HEAD, POST and
    OPTIONS; None is the request served)."""
    fault = request_line_fault(line.lstrip(b"\r\n"), {"GET", "HEAD", "POST", "OPTIONS"})
    assert (200 if fault is None else LINE_FAULTS[fault]) == status


async def test_a_refused_line_s_body_is_never_read_as_a_request(
    parser: str, queues: Queues
) -> None:
    """A request line refused after the parser took it (two spaces) is answered 400 and the
    connection closed: the request its body holds is not answered."""
    inner = b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n"
    request = b"POST  /v1/alerts/generic HTTP/1.1\r\nHost: x\r\n"
    request += b"Content-Length: %d\r\n\r\n" % len(inner) + inner
    async with running(ingest_settings(queues.url, queues.endpoint)) as gateway:
        assert await statuses(gateway.port, request, 2) == ([400], True)


#: A head (its request line and Host given) and what the operators' port answers, as the gateway
#: answers it on a path taking POST: RFC 9112 6.3's faulty framings are 400; a well-framed
#: chunked body, which the port does not read, 501.
FRAMINGS = [
    (b"Transfer-Encoding: gzip\r\n", 400),
    (b"Transfer-Encoding: chunked, gzip\r\n", 400),
    (b"Transfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n", 400),
    (b"Transfer-Encoding: chunked\r\nContent-Length: 5\r\n", 400),
    (b"Transfer-Encoding:\r\n", 400),
    (b"Transfer-Encoding: chunked\r\n", 501),
    (b"Transfer-Encoding: gzip, chunked\r\n", 501),
]


@pytest.mark.parametrize(("headers", "status"), FRAMINGS)
async def test_the_operators_port_refuses_a_faulty_framing_as_the_gateway_does(
    store: SQLiteStore,  # noqa: F811 (the fixture)
    headers: bytes,
    status: int,
) -> None:
    """A Transfer-Encoding that leaves the body's length unknown is 400 on the operators'
    port, as on the gateway (it was 501, as a coding the port does not read is)."""
    request = b"POST /api/v1/silences HTTP/1.1\r\nHost: x\r\n" + headers + b"\r\n0\r\n\r\n"
    async with serving(store) as operators:
        assert await _status(operators.port, request) == status


async def test_the_operators_port_refuses_chunked_in_http_1_0_and_takes_long_header_names(
    store: SQLiteStore,  # noqa: F811 (the fixture)
) -> None:
    """Transfer-Encoding in an HTTP/1.0 request is 400 (RFC 9112 6.1), and a header name longer
    than 32 letters is a header, as on the gateway (it was 400)."""
    chunked_10 = b"POST /api/v1/silences HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n"
    long_name = b"GET /healthz HTTP/1.1\r\nHost: x\r\nX-" + b"n" * 60 + b": 1\r\n\r\n"
    async with serving(store) as operators:
        assert await _status(operators.port, chunked_10) == 400
        assert await _status(operators.port, long_name) == 200


@pytest.mark.parametrize(
    "reads",
    [
        [b"0\r\nContent-Length: 5\r\n\r\n"],
        [b"0\r\nContent-Le", b"ngth: 5\r\n\r\n"],
        [b"0\r\nX-Checksum: 1\r\ntransfer-encoding: chunked\r\n\r\n"],
        [b"0\r\n", b"Host: y\r\n\r\n"],
    ],
)
def test_a_framing_field_in_a_trailer_is_refused_in_any_cut(reads: list[bytes]) -> None:
    """Content-Length, Transfer-Encoding or Host as a trailer field (RFC 9110 6.5.1: they
    cannot be) is refused while the body is followed, wherever the reads cut its name."""
    sizes = ChunkSizes()
    for data in reads[:-1]:
        sizes.check(data)
    with pytest.raises(FramingTrailer):
        sizes.check(reads[-1])


def test_other_trailer_fields_pass() -> None:
    """A trailer field that frames nothing, even one named like a framing field's start, is
    the parser's to read."""
    sizes = ChunkSizes()
    for data in [b"3\r\nabc\r\n0\r\nContent-Len", b"gthish: 5\r\nX-Host: y\r\n\r\n"]:
        sizes.check(data)
    assert sizes.done


async def test_a_content_length_trailer_is_400_under_both_parsers(
    parser: str, queues: Queues
) -> None:
    """A chunked alert whose trailer holds a Content-Length is refused 400 and not queued,
    under the pure-Python parser too (which dropped the field and took the alert: 202)."""
    body = b'{"title": "disk full"}'
    request = b"POST /v1/alerts/generic HTTP/1.1\r\nHost: x\r\n"
    request += f"Authorization: Bearer {TOKENS['generic']}\r\n".encode()
    request += b"Transfer-Encoding: chunked\r\n\r\n"
    request += b"%x\r\n%s\r\n0\r\nContent-Length: 5\r\n\r\n" % (len(body), body)
    async with running(ingest_settings(queues.url, queues.endpoint)) as gateway:
        assert await statuses(gateway.port, request, 1) == ([400], True)


async def test_a_tls_hello_on_the_operators_port_is_answered_400_at_once(
    store: SQLiteStore,  # noqa: F811 (the fixture)
) -> None:
    """A TLS ClientHello (no line end in it) is answered 400 from its first byte, as the
    gateway's llhttp answers it, not closed unanswered at the port's deadline."""
    hello = b"\x16\x03\x01\x00\xa5\x01\x00\x00\xa1\x03\x03" + b"\x00" * 40
    async with serving(store) as operators:
        reader, writer = await asyncio.open_connection("127.0.0.1", operators.port)
        try:
            writer.write(hello)
            await writer.drain()
            # (Before: no answer at all, the connection closed at the port's deadline.)
            answer = await read_answer(reader)
        finally:
            writer.close()
    assert answer.status == 400


async def test_a_tls_hello_on_the_gateway_is_answered_400_under_both_parsers(
    parser: str, queues: Queues
) -> None:
    """A TLS ClientHello is answered 400 from its first byte under the pure-Python parser too
    (which waited for a line end, the sender unanswered until the idle timeout)."""
    hello = b"\x16\x03\x01\x00\xa5\x01\x00\x00\xa1\x03\x03" + b"\x00" * 40
    async with running(ingest_settings(queues.url, queues.endpoint)) as gateway:
        assert await statuses(gateway.port, hello, 1) == ([400], True)


async def test_a_declined_upgrade_closes_its_connection_under_both_parsers(
    parser: str, queues: Queues
) -> None:
    """A request asking for an Upgrade the gateway declines (h2c), with an alert pipelined
    behind it, is answered 202 with `Connection: close` and its connection closed, whichever
    parser reads it; only the first alert is queued."""
    alert = b'{"title": "disk full", "dedup_key": "upgrade"}'
    bearer = f"Authorization: Bearer {TOKENS['generic']}\r\n".encode()
    first = b"POST /v1/alerts/generic HTTP/1.1\r\nHost: x\r\n" + bearer
    first += b"Connection: Upgrade, HTTP2-Settings\r\nUpgrade: h2c\r\nHTTP2-Settings: AAMAAABkAAQAAP__\r\n"
    first += b"Content-Length: %d\r\n\r\n" % len(alert) + alert
    behind = b"POST /v1/alerts/generic HTTP/1.1\r\nHost: x\r\n" + bearer
    behind += b"Content-Length: %d\r\n\r\n" % len(alert) + alert
    async with running(ingest_settings(queues.url, queues.endpoint)) as gateway:
        reader, writer = await asyncio.open_connection("127.0.0.1", gateway.port)
        try:
            writer.write(first + behind)
            answer = await read_answer(reader)
        finally:
            writer.close()
    assert answer.status == 202
    assert answer.headers.get("connection") == "close"
