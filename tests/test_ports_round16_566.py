"""Round 16 of the webhook gateway and the operators' port (helper 566): each test fails
before its fix.

- Behind a proxy the operators' port counted every client as the proxy's one address for the
  wrong-token limit: one guesser had every operator answered 429. It now has a setting of its
  own, TRIAGE_HTTP_TRUSTED_PROXY_HOPS (not the gateway's: the ports are separate processes,
  usually behind separate proxies, and a port without one would let a client name any
  address), read as the gateway reads its own (`request_head.forwarded_for`); with it set,
  the port's cap per address (the proxy's, then every client's) is lifted to its total.
- A real sender whose token was not right lately, behind a guesser's address, was answered
  429 with the guesser, and Alertmanager (which retries only 5xx) and SNS dropped its alert.
  The gateway now answers a limited sender 503 with Retry-After, which they retry; to the
  guesser it says the same (nothing compared). The operators' port keeps 429: people and
  scripts, no webhook sender.
- A lowercase method (and any method a port takes on no path) was 400 on the gateway (its
  parser knows only upper-case methods) and 405 or 404 on the operators' port. Both now answer
  501 Not Implemented (RFC 9110 9.1: methods are case-sensitive, `get` is not GET, and a
  method the server implements nowhere is 501); a method taken on another path stays 405.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import AsyncIterator
from pathlib import Path

import httpx2
import pytest
from pydantic import SecretStr

from daemon_harness import Queues
from ingest_harness import bearer, ingest_settings, loopback_client, running
from test_http_endpoints import ask, wait_until
from test_http_endpoints import running as endpoint_server
from test_ingest_gaps import take_queued
from test_pipeline import CountingSummariser
from test_store import LEASE, POLICY
from triage.app import endpoint_limits
from triage.auth_limit import (
    FAILURE_BURST,
    FAILURE_REFILL_S,
    GATEWAY,
    CredentialFailures,
    sender_key,
)
from triage.aws import Aws
from triage.health import Health
from triage.incidents.silences import SilenceCache
from triage.incidents.sqlite import SQLiteStore
from triage.ingest import IngestService
from triage.metrics import Metrics
from triage.ops.api import OperatorView, operator_routes
from triage.ops.endpoints import EndpointServer
from triage.ops.http_server import Limits
from triage.request_head import forwarded_for
from triage.settings import Settings

TOKEN = "round16-op-token-" + "r" * 20
BEARER = {"Authorization": f"Bearer {TOKEN}"}
WRONG = {"Authorization": "Bearer guess-" + "g" * 30}
ALERT = b'{"title": "disk full", "dedup_key": "round16"}'


class MovedClock:
    """A monotonic clock the test moves."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
async def store(tmp_path: Path) -> AsyncIterator[SQLiteStore]:
    s = SQLiteStore(str(tmp_path / "t.db"), POLICY, LEASE, POLICY.reopen_window * 24)
    await s.open()
    yield s
    await s.aclose()


@contextlib.asynccontextmanager
async def operators_port(store: SQLiteStore, **settings: object) -> AsyncIterator[int]:
    """The daemon's port with the API on, on 127.0.0.1: its port number."""
    config = Settings(api_token=SecretStr(TOKEN), **settings)  # type: ignore[arg-type]
    aws = Aws(config)
    view = OperatorView(
        config, store, SilenceCache(store), [], CountingSummariser(), Health(), aws, Metrics()
    )
    server = EndpointServer(Health(), Metrics(), "127.0.0.1", 0, extra_routes=operator_routes(view))
    await server.start()
    try:
        yield server.port
    finally:
        await server.aclose()
        await aws.aclose()


async def _gets(client: httpx2.AsyncClient, count: int, headers: dict[str, str]) -> list[int]:
    return [
        (await client.get("/api/v1/incidents", headers=headers)).status_code for _ in range(count)
    ]


# --- The operators' port behind a proxy --------------------------------------------------------


async def test_behind_the_trusted_proxy_each_forwarded_operator_is_counted_apart(
    store: SQLiteStore,
) -> None:
    """With TRIAGE_HTTP_TRUSTED_PROXY_HOPS=1 (every connection from the proxy), a guesser's
    wrong tokens limit the X-Forwarded-For entry the proxy appended, not the proxy: another
    operator behind it, never proven, is served, and the guesser stays limited whatever
    address it writes before the proxy's entry."""
    async with (
        operators_port(store, http_trusted_proxy_hops=1) as port,
        httpx2.AsyncClient(base_url=f"http://127.0.0.1:{port}") as client,
    ):
        guesser = {**WRONG, "X-Forwarded-For": "203.0.113.9"}
        wrong = await _gets(client, FAILURE_BURST + 1, guesser)
        other = await client.get(
            "/api/v1/incidents", headers={**BEARER, "X-Forwarded-For": "198.51.100.4"}
        )
        spoofed = await client.get(
            "/api/v1/incidents", headers={**WRONG, "X-Forwarded-For": "192.0.2.1, 203.0.113.9"}
        )
    assert wrong == [401] * FAILURE_BURST + [429]
    assert other.status_code == 200, other.text
    assert spoofed.status_code == 429


async def test_without_the_setting_x_forwarded_for_names_no_one(store: SQLiteStore) -> None:
    """Without TRIAGE_HTTP_TRUSTED_PROXY_HOPS a client cannot walk around its limit by writing
    a new X-Forwarded-For each time: the connection's peer is counted."""
    async with (
        operators_port(store) as port,
        httpx2.AsyncClient(base_url=f"http://127.0.0.1:{port}") as client,
    ):
        statuses = [
            (
                await client.get(
                    "/api/v1/incidents", headers={**WRONG, "X-Forwarded-For": f"192.0.2.{i}"}
                )
            ).status_code
            for i in range(FAILURE_BURST + 1)
        ]
    assert statuses == [401] * FAILURE_BURST + [429]


@pytest.mark.parametrize(
    ("values", "hops", "entry"),
    [
        (["203.0.113.1"], 1, "203.0.113.1"),
        (["192.0.2.9, 203.0.113.1"], 1, "203.0.113.1"),
        (["192.0.2.9", "203.0.113.1"], 1, "203.0.113.1"),  # two headers are one list
        (["192.0.2.9, 203.0.113.1, 10.0.0.2"], 2, "203.0.113.1"),
        (["203.0.113.1"], 2, None),  # came past a proxy: the peer counts
        ([], 1, None),
        (["192.0.2.9, "], 1, None),
        (["203.0.113.1"], 0, None),
    ],
)
def test_the_trusted_entry_of_x_forwarded_for(
    values: list[str], hops: int, entry: str | None
) -> None:
    """The entry `hops` from the end is the one the nearest trusted proxy appended; too few
    entries, or an empty one, name no sender."""
    assert forwarded_for(values, hops) == entry


@pytest.mark.parametrize(
    ("written", "key"),
    [("203.0.113.1:40001", "203.0.113.1"), ("[2001:db8:1:2::7]:443", "2001:db8:1:2::/64")],
)
def test_a_forwarded_address_with_its_port_is_its_address_on_both_ports(
    written: str, key: str
) -> None:
    """The operators' port keys a relayed `ip:port` as the gateway does (one `sender_key`)."""
    assert sender_key(written) == key


# --- A real sender behind a guesser's address ----------------------------------------------------


async def test_a_sender_limited_with_a_guesser_is_answered_so_that_it_retries(
    queues: Queues,
) -> None:
    """A sender whose token was not right lately, behind the address of a guesser that is now
    limited, is answered 503 with Retry-After (Alertmanager and SNS retry a 5xx and drop a
    4xx: a 429 lost its alert), its token not compared and nothing queued; once the bucket
    has room again, its retry is taken."""
    clock = MovedClock()
    settings = ingest_settings(queues.url, queues.endpoint)
    async with running(settings) as service, loopback_client(service.port) as client:
        assert service.gateway is not None
        service.gateway.failures = CredentialFailures(GATEWAY, clock)
        for _ in range(FAILURE_BURST):
            await client.post("/v1/alerts/generic", content=ALERT, headers=WRONG)
        refused = await client.post("/v1/alerts/generic", content=ALERT, headers=bearer("generic"))
        clock.now += FAILURE_REFILL_S
        retried = await client.post("/v1/alerts/generic", content=ALERT, headers=bearer("generic"))
    assert refused.status_code == 503, refused.text
    assert refused.headers["Retry-After"] in ("1", "2", "3")
    assert "wrong credential" in refused.json()["error"]
    assert retried.status_code == 202, retried.text
    assert len(take_queued(queues)) == 1


# --- Methods: both ports answer alike ----------------------------------------------------------

#: Methods HTTP does not define and neither port takes: lower case (methods are
#: case-sensitive, RFC 9110 9.1), one the gateway's parser does not know, and one it knows.
UNKNOWN_METHODS = [b"get", b"post", b"Post", b"options", b"BREW", b"PROPFIND"]


def _request(method: bytes, path: bytes, body: bytes = b"") -> bytes:
    length = b"Content-Length: %d\r\n" % len(body) if body else b""
    return (
        (method + b" " + path + b" HTTP/1.1\r\nHost: t\r\nConnection: close\r\n" + length)
        + b"\r\n"
        + body
    )


@pytest.mark.parametrize("method", UNKNOWN_METHODS)
async def test_a_method_no_path_takes_is_501_on_both_ports(
    gateway: IngestService, method: bytes
) -> None:
    """A method neither HTTP defines nor the port takes is 501 Not Implemented on the gateway
    and on the operators' port alike, JSON naming it so (the gateway answered 400 to `get`,
    the operators' port 405 or 404), whatever the path."""
    for path in (b"/healthz", b"/v1/alerts/generic", b"/nowhere"):
        request = _request(method, path)
        async with endpoint_server() as server:
            ops = await ask(server.port, request)
        ingest = await ask(gateway.port, request)
        assert (ops[0], ingest[0]) == (501, 501), (method, path)
        assert json.loads(ops[2])["error"].startswith("not implemented")
        assert json.loads(ingest[2])["error"].startswith("not implemented")


async def test_a_method_another_path_takes_is_still_405_with_allow(gateway: IngestService) -> None:
    """A method HTTP defines that the path does not take (PUT, TRACE, DELETE) stays 405
    naming what the path takes, on both ports."""
    for method in (b"PUT", b"TRACE", b"DELETE"):
        ingest = await ask(gateway.port, _request(method, b"/healthz"))
        async with endpoint_server() as server:
            ops = await ask(server.port, _request(method, b"/healthz"))
        assert (ingest[0], ops[0]) == (405, 405), method
        assert "GET" in ingest[1]["allow"] and ops[1]["allow"] == "GET, HEAD"


async def test_a_body_sent_with_an_unknown_method_is_not_read_on_the_operators_port() -> None:
    """A `put` with a body announced is answered 501 from its head, without `100 Continue`
    (as the gateway's parser refuses it before any body)."""
    head = b"put /api/v1/silences HTTP/1.1\r\nHost: t\r\nContent-Length: 10\r\n"
    async with endpoint_server() as server:
        status, _, _ = await ask(server.port, head + b"Expect: 100-continue\r\n\r\n")
    assert status == 501


@pytest.mark.parametrize("line", [b"G@T / HTTP/1.1", b"\x00\x01junk / HTTP/1.1"])
async def test_a_method_that_is_no_token_stays_a_bad_request_on_both_ports(
    gateway: IngestService, line: bytes
) -> None:
    """A request line whose method is no token is 400 on both ports, not 501."""
    request = line + b"\r\nHost: t\r\nConnection: close\r\n\r\n"
    async with endpoint_server() as server:
        ops = await ask(server.port, request)
    ingest = await ask(gateway.port, request)
    assert (ops[0], ingest[0]) == (400, 400)


# --- Cache headers on every answer -------------------------------------------------------------

#: Requests the gateway answers by each of its paths: a route, its own refusals, the router's,
#: the parser's (a 400, a 431).
EVERY_KIND_OF_ANSWER = {
    "healthz": b"GET /healthz HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n",
    "no credential": b"POST /v1/alerts/generic HTTP/1.1\r\nHost: t\r\nConnection: close\r\n"
    b"Content-Length: 2\r\n\r\n{}",
    "unknown path": b"GET /v1/alerts/nowhere HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n",
    "unknown method": b"get /healthz HTTP/1.1\r\nHost: t\r\n\r\n",
    "parse error": b"GET /healthz HTTP/1.1\r\nHost: t\r\nBad Header: x\r\n\r\n",
    "header line too long": b"GET /healthz HTTP/1.1\r\nHost: t\r\nX-Long: "
    + b"l" * 9000
    + b"\r\n\r\n",
}


@pytest.mark.parametrize("kind", list(EVERY_KIND_OF_ANSWER))
async def test_every_gateway_answer_says_no_store(gateway: IngestService, kind: str) -> None:
    """Every answer of the gateway, its refusals included, carries `Cache-Control: no-store`
    and `X-Content-Type-Options: nosniff`, as the operators' port's do: a 404 or 501 is
    cacheable by default, and a cache in front that kept one would answer later alerts; and
    a Content-Security-Policy that runs and frames nothing."""
    status, headers, _ = await ask(gateway.port, EVERY_KIND_OF_ANSWER[kind])
    assert status >= 200
    assert headers.get("cache-control") == "no-store", (kind, status, headers)
    assert headers.get("x-content-type-options") == "nosniff", (kind, status, headers)
    assert "frame-ancestors 'none'" in headers.get("content-security-policy", ""), kind


OPERATORS_ANSWERS = {
    "healthz": b"GET /healthz HTTP/1.1\r\nHost: t\r\n\r\n",
    "metrics": b"GET /metrics HTTP/1.1\r\nHost: t\r\n\r\n",
    "not found": b"GET /nowhere HTTP/1.1\r\nHost: t\r\n\r\n",
    "no token": b"GET /api/v1/incidents HTTP/1.1\r\nHost: t\r\n\r\n",
    "unknown method": b"get / HTTP/1.1\r\nHost: t\r\n\r\n",
    "bad request": b"GET / HTTP/1.1\r\nHost: t\r\nBad Header: x\r\n\r\n",
}


@pytest.mark.parametrize("kind", list(OPERATORS_ANSWERS))
async def test_every_operators_answer_that_is_no_page_frames_and_runs_nothing(
    store: SQLiteStore, kind: str
) -> None:
    """Every answer of the operators' port that is no page (JSON, metrics, its errors) carries
    a Content-Security-Policy that loads, runs and frames nothing; the status page keeps its
    own (its style's hash)."""
    async with operators_port(store) as port:
        status, headers, _ = await ask(port, OPERATORS_ANSWERS[kind])
        page = await ask(port, b"GET / HTTP/1.1\r\nHost: t\r\n\r\n")
    policy = headers.get("content-security-policy", "")
    assert "default-src 'none'" in policy and "frame-ancestors 'none'" in policy, (kind, status)
    assert "style-src 'sha256-" in page[1]["content-security-policy"]


# --- The connection cap behind the proxy --------------------------------------------------------


async def _served_beside_held(limits: Limits, held: int) -> tuple[int | None, int]:
    """The status of a /healthz asked while `held` other connections from 127.0.0.1 are open
    and still sending their heads (None: the connection was reset), and how many connections
    were refused busy."""
    metrics = Metrics()
    server = EndpointServer(Health(), metrics, "127.0.0.1", 0, limits)
    await server.start()
    writers: list[asyncio.StreamWriter] = []
    try:
        for _ in range(held):
            _, writer = await asyncio.open_connection("127.0.0.1", server.port)
            writer.write(b"GET /healthz HTTP/1.1\r\n")  # a head not yet whole
            writers.append(writer)
        await wait_until(lambda: server.connections == held)
        try:
            status: int | None = (
                await ask(server.port, b"GET /healthz HTTP/1.1\r\nHost: t\r\n\r\n")
            )[0]
        except ConnectionResetError:  # refused before its request was read
            status = None
        return status, metrics.counter("HttpRefused", reason="busy")
    finally:
        for writer in writers:
            writer.transport.abort()
        await server.aclose()


async def test_behind_the_trusted_proxy_the_per_address_cap_is_not_every_clients_cap() -> None:
    """With TRIAGE_HTTP_TRUSTED_PROXY_HOPS set every connection comes from the proxy's one
    address: the port's cap per address (8, and 4 more for loopback) would be every client's
    together, so the 13th connection is served there, as it is refused without the setting."""
    plain = endpoint_limits(Settings())
    proxied = endpoint_limits(Settings(http_trusted_proxy_hops=1))
    held = plain.max_per_peer + plain.loopback_reserve
    assert (await _served_beside_held(plain, held))[1] == 1
    assert await _served_beside_held(proxied, held) == (200, 0)
    assert proxied.max_connections == plain.max_connections
