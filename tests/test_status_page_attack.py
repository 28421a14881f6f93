"""An attacker's pass over the operator's pages in a real headless browser (Debian's chromium)
and over real HTTP on a loopback port, against a SQLite store: alert text made to break the
layout of an incident's page on a phone, and what a browser is told about every page."""

from __future__ import annotations

import asyncio
import contextlib
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
from triage.incidents.silences import SilenceCache
from triage.incidents.sqlite import SQLiteStore
from triage.incidents.store import Routing
from triage.metrics import Metrics
from triage.models import Alert, Priority, Status, Ticket
from triage.ops.api import OperatorView, operator_routes
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
    await store.save_ticket(fp, "m", ticket, Routing(f"route{LONG}", "ops", {}))
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
        browser.evaluate(
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
