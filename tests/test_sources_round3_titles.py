"""Titles that show nothing once displayed (zero-width, filler, tag or variation-selector
characters only): refused where the title is required, passed over where something else can
name the alert, and never confused with a real title in a script no sink drops."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from triage.errors import InvalidAlertError
from triage.normalize import normalize_body
from triage.normalize.common import showing

PAYLOADS = Path(__file__).parent / "payloads"
#: A flag emoji: the black flag, then tag characters spelling "gbsct", then the cancel tag.
SCOTLAND = "\U0001f3f4\U000e0067\U000e0062\U000e0073\U000e0063\U000e0074\U000e007f"


def _title(body: dict[str, Any] | list[Any]) -> str:
    [alert] = normalize_body(json.dumps(body)).alerts
    return alert.title


@pytest.mark.parametrize(
    "title",
    [
        pytest.param("\u115f\u1160", id="hangul-choseong-jungseong-fillers"),
        pytest.param("\uffa0", id="halfwidth-hangul-filler"),
        pytest.param("\ufe0f\ufe0e", id="variation-selectors"),
        pytest.param("\U000e0101", id="ideographic-variation-selector"),
        pytest.param("\u2800", id="braille-blank"),
        pytest.param("\u2060 \u200b\u3000\u034f", id="joiners-and-ideographic-space"),
        pytest.param("\u200e\u200b\u202e", id="bidi-marks-with-zero-width"),
    ],
)
def test_a_generic_title_that_shows_nothing_is_refused(title: str) -> None:
    """Every spelling of nothing is as missing as a blank title: InvalidAlertError."""
    with pytest.raises(InvalidAlertError, match="title is missing or empty"):
        normalize_body(json.dumps({"title": title}))


@pytest.mark.parametrize(
    "title",
    [
        pytest.param("障害: 注文DB", id="cjk"),
        pytest.param("\U0001f525", id="emoji"),
        pytest.param("שגיאה בשרת", id="hebrew"),
        pytest.param(SCOTLAND, id="scotland-flag"),
        pytest.param("\u3164Disk full", id="filler-before-text"),
    ],
)
def test_a_title_that_shows_something_is_kept_as_given(title: str) -> None:
    """A title with anything visible in it is kept as it was (its fingerprint too): only one
    that shows nothing at all is refused."""
    assert _title({"title": title}) == title
    assert showing(title) == title


def test_an_alertmanager_alert_named_by_invisible_characters_is_titled_by_its_summary() -> None:
    """An alertname that shows nothing falls back to the summary, as a blank one does, rather
    than costing the alert its ticket."""
    posted = [{"labels": {"alertname": "\u200b", "job": "node"},
               "annotations": {"summary": "CPU above 90%"}}]  # fmt: skip
    assert _title(posted) == "CPU above 90%"


def test_an_sns_subject_that_shows_nothing_gives_way_to_the_message() -> None:
    """An SNS notification whose Subject is a Hangul filler is titled by its message's first
    line that shows something, as one without a Subject is."""
    payload = json.loads((PAYLOADS / "sns" / "text-message.json").read_text())
    payload["Subject"] = "\u3164"
    payload["Message"] = "\u200b\nDB failover on orders-db\nsecond line"
    assert _title(payload) == "DB failover on orders-db"


def test_an_sns_notification_of_invisible_text_only_is_refused() -> None:
    """Neither Subject nor Message shows anything: refused, naming both."""
    payload = json.loads((PAYLOADS / "sns" / "text-message.json").read_text())
    payload["Subject"] = "\u200b"
    payload["Message"] = "\ufeff\u00ad\n\u2060"
    with pytest.raises(InvalidAlertError, match="neither a Subject nor any Message text"):
        normalize_body(json.dumps(payload))


def test_a_legacy_grafana_rule_named_by_invisible_characters_is_titled_by_the_next_name() -> None:
    """`first_title` passes over a candidate that shows nothing: the legacy alert's invisible
    ruleName gives way to its notification title."""
    payload = json.loads((PAYLOADS / "grafana" / "legacy-alerting.json").read_text())
    payload |= {"ruleName": "\u200b\u200b", "title": "[Alerting] Disk almost full"}
    assert _title(payload) == "[Alerting] Disk almost full"


def test_a_team_severity_or_label_that_shows_nothing_is_none() -> None:
    """A team, severity or label value of invisible characters only is as absent as an empty
    one: no route matches a team no reader can see, and no sink shows a blank label."""
    body = {"title": "Disk full", "team": "\u200b", "severity": "\u3164",
            "labels": {"env": "\u2060\ufe0f", "region": "eu-west-1"}}  # fmt: skip
    [alert] = normalize_body(json.dumps(body)).alerts
    assert (alert.team, alert.severity) == (None, None)
    assert "env" not in alert.labels and alert.labels["region"] == "eu-west-1"


def test_an_alertmanager_team_that_shows_nothing_is_none() -> None:
    """An Alertmanager-shaped alert's team and severity labels of invisible characters only
    name no team and no severity, as a generic alert's do."""
    posted = [{"labels": {"alertname": "HighCPU", "team": "\u200b", "severity": "\u3164"}}]
    [alert] = normalize_body(json.dumps(posted)).alerts
    assert (alert.team, alert.severity) == (None, None)


def test_a_threshold_rule_name_that_shows_nothing_gives_way_to_the_comparison() -> None:
    """A threshold event whose rule_name shows nothing is titled by its comparison, as one
    without a rule_name is, never by an invisible name before "on web-1"."""
    body = {"event_type": "threshold_alert", "state": "triggered", "rule_id": "r-1",
            "rule_name": "\u200b\u3164", "metric": "cpu", "threshold_value": 90,
            "operator": ">", "host": "web-1"}  # fmt: skip
    assert _title(body) == "cpu > 90 on web-1"
