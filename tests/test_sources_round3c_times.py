"""A leap second (`23:59:60`) is a time the sender stated: read as 23:59:59 in every form
triage reads, rather than dropped for the moment the message was queued."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest

from triage.normalize import common, normalize_body

LAST_SECOND = datetime(2016, 12, 31, 23, 59, 59, tzinfo=UTC)


@pytest.mark.parametrize(
    "given",
    [
        "2016-12-31T23:59:60Z",
        "2016-12-31t23:59:60z",
        "2016-12-31T23:59:60+00:00",
        "2017-01-01T00:59:60+01:00",
        "2016-12-31 23:59:60 +0000 UTC",
        "2016-12-31 23:59:60 UTC",
        "Sat, 31 Dec 2016 23:59:60 GMT",
        "Sat Dec 31 2016 23:59:60 GMT+0000 (Coordinated Universal Time)",
        "2016/12/31 23:59:60",
    ],
)
def test_a_leap_second_reads_as_the_second_before_it(given: str) -> None:
    """Each time form triage reads, with second 60, is 23:59:59 of that minute."""
    assert common.timestamp(given) == LAST_SECOND


def test_a_leap_second_keeps_its_fraction() -> None:
    """23:59:60.5 reads as 23:59:59.5: the fraction the sender gave is kept."""
    assert common.timestamp("2016-12-31T23:59:60.5Z") == LAST_SECOND.replace(microsecond=500_000)


@pytest.mark.parametrize("given", ["2016-12-31T23:59:61Z", "2016-12-31T23:60:00Z", "23:59:60"])
def test_other_impossible_times_stay_unread(given: str) -> None:
    """Only second 60 of a whole date and time is a leap second: second 61, minute 60 or a
    time without a date stay no time triage reads."""
    assert common.timestamp(given) is None


def test_a_generic_alert_sent_in_a_leap_second_is_dated_then_without_a_note() -> None:
    """A script's alert stamped in a leap second carries that time, and no note says its
    timestamp was unreadable."""
    body = {"title": "disk full", "timestamp": "2016-12-31T23:59:60Z"}
    normalized = normalize_body(json.dumps(body))
    assert normalized.alerts[0].occurred_at == LAST_SECOND
    assert normalized.notes == ()
