"""One incident's page (`/incidents/{fingerprint}`), reached by a link from each row of the
status page, served in process on a loopback port against a SQLite store: what it is, its
tickets (a ticket that is a web address is a link labelled with its host; a reference that is
none, or a ticket gone, is text), its labels and its history with times absolute and relative;
only for a bearer token or a logged-in browser, every text escaped for HTML."""

from __future__ import annotations

import contextlib
import dataclasses
import re
from collections.abc import AsyncIterator
from datetime import timedelta
from html import unescape
from pathlib import Path

import httpx2
import pytest
from pydantic import SecretStr

from test_operator_hostile import BEARER, NOW, TOKEN
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
from triage.ops.status_page import _incident_page
from triage.settings import Settings

HOSTILE = '<script>alert(1)</script> "disk" full password=hunter2hunter2'
ISSUE = "https://github.com/acme/db/issues/7"


@pytest.fixture
async def store(tmp_path: Path) -> AsyncIterator[SQLiteStore]:
    opened = SQLiteStore(str(tmp_path / "t.db"), Policy(), timedelta(minutes=2), timedelta(days=1))
    await opened.open()
    yield opened
    await opened.aclose()


@contextlib.asynccontextmanager
async def browsing(store: SQLiteStore) -> AsyncIterator[httpx2.AsyncClient]:
    """The operator's routes on a loopback port, their clock at NOW."""
    settings = Settings(api_token=SecretStr(TOKEN))
    aws = Aws(settings)
    view = OperatorView(
        settings, store, SilenceCache(store), [], CountingSummariser(), Health(), aws
    )
    view = dataclasses.replace(view, clock=lambda: NOW)
    server = EndpointServer(Health(), Metrics(), "127.0.0.1", 0, extra_routes=operator_routes(view))
    await server.start()
    try:
        async with httpx2.AsyncClient(base_url=f"http://127.0.0.1:{server.port}") as client:
            yield client
    finally:
        await server.aclose()
        await aws.aclose()


async def _seed(store: SQLiteStore, refs: dict[str, str], gone: str = "") -> str:
    """An open critical incident with a hostile title, opened 12 minutes ago, whose sinks
    gave it `refs` (the last sink, `gone`, saying its ticket is gone for good)."""
    source = Alert(
        source="cloudwatch", status=Status.FIRING, title=HOSTILE, team="payments",
        labels={"env": "prod"}, occurred_at=NOW, identity={"dedup_key": "hostile"},
    )  # fmt: skip
    began = await store.begin(source, "m", NOW - timedelta(minutes=12))
    assert began.after is not None
    fp = began.after.fingerprint
    ticket = Ticket(title="t", priority=Priority.CRITICAL, description="d")
    await store.save_ticket(fp, "m", ticket, Routing("db", "payments", {"env": "prod"}))
    *others, last = refs.items()
    for sink, ref in others:
        await store.confirm(fp, "m", sink, ref)
    await store.confirm(fp, "m", last[0], last[1], finish=True, gone=True if gone else None)
    return fp


def _links(html: str) -> list[str]:
    return [unescape(href) for href in re.findall(r'<a href="([^"]*)"', html)]


async def test_each_row_links_to_its_incident_page_with_its_tickets_and_history(
    store: SQLiteStore,
) -> None:
    """The status page's row links to /incidents/{fingerprint}; that page names the incident's
    state, priority, team, route and labels, links the GitHub issue (labelled with its host),
    shows the backend's id as text, and lists its history with how long ago each line was."""
    fp = await _seed(store, {"backend": "T-812", "github": ISSUE})
    async with browsing(store) as http:
        index = (await http.get("/", headers=BEARER)).text
        assert f"/incidents/{fp}" in _links(index)
        assert ISSUE in _links(index)  # the ticket is one click from the row, too
        page = await http.get(f"/incidents/{fp}", headers=BEARER)
        by_prefix = await http.get(f"/incidents/{fp[:8]}", headers=BEARER)
    assert page.status_code == 200 and by_prefix.text == page.text
    html = page.text
    assert ISSUE in _links(html) and 'rel="noreferrer noopener"' in html
    assert "(github.com)" in html and "T-812" in html and "T-812" not in "".join(_links(html))
    text = unescape(re.sub(r"<[^>]+>", " ", html))
    for fact in ("critical", "payments", r"Route\s+db", "env=prod", "12 min ago", "open"):
        assert re.search(fact, text), fact
    assert "history" in text.lower()


async def test_the_incident_page_escapes_alert_text_and_links_only_web_addresses(
    store: SQLiteStore,
) -> None:
    """A hostile title is escaped and redacted; a ticket reference that is no http(s) address
    (`javascript:`), or whose sink said it is gone, is shown as text, never as a link."""
    fp = await _seed(store, {"backend": "javascript:alert(1)", "github": ISSUE}, gone="github")
    async with browsing(store) as http:
        html = (await http.get(f"/incidents/{fp}", headers=BEARER)).text
        index = (await http.get("/", headers=BEARER)).text
    for shown in (html, index):
        assert "<script>" not in shown and "hunter2" not in shown
        assert [link for link in _links(shown) if not link.startswith("/incidents/")] == []
    assert "&lt;script&gt;" in html and "(gone)" in html


async def test_the_incident_pages_history_says_what_each_sink_answered_escaped(
    store: SQLiteStore,
) -> None:
    """The history table has one row per sink that answered the open (its ticket, or that it
    is gone), as text, never a link; a reference holding markup and a credential is escaped
    and redacted there as in the tickets."""
    hostile = "T-9<b>x</b>password=hunter2hunter2"
    fp = await _seed(store, {"backend": hostile, "github": ISSUE}, gone="github")
    async with browsing(store) as http:
        html = (await http.get(f"/incidents/{fp}", headers=BEARER)).text
    history = html.split("History (oldest first)")[1]
    rows = [
        [unescape(re.sub(r"<[^>]+>", "", cell)) for cell in re.findall(r"<td>(.*?)</td>", row)][1:]
        for row in re.findall(r"<tr>(.*?)</tr>", history)
    ]
    assert rows[1:] == [
        ["open", ""],
        ["open", "backend: T-9<b>x</b>password=[REDACTED:password]"],
        ["open", f"github: {ISSUE} (gone)"],
    ]
    assert "<b>x" not in html and "hunter2" not in html
    assert ISSUE not in _links(history)


async def test_an_incident_page_needs_credentials_and_says_when_there_is_none(
    store: SQLiteStore,
) -> None:
    """Without the token or a session the page is the login form, with no incident text; an
    unknown or ambiguous fingerprint is a 404 page that says why, escaped."""
    fp = await _seed(store, {"backend": "T-812"})
    async with browsing(store) as http:
        anonymous = await http.get(f"/incidents/{fp}")
        unknown = await http.get("/incidents/<b>nope", headers=BEARER)
        too_long = await http.get("/incidents/" + "a" * 300, headers=BEARER)
    assert "disk" not in anonymous.text and "password" in anonymous.text  # the token field
    assert unknown.status_code == 404 and "no incident" in unknown.text
    assert "<b>" not in unknown.text
    assert too_long.status_code == 404


def test_the_incident_page_says_what_is_held_grouped_or_still_to_go_out() -> None:
    """A group's members, a held effect, a held close and an effect a sink failed (with when
    it is tried again) are on the incident's page, each time relative too."""
    shown = {
        "fingerprint": "f" * 32, "state": "closed", "title": "t", "source": "generic",
        "team": None, "priority": None, "occurrences": 3, "route": None, "labels": {},
        "opened_at": "2026-12-04T11:00:00+00:00", "updated_at": "2026-12-04T11:30:00+00:00",
        "closed_at": "2026-12-04T11:50:00+00:00", "close_held_until": "2026-12-04T12:05:00+00:00",
        "flapping": True, "silenced": True, "escalated_at": None, "tickets": {},
        "members": 4, "members_firing": 1, "held": {"effect": "update", "silence": "s1"},
        "history": [],
        "pending": {"effect": "close", "until": None, "done": ["backend"],
                    "failed_attempts": 2, "retry_at": "2026-12-04T12:01:00+00:00"},
    }  # fmt: skip
    text = re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", _incident_page(shown, NOW)))
    for fact in ("Group 4 alerts, 1 firing", "Held update by silence s1",
                 "Close held until 2026-12-04T12:05:00+00:00 (in 5 min)",
                 "close, done by backend; failed 2 times, next try", "(in 1 min)"):  # fmt: skip
        assert fact in text, fact
