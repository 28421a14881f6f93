"""AWS events that say they succeeded or stopped as planned open no ticket; a failure is keyed
by what its runs share and resolved by the next success; a failure's title says it failed.

Red team round 4 found ECS tasks stopped by a deployment, CodeBuild phases, instance refreshes
and restore jobs that succeeded each opening a ticket nothing closed. The events follow AWS's
documentation (each service's page is named in `triage.normalize.aws_state_changes`).
"""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path
from typing import Any

from case_chunks import assert_each
from factories import T0
from recording_pipeline import Sink, pipeline_into
from triage.models import Alert, Status
from triage.normalize import Normalized, normalize_body
from triage.sqs.inbox import Message

SAMPLES = Path(__file__).parent / "payloads" / "eventbridge"
ACCOUNT, REGION = "123456789012", "eu-west-1"


def _read(event: dict[str, Any]) -> Normalized:
    return normalize_body(json.dumps(event))


def _one(event: dict[str, Any]) -> Alert:
    [alert] = _read(event).alerts
    return alert


def _status(event: dict[str, Any]) -> Status | None:
    """The event's one alert's status, or None when it changes no ticket (one skip)."""
    result = _read(event)
    if not result.alerts:
        assert [skip.reason for skip in result.skipped] == ["no_state_change"]
        return None
    [alert] = result.alerts
    return alert.status


def _event(source: str, kind: str, detail: dict[str, Any], *resources: str) -> dict[str, Any]:
    return {
        "version": "0", "id": f"{kind}-{len(json.dumps(detail))}", "detail-type": kind,
        "source": source, "account": ACCOUNT, "time": "2026-12-06T09:05:00Z",
        "region": REGION, "resources": list(resources), "detail": detail,
    }  # fmt: skip


async def _actions(events: list[dict[str, Any]]) -> list[list[str]]:
    """What one fresh pipeline decides for each event in turn, a minute apart."""
    pipeline = pipeline_into(Sink())
    actions = []
    for minute, event in enumerate(events):
        at = T0 + timedelta(minutes=minute)
        message = Message(f"m-{minute}", json.dumps(event), f"r-{minute}", 1, at, received_at=at)
        actions.append([str(outcome.action) for outcome in await pipeline.process(message)])
    return actions


# --- ECS tasks -------------------------------------------------------------------------------


def _task(stop_code: str, reason: str, *exit_codes: int | None) -> dict[str, Any]:
    """The sample stopped ECS task, stopped as `stop_code` says, its containers exiting so."""
    event: dict[str, Any] = json.loads((SAMPLES / "ecs-task-stopped.json").read_text())
    containers = [
        {"name": f"c{i}", "lastStatus": "STOPPED"} | ({} if code is None else {"exitCode": code})
        for i, code in enumerate(exit_codes)
    ]
    event["detail"] |= {"stopCode": stop_code, "stoppedReason": reason, "containers": containers}
    return event


DEPLOYED = "Scaling activity initiated by (deployment ecs-svc/1234567890123456789)"
EXITED = "Essential container in task exited"

#: A stopped ECS task → whether it fires (True) or changes no ticket (False).
TASK_STOPS = {
    "deployment replaced it": (_task("ServiceSchedulerInitiated", DEPLOYED, 0), False),
    "deployment, its container SIGTERMed": (
        _task("ServiceSchedulerInitiated", DEPLOYED, 143), False
    ),
    "scale-in": (
        _task("ServiceSchedulerInitiated", "Scaling activity initiated by (service api)", 0),
        False,
    ),
    "someone stopped it": (_task("UserInitiated", "Task stopped by user", 143), False),
    "one-off task finished": (_task("EssentialContainerExited", EXITED, 0, 0), False),
    "finished, a container never ran": (_task("EssentialContainerExited", EXITED, 0, None), False),
    "crashed": (_task("EssentialContainerExited", EXITED, 1), True),
    "OOM killed": (_task("EssentialContainerExited", EXITED, 137), True),
    "one container of two crashed": (_task("EssentialContainerExited", EXITED, 0, 2), True),
    "no exit code at all": (_task("EssentialContainerExited", EXITED, None), True),
    "failed to start": (
        _task("TaskFailedToStart", "CannotPullContainerError: pull access denied", None), True
    ),
    "failed ELB health checks": (
        _task("ServiceSchedulerInitiated", "Task failed ELB health checks in (target-group x)", 0),
        True,
    ),
    "failed container health checks": (
        _task("ServiceSchedulerInitiated", "Task failed container health checks", 143), True
    ),
    "spot interruption": (_task("SpotInterruption", "Your Spot Task was interrupted.", 143), True),
    "no stop code": (_task("", "", 0), True),
}  # fmt: skip


def test_an_ecs_task_stopped_as_planned_changes_no_ticket_and_a_failed_one_fires() -> None:
    """A task its scheduler stopped for a deployment or scale-in, a user stopped, or whose
    containers all exited 0 changes no ticket; a crash, a failed start or health check fires."""

    def fires(name: str) -> tuple[bool, bool]:
        event, expected = TASK_STOPS[name]
        return _status(event) is Status.FIRING, expected

    assert_each(list(TASK_STOPS), fires, name="stop")


def test_a_planned_stops_skip_line_carries_no_text_of_the_event() -> None:
    """The skip says which planned stop it was in triage's words, never the stoppedReason."""
    event = _task("UserInitiated", "Task stopped by user token=hunter2", 0)
    [skip] = _read(event).skipped
    assert "hunter2" not in skip.detail and "STOPPED_BY_USER" in skip.detail


def test_a_failed_tasks_fingerprint_is_as_before() -> None:
    """The crash-loop identity (cluster, service group, status) is unchanged: the golden
    fingerprint of the stopped sample holds whatever its stop code."""
    crashed = _one(_task("EssentialContainerExited", EXITED, 137))
    failed_start = _one(_task("TaskFailedToStart", "CannotPullContainerError", None))
    assert crashed.fingerprint == failed_start.fingerprint == "72f9a4e310d4cc3800fa32f6237d4a51"


# --- detail-types triage did not read ---------------------------------------------------------

PROJECT = "orders-api-build"
BUILD = f"arn:aws:codebuild:{REGION}:{ACCOUNT}:build/{PROJECT}:8745a7a9-c340-456a"
ASG = f"arn:aws:autoscaling:{REGION}:{ACCOUNT}:autoScalingGroup:3c4d:autoScalingGroupName/web"


def _phase(status: str, build: str = BUILD, phase: str = "BUILD") -> dict[str, Any]:
    return _event(
        "aws.codebuild", "CodeBuild Build Phase Change",
        {"project-name": PROJECT, "build-id": build, "completed-phase": phase,
         "completed-phase-status": status, "version": "1"},
        build,
    )  # fmt: skip


def _build(status: str, build: str = BUILD) -> dict[str, Any]:
    return _event(
        "aws.codebuild", "CodeBuild Build State Change",
        {"project-name": PROJECT, "build-id": build, "build-status": status},
        build,
    )  # fmt: skip


def _refresh(outcome: str, refresh: str = "c613620e") -> dict[str, Any]:
    return _event(
        "aws.autoscaling", f"EC2 Auto Scaling Instance Refresh {outcome}",
        {"InstanceRefreshId": refresh, "AutoScalingGroupName": "web"}, ASG,
    )  # fmt: skip


def _lifecycle_action(transition: str) -> dict[str, Any]:
    return _event(
        "aws.autoscaling", f"EC2 Instance-{transition} Lifecycle Action",
        {"LifecycleActionToken": "87654321", "AutoScalingGroupName": "web",
         "LifecycleHookName": "drain", "EC2InstanceId": "i-1234567890abcdef0"},
        ASG,
    )  # fmt: skip


def _detach(outcome: str) -> dict[str, Any]:
    return _event(
        "aws.autoscaling", f"EC2 Instance Detach {outcome}",
        {"AutoScalingGroupName": "web", "ActivityId": f"a-{outcome}", "StatusCode": "x",
         "EC2InstanceId": "i-1234567890abcdef0"},
        ASG,
    )  # fmt: skip


def _restore(status: str, job: str = "1b2c3d4e") -> dict[str, Any]:
    return _event(
        "aws.backup", "Restore Job State Change",
        {"restoreJobId": job, "status": status, "resourceType": "EBS", "percentDone": 100},
        f"arn:aws:backup:{REGION}:{ACCOUNT}:restore-job:{job}",
    )  # fmt: skip


def _snapshot(result: str, snapshot: str = "snap-01234567") -> dict[str, Any]:
    return _event(
        "aws.ec2", "EBS Snapshot Notification",
        {"event": "createSnapshot", "result": result, "cause": "",
         "snapshot_id": f"arn:aws:ec2::{REGION}:snapshot/{snapshot}",
         "source": f"arn:aws:ec2::{REGION}:volume/vol-01234567"},
        f"arn:aws:ec2::{REGION}:snapshot/{snapshot}",
    )  # fmt: skip


def _multi_snapshot(result: str) -> dict[str, Any]:
    return _event(
        "aws.ec2", "EBS Multi-Volume Snapshots Completion Status",
        {"event": "createSnapshots", "result": result, "cause": "",
         "source": f"arn:aws:ec2::{REGION}:instance/i-01234567"},
        f"arn:aws:ec2::{REGION}:snapshot/snap-1",
    )  # fmt: skip


def _ami(state: str) -> dict[str, Any]:
    return _event(
        "aws.ec2", "EC2 AMI State Change",
        {"RequestId": "r-1", "ImageId": "ami-0abc", "State": state, "ErrorMessage": ""},
        f"arn:aws:ec2:{REGION}::image/ami-0abc",
    )  # fmt: skip


def _sagemaker(kind: str, key: str, status: str, name: str) -> dict[str, Any]:
    return _event(
        "aws.sagemaker",
        kind,
        {key: status, "Name": name},
        f"arn:aws:sagemaker:{REGION}:{ACCOUNT}:job/{name}",
    )


def _pipeline_execution(status: str) -> dict[str, Any]:
    return _event(
        "aws.sagemaker", "SageMaker Model Building Pipeline Execution Status Change",
        {"pipelineArn": f"arn:aws:sagemaker:{REGION}:{ACCOUNT}:pipeline/train",
         "pipelineExecutionArn": f"arn:aws:sagemaker:{REGION}:{ACCOUNT}:pipeline/train/"
                                 f"execution/{status.lower()}",
         "currentPipelineExecutionStatus": status, "previousPipelineExecutionStatus": "Executing"},
        f"arn:aws:sagemaker:{REGION}:{ACCOUNT}:pipeline/train/execution/{status.lower()}",
    )  # fmt: skip


def _ecr(kind: str, key: str, result: str) -> dict[str, Any]:
    return _event(
        "aws.ecr", kind,
        {key: result, "repository-name": "orders", "action-type": "REPLICATE",
         "ecr-repository-prefix": "docker-hub", "upstream-registry-url": "public.ecr.aws"},
    )  # fmt: skip


def _emr_group(kind: str, state: str) -> dict[str, Any]:
    return _event(
        "aws.emr", f"EMR Instance {kind} State Change",
        {"clusterId": "j-1", "instanceGroupId": "ig-1", "instanceFleetId": "if-1",
         "state": state, "severity": "INFO", "message": "resized"},
    )  # fmt: skip


def _volume(event: str, result: str) -> dict[str, Any]:
    return _event(
        "aws.ec2", "EBS Volume Notification",
        {"event": event, "result": result, "cause": "",
         "request-id": "01234567-0123-0123-0123-0123456789ab"},
        f"arn:aws:ec2:{REGION}:{ACCOUNT}:volume/vol-01234567",
    )  # fmt: skip


def _unread(kind: str, **detail: Any) -> dict[str, Any]:
    return _event("aws.example", kind, detail, f"arn:aws:example:{REGION}:{ACCOUNT}:thing/1")


#: Events whose detail or detail-type says what they did succeeded or went as planned.
SUCCESSES = {
    "codebuild phase SUCCEEDED": _phase("SUCCEEDED"),
    "codebuild phase IN_PROGRESS": _phase("IN_PROGRESS"),
    "instance refresh succeeded": _refresh("Succeeded"),
    "instance refresh started": _refresh("Started"),
    "instance refresh checkpoint": _refresh("Checkpoint Reached"),
    "instance refresh baking": _refresh("Started Baking"),
    "instance refresh cancelled": _refresh("Cancelled"),
    "instance refresh rollback started": _refresh("Rollback Started"),
    "instance refresh rollback succeeded": _refresh("Rollback Succeeded"),
    "launch lifecycle hook waiting": _lifecycle_action("launch"),
    "terminate lifecycle hook waiting": _lifecycle_action("terminate"),
    "instance detach successful": _detach("Successful"),
    "restore job COMPLETED": _restore("COMPLETED"),
    "restore job RUNNING": _restore("RUNNING"),
    "EBS snapshot succeeded": _snapshot("succeeded"),
    "EBS multi-volume snapshots succeeded": _multi_snapshot("succeeded"),
    "AMI available": _ami("available"),
    "SageMaker processing job Completed": _sagemaker(
        "SageMaker Processing Job State Change", "ProcessingJobStatus", "Completed", "p-1"
    ),
    "SageMaker transform job Completed": _sagemaker(
        "SageMaker Transform Job State Change", "TransformJobStatus", "Completed", "t-1"
    ),
    "SageMaker tuning job Completed": _sagemaker(
        "SageMaker HyperParameter Tuning Job State Change",
        "HyperParameterTuningJobStatus", "Completed", "h-1",
    ),
    "SageMaker endpoint InService": _sagemaker(
        "SageMaker Endpoint State Change", "EndpointStatus", "IN_SERVICE", "e-1"
    ),
    "SageMaker pipeline execution Succeeded": _pipeline_execution("Succeeded"),
    "ECR replication SUCCESS": _ecr("ECR Replication Action", "result", "SUCCESS"),
    "ECR pull through cache SUCCESS": _ecr("ECR Pull Through Cache Action", "sync-status", "SUCCESS"),
    "EMR instance group RESIZING": _emr_group("Group", "RESIZING"),
    "EMR instance group RUNNING": _emr_group("Group", "RUNNING"),
    "EMR instance fleet RUNNING": _emr_group("Fleet", "RUNNING"),
    "EBS volume created": _volume("createVolume", "available"),
    "EBS volume attached": _volume("attachVolume", "attached"),
    "EBS volume modified": _volume("modifyVolume", "completed"),
    "EBS volume deleted": _volume("deleteVolume", "deleted"),
    "unread: detail-type says Succeeded": _unread("Widget Rebuild Succeeded", widget="w-1"),
    "unread: detail-type says Completed": _unread("Widget Export Completed", widget="w-1"),
    "unread: status SUCCEEDED": _unread("Widget Job State Change", status="SUCCEEDED"),
    "unread: state Completed": _unread("Widget Job State Change", state="Completed"),
    "unread: result success": _unread("Widget Sync Action", result="success"),
    "unread: success, empty error fields": _unread(
        "Widget Job State Change", status="SUCCEEDED", errorMessage="", failureCount=0
    ),
    "unread: a *Status key says Complete": _unread("Widget Change", WidgetJobStatus="Complete"),
    "unread: status UPDATE_COMPLETE": _unread("Widget Status Change", status="UPDATE_COMPLETE"),
    "unread: scan-status SCAN-COMPLETED": _unread("Widget Scan", **{"scan-status": "SCAN-COMPLETED"}),
}  # fmt: skip


def test_an_aws_event_that_says_it_succeeded_or_is_under_way_opens_no_ticket() -> None:
    """CodeBuild phases, instance refreshes, lifecycle hooks, restores, EBS snapshots, AMIs,
    SageMaker jobs, ECR replication and any AWS event whose state says success: none fires."""

    def firing(name: str) -> tuple[Status | None, str]:
        status = _status(SUCCESSES[name])
        return ("fires" if status is Status.FIRING else "no ticket opened"), "no ticket opened"

    assert_each(list(SUCCESSES), firing, name="event")


#: Events that say what they did failed: each still fires.
FAILURES = {
    "codebuild phase FAILED": _phase("FAILED"),
    "codebuild phase TIMED_OUT": _phase("TIMED_OUT"),
    "instance refresh failed": _refresh("Failed"),
    "instance refresh rollback failed": _refresh("Rollback Failed"),
    "instance detach unsuccessful": _detach("Unsuccessful"),
    "restore job FAILED": _restore("FAILED"),
    "restore job ABORTED": _restore("ABORTED"),
    "EBS snapshot failed": _snapshot("failed"),
    "EBS multi-volume snapshots failed": _multi_snapshot("failed"),
    "AMI failed": _ami("failed"),
    "SageMaker processing job Failed": _sagemaker(
        "SageMaker Processing Job State Change", "ProcessingJobStatus", "Failed", "p-1"
    ),
    "SageMaker endpoint Failed": _sagemaker(
        "SageMaker Endpoint State Change", "EndpointStatus", "FAILED", "e-1"
    ),
    "SageMaker pipeline execution Failed": _pipeline_execution("Failed"),
    "ECR replication FAILED": _ecr("ECR Replication Action", "result", "FAILED"),
    "ECR pull through cache FAILED": _ecr("ECR Pull Through Cache Action", "sync-status", "FAILED"),
    "EMR instance group ARRESTED": _emr_group("Group", "ARRESTED"),
    "EMR instance fleet SUSPENDED": _emr_group("Fleet", "SUSPENDED"),
    "EBS volume failed to create": _volume("createVolume", "failed"),
    "EBS volume failed to attach": _volume("attachVolume", "failed"),
    "unread: detail-type says Failed": _unread("Widget Rebuild Failed", widget="w-1"),
    "unread: status FAILED": _unread("Widget Job State Change", status="FAILED"),
    "unread: succeeded, but its previous failed": _unread(
        "Widget Job State Change", status="FAILED", previousStatus="SUCCEEDED"
    ),
    "unread: succeeded with failures counted": _unread(
        "Widget Check Results Available", state="SUCCEEDED", numRulesFailed=2
    ),
    "unread: no state": _unread("Widget Spot Interruption Warning", widget="w-1"),
    "unread: UPDATE_ROLLBACK_COMPLETE": _unread(
        "Widget Status Change", status="UPDATE_ROLLBACK_COMPLETE"
    ),
    "unread: SUCCEEDED with an error message": _unread(
        "Widget Job State Change", status="SUCCEEDED", errorMessage="2 of 9 files skipped"
    ),
    "unread: COMPLETED_WITH_ERRORS": _unread("Widget Job", status="COMPLETED_WITH_ERRORS"),
    "unread: DEPLOYMENT_CANCELLED_COMPLETE": _unread(
        "Widget Job", state="DEPLOYMENT_CANCELLED_COMPLETE"
    ),
}  # fmt: skip


def test_an_aws_event_that_says_it_failed_still_fires() -> None:
    """The failures of the same services, and an unread event that does not say it
    succeeded (or says it and counts failures), fire as before."""

    def firing(name: str) -> tuple[Status | None, Status]:
        return _status(FAILURES[name]), Status.FIRING

    assert_each(list(FAILURES), firing, name="event")


async def test_a_failed_instance_refresh_is_closed_by_the_groups_next_that_succeeds() -> None:
    """Failed and Succeeded are one family keyed by the group: one ticket, then closed."""
    events = [_refresh("Failed", "ab00cf8f"), _refresh("Failed", "bb00cf8f"), _refresh("Succeeded")]
    assert await _actions(events) == [["open"], ["count"], ["close"]]


async def test_a_failed_restore_is_closed_by_the_next_that_completes() -> None:
    """A restore job is new every time: a failure is the resource type's, closed by the next
    restore of that type that completes."""
    events = [_restore("FAILED", "job-1"), _restore("COMPLETED", "job-2")]
    assert await _actions(events) == [["open"], ["close"]]


async def test_a_failed_build_phase_is_its_projects_build_incident() -> None:
    """A phase that failed is the project's build incident (one ticket with the build's own
    FAILED), keyed by the project not the build, closed by the project's next build that
    succeeds; the phases of that build that succeeded do not close it early."""
    other = BUILD.replace("8745a7a9", "99999999")
    events = [
        _phase("FAILED"), _build("FAILED"), _phase("FAILED", other, "INSTALL"),
        _phase("SUCCEEDED", other), _build("SUCCEEDED", other),
    ]  # fmt: skip
    assert await _actions(events) == [["open"], ["count"], ["count"], [], ["close"]]


async def test_ebs_snapshots_of_a_volume_are_one_incident_closed_by_the_next_success() -> None:
    """A snapshot id is new every time: the volume's failed snapshot is closed by its next."""
    events = [_snapshot("failed", "snap-1"), _snapshot("succeeded", "snap-2")]
    assert await _actions(events) == [["open"], ["close"]]


# --- titles ----------------------------------------------------------------------------------

#: AWS's samples of a run that failed → the state its title ends with.
FAILED_STATES = {
    "codebuild-build-failed.json": "FAILED",
    "stepfunctions-execution-failed.json": "FAILED",
    "glue-job-failed.json": "FAILED",
    "backup-job-failed.json": "FAILED",
    "codepipeline-stage-failed.json": "FAILED",
    "batch-job-failed.json": "FAILED",
    "ecs-deployment-failed.json": "SERVICE_DEPLOYMENT_FAILED",
    "emr-cluster-failed.json": "TERMINATED_WITH_ERRORS",
    "ecs-task-stopped.json": "STOPPED",
}


def test_a_state_changes_title_ends_with_the_state_that_fired_it() -> None:
    """A failed run's title says its state once, after what the runs share."""

    def ending(name: str) -> tuple[tuple[bool, int], tuple[bool, int]]:
        title = _one(json.loads((SAMPLES / name).read_text())).title
        state = FAILED_STATES[name]
        return (title.endswith(f" {state}"), title.split().count(state)), (True, 1)

    assert_each(list(FAILED_STATES), ending, name="sample")
    build = _one(json.loads((SAMPLES / "codebuild-build-failed.json").read_text()))
    assert build.title == "CodeBuild Build State Change: orders-api-build FAILED"


def test_the_title_never_enters_the_fingerprint() -> None:
    """The failure and the success of one build share a fingerprint though their titles now
    differ by their state."""
    failed, succeeded = _one(_build("FAILED")), _one(_build("SUCCEEDED"))
    assert failed.title != succeeded.title
    assert failed.fingerprint == succeeded.fingerprint


def test_a_hostile_state_in_the_title_is_cut_and_kept_on_one_line() -> None:
    """A state AWS would never send (long, multi-line) is shown short on one line."""
    event = _build("FAILED\n# injected heading " + "x" * 500)
    title = _one(event).title
    assert "\n" not in title and len(title) < 200


# --- CloudFormation --------------------------------------------------------------------------

STACK = f"arn:aws:cloudformation:{REGION}:{ACCOUNT}:stack/orders/5b6f2b10-a1b2-11ee-8c90"


def _stack(status: str) -> dict[str, Any]:
    return _event(
        "aws.cloudformation", "CloudFormation Stack Status Change",
        {"stack-id": STACK, "status-details": {"status": status, "status-reason": ""},
         "client-request-token": f"Console-UpdateStack-{status}"},
        STACK,
    )  # fmt: skip


def _stack_resource(status: str, logical: str = "OrdersQueue") -> dict[str, Any]:
    return _event(
        "aws.cloudformation", "CloudFormation Resource Status Change",
        {"stack-id": STACK, "logical-resource-id": logical, "physical-resource-id": "",
         "resource-type": "AWS::SQS::Queue",
         "status-details": {"status": status, "status-reason": "Resource handler returned"}},
        STACK,
    )  # fmt: skip


def _drift(drift: str) -> dict[str, Any]:
    return _event(
        "aws.cloudformation", "CloudFormation Drift Detection Status Change",
        {"stack-id": STACK, "drift-detection-id": f"d-{drift}",
         "status-details": {"stack-drift-status": drift,
                            "detection-status": "DETECTION_COMPLETE"}},
        STACK,
    )  # fmt: skip


#: A CloudFormation event → whether it fires (True), resolves (False) or changes nothing (None).
STACK_EVENTS = {
    "stack UPDATE_COMPLETE": (_stack("UPDATE_COMPLETE"), Status.RESOLVED),
    "stack CREATE_COMPLETE": (_stack("CREATE_COMPLETE"), Status.RESOLVED),
    "stack UPDATE_IN_PROGRESS": (_stack("UPDATE_IN_PROGRESS"), None),
    "stack cleanup in progress": (_stack("UPDATE_COMPLETE_CLEANUP_IN_PROGRESS"), None),
    "stack DELETE_COMPLETE": (_stack("DELETE_COMPLETE"), Status.RESOLVED),
    "stack UPDATE_ROLLBACK_COMPLETE": (_stack("UPDATE_ROLLBACK_COMPLETE"), Status.FIRING),
    "stack ROLLBACK_COMPLETE": (_stack("ROLLBACK_COMPLETE"), Status.FIRING),
    "stack UPDATE_ROLLBACK_FAILED": (_stack("UPDATE_ROLLBACK_FAILED"), Status.FIRING),
    "stack DELETE_FAILED": (_stack("DELETE_FAILED"), Status.FIRING),
    "resource CREATE_COMPLETE": (_stack_resource("CREATE_COMPLETE"), None),
    "resource UPDATE_IN_PROGRESS": (_stack_resource("UPDATE_IN_PROGRESS"), None),
    "resource CREATE_FAILED": (_stack_resource("CREATE_FAILED"), Status.FIRING),
    "drift DRIFTED": (_drift("DRIFTED"), Status.FIRING),
    "drift IN_SYNC": (_drift("IN_SYNC"), Status.RESOLVED),
}


def test_cloudformation_completes_resolve_or_change_nothing_and_failures_fire() -> None:
    """A stack or resource that completed opens no ticket; a failed or rolled-back one
    fires; a drifted stack fires and one in sync resolves."""

    def reading(name: str) -> tuple[Status | None, Status | None]:
        event, expected = STACK_EVENTS[name]
        return _status(event), expected

    assert_each(list(STACK_EVENTS), reading, name="event")


async def test_a_failed_stack_update_is_one_incident_closed_by_its_next_update() -> None:
    """A resource's failure and its stack's rollback are one incident of the stack, closed
    by the stack's next update that completes."""
    events = [
        _stack_resource("UPDATE_FAILED"), _stack("UPDATE_ROLLBACK_COMPLETE"),
        _stack_resource("UPDATE_COMPLETE", "OtherQueue"), _stack("UPDATE_COMPLETE"),
    ]  # fmt: skip
    assert await _actions(events) == [["open"], ["count"], [], ["close"]]
