"""Alertmanager, Amazon Managed Prometheus and Grafana through SNS: the JSON templates of the
README ("Getting alerts in") are read as their webhooks are, with the same fingerprints."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from triage.errors import UnknownFormatError
from triage.models import Status
from triage.normalize import normalize_body, recognise_body

PAYLOADS = Path(__file__).parent / "payloads"


def body(name: str) -> str:
    return (PAYLOADS / name).read_text(encoding="utf-8")


def fingerprints(name: str) -> list[str]:
    return [a.fingerprint for a in normalize_body(body(name)).alerts]


def test_amp_template_through_sns_is_read_as_alertmanager() -> None:
    """Every alert of AWS's documented JSON template (no version, no groupKey) becomes an
    Alertmanager alert, with the times Go printed read as UTC."""
    recognised = recognise_body(body("sns/amp-alertmanager-firing.json"))
    assert recognised.format == "alertmanager"
    first, second = recognised.normalized.alerts
    assert (first.source, first.status) == ("alertmanager", Status.FIRING)
    assert first.title == "HighRequestLatency: High request latency on checkout-1:8080"
    assert first.team == "payments"
    assert first.occurred_at == datetime(2026, 11, 23, 9, 10, tzinfo=UTC)
    assert second.occurred_at == datetime(2026, 11, 23, 9, 10, 30, 500000, tzinfo=UTC)


def test_amp_resolved_is_dated_by_its_end() -> None:
    """A resolved alert of the template is dated by its Go-printed endsAt."""
    (alert,) = normalize_body(body("sns/amp-alertmanager-resolved.json")).alerts
    assert alert.status is Status.RESOLVED
    assert alert.occurred_at == datetime(2026, 11, 23, 9, 24, 0, 123456, tzinfo=UTC)


def test_sns_template_shares_the_webhooks_fingerprints() -> None:
    """One alert delivered by webhook, by SNS (envelope) and by SNS raw delivery is one incident."""
    webhook = fingerprints("alertmanager/group-firing.json")[:2]
    assert fingerprints("sns/amp-alertmanager-firing.json") == webhook
    assert fingerprints("alertmanager/sns-template-raw.json") == webhook
    assert fingerprints("sns/amp-alertmanager-resolved.json") == webhook[:1]


def test_grafana_sns_contact_point_is_read_as_grafana() -> None:
    """The README's Grafana SNS template ("version": "1") is Grafana's, with its webhook's
    fingerprint."""
    recognised = recognise_body(body("sns/grafana-contact-point.json"))
    assert recognised.format == "grafana"
    (alert,) = recognised.normalized.alerts
    assert alert.source == "grafana"
    assert alert.occurred_at == datetime(2026, 11, 23, 9, 1, tzinfo=UTC)
    assert alert.fingerprint == fingerprints("grafana/group-firing.json")[0]


def _group(**extra: Any) -> dict[str, Any]:
    alert = {
        "status": "firing",
        "labels": {"alertname": "TestAlert", "instance": "Grafana"},
        "annotations": {"summary": "Notification test"},
        "startsAt": "2026-11-23 09:00:00 +0000 UTC",
        "endsAt": "0001-01-01 00:00:00 +0000 UTC",
    }
    return {"receiver": "triage-sns", "status": "firing", "alerts": [alert], **extra}


def test_grafana_test_notification_through_sns_is_skipped() -> None:
    """The contact point's Test button, through SNS, is skipped like the webhook's."""
    result = normalize_body(json.dumps(_group(version="1")))
    assert result.alerts == ()
    assert [s.reason for s in result.skipped] == ["test_notification"]


def test_minimal_template_output_is_enough() -> None:
    """receiver, status and alerts are all the template must write (no group or common labels)."""
    assert recognise_body(json.dumps(_group())).format == "alertmanager"


@pytest.mark.parametrize(
    "payload",
    [
        {"alerts": [], "status": "firing"},  # no receiver
        {"alerts": [], "receiver": "x"},  # no status
        {"alerts": {}, "receiver": "x", "status": "firing"},  # alerts not a list
    ],
)
def test_looser_shapes_are_still_unknown(payload: dict[str, Any]) -> None:
    """Without receiver, status and an alerts list a body is not taken for Alertmanager's."""
    with pytest.raises(UnknownFormatError):
        normalize_body(json.dumps(payload))


@pytest.mark.parametrize("group_key", [None, ""])
def test_a_truncation_note_without_a_group_key_names_no_group(group_key: str | None) -> None:
    """A template that writes no groupKey gets a truncation note that names no group, not 'None'."""
    extra: dict[str, Any] = {"truncatedAlerts": 3}
    if group_key is not None:
        extra["groupKey"] = group_key
    [note] = normalize_body(json.dumps(_group(**extra))).notes
    assert "left 3 alert(s) out of this message" in note
    assert "None" not in note and "of group" not in note
