"""A message's identity survives a DLQ redrive (SQS gives the redriven copy a new MessageId):
how the inbox names a received message, what the gateway stamps, and what `triage dlq
redrive` carries over, against moto where a queue is involved. The pipeline's counting on it
is in test_redrive_identity_pipeline.py."""

from __future__ import annotations

import json
import subprocess
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
import structlog

from daemon_harness import Queues, daemon_env, run_in_process, settings_for
from moto_speed import loopback_aws_client
from triage.ingest.outbox import Outgoing, SqsOutbox
from triage.sqs.identity import (
    GATEWAY_ID_ATTRIBUTE,
    REDRIVEN_FROM_ATTRIBUTE,
    message_identity,
    new_gateway_id,
)
from triage.sqs.inbox import Message, SqsInbox, message_from

PAYLOADS = Path(__file__).parent / "payloads"
SNS_BODY = (PAYLOADS / "cloudwatch" / "sns-alarm.json").read_text()
EVENTBRIDGE_BODY = (PAYLOADS / "eventbridge" / "ec2-instance-stopped.json").read_text()
PLAIN = json.dumps({"title": "backup failed", "dedup_key": "backup", "source": "cron"})
GW = "gw:0b7d9c1e-2f3a-4b4c-8d6e-7f8a9b0c1d2e"

#: `triage dlq ARGS` run to completion in this process.
Dlq = Callable[..., subprocess.CompletedProcess[str]]


def _raw(mid: str, body: str, **attributes: str) -> dict[str, Any]:
    """One entry of ReceiveMessage's answer (with the receive count the daemon asks for)."""
    return {
        "MessageId": mid,
        "ReceiptHandle": f"rh-{mid}",
        "Body": body,
        "Attributes": {"ApproximateReceiveCount": "1"},
        "MessageAttributes": {
            k: {"DataType": "String", "StringValue": v} for k, v in attributes.items()
        },
    }


# --- What names a received message -------------------------------------------------------


def test_a_plain_message_is_named_by_its_sqs_id_bare() -> None:
    """A message nothing else names is its SQS MessageId, bare: the key claims were stored
    under before identities existed, so a redelivery across the upgrade is still known."""
    message = message_from(_raw("5f0c3e4a-0000-4000-8000-000000000001", PLAIN))
    assert message.identity == "5f0c3e4a-0000-4000-8000-000000000001"
    assert message.id == message.identity


def test_an_sqs_id_of_no_ids_shape_is_digested_in_its_own_namespace() -> None:
    """An SQS-compatible server's id holding a claim owner's separators (or anything else no
    id holds) is digested under `sqs:`, the same on every delivery, and carried by a redrive."""
    odd = message_from(_raw("m#1@x/y", PLAIN)).identity
    assert odd.startswith("sqs:") and not set("#@/") & set(odd)
    assert odd == message_from(_raw("m#1@x/y", PLAIN)).identity
    assert message_from(_raw("new", PLAIN, **{REDRIVEN_FROM_ATTRIBUTE: odd})).identity == odd


def test_the_gateway_stamp_names_the_message() -> None:
    """A message the gateway stamped is named by the stamp, whatever SQS calls it."""
    first = message_from(_raw("id-1", PLAIN, **{GATEWAY_ID_ATTRIBUTE: GW}))
    moved = message_from(_raw("id-2", PLAIN, **{GATEWAY_ID_ATTRIBUTE: GW}))
    assert first.identity == moved.identity == GW
    assert (first.id, moved.id) == ("id-1", "id-2")


def test_an_sns_notification_is_named_by_snss_message_id() -> None:
    """An SNS envelope is named by SNS's MessageId (one per publish): a redriven copy, and SNS
    delivering the same publish twice, are the same message."""
    envelope = json.loads(SNS_BODY)
    first = message_from(_raw("id-1", SNS_BODY))
    again = message_from(_raw("id-2", SNS_BODY))
    assert first.identity == again.identity
    assert first.identity.startswith(f"sns:{envelope['MessageId']}.")


def test_a_body_in_another_key_order_is_still_named_by_its_id() -> None:
    """An SNS envelope or an event re-serialised with its keys in another order (a forwarder)
    is parsed for its id rather than read from where SNS and EventBridge write it."""
    envelope, event = json.loads(SNS_BODY), json.loads(EVENTBRIDGE_BODY)
    sorted_envelope = json.dumps(envelope, sort_keys=True)
    sorted_event = json.dumps(event, sort_keys=True)
    assert message_from(_raw("id-1", sorted_envelope)).identity.startswith(
        f"sns:{envelope['MessageId']}."
    )
    assert message_from(_raw("id-1", sorted_event)).identity.startswith(f"eb:{event['id']}.")


def test_a_body_copied_with_its_id_is_another_message() -> None:
    """An SNS envelope or an EventBridge event copied by hand from a sample, its id with it,
    and sent with another alert in it is not the message it was copied from: were it, the
    copy's resolve would be ignored as a redelivery of the firing."""
    envelope = json.loads(SNS_BODY)
    resolved = json.dumps(envelope | {"Message": envelope["Message"].replace("ALARM", "OK")})
    assert (
        message_from(_raw("id-2", resolved)).identity
        != message_from(_raw("id-1", SNS_BODY)).identity
    )
    event = json.loads(EVENTBRIDGE_BODY)
    other = json.dumps(event | {"detail": {"state": "running"}})
    assert (
        message_from(_raw("id-2", other)).identity
        != message_from(_raw("id-1", EVENTBRIDGE_BODY)).identity
    )


def test_an_eventbridge_event_is_named_by_its_event_id() -> None:
    """An EventBridge event delivered to the queue directly is named by its event id."""
    event = json.loads(EVENTBRIDGE_BODY)
    identity = message_from(_raw("id-1", EVENTBRIDGE_BODY)).identity
    assert identity == message_from(_raw("id-2", EVENTBRIDGE_BODY)).identity
    assert identity.startswith(f"eb:{event['id']}.")


def test_a_manual_redrive_names_a_plain_message_as_it_was() -> None:
    """The identity `triage dlq redrive` carried over names a plain message (its own
    MessageId is new)."""
    message = message_from(_raw("new-id", PLAIN, **{REDRIVEN_FROM_ATTRIBUTE: "old-id"}))
    assert message.identity == "old-id"
    assert message.redriven


def test_a_webhook_body_cannot_choose_its_identity() -> None:
    """A body the gateway queued that looks like an SNS envelope is still named by the
    gateway's stamp: whoever posts a webhook cannot take an SNS message's identity."""
    message = message_from(_raw("id-1", SNS_BODY, **{GATEWAY_ID_ATTRIBUTE: GW}))
    assert message.identity == GW


def test_namespaces_keep_senders_apart() -> None:
    """The same id text from SQS, SNS, EventBridge and a redrive makes different identities
    unless it is the same sender's: no sender's id can hide another's alert."""
    same = "0b7d9c1e-2f3a-5b4c-8d6e-7f8a9b0c1d2e"
    sns = json.dumps(
        {"Type": "Notification", "MessageId": same, "TopicArn": "arn:t", "Message": "x"}
    )
    event = json.dumps({"id": same, "detail-type": "x", "source": "s", "detail": {}})
    names = {
        message_identity(same, PLAIN, {}),
        message_identity("other", sns, {}),
        message_identity("other", event, {}),
    }
    assert len(names) == 3


@pytest.mark.parametrize(
    ("attribute", "value"),
    [
        (GATEWAY_ID_ATTRIBUTE, "gw:not-a-uuid"),
        (GATEWAY_ID_ATTRIBUTE, "sns:0b7d9c1e-2f3a-4b4c-8d6e-7f8a9b0c1d2e"),
        (GATEWAY_ID_ATTRIBUTE, GW.upper()),
        (GATEWAY_ID_ATTRIBUTE, GW + "\n"),
        (GATEWAY_ID_ATTRIBUTE, ""),
        (REDRIVEN_FROM_ATTRIBUTE, "a" * 101),
        (REDRIVEN_FROM_ATTRIBUTE, "m-1#0"),
        (REDRIVEN_FROM_ATTRIBUTE, "m-1@delivery"),
        (REDRIVEN_FROM_ATTRIBUTE, "sqs:m-1"),
        (REDRIVEN_FROM_ATTRIBUTE, "gw:0b7d9c1e"),
        (REDRIVEN_FROM_ATTRIBUTE, "ünïcode"),
    ],
)
def test_a_malformed_identity_attribute_is_ignored_with_one_line(
    attribute: str, value: str
) -> None:
    """An identity attribute not of its kind's shape (another namespace, too long, a claim
    owner's separators, not ASCII) is ignored: the message keeps its own SQS id, is still
    handed out, and one line names the attribute without its hostile value."""
    with structlog.testing.capture_logs() as logs:
        message = message_from(_raw("own-id", PLAIN, **{attribute: value}))
    assert message.identity == "own-id"
    [line] = [e for e in logs if e["event"] == "message.bad_identity"]
    assert line["attribute"] == attribute and line["message_id"] == "own-id"
    assert line["length"] == len(value) and "value" not in line


@pytest.mark.parametrize(
    "body",
    [
        json.dumps({"Type": "Notification", "MessageId": "a#1", "TopicArn": "t", "Message": ""}),
        json.dumps(
            {"Type": "Notification", "MessageId": "x" * 200, "TopicArn": "t", "Message": ""}
        ),
        json.dumps({"Type": "Notification", "MessageId": 7, "TopicArn": "t", "Message": ""}),
        json.dumps({"id": "e@1", "detail-type": "x", "detail": {}}),
    ],
)
def test_a_malformed_id_in_a_body_is_ignored_with_one_line(body: str) -> None:
    """An SNS or EventBridge id not of an id's shape leaves the message its own SQS id."""
    with structlog.testing.capture_logs() as logs:
        message = message_from(_raw("own-id", body))
    assert message.identity == "own-id"
    assert [e["event"] for e in logs] == ["message.bad_identity"]


@pytest.mark.parametrize(
    "body",
    [
        '{"Type": "Notification", "MessageId": "broken',
        '{"Type": "Notification", "x": ' + "[" * 100_000 + "]" * 100_000 + "}",
        '["Notification", "detail-type"]',
        json.dumps({"Type": "Notification", "MessageId": "m", "Message": "no topic"}),
        json.dumps({"title": "Notification", "detail-type": 3}),
    ],
)
def test_a_body_that_only_looks_like_a_carrier_keeps_the_sqs_id(body: str) -> None:
    """A body that does not parse, nests too deep, or is not an SNS envelope or an event is
    named by its SQS id, quietly (the pipeline says what is wrong with it)."""
    with structlog.testing.capture_logs() as logs:
        message = message_from(_raw("own-id", body))
    assert message.identity == "own-id"
    assert logs == []


def test_a_message_made_in_code_is_named_from_what_it_holds() -> None:
    """A Message built directly (tests, benchmarks, the dry-run) gets its identity as a
    received one does."""
    assert Message("m-1", PLAIN, "rh", 1, None).identity == "m-1"
    stamped = Message("m-1", PLAIN, "rh", 1, None, attributes={GATEWAY_ID_ATTRIBUTE: GW})
    assert stamped.identity == GW and not stamped.redriven


# --- What the gateway stamps --------------------------------------------------------------


def test_each_outgoing_message_is_stamped_once_with_its_own_id() -> None:
    """Every message the gateway builds carries a fresh gateway id, counted in its size, and
    the same one on every send attempt of it (a retried batch is the same message)."""
    first = Outgoing.of(PLAIN, {"source": "generic"})
    second = Outgoing.of(PLAIN, {"source": "generic"})
    stamp = first.attributes[GATEWAY_ID_ATTRIBUTE]
    assert stamp != second.attributes[GATEWAY_ID_ATTRIBUTE]
    assert message_identity("x", PLAIN, first.attributes) == stamp
    assert first.entry() == first.entry()
    unstamped = len(PLAIN) + len("source") + len("String") + len("generic")
    assert first.size_bytes == unstamped + len(GATEWAY_ID_ATTRIBUTE) + len("String") + len(stamp)
    assert new_gateway_id() != new_gateway_id()


async def test_a_message_the_gateway_queued_is_received_under_its_stamp(queues: Queues) -> None:
    """Sent through the gateway's outbox and received by the daemon's inbox on moto, a
    message is named by the stamp it was sent with, not by SQS's MessageId."""
    async with loopback_aws_client("sqs", endpoint_url=queues.endpoint) as sqs:
        outbox = SqsOutbox(sqs, queues.url)
        outgoing = Outgoing.of(PLAIN, {"source": "generic"})
        sqs_id = await outbox.send(outgoing)
        await outbox.aclose()
        [message] = await SqsInbox(sqs, queues.url).receive(10, 1, 30)
    assert message.id == sqs_id
    assert message.identity == outgoing.attributes[GATEWAY_ID_ATTRIBUTE]


# --- What a manual redrive carries over ---------------------------------------------------


@pytest.fixture
def dlq(
    queues: Queues,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> Dlq:
    """`triage dlq ARGS` in this process, configured for `queues`."""
    env = daemon_env(settings_for(queues, "http://127.0.0.1:9", tmp_path / "t.db"))

    def run(*args: str) -> subprocess.CompletedProcess[str]:
        return run_in_process(monkeypatch, capsys, "dlq", *args, env=env)

    return run


def _dead(queues: Queues, body: str, **attributes: str) -> str:
    """Put one dead letter in the DLQ; its MessageId."""
    sent = queues.client().send_message(
        QueueUrl=queues.dlq_url,
        MessageBody=body,
        MessageAttributes={
            k: {"DataType": "String", "StringValue": v} for k, v in attributes.items()
        },
    )
    return str(sent["MessageId"])


def _received(queues: Queues, url: str | None = None) -> list[Message]:
    answer = queues.client().receive_message(
        QueueUrl=url or queues.url,
        MaxNumberOfMessages=10,
        VisibilityTimeout=0,
        MessageAttributeNames=["All"],
        MessageSystemAttributeNames=["All"],
    )
    return [message_from(m) for m in answer.get("Messages", [])]


def test_a_redriven_plain_message_keeps_its_identity(queues: Queues, dlq: Dlq) -> None:
    """A plain dead letter redriven by hand gets a new MessageId from SQS and keeps its
    identity: the redrive carries its old id over."""
    old = _dead(queues, PLAIN)
    result = dlq("redrive", "--max", "10")
    assert result.returncode == 0, result.stderr
    [message] = _received(queues)
    assert message.id != old
    assert message.identity == old and message.redriven


def test_a_redriven_letter_says_when_it_was_first_queued(queues: Queues, dlq: Dlq) -> None:
    """A dead letter without `received_at` carries its SentTimestamp over as one (its copy's
    SentTimestamp is new); one with its own keeps it as it was."""
    _dead(queues, PLAIN)
    _dead(queues, PLAIN.replace("backup", "restore"), received_at="2026-01-02T03:04:05.678Z")
    [plain, stamped] = sorted(_received(queues, queues.dlq_url), key=lambda m: m.body)
    assert plain.sent_at is not None
    result = dlq("redrive", "--max", "10")
    assert result.returncode == 0, result.stderr
    moved = {m.body: m for m in _received(queues)}
    first_queued = moved[plain.body].attributes["received_at"]
    assert datetime.fromisoformat(first_queued) == plain.sent_at
    assert moved[stamped.body].attributes["received_at"] == "2026-01-02T03:04:05.678Z"


def test_a_letter_redriven_twice_keeps_its_first_identity(queues: Queues, dlq: Dlq) -> None:
    """A redriven message that dies again and is redriven again is still the first one."""
    _dead(queues, PLAIN, **{REDRIVEN_FROM_ATTRIBUTE: "first-id"})
    result = dlq("redrive", "--max", "10")
    assert result.returncode == 0, result.stderr
    [message] = _received(queues)
    assert message.identity == "first-id"
    assert message.attributes[REDRIVEN_FROM_ATTRIBUTE] == "first-id"


def test_a_redriven_stamped_message_keeps_its_stamp(queues: Queues, dlq: Dlq) -> None:
    """A gateway-stamped dead letter keeps its stamp and the rest of its attributes."""
    _dead(queues, PLAIN, **{GATEWAY_ID_ATTRIBUTE: GW, "source": "generic"})
    result = dlq("redrive", "--max", "10")
    assert result.returncode == 0, result.stderr
    [message] = _received(queues)
    assert message.identity == GW
    assert message.attributes["source"] == "generic"


def test_peek_shows_a_dead_letters_identity(queues: Queues, dlq: Dlq) -> None:
    """peek names a dead letter's identity beside its MessageId when they differ."""
    _dead(queues, PLAIN, **{GATEWAY_ID_ATTRIBUTE: GW})
    result = dlq("peek")
    assert result.returncode == 0, result.stderr
    [row] = map(json.loads, result.stdout.splitlines())
    assert row["identity"] == GW
