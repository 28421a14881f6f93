"""SQS's fault corners, over moto through a fault proxy that rewrites or refuses its answers: a
visibility change refused because the delivery is no longer ours, DeleteMessageBatch failing
some entries, receive answers with empty or unencodable bodies, receives that throttle, and the
queue deleted while the daemon holds a message. The daemon never crashes, says each fault once,
backs off rather than spins, and does not work a message again that is no longer its own."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable, Iterator, MutableMapping, Sequence
from dataclasses import replace
from typing import Any

import pytest
import structlog
from botocore.config import Config

from daemon_harness import Queues
from fault_proxy import FaultProxy
from memory_inbox import MemoryInbox
from moto_speed import loopback_aws_client
from triage.errors import GatheringError, SinkThrottledError
from triage.incidents.lifecycle import Outcome
from triage.metrics import Metrics
from triage.sqs.inbox import Message, SqsInbox
from triage.sqs.supervisor import Progress, Supervisor, SupervisorConfig

RECEIVE = "AmazonSQS.ReceiveMessage"
VISIBILITY = "AmazonSQS.ChangeMessageVisibilityBatch"
DELETE = "AmazonSQS.DeleteMessageBatch"
#: One try per call: botocore's own retries would hide how often the daemon calls.
ONE_TRY = Config(retries={"total_max_attempts": 1, "mode": "standard"}, read_timeout=10)

Logs = Sequence[MutableMapping[str, Any]]


async def until(condition: Callable[[], bool], what: str, timeout_s: float = 10.0) -> None:
    """Wait for `condition`, at most `timeout_s`."""
    try:
        async with asyncio.timeout(timeout_s):
            while not condition():
                await asyncio.sleep(0.01)
    except TimeoutError:
        raise AssertionError(f"not within {timeout_s} s: {what}") from None


@pytest.fixture
def proxy(queues: Queues) -> Iterator[FaultProxy]:
    with FaultProxy(queues.endpoint) as p:
        yield p


@pytest.fixture
async def inbox(queues: Queues, proxy: FaultProxy) -> AsyncIterator[SqsInbox]:
    async with loopback_aws_client("sqs", endpoint_url=proxy.url, config=ONE_TRY) as client:
        yield SqsInbox(client, proxy.queue_url(queues.url), answer_slack_s=5)


def _config(**changes: object) -> SupervisorConfig:
    values: dict[str, object] = {
        "wait_s": 0,
        "retry_base_s": 0,
        "shutdown_grace_s": 1,
        "receive_retry_base_s": 0.1,
        "receive_retry_max_s": 0.4,
    }
    values.update(changes)
    return SupervisorConfig(**values)  # type: ignore[arg-type]


def _refuse_every_entry(code: str, *, sender_fault: bool = True) -> Callable[[Any], Any]:
    """A batch answer failing every entry moto took with SQS's `code`."""

    def rewrite(answer: dict[str, Any]) -> dict[str, Any]:
        done = answer.get("Successful", [])
        failed = [
            {"Id": e["Id"], "SenderFault": sender_fault, "Code": code, "Message": "x"} for e in done
        ]
        return {"Successful": [], "Failed": failed}

    return rewrite


def _events(logs: Logs, event: str, level: str | None = None) -> list[MutableMapping[str, Any]]:
    return [e for e in logs if e["event"] == event and level in (None, e["log_level"])]


def _at_warning(logs: Logs) -> list[str]:
    return [e["event"] for e in logs if e["log_level"] in ("warning", "error")]


# --- A delivery that is no longer ours --------------------------------------------------------


@pytest.mark.parametrize("code", ["ReceiptHandleIsInvalid", "MessageNotInflight"])
async def test_a_held_message_whose_delivery_is_lost_is_given_up_not_worked_again(
    code: str, inbox: SqsInbox, queues: Queues, proxy: FaultProxy
) -> None:
    """A message held through a throttle whose extension SQS refuses as no longer ours
    (deleted by another replica, or visible again and received elsewhere): the hold ends,
    the message is not worked again here, not released (SQS would refuse that too), not
    claimed as dead-lettered (it is whoever's has it now), and one warning names the code;
    the daemon goes on."""
    calls: list[str] = []

    async def handler(message: Message, _progress: Progress) -> list[Outcome]:
        calls.append(message.id)
        raise SinkThrottledError("429", retry_after_s=30)

    supervisor = Supervisor(_config(visibility_timeout_s=1), inbox, handler, Metrics())
    supervisor.max_receive_count = 1  # its last receive: still no dead letter claimed
    queues.send("a")
    proxy.rewrite(VISIBILITY, _refuse_every_entry(code))
    with structlog.testing.capture_logs() as logs:
        serving = asyncio.create_task(supervisor.serve())
        await until(lambda: bool(_events(logs, "message.delivery_lost")), "the delivery given up")
        await until(lambda: not supervisor._in_flight, "the message out of hand")
        supervisor.should_exit.set()
        await asyncio.wait_for(serving, 10)
    assert len(calls) == 1
    assert proxy.requests(VISIBILITY) == 1  # the refused extension; no release after it
    assert _at_warning(logs) == ["message.held", "message.visibility_failed"]
    assert supervisor.stats.retried == 0


async def test_a_message_at_work_whose_delivery_is_lost_is_finished_once(
    inbox: SqsInbox, queues: Queues, proxy: FaultProxy
) -> None:
    """A message whose extension is refused while its work goes on: the work is not cut off
    (its store claim would be left mid-effect) nor started again; it ends, and the one
    warning is the refusal's."""
    calls: list[str] = []
    refused = asyncio.Event()

    async def handler(message: Message, _progress: Progress) -> list[Outcome]:
        calls.append(message.id)
        await asyncio.wait_for(refused.wait(), 10)
        return []

    supervisor = Supervisor(_config(visibility_timeout_s=1), inbox, handler, Metrics())
    queues.send("a")
    proxy.rewrite(VISIBILITY, _refuse_every_entry("ReceiptHandleIsInvalid"))
    with structlog.testing.capture_logs() as logs:
        serving = asyncio.create_task(supervisor.serve())
        await until(lambda: bool(_events(logs, "message.visibility_failed")), "the refusal")
        refused.set()
        await until(lambda: not supervisor._in_flight, "the message out of hand")
        supervisor.should_exit.set()
        await asyncio.wait_for(serving, 10)
    assert len(calls) == 1
    assert _at_warning(logs) == ["message.visibility_failed"]


async def test_the_delete_of_a_lost_delivery_refused_too_says_nothing_more(
    inbox: SqsInbox, queues: Queues, proxy: FaultProxy
) -> None:
    """A message finished after SQS refused its extension as no longer ours, whose delete is
    then refused for the same stale receipt handle: the delete is still tried (a delivery
    visible again may still be deleted with it), counted as not deleted, but the refusal
    was said already: one warning in all, and no dead letter claimed for a delivery that is
    whoever's has it now, even on what was its last receive."""
    refused = asyncio.Event()

    async def handler(message: Message, _progress: Progress) -> list[Outcome]:
        await asyncio.wait_for(refused.wait(), 10)
        return []

    supervisor = Supervisor(_config(visibility_timeout_s=1), inbox, handler, Metrics())
    supervisor.max_receive_count = 1
    queues.send("a")
    proxy.rewrite(VISIBILITY, _refuse_every_entry("ReceiptHandleIsInvalid"))
    proxy.rewrite(DELETE, _refuse_every_entry("ReceiptHandleIsInvalid"))
    with structlog.testing.capture_logs() as logs:
        serving = asyncio.create_task(supervisor.serve())
        await until(lambda: bool(_events(logs, "message.visibility_failed")), "the refusal")
        refused.set()
        await until(lambda: supervisor.stats.delete_failed == 1, "the delete refused")
        supervisor.should_exit.set()
        await asyncio.wait_for(serving, 10)
    assert proxy.requests(DELETE) == 1
    assert _at_warning(logs) == ["message.visibility_failed"]
    assert not _events(logs, "message.dead_lettered")


# --- DeleteMessageBatch failing some entries --------------------------------------------------


def _acking(handled: list[str]) -> Callable[[Message, Progress], Any]:
    async def handler(message: Message, _progress: Progress) -> list[Outcome]:
        handled.append(message.body)
        return []

    return handler


async def test_a_delete_entry_sqs_fails_on_its_side_once_is_deleted_by_the_retry(
    inbox: SqsInbox, queues: Queues, proxy: FaultProxy
) -> None:
    """Of three deletes, SQS fails one once on its own side (SenderFault false, InternalError):
    the entry is sent once more at once and deleted, so all three are acked, none is worked
    again or counted as not deleted, and nothing is said above debug."""
    handled: list[str] = []
    supervisor = Supervisor(_config(visibility_timeout_s=1), inbox, _acking(handled), Metrics())
    proxy.fail_deletes(1)
    queues.send("a", "b", "c")
    with structlog.testing.capture_logs() as logs:
        serving = asyncio.create_task(supervisor.serve())
        await until(lambda: queues.depth() == 0, "every message deleted", 20)
        supervisor.should_exit.set()
        await asyncio.wait_for(serving, 10)
    [failed_id] = proxy.failed_deletes
    assert sorted(handled) == ["a", "b", "c"]
    assert supervisor.stats.acked == 3 and supervisor.stats.delete_failed == 0
    assert supervisor.stats.received == 3
    retried = _events(logs, "message.delete_retried")
    assert [(e["message_id"], e["log_level"]) for e in retried] == [(failed_id, "debug")]
    assert _at_warning(logs) == []


async def test_a_delete_entry_sqs_fails_twice_is_left_to_come_back_and_said_once(
    inbox: SqsInbox, queues: Queues, proxy: FaultProxy
) -> None:
    """A delete SQS fails twice running on its own side (its try and its one retry): the
    message is counted as not deleted (never as acked) and said in one warning naming it; it
    comes back after its visibility timeout and is handled again as a repeat, then deleted."""
    handled: list[str] = []
    supervisor = Supervisor(_config(visibility_timeout_s=1), inbox, _acking(handled), Metrics())
    proxy.fail_deletes(2)
    queues.send("a")
    with structlog.testing.capture_logs() as logs:
        serving = asyncio.create_task(supervisor.serve())
        await until(lambda: queues.depth() == 0, "the message deleted", 20)
        supervisor.should_exit.set()
        await asyncio.wait_for(serving, 10)
    failed_id, again = proxy.failed_deletes
    assert again == failed_id  # the retry sent the failed entry again
    assert handled == ["a", "a"]
    assert supervisor.stats.acked == 1 and supervisor.stats.delete_failed == 1
    said = _events(logs, "message.delete_failed")
    assert [(e["message_id"], e["log_level"]) for e in said] == [(failed_id, "warning")]
    assert _at_warning(logs) == ["message.delete_failed"]


@pytest.mark.parametrize("code", ["ReceiptHandleIsInvalid", "InvalidParameterValue"])
async def test_delete_entries_failed_as_the_senders_fault_are_each_said_once(
    code: str, inbox: SqsInbox, queues: Queues, proxy: FaultProxy
) -> None:
    """Every entry of a batch failed as the sender's fault (a stale receipt handle, a bad
    value): all reported not deleted, in one call, one warning per message naming the code."""
    queues.send("a", "b")
    messages = await inbox.receive(10, 1, 30)
    assert len(messages) == 2
    proxy.rewrite(DELETE, _refuse_every_entry(code))
    with structlog.testing.capture_logs() as logs:
        failed = await inbox.delete(messages)
    assert sorted(failed) == sorted(m.receipt_handle for m in messages)
    assert proxy.requests(DELETE) == 1
    said = _events(logs, "message.delete_failed", "warning")
    assert sorted(e["message_id"] for e in said) == sorted(m.id for m in messages)
    assert {e["code"] for e in said} == {code}


async def test_of_a_batch_only_the_entries_sqs_failed_on_its_side_are_sent_again(
    inbox: SqsInbox, queues: Queues, proxy: FaultProxy
) -> None:
    """One entry failed as the sender's fault (a stale receipt handle), one on SQS's side
    (InternalError), one deleted: the second call holds only the InternalError entry, which it
    deletes; the stale one is reported not deleted, one warning naming it and its code."""
    queues.send("a", "b", "c")
    messages = await inbox.receive(10, 1, 30)
    assert len(messages) == 3
    sizes: list[int] = []

    def fail_two_once(answer: dict[str, Any]) -> dict[str, Any]:
        done = answer.get("Successful", [])
        sizes.append(len(done) + len(answer.get("Failed", [])))
        if len(sizes) > 1:
            return answer
        faults = {"0": (True, "ReceiptHandleIsInvalid"), "1": (False, "InternalError")}
        failed = [
            {"Id": e["Id"], "SenderFault": faults[e["Id"]][0], "Code": faults[e["Id"]][1]}
            for e in done
            if e["Id"] in faults
        ]
        return {"Successful": [e for e in done if e["Id"] not in faults], "Failed": failed}

    proxy.rewrite(DELETE, fail_two_once)
    with structlog.testing.capture_logs() as logs:
        failed = await inbox.delete(messages)
    assert failed == [messages[0].receipt_handle]
    assert sizes == [3, 1]
    said = _events(logs, "message.delete_failed")
    assert [(e["message_id"], e["code"]) for e in said] == [
        (messages[0].id, "ReceiptHandleIsInvalid")
    ]
    assert [e["message_id"] for e in _events(logs, "message.delete_retried")] == [messages[1].id]


async def test_a_retry_of_failed_entries_that_sqs_refuses_whole_fails_only_those(
    inbox: SqsInbox, queues: Queues, proxy: FaultProxy
) -> None:
    """SQS fails two of three entries on its own side, then refuses the retry call whole: only
    those two are reported not deleted (the third was deleted), in one warning with the
    refusal's code; no third call is sent."""
    queues.send("a", "b", "c")
    messages = await inbox.receive(10, 1, 30)
    assert len(messages) == 3

    def fail_two_then_refuse(answer: dict[str, Any]) -> dict[str, Any]:
        done = answer.get("Successful", [])
        failed = [
            {"Id": e["Id"], "SenderFault": False, "Code": "InternalError"}
            for e in done
            if e["Id"] != "2"
        ]
        proxy.refuse(DELETE, 500, "InternalError")
        return {"Successful": [e for e in done if e["Id"] == "2"], "Failed": failed}

    proxy.rewrite(DELETE, fail_two_then_refuse)
    with structlog.testing.capture_logs() as logs:
        failed = await inbox.delete(messages)
    assert sorted(failed) == sorted(m.receipt_handle for m in messages[:2])
    assert proxy.requests(DELETE) == 2
    said = _events(logs, "message.delete_failed")
    assert [(e["log_level"], e["count"]) for e in said] == [("warning", 2)]
    assert "InternalError" in said[0]["error"]


# --- Bodies SQS should never send -------------------------------------------------------------


def _with_body(body: str) -> Callable[[Any], Any]:
    """A receive answer whose every message has `body`."""

    def rewrite(answer: dict[str, Any]) -> dict[str, Any]:
        for message in answer.get("Messages", []):
            message["Body"] = body
            message.pop("MD5OfBody", None)
        return answer

    return rewrite


async def test_an_empty_body_is_handed_out_for_the_pipeline_to_reject(
    inbox: SqsInbox, queues: Queues, proxy: FaultProxy
) -> None:
    """An empty Body is a message like any (the pipeline rejects it, towards the DLQ):
    handed out as "", its receipt handle kept, nothing said by the inbox."""
    queues.send("a")
    proxy.rewrite(RECEIVE, _with_body(""))
    with structlog.testing.capture_logs() as logs:
        [message] = await inbox.receive(10, 1, 30)
    assert message.body == "" and message.receipt_handle
    assert _at_warning(logs) == []


@pytest.mark.parametrize("body", ["\ud800 lone surrogate", "ok \udfff"])
async def test_a_body_that_is_no_utf8_text_is_made_visible_at_once_with_one_line(
    body: str, inbox: SqsInbox, queues: Queues, proxy: FaultProxy
) -> None:
    """A Body holding what no UTF-8 can carry (a lone surrogate, escaped in the JSON answer)
    cannot be hashed, logged or stored: it is not handed out but made visible again at once
    (the redrive policy moves it to the DLQ), with one line that holds none of the body."""
    queues.send("a")
    proxy.rewrite(RECEIVE, _with_body(body))
    with structlog.testing.capture_logs() as logs:
        messages = await inbox.receive(10, 1, 30)
    assert messages == []
    assert proxy.requests(VISIBILITY) == 1
    [said] = _events(logs, "message.unreadable_entry")
    assert said["log_level"] == "warning"
    assert "surrogate" not in repr({k: v for k, v in said.items() if k != "error"})
    assert body not in str(said)


async def test_attributes_that_are_no_utf8_text_are_left_out_with_one_line(
    inbox: SqsInbox, queues: Queues, proxy: FaultProxy
) -> None:
    """Message attributes whose name or value holds a lone surrogate are left out (the
    message and its other attributes kept), with one line that counts them, naming none,
    once per message: its next delivery says nothing more."""

    def rewrite(answer: dict[str, Any]) -> dict[str, Any]:
        for message in answer.get("Messages", []):
            message.pop("MD5OfMessageAttributes", None)
            message["MessageAttributes"] = {
                "team\ud800": {"DataType": "String", "StringValue": "x"},
                "source": {"DataType": "String", "StringValue": "v\udfff"},
                "good": {"DataType": "String", "StringValue": "kept"},
            }
        return answer

    queues.send("a")
    proxy.rewrite(RECEIVE, rewrite)
    with structlog.testing.capture_logs() as logs:
        [message] = await inbox.receive(10, 1, 0)
        [again] = await inbox.receive(10, 1, 30)
    assert message.body == "a" and dict(message.attributes) == {"good": "kept"}
    assert again.id == message.id
    [said] = _events(logs, "message.unreadable_attribute")
    assert said["log_level"] == "warning" and said["reason"] == "2 no UTF-8 text"
    assert "\ud800" not in str(said) and "\udfff" not in str(said)


async def test_a_daemon_given_such_a_body_goes_on_and_handles_the_next(
    inbox: SqsInbox, queues: Queues, proxy: FaultProxy
) -> None:
    """The daemon receiving an unencodable body hands the handler nothing of it and goes on:
    the next message, readable, is handled and deleted."""
    handled: list[str] = []
    supervisor = Supervisor(_config(), inbox, _acking(handled), Metrics())
    queues.send("a")
    proxy.rewrite(RECEIVE, _with_body("\ud800"))
    with structlog.testing.capture_logs():
        serving = asyncio.create_task(supervisor.serve())
        await until(lambda: proxy.requests(VISIBILITY) >= 1, "the bad entry given back")
        proxy.rewrite(RECEIVE, lambda answer: answer)
        await until(lambda: handled == ["a"], "the message handled once readable")
        await until(lambda: queues.depth() == 0, "the message deleted")
        supervisor.should_exit.set()
        await asyncio.wait_for(serving, 10)
    assert not serving.exception()


# --- Receives that throttle, a queue that goes away -------------------------------------------


@pytest.mark.parametrize(
    ("status", "code"),
    [
        (403, "OverLimit"),
        (400, "RequestThrottled"),
        (400, "AWS.SimpleQueueService.RequestThrottled"),
    ],
)
async def test_a_throttled_receive_backs_off_one_call_per_wait(
    status: int, code: str, inbox: SqsInbox, proxy: FaultProxy
) -> None:
    """Receives SQS throttles: each failure is followed by a wait that grows, and no other
    receive goes out meanwhile: counted at the proxy, exactly one receive per failure said,
    and the waits the failures name double (between half and all of 0.1, 0.2, 0.4 s)."""
    supervisor = Supervisor(_config(), inbox, _acking([]), Metrics())
    proxy.refuse(RECEIVE, status, code)
    with structlog.testing.capture_logs() as logs:
        serving = asyncio.create_task(supervisor.serve())
        await until(lambda: len(_events(logs, "receive.failed")) >= 4, "four failed receives")
        calls = proxy.requests(RECEIVE)
        failures = len(_events(logs, "receive.failed"))
        supervisor.should_exit.set()
        await asyncio.wait_for(serving, 10)
    assert calls == failures
    waits = [e["retry_in_s"] for e in _events(logs, "receive.failed")][:4]
    assert [0.05 <= waits[0] <= 0.1, 0.1 <= waits[1] <= 0.2, 0.2 <= waits[2] <= 0.4] == [True] * 3
    assert 0.2 <= waits[3] <= 0.4
    assert [e["log_level"] for e in _events(logs, "receive.failed")][:2] == ["warning", "debug"]


async def test_the_queue_deleted_with_a_message_in_hand_is_said_once_per_call_and_no_spin(
    inbox: SqsInbox, queues: Queues, proxy: FaultProxy
) -> None:
    """The queue deleted while a message is worked on: its extensions and its delete fail,
    the receives after it fail; each kind is one warning naming SQS's code, the receives back
    off (one call per failure said), and the daemon keeps running until told to stop."""
    finish = asyncio.Event()

    async def handler(message: Message, _progress: Progress) -> list[Outcome]:
        await asyncio.wait_for(finish.wait(), 10)
        return []

    supervisor = Supervisor(_config(visibility_timeout_s=1), inbox, handler, Metrics())
    queues.send("a")
    with structlog.testing.capture_logs() as logs:
        serving = asyncio.create_task(supervisor.serve())
        await until(lambda: supervisor.stats.received == 1, "the message received")
        queues.client().delete_queue(QueueUrl=queues.url)
        await until(lambda: bool(_events(logs, "message.visibility_failed")), "an extension")
        finish.set()
        await until(lambda: supervisor.stats.delete_failed == 1, "the delete failed")
        await until(lambda: bool(_events(logs, "receive.failed")), "a failed receive")
        first = (proxy.requests(RECEIVE), len(_events(logs, "receive.failed")))
        await until(lambda: len(_events(logs, "receive.failed")) >= first[1] + 3, "three more")
        then = (proxy.requests(RECEIVE), len(_events(logs, "receive.failed")))
        assert not serving.done()
        supervisor.should_exit.set()
        await asyncio.wait_for(serving, 10)
    # Counted at the proxy: from the first failure on, one receive per failure said (give or
    # take the one a snapshot may catch at the proxy before its failure is logged).
    assert abs((then[0] - first[0]) - (then[1] - first[1])) <= 1, (first, then)
    for event in ("message.visibility_failed", "message.delete_failed", "receive.failed"):
        warned = _events(logs, event, "warning")
        assert len(warned) == 1, (event, warned)
        assert "NonExistentQueue" in str(warned[0]) or "QueueDoesNotExist" in str(warned[0])


async def test_a_held_delivery_superseded_by_a_new_receive_here_is_given_up() -> None:
    """A message held through its group's gathering window (intake goes on meanwhile) whose
    visibility ran out (an extension SQS never applied) is received again by this daemon:
    the new delivery does the work, so the held one is given up at once, not tried again
    beside it when its wait ends, and never released with its stale handle."""
    calls: list[str] = []

    class ExpiringInbox(MemoryInbox):
        """Extensions are lost (recorded, never applied): the message shows again after the
        receive's own visibility timeout."""

        async def change_visibility(self, messages: Sequence[Message], timeout_s: int) -> None:
            self.visibility_calls += [(m.id, timeout_s) for m in messages]

    async def handler(message: Message, _progress: Progress) -> list[Outcome]:
        calls.append(message.receipt_handle)
        if len(calls) == 1:
            raise GatheringError("the group gathers", retry_after_s=30)
        return []

    inbox = ExpiringInbox()
    inbox.put("a")
    supervisor = Supervisor(_config(visibility_timeout_s=1), inbox, handler, Metrics())
    with structlog.testing.capture_logs() as logs:
        serving = asyncio.create_task(supervisor.serve())
        await until(lambda: inbox.deleted == ["m0"], "the second delivery handled")
        await until(lambda: not supervisor._in_flight, "both deliveries out of hand")
        supervisor.should_exit.set()
        await asyncio.wait_for(serving, 10)
    assert calls == ["rh-m0-1", "rh-m0-2"]
    assert [e["message_id"] for e in _events(logs, "message.delivery_lost")] == ["m0"]
    assert all(timeout_s > 0 for _, timeout_s in inbox.visibility_calls)  # never released


async def test_a_delivery_at_work_is_still_extended_when_a_copy_of_its_message_comes() -> None:
    """SQS's standard queues may hand out a second copy of a message while the first is
    still validly in flight: a delivery at work when another of its message comes is not
    taken for lost on that alone; the heartbeat goes on extending it (SQS, not a guess, says
    when it is lost), so it does not show again mid-work."""
    release = asyncio.Event()
    started: list[str] = []

    class CopyingInbox(MemoryInbox):
        """The second receive hands out a copy of the first message (a new receipt handle)
        while the first delivery is still hidden."""

        async def receive(self, max_messages: int, wait_s: int, visibility_s: int) -> list[Message]:
            got = await super().receive(max_messages, wait_s, visibility_s)
            if not got and len(started) == 1:
                return [replace(self.first, receipt_handle="rh-m0-copy", receive_count=2)]
            if got:
                self.first = got[0]
            return got

    async def handler(message: Message, _progress: Progress) -> list[Outcome]:
        started.append(message.receipt_handle)
        if message.receipt_handle == "rh-m0-1":
            await asyncio.wait_for(release.wait(), 10)
        return []

    inbox = CopyingInbox()
    inbox.put("a")
    supervisor = Supervisor(_config(visibility_timeout_s=1), inbox, handler, Metrics())

    def extensions() -> int:
        return sum(1 for mid, timeout_s in inbox.visibility_calls if timeout_s == 1)

    with structlog.testing.capture_logs() as logs:
        serving = asyncio.create_task(supervisor.serve())
        await until(lambda: started == ["rh-m0-1", "rh-m0-copy"], "the copy started")
        seen = extensions()
        await until(lambda: extensions() >= seen + 2, "the first delivery extended on")
        release.set()
        await until(lambda: not supervisor._in_flight, "both deliveries out of hand")
        supervisor.should_exit.set()
        await asyncio.wait_for(serving, 10)
    assert not _events(logs, "message.delivery_lost")
