"""Raygun Crash Reporting's webhook pointed at the gateway's generic path: one JSON body per
error notification (a new error, a regression, the follow-ups while it keeps occurring) or
activity on an error group (a status change, an assignment, a comment).

Identity: the error group, by its link (`error.url`, the group's page in Raygun, without query
or fragment): the notification names no group id of its own, and the link is the same on every
notification of one group; never its message, counts or times.
States (`eventType` of an `error_notification`): every one fires (NewErrorOccurred,
ErrorReoccurred, the One/Five/Ten/ThirtyMinute and Hourly follow-ups). An `error_activity`'s
StatusChanged carries the group's new `error.status`: Resolved (also "Resolved in version …"),
Ignored and PermanentlyIgnored resolve the group's incident (a person closed it in Raygun, as a
resolved or ignored Sentry issue does), Active fires it again (reopened); it is dated by its
`activityDate`, so a close is never older than the notification it closes. Any other status is
refused, naming it. AssignedToUser and CommentAdded change no ticket.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from triage.errors import InvalidAlertError
from triage.models import Alert, Status
from triage.normalize import common
from triage.normalize.common import Normalized
from triage.normalize.generic import dated
from triage.normalize.vendors import labelled, paragraphs, quiet, untitled

SOURCE = "raygun"

_NOTIFICATION = "error_notification"
_ACTIVITY = "error_activity"
_STATUS_CHANGED = "StatusChanged"
#: An error group's statuses (letters only, lower case) → what its incident becomes. A status
#: that starts with "resolved" is also resolved: Raygun writes "Resolved in version 4.2.1" too.
_STATUSES = {
    "resolved": Status.RESOLVED,
    "ignored": Status.RESOLVED,
    "permanentlyignored": Status.RESOLVED,
    "active": Status.FIRING,
}


def matches(payload: dict[str, Any]) -> bool:
    """A webhook: its `event` (an error notification or activity), the `error` and the
    `application` it belongs to. An `event` that is not text at all still makes the body
    Raygun's, to be refused naming it rather than as an unknown body."""
    event = payload.get("event")
    return (
        untitled(payload)
        and (event in (_NOTIFICATION, _ACTIVITY) or not isinstance(event, str | None))
        and isinstance(payload.get("error"), dict)
        and isinstance(payload.get("application"), dict)
    )


def normalize(payload: dict[str, Any]) -> Normalized:
    event = common.line(payload.get("event"), "event", 64)
    if event not in (_NOTIFICATION, _ACTIVITY):
        raise InvalidAlertError(
            f"raygun event {common.short(payload.get('event'))} is not {_NOTIFICATION} "
            f"or {_ACTIVITY}"
        )
    kind = common.line(common.unnested(payload.get("eventType")), "eventType", 64, shown=True)
    if payload.get("event") == _ACTIVITY:
        if payload.get("eventType") == _STATUS_CHANGED:
            return _status_changed(payload)
        return quiet(SOURCE, "error group activity", kind)
    error = common.obj(payload.get("error"), "error", required=True)
    group = _group(error.get("url"))
    application = common.obj_or_empty(payload.get("application"))
    app = common.line(common.unnested(application.get("name")), "application.name", shown=True)
    instance = common.obj_or_empty(error.get("instance"))
    occurred, notes = dated(error.get("lastOccurredOn"), "raygun error.lastOccurredOn")
    alert = Alert(
        source=SOURCE,
        status=Status.FIRING,
        title=common.first_title(
            error.get("message"), f"Raygun error in {app}" if app else None, f"Raygun {group}"
        ),
        description=paragraphs(error.get("message"), _counts(error)),
        links=common.links(
            source=common.url(error.get("url"), "error.url"),
            application=common.url(application.get("url"), "application.url"),
        ),
        labels=labelled(
            ("application", application.get("name")),  # whole: `add_label` cuts it
            ("event_type", payload.get("eventType")),  # whole, as the application
            ("occurrences", error.get("totalOccurrences")),
            ("users_affected", error.get("usersAffected")),
            ("first_seen", error.get("firstOccurredOn")),
            ("tags", _tags(instance.get("tags"))),
        ),
        occurred_at=occurred,
        identity={"error_group": group},
        raw=payload,
    )
    return Normalized((alert,), (), notes)


def _status_changed(payload: dict[str, Any]) -> Normalized:
    """A person changed the error group's status in Raygun: resolved or ignored closes its
    incident, active (reopened) fires it again."""
    error = common.obj(payload.get("error"), "error", required=True)
    group = _group(error.get("url"))
    said = common.line(common.unnested(error.get("status")), "error.status", 64, shown=True)
    status = _status(said)
    application = common.obj_or_empty(payload.get("application"))
    app = common.line(common.unnested(application.get("name")), "application.name", shown=True)
    occurred, notes = dated(error.get("activityDate"), "raygun error.activityDate")
    alert = Alert(
        source=SOURCE,
        status=status,
        title=common.first_title(
            error.get("message"), f"Raygun error in {app}" if app else None, f"Raygun {group}"
        ),
        description=paragraphs(error.get("description")),
        links=common.links(
            source=common.url(error.get("url"), "error.url"),
            application=common.url(application.get("url"), "application.url"),
        ),
        labels=labelled(
            ("application", application.get("name")),  # whole: `add_label` cuts it
            ("event_type", _STATUS_CHANGED),
            ("error_status", said),
        ),
        occurred_at=occurred,
        identity={"error_group": group},
        raw=payload,
    )
    return Normalized((alert,), (), notes)


def _status(said: str | None) -> Status:
    """The incident's state for a group status Raygun names; any other status is refused."""
    letters = "".join(ch for ch in said or "" if ch.isascii() and ch.isalpha()).lower()
    if letters.startswith("resolved"):
        letters = "resolved"
    status = _STATUSES.get(letters)
    if status is None:
        raise InvalidAlertError(
            f"raygun error.status {common.short(said)} is not Resolved, Ignored, "
            "PermanentlyIgnored or Active"
        )
    return status


def _group(value: Any) -> str:
    """The error group's link as its host (lower-cased) and path: what stays the same on every
    notification of one group, whatever query, fragment, port or credentials the link carries."""
    link = common.ident(value, "error.url")
    try:
        parts = urlsplit(link)
        parts.port  # noqa: B018 - read only to refuse a port that is no number in range
    except ValueError:
        parts = None
    if (
        parts is None
        or parts.scheme.lower() not in ("http", "https")
        or not parts.hostname
        or not parts.path.strip("/")
    ):
        raise InvalidAlertError(
            f"raygun error.url {common.short(link)} is no link to an error group: "
            "the error cannot be identified"
        )
    return f"{parts.hostname}{parts.path.rstrip('/')}"


def _counts(error: dict[str, Any]) -> str | None:
    """How often and for how many users the error occurred, as Raygun counted them."""
    occurrences = common.word(error.get("totalOccurrences"), "totalOccurrences", 32)
    users = common.word(error.get("usersAffected"), "usersAffected", 32)
    if not occurrences and not users:
        return None
    return f"Occurrences: {occurrences or 'unknown'}; users affected: {users or 'unknown'}."


def _tags(value: Any) -> str:
    """The occurrence's tags as one comma-separated value."""
    tags = [t for t in common.items_or_empty(value)[: common.LABELS_MAX] if isinstance(t, str)]
    return ",".join(tags)
