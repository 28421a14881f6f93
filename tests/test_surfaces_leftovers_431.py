"""Two operator-surface leftovers of round 12: a source or priority filter typed with spaces
around it (a pasted cell, a dashboard variable) lists as the trimmed word does on the command
line, the API and the page alike, as a team does; and a group's row on the status page says
its alerts (members) and its occurrences once each, in the words `incidents show` uses."""

from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from test_operator_api import BEARER, serving
from test_operator_cli import triage
from test_operator_filters import seed
from triage.app import open_configured_store
from triage.aws import Aws
from triage.incidents import Store
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
