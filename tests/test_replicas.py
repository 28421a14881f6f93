"""Replicas sharing one queue and one DynamoDB table agree: one ticket per incident."""

from __future__ import annotations

import json
import random
import threading
import time
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path

import boto3

from daemon_harness import Daemon, make_queues, settings_for
from triage.demo.ticketd import TicketServer

INCIDENTS = 25
MESSAGES = 140
REPLICAS = 4
#: Queue depth the feeder keeps (moto slows down as the queue deepens).
DEPTH = 70


def test_four_replicas_open_exactly_one_ticket_per_incident(
    moto_url: str, backend: TicketServer, tmp_path: Path
) -> None:
    """4 daemons on one queue and one DynamoDB table turn 140 interleaved messages over 25
    incidents into exactly 25 tickets, with one create each (no create the backend's
    Idempotency-Key had to turn back)."""
    queues = make_queues(moto_url, max_receive_count=10, visibility_s=30)
    ddb = boto3.client("dynamodb", endpoint_url=moto_url, region_name="us-east-1")
    ddb.create_table(
        TableName="incidents",
        KeySchema=[{"AttributeName": "fingerprint", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "fingerprint", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
    )
    rng = random.Random(7)
    start = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)
    bodies = []
    for i in range(MESSAGES):
        incident = rng.randrange(INCIDENTS)
        bodies.append(
            json.dumps(
                {
                    "title": f"service-{incident} is failing",
                    "dedup_key": f"incident-{incident}",
                    "priority": "P2",
                    "timestamp": (start + timedelta(seconds=i)).isoformat(),
                }
            )
        )
    assert len({json.loads(b)["dedup_key"] for b in bodies}) == INCIDENTS
    # moto scans the whole queue on every call, so keep it shallow: queue a first slice, then a
    # feeder tops it up while the replicas drain it (they only exit once it stays empty).
    sqs = queues.client()

    def send(chunk: list[str]) -> None:
        for first in range(0, len(chunk), 10):
            entries = [
                {"Id": str(n), "MessageBody": b} for n, b in enumerate(chunk[first : first + 10])
            ]
            sqs.send_message_batch(QueueUrl=queues.url, Entries=entries)

    send(bodies[:DEPTH])
    remaining = bodies[DEPTH:]

    def depth() -> int:
        # One read, not `Queues.depth`'s two: a message between moto's two counts makes this
        # low, which only tops the queue up sooner. Each read is CPU in this process (moto's
        # server runs here), and the feeder reads until the last chunk is queued.
        attrs = sqs.get_queue_attributes(
            QueueUrl=queues.url,
            AttributeNames=["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"],
        )["Attributes"]
        return sum(int(n) for n in attrs.values())

    def feed() -> None:
        # Every 0.1 s: the replicas would have to finish half the queue (35 messages) in less
        # to find it empty and exit before the rest is queued.
        while remaining:
            if depth() < DEPTH // 2:
                chunk = remaining[: DEPTH // 2]
                del remaining[: DEPTH // 2]
                send(chunk)
            time.sleep(0.1)

    feeder = threading.Thread(target=feed, daemon=True)
    settings = settings_for(
        queues, backend.url, tmp_path / "unused.db", store_url="dynamodb://incidents", concurrency=8
    )
    daemons = [Daemon(settings, "--drain", log_dir=tmp_path) for _ in range(REPLICAS)]
    feeder.start()
    try:
        for daemon in daemons:
            assert daemon.wait(timeout=400) == 0, daemon.log[-2000:]
    finally:
        for daemon in daemons:
            daemon.kill()
    feeder.join(timeout=5)
    assert not remaining, "the replicas exited before every message was queued"

    fingerprints = Counter(t["body"]["fingerprint"] for t in backend.tickets)
    assert len(backend.tickets) == INCIDENTS
    assert set(fingerprints.values()) == {1}
    # The store's claims, not the backend's Idempotency-Key, kept each incident to one create.
    assert backend.replayed_creates == 0
    assert queues.depth() == 0
    assert queues.dead_letters() == []
