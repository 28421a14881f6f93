"""Round 15 of the webhook gateway and the operators' port (helper 558): each test fails
before its fix.

- Wrong credentials were answered 401 as fast as the gateway answers (~330 a second from one
  client), so a weak token could be guessed online. Each sender's wrong credentials are now
  counted (behind the trusted proxy, by its X-Forwarded-For entry); past a burst the sender is
  answered 503 (429 until round 16: test_ports_round16_566) before any credential of its is
  compared, and a sender whose credential was right lately is never limited (auth_limit.py,
  shared with the operators' port).
- The two ports answered the same bytes differently: `OPTIONS *` (400 on the operators' port,
  404 on the gateway; RFC 9110 9.3.7 has a server answer it), a line ended by a bare LF and
  two Content-Length headers (served on the operators' port, 400 on the gateway). Both now
  answer `OPTIONS *` 200 and refuse the others 400.
"""

from __future__ import annotations

from collections.abc import MutableMapping
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx2
import pytest

import triage.auth_limit as failures
from daemon_harness import Queues
from ingest_harness import bearer, ingest_settings, loopback_client, running
from test_http_endpoints import ask
from test_http_endpoints import running as endpoint_server
from test_ingest_gaps import take_queued
from test_operator_api import serving
from test_store import LEASE, POLICY
from triage.auth_limit import GATEWAY, CredentialFailures
from triage.incidents.sqlite import SQLiteStore
from triage.ingest import IngestService

WRONG = {"Authorization": "Bearer not-the-token-0123456789"}
ALERT = b'{"title": "disk full", "dedup_key": "round15"}'


class Clock:
    """A monotonic clock the test moves."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def limited_lines(logs: list[MutableMapping[str, Any]], event: str) -> list[Any]:
    return [entry for entry in logs if entry["event"] == event]


# --- The failure counts, on their own ---------------------------------------------------------


def test_a_sender_past_its_burst_of_wrong_credentials_waits_and_gets_one_line(
    logs: list[MutableMapping[str, Any]],
) -> None:
    """FAILURE_BURST wrong credentials limit a sender (Retry-After: one refill), with one
    ingest.auth_limited line however often it is refused; a refill later it may present one
    more, and once drained it is a new episode with a line of its own."""
    clock = Clock()
    counts = CredentialFailures(GATEWAY, clock)
    for _ in range(failures.FAILURE_BURST - 1):
        counts.failed("203.0.113.7")
    assert counts.limited("203.0.113.7", "generic") is None
    counts.failed("203.0.113.7")
    assert counts.limited("203.0.113.7", "generic") == 3
    assert counts.limited("203.0.113.7", "grafana") == 3
    assert counts.limited("198.51.100.1", "generic") is None  # another sender is not limited
    assert len(limited_lines(logs, "ingest.auth_limited")) == 1
    clock.now += failures.FAILURE_REFILL_S
    assert counts.limited("203.0.113.7", "generic") is None
    counts.failed("203.0.113.7")
    assert counts.limited("203.0.113.7", "generic") == 3
    assert len(limited_lines(logs, "ingest.auth_limited")) == 1  # the same episode
    clock.now += failures.FAILURE_REFILL_S * failures.FAILURE_BURST
    for _ in range(failures.FAILURE_BURST):
        counts.failed("203.0.113.7")
    assert counts.limited("203.0.113.7", "generic") == 3
    lines = limited_lines(logs, "ingest.auth_limited")
    assert len(lines) == 2 and lines[1]["sender"] == "203.0.113.7"


def test_a_proven_sender_is_never_limited_on_its_source_and_its_many_failures_get_a_hint(
    logs: list[MutableMapping[str, Any]],
) -> None:
    """A sender whose credential for a source was right is not limited on that source however
    many wrong ones come from its address (a NAT, a proxy whose hops are not set), with one
    ingest.auth_limit_waived line; on every other source it is limited; proof lasts
    PROVEN_S."""
    clock = Clock()
    counts = CredentialFailures(GATEWAY, clock)
    counts.succeeded("10.0.0.5", "alertmanager")
    for _ in range(failures.FAILURE_BURST * 10):
        counts.failed("10.0.0.5")
    assert counts.limited("10.0.0.5", "alertmanager") is None
    assert counts.limited("10.0.0.5", "alertmanager") is None
    assert counts.limited("10.0.0.5", "grafana") is not None
    assert [line["sender"] for line in limited_lines(logs, "ingest.auth_limit_waived")] == [
        "10.0.0.5"
    ]
    clock.now += failures.PROVEN_S
    for _ in range(failures.FAILURE_BURST):
        counts.failed("10.0.0.5")
    assert counts.limited("10.0.0.5", "alertmanager") is not None


def test_an_ipv6_sites_addresses_share_a_bucket_and_a_crowd_does_not(
    logs: list[MutableMapping[str, Any]],
) -> None:
    """FAILURE_BURST wrong credentials from as many /64s of one /48 (each a sender of its own)
    limit the site's every /64 but a proven one; as many IPv4 addresses limit none of the
    others (no bucket is shared by all: a crowd could keep every rare sender refused)."""
    counts = CredentialFailures(GATEWAY, Clock())
    counts.succeeded("2001:db8:7:ffff::/64", "generic")
    for i in range(failures.FAILURE_BURST):
        counts.failed(f"2001:db8:7:{i:x}::/64")
        counts.failed(f"192.0.2.{i}")
    assert counts.limited("2001:db8:7:abcd::/64", "generic") is not None
    assert counts.limited("2001:db8:7:ffff::/64", "generic") is None
    assert counts.limited("2001:db8:8::/64", "generic") is None
    assert counts.limited("192.0.2.250", "generic") is None
    assert [line["sender"] for line in limited_lines(logs, "ingest.auth_limited")] == [
        "2001:db8:7::/48"
    ]


def test_memory_of_senders_is_bounded() -> None:
    """A flood of failing addresses (and proven ones) keeps at most MAX_SENDERS of each."""
    counts = CredentialFailures(GATEWAY, Clock())
    for i in range(failures.MAX_SENDERS + 50):
        counts.failed(f"s{i}")
        counts.succeeded(f"p{i}", "generic")
    assert len(counts._failing) <= failures.MAX_SENDERS
    assert len(counts._proven) <= failures.MAX_SENDERS


# --- Through the gateway, on 127.0.0.1 -------------------------------------------------------


async def _post_wrong(client: httpx2.AsyncClient, count: int, **headers: str) -> list[int]:
    statuses = []
    for _ in range(count):
        response = await client.post(
            "/v1/alerts/generic", content=ALERT, headers={**WRONG, **headers}
        )
        statuses.append(response.status_code)
    return statuses


async def test_a_guesser_is_answered_503_before_its_credential_is_compared(
    gateway: IngestService, queues: Queues, logs: list[MutableMapping[str, Any]]
) -> None:
    """From an address never proven, FAILURE_BURST wrong tokens are 401; then even the right
    token is 503 with Retry-After (compared, a right guess would be told apart from a wrong
    one at full speed), nothing queued, one ingest.auth_limited line."""
    async with loopback_client(gateway.port) as client:
        assert await _post_wrong(client, failures.FAILURE_BURST) == [401] * failures.FAILURE_BURST
        limited = await client.post("/v1/alerts/generic", content=ALERT, headers=WRONG)
        right = await client.post("/v1/alerts/generic", content=ALERT, headers=bearer("generic"))
    assert limited.status_code == 503 and limited.headers["Retry-After"] in ("1", "2", "3")
    assert "wrong credential" in limited.json()["error"]
    assert right.status_code == 503
    assert take_queued(queues) == []
    assert [line["sender"] for line in limited_lines(logs, "ingest.auth_limited")] == ["127.0.0.1"]
    assert gateway.metrics.total("IngestAuthLimited") == 2


async def test_a_sender_proven_by_its_right_token_is_never_refused_for_its_neighbours(
    gateway: IngestService, queues: Queues
) -> None:
    """A sender whose token worked is answered 202 after any number of wrong tokens from the
    same address (a guesser behind its NAT): the limit never refuses it a delivery."""
    async with loopback_client(gateway.port) as client:
        first = await client.post("/v1/alerts/generic", content=ALERT, headers=bearer("generic"))
        assert first.status_code == 202, first.text
        wrong = await _post_wrong(client, failures.FAILURE_BURST * 2)
        right = await client.post("/v1/alerts/generic", content=ALERT, headers=bearer("generic"))
    assert wrong == [401] * (failures.FAILURE_BURST * 2)
    assert right.status_code == 202, right.text
    assert len(take_queued(queues)) == 2


async def test_one_sources_token_buys_no_unlimited_guesses_at_anothers(
    gateway: IngestService, queues: Queues
) -> None:
    """A holder of the generic token (in many tools' URLs) that guesses Grafana's is limited
    on Grafana's path, and its generic webhooks are still taken."""
    async with loopback_client(gateway.port) as client:
        own = await client.post("/v1/alerts/generic", content=ALERT, headers=bearer("generic"))
        assert own.status_code == 202, own.text
        guesses = []
        for _ in range(failures.FAILURE_BURST + 1):
            response = await client.post("/v1/alerts/grafana", content=b"{}", headers=WRONG)
            guesses.append(response.status_code)
        again = await client.post("/v1/alerts/generic", content=ALERT, headers=bearer("generic"))
    assert guesses == [401] * failures.FAILURE_BURST + [503]
    assert again.status_code == 202, again.text
    assert len(take_queued(queues)) == 2


async def test_behind_the_trusted_proxy_each_forwarded_sender_is_counted_apart(
    queues: Queues,
) -> None:
    """With TRIAGE_INGEST_TRUSTED_PROXY_HOPS=1 every connection comes from the proxy, and the
    sender is the X-Forwarded-For entry it appended: one guesser's limit leaves another
    sender's token taken."""
    settings = ingest_settings(queues.url, queues.endpoint, ingest_trusted_proxy_hops=1)
    async with running(settings) as service, loopback_client(service.port) as client:
        guesser = {"X-Forwarded-For": "203.0.113.9"}
        wrong = await _post_wrong(client, failures.FAILURE_BURST + 1, **guesser)
        other = await client.post(
            "/v1/alerts/generic",
            content=ALERT,
            headers={**bearer("generic"), "X-Forwarded-For": "198.51.100.4"},
        )
    assert wrong == [401] * failures.FAILURE_BURST + [503]
    assert other.status_code == 202, other.text


# --- What the two ports answer alike -----------------------------------------------------------


async def test_options_star_is_answered_on_the_operators_port() -> None:
    """`OPTIONS *` (RFC 9110 9.3.7) is 200 with `Allow` naming the port's methods, not 400."""
    async with endpoint_server() as server:
        status, headers, body = await ask(server.port, b"OPTIONS * HTTP/1.1\r\nHost: t\r\n\r\n")
    assert status == 200 and body == b""
    assert headers["allow"] == "GET, HEAD, OPTIONS"


async def test_options_star_is_answered_by_the_gateway(gateway: IngestService) -> None:
    """`OPTIONS *` is 200 with `Allow` on the gateway too, not the 404 of a path."""
    request = b"OPTIONS * HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n"
    status, headers, _ = await ask(gateway.port, request)
    assert status == 200
    assert headers["allow"] == "GET, HEAD, OPTIONS, POST"


async def test_a_path_named_star_is_no_server_wide_request_on_either_port(
    gateway: IngestService,
) -> None:
    """Only OPTIONS names the server with `*`: `GET *` is refused on both ports."""
    request = b"GET * HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n"
    async with endpoint_server() as server:
        assert (await ask(server.port, request))[0] == 400
    assert (await ask(gateway.port, request))[0] in (400, 404)


BARE_LF = {
    "every line": b"GET /healthz HTTP/1.1\nHost: t\nConnection: close\n\n",
    "one header": b"GET /healthz HTTP/1.1\r\nHost: t\nConnection: close\r\n\r\n",
    "the request line": b"GET /healthz HTTP/1.1\nHost: t\r\nConnection: close\r\n\r\n",
    "the head's end": b"GET /healthz HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\n",
}


@pytest.mark.parametrize("where", list(BARE_LF))
async def test_a_bare_lf_is_refused_alike_on_both_ports(where: str, gateway: IngestService) -> None:
    """A line ended by a bare LF is 400 on the operators' port, as the gateway's parser
    answers it (it was served 200 there): one client, one answer on both ports."""
    request = BARE_LF[where]
    async with endpoint_server() as server:
        ops_status, _, _ = await ask(server.port, request)
    gateway_status, _, _ = await ask(gateway.port, request)
    assert (ops_status, gateway_status) == (400, 400)


async def test_two_content_lengths_are_refused_alike_on_both_ports(
    gateway: IngestService,
) -> None:
    """Two Content-Length headers, even agreeing, are 400 on both ports (the operators' port
    served them)."""
    request = (
        b"GET /healthz HTTP/1.1\r\nHost: t\r\nConnection: close\r\n"
        b"Content-Length: 0\r\nContent-Length: 0\r\n\r\n"
    )
    async with endpoint_server() as server:
        assert (await ask(server.port, request))[0] == 400
    assert (await ask(gateway.port, request))[0] == 400


# --- The operators' port, limited as the gateway is (auth_limit.py) ---------------------------


async def test_the_operators_api_limits_a_guesser_as_the_gateway_does(tmp_path: Path) -> None:
    """FAILURE_BURST wrong bearer tokens from one address, then the next is 429 (the gateway
    limits at the same count, answering 503 for its senders' retries)."""
    store = SQLiteStore(str(tmp_path / "t.db"), POLICY, LEASE, timedelta(days=30))
    await store.open()
    try:
        async with serving(store) as client:
            statuses = []
            for _ in range(failures.FAILURE_BURST + 1):
                response = await client.get(
                    "/api/v1/incidents", headers={"Authorization": "Bearer " + "w" * 33}
                )
                statuses.append(response.status_code)
    finally:
        await store.aclose()
    assert statuses[-1] == 429
