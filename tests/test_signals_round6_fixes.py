"""The fixes of red team round 6's signals bugs (tests/test_redteam_round6_signals.py), each
checked from another side: a delete's failure names the delivery, not the message; a DLQ that
does not answer leaves the queue's depth alone; a stopped acker answers every delete it holds;
a dry run's held messages count as in flight; a send SQS refuses as not allowed makes the
gateway not ready."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable, Sequence
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

from botocore.exceptions import ClientError
from structlog.testing import capture_logs

from memory_inbox import MemoryInbox
from triage.errors import InboxError
from triage.health import Health
from triage.ingest.outbox import Outgoing, QueueUnavailable, SqsOutbox
from triage.ingest.probe import QueueProbe
from triage.metrics import Metrics
from triage.sqs.acker import Acker
from triage.sqs.depth import DepthPoller
from triage.sqs.inbox import Message, SqsInbox
from triage.sqs.supervisor import Supervisor, SupervisorConfig

QUEUE_URL = "https://sqs.eu-west-1.amazonaws.com/123456789012/alerts"
DLQ_URL = "https://sqs.eu-west-1.amazonaws.com/123456789012/alerts-dlq"
DLQ_ARN = "arn:aws:sqs:eu-west-1:123456789012:alerts-dlq"


async def _until(condition: Callable[[], bool], what: str, timeout_s: float = 10.0) -> None:
    """Wait for `condition()` to hold, at most `timeout_s`."""
    try:
        async with asyncio.timeout(timeout_s):
            while not condition():
                await asyncio.sleep(0.01)
    except TimeoutError:
        raise AssertionError(f"not within {timeout_s} s: {what}") from None


def _delivery(handle: str, receive_count: int = 1, mid: str = "m-1") -> Message:
    return Message(
        id=mid,
        body='{"alert": 1}',
        receipt_handle=handle,
        receive_count=receive_count,
        sent_at=datetime.now(UTC),
    )


# --- A failed delete names the delivery -------------------------------------------------------


class _FailsFirstEntry:
    """DeleteMessageBatch in memory: the batch's first entry fails as a stale receipt handle,
    the rest are deleted."""

    async def delete_message_batch(self, QueueUrl: str, Entries: list[dict[str, str]]) -> Any:
        stale = {"Id": "0", "SenderFault": True, "Code": "ReceiptHandleIsInvalid"}
        return {"Successful": [{"Id": e["Id"]} for e in Entries[1:]], "Failed": [stale]}


async def test_sqs_inbox_names_the_delivery_sqs_failed_not_its_message() -> None:
    """Two deliveries of one message in one DeleteMessageBatch, the older one stale: the inbox
    answers the stale delivery's receipt handle alone, not the id both share."""
    inbox = SqsInbox(_FailsFirstEntry(), QUEUE_URL)
    failed = await inbox.delete([_delivery("rh-old", 1), _delivery("rh-new", 2)])
    assert failed == ["rh-old"]


class _RecordingInbox:
    """An inbox whose delete answers what it is told to, and records the batches."""

    def __init__(self, answer: Callable[[Sequence[Message]], list[str]]) -> None:
        self.answer = answer
        self.batches: list[list[str]] = []

    async def delete(self, messages: Sequence[Message]) -> list[str]:
        self.batches.append([m.receipt_handle for m in messages])
        return self.answer(messages)


async def _delete_together(inbox: _RecordingInbox, *messages: Message) -> list[bool]:
    """Each message's delete answer, all sent in one batch."""
    acker = Acker(inbox, linger_s=60)  # type: ignore[arg-type]
    runner = asyncio.create_task(acker.run())
    try:
        deletes = asyncio.gather(*(acker.delete(m) for m in messages))
        await asyncio.sleep(0)  # every delete is queued before the batch leaves
        await acker.stop()
        answers = await asyncio.wait_for(deletes, 10)
    finally:
        await asyncio.wait_for(runner, 10)
    assert len(inbox.batches) == 1
    return list(answers)


async def test_the_acker_reports_undeleted_only_the_delivery_the_inbox_named() -> None:
    """The inbox names the stale delivery's receipt handle: that worker hears "not deleted",
    the worker of the newer delivery of the same message hears "deleted"."""
    inbox = _RecordingInbox(lambda ms: [m.receipt_handle for m in ms if m.receipt_handle == "a"])
    answers = await _delete_together(inbox, _delivery("a", 1), _delivery("b", 2))
    assert answers == [False, True]


async def test_an_inbox_that_names_failures_by_message_id_is_never_read_as_deleted() -> None:
    """An inbox written to the old contract names a failure by message id: every delivery of
    that message is reported not deleted (never a delete confirmed that was not), and the
    other message is deleted."""
    inbox = _RecordingInbox(lambda ms: ["m-1"])
    answers = await _delete_together(
        inbox, _delivery("a", 1), _delivery("b", 2), _delivery("c", 1, mid="m-2")
    )
    assert answers == [False, False, True]


# --- The DLQ's depth apart from the queue's ---------------------------------------------------


class _QueueWithDlq:
    """GetQueueAttributes in memory: the queue answers 7 waiting and its RedrivePolicy; the
    DLQ answers 3, or fails as `dlq` says (an exception to raise, or "hang")."""

    def __init__(self) -> None:
        self.dlq: BaseException | str | None = None

    async def get_queue_attributes(self, QueueUrl: str, **_: Any) -> dict[str, Any]:
        if QueueUrl == QUEUE_URL:
            policy = json.dumps({"deadLetterTargetArn": DLQ_ARN, "maxReceiveCount": 5})
            return {"Attributes": {"ApproximateNumberOfMessages": "7", "RedrivePolicy": policy}}
        if self.dlq == "hang":
            await asyncio.Event().wait()
        if isinstance(self.dlq, BaseException):
            raise self.dlq
        return {"Attributes": {"ApproximateNumberOfMessages": "3"}}


def _gauges(metrics: Metrics) -> dict[str, float]:
    return {name: gauge.value for (name, _), gauge in metrics.gauges().items()}


def _gone() -> ClientError:
    error = {"Error": {"Code": "AWS.SimpleQueueService.NonExistentQueue", "Message": "gone"}}
    return ClientError(error, "GetQueueAttributes")  # type: ignore[arg-type]


async def test_a_dlq_that_fails_is_one_warning_naming_it_and_one_line_when_it_answers() -> None:
    """The DLQ fails two polls, then answers: the queue's depth stands all along, the DLQ's
    gauge is unknown (absent) while it fails, one warning names the DLQ, the second failure
    says nothing above debug, one info line says it answers again; no poll counts failed."""
    sqs, metrics = _QueueWithDlq(), Metrics()
    poller = DepthPoller(sqs, QUEUE_URL, metrics, interval_s=60)
    await poller.poll()
    assert _gauges(metrics)["DlqMessagesVisible"] == 3
    sqs.dlq = _gone()
    with capture_logs() as logs:
        failing = [await poller.poll(), await poller.poll()]
        gauges_failing = _gauges(metrics)
        sqs.dlq = None
        await poller.poll()
    assert [d.queue.visible if d else None for d in failing] == [7, 7]
    assert gauges_failing["QueueMessagesVisible"] == 7
    assert "DlqMessagesVisible" not in gauges_failing
    assert _gauges(metrics)["DlqMessagesVisible"] == 3
    loud = [(e["event"], e.get("dlq")) for e in logs if e["log_level"] in {"warning", "info"}]
    assert loud == [
        ("queue_depth.dlq_unreadable", "alerts-dlq"),
        ("queue_depth.dlq_recovered", "alerts-dlq"),
    ]
    assert metrics.counter("QueueDepthPollFailures") == 0
    assert poller.failed_polls == 0


async def test_a_dlq_that_never_answers_leaves_the_queue_depth_sqs_answered() -> None:
    """The DLQ's call hangs past the poll's bound: the poll still ends with the queue's
    depth, and the DLQ's gauge is unknown, not the last count."""
    sqs, metrics = _QueueWithDlq(), Metrics()
    poller = DepthPoller(sqs, QUEUE_URL, metrics, interval_s=60, timeout_s=0.2)
    await poller.poll()
    sqs.dlq = "hang"
    depths = await asyncio.wait_for(poller.poll(), 10)
    assert depths is not None and depths.queue.visible == 7 and depths.dlq_visible is None
    assert depths.dlq_error is not None
    gauges = _gauges(metrics)
    assert gauges["QueueMessagesVisible"] == 7
    assert "DlqMessagesVisible" not in gauges


# --- A stopped acker answers every delete -----------------------------------------------------


class _DeletesHang:
    """DeleteMessageBatch takes the call and never answers; records each call's size."""

    def __init__(self) -> None:
        self.calls: list[int] = []

    async def delete(self, messages: Sequence[Message]) -> list[str]:
        self.calls.append(len(messages))
        await asyncio.Event().wait()
        return []


async def test_a_cancelled_acker_answers_not_deleted_to_every_delete_it_held() -> None:
    """The acker is cancelled with MAX_CALLS calls out, a batch waiting for a call slot and
    more queued: every delete is answered False, and one line says how many were cut off and
    how many of them were never sent."""
    inbox = _DeletesHang()
    acker = Acker(inbox, linger_s=0)  # type: ignore[arg-type]
    runner = asyncio.create_task(acker.run())
    total = Acker.MAX_CALLS * 10 + 15
    deletes = [
        asyncio.create_task(acker.delete(_delivery(f"rh-{i}", mid=f"m-{i}"))) for i in range(total)
    ]
    await _until(lambda: sum(inbox.calls) == Acker.MAX_CALLS * 10, "the most calls out")
    with capture_logs() as logs:
        await acker.stop()
        runner.cancel()
        await asyncio.gather(runner, return_exceptions=True)
        answers = await asyncio.wait_for(asyncio.gather(*deletes), 10)
    assert answers == [False] * total
    unsent = [e for e in logs if e["event"] == "message.delete_failed"]
    assert [(e["log_level"], e["count"], e["unsent"]) for e in unsent] == [("warning", total, 15)]


async def test_a_delete_asked_of_a_stopped_acker_is_answered_at_once() -> None:
    """A worker that finishes after the acker stopped hears "not deleted" instead of waiting
    for a batch that will never leave."""
    acker = Acker(MemoryInbox())
    runner = asyncio.create_task(acker.run())
    await acker.stop()
    await asyncio.wait_for(runner, 10)
    assert await asyncio.wait_for(acker.delete(_delivery("rh-late")), 10) is False


# --- A dry run's held messages are in flight --------------------------------------------------


async def test_a_dry_runs_held_messages_count_in_flight_until_it_releases_them() -> None:
    """A dry run holds its message after one pass: MessagesInFlight counts it and
    OldestMessageAge is its age while held; once the stop releases it, both are 0."""
    inbox = MemoryInbox()
    (mid,) = inbox.put(json.dumps({"title": "alert"}))
    entry = inbox.entries[mid]
    entry.message = replace(entry.message, sent_at=datetime.now(UTC) - timedelta(minutes=10))
    handled: list[str] = []

    async def handler(message: Message, _progress: Any) -> list[Any]:
        handled.append(message.id)
        return []

    metrics = Metrics()
    config = SupervisorConfig(wait_s=0, shutdown_grace_s=0.5, dry_run=True)
    supervisor = Supervisor(config, inbox, handler, metrics)
    serving = asyncio.create_task(supervisor.serve())
    try:
        await _until(lambda: len(supervisor._dry_held) == 1, "the message held by the dry run")
        await _until(lambda: not supervisor._in_flight, "its pass over")
        held = _gauges(metrics)
    finally:
        supervisor.should_exit.set()
        await asyncio.wait_for(serving, 20)
    assert handled == [mid]
    assert held["MessagesInFlight"] == 1
    assert held["OldestMessageAge"] >= 540
    released = _gauges(metrics)
    assert released["MessagesInFlight"] == 0
    assert released["OldestMessageAge"] == 0


# --- A send SQS refuses as not allowed ---------------------------------------------------------


class _Watch:
    """A SendWatch that records what it is told."""

    def __init__(self) -> None:
        self.told: list[tuple[str, str]] = []

    def kms_refused(self, code: str) -> None:
        self.told.append(("kms_refused", code))

    def send_refused(self, code: str) -> None:
        self.told.append(("send_refused", code))

    def unreachable(self, code: str) -> None:
        self.told.append(("unreachable", code))

    def sent(self) -> None:
        self.told.append(("sent", ""))


class _BatchRefusedEntries:
    """SendMessageBatch in memory: every entry failed as AccessDenied, SenderFault true (as
    SQS marks a 4xx)."""

    async def send_message_batch(self, QueueUrl: str, Entries: list[dict[str, Any]]) -> Any:
        await asyncio.sleep(0.05)  # long enough for the other sends to gather behind it
        failed = [
            {"Id": e["Id"], "SenderFault": True, "Code": "AccessDenied", "Message": "no"}
            for e in Entries
        ]
        return {"Successful": [], "Failed": failed}

    async def send_message(self, QueueUrl: str, **_: Any) -> Any:
        await asyncio.sleep(0.05)
        error = {"Error": {"Code": "AccessDenied", "Message": "not authorized"}}
        raise ClientError(error, "SendMessage")  # type: ignore[arg-type]


async def test_batch_entries_refused_as_not_allowed_are_a_wait_and_told_to_the_probe() -> None:
    """Entries SQS fails as AccessDenied (SenderFault true) are no fault of the body: each
    sender gets QueueUnavailable (503, retry), not MessageRejected (422, dropped), and the
    watch hears `send_refused` for each, whether sent alone or in a batch."""
    watch = _Watch()
    outbox = SqsOutbox(_BatchRefusedEntries(), QUEUE_URL, watch=watch, linger_s=0.01)
    sends = [outbox.send(Outgoing.of(f"body {i}", {})) for i in range(4)]
    answers = await asyncio.gather(*sends, return_exceptions=True)
    assert all(isinstance(a, QueueUnavailable) for a in answers)
    assert set(watch.told) == {("send_refused", "AccessDenied")}
    assert len(watch.told) == 4


def test_a_refused_send_marks_the_queue_refused_until_a_send_succeeds() -> None:
    """The probe told of a refused send: the `queue` condition fails as `refused` (one
    warning naming what to grant, none for the next), though the queue answers; a send that
    succeeds makes it ready again, with one info line."""
    health = Health()
    probe = QueueProbe(object(), QUEUE_URL, health=health)
    probe.ok = True  # GetQueueAttributes answered
    probe._report()
    assert health.ready
    with capture_logs() as logs:
        probe.send_refused("AccessDenied")
        probe.send_refused("AccessDenied")
        refused = health.failing()
        probe.sent()
    assert refused == {"queue": "refused: AccessDenied"}
    assert health.ready
    loud = [e for e in logs if e["log_level"] in {"warning", "info"}]
    assert [(e["event"], e["log_level"]) for e in loud] == [
        ("ingest.queue_send_refused", "warning"),
        ("ingest.queue_send_ok", "info"),
    ]
    assert "sqs:SendMessage" in loud[0]["hint"]


# --- The daemon while every delete is refused -------------------------------------------------


class _DeletesRefused(MemoryInbox):
    """The in-memory queue, but DeleteMessageBatch fails as the SQS inbox says it, with
    `code` (AccessDenied: the daemon's role lacks sqs:DeleteMessage), until `allow` is set."""

    def __init__(self, code: str = "AccessDenied") -> None:
        super().__init__()
        self.code = code
        self.allow = False

    async def delete(self, messages: Sequence[Message]) -> list[str]:
        if not self.allow:
            error = {"Error": {"Code": self.code, "Message": "no"}}
            cause = ClientError(error, "DeleteMessageBatch")  # type: ignore[arg-type]
            raise InboxError(f"delete failed: {self.code}: no") from cause
        return await super().delete(messages)


async def test_deletes_refused_as_not_allowed_make_the_daemon_not_ready_until_one_works() -> None:
    """Every delete refused (AccessDenied) while receives work: the daemon is not ready, its
    `queue_deletes` condition naming the refusal, until a delete call succeeds."""
    health = Health()
    inbox = _DeletesRefused()
    acker = Acker(inbox, linger_s=0, health=health)
    runner = asyncio.create_task(acker.run())
    try:
        assert await acker.delete(_delivery("rh-1")) is False
        refused = health.failing()
        inbox.allow = True
        assert await acker.delete(_delivery("rh-2", mid="m-2")) is True
    finally:
        await acker.stop()
        await asyncio.wait_for(runner, 10)
    assert refused == {"queue_deletes": "refused: AccessDenied"}
    assert health.ready


async def test_a_delete_refusal_lapses_so_an_idle_daemon_is_not_kept_unready() -> None:
    """No delete comes after the refusal (an idle queue, a role since mended): the mark
    lapses after REFUSED_HOLD_S, as the gateway's does; a delete merely failing (no
    refusal) never marks it."""
    health = Health()
    inbox = _DeletesRefused()
    acker = Acker(inbox, linger_s=0, health=health)
    acker.REFUSED_HOLD_S = 0.1
    runner = asyncio.create_task(acker.run())
    try:
        assert await acker.delete(_delivery("rh-1")) is False
        assert not health.ready
        await _until(lambda: health.ready, "the refusal lapsed")
    finally:
        await acker.stop()
        await asyncio.wait_for(runner, 10)
    outage = Health()
    acker = Acker(_DeletesRefused("ServiceUnavailable"), linger_s=0, health=outage)
    runner = asyncio.create_task(acker.run())
    try:
        assert await acker.delete(_delivery("rh-3", mid="m-3")) is False
    finally:
        await acker.stop()
        await asyncio.wait_for(runner, 10)
    assert outage.ready
