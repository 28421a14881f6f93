"""Round 8 of the operator's page and API, as an on-call operator uses them at 3 a.m. (helper
541): in a real headless browser (Debian's chromium) on a 375 px phone over a loopback port,
against a SQLite store: finding an incident by the page's filters (kept in the URL, so a
reload and the back button keep them), searching for text with `%`, `_`, `*`, quotes and
non-ASCII letters, hostile alert text that tries to restyle or break the page, and sessions
(cookie flags, a second login, a logout)."""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import quote

import httpx2
import pytest
from pydantic import SecretStr

from browser import Browser, chromium_or_skip
from test_operator_hostile import BEARER, TOKEN
from test_pipeline import CountingSummariser
from test_status_page_login import _return_field
from triage.aws import Aws
from triage.health import Health
from triage.incidents.lifecycle import Policy
from triage.incidents.silences import Matcher, Silence, SilenceCache
from triage.incidents.sqlite import SQLiteStore
from triage.incidents.store import Routing
from triage.metrics import Metrics
from triage.models import Alert, Priority, Status, Ticket
from triage.ops.api import OperatorView, operator_routes
from triage.ops.endpoints import EndpointServer
from triage.settings import Settings

PHONE_WIDTH = 375


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


async def _open(
    store: SQLiteStore,
    name: str,
    *,
    title: str | None = None,
    team: str = "payments",
    source: str = "generic",
    priority: Priority = Priority.HIGH,
    labels: dict[str, str] | None = None,
    flapping: bool = False,
) -> str:
    """An open, ticketed incident; its fingerprint."""
    now = datetime.now(UTC)
    alert = Alert(
        source=source, status=Status.FIRING, title=title or f"{name} is failing", team=team,
        labels=labels or {}, occurred_at=now, identity={"dedup_key": name},
    )  # fmt: skip
    began = await store.begin(alert, f"m-{name}", now - timedelta(minutes=5))
    assert began.after is not None
    fp = began.after.fingerprint
    ticket = Ticket(title="t", priority=priority, description="d")
    await store.save_ticket(fp, f"m-{name}", ticket, Routing("default", team, {}))
    await store.confirm(fp, f"m-{name}", "backend", f"T-{name}", finish=True)
    if flapping:
        await store._transact(
            fp,
            lambda i: (
                (dataclasses.replace(i, flapping=True, version=i.version + 1), None)
                if i
                else (None, None)
            ),
        )
    return fp


def _phone(executable: str, tmp_path: Path) -> Browser:
    browser = Browser(executable, tmp_path / "profile")
    browser.call(
        "Emulation.setDeviceMetricsOverride",
        {"width": PHONE_WIDTH, "height": 812, "deviceScaleFactor": 1, "mobile": True},
        page=True,
    )
    return browser


def _log_in(browser: Browser, url: str, landed: str) -> None:
    """Open `url`, log in through the form it shows, and wait for the page holding `landed`."""
    browser.call("Page.navigate", {"url": url}, page=True)
    browser.wait_for("document.querySelector('input[name=token]') !== null", "the login form")
    browser.navigate_by(
        f"document.querySelector('input[name=token]').value = {TOKEN!r};"
        "document.querySelector('form').submit(); true"
    )
    browser.wait_for(
        f"document.body !== null && document.body.innerText.includes({landed!r})", landed
    )


#: Every element whose box reaches past the phone's screen, named by its tag and class.
_TOO_WIDE = (
    "[...document.querySelectorAll('body *')].filter(e => "
    f"e.getBoundingClientRect().right > {PHONE_WIDTH} + 0.5)"
    ".map(e => e.tagName + '.' + e.className + ' ' + Math.round(e.getBoundingClientRect().right))"
)


async def test_hostile_text_leaves_the_page_whole_and_every_column_on_a_phone(
    store: SQLiteStore, tmp_path: Path
) -> None:
    """At 375 px, with a title, labels and a silence comment holding `</style>`, CSS
    `expression(` and `url(javascript:…)`, an `<svg onload>`, an RTL override, emoji, a
    10,000-character word and 500 combining marks, the status page and the incident's page
    run nothing and add no element, style or link, the text is shown, and no element
    reaches past the screen: the silences table's every column (its ID, which `triage
    silence expire` takes) is on it, not behind a sideways scroll."""
    executable = chromium_or_skip()
    hostile = (
        "</style><style>body{display:none}</style> x{width:expression(alert(1))} "
        "url(javascript:alert(1)) <svg onload=alert(1)> \u202eevil 🔥👩‍👩‍👧 "
        + "W" * 10_000
        + " a"
        + "\u0301" * 500
    )
    fp = await _open(
        store,
        "hostile",
        title=hostile,
        labels={"runbook": "javascript:alert(1)", "url": "https://evil.example/</style>"},
    )
    now = datetime.now(UTC)
    silence = Silence.new(
        [Matcher.parse("team=payments")], now, now + timedelta(hours=2), hostile, "al"
    )
    await store.add_silence(silence, now)
    async with serving(store) as server:
        base = f"http://127.0.0.1:{server.port}"
        pages = await asyncio.to_thread(_hostile_pages, executable, tmp_path, base, fp)
    for url, (too_wide, injected, text) in pages.items():
        assert too_wide == [], (url, too_wide)
        assert injected == 0, url
        assert "</style>" in text and "<svg onload=alert(1)>" in text, url
        assert "🔥" in text and "W" * 10_000 in text.replace("\n", ""), url
        assert "\u202e" not in text, url
    assert silence.id in pages["/"][2]


def _hostile_pages(
    executable: str, tmp_path: Path, base: str, fp: str
) -> dict[str, tuple[list[str], int, str]]:
    """For the status page and the incident's page: the elements reaching past the screen,
    how many elements, styles or links not the page's own it holds, and its text."""
    injected = (
        "document.querySelectorAll('script, style:not(head > style), svg, img, iframe, "
        "object, embed, link, [style], [onload], [onerror], [src], "
        'a:not([href^="/incidents/"]):not([href="/"])\').length'
    )
    browser = _phone(executable, tmp_path)
    seen: dict[str, tuple[list[str], int, str]] = {}
    try:
        _log_in(browser, f"{base}/", "Open incidents")
        for path, landed in (("/", "Open incidents"), (f"/incidents/{fp}", "History")):
            browser.call("Page.navigate", {"url": f"{base}{path}"}, page=True)
            browser.wait_for(
                f"document.body !== null && document.body.innerText.includes({landed!r})", path
            )
            text = str(browser.evaluate("document.body.innerText"))
            seen[path if path == "/" else "incident"] = (
                list(browser.evaluate(_TOO_WIDE)),
                int(browser.evaluate(injected)),
                text,
            )
    finally:
        browser.close()
    return seen


async def _storm_sample(store: SQLiteStore) -> dict[str, str]:
    """Open incidents that each filter tells apart: by team, source, priority, title and
    flapping; their fingerprints by name."""
    return {
        "db": await _open(store, "db", team="db", title="disk 100% full on db-1"),
        "pay": await _open(store, "pay", title="checkout 5xx", priority=Priority.CRITICAL),
        "flap": await _open(store, "flap", title="checkout latency", flapping=True),
        "grafana": await _open(store, "grafana", source="grafana", title="grafana queue_depth"),
    }


async def test_each_filter_of_the_page_narrows_the_list_flapping_too(store: SQLiteStore) -> None:
    """The page's team, source, priority, search and flapping filters each list only the open
    incidents they keep (`flapping` as the API takes it), and a `flapping` the page cannot
    read is the 400 page naming it, not a list of everything."""
    fps = await _storm_sample(store)
    async with serving(store) as server, _client(server) as client:
        for query, kept in (
            ("team=db", {"db"}),
            ("source=grafana", {"grafana"}),
            ("priority=critical", {"pay"}),
            ("search=checkout", {"pay", "flap"}),
            ("flapping=1", {"flap"}),
            ("flapping=1&search=checkout", {"flap"}),
        ):
            page = await client.get(f"/?{query}")
            assert page.status_code == 200, (query, page.text[-400:])
            listed = {name for name, fp in fps.items() if f"/incidents/{fp}" in page.text}
            assert listed == kept, query
        refused = await client.get("/?flapping=maybe")
        assert refused.status_code == 400 and "flapping" in refused.text


@contextlib.asynccontextmanager
async def _client(server: EndpointServer) -> AsyncIterator[httpx2.AsyncClient]:
    """A client of the port that sends the bearer header."""
    base = f"http://127.0.0.1:{server.port}"
    async with httpx2.AsyncClient(base_url=base, headers=BEARER) as client:
        yield client


async def test_the_filters_survive_a_reload_and_the_back_button(
    store: SQLiteStore, tmp_path: Path
) -> None:
    """In chromium, an operator opens a Slack link to the filtered page (logged out), logs
    in, ticks "flapping only" in the form and submits: the URL holds every filter, the list
    holds only what they keep, and a reload and the back button from an incident's page
    show the same list with the form still filled in."""
    executable = chromium_or_skip()
    fps = await _storm_sample(store)
    async with serving(store) as server:
        base = f"http://127.0.0.1:{server.port}"
        seen = await asyncio.to_thread(_filter_and_come_back, executable, tmp_path, base)
    first, ticked, reloaded, back = seen
    assert "search=checkout" in first["url"] and "team=payments" in first["url"]
    assert _listed(first, fps) == {"pay", "flap"}
    assert "flapping=1" in ticked["url"] and _listed(ticked, fps) == {"flap"}
    for again in (reloaded, back):
        assert again["url"] == ticked["url"]
        assert _listed(again, fps) == {"flap"}
        assert again["form"] == {"search": "checkout", "team": "payments", "flapping": True}


def _listed(seen: dict[str, Any], fps: dict[str, str]) -> set[str]:
    return {name for name, fp in fps.items() if f"/incidents/{fp}" in seen["links"]}


def _filter_and_come_back(executable: str, tmp_path: Path, base: str) -> tuple[dict[str, Any], ...]:
    browser = _phone(executable, tmp_path)
    state = (
        "({url: location.href, links: [...document.querySelectorAll('a')].map(a => a.href)"
        ".join(' '), form: {search: document.querySelector('input[name=search]').value, "
        "team: document.querySelector('input[name=team]').value, flapping: "
        "!!(document.querySelector('input[name=flapping]') || {}).checked}})"
    )
    try:
        _log_in(browser, f"{base}/?search=checkout&team=payments", "Open incidents")
        first = browser.evaluate(state)
        browser.wait_for("document.querySelector('input[name=flapping]') !== null", "the box")
        browser.navigate_by(
            "document.querySelector('input[name=flapping]').click();"
            "document.querySelector('form[action=\"/\"] input[type=submit]').click(); true"
        )
        browser.wait_for("location.search.includes('flapping')", "the flapping filter")
        browser.wait_for("document.readyState === 'complete'", "the page")
        ticked = browser.evaluate(state)
        browser.call("Page.reload", page=True)
        browser.wait_for("document.readyState === 'complete'", "the reload")
        browser.wait_for("document.body.innerText.includes('Open incidents')", "the page")
        reloaded = browser.evaluate(state)
        browser.navigate_by("document.querySelector('a[href^=\"/incidents/\"]').click(); true")
        browser.wait_for("document.body.innerText.includes('History')", "the incident's page")
        browser.navigate_by("history.back(); true")
        browser.wait_for("document.body.innerText.includes('Open incidents')", "the list")
        back = browser.evaluate(state)
    finally:
        browser.close()
    return first, ticked, reloaded, back


async def test_a_login_returns_to_the_page_filtered_to_flapping(store: SQLiteStore) -> None:
    """A link to `/?flapping=1&team=payments` opened without a session gets the login form
    returning to that page, its flapping filter kept, as the page's other filters are."""
    await _storm_sample(store)
    async with serving(store) as server:
        base = f"http://127.0.0.1:{server.port}"
        async with httpx2.AsyncClient(base_url=base) as client:
            form = await client.get("/?flapping=1&team=payments")
    assert _return_field(form) == "/?flapping=1&team=payments"


async def test_after_log_out_the_back_button_shows_no_incident(
    store: SQLiteStore, tmp_path: Path
) -> None:
    """On a shared laptop, chromium logs in, opens an incident's page, presses Log out, then
    the back button twice: each page it goes back to is the login form (the pages are
    `no-store`, asked for again), never the incidents from the browser's cache. The pages
    offer no form that changes anything but the filter, the login and the logout: quieting
    and closing take the bearer token (`triage silence add`, `triage incidents close`)."""
    executable = chromium_or_skip()
    fps = await _storm_sample(store)
    async with serving(store) as server:
        base = f"http://127.0.0.1:{server.port}"
        seen = await asyncio.to_thread(_back_after_logout, executable, tmp_path, base, fps["db"])
    forms, texts = seen
    assert set(forms) <= {"get /", "post /logout"}, forms
    for text in texts:
        assert "API token" in text and "disk 100% full" not in text and "Open incidents" not in text


def _back_after_logout(
    executable: str, tmp_path: Path, base: str, fp: str
) -> tuple[list[str], list[str]]:
    browser = _phone(executable, tmp_path)
    forms = "[...document.forms].map(f => f.method + ' ' + new URL(f.action).pathname)"
    try:
        _log_in(browser, f"{base}/", "Open incidents")
        seen_forms = list(browser.evaluate(forms))
        browser.call("Page.navigate", {"url": f"{base}/incidents/{fp}"}, page=True)
        browser.wait_for("document.body.innerText.includes('History')", "the incident's page")
        seen_forms += browser.evaluate(forms)
        browser.navigate_by("document.querySelector('form.out input[type=submit]').click(); true")
        browser.wait_for("document.querySelector('input[name=token]') !== null", "logged out")
        texts = []
        for _ in range(2):
            browser.navigate_by("window.__left = true; history.back(); true")
            browser.wait_for(
                "window.__left === undefined && document.readyState === 'complete'", "back"
            )
            texts.append(str(browser.evaluate("document.body.innerText")))
    finally:
        browser.close()
    return seen_forms, texts


async def test_a_search_for_wildcard_and_quote_characters_finds_them_as_text(
    store: SQLiteStore,
) -> None:
    """The page's search (as the browser's form encodes it) reads `%`, `_`, `*` and quotes
    as the characters they are, no wildcard or SQL LIKE pattern, and a non-ASCII letter
    typed composed or decomposed, in any case: each finds its incident and nothing else."""
    titles = {
        "pct": "disk 100% full",
        "under": "queue_depth high",
        "star": "glob *.log missing",
        "quote": "the \"payments\" db said 'no'",
        "cafe": "Café latency",
        "decoy": "disk 1000 full queue-depth glob x.log the payments db said no Cafe",
    }
    fps = {name: await _open(store, name, title=title) for name, title in titles.items()}
    async with serving(store) as server, _client(server) as client:
        for typed, found in (
            ("100%", "pct"),
            ("_", "under"),
            ("*.log", "star"),
            ('"payments"', "quote"),
            ("'no'", "quote"),
            ("CAFÉ", "cafe"),
            ("cafe\u0301", "cafe"),
        ):
            page = await client.get("/", params={"search": typed})
            assert page.status_code == 200, typed
            listed = {name for name, fp in fps.items() if f"/incidents/{fp}" in page.text}
            assert listed == {found}, typed


async def test_the_answers_to_hostile_filters_and_paths_fit_a_phone(
    store: SQLiteStore, tmp_path: Path
) -> None:
    """A filter the page refuses (a 3,000-character matcher holding markup), a search of the
    most characters it takes, and an incident path no fingerprint has, opened on a 375 px
    phone: each answer says why in text (no element injected) and nothing on it reaches
    past the screen."""
    executable = chromium_or_skip()
    await _storm_sample(store)
    word = "W" * 3000
    paths = {
        f"/?match={quote('env=<svg onload=alert(1)>' + word)}": 400,
        f"/?search={'W' * 200}": 200,
        f"/?match={quote('env=~(' + word)}&flapping=1": 400,
        f"/incidents/{quote('<svg onload=alert(1)>' + word, safe='')}": 404,
    }
    async with serving(store) as server:
        base = f"http://127.0.0.1:{server.port}"
        seen = await asyncio.to_thread(_widths, executable, tmp_path, base, list(paths))
        async with _client(server) as client:
            for path, status in paths.items():
                assert (await client.get(path)).status_code == status, path
    for path, (too_wide, injected) in seen.items():
        assert too_wide == [] and injected == 0, (path[:60], too_wide)


def _widths(
    executable: str, tmp_path: Path, base: str, paths: list[str]
) -> dict[str, tuple[list[str], int]]:
    browser = _phone(executable, tmp_path)
    seen: dict[str, tuple[list[str], int]] = {}
    try:
        _log_in(browser, f"{base}/", "Open incidents")
        for path in paths:
            browser.evaluate("window.__left = true")
            browser.call("Page.navigate", {"url": f"{base}{path}"}, page=True)
            browser.wait_for(
                "window.__left === undefined && document.readyState === 'complete'", path[:40]
            )
            injected = int(browser.evaluate("document.querySelectorAll('svg, [onload]').length"))
            seen[path] = (list(browser.evaluate(_TOO_WIDE)), injected)
    finally:
        browser.close()
    return seen
