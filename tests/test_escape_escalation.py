"""An escalation shows alert text as the sinks do: in its Slack post only as plain text (no `*`,
``` or link of the alert's can restyle the message or swallow its ticket links), and in its
GitHub comment escaped for Markdown (no image, link, reference or mention), against loopback
servers that record what the escalator sent."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from hostile_server import answer, hostile
from test_escalate import escalator
from triage.incidents.lifecycle import Incident, State
from triage.sinks import markdown

T0 = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)
LATER = T0 + timedelta(minutes=31)
HOOK_PATH = "/services/T01/B02/Esc4l4t10nH00k"
ISSUE = "https://github.com/acme/ops/issues/7"

#: Alert text an attacker wrote: Slack and Markdown styling, a code fence, links, an image,
#: mentions and references.
TITLE = "```disk *full* ~gone~ _x_ <!channel> see https://evil.example/login #general"
TEAM = "![pixel](https://evil.example/p.png) [docs](https://evil.example) @acme/sre #12 GH-3"


def incident() -> Incident:
    return Incident(
        fingerprint="e" * 32,
        state=State.OPEN,
        source="generic",
        title=TITLE,
        team=TEAM,
        opened_at=T0,
        last_event_at=T0,
        occurrences=3,
        refs={"github": ISSUE, "backend": "https://tickets.example/T-1?a=1&b=2"},
        route="payments",
        escalate_after_s=1800,
    )


def text_objects(message: Any) -> list[dict[str, Any]]:
    """Every Block Kit text object in `message`, however deep."""
    found: list[dict[str, Any]] = []
    if isinstance(message, dict):
        if message.get("type") in ("plain_text", "mrkdwn") and isinstance(message.get("text"), str):
            found.append(message)
        for value in message.values():
            found += text_objects(value)
    elif isinstance(message, list):
        for value in message:
            found += text_objects(value)
    return found


async def test_the_slack_escalation_shows_alert_text_as_plain_text(tmp_path: Path) -> None:
    """The title and team reach Slack only in plain_text objects; the mrkdwn ones hold only
    our links, each `<url|label>` with its `&` escaped."""
    async with hostile(answer(200, body=b"ok")) as server:
        e = escalator(tmp_path, f'slack_webhook_url = "{server.url}{HOOK_PATH}"')
        try:
            await e.escalate(incident(), LATER)
        finally:
            await e.aclose()
        [request] = server.requests
    message = json.loads(request.body)
    objects = text_objects(message)
    plain = " ".join(o["text"] for o in objects if o["type"] == "plain_text")
    mrkdwn = [o for o in objects if o["type"] == "mrkdwn"]
    assert "```disk *full* ~gone~ _x_ &lt;!channel&gt;" in plain
    assert "\u200dacme/sre" in plain  # the team is there, its mention broken
    for obj in mrkdwn:
        assert "```" not in obj["text"] and "evil.example" not in obj["text"], obj
        assert obj.get("verbatim") is True  # Slack links no name or URL of its own
        assert all(
            tag.startswith(("<https://", "<http://")) for tag in re.findall(r"<[^>]*>", obj["text"])
        )
    links = " ".join(o["text"] for o in mrkdwn)
    assert f"<{ISSUE}|github>" in links
    assert "<https://tickets.example/T-1?a=1&amp;b=2|backend>" in links
    assert message["unfurl_links"] is False and message["unfurl_media"] is False


async def test_the_github_escalation_comment_escapes_the_team_for_markdown(
    tmp_path: Path,
) -> None:
    """The comment's team is escaped for Markdown as its title is: no image that fetches on
    render, no link, no issue reference, no mention."""
    # `[]` for every call: the look for an earlier attempt's comment reads a list.
    ok = answer(200, {"Content-Type": "application/json"}, b"[]")
    async with hostile(ok) as server:
        e = escalator(tmp_path, 'github_label = "escalated"', api_url=server.url)
        try:
            await e.escalate(incident(), LATER)
        finally:
            await e.aclose()
        comments = [r.body for r in server.requests if b"/comments " in r.head]
    [comment] = comments
    body = json.loads(comment)["body"]
    assert markdown.inline(TEAM, 300) in body
    assert markdown.inline(TITLE, 300) in body
    for raw in ("![", "](", "https://", "@acme", "#12", "GH-3"):
        assert raw not in body, raw
