"""The redrive policy as a queue endpoint may answer it beyond SQS's own API (a stand-in, a
proxy): a policy that is no text, nested past any parser, or attributes that are no map read
as "unknown" with one warning at start-up, never a crash of the daemon's start."""

from __future__ import annotations

import json
from typing import Any

import pytest
import structlog

from daemon_harness import Queues
from fault_proxy import FaultProxy
from moto_speed import loopback_aws_client
from test_signals_depth import ONCE
from triage.metrics import Metrics
from triage.sqs.depth import DepthPoller
from triage.sqs.redrive import max_receive_count, read_max_receive_count

ATTRIBUTES = "AmazonSQS.GetQueueAttributes"


@pytest.mark.parametrize(
    "attributes",
    [
        {"RedrivePolicy": {"maxReceiveCount": 3}},
        {"RedrivePolicy": 5},
        {"RedrivePolicy": None},
        {"RedrivePolicy": "[" * 100_000 + "]" * 100_000},
        ["RedrivePolicy"],
        None,
    ],
    ids=["policy-an-object", "policy-a-number", "policy-null", "policy-too-deep", "a-list", "none"],
)
def test_attributes_beyond_the_api_read_as_no_limit(attributes: Any) -> None:
    """A policy that is not JSON text, or attributes that are no map, is no limit (None)."""
    assert max_receive_count(attributes) is None


@pytest.mark.parametrize(
    ("written", "read"),
    [
        *[("3", 3), (3, 3), ("10", 10), ("0", None), (" 3", None), ("+3", None), ("-3", None)],
        *[("\u0663", None), ("3.0", None), ("1_000", None), (True, None), ("", None)],
    ],
)
def test_max_receive_count_is_read_as_strictly_as_the_inbox_reads_counts(
    written: object, read: int | None
) -> None:
    """A policy's maxReceiveCount is a positive count as SQS writes it (a string or a JSON
    number); a sign, spaces, non-ASCII digits or a fraction are no limit (None), as the inbox
    refuses them in its own counts (Python's int() took " 3", "+3" and "\u0663")."""
    policy = json.dumps(
        {"deadLetterTargetArn": "arn:aws:sqs:us-east-1:1:dlq", "maxReceiveCount": written}
    )
    assert max_receive_count({"RedrivePolicy": policy}) == read


@pytest.mark.parametrize(
    "answer",
    [
        {"Attributes": {"RedrivePolicy": {"maxReceiveCount": 3}}},
        {"Attributes": ["RedrivePolicy"]},
        {"Attributes": "RedrivePolicy"},
    ],
    ids=["policy-an-object", "attributes-a-list", "attributes-text"],
)
async def test_a_start_up_read_of_such_an_answer_is_unknown_with_one_warning(
    answer: dict[str, Any], queues: Queues
) -> None:
    """GetQueueAttributes answered with a policy or attributes of the wrong type: the
    daemon's start-up read says unknown, with one `redrive.unknown` warning, and raises
    nothing."""
    with FaultProxy(queues.endpoint) as proxy:
        proxy.rewrite(ATTRIBUTES, lambda _: answer)
        async with loopback_aws_client("sqs", endpoint_url=proxy.url, config=ONCE) as client:
            with structlog.testing.capture_logs() as logs:
                limit = await read_max_receive_count(client, proxy.queue_url(queues.url))
    assert limit is None
    assert [(e["event"], e["log_level"]) for e in logs] == [("redrive.unknown", "warning")]


@pytest.mark.parametrize(
    "policy",
    ["[" * 100_000 + "]" * 100_000, '{"deadLetterTargetArn": 5}', "{}", "null"],
    ids=["too-deep", "arn-a-number", "no-arn", "null"],
)
async def test_a_depth_poll_of_a_policy_beyond_the_api_fails_that_poll_only(
    policy: str, queues: Queues
) -> None:
    """The depth poller reading a RedrivePolicy nested past any parser, or without a DLQ's
    ARN: that poll fails with one warning and raises nothing (a raise would end the helper,
    and the daemon with it)."""
    with FaultProxy(queues.endpoint) as proxy:
        proxy.rewrite(ATTRIBUTES, lambda _: {"Attributes": {"RedrivePolicy": policy}})
        async with loopback_aws_client("sqs", endpoint_url=proxy.url, config=ONCE) as client:
            poller = DepthPoller(client, proxy.queue_url(queues.url), Metrics(), 30)
            with structlog.testing.capture_logs() as logs:
                assert await poller.poll() is None
    failed = [e["log_level"] for e in logs if e["event"] == "queue_depth.poll_failed"]
    assert failed == ["warning"]
