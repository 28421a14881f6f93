"""Hostile characters and spoofed links in what the Slack sink posts, against the loopback
webhook of test_slack_sink: invisible and reordering characters never reach the channel, a
lone surrogate never fails the post, and an alert's link always shows where it really goes."""

from __future__ import annotations

import itertools
import unicodedata
from typing import Any

import pytest
import regex

from test_slack_sink import (
    ALERT,
    TICKET,
    Hook,
    all_text,
    assert_well_formed,
    effect,
    hook,
    open_sink,
    text_objects,
)
from triage.models import EffectKind, Priority, Ticket
from triage.sinks import slack

__all__ = ["hook"]  # the loopback webhook fixture, shared with test_slack_sink.py

#: Characters that reorder or hide text (bidi override and isolate, zero-width space, word
#: joiner, BOM, invisible tag letters spelling "HI") and that a receiver acts on (ESC, NUL,
#: backspace, the C1 CSI).
REORDERING = "\u202e\u2066"
INVISIBLE = "\u200b\u2060\ufeff\U000e0048\U000e0049"
CONTROLS = "\x1b[31m\x00\x08\x9b"
HOSTILE = f"disk {REORDERING}full{INVISIBLE} on{CONTROLS} db-1 \ud800 end"
#: A ticket holds no lone surrogate (its model refuses one); everything else as HOSTILE.
HOSTILE_WORDS = HOSTILE.replace("\ud800", "")
#: What must survive: an emoji joined by a zero-width joiner, England's flag (tag characters
#: after a black flag), and Persian's zero-width non-joiner.
KEPT = "\N{WOMAN}\u200d\N{PERSONAL COMPUTER} \U0001f3f4\U000e0067\U000e0062\U000e0065\U000e006e\U000e0067\U000e007f \u0645\u06cc\u200c\u062e\u0648\u0627\u0647\u0645"


def _hostile_characters(text: str) -> list[str]:
    """The characters of `text` no reader should be sent."""
    flagged = set(REORDERING + INVISIBLE + CONTROLS.replace("[31m", ""))
    found = [ch for ch in text if ch in flagged and ch not in "\n"]
    return found + [ch for ch in text if unicodedata.category(ch) == "Cs"]


async def test_invisible_reordering_and_control_characters_never_reach_the_channel(
    hook: Hook,
) -> None:
    """Bidi overrides, zero-width and tag characters, controls and a lone surrogate in every
    alert and model field are removed (the surrogate shown as U+FFFD) in every text object and
    the fallback, while joined emoji, flags and non-joiners are kept; the post is sent."""
    hostile_alert = ALERT.model_copy(
        update={
            "title": HOSTILE,
            "team": HOSTILE,
            "severity": HOSTILE,
            "labels": {**ALERT.labels, "region": HOSTILE},
            "links": {HOSTILE: "https://grafana.example.com/d/x"},
        }
    )
    ticket = Ticket(
        title=f"{HOSTILE_WORDS} {KEPT}",
        priority=Priority.CRITICAL,
        description=f"{HOSTILE_WORDS}\n{KEPT}",
        steps=(HOSTILE_WORDS,),
    )
    refs = {"backend": f"T-{INVISIBLE}7"}
    async with open_sink(hook.url()) as sink:
        assert (await sink.apply(effect(alert=hostile_alert, ticket=ticket, refs=refs))).ref
        await sink.apply(
            effect(EffectKind.CLOSE, alert=hostile_alert, ticket=ticket, ref="posted", refs=refs)
        )
    opened, closed = hook.bodies()
    assert_well_formed(opened)
    for message in (opened, closed):
        text = all_text(message)
        assert _hostile_characters(text) == [], [hex(ord(c)) for c in _hostile_characters(text)]
        assert "disk full on [31m    db-1  end" in text
    assert "disk full on [31m    db-1 \ufffd end" in all_text(opened)  # the alert's team
    assert KEPT in all_text(opened)
    assert "backend ticket T-7" in all_text(opened)


async def test_a_lone_surrogate_in_a_link_is_no_failure(hook: Hook) -> None:
    """A link whose URL or name holds a lone surrogate is posted (without it), not a
    UnicodeEncodeError out of the sink that would fail the whole message."""
    hostile_alert = ALERT.model_copy(
        update={"links": {"dash\ud800": "https://grafana.example.com/d/\udc00x"}}
    )
    async with open_sink(hook.url()) as sink:
        assert (await sink.apply(effect(alert=hostile_alert))).ref == "posted"
    [message] = hook.bodies()
    assert _hostile_characters(all_text(message)) == []


@pytest.mark.parametrize(
    ("name", "url", "host"),
    [
        ("https://grafana.internal/d/ok", "https://evil.example/phish", "evil.example"),
        ("dashboard", "https://grafana.internal@evil.example/x", "evil.example"),
        # A Cyrillic a (U+0430) that looks like a Latin one: shown as the name DNS resolves.
        ("dashboard", "https://gr\u0430fana.example.com/d", "xn--grfana-4nf.example.com"),
    ],
)
async def test_an_alert_link_shows_the_host_it_really_goes_to(
    hook: Hook, name: str, url: str, host: str
) -> None:
    """An alert's link is labelled with its name and the host it opens (as DNS spells it), so
    a name that reads like a trusted URL, a user part before `@` or a look-alike letter
    cannot hide where a click goes; triage's own GitHub link is labelled as before."""
    hostile_alert = ALERT.model_copy(update={"links": {name: url}, "runbook_url": None})
    async with open_sink(hook.url()) as sink:
        await sink.apply(effect(alert=hostile_alert))
    [message] = hook.bodies()
    text = all_text(message)
    assert f"({host})>" in text, text
    assert "|GitHub #12>" in text


@pytest.mark.parametrize(
    ("url", "target"),
    [
        # A token written as the user name would reach the channel in the link itself.
        ("https://ghp_a1B2c3D4e5F6@grafana.example.com/d", "<https://grafana.example.com/d|"),
        # A host percent-encoded, as a browser decodes it.
        ("https://%67rafana.example.com/d", "<https://grafana.example.com/d|"),
    ],
)
async def test_an_alert_link_goes_where_its_label_says_without_user_info(
    hook: Hook, url: str, target: str
) -> None:
    """An alert's link points at the host its label names, spelled as DNS does, and without
    the URL's user info (a credential written there never reaches the channel)."""
    hostile_alert = ALERT.model_copy(update={"links": {"dashboard": url}, "runbook_url": None})
    async with open_sink(hook.url()) as sink:
        await sink.apply(effect(alert=hostile_alert))
    [message] = hook.bodies()
    text = all_text(message)
    assert f"{target}dashboard (grafana.example.com)>" in text, text
    assert "ghp_" not in text and "%67" not in text


async def test_a_backtick_in_a_link_name_opens_no_code_span(hook: Hook) -> None:
    """Link names sit in mrkdwn beside triage's markup: a ``` in two of them cannot turn the
    links between into a code block (shown as text, not links)."""
    links = {"a```": "https://grafana.example.com/1", "b```": "https://grafana.example.com/2"}
    hostile_alert = ALERT.model_copy(update={"links": links, "runbook_url": None})
    async with open_sink(hook.url()) as sink:
        await sink.apply(effect(alert=hostile_alert, ticket=TICKET))
    [message] = hook.bodies()
    mrkdwn = [o["text"] for o in _mrkdwn_objects(message)]
    assert not any("`" in text for text in mrkdwn), mrkdwn


def _mrkdwn_objects(message: dict[str, Any]) -> list[dict[str, Any]]:
    return [o for o in text_objects(message) if o["type"] == "mrkdwn"]


async def test_a_control_character_never_glues_a_credential_together(hook: Hook) -> None:
    """A credential split by a control character (which the redactor does not see through)
    reaches the channel still split, never whole."""
    split = "AKIA\x00IOSFODNN7EXAMPLE"
    hostile_alert = ALERT.model_copy(update={"team": split, "labels": {"host": split}})
    ticket = Ticket(title=split, priority=Priority.CRITICAL, description=split, steps=(split,))
    async with open_sink(hook.url()) as sink:
        await sink.apply(effect(alert=hostile_alert, ticket=ticket))
    [message] = hook.bodies()
    text = all_text(message)
    assert "AKIAIOSFODNN7EXAMPLE" not in text and "AKIA IOSFODNN7EXAMPLE" in text


@pytest.mark.parametrize(
    "cluster",
    ["\N{WOMAN}\u200d\N{PERSONAL COMPUTER}", "\U0001f1eb\U0001f1f7", "e\u0301"],
    ids=["joined emoji", "flag", "accent"],
)
@pytest.mark.parametrize("shift", range(4))
def test_a_cut_text_keeps_each_character_whole(cluster: str, shift: int) -> None:
    """A title cut to the header's 150 characters, and a description cut to its section's
    3,000, are cut between user-perceived characters: never half a flag (a lone letter box),
    a joined emoji split, or a letter without its accent."""
    title = "x" * shift + cluster * (190 // len(cluster))
    description = "x" * shift + cluster * (19_000 // len(cluster))
    ticket = Ticket(title=title, priority=Priority.CRITICAL, description=description)
    blocks = slack.open_message(effect(ticket=ticket))["blocks"]
    header, section = blocks[0]["text"]["text"], blocks[1]["text"]["text"]
    prefix = "\N{LARGE RED CIRCLE} CRITICAL: "
    assert header.startswith(prefix)
    for original, shown in ((title, header.removeprefix(prefix)), (description, section)):
        assert shown.endswith("…")
        kept = shown[:-1]
        ends = list(itertools.accumulate(len(c) for c in regex.findall(r"\X", original)))
        assert original.startswith(kept) and len(kept) in ends, [hex(ord(c)) for c in kept[-3:]]
