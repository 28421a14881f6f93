"""Round 5 (helper 501): the sinks against faults and hostile text. A re-fire whose reopen
GitHub answers 410 (the issue deleted as it was reopened), a Slack follow-up refused as blocks
and as plain text, and a red team of the sinks' remaining classes against loopback servers
answering as GitHub, Slack and a ticket backend do."""

from __future__ import annotations

from collections.abc import AsyncIterator, MutableMapping
from typing import Any

import pytest

from hostile_server import hostile
from test_github_later_life import REPO, TOKEN, LaterLifeGitHub, effect
from test_sinks_faults_more import effect as plain_effect
from test_sinks_faults_more import events, logged_text, slack_json, slack_sink
from triage.models import EffectKind
from triage.settings import Settings
from triage.sinks.github import GitHubSink

Logs = list[MutableMapping[str, Any]]


# --- 1. Left from round 4 ------------------------------------------------------------------


class DeletedAtReopen(LaterLifeGitHub):
    """The stub, where the re-fire's reopen of an issue finds it deleted in between (its
    comment taken, then the issue deleted): the PATCH, and every later call, answers 410."""

    def __init__(self, **kwargs: Any) -> None:
        self.delete_on_reopen: set[tuple[str, int]] = set()
        super().__init__(**kwargs)

    def _route(
        self, method: str, path: str, query: dict[str, str], headers: dict[str, str], body: Any
    ) -> Any:
        reopen = method == "PATCH" and isinstance(body, dict) and body.get("state") == "open"
        for repo, number in list(self.delete_on_reopen):
            if reopen and path == f"/repos/{repo}/issues/{number}":
                self.delete_on_reopen.discard((repo, number))
                self.deleted.add((repo, number))
        return super()._route(method, path, query, headers, body)


@pytest.fixture
async def deleting() -> AsyncIterator[tuple[DeletedAtReopen, GitHubSink]]:
    with DeletedAtReopen(tokens={TOKEN: "triage-bot"}, repositories=(REPO,)) as server:
        settings = Settings(github_api_url=server.url, github_repository=REPO, github_token=TOKEN)
        sink = GitHubSink(settings)
        try:
            yield server, sink
        finally:
            await sink.aclose()


async def test_a_refire_whose_reopen_answers_410_opens_a_new_issue_naming_the_old_once(
    deleting: tuple[DeletedAtReopen, GitHubSink], logs: Logs
) -> None:
    """A re-fire whose comment went on the closed issue, then whose reopen GitHub answers 410
    (the issue deleted in between), opens one new issue that names the old one, as a 422's
    does, with one warning; its retry finds that issue and opens nothing more."""
    github, sink = deleting
    ref = (await sink.apply(effect(EffectKind.OPEN, None, "fp:1"))).ref
    await sink.apply(effect(EffectKind.CLOSE, ref, "close"))
    github.delete_on_reopen.add((REPO, 1))
    applied = await sink.apply(effect(EffectKind.REOPEN, ref, "refire"))
    retried = await sink.apply(effect(EffectKind.REOPEN, ref, "refire"))
    issues = github.issues(REPO)
    assert len(issues) == 2 and applied.ref == retried.ref == issues[1]["html_url"]
    assert f"{REPO}#1" in issues[1]["body"].split("\n")[0]
    said = [e for e in logs if e["log_level"] == "warning" and e["event"].startswith("github.")]
    assert [e["status"] for e in said][:1] == [410] and said[0]["action"] == "open_new"


async def test_a_follow_up_refused_as_blocks_and_as_plain_text_says_so_in_one_line(
    logs: Logs,
) -> None:
    """A resolve whose blocks Slack refuses (`invalid_blocks`) and whose plain-text post it
    refuses too (`invalid_payload`) is skipped with one warning naming both refusals, not a
    `slack.blocks_refused` line followed by a `slack.refused` one for one failure."""
    async with (
        hostile(slack_json(400, "invalid_blocks"), slack_json(400, "invalid_payload")) as server,
        slack_sink(server.url) as sink,
    ):
        applied = await sink.apply(plain_effect(EffectKind.CLOSE, "posted", "close"))
    assert applied.refused and len(server.requests) == 2
    said = [e for e in logs if e["log_level"] == "warning"]
    assert [e["event"] for e in said] == ["slack.refused"]
    assert (said[0]["error"], said[0]["blocks_refused"]) == ("invalid_payload", "invalid_blocks")
    assert "slackWebhookSecret0042" not in logged_text(logs)
    assert events(logs, "error") == []
