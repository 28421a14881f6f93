"""Ended operator sessions in the store, as every replica reads them: one small record per
session a logout ended, kept only while the session could still be presented, on SQLite and
on DynamoDB (moto's server)."""

from __future__ import annotations

import contextlib
import sqlite3
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path

import pytest

from moto_speed import loopback_aws_client
from test_store import LEASE, POLICY
from triage.incidents.dynamodb import DynamoDBStore, create_table
from triage.incidents.records import ENDED_SESSION
from triage.incidents.sqlite import SQLiteStore
from triage.incidents.store import Store

#: Two sessions' keys, as the page stores them (a hash of each session's random id).
ONE = "a" * 32
OTHER = "b" * 32
#: When the sessions stop being accepted anyway (epoch seconds): the record may go then.
UNTIL_S = 2_000_000_000.0


@pytest.fixture(params=["sqlite", "dynamodb"])
async def stores(
    request: pytest.FixtureRequest, tmp_path: Path
) -> AsyncIterator[tuple[Store, Store]]:
    """Two replicas' stores on the same data: one SQLite file, or one DynamoDB table."""
    if request.param == "sqlite":
        first = SQLiteStore(str(tmp_path / "t.db"), POLICY, LEASE, timedelta(days=30))
        second = SQLiteStore(str(tmp_path / "t.db"), POLICY, LEASE, timedelta(days=30))
        await first.open()
        await second.open()
        yield first, second
        await first.aclose()
        await second.aclose()
        return
    moto_url = request.getfixturevalue("moto_url")
    async with loopback_aws_client("dynamodb", moto_url) as client:
        await create_table(client, "incidents")
        yield (
            DynamoDBStore(client, "incidents", POLICY, LEASE, timedelta(days=30)),
            DynamoDBStore(client, "incidents", POLICY, LEASE, timedelta(days=30)),
        )


async def test_a_session_ended_on_one_replica_is_ended_on_another(
    stores: tuple[Store, Store],
) -> None:
    """Ending a session is seen by the other replica's store; another session is not ended."""
    first, second = stores
    assert not await second.session_ended(ONE)
    assert await first.end_session(ONE, UNTIL_S) is True
    assert await second.session_ended(ONE)
    assert not await second.session_ended(OTHER)


async def test_ending_a_session_twice_says_it_had_ended_already(
    stores: tuple[Store, Store],
) -> None:
    """A replayed logout (on any replica) is told apart from the one that ended the session:
    the conditional write succeeds once."""
    first, second = stores
    assert await first.end_session(ONE, UNTIL_S) is True
    assert await second.end_session(ONE, UNTIL_S) is False
    assert await first.end_session(ONE, UNTIL_S) is False


async def test_an_ended_session_record_expires_when_the_session_would(
    stores: tuple[Store, Store],
) -> None:
    """The record carries the expiry it is given (SQLite's purge, DynamoDB's TTL), so the
    ended sessions kept are only those that could still be presented: a bounded set."""
    first, _ = stores
    await first.end_session(ONE, UNTIL_S)
    assert await _stored_expiry(first, ONE) == int(UNTIL_S)


async def _stored_expiry(store: Store, key: str) -> int | None:
    """The expiry as written: SQLite's `records.expires_at`, DynamoDB's TTL attribute."""
    if isinstance(store, SQLiteStore):
        with contextlib.closing(sqlite3.connect(store.path)) as conn:
            rows = conn.execute(
                "SELECT expires_at FROM records WHERE kind = ? AND key = ?", (ENDED_SESSION, key)
            ).fetchall()
        [(value,)] = rows
        return None if value is None else int(value)
    assert isinstance(store, DynamoDBStore)
    item = await store._ddb.get_item(
        TableName=store.table, Key={"fingerprint": {"S": f"{ENDED_SESSION}#{key}"}}
    )
    value = item["Item"].get("expires_at")
    return None if value is None else int(value["N"])
