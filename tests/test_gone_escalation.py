"""An escalation of an incident whose GitHub issue its sink said is gone (deleted, archived,
moved out of reach): the escalation neither comments on nor assigns that issue, and its Slack
post does not link it; loopback servers stand in for GitHub and Slack."""

from __future__ import annotations

import dataclasses
import json
from datetime import timedelta
from pathlib import Path

from hostile_server import answer, hostile
from test_escalate import HOOK_PATH, T0, escalator, incident

ISSUE = "https://github.com/acme/ops/issues/7"
GONE = dataclasses.replace(
    incident({"github": ISSUE, "backend": "https://tickets.example/T-1"}), gone={"github": ISSUE}
)


async def test_a_gone_issue_gets_no_escalation_comment(tmp_path: Path) -> None:
    """The route escalates to GitHub (an assignee), but the issue is gone: no request reaches
    GitHub at all, and the escalation does not fail (no retry for the sweep to make)."""
    async with hostile(answer(200, {"Content-Type": "application/json"}, b"{}")) as server:
        e = escalator(tmp_path, 'github_assignees = ["oncall-lead"]', api_url=server.url)
        try:
            await e.escalate(GONE, T0 + timedelta(minutes=31))
        finally:
            await e.aclose()
        assert server.requests == []


async def test_the_slack_escalation_does_not_link_a_gone_issue(tmp_path: Path) -> None:
    """The Slack escalation links the tickets that are live (the backend's), not the gone
    issue."""
    async with hostile(answer(200, {}, b"ok")) as server:
        e = escalator(tmp_path, f'slack_webhook_url = "{server.url}{HOOK_PATH}"')
        try:
            await e.escalate(GONE, T0 + timedelta(minutes=31))
        finally:
            await e.aclose()
        [request] = server.requests
    text = json.loads(request.body)["blocks"][0]["text"]["text"]
    assert "tickets.example/T-1" in text
    assert ISSUE not in text
