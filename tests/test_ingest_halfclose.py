"""`triage ingest` and a sender that half-closes (ends its write side: `nc -N`, some proxies,
`socket.shutdown(SHUT_WR)`) once its request is whole: HTTP/1.1 allows it, so each whole
request is handled and answered, then the connection closed. A half-close in the middle of a
head or body is still that request cut short (ingest/aborts.py)."""

from __future__ import annotations

import asyncio
import json
import re
from collections.abc import AsyncIterator, Iterator, MutableMapping, Sequence
from typing import Any

import pytest
from structlog.testing import capture_logs

from daemon_harness import Queues
from ingest_harness import TOKENS, SqsProxy, ingest_settings, loopback_client, running
from test_ingest_aborts import aborted, counted, in_flight, received, until
from triage.ingest import IngestService
from triage.ingest.aborts import CUTS
from triage.ingest.outbox import SqsOutbox

BEARER = f"Authorization: Bearer {TOKENS['generic']}\r\n"
HEAD = f"POST /v1/alerts/generic HTTP/1.1\r\nHost: x\r\n{BEARER}"


def webhook(title: str) -> bytes:
    body = json.dumps({"title": title}).encode()
    return f"{HEAD}Content-Length: {len(body)}\r\n\r\n".encode() + body


async def half_closed(port: int, sent: bytes) -> tuple[bytes, asyncio.StreamWriter]:
    """Send `sent`, end the write side (SHUT_WR: a FIN, the socket still reading), and read
    until the gateway closes the connection (10 s at most); what came back."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(sent)
    await writer.drain()
    assert writer.can_write_eof()
    writer.write_eof()
    answer = await asyncio.wait_for(reader.read(), 10)  # until the gateway's end of stream
    return answer, writer


def statuses(answer: bytes) -> list[bytes]:
    """The status of each answer in `answer` (each body ends where the next status line
    begins: answers follow one another without a line between)."""
    return re.findall(rb"HTTP/1\.1 ([0-9]{3}) ", answer)


def events(logs: Sequence[MutableMapping[str, Any]], name: str) -> list[MutableMapping[str, Any]]:
    return [e for e in logs if e["event"] == name]


async def test_a_whole_webhook_then_a_half_close_is_answered_and_queued(
    gateway: IngestService, queues: Queues
) -> None:
    """A webhook sent whole and then the sender's write side ended gets its 202 (it was
    `cut: answer`, never written), then the gateway's end of stream; the alert is queued once
    and no ingest.aborted line says a sender left."""
    with capture_logs() as logs:
        answer, writer = await half_closed(gateway.port, webhook("half-closed"))
        writer.close()
        await until(lambda: in_flight(gateway) == 0, "the handler never ended")
    assert statuses(answer) == [b"202"]
    assert len(events(logs, "ingest.accepted")) == 1
    assert aborted(logs) == []
    assert all(counted(gateway, cut) == 0 for cut in CUTS)
    assert len(received(queues)) == 1


async def test_every_whole_request_pipelined_before_a_half_close_is_answered(
    gateway: IngestService, queues: Queues
) -> None:
    """Two webhooks and a health check pipelined, then a half-close: each is answered in
    order (202, 202, 200) before the gateway closes, none is counted as aborted."""
    sent = webhook("first") + webhook("second") + b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n"
    with capture_logs() as logs:
        answer, writer = await half_closed(gateway.port, sent)
        writer.close()
    assert statuses(answer) == [b"202", b"202", b"200"]
    assert aborted(logs) == []
    assert len(received(queues)) == 2


async def test_a_half_close_in_the_middle_of_a_body_is_still_an_abort(
    gateway: IngestService, queues: Queues
) -> None:
    """A half-close after part of a body leaves that request unfinished: one ingest.aborted
    line (cut body, how closed), nothing queued, and nothing answered for the part sent."""
    with capture_logs() as logs:
        answer, writer = await half_closed(
            gateway.port, f"{HEAD}Content-Length: 100\r\n\r\n".encode() + b'{"title": '
        )
        writer.close()
        await until(lambda: aborted(logs), "no ingest.aborted line")
        await until(lambda: in_flight(gateway) == 0, "the handler never ended")
    (line,) = aborted(logs)
    assert (line["cut"], line["how"]) == ("body", "closed")
    assert statuses(answer) == []
    assert received(queues) == []


async def test_a_half_close_in_the_middle_of_a_head_is_still_an_abort(
    gateway: IngestService,
) -> None:
    """A half-close after part of a head: one ingest.aborted line (cut head, how closed) and
    no answer; the gateway goes on serving."""
    with capture_logs() as logs:
        answer, writer = await half_closed(gateway.port, HEAD.encode())
        writer.close()
        await until(lambda: aborted(logs), "no ingest.aborted line")
    (line,) = aborted(logs)
    assert (line["cut"], line["how"]) == ("head", "closed")
    assert statuses(answer) == []
    async with loopback_client(gateway.port) as client:
        assert (await client.get("/healthz")).status_code == 200


async def test_a_half_close_on_an_idle_connection_closes_it_without_an_abort(
    gateway: IngestService,
) -> None:
    """A sender that half-closes after reading its answer (nothing in hand) is closed at
    once, with no ingest.aborted line."""
    with capture_logs() as logs:
        reader, writer = await asyncio.open_connection("127.0.0.1", gateway.port)
        writer.write(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
        await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), 10)
        writer.write_eof()
        rest = await asyncio.wait_for(reader.read(), 10)
        writer.close()
    assert statuses(rest) == []
    assert aborted(logs) == []


@pytest.fixture
def proxy(moto_url: str) -> Iterator[SqsProxy]:
    with SqsProxy(moto_url) as running_proxy:
        yield running_proxy


@pytest.fixture
async def held_gateway(queues: Queues, proxy: SqsProxy) -> AsyncIterator[IngestService]:
    """The gateway in front of the proxy, which holds sends while told."""
    settings = ingest_settings(proxy.queue_url(queues.url), proxy.url)
    async with running(settings) as service:
        yield service


async def test_a_half_close_while_sqs_takes_the_webhook_still_gets_its_answer(
    held_gateway: IngestService, proxy: SqsProxy, queues: Queues
) -> None:
    """The sender half-closes while its webhook waits for SQS (the handler running): once SQS
    takes it, the 202 is written and the connection closed; no ingest.aborted line."""
    gateway = held_gateway
    outbox = gateway._outbox
    assert isinstance(outbox, SqsOutbox)
    proxy.released.clear()
    with capture_logs() as logs:
        reader, writer = await asyncio.open_connection("127.0.0.1", gateway.port)
        writer.write(webhook("held"))
        await until(lambda: outbox.waiting == 1, "the webhook never reached the outbox")
        writer.write_eof()
        await until(lambda: senders_half_closed(gateway) == 1, "the gateway never saw the FIN")
        proxy.released.set()
        answer = await asyncio.wait_for(reader.read(), 10)
        writer.close()
    assert statuses(answer) == [b"202"]
    assert aborted(logs) == []
    assert len(received(queues)) == 1


def senders_half_closed(service: IngestService) -> int:
    """How many of the gateway's connections have a client that ended its side."""
    runner = service._runner
    assert runner is not None and runner.server is not None
    return sum(bool(getattr(c, "_half_closed", False)) for c in runner.server.connections)
