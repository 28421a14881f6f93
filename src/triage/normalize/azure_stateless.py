"""Azure Monitor's alerts whose alert instance is not the incident (common alert schema):
Service Health (an Azure service issue in a region) and Resource Health (one resource's
availability) are activity log alerts, which are stateless: every notification is a new alert
instance with a new `alertId` and `monitorCondition` "Fired", its recovery included (the
payload samples of learn.microsoft.com's "Sample alert payloads" page). A log search alert
that does not resolve itself fires a new instance each time it fires too.

Identity, Service Health: the event's `trackingId`, which all of its communications share.
States, Service Health (`alertContext.properties.stage`, else `alertContext.status`): Active
(and a maintenance's Planned, InProgress, Rescheduled) fires; Resolved, RCA (the post-incident
review), Complete and Canceled resolve; any other is refused, naming it. Planned maintenance
(`incidentType` Maintenance) is Skipped as `maintenance`.
Identity, Resource Health: the resource's id (lower-cased: Azure writes one id in several
cases), whichever rule told of it.
States, Resource Health (`properties.currentHealthStatus`, else the verb of `operationName`,
".../healthevent/Resolved/action"): Unavailable and Degraded fire, Available resolves, Unknown
(Azure lost the signal) changes no ticket.
Their team is the action group's custom property `team`, as any alert's.
Their severity is the activity log's fixed Sev4, no choice of the rule's author: it is no
severity (their default priority is medium, as for an alert of unknown severity), only the
label `azure_severity`.
Identity, log search and metric alerts (`signalType` Log or Metric, Azure Managed
Prometheus's included): the rule, its targets (lower-cased) and the dimensions the alert is
split by (`condition.allOf[].dimensions`, a V1 log alert's `Dimensions`, a Prometheus alert's
series `labels`; one whose value is empty or null is none). A stateless rule notifies again
with a new alert instance while its condition holds, and a stateful one fires a new instance
each time it fires again after it resolved: keyed so, the repeats are counted on one incident,
a new firing reopens it, and a stateful rule's Fired and Resolved are one incident too; their
state is `monitorCondition` as any alert's. Activity log alerts stay keyed by their instance:
each is one event, not a condition that holds.
"""

from __future__ import annotations

import html
import re
from datetime import datetime
from typing import Any

from triage.errors import InvalidAlertError
from triage.models import Alert, Priority, Status
from triage.normalize import common
from triage.normalize.common import Normalized, Skipped
from triage.normalize.generic import dated
from triage.normalize.vendors import add_own_labels, first_given, labelled, paragraphs, quiet

AZURE = "azure"
SERVICE_HEALTH = "servicehealth"
RESOURCE_HEALTH = "resourcehealth"

#: Azure's severities: Sev0 critical, Sev1 error, Sev2 warning, Sev3 informational, Sev4 verbose.
PRIORITIES = {"sev0": Priority.CRITICAL, "sev1": Priority.HIGH, "sev2": Priority.MEDIUM,
              "sev3": Priority.LOW, "sev4": Priority.LOW}  # fmt: skip

_SH_FIRING = frozenset({"active", "planned", "inprogress", "rescheduled"})
_SH_RESOLVED = frozenset({"resolved", "rca", "complete", "completed", "canceled", "cancelled"})
_RH_STATES = {"unavailable": Status.FIRING, "degraded": Status.FIRING,
              "available": Status.RESOLVED}  # fmt: skip
_RH_VERBS = {"activated": Status.FIRING, "updated": Status.FIRING, "inprogress": Status.FIRING,
             "resolved": Status.RESOLVED}  # fmt: skip
#: An HTML tag in a communication (Service Health writes its text as HTML); bounded, so a
#: hostile text costs one linear pass.
_TAG = re.compile(r"<[^<>]{0,500}>")
_BREAK = re.compile(r"<\s*(?:br\s*/?|/p|/li|/tr|/h\d)\s*>", re.IGNORECASE)


def kind(essentials: dict[str, Any], context: dict[str, Any]) -> str | None:
    """SERVICE_HEALTH, RESOURCE_HEALTH or None: by `monitoringService`, else by the event's
    operation ("Microsoft.ServiceHealth/incident/action")."""
    service = _letters(essentials.get("monitoringService"))
    if service in (SERVICE_HEALTH, RESOURCE_HEALTH):
        return service
    operation = context.get("operationName")
    head = _letters(operation.split("/", 1)[0]) if isinstance(operation, str) else ""
    return {"microsoftservicehealth": SERVICE_HEALTH,
            "microsoftresourcehealth": RESOURCE_HEALTH}.get(head)  # fmt: skip


def _letters(value: Any) -> str:
    """A word as compared: its ASCII letters, lower case ("Resource Health" → resourcehealth)."""
    if not isinstance(value, str):
        return ""
    return "".join(ch for ch in value[:200] if ch.isascii() and ch.isalpha()).lower()


def untagged(value: Any) -> str | None:
    """HTML text as plain text: breaks and paragraph ends as newlines, tags removed, entities
    ("&amp;") read."""
    said = common.text(value, "communication", common.DESCRIPTION_MAX * 2)
    if not said:
        return None
    return html.unescape(_TAG.sub("", _BREAK.sub("\n", said)))


def service_health(payload: dict[str, Any], essentials: dict[str, Any]) -> Normalized:
    data = common.obj_or_empty(payload.get("data"))
    context = common.obj_or_empty(data.get("alertContext"))
    props = common.obj_or_empty(context.get("properties"))
    incident_type = common.word(props.get("incidentType"), "incidentType", 64)
    title = props.get("title") or props.get("defaultLanguageTitle")
    if _letters(incident_type) == "maintenance":
        detail = (
            f"azure service health maintenance {common.short(title)}: planned work, "
            "no ticket change"
        )
        return Normalized((), (Skipped(AZURE, "maintenance", detail),))
    tracking = common.ident(props.get("trackingId"), "data.alertContext.properties.trackingId")
    stage_at, stage = first_given(
        ("data.alertContext.properties.stage", props.get("stage")),
        ("data.alertContext.status", context.get("status")),
    )
    status = _sh_status(stage, stage_at)
    rule = common.line(common.unnested(essentials.get("alertRule")), "alertRule")
    occurred, notes = _dated(context, essentials)
    alert = Alert(
        source=AZURE,
        status=status,
        title=common.first_title(title, rule, f"Azure Service Health event {tracking}"),
        team=team(payload),
        description=paragraphs(
            untagged(props.get("communication") or props.get("defaultLanguageContent"))
        ),
        labels=with_custom_properties(
            labelled(
                ("rule", essentials.get("alertRule")),  # whole: `add_label` cuts it
                ("monitoring_service", essentials.get("monitoringService")),
                ("azure_severity", essentials.get("severity")),
                ("tracking_id", tracking),
                ("service", props.get("service")),
                ("region", props.get("region")),
                ("incident_type", props.get("incidentType")),  # whole, as the rule
                ("stage", stage),
            ),
            payload,
        ),
        occurred_at=occurred,
        identity={"service_health": tracking},
        raw=payload,
    )
    return Normalized((alert,), (), notes)


def team(payload: dict[str, Any]) -> str | None:
    """The team an action group's custom properties name (`data.customProperties.team`), as
    for every common-schema alert."""
    data = common.obj_or_empty(payload.get("data"))
    return common.word(common.obj_or_empty(data.get("customProperties")).get("team"), "team")


def with_custom_properties(labels: common.Labels, payload: dict[str, Any]) -> common.Labels:
    """`labels` and the alert's custom properties (`data.customProperties`, set on its action
    group or alert rule: env, service …) by their own names (`vendors.add_own_labels`), as
    for every common-schema alert; the reader's own labels keep the reader's value."""
    data = common.obj_or_empty(payload.get("data"))
    add_own_labels(labels, data.get("customProperties"))
    return labels


def _dated(context: dict[str, Any], essentials: dict[str, Any]) -> tuple[datetime, tuple[str, ...]]:
    """The event's time, else when the alert fired; a note names the field it was read from."""
    when_at, when = first_given(
        ("data.alertContext.eventTimestamp", context.get("eventTimestamp")),
        ("data.essentials.firedDateTime", essentials.get("firedDateTime")),
    )
    return dated(when, f"azure {when_at}")


def _sh_status(stage: Any, field: str) -> Status:
    """The stage (`field` names where it was read) as a state; an unknown one is refused."""
    word = _letters(common.unnested(stage))
    if not word or word in _SH_FIRING:
        return Status.FIRING
    if word in _SH_RESOLVED:
        return Status.RESOLVED
    raise InvalidAlertError(
        f"azure service health {field} {common.short(stage)} is "
        "not Active, Resolved, RCA, Planned, InProgress, Rescheduled, Complete or Canceled"
    )


def resource_health(payload: dict[str, Any], essentials: dict[str, Any]) -> Normalized:
    data = common.obj_or_empty(payload.get("data"))
    context = common.obj_or_empty(data.get("alertContext"))
    props = common.obj_or_empty(context.get("properties"))
    resource = _resource(essentials)
    current = props.get("currentHealthStatus")
    status = _rh_status(current, context.get("operationName"))
    if status is None:
        return quiet(AZURE, f"resource {common.short(resource)} health", current)
    rule = common.line(common.unnested(essentials.get("alertRule")), "alertRule")
    items = common.items_or_empty(essentials.get("configurationItems"))
    name = next((i for i in items if isinstance(i, str) and i.strip()), None)
    occurred, notes = _dated(context, essentials)
    change = f"Health: {common.shown(props.get('previousHealthStatus'))} → {common.shown(current)}"
    alert = Alert(
        source=AZURE,
        status=status,
        title=common.first_title(
            f"{rule} on {name}" if rule and name else rule, f"Resource Health of {resource}"
        ),
        team=team(payload),
        description=paragraphs(props.get("title"), props.get("details"), change),
        labels=with_custom_properties(
            labelled(
                ("rule", essentials.get("alertRule")),  # whole: `add_label` cuts it
                ("monitoring_service", essentials.get("monitoringService")),
                ("azure_severity", essentials.get("severity")),
                ("target", resource),
                ("health", current),
                ("cause", props.get("cause")),
                ("type", props.get("type")),
            ),
            payload,
        ),
        occurred_at=occurred,
        identity={"resource_health": resource},
        raw=payload,
    )
    return Normalized((alert,), (), notes)


def _resource(essentials: dict[str, Any]) -> str:
    """The resource's id, lower-cased, from `alertTargetIDs` (else `configurationItems`)."""
    for field in ("alertTargetIDs", "configurationItems"):
        for item in common.items_or_empty(essentials.get(field)):
            found = common.ident_or_none(item, f"data.essentials.{field}")
            if found and isinstance(item, str):
                return found.lower()
    raise InvalidAlertError(
        "azure resource health data.essentials.alertTargetIDs is missing: the resource "
        "cannot be identified"
    )


def _rh_status(current: Any, operation: Any) -> Status | None:
    """Firing, resolved, or None for Unknown; InvalidAlertError when neither the status nor
    the operation says."""
    word = _letters(common.unnested(current))
    if word == "unknown":
        return None
    if word in _RH_STATES:
        return _RH_STATES[word]
    if not word and isinstance(operation, str):
        verb = _letters(operation.rsplit("/", 2)[-2] if operation.count("/") >= 2 else "")
        if verb in _RH_VERBS:
            return _RH_VERBS[verb]
        raise InvalidAlertError(
            f"azure resource health data.alertContext.operationName {common.short(operation)} "
            "(read as no currentHealthStatus is given) is not an Activated, Updated, "
            "InProgress or Resolved event"
        )
    raise InvalidAlertError(
        f"azure resource health data.alertContext.properties.currentHealthStatus "
        f"{common.short(current)} is not Available, Unavailable, Degraded or Unknown"
    )


#: The signals whose alert is a condition that holds on a resource, keyed by rule and resource.
_CONDITION_SIGNALS = frozenset({"log", "metric"})


def rule_identity(essentials: dict[str, Any], context: dict[str, Any]) -> dict[str, str] | None:
    """A log search or metric alert's identity (rule, targets, dimensions), or None for any
    other signal, or an alert naming no rule (keyed by its instance as before)."""
    if _letters(essentials.get("signalType")) not in _CONDITION_SIGNALS:
        return None
    rule = common.ident_or_none(essentials.get("alertRule"), "data.essentials.alertRule")
    if not rule:
        return None
    targets = sorted(
        t.strip().lower()
        for t in common.items_or_empty(essentials.get("alertTargetIDs"))
        if isinstance(t, str) and t.strip()
    )
    return {"rule": rule, "targets": ",".join(targets), "dimensions": _dimensions(context)}


def _dimensions(context: dict[str, Any]) -> str:
    """The dimensions an alert is split by, "name=value" sorted and comma-separated. One with
    no value ("", null or none given) is no dimension, as an empty Prometheus label is no
    label: the same alert with it and without it is one incident."""
    condition = common.obj_or_empty(context.get("condition"))
    given = (
        [
            dimension
            for criterion in common.items_or_empty(condition.get("allOf"))
            for dimension in common.items_or_empty(common.obj_or_empty(criterion).get("dimensions"))
        ]
        or common.items_or_empty(context.get("Dimensions"))
        or _series_labels(context)
    )
    pairs = {
        f"{common.shown(d.get('name'))}={common.shown(d.get('value'))}"
        for d in given
        if isinstance(d, dict) and d.get("value") not in (None, "")
    }
    return ",".join(sorted(pairs))


def _series_labels(context: dict[str, Any]) -> list[dict[str, Any]]:
    """An Azure Prometheus alert's series labels (`alertContext.labels`) as dimensions: the
    rule fires one alert per label set, as Prometheus does."""
    labels = common.obj_or_empty(context.get("labels"))
    return [{"name": name, "value": value} for name, value in labels.items()]
