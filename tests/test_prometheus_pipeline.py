"""Prometheus' way of sending, through the pipeline (in-memory store and sink): a firing alert
re-sent every minute is one ticket and counted repeats, its resolve (re-sent for 15 minutes)
closes it once, and the same alert arriving by an Alertmanager webhook is the same incident."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from factories import T0
from memory_store import MemoryStore
from triage.incidents import Action, Ledger, Policy
from triage.metrics import Metrics
from triage.models import EffectKind, Priority, Ticket
from triage.pipeline import Pipeline
from triage.redact import Redactor
from triage.sinks.base import Applied, Effect
from triage.sqs.inbox import Message
from triage.view import RedactedAlert

POLICY = Policy(update_interval=timedelta(minutes=15), reopen_window=timedelta(hours=1))
LABELS = {"alertname": "HighRequestLatency", "instance": "checkout-1:8080", "job": "checkout",
          "service": "checkout", "severity": "page", "team": "payments", "priority": "p1"}  # fmt: skip
STARTS_AT = T0 - timedelta(seconds=30)


@dataclass
class Sink:
    name: str = "backend"
    effects: list[Effect] = field(default_factory=list)

    async def apply(self, effect: Effect) -> Applied:
        self.effects.append(effect)
        return Applied("T-1") if effect.kind is EffectKind.OPEN else Applied()


class Summariser:
    async def summarise(self, alert: RedactedAlert) -> Ticket:
        return Ticket(title=alert.title, priority=Priority.HIGH, description="d", steps=("s",))

    async def aclose(self) -> None:
        return None


def iso(when: datetime) -> str:
    return when.isoformat().replace("+00:00", "Z")


def sent(body: Any, minutes: float) -> Message:
    """`body` queued and received `minutes` after T0."""
    at = T0 + timedelta(minutes=minutes)
    return Message(f"m-{minutes}", json.dumps(body), f"r-{minutes}", 1, at, received_at=at)


def posted(minutes: float, ends_at: datetime) -> Message:
    """What Prometheus posts `minutes` after T0: the alert, ending at `ends_at`."""
    alert = {"labels": LABELS, "annotations": {"summary": "High latency"},
             "startsAt": iso(STARTS_AT), "endsAt": iso(ends_at)}  # fmt: skip
    return sent([alert], minutes)


async def test_resends_are_counted_and_the_resolve_closes_once() -> None:
    """Firing re-sent each minute (endsAt 4 min ahead): one ticket, the rest counted; the
    resolve closes it and its re-sends are ignored; a late firing re-send does not reopen."""
    sink = Sink()
    pipeline = Pipeline(Ledger(MemoryStore(POLICY)), Summariser(), [sink], Metrics(),
                        redactor=Redactor(), policy=POLICY)  # fmt: skip
    actions = []
    for minute in range(3):
        ends = T0 + timedelta(minutes=minute + 4)
        [outcome] = await pipeline.process(posted(minute, ends))
        actions.append(outcome.action)
    resolved_at = T0 + timedelta(minutes=2, seconds=30)
    for minute in (3, 4, 5):
        [outcome] = await pipeline.process(posted(minute, resolved_at))
        actions.append(outcome.action)
    # A firing send queued before the resolve, delivered after it (SQS does not keep order).
    [late] = await pipeline.process(posted(2.4, T0 + timedelta(minutes=6.4)))
    assert actions == [Action.OPEN, Action.COUNT, Action.COUNT,
                       Action.CLOSE, Action.IGNORE, Action.IGNORE]  # fmt: skip
    assert late.action is Action.IGNORE
    assert [e.kind for e in sink.effects] == [EffectKind.OPEN, EffectKind.CLOSE]


async def test_the_same_alert_by_webhook_and_by_the_api_is_one_incident() -> None:
    """An alert posted by Prometheus and the same alert in an Alertmanager webhook (a team
    running both paths) are one incident: the webhook's copy is a counted repeat."""
    sink = Sink()
    pipeline = Pipeline(Ledger(MemoryStore(POLICY)), Summariser(), [sink], Metrics(),
                        redactor=Redactor(), policy=POLICY)  # fmt: skip
    [first] = await pipeline.process(posted(0, T0 + timedelta(minutes=4)))
    group = json.loads(
        (Path(__file__).parent / "payloads/alertmanager/group-firing.json").read_text()
    )
    group["alerts"] = [dict(group["alerts"][0], startsAt=iso(STARTS_AT))]
    [second] = await pipeline.process(sent(group, 0.5))
    assert (first.action, second.action) == (Action.OPEN, Action.COUNT)
    assert first.fingerprint == second.fingerprint
    assert [e.kind for e in sink.effects] == [EffectKind.OPEN]
