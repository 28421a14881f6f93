"""Red team round 7: can operators trust what triage says about itself? Each xfail here shows
one way a signal (a counter, a log line) says something that is not so, and is marked xfail
(strict) until the cause it names is fixed."""

from __future__ import annotations

import asyncio
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

import pytest
import structlog

from memory_inbox import MemoryInbox
from memory_store import MemoryStore
from test_pipeline import CountingSummariser, FakeSink
from test_redteam_round3c_log_ids import handled, until_stats
from triage.errors import SinkUnavailableError
from triage.incidents import Ledger, Policy
from triage.metrics import Metrics
from triage.pipeline import Pipeline
from triage.redact import Redactor
from triage.sqs.inbox import Message
from triage.sqs.supervisor import Supervisor, SupervisorConfig

PAYLOADS = Path(__file__).parent / "payloads"
POLICY = Policy()
CONFIG = SupervisorConfig(wait_s=0, retry_base_s=0, shutdown_grace_s=1)


class _DuplicatingInbox(MemoryInbox):
    """The in-memory queue, but its first receive hands out an SQS duplicate: the same
    message (one id) twice, under two receipt handles, as a standard queue's at-least-once
    delivery may."""

    def __init__(self) -> None:
        super().__init__()
        self.duplicated = False

    async def receive(self, max_messages: int, wait_s: int, visibility_s: int) -> list[Message]:
        out = await super().receive(max_messages, wait_s, visibility_s)
        if out and not self.duplicated:
            self.duplicated = True
            first = out[0]
            out.append(replace(first, receipt_handle=first.receipt_handle + "-copy"))
        return out


async def test_a_duplicate_delivery_of_one_message_is_one_handled_message() -> None:
    """One message SQS delivered twice at once (two receipt handles) and handled by both is
    MessagesHandled 1, as its HELP promises ("once per message"), with one message.acked at
    info: an operator comparing it with what was sent sees no phantom message."""
    inbox = _DuplicatingInbox()
    inbox.put("one")
    metrics = Metrics()
    supervisor = Supervisor(CONFIG, inbox, handled, metrics)
    serving = asyncio.create_task(supervisor.serve())
    with structlog.testing.capture_logs() as logs:
        try:
            await until_stats(supervisor, acked=2)
        finally:
            supervisor.should_exit.set()
            await asyncio.wait_for(serving, 10)
    assert inbox.deleted == ["m0", "m0"]  # both deliveries handled and deleted, as the bug needs
    acked = [e for e in logs if e["event"] == "message.acked" and e["log_level"] == "info"]
    assert metrics.total("MessagesHandled") == 1
    assert len(acked) == 1


# --- metrics.py: alert-fed dimensions ------------------------------------------------------------


def test_teams_written_in_another_script_keep_series_of_their_own() -> None:
    """Two teams a routes file names in Japanese (決済, インフラ) each count as themselves, not
    as `none` (the alerts without a team) nor as one another: TicketsCreated{team} must say
    whose tickets they were."""
    metrics = Metrics()
    metrics.reserve("team", ["決済", "インフラ", "payments"])
    payments_jp = metrics.bounded("team", "決済")
    infra_jp = metrics.bounded("team", "インフラ")
    no_team = metrics.bounded("team", None)
    assert metrics.bounded("team", "payments") == "payments"  # the Latin one is kept
    assert payments_jp != no_team
    assert infra_jp != no_team
    assert payments_jp != infra_jp


def test_a_team_named_other_is_not_the_bounds_overflow() -> None:
    """A routes file's team called `other` and the teams past the 20-value bound do not share
    one series: `team="other"` on /metrics says which it is."""
    metrics = Metrics()
    metrics.reserve("team", ["other"])
    real = metrics.bounded("team", "other")
    for n in range(30):
        overflow = metrics.bounded("team", f"invented-{n}")
    assert real != overflow


# --- pipeline.py: a payload's note on each attempt ----------------------------------------------


async def test_a_payloads_note_is_one_warning_however_many_attempts_it_takes() -> None:
    """An Alertmanager group whose sender left alerts out (its `alert.note`) that the backend
    fails once and SQS delivers again: the note is one warning, said on the first receipt,
    not one more per attempt (maxReceiveCount attempts would be as many warnings for one
    payload, each reading as a new problem)."""
    body = (PAYLOADS / "alertmanager" / "group-firing.json").read_text()
    sink = FakeSink(failures=1)
    pipeline = Pipeline(
        Ledger(MemoryStore(POLICY)),
        CountingSummariser(),
        [sink],
        Metrics(),
        redactor=Redactor(),
        policy=POLICY,
    )
    first = Message("m-1", body, "rh-1", 1, datetime.now(UTC))
    again = replace(first, receipt_handle="rh-2", receive_count=2)
    with structlog.testing.capture_logs() as logs:
        with pytest.raises(SinkUnavailableError):
            await pipeline.process(first)
        await pipeline.process(again)
    assert sink.kinds() == ["open", "open", "open"]  # the retry went through, as the bug needs
    notes = [e["log_level"] for e in logs if e["event"] == "alert.note"]
    assert notes[0] == "warning"
    assert notes.count("warning") == 1
