"""The transport (sinks/aio.py) against a loopback keep-alive server: an answer that has arrived
whole with its head is handed over as it came (status, headers in their order and case, body),
its connection goes back to the pool for the next request, and an answer over the size limit is
still refused when the caller reads it, however it arrived."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field

import httpx2
import pytest

from triage.sinks.aio import AiohttpTransport, AnswerTooLarge
from triage.tls import client_context


@dataclass
class KeepAlive:
    """A server that answers every request on a connection with `answer`, and counts
    the connections it was asked on."""

    answer: bytes
    url: str = ""
    connections: int = 0
    heads: list[bytes] = field(default_factory=list)


async def _read_request(reader: asyncio.StreamReader) -> bytes:
    head = await reader.readuntil(b"\r\n\r\n")
    for line in head.split(b"\r\n"):
        if line.lower().startswith(b"content-length:"):
            await reader.readexactly(int(line.split(b":", 1)[1]))
    return head


@asynccontextmanager
async def keep_alive(answer: bytes) -> AsyncIterator[KeepAlive]:
    server_state = KeepAlive(answer)

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        server_state.connections += 1
        try:
            while True:
                server_state.heads.append(await _read_request(reader))
                writer.write(server_state.answer)
                await writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        finally:
            writer.close()

    server = await asyncio.start_server(handle, "127.0.0.1", 0)
    server_state.url = f"http://127.0.0.1:{server.sockets[0].getsockname()[1]}/tickets"
    async with server:
        yield server_state


@asynccontextmanager
async def client(max_body_bytes: int | None = None) -> AsyncIterator[httpx2.AsyncClient]:
    transport = (
        AiohttpTransport(client_context())
        if max_body_bytes is None
        else AiohttpTransport(client_context(), max_body_bytes=max_body_bytes)
    )
    async with httpx2.AsyncClient(transport=transport, timeout=10) as c:
        yield c


JSON_ANSWER = (
    b"HTTP/1.1 201 Created\r\nX-Request-Id: req-1\r\nContent-Type: application/json\r\n"
    b'Content-Length: 11\r\nset-cookie: a=b\r\n\r\n{"id":"T1"}'
)


async def test_an_answer_that_arrived_whole_is_handed_over_as_it_came() -> None:
    """Status, headers (names in the case and order sent, Content-Length kept), body and
    JSON are the server's, whether read whole or streamed; two calls share one connection."""
    async with keep_alive(JSON_ANSWER) as server, client() as c:
        first = await c.post(server.url, json={"a": 1})
        async with c.stream("POST", server.url, json={"a": 2}) as second:
            streamed = b"".join([part async for part in second.aiter_bytes()])
    assert first.status_code == 201
    assert first.headers.raw == [
        (b"X-Request-Id", b"req-1"),
        (b"Content-Type", b"application/json"),
        (b"Content-Length", b"11"),
        (b"set-cookie", b"a=b"),
    ]
    assert first.json() == {"id": "T1"}
    assert streamed == b'{"id":"T1"}'
    assert second.headers.raw == first.headers.raw
    assert server.connections == 1
    assert len(server.heads) == 2


async def test_a_chunked_answer_gains_no_length_and_an_empty_one_reads_empty() -> None:
    """A chunked answer that arrived whole keeps its own framing headers (no Content-Length
    is made up for it); a 204 reads as no bytes; each leaves its connection reusable."""
    chunked = (
        b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
        b"5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n"
    )
    async with keep_alive(chunked) as server, client() as c:
        answer = await c.get(server.url)
        again = await c.get(server.url)
    assert answer.content == again.content == b"hello world"
    assert "content-length" not in answer.headers
    assert answer.headers["transfer-encoding"] == "chunked"
    assert server.connections == 1

    async with keep_alive(b"HTTP/1.1 204 No Content\r\n\r\n") as server, client() as c:
        empty = await c.post(server.url, json={})
        assert (await c.post(server.url, json={})).status_code == 204
    assert empty.status_code == 204
    assert empty.content == b""
    assert server.connections == 1


@pytest.mark.parametrize("size", [64, 65])
async def test_an_answer_over_the_limit_is_refused_when_read_even_if_it_is_all_here(
    size: int,
) -> None:
    """With a 64-byte limit, a 64-byte answer is read and a 65-byte one, though all of it
    came with its head, is AnswerTooLarge when the caller reads it (the status and headers
    are still handed over, as the sinks judge such an answer by them)."""
    body = b"x" * size
    head = f"HTTP/1.1 200 OK\r\nContent-Length: {size}\r\n\r\n".encode()
    async with keep_alive(head + body) as server, client(max_body_bytes=64) as c:
        request = c.build_request("POST", server.url, json={})
        response = await c.send(request, stream=True)
        try:
            assert response.status_code == 200
            if size <= 64:
                assert await response.aread() == body
            else:
                with pytest.raises(AnswerTooLarge):
                    await response.aread()
        finally:
            await response.aclose()
