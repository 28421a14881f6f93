"""Operator-surface bugs of round 14, one class per section:

- words copied from a GitHub issue's title or a Slack message (zero-width characters triage
  wrote so `#4` and `@team` link nothing) find their incident in a search or team filter;
- a look-alike letter inside a Latin word (a Cyrillic a) is written as its code wherever a
  name is shown: a silence's matcher (`team=p<U+0430>yments`), the status page's team, source
  and labels, Slack's Team fact, GitHub's Team row and digest entry;
- a pattern holding a character no stored value has is refused, naming it, rather than a `!~`
  that excludes nothing and quiets the incident it names;
- a secret pasted into the wrong field is named redacted by every refusal (the page's, the
  command line's, argparse's), and any value an error or a log line quotes is cut after it is
  redacted, so no token prefix too short for its shape gets through."""

from __future__ import annotations

import asyncio
import dataclasses
import html
import re
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from factories import alert
from test_escape_every_surface import effect
from test_operator_api import BEARER, serving
from test_operator_cli import triage
from test_operator_filters import seed
from triage.app import open_configured_store
from triage.aws import Aws
from triage.incidents import Store
from triage.incidents.store import Routing
from triage.models import Priority, Ticket
from triage.settings import load_settings
from triage.sinks.github.text import digest_entry, issue_body
from triage.sinks.markdown import title as github_title
from triage.sinks.slack import open_message


@pytest.fixture
async def store(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[Store]:
    """A SQLite store of eight open incidents (`High 5xx on checkout #1` …, teams payments
    and search), the one TRIAGE_STORE_URL names."""
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
    """`#4`: which of the seeded incidents the titles are."""
    return {re.findall(r"#\d+", title)[0] for title in titles}


# --- text copied from GitHub or Slack, with the zero-width characters triage put in it -------

#: "checkout #4" as the GitHub issue's title shows it (a zero-width space after `#`), so
#: GitHub links no issue #4 of the repository.
COPIED_FROM_GITHUB = github_title("checkout #4")


async def test_a_search_copied_from_a_github_title_finds_its_incident(store: Store) -> None:
    """`?search=` with words copied from the incident's GitHub issue title (`#` and a
    zero-width space) lists that incident at the API and on the status page, rather than
    nothing, which reads as "no such incident open": the store's titles hold no invisible
    character (the redactor drops them), so one in a search can never be found."""
    assert "\u200b" in COPIED_FROM_GITHUB
    async with serving(store) as client:
        api = await client.get(
            "/api/v1/incidents", params={"search": COPIED_FROM_GITHUB}, headers=BEARER
        )
        page = await client.get("/", params={"search": COPIED_FROM_GITHUB}, headers=BEARER)
    assert api.status_code == 200, api.text
    assert _numbers([shown["title"] for shown in api.json()["incidents"]]) == {"#4"}
    assert page.status_code == 200, page.text
    assert _numbers(re.findall(r"<b><span dir=auto>([^<]*)</span></b>", page.text)) == {"#4"}


async def test_the_command_line_finds_a_search_or_team_holding_a_zero_width_character(
    store: Store, capsys: pytest.CaptureFixture[str]
) -> None:
    """`triage incidents list --search "checkout #\\u200b4"` (pasted from GitHub) and
    `--team "pay\\u200bments"` (pasted from a page that breaks long words with one) list the
    incidents those words name without the invisible character."""
    code, listed, err = await asyncio.to_thread(
        triage, capsys, "incidents", "list", "--search", COPIED_FROM_GITHUB
    )
    assert code == 0, err
    assert _numbers([shown["title"] for shown in listed]) == {"#4"}
    code, listed, err = await asyncio.to_thread(
        triage, capsys, "incidents", "list", "--team", "pay\u200bments"
    )
    assert code == 0, err
    assert listed and {shown["team"] for shown in listed} == {"payments"}


# --- a silence's matcher with a look-alike letter -----------------------------------------------

#: `payments` typed with a Cyrillic a (U+0430): a silence on it quiets no payments alert.
LOOK_ALIKE_TEAM = "p\u0430yments"


@pytest.mark.parametrize(
    ("typed", "shown"),
    [
        (f"team={LOOK_ALIKE_TEAM}", "team=p<U+0430>yments"),
        # A word in one script (Russian) is no look-alike of a Latin one: shown as written.
        ("team=\u043f\u043b\u0430\u0442\u0435\u0436\u0438", None),
    ],
)
async def test_a_silences_look_alike_letter_is_shown_as_its_code(
    store: Store, typed: str, shown: str | None
) -> None:
    """A silence on `team=p\u0430yments` is listed by the API and on the status page with
    its Cyrillic a written `<U+0430>` (as `<U+200B>` marks a zero-width space), rather than
    as `team=payments`, which it does not quiet: an operator reading the page would take the
    payments alerts for silenced while each of them still notifies."""
    body = {"matchers": [typed], "duration": "1h", "comment": "maintenance"}
    async with serving(store) as client:
        added = await client.post("/api/v1/silences", json=body, headers=BEARER)
        listed = await client.get("/api/v1/silences", headers=BEARER)
        page = await client.get("/", headers=BEARER)
    assert added.status_code == 201, added.text
    expected = shown or typed
    assert added.json()["matchers"] == [expected]
    assert [s["matchers"] for s in listed.json()["silences"]] == [[expected]]
    assert html.escape(expected) in page.text, page.text


# --- a pattern holding a character no alert value has -----------------------------------------


@pytest.mark.parametrize("op", ["!~", "=~"])
async def test_a_pattern_holding_an_invisible_character_is_refused_naming_it(
    store: Store, op: str
) -> None:
    """A silence `team=payments, title!~.*checkout #\u200b4.*` (the title copied from its
    GitHub issue, to spare that one incident) is a 400 naming U+200B, as is a listing's
    `?match=title=~…` with it: no stored title holds the zero-width space (the redactor drops
    it), so the `!~` would exclude nothing and quiet checkout #4 with the rest, and the `=~`
    would hold for none; an `=` value loses it as every alert's value does."""
    pattern = f"title{op}.*{COPIED_FROM_GITHUB}.*"
    body = {"matchers": ["team=payments", pattern], "duration": "1h", "comment": "all but #4"}
    async with serving(store) as client:
        added = await client.post("/api/v1/silences", json=body, headers=BEARER)
        listed = await client.get("/api/v1/incidents", params={"match": pattern}, headers=BEARER)
        silences = await client.get("/api/v1/silences", headers=BEARER)
    assert added.status_code == 400, added.text
    assert "U+200B" in added.json()["error"], added.text
    assert silences.json()["silences"] == []
    assert listed.status_code == 400, listed.text
    assert "U+200B" in listed.json()["error"], listed.text


# --- the status page and a look-alike letter in an incident's team or label ---------------------


async def _look_alike_incident(store: Store) -> str:
    """An open incident of the team `p\u0430yments` (a Cyrillic a), whose label `env` is
    `pr\u043ed` (a Cyrillic o), with a ticket; its fingerprint."""
    given = alert("look-alike").model_copy(
        update={"team": LOOK_ALIKE_TEAM, "labels": {"env": "pr\u043ed"}}
    )
    began = await store.begin(given, "la", given.occurred_at)
    assert began.after is not None
    fp = began.after.fingerprint
    ticket = Ticket(title="look-alike is failing", priority=Priority.HIGH, description="d")
    await store.save_ticket(fp, "la", ticket, Routing("r", given.team, dict(given.labels)))
    await store.confirm(fp, "la", "backend", "T-la", finish=True)
    return fp


async def test_the_status_page_spells_a_look_alike_letter_in_a_team_or_label(
    store: Store,
) -> None:
    """The page's row and the incident's page show the team `p\u0430yments` as
    `p\\u0430yments` and the label `env=pr\u043ed` as `env=pr\\u043ed`, as `incidents
    show` writes them, rather than drawing them as `payments` and `prod`: beside a silence
    on `team=payments` that does not quiet it, an incident read as the payments team's would
    say the silence failed, and `?team=payments` does not list it."""
    fp = await _look_alike_incident(store)
    async with serving(store) as client:
        index = await client.get("/", headers=BEARER)
        page = await client.get(f"/incidents/{fp}", headers=BEARER)
    assert index.status_code == 200 and page.status_code == 200, page.text
    [row] = [r for r in index.text.split("<li ") if "look-alike is failing" in r]
    assert "p\\u0430yments" in row and LOOK_ALIKE_TEAM not in row, row
    assert "p\\u0430yments" in page.text and LOOK_ALIKE_TEAM not in page.text
    assert "env=pr\\u043ed" in page.text and "pr\u043ed" not in page.text


# --- Slack's Team fact and GitHub's Team row ---------------------------------------------------


def test_slacks_team_fact_and_githubs_team_row_spell_a_look_alike_letter() -> None:
    """A new incident of the team `p\u0430yments` is posted to Slack with the Team fact
    `p\\u0430yments`, as the message's own notification text (`team: "p\\u0430yments"`)
    writes it, and opened on GitHub with the Team row so too, as its `team:p\\u0430yments`
    label is, and so is a storm digest's entry for it: not drawn as the team `payments` it
    is not."""
    one = effect("t")
    opened = dataclasses.replace(one, alert=dataclasses.replace(one.alert, team=LOOK_ALIKE_TEAM))
    message = open_message(opened)
    fields = [f["text"] for b in message["blocks"] for f in b.get("fields", ())]
    [team] = [text for text in fields if text.startswith("Team\n")]
    assert team == "Team\np\\u0430yments", team
    [row] = [line for line in issue_body(opened).splitlines() if line.startswith("| Team |")]
    # Markdown's escape of the backslash, which GitHub shows as one.
    assert row == "| Team | p\\\\u0430yments |", row
    # A storm digest's entry names the team in a code span, where a backslash shows as it is.
    assert "team `p\\u0430yments`" in digest_entry(opened), digest_entry(opened)


# --- a refused filter's page names a pasted secret redacted, as the API does -----------------

#: A classic GitHub token, pasted into the page's filter instead of a source or a priority.
PASTED_TOKEN = "ghp_" + "a1B2c3D4e5" * 3 + "f6G7h8"


@pytest.mark.parametrize("name", ["source", "priority", "match"])
async def test_a_refused_filters_page_names_a_pasted_secret_redacted(
    store: Store, name: str
) -> None:
    """`/?source=ghp_…` (a token pasted into the wrong field) is a 400 page whose reason
    names the value as `[REDACTED:github-token]`, as the API's answer to the same filter
    does, rather than repeating the token in the page's text."""
    async with serving(store) as client:
        api = await client.get("/api/v1/incidents", params={name: PASTED_TOKEN}, headers=BEARER)
        page = await client.get("/", params={name: PASTED_TOKEN}, headers=BEARER)
    assert api.status_code == 400 and PASTED_TOKEN not in api.text, api.text
    assert page.status_code == 400, page.text
    [reason] = re.findall(r"<p class=bad>(.*?)</p>", page.text)
    assert PASTED_TOKEN not in reason and "[REDACTED:" in reason, reason


async def test_an_incident_page_names_a_pasted_secret_redacted(store: Store) -> None:
    """`/incidents/ghp_…` (a token pasted where a fingerprint goes) is a 404 page saying
    there is no incident `[REDACTED:github-token]`, as the API's answer does, and a path
    whose escapes are not UTF-8 is a 400 page naming it redacted too."""
    async with serving(store) as client:
        missing = await client.get(f"/incidents/{PASTED_TOKEN}", headers=BEARER)
        garbled = await client.get(f"/incidents/{PASTED_TOKEN}%E9", headers=BEARER)
    for page, status in ((missing, 404), (garbled, 400)):
        assert page.status_code == status, page.text
        [reason] = re.findall(r"<p class=bad>(.*?)</p>", page.text)
        assert PASTED_TOKEN not in reason and "[REDACTED:" in reason, reason


@pytest.mark.parametrize(
    "args",
    [("incidents", "list", "--source", PASTED_TOKEN),
     ("incidents", "list", "--priority", PASTED_TOKEN), ("incidents", "show", PASTED_TOKEN),
     ("incidents", "show", f"{'y' * 50} {PASTED_TOKEN} {'z' * 250}"),
     ("silence", "expire", PASTED_TOKEN)],
)  # fmt: skip
async def test_the_command_line_names_a_pasted_secret_redacted(
    store: Store, capsys: pytest.CaptureFixture[str], args: tuple[str, ...]
) -> None:
    """`triage incidents list --source ghp_…`, `incidents show ghp_…` and `silence expire
    ghp_…` say why they refuse it with the token as `[REDACTED:github-token]`, as `triage
    silence add` and the API do, rather than writing it to the terminal (and the CI log or
    scrollback that keeps it)."""
    code, _, err = await asyncio.to_thread(triage, capsys, *args)
    assert code in (1, 2), err
    assert PASTED_TOKEN[:20] not in err and "[REDACTED:" in err, err


# --- a value cut short for an error is cut after it was redacted --------------------------------

#: A pattern whose 80 characters, as an error quotes a matcher, end inside the token after it.
PATTERN_BEFORE_TOKEN = "y" * 40 + "|"


async def test_a_listing_error_quoting_a_cut_matcher_leaks_no_part_of_a_secret(
    store: Store,
) -> None:
    """`?match=priority=~…|ghp_…` is refused (priority is no label), its answer quoting the
    matcher's first 80 characters: cut from the matcher already redacted, not cut inside the
    token, whose first 29 characters are no longer of a token's shape and were answered as
    they are, at the API and on the status page."""
    query = {"match": f"priority=~{PATTERN_BEFORE_TOKEN}{PASTED_TOKEN}"}
    async with serving(store) as client:
        api = await client.get("/api/v1/incidents", params=query, headers=BEARER)
        page = await client.get("/", params=query, headers=BEARER)
    assert api.status_code == 400, api.text
    assert PASTED_TOKEN[:20] not in api.text, api.text
    assert page.status_code == 400, page.text
    [reason] = re.findall(r"<p class=bad>(.*?)</p>", page.text)
    assert PASTED_TOKEN[:20] not in reason, reason


async def test_a_silence_error_quoting_a_cut_matcher_leaks_no_part_of_a_secret(
    store: Store, capsys: pytest.CaptureFixture[str]
) -> None:
    """A silence whose pattern ends in a space (`title=~…ghp_… `) is refused with the matcher
    and the one meant quoted to 80 characters each, cut from the matcher already redacted:
    no token prefix the cut left too short for its shape reaches the API's answer or the
    terminal."""
    matcher = f"title=~{'y' * 49}|{PASTED_TOKEN} "
    body = {"matchers": [matcher], "duration": "1h", "comment": "x"}
    async with serving(store) as client:
        added = await client.post("/api/v1/silences", json=body, headers=BEARER)
    assert added.status_code == 400, added.text
    assert "whitespace" in added.text and PASTED_TOKEN[:20] not in added.text, added.text
    code, _, err = await asyncio.to_thread(
        triage, capsys, "silence", "add", "--match", matcher, "--for", "1h", "--comment", "x"
    )
    assert code == 2 and "whitespace" in err, err
    assert PASTED_TOKEN[:20] not in err, err


# --- argparse's refusals name a pasted secret redacted ----------------------------------------


@pytest.mark.parametrize(
    "args",
    [("dlq", "peek", "--max", PASTED_TOKEN), ("dlq", "peek", "--max", f"count: {PASTED_TOKEN}"),
     ("incidents", "list", "--state", PASTED_TOKEN),
     ("silence", "add", "--match", "team=a", "--for", "1h", "--comment", "x", PASTED_TOKEN)],
)  # fmt: skip
def test_an_option_refused_by_the_parser_names_a_pasted_secret_redacted(
    capsys: pytest.CaptureFixture[str], args: tuple[str, ...]
) -> None:
    """`triage dlq peek --max ghp_…` (a token pasted into the wrong option, or left over
    after the options) is exit 2 with argparse's usage line naming the value as
    `[REDACTED:github-token]`, as triage's own refusals do, not the token; nor its first
    characters when the value quoted to 40 characters ends inside it (`count: ghp_…`)."""
    from triage.cli import main

    with pytest.raises(SystemExit) as exited:
        main(list(args))
    err = capsys.readouterr().err
    assert exited.value.code == 2, err
    assert "error:" in err and "[REDACTED:" in err, err
    assert PASTED_TOKEN[:20].lower() not in err.lower(), err


# --- a refused request's log line quotes its path cut after redaction --------------------------


async def test_a_refused_requests_logged_path_leaks_no_part_of_a_secret(store: Store) -> None:
    """A request without credentials for `/api/v1/incidents/ghp_…` (a token pasted into the
    path) is logged (`api.refused`) with its path's first 48 characters, cut from the path
    already redacted: cut first, the token less its end is of no token's shape, and the log's
    own redaction let its first 26 characters through. So is a 404's path (`http.refused`)."""
    import structlog

    from triage.logs import redact_event

    with structlog.testing.capture_logs() as logs:
        async with serving(store) as client:
            refused = await client.get(f"/api/v1/incidents/{PASTED_TOKEN}")
            missing = await client.get(f"/api/v1/nothing/{PASTED_TOKEN}")
    assert (refused.status_code, missing.status_code) == (401, 404)
    lines = [
        redact_event(None, "warning", dict(e))
        for e in logs
        if e["event"] in ("api.refused", "http.refused")
    ]
    assert {line["event"] for line in lines} == {"api.refused", "http.refused"}, lines
    assert all("path" in line for line in lines), lines
    assert PASTED_TOKEN[:12] not in repr(lines), lines
