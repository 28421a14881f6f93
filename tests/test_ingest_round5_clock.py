"""A sender's clock that runs fast: a time a little past `max_future_skew` is held at the
latest time believed, so a resolve stays after the firing believed just inside the skew; a
time far ahead (a wrong clock, a hostile stamp) still tells nothing of order and is dated when
its message was queued (red team 286, tests/test_redteam_round5_sources.py)."""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

import pytest

from factories import T0, alert
from recording_pipeline import Sink, pipeline_into
from triage.pipeline import believable_time
from triage.sqs.inbox import Message

SKEW = timedelta(minutes=5)  # the policy's default max_future_skew


def _job(status: str, stamp: datetime | str) -> dict[str, Any]:
    at = stamp if isinstance(stamp, str) else stamp.isoformat()
    return {"title": "Nightly backup failed", "dedup_key": "backup", "status": status} | {
        "timestamp": at
    }


async def _decided(steps: Sequence[tuple[str, datetime | str, datetime]]) -> list[str]:
    """What one pipeline decides for each (status, stamp, received at) in turn."""
    pipeline = pipeline_into(Sink())
    actions = []
    for n, (status, stamp, at) in enumerate(steps):
        body = json.dumps(_job(status, stamp))
        message = Message(f"m-{n}", body, f"r-{n}", 1, at, received_at=at)
        actions += [str(o.action) for o in await pipeline.process(message)]
    return actions


@pytest.mark.parametrize("late_s", [1, 30, 270], ids=["1s", "30s", "4.5min"])
async def test_a_resolve_just_past_the_skew_closes_what_its_fast_clock_opened(
    late_s: int,
) -> None:
    """A clock ~5 minutes fast: the firing believed just inside the skew, its resolve a
    minute later just past it (by `late_s`): the resolve closes the ticket."""
    fired, resolved = T0, T0 + timedelta(minutes=1)
    steps = [
        ("firing", fired + SKEW - timedelta(seconds=10), fired),
        ("resolved", resolved + SKEW + timedelta(seconds=late_s), resolved),
    ]
    assert await _decided(steps) == ["open", "close"]


def test_a_time_a_little_past_the_skew_is_held_at_the_latest_time_believed() -> None:
    """A time up to twice the skew ahead becomes the queue time plus the skew (never the
    receive time, which lies before times believed a moment ago)."""
    ahead = alert(at=T0 + SKEW + timedelta(minutes=2))
    assert believable_time(ahead, T0, SKEW, T0).occurred_at == T0 + SKEW


@pytest.mark.parametrize("wedge", ["firing", "resolved"])
async def test_a_stamp_in_2999_is_dated_when_queued_and_orders_nothing(wedge: str) -> None:
    """An event stamped in 2999 between two real ones, a minute apart, is taken at its queue
    time: the real event after it still acts (a resolve closes, a firing reopens)."""
    after = "resolved" if wedge == "firing" else "firing"
    minute = timedelta(minutes=1)
    steps: list[tuple[str, datetime | str, datetime]] = [
        ("firing", T0, T0),
        (wedge, "2999-01-01T00:00:00Z", T0 + minute),
        (after, T0 + 2 * minute, T0 + 2 * minute),
    ]
    expected = {"firing": ["open", "count", "close"], "resolved": ["open", "close", "reopen"]}
    assert await _decided(steps) == expected[wedge]


def test_a_replaced_time_is_the_same_on_every_delivery() -> None:
    """The time given to an alert from the future hangs on when its message was queued, not
    on when this delivery was received: a redelivery is dated as the first delivery was."""
    far = alert(at=T0 + timedelta(days=365))
    first = believable_time(far, T0, SKEW, T0)
    again = believable_time(far, T0 + timedelta(minutes=3), SKEW, T0)
    assert first.occurred_at == again.occurred_at


async def test_a_clock_far_fast_keeps_its_events_in_the_order_they_came() -> None:
    """A clock an hour fast (a time zone written as UTC): neither time is believed, and the
    resolve that came after the firing closes it."""
    hour = timedelta(hours=1)
    steps = [
        ("firing", T0 + hour, T0),
        ("resolved", T0 + timedelta(minutes=1) + hour, T0 + timedelta(minutes=1)),
    ]
    assert await _decided(steps) == ["open", "close"]
