"""Finding an incident by what it says, as an on-call engineer does against a store of a few
hundred: `triage incidents list` and `GET /api/v1/incidents` filter by source, priority, a
case-insensitive search of the title, Alertmanager-style label matchers, and when the incident
opened; every filter is strict (an unknown value is exit 2 / a 400 naming it), and a search
reads the title as shown (redacted), so it cannot probe for a secret the alert held."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx2
import pytest
from pydantic import SecretStr

from test_pipeline import CountingSummariser
from triage.app import open_configured_store
from triage.aws import Aws
from triage.cli import main
from triage.health import Health
from triage.incidents import Store
from triage.incidents.silences import SilenceCache
from triage.incidents.store import Routing
from triage.metrics import Metrics
from triage.models import Alert, Priority, Status, Ticket
from triage.ops.api import OperatorView, operator_routes
from triage.ops.endpoints import EndpointServer
from triage.ops.operator import Filter, list_incidents, parse_filter
from triage.settings import Settings, load_settings

TOKEN = "filter-op-token-" + "f" * 24
BEARER = {"Authorization": f"Bearer {TOKEN}"}
NOW = datetime.now(UTC).replace(microsecond=0)
SOURCES = ("cloudwatch", "alertmanager", "sentry", "generic")
PRIORITIES = tuple(Priority)
#: A credential in a title: stored as it came, redacted whenever it is shown or searched.
SECRET = "hunter2hunter2"


def _alert(i: int) -> Alert:
    """The i-th of the store's alerts: sources, priorities and envs in turn; every 10th is
    about a disk, every 50th holds a password in its title."""
    subject = "Disk full on db" if i % 10 == 0 else "High 5xx on checkout"
    secret = f" password={SECRET}" if i % 50 == 0 else ""
    return Alert(
        source=SOURCES[i % 4],
        status=Status.FIRING,
        title=f"{subject} #{i}{secret}",
        team="payments" if i % 3 else "search",
        labels={"env": "prod" if i % 2 else "staging"},
        occurred_at=NOW,
        identity={"dedup_key": f"incident-{i}"},
    )


def _opened_at(i: int) -> datetime:
    """Incident i opened i minutes ago."""
    return NOW - timedelta(minutes=i)


async def seed(store: Store, count: int = 300) -> None:
    """`count` open incidents with tickets, each routed with its alert's team and labels."""
    for i in range(count):
        alert = _alert(i)
        began = await store.begin(alert, f"m{i}", _opened_at(i))
        assert began.after is not None
        fp = began.after.fingerprint
        ticket = Ticket(title=alert.title, priority=PRIORITIES[i % 4], description="d")
        await store.save_ticket(fp, f"m{i}", ticket, Routing("r", alert.team, alert.labels))
        await store.confirm(fp, f"m{i}", "backend", f"T-{i}", finish=True)


def _titles(found: list[Any]) -> set[int]:
    """The alert numbers of listed incidents (`… #17`)."""
    return {int(str(i.title if hasattr(i, "title") else i["title"]).split("#")[1].split()[0])
            for i in found}  # fmt: skip


def _expected(keep: Any) -> set[int]:
    return {i for i in range(300) if keep(i)}


@pytest.fixture
async def store(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[Store]:
    """A SQLite store of 300 open incidents, the one TRIAGE_STORE_URL names."""
    monkeypatch.setenv("TRIAGE_STORE_URL", f"sqlite:///{tmp_path / 'triage.db'}")
    monkeypatch.setenv("TRIAGE_LOG_LEVEL", "warning")
    settings = load_settings()
    aws = Aws(settings)
    opened = await open_configured_store(settings, aws)
    await seed(opened)
    yield opened
    await opened.aclose()
    await aws.aclose()


async def test_each_filter_keeps_exactly_the_incidents_it_names(store: Store) -> None:
    """source, priority (a word or P0..P3, several with commas), a title search ignoring case,
    label matchers (all must hold) and opened since/before each keep exactly their incidents."""

    async def listed(**given: Any) -> set[int]:
        return _titles(await list_incidents(store, parse_filter(now=NOW, **given)))

    assert await listed(source="cloudwatch") == _expected(lambda i: i % 4 == 0)
    assert await listed(priority="critical") == _expected(lambda i: i % 4 == 0)
    assert await listed(priority="P1,low") == _expected(lambda i: i % 4 in (1, 3))
    assert await listed(search="disk FULL") == _expected(lambda i: i % 10 == 0)
    assert await listed(match=["env=prod", "team=~pay.*"]) == _expected(
        lambda i: i % 2 == 1 and i % 3 != 0
    )
    assert await listed(since="90m") == _expected(lambda i: i <= 90)
    before = (NOW - timedelta(minutes=250)).isoformat()
    assert await listed(before=before) == _expected(lambda i: i > 250)
    assert await listed(source="sentry", search="disk", since="2h") == _expected(
        lambda i: i % 4 == 2 and i % 10 == 0 and i <= 120
    )


async def test_a_search_reads_the_title_as_shown_so_it_cannot_probe_a_secret(
    store: Store,
) -> None:
    """A title holding a password is found by its words, never by the password's characters:
    the search reads the redacted title, as the listing shows it."""
    assert await list_incidents(store, parse_filter(now=NOW, search=SECRET[:6])) == []
    found = await list_incidents(store, parse_filter(now=NOW, search="disk full on db #50"))
    assert _titles(found) == {50}


@pytest.mark.parametrize(
    ("given", "says"),
    [
        ({"source": "cloudwach"}, "did you mean 'cloudwatch'"),
        ({"priority": "urgentest"}, "expected critical, high, medium or low"),
        ({"priority": "high,"}, "expected critical, high, medium or low"),
        ({"search": "  "}, "search"),
        ({"search": "x" * 201}, "at most 200"),
        ({"match": ["env"]}, "matcher"),
        ({"match": ['env="prod"']}, "double quotes"),
        ({"since": "yesterday"}, "since"),
        ({"since": "2026-12-05T06:00"}, "UTC offset"),
        ({"since": "1h", "before": "2h"}, "nothing"),
        ({"since": (NOW + timedelta(days=1)).isoformat()}, "ahead of now"),
    ],
)
def test_an_unknown_filter_value_is_refused_saying_why(given: dict[str, Any], says: str) -> None:
    """A filter value that names nothing is a ValueError naming the mistake, never a filter
    that quietly keeps everything or nothing."""
    with pytest.raises(ValueError, match=says.replace("(", r"\(")):
        parse_filter(now=NOW, **given)


def test_a_filter_without_new_values_is_the_old_one() -> None:
    """parse_filter with only state, team and flapping builds the Filter those always built."""
    assert parse_filter(now=NOW, state="all", team="payments") == Filter("all", "payments")


def triage(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, list[Any], str]:
    """`triage ARGS` in process: exit code, stdout's JSON lines, stderr."""
    code = main(list(args))
    out, err = capsys.readouterr()
    return code, [json.loads(line) for line in out.splitlines() if line.startswith("{")], err


async def test_the_command_line_filters_and_refuses_an_unknown_value_with_exit_2(
    store: Store, capsys: pytest.CaptureFixture[str]
) -> None:
    """`triage incidents list --source --priority --search --match --since` lists the
    incidents all of them keep; a value that names nothing is exit 2 with one stderr line."""
    # --since as the instant 3 h before NOW, which the incidents are stamped from: "3h" would
    # count from the test's own start, minutes later in a long run.
    since = (NOW - timedelta(hours=3)).isoformat()
    args = ["incidents", "list", "--source", "alertmanager", "--priority", "p1", "--search",
            "5XX", "--match", "env=prod", "--since", since]  # fmt: skip
    code, listed, err = await asyncio.to_thread(triage, capsys, *args)
    assert code == 0, err
    assert _titles(listed) == _expected(lambda i: i % 4 == 1 and i % 10 and i % 2 and i <= 180)
    for bad in (["--priority", "P9"], ["--source", "grafna"], ["--match", "{env=prod}"]):
        code, listed, err = await asyncio.to_thread(triage, capsys, "incidents", "list", *bad)
        assert (code, listed) == (2, []) and len(err.strip().splitlines()) == 1, err


async def test_the_api_filters_and_answers_400_for_an_unknown_value(store: Store) -> None:
    """GET /api/v1/incidents takes the same filters (`match` repeated, all must hold); a value
    that names nothing is a 400 whose error names it."""
    settings = Settings(api_token=SecretStr(TOKEN))
    aws = Aws(settings)
    view = OperatorView(
        settings, store, SilenceCache(store), [], CountingSummariser(), Health(), aws
    )
    server = EndpointServer(Health(), Metrics(), "127.0.0.1", 0, extra_routes=operator_routes(view))
    await server.start()
    try:
        async with httpx2.AsyncClient(base_url=f"http://127.0.0.1:{server.port}") as client:
            params = [("source", "cloudwatch"), ("search", "disk"), ("match", "env=staging"),
                      ("match", "team=payments"),
                      ("since", (NOW - timedelta(hours=5)).isoformat())]  # fmt: skip
            answer = await client.get("/api/v1/incidents", params=params, headers=BEARER)
            assert answer.status_code == 200, answer.text
            want = _expected(lambda i: i % 20 == 0 and i % 3)
            assert _titles(answer.json()["incidents"]) == want
            assert answer.json()["total"] == len(want)
            for bad, says in ((("priority", "P9"), "priority"), (("source", "x"), "source")):
                refused = await client.get("/api/v1/incidents", params=[bad], headers=BEARER)
                assert refused.status_code == 400 and says in refused.json()["error"]
            twice = [("source", "generic"), ("source", "sentry")]
            refused = await client.get("/api/v1/incidents", params=twice, headers=BEARER)
            assert refused.status_code == 400 and "twice" in refused.json()["error"]
    finally:
        await server.aclose()
        await aws.aclose()
