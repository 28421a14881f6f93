"""AWS services' state-change events sent by EventBridge (CodeBuild, CodePipeline stages,
Step Functions, Glue, EC2 Auto Scaling, ECS deployments, Batch, AWS Backup, EMR): one incident
per thing whose state changes (a project, a state machine, a job, a group), fired by its
failure, repeated by the next failure, resolved by the next success; a run only starting or
under way changes no ticket. Read as any other service's event before, a failure only fired:
keyed by its run (new every time) it never resolved, or keyed by nothing (Glue, EMR: no
resources) every job of the account was one incident.

The samples follow AWS's documented events (each service's page is named in
`triage.normalize.aws_state_changes`), with their volatile fields (event id, time, run,
build, execution, activity and deployment ids) different between a failure and its recovery,
as AWS sends them.
"""

from __future__ import annotations

import copy
import json
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from factories import T0
from recording_pipeline import Sink, pipeline_into, trigger_repeat_recovery
from triage.errors import InvalidAlertError
from triage.incidents import Action
from triage.models import Alert, EffectKind, Status
from triage.normalize import Normalized, normalize_body
from triage.sqs.inbox import Message

SAMPLES = Path(__file__).parent / "payloads" / "eventbridge"


@dataclass(frozen=True)
class Case:
    """A service's failure and recovery samples, the `detail` keys that identify its
    resource, its volatile `detail` fields (with other values) and a state that changes no
    ticket."""

    name: str
    keys: tuple[str, ...]
    volatile: dict[str, Any] = field(default_factory=dict)
    quiet: str | None = None
    state_key: str | None = None

    @property
    def trigger(self) -> str:
        return f"{self.name}-{_ENDINGS[self.name][0]}.json"

    @property
    def recovery(self) -> str:
        return f"{self.name}-{_ENDINGS[self.name][1]}.json"


_ENDINGS = {
    "codebuild-build": ("failed", "succeeded"),
    "codepipeline-stage": ("failed", "succeeded"),
    "stepfunctions-execution": ("failed", "succeeded"),
    "glue-job": ("failed", "succeeded"),
    "autoscaling-launch": ("unsuccessful", "successful"),
    "ecs-deployment": ("failed", "completed"),
    "batch-job": ("failed", "succeeded"),
    "backup-job": ("failed", "completed"),
    "emr-cluster": ("failed", "running"),
}

CASES = [
    Case("codebuild-build", ("project-name",), {"build-id": "arn:aws:codebuild:x:build/y"},
         "IN_PROGRESS", "build-status"),
    Case("codepipeline-stage", ("pipeline", "stage"), {"execution-id": "e-2"}, "STARTED",
         "state"),
    Case("stepfunctions-execution", ("stateMachineArn",),
         {"executionArn": "arn:aws:states:x:execution:y", "name": "run-9"}, "RUNNING", "status"),
    Case("glue-job", ("jobName",), {"jobRunId": "jr_other", "message": "other"}, "RUNNING",
         "state"),
    Case("autoscaling-launch", ("AutoScalingGroupName",),
         {"ActivityId": "a-2", "RequestId": "r-2", "StartTime": "2026-12-07T00:00:00Z"}),
    Case("ecs-deployment", (), {"deploymentId": "ecs-svc/9", "reason": "other"},
         "SERVICE_DEPLOYMENT_IN_PROGRESS", "eventName"),
    Case("batch-job", ("jobQueue", "jobName"), {"jobId": "j-2", "jobArn": "arn:j-2"}, "RUNNABLE",
         "status"),
    Case("backup-job", ("resourceArn",), {"backupJobId": "b-2", "percentDone": "50.0"},
         "RUNNING", "state"),
    Case("emr-cluster", ("name",), {"clusterId": "j-OTHER", "message": "other"}, "STARTING",
         "state"),
]  # fmt: skip
IDS = [case.name for case in CASES]


def sample(name: str) -> dict[str, Any]:
    value: dict[str, Any] = json.loads((SAMPLES / name).read_text(encoding="utf-8"))
    return value


def run(event: dict[str, Any]) -> Normalized:
    return normalize_body(json.dumps(event))


def one(event: dict[str, Any]) -> Alert:
    [alert] = run(event).alerts
    return alert


def through_sns(event: dict[str, Any]) -> dict[str, Any]:
    """The event as an EventBridge rule's SNS topic delivers it to the queue."""
    return {
        "Type": "Notification",
        "MessageId": "5b0c3e4f-8a9d-5e1f-b2c3-d4e5f6a7b8c9",
        "TopicArn": "arn:aws:sns:eu-west-1:123456789012:ops-events",
        "Message": json.dumps(event),
        "Timestamp": "2026-12-05T09:00:06.000Z",
        "SignatureVersion": "1",
        "Signature": "EXAMPLE",
        "SigningCertURL": "https://sns.eu-west-1.amazonaws.com/SimpleNotificationService-x.pem",
        "UnsubscribeURL": "https://sns.eu-west-1.amazonaws.com/?Action=Unsubscribe",
    }


async def actions_of(*events: dict[str, Any]) -> tuple[list[Action], list[EffectKind]]:
    """What a fresh pipeline decides for `events`, a minute apart, and its sink's effects."""
    sink = Sink()
    pipeline = pipeline_into(sink)
    actions = []
    for minute, event in enumerate(events):
        at = T0 + timedelta(minutes=minute)
        message = Message(f"m-{minute}", json.dumps(event), f"r-{minute}", 1, at, received_at=at)
        actions += [outcome.action for outcome in await pipeline.process(message)]
    return actions, [effect.kind for effect in sink.effects]


@pytest.mark.parametrize("case", CASES, ids=IDS)
async def test_a_failure_its_repeat_and_its_recovery_are_one_ticket(case: Case) -> None:
    """Through the pipeline: the failure opens a ticket, the same failure again is counted,
    the next success (another run, another event id) closes it."""
    actions, effects = await trigger_repeat_recovery(
        SAMPLES / case.trigger, SAMPLES / case.recovery
    )
    assert actions == [Action.OPEN, Action.COUNT, Action.CLOSE]
    assert effects == [EffectKind.OPEN, EffectKind.CLOSE]


@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_the_failure_fires_and_the_success_resolves_one_incident(case: Case) -> None:
    """The failure is firing and the success resolved, with one fingerprint, source
    `eventbridge` and the resource in the identity instead of the run."""
    failed, recovered = one(sample(case.trigger)), one(sample(case.recovery))
    assert (failed.status, recovered.status) == (Status.FIRING, Status.RESOLVED)
    assert failed.fingerprint == recovered.fingerprint
    assert failed.source == "eventbridge"
    for key in case.keys:
        assert failed.identity[key] == sample(case.trigger)["detail"][key]


@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_volatile_fields_keep_the_fingerprint(case: Case) -> None:
    """The event's id and time, the run's ids and messages never key it."""
    failed = one(sample(case.trigger))
    event = sample(case.trigger)
    event |= {"id": "00000000-0000-0000-0000-000000000000", "time": "2026-12-07T00:00:00Z"}
    event["detail"] |= case.volatile
    if case.keys:  # keyed by the detail: the run's ARN in resources is volatile too
        event["resources"] = [r + "-other" for r in event["resources"] if "instance/" not in r]
    assert one(event).fingerprint == failed.fingerprint


@pytest.mark.parametrize(
    "case", [c for c in CASES if c.keys], ids=[c.name for c in CASES if c.keys]
)
def test_another_resource_is_another_incident(case: Case) -> None:
    """The same failure of another project, state machine, job or group is its own."""
    failed = one(sample(case.trigger))
    event = sample(case.trigger)
    event["detail"][case.keys[-1]] += "-other"
    assert one(event).fingerprint != failed.fingerprint


@pytest.mark.parametrize(
    "case", [c for c in CASES if c.keys], ids=[c.name for c in CASES if c.keys]
)
@pytest.mark.parametrize("value", [None, "", {"a": 1}])
def test_an_event_without_its_resource_is_refused_naming_the_field(case: Case, value: Any) -> None:
    """A missing, empty or non-text identifying key is an InvalidAlertError naming the field,
    not every such event of the account read as one incident."""
    event = sample(case.trigger)
    event["detail"][case.keys[0]] = value
    with pytest.raises(InvalidAlertError, match=f"detail.{case.keys[0]}"):
        run(event)


def test_an_ecs_deployment_without_its_service_is_refused() -> None:
    """An ECS deployment event is its service's (the event's resources): none is refused."""
    event = sample("ecs-deployment-failed.json")
    event["resources"] = "not a list"
    with pytest.raises(InvalidAlertError, match="resources"):
        run(event)


@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_raw_and_through_sns_share_a_fingerprint(case: Case) -> None:
    """A rule's event sent to the queue and the same event through an SNS topic are one
    incident, failure and recovery alike."""
    for name in (case.trigger, case.recovery):
        direct, wrapped = one(sample(name)), one(through_sns(sample(name)))
        assert (wrapped.fingerprint, wrapped.status) == (direct.fingerprint, direct.status)


@pytest.mark.parametrize(
    "case", [c for c in CASES if c.quiet], ids=[c.name for c in CASES if c.quiet]
)
def test_a_run_only_starting_changes_no_ticket(case: Case) -> None:
    """A state that only says a run started or is under way is skipped with a reason, so a
    rule that sends every state opens no ticket per run."""
    assert case.state_key is not None and case.quiet is not None
    event = sample(case.trigger)
    event["detail"][case.state_key] = case.quiet.lower()
    result = run(event)
    assert result.alerts == ()
    [skipped] = result.skipped
    assert skipped.reason == "no_state_change"
    assert case.quiet.lower() in skipped.detail


@pytest.mark.parametrize(
    "case", [c for c in CASES if c.quiet], ids=[c.name for c in CASES if c.quiet]
)
async def test_a_healthy_run_opens_no_ticket(case: Case) -> None:
    """A run that starts and succeeds, with no failure before it, opens nothing: the start is
    skipped and the success only recorded."""
    assert case.state_key is not None and case.quiet is not None
    started = sample(case.recovery)
    started["detail"][case.state_key] = case.quiet
    actions, effects = await actions_of(started, sample(case.recovery))
    assert (actions, effects) == ([Action.RECORD], [])


@pytest.mark.parametrize(
    "case", [c for c in CASES if c.state_key], ids=[c.name for c in CASES if c.state_key]
)
@pytest.mark.parametrize("state", ["SOME_NEW_STATE", 7, None])
def test_a_state_triage_does_not_know_fires(case: Case, state: Any) -> None:
    """A state AWS adds later (or one of another type) fires the incident rather than being
    lost, with a log note naming it; it keeps the failure's fingerprint."""
    assert case.state_key is not None
    event = sample(case.trigger)
    event["detail"][case.state_key] = state
    result = run(event)
    [alert] = result.alerts
    assert (alert.status, alert.fingerprint) == (
        Status.FIRING,
        one(sample(case.trigger)).fingerprint,
    )
    [note] = result.notes
    assert "is not one triage knows" in note
    assert run(sample(case.trigger)).notes == ()


@pytest.mark.parametrize(
    ("state", "expected"),
    [("FAILED", Status.FIRING), ("TIMED_OUT", Status.FIRING), ("ABORTED", Status.FIRING),
     ("SUCCEEDED", Status.RESOLVED), ("succeeded", Status.RESOLVED)],
)  # fmt: skip
def test_every_failed_step_functions_ending_fires(state: str, expected: Status) -> None:
    """An execution failed, timed out or aborted fires the state machine's incident; in any
    case, SUCCEEDED resolves it."""
    event = sample("stepfunctions-execution-failed.json")
    event["detail"]["status"] = state
    assert one(event).status is expected


def test_stage_and_action_failures_are_told_apart() -> None:
    """A pipeline's failed stage and failed action are separate incidents, and another
    stage's success does not resolve the failed one."""
    stage = one(sample("codepipeline-stage-failed.json"))
    other_stage = sample("codepipeline-stage-succeeded.json")
    other_stage["detail"]["stage"] = "Deploy"
    assert one(other_stage).fingerprint != stage.fingerprint
    action = sample("codepipeline-stage-failed.json")
    action["detail-type"] = "CodePipeline Action Execution State Change"
    action["detail"]["action"] = "Build"
    assert one(action).fingerprint != stage.fingerprint
    succeeded = copy.deepcopy(action)
    succeeded["detail"]["state"] = "SUCCEEDED"
    assert (one(succeeded).status, one(succeeded).fingerprint) == (
        Status.RESOLVED,
        one(action).fingerprint,
    )


def test_an_ecs_deployment_is_its_services_not_a_cloudtrail_call() -> None:
    """An ECS deployment event's `eventName` is its state, not a CloudTrail call's name: the
    failure and the completion share the service's fingerprint, titled by the service."""
    failed = one(sample("ecs-deployment-failed.json"))
    assert "call" not in failed.identity
    assert failed.title == (
        "ECS Deployment State Change: service/checkout/checkout-api SERVICE_DEPLOYMENT_FAILED"
    )
    assert failed.labels["state"] == "SERVICE_DEPLOYMENT_FAILED"


def test_an_auto_scaling_launch_is_its_groups_whatever_instance() -> None:
    """A failed launch and a successful one (which names its instance among the resources)
    are the group's launch incident; a failed termination is another."""
    failed = one(sample("autoscaling-launch-unsuccessful.json"))
    assert failed.identity["detail_type"] == "EC2 Instance Launch"
    terminate = sample("autoscaling-launch-unsuccessful.json")
    terminate["detail-type"] = "EC2 Instance Terminate Unsuccessful"
    assert one(terminate).fingerprint != failed.fingerprint
    succeeded = sample("autoscaling-launch-unsuccessful.json")
    succeeded["detail-type"] = "EC2 Instance Terminate Successful"
    assert (one(succeeded).status, one(succeeded).fingerprint) == (
        Status.RESOLVED,
        one(terminate).fingerprint,
    )


@pytest.mark.parametrize(
    ("detail_type", "key", "fired", "quiet", "resolved"),
    [("Glue Crawler State Change", "state", "Failed", "Started", "Succeeded"),
     ("EMR Step Status Change", "state", "FAILED", "PENDING", "COMPLETED"),
     ("SageMaker Training Job State Change", "TrainingJobStatus", "Failed", "InProgress",
      "Completed"),
     ("Copy Job State Change", "state", "FAILED", "RUNNING", "COMPLETED")],
)  # fmt: skip
def test_other_state_changes_fire_skip_and_resolve(
    detail_type: str, key: str, fired: str, quiet: str, resolved: str
) -> None:
    """Glue crawlers, EMR steps, SageMaker training jobs and Backup copy jobs: the failure
    fires, a start changes nothing, a success resolves, one fingerprint."""
    source = {"Glue": "aws.glue", "EMR": "aws.emr", "Sag": "aws.sagemaker", "Cop": "aws.backup"}
    event: dict[str, Any] = {
        "version": "0", "id": "e-1", "detail-type": detail_type,
        "source": next(v for k, v in source.items() if detail_type.startswith(k)),
        "account": "123456789012", "time": "2026-12-05T00:00:00Z", "region": "eu-west-1",
        "resources": ["arn:aws:sagemaker:eu-west-1:123456789012:training-job/churn-7"],
        "detail": {"crawlerName": "orders", "clusterId": "j-1", "name": "load",
                   "resourceArn": "arn:aws:rds:eu-west-1:123456789012:db:orders"},
    }  # fmt: skip
    statuses = []
    fingerprints = set()
    for state in (fired, quiet, resolved):
        event["detail"][key] = state
        result = run(event)
        statuses.append(result.alerts[0].status if result.alerts else None)
        fingerprints |= {alert.fingerprint for alert in result.alerts}
    assert statuses == [Status.FIRING, None, Status.RESOLVED]
    assert len(fingerprints) == 1


@pytest.mark.parametrize(
    ("name", "state"),
    [("ec2-instance-stopped.json", "running"), ("ecs-task-stopped.json", "RUNNING")],
)
def test_pinned_events_keep_their_reading(name: str, state: str) -> None:
    """EC2 instance state changes keep resolving on running; an ECS task that is only
    running changes no ticket (it opened one per task state before)."""
    event = sample(name)
    key = "state" if "ec2" in name else "lastStatus"
    event["detail"][key] = state
    result = run(event)
    if "ec2" in name:
        assert result.alerts[0].status is Status.RESOLVED
    else:
        assert (result.alerts, result.skipped[0].reason) == ((), "no_state_change")


def redshift_statement(state: str, name: str | None = "nightly-rollup") -> dict[str, Any]:
    """A Redshift Data API statement's status change (redshift/latest/mgmt/
    data-api-monitoring-events.html): the cluster in resources, a statement id new per run."""
    detail: dict[str, Any] = {
        "principal": "arn:aws:iam::123456789012:user/etl",
        "statementId": f"dd2e1ec9-2ee3-49a0-819f-905fa7d75a4{len(state)}",
        "redshiftQueryId": -1, "state": state, "rows": 1, "expireAt": 1796522600,
    }  # fmt: skip
    if name is not None:
        detail["statementName"] = name
    return {
        "version": "0", "id": f"18e7079c-dd4b-dd64-caf9-e2a31640dab{len(state)}",
        "detail-type": "Redshift Data Statement Status Change", "source": "aws.redshift-data",
        "account": "123456789012", "time": "2026-12-05T02:00:00Z", "region": "eu-west-1",
        "resources": ["arn:aws:redshift:eu-west-1:123456789012:cluster:analytics"],
        "detail": detail,
    }  # fmt: skip


def test_a_redshift_statement_that_failed_is_resolved_by_its_next_finish() -> None:
    """A Redshift Data API statement that failed fires its cluster's and statement name's
    incident; the next one that finished resolves it (a finished statement opened a ticket
    of its own before); a statement stopped by its user changes nothing; another statement
    name is another incident, and a statement without a name is the cluster's."""
    failed, finished = one(redshift_statement("FAILED")), one(redshift_statement("FINISHED"))
    assert (failed.status, finished.status) == (Status.FIRING, Status.RESOLVED)
    assert failed.fingerprint == finished.fingerprint
    assert run(redshift_statement("ABORTED")).skipped[0].reason == "no_state_change"
    other = one(redshift_statement("FAILED", "hourly-load"))
    unnamed = one(redshift_statement("FAILED", None))
    assert len({failed.fingerprint, other.fingerprint, unnamed.fingerprint}) == 3
    assert one(through_sns(redshift_statement("FAILED"))).fingerprint == failed.fingerprint


def ecr(kind: str, **detail: Any) -> dict[str, Any]:
    """An ECR event (AmazonECR/latest/userguide/ecr-eventbridge.html): its image's digest and
    tags change with every push."""
    return {
        "version": "0", "id": "85fc3613-e913-7fc4-a80c-a3753e4aa9ae", "detail-type": kind,
        "source": "aws.ecr", "account": "123456789012", "time": "2026-12-05T01:54:34Z",
        "region": "eu-west-1",
        "resources": ["arn:aws:ecr:eu-west-1:123456789012:repository/orders-api"]
        if kind == "ECR Image Scan" else [],
        "detail": {"repository-name": "orders-api",
                   "image-digest": "sha256:7f5b2640fe6fb4f46592dfd3410c4a79dac4f89e4782432e03",
                   **detail},
    }  # fmt: skip


@pytest.mark.parametrize(
    ("counts", "status", "expected"),
    [({"CRITICAL": 2, "MEDIUM": 9}, "COMPLETE", Status.FIRING),
     ({"HIGH": "1"}, "COMPLETE", Status.FIRING),
     ({"MEDIUM": 9, "LOW": 3}, "COMPLETE", Status.RESOLVED),
     ({}, "COMPLETE", Status.RESOLVED),
     ({"CRITICAL": 0}, "complete", Status.RESOLVED),
     ({"CRITICAL": {"a": 1}}, "COMPLETE", Status.RESOLVED),
     ({"CRITICAL": True}, "COMPLETE", Status.RESOLVED),
     ({}, "FAILED", Status.FIRING)],
)  # fmt: skip
def test_an_ecr_image_scan_fires_on_critical_or_high_findings_and_a_clean_one_resolves(
    counts: dict[str, Any], status: str, expected: Status
) -> None:
    """A completed scan with CRITICAL or HIGH findings fires the repository's incident, one
    with none resolves it (every clean scan opened a ticket before); a scan that failed
    fires; another image's digest and tags are the same incident, another repository not."""
    event = ecr("ECR Image Scan", **{"scan-status": status, "finding-severity-counts": counts,
                                     "image-tags": ["v1.4.2"]})  # fmt: skip
    alert = one(event)
    assert alert.status is expected
    base = one(ecr("ECR Image Scan", **{"scan-status": "COMPLETE", "image-tags": []}))
    assert alert.fingerprint == base.fingerprint
    assert one(through_sns(event)).fingerprint == base.fingerprint
    event["detail"]["repository-name"] = "payments-api"
    assert one(event).fingerprint != base.fingerprint
    del event["detail"]["repository-name"]
    with pytest.raises(InvalidAlertError, match=r"detail\.repository-name"):
        run(event)


async def test_an_ecr_push_that_failed_is_resolved_by_the_next_push() -> None:
    """A failed push fires the repository's push incident, repeated by the next failure and
    resolved by a successful push of another image; pushes to another repository, or
    deletions, are other incidents (every push of the account was one firing incident)."""
    failed = ecr("ECR Image Action", result="FAILURE", **{"action-type": "PUSH", "image-tag": "v1"})
    pushed = ecr("ECR Image Action", result="SUCCESS", **{"action-type": "PUSH", "image-tag": "v2"})
    pushed["detail"]["image-digest"] = "sha256:0000"
    again = copy.deepcopy(failed)
    again["id"], again["detail"]["image-tag"] = "0d1e2f3a-4b5c-4d6e-8f7a-9b0c1d2e3f4a", "v1.1"
    actions, effects = await actions_of(failed, again, pushed)
    assert actions == [Action.OPEN, Action.COUNT, Action.CLOSE]
    assert effects == [EffectKind.OPEN, EffectKind.CLOSE]
    deleted = copy.deepcopy(failed)
    deleted["detail"]["action-type"] = "DELETE"
    other = copy.deepcopy(failed)
    other["detail"]["repository-name"] = "payments-api"
    assert len({one(e).fingerprint for e in (failed, deleted, other)}) == 3
    assert one(through_sns(failed)).fingerprint == one(failed).fingerprint


def ecs_service_action(event_name: str, event_type: str = "WARN") -> dict[str, Any]:
    """An ECS service action event (AmazonECS/latest/developerguide/ecs_service_events.html)."""
    return {
        "version": "0", "id": f"57c9506e-9d21-294c-d2fe-e8738da7e{len(event_name):03d}",
        "detail-type": "ECS Service Action", "source": "aws.ecs", "account": "123456789012",
        "time": "2026-12-05T10:00:00Z", "region": "eu-west-1",
        "resources": ["arn:aws:ecs:eu-west-1:123456789012:service/checkout/checkout-api"],
        "detail": {"eventType": event_type, "eventName": event_name,
                   "clusterArn": "arn:aws:ecs:eu-west-1:123456789012:cluster/checkout",
                   "createdAt": "2026-12-05T09:59:58.000Z"},
    }  # fmt: skip


async def test_an_ecs_services_impaired_start_is_resolved_by_its_steady_state() -> None:
    """A service whose tasks fail to start fires its incident, another warning of the service
    repeats it, its steady state resolves it; other INFO actions (desired count updated, tasks
    stopped) change nothing. Its eventName is no CloudTrail call: a steady service opened a
    ticket per report before."""
    impaired = ecs_service_action("SERVICE_TASK_START_IMPAIRED")
    placement = ecs_service_action("SERVICE_TASK_PLACEMENT_FAILURE", "ERROR")
    steady = ecs_service_action("SERVICE_STEADY_STATE", "INFO")
    actions, effects = await actions_of(impaired, placement, steady)
    assert actions == [Action.OPEN, Action.COUNT, Action.CLOSE]
    assert effects == [EffectKind.OPEN, EffectKind.CLOSE]
    for quiet in ("SERVICE_DESIRED_COUNT_UPDATED", "TASKS_STOPPED", "TASKSET_STEADY_STATE"):
        assert run(ecs_service_action(quiet, "INFO")).skipped[0].reason == "no_state_change"
    actions, effects = await actions_of(steady)
    assert (actions, effects) == ([Action.RECORD], [])


async def test_a_glue_job_delay_notice_is_the_jobs_incident() -> None:
    """A Glue job run delayed past its notification threshold (Glue Job Run Status) fires
    the job's incident, which its run that succeeded resolves."""
    delayed = sample("glue-job-failed.json")
    delayed["detail-type"] = "Glue Job Run Status"
    delayed["detail"] |= {"state": "RUNNING", "severity": "INFO",
                          "message": "Job is running for more than 60 min",
                          "notificationCondition": {"NotifyDelayAfter": 60.0}}  # fmt: skip
    alert = one(delayed)
    assert alert.status is Status.FIRING
    assert alert.fingerprint == one(sample("glue-job-succeeded.json")).fingerprint


@pytest.mark.parametrize(
    "name", ["codebuild-build-failed.json", "codepipeline-stage-succeeded.json"]
)
def test_a_codestar_notification_is_the_same_incident_as_the_rules_event(name: str) -> None:
    """A CodeStar notification rule's message (the event under `detailType`, through SNS)
    reads as the EventBridge rule's event: same fingerprint and state."""
    event = sample(name)
    notice = {key: value for key, value in event.items() if key not in ("version", "id")}
    notice["detailType"] = notice.pop("detail-type")
    notice |= {
        "notificationRuleArn": "arn:aws:codestar-notifications:eu-west-1:123456789012:"
        "notificationrule/c36fb6d6784c2d31705a84702f249513ab5bbec1",
        "additionalAttributes": {},
    }
    via_codestar, direct = one(through_sns(notice)), one(event)
    assert (via_codestar.fingerprint, via_codestar.status) == (direct.fingerprint, direct.status)
