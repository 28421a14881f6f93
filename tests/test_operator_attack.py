"""An attacker's pass over the operator's API over real HTTP on a loopback port, against a
SQLite store: what a body that says it is not JSON, or a browser's cross-site request, can
make the API do."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
import structlog

from test_operator_api import BEARER, serving
from test_operator_hostile import BEARER as HOSTILE
from test_operator_hostile import TOKEN as HOSTILE_TOKEN
from test_operator_hostile import client as client_of
from test_operator_hostile import serving as hostile_serving
from test_status_page_login import _csrf
from test_store import LEASE, POLICY
from triage.auth_limit import FAILURE_BURST
from triage.incidents.sqlite import SQLiteStore
from triage.metrics import Metrics

SILENCE = {"matchers": ["team=payments"], "duration": "2h", "comment": "db work"}


@pytest.fixture
async def store(tmp_path: Path) -> AsyncIterator[SQLiteStore]:
    s = SQLiteStore(str(tmp_path / "t.db"), POLICY, LEASE, POLICY.reopen_window * 24)
    await s.open()
    yield s
    await s.aclose()


@pytest.mark.parametrize(
    "content_type",
    [
        "text/plain",  # what a cross-site form (enctype=text/plain) or a no-cors fetch sends
        "application/x-www-form-urlencoded",  # curl -d's default; a plain HTML form's
        "multipart/form-data; boundary=x",
        "text/html",
        "application/jsonp",
    ],
)
async def test_a_body_that_says_it_is_not_json_makes_no_silence(
    store: SQLiteStore, content_type: str
) -> None:
    """A POST whose Content-Type names anything but JSON is a 415 saying what to send, and
    makes no silence, though its bytes are a valid silence: the kinds a browser sends across
    sites without asking first (text/plain, a form) never change state, whoever adds the
    bearer header on the way (an authenticating proxy)."""
    body = json.dumps(SILENCE).encode()
    metrics = Metrics()
    async with hostile_serving(store, metrics) as server, client_of(server) as client:
        answer = await client.post(
            "/api/v1/silences", content=body, headers={**HOSTILE, "Content-Type": content_type}
        )
        listed = (await client.get("/api/v1/silences?all=1", headers=HOSTILE)).json()
    assert answer.status_code == 415, answer.text
    assert metrics.counter("HttpRefused", reason="not_json") == 1
    assert "application/json" in answer.json()["error"]
    assert listed == {"silences": [], "unreadable": 0}


@pytest.mark.parametrize(
    "content_type",
    [
        None,  # a script's bare request (httpx's content=, Python's urllib)
        "application/json",
        "application/json; charset=utf-8",
        "Application/JSON",
        "application/merge-patch+json",
    ],
)
async def test_a_json_body_is_taken_whatever_its_json_type_is_spelled(
    store: SQLiteStore, content_type: str | None
) -> None:
    """A body labelled JSON in any spelling (a charset, upper case, a `+json` type), or not
    labelled at all, makes its silence."""
    headers = {**BEARER, **({"Content-Type": content_type} if content_type else {})}
    async with serving(store) as client:
        answer = await client.post(
            "/api/v1/silences", content=json.dumps(SILENCE).encode(), headers=headers
        )
    assert answer.status_code == 201, answer.text


@pytest.mark.parametrize(
    "browser_says",
    [
        {"Origin": "https://evil.example"},
        {"Origin": "null"},  # a sandboxed frame's, or a data: page's
        {"Sec-Fetch-Site": "cross-site"},
        {"Sec-Fetch-Site": "same-site"},  # a sibling host may be another team's
    ],
)
async def test_a_write_a_browser_sends_from_another_site_changes_nothing(
    store: SQLiteStore, browser_says: dict[str, str]
) -> None:
    """A POST or DELETE whose browser headers say it comes from another site is a 403 and
    changes nothing, even with the bearer header (an authenticating proxy in front may add
    it to whatever the browser sends): no silence is made, none is expired."""
    metrics = Metrics()
    async with hostile_serving(store, metrics) as server, client_of(server) as client:
        kept = (await client.post("/api/v1/silences", json=SILENCE, headers=HOSTILE)).json()
        headers = {**HOSTILE, **browser_says}
        made = await client.post(
            "/api/v1/silences", json={**SILENCE, "comment": "x"}, headers=headers
        )
        expired = await client.delete(f"/api/v1/silences/{kept['id']}", headers=headers)
        listed = (await client.get("/api/v1/silences?all=1", headers=HOSTILE)).json()
    assert [made.status_code, expired.status_code] == [403, 403], made.text
    assert metrics.counter("HttpRefused", reason="cross_site") == 2
    assert "another site" in made.json()["error"]
    assert [(s["id"], s["active"]) for s in listed["silences"]] == [(kept["id"], True)]


async def test_a_write_from_the_ports_own_page_is_taken(store: SQLiteStore) -> None:
    """A write whose Origin is the port itself (`Sec-Fetch-Site: same-origin`) is taken."""
    async with serving(store) as client:
        origin = str(client.base_url).rstrip("/")
        headers = {**BEARER, "Origin": origin, "Sec-Fetch-Site": "same-origin"}
        made = await client.post("/api/v1/silences", json=SILENCE, headers=headers)
    assert made.status_code == 201, made.text


async def test_guessing_the_apis_token_is_counted_and_logged_within_bounds(
    tmp_path: Path,
) -> None:
    """40 API requests with a wrong bearer token (reads and writes) and 5 with none are each
    refused: FAILURE_BURST guesses 401, the rest 429 uncompared (`auth_limit`), the 5 without
    a token 401; counted in HttpRefused{reason} (`wrong_token`, `limited`, `no_credentials`)
    and logged in at most the refusal log's burst of lines (10 a window), the first line of
    the other kind of refusal (a flood of one never hides another) and one `api.auth_limited`
    line, none holding the token guessed: a guesser is seen, and cannot fill the log."""
    store = SQLiteStore(str(tmp_path / "t.db"), POLICY, LEASE, POLICY.reopen_window * 24)
    await store.open()
    guess = "guess-" + "g" * 30
    wrong = {"Authorization": f"Bearer {guess}"}
    metrics = Metrics()
    try:
        async with hostile_serving(store, metrics) as server, client_of(server) as client:
            with structlog.testing.capture_logs() as logs:
                answers = [await client.get("/api/v1/incidents", headers=wrong) for _ in range(30)]
                answers += [
                    await client.post("/api/v1/silences", json=SILENCE, headers=wrong)
                    for _ in range(10)
                ]
                answers += [await client.get("/api/v1/silences") for _ in range(5)]
    finally:
        await store.aclose()
    statuses = [a.status_code for a in answers]
    assert statuses == [401] * FAILURE_BURST + [429] * (40 - FAILURE_BURST) + [401] * 5
    assert metrics.counter("HttpRefused", reason="wrong_token") == FAILURE_BURST
    assert metrics.counter("HttpRefused", reason="limited") == 40 - FAILURE_BURST
    assert metrics.counter("HttpRefused", reason="no_credentials") == 5
    lines = [e for e in logs if e["event"].startswith("api.refused")]
    assert 1 <= len(lines) <= 10 + 1, lines
    assert {e["reason"] for e in lines} == {"wrong_token", "no_credentials"}
    assert [e["sender"] for e in logs if e["event"] == "api.auth_limited"] == ["127.0.0.1"]
    assert guess not in repr(logs)


async def test_guessing_the_token_through_the_pages_bearer_header_is_counted(
    tmp_path: Path,
) -> None:
    """The page takes the bearer header too, and answers a wrong one with the login form: a
    guess made there (at `/` or an incident's page) counts as `wrong_token` as at the API,
    while a browser that simply has no session yet (no header) counts nothing."""
    store = SQLiteStore(str(tmp_path / "t.db"), POLICY, LEASE, POLICY.reopen_window * 24)
    await store.open()
    wrong = {"Authorization": "Bearer guess-" + "g" * 30}
    metrics = Metrics()
    try:
        async with hostile_serving(store, metrics) as server, client_of(server) as client:
            guesses = [await client.get(path, headers=wrong) for path in ("/", "/incidents/ab")]
            browsers = [await client.get(path) for path in ("/", "/incidents/ab")]
    finally:
        await store.aclose()
    assert all("type=password" in a.text for a in guesses + browsers)
    assert metrics.counter("HttpRefused", reason="wrong_token") == 2
    assert metrics.counter("HttpRefused", reason="no_credentials") == 0


async def test_another_schemes_credentials_are_no_guess_at_the_token(tmp_path: Path) -> None:
    """Behind a proxy that asks for a password (nginx's auth_basic), the browser sends
    `Authorization: Basic …` with every request: a page or API read without a session then
    counts as `no_credentials`, never as `wrong_token`, which stays the sign of a guess."""
    store = SQLiteStore(str(tmp_path / "t.db"), POLICY, LEASE, POLICY.reopen_window * 24)
    await store.open()
    basic = {"Authorization": "Basic YWxpY2U6c2VjcmV0"}
    metrics = Metrics()
    try:
        async with hostile_serving(store, metrics) as server, client_of(server) as client:
            page = await client.get("/", headers=basic)
            api = await client.get("/api/v1/incidents", headers=basic)
    finally:
        await store.aclose()
    assert "type=password" in page.text and api.status_code == 401
    assert metrics.counter("HttpRefused", reason="wrong_token") == 0
    assert metrics.counter("HttpRefused", reason="no_credentials") == 1


@pytest.mark.parametrize(
    "proxied",
    [
        # nginx's default proxy_pass: Host is the upstream's; the browser says same-origin.
        {"Origin": "https://triage.example", "Sec-Fetch-Site": "same-origin"},
        # an older browser (no Sec-Fetch-Site) behind a proxy that names the host it was asked.
        {"Origin": "https://triage.example", "X-Forwarded-Host": "triage.example"},
    ],
)
async def test_a_login_through_a_proxy_that_rewrites_host_is_not_called_cross_site(
    tmp_path: Path, proxied: dict[str, str]
) -> None:
    """Behind a reverse proxy that sends the port its own Host (nginx's default), the form
    posted from the page itself logs in: the browser's `Sec-Fetch-Site: same-origin`, or the
    proxy's `X-Forwarded-Host`, says so (no page can set either header), while a post the
    browser says came from another site is still refused."""
    store = SQLiteStore(str(tmp_path / "t.db"), POLICY, LEASE, POLICY.reopen_window * 24)
    await store.open()
    try:
        async with hostile_serving(store) as server, client_of(server) as client:
            form = await client.get("/")
            fields = {"token": HOSTILE_TOKEN, "csrf": _csrf(form)}
            login = await client.post("/login", data=fields, headers=proxied)
            forged = {**proxied, "Origin": "https://evil.example"}
            if "Sec-Fetch-Site" in forged:
                forged["Sec-Fetch-Site"] = "cross-site"
            refused = await client.post("/login", data=fields, headers=forged)
    finally:
        await store.aclose()
    assert login.status_code == 303, login.text
    assert refused.status_code == 403


async def test_no_method_reads_or_changes_anything_without_credentials(tmp_path: Path) -> None:
    """Every API path under every method (HEAD and OPTIONS included) answers a client with
    no credentials 401, 404 or 405 (a GET or HEAD with a body: 400) and no data; the pages answer only their login form; the
    one silence stored is still active afterwards."""
    store = SQLiteStore(str(tmp_path / "t.db"), POLICY, LEASE, POLICY.reopen_window * 24)
    await store.open()
    methods = ("GET", "HEAD", "OPTIONS", "POST", "PUT", "PATCH", "DELETE")
    try:
        async with hostile_serving(store) as server, client_of(server) as client:
            made = (await client.post("/api/v1/silences", json=SILENCE, headers=HOSTILE)).json()
            paths = ("/api/v1/incidents", "/api/v1/incidents/abcd", "/api/v1/silences",
                     f"/api/v1/silences/{made['id']}")  # fmt: skip
            api = {
                (method, path): await client.request(method, path, json=SILENCE)
                for method in methods
                for path in paths
            }
            pages = [await client.request(m, p) for m in ("GET", "HEAD") for p in ("/", "/x")]
            listed = (await client.get("/api/v1/silences", headers=HOSTILE)).json()
    finally:
        await store.aclose()
    for (method, path), answer in api.items():
        # (A GET or HEAD with a body, as each is sent here, is 400 before its credential is
        # looked at, as on the gateway.)
        refusals = (400, 401, 404, 405) if method in ("GET", "HEAD") else (401, 404, 405)
        assert answer.status_code in refusals, (method, path, answer.status_code)
        assert "silences" not in answer.text and "incidents" not in answer.text
    assert all(a.status_code in (200, 404) and "team=payments" not in a.text for a in pages)
    assert [s["id"] for s in listed["silences"]] == [made["id"]]
