"""A storm's repeats of a generic alert: read once, then remembered by the fields the reading
looks at, and each repeat dated anew with its own payload (helper 492)."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import pytest

from triage.normalize import common, generic, normalize_body
from triage.normalize.common import Normalized


def storm_body(occurrence: int, **fields: Any) -> str:
    """The bench's storm alert: the same fields each time, but a counter it never reads."""
    body = {
        "title": "storm incident 1",
        "source": "bench",
        "severity": "error",
        "team": "platform",
        "priority": "P2",
        "description": "Synthetic alert storm incident 1 from the triage benchmark.",
        "dedup_key": "s-1",
        "host": "bench-host-1",
        "occurrence": occurrence,
        **fields,
    }
    return json.dumps(body)


def fresh(body: str) -> Normalized:
    """`body` read with nothing remembered."""
    generic._remembered.clear()
    return normalize_body(body)


def test_a_repeat_is_not_read_again(monkeypatch: pytest.MonkeyPatch) -> None:
    """A generic alert's second sending with the same fields skips the reading (its title's
    state, its labels, its priority): a storm pays for it once per incident."""
    generic._remembered.clear()
    normalize_body(storm_body(1))
    read: list[object] = []
    title_state = generic.subjects.title_state
    monkeypatch.setattr(
        generic.subjects, "title_state", lambda *a: read.append(a) or title_state(*a)
    )
    normalize_body(storm_body(2))
    assert read == []


def test_a_repeat_is_read_as_a_fresh_reading_dated_anew() -> None:
    """A remembered repeat is what a reading from nothing gives, but its time (its message's
    queueing, or its own timestamp) and the payload it keeps for the store are its own."""
    queued = [datetime(2026, 12, 7, 1, 0, s, tzinfo=UTC) for s in (1, 2)]
    with common.queued_at(queued[0]):
        first = fresh(storm_body(1)).alerts[0]
    with common.queued_at(queued[1]):
        repeat = normalize_body(storm_body(2)).alerts[0]
        expected = fresh(storm_body(2)).alerts[0]
    assert repeat == expected
    assert repeat.fingerprint == first.fingerprint
    assert (first.occurred_at, repeat.occurred_at) == tuple(queued)
    assert (first.raw["occurrence"], repeat.raw["occurrence"]) == (1, 2)
    stamped = normalize_body(storm_body(3, timestamp="2026-12-07T01:30:00Z")).alerts[0]
    assert stamped.occurred_at == datetime(2026, 12, 7, 1, 30, tzinfo=UTC)
    unread = normalize_body(storm_body(4, timestamp="not a time"))
    assert unread.notes == fresh(storm_body(4, timestamp="not a time")).notes
    assert any("not a time" in note for note in unread.notes)


@pytest.mark.parametrize(
    ("first", "then"),
    [
        ({"status": "firing"}, {"status": "resolved"}),
        ({"priority": "P2"}, {"priority": "P1"}),
        ({"resolved": "true"}, {"resolved": True}),
        ({"resolved": "1"}, {"resolved": 1}),
        ({"team": "1"}, {"team": 1}),
        ({}, {"Status": "resolved"}),
        ({"labels": {"a": "1"}}, {"labels": {"a": "2"}}),
        ({"description": "one"}, {"details": {"k": "v"}}),
    ],
)
def test_what_differs_is_read_again(first: dict[str, Any], then: dict[str, Any]) -> None:
    """An alert differing in any field the reading looks at (its value, its JSON type, a key's
    case, an object) is read as itself, never as the one remembered before it."""
    generic._remembered.clear()
    with common.queued_at(datetime(2026, 12, 7, 1, 0, tzinfo=UTC)):
        normalize_body(storm_body(1, **first))
        got = normalize_body(storm_body(2, **then))
        assert got == fresh(storm_body(2, **then))


def test_what_is_remembered_stays_bounded() -> None:
    """Alerts of long texts are read every time, at most `_REMEMBERED_KEPT` others are kept,
    and none keeps its payload (up to SQS's 256 KB, of fields the reading never looks at): a
    storm of ever-new or ever-larger alerts cannot grow the memory."""
    generic._remembered.clear()
    normalize_body(storm_body(0, padding="x" * 200_000))
    assert [read.alert.raw for read in generic._remembered.values()] == [{}]
    generic._remembered.clear()
    normalize_body(storm_body(0, description="x " * generic._REMEMBERED_CHARS))
    assert generic._remembered == {}
    for k in range(generic._REMEMBERED_KEPT + 10):
        normalize_body(storm_body(k, dedup_key=f"s-{k}"))
    assert len(generic._remembered) == generic._REMEMBERED_KEPT
