"""An escalation's post keeps the team (alert text) from reading as one of triage's facts: the
title, triage's facts (how long open, priority, occurrences) and the team each stand on a line
of their own, in the Slack post and in the GitHub comment (the issue's and a digest entry's),
so a team of `ops, 900 occurrences` cannot add an occurrence count. Against loopback servers
that record what the escalator sent."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import pytest

from hostile_server import answer, hostile
from test_escalate import escalator
from test_escape_escalation import LATER, incident
from test_escape_escalation import text_objects as text_objects
from triage.incidents.lifecycle import Incident
from triage.models import Priority, Ticket
from triage.ops.escalate import escalation_marker
from triage.sinks import markdown

#: A team that reads as the facts written beside it.
TEAM = "ops, 900 occurrences, priority critical"
TITLE = "Checkout down"
FACTS = "open for 31 min · priority low · 3 occurrences"


def escalated(refs: dict[str, str] | None = None) -> Incident:
    """The incident to escalate: a low ticket whose team imitates the facts."""
    ticket = Ticket(title=TITLE, priority=Priority.LOW, description="d", steps=())
    base = incident()
    return dataclasses.replace(base, team=TEAM, title=TITLE, ticket=ticket, refs=refs or base.refs)


async def test_the_slack_post_gives_the_team_a_line_of_its_own(tmp_path: Path) -> None:
    """The Slack post's text is the title's line, triage's facts' line and the team's line:
    the facts line holds only triage's words, and the team stands alone after `team:`."""
    async with hostile(answer(200, body=b"ok")) as server:
        e = escalator(tmp_path, f'slack_webhook_url = "{server.url}/services/T/B/x"')
        try:
            await e.escalate(escalated(), LATER)
        finally:
            await e.aclose()
        [request] = server.requests
    plain = [o["text"] for o in text_objects(json.loads(request.body)) if o["type"] == "plain_text"]
    [lines] = [text.splitlines() for text in plain if TITLE in text]
    assert lines == [f"\N{POLICE CARS REVOLVING LIGHT} {TITLE}", FACTS, f"team: {TEAM}"], lines


@pytest.mark.parametrize("digest", [False, True], ids=["issue", "digest entry"])
async def test_the_github_comment_gives_the_team_a_paragraph_of_its_own(
    tmp_path: Path, digest: bool
) -> None:
    """The GitHub comment (on the issue, or naming a digest entry) is the title's paragraph,
    triage's facts' paragraph and the team's, escaped for Markdown as the title is."""
    # `[]` for every call: the look for an earlier attempt's comment reads a list.
    ok = answer(200, {"Content-Type": "application/json"}, b"[]")
    ref = "https://github.com/acme/ops/issues/7" + ("#issuecomment-99" if digest else "")
    async with hostile(ok) as server:
        e = escalator(tmp_path, 'github_label = "escalated"', api_url=server.url)
        try:
            await e.escalate(escalated({"github": ref}), LATER)
        finally:
            await e.aclose()
        comments = [r.body for r in server.requests if b"/comments " in r.head]
    [comment] = comments
    *paragraphs, marker = json.loads(comment)["body"].split("\n\n")
    assert marker == escalation_marker(escalated({"github": ref}))  # hidden, the last line
    assert len(paragraphs) == 3, paragraphs
    assert paragraphs[0].startswith("**Escalated**") and paragraphs[0].endswith(TITLE)
    assert paragraphs[1:] == [FACTS, f"team: {markdown.inline(TEAM, 100)}"], paragraphs
