"""/readyz under a queue that hangs: a receive SQS takes and never answers fails within its
own bound, so readiness says `queue: unreachable` in seconds, not after the minutes botocore's
read timeouts and retries would take while the last answered receive kept it ready."""

from __future__ import annotations

import asyncio
import socket
import time
from collections.abc import Callable
from pathlib import Path

import httpx2
import pytest
import structlog
from botocore.config import Config

from daemon_harness import TOKEN, DaemonThread, Queues, settings_for
from fault_proxy import FaultProxy
from moto_speed import loopback_aws_client
from triage.demo.ticketd import TicketServer
from triage.errors import InboxError
from triage.health import Health
from triage.metrics import Metrics
from triage.sqs.inbox import SqsInbox
from triage.sqs.supervisor import Supervisor, SupervisorConfig

#: botocore as the daemon has it for receives: a read timeout past the long poll, retries.
DAEMON_LIKE = Config(retries={"max_attempts": 3, "mode": "standard"}, read_timeout=30)
RECEIVE = "AmazonSQS.ReceiveMessage"
#: How long the proxy holds the daemon's first receive: ample for two /readyz answers on a busy
#: machine, and short, so that very receive is the one whose answer turns the daemon ready
#: (held past the daemon's read timeout, 11 s, it would be abandoned and retried instead).
RECEIVE_HELD_S = 2


async def test_a_receive_sqs_never_answers_fails_within_its_bound(queues: Queues) -> None:
    """ReceiveMessage held for 30 s raises InboxError once the long poll plus the inbox's
    bound has passed, naming the wait, instead of waiting out botocore's tries."""
    with FaultProxy(queues.endpoint) as proxy:
        async with loopback_aws_client("sqs", endpoint_url=proxy.url, config=DAEMON_LIKE) as client:
            inbox = SqsInbox(client, proxy.queue_url(queues.url), answer_slack_s=0.2)
            proxy.delay(RECEIVE, 30)
            with pytest.raises(InboxError, match=r"no answer within 0\.2 s"):
                await inbox.receive(10, 0, 30)
            proxy.delay(RECEIVE, 0)


async def test_readiness_says_the_queue_is_unreachable_while_receives_hang(
    queues: Queues,
) -> None:
    """A daemon whose receives hang turns not ready (`queue: unreachable`) with one
    receive.failed warning, and ready again once SQS answers."""
    health = Health()
    stop = asyncio.Event()
    with FaultProxy(queues.endpoint) as proxy:
        async with loopback_aws_client("sqs", endpoint_url=proxy.url, config=DAEMON_LIKE) as client:
            inbox = SqsInbox(client, proxy.queue_url(queues.url), answer_slack_s=0.2)
            supervisor = Supervisor(
                # Receives retried 0.1 s after a failure, not 1 s: the outage is several
                # failures in a row, still one warning.
                SupervisorConfig(
                    wait_s=0, retry_base_s=30, shutdown_grace_s=1, receive_retry_base_s=0.1
                ),
                inbox,
                _never_called,
                Metrics(),
                should_exit=stop,
                health=health,
            )
            proxy.delay(RECEIVE, 30)
            with structlog.testing.capture_logs() as logs:
                serving = asyncio.create_task(supervisor.serve())
                await until(lambda: health.readiness()["failing"] == {"queue": "unreachable"})
                proxy.delay(RECEIVE, 0)
                await until(lambda: health.readiness()["ready"] is True)
                stop.set()
                await asyncio.wait_for(serving, 10)
    failed = [e for e in logs if e["event"] == "receive.failed" and e["log_level"] == "warning"]
    assert len(failed) == 1


async def _never_called(*_: object) -> list[object]:
    raise AssertionError("the queue is empty: no message to handle")


async def until(condition: Callable[[], bool], timeout_s: float = 10.0) -> None:
    """Wait for `condition()` with a deadline (never a fixed sleep)."""
    async with asyncio.timeout(timeout_s):
        while not condition():
            await asyncio.sleep(0.01)


def test_a_daemon_whose_queue_did_not_answer_at_start_is_not_ready_until_it_does(
    queues: Queues, backend: TicketServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The daemon whose start-up GetQueueAttributes got a 500 serves /readyz 503 (`queue:
    unreachable`) from its first answer, while its first receive is still out, and 200 once a
    receive answers."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    monkeypatch.setenv("BACKEND_TOKEN", TOKEN)
    with FaultProxy(queues.endpoint) as proxy:
        proxy.refuse("AmazonSQS.GetQueueAttributes", 500, "InternalError")
        proxy.delay(RECEIVE, RECEIVE_HELD_S)
        settings = settings_for(
            queues,
            backend.url,
            tmp_path / "t.db",
            http_port=port,
            # Short polls: the held receive answers as soon as the proxy lets it go.
            sqs_wait_time=0,
            aws_endpoint_url=proxy.url,
            queue_url=proxy.queue_url(queues.url),
        )
        daemon = DaemonThread(settings)
        try:
            first = _readyz(port, daemon)
            # The first receive reaches the proxy and is held there: still out while we ask.
            deadline = time.monotonic() + 20
            while proxy.requests(RECEIVE) == 0 and time.monotonic() < deadline:
                time.sleep(0.01)
            while_out = _readyz(port, daemon)
            proxy.heal("AmazonSQS.GetQueueAttributes")
            proxy.delay(RECEIVE, 0)
            deadline = time.monotonic() + 30
            later = first
            while time.monotonic() < deadline and later[0] != 200:
                time.sleep(0.05)
                later = _readyz(port, daemon)
        finally:
            daemon.stop()
    assert first == (503, {"ready": False, "failing": {"queue": "unreachable"}})
    assert proxy.requests(RECEIVE) >= 1
    assert while_out == first
    assert later == (200, {"ready": True, "failing": {}})


def _readyz(port: int, daemon: DaemonThread) -> tuple[int, object]:
    """/readyz's status and JSON, once the daemon's endpoint port accepts (20 s at most)."""
    deadline = time.monotonic() + 20
    while True:
        try:
            answer = httpx2.get(f"http://127.0.0.1:{port}/readyz", timeout=2)
            return answer.status_code, answer.json()
        except httpx2.TransportError:
            if time.monotonic() > deadline or not daemon.alive():
                raise
            time.sleep(0.05)
