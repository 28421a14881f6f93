"""Prometheus' way of sending, through the pipeline (in-memory store and sink): a firing alert
re-sent every minute is one ticket and counted repeats, its resolve (re-sent for 15 minutes)
closes it once, and the same alert arriving by an Alertmanager webhook is the same incident."""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from factories import T0
from recording_pipeline import Sink, pipeline_into
from triage.incidents import Action
from triage.models import EffectKind
from triage.sqs.inbox import Message

LABELS = {"alertname": "HighRequestLatency", "instance": "checkout-1:8080", "job": "checkout",
          "service": "checkout", "severity": "page", "team": "payments", "priority": "p1"}  # fmt: skip
STARTS_AT = T0 - timedelta(seconds=30)


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
    pipeline = pipeline_into(sink)
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
    pipeline = pipeline_into(sink)
    [first] = await pipeline.process(posted(0, T0 + timedelta(minutes=4)))
    group = json.loads(
        (Path(__file__).parent / "payloads/alertmanager/group-firing.json").read_text()
    )
    group["alerts"] = [dict(group["alerts"][0], startsAt=iso(STARTS_AT))]
    [second] = await pipeline.process(sent(group, 0.5))
    assert (first.action, second.action) == (Action.OPEN, Action.COUNT)
    assert first.fingerprint == second.fingerprint
    assert [e.kind for e in sink.effects] == [EffectKind.OPEN]
