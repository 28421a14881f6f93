"""Red team, round 3: faults beside hostile alerts, in process. A sink that fails part-way
through a group whose alerts carry credentials and markup, and a model that answers a priority
outside low|medium|high|critical in shapes no other test sends. What must hold: the retry opens
each ticket once, nothing that leaves the process carries the credential, and the model's word
never raises the ticket past the priority rule."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

import pytest

from factories import T0
from memory_store import MemoryStore
from recording_pipeline import POLICY, Summariser
from test_llm_hostile_answers import ANSWER, summarise
from triage.demo.model import ChatServer
from triage.errors import SinkThrottledError, SinkUnavailableError
from triage.incidents.ledger import Ledger
from triage.metrics import Metrics
from triage.models import EffectKind, Priority
from triage.pipeline import Pipeline
from triage.redact import Redactor
from triage.sinks import slack
from triage.sinks.base import Applied, Effect
from triage.sinks.github import text as github
from triage.sqs.inbox import Message

#: A password only its name tells, and a key its shape tells.
PASSWORD = "hunter2-Summer2024!"
KEY = "AKIA" + "Q7ZK4MWB2XHP9TLR"
#: Markup for GitHub and Slack that must stay inert.
MARKUP = "@acme/oncall #123 <!channel> <https://evil.example|click>"


@dataclass
class FlakySink:
    """A sink that fails its `fail_on`-th call (1-based) once with a 503, and keeps every
    effect it was asked to apply, failed or not, rendered as GitHub and Slack would send it."""

    fail_on: int
    name: str = "backend"
    calls: int = 0
    applied: list[Effect] = field(default_factory=list)
    sent: list[dict[str, str]] = field(default_factory=list)

    async def apply(self, effect: Effect) -> Applied:
        self.calls += 1
        self.sent.append(_wire(effect))
        if self.calls == self.fail_on:
            raise SinkUnavailableError("503 from the test's sink")
        self.applied.append(effect)
        opened = sum(e.kind is EffectKind.OPEN for e in self.applied)
        return Applied(f"T-{opened}") if effect.kind is EffectKind.OPEN else Applied()

    async def aclose(self) -> None:
        return None


def _wire(effect: Effect) -> dict[str, str]:
    """What GitHub and Slack would be sent for `effect`, by place (a GitHub title is plain
    text, its body markdown, Slack's message mrkdwn in JSON)."""
    if effect.kind is not EffectKind.OPEN:
        return {"slack": json.dumps(slack.follow_up_message(effect))}
    return {
        "github_title": github.issue_title(effect),
        "github_body": github.issue_body(effect),
        "slack": json.dumps(slack.open_message(effect)),
    }


def _group(*instances: str) -> str:
    """An Alertmanager webhook group with one firing alert per instance, each carrying a
    credential and markup in its description."""
    alerts = [
        {
            "status": "firing",
            "labels": {"alertname": "LoginErrors", "instance": instance},
            "annotations": {
                "summary": f"logins failing on {instance} {MARKUP}",
                "description": f"password={PASSWORD} aws_access_key_id={KEY}",
            },
            "startsAt": "2026-11-23T08:55:00Z",
        }
        for instance in instances
    ]
    return json.dumps({"version": "4", "status": "firing", "receiver": "r", "alerts": alerts})


def _pipeline(sink: FlakySink) -> Pipeline:
    return Pipeline(
        Ledger(MemoryStore(POLICY)), Summariser(), [sink], Metrics(), redactor=Redactor(),
        policy=POLICY,
    )  # fmt: skip


async def test_a_group_whose_second_open_fails_is_retried_to_one_ticket_each() -> None:
    """The sink fails the second alert's OPEN: the message fails, and its redelivery opens the
    second ticket without a second one for the first alert."""
    sink = FlakySink(fail_on=2)
    pipeline = _pipeline(sink)
    body = _group("web-1", "web-2")
    with pytest.raises(SinkUnavailableError):
        await pipeline.process(Message("m-1", body, "r-1", 1, T0, received_at=T0))
    await pipeline.process(Message("m-1", body, "r-2", 2, T0, received_at=T0))
    opened = [e.alert.labels.get("instance", "") for e in sink.applied if e.kind is EffectKind.OPEN]
    assert sorted(opened) == ["web-1", "web-2"]


async def test_nothing_sent_before_or_after_a_failure_carries_the_credential() -> None:
    """Every effect the sink was asked for, the failed attempt and its redo included, is
    rendered from the redacted view: no password, no key; no broadcast or link in Slack, no
    mention or link in the issue body."""
    sink = FlakySink(fail_on=1)
    pipeline = _pipeline(sink)
    body = _group("web-1")
    with pytest.raises(SinkUnavailableError):
        await pipeline.process(Message("m-1", body, "r-1", 1, T0, received_at=T0))
    await pipeline.process(Message("m-1", body, "r-2", 2, T0, received_at=T0))
    assert len(sink.sent) == 2  # the failed OPEN, and its redo
    for sent in sink.sent:
        for place, text in sent.items():
            assert PASSWORD not in text and KEY not in text, place
        assert "<!channel>" not in sent["slack"] and "<https://evil" not in sent["slack"]
        assert "<https://evil" not in sent["github_body"]
        assert "@acme/oncall" not in sent["github_body"]  # a zero-width space follows the @


@dataclass
class Recording:
    """A sink that raises the errors in `fail` first, one a call, then records each effect."""

    name: str
    fail: list[Exception] = field(default_factory=list)
    kinds: list[EffectKind] = field(default_factory=list)

    async def apply(self, effect: Effect) -> Applied:
        if self.fail:
            raise self.fail.pop(0)
        self.kinds.append(effect.kind)
        return Applied(f"{self.name}-1") if effect.kind is EffectKind.OPEN else Applied()

    async def aclose(self) -> None:
        return None


async def test_slack_throttled_after_github_opened_gets_the_open_later_and_github_once() -> None:
    """GitHub opens the issue, Slack answers 429 for the same OPEN: the message is held, and its
    redelivery posts Slack's OPEN without a second GitHub issue; the resolve then reaches both."""
    github_sink = Recording("github")
    slack_sink = Recording("slack", [SinkThrottledError("429 from the test's Slack")])
    pipeline = Pipeline(
        Ledger(MemoryStore(POLICY)), Summariser(), [github_sink, slack_sink], Metrics(),
        redactor=Redactor(), policy=POLICY,
    )  # fmt: skip
    firing = json.dumps({"title": "checkout down", "dedup_key": "checkout-1"})
    with pytest.raises(SinkThrottledError):
        await pipeline.process(Message("m-1", firing, "r-1", 1, T0, received_at=T0))
    await pipeline.process(Message("m-1", firing, "r-2", 2, T0, received_at=T0))
    resolved = json.dumps(
        {"title": "checkout down", "dedup_key": "checkout-1", "status": "resolved"}
    )
    # Queued a second later: of a firing and a resolve stamped and queued alike, the firing is
    # the newer (lifecycle.older_event).
    later = T0 + timedelta(seconds=1)
    await pipeline.process(Message("m-2", resolved, "r-3", 1, later, received_at=later))
    assert github_sink.kinds == [EffectKind.OPEN, EffectKind.CLOSE]
    assert slack_sink.kinds == [EffectKind.OPEN, EffectKind.CLOSE]


# --- a model's priority outside the contract ---------------------------------------------------


@pytest.fixture
def chat() -> Iterator[ChatServer]:
    with ChatServer() as server:
        yield server


@pytest.mark.parametrize(
    "said",
    [
        pytest.param(["critical"], id="list"),
        pytest.param({"level": "critical"}, id="object"),
        pytest.param(None, id="null"),
        pytest.param(True, id="bool"),
        pytest.param(-1, id="negative"),
        pytest.param("none", id="no-priority-word"),
    ],
)
async def test_a_priority_the_contract_does_not_know_leaves_the_default(
    chat: ChatServer, said: Any
) -> None:
    """A priority in a shape or word the contract does not know is no reading of the alert:
    the ticket keeps the default (medium, the alert stating no severity), and the model's other
    fields still make the ticket."""
    ticket, _ = await summarise(chat, ANSWER | {"priority": said})
    assert ticket.priority is Priority.MEDIUM
    assert ticket.title == ANSWER["title"]
    assert ticket.steps == tuple(ANSWER["steps"])


@pytest.mark.parametrize("said", ["P0", "crit", "CRITICAL", "critical!!"])
async def test_a_critical_priority_however_spelt_moves_the_default_one_step(
    chat: ChatServer, said: str
) -> None:
    """However the model spells critical, a ticket whose default is medium becomes high at
    most, and says why."""
    ticket, _ = await summarise(chat, ANSWER | {"priority": said})
    assert ticket.priority is Priority.HIGH
    assert "one step" in ticket.description
