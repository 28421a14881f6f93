"""What `triage dlq redrive` does with a message's identity where only LocalStack behaves as
AWS does: it counts attributes towards a queue's MaximumMessageSize (moto counts the body
alone), and it runs SQS's own StartMessageMoveTask. Needs Python 3.13 for LocalStack (see
tests/localstack_harness.py); without it these tests skip, except under CI=true."""

from __future__ import annotations

import json
import subprocess
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import boto3
import pytest

from daemon_harness import Queues, daemon_env, run_in_process, settings_for
from localstack_harness import LocalStack, localstack_session
from triage.sqs.identity import GATEWAY_ID_ATTRIBUTE, REDRIVEN_FROM_ATTRIBUTE
from triage.sqs.inbox import Message, message_from

GW = "gw:0b7d9c1e-2f3a-4b4c-8d6e-7f8a9b0c1d2e"


@pytest.fixture(scope="module")
def localstack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalStack]:
    """LocalStack (SQS only) on a free 127.0.0.1 port for this file."""
    yield from localstack_session(tmp_path_factory.mktemp("localstack"), services=("sqs",))


@pytest.fixture
def queues(localstack: LocalStack) -> Queues:
    """A queue of this test's own on LocalStack, with a DLQ after 2 receives."""
    sqs = boto3.client("sqs", endpoint_url=localstack.endpoint, region_name="us-east-1")
    name = f"alerts-{uuid.uuid4().hex[:8]}"
    dlq_url = sqs.create_queue(QueueName=f"{name}-dlq")["QueueUrl"]
    dlq_arn = sqs.get_queue_attributes(QueueUrl=dlq_url, AttributeNames=["QueueArn"])["Attributes"][
        "QueueArn"
    ]
    policy = json.dumps({"deadLetterTargetArn": dlq_arn, "maxReceiveCount": "2"})
    url = sqs.create_queue(QueueName=name, Attributes={"RedrivePolicy": policy})["QueueUrl"]
    return Queues(localstack.endpoint, url, dlq_url)


def _dlq(
    queues: Queues,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    *args: str,
) -> subprocess.CompletedProcess[str]:
    env = daemon_env(settings_for(queues, "http://127.0.0.1:9", tmp_path / "t.db"))
    return run_in_process(monkeypatch, capsys, "dlq", *args, env=env)


def _dead(queues: Queues, body: str, **attributes: str) -> str:
    sent = queues.client().send_message(
        QueueUrl=queues.dlq_url,
        MessageBody=body,
        MessageAttributes={
            k: {"DataType": "String", "StringValue": v} for k, v in attributes.items()
        },
    )
    return str(sent["MessageId"])


def _arrived(queues: Queues, deadline_s: float = 30) -> Message:
    """The one message on the main queue, waited for (a move task is asynchronous)."""
    deadline = time.monotonic() + deadline_s
    while time.monotonic() < deadline:
        answer = queues.client().receive_message(
            QueueUrl=queues.url,
            WaitTimeSeconds=1,
            MessageAttributeNames=["All"],
            MessageSystemAttributeNames=["All"],
        )
        if answer.get("Messages"):
            [raw] = answer["Messages"]
            return message_from(raw)
    raise AssertionError(f"nothing reached the main queue within {deadline_s} s")


def test_a_letter_with_no_room_for_its_identity_is_still_moved(
    queues: Queues,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """A dead letter the main queue refuses once its identity is added (attributes count
    towards MaximumMessageSize) goes without it, rather than staying in the DLQ; one line
    says so."""
    queues.client().set_queue_attributes(
        QueueUrl=queues.url, Attributes={"MaximumMessageSize": "1024"}
    )
    room = 1000 - len(json.dumps({"title": "full", "description": ""}))
    body = json.dumps({"title": "full", "description": "x" * room})
    old = _dead(queues, body)
    result = _dlq(queues, tmp_path, monkeypatch, capsys, "redrive", "--max", "10")
    assert result.returncode == 0, result.stderr
    message = _arrived(queues)
    assert message.body == body and message.id != old
    assert REDRIVEN_FROM_ATTRIBUTE not in message.attributes
    assert "sending it without" in result.stderr
    assert queues.depth(queues.dlq_url) == 0


def test_a_letter_that_fits_carries_its_identity(
    queues: Queues,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """The same redrive on LocalStack with room to spare: the copy carries the old id."""
    old = _dead(queues, json.dumps({"title": "small"}))
    result = _dlq(queues, tmp_path, monkeypatch, capsys, "redrive", "--max", "10")
    assert result.returncode == 0, result.stderr
    message = _arrived(queues)
    assert message.identity == old and "without" not in result.stderr


def test_sqs_move_task_keeps_the_gateway_stamp(
    queues: Queues,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """`triage dlq redrive --sqs-move` starts SQS's StartMessageMoveTask, which keeps a
    message's attributes: the gateway's stamp, and with it the message's identity, survive."""
    _dead(queues, json.dumps({"title": "stamped"}), **{GATEWAY_ID_ATTRIBUTE: GW})
    result = _dlq(queues, tmp_path, monkeypatch, capsys, "redrive", "--sqs-move")
    assert result.returncode == 0, result.stderr
    assert "started SQS message move task" in result.stderr
    assert _arrived(queues).identity == GW


def test_a_whole_redrive_moves_by_batches_so_a_plain_letter_keeps_its_identity(
    queues: Queues,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """`triage dlq redrive` with no --max, where SQS has a move task, still moves by batches:
    a letter queued with no stamp (plain send-message) carries its old MessageId over, which
    SQS's move task would lose (its copies are new messages)."""
    old = _dead(queues, json.dumps({"title": "plain"}))
    result = _dlq(queues, tmp_path, monkeypatch, capsys, "redrive")
    assert result.returncode == 0, result.stderr
    assert "move task" not in result.stderr
    message = _arrived(queues)
    assert message.identity == old and message.attributes[REDRIVEN_FROM_ATTRIBUTE] == old
