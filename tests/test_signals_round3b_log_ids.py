"""A delete that SQS refuses is said under its message's id, however long the outage: each
message has its own line at info (what it did, and that it will come back as a repeat),
and the batch's warning lists the ids it failed (at most ten), still once per outage."""

from __future__ import annotations

import asyncio

import structlog

from test_redteam_round3c_log_ids import DeleteDownInbox, handled, loud_lines_naming, until_stats
from triage.metrics import Metrics
from triage.sqs.supervisor import Supervisor, SupervisorConfig

MESSAGES = 25


async def test_every_lost_delete_of_an_outage_is_said_under_its_id() -> None:
    """25 messages (three batches or more) whose deletes all fail: each id is in a line at
    info or above about its delete; the acker's lines name at most ten ids each, and only
    the first of them is a warning."""
    inbox = DeleteDownInbox()
    ids = inbox.put(*[f"body-{i}" for i in range(MESSAGES)])
    config = SupervisorConfig(wait_s=0, retry_base_s=0, shutdown_grace_s=1)
    supervisor = Supervisor(config, inbox, handled, Metrics())
    with structlog.testing.capture_logs(
        processors=[structlog.contextvars.merge_contextvars]
    ) as logs:
        serving = asyncio.create_task(supervisor.serve())
        try:
            await until_stats(supervisor, delete_failed=MESSAGES)
        finally:
            supervisor.should_exit.set()
            await asyncio.wait_for(serving, 10)
    for message_id in ids:
        events = loud_lines_naming(logs, message_id)
        assert any("delete" in event for event in events), (message_id, events)
    batches = [e for e in logs if e["event"] == "message.delete_failed"]
    assert batches and all(1 <= len(e["message_ids"]) <= 10 for e in batches)
    assert {i for e in batches for i in e["message_ids"]} == set(ids)
    assert [e["log_level"] for e in batches].count("warning") == 1
