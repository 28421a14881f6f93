"""Faults and triage's own signals, round 14 (task 459): each test a fault a replica meets in
production, proved at the fastest level that shows it.

- A DynamoDB write whose answer was lost (a 500 or a read timeout after the item was written)
  is sent again by botocore's own retry (standard mode, as the daemon's client is set up);
  that retry's condition fails on the write it follows, and the store took the
  ConditionalCheckFailedException for another replica's write. A sink's confirmation that
  finished the effect then read as "the claim is someone else's": the message failed with
  `store.lease_lost` though the ticket was made and confirmed, and TicketsCreated never
  counted it; a repeat's count read back as a delivery already counted (`ignore`), so
  DuplicatesSuppressed missed it.
- A DynamoDB table that did not answer at start-up (`store.unavailable_at_start`) left
  `/readyz` answering ready from the moment the endpoints listened until the supervisor's first
  ping had failed (up to its 5 s bound), though the daemon knew the store was down: a load
  balancer's or ECS's check in that window took a replica that can handle nothing as ready.
- A heartbeat extension sent while a message's work was ending (its batch's call slow, or
  retried by botocore, or the later of several batches) reached SQS after the message's
  delete: SQS refused it as a stale receipt handle, and a message handled and deleted got a
  `message.visibility_failed` warning, as if its visibility had been lost.
- A worker cancelled (the stop past its grace, the message's time limit) after its sink had
  answered, while the store write confirming that answer was out, cancelled the write with
  it: the claim was given back without the answer, so the next delivery, on another replica
  or after the restart, called the sink again (Slack, which takes no idempotency key, posted
  twice) and TicketsCreated counted the one ticket twice.
- At a stop whose last deletes SQS did not answer in time, the metrics' last flush ran before
  the workers those deletes were cut off for said so: CloudWatch never got their
  `MessagesFailed{reason=delete}` (`daemon.stopped` did), and its last `MessagesInFlight` was
  the messages still waiting, a gauge left stale by a daemon that has stopped.
"""

from __future__ import annotations

import asyncio
import io
import json
import socket
import threading
import time
from collections.abc import AsyncIterator, Callable, MutableMapping, Sequence
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx2
import pytest
import structlog

from daemon_harness import TOKEN, Queues, settings_for
from fault_proxy import FaultProxy
from memory_inbox import MemoryInbox
from moto_speed import loopback_aws_client
from recording_pipeline import POLICY, Sink, Summariser
from triage.app import run_daemon
from triage.aws import _CONFIG
from triage.demo.ticketd import TicketServer
from triage.incidents.dynamodb import DynamoDBStore, create_table
from triage.incidents.ledger import Ledger
from triage.incidents.lifecycle import Action, Outcome
from triage.metrics import Metrics
from triage.models import EffectKind
from triage.ops.metrics_export import EmfExporter, flush_every
from triage.pipeline import Pipeline
from triage.redact import Redactor
from triage.sqs.inbox import Message, SqsInbox
from triage.sqs.supervisor import Progress, Supervisor, SupervisorConfig

PUT = "DynamoDB_20120810.PutItem"


# --- A write DynamoDB made whose answer was lost, sent again by botocore ----------------------


class _AnswerLostProxy(FaultProxy):
    """Relays every call to moto; told `lose_put_answers(n)`, answers the next `n` PutItems
    that moto wrote with a 500 (DynamoDB's InternalServerError after the write), so botocore
    sends each again, as it does after a read timeout."""

    def __init__(self, upstream: str) -> None:
        super().__init__(upstream)
        self._answers_to_lose = 0

    def lose_put_answers(self, count: int) -> None:
        with self._lock:
            self._answers_to_lose = count

    def _exchange(
        self, method: str, path: str, headers: dict[str, str], body: bytes
    ) -> tuple[int, list[tuple[str, str]], bytes]:
        status, reply_headers, reply = super()._exchange(method, path, headers, body)
        if headers.get("x-amz-target") != PUT or status != 200:
            return status, reply_headers, reply
        with self._lock:
            lose = self._answers_to_lose > 0
            self._answers_to_lose -= lose
        if not lose:
            return status, reply_headers, reply
        error = {"__type": "com.amazonaws.dynamodb.v20120810#InternalServerError", "message": "x"}
        return 500, [("Content-Type", "application/x-amz-json-1.0")], json.dumps(error).encode()


@pytest.fixture
async def answer_lost(moto_url: str) -> AsyncIterator[tuple[_AnswerLostProxy, DynamoDBStore]]:
    """A table on moto, and a store whose client (the daemon's retry settings) goes through a
    proxy that can lose PutItem answers."""
    async with loopback_aws_client("dynamodb", endpoint_url=moto_url) as plain:
        await create_table(plain, "incidents")
    with _AnswerLostProxy(moto_url) as proxy:
        async with loopback_aws_client(
            "dynamodb", endpoint_url=proxy.url, config=_CONFIG
        ) as client:
            store = DynamoDBStore(
                client, "incidents", POLICY, timedelta(minutes=2), timedelta(days=30)
            )
            yield proxy, store


async def test_a_write_whose_answer_botocore_retried_is_taken_as_written(
    answer_lost: tuple[_AnswerLostProxy, DynamoDBStore],
) -> None:
    """Every write of a new incident (its claim, its summary, the sink's confirmation) and of
    a repeat's count is written by DynamoDB with its answer lost, and sent again by botocore,
    whose retry's condition fails on that very write: the store takes its own write as done.
    The ticket is opened once and counted once in TicketsCreated, the repeat once in
    DuplicatesSuppressed, and no line says the claim was lost to another worker."""
    proxy, store = answer_lost
    sink = Sink()
    metrics = Metrics()
    pipeline = Pipeline(
        Ledger(store), Summariser(), [sink], metrics, redactor=Redactor(), policy=POLICY
    )
    body = json.dumps({"title": "disk full on db-1", "dedup_key": "disk-db-1", "team": "ops"})
    with structlog.testing.capture_logs() as logs:
        proxy.lose_put_answers(100)
        await pipeline.process(Message("m-1", body, "rh-1", 1, None))
        await pipeline.process(Message("m-2", body, "rh-2", 1, None))
    assert proxy.errors("ConditionalCheckFailedException") >= 4  # every write was sent twice
    assert [e.kind for e in sink.effects] == [EffectKind.OPEN]
    assert metrics.total("TicketsCreated") == 1
    assert metrics.total("DuplicatesSuppressed") == 1
    assert not [e for e in logs if e["event"] == "store.lease_lost"]


# --- A store down at start-up, and /readyz before the first ping -------------------------------

DESCRIBE = "DynamoDB_20120810.DescribeTable"


async def test_a_store_down_at_start_is_not_ready_before_the_first_ping(
    moto_url: str,
    queues: Queues,
    backend: TicketServer,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """DynamoDB refuses the start-up's DescribeTable (the daemon starts all the same, as it
    rides out a store outage) and holds the first ping's write: `/readyz` says
    `store: unavailable` from its first answer, not ready while the ping is still out; once the
    store answers again it is ready, and `store.recovered` says so."""
    async with loopback_aws_client("dynamodb", endpoint_url=moto_url) as client:
        await create_table(client, "incidents")
    monkeypatch.setenv("BACKEND_TOKEN", TOKEN)
    port = _free_port()
    with FaultProxy(moto_url) as proxy:
        proxy.refuse(DESCRIBE, 400, "AccessDeniedException", "not authorized")
        proxy.delay(PUT, 6.0)  # the first ping's write: past the ping's own 5 s bound
        settings = settings_for(
            queues,
            backend.url,
            tmp_path / "unused.db",
            aws_endpoint_url=proxy.url,
            store_url="dynamodb://incidents",
            http_port=port,
        )
        stop = asyncio.Event()
        with structlog.testing.capture_logs() as logs:
            daemon = asyncio.create_task(run_daemon(settings, stop=stop))
            try:
                url = f"http://127.0.0.1:{port}/readyz"
                first = await asyncio.to_thread(_first_answer, url)
                assert first.status_code == 503, first.text
                assert first.json()["failing"].get("store") == "unavailable", first.text
                proxy.heal(DESCRIBE)
                proxy.delay(PUT, 0)
                await asyncio.to_thread(_until_ready, url)
            finally:
                stop.set()
                await asyncio.wait_for(daemon, 30)
    events = [e["event"] for e in logs]
    assert "store.unavailable_at_start" in events
    assert "store.recovered" in events


def _first_answer(url: str) -> httpx2.Response:
    """The first answer of `url` once the daemon listens (a deadline for a hang, not speed)."""
    deadline = time.monotonic() + 30
    with httpx2.Client() as client:
        while True:
            try:
                return client.get(url)
            except httpx2.TransportError:
                assert time.monotonic() < deadline, "the daemon never listened"
                time.sleep(0.02)


def _until_ready(url: str) -> None:
    """Wait until `url` answers 200 (a deadline for a hang, not speed)."""
    deadline = time.monotonic() + 30
    with httpx2.Client() as client:
        while client.get(url).status_code != 200:
            assert time.monotonic() < deadline, "never ready again"
            time.sleep(0.05)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


# --- A heartbeat extension that reaches SQS after its message's delete ------------------------

EXTEND = "AmazonSQS.ChangeMessageVisibilityBatch"


async def test_an_extension_out_as_the_work_ends_does_not_outlive_the_delete(
    moto_url: str, queues: Queues
) -> None:
    """The heartbeat's extension of a message is out (SQS slow to answer it) when the
    message's work ends: the delete is sent once the extension is answered, so SQS applies the
    two in order. The message is deleted, acked once, and no `message.visibility_failed` line
    says a visibility was lost (the extension landing after the delete was refused as a stale
    receipt handle, a warning for a message handled well)."""
    queues.send({"title": "disk full on db-1"})
    with FaultProxy(moto_url) as proxy:
        proxy.delay(EXTEND, 1.5)
        async with loopback_aws_client("sqs", endpoint_url=proxy.url) as sqs:
            inbox = SqsInbox(sqs, proxy.queue_url(queues.url))

            async def until_extension_out(_message: Message, _progress: Progress) -> list[Outcome]:
                deadline = time.monotonic() + 20
                while proxy.requests(EXTEND) == 0:
                    assert time.monotonic() < deadline, "the heartbeat never extended it"
                    await asyncio.sleep(0.01)
                return [Outcome("f" * 32, Action.OPEN, "generic")]

            config = SupervisorConfig(wait_s=1, visibility_timeout_s=3, shutdown_grace_s=5)
            metrics = Metrics()
            supervisor = Supervisor(config, inbox, until_extension_out, metrics)
            with structlog.testing.capture_logs() as logs:
                serving = asyncio.create_task(supervisor.serve())
                try:
                    await _until_logged(logs, "message.acked")
                    # The extension's answer, had it come after the delete, is read by now.
                    await _until(lambda: proxy.requests(EXTEND) >= 1 and _extension_done(logs))
                finally:
                    supervisor.should_exit.set()
                    await asyncio.wait_for(serving, 30)
    assert queues.depth() == 0
    assert metrics.total("MessagesHandled") == 1
    assert not [e for e in logs if e["event"] == "message.visibility_failed"]


def _extension_done(logs: list[MutableMapping[str, Any]]) -> bool:
    """The heartbeat's extension call has ended (answered, refused or failed)."""
    return any(e["event"] in ("heartbeat.extended", "message.visibility_failed") for e in logs)


async def _until_logged(logs: list[MutableMapping[str, Any]], event: str) -> None:
    """Wait until a line `event` is logged."""
    await _until(lambda: any(e["event"] == event for e in logs))


async def _until(condition: Callable[[], bool], timeout_s: float = 20.0) -> None:
    """Wait until `condition()` holds (polled), failing after `timeout_s`."""
    async with asyncio.timeout(timeout_s):
        while not condition():
            await asyncio.sleep(0.02)


# --- A worker cancelled while the write confirming its sink's answer is out --------------------


class _ThrottledFrom(FaultProxy):
    """Relays every call to moto, but answers the `first`-th PutItem and every later one with
    DynamoDB's throttle while `throttling`; `throttled` is set at the first such answer."""

    def __init__(self, upstream: str, first: int) -> None:
        super().__init__(upstream)
        self._first = first
        self._puts = 0
        self.throttling = True
        self.throttled = threading.Event()

    def stop_throttling(self) -> None:
        with self._lock:
            self.throttling = False

    def _exchange(
        self, method: str, path: str, headers: dict[str, str], body: bytes
    ) -> tuple[int, list[tuple[str, str]], bytes]:
        if headers.get("x-amz-target") == PUT:
            with self._lock:
                self._puts += 1
                refuse = self.throttling and self._puts >= self._first
            if refuse:
                self.throttled.set()
                code = "com.amazonaws.dynamodb.v20120810#ProvisionedThroughputExceededException"
                answer = json.dumps({"__type": code, "message": "slow down"}).encode()
                return 400, [("Content-Type", "application/x-amz-json-1.0")], answer
        return super()._exchange(method, path, headers, body)


async def test_a_sinks_answer_is_written_though_its_worker_is_cancelled(moto_url: str) -> None:
    """The backend opened the ticket; the write confirming it (the unit of work's fourth
    PutItem) is throttled and waits in botocore's backoff when the worker is cancelled (a stop
    past its grace). The write still goes out once DynamoDB takes writes again, before the
    claim is given back, so the next delivery of the message, worked by another replica (a
    ledger of its own, which cannot recall the answer), finds the effect done instead of
    calling the sink again, and TicketsCreated counts the ticket once."""
    async with loopback_aws_client("dynamodb", endpoint_url=moto_url) as plain:
        await create_table(plain, "incidents")
    sink = Sink()
    metrics = Metrics()
    body = json.dumps({"title": "disk full on db-1", "dedup_key": "disk-db-1", "team": "ops"})
    with _ThrottledFrom(moto_url, first=4) as proxy:
        async with loopback_aws_client(
            "dynamodb", endpoint_url=proxy.url, config=_CONFIG
        ) as client:
            store = DynamoDBStore(
                client, "incidents", POLICY, timedelta(minutes=2), timedelta(days=30)
            )

            def replica() -> Pipeline:
                ledger = Ledger(store)
                return Pipeline(
                    ledger, Summariser(), [sink], metrics, redactor=Redactor(), policy=POLICY
                )

            first = asyncio.create_task(replica().process(Message("m-1", body, "rh-1", 1, None)))
            assert await asyncio.to_thread(proxy.throttled.wait, 20)
            first.cancel()
            proxy.stop_throttling()
            with pytest.raises(asyncio.CancelledError):
                await first
            await replica().process(Message("m-1", body, "rh-2", 2, None))
    assert [e.kind for e in sink.effects] == [EffectKind.OPEN]
    assert metrics.total("TicketsCreated") == 1


# --- The metrics' last flush at a stop whose deletes SQS left unanswered ----------------------


class _DeletesUnanswered(MemoryInbox):
    """An in-memory queue whose delete calls SQS never answers; `delete_asked` is set at the first."""

    def __init__(self) -> None:
        super().__init__()
        self.delete_asked = asyncio.Event()

    async def delete(self, messages: Sequence[Message]) -> list[str]:
        self.delete_asked.set()
        await asyncio.Event().wait()
        raise AssertionError("unreachable")


async def test_the_last_metrics_flush_counts_the_deletes_the_stop_cut_off() -> None:
    """A message handled whose delete SQS does not answer before the stop: the acker's stop
    answers it not deleted, and the metrics' last flush (EMF) comes after its worker said so:
    it carries `MessagesFailed{reason=delete}`, as `daemon.stopped` does, and
    `MessagesInFlight` 0, not the message still waiting for its delete."""
    inbox = _DeletesUnanswered()
    inbox.put("a")
    metrics = Metrics()
    out = io.StringIO()
    emf = EmfExporter(metrics, "triage-test", stream=out)

    async def handler(_message: Message, _progress: Progress) -> list[Outcome]:
        return [Outcome("f" * 32, Action.OPEN, "generic")]

    supervisor = Supervisor(
        SupervisorConfig(wait_s=0, shutdown_grace_s=0.5),
        inbox,
        handler,
        metrics,
        helpers=[("metrics", lambda: flush_every(3600, emf.flush))],
    )
    serving = asyncio.create_task(supervisor.serve())
    await asyncio.wait_for(inbox.delete_asked.wait(), 10)
    supervisor.should_exit.set()
    await asyncio.wait_for(serving, 30)
    assert metrics.counter("MessagesFailed", reason="delete") == 1
    lines = [json.loads(text) for text in out.getvalue().splitlines()]
    flushed = {
        name: value
        for line in lines
        for name, value in line.items()
        if name in ("MessagesFailed", "MessagesInFlight")
    }
    assert flushed == {"MessagesFailed": 1.0, "MessagesInFlight": 0.0}, lines
