"""Times after 2038-01-19 (a signed 32-bit second count's end) and on leap days read as the
instants they name: the epoch-scale guess, the text forms and the store's codec hold no year
bound a deployment could reach."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from factories import alert, view
from triage.incidents import codec
from triage.normalize import common

#: 2040-02-29 12:00:00 UTC: past 2038 and a leap day.
LEAP_2040 = datetime(2040, 2, 29, 12, 0, tzinfo=UTC)
SECONDS = int(LEAP_2040.timestamp())


@pytest.mark.parametrize(
    "value",
    [
        SECONDS,
        str(SECONDS),
        SECONDS * 1000,
        SECONDS * 1_000_000,
        SECONDS * 1_000_000_000,
        "2040-02-29T12:00:00Z",
        "2040-02-29T13:00:00+01:00",
        "Wed, 29 Feb 2040 12:00:00 GMT",
        "2040/02/29 12:00:00",
        "2040-02-29 12:00:00 UTC",
        "Wed Feb 29 2040 13:00:00 GMT+0100 (Central European Standard Time)",
    ],
)
def test_a_time_past_2038_on_a_leap_day_reads_as_itself(value: object) -> None:
    """Epoch seconds, ms, µs and ns of 2040-02-29 and its text forms all read as that instant."""
    assert common.instant(value) == LEAP_2040


@pytest.mark.parametrize(
    ("value", "year"),
    [
        (2**31 - 1, 2038),  # the last second a signed 32-bit count holds
        (2**31, 2038),  # the one after it
        (2**32, 2106),  # an unsigned 32-bit count's end
        (99_999_999_999, 5138),  # the largest number still read as seconds
    ],
)
def test_second_counts_past_32_bits_are_read_as_seconds(value: int, year: int) -> None:
    """A seconds count past 2**31 or 2**32 is still seconds, not milliseconds of 1970."""
    when = common.instant(value)
    assert when is not None and when.year == year


def test_the_store_codec_keeps_a_time_past_2038_to_the_microsecond() -> None:
    """An alert dated after 2038 survives the store's encoding exactly, a microsecond included."""
    at = LEAP_2040 + timedelta(microseconds=1)
    kept = codec.view_from_json(codec.view_to_json(view(alert("late", at=at))))
    assert kept.occurred_at == at
