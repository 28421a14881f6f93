"""Red team, round 7: alerts real senders send that triage read wrongly when this was written,
built from the vendors' documented payloads: an Elastic Beanstalk environment's Severe health
and an ECR scan's critical vulnerabilities defaulted to medium; AWS Config, CodeDeploy, Run
Command and CloudFormation events through an EventBridge rule read otherwise than the same
changes through SNS (merged, fired when they started, never resolved). Each bug is a strict
xfail that fails today for the reason it names and passes once the bug is fixed; each plain
test beside one holds the behaviour the fix must keep."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest

from triage.models import Alert, Priority, Status
from triage.normalize import normalize_body
from triage.summarise.priority import default_priority

PAYLOADS = Path(__file__).parent / "payloads"

#: Least to most urgent, to compare two priorities.
_LADDER = (Priority.LOW, Priority.MEDIUM, Priority.HIGH, Priority.CRITICAL)


def _sample(name: str) -> dict[str, Any]:
    value: dict[str, Any] = json.loads((PAYLOADS / name).read_text(encoding="utf-8"))
    return value


def _only(body: dict[str, Any]) -> Alert:
    """The one alert `body` becomes."""
    [alert] = normalize_body(json.dumps(body)).alerts
    return alert


def _ticket_priority(alert: Alert) -> Priority:
    """The priority the ticket gets before any reading of its text: the stated one, else the
    severity's default (`triage.summarise.priority.decide`)."""
    return alert.priority or default_priority(alert.severity)


# --- elastic beanstalk: Severe health ranked as a Warning -------------------------------------


def _beanstalk(old: str, new: str) -> dict[str, Any]:
    """The sample's enhanced-health notification, moved from `old` to `new` (the Subject and
    the Message both say it, as Elastic Beanstalk writes them)."""
    body = _sample("aws/beanstalk-health-severe.json")
    said = "Environment health has transitioned from Ok to Severe."
    body["Subject"] = (
        f"AWS Elastic Beanstalk Notification - {said.replace('Ok to Severe', f'{old} to {new}')}"
    )
    body["Message"] = body["Message"].replace("from Ok to Severe", f"from {old} to {new}")
    return body


@pytest.mark.parametrize("worse", ["Degraded", "Severe"])
def test_a_beanstalk_environments_severe_health_outranks_its_warning(worse: str) -> None:
    """An environment gone Degraded or Severe gets a higher default priority than one gone to
    Warning."""
    # Enhanced health ranks Warning (a moderate number of failed requests), Degraded (a high
    # number) and Severe (a very high number: the environment is down for most users).
    warning = _only(_beanstalk("Ok", "Warning"))
    worse_alert = _only(_beanstalk("Warning", worse))
    assert warning.fingerprint == worse_alert.fingerprint  # one environment's incident
    assert _LADDER.index(_ticket_priority(worse_alert)) > _LADDER.index(_ticket_priority(warning))


def test_a_beanstalk_environments_warning_is_medium_and_ok_resolves() -> None:
    """A Warning is a medium ticket, and the return to Ok resolves its environment's incident
    (the behaviour the Severe case is held against)."""
    warning = _only(_beanstalk("Ok", "Warning"))
    ok = _only(_beanstalk("Severe", "Ok"))
    assert _ticket_priority(warning) is Priority.MEDIUM
    assert (ok.status, ok.fingerprint) == (Status.RESOLVED, warning.fingerprint)


# --- ecr: a basic scan's critical findings ----------------------------------------------------

#: An ECR basic scan completed (AmazonECR/latest/userguide/ecr-eventbridge.html, "Event for a
#: completed image scan (basic scanning)"), its counts as AWS's example gives them.
ECR_SCAN: dict[str, Any] = {
    "version": "0",
    "id": "85fc3613-e913-7fc4-a80c-a3753e4aa9ae",
    "detail-type": "ECR Image Scan",
    "source": "aws.ecr",
    "account": "123456789012",
    "time": "2026-11-23T09:00:00Z",
    "region": "us-east-1",
    "resources": ["arn:aws:ecr:us-east-1:123456789012:repository/my-repository-name"],
    "detail": {
        "scan-status": "COMPLETE",
        "repository-name": "my-repository-name",
        "finding-severity-counts": {"CRITICAL": 10, "MEDIUM": 9},
        "image-digest": "sha256:7f5b2640fe6fb4f46592dfd3410c4a79dac4f89e4782432e0378abcd1234",
        "image-tags": [],
    },
}


def _scan(counts: dict[str, int]) -> dict[str, Any]:
    body = copy.deepcopy(ECR_SCAN)
    body["detail"]["finding-severity-counts"] = counts
    return body


@pytest.mark.parametrize(
    ("counts", "expected"),
    [
        ({"CRITICAL": 10, "MEDIUM": 9}, Priority.CRITICAL),
        ({"HIGH": 3, "LOW": 1}, Priority.HIGH),
    ],
    ids=["critical", "high"],
)
def test_an_ecr_scans_worst_findings_set_the_tickets_priority(
    counts: dict[str, int], expected: Priority
) -> None:
    """A basic scan's worst findings (CRITICAL, else HIGH) set its ticket's default priority."""
    # The scan fires because of them and counts each; the same vulnerability through
    # Inspector (ECR's enhanced scanning) is a critical ticket, not medium, the priority of an
    # alert that says nothing.
    alert = _only(_scan(counts))
    assert alert.status is Status.FIRING
    assert _ticket_priority(alert) is expected


def test_a_clean_ecr_scan_resolves_its_repositorys_incident() -> None:
    """A scan with only medium and low findings resolves the incident a vulnerable scan of its
    repository opened (the behaviour the severity case is held against)."""
    vulnerable, clean = _only(_scan({"CRITICAL": 1})), _only(_scan({"MEDIUM": 2, "LOW": 5}))
    assert (clean.status, clean.fingerprint) == (Status.RESOLVED, vulnerable.fingerprint)


# --- aws config: compliance changes through an EventBridge rule --------------------------------


def _compliance(resource: str, new: str, *, rule: str = "encrypted-volumes") -> dict[str, Any]:
    """A "Config Rules Compliance Change" event as an EventBridge rule delivers it
    (config/latest/developerguide/monitor-config-with-cloudwatchevents.html): `resources` is
    empty, and `detail` is the ComplianceChangeNotification Config's SNS topic carries."""
    old = "COMPLIANT" if new == "NON_COMPLIANT" else "NON_COMPLIANT"

    def result(compliance: str, day: int) -> dict[str, Any]:
        return {
            "evaluationResultIdentifier": {
                "evaluationResultQualifier": {
                    "configRuleName": rule,
                    "resourceType": "AWS::EC2::Volume",
                    "resourceId": resource,
                },
                "orderingTimestamp": f"2026-11-{day}T08:59:58.000Z",
            },
            "complianceType": compliance,
            "resultRecordedTime": f"2026-11-{day}T08:59:59.000Z",
            "configRuleInvokedTime": f"2026-11-{day}T08:59:58.500Z",
        }

    return {
        "version": "0",
        "id": "2b4bb7b9-3ef4-d2a5-cb48-4fbb8a0d2f0e",
        "detail-type": "Config Rules Compliance Change",
        "source": "aws.config",
        "account": "123456789012",
        "time": "2026-11-23T09:00:00Z",
        "region": "us-east-1",
        "resources": [],
        "detail": {
            "resourceId": resource,
            "awsRegion": "us-east-1",
            "awsAccountId": "123456789012",
            "configRuleName": rule,
            "recordVersion": "1.0",
            "configRuleARN": "arn:aws:config:us-east-1:123456789012:config-rule/config-rule-ey8ozq",
            "messageType": "ComplianceChangeNotification",
            "newEvaluationResult": result(new, 23),
            "oldEvaluationResult": result(old, 22),
            "notificationCreationTime": "2026-11-23T09:00:00.000Z",
            "resourceType": "AWS::EC2::Volume",
        },
    }


def test_config_compliance_events_are_an_incident_per_rule_and_resource() -> None:
    """Config compliance events through EventBridge are an incident per rule and resource."""
    # Two volumes out of compliance, or one failing two rules, are separate problems with
    # separate fixes, as Config's SNS notice keys them; merged, the first fix closes the
    # others' ticket while they stay broken.
    volume_a = _only(_compliance("vol-a", "NON_COMPLIANT"))
    volume_b = _only(_compliance("vol-b", "NON_COMPLIANT"))
    other_rule = _only(_compliance("vol-a", "NON_COMPLIANT", rule="ebs-snapshot-public"))
    assert len({volume_a.fingerprint, volume_b.fingerprint, other_rule.fingerprint}) == 3


@pytest.mark.parametrize("back", ["COMPLIANT", "NOT_APPLICABLE"])
def test_a_config_resource_back_in_compliance_resolves_its_incident(back: str) -> None:
    """A resource compliant again, or out of its rule's scope, resolves the incident its
    non-compliance opened, as Config's SNS notice of the same change does."""
    broken = _only(_compliance("vol-a", "NON_COMPLIANT"))
    fixed = _only(_compliance("vol-a", back))
    assert (fixed.status, fixed.fingerprint) == (Status.RESOLVED, broken.fingerprint)


def test_a_config_non_compliance_event_fires() -> None:
    """A resource going NON_COMPLIANT through EventBridge fires (the behaviour the compliance
    cases are held against)."""
    assert _only(_compliance("vol-a", "NON_COMPLIANT")).status is Status.FIRING


# --- codedeploy: deployment state changes through an EventBridge rule -------------------------


def _deployment(state: str) -> dict[str, Any]:
    """A "CodeDeploy Deployment State-change Notification" (codedeploy/latest/userguide/
    monitoring-cloudwatch-events.html) for one deployment group, in `state`."""
    return {
        "account": "123456789012",
        "region": "us-east-1",
        "detail-type": "CodeDeploy Deployment State-change Notification",
        "source": "aws.codedeploy",
        "version": "0",
        "time": "2026-11-23T09:00:00Z",
        "id": "c071bfbf-83c4-49ca-a6ff-3df053957145",
        "resources": [
            "arn:aws:codedeploy:us-east-1:123456789012:deploymentgroup:orders/prod",
            "arn:aws:codedeploy:us-east-1:123456789012:application:orders",
        ],
        "detail": {
            "account": "123456789012",
            "region": "us-east-1",
            "deploymentId": "d-ABCDEF123",
            "instanceGroupId": "9fd2fbef-2157-40d8-91e7-6845af69e2d2",
            "deploymentGroup": "prod",
            "state": state,
            "application": "orders",
        },
    }


def _run_command(status: str) -> dict[str, Any]:
    """An "EC2 Command Status-change Notification" (systems-manager/latest/userguide/
    monitoring-systems-manager-event-examples.html): one Run Command on two instances."""
    return {
        "version": "0",
        "id": "51c0891d-0e34-45b1-83d6-95db273d1602",
        "detail-type": "EC2 Command Status-change Notification",
        "source": "aws.ssm",
        "account": "123456789012",
        "time": "2026-11-23T09:00:00Z",
        "region": "us-east-2",
        "resources": [
            "arn:aws:ec2:us-east-2:123456789012:instance/i-abcd1111",
            "arn:aws:ec2:us-east-2:123456789012:instance/i-abcd2222",
        ],
        "detail": {
            "command-id": "e8d3c0e4-71f7-4491-898f-c9b35bee5f3b",
            "document-name": "AWS-RunPowerShellScript",
            "expire-after": "2026-11-23T11:00:00.000Z",
            "parameters": {"executionTimeout": ["3600"], "commands": ["date"]},
            "requested-date-time": "2026-11-23T09:00:00.000Z",
            "status": status,
        },
    }


#: A run under way, as each service says it: a deployment started or waiting to reroute
#: traffic (blue/green), a command queued or running.
UNDER_WAY = {
    "codedeploy-start": _deployment("START"),
    "codedeploy-ready": _deployment("READY"),
    "run-command-pending": _run_command("Pending"),
    "run-command-in-progress": _run_command("InProgress"),
}


@pytest.mark.parametrize("body", UNDER_WAY.values(), ids=UNDER_WAY.keys())
def test_an_aws_run_under_way_opens_no_ticket(body: dict[str, Any]) -> None:
    """A deployment or command that starts, or waits to go on, opens no ticket."""
    # A rule matching a deployment group's or a command's state changes sends one for every
    # deployment or command as it starts: work under way, as a CodeBuild build IN_PROGRESS.
    # Read as an alert, every deploy and every command pages someone.
    assert normalize_body(json.dumps(body)).alerts == ()


def test_a_codedeploy_deployment_that_succeeds_resolves_the_groups_failure() -> None:
    """A group's deployment that succeeds resolves the incident its failed one opened."""
    # As CodeDeploy's SNS trigger of the same change does (`aws_codedeploy`), and as a
    # CodeBuild build that succeeds ends its project's failure.
    failed = _only(_deployment("FAILURE"))
    succeeded = normalize_body(json.dumps(_deployment("SUCCESS"))).alerts
    assert [(a.status, a.fingerprint) for a in succeeded] == [(Status.RESOLVED, failed.fingerprint)]


def test_a_codedeploy_deployment_that_fails_fires() -> None:
    """A failed deployment fires (the behaviour the deployment cases are held against)."""
    assert _only(_deployment("FAILURE")).status is Status.FIRING


# --- cloudformation: a stack deleted after its failure ----------------------------------------

_STACK_ID = (
    "arn:aws:cloudformation:us-east-1:123456789012:stack/orders/"
    "6bd4b1a0-9f1c-11ef-8a2b-0a1b2c3d4e5f"
)


def _stack(status: str) -> dict[str, Any]:
    """A "CloudFormation Stack Status Change" (AWSCloudFormation/latest/UserGuide/
    eventbridge-integration.html) for one stack, now `status`."""
    return {
        "version": "0",
        "id": "7a8d3b5e-1c2f-4e6a-9b0d-3f4e5a6b7c8d",
        "detail-type": "CloudFormation Stack Status Change",
        "source": "aws.cloudformation",
        "account": "123456789012",
        "time": "2026-11-23T09:00:00Z",
        "region": "us-east-1",
        "resources": [_STACK_ID],
        "detail": {
            "stack-id": _STACK_ID,
            "status-details": {"status": status, "status-reason": ""},
            "client-request-token": "Console-DeleteStack-5f6e7d8c",
        },
    }


@pytest.mark.parametrize("failure", ["DELETE_FAILED", "ROLLBACK_COMPLETE"])
def test_a_stack_deleted_after_its_failure_resolves_its_incident(failure: str) -> None:
    """A stack deleted after a failed deletion or a rolled-back creation resolves its
    incident."""
    # DELETE_COMPLETE ends both (a rolled-back creation leaves only deletion to do): the stack
    # is gone and nothing will resolve its incident again. CloudFormation's SNS notification
    # of the same change resolves it (`aws_cloudformation`), as a deleted CloudWatch alarm does.
    failed = _only(_stack(failure))
    deleted = normalize_body(json.dumps(_stack("DELETE_COMPLETE"))).alerts
    assert failed.status is Status.FIRING
    assert [(a.status, a.fingerprint) for a in deleted] == [(Status.RESOLVED, failed.fingerprint)]


def test_a_stack_updated_after_its_failure_resolves_its_incident() -> None:
    """UPDATE_COMPLETE after UPDATE_FAILED resolves a stack's incident and a deletion under
    way changes no ticket (the behaviour the deletion case is held against)."""
    failed, updated = _only(_stack("UPDATE_FAILED")), _only(_stack("UPDATE_COMPLETE"))
    assert (updated.status, updated.fingerprint) == (Status.RESOLVED, failed.fingerprint)
    assert normalize_body(json.dumps(_stack("DELETE_IN_PROGRESS"))).alerts == ()
