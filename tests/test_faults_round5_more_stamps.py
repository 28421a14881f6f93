"""Round 5 faults, more cases (helper 301): the gateway's stamps in one millisecond.

The gateway stamps each request from one strictly rising stamp (`ingest/messages.py`,
`Stamps`), to the microsecond, each request reserving a microsecond an alert after the one
before: requests in one millisecond, or one instant, are never stamped alike, and a batch's
alerts (stepped back from its stamp) never reach back before an earlier request. Built as the
gateway builds them (`request_stamp`, then `messages_for`), each message sent (SentTimestamp,
to the millisecond) in the millisecond after."""

from __future__ import annotations

import json
import random
from datetime import datetime, timedelta
from typing import Any

from factories import T0
from memory_store import MemoryStore
from recording_pipeline import POLICY, Sink
from test_redteam_round5_faults import _pipeline
from triage.ingest.messages import Stamps, messages_for, request_stamp
from triage.ingest.validate import check
from triage.sqs.inbox import RECEIVED_AT_ATTRIBUTE, Message

#: SentTimestamp (a millisecond) of every message: SQS takes it after the gateway stamped it.
SENT = T0 + timedelta(milliseconds=1)


def _backup(title: str = "Backup of orders failed", **fields: Any) -> dict[str, Any]:
    return {"title": title, "dedup_key": "backup-db"} | fields


async def _queued(stamps: Stamps, alerts: list[dict[str, Any]], n: int) -> list[Message]:
    """The messages the gateway queues for the request `alerts` arriving at T0 (a batch for
    several; one body for one)."""
    body = "".join(json.dumps(alert) + "\n" for alert in alerts)
    checked = check("generic", body.encode(), None, lambda text: text)
    stamp = request_stamp(T0, checked, stamps)
    outgoing = await messages_for(checked, {RECEIVED_AT_ATTRIBUTE: stamp}, 256 * 1024)
    return [
        Message(
            f"m-{n}-{k}", m.body, f"r-{n}-{k}", 1, SENT, received_at=SENT, attributes=m.attributes
        )
        for k, m in enumerate(outgoing)
    ]


async def _actions(*requests: list[dict[str, Any]]) -> list[list[str]]:
    stamps, pipeline = Stamps(), _pipeline(MemoryStore(POLICY), Sink())
    queued = [m for n, alerts in enumerate(requests) for m in await _queued(stamps, alerts, n)]
    return [[str(o.action) for o in await pipeline.process(m)] for m in queued]


async def test_a_batch_after_a_firing_in_the_same_instant_closes_its_ticket() -> None:
    """A firing posted alone, then a batch arriving in the same microsecond whose first alert
    is its resolve: the resolve closes the ticket, the other alert opens its own."""
    actions = await _actions([_backup()], [_backup(status="resolved"), _backup("Disk full",
                             dedup_key="disk")])  # fmt: skip
    assert actions == [["open"], ["close"], ["open"]]


async def test_a_resolve_posted_in_its_firings_instant_closes_the_ticket() -> None:
    """Two requests arriving in one microsecond, a firing then its resolve: the resolve closes
    the ticket the firing opened."""
    assert await _actions([_backup()], [_backup(status="resolved")]) == [["open"], ["close"]]


def test_no_requests_stamps_reach_back_to_an_earlier_ones() -> None:
    """Requests of 1 to 100 alerts, arriving in any order within a millisecond: every alert's
    stamp (its request's, stepped back a microsecond an alert) is after every alert of the
    requests reserved before, and runs ahead of the latest arrival by no more than the
    alerts reserved."""
    rng = random.Random(301)
    stamps, alerts_before, latest, newest = Stamps(), 0, None, T0
    for _ in range(200):
        count = rng.randint(1, 100)
        arrived = T0 + timedelta(microseconds=rng.randint(0, 999))
        stamp = stamps.reserve(arrived, count)
        first = stamp - timedelta(microseconds=count - 1)
        assert latest is None or first > latest
        alerts_before += count
        newest = max(newest, arrived)
        assert stamp - newest <= timedelta(microseconds=alerts_before)
        latest = stamp


def test_the_stamp_is_written_to_the_microsecond_in_utc() -> None:
    """The gateway writes `received_at` in UTC with a `Z`, to the microsecond, as it arrived
    when nothing was reserved after it."""
    checked = check("generic", json.dumps(_backup()).encode(), None, lambda text: text)
    arrived = T0 + timedelta(microseconds=123)
    written = request_stamp(arrived, checked, Stamps())
    assert written.endswith("Z") and datetime.fromisoformat(written) == arrived
    assert written == arrived.isoformat(timespec="microseconds").replace("+00:00", "Z")
