"""A hostile model answer, end to end: from a loopback OpenAI-compatible server through the LLM
summariser and the pipeline's redaction to the GitHub and Slack stand-ins. Whatever the model
writes, nobody is notified, nothing links or embeds, no issue is referenced or adopted, and no
secret it "recalled" is published."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest
from pydantic import SecretStr

from factories import view
from github_stub import GitHubServer
from hostile_server import answer, hostile
from triage.demo.model import ChatServer, completion
from triage.metrics import Metrics
from triage.models import Alert, EffectKind, Status, Ticket
from triage.redact import Redactor
from triage.settings import Settings
from triage.sinks.base import Effect, Target
from triage.sinks.github import GitHubSink
from triage.sinks.slack import SlackSink
from triage.summarise import FallbackSummariser
from triage.summarise.deterministic import DeterministicSummariser
from triage.summarise.llm import LlmSummariser
from triage.view import redact_ticket

REPO = "acme/ops"
BOT_TOKEN = "t-bot"
AWS_KEY = "AKIAIOSFODNN7EXAMPLE"
GITHUB_TOKEN = "ghp_" + "Zx9Yw8Vu7T" * 4

ALERT = Alert(
    source="generic",
    status=Status.FIRING,
    title="Checkout API 5xx on web-1",
    team="payments",
    description="error rate 12% on web-1, see https://grafana.example.com/d/x",
    links={"dashboard": "https://grafana.example.com/d/x"},
    occurred_at=datetime(2026, 11, 23, 9, 0, tzinfo=UTC),
    identity={"dedup_key": "checkout-5xx"},
)
VICTIM = Alert(
    source="generic",
    status=Status.FIRING,
    title="Orders DB down",
    team="data",
    occurred_at=datetime(2026, 11, 23, 9, 0, tzinfo=UTC),
    identity={"dedup_key": "orders-db"},
)

MENTIONS = "@octocat @acme/oncall @here <!channel> <!here> <@U123> <!subgroup^S1>"
LINKS = (
    "[x](https://evil.example/a) ![](https://evil.example/pixel) <https://evil.example|click> "
    "<img src=https://evil.example/i> <details><summary>open</summary>hidden</details> "
    "javascript:alert(1) h\u200bttps://evil.example/zw"
)
REFERENCES = "closes #1, fixes acme/other#2, GH-3"
LAYOUT = "- [ ] task\n| a | b |\n|---|---|\n# Heading\n```\ncode"
HIDDEN = f"<!-- triage:fingerprint={VICTIM.fingerprint} --> \u202eevil\u202c"
SECRETS = f"key {AWS_KEY} token {GITHUB_TOKEN}"

HOSTILE = {
    "title": f"{MENTIONS} {REFERENCES}",
    "priority": "critical",
    "description": "\n".join([MENTIONS, LINKS, REFERENCES, LAYOUT, HIDDEN, SECRETS]),
    "steps": [MENTIONS, LINKS, REFERENCES, "- [ ] check", HIDDEN, SECRETS],
}


@pytest.fixture
def chat() -> Iterator[ChatServer]:
    with ChatServer() as server:
        yield server


@pytest.fixture
def github() -> Iterator[GitHubServer]:
    with GitHubServer(tokens={BOT_TOKEN: "triage-bot"}, repositories=(REPO,)) as server:
        yield server


async def hostile_ticket(chat: ChatServer) -> Ticket:
    """The ticket the LLM summariser writes from HOSTILE, as the pipeline hands it to sinks."""
    chat.then(completion(json.dumps(HOSTILE)))
    settings = Settings(
        openai_api_key="sk-test-" + "k" * 32, openai_base_url=chat.url, llm_retries=0
    )
    metrics = Metrics()
    redactor = Redactor()
    llm = LlmSummariser(settings, metrics=metrics, redactor=redactor)
    summariser = FallbackSummariser(llm, DeterministicSummariser(), metrics, redactor)
    try:
        ticket = await summariser.summarise(view(ALERT))
    finally:
        await summariser.aclose()
    assert metrics.counter("SummarizationFailures") == 0  # the model's ticket, not the fallback
    return redact_ticket(ticket, redactor)


def effect(alert: Alert, ticket: Ticket, key: str) -> Effect:
    return Effect(EffectKind.OPEN, alert.fingerprint, view(alert), ticket, None, 1, 1, False, key,
                  Target())  # fmt: skip


def assert_nothing_leaks(text: str) -> None:
    assert "evil.example" not in text
    assert AWS_KEY not in text and GITHUB_TOKEN not in text
    assert "\u202e" not in text and "\u200b" not in text.replace("&#8203;", "")


async def test_a_hostile_answer_reaches_github_inert(
    chat: ChatServer, github: GitHubServer
) -> None:
    """On GitHub a hostile answer mentions no one, links and embeds nothing, references no
    issue, starts no markup, and its forged marker does not make another incident adopt its
    issue."""
    ticket = await hostile_ticket(chat)
    settings = Settings(github_api_url=github.url, github_repository=REPO, github_token=BOT_TOKEN)
    sink = GitHubSink(settings)
    try:
        hostile_ref = (await sink.apply(effect(ALERT, ticket, "k1"))).ref
        victim_ticket = Ticket(title="Orders DB down", priority="high", description="d", steps=())
        victim_ref = (await sink.apply(effect(VICTIM, victim_ticket, "k2"))).ref
    finally:
        await sink.aclose()
    assert hostile_ref != victim_ref
    issue = github.issues()[0]
    title, body = issue["title"], issue["body"]
    assert_nothing_leaks(title + body)
    # Mentions and references: a zero-width space after every @ and #.
    shown = body.replace("&#8203;", "\u200b")
    assert not re.search(r"[@#][\w/]", shown) and not re.search(r"[@#][\w/]", title)
    assert not re.search(r"(?i)gh-\d", shown)
    # The model's words (summary and steps) hold no HTML and open no markup; the one HTML
    # comment is triage's marker, on the body's last line.
    words = body.split("### Alert")[0]
    assert "<" not in words and "](" not in words.replace("\\](", "")
    lines = [line.removeprefix("### ") for line in words.split("\n")]
    assert not [line for line in lines if re.match(r"(?:[-*+|>]|#+(?:\s|$)|```|\d+\.\s*\[)", line)]
    assert body.count("<!--") == 1
    assert body.endswith(f"\n<!-- triage:fingerprint={ALERT.fingerprint} -->")


async def test_a_hostile_answer_reaches_slack_inert(chat: ChatServer) -> None:
    """In Slack a hostile answer notifies no one and links nothing: its words are plain text
    with `<`, `>` and `&` as entities and every @word broken, and the only markup is triage's."""
    ticket = await hostile_ticket(chat)
    async with hostile(answer(200, body=b"ok")) as hook:
        settings = Settings(slack_webhook_url=SecretStr(f"{hook.url}/services/T/B/x"))
        sink = SlackSink(settings)
        try:
            await sink.apply(effect(ALERT, ticket, "k1"))
        finally:
            await sink.aclose()
    (request,) = hook.requests
    message: dict[str, Any] = json.loads(request.body)
    texts: list[tuple[str, str]] = [("fallback", message["text"])]

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            if node.get("type") in ("plain_text", "mrkdwn") and "text" in node:
                texts.append((node["type"], node["text"]))
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    walk(message["blocks"])
    for kind, text in texts:
        assert_nothing_leaks(text)
        assert not re.search(r"(?<!\w)@\w", text)
        if kind != "mrkdwn":  # plain text and the fallback: alert and model words only
            assert "<" not in text and ">" not in text
        else:  # triage's own markup: the date and the alert's named links
            for markup in re.findall(r"<([^>]*)>", text):
                assert markup.startswith(("!date^", "https://grafana.example.com/d/x|"))
    assert message["unfurl_links"] is False and message["unfurl_media"] is False
