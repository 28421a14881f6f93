"""Round 7 fixes (helper 355): when a gateway's `received_at` stamp is believed.

A gateway stamps each message by its own clock; SQS's SentTimestamp is one clock for every
replica. The stamp is believed within a small slack either side of SentTimestamp (the gateway's
own wait before SQS held the message, and what NTP leaves between hosts), and before it only
for a message `triage dlq redrive` sent back (`redriven_from`), whose stamp is when it was first
queued. Messages are built as the gateway builds them (`request_stamp`, then `messages_for`)."""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from typing import Any

import pytest

from factories import T0
from memory_store import MemoryStore
from recording_pipeline import POLICY, Sink
from test_redteam_round5_faults import _pipeline
from triage.ingest.messages import Stamps, messages_for, request_stamp
from triage.ingest.validate import check
from triage.pipeline import Pipeline
from triage.sqs.identity import REDRIVEN_FROM_ATTRIBUTE
from triage.sqs.inbox import RECEIVED_AT_ATTRIBUTE, Message

#: A gateway replica whose clock is off from SQS's by this much (a host without NTP).
FAR = timedelta(minutes=5)


def _backup(**fields: Any) -> dict[str, Any]:
    return {"title": "Backup of orders failed", "dedup_key": "backup-db"} | fields


async def _queued(
    alerts: list[dict[str, Any]], arrived: datetime, clock_off: timedelta, sent: datetime, n: int
) -> list[Message]:
    """The messages a gateway whose clock is `clock_off` from the true time queues for the
    request `alerts` (one body, or an NDJSON batch) arriving at `arrived`, SQS holding them
    at `sent` (one SentTimestamp for a batch, as one SendMessageBatch gives)."""
    body = "".join(json.dumps(alert) + "\n" for alert in alerts)
    checked = check("generic", body.encode(), None, lambda text: text)
    stamp = request_stamp(arrived + clock_off, checked, Stamps())
    outgoing = await messages_for(checked, {RECEIVED_AT_ATTRIBUTE: stamp}, 256 * 1024)
    return [
        Message(
            f"m-{n}-{k}", m.body, f"r-{n}-{k}", 1, sent, received_at=sent, attributes=m.attributes
        )
        for k, m in enumerate(outgoing)
    ]


async def _one(alert: dict[str, Any], arrived: datetime, clock_off: timedelta, n: int) -> Message:
    """One alert through a gateway whose clock is `clock_off`, sent to SQS as it arrived."""
    [message] = await _queued([alert], arrived, clock_off, arrived, n)
    return message


async def _actions(pipeline: Pipeline, messages: list[Message]) -> list[list[str]]:
    return [[str(o.action) for o in await pipeline.process(m)] for m in messages]


async def test_a_firing_through_a_replica_behind_reopens_what_a_resolve_closed() -> None:
    """An alert resolves through one replica and fires again 30 s later through another whose
    clock is five minutes behind: the firing reopens the incident (believed, its stamp dated
    it before the resolve and the alert firing now was ignored)."""
    pipeline = _pipeline(MemoryStore(POLICY), Sink())
    messages = [
        await _one(_backup(), T0, timedelta(0), 1),
        await _one(_backup(status="resolved"), T0 + timedelta(minutes=1), timedelta(0), 2),
        await _one(_backup(), T0 + timedelta(minutes=1, seconds=30), -FAR, 3),
    ]
    assert await _actions(pipeline, messages) == [["open"], ["close"], ["reopen"]]


async def test_a_resolve_after_a_firing_through_a_replica_ahead_closes_its_ticket() -> None:
    """An alert fires through a replica whose clock is five minutes ahead and resolves 30 s
    later through one in step: the resolve closes the ticket (the firing's stamp is not
    believed ahead of SQS's time)."""
    pipeline = _pipeline(MemoryStore(POLICY), Sink())
    messages = [
        await _one(_backup(), T0, FAR, 1),
        await _one(_backup(status="resolved"), T0 + timedelta(seconds=30), timedelta(0), 2),
    ]
    assert await _actions(pipeline, messages) == [["open"], ["close"]]


@pytest.mark.parametrize("wait_ms", [500, 10_000])
async def test_a_batch_sqs_held_a_while_after_it_arrived_keeps_its_order(wait_ms: int) -> None:
    """A batch of an alert's firing then its resolve that SQS held half a second, or ten
    seconds (a batch gathered behind a slow, retried call), after the gateway received it:
    the stamps still order it, and the resolve closes."""
    pipeline = _pipeline(MemoryStore(POLICY), Sink())
    sent = T0 + timedelta(milliseconds=wait_ms)
    batch = await _queued([_backup(), _backup(status="resolved")], T0, timedelta(0), sent, 1)
    assert await _actions(pipeline, batch) == [["open"], ["close"]]


async def test_a_batch_from_a_gateway_a_second_ahead_keeps_its_order() -> None:
    """A batch of an alert's firing then its resolve from a gateway whose clock is a second
    ahead of SQS's: its stamps, within the slack, order it and the resolve closes."""
    pipeline = _pipeline(MemoryStore(POLICY), Sink())
    batch = await _queued([_backup(), _backup(status="resolved")], T0, timedelta(seconds=1), T0, 1)
    assert await _actions(pipeline, batch) == [["open"], ["close"]]


async def test_a_letter_redriven_by_triage_is_dated_when_it_was_first_queued() -> None:
    """A repeat that died and was sent back by `triage dlq redrive` (`redriven_from`) half an
    hour after the resolve is dated by its stamp, when the gateway first received it: it
    reopens nothing (its stamp lies far before its new SentTimestamp, and is still believed)."""
    pipeline = _pipeline(MemoryStore(POLICY), Sink())
    repeat = await _one(_backup(), T0 + timedelta(minutes=1), timedelta(0), 2)
    redriven = Message(
        "m-new",
        repeat.body,
        "r-new",
        1,
        T0 + timedelta(minutes=30),
        received_at=T0 + timedelta(minutes=30),
        attributes=repeat.attributes | {REDRIVEN_FROM_ATTRIBUTE: repeat.id},
    )
    messages = [
        await _one(_backup(), T0, timedelta(0), 1),
        await _one(_backup(status="resolved"), T0 + timedelta(minutes=2), timedelta(0), 3),
        redriven,
    ]
    assert await _actions(pipeline, messages) == [["open"], ["close"], ["ignore"]]
