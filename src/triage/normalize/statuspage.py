"""Atlassian Statuspage's webhook notifications, what a team subscribes to a vendor's status
page with (support.atlassian.com/statuspage/docs/enable-webhook-notifications; the bodies of
Zulip's Statuspage fixtures, zerver/webhooks/statuspage/fixtures): `meta`, `page` and either
the `incident` created or updated, or a `component_update` with its `component`. Read as
format `statuspage`, source `statuspage`. Better Stack's status page subscriptions copy the
shape but give an incident no `status` (betterstack.com/docs/uptime/status-pages/
subscribing-to-status-updates/subscribing-with-webhooks): refused, naming `incident.status`.

Identity: the page's id and the incident's id (`incident.id`), or the page's id and the
component's id (`component_update.component_id`, else `component.id`); never a name, a status
or an update's text.
States, incident (`incident.status`): investigating, identified and monitoring fire; resolved
and postmortem resolve; a scheduled maintenance's (scheduled, in_progress, verifying,
completed) is planned work, no outage: Skipped as `maintenance` with one log line.
States, component (`component_update.new_status`, else `component.status`): degraded_performance,
partial_outage and major_outage fire; operational resolves; under_maintenance is Skipped as
`maintenance`. Any other status is refused, naming it.
Severity: an incident's `impact` (none, minor, major, critical); a component's status on that
scale, degraded_performance minor (medium), partial_outage and major_outage major (high).
`meta.unsubscribe` is a link that unsubscribes whoever holds it: it is never kept in `raw`.
"""

from __future__ import annotations

from typing import Any

from triage.errors import InvalidAlertError
from triage.models import Alert, Status
from triage.normalize import common
from triage.normalize.common import Normalized, Skipped
from triage.normalize.generic import dated
from triage.normalize.vendors import labelled, paragraphs, untitled

SOURCE = "statuspage"

_INCIDENT_FIRING = frozenset({"investigating", "identified", "monitoring"})
_INCIDENT_RESOLVED = frozenset({"resolved", "postmortem"})
_INCIDENT_MAINTENANCE = frozenset({"scheduled", "in_progress", "verifying", "completed"})
#: A component's status as the severity word of Statuspage's incident impact scale (none,
#: minor, major, critical), so that a component's outage ranks with an incident: degraded
#: performance is minor (medium), a partial outage major (high), as Statuspage itself rates
#: an incident on a partially out component, and a major outage major too (high), the
#: impact of the incident a vendor opens for it. An outage, partial or not, cuts users off.
_COMPONENT_SEVERITY = {
    "degraded_performance": "minor",
    "partial_outage": "major",
    "major_outage": "major",
}
_COMPONENT_FIRING = frozenset(_COMPONENT_SEVERITY)
_COMPONENT_RESOLVED = frozenset({"operational"})
_COMPONENT_MAINTENANCE = frozenset({"under_maintenance"})


def matches(payload: dict[str, Any]) -> bool:
    """A notification: the `page` it is about (with its `id`), the `meta` Statuspage adds, and
    an `incident` or a `component_update`."""
    page = payload.get("page")
    return (
        untitled(payload)
        and isinstance(payload.get("meta"), dict)
        and isinstance(page, dict)
        and "id" in page
        and (isinstance(payload.get("incident"), dict) or "component_update" in payload)
    )


def normalize(payload: dict[str, Any]) -> Normalized:
    page = common.obj(payload.get("page"), "page", required=True)
    page_id = common.ident(page.get("id"), "page.id")
    if isinstance(payload.get("incident"), dict):
        return _incident(payload, page, page_id)
    return _component(payload, page, page_id)


def _state(value: Any, field: str) -> str:
    """A status word as compared: lower case, spaces as underscores."""
    word = common.line(common.unnested(value), field, 64) or ""
    return word.strip().lower().replace(" ", "_")


def _kept(payload: dict[str, Any]) -> dict[str, Any]:
    """The body as `raw`, without the unsubscribe link (anyone holding it can use it)."""
    meta = {k: v for k, v in common.obj_or_empty(payload.get("meta")).items() if k != "unsubscribe"}
    return payload | {"meta": meta}


def _maintenance(what: str, status: str) -> Normalized:
    detail = (
        f"statuspage {what} is {common.short(status, 40)}: planned maintenance, no ticket change"
    )
    return Normalized((), (Skipped(SOURCE, "maintenance", detail),))


def _incident(payload: dict[str, Any], page: dict[str, Any], page_id: str) -> Normalized:
    incident = common.obj(payload.get("incident"), "incident", required=True)
    incident_id = common.ident(incident.get("id"), "incident.id")
    status = _state(incident.get("status"), "incident.status")
    if status in _INCIDENT_MAINTENANCE:
        return _maintenance(f"incident {common.short(incident_id, 64)}", status)
    if status not in _INCIDENT_FIRING | _INCIDENT_RESOLVED:
        raise InvalidAlertError(
            f"statuspage incident.status {common.short(incident.get('status'))} is not "
            "investigating, identified, monitoring, resolved or postmortem"
        )
    latest = common.obj_or_empty(
        next(iter(common.items_or_empty(incident.get("incident_updates"))), None)
    )
    when = incident.get("resolved_at") if status in _INCIDENT_RESOLVED else None
    occurred, notes = dated(when or incident.get("updated_at"), "statuspage incident.updated_at")
    alert = Alert(
        source=SOURCE,
        status=Status.RESOLVED if status in _INCIDENT_RESOLVED else Status.FIRING,
        title=common.first_title(incident.get("name"), f"Status page incident {incident_id}"),
        severity=common.word(incident.get("impact"), "incident.impact"),
        description=paragraphs(latest.get("body"), page.get("status_description")),
        links=common.links(status_page=common.url(incident.get("shortlink"), "shortlink")),
        labels=labelled(
            ("page_id", page_id),
            ("incident_id", incident_id),
            ("status", status),
            ("impact", incident.get("impact")),
            ("components", _names(incident.get("components"))),
        ),
        occurred_at=occurred,
        identity={"page": page_id, "incident": incident_id},
        raw=_kept(payload),
    )
    return Normalized((alert,), (), notes)


def _component(payload: dict[str, Any], page: dict[str, Any], page_id: str) -> Normalized:
    update = common.obj(payload.get("component_update"), "component_update", required=True)
    component = common.obj_or_empty(payload.get("component"))
    component_id = common.ident(
        update.get("component_id") or component.get("id"), "component_update.component_id"
    )
    status = _state(update.get("new_status") or component.get("status"), "new_status")
    if status in _COMPONENT_MAINTENANCE:
        return _maintenance(f"component {common.short(component_id, 64)}", status)
    if status not in _COMPONENT_FIRING | _COMPONENT_RESOLVED:
        raise InvalidAlertError(
            f"statuspage component_update.new_status {common.short(update.get('new_status'))} "
            "is not operational, degraded_performance, partial_outage or major_outage"
        )
    name = common.line(common.unnested(component.get("name")), "component.name", shown=True)
    said = status.replace("_", " ")
    occurred, notes = dated(update.get("created_at"), "statuspage component_update.created_at")
    alert = Alert(
        source=SOURCE,
        status=Status.RESOLVED if status in _COMPONENT_RESOLVED else Status.FIRING,
        title=common.first_title(
            f"{name}: {said}" if name else None, f"Status page component {component_id}: {said}"
        ),
        severity=_COMPONENT_SEVERITY.get(status),
        description=paragraphs(
            f"Component status changed from {_state(update.get('old_status'), 'old_status') or 'unknown'} to {status}.",
            page.get("status_description"),
        ),
        labels=labelled(
            ("page_id", page_id),
            ("component_id", component_id),
            ("status", status),
        ),
        occurred_at=occurred,
        identity={"page": page_id, "component": component_id},
        raw=_kept(payload),
    )
    return Normalized((alert,), (), notes)


def _names(components: Any) -> str | None:
    """The affected components' names, comma-separated (at most ten)."""
    named = [
        common.line(
            common.unnested(common.obj_or_empty(c).get("name")),
            "components[].name",
            100,
            shown=True,
        )
        for c in common.items_or_empty(components)[:10]
    ]
    return ", ".join(n for n in named if n) or None
