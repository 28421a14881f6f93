"""The operators' port limits a TRIAGE_API_TOKEN guesser as the gateway limits a webhook
token's (auth_limit.py): past FAILURE_BURST wrong tokens from one address (the connection's
peer: the port has no trusted-proxy setting), the API's bearer header, the page's bearer header
and the login form are answered 429 with Retry-After before the token is compared."""

from __future__ import annotations

from collections.abc import AsyncIterator, MutableMapping
from pathlib import Path
from typing import Any

import httpx2
import pytest
import structlog

from test_operator_hostile import BEARER, TOKEN, serving
from test_operator_hostile import client as client_of
from test_status_page_login import _csrf
from test_store import LEASE, POLICY
from triage.auth_limit import FAILURE_BURST, sender_key
from triage.incidents.sqlite import SQLiteStore
from triage.metrics import Metrics
from triage.ops.api import Auth

BURST = FAILURE_BURST
WRONG = {"Authorization": "Bearer guess-" + "g" * 30}
SILENCE = {"matchers": ["team=payments"], "duration": "2h", "comment": "db", "author": "al"}


@pytest.fixture
async def store(tmp_path: Path) -> AsyncIterator[SQLiteStore]:
    s = SQLiteStore(str(tmp_path / "t.db"), POLICY, LEASE, POLICY.reopen_window * 24)
    await s.open()
    yield s
    await s.aclose()


def _lines(logs: list[MutableMapping[str, Any]], event: str) -> list[MutableMapping[str, Any]]:
    return [entry for entry in logs if entry["event"] == event]


async def _gets(client: httpx2.AsyncClient, path: str, count: int, **headers: str) -> list[int]:
    return [(await client.get(path, headers=headers)).status_code for _ in range(count)]


async def test_a_bearer_guesser_is_answered_429_before_its_token_is_compared(
    store: SQLiteStore,
) -> None:
    """FAILURE_BURST wrong bearer tokens are 401; then even the right one is 429 with
    Retry-After (compared, a right guess would be told apart), counted in
    HttpRefused{reason=limited}, with one api.auth_limited line naming the address."""
    metrics = Metrics()
    async with serving(store, metrics) as server, client_of(server) as client:
        with structlog.testing.capture_logs() as logs:
            wrong = await _gets(client, "/api/v1/incidents", BURST, **WRONG)
            limited = await client.get("/api/v1/incidents", headers=WRONG)
            right = await client.get("/api/v1/incidents", headers=BEARER)
    assert wrong == [401] * BURST
    assert limited.status_code == 429 and limited.headers["Retry-After"] in ("1", "2", "3")
    assert "wrong" in limited.json()["error"]
    assert right.status_code == 429
    assert metrics.counter("HttpRefused", reason="limited") == 2
    assert metrics.counter("HttpRefused", reason="wrong_token") == BURST
    assert [line["sender"] for line in _lines(logs, "api.auth_limited")] == ["127.0.0.1"]


async def test_a_limited_writer_is_refused_before_its_body_is_read(store: SQLiteStore) -> None:
    """A silence posted by a limited address, even with the right token, is 429: no silence
    is made, and the guesses through the writer count as through a reader."""
    metrics = Metrics()
    async with serving(store, metrics) as server, client_of(server) as client:
        wrong = [
            (await client.post("/api/v1/silences", json=SILENCE, headers=WRONG)).status_code
            for _ in range(BURST)
        ]
        right = await client.post("/api/v1/silences", json=SILENCE, headers=BEARER)
    assert wrong == [401] * BURST
    assert right.status_code == 429 and "Retry-After" in right.headers
    assert await store.silences() == []


async def test_an_address_proven_by_the_right_token_is_never_limited(store: SQLiteStore) -> None:
    """An address whose token was right lately (an operator's, behind the NAT a guesser shares)
    is answered after any number of wrong tokens from it, with one api.auth_limit_waived line."""
    async with serving(store) as server, client_of(server) as client:
        assert (await client.get("/api/v1/incidents", headers=BEARER)).status_code == 200
        with structlog.testing.capture_logs() as logs:
            wrong = await _gets(client, "/api/v1/incidents", BURST * 2, **WRONG)
            right = await client.get("/api/v1/incidents", headers=BEARER)
    assert wrong == [401] * (BURST * 2)
    assert right.status_code == 200
    assert len(_lines(logs, "api.auth_limit_waived")) == 1


async def test_guesses_through_the_pages_bearer_header_are_limited_too(
    store: SQLiteStore,
) -> None:
    """The page answers a wrong bearer header with the login form: those guesses count, and
    past the burst the page is 429 with Retry-After, saying why, without comparing the token."""
    metrics = Metrics()
    async with serving(store, metrics) as server, client_of(server) as client:
        forms = [await client.get("/", headers=WRONG) for _ in range(BURST)]
        limited = await client.get("/", headers=BEARER)
    assert all(f.status_code == 200 and "type=password" in f.text for f in forms)
    assert limited.status_code == 429 and "Retry-After" in limited.headers
    assert "Too many wrong tokens" in limited.text
    assert metrics.counter("HttpRefused", reason="limited") == 1


async def test_the_login_form_limits_a_guesser(store: SQLiteStore) -> None:
    """FAILURE_BURST wrong tokens posted to the login form are 401; then even the right token
    is 429 with Retry-After and no session cookie, the form saying to wait."""
    metrics = Metrics()
    async with serving(store, metrics) as server, client_of(server) as client:
        form = await client.get("/")
        wrong = []
        for _ in range(BURST):  # each answer is a new form, with its own CSRF token
            form = await client.post("/login", data={"token": "x" * 40, "csrf": _csrf(form)})
            wrong.append(form.status_code)
        right = await client.post("/login", data={"token": TOKEN, "csrf": _csrf(form)})
    assert wrong == [401] * BURST
    assert metrics.counter("HttpRefused", reason="wrong_token") == BURST
    assert right.status_code == 429 and "Retry-After" in right.headers
    assert "triage_session" not in right.headers.get("set-cookie", "")
    assert "Too many wrong tokens" in right.text and "type=password" in right.text


async def test_a_logged_in_browser_is_served_from_a_limited_address(store: SQLiteStore) -> None:
    """The limit stops token comparisons only: a browser whose session cookie reads (signed
    with the token, not guessable) still reads the page from an address a guesser limited."""
    async with serving(store) as server, client_of(server) as client:
        assert await _gets(client, "/api/v1/incidents", BURST + 1, **WRONG) == [401] * BURST + [429]
        cookie = {"Cookie": f"triage_session={Auth(TOKEN).session()}"}
        page = await client.get("/", headers=cookie)
    assert page.status_code == 200 and "type=password" not in page.text


@pytest.mark.parametrize(
    ("peer", "key"),
    [
        ("203.0.113.7", "203.0.113.7"),
        ("2001:db8:7:1::5", "2001:db8:7:1::/64"),
        ("::ffff:198.51.100.4", "198.51.100.4"),
        ("unknown", "unknown"),
    ],
)
def test_a_peer_is_keyed_as_the_gateway_keys_a_sender(peer: str, key: str) -> None:
    """An IPv6 peer is its /64 (its /48 then counted too), an IPv4-mapped one its IPv4
    address, anything else itself."""
    assert sender_key(peer) == key
