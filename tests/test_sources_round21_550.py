"""Sources, round 21 (helper 550): shapes AWS teams send that earlier rounds read wrong. Each
body must be ticketed right (title, state, a resolve closing its firing), skipped with a
reason, or refused clearly: never a wrong incident."""

from __future__ import annotations

import copy
import json
from typing import Any

from factories import T0
from recording_pipeline import Sink, pipeline_into
from triage.incidents import Action
from triage.incidents.codec import view_to_json
from triage.ingest.validate import check
from triage.models import Alert, Status
from triage.normalize import normalize_body, recognise_body
from triage.redact import Redactor
from triage.sqs.inbox import Message
from triage.summarise.deterministic import DeterministicSummariser
from triage.view import redact_alert


def _one(body: dict[str, Any]) -> Alert:
    """The one alert `body` gives."""
    [alert] = normalize_body(json.dumps(body)).alerts
    return alert


# --- Trusted Advisor check items with no resource_id ------------------------------------------


def _check_item(check: str, status: str, details: dict[str, Any], resource: str = "") -> Any:
    """A Trusted Advisor check item refreshed, as EventBridge delivers it (the shape of the
    EventBridge events reference's example: `resource_id` empty for an item that is no AWS
    resource, its facts in `check-item-detail`)."""
    return {
        "version": "0",
        "id": "1234abcd-ab12-123a-123a-1234567890ab",
        "detail-type": "Trusted Advisor Check Item Refresh Notification",
        "source": "aws.trustedadvisor",
        "account": "123456789012",
        "time": "2026-12-01T20:07:49Z",
        "region": "us-east-1",
        "resources": [],
        "detail": {
            "check-name": check,
            "check-item-detail": details,
            "status": status,
            "resource_id": resource,
            "uuid": "aa12345f-55c7-498e-b7ac-123456781234",
        },
    }


def _limit(service: str, limit: str, usage: str, status: str = "WARN") -> Any:
    """A Service Limits check item: one quota of one service in one Region."""
    details = {
        "Status": "Yellow" if status == "WARN" else "Green",
        "Current Usage": usage,
        "Limit Name": limit,
        "Region": "us-west-2",
        "Service": service,
        "Limit Amount": "20",
    }
    return _check_item("Service Limits", status, details)


def _exposed_key(key_id: str, user: str, status: str = "ERROR") -> Any:
    """An Exposed Access Keys check item: one access key found in public."""
    details = {
        "Case ID": "02648f3b-e0f8-4d9c-8d2c-b5e5b9d2d9e9",
        "Usage (USD per Hour)": "0",
        "User Name (IAM or Root)": user,
        "Deadline": "1440453299248",
        "Access Key ID": key_id,
        "Time Updated": "1440021299248",
        "Fraud Type": "Exposed",
        "Location": "www.example.com",
    }
    return _check_item("Exposed Access Keys", status, details)


def test_two_service_limits_of_one_check_are_two_incidents() -> None:
    """Two quotas the Service Limits check flags (no `resource_id`) are two incidents, each
    titled by its quota, not one incident whose second quota is only counted."""
    vpcs = _one(_limit("VPC", "VPCs", "4"))
    eips = _one(_limit("EC2", "EC2-VPC Elastic IP Address", "5"))
    assert vpcs.fingerprint != eips.fingerprint
    assert "VPCs" in vpcs.title and "Elastic IP" in eips.title


def test_a_service_limit_s_refresh_and_its_ok_are_its_own_incident() -> None:
    """A quota's later refresh (its usage moved) and its OK share its fingerprint: the usage
    and colour it measures are no part of what the item is."""
    first = _one(_limit("VPC", "VPCs", "4"))
    later = _one(_limit("VPC", "VPCs", "5"))
    ok = _one(_limit("VPC", "VPCs", "1", status="OK"))
    assert first.fingerprint == later.fingerprint == ok.fingerprint
    assert ok.status is Status.RESOLVED


def test_two_exposed_keys_are_two_incidents_and_each_closes_its_own() -> None:
    """Two exposed access keys are two incidents; the first key's OK resolves the first's,
    whatever its support case and times."""
    one = _one(_exposed_key("AKIAIOSFODNN7EXAMPLE", "deploy"))
    two = _one(_exposed_key("AKIAI44QH8DHBEXAMPLE", "ci"))
    assert one.fingerprint != two.fingerprint
    closing = _exposed_key("AKIAIOSFODNN7EXAMPLE", "deploy", status="OK")
    closing["detail"]["check-item-detail"]["Case ID"] = "another-case"
    closing["detail"]["check-item-detail"]["Time Updated"] = "1440021399999"
    assert _one(closing).fingerprint == one.fingerprint


def test_the_order_of_an_item_s_details_does_not_key_it() -> None:
    """The same item with its details written in another order is the same incident."""
    body = _limit("VPC", "VPCs", "4")
    shuffled = copy.deepcopy(body)
    details = shuffled["detail"]["check-item-detail"]
    shuffled["detail"]["check-item-detail"] = dict(reversed(list(details.items())))
    assert _one(body).fingerprint == _one(shuffled).fingerprint


def test_an_item_with_a_resource_id_keeps_its_incident() -> None:
    """An item with a `resource_id` is keyed as before (its details add nothing), so its open
    ticket is not orphaned by an upgrade."""
    arn = "arn:aws:ec2:us-west-2:123456789012:instance/i-b6218518"
    alert = _one(_check_item("Low Utilization Amazon EC2 Instances", "WARN", {"Region": "x"}, arn))
    assert alert.identity == {
        "service": "trustedadvisor",
        "account": "123456789012",
        "check": "Low Utilization Amazon EC2 Instances",
        "resource": arn,
    }


# --- EventBridge Scheduler dead letters ---------------------------------------------------------

_SCHEDULE = "arn:aws:scheduler:us-west-2:123456789012:schedule/reports/nightly-report"
_TARGET = "arn:aws:lambda:us-west-2:123456789012:function:report-builder"


def _dead_letter(code: str = "AWS.Scheduler.TargetInvocationFailed", retries: str = "185") -> Any:
    """The string attributes Scheduler sets on a schedule's dead-letter message (EventBridge
    Scheduler User Guide, "Configuring a dead-letter queue")."""
    return {
        "ERROR_CODE": code,
        "ERROR_MESSAGE": "Lambda function report-builder timed out.",
        "EXHAUSTED_RETRY_CONDITION": "MaximumRetryAttempts",
        "RETRY_ATTEMPTS": retries,
        "SCHEDULE_ARN": _SCHEDULE,
        "TARGET_ARN": _TARGET,
    }


#: What the schedule would have sent its function: no alert of any format.
_INPUT = json.dumps({"report": "daily-sales", "format": "csv"})


def test_a_scheduler_dead_letter_is_read_from_its_attributes() -> None:
    """A Scheduler dead letter (its body the schedule's input, no alert) fires titled with
    the schedule, its target and the error code, the error message shown."""
    recognised = recognise_body(_INPUT, attributes=_dead_letter())
    assert recognised.format == "scheduler-dead-letter"
    [alert] = recognised.normalized.alerts
    assert alert.status is Status.FIRING
    assert alert.title == (
        "EventBridge Scheduler: schedule nightly-report (reports) failed to invoke "
        "report-builder: AWS.Scheduler.TargetInvocationFailed"
    )
    assert "timed out" in alert.description and "MaximumRetryAttempts" in alert.description
    assert alert.labels["account"] == "123456789012"
    assert alert.labels["region"] == "us-west-2"
    assert alert.raw["Body"] == _INPUT  # the input to send again is kept with the incident


def test_a_schedule_that_keeps_failing_is_one_incident() -> None:
    """The same schedule and target failing again, with another error and retry count, is
    the same incident; another schedule is another."""
    first = _only_alert(_INPUT, _dead_letter())
    again = _only_alert("{}", _dead_letter("AWS.Scheduler.InternalServerError", "3"))
    other = _only_alert(_INPUT, _dead_letter() | {"SCHEDULE_ARN": _SCHEDULE + "-eu"})
    assert first.fingerprint == again.fingerprint != other.fingerprint


def test_a_message_with_other_attributes_is_read_from_its_body() -> None:
    """Attributes that name no schedule (`triage ingest`'s own) leave the body read as before."""
    body = json.dumps({"title": "disk full", "dedup_key": "disk-1"})
    plain = normalize_body(body)
    attributed = normalize_body(body, attributes={"source": "generic", "request_id": "r-1"})
    assert attributed.alerts[0].fingerprint == plain.alerts[0].fingerprint


def test_a_scheduler_dead_letter_with_a_text_body_is_still_read() -> None:
    """A schedule's input that is text, not JSON, does not keep its failure from being read."""
    alert = _only_alert("run the nightly job", _dead_letter())
    assert alert.identity["schedule"] == _SCHEDULE


def _only_alert(body: str, attributes: dict[str, str]) -> Alert:
    [alert] = normalize_body(body, attributes=attributes).alerts
    return alert


async def test_the_pipeline_reads_a_scheduler_dead_letter_from_its_attributes() -> None:
    """A Scheduler dead letter received from SQS opens a ticket for the failed schedule."""
    pipeline = pipeline_into(Sink())
    message = Message("m-1", _INPUT, "r-1", 1, T0, received_at=T0, attributes=_dead_letter())
    outcomes = await pipeline.process(message)
    assert [outcome.action for outcome in outcomes] == [Action.OPEN]


def test_a_scheduler_dead_letter_s_ticket_has_its_own_steps() -> None:
    """The deterministic ticket of a Scheduler dead letter gives the scheduled-invocation
    steps (the role, the target, sending the input again), not only the generic three."""
    view = redact_alert(_only_alert(_INPUT, _dead_letter()), Redactor())
    assert [p.category for p in DeterministicSummariser().match(view)] == ["scheduled-invocation"]
    steps = DeterministicSummariser().write(view).steps
    assert any("execution role" in step for step in steps)


def test_a_hostile_scheduler_dead_letter_shows_no_secret_and_no_markup() -> None:
    """Attributes a sender wrote (a key in the error message, markup in the names) are
    redacted in the view every sink renders from, and the title is one plain line."""
    key = "AKIAIOSFODNN7EXAMPLE"
    hostile = _dead_letter() | {
        "ERROR_MESSAGE": f"denied for {key} <!channel> @org/team",
        "SCHEDULE_ARN": "arn:aws:scheduler:us-west-2:123456789012:schedule/g/x\u202e\n[pwn](http://e)",
    }
    alert = _only_alert(_INPUT, hostile)
    assert "\n" not in alert.title and "\u202e" not in alert.title
    view = redact_alert(alert, Redactor())
    assert key not in view_to_json(view)


# --- A Lambda asynchronous invocation's failure, sent to an EventBridge bus ----------------------

_FUNCTION = "arn:aws:lambda:us-east-2:123456789012:function:my-function"

#: An asynchronous invocation's on-failure record (Lambda Developer Guide, "Capturing records
#: of Lambda asynchronous invocations").
_RECORD: dict[str, Any] = {
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
    "responsePayload": {"errorMessage": "division by zero", "errorType": "ZeroDivisionError"},
}


def _on_bus(record: dict[str, Any], outcome: str = "Failure") -> dict[str, Any]:
    """`record` as an EventBridge destination puts it on its bus, a rule sending it on."""
    return {
        "version": "0",
        "id": "7d3a1c2e-51f4-4b9e-a0c1-2f3e4d5c6b7a",
        "detail-type": f"Lambda Function Invocation Result - {outcome}",
        "source": "lambda",
        "account": "123456789012",
        "time": "2026-11-23T18:16:05Z",
        "region": "us-east-2",
        "resources": [
            "arn:aws:events:us-east-2:123456789012:event-bus/default",
            f"{_FUNCTION}:$LATEST",
        ],
        "detail": record,
    }


def test_a_lambda_failure_on_an_eventbridge_bus_is_the_function_s_failure() -> None:
    """The failure event an EventBridge destination sends is titled with the function, why
    Lambda gave up and the error type (not the bus), and is the incident the same record sent
    to an SQS destination is."""
    alert = _one(_on_bus(_RECORD))
    assert alert.title == (
        "Lambda my-function failed an asynchronous invocation (RetriesExhausted): ZeroDivisionError"
    )
    assert "division by zero" in alert.description
    assert alert.fingerprint == _one(_RECORD).fingerprint


def test_a_lambda_failure_at_another_version_is_the_same_incident() -> None:
    """The function failing the same way at version 7 is the incident it is at $LATEST: the
    version in the event's resources no longer keys it."""
    at_seven = copy.deepcopy(_RECORD)
    at_seven["requestContext"]["functionArn"] = f"{_FUNCTION}:7"
    event = _on_bus(at_seven)
    event["resources"] = [f"{_FUNCTION}:7"]
    assert _one(event).fingerprint == _one(_on_bus(_RECORD)).fingerprint


def test_a_lambda_success_on_an_eventbridge_bus_changes_no_ticket() -> None:
    """The success event of an on-success destination is skipped, as before."""
    success = copy.deepcopy(_RECORD) | {"responsePayload": {"ok": True}}
    success["requestContext"]["condition"] = "Success"
    read = normalize_body(json.dumps(_on_bus(success, "Success")))
    assert not read.alerts and read.skipped


# --- DevOps Guru insights ----------------------------------------------------------------------


def _insight(
    kind: str, insight: str = "ADkkSnzB4ZGDpm6Bq1T5nHcAAAAAAAAAAMxOTaGt", **more: Any
) -> Any:
    """A DevOps Guru insight event (EventBridge events reference, DevOps Guru's detail-types)."""
    detail = {
        "accountId": "123456789012",
        "region": "us-east-1",
        "insightId": insight,
        "insightSeverity": "high",
        "insightType": "REACTIVE",
        "insightUrl": f"https://us-east-1.console.aws.amazon.com/devops-guru/insight/reactive/{insight}",
        "startTime": 1764590400000,
        "insightDescription": "ApiGateway 5XXError Anomalous In Stack orders-api",
        "anomalies": [
            {
                "id": "AL41JB7cdTvJVDb31K4TKQoAAAAAAAAAAJ5c3Ho",
                "description": "5XXError Anomalous In Stack orders-api",
                "anomalyResources": [{"name": "orders-api", "type": "AWS::ApiGateway::RestApi"}],
            }
        ],
    } | more
    return {
        "version": "0",
        "id": "3bb6d0a2-8a2f-4b5b-9f6b-1c2d3e4f5a6b",
        "detail-type": kind,
        "source": "aws.devops-guru",
        "account": "123456789012",
        "time": "2026-12-01T12:00:00Z",
        "region": "us-east-1",
        "resources": [],
        "detail": detail,
    }


def test_a_devops_guru_insight_is_its_own_incident_and_its_closing_resolves_it() -> None:
    """An insight opens titled with its description; its later events (an anomaly, a
    recommendation, a severity raised) are repeats of it, its closing resolves it, and
    another insight is another incident."""
    opened = _one(_insight("DevOps Guru New Insight Open", messageType="NEW_INSIGHT"))
    assert opened.status is Status.FIRING and opened.severity == "high"
    assert opened.title == "DevOps Guru: ApiGateway 5XXError Anomalous In Stack orders-api"
    assert "orders-api" in opened.description
    grew = _one(_insight("DevOps Guru New Anomaly Association"))
    closed = _one(_insight("DevOps Guru Insight Closed", endTime=1764594000000))
    assert grew.fingerprint == closed.fingerprint == opened.fingerprint
    assert closed.status is Status.RESOLVED
    other = _one(_insight("DevOps Guru New Insight Open", insight="AnotherInsight00000000"))
    assert other.fingerprint != opened.fingerprint


# --- Chatbot (Amazon Q Developer in chat applications) custom notifications ---------------------


def _custom(title: str = ":rotating_light: Deploy failed: orders-api prod", **meta: Any) -> Any:
    """A custom notification as a team publishes it for Chatbot (its User Guide's schema)."""
    return {
        "version": "1.0",
        "source": "custom",
        "id": "c-0001",
        "content": {
            "textType": "client-markdown",
            "title": title,
            "description": "CodeDeploy rolled back deployment d-ABC123.",
            "nextSteps": ["Read the failed lifecycle hook's log", "Redeploy once fixed"],
        },
        "metadata": {"threadId": "deploy-orders-api-prod", "eventType": "DeployFailed"} | meta,
    }


def test_a_chatbot_notification_is_an_alert_titled_without_its_emoji() -> None:
    """A custom notification fires titled as Chatbot shows it without the emoji code, its
    next steps in the description and its additionalContext's priority and team read."""
    recognised = recognise_body(
        json.dumps(_custom(additionalContext={"priority": "P1", "team": "orders", "env": "prod"}))
    )
    assert recognised.format == "chatbot-custom"
    [alert] = recognised.normalized.alerts
    assert alert.title == "Deploy failed: orders-api prod"
    assert "- Redeploy once fixed" in alert.description
    assert (alert.priority, alert.team, alert.labels["env"]) == ("high", "orders", "prod")


def test_chatbot_notifications_of_one_thread_are_one_incident() -> None:
    """Notifications of one thread (Chatbot's own grouping) are one incident whatever their
    title and id; another thread is another incident."""
    first = _one(_custom())
    again = _one(_custom("Deploy failed again: orders-api prod") | {"id": "c-0002"})
    other = _one(_custom(threadId="deploy-payments-prod"))
    assert first.fingerprint == again.fingerprint != other.fingerprint


def test_a_chatbot_notification_with_no_thread_or_title_is_keyed_by_its_first_line() -> None:
    """The smallest notification Chatbot takes (a description alone) is titled and keyed by its
    description's first line."""
    body = {
        "version": "1.0",
        "source": "custom",
        "content": {"description": "Disk full on web-1\nsee graph"},
    }
    alert = _one(body)
    assert alert.title == "Disk full on web-1"
    assert _one(body | {"id": "another"}).fingerprint == alert.fingerprint


def test_the_gateway_s_generic_path_takes_a_chatbot_notification() -> None:
    """A script that publishes a custom notification for Chatbot may post the same body to the
    gateway's generic path: it is taken, as the one alert the daemon reads."""
    checked = check("generic", json.dumps(_custom()).encode(), None, str)
    assert checked.alerts == 1


# --- CloudWatch Synthetics canaries ------------------------------------------------------------


def _canary(kind: str, name: str = "checkout-flow", **detail: Any) -> Any:
    """A Synthetics event as AWS's documentation shows it: `resources` empty."""
    return {
        "version": "0",
        "id": "2644b18f-3e67-5ebf-cdfd-bf9f91392f41",
        "detail-type": kind,
        "source": "aws.synthetics",
        "account": "123456789012",
        "time": "2026-12-01T12:00:27Z",
        "region": "us-east-1",
        "resources": [],
        "detail": {
            "account-id": "123456789012",
            "canary-id": "af3e3a05-dc5a-4f5f-96d1-9989EXAMPLE",
            "canary-name": name,
            "canary-run-id": "0df3823e-7e33-4da1-8194-b04e4d4a2bf6",
            "test-run-status": "FAILED" if kind.endswith("Failure") else "PASSED",
            "state-reason": "Navigation timed out after 60000 ms",
            "message": "Test run failed",
        }
        | detail,
    }


def test_two_canaries_failing_are_two_incidents() -> None:
    """Two canaries' failed runs (their events name no resources) are two incidents, each
    titled by its canary, not one incident for every canary of the account and Region."""
    checkout = _one(_canary("Synthetics Canary TestRun Failure"))
    login = _one(_canary("Synthetics Canary TestRun Failure", name="login-flow"))
    assert checkout.fingerprint != login.fingerprint
    assert "checkout-flow" in checkout.title


def test_a_canary_s_successful_run_resolves_its_failure() -> None:
    """The canary's next successful run resolves the incident its failed run opened."""
    failed = _one(_canary("Synthetics Canary TestRun Failure"))
    passed = _one(_canary("Synthetics Canary TestRun Successful", **{"canary-run-id": "r2"}))
    assert passed.status is Status.RESOLVED
    assert passed.fingerprint == failed.fingerprint


def test_a_canary_in_error_fires_and_running_again_resolves_it() -> None:
    """A canary whose status changed to ERROR fires; to RUNNING resolves it; STOPPED by
    someone changes no ticket."""
    broken = _one(_canary("Synthetics Canary Status Change", **{"current-state": "ERROR"}))
    running = _one(_canary("Synthetics Canary Status Change", **{"current-state": "RUNNING"}))
    assert broken.status is Status.FIRING and running.status is Status.RESOLVED
    assert broken.fingerprint == running.fingerprint
    stopped = _canary("Synthetics Canary Status Change", **{"current-state": "STOPPED"})
    assert not normalize_body(json.dumps(stopped)).alerts


# --- Cost Anomaly Detection's EventBridge event --------------------------------------------------


def _sample(name: str) -> Any:
    with open(f"{__file__.rsplit('/', 1)[0]}/payloads/{name}", encoding="utf-8") as sample:
        return json.load(sample)


def _anomaly_event(notice: dict[str, Any]) -> dict[str, Any]:
    """The `Anomaly Detected` event of the anomaly `notice` tells SNS about."""
    return {
        "version": "0",
        "id": "9d2e4f1a-3b5c-4d6e-8f7a-0b1c2d3e4f5a",
        "detail-type": "Anomaly Detected",
        "source": "aws.ce",
        "account": "123456789012",
        "time": "2026-12-01T12:00:00Z",
        "region": "us-east-1",
        "resources": [notice["monitorArn"]],
        "detail": notice,
    }


def test_a_cost_anomaly_event_is_the_incident_its_sns_notice_is() -> None:
    """Cost Anomaly Detection's EventBridge event is keyed and titled as its SNS notice is
    (one incident whichever way it came), and another anomaly of the same monitor is
    another incident, not a repeat of every anomaly the monitor found."""
    envelope = _sample("aws/cost-anomaly.json")
    notice = json.loads(envelope["Message"])
    by_sns = _one(envelope)
    by_event = _one(_anomaly_event(notice))
    assert by_event.fingerprint == by_sns.fingerprint
    assert by_event.title == by_sns.title
    other = _one(_anomaly_event(notice | {"anomalyId": "another-anomaly"}))
    assert other.fingerprint != by_event.fingerprint
