"""A number is read as a date's or a time's piece (`grounding._in_date`) exactly as the
patterns alone read it, though the patterns are searched only where a cheap look says they
may match (`_dated_run`, `_month_before`)."""

from __future__ import annotations

import pytest

from triage.summarise import grounding
from triage.summarise.grounding import (
    _ANY_NUMBER,
    _DATE_REACH,
    _MONTH_AFTER,
    _MONTH_BEFORE,
    _MONTH_BEFORE_REACH,
    _NUMERIC_DATE,
    _YEAR,
    _YEAR_BEFORE,
    _in_date,
)


def _searched(text: str, start: int, end: int) -> bool:
    """`_in_date` as the patterns alone answer it."""
    around = _NUMERIC_DATE.finditer(text, max(0, start - _DATE_REACH), end + _DATE_REACH)
    if any(found.start() <= start and end <= found.end() for found in around):
        return True
    if _MONTH_AFTER.match(text, end) or _MONTH_BEFORE.search(
        text, max(0, start - _MONTH_BEFORE_REACH), start
    ):
        return True
    year = _YEAR.fullmatch(text, start, end) is not None
    return year and _YEAR_BEFORE.search(text, max(0, start - 12), start) is not None


_TEXTS = [
    "x alert 1. Where: dedup_key=x-1, host=bench-host-1",
    "at 2026-11-23T09:00:00.123+01:00 and 2026-11-23 09:00 Z",
    "since 09:14:02 AM, 8:14, 12:00:00,5 and 23/11/26 or 2026/11/23",
    "Nov 23, 2026; 23rd of November; on Dec.\u00a05 and dec\n7 and mar 5 2025",
    "\u017fep 12 (a long s), \u0130 and \u0131, SEP 3, Sept. 30",
    "\u0661\u0662:\u0663\u0664 and \u0967\u0968/\u0969/\u096a\u096b",
    "12 - 3 = 9; 10 : 20; 1 / 2; 5\u2009-\u200910; 07-12-2026",
    "2026-12-07t19:04:13.298599+00:00\n19:04\n19:04:13",
    "in 2026, since 1999, year 2030, 2026 servers, p95 of 2026",
    "version 1.2.3-rc4 at 10.0.0.1:8080/path",
]


@pytest.mark.parametrize("text", [*_TEXTS, *(t.lower() for t in _TEXTS)])
def test_every_number_is_read_as_the_patterns_read_it(text: str) -> None:
    """Every number of texts holding dates, times, months (in ASCII and not), years and
    separators of other uses: the same answer as the patterns searched every time."""
    for match in _ANY_NUMBER.finditer(text):
        start, end = match.span()
        assert _in_date(text, start, end) == _searched(text, start, end), match


def test_a_number_far_from_any_date_is_not_searched_around(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A number with no date's separator in the run around it and no month before it (most
    numbers of an answer) is answered without searching the date patterns."""

    class Unsearched:
        def __getattr__(self, name: str) -> object:
            raise AssertionError(f"searched: {name}")

    monkeypatch.setattr(grounding, "_NUMERIC_DATE", Unsearched())
    monkeypatch.setattr(grounding, "_MONTH_BEFORE", Unsearched())
    text = "generic reports x alert 1, where 42 servers fail"
    for match in _ANY_NUMBER.finditer(text):
        assert not _in_date(text, *match.span())
