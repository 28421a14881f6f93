"""Round 6 of the GitHub and Slack sinks against hostile text (helper 522): what the other
services' answers put beside triage's own words in a Slack post Slack formats itself, and the
labels an alert's team makes on GitHub."""

from __future__ import annotations

import json
import re
from collections.abc import MutableMapping
from typing import Any

import pytest

from github_stub import GitHubServer
from test_github_sink import ALERT as GITHUB_ALERT
from test_github_sink import bot_calls
from test_github_sink import effect as github_effect
from test_github_sink import github as github  # the fixtures these tests use
from test_github_sink import mono as mono
from test_github_sink import sink as sink
from test_github_sink import wall as wall
from test_slack_sink import ISSUE_URL, TICKET, Hook, effect, open_sink
from test_slack_sink import hook as hook  # the fixture these tests use
from triage.models import Alert, EffectKind
from triage.sinks.github import GitHubSink

#: Where Slack would link free text in mrkdwn it formats (a message's `text`): a domain's dot
#: before its next name, as `slack._AUTOLINK` reads it.
_DOMAIN_DOT = re.compile(r"(?<=[^\W_])\.(?=[^\W\d_])")


@pytest.mark.parametrize("kind", [EffectKind.OPEN, EffectKind.CLOSE])
async def test_a_backend_ticket_id_that_reads_as_a_domain_is_no_link_in_a_plain_post(
    hook: Hook, logs: list[MutableMapping[str, Any]], kind: EffectKind
) -> None:
    """A backend ticket id may hold dots (`login.evil.example` is a plausible id), and the
    plain-text post Slack gets when it refuses the blocks is mrkdwn that Slack links by
    itself: the id is shown with a joiner after each domain dot, not as a link to that site
    (the blocks, which Slack does not link, keep it as answered)."""
    hook.answer(400, "invalid_blocks")
    refs = {"github": ISSUE_URL, "backend": "login.evil.example"}
    async with open_sink(hook.url()) as sink:
        applied = await sink.apply(effect(kind, ref="posted", refs=refs))
    assert applied.skipped is None
    refused, plain = hook.bodies()
    assert "blocks" in refused and "blocks" not in plain
    [backend] = re.findall(r"backend ticket (\S+)", plain["text"])
    assert _DOMAIN_DOT.search(backend) is None, backend
    assert backend.replace("\u200d", "") == "login.evil.example"
    assert f"<{ISSUE_URL}|GitHub #12>" in plain["text"]  # triage's own link stays a link
    # The blocks' mrkdwn is `verbatim` (Slack links nothing there): the id is as answered.
    assert "backend ticket login.evil.example" in json.dumps(refused["blocks"])
    assert [e["event"] for e in logs if e["log_level"] == "warning"] == ["slack.blocks_refused"]


@pytest.mark.parametrize("team", [",", ", ,", ",\u200b,"])
async def test_a_team_that_shows_nothing_as_a_label_makes_no_team_label(
    sink: GitHubSink, github: GitHubServer, team: str
) -> None:
    """A team of commas (which a label shows as spaces, then trims) is no team a label can
    name: the issue gets no bare `team:` label, which would be made in the repository for good
    and counted among its teams, while its facts still show the team as the alert wrote it."""
    fields = GITHUB_ALERT.model_dump(exclude={"fingerprint"})
    alert = Alert(**{**fields, "team": team})
    await sink.apply(github_effect(alert=alert))
    [create] = [c for c in bot_calls(github, "POST") if c["path"].endswith("/issues")]
    labels = create["body"]["labels"]
    assert not [label for label in labels if label.startswith("team:")], labels
    assert "triage" in labels and "priority:P1" in labels
    assert "| Team | ," in create["body"]["body"]


@pytest.mark.parametrize(
    "domain",
    ["\u0939\u093f\u0902\u0926\u0940.com", "evil\u0301.com", "e\u0301.example"],
    ids=["hindi vowel sign", "decomposed accent", "one accented letter"],
)
async def test_a_domain_whose_name_ends_in_a_combining_mark_is_no_link(
    hook: Hook, domain: str
) -> None:
    """A domain name may end in a combining mark (a Hindi word's vowel sign, an accent written
    apart from its letter), which is part of the name as Slack reads it: the notification
    text, which Slack links by itself, gets a joiner after that domain's dot too."""
    hostile = TICKET.model_copy(update={"title": f"reset at {domain}/login now"})
    async with open_sink(hook.url()) as sink:
        await sink.apply(effect(ticket=hostile))
    [posted] = hook.bodies()
    name, _, tld = domain.partition(".")
    assert f"{name}.\u200d{tld}/login" in posted["text"], posted["text"]
