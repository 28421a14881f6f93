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

import pytest
from pydantic import SecretStr

from browser import Browser, chromium_or_skip
from test_operator_hostile import TOKEN
from test_pipeline import CountingSummariser
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
    browser.evaluate(
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
