"""The daemon reads its queue's maxReceiveCount from the redrive policy once at start-up, so
it can count the messages it gives up on; a queue without a policy, a policy it cannot read,
or SQS not answering is "unknown" (None) with one line saying why, never a guess or a crash."""

from __future__ import annotations

from collections.abc import MutableMapping
from typing import Any

import pytest
import structlog

from daemon_harness import Queues
from fault_proxy import FaultProxy
from moto_speed import loopback_aws_client
from test_signals_depth import ONCE
from triage.sqs.redrive import max_receive_count, read_max_receive_count


async def test_the_queues_max_receive_count_is_read_from_sqs(queues: Queues) -> None:
    """A moto queue whose redrive policy moves a message after 2 receives reads as 2; its
    DLQ, which has no policy, reads as unknown."""
    async with loopback_aws_client("sqs", endpoint_url=queues.endpoint) as client:
        assert await read_max_receive_count(client, queues.url) == 2
        assert await read_max_receive_count(client, queues.dlq_url) is None


async def test_a_queue_sqs_cannot_find_is_unknown_with_one_warning(
    queues: Queues, logs: list[MutableMapping[str, Any]]
) -> None:
    """A queue URL SQS does not know is no crash at start-up: unknown, and one warning."""
    async with loopback_aws_client("sqs", endpoint_url=queues.endpoint) as client:
        assert await read_max_receive_count(client, queues.url + "-gone") is None
    warnings = [e for e in logs if e["event"] == "redrive.unknown"]
    assert len(warnings) == 1 and warnings[0]["log_level"] == "warning"


async def test_a_queue_sqs_leaves_hanging_is_unknown_within_the_bound(queues: Queues) -> None:
    """GetQueueAttributes held for 30 s does not hold up the daemon's start: after the bound,
    unknown, with one warning saying SQS did not answer."""
    with FaultProxy(queues.endpoint) as proxy:
        async with loopback_aws_client("sqs", endpoint_url=proxy.url, config=ONCE) as client:
            proxy.delay("AmazonSQS.GetQueueAttributes", 30)
            with structlog.testing.capture_logs() as logs:
                limit = await read_max_receive_count(
                    client, proxy.queue_url(queues.url), timeout_s=0.2
                )
            proxy.delay("AmazonSQS.GetQueueAttributes", 0)
    assert limit is None
    assert [(e["event"], e["log_level"]) for e in logs] == [("redrive.unknown", "warning")]
    assert logs[0]["error"] == "no answer within 0.2 s"


@pytest.mark.parametrize(
    ("policy", "expected"),
    [
        ('{"deadLetterTargetArn": "arn:aws:sqs:us-east-1:1:d", "maxReceiveCount": 5}', 5),
        ('{"deadLetterTargetArn": "arn:aws:sqs:us-east-1:1:d", "maxReceiveCount": "7"}', 7),
        ('{"maxReceiveCount": 0}', None),
        ('{"maxReceiveCount": "many"}', None),
        ('{"maxReceiveCount": true}', None),
        ('{"maxReceiveCount": 2.5}', None),
        ("[3]", None),
        ("not json", None),
        ("", None),
    ],
)
def test_only_a_positive_whole_max_receive_count_is_believed(
    policy: str, expected: int | None
) -> None:
    """maxReceiveCount as SQS writes it (a number or a string of one) is read; anything
    else (missing, zero, not whole, not JSON) is unknown rather than a wrong limit."""
    assert max_receive_count({"RedrivePolicy": policy}) == expected


def test_a_queue_without_a_redrive_policy_is_unknown() -> None:
    """No RedrivePolicy attribute: nothing is ever dead-lettered, so no limit."""
    assert max_receive_count({}) is None
