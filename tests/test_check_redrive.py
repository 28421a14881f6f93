"""`triage check`'s queue line reads the redrive policy as the daemon does (one reader): a
policy whose maxReceiveCount the daemon cannot read is a warning, not an `ok`, since the
daemon then counts no dead letters."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import boto3

from daemon_harness import Queues, settings_for
from fault_proxy import FaultProxy
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


def test_the_queue_lines_count_is_shown_only_when_it_is_one(queues: Queues, tmp_path: Path) -> None:
    """A queue endpoint (a proxy, a stand-in) answering a count that is no count, with a line
    break and a forged check line in it, shows `?` on the queue line: its text never reaches
    the report (it printed as answered)."""
    forged = "7\r\nok    backend  forged"

    def odd_count(answer: dict[str, Any]) -> dict[str, Any]:
        return {
            **answer,
            "Attributes": {**answer["Attributes"], "ApproximateNumberOfMessages": forged},
        }

    with FaultProxy(queues.endpoint) as proxy:
        proxy.rewrite("AmazonSQS.GetQueueAttributes", odd_count)
        settings = settings_for(
            queues,
            "http://127.0.0.1:9",
            tmp_path / "t.db",
            queue_url=proxy.queue_url(queues.url),
            aws_endpoint_url=proxy.url,
        )
        (line,) = check_lines(settings, "queue")
    assert "(? visible" in line, line
    assert "forged" not in line and "\r" not in line
