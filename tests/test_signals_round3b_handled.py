"""`MessagesHandled` counts messages handled and deleted: one per message, never for one whose
delete SQS did not confirm (that one comes back), and shown on /metrics at 0 from the start."""

from __future__ import annotations

import asyncio

from memory_inbox import MemoryInbox
from test_redteam_round3c_log_ids import DeleteDownInbox, handled, until_stats
from triage.metrics import Metrics
from triage.ops.prometheus import prometheus_text
from triage.sqs.supervisor import Supervisor, SupervisorConfig

CONFIG = SupervisorConfig(wait_s=0, retry_base_s=0, shutdown_grace_s=1)


async def serve_until(supervisor: Supervisor, **stats: int) -> None:
    """Run `supervisor` until its stats reach `stats`, then stop it."""
    serving = asyncio.create_task(supervisor.serve())
    try:
        await until_stats(supervisor, **stats)
    finally:
        supervisor.should_exit.set()
        await asyncio.wait_for(serving, 10)


async def test_each_deleted_message_is_one_handled_message() -> None:
    """Three messages handled and deleted count MessagesHandled 3."""
    inbox = MemoryInbox()
    inbox.put("one", "two", "three")
    metrics = Metrics()
    await serve_until(Supervisor(CONFIG, inbox, handled, metrics), acked=3)
    assert metrics.total("MessagesHandled") == 3


async def test_a_message_whose_delete_failed_is_not_counted_handled() -> None:
    """Handled but not deleted (it comes back as a repeat): MessagesHandled stays 0."""
    inbox = DeleteDownInbox()
    inbox.put("one")
    metrics = Metrics()
    await serve_until(Supervisor(CONFIG, inbox, handled, metrics), delete_failed=1)
    assert metrics.total("MessagesHandled") == 0
    assert metrics.counter("MessagesFailed", reason="delete") == 1


def test_metrics_show_messages_handled_at_zero_before_the_first() -> None:
    """/metrics has `triage_messages_handled_total 0.0` before any message, so increase()
    counts the first one after a restart."""
    page = prometheus_text(Metrics())
    assert "# HELP triage_messages_handled_total " in page
    assert "\ntriage_messages_handled_total 0.0\n" in page
