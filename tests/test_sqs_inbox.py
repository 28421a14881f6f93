"""The SQS inbox against moto through a fault proxy: whatever a 200 answer holds, the inbox
keeps what it can read, says what it could not, and never raises anything but InboxError."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from typing import Any

import boto3
import pytest
import structlog

from daemon_harness import Queues, make_queues
from fault_proxy import FaultProxy
from moto_speed import loopback_aws_client
from triage.errors import InboxError
from triage.sqs.inbox import SqsInbox


@pytest.fixture
def queue(moto_url: str) -> Queues:
    return make_queues(moto_url)


@pytest.fixture
def proxy(queue: Queues) -> Iterator[FaultProxy]:
    with FaultProxy(queue.endpoint) as p:
        yield p


@pytest.fixture
async def inbox(queue: Queues, proxy: FaultProxy) -> AsyncIterator[SqsInbox]:
    async with loopback_aws_client("sqs", endpoint_url=proxy.url) as sqs:
        yield SqsInbox(sqs, proxy.queue_url(queue.url))


def _send(inbox: SqsInbox, queue: Queues, *bodies: str) -> None:
    sqs = boto3.client("sqs", endpoint_url=queue.endpoint, region_name="us-east-1")
    for body in bodies:
        sqs.send_message(QueueUrl=queue.url, MessageBody=body)


def _each_message(change: Any) -> Any:
    def rewrite(answer: dict[str, Any]) -> dict[str, Any]:
        answer["Messages"] = [change(m) for m in answer.get("Messages", [])]
        return answer

    return rewrite


async def test_unreadable_receive_count_and_sent_time_keep_the_message(
    inbox: SqsInbox, queue: Queues, proxy: FaultProxy
) -> None:
    """A receive count or a sent time that is no number is left out with a log line; the
    message itself is still handed out (it used to raise ValueError and stop the daemon)."""
    _send(inbox, queue, "a", "b", "c")
    garbage = iter(["x7", "1e3", "٣"])

    def spoil(message: dict[str, Any]) -> dict[str, Any]:
        value = next(garbage)
        message["Attributes"] = {"ApproximateReceiveCount": value, "SentTimestamp": value}
        return message

    proxy.rewrite("AmazonSQS.ReceiveMessage", _each_message(spoil))
    with structlog.testing.capture_logs() as logs:
        messages = await inbox.receive(10, 0, 30)
    assert sorted(m.body for m in messages) == ["a", "b", "c"]
    assert all(m.known_receive_count is None and m.sent_at is None for m in messages)
    unreadable = [e for e in logs if e["event"] == "message.unreadable_attribute"]
    assert len(unreadable) == 6


async def test_a_sent_time_beyond_any_calendar_is_left_out(
    inbox: SqsInbox, queue: Queues, proxy: FaultProxy
) -> None:
    """A SentTimestamp of 10**17 ms (past year 9999) reads as no sent time, not an error."""
    _send(inbox, queue, "a")
    proxy.rewrite(
        "AmazonSQS.ReceiveMessage",
        _each_message(lambda m: {**m, "Attributes": {"SentTimestamp": str(10**17)}}),
    )
    [message] = await inbox.receive(10, 0, 30)
    assert message.sent_at is None


async def test_entries_without_an_id_or_a_handle_are_skipped_and_the_rest_kept(
    inbox: SqsInbox, queue: Queues, proxy: FaultProxy
) -> None:
    """An entry the inbox could never delete (no receipt handle) or name (no id) is logged and
    left to come back; the good entries of the answer are kept."""
    _send(inbox, queue, "good", "no-handle", "no-id")

    def spoil(answer: dict[str, Any]) -> dict[str, Any]:
        out: list[Any] = []
        for m in answer["Messages"]:
            if m["Body"] == "no-handle":
                m.pop("ReceiptHandle")
            if m["Body"] == "no-id":
                m["MessageId"] = None
            out.append(m)
        answer["Messages"] = out
        return answer

    proxy.rewrite("AmazonSQS.ReceiveMessage", spoil)
    with structlog.testing.capture_logs() as logs:
        messages = await inbox.receive(10, 0, 30)
    assert [m.body for m in messages] == ["good"]
    assert sum(e["event"] == "message.unreadable_entry" for e in logs) == 2


@pytest.mark.parametrize(
    "answer",
    [{"Messages": {"a": 1}}, {"Messages": 7}, {"Messages": ["junk"]}, {"Messages": [[]]}],
)
async def test_an_answer_that_does_not_fit_the_api_is_an_inbox_error(
    inbox: SqsInbox, queue: Queues, proxy: FaultProxy, answer: dict[str, Any]
) -> None:
    """A 200 whose shape botocore cannot read (it raises AttributeError or TypeError) is an
    InboxError, which the supervisor backs off from and logs, not a crash of the daemon."""
    _send(inbox, queue, "a")
    proxy.rewrite("AmazonSQS.ReceiveMessage", lambda _: answer)
    with pytest.raises(InboxError, match="receive failed"):
        await inbox.receive(10, 0, 30)


async def test_failed_delete_entries_naming_no_message_are_logged_not_raised(
    inbox: SqsInbox, queue: Queues, proxy: FaultProxy
) -> None:
    """A DeleteMessageBatch answer whose Failed entries name ids it was never sent ("99",
    "x", "01", none) is logged; the entry that names a message of the batch is reported."""
    _send(inbox, queue, "a", "b")
    messages = await inbox.receive(10, 0, 30)
    failed = [{"Id": "99"}, {"Id": "x"}, {"Id": "01"}, {}, {"Id": "1", "Code": "InternalError"}]
    proxy.rewrite("AmazonSQS.DeleteMessageBatch", lambda answer: {**answer, "Failed": failed})
    with structlog.testing.capture_logs() as logs:
        assert await inbox.delete(messages) == [messages[1].receipt_handle]
    assert sum(e["event"] == "aws.batch_entry_unknown" for e in logs) == 4


async def test_a_delete_answer_that_does_not_fit_the_api_is_an_inbox_error(
    inbox: SqsInbox, queue: Queues, proxy: FaultProxy
) -> None:
    """A Failed list holding what is no entry is an InboxError: the acker counts the batch as
    not deleted (the messages come back and are seen as repeats), and the daemon goes on."""
    _send(inbox, queue, "a")
    messages = await inbox.receive(10, 0, 30)
    proxy.rewrite("AmazonSQS.DeleteMessageBatch", lambda answer: {"Failed": ["junk"]})
    with pytest.raises(InboxError, match="delete failed"):
        await inbox.delete(messages)


async def test_visibility_failures_naming_no_message_are_logged_not_raised(
    inbox: SqsInbox, queue: Queues, proxy: FaultProxy
) -> None:
    """The same for ChangeMessageVisibilityBatch: an unknown Failed id is one log line."""
    _send(inbox, queue, "a")
    messages = await inbox.receive(10, 0, 30)
    proxy.rewrite(
        "AmazonSQS.ChangeMessageVisibilityBatch", lambda answer: {"Failed": [{"Id": "-1"}]}
    )
    with structlog.testing.capture_logs() as logs:
        await inbox.change_visibility(messages, 60)
    assert [e["event"] for e in logs] == ["aws.batch_entry_unknown"]


async def test_queue_depth_that_is_no_number_is_an_inbox_error(
    inbox: SqsInbox, proxy: FaultProxy
) -> None:
    """A queue attribute answered as no count is an InboxError, not a ValueError."""
    proxy.rewrite(
        "AmazonSQS.GetQueueAttributes",
        lambda answer: {"Attributes": {"ApproximateNumberOfMessages": "many"}},
    )
    with pytest.raises(InboxError, match="not a count"):
        await inbox.depth()


async def test_a_delete_answer_that_confirms_nothing_counts_nothing_deleted(
    inbox: SqsInbox, queue: Queues, proxy: FaultProxy
) -> None:
    """DeleteMessageBatch answered `{}` confirmed no entry: each is reported not deleted (it
    comes back and is seen as a repeat), instead of being counted acked."""
    _send(inbox, queue, "a", "b")
    messages = await inbox.receive(10, 0, 30)
    proxy.rewrite("AmazonSQS.DeleteMessageBatch", lambda answer: {})
    with structlog.testing.capture_logs() as logs:
        assert sorted(await inbox.delete(messages)) == sorted(m.receipt_handle for m in messages)
    assert sum(e["event"] == "message.delete_unconfirmed" for e in logs) == 2
