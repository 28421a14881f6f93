"""Round 7 signals fixes (red team 369, tests/test_redteam_round7_signals.py): one message
delivered twice at once is one dead letter; a team named in any script keeps a series of its
own, shown as itself on /metrics and escaped to ASCII for CloudWatch; the bound's overflow is
a label no team cleans to; and a payload's warnings (its note, its time from the future) are
said once per message, at debug on each attempt after the first."""

from __future__ import annotations

import asyncio
import json
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import structlog

from memory_inbox import MemoryInbox
from memory_store import MemoryStore
from test_metrics_export import flush
from test_pipeline import CountingSummariser, FakeSink
from test_redteam_round3c_log_ids import until_stats
from triage.errors import SinkUnavailableError, TransientError
from triage.incidents import Ledger, Policy
from triage.incidents.lifecycle import Outcome
from triage.metrics import MAX_LABEL_VALUES, NONE, OTHER, Metrics
from triage.ops.prometheus import prometheus_text
from triage.pipeline import Pipeline
from triage.redact import Redactor
from triage.sqs.inbox import Message
from triage.sqs.supervisor import Progress, Supervisor, SupervisorConfig

PAYLOADS = Path(__file__).parent / "payloads"
POLICY = Policy()
CONFIG = SupervisorConfig(wait_s=0, retry_base_s=0, shutdown_grace_s=1)


class _TwiceAtOnceInbox(MemoryInbox):
    """Its first receive hands out the message twice (one id, two receipt handles), as a
    standard queue's at-least-once delivery may."""

    def __init__(self) -> None:
        super().__init__()
        self.duplicated = False

    async def receive(self, max_messages: int, wait_s: int, visibility_s: int) -> list[Message]:
        out = await super().receive(max_messages, wait_s, visibility_s)
        if out and not self.duplicated:
            self.duplicated = True
            out.append(replace(out[0], receipt_handle=out[0].receipt_handle + "-copy"))
        return out


async def _fails_on_its_first_receive(message: Message, _progress: Progress) -> list[Outcome]:
    """Both copies of the first receive fail (each released on that receive, the last one
    the test's redrive policy allows); the receive after it is handled."""
    if message.receive_count == 1:
        raise TransientError("backend 503")
    return []


# --- sqs/working.py: one outcome per message, however many deliveries of it are in hand ------


async def test_both_deliveries_failing_on_the_last_receive_are_one_dead_letter() -> None:
    """Two deliveries of one message, both released on its last receive: MessagesDeadLettered
    is 1 (its HELP says once per message) with one `message.dead_lettered` warning; the
    other delivery's line is debug."""
    inbox = _TwiceAtOnceInbox()
    inbox.put("one")
    metrics = Metrics()
    supervisor = Supervisor(CONFIG, inbox, _fails_on_its_first_receive, metrics)
    supervisor.max_receive_count = 1
    serving = asyncio.create_task(supervisor.serve())
    with structlog.testing.capture_logs() as logs:
        try:
            await until_stats(supervisor, retried=2, acked=1)
        finally:
            supervisor.should_exit.set()
            await asyncio.wait_for(serving, 10)
    lines = [e["log_level"] for e in logs if e["event"] == "message.dead_lettered"]
    assert metrics.counter("MessagesFailed", reason="transient") == 2  # both copies failed
    assert metrics.total("MessagesDeadLettered") == 1
    assert lines.count("warning") == 1 and len(lines) == 2


async def test_two_messages_on_their_last_receive_are_two_dead_letters() -> None:
    """Distinct messages each failing on their last receive each count: the once-per-message
    rule merges copies of one message, never two messages."""
    inbox = MemoryInbox()
    inbox.put("one", "two")
    metrics = Metrics()
    supervisor = Supervisor(CONFIG, inbox, _fails_on_its_first_receive, metrics)
    supervisor.max_receive_count = 1
    serving = asyncio.create_task(supervisor.serve())
    try:
        await until_stats(supervisor, retried=2, acked=2)
    finally:
        supervisor.should_exit.set()
        await asyncio.wait_for(serving, 10)
    assert metrics.total("MessagesDeadLettered") == 2
    assert metrics.total("MessagesHandled") == 2


# --- metrics.py: alert-fed dimension values -------------------------------------------------


def test_a_team_in_another_script_is_itself_on_metrics_and_ascii_for_cloudwatch() -> None:
    """決済's tickets show as `team="決済"` on /metrics (Prometheus label values are UTF-8)
    and as its escape in the EMF line (CloudWatch takes ASCII dimension values only)."""
    metrics = Metrics()
    metrics.incr("TicketsCreated", sink="backend", team=metrics.bounded("team", "決済"))
    assert 'team="決済"' in prometheus_text(metrics)
    [doc] = [d for d in flush(metrics) if "team" in d]
    assert doc["team"] == "\\u6c7a\\u6e08"


def test_letters_of_every_script_keep_their_marks_and_lose_what_is_not_a_name() -> None:
    """Letters, combining marks and digits of any script are kept (a Hindi name is not cut
    at its vowel signs); spaces, quotes, line breaks, symbols and invisible format characters
    still become one `_` per run, as in ASCII."""
    metrics = Metrics()
    assert metrics.bounded("team", "हिन्दी") == "हिन्दी"
    assert metrics.bounded("team", "équipe-données") == "équipe-données"
    assert metrics.bounded("team", ' 決済\u200b\n{"x"} ') == "決済_x"
    assert metrics.bounded("team", "\u200b\u2028") == NONE
    assert metrics.bounded("team", "a__b") == "a__b"  # a run of kept `_` is the value's own


def test_no_team_cleans_to_the_overflow_label() -> None:
    """Whatever a team is called (`other`, the overflow label itself, in brackets or
    spaced), it never reads as the bound's overflow: only the 21st distinct value does."""
    metrics = Metrics()
    names = ["other", "Other", OTHER, f" {OTHER} ", f"[{OTHER}]"]
    assert OTHER not in {metrics.bounded("team", name) for name in names}
    for n in range(MAX_LABEL_VALUES):
        metrics.bounded("team", f"invented-{n}")
    assert metrics.bounded("team", "one-too-many") == OTHER


# --- pipeline.py: a payload's warnings, once per message -------------------------------------


def _pipeline(sink: FakeSink) -> Pipeline:
    return Pipeline(
        Ledger(MemoryStore(POLICY)),
        CountingSummariser(),
        [sink],
        Metrics(),
        redactor=Redactor(),
        policy=POLICY,
    )


def _levels(logs: list[dict[str, object]], event: str) -> list[object]:
    return [e["log_level"] for e in logs if e["event"] == event]


async def test_a_held_retry_of_one_delivery_says_its_note_at_debug() -> None:
    """The same delivery tried again in this process (held: its receive count unchanged)
    says its payload's note at debug: the first try's warning said it."""
    body = (PAYLOADS / "alertmanager" / "group-firing.json").read_text()
    sink = FakeSink(failures=1)
    pipeline = _pipeline(sink)
    message = Message("m-1", body, "rh-1", 1, datetime.now(UTC))
    with structlog.testing.capture_logs() as logs:
        with pytest.raises(SinkUnavailableError):
            await pipeline.process(message)
        await pipeline.process(message)
    notes = _levels(logs, "alert.note")
    assert notes[0] == "warning" and notes.count("warning") == 1 and len(notes) > 1


async def test_each_message_warns_of_its_own_note() -> None:
    """Two messages carrying the same kind of note each warn once: the note is quieted per
    message's attempts, never for the payloads after it."""
    body = (PAYLOADS / "alertmanager" / "group-firing.json").read_text()
    pipeline = _pipeline(FakeSink())
    with structlog.testing.capture_logs() as logs:
        await pipeline.process(Message("m-1", body, "rh-1", 1, datetime.now(UTC)))
        await pipeline.process(Message("m-2", body, "rh-2", 1, datetime.now(UTC)))
    notes = _levels(logs, "alert.note")
    assert notes and set(notes) == {"warning"}
    assert len(notes) % 2 == 0  # the second message said as many as the first


async def test_a_time_from_the_future_is_one_warning_however_many_attempts() -> None:
    """An alert stamped a day ahead, whose first delivery the sink fails and whose second
    goes through: `alert.future_time` is a warning on the first receive, debug on the
    redelivery (the same stamp, not a second clock gone wrong)."""
    now = datetime.now(UTC)
    ahead = (now + timedelta(days=1)).isoformat()
    body = json.dumps({"title": "Backup failed", "dedup_key": "backup", "timestamp": ahead})
    sink = FakeSink(failures=1)
    pipeline = _pipeline(sink)
    first = Message("m-1", body, "rh-1", 1, now, received_at=now)
    again = replace(first, receipt_handle="rh-2", receive_count=2)
    with structlog.testing.capture_logs() as logs:
        with pytest.raises(SinkUnavailableError):
            await pipeline.process(first)
        await pipeline.process(again)
    assert sink.kinds() == ["open"]  # the redelivery went through
    assert _levels(logs, "alert.future_time") == ["warning", "debug"]
