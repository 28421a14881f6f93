"""A loopback HTTP/1.1 server on 127.0.0.1 that answers with whatever bytes a test scripts: a
status and then a reset, a body that never ends, a redirect elsewhere. It records each request's
head and body, so a test can prove what reached it (or that nothing did)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field

#: Writes the answer; the connection is closed after it returns (or raises).
Answer = Callable[[asyncio.StreamWriter], Awaitable[None]]


@dataclass
class Request:
    head: bytes
    body: bytes


@dataclass
class HostileServer:
    url: str
    requests: list[Request] = field(default_factory=list)


def answer(status: int, headers: dict[str, str] | None = None, body: bytes = b"") -> Answer:
    """A whole answer, with a Content-Length unless `headers` bring their own framing, and
    `Connection: close` (the connection is closed after it: a client must not reuse it)."""
    fields = dict(headers or {})
    if not {k.lower() for k in fields} & {"content-length", "transfer-encoding"}:
        fields["Content-Length"] = str(len(body))
    fields.setdefault("Connection", "close")

    async def write(writer: asyncio.StreamWriter) -> None:
        lines = "".join(f"{k}: {v}\r\n" for k, v in fields.items())
        writer.write(f"HTTP/1.1 {status} Scripted\r\n{lines}\r\n".encode() + body)
        await writer.drain()

    return write


def then_reset(status: int, promised: int = 1000, sent: bytes = b'{"ok":') -> Answer:
    """A status line and a Content-Length of `promised` bytes, then `sent` and a reset."""

    async def write(writer: asyncio.StreamWriter) -> None:
        head = f"HTTP/1.1 {status} Scripted\r\nContent-Length: {promised}\r\n\r\n"
        writer.write(head.encode() + sent)
        await writer.drain()
        writer.transport.abort()

    return write


def then_drip(status: int, every_s: float = 0.05) -> Answer:
    """A status line, then a body a byte at a time, each well inside any read timeout, for
    longer than any test runs (the client must give up on its own bound)."""

    async def write(writer: asyncio.StreamWriter) -> None:
        writer.write(f"HTTP/1.1 {status} Scripted\r\nContent-Length: 100000\r\n\r\n".encode())
        for _ in range(100_000):
            writer.write(b"x")
            await writer.drain()
            await asyncio.sleep(every_s)

    return write


def endless(status: int = 200, piece: bytes = b"x" * 65536) -> Answer:
    """A status line, then a chunked body that never ends, sent as fast as the client reads
    it (the client must stop at its size bound)."""

    async def write(writer: asyncio.StreamWriter) -> None:
        writer.write(f"HTTP/1.1 {status} Scripted\r\nContent-Type: application/json\r\n".encode())
        writer.write(b"Transfer-Encoding: chunked\r\n\r\n")
        chunk = b"%x\r\n%s\r\n" % (len(piece), piece)
        while True:
            writer.write(chunk)
            await writer.drain()

    return write


@asynccontextmanager
async def hostile(*answers: Answer) -> AsyncIterator[HostileServer]:
    """Serve `answers` in turn, one per request (the last one again once they run out)."""
    queue = list(answers)
    server_state = HostileServer("")
    handlers: set[asyncio.Task[None]] = set()

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        handlers.add(task)
        try:
            head = await reader.readuntil(b"\r\n\r\n")
            length = 0
            for line in head.split(b"\r\n"):
                name, _, value = line.partition(b":")
                if name.strip().lower() == b"content-length":
                    length = int(value)
            body = await reader.readexactly(length) if length else b""
            server_state.requests.append(Request(head, body))
            write = queue.pop(0) if len(queue) > 1 else queue[0]
            await write(writer)
        except (ConnectionError, asyncio.IncompleteReadError, asyncio.CancelledError):
            pass
        finally:
            writer.close()
            handlers.discard(task)

    server = await asyncio.start_server(handle, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    server_state.url = f"http://127.0.0.1:{port}"
    async with server:
        try:
            yield server_state
        finally:
            # A dripping answer outlives the client that gave up on it: end it with the test.
            for task in list(handlers):
                task.cancel()
            await asyncio.gather(*handlers, return_exceptions=True)
