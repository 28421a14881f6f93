"""A delivery whose ApproximateReceiveCount SQS did not say (absent, or not a count) has an
unknown receive count: never taken for its first or its last receive, said once per message
(not once per delivery), while SQS's own count still moves it to the DLQ. Against moto through
a fault proxy that spoils the attribute, and over an in-memory inbox for the supervisor's
readers of the count."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Iterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import structlog

from daemon_harness import Queues, make_queues
from fault_proxy import FaultProxy
from memory_inbox import MemoryInbox
from moto_speed import loopback_aws_client
from triage.errors import DecodeError, SinkUnavailableError
from triage.incidents.lifecycle import Outcome
from triage.metrics import Metrics
from triage.sqs.inbox import UNKNOWN_RECEIVE_COUNT, Message, SqsInbox
from triage.sqs.supervisor import Progress, Supervisor, SupervisorConfig

RECEIVE = "AmazonSQS.ReceiveMessage"
COUNT = "ApproximateReceiveCount"


@pytest.fixture
def queues(moto_url: str) -> Queues:
    """A queue whose redrive policy moves a message to its DLQ after five receives."""
    return make_queues(moto_url, max_receive_count=5, visibility_s=30)


@pytest.fixture
def proxy(queues: Queues) -> Iterator[FaultProxy]:
    with FaultProxy(queues.endpoint) as p:
        yield p


@pytest.fixture
async def sqs(proxy: FaultProxy) -> AsyncIterator[Any]:
    async with loopback_aws_client("sqs", endpoint_url=proxy.url) as client:
        yield client


def _spoil_counts(values: dict[str, str | None]) -> Any:
    """A ReceiveMessage rewrite: each body's count removed (None) or replaced by its value."""

    def rewrite(answer: dict[str, Any]) -> dict[str, Any]:
        for message in answer.get("Messages", []):
            attributes = message.setdefault("Attributes", {})
            value = values.get(message["Body"])
            if value is None:
                attributes.pop(COUNT, None)
            else:
                attributes[COUNT] = value
        return answer

    return rewrite


async def test_a_count_absent_or_not_a_count_is_unknown_and_said_once_per_message(
    sqs: Any, queues: Queues, proxy: FaultProxy
) -> None:
    """Absent, "x7" and "0" all read as an unknown count (neither a first nor a last
    receive), and over three deliveries of each message one line per message says so."""
    queues.send("absent", "garbled", "zero")
    proxy.rewrite(RECEIVE, _spoil_counts({"absent": None, "garbled": "x7", "zero": "0"}))
    inbox = SqsInbox(sqs, proxy.queue_url(queues.url))
    deliveries: list[Message] = []
    with structlog.testing.capture_logs() as logs:
        for _ in range(3):
            received: list[Message] = []
            async with asyncio.timeout(10):
                while len(received) < 3:
                    received += await inbox.receive(10, 0, 30)
            deliveries += received
            await inbox.change_visibility(received, 0)
    assert len(deliveries) == 9
    assert all(m.known_receive_count is None and not m.first_delivery for m in deliveries)
    said = [e for e in logs if e["event"] == "message.unreadable_attribute"]
    assert all(e["attribute"] == COUNT for e in said)
    assert sorted(e["message_id"] for e in said) == sorted({m.id for m in deliveries})


async def test_a_last_receive_that_cannot_be_known_is_never_claimed_and_sqs_still_redrives(
    sqs: Any, queues: Queues, proxy: FaultProxy
) -> None:
    """With maxReceiveCount 1 and the count withheld, a message that never decodes is
    released as ever (so SQS moves it to the DLQ by its own count) but never counted as
    dead-lettered: the daemon cannot know which receive was the last."""
    _redrive_after_one_receive(queues)
    queues.send("poison")
    proxy.rewrite(RECEIVE, _spoil_counts({}))

    async def handler(message: Message, _progress: Progress) -> list[Outcome]:
        raise DecodeError("not JSON")

    metrics = Metrics()
    config = SupervisorConfig(wait_s=0, drain=True, retry_base_s=0, shutdown_grace_s=1)
    supervisor = Supervisor(config, SqsInbox(sqs, proxy.queue_url(queues.url)), handler, metrics)
    supervisor.max_receive_count = 1
    with structlog.testing.capture_logs() as logs:
        async with asyncio.timeout(20):
            await supervisor.serve()
    assert queues.dead_letters() == ["poison"]
    assert metrics.total("MessagesDeadLettered") == 0
    assert not [e for e in logs if e["event"] == "message.dead_lettered"]
    [rejected] = [e for e in logs if e["event"] == "message.rejected"]
    assert rejected["receive_count"] is None


def _redrive_after_one_receive(queues: Queues) -> None:
    sqs = queues.client()
    dlq = sqs.get_queue_attributes(QueueUrl=queues.dlq_url, AttributeNames=["QueueArn"])
    policy = {"deadLetterTargetArn": dlq["Attributes"]["QueueArn"], "maxReceiveCount": "1"}
    sqs.set_queue_attributes(QueueUrl=queues.url, Attributes={"RedrivePolicy": json.dumps(policy)})


async def test_an_unknown_count_is_no_first_delivery_for_queue_lag_and_shows_as_none() -> None:
    """A delivery of unknown count is left out of QueueLag (its age may hold earlier
    attempts), and its retry line shows the count as unknown (None), not as 0."""
    inbox = MemoryInbox()
    [mid] = inbox.put("x")
    sent = datetime.now(UTC) - timedelta(seconds=2)
    inbox.entries[mid].message = replace(inbox.entries[mid].message, sent_at=sent)

    class UnknownCounts(MemoryInbox):
        async def receive(self, max_messages: int, wait_s: int, visibility_s: int) -> list[Message]:
            got = await inbox.receive(max_messages, wait_s, visibility_s)
            return [replace(m, receive_count=UNKNOWN_RECEIVE_COUNT) for m in got]

        async def change_visibility(self, messages: Any, timeout_s: int) -> None:
            await inbox.change_visibility(messages, timeout_s)

        async def delete(self, messages: Any) -> list[str]:
            return await inbox.delete(messages)

        async def depth(self) -> Any:
            return await inbox.depth()

    attempts = 0

    async def handler(message: Message, _progress: Progress) -> list[Outcome]:
        nonlocal attempts
        attempts += 1
        if attempts == 1:
            raise SinkUnavailableError("503")
        return []

    metrics = Metrics()
    config = SupervisorConfig(wait_s=0, drain=True, retry_base_s=0, shutdown_grace_s=1)
    with structlog.testing.capture_logs() as logs:
        await Supervisor(config, UnknownCounts(), handler, metrics).serve()
    assert (attempts, inbox.deleted) == (2, [mid])
    assert not [key for key in metrics.timings() if key[0] == "QueueLag"]
    [retry] = [e for e in logs if e["event"] == "message.retry"]
    assert retry["receive_count"] is None
