"""What leaves the process for an alert that carries a text: the surfaces the secrets red teams
(rounds 6, 7 and 7b) check for a leak. The text is put into an Alertmanager alert's description,
the alert goes through the pipeline (in-memory store, a sink that records its effects), and its
one effect is rendered as the GitHub, Slack and backend sinks and the prompt render it, with its
log lines as the log redactor writes them."""

from __future__ import annotations

import json
from collections.abc import Mapping

import structlog

from factories import T0
from memory_store import MemoryStore
from recording_pipeline import POLICY, Sink
from triage.incidents.ledger import Ledger
from triage.logs import redact_event
from triage.metrics import Metrics
from triage.pipeline import Pipeline
from triage.redact import Redactor
from triage.sinks import slack
from triage.sinks.backend import _open_body
from triage.sinks.github import text as github
from triage.sqs.inbox import Message
from triage.summarise import prompt
from triage.summarise.deterministic import DeterministicSummariser


def left(shown: str, secret: str) -> bool:
    """Whether any 8-character run of `secret` is still in `shown`."""
    return any(secret[i : i + 8] in shown for i in range(len(secret) - 7))


def alertmanager_body(description: str) -> str:
    """An Alertmanager webhook body of one firing alert whose description holds `description`."""
    alert = {
        "status": "firing",
        "labels": {"alertname": "JobFailed", "team": "payments", "instance": "db-1"},
        "annotations": {"description": f"job failed\n{description}"},
        "startsAt": T0.isoformat(),
        "generatorURL": "http://prometheus:9090/graph",
    }
    return json.dumps({"version": "4", "status": "firing", "alerts": [alert]})


async def surfaces(description: str) -> Mapping[str, str]:
    """What leaves the process for one alert: the pipeline's one effect rendered by the GitHub,
    Slack and backend sinks and the prompt, and its log lines as the log redactor writes them."""
    sink = Sink()
    pipeline = Pipeline(
        Ledger(MemoryStore(POLICY)), DeterministicSummariser(), [sink], Metrics(),
        redactor=Redactor(), policy=POLICY,
    )  # fmt: skip
    with structlog.testing.capture_logs() as logs:
        body = alertmanager_body(description)
        await pipeline.process(Message("m-1", body, "r-1", 1, T0, received_at=T0))
    [effect] = sink.effects
    lines = [json.dumps(redact_event(None, "info", dict(event)), default=str) for event in logs]
    return {
        "github-title": github.issue_title(effect),
        "github-body": github.issue_body(effect),
        "github-labels": json.dumps(github.issue_labels(effect)),
        "slack": json.dumps(slack.open_message(effect)),
        "backend": json.dumps(_open_body(effect)),
        "prompt": prompt.build(effect.alert, Redactor(), 4000).user,
        "logs": "\n".join(lines),
    }


async def leaks(text: str, secret: str) -> list[str]:
    """The surfaces that show a run of `secret` when `text` is in an alert's description."""
    shown_on = await surfaces(text)
    return [place for place, shown in shown_on.items() if left(shown, secret)]
