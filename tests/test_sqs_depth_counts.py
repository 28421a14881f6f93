"""The depth poller reads SQS's counts as strictly as the inbox does (`inbox.depth`): only a
non-negative decimal count as SQS writes it ("3"). Anything else a queue endpoint answers (a
stand-in, a proxy) fails that poll: the gauges are left unset rather than showing a wrong
depth, and the outage is one warning naming the attribute."""

from __future__ import annotations

from typing import Any

import pytest
import structlog

from daemon_harness import Queues
from fault_proxy import FaultProxy
from moto_speed import loopback_aws_client
from test_signals_depth import ONCE
from triage.metrics import Metrics
from triage.sqs.depth import DepthPoller

ATTRIBUTES = "AmazonSQS.GetQueueAttributes"
#: What `int()` takes but no SQS count is: a sign, spaces, another script's digits, a float.
NOT_COUNTS = ["-3", " 3", "3 ", "+3", "\u0663", "3.0", "1_000", "", "many"]


def gauges(metrics: Metrics) -> dict[str, float]:
    return {name: gauge.value for (name, _), gauge in metrics.gauges().items()}


async def two_polls(
    queues: Queues, change: Any
) -> tuple[list[object], Metrics, list[dict[str, Any]]]:
    """Two polls through a proxy answering GetQueueAttributes with `change(answer)`: what
    each returned, the metrics, the log lines."""
    metrics = Metrics()
    with FaultProxy(queues.endpoint) as proxy:
        proxy.rewrite(ATTRIBUTES, change)
        async with loopback_aws_client("sqs", endpoint_url=proxy.url, config=ONCE) as sqs:
            poller = DepthPoller(sqs, proxy.queue_url(queues.url), metrics, 30)
            with structlog.testing.capture_logs() as logs:
                polled = [await poller.poll(), await poller.poll()]
    return polled, metrics, logs


def queue_count(value: str) -> Any:
    def change(answer: dict[str, Any]) -> dict[str, Any]:
        attributes = dict(answer.get("Attributes", {}))
        if "RedrivePolicy" in attributes:  # the queue's answer, not its DLQ's
            attributes["ApproximateNumberOfMessagesNotVisible"] = value
        return {"Attributes": attributes}

    return change


def dlq_count(value: str) -> Any:
    def change(answer: dict[str, Any]) -> dict[str, Any]:
        attributes = dict(answer.get("Attributes", {}))
        if "RedrivePolicy" not in attributes:  # the DLQ's answer
            attributes["ApproximateNumberOfMessages"] = value
        return {"Attributes": attributes}

    return change


@pytest.mark.parametrize("value", NOT_COUNTS)
async def test_a_queue_count_that_is_no_count_leaves_the_gauges_unset(
    queues: Queues, value: str
) -> None:
    """The queue's in-flight count answered as no count: both polls fail, no depth gauge is
    set (a `-3` or a misread `٣` would read as a true depth), each is counted, and one warning
    (then debug) names the attribute."""
    polled, metrics, logs = await two_polls(queues, queue_count(value))
    assert polled == [None, None]
    assert gauges(metrics) == {}
    assert metrics.counter("QueueDepthPollFailures") == 2
    failed = [e for e in logs if e["event"] == "queue_depth.poll_failed"]
    assert [e["log_level"] for e in failed] == ["warning", "debug"]
    assert "ApproximateNumberOfMessagesNotVisible" in failed[0]["error"]
    assert "not a count" in failed[0]["error"]


@pytest.mark.parametrize("value", ["-1", "\u0661", " 1"])
async def test_a_dlq_count_that_is_no_count_fails_the_poll(queues: Queues, value: str) -> None:
    """The DLQ's count answered as no count fails the poll the same way: no gauge shows a
    dead-letter depth SQS did not say."""
    polled, metrics, logs = await two_polls(queues, dlq_count(value))
    assert polled == [None, None]
    assert gauges(metrics) == {}
    failed = [e for e in logs if e["event"] == "queue_depth.poll_failed"]
    assert [e["log_level"] for e in failed] == ["warning", "debug"]
    assert "ApproximateNumberOfMessages" in failed[0]["error"]


async def test_counts_as_sqs_writes_them_are_read(queues: Queues) -> None:
    """Decimal counts as SQS writes them ("0", "7") set the gauges: the strict reading
    refuses only what is no count."""
    polled, metrics, logs = await two_polls(queues, queue_count("7"))
    assert all(p is not None for p in polled)
    assert gauges(metrics)["QueueMessagesInFlight"] == 7
    assert not [e for e in logs if e["event"] == "queue_depth.poll_failed"]
