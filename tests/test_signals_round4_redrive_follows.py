"""The daemon's maxReceiveCount follows the queue's redrive policy while it runs: re-read from
the queue-attributes answer the depth poll already gets (or on an interval of its own when
depth polling is off), so `MessagesDeadLettered` counts the receive that is a message's last
under the policy of now; a read that fails keeps the last good count, with one warning."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable, MutableMapping
from pathlib import Path
from typing import Any

import pytest

from daemon_harness import TOKEN, Queues, settings_for
from fault_proxy import FaultProxy
from moto_speed import loopback_aws_client
from test_signals_depth import ONCE
from triage.app import run_daemon
from triage.demo.ticketd import TicketServer
from triage.metrics import Metrics
from triage.sqs import redrive
from triage.sqs.depth import DepthPoller
from triage.sqs.redrive import RedriveLimit

Logs = list[MutableMapping[str, Any]]


async def until(condition: Callable[[], bool], what: str, timeout_s: float = 20.0) -> None:
    """Wait for `condition`, at most `timeout_s`."""
    async with asyncio.timeout(timeout_s):
        while not condition():
            await asyncio.sleep(0.02)
    assert condition(), what


def set_policy(queues: Queues, max_receive_count: int | None) -> None:
    """Give the queue a redrive policy to its DLQ after `max_receive_count` receives, or
    (None) take its policy away, as an operator does while the daemon runs."""
    sqs = queues.client()
    if max_receive_count is None:
        sqs.set_queue_attributes(QueueUrl=queues.url, Attributes={"RedrivePolicy": ""})
        return
    dlq_arn = sqs.get_queue_attributes(QueueUrl=queues.dlq_url, AttributeNames=["QueueArn"])[
        "Attributes"
    ]["QueueArn"]
    policy = {"deadLetterTargetArn": dlq_arn, "maxReceiveCount": str(max_receive_count)}
    sqs.set_queue_attributes(QueueUrl=queues.url, Attributes={"RedrivePolicy": json.dumps(policy)})


def named(logs: Logs, event: str) -> list[MutableMapping[str, Any]]:
    return [e for e in logs if e["event"] == event]


async def _poison_counted_under(
    queues: Queues, backend: TicketServer, tmp_path: Path, logs: Logs, **overrides: Any
) -> Metrics:
    """Run the daemon; once it has read the policy (2), raise it to 4; once it follows, send
    a message that never decodes and wait for SQS to move it to the DLQ."""
    settings = settings_for(queues, backend.url, tmp_path / "t.db", sqs_wait_time=0, **overrides)
    metrics, stop = Metrics(), asyncio.Event()
    daemon = asyncio.create_task(run_daemon(settings, metrics=metrics, stop=stop))
    try:
        await until(lambda: bool(named(logs, "daemon.started")), "the daemon started")
        set_policy(queues, 4)
        await until(
            lambda: any(e["max_receive_count"] == 4 for e in named(logs, "redrive.changed")),
            "the daemon read the new policy",
        )
        queues.send("not json at all")
        await until(lambda: bool(queues.dead_letters()), "SQS moved the message to the DLQ")
    finally:
        stop.set()
        await asyncio.wait_for(daemon, 30)
    return metrics


async def test_a_policy_raised_while_the_daemon_runs_decides_the_dead_letter_count(
    queues: Queues,
    backend: TicketServer,
    tmp_path: Path,
    logs: Logs,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Started under maxReceiveCount 2, raised to 4 while running: the depth poll's answer
    carries the new policy, so the poison message counts once, on its 4th receive, not on
    its 2nd, 3rd and 4th."""
    monkeypatch.setenv("BACKEND_TOKEN", TOKEN)
    metrics = await _poison_counted_under(queues, backend, tmp_path, logs, queue_depth_poll_s=0.1)
    assert metrics.counter("MessagesDeadLettered", reason="decode") == 1
    lines = named(logs, "message.dead_lettered")
    assert [(e["receive_count"], e["max_receive_count"]) for e in lines] == [(4, 4)]


async def test_without_the_depth_poll_the_policy_is_re_read_on_its_own_interval(
    queues: Queues,
    backend: TicketServer,
    tmp_path: Path,
    logs: Logs,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """With depth polling off (`TRIAGE_QUEUE_DEPTH_POLL_S=0`) the daemon still follows the
    policy: one GetQueueAttributes per interval, not one per message."""
    monkeypatch.setenv("BACKEND_TOKEN", TOKEN)
    monkeypatch.setattr(redrive, "REFRESH_S", 0.1)
    metrics = await _poison_counted_under(queues, backend, tmp_path, logs, queue_depth_poll_s=0)
    assert metrics.counter("MessagesDeadLettered", reason="decode") == 1


async def test_a_policy_taken_away_or_changed_is_followed_by_the_depth_poll(
    queues: Queues, logs: Logs
) -> None:
    """Each depth poll's answer updates the limit: raised to 5 it reads 5, without a policy it
    is unknown (None, nothing counted as dead-lettered), and each change is one info line;
    every listener hears of each change."""
    heard: list[int | None] = []
    limit = RedriveLimit(2)
    limit.follow(heard.append)
    async with loopback_aws_client("sqs", endpoint_url=queues.endpoint) as client:
        poller = DepthPoller(client, queues.url, Metrics(), 60, redrive=limit)
        await poller.poll()
        set_policy(queues, 5)
        await poller.poll()
        assert limit.value == 5
        set_policy(queues, None)
        await poller.poll()
        assert limit.value is None
    assert heard == [2, 5, None]
    changes = named(logs, "redrive.changed")
    assert [(e["previous"], e["max_receive_count"], e["log_level"]) for e in changes] == [
        (2, 5, "info"),
        (5, None, "info"),
    ]


async def test_a_read_that_fails_keeps_the_last_good_count_and_warns_once(
    queues: Queues, logs: Logs
) -> None:
    """GetQueueAttributes left unanswered for two polls in a row: the limit stays at the last
    count SQS said, with one `redrive.unread` warning for the outage (not one per poll), and
    one `redrive.recovered` line when a read works again."""
    limit = RedriveLimit(2)
    with FaultProxy(queues.endpoint) as proxy:
        async with loopback_aws_client("sqs", endpoint_url=proxy.url, config=ONCE) as client:
            poller = DepthPoller(
                client, proxy.queue_url(queues.url), Metrics(), 60, timeout_s=0.2, redrive=limit
            )
            proxy.delay("AmazonSQS.GetQueueAttributes", 30)
            assert await poller.poll() is None
            assert await poller.poll() is None
            assert limit.value == 2
            proxy.delay("AmazonSQS.GetQueueAttributes", 0)
            assert await poller.poll() is not None
    unread = named(logs, "redrive.unread")
    assert [(e["log_level"], e["kept"]) for e in unread] == [("warning", 2), ("debug", 2)]
    assert [e["failed_reads"] for e in named(logs, "redrive.recovered")] == [2]
    assert limit.value == 2


async def test_a_policy_sqs_answers_unreadable_keeps_the_last_good_count(logs: Logs) -> None:
    """An answer whose RedrivePolicy holds no positive whole maxReceiveCount is a failed
    read, not "no policy": the last count stays, with one warning."""
    limit = RedriveLimit(3)
    limit.observe({"RedrivePolicy": '{"maxReceiveCount": "many"}'})
    limit.observe({"RedrivePolicy": "not json"})
    assert limit.value == 3
    assert [e["log_level"] for e in named(logs, "redrive.unread")] == ["warning", "debug"]


async def test_refresh_reads_the_policy_with_one_call(queues: Queues) -> None:
    """`refresh` (the interval's read) asks SQS once and follows what it says."""
    limit = RedriveLimit(None)
    async with loopback_aws_client("sqs", endpoint_url=queues.endpoint) as client:
        await limit.refresh(client, queues.url)
        assert limit.value == 2
        set_policy(queues, 7)
        await limit.refresh(client, queues.url)
    assert limit.value == 7


async def test_a_policy_added_while_running_puts_the_dead_letter_series_on_the_page(
    queues: Queues,
    backend: TicketServer,
    tmp_path: Path,
    logs: Logs,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A queue without a policy at start-up declares no `MessagesDeadLettered` series (0
    would claim "none" where nothing can be known); once a policy is added and read, they are
    declared at 0, so `increase()` counts the first dead letter."""
    monkeypatch.setenv("BACKEND_TOKEN", TOKEN)
    set_policy(queues, None)
    settings = settings_for(queues, backend.url, tmp_path / "t.db", queue_depth_poll_s=0.1)
    metrics, stop = Metrics(), asyncio.Event()
    daemon = asyncio.create_task(run_daemon(settings, metrics=metrics, stop=stop))

    def dead_letter_series() -> bool:
        return any(name == "MessagesDeadLettered" for name, _dims in metrics.declared())

    try:
        await until(lambda: bool(named(logs, "daemon.started")), "the daemon started")
        assert not dead_letter_series()
        set_policy(queues, 3)
        await until(dead_letter_series, "the dead-letter series are declared")
    finally:
        stop.set()
        await asyncio.wait_for(daemon, 30)
    assert ("MessagesDeadLettered", (("reason", "decode"),)) in metrics.declared()
