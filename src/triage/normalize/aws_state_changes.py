"""How AWS services' state-change events, sent by an EventBridge rule, change a ticket: what
identifies the thing whose state changes (a CodeBuild project, a state machine, a Glue job, an
Auto Scaling group …), which of its states fires the incident, which resolves it and which
changes no ticket. `eventbridge` reads every other field of these events as any other
service's.

A run, build, execution or deployment has an id that is new every time, so the identity is
what the runs share (the project, the state machine, the job's name): a failure is resolved by
the next run that succeeds, and a failing run repeated is a repeat of one incident. A state
that only says a run started or is under way changes no ticket (`quiet`, one log line), so a
rule that sends every state opens no ticket for a healthy run; a success with no failure
before it is recorded and opens none (a resolve always is). A state this table does not know
fires, as every event of a service triage does not read does (unless it states a success:
`aws_outcomes.stated_success`): nothing is lost.

Where each shape comes from (AWS's documentation):
- CodeBuild: codebuild/latest/userguide/sample-build-notifications.html (`project-name`,
  `build-id`, `build-status` IN_PROGRESS, SUCCEEDED, FAILED, STOPPED; Build Phase Change:
  `completed-phase`, `completed-phase-status`, a failed phase being its build's failure).
- CodePipeline: codepipeline/latest/userguide/detect-state-changes-cloudwatch-events.html
  (`pipeline`, `execution-id`, `stage`, `action`, `state` STARTED, SUCCEEDED, RESUMED, FAILED,
  CANCELED, SUPERSEDED, STOPPING, STOPPED, ABANDONED).
- Step Functions: step-functions/latest/dg/cw-events.html (`executionArn`, `stateMachineArn`,
  `status` RUNNING, SUCCEEDED, FAILED, TIMED_OUT, ABORTED, PENDING_REDRIVE).
- Glue: glue/latest/dg/automating-awsglue-with-cloudwatch-events.html (Job State Change:
  `jobName`, `jobRunId`, `state` SUCCEEDED, FAILED, TIMEOUT, STOPPED; Crawler State Change:
  `crawlerName`, `state` Started, Succeeded, Failed; Job Run Status: a run past the job's
  delay notification threshold, `jobName`).
- EC2 Auto Scaling: autoscaling/ec2/userguide/ec2-auto-scaling-event-reference.html (EC2
  Instance Launch/Terminate/Detach Successful and Unsuccessful: `AutoScalingGroupName`,
  `ActivityId`, `EC2InstanceId`, `StatusCode`; Instance-launch and Instance-terminate
  Lifecycle Action) and instance-refresh-eventbridge-events.html (EC2 Auto Scaling Instance
  Refresh Started, Checkpoint Reached, Started Baking, Succeeded, Failed, Cancelled, Rollback
  Started, Rollback Succeeded, Rollback Failed: `AutoScalingGroupName`, `InstanceRefreshId`).
- ECS: AmazonECS/latest/developerguide/ecs_service_deployment_events.html (ECS Deployment State
  Change: `eventName` SERVICE_DEPLOYMENT_IN_PROGRESS, _COMPLETED, _FAILED, `deploymentId`),
  ecs_service_events.html (ECS Service Action: `eventType` INFO, WARN, ERROR, `eventName`
  SERVICE_STEADY_STATE, SERVICE_TASK_START_IMPAIRED …) and ecs_task_events.html
  (`lastStatus`; a stopped task's `stopCode`, `stoppedReason` and containers' `exitCode`,
  read by `aws_outcomes.task_stop`); managed-daemons-events.html (ECS Daemon Service Action:
  `eventName` DAEMON_TASK_START_IMPAIRED, `daemonArn`, the failed task, if any, as the
  resource; ECS Daemon Deployment State Change: `eventName` DAEMON_DEPLOYMENT_PENDING …
  _SUCCESSFUL, _ROLLBACK_FAILED, the daemon as the resource).
- Batch: batch/latest/userguide/batch_job_events.html (`jobQueue`, `jobName`, `jobId`,
  `status` SUBMITTED … SUCCEEDED, FAILED) and array_jobs.html (a child's `jobId` is its
  parent's and ":<index>", its `arrayProperties.index` given; the parent's `size`).
- AWS Backup: aws-backup/latest/devguide/eventbridge.html (Backup and Copy Job State Change:
  `resourceArn`, `state` CREATED, RUNNING, COMPLETED, ABORTED, FAILED, EXPIRED …; Restore Job
  State Change: `restoreJobId`, `resourceType`, `status` PENDING, RUNNING, COMPLETED, ABORTED,
  FAILED, its detail resembling DescribeRestoreJob's answer: `sourceResourceArn`,
  `recoveryPointArn`, `createdResourceArn` once done).
- EMR: emr/latest/ManagementGuide/emr-manage-cloudwatch-events.html (Cluster State Change:
  `name`, `clusterId`, `state` STARTING … TERMINATED_WITH_ERRORS; Step Status Change:
  `clusterId`, `name`, `stepId`, `state` PENDING … FAILED, its `message` naming the cluster's
  name, its key (a transient cluster's id is new every run); Instance Group and Instance
  Fleet State Change: `clusterId`, `instanceGroupId` or `instanceFleetId`, `state`
  PROVISIONING … RUNNING, RESIZING, SUSPENDED, ARRESTED …).
- SageMaker: sagemaker/latest/dg/automating-sagemaker-with-eventbridge.html (Training Job
  State Change: `TrainingJobName`, `TrainingJobStatus` InProgress, Completed, Failed,
  Stopping, Stopped; Processing, Transform and HyperParameter Tuning Job State Change alike;
  Endpoint State Change: `EndpointStatus`; Model Building Pipeline Execution Status Change:
  `pipelineArn`, `currentPipelineExecutionStatus` Executing, Stopping, Stopped, Failed,
  Succeeded).
- ECR: AmazonECR/latest/userguide/ecr-eventbridge.html (ECR Image Action: `result` SUCCESS,
  FAILURE, `repository-name`, `action-type` PUSH, DELETE, `image-digest`, `image-tag`; ECR
  Image Scan: `scan-status`, `repository-name`, `finding-severity-counts`, `image-digest`,
  `image-tags`; ECR Replication Action: `result`, `repository-name`; ECR Pull Through Cache
  Action: `sync-status` SUCCESS, FAILED, the cached repository in `resources`).
- Redshift Data API: redshift/latest/mgmt/data-api-monitoring-events.html (Redshift Data
  Statement Status Change: the cluster in `resources`, `statementName`, `statementId`, `state`
  FINISHED, FAILED, ABORTED). Redshift's cluster events (REDSHIFT-EVENT-…) reach EventBridge
  from no rule: only through an event subscription's SNS topic (`aws_rds`).
- CloudFormation: AWSCloudFormation/latest/UserGuide/events-detail-reference.html (Stack and
  Resource Status Change: `stack-id`, `logical-resource-id`, `status-details.status`, a
  stack status code; Drift Detection Status Change: `status-details.stack-drift-status`
  DRIFTED, IN_SYNC, UNKNOWN, NOT_CHECKED; StackSet Operation Status Change:
  `stack-set-arn`, `stack-set-operation-id`, `status-details.status` RUNNING, SUCCEEDED,
  FAILED, STOPPING, STOPPED, QUEUED).
- CodeDeploy: codedeploy/latest/userguide/monitoring-cloudwatch-events.html (Deployment
  State-change Notification: `application`, `deploymentGroup`, `deploymentId`, `state` START,
  STOP, FAILURE, SUCCESS, READY), keyed as its SNS trigger (`aws_codedeploy`).
- Systems Manager Run Command: systems-manager/latest/userguide/
  monitoring-systems-manager-event-examples.html (EC2 Command Status-change and Command
  Invocation Status-change Notification: `command-id`, `document-name`, an invocation's
  `instance-id`, `status` Pending, InProgress, Delayed, Success, Failed, TimedOut, Cancelled,
  Cancelling), keyed as its SNS notice (`aws_ssm`).
- ECS container instances: AmazonECS/latest/developerguide/ecs_container_instance_events.html
  (ECS Container Instance State Change, sent on any change of the instance: `status` ACTIVE,
  DRAINING, INACTIVE, REGISTERING, DEREGISTERING, REGISTRATION_FAILED, `agentConnected`).
- DataSync: datasync/latest/userguide/events.html (DataSync Task Execution State Change:
  `State` QUEUED, LAUNCHING, PREPARING, TRANSFERRING, VERIFYING, SUCCESS, ERROR, the
  execution's ARN, its task's followed by "/execution/<id>", in `resources`).
- EMR Serverless: emr/latest/EMR-Serverless-UserGuide/using-eventbridge.html (EMR
  Serverless Job Run State Change: `applicationId`, `jobRunId`, `jobRunName`, `state`
  SUBMITTED, PENDING, SCHEDULED, RUNNING, SUCCESS, FAILED, CANCELLING, CANCELLED).
- Athena: athena/latest/ug/athena-events.html (Athena Query State Change: `currentState`
  QUEUED, RUNNING, SUCCEEDED, FAILED, CANCELLED, `queryExecutionId`, `workgroupName`).
- EC2 Image Builder: imagebuilder/latest/userguide/integ-eventbridge.html (EC2 Image Builder
  Image State Change: `state.status` PENDING … AVAILABLE, FAILED, the image build version's
  ARN, image/<name>/<version>/<build>, in `resources`).
- Amplify: eventbridge/latest/ref/events-ref-amplify.html (Amplify Deployment Status Change:
  `appId`, `branchName`, `jobId`, `jobStatus` STARTED, SUCCEED, FAILED).
- IAM Access Analyzer: IAM/latest/UserGuide/access-analyzer-eventbridge.html (Access
  Analyzer Finding and Internal Access Finding: the finding's `id`; Unused Access Finding for
  IAM entities: its `findingId`; each with its `resource`, `status` ACTIVE, ARCHIVED,
  RESOLVED, `isDeleted`; the analyzer in `resources`).
- Secrets Manager: secretsmanager/latest/userguide/monitoring-eventbridge.html (AWS Service
  Event via CloudTrail: `eventName` RotationStarted, RotationSucceeded, RotationFailed,
  RotationAbandoned, the secret in `additionalEventData.SecretId`).
- MediaLive: medialive/latest/ug/monitor-cloudwatch-eb-alert-example.html (MediaLive Channel
  Alert and Multiplex Alert: `alarm_state` SET or CLEARED, in either case, `alarm_id`,
  `alert_type`, `pipeline`, `message`; the channel or multiplex in `resources`).
- ACM: acm/latest/userguide/supported-events.html (ACM Certificate Approaching Expiration,
  Expired, Renewal Action Required, and Available: issued, renewed or imported; the
  certificate in `resources`).
- Systems Manager compliance: systems-manager/latest/userguide/
  monitoring-systems-manager-event-examples.html (Configuration Compliance State Change:
  `compliance-status` compliant, non_compliant, `compliance-type` Association, Patch …).
- Amazon Inspector: eventbridge/latest/ref/events-ref-inspector2.html (Inspector2 Coverage:
  the resource in `resources`, `scanType` PACKAGE, CODE …, `scanStatus.statusCodeValue`
  ACTIVE or INACTIVE and its `reason`, one of the API's ScanStatusReason values);
  Inspector2 Scan: `scan-status` INITIAL_SCAN_COMPLETE …, `finding-severity-counts`, an
  image's `repository-name`, `image-digest`, or an instance's `instance-id`; the resource
  scanned in `resources`).
- GuardDuty Malware Protection for S3: guardduty/latest/ug/
  monitor-with-eventbridge-s3-malware-protection.html (GuardDuty Malware Protection Object
  Scan Result: `scanStatus` COMPLETED …, `s3ObjectDetails.bucketName`, `.objectKey`,
  `scanResultDetails.scanResultStatus` NO_THREATS_FOUND, THREATS_FOUND, UNSUPPORTED,
  ACCESS_DENIED, FAILED, and its `threats`; the protection plan in `resources`).
- EC2: AWSEC2/latest/UserGuide/monitoring-instance-state-changes.html (`instance-id`, `state`
  pending, running, stopping, stopped, shutting-down, terminated); ebs/latest/userguide/
  ebs-cloud-watch-events.html (EBS Snapshot Notification, EBS Multi-Volume Snapshots
  Completion Status: `event` createSnapshot …, `result` succeeded, failed, `source`; EBS
  Volume Notification: `event` createVolume, attachVolume …, `result` available, attached,
  failed …); EC2
  AMI State Change (`State` pending, available, failed, deregistered, disabled).
- CloudWatch Synthetics: AmazonCloudWatch/latest/monitoring/
  CloudWatch_Synthetics_Events_EventBridge.html (Synthetics Canary TestRun Failure and TestRun
  Successful: `canary-name`, `canary-run-id`, `test-run-status` FAILED, PASSED, `state-reason`;
  Synthetics Canary Status Change: `current-state` CREATING, READY, STARTING, RUNNING,
  UPDATING, STOPPING, STOPPED, ERROR, DELETING; `resources` empty in each).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from triage.models import Status
from triage.normalize import aws_codedeploy, aws_outcomes, aws_ssm, common

FIRE, RESOLVE = Status.FIRING, Status.RESOLVED


def _states(*names: str) -> frozenset[str]:
    """States as compared: lower case (AWS writes some in capitals, some not)."""
    return frozenset(name.lower() for name in names)


@dataclass(frozen=True, slots=True)
class StateChange:
    """How one (source, detail-type) of events is read.

    `key` is the `detail` key holding the state, compared in any case with `fires`, `resolves`
    and `quiet`, or `derive` makes the state word of the detail (an ECR scan's findings);
    without either, the detail-type itself is the state (`fixed`). `by` names the `detail`
    keys that identify the resource instead of the event's `resources` (which name the run:
    new every time); `also` names keys that tell two apart when they are given (a Redshift
    statement's optional name); `named_by` derives `by` values the detail only says in its
    text (an EMR step's cluster name, in its message). `family` is the detail-type the identity names when the
    failure and its recovery come as two detail-types (Auto Scaling's Unsuccessful and
    Successful). A `routine` detail-type only says work is under way or went as planned (a
    lifecycle hook waiting, an instance refresh started or cancelled): it changes no ticket.

    `run_of` maps a resource that names one run (new every time) to what the runs share,
    when only the resources name it (a DataSync execution's ARN, under its task's).

    `rank` gives the severity the detail implies, in a word the priority rule knows (an ECR
    scan's worst findings), instead of the detail's own `severity`. `native` keys a service
    whose own SNS notice triage reads (CodeDeploy's triggers, Run Command's notices): it
    builds that notice's identity from the detail, the event's account and its Region, so the
    events are as many incidents as the notices are, resolved alike. The alert keeps source
    `eventbridge` (as RDS's events do), so routes that match it keep matching."""

    key: str | None = None
    derive: Callable[[dict[str, Any]], Any] | None = None
    fires: frozenset[str] = frozenset()
    resolves: frozenset[str] = frozenset()
    quiet: frozenset[str] = frozenset()
    by: tuple[str, ...] = ()
    also: tuple[str, ...] = ()
    #: `by` values the detail names only in its text (an EMR step's cluster name): added to
    #: the detail as read for the identity, by `by` key.
    named_by: Callable[[dict[str, Any]], dict[str, Any]] | None = None
    family: str | None = None
    fixed: Status | None = None
    routine: bool = False
    rank: Callable[[dict[str, Any]], str | None] | None = None
    native: Callable[[dict[str, Any], str, str], dict[str, str]] | None = None
    #: What a resource that names one run belongs to (a DataSync execution's task): the
    #: resources keyed instead of the runs, when the detail names neither.
    run_of: Callable[[str], str] | None = None


#: An EMR step's message names its cluster: "Step s-… (load) in Amazon EMR cluster j-… (nightly)
#: failed". The cluster's name is between the id's parentheses.
_EMR_STEP_CLUSTER = re.compile(r"in Amazon EMR cluster \S{1,128} \(([^()]{1,256})\)")


def _emr_step_cluster(detail: dict[str, Any]) -> dict[str, Any]:
    """The step's cluster (`cluster`): its name, which its message states and a transient
    cluster keeps from run to run, else its `clusterId` when the message names none."""
    message = detail.get("message")
    found = _EMR_STEP_CLUSTER.search(message[:2_048]) if isinstance(message, str) else None
    return {"cluster": found[1] if found else detail.get("clusterId")}


def _ecs_level(detail: dict[str, Any]) -> str | None:
    """An ECS service or deployment event's own level, its `eventType` (INFO, WARN or ERROR),
    as its severity: ECS writes no `severity`, and a failed deployment (ERROR) ranks as a
    Glue job's ERROR does, not as an alert that states none. None when it is no word."""
    level = detail.get("eventType")
    return common.word(level, "detail.eventType") if isinstance(level, str) else None


#: What an ECR scan's findings make of its state: serious findings, or none of them.
_VULNERABLE, _CLEAN = "CRITICAL_OR_HIGH_FINDINGS", "NO_CRITICAL_OR_HIGH_FINDINGS"
#: The severities whose findings make an image vulnerable (MEDIUM and lower are left to ECR).
_SERIOUS = ("CRITICAL", "HIGH")


def _scan_result(detail: dict[str, Any]) -> Any:
    """A completed ECR scan as its findings: CRITICAL or HIGH ones, or none of them; any other
    scan status (FAILED) as it came."""
    status = detail.get("scan-status")
    if not isinstance(status, str) or status.strip().upper() != "COMPLETE":
        return status
    counts = common.obj_or_empty(detail.get("finding-severity-counts"))
    return _VULNERABLE if any(_count(counts.get(level)) > 0 for level in _SERIOUS) else _CLEAN


def _inspector_scan_result(detail: dict[str, Any]) -> Any:
    """An Inspector2 Scan (enhanced scanning of an image, or an instance's scan) that
    completed (INITIAL_SCAN_COMPLETE), as its findings, as an ECR basic scan is read: CRITICAL
    or HIGH ones, or none of them. Any other scan status as it came."""
    status = detail.get("scan-status")
    if not isinstance(status, str) or not status.strip().upper().endswith("COMPLETE"):
        return status
    counts = common.obj_or_empty(detail.get("finding-severity-counts"))
    return _VULNERABLE if any(_count(counts.get(level)) > 0 for level in _SERIOUS) else _CLEAN


#: ECR's finding levels, worst first (UNDEFINED ranks nowhere).
_FINDING_LEVELS = ("CRITICAL", "HIGH", "MEDIUM", "LOW", "INFORMATIONAL")


def _worst_finding(detail: dict[str, Any]) -> str | None:
    """An ECR scan's worst level with a finding counted (above 0), as ECR names it: the
    scan's severity, as an Inspector finding's is its own (ten CRITICAL vulnerabilities are a
    critical ticket, not the medium of an alert that states no severity). None when it
    counts none."""
    counts = common.obj_or_empty(detail.get("finding-severity-counts"))
    return next((level for level in _FINDING_LEVELS if _count(counts.get(level)) > 0), None)


def _count(value: Any) -> int:
    """A finding count (a number, or a number in text); 0 for anything else."""
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        return 0
    try:
        return int(float(value))
    except (ValueError, OverflowError):
        return 0


#: Why Inspector stopped scanning a resource when that needs no fix: it is gone, its scan
#: window for an image lapsed as configured, someone excluded it by tag, or Inspector is
#: being turned off. Nothing later would close an incident open for its coverage.
_COVERAGE_ENDED = _states(
    "RESOURCE_TERMINATED", "SCAN_ELIGIBILITY_EXPIRED", "EXCLUDED_BY_TAG", "PENDING_DISABLE"
)
#: Why a resource is not scanned yet or for now: it will be again without anyone acting.
_COVERAGE_WAITING = _states(
    "EC2_INSTANCE_STOPPED", "PENDING_INITIAL_SCAN", "PENDING_REVIVAL_SCAN", "SCAN_IN_PROGRESS"
)
#: Why Inspector cannot scan a resource that someone has to act on (ScanStatusReason).
_COVERAGE_LOST = _states(
    "ACCESS_DENIED", "ACCESS_DENIED_TO_ENCRYPTION_KEY", "INTERNAL_ERROR",
    "UNMANAGED_EC2_INSTANCE", "UNSUPPORTED_OS", "IMAGE_SIZE_EXCEEDED", "NO_INVENTORY",
    "STALE_INVENTORY", "UNSUPPORTED_RUNTIME", "UNSUPPORTED_MEDIA_TYPE", "UNSUPPORTED_CONFIG_FILE",
    "UNSUPPORTED_LANGUAGE", "DEEP_INSPECTION_PACKAGE_COLLECTION_LIMIT_EXCEEDED",
    "DEEP_INSPECTION_DAILY_SSM_INVENTORY_LIMIT_EXCEEDED",
    "DEEP_INSPECTION_COLLECTION_TIME_LIMIT_EXCEEDED", "DEEP_INSPECTION_NO_INVENTORY",
    "AGENTLESS_INSTANCE_STORAGE_LIMIT_EXCEEDED",
    "AGENTLESS_INSTANCE_COLLECTION_TIME_LIMIT_EXCEEDED", "INTEGRATION_CONNECTION_LOST",
    "NO_SCAN_CONFIGURATION_ASSOCIATED", "NO_RESOURCES_FOUND",
)  # fmt: skip
#: The state a resource Inspector scans is in (`_coverage_state`).
_COVERED = "ACTIVE"


def _coverage_state(detail: dict[str, Any]) -> Any:
    """An Inspector2 Coverage event's state: ACTIVE (the resource is scanned, whatever the
    reason says) as it came, else the reason it is not (UNMANAGED_EC2_INSTANCE), which says
    whether anyone has to act; an INACTIVE without a reason stays INACTIVE, and fires."""
    status = common.obj_or_empty(detail.get("scanStatus"))
    code = status.get("statusCodeValue")
    if code is None:
        code = status.get("statusCode")  # the API's name for it (ListCoverage)
    if not isinstance(code, str) or code.strip().upper() != "INACTIVE":
        return code
    reason = status.get("reason")
    return reason if isinstance(reason, str) and reason.strip() else code


def _object_scan_result(detail: dict[str, Any]) -> Any:
    """A GuardDuty Malware Protection object scan that completed, as what it found
    (`scanResultDetails.scanResultStatus`: THREATS_FOUND …): its top-level `scanStatus` says
    only that the scan ran. Any other scan status as it came."""
    status = detail.get("scanStatus")
    if not isinstance(status, str) or status.strip().upper() != "COMPLETED":
        return status
    return common.obj_or_empty(detail.get("scanResultDetails")).get("scanResultStatus")


def _scanned_object(detail: dict[str, Any]) -> dict[str, Any]:
    """The object a malware scan is about (`bucket`, `object`): the event's resource is the
    protection plan, which every object of its buckets shares."""
    scanned = common.obj_or_empty(detail.get("s3ObjectDetails"))
    return {"bucket": scanned.get("bucketName"), "object": scanned.get("objectKey")}


def _threat_rank(detail: dict[str, Any]) -> str | None:
    """HIGH for an object in which the scan found malware, as GuardDuty ranks the
    Object:S3/MaliciousFile finding it makes of it; None otherwise."""
    found = _object_scan_result(detail)
    return "HIGH" if isinstance(found, str) and found.strip().upper() == "THREATS_FOUND" else None


#: An ECS container instance that is active but whose agent lost its connection: its tasks
#: can neither be placed nor stopped there (`_container_instance_state`).
_AGENT_DISCONNECTED = "AGENT_DISCONNECTED"


def _container_instance_state(detail: dict[str, Any]) -> Any:
    """An ECS container instance's `status`, but AGENT_DISCONNECTED for an ACTIVE one whose
    `agentConnected` is false: ECS sends the event on every change of the instance, and an
    active instance whose agent is connected is healthy, whatever else changed."""
    status = detail.get("status")
    active = isinstance(status, str) and status.strip().upper() == "ACTIVE"
    return _AGENT_DISCONNECTED if active and detail.get("agentConnected") is False else status


#: An IAM Access Analyzer finding deleted (its analyzer deleted, or a resolved finding past its
#: retention): its `status` is left as it was, so the deletion is read as this state.
_FINDING_DELETED = "DELETED"


def _access_finding_state(detail: dict[str, Any]) -> Any:
    """An Access Analyzer finding's `status` (ACTIVE, ARCHIVED, RESOLVED), or DELETED when
    `isDeleted` says the finding is gone, whatever its status still says."""
    return _FINDING_DELETED if detail.get("isDeleted") is True else detail.get("status")


#: The detail-type a canary's failed and successful runs are keyed by.
_CANARY_RUNS = "Synthetics Canary TestRun Failure"


#: ACM's events about a certificate that needs renewing, and the one saying it was issued,
#: renewed or imported: one incident per certificate, keyed by the detail-type the expiry
#: warning always had, so the incidents it opened keep their key.
_ACM_FAMILY = "ACM Certificate Approaching Expiration"


def _acm() -> dict[tuple[str, str], StateChange]:
    """A certificate approaching expiry, expired, or whose renewal needs someone (a domain
    to validate) fires; the certificate available again (renewed, imported) resolves."""
    readings = {
        ("aws.acm", kind): StateChange(fixed=FIRE, family=_ACM_FAMILY)
        for kind in (
            _ACM_FAMILY,
            "ACM Certificate Expired",
            "ACM Certificate Renewal Action Required",
        )
    }
    readings[("aws.acm", "ACM Certificate Available")] = StateChange(
        fixed=RESOLVE, family=_ACM_FAMILY
    )
    return readings


#: A DataSync task execution's ARN: its task's ARN, then "/execution/" and the run's id.
_DATASYNC_EXECUTION = re.compile(r"(arn:[^/]{1,200}:task/[^/]{1,100})/execution/[^/]{1,100}")


def _datasync_task(resource: str) -> str:
    """The task a DataSync execution ARN is a run of; any other resource as it is."""
    found = _DATASYNC_EXECUTION.fullmatch(resource)
    return found[1] if found else resource


def _image_state(detail: dict[str, Any]) -> Any:
    """An Image Builder image build's state: its `state.status` (AVAILABLE, FAILED …)."""
    return common.obj_or_empty(detail.get("state")).get("status")


#: An Image Builder image build's states that say it is under way or was retired by someone.
_IMAGE_UNDER_WAY = _states(
    "PENDING", "CREATING", "BUILDING", "TESTING", "DISTRIBUTING", "INTEGRATING", "DEPRECATED",
    "DISABLED", "DELETED", "CANCELLED",
)  # fmt: skip
#: An Image Builder image build version's ARN: the image's, then its version and build number.
_IMAGE_BUILD = re.compile(r"(arn:[^/]{1,200}:image/[^/]{1,128})/[^/]{1,64}/[^/]{1,64}")


def _image_of(resource: str) -> str:
    """The image an image build version's ARN is a build of; any other resource as it is."""
    found = _IMAGE_BUILD.fullmatch(resource)
    return found[1] if found else resource


def _rotated_secret(detail: dict[str, Any]) -> dict[str, Any]:
    """The secret a Secrets Manager service event is about (`secret`): its
    `additionalEventData.SecretId`, else the event's name, so an event that names no secret
    is still read (keyed as every such event of its account)."""
    given = common.obj_or_empty(detail.get("additionalEventData")).get("SecretId")
    if isinstance(given, str) and given.strip():
        return {"secret": given}
    name = detail.get("eventName")
    return {"secret": name if isinstance(name, str) and name.strip() else "secretsmanager"}


#: The state of an array job's child that succeeded (`_batch_state`).
_CHILD_SUCCEEDED = "CHILD_SUCCEEDED"


def _batch_state(detail: dict[str, Any]) -> Any:
    """A Batch job's `status`, but an array job's child (`arrayProperties.index`) that
    succeeded is `_CHILD_SUCCEEDED`: one child's success says nothing of its siblings, and
    only the parent's SUCCEEDED (every child's) closes the array's incident."""
    status = detail.get("status")
    array = common.obj_or_empty(detail.get("arrayProperties"))
    child = "index" in array
    if child and isinstance(status, str) and status.strip().upper() == "SUCCEEDED":
        return _CHILD_SUCCEEDED
    return status


def _pipeline(*by: str, quiet: tuple[str, ...] = ()) -> StateChange:
    """A CodePipeline pipeline's, stage's or action's execution: FAILED fires, SUCCEEDED
    resolves; started, resumed, cancelled, superseded or stopped by someone changes nothing."""
    return StateChange(
        key="state",
        fires=_states("FAILED"),
        resolves=_states("SUCCEEDED"),
        quiet=_states(
            "STARTED", "RESUMED", "CANCELED", "SUPERSEDED", "STOPPING", "STOPPED", *quiet
        ),
        by=by,
    )


def _instance_refreshes() -> dict[tuple[str, str], StateChange]:
    """An Auto Scaling group's instance refreshes, one detail-type per outcome: failed (or its
    rollback failed) fires, succeeded resolves, the rest say it is under way or was undone as
    planned (started, a checkpoint, baking, cancelled, rolled back)."""
    family = "EC2 Auto Scaling Instance Refresh"
    outcomes = {"Failed": FIRE, "Rollback Failed": FIRE, "Succeeded": RESOLVE}
    routine = (
        "Started", "Checkpoint Reached", "Started Baking", "Cancelled", "Rollback Started",
        "Rollback Succeeded",
    )  # fmt: skip
    readings = {
        ("aws.autoscaling", f"{family} {outcome}"): StateChange(
            fixed=status, by=("AutoScalingGroupName",), family=family
        )
        for outcome, status in outcomes.items()
    }
    for outcome in routine:
        readings[("aws.autoscaling", f"{family} {outcome}")] = StateChange(routine=True)
    return readings


def _emr_capacity(group: str) -> StateChange:
    """An EMR cluster's instance group or fleet (`group` names its id): arrested or
    suspended fires, running resolves, provisioning, resizing or ending changes nothing."""
    under_way = (
        "PROVISIONING", "BOOTSTRAPPING", "RECONFIGURING", "RESIZING", "TERMINATING",
        "TERMINATED", "SHUTTING_DOWN", "ENDED",
    )  # fmt: skip
    return StateChange(
        key="state",
        fires=_states("ARRESTED", "SUSPENDED"),
        resolves=_states("RUNNING"),
        quiet=_states(*under_way),
        by=("clusterId", group),
    )


def _sagemaker_job(key: str) -> StateChange:
    """A SageMaker job (each with its own name, in its resources): failed fires, completed
    resolves, in progress or stopped changes nothing."""
    return StateChange(
        key=key,
        fires=_states("Failed"),
        resolves=_states("Completed"),
        quiet=_states("InProgress", "Stopping", "Stopped"),
    )


def _spellings(*states: str) -> tuple[str, ...]:
    """SageMaker's states as its API spells them (InService) and as some events do
    (IN_SERVICE)."""
    return states + tuple(re.sub(r"(?<=[a-z])(?=[A-Z])", "_", state) for state in states)


def _ebs_result() -> StateChange:
    """An EBS snapshot's `result`: failed fires, succeeded resolves; keyed by its `event`
    (createSnapshot …) and, when given, its `source` (the volume or instance)."""
    return StateChange(
        key="result",
        fires=_states("failed"),
        resolves=_states("succeeded"),
        by=("event",),
        also=("source",),
    )


def _status_detail(key: str) -> Callable[[dict[str, Any]], Any]:
    """A CloudFormation event's state: `key` of its `status-details` object."""

    def state(detail: dict[str, Any]) -> Any:
        return common.obj_or_empty(detail.get("status-details")).get(key)

    return state


#: A stack's states (CloudFormation's stack status codes): a failure, or an operation rolled
#: back (its failure's end), fires; a create, update or import that completed resolves.
_STACK_FAILED = _states(
    "CREATE_FAILED", "ROLLBACK_FAILED", "ROLLBACK_COMPLETE", "DELETE_FAILED", "UPDATE_FAILED",
    "UPDATE_ROLLBACK_FAILED", "UPDATE_ROLLBACK_COMPLETE", "IMPORT_ROLLBACK_FAILED",
    "IMPORT_ROLLBACK_COMPLETE",
)  # fmt: skip
#: A deleted stack resolves too: nothing else will (a stack deleted after DELETE_FAILED, or
#: after a creation rolled back, which leaves only deletion to do), as CloudFormation's SNS
#: notice of the deletion resolves it (`aws_cloudformation`).
_STACK_DONE = _states("CREATE_COMPLETE", "UPDATE_COMPLETE", "IMPORT_COMPLETE", "DELETE_COMPLETE")
_STACK_UNDER_WAY = _states(
    "CREATE_IN_PROGRESS", "ROLLBACK_IN_PROGRESS", "DELETE_IN_PROGRESS",
    "UPDATE_IN_PROGRESS", "UPDATE_COMPLETE_CLEANUP_IN_PROGRESS", "UPDATE_ROLLBACK_IN_PROGRESS",
    "UPDATE_ROLLBACK_COMPLETE_CLEANUP_IN_PROGRESS", "REVIEW_IN_PROGRESS", "IMPORT_IN_PROGRESS",
    "IMPORT_ROLLBACK_IN_PROGRESS",
)  # fmt: skip
_STACK = "CloudFormation Stack Status Change"


#: (source, detail-type) → how its events are read.
READINGS: dict[tuple[str, str], StateChange] = {
    # The pipeline's resources (its ARN) identify it, as they did before stages were read.
    ("aws.codepipeline", "CodePipeline Pipeline Execution State Change"): _pipeline(),
    ("aws.codepipeline", "CodePipeline Stage Execution State Change"): _pipeline(
        "pipeline", "stage"
    ),
    ("aws.codepipeline", "CodePipeline Action Execution State Change"): _pipeline(
        "pipeline", "stage", "action", quiet=("ABANDONED",)
    ),
    ("aws.codebuild", "CodeBuild Build State Change"): StateChange(
        key="build-status",
        fires=_states("FAILED", "FAULT", "TIMED_OUT"),
        resolves=_states("SUCCEEDED"),
        quiet=_states("IN_PROGRESS", "STOPPED"),
        by=("project-name",),
    ),
    # A phase's failure is its build's: the project's incident, which the project's next
    # build that succeeds closes (a phase that succeeded says nothing of the build).
    ("aws.codebuild", "CodeBuild Build Phase Change"): StateChange(
        key="completed-phase-status",
        fires=_states("FAILED", "FAULT", "TIMED_OUT"),
        quiet=_states("SUCCEEDED", "IN_PROGRESS", "QUEUED", "STOPPED"),
        by=("project-name",),
        family="CodeBuild Build State Change",
    ),
    ("aws.states", "Step Functions Execution Status Change"): StateChange(
        key="status",
        fires=_states("FAILED", "TIMED_OUT", "ABORTED"),
        resolves=_states("SUCCEEDED"),
        quiet=_states("RUNNING", "PENDING_REDRIVE"),
        by=("stateMachineArn",),
    ),
    ("aws.glue", "Glue Job State Change"): StateChange(
        key="state",
        fires=_states("FAILED", "TIMEOUT", "ERROR"),
        resolves=_states("SUCCEEDED"),
        quiet=_states("STARTING", "RUNNING", "STOPPING", "STOPPED", "WAITING"),
        by=("jobName",),
    ),
    # A run delayed past the job's notification threshold: the job's incident, until a run
    # of it succeeds.
    ("aws.glue", "Glue Job Run Status"): StateChange(
        fixed=FIRE, by=("jobName",), family="Glue Job State Change"
    ),
    ("aws.glue", "Glue Crawler State Change"): StateChange(
        key="state",
        fires=_states("Failed"),
        resolves=_states("Succeeded"),
        quiet=_states("Started"),
        by=("crawlerName",),
    ),
    ("aws.autoscaling", "EC2 Instance Launch Unsuccessful"): StateChange(
        fixed=FIRE, by=("AutoScalingGroupName",), family="EC2 Instance Launch"
    ),
    ("aws.autoscaling", "EC2 Instance Launch Successful"): StateChange(
        fixed=RESOLVE, by=("AutoScalingGroupName",), family="EC2 Instance Launch"
    ),
    ("aws.autoscaling", "EC2 Instance Terminate Unsuccessful"): StateChange(
        fixed=FIRE, by=("AutoScalingGroupName",), family="EC2 Instance Terminate"
    ),
    ("aws.autoscaling", "EC2 Instance Terminate Successful"): StateChange(
        fixed=RESOLVE, by=("AutoScalingGroupName",), family="EC2 Instance Terminate"
    ),
    ("aws.autoscaling", "EC2 Instance Detach Unsuccessful"): StateChange(
        fixed=FIRE, by=("AutoScalingGroupName",), family="EC2 Instance Detach"
    ),
    ("aws.autoscaling", "EC2 Instance Detach Successful"): StateChange(
        fixed=RESOLVE, by=("AutoScalingGroupName",), family="EC2 Instance Detach"
    ),
    # A canary (its `canary-name`: the events name no resources): a failed run fires, the next
    # successful run resolves, one incident per canary keyed by the failure's detail-type.
    ("aws.synthetics", "Synthetics Canary TestRun Failure"): StateChange(
        fixed=FIRE, by=("canary-name",), family=_CANARY_RUNS
    ),
    ("aws.synthetics", "Synthetics Canary TestRun Successful"): StateChange(
        fixed=RESOLVE, by=("canary-name",), family=_CANARY_RUNS
    ),
    # A canary that could not be created, updated or started (ERROR) fires; running or ready
    # resolves; a canary on its way or stopped by someone changes no ticket.
    ("aws.synthetics", "Synthetics Canary Status Change"): StateChange(
        key="current-state",
        fires=_states("ERROR"),
        resolves=_states("RUNNING", "READY"),
        quiet=_states("CREATING", "STARTING", "UPDATING", "STOPPING", "STOPPED", "DELETING"),
        by=("canary-name",),
    ),
    # An instance waiting on a lifecycle hook: the hook's owner acts on it, no ticket does.
    ("aws.autoscaling", "EC2 Instance-launch Lifecycle Action"): StateChange(routine=True),
    ("aws.autoscaling", "EC2 Instance-terminate Lifecycle Action"): StateChange(routine=True),
    **_instance_refreshes(),
    # The service's ARN (its resources) identifies it; the deployment id is new every time.
    ("aws.ecs", "ECS Deployment State Change"): StateChange(
        key="eventName",
        fires=_states("SERVICE_DEPLOYMENT_FAILED"),
        resolves=_states("SERVICE_DEPLOYMENT_COMPLETED"),
        quiet=_states("SERVICE_DEPLOYMENT_IN_PROGRESS"),
        rank=_ecs_level,
    ),
    # The service's health: a warning or error fires, its steady state resolves; its other
    # INFO actions change nothing (its `eventName` is no CloudTrail call's). The WARN and
    # ERROR names ECS documents (ecs_service_events.html) fire as known states; one AWS adds
    # later fires too, with the log note naming it.
    ("aws.ecs", "ECS Service Action"): StateChange(
        key="eventName",
        fires=_states(
            "SERVICE_TASK_START_IMPAIRED",
            "SERVICE_DISCOVERY_INSTANCE_UNHEALTHY",
            "VPC_LATTICE_TARGET_UNHEALTHY",
            "SERVICE_DAEMON_PLACEMENT_CONSTRAINT_VIOLATED",
            "ECS_OPERATION_THROTTLED",
            "SERVICE_DISCOVERY_OPERATION_THROTTLED",
            "SERVICE_TASK_PLACEMENT_FAILURE",
            "SERVICE_TASK_CONFIGURATION_FAILURE",
        ),
        resolves=_states("SERVICE_STEADY_STATE"),
        quiet=_states(
            "TASKSET_STEADY_STATE",
            "CAPACITY_PROVIDER_STEADY_STATE",
            "SERVICE_DESIRED_COUNT_UPDATED",
            "TASKS_STOPPED",
            "SERVICE_DEPLOYMENT_IN_PROGRESS",
            "SERVICE_DEPLOYMENT_COMPLETED",
        ),
        rank=_ecs_level,
    ),
    # An IAM Access Analyzer finding (a resource shared outside the zone of trust, or one it
    # cannot analyze): its `id` is the finding's, kept through its status changes, and the
    # event's one resource is the analyzer, which all its findings share. ACTIVE fires;
    # archived (by a person or an archive rule), resolved (the access removed) or deleted
    # resolves.
    # Internal access findings name theirs `id` too; unused access findings `findingId`.
    **{
        ("aws.access-analyzer", kind): StateChange(
            derive=_access_finding_state,
            fires=_states("ACTIVE"),
            resolves=_states("ARCHIVED", "RESOLVED", _FINDING_DELETED),
            by=("resource", finding_id),
        )
        for kind, finding_id in (
            ("Access Analyzer Finding", "id"),
            ("Internal Access Finding", "id"),
            ("Unused Access Finding for IAM entities", "findingId"),
        )
    },
    # A managed daemon that cannot start its task on an instance: the event's resource is the
    # task (new every attempt) or none (no task created), so the daemon is the incident,
    # whichever instance it failed on. ECS sends no event when the daemon starts again.
    ("aws.ecs", "ECS Daemon Service Action"): StateChange(
        key="eventName",
        fires=_states("DAEMON_TASK_START_IMPAIRED"),
        by=("daemonArn",),
        rank=_ecs_level,
    ),
    # A daemon's deployments, keyed by the daemon (their resource): a failed rollback fires
    # (ECS's one ERROR), a deployment or rollback that succeeded resolves (every daemon task
    # runs healthy), and the steps in between change no ticket.
    ("aws.ecs", "ECS Daemon Deployment State Change"): StateChange(
        key="eventName",
        fires=_states("DAEMON_DEPLOYMENT_ROLLBACK_FAILED"),
        resolves=_states("DAEMON_DEPLOYMENT_SUCCESSFUL", "DAEMON_DEPLOYMENT_ROLLBACK_SUCCESSFUL"),
        quiet=_states(
            "DAEMON_DEPLOYMENT_PENDING",
            "DAEMON_DEPLOYMENT_IN_PROGRESS",
            "DAEMON_DEPLOYMENT_STOPPED",
            "DAEMON_DEPLOYMENT_STOP_REQUESTED",
            "DAEMON_DEPLOYMENT_ROLLBACK_IN_PROGRESS",
        ),
        rank=_ecs_level,
    ),
    # A new task per attempt: a crash loop is one incident of the service's stopped tasks.
    # A task stopped as planned (a deployment, a scale-in, a user, a clean exit) is none.
    ("aws.ecs", "ECS Task State Change"): StateChange(
        derive=aws_outcomes.task_stop,
        fires=_states("STOPPED"),
        quiet=_states(
            *aws_outcomes.PLANNED_STOPS,
            "PROVISIONING",
            "PENDING",
            "ACTIVATING",
            "RUNNING",
            "DEACTIVATING",
            "STOPPING",
            "DEPROVISIONING",
        ),
        by=("clusterArn", "group", "lastStatus"),
    ),
    # An array job's children share its name (their ids are its id and ":<index>"): a child's
    # failure is the array's incident; a child's success, not the array's, changes none.
    ("aws.batch", "Batch Job State Change"): StateChange(
        derive=_batch_state,
        fires=_states("FAILED"),
        resolves=_states("SUCCEEDED"),
        quiet=_states("SUBMITTED", "PENDING", "RUNNABLE", "STARTING", "RUNNING", _CHILD_SUCCEEDED),
        by=("jobQueue", "jobName"),
    ),
    ("aws.backup", "Backup Job State Change"): StateChange(
        key="state",
        fires=_states("FAILED", "ABORTED", "EXPIRED"),
        resolves=_states("COMPLETED"),
        quiet=_states("CREATED", "PENDING", "RUNNING", "ABORTING"),
        by=("resourceArn",),
    ),
    ("aws.backup", "Copy Job State Change"): StateChange(
        key="state",
        fires=_states("FAILED", "ABORTED"),
        resolves=_states("COMPLETED"),
        quiet=_states("CREATED", "RUNNING"),
        by=("resourceArn",),
    ),
    # A restore job is new every time: restores of one resource (its `sourceResourceArn`, as
    # a backup job's is its `resourceArn`) are one incident, closed by the next that
    # completes. A restore that names no source is keyed by its resource type, as before.
    ("aws.backup", "Restore Job State Change"): StateChange(
        key="status",
        fires=_states("FAILED", "ABORTED"),
        resolves=_states("COMPLETED"),
        quiet=_states("CREATED", "PENDING", "RUNNING"),
        by=("resourceType",),
        also=("sourceResourceArn",),
    ),
    # A cluster's id is new with every cluster; a scheduled cluster keeps its name.
    ("aws.emr", "EMR Cluster State Change"): StateChange(
        key="state",
        fires=_states("TERMINATED_WITH_ERRORS"),
        resolves=_states("RUNNING", "WAITING", "TERMINATED"),
        quiet=_states("STARTING", "BOOTSTRAPPING", "TERMINATING"),
        by=("name",),
    ),
    # A step by its cluster's name, as the cluster's own events are keyed: a transient
    # cluster has a new id every run, and its step's success must close last run's failure.
    ("aws.emr", "EMR Step Status Change"): StateChange(
        key="state",
        fires=_states("FAILED"),
        resolves=_states("COMPLETED"),
        quiet=_states("PENDING", "RUNNING", "CANCEL_PENDING", "CANCELLED", "INTERRUPTED"),
        by=("cluster", "name"),
        named_by=_emr_step_cluster,
    ),
    # A cluster's instance group or fleet: resizing is routine, running again resolves an
    # arrested or suspended one.
    ("aws.emr", "EMR Instance Group State Change"): _emr_capacity("instanceGroupId"),
    ("aws.emr", "EMR Instance Fleet State Change"): _emr_capacity("instanceFleetId"),
    ("aws.sagemaker", "SageMaker Training Job State Change"): StateChange(
        key="TrainingJobStatus",
        fires=_states("Failed"),
        resolves=_states("Completed"),
        quiet=_states("InProgress", "Stopping", "Stopped"),
    ),
    ("aws.sagemaker", "SageMaker Processing Job State Change"): _sagemaker_job(
        "ProcessingJobStatus"
    ),
    ("aws.sagemaker", "SageMaker Transform Job State Change"): _sagemaker_job("TransformJobStatus"),
    ("aws.sagemaker", "SageMaker HyperParameter Tuning Job State Change"): _sagemaker_job(
        "HyperParameterTuningJobStatus"
    ),
    # The endpoint (its resources) outlives its updates: failed fires, in service resolves.
    ("aws.sagemaker", "SageMaker Endpoint State Change"): StateChange(
        key="EndpointStatus",
        fires=_states(*_spellings("Failed", "OutOfService", "UpdateRollbackFailed")),
        resolves=_states(*_spellings("InService")),
        quiet=_states(
            *_spellings("Creating", "Updating", "SystemUpdating", "RollingBack", "Deleting")
        ),
    ),
    # A pipeline's executions (new every time) share the pipeline.
    ("aws.sagemaker", "SageMaker Model Building Pipeline Execution Status Change"): StateChange(
        key="currentPipelineExecutionStatus",
        fires=_states("Failed"),
        resolves=_states("Succeeded"),
        quiet=_states("Executing", "Stopping", "Stopped"),
        by=("pipelineArn",),
    ),
    # Its resources are empty: the repository and the action (a push, a deletion) are named.
    ("aws.ecr", "ECR Image Action"): StateChange(
        key="result",
        fires=_states("FAILURE"),
        resolves=_states("SUCCESS"),
        by=("repository-name", "action-type"),
    ),
    ("aws.ecr", "ECR Replication Action"): StateChange(
        key="result",
        fires=_states("FAILED", "FAILURE"),
        resolves=_states("SUCCESS"),
        by=("repository-name",),
    ),
    # The cached repository (its resources) and its upstream's sync.
    ("aws.ecr", "ECR Pull Through Cache Action"): StateChange(
        key="sync-status",
        fires=_states("FAILED", "FAILURE"),
        resolves=_states("SUCCESS"),
    ),
    # The repository's images: one with CRITICAL or HIGH findings fires, a clean one resolves;
    # the worst level counted is the severity.
    ("aws.ecr", "ECR Image Scan"): StateChange(
        derive=_scan_result,
        fires=_states(_VULNERABLE, "FAILED"),
        resolves=_states(_CLEAN),
        by=("repository-name",),
        rank=_worst_finding,
    ),
    # A deployment group's deployments (the deployment id is new every time), keyed as the
    # group's SNS trigger keys it: a failed or stopped one fires, a success resolves; one
    # started or waiting to reroute traffic (blue/green's READY) changes no ticket.
    ("aws.codedeploy", "CodeDeploy Deployment State-change Notification"): StateChange(
        key="state",
        fires=_states("FAILURE", "STOP"),
        resolves=_states("SUCCESS"),
        quiet=_states("START", "READY"),
        by=("application", "deploymentGroup"),
        native=aws_codedeploy.group_event_identity,
    ),
    # A Run Command's runs (its command id is new every time), keyed as Run Command's SNS
    # notice keys them: the document's, an invocation's on its instance. Failed or timed out
    # fires, Success resolves; queued, running, delayed or cancelled by someone changes none.
    **{
        ("aws.ssm", kind): StateChange(
            key="status",
            fires=_states("Failed", "TimedOut"),
            resolves=_states("Success"),
            quiet=_states("Pending", "InProgress", "Delayed", "Cancelled", "Cancelling"),
            by=("document-name",),
            also=("instance-id",),
            native=aws_ssm.command_event_identity,
        )
        for kind in (
            "EC2 Command Status-change Notification",
            "EC2 Command Invocation Status-change Notification",
        )
    },
    # The cluster (resources) and the statement's name, when it has one: its id is new per run.
    ("aws.redshift-data", "Redshift Data Statement Status Change"): StateChange(
        key="state",
        fires=_states("FAILED"),
        resolves=_states("FINISHED"),
        quiet=_states("ABORTED"),
        also=("statementName",),
    ),
    # A stack (its id, which a stack of the same name made again does not share).
    ("aws.cloudformation", _STACK): StateChange(
        derive=_status_detail("status"),
        fires=_STACK_FAILED,
        resolves=_STACK_DONE,
        quiet=_STACK_UNDER_WAY,
        by=("stack-id",),
    ),
    # A resource's failure is its stack's (the stack's own failure or rollback follows):
    # the stack's incident; a resource that completed says nothing of the stack.
    ("aws.cloudformation", "CloudFormation Resource Status Change"): StateChange(
        derive=_status_detail("status"),
        fires=_states("CREATE_FAILED", "UPDATE_FAILED", "DELETE_FAILED", "IMPORT_FAILED"),
        quiet=_STACK_DONE | _STACK_UNDER_WAY | _states("DELETE_SKIPPED", "IMPORT_COMPLETE"),
        by=("stack-id",),
        family=_STACK,
    ),
    # A stack drifted from its template fires; back in sync resolves.
    ("aws.cloudformation", "CloudFormation Drift Detection Status Change"): StateChange(
        derive=_status_detail("stack-drift-status"),
        fires=_states("DRIFTED"),
        resolves=_states("IN_SYNC"),
        quiet=_states("UNKNOWN", "NOT_CHECKED"),
        by=("stack-id",),
    ),
    # A stack set (its ARN; an operation's id is new every time): an operation that failed
    # fires, the stack set's next one that succeeded resolves, one under way changes none.
    ("aws.cloudformation", "CloudFormation StackSet Operation Status Change"): StateChange(
        derive=_status_detail("status"),
        fires=_states("FAILED"),
        resolves=_states("SUCCEEDED"),
        quiet=_states("RUNNING", "STOPPING", "STOPPED", "QUEUED"),
        by=("stack-set-arn",),
    ),
    # A snapshot's id is new every time: what it snapshots (a volume, an instance's volumes)
    # and how (createSnapshot, copySnapshot …) are the incident, when the event names them.
    ("aws.ec2", "EBS Snapshot Notification"): _ebs_result(),
    ("aws.ec2", "EBS Multi-Volume Snapshots Completion Status"): _ebs_result(),
    # The volume (its resources): an operation on it that failed fires, the next that
    # succeeded (created, attached, modified) resolves; a deletion or detachment is routine.
    ("aws.ec2", "EBS Volume Notification"): StateChange(
        key="result",
        fires=_states("failed"),
        resolves=_states("available", "attached", "reattached", "completed", "succeeded"),
        quiet=_states("deleted", "detached", "optimizing", "modifying"),
    ),
    # The image (its resources): failed fires, available resolves.
    ("aws.ec2", "EC2 AMI State Change"): StateChange(
        key="State",
        fires=_states("failed"),
        resolves=_states("available"),
        quiet=_states("pending", "deregistered", "disabled"),
    ),
    # A resource's scan coverage (its resources, and the scan type: a function's CODE scans
    # are not its PACKAGE scans): lost for a reason someone must fix fires, scanned again
    # (ACTIVE) resolves, and so does coverage ended on purpose or with the resource.
    ("aws.inspector2", "Inspector2 Coverage"): StateChange(
        derive=_coverage_state,
        fires=_COVERAGE_LOST | _states("INACTIVE"),
        resolves=_states(_COVERED) | _COVERAGE_ENDED,
        quiet=_COVERAGE_WAITING,
        also=("scanType",),
    ),
    # A DataSync task (its execution's ARN, the run cut off): a run that ended in ERROR
    # fires, the task's next run that succeeds resolves; a run under way changes nothing.
    ("aws.datasync", "DataSync Task Execution State Change"): StateChange(
        key="State",
        fires=_states("ERROR"),
        resolves=_states("SUCCESS"),
        quiet=_states(
            "QUEUED", "LAUNCHING", "PREPARING", "TRANSFERRING", "VERIFYING", "CANCELLING"
        ),
        run_of=_datasync_task,
    ),
    # A MediaConvert job (a new job every time, and nothing but its queue that jobs share): a
    # job in ERROR fires, keyed by its queue and error code, so jobs failing the same way in
    # one queue are one incident; its progress, completion, cancellation and queue hops change
    # nothing (a rule for every job's events opened a ticket per job that progressed).
    ("aws.mediaconvert", "MediaConvert Job State Change"): StateChange(
        key="status",
        fires=_states("ERROR"),
        quiet=_states(
            "SUBMITTED",
            "INPUT_INFORMATION",
            "PROGRESSING",
            "STATUS_UPDATE",
            "COMPLETE",
            "CANCELED",
            "QUEUE_HOP",
        ),
        by=("queue",),
        also=("errorCode",),
    ),
    # An EMR Serverless application's job, by its name when it has one (a run's id is new
    # every time, and the event names no resources): failed fires, success resolves.
    ("aws.emr-serverless", "EMR Serverless Job Run State Change"): StateChange(
        key="state",
        fires=_states("FAILED"),
        resolves=_states("SUCCESS"),
        quiet=_states(
            "SUBMITTED", "PENDING", "SCHEDULED", "RUNNING", "CANCELLING", "CANCELLED", "QUEUED"
        ),
        by=("applicationId",),
        also=("jobRunName",),
    ),
    # A workgroup's queries (the event names no resources; a query's id is new every time):
    # a failed query fires. A query that succeeded resolves nothing: it says nothing of
    # another query of its workgroup (an analyst's beside a failing ETL one).
    ("aws.athena", "Athena Query State Change"): StateChange(
        key="currentState",
        fires=_states("FAILED"),
        quiet=_states("QUEUED", "RUNNING", "SUCCEEDED", "CANCELLED"),
        by=("workgroupName",),
    ),
    # An Image Builder image (its build's ARN, version and build number cut off): a build
    # that failed fires, the next one available resolves; one under way changes nothing.
    ("aws.imagebuilder", "EC2 Image Builder Image State Change"): StateChange(
        derive=_image_state,
        fires=_states("FAILED"),
        resolves=_states("AVAILABLE"),
        quiet=_IMAGE_UNDER_WAY,
        run_of=_image_of,
    ),
    # An Amplify app's branch (a job's id is new every deploy): FAILED fires, SUCCEED (its
    # word) resolves, a deploy that started changes nothing.
    ("aws.amplify", "Amplify Deployment Status Change"): StateChange(
        key="jobStatus",
        fires=_states("FAILED"),
        resolves=_states("SUCCEED"),
        quiet=_states("STARTED", "CANCELLED"),
        by=("appId", "branchName"),
    ),
    # A secret's rotations (Secrets Manager's service events, named by `eventName`): failed
    # or abandoned fires, the secret's next rotation that succeeded resolves, one starting
    # changes nothing. Its other service events fire, noted, as any event triage cannot read.
    ("aws.secretsmanager", "AWS Service Event via CloudTrail"): StateChange(
        key="eventName",
        fires=_states("RotationFailed", "RotationAbandoned"),
        resolves=_states("RotationSucceeded"),
        quiet=_states("RotationStarted"),
        by=("secret",),
        named_by=_rotated_secret,
    ),
    # A MediaLive channel's or multiplex's alerts (its resources, and the alert's
    # `alarm_id`: an input lost is not an output failing): SET fires, CLEARED resolves.
    **{
        ("aws.medialive", kind): StateChange(
            key="alarm_state",
            fires=_states("SET"),
            resolves=_states("CLEARED"),
            also=("alarm_id",),
        )
        for kind in ("MediaLive Channel Alert", "MediaLive Multiplex Alert")
    },
    # A container instance (its resources): its agent disconnected, or its registration
    # failed, fires; active with its agent connected resolves; drained or deregistered by
    # someone, or on its way, changes no ticket.
    ("aws.ecs", "ECS Container Instance State Change"): StateChange(
        derive=_container_instance_state,
        fires=_states(_AGENT_DISCONNECTED, "REGISTRATION_FAILED"),
        resolves=_states("ACTIVE"),
        quiet=_states("DRAINING", "INACTIVE", "REGISTERING", "DEREGISTERING"),
    ),
    **_acm(),
    # A managed instance's compliance of one kind (its resources and `compliance-type`: its
    # patches are not its associations): non-compliant fires, compliant resolves.
    ("aws.ssm", "Configuration Compliance State Change"): StateChange(
        key="compliance-status",
        fires=_states("non_compliant"),
        resolves=_states("compliant"),
        also=("compliance-type",),
    ),
    # An image's or an instance's scan (its resources: the repository, the instance), read as
    # ECR's basic scans are: serious findings fire, the next scan without them resolves.
    ("aws.inspector2", "Inspector2 Scan"): StateChange(
        derive=_inspector_scan_result,
        fires=_states(_VULNERABLE),
        resolves=_states(_CLEAN),
        rank=_worst_finding,
    ),
    # An object in which a scan found malware (each object its own incident), or that the
    # scan could not read, fires; a clean or unsupported object changes no ticket, and
    # nothing resolves: a person closes a malware incident once the object is dealt with.
    ("aws.guardduty", "GuardDuty Malware Protection Object Scan Result"): StateChange(
        derive=_object_scan_result,
        fires=_states("THREATS_FOUND", "ACCESS_DENIED", "FAILED"),
        quiet=_states("NO_THREATS_FOUND", "UNSUPPORTED"),
        by=("bucket", "object"),
        named_by=_scanned_object,
        rank=_threat_rank,
    ),
    # The instance's resources identify it; stopped or terminated fires, running again resolves.
    ("aws.ec2", "EC2 Instance State-change Notification"): StateChange(
        key="state",
        fires=_states("stopping", "stopped", "shutting-down", "terminated"),
        resolves=_states("pending", "running"),
    ),
}


def reading(source: str, kind: str) -> StateChange | None:
    """How events of `source` and detail-type `kind` change a ticket, if triage knows."""
    return READINGS.get((source, kind))


def state_of(change: StateChange, detail: dict[str, Any]) -> Any:
    """An event's state as given (or as `derive` makes it); None for a detail-type that is
    its own state."""
    if change.derive is not None:
        return change.derive(detail)
    return detail.get(change.key) if change.key is not None else None


def is_known(change: StateChange, detail: dict[str, Any]) -> bool:
    """Whether the event's state is one `change` names (a detail-type that is its own state
    always is): an unknown one fires, and the log says so, as AWS may add states."""
    if change.key is None and change.derive is None:
        return True
    state = state_of(change, detail)
    folded = state.strip().lower() if isinstance(state, str) else ""
    return folded in change.fires | change.resolves | change.quiet


def status_of(change: StateChange | None, detail: dict[str, Any]) -> Status | None:
    """The ticket change of an event: fire, resolve, or None when its state changes nothing.
    A state that is not text or not known fires."""
    if change is None:
        return FIRE
    if change.routine:
        return None
    if change.key is None and change.derive is None:
        return change.fixed or FIRE
    state = state_of(change, detail)
    folded = state.strip().lower() if isinstance(state, str) else ""
    if folded in change.resolves:
        return RESOLVE
    if folded in change.quiet:
        return None
    return FIRE
