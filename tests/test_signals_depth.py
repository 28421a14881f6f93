"""The queue-depth gauges under an unlucky SQS: a poll SQS leaves hanging fails in time (its
gauges cleared, not left showing the last depth), and an outage of many polls is one warning
and one line when it ends."""

from __future__ import annotations

import structlog
from botocore.config import Config

from daemon_harness import Queues
from fault_proxy import FaultProxy
from moto_speed import loopback_aws_client
from triage.metrics import Metrics
from triage.sqs.depth import DepthPoller

ONCE = Config(retries={"total_max_attempts": 1}, read_timeout=30)
DEPTH_GAUGES = {"QueueMessagesVisible", "QueueMessagesInFlight", "QueueMessagesDelayed"}


def gauge_names(metrics: Metrics) -> set[str]:
    """The names of the gauges that have a value now."""
    return {name for name, _ in metrics.gauges()}


async def test_a_poll_sqs_leaves_hanging_clears_the_depth_gauges_in_time(queues: Queues) -> None:
    """GetQueueAttributes held for 30 s (a read timeout away) fails the poll after its own
    bound: the depth gauges go, QueueDepthPollFailures counts it, one warning says so."""
    metrics = Metrics()
    with FaultProxy(queues.endpoint) as proxy:
        async with loopback_aws_client("sqs", endpoint_url=proxy.url, config=ONCE) as client:
            # The first poll, which a busy machine may take long over (the client's first
            # call), has time to answer; the held one is cut at 0.2 s.
            poller = DepthPoller(client, proxy.queue_url(queues.url), metrics, 30, timeout_s=30)
            assert await poller.poll() is not None
            assert gauge_names(metrics) >= DEPTH_GAUGES
            poller.timeout_s = 0.2
            proxy.delay("AmazonSQS.GetQueueAttributes", 30)
            with structlog.testing.capture_logs() as logs:
                assert await poller.poll() is None
            proxy.delay("AmazonSQS.GetQueueAttributes", 0)
    assert gauge_names(metrics) & DEPTH_GAUGES == set()
    assert metrics.counter("QueueDepthPollFailures") == 1
    assert [(e["event"], e["log_level"]) for e in logs] == [("queue_depth.poll_failed", "warning")]
    assert logs[0]["error"] == "no answer within 0.2 s"


async def test_an_outage_of_many_polls_is_one_warning_and_its_end_one_line(queues: Queues) -> None:
    """Three failed polls in a row: one queue_depth.poll_failed warning (the others debug),
    each counted; the poll that works again logs queue_depth.recovered once."""
    metrics = Metrics()
    async with loopback_aws_client("sqs", endpoint_url=queues.endpoint) as client:
        poller = DepthPoller(client, queues.url + "-gone", metrics, 30)
        with structlog.testing.capture_logs() as logs:
            for _ in range(3):
                assert await poller.poll() is None
            poller.queue_url = queues.url
            assert await poller.poll() is not None
            assert await poller.poll() is not None
    shown = [(e["event"], e["log_level"]) for e in logs if e["log_level"] != "debug"]
    assert shown == [("queue_depth.poll_failed", "warning"), ("queue_depth.recovered", "info")]
    assert metrics.counter("QueueDepthPollFailures") == 3
    assert logs[-1]["failed_polls"] == 3
