"""A message redriven from the DLQ is the message it was: its alerts, counted (or its ticket
opened) before it died, are not counted or opened again, whether `triage dlq redrive` sent it
back or SQS's own move task did (both give it a new MessageId). Against moto: the daemon's
inbox, the pipeline on a SQLite store, and the redrive as the command runs it. moto has no
StartMessageMoveTask (and LocalStack's keeps the MessageId), so SQS's move is done here as AWS
documents it: the body and attributes sent again, under a new MessageId."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from daemon_harness import Queues
from moto_speed import loopback_aws_client
from test_pipeline import CountingSummariser, FakeSink
from triage.errors import StoreBusyError
from triage.incidents import Action, Ledger, Policy
from triage.incidents.sqlite import SQLiteStore
from triage.ingest.outbox import Outgoing, SqsOutbox
from triage.metrics import Metrics
from triage.ops import dlq as dlq_ops
from triage.pipeline import Pipeline
from triage.redact import Redactor
from triage.sqs.inbox import Message, SqsInbox

POLICY = Policy(update_interval=timedelta(minutes=15), reopen_window=timedelta(hours=1))
PAYLOADS = Path(__file__).parent / "payloads"
#: A generic alert that states no time: it is dated when its message was queued.
FIRING = json.dumps({"title": "checkout is failing", "dedup_key": "checkout"})
RESOLVED = json.dumps({"title": "checkout", "dedup_key": "checkout", "status": "resolved"})


@dataclass
class Rig:
    """The daemon's side of one queue: its inbox and its pipeline, and a sink that records."""

    queues: Queues
    sqs: Any
    inbox: SqsInbox
    pipeline: Pipeline
    sink: FakeSink
    metrics: Metrics
    store: SQLiteStore

    async def deliver(self) -> tuple[Message, list[Action]]:
        """Receive the one message on the queue and run it through the pipeline."""
        [message] = await self.inbox.receive(1, 1, 30)
        outcomes = await self.pipeline.process(message)
        return message, [o.action for o in outcomes]

    async def handle(self) -> list[Action]:
        """`deliver`, then delete it: handled."""
        message, actions = await self.deliver()
        assert await self.inbox.delete([message]) == []
        return actions

    async def dead_letter(self, message: Message) -> None:
        """`message`, not deleted, comes back until SQS moves it to the DLQ (after 2 receives)."""
        client = self.queues.client()
        async with asyncio.timeout(20):
            await self.inbox.change_visibility([message], 0)
            while self.queues.depth(self.queues.dlq_url) == 0:
                answer = client.receive_message(QueueUrl=self.queues.url, VisibilityTimeout=0)
                for seen in answer.get("Messages", []):
                    client.change_message_visibility(
                        QueueUrl=self.queues.url,
                        ReceiptHandle=seen["ReceiptHandle"],
                        VisibilityTimeout=0,
                    )
                await asyncio.sleep(0.01)  # moto answers at once: give the loop a turn

    async def redrive_by_hand(self) -> None:
        """`triage dlq redrive --max 10`, as the command runs it."""
        dlq_url, dlq_arn, queue_arn = await dlq_ops.find_dlq(self.sqs, self.queues.url)
        done = await dlq_ops.redrive_counted(
            self.sqs, self.queues.url, dlq_url, dlq_arn, queue_arn, 10, False
        )
        assert done.moved == 1

    def move_as_sqs_does(self) -> None:
        """StartMessageMoveTask as AWS documents it: each dead letter sent again with its
        attributes, a new message (a new MessageId and SentTimestamp), and deleted from the
        DLQ."""
        client = self.queues.client()
        answer = client.receive_message(
            QueueUrl=self.queues.dlq_url, MaxNumberOfMessages=10, MessageAttributeNames=["All"]
        )
        for letter in answer["Messages"]:
            extra = (
                {"MessageAttributes": letter["MessageAttributes"]}
                if "MessageAttributes" in letter
                else {}
            )
            client.send_message(QueueUrl=self.queues.url, MessageBody=letter["Body"], **extra)
            client.delete_message(
                QueueUrl=self.queues.dlq_url, ReceiptHandle=letter["ReceiptHandle"]
            )

    async def occurrences(self) -> int:
        [incident] = await self.store.incidents()
        return incident.occurrences


@pytest.fixture
async def rig(queues: Queues, tmp_path: Path) -> AsyncIterator[Rig]:
    store = SQLiteStore(str(tmp_path / "t.db"), POLICY, timedelta(minutes=2), timedelta(days=30))
    await store.open()
    sink, metrics = FakeSink(), Metrics()
    pipeline = Pipeline(
        Ledger(store), CountingSummariser(), [sink], metrics, redactor=Redactor(), policy=POLICY
    )
    try:
        async with loopback_aws_client("sqs", endpoint_url=queues.endpoint) as sqs:
            inbox = SqsInbox(sqs, queues.url)
            yield Rig(queues, sqs, inbox, pipeline, sink, metrics, store)
    finally:
        await store.aclose()


def _counts(rig: Rig) -> tuple[float, float]:
    return rig.metrics.counter("TicketsCreated"), rig.metrics.counter("DuplicatesSuppressed")


async def test_a_counted_repeat_redriven_by_hand_is_not_counted_again(rig: Rig) -> None:
    """A repeat counted before its message died, redriven by `triage dlq redrive`, is known:
    ignored, its incident's occurrences and the metrics as they were."""
    rig.queues.send(FIRING)
    assert await rig.handle() == [Action.OPEN]
    rig.queues.send(FIRING)
    repeat, actions = await rig.deliver()
    assert actions == [Action.COUNT]
    before = (await rig.occurrences(), _counts(rig))
    await rig.dead_letter(repeat)
    await rig.redrive_by_hand()
    assert await rig.handle() == [Action.IGNORE]
    assert (await rig.occurrences(), _counts(rig)) == before == (2, (1, 1))


async def test_a_stamped_repeat_moved_by_sqs_is_not_counted_again(rig: Rig, queues: Queues) -> None:
    """A repeat the gateway queued, counted before it died and moved back by SQS's own move
    task (a new MessageId), is known by the gateway's stamp."""
    outbox = SqsOutbox(rig.sqs, queues.url)
    await outbox.send(Outgoing.of(FIRING, {"source": "generic"}))
    assert await rig.handle() == [Action.OPEN]
    await outbox.send(Outgoing.of(FIRING, {"source": "generic"}))
    await outbox.aclose()
    repeat, actions = await rig.deliver()
    assert actions == [Action.COUNT]
    await rig.dead_letter(repeat)
    rig.move_as_sqs_does()
    assert await rig.handle() == [Action.IGNORE]
    assert (await rig.occurrences(), _counts(rig)) == (2, (1, 1))


async def test_a_plain_repeat_moved_by_sqs_is_counted_again(rig: Rig) -> None:
    """A message nothing names but SQS (`aws sqs send-message`, no envelope) keeps nothing
    through SQS's move task that tells it from another send of its body, and two sends of one
    body are two occurrences: moved back, its repeat is counted again (the documented limit;
    `triage dlq redrive --max` or the gateway's stamp avoid it)."""
    rig.queues.send(FIRING)
    assert await rig.handle() == [Action.OPEN]
    rig.queues.send(FIRING)
    repeat, actions = await rig.deliver()
    assert actions == [Action.COUNT]
    await rig.dead_letter(repeat)
    rig.move_as_sqs_does()
    moved, actions = await rig.deliver()
    assert moved.identity == moved.id != repeat.id
    assert actions == [Action.COUNT]
    assert (await rig.occurrences(), _counts(rig)) == (3, (1, 2))


def _published(body: str, sns_id: str) -> str:
    """`body`, an SNS notification, as SNS delivers another publish (its own MessageId)."""
    envelope = json.loads(body)
    envelope["MessageId"] = sns_id
    return json.dumps(envelope)


async def test_an_sns_repeat_moved_by_sqs_is_not_counted_again(rig: Rig) -> None:
    """An alarm's repeat from SNS, counted and moved back by SQS's move task, is known by
    SNS's MessageId; SNS delivering that publish once more is known too."""
    alarm = (PAYLOADS / "cloudwatch" / "sns-alarm.json").read_text()
    rig.queues.send(_published(alarm, "11111111-1111-4111-8111-111111111111"))
    assert await rig.handle() == [Action.OPEN]
    again = _published(alarm, "22222222-2222-4222-8222-222222222222")
    rig.queues.send(again)
    repeat, actions = await rig.deliver()
    assert actions == [Action.COUNT]
    await rig.dead_letter(repeat)
    rig.move_as_sqs_does()
    assert await rig.handle() == [Action.IGNORE]
    rig.queues.send(again)  # SNS's second delivery of the same publish
    assert await rig.handle() == [Action.IGNORE]
    assert (await rig.occurrences(), _counts(rig)) == (2, (1, 1))


async def test_a_redriven_opener_is_not_counted_as_its_own_repeat(rig: Rig) -> None:
    """The firing that opened an incident, dead before its delete and redriven by hand while
    the incident is open, is known as the opener (an effect it carried out), not counted as a
    repeat of itself."""
    rig.queues.send(FIRING)
    opener, actions = await rig.deliver()
    assert actions == [Action.OPEN]
    await rig.dead_letter(opener)
    await rig.redrive_by_hand()
    assert await rig.handle() == [Action.IGNORE]
    assert rig.sink.kinds() == ["open"]
    assert (await rig.occurrences(), _counts(rig)) == (1, (1, 0))


async def test_two_live_copies_of_a_message_open_one_ticket(rig: Rig, queues: Queues) -> None:
    """Two copies of one message in flight at once (a redrive interrupted between its send
    and its delete leaves both): the second waits while the first carries the effect out,
    then finds it done. One ticket, one count."""
    stamped = Outgoing.of(FIRING, {"source": "generic"})
    outbox = SqsOutbox(rig.sqs, queues.url)
    await outbox.send(stamped)
    await outbox.send(stamped)
    await outbox.aclose()
    first, second = await rig.inbox.receive(2, 1, 30)
    assert first.identity == second.identity and first.id != second.id
    rig.sink.gate = asyncio.Event()
    opening = asyncio.create_task(rig.pipeline.process(first))
    async with asyncio.timeout(10):
        while not await rig.store.incidents():
            await asyncio.sleep(0.01)
    try:
        with pytest.raises(StoreBusyError):
            await rig.pipeline.process(second)
    finally:
        rig.sink.gate.set()
        opened = [o.action for o in await opening]
    assert opened == [Action.OPEN]
    assert [o.action for o in await rig.pipeline.process(second)] == [Action.IGNORE]
    assert rig.sink.kinds() == ["open"]
    assert (await rig.occurrences(), _counts(rig)) == (1, (1, 0))


async def test_a_redriven_firing_is_as_old_as_when_it_was_first_queued(rig: Rig) -> None:
    """A firing that states no time, dead before it was applied and redriven by hand after
    its incident resolved, is dated when it was first queued (the redrive carries that over;
    its copy's SentTimestamp is new): older than the resolve, it reopens nothing."""
    rig.queues.send(FIRING)
    assert await rig.handle() == [Action.OPEN]
    rig.queues.client().send_message(QueueUrl=rig.queues.dlq_url, MessageBody=FIRING)
    rig.queues.send(RESOLVED)
    assert await rig.handle() == [Action.CLOSE]
    await rig.redrive_by_hand()
    assert await rig.handle() == [Action.IGNORE]
    assert rig.sink.kinds() == ["open", "close"]


async def test_a_resolve_copied_from_the_firings_envelope_still_closes(rig: Rig) -> None:
    """An SNS envelope copied by hand, its MessageId with it, carrying the alarm's OK is
    another message than the ALARM it was copied from: it closes the incident, where taking
    it for a redelivery of the ALARM would leave the incident open for good."""
    alarm = (PAYLOADS / "cloudwatch" / "sns-alarm.json").read_text()
    ok = json.loads((PAYLOADS / "cloudwatch" / "sns-ok.json").read_text())
    ok["MessageId"] = json.loads(alarm)["MessageId"]
    rig.queues.send(alarm)
    assert await rig.handle() == [Action.OPEN]
    rig.queues.send(json.dumps(ok))
    assert await rig.handle() == [Action.CLOSE]
    assert rig.sink.kinds() == ["open", "close"]
