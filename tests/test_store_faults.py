"""The stores under faults of their own: a SQLite file corrupt, deleted or replaced under a
running store, and DynamoDB answering what a healthy table never does. A fault of the store is
never the alert's fault: it is StoreUnavailableError (held by the supervisor, see
test_store_outage.py), never a bare library exception and never a write to a file nobody reads."""

from __future__ import annotations

import os
import sqlite3
import time
from collections.abc import AsyncIterator
from datetime import timedelta
from http.server import BaseHTTPRequestHandler
from pathlib import Path

import pytest
import structlog
from aiobotocore.config import AioConfig

from factories import T0, alert
from fault_proxy import FaultProxy
from moto_speed import loopback_aws_client
from triage.errors import (
    ConfigError,
    RecordTooLargeError,
    StoreBusyError,
    StoreUnavailableError,
)
from triage.incidents.dynamodb import DynamoDBStore, create_table
from triage.incidents.lifecycle import Action, Policy
from triage.incidents.sqlite import SQLiteStore

POLICY = Policy(update_interval=timedelta(minutes=15), reopen_window=timedelta(hours=1))
LEASE = timedelta(minutes=2)


@pytest.fixture
async def sqlite_store(tmp_path: Path) -> AsyncIterator[SQLiteStore]:
    s = SQLiteStore(str(tmp_path / "t.db"), POLICY, LEASE, timedelta(days=30))
    await s.open()
    yield s
    await s.aclose()


def _damage(path: str, how: str) -> None:
    """Overwrite the file with garbage, or cut it short."""
    if how == "garbage":
        with open(path, "r+b") as f:
            f.write(b"\xa5" * os.path.getsize(path))
    else:
        os.truncate(path, 8192)


def _delete(path: str) -> None:
    for suffix in ("", "-wal", "-shm"):
        Path(path + suffix).unlink(missing_ok=True)


def _rows(path: str) -> int:
    """How many incidents another process reading the file sees."""
    conn = sqlite3.connect(path)
    try:
        return int(conn.execute("SELECT count(*) FROM incidents").fetchone()[0])
    finally:
        conn.close()


@pytest.mark.parametrize("damage", ["garbage", "truncated"])
async def test_a_sqlite_file_corrupted_under_a_running_store_is_unavailable_not_a_crash(
    sqlite_store: SQLiteStore, damage: str
) -> None:
    """A store file overwritten or cut short while open makes reads and writes fail with
    StoreUnavailableError, not sqlite3.DatabaseError (which the supervisor takes for a bug)."""
    s = sqlite_store
    for i in range(50):
        big = alert(f"x{i}").model_copy(update={"description": "y" * 3000})
        await s.begin(big, f"m{i}", T0)
    await s._call(lambda: s._db().execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchall())
    await s._call(lambda: s._db().execute("PRAGMA cache_size = 1"))  # pages are read again
    _damage(s.path, damage)
    with pytest.raises(StoreUnavailableError, match=r"malformed|not a database"):
        await s.begin(alert("x40"), "m-again", T0)
    with pytest.raises(StoreUnavailableError, match=r"malformed|not a database"):
        await s.get(alert("x41").fingerprint)


async def test_a_sqlite_file_deleted_under_a_running_store_is_unavailable_not_written_on(
    sqlite_store: SQLiteStore,
) -> None:
    """A store file deleted while open makes the store unavailable, naming the file, instead
    of writing on into the deleted file (gone at the next start, with every ticket it knew)."""
    s = sqlite_store
    await s.begin(alert("before"), "m1", T0)
    _delete(s.path)
    with pytest.raises(StoreUnavailableError, match="deleted"):
        await s.begin(alert("after"), "m2", T0)
    with pytest.raises(StoreUnavailableError, match="deleted"):
        await s.get(alert("before").fingerprint)
    assert not os.path.lexists(s.path)  # noqa: ASYNC240 (a test's look at the file)


async def test_a_sqlite_file_replaced_under_a_running_store_is_the_store_from_then_on(
    sqlite_store: SQLiteStore, tmp_path: Path
) -> None:
    """A store file replaced while open (a backup put back) is opened in its place: what the
    store reads and writes next is the new file's, seen by every other process."""
    s = sqlite_store
    await s.begin(alert("before"), "m1", T0)
    backup = SQLiteStore(str(tmp_path / "backup.db"), POLICY, LEASE, timedelta(days=30))
    await backup.open()
    await backup.begin(alert("restored"), "m0", T0)
    await backup.aclose()
    os.replace(backup.path, s.path)
    assert await s.get(alert("before").fingerprint) is None
    assert (await s.begin(alert("restored"), "m2", T0)).action is Action.COUNT
    await s.begin(alert("after"), "m3", T0)
    assert _rows(s.path) == 2


# --- DynamoDB, through a proxy that breaks moto's answers --------------------------------------

GET, PUT = "DynamoDB_20120810.GetItem", "DynamoDB_20120810.PutItem"
#: One attempt per call, so a test sees each fault as the store does after botocore's retries
#: (`max_attempts` would count retries: a second call, after a backoff of up to a second).
ONCE = AioConfig(retries={"total_max_attempts": 1, "mode": "standard"}, read_timeout=10)


@pytest.fixture
async def proxied(moto_url: str) -> AsyncIterator[tuple[FaultProxy, DynamoDBStore]]:
    """A DynamoDB store whose every call goes through a fault proxy in front of moto."""
    async with loopback_aws_client("dynamodb", endpoint_url=moto_url) as plain:
        await create_table(plain, "incidents")
    with FaultProxy(moto_url) as proxy:
        async with loopback_aws_client("dynamodb", endpoint_url=proxy.url, config=ONCE) as client:
            yield proxy, DynamoDBStore(client, "incidents", POLICY, LEASE, timedelta(days=30))


STORE_DOWN = [
    ("refuse", 500, "InternalServerError"),
    ("refuse", 400, "ExpiredTokenException"),
    ("refuse", 400, "UnrecognizedClientException"),
    ("refuse", 400, "AccessDeniedException"),
    ("refuse", 400, "ResourceNotFoundException"),
    ("html", 503, ""),
    ("reset", 0, ""),
    ("cut", 0, ""),
]


@pytest.mark.parametrize(("how", "status", "code"), STORE_DOWN)
@pytest.mark.parametrize("target", [GET, PUT])
async def test_a_dynamodb_fault_is_the_store_unavailable_and_the_retry_opens_once(
    proxied: tuple[FaultProxy, DynamoDBStore], target: str, how: str, status: int, code: str
) -> None:
    """Every way DynamoDB can fail a read or a write (5xx, expired or refused credentials, the
    table gone, an HTML page, a reset, an answer cut short after the write) is
    StoreUnavailableError; once it heals the same delivery claims its effect exactly once."""
    proxy, store = proxied
    if how == "refuse":
        proxy.refuse(target, status, code)
    else:
        proxy.break_answers(target, how)
    with pytest.raises(StoreUnavailableError):
        await store.begin(alert(), "m1", T0)
    proxy.heal(target)
    first = await store.begin(alert(), "m1", T0)
    assert first.action is Action.OPEN and first.after is not None
    assert first.after.pending is not None and first.after.pending.seq == 1
    again = await store.begin(alert(), "m2", T0)
    assert again.action is Action.COUNT


async def test_an_item_dynamodb_refuses_as_too_large_is_the_records_fault_not_an_outage(
    proxied: tuple[FaultProxy, DynamoDBStore],
) -> None:
    """DynamoDB refusing a write for the item's size is RecordTooLargeError (the message's
    alert goes to the DLQ naming the record), not an outage that would hold every message."""
    proxy, store = proxied
    proxy.refuse(PUT, 400, "ValidationException", "Item size has exceeded the maximum allowed size")
    with pytest.raises(RecordTooLargeError, match=alert().fingerprint):
        await store.begin(alert(), "m1", T0)


async def test_a_dynamodb_table_that_does_not_exist_stops_start_up_with_one_line(
    moto_url: str,
) -> None:
    """Opening a store on a table that does not exist is a ConfigError naming it (one line,
    exit 2), not a daemon that starts and holds every message for ever."""
    async with loopback_aws_client("dynamodb", endpoint_url=moto_url, config=ONCE) as client:
        store = DynamoDBStore(client, "no-such-table", POLICY, LEASE, timedelta(days=30))
        with pytest.raises(ConfigError, match="dynamodb://no-such-table: no such DynamoDB table"):
            await store.open()


async def test_a_dynamodb_store_unreachable_at_start_starts_and_waits(moto_url: str) -> None:
    """DynamoDB not answering at start (reset connections) is no reason to stop: opening
    succeeds with a warning, and the store serves as soon as it answers."""
    async with loopback_aws_client("dynamodb", endpoint_url=moto_url) as plain:
        await create_table(plain, "incidents")
    with FaultProxy(moto_url) as proxy:
        proxy.break_answers("DynamoDB_20120810.DescribeTable", "reset")
        async with loopback_aws_client("dynamodb", endpoint_url=proxy.url, config=ONCE) as client:
            store = DynamoDBStore(client, "incidents", POLICY, LEASE, timedelta(days=30))
            await store.open()
            assert (await store.begin(alert(), "m1", T0)).action is Action.OPEN


class _SkewedClock(FaultProxy):
    """A proxy in front of moto whose answers are dated `skew_s` off this host's clock, as
    DynamoDB's are when the host's clock is wrong."""

    def __init__(self, upstream: str, skew_s: float) -> None:
        self.skew_s = skew_s
        super().__init__(upstream)

    def _handler_class(self) -> type[BaseHTTPRequestHandler]:
        relay, skew_s = super()._handler_class(), self.skew_s

        class Handler(relay):  # type: ignore[valid-type,misc]
            def date_time_string(self, timestamp: float | None = None) -> str:
                return str(super().date_time_string(time.time() + skew_s))

        return Handler


@pytest.mark.parametrize(("skew_s", "warned"), [(-120.0, True), (90.0, True), (0.0, False)])
async def test_a_host_clock_far_off_dynamodbs_is_named_at_start_up(
    moto_url: str, skew_s: float, warned: bool
) -> None:
    """A replica whose clock is minutes off (DynamoDB's answers dated otherwise) starts with
    one `store.clock_skew` warning saying by how much, since replicas compare leases across
    their clocks; a clock in step says nothing."""
    async with loopback_aws_client("dynamodb", endpoint_url=moto_url) as plain:
        await create_table(plain, "incidents")
    with _SkewedClock(moto_url, skew_s) as proxy:
        async with loopback_aws_client("dynamodb", endpoint_url=proxy.url, config=ONCE) as client:
            store = DynamoDBStore(client, "incidents", POLICY, LEASE, timedelta(days=30))
            with structlog.testing.capture_logs() as logs:
                await store.open()
    skews = [e for e in logs if e["event"] == "store.clock_skew"]
    assert len(skews) == int(warned)
    if warned:
        # The host is ahead when DynamoDB's answers are dated behind it.
        assert abs(skews[0]["skew_s"] + skew_s) < 5 and skews[0]["ahead"] is (skew_s < 0)


async def test_a_malformed_dynamodb_item_is_left_out_of_a_listing_not_a_crash(
    proxied: tuple[FaultProxy, DynamoDBStore],
) -> None:
    """An item without a body or version (written by something else) is skipped, with a
    warning, when incidents are listed; the readable ones are listed."""
    _, store = proxied
    fine = await store.begin(alert("fine"), "m1", T0)
    await store._ddb.put_item(
        TableName="incidents", Item={"fingerprint": {"S": "f" * 32}, "note": {"S": "hand-made"}}
    )
    assert fine.after is not None
    assert [i.fingerprint for i in await store.incidents()] == [fine.after.fingerprint]


def _refuse_deletes(path: str) -> None:
    """Another process makes every delete of an incident fail (a trigger stands for any fault
    that strikes the purge alone: its own lock, its own disk write)."""
    conn = sqlite3.connect(path)
    try:
        conn.execute(
            "CREATE TRIGGER refuse BEFORE DELETE ON incidents BEGIN SELECT RAISE(ABORT, 'no'); END"
        )
        conn.execute(  # long expired: the next purge deletes it
            "INSERT INTO incidents (fingerprint, version, body, expires_at) VALUES ('old', 1, '', 1)"
        )
        conn.commit()
    finally:
        conn.close()


async def test_a_purge_that_fails_never_fails_committed_changes_nor_start_up(
    tmp_path: Path,
) -> None:
    """The purge of expired records runs after a group's commit: when it fails, the changes
    committed are answered as done (not failed, to be applied twice), the store opens, and
    one warning says why."""
    path = str(tmp_path / "t.db")
    s = SQLiteStore(path, POLICY, LEASE, timedelta(days=30))
    await s.open()
    try:
        _refuse_deletes(path)
        s.purge_every_s = 0
        with structlog.testing.capture_logs() as logs:
            assert (await s.begin(alert("a"), "m1", T0)).action is Action.OPEN
        assert _rows(path) == 2  # 'old' is still there
        assert [e["event"] for e in logs] == ["store.purge_failed"]
    finally:
        await s.aclose()
    again = SQLiteStore(path, POLICY, LEASE, timedelta(days=30))
    await again.open()
    await again.aclose()


async def test_a_confirmation_whose_answer_is_lost_is_not_carried_out_twice(
    proxied: tuple[FaultProxy, DynamoDBStore],
) -> None:
    """A ticket's confirmation that DynamoDB wrote but whose answer was cut short fails the
    message (held, then retried); the retry finds the ticket confirmed and sends nothing."""
    proxy, store = proxied
    opened = await store.begin(alert(), "m1@d1", T0)
    assert opened.action is Action.OPEN and opened.after is not None
    proxy.break_answers(PUT, "cut")
    with pytest.raises(StoreUnavailableError):
        await store.confirm(opened.after.fingerprint, "m1@d1", "backend", "T-1", finish=True)
    proxy.heal(PUT)
    await store.release(opened.after.fingerprint, "m1@d1")  # the failed work gives back its claim
    retry = await store.begin(alert(), "m1@d2", T0)
    assert retry.action is Action.IGNORE
    stored = await store.get(opened.after.fingerprint)
    assert stored is not None and stored.pending is None and stored.refs == {"backend": "T-1"}


@pytest.mark.parametrize(
    "code",
    [
        "ConditionalCheckFailedException",
        "TransactionConflictException",
        "ReplicatedWriteConflictException",
    ],
)
async def test_a_write_that_keeps_losing_races_is_a_bounded_wait_not_a_failure(
    proxied: tuple[FaultProxy, DynamoDBStore], code: str
) -> None:
    """Every write of one item losing to another writer (another replica's version, a
    transaction holding the item, another Region's write to a global table) gives up after
    MAX_CONFLICTS tries with StoreBusyError: that message is held alone (its receive count
    kept, intake going on), not an endless loop, not the store marked unavailable for all."""
    proxy, store = proxied
    store.MAX_CONFLICTS = 5
    proxy.refuse(PUT, 400, code)
    with pytest.raises(StoreBusyError, match="kept changing") as busy:
        await store.begin(alert(), "m1", T0)
    assert busy.value.pauses_intake is False
    # One request a try: ONCE leaves botocore no retry of its own.
    assert proxy.requests(PUT) == store.MAX_CONFLICTS
    proxy.heal(PUT)
    assert (await store.begin(alert(), "m1", T0)).action is Action.OPEN
