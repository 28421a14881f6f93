"""Red team, round 4: sources as nobody has sent them yet. Each source's alarm or alert is
carried through its states and delivery forms by the real normaliser and pipeline (in memory),
and what a user expects is asserted: the right status, one incident per alarm, a resolve that
closes it, and nothing lost or invented. A behaviour that holds is one chunked test; each bug
found was a strict xfail, and each has since been fixed."""

from __future__ import annotations

import copy
import json
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

from case_chunks import assert_each
from factories import T0
from recording_pipeline import Sink, pipeline_into
from triage.models import Status
from triage.normalize import normalize_body
from triage.sqs.inbox import Message

PAYLOADS = Path(__file__).parent / "payloads"


def _sample(name: str) -> dict[str, Any]:
    value: dict[str, Any] = json.loads((PAYLOADS / name).read_text(encoding="utf-8"))
    return value


async def _lifecycle(bodies: list[dict[str, Any]]) -> tuple[list[list[str]], list[str]]:
    """What one fresh pipeline decides for each body in turn (a minute apart), and the effects
    its sink received, in order."""
    sink = Sink()
    pipeline = pipeline_into(sink)
    actions = []
    for minute, body in enumerate(bodies):
        at = T0 + timedelta(minutes=minute)
        message = Message(f"m-{minute}", json.dumps(body), f"r-{minute}", 1, at, received_at=at)
        actions.append([str(outcome.action) for outcome in await pipeline.process(message)])
    return actions, [str(effect.kind) for effect in sink.effects]


# --- the shapes: each a function of the state it is in ----------------------------------------


def _eventbridge_alarm(state: str, at: str, **detail: Any) -> dict[str, Any]:
    """A `CloudWatch Alarm State Change` event of the sample alarm in `state` at `at`."""
    event = _sample("cloudwatch/eventbridge-alarm.json")
    event["id"] = f"eb-{state}-{at}"
    event["detail"]["state"] |= {"value": state, "timestamp": at}
    event["detail"] |= detail
    return event


def _anomaly_by_eventbridge(state: str) -> dict[str, Any]:
    """The anomaly-detection alarm of `cloudwatch/sns-anomaly-detection.json` as EventBridge
    sends it: its metrics in `configuration`, its band a metric-math expression."""
    metrics = [
        {
            "id": "m1",
            "metricStat": {
                "metric": {
                    "namespace": "AWS/EC2",
                    "name": "NetworkIn",
                    "dimensions": {"InstanceId": "i-0e18"},
                },
                "period": 300,
                "stat": "Average",
            },
            "returnData": True,
        },
        {"id": "t1", "expression": "ANOMALY_DETECTION_BAND(m1, 3)", "returnData": True},
    ]
    event = _eventbridge_alarm(
        state,
        "2026-11-23T09:20:00.000+0000",
        alarmName="netin-anomaly",
        configuration={"description": "TEAM=payments | PRIORITY=P1", "metrics": metrics},
    )
    event["resources"] = ["arn:aws:cloudwatch:us-east-1:123456789012:alarm:netin-anomaly"]
    return event


def _composite_by_sns(state: str) -> dict[str, Any]:
    """The composite alarm of `cloudwatch/sns-composite.json` in `state`, later than its
    EventBridge sample."""
    envelope = _sample("cloudwatch/sns-composite.json")
    alarm = json.loads(envelope["Message"]) | {
        "NewStateValue": state,
        "OldStateValue": "ALARM",
        "StateChangeTime": "2026-11-23T10:30:00.000+0000",
    }
    return envelope | {"MessageId": f"sns-{state}", "Message": json.dumps(alarm)}


def _grafana_group(*states: str) -> dict[str, Any]:
    """The Grafana sample group with its alerts in `states` (a state per alert; fewer states:
    fewer alerts). The group's own status is `firing` while any alert is, as Grafana sends."""
    group = _sample("grafana/group-firing.json")
    alerts = []
    for alert, state in zip(group["alerts"], states, strict=False):
        ended = {"endsAt": "2026-11-23T09:30:00Z"} if state == "resolved" else {}
        alerts.append(alert | {"status": state} | ended)
    group["alerts"] = alerts
    group["status"] = "firing" if "firing" in states else "resolved"
    return group


def _second_resolved() -> dict[str, Any]:
    """The Grafana group once its first alert has gone: only the second, resolved."""
    group = _grafana_group("firing", "resolved")
    group["alerts"] = group["alerts"][1:]
    group["status"] = "resolved"
    return group


def _legacy(state: str) -> dict[str, Any]:
    """The legacy Grafana alert in `state`, its title prefixed as Grafana does."""
    legacy = _sample("grafana/legacy-alerting.json")
    return legacy | {"state": state, "title": f"[{state.title()}] Load peaking!"}


def _datadog(transition: str, priority: str = "[P1] ") -> dict[str, Any]:
    """A Datadog monitor named in Cyrillic with an emoji, for one host with an accent."""
    title = f"{priority}[{transition} on {{host:wéb-1}}] Ошибка оплаты 💳"
    return _sample("vendors/datadog-default-triggered.json") | {"title": title}


def _pagerduty(event_type: str, status: str, at: str) -> dict[str, Any]:
    """The sample PagerDuty v3 incident as `event_type` says it is `status` at `at`."""
    body = _sample("pagerduty/triggered.json")
    body["event"] |= {"event_type": event_type, "occurred_at": at, "id": event_type}
    body["event"]["data"]["status"] = status
    return body


def _opsgenie(action: str) -> dict[str, Any]:
    return _sample("opsgenie/create.json") | {"action": action}


def _pipeline_execution(state: str, execution: str) -> dict[str, Any]:
    """A CodePipeline pipeline execution (a new id every run) in `state`."""
    return {
        "version": "0",
        "id": f"cp-{execution}",
        "detail-type": "CodePipeline Pipeline Execution State Change",
        "source": "aws.codepipeline",
        "account": "123456789012",
        "time": "2026-11-23T09:10:00Z",
        "region": "eu-west-1",
        "resources": ["arn:aws:codepipeline:eu-west-1:123456789012:orders-deploy"],
        "detail": {"pipeline": "orders-deploy", "execution-id": execution, "state": state},
    }


def _script(status: str, title: str) -> dict[str, Any]:
    """A script's alert keyed by a dedup_key in Arabic, its title worded anew each time."""
    return {"title": title, "status": status, "dedup_key": "خطأ-الدفع/db-1", "team": "data"}


@dataclass(frozen=True)
class Life:
    """One alarm's messages in order and what the pipeline should decide for each."""

    name: str
    bodies: list[dict[str, Any]]
    expected: list[list[str]]

    def __repr__(self) -> str:
        return self.name


LIVES = [
    Life(
        "cloudwatch: raw ALARM, EventBridge ALARM, INSUFFICIENT_DATA, OK",
        [
            _sample("cloudwatch/raw-alarm.json"),
            _eventbridge_alarm("ALARM", "2026-11-23T09:00:30.000+0000"),
            _eventbridge_alarm("INSUFFICIENT_DATA", "2026-11-23T09:01:30.000+0000"),
            _eventbridge_alarm("OK", "2026-11-23T09:02:30.000+0000"),
        ],
        [["open"], ["count"], [], ["close"]],
    ),
    Life(
        "cloudwatch anomaly band: SNS ALARM, EventBridge INSUFFICIENT_DATA and OK",
        [
            _sample("cloudwatch/sns-anomaly-detection.json"),
            _anomaly_by_eventbridge("INSUFFICIENT_DATA"),
            _anomaly_by_eventbridge("OK"),
        ],
        [["open"], [], ["close"]],
    ),
    Life(
        "cloudwatch composite: EventBridge ALARM, SNS OK",
        [_sample("cloudwatch/eventbridge-composite.json"), _composite_by_sns("OK")],
        [["open"], ["close"]],
    ),
    Life(
        "grafana: both firing, one resolved, the other resolved alone",
        [
            _grafana_group("firing", "firing"),
            _grafana_group("resolved", "firing"),
            _second_resolved(),
        ],
        [["open", "open"], ["close", "count"], ["close"]],
    ),
    Life(
        "grafana legacy: alerting twice, then ok",
        [_legacy("alerting"), _legacy("alerting"), _legacy("ok")],
        [["open"], ["count"], ["close"]],
    ),
    Life(
        "datadog unicode monitor: Triggered, Re-Triggered, No Data, Recovered without a P",
        [
            _datadog("Triggered"),
            _datadog("Re-Triggered"),
            _datadog("No Data"),
            _datadog("Recovered", priority=""),
        ],
        [["open"], ["count"], [], ["close"]],
    ),
    Life(
        "pagerduty v3: triggered, acknowledged, unacknowledged, resolved",
        [
            _pagerduty("incident.triggered", "triggered", "2026-11-23T08:00:00Z"),
            _pagerduty("incident.acknowledged", "acknowledged", "2026-11-23T08:01:00Z"),
            _pagerduty("incident.unacknowledged", "triggered", "2026-11-23T08:31:00Z"),
            _pagerduty("incident.resolved", "resolved", "2026-11-23T08:40:00Z"),
        ],
        [["open"], [], ["count"], ["close"]],
    ),
    Life(
        "opsgenie: Create, Acknowledge, AddNote, Close",
        [_opsgenie("Create"), _opsgenie("Acknowledge"), _opsgenie("AddNote"), _opsgenie("Close")],
        [["open"], [], [], ["close"]],
    ),
    Life(
        "sentry metric alert: warning, critical, resolved",
        [
            _sample("sentry/metric-alert-warning.json"),
            _sample("sentry/metric-alert-critical.json"),
            _sample("sentry/metric-alert-resolved.json"),
        ],
        # Critical after warning raises the open ticket's priority: an update, at once.
        [["open"], ["update"], ["close"]],
    ),
    Life(
        "sentry: an issue alert's event, then its issue resolved",
        [_sample("sentry/event-alert.json"), _sample("sentry/issue-resolved.json")],
        [["open"], ["close"]],
    ),
    Life(
        "codepipeline: one run FAILED, the next run SUCCEEDED",
        [
            _pipeline_execution("FAILED", "e-1"),
            _pipeline_execution("STARTED", "e-2"),
            _pipeline_execution("SUCCEEDED", "e-2"),
        ],
        [["open"], [], ["close"]],
    ),
    Life(
        "script: unicode dedup_key, firing, FIRING reworded, RESOLVED reworded",
        [
            _script("firing", "Zahlungen schlagen fehl auf db-1"),
            _script("FIRING", "Zahlungen schlagen weiter fehl (12 times)"),
            _script("RESOLVED", "Zahlungen wieder normal"),
        ],
        [["open"], ["count"], ["close"]],
    ),
]


async def test_each_sources_alarm_is_one_incident_through_its_states_and_forms() -> None:
    """For every source, one alarm's messages through its states (and AWS's delivery forms)
    open one incident, count its repeats, change nothing for the states that are no change,
    and close it with the resolve: a ticket per incident, none lost and none invented."""
    decided = {life.name: await _lifecycle(life.bodies) for life in LIVES}
    assert_each(LIVES, lambda life: (decided[life.name][0], life.expected), name="life")


# --- bugs found -------------------------------------------------------------------------------


def _long_query_group() -> dict[str, Any]:
    """An Alertmanager group of two alerts from postgres_exporter's pg_stat_statements whose
    `query` labels are long SQL that differ only at their end, past 1,024 characters."""
    group = _sample("alertmanager/group-firing.json")
    head = "SELECT o.id, o.total FROM orders o JOIN customers c ON c.id = o.customer_id "
    head += "AND o.status IN ('new', 'paid') " * 40
    alerts = []
    for n, region in enumerate(("eu", "us")):
        alert = copy.deepcopy(group["alerts"][0])
        alert["labels"]["query"] = f"{head}WHERE c.region = '{region}'"
        alert["fingerprint"] = f"c8d3e9f0a1b2c3d{n}"  # Alertmanager: two alerts
        alerts.append(alert)
    group["alerts"] = alerts
    return group


def _dated_backup(day: str) -> dict[str, Any]:
    """A script's alert keyed by the export it backs up: 90 customers' folders and the day."""
    folders = "/".join(f"customer-{i:04d}" for i in range(90))
    return {"title": "Backup failed", "dedup_key": f"backup:/srv/exports/{folders}/{day}"}


def _resources(last: str) -> dict[str, Any]:
    """An event of a service triage reads from its envelope only (keyed by its type and
    resources), naming 21 volumes, the last `last`."""
    volumes = [f"vol-0{i:016x}" for i in range(20)] + [last]
    return {
        "version": "0", "id": f"dlm-{last}", "source": "aws.dlm",
        "detail-type": "DLM Policy State Change",
        "account": "123456789012", "time": "2026-11-23T09:00:00Z", "region": "eu-west-1",
        "resources": [f"arn:aws:ec2:eu-west-1:123456789012:volume/{v}" for v in volumes],
        "detail": {"state": "ERROR", "cause": "quota"},
    }  # fmt: skip


#: Two alerts each that their senders tell apart only past the identity's first 1,024
#: characters: one message holding both, or the two bodies apart.
LONG_IDENTITIES: dict[str, list[dict[str, Any]]] = {
    "alertmanager query labels": [_long_query_group()],
    "generic dedup_keys": [_dated_backup("2026-11-22"), _dated_backup("2026-11-23")],
    "eventbridge resources": [_resources("vol-0aaa"), _resources("vol-0bbb")],
}


def test_two_alerts_whose_identity_differs_only_past_1024_characters_are_two_incidents() -> None:
    """Alerts their senders tell apart (Alertmanager's own fingerprints differ; two dedup_keys;
    two volume sets) are two incidents, whatever the length of what tells them apart."""

    def fingerprints(name: str) -> tuple[int, int]:
        bodies = LONG_IDENTITIES[name]
        alerts = [a for body in bodies for a in normalize_body(json.dumps(body)).alerts]
        return len({a.fingerprint for a in alerts}), 2

    assert_each(list(LONG_IDENTITIES), fingerprints, name="pair")


def _ecs_stopped(group: str, stop_code: str, reason: str, exit_code: int) -> dict[str, Any]:
    """An `ECS Task State Change` of a task that stopped as `stop_code` says."""
    event = _sample("eventbridge/ecs-task-stopped.json")
    event["detail"] |= {
        "group": group,
        "stopCode": stop_code,
        "stoppedReason": reason,
        "containers": [{"name": "api", "exitCode": exit_code, "lastStatus": "STOPPED"}],
    }
    return event


#: Tasks that stopped as they were meant to: a rolling deployment replacing the old tasks, a
#: scale-in, and a scheduled one-off task that finished its work (exit code 0).
ROUTINE_STOPS = {
    "deployment replaced the task": _ecs_stopped(
        "service:checkout-api", "ServiceSchedulerInitiated",
        "Scaling activity initiated by (deployment ecs-svc/1234567890123456789)", 0,
    ),
    "service scaled in": _ecs_stopped(
        "service:checkout-api", "ServiceSchedulerInitiated",
        "Scaling activity initiated by (service checkout-api)", 0,
    ),
    "scheduled task finished": _ecs_stopped(
        "family:nightly-report", "EssentialContainerExited",
        "Essential container in task exited", 0,
    ),
}  # fmt: skip


def test_an_ecs_task_stopped_by_a_deployment_or_finished_cleanly_opens_no_ticket() -> None:
    """A task stopped by its service's scheduler or that exited 0 is no incident."""

    def firing(name: str) -> tuple[list[Status], list[Status]]:
        alerts = normalize_body(json.dumps(ROUTINE_STOPS[name])).alerts
        return [a.status for a in alerts if a.status is Status.FIRING], []

    assert_each(list(ROUTINE_STOPS), firing, name="stop")


def _aws_event(
    source: str, kind: str, resources: list[str], detail: dict[str, Any]
) -> dict[str, Any]:
    """An EventBridge event of `source` and detail-type `kind`, as AWS's documentation shows it."""
    return {
        "version": "0", "id": f"{kind}-{len(json.dumps(detail))}", "detail-type": kind,
        "source": source, "account": "123456789012", "time": "2026-11-23T09:05:00Z",
        "region": "eu-west-1", "resources": resources, "detail": detail,
    }  # fmt: skip


BUILD = "arn:aws:codebuild:eu-west-1:123456789012:build/orders-api-build:8745a7a9-c340-456a"
ASG = (
    "arn:aws:autoscaling:eu-west-1:123456789012:autoScalingGroup:3c4d5e6f-7a8b-4c9d-8e0f-"
    "1a2b3c4d5e6f:autoScalingGroupName/orders-web"
)

#: Events of services triage reads whose detail says what they did succeeded. A rule on the
#: service's whole source (`{"source": ["aws.codebuild"]}`, as the console proposes) sends them.
SUCCESSES = {
    "codebuild phase SUCCEEDED": _aws_event(
        "aws.codebuild", "CodeBuild Build Phase Change", [BUILD],
        {"project-name": "orders-api-build", "build-id": BUILD, "completed-phase": "BUILD",
         "completed-phase-status": "SUCCEEDED", "version": "1"},
    ),
    "auto scaling instance refresh succeeded": _aws_event(
        "aws.autoscaling", "EC2 Auto Scaling Instance Refresh Succeeded", [ASG],
        {"InstanceRefreshId": "c613620e-07e2-4ed2-a9e2-ef8258911ade",
         "AutoScalingGroupName": "orders-web"},
    ),
    "backup restore job COMPLETED": _aws_event(
        "aws.backup", "Restore Job State Change",
        ["arn:aws:backup:eu-west-1:123456789012:restore-job:1b2c3d4e"],
        {"restoreJobId": "1b2c3d4e", "status": "COMPLETED", "resourceType": "EBS",
         "createdResourceArn": "arn:aws:ec2:eu-west-1:123456789012:volume/vol-1"},
    ),
}  # fmt: skip


def test_an_aws_event_that_says_it_succeeded_opens_no_ticket() -> None:
    """A CodeBuild phase, an instance refresh or a restore job that succeeded is no incident."""

    def firing(name: str) -> tuple[list[Status], list[Status]]:
        alerts = normalize_body(json.dumps(SUCCESSES[name])).alerts
        return [a.status for a in alerts if a.status is Status.FIRING], []

    assert_each(list(SUCCESSES), firing, name="event")


def _instance_refresh(outcome: str, refresh_id: str) -> dict[str, Any]:
    return _aws_event(
        "aws.autoscaling", f"EC2 Auto Scaling Instance Refresh {outcome}", [ASG],
        {"InstanceRefreshId": refresh_id, "AutoScalingGroupName": "orders-web"},
    )  # fmt: skip


async def test_a_failed_instance_refresh_is_closed_by_the_next_that_succeeds() -> None:
    """An Auto Scaling group's failed instance refresh is one incident, closed by the group's
    next refresh that succeeds."""
    actions, _ = await _lifecycle(
        [_instance_refresh("Failed", "ab00cf8f"), _instance_refresh("Succeeded", "c613620e")]
    )
    assert actions == [["open"], ["close"]]


def _nagios_style(subject: str, **status: str) -> dict[str, Any]:
    """A script forwarding a monitor's `PROBLEM:` / `RECOVERY:` subject as its title."""
    return {"title": f"{subject}: Disk full on db-1", "host": "db-1", **status}


#: A problem and its recovery as a Nagios-style script sends them: without a `status` (the
#: subject says it), and with one.
PROBLEM_AND_RECOVERY = {
    "subjects only": [_nagios_style("PROBLEM"), _nagios_style("RECOVERY")],
    "subjects and status": [
        _nagios_style("PROBLEM", status="firing"),
        _nagios_style("RECOVERY", status="resolved"),
    ],
}


async def test_a_problem_subject_is_closed_by_its_recovery_subject() -> None:
    """`PROBLEM: Disk full on db-1` then `RECOVERY: Disk full on db-1` open one incident and
    close it, with or without a status beside the subject."""
    decided = {name: await _lifecycle(bodies) for name, bodies in PROBLEM_AND_RECOVERY.items()}
    assert_each(
        list(PROBLEM_AND_RECOVERY),
        lambda name: (decided[name][0], [["open"], ["close"]]),
        name="pair",
    )


#: AWS's samples of a run, job or deployment that failed, each read by its state change.
FAILED_RUNS = [
    "codebuild-build-failed",
    "stepfunctions-execution-failed",
    "glue-job-failed",
    "backup-job-failed",
    "codepipeline-stage-failed",
    "batch-job-failed",
    "ecs-deployment-failed",
]


def test_a_failed_aws_runs_title_says_it_failed() -> None:
    """A failed CodeBuild build, Step Functions execution, Glue job, Backup job, CodePipeline
    stage, Batch job or ECS deployment is titled so a reader sees it failed."""

    def says_failed(name: str) -> tuple[str, str]:
        [alert] = normalize_body((PAYLOADS / "eventbridge" / f"{name}.json").read_text()).alerts
        return (
            "says it failed" if "fail" in alert.title.lower() else alert.title
        ), "says it failed"

    assert_each(FAILED_RUNS, says_failed, name="sample")


#: The Unix epoch as scripts spell an unset time: `date -u -d @0 +%FT%TZ`, JavaScript's
#: `new Date(0).toISOString()` and `.toUTCString()`. triage reads the number 0 as no time.
EPOCH_SPELLINGS = [
    "1970-01-01T00:00:00Z",
    "1970-01-01T00:00:00.000Z",
    "Thu, 01 Jan 1970 00:00:00 GMT",
]


async def test_a_resolve_stamped_with_the_epoch_as_text_closes_its_incident() -> None:
    """A script's resolve whose timestamp is the epoch in words closes the incident, as one
    whose timestamp is the number 0 does."""
    firing = {
        "title": "Disk full on db-1",
        "dedup_key": "disk-db-1",
        "timestamp": "2026-11-23T09:00:00Z",
    }
    decided = {
        spelt: await _lifecycle([firing, firing | {"status": "resolved", "timestamp": spelt}])
        for spelt in [*EPOCH_SPELLINGS, 0]
    }
    assert_each(
        [*EPOCH_SPELLINGS, 0], lambda spelt: (decided[spelt][0], [["open"], ["close"]]), name="time"
    )
