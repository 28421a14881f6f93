"""What SQS answers the same way again and again (a refused visibility change at every
beat, an answer over-full at every receive) is said once at warning, then at debug: against
moto through a fault proxy that rewrites the answers."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator
from typing import Any

import pytest
import structlog

from daemon_harness import Queues, make_queues
from fault_proxy import FaultProxy
from moto_speed import loopback_aws_client
from triage.sqs.inbox import Message, SqsInbox

RECEIVE = "AmazonSQS.ReceiveMessage"


@pytest.fixture
def queues(moto_url: str) -> Queues:
    """A queue that keeps a message through five receives before its DLQ."""
    return make_queues(moto_url, max_receive_count=5)


@pytest.fixture
def proxy(queues: Queues) -> Iterator[FaultProxy]:
    with FaultProxy(queues.endpoint) as p:
        yield p


@pytest.fixture
async def sqs(proxy: FaultProxy) -> AsyncIterator[Any]:
    async with loopback_aws_client("sqs", endpoint_url=proxy.url) as client:
        yield client


VISIBILITY = "AmazonSQS.ChangeMessageVisibilityBatch"


async def test_a_visibility_change_refused_each_beat_is_one_warning_per_delivery(
    sqs: Any, queues: Queues, proxy: FaultProxy
) -> None:
    """SQS refusing one delivery's extension the same way at every beat (a limit such as the
    12 h visibility maximum) is one warning, then debug; another delivery's refusal is its
    own warning."""
    queues.send("a", "b")
    inbox = SqsInbox(sqs, proxy.queue_url(queues.url))
    received: list[Message] = []
    async with asyncio.timeout(10):
        while len(received) < 2:
            received += await inbox.receive(10, 0, 30)

    def refuse(answer: dict[str, Any]) -> dict[str, Any]:
        entries = [*answer.get("Successful", []), *answer.get("Failed", [])]
        return {
            "Successful": [],
            "Failed": [
                {"Id": e["Id"], "SenderFault": True, "Code": "InvalidParameterValue"}
                for e in entries
            ],
        }

    proxy.rewrite(VISIBILITY, refuse)
    with structlog.testing.capture_logs() as logs:
        for _ in range(3):
            await inbox.change_visibility(received[:1], 30)
        await inbox.change_visibility(received, 30)
    refused = [e for e in logs if e["event"] == "message.visibility_failed"]
    assert len(refused) == 5
    warned = [e["message_id"] for e in refused if e["log_level"] == "warning"]
    assert sorted(warned) == sorted(m.id for m in received)


async def test_answers_holding_more_than_asked_are_one_warning_then_debug(
    sqs: Any, queues: Queues, proxy: FaultProxy
) -> None:
    """An endpoint that ignores MaxNumberOfMessages does so on every receive: the first says
    so at warning, the next at debug, and each still gives the extra messages back."""
    queues.send("a", "b", "c")
    inbox = SqsInbox(sqs, proxy.queue_url(queues.url))
    answer = queues.client().receive_message(
        QueueUrl=queues.url, MaxNumberOfMessages=10, VisibilityTimeout=0
    )
    assert len(answer["Messages"]) == 3
    proxy.rewrite(RECEIVE, lambda _: {"Messages": answer["Messages"]})
    with structlog.testing.capture_logs() as logs:
        for _ in range(2):
            assert len(await inbox.receive(1, 0, 30)) == 1
    over = [e["log_level"] for e in logs if e["event"] == "receive.over_asked"]
    assert over == ["warning", "debug"]


async def test_a_bad_identity_attribute_is_said_once_per_message_not_per_delivery(
    sqs: Any, queues: Queues, proxy: FaultProxy
) -> None:
    """A message whose gateway id attribute has no id's shape is named by SQS's id on every
    delivery, and over three deliveries one `message.bad_identity` line says so."""
    queues.client().send_message(
        QueueUrl=queues.url,
        MessageBody="a",
        MessageAttributes={
            "gateway_message_id": {"DataType": "String", "StringValue": "gw:not-a-uuid"}
        },
    )
    inbox = SqsInbox(sqs, proxy.queue_url(queues.url))
    deliveries: list[Message] = []
    with structlog.testing.capture_logs() as logs:
        for _ in range(3):
            received: list[Message] = []
            async with asyncio.timeout(10):
                while not received:
                    received = await inbox.receive(10, 0, 30)
            deliveries += received
            await inbox.change_visibility(received, 0)
    assert {m.identity for m in deliveries} == {deliveries[0].id}
    assert len([e for e in logs if e["event"] == "message.bad_identity"]) == 1
