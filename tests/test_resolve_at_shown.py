"""Operators see when an open incident will be closed for want of alerts: `resolve_at` and the
route's `resolve_after_s` in what `triage incidents list/show` and the API print
(`incident_json`), and on the incident's status page, time absolute and relative, escaped.
SQLite store, operator routes on a loopback port."""

from __future__ import annotations

import re
from datetime import timedelta
from html import unescape

from test_auto_close import route_says_resolve_after
from test_operator_hostile import BEARER, NOW
from test_status_page_incident import _seed, browsing, store
from triage.incidents.sqlite import SQLiteStore
from triage.ops.operator import incident_json
from triage.ops.status_page import _incident_page
from triage.redact import Redactor

__all__ = ["store"]  # the fixture, used by name

HOURS_4 = 4 * 3600.0


async def test_listing_says_when_a_quiet_incident_closes_and_the_routes_setting(
    store: SQLiteStore,
) -> None:
    """An open, ticketed incident of a route with `resolve_after_s` shows `resolve_at` (its
    newest alert applied plus that long) and `resolve_after_s`; without the setting both are
    null, and scripts always find both keys."""
    fp = await _seed(store, {"backend": "T-812"})
    plain = await store.get(fp)
    assert plain is not None
    shown = incident_json(plain, Redactor())
    assert shown["resolve_at"] is None and shown["resolve_after_s"] is None
    await route_says_resolve_after(store, fp, HOURS_4)
    quiet = await store.get(fp)
    assert quiet is not None and quiet.resolve_at is not None
    shown = incident_json(quiet, Redactor())
    assert shown["resolve_after_s"] == HOURS_4
    assert shown["resolve_at"] == quiet.resolve_at.isoformat()
    assert shown["resolve_at"] == (NOW - timedelta(minutes=12) + timedelta(hours=4)).isoformat()


async def test_the_api_and_the_incident_page_show_when_it_closes(store: SQLiteStore) -> None:
    """`GET /api/v1/incidents` and `/{fingerprint}` carry `resolve_at` and `resolve_after_s`;
    the incident's page says when it closes if no alert comes, absolute and relative, and the
    route's setting."""
    fp = await _seed(store, {"backend": "T-812"})
    await route_says_resolve_after(store, fp, HOURS_4)
    async with browsing(store) as http:
        listed = (await http.get("/api/v1/incidents", headers=BEARER)).json()["incidents"]
        one = (await http.get(f"/api/v1/incidents/{fp}", headers=BEARER)).json()
        html = (await http.get(f"/incidents/{fp}", headers=BEARER)).text
    due = (NOW + timedelta(hours=4) - timedelta(minutes=12)).isoformat()
    assert [(i["resolve_at"], i["resolve_after_s"]) for i in listed] == [(due, HOURS_4)]
    assert (one["resolve_at"], one["resolve_after_s"]) == (due, HOURS_4)
    text = re.sub(r"\s+", " ", unescape(re.sub(r"<[^>]+>", " ", html)))
    assert f"Closes if quiet {due} (in 3 h 48 min)" in text, text
    assert "no alert for 14400 s (resolve_after_s)" in text


def test_an_incident_page_without_the_setting_has_no_closing_line() -> None:
    """An incident of a route without `resolve_after_s` (or a listing from before the key)
    has no closing line on its page."""
    shown = {
        "fingerprint": "f" * 32, "state": "open", "title": "t", "source": "generic",
        "team": None, "priority": None, "occurrences": 1, "route": None, "labels": {},
        "opened_at": "2026-12-04T11:00:00+00:00", "updated_at": "2026-12-04T11:30:00+00:00",
        "closed_at": None, "close_held_until": None, "flapping": False, "silenced": False,
        "escalated_at": None, "tickets": {}, "history": [], "resolve_at": None,
        "resolve_after_s": None,
    }  # fmt: skip
    assert "Closes if quiet" not in _incident_page(shown, NOW)
    shown["resolve_at"], shown["resolve_after_s"] = "2026-12-04T15:30:00+00:00", 14400.0
    page = unescape(re.sub(r"<[^>]+>", " ", _incident_page(shown, NOW)))
    assert "Closes if quiet" in page and "(in 3 h 30 min)" in page
