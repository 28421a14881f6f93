"""`triage ingest` when the sender goes away mid-request (its connection reset, or ended): while
its head arrives, while its body arrives, or before its answer is written. Each is one
`ingest.aborted` line (the peer, what was cut, how, and the bytes that came) and one count in
`IngestAborted{cut}`; nothing half-read is queued, and the gateway goes on serving."""

from __future__ import annotations

import asyncio
import json
import socket
import struct
from collections.abc import AsyncIterator, Callable, Iterator, MutableMapping, Sequence
from typing import Any

import pytest
from structlog.testing import capture_logs

from daemon_harness import Queues
from ingest_harness import (
    TOKENS,
    SqsProxy,
    ingest_settings,
    loopback_client,
    running,
)
from triage.ingest import IngestService
from triage.ingest.aborts import CUTS, Abort, Aborts
from triage.ingest.outbox import SqsOutbox
from triage.metrics import Metrics

BEARER = f"Authorization: Bearer {TOKENS['generic']}\r\n"
HEAD = f"POST /v1/alerts/generic HTTP/1.1\r\nHost: x\r\n{BEARER}"


async def until(condition: Callable[[], object], what: str) -> None:
    """Wait (10 s at most) until `condition()` is true."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + 10
    while not condition():
        assert loop.time() < deadline, what
        await asyncio.sleep(0.01)


def aborted(logs: Sequence[MutableMapping[str, Any]]) -> list[MutableMapping[str, Any]]:
    return [e for e in logs if e["event"] == "ingest.aborted"]


def counted(service: IngestService, cut: str) -> float:
    return service.metrics.counters().get(("IngestAborted", (("cut", cut),)), 0.0)


async def end(writer: asyncio.StreamWriter, how: str) -> None:
    """End the connection as a sender that goes away does: a reset (SO_LINGER 0, then close:
    the kernel sends RST) or its end of stream (a plain close: FIN)."""
    if how == "reset":
        sock = writer.get_extra_info("socket")
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        writer.transport.abort()
        return
    writer.close()
    await writer.wait_closed()


def received(queues: Queues) -> list[dict[str, Any]]:
    """Messages now on the queue (left in place: visibility 0)."""
    response = queues.client().receive_message(
        QueueUrl=queues.url, MaxNumberOfMessages=10, VisibilityTimeout=0
    )
    messages: list[dict[str, Any]] = response.get("Messages", [])
    return messages


def head_bytes(service: IngestService) -> int:
    runner = service._runner
    assert runner is not None and runner.connections is not None
    return runner.connections.head_bytes


def senders_gone(service: IngestService) -> list[str]:
    """How the clients of the connections the gateway still handles went, for those gone."""
    runner = service._runner
    assert runner is not None and runner.server is not None
    went = (getattr(c, "sender_went", None) for c in runner.server.connections)
    return [how for how in went if how is not None]


def in_flight(service: IngestService) -> int:
    assert service.gateway is not None
    return service.gateway.in_flight


def body_bytes(service: IngestService) -> int:
    assert service.gateway is not None
    return service.gateway.bodies.reading_bytes


@pytest.mark.parametrize("how", ["reset", "closed"])
async def test_a_head_cut_short_is_one_aborted_line_and_counted(
    gateway: IngestService, how: str
) -> None:
    """A sender that goes away after part of its request head is one ingest.aborted line
    (cut head, how it went, the head's bytes that came, its address), counted once in
    IngestAborted{cut="head"}; the gateway goes on serving."""
    part = HEAD.encode()
    with capture_logs() as logs:
        _, writer = await asyncio.open_connection("127.0.0.1", gateway.port)
        writer.write(part)
        await until(lambda: head_bytes(gateway) == len(part), "the head never arrived")
        await end(writer, how)
        await until(lambda: aborted(logs), "no ingest.aborted line")
    (line,) = aborted(logs)
    assert (line["cut"], line["how"], line["received_bytes"]) == ("head", how, len(part))
    assert line["peer"] == "127.0.0.1"
    assert counted(gateway, "head") == 1
    assert not [e for e in logs if e["event"] in ("ingest.refused", "ingest.bad_http")]
    async with loopback_client(gateway.port) as client:
        assert (await client.get("/healthz")).status_code == 200


BODIES = {
    # (the head's framing, what of the body is sent, its bytes as the reader holds them)
    "length_nothing_sent": ("Content-Length: 100\r\n", b"", 0),
    "length_part_sent": ("Content-Length: 100\r\n", b'{"title": ', 10),
    "chunked_mid_chunk": ("Transfer-Encoding: chunked\r\n", b'a\r\n{"titl', 6),
}


@pytest.mark.parametrize("how", ["reset", "closed"])
@pytest.mark.parametrize("body", list(BODIES))
async def test_a_body_cut_short_is_one_aborted_line_and_nothing_queued(
    gateway: IngestService, queues: Queues, body: str, how: str
) -> None:
    """A sender that goes away after its head and part of its body (none of it; some of a
    Content-Length body; part of a chunk) is one ingest.aborted line, not an ingest.refused
    line as well: cut body, how, the body's bytes that came (and those promised), the
    source, the request's id and its 400 that nobody read; IngestAborted{cut="body"} counts it,
    IngestRequests its 400; nothing is queued."""
    framing, sent, held = BODIES[body]
    with capture_logs() as logs:
        _, writer = await asyncio.open_connection("127.0.0.1", gateway.port)
        writer.write(f"{HEAD}{framing}\r\n".encode() + sent)
        await until(lambda: in_flight(gateway) == 1, "the request never reached its handler")
        await until(lambda: body_bytes(gateway) == held, "the body's start never arrived")
        await end(writer, how)
        await until(lambda: aborted(logs), "no ingest.aborted line")
        await until(lambda: in_flight(gateway) == 0, "the handler never ended")
    (line,) = aborted(logs)
    assert (line["cut"], line["how"], line["received_bytes"]) == ("body", how, held)
    assert line.get("expected_bytes") == (100 if "length" in body else None)
    assert (line["source"], line["status"], line["peer"]) == ("generic", 400, "127.0.0.1")
    assert len(line["request_id"]) == 32
    assert not [e for e in logs if e["event"] == "ingest.refused"]
    assert counted(gateway, "body") == 1
    requests = gateway.metrics.counters()
    assert requests[("IngestRequests", (("source", "generic"), ("status", "400")))] == 1
    assert received(queues) == []
    async with loopback_client(gateway.port) as client:
        assert (await client.get("/healthz")).status_code == 200


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


@pytest.mark.parametrize("how", ["reset"])
async def test_a_sender_gone_before_its_answer_is_one_aborted_line_naming_the_lost_answer(
    held_gateway: IngestService, proxy: SqsProxy, queues: Queues, how: str
) -> None:
    """A sender that sends its whole webhook and goes away (a reset) while SQS takes it: the
    message is queued once (ingest.accepted), and one ingest.aborted line (cut answer, the 202
    it never read, the same request id) tells the operator its sender may send it again;
    IngestAborted{cut="answer"} counts it. (Its end of stream after a whole request is a
    half-close, which is answered: tests/test_ingest_halfclose.py.)"""
    gateway = held_gateway
    outbox = gateway._outbox
    assert isinstance(outbox, SqsOutbox)
    body = json.dumps({"title": "answer lost"}).encode()
    proxy.released.clear()
    with capture_logs() as logs:
        _, writer = await asyncio.open_connection("127.0.0.1", gateway.port)
        writer.write(f"{HEAD}Content-Length: {len(body)}\r\n\r\n".encode() + body)
        await until(lambda: outbox.waiting == 1, "the webhook never reached the outbox")
        await end(writer, how)
        await until(lambda: senders_gone(gateway) == [how], "the gateway never saw it go")
        proxy.released.set()
        await until(lambda: aborted(logs), "no ingest.aborted line")
    (accepted,) = [e for e in logs if e["event"] == "ingest.accepted"]
    (line,) = aborted(logs)
    assert (line["cut"], line["how"], line["status"]) == ("answer", how, 202)
    assert (line["request_id"], line["source"]) == (accepted["request_id"], "generic")
    assert line["received_bytes"] == len(body)
    assert counted(gateway, "answer") == 1
    assert len(received(queues)) == 1


async def test_connections_the_gateway_ends_or_that_end_between_requests_are_no_abort(
    gateway: IngestService,
) -> None:
    """A sender that closes its connection after reading its answer, or after an early
    refusal (401 from the head, its body unsent), went away from nothing: no ingest.aborted
    line, nothing counted."""
    body = json.dumps({"title": "whole"}).encode()
    with capture_logs() as logs:
        for headers in (BEARER, ""):
            reader, writer = await asyncio.open_connection("127.0.0.1", gateway.port)
            request = f"POST /v1/alerts/generic HTTP/1.1\r\nHost: x\r\n{headers}"
            writer.write(f"{request}Content-Length: {len(body)}\r\n\r\n".encode())
            if headers:
                writer.write(body)
            status_line = await asyncio.wait_for(reader.readline(), 10)
            assert status_line.split()[1] in (b"202", b"401")
            await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), 10)
            await end(writer, "closed")
        await until(
            lambda: (
                len([e for e in logs if e["event"] in ("ingest.accepted", "ingest.refused")]) == 2
            ),
            "both requests answered",
        )
        # A request after both ends proves the gateway has handled them.
        async with loopback_client(gateway.port) as client:
            assert (await client.get("/healthz")).status_code == 200
    assert aborted(logs) == []
    assert all(counted(gateway, cut) == 0 for cut in CUTS)


def test_every_cut_is_declared_so_its_first_count_is_seen() -> None:
    """IngestAborted has a series per cut at 0 from the start (Prometheus' increase() would
    miss a series' first event after each restart)."""
    metrics = Metrics()
    Aborts(metrics)
    assert {("IngestAborted", (("cut", cut),)) for cut in CUTS} <= metrics.declared()


def test_aborted_lines_are_bounded_and_the_rest_summed_up() -> None:
    """Anyone can cut requests short: at most `per_second` ingest.aborted lines a second (and
    the first of a cut not yet logged), the rest summed up by cut in one
    ingest.aborted_suppressed line; every one is counted."""
    now = [0.0]
    metrics = Metrics()
    aborts = Aborts(metrics, per_second=3, clock=lambda: now[0])
    with capture_logs() as logs:
        for _ in range(5):
            aborts.record(Abort("head", "reset", "192.0.2.1", 7))
        aborts.record(Abort("body", "closed", "192.0.2.1", 0))
        now[0] = 1.0
        aborts.record(Abort("answer", "reset", "192.0.2.1", 3))
    assert [e["cut"] for e in aborted(logs)] == ["head", "head", "head", "body", "answer"]
    (summary,) = [e for e in logs if e["event"] == "ingest.aborted_suppressed"]
    assert (summary["count"], summary["aborted"]) == (2, {"head": 2})
    counters = metrics.counters()
    assert counters[("IngestAborted", (("cut", "head"),))] == 5
    assert counters[("IngestAborted", (("cut", "body"),))] == 1


async def test_requests_pipelined_behind_one_a_sender_left_are_each_counted_as_aborted(
    held_gateway: IngestService, proxy: SqsProxy, queues: Queues
) -> None:
    """Three webhooks pipelined in one packet whose sender resets while SQS takes the first:
    the first is queued and its lost 202 is one line; the two behind it, whole but never
    handled, are one line each (cut answer, no status: they were never answered) and nothing
    of theirs is queued; IngestAborted{cut="answer"} counts all three."""
    gateway = held_gateway
    outbox = gateway._outbox
    assert isinstance(outbox, SqsOutbox)
    body = json.dumps({"title": "pipelined"}).encode()
    request = f"{HEAD}Content-Length: {len(body)}\r\n\r\n".encode() + body
    proxy.released.clear()
    with capture_logs() as logs:
        _, writer = await asyncio.open_connection("127.0.0.1", gateway.port)
        writer.write(request * 3)
        await until(lambda: outbox.waiting == 1, "the first webhook never reached the outbox")
        await end(writer, "reset")
        await until(lambda: senders_gone(gateway) == ["reset"], "the gateway never saw it go")
        proxy.released.set()
        await until(lambda: len(aborted(logs)) == 3, "not one ingest.aborted line each")
    lines = aborted(logs)
    assert [(e["cut"], e.get("status")) for e in lines] == [
        ("answer", None),
        ("answer", None),
        ("answer", 202),
    ]
    assert all(e["received_bytes"] == len(body) for e in lines)
    assert counted(gateway, "answer") == 3
    assert len(received(queues)) == 1


SIGNED_HEAD = (
    "POST /v1/alerts/sentry HTTP/1.1\r\nHost: x\r\nSentry-Hook-Signature: " + "0" * 64 + "\r\n"
)


@pytest.mark.parametrize("start", [HEAD, SIGNED_HEAD], ids=["token", "signed"])
async def test_a_sender_gone_before_its_100_continue_is_an_abort_not_an_error(
    gateway: IngestService, queues: Queues, start: str
) -> None:
    """Senders that ask `Expect: 100-continue` and reset before the gateway answers it (or as
    it does: its write may meet the reset before the connection's loss is reported) are each
    counted as a body cut short, with no ingest.refused line besides, never an ingest.error (a
    traceback anyone could make without bound) nor a 500."""
    request = f"{start}Expect: 100-continue\r\nContent-Length: 100\r\n\r\n".encode()
    with capture_logs() as logs:
        for _ in range(20):
            _, writer = await asyncio.open_connection("127.0.0.1", gateway.port)
            writer.write(request)
            await writer.drain()
            await end(writer, "reset")
        await until(lambda: counted(gateway, "body") == 20, "not every one counted")
        await until(lambda: in_flight(gateway) == 0, "a handler never ended")
    assert [e for e in logs if e["event"] in ("ingest.error", "ingest.refused")] == []
    counters = gateway.metrics.counters()
    assert not [key for key in counters if ("status", "500") in key[1]]
    assert received(queues) == []


async def test_behind_a_trusted_proxy_the_line_names_the_sender_it_saw(queues: Queues) -> None:
    """Behind a load balancer (TRIAGE_INGEST_TRUSTED_PROXY_HOPS=1) the peer is the balancer:
    a body cut short names, besides, the sender the balancer appended to X-Forwarded-For (as
    the per-sender budgets count it), never an address the sender wrote itself."""
    settings = ingest_settings(queues.url, queues.endpoint, ingest_trusted_proxy_hops=1)
    async with running(settings) as gateway:
        forwarded = "X-Forwarded-For: 203.0.113.9, 198.51.100.7\r\n"
        with capture_logs() as logs:
            _, writer = await asyncio.open_connection("127.0.0.1", gateway.port)
            writer.write(f"{HEAD}{forwarded}Content-Length: 100\r\n\r\n{{".encode())
            await until(lambda: body_bytes(gateway) == 1, "the body's start never arrived")
            await end(writer, "reset")
            await until(lambda: aborted(logs), "no ingest.aborted line")
    (line,) = aborted(logs)
    assert (line["peer"], line["sender"]) == ("127.0.0.1", "198.51.100.7")
