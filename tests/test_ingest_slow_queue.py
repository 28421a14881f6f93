"""`triage ingest` while SQS answers slowly: the webhooks waiting for it are bounded in number,
not only in bytes, and one beyond the bound is answered 503 with Retry-After at once; a stop
past the grace does not wait for SQS either."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Iterator

import httpx2
import pytest
from structlog.testing import capture_logs

from daemon_harness import Queues
from ingest_harness import SqsProxy, bearer, ingest_settings, loopback_client, running
from triage.ingest import IngestService
from triage.ingest.outbox import SqsOutbox

BOUND = 3


def body(n: int) -> bytes:
    return json.dumps({"title": f"slow queue {n}"}).encode()


@pytest.fixture
def proxy(moto_url: str) -> Iterator[SqsProxy]:
    with SqsProxy(moto_url) as running_proxy:
        yield running_proxy


@pytest.fixture
async def gateway(
    queues: Queues, proxy: SqsProxy, monkeypatch: pytest.MonkeyPatch
) -> AsyncIterator[IngestService]:
    """The gateway through the proxy, letting at most BOUND webhooks wait for SQS."""
    monkeypatch.setattr(IngestService, "max_waiting_for_queue", BOUND)
    settings = ingest_settings(proxy.queue_url(queues.url), proxy.url)
    async with running(settings) as service:
        yield service


async def until(condition: object, what: str) -> None:
    """Wait (10 s at most) until `condition()` is true."""
    assert callable(condition)
    loop = asyncio.get_running_loop()
    deadline = loop.time() + 10
    while not condition():
        assert loop.time() < deadline, what
        await asyncio.sleep(0.01)


async def test_a_webhook_beyond_the_waiting_bound_is_503_at_once(
    gateway: IngestService, proxy: SqsProxy, queues: Queues
) -> None:
    """With BOUND webhooks waiting for a silent SQS, the next is 503 with Retry-After and one
    line (it does not wait too); once SQS answers, the waiting ones are 202 and the bound
    frees: the next is accepted."""
    outbox = gateway._outbox
    assert isinstance(outbox, SqsOutbox)
    proxy.released.clear()
    async with loopback_client(gateway.port) as client:
        waiting = [
            asyncio.create_task(
                client.post("/v1/alerts/generic", content=body(n), headers=bearer("generic"))
            )
            for n in range(BOUND)
        ]
        await until(lambda: outbox.waiting == BOUND, "the webhooks never reached the outbox")
        with capture_logs() as logs:
            beyond = await asyncio.wait_for(
                client.post("/v1/alerts/generic", content=body(99), headers=bearer("generic")),
                10,
            )
        assert beyond.status_code == 503
        assert beyond.headers["retry-after"] == "1"
        assert beyond.json()["error"] == "too many webhooks waiting for the queue"
        (line,) = [e for e in logs if e["event"] == "ingest.refused"]
        assert line["reason"] == "busy"
        proxy.released.set()
        assert [(await w).status_code for w in waiting] == [202] * BOUND
        after = await client.post(
            "/v1/alerts/generic", content=body(100), headers=bearer("generic")
        )
        assert after.status_code == 202
    assert outbox.waiting == 0


async def test_shutdown_past_the_grace_does_not_wait_for_a_silent_sqs(
    queues: Queues, proxy: SqsProxy
) -> None:
    """A request still waiting for a silent SQS when the grace ends is cancelled, and the send
    it started is abandoned at once: the stop does not wait out botocore's tries (three of 10 s,
    past ECS's 30 s stop timeout); the request and the abandoned calls are one line each."""
    settings = ingest_settings(proxy.queue_url(queues.url), proxy.url, shutdown_grace_s=0.2)
    proxy.released.clear()
    service = IngestService(settings, stop=asyncio.Event())
    await service.startup()
    with capture_logs() as logs:
        try:
            async with loopback_client(service.port) as client:
                post = asyncio.create_task(
                    client.post("/v1/alerts/generic", content=body(1), headers=bearer("generic"))
                )
                await until(lambda: proxy.sends_waiting == 1, "the send never reached SQS")
                service.should_exit.set()
                await service.shutdown()
                with pytest.raises(httpx2.HTTPError):
                    await post  # its connection closed without an answer: the sender retries
        finally:
            calls = proxy.count("SendMessage")
            proxy.released.set()
    assert calls == 1  # botocore never got to its second try
    assert [e["calls"] for e in logs if e["event"] == "ingest.sends_abandoned"] == [1]
    (cancelled,) = [e for e in logs if e["event"] == "ingest.cancelled"]
    assert cancelled["source"] == "generic"
