"""`MessagesDeadLettered{reason}` counts the messages the daemon gives up on: a delivery
released (or left undeleted) on its last receive under the queue's redrive policy, once per
message, never for a failed attempt that still has receives left; and it is exported in all
three forms with its help."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Sequence
from typing import Any

from memory_inbox import MemoryInbox
from test_metrics_export import flush
from triage.errors import DecodeError, SinkThrottledError, SinkUnavailableError
from triage.incidents.lifecycle import Outcome
from triage.metrics import Metrics
from triage.ops.known_series import declare_known_series
from triage.ops.metrics_export import METRICS, PutMetricDataExporter
from triage.ops.prometheus import prometheus_text
from triage.sqs.inbox import Message
from triage.sqs.supervisor import Progress, Supervisor, SupervisorConfig

#: The redrive policy's maxReceiveCount in these tests.
LIMIT = 3


class RedriveInbox(MemoryInbox):
    """A MemoryInbox with a redrive policy: a message received LIMIT times and not deleted is
    moved to the DLQ once it is visible again, at the next receive, as SQS does."""

    def __init__(self, fail_delete: Sequence[str] = ()) -> None:
        super().__init__()
        self.dead: list[str] = []
        self._fail_delete = set(fail_delete)

    async def receive(self, max_messages: int, wait_s: int, visibility_s: int) -> list[Message]:
        now = time.monotonic()
        for mid, entry in list(self.entries.items()):
            if entry.receives >= LIMIT and entry.visible_at <= now:
                self.entries.pop(mid)
                self.dead.append(mid)
        return await super().receive(max_messages, wait_s, visibility_s)

    async def delete(self, messages: Sequence[Message]) -> list[str]:
        failed = [m.id for m in messages if m.id in self._fail_delete]
        await super().delete([m for m in messages if m.id not in self._fail_delete])
        return failed


async def _serve(
    inbox: RedriveInbox, handler: Any, metrics: Metrics, max_hold_s: float = 3600.0
) -> None:
    """Run the real supervisor until the queue is empty, knowing the redrive policy."""
    # A lost delete leaves its message hidden for the visibility timeout: short, so it is
    # received again within the test.
    config = SupervisorConfig(
        wait_s=0,
        drain=True,
        retry_base_s=0,
        shutdown_grace_s=1,
        visibility_timeout_s=1,
        max_hold_s=max_hold_s,
    )
    supervisor = Supervisor(config, inbox, handler, metrics)
    supervisor.max_receive_count = LIMIT
    await asyncio.wait_for(supervisor.serve(), 10)


async def test_a_message_released_on_its_last_receive_counts_once_as_dead_lettered() -> None:
    """A message that never decodes and one whose sink is always down each count once, under
    their reason, when released on their third receive; one that fails twice and is then
    handled counts nothing, though all three count MessagesFailed per attempt."""
    inbox = RedriveInbox()
    poison, down, flaky = inbox.put("poison", "down", "flaky")
    tries = dict.fromkeys((poison, down, flaky), 0)

    async def handler(message: Message, _progress: Progress) -> list[Outcome]:
        tries[message.id] += 1
        if message.id == poison:
            raise DecodeError("not JSON")
        if message.id == down or tries[flaky] <= 2:
            raise SinkUnavailableError("503")
        return []

    metrics = Metrics()
    await _serve(inbox, handler, metrics)
    assert sorted(inbox.dead) == sorted([poison, down])
    assert inbox.deleted == [flaky]
    assert metrics.counter("MessagesDeadLettered", reason="decode") == 1
    assert metrics.counter("MessagesDeadLettered", reason="sink_unavailable") == 1
    assert metrics.total("MessagesDeadLettered") == 2
    assert metrics.counter("MessagesFailed", reason="sink_unavailable") == LIMIT + 2


async def test_a_message_held_past_the_bound_on_its_last_receive_counts_as_dead_lettered() -> None:
    """A message a sink keeps throttling is held, then released once held past `max_hold_s`:
    that release spends a receive like any other, and on its last one it counts under the
    throttle's reason."""
    inbox = RedriveInbox()
    (throttled,) = inbox.put("throttled")

    async def handler(_message: Message, _progress: Progress) -> list[Outcome]:
        raise SinkThrottledError("429", retry_after_s=0.05)

    metrics = Metrics()
    await _serve(inbox, handler, metrics, max_hold_s=0.1)
    assert inbox.dead == [throttled]
    assert metrics.total("MessagesHeld") >= LIMIT
    assert metrics.counter("MessagesDeadLettered", reason=SinkThrottledError.reason) == 1
    assert metrics.total("MessagesDeadLettered") == 1


async def test_a_handled_message_whose_last_delete_is_lost_counts_as_dead_lettered() -> None:
    """A message handled on every receive whose delete SQS never confirms goes to the DLQ at
    last: counted once under `delete`, on its last receive only."""
    inbox = RedriveInbox(fail_delete=["m0"])
    (lost,) = inbox.put("lost")

    async def handler(_message: Message, _progress: Progress) -> list[Outcome]:
        return []

    metrics = Metrics()
    await _serve(inbox, handler, metrics)
    assert inbox.dead == [lost]
    assert metrics.counter("MessagesFailed", reason="delete") == LIMIT
    assert metrics.counter("MessagesDeadLettered", reason="delete") == 1


async def test_without_a_known_redrive_policy_nothing_is_counted_as_dead_lettered() -> None:
    """When the daemon does not know maxReceiveCount it does not guess: a message failing on a
    high receive count counts MessagesFailed only."""
    inbox = MemoryInbox()
    inbox.put("poison")

    async def handler(message: Message, _progress: Progress) -> list[Outcome]:
        if inbox.entries[message.id].receives >= 5:
            inbox.entries.pop(message.id)
        raise DecodeError("not JSON")

    metrics = Metrics()
    config = SupervisorConfig(wait_s=0, drain=True, retry_base_s=0, shutdown_grace_s=1)
    await asyncio.wait_for(Supervisor(config, inbox, handler, metrics).serve(), 10)
    assert metrics.counter("MessagesFailed", reason="decode") == 5
    assert metrics.total("MessagesDeadLettered") == 0


def test_dead_lettered_is_exported_as_emf_put_metric_data_and_prometheus() -> None:
    """The counter is described; its series are declared at 0 on /metrics before their first
    event only when the daemon knows the redrive policy (else 0 would claim "none"); once
    counted it leaves as an EMF line, a PutMetricData datum and a Prometheus
    family with its HELP."""
    assert METRICS["MessagesDeadLettered"].kind == "counter"
    metrics = Metrics()
    declare_known_series(metrics)
    assert "triage_messages_dead_lettered_total{" not in prometheus_text(metrics)
    declare_known_series(metrics, dead_letters=True)
    text = prometheus_text(metrics)
    assert 'triage_messages_dead_lettered_total{reason="decode"} 0.0' in text
    metrics.incr("MessagesDeadLettered", reason="decode")
    text = prometheus_text(metrics)
    assert "# HELP triage_messages_dead_lettered_total Messages given up on" in text
    assert 'triage_messages_dead_lettered_total{reason="decode"} 1.0' in text

    docs = flush(metrics)
    assert any(
        doc.get("MessagesDeadLettered") == 1 and doc.get("reason") == "decode" for doc in docs
    )

    class Recorder:
        def __init__(self) -> None:
            self.data: list[dict[str, Any]] = []

        async def put_metric_data(self, Namespace: str, MetricData: list[dict[str, Any]]) -> None:
            self.data += MetricData

    client = Recorder()
    asyncio.run(PutMetricDataExporter(metrics, "AlertTriage", client).flush())
    sent = [d for d in client.data if d["MetricName"] == "MessagesDeadLettered"]
    assert sorted(tuple(x["Name"] for x in d["Dimensions"]) for d in sent) == [
        ("Service",),
        ("Service", "reason"),
    ]
