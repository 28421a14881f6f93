"""The gateway's SQS calls are tried twice, no more: a sender waits for its answer, so an SQS
that fails a call costs one retry before the gateway says so (a 503, or not ready)."""

from __future__ import annotations

import asyncio

import structlog

from daemon_harness import Queues
from fault_proxy import FaultProxy
from ingest_harness import bearer, ingest_settings, loopback_client, payload, running

#: The gateway's sends: SendMessage for a lone message, SendMessageBatch for several at once.
SENDS = ("AmazonSQS.SendMessage", "AmazonSQS.SendMessageBatch")


async def test_a_send_sqs_fails_is_tried_twice_then_answered_503(queues: Queues) -> None:
    """A send SQS answers 500 (SendMessage: one webhook is one entry) is sent twice (one
    retry), then the webhook is answered 503 and nothing is queued."""
    with FaultProxy(queues.endpoint) as proxy:
        for call in SENDS:
            proxy.refuse(call, 500, "InternalError")
        settings = ingest_settings(proxy.queue_url(queues.url), proxy.url)
        async with running(settings) as service, loopback_client(service.port) as client:
            response = await client.post(
                "/v1/alerts/generic",
                content=payload("generic/firing.json"),
                headers=bearer("generic"),
            )
        assert response.status_code == 503, response.text
        assert sum(proxy.requests(call) for call in SENDS) == 2
    assert queues.depth() == 0


async def test_a_probe_sqs_fails_is_tried_twice_then_logged_unreachable(queues: Queues) -> None:
    """A GetQueueAttributes SQS answers 500 at start-up is sent twice (one retry) before the
    gateway logs the queue unreachable."""
    with FaultProxy(queues.endpoint) as proxy:
        proxy.refuse("AmazonSQS.GetQueueAttributes", 500, "InternalError")
        settings = ingest_settings(proxy.queue_url(queues.url), proxy.url)
        with structlog.testing.capture_logs() as logs:
            async with running(settings):
                deadline = asyncio.get_running_loop().time() + 10
                while not any(e["event"] == "ingest.queue_unreachable" for e in logs):
                    assert asyncio.get_running_loop().time() < deadline, logs
                    await asyncio.sleep(0.02)
                # The next probe is PROBE_TTL_S (10 s) away: every call so far was this one's.
                assert proxy.requests("AmazonSQS.GetQueueAttributes") == 2
