"""Red team round 7: alert text on the surfaces it is shown, where six rounds of escaping
left a gap: GitHub team labels that read as another team's (a letter written precomposed or
decomposed, mathematical letters that fold to Latin ones), a title that states a second
priority beside the ticket's in Slack's header and the issue title (in full-width letters, or
after an emoji other than triage's marks), and the operator's list line, where a title can
write what reads as the incident's tickets. Each bug is a strict xfail that passes
once it is fixed."""

from __future__ import annotations

import dataclasses
import unicodedata
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest

from factories import view
from github_stub import GitHubServer
from test_escape_every_surface import effect, hostile_alert
from test_redteam_round5_surfaces import BOT_TOKEN, REPO, _team_labels
from triage.models import Priority
from triage.ops.operator_text import incident_line
from triage.sinks.github.text import issue_title
from triage.sinks.slack import open_message
from triage.summarise.deterministic import DeterministicSummariser

NOW = datetime(2026, 12, 6, 9, 0, tzinfo=UTC)

#: The first code point of Unicode's Mathematical Alphanumeric Symbols, and one past the last.
_MATH_LETTERS = range(0x1D400, 0x1D800)


@pytest.fixture
def github() -> Iterator[GitHubServer]:
    with GitHubServer(tokens={BOT_TOKEN: "triage-bot"}, repositories=(REPO,)) as server:
        yield server


# --- GitHub team labels ----------------------------------------------------------------------


async def test_a_team_written_decomposed_is_the_label_of_the_precomposed_one(
    github: GitHubServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`päy` written precomposed (U+00E4) and decomposed (`a` + U+0308) is one team to every
    reader: both incidents carry one and the same `team:` label, so the two spellings do not
    use up the bound on team labels and leave the real team `data` unlabelled."""
    shown = await _team_labels(github, monkeypatch, ["p\u00e4y", "pa\u0308y", "data"])
    assert shown[0] == shown[1], shown
    assert shown[2] == ["team:data"], shown


async def test_a_team_in_mathematical_letters_is_no_look_alike_label(
    github: GitHubServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A team spelled in mathematical sans-serif letters (U+1D5C9 U+1D5BA U+1D5D2, which
    Unicode folds to `pay`; no script anyone names a team in) gets no label written in them,
    which GitHub's sans-serif labels draw as `team:pay`: it is the label of `pay`, or spelled
    as codes."""
    shown = await _team_labels(github, monkeypatch, ["pay", "\U0001d5c9\U0001d5ba\U0001d5d2"])
    labels = [label for labels in shown for label in labels]
    assert labels, shown
    assert not any(ord(ch) in _MATH_LETTERS for label in labels for ch in label), labels


# --- the operator's list line ----------------------------------------------------------------

#: What `incidents list` writes after a title for an incident with a GitHub issue.
FORGED_TICKETS = "[github https://github.com/acme/ops/issues/12]"


def _shown(**fields: Any) -> dict[str, Any]:
    """An incident as `operator.incident_json` gives it, with `fields` changed."""
    incident: dict[str, Any] = {
        "fingerprint": "f" * 32, "state": "open", "opened_at": NOW.isoformat(),
        "closed_at": None, "updated_at": NOW.isoformat(), "priority": "high",
        "team": "payments", "source": "generic", "route": "db", "occurrences": 3,
        "tickets": {}, "labels": {}, "title": "Checkout down", "history": [],
        "close_held_until": None, "escalated_at": None,
    }  # fmt: skip
    return incident | fields


def test_a_title_cannot_imitate_a_list_lines_tickets() -> None:
    """A list line's tickets stand where no title can write them (as its flags do): a title
    ending `  [github https://…/issues/12]` for an incident without a ticket does not read as
    its ticket, followed by the real `[no ticket]`."""
    line = incident_line(_shown(title=f"Checkout down  {FORGED_TICKETS}"), NOW, NOW)
    assert "[no ticket]" in line, line
    assert f"{FORGED_TICKETS}  " not in line, line


# --- a second priority in the Slack header and the issue title ---------------------------------


async def _low_incident_shown(title: str) -> tuple[str, str]:
    """A low-priority alert titled `title`, summarised as the fallback writes it: its Slack
    header and its GitHub issue title."""
    alert = hostile_alert("t").model_copy(
        update={"title": title, "priority": Priority.LOW, "description": "d", "labels": {}}
    )
    seen = view(alert)
    ticket = await DeterministicSummariser().summarise(seen)
    opened = dataclasses.replace(effect("t"), alert=seen, ticket=ticket)
    return open_message(opened)["blocks"][0]["text"]["text"], issue_title(opened)


async def test_a_title_in_full_width_letters_states_no_second_priority() -> None:
    """A low incident whose title opens with `CRITICAL:` in full-width letters (U+FF23…, which
    Unicode folds to `CRITICAL`, and which read as the word) shows one priority, the
    ticket's: neither Slack's header nor the issue title reads as critical too."""
    header, title = await _low_incident_shown(
        "\uff23\uff32\uff29\uff34\uff29\uff23\uff21\uff2c: payments down"
    )
    assert header.startswith("\N{LARGE BLUE CIRCLE} LOW: "), header
    for shown in (header, title):
        assert "CRITICAL" not in unicodedata.normalize("NFKC", shown).upper(), shown


async def test_a_title_behind_an_alarm_emoji_states_no_second_priority() -> None:
    """A low incident whose title opens with an alarm emoji and the header's word
    (`🚨 CRITICAL: payments down`) shows one priority, the ticket's, in Slack's header and
    the issue title: an emoji ahead of the word does not keep it there."""
    header, title = await _low_incident_shown(
        "\N{POLICE CARS REVOLVING LIGHT} CRITICAL: payments down"
    )
    assert header.startswith("\N{LARGE BLUE CIRCLE} LOW: "), header
    for shown in (header, title):
        assert "CRITICAL" not in shown.upper(), shown
