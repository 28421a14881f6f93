"""Round 6 of the GitHub and Slack sinks against hostile text (helper 522): what the other
services' answers put beside triage's own words in a Slack post Slack formats itself."""

from __future__ import annotations

import re
from collections.abc import MutableMapping
from typing import Any

import pytest

from test_slack_sink import ISSUE_URL, Hook, effect, open_sink
from test_slack_sink import hook as hook  # the fixture these tests use
from triage.models import EffectKind

#: Where Slack would link free text in mrkdwn it formats (a message's `text`): a domain's dot
#: before its next name, as `slack._AUTOLINK` reads it.
_DOMAIN_DOT = re.compile(r"(?<=[^\W_])\.(?=[^\W\d_])")


@pytest.mark.parametrize("kind", [EffectKind.OPEN, EffectKind.CLOSE])
async def test_a_backend_ticket_id_that_reads_as_a_domain_is_no_link_in_a_plain_post(
    hook: Hook, logs: list[MutableMapping[str, Any]], kind: EffectKind
) -> None:
    """A backend ticket id may hold dots (`login.evil.example` is a plausible id), and the
    plain-text post Slack gets when it refuses the blocks is mrkdwn that Slack links by
    itself: the id is shown with a joiner after each domain dot, not as a link to that site."""
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
    assert [e["event"] for e in logs if e["log_level"] == "warning"] == ["slack.blocks_refused"]
