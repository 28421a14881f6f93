"""SQS delivers at least once: a repeat whose delete failed (or whose worker died before it)
comes back, and its second delivery must not count the incident's occurrence again."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Sequence
from datetime import timedelta
from pathlib import Path

import pytest

from memory_inbox import MemoryInbox
from test_pipeline import CountingSummariser, FakeSink
from triage.incidents import Ledger, Policy
from triage.incidents.sqlite import SQLiteStore
from triage.metrics import Metrics
from triage.pipeline import Pipeline
from triage.redact import Redactor
from triage.sqs.inbox import MAX_BATCH, Message
from triage.sqs.supervisor import Supervisor, SupervisorConfig

POLICY = Policy(update_interval=timedelta(minutes=15), reopen_window=timedelta(hours=1))


@pytest.fixture
async def store(tmp_path: Path) -> AsyncIterator[SQLiteStore]:
    s = SQLiteStore(str(tmp_path / "t.db"), POLICY, timedelta(minutes=2), timedelta(days=30))
    await s.open()
    yield s
    await s.aclose()


class _FirstDeleteFails(MemoryInbox):
    """SQS failing the first delete of each message in `failing` (a DeleteMessageBatch entry
    answered as failed): the message stays and comes back once its visibility ends."""

    def __init__(self) -> None:
        super().__init__()
        self.failing: set[str] = set()

    async def delete(self, messages: Sequence[Message]) -> list[str]:
        refused = [m.id for m in messages if m.id in self.failing]
        self.failing -= set(refused)
        await super().delete([m for m in messages if m.id not in refused])
        return refused


def _body() -> str:
    return json.dumps({"title": "checkout is failing", "dedup_key": "checkout"})


async def _drain(store: SQLiteStore, inbox: MemoryInbox) -> Supervisor:
    metrics = Metrics()
    pipeline = Pipeline(
        Ledger(store), CountingSummariser(), [FakeSink()], metrics, redactor=Redactor()
    )
    config = SupervisorConfig(concurrency=4, wait_s=0, visibility_timeout_s=1, drain=True)
    supervisor = Supervisor(config, inbox, pipeline.process, metrics)
    async with asyncio.timeout(20):
        await supervisor.serve()
    return supervisor


async def test_a_repeat_whose_delete_failed_is_counted_once(store: SQLiteStore) -> None:
    """A repeat is counted, SQS fails its delete, and it is delivered again: the incident
    counts it once (the second delivery is ignored), and it is acked."""
    inbox = _FirstDeleteFails()
    inbox.put(_body())
    await _drain(store, inbox)
    [incident] = await store.incidents()
    assert incident.occurrences == 1
    [repeat] = inbox.put(_body())
    inbox.failing.add(repeat)
    supervisor = await _drain(store, inbox)
    assert supervisor.stats.delete_failed == 1
    assert inbox.entries == {} and inbox.deleted.count(repeat) == 1
    stored = await store.get(incident.fingerprint)
    assert stored is not None and stored.occurrences == 2


async def test_a_repeat_redelivered_after_a_storm_of_repeats_is_counted_once(
    store: SQLiteStore,
) -> None:
    """A repeat whose delete failed comes back after more repeats than an incident could once
    remember (the others acked meanwhile): it is still counted once, and the incident keeps
    only the repeats whose deletes were not confirmed."""
    inbox = _FirstDeleteFails()
    inbox.put(_body())
    await _drain(store, inbox)
    [lost] = inbox.put(_body())
    inbox.failing.add(lost)
    inbox.put(*[_body()] * 40)
    await _drain(store, inbox)
    assert inbox.entries == {} and inbox.deleted.count(lost) == 1
    [incident] = await store.incidents()
    assert incident.occurrences == 42
    # At its last write, at most the messages in hand (4) and a batch of deletes waiting for
    # company (the acker's, up to MAX_BATCH) were unconfirmed: not the 41 repeats it counted.
    assert len(incident.counted_by) <= 4 + MAX_BATCH
