"""A pipeline on the in-memory store with a sink that records its effects and a summariser that
copies the title: what a source's tests use to show that its messages, in order, open, count and
close one ticket (tests/test_normalize_vendors.py, test_normalize_tools.py,
test_normalize_more_vendors.py, test_prometheus_pipeline.py)."""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path

from factories import T0
from memory_store import MemoryStore
from triage.incidents import Action
from triage.incidents.ledger import Ledger
from triage.incidents.lifecycle import Policy
from triage.metrics import Metrics
from triage.models import EffectKind, Priority, Ticket
from triage.pipeline import Pipeline
from triage.redact import Redactor
from triage.sinks.base import Applied, Effect
from triage.sqs.inbox import Message
from triage.view import RedactedAlert

POLICY = Policy(update_interval=timedelta(minutes=15), reopen_window=timedelta(hours=1))


@dataclass
class Sink:
    """The backend, as far as these tests need it: every effect kept, an OPEN answered T-1."""

    effects: list[Effect] = field(default_factory=list)
    name: str = "backend"

    async def apply(self, effect: Effect) -> Applied:
        self.effects.append(effect)
        return Applied("T-1") if effect.kind is EffectKind.OPEN else Applied()

    async def aclose(self) -> None:
        return None


class Summariser:
    """A ticket titled as the alert."""

    async def summarise(self, alert: RedactedAlert) -> Ticket:
        return Ticket(title=alert.title, priority=Priority.HIGH, description="d", steps=("s",))

    async def aclose(self) -> None:
        return None


def pipeline_into(sink: Sink) -> Pipeline:
    """A pipeline on a fresh in-memory store whose one sink is `sink`."""
    return Pipeline(
        Ledger(MemoryStore(POLICY)), Summariser(), [sink], Metrics(), redactor=Redactor(),
        policy=POLICY,
    )  # fmt: skip


async def trigger_repeat_recovery(
    trigger: Path, recovery: Path
) -> tuple[list[Action], list[EffectKind]]:
    """What a fresh pipeline decides for a tool's trigger, the same trigger again and its
    recovery, a minute apart, and the effects its sink then received, in order."""
    sink = Sink()
    pipeline = pipeline_into(sink)
    actions = []
    for minute, path in enumerate((trigger, trigger, recovery)):
        at = T0 + timedelta(minutes=minute)
        body = path.read_text(encoding="utf-8")
        if minute == 1:
            body = another_publish(body)
        message = Message(f"m-{minute}", body, f"r-{minute}", 1, at, received_at=at)
        actions += [outcome.action for outcome in await pipeline.process(message)]
    return actions, [effect.kind for effect in sink.effects]


def another_publish(body: str) -> str:
    """`body` as its service sends the same notice again: an SNS envelope or an EventBridge
    event under an id of its own (the same id and body is one message delivered twice)."""
    try:
        value = json.loads(body)
    except ValueError:
        return body
    if isinstance(value, dict) and "MessageId" in value:
        return json.dumps(value | {"MessageId": str(uuid.uuid4())})
    if isinstance(value, dict) and "detail-type" in value:
        return json.dumps(value | {"id": str(uuid.uuid4())})
    return body
