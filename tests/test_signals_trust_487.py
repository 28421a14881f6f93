"""Triage's own signals under faults, round 2 (helper 487): what /healthz answers right after
the event loop stalled, and that every line of one message carries its ids."""

from __future__ import annotations

import asyncio
import json
import signal
import socket
import time
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import cast

import boto3
import structlog

from daemon_harness import Daemon, Queues, make_queues, settings_for
from fault_proxy import FaultProxy
from moto_speed import loopback_aws_client
from test_signals_dead_letters import LIMIT, RedriveInbox
from triage.breaker import CircuitBreaker
from triage.demo.ticketd import TicketServer
from triage.errors import SinkUnavailableError
from triage.health import Health
from triage.incidents.lifecycle import Outcome
from triage.metrics import Metrics
from triage.ops.endpoints import EndpointServer
from triage.sinks import Sink
from triage.sinks.guard import GuardedSink
from triage.sqs.inbox import TRACEPARENT_ATTRIBUTE, Message, SqsInbox
from triage.sqs.supervisor import Progress, Supervisor, SupervisorConfig
from triage.tracing import Tracing, current_trace_id


async def until(condition: Callable[[], bool], deadline_s: float = 10.0) -> None:
    """Wait for `condition`, failing past `deadline_s`."""
    give_up = time.monotonic() + deadline_s
    while not condition():
        assert time.monotonic() < give_up, "condition not met in time"
        await asyncio.sleep(0.01)


def _answer_of(sock: socket.socket) -> dict[str, object]:
    """The JSON body of the one answer on `sock` (the server closes after it)."""
    data = b""
    while chunk := sock.recv(4096):
        data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    answer: dict[str, object] = json.loads(body)
    answer["status"] = int(head.split()[1])
    return answer


async def test_a_probe_waiting_through_a_stall_is_not_told_alive() -> None:
    """A /healthz request that arrives while the event loop is blocked past MAX_LAG_S is
    answered 503, not alive: its answer must not be computed before the watchdog's late tick
    has noted the stall (the connection was accepted before the stall, as a probe's is)."""
    health = Health()
    health.MAX_LAG_S = 0.3  # the stall below is 1 s: well past it, without blocking for 5 s
    watchdog = asyncio.create_task(health.watch_loop(0.05))
    server = EndpointServer(health, Metrics(), "127.0.0.1", 0)
    await server.start()
    probe = socket.create_connection(("127.0.0.1", server.port))
    try:
        await until(lambda: server.connections == 1)  # accepted, waiting for the request
        probe.sendall(b"GET /healthz HTTP/1.1\r\nHost: triage\r\n\r\n")
        time.sleep(1.0)  # noqa: ASYNC251 - the fault: a blocking call holds the loop for 1 s
        answer = await asyncio.to_thread(_answer_of, probe)
    finally:
        probe.close()
        watchdog.cancel()
        await asyncio.gather(watchdog, return_exceptions=True)
        await server.aclose()
    assert answer["status"] == 503, answer
    assert answer["alive"] is False
    assert isinstance(answer["loop_lag_ms"], float) and answer["loop_lag_ms"] >= 300


SENDER_TRACE = "4bf92f3577b34da6a3ce929d0e0e4736"
TRACEPARENT = f"00-{SENDER_TRACE}-00f067aa0ba902b7-01"


async def test_a_message_given_back_at_shutdown_says_so_under_its_trace_id() -> None:
    """A traced message still being handled when a stop's grace ends, on its last receive:
    every line that names its message id (its `message.dead_lettered` included, the line an
    operator searches for what went to the DLQ) carries its trace id too."""
    inbox = RedriveInbox()
    (message_id,) = inbox.put("hangs")
    entry = inbox.entries[message_id]
    entry.message = replace(entry.message, attributes={TRACEPARENT_ATTRIBUTE: TRACEPARENT})
    entry.receives = LIMIT - 1  # its next receive is its last under the redrive policy
    config = SupervisorConfig(wait_s=0, retry_base_s=0, shutdown_grace_s=0.1, cancel_deadline_s=1)
    supervisor = Supervisor(config, inbox, _hang, Metrics())
    supervisor.max_receive_count = LIMIT

    with structlog.testing.capture_logs(
        processors=[structlog.contextvars.merge_contextvars]
    ) as logs:
        served = asyncio.create_task(supervisor.serve())
        await until(lambda: len(supervisor._in_flight) == 1)
        supervisor.should_exit.set()
        await asyncio.wait_for(served, 10)

    of_message = [line for line in logs if line.get("message_id") == message_id]
    assert "message.dead_lettered" in {line["event"] for line in of_message}
    untraced = [line["event"] for line in of_message if line.get("trace_id") != SENDER_TRACE]
    assert untraced == []


async def _hang(_message: Message, _progress: Progress) -> list[Outcome]:
    """A handler that never finishes: only the shutdown's cancellation ends it."""
    await asyncio.Event().wait()
    return []


def test_the_trace_a_message_came_with_is_bound_without_a_span() -> None:
    """`Tracing.carried` binds the trace id of a message's traceparent (else its X-Ray
    header) to the log context and `current_trace_id`, and unbinds it on the way out."""
    tracing = Tracing()
    xray = "Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=1"
    with structlog.testing.capture_logs(
        processors=[structlog.contextvars.merge_contextvars]
    ) as logs:
        with tracing.carried(TRACEPARENT) as trace_id:
            assert trace_id == current_trace_id() == SENDER_TRACE
            structlog.get_logger().info("inside")
        with tracing.carried("00-garbage", xray) as from_header:
            assert from_header == "5759e988bd862e3fe1be46a994272793"
        structlog.get_logger().info("outside")
    assert logs[0]["trace_id"] == SENDER_TRACE
    assert "trace_id" not in logs[1]
    assert current_trace_id() is None


async def test_a_delete_sqs_does_not_confirm_is_said_under_the_messages_trace_id(
    moto_url: str,
) -> None:
    """A traced message whose delete SQS answers without confirming it: the line that says so
    (at warning, from the acker's batch, outside the message's task) names its trace id
    beside its message id, as every other line of the message does."""
    queues = make_queues(moto_url)
    boto3.client("sqs", endpoint_url=queues.endpoint, region_name="us-east-1").send_message(
        QueueUrl=queues.url,
        MessageBody="{}",
        MessageAttributes={
            TRACEPARENT_ATTRIBUTE: {"DataType": "String", "StringValue": TRACEPARENT}
        },
    )
    with FaultProxy(queues.endpoint) as proxy:
        async with loopback_aws_client("sqs", endpoint_url=proxy.url) as sqs:
            inbox = SqsInbox(sqs, proxy.queue_url(queues.url))
            [message] = await inbox.receive(10, 0, 30)
            proxy.rewrite("AmazonSQS.DeleteMessageBatch", lambda answer: {})
            with structlog.testing.capture_logs(
                processors=[structlog.contextvars.merge_contextvars]
            ) as logs:
                assert await inbox.delete([message]) == [message.receipt_handle]
    [line] = [e for e in logs if e["event"] == "message.delete_unconfirmed"]
    assert line["message_id"] == message.id
    assert line.get("trace_id") == SENDER_TRACE


def test_a_daemon_stopped_past_the_lag_bound_answers_a_waiting_probe_503(
    queues: Queues, backend: TicketServer, tmp_path: Path
) -> None:
    """A real daemon whose event loop is held for 6 s (SIGSTOP: the process runs nothing, as a
    loop blocked by a stuck call does): a /healthz probe connected before and sent during the
    hold is never told alive (503, or cut by the port's 5 s deadline), and a probe after it
    is answered 503 with the stall's lag."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    settings = settings_for(queues, backend.url, tmp_path / "t.db", http_port=port)
    daemon = Daemon(settings, log_dir=tmp_path)
    probe = None
    try:
        give_up = time.monotonic() + 60
        while _healthz(port) != 200:  # up, and its watchdog ticking
            assert time.monotonic() < give_up and daemon.process.poll() is None, daemon.log
            time.sleep(0.05)
        probe = socket.create_connection(("127.0.0.1", port))
        # Answered after the probe connected: the daemon has accepted the probe's connection.
        assert _healthz(port) == 200
        daemon.signal(signal.SIGSTOP)
        probe.sendall(b"GET /healthz HTTP/1.1\r\nHost: triage\r\n\r\n")
        held_until = time.monotonic() + Health.MAX_LAG_S + 1
        while time.monotonic() < held_until:  # the fault: the loop runs nothing this long
            time.sleep(0.1)
        daemon.signal(signal.SIGCONT)
        probe.settimeout(30)
        waited = _answer_or_cut(probe)
        after = _healthz_answer(port)
    finally:
        if probe is not None:
            probe.close()
        daemon.signal(signal.SIGCONT)
        daemon.kill()
    assert waited is None or (waited["status"], waited["alive"]) == (503, False), waited
    assert (after["status"], after["alive"]) == (503, False), after
    assert isinstance(after["loop_lag_ms"], float)
    assert after["loop_lag_ms"] >= Health.MAX_LAG_S * 1000


def _answer_or_cut(sock: socket.socket) -> dict[str, object] | None:
    """The answer on `sock`, None when the server closed it without one."""
    try:
        return _answer_of(sock)
    except (ValueError, OSError):
        return None


def _healthz_answer(port: int) -> dict[str, object]:
    """One /healthz answer, status included."""
    with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
        sock.sendall(b"GET /healthz HTTP/1.1\r\nHost: triage\r\n\r\n")
        return _answer_of(sock)


def _healthz(port: int) -> object:
    """The status of one /healthz, None when nothing answers yet."""
    try:
        return _healthz_answer(port)["status"]
    except (OSError, ValueError):
        return None


class _StillDown:
    """A sink whose own probe finds its service still down."""

    name = "backend"

    async def probe(self) -> object:
        raise SinkUnavailableError("backend: still down")


async def test_a_breaker_probe_started_by_a_message_logs_under_no_messages_ids() -> None:
    """The half-open breaker's probe, started when a message's call found it half-open, is
    the sink's work, not the message's: its lines carry no message id, trace id or
    fingerprint, so a search for that message's lines does not find them."""
    now = [0.0]
    breaker = CircuitBreaker("sink:backend", 1, 10, clock=lambda: now[0])
    permit = breaker.allow()
    assert permit is not None
    breaker.failure(permit, "backend: down")  # opened: one failure is its threshold
    now[0] = 11.0  # past the reset: half-open
    guard = GuardedSink(cast(Sink, _StillDown()), breaker, clock=lambda: now[0])
    with structlog.testing.capture_logs(
        processors=[structlog.contextvars.merge_contextvars]
    ) as logs:
        with (
            Tracing().carried(TRACEPARENT),
            structlog.contextvars.bound_contextvars(message_id="m-1", fingerprint="fp-1"),
        ):
            assert guard.blocked_for() is None and guard.probing
            guard.start_probe()  # as `_may_call` does for a message's call
        await until(lambda: any(e["event"] == "breaker.reopened" for e in logs))
        await guard.stop_probe()
    probe_lines = [e for e in logs if e["event"] in {"sink.probe_failed", "breaker.reopened"}]
    assert {e["event"] for e in probe_lines} == {"sink.probe_failed", "breaker.reopened"}
    leaked = [
        (e["event"], k)
        for e in probe_lines
        for k in ("message_id", "trace_id", "fingerprint")
        if k in e
    ]
    assert leaked == []
