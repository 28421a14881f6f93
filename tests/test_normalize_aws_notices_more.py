"""More notices AWS services publish to an SNS topic themselves: Redshift events, DMS task
failures and paused reads, Amazon Inspector classic findings, ElastiCache's message form and
its key in another case, and AWS Budgets' text; SES mail feedback refused with its reason;
Route 53 health checks (CloudWatch alarms). Each read with a stable identity, resolved only
where the service says the condition ended, hostile text bounded and redacted."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import boto3
import pytest

from daemon_harness import Queues
from factories import view
from ingest_harness import queue_arn
from test_normalize_aws_notices import received
from test_normalize_hostile import HOSTILE_VALUES, _paths, _replace
from test_pipeline import rig
from triage.errors import InvalidAlertError, TriageError
from triage.models import Alert, Status
from triage.normalize import (
    AWS_SNS_HINT,
    Normalized,
    normalize_body,
    normalize_payload,
    recognise_body,
)
from triage.sqs.inbox import Message
from triage.summarise.deterministic import DeterministicSummariser

PAYLOADS = Path(__file__).parent / "payloads" / "aws"

#: Each sample's format, source, status, title and fingerprint, pinned: a change to any of
#: them re-keys the incidents of teams already reading these topics.
SAMPLES = {
    "redshift-resize-failed.json": (
        "aws-notice",
        Status.FIRING,
        "Redshift cluster orders-dw: Cluster orders-dw resize failed at 2026-12-05 04:20 UTC. "
        "Operation will be retried within a few minutes.",
        "b6f71ca0443adace6326821aee60507f",
    ),
    "dms-task-failed.json": (
        "aws-notice",
        Status.FIRING,
        "DMS replication-task orders-cdc: Replication task has failed.",
        "67b525bbdb058968f7fa2b7fae764c77",
    ),
    "inspector-finding-reported.json": (
        "aws-notice",
        Status.FIRING,
        "Amazon Inspector reported a finding: assessment template 0-5e6f7g8h",
        "1a54b5ed22574e10d89b0cb779203d2f",
    ),
    "elasticache-text-snapshot-failed.json": (
        "sns-text",
        Status.FIRING,
        "ElastiCache snapshot failed: sessions-0001-001",
        # The JSON notice's fingerprint (elasticache-snapshot-failed.json): one incident.
        "5e81d300f8daac5c9ed26604b362cdcd",
    ),
    "codedeploy-deployment-failed.json": (
        "aws-notice",
        Status.FIRING,
        "CodeDeploy checkout/checkout-prod: deployment FAILED",
        "dac50a45f7c735906bdd42f9486a3c8e",
    ),
    "ssm-invocation-failed.json": (
        "aws-notice",
        Status.FIRING,
        "Run Command AWS-RunPatchBaseline on i-1234567890abcdef0: Failed",
        "1807de8b5c828ea6a835e4b755a958ec",
    ),
    "budgets-actual-exceeded.json": (
        "sns-text",
        Status.FIRING,
        "AWS Budgets: team-checkout is over its ACTUAL alert threshold (> $800.00)",
        "72ff22ecf66d21a4791104549610ee19",
    ),
}


def sample(name: str) -> str:
    return (PAYLOADS / name).read_text(encoding="utf-8")


def envelope(name: str) -> dict[str, Any]:
    outer: dict[str, Any] = json.loads(sample(name))
    return outer


def notice(name: str) -> dict[str, Any]:
    """The JSON the service published, inside sample `name`'s SNS envelope."""
    message: dict[str, Any] = json.loads(envelope(name)["Message"])
    return message


def read(name: str, message: dict[str, Any] | str, **changes: Any) -> Normalized:
    """Sample `name`'s envelope carrying `message` (JSON or text), envelope fields changed."""
    outer = envelope(name) | changes
    outer["Message"] = message if isinstance(message, str) else json.dumps(message)
    return normalize_body(json.dumps(outer))


def only(name: str, message: dict[str, Any] | str, **changes: Any) -> Alert:
    [alert] = read(name, message, **changes).alerts
    return alert


@pytest.mark.parametrize("name", sorted(SAMPLES))
def test_each_sample_is_read_with_its_pinned_fingerprint(name: str) -> None:
    """Every sample, through SNS, is one alert of the format, status, title and fingerprint
    pinned above; before, Redshift, Inspector and the newer DMS notice were dead letters and
    the text notices one never-resolving incident per topic and Subject."""
    fmt, status, title, fingerprint = SAMPLES[name]
    recognised = recognise_body(sample(name))
    assert recognised.format == fmt
    [alert] = recognised.normalized.alerts
    assert (alert.source, alert.status, alert.title) == ("aws", status, title)
    assert alert.fingerprint == fingerprint


# --- Redshift ------------------------------------------------------------------------------


def redshift(event: str, **changes: Any) -> Alert:
    """The Redshift sample as event REDSHIFT-EVENT-`event`, its other fields changed."""
    message = notice("redshift-resize-failed.json")
    link = message["About this Event"].replace("3500", event)
    return only("redshift-resize-failed.json", message | {"About this Event": link} | changes)


def test_a_redshift_event_is_identified_by_cluster_and_condition() -> None:
    """Redshift's event (`About this Event`'s id, `Resource` its cluster) is keyed by account,
    Region, source type, cluster and condition, never its time or message; its severity, docs
    link, console link and category are kept."""
    failed = redshift("3500")
    assert failed.identity == {
        "service": "redshift",
        "account": "123456789012",
        "region": "us-east-1",
        "source_type": "cluster",
        "source_id": "orders-dw",
        "condition": "resize",
    }
    assert failed.severity == "ERROR"
    assert failed.runbook_url is not None and failed.runbook_url.endswith("#REDSHIFT-EVENT-3500")
    assert failed.links["resource"].endswith("#cluster-details:cluster=orders-dw")
    assert (failed.labels["aws_service"], failed.labels["category"]) == ("redshift", "Monitoring")
    later = redshift("3500", **{"Event Time": "2026-12-06 01:00:00.000", "Event Message": "x"})
    assert later.fingerprint == failed.fingerprint
    assert redshift("3500", Resource="users-dw").fingerprint != failed.fingerprint


@pytest.mark.parametrize(
    ("starts", "end"), [(("2006", "3500"), "3002"), (("2003",), "2004"), (("2008", "3501"), "3003")]
)
def test_the_redshift_event_that_ends_a_condition_resolves_it(
    starts: tuple[str, ...], end: str
) -> None:
    """A resize started or failed is resolved by the resize completed, maintenance started by
    maintenance completed, a restore started or failed by the cluster restored."""
    firing = [redshift(event) for event in starts]
    resolved = redshift(end)
    assert {alert.status for alert in firing} == {Status.FIRING}
    assert resolved.status is Status.RESOLVED
    assert {alert.fingerprint for alert in firing} == {resolved.fingerprint}


def test_a_redshift_event_of_no_pair_fires_as_its_own_incident() -> None:
    """A logging bucket no longer valid (REDSHIFT-EVENT-3504) ends nothing: it fires, its
    condition its own event id."""
    bucket = redshift("3504")
    assert (bucket.status, bucket.identity["condition"]) == (Status.FIRING, "REDSHIFT-EVENT-3504")


# --- DMS -----------------------------------------------------------------------------------


def dms(event: str, **changes: Any) -> Alert:
    message = notice("dms-task-failed.json")
    event_id = message["Event ID"].replace("0078", event)
    return only("dms-task-failed.json", message | {"Event ID": event_id} | changes)


def test_a_dms_task_running_again_resolves_its_failure() -> None:
    """A replication task failed (DMS-EVENT-0078) fires; the task started again (0069)
    resolves it; reading paused at a limit (0091, 0092) is resolved by reading resumed (0093);
    a stop (0079) stays an incident of its own."""
    failed, started = dms("0078"), dms("0069")
    assert (failed.status, started.status) == (Status.FIRING, Status.RESOLVED)
    assert started.fingerprint == failed.fingerprint
    assert failed.identity["condition"] == "task-failure"
    paused = {dms("0091").fingerprint, dms("0092").fingerprint}
    resumed = dms("0093")
    assert resumed.status is Status.RESOLVED
    assert paused == {resumed.fingerprint}
    assert dms("0079").fingerprint not in {failed.fingerprint, resumed.fingerprint}


def test_a_dms_notice_naming_its_task_in_sourceid_is_read() -> None:
    """DMS's newer notice names its task in a `SourceId` key and links the console without a
    "SourceId:" line: it was a dead letter ("names no source"); it is the same incident as the
    older notice that named the task on its link's second line."""
    newer = dms("0078")
    older = notice("dms-task-failed.json")
    del older["SourceId"]
    older["Identifier Link"] = (
        "https://console.aws.amazon.com/dms/home?region=eu-west-2#tasks:ids=orders-cdc\n"
        "SourceId: orders-cdc "
    )
    assert only("dms-task-failed.json", older).fingerprint == newer.fingerprint
    assert newer.identity["source_id"] == "orders-cdc"


# --- ElastiCache ---------------------------------------------------------------------------


def cache(message: dict[str, Any] | str, **changes: Any) -> Normalized:
    return read("elasticache-snapshot-failed.json", message, **changes)


def test_an_elasticache_key_in_another_case_is_read() -> None:
    """ "Elasticache:ServiceUpdateAvailableForNode" (ElastiCache writes its prefix so too) was
    a dead letter; it is read, and "Elasticache:SnapshotFailed" is "ElastiCache:SnapshotFailed"."""
    [update] = cache({"Elasticache:ServiceUpdateAvailableForNode": "sessions-0001-001"}).alerts
    assert update.identity["condition"] == "ServiceUpdateAvailableForNode"
    [lower] = cache({"Elasticache:SnapshotFailed": "sessions-0001-001"}).alerts
    [upper] = cache({"ElastiCache:SnapshotFailed": "sessions-0001-001"}).alerts
    assert lower.fingerprint == upper.fingerprint


def test_elasticaches_message_form_is_its_json_notice() -> None:
    """ "ElastiCache:SnapshotFailed : node", the message ElastiCache's event table documents,
    is the incident of the JSON notice; "ElastiCache:SnapshotComplete : node" resolves it.
    Read as prose, every event on the topic was one incident under its Subject."""
    [text] = cache("ElastiCache:SnapshotFailed : sessions-0001-001").alerts
    [as_json] = cache({"ElastiCache:SnapshotFailed": "sessions-0001-001"}).alerts
    [done] = cache(" elasticache:SnapshotComplete :  sessions-0001-001 \n").alerts
    assert text.fingerprint == as_json.fingerprint == done.fingerprint
    assert (text.status, done.status) == (Status.FIRING, Status.RESOLVED)
    assert "Unsubscribe" not in text.model_dump_json()


@pytest.mark.parametrize(
    "message",
    [
        "ElastiCache:SnapshotFailed : a\nElastiCache:SnapshotFailed : b",
        "ElastiCache:SnapshotFailed",
        "ElastiCache: the cache is slow : really",
        "Our ElastiCache:SnapshotFailed : runbook says hello",
    ],
)
def test_other_text_naming_elasticache_is_still_prose(message: str) -> None:
    """Two events in one message, an event without a resource, words after the prefix or
    before it: the SNS text alert it was, titled by its Subject."""
    [alert] = cache(message).alerts
    assert (alert.source, alert.title) == ("sns", "ElastiCache Notification Message")


# --- Amazon Inspector classic -------------------------------------------------------------


def inspector(**changes: Any) -> Normalized:
    message = notice("inspector-finding-reported.json") | changes
    return read("inspector-finding-reported.json", message)


def run_completed(counts: Any) -> Normalized:
    return inspector(event="ASSESSMENT_RUN_COMPLETED", finding=None, findingsCount=counts)


PACKAGES = (
    "arn:aws:inspector:us-east-1:316112463485:rulespackage/0-gEjTy7T7",
    "arn:aws:inspector:us-east-1:316112463485:rulespackage/0-R01qwB5Q",
)


def test_inspector_findings_of_one_template_are_one_incident() -> None:
    """Each FINDING_REPORTED of an assessment template is an occurrence of the template's one
    incident (its finding and run ids are no identity), so a run's fifty findings are one
    ticket; another template is another incident."""
    [first] = inspector().alerts
    assert first.identity == {
        "service": "inspector",
        "account": "123456789012",
        "region": "us-east-1",
        "template": "arn:aws:inspector:us-east-1:123456789012:target/0-a12b3c4d/template/0-5e6f7g8h",
    }
    finding = notice("inspector-finding-reported.json")["finding"]
    [second] = inspector(finding=finding.replace("0-mn3o4p5q", "0-zz"), time="x").alerts
    assert second.fingerprint == first.fingerprint
    assert finding in first.description
    other = notice("inspector-finding-reported.json")["template"].replace("0-5e6f7g8h", "0-9")
    assert inspector(template=other).alerts[0].fingerprint != first.fingerprint


def test_an_inspector_run_that_found_nothing_resolves_the_templates_incident() -> None:
    """ASSESSMENT_RUN_COMPLETED with every rules package's count 0 resolves the template's
    incident; with findings it fires it, saying how many; counts that cannot be read change no
    ticket."""
    [found] = inspector().alerts
    [clean] = run_completed("{" + ", ".join(f"{arn}=0" for arn in PACKAGES) + "}").alerts
    assert (clean.status, clean.fingerprint) == (Status.RESOLVED, found.fingerprint)
    [dirty] = run_completed(f"{{{PACKAGES[0]}=2, {PACKAGES[1]}=1}}").alerts
    assert (dirty.status, dirty.fingerprint) == (Status.FIRING, found.fingerprint)
    assert dirty.title == "Amazon Inspector found 3 findings: assessment template 0-5e6f7g8h"
    for odd in ("{}", "{x=y}", {"a": 1}, None, "{" + "a=1, " * 5000 + "}"):
        assert [s.reason for s in run_completed(odd).skipped] == ["no_state_change"], odd


@pytest.mark.parametrize(
    "event",
    ["ASSESSMENT_RUN_STARTED", "ASSESSMENT_RUN_STATE_CHANGED", "ENABLE_ASSESSMENT_NOTIFICATIONS"],
)
def test_inspector_notices_of_a_run_in_progress_change_no_ticket(event: str) -> None:
    """A run started or changing state, and the notice sent when notifications are turned on,
    are Skipped with a reason."""
    skipped = inspector(event=event, finding=None, newstate="COLLECTING_DATA").skipped
    assert [s.reason for s in skipped] == ["no_state_change"]


def test_an_inspector_notice_without_its_template_finds_it_in_its_run() -> None:
    """A notice without `template` names the template in its run's (or finding's) ARN: the
    same incident. With neither, a one-line InvalidAlertError naming the field, for the DLQ."""
    [given] = inspector().alerts
    [from_run] = inspector(template=None).alerts
    [from_finding] = inspector(template="", run=None).alerts
    assert from_run.fingerprint == from_finding.fingerprint == given.fingerprint
    with pytest.raises(InvalidAlertError, match="template") as err:
        inspector(template=None, run=None, finding=None)
    assert "\n" not in str(err.value)


# --- CodeDeploy triggers -----------------------------------------------------------------


def deploy(**changes: Any) -> Normalized:
    return read(
        "codedeploy-deployment-failed.json", notice("codedeploy-deployment-failed.json") | changes
    )


def test_a_deployment_groups_next_successful_deployment_resolves_its_failure() -> None:
    """A deployment that failed (or was stopped) fires the deployment group's incident; the
    group's next deployment that succeeded (another deployment id) resolves it; another group
    is another incident; the error and the instances' overview are shown, JSON text or object.
    CodeDeploy's triggers were dead letters."""
    [failed] = deploy().alerts
    assert failed.identity == {
        "service": "codedeploy",
        "account": "123456789012",
        "region": "eu-west-1",
        "application": "checkout",
        "group": "checkout-prod",
    }
    assert failed.description.startswith("ErrorCode: HEALTH_CONSTRAINTS\nErrorMessage: The overall")
    assert failed.links["deployment"].endswith("#/deployments/d-75I7MBT7C")
    [stopped] = deploy(status="STOPPED", deploymentId="d-2").alerts
    [succeeded] = deploy(status="SUCCEEDED", deploymentId="d-3", errorInformation=None).alerts
    assert (stopped.status, succeeded.status) == (Status.FIRING, Status.RESOLVED)
    assert stopped.fingerprint == succeeded.fingerprint == failed.fingerprint
    documented = deploy(
        status="Failed",
        deploymentOverview={"Failed": "10", "Succeeded": "0"},
        errorInformation={"ErrorCode": "IAM_ROLE_MISSING", "ErrorMessage": "IAM Role is missing"},
    ).alerts[0]
    assert (documented.status, documented.fingerprint) == (Status.FIRING, failed.fingerprint)
    assert "ErrorCode: IAM_ROLE_MISSING" in documented.description
    assert deploy(deploymentGroupName="checkout-canary").alerts[0].fingerprint != failed.fingerprint
    assert [s.reason for s in deploy(status="CREATED").skipped] == ["no_state_change"]


INSTANCE = {
    "region": "us-east-2",
    "accountId": "123456789012",
    "eventTriggerName": "checkout-instance-failed",
    "deploymentId": "d-75I7MBT7C",
    "instanceId": "arn:aws:ec2:us-east-2:123456789012:instance/i-496589f7",
    "lastUpdatedAt": "1446744207.564",
    "instanceStatus": "Failed",
    "lifecycleEvents": [
        {"LifecycleEvent": "ApplicationStop", "LifecycleEventStatus": "Succeeded"},
        {"LifecycleEvent": "BeforeInstall", "LifecycleEventStatus": "Failed"},
    ],
}


def test_an_instances_next_successful_deployment_resolves_its_failure() -> None:
    """An instance trigger (instanceId, instanceStatus) is the instance's incident: its failure
    fires, its next success (another deployment) resolves, in progress changes nothing; its
    lifecycle events are shown."""
    [failed] = read("codedeploy-deployment-failed.json", INSTANCE).alerts
    succeeded = INSTANCE | {"instanceStatus": "Succeeded", "deploymentId": "d-9"}
    [ok] = read("codedeploy-deployment-failed.json", succeeded).alerts
    assert (failed.status, ok.status) == (Status.FIRING, Status.RESOLVED)
    assert ok.fingerprint == failed.fingerprint
    assert failed.title == "CodeDeploy instance i-496589f7: deployment FAILED"
    assert "BeforeInstall: Failed" in failed.description
    pending = read("codedeploy-deployment-failed.json", INSTANCE | {"instanceStatus": "InProgress"})
    assert [s.reason for s in pending.skipped] == ["no_state_change"]


def test_a_deployment_without_its_group_is_a_one_line_invalid_alert() -> None:
    """No deployment group or application (what identifies the incident): a one-line
    InvalidAlertError naming the field, for the DLQ."""
    for field in ("deploymentGroupName", "applicationName"):
        with pytest.raises(InvalidAlertError, match=field) as err:
            deploy(**{field: None})
        assert "\n" not in str(err.value)


# --- Systems Manager Run Command ----------------------------------------------------------


def run_command(**changes: Any) -> Normalized:
    message = notice("ssm-invocation-failed.json") | changes
    return read("ssm-invocation-failed.json", {k: v for k, v in message.items() if v is not None})


def test_a_documents_next_successful_run_resolves_its_failure() -> None:
    """A Run Command invocation that failed (or timed out) fires the document's incident on
    that instance; the next run that succeeded (another command id) resolves it; another
    instance, and a command's summary (no instanceId), are other incidents; a run in progress
    or cancelled changes no ticket. Run Command's notices were dead letters."""
    [failed] = run_command().alerts
    assert failed.identity == {
        "service": "ssm",
        "account": "123456789012",
        "region": "eu-west-1",
        "document": "AWS-RunPatchBaseline",
        "instance": "i-1234567890abcdef0",
    }
    [timed_out] = run_command(status="TimedOut", commandId="c-2").alerts
    [succeeded] = run_command(status="Success", commandId="c-3").alerts
    assert (timed_out.status, succeeded.status) == (Status.FIRING, Status.RESOLVED)
    assert timed_out.fingerprint == succeeded.fingerprint == failed.fingerprint
    [other] = run_command(instanceId="i-0ther").alerts
    summary = run_command(instanceId=None, instanceIds=["i-1", "i-2"]).alerts[0]
    assert len({failed.fingerprint, other.fingerprint, summary.fingerprint}) == 3
    assert "instances: i-1, i-2" in summary.description
    for quiet in ("InProgress", "Cancelled"):
        assert [s.reason for s in run_command(status=quiet).skipped] == ["no_state_change"]


# --- AWS Budgets ---------------------------------------------------------------------------


def budgets(*replace: tuple[str, str], **changes: Any) -> Normalized:
    text = envelope("budgets-actual-exceeded.json")["Message"]
    for old, new in replace:
        text = text.replace(old, new)
    return read("budgets-actual-exceeded.json", text, **changes)


def test_a_budget_over_its_threshold_is_one_incident_per_budget_and_alert_type() -> None:
    """Budgets' notice is keyed by account, budget and alert type: next month's notice, with
    other amounts, dates and threshold, is the same incident; the forecast alert and another
    budget are others; the account is the notice's own, not the topic's."""
    [first] = budgets().alerts
    assert first.identity == {
        "service": "budgets",
        "account": "123456789012",
        "budget": "team-checkout",
        "alert_type": "ACTUAL",
    }
    assert first.labels["threshold"] == "> $800.00"
    assert first.links == {"budgets": "https://console.aws.amazon.com/billing/home#/budgets"}
    [later] = budgets(
        ("$836.12", "$1,210.40"), ("December 05", "January 05"), ("800", "900")
    ).alerts
    assert later.fingerprint == first.fingerprint
    [forecast] = budgets(("ACTUAL", "FORECASTED")).alerts
    [other] = budgets(("team-checkout", "team-search")).alerts
    assert len({first.fingerprint, forecast.fingerprint, other.fingerprint}) == 3
    [elsewhere] = budgets(TopicArn="arn:aws:sns:us-east-1:210987654321:budget-alerts").alerts
    assert elsewhere.fingerprint == first.fingerprint


def test_budgets_like_text_without_a_budget_name_is_still_prose() -> None:
    """A notice of that first line naming no budget is the SNS text alert it was."""
    [alert] = budgets(("Budget Name: team-checkout\n", "")).alerts
    assert alert.source == "sns"


# --- Amazon Inspector and Macie findings (EventBridge, through SNS) -------------------------


def finding(name: str, **detail: Any) -> Alert:
    """The EventBridge event of sample `name` with `detail` fields changed, through SNS."""
    event = notice(name)
    event["detail"] = event["detail"] | detail
    recognised = recognise_body(json.dumps(envelope(name) | {"Message": json.dumps(event)}))
    assert recognised.format == "eventbridge"
    [alert] = recognised.normalized.alerts
    return alert


#: The findings' samples' fingerprints, pinned as `SAMPLES` are.
FINDINGS = {
    "inspector2-finding-sns.json": "6efe5c259f1a9e22cbc582a6b4e7b209",
    "macie-finding-sns.json": "7d965c713faf65ca4bb678ebdb1bc6a7",
}


@pytest.mark.parametrize("name", sorted(FINDINGS))
def test_each_finding_sample_is_read_with_its_pinned_fingerprint(name: str) -> None:
    """Inspector's and Macie's findings, through SNS, are read as EventBridge events (source
    `eventbridge`, as GuardDuty's) with the fingerprint pinned above."""
    alert = finding(name)
    assert (alert.source, alert.status) == ("eventbridge", Status.FIRING)
    assert alert.fingerprint == FINDINGS[name]


def test_an_inspector_finding_is_its_own_incident_closed_by_its_status() -> None:
    """An Inspector finding is one incident per finding ARN, not one per instance (a second
    vulnerability of the instance was only counted); CLOSED (fixed) or SUPPRESSED resolves it
    (it kept firing); its severity, team tag and the remediation are kept."""
    active = finding("inspector2-finding-sns.json")
    assert active.identity == {
        "service": "inspector2",
        "account": "123456789012",
        "region": "us-east-1",
        "finding": "arn:aws:inspector2:us-east-1:123456789012:finding/0a1b2c3d4e5f60718293a4b5c6d7e8f9",
    }
    assert active.title == "Inspector: CVE-2022-3643 - linux on i-0c2a343f1948d5205"
    assert (active.status, active.severity, active.team) == (Status.FIRING, "high", "checkout")
    assert "Update linux to 5.15.0-58.64 or later." in active.description
    assert active.labels["aws_service"] == "inspector2"
    for ended in ("CLOSED", "SUPPRESSED"):
        closed = finding("inspector2-finding-sns.json", status=ended, updatedAt="later")
        assert (closed.status, closed.fingerprint) == (Status.RESOLVED, active.fingerprint)
    arn = active.identity["finding"].replace("0a1b", "ffff")
    other = finding("inspector2-finding-sns.json", findingArn=arn, title="CVE-2023-1 - openssl")
    assert other.fingerprint != active.fingerprint


def test_each_macie_finding_is_its_own_incident() -> None:
    """Macie's events name no resources, so every finding of an account was one incident: a
    second bucket's exposed data was only counted. Each finding id is its own incident now, a
    policy finding's later occurrence (its count rising) the same one, archived resolves it."""
    first = finding("macie-finding-sns.json")
    assert first.title == (
        "Macie: The S3 object contains personal information (orders-exports/2026/12/customers.csv)"
    )
    assert (first.status, first.severity, first.team) == (Status.FIRING, "Medium", "orders")
    again = finding("macie-finding-sns.json", count=3, updatedAt="2026-12-06T00:00:00Z")
    assert again.fingerprint == first.fingerprint
    bucket = {"s3Bucket": {"name": "hr-data"}, "s3Object": {"key": "salaries.csv"}}
    other = finding("macie-finding-sns.json", id="7c0e", resourcesAffected=bucket)
    assert other.fingerprint != first.fingerprint
    archived = finding("macie-finding-sns.json", archived=True)
    assert (archived.status, archived.fingerprint) == (Status.RESOLVED, first.fingerprint)


@pytest.mark.parametrize(
    ("name", "changes", "field"),
    [
        ("inspector2-finding-sns.json", {"findingArn": None}, "detail.findingArn"),
        ("inspector2-finding-sns.json", {"findingArn": {"a": 1}}, "detail.findingArn"),
        ("macie-finding-sns.json", {"id": ""}, "detail.id"),
    ],
)
def test_a_finding_without_its_id_is_a_one_line_invalid_alert(
    name: str, changes: dict[str, Any], field: str
) -> None:
    """A finding whose id is missing, empty or an object: a one-line InvalidAlertError naming
    the field, for the DLQ."""
    with pytest.raises(InvalidAlertError, match=field) as err:
        finding(name, **changes)
    assert "\n" not in str(err.value)


def trusted_advisor(status: str, **detail: Any) -> Alert:
    """A Trusted Advisor check item refreshed, as an EventBridge rule sends it (inside SNS)."""
    event = {
        "version": "0",
        "id": "4d04a964-88a6-7093-74c8-9af26598ca3e",
        "detail-type": "Trusted Advisor Check Item Refresh Notification",
        "source": "aws.trustedadvisor",
        "account": "123456789012",
        "time": "2026-12-05T05:40:49Z",
        "region": "us-east-1",
        "resources": [],
        "detail": {
            "check-name": "High Utilization Amazon EC2 Instances",
            "check-item-detail": {
                "Region/AZ": "us-west-2c",
                "Instance ID": "i-b6218518",
                "14-Day Average CPU Utilization": "98.8%",
            },
            "status": status,
            "resource_id": "arn:aws:ec2:us-west-2:123456789012:instance/i-b6218518",
        }
        | detail,
    }
    outer = envelope("macie-finding-sns.json") | {"Message": json.dumps(event)}
    [alert] = normalize_body(json.dumps(outer)).alerts
    return alert


def test_a_trusted_advisor_check_item_back_to_ok_resolves_it() -> None:
    """A check item flagged (WARN, ERROR) fires, its refresh to OK resolves it: one incident
    per check and resource. Read as any other event, every check item of the account was one
    incident (the events name no resources) and OK fired it again."""
    warn, error, ok = trusted_advisor("WARN"), trusted_advisor("ERROR"), trusted_advisor("OK")
    assert (warn.status, error.status, ok.status) == (Status.FIRING,) * 2 + (Status.RESOLVED,)
    assert warn.fingerprint == error.fingerprint == ok.fingerprint
    assert warn.title == "Trusted Advisor: High Utilization Amazon EC2 Instances (i-b6218518)"
    assert (warn.severity, warn.labels["aws_service"]) == ("WARN", "trustedadvisor")
    assert "Instance ID: i-b6218518" in warn.description
    other = trusted_advisor("WARN", resource_id="arn:aws:ec2:us-west-2:1:instance/i-0ther")
    check = trusted_advisor("WARN", **{"check-name": "Low Utilization Amazon EC2 Instances"})
    assert len({warn.fingerprint, other.fingerprint, check.fingerprint}) == 3


# --- RDS events by EventBridge --------------------------------------------------------------


def rds_event(event: str, **detail: Any) -> Alert:
    """An RDS DB instance event as an EventBridge rule sends it (inside SNS)."""
    event_body = {
        "version": "0",
        "id": "a19938cd-14c7-8d2e-9d66-e9db582d2f4d",
        "detail-type": "RDS DB Instance Event",
        "source": "aws.rds",
        "account": "123456789012",
        "time": "2026-12-05T05:30:09Z",
        "region": "eu-west-1",
        "resources": ["arn:aws:rds:eu-west-1:123456789012:db:orders-db"],
        "detail": {
            "EventCategories": ["notification"],
            "SourceType": "DB_INSTANCE",
            "SourceArn": "arn:aws:rds:eu-west-1:123456789012:db:orders-db",
            "Date": "2026-12-05T05:30:09.293Z",
            "Message": "DB instance stopped",
            "SourceIdentifier": "orders-db",
            "EventID": f"RDS-EVENT-{event}",
        }
        | detail,
    }
    outer = envelope("macie-finding-sns.json") | {"Message": json.dumps(event_body)}
    recognised = recognise_body(json.dumps(outer))
    assert recognised.format == "eventbridge"
    [alert] = recognised.normalized.alerts
    return alert


def test_an_rds_event_by_eventbridge_is_resolved_by_the_event_that_ends_it() -> None:
    """An instance stopped (RDS-EVENT-0087) by EventBridge fires; started (0088) resolves it;
    storage full (0221) on the same instance is another incident. Read as any other event,
    every event of the instance was one incident that only fired, the start included."""
    stopped = rds_event("0087")
    started = rds_event("0088", Message="DB instance started", Date="2026-12-05T06:00:00Z")
    assert (stopped.status, started.status) == (Status.FIRING, Status.RESOLVED)
    assert started.fingerprint == stopped.fingerprint
    assert stopped.identity == {
        "service": "rds",
        "account": "123456789012",
        "region": "eu-west-1",
        "source_type": "DB_INSTANCE",
        "source_id": "orders-db",
        "condition": "stopped",
    }
    assert (stopped.source, stopped.title) == (
        "eventbridge",
        "RDS DB_INSTANCE orders-db: DB instance stopped",
    )
    assert rds_event("0221", Message="storage full").fingerprint != stopped.fingerprint
    assert rds_event("0087", SourceIdentifier="users-db").fingerprint != stopped.fingerprint


def test_an_rds_event_by_eventbridge_without_its_event_id_is_read_as_before() -> None:
    """An event that names no EventID (older RDS events) is read from its envelope, as any
    other service's event; one whose EventID or source is an object is a one-line error."""
    assert rds_event("0087", EventID=None).title.startswith("RDS DB Instance Event")
    with pytest.raises(InvalidAlertError, match=r"detail\.EventID") as err:
        rds_event("0087", EventID={"a": 1})
    assert "\n" not in str(err.value)
    with pytest.raises(InvalidAlertError, match=r"detail\.SourceIdentifier"):
        rds_event("0087", SourceIdentifier="")


RDS_DETAIL = {
    "EventCategories": ["notification"],
    "SourceType": "DB_INSTANCE",
    "Date": "2026-12-05T05:30:09.293Z",
    "Message": "DB instance stopped",
    "SourceIdentifier": "orders-db",
    "EventID": "RDS-EVENT-0087",
}
TRUSTED_ADVISOR_DETAIL = {
    "check-name": "High Utilization Amazon EC2 Instances",
    "check-item-detail": {"Instance ID": "i-b6218518"},
    "status": "WARN",
    "resource_id": "arn:aws:ec2:us-west-2:123456789012:instance/i-b6218518",
}


@pytest.mark.parametrize(
    ("source", "kind", "detail"),
    [
        ("aws.rds", "RDS DB Instance Event", RDS_DETAIL),
        (
            "aws.trustedadvisor",
            "Trusted Advisor Check Item Refresh Notification",
            TRUSTED_ADVISOR_DETAIL,
        ),
    ],
)
def test_every_field_of_an_event_replaced_by_garbage_fails_cleanly(
    source: str, kind: str, detail: dict[str, Any]
) -> None:
    """Any field of an RDS event or a Trusted Advisor check item by EventBridge swapped for
    garbage (null, a number, an object, bidi and NUL text …): alerts, or a deliberate
    TriageError, never an unforeseen crash wrapped as one."""
    event = json.loads(envelope("macie-finding-sns.json")["Message"])
    event |= {"source": source, "detail-type": kind, "detail": detail}
    for path in _paths(event):
        for garbage in HOSTILE_VALUES:
            result = _outcome(_replace(event, path, garbage))
            if isinstance(result, TriageError):
                assert result.__cause__ is None, (path, garbage, result)
                continue
            for alert in result.alerts:
                assert alert.title and alert.occurred_at.tzinfo is not None


def _outcome(payload: dict[str, Any]) -> Normalized | TriageError:
    try:
        return normalize_payload(payload)
    except TriageError as exc:
        return exc


# --- Elastic Beanstalk's basic health ----------------------------------------------------


def basic_health(sentence: str) -> Normalized:
    """The Beanstalk sample with its health sentence (Subject and Message) as `sentence`."""
    outer = envelope("beanstalk-health-severe.json")
    old = "Environment health has transitioned from Ok to Severe."
    outer["Subject"] = "AWS Elastic Beanstalk Notification - " + sentence
    outer["Message"] = outer["Message"].replace(old, sentence)
    return normalize_body(json.dumps(outer))


@pytest.mark.parametrize(
    ("sentence", "status"),
    [
        ("Environment health has transitioned from YELLOW to RED", Status.FIRING),
        ("Environment health has transitioned from Green to Yellow.", Status.FIRING),
        ("Environment health has been set to RED", Status.FIRING),
        ("Environment health has transitioned from RED to GREEN", Status.RESOLVED),
        ("Environment health has been set to GREEN", Status.RESOLVED),
    ],
)
def test_basic_health_colours_are_the_environments_health_incident(
    sentence: str, status: Status
) -> None:
    """An environment on basic health reports colours, without the enhanced messages' full
    stop: Red and Yellow fire its health incident, Green resolves it. Red was a skip ("no
    state change": no ticket for an environment down) or, without the full stop, a prose
    incident per Subject that Green never resolved."""
    [alert] = basic_health(sentence).alerts
    [severe] = basic_health("Environment health has transitioned from Ok to Severe.").alerts
    assert (alert.source, alert.status, alert.fingerprint) == ("aws", status, severe.fingerprint)


def test_basic_healths_grey_changes_no_ticket() -> None:
    """Grey (basic health not known, an update in progress) is neither a problem nor its
    end: Skipped."""
    skipped = basic_health("Environment health has transitioned from Green to Grey").skipped
    assert [s.reason for s in skipped] == ["no_state_change"]


# --- SES and Route 53 ----------------------------------------------------------------------

SES = [
    {"notificationType": "Bounce", "bounce": {"bounceType": "Permanent"}, "mail": {}},
    {"notificationType": "Complaint", "complaint": {}, "mail": {"source": "a@example.com"}},
    {"notificationType": "Delivery", "delivery": {}, "mail": {}},
    {"eventType": "Bounce", "bounce": {}, "mail": {}},
    {
        "notificationType": "AmazonSnsSubscriptionSucceeded",
        "message": "You have successfully subscribed your Amazon SNS topic 'arn:aws:sns:us-east-1:"
        "123456789012:ses-bounces' to receive 'Bounce' notifications from Amazon SES for "
        "identity 'example.com'.",
    },
]


@pytest.mark.parametrize("message", SES)
def test_ses_mail_feedback_is_refused_saying_it_is_no_alert(message: dict[str, Any]) -> None:
    """An SES bounce, complaint or delivery notice (or a configuration set's event, or the
    notice SES sends when the topic is set up) is mail feedback for the sending application: a
    one-line InvalidAlertError saying so, for the DLQ that keeps it, not the EventBridge advice
    meant for other services' events."""
    with pytest.raises(InvalidAlertError, match="SES") as err:
        read("rds-failover-started.json", message)
    assert "not an alert" in str(err.value) and "\n" not in str(err.value)
    assert AWS_SNS_HINT not in str(err.value)


def test_a_codepipeline_approval_request_is_skipped_without_its_token() -> None:
    """CodePipeline's manual approval notice asks a person to approve: Skipped with a reason
    naming the pipeline, stage and action, never the approval token; it was a dead letter."""
    token = "abcdefgh-b2fb-1234-a00a-31a03b998faa"
    approval = {
        "region": "us-east-1",
        "consoleLink": "https://console.aws.amazon.com/codepipeline/home?region=us-east-1#/view/checkout",
        "approval": {
            "pipelineName": "checkout",
            "stageName": "Deploy",
            "actionName": "Deploy_Approval",
            "token": token,
            "expires": "2026-12-12T05:36Z",
            "approvalReviewLink": f"https://console.aws.amazon.com/codepipeline/home#/approve/{token}",
            "customData": "Deploy checkout to production",
        },
    }
    normalized = read("rds-failover-started.json", approval)
    assert normalized.alerts == ()
    [skip] = normalized.skipped
    assert skip.reason == "approval_request"
    assert "checkout" in skip.detail and "Deploy_Approval" in skip.detail
    assert token not in skip.detail


def route53(state: str) -> Alert:
    """A Route 53 health check's CloudWatch alarm (us-east-1, AWS/Route53 HealthCheckStatus)."""
    alarm = json.loads(json.loads(sample("../cloudwatch/sns-alarm.json"))["Message"])
    alarm |= {
        "AlarmName": "checkout-health",
        "AlarmArn": "arn:aws:cloudwatch:us-east-1:123456789012:alarm:checkout-health",
        "NewStateValue": state,
    }
    alarm["Trigger"] |= {
        "MetricName": "HealthCheckStatus",
        "Namespace": "AWS/Route53",
        "Statistic": "Minimum",
        "Dimensions": [{"value": "e2c9a1b8-0d3f-4b5e-9c7a-6f1e2d3c4b5a", "name": "HealthCheckId"}],
    }
    outer = json.loads(sample("../cloudwatch/sns-alarm.json")) | {"Message": json.dumps(alarm)}
    recognised = recognise_body(json.dumps(outer))
    assert recognised.format == "cloudwatch-alarm"
    [alert] = recognised.normalized.alerts
    return alert


def test_a_route53_health_check_is_read_as_the_cloudwatch_alarm_it_is() -> None:
    """Route 53 health checks notify through CloudWatch alarms: ALARM fires and OK resolves
    one incident, as for any alarm."""
    unhealthy, healthy = route53("ALARM"), route53("OK")
    assert (unhealthy.status, healthy.status) == (Status.FIRING, Status.RESOLVED)
    assert unhealthy.fingerprint == healthy.fingerprint


# --- hostile -------------------------------------------------------------------------------

PASTED = " key AKIAIOSFODNN7EXAMPLE db postgres://app:hunter2-Sup3r-secret@db:5432/x "


@pytest.mark.parametrize(
    ("name", "field"),
    [
        ("redshift-resize-failed.json", "Event Message"),
        ("redshift-resize-failed.json", "Resource"),
        ("dms-task-failed.json", "Event Message"),
        ("dms-task-failed.json", "SourceId"),
        ("inspector-finding-reported.json", "finding"),
        ("inspector-finding-reported.json", "template"),
        ("elasticache-text-snapshot-failed.json", None),
        ("budgets-actual-exceeded.json", None),
    ],
)
def test_secrets_in_a_notice_never_reach_the_redacted_view_or_the_ticket(
    name: str, field: str | None
) -> None:
    """An access key and a DSN password pasted into a notice's text (its message, its
    resource, a finding or template ARN, a text notice's Message) are gone from what the sinks
    and the prompt render from and from the deterministic ticket."""
    if field is None:
        message: dict[str, Any] | str = envelope(name)["Message"].replace(" : ", " :" + PASTED, 1)
        message = message.replace("Budget Name: team-checkout", "Budget Name: team" + PASTED)
    else:
        message = notice(name)
        message[field] += PASTED
    for alert in read(name, message).alerts:
        shown = view(alert)
        ticket = DeterministicSummariser().write(shown)
        for text in (shown.text, ticket.model_dump_json()):
            assert "AKIAIOSFODNN7EXAMPLE" not in text and "hunter2-Sup3r-secret" not in text


def test_secrets_in_an_eventbridge_events_text_never_reach_the_view_or_the_ticket() -> None:
    """An access key and a DSN password in an RDS event's message and source, a Trusted
    Advisor check item's details, resource and check name: gone from what the sinks and the
    prompt render from and from the deterministic ticket."""
    alerts = [
        rds_event("0087", Message="stopped" + PASTED, SourceIdentifier="db" + PASTED.strip()),
        trusted_advisor(
            "WARN",
            **{
                "check-name": "High CPU" + PASTED,
                "check-item-detail": {"Instance ID": "i-1" + PASTED},
                "resource_id": "arn:aws:ec2:us-west-2:1:instance/" + PASTED.strip(),
            },
        ),
    ]
    for alert in alerts:
        shown = view(alert)
        for text in (shown.text, DeterministicSummariser().write(shown).model_dump_json()):
            assert "AKIAIOSFODNN7EXAMPLE" not in text and "hunter2-Sup3r-secret" not in text


@pytest.mark.parametrize(
    ("name", "field"),
    [
        ("redshift-resize-failed.json", "Event Message"),
        ("redshift-resize-failed.json", "Category"),
        ("dms-task-failed.json", "Event Message"),
        ("inspector-finding-reported.json", "finding"),
    ],
)
def test_a_megabyte_field_is_cut_to_its_limits(name: str, field: str) -> None:
    """A megabyte of text (controls and bidi overrides in it) in a shown field: title at
    most 200 characters, description 4,000, no control character in the title."""
    message = notice(name) | {field: "fail\x1b[31m\u202e " + "x " * 500_000}
    [alert] = read(name, message).alerts
    assert len(alert.title) <= 200 and len(alert.description) <= 4_000
    assert "\x1b" not in alert.title and "\u202e" not in alert.title
    assert all(len(value) <= 256 for value in alert.labels.values())


def test_a_budgets_megabyte_message_is_read_in_bounds() -> None:
    """A Budgets notice padded to a megabyte: one alert, its title and description bounded."""
    [alert] = budgets(("Dear AWS Customer,", "Dear " + "x" * 1_000_000)).alerts
    assert len(alert.title) <= 200 and len(alert.description) <= 4_000


#: Credentials the redactor knows only in their own case: a GitHub token (its "ghp_" in
#: capitals is no token) and an AWS access key id (in lower case, none either).
GHP = "ghp_" + "aB3dE6gH9jK2mN5pQ8sT1vW4yZ7bC0eF3hJ6"
AKIA = "AKIAIOSFODNN7EXAMPLE"


def _stack_event(status: str) -> Normalized:
    text = envelope("cloudformation-resource-failed.json")["Message"]
    text = text.replace("ResourceStatus='CREATE_FAILED'", f"ResourceStatus='{status}'")
    return read("cloudformation-resource-failed.json", text)


def _config(compliance: str) -> Normalized:
    message = notice("config-noncompliant.json")
    message["newEvaluationResult"]["complianceType"] = compliance
    return read("config-noncompliant.json", message)


def _backup(state: str) -> Normalized:
    outer = envelope("backup-job-failed.json")
    outer["MessageAttributes"]["State"]["Value"] = state
    return normalize_body(json.dumps(outer))


def _cache_event(event: str) -> Normalized:
    return read("elasticache-snapshot-failed.json", {f"ElastiCache:{event}": "sessions-0001"})


STATE_WORDS = {
    "a stack resource's status": lambda: _stack_event(f"{GHP}_FAILED"),
    "a stack's status of no change": lambda: _stack_event(GHP),
    "a Config compliance": lambda: _config(GHP),
    "a Backup job's state": lambda: _backup(GHP),
    "a Budgets alert type": lambda: budgets(("Alert Type: ACTUAL", f"Alert Type: {GHP}")),
    "an ElastiCache event": lambda: _cache_event(AKIA),
    "an Inspector finding's status": lambda: Normalized(
        (finding("inspector2-finding-sns.json", status=GHP),)
    ),
    "an Inspector finding's severity": lambda: Normalized(
        (finding("inspector2-finding-sns.json", severity=AKIA),)
    ),
}


@pytest.mark.parametrize("where", sorted(STATE_WORDS))
def test_a_state_word_is_shown_as_given_never_in_another_case(where: str) -> None:
    """A reader decides on a state in capitals ("create_failed" is CREATE_FAILED) but shows
    hostile text as it came: a credential put in capitals (or in lower case, or split into
    words) no longer has the shape the redactor knows, and reached the title, the labels or
    the log line of a skip unredacted."""
    result = STATE_WORDS[where]()
    shown = [view(alert).text for alert in result.alerts]
    shown += [skip.detail for skip in result.skipped] + list(result.notes)
    assert shown
    for text in shown:
        flat = "".join(text.lower().split())
        assert GHP.lower() not in flat and AKIA.lower() not in flat, text


def test_a_state_word_in_another_case_still_decides() -> None:
    """Case still does not matter to the decision: create_failed fires, non_compliant fires,
    forecasted is the FORECASTED alert type, closed resolves an Inspector finding."""
    assert _stack_event("create_failed").alerts[0].status is Status.FIRING
    assert _config("non_compliant").alerts[0].status is Status.FIRING
    [forecast] = budgets(("Alert Type: ACTUAL", "Alert Type: forecasted")).alerts
    assert forecast.identity["alert_type"] == "FORECASTED"
    closed = finding("inspector2-finding-sns.json", status="closed")
    assert closed.status is Status.RESOLVED


# --- through SNS and the pipeline ---------------------------------------------------------


def test_notices_published_through_sns_to_the_queue_are_read(queues: Queues) -> None:
    """Through SNS (moto) to the queue, as the services publish them: a Redshift event's JSON
    and ElastiCache's message form arrive in SNS's envelope and are read with the topic's
    account, the Region from Redshift's console link and ElastiCache's topic."""
    sns = boto3.client("sns", endpoint_url=queues.endpoint, region_name="us-east-1")
    topic = sns.create_topic(Name="aws-service-events")["TopicArn"]
    sns.subscribe(TopicArn=topic, Protocol="sqs", Endpoint=queue_arn(queues))
    sns.publish(TopicArn=topic, Message=envelope("redshift-resize-failed.json")["Message"])
    sns.publish(TopicArn=topic, Message="ElastiCache:SnapshotFailed : sessions-0001-001")
    alerts = [alert for body in received(queues, 2) for alert in normalize_body(body).alerts]
    by_service = {alert.identity["service"]: alert for alert in alerts}
    assert set(by_service) == {"redshift", "elasticache"}
    assert by_service["redshift"].identity["region"] == "us-east-1"
    assert by_service["redshift"].identity["account"] == "123456789012"
    assert by_service["elasticache"].identity["region"] == "us-east-1"


async def test_a_dms_task_failure_opens_and_its_restart_closes_one_ticket() -> None:
    """Through the pipeline: the task failed opens one ticket with its text redacted, the same
    failure again is counted, the task started closes it."""
    r = rig()
    failed = notice("dms-task-failed.json") | {
        "Event Message": "Replication task has failed.\nReason: postgres://dms:hunter2-x@db/src"
    }
    started = failed | {
        "Event ID": failed["Event ID"].replace("0078", "0069"),
        "Event Time": "2026-12-05 05:00:00.000",
    }
    for n, message in enumerate([failed, failed, started]):
        outer = envelope("dms-task-failed.json") | {"Message": json.dumps(message)}
        await r.pipeline.process(Message(f"m-{n}", json.dumps(outer), f"rh-{n}", 1, None))
    assert r.sink.kinds() == ["open", "close"]
    assert r.summariser.calls == 1
    opened = r.sink.effects[0].alert
    assert "hunter2-x" not in opened.description and "[REDACTED" in opened.description


@pytest.mark.parametrize(
    ("name", "named"),
    [
        ("redshift-resize-failed.json", "orders-dw"),
        ("dms-task-failed.json", "orders-cdc"),
        ("inspector-finding-reported.json", "assessment template 0-5e6f7g8h"),
        ("budgets-actual-exceeded.json", "budget team-checkout"),
        ("elasticache-snapshot-failed.json", "resource sessions-0001-001"),
    ],
)
def test_the_deterministic_tickets_steps_name_the_resource(name: str, named: str) -> None:
    """Without the LLM, the ticket's steps still say where to look: the cluster's or task's
    console link, the assessment template, the budget, the ElastiCache node."""
    [alert] = normalize_body(sample(name)).alerts
    steps = DeterministicSummariser().write(view(alert)).steps
    assert any(named in step for step in steps), steps
