"""Notifications AWS services publish to an SNS topic themselves (RDS, DMS, Auto Scaling,
ElastiCache, Cost Anomaly Detection, CodeStar notification rules): read as alerts with stable
identities, resolved only where the service says the condition ended, hostile text bounded and
redacted."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest

from daemon_harness import Queues
from factories import view
from ingest_harness import queue_arn
from scaling import assert_linear
from test_normalize_hostile import HOSTILE_VALUES, _paths, _replace
from test_pipeline import rig
from triage.decode import decode_body
from triage.errors import DecodeError, InvalidAlertError, TriageError, UnknownFormatError
from triage.models import Alert, Status
from triage.normalize import (
    AWS_SNS_HINT,
    RAW_TEXT_HINT,
    Normalized,
    normalize_body,
    normalize_payload,
    recognise_body,
)
from triage.redact import Redactor
from triage.sqs.inbox import Message

PAYLOADS = Path(__file__).parent / "payloads" / "aws"

#: Each sample's format, source, status, title and fingerprint, pinned: a change to any of
#: them re-keys the incidents of teams already reading these topics.
SAMPLES = {
    "rds-failover-started.json": (
        "aws",
        Status.FIRING,
        "RDS db-instance orders-db: Multi-AZ instance failover started.",
        "2caf3e261a436b486a2475592a779ae6",
    ),
    "dms-task-stopped.json": (
        "aws",
        Status.FIRING,
        "DMS replication-task orders-cdc: Replication task has stopped.",
        "8358b15ca146392f4c300439af78668f",
    ),
    "autoscaling-launch-error.json": (
        "aws",
        Status.FIRING,
        "Auto Scaling could not launch an instance in web-asg",
        "515984a0979d050f098ba3e2c10d7c18",
    ),
    "elasticache-snapshot-failed.json": (
        "aws",
        Status.FIRING,
        "ElastiCache snapshot failed: sessions-0001-001",
        "5e81d300f8daac5c9ed26604b362cdcd",
    ),
    "cost-anomaly.json": (
        "aws",
        Status.FIRING,
        "AWS cost anomaly: Amazon Elastic Compute Cloud - Compute",
        "bc79e83fbf16481515c9ca4ab23ba971",
    ),
    "config-noncompliant.json": (
        "aws",
        Status.FIRING,
        "AWS Config: AWS::S3::Bucket orders-exports is NON_COMPLIANT with "
        "s3-bucket-public-read-prohibited",
        "62e2181da3e2c9d4402b893b9399af6c",
    ),
    "codestar-pipeline-failed.json": (
        "eventbridge",
        Status.FIRING,
        "CodePipeline Pipeline Execution State Change: checkout-deploy FAILED",
        "acecd720d39bc168c8d96de5e94d390c",
    ),
}


def envelope(name: str) -> dict[str, Any]:
    payload: dict[str, Any] = json.loads((PAYLOADS / name).read_text(encoding="utf-8"))
    return payload


def notice(name: str) -> dict[str, Any]:
    """The JSON the service published, inside sample `name`'s SNS envelope."""
    message: dict[str, Any] = json.loads(envelope(name)["Message"])
    return message


def wrapped(name: str, message: dict[str, Any], **changes: Any) -> str:
    """Sample `name`'s envelope carrying `message` instead, with envelope fields changed."""
    outer = envelope(name) | changes
    outer["Message"] = json.dumps(message)
    return json.dumps(outer)


def only(body: str) -> Alert:
    [alert] = normalize_body(body).alerts
    return alert


def rds(**changes: Any) -> Alert:
    message = notice("rds-failover-started.json") | changes
    return only(wrapped("rds-failover-started.json", message))


def rds_event(number: str) -> str:
    return f"http://docs.amazonwebservices.com/AmazonRDS/latest/UserGuide/USER_Events.html#RDS-EVENT-{number}"


@pytest.mark.parametrize("name", sorted(SAMPLES))
def test_each_sample_is_read_with_its_pinned_fingerprint(name: str) -> None:
    """Every sample, through SNS, is one alert of format `aws-notice` with the source, status,
    title and fingerprint pinned above."""
    source, status, title, fingerprint = SAMPLES[name]
    recognised = recognise_body((PAYLOADS / name).read_text(encoding="utf-8"))
    assert recognised.format == "aws-notice"
    [alert] = recognised.normalized.alerts
    assert (alert.source, alert.status, alert.title) == (source, status, title)
    assert alert.fingerprint == fingerprint


def test_an_rds_event_is_identified_by_resource_and_condition_never_by_time_or_text() -> None:
    """The identity is account, Region (from Source ARN), source type, source id and the
    condition: another time, message or console link is the same incident; the docs link is
    the runbook, the console link the resource's."""
    first = rds()
    assert first.identity == {
        "service": "rds",
        "account": "123456789012",
        "region": "eu-west-1",
        "source_type": "db-instance",
        "source_id": "orders-db",
        "condition": "failover",
    }
    again = rds(**{"Event Time": "2026-12-06 01:00:00.000", "Event Message": "started again"})
    assert again.fingerprint == first.fingerprint
    assert first.runbook_url == rds_event("0013")
    assert first.links == {
        "resource": "https://console.aws.amazon.com/rds/home?region=eu-west-1#dbinstance:id=orders-db"
    }
    other = rds(**{"Source ID": "users-db", "Source ARN": "arn:aws:rds:eu-west-1:1:db:users-db"})
    assert other.fingerprint != first.fingerprint


@pytest.mark.parametrize(
    ("start", "end"),
    [("0013", "0015"), ("0013", "0049"), ("0020", "0021"), ("0087", "0088"), ("0045", "0046")],
)
def test_the_rds_event_that_ends_a_condition_resolves_its_incident(start: str, end: str) -> None:
    """Failover started → completed, recovery started → complete, stopped → started, read
    replica error → replication resumed: the end resolves the start's incident."""
    firing = rds(**{"Event ID": rds_event(start)})
    resolved = rds(**{"Event ID": rds_event(end)})
    assert (firing.status, resolved.status) == (Status.FIRING, Status.RESOLVED)
    assert resolved.fingerprint == firing.fingerprint


def test_an_rds_event_of_no_pair_fires_as_an_incident_of_its_own() -> None:
    """Storage full (RDS-EVENT-0221) ends no condition and starts none RDS ends: it fires,
    its condition its own event id, apart from the failover incident."""
    full = rds(**{"Event ID": rds_event("0221")})
    assert full.status is Status.FIRING
    assert full.identity["condition"] == "RDS-EVENT-0221"
    assert full.fingerprint != rds().fingerprint


def test_the_same_rds_event_without_sns_has_the_same_fingerprint() -> None:
    """SNS raw message delivery (the notice alone as the body): the same incident, since the
    account and Region come from the Source ARN, not the topic."""
    raw = only(json.dumps(notice("rds-failover-started.json")))
    assert raw.fingerprint == rds().fingerprint


def test_an_older_rds_event_without_source_arn_takes_the_topics_account_and_region() -> None:
    """Before RDS sent `Source ARN`: the account and Region are the topic's."""
    message = notice("rds-failover-started.json")
    del message["Source ARN"]
    alert = only(wrapped("rds-failover-started.json", message))
    assert (alert.identity["account"], alert.identity["region"]) == ("123456789012", "eu-west-1")


def test_a_dms_event_names_its_task_on_the_links_second_line() -> None:
    """DMS sends no Source ID: the task is the "SourceId:" line of its Identifier Link, the
    Region the link's, the account the topic's; the event id's trailing space is not kept."""
    [alert] = normalize_body((PAYLOADS / "dms-task-stopped.json").read_text("utf-8")).alerts
    assert alert.identity == {
        "service": "dms",
        "account": "123456789012",
        "region": "eu-west-2",
        "source_type": "replication-task",
        "source_id": "orders-cdc",
        "condition": "DMS-EVENT-0079",
    }


def asg(event: str, **changes: Any) -> Normalized:
    message = notice("autoscaling-launch-error.json") | {"Event": event} | changes
    return normalize_body(wrapped("autoscaling-launch-error.json", message))


def test_an_auto_scaling_launch_after_a_launch_error_resolves_it() -> None:
    """A launch error fires; a successful launch in the same group resolves that incident; a
    termination error is another incident; the activity and request ids are not identity."""
    [error] = asg("autoscaling:EC2_INSTANCE_LAUNCH_ERROR").alerts
    [launched] = asg(
        "autoscaling:EC2_INSTANCE_LAUNCH",
        ActivityId="other",
        RequestId="other",
        StatusCode="InProgress",
    ).alerts
    [stuck] = asg("autoscaling:EC2_INSTANCE_TERMINATE_ERROR").alerts
    assert (error.status, launched.status) == (Status.FIRING, Status.RESOLVED)
    assert launched.fingerprint == error.fingerprint
    assert stuck.fingerprint != error.fingerprint
    assert stuck.title == "Auto Scaling could not terminate an instance in web-asg"


def test_auto_scalings_test_and_lifecycle_hook_notifications_are_skipped() -> None:
    """The test notification sent when a topic is configured, and a lifecycle hook's
    notification (for the hook's automation), change no ticket: Skipped, with a reason."""
    test = normalize_body((PAYLOADS / "autoscaling-test-notification.json").read_text("utf-8"))
    assert test.alerts == ()
    assert [s.reason for s in test.skipped] == ["test_notification"]
    hook = {
        "AutoScalingGroupName": "web-asg",
        "Service": "AWS Auto Scaling",
        "Time": "2026-12-05T04:09:59.517Z",
        "AccountId": "123456789012",
        "LifecycleTransition": "autoscaling:EC2_INSTANCE_TERMINATING",
        "RequestId": "r-2",
        "LifecycleActionToken": "t-1",
        "EC2InstanceId": "i-0853dfa8ce1627af9",
        "LifecycleHookName": "drain",
    }
    skipped = normalize_body(wrapped("autoscaling-launch-error.json", hook)).skipped
    assert [s.reason for s in skipped] == ["lifecycle_hook"]


def cache(message: dict[str, Any], **changes: Any) -> Normalized:
    return normalize_body(wrapped("elasticache-snapshot-failed.json", message, **changes))


def test_an_elasticache_snapshot_complete_resolves_the_failed_one() -> None:
    """SnapshotFailed fires and SnapshotComplete for the same node resolves it; the account and
    Region are the topic's; another topic's account is another incident."""
    [failed] = cache({"ElastiCache:SnapshotFailed": "sessions-0001-001"}).alerts
    [done] = cache({"ElastiCache:SnapshotComplete": "sessions-0001-001"}).alerts
    assert (failed.status, done.status) == (Status.FIRING, Status.RESOLVED)
    assert done.fingerprint == failed.fingerprint
    assert (failed.identity["account"], failed.identity["region"]) == ("123456789012", "eu-west-1")
    elsewhere = cache(
        {"ElastiCache:SnapshotFailed": "sessions-0001-001"},
        TopicArn="arn:aws:sns:eu-west-1:210987654321:cache-events",
    ).alerts[0]
    assert elsewhere.fingerprint != failed.fingerprint


def test_an_elasticache_body_of_many_events_is_read_to_a_limit_and_says_so() -> None:
    """A hostile notice of 500 events: 20 alerts and a note, not 500 tickets."""
    many = {f"ElastiCache:CacheNodesRebooted{n}": f"node-{n}" for n in range(500)}
    normalized = cache(many)
    assert len(normalized.alerts) == 20
    assert normalized.notes == ("aws ElastiCache notice: 480 more event(s) left out",)


def test_a_cost_anomaly_updated_again_is_the_same_incident() -> None:
    """The same anomaly notified again with a larger impact and later dates is a repeat; its
    details link is kept; another anomaly of the monitor is another incident."""
    first = only((PAYLOADS / "cost-anomaly.json").read_text("utf-8"))
    grown = notice("cost-anomaly.json") | {
        "anomalyEndDate": "2026-12-05T00:00:00Z",
        "impact": {"totalImpact": 900.5},
    }
    again = only(wrapped("cost-anomaly.json", grown, Timestamp="2026-12-05T09:00:00Z"))
    other = only(wrapped("cost-anomaly.json", notice("cost-anomaly.json") | {"anomalyId": "x-2"}))
    assert again.fingerprint == first.fingerprint
    assert other.fingerprint != first.fingerprint
    assert "totalImpact: 900.5" in again.description
    assert first.links["anomaly"].endswith("/anomalies/6de0dd1d-feb4-488a-a55d-ff130a7a285a")


def test_a_codestar_notification_is_the_eventbridge_event_it_carries() -> None:
    """A notification rule's message has EventBridge's fingerprint for the same event, and a
    pipeline execution that succeeded resolves the failed one."""
    message = notice("codestar-pipeline-failed.json")
    same_event = {key: value for key, value in message.items() if key != "detailType"}
    same_event |= {"detail-type": message["detailType"], "version": "0", "id": "e-1"}
    del same_event["notificationRuleArn"], same_event["additionalAttributes"]
    failed = only((PAYLOADS / "codestar-pipeline-failed.json").read_text("utf-8"))
    assert only(json.dumps(same_event)).fingerprint == failed.fingerprint
    succeeded = message | {"detail": message["detail"] | {"state": "SUCCEEDED"}}
    resolved = only(wrapped("codestar-pipeline-failed.json", succeeded))
    assert resolved.status is Status.RESOLVED
    assert resolved.fingerprint == failed.fingerprint


@pytest.mark.parametrize(
    ("name", "changes", "error"),
    [
        ("rds-failover-started.json", {"Event Source": {"x": 1}}, "Event Source"),
        ("rds-failover-started.json", {"Event ID": ""}, "Event ID"),
        ("rds-failover-started.json", {"Source ID": None, "Source ARN": None}, "names no source"),
        ("autoscaling-launch-error.json", {"AutoScalingGroupARN": None}, "AutoScalingGroupARN"),
        ("cost-anomaly.json", {"anomalyId": ["a"]}, "anomalyId"),
    ],
)
def test_a_notice_without_what_identifies_it_is_a_one_line_invalid_alert(
    name: str, changes: dict[str, Any], error: str
) -> None:
    """A recognised notice whose identity field is missing, empty or of the wrong type: a
    one-line InvalidAlertError naming the field, for the DLQ."""
    message = notice(name) | changes
    with pytest.raises(InvalidAlertError, match=error) as err:
        normalize_body(wrapped(name, message))
    assert "\n" not in str(err.value)


def test_an_elasticache_event_naming_an_object_is_invalid() -> None:
    """The node an ElastiCache event names must be text: an object is refused, not shown."""
    with pytest.raises(InvalidAlertError, match="ElastiCache:SnapshotFailed"):
        cache({"ElastiCache:SnapshotFailed": {"node": "x"}})


def test_display_fields_of_odd_types_never_refuse_a_notice() -> None:
    """Auto Scaling's Details as text, StatusCode as an object, Description as a number, an
    RDS Event Message as an array, a non-link Identifier Link: still alerts, read as text or
    passed over."""
    [alert] = asg(
        "autoscaling:EC2_INSTANCE_LAUNCH_ERROR", Details="none", StatusCode={"a": 1}, Description=7
    ).alerts
    assert "status_code" not in alert.labels
    odd = rds(**{"Event Message": ["a", "b"], "Identifier Link": "javascript:alert(1)"})
    assert odd.description == '["a","b"]'
    assert odd.links == {}


def test_hostile_text_is_cleaned_and_bounded() -> None:
    """Controls and bidi overrides leave the title; a megabyte message is cut to the
    description's 4,000 characters and the title to 200."""
    alert = rds(**{"Event Message": "fail\x1b[31mover\u202e " + "x " * 400_000})
    assert "\x1b" not in alert.title and "\u202e" not in alert.title
    assert len(alert.title) <= 200
    assert len(alert.description) <= 4_000


def test_unknown_json_through_sns_still_says_to_use_eventbridge() -> None:
    """An AWS service's SNS JSON that is none of these notices keeps the advice to route that
    service through EventBridge (an SES bounce has a reason of its own:
    test_normalize_aws_notices_more)."""
    unknown = {"version": "1.0", "content": {"description": "a service's own notice"}}
    with pytest.raises(UnknownFormatError) as err:
        normalize_body(wrapped("rds-failover-started.json", unknown))
    assert AWS_SNS_HINT in str(err.value)


def test_a_byte_order_mark_before_the_envelope_keeps_the_topic() -> None:
    """An envelope written with a byte-order mark (as a str): ElastiCache's account and Region
    are still read from its topic."""
    body = "\ufeff" + wrapped(
        "elasticache-snapshot-failed.json", notice("elasticache-snapshot-failed.json")
    )
    [alert] = normalize_body(body).alerts
    assert alert.identity["account"] == "123456789012"


def test_secrets_in_a_notice_are_redacted() -> None:
    """A password and an AWS secret key in an RDS event message: the Redactor removes both from
    the alert's description, as it does for every source."""
    secret = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"
    alert = rds(**{"Event Message": f"restore failed: password=hunter2-is-secret key={secret}"})
    shown = Redactor().text(alert.description)
    assert "hunter2-is-secret" not in shown
    assert secret not in shown


async def test_a_failover_opens_and_its_completion_closes_one_ticket_through_the_pipeline() -> None:
    """Through the pipeline: the failover started opens one ticket with its text redacted, the
    same event again is counted, the completion closes it."""
    r = rig()
    started = notice("rds-failover-started.json") | {
        "Event Message": "failover started; DSN postgres://app:hunter2-is-secret@db/orders"
    }
    done = started | {"Event ID": rds_event("0015"), "Event Time": "2026-12-05 04:03:00.000"}
    bodies = [started, started, done]
    for n, message in enumerate(bodies):
        body = wrapped("rds-failover-started.json", message)
        await r.pipeline.process(Message(f"m-{n}", body, f"rh-{n}", 1, None))
    assert r.sink.kinds() == ["open", "close"]
    assert r.summariser.calls == 1
    opened = r.sink.effects[0].alert
    assert "hunter2-is-secret" not in opened.description
    assert "[REDACTED" in opened.description


def test_an_rds_subscriptions_first_text_message_is_skipped() -> None:
    """The prose RDS sends before its first event ("This is a message to notify that RDS will
    attempt to send you event notifications …") opens no ticket: Skipped as a test."""
    text = (
        "This is a message to notify that RDS will attempt to send you event notifications of "
        "type db-instance to the topic arn:aws:sns:eu-west-1:123456789012:rds-events."
    )
    outer = envelope("rds-failover-started.json") | {"Message": text}
    normalized = normalize_body(json.dumps(outer))
    assert normalized.alerts == ()
    assert [s.reason for s in normalized.skipped] == ["test_notification"]


def test_an_event_id_in_lower_case_is_the_same_event() -> None:
    """ "rds-event-0221" is RDS-EVENT-0221: one incident whatever the case, and a lower-case
    completion still resolves its failover."""
    upper = rds(**{"Event ID": rds_event("0221")})
    lower = rds(**{"Event ID": rds_event("0221").lower()})
    assert lower.fingerprint == upper.fingerprint
    done = rds(**{"Event ID": rds_event("0015").lower()})
    assert (done.status, done.fingerprint) == (Status.RESOLVED, rds().fingerprint)


def test_a_dms_link_of_spaces_is_read_in_linear_time() -> None:
    """A DMS Identifier Link whose SourceId line is padded with thousands of spaces costs time
    in proportion to its length (the line is found without a backtracking regex)."""
    message = notice("dms-task-stopped.json")

    def read(n: int) -> None:
        link = "https://console.aws.amazon.com/dms/home\nSourceId: a" + " " * n + "b"
        normalize_payload(message | {"Identifier Link": link})

    assert_linear(read, 500)


def backup(message: str, state: str | None = "FAILED", **changes: Any) -> Normalized:
    """Sample AWS Backup notification with `message`; its State attribute `state` (None: no
    message attributes, as raw delivery sends it)."""
    outer = envelope("backup-job-failed.json") | {"Message": message} | changes
    if state is None:
        del outer["MessageAttributes"]
    else:
        outer["MessageAttributes"]["State"]["Value"] = state
    return normalize_body(json.dumps(outer))


FAILED = (
    "An AWS Backup job failed. Resource ARN : arn:aws:ec2:us-west-1:123456789012:volume/"
    "vol-012f345df6789012e. BackupJob ID : 1b2345b2-f22c-4dab-5eb6-bbc7890ed123"
)
COMPLETED = (
    "An AWS Backup job was completed successfully. Recovery point ARN: arn:aws:ec2:us-west-1:"
    "123456789012:volume/vol-012f345df6789012d. Resource ARN : arn:aws:ec2:us-west-1:"
    "123456789012:volume/vol-012f345df6789012e. BackupJob ID : 9c2345b2-f22c-4dab-5eb6-bbc7890ed999"
)


def test_an_aws_backup_job_that_completes_resolves_the_failed_one() -> None:
    """Backup's text notices (Subject "Notification from AWS Backup") are one incident per job
    type and resource: a failure fires, the next completed job of that resource resolves it,
    whatever the job ids; another resource is another incident. Before, every Backup notice on
    a topic was one never-resolving incident titled by the Subject."""
    [failed] = backup(FAILED).alerts
    assert failed.fingerprint == "b0f95664ee0625acf4ef94fa79c73280"
    assert failed.title == "An AWS Backup job failed: volume/vol-012f345df6789012e"
    [completed] = backup(COMPLETED, "COMPLETED").alerts
    assert (failed.status, completed.status) == (Status.FIRING, Status.RESOLVED)
    assert completed.fingerprint == failed.fingerprint
    [other] = backup(FAILED.replace("vol-012f345df6789012e", "vol-0ffff")).alerts
    assert other.fingerprint != failed.fingerprint


def test_an_aws_backup_notice_without_attributes_reads_its_first_sentence() -> None:
    """Raw delivery carries no message attributes: "failed" (and "failed to complete in time")
    fire, "completed successfully" resolves, the account is the topic's: the same incident."""
    [with_attributes] = backup(FAILED).alerts
    [failed] = backup(FAILED, None).alerts
    [late] = backup(FAILED.replace("failed.", "failed to complete in time."), None).alerts
    [completed] = backup(COMPLETED, None).alerts
    assert (failed.status, late.status, completed.status) == (
        Status.FIRING,
        Status.FIRING,
        Status.RESOLVED,
    )
    assert {failed.fingerprint, late.fingerprint, completed.fingerprint} == {
        with_attributes.fingerprint
    }


def test_an_aws_backup_job_started_changes_no_ticket() -> None:
    """A job that only started (State CREATED or RUNNING) is Skipped, not a ticket."""
    started = backup(FAILED.replace("failed", "has started"), "RUNNING")
    assert started.alerts == ()
    assert [s.reason for s in started.skipped] == ["in_progress"]


def test_other_text_on_a_backup_topic_is_still_prose() -> None:
    """A Backup-subject message naming no resource ARN (an EKS object notice) is the SNS text
    alert it was: titled by its Subject."""
    [alert] = backup("A Kubernetes resource failed to backup from your Amazon EKS Backup.").alerts
    assert alert.source == "sns"
    assert alert.title == "Notification from AWS Backup"


def beanstalk(transition: str, **changes: Any) -> Normalized:
    """The sample Elastic Beanstalk notification, its health transition `transition` ("Ok to
    Severe"), in its Subject and message as Beanstalk writes both."""
    outer = envelope("beanstalk-health-severe.json")
    for key in ("Subject", "Message"):
        outer[key] = outer[key].replace("from Ok to Severe", f"from {transition}")
    return normalize_body(json.dumps(outer | changes))


def test_an_elastic_beanstalk_environment_back_to_ok_resolves_its_health_incident() -> None:
    """Ok → Severe fires, Severe → Degraded is the same incident, Degraded → Ok resolves it:
    one incident per environment, though each transition has its own Subject (read as prose,
    each was a new incident and the recovery opened a ticket of its own)."""
    [severe] = beanstalk("Ok to Severe").alerts
    [degraded] = beanstalk("Severe to Degraded").alerts
    [ok] = beanstalk("Degraded to Ok").alerts
    assert severe.fingerprint == "d0a96b39ea837893882d693a00756e6e"
    assert (severe.status, degraded.status, ok.status) == (
        Status.FIRING,
        Status.FIRING,
        Status.RESOLVED,
    )
    assert severe.fingerprint == degraded.fingerprint == ok.fingerprint
    assert (severe.title, severe.severity) == (
        "Elastic Beanstalk checkout-prod: health Severe",
        "critical",
    )
    assert severe.labels["health"] == "Severe"
    other = beanstalk(
        "Ok to Severe",
        Message=envelope("beanstalk-health-severe.json")["Message"].replace(
            "checkout-prod", "checkout-staging"
        ),
    )
    assert other.alerts[0].fingerprint != severe.fingerprint


def test_an_elastic_beanstalk_operation_in_progress_changes_no_ticket() -> None:
    """Health Info (an operation in progress) or Pending is neither a problem nor its end:
    Skipped; another Beanstalk notice (no health transition) is still prose."""
    info = beanstalk("Ok to Info")
    assert info.alerts == ()
    assert [s.reason for s in info.skipped] == ["no_state_change"]
    deploy = beanstalk("x", Message="Timestamp: x\nMessage: Failed to deploy application.")
    assert deploy.alerts[0].source == "sns"


def test_a_codestar_notifications_failed_stage_is_shown() -> None:
    """What the notification rule adds (the failed stage and action) is in the description;
    the fingerprint stays the EventBridge event's."""
    alert = only((PAYLOADS / "codestar-pipeline-failed.json").read_text("utf-8"))
    assert '"failedStage":"Deploy"' in alert.description
    assert '"additionalInformation":"Deployment failed"' in alert.description
    assert alert.fingerprint == SAMPLES["codestar-pipeline-failed.json"][3]


def config(**changes: Any) -> Normalized:
    message = notice("config-noncompliant.json") | changes
    return normalize_body(wrapped("config-noncompliant.json", message))


def test_an_aws_config_resource_compliant_again_resolves_its_incident() -> None:
    """NON_COMPLIANT fires; COMPLIANT (or NOT_APPLICABLE: out of the rule's scope) for the same
    rule and resource resolves it; another resource is another incident; INSUFFICIENT_DATA
    changes no ticket."""
    [broken] = config().alerts
    assert broken.description.startswith("Compliance: COMPLIANT → NON_COMPLIANT")
    for word in ("COMPLIANT", "NOT_APPLICABLE"):
        result = notice("config-noncompliant.json")["newEvaluationResult"] | {
            "complianceType": word
        }
        [fixed] = config(newEvaluationResult=result).alerts
        assert (fixed.status, fixed.fingerprint) == (Status.RESOLVED, broken.fingerprint)
    [other] = config(resourceId="orders-imports").alerts
    assert other.fingerprint != broken.fingerprint
    unknown = {"complianceType": "INSUFFICIENT_DATA"}
    assert [s.reason for s in config(newEvaluationResult=unknown).skipped] == ["no_state_change"]


def test_aws_configs_other_notifications_are_skipped_not_dead_letters() -> None:
    """A delivery channel's topic also carries configuration item changes and rule evaluations
    started: each Skipped with one reason, none an alert or a dead letter."""
    started = {
        "awsAccountId": "123456789012",
        "awsRegion": "us-east-2",
        "configRuleNames": ["iam-password-policy"],
        "notificationCreationTime": "2026-12-05T03:55:21.339Z",
        "messageType": "ConfigRulesEvaluationStarted",
        "recordVersion": "1.0",
    }
    normalized = normalize_body(wrapped("config-noncompliant.json", started))
    assert normalized.alerts == ()
    assert [s.reason for s in normalized.skipped] == ["not_an_alert"]


def received(queues: Queues, count: int) -> list[str]:
    """`count` bodies from the queue, waiting (long polls, with a deadline) until all came."""
    client = queues.client()
    bodies: list[str] = []
    deadline = time.monotonic() + 10
    while len(bodies) < count and time.monotonic() < deadline:
        answer = client.receive_message(
            QueueUrl=queues.url, MaxNumberOfMessages=10, WaitTimeSeconds=1
        )
        bodies += [message["Body"] for message in answer.get("Messages", [])]
    assert len(bodies) == count
    return bodies


def test_notices_published_through_sns_to_the_queue_are_read(queues: Queues) -> None:
    """Through SNS (moto) to the queue, as the services publish them: an RDS event's JSON and
    AWS Backup's text with its State message attribute arrive in SNS's envelope and are read
    with the topic's account and Region, the Backup job's state from its attribute."""
    sns = boto3.client("sns", endpoint_url=queues.endpoint, region_name="us-east-1")
    topic = sns.create_topic(Name="aws-service-events")["TopicArn"]
    sns.subscribe(TopicArn=topic, Protocol="sqs", Endpoint=queue_arn(queues))
    rds_notice = notice("rds-failover-started.json")
    del rds_notice["Source ARN"]  # an older event: account and Region are the topic's
    sns.publish(TopicArn=topic, Subject="RDS Notification Message", Message=json.dumps(rds_notice))
    sns.publish(
        TopicArn=topic,
        Subject="Notification from AWS Backup",
        Message=COMPLETED,
        MessageAttributes={
            "EventType": {"DataType": "String", "StringValue": "BACKUP_JOB"},
            "State": {"DataType": "String", "StringValue": "COMPLETED"},
        },
    )
    alerts = [alert for body in received(queues, 2) for alert in normalize_body(body).alerts]
    by_service = {alert.identity["service"]: alert for alert in alerts}
    assert set(by_service) == {"rds", "backup"}
    assert (by_service["rds"].identity["account"], by_service["rds"].identity["region"]) == (
        "123456789012",
        "us-east-1",
    )
    assert by_service["rds"].identity["condition"] == "failover"
    assert by_service["backup"].status is Status.RESOLVED
    assert by_service["backup"].labels["state"] == "COMPLETED"


@pytest.mark.parametrize(
    "body",
    [
        FAILED,
        "AWS Budgets: team-x has exceeded your alert threshold",
        b"2026-12-05 nightly backup failed",
    ],
)
def test_a_text_body_says_raw_message_delivery_dropped_snss_envelope(body: str | bytes) -> None:
    """A text message an SNS subscription delivered raw (no envelope, so no Subject or topic)
    is a DecodeError whose one line says to turn raw delivery off; it said only "not valid
    JSON: Expecting value"."""
    with pytest.raises(DecodeError) as err:
        normalize_body(body)
    assert RAW_TEXT_HINT in str(err.value)
    assert "\n" not in str(err.value)


@pytest.mark.parametrize("body", ['{"title": "cut sho', "[1, 2", b"\xff\xfe text", "42", ""])
def test_broken_or_misplaced_json_gets_no_raw_delivery_advice(body: str | bytes) -> None:
    """JSON cut short, an array, bytes that are not UTF-8, a bare number or nothing: their own
    error, without the raw-delivery advice meant for text."""
    with pytest.raises(DecodeError) as err:
        normalize_body(body)
    assert RAW_TEXT_HINT not in str(err.value)


@pytest.mark.parametrize(
    "name",
    [
        "backup-job-failed.json",
        "beanstalk-health-severe.json",
        "cloudformation-resource-failed.json",
    ],
)
def test_a_text_notice_keeps_no_unsubscribe_link(name: str) -> None:
    """Anyone holding SNS's UnsubscribeURL can end the subscription: a Backup, Beanstalk or
    CloudFormation alert keeps it in no field, its raw envelope included, nor SNS's signature."""
    [alert] = normalize_body((PAYLOADS / name).read_text("utf-8")).alerts
    kept = alert.model_dump_json()
    assert "Unsubscribe" not in kept and "Signature" not in kept


def stack_event(**facts: str) -> Normalized:
    """The sample CloudFormation stack event with `facts` (its Key='value' lines) changed."""
    outer = envelope("cloudformation-resource-failed.json")
    lines = dict(line.split("=", 1) for line in outer["Message"].splitlines())
    lines |= {key: f"'{value}'" for key, value in facts.items()}
    outer["Message"] = "".join(f"{key}={value}\n" for key, value in lines.items())
    return normalize_body(json.dumps(outer))


STACK = {"ResourceType": "AWS::CloudFormation::Stack", "LogicalResourceId": "checkout-api"}


def test_a_stacks_failed_deployment_is_one_incident_closed_by_its_next_good_state() -> None:
    """A resource's CREATE_FAILED and the stack's ROLLBACK_IN_PROGRESS are one incident (the
    stack's); the stack's UPDATE_COMPLETE resolves it; a resource completing and anything in
    progress change nothing. Read as prose, every event of every stack on the topic was one
    never-resolving incident under the Subject."""
    [failed] = stack_event().alerts
    assert failed.fingerprint == "15a0bbc429f442f5b573bf65ec0df57b"
    assert failed.title == "CloudFormation checkout-api: loadBalancer CREATE_FAILED"
    assert failed.description.startswith("VPC vpc-38d62752 has no internet gateway")
    [rollback] = stack_event(ResourceStatus="ROLLBACK_IN_PROGRESS", **STACK).alerts
    [good] = stack_event(ResourceStatus="UPDATE_COMPLETE", **STACK).alerts
    assert (failed.status, rollback.status, good.status) == (
        Status.FIRING,
        Status.FIRING,
        Status.RESOLVED,
    )
    assert failed.fingerprint == rollback.fingerprint == good.fingerprint
    assert rollback.title == "CloudFormation checkout-api ROLLBACK_IN_PROGRESS"
    for quiet in (
        stack_event(ResourceStatus="CREATE_COMPLETE"),
        stack_event(ResourceStatus="UPDATE_IN_PROGRESS", **STACK),
    ):
        assert quiet.alerts == ()
        assert [s.reason for s in quiet.skipped] == ["no_state_change"]


def test_another_stack_is_another_incident_and_other_text_is_prose() -> None:
    """Another stack (its own StackId) is its own incident; text with a StackId that is no
    CloudFormation ARN is still an SNS text alert."""
    other_id = "arn:aws:cloudformation:eu-west-1:123456789012:stack/users-api/0c1d2e3f"
    [other] = stack_event(StackId=other_id, StackName="users-api").alerts
    assert other.fingerprint != stack_event().alerts[0].fingerprint
    [prose] = stack_event(StackId="my-stack").alerts
    assert prose.source == "sns"


def _garbage_outcomes(name: str) -> Iterator[Normalized | TriageError]:
    """Every field of sample `name` swapped in turn for each garbage value: in the notice the
    service published (read without its topic) and in the SNS envelope around it."""
    for value, read in ((decode_body(sample(name)), normalize_payload), (envelope(name), None)):
        for path in _paths(value):
            for garbage in HOSTILE_VALUES:
                mutated = _replace(value, path, garbage)
                try:
                    yield read(mutated) if read else normalize_body(json.dumps(mutated))
                except TriageError as exc:
                    yield exc


@pytest.mark.parametrize("name", sorted(p.name for p in PAYLOADS.glob("*.json")))
def test_every_field_replaced_by_garbage_fails_cleanly(name: str) -> None:
    """Any field of a notice or of its envelope swapped for garbage (null, a number, an
    object, bidi and NUL text …) gives alerts or a deliberate TriageError, never an
    unforeseen crash wrapped as one."""
    for outcome in _garbage_outcomes(name):
        if isinstance(outcome, TriageError):
            assert outcome.__cause__ is None, (name, outcome, outcome.__cause__)
            continue
        for alert in outcome.alerts:
            assert alert.title and alert.occurred_at.tzinfo is not None
            alert.model_dump_json().encode("utf-8")


def sample(name: str) -> str:
    return (PAYLOADS / name).read_text(encoding="utf-8")


#: Sample → text fields of the notice a sender controls (a path into the notice's JSON; for a
#: text notice, () is its whole Message).
SECRET_FIELDS: dict[str, tuple[tuple[str, ...], ...]] = {
    "rds-failover-started.json": (("Event Message",), ("Source ID",)),
    "dms-task-stopped.json": (("Event Message",),),
    "autoscaling-launch-error.json": (("StatusMessage",), ("Cause",), ("Description",)),
    "elasticache-snapshot-failed.json": (("ElastiCache:SnapshotFailed",),),
    "cost-anomaly.json": (("dimensionalValue",), ("monitorName",)),
    "config-noncompliant.json": (("newEvaluationResult", "annotation"), ("resourceId",)),
    "codestar-pipeline-failed.json": (("detail", "pipeline"),),
    "backup-job-failed.json": ((),),
    "beanstalk-health-severe.json": ((),),
    "cloudformation-resource-failed.json": ((),),
}
PASTED = " key AKIAIOSFODNN7EXAMPLE db postgres://app:hunter2-Sup3r-secret@db:5432/x "


@pytest.mark.parametrize("name", sorted(SECRET_FIELDS))
def test_secrets_in_a_notices_text_never_reach_the_redacted_view(name: str) -> None:
    """An access key and a DSN password pasted into a notice's text (its message, a reason, a
    resource id, a text notice's Message) are gone from everything the sinks and the prompt
    render from: title, description, labels and the raw excerpt."""
    outer = envelope(name)
    if SECRET_FIELDS[name] == ((),):
        outer["Message"] = outer["Message"].replace(". ", "." + PASTED, 1) + PASTED
    else:
        message = notice(name)
        for path in SECRET_FIELDS[name]:
            node = message
            for key in path[:-1]:
                node = node[key]
            node[path[-1]] = f"{node[path[-1]]}{PASTED}"
        outer["Message"] = json.dumps(message)
    alerts = normalize_body(json.dumps(outer)).alerts
    assert alerts
    for alert in alerts:
        shown = view(alert).text
        assert "AKIAIOSFODNN7EXAMPLE" not in shown and "hunter2-Sup3r-secret" not in shown, shown
