"""What a new incident's HTTP calls cost, cut without changing what they do (helper 532): the
transport tells a request on a pooled keep-alive connection from one on a new connection
without an aiohttp TraceConfig (whose signals cost every request ~30 µs), and an answer's
charset is read from its Content-Type once per distinct header, not parsed again for every
answer. The bytes on the wire, the resend of a dropped pooled request, and the text of an
answer are as they were."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from datetime import UTC, datetime

import httpx2
import pytest

from factories import view
from triage.answer_text import readable_text
from triage.models import Alert, EffectKind, Priority, Status, Ticket
from triage.secrets import BackendToken
from triage.settings import Settings
from triage.sinks.aio import AiohttpTransport, ReusedConnectionDropped
from triage.sinks.backend import BackendSink
from triage.sinks.base import Effect
from triage.tls import client_context

TOKEN = "token-for-the-test-0123456789"
ALERT = Alert(
    source="generic",
    status=Status.FIRING,
    title="Orders API errors",
    team="orders",
    priority=Priority.HIGH,
    description="5xx at 20%",
    occurred_at=datetime(2026, 12, 7, 3, tzinfo=UTC),
    identity={"dedup_key": "orders-5xx"},
)
TICKET = Ticket(
    title="Orders API errors", priority=Priority.HIGH, description="5xx at 20%", steps=()
)

#: What one request's handler does with it: answer (return bytes) or drop the connection
#: unanswered (return None).
Handler = Callable[[int, int, bytes], bytes | None]


def _created(n: int) -> bytes:
    body = json.dumps({"id": f"T-{n}"}).encode()
    return (
        b"HTTP/1.1 201 Created\r\nContent-Type: application/json\r\n"
        b"Content-Length: %d\r\n\r\n" % len(body) + body
    )


@asynccontextmanager
async def _server(handler: Handler) -> AsyncIterator[tuple[str, list[bytes]]]:
    """A loopback HTTP/1.1 server that records each request's bytes as they came and asks
    `handler(connection number, request number on that connection, request)` what to do."""
    seen: list[bytes] = []
    connections = 0

    async def serve(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        nonlocal connections
        connections += 1
        number, on_it = connections, 0
        try:
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                length = next(
                    int(line.split(b":", 1)[1])
                    for line in head.split(b"\r\n")
                    if line.lower().startswith(b"content-length:")
                )
                request = head + await reader.readexactly(length)
                seen.append(request)
                on_it += 1
                answer = handler(number, on_it, request)
                if answer is None:
                    return  # dropped, unanswered
                writer.write(answer)
                await writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError):
            return
        finally:
            writer.close()

    server = await asyncio.start_server(serve, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    async with server:
        yield f"http://127.0.0.1:{port}", seen


def _opening(key: str) -> Effect:
    return Effect(EffectKind.OPEN, ALERT.fingerprint, view(ALERT), TICKET, None, 1, 1, False, key)


async def _creates(url: str, keys: list[str], monkeypatch: pytest.MonkeyPatch) -> list[str]:
    monkeypatch.setenv("BACKEND_TOKEN", TOKEN)
    settings = Settings(backend_base_url=url)
    sink = BackendSink(settings, BackendToken(settings))
    try:
        return [str((await sink.apply(_opening(key))).ref) for key in keys]
    finally:
        await sink.aclose()


def _expected_create(port: str, key: str) -> bytes:
    """A create as the backend sink put it on the wire before this change, byte for byte."""
    body = (
        '{"title":"Orders API errors","priority":"high","description":"5xx at 20%",'
        '"steps":[],"fingerprint":"' + ALERT.fingerprint + '","source":"generic",'
        '"status":"firing","team":"orders","runbook_url":null,"links":{}}'
    ).encode()
    head = (
        "POST /api/service/tickets HTTP/1.1\r\n"
        f"Host: 127.0.0.1:{port}\r\n"
        "Accept: */*\r\n"
        "Accept-Encoding: gzip, deflate\r\n"
        "Connection: keep-alive\r\n"
        f"User-Agent: python-httpx2/{httpx2.__version__}\r\n"
        f"Authorization: Bearer {TOKEN}\r\n"
        f"Idempotency-Key: {key}\r\n"
        f"Content-Length: {len(body)}\r\n"
        "Content-Type: application/json\r\n\r\n"
    ).encode()
    return head + body


async def test_creates_put_the_same_bytes_on_the_wire(monkeypatch: pytest.MonkeyPatch) -> None:
    """Two creates on one keep-alive connection are, byte for byte, the requests the sink sent
    before the transport stopped tracing its connections."""
    async with _server(lambda _c, n, _r: _created(n)) as (url, seen):
        refs = await _creates(url, ["fp:1", "fp:2"], monkeypatch)
    port = url.rsplit(":", 1)[1]
    assert refs == ["T-1", "T-2"]
    assert seen == [_expected_create(port, "fp:1"), _expected_create(port, "fp:2")]


async def test_a_create_dropped_on_a_new_connection_is_not_sent_again(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A create whose new connection closed unanswered is an outage of the backend (sent once,
    failed): only a drop on a pooled connection, which may be its idle timeout, is resent."""
    async with _server(lambda _c, _n, _r: None) as (url, seen):
        with pytest.raises(Exception, match="backend unreachable") as raised:
            await _creates(url, ["fp:1"], monkeypatch)
    assert len(seen) == 1
    assert type(raised.value).__name__ == "SinkUnavailableError"


async def test_a_create_dropped_on_a_pooled_connection_is_sent_again_on_a_new_one(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The first connection answers once and drops the next request (its keep-alive ran out):
    that request goes again at once, on a second connection, and its ticket is made."""

    def handler(connection: int, n: int, _request: bytes) -> bytes | None:
        return None if connection == 1 and n == 2 else _created(connection * 10 + n)

    async with _server(handler) as (url, seen):
        refs = await _creates(url, ["fp:1", "fp:2"], monkeypatch)
    assert refs == ["T-11", "T-21"]
    assert [r.split(b"Idempotency-Key: ")[1][:4] for r in seen] == [b"fp:1", b"fp:2", b"fp:2"]


async def _transport_calls(
    handler: Handler, calls: Callable[[httpx2.AsyncClient, str], Awaitable[None]]
) -> None:
    transport = AiohttpTransport(client_context())
    async with (
        _server(handler) as (url, _seen),
        httpx2.AsyncClient(transport=transport) as client,
    ):
        await calls(client, url)


async def test_the_transport_tells_a_pooled_drop_from_a_new_one_on_each_request() -> None:
    """Per request, not per client: after a drop on a pooled connection, a request on a new
    connection that drops too is a plain ReadError, and one on a pooled connection again is
    `ReusedConnectionDropped` (the mark of an earlier request does not carry over)."""

    def handler(connection: int, n: int, _request: bytes) -> bytes | None:
        # Connection 1: answers, then drops. Connection 2: drops its first request.
        # Connection 3: answers, then drops.
        if (connection, n) in {(1, 1), (3, 1)}:
            return _created(n)
        return None

    outcomes: list[str] = []

    async def calls(client: httpx2.AsyncClient, url: str) -> None:
        for _ in range(5):
            try:
                await client.post(url + "/t", content=b"{}")
                outcomes.append("answered")
            except ReusedConnectionDropped:
                outcomes.append("pooled drop")
            except httpx2.ReadError:
                outcomes.append("new drop")

    await _transport_calls(handler, calls)
    assert outcomes == ["answered", "pooled drop", "new drop", "answered", "pooled drop"]


CONTENT_TYPES = [
    None,
    "application/json",
    "application/json; charset=utf-8",
    "application/json; charset=UTF-8",
    'application/json; charset="iso-8859-1"',
    "text/plain; charset=latin-1",
    "application/json; charset=zlib",
    "application/json; charset=utf-16",
    "application/json; charset=no-such-codec",
    "application/json; charset=",
    "application/json;charset=windows-1252;q=1",
    "text/html; CHARSET=koi8-r",
]
BODIES = [b'{"id": "T-1", "n": "\xc3\xa9"}', b"\xef\xbb\xbf{}", b"\xff\xfe{\x00}\x00", b"caf\xe9"]


async def _answers_to(wire: bytes, times: int) -> list[httpx2.Response]:
    """What the transport makes of `wire`, answered to each of `times` requests."""
    got: list[httpx2.Response] = []

    async def calls(client: httpx2.AsyncClient, url: str) -> None:
        got.extend([await client.post(url + "/t", content=b"{}") for _ in range(times)])

    await _transport_calls(lambda _c, _n, _r: wire, calls)
    return got


@pytest.mark.parametrize("content_type", CONTENT_TYPES)
async def test_an_answers_text_reads_as_before(content_type: str | None) -> None:
    """The transport's answer has the charset, encoding and text that httpx2's own response
    of the same headers and body has once `readable_text` has read it, for each Content-Type,
    asked twice (the second answer read from what the first remembered)."""
    for body in BODIES:
        headers = [] if content_type is None else [("Content-Type", content_type)]
        head = b"HTTP/1.1 200 OK\r\n" + b"".join(
            f"{name}: {value}\r\n".encode() for name, value in headers
        )
        wire = head + b"Content-Length: %d\r\n\r\n" % len(body) + body
        reference = httpx2.Response(200, headers=headers, content=body)
        readable_text(reference)
        for answer in await _answers_to(wire, 2):
            assert answer.charset_encoding == reference.charset_encoding
            assert answer.encoding == reference.encoding
            assert answer.text == reference.text
