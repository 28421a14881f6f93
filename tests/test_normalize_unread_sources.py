"""Sources that were refused or misread before: Raygun's status changes, Better Stack Errors'
error webhook, DMS events by EventBridge, MemoryDB's SNS notices, and UptimeRobot's and
Checkly's test messages. Each reader fires, counts a repeat, resolves one incident, refuses a
malformed variant naming the field, and keeps its fingerprint across the vendor's volatile
fields.

Where each shape comes from:
- Raygun: its webhook documentation (raygun.com/documentation/product-guides/crash-reporting/
  integrations/webhooks: `error_activity`, StatusChanged, AssignedToUser, CommentAdded) and the
  activity body of Zulip's Raygun integration fixtures (zerver/webhooks/raygun/fixtures/
  error_status_changed.json: `error.status`, `error.activityDate`, `error.description`).
- Better Stack Errors: betterstack.com/docs/errors/integrations/outgoing-webhooks (its example
  error webhook body, `data.type` "error", `data.attributes.event` "new_error"; the events New
  error, Threshold, Spike, Reoccurred, Resolved, Ignored, Unresolved).
- DMS by EventBridge: docs.aws.amazon.com/dms/latest/userguide/CHAP_EventBridge.html (source
  aws.dms, detail type, category, eventType, eventId, resourceLink, detailMessage) and
  docs.aws.amazon.com/eventbridge/latest/ref/events-ref-dms.html (the detail types).
- MemoryDB: docs.aws.amazon.com/memorydb/latest/devguide/memorydbsns.html (its event names:
  MemoryDB:AddNodeComplete, MemoryDB:ClusterProvisioningFailed …), published as ElastiCache's
  `<Service>:<Event>` notice.
- UptimeRobot's and Checkly's test messages: their templates' variables (`*monitorID*`,
  `{{CHECK_ID}}`) left unfilled, as checkers.py reads them.
"""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
import structlog

from factories import T0
from recording_pipeline import Sink, pipeline_into, trigger_repeat_recovery
from source_samples import one, run
from triage.errors import InvalidAlertError
from triage.incidents import Action
from triage.models import EffectKind, Status
from triage.normalize import Normalized, normalize_body, recognise_body
from triage.routes import KNOWN_SOURCES
from triage.sqs.inbox import Message

PAYLOADS = Path(__file__).parent / "payloads"


def sample(name: str) -> dict[str, Any]:
    value: dict[str, Any] = json.loads((PAYLOADS / name).read_text(encoding="utf-8"))
    return value


async def actions_of(*bodies: dict[str, Any]) -> tuple[list[Action], list[EffectKind]]:
    """What a fresh pipeline decides for `bodies`, a minute apart, and its sink's effects."""
    sink = Sink()
    pipeline = pipeline_into(sink)
    actions = []
    for minute, body in enumerate(bodies):
        at = T0 + timedelta(minutes=minute)
        message = Message(f"m-{minute}", json.dumps(body), f"r-{minute}", 1, at, received_at=at)
        actions += [outcome.action for outcome in await pipeline.process(message)]
    return actions, [effect.kind for effect in sink.effects]


#: (trigger, recovery) samples of each new reader.
PAIRS = [
    ("raygun/new-error.json", "raygun/status-changed.json"),
    ("betterstack/error-new.json", "betterstack/error-resolved.json"),
    ("eventbridge/dms-task-failed.json", "eventbridge/dms-task-started.json"),
]


@pytest.mark.parametrize(("trigger", "recovery"), PAIRS)
async def test_fire_repeat_and_resolve_are_one_ticket(trigger: str, recovery: str) -> None:
    """Through the pipeline, the trigger opens a ticket, the same trigger again is counted and
    the recovery closes it: one incident, one ticket."""
    actions, effects = await trigger_repeat_recovery(PAYLOADS / trigger, PAYLOADS / recovery)
    assert actions == [Action.OPEN, Action.COUNT, Action.CLOSE]
    assert effects == [EffectKind.OPEN, EffectKind.CLOSE]


def test_the_new_sources_are_sources_a_route_may_name() -> None:
    """Every alert of the new samples carries a source a routes file may match."""
    names = [trigger for pair in PAIRS for trigger in pair] + [
        "aws/memorydb-provisioning-failed.json"
    ]
    sources = {
        a.source for name in names for a in normalize_body((PAYLOADS / name).read_bytes()).alerts
    }
    assert sources == {"raygun", "betterstack-errors", "eventbridge", "aws"}
    assert sources <= set(KNOWN_SOURCES)


# --- Raygun status changes --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("status", "expected"),
    [("Resolved", Status.RESOLVED), ("Ignored", Status.RESOLVED),
     ("PermanentlyIgnored", Status.RESOLVED), ("Resolved in version 4.2.1", Status.RESOLVED),
     ("Permanently Ignored", Status.RESOLVED), ("Active", Status.FIRING)],
)  # fmt: skip
def test_a_raygun_status_change_resolves_or_fires_the_groups_incident(
    status: str, expected: Status
) -> None:
    """A group resolved or ignored in Raygun resolves its incident, made active again fires
    it; the error notification's fingerprint either way, the status shown as Raygun wrote it."""
    body = sample("raygun/status-changed.json")
    body["error"]["status"] = status
    alert = one(body)
    assert alert.status is expected
    assert alert.fingerprint == one(sample("raygun/new-error.json")).fingerprint
    assert alert.labels["error_status"] == status


def test_a_raygun_status_change_is_dated_by_its_activity() -> None:
    """The close is dated when the person changed the status, later than the notification it
    closes (dated by the error's last occurrence), so it is never taken as stale."""
    closed = one(sample("raygun/status-changed.json"))
    fired = one(sample("raygun/new-error.json"))
    assert closed.occurred_at > fired.occurred_at
    assert closed.occurred_at.isoformat() == "2026-11-23T10:15:00+00:00"


async def test_a_raygun_group_reopened_in_raygun_reopens_its_ticket() -> None:
    """Opened by a notification, closed by a resolve in Raygun, then made active again: the
    closed ticket is reopened, not a second one opened."""
    actions, effects = await actions_of(
        sample("raygun/new-error.json"),
        sample("raygun/status-changed.json"),
        sample("raygun/status-active.json"),
    )
    assert actions == [Action.OPEN, Action.CLOSE, Action.REOPEN]
    assert effects == [EffectKind.OPEN, EffectKind.CLOSE, EffectKind.REOPEN]


def test_a_raygun_status_changes_volatile_fields_keep_its_fingerprint() -> None:
    """Who changed it, when, the description and the group's message never key the incident;
    the group's link does."""
    body = sample("raygun/status-changed.json")
    body["error"] |= {"user": "Someone Else", "activityDate": "2026-12-01T00:00:00Z",
                      "description": "other words", "message": "renamed"}  # fmt: skip
    assert one(body).fingerprint == one(sample("raygun/status-changed.json")).fingerprint
    body["error"]["url"] = "https://app.raygun.com/crashreporting/5pz3ab/errors/1"
    assert one(body).fingerprint != one(sample("raygun/status-changed.json")).fingerprint


def test_other_raygun_activity_changes_no_ticket() -> None:
    """An assignment (and a comment) is understood and Skipped, never an alert."""
    result = run(sample("raygun/assigned.json"))
    assert (result.alerts, [s.reason for s in result.skipped]) == ((), ["no_state_change"])


@pytest.mark.parametrize(
    ("error", "message"),
    [({"status": "Snoozed"}, "raygun error.status 'Snoozed' is not Resolved, Ignored"),
     ({"status": None}, "raygun error.status null is not Resolved"),
     ({"status": {"a": 1}}, "raygun error.status"),
     ({"url": "not a link"}, "raygun error.url 'not a link' is no link to an error group")],
)  # fmt: skip
def test_a_malformed_raygun_status_change_is_refused_naming_the_field(
    error: dict[str, Any], message: str
) -> None:
    """A status Raygun never sends, none at all or a group link that is none is an
    InvalidAlertError naming the field, never a guess."""
    body = sample("raygun/status-changed.json")
    body["error"] |= error
    with pytest.raises(InvalidAlertError, match=message):
        run(body)


# --- Better Stack Errors ----------------------------------------------------------------------


def test_a_better_stack_error_is_read_as_its_error() -> None:
    """Format `betterstack` (the gateway's generic path takes it), source `betterstack-errors`,
    titled by the error's type and message, linked to the error, its call site described."""
    recognised = recognise_body((PAYLOADS / "betterstack/error-new.json").read_bytes())
    assert recognised.format == "betterstack"
    [alert] = recognised.normalized.alerts
    assert (alert.source, alert.status) == ("betterstack-errors", Status.FIRING)
    assert alert.title == "ActiveRecord::RecordNotFound: Couldn't find User with 'id'=999"
    assert alert.links == {
        "source": "https://errors.betterstack.com/team/12345/errors/a1b2c3d4e5?s=4821"
    }
    assert alert.description.endswith("Raised in UsersController#show.")
    assert alert.labels["application"] == "Backend API"


@pytest.mark.parametrize(
    ("event", "expected"),
    [("threshold", Status.FIRING), ("spike", Status.FIRING), ("reoccurred", Status.FIRING),
     ("unresolved", Status.FIRING), ("ignored", Status.RESOLVED), ("New error", Status.FIRING)],
)  # fmt: skip
def test_every_better_stack_error_event_keeps_the_errors_fingerprint(
    event: str, expected: Status
) -> None:
    """Each error event fires or resolves the one incident of the error."""
    body = sample("betterstack/error-new.json")
    body["data"]["attributes"]["event"] = event
    alert = one(body)
    assert (alert.status, alert.fingerprint) == (
        expected,
        one(sample("betterstack/error-new.json")).fingerprint,
    )


def test_a_better_stack_errors_volatile_fields_keep_its_fingerprint() -> None:
    """The message, type, link's query and application name never key the error; its id
    does, and an uptime incident of the same id is another incident."""
    body = sample("betterstack/error-new.json")
    body["data"]["attributes"] |= {"error_message": "other", "error_type": "E",
                                   "error_url": "https://errors.betterstack.com/x?s=1",
                                   "application_name": "renamed"}  # fmt: skip
    first = one(sample("betterstack/error-new.json"))
    assert one(body).fingerprint == first.fingerprint
    body["data"]["id"] = "z9y8x7"
    assert one(body).fingerprint != first.fingerprint
    incident = one(sample("betterstack/incident-started.json"))
    assert incident.source == "betterstack" and incident.fingerprint != first.fingerprint


@pytest.mark.parametrize(
    ("change", "message"),
    [({"attributes": {"event": "escalated"}}, "betterstack error event 'escalated' is not"),
     ({"id": ""}, "data.id is missing or empty"),
     ({"id": {"a": 1}}, "data.id")],
)  # fmt: skip
def test_a_malformed_better_stack_error_is_refused_naming_the_field(
    change: dict[str, Any], message: str
) -> None:
    """An event Better Stack never sends or an error without its id is an InvalidAlertError
    naming the field."""
    body = sample("betterstack/error-new.json")
    if "attributes" in change:
        body["data"]["attributes"] |= change["attributes"]
    else:
        body["data"] |= change
    with pytest.raises(InvalidAlertError, match=message):
        run(body)


# --- DMS by EventBridge -----------------------------------------------------------------------


def test_a_dms_event_by_eventbridge_is_its_task_and_condition() -> None:
    """A failed task is the task's failure incident (its ARN's id, the account and Region),
    titled by the console's name for the task and DMS's message; format `eventbridge`."""
    recognised = recognise_body((PAYLOADS / "eventbridge/dms-task-failed.json").read_bytes())
    assert recognised.format == "eventbridge"
    [alert] = recognised.normalized.alerts
    assert alert.identity == {
        "service": "dms", "account": "123456789012", "region": "eu-west-2",
        "source_type": "replication-task", "source_id": "QX3KZP7RLM2WD5YHTB6NC4EGJA",
        "condition": "task-failure",
    }  # fmt: skip
    assert alert.title.startswith("DMS replication-task orders-cdc: Last Error")
    assert alert.labels["event_id"] == "DMS-EVENT-0078"


def test_a_dms_events_volatile_fields_keep_its_fingerprint() -> None:
    """The event's id, time, message and console link never key it; without its eventId, its
    eventType names the same event; another task, or another event, is another incident."""
    failed = one(sample("eventbridge/dms-task-failed.json"))
    body = sample("eventbridge/dms-task-failed.json")
    body |= {"id": "other", "time": "2026-12-06T00:00:00Z"}
    body["detail"] |= {"detailMessage": "other", "resourceLink": None}
    assert one(body).fingerprint == failed.fingerprint
    del body["detail"]["eventId"]
    assert one(body).fingerprint == failed.fingerprint
    body["detail"]["eventId"] = "dms-event-0078"
    assert one(body).fingerprint == failed.fingerprint
    stopped = dict(body, detail=dict(body["detail"], eventId="DMS-EVENT-0079"))
    assert (one(stopped).status, one(stopped).fingerprint != failed.fingerprint) == (
        Status.FIRING,
        True,
    )
    other = dict(body, resources=["arn:aws:dms:eu-west-2:123456789012:task:OTHER"])
    assert one(other).fingerprint != failed.fingerprint


@pytest.mark.parametrize(
    ("change", "message"),
    [({"resources": []}, "DMS event names no resource"),
     ({"resources": "arn"}, "resources"),
     ({"resources": [""]}, r"resources\[0\] is missing or empty"),
     ({"account": ""}, "account is missing or empty")],
)  # fmt: skip
def test_a_malformed_dms_event_is_refused_naming_the_field(
    change: dict[str, Any], message: str
) -> None:
    """A DMS event that names no resource or account cannot be keyed: an InvalidAlertError
    naming the field."""
    with pytest.raises(InvalidAlertError, match=message):
        run(sample("eventbridge/dms-task-failed.json") | change)


# --- MemoryDB -----------------------------------------------------------------------------------


def memorydb(event: str, cluster: str = "orders-cache") -> Normalized:
    """The MemoryDB sample's envelope carrying `event` on `cluster`."""
    envelope = sample("aws/memorydb-provisioning-failed.json")
    envelope["Message"] = json.dumps({f"MemoryDB:{event}": cluster})
    return run(envelope)


def test_a_memorydb_notice_is_its_clusters_incident() -> None:
    """A MemoryDB notice is the cluster's condition in the topic's account and Region, apart
    from an ElastiCache cluster of the same name; the event that ends it resolves it, its one-
    line message form is the same incident."""
    [failed] = memorydb("ClusterProvisioningFailed").alerts
    assert failed.identity == {
        "service": "memorydb", "account": "123456789012", "region": "eu-west-1",
        "resource": "orders-cache", "condition": "provisioning",
    }  # fmt: skip
    assert failed.title == "MemoryDB cluster provisioning failed: orders-cache"
    [done] = memorydb("ClusterProvisioningComplete").alerts
    assert (done.status, done.fingerprint) == (Status.RESOLVED, failed.fingerprint)
    envelope = sample("aws/memorydb-provisioning-failed.json")
    envelope["Message"] = "MemoryDB:ClusterProvisioningFailed : orders-cache"
    assert one(envelope).fingerprint == failed.fingerprint
    envelope["Message"] = json.dumps({"ElastiCache:CacheClusterProvisioningFailed": "orders-cache"})
    assert one(envelope).fingerprint != failed.fingerprint


def test_memorydbs_pairs_and_other_events() -> None:
    """A node added resolves a node that could not be added (its reason after the event name
    is not part of it); an event of no pair fires as a condition of its own."""
    [failed] = memorydb("AddNodeFailed due to insufficient free IP addresses").alerts
    [added] = memorydb("AddNodeComplete").alerts
    assert (failed.status, added.status) == (Status.FIRING, Status.RESOLVED)
    assert failed.fingerprint == added.fingerprint
    [restore] = memorydb("ClusterRestoreFailed").alerts
    assert restore.identity["condition"] == "ClusterRestoreFailed"


async def test_memorydb_failure_repeat_and_completion_are_one_ticket() -> None:
    """Through the pipeline, a cluster's provisioning failure opens a ticket, the same notice
    again is counted and its completion closes it."""
    failed = sample("aws/memorydb-provisioning-failed.json")
    done = dict(
        failed, Message=json.dumps({"MemoryDB:ClusterProvisioningComplete": "orders-cache"})
    )
    done["Timestamp"] = "2026-12-05T06:40:00.000Z"
    # SNS sends a notice again under a MessageId of its own (the same id is one delivery).
    again = failed | {"MessageId": "6c1f0b2e-3d4a-4e5f-8a9b-0c1d2e3f4a5b"}
    actions, effects = await actions_of(failed, again, done)
    assert actions == [Action.OPEN, Action.COUNT, Action.CLOSE]
    assert effects == [EffectKind.OPEN, EffectKind.CLOSE]


def test_a_malformed_memorydb_notice_is_refused_naming_the_field() -> None:
    """A notice naming no cluster is an InvalidAlertError naming its key."""
    with pytest.raises(InvalidAlertError, match="MemoryDB:ClusterProvisioningFailed"):
        memorydb("ClusterProvisioningFailed", cluster="")


# --- UptimeRobot's and Checkly's test messages -------------------------------------------------


@pytest.mark.parametrize(
    ("name", "source"),
    [("uptimerobot/test-notification.json", "uptimerobot"),
     ("checkly/test-message.json", "checkly")],
)  # fmt: skip
async def test_a_tools_test_message_opens_no_ticket_and_logs_one_line(
    name: str, source: str
) -> None:
    """The "send test notification" button's body is Skipped as `test_notification` with one
    log line saying so: no ticket, and no dead letter."""
    recognised = recognise_body((PAYLOADS / name).read_bytes())
    assert recognised.format == source
    assert [(s.source, s.reason) for s in recognised.normalized.skipped] == [
        (source, "test_notification")
    ]
    with structlog.testing.capture_logs() as logs:
        actions, effects = await actions_of(sample(name))
    assert (actions, effects) == ([], [])
    skipped = [e for e in logs if e["event"] == "alert.skipped"]
    assert [(e["source"], e["reason"]) for e in skipped] == [(source, "test_notification")]


@pytest.mark.parametrize(
    ("name", "change", "message"),
    [("uptimerobot/test-notification.json", {"alertType": "1"},
      "uptimerobot monitorID and monitorFriendlyName are missing"),
     ("checkly/test-message.json", {"alert_type": "ALERT_FAILURE"},
      "check_id is missing or empty")],
)  # fmt: skip
def test_a_template_with_only_its_monitor_unfilled_is_still_refused(
    name: str, change: dict[str, Any], message: str
) -> None:
    """A real alert whose template left the monitor or check unfilled is no test message: it
    is refused naming the field, as before (a test leaves the alert's type unfilled too)."""
    with pytest.raises(InvalidAlertError, match=message):
        run(sample(name) | change)


@pytest.mark.parametrize(
    ("name", "filled"),
    [("uptimerobot/down.json", {"alertDetails": "*alertDetails*"}),
     ("checkly/failure.json", {"check_type": "{{CHECK_TYPE}}"})],
)  # fmt: skip
def test_a_real_alert_with_a_display_variable_unfilled_still_fires(
    name: str, filled: dict[str, Any]
) -> None:
    """An alert whose monitor and type are filled is never taken for a test, whatever display
    variables the template left unfilled."""
    alert = one(sample(name) | filled)
    assert (alert.status, alert.fingerprint) == (Status.FIRING, one(sample(name)).fingerprint)
