"""Raygun Crash Reporting's webhook pointed at the gateway's generic path: one JSON body per
error notification (a new error, a regression, the follow-ups while it keeps occurring) or
activity on an error group (a status change, an assignment, a comment).

Identity: the error group, by its link (`error.url`, the group's page in Raygun, without query
or fragment): the notification names no group id of its own, and the link is the same on every
notification of one group; never its message, counts or times.
States (`eventType` of an `error_notification`): every one fires (NewErrorOccurred,
ErrorReoccurred, the One/Five/Ten/ThirtyMinute and Hourly follow-ups). An `error_activity`
(StatusChanged, AssignedToUser, CommentAdded) changes no ticket: Raygun's documentation shows no
activity body, so a group marked resolved in Raygun does not close its ticket; close it with
`triage incidents close`.
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


def matches(payload: dict[str, Any]) -> bool:
    """A webhook: its `event` (an error notification or activity), the `error` and the
    `application` it belongs to."""
    return (
        untitled(payload)
        and payload.get("event") in (_NOTIFICATION, _ACTIVITY)
        and isinstance(payload.get("error"), dict)
        and isinstance(payload.get("application"), dict)
    )


def normalize(payload: dict[str, Any]) -> Normalized:
    kind = common.line(common.unnested(payload.get("eventType")), "eventType", 64, shown=True)
    if payload.get("event") == _ACTIVITY:
        return quiet(SOURCE, "error group activity", kind)
    error = common.obj(payload.get("error"), "error", required=True)
    group = _group(error.get("url"))
    application = common.obj_or_empty(payload.get("application"))
    app = common.line(common.unnested(application.get("name")), "application.name")
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
            ("application", app),
            ("event_type", kind),
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
