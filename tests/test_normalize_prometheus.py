"""Alerts posted as to Alertmanager's API (a JSON array, what Prometheus and vmalert send):
status from `endsAt`, the webhook's fingerprints, and clear errors for every other array."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from triage.decode import decode_body
from triage.errors import DecodeError, InvalidAlertError
from triage.incidents.lifecycle import Action, Policy, decide
from triage.models import Priority, Status
from triage.normalize import Normalized, normalize_body, recognise_body
from triage.normalize.common import queued_at

PAYLOADS = Path(__file__).parent / "payloads"
#: When the sample firing batch was queued: after its startsAt, before its endsAt.
QUEUED = datetime(2026, 11, 23, 9, 11, 30, tzinfo=UTC)


def read(name: str) -> str:
    return (PAYLOADS / name).read_text(encoding="utf-8")


def at(when: datetime, body: str) -> Normalized:
    """`body`'s alerts as the daemon reads them from a message queued at `when`."""
    with queued_at(when):
        return normalize_body(body)


def posted(*alerts: dict[str, Any]) -> str:
    return json.dumps(list(alerts))


def alert(**fields: Any) -> dict[str, Any]:
    return {"labels": {"alertname": "DiskFull", "instance": "db-1"}, **fields}


def test_posted_batch_is_every_alert_with_the_webhooks_fields() -> None:
    """A Prometheus batch yields every alert, read as Alertmanager's: title, team, priority,
    severity, runbook and source link, with source alertmanager and format prometheus."""
    recognised = recognise_body(read("prometheus/api-v2-firing.json"))
    assert recognised.format == "prometheus"
    with queued_at(QUEUED):
        first, *rest = normalize_body(read("prometheus/api-v2-firing.json")).alerts
    assert len(rest) == 2
    assert first.source == "alertmanager"
    assert first.title == "HighRequestLatency: High request latency on checkout-1:8080"
    assert (first.team, first.priority, first.severity) == ("payments", Priority.HIGH, "page")
    assert first.runbook_url == "https://runbooks.example.com/checkout/latency"
    assert first.links["source"].startswith("http://prometheus-0:9090/graph")
    assert first.status is Status.FIRING


@pytest.mark.parametrize(
    ("posted_name", "webhook_name"),
    [
        ("prometheus/api-v2-firing.json", "alertmanager/group-firing.json"),
        ("prometheus/api-v2-resolved.json", "alertmanager/group-resolved.json"),
    ],
)
def test_fingerprints_equal_the_webhooks(posted_name: str, webhook_name: str) -> None:
    """The same alerts posted to the API and delivered by an Alertmanager webhook have the
    same fingerprints and status, so switching paths or running both opens no second incident."""
    when = datetime(2026, 11, 23, 9, 33, tzinfo=UTC) if "resolved" in posted_name else QUEUED
    api = at(when, read(posted_name)).alerts
    webhook = at(when, read(webhook_name)).alerts
    assert [(a.fingerprint, a.status) for a in api] == [(a.fingerprint, a.status) for a in webhook]


@pytest.mark.parametrize(
    ("ends_at", "status"),
    [
        (None, Status.FIRING),  # vmalert sends no endsAt while firing
        ("", Status.FIRING),
        ("0001-01-01T00:00:00.000Z", Status.FIRING),  # Go's zero time: an unset endsAt
        ("2026-11-23T09:14:00.000Z", Status.FIRING),  # ahead of the queue time: still valid
        ("2026-11-23T09:11:30Z", Status.RESOLVED),  # exactly when queued: ended
        ("2026-11-23T09:11:29.999999999Z", Status.RESOLVED),
        ("1970-01-01T00:00:00Z", Status.RESOLVED),  # the epoch is a time long past here
    ],
)
def test_status_is_whether_endsAt_has_passed_when_queued(
    ends_at: str | None, status: Status
) -> None:
    """An alert is resolved when endsAt is set and not after the message was queued, else
    firing; a stated `status` field (not part of the API) is not read."""
    fields: dict[str, Any] = {"startsAt": "2026-11-23T09:10:00Z", "status": "resolved"}
    if ends_at is not None:
        fields["endsAt"] = ends_at
    [read_alert] = at(QUEUED, posted(alert(**fields))).alerts
    assert read_alert.status is status


def test_resolved_alert_is_dated_by_its_end() -> None:
    """A resolved alert occurs at its endsAt, after the startsAt its firing repeats carry, so
    the resolve is the newer event and a late repeat never reopens it."""
    firing, resolved = (
        at(QUEUED, posted(alert(startsAt="2026-11-23T09:10:00Z", endsAt=end))).alerts[0]
        for end in ("2026-11-23T09:14:00Z", "2026-11-23T09:11:00Z")
    )
    assert firing.occurred_at == datetime(2026, 11, 23, 9, 10, tzinfo=UTC)
    assert resolved.occurred_at == datetime(2026, 11, 23, 9, 11, tzinfo=UTC)


def test_repeats_of_a_firing_alert_are_counted_not_reopened() -> None:
    """Prometheus re-sends a firing alert every minute with the same startsAt and a later
    endsAt: the first opens the incident, the repeats are counted."""
    now = QUEUED
    stored = None
    actions = []
    policy = Policy()
    for minute in range(4):
        ends = (now + timedelta(minutes=minute + 4)).isoformat()
        body = posted(alert(startsAt="2026-11-23T09:10:00Z", endsAt=ends))
        [event] = at(now + timedelta(minutes=minute), body).alerts
        decision = decide(stored, event, now + timedelta(minutes=minute), policy)
        actions.append(decision.action)
        stored = decision.incident or stored
    assert actions[0] is Action.OPEN
    assert set(actions[1:]) <= {Action.COUNT, Action.UPDATE}
    assert stored is not None and stored.occurrences == 4


def test_unreadable_alert_is_left_out_with_a_note() -> None:
    """One alert with an endsAt that is no time, or without labels, is left out with a note
    naming it; the batch's other alerts are read."""
    body = posted(alert(), alert(endsAt="yesterday"), {"annotations": {}})
    result = at(QUEUED, body)
    assert len(result.alerts) == 1
    assert any("alerts[1].endsAt" in note for note in result.notes)
    assert any("alerts[2]" in note for note in result.notes)


def test_batch_of_only_unreadable_alerts_is_invalid() -> None:
    """A batch none of whose alerts can be read is rejected with the first one's error."""
    with pytest.raises(InvalidAlertError, match=r"alerts\[0\]\.endsAt"):
        at(QUEUED, posted(alert(endsAt=12.5e30)))


def test_empty_array_is_an_empty_batch() -> None:
    """`[]`, which Alertmanager's API accepts, is understood and changes nothing."""
    result = normalize_body("[]")
    assert result.alerts == ()
    assert [s.reason for s in result.skipped] == ["empty_group"]


@pytest.mark.parametrize(
    ("body", "match"),
    [
        ("[1, 2]", r"item \[0\] is a number"),
        # Beside an alert object, an item that is none is left out (a note), not refused.
        ('[{"title": "disk full"}, "x"]', r"item \[1\] is a string"),
        ("[[]]", r"item \[0\] is an array"),
        ('[{"title": "disk full"}]', "none with a labels object"),
        ('[{"labels": ["a"]}]', "none with a labels object"),
    ],
)
def test_other_arrays_are_decode_errors(body: str, match: str) -> None:
    """An array that is not a list of alert objects is a permanent decode error saying what
    it holds and which array is read."""
    with pytest.raises(DecodeError, match=match):
        normalize_body(body)


def test_an_object_cannot_pass_for_a_posted_batch() -> None:
    """Only a top-level array is read as posted alerts: an object spelling the same keys is
    read as what it is (here, alerts alone, which need their status)."""
    payload = decode_body(posted(alert()))
    assert payload == {"alerts": [alert()]}
    with pytest.raises(InvalidAlertError, match="is not firing or resolved"):
        normalize_body(json.dumps(payload))


def test_array_in_an_sns_message_stays_refused() -> None:
    """An SNS notification's Message that is an array is still refused: posted alerts come
    only as the body itself."""
    envelope = {"Type": "Notification", "TopicArn": "arn:aws:sns:eu-west-1:1:t"}
    with pytest.raises(DecodeError, match="not an object"):
        normalize_body(json.dumps({**envelope, "Message": posted(alert())}))


def test_many_unreadable_alerts_are_one_note() -> None:
    """A batch of a thousand unreadable alerts beside one good one is one note (one log line)
    counting them and quoting the first few reasons, not a note per alert."""
    body = posted(alert(), *({"labels": {}} for _ in range(1000)))
    result = at(QUEUED, body)
    assert len(result.alerts) == 1
    (note,) = result.notes
    assert "1000 alerts left out of its group" in note
    assert "alerts[1] has no labels" in note
    assert "and 997 more" in note
