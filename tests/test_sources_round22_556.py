"""Sources, round 22 (helper 556): shapes AWS teams send that earlier rounds read wrong. Each
body must be ticketed right (title, state, a resolve closing its firing), skipped with a
reason, or refused clearly: never a wrong incident."""

from __future__ import annotations

import copy
import json
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from factories import T0
from recording_pipeline import Sink, pipeline_into
from triage.incidents import Action
from triage.incidents.codec import view_to_json
from triage.models import Alert, Status
from triage.normalize import normalize_body, recognise_body
from triage.redact import Redactor
from triage.sqs.inbox import Message
from triage.summarise.deterministic import DeterministicSummariser
from triage.view import redact_alert

PAYLOADS = Path(__file__).parent / "payloads"


def _payload(name: str) -> Any:
    return json.loads((PAYLOADS / name).read_text())


def _one(body: Any, attributes: dict[str, str] | None = None) -> Alert:
    """The one alert `body` gives."""
    [alert] = normalize_body(json.dumps(body), attributes=attributes).alerts
    return alert


async def _actions(bodies: list[Any], attributes: dict[str, str] | None = None) -> list[Action]:
    """What the pipeline does with each body in turn, a minute apart."""
    pipeline = pipeline_into(Sink())
    actions: list[Action] = []
    for minute, body in enumerate(bodies):
        at = T0 + timedelta(minutes=minute)
        message = Message(
            f"m-{minute}",
            body if isinstance(body, str) else json.dumps(body),
            f"r-{minute}",
            1,
            at,
            received_at=at,
            attributes=attributes or {},
        )
        actions += [outcome.action for outcome in await pipeline.process(message)]
    return actions


# --- A Lambda on-failure record whose event is an alert ----------------------------------------

_FUNCTION = "arn:aws:lambda:us-east-1:123456789012:function:alarm-to-chat"


def _sns_invocation(notification: dict[str, Any]) -> dict[str, Any]:
    """The event SNS invokes a subscribed function with (Lambda Developer Guide, "Using Lambda
    with Amazon SNS"): one record carrying the notification."""
    sns = {key: notification[key] for key in ("Type", "MessageId", "TopicArn", "Message")}
    sns |= {"Subject": notification.get("Subject"), "Timestamp": "2026-11-23T10:00:13.000Z"}
    return {
        "Records": [
            {
                "EventSource": "aws:sns",
                "EventVersion": "1.0",
                "EventSubscriptionArn": notification["TopicArn"] + ":2bcfbf39-05c3-41de",
                "Sns": sns,
            }
        ]
    }


def _failure_record(event: Any) -> dict[str, Any]:
    """An asynchronous invocation's on-failure record (Lambda Developer Guide, "Capturing
    records of Lambda asynchronous invocations") of a function that failed on `event`."""
    return {
        "version": "1.0",
        "timestamp": "2026-11-23T10:00:45.568Z",
        "requestContext": {
            "requestId": "e4b46cbf-b738-4f5a-8880-a18cdf61200e",
            "functionArn": f"{_FUNCTION}:$LATEST",
            "condition": "RetriesExhausted",
            "approximateInvokeCount": 3,
        },
        "requestPayload": event,
        "responseContext": {
            "statusCode": 200,
            "executedVersion": "$LATEST",
            "functionError": "Unhandled",
        },
        "responsePayload": {
            "errorMessage": "chat webhook answered 410 Gone",
            "errorType": "WebhookGone",
        },
    }


def _on_bus(record: dict[str, Any]) -> dict[str, Any]:
    """`record` as an EventBridge on-failure destination puts it on its bus."""
    event = _payload("eventbridge/lambda-invocation-failure.json")
    event["detail"] = record
    return event


_ALARM = _payload("cloudwatch/sns-alarm.json")


def test_an_eventbridge_failure_of_an_alarm_is_the_alarm_naming_the_failure() -> None:
    """An EventBridge destination's failure record whose event is an SNS alarm notification is
    that alarm (the alarm's own fingerprint), its description and labels naming the function,
    its condition and its error."""
    direct = _one(_ALARM)
    alert = _one(_on_bus(_failure_record(_sns_invocation(_ALARM))))
    assert alert.fingerprint == direct.fingerprint
    assert alert.source == direct.source == "cloudwatch"
    assert alert.title == direct.title
    assert alert.status is Status.FIRING
    first = alert.description.splitlines()[0]
    assert "alarm-to-chat" in first and "RetriesExhausted" in first and "WebhookGone" in first
    assert "410 Gone" in first
    assert alert.labels["lambda_function"] == _FUNCTION
    assert alert.labels["lambda_error_type"] == "WebhookGone"
    assert alert.labels["lambda_condition"] == "RetriesExhausted"
    assert direct.description in alert.description


@pytest.mark.parametrize("how", ["sqs", "sns", "eventbridge"])
def test_every_destination_of_the_failure_is_the_alarm_s_one_incident(how: str) -> None:
    """The record sent to an SQS queue, an SNS topic or an EventBridge bus: the same alarm,
    the same failure named."""
    record = _failure_record(_sns_invocation(_ALARM))
    body: Any = record
    if how == "sns":
        body = {
            "Type": "Notification",
            "MessageId": "5b6f3a2e-0000-4000-8000-000000000001",
            "TopicArn": "arn:aws:sns:us-east-1:123456789012:lambda-failures",
            "Message": json.dumps(record),
            "Timestamp": "2026-11-23T10:00:46.000Z",
        }
    elif how == "eventbridge":
        body = _on_bus(record)
    alert = _one(body)
    assert alert.fingerprint == _one(_ALARM).fingerprint
    assert alert.labels["lambda_function"] == _FUNCTION
    assert "failed handling this alert" in alert.description


def test_an_on_success_record_of_an_alert_names_no_failure() -> None:
    """An on-success record's alert is the alert as before: no failure is named."""
    record = _failure_record({"title": "Disk full", "dedup_key": "disk-1"})
    record["requestContext"]["condition"] = "Success"
    record["responseContext"].pop("functionError")
    alert = _one(record)
    assert "lambda_function" not in alert.labels
    assert "failed" not in alert.description


def test_an_eventbridge_failure_of_a_resolved_alarm_resolves_it() -> None:
    """The alarm's OK notification a function failed on is the alarm's resolve."""
    ok = _payload("cloudwatch/sns-ok.json")
    alert = _one(_on_bus(_failure_record(_sns_invocation(ok))))
    assert alert.status is Status.RESOLVED
    assert alert.fingerprint == _one(ok).fingerprint


def test_an_eventbridge_failure_of_no_alert_stays_the_function_s_failure() -> None:
    """The documented event (its event no alert) is the function's failure, as before."""
    alert = _one(_payload("eventbridge/lambda-invocation-failure.json"))
    assert alert.title.startswith("Lambda my-function failed an asynchronous invocation")
    assert alert.identity["error_type"] == "ZeroDivisionError"


def test_a_hostile_failure_message_stays_one_line_in_the_alarm_s_ticket() -> None:
    """Control characters, a bidi override and a 100 KB error message in the failure leave the
    alarm's fingerprint, one line naming the failure and a description within its limit."""
    record = _failure_record(_sns_invocation(_ALARM))
    record["responsePayload"] = {
        "errorMessage": "a\x00b\u202ec\x1b[31m\r\n" + "x" * 100_000,
        "errorType": {"not": "text"},
    }
    record["requestContext"]["condition"] = ["odd"]
    alert = _one(_on_bus(record))
    assert alert.fingerprint == _one(_ALARM).fingerprint
    assert not any(ch in alert.description for ch in "\x00\x1b\u202e\r")
    assert len(alert.description) <= 4_000
    assert "lambda_error_type" not in alert.labels


async def test_the_alarm_then_its_failed_forward_count_one_incident() -> None:
    """Through the pipeline: the alarm opens its ticket; the function's failure record of the
    same alarm, through EventBridge, repeats it."""
    bodies = [_ALARM, _on_bus(_failure_record(_sns_invocation(_ALARM)))]
    assert await _actions(bodies) == [Action.OPEN, Action.COUNT]


# --- EventBridge rule targets' dead letters ----------------------------------------------------

_RULE = "arn:aws:events:us-east-1:123456789012:rule/orders-bus/order-events"
_RULE_TARGET = "arn:aws:lambda:us-east-1:123456789012:function:order-processor"


def _rule_dead_letter(code: str = "NO_PERMISSIONS", retries: str = "0", **more: str) -> Any:
    """The attributes EventBridge sets on a rule target's dead-letter message (EventBridge User
    Guide, "Using dead-letter queues to process undelivered events")."""
    return {
        "RULE_ARN": _RULE,
        "TARGET_ARN": _RULE_TARGET,
        "ERROR_CODE": code,
        "ERROR_MESSAGE": "Lambda returned AccessDeniedException: not authorized to invoke",
        "EXHAUSTED_RETRY_CONDITION": "MaximumRetryAttempts",
        "RETRY_ATTEMPTS": retries,
    } | more


#: An event the rule matched and could not deliver: a CloudWatch alarm's state change, which
#: read alone would be the alarm.
_UNDELIVERED = json.dumps(_payload("cloudwatch/eventbridge-alarm.json"))


def test_a_rule_dead_letter_is_the_failed_delivery_not_the_event() -> None:
    """A rule target's dead letter carrying an alarm's event is the rule's failed delivery:
    titled with the rule, bus, target and error code, the error message and the undelivered
    event shown, the event kept whole with the alert."""
    recognised = recognise_body(_UNDELIVERED, attributes=_rule_dead_letter())
    assert recognised.format == "eventbridge-dead-letter"
    [alert] = recognised.normalized.alerts
    assert alert.source == "aws"
    assert alert.status is Status.FIRING
    assert alert.title == (
        "EventBridge rule order-events (orders-bus) could not deliver an event to "
        "order-processor: NO_PERMISSIONS"
    )
    assert "AccessDeniedException" in alert.description
    assert "aws.cloudwatch CloudWatch Alarm State Change" in alert.description
    assert alert.labels["rule"] == "order-events"
    assert alert.labels["event_bus"] == "orders-bus"
    assert alert.labels["account"] == "123456789012"
    assert alert.labels["region"] == "us-east-1"
    assert alert.raw["Body"] == _UNDELIVERED
    assert alert.identity == {"service": "eventbridge", "rule": _RULE, "target": _RULE_TARGET}


def test_a_rule_that_keeps_failing_one_target_is_one_incident() -> None:
    """Another error, retry count and event for the same rule and target is the same incident;
    another target of the rule is another."""
    first = _one_attributed(_UNDELIVERED, _rule_dead_letter())
    again = _one_attributed("{}", _rule_dead_letter("THROTTLING", "185"))
    other = _one_attributed(
        _UNDELIVERED, _rule_dead_letter(TARGET_ARN=_RULE_TARGET.replace("processor", "audit"))
    )
    assert first.fingerprint == again.fingerprint != other.fingerprint
    assert first.fingerprint == "501e229e787f3e3dd95c1055b1c7c213"


def test_a_rule_dead_letter_of_any_body_is_read() -> None:
    """A body of text, of an array or empty does not keep the failed delivery from being read;
    a rule on the default bus is titled without its bus."""
    default_rule = _rule_dead_letter(RULE_ARN=_RULE.replace("orders-bus/", ""))
    for body in ("run the job", "[1, 2]", ""):
        alert = _one_attributed(body, default_rule)
        assert alert.title.startswith("EventBridge rule order-events could not deliver")
        assert "The undelivered event" not in alert.description


def test_attributes_that_name_no_rule_leave_the_body_read() -> None:
    """A RULE_ARN that is no EventBridge rule's ARN, or one without an error or target, is not
    a dead letter: the body is read as before."""
    plain = _one(_payload("cloudwatch/eventbridge-alarm.json"))
    for attributes in (
        {"RULE_ARN": "my-rule", "ERROR_CODE": "X"},
        {"RULE_ARN": _RULE},
    ):
        assert _one_attributed(_UNDELIVERED, attributes).fingerprint == plain.fingerprint


def test_hostile_rule_dead_letter_attributes_stay_one_line() -> None:
    """Control characters and a bidi override in the error code and message leave one clean
    title and labels; a 100 KB message is cut to the description's limit."""
    hostile = "a\x00b\u202ec\x1b[31m\r\ne"
    alert = _one_attributed(
        _UNDELIVERED,
        _rule_dead_letter(hostile, hostile, ERROR_MESSAGE=hostile + "x" * 100_000),
    )
    for shown in (alert.title, *alert.labels.values()):
        assert not any(ch in shown for ch in "\x00\x1b\u202e\r\n")
    assert len(alert.description) <= 4_000


async def test_a_rule_dead_letter_through_the_pipeline_opens_then_repeats() -> None:
    """Through the pipeline the first dead letter opens the rule's ticket, the next (another
    event the rule could not deliver) repeats it."""
    actions = await _actions([_UNDELIVERED, '{"detail": {}}'], attributes=_rule_dead_letter())
    assert actions == [Action.OPEN, Action.COUNT]


def test_a_rule_dead_letter_s_ticket_has_its_own_steps() -> None:
    """The deterministic ticket of a rule's dead letter gives the undelivered-event steps (the
    role, the target, sending the events again), not only the generic three."""
    view = redact_alert(_one_attributed(_UNDELIVERED, _rule_dead_letter()), Redactor())
    assert "undelivered-event" in [p.category for p in DeterministicSummariser().match(view)]
    steps = DeterministicSummariser().write(view).steps
    assert any("dead-letter queue" in step for step in steps)


def test_a_secret_in_a_rule_dead_letter_never_reaches_the_view() -> None:
    """A key in the error message or the undelivered event is redacted in the view every sink
    renders from."""
    key = "AKIAIOSFODNN7EXAMPLE"
    body = json.dumps({"source": "custom.app", "detail-type": f"leak {key}", "detail": {}})
    alert = _one_attributed(body, _rule_dead_letter(ERROR_MESSAGE=f"denied for {key}"))
    assert key not in view_to_json(redact_alert(alert, Redactor()))


def _one_attributed(body: str, attributes: dict[str, str]) -> Alert:
    [alert] = normalize_body(body, attributes=attributes).alerts
    return alert


# --- DevOps Guru's SNS notices -----------------------------------------------------------------

_GURU_NEW = _payload("aws/devops-guru-new-insight.json")
_GURU_CLOSED = _payload("aws/devops-guru-closed-insight.json")


def _guru_notice(message: dict[str, Any]) -> dict[str, Any]:
    """`message` as DevOps Guru publishes it to its notification channel's topic."""
    return _GURU_NEW | {"Message": json.dumps(message)}


def _guru_message(envelope: dict[str, Any] = _GURU_NEW) -> dict[str, Any]:
    message: dict[str, Any] = json.loads(envelope["Message"])
    return message


def test_a_devops_guru_sns_insight_fires_titled_by_its_name() -> None:
    """A NEW_INSIGHT notice (DevOps Guru User Guide, "Viewing notifications") fires titled by
    its insightName, not its description (prose about repeats), with its severity, its
    anomaly's metric and resource shown and a link to the insight."""
    alert = _one(_GURU_NEW)
    assert alert.status is Status.FIRING
    assert alert.title == (
        "DevOps Guru: Repeated Insight: ApiGateway 5XXError Anomalous In Application "
        "CanaryCommonResources-123456789012-LogAnomaly-4"
    )
    assert alert.severity == "medium"
    assert "AWS/SQS ApproximateAgeOfOldestMessage" in alert.description
    assert alert.links["insight"].startswith("https://eu-west-1.console.aws.amazon.com/")
    assert alert.labels["account"] == "123456789012"
    assert alert.labels["region"] == "eu-west-1"
    assert alert.occurred_at.isoformat().startswith("2026-12-01T12:02")


def test_a_devops_guru_closed_insight_resolves_the_incident_it_opened() -> None:
    """CLOSED_INSIGHT resolves the insight's incident; an association, a recommendation and a
    severity upgrade of it are repeats of the same incident."""
    opened = _one(_GURU_NEW)
    closed = _one(_GURU_CLOSED)
    assert closed.status is Status.RESOLVED
    assert closed.fingerprint == opened.fingerprint
    for kind in ("NEW_ASSOCIATION", "NEW_RECOMMENDATION", "SEVERITY_UPGRADED"):
        grown = _one(_guru_notice(_guru_message() | {"messageType": kind}))
        assert (grown.status, grown.fingerprint) == (Status.FIRING, opened.fingerprint)


def test_an_insight_by_sns_and_by_eventbridge_is_one_incident() -> None:
    """The same insight's notice and its EventBridge event (whose `detail` is the notice) are
    one incident: a team that moves from the topic to a rule keeps its open tickets."""
    message = _guru_message()
    event = {
        "version": "0",
        "id": "3bb6d0a2-8a2f-4b5b-9f6b-1c2d3e4f5a6b",
        "detail-type": "DevOps Guru New Insight Open",
        "source": "aws.devops-guru",
        "account": message["accountId"],
        "time": "2026-12-01T12:02:30Z",
        "region": message["region"],
        "resources": [],
        "detail": message,
    }
    by_rule = _one(event)
    assert by_rule.fingerprint == _one(_GURU_NEW).fingerprint
    assert by_rule.title == _one(_GURU_NEW).title  # its insightName, as the notice's


def test_a_recommendation_notice_shows_what_devops_guru_recommends() -> None:
    """A NEW_RECOMMENDATION notice's recommendations are shown: name, reason and link."""
    recommendation = {
        "name": "Tune Availability Zones of your Lambda Function",
        "description": "Deploy SampleFunction in at least 3 Availability Zones.",
        "reason": "SampleFunction is deployed to 2 Availability Zones only.",
        "link": "https://docs.aws.amazon.com/lambda/latest/dg/configuration-vpc.html",
    }
    message = _guru_message() | {
        "messageType": "NEW_RECOMMENDATION",
        "recommendations": [recommendation],
    }
    alert = _one(_guru_notice(message))
    assert "Tune Availability Zones" in alert.description
    assert "configuration-vpc.html" in alert.description


def test_an_older_pascal_case_notice_is_read_alike() -> None:
    """A notice whose keys are spelt in PascalCase (`InsightId`, `MessageType`), as older ones
    were, is the same insight."""
    message = {key[:1].upper() + key[1:]: value for key, value in _guru_message().items()}
    assert _one(_guru_notice(message)).fingerprint == _one(_GURU_NEW).fingerprint


def test_a_notice_without_its_account_takes_its_topic_s() -> None:
    """A notice that leaves out its account and Region is keyed by its topic's."""
    message = {k: v for k, v in _guru_message().items() if k not in ("accountId", "region")}
    message["awsInsightSource"] = "aws.devopsguru"
    alert = _one(_guru_notice(message | {"accountId": ""}))
    assert alert.fingerprint == _one(_GURU_NEW).fingerprint


def test_a_resource_filter_failure_fires_once_per_filter_type() -> None:
    """SELECTED_RESOURCE_FILTER_VALIDATION_FAILURE fires saying the filter selects nothing,
    keyed by the filter's type, not the names it lists."""
    failure = {
        "accountId": "123456789012",
        "region": "eu-west-1",
        "messageType": "SELECTED_RESOURCE_FILTER_VALIDATION_FAILURE",
        "ResourceFilterType": "Tags",
        "InvalidResourceNames": ["Devops-Guru-app-orders"],
        "awsInsightSource": "aws.devopsguru",
    }
    alert = _one(_guru_notice(failure))
    again = _one(_guru_notice(failure | {"InvalidResourceNames": ["Devops-Guru-app-other"]}))
    assert alert.status is Status.FIRING
    assert alert.title == "DevOps Guru: its Tags filter selects no resources to analyse"
    assert "Devops-Guru-app-orders" in alert.description
    assert alert.fingerprint == again.fingerprint != _one(_GURU_NEW).fingerprint


async def test_a_devops_guru_insight_opens_and_closes_one_ticket() -> None:
    """Through the pipeline the new insight opens a ticket and its closed notice closes it."""
    assert await _actions([_GURU_NEW, _GURU_CLOSED]) == [Action.OPEN, Action.CLOSE]


# --- A scheduled rule's tick -------------------------------------------------------------------

#: A scheduled rule's event (EventBridge User Guide, "Creating a rule that runs on a schedule").
_TICK = {
    "version": "0",
    "id": "53dc4d37-cffa-4f76-80c9-8b7d4a4d2eaa",
    "detail-type": "Scheduled Event",
    "source": "aws.events",
    "account": "123456789012",
    "time": "2026-11-23T16:53:06Z",
    "region": "us-east-1",
    "resources": ["arn:aws:events:us-east-1:123456789012:rule/MyScheduledRule"],
    "detail": {},
}


def test_a_scheduled_rule_s_tick_changes_no_ticket() -> None:
    """A scheduled rule pointed at the queue (a heartbeat) is skipped naming the rule, not a
    ticket opened by the first tick and counted by every other."""
    read = normalize_body(json.dumps(_TICK))
    assert read.alerts == ()
    [skipped] = read.skipped
    assert skipped.reason == "scheduled_event"
    assert "MyScheduledRule" in skipped.detail


def test_another_aws_events_event_still_fires() -> None:
    """Only the scheduled tick is skipped: another detail-type of the same source fires."""
    other = _TICK | {"detail-type": "Rule Disabled"}
    assert _one(other).status is Status.FIRING


# --- An alarm's Lambda action that failed -------------------------------------------------------


def test_an_alarm_s_failed_lambda_action_is_the_alarm() -> None:
    """An alarm invokes its Lambda action asynchronously: the function's on-failure record of
    that payload, through EventBridge, is the alarm (its fingerprint), naming the failure."""
    action = _payload("cloudwatch/lambda-action.json")
    alert = _one(_on_bus(_failure_record(action)))
    assert alert.fingerprint == _one(action).fingerprint
    assert alert.labels["lambda_function"] == _FUNCTION


# --- MediaConvert jobs ---------------------------------------------------------------------------


def _media_job(status: str, job: str = "1515368087458-qnoxtd", **more: Any) -> dict[str, Any]:
    """A `MediaConvert Job State Change` event (MediaConvert User Guide, "Events with ERROR
    status"): each job is new, named only by its own ARN."""
    detail = {
        "timestamp": 1795481720764,
        "accountId": "111122223333",
        "queue": "arn:aws:mediaconvert:us-west-2:111122223333:queues/Default",
        "jobId": job,
        "status": status,
        "userMetadata": {},
    } | more
    return {
        "version": "0",
        "id": "1234abcd-12ab-34cd-56ef-1234567890ab",
        "detail-type": "MediaConvert Job State Change",
        "source": "aws.mediaconvert",
        "account": "111122223333",
        "time": "2026-11-23T23:35:20Z",
        "region": "us-west-2",
        "resources": [f"arn:aws:mediaconvert:us-west-2:111122223333:jobs/{job}"],
        "detail": detail,
    }


@pytest.mark.parametrize(
    "status",
    ["SUBMITTED", "INPUT_INFORMATION", "PROGRESSING", "STATUS_UPDATE", "COMPLETE", "CANCELED"],
)
def test_a_media_job_under_way_or_done_changes_no_ticket(status: str) -> None:
    """A job's progress, completion or cancellation is no alert: a rule for every job's
    events no longer opens a ticket per job that progressed."""
    read = normalize_body(json.dumps(_media_job(status)))
    assert read.alerts == ()
    assert [skip.reason for skip in read.skipped] == ["no_state_change"]


def test_media_jobs_failing_alike_in_one_queue_are_one_incident() -> None:
    """Two jobs in ERROR with one error code in one queue are one incident (each job is new);
    another error code is another."""
    first = _one(_media_job("ERROR", errorCode=1040, errorMessage="Example error message"))
    second = _one(_media_job("ERROR", "1515368099999-abcdef", errorCode=1040))
    other = _one(_media_job("ERROR", "1515368099999-abcdef", errorCode=1401))
    assert first.status is Status.FIRING
    assert first.fingerprint == second.fingerprint != other.fingerprint
    assert "ERROR" in first.title


@pytest.mark.parametrize("how", ["sqs", "eventbridge"])
def test_a_failure_of_an_unreadable_alert_is_the_function_s_failure(how: str) -> None:
    """A record whose event is an alarm that cannot be read (a state it has not) is not refused
    for its event's fault: it fires as the function's failure, noted."""
    broken = json.loads(_ALARM["Message"]) | {"NewStateValue": "BOGUS"}
    record = _failure_record(_sns_invocation(_ALARM | {"Message": json.dumps(broken)}))
    read = normalize_body(json.dumps(record if how == "sqs" else _on_bus(record)))
    [alert] = read.alerts
    assert alert.title.startswith("Lambda alarm-to-chat failed an asynchronous invocation")
    assert alert.identity == {"function": _FUNCTION, "error_type": "WebhookGone"}
    assert any("cannot be read" in note for note in read.notes)


# --- A Kafka event source mapping's discarded batch ----------------------------------------------

_MSK = _payload("aws/lambda-msk-on-failure.json")


def test_a_discarded_msk_batch_fires_keyed_by_function_and_cluster() -> None:
    """An MSK mapping's on-failure record (Lambda Developer Guide, "Capturing discarded batches
    for Amazon MSK and self-managed Apache Kafka event sources") fires titled with the function
    and cluster, each topic-partition's offsets shown to replay them."""
    recognised = recognise_body(json.dumps(_MSK))
    assert recognised.format == "lambda-destination"
    [alert] = recognised.normalized.alerts
    assert alert.title == (
        "Lambda myfunction discarded a batch of Kafka cluster vpc-2priv-2pub "
        "(RetryAttemptsExhausted)"
    )
    assert alert.identity == {
        "function": "arn:aws:lambda:us-east-1:123456789012:function:myfunction",
        "stream": _MSK["KafkaBatchInfo"]["eventSourceArn"],
    }
    assert "Topic-1: firstRecordOffset" in alert.description


def test_another_batch_of_the_cluster_is_the_same_incident() -> None:
    """Another batch (other offsets, topics, size) of the same function and cluster repeats
    the incident; a batch too large to send (its responseContext null) too."""
    again = copy.deepcopy(_MSK)
    again["KafkaBatchInfo"]["recordsInfo"] = {"Other-3": {"firstRecordOffset": "7"}}
    again["KafkaBatchInfo"]["batchSize"] = 3
    too_large = copy.deepcopy(_MSK) | {"responseContext": None}
    too_large["requestContext"]["condition"] = "MaximumPayloadSizeExceeded"
    assert _one(again).fingerprint == _one(_MSK).fingerprint == _one(too_large).fingerprint


def test_a_self_managed_kafka_batch_is_keyed_by_its_bootstrap_servers() -> None:
    """A self-managed cluster's record names no ARN: its bootstrap servers key it, and a
    single record's `recordInfo` is shown."""
    record = copy.deepcopy(_MSK)
    batch = record["KafkaBatchInfo"]
    del batch["eventSourceArn"], batch["recordsInfo"]
    batch["bootstrapServers"] = "kafka-1.internal:9092,kafka-2.internal:9092"
    batch["recordInfo"] = {"offset": "100", "timestamp": "2026-11-23T00:38:04.835Z"}
    alert = _one(record)
    assert alert.identity["stream"] == "kafka-1.internal:9092,kafka-2.internal:9092"
    assert "record: offset 100" in alert.description
