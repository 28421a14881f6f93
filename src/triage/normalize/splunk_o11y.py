"""Splunk Observability Cloud's (SignalFx's) webhook integration: a detector's notification, in
the payload Splunk sends when the integration has no template of its own (`sf_schema` 2:
`detector`, `detectorId`, `detectorUrl`, `rule`, `incidentId`, `severity`, `status`,
`statusExtended`, `dimensions`, `inputs`, `messageTitle`, `messageBody`, `description`,
`runbookUrl`, `tip`, `timestamp`). Read as format and source `splunk-o11y`.

Identity: the detector (`detectorId`, else the id its `detectorUrl` names, else its name), the
rule and the signal the rule fired on (the notification's `dimensions`, else the dimensions of
its inputs), since Splunk opens a new incident, with a new `incidentId`, each time a cleared
rule fires again: a flapping signal's incidents are one, which reopens. A notification that
names no detector is keyed by its `incidentId`, which every alert keeps as the label
`incident_id`. States (`statusExtended`, else `status`, any case): anomalous fires; ok, manually
resolved and stopped (the detector stopped or the rule disabled: the incident ends) resolve; any
other is refused, naming it. Severity is Splunk's five steps: Critical, Major, Minor, Warning,
Info (critical, high, medium, low, low). The signal's dimensions are labels by their own names,
`team` among them its team.
"""

from __future__ import annotations

import re
from typing import Any

from triage.errors import InvalidAlertError
from triage.models import Alert, Priority, Status
from triage.normalize import common
from triage.normalize.common import Normalized
from triage.normalize.generic import dated
from triage.normalize.vendors import add_own_labels, labelled, paragraphs

SOURCE = "splunk-o11y"
FORMAT = SOURCE
#: The default payload's schema key, which only Splunk Observability sends.
SCHEMA = "sf_schema"

_FIRING = frozenset({"anomalous"})
_RESOLVED = frozenset({"ok", "manually resolved", "stopped"})
_PRIORITIES = {
    "critical": Priority.CRITICAL,
    "major": Priority.HIGH,
    "minor": Priority.MEDIUM,
    "warning": Priority.LOW,
    "info": Priority.LOW,
}
#: "…/#/detector/v2/<id>/edit…" or "…/#/detector/<id>/edit…": the detector a link names.
_DETECTOR_ID = re.compile(r"/detector/(?:v2/)?([A-Za-z0-9_-]{1,64})(?:[/?]|$)")
#: At most this many inputs are read for the signal's dimensions.
_INPUTS_MAX = 16


def matches(payload: dict[str, Any]) -> bool:
    """A detector's notification: its schema key and its incident or detector."""
    return SCHEMA in payload and ("incidentId" in payload or "detectorUrl" in payload)


def normalize(payload: dict[str, Any]) -> Normalized:
    status = _status(payload)
    incident = common.ident_or_none(common.unnested(payload.get("incidentId")), "incidentId")
    detector = common.line(common.unnested(payload.get("detector")), "detector")
    rule = common.line(common.unnested(payload.get("rule")), "rule")
    dimensions = _dimensions(payload)
    severity = common.word(payload.get("severity"), "severity")
    occurred, notes = dated(payload.get("timestamp"), "splunk-o11y timestamp")
    labels = labelled(
        ("incident_id", incident),
        ("detector", detector),
        ("rule", rule),
        ("metric", payload.get("originatingMetric")),
    )
    add_own_labels(labels, dimensions)
    alert = Alert(
        source=SOURCE,
        status=status,
        title=common.first_title(
            f"{rule} ({detector})" if rule and detector else rule or detector,
            payload.get("messageTitle"),
            f"Splunk Observability incident {incident or 'without an id'}",
        ),
        team=common.word(dimensions.get("team"), "dimensions.team"),
        priority=_PRIORITIES.get((severity or "").lower()),
        severity=severity,
        description=paragraphs(
            payload.get("description"), payload.get("messageBody"), payload.get("tip")
        ),
        runbook_url=common.url(payload.get("runbookUrl"), "runbookUrl"),
        links=common.links(
            source=common.url(payload.get("detectorUrl"), "detectorUrl"),
            dashboard=common.url(payload.get("imageUrl"), "imageUrl"),
        ),
        labels=labels,
        occurred_at=occurred,
        identity=_identity(payload, incident, dimensions),
        raw=payload,
    )
    return Normalized((alert,), (), notes)


def _status(payload: dict[str, Any]) -> Status:
    """`statusExtended` (which tells a person's resolve from a clear), else `status` when the
    extended one is missing or a word Splunk added since: both are refused only when neither
    is read."""
    for field in ("statusExtended", "status"):
        word = (common.line(common.unnested(payload.get(field)), field, 64) or "").lower()
        if word in _FIRING:
            return Status.FIRING
        if word in _RESOLVED:
            return Status.RESOLVED
    raise InvalidAlertError(
        f"splunk-o11y statusExtended {common.short(payload.get('statusExtended'))} and status "
        f"{common.short(payload.get('status'))} are not anomalous, ok, manually resolved or "
        "stopped"
    )


def _identity(
    payload: dict[str, Any], incident: str | None, dimensions: dict[str, Any]
) -> dict[str, str]:
    """The detector, the rule and the signal; the incident's id when no detector is named."""
    detector = common.ident_or_none(common.unnested(payload.get("detectorId")), "detectorId")
    detector = detector or _linked_detector(payload.get("detectorUrl"))
    detector = detector or common.ident_or_none(
        common.unnested(payload.get("detector")), "detector"
    )
    if not detector:
        if not incident:
            raise InvalidAlertError(
                "splunk-o11y notification names no detector (detectorId, detectorUrl, "
                "detector) and no incidentId"
            )
        return {"incident": incident}
    rule = common.ident_or_none(common.unnested(payload.get("rule")), "rule") or ""
    return {"detector": detector, "rule": rule, "signal": _signal(dimensions)}


def _linked_detector(link: Any) -> str | None:
    if not isinstance(link, str):
        return None
    found = _DETECTOR_ID.search(link[: common.URL_MAX])
    return found[1] if found else None


def _dimensions(payload: dict[str, Any]) -> dict[str, Any]:
    """The signal's dimensions: the notification's own, else those its inputs name (an input's
    `key`, or `dimensions` in older payloads), the first input's winning."""
    own = common.obj_or_empty(payload.get("dimensions"))
    if own:
        return own
    found: dict[str, Any] = {}
    inputs = common.obj_or_empty(payload.get("inputs"))
    for name in sorted(k for k in inputs if isinstance(k, str))[:_INPUTS_MAX]:
        one = common.obj_or_empty(inputs[name])
        given = common.obj_or_empty(one.get("key")) or common.obj_or_empty(one.get("dimensions"))
        for key, value in given.items():
            found.setdefault(key, value)
    return found


def _signal(dimensions: dict[str, Any]) -> str:
    """The dimensions as "{name=value,…}", sorted, scalars only; "{}" when there are none."""
    pairs = sorted(
        f"{common.shown(k)}={common.shown(v)}"
        for k, v in dimensions.items()
        if v is not None and not isinstance(v, dict | list)
    )
    return "{" + ",".join(pairs) + "}"
