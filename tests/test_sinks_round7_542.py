"""Round 7 of the sinks against hostile text and faults (helper 542).

Slack draws an emoji for every `:shortcode:` in a plain-text object that asks for it
(`"emoji": true`) and in any mrkdwn text. An alert titled `:white_check_mark: Resolved` would
be drawn as resolved in the channel while the incident fires: the alert's own shortcodes are
shown as typed, while triage's own marks (Unicode characters, not shortcodes) are drawn.
"""

from __future__ import annotations

import html
import re
from typing import Any

import pytest

from test_slack_sink import ALERT, TICKET, Hook, effect, hook, open_sink, text_objects
from triage.models import EffectKind, Ticket
from triage.sinks import markdown

__all__ = ["hook"]  # the loopback webhook fixture, shared with test_slack_sink.py

#: What Slack reads as an emoji's shortcode: a colon, a name, a colon.
SHORTCODE = re.compile(r":[A-Za-z0-9_+'-]+:")
SPOOF = ":white_check_mark: Resolved :tada:"
SPOOFED_ALERT = ALERT.model_copy(
    update={
        "title": SPOOF,
        "team": ":white_check_mark:",
        "severity": ":ok:",
        "labels": {**ALERT.labels, "region": ":green_heart:"},
        "links": {":white_check_mark: all clear": "https://grafana.example.com/d/x"},
    }
)
SPOOFED_TICKET = Ticket(
    title=SPOOF,
    priority=TICKET.priority,
    description=f"{SPOOF}\nall good :+1:",
    steps=(":white_check_mark: nothing to do",),
)


async def _posts(hook: Hook, *kinds: EffectKind, **settings: Any) -> list[dict[str, Any]]:
    """What the sink posts for an incident of the spoofing alert, one effect of each kind."""
    async with open_sink(hook.url(), **settings) as sink:
        for kind in kinds:
            ref = None if kind is EffectKind.OPEN else "posted"
            await sink.apply(effect(kind, alert=SPOOFED_ALERT, ticket=SPOOFED_TICKET, ref=ref))
    return [post["body"] for post in hook.posts]


def _drawn_shortcodes(message: dict[str, Any]) -> list[str]:
    """The shortcodes Slack would draw as emoji in `message`: any in its mrkdwn text (the
    notification and plain-post `text`, mrkdwn objects), and in plain text that asks for emoji."""
    drawn = SHORTCODE.findall(message["text"])
    for obj in text_objects(message) if "blocks" in message else ():
        if obj["type"] == "mrkdwn" or obj.get("emoji", False):
            drawn += SHORTCODE.findall(obj["text"])
    return drawn


async def test_an_alerts_shortcodes_are_not_drawn_as_emoji_in_the_block_kit_posts(
    hook: Hook,
) -> None:
    """An alert's `:white_check_mark:` in its title, team, severity, labels, link names,
    description and steps is shown as typed in the open, resolve and re-fire posts, never drawn as an emoji."""
    posts = await _posts(hook, EffectKind.OPEN, EffectKind.CLOSE, EffectKind.REOPEN)
    assert len(posts) == 3
    for message in posts:
        assert _drawn_shortcodes(message) == []


async def test_an_alerts_shortcodes_read_as_typed(hook: Hook) -> None:
    """The alert's shortcodes are still there to read, letter for letter (a joiner aside in
    mrkdwn): nothing is removed from what the alert said."""
    [opened] = await _posts(hook, EffectKind.OPEN)
    header = opened["blocks"][0]["text"]
    assert header["text"].endswith(f": {SPOOF}")
    assert SPOOF in opened["text"].replace("\u200d", "")


async def test_triages_own_marks_are_still_drawn(hook: Hook) -> None:
    """Triage's own marks are Unicode emoji, drawn whatever the text's emoji setting: the
    resolve post starts with a real check mark, the open post's header with its priority's
    circle."""
    opened, closed = await _posts(hook, EffectKind.OPEN, EffectKind.CLOSE)
    assert opened["blocks"][0]["text"]["text"].startswith("\N{LARGE RED CIRCLE} CRITICAL: ")
    assert closed["blocks"][0]["text"]["text"].startswith("\N{WHITE HEAVY CHECK MARK} Resolved: ")


async def test_an_alerts_shortcodes_are_not_drawn_in_the_plain_post(hook: Hook) -> None:
    """When Slack refuses the blocks, the plain mrkdwn post that replaces them draws none of the
    alert's shortcodes either (each keeps a zero-width joiner after its first colon)."""
    hook.answer(400, "invalid_blocks")
    [_refused, plain] = await _posts(hook, EffectKind.OPEN)
    assert "blocks" not in plain
    assert _drawn_shortcodes(plain) == []
    assert SPOOF in plain["text"].replace("\u200d", "")


# --- GitHub: the same shortcodes in an issue's title, body and comments -----------------------

#: A shortcode as GitHub reads it in rendered text: its opening colon not inside a word.
GITHUB_SHORTCODE = re.compile(r"(?<![A-Za-z0-9_]):[A-Za-z0-9_+'-]*[A-Za-z+][A-Za-z0-9_+'-]*:")


def _as_github_shows(escaped: str) -> str:
    """Escaped markdown as the text GitHub's emoji filter reads: entities decoded and each
    backslash escape gone (it runs on the rendered text, not the markdown)."""
    return html.unescape(re.sub(r"\\(.)", r"\1", escaped))


@pytest.mark.parametrize(
    "shown",
    [
        lambda text: markdown.inline(text),
        lambda text: markdown.paragraphs(f"{text}\n\n{text}"),
        lambda text: markdown.title(text),
    ],
    ids=["line", "paragraphs", "title"],
)
def test_an_alerts_shortcodes_are_not_drawn_in_a_github_issue(shown: Any) -> None:
    """`:white_check_mark: Resolved :tada:` in an alert is shown as typed in an issue's title,
    lines and paragraphs (a zero-width space after each shortcode's opening colon): GitHub
    draws none of them, and the words read the same."""
    rendered = _as_github_shows(shown(SPOOF))
    assert GITHUB_SHORTCODE.findall(rendered) == []
    assert SPOOF in rendered.replace("\u200b", "")


@pytest.mark.parametrize(
    "text",
    ["arn:aws:sns:eu-west-1:123456789012:alerts", "at 03:04:05 UTC", "db:5432:orders"],
)
def test_colons_inside_a_word_are_left_as_they_are_in_a_github_issue(text: str) -> None:
    """An ARN, a time or a `host:port:name` has no shortcode GitHub draws (each colon is inside
    a word or before a number): no zero-width space goes into it, so it can be copied from
    the issue (the account's digits are a code span, as any long hex word is)."""
    assert _as_github_shows(markdown.inline(text)).replace("`", "") == text
    assert markdown.title(text) == text
