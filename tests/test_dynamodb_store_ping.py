"""The DynamoDB store's ping (what `/readyz` follows while no traffic comes) fails for what a
write would hit: a throttled table, a role that may describe the table but not write it, a
KMS key DynamoDB cannot use, a table being deleted. It writes only its own item, which no
listing, sweep, count or lookup of incidents ever sees."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Callable
from datetime import timedelta
from typing import Any

import pytest
import structlog
from aiobotocore.config import AioConfig

from factories import T0, alert
from fault_proxy import FaultProxy
from memory_inbox import MemoryInbox
from moto_speed import loopback_aws_client
from triage.errors import StoreThrottledError, StoreUnavailableError
from triage.incidents.dynamodb import PING_ITEM_KEY, DynamoDBStore, create_table
from triage.incidents.lifecycle import Outcome, Policy
from triage.metrics import Metrics
from triage.ops.operator import find_incident
from triage.sqs.inbox import Message
from triage.sqs.supervisor import Progress, Supervisor, SupervisorConfig

POLICY = Policy(update_interval=timedelta(minutes=15), reopen_window=timedelta(hours=1))
LEASE = timedelta(minutes=2)
PUT, DESCRIBE = "DynamoDB_20120810.PutItem", "DynamoDB_20120810.DescribeTable"
#: One attempt per call, so a test sees each fault as the store does after botocore's retries.
ONCE = AioConfig(retries={"total_max_attempts": 1, "mode": "standard"}, read_timeout=10)
TABLE = "incidents"


def new_store(client: Any) -> DynamoDBStore:
    return DynamoDBStore(client, TABLE, POLICY, LEASE, timedelta(days=30))


@pytest.fixture
async def plain(moto_url: str) -> AsyncIterator[Any]:
    """A client straight to moto (no faults), with the table made: what another process sees."""
    async with loopback_aws_client("dynamodb", endpoint_url=moto_url) as client:
        await create_table(client, TABLE)
        yield client


class PingProxy(FaultProxy):
    """A fault proxy that can also throttle every PutItem the way DynamoDB does, saying why
    (`ThrottlingReasons`), which a bare refusal does not."""

    throttled_for: list[str] | None = None

    def throttle_writes(self, reasons: list[str]) -> None:
        """Answer every PutItem with ThrottlingException and these reasons."""
        self.throttled_for = reasons

    def _exchange(
        self, method: str, path: str, headers: dict[str, str], body: bytes
    ) -> tuple[int, list[tuple[str, str]], bytes]:
        if headers.get("x-amz-target") == PUT and self.throttled_for is not None:
            arn = "arn:aws:dynamodb:us-east-1:123456789012:table/incidents"
            answer = {
                "__type": "com.amazonaws.dynamodb.v20120810#ThrottlingException",
                "message": "Throughput exceeds the current capacity",
                # ThrottlingException's own spelling (ProvisionedThroughputExceeded's is
                # `ThrottlingReasons`).
                "throttlingReasons": [{"reason": r, "resource": arn} for r in self.throttled_for],
            }
            content = [("Content-Type", "application/x-amz-json-1.0")]
            return 400, content, json.dumps(answer).encode()
        return super()._exchange(method, path, headers, body)


@pytest.fixture
async def proxied(plain: Any, moto_url: str) -> AsyncIterator[tuple[PingProxy, DynamoDBStore]]:
    """A DynamoDB store whose every call goes through a fault proxy in front of moto."""
    with PingProxy(moto_url) as proxy:
        async with loopback_aws_client("dynamodb", endpoint_url=proxy.url, config=ONCE) as client:
            yield proxy, new_store(client)


async def every_item(client: Any) -> dict[str, dict[str, Any]]:
    """Every item of the table, by its key, as another process scanning it sees them."""
    items: dict[str, dict[str, Any]] = {}
    request: dict[str, Any] = {"TableName": TABLE, "ConsistentRead": True}
    while True:
        page = await client.scan(**request)
        items.update({item["fingerprint"]["S"]: item for item in page["Items"]})
        if "LastEvaluatedKey" not in page:
            return items
        request["ExclusiveStartKey"] = page["LastEvaluatedKey"]


#: What DynamoDB answers a write with when the write cannot happen, and the table still
#: describes as ACTIVE: the capacity spent, the task role allowed DescribeTable but not
#: PutItem, the table's KMS key disabled or its grant revoked, the table gone.
WRITE_FAULTS = [
    ("ProvisionedThroughputExceededException", "The level of configured throughput was exceeded"),
    ("ThrottlingException", "Throughput exceeds the current capacity of your table"),
    ("RequestLimitExceeded", "Throughput exceeds the current throughput limit for your account"),
    ("AccessDeniedException", "User is not authorized to perform: dynamodb:PutItem"),
    ("AccessDeniedException", "KMS key access denied error: The key is disabled"),
    ("ValidationException", "KMS key is inaccessible: the key is pending deletion"),
    ("ResourceNotFoundException", "Requested resource not found"),
    ("InternalServerError", "Internal server error"),
]


@pytest.mark.parametrize(("code", "message"), WRITE_FAULTS)
async def test_a_ping_fails_for_what_a_write_would_hit(
    proxied: tuple[PingProxy, DynamoDBStore], code: str, message: str
) -> None:
    """Every fault that refuses a write while DescribeTable still answers fails the ping with
    StoreUnavailableError naming the code (a message's write fails on it too), and the ping
    answers again once writes go through."""
    proxy, store = proxied
    await store.ping()
    proxy.refuse(PUT, 400 if code != "InternalServerError" else 500, code, message)
    with pytest.raises(StoreUnavailableError, match=code):
        await store.ping()
    with pytest.raises((StoreUnavailableError, StoreThrottledError)):
        await store.begin(alert("a"), "m1", T0)  # what the ping stands for
    proxy.heal(PUT)
    await store.ping()


def described_as(status: str, **table: Any) -> Callable[[dict[str, Any]], dict[str, Any]]:
    """DescribeTable's answer, with the table's status and other fields set."""

    def change(answer: dict[str, Any]) -> dict[str, Any]:
        answer["Table"] = {**answer["Table"], "TableStatus": status, **table}
        return answer

    return change


KMS_LOST = {"SSEDescription": {"Status": "ENABLED", "InaccessibleEncryptionDateTime": 1.8e9}}


@pytest.mark.parametrize(
    ("status", "table", "said"),
    [
        ("DELETING", {}, "DELETING"),
        ("INACCESSIBLE_ENCRYPTION_CREDENTIALS", {}, "INACCESSIBLE_ENCRYPTION_CREDENTIALS"),
        ("ARCHIVING", {}, "ARCHIVING"),
        ("ARCHIVED", {}, "ARCHIVED"),
        ("ACTIVE", KMS_LOST, "KMS key"),
    ],
)
async def test_a_ping_fails_for_a_table_that_takes_writes_for_not_much_longer(
    proxied: tuple[PingProxy, DynamoDBStore], status: str, table: dict[str, Any], said: str
) -> None:
    """A table being deleted still takes writes until it is gone, and one whose KMS key
    DynamoDB has found it cannot use is on its way to being archived: the ping fails for
    them, naming why, though its own write went through."""
    proxy, store = proxied
    proxy.rewrite(DESCRIBE, described_as(status, **table))
    with pytest.raises(StoreUnavailableError, match=said):
        await store.ping()
    assert proxy.requests(PUT) == 1


async def test_a_ping_answers_while_the_table_is_being_updated(
    proxied: tuple[PingProxy, DynamoDBStore],
) -> None:
    """A table UPDATING (an index added, its capacity changed) takes reads and writes: the
    ping answers."""
    proxy, store = proxied
    proxy.rewrite(DESCRIBE, described_as("UPDATING"))
    await store.ping()


async def test_pings_leave_every_incident_and_record_as_it_was(
    proxied: tuple[PingProxy, DynamoDBStore], plain: Any
) -> None:
    """Pings from two replicas write one item between them, their own, TTL'd (it does not
    outlive the replicas); every incident and record another process reads is unchanged."""
    _, store = proxied
    opened = await store.begin(alert("a"), "m1", T0)
    assert opened.after is not None
    await store.remember_claim("m1", opened.after.fingerprint, "m1#0", T0)
    before = await every_item(plain)
    other_replica = new_store(plain)
    for _ in range(3):
        await store.ping()
        await other_replica.ping()
    after = await every_item(plain)
    ping_item = after.pop(PING_ITEM_KEY)
    assert after == before
    assert int(ping_item["expires_at"]["N"]) > store.now().timestamp()


async def test_the_ping_item_is_never_an_incident(
    proxied: tuple[PingProxy, DynamoDBStore],
) -> None:
    """After pings, listing incidents, the sweep's due list and a lookup by the ping item's
    key (`triage incidents show ping#…`) see only incidents: no extra one, no unreadable one
    logged, no decode error."""
    _, store = proxied
    opened = await store.begin(alert("a"), "m1", T0)
    assert opened.after is not None
    await store.ping()
    with structlog.testing.capture_logs() as logs:
        assert [i.fingerprint for i in await store.incidents()] == [opened.after.fingerprint]
        assert PING_ITEM_KEY not in await store.due(None)
        assert await store.get(PING_ITEM_KEY) is None
        with pytest.raises(LookupError, match="no incident"):
            await find_incident(store, PING_ITEM_KEY)
    assert [e["event"] for e in logs if e["log_level"] == "warning"] == []


async def test_another_kinds_record_is_no_incident_when_looked_up_as_one(
    proxied: tuple[PingProxy, DynamoDBStore],
) -> None:
    """The item of a record of another kind (`claims#…`, `silences#all`), named where an
    incident is asked for, is no incident (None), not a record decoded as one and refused
    as corrupt."""
    _, store = proxied
    await store.remember_claim("m1", "f" * 32, "m1#0", T0)
    assert await store.get("claims#m1") is None


async def test_a_ping_never_overwrites_an_item_at_its_key_that_is_not_its_own(
    proxied: tuple[PingProxy, DynamoDBStore], plain: Any
) -> None:
    """An item something else wrote at the ping's key stays as it was: the ping's write is
    conditional on finding none there or its own (and DynamoDB judging it shows the table
    takes writes, so the ping answers)."""
    _, store = proxied
    foreign = {"fingerprint": {"S": PING_ITEM_KEY}, "note": {"S": "hand-made"}}
    await plain.put_item(TableName=TABLE, Item=foreign)
    await store.ping()
    assert (await every_item(plain))[PING_ITEM_KEY] == foreign


async def test_a_ping_throttled_on_its_own_key_range_only_answers(
    proxied: tuple[PingProxy, DynamoDBStore],
) -> None:
    """A throttle DynamoDB says is one key range's own limit (a hot record sharing the ping
    item's partition) is that record's trouble, as it is for messages: the table takes other
    writes, so the ping answers; a throttle of the table fails it."""
    proxy, store = proxied
    proxy.throttle_writes(["TableWriteKeyRangeThroughputExceeded"])
    await store.ping()
    proxy.throttle_writes(["TableWriteProvisionedThroughputExceeded"])
    with pytest.raises(StoreUnavailableError, match="throttled"):
        await store.ping()


# --- Readiness, with the real store's ping --------------------------------------------------


async def nothing(message: Message, _progress: Progress) -> list[Outcome]:
    """No message comes: the ping alone decides readiness."""
    raise AssertionError("no message was put")


async def until(condition: Callable[[], bool], timeout_s: float = 5.0) -> None:
    """Wait for `condition` with a deadline (never a fixed sleep)."""
    async with asyncio.timeout(timeout_s):
        while not condition():
            await asyncio.sleep(0.005)


@pytest.mark.parametrize("fault", ["throttled", "write denied", "silent"])
async def test_readyz_follows_a_table_whose_writes_fail_with_no_traffic(
    proxied: tuple[PingProxy, DynamoDBStore], fault: str
) -> None:
    """With no message coming, a table whose writes are throttled, refused or never answered
    (DescribeTable answering all along) turns `/readyz` to `store: unavailable` within the
    probe's deadline, and ready again once writes go through."""
    proxy, store = proxied
    cfg = SupervisorConfig(wait_s=0, retry_base_s=1000, shutdown_grace_s=1)
    supervisor = Supervisor(cfg, MemoryInbox(), nothing, Metrics(), store_probe=store.ping)
    supervisor.STORE_PROBE_S = 0.2
    serving = asyncio.create_task(supervisor.serve())
    try:
        await until(lambda: supervisor.health.ready)
        if fault == "throttled":
            proxy.refuse(PUT, 400, "ProvisionedThroughputExceededException")
        elif fault == "write denied":
            proxy.refuse(PUT, 400, "AccessDeniedException")
        else:
            proxy.delay(PUT, 3)
        await until(lambda: not supervisor.health.ready)
        assert supervisor.health.readiness()["failing"] == {"store": "unavailable"}
        proxy.heal(PUT)
        proxy.delay(PUT, 0)
        await until(lambda: supervisor.health.ready)
    finally:
        supervisor.should_exit.set()
        await serving
