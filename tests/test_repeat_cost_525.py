"""A storm's byte-identical repeats (an Alertmanager group notified again at each
repeat_interval): decoded, recognised and normalised once, then remembered by the body itself,
unless the reading asked the clock (helper 525)."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import pytest

import triage.normalize as normalize
from triage.normalize import common, normalize_body, recognise_body


def am_body(pod: str = "api-1", **alert_fields: Any) -> str:
    """An Alertmanager notification of one firing alert, as sent again at each repeat."""
    alert = {
        "status": "firing",
        "labels": {"alertname": "KubePodCrashLooping", "namespace": "shop", "pod": pod},
        "annotations": {"summary": f"Pod shop/{pod} is crash looping"},
        "startsAt": "2026-12-03T09:00:00Z",
        "endsAt": "0001-01-01T00:00:00Z",
        "generatorURL": "http://prometheus:9090/graph?g0.expr=up",
        **alert_fields,
    }
    return json.dumps(
        {
            "version": "4",
            "groupKey": '{}:{alertname="KubePodCrashLooping"}',
            "status": "firing",
            "receiver": "triage",
            "alerts": [alert],
        }
    )


@pytest.fixture(autouse=True)
def nothing_remembered() -> None:
    normalize._remembered.clear()


def counted_readings(monkeypatch: pytest.MonkeyPatch) -> list[object]:
    """Each time a payload is recognised (a reading that was not remembered)."""
    readings: list[object] = []
    recognise = normalize._recognise

    def counting(payload: dict[str, Any]) -> normalize.Recognised:
        readings.append(payload)
        return recognise(payload)

    monkeypatch.setattr(normalize, "_recognise", counting)
    return readings


def test_a_byte_identical_repeat_is_not_read_again(monkeypatch: pytest.MonkeyPatch) -> None:
    """The second sending of the same Alertmanager body is not decoded nor normalised again."""
    readings = counted_readings(monkeypatch)
    recognise_body(am_body())
    recognise_body(am_body())
    assert len(readings) == 1


def test_a_remembered_repeat_equals_a_fresh_reading_in_copies_of_its_own() -> None:
    """A remembered repeat is what reading it from nothing gives (every field, its payload and
    fingerprint too), in alert objects of its own."""
    first = recognise_body(am_body())
    repeat = recognise_body(am_body())
    normalize._remembered.clear()
    fresh = recognise_body(am_body())
    assert repeat.format == fresh.format == "alertmanager"
    assert repeat.normalized == fresh.normalized
    assert [a.fingerprint for a in repeat.normalized.alerts] == [
        a.fingerprint for a in fresh.normalized.alerts
    ]
    assert repeat.normalized.alerts[0] is not first.normalized.alerts[0]


def test_a_body_read_against_the_clock_is_read_at_each_repeat(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """An alert that states no time is dated by its own message's queueing on every repeat:
    a body whose reading asked the clock is never remembered."""
    readings = counted_readings(monkeypatch)
    body = am_body(startsAt=None)
    queued = [datetime(2026, 12, 7, 8, 0, s, tzinfo=UTC) for s in (1, 2)]
    dates = []
    for when in queued:
        with common.queued_at(when):
            dates.append(normalize_body(body).alerts[0].occurred_at)
    assert dates == queued
    assert len(readings) == 2


def test_a_generic_alert_without_a_time_is_dated_anew_at_each_repeat() -> None:
    """A generic alert that states no time, sent twice byte for byte, takes each message's
    queueing time: the body memo does not hand back the first message's."""
    body = json.dumps({"title": "disk full", "dedup_key": "d-1", "status": "firing"})
    queued = [datetime(2026, 12, 7, 8, 1, s, tzinfo=UTC) for s in (1, 2)]
    dates = []
    for when in queued:
        with common.queued_at(when):
            dates.append(normalize_body(body).alerts[0].occurred_at)
    assert dates == queued


def test_a_sentry_resource_hint_is_part_of_what_is_remembered() -> None:
    """The same body with and without the gateway's Sentry resource hint is two readings: the
    hint may change the format that reads it."""
    body = am_body()
    recognise_body(body)
    recognise_body(body, sentry_resource="event_alert")
    assert len(normalize._remembered) == 2


def test_the_memo_stays_bounded_and_skips_large_bodies(monkeypatch: pytest.MonkeyPatch) -> None:
    """At most `_REMEMBERED_KEPT` bodies are kept, the oldest forgotten first, and a body over
    `_REMEMBERED_CHARS` is read each time, so a storm of big or varied bodies keeps no more."""
    for i in range(normalize._REMEMBERED_KEPT + 10):
        recognise_body(am_body(pod=f"api-{i}"))
    assert len(normalize._remembered) == normalize._REMEMBERED_KEPT
    assert (am_body(pod="api-0"), None) not in normalize._remembered
    readings = counted_readings(monkeypatch)
    big = am_body(annotations={"summary": "x" * normalize._REMEMBERED_CHARS})
    recognise_body(big)
    recognise_body(big)
    assert len(readings) == 2


def test_a_body_that_cannot_be_read_is_refused_at_each_sending() -> None:
    """Only readings are remembered: a refused body is refused again with its own error."""
    body = json.dumps({"nothing": "known"})
    for _ in range(2):
        with pytest.raises(Exception, match="no known alert format"):
            recognise_body(body)
    assert normalize._remembered == {}
