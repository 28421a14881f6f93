"""Round 8 of the sinks against hostile text and faults (helper 551).

GitHub's emoji filter draws `:NAME:` wherever it stands in rendered text, a word glued before
it or not, for every NAME it has an image of (gemoji's names, `:octocat:`), and in a label's
name too. An alert's `x:white_check_mark:`, `:100:` or team `fire:` was drawn.
"""

from __future__ import annotations

import dataclasses
import html
import re
from typing import Any

import pytest

from github_stub import GitHubServer
from test_github_sink import ALERT as GITHUB_ALERT
from test_github_sink import TICKET as GITHUB_TICKET
from test_github_sink import effect
from test_github_sink import github as github  # the fixtures these tests use
from test_github_sink import mono as mono
from test_github_sink import sink as sink
from test_github_sink import wall as wall
from test_slack_sink import ALERT as SLACK_ALERT
from test_slack_sink import TICKET as SLACK_TICKET
from test_slack_sink import Hook, hook, open_sink, text_objects
from test_slack_sink import effect as slack_effect
from triage.models import EffectKind
from triage.sinks import markdown, slack
from triage.sinks.github import GitHubSink, text
from triage.sinks.shortcodes import DRAWN

__all__ = ["hook"]  # the loopback webhook fixture, shared with test_slack_sink.py

#: What GitHub draws: a known name between two colons, wherever the first colon stands.
_NAME = re.compile(r":([A-Za-z0-9_+'-]+)(?=:)")


def drawn(rendered: str) -> list[str]:
    """The names GitHub would draw as emoji in `rendered`, read left to right as its filter
    does (a drawn name's closing colon opens nothing more)."""
    names, at = [], 0
    while found := _NAME.search(rendered, at):
        if found[1].lower() in DRAWN:
            names.append(found[1])
            at = found.end() + 1
        else:
            at = found.end()
    return names


def as_github_shows(escaped: str) -> str:
    """Escaped markdown as the text GitHub's emoji filter reads: entities decoded, each
    backslash escape gone."""
    return html.unescape(re.sub(r"\\(.)", r"\1", escaped))


GLUED = [
    "deploy:white_check_mark: done",
    "state=ok:fire::fire:",
    "x:+1:",
    "Error rate :100:",
    "build_:tada:",
    "ARN:FIRE:",
]


@pytest.mark.parametrize("words", GLUED)
@pytest.mark.parametrize(
    "shown",
    [
        lambda words: as_github_shows(markdown.inline(words)),
        lambda words: as_github_shows(markdown.paragraphs(f"{words}\n\n{words}")).split("\n\n")[1],
        markdown.title,
    ],
    ids=["line", "paragraphs", "title"],
)
def test_a_shortcode_glued_to_a_word_is_not_drawn_in_a_github_issue(shown: Any, words: str) -> None:
    """A shortcode GitHub draws right after a word (`deploy:white_check_mark:`), or made of
    digits (`:100:`), is shown as typed in an issue's title, lines and paragraphs: a
    zero-width space after its opening colon, the words otherwise as the alert wrote them."""
    rendered = shown(words)
    assert drawn(rendered) == []
    assert rendered.replace("\u200b", "").replace("`", "") == words


@pytest.mark.parametrize(
    "words",
    [
        "arn:aws:sns:eu-west-1:123456789012:alerts",
        "arn:aws:s3:::bucket/key",
        "at 03:04:05 UTC",
        "db:5432:orders",
        "urn:ietf:params:oauth",
        "x:fire_engine_red:",
    ],
)
def test_a_colon_glued_to_a_word_before_no_drawn_name_is_left_whole(words: str) -> None:
    """An ARN, a time, a URN, or a glued `:name:` GitHub has no image of, gets no zero-width
    space, so it can be copied from the issue whole."""
    assert as_github_shows(markdown.inline(words)).replace("`", "") == words
    assert markdown.title(words) == words


@pytest.mark.parametrize(
    ("team", "label"),
    [
        (":fire:", "team::fire\\u003a"),
        ("fire:", "team:fire\\u003a"),
        ("on call :+1: ok", "team:on call :+1\\u003a ok"),
        ("a:b:fire:", "team:a\\u003ab:fire\\u003a"),
        ("pay:ments", "team:pay:ments"),
        ("eu:west:", "team:eu\\u003awest:"),
        ("ops:1234:", "team:ops:1234\\u003a"),
    ],
)
def test_a_team_label_draws_no_emoji(team: str, label: str) -> None:
    """A team whose label GitHub would draw an emoji in (`team:fire:` as `team🔥`) has the
    closing colon of each drawn name spelled as its code, as a look-alike letter is; a colon
    before no drawn name is left as the alert wrote it."""
    assert text.label_of_team(team) == label
    assert drawn(text.label_of_team(team)) == []


def test_a_team_label_spelled_still_fits_githubs_50_characters() -> None:
    """A long team ending in a drawn name is cut to GitHub's 50 characters with its colon
    spelled whole (or left out), never cut inside the code."""
    for n in range(30, 50):
        label = text.label_of_team("x" * n + ":fire:")
        assert len(label) <= 50, label
        assert drawn(label) == []
        assert not re.search(r"\\(u[0-9a-f]{0,3})?$", label), label


async def test_the_labels_of_an_issue_draw_no_emoji_from_alert_text(
    sink: GitHubSink, github: GitHubServer
) -> None:
    """An issue opened for an alert whose team and source are shortcodes gets labels GitHub
    draws no emoji in; a route's own label (the operator's `:fire:`) is sent as configured."""
    shown = effect()
    odd = dataclasses.replace(shown.alert, team=":fire:", source="ci:tada:")
    shown = dataclasses.replace(
        shown, alert=odd, target=dataclasses.replace(shown.target, labels=(":fire: hot",))
    )
    await sink.apply(shown)
    [created] = [c for c in github.calls if c["method"] == "POST" and c["path"].endswith("/issues")]
    labels = created["body"]["labels"]
    assert "team::fire\\u003a" in labels and "source:ci:tada\\u003a" in labels
    assert ":fire: hot" in labels
    assert [drawn(label) for label in labels if label != ":fire: hot"] == [[]] * (len(labels) - 1)


# --- Slack: a shortcode of digits ------------------------------------------------------------

#: What Slack draws in mrkdwn: a name it knows between two colons (`:100:` is 💯), glued or not.
SLACK_DIGITS = ["Error rate :100:", "code :1234: seen", "x:100:"]


@pytest.mark.parametrize("words", SLACK_DIGITS)
def test_a_shortcode_of_digits_is_not_drawn_in_slack_mrkdwn(words: str) -> None:
    """`:100:` and `:1234:` are emoji names (💯, 🔢) though they hold no letter: in mrkdwn
    beside triage's markup and in the plain post, each keeps a zero-width joiner after its
    opening colon, and the words read the same."""
    for shown in (slack.code_free(words), slack.unlinked(slack.safe(words))):
        assert drawn(shown) == []
        assert shown.replace("\u200d", "") == words


def test_a_time_is_left_whole_in_slack_mrkdwn() -> None:
    """A time's `03:04:05` has no emoji name in it: no joiner goes into it."""
    assert slack.code_free("at 03:04:05 UTC") == "at 03:04:05 UTC"


async def test_an_alerts_digit_shortcode_is_not_drawn_in_a_slack_post(hook: Hook) -> None:
    """An alert titled `Error rate :100:` is posted with no emoji drawn from it, in the blocks'
    mrkdwn and the notification text."""
    alert = SLACK_ALERT.model_copy(update={"title": "Error rate :100:", "team": "x:1234:"})
    async with open_sink(hook.url()) as sink:
        await sink.apply(slack_effect(EffectKind.OPEN, alert=alert, ticket=SLACK_TICKET))
    [post] = [p["body"] for p in hook.posts]
    mrkdwn = [post["text"]] + [
        o["text"] for o in text_objects(post) if o["type"] == "mrkdwn" or o.get("emoji")
    ]
    assert [drawn(text) for text in mrkdwn] == [[]] * len(mrkdwn)


# --- A long word after a colon -----------------------------------------------------------------

#: A colon before a long word and no closing colon (a key's value, a blob in a log line): the
#: lookahead for a shortcode that also sought a letter in the name went over the word once from
#: each of its characters, so this took minutes of the CPU every message waits on.
LONG = "token:" + "A1b2" * 15_000


def test_a_long_word_after_a_colon_is_escaped_in_one_pass_for_github() -> None:
    """60,000 word characters after a colon are rendered in an issue's description in one
    pass (the per-test timeout is what the quadratic scan ran into), and read as written."""
    rendered = markdown.paragraphs(LONG, len(LONG))
    assert rendered.replace("`", "") == LONG


def test_a_long_word_after_a_colon_is_escaped_in_one_pass_for_slack() -> None:
    """The same word in Slack's mrkdwn (a link's name, the notification text) is made inert in
    one pass, and reads as written: it names no emoji."""
    assert slack.code_free(LONG) == LONG
    assert slack.unlinked(slack.safe(LONG)) == LONG


# --- Every GitHub surface at once --------------------------------------------------------------

GLUED_ALERT_TEXT = "deploy:white_check_mark: ok:100:"


def test_no_glued_shortcode_is_drawn_anywhere_in_an_issue_or_its_comments() -> None:
    """An alert whose title, team, severity, label, link name and ticket words all hold glued
    shortcodes gets an issue body, a digest entry and close/re-fire comments GitHub draws no
    emoji in (code spans aside, where GitHub draws none)."""
    alert = GITHUB_ALERT.model_copy(
        update={
            "title": GLUED_ALERT_TEXT,
            "team": GLUED_ALERT_TEXT,
            "severity": GLUED_ALERT_TEXT,
            "labels": {"region": GLUED_ALERT_TEXT, "x:fire:": "y"},
            "links": {GLUED_ALERT_TEXT: "https://grafana.example.com/d/x"},
        }
    )
    ticket = GITHUB_TICKET.model_copy(
        update={
            "title": GLUED_ALERT_TEXT,
            "description": f"{GLUED_ALERT_TEXT}\n\n{GLUED_ALERT_TEXT}",
            "steps": (GLUED_ALERT_TEXT,),
        }
    )
    hostile = effect(alert=alert, ticket=ticket)
    written = [
        text.issue_title(hostile),
        text.issue_body(hostile),
        text.digest_entry(hostile),
        text.close_comment(hostile),
        text.reopen_comment(hostile),
        *text.issue_labels(hostile),
    ]
    for body in written:
        outside_code = re.sub(r"`[^`]*`", "", body)
        assert drawn(as_github_shows(outside_code)) == [], body
