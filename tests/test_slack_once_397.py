"""A sink's answer this process heard is not asked for again when only the store's write
confirming it failed (throttled): the effect's retry, the message's or the sweep's, writes that
confirmation without calling the sink, so Slack (which takes no idempotency key) posts once.
What is remembered is bounded in count and in time (`SinkAnswers`)."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

import pytest

from factories import T0, alert
from memory_store import MemoryStore
from recording_pipeline import POLICY, Sink, Summariser
from test_escalation_clock import DUE, Process, process
from test_pipeline import LEASE, Clock
from triage.errors import BackpressureError, StoreThrottledError
from triage.incidents import Ledger
from triage.incidents.ledger import SinkAnswer, SinkAnswers
from triage.incidents.silences import SilenceCache
from triage.metrics import Metrics
from triage.models import EffectKind
from triage.ops.sweep import ESCALATION_RETRY, Sweep
from triage.pipeline import Pipeline
from triage.redact import Redactor
from triage.sqs.inbox import Message


class ConfirmThrottled(MemoryStore):
    """The in-memory store whose first `times` confirmations of `sink`'s part are refused as
    DynamoDB refuses a write over the table's throughput: nothing written, the write failed."""

    def __init__(self, sink: str, times: int = 1) -> None:
        super().__init__(POLICY, LEASE)
        self.sink = sink
        self.refusals = times

    async def confirm(  # type: ignore[override]
        self, fingerprint: str, owner: str, sink: str, ref: str | None, **fields: Any
    ) -> bool:
        if sink == self.sink and self.refusals:
            self.refusals -= 1
            raise StoreThrottledError("ProvisionedThroughputExceededException")
        return await super().confirm(fingerprint, owner, sink, ref, **fields)


__all__ = ["process"]  # the fixture, from test_escalation_clock


def _pipeline(store: MemoryStore, *sinks: Sink, clock: Clock | None = None) -> Pipeline:
    return Pipeline(
        Ledger(store, clock=clock), Summariser(), list(sinks), Metrics(), redactor=Redactor(),
        policy=POLICY,
    )  # fmt: skip


def _delivery(receive: int, message_id: str = "m-disk") -> Message:
    """The `receive`-th delivery of one message (its id kept, a new receipt handle)."""
    body = json.dumps({"title": "disk full on db-1", "dedup_key": "disk-db-1"})
    return Message(message_id, body, f"rh-{receive}", receive, T0, received_at=T0)


async def test_the_retry_writes_slacks_answer_without_posting_again() -> None:
    """Slack answers the open, its confirmation is throttled; the retry confirms Slack's own
    answer (its ref kept) without a second post, and counts the post once."""
    backend, slack = Sink(name="backend"), Sink(name="slack")
    store = ConfirmThrottled("slack")
    pipeline = _pipeline(store, backend, slack)
    with pytest.raises(BackpressureError):
        await pipeline.process(_delivery(1))
    assert pipeline.metrics.total("TicketsCreated") == 1  # the backend's only
    await pipeline.process(_delivery(2))
    assert [e.kind for e in slack.effects] == [EffectKind.OPEN]
    assert [e.kind for e in backend.effects] == [EffectKind.OPEN]
    incident = await store.get(slack.effects[0].fingerprint)
    assert incident is not None and incident.pending is None
    assert dict(incident.refs) == {"backend": "T-1", "slack": "T-1"}
    assert pipeline.metrics.counter("TicketsCreated", sink="slack") == 1


async def test_the_sweep_finishes_an_effect_whose_confirmation_failed_without_a_second_post() -> (
    None
):
    """The message never comes back for the claim it gave back: the sweep of the same process
    finishes the effect from the answer Slack gave, without posting again."""
    slack = Sink(name="slack")
    clock = Clock()
    store = ConfirmThrottled("slack")
    pipeline = _pipeline(store, slack, clock=clock)
    with pytest.raises(BackpressureError):
        await pipeline.process(_delivery(1))
    sweep = Sweep(store, pipeline, SilenceCache(store, 1), None, 5, clock=clock)
    clock.now = T0 + LEASE + timedelta(minutes=1)
    await sweep.once()
    assert [e.kind for e in slack.effects] == [EffectKind.OPEN]
    incident = await store.get(slack.effects[0].fingerprint)
    assert incident is not None and incident.pending is None
    assert dict(incident.refs) == {"slack": "T-1"}


async def test_another_process_cannot_know_the_answer_and_posts_again() -> None:
    """The memory is the process's own: a retry on another replica (its own ledger) calls
    Slack again, as the README says."""
    slack_a, slack_b = Sink(name="slack"), Sink(name="slack")
    store = ConfirmThrottled("slack")
    with pytest.raises(BackpressureError):
        await _pipeline(store, slack_a).process(_delivery(1))
    await _pipeline(store, slack_b).process(_delivery(2))
    assert [len(slack_a.effects), len(slack_b.effects)] == [1, 1]


async def test_an_answer_whose_confirmation_was_written_is_forgotten() -> None:
    """A confirmation the store wrote leaves nothing remembered: the memory holds only the
    answers whose write failed."""
    store = ConfirmThrottled("slack", times=0)
    pipeline = _pipeline(store, Sink(name="backend"), Sink(name="slack"))
    await pipeline.process(_delivery(1))
    assert len(pipeline.ledger.answers) == 0


def test_answers_are_kept_for_a_bounded_time() -> None:
    """An answer older than `keep_s` is not recalled (and no longer kept)."""
    now = [0.0]
    answers = SinkAnswers(keep_s=60.0, clock=lambda: now[0])
    key = ("fp", T0, 1, EffectKind.OPEN)
    answers.remember(key, "slack", SinkAnswer("ts-1", False, None))
    now[0] = 59.0
    assert answers.recall(key, "slack") == SinkAnswer("ts-1", False, None)
    now[0] = 61.0
    assert answers.recall(key, "slack") is None
    assert len(answers) == 0


def test_answers_are_kept_in_a_bounded_count() -> None:
    """Past `max_kept` answers the oldest is forgotten first."""
    answers = SinkAnswers(max_kept=2)
    keys = [("fp", T0, seq, EffectKind.UPDATE) for seq in range(3)]
    for key in keys:
        answers.remember(key, "slack", SinkAnswer(None, None, "updates not posted"))
    assert len(answers) == 2
    assert answers.recall(keys[0], "slack") is None
    assert answers.recall(keys[2], "slack") is not None


def test_an_answer_belongs_to_one_effect_and_one_sink() -> None:
    """An answer is recalled for its effect and sink only: not the incident's next effect,
    nor the same effect's other sink, nor the fingerprint's next incident."""
    answers = SinkAnswers()
    answers.remember(("fp", T0, 1, EffectKind.OPEN), "slack", SinkAnswer("ts-1", False, None))
    assert answers.recall(("fp", T0, 2, EffectKind.OPEN), "slack") is None
    assert answers.recall(("fp", T0, 1, EffectKind.OPEN), "backend") is None
    later = T0 + timedelta(days=3)
    assert answers.recall(("fp", later, 1, EffectKind.OPEN), "slack") is None


async def test_an_escalation_whose_record_was_throttled_is_posted_once(
    process: Process, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Slack answers the sweep's escalation; the store's write recording it is throttled, so
    the escalation is tried again a minute later: it is recorded, not posted again."""
    store = process.store
    recorded = store.escalation_sent
    throttled = [True]

    async def throttled_once(fingerprint: str, owner: str, target: str) -> None:
        if throttled:
            throttled.clear()
            raise StoreThrottledError("ProvisionedThroughputExceededException")
        await recorded(fingerprint, owner, target)

    monkeypatch.setattr(store, "escalation_sent", throttled_once)
    sweep = process.sweep("sweep:a")
    process.clock.now = DUE
    await sweep.once()
    assert process.hook.answered == [200]
    process.clock.now = DUE + ESCALATION_RETRY + timedelta(seconds=1)
    await sweep.once()
    assert (await process.escalation_of(alert().fingerprint))[1] is not None, "never done"
    assert process.hook.answered == [200], "the escalation was posted twice"
