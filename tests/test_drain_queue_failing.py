"""`triage run --drain` against a queue that fails, over moto through a fault proxy: deleted,
refusing, or answering receives but not its depth. A drain is a batch job an operator or CI
waits on, so it gives up after `drain_max_failures` failed calls of one kind in a row (5: a
blip or two is ridden out, and each call is bounded, so the wait is too) with one error line
naming the queue's error code, and `serve()` raises `DrainFailed`, a `DaemonCrashed`, which
`triage run` turns into its one stderr line and exit code 1. The daemon without --drain
keeps retrying (`test_sqs_receive_faults.py` shows it serving again once the queue is back)."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Iterator, MutableMapping, Sequence
from pathlib import Path
from typing import Any

import pytest
import structlog
from botocore.config import Config

from daemon_harness import Queues, daemon_env, settings_for
from fault_proxy import FaultProxy
from moto_speed import loopback_aws_client
from triage.cli import main
from triage.demo.ticketd import TicketServer
from triage.incidents.lifecycle import Outcome
from triage.metrics import Metrics
from triage.sqs.inbox import Message, SqsInbox
from triage.sqs.supervisor import (
    DaemonCrashed,
    DrainFailed,
    Progress,
    Supervisor,
    SupervisorConfig,
)

RECEIVE = "AmazonSQS.ReceiveMessage"
DEPTH = "AmazonSQS.GetQueueAttributes"
#: One try per call: botocore's own retries would hide how often the daemon calls.
ONE_TRY = Config(retries={"total_max_attempts": 1, "mode": "standard"}, read_timeout=10)
#: A refusal code that is a credential's shape: no line or error may repeat it.
SECRET_CODE = "AKIAIOSFODNN7EXAMPLE"

Logs = Sequence[MutableMapping[str, Any]]


@pytest.fixture
def proxy(queues: Queues) -> Iterator[FaultProxy]:
    with FaultProxy(queues.endpoint) as p:
        yield p


@pytest.fixture
async def inbox(queues: Queues, proxy: FaultProxy) -> AsyncIterator[SqsInbox]:
    async with loopback_aws_client("sqs", endpoint_url=proxy.url, config=ONE_TRY) as client:
        yield SqsInbox(client, proxy.queue_url(queues.url), answer_slack_s=5)


async def _handle(_message: Message, _progress: Progress) -> list[Outcome]:
    return []


def _supervisor(inbox: SqsInbox, *, drain: bool = True) -> Supervisor:
    """The real supervisor over `inbox`, its receive backoff shortened (the same rules)."""
    config = SupervisorConfig(
        wait_s=0,
        retry_base_s=0,
        shutdown_grace_s=1,
        receive_retry_base_s=0.01,
        receive_retry_max_s=0.05,
        drain=drain,
    )
    return Supervisor(config, inbox, _handle, Metrics())


def _events(logs: Logs, event: str) -> list[MutableMapping[str, Any]]:
    return [e for e in logs if e["event"] == event]


async def test_a_drain_whose_queue_is_deleted_stops_with_one_line_naming_its_code(
    inbox: SqsInbox, queues: Queues, proxy: FaultProxy
) -> None:
    """The queue deleted: after five failed receives in a row the drain stops (no sixth),
    with one error line naming SQS's code, and serve() raises DrainFailed naming it too."""
    queues.client().delete_queue(QueueUrl=queues.url)
    supervisor = _supervisor(inbox)
    with structlog.testing.capture_logs() as logs, pytest.raises(DrainFailed) as raised:
        await asyncio.wait_for(supervisor.serve(), 20)
    assert isinstance(raised.value, DaemonCrashed)  # what `triage run` exits 1 on
    assert proxy.requests(RECEIVE) == supervisor.config.drain_max_failures == 5
    [gave_up] = _events(logs, "drain.gave_up")
    assert gave_up["log_level"] == "error"
    assert gave_up["code"] in ("AWS.SimpleQueueService.NonExistentQueue", "QueueDoesNotExist")
    assert (gave_up["call"], gave_up["failures"]) == ("ReceiveMessage", 5)
    assert gave_up["code"] in str(raised.value)
    assert [e["event"] for e in logs if e["log_level"] == "error"] == ["drain.gave_up"]


async def test_a_drain_told_a_code_of_no_aws_form_does_not_repeat_it(
    inbox: SqsInbox, queues: Queues, proxy: FaultProxy
) -> None:
    """Whatever answers for SQS writes the code: one with a credential's shape is told as
    having no AWS form, in the line and in the error `triage run` prints."""
    proxy.refuse(RECEIVE, 400, SECRET_CODE)
    supervisor = _supervisor(inbox)
    with structlog.testing.capture_logs() as logs, pytest.raises(DrainFailed) as raised:
        await asyncio.wait_for(supervisor.serve(), 20)
    [gave_up] = _events(logs, "drain.gave_up")
    assert gave_up["code"] == "an error code of no AWS form"
    assert SECRET_CODE not in str(raised.value)


async def test_a_drain_whose_queue_cannot_be_reached_stops_naming_the_failure(
    inbox: SqsInbox, queues: Queues, proxy: FaultProxy
) -> None:
    """The endpoint resets every receive (no AWS answer, so no AWS code): the drain stops
    after five, its line naming the kind of failure instead."""
    proxy.break_answers(RECEIVE, "reset")
    supervisor = _supervisor(inbox)
    with structlog.testing.capture_logs() as logs, pytest.raises(DrainFailed):
        await asyncio.wait_for(supervisor.serve(), 20)
    [gave_up] = _events(logs, "drain.gave_up")
    assert gave_up["code"] and gave_up["code"] != "an error code of no AWS form"
    assert proxy.requests(RECEIVE) == 5


async def test_a_drain_whose_queue_depth_fails_stops_too(
    inbox: SqsInbox, queues: Queues, proxy: FaultProxy
) -> None:
    """Receives answer (empty) but the depth a drain asks before it ends keeps failing (a
    role without sqs:GetQueueAttributes): the drain stops after five failed asks in a row."""
    proxy.refuse(DEPTH, 400, "AccessDenied")
    supervisor = _supervisor(inbox)
    with structlog.testing.capture_logs() as logs, pytest.raises(DrainFailed, match="AccessDenied"):
        await asyncio.wait_for(supervisor.serve(), 20)
    [gave_up] = _events(logs, "drain.gave_up")
    assert (gave_up["call"], gave_up["code"], gave_up["failures"]) == (
        "GetQueueAttributes",
        "AccessDenied",
        5,
    )
    assert proxy.requests(DEPTH) == 5


async def test_a_drain_rides_out_failures_short_of_the_limit(
    inbox: SqsInbox, queues: Queues, proxy: FaultProxy
) -> None:
    """Four receives fail in a row (a blip), then SQS answers: the drain goes on, handles what
    is queued and ends cleanly; the count is of failures in a row."""
    queues.send("a")
    supervisor = _supervisor(inbox)
    proxy.refuse(RECEIVE, 500, "InternalError")
    with structlog.testing.capture_logs() as logs:
        serving = asyncio.create_task(supervisor.serve())
        async with asyncio.timeout(20):
            while proxy.requests(RECEIVE) < 4:
                await asyncio.sleep(0.001)
        proxy.heal(RECEIVE)
        await asyncio.wait_for(serving, 20)
    assert not _events(logs, "drain.gave_up")
    assert supervisor.stats.acked == 1
    assert queues.depth() == 0


async def test_the_daemon_without_drain_keeps_retrying_past_the_limit(
    inbox: SqsInbox, queues: Queues, proxy: FaultProxy
) -> None:
    """Without --drain the same failures never stop the daemon: it serves again once the
    queue is back, so twice the drain's limit of failed receives leave it running."""
    proxy.refuse(RECEIVE, 400, "AWS.SimpleQueueService.NonExistentQueue")
    supervisor = _supervisor(inbox, drain=False)
    with structlog.testing.capture_logs() as logs:
        serving = asyncio.create_task(supervisor.serve())
        async with asyncio.timeout(20):
            while proxy.requests(RECEIVE) < 2 * supervisor.config.drain_max_failures:
                await asyncio.sleep(0.01)
        assert not serving.done()
        supervisor.should_exit.set()
        await asyncio.wait_for(serving, 10)
    assert not _events(logs, "drain.gave_up")


def test_triage_run_drain_on_a_queue_gone_exits_1_with_one_line(
    queues: Queues,
    proxy: FaultProxy,
    backend: TicketServer,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """`triage run --drain` (in this process, with the daemon's own backoff rules, shortened
    through its settings) whose queue answers start-up and then refuses every receive as gone:
    it exits 1 after five receives, its last stderr line saying why and naming SQS's code."""
    monkeypatch.setattr(logging.getLogger("werkzeug"), "disabled", True)  # moto's request log
    settings = settings_for(
        queues,
        backend.url,
        tmp_path / "t.db",
        queue_url=proxy.queue_url(queues.url),
        aws_endpoint_url=proxy.url,
        sqs_wait_time=0,
        receive_retry_base_s=0.01,
        receive_retry_max_s=0.05,
    )
    for name, value in daemon_env(settings).items():
        if name not in {"PATH", "PYTHONPATH", "HOME"}:
            monkeypatch.setenv(name, value)
    proxy.refuse(RECEIVE, 400, "AWS.SimpleQueueService.NonExistentQueue")
    capsys.readouterr()
    assert main(["run", "--drain"]) == 1
    last = capsys.readouterr().err.strip().splitlines()[-1]
    assert last.startswith("triage: run: stopped: --drain gave up: 5 ReceiveMessage calls"), last
    assert "AWS.SimpleQueueService.NonExistentQueue" in last
    assert proxy.requests(RECEIVE) == 5
