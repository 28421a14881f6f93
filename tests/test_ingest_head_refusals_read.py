"""A request head the gateway refuses before it is whole (over 64 KiB: 431; trickled past the
idle timeout: 408; closed at the connection bound for a new connection: 408) is answered, and
the sender, still sending its head, reads that answer rather than a reset: the gateway drops what
still arrives for at most a second before it closes, as it does for a connection refused at the
bound."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

import pytest

from daemon_harness import Queues
from ingest_harness import ingest_settings, running
from test_ingest_connections import connect, healthz, opened, until
from triage.ingest import IngestService, connections, server

#: What a sender still sending its head sends after the gateway answered: far less than the
#: kernel's buffers take, so sending it never waits for the gateway to read.
MORE = b"X-Still-Sending: " + b"a" * 1000 + b"\r\n"
START = b"POST /v1/alerts/generic HTTP/1.1\r\nHost: x\r\n"


async def _answered_while_sending(
    reader: asyncio.StreamReader, writer: asyncio.StreamWriter, answered: Callable[[], bool]
) -> bytes:
    """Once the gateway has `answered()` (unread by us), send MORE several times as a sender
    still writing its head does, end our side, then read all the gateway sent. A connection
    closed with those bytes unread is reset, and the reset loses the answer."""
    await until(answered, "the gateway never answered")
    # The answer has reached our side (StreamReader says so only through its buffer).
    await until(lambda: bool(reader._buffer), "the answer never arrived")
    for _ in range(16):
        writer.write(MORE)
        await writer.drain()
    writer.write_eof()
    return await asyncio.wait_for(reader.read(), 10)


def _answers(service: IngestService, status: int) -> Callable[[], bool]:
    return lambda: (
        service.metrics.counter("IngestRequests", source="unknown", status=str(status)) > 0
    )


async def test_a_head_over_64_kib_is_431_read_by_a_sender_still_sending(queues: Queues) -> None:
    """A head refused for its size while its sender goes on sending it: the sender reads the
    431 and then the end of the stream, not a reset."""
    async with running(ingest_settings(queues.url, queues.endpoint)) as service:
        reader, writer = await asyncio.open_connection("127.0.0.1", service.port)
        writer.write(START + MORE * (server.MAX_HEAD_BYTES // len(MORE) + 2))
        received = await _answered_while_sending(reader, writer, _answers(service, 431))
        writer.close()
    assert received.startswith(b"HTTP/1.1 431 "), received[:60]
    assert received.endswith(b'{"error": "bad request: request head over 65536 bytes"}')


async def test_a_head_trickled_past_the_idle_timeout_is_408_read_by_a_sender_still_sending(
    queues: Queues,
) -> None:
    """A head still arriving at the idle timeout is answered 408, and its sender, still
    sending, reads it rather than a reset."""
    settings = ingest_settings(queues.url, queues.endpoint, ingest_idle_timeout_s=0.3)
    async with running(settings) as service:
        reader, writer = await asyncio.open_connection("127.0.0.1", service.port)
        writer.write(START)
        received = await _answered_while_sending(reader, writer, _answers(service, 408))
        writer.close()
    assert received.startswith(b"HTTP/1.1 408 "), received[:60]
    assert received.endswith(b'{"error": "request head not received in time"}')


async def test_a_slow_head_closed_for_a_new_connection_is_408_read_by_its_sender(
    queues: Queues, monkeypatch: pytest.MonkeyPatch
) -> None:
    """At the connection bound, the head arriving longest is answered 408 for a new
    connection; its sender, still sending, reads the 408 rather than a reset, and the new
    connection is served."""
    monkeypatch.setattr(connections, "SLOW_HEAD_S", 0.0)
    settings = ingest_settings(queues.url, queues.endpoint, ingest_max_connections=1)
    async with running(settings) as service:
        ((reader, writer),) = await connect(service, 1)
        writer.write(START)
        await until(lambda: opened(service).head_bytes > 0, "the head never arrived")
        fresh = await asyncio.open_connection("127.0.0.1", service.port)
        received = await _answered_while_sending(reader, writer, _answers(service, 408))
        assert await healthz(fresh) == 200
        writer.close()
        fresh[1].close()
    assert received.startswith(b"HTTP/1.1 408 "), received[:60]
    assert received.endswith(b'{"error": "request head not received in time"}')
