"""Graylog's HTTP Notification (type `http-notification-v1`), whose body Graylog fixes: the JSON
of EventNotificationModelData (Graylog2/graylog2-server, org/graylog/events/notifications/
EventNotificationModelData.java; the fields on go2docs.graylog.org's Notifications page):
`event_definition_id`, `_type`, `_title`, `_description`, `remediation_steps`, the job's ids,
the `event` (EventDto: id, message, source, key, key_tuple, priority, alert, timestamp,
fields, group_by_fields …) and the `backlog` of messages. Read as format `graylog`, source
`graylog`. The Custom HTTP Notification (`http-notification-v2`) posts a body its user
templates: read as a generic alert, if it is one.

Identity: the event definition's id and the event's `key` (its group-by values; "" without a
group-by); never a title, message, priority, time or custom field.
Labels: the group-by fields, and the definition's custom fields (`event.fields`: service, env
…) by their own names, `team` among them its team; a custom field named as a group-by field or
a label of the reader's keeps the reader's value.
States: every notification fires; Graylog sends none when the condition clears, so the ticket
stays open until closed by hand (a later event of the definition and key is counted on it).
"Execute Test Notification" (definition id `NotificationTestId`, from NotificationTestData)
is Skipped as `test_notification` with one log line.
"""

from __future__ import annotations

from typing import Any

from triage.models import Alert, Status
from triage.normalize import common
from triage.normalize.common import Normalized, Skipped
from triage.normalize.generic import dated
from triage.normalize.vendors import add_own_labels, labelled, paragraphs, untitled

SOURCE = "graylog"

#: The definition id of the body "Execute Test Notification" posts.
_TEST_DEFINITION = "NotificationTestId"
#: Graylog's event priorities (EventDefinitionPriorityEnum: Info 0 to Critical 4), each the
#: event's severity. 2 keeps the name older Graylog releases gave it, "normal" (Graylog now
#: says "medium"), so routes and tickets that match it keep working.
_PRIORITIES = {0: "info", 1: "low", 2: "normal", 3: "high", 4: "critical"}
#: At most this many group-by fields become labels.
_GROUP_BY_MAX = 20


def matches(payload: dict[str, Any]) -> bool:
    """A notification: the event definition's id and the `event` it raised."""
    return (
        untitled(payload)
        and "event_definition_id" in payload
        and isinstance(payload.get("event"), dict)
    )


def normalize(payload: dict[str, Any]) -> Normalized:
    definition = common.ident(payload.get("event_definition_id"), "event_definition_id")
    if definition == _TEST_DEFINITION:
        detail = "graylog test notification (definition NotificationTestId): no ticket change"
        return Normalized((), (Skipped(SOURCE, "test_notification", detail),))
    event = common.obj(payload.get("event"), "event", required=True)
    key = common.ident_or_none(event.get("key"), "event.key") or ""
    # No priority sent (None) is no severity, never Info (0).
    level = common.count(event.get("priority"))
    severity = None if level is None else _PRIORITIES.get(level)
    group_by = list(common.obj_or_empty(event.get("group_by_fields")).items())
    fields = common.obj_or_empty(event.get("fields"))
    occurred, notes = dated(event.get("timestamp"), "graylog event.timestamp")
    labels = labelled(
        *group_by[:_GROUP_BY_MAX],
        ("event_definition_id", definition),
        ("event_definition_type", payload.get("event_definition_type")),
        # The group-by values the event is about: the summariser names them in a step.
        ("group", key),
        ("priority", severity),
        ("backlog_messages", len(common.items_or_empty(payload.get("backlog"))) or None),
    )
    add_own_labels(labels, fields)
    alert = Alert(
        source=SOURCE,
        status=Status.FIRING,
        title=common.first_title(
            payload.get("event_definition_title"),
            event.get("message"),
            f"Graylog event definition {definition}",
        ),
        team=common.word(fields.get("team"), "event.fields.team"),
        severity=severity,
        description=paragraphs(
            event.get("message"),
            payload.get("event_definition_description"),
            payload.get("remediation_steps"),
        ),
        labels=labels,
        occurred_at=occurred,
        identity={"definition": definition, "key": key},
        raw=payload,
    )
    return Normalized((alert,), (), notes)
