"""Better Stack Errors' error webhook (Errors → Outgoing webhooks → Error webhook), pointed at
the gateway's generic path: a JSON:API `error` resource whose attributes name the event, read
as format `betterstack` (`checkers`) with a source of its own.

Identity: the error's id (`data.id`), never its message, type, link or counts; an Uptime
incident of the same id is another source's incident.
States (`data.attributes.event`, its spaces or hyphens read as underscores): new_error,
threshold, spike, reoccurred and unresolved fire; resolved and ignored resolve (a person closed
the error, as a resolved or ignored Sentry issue does); any other event is refused, naming it.
The webhook states no time of its own: each is dated when it was queued, so a resolve that
follows an error's events is never older than they are.
"""

from __future__ import annotations

import re
from typing import Any

from triage.errors import InvalidAlertError
from triage.models import Alert, Status
from triage.normalize import common
from triage.normalize.common import Normalized
from triage.normalize.vendors import labelled, paragraphs

SOURCE = "betterstack-errors"

_ERROR = "error"
#: The webhook's events (its "New error", "Threshold", "Spike", "Reoccurred", "Resolved",
#: "Ignored" and "Unresolved" choices).
_FIRING = frozenset({"new_error", "threshold", "spike", "reoccurred", "unresolved"})
_RESOLVED = frozenset({"resolved", "ignored"})
_SEPARATORS = re.compile(r"[\s-]+")


def matches(data: dict[str, Any]) -> bool:
    """An `error` resource (the webhook's `data`) whose attributes name the event."""
    attributes = data.get("attributes")
    kind = data.get("type")
    return (
        isinstance(kind, str)
        and kind.strip().lower() == _ERROR
        and isinstance(attributes, dict)
        # Present is enough: an event of the wrong type is refused naming its field.
        and "event" in attributes
    )


def normalize(data: dict[str, Any], payload: dict[str, Any]) -> Normalized:
    """The error's one alert."""
    error_id = common.ident(data.get("id"), "data.id")
    attributes = common.obj(data.get("attributes"), "data.attributes", required=True)
    event = common.line(attributes.get("event"), "data.attributes.event", 64, shown=True)
    word = _SEPARATORS.sub("_", (event or "").strip().lower())
    if word not in _FIRING | _RESOLVED:
        raise InvalidAlertError(
            f"betterstack error event {common.short(attributes.get('event'))} is not new_error, "
            "threshold, spike, reoccurred, unresolved, resolved or ignored"
        )
    kind = _shown(attributes, "error_type")
    said = _shown(attributes, "error_message")
    app = _shown(attributes, "application_name")
    alert = Alert(
        source=SOURCE,
        status=Status.RESOLVED if word in _RESOLVED else Status.FIRING,
        title=common.first_title(
            f"{kind}: {said}" if kind and said else None,
            kind or said,
            f"Better Stack error in {app}" if app else None,
            f"Better Stack error {error_id}",
        ),
        description=paragraphs(attributes.get("error_message"), _call_site(attributes)),
        links=common.links(source=common.url(attributes.get("error_url"), "error_url")),
        labels=labelled(
            ("error_id", error_id),
            # Whole, not `_shown`'s: `add_label` shows each cut and keeps it whole for routes.
            ("application", attributes.get("application_name")),
            ("application_id", attributes.get("application_id")),
            ("error_type", attributes.get("error_type")),
            ("event", event),
        ),
        occurred_at=common.now(),
        identity={"error": error_id},
        raw=payload,
    )
    return Normalized((alert,), ())


def _shown(attributes: dict[str, Any], field: str) -> str | None:
    """A one-line attribute as shown text (a cut marked with "…")."""
    return common.line(common.unnested(attributes.get(field)), field, shown=True)


def _call_site(attributes: dict[str, Any]) -> str | None:
    """Where the error was raised, as the webhook names it (function, and file when given)."""
    where = [_shown(attributes, key) for key in ("call_site_function", "call_site_file")]
    if not any(where):
        return None
    return "Raised in " + " at ".join(part for part in where if part) + "."
