"""Red team round 5: escaping and injection of hostile alert (and model) text on every surface
it is shown: GitHub labels and Markdown, Slack, the status page, the operator's terminal, logs
and the LLM prompt. Each test drives the real code path; a test marked xfail(strict) names a
bug still open (file:line: cause) and passes once it is fixed."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from factories import view
from github_stub import GitHubServer
from test_escape_every_surface import hostile_alert, hostile_ticket
from triage.models import EffectKind
from triage.settings import Settings
from triage.sinks.base import Effect
from triage.sinks.github import GitHubSink

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


@pytest.mark.xfail(
    strict=True,
    reason="sinks/github/text.py:113 (_label): the blank Braille pattern U+2800, which "
    "normalize/common.py:255 (_UNSEEN) knows draws nothing, is kept by display.visible and by "
    "the redactor and is no whitespace to split()/rstrip(), so `pay⠀` is a second label that "
    "shows as `team:pay`",
)
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
