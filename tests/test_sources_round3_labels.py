"""Empty label values in Alertmanager-shaped alerts (posted, webhook, Grafana): an empty value
is no label, so it neither keys the incident, nor titles it, nor counts as a label at all."""

from __future__ import annotations

import json
from typing import Any

import pytest

from triage.errors import InvalidAlertError
from triage.normalize import normalize_body

LABELS = {"alertname": "HighCPU", "job": "node", "instance": "web-1:9100"}


def _posted(*labels: dict[str, Any]) -> str:
    """A Prometheus batch (as posted to Alertmanager's API) of firing alerts with `labels`."""
    return json.dumps([{"labels": each, "startsAt": "2026-11-23T08:00:00Z"} for each in labels])


def _fingerprint(body: str) -> str:
    [alert] = normalize_body(body).alerts
    return alert.fingerprint


def test_a_null_label_value_is_no_label_either() -> None:
    """A label sent as null (read as empty text) keys the same incident as the alert without
    it: one incident whichever way a sender writes "no value"."""
    assert _fingerprint(_posted(LABELS | {"az": None})) == _fingerprint(_posted(LABELS))


def test_an_empty_label_is_left_out_of_the_identity_and_the_title() -> None:
    """An alert without alertname is titled by its labels that have a value: an empty
    alertname is no `alertname=` in its title, and no key of its identity."""
    [alert] = normalize_body(_posted({"alertname": "", "job": "node"})).alerts
    assert alert.title == "job=node"
    assert alert.identity == {"job": "node"}


def test_an_alert_of_empty_labels_is_left_out_of_its_group_with_a_note() -> None:
    """In a batch, an alert whose labels are all empty is left out with a note saying it has
    no labels; the batch's other alert is still read."""
    normalized = normalize_body(_posted({"alertname": "", "job": ""}, LABELS))
    assert [a.identity for a in normalized.alerts] == [LABELS]
    assert any("alerts[0] has no labels" in note for note in normalized.notes), normalized.notes


def test_a_label_of_spaces_is_a_value() -> None:
    """Only an empty value is no label: a value of spaces is text Prometheus keeps, so it
    still keys its own incident (no fingerprint that holds today moves)."""
    assert _fingerprint(_posted(LABELS | {"az": " "})) != _fingerprint(_posted(LABELS))


def test_a_webhook_alert_whose_only_label_is_empty_is_refused() -> None:
    """An Alertmanager webhook's alert whose one label is empty is refused as one without
    labels is, never read as an alert titled `alertname=`."""
    group = {"version": "4", "groupKey": "{}", "status": "firing", "receiver": "triage"}
    body = json.dumps(group | {"alerts": [{"status": "firing", "labels": {"alertname": ""}}]})
    with pytest.raises(InvalidAlertError, match="has no labels"):
        normalize_body(body)
