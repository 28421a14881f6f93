"""Two operator-surface leftovers of round 12: a source or priority filter typed with spaces
around it (a pasted cell, a dashboard variable) lists as the trimmed word does on the command
line, the API and the page alike, as a team does; and a group's row on the status page says
its alerts (members) and its occurrences once each, in the words `incidents show` uses."""

from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from test_groups_round7_leftovers import member
from test_operator_api import BEARER, serving
from test_operator_cli import triage
from test_operator_filters import seed
from triage.app import open_configured_store
from triage.aws import Aws
from triage.incidents import Store
from triage.incidents.store import Routing
from triage.models import Priority, Status, Ticket
from triage.ops.operator import Filter, incident_json, list_incidents
from triage.ops.operator_text import incident_block
from triage.redact import Redactor
from triage.settings import load_settings

#: Incidents 0 and 4 of `seed(store, 8)`: the cloudwatch ones, critical both.
CLOUDWATCH = {"#0", "#4"}
#: A word as pasted: a leading space, a trailing newline, a tab each side.
PADDED = (" {}", "{}\n", "\t{}\t")


@pytest.fixture
async def store(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[Store]:
    """A SQLite store of eight open incidents (sources and priorities in turn), the one
    TRIAGE_STORE_URL names."""
    monkeypatch.setenv("TRIAGE_STORE_URL", f"sqlite:///{tmp_path / 'triage.db'}")
    monkeypatch.setenv("TRIAGE_LOG_LEVEL", "warning")
    settings = load_settings()
    aws = Aws(settings)
    opened = await open_configured_store(settings, aws)
    await seed(opened, 8)
    yield opened
    await opened.aclose()
    await aws.aclose()


def _numbers(titles: list[str]) -> set[str]:
    """`#0`, `#4`: which of the seeded incidents the titles are."""
    return {re.findall(r"#\d+", title)[0] for title in titles}


# --- a source or priority with spaces around it -------------------------------------------------


@pytest.mark.parametrize("pad", PADDED)
@pytest.mark.parametrize(("option", "word"), [("--source", "cloudwatch"), ("--priority", "p0")])
async def test_the_command_line_trims_a_source_or_priority_as_it_does_a_team(
    store: Store, capsys: pytest.CaptureFixture[str], pad: str, option: str, word: str
) -> None:
    """`triage incidents list --source " cloudwatch"` lists the cloudwatch incidents, as
    `--team " payments"` lists the team's, rather than refusing the word it names."""
    args = ("incidents", "list", option, pad.format(word))
    code, listed, err = await asyncio.to_thread(triage, capsys, *args)
    assert code == 0, err
    assert _numbers([shown["title"] for shown in listed]) == CLOUDWATCH


@pytest.mark.parametrize("pad", ["%20{}", "{}%0A", "%09{}%20"])
@pytest.mark.parametrize(("name", "word"), [("source", "cloudwatch"), ("priority", "critical")])
async def test_the_api_and_the_page_trim_a_source_or_priority(
    store: Store, pad: str, name: str, word: str
) -> None:
    """`?source=%20cloudwatch` (a dashboard variable with a space) lists the cloudwatch
    incidents at the API and on the status page, as `?team=%20payments` lists the team's,
    rather than a 400 "did you mean 'cloudwatch'"."""
    query = f"{name}={pad.format(word)}"
    async with serving(store) as client:
        api = await client.get(f"/api/v1/incidents?{query}", headers=BEARER)
        page = await client.get(f"/?{query}", headers=BEARER)
    assert api.status_code == 200, api.text
    assert _numbers([shown["title"] for shown in api.json()["incidents"]]) == CLOUDWATCH
    assert page.status_code == 200, page.text
    assert _numbers(re.findall(r"<b><span dir=auto>([^<]*)</span></b>", page.text)) == CLOUDWATCH


# --- a group's alerts and occurrences ---------------------------------------------------------


async def _group(store: Store) -> Any:
    """A group of three pods, its ticket open, whose third fired twice and is resolved now:
    3 alerts, 2 firing, and more occurrences than alerts."""
    start = datetime.now(UTC).replace(microsecond=0) - timedelta(minutes=10)
    steps = [(0, Status.FIRING), (1, Status.FIRING), (2, Status.FIRING), (2, Status.RESOLVED),
             (2, Status.FIRING), (2, Status.RESOLVED)]  # fmt: skip
    for n, (pod, status) in enumerate(steps):
        event, key = member(pod)
        at = start + timedelta(minutes=n)
        began = await store.begin(
            event.model_copy(update={"status": status, "occurred_at": at}), f"g{n}", at, key
        )
        if n == 0:
            # The group's ticket goes out first, so the members after it are counted.
            assert began.after is not None
            fp = began.after.fingerprint
            ticket = Ticket(title="pods crash-looping", priority=Priority.HIGH, description="d")
            await store.save_ticket(fp, "g0", ticket, Routing("crash-loops", None, {}))
            await store.confirm(fp, "g0", "backend", "T-1", finish=True)
    [group] = [i for i in await list_incidents(store, Filter("open")) if i.group is not None]
    return group


def _words(html: str) -> str:
    """The text of `html` as read: tags gone, each run of whitespace one space."""
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))


async def test_a_groups_page_row_says_its_alerts_and_occurrences_once_each(store: Store) -> None:
    """A group's row on the status page says how many alerts it holds (and how many fire)
    once, and how many times they came as occurrences, in the words `incidents show` uses,
    rather than "3 alerts" beside "7 alerts" for the same group."""
    group = await _group(store)
    shown = incident_json(group, Redactor(), history=True)
    members, firing = shown["members"], shown["members_firing"]
    assert (members, firing) == (3, 2) and group.occurrences not in (members, firing)
    block = incident_block(shown, datetime.now(UTC))
    said_members = f"{members} alerts, {firing} firing"
    said_occurrences = f"{group.occurrences} occurrences"
    assert said_members in block and said_occurrences in block, block
    async with serving(store) as client:
        page = await client.get("/", headers=BEARER)
    assert page.status_code == 200, page.text
    [row] = [r for r in page.text.split("<li ") if "KubePodCrashLooping" in r or "api-0" in r]
    text = _words(row)
    assert said_members in text and said_occurrences in text, text
    assert len(re.findall(r"\balerts?\b", text)) == 1, text
    # An incident that is no group keeps `1 alert` for its one occurrence, as its list line does.
    [single] = [r for r in page.text.split("<li ") if "checkout #4<" in r]
    assert " 1 alert " in _words(single) and "occurrence" not in single, single
