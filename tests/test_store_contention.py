"""The DynamoDB store under contention, on moto's server: replicas racing on one hot record
(a group a storm updates, an incident several replicas count) are that record's trouble alone.
A write that keeps losing is held by itself while the daemon goes on taking other messages."""

from __future__ import annotations

import asyncio
import json
import threading
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

import boto3
import pytest
import structlog
from aiobotocore.config import AioConfig

from factories import T0, alert
from fault_proxy import FaultProxy
from memory_inbox import MemoryInbox
from moto_speed import loopback_aws_client
from test_pipeline import CountingSummariser, FakeSink
from triage.errors import StoreBusyError, StoreThrottledError
from triage.incidents import Ledger
from triage.incidents.dynamodb import DynamoDBStore, create_table
from triage.incidents.lifecycle import Action, Policy
from triage.metrics import Metrics
from triage.normalize import normalize_body
from triage.pipeline import Pipeline
from triage.redact import Redactor
from triage.sqs.supervisor import Supervisor, SupervisorConfig

POLICY = Policy(update_interval=timedelta(minutes=15), reopen_window=timedelta(hours=1))
LEASE = timedelta(minutes=2)
GET, PUT = "DynamoDB_20120810.GetItem", "DynamoDB_20120810.PutItem"
CONFLICT = "ConditionalCheckFailedException"


class ContendedProxy(FaultProxy):
    """A proxy in front of moto where one record is contended. `race(n)`: the answers to the
    next `n` reads of it wait for each other, so the `n` writers read one version and all but one of their
    conditional writes lose. `rival(True)`: another replica writes the record right after
    each read of it (its version moves on), so every conditional write of it loses.
    `throttle(reasons)`: each write of it is throttled, DynamoDB saying why."""

    def __init__(self, upstream: str, hot: str) -> None:
        super().__init__(upstream)
        self.hot = hot
        self._barrier: threading.Barrier | None = None
        self._rival = False
        self._throttled: list[str] | None = None
        self._other = boto3.client("dynamodb", endpoint_url=upstream, region_name="us-east-1")

    def stop(self) -> None:
        super().stop()
        self._other.close()

    def race(self, readers: int) -> None:
        self._barrier = threading.Barrier(readers, timeout=10)

    def rival(self, on: bool) -> None:
        self._rival = on

    def throttle(self, reasons: list[str] | None) -> None:
        self._throttled = reasons

    def _exchange(
        self, method: str, path: str, headers: dict[str, str], body: bytes
    ) -> tuple[int, list[tuple[str, str]], bytes]:
        target = headers.get("x-amz-target")
        if target == PUT and self._throttled is not None and self._key(body) == self.hot:
            return self._throttling(self._throttled)
        hot = target == GET and self._key(body) == self.hot
        barrier = self._barrier if hot else None
        answer = super()._exchange(method, path, headers, body)
        if barrier is not None:
            # Each read is answered by moto before any is let go: waiting before the upstream
            # call, one replica's read could come back and its write land before the other's
            # read reached moto, which then read the new version (no race; a flaky test).
            barrier.wait()
            self._barrier = None
        if hot and self._rival:
            self._other.update_item(
                TableName="incidents",
                Key={"fingerprint": {"S": self.hot}},
                UpdateExpression="SET version = version + :one",
                ExpressionAttributeValues={":one": {"N": "1"}},
            )
        return answer

    @staticmethod
    def _key(body: bytes) -> str:
        request = json.loads(body)
        return str((request.get("Key") or request["Item"])["fingerprint"]["S"])

    @staticmethod
    def _throttling(reasons: list[str]) -> tuple[int, list[tuple[str, str]], bytes]:
        """DynamoDB's answer to a throttled write, with its reasons when it gives some."""
        answer: dict[str, Any] = {
            "__type": "com.amazonaws.dynamodb.v20120810#ProvisionedThroughputExceededException",
            "message": "The level of configured provisioned throughput for the table was exceeded",
        }
        if reasons:
            arn = "arn:aws:dynamodb:us-east-1:123456789012:table/incidents"
            answer["ThrottlingReasons"] = [{"reason": r, "resource": arn} for r in reasons]
        return 400, [("Content-Type", "application/x-amz-json-1.0")], json.dumps(answer).encode()


HOT = alert("hot").fingerprint


#: One attempt per call: a test sees a throttle as the store does after botocore's retries.
ONCE = AioConfig(retries={"total_max_attempts": 1, "mode": "standard"}, read_timeout=10)


@pytest.fixture
async def contended(moto_url: str) -> AsyncIterator[tuple[ContendedProxy, Any]]:
    """A table on moto, and a DynamoDB client whose calls go through a ContendedProxy."""
    async with loopback_aws_client("dynamodb", endpoint_url=moto_url) as plain:
        await create_table(plain, "incidents")
    with ContendedProxy(moto_url, HOT) as proxy:
        async with loopback_aws_client("dynamodb", endpoint_url=proxy.url, config=ONCE) as client:
            yield proxy, client


def _replica(client: Any, max_conflicts: int = DynamoDBStore.MAX_CONFLICTS) -> DynamoDBStore:
    store = DynamoDBStore(client, "incidents", POLICY, LEASE, timedelta(days=30))
    store.MAX_CONFLICTS = max_conflicts
    return store


async def test_two_replicas_opening_one_incident_at_once_open_it_once(
    contended: tuple[ContendedProxy, Any],
) -> None:
    """Two replicas both read a new incident as absent (moto answers both reads before either
    write): exactly one claims its OPEN; the other's create loses, reads again and counts."""
    proxy, client = contended
    proxy.race(2)
    results = await asyncio.gather(
        _replica(client).begin(alert("hot"), "m1#0@a", T0),
        _replica(client).begin(alert("hot"), "m2#0@a", T0),
    )
    assert sorted(t.action for t in results) == [Action.COUNT, Action.OPEN]
    assert proxy.errors(CONFLICT) == 1
    [opened] = [t for t in results if t.action is Action.OPEN]
    stored = await _replica(client).get(HOT)
    assert stored is not None and stored.occurrences == 2
    claimed = opened.after.pending if opened.after is not None else None
    assert stored.pending is not None and claimed is not None
    assert stored.pending.owner == claimed.owner


async def test_a_write_that_loses_its_races_holds_only_its_own_message(
    contended: tuple[ContendedProxy, Any],
) -> None:
    """Two replicas counting one incident at once on moto: the loser whose write keeps losing
    gets StoreBusyError that holds its message alone (intake goes on), and the winner's count
    is stored once."""
    proxy, client = contended
    first, second = _replica(client, max_conflicts=1), _replica(client, max_conflicts=1)
    opened = await first.begin(alert("hot"), "m0", T0)
    await first.finish(opened.fingerprint, "m0")
    proxy.race(2)
    results = await asyncio.gather(
        first.begin(alert("hot", minutes=1), "m1", T0 + timedelta(minutes=1)),
        second.begin(alert("hot", minutes=1), "m2", T0 + timedelta(minutes=1)),
        return_exceptions=True,
    )
    assert proxy.errors(CONFLICT) == 1
    [busy] = [r for r in results if isinstance(r, BaseException)]
    assert isinstance(busy, StoreBusyError) and "kept changing" in str(busy)
    assert busy.pauses_intake is False
    stored = await first.get(HOT)
    assert stored is not None and stored.occurrences == 2


#: DynamoDB's reasons for a throttle, and whether it pauses intake.
THROTTLES = [
    (["TableWriteKeyRangeThroughputExceeded"], False),
    (["TableWriteProvisionedThroughputExceeded"], True),
    (["TableWriteKeyRangeThroughputExceeded", "IndexWriteKeyRangeThroughputExceeded"], True),
    ([], True),
]


async def test_a_throttle_of_one_hot_key_holds_only_its_message(
    contended: tuple[ContendedProxy, Any],
) -> None:
    """DynamoDB throttling writes of one partition key (its reason `...KeyRangeThroughput
    Exceeded`, a large group a storm rewrites) holds that message alone; a throttle of the
    table, of an index or without a reason pauses intake as before."""
    proxy, client = contended
    store = _replica(client)
    for reasons, pauses in THROTTLES:
        proxy.throttle(reasons)
        with pytest.raises(StoreThrottledError) as caught:
            await store.begin(alert("hot"), "m1", T0)
        assert caught.value.pauses_intake is pauses, reasons
    calm = await store.begin(alert("calm"), "m2", T0)
    assert calm.action is Action.OPEN


def _body(name: str) -> str:
    return json.dumps({"title": f"{name} is failing", "dedup_key": name})


async def _until(predicate: Any, what: str, timeout_s: float = 10) -> None:
    try:
        async with asyncio.timeout(timeout_s):
            while not predicate():
                await asyncio.sleep(0.01)
    except TimeoutError:
        raise AssertionError(f"not within {timeout_s:g} s: {what}") from None


async def test_a_hot_record_another_replica_keeps_writing_does_not_pause_intake(
    contended: tuple[ContendedProxy, Any],
) -> None:
    """While another replica writes one incident between every read and write of ours (real
    conditional-write conflicts on moto), the daemon holds that incident's message alone:
    messages of other incidents queued meanwhile are received and acked, and the held one is
    acked once the rival stops."""
    proxy, client = contended
    store = _replica(client, max_conflicts=3)
    opened = await store.begin(alert("hot"), "m-open", T0)
    await store.finish(opened.fingerprint, "m-open")
    inbox = MemoryInbox()
    metrics = Metrics()
    pipeline = Pipeline(
        Ledger(store),
        CountingSummariser(),
        [FakeSink()],
        metrics,
        redactor=Redactor(),
        alert_concurrency=8,
    )
    supervisor = Supervisor(
        SupervisorConfig(concurrency=4, wait_s=0, drain=True), inbox, pipeline.process, metrics
    )
    proxy.rival(True)
    [hot] = inbox.put(_body("hot"))
    with structlog.testing.capture_logs() as logs:
        serving = asyncio.create_task(supervisor.serve())
        await _serve_through_the_rivalry(proxy, supervisor, inbox, serving, hot)
    events = [e["event"] for e in logs]
    assert "intake.paused" not in events
    assert {e.get("reason") for e in logs if e["event"] == "message.held"} == {"store_busy"}


def _alertmanager(*names: str) -> str:
    """One Alertmanager notification holding a firing alert per name."""
    alerts = [
        {
            "status": "firing",
            "labels": {"alertname": name, "team": "payments"},
            "annotations": {"summary": f"{name} is failing"},
            "startsAt": "2026-11-23T09:00:00Z",
        }
        for name in names
    ]
    return json.dumps({"version": "4", "status": "firing", "receiver": "r", "alerts": alerts})


async def test_a_message_held_for_one_hot_alert_counts_its_other_alerts_once(
    contended: tuple[ContendedProxy, Any],
) -> None:
    """A notification of two repeats, one of them on a record another replica keeps writing:
    the message is held and tried again until the rival stops, and its other alert, counted
    on the first try, is not counted again on each retry."""
    proxy, client = contended
    store = _replica(client, max_conflicts=2)
    body = _alertmanager("Hot", "Calm")
    hot, calm = normalize_body(body).alerts
    for i, opening in enumerate((hot, calm)):  # opened just now: the repeats are counts
        opened = await store.begin(opening, f"m-open#{i}", datetime.now(UTC))
        await store.finish(opened.fingerprint, f"m-open#{i}")
    proxy.hot = hot.fingerprint
    inbox = MemoryInbox()
    metrics = Metrics()
    pipeline = Pipeline(
        Ledger(store), CountingSummariser(), [FakeSink()], metrics, redactor=Redactor()
    )
    supervisor = Supervisor(
        SupervisorConfig(concurrency=2, wait_s=0, drain=True), inbox, pipeline.process, metrics
    )
    proxy.rival(True)
    [message] = inbox.put(body)
    serving = asyncio.create_task(supervisor.serve())
    try:
        await _until(lambda: supervisor.stats.held >= 1, "the message is held")
        proxy.rival(False)
        async with asyncio.timeout(10):
            await serving
    finally:
        serving.cancel()
    assert inbox.deleted == [message]
    for alert_ in (hot, calm):
        stored = await store.get(alert_.fingerprint)
        assert stored is not None and stored.occurrences == 2, alert_.title


async def _serve_through_the_rivalry(
    proxy: ContendedProxy,
    supervisor: Supervisor,
    inbox: MemoryInbox,
    serving: asyncio.Task[None],
    hot: str,
) -> None:
    """The hot message is held while the rival writes; others queued meanwhile are acked;
    once the rival stops, the hot one is too and the drain ends."""
    try:
        await _until(lambda: supervisor.stats.held >= 1, "the hot message is held")
        others = inbox.put(*(_body(f"calm-{i}") for i in range(5)))
        await _until(
            lambda: set(others) <= set(inbox.deleted), "the other messages are acked meanwhile"
        )
        assert hot not in inbox.deleted
        assert proxy.errors(CONFLICT) >= 3
        proxy.rival(False)
        async with asyncio.timeout(10):
            await serving
    finally:
        serving.cancel()
    assert sorted(inbox.deleted) == sorted([hot, *others])
    assert supervisor.stats.retried == 0
    assert inbox.visibility_calls == []
