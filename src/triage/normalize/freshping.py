"""Freshping's (Freshworks) webhook: `webhook_event_data` about one check, with the webhook's
and organisation's ids around it (the bodies of Zulip's Freshping fixtures,
zerver/webhooks/freshping/fixtures, and the states its integration reads,
zerver/webhooks/freshping/view.py), or the same fields of the check flat at the top level, as a
webhook whose content is written with Freshping's placeholders sends them (with or without the
webhook's ids). Read as format `freshping`, source `freshping`.

Identity: the check's id (`check_id`); never its name, URL, codes or times.
States (`check_state_name`): Reporting Error (an answer of 4xx or 5xx) and Not Responding (no
answer within the check's timeout) fire, Available resolves, Paused (a webhook of type PS)
changes no ticket; any other is refused, naming it. Freshping's test message (its application
named "Webhook test") is Skipped as `test_notification` with one log line. A placeholder
filled as text reads as the number would ("521"); one filled with nothing ("") as absent.
"""

from __future__ import annotations

from typing import Any

from triage.errors import InvalidAlertError
from triage.models import Alert, Status
from triage.normalize import common
from triage.normalize.common import Normalized, Skipped
from triage.normalize.generic import dated
from triage.normalize.vendors import labelled, paragraphs, untitled

SOURCE = "freshping"

#: Freshping marks a check down on an error answer and on no answer alike.
_STATES = {
    "reporting error": Status.FIRING,
    "not responding": Status.FIRING,
    "available": Status.RESOLVED,
}
#: A paused check is not watched: no outage begins or ends.
_QUIET = frozenset({"paused"})
#: The application Freshping's test message names.
_TEST_APPLICATION = "webhook test"


#: The check's fields a flat body must carry at its top level (the state names Freshping's).
_FLAT = ("check_state_name", "check_id")


def matches(payload: dict[str, Any]) -> bool:
    """A webhook event: its `webhook_event_data` object and the webhook's and event's ids, or
    the check's state and id flat at the top level (`_FLAT`). Never a body with a `title`: a
    script's generic alert."""
    if not untitled(payload):
        return False
    nested = (
        isinstance(payload.get("webhook_event_data"), dict)
        and "webhook_id" in payload
        and "webhook_event_id" in payload
    )
    return nested or all(key in payload for key in _FLAT)


def _event(payload: dict[str, Any]) -> tuple[dict[str, Any], str]:
    """The check's fields, and the path before each field's name in a refusal
    (`webhook_event_data.` when nested, nothing when flat)."""
    if "webhook_event_data" in payload:
        data = common.obj(payload.get("webhook_event_data"), "webhook_event_data", required=True)
        return data, "webhook_event_data."
    return payload, ""


def normalize(payload: dict[str, Any]) -> Normalized:
    data, at = _event(payload)
    application = common.word(data.get("application_name"), "application_name")
    if (application or "").strip().lower() == _TEST_APPLICATION:
        detail = 'freshping test notification (application "Webhook test"): no ticket change'
        return Normalized((), (Skipped(SOURCE, "test_notification", detail),))
    state = common.line(common.unnested(data.get("check_state_name")), "check_state_name", 64)
    word = (state or "").strip().lower()
    status = _STATES.get(word)
    if status is None and word not in _QUIET:
        raise InvalidAlertError(
            f"freshping check_state_name {common.short(data.get('check_state_name'))} is not "
            "Reporting Error or Available (nor Not Responding or Paused)"
        )
    check_id = common.ident(data.get("check_id"), f"{at}check_id")
    if status is None:
        detail = f"freshping check {common.short(check_id)} is {word}: no ticket change"
        return Normalized((), (Skipped(SOURCE, "no_state_change", detail),))
    name = common.line(common.unnested(data.get("check_name")), "check_name", shown=True)
    target = common.line(common.unnested(data.get("request_url")), "request_url", shown=True)
    code = common.count(data.get("http_status_code"))
    occurred, notes = dated(
        data.get("request_start_time") or payload.get("webhook_event_created_on"),
        "freshping request_start_time",
    )
    alert = Alert(
        source=SOURCE,
        status=status,
        title=common.first_title(
            f"{name}: {state}" if name else None, f"Freshping check {check_id}: {state}"
        ),
        description=paragraphs(_said(status, target, code)),
        links=common.links(check=common.url(data.get("request_url"), "request_url")),
        labels=labelled(
            ("check_id", check_id),
            # Whole: `add_label` shows each cut and keeps it whole for routes and groups.
            ("check_name", data.get("check_name")),
            ("state", state),
            ("application", data.get("application_name")),
            ("request_url", data.get("request_url")),
            ("http_status_code", code),
        ),
        occurred_at=occurred,
        identity={"check": check_id},
        raw=payload,
    )
    return Normalized((alert,), (), notes)


def _said(status: Status, target: str | None, code: int | None) -> str:
    """One sentence of what Freshping saw."""
    where = target or "The check's URL"
    if status is Status.RESOLVED:
        return f"{where} is reachable again."
    answered = f" (HTTP status {code})" if code else ""
    return f"{where} is unreachable{answered}."
