"""PagerDuty's v2 and v1 webhooks, which PagerDuty no longer supports but old service
extensions still send: `{"messages": [...]}`, each message one incident's event, several
incidents' events batched in one body.

A v2 message names its event in `event` (`incident.trigger`, `.acknowledge`,
`.unacknowledge`, `.resolve`, `.assign`, `.escalate`, `.delegate`, `.annotate`) and carries the
whole `incident`; a v1 message names it in `type` and carries the incident as `data.incident`.
Each is read as the v3 event it stands for (`vendors.read_pagerduty_event`), so an incident
keeps its fingerprint (service + `incident_key`, else the incident's id) when its webhook is
moved to a v3 subscription: trigger and unacknowledge fire, resolve resolves, every other event
changes no ticket. A v1 incident has no `title`: its `trigger_summary_data.subject` (else its
description) titles it. A message that is not an object or has no incident is refused naming
the message (`messages[1]`): a body is read whole or not at all, so no incident of it is lost.
"""

from __future__ import annotations

from typing import Any

from triage.errors import InvalidAlertError
from triage.normalize import common
from triage.normalize.common import Normalized
from triage.normalize.vendors import matches_pagerduty, normalize_pagerduty, read_pagerduty_event

#: The v2/v1 events whose v3 names `read_pagerduty_event` fires or resolves on; any other
#: event keeps its own name, which its "no ticket change" skip then names.
_AS_V3 = {
    "incident.trigger": "incident.triggered",
    "incident.unacknowledge": "incident.unacknowledged",
    "incident.resolve": "incident.resolved",
}

#: Said in the log once per body: the webhook works, and what replaces it.
MOVE_NOTE = (
    "pagerduty v{version} webhook read: PagerDuty no longer supports v1 and v2 webhooks; add a "
    "v3 webhook subscription (Integrations > Generic Webhooks (v3)) to the same URL, which keys "
    "each incident as this one does"
)


def matches_any(payload: dict[str, Any]) -> bool:
    """A PagerDuty webhook of any version: v3 (`vendors.matches_pagerduty`), v2 or v1. One
    format, "pagerduty", so the gateway's generic path takes each as it takes v3."""
    return matches_pagerduty(payload) or matches(payload)


def normalize_any(payload: dict[str, Any]) -> Normalized:
    """A v3 webhook as `vendors` reads it; a v2 or v1 webhook message by message."""
    return normalize_pagerduty(payload) if matches_pagerduty(payload) else normalize(payload)


def matches(payload: dict[str, Any]) -> bool:
    """A v2 or v1 webhook: a list of `messages`, one of them naming an `incident.` event."""
    messages = payload.get("messages")
    return isinstance(messages, list) and any(_event_name(m) is not None for m in messages)


def _event_name(message: Any) -> str | None:
    """The message's event (v2 `event`, v1 `type`) when it is an incident's, else None."""
    if not isinstance(message, dict):
        return None
    for key in ("event", "type"):
        name = message.get(key)
        if isinstance(name, str) and name.lower().startswith("incident."):
            return name
    return None


def normalize(payload: dict[str, Any]) -> Normalized:
    alerts: list[Any] = []
    skipped: list[Any] = []
    notes: list[str] = []
    versions: set[int] = set()
    for index, message in enumerate(payload["messages"]):
        read, version = _read_message(message, index)
        alerts += read.alerts
        skipped += read.skipped
        notes += read.notes
        versions.add(version)
    notes += [MOVE_NOTE.format(version=version) for version in sorted(versions)]
    return Normalized(tuple(alerts), tuple(skipped), tuple(notes))


def _read_message(message: Any, index: int) -> tuple[Normalized, int]:
    """One message as the v3 event it stands for, and its webhook version (2 or 1)."""
    where = f"pagerduty webhook messages[{index}]"
    name = _event_name(message)
    if name is None or not isinstance(message, dict):
        raise InvalidAlertError(f"{where} names no incident event (`event` or `type`)")
    version = 2 if "event" in message else 1
    incident = (
        message.get("incident")
        if version == 2
        else common.obj_or_empty(message.get("data")).get("incident")
    )
    if not isinstance(incident, dict):
        field = "incident" if version == 2 else "data.incident"
        raise InvalidAlertError(f"{where} has no {field} object: the incident is not named")
    event = {
        "event_type": _AS_V3.get(name.lower(), name),
        "resource_type": "incident",
        "occurred_at": message.get("created_on"),
        "data": _as_v3_incident(incident),
    }
    return read_pagerduty_event(event, message), version


def _as_v3_incident(incident: dict[str, Any]) -> dict[str, Any]:
    """A v2 or v1 incident with the names v3 gives its facts: `number`, a `title` (v1's
    trigger subject), and the service's and escalation policy's `summary` (v1's `name`)."""
    data = dict(incident)
    data.setdefault("number", incident.get("incident_number"))
    trigger = common.obj_or_empty(incident.get("trigger_summary_data"))
    data["title"] = common.first_title(
        incident.get("title"),
        trigger.get("subject"),
        trigger.get("description"),
        incident.get("description"),
        incident.get("summary"),
        f"PagerDuty incident {common.short(incident.get('id'), 40)}",
    )
    for key in ("service", "escalation_policy"):
        part = incident.get(key)
        if isinstance(part, dict) and "summary" not in part:
            data[key] = {**part, "summary": part.get("name")}
    return data
