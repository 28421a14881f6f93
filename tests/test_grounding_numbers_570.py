"""The evidence's number places (`grounding._number_places`) are where the plain and the
grouped number patterns write each number, by its canonical value, in their order: the same
as reading every match through `_canonical` and `_roundings`."""

from __future__ import annotations

import re

import pytest

from triage.summarise import grounding
from triage.summarise.grounding import (
    _ANY_NUMBER,
    _GROUPED_NUMBER,
    _canonical,
    _number_places,
    _roundings,
)


def _read(text: str) -> dict[str, list[tuple[int, int]]]:
    """Every match of both patterns, each under its canonical value and its roundings."""
    found: dict[str, list[tuple[int, int]]] = {}
    for pattern in (_ANY_NUMBER, _GROUPED_NUMBER):
        for match in pattern.finditer(text):
            value = match.group()
            for key in (_canonical(value), *(_roundings(value) if "." in value else ())):
                found.setdefault(key, []).append(match.span())
    return found


_TEXTS = [
    "cpu 95 at 2026-12-07t19:04:13.298599+00:00 on web-1, p95 of 007 ms",
    "1,000 requests, 1,000,000.50 bytes, 12,34 and 1,2345; a list: 1, 2, 3",
    "\u0661\u0662,\u0663\u0664\u0665 and \u0967\u0968.\u0969 and 0.50 and 00.00 and 3. and .5",
    "9" * 70 + ",123 and " + "1" * 130,
    '{"count":"12","ratio":"0.125","ids":[1,2,3]}',
    "no numbers here, none at all",
]


@pytest.mark.parametrize("text", _TEXTS)
def test_places_are_every_match_by_its_canonical_value(text: str) -> None:
    """Keys (in order) and places as every match read through `_canonical` and `_roundings`
    give them, whatever the digits' script, grouping, leading zeros or length."""
    places = _number_places(text)
    read = _read(text)
    assert {key: [m.span() for m in matches] for key, matches in places.items()} == read
    assert list(places) == list(dict.fromkeys(read))


def test_grouped_numbers_are_not_searched_for_where_none_can_be(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A text whose commas stand between no two digits ("a list: 1, 2, 3") is not searched
    for grouped numbers."""

    class Unsearched:
        def finditer(self, text: str) -> list[re.Match[str]]:
            raise AssertionError("searched for grouped numbers")

    monkeypatch.setattr(grounding, "_GROUPED_NUMBER", Unsearched())
    assert set(_number_places("a list: 1, 2, 3, and 4.5")) == {"1", "2", "3", "4.5", "4", "5"}
