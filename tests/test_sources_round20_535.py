"""Sources, round 20 (helper 535): shapes teams send that earlier rounds had not seen. Each body
must be ticketed right (title, state, a resolve closing its firing), skipped with a reason, or
refused clearly: never a wrong incident."""

from __future__ import annotations

import copy
import json
from datetime import timedelta
from typing import Any

import pytest

from factories import T0
from recording_pipeline import Sink, pipeline_into
from triage.errors import InvalidAlertError
from triage.incidents import Action
from triage.models import Alert, Status
from triage.normalize import normalize_body, recognise_body
from triage.sqs.inbox import Message


async def _actions(bodies: list[dict[str, Any] | list[Any]]) -> list[Action]:
    """What the pipeline does with each body in turn, a minute apart."""
    pipeline = pipeline_into(Sink())
    actions: list[Action] = []
    for minute, body in enumerate(bodies):
        at = T0 + timedelta(minutes=minute)
        message = Message(f"m-{minute}", json.dumps(body), f"r-{minute}", 1, at, received_at=at)
        actions += [outcome.action for outcome in await pipeline.process(message)]
    return actions


def _one(body: dict[str, Any] | list[Any]) -> Alert:
    """The one alert `body` gives."""
    [alert] = normalize_body(json.dumps(body)).alerts
    return alert


# --- A Lambda invocation record inside an SQS record ------------------------------------------

_FUNCTION = "arn:aws:lambda:us-east-2:123456789012:function:my-function"

#: An asynchronous invocation's on-failure record
#: (https://docs.aws.amazon.com/lambda/latest/dg/invocation-async-retain-records.html,
#: "Example invocation record"), the event one no format reads.
_FAILURE: dict[str, Any] = {
    "version": "1.0",
    "timestamp": "2026-11-23T18:16:05.568Z",
    "requestContext": {
        "requestId": "e4b46cbf-b738-xmpl-8880-a18cdf61200e",
        "functionArn": f"{_FUNCTION}:$LATEST",
        "condition": "RetriesExhausted",
        "approximateInvokeCount": 3,
    },
    "requestPayload": {"ORDER_IDS": ["9e07af03-ce31-4ff3-xmpl-36dce652cb4f"]},
    "responseContext": {
        "statusCode": 200,
        "executedVersion": "$LATEST",
        "functionError": "Unhandled",
    },
    "responsePayload": {
        "errorMessage": "RequestId: e4b46cbf Process exited before completing request"
    },
}


def _sqs_record(body: dict[str, Any], message_id: str = "059f36b4") -> dict[str, Any]:
    """An SQS record as Lambda's SQS event (and an EventBridge Pipe) hands it over
    (https://docs.aws.amazon.com/lambda/latest/dg/with-sqs.html, "Example standard queue
    message event"), its body the given JSON."""
    return {
        "messageId": f"{message_id}-87a3-44ab-83d2-661975830a7d",
        "receiptHandle": "AQEBwJnKyrHigUMZj6rYigCgxlaS3SLy0a",
        "body": json.dumps(body),
        "attributes": {
            "ApproximateReceiveCount": "1",
            "SentTimestamp": "1545082649183",
            "SenderId": "AIDAIENQZJOLO23YVJ4VO",
            "ApproximateFirstReceiveTimestamp": "1545082649185",
        },
        "messageAttributes": {},
        "md5OfBody": "e4e68fb7bd0e697a0ae8f1bb342846b3",
        "eventSource": "aws:sqs",
        "eventSourceARN": "arn:aws:sqs:us-east-2:123456789012:lambda-failures",
        "awsRegion": "us-east-2",
    }


def _sent(record: dict[str, Any], how: str) -> dict[str, Any] | list[Any]:
    """`record` queued the way a team's wiring delivers it: in a function's SQS event, or as
    an EventBridge Pipe's SQS record, alone or in a batch of one."""
    if how == "sqs-event":
        return {"Records": [_sqs_record(record)]}
    if how == "pipe-record":
        return _sqs_record(record)
    return [_sqs_record(record)]


_WAYS = ["sqs-event", "pipe-record", "pipe-batch"]


@pytest.mark.parametrize("how", _WAYS)
def test_a_failure_record_inside_an_sqs_record_is_the_function_s_failure(how: str) -> None:
    """An on-failure record queued to SQS and forwarded in an SQS record is read as when it
    comes alone: the function's failure, with the same identity."""
    alone = _one(_FAILURE)
    recognised = recognise_body(json.dumps(_sent(_FAILURE, how)))
    [alert] = recognised.normalized.alerts
    assert recognised.format == "lambda-async-failure"
    assert alert.title.startswith("Lambda my-function failed an asynchronous invocation")
    assert alert.identity == alone.identity


@pytest.mark.parametrize("how", _WAYS)
def test_an_alert_s_invocation_record_inside_an_sqs_record_is_that_alert(how: str) -> None:
    """A function that failed to forward an alert, its record forwarded in an SQS record: read
    as the alert, as the record alone is."""
    event = {"title": "Disk full on db-1", "status": "firing", "dedup_key": "disk-db-1"}
    record = copy.deepcopy(_FAILURE) | {"requestPayload": event}
    recognised = recognise_body(json.dumps(_sent(record, how)))
    assert recognised.format == "generic"
    [alert] = recognised.normalized.alerts
    assert alert.title == "Disk full on db-1"


async def test_a_forwarded_failure_record_repeats_the_incident_its_first_opened() -> None:
    """Through the pipeline: the record alone opens the function's ticket, the same failure
    forwarded in an SQS event repeats it."""
    actions = await _actions([_FAILURE, _sent(_FAILURE, "sqs-event")])
    assert actions == [Action.OPEN, Action.COUNT]


# --- ECS managed daemons: one incident per daemon ----------------------------------------------

_DAEMON = "arn:aws:ecs:us-west-2:123456789012:daemon/my-cluster/my-daemon"


def _daemon_start_impaired(task: str | None, instance: str) -> dict[str, Any]:
    """An `ECS Daemon Service Action` event as ECS documents it
    (https://docs.aws.amazon.com/AmazonECS/latest/developerguide/managed-daemons-events.html,
    "Example: TASK_FAILED_TO_RUN event" and "TASK_CREATION_FAILED event"): the task that failed
    (none when it could not be created) is the event's resource."""
    task_arn = f"arn:aws:ecs:us-west-2:123456789012:task/my-cluster/{task}" if task else None
    detail: dict[str, Any] = {
        "eventType": "WARNING",
        "eventName": "DAEMON_TASK_START_IMPAIRED",
        "clusterArn": "arn:aws:ecs:us-west-2:123456789012:cluster/my-cluster",
        "containerInstanceArn": (
            f"arn:aws:ecs:us-west-2:123456789012:container-instance/my-cluster/{instance}"
        ),
        "daemonRevisionArn": (
            "arn:aws:ecs:us-west-2:123456789012:daemon-revision/my-cluster/my-daemon/"
            "a1b2c3d4-e5f6-7890-abcd-ef1234567890"
        ),
        "capacityProviderName": "my-capacity-provider",
        "daemonArn": _DAEMON,
        "daemonTaskDefinitionArn": (
            "arn:aws:ecs:us-west-2:123456789012:daemon-task-definition/my-daemon-td:1"
        ),
        "failureType": "TASK_FAILED_TO_RUN" if task else "TASK_CREATION_FAILED",
        "createdAt": "2026-03-24T12:00:00.000Z",
        "reason": "Task failed to reach RUNNING status: CannotPullContainerError",
    }
    if task_arn:
        detail["taskArn"] = task_arn
    return {
        "version": "0",
        "id": "12345678-1234-1234-1234-123456789012",
        "detail-type": "ECS Daemon Service Action",
        "source": "aws.ecs",
        "account": "123456789012",
        "time": "2026-03-24T12:00:00Z",
        "region": "us-west-2",
        "resources": [task_arn] if task_arn else [],
        "detail": detail,
    }


def test_a_daemon_s_failed_task_starts_are_one_incident_of_the_daemon() -> None:
    """Each failed start of a daemon's task (a new task every time, or none created) on any
    instance is the daemon's one incident, titled with the daemon and what went wrong."""
    alerts = [
        _one(_daemon_start_impaired("a1b2c3d4e5f6", "i-1")),
        _one(_daemon_start_impaired("0f9e8d7c6b5a", "i-2")),
        _one(_daemon_start_impaired(None, "i-3")),
    ]
    assert {json.dumps(alert.identity, sort_keys=True) for alert in alerts} == {
        json.dumps(alerts[0].identity, sort_keys=True)
    }
    assert _DAEMON in alerts[0].identity.values()
    assert all(alert.status is Status.FIRING for alert in alerts)
    assert "my-daemon" in alerts[0].title
    assert "DAEMON_TASK_START_IMPAIRED" in alerts[0].title


def test_two_daemons_failing_to_start_are_two_incidents() -> None:
    """A task that could not be created names no resource: two daemons failing so are still two
    incidents, not one of every daemon in the Region."""
    other = _daemon_start_impaired(None, "i-3")
    other["detail"]["daemonArn"] = _DAEMON.replace("my-daemon", "log-router")
    assert _one(other).identity != _one(_daemon_start_impaired(None, "i-3")).identity


def _daemon_deployment(event_name: str, event_type: str = "INFO") -> dict[str, Any]:
    """An `ECS Daemon Deployment State Change` event as ECS documents it (managed-daemons-
    events.html, "Example: Deployment pending event"), of the given name."""
    return {
        "version": "0",
        "id": "3329f79b-3dca-07f8-b1c2-5fe99f0b5e87",
        "detail-type": "ECS Daemon Deployment State Change",
        "source": "aws.ecs",
        "account": "111122223333",
        "time": "2026-03-05T15:54:41Z",
        "region": "us-west-2",
        "resources": ["arn:aws:ecs:us-west-2:111122223333:daemon/my-cluster/my-daemon"],
        "detail": {
            "eventType": event_type,
            "eventName": event_name,
            "clusterArn": "arn:aws:ecs:us-west-2:111122223333:cluster/my-cluster",
            "daemonArn": "arn:aws:ecs:us-west-2:111122223333:daemon/my-cluster/my-daemon",
            "daemonDeploymentArn": (
                "arn:aws:ecs:us-west-2:111122223333:daemon-deployment/my-cluster/my-daemon/"
                "0EYSiB0qap8xf0N76FsbE"
            ),
            "targetDaemonRevisionArn": (
                "arn:aws:ecs:us-west-2:111122223333:daemon-revision/my-cluster/my-daemon/"
                "85707969-3732-4b6a-a37d-5cefddd7d7dd"
            ),
            "updatedAt": "2026-03-05T15:54:41.618059641Z",
        },
    }


@pytest.mark.parametrize(
    "name", ["DAEMON_DEPLOYMENT_PENDING", "DAEMON_DEPLOYMENT_IN_PROGRESS", "DAEMON_DEPLOYMENT_STOP_REQUESTED",
             "DAEMON_DEPLOYMENT_ROLLBACK_IN_PROGRESS"],
)  # fmt: skip
def test_a_daemon_deployment_under_way_opens_no_ticket(name: str) -> None:
    """A daemon deployment that starts or is under way (its INFO events) opens no ticket."""
    result = normalize_body(json.dumps(_daemon_deployment(name)))
    assert result.alerts == ()
    assert result.skipped


async def test_a_daemon_s_failed_rollback_is_closed_by_its_next_successful_deployment() -> None:
    """A rollback that failed (ERROR) opens the daemon's ticket; its next successful deployment
    closes it."""
    failed = _daemon_deployment("DAEMON_DEPLOYMENT_ROLLBACK_FAILED", "ERROR")
    assert _one(failed).severity == "ERROR"
    actions = await _actions([failed, _daemon_deployment("DAEMON_DEPLOYMENT_SUCCESSFUL")])
    assert actions == [Action.OPEN, Action.CLOSE]


# --- Datadog templates that send $ALERT_TRANSITION as `transition` ------------------------------


def _datadog_transition(title: str, transition: str) -> dict[str, Any]:
    """A Webhooks integration payload as the templates teams copy write it (`"transition":
    "$ALERT_TRANSITION"`, https://docs.datadoghq.com/integrations/webhooks/#usage variables),
    its title the monitor's name without Datadog's state bracket."""
    return {
        "title": title,
        "body": "CPU above 90% for 10 minutes",
        "alert_type": "success" if transition == "Recovered" else "error",
        "transition": transition,
        "id": "1234567",
        "host": "web-1",
        "link": "https://app.datadoghq.com/monitors/1234567",
        "priority": "normal",
    }


def test_a_datadog_recovered_transition_without_a_title_bracket_resolves() -> None:
    """`transition: Recovered` under a title with no `[Recovered]` bracket resolves, keyed as
    its Triggered was."""
    fired = _one(_datadog_transition("CPU high on web-1", "Triggered"))
    recovered = _one(_datadog_transition("CPU high on web-1", "Recovered"))
    assert fired.status is Status.FIRING
    assert recovered.status is Status.RESOLVED
    assert recovered.identity == fired.identity


@pytest.mark.parametrize("transition", ["No Data", "Re-No Data"])
def test_a_datadog_no_data_transition_changes_no_ticket(transition: str) -> None:
    """A monitor gone to No Data opens no ticket, bracket or not, as Datadog's own format."""
    result = normalize_body(json.dumps(_datadog_transition("CPU high on web-1", transition)))
    assert result.alerts == ()
    assert result.skipped


async def test_a_datadog_transition_template_s_recovery_closes_its_ticket() -> None:
    """Through the pipeline the Triggered opens a ticket and the Recovered closes it."""
    bodies = [
        _datadog_transition("CPU high on web-1", "Triggered"),
        _datadog_transition("CPU high on web-1", "Recovered"),
    ]
    assert await _actions(bodies) == [Action.OPEN, Action.CLOSE]


# --- IAM Access Analyzer: one incident per finding --------------------------------------------


def _access_finding(finding: str, bucket: str, status: str = "ACTIVE") -> dict[str, Any]:
    """An `Access Analyzer Finding` event as IAM documents it
    (https://docs.aws.amazon.com/IAM/latest/UserGuide/access-analyzer-eventbridge.html,
    "Example event"): the analyzer is the event's one resource, the finding in `detail`."""
    return {
        "version": "0",
        "id": "11111111-2222-4444-aaaa-333333333333",
        "detail-type": "Access Analyzer Finding",
        "source": "aws.access-analyzer",
        "account": "111122223333",
        "time": "2026-11-21T01:22:33Z",
        "region": "us-west-2",
        "resources": ["arn:aws:access-analyzer:us-west-2:111122223333:analyzer/MyAnalyzer"],
        "detail": {
            "version": "1.0",
            "id": finding,
            "status": status,
            "resourceType": "AWS::S3::Bucket",
            "resource": f"arn:aws:s3:::{bucket}",
            "createdAt": "2026-11-20T04:58:50Z",
            "analyzedAt": "2026-11-21T01:22:22Z",
            "updatedAt": "2026-11-21T01:14:07Z",
            "accountId": "111122223333",
            "region": "us-west-2",
            "principal": {"AWS": "999988887777"},
            "action": ["s3:GetObject"],
            "condition": {},
            "isDeleted": False,
            "isPublic": False,
        },
    }


_FINDING = "22222222-dcba-4444-dcba-333333333333"


def test_two_access_analyzer_findings_are_two_incidents_naming_their_resource() -> None:
    """Two findings of one analyzer (two buckets shared outside the account) are two
    incidents, each titled with the bucket it is about."""
    first = _one(_access_finding(_FINDING, "my-bucket"))
    second = _one(_access_finding("33333333-dcba-4444-dcba-444444444444", "other-bucket"))
    assert first.status is Status.FIRING
    assert first.identity != second.identity
    assert "my-bucket" in first.title
    assert "other-bucket" in second.title


@pytest.mark.parametrize("status", ["ARCHIVED", "RESOLVED"])
async def test_an_archived_or_resolved_finding_closes_its_incident(status: str) -> None:
    """A finding archived (by a person or a rule) or resolved (the access was removed) closes
    the incident its ACTIVE event opened."""
    bodies = [
        _access_finding(_FINDING, "my-bucket"),
        _access_finding(_FINDING, "my-bucket", status),
    ]
    assert await _actions(bodies) == [Action.OPEN, Action.CLOSE]


def test_a_deleted_active_finding_resolves() -> None:
    """A finding deleted with its analyzer keeps its ACTIVE status but is gone (`isDeleted`):
    it resolves its incident rather than firing again."""
    deleted = _access_finding(_FINDING, "my-bucket")
    deleted["detail"]["isDeleted"] = True
    alert = _one(deleted)
    assert alert.status is Status.RESOLVED
    assert alert.identity == _one(_access_finding(_FINDING, "my-bucket")).identity


# --- A CloudTrail call is about the resources its record names ---------------------------------

_KEY = "arn:aws:kms:us-west-2:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab"


def _schedule_key_deletion(key: str) -> dict[str, Any]:
    """KMS's ScheduleKeyDeletion as an EventBridge rule on CloudTrail delivers it: the
    CloudTrail record (https://docs.aws.amazon.com/kms/latest/developerguide/
    ct-schedule-key-deletion.html) as the detail, the key in its `resources`; the event's own
    `resources` are empty, as for every API call."""
    return {
        "version": "0",
        "id": "3c4226b0-1e81-48a8-a333-7fa5f3cbd118",
        "detail-type": "AWS API Call via CloudTrail",
        "source": "aws.kms",
        "account": "111122223333",
        "time": "2026-11-23T18:58:30Z",
        "region": "us-west-2",
        "resources": [],
        "detail": {
            "eventVersion": "1.08",
            "userIdentity": {
                "type": "IAMUser",
                "principalId": "EX_PRINCIPAL_ID",
                "arn": "arn:aws:iam::111122223333:user/Alice",
                "accountId": "111122223333",
                "userName": "Alice",
            },
            "eventTime": "2026-11-23T18:58:30Z",
            "eventSource": "kms.amazonaws.com",
            "eventName": "ScheduleKeyDeletion",
            "awsRegion": "us-west-2",
            "sourceIPAddress": "192.0.2.0",
            "userAgent": "AWS Internal",
            "requestParameters": {"pendingWindowInDays": 20, "keyId": key.rsplit("/", 1)[-1]},
            "responseElements": {
                "keyId": key,
                "keyState": "PendingDeletion",
                "deletionDate": "Dec 13, 2026 18:58:30 PM",
            },
            "requestID": "ee408f36-ea01-422b-ac14-b0f147c68334",
            "eventID": "3c4226b0-1e81-48a8-a333-7fa5f3cbd118",
            "readOnly": False,
            "resources": [{"accountId": "111122223333", "type": "AWS::KMS::Key", "ARN": key}],
            "eventType": "AwsApiCall",
            "recipientAccountId": "111122223333",
        },
    }


def test_two_keys_scheduled_for_deletion_are_two_incidents_naming_their_key() -> None:
    """Two KMS keys scheduled for deletion are two incidents (the record names each key), each
    titled with its key; the same key scheduled again repeats its incident."""
    other = _KEY.replace("1234abcd-12ab", "0987dcba-09ba")
    first, again = _one(_schedule_key_deletion(_KEY)), _one(_schedule_key_deletion(_KEY))
    second = _one(_schedule_key_deletion(other))
    assert first.identity == again.identity != second.identity
    assert "key/1234abcd-12ab-34cd-56ef-1234567890ab" in first.title
    assert "ScheduleKeyDeletion" in first.title


# --- GitHub Actions: a workflow's runs on a branch are one incident ---------------------------


def _workflow_run(
    conclusion: str | None, run_id: int, branch: str = "main", action: str = "completed"
) -> dict[str, Any]:
    """A `workflow_run` webhook as GitHub documents it
    (https://docs.github.com/en/webhooks/webhook-events-and-payloads#workflow_run): the run,
    its workflow, the repository and who caused it."""
    return {
        "action": action,
        "workflow_run": {
            "id": run_id,
            "name": "CI",
            "node_id": "WFR_kwLOBXwqs84Bdxyz",
            "head_branch": branch,
            "head_sha": "acb5820ced9479c074f688cc328bf03f341a511d",
            "path": ".github/workflows/ci.yml",
            "display_title": "Update README.md",
            "run_number": run_id % 1000,
            "event": "push",
            "status": "completed" if action == "completed" else "in_progress",
            "conclusion": conclusion,
            "workflow_id": 161335,
            "check_suite_id": 414944374,
            "url": f"https://api.github.com/repos/octo-org/octo-repo/actions/runs/{run_id}",
            "html_url": f"https://github.com/octo-org/octo-repo/actions/runs/{run_id}",
            "created_at": "2026-11-23T10:00:00Z",
            "updated_at": "2026-11-23T10:05:00Z",
            "run_attempt": 1,
            "run_started_at": "2026-11-23T10:00:00Z",
            "head_commit": {
                "id": "acb5820ced9479c074f688cc328bf03f341a511d",
                "message": "Update README.md\n\nSigned-off-by: Octo <octo@example.com>",
                "author": {"name": "Octo", "email": "octo@example.com"},
            },
        },
        "workflow": {
            "id": 161335,
            "name": "CI",
            "path": ".github/workflows/ci.yml",
            "state": "active",
            "html_url": "https://github.com/octo-org/octo-repo/blob/main/.github/workflows/ci.yml",
        },
        "repository": {
            "id": 17273051,
            "name": "octo-repo",
            "full_name": "octo-org/octo-repo",
            "private": False,
            "html_url": "https://github.com/octo-org/octo-repo",
        },
        "organization": {"login": "octo-org", "id": 6811672},
        "sender": {"login": "octo-cat", "id": 583231, "type": "User"},
    }


def test_a_failed_workflow_run_fires_naming_workflow_branch_and_repository() -> None:
    """A completed run that failed fires, titled with the workflow, branch and repository, and
    linked to the run."""
    recognised = recognise_body(json.dumps(_workflow_run("failure", 30433642)))
    [alert] = recognised.normalized.alerts
    assert recognised.format == "github-actions"
    assert alert.status is Status.FIRING
    assert alert.title == "GitHub Actions: CI on main (octo-org/octo-repo) failed"
    assert alert.links["run"] == "https://github.com/octo-org/octo-repo/actions/runs/30433642"
    assert "Commit acb5820ced94: Update README.md" in alert.description


async def test_a_workflow_s_next_successful_run_closes_its_failure() -> None:
    """Two failed runs of one workflow on one branch are one ticket, which the next successful
    run closes."""
    bodies = [
        _workflow_run("failure", 30433642),
        _workflow_run("timed_out", 30433650),
        _workflow_run("success", 30433660),
    ]
    assert await _actions(bodies) == [Action.OPEN, Action.COUNT, Action.CLOSE]


def test_another_branch_s_failure_is_another_incident() -> None:
    """A feature branch failing is not main failing: its success never closes main's."""
    main = _one(_workflow_run("failure", 1))
    feature = _one(_workflow_run("failure", 2, branch="feature-x"))
    assert main.identity != feature.identity


@pytest.mark.parametrize(
    ("conclusion", "action"),
    [("cancelled", "completed"), ("skipped", "completed"), (None, "requested"),
     (None, "in_progress")],
)  # fmt: skip
def test_a_run_under_way_or_cancelled_changes_no_ticket(
    conclusion: str | None, action: str
) -> None:
    """A run requested, in progress, cancelled or skipped says nothing of the workflow's health:
    skipped with a reason, no ticket."""
    result = normalize_body(json.dumps(_workflow_run(conclusion, 5, action=action)))
    assert result.alerts == ()
    assert [skip.reason for skip in result.skipped] == ["no_state_change"]


# --- Cronitor -----------------------------------------------------------------------------------


def _cronitor(kind: str, environment: str = "production") -> dict[str, Any]:
    """A Cronitor webhook with the fields Cronitor documents
    (https://cronitor.io/docs/using-webhooks, "Webhook Fields")."""
    return {
        "id": "d3x0c1",
        "monitor": "Nightly backup",
        "description": "Nightly backup has not run since 2026-11-23 02:00 UTC",
        "type": kind,
        "rule": "not_on_schedule",
        "environment": environment,
        "group": None,
        "issue_url": "https://cronitor.io/app/issues/7fa1",
        "monitor_url": "https://cronitor.io/app/monitors/d3x0c1",
    }


async def test_a_cronitor_recovery_closes_its_alert() -> None:
    """A monitor's ALERT opens a ticket titled with the monitor and the rule it broke; its
    RECOVERY closes it."""
    alert = _one(_cronitor("ALERT"))
    assert alert.source == "cronitor"
    assert alert.title == "Nightly backup: not_on_schedule"
    assert await _actions([_cronitor("ALERT"), _cronitor("RECOVERY")]) == [
        Action.OPEN,
        Action.CLOSE,
    ]


def test_a_cronitor_monitor_in_another_environment_is_another_incident() -> None:
    """The same monitor failing in staging is not production's incident."""
    assert _one(_cronitor("ALERT")).identity != _one(_cronitor("ALERT", "staging")).identity


def test_a_cronitor_type_of_no_state_is_refused_naming_it() -> None:
    """A `type` that is neither ALERT nor RECOVERY is refused, naming it, not guessed at."""
    with pytest.raises(InvalidAlertError, match="cronitor type 'PAUSED'"):
        normalize_body(json.dumps(_cronitor("PAUSED")))


# --- Airbrake -----------------------------------------------------------------------------------


def _airbrake(error_id: str, times: int, notice: str) -> dict[str, Any]:
    """Airbrake's webhook body (the fields Zulip's Airbrake integration reads: `error` with its
    class, message, project and counts, and `airbrake_error_url`)."""
    return {
        "error": {
            "id": error_id,
            "error_message": "undefined method `name' for nil:NilClass",
            "error_class": "NoMethodError",
            "file": "/app/app/models/user.rb",
            "line_number": 312,
            "project": {"id": 1001, "name": "Storefront"},
            "last_notice": {
                "id": notice,
                "request_url": "https://shop.example.com/users/7",
                "backtrace": [],
            },
            "environment": "production",
            "severity": "error",
            "first_occurred_at": "2026-11-23T09:00:00.113447Z",
            "last_occurred_at": "2026-11-23T10:00:00.105127Z",
            "times_occurred": times,
        },
        "airbrake_error_url": f"https://airbrake.io/projects/1001/groups/{error_id}",
    }


def test_an_airbrake_error_fires_titled_with_its_class_message_and_project() -> None:
    """An Airbrake error group fires, titled with its class, message and project."""
    recognised = recognise_body(json.dumps(_airbrake("1212", 4, "12345678")))
    [alert] = recognised.normalized.alerts
    assert recognised.format == "airbrake"
    assert alert.title == "NoMethodError: undefined method `name' for nil:NilClass in Storefront"
    assert alert.links["source"] == "https://airbrake.io/projects/1001/groups/1212"


async def test_an_airbrake_error_occurring_again_repeats_its_incident() -> None:
    """Another notice of the same error group repeats its ticket; another group opens its own."""
    bodies = [
        _airbrake("1212", 4, "12345678"),
        _airbrake("1212", 10, "12345999"),
        _airbrake("1313", 1, "22222222"),
    ]
    assert await _actions(bodies) == [Action.OPEN, Action.COUNT, Action.OPEN]


def test_github_s_ping_of_a_new_workflow_runs_webhook_is_skipped_as_a_test() -> None:
    """The `ping` GitHub sends when the webhook is created (https://docs.github.com/en/webhooks/
    webhook-events-and-payloads#ping) is skipped as a test notification, not refused: GitHub
    would show the new webhook as failing."""
    ping = {
        "zen": "Design for failure.",
        "hook_id": 109948940,
        "hook": {
            "type": "Repository",
            "id": 109948940,
            "name": "web",
            "active": True,
            "events": ["workflow_run"],
            "config": {"content_type": "json", "insecure_ssl": "0", "url": "https://example.com"},
        },
        "repository": {"id": 17273051, "full_name": "octo-org/octo-repo"},
        "sender": {"login": "octo-cat", "id": 583231, "type": "User"},
    }
    recognised = recognise_body(json.dumps(ping))
    assert recognised.format == "github-actions"
    assert recognised.normalized.alerts == ()
    assert [skip.reason for skip in recognised.normalized.skipped] == ["test_notification"]


def test_an_alert_s_invocation_record_through_an_sns_destination_is_that_alert() -> None:
    """An on-failure destination that is an SNS topic the queue subscribes to, the record's
    event an alert: read as the alert, as the record alone and in an SQS record are."""
    event = {"title": "Disk full on db-1", "status": "firing", "dedup_key": "disk-db-1"}
    record = copy.deepcopy(_FAILURE) | {"requestPayload": event}
    envelope = {
        "Type": "Notification",
        "MessageId": "5b6f3a2e-0000-4000-8000-000000000001",
        "TopicArn": "arn:aws:sns:us-east-2:123456789012:lambda-failures",
        "Message": json.dumps(record),
        "Timestamp": "2026-11-23T18:16:06.000Z",
    }
    for body in (envelope, {"Records": [_sqs_record(envelope)]}):
        recognised = recognise_body(json.dumps(body))
        assert recognised.format == "generic"
        assert [alert.title for alert in recognised.normalized.alerts] == ["Disk full on db-1"]


def _unused_access(finding: str, role: str, status: str = "ACTIVE") -> dict[str, Any]:
    """An `Unused Access Finding for IAM entities` event as IAM documents it
    (access-analyzer-eventbridge.html, "Example unused access findings related events"): the
    finding's id is `findingId`, the analyzer the event's one resource."""
    return {
        "version": "0",
        "id": "dc7ce3ee-114b-3243-e249-7f10f9054b21",
        "detail-type": "Unused Access Finding for IAM entities",
        "source": "aws.access-analyzer",
        "account": "123456789012",
        "time": "2026-11-23T17:31:40Z",
        "region": "us-west-2",
        "resources": ["arn:aws:access-analyzer:us-west-2:123456789012:analyzer/unused"],
        "detail": {
            "findingId": finding,
            "resource": f"arn:aws:iam::111122223333:role/{role}",
            "resourceType": "AWS::IAM::Role",
            "accountId": "111122223333",
            "createdAt": "2026-11-23T17:29:18.758Z",
            "updatedAt": "2026-11-23T17:29:18.758Z",
            "analyzedAt": "2026-11-23T17:29:18.758Z",
            "previousStatus": "",
            "status": status,
            "version": "62160bda-8e94-46d6-ac97-9670930d8ffb",
            "isDeleted": False,
            "findingType": "UnusedPermission",
            "numberOfUnusedServices": 0,
            "numberOfUnusedActions": 1,
        },
    }


def _internal_access(finding: str, bucket: str, status: str = "ACTIVE") -> dict[str, Any]:
    """An `Internal Access Finding` event as IAM documents it (access-analyzer-eventbridge.html,
    "Example internal access findings events")."""
    body = _access_finding(finding, bucket, status)
    body["detail-type"] = "Internal Access Finding"
    body["detail"] |= {"findingType": "InternalAccess", "accessType": "INTRA_ACCOUNT"}
    return body


@pytest.mark.parametrize("make", [_unused_access, _internal_access])
async def test_unused_and_internal_access_findings_are_one_incident_each(make: Any) -> None:
    """Unused and internal access findings are keyed by their finding, not their analyzer: two
    are two tickets, and an archived one closes its own."""
    bodies = [
        make("b8ae0460-5d29-4922-b92a-ba956c986277", "role-a"),
        make("c9bf1571-6e3a-5033-c03b-cb067d097388", "role-b"),
        make("b8ae0460-5d29-4922-b92a-ba956c986277", "role-a", "ARCHIVED"),
    ]
    assert await _actions(bodies) == [Action.OPEN, Action.OPEN, Action.CLOSE]


def test_a_fork_s_pull_request_run_on_its_main_is_not_the_repository_s_main() -> None:
    """A pull request from a fork's `main` runs with head_branch "main" too: its failure is not
    the repository's main failing, and its success never closes main's incident."""
    fork = _workflow_run("failure", 30433700)
    fork["workflow_run"] |= {
        "event": "pull_request",
        "head_repository": {"id": 99, "full_name": "octocat/octo-repo"},
    }
    ours = _workflow_run("failure", 30433701)
    ours["workflow_run"]["head_repository"] = {"id": 17273051, "full_name": "octo-org/octo-repo"}
    forked, own = _one(fork), _one(ours)
    assert forked.identity != own.identity
    assert own.identity == _one(_workflow_run("failure", 30433702)).identity
    assert "octocat/octo-repo" in forked.title
