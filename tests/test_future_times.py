"""A sender stamps an event before it sends it: an alert time more than
TRIAGE_MAX_FUTURE_SKEW_S (5 s) past its message's queueing is a clock running fast, replaced
(`believable_time`), and said at warning once per source every 10 minutes (`FutureTimes`)."""

from __future__ import annotations

import json
from datetime import datetime, timedelta

import structlog

from factories import T0
from recording_pipeline import Sink, pipeline_into
from triage.pipeline import FutureTimes
from triage.sqs.inbox import Message


def _message(n: int, source: str, ahead_s: float) -> Message:
    """Message `n`, sent at minute `n`, of a generic alert from `source` stamped `ahead_s`
    past its sending."""
    sent = T0 + timedelta(minutes=n)
    body = {
        "title": f"{source} disk full",
        "dedup_key": f"{source}-disk",
        "source": source,
        "timestamp": (sent + timedelta(seconds=ahead_s)).isoformat(),
    }
    return Message(f"m-{n}", json.dumps(body), f"r-{n}", 1, sent, received_at=sent)


async def test_a_time_past_its_queueing_by_more_than_the_skew_is_replaced() -> None:
    """Stamped 4 s past its sending, an alert keeps its time; 8 s past (within twice the
    skew), it is held at its sending plus the skew; 60 s past, it is dated by its sending."""
    assert await _alone(4) == T0 + timedelta(seconds=4)
    assert await _alone(8) == T0 + timedelta(seconds=5)
    assert await _alone(60) == T0


async def _alone(ahead_s: float) -> datetime:
    """The time a fresh pipeline stores for one alert stamped `ahead_s` past its sending."""
    pipeline = pipeline_into(Sink())
    await pipeline.process(_message(0, "nagios", ahead_s))
    [incident] = await pipeline.ledger.store.incidents()
    return incident.last_event_at


async def test_a_fast_clock_is_said_at_warning_once_per_source() -> None:
    """Three alerts of one sender stamped a minute ahead make one `alert.future_time` warning
    (the others debug); another sender's fast clock gets its own warning."""
    pipeline = pipeline_into(Sink())
    with structlog.testing.capture_logs() as logs:
        for n in range(3):
            await pipeline.process(_message(n, "nagios", 60))
        await pipeline.process(_message(3, "zabbix", 60))
    said = [(e["fingerprint"], e["log_level"]) for e in logs if e["event"] == "alert.future_time"]
    nagios, zabbix = said[0][0], said[3][0]
    assert nagios != zabbix
    assert said == [
        (nagios, "warning"),
        (nagios, "debug"),
        (nagios, "debug"),
        (zabbix, "warning"),
    ]


def test_a_sender_is_said_again_after_ten_minutes_and_few_are_kept() -> None:
    """A sender said 10 minutes ago is said again; past KEPT senders the one said longest
    ago is forgotten, so memory stays bounded."""
    now = [0.0]
    times = FutureTimes(clock=lambda: now[0])
    assert times.first_said("a") and not times.first_said("a")
    now[0] = 599.0
    assert not times.first_said("a")
    now[0] = 600.0
    assert times.first_said("a")
    for i in range(FutureTimes.KEPT):
        times.first_said(f"s{i}")
    assert len(times._said) == FutureTimes.KEPT
    assert times.first_said("a")  # forgotten first: said longest ago
