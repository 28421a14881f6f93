"""A body the gateway stops reading partway (closed at the connection bound before it could be
authenticated: 408; chunks that are mostly framing: 400) is answered, and its sender, still
sending the body, reads that answer rather than a reset: the gateway drops what still arrives
for at most a second before it closes, as it does for a head it refuses."""

from __future__ import annotations

import asyncio

import pytest

from daemon_harness import Queues
from ingest_harness import TOKENS, ingest_settings, running
from test_ingest_connections import connect, healthz, opened, until
from test_ingest_head_refusals_read import _answered_while_sending
from triage.ingest import IngestService, connections


def _answered(service: IngestService, source: str, status: int) -> bool:
    return service.metrics.counter("IngestRequests", source=source, status=str(status)) > 0


async def test_a_body_closed_for_a_new_connection_is_408_read_by_its_sender(
    queues: Queues, monkeypatch: pytest.MonkeyPatch
) -> None:
    """At the connection bound, a signed body still arriving (read before its signature can
    be checked) is answered 408 for a new connection; its sender, still sending the body,
    reads the 408 rather than a reset, and the new connection is served."""
    monkeypatch.setattr(connections, "SLOW_HEAD_S", 0.0)
    settings = ingest_settings(queues.url, queues.endpoint, ingest_max_connections=1)
    async with running(settings) as service:
        ((reader, writer),) = await connect(service, 1)
        head = (
            "POST /v1/alerts/sentry HTTP/1.1\r\nHost: x\r\nContent-Length: 200000\r\n"
            f"Sentry-Hook-Signature: {'0' * 64}\r\n\r\n"
        )
        writer.write(head.encode() + b" " * 1000)
        await until(lambda: service.gateway.bodies.unauthenticated_bytes > 0, "no body read")
        fresh = await asyncio.open_connection("127.0.0.1", service.port)
        received = await _answered_while_sending(
            reader, writer, lambda: _answered(service, "sentry", 408)
        )
        assert await healthz(fresh) == 200
        writer.close()
        fresh[1].close()
        await until(lambda: opened(service).count == 0, "the connections never closed")
    assert received.startswith(b"HTTP/1.1 408 "), received[:60]
    assert b'"error": "body not received in time"' in received


async def test_chunks_mostly_framing_are_400_read_by_a_sender_still_sending(
    queues: Queues,
) -> None:
    """A chunked body refused once its framing outweighs it is answered 400, and its sender,
    still sending chunks, reads the 400 rather than a reset."""
    async with running(ingest_settings(queues.url, queues.endpoint)) as service:
        reader, writer = await asyncio.open_connection("127.0.0.1", service.port)
        head = (
            "POST /v1/alerts/generic HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n"
            f"Authorization: Bearer {TOKENS['generic']}\r\n\r\n"
        )
        writer.write(head.encode())
        loop = asyncio.get_running_loop()
        deadline = loop.time() + 10
        while not _answered(service, "generic", 400) and loop.time() < deadline:
            writer.write(b"1\r\nx\r\n" * 1000)  # chunks keep coming, each read apart
            await writer.drain()
            await asyncio.sleep(0.001)
        received = await _answered_while_sending(
            reader, writer, lambda: _answered(service, "generic", 400)
        )
        writer.close()
    assert received.startswith(b"HTTP/1.1 400 "), received[:60]
    assert b"chunks too small for their framing" in received


async def test_a_bad_chunk_after_the_head_is_400_read_by_a_sender_still_sending(
    queues: Queues,
) -> None:
    """A chunked body the parser refuses partway (a chunk size that is no number) is answered
    400 at once, and its sender, still sending, reads the 400 rather than a reset."""
    async with running(ingest_settings(queues.url, queues.endpoint)) as service:
        reader, writer = await asyncio.open_connection("127.0.0.1", service.port)
        head = (
            "POST /v1/alerts/generic HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n"
            f"Authorization: Bearer {TOKENS['generic']}\r\n\r\n"
        )
        writer.write(head.encode() + b"2\r\n{}\r\n")
        await until(lambda: service.gateway.bodies.reading_bytes > 0, "the body was not read")
        writer.write(b"zz\r\n")
        received = await _answered_while_sending(
            reader, writer, lambda: _answered(service, "generic", 400)
        )
        writer.close()
    assert received.startswith(b"HTTP/1.1 400 "), received[:60]
