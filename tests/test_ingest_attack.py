"""`triage ingest` red-teamed on raw sockets: request framings a proxy in front may read
otherwise than the gateway, request targets aiohttp cannot read or quotes back, credentials
padded to pass, senders holding slots or heads by trickling what is not yet authenticated, and
an IPv6 sender taking a share per address. Each is answered with a clear status and one line,
and nothing of it is queued."""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import AsyncIterator

import pytest
from structlog.testing import capture_logs

from daemon_harness import Queues
from ingest_harness import TOKENS, ingest_settings, loopback_client, payload, running
from test_ingest_connections import close_all, closed_by_gateway, connect, healthz, opened, until
from test_ingest_hostile import (
    _stall_sentry,
    exchange,
    read_answer,
    received,
    wait_logged,
)
from triage.ingest import IngestService, connections, framing
from triage.ingest.bad_http import NOT_IMPLEMENTED

GENERIC = payload("generic/firing.json")
BEARER = f"Authorization: Bearer {TOKENS['generic']}\r\n"


@pytest.fixture
async def gateway(queues: Queues) -> AsyncIterator[IngestService]:
    """The gateway on a free port, with the harness's tokens, in front of moto's `alerts` queue."""
    async with running(ingest_settings(queues.url, queues.endpoint)) as service:
        yield service


def chunked(body: bytes) -> bytes:
    return b"%x\r\n%s\r\n0\r\n\r\n" % (len(body), body)


# --- Framing ------------------------------------------------------------------------------------


@pytest.mark.parametrize("version", ["HTTP/2.0", "HTTP/0.9"])
async def test_a_request_line_of_another_http_version_is_505_and_not_queued(
    gateway: IngestService, queues: Queues, version: str
) -> None:
    """A request line naming HTTP/2.0 or HTTP/0.9 (which the parser takes, framed as HTTP/1.1)
    is answered 505 in HTTP/1.x with one line, never handled and queued as if it were 1.1."""
    request = f"POST /v1/alerts/generic {version}\r\nHost: x\r\n{BEARER}"
    request += f"Content-Length: {len(GENERIC)}\r\n\r\n"
    reader, writer = await asyncio.open_connection("127.0.0.1", gateway.port)
    with capture_logs() as logs:
        writer.write(request.encode() + GENERIC)
        answer = await read_answer(reader)
        assert answer.status == 505
        assert await closed_by_gateway(reader)
        (line,) = await wait_logged(logs, "ingest.bad_http")
    writer.close()
    assert answer.json() == {"error": "HTTP version not supported (send HTTP/1.1)"}
    assert line["status"] == 505
    assert received(queues) == []
    assert gateway.metrics.counter("IngestRequests", source="unknown", status="505") == 1


async def test_an_http_1_0_request_with_transfer_encoding_is_400_and_not_queued(
    gateway: IngestService, queues: Queues
) -> None:
    """An HTTP/1.0 request with Transfer-Encoding (whose framing RFC 9112 says to treat as
    faulty: a proxy reading it as 1.0 frames its body by the end of the stream) is 400 with
    one line and the connection closed, not de-chunked and queued."""
    head = f"POST /v1/alerts/generic HTTP/1.0\r\n{BEARER}Transfer-Encoding: chunked\r\n\r\n"
    reader, writer = await asyncio.open_connection("127.0.0.1", gateway.port)
    with capture_logs() as logs:
        writer.write(head.encode() + chunked(GENERIC))
        answer = await read_answer(reader)
        assert answer.status == 400
        assert await closed_by_gateway(reader)
        (line,) = await wait_logged(logs, "ingest.bad_http")
    writer.close()
    assert answer.json() == {"error": "bad request: Transfer-Encoding in an HTTP/1.0 request"}
    assert line["status"] == 400
    assert received(queues) == []


# --- Credentials --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "padding",
    ["\u00a0", "\u3000", "\u2028", "\u0085"],
    ids=["nbsp", "ideographic-space", "line-separator", "next-line"],
)
@pytest.mark.parametrize("header", ["Authorization: Bearer ", "X-Grafana-Token: "])
async def test_a_token_padded_with_unicode_space_is_401(
    gateway: IngestService, queues: Queues, header: str, padding: str
) -> None:
    """A token with a Unicode space before or after it (Python's `str.strip` removes those, HTTP
    does not: only spaces and tabs surround a header value) is refused like any other."""
    for credential in (TOKENS["generic"] + padding, padding + TOKENS["generic"]):
        request = f"POST /v1/alerts/generic HTTP/1.1\r\nHost: x\r\n{header}{credential}\r\n"
        request += f"Content-Length: {len(GENERIC)}\r\n\r\n"
        answer = await exchange(gateway.port, request.encode() + GENERIC)
        assert answer.status == 401, (header, credential)
    assert received(queues) == []


# --- Slow heads at the connection bound ---------------------------------------------------------


@pytest.fixture
async def bounded(queues: Queues, monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[IngestService]:
    """The gateway keeping at most 3 connections open, any head arriving counted slow (the
    order of their arrival still decides which goes first)."""
    monkeypatch.setattr(connections, "SLOW_HEAD_S", 0.0)
    settings = ingest_settings(queues.url, queues.endpoint, ingest_max_connections=3)
    async with running(settings) as service:
        yield service


async def test_at_the_bound_the_head_arriving_longest_is_closed_408_for_a_new_connection(
    bounded: IngestService,
) -> None:
    """With every slot held by a connection trickling its request head (slowloris), a new
    connection is served once the oldest head has been arriving SLOW_HEAD_S: that one is
    answered 408 and closed (the others kept), one bounded line says so, the metric counts
    it, and the episode's closing line counts it as slow_closed."""
    held = await connect(bounded, 3)
    for _, writer in held:
        writer.write(b"POST /v1/alerts/generic HTTP/1.1\r\nHost: x\r\n")  # never finished
    heads = opened(bounded)
    await until(lambda: heads.head_bytes > 0 and len(opened(bounded)._unproven) == 3, "no heads")
    (oldest_reader, oldest_writer), *younger = held
    oldest_writer.write(b"X-Trickle: 1\r\n")  # bytes keep coming: still one slow head
    with capture_logs() as logs:
        fresh = await asyncio.open_connection("127.0.0.1", bounded.port)
        assert await healthz(fresh) == 200
        answer = await read_answer(oldest_reader)
        assert answer.status == 408
        assert answer.json() == {"error": "request head not received in time"}
        assert await closed_by_gateway(oldest_reader)
        (line,) = await wait_logged(logs, "ingest.bad_http")
        assert opened(bounded).count == 3
        close_all([*younger, (oldest_reader, oldest_writer), fresh])
        await until(lambda: opened(bounded).count == 0, "the connections never closed")
    assert line["status"] == 408
    (ok,) = [e for e in logs if e["event"] == "ingest.connections_ok"]
    assert (ok["refused"], ok["idle_closed"], ok["slow_closed"]) == (0, 0, 1)
    assert bounded.metrics.counter("IngestRequests", source="unknown", status="408") == 1
    assert heads.head_bytes == 0


async def test_at_the_bound_a_head_younger_than_slow_head_s_is_kept(
    bounded: IngestService, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A head that has been arriving for less than SLOW_HEAD_S is an honest client's on a slow
    link: at the bound the new connection is refused 503 instead, and the head, once whole, is
    answered."""
    monkeypatch.setattr(connections, "SLOW_HEAD_S", 60.0)
    held = await connect(bounded, 3)
    for _, writer in held:
        writer.write(b"GET /healthz HTTP/1.1\r\n")
    await until(lambda: len(opened(bounded)._unproven) == 3, "the heads never arrived")
    reader, writer = await asyncio.open_connection("127.0.0.1", bounded.port)
    assert (await read_answer(reader)).status == 503
    writer.close()
    for connection_reader, connection_writer in held:
        connection_writer.write(b"Host: x\r\n\r\n")
        assert (await read_answer(connection_reader)).status == 200
    close_all(held)


async def test_at_the_bound_an_unauthenticated_body_arriving_longest_is_408_for_a_new_one(
    bounded: IngestService, queues: Queues
) -> None:
    """Sentry's bodies are read before their signature can be checked: with every slot held by
    one trickling such a body, a new connection is served and the body arriving longest is
    answered 408 and closed (one ingest.refused line), nothing queued."""
    signature = "0" * 64
    held = await connect(bounded, 3)
    for _, writer in held:
        writer.write(
            f"POST /v1/alerts/sentry HTTP/1.1\r\nHost: x\r\nSentry-Hook-Signature: {signature}\r\n"
            "Content-Length: 100000\r\n\r\n{".encode()
        )
    await until(lambda: len(opened(bounded)._unproven) == 3, "the bodies were never read")
    (oldest_reader, _), *_ = held
    with capture_logs() as logs:
        fresh = await asyncio.open_connection("127.0.0.1", bounded.port)
        assert await healthz(fresh) == 200
        answer = await read_answer(oldest_reader)
        assert answer.status == 408
        assert answer.json()["error"] == "body not received in time"
        assert await closed_by_gateway(oldest_reader)
        (line,) = await wait_logged(logs, "ingest.refused")
    assert (line["status"], line["reason"], line["source"]) == (408, "slow_body", "sentry")
    assert not any(e["log_level"] == "error" for e in logs)
    close_all([*held, fresh])
    await until(lambda: opened(bounded).count == 0, "the connections never closed")
    assert received(queues) == []


def healthz_head(pad_bytes: int) -> bytes:
    """A `GET /healthz` head with about `pad_bytes` of 4,000-byte headers (each under the
    parser's 8,190-byte line limit), without the blank line that ends it."""
    pads = b"".join(b"X-Pad-%d: %s\r\n" % (i, b"a" * 4000) for i in range(pad_bytes // 4000))
    return b"GET /healthz HTTP/1.1\r\nHost: x\r\n" + pads


async def test_past_the_heads_budget_the_slowest_head_goes_not_the_newest(
    bounded: IngestService, monkeypatch: pytest.MonkeyPatch
) -> None:
    """When unfinished heads together pass MAX_HEADS_BYTES, one arriving for over SLOW_HEAD_S
    (a sender holding a large head open) is answered 408 and closed to make room, and the head
    that took them past the budget is served, not refused 503."""
    monkeypatch.setattr(connections, "MAX_HEADS_BYTES", 100_000)
    (slow_reader, slow_writer), (reader, writer) = await connect(bounded, 2)
    slow_writer.write(healthz_head(60_000))
    heads = opened(bounded)
    await until(lambda: heads.head_bytes >= 60_000, "the slow head never arrived")
    writer.write(healthz_head(50_000))
    await until(lambda: heads.head_bytes < 60_000, "no head was let go")
    writer.write(b"\r\n")
    assert (await read_answer(reader)).status == 200
    answer = await read_answer(slow_reader)
    assert answer.status == 408
    assert await closed_by_gateway(slow_reader)
    close_all([(slow_reader, slow_writer), (reader, writer)])


@pytest.mark.parametrize(
    "behind",
    [
        f"POST /v1/alerts/generic HTTP/2.0\r\nHost: x\r\n{BEARER}Content-Length: 2\r\n\r\n{{}}",
        "POST /v1/alerts/generic HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
    ],
    ids=["http-2.0", "http-1.0-chunked"],
)
@pytest.mark.parametrize("upgrade", [False, True], ids=["plain", "after-upgrade"])
async def test_a_faulty_request_pipelined_behind_a_good_one_is_answered_too(
    gateway: IngestService, queues: Queues, behind: str, upgrade: bool
) -> None:
    """A request of faulty framing pipelined behind a good one (also behind one asking to
    Upgrade, whose followers are parsed once it is answered) gets its own 505 or 400 after
    the good one's answer, with one line, instead of a silent close."""
    first = "GET /healthz HTTP/1.1\r\nHost: x\r\n"
    first += "Connection: Upgrade\r\nUpgrade: websocket\r\n\r\n" if upgrade else "\r\n"
    reader, writer = await asyncio.open_connection("127.0.0.1", gateway.port)
    with capture_logs() as logs:
        writer.write((first + behind).encode())
        assert (await read_answer(reader)).status == 200
        second = await read_answer(reader)
        assert second.status in (400, 505)
        assert await closed_by_gateway(reader)
        (line,) = await wait_logged(logs, "ingest.bad_http")
    writer.close()
    assert line["status"] == second.status
    assert received(queues) == []


async def test_a_request_pipelined_after_a_declined_upgrade_is_not_left_hanging(
    gateway: IngestService, queues: Queues
) -> None:
    """The parser drops what comes in the same read after a request asking for an Upgrade the
    gateway does not take (h2c, as `curl --http2` asks): that request is answered with
    `Connection: close` and the connection closed at once, so a request pipelined behind it is
    known unanswered, not left waiting for the idle timeout; only the first is queued."""
    first = f"POST /v1/alerts/generic HTTP/1.1\r\nHost: x\r\n{BEARER}"
    first += "Connection: Upgrade, HTTP2-Settings\r\nUpgrade: h2c\r\nHTTP2-Settings: AAMAAABkAAQAAP__\r\n"
    first += f"Content-Length: {len(GENERIC)}\r\n\r\n"
    behind = f"POST /v1/alerts/generic HTTP/1.1\r\nHost: x\r\n{BEARER}"
    behind += f"Content-Length: {len(GENERIC)}\r\n\r\n"
    reader, writer = await asyncio.open_connection("127.0.0.1", gateway.port)
    writer.write(first.encode() + GENERIC + behind.encode() + GENERIC)
    answer = await read_answer(reader)
    assert answer.status == 202
    assert answer.headers["connection"] == "close"
    assert await closed_by_gateway(reader)
    writer.close()
    assert len(received(queues)) == 1


@pytest.mark.parametrize(
    ("start", "status", "error"),
    [
        (
            "POST http://xn--/v1/alerts/generic HTTP/1.1",
            400,
            "bad request: request target not readable",
        ),
        ("CONNECT xn--:443 HTTP/1.1", 501, NOT_IMPLEMENTED),
    ],
    ids=["absolute-form", "authority-form"],
)
async def test_a_request_target_whose_host_is_not_a_name_is_400_not_left_open(
    gateway: IngestService, queues: Queues, start: str, status: int, error: str
) -> None:
    """A request target whose host cannot be decoded (`xn--`: not IDNA) made aiohttp raise
    outside every handler, leaving the connection open, unanswered and holding its slot for
    good: it is answered 400 with one line and closed, and its slot freed (CONNECT's, 501
    before its target is read: the gateway tunnels nothing)."""
    request = f"{start}\r\nHost: x\r\n{BEARER}Content-Length: {len(GENERIC)}\r\n\r\n"
    reader, writer = await asyncio.open_connection("127.0.0.1", gateway.port)
    with capture_logs() as logs:
        writer.write(request.encode() + GENERIC)
        answer = await read_answer(reader)
        assert answer.status == status
        assert await closed_by_gateway(reader)
        (line,) = await wait_logged(logs, "ingest.bad_http")
    writer.close()
    assert answer.json() == {"error": error}
    assert line["status"] == status
    await until(lambda: opened(gateway).count == 0, "its slot was never freed")
    assert received(queues) == []


async def test_a_connection_whose_handling_fails_outside_a_handler_is_closed_with_a_line(
    gateway: IngestService, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Whatever else fails outside every handler (here: the same unreadable target with the
    gateway's check of it off), the connection is closed and its slot freed, with one
    ingest.error line, instead of held open and unanswered for good."""
    monkeypatch.setattr(framing, "target_readable", lambda url: True)
    request = f"POST http://xn--/v1/alerts/generic HTTP/1.1\r\nHost: x\r\n{BEARER}\r\n"
    reader, writer = await asyncio.open_connection("127.0.0.1", gateway.port)
    with capture_logs() as logs:
        writer.write(request.encode())
        assert await closed_by_gateway(reader)
        await until(lambda: opened(gateway).count == 0, "its slot was never freed")
    writer.close()
    (line,) = [e for e in logs if e["event"] == "ingest.error"]
    assert (line["where"], line["error"]) == ("connection", "UnicodeError")


@pytest.mark.parametrize(
    "target",
    ["*sess-Zq81secret", "sessZqsecret://x:99999/v1/alerts/generic", "sess-Zq81secret:99999"],
    ids=["asterisk", "absolute-bad-port", "authority-form"],
)
async def test_an_unreadable_request_target_is_never_quoted_back_or_logged(
    gateway: IngestService, target: str
) -> None:
    """The parser's error for a request target it cannot read is the target itself (a path
    with a session id, a scheme that is a secret): the 400 and its ingest.bad_http line say
    the target was not readable, and hold no byte of it (a CONNECT's is 501 for its method,
    which the gateway does not take, as on the operators' port)."""
    method = "CONNECT" if target.endswith(":99999") else "POST"
    request = f"{method} {target} HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\n"
    with capture_logs() as logs:
        answer = await exchange(gateway.port, request.encode())
        (line,) = await wait_logged(logs, "ingest.bad_http")
    if method == "CONNECT":
        assert answer.status == 501
        assert answer.json() == {"error": NOT_IMPLEMENTED}
        assert line["reason"] == "a method the gateway does not take"
    else:
        assert answer.status == 400
        assert answer.json() == {"error": "bad request: invalid request target"}
        assert line["reason"] == "invalid request target"
    assert "Zq" not in repr(logs)


# --- Whose share ------------------------------------------------------------------------------


@pytest.fixture
async def proxied(queues: Queues) -> AsyncIterator[IngestService]:
    """The gateway behind one trusted proxy (TRIAGE_INGEST_TRUSTED_PROXY_HOPS=1, an ALB)."""
    settings = ingest_settings(queues.url, queues.endpoint, ingest_trusted_proxy_hops=1)
    async with running(settings) as service:
        yield service


@pytest.mark.parametrize(
    ("holder", "same", "other"),
    [
        ("2001:db8:1:2::1", "2001:db8:1:2:ffff::9", "2001:db8:1:3::1"),
        ("203.0.113.1", "::ffff:203.0.113.1", "203.0.113.2"),
    ],
    ids=["ipv6-prefix", "ipv4-mapped"],
)
async def test_a_sender_cannot_take_more_shares_by_changing_its_ipv6_address(
    proxied: IngestService, holder: str, same: str, other: str
) -> None:
    """A sender's share of the budget for bodies read before they can be authenticated is
    keyed on its IPv6 /64 (what one host is given: it picks any address in it at will) and on
    the IPv4 address an IPv4-mapped IPv6 one spells, so another address of its own is the same
    sender (503), while another network gets its own share."""
    gateway = proxied.gateway
    assert gateway is not None
    gateway.limits = dataclasses.replace(gateway.limits, unauthenticated_per_peer_bytes=100_000)
    stalled = await _stall_sentry(proxied.port, holder)
    await until(lambda: gateway.bodies.unauthenticated_bytes >= 80_000, "the body was never read")
    signed = {"Sentry-Hook-Signature": "0" * 64}
    async with loopback_client(proxied.port) as client:
        again = await client.post(
            "/v1/alerts/sentry", content=b" " * 60_000, headers={**signed, "X-Forwarded-For": same}
        )
        elsewhere = await client.post(
            "/v1/alerts/sentry", content=b" " * 60_000, headers={**signed, "X-Forwarded-For": other}
        )
    stalled.close()
    assert again.status_code == 503
    assert elsewhere.status_code == 401  # read whole, its own share: then its signature is wrong
