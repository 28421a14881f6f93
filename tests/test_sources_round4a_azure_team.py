"""Azure's Service Health and Resource Health alerts take their team from the action group's
custom properties (`data.customProperties.team`), as every other common-schema alert does,
so a route by team reaches them too; the fingerprint does not move."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from triage.models import Alert
from triage.normalize import normalize_body

PAYLOADS = Path(__file__).parent / "payloads"
HEALTH = ["azure/service-health-active.json", "azure/resource-health-unavailable.json"]


def _alert(name: str, custom: Any) -> Alert:
    payload: dict[str, Any] = json.loads((PAYLOADS / name).read_text())
    payload["data"]["customProperties"] = custom
    [alert] = normalize_body(json.dumps(payload)).alerts
    return alert


@pytest.mark.parametrize("name", HEALTH)
def test_a_health_alert_reads_its_team_from_custom_properties(name: str) -> None:
    """`customProperties.team` is the alert's team, and its incident keys as without it."""
    alert = _alert(name, {"team": "payments"})
    assert alert.team == "payments"
    assert alert.fingerprint == _alert(name, None).fingerprint


def test_the_metric_alert_path_reads_it_the_same_way() -> None:
    """The log search alert (monitors.py) reads the same field: one rule for every kind."""
    assert _alert("azure/log-stateless-fired.json", {"team": "payments"}).team == "payments"


@pytest.mark.parametrize("name", HEALTH)
@pytest.mark.parametrize("custom", [None, "payments", ["payments"], {"team": {"a": 1}}], ids=repr)
def test_custom_properties_of_odd_shape_give_no_team(name: str, custom: Any) -> None:
    """Custom properties that are no object, or a team that is no text, leave the team unset."""
    assert _alert(name, custom).team is None
