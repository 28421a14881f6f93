"""The sinks' and the model client's HTTP transport (sinks/aio.py) against a loopback server
that misbehaves: an answer dripped a byte at a time is cut off by a bound on the whole request,
and an answer too large to be a real one, on the wire or once decoded, is refused before it
fills the memory."""

from __future__ import annotations

import asyncio
import gzip
import json
import zlib
from collections.abc import AsyncIterator, Awaitable, Callable

import httpx2
import pytest

from hostile_server import answer, hostile
from triage.sinks.aio import MAX_BODY_BYTES, AiohttpTransport, AnswerUndecodable
from triage.tls import client_context

Writer = Callable[[asyncio.StreamWriter], Awaitable[None]]


async def _serve(answer: Writer) -> AsyncIterator[str]:
    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.readuntil(b"\r\n\r\n")
        try:
            await answer(writer)
        except (ConnectionError, asyncio.CancelledError):
            pass
        finally:
            writer.close()

    server = await asyncio.start_server(handle, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    async with server:
        yield f"http://127.0.0.1:{port}/"


@pytest.fixture
async def dripping() -> AsyncIterator[str]:
    async def drip(writer: asyncio.StreamWriter) -> None:
        writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: 200\r\n\r\n")
        for _ in range(200):  # 20 s in all, a byte well inside the read timeout each time
            writer.write(b"x")
            await writer.drain()
            await asyncio.sleep(0.1)

    async for url in _serve(drip):
        yield url


@pytest.fixture
async def huge() -> AsyncIterator[str]:
    async def flood(writer: asyncio.StreamWriter) -> None:
        size = MAX_BODY_BYTES + 1024 * 1024
        writer.write(f"HTTP/1.1 200 OK\r\nContent-Length: {size}\r\n\r\n".encode())
        chunk = b"x" * (1024 * 1024)
        for _ in range(size // len(chunk)):
            writer.write(chunk)
            await writer.drain()

    async for url in _serve(flood):
        yield url


def _gzipped(body: bytes) -> Writer:
    async def answer(writer: asyncio.StreamWriter) -> None:
        packed = gzip.compress(body, compresslevel=9)
        writer.write(
            b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Encoding: gzip\r\n"
            + f"Content-Length: {len(packed)}\r\n\r\n".encode()
            + packed
        )
        await writer.drain()

    return answer


@pytest.fixture
async def bomb() -> AsyncIterator[str]:
    """17 MiB of JSON-ish zeros that gzip packs into ~17 KiB."""
    async for url in _serve(_gzipped(b"0" * (MAX_BODY_BYTES + 1024 * 1024))):
        yield url


@pytest.fixture
async def gzipped_json() -> AsyncIterator[str]:
    async for url in _serve(_gzipped(json.dumps({"id": 7, "ok": True}).encode())):
        yield url


async def test_a_compressed_answer_that_inflates_past_the_limit_is_refused(bomb: str) -> None:
    """The limit counts the decoded answer: ~17 KiB of gzip that inflate to 17 MiB are a
    ReadError, not 17 MiB (or, for a real bomb, gigabytes) in memory."""
    transport = AiohttpTransport(client_context())
    async with httpx2.AsyncClient(transport=transport, timeout=30) as client:
        with pytest.raises(httpx2.ReadError, match="over"):
            await client.get(bomb)


async def test_a_compressed_answer_is_read_decoded_once(gzipped_json: str) -> None:
    """A gzip answer reaches the caller decoded, with no Content-Encoding left to decode again."""
    transport = AiohttpTransport(client_context())
    async with httpx2.AsyncClient(transport=transport, timeout=30) as client:
        answer = await client.get(gzipped_json)
    assert answer.json() == {"id": 7, "ok": True}
    assert "content-encoding" not in answer.headers


async def test_an_answer_dripped_past_the_whole_requests_bound_times_out(dripping: str) -> None:
    """Each byte arrives inside the 0.5 s read timeout, so only the bound on the whole request
    (twice the read timeout plus the connect timeout) ends the call: a TimeoutException, not
    an answer 20 s later."""
    transport = AiohttpTransport(client_context())
    async with httpx2.AsyncClient(transport=transport, timeout=0.5) as client:
        with pytest.raises(httpx2.TimeoutException):
            await client.get(dripping)


async def test_an_answer_over_the_size_limit_is_refused(huge: str) -> None:
    """An answer larger than any real one (17 MiB) is a ReadError, not a 17 MiB bytes object."""
    transport = AiohttpTransport(client_context())
    async with httpx2.AsyncClient(transport=transport, timeout=30) as client:
        with pytest.raises(httpx2.ReadError, match="over"):
            await client.get(huge)


@pytest.mark.parametrize("value", ["Bearer a\r\nX-Injected: 1", "Bearer a\nb", "Bearer a\x00"])
async def test_a_header_that_cannot_go_on_the_wire_is_a_transport_error(value: str) -> None:
    """A header value aiohttp refuses to send (a line break would inject a header) is httpx2's
    LocalProtocolError, a TransportError every sink handles, not a ValueError that escapes
    them; nothing reaches the server."""
    transport = AiohttpTransport(client_context())
    async with (
        hostile(answer(200)) as server,
        httpx2.AsyncClient(transport=transport, timeout=30) as client,
    ):
        with pytest.raises(httpx2.LocalProtocolError):
            await client.get(server.url, headers={"Authorization": value})
        assert server.requests == []


#: A body in each coding the transport decodes (what httpx2 asks for), and as a server may
#: send it: deflate zlib-wrapped (RFC 9110) or raw (as some servers do), in any case.
def _deflated(body: bytes, wbits: int) -> bytes:
    packer = zlib.compressobj(wbits=wbits)
    return packer.compress(body) + packer.flush()


CODED = {
    "gzip": ("gzip", gzip.compress),
    "x-gzip": ("x-gzip", gzip.compress),
    "GZip": ("GZip", gzip.compress),
    "deflate": ("deflate", lambda body: _deflated(body, zlib.MAX_WBITS)),
    "raw-deflate": ("deflate", lambda body: _deflated(body, -zlib.MAX_WBITS)),
    "identity-then-gzip": ("identity, gzip", gzip.compress),
}


@pytest.mark.parametrize("case", list(CODED))
async def test_each_coding_asked_for_is_read_decoded(case: str) -> None:
    """A body in gzip or deflate (zlib-wrapped or raw), however its name is written, reaches
    the caller decoded, its status and headers with it."""
    coding, pack = CODED[case]
    body = json.dumps({"id": 7, "text": "x" * 70_000}).encode()
    headers = {"Content-Type": "application/json", "Content-Encoding": coding}
    async with hostile(answer(201, headers, pack(body))) as server:
        transport = AiohttpTransport(client_context())
        async with httpx2.AsyncClient(transport=transport, timeout=30) as client:
            got = await client.get(server.url)
    assert (got.status_code, got.content) == (201, body)


@pytest.mark.parametrize("coding", ["br", "zstd", "compress", "gzip, br", "x-unknown"])
async def test_a_coding_not_decoded_keeps_the_answers_status(coding: str) -> None:
    """An answer in a coding the transport does not decode is an AnswerUndecodable that
    carries its status and headers (aiohttp refused the whole answer as a network failure),
    its body never read as it came."""
    headers = {"Content-Encoding": coding, "Retry-After": "3"}
    async with hostile(answer(503, headers, b"\x1b\x00\xff")) as server:
        transport = AiohttpTransport(client_context())
        async with httpx2.AsyncClient(transport=transport, timeout=30) as client:
            with pytest.raises(AnswerUndecodable) as raised:
                await client.get(server.url)
    assert raised.value.status_code == 503
    assert raised.value.headers is not None and raised.value.headers["Retry-After"] == "3"


@pytest.mark.parametrize("name", ["zlib", "base64", "utf-16", "utf-32", "idna", "rot13"])
async def test_the_text_of_an_answer_in_a_charset_no_text_is_in_reads_as_utf8(name: str) -> None:
    """An answer naming a charset Python cannot read any bytes in has its text read as UTF-8
    (httpx2 raised TypeError, UnicodeError or AssertionError on it); UTF-8's own charset is
    left as it is."""
    headers = {"Content-Type": f"text/plain; charset={name}"}
    async with hostile(answer(502, headers, "bad gateway é".encode())) as server:
        transport = AiohttpTransport(client_context())
        async with httpx2.AsyncClient(transport=transport, timeout=30) as client:
            got = await client.get(server.url)
    assert got.text == "bad gateway é"
