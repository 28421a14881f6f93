"""Two gaps in `triage ingest` found by an attack sweep, each shown through real requests on
127.0.0.1 in front of moto: a chunk size spelt with more hex digits than any body needs (leading
zeros) is a framing fault, and a large Alertmanager API batch is split into queue messages off
the event loop (a small one on it), into the same messages either way."""

from __future__ import annotations

import json
import threading
from collections.abc import AsyncIterator, Callable

import httpx2
import pytest

from daemon_harness import Queues
from ingest_harness import bearer, ingest_settings, loopback_client, running
from triage.ingest import IngestService, messages
from triage.ingest.validate import OFFLOAD_BODY_BYTES

# --- A large batch is split off the event loop ---------------------------------------------


@pytest.fixture
async def gateway(queues: Queues) -> AsyncIterator[IngestService]:
    """The gateway on a free port, with the harness's tokens, in front of moto's `alerts` queue."""
    async with running(ingest_settings(queues.url, queues.endpoint)) as service:
        yield service


@pytest.fixture
async def client(gateway: IngestService) -> AsyncIterator[httpx2.AsyncClient]:
    async with loopback_client(gateway.port) as c:
        yield c


@pytest.fixture
def splitting_threads(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """The thread of each call that makes an alert's text fit SQS while a batch is split (the
    real function, watched)."""
    threads: list[int] = []
    real: Callable[[str], str] = messages.sqs_safe

    def watched(text: str) -> str:
        threads.append(threading.get_ident())
        return real(text)

    monkeypatch.setattr(messages, "sqs_safe", watched)
    return threads


async def queue_takes_at_most(queues: Queues, gateway: IngestService, size: int) -> None:
    """The queue's MaximumMessageSize becomes `size`, and the gateway knows it."""
    queues.client().set_queue_attributes(
        QueueUrl=queues.url, Attributes={"MaximumMessageSize": str(size)}
    )
    assert gateway.gateway is not None
    await gateway.gateway.probe.refresh()


def batch_of(size_bytes: int) -> str:
    """A Prometheus API batch of alerts of about 500 bytes each, at least `size_bytes` long."""
    count = size_bytes // 500 + 1
    return json.dumps(
        [
            {"labels": {"alertname": "DiskFull", "instance": f"db-{i}"},
             "annotations": {"description": f"disk on db-{i} is full " + "x" * 400}}
            for i in range(count)
        ]
    )  # fmt: skip


def take_queued(queues: Queues) -> list[str]:
    """The bodies on the queue, in the order sent (moto keeps it), removed from it."""
    sqs, bodies = queues.client(), []
    while batch := sqs.receive_message(QueueUrl=queues.url, MaxNumberOfMessages=10).get(
        "Messages", []
    ):
        bodies += [m["Body"] for m in batch]
        entries = [{"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]} for i, m in enumerate(batch)]
        sqs.delete_message_batch(QueueUrl=queues.url, Entries=entries)
    return bodies


async def post_batch(client: httpx2.AsyncClient, batch: str) -> int:
    """Post `batch` to Alertmanager's API path; how many messages it became."""
    response = await client.post("/api/v2/alerts", content=batch, headers=bearer("alertmanager"))
    assert response.status_code == 200, response.text
    count: int = response.json()["messages"]
    return count


async def test_a_large_batch_is_split_on_a_worker_thread_and_a_small_one_on_the_loop(
    client: httpx2.AsyncClient,
    queues: Queues,
    gateway: IngestService,
    splitting_threads: list[int],
) -> None:
    """A batch past OFFLOAD_BODY_BYTES is split into messages on another thread than the event
    loop's, so the loop keeps answering; a batch under it is split on the loop's thread."""
    await queue_takes_at_most(queues, gateway, 16 * 1024)
    loop_thread = threading.get_ident()  # the gateway runs in this test's loop
    assert await post_batch(client, batch_of(OFFLOAD_BODY_BYTES // 2)) > 1
    assert splitting_threads and set(splitting_threads) == {loop_thread}
    splitting_threads.clear()
    assert await post_batch(client, batch_of(OFFLOAD_BODY_BYTES * 3)) > 1
    assert splitting_threads and loop_thread not in splitting_threads


async def test_a_batch_split_off_the_loop_queues_the_same_messages_as_on_it(
    client: httpx2.AsyncClient,
    queues: Queues,
    gateway: IngestService,
    splitting_threads: list[int],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The same large batch split on a worker thread and (with the bound raised) on the loop
    is queued as the same messages, in the same order."""
    await queue_takes_at_most(queues, gateway, 64 * 1024)
    batch = batch_of(OFFLOAD_BODY_BYTES * 3)
    off_loop = await post_batch(client, batch)
    assert threading.get_ident() not in splitting_threads
    split_off_loop = take_queued(queues)
    monkeypatch.setattr(messages, "OFFLOAD_BODY_BYTES", len(batch))
    splitting_threads.clear()
    assert await post_batch(client, batch) == off_loop > 1
    assert set(splitting_threads) == {threading.get_ident()}
    assert take_queued(queues) == split_off_loop
