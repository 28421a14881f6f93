"""Slack's notification text (a message's fallback) and its plain-text post name the team after
`team:`, bare when it is one plain word and as a quoted JSON string otherwise: a team is alert
text, and set in parentheses after the title it could close them and write its own priority
marker or link beside triage's."""

from __future__ import annotations

import dataclasses
import json

import pytest

from test_escape_every_surface import effect
from triage.sinks.slack import open_message, plain_message

#: Teams that write text of their own after the title if they are not delimited.
HOSTILE_TEAMS = {
    "marker": "ops) \N{LARGE RED CIRCLE} CRITICAL: (page now",
    "link": "ops) <https://evil.example|GitHub #1> (x",
    "quote": 'ops" · team: "data',
}


def _texts(team: str) -> list[str]:
    """The fallback text of a new incident's message and its plain-text post's line, for an
    incident of `team` whose ticket is titled `Checkout down`."""
    one = effect("t")
    alert = dataclasses.replace(one.alert, team=team)
    ticket = one.ticket.model_copy(update={"title": "Checkout down"})
    opened = dataclasses.replace(one, alert=alert, ticket=ticket)
    return [open_message(opened)["text"], plain_message(opened)["text"].splitlines()[-1]]


@pytest.mark.parametrize("team", list(HOSTILE_TEAMS.values()), ids=list(HOSTILE_TEAMS))
def test_a_team_is_one_quoted_value_after_team(team: str) -> None:
    """The team follows the title as `team: "…"`, a JSON string no team can close early: what
    follows `team: ` reads back as the whole team (Slack's entities aside), and no parenthesis
    of triage's wraps it."""
    for text in _texts(team):
        head, _, quoted = text.partition(" · team: ")
        assert head.endswith("CRITICAL: Checkout down"), text
        # Less the joiners that keep a link-shaped team from being one (`slack.unlinked`).
        shown = quoted.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")
        shown = shown.replace("\u200d", "")
        assert json.loads(shown) == team, text


def test_a_plain_team_is_written_bare() -> None:
    """A team of one plain word reads as written: `team: payments-eu`."""
    for text in _texts("payments-eu"):
        assert text.endswith("CRITICAL: Checkout down · team: payments-eu"), text


def test_a_look_alike_team_is_spelled_as_its_code() -> None:
    """A team spelling `pay` with a Cyrillic a is quoted with that letter as its code, so it
    does not pass for the team `pay` in a notification."""
    for text in _texts("p\u0430y"):
        assert text.endswith(' · team: "p\\u0430y"'), text
