"""Round 11 on the operator's surfaces (the API, the status page, the command line): what ten
rounds left, each a bug an operator meets, with the test that proves it fixed."""

from __future__ import annotations

import contextlib
import re
import time
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx2
import pytest
from pydantic import SecretStr

from factories import alert
from test_operator_api import BEARER, serving
from test_pipeline import CountingSummariser
from test_silences import Rig
from test_store import LEASE, POLICY
from triage.aws import Aws
from triage.breaker import CircuitBreaker
from triage.errors import GitHubThrottledError
from triage.health import Health
from triage.incidents import Action, Store
from triage.incidents.silences import SilenceCache
from triage.incidents.sqlite import SQLiteStore
from triage.incidents.store import Routing
from triage.metrics import Metrics
from triage.models import Priority, Ticket
from triage.ops.api import OperatorView, operator_routes
from triage.ops.endpoints import EndpointServer
from triage.ops.operator import incident_json, list_incidents, parse_filter
from triage.ops.operator_text import incident_block, incident_line
from triage.redact import Redactor
from triage.settings import Settings
from triage.sinks.github.digest import StormDigest, create_budgets
from triage.sinks.guard import GuardedSink

NOW = datetime.now(UTC).replace(microsecond=0)


@pytest.fixture
async def store(tmp_path: Path) -> AsyncIterator[Store]:
    """A SQLite store on disk, empty."""
    opened = SQLiteStore(str(tmp_path / "t.db"), POLICY, LEASE, timedelta(days=30))
    await opened.open()
    yield opened
    await opened.aclose()


async def _ticketed(store: Store, name: str, team: str, github: str | None = None) -> str:
    """One open incident whose ticket went out (and its `github` issue, if given), routed to
    `team`; its fingerprint."""
    t = await store.begin(alert(name), f"m-{name}", NOW)
    assert t.after is not None
    fp = t.after.fingerprint
    ticket = Ticket(title=f"{name} down", priority=Priority.HIGH, description="d")
    await store.save_ticket(fp, f"m-{name}", ticket, Routing("default", team, {"env": "prod"}))
    await store.confirm(fp, f"m-{name}", "backend", f"T-{name}", finish=github is None)
    if github is not None:
        await store.confirm(fp, f"m-{name}", "github", github, finish=True)
    return fp


# --- a team typed with a space around it -------------------------------------------------------


@pytest.mark.parametrize("typed", ["payments ", " payments", "payments\t", "PAYMENTS "])
async def test_a_team_typed_with_spaces_around_it_lists_that_team(store: Store, typed: str) -> None:
    """`--team "payments "` (a phone keyboard's autocomplete adds the space, a pasted cell
    holds a tab) lists the team's incidents, as a search is trimmed, not none of them."""
    fp = await _ticketed(store, "api", "payments")
    await _ticketed(store, "db", "search")
    listed = await list_incidents(store, parse_filter(now=NOW, team=typed))
    assert [i.fingerprint for i in listed] == [fp]


async def test_the_api_and_the_page_list_a_team_sent_with_a_trailing_space(store: Store) -> None:
    """`?team=payments%20` over the API and the status page's form (`team=payments+`) keep the
    team's incidents: the API's total is 1, the page counts 1 of 2."""
    fp = await _ticketed(store, "api", "payments")
    await _ticketed(store, "db", "search")
    async with serving(store) as client:
        listed = (await client.get("/api/v1/incidents?team=payments%20", headers=BEARER)).json()
        assert listed["total"] == 1 and listed["incidents"][0]["fingerprint"] == fp
        page = await client.get("/?team=payments+", headers=BEARER)
        assert page.status_code == 200 and "1 of 2 open incidents" in page.text


# --- a letter composed or decomposed -----------------------------------------------------------

#: `é` precomposed (U+00E9, what keyboards type) and as `e` and a combining acute (U+0301, what
#: macOS file names and some tools' output hold): every reader sees the same letter.
COMPOSED, DECOMPOSED = "caf\u00e9", "cafe\u0301"


@pytest.mark.parametrize(("stored", "typed"), [(DECOMPOSED, COMPOSED), (COMPOSED, DECOMPOSED)])
async def test_a_team_is_listed_however_its_letters_are_composed(
    store: Store, stored: str, typed: str
) -> None:
    """`--team café` typed composed lists the incidents of a team that arrived decomposed (and
    the other way round), as GitHub gives both one `team:` label: not an empty list."""
    fp = await _ticketed(store, "api", stored)
    await _ticketed(store, "db", "search")
    listed = await list_incidents(store, parse_filter(now=NOW, team=typed))
    assert [i.fingerprint for i in listed] == [fp]


@pytest.mark.parametrize(("stored", "typed"), [(DECOMPOSED, COMPOSED), (COMPOSED, DECOMPOSED)])
async def test_a_search_finds_a_title_however_its_letters_are_composed(
    store: Store, stored: str, typed: str
) -> None:
    """A search for `CAFÉ` typed composed finds the title `Café down` stored decomposed (and
    the other way round), ignoring case as a search does."""
    t = await store.begin(alert("x").model_copy(update={"title": f"{stored} down"}), "m", NOW)
    assert t.after is not None
    listed = await list_incidents(store, parse_filter(now=NOW, search=typed.upper()))
    assert [i.fingerprint for i in listed] == [t.after.fingerprint]


@pytest.mark.parametrize(("arrived", "typed"), [(DECOMPOSED, COMPOSED), (COMPOSED, DECOMPOSED)])
async def test_a_silence_holds_a_team_however_its_letters_are_composed(
    arrived: str, typed: str
) -> None:
    """A silence `team=café` (composed as keyboards type it) holds an alert whose team came
    decomposed, and the other way round: the operator who reads the same word is quieted."""
    r = Rig()
    await r.silence(f"team={typed}")
    firing = alert("api").model_copy(update={"team": arrived})
    assert await r.pipeline.handle(firing, "m0") is Action.SILENCED


# --- a query not in UTF-8 ----------------------------------------------------------------------


@pytest.mark.parametrize(
    "query",
    ["team=caf%E9", "search=caf%E9", "match=team%3Dcaf%E9", "search=%ED%A0%80", "priority=%FF"],
)
async def test_a_query_value_not_in_utf8_is_a_400_naming_it(store: Store, query: str) -> None:
    """`?team=caf%E9` (café percent-encoded from Latin-1 by an old script or console) is a 400
    naming the parameter and UTF-8, on the API and the page: not `"total": 0`, read as "no
    incident of team café", while the team's incident is open."""
    await _ticketed(store, "api", COMPOSED)
    name = query.partition("=")[0]
    async with serving(store) as client:
        answer = await client.get(f"/api/v1/incidents?{query}", headers=BEARER)
        assert answer.status_code == 400, answer.text
        assert name in answer.json()["error"] and "UTF-8" in answer.json()["error"]
        page = await client.get(f"/?{query}", headers=BEARER)
        assert page.status_code == 400 and "UTF-8" in page.text


async def test_a_query_in_utf8_still_lists_the_team(store: Store) -> None:
    """The same team percent-encoded as UTF-8 (`caf%C3%A9`) lists its incident."""
    fp = await _ticketed(store, "api", COMPOSED)
    async with serving(store) as client:
        answer = await client.get("/api/v1/incidents?team=caf%C3%A9", headers=BEARER)
        assert [i["fingerprint"] for i in answer.json()["incidents"]] == [fp]


# --- a ticket's link on the status page --------------------------------------------------------

#: A ticket's link on a page: its address and its label.
_GITHUB_LINK = re.compile(r'github: <a href="([^"]*)"[^>]*>(.*?)</a>')


@pytest.mark.parametrize(
    ("ref", "opens"),
    [
        # A token written as the user name.
        ("https://tok_Zx9Qw3Er7Ty1Ui5@tickets.example/T-1", "https://tickets.example/T-1"),
        # User info that reads as the host it is not.
        ("https://github.com@evil.example/T-2", "https://evil.example/T-2"),
    ],
)
async def test_a_ticket_link_on_the_page_is_written_as_it_opens(
    store: Store, ref: str, opens: str
) -> None:
    """A ticket reference with user info is linked on the incident's page and in the list as
    every other surface writes a link (`display.link_url`): to the URL it opens, without the
    user info, which neither the link nor its label shows."""
    fp = await _ticketed(store, "api", "payments", github=ref)
    async with serving(store) as client:
        for path in (f"/incidents/{fp}", "/"):
            page = await client.get(path, headers=BEARER)
            assert page.status_code == 200, page.text
            found = _GITHUB_LINK.search(page.text)
            assert found is not None, path
            href, label = found.groups()
            assert href == opens and "@" not in label, (path, href, label)


async def test_a_ticket_link_in_the_terminal_is_written_as_it_opens(store: Store) -> None:
    """`incidents list|show --output text` write a ticket's address as it opens, without the
    user info that reads as another host: a terminal makes it a link to click, and
    `github.com@evil.example` would read as GitHub while opening evil.example."""
    fp = await _ticketed(store, "api", "payments", github="https://github.com@evil.example/T-2")
    [incident] = await store.incidents()
    now = datetime.now(UTC)
    listed = incident_line(incident_json(incident, Redactor()), incident.opened_at, now)
    shown = incident_block(incident_json(incident, Redactor(), history=True), now)
    for text in (listed, shown.split("history (oldest first):")[0]):
        assert "github" in text and "https://evil.example/T-2" in text and "@" not in text, text
    assert fp[:12] in listed  # the line is still the incident's


# --- GitHub's issue budget of a repository named in other capitals -----------------------------


@pytest.mark.parametrize("spelt", ["Acme/Ops", "ACME/OPS", "acme/Ops"])
async def test_a_repository_in_other_capitals_draws_on_the_same_issue_budget(
    store: Store, spelt: str
) -> None:
    """GitHub names `acme/ops` and `Acme/Ops` one repository: a route naming it in other
    capitals than GITHUB_REPOSITORY draws on the same issue-creation budget, not a second
    one that lets twice the configured issues a minute into it."""
    settings = Settings(github_create_per_minute=1, github_storm_digest=False)
    digest = StormDigest(settings, _NO_API, _NO_LOOKUP, store, wall_clock=lambda: 1_000_000.0)
    assert await digest.admit_issue("acme/ops") is True
    with pytest.raises(GitHubThrottledError):
        await digest.admit_issue(spelt)
    minute, _ = create_budgets(settings, spelt)
    assert await store.budget_tokens(minute, 1_000_000.0) < 1  # the one token taken shows


#: The digest's GitHub calls and look-ups, which an admission makes none of.
_NO_API: Any = None
_NO_LOOKUP: Any = None


# --- the status page's issue budgets -----------------------------------------------------------

#: A route that opens its issues in a repository of its own.
ROUTES = """
[[route]]
name = "payments"
sinks = ["github"]
[route.match]
team = ["payments"]
[route.github]
repository = "acme/Payments"
"""


class _NamedSink:
    """A sink the page lists by its name only (it is never called here)."""

    def __init__(self, name: str) -> None:
        self.name = name


@contextlib.asynccontextmanager
async def _page_of(store: Store, settings: Settings) -> AsyncIterator[httpx2.AsyncClient]:
    """The operator's routes of a daemon with `settings`, on a loopback port."""
    aws = Aws(settings)
    github = GuardedSink(_NamedSink("github"), CircuitBreaker("sink:github", 5, 30))
    view = OperatorView(
        settings, store, SilenceCache(store), [github], CountingSummariser(), Health(), aws
    )
    server = EndpointServer(Health(), Metrics(), "127.0.0.1", 0, extra_routes=operator_routes(view))
    await server.start()
    try:
        async with httpx2.AsyncClient(base_url=f"http://127.0.0.1:{server.port}") as client:
            yield client
    finally:
        await server.aclose()
        await aws.aclose()


async def test_the_page_shows_the_issue_budget_of_every_repository_issues_go_to(
    store: Store, tmp_path: Path
) -> None:
    """A route opening issues in `acme/Payments` spends that repository's budget: the status
    page shows it beside GITHUB_REPOSITORY's, so an operator in a storm there sees the budget
    spent rather than only the untouched one of `acme/ops`."""
    routes = tmp_path / "routes.toml"
    routes.write_text(ROUTES)
    settings = Settings(
        api_token=SecretStr("p" * 32),
        github_repository="acme/ops",
        github_create_per_minute=5,
        routes_file=routes,
    )
    minute, _ = create_budgets(settings, "acme/Payments")
    now_s = time.time()
    for _ in range(3):
        await store.take_token(minute, now_s)
    async with _page_of(store, settings) as client:
        page = await client.get("/", headers={"Authorization": "Bearer " + "p" * 32})
    sinks = page.text.split("<h2>Sinks</h2>")[1].split("<h2>LLM</h2>")[0]
    assert "acme/ops: issues 5/5 per minute" in sinks, sinks
    assert "acme/Payments: issues 2/5 per minute" in sinks, sinks


# --- a yes/no parameter given empty ------------------------------------------------------------


async def test_a_dry_run_given_empty_is_refused_and_adds_nothing_unsaid(store: Store) -> None:
    """`POST /api/v1/silences?dry_run=` (a script's `dry_run=$DRY` with DRY unset) is a 400
    naming dry_run, not a 200 dry run that a script reads as the silence made while nothing
    quiets the alerts; `?dry_run` bare is still a dry run and `=0` an add."""
    body = {"matchers": ["team=payments"], "duration": "1h", "comment": "deploy"}
    async with serving(store) as client:
        empty = await client.post("/api/v1/silences?dry_run=", json=body, headers=BEARER)
        assert empty.status_code == 400 and "dry_run" in empty.json()["error"], empty.text
        bare = await client.post("/api/v1/silences?dry_run", json=body, headers=BEARER)
        assert bare.status_code == 200
        assert await store.silences() == []
        added = await client.post("/api/v1/silences?dry_run=0", json=body, headers=BEARER)
        assert added.status_code == 201


@pytest.mark.parametrize("query", ["flapping=", "flapping=&team=payments"])
async def test_flapping_given_empty_is_a_400_not_the_flapping_ones(
    store: Store, query: str
) -> None:
    """`?flapping=` (a dashboard's variable left empty) is a 400 naming flapping, as `?state=`
    is, not the flapping incidents alone (none here, read as "nothing open"); bare
    `?flapping` still asks for them."""
    await _ticketed(store, "api", "payments")
    async with serving(store) as client:
        answer = await client.get(f"/api/v1/incidents?{query}", headers=BEARER)
        assert answer.status_code == 400 and "flapping" in answer.json()["error"], answer.text
        bare = await client.get("/api/v1/incidents?flapping", headers=BEARER)
        assert bare.status_code == 200 and bare.json()["total"] == 0
