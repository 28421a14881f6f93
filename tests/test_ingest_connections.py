"""`triage ingest` keeps a bounded number of connections open, on real sockets: at the bound
the connection idle longest is closed for a new one; when none is idle, the new one is answered
503 with Retry-After without being read; the episode is one warning and one closing line."""

from __future__ import annotations

import asyncio
import resource
import socket
from collections.abc import AsyncIterator, Callable

import pytest
from structlog.testing import capture_logs

from daemon_harness import Queues
from ingest_harness import bearer, ingest_settings, loopback_client, payload, running
from test_ingest_hostile import read_answer
from triage.ingest import IngestService, connections, server
from triage.ingest.connections import OpenConnections

BOUND = 3
#: A webhook large enough to be still arriving when a refused connection would be closed.
BODY = payload("generic/firing.json") * 50
Connection = tuple[asyncio.StreamReader, asyncio.StreamWriter]


@pytest.fixture
async def gateway(queues: Queues) -> AsyncIterator[IngestService]:
    """The gateway in front of moto, keeping at most BOUND connections open
    (`TRIAGE_INGEST_MAX_CONNECTIONS`)."""
    settings = ingest_settings(queues.url, queues.endpoint, ingest_max_connections=BOUND)
    async with running(settings) as service:
        yield service


def opened(service: IngestService) -> OpenConnections:
    assert service._runner is not None and service._runner.connections is not None
    return service._runner.connections


async def until(condition: Callable[[], bool], what: str) -> None:
    """Wait (10 s at most) until `condition()` is true."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + 10
    while not condition():
        assert loop.time() < deadline, what
        await asyncio.sleep(0.005)


async def connect(service: IngestService, count: int) -> list[Connection]:
    """`count` new connections, once the gateway holds them all (there must be room)."""
    target = opened(service).count + count
    connections = [await asyncio.open_connection("127.0.0.1", service.port) for _ in range(count)]
    await until(lambda: opened(service).count == target, "the gateway never took them")
    return connections


async def closed_by_gateway(reader: asyncio.StreamReader) -> bool:
    """Whether the gateway closed this connection (end of stream within 10 s)."""
    try:
        return await asyncio.wait_for(reader.read(), 10) == b""
    except ConnectionResetError:
        return True


async def healthz(connection: Connection) -> int:
    reader, writer = connection
    writer.write(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
    return (await read_answer(reader)).status


def close_all(connections: list[Connection]) -> None:
    for _, writer in connections:
        writer.close()


async def test_at_the_bound_the_connection_idle_longest_is_closed_for_a_new_one(
    gateway: IngestService,
) -> None:
    """With BOUND connections open and idle, a new one is served and the one idle longest is
    closed (not the oldest: one that was answered since is kept); the episode is one warning
    and, once connections go, one line counting the idle one closed."""
    first, second, third = await connect(gateway, BOUND)
    assert await healthz(first) == 200  # idle again, now the most recently
    with capture_logs() as logs:
        fourth = await asyncio.open_connection("127.0.0.1", gateway.port)
        assert await healthz(fourth) == 200
        assert await closed_by_gateway(second[0])
        assert await healthz(first) == 200 and await healthz(third) == 200
        assert opened(gateway).count == BOUND
        # The slot was taken again at once: the bound was never left.
        assert [e["event"] for e in logs] == ["ingest.connections_full"]
        close_all([first, second, third, fourth])
        await until(lambda: opened(gateway).count == 0, "the connections never closed")
    full, ok = logs
    assert full["max_connections"] == BOUND
    assert (ok["event"], ok["refused"], ok["idle_closed"]) == ("ingest.connections_ok", 0, 1)


async def test_when_none_is_idle_a_new_connection_is_503_unread_and_one_line_says_so(
    gateway: IngestService,
) -> None:
    """With BOUND connections each sending a request head, new connections are answered 503
    with Retry-After, unread, and closed (one sending a request at once reads the 503, not a
    reset); however many, the episode is one warning, each counts as a 503, and once the
    others go a line says how many were refused and new connections are served."""
    busy = await connect(gateway, BOUND)
    for _, writer in busy:
        writer.write(b"POST /v1/alerts/generic HTTP/1.1\r\nHost: x\r\n")  # the head, unfinished
    await until(lambda: opened(gateway).head_bytes >= BOUND * 40, "the heads never arrived")
    with capture_logs() as logs:
        for _ in range(3):
            reader, writer = await asyncio.open_connection("127.0.0.1", gateway.port)
            answer = await read_answer(reader)
            assert answer.status == 503
            assert answer.headers["retry-after"] == "1"
            assert answer.headers["connection"] == "close"
            assert answer.json() == {"error": "too many open connections"}
            assert await closed_by_gateway(reader)
            writer.close()
        # A client that sends its request at once reads the 503, not a reset.
        async with loopback_client(gateway.port) as client:
            sent = await client.post("/v1/alerts/generic", content=BODY, headers=bearer("generic"))
        assert sent.status_code == 503 and sent.headers["retry-after"] == "1"
        assert [e["event"] for e in logs] == ["ingest.connections_full"]
        close_all(busy)
        await until(lambda: opened(gateway).count == 0, "the busy connections never closed")
        (ok,) = [e for e in logs if e["event"] == "ingest.connections_ok"]
    assert (ok["refused"], ok["idle_closed"]) == (4, 0)
    assert gateway.metrics.counter("IngestRequests", source="unknown", status="503") == 4
    (again,) = await connect(gateway, 1)
    assert await healthz(again) == 200
    close_all([again])


async def test_a_client_that_never_reads_its_answers_is_dropped(
    gateway: IngestService, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A client pipelining requests without ever reading the answers (so they fill every
    buffer and the gateway waits to write) is disconnected once an answer has waited
    WRITE_STALL_S, instead of holding its connection past every timeout; one line says why."""
    monkeypatch.setattr(server, "WRITE_STALL_S", 0.3)
    client = socket.socket()
    client.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)  # a slow link: small buffers
    client.setblocking(False)
    await asyncio.get_running_loop().sock_connect(client, ("127.0.0.1", gateway.port))
    _, writer = await asyncio.open_connection(sock=client)
    writer.transport.pause_reading()  # never reads an answer
    await until(lambda: opened(gateway).count == 1, "the gateway never took it")
    (held,) = gateway._runner._server.connections  # type: ignore[union-attr]
    assert held.transport is not None
    held.transport.get_extra_info("socket").setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 4096)
    with capture_logs() as logs:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + 10
        while not held.writing_paused and opened(gateway).count:
            assert loop.time() < deadline, "the answers never filled the buffers"
            writer.write(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n" * 100)
            await asyncio.sleep(0.001)
        await until(lambda: opened(gateway).count == 0, "the connection was never dropped")
    assert [e["event"] for e in logs] == ["ingest.client_not_reading"]
    writer.transport.abort()


async def test_a_keep_alive_connection_idle_past_the_idle_timeout_is_closed(
    queues: Queues,
) -> None:
    """A connection left open after its answer is closed once TRIAGE_INGEST_IDLE_TIMEOUT_S
    passes without a new request, freeing its slot."""
    settings = ingest_settings(queues.url, queues.endpoint, ingest_idle_timeout_s=0.3)
    async with running(settings) as service:
        (connection,) = await connect(service, 1)
        assert await healthz(connection) == 200  # HTTP/1.1: the connection stays open
        assert await closed_by_gateway(connection[0])
        await until(lambda: opened(service).count == 0, "its slot was never freed")
        close_all([connection])


def test_the_bound_leaves_room_under_the_descriptor_limit() -> None:
    """The connection bound is 4,096, or fewer when `ulimit -n` leaves less room beside the
    descriptors kept for everything else (SQS's pool, the endpoint port, …)."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    try:
        resource.setrlimit(resource.RLIMIT_NOFILE, (1024, hard))
        assert connections.connection_limit() == 1024 - connections.FD_RESERVE
        resource.setrlimit(resource.RLIMIT_NOFILE, (min(65535, hard), hard))
        assert connections.connection_limit() == min(
            connections.MAX_CONNECTIONS, min(65535, hard) - connections.FD_RESERVE
        )
    finally:
        resource.setrlimit(resource.RLIMIT_NOFILE, (soft, hard))
