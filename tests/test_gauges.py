"""The gauges an SRE alerts on: queue and DLQ depth from SQS itself, the messages this process
holds and the oldest of them, each breaker's state, each shared budget's tokens; and ticket
counters by source and team."""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import structlog

from daemon_harness import Queues
from memory_inbox import MemoryInbox
from moto_speed import loopback_aws_client
from test_pipeline import rig
from triage.breaker import CircuitBreaker
from triage.incidents.lifecycle import Outcome
from triage.metrics import Metrics
from triage.ops.gauges import MeteredBudgets, breakers_of, watch_breakers
from triage.ratelimit import Budget, LocalBudgets
from triage.sqs.depth import DepthPoller, dlq_url
from triage.sqs.inbox import Message
from triage.sqs.supervisor import Supervisor, SupervisorConfig


def values(metrics: Metrics) -> dict[str, float]:
    """Every gauge now, by name (and `name{k=v}` for dimensioned ones)."""
    out = {}
    for (name, dims), gauge in metrics.gauges().items():
        label = ",".join(f"{k}={v}" for k, v in dims)
        out[f"{name}{{{label}}}" if label else name] = gauge.value
    return out


async def test_depth_poller_reads_the_queue_and_its_dlq_from_sqs(queues: Queues) -> None:
    """Against moto's SQS: waiting, in-flight and dead-letter counts become the gauges and
    `latest`; the DLQ is found from the redrive policy without GetQueueUrl."""
    queues.send("a", "b", "c")
    sqs = queues.client()
    sqs.send_message(QueueUrl=queues.dlq_url, MessageBody="dead")
    sqs.receive_message(QueueUrl=queues.url, MaxNumberOfMessages=1, VisibilityTimeout=30)
    metrics = Metrics()
    async with loopback_aws_client("sqs", endpoint_url=queues.endpoint) as client:
        depths = await DepthPoller(client, queues.url, metrics, 30).poll()
    assert depths is not None and depths.dlq_visible == 1
    assert (depths.queue.visible, depths.queue.in_flight) == (2, 1)
    assert values(metrics) == {
        "QueueMessagesVisible": 2,
        "QueueMessagesInFlight": 1,
        "QueueMessagesDelayed": 0,
        "DlqMessagesVisible": 1,
    }


async def test_a_failed_poll_clears_the_gauges_and_says_why_once(queues: Queues) -> None:
    """When SQS does not answer for the queue, the depth gauges disappear (a stale depth would
    read as a true one), the failure is counted, and one log line says why."""
    metrics = Metrics()
    async with loopback_aws_client("sqs", endpoint_url=queues.endpoint) as client:
        poller = DepthPoller(client, queues.url, metrics, 30)
        assert await poller.poll() is not None
        poller.queue_url = queues.url + "-gone"
        with structlog.testing.capture_logs() as logs:
            assert await poller.poll() is None
    assert values(metrics) == {}
    assert poller.latest is None
    assert metrics.counter("QueueDepthPollFailures") == 1
    assert [e["event"] for e in logs] == ["queue_depth.poll_failed"]


@pytest.mark.parametrize(
    ("queue_url", "expected"),
    [
        (
            "https://sqs.eu-west-1.amazonaws.com/123456789012/triage-alerts",
            "https://sqs.eu-west-1.amazonaws.com/123456789012/triage-alerts-dlq",
        ),
        ("http://127.0.0.1:4566/000000000000/alerts", "http://127.0.0.1:4566/000000000000/triage-alerts-dlq"),
    ],
)  # fmt: skip
def test_dlq_url_is_the_queue_url_with_the_dlq_name(queue_url: str, expected: str) -> None:
    """The DLQ's URL comes from the queue's and the ARN's name, on AWS and on a local endpoint."""
    arn = "arn:aws:sqs:eu-west-1:123456789012:triage-alerts-dlq"
    assert dlq_url(queue_url, arn) == expected
    with pytest.raises(ValueError, match="not a queue ARN"):
        dlq_url(queue_url, "arn:aws:sqs:eu-west-1:123:")


async def test_in_flight_and_oldest_age_follow_the_messages_held() -> None:
    """While a message sent ten minutes ago is being worked on, MessagesInFlight is 1 and
    OldestMessageAge about 600 s; once it is acked both are back at 0 (IntakePausedDuration,
    with nothing held, reads 0 throughout)."""
    inbox = MemoryInbox()
    [mid] = inbox.put("{}")
    sent = datetime.now(UTC) - timedelta(minutes=10)
    inbox.entries[mid].message = Message(mid, "{}", f"rh-{mid}", 0, sent)
    started, release = asyncio.Event(), asyncio.Event()

    async def handler(message: Message, progress: Any) -> list[Outcome]:
        started.set()
        await release.wait()
        return []

    metrics = Metrics()
    config = SupervisorConfig(concurrency=2, wait_s=0, drain=True, shutdown_grace_s=1)
    supervisor = Supervisor(config, inbox, handler, metrics)
    assert values(metrics) == {
        "MessagesInFlight": 0,
        "OldestMessageAge": 0,
        "IntakePausedDuration": 0,
    }
    task = asyncio.create_task(supervisor.serve())
    await asyncio.wait_for(started.wait(), 5)
    now = values(metrics)
    assert now["MessagesInFlight"] == 1
    assert 600 <= now["OldestMessageAge"] < 660
    release.set()
    await asyncio.wait_for(task, 10)
    assert values(metrics) == {
        "MessagesInFlight": 0,
        "OldestMessageAge": 0,
        "IntakePausedDuration": 0,
    }


def test_breaker_gauges_follow_its_state() -> None:
    """BreakerState reads 0, 2, 1 as the breaker closes, opens and half-opens, and
    BreakerOpenDuration counts the seconds since it opened."""
    now = [100.0]
    breaker = CircuitBreaker("sink:backend", 1, 30, clock=lambda: now[0])
    metrics = Metrics()
    watch_breakers(metrics, [breaker])
    assert values(metrics) == {
        "BreakerState{breaker=sink:backend}": 0,
        "BreakerOpenDuration{breaker=sink:backend}": 0,
    }
    breaker.trip()
    now[0] += 12
    assert values(metrics)["BreakerState{breaker=sink:backend}"] == 2
    assert values(metrics)["BreakerOpenDuration{breaker=sink:backend}"] == 12
    now[0] += 30
    assert values(metrics)["BreakerState{breaker=sink:backend}"] == 1
    probe = breaker.allow()
    assert probe is not None
    breaker.success(probe)
    assert values(metrics)["BreakerOpenDuration{breaker=sink:backend}"] == 0


def test_breakers_are_found_on_guarded_sinks_and_behind_the_fallback() -> None:
    """A guarded sink's breaker and the LLM's (as the fallback summariser's primary) are found."""

    class Part:
        def __init__(self, breaker: CircuitBreaker | None = None, primary: object = None) -> None:
            self.breaker, self.primary = breaker, primary

    sink, llm = CircuitBreaker("sink:github", 1, 1), CircuitBreaker("llm", 1, 1)
    assert breakers_of(Part(sink), Part(primary=Part(llm)), Part()) == [sink, llm]


async def test_budget_tokens_show_what_is_left_refilled_to_now() -> None:
    """After two tokens of a 20-per-minute budget are taken, BudgetTokens reads 18, and three
    seconds later 19 (it refills at one every three seconds)."""
    now = [1000.0]
    metrics = Metrics()
    budgets = MeteredBudgets(LocalBudgets(), metrics, clock=lambda: now[0])
    minute = Budget("github:create:acme/ops:minute", 20, 60.0)
    assert await budgets.take_token(minute, now[0]) == 0
    assert await budgets.take_token(minute, now[0]) == 0
    assert values(metrics) == {"BudgetTokens{budget=github:create:acme/ops:minute}": 18}
    now[0] += 3
    assert values(metrics) == {"BudgetTokens{budget=github:create:acme/ops:minute}": 19}


async def test_ticket_counters_carry_source_and_team() -> None:
    """An opened ticket counts TicketsCreated under its sink, the alert's source and team."""
    r = rig()
    await r.send(0)
    counters = {json.dumps(dict(dims)): v for (n, dims), v in r.pipeline.metrics.counters().items() if n == "TicketsCreated"}  # fmt: skip
    assert counters == {json.dumps({"sink": "backend", "source": "generic", "team": "payments"}): 1}
