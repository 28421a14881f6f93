"""`triage check`'s queue line reads the redrive policy as the daemon does (one reader): a
policy whose maxReceiveCount the daemon cannot read is a warning, not an `ok`, since the
daemon then counts no dead letters."""

from __future__ import annotations

import json
from pathlib import Path

import boto3

from daemon_harness import Queues, settings_for
from test_readme_claims import check_lines


def test_check_warns_of_a_redrive_policy_without_a_usable_max_receive_count(
    queues: Queues, tmp_path: Path
) -> None:
    """A queue whose policy says maxReceiveCount 0 (which moto, unlike SQS, accepts) is a
    `warn` line that says why; the daemon reads it as unknown too."""
    sqs = boto3.client("sqs", endpoint_url=queues.endpoint, region_name="us-east-1")
    dlq_arn = sqs.get_queue_attributes(QueueUrl=queues.dlq_url, AttributeNames=["QueueArn"])[
        "Attributes"
    ]["QueueArn"]
    policy = json.dumps({"deadLetterTargetArn": dlq_arn, "maxReceiveCount": 0})
    odd = sqs.create_queue(QueueName="odd-policy", Attributes={"RedrivePolicy": policy})
    settings = settings_for(
        queues, "http://127.0.0.1:9", tmp_path / "t.db", queue_url=odd["QueueUrl"]
    )
    (line,) = check_lines(settings, "queue")
    assert line.startswith("warn  queue    "), line
    assert "maxReceiveCount" in line and "dead letters go uncounted" in line
