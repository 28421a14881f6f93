"""An attacker's pass over the operator's pages in a real headless browser (Debian's chromium)
and over real HTTP on a loopback port, against a SQLite store: alert text made to break the
layout of an incident's page on a phone, and what a browser is told about every page."""

from __future__ import annotations

import asyncio
import contextlib
import re
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx2
import pytest
from pydantic import SecretStr

from browser import Browser, chromium_or_skip
from test_operator_hostile import BEARER, TOKEN
from test_pipeline import CountingSummariser
from test_status_page_login import _csrf
from triage.aws import Aws
from triage.health import Health
from triage.incidents.lifecycle import Policy
from triage.incidents.silences import Matcher, Silence, SilenceCache
from triage.incidents.sqlite import SQLiteStore
from triage.incidents.store import Routing
from triage.metrics import Metrics
from triage.models import Alert, Priority, Status, Ticket
from triage.ops.api import Auth, OperatorView, operator_routes
from triage.ops.endpoints import EndpointServer
from triage.settings import Settings

PHONE_WIDTH = 390
#: A word no phone screen holds: a stack trace's, a base64 blob's, a URL's.
LONG = "Traceback" + "x" * 400


@pytest.fixture
async def store(tmp_path: Path) -> AsyncIterator[SQLiteStore]:
    opened = SQLiteStore(str(tmp_path / "t.db"), Policy(), timedelta(minutes=2), timedelta(days=1))
    await opened.open()
    yield opened
    await opened.aclose()


@contextlib.asynccontextmanager
async def serving(store: SQLiteStore) -> AsyncIterator[EndpointServer]:
    """The operator's routes on a loopback port."""
    settings = Settings(api_token=SecretStr(TOKEN))
    aws = Aws(settings)
    view = OperatorView(
        settings, store, SilenceCache(store), [], CountingSummariser(), Health(), aws
    )
    server = EndpointServer(Health(), Metrics(), "127.0.0.1", 0, extra_routes=operator_routes(view))
    await server.start()
    try:
        yield server
    finally:
        await server.aclose()
        await aws.aclose()


async def _seed_long(store: SQLiteStore) -> str:
    """An open incident whose every text (title, team, route, labels, ticket) is one long
    word, and whose history holds it."""
    now = datetime.now(UTC)
    source = Alert(
        source="generic", status=Status.FIRING, title=f"{LONG} title", team=f"team{LONG}",
        labels={f"label{LONG}": f"value{LONG}"}, occurred_at=now,
        identity={"dedup_key": "long"},
    )  # fmt: skip
    began = await store.begin(source, "m", now - timedelta(minutes=5))
    assert began.after is not None
    fp = began.after.fingerprint
    ticket = Ticket(title="t", priority=Priority.HIGH, description="d")
    await store.save_ticket(
        fp, "m", ticket, Routing(f"route{LONG}", "ops", {f"label{LONG}": f"value{LONG}"})
    )
    await store.confirm(fp, "m", "backend", f"T-{LONG}", finish=True)
    return fp


async def test_an_incident_page_of_long_words_fits_a_phone(
    store: SQLiteStore, tmp_path: Path
) -> None:
    """An incident's page whose title, team, route, labels, ticket and history are each one
    400-character word is no wider than a phone's screen: every text wraps, none pushes the
    page sideways (the status page's own test proves the same of `/`)."""
    executable = chromium_or_skip()
    fp = await _seed_long(store)
    async with serving(store) as server:
        width, text = await asyncio.to_thread(
            _phone_width, executable, tmp_path, f"http://127.0.0.1:{server.port}/incidents/{fp}"
        )
    assert LONG in text.replace("\n", ""), "the page is not the incident's"
    assert width <= PHONE_WIDTH, f"the incident's page is {width} px wide on a phone"


def _phone_width(executable: str, tmp_path: Path, url: str) -> tuple[int, str]:
    """Log in through the form the page shows, on a phone-sized screen; the width of the
    page it lands on, and its text."""
    browser = Browser(executable, tmp_path / "profile")
    try:
        browser.call(
            "Emulation.setDeviceMetricsOverride",
            {"width": PHONE_WIDTH, "height": 844, "deviceScaleFactor": 1, "mobile": True},
            page=True,
        )
        browser.call("Page.navigate", {"url": url}, page=True)
        browser.wait_for("document.querySelector('input[name=token]') !== null", "the login form")
        browser.navigate_by(
            f"document.querySelector('input[name=token]').value = {TOKEN!r};"
            "document.querySelector('form').submit(); true"
        )
        browser.wait_for(
            "document.body !== null && document.body.innerText.includes('History')",
            "the incident's page",
        )
        width = int(browser.evaluate("document.documentElement.scrollWidth"))
        text = str(browser.evaluate("document.body.innerText"))
    finally:
        browser.close()
    return width, text


async def test_logging_out_ends_the_browsers_session(store: SQLiteStore, tmp_path: Path) -> None:
    """A browser logged in through the form sees a "Log out" button on the status page and
    on an incident's page; pressing it lands on the login form, the session cookie is gone,
    and the page asked for again is the login form, not the incidents."""
    executable = chromium_or_skip()
    fp = await _seed_long(store)
    async with serving(store) as server:
        seen = await asyncio.to_thread(
            _log_in_and_out, executable, tmp_path, f"http://127.0.0.1:{server.port}", fp
        )
    buttons, cookies_after, text_after = seen
    assert buttons == [1, 1], "no Log out button on the pages of a logged-in browser"
    assert [c for c in cookies_after if c["name"] == "triage_session"] == []
    assert "API token" in text_after and LONG not in text_after.replace("\n", "")


def _log_in_and_out(
    executable: str, tmp_path: Path, base: str, fp: str
) -> tuple[list[int], list[dict[str, object]], str]:
    browser = Browser(executable, tmp_path / "profile")
    logout = "document.querySelectorAll('form[action=\"/logout\"] input[type=submit]').length"
    try:
        browser.call("Page.navigate", {"url": f"{base}/"}, page=True)
        browser.wait_for("document.querySelector('input[name=token]') !== null", "the login form")
        browser.navigate_by(
            f"document.querySelector('input[name=token]').value = {TOKEN!r};"
            "document.querySelector('form').submit(); true"
        )
        browser.wait_for(
            "document.body !== null && document.body.innerText.includes('Open incidents')",
            "the status page",
        )
        buttons = [int(browser.evaluate(logout))]
        browser.call("Page.navigate", {"url": f"{base}/incidents/{fp}"}, page=True)
        browser.wait_for(
            "document.body !== null && document.body.innerText.includes('History')",
            "the incident's page",
        )
        buttons.append(int(browser.evaluate(logout)))
        if buttons[-1]:
            browser.navigate_by(
                "document.querySelector('form[action=\"/logout\"] input[type=submit]').click();true"
            )
            browser.wait_for(
                "document.querySelector('input[name=token]') !== null", "the login form again"
            )
        cookies_after = browser.call("Network.getCookies", page=True)["cookies"]
        browser.call("Page.navigate", {"url": f"{base}/"}, page=True)
        browser.wait_for(
            "document.readyState === 'complete' && document.body !== null", "the page again"
        )
        text_after = str(browser.evaluate("document.body.innerText"))
    finally:
        browser.close()
    return buttons, cookies_after, text_after


@pytest.mark.parametrize(
    "proxy_says",
    [
        {"X-Forwarded-Proto": "https"},
        {"X-Forwarded-Proto": "HTTPS"},
        {"X-Forwarded-Proto": "https, http"},  # two proxies: the first is the browser's
        {"Forwarded": "for=192.0.2.7;proto=https;host=triage.example"},  # RFC 7239
        {"Forwarded": 'for="[2001:db8::7]";Proto=HTTPS, for=10.0.0.2;proto=http'},
    ],
)
async def test_behind_https_every_cookie_is_secure(
    store: SQLiteStore, proxy_says: dict[str, str]
) -> None:
    """Behind a proxy that says the browser came over HTTPS (in any of the headers proxies
    use), the login form's CSRF cookie, the session cookie and the logout's are `Secure`,
    so no browser ever sends them over plain HTTP."""
    async with serving(store) as server, _client(server) as client:
        form = await client.get("/", headers=proxy_says)
        # As the browser sends it back over HTTPS (httpx keeps a Secure cookie from http://).
        csrf = {"Cookie": f"triage_csrf={_csrf(form)}"}
        login = await client.post(
            "/login", data={"token": TOKEN, "csrf": _csrf(form)}, headers={**proxy_says, **csrf}
        )
        logout = await client.post("/logout", headers=proxy_says)
    assert login.status_code == 303 and logout.status_code == 303
    for answer in (form, login, logout):
        assert "; Secure" in answer.headers["set-cookie"], answer.headers["set-cookie"]


async def test_over_plain_http_cookies_are_not_secure(store: SQLiteStore) -> None:
    """On plain HTTP (a port forward to 127.0.0.1), or behind a proxy that says http, the
    cookies are not `Secure`: a browser would refuse to keep them, and no one could log in."""
    async with serving(store) as server, _client(server) as client:
        bare = await client.get("/")
        proxied = await client.get("/", headers={"X-Forwarded-Proto": "http"})
    for answer in (bare, proxied):
        assert "Secure" not in answer.headers["set-cookie"]


async def test_logout_drops_the_session_and_refuses_other_sites(store: SQLiteStore) -> None:
    """POST /logout answers a cookie that ends the session at once (Max-Age=0, HttpOnly) and
    sends the browser to the login form; posted from another site it is a 403 that drops
    nothing (no page elsewhere logs the operator out)."""
    async with serving(store) as server, _client(server) as client:
        ended = await client.post("/logout")
        cross = await client.post("/logout", headers={"Sec-Fetch-Site": "cross-site"})
    assert ended.status_code == 303 and ended.headers["location"] == "/"
    cookie = ended.headers["set-cookie"]
    assert cookie.startswith("triage_session=;") and "Max-Age=0" in cookie
    assert "HttpOnly" in cookie
    assert cross.status_code == 403 and "set-cookie" not in cross.headers


def _client(server: EndpointServer) -> httpx2.AsyncClient:
    return httpx2.AsyncClient(base_url=f"http://127.0.0.1:{server.port}")


async def test_a_matcher_holding_a_comma_does_not_read_as_two(store: SQLiteStore) -> None:
    """The silences table shows each matcher in an element of its own: a silence of the one
    matcher `title=disk full, team=payments` (a value a hostile or careless hand can type)
    does not look like the silence of the two matchers `title=disk full` and `team=payments`,
    which quiets other alerts."""
    now = datetime.now(UTC)
    for matchers in (["title=disk full, team=payments"], ["title=disk full", "team=payments"]):
        parsed = [Matcher.parse(m) for m in matchers]
        await store.add_silence(Silence.new(parsed, now, now + timedelta(hours=1), "c", "a"), now)
    async with serving(store) as server, _client(server) as client:
        page = (await client.get("/", headers=BEARER)).text
    silences = page.split("<h2>Silences</h2>")[1].split("</section>")[0]
    cells = [re.findall(r"<tr><td>(.*?)</td>", row)[0] for row in silences.split("</tr>")[1:-1]]
    shown = sorted([re.findall(r"<span[^>]*>(.*?)</span>", cell) for cell in cells], key=len)
    assert shown == [["title=disk full, team=payments"], ["title=disk full", "team=payments"]]


async def test_a_label_value_holding_a_comma_does_not_read_as_another_label(
    store: SQLiteStore,
) -> None:
    """An incident's page shows each label in an element of its own: the value `dev,
    severity=critical` of `env` does not read as a second label, `severity=critical`."""
    now = datetime.now(UTC)
    source = Alert(
        source="generic", status=Status.FIRING, title="disk", occurred_at=now,
        identity={"dedup_key": "comma"},
    )  # fmt: skip
    began = await store.begin(source, "m", now)
    assert began.after is not None
    fp = began.after.fingerprint
    ticket = Ticket(title="t", priority=Priority.HIGH, description="d")
    labels = {"env": "dev, severity=critical", "team": "db"}
    await store.save_ticket(fp, "m", ticket, Routing("default", "ops", labels))
    async with serving(store) as server, _client(server) as client:
        page = (await client.get(f"/incidents/{fp}", headers=BEARER)).text
    cell = re.findall(r"<th>Labels</th><td>(.*?)</td>", page)[0]
    shown = re.findall(r"<span[^>]*>(.*?)</span>", cell)
    assert shown == ["env=dev, severity=critical", "team=db"]


async def test_a_bogus_session_cookie_sent_first_does_not_hide_the_valid_one(
    store: SQLiteStore,
) -> None:
    """A browser may send two `triage_session` cookies (a sibling host set one for a longer
    path, which goes first): the valid session still reads the page and the API, rather
    than every login landing on the login form again."""
    valid = Auth(TOKEN).session()
    tossed = {"Cookie": f"triage_session=0.bogus; triage_session={valid}"}
    async with serving(store) as server, _client(server) as client:
        page = await client.get("/", headers=tossed)
        api = await client.get("/api/v1/incidents", headers=tossed)
    assert page.status_code == 200 and "Open incidents" in page.text
    assert api.status_code == 200


async def test_a_bogus_csrf_cookie_sent_first_does_not_fail_the_login(store: SQLiteStore) -> None:
    """Likewise a second `triage_csrf` cookie sent before the form's own: the login with the
    form's value goes through instead of saying the form expired, again and again."""
    async with serving(store) as server, _client(server) as client:
        form = await client.get("/")
        csrf = _csrf(form)
        tossed = {"Cookie": f"triage_csrf=tossed; triage_csrf={csrf}"}
        client.cookies.clear()
        login = await client.post("/login", data={"token": TOKEN, "csrf": csrf}, headers=tossed)
    assert login.status_code == 303, login.text


async def test_a_ticket_reference_holding_a_comma_does_not_read_as_another_ticket(
    store: SQLiteStore,
) -> None:
    """Each ticket is shown as an element of its own, on the status page and the incident's:
    a backend whose answer names its ticket `T-1, github: acme/db#7` does not seem to have
    opened a GitHub issue beside its own."""
    now = datetime.now(UTC)
    source = Alert(
        source="generic", status=Status.FIRING, title="disk", occurred_at=now,
        identity={"dedup_key": "ticket-comma"},
    )  # fmt: skip
    began = await store.begin(source, "m", now)
    assert began.after is not None
    fp = began.after.fingerprint
    ticket = Ticket(title="t", priority=Priority.HIGH, description="d")
    await store.save_ticket(fp, "m", ticket, Routing("default", "ops", {}))
    await store.confirm(fp, "m", "backend", "T-1, github: acme/db#7", finish=True)
    async with serving(store) as server, _client(server) as client:
        index = (await client.get("/", headers=BEARER)).text
        page = (await client.get(f"/incidents/{fp}", headers=BEARER)).text
    cell = re.findall(r"<th>Tickets</th><td>(.*?)</td>", page)[0]
    for shown in (cell, index):
        tickets = re.findall(r"<span class=tag>(.*?)</span></span>", shown)
        assert [re.sub(r"<[^>]+>", "", t) for t in tickets] == ["backend: T-1, github: acme/db#7"]
