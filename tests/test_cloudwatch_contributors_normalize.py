"""What the CloudWatch normaliser says of a Metrics Insights (GROUP BY) alarm's contributors and
of the alarm's deletion: each contributor's alert names its alarm's incident as its parent, and
the deletion says that it closes the contributors' incidents (the pipeline does it)."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

from triage.models import Status
from triage.normalize import normalize_body, normalize_payload

PAYLOADS = Path(__file__).parent / "payloads" / "cloudwatch"


def event(name: str) -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads((PAYLOADS / name).read_text(encoding="utf-8"))
    return loaded


def deletion(of: dict[str, Any]) -> dict[str, Any]:
    """`of`'s alarm deleted: its configuration change event with `operation: delete`."""
    deleted = copy.deepcopy(of)
    deleted["detail-type"] = "CloudWatch Alarm Configuration Change"
    deleted["time"] = "2025-12-01T15:00:00Z"
    deleted["detail"].pop("alarmContributor", None)
    deleted["detail"].pop("muteDetail", None)
    deleted["detail"]["operation"] = "delete"
    return deleted


def test_a_contributors_alert_names_its_alarms_incident_as_parent() -> None:
    """A contributor's alert (its own fingerprint) carries the fingerprint of the alarm's own
    incident, the one the alarm's deletion resolves, as its parent; the alarm's own alert has
    no parent and closes no children while it fires."""
    [child] = normalize_payload(event("eventbridge-contributor.json")).alerts
    [deleted] = normalize_payload(deletion(event("eventbridge-contributor.json"))).alerts
    assert child.parent == deleted.fingerprint != child.fingerprint
    assert deleted.parent is None and not child.closes_children


def test_the_same_contributor_through_a_lambda_action_has_the_same_parent() -> None:
    """Through an alarm's Lambda action the contributor names the same parent as through
    EventBridge: every delivery form of an alarm shares its fingerprint, so its children too."""
    via_event = event("eventbridge-contributor.json")
    lambda_payload = {
        "source": "aws.cloudwatch",
        "alarmArn": via_event["resources"][0],
        "accountId": via_event["account"],
        "region": via_event["region"],
        "time": via_event["time"],
        "alarmData": {k: v for k, v in via_event["detail"].items() if k != "muteDetail"},
    }
    [from_event] = normalize_payload(via_event).alerts
    [from_lambda] = normalize_payload(lambda_payload).alerts
    assert from_lambda.parent == from_event.parent is not None


def test_a_grouped_alarms_deletion_closes_its_children_and_warns_of_nothing() -> None:
    """The deletion of a GROUP BY alarm resolves its own incident and closes its contributors'
    (no note any more that they stay open)."""
    normalized = normalize_payload(deletion(event("eventbridge-contributor.json")))
    [deleted] = normalized.alerts
    assert deleted.status is Status.RESOLVED and deleted.closes_children
    assert normalized.notes == ()


def test_any_alarms_deletion_closes_its_children() -> None:
    """A deletion whose event shows no GROUP BY query (a single-metric alarm, or a deletion
    without the configuration) still asks for children: the store knows whether it has any."""
    single = deletion(event("eventbridge-alarm.json"))
    single["detail"].pop("configuration", None)
    [deleted] = normalize_payload(single).alerts
    assert deleted.closes_children


def test_a_state_change_closes_no_children() -> None:
    """An alarm's OK is no deletion: it closes its own incident only (its contributors send
    their own OKs)."""
    ok = event("eventbridge-alarm.json")
    ok["detail"]["state"]["value"] = "OK"
    [resolved] = normalize_payload(ok).alerts
    assert resolved.status is Status.RESOLVED and not resolved.closes_children


def test_an_alert_known_by_a_stored_fingerprint_keeps_it_until_its_identity_changes() -> None:
    """`known_as` gives an alert the fingerprint the store keeps (its identity is not kept):
    a copy that changes its status or time keeps it, one that changes its identity hashes
    that identity again."""
    [child] = normalize_payload(event("eventbridge-contributor.json")).alerts
    known = child.model_copy(update={"identity": {"child": "x"}}).known_as(child.fingerprint)
    assert known.fingerprint == child.fingerprint
    resolved = known.model_copy(update={"status": Status.RESOLVED})
    assert resolved.fingerprint == child.fingerprint
    assert resolved.model_dump(mode="json")["fingerprint"] == child.fingerprint
    moved = known.model_copy(update={"identity": {"child": "y"}})
    assert moved.fingerprint != child.fingerprint


def test_a_contributor_through_sns_names_the_same_parent_as_through_eventbridge() -> None:
    """The SNS alarm message of a contributor (`AlarmContributorId`) names the same parent as
    the EventBridge event of it, so the deletion (an EventBridge event) finds it whichever
    way its contributors were delivered."""
    sns = (PAYLOADS / "sns-contributor.json").read_text(encoding="utf-8")
    [from_sns] = normalize_body(sns).alerts
    [from_event] = normalize_payload(event("eventbridge-contributor.json")).alerts
    [deleted] = normalize_payload(deletion(event("eventbridge-contributor.json"))).alerts
    assert from_sns.parent == from_event.parent == deleted.fingerprint
