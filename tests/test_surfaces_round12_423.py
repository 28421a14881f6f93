"""Round 12 on the operator's surfaces (the API, the status page, the command line): bugs an
operator meets that eleven rounds left, each with the test that proves it fixed."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path

import pytest

from factories import T0, alert
from test_flap_damping import _flap
from test_operator_api import BEARER, serving
from test_operator_cli import _create_store, triage
from test_silences import Rig
from test_store import LEASE, POLICY
from triage.incidents.sqlite import SQLiteStore
from triage.ops.operator import Filter, find_incident, incident_json, list_incidents
from triage.ops.status_page import _return_path
from triage.redact import Redactor

#: A silence id as an operator may paste it: in capitals, with the spaces a table cell adds.
PASTED = (str.upper, lambda sid: f" {sid}\n", lambda sid: f"\t{sid.upper()} ")


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


@pytest.mark.parametrize(
    "typed",
    [str.upper, lambda fp: fp[:6].upper(), lambda fp: fp[:8].title(), lambda fp: f" {fp[:6]}\n"],
)
async def test_a_fingerprint_in_capitals_names_the_incident(store: SQLiteStore, typed) -> None:  # type: ignore[no-untyped-def]
    """`incidents show ABC1` (a fingerprint read out over a call, or copied from a tool that
    writes hex in capitals, or pasted with a cell's spaces) names the incident whose lower-case
    fingerprint it is, whole or as a prefix, as `abc1` does."""
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


# --- a silence id pasted in capitals or with spaces ----------------------------------------------


@pytest.mark.parametrize("pasted", PASTED)
def test_the_command_line_expires_a_silence_whose_id_is_pasted_in_capitals(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    pasted,  # type: ignore[no-untyped-def]
) -> None:
    """`triage silence expire EC582D388484` (read out over a call, or pasted with the spaces
    of a table's cell) ends the silence `ec582d388484`, not "no silence", which leaves the
    alerts it quiets quiet while the operator thinks it ended."""
    monkeypatch.setenv("TRIAGE_STORE_URL", f"sqlite:///{tmp_path / 'triage.db'}")
    monkeypatch.setenv("TRIAGE_LOG_LEVEL", "warning")
    import asyncio

    asyncio.run(_create_store())
    code, [added], err = triage(
        capsys, "silence", "add", "--match", "team=pay", "--for", "1h", "--comment", "c"
    )
    assert code == 0, err
    code, answer, err = triage(capsys, "silence", "expire", pasted(added["id"]))
    assert code == 0, err
    [expired] = answer
    assert expired["id"] == added["id"] and not expired["active"]


@pytest.mark.parametrize("pasted", PASTED[:1])
async def test_the_api_expires_a_silence_whose_id_is_in_capitals(
    store: SQLiteStore,
    pasted,  # type: ignore[no-untyped-def]
) -> None:
    """`DELETE /api/v1/silences/EC582D388484` ends the silence `ec582d388484`, as the command
    line does, rather than a 404 that leaves it quieting alerts."""
    async with serving(store) as client:
        made = await client.post(
            "/api/v1/silences",
            json={"matchers": ["team=pay"], "duration": "1h", "comment": "c"},
            headers=BEARER,
        )
        assert made.status_code == 201, made.text
        sid = made.json()["id"]
        gone = await client.delete(f"/api/v1/silences/{pasted(sid)}", headers=BEARER)
    assert gone.status_code == 200, gone.text
    assert gone.json()["id"] == sid and not gone.json()["active"]


# --- paging by a variable left unset -------------------------------------------------------------


@pytest.mark.parametrize("given", ["offset=", "limit=", "offset=&limit=2", "since=", "before="])
async def test_a_paging_value_given_empty_is_a_400_naming_it(
    store: SQLiteStore, given: str
) -> None:
    """`?offset=` (a pager's `offset=$NEXT` with NEXT unset) is a 400 naming it, as `?state=`
    and `?flapping=` are, not the first page again: read as 0, a script paging to `total`
    was answered the same incidents at every step, and never reached the rest."""
    async with serving(store) as client:
        answer = await client.get(f"/api/v1/incidents?{given}", headers=BEARER)
    assert answer.status_code == 400, answer.text
    assert given.split("=")[0] in answer.json()["error"]


# --- a held close says so where it is listed ---------------------------------------------------


async def test_a_held_close_is_flagged_on_the_list_line_and_the_page_row() -> None:
    """Listed as open while its alert has resolved, an incident whose close is held says so
    on its `incidents list --output text` line and its status-page row (`close held`), so an
    operator does not take the open incident for an alert still firing."""
    from datetime import UTC, datetime

    from triage.ops.operator_text import incident_line

    r = Rig()
    await _flap(r, 5, sweeps=0)
    [held] = await list_incidents(r.store, Filter("open"))
    now = datetime.now(UTC)
    line = incident_line(incident_json(held, Redactor()), held.opened_at, now)
    assert "[close held]" in line.split(held.fingerprint[:12])[0]
    async with serving(r.store) as client:
        page = await client.get("/", headers=BEARER)
    assert page.status_code == 200, page.text
    assert "<span class=tag>close held</span>" in page.text
