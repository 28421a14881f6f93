"""EventBridge events other than CloudWatch alarms (AWS Health, GuardDuty, Security Hub, and any
other service a rule routes to the queue): read, identified and resolved as each service means,
instead of going to the DLQ as an unknown format."""

from __future__ import annotations

import copy
import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from test_pipeline import rig
from triage.errors import InvalidAlertError
from triage.models import Alert, Status
from triage.normalize import normalize_body, recognise_body
from triage.sqs.inbox import Message
from triage.summarise.priority import default_priority

SAMPLES = Path(__file__).parent / "payloads" / "eventbridge"


def sample(name: str) -> dict[str, Any]:
    payload: dict[str, Any] = json.loads((SAMPLES / name).read_text(encoding="utf-8"))
    return payload


def alerts(payload: dict[str, Any]) -> tuple[Alert, ...]:
    return normalize_body(json.dumps(payload)).alerts


def only(payload: dict[str, Any]) -> Alert:
    [alert] = alerts(payload)
    return alert


def test_an_aws_health_event_is_one_alert_named_by_its_event_type() -> None:
    """AWS Health: titled from the event type code, its category as the severity, the English
    description, the affected entities and their team tag; format `eventbridge`."""
    recognised = recognise_body(json.dumps(sample("health-issue.json")))
    assert recognised.format == "eventbridge"
    [alert] = recognised.normalized.alerts
    assert alert.source == "eventbridge"
    assert alert.status is Status.FIRING
    assert alert.title == "AWS Health: EC2 instance store drive performance degraded"
    assert alert.severity == "error"
    assert default_priority(alert.severity).value == "high"
    assert alert.team == "data"
    assert alert.description.startswith("The performance of one or more instance store drives")
    assert alert.description.endswith("Affected: i-0abc1234def567890")
    assert alert.labels["region"] == "eu-west-1"
    assert alert.labels["event_type"] == "AWS_EC2_INSTANCE_STORE_DRIVE_PERFORMANCE_DEGRADED"
    assert alert.occurred_at == datetime(2026, 11, 23, 6, 27, 57, tzinfo=UTC)


def test_a_closed_health_event_resolves_the_incident_its_open_one_opened() -> None:
    """statusCode closed is resolved, with the same fingerprint as the open event."""
    opened, closed = only(sample("health-issue.json")), only(sample("health-closed.json"))
    assert closed.status is Status.RESOLVED
    assert closed.fingerprint == opened.fingerprint


def test_the_same_health_event_in_another_account_is_another_incident() -> None:
    """Organizational view: one eventArn for many accounts, one incident per affected account."""
    payload = sample("health-issue.json")
    other = copy.deepcopy(payload)
    other["detail"]["affectedAccount"] = "210987654321"
    assert only(other).fingerprint != only(payload).fingerprint


@pytest.mark.parametrize(
    ("number", "word"),
    [(1, "low"), (3.9, "low"), (4, "medium"), (6.9, "medium"), (7, "high"), (8.9, "high"),
     (9, "critical"), (10, "critical"), ("8.0", "high"), (11, None), (-1, None), (None, None),
     (True, None), ("nan", None), ({"a": 1}, None)],
)  # fmt: skip
def test_guardduty_severity_is_the_word_its_console_shows(number: Any, word: str | None) -> None:
    """GuardDuty's 0-10 number becomes low / medium / high / critical at 4, 7 and 9; anything
    else is no severity, never a refusal."""
    payload = sample("guardduty-finding.json")
    payload["detail"]["severity"] = number
    assert only(payload).severity == word


def test_a_guardduty_finding_reported_again_is_a_repeat_and_archived_resolves() -> None:
    """A finding GuardDuty updates (count and time rising) keeps its fingerprint; archived
    resolves it; another finding id is another incident."""
    first = sample("guardduty-finding.json")
    again = copy.deepcopy(first)
    again["detail"]["service"]["count"] = 40
    again["detail"]["updatedAt"] = "2026-11-23T15:01:54.032Z"
    archived = copy.deepcopy(first)
    archived["detail"]["service"]["archived"] = True
    other = copy.deepcopy(first)
    other["detail"]["id"] = "26afba5c5c43e07c9e3e5e2e544e95df"
    a, b, c, d = (only(p) for p in (first, again, archived, other))
    assert a.fingerprint == b.fingerprint == c.fingerprint != d.fingerprint
    assert (a.status, c.status) == (Status.FIRING, Status.RESOLVED)
    assert a.title.startswith("GuardDuty: 198.51.100.7 is performing SSH brute force")
    assert a.team == "platform"
    assert a.labels["finding_type"] == "UnauthorizedAccess:EC2/SSHBruteForce"
    assert a.links["finding"].endswith("#/findings?fId=16afba5c5c43e07c9e3e5e2e544e95df")


def test_a_guardduty_finding_through_sns_is_the_same_alert() -> None:
    """EventBridge → SNS → SQS carries the same finding with the same fingerprint."""
    direct = only(sample("guardduty-finding.json"))
    wrapped = only(sample("sns-guardduty-finding.json"))
    assert wrapped.fingerprint == direct.fingerprint
    assert wrapped.title == direct.title


def test_security_hub_findings_are_one_alert_each_resolved_by_their_state() -> None:
    """One alert per finding with its Label as severity and its remediation link as the
    runbook; RESOLVED / SUPPRESSED workflow, ARCHIVED record or PASSED compliance resolve."""
    failed, passed = alerts(sample("securityhub-findings.json"))
    assert failed.title == "S3.8 S3 general purpose buckets should block public access"
    assert (failed.status, failed.severity) == (Status.FIRING, "HIGH")
    assert default_priority(failed.severity).value == "high"
    assert failed.runbook_url == "https://docs.aws.amazon.com/console/securityhub/S3.8/remediation"
    assert "Affected: arn:aws:s3:::orders-exports" in failed.description
    assert "findings" not in failed.raw.get("detail", {})  # raw holds its own finding only
    assert failed.raw["finding"]["Id"].endswith("/S3.8/finding/a1b2c3d4")
    assert passed.status is Status.RESOLVED
    for change in (
        {"Workflow": {"Status": "SUPPRESSED"}},
        {"RecordState": "ARCHIVED"},
        {"Compliance": {"Status": "PASSED"}},
    ):
        payload = sample("securityhub-findings.json")
        payload["detail"]["findings"][0].update(change)
        assert alerts(payload)[0].status is Status.RESOLVED, change
        assert alerts(payload)[0].fingerprint == failed.fingerprint


def test_one_unreadable_security_hub_finding_leaves_the_others() -> None:
    """A finding without an Id is left out with a note; the event's other findings stay. An
    event with no readable finding at all is refused."""
    payload = sample("securityhub-findings.json")
    del payload["detail"]["findings"][0]["Id"]
    result = normalize_body(json.dumps(payload))
    assert [a.title for a in result.alerts] == [
        "IAM.6 Hardware MFA should be enabled for the root user"
    ]
    assert "detail.findings[0]" in result.notes[0]
    del payload["detail"]["findings"][1]["Id"]
    with pytest.raises(InvalidAlertError, match="Id is missing"):
        normalize_body(json.dumps(payload))
    payload["detail"]["findings"] = []
    with pytest.raises(InvalidAlertError, match="no findings"):
        normalize_body(json.dumps(payload))


def test_any_other_service_event_is_identified_by_its_type_and_resources() -> None:
    """An event of a service triage does not know: one firing alert titled by its detail-type
    and resource, its details as `key: value` lines; the same event for another resource is
    another incident, for the same resource a repeat."""
    payload = sample("cloudtrail-root-login.json")
    payload["detail-type"], payload["source"] = "EC2 Instance State-change Notification", "aws.ec2"
    payload["resources"] = ["arn:aws:ec2:us-east-1:123456789012:instance/i-0abc"]
    payload["detail"] = {"instance-id": "i-0abc", "state": "stopped"}
    alert = only(payload)
    assert alert.status is Status.FIRING
    assert alert.title == "EC2 Instance State-change Notification: instance/i-0abc stopped"
    assert alert.description == "instance-id: i-0abc\nstate: stopped"
    assert alert.severity is None
    again = copy.deepcopy(payload)
    again["id"], again["time"], again["detail"]["state"] = "other", "2026-11-24T00:00:00Z", "x"
    elsewhere = copy.deepcopy(payload)
    elsewhere["resources"] = ["arn:aws:ec2:us-east-1:123456789012:instance/i-0def"]
    assert only(again).fingerprint == alert.fingerprint != only(elsewhere).fingerprint


def test_a_crash_looping_ecs_service_is_one_incident_not_one_per_task() -> None:
    """ECS starts a new task (a new ARN) per attempt: its stopped events are identified by
    cluster, service group and status, so a crash loop is one ticket."""
    first = sample("ecs-task-stopped.json")
    second = copy.deepcopy(first)
    task = "arn:aws:ecs:us-west-2:123456789012:task/checkout/0000aaaa1111bbbb2222cccc3333dddd"
    second["resources"], second["detail"]["taskArn"] = [task], task
    other_service = copy.deepcopy(first)
    other_service["detail"]["group"] = "service:payments-api"
    a, b, c = only(first), only(second), only(other_service)
    assert a.fingerprint == b.fingerprint != c.fingerprint
    assert a.title == "ECS Task State Change: cluster/checkout service:checkout-api STOPPED"
    assert "OutOfMemoryError" in a.description


def test_cloudtrail_calls_are_told_apart_by_the_call_they_record() -> None:
    """A CloudTrail event names no resources: the call (eventSource + eventName) identifies it,
    so root sign-ins are one incident and another call is another."""
    login = sample("cloudtrail-root-login.json")
    again = copy.deepcopy(login)
    again["detail"]["sourceIPAddress"], again["id"] = "198.51.100.99", "another-event"
    other = copy.deepcopy(login)
    other["detail"]["eventName"] = "DeleteTrail"
    a, b, c = only(login), only(again), only(other)
    assert a.title == "AWS Console Sign In via CloudTrail: ConsoleLogin"
    assert a.fingerprint == b.fingerprint != c.fingerprint
    assert "sourceIPAddress: 198.51.100.99" in b.description


@pytest.mark.parametrize(
    ("path", "value", "message"),
    [
        (("account",), None, "account is missing"),
        (("detail", "eventArn"), None, "detail.eventArn is missing"),
        (("detail", "eventArn"), {"a": 1}, "detail.eventArn must be text"),
    ],
)
def test_an_event_without_its_identity_is_refused_with_the_field_named(
    path: tuple[str, ...], value: Any, message: str
) -> None:
    """Only what identifies an event can refuse it, and the error names the field."""
    payload = sample("health-issue.json")
    node = payload
    for step in path[:-1]:
        node = node[step]
    node[path[-1]] = value
    with pytest.raises(InvalidAlertError, match=message):
        normalize_body(json.dumps(payload))


def test_hostile_event_text_is_cleaned_and_bounded() -> None:
    """Controls and bidi overrides leave titles; a megabyte of detail is cut to the
    description's 4,000 characters; a `javascript:` remediation link is dropped."""
    payload = sample("securityhub-findings.json")
    finding = payload["detail"]["findings"][0]
    finding["Title"] = "S3\x1b[31m open\u202e bucket"
    finding["Description"] = "x " * 500_000
    finding["Remediation"]["Recommendation"]["Url"] = "javascript:alert(1)"
    alert = alerts(payload)[0]
    assert alert.title == "S3 [31m open bucket"
    assert len(alert.description) <= 4_000
    assert alert.runbook_url is None


async def test_a_guardduty_finding_becomes_one_redacted_ticket_through_the_pipeline() -> None:
    """Through the pipeline: one ticket for a finding delivered twice, with a secret in its
    description redacted before the summariser and the sink."""
    r = rig()
    payload = sample("guardduty-finding.json")
    payload["detail"]["description"] = "leaked AWS key AKIAIOSFODNN7EXAMPLE used from 198.51.100.7"
    body = json.dumps(payload)
    for n in range(2):
        await r.pipeline.process(Message(f"m-{n}", body, f"rh-{n}", 1, None))
    assert r.summariser.calls == 1
    [effect] = r.sink.effects
    assert effect.alert.title.startswith("GuardDuty: ")
    assert "AKIAIOSFODNN7EXAMPLE" not in effect.alert.description
    assert "[REDACTED" in effect.alert.description
