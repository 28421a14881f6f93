"""Unset times: the Unix epoch in any spelling (and the other instants senders write for "no
time": Go's and .NET's zero time, MySQL's zero date, a template's "null") reads as no time, as
the number 0 always did, in `common.timestamp` and so in every source that reads times through
it; the alert is dated when its message was queued, and no note calls it unreadable."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

import pytest

from case_chunks import assert_each
from factories import T0
from source_samples import Samples, one
from triage.normalize import common
from triage.normalize.generic import dated

#: The epoch as scripts and tools print an unset time.
EPOCH_SPELLINGS = [
    "1970-01-01T00:00:00Z",
    "1970-01-01T00:00:00.000Z",
    "1970-01-01T00:00:00+00:00",
    "1970-01-01T01:00:00+01:00",  # the same instant, written in a zone east of UTC
    "1969-12-31T19:00:00-05:00",  # and west of it
    "1970-01-01 00:00:00",
    "1970-01-01",
    "1970-01-01 00:00:00 UTC",
    "1970-01-01 00:00:00 +0000 UTC",  # Go's Time.String() of time.Unix(0, 0)
    "Thu, 01 Jan 1970 00:00:00 GMT",  # JavaScript's new Date(0).toUTCString()
    "Thu, 01 Jan 1970 00:00:00 +0000",  # date -R -d @0
    "Thu Jan 01 1970 01:00:00 GMT+0100 (Central European Standard Time)",  # String(new Date(0))
    "1970/01/01 00:00:00",
    " 1970-01-01T00:00:00Z ",
    0,
    0.0,
    "0",
    "0.000",
]
KAPACITOR_SAMPLE = "critical.json"
#: Other spellings of "no time" that reach a timestamp field from templates and databases.
OTHER_UNSET = [
    "0001-01-01T00:00:00Z",
    "0001-01-01T00:00:00",
    "0001-01-01 00:00:00 +0000 UTC",
    "0000-00-00 00:00:00",
    "0000-00-00T00:00:00Z",
    "0000-00-00",
    "null",
    "None",
    "undefined",
    "nil",
    "",
    "  ",
    None,
]


def test_every_spelling_of_the_epoch_is_no_time() -> None:
    """`common.timestamp` reads the epoch instant, however it is written, as no time (None),
    as it reads the number 0."""
    assert_each(EPOCH_SPELLINGS, lambda spelt: (common.timestamp(spelt), None), name="time")


def test_times_just_after_the_epoch_are_still_times() -> None:
    """Only the epoch instant itself is unset: a second after it is a time, in every form."""
    second = T0.replace(year=1970, month=1, day=1, hour=0, minute=0, second=1)
    just_after = ["1970-01-01T00:00:01Z", "Thu, 01 Jan 1970 00:00:01 GMT", 1, "1"]
    assert_each(just_after, lambda spelt: (common.timestamp(spelt), second), name="time")


@pytest.mark.parametrize("value", [*EPOCH_SPELLINGS, *OTHER_UNSET], ids=repr)
def test_an_unset_time_dates_the_alert_when_queued_without_a_note(value: Any) -> None:
    """`dated` (which most sources read their time with) takes an unset time as none given:
    the alert is dated when its message was queued and nothing is logged as unreadable."""
    with common.queued_at(T0):
        assert dated(value, "generic timestamp") == (T0, ())


def test_a_time_that_is_no_time_still_gets_its_note() -> None:
    """Text that is neither a time nor an unset one is still noted: the operator learns why
    the alert is dated when it was queued."""
    with common.queued_at(T0):
        when, notes = dated("yesterday-ish", "generic timestamp")
    assert when == T0
    assert len(notes) == 1 and "yesterday-ish" in notes[0]


def test_an_epoch_resolve_is_newer_than_the_firing_it_ends() -> None:
    """A generic resolve stamped with the epoch as text is dated when it was queued (after the
    firing), not in 1970, so the lifecycle does not ignore it as older."""
    with common.queued_at(T0 + timedelta(minutes=5)):
        resolved = one(
            {"title": "Disk full", "dedup_key": "k", "status": "resolved",
             "timestamp": "Thu, 01 Jan 1970 00:00:00 GMT"}
        )  # fmt: skip
    assert resolved.occurred_at == T0 + timedelta(minutes=5)


def test_other_sources_reading_times_through_common_take_the_epoch_as_unset() -> None:
    """A CloudWatch alarm's `StateChangeTime` (raw and inside SNS, whose own `Timestamp` is the
    epoch too) and a kapacitor alert's `time` at the epoch are no time: each alert is dated
    when its message was queued."""
    raw = Samples("cloudwatch").body("raw-alarm.json")
    raw["StateChangeTime"] = "1970-01-01T00:00:00.000+0000"
    envelope = Samples("cloudwatch").body("sns-alarm.json")
    envelope["Timestamp"] = "1970-01-01T00:00:00.000Z"
    envelope["Message"] = json.dumps(
        json.loads(envelope["Message"]) | {"StateChangeTime": "1970-01-01T00:00:00.000+0000"}
    )
    kapacitor = Samples("kapacitor").body(KAPACITOR_SAMPLE) | {"time": "1970-01-01T00:00:00Z"}
    with common.queued_at(T0):
        dates = [one(body).occurred_at for body in (raw, envelope, kapacitor)]
    assert dates == [T0, T0, T0]


def test_the_instant_reader_keeps_the_epoch_for_formats_that_give_it_a_meaning() -> None:
    """`common.instant` reads the epoch as the epoch (Alertmanager's API takes an `endsAt` in
    1970 as ended), while `timestamp` reads it as no time; year 1 is no instant for either."""
    epoch = T0.replace(year=1970, month=1, day=1, hour=0)
    assert [common.instant(v) for v in ("1970-01-01T00:00:00Z", 0)] == [epoch, epoch]
    assert common.instant("0001-01-01T00:00:00Z") is None
