"""An operator's close by hand (`triage incidents close FP --comment TEXT`) through the
pipeline and the real sinks against their loopback stand-ins (the ticket backend, GitHub,
Slack's webhook): the comment an operator may write (up to 1,000 characters) reaches each sink
that shows it whole, never cut mid-word or mid-marker, and a secret in it never leaves."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass

import pytest
from pydantic import SecretStr

from factories import alert
from github_stub import GitHubServer
from memory_store import MemoryStore
from test_backend_sink import ROUTES, token_env
from test_pipeline import LEASE, POLICY, Clock, CountingSummariser
from test_slack_sink import Hook, hook
from triage.demo.ticketd import TicketServer
from triage.incidents import Action, Ledger
from triage.metrics import Metrics
from triage.models import Priority
from triage.pipeline import Pipeline
from triage.redact import Redactor
from triage.secrets import BackendToken
from triage.settings import Settings
from triage.sinks import slack
from triage.sinks.backend import BackendSink
from triage.sinks.base import Sink
from triage.sinks.github import GitHubSink

__all__ = ["hook", "token_env"]  # fixtures shared with the sinks' own tests

REPO = "acme/ops"
BOT_TOKEN = "t-bot"
SECRET = "sk-proj-Zq8RkW3nV7pL2xT9sB4mC6yJ"


def long_comment() -> str:
    """A comment of exactly 1,000 characters (the most a close takes), a secret in it where a
    cut at 500 characters of the note would fall, and a last word that only a whole comment
    carries."""
    head = "rolled back the deploy; " * 18
    tail = " then drained the old pods and watched the error rate " * 12
    text = f"{head}key {SECRET} was in the env{tail}"
    last = " the very-last-word"
    return text[: 1000 - len(last)] + last


@pytest.fixture
def github() -> Iterator[GitHubServer]:
    with GitHubServer(tokens={BOT_TOKEN: "triage-bot"}, repositories=(REPO,)) as server:
        yield server


@dataclass
class Closed:
    """What each stand-in was sent by an open and its close by hand."""

    backend: TicketServer
    github: GitHubServer
    hook: Hook

    def backend_note(self) -> str:
        [resolve] = [e for e in self.backend.events if e["kind"] == "resolve"]
        return str(resolve["body"]["note"])

    def github_close_comment(self) -> str:
        [issue] = self.github.issues(REPO)
        assert issue["state"] == "closed"
        [comment] = issue["comment_bodies"]
        return str(comment)

    def slack_follow_up(self) -> str:
        _opened, closed = self.hook.bodies()
        return json.dumps(closed, ensure_ascii=False)

    def everything_sent(self) -> str:
        sent = [self.backend.tickets, self.backend.events, self.github.calls, self.hook.bodies()]
        return json.dumps(sent, ensure_ascii=False)


@pytest.fixture
async def closed(
    github: GitHubServer, hook: Hook, backend: TicketServer, token_env: None
) -> Closed:
    """A critical incident opened through the backend, GitHub and Slack, then closed by hand
    by alice with `long_comment()`."""
    settings = Settings(
        github_api_url=github.url,
        github_repository=REPO,
        github_token=SecretStr(BOT_TOKEN),
        slack_webhook_url=SecretStr(hook.url()),
        # The comment's text is under test, not Slack's pacing of the open and its follow-up.
        slack_min_interval_s=0,
        backend_base_url=backend.url,
        **ROUTES,
    )
    sinks: list[Sink] = [
        BackendSink(settings, BackendToken(settings)),
        GitHubSink(settings),
        slack.SlackSink(settings),
    ]
    clock = Clock()
    pipeline = Pipeline(
        Ledger(MemoryStore(POLICY, LEASE), clock=clock),
        CountingSummariser(),
        sinks,
        Metrics(),
        redactor=Redactor(),
        policy=POLICY,
    )
    firing = alert(priority=Priority.CRITICAL)
    try:
        await pipeline.handle(firing, "m1")
        clock.at(5)
        action = await pipeline.close(firing.fingerprint, "cli:alice", long_comment(), "alice")
        assert action is Action.CLOSE
    finally:
        for sink in sinks:
            await sink.aclose()
    return Closed(backend, github, hook)


async def test_the_backend_is_sent_the_whole_comment_redacted(closed: Closed) -> None:
    """The backend's resolve note carries the incident's title, who closed it and the whole
    1,000-character comment (its last word too), with the secret in it redacted."""
    note = closed.backend_note()
    assert Redactor().text(long_comment()) in note
    assert note.endswith("the very-last-word)")
    assert "api-5xx is failing (closed by alice: rolled back" in note
    assert "[REDACTED:api-key]" in note


async def test_no_sink_is_sent_the_secret_in_a_comment(closed: Closed) -> None:
    """No request to the backend, GitHub or Slack holds the secret the comment carried,
    whole or in part."""
    sent = closed.everything_sent()
    assert SECRET not in sent and SECRET[8:] not in sent


async def test_github_close_comment_has_the_whole_comment(closed: Closed) -> None:
    """The GitHub issue's closing comment shows the operator's comment to its last word."""
    assert "the very-last-word" in closed.github_close_comment()


async def test_slack_follow_up_has_the_comment(closed: Closed) -> None:
    """The Slack follow-up of the close says who closed it and why."""
    follow_up = closed.slack_follow_up()
    assert "closed by alice" in follow_up and "the very-last-word" in follow_up
