"""Red team round 6: operators seeing and quieting what triage knows. Where the listing, the
status page and an incident's own answer show an operator something other than what triage
acts on, and where a silence or a close by hand does not do what the operator meant: a held
close ranked below every open incident, a page form that forgets all but one matcher, a
silenced incident's labels shown empty, a listing kept by a reopen time it never shows, an
owed update sent while a silence matches, closes by hand marking a steady alert flapping, the
page's silence row undercounting what it matches, and a matcher copied from a listed key
answering an empty list without a word."""

from __future__ import annotations

import dataclasses
import re
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx2
import pytest

from factories import alert
from test_operator_api import BEARER as API_BEARER
from test_operator_api import serving
from test_operator_filters import BEARER
from test_operator_filters import store as store  # 300 open incidents
from test_operator_silence_preview import client as client  # the operator's routes
from test_redteam_round4_storms import Cluster, at, pod, webhook
from triage.incidents.codec import view_to_json
from triage.incidents.lifecycle import FLAP_HOLD, Incident, Pending, Policy, State
from triage.incidents.silences import Silence
from triage.incidents.sqlite import SQLiteStore
from triage.incidents.store import Hold
from triage.models import EffectKind, Priority, Status, Ticket
from triage.ops.operator import Filter, list_incidents, new_silence
from triage.redact import Redactor
from triage.view import redact_alert

NOW = datetime(2026, 12, 6, 11, 0, tzinfo=UTC)


class _Listed:
    """A store that holds exactly `incidents` (only what `list_incidents` reads of one)."""

    def __init__(self, incidents: list[Incident]) -> None:
        self._incidents = incidents

    async def incidents(self) -> list[Incident]:
        return list(self._incidents)


def _ticketed(fingerprint: str, title: str, priority: Priority, **fields: object) -> Incident:
    """An incident with a ticket of `priority` at the backend, opened an hour ago."""
    return Incident(
        fingerprint, fields.pop("state", State.OPEN), "generic", title,  # type: ignore[arg-type]
        NOW - timedelta(hours=1), NOW, refs={"backend": f"T-{fingerprint[:4]}"},
        ticket=Ticket(title=title, priority=priority, description="d"), **fields,  # type: ignore[arg-type]
    )  # fmt: skip


async def test_a_held_close_is_ranked_by_its_priority_among_the_open() -> None:
    """`incidents list` (open, most urgent first) ranks a critical incident whose close is held
    back while it flaps (listed as open: its tickets are open) before an open low one."""
    held_close = _ticketed(
        "a" * 32, "checkout down (flapping)", Priority.CRITICAL, state=State.CLOSED,
        closed_at=NOW, flapping=True, quiet_until=NOW + timedelta(minutes=10),
        pending=Pending(EffectKind.CLOSE, FLAP_HOLD, NOW + timedelta(minutes=10), 2),
    )  # fmt: skip
    low = _ticketed("b" * 32, "disk 80% on a build box", Priority.LOW)
    assert held_close.close_held_until is not None  # a close held back: listed as open
    listed = await list_incidents(_Listed([held_close, low]), Filter("open"))  # type: ignore[arg-type]
    assert [i.fingerprint for i in listed] == [held_close.fingerprint, low.fingerprint]


def _match_inputs(html: str) -> list[str]:
    """The values of the filter form's `match` inputs."""
    return re.findall(r'<input name=match value="([^"]*)"', html)


async def test_the_page_form_keeps_every_matcher_it_filters_by(client: httpx2.AsyncClient) -> None:
    """`/?match=env=staging&match=team=search` lists what both keep, and its form carries both
    matchers, so the next submit of the form filters as the page shown does."""
    page = await client.get("/?match=env%3Dstaging&match=team%3Dsearch", headers=BEARER)
    assert page.status_code == 200, page.text
    assert "of 300 open incidents" in page.text
    assert sorted(_match_inputs(page.text)) == ["env=staging", "team=search"]


@pytest.fixture
async def sqlite(tmp_path: Path) -> AsyncIterator[SQLiteStore]:
    opened = SQLiteStore(str(tmp_path / "t.db"), Policy(), timedelta(minutes=2), timedelta(days=1))
    await opened.open()
    yield opened
    await opened.aclose()


async def test_a_silenced_incident_shows_the_labels_it_is_matched_by(sqlite: SQLiteStore) -> None:
    """An incident held by a silence from its first alert is listed by `match=env=prod`, and
    its answer shows `env: prod`: the label the listing (and every silence) matched it by."""
    firing = alert("quiet").model_copy(update={"labels": {"env": "prod"}})
    shown = view_to_json(redact_alert(firing, Redactor()))
    await sqlite.begin(firing, "m1", NOW, hold=Hold("s1", NOW + timedelta(hours=1), shown))
    async with serving(sqlite) as api:
        listing = await api.get(
            "/api/v1/incidents", params={"match": "env=prod"}, headers=API_BEARER
        )
        [listed] = listing.json()["incidents"]
        assert listed["silenced"]
        one = await api.get(f"/api/v1/incidents/{listed['fingerprint']}", headers=API_BEARER)
    assert one.json()["labels"] == {"env": "prod"}


async def test_a_listing_shows_the_reopen_time_its_since_filter_kept(sqlite: SQLiteStore) -> None:
    """An incident opened 3 h ago, reopened 10 min ago and firing again 2 min ago is listed by
    `since=20m&before=5m`, and its entry shows the reopen time that kept it: not only an
    opened_at before the window and an updated_at after it."""
    now = datetime.now(UTC).replace(microsecond=0)
    reopened = now - timedelta(minutes=10)
    steps = [("firing", now - timedelta(hours=3)), ("resolved", now - timedelta(minutes=30)),
             ("firing", reopened), ("firing", now - timedelta(minutes=2))]  # fmt: skip
    actions = []
    for n, (status, when) in enumerate(steps):
        done = await sqlite.begin(alert("db-lag", Status(status), when), f"m{n}", when)
        actions.append(str(done.action))
        assert done.after is not None
        if done.after.pending is not None:
            await sqlite.confirm(done.after.fingerprint, f"m{n}", "backend", "T-1", finish=True)
    assert actions[2] == "reopen"
    window = {"since": "20m", "before": "5m"}
    async with serving(sqlite) as api:
        answer = await api.get("/api/v1/incidents", params=window, headers=API_BEARER)
    [listed] = answer.json()["incidents"]
    assert listed["opened_at"] < (now - timedelta(minutes=20)).isoformat()  # before `since`
    assert listed["updated_at"] > (now - timedelta(minutes=5)).isoformat()  # after `before`
    assert reopened.isoformat(timespec="seconds") in listed.values()


async def test_a_silence_added_during_a_storm_quiets_the_update_it_owes() -> None:
    """A pod crash-loops at 0, 1 and 2 minutes (one ticket, an update owed at the interval's
    end); an operator silences `pod=api-0` at 3 minutes: while the silence lasts, the sweep
    sends that ticket no update."""
    c = Cluster(silenced=True)
    for minute in range(3):
        await c.deliver(c.message(webhook([pod(0, minutes=minute)]), minute))
    quiet = new_silence(["pod=api-0"], "2h", "rolling the api back", "ops", at(3))
    await c.store.add_silence(quiet, at(3))
    [incident] = await c.store.incidents()
    assert quiet.matches(incident) and incident.update_owed_at is not None
    for minutes in (16, 40):
        c.clock.now = at(minutes)
        await c.sweep().once()
    assert c.kinds() == ["open"]


async def test_closes_by_hand_of_a_steady_alert_do_not_mark_it_flapping() -> None:
    """A pod crash-loops without a break (one `startsAt`), its webhook re-sent every 10 min;
    an operator closes the incident by hand before each resend, 3 times: each resend reopens
    it, but it is never marked flapping (the alert never resolved: only the operator closed)."""
    c = Cluster()
    await c.deliver(c.message(webhook([pod(0, minutes=1)]), 1))
    [incident] = await c.store.incidents()
    for n in range(3):
        c.clock.now = at(5 + 10 * n)
        await c.pipelines[0].close(incident.fingerprint, "op", "fixed, closing", "ops")
        resent = webhook([pod(0, minutes=10 + 10 * n, starts=1)])
        await c.deliver(c.message(resent, 10 + 10 * n))
    [incident] = await c.store.incidents()
    assert c.kinds() == ["open"] + ["close", "reopen"] * 3
    assert not incident.flapping


class _Holding(_Listed):
    """A store that holds `incidents` and `silences` (what the status page reads of one)."""

    unreadable_listed = 0
    #: `Store.unreadable_silences`: none here.
    unreadable_silences: tuple[tuple[str, str], ...] = ()

    def __init__(self, incidents: list[Incident], silences: list[Silence]) -> None:
        super().__init__(incidents)
        self._silences = silences

    async def silences(self) -> list[Silence]:
        return list(self._silences)


def _matched_cell(html: str) -> str:
    """The "Open incidents matched" cell of the page's one silence row."""
    silences = html.split("<h2>Silences</h2>")[1].split("<h2>Sinks</h2>")[0]
    row = re.findall(r"<tr>(.*?)</tr>", silences)[-1]
    return str(re.findall(r"<td>(.*?)</td>", row)[2])


async def test_the_page_does_not_undercount_what_a_silence_matches() -> None:
    """With 5,001 open incidents of team payments, the page's row for `team=payments` does not
    say it matches exactly 5000 open incidents (the API says it checked only 5000)."""
    opened = [
        dataclasses.replace(_ticketed(f"{n:032x}", f"5xx on shard {n}", Priority.HIGH),
                            team="payments")
        for n in range(5001)
    ]  # fmt: skip
    now = datetime.now(UTC)
    quiet = new_silence(["team=payments"], "2h", "payments migration", "ops", now)
    async with serving(_Holding(opened, [quiet])) as page:  # type: ignore[arg-type]
        html = (await page.get("/", headers=API_BEARER)).text
        listed = (await page.get("/api/v1/silences", headers=API_BEARER)).json()
    assert listed["silences"][0]["matching"]["checked"] == 5000
    assert _matched_cell(html) != "5000"


async def test_a_match_on_a_shown_key_no_label_has_is_not_a_silent_empty_list(
    client: httpx2.AsyncClient,
) -> None:
    """Of 300 open incidents, 75 are listed with `"priority": "critical"`; a listing asked for
    `match=priority=critical` lists them, or is refused naming the `priority` filter, but is
    not an empty answer that reads as "no critical incident"."""
    critical = await client.get(
        "/api/v1/incidents", params={"priority": "critical"}, headers=BEARER
    )
    assert critical.json()["total"] == 75
    copied = await client.get(
        "/api/v1/incidents", params={"match": "priority=critical"}, headers=BEARER
    )
    assert copied.status_code == 400 or copied.json()["total"] == 75
