"""Round 7's AWS source fixes, beyond the red team's own cases
(`test_redteam_round7_sources.py`): Elastic Beanstalk's health words ranked as severities, an
ECR scan's worst findings as its severity, and AWS Config, CodeDeploy and Run Command events
through an EventBridge rule read as the service's SNS notice of the same change is: source
`eventbridge`, as every EventBridge rule's event is (so routes that match it keep matching),
keyed by the notice's identity (one incident per rule and resource, deployment group, document
and instance), resolved by the same success."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest

from test_redteam_round7_sources import (
    _beanstalk,
    _compliance,
    _deployment,
    _run_command,
    _scan,
    _stack,
)
from triage.models import Alert, Priority, Status
from triage.normalize import Normalized, normalize_body
from triage.summarise.priority import default_priority

PAYLOADS = Path(__file__).parent / "payloads" / "aws"


def _read(body: dict[str, Any]) -> Normalized:
    return normalize_body(json.dumps(body))


def _only(body: dict[str, Any]) -> Alert:
    [alert] = _read(body).alerts
    return alert


def _sns(sample: str, message: dict[str, Any], topic: str) -> dict[str, Any]:
    """Sample `sample`'s SNS envelope carrying `message`, published to topic ARN `topic`."""
    envelope: dict[str, Any] = json.loads((PAYLOADS / sample).read_text(encoding="utf-8"))
    return envelope | {"Message": json.dumps(message), "TopicArn": topic}


# --- elastic beanstalk ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("old", "new", "severity", "priority"),
    [
        ("Ok", "Warning", "warning", Priority.MEDIUM),
        ("Warning", "Degraded", "high", Priority.HIGH),
        ("Degraded", "Severe", "critical", Priority.CRITICAL),
        ("Green", "Yellow", "warning", Priority.MEDIUM),
        ("YELLOW", "RED", "high", Priority.HIGH),
    ],
)
def test_beanstalk_health_is_a_ranked_severity_and_keeps_its_word(
    old: str, new: str, severity: str, priority: Priority
) -> None:
    """Each health word becomes the severity its rank implies; the `health` label keeps the
    word Beanstalk wrote."""
    alert = _only(_beanstalk(old, new))
    assert (alert.severity, default_priority(alert.severity)) == (severity, priority)
    assert alert.labels["health"] == new
    assert alert.title.endswith(f"health {new}")


def test_beanstalk_back_to_ok_states_no_severity() -> None:
    """A resolve says the environment is healthy: no severity to rank, the word in its label."""
    ok = _only(_beanstalk("Severe", "Ok"))
    assert (ok.status, ok.severity, ok.labels["health"]) == (Status.RESOLVED, None, "Ok")


# --- ecr --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("counts", "severity"),
    [
        ({"CRITICAL": 0, "HIGH": 2, "MEDIUM": 5}, "HIGH"),
        ({"HIGH": "3", "CRITICAL": 1}, "CRITICAL"),
        ({"CRITICAL": True, "HIGH": 1}, "HIGH"),
    ],
    ids=["zero-critical", "count-as-text", "boolean-not-a-count"],
)
def test_an_ecr_scans_severity_is_its_worst_level_counted(
    counts: dict[str, Any], severity: str
) -> None:
    """Only a level with a count above 0 sets the severity; a count in text counts, a boolean
    does not."""
    alert = _only(_scan(counts))
    assert (alert.status, alert.severity) == (Status.FIRING, severity)


def test_an_ecr_scans_hostile_severity_word_is_not_taken() -> None:
    """The severity is one of ECR's level names, never a word of the event's own: a detail's
    `severity` text does not replace the scan's worst level."""
    body = _scan({"HIGH": 1})
    body["detail"]["severity"] = "low"
    assert _only(body).severity == "HIGH"


# --- aws config through eventbridge ------------------------------------------------------------


def test_config_through_eventbridge_is_keyed_as_the_delivery_channels_notice() -> None:
    """A compliance change through an EventBridge rule is source `eventbridge`, keyed by the
    identity of the same change in Config's SNS notice, and reads the same (status, title)."""
    event = _compliance("vol-a", "NON_COMPLIANT")
    notice = _sns(
        "config-noncompliant.json",
        event["detail"],
        "arn:aws:sns:us-east-1:123456789012:config-topic",
    )
    bridged, sent = _only(event), _only(notice)
    assert (bridged.source, bridged.identity) == ("eventbridge", sent.identity)
    assert (bridged.status, bridged.title) == (sent.status, sent.title)
    assert bridged.labels["rule"] == "encrypted-volumes"
    assert bridged.labels["detail_type"] == "Config Rules Compliance Change"


def test_config_through_eventbridge_without_account_in_detail_takes_the_envelopes() -> None:
    """A detail that leaves its account and Region out is keyed by the event's own."""
    event = _compliance("vol-a", "NON_COMPLIANT")
    full = _only(event)
    for key in ("awsAccountId", "awsRegion", "messageType"):
        del event["detail"][key]
    assert _only(event).fingerprint == full.fingerprint
    event["account"] = "210987654321"
    assert _only(event).fingerprint != full.fingerprint


def test_config_insufficient_data_through_eventbridge_changes_no_ticket() -> None:
    """INSUFFICIENT_DATA neither fires nor resolves, as in Config's SNS notice."""
    read = _read(_compliance("vol-a", "INSUFFICIENT_DATA"))
    assert read.alerts == ()
    assert [(skip.source, skip.reason) for skip in read.skipped] == [
        ("eventbridge", "no_state_change")
    ]


# --- codedeploy through eventbridge ------------------------------------------------------------


def _trigger(status: str, group: str = "prod") -> dict[str, Any]:
    """CodeDeploy's SNS trigger of the group `_deployment` names, in `status`."""
    message = json.loads(
        (PAYLOADS / "codedeploy-deployment-failed.json").read_text(encoding="utf-8")
    )["Message"]
    trigger = json.loads(message) | {
        "region": "us-east-1",
        "accountId": "123456789012",
        "applicationName": "orders",
        "deploymentGroupName": group,
        "status": status,
    }
    return _sns(
        "codedeploy-deployment-failed.json",
        trigger,
        "arn:aws:sns:us-east-1:123456789012:deploy-events",
    )


def test_a_codedeploy_event_is_keyed_as_its_deployment_groups_trigger() -> None:
    """A deployment group's failure through EventBridge is source `eventbridge`, keyed by the
    identity its SNS trigger has; its success resolves it, and another group's is another."""
    failed = _only(_deployment("FAILURE"))
    assert (failed.source, failed.identity) == ("eventbridge", _only(_trigger("FAILED")).identity)
    succeeded = _only(_deployment("SUCCESS"))
    assert (succeeded.status, succeeded.fingerprint) == (Status.RESOLVED, failed.fingerprint)
    other = copy.deepcopy(_deployment("FAILURE"))
    other["detail"]["deploymentGroup"] = "staging"
    assert _only(other).fingerprint != failed.fingerprint
    assert _only(other).identity == _only(_trigger("FAILED", group="staging")).identity


def test_a_stopped_codedeploy_deployment_fires_as_its_trigger_does() -> None:
    """STOP fires, as the SNS trigger's STOPPED does (a deployment stopped or rolled back by an
    alarm), titled with the state."""
    stopped = _only(_deployment("STOP"))
    assert stopped.status is Status.FIRING
    assert stopped.title.endswith("STOP")
    assert stopped.labels["detail_type"] == "CodeDeploy Deployment State-change Notification"


# --- run command through eventbridge -----------------------------------------------------------


def _invocation(status: str, instance: str = "i-abcd1111") -> dict[str, Any]:
    """An "EC2 Command Invocation Status-change Notification": the command on one instance."""
    body = _run_command(status)
    body["detail-type"] = "EC2 Command Invocation Status-change Notification"
    body["resources"] = [f"arn:aws:ec2:us-east-2:123456789012:instance/{instance}"]
    body["detail"] = {
        "command-id": body["detail"]["command-id"],
        "document-name": body["detail"]["document-name"],
        "instance-id": instance,
        "requested-date-time": "2026-11-23T09:00:00.000Z",
        "status": status,
    }
    return body


def _ssm_notice(status: str, instance: str | None = None) -> dict[str, Any]:
    """Run Command's SNS notice of the same command (an invocation's, given `instance`)."""
    notice = {
        "commandId": "e8d3c0e4-71f7-4491-898f-c9b35bee5f3b",
        "documentName": "AWS-RunPowerShellScript",
        "instanceIds": ["i-abcd1111", "i-abcd2222"],
        "requestedDateTime": "2026-11-23T09:00:00.000Z",
        "status": status,
        "eventTime": "2026-11-23T09:10:00.000Z",
    }
    if instance is not None:
        notice["instanceId"] = instance
    return _sns(
        "ssm-invocation-failed.json", notice, "arn:aws:sns:us-east-2:123456789012:run-command"
    )


@pytest.mark.parametrize("status", ["Failed", "TimedOut"])
def test_a_run_command_event_is_keyed_as_its_documents_notice(status: str) -> None:
    """A command failed or timed out through EventBridge fires an `eventbridge` incident keyed
    by the identity Run Command's SNS notice has (the document's); a Success resolves it."""
    failed = _only(_run_command(status))
    assert failed.status is Status.FIRING
    assert (failed.source, failed.identity) == (
        "eventbridge",
        _only(_ssm_notice("Failed")).identity,
    )
    succeeded = _only(_run_command("Success"))
    assert (succeeded.status, succeeded.fingerprint) == (Status.RESOLVED, failed.fingerprint)


def test_a_run_command_invocation_is_keyed_as_its_instances_notice() -> None:
    """An invocation's failure is the document's on that instance, keyed as the SNS invocation
    notice is; another instance is another incident; a Delayed one changes no ticket."""
    failed = _only(_invocation("Failed"))
    assert failed.source == "eventbridge"
    assert failed.identity == _only(_ssm_notice("Failed", "i-abcd1111")).identity
    assert failed.fingerprint != _only(_run_command("Failed")).fingerprint
    assert failed.fingerprint != _only(_invocation("Failed", "i-abcd2222")).fingerprint
    succeeded = _only(_invocation("Success"))
    assert (succeeded.status, succeeded.fingerprint) == (Status.RESOLVED, failed.fingerprint)
    assert _read(_invocation("Delayed")).alerts == ()


@pytest.mark.parametrize("status", ["Cancelled", "Cancelling", "Delayed"])
def test_a_run_command_cancelled_or_delayed_changes_no_ticket(status: str) -> None:
    """A command someone cancelled, or one delayed, neither fires nor resolves, as in Run
    Command's SNS notice."""
    read = _read(_run_command(status))
    assert read.alerts == ()
    assert [skip.reason for skip in read.skipped] == ["no_state_change"]


# --- cloudformation ---------------------------------------------------------------------------


def test_a_stack_resources_deletion_changes_no_ticket() -> None:
    """A resource deleted (DELETE_COMPLETE of one resource) says nothing of the stack: only the
    stack's own DELETE_COMPLETE resolves."""
    body = _stack("DELETE_COMPLETE")
    body["detail-type"] = "CloudFormation Resource Status Change"
    body["detail"]["logical-resource-id"] = "OrdersQueue"
    assert _read(body).alerts == ()
