"""Faults of the incident lifecycle a hostile or unlucky sender causes: messages delivered out
of order or twice (SQS is at least once), flapping, clocks that disagree, groups whose members
change, replicas racing. The pipeline runs on the in-memory store and fake sinks of
test_pipeline, so each case is a few milliseconds."""

from __future__ import annotations

import json
from datetime import datetime, timedelta

import pytest

from factories import T0
from test_pipeline import Rig, rig
from triage.incidents import Action
from triage.pipeline import OFFLOAD_BODY_BYTES
from triage.sqs.inbox import Message


def generic(mid: str, sent_min: float, *, receipt: str = "rh-1", **fields: object) -> Message:
    """A generic alert's message `mid`, queued `sent_min` minutes after T0 and received then
    (a redelivery passes another `receipt` and is received later: see `redeliver`)."""
    sent = T0 + timedelta(minutes=sent_min)
    body = json.dumps({"title": "disk full", "dedup_key": "disk-a", **fields})
    return Message(mid, body, receipt, 1, sent, received_at=sent)


def redeliver(message: Message, at_min: float) -> Message:
    """The same message (same id and body) handed out again, received `at_min` after T0."""
    received = T0 + timedelta(minutes=at_min)
    return Message(message.id, message.body, "rh-2", 2, message.sent_at, received_at=received)


async def _process(r: Rig, message: Message, now: datetime | None = None) -> list[Action]:
    r.clock.now = now or message.received_at
    return [outcome.action for outcome in await r.pipeline.process(message)]


@pytest.mark.parametrize("padding", [0, OFFLOAD_BODY_BYTES], ids=["small", "offloaded"])
async def test_a_timeless_repeat_delivered_again_after_the_resolve_does_not_reopen(
    padding: int,
) -> None:
    """A repeat whose source gave no time, delivered again after the resolve was applied (its
    ack was lost), is dated when it was queued, before the resolve: it reopens nothing (it was
    dated when it was read, later on each delivery, so the second looked newest)."""
    r = rig()
    repeat = generic("m2", 1, padding="x" * padding)
    assert await _process(r, generic("m1", 0)) == [Action.OPEN]
    assert await _process(r, repeat) == [Action.COUNT]
    assert await _process(r, generic("m3", 2, status="resolved")) == [Action.CLOSE]
    assert await _process(r, redeliver(repeat, 5)) == [Action.IGNORE]
    assert r.sink.kinds() == ["open", "close"]
