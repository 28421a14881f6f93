"""The SQS calls other than receive under faults, through a fault proxy in front of moto:
one that SQS takes and never answers fails within the inbox's bound (a delete or a depth
as an InboxError, a visibility change as one log line), so the heartbeat, the acker and
--drain go on instead of waiting out botocore's minutes of read timeouts and retries."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable, Iterator
from typing import Any

import pytest
import structlog
from botocore.config import Config

from daemon_harness import Queues
from fault_proxy import FaultProxy
from moto_speed import loopback_aws_client
from triage.errors import InboxError
from triage.sqs.inbox import SqsInbox

#: botocore as the daemon has it: a read timeout past the long poll, retries.
DAEMON_LIKE = Config(retries={"max_attempts": 3, "mode": "standard"}, read_timeout=30)
VISIBILITY = "AmazonSQS.ChangeMessageVisibilityBatch"
DELETE = "AmazonSQS.DeleteMessageBatch"
DEPTH = "AmazonSQS.GetQueueAttributes"
#: The inbox's bound here: far below the proxy's 30 s hold, above a loaded moto's answer.
SLACK_S = 1.0


@pytest.fixture
def proxy(queues: Queues) -> Iterator[FaultProxy]:
    with FaultProxy(queues.endpoint) as p:
        yield p


@pytest.fixture
async def inbox(queues: Queues, proxy: FaultProxy) -> AsyncIterator[SqsInbox]:
    async with loopback_aws_client("sqs", endpoint_url=proxy.url, config=DAEMON_LIKE) as client:
        yield SqsInbox(client, proxy.queue_url(queues.url), answer_slack_s=SLACK_S)


async def test_a_visibility_change_sqs_never_answers_is_one_line_within_the_bound(
    inbox: SqsInbox, queues: Queues, proxy: FaultProxy
) -> None:
    """ChangeMessageVisibilityBatch held for 30 s returns once the inbox's bound has passed,
    with one `message.visibility_failed` line naming the wait (the heartbeat goes on)."""
    queues.send("a")
    messages = await inbox.receive(10, 1, 30)
    assert len(messages) == 1
    proxy.delay(VISIBILITY, 30)
    try:
        with structlog.testing.capture_logs() as logs:
            await asyncio.wait_for(inbox.change_visibility(messages, 60), 10)
    finally:
        proxy.delay(VISIBILITY, 0)
    failed = [e for e in logs if e["event"] == "message.visibility_failed"]
    assert [(e["count"], e["error"]) for e in failed] == [
        (1, "change_message_visibility failed: no answer within 1 s")
    ]


async def test_a_delete_sqs_never_answers_is_an_inbox_error_within_the_bound(
    inbox: SqsInbox, queues: Queues, proxy: FaultProxy
) -> None:
    """DeleteMessageBatch held for 30 s raises InboxError once the bound has passed (the
    acker counts the batch not deleted: its messages come back as repeats)."""
    queues.send("a")
    messages = await inbox.receive(10, 1, 30)
    assert len(messages) == 1
    proxy.delay(DELETE, 30)
    try:
        with pytest.raises(InboxError, match=r"delete failed: no answer within 1 s"):
            await asyncio.wait_for(inbox.delete(messages), 10)
    finally:
        proxy.delay(DELETE, 0)


async def test_a_depth_sqs_never_answers_is_an_inbox_error_within_the_bound(
    inbox: SqsInbox, proxy: FaultProxy
) -> None:
    """GetQueueAttributes held for 30 s raises InboxError once the bound has passed."""
    proxy.delay(DEPTH, 30)
    try:
        with pytest.raises(InboxError, match=r"get_queue_attributes failed: no answer within"):
            await asyncio.wait_for(inbox.depth(), 10)
    finally:
        proxy.delay(DEPTH, 0)


def _refuse_every_entry(code: str) -> Callable[[dict[str, Any]], dict[str, Any]]:
    """A ChangeMessageVisibilityBatch answer failing every entry with SQS's `code`."""

    def rewrite(answer: dict[str, Any]) -> dict[str, Any]:
        done = answer.get("Successful", [])
        failed = [{"Id": e["Id"], "SenderFault": True, "Code": code, "Message": "x"} for e in done]
        return {"Successful": [], "Failed": failed}

    return rewrite


@pytest.mark.parametrize("code", ["ReceiptHandleIsInvalid", "MessageNotInflight"])
async def test_a_delivery_sqs_no_longer_holds_is_said_once_and_not_extended_again(
    code: str, inbox: SqsInbox, queues: Queues, proxy: FaultProxy
) -> None:
    """A visibility change SQS refuses for a delivery (its receipt handle expired, or the
    message is no longer in flight) is one warning naming the code; the heartbeat's later
    extensions of that delivery are not sent again (nothing can revive it), while another
    delivery's still are."""
    queues.send("a", "b")
    first, second = await inbox.receive(1, 1, 30), await inbox.receive(1, 1, 30)
    proxy.rewrite(VISIBILITY, _refuse_every_entry(code))
    with structlog.testing.capture_logs() as logs:
        for _ in range(3):
            await inbox.change_visibility(first, 30)
        proxy.rewrite(VISIBILITY, lambda answer: answer)
        await inbox.change_visibility([*first, *second], 30)
    failed = [e for e in logs if e["event"] == "message.visibility_failed"]
    assert [(e["message_id"], e["code"]) for e in failed] == [(first[0].id, code)]
    assert proxy.requests(VISIBILITY) == 2  # the first refusal, and the second delivery's


async def test_a_refusal_whose_code_is_no_text_is_one_line_and_the_delivery_kept(
    inbox: SqsInbox, queues: Queues, proxy: FaultProxy
) -> None:
    """A Failed entry whose Code is a list (a stand-in's answer): one warning, nothing
    raised, and the delivery is still extended by the next call (nothing said it is gone)."""
    queues.send("a")
    messages = await inbox.receive(1, 1, 30)
    proxy.rewrite(VISIBILITY, lambda answer: {"Failed": [{"Id": "0", "Code": ["x"]}]})
    with structlog.testing.capture_logs() as logs:
        await inbox.change_visibility(messages, 30)
        await inbox.change_visibility(messages, 30)
    assert sum(e["event"] == "message.visibility_failed" for e in logs) == 2
    assert proxy.requests(VISIBILITY) == 2


async def test_visibility_calls_failing_in_an_outage_are_one_warning(
    queues: Queues, proxy: FaultProxy
) -> None:
    """ChangeMessageVisibilityBatch refused over and over for the same reason (each heartbeat
    of an SQS outage) is one warning, the repeats debug; once a call answers, the next
    outage warns again."""
    # One attempt per call: botocore's retries with backoff only make each refusal slower (on
    # a loaded machine past the bound, which would be another reason).
    once = Config(retries={"total_max_attempts": 1, "mode": "standard"}, read_timeout=30)
    async with loopback_aws_client("sqs", endpoint_url=proxy.url, config=once) as client:
        inbox = SqsInbox(client, proxy.queue_url(queues.url), answer_slack_s=SLACK_S)
        queues.send("a")
        messages = await inbox.receive(1, 1, 30)
        with structlog.testing.capture_logs() as logs:
            proxy.refuse(VISIBILITY, 500, "InternalError")
            for _ in range(3):
                await inbox.change_visibility(messages, 30)
            proxy.heal(VISIBILITY)
            await inbox.change_visibility(messages, 30)
            proxy.refuse(VISIBILITY, 500, "InternalError")
            await inbox.change_visibility(messages, 30)
    levels = [e["log_level"] for e in logs if e["event"] == "message.visibility_failed"]
    assert levels == ["warning", "debug", "debug", "warning"]
