"""Shutdown round 2 (helper 465): signals that come while a stop is already under way, or
before serving began, in real processes, and the gateway's own threads for costly bodies."""

from __future__ import annotations

import asyncio
import contextlib
import json
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx2
import pytest

from daemon_harness import Daemon, Queues, daemon_env, settings_for
from fault_proxy import FaultProxy
from ingest_harness import (
    IngestProcess,
    SqsProxy,
    bearer,
    ingest_settings,
    loopback_client,
    payload,
    running,
)
from triage.demo.ticketd import TicketServer
from triage.ingest import IngestService, validate


def wait_until(condition: Callable[[], bool], timeout_s: float, what: str) -> None:
    """Poll `condition` until it holds; fail naming `what` at the deadline."""
    deadline = time.monotonic() + timeout_s
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.02)


def event_names(daemon: Daemon) -> list[str]:
    return [e.get("event", "") for e in daemon.events()]


class SlowCollector:
    """An OTLP/HTTP trace collector on 127.0.0.1 that holds each export's answer until the
    test releases it: the daemon's exit stack (its last step, the trace export) is then
    observably running while the test acts."""

    def __init__(self) -> None:
        self.arrived = threading.Event()
        self.release = threading.Event()
        collector = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                self.rfile.read(int(self.headers.get("Content-Length", "0")))
                collector.arrived.set()
                collector.release.wait(30)
                self.send_response(200)
                self.send_header("Content-Type", "application/x-protobuf")
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self._thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self) -> SlowCollector:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.release.set()
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def collector() -> Iterator[SlowCollector]:
    with SlowCollector() as c:
        yield c


def test_signal_during_the_exit_stack_still_ends_as_one_clean_stop(
    queues: Queues, backend: TicketServer, tmp_path: Path, collector: SlowCollector
) -> None:
    """A SIGTERM that comes while the stopped daemon exports its last spans exits 0, not 143."""
    queues.send({"title": "disk full", "source": "cron", "status": "firing", "dedup_key": "k1"})
    settings = settings_for(queues, backend.url, tmp_path / "triage.db", shutdown_grace_s=2)
    otel = {
        "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT": f"{collector.url}/v1/traces",
        # Only the stop's export sends spans: none on the processor's own schedule.
        "OTEL_BSP_SCHEDULE_DELAY": "600000",
    }
    daemon = Daemon(settings, log_dir=tmp_path, env=otel)
    try:
        wait_until(lambda: len(backend.tickets) == 1, 30, "the ticket")
        daemon.signal(signal.SIGTERM)
        wait_until(collector.arrived.is_set, 30, "the trace export at the stop")
        daemon.signal(signal.SIGTERM)  # while the exit stack waits for the collector
        wait_until(
            lambda: (
                daemon.process.poll() is not None or "daemon.signal_late" in event_names(daemon)
            ),
            10,
            "the late signal's line, or the daemon's end",
        )
        collector.release.set()
        assert daemon.wait(timeout=30) == 0, daemon.log[-3000:]
    finally:
        daemon.kill()
    names = event_names(daemon)
    assert "daemon.stopped" in names
    assert "daemon.signal_late" in names


def test_sigterm_while_start_up_reads_the_queue_is_a_clean_stop(
    backend: TicketServer, tmp_path: Path, collector: SlowCollector
) -> None:
    """SIGTERM while start-up waits for the queue's attributes exits 0 with one line saying why."""
    # The "SQS" here is the collector: it takes GetQueueAttributes and holds its answer.
    silent = Queues(collector.url, f"{collector.url}/123456789012/alerts", "")
    daemon = Daemon(settings_for(silent, backend.url, tmp_path / "triage.db"), log_dir=tmp_path)
    try:
        wait_until(collector.arrived.is_set, 30, "start-up's queue read")
        daemon.signal(signal.SIGTERM)
        assert daemon.wait(timeout=30) == 0, daemon.log[-3000:]
    finally:
        daemon.kill()
    stopped = [e for e in daemon.events() if e.get("event") == "daemon.stopped"]
    assert len(stopped) == 1
    assert stopped[0]["signal"] == "SIGTERM"
    assert "start-up" in stopped[0]["reason"]


# --- The gateway's threads for costly bodies --------------------------------------------------

GATE_S = 30.0


class ThreadGate:
    """Stands in for `validate.check`: the real check, then, for the gated sources' bodies, a
    wait on the thread that ran it until the test opens the gate; records those threads."""

    def __init__(self, real: Callable[..., Any], sources: set[str]) -> None:
        self.real = real
        self.sources = sources
        self.opened = threading.Event()
        self.threads: list[str] = []
        self.running = 0
        self._lock = threading.Lock()

    def __call__(self, source: str, *args: Any, **kwargs: Any) -> Any:
        checked = self.real(source, *args, **kwargs)
        if source in self.sources:
            with self._lock:
                self.threads.append(threading.current_thread().name)
                self.running += 1
            try:
                self.opened.wait(GATE_S)
            finally:
                with self._lock:
                    self.running -= 1
        return checked


async def until(predicate: Callable[[], bool], timeout_s: float = GATE_S) -> bool:
    """Whether `predicate` came true within `timeout_s`, polled on the loop."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout_s
    while not predicate():
        if loop.time() > deadline:
            return False
        await asyncio.sleep(0.01)
    return True


def heavy_alerts() -> bytes:
    """An Alertmanager API batch large enough to be read on a worker thread."""
    body = json.dumps([{"labels": {"a": str(i)}} for i in range(4_000)]).encode()
    assert len(body) > validate.OFFLOAD_BODY_BYTES
    return body


def heavy_grafana() -> bytes:
    grafana = json.loads(payload("grafana/group-firing.json"))
    grafana["message"] = "x" * validate.OFFLOAD_BODY_BYTES  # read on a thread too
    return json.dumps(grafana).encode()


async def test_costly_checks_leave_the_default_thread_pool_free(
    queues: Queues, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Costly bodies of several sources, all being read, leave asyncio's default threads (DNS
    lookups, the SQS client's work) free: they run on threads of their own."""
    loop = asyncio.get_running_loop()
    small_pool = ThreadPoolExecutor(max_workers=2, thread_name_prefix="default")
    loop.set_default_executor(small_pool)  # as few default threads as sources being read
    gate = ThreadGate(validate.check, {"alertmanager", "grafana"})
    monkeypatch.setattr(validate, "check", gate)
    async with (
        running(ingest_settings(queues.url, queues.endpoint)) as service,
        loopback_client(service.port) as client,
    ):
        posted = [
            asyncio.create_task(
                client.post(
                    "/api/v2/alerts", content=heavy_alerts(), headers=bearer("alertmanager")
                )
            ),
            asyncio.create_task(
                client.post(
                    "/v1/alerts/grafana", content=heavy_grafana(), headers=bearer("grafana")
                )
            ),
        ]
        try:
            assert await until(lambda: gate.running == 2)
            other_work = asyncio.ensure_future(asyncio.to_thread(threading.current_thread))
            default_free = await until(other_work.done, 10)
        finally:
            gate.opened.set()
        answers = await asyncio.gather(*posted)
    small_pool.shutdown(wait=False)
    assert default_free, "the default pool's threads were all taken by body checks"
    assert all(not name.startswith("default") for name in gate.threads), gate.threads
    assert [answer.status_code for answer in answers] == [200, 202]


async def test_a_check_cancelled_by_the_stop_keeps_its_source_lane_until_its_thread_ends(
    queues: Queues, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A request cancelled after the grace keeps its source's one check slot while its thread
    still reads the body: the lane is not free for a second thread of that source."""
    gate = ThreadGate(validate.check, {"alertmanager"})
    monkeypatch.setattr(validate, "check", gate)
    settings = ingest_settings(queues.url, queues.endpoint, shutdown_grace_s=0.1)
    service = IngestService(settings, stop=asyncio.Event())
    await service.startup()
    assert service.gateway is not None
    lane = service.gateway._lanes["alertmanager"]  # the source's one check at a time
    try:
        async with loopback_client(service.port) as client:
            posted = asyncio.create_task(
                client.post(
                    "/api/v2/alerts", content=heavy_alerts(), headers=bearer("alertmanager")
                )
            )
            assert await until(lambda: gate.running == 1)
            service.should_exit.set()
            await service.shutdown()  # the grace ends; the request is cancelled
            held_after_cancel = lane.locked()
            gate.opened.set()
            freed_when_thread_ended = await until(lambda: not lane.locked())
            with contextlib.suppress(httpx2.HTTPError):
                await posted
    finally:
        gate.opened.set()
    assert held_after_cancel, "the lane was freed while the cancelled check's thread still ran"
    assert freed_when_thread_ended


# --- `triage ingest`'s signals ----------------------------------------------------------------


def ingest_event_names(gateway: IngestProcess) -> list[str]:
    return [e.get("event", "") for e in gateway.events()]


def test_gateway_signal_during_its_exit_stack_still_ends_as_one_clean_stop(
    queues: Queues, tmp_path: Path, collector: SlowCollector, monkeypatch: pytest.MonkeyPatch
) -> None:
    """SIGTERM twice, the second while the gateway exports its last spans: exit 0, not 143."""
    monkeypatch.setenv("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", f"{collector.url}/v1/traces")
    monkeypatch.setenv("OTEL_BSP_SCHEDULE_DELAY", "600000")  # spans leave at the stop only
    gateway = IngestProcess(ingest_settings(queues.url, queues.endpoint), tmp_path)
    try:
        url = gateway.wait_listening()
        body = {"title": "disk full", "source": "cron", "status": "firing", "dedup_key": "k1"}
        answer = httpx2.post(f"{url}/v1/alerts/generic", json=body, headers=bearer("generic"))
        assert answer.status_code == 202, answer.text
        gateway.process.send_signal(signal.SIGTERM)
        wait_until(collector.arrived.is_set, 30, "the trace export at the stop")
        gateway.process.send_signal(signal.SIGTERM)
        wait_until(
            lambda: (
                gateway.process.poll() is not None
                or "ingest.signal_late" in ingest_event_names(gateway)
            ),
            10,
            "the late signal's line, or the gateway's end",
        )
        collector.release.set()
        assert gateway.process.wait(timeout=30) == 0, gateway.log_path.read_text()[-3000:]
    finally:
        gateway.stop()
    names = ingest_event_names(gateway)
    assert "ingest.stopped" in names
    assert "ingest.signal_late" in names


def test_gateway_sigterm_during_start_up_is_a_clean_stop(
    tmp_path: Path, collector: SlowCollector
) -> None:
    """SIGTERM while the gateway's start-up waits for the queue exits 0 with its signal's line."""
    queue_url = f"{collector.url}/123456789012/alerts"  # an "SQS" that holds its answer
    gateway = IngestProcess(ingest_settings(queue_url, collector.url), tmp_path)
    try:
        wait_until(collector.arrived.is_set, 30, "start-up's queue read")
        gateway.process.send_signal(signal.SIGTERM)
        code = gateway.process.wait(timeout=30)
    finally:
        gateway.stop()
    assert code == 0, gateway.log_path.read_text()[-3000:]
    names = ingest_event_names(gateway)
    assert "ingest.signal" in names
    assert "ingest.stopped" in names


@pytest.fixture
def proxy(moto_url: str) -> Iterator[SqsProxy]:
    with SqsProxy(moto_url) as running_proxy:
        yield running_proxy


def test_gateway_sigterm_twice_then_sigint_during_its_drain_is_one_clean_stop(
    queues: Queues, tmp_path: Path, proxy: SqsProxy
) -> None:
    """SIGTERM twice keeps the drain's grace; a Ctrl-C during it ends the grace: exit 0, and the
    webhook whose send was still out gets no 202 (its sender sends it again)."""
    proxy.released.clear()  # SQS holds every send
    settings = ingest_settings(proxy.queue_url(queues.url), proxy.url, shutdown_grace_s=30)
    gateway = IngestProcess(settings, tmp_path)
    answers: list[int | str] = []
    try:
        url = gateway.wait_listening()
        body = {"title": "disk full", "source": "cron", "status": "firing", "dedup_key": "k1"}

        def post() -> None:
            try:
                answer = httpx2.post(
                    f"{url}/v1/alerts/generic", json=body, headers=bearer("generic"), timeout=60
                )
                answers.append(answer.status_code)
            except httpx2.HTTPError as exc:
                answers.append(type(exc).__name__)

        sender = threading.Thread(target=post, daemon=True)
        sender.start()
        wait_until(lambda: proxy.sends_waiting >= 1, 30, "the webhook's send to SQS")
        gateway.process.send_signal(signal.SIGTERM)
        wait_until(lambda: "ingest.draining" in ingest_event_names(gateway), 30, "the drain")
        gateway.process.send_signal(signal.SIGTERM)
        wait_until(
            lambda: ingest_event_names(gateway).count("ingest.signal") == 2, 30, "the second line"
        )
        assert gateway.process.poll() is None  # a second SIGTERM keeps the grace
        gateway.process.send_signal(signal.SIGINT)
        code = gateway.process.wait(timeout=30)
        sender.join(30)
    finally:
        proxy.released.set()
        gateway.stop()
    assert code == 0, gateway.log_path.read_text()[-3000:]
    signals = [e for e in gateway.events() if e.get("event") == "ingest.signal"]
    assert [(e["signal"], e["force"]) for e in signals] == [
        ("SIGTERM", False),
        ("SIGTERM", False),
        ("SIGINT", True),
    ]
    assert "ingest.stopped" in ingest_event_names(gateway)
    assert answers and answers[0] != 202


# --- One-shot commands stopped by SIGTERM -----------------------------------------------------


def test_sigterm_mid_redrive_says_what_moved_and_lets_held_letters_go(
    queues: Queues, tmp_path: Path
) -> None:
    """SIGTERM mid-redrive (a stopped ECS task or Kubernetes Job) ends it as Ctrl-C does: one
    `interrupted` line, the DLQ's letters visible at once, exit 143 (128 + SIGTERM)."""
    sent = [json.dumps({"title": f"alert {i}", "dedup_key": f"k{i}"}) for i in range(30)]
    sqs = queues.client()
    for first in range(0, len(sent), 10):
        entries = [{"Id": str(i), "MessageBody": b} for i, b in enumerate(sent[first : first + 10])]
        sqs.send_message_batch(QueueUrl=queues.dlq_url, Entries=entries)
    with FaultProxy(queues.endpoint) as proxy:
        proxy.delay("AmazonSQS.DeleteMessageBatch", 1.0)  # the redrive is mid-batch meanwhile
        settings = settings_for(
            queues,
            "http://127.0.0.1:9",
            tmp_path / "t.db",
            queue_url=proxy.queue_url(queues.url),
            aws_endpoint_url=proxy.url,
        )
        process = subprocess.Popen(
            [sys.executable, "-m", "triage", "dlq", "redrive"],
            env=daemon_env(settings),
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
        )
        try:
            wait_until(lambda: proxy.requests("AmazonSQS.DeleteMessageBatch") >= 1, 30, "a delete")
            process.send_signal(signal.SIGTERM)
            _, stderr = process.communicate(timeout=30)
        finally:
            if process.poll() is None:
                process.kill()
    assert process.returncode == 143, stderr
    assert any("interrupted" in line for line in stderr.splitlines()), stderr
    hidden = queues.client().get_queue_attributes(
        QueueUrl=queues.dlq_url, AttributeNames=["ApproximateNumberOfMessagesNotVisible"]
    )["Attributes"]["ApproximateNumberOfMessagesNotVisible"]
    assert int(hidden) == 0, "the letters the run held stay hidden"


def test_sigterm_during_a_drain_run_stops_cleanly_and_loses_nothing(
    queues: Queues, backend: TicketServer, tmp_path: Path
) -> None:
    """`triage run --drain` told SIGTERM (twice) while its backend holds a message: exit 0, one
    `daemon.stopped` line, and the message is either posted or back on the queue."""
    backend.delay_s = 30.0  # held until the test lets it go
    queues.send({"title": "disk full", "source": "cron", "status": "firing", "dedup_key": "k1"})
    settings = settings_for(queues, backend.url, tmp_path / "triage.db", shutdown_grace_s=30)
    daemon = Daemon(settings, "--drain", log_dir=tmp_path)
    try:
        wait_until(lambda: backend.arrivals == 1, 30, "the backend call")
        daemon.signal(signal.SIGTERM)
        wait_until(lambda: "daemon.draining" in event_names(daemon), 30, "the drain's grace")
        daemon.signal(signal.SIGTERM)  # ends the grace: the message is given back
        code = daemon.wait(timeout=30)
    finally:
        backend.release_held()
        daemon.kill()
    assert code == 0, daemon.log[-3000:]
    assert event_names(daemon).count("daemon.stopped") == 1
    assert len(backend.tickets) == 1 or queues.depth() == 1


def test_sigterm_while_start_up_opens_a_silent_store_is_a_clean_stop(
    queues: Queues, backend: TicketServer, tmp_path: Path
) -> None:
    """SIGTERM while start-up waits for a DynamoDB store that does not answer exits 0 at once
    with one line saying why, rather than after the store's own timeouts (or killed)."""
    with FaultProxy(queues.endpoint) as proxy:
        proxy.delay("DynamoDB_20120810.", 60)  # the store accepts calls and never answers
        settings = settings_for(
            queues,
            backend.url,
            tmp_path / "unused.db",
            queue_url=proxy.queue_url(queues.url),
            aws_endpoint_url=proxy.url,
            store_url="dynamodb://triage-incidents",
        )
        daemon = Daemon(settings, log_dir=tmp_path)
        try:
            wait_until(
                lambda: proxy.requests("DynamoDB_20120810.DescribeTable") >= 1, 30, "the store"
            )
            daemon.signal(signal.SIGTERM)
            code = daemon.wait(timeout=30)
        finally:
            daemon.kill()
    assert code == 0, daemon.log[-3000:]
    stopped = [e for e in daemon.events() if e.get("event") == "daemon.stopped"]
    assert [e.get("signal") for e in stopped] == ["SIGTERM"]
    assert queues.depth() == 0  # nothing was received, nothing was sent
