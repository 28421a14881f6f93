"""A message's claims on incidents, through failures the fault model found (in-memory fakes, in
milliseconds): an effect whose store confirmation was written but never answered is counted
once."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import pytest

from factories import T0
from memory_store import MemoryStore
from test_pipeline import LEASE, POLICY, Clock, CountingSummariser, FakeSink
from triage.errors import StoreUnavailableError
from triage.incidents import Action, Ledger, Store
from triage.incidents.store import R, RecordChange
from triage.metrics import Metrics
from triage.models import EffectKind
from triage.pipeline import Pipeline
from triage.redact import Redactor
from triage.routes import load_router
from triage.settings import Settings
from triage.sqs.inbox import Message

ROUTES = """
[[route]]
name = "disks"
sinks = ["backend", "slack"]
group_by = ["host"]
[route.match]
labels = { grouped = "yes" }

[[route]]
name = "default"
sinks = ["backend", "slack"]
"""


@dataclass
class Replica:
    """One daemon's pipeline on the shared store, with a backend and a Slack fake."""

    pipeline: Pipeline
    backend: FakeSink
    slack: FakeSink
    metrics: Metrics

    async def process(self, message: Message) -> list[Action]:
        return [outcome.action for outcome in await self.pipeline.process(message)]


def replica(tmp_path: Path, store: Store, clock: Clock) -> Replica:
    routes = tmp_path / "routes.toml"
    routes.write_text(ROUTES)
    backend, slack, metrics = FakeSink("backend"), FakeSink("slack"), Metrics()
    pipeline = Pipeline(
        Ledger(store, clock=clock),
        CountingSummariser(),
        [backend, slack],
        metrics,
        redactor=Redactor(),
        policy=POLICY,
        router=load_router(Settings(routes_file=routes)),
    )
    return Replica(pipeline, backend, slack, metrics)


class LostAnswers(MemoryStore):
    """A store whose `confirm` writes, then fails to answer (DynamoDB's timeout after the
    write), the first `lost` times; or fails before writing, with `before`."""

    def __init__(self, lost: int, *, before: bool = False) -> None:
        super().__init__(POLICY, LEASE)
        self.lost, self.before = lost, before
        self._confirming = False

    async def confirm(self, *args: object, **kwargs: object) -> None:
        self._confirming = True
        try:
            await super().confirm(*args, **kwargs)  # type: ignore[arg-type]
        finally:
            self._confirming = False

    async def _update(self, kind: str, key: str, change: RecordChange[R]) -> R:
        if not (self._confirming and self.lost):
            return await super()._update(kind, key, change)
        self.lost -= 1
        if self.before:
            raise StoreUnavailableError("injected: the store is unreachable")
        await super()._update(kind, key, change)
        raise StoreUnavailableError("injected: the write's answer was lost")


def single(receive: int = 1) -> Message:
    body = {"title": "api-5xx is failing", "dedup_key": "api-5xx", "timestamp": T0.isoformat()}
    return Message("s1", json.dumps(body), f"rh-s1-{receive}", receive, T0, received_at=T0)


@pytest.mark.parametrize("lost", [1, 2], ids=["first-sink", "both-sinks"])
async def test_a_confirmation_written_whose_answer_was_lost_counts_once(
    tmp_path: Path, lost: int
) -> None:
    """A sink's confirmation the store wrote but never answered (the first, or the last that
    finishes the effect too) counts its ticket once in TicketsCreated, and the effect goes on."""
    store, clock = LostAnswers(lost), Clock()
    one = replica(tmp_path, store, clock)
    assert await one.process(single()) == [Action.OPEN]
    assert await one.process(single(receive=2)) == [Action.IGNORE]
    for sink in ("backend", "slack"):
        assert one.metrics.counter("TicketsCreated", sink=sink) == 1
    assert [i.pending for i in await store.incidents()] == [None]


async def test_a_confirmation_never_written_is_counted_once_by_the_retry(tmp_path: Path) -> None:
    """A confirmation the store failed before writing fails the message, and its retry calls
    the sink again and counts the ticket then: once, not twice."""
    store, clock = LostAnswers(1, before=True), Clock()
    one = replica(tmp_path, store, clock)
    with pytest.raises(StoreUnavailableError):
        await one.process(single())
    assert await one.process(single(receive=2)) == [Action.OPEN]
    assert one.metrics.counter("TicketsCreated", sink="backend") == 1
    assert [e.kind for e in one.backend.effects] == [EffectKind.OPEN, EffectKind.OPEN]
