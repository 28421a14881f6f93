"""The endpoint port cannot starve the daemon: the bounded HTTP server behind /healthz, /readyz
and /metrics, tested with raw sockets in process, and `python -m triage run` under attack."""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import resource
import signal
import socket
import time
from collections import Counter
from collections.abc import AsyncIterator, Callable, MutableMapping, Sequence
from pathlib import Path
from typing import Any

import pytest
import structlog

from daemon_harness import Daemon, Queues, settings_for
from triage.demo.ticketd import TicketServer
from triage.health import Health
from triage.metrics import Metrics
from triage.ops.endpoints import EndpointServer
from triage.ops.http_server import HttpServer, Limits, Request, Response
from triage.settings import Settings

HEALTHZ = b"GET /healthz HTTP/1.1\r\nHost: t\r\n\r\n"
#: The answer to a connection past the cap: JSON, as every other answer on the port.
BUSY = b'{"error": "busy"}\n'


@contextlib.asynccontextmanager
async def running(
    limits: Limits = Limits(),  # noqa: B008 - frozen
    health: Health | None = None,
    server: HttpServer | None = None,
) -> AsyncIterator[HttpServer]:
    server = server or EndpointServer(health or Health(), Metrics(), "127.0.0.1", 0, limits)
    await server.start()
    try:
        yield server
    finally:
        await server.aclose()


@contextlib.asynccontextmanager
async def connection(
    port: int,
) -> AsyncIterator[tuple[asyncio.StreamReader, asyncio.StreamWriter]]:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    try:
        yield reader, writer
    finally:
        writer.transport.abort()


async def ask(
    port: int, request: bytes, timeout_s: float = 10.0
) -> tuple[int, dict[str, str], bytes]:
    """Send `request` raw and read the answer to the end: (status, headers, body)."""
    async with connection(port) as (reader, writer), asyncio.timeout(timeout_s):
        writer.write(request)
        await writer.drain()
        raw = await reader.read()
    head, _, body = raw.partition(b"\r\n\r\n")
    status_line, *lines = head.decode("latin-1").split("\r\n")
    headers = {k.lower(): v.strip() for k, _, v in (line.partition(":") for line in lines)}
    return int(status_line.split()[1]), headers, body


async def wait_until(condition: Callable[[], bool], timeout_s: float = 5.0) -> None:
    """Poll `condition` until it holds; fail after `timeout_s` (a bound, not a speed claim)."""
    async with asyncio.timeout(timeout_s):
        while not condition():
            await asyncio.sleep(0.01)


def refusals(logs: Sequence[MutableMapping[str, Any]]) -> list[MutableMapping[str, Any]]:
    return [e for e in logs if e["event"] == "http.refused"]


# --- The deadline and the connection cap ------------------------------------------------------


async def test_trickling_client_is_cut_at_the_deadline() -> None:
    """A client sending a whole header line every 50 ms is cut at the overall deadline, though
    no single read ever waits long; the cut is logged once."""
    with structlog.testing.capture_logs() as logs:
        async with running(Limits(deadline_s=0.5)) as server:
            # Before connecting: the server's deadline starts when it accepts the connection.
            started = time.monotonic()
            async with connection(server.port) as (r, w):
                w.write(b"GET /healthz HTTP/1.1\r\n")
                lines_sent = 0
                async with asyncio.timeout(10):  # a hang guard, far above the deadline
                    while not r.at_eof():
                        with contextlib.suppress(OSError):
                            w.write(b"X: 1\r\n")
                            lines_sent += 1
                        try:
                            async with asyncio.timeout(0.05):
                                assert await r.read() == b""  # cut: no answer, just the close
                        except TimeoutError:
                            continue
                        except ConnectionResetError:
                            break  # cut with our header lines unread: a reset is the close
                assert time.monotonic() - started >= 0.5
                assert lines_sent > 2
    assert [e["reason"] for e in refusals(logs)] == ["deadline"]


async def test_connections_beyond_the_cap_are_refused_until_slots_free() -> None:
    """With every slot held by an idle client, the next one gets 503 without being read, and is
    counted; once the holders leave, an honest /healthz is answered 200."""
    metrics = Metrics()
    server = EndpointServer(
        Health(), metrics, "127.0.0.1", 0, Limits(max_connections=4, loopback_reserve=0)
    )
    async with running(server=server), contextlib.AsyncExitStack() as holders:
        for _ in range(4):
            await holders.enter_async_context(connection(server.port))
        await wait_until(lambda: server.connections == 4)
        # Sending nothing: the refusal closes without reading, and data left unread would turn
        # the close into a reset that can overtake the 503.
        status, headers, body = await ask(server.port, b"")
        assert (status, body, headers["retry-after"]) == (503, BUSY, "1")
        assert metrics.counter("HttpRefused", reason="busy") == 1
        await holders.aclose()
        await wait_until(lambda: server.connections == 0)
        status, _, body = await ask(server.port, HEALTHZ)
    assert status == 200
    assert json.loads(body)["alive"] is True


# --- Bounded parsing ------------------------------------------------------------------------


async def test_overlong_request_line_gets_414_and_is_not_echoed() -> None:
    """A 100 KB request line is answered 414 (no traceback), logged without its text, and the
    server goes on answering."""
    with structlog.testing.capture_logs() as logs:
        async with running() as server:
            status, _, _ = await ask(server.port, b"GET /" + b"a" * 100_000 + b" HTTP/1.1\r\n\r\n")
            assert status == 414
            assert (await ask(server.port, HEALTHZ))[0] == 200
    [refused] = refusals(logs)
    assert refused["reason"] == "uri_too_long"
    assert "aaaaaaaa" not in repr(logs)


@pytest.mark.parametrize(
    "headers",
    [
        pytest.param(b"X-Long: " + b"v" * 9000 + b"\r\n", id="one-line-over-8KiB"),
        pytest.param(b"".join(b"X-%d: v\r\n" % n for n in range(129)), id="129-headers"),
        pytest.param(b"".join(b"X-%d: " % n + b"v" * 6000 + b"\r\n" for n in range(11)), id="66KB"),
    ],
)
async def test_oversized_headers_get_431(headers: bytes) -> None:
    """Headers over 8 KiB in one line, over 128 in number or over 64 KiB in all get 431."""
    async with running() as server:
        status, _, _ = await ask(server.port, b"GET /healthz HTTP/1.1\r\n" + headers + b"\r\n")
    assert status == 431


@pytest.mark.parametrize(
    "request_bytes",
    [
        b"GARBAGE\r\n\r\n",
        b"GET /healthz\r\n\r\n",
        b"GET healthz HTTP/1.1\r\n\r\n",
        b"GET /a b HTTP/1.1\r\n\r\n",
        b"GET /\x01\x1b[31m HTTP/1.1\r\n\r\n",
        b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03\r\n\r\n",
        b"GET /healthz HTTP/2.0\r\n\r\n",
        b"GET /healthz HTTP/1.1\r\nno colon\r\n\r\n",
        b"GET /healthz HTTP/1.1\r\n folded: x\r\n\r\n",
        b"GET /healthz HTTP/1.1\r\nX: a\x00b\r\n\r\n",
        b"GET /healthz HTTP/1.1\r\nHost: t\r\nContent-Length: 1x\r\n\r\n",
        b"GET /healthz HTTP/1.1\r\nHost: t\r\nContent-Length: \xb2\r\n\r\n",
        b"GET /healthz HTTP/1.1\r\nHost: t\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\nab",
    ],
)
async def test_malformed_requests_get_400_with_a_clean_excerpt(request_bytes: bytes) -> None:
    """A malformed request line or header is answered 400 (another HTTP version: 505, as the
    gateway answers it); the log shows at most a short excerpt of printable ASCII."""
    with structlog.testing.capture_logs() as logs:
        async with running() as server:
            status, _, _ = await ask(server.port, request_bytes)
    assert status == (505 if b"HTTP/2.0" in request_bytes else 400)
    [refused] = refusals(logs)
    excerpt = refused.get("excerpt", "")
    assert len(excerpt) <= 51 and all(" " <= ch <= "~" for ch in excerpt)


@pytest.mark.parametrize(
    ("request_bytes", "status"),
    [
        (b"POST /healthz HTTP/1.1\r\nHost: t\r\nContent-Length: 70000\r\n\r\n", 413),
        (b"POST /healthz HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n", 501),
        (b"GET /healthz HTTP/1.1\r\nHost: t\r\nContent-Length: 70000\r\n\r\n", 400),
        (b"GET /healthz HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n", 400),
        (b"POST /healthz HTTP/1.1\r\nHost: t\r\nContent-Length: 2\r\n\r\n{}", 405),
        (b"DELETE /readyz HTTP/1.1\r\nHost: t\r\n\r\n", 405),
        (b"GET /nope?x=1 HTTP/1.1\r\nHost: t\r\n\r\n", 404),
        (b"GET /healthz?verbose=1 HTTP/1.0\r\nContent-Length: 3\r\n\r\nabc", 400),
        (b"GET /healthz?verbose=1 HTTP/1.0\r\nContent-Length: 0\r\n\r\n", 200),
    ],
)
async def test_status_codes(request_bytes: bytes, status: int) -> None:
    """Bodies over 64 KiB get 413, chunked bodies 501, other methods 405, unknown paths 404, a
    GET with a body 400 (as on the gateway); a query string does not stop an answer."""
    async with running() as server:
        assert (await ask(server.port, request_bytes))[0] == status


async def test_head_and_allow() -> None:
    """HEAD answers like GET without a body; a 405 names the allowed methods."""
    async with running() as server:
        status, headers, body = await ask(server.port, b"HEAD /metrics HTTP/1.1\r\nHost: t\r\n\r\n")
        assert (status, body) == (200, b"")
        assert int(headers["content-length"]) > 0
        status, headers, _ = await ask(server.port, b"PUT /metrics HTTP/1.1\r\nHost: t\r\n\r\n")
    assert (status, headers["allow"]) == (405, "GET, HEAD")


async def test_handler_failure_is_a_500_and_one_line() -> None:
    """A handler that raises is answered 500 and logged once at error level; the next request is
    served."""

    async def broken(request: Request) -> Response:
        raise RuntimeError("bug")

    async def fine(request: Request) -> Response:
        return Response.text(200, "ok\n")

    routes = {"/broken": {"GET": broken}, "/fine": {"GET": fine}}
    with structlog.testing.capture_logs() as logs:
        async with running(server=HttpServer(routes, Metrics(), "127.0.0.1", 0)) as server:
            assert (await ask(server.port, b"GET /broken HTTP/1.1\r\nHost: t\r\n\r\n"))[0] == 500
            assert (await ask(server.port, b"GET /fine HTTP/1.1\r\nHost: t\r\n\r\n"))[0] == 200
    [refused] = refusals(logs)
    assert (refused["reason"], refused["log_level"]) == ("internal_error", "error")


async def test_request_value_carries_what_an_api_needs() -> None:
    """A route receives method, path, query, lower-cased headers (Authorization) and the body."""
    seen: list[Request] = []

    async def record(request: Request) -> Response:
        seen.append(request)
        return Response.json(201, {"n": len(request.body)})

    server = HttpServer({"/api/items": {"POST": record}}, Metrics(), "127.0.0.1", 0)
    async with running(server=server):
        status, headers, body = await ask(
            server.port,
            b"POST /api/items?dry=1 HTTP/1.1\r\nHost: t\r\nAuthorization: Bearer t0k\r\n"
            b'Content-Type: application/json\r\nContent-Length: 11\r\n\r\n{"a": [1]}\n',
        )
    assert (status, headers["content-type"], json.loads(body)) == (
        201,
        "application/json",
        {"n": 11},
    )
    [request] = seen
    assert (request.method, request.path, request.query) == ("POST", "/api/items", "dry=1")
    assert request.header("AUTHORIZATION") == "Bearer t0k"
    assert request.body == b'{"a": [1]}\n'


# --- /readyz --------------------------------------------------------------------------------


async def test_readyz_names_failing_checks_without_internal_detail() -> None:
    """/readyz names each failing check with a fixed word and never echoes the URL or AWS error
    text the check was set with; the detail stays available to the process."""
    health = Health()
    secret = (
        "receive failed: https://sqs.us-east-1.amazonaws.com/123456789012/alerts "
        "AccessDenied: User arn:aws:iam::123456789012:user/x is not authorized, token=abc"
    )
    health.set("queue", False, detail=secret)
    health.set("breaker:backend", False, "open, retry in 30 s")
    health.set("breaker:github", False, "half-open, probing")
    health.set("breaker:slack", True)
    async with running(health=health) as server:
        status, _, body = await ask(server.port, b"GET /readyz HTTP/1.1\r\nHost: t\r\n\r\n")
    assert status == 503
    assert json.loads(body) == {
        "ready": False,
        "failing": {
            "queue": "unreachable",
            "breaker:backend": "open",
            "breaker:github": "half-open",
        },
    }
    for leak in ("http", "amazonaws", "123456789012", "AccessDenied", "arn:", "token", "retry"):
        assert leak not in body.decode()
    assert health.failing()["queue"] == secret


async def test_readyz_is_ready_with_no_failing_checks() -> None:
    """A ready daemon answers 200 with an empty `failing`."""
    health = Health()
    health.set("queue", True)
    async with running(health=health) as server:
        status, _, body = await ask(server.port, b"GET /readyz HTTP/1.1\r\nHost: t\r\n\r\n")
    assert (status, json.loads(body)) == (200, {"ready": True, "failing": {}})


# --- Refusal logging ------------------------------------------------------------------------


async def test_one_client_address_takes_at_most_its_share_of_the_slots() -> None:
    """Idle connections from one address fill at most `max_per_peer` slots: the next one from
    it is refused (503) while slots are still free for others."""
    limits = Limits(max_connections=10, max_per_peer=3, loopback_reserve=0)
    async with running(limits) as server, contextlib.AsyncExitStack() as holders:
        for _ in range(3):
            await holders.enter_async_context(connection(server.port))
        await wait_until(lambda: server.connections == 3)
        status, _, body = await ask(server.port, b"")
        assert (status, body) == (503, BUSY)


async def test_the_loopback_health_check_is_answered_when_every_slot_is_taken() -> None:
    """With `max_connections` idle connections held, a loopback client still gets one of the
    reserved slots: the container's own health check passes while the port is flooded."""
    limits = Limits(max_connections=2, max_per_peer=100, loopback_reserve=1)
    async with running(limits) as server, contextlib.AsyncExitStack() as holders:
        for _ in range(2):
            await holders.enter_async_context(connection(server.port))
        await wait_until(lambda: server.connections == 2)
        status, _, _ = await ask(server.port, HEALTHZ)
        assert status == 200
        await holders.enter_async_context(connection(server.port))
        await wait_until(lambda: server.connections == 3)
        assert (await ask(server.port, b""))[0] == 503  # the reserve is spent


def test_only_loopback_addresses_get_the_reserve() -> None:
    """127.0.0.0/8 and ::1 are loopback; a LAN address, a public one, or none is not."""
    from triage.ops.http_server import _is_loopback

    assert all(map(_is_loopback, ["127.0.0.1", "127.9.9.9", "::1"]))
    assert not any(map(_is_loopback, ["10.0.0.5", "203.0.113.9", "unknown", ""]))


async def test_refusal_logging_is_bounded_with_a_summary() -> None:
    """Fifty refused clients write three `http.refused` lines and one summary counting the other
    47; the metric counts all fifty."""
    metrics = Metrics()
    limits = Limits(max_connections=1, loopback_reserve=0, log_burst=3, log_window_s=60)
    server = EndpointServer(Health(), metrics, "127.0.0.1", 0, limits)
    with structlog.testing.capture_logs() as logs:
        async with running(server=server), connection(server.port):
            await wait_until(lambda: server.connections == 1)
            for _ in range(50):
                assert (await ask(server.port, b""))[0] == 503
    assert len(refusals(logs)) == 3
    [summary] = [e for e in logs if e["event"] == "http.refused_suppressed"]
    assert (summary["count"], summary["reasons"], summary["peers"]) == (47, {"busy": 47}, 1)
    assert metrics.counter("HttpRefused", reason="busy") == 50


async def test_suppressed_refusals_are_summed_up_when_the_window_ends() -> None:
    """The summary line is written when the window ends, without waiting for another refusal."""
    limits = Limits(max_connections=1, loopback_reserve=0, log_burst=1, log_window_s=0.2)
    with structlog.testing.capture_logs() as logs:
        async with running(limits) as server, connection(server.port):
            await wait_until(lambda: server.connections == 1)
            for _ in range(3):
                await ask(server.port, b"")
            await wait_until(lambda: any(e["event"] == "http.refused_suppressed" for e in logs))
    [summary] = [e for e in logs if e["event"] == "http.refused_suppressed"]
    assert summary["count"] == 2


def test_endpoints_listen_on_loopback_by_default() -> None:
    """Without TRIAGE_HTTP_HOST the endpoints bind 127.0.0.1, not every interface."""
    assert Settings().http_host == "127.0.0.1"


# --- The daemon as a process under attack ---------------------------------------------------

#: The daemon's descriptor limit in the process test: far above what it needs for SQS, the
#: store and the backend, below the attack's connections.
FD_LIMIT = 256
ATTACKERS = 300
ALERTS = 10
#: Held longer than the server's 5 s deadline, so cut clients come back for more.
ATTACK_S = 7.0
HEADER_LINE = b"X: 1\r\n"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


async def _status_of(port: int, request: bytes, timeout_s: float) -> int | None:
    """The status code of the answer to `request`; None when there is none within the time."""
    try:
        async with asyncio.timeout(timeout_s), connection(port) as (reader, writer):
            writer.write(request)
            await writer.drain()
            parts = (await reader.readline()).split()
    except (OSError, TimeoutError):
        return None
    return int(parts[1]) if len(parts) >= 2 and parts[1].isdigit() else None


async def _answers(port: int, request: bytes, status: int, timeout_s: float) -> bool:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if await _status_of(port, request, timeout_s=2) == status:
            return True
        await asyncio.sleep(0.2)
    return False


async def _holds(condition: Callable[[], bool], timeout_s: float) -> bool:
    with contextlib.suppress(TimeoutError):
        await wait_until(condition, timeout_s)
        return True
    return False


async def _trickler(port: int, stop: asyncio.Event, outcomes: Counter[str]) -> None:
    """Send header lines one byte every half second and hold on; whole lines arrive every few
    seconds, so only a deadline on the whole request ends it. Come back a second after a cut."""
    while not stop.is_set():
        try:
            async with connection(port) as (reader, writer):
                outcomes["connected"] += 1
                writer.write(b"GET /healthz HTTP/1.1\r\n")
                for n in itertools.count():
                    if stop.is_set():
                        break
                    writer.write(HEADER_LINE[n % len(HEADER_LINE) :][:1])
                    await writer.drain()
                    with contextlib.suppress(TimeoutError):
                        async with asyncio.timeout(0.5):
                            await reader.read(1024)
                            outcomes["ended_by_server"] += 1
                            break
        except OSError:
            outcomes["ended_by_server"] += 1
        # A second before coming back, unless the attack is over (then at once).
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(1):
                await stop.wait()


async def test_attack_on_the_endpoint_port_does_not_stop_tickets(
    queues: Queues, backend: TicketServer, tmp_path: Path
) -> None:
    """With 256 descriptors and 300 connections trickling headers at its endpoint port, plus a
    100 KB request line, the daemon still turns ten alerts into exactly ten tickets, sends none
    to the DLQ, answers the 414 and then /healthz, and writes under 200 KB of stderr without a
    traceback."""
    port = _free_port()
    settings = settings_for(
        queues, backend.url, tmp_path / "t.db", http_port=port, http_host="127.0.0.1"
    )
    daemon = Daemon(settings, log_dir=tmp_path)
    resource.prlimit(daemon.process.pid, resource.RLIMIT_NOFILE, (FD_LIMIT, FD_LIMIT))
    stop = asyncio.Event()
    outcomes: Counter[str] = Counter()
    attackers: list[asyncio.Task[None]] = []
    try:
        assert await _answers(port, HEALTHZ, 200, timeout_s=20), daemon.log
        long_line = await _status_of(
            port, b"GET /" + b"a" * 100_000 + b" HTTP/1.1\r\n\r\n", timeout_s=5
        )
        attackers = [asyncio.create_task(_trickler(port, stop, outcomes)) for _ in range(ATTACKERS)]
        attack_ends = time.monotonic() + ATTACK_S
        await _holds(lambda: outcomes["connected"] >= ATTACKERS, timeout_s=10)
        alerts = [
            {
                "title": f"job {n} failed",
                "source": "cron",
                "status": "firing",
                "dedup_key": f"job-{n}",
            }
            for n in range(ALERTS)
        ]
        await asyncio.to_thread(queues.send, *alerts)
        all_tickets = await _holds(lambda: len(backend.tickets) >= ALERTS, timeout_s=12)
        await asyncio.sleep(max(0.0, attack_ends - time.monotonic()))
        stop.set()
        await asyncio.gather(*attackers)
        healthy_after = await _answers(port, HEALTHZ, 200, timeout_s=10)
        queue_empty = await _holds(lambda: queues.depth() == 0, timeout_s=5)
    finally:
        stop.set()
        for task in attackers:
            task.cancel()
        await asyncio.gather(*attackers, return_exceptions=True)
        daemon.signal(signal.SIGTERM)
        with contextlib.suppress(Exception):
            daemon.wait(timeout=30)
        daemon.kill()
    log = daemon.log
    tickets = Counter(t["body"]["fingerprint"] for t in backend.tickets)
    evidence = f"attack: {dict(outcomes)}; stderr {len(log)} bytes, starting:\n{log[:3000]}"
    assert all_tickets, evidence
    assert len(tickets) == ALERTS and set(tickets.values()) == {1}, evidence
    assert queue_empty, evidence
    assert queues.dead_letters() == [], evidence
    assert healthy_after, evidence
    assert long_line == 414, evidence
    assert len(log) < 200_000, evidence
    assert "Traceback" not in log, evidence
    assert outcomes["ended_by_server"] > 0, evidence  # the deadline and the cap did their work


async def test_an_answer_larger_than_the_socket_buffer_ends_without_an_error(
    caplog: pytest.LogCaptureFixture,
) -> None:
    """A 4 MB answer (a long incident list) is sent whole and its connection closed quietly:
    no asyncio error from aborting a transport that had already gone."""

    async def big(request: Request) -> Response:
        return Response(200, b"x" * 4_000_000)

    server = EndpointServer(
        Health(), Metrics(), "127.0.0.1", 0, extra_routes={"/big": {"GET": big}}
    )
    async with running(server=server):
        status, _, body = await ask(server.port, b"GET /big HTTP/1.1\r\nHost: t\r\n\r\n")
    assert (status, len(body)) == (200, 4_000_000)
    assert not [r for r in caplog.records if r.levelname in ("ERROR", "CRITICAL")]
