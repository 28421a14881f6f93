"""Two signals left from round 7 (task 379): alerts without a team count under `(none)`, a
value no alert text cleans to, so a team called `none` keeps a series of its own; and a copy
of a message SQS delivers after the first was finished here is the same message, counted in
MessagesHandled and MessagesDeadLettered once, its `message.acked` line at debug."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Sequence
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

import pytest
import structlog

from memory_inbox import MemoryInbox, _Entry
from memory_store import MemoryStore
from test_metrics_export import flush
from test_pipeline import CountingSummariser, FakeSink
from test_redteam_round3c_log_ids import until_stats
from triage.errors import TransientError
from triage.incidents import Ledger, Policy
from triage.incidents.lifecycle import Outcome
from triage.metrics import MAX_LABEL_VALUES, NONE, OTHER, Metrics
from triage.ops.metrics_export import PutMetricDataExporter
from triage.ops.prometheus import prometheus_text
from triage.pipeline import Pipeline
from triage.redact import Redactor
from triage.sqs.inbox import Message
from triage.sqs.supervisor import Progress, Supervisor, SupervisorConfig
from triage.sqs.working import RecentlyCounted

POLICY = Policy()
CONFIG = SupervisorConfig(wait_s=0, retry_base_s=0, shutdown_grace_s=1)


# --- metrics.py: no value is `(none)`, apart from a team called `none` -----------------------


async def test_alerts_without_a_team_and_a_team_called_none_are_two_series() -> None:
    """Tickets of an alert naming no team and of one whose team is `none` show as two series
    on /metrics (`team="(none)"`, `team="none"`): merged, an operator could not tell them apart."""
    metrics = Metrics()
    pipeline = Pipeline(
        Ledger(MemoryStore(POLICY)),
        CountingSummariser(),
        [FakeSink()],
        metrics,
        redactor=Redactor(),
        policy=POLICY,
    )
    for n, team in enumerate([{"team": "none"}, {}]):
        body = json.dumps({"title": f"Disk full {n}", "dedup_key": f"disk-{n}", **team})
        await pipeline.process(Message(f"m-{n}", body, f"rh-{n}", 1, datetime.now(UTC)))
    assert metrics.counter("TicketsCreated", team="none") == 1
    assert metrics.counter("TicketsCreated", team=NONE) == 1
    text = prometheus_text(metrics)
    assert 'team="none"' in text and 'team="(none)"' in text


@pytest.mark.parametrize(
    "name",
    [
        "(none)",
        " (none) ",
        "(NONE)",
        "((none))",
        "[(none)]",
        "\u200b(none)\u200b",
        "\uff08none\uff09",  # fullwidth brackets
        "\u2768none\u2769",  # ornamental brackets
        "(other)",
        "(OTHER)\n",
        "\uff08other\uff09",
        "",
        "   ",
        "\u200b\u2028",
    ],
)
def test_no_alert_text_cleans_to_either_sentinel(name: str) -> None:
    """Whatever a team or source is called (the sentinels themselves, in any brackets or
    casing, or blank), its cleaned value is neither `(none)` nor `(other)` unless it is
    no value at all: a team called `(none)` does not merge into the alerts without a team."""
    metrics = Metrics()
    cleaned = metrics.bounded("team", name)
    if name.strip(" \u200b\u2028"):
        assert cleaned not in {NONE, OTHER}
        assert "(" not in cleaned and ")" not in cleaned
    else:
        assert cleaned == NONE


def test_a_routes_file_team_called_like_a_sentinel_is_not_one() -> None:
    """A team the routes file names `(none)` or `(other)` is reserved under its cleaned
    spelling, never as a sentinel; a blank one reserves nothing."""
    metrics = Metrics()
    metrics.reserve("team", [NONE, OTHER, " "])
    assert metrics.bounded("team", NONE) == "none"
    assert metrics.bounded("team", OTHER) == "other"
    assert metrics.bounded("team", None) == NONE


def test_no_team_keeps_its_series_past_the_bound() -> None:
    """Alerts without a team count under `(none)` after 20 invented teams, not `(other)`: no
    value is a real category the operator filters on, and takes no bounded slot."""
    metrics = Metrics()
    assert metrics.bounded("team", None) == NONE
    for n in range(MAX_LABEL_VALUES):
        assert metrics.bounded("team", f"invented-{n}") == f"invented-{n}"
    assert metrics.bounded("team", "one-too-many") == OTHER
    assert metrics.bounded("team", "") == NONE


def test_no_team_reaches_cloudwatch_as_none_in_brackets() -> None:
    """The EMF line and PutMetricData both carry `(none)` as the team's dimension value
    (printable ASCII, kept as it is), and a team called `none` as `none`."""

    class Recorder:
        def __init__(self) -> None:
            self.data: list[dict[str, Any]] = []

        async def put_metric_data(self, Namespace: str, MetricData: list[dict[str, Any]]) -> None:
            self.data += MetricData

    metrics = Metrics()
    for team in (None, "none"):
        metrics.incr("TicketsCreated", sink="backend", team=metrics.bounded("team", team))
    emf_teams = {doc["team"] for doc in flush(metrics) if "team" in doc}
    assert emf_teams == {NONE, "none"}
    client = Recorder()
    asyncio.run(PutMetricDataExporter(metrics, "AlertTriage", client).flush())
    put_teams = {
        dim["Value"]
        for datum in client.data
        for dim in datum["Dimensions"]
        if dim["Name"] == "team"
    }
    assert put_teams == {NONE, "none"}


# --- sqs/working.RecentlyCounted: bounded in count and time --------------------------------------


class _Clock:
    """A monotonic clock the test moves by hand."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_recently_counted_says_first_once_per_key() -> None:
    """A key is first once; another key is first too."""
    recent = RecentlyCounted(kept_s=60, limit=10, clock=_Clock())
    assert recent.first(("MessagesHandled", "m-1"))
    assert not recent.first(("MessagesHandled", "m-1"))
    assert recent.first(("MessagesDeadLettered", "m-1"))
    assert recent.first(("MessagesHandled", "m-2"))


def test_recently_counted_forgets_after_its_time() -> None:
    """Past `kept_s` a key is first again: the next delivery is another receive."""
    clock = _Clock()
    recent = RecentlyCounted(kept_s=60, limit=10, clock=clock)
    assert recent.first(("MessagesHandled", "m-1"))
    clock.now += 59
    assert not recent.first(("MessagesHandled", "m-1"))
    clock.now += 2
    assert recent.first(("MessagesHandled", "m-1"))


def test_recently_counted_holds_the_latest_half_of_its_limit_and_at_most_its_limit() -> None:
    """However many keys are counted, at most `limit` are held (a storm cannot grow it
    without end), the latest `limit // 2` always, and the oldest are forgotten first."""
    recent = RecentlyCounted(kept_s=60, limit=4, clock=_Clock())
    for n in range(7):
        assert recent.first(("MessagesHandled", f"m-{n}"))
        assert len(recent) <= 4
    assert not recent.first(("MessagesHandled", "m-6"))
    assert not recent.first(("MessagesHandled", "m-5"))
    assert recent.first(("MessagesHandled", "m-0"))  # the oldest went


def test_the_supervisor_remembers_for_twice_the_visibility_timeout() -> None:
    """A copy comes back at most a visibility timeout after a delete SQS lost: the memory
    covers two of them, and at least five minutes (SQS's own late copies)."""
    short = Supervisor(CONFIG, MemoryInbox(), _handled, Metrics())
    long = Supervisor(replace(CONFIG, visibility_timeout_s=900), MemoryInbox(), _handled, Metrics())
    assert short._recently_counted.kept_s == 300
    assert long._recently_counted.kept_s == 1800


# --- sqs/working.py: a copy delivered after the first finished ----------------------------


async def _handled(message: Message, _progress: Progress) -> list[Outcome]:
    return []


async def _always_fails(message: Message, _progress: Progress) -> list[Outcome]:
    raise TransientError("backend 503")


class _CopyAfterDeleteInbox(MemoryInbox):
    """SQS's late copy: once the first delivery of `m0` is deleted, it is delivered again
    (same id, a new receipt handle), as when another SQS server still held it."""

    def __init__(self) -> None:
        super().__init__()
        self.copied = False

    async def delete(self, messages: Sequence[Message]) -> list[str]:
        answer = await super().delete(messages)
        first = next((m for m in messages if m.id == "m0"), None)
        if first is not None and not self.copied:
            self.copied = True
            self.entries["m0"] = _Entry(replace(first, receipt_handle=""), receives=1)
        return answer


async def test_a_copy_delivered_after_the_first_was_deleted_counts_once() -> None:
    """SQS delivers a message again after its first delivery was handled and deleted: both
    are acked, MessagesHandled is 1, and `message.acked` is said once at info, the copy's at
    debug (`copy=True`)."""
    inbox = _CopyAfterDeleteInbox()
    inbox.put("one")
    metrics = Metrics()
    supervisor = Supervisor(CONFIG, inbox, _handled, metrics)
    serving = asyncio.create_task(supervisor.serve())
    with structlog.testing.capture_logs() as logs:
        try:
            await until_stats(supervisor, acked=2)
        finally:
            supervisor.should_exit.set()
            await asyncio.wait_for(serving, 10)
    acked = [e for e in logs if e["event"] == "message.acked"]
    assert inbox.deleted == ["m0", "m0"]
    assert metrics.total("MessagesHandled") == 1
    assert [e["log_level"] for e in acked] == ["info", "debug"]
    assert acked[1].get("copy") is True


async def test_a_copy_given_up_after_the_first_was_dead_lettered_counts_once() -> None:
    """A message released on its last receive, then delivered again (a copy SQS still had)
    and given up again, is one dead letter: MessagesDeadLettered 1, one warning."""
    inbox = MemoryInbox()
    inbox.put("one")
    metrics = Metrics()
    supervisor = Supervisor(CONFIG, inbox, _always_fails, metrics)
    supervisor.max_receive_count = 1
    serving = asyncio.create_task(supervisor.serve())
    with structlog.testing.capture_logs() as logs:
        try:
            await until_stats(supervisor, retried=2)
        finally:
            supervisor.should_exit.set()
            await asyncio.wait_for(serving, 10)
    lines = [e["log_level"] for e in logs if e["event"] == "message.dead_lettered"]
    assert metrics.counter("MessagesFailed", reason="transient") >= 2
    assert metrics.total("MessagesDeadLettered") == 1
    assert lines.count("warning") == 1 and "debug" in lines


async def test_distinct_messages_handled_one_after_another_each_count() -> None:
    """The memory merges deliveries of one message, never two messages: three handled in
    turn count 3."""
    inbox = MemoryInbox()
    inbox.put("one", "two", "three")
    metrics = Metrics()
    supervisor = Supervisor(replace(CONFIG, concurrency=1), inbox, _handled, metrics)
    serving = asyncio.create_task(supervisor.serve())
    try:
        await until_stats(supervisor, acked=3)
    finally:
        supervisor.should_exit.set()
        await asyncio.wait_for(serving, 10)
    assert metrics.total("MessagesHandled") == 3


# --- found while checking, fixes in files this task does not own ------------------------------


async def test_a_late_copy_of_a_deleted_repeat_counts_in_no_alert_metric() -> None:
    """A repeat's message is deleted (settled), its incident is written by a later repeat,
    then SQS delivers the first message again: the copy's alert is the one counted already,
    so DuplicatesSuppressed, AlertsIgnored and ResolvedWithoutTicket do not grow (the README:
    an alert delivered again after its decision was applied counts in none of these)."""
    metrics = Metrics()
    pipeline = Pipeline(
        Ledger(MemoryStore(POLICY)),
        CountingSummariser(),
        [FakeSink()],
        metrics,
        redactor=Redactor(),
        policy=POLICY,
    )
    body = json.dumps({"title": "Disk full", "dedup_key": "disk"})
    handled: dict[str, Message] = {}
    for message_id in ("opens", "repeats", "repeats-later"):
        message = Message(message_id, body, f"rh-{message_id}", 1, datetime.now(UTC))
        await pipeline.process(message)
        for deleted in message.on_deleted:  # SQS confirmed its delete
            deleted()
        handled[message_id] = message
    quiet = ("DuplicatesSuppressed", "AlertsIgnored", "ResolvedWithoutTicket")
    before = {name: metrics.total(name) for name in quiet}
    late_copy = replace(handled["repeats"], receipt_handle="rh-late", received_at=datetime.now(UTC))
    await pipeline.process(late_copy)
    assert {name: metrics.total(name) for name in quiet} == before


def test_a_blank_dimension_value_reaches_cloudwatch_as_no_value() -> None:
    """A dimension the code passes blank is sent as `(none)`, like an alert's missing team,
    never as `none`, which a real team or reason may be called."""
    metrics = Metrics()
    metrics.incr("SinkCalls", sink=" ", outcome="ok")
    [doc] = [d for d in flush(metrics) if "sink" in d]
    assert doc["sink"] == NONE
