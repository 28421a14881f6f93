"""Entries of a ReceiveMessage answer that do not read right, through a fault proxy in front
of moto: one without a receive count is handed out with one line saying so (its last receive
cannot be known), and one whose body is no text but has a receipt handle is made visible again
at once, so the redrive policy moves it to the DLQ without waiting out its visibility."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from typing import Any

import pytest
import structlog

from daemon_harness import Queues
from fault_proxy import FaultProxy
from moto_speed import loopback_aws_client
from triage.sqs.inbox import SqsInbox

RECEIVE = "AmazonSQS.ReceiveMessage"
VISIBILITY = "AmazonSQS.ChangeMessageVisibilityBatch"


@pytest.fixture
def proxy(queues: Queues) -> Iterator[FaultProxy]:
    with FaultProxy(queues.endpoint) as p:
        yield p


@pytest.fixture
async def inbox(queues: Queues, proxy: FaultProxy) -> AsyncIterator[SqsInbox]:
    async with loopback_aws_client("sqs", endpoint_url=proxy.url) as sqs:
        yield SqsInbox(sqs, proxy.queue_url(queues.url))


async def test_an_entry_without_a_receive_count_is_kept_with_one_line(
    inbox: SqsInbox, queues: Queues, proxy: FaultProxy
) -> None:
    """ApproximateReceiveCount absent from an entry (asked for, never sent by SQS itself): the
    message is handed out with an unknown count, and one warning names the missing attribute."""
    queues.send("a")

    def drop_count(answer: dict[str, Any]) -> dict[str, Any]:
        for message in answer.get("Messages", []):
            message.get("Attributes", {}).pop("ApproximateReceiveCount", None)
        return answer

    proxy.rewrite(RECEIVE, drop_count)
    with structlog.testing.capture_logs() as logs:
        [message] = await inbox.receive(10, 1, 30)
    assert message.body == "a" and message.known_receive_count is None
    lines = [e for e in logs if e["event"] == "message.unreadable_attribute"]
    assert [(e["attribute"], e["reason"]) for e in lines] == [
        ("ApproximateReceiveCount", "missing")
    ]


async def test_an_entry_with_a_handle_but_no_text_body_is_made_visible_at_once(
    inbox: SqsInbox, queues: Queues, proxy: FaultProxy
) -> None:
    """A body answered as a number (a stand-in's bug): the entry is left out with one line,
    and released at once (visibility 0) since it has a receipt handle, not left hidden for
    its 600 s visibility; the good entry beside it is kept."""
    queues.send("good", "bad")

    def spoil(answer: dict[str, Any]) -> dict[str, Any]:
        for message in answer.get("Messages", []):
            if message["Body"] == "bad":
                message["Body"] = 5
        return answer

    proxy.rewrite(RECEIVE, spoil)
    with structlog.testing.capture_logs() as logs:
        messages = await inbox.receive(10, 1, 600)
    assert [m.body for m in messages] == ["good"]
    assert sum(e["event"] == "message.unreadable_entry" for e in logs) == 1
    assert proxy.requests(VISIBILITY) == 1
    proxy.rewrite(RECEIVE, lambda answer: answer)
    again = await inbox.receive(10, 1, 600)
    assert [m.body for m in again] == ["bad"]


async def test_an_answer_with_more_messages_than_asked_gives_the_extra_back_at_once(
    inbox: SqsInbox, queues: Queues, proxy: FaultProxy
) -> None:
    """A receive answered with more messages than it asked for (an endpoint ignoring
    MaxNumberOfMessages): only as many as asked are handed out, since each takes a worker
    slot; the rest are made visible again at once, with one line."""
    queues.send("a", "b", "c")
    async with loopback_aws_client("sqs", endpoint_url=queues.endpoint) as sqs:
        answer = await sqs.receive_message(QueueUrl=queues.url, MaxNumberOfMessages=10)
        await sqs.change_message_visibility_batch(
            QueueUrl=queues.url,
            Entries=[
                {"Id": str(i), "ReceiptHandle": m["ReceiptHandle"], "VisibilityTimeout": 0}
                for i, m in enumerate(answer["Messages"])
            ],
        )
    proxy.rewrite(RECEIVE, lambda _: {"Messages": answer["Messages"]})
    with structlog.testing.capture_logs() as logs:
        messages = await inbox.receive(2, 1, 600)
    assert len(answer["Messages"]) == 3
    assert len(messages) == 2
    assert [e["count"] for e in logs if e["event"] == "receive.over_asked"] == [3]
    assert proxy.requests(VISIBILITY) == 1
