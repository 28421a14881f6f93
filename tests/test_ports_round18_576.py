"""Round 18 of the two HTTP ports (helper 576): the webhook gateway and the operators' port answer
alike, under both of aiohttp's parsers (llhttp, and the pure-Python one AIOHTTP_NO_EXTENSIONS=1
selects; the `parser` fixture of round 17). What was decided, and why (RFC 9110, 9112):

- a percent-encoded unreserved character in a path is that character (RFC 3986 6.2.2.2:
  `/%68ealthz` is `/healthz`), so both serve it; an encoded `/` stays one segment's byte;
- a GET or HEAD carrying a body is 400 on a path that takes GET (RFC 9110 9.3.1: its content
  has no meaning, and a server may refuse it as a smuggling risk): the gateway always refused
  one, the operators' port read and ignored it;
- an expectation other than 100-continue is 417 from the head, whatever the path and method
  (RFC 9110 10.1.1): the operators' port always did, the gateway only on its alert paths;
- every answer's status line says HTTP/1.1 (RFC 9110 6.2: a server sends the highest version it
  speaks whose major version the request's has), those to heads the parser refused included;
- a head llhttp refuses is refused under the pure-Python parser too (a Transfer-Encoding
  ending in a tab, a Content-Length past 64 bits), it takes the 128 header lines llhttp takes,
  and it reads nothing after a request asking for an Upgrade the gateway declines.

Over raw sockets on 127.0.0.1."""

from __future__ import annotations

import asyncio

import pytest

from daemon_harness import Queues
from ingest_harness import TOKENS, ingest_settings, running
from test_ingest_framing import statuses
from test_ingest_hostile import exchange, read_answer
from test_operator_hostile import serving, store  # noqa: F401 (the store fixture)
from test_ports_round17_572 import parser  # noqa: F401 (the parser fixture)
from triage.incidents.sqlite import SQLiteStore
from triage.redact import scrub

#: Every test runs under each parser (the fixture of round 17).
pytestmark = pytest.mark.usefixtures("parser")

HOST = b"Host: x\r\n"


def _get(path: bytes, headers: bytes = b"", method: bytes = b"GET") -> bytes:
    return method + b" " + path + b" HTTP/1.1\r\n" + HOST + headers + b"\r\n"


#: A request and the status both ports answer it with, whichever parser the gateway uses.
ALIKE = [
    (_get(b"/%68ealthz"), 200),
    (_get(b"/%68%65%61lthz"), 200),
    (_get(b"/healthz%2F"), 404),
    (_get(b"/%2Fhealthz"), 404),
    (_get(b"/healthz", b"Content-Length: 2\r\n") + b"ab", 400),
    (_get(b"/healthz", b"Content-Length: 2\r\n", b"HEAD") + b"ab", 400),
    (_get(b"/healthz", b"Transfer-Encoding: chunked\r\n") + b"0\r\n\r\n", 400),
    (_get(b"/healthz", b"Content-Length: 0\r\n"), 200),
    (_get(b"/nowhere", b"Content-Length: 2\r\n") + b"ab", 404),
    (_get(b"/healthz", b"Expect: foo\r\n"), 417),
    (_get(b"/healthz", b"Expect: 100-continue, foo\r\n"), 417),
    (_get(b"/nowhere", b"Expect: foo\r\n"), 417),
    (_get(b"*", b"Expect: foo\r\n", b"OPTIONS"), 417),
    (_get(b"/healthz", b"Expect: 100-continue\r\n"), 200),
    (_get(b"/healthz", b"Expect:\r\n"), 200),
]


async def _head(port: int, request: bytes) -> tuple[str, int] | str:
    """The version and status of the first answer to `request` (its head only: a HEAD's answer
    has no body), or "closed"."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    try:
        writer.write(request)
        await writer.drain()
        head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), timeout=10)
    except (asyncio.IncompleteReadError, ConnectionResetError):
        return "closed"
    finally:
        writer.close()
    version, status, _ = head.decode("latin-1").split(" ", 2)
    return version, int(status)


async def test_both_ports_answer_each_request_alike(
    queues: Queues,
    store: SQLiteStore,  # noqa: F811 (the fixture)
) -> None:
    """Each request of ALIKE gets its status, on an HTTP/1.1 status line, from the gateway and
    from the operators' port, whichever parser the gateway's aiohttp uses (before: `/%68ealthz`
    was 404 on the operators' port, a GET with a body served there, `Expect: foo` served on the
    gateway's /healthz and 404 on a path it does not have)."""
    got = {}
    async with (
        running(ingest_settings(queues.url, queues.endpoint)) as gateway,
        serving(store) as operators,
    ):
        for request, _ in ALIKE:
            got[request] = (
                await _head(gateway.port, request),
                await _head(operators.port, request),
            )
    wrong = {
        request: answers
        for (request, want), answers in zip(ALIKE, got.values(), strict=True)
        if answers != (("HTTP/1.1", want), ("HTTP/1.1", want))
    }
    assert not wrong, wrong


#: Requests whose answer the gateway wrote on an HTTP/1.0 status line: heads the parser
#: refused (aiohttp answers them as an HTTP/1.0 request), and HTTP/1.0 requests.
VERSIONED = [
    (_get(b"/healthz", b"X\x01: y\r\n"), 400),
    (_get(b"/healthz", HOST), 400),
    (_get(b"/healthz", b"".join(b"X-%d: 1\r\n" % i for i in range(150))), 431),
    (b"GET /healthz HTTP/1.0\r\n\r\n", 200),
    (b"GET /healthz HTTP/1.0\r\nConnection: keep-alive\r\n\r\n", 200),
    (b"GET /nowhere HTTP/1.0\r\n\r\n", 404),
]


@pytest.mark.parametrize(("request_bytes", "status"), VERSIONED)
async def test_every_answer_says_http_1_1(
    queues: Queues,
    store: SQLiteStore,  # noqa: F811 (the fixture)
    request_bytes: bytes,
    status: int,
) -> None:
    """The gateway's answer to a head its parser refused, or to an HTTP/1.0 request, says
    HTTP/1.1 as the operators' port's does (RFC 9110 6.2; it said HTTP/1.0)."""
    async with (
        running(ingest_settings(queues.url, queues.endpoint)) as gateway,
        serving(store) as operators,
    ):
        answers = (
            await _head(gateway.port, request_bytes),
            await _head(operators.port, request_bytes),
        )
    assert answers == (("HTTP/1.1", status), ("HTTP/1.1", status))


def _alert(key: bytes, headers: bytes = b"") -> bytes:
    body = b'{"title": "disk full", "dedup_key": "%s"}' % key
    request = b"POST /v1/alerts/generic HTTP/1.1\r\n" + HOST
    request += f"Authorization: Bearer {TOKENS['generic']}\r\n".encode() + headers
    return request + b"Content-Length: %d\r\n\r\n" % len(body) + body


@pytest.mark.parametrize("with_body", [True, False])
async def test_nothing_behind_a_declined_upgrade_is_queued(queues: Queues, with_body: bool) -> None:
    """A request asking for an Upgrade the gateway declines (h2c), with or without a body, is
    answered with `Connection: close`, its connection closed, and the alert pipelined behind it
    neither answered nor queued, whichever parser reads them (the pure-Python parser read on
    past it: both alerts queued)."""
    upgrade = b"Connection: Upgrade, HTTP2-Settings\r\nUpgrade: h2c\r\nHTTP2-Settings: AAMA\r\n"
    first = _alert(b"upgrade", upgrade) if with_body else _get(b"/healthz", upgrade)
    async with running(ingest_settings(queues.url, queues.endpoint)) as gateway:
        reader, writer = await asyncio.open_connection("127.0.0.1", gateway.port)
        try:
            writer.write(first + _alert(b"behind"))
            answer = await read_answer(reader)
            rest = await asyncio.wait_for(reader.read(), timeout=10)
        finally:
            writer.close()
    assert (answer.status, answer.headers.get("connection")) == (202 if with_body else 200, "close")
    assert rest == b""
    assert queues.depth() == (1 if with_body else 0)


#: Heads llhttp refuses that aiohttp's pure-Python parser took (each with an alert smuggled
#: behind it): a Transfer-Encoding ending in a tab, which that parser read as chunked; a
#: Content-Length past 64 bits, which it read as a body too large (413, connection kept).
REFUSED_HEADS = {
    "chunked, then a tab": b"Transfer-Encoding: chunked\t\r\n",
    "chunked, a space, a tab": b"Transfer-Encoding: chunked \t\r\n",
    "a length past 64 bits": b"Content-Length: 18446744073709551616\r\n",
}


@pytest.mark.parametrize("name", list(REFUSED_HEADS))
async def test_a_head_llhttp_refuses_is_400_under_both_parsers(queues: Queues, name: str) -> None:
    """Each head of REFUSED_HEADS is 400 and its connection closed, whichever parser reads it:
    neither the alert it frames nor the one behind it is queued."""
    body = b'{"title": "disk full"}'
    request = b"POST /v1/alerts/generic HTTP/1.1\r\n" + HOST
    request += f"Authorization: Bearer {TOKENS['generic']}\r\n".encode() + REFUSED_HEADS[name]
    request += b"\r\n%x\r\n%s\r\n0\r\n\r\n" % (len(body), body) + _alert(b"smuggled")
    async with running(ingest_settings(queues.url, queues.endpoint)) as gateway:
        assert await statuses(gateway.port, request, 2) == ([400], True)
    assert queues.depth() == 0


@pytest.mark.parametrize(("fields", "status"), [(127, 200), (128, 431)])
async def test_both_parsers_take_the_same_number_of_header_lines(
    queues: Queues, fields: int, status: int
) -> None:
    """A head of Host and 127 more fields (the 128 llhttp takes) is served, one more is 431,
    under both parsers (the pure-Python parser counted its request line and blank line among
    them: 126 fields were its most)."""
    request = _get(b"/healthz", b"".join(b"X-%d: 1\r\n" % i for i in range(fields)))
    async with running(ingest_settings(queues.url, queues.endpoint)) as gateway:
        assert await _head(gateway.port, request) == ("HTTP/1.1", status)


async def test_the_gateway_compiles_the_redactor_before_it_listens(queues: Queues) -> None:
    """The redactor's searches, which it compiles at its first text (a second of CPU on a busy
    machine), are compiled while the gateway starts, off its loop: the first request to be
    redacted (a parse error's answer and line) stalled every connection of the gateway that
    long."""
    scrub._needle_searches.cache_clear()
    async with running(ingest_settings(queues.url, queues.endpoint)):
        assert scrub._needle_searches.cache_info().currsize == 1


async def test_the_operators_port_compiles_the_redactor_before_it_listens(
    store: SQLiteStore,  # noqa: F811 (the fixture)
) -> None:
    """The operators' port compiles the redactor's searches as it starts, off its loop, as the
    gateway does: its first refusal's excerpt (`client_excerpt`) compiled them on the loop."""
    scrub._needle_searches.cache_clear()
    async with serving(store):
        assert scrub._needle_searches.cache_info().currsize == 1


async def _after_head(port: int, request: bytes) -> tuple[int, bytes] | str:
    """The status of the answer to `request` (which closes its connection) and every byte
    after that answer's head, read to the connection's end."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    try:
        writer.write(request)
        await writer.drain()
        answer = await asyncio.wait_for(reader.read(), timeout=10)
    except ConnectionResetError:
        return "reset"
    finally:
        writer.close()
    head, _, rest = answer.partition(b"\r\n\r\n")
    return int(head.split(b" ", 2)[1]), rest


#: HEAD requests (each closing its connection) and the status both ports answer them with.
HEADS = [
    (_get(b"/healthz", b"Connection: close\r\n", b"HEAD"), 200),
    (_get(b"/nowhere", b"Connection: close\r\n", b"HEAD"), 404),
    (_get(b"/healthz", b"Connection: close\r\nExpect: foo\r\n", b"HEAD"), 417),
    (_get(b"/healthz", b"Connection: close\r\nContent-Length: 2\r\n", b"HEAD") + b"ab", 400),
]


@pytest.mark.parametrize(("request_bytes", "status"), HEADS)
async def test_an_answer_to_head_has_no_content_on_either_port(
    queues: Queues,
    store: SQLiteStore,  # noqa: F811 (the fixture)
    request_bytes: bytes,
    status: int,
) -> None:
    """Each HEAD of HEADS is answered its status with no content after the head, on both ports
    (RFC 9110 9.3.2; the operators' port sent its 417's JSON)."""
    async with (
        running(ingest_settings(queues.url, queues.endpoint)) as gateway,
        serving(store) as operators,
    ):
        answers = (
            await _after_head(gateway.port, request_bytes),
            await _after_head(operators.port, request_bytes),
        )
    assert answers == ((status, b""), (status, b""))


#: HEAD requests whose head the gateway's parser refuses, and their status.
REFUSED_HEAD_REQUESTS = [
    (_get(b"/healthz", b"X\x01: y\r\n", b"HEAD"), 400),
    (_get(b"/healthz", b"".join(b"X-%d: 1\r\n" % i for i in range(150)), b"HEAD"), 431),
]


@pytest.mark.parametrize(("request_bytes", "status"), REFUSED_HEAD_REQUESTS)
async def test_the_operators_port_refuses_a_head_request_without_content(
    store: SQLiteStore,  # noqa: F811 (the fixture)
    request_bytes: bytes,
    status: int,
) -> None:
    """A HEAD request whose head is refused once its method is read (a bad header line, too
    many) is answered without content on the operators' port (it sent its JSON error)."""
    async with serving(store) as operators:
        assert await _after_head(operators.port, request_bytes) == (status, b"")


@pytest.mark.parametrize(("request_bytes", "status"), REFUSED_HEAD_REQUESTS)
async def test_the_gateway_refuses_a_head_request_without_content(
    queues: Queues, request_bytes: bytes, status: int
) -> None:
    """A HEAD request whose head the gateway's parser refuses is answered without content."""
    async with running(ingest_settings(queues.url, queues.endpoint)) as gateway:
        assert await _after_head(gateway.port, request_bytes) == (status, b"")


@pytest.mark.parametrize("extension", [b";a b", b"; a=b", b";a=b ", b';a="b'])
async def test_a_chunk_extension_llhttp_refuses_is_400_under_both_parsers(
    queues: Queues, extension: bytes
) -> None:
    """A chunk extension outside RFC 9112 7.1.1's grammar (a space in it, an unclosed quote) is
    400 and nothing queued, whichever parser reads it."""
    body = b'{"title": "disk full"}'
    head = b"POST /v1/alerts/generic HTTP/1.1\r\n" + HOST + b"Connection: close\r\n"
    head += f"Authorization: Bearer {TOKENS['generic']}\r\n".encode()
    head += b"Transfer-Encoding: chunked\r\n\r\n"
    chunked = b"%x%s\r\n%s\r\n0\r\n\r\n" % (len(body), extension, body)
    async with running(ingest_settings(queues.url, queues.endpoint)) as gateway:
        assert (await _after_head(gateway.port, head + chunked))[0] == 400
    assert queues.depth() == 0


async def test_two_content_lengths_are_refused_in_the_same_words_under_both_parsers(
    queues: Queues,
) -> None:
    """Two Content-Length headers are 400 `Duplicate Content-Length` whichever parser reads
    them (the pure-Python parser's answer said `… header found.`)."""
    request = _alert(b"two", b"Content-Length: 3\r\n")
    async with running(ingest_settings(queues.url, queues.endpoint)) as gateway:
        answer = await exchange(gateway.port, request)
    assert (answer.status, answer.json()) == (
        400,
        {"error": "bad request: Duplicate Content-Length"},
    )
