"""`triage check`'s queue line reads the DLQ's retention: a standard queue's letter keeps its
first enqueue time in the DLQ, so a DLQ that keeps letters no longer than the queue keeps
messages may delete a letter as soon as it arrives (AWS: set the DLQ's retention longer)."""

from __future__ import annotations

import json
import uuid
from pathlib import Path

import boto3
import pytest

from daemon_harness import Queues, settings_for
from test_readme_claims import check_lines

DAY_S = 86_400


def queue_with_dlq(moto_url: str, queue_keeps_s: int, dlq_keeps_s: int) -> Queues:
    """A queue keeping messages `queue_keeps_s` that redrives to a DLQ keeping `dlq_keeps_s`."""
    sqs = boto3.client("sqs", endpoint_url=moto_url, region_name="us-east-1")
    name = f"alerts-{uuid.uuid4().hex[:12]}"
    keeps = {"MessageRetentionPeriod": str(dlq_keeps_s)}
    dlq_url = sqs.create_queue(QueueName=f"{name}-dlq", Attributes=keeps)["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=dlq_url, AttributeNames=["QueueArn"])
    policy = {"deadLetterTargetArn": arn["Attributes"]["QueueArn"], "maxReceiveCount": "5"}
    attributes = {"MessageRetentionPeriod": str(queue_keeps_s), "RedrivePolicy": json.dumps(policy)}
    url = sqs.create_queue(QueueName=name, Attributes=attributes)["QueueUrl"]
    return Queues(moto_url, url, dlq_url)


def queue_line(queues: Queues, tmp_path: Path) -> str:
    (line,) = check_lines(settings_for(queues, "http://127.0.0.1:9", tmp_path / "t.db"), "queue")
    return line


@pytest.mark.parametrize(
    ("queue_keeps_s", "dlq_keeps_s"),
    [
        pytest.param(14 * DAY_S, DAY_S, id="dlq-a-day-queue-fourteen"),
        pytest.param(4 * DAY_S, 4 * DAY_S, id="both-four-days"),
    ],
)
def test_a_dlq_keeping_letters_no_longer_than_the_queue_is_a_warning(
    queue_keeps_s: int, dlq_keeps_s: int, moto_url: str, tmp_path: Path
) -> None:
    """A DLQ that keeps letters less time than, or as long as, the queue keeps messages is a
    `warn` line naming both retentions and what to set."""
    line = queue_line(queue_with_dlq(moto_url, queue_keeps_s, dlq_keeps_s), tmp_path)
    assert line.startswith("warn  queue    "), line
    assert "retention" in line and "MessageRetentionPeriod" in line
    assert f"{queue_keeps_s // DAY_S} d" in line and f"{dlq_keeps_s // DAY_S} d" in line


def test_a_dlq_keeping_letters_longer_than_the_queue_is_ok(moto_url: str, tmp_path: Path) -> None:
    """A DLQ that keeps letters fourteen days behind a queue keeping them four is `ok`."""
    line = queue_line(queue_with_dlq(moto_url, 4 * DAY_S, 14 * DAY_S), tmp_path)
    assert line.startswith("ok    queue    ") and "with a DLQ" in line, line


def test_a_redrive_policy_naming_a_dlq_that_is_not_there_is_a_warning(
    moto_url: str, tmp_path: Path
) -> None:
    """A redrive policy whose DLQ was deleted sets nothing aside: a `warn` line says the DLQ
    is not there."""
    queues = queue_with_dlq(moto_url, 4 * DAY_S, 14 * DAY_S)
    boto3.client("sqs", endpoint_url=moto_url, region_name="us-east-1").delete_queue(
        QueueUrl=queues.dlq_url
    )
    line = queue_line(queues, tmp_path)
    assert line.startswith("warn  queue    ") and "not there" in line, line
