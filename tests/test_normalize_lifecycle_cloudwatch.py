"""A Metrics Insights alarm (GROUP BY: one alarm, many contributors) deleted while in ALARM.

CloudWatch sends "CloudWatch Alarm Contributor State Change" per time series and, on deletion,
one "CloudWatch Alarm Configuration Change" with `operation: delete` for the alarm
(https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/cloudwatch-and-eventbridge.html);
no OK comes for any contributor. The deletion carries no list of contributors, so the
normaliser resolves the alarm's own incident and marks it `closes_children`: the pipeline closes
the contributors' incidents the store keeps under the alarm (`triage.children`, tested in
test_cloudwatch_contributors_close.py).
"""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

from triage.models import Status
from triage.normalize import normalize_payload

PAYLOADS = Path(__file__).parent / "payloads" / "cloudwatch"


def contributor_event() -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads(
        (PAYLOADS / "eventbridge-contributor.json").read_text(encoding="utf-8")
    )
    return loaded


def deletion(of: dict[str, Any]) -> dict[str, Any]:
    """`of`'s alarm deleted: its configuration change event with `operation: delete`."""
    event = copy.deepcopy(of)
    event["detail-type"] = "CloudWatch Alarm Configuration Change"
    event["time"] = "2025-12-01T15:00:00Z"
    detail = event["detail"]
    detail.pop("alarmContributor", None)
    detail.pop("muteDetail", None)
    detail["operation"] = "delete"
    return event


def test_a_grouped_alarms_deletion_resolves_its_own_incident_and_closes_its_children() -> None:
    """The deletion resolves the alarm's own incident (not a contributor's) and asks for its
    contributors' incidents to be closed; no note says they stay open."""
    [fired] = normalize_payload(contributor_event()).alerts
    normalized = normalize_payload(deletion(contributor_event()))
    [deleted] = normalized.alerts
    assert deleted.status is Status.RESOLVED
    assert "contributor" in fired.identity and "contributor" not in deleted.identity
    assert deleted.closes_children and fired.parent == deleted.fingerprint
    assert normalized.notes == ()


def test_a_single_metric_alarms_deletion_notes_nothing() -> None:
    """An alarm that watches one time series has no contributors: its deletion adds no note."""
    single: dict[str, Any] = json.loads(
        (PAYLOADS / "eventbridge-alarm.json").read_text(encoding="utf-8")
    )
    normalized = normalize_payload(deletion(single))
    assert [a.status for a in normalized.alerts] == [Status.RESOLVED]
    assert normalized.notes == ()
