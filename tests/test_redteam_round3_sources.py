"""Red team, round 3: source shapes no other test sends. Prometheus batches that carry one alert
twice, labels with empty values, an SNS notification forwarded through a second topic, titles
that show nothing, and stated priorities triage cannot read. Each test either guards a
behaviour that holds or is a strict xfail for a bug (its reason says what should happen)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import structlog

from factories import T0
from recording_pipeline import Sink, pipeline_into
from triage.errors import InvalidAlertError, TriageError
from triage.models import EffectKind, Priority
from triage.normalize import normalize_body, recognise_body
from triage.pipeline import _log_normalized
from triage.sqs.inbox import Message

PAYLOADS = Path(__file__).parent / "payloads"

#: One Prometheus alert as Prometheus posts it to Alertmanager's API, started before T0.
LABELS = {"alertname": "HighCPU", "job": "node", "instance": "web-1:9100"}
FIRING: dict[str, Any] = {
    "labels": LABELS,
    "annotations": {"summary": "CPU above 90%"},
    "startsAt": "2026-11-23T08:00:00Z",
}
#: The same alert ended half an hour later (in the past when any test runs).
RESOLVED = FIRING | {"endsAt": "2026-11-23T08:30:00Z"}


async def _actions_and_effects(body: str) -> tuple[list[str], list[EffectKind]]:
    """What a fresh pipeline decides for one message `body`, and the effects its sink got."""
    sink = Sink()
    message = Message("m-1", body, "r-1", 1, T0, received_at=T0)
    outcomes = await pipeline_into(sink).process(message)
    return [str(o.action) for o in outcomes], [e.kind for e in sink.effects]


# --- one alert twice in one batch -------------------------------------------------------------


async def test_a_batch_holding_one_alert_twice_opens_one_ticket() -> None:
    """Prometheus posts the same alert twice in one batch (two rule groups defining it alike):
    the second copy is a repeat of the incident the first opened, never a second ticket."""
    actions, effects = await _actions_and_effects(json.dumps([FIRING, FIRING]))
    assert actions == ["open", "count"]
    assert effects == [EffectKind.OPEN]


async def test_a_batch_holding_an_alert_and_its_end_opens_and_closes_in_order() -> None:
    """A batch with an alert firing and then resolved (one flush caught both) opens the
    incident and closes it, in the batch's order."""
    actions, effects = await _actions_and_effects(json.dumps([FIRING, RESOLVED]))
    assert actions == ["open", "close"]
    assert effects == [EffectKind.OPEN, EffectKind.CLOSE]


async def test_a_firing_copy_older_than_the_end_before_it_opens_nothing() -> None:
    """The resolve first, then the firing copy that started before it ended: the older event
    never moves the incident back to open, so no ticket is made for an alert already over."""
    actions, effects = await _actions_and_effects(json.dumps([RESOLVED, FIRING]))
    assert actions == ["record", "ignore"]
    assert effects == []


# --- labels with empty values -----------------------------------------------------------------


def _one_fingerprint(body: str) -> str:
    [alert] = normalize_body(body).alerts
    return alert.fingerprint


def _webhook(labels: dict[str, str]) -> str:
    """An Alertmanager v4 webhook group holding one firing alert with `labels`."""
    group: dict[str, Any] = json.loads(
        (PAYLOADS / "alertmanager" / "group-firing.json").read_text()
    )
    group["alerts"] = [group["alerts"][0] | {"labels": labels}]
    return json.dumps(group)


def _grafana(labels: dict[str, str]) -> str:
    """A Grafana unified alerting group holding one firing alert with `labels`."""
    group: dict[str, Any] = json.loads((PAYLOADS / "grafana" / "group-firing.json").read_text())
    group["alerts"] = [group["alerts"][0] | {"labels": labels}]
    return json.dumps(group)


def test_an_empty_label_is_not_shown_among_the_alerts_labels() -> None:
    """A label with an empty value is no label (Prometheus's and Alertmanager's rule): the
    alert's shown labels leave it out. The behaviour the fingerprint tests below build on."""
    [alert] = normalize_body(json.dumps([FIRING | {"labels": LABELS | {"az": ""}}])).alerts
    assert "az" not in alert.labels


def test_an_alert_posted_with_an_empty_label_is_the_incident_alertmanager_sends() -> None:
    """Posted to the API path with `az=""`, and sent by Alertmanager (which drops empty labels
    before its webhook), one alert is one fingerprint, as the README's prometheus section says."""
    posted = json.dumps([FIRING | {"labels": LABELS | {"az": ""}}])
    assert _one_fingerprint(posted) == _one_fingerprint(_webhook(LABELS))


def test_a_grafana_alert_with_an_empty_label_is_the_same_incident() -> None:
    """A Grafana alert with one more label that is empty is the same incident as without it:
    an empty label value is no label, in the identity as in the shown labels."""
    labels = {"alertname": "DiskAlmostFull", "instance": "db-7:9100", "team": "platform"}
    assert _one_fingerprint(_grafana(labels | {"extra": ""})) == _one_fingerprint(_grafana(labels))


def test_a_posted_alert_whose_labels_are_all_empty_is_refused_like_one_without_labels() -> None:
    """`{"labels": {"alertname": ""}}` has no label once empty ones are dropped: a clear
    InvalidAlertError, as for `{"labels": {}}`, not an alert titled `alertname=`."""
    with pytest.raises(InvalidAlertError, match="no labels"):
        normalize_body(json.dumps([{"labels": {}}]))
    with pytest.raises(InvalidAlertError, match="no labels"):
        normalize_body(json.dumps([{"labels": {"alertname": ""}}]))


# --- an SNS notification forwarded through a second topic -------------------------------------


def _sns_alarm() -> dict[str, Any]:
    payload: dict[str, Any] = json.loads((PAYLOADS / "cloudwatch" / "sns-alarm.json").read_text())
    return payload


def test_an_alarm_forwarded_through_a_second_sns_topic_is_the_same_incident() -> None:
    """SNS(SNS(alarm)): the alarm inside both envelopes keeps its state and fingerprint."""
    inner = _sns_alarm()
    outer = {key: value for key, value in inner.items() if key != "Subject"} | {
        "MessageId": "0b6f0e0e-0000-4000-8000-000000000002",
        "TopicArn": "arn:aws:sns:us-east-1:210987654321:fan-in",
        "Message": json.dumps(inner),
    }
    [direct] = normalize_body(json.dumps(inner)).alerts
    [forwarded] = normalize_body(json.dumps(outer)).alerts
    assert (forwarded.fingerprint, forwarded.status) == (direct.fingerprint, direct.status)


def test_an_sns_notification_with_only_message_attributes_is_a_clear_error() -> None:
    """An SNS notification whose Message is empty and whose facts are only in
    MessageAttributes (no Subject either) is refused, saying it has no text, rather than read
    as an alert with nothing in it."""
    payload = json.loads((PAYLOADS / "sns" / "text-message.json").read_text())
    payload.pop("Subject")
    payload["Message"] = ""
    payload["MessageAttributes"] = {"severity": {"Type": "String", "Value": "critical"}}
    with pytest.raises(InvalidAlertError, match="neither a Subject nor any Message text"):
        normalize_body(json.dumps(payload))


# --- titles that show nothing -----------------------------------------------------------------


def test_a_title_of_bidi_controls_only_is_refused() -> None:
    """A generic title made of a bidi override alone shows nothing: InvalidAlertError."""
    with pytest.raises(InvalidAlertError, match="title is missing or empty"):
        normalize_body(json.dumps({"title": "\u202e"}))


@pytest.mark.parametrize(
    "title",
    [
        pytest.param("\u200b", id="zero-width-space"),
        pytest.param("\u3164", id="hangul-filler"),
        pytest.param("\ufeff", id="byte-order-mark"),
        pytest.param("\u00ad", id="soft-hyphen"),
        pytest.param("\U000e0041", id="tag-letter"),
    ],
)
def test_a_title_of_invisible_characters_only_is_refused(title: str) -> None:
    """A generic title that shows nothing once displayed is as missing as a blank one."""
    with pytest.raises(InvalidAlertError, match="title is missing or empty"):
        normalize_body(json.dumps({"title": title}))


# --- stated priorities triage cannot read -----------------------------------------------------


def _notes_logged(body: str) -> list[str]:
    """The warning lines normalising `body` makes the pipeline write."""
    with structlog.testing.capture_logs() as logs:
        _log_normalized(recognise_body(body).normalized)
    return [json.dumps(e, default=str) for e in logs]


def _cloudwatch(description: str) -> str:
    payload = json.loads((PAYLOADS / "cloudwatch" / "raw-alarm.json").read_text())
    return json.dumps(payload | {"AlarmDescription": description})


THRESHOLD = {
    "event_type": "threshold_alert", "state": "triggered", "rule_id": "r-1",
    "rule_name": "cpu high", "metric": "cpu", "current_value": 97, "threshold_value": 90,
    "operator": ">", "host": "web-1",
}  # fmt: skip


def test_a_readable_stated_priority_is_the_alerts() -> None:
    """A priority triage reads is the alert's: `P0`, `sev-1` and `urgent` are read."""
    for stated, expected in (("P0", Priority.CRITICAL), ("sev-1", Priority.CRITICAL)):
        [alert] = normalize_body(json.dumps({"title": "x", "priority": stated})).alerts
        assert alert.priority is expected
    [alert] = normalize_body(_cloudwatch("TEAM=orders | PRIORITY=urgent")).alerts
    assert alert.priority is Priority.CRITICAL


@pytest.mark.parametrize(
    "body",
    [
        pytest.param(json.dumps({"title": "Disk full on db-1", "priority": "P9"}), id="generic"),
        pytest.param(json.dumps(THRESHOLD | {"priority": "Priority 1"}), id="threshold"),
        pytest.param(_cloudwatch("Disk full | TEAM=orders | PRIORITY=S1"), id="cloudwatch"),
    ],
)
def test_an_unreadable_stated_priority_is_logged_not_dropped(body: str) -> None:
    """A stated priority triage cannot read is named in a log line, not silently replaced by
    the default."""
    [alert] = recognise_body(body).normalized.alerts
    assert alert.priority is None  # what holds today: not read
    logged = _notes_logged(body)
    assert any("priority" in line.lower() for line in logged), logged


# --- format recognition stays clear on odd shapes ---------------------------------------------


@pytest.mark.parametrize(
    "message",
    [
        pytest.param("{}", id="empty-object"),
        pytest.param("[]", id="empty-array"),
    ],
)
def test_an_sns_message_holding_empty_json_is_a_clear_error(message: str) -> None:
    """An SNS notification whose Message is `{}` or `[]` is a TriageError (to the DLQ with its
    reason), never an alert nor a crash."""
    payload = json.loads((PAYLOADS / "sns" / "text-message.json").read_text())
    payload["Message"] = message
    with pytest.raises(TriageError):
        normalize_body(json.dumps(payload))
