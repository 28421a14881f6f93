"""Red team round 5: escaping and injection of hostile alert (and model) text on every surface
it is shown: GitHub labels and Markdown, Slack, the status page, the operator's terminal, logs
and the LLM prompt. Each test drives the real code path; each one that failed when it was
written (links with user info, look-alike blanks, imitated markers, a team read as facts) was
fixed."""

from __future__ import annotations

import asyncio
import dataclasses
import html
from collections.abc import Iterator
from pathlib import Path

import pytest

from factories import view
from github_stub import GitHubServer
from ingest_harness import loopback_client
from test_backend_sink import ROUTES
from test_backend_sink import open_sink as open_backend
from test_escape_every_surface import _seed_configured, effect, hostile_alert, hostile_ticket
from test_operator_hostile import BEARER, NOW, serving
from test_status_page_hostile import store
from triage.cli import main
from triage.demo.ticketd import TicketServer
from triage.incidents.sqlite import SQLiteStore
from triage.models import EffectKind
from triage.settings import Settings
from triage.sinks.base import Effect
from triage.sinks.github import GitHubSink

__all__ = ["store"]  # a fixture shared with the status page's own tests

REPO = "acme/ops"
BOT_TOKEN = "t-bot"


@pytest.fixture
def github() -> Iterator[GitHubServer]:
    with GitHubServer(tokens={BOT_TOKEN: "triage-bot"}, repositories=(REPO,)) as server:
        yield server


# --- GitHub labels ---------------------------------------------------------------------------

#: Spellings of the team `pay` that GitHub shows exactly as `team:pay` but sends as other
#: labels: joiners and non-joiners between two Latin letters, a soft hyphen, direction marks,
#: the combining grapheme joiner, a variation selector after a letter, and the Hangul fillers
#: (letters that draw as blank space).
LOOK_ALIKE_TEAMS = (
    "pa\u200cy",
    "pa\u200dy",
    "pa\u00ady",
    "pay\u200e",
    "pa\u200fy",
    "pa\u034fy",
    "pay\ufe0f",
    "pa\u3164y",
    "pa\u115fy",
)


async def test_team_labels_that_look_alike_are_one_label(
    github: GitHubServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A team spelled with a character GitHub draws as nothing (a joiner, a soft hyphen, a
    direction mark, a Hangul filler) gets the very label of the plain team: no second
    `team:pay` that looks like the first, and no using up of the bound on team labels."""
    shown = await _team_labels(github, monkeypatch, ["pay", *LOOK_ALIKE_TEAMS, "data"])
    assert shown == [["team:pay"]] * (1 + len(LOOK_ALIKE_TEAMS)) + [["team:data"]]


async def test_a_team_padded_with_blank_braille_is_the_same_label(
    github: GitHubServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A team padded with the blank Braille pattern (a letter that draws an empty cell) gets
    the label of the plain team, so look-alike `team:pay` labels cannot use up the bound on
    team labels and leave a real team (`data`) unlabelled."""
    teams = ["pay", "pay\u2800", "\u2800pay", "pay\u2800\u2800", "data"]
    shown = await _team_labels(github, monkeypatch, teams)
    assert shown == [["team:pay"]] * 4 + [["team:data"]]


async def _team_labels(
    github: GitHubServer, monkeypatch: pytest.MonkeyPatch, teams: list[str]
) -> list[list[str]]:
    """Open one incident per team through the GitHub sink (at most two team labels) and
    return each issue's `team:` labels as GitHub stored them."""
    monkeypatch.setattr("triage.sinks.github.sink.TEAM_LABELS", 2)
    settings = Settings(github_api_url=github.url, github_repository=REPO, github_token=BOT_TOKEN)
    sink = GitHubSink(settings)
    try:
        for n, team in enumerate(teams):
            alert = hostile_alert("t").model_copy(
                update={"team": team, "identity": {"dedup_key": f"team-{n}"}}
            )
            opened = Effect(EffectKind.OPEN, alert.fingerprint, view(alert), hostile_ticket("t"),
                            None, 1, 1, False, f"team-{n}:1")  # fmt: skip
            await sink.apply(opened)
    finally:
        await sink.aclose()
    return [
        [label["name"] for label in issue["labels"] if label["name"].startswith("team:")]
        for issue in github.issues(REPO)
    ]


# --- the ticket backend ----------------------------------------------------------------------

#: Links whose user info makes them read as another host (`github.com@evil.example` opens
#: evil.example), or whose host is spelled other than DNS spells it (percent-encoded, a
#: Cyrillic a, U+0430, in a look-alike of grafana); each with the URL the
#: GitHub and Slack sinks link to for it (user info dropped, host as DNS spells it).
DECEIVING_LINKS = {
    "https://github.com@evil.example/login": "https://evil.example/login",
    "https://aws.amazon.com%2Fconsole@evil.example/": "https://evil.example/",
    "https://%67ithub.com/acme/ops": "https://github.com/acme/ops",
    "https://gr\u0430fana.example.com/d/x": "https://xn--grfana-4nf.example.com/d/x",
}


async def test_the_backend_is_sent_links_without_user_info(
    backend: TicketServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A link the ticket backend is sent is the URL it opens without user info and with its
    host as DNS spells it, as GitHub and Slack link it: a ticket system shows the URL as its
    text, and `https://github.com@evil.example/…` reads as github.com."""
    monkeypatch.setenv("BACKEND_TOKEN", backend.token)
    one = effect("t")
    links = {f"link{n}": url for n, url in enumerate(DECEIVING_LINKS)}
    alert = dataclasses.replace(one.alert, runbook_url=next(iter(DECEIVING_LINKS)), links=links)
    async with open_backend(backend.url, **ROUTES) as sink:
        assert (await sink.apply(dataclasses.replace(one, alert=alert))).ref is not None
    [opened] = backend.tickets
    body = opened["body"]
    assert body["runbook_url"] == "https://evil.example/login"
    assert body["links"] == {f"link{n}": url for n, url in enumerate(DECEIVING_LINKS.values())}


# --- triage's own words about an alert's links -------------------------------------------------


async def test_the_fallback_tickets_steps_name_the_host_a_link_opens() -> None:
    """The deterministic ticket tells on-call to open the runbook and dashboard at the URL
    they open (no user info), as the sinks' links are labelled: its own words never read as
    runbooks.example.com for a link that opens evil.example."""
    from triage.summarise.deterministic import DeterministicSummariser

    alert = hostile_alert("t").model_copy(
        update={
            "title": "Nightly backup failed",
            "description": "pg_dump exited 1",
            "runbook_url": "https://runbooks.example.com@evil.example/backups",
            "links": {"dashboard": "https://grafana.example.com@evil.example/d/x"},
            "labels": {},
        }
    )
    ticket = await DeterministicSummariser().summarise(view(alert))
    words = "\n".join([ticket.description, *ticket.steps])
    assert "Open the runbook: https://evil.example/backups" in ticket.steps
    assert "example.com@" not in words, words


# --- the operator's terminal ---------------------------------------------------------------


def test_a_title_padded_with_blank_braille_is_told_apart_in_the_terminal(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """`incidents list --output text` and `show --output text` show a title holding the blank
    Braille pattern (a letter that draws an empty cell) without it (the redactor drops it),
    never as `db down`: `db⠀down` does not pass for `db down`, nor a team for another."""
    monkeypatch.setenv("TRIAGE_STORE_URL", f"sqlite:///{tmp_path / 'triage.db'}")
    monkeypatch.setenv("TRIAGE_LOG_LEVEL", "warning")
    fingerprint = asyncio.run(_seed_configured("db\u2800down"))
    for args in (
        ["incidents", "list", "--state", "all", "--output", "text"],
        ["incidents", "show", fingerprint, "--output", "text"],
    ):
        assert main(args) == 0, args
        out, _ = capsys.readouterr()
        assert "dbdown" in out, out
        assert "\u2800" not in out and "db down" not in out, out


# --- Slack: triage's own priority marker -----------------------------------------------------


@pytest.mark.parametrize(
    "marker", ["\N{LARGE RED CIRCLE} CRITICAL:", ":red_circle: CRITICAL:"], ids=["emoji", "code"]
)
async def test_a_title_cannot_imitate_the_slack_priority_marker(marker: str) -> None:
    """A new incident's Slack header states one priority, the ticket's: an alert titled with
    triage's own marker for another priority (`🔴 CRITICAL: …`, or its emoji code, which
    the header's plain text shows as the emoji) does not make a low incident's header read
    as critical too."""
    from triage.models import Priority
    from triage.sinks.slack import open_message
    from triage.summarise.deterministic import DeterministicSummariser

    marks = ("\N{LARGE RED CIRCLE}", "\N{LARGE ORANGE CIRCLE}", "\N{LARGE YELLOW CIRCLE}")
    alert = hostile_alert("t").model_copy(
        update={
            "title": f"{marker} payments down",
            "priority": Priority.LOW,
            "description": "d",
            "labels": {},
        }
    )
    seen = view(alert)
    ticket = await DeterministicSummariser().summarise(seen)
    one = effect("t")
    message = open_message(dataclasses.replace(one, alert=seen, ticket=ticket))
    header = message["blocks"][0]["text"]["text"]
    assert header.startswith("\N{LARGE BLUE CIRCLE} LOW: "), header
    assert "CRITICAL" not in header and not any(mark in header for mark in marks), header
    assert ":red_circle:" not in header, header


# --- logs ----------------------------------------------------------------------------------

#: A log line forged after a line break of each kind a reader or a log pipeline may split on.
FORGED = "".join(
    f"x{brk}2026-12-06T08:00:00Z [error    ] admin.granted user=mallory "
    '{"event": "admin.granted", "level": "error"}'
    for brk in ("\n", "\r\n", "\r", "\u2028", "\x85", "\x0b")
)


@pytest.mark.parametrize("fmt", ["json", "console"])
def test_alert_text_in_a_log_line_forges_no_other_line(fmt: str) -> None:
    """Alert text with line breaks of every kind (LF, CR LF, CR, U+2028, NEL, VT) in a
    structlog field and in a library's (stdlib) message stays inside its one line, in JSON
    and in the console format: each line written is a whole log line of triage's, no line
    starts with the forged text."""
    import io
    import json
    import logging

    import structlog

    from triage.logs import configure_logging

    out = io.StringIO()
    configure_logging(fmt, "info", out)
    try:
        structlog.get_logger("triage.pipeline").warning("alert.refused", title=FORGED)
        logging.getLogger("somelib").warning("bad alert %s", FORGED)
    finally:
        configure_logging("json", "info")
    lines = out.getvalue().split("\n")
    assert lines.pop() == ""
    assert len(lines) == 2, lines
    for line in lines:
        assert "\r" not in line and "\u2028" not in line and "\x85" not in line, line
        if fmt == "json":
            assert json.loads(line)["level"] == "warning"
        else:
            assert line[:4].isdigit() and "[warning  ]" in line, line


# --- the status page -------------------------------------------------------------------------

#: A team that reads as the facts the status page lists after it, joined as they are by " · ".
FACTS_TEAM = "payments · open 0 min · 1 alert · github: #1"


async def test_a_team_cannot_read_as_the_status_pages_other_facts(store: SQLiteStore) -> None:
    """On the status page's list, an incident's team stands in a tag of its own, as its
    tickets, labels and a silence's matchers do: a team holding `· open 0 min · 1 alert ·
    github: #1` cannot read as how long the incident is open, its alerts and its ticket."""
    from datetime import timedelta

    from triage.incidents.store import Routing

    alert = hostile_alert("t").model_copy(
        update={"title": "Checkout latency high", "source": "generic", "team": FACTS_TEAM}
    )
    opened = await store.begin(alert, "m", NOW - timedelta(days=3))
    assert opened.after is not None
    ticket = hostile_ticket("Checkout latency high")
    routing = Routing("default", FACTS_TEAM, {})  # the alert's team, as the pipeline keeps it
    await store.save_ticket(opened.after.fingerprint, "m", ticket, routing)
    async with serving(store) as server, loopback_client(server.port) as http:
        page = await http.get("/", headers=BEARER)
    assert page.status_code == 200
    shown = html.escape(FACTS_TEAM, quote=True)
    assert page.text.count(shown) == 1, page.text
    assert f"<span class=tag dir=auto>{shown}</span>" in page.text, page.text
