"""Round 8 faults (helper 553): the daemon's host clock minutes off SQS's (SentTimestamp). The
queue's ages are read on SQS's clock, which a first delivery's ApproximateFirstReceiveTimestamp
tells (`Message.sqs_ahead`), and the SQLite store's clock follows it
(`Store.follow_queue_clock`), as DynamoDB's follows its answers' Date
(tests/test_replica_clocks.py), so the lifecycle's "from the future" is judged on it."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import structlog

from daemon_harness import Queues
from memory_inbox import MemoryInbox
from moto_speed import loopback_aws_client
from recording_pipeline import POLICY, Sink, Summariser, pipeline_into
from triage.incidents.ledger import Ledger
from triage.incidents.sqlite import SQLiteStore
from triage.metrics import Metrics
from triage.pipeline import Pipeline
from triage.redact import Redactor
from triage.sqs.inbox import RECEIVED_AT_ATTRIBUTE, Message, SqsInbox, message_from
from triage.sqs.supervisor import Supervisor, SupervisorConfig

#: How far the daemon's host clock is off the real (SQS's) one, in the cases below.
TEN_MINUTES = timedelta(minutes=10)


@pytest.fixture
async def sqlite(tmp_path: Path) -> AsyncIterator[SQLiteStore]:
    store = SQLiteStore(str(tmp_path / "t.db"), POLICY, timedelta(minutes=2), timedelta(days=30))
    await store.open()
    yield store
    await store.aclose()


def _job(status: str, at: datetime) -> str:
    return json.dumps(
        {"title": "Nightly backup failed", "dedup_key": "backup", "status": status}
        | {"timestamp": at.isoformat()}
    )


@pytest.mark.parametrize(
    "host_off",
    [
        timedelta(0),
        TEN_MINUTES,
        -TEN_MINUTES,
    ],
    ids=["in-step", "10min-fast", "10min-slow"],
)
async def test_a_firing_delivered_late_stays_older_than_its_resolve(
    sqlite: SQLiteStore, host_off: timedelta
) -> None:
    """A firing whose delivery came 5.5 minutes late (a retry's backoff, a backlog) after the
    resolve stamped a minute after it was recorded is ignored, whatever the host clock says:
    no ticket is opened for an alert that had already resolved."""
    sqlite.host_time = lambda: time.time() + host_off.total_seconds()  # the host's clock
    sink = Sink()
    pipeline = Pipeline(
        Ledger(sqlite), Summariser(), [sink], Metrics(), redactor=Redactor(), policy=POLICY
    )
    fired = datetime.now(UTC) - timedelta(minutes=6)
    resolved = fired + timedelta(minutes=1)
    # The resolve: sent a second after it happened, received a second later.
    resolve = Message(
        "m-resolve",
        _job("resolved", resolved),
        "r-1",
        1,
        resolved + timedelta(seconds=1),
        received_at=resolved + timedelta(seconds=2) + host_off,
        sqs_ahead=-host_off,  # as SqsInbox gives every message once a first delivery told it
    )
    # The firing: sent a second after it happened, delivered again 5.5 minutes later.
    firing = Message(
        "m-firing",
        _job("firing", fired),
        "r-2",
        2,
        fired + timedelta(seconds=1),
        received_at=fired + timedelta(minutes=5, seconds=30) + host_off,
        sqs_ahead=-host_off,  # as SqsInbox gives every message once a first delivery told it
    )
    actions = [str(o.action) for m in (resolve, firing) for o in await pipeline.process(m)]
    assert actions == ["record", "ignore"]
    assert sink.effects == []


@pytest.mark.parametrize(
    "host_off",
    [
        timedelta(0),
        TEN_MINUTES,
        -TEN_MINUTES,
    ],
    ids=["in-step", "10min-fast", "10min-slow"],
)
async def test_a_resolve_older_than_the_firing_and_delivered_after_it_is_ignored(
    sqlite: SQLiteStore, host_off: timedelta
) -> None:
    """The resolve of an earlier episode (stamped a minute before the firing) delivered 30 s
    after the firing is ignored, whatever the host clock says: the ticket stays open."""
    sqlite.host_time = lambda: time.time() + host_off.total_seconds()  # the host's clock
    sink = Sink()
    pipeline = Pipeline(
        Ledger(sqlite), Summariser(), [sink], Metrics(), redactor=Redactor(), policy=POLICY
    )
    fired = datetime.now(UTC) - timedelta(minutes=1)
    resolved = fired - timedelta(minutes=1)
    firing = Message(
        "m-firing",
        _job("firing", fired),
        "r-1",
        1,
        fired + timedelta(seconds=1),
        received_at=fired + timedelta(seconds=2) + host_off,
        sqs_ahead=-host_off,  # as SqsInbox gives every message once a first delivery told it
    )
    resolve = Message(
        "m-resolve",
        _job("resolved", resolved),
        "r-2",
        2,
        resolved + timedelta(seconds=1),
        received_at=fired + timedelta(seconds=30) + host_off,
        sqs_ahead=-host_off,  # as SqsInbox gives every message once a first delivery told it
    )
    actions = [str(o.action) for m in (firing, resolve) for o in await pipeline.process(m)]
    assert actions == ["open", "ignore"]


def _entry(n: int, *, sent: datetime, first: datetime, receives: int) -> dict[str, Any]:
    """One entry of ReceiveMessage's answer, its times on SQS's clock."""
    return {
        "MessageId": f"m-{n}",
        "ReceiptHandle": f"rh-{n}",
        "Body": "{}",
        "Attributes": {
            "ApproximateReceiveCount": str(receives),
            "SentTimestamp": str(int(sent.timestamp() * 1000)),
            "ApproximateFirstReceiveTimestamp": str(int(first.timestamp() * 1000)),
        },
    }


class _SqsBehind:
    """An SQS whose clock is 10 minutes behind this host's (the host runs fast): each receive
    answers the entries queued in `answers`, in turn."""

    def __init__(self, *answers: list[dict[str, Any]]) -> None:
        self.answers = list(answers)

    async def receive_message(self, **_: object) -> dict[str, Any]:
        return {"Messages": self.answers.pop(0)}

    async def change_message_visibility_batch(self, **_: object) -> dict[str, Any]:
        return {"Successful": [], "Failed": []}


def test_a_first_delivery_tells_how_far_sqs_clock_is_off() -> None:
    """A first delivery's ApproximateFirstReceiveTimestamp (SQS's clock at this receive) gives
    the offset, and the message's age is read on SQS's clock; a redelivery's names its first
    receive, so it tells nothing."""
    sqs_now = datetime.now(UTC) - TEN_MINUTES
    sent = sqs_now - timedelta(seconds=2)
    first = message_from(_entry(1, sent=sent, first=sqs_now, receives=1))
    assert first.sqs_ahead is not None
    assert -TEN_MINUTES - timedelta(seconds=5) < first.sqs_ahead <= -TEN_MINUTES
    age_s = first.age_s(datetime.now(UTC))
    assert age_s is not None and 1.5 < age_s < 5
    again = message_from(_entry(2, sent=sent, first=sqs_now - timedelta(minutes=1), receives=2))
    assert again.sqs_ahead is None


async def test_the_inbox_dates_a_redelivery_by_the_last_offset_and_says_the_skew_once() -> None:
    """On a host 10 minutes fast, a redelivery received after a first delivery is given the
    offset that one told, and one `inbox.clock_skew` line says it, once for the process."""
    sqs_now = datetime.now(UTC) - TEN_MINUTES
    sent = sqs_now - timedelta(seconds=30)
    sqs = _SqsBehind(
        [_entry(1, sent=sent, first=sqs_now, receives=1)],
        [_entry(2, sent=sent, first=sent, receives=3)],
        [_entry(3, sent=sent, first=sqs_now, receives=1)],
    )
    inbox = SqsInbox(sqs, "https://sqs.example/q")
    with structlog.testing.capture_logs() as logs:
        [one] = await inbox.receive(10, 0, 30)
        [two] = await inbox.receive(10, 0, 30)
        [three] = await inbox.receive(10, 0, 30)
    assert one.sqs_ahead is not None and two.sqs_ahead == one.sqs_ahead
    age_s = two.age_s(datetime.now(UTC))
    assert age_s is not None and 29 < age_s < 40
    assert three.sqs_ahead is not None
    said = [e for e in logs if e["event"] == "inbox.clock_skew"]
    assert len(said) == 1 and -605 < said[0]["sqs_ahead_s"] <= -600


async def test_sqs_itself_tells_an_offset_near_zero_on_a_host_in_step(queues: Queues) -> None:
    """Against moto's SQS (this host's clock): the inbox asks for the first receive's time, and
    the offset it reads is within the receive's round trip of zero; no skew is said."""
    queues.send("{}")
    async with loopback_aws_client("sqs", endpoint_url=queues.endpoint) as client:
        with structlog.testing.capture_logs() as logs:
            [message] = await SqsInbox(client, queues.url).receive(10, 1, 30)
    assert message.sqs_ahead is not None and abs(message.sqs_ahead) < timedelta(seconds=2)
    assert [e for e in logs if e["event"] == "inbox.clock_skew"] == []


async def _held_gauges() -> tuple[dict[str, float], Metrics]:
    """The gauges while a first delivery SQS sent 2 s ago is at work on a host 10 minutes
    fast, and the metrics after it (QueueLag)."""
    inbox = MemoryInbox()
    [mid] = inbox.put("{}")
    sqs_now = datetime.now(UTC) - TEN_MINUTES
    sent = sqs_now - timedelta(seconds=2)
    inbox.entries[mid].message = Message(mid, "{}", f"rh-{mid}", 1, sent, sqs_ahead=-TEN_MINUTES)
    started, release = asyncio.Event(), asyncio.Event()

    async def handler(message: Message, progress: object) -> list[Any]:
        started.set()
        await release.wait()
        return []

    metrics = Metrics()
    config = SupervisorConfig(concurrency=2, wait_s=0, drain=True, shutdown_grace_s=1)
    supervisor = Supervisor(config, inbox, handler, metrics)
    task = asyncio.create_task(supervisor.serve())
    await asyncio.wait_for(started.wait(), 5)
    gauges = {name: g.value for (name, _), g in metrics.gauges().items()}
    release.set()
    await asyncio.wait_for(task, 10)
    return gauges, metrics


async def test_oldest_message_age_on_a_host_minutes_fast_is_the_queue_s() -> None:
    """OldestMessageAge of a message SQS sent 2 s ago, held on a host 10 minutes fast, is
    about 2 s (read by the host's clock, 602 s: an alarm on it would page for nothing)."""
    gauges, _ = await _held_gauges()
    assert 1.5 < gauges["OldestMessageAge"] < 30


async def test_queue_lag_on_a_host_minutes_fast_is_the_queue_s() -> None:
    """QueueLag of a first delivery SQS sent 2 s ago, taken on a host 10 minutes fast, is
    about 2 s, not 600 s."""
    _, metrics = await _held_gauges()
    [lag] = [t for (name, _), t in metrics.timings().items() if name == "QueueLag"]
    assert 1_500 < lag.maximum < 30_000


async def test_a_gateway_stamp_from_a_clock_minutes_fast_is_said_once_with_its_skew() -> None:
    """Messages stamped by a gateway whose clock is 10 minutes fast are dated by SQS's
    SentTimestamp instead, and one `message.stamp_skew` line (its skew in seconds) says so for
    the process, not one per message."""
    pipeline = pipeline_into(Sink())
    sent = datetime.now(UTC)
    with structlog.testing.capture_logs() as logs:
        for n in range(3):
            stamp = (sent + TEN_MINUTES).isoformat()
            message = Message(
                f"m-{n}",
                _job("firing", sent),
                f"r-{n}",
                1,
                sent,
                attributes={RECEIVED_AT_ATTRIBUTE: stamp},
            )
            await pipeline.process(message)
    said = [e for e in logs if e["event"] == "message.stamp_skew" and e["log_level"] == "warning"]
    assert len(said) == 1 and said[0]["stamp_ahead_s"] == 600
