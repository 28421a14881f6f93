"""A store on this host's clock (SQLite, and the in-memory one) follows SQS's clock once this
host's is found more than 5 s off it (`Store.follow_queue_clock`, told by the pipeline from each
message's `sqs_ahead`); DynamoDB's keeps the clock of its own answers. The lifecycle's cases
(a late firing, an old resolve on a host ten minutes slow) are in tests/test_faults_round8_553.py."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import structlog

from moto_speed import loopback_aws_client
from recording_pipeline import POLICY
from triage.incidents.dynamodb import DynamoDBStore, create_table
from triage.incidents.sqlite import SQLiteStore

TEN_MINUTES = timedelta(minutes=10)


@pytest.fixture
async def sqlite(tmp_path: Path) -> AsyncIterator[SQLiteStore]:
    store = SQLiteStore(str(tmp_path / "t.db"), POLICY, timedelta(minutes=2), timedelta(days=30))
    await store.open()
    yield store
    await store.aclose()


def _off_s(store: SQLiteStore | DynamoDBStore) -> float:
    """How far the store's time is from this host's real clock, in seconds."""
    return store.now().timestamp() - time.time()


async def test_a_store_on_a_host_ten_minutes_slow_follows_sqs_clock(sqlite: SQLiteStore) -> None:
    """Told SQS's clock is 10 minutes ahead, the store's time and its shared time move 10
    minutes on, and one warning says why."""
    with structlog.testing.capture_logs() as logs:
        sqlite.follow_queue_clock(TEN_MINUTES)
    assert abs(_off_s(sqlite) - 600) < 5
    assert sqlite.shared_time(1000.0) == 1600.0
    said = [e for e in logs if e["event"] == "store.clock_follows_queue"]
    assert len(said) == 1 and said[0]["sqs_ahead_s"] == 600.0 and said[0]["log_level"] == "warning"


async def test_an_offset_within_five_seconds_is_not_followed(sqlite: SQLiteStore) -> None:
    """An offset of 4 s (a host in step, read through a receive's round trip) leaves the
    store on this host's clock, and nothing is said."""
    with structlog.testing.capture_logs() as logs:
        sqlite.follow_queue_clock(timedelta(seconds=4))
        sqlite.follow_queue_clock(timedelta(seconds=-4))
    assert abs(_off_s(sqlite)) < 2
    assert sqlite.shared_time(1000.0) == 1000.0
    assert logs == []


async def test_estimates_a_moment_apart_do_not_move_the_followed_clock(
    sqlite: SQLiteStore,
) -> None:
    """Once following SQS's clock 10 minutes behind, estimates within a second of it (each
    off by its receive's round trip) are not taken, so the store's time never steps back and
    forth; one 30 s further is, and one inside 5 s puts the store back on this host's clock."""
    sqlite.follow_queue_clock(-TEN_MINUTES)
    with structlog.testing.capture_logs() as logs:
        sqlite.follow_queue_clock(-TEN_MINUTES - timedelta(milliseconds=400))
        sqlite.follow_queue_clock(-TEN_MINUTES + timedelta(milliseconds=900))
        assert sqlite.shared_time(1000.0) == 400.0
        assert logs == []
        sqlite.follow_queue_clock(-TEN_MINUTES - timedelta(seconds=30))
        assert sqlite.shared_time(1000.0) == 370.0
        sqlite.follow_queue_clock(timedelta(seconds=1))
    assert sqlite.shared_time(1000.0) == 1000.0
    assert abs(_off_s(sqlite)) < 2
    assert [e["event"] for e in logs] == ["store.clock_follows_queue", "store.clock_in_step"]


async def test_the_followed_clock_dates_what_the_store_writes(sqlite: SQLiteStore) -> None:
    """The time decisions are taken at (`now`, the ledger's clock) is SQS's: a host clock
    given 10 minutes slow reads as the real time once the offset is followed."""
    sqlite.host_time = lambda: time.time() - 600  # type: ignore[method-assign]
    assert abs(_off_s(sqlite) + 600) < 5
    sqlite.follow_queue_clock(TEN_MINUTES)
    assert abs(_off_s(sqlite)) < 5
    assert abs(sqlite.now() - datetime.now(UTC)) < timedelta(seconds=5)


async def test_dynamodb_keeps_the_clock_of_its_own_answers(moto_url: str) -> None:
    """A DynamoDB store told SQS's clock is 10 minutes ahead stays on DynamoDB's (here moto's,
    this host's): replicas on several hosts share that one, and nothing is said."""
    async with loopback_aws_client("dynamodb", endpoint_url=moto_url) as client:
        await create_table(client, "incidents")
        store = DynamoDBStore(client, "incidents", POLICY, timedelta(minutes=2), timedelta(days=30))
        await store.open()
        with structlog.testing.capture_logs() as logs:
            store.follow_queue_clock(TEN_MINUTES)
        assert abs(_off_s(store)) < 5
        assert abs(store.shared_time(1000.0) - 1000.0) < 5
        assert [e for e in logs if e["event"].startswith("store.clock")] == []
