"""Round 12 on the operator's surfaces (the API, the status page, the command line): bugs an
operator meets that eleven rounds left, each with the test that proves it fixed."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path

import pytest

from factories import T0, alert
from test_flap_damping import _flap
from test_silences import Rig
from test_store import LEASE, POLICY
from triage.incidents.sqlite import SQLiteStore
from triage.ops.operator import Filter, find_incident, incident_json, list_incidents
from triage.ops.status_page import _return_path
from triage.redact import Redactor


@pytest.fixture
async def store(tmp_path: Path) -> AsyncIterator[SQLiteStore]:
    """A SQLite store on disk, empty."""
    opened = SQLiteStore(str(tmp_path / "t.db"), POLICY, LEASE, timedelta(days=30))
    await opened.open()
    yield opened
    await opened.aclose()


# --- a close held while it flaps -----------------------------------------------------------------


async def test_a_held_close_is_open_in_its_object_as_in_the_list_that_holds_it() -> None:
    """An incident listed among the open ones (its close held while it flaps, its tickets still
    open) says `"state": "open"` in its object too, so a script reading the objects counts what
    the page counts; once the close goes out it says closed."""
    r = Rig()
    await _flap(r, 5, sweeps=0)
    listed = await list_incidents(r.store, Filter("open"))
    assert len(listed) == 1 and listed[0].close_held_until is not None
    shown = incident_json(listed[0], Redactor())
    assert shown["state"] == "open" and shown["close_held_until"] is not None
    r.clock.at(4.5 + 60)
    await r.sweep().once()
    [closed] = await list_incidents(r.store, Filter("closed"))
    assert incident_json(closed, Redactor())["state"] == "closed"


# --- a fingerprint typed in capitals ------------------------------------------------------------


@pytest.mark.parametrize("typed", [str.upper, lambda fp: fp[:6].upper(), lambda fp: fp[:8].title()])
async def test_a_fingerprint_in_capitals_names_the_incident(store: SQLiteStore, typed) -> None:  # type: ignore[no-untyped-def]
    """`incidents show ABC1` (a fingerprint read out over a call, or copied from a tool that
    writes hex in capitals) names the incident whose lower-case fingerprint it is, whole or as
    a prefix, as `abc1` does."""
    began = await store.begin(alert(), "m1", T0)
    assert began.after is not None
    fp = began.after.fingerprint
    found = await find_incident(store, typed(fp))
    assert found.fingerprint == fp


# --- a login's return path ----------------------------------------------------------------------


def test_a_return_path_keeps_a_filter_not_in_utf8_as_its_bytes() -> None:
    """A page filtered by a value whose bytes are not UTF-8 (`team=caf%E9`, Latin-1) returns
    there after the login with those bytes, so the page names the parameter (its 400), rather
    than a filter by U+FFFD that lists nothing and says nothing."""
    assert _return_path("/?team=caf%E9") == "/?team=caf%E9"
    assert (
        _return_path("/?team=caf%C3%A9&search=disk%20full") == "/?team=caf%C3%A9&search=disk%20full"
    )
