"""Red team round 3b: the operator's API and status page over real HTTP on a loopback port,
against a SQLite store: methods no route takes (TRACE must echo nothing), method-override
headers, path traversal in `/incidents/<id>`, cache and framing headers on every answer that
holds incident data, hostile incident text in the JSON API, huge query strings, and silences
made through the API with hostile matchers, then shown on the page."""

from __future__ import annotations

import asyncio
import json
import re
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx2
import pytest
from structlog.testing import capture_logs

from test_operator_hostile import BEARER, TOKEN
from test_status_page_attack import serving
from test_status_page_login import _csrf
from triage.incidents.lifecycle import Policy
from triage.incidents.sqlite import SQLiteStore
from triage.models import Alert, Status

HOSTILE_TITLE = "</script><script>alert(1)</script>\"'<img src=x onerror=alert(2)>\u2028&amp;"
SILENCE = {"matchers": ["team=payments"], "duration": "2h", "comment": "c", "author": "a"}


@pytest.fixture
async def store(tmp_path: Path) -> AsyncIterator[SQLiteStore]:
    opened = SQLiteStore(str(tmp_path / "t.db"), Policy(), timedelta(minutes=2), timedelta(days=1))
    await opened.open()
    yield opened
    await opened.aclose()


async def seed(store: SQLiteStore, title: str = HOSTILE_TITLE) -> str:
    """An open incident titled `title`, team payments; its fingerprint."""
    now = datetime.now(UTC)
    alert = Alert(
        source="generic", status=Status.FIRING, title=title, team="payments",
        labels={"env": title}, occurred_at=now, identity={"dedup_key": "hostile"},
    )  # fmt: skip
    began = await store.begin(alert, "m", now)
    assert began.after is not None
    return began.after.fingerprint


def client_of(port: int) -> httpx2.AsyncClient:
    return httpx2.AsyncClient(base_url=f"http://127.0.0.1:{port}")


# --- methods ----------------------------------------------------------------------------------


@pytest.mark.parametrize("path", ["/", "/incidents/abcd", "/api/v1/incidents", "/login", "/x"])
async def test_trace_echoes_no_credential(store: SQLiteStore, path: str) -> None:
    """TRACE (and TRACK) on any path answers an error, never the request back: a reflected
    Authorization or Cookie header would hand a script the credentials HttpOnly hides."""
    async with serving(store) as server, client_of(server.port) as client:
        for method in ("TRACE", "TRACK"):
            answer = await client.request(
                method, path, headers={**BEARER, "Cookie": "triage_session=secretcookie"}
            )
            assert answer.status_code in (404, 405, 501), (method, path, answer.status_code)
            assert TOKEN not in answer.text and "secretcookie" not in answer.text
            assert answer.headers["content-type"].startswith("application/json"), answer.headers


@pytest.mark.parametrize(
    "override",
    [
        {"X-HTTP-Method-Override": "DELETE"},
        {"X-HTTP-Method": "DELETE"},
        {"X-Method-Override": "DELETE"},
    ],
)
async def test_a_method_override_header_deletes_nothing(
    store: SQLiteStore, override: dict[str, str]
) -> None:
    """A POST or GET with a method-override header (or `?_method=DELETE`) on a silence's path
    never expires it: the method on the request line is the only method."""
    async with serving(store) as server, client_of(server.port) as client:
        made = (await client.post("/api/v1/silences", json=SILENCE, headers=BEARER)).json()
        path = f"/api/v1/silences/{made['id']}"
        for method in ("POST", "GET"):
            await client.request(method, path, headers={**BEARER, **override})
            await client.request(method, path + "?_method=DELETE", headers=BEARER)
        listed = (await client.get("/api/v1/silences", headers=BEARER)).json()
    assert [(s["id"], s["active"]) for s in listed["silences"]] == [(made["id"], True)]


@pytest.mark.parametrize("method", ["HEAD", "OPTIONS"])
async def test_head_and_options_read_nothing_without_credentials(
    store: SQLiteStore, method: str
) -> None:
    """HEAD and OPTIONS without credentials leak nothing of an incident: no body, and no
    header that differs between a fingerprint that exists and one that does not."""
    fp = await seed(store)
    async with serving(store) as server, client_of(server.port) as client:
        known = await client.request(method, f"/api/v1/incidents/{fp}")
        unknown = await client.request(method, "/api/v1/incidents/" + "0" * len(fp))
    assert known.status_code == unknown.status_code
    assert known.status_code in (401, 404, 405)
    assert "alert(1)" not in known.text
    assert known.headers.get("content-length") == unknown.headers.get("content-length")


# --- paths --------------------------------------------------------------------------------------

TRAVERSALS = [
    "/incidents/../api/v1/incidents",
    "/incidents/%2e%2e/api/v1/incidents",
    "/incidents/..%2fapi%2fv1%2fincidents",
    "/incidents/%2e%2e%2f%2e%2e%2fetc%2fpasswd",
    "/incidents/....//....//etc/passwd",
    "/incidents/%252e%252e%252fapi",
    "/incidents/abcd%00",
    "/incidents/abcd;/../../api/v1/incidents",
    "/incidents/abcd%5c..%5c..%5capi",
    "//api/v1/incidents",
    "/api/v1/incidents/..%2f..%2fetc%2fpasswd",
    "/api/v1/incidents/%2e%2e",
    "/api/v1/silences/..%2fincidents",
]


@pytest.mark.parametrize("path", TRAVERSALS)
async def test_a_traversal_in_an_incident_path_reads_nothing(store: SQLiteStore, path: str) -> None:
    """A path with `..`, encoded slashes, a NUL or a backslash: without credentials no
    incident text; with them a 4xx JSON or page error (never a 500, never a file's bytes)."""
    await seed(store)
    async with serving(store) as server, client_of(server.port) as client:
        bare = await client.get(path)
        with_bearer = await client.get(path, headers=BEARER)
    assert "alert(1)" not in bare.text, (path, bare.status_code)
    assert "root:" not in bare.text + with_bearer.text
    assert bare.status_code < 500 and with_bearer.status_code < 500, (
        path, bare.status_code, with_bearer.status_code,
    )  # fmt: skip


# --- headers on answers with incident data ----------------------------------------------------


async def test_every_answer_holding_incident_data_is_neither_cached_nor_framed(
    store: SQLiteStore,
) -> None:
    """The status page, an incident's page, the JSON API (list and one) and the silences'
    answer each say `Cache-Control: no-store` and `nosniff`; the HTML pages forbid framing
    (`frame-ancestors 'none'` or `X-Frame-Options: DENY`)."""
    fp = await seed(store)
    async with serving(store) as server, client_of(server.port) as client:
        pages = [await client.get(p, headers=BEARER) for p in ("/", f"/incidents/{fp}")]
        apis = [
            await client.get(p, headers=BEARER)
            for p in ("/api/v1/incidents", f"/api/v1/incidents/{fp}", "/api/v1/silences")
        ]
        login = await client.get("/")
    for answer in [*pages, *apis, login]:
        assert answer.status_code == 200, answer.request.url
        assert "no-store" in answer.headers.get("cache-control", ""), answer.request.url
        assert answer.headers.get("x-content-type-options") == "nosniff"
    for answer in [*pages, login]:
        csp = answer.headers.get("content-security-policy", "")
        assert "frame-ancestors 'none'" in csp or answer.headers.get("x-frame-options") == "DENY"


# --- hostile text in the JSON API and the pages -------------------------------------------------


async def test_hostile_incident_text_is_strict_json_and_escaped_html(store: SQLiteStore) -> None:
    """An incident whose title and a label hold markup, a quote and U+2028: the API answers
    strict JSON of `application/json` that round-trips the text (no HTML escaping inside
    JSON), and both pages escape it (no `<script>` or `<img` of the alert's)."""
    fp = await seed(store)
    async with serving(store) as server, client_of(server.port) as client:
        one = await client.get(f"/api/v1/incidents/{fp}", headers=BEARER)
        listing = await client.get("/api/v1/incidents", headers=BEARER)
        page = await client.get(f"/incidents/{fp}", headers=BEARER)
        status = await client.get("/", headers=BEARER)
    for answer in (one, listing):
        assert answer.headers["content-type"].startswith("application/json")
        json.loads(answer.content.decode("utf-8"))
        assert b"<script>" not in answer.content or "alert(1)" in answer.json().get(
            "title", str(answer.json())
        )
    assert "alert(1)" in one.json()["title"]
    for answer in (page, status):
        assert "<script>" not in answer.text and "<img" not in answer.text
        assert "&lt;script&gt;" in answer.text


# --- huge query strings -------------------------------------------------------------------------


async def raw_get(port: int, target: str) -> bytes:
    """The first line of the answer to `GET target` sent on a raw socket (httpx refuses to
    build so long a URL), or b"" when the server closed without one."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    try:
        request = f"GET {target} HTTP/1.1\r\nHost: x\r\nAuthorization: {BEARER['Authorization']}"
        writer.write(request.encode() + b"\r\nConnection: close\r\n\r\n")
        await writer.drain()
        return await asyncio.wait_for(reader.readline(), 10)
    finally:
        writer.close()


@pytest.mark.parametrize("size", [8_000, 60_000, 200_000])
async def test_a_huge_query_string_is_a_clear_error(store: SQLiteStore, size: int) -> None:
    """A query string of 8 KB to 200 KB on the API and the page: an answer (200, or a 4xx:
    400, 414 or 431), never a 500 or a connection closed without one."""
    await seed(store)
    async with serving(store) as server:
        for path in ("/api/v1/incidents", "/"):
            line = await raw_get(server.port, f"{path}?search={'a' * size}")
            assert line.startswith(b"HTTP/1.1 "), (path, size, line)
            assert int(line.split()[1]) in (200, 400, 414, 431), (path, size, line)


# --- hostile matchers via the API ---------------------------------------------------------------

HOSTILE_MATCHERS = [
    "team=<script>alert(1)</script>",
    'title=~<img src=x onerror="alert(1)">.*',
    "team=a\nb",
    "team=a\rSet-Cookie: x=y",
    "team=\x00",
    "__proto__=x",
    "constructor=x",
    "team=" + "a" * 100_000,
    "a" * 10_000 + "=x",
    "team=~(a+)+$",
    "team=~" + "(" * 5000 + "a" + ")" * 5000,
    "team=\ud800",
    "te am=x",
    "=x",
    "team==x",
]


@pytest.mark.parametrize("matcher", HOSTILE_MATCHERS, ids=range(len(HOSTILE_MATCHERS)))
async def test_a_hostile_matcher_through_the_api_is_refused_or_shown_escaped(
    store: SQLiteStore, matcher: str
) -> None:
    """A silence made through the API with a hostile matcher (markup, a line end, a NUL, a
    huge value or name, a catastrophic or deeply nested pattern, a lone surrogate) is a 400
    with a one-line JSON error, or a 201 whose matcher the page shows escaped; never a 500,
    and the error never quotes the markup back unescaped as HTML."""
    await seed(store, "payments 5xx")
    body = json.dumps({**SILENCE, "matchers": [matcher, "team=payments"]})
    async with serving(store) as server, client_of(server.port) as client:
        made = await client.post(
            "/api/v1/silences",
            content=body.encode(),
            headers={**BEARER, "Content-Type": "application/json"},
        )
        page = await client.get("/", headers=BEARER)
    assert made.status_code in (201, 400, 413), made.status_code
    assert made.headers["content-type"].startswith("application/json")
    assert "\n" not in made.json().get("error", "")
    assert page.status_code == 200
    assert "<script>" not in page.text and "<img" not in page.text
    assert len(made.content) < 20_000, "the answer quotes a huge matcher back"


# --- the login's CSRF checks --------------------------------------------------------------------


@pytest.mark.parametrize(
    "browser_says",
    [
        {"Origin": "null"},
        {"Sec-Fetch-Site": "cross-site"},
        {"Origin": "https://evil.example"},
        {"Sec-Fetch-Site": "same-site"},
        {"Origin": "null", "Referer": "https://evil.example/"},
    ],
)
async def test_a_login_posted_from_elsewhere_sets_no_session(
    store: SQLiteStore, browser_says: dict[str, str]
) -> None:
    """A login form posted with the right token and CSRF value but from another site (an
    `Origin: null` sandboxed frame, a cross- or same-site fetch) sets no session cookie: a
    page elsewhere cannot log the browser in to its token (login CSRF)."""
    async with serving(store) as server, client_of(server.port) as client:
        form = await client.get("/")
        answer = await client.post(
            "/login", data={"token": TOKEN, "csrf": _csrf(form)}, headers=browser_says
        )
    assert answer.status_code in (400, 401, 403), answer.status_code
    assert "triage_session=" not in answer.headers.get("set-cookie", "").replace(
        "triage_session=;", ""
    )


async def test_a_second_session_cookie_does_not_log_out_the_first(store: SQLiteStore) -> None:
    """Cookie tossing: a sibling host sets a second `triage_session` (a bogus one, or a
    logged-out one) beside the browser's valid one, in either order: the valid one still
    reads the page (the page never answers 500 for two cookies)."""
    async with serving(store) as server, client_of(server.port) as client:
        form = await client.get("/")
        login = await client.post("/login", data={"token": TOKEN, "csrf": _csrf(form)})
        found = re.search(r"triage_session=([^;]+)", login.headers["set-cookie"])
        assert found is not None
        valid = found.group(1)
        client.cookies.clear()
        for cookies in (
            f"triage_session=bogus; triage_session={valid}",
            f"triage_session={valid}; triage_session=bogus",
            f'triage_session="{valid}"',
        ):
            with capture_logs():
                page = await client.get("/", headers={"Cookie": cookies})
            assert page.status_code == 200, (cookies, page.status_code)


# --- more of the same, round two ----------------------------------------------------------------


@pytest.mark.parametrize(
    "browser_says",
    [
        {"Sec-Fetch-Site": "cross-site", "Origin": "https://t.example"},
        {"Origin": "null", "X-Forwarded-Host": "null"},
        {"Origin": "https://t.example.evil.example", "X-Forwarded-Host": "t.example"},
        {"Origin": "https://t.example@evil.example", "X-Forwarded-Host": "t.example"},
    ],
)
async def test_a_login_from_elsewhere_behind_a_proxy_sets_no_session(
    store: SQLiteStore, browser_says: dict[str, str]
) -> None:
    """Behind a proxy that sends `X-Forwarded-Host: t.example`: a cross-site fetch whose
    Origin names the page, an `Origin: null` beside a forwarded host spelt `null`, or an
    Origin that only starts with the host, sets no session cookie."""
    headers = {"X-Forwarded-Host": "t.example", **browser_says}
    async with serving(store) as server, client_of(server.port) as client:
        form = await client.get("/")
        answer = await client.post(
            "/login", data={"token": TOKEN, "csrf": _csrf(form)}, headers=headers
        )
    assert answer.status_code in (400, 401, 403), answer.status_code
    assert "triage_session=" not in answer.headers.get("set-cookie", "").replace(
        "triage_session=;", ""
    )


@pytest.mark.parametrize(
    "path",
    [
        "/incidents/%3Cscript%3Ealert(1)%3C%2Fscript%3E",
        "/incidents/abcd%22%3E%3Cimg%20src=x%3E",
        "/?search=%22%3E%3Cscript%3Ealert(1)%3C/script%3E",
        "/?match=team%3D%3Cscript%3E",
        "/?team=%3Cimg%20src%3Dx%3E",
        "/nope/%3Cscript%3E",
    ],
)
async def test_a_path_or_filter_holding_markup_is_never_reflected_as_markup(
    store: SQLiteStore, path: str
) -> None:
    """An incident path, a filter value or an unknown path holding markup, opened with the
    bearer header: whatever the status, the answer holds no `<script>` or `<img` of the
    request's, and a JSON answer says `application/json`."""
    await seed(store, "payments 5xx")
    async with serving(store) as server, client_of(server.port) as client:
        answer = await client.get(path, headers=BEARER)
    assert answer.status_code < 500, answer.status_code
    assert "<script>" not in answer.text and "<img" not in answer.text, answer.text[:300]


async def test_a_huge_silence_body_is_a_413_that_stores_nothing(store: SQLiteStore) -> None:
    """A 16 MiB JSON body to POST /api/v1/silences: a JSON 413 (or 400), nothing stored, and
    the port answers the next request."""
    big = json.dumps({**SILENCE, "comment": "x" * (16 << 20)}).encode()
    async with serving(store) as server, client_of(server.port) as client:
        try:
            made = await client.post(
                "/api/v1/silences",
                content=big,
                headers={**BEARER, "Content-Type": "application/json"},
            )
            status = made.status_code
        except httpx2.HTTPError:
            status = 0  # the server closed the connection mid-body, after answering
        listed = await client.get("/api/v1/silences?all=1", headers=BEARER)
    assert status in (0, 400, 413), status
    assert listed.status_code == 200 and listed.json()["silences"] == []


@pytest.mark.parametrize(
    "field",
    [
        {"comment": "<script>alert(1)</script>"},
        {"author": "<img src=x onerror=alert(1)>"},
        {"comment": "AKIAIOSFODNN7EXAMPLE wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"},
        {"author": "\u202eevil\u202c"},
    ],
)
async def test_a_silences_hostile_comment_or_author_is_escaped_and_redacted(
    store: SQLiteStore, field: dict[str, str]
) -> None:
    """A silence whose comment or author holds markup, an AWS key or a bidi override: made
    (201) or refused (400); the page shows no markup of it, no bidi override, and neither
    the API nor the page shows the secret key."""
    await seed(store, "payments 5xx")
    async with serving(store) as server, client_of(server.port) as client:
        made = await client.post("/api/v1/silences", json={**SILENCE, **field}, headers=BEARER)
        page = await client.get("/", headers=BEARER)
        listed = await client.get("/api/v1/silences", headers=BEARER)
    assert made.status_code in (201, 400), made.text
    for text in (page.text, listed.text, made.text):
        assert "wJalrXUtnFEMI" not in text
    assert "<script>" not in page.text and "<img" not in page.text
    assert "\u202e" not in page.text


@pytest.mark.parametrize(
    "query",
    [
        "limit=-1",
        "limit=0",
        "offset=1e9",
        "offset=-5",
        "limit=%EF%BC%95",  # a fullwidth 5
        "limit=\u0665",  # an Arabic-Indic 5, which int() reads
        "since=99999999d",
        "before=-1d",
        "state=%00",
        "match=team%3D%00",
    ],
)
async def test_an_odd_list_parameter_is_a_400_naming_it(store: SQLiteStore, query: str) -> None:
    """A list parameter that is negative, none, not ASCII digits (a fullwidth or an
    Arabic-Indic digit Python's int() reads), a huge or negative duration, or a NUL: a 400
    with a one-line JSON error, never a 500 or a listing read as if it were sane."""
    await seed(store, "payments 5xx")
    async with serving(store) as server, client_of(server.port) as client:
        answer = await client.get(f"/api/v1/incidents?{query}", headers=BEARER)
    assert answer.status_code == 400, (query, answer.status_code, answer.text[:200])
    assert "\n" not in answer.json()["error"]
