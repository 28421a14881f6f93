"""Red team round 6: can operators trust what triage says about itself? Each test here shows
one way a signal (a metric, a log line, a health answer) says something that is not so, and
is marked xfail (strict) until the cause it names is fixed."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable, Iterator, Sequence
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from botocore.exceptions import ClientError

from daemon_harness import Queues, make_queues
from fault_proxy import FaultProxy
from ingest_harness import bearer, ingest_settings, loopback_client, payload, running
from memory_inbox import MemoryInbox
from triage.metrics import Metrics
from triage.sqs.acker import Acker
from triage.sqs.depth import DepthPoller
from triage.sqs.inbox import Message
from triage.sqs.supervisor import Supervisor, SupervisorConfig

# --- acker.py -----------------------------------------------------------------------------------


class _StaleHandleInbox:
    """An inbox whose DeleteMessageBatch fails only the deliveries whose receipt handle is
    stale (SQS's ReceiptHandleIsInvalid for an older delivery), answering as `Inbox.delete`
    does: the receipt handles of the deliveries not deleted."""

    def __init__(self, stale_handles: set[str]) -> None:
        self.stale_handles = stale_handles
        self.batches: list[list[str]] = []

    async def delete(self, messages: Sequence[Message]) -> list[str]:
        self.batches.append([m.receipt_handle for m in messages])
        return [m.receipt_handle for m in messages if m.receipt_handle in self.stale_handles]


def _delivery(handle: str, receive_count: int) -> Message:
    return Message(
        id="m-1",
        body='{"alert": 1}',
        receipt_handle=handle,
        receive_count=receive_count,
        sent_at=datetime.now(UTC),
    )


async def test_a_deleted_delivery_is_not_reported_undeleted_for_its_stale_twin() -> None:
    """Two deliveries of one message deleted in one batch: only the stale one fails, so only
    it may be reported not deleted (else `message.not_deleted` and MessagesFailed lie)."""
    older, newer = _delivery("rh-old", 1), _delivery("rh-new", 2)
    inbox = _StaleHandleInbox({"rh-old"})
    acker = Acker(inbox, linger_s=60)  # type: ignore[arg-type]
    runner = asyncio.create_task(acker.run())
    try:
        deletes = asyncio.gather(acker.delete(older), acker.delete(newer))
        await asyncio.sleep(0)  # both are queued before the batch leaves
        await acker.stop()
        older_deleted, newer_deleted = await asyncio.wait_for(deletes, 10)
    finally:
        await asyncio.wait_for(runner, 10)
    assert inbox.batches == [["rh-old", "rh-new"]]  # one batch, as the bug needs
    assert older_deleted is False
    assert newer_deleted is True


# --- sqs/depth.py -------------------------------------------------------------------------------

QUEUE_URL = "https://sqs.eu-west-1.amazonaws.com/123456789012/alerts"
DLQ_ARN = "arn:aws:sqs:eu-west-1:123456789012:alerts-dlq"


class _DlqGoneSqs:
    """GetQueueAttributes in memory: the queue answers its depth and its RedrivePolicy, while
    its DLQ has been deleted (or our role may not read it): SQS's NonExistentQueue."""

    async def get_queue_attributes(self, QueueUrl: str, **_: Any) -> dict[str, Any]:
        if QueueUrl == QUEUE_URL:
            policy = json.dumps({"deadLetterTargetArn": DLQ_ARN, "maxReceiveCount": 5})
            return {
                "Attributes": {
                    "ApproximateNumberOfMessages": "7",
                    "ApproximateNumberOfMessagesNotVisible": "2",
                    "ApproximateNumberOfMessagesDelayed": "0",
                    "RedrivePolicy": policy,
                }
            }
        error = {"Error": {"Code": "AWS.SimpleQueueService.NonExistentQueue", "Message": "gone"}}
        raise ClientError(error, "GetQueueAttributes")  # type: ignore[arg-type]


async def test_an_unreadable_dlq_does_not_blank_the_queue_depth_sqs_answered() -> None:
    """The queue answered its depth; only its DLQ did not: the queue's gauges keep what SQS
    said (7 waiting), and the poll is not taken for the queue being unreadable."""
    metrics = Metrics()
    poller = DepthPoller(_DlqGoneSqs(), QUEUE_URL, metrics, interval_s=60)
    await poller.poll()
    gauges = {name: gauge.value for (name, _), gauge in metrics.gauges().items()}
    assert gauges.get("QueueMessagesVisible") == 7
    assert gauges.get("QueueMessagesInFlight") == 2
    assert "DlqMessagesVisible" not in gauges  # unknown, not 0


# --- sqs/acker.py at a stop ---------------------------------------------------------------------


class _DeletesNeverAnswered(MemoryInbox):
    """The in-memory queue, but DeleteMessageBatch takes the call and never answers (an SQS
    endpoint that hangs): the calls out are recorded by the messages each carries."""

    def __init__(self) -> None:
        super().__init__()
        self.delete_calls: list[int] = []

    async def delete(self, messages: Sequence[Message]) -> list[str]:
        self.delete_calls.append(len(messages))
        await asyncio.Event().wait()
        return []


async def _until(condition: Callable[[], bool], what: str, timeout_s: float = 10.0) -> None:
    """Wait for `condition()` to hold, at most `timeout_s`."""
    try:
        async with asyncio.timeout(timeout_s):
            while not condition():
                await asyncio.sleep(0.01)
    except TimeoutError:
        raise AssertionError(f"not within {timeout_s} s: {what}") from None


async def test_every_message_whose_delete_a_stop_cuts_off_has_an_outcome() -> None:
    """SQS holds every delete call as the daemon stops: each processed message still ends
    counted as not deleted (and, on its last receive, as dead-lettered), not only those in
    the calls out (MAX_CALLS x 10)."""
    total = Acker.MAX_CALLS * 10 + 10
    inbox = _DeletesNeverAnswered()
    inbox.put(*(json.dumps({"title": f"alert {i}"}) for i in range(total)))

    async def handler(message: Message, _progress: Any) -> list[Any]:
        return []

    metrics = Metrics()
    config = SupervisorConfig(wait_s=0, shutdown_grace_s=0.5, concurrency=total)
    supervisor = Supervisor(config, inbox, handler, metrics)
    supervisor.max_receive_count = 1  # every delivery is its last
    serving = asyncio.create_task(supervisor.serve())
    try:
        await _until(
            lambda: (
                supervisor.stats.received == total
                and sum(inbox.delete_calls) == Acker.MAX_CALLS * 10
            ),
            "every message processed, and the most delete calls out at once",
        )
    finally:
        supervisor.should_exit.set()
        await asyncio.wait_for(serving, 20)
    stats = supervisor.stats
    assert stats.acked + stats.delete_failed == total
    assert metrics.counter("MessagesFailed", reason="delete") == total
    assert metrics.counter("MessagesDeadLettered", reason="delete") == total


# --- sqs/base.py gauges -------------------------------------------------------------------------


async def test_messages_a_dry_run_holds_show_in_the_in_flight_gauges() -> None:
    """A dry run holds every message it handled until it stops (the heartbeat keeps them
    hidden): MessagesInFlight ("received and not yet deleted or released") counts them, and
    OldestMessageAge is not 0."""
    inbox = MemoryInbox()
    ids = inbox.put(*(json.dumps({"title": f"alert {i}"}) for i in range(3)))
    sent_at = datetime.now(UTC) - timedelta(minutes=5)
    for mid in ids:
        entry = inbox.entries[mid]
        entry.message = replace(entry.message, sent_at=sent_at)
    handled: list[str] = []

    async def handler(message: Message, _progress: Any) -> list[Any]:
        handled.append(message.id)
        return []

    metrics = Metrics()
    config = SupervisorConfig(wait_s=0, shutdown_grace_s=0.5, dry_run=True)
    supervisor = Supervisor(config, inbox, handler, metrics)
    serving = asyncio.create_task(supervisor.serve())
    try:
        await _until(lambda: len(handled) == 3, "every message handled once")
        await _until(lambda: len(supervisor._dry_held) == 3, "every message held by the dry run")
        gauges = {name: gauge.value for (name, _), gauge in metrics.gauges().items()}
    finally:
        supervisor.should_exit.set()
        await asyncio.wait_for(serving, 20)
    assert inbox.deleted == []  # held, not deleted
    assert gauges["MessagesInFlight"] == 3
    assert gauges["OldestMessageAge"] >= 240


# --- ingest/probe.py: readiness while sends are refused ----------------------------------------

GENERIC = payload("generic/firing.json")


@pytest.fixture
def queue(moto_url: str) -> Queues:
    return make_queues(moto_url)


@pytest.fixture
def proxy(queue: Queues) -> Iterator[FaultProxy]:
    with FaultProxy(queue.endpoint) as p:
        yield p


async def test_a_gateway_whose_every_send_is_refused_access_is_not_ready(
    queue: Queues, proxy: FaultProxy
) -> None:
    """The gateway's role may read the queue's attributes but not send to it (a policy
    missing sqs:SendMessage, a queue policy that denies it): every webhook gets 503, so
    /readyz must not say ready, as it does not for a KMS key that refuses the sends."""
    settings = ingest_settings(proxy.queue_url(queue.url), proxy.url)
    proxy.refuse(
        "AmazonSQS.SendMessage", 403, "AccessDenied", "not authorized to perform: sqs:SendMessage"
    )
    async with running(settings) as service, loopback_client(service.port) as client:
        assert (await client.get("/readyz")).status_code == 200  # the probe's call answers
        refused = [
            await client.post("/v1/alerts/generic", content=GENERIC, headers=bearer("generic"))
            for _ in range(3)
        ]
        readiness = await client.get("/readyz")
    assert [r.status_code for r in refused] == [503, 503, 503]
    assert readiness.status_code == 503
    assert readiness.json()["ready"] is False
