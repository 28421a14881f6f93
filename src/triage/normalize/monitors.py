"""Webhooks of monitoring services pointed at the gateway's generic path: New Relic workflows
(their default payload) and legacy webhook channels, Azure Monitor's common alert schema,
Google Cloud Monitoring and Uptime Kuma. Like `vendors`, each is known by keys only that
service sends and keyed by what its open and close, and its next outage of the same check,
share: the service's own id of the check, never one it makes anew for every outage.

Identity, newrelic: the account (its `issueUrl`'s /accounts/<id>/), the policy
(`alertPolicyNames`), the condition (`conditionFamilyId` when a
template sends it, else `alertConditionNames` or a template's `condition_name`) and the entity
(`impactedEntities`), each list's first, what the issue opened with (incidents that join an
open issue are listed after it), since New Relic opens a new issue, with a new `id`, each time
a closed condition is breached again; an issue naming no condition and no policy is keyed by
its `id`, which every alert keeps as the label `issue_id` (a template without a `title` is
titled by its `issueTitle`, else its condition). A template may name the id and the page as
the workflow variables do (`issueId`, `issuePageUrl`) or otherwise (`issue_id`, `incident_id`,
`issue_url` on New Relic's host): read, and keyed, as the default payload's `id` and `issueUrl`. States: CREATED and ACTIVATED fire, CLOSED resolves; an
acknowledgement (ACKNOWLEDGED, or a person's action, trigger USER_ACTION) and DEACTIVATED (the
issue no longer notifies, merged into another maybe of the same key) change no ticket.
Team, newrelic: a template's own `team` (the default payload names none).
Identity, newrelic (a legacy alert policy's webhook channel, format `newrelic-legacy`, before
workflows): the account, the condition (`condition_id`, else `condition_name`), the
`policy_name` and the first target (its id, else name), not the violation's new `incident_id`
(kept as the label `incident_id`; the key when neither condition nor policy is named). States
(`current_state`): open fires, closed resolves, acknowledged changes no ticket, and the
channel's test (`test`) neither; its `severity` (CRITICAL, WARNING, INFO) is the priority.
An issue whose first-listed policy, condition or entity changes while it is open is keyed anew
by its close, which then closes nothing: the open incident waits for `triage incidents close`
or a route's `resolve_after_s`.
Identity, azure: the alert instance's `alertId`, which its Fired and Resolved share; Service
Health, Resource Health, log search and metric alerts, whose firings may each be a new
instance, as `azure_stateless` says. Azure's older per-type schemas are refused, saying to turn the common schema on.
Its custom properties (`data.customProperties`, set on the action group or the alert rule:
env, service …) are labels by their own names, read by routes and groups as an Alertmanager
alert's labels are; `team` among them is its team.
An action group's "Test action group" payloads (every one names the placeholder subscription
11111111-1111-1111-1111-111111111111 in its `alertId`) are skipped as `test_notification`.
Identity, gcp: the project, the policy's condition (its resource name `condition.name`, else the
policy's and the condition's names) and the time series it is about (the monitored `resource`
and the `metric`'s labels, else the resource's name), since Cloud Monitoring opens a new
incident, with a new `incident_id`, each time a condition is met again: a flapping check's
outages are one incident, which reopens. An incident naming no policy or condition is keyed by
its `incident_id`, which every alert keeps as the label `incident_id`. The policy's user labels
(`policy_user_labels`) are labels by their own names, as Azure's custom properties are; `team`
among them is its team; so are the monitored resource's own user labels
(`metadata.user_labels`, a VM's env or team), a label the policy sets too keeping the policy's. State open fires, closed
resolves, acknowledged changes no ticket; the channel's test notification (`"version": "test"`)
neither.
Identity, uptimekuma: the monitor's id and name (ids restart at 1 on every Uptime Kuma
server); heartbeat status 0 (down) fires, 1 (up) resolves, 2 (pending) and 3 (maintenance)
change no ticket (a number, or its digits as text). A monitor's tags are listed in the label
`tags`, and a tag with a value ("env: prod") is a label by its own name too, `team` its team,
as Azure's custom properties are. A notification with no heartbeat and no
monitor is the Test button's (its `msg` ends in " Testing": skipped as `test_notification`) or
a notice of Uptime Kuma's own, a certificate's or (2.0) a domain's expiry: it fires, keyed by
what expires (the notices at 21, 14 and 7 days are one ticket; no notice follows a renewal,
so the ticket waits for `triage incidents close` or `resolve_after_s`), another notice by its
text; one without a `msg` is refused. Its
GET (the query's `heartbeat` and `monitor` as JSON text) and its "form-data" body (the JSON in
one field, `data`) are read as its JSON body is.
"""

from __future__ import annotations

import re
from typing import Any

from triage.decode import load_json
from triage.errors import InvalidAlertError, TriageError
from triage.models import Alert, Priority, Status
from triage.normalize import azure_stateless, common
from triage.normalize.common import Normalized, Skipped
from triage.normalize.generic import dated
from triage.normalize.vendors import (
    add_own_labels,
    first_given,
    first_ident,
    labelled,
    paragraphs,
    quiet,
    untitled,
)

NEWRELIC = "newrelic"
AZURE = "azure"
GCP = "gcp"
UPTIME_KUMA = "uptimekuma"
SOURCES = (NEWRELIC, AZURE, GCP, UPTIME_KUMA)


def _listed(value: Any) -> str:
    """An array of names ("alertPolicyNames") as one comma-separated label value."""
    items = value if isinstance(value, list) else [value]
    scalars = [
        i for i in items[: common.LABELS_MAX] if i is not None and not isinstance(i, dict | list)
    ]
    return ", ".join(common.shown(i) for i in scalars)


# --- New Relic ---------------------------------------------------------------------------------

_NR_FIRING = frozenset({"created", "activated"})
_NR_RESOLVED = frozenset({"closed"})
#: An issue New Relic deactivated (one of its issues API's four states): it no longer
#: notifies, as when it was merged into another issue, which may carry the same key. Its
#: ticket is left as it is: the issue's CLOSED, or the issue it joined, says the rest.
_NR_QUIET = frozenset({"deactivated"})


#: Where a workflow's template puts the issue's id: the default payload's `id`, the variable's
#: own name (`issueId`), and the names templates give it.
NR_ID_KEYS = ("id", "issueId", "issue_id", "incidentId", "incident_id")
#: Where it puts the issue's page: the default payload's `issueUrl`, the variable's own name
#: (`issuePageUrl`), both New Relic's alone; and names any service may use, read as New
#: Relic's only when the link is on its host.
NR_URL_KEYS = ("issueUrl", "issuePageUrl")
NR_URL_KEYS_SHARED = ("issue_url", "issue_page_url")
_NR_HOST = re.compile(r"https://[a-z0-9.-]{0,100}\bnewrelic\.com/", re.IGNORECASE)


def matches_newrelic(payload: dict[str, Any]) -> bool:
    """A workflow's payload: the issue's id, its page and `state` (the default one has a
    `title` too; a custom template may not), under the default payload's names (`id`,
    `issueUrl`) or the workflow variables' own (`issueId`, `issuePageUrl`) or a template's."""
    if "state" not in payload or not any(key in payload for key in NR_ID_KEYS):
        return False
    return any(key in payload for key in NR_URL_KEYS) or any(
        isinstance(link := payload.get(key), str) and _NR_HOST.match(link) is not None
        for key in NR_URL_KEYS_SHARED
    )


def _nr_issue(payload: dict[str, Any]) -> str:
    """The issue's id, under whichever name the template gave it (the first of `NR_ID_KEYS`
    given: a template may carry an incident's id beside the issue's)."""
    key = next((key for key in NR_ID_KEYS if payload.get(key) not in (None, "")), "id")
    return common.ident(payload.get(key), key)


def _nr_url(payload: dict[str, Any]) -> Any:
    """The issue's page, under whichever name the template gave it."""
    return next(
        (payload[key] for key in (*NR_URL_KEYS, *NR_URL_KEYS_SHARED) if payload.get(key)), None
    )


def normalize_newrelic(payload: dict[str, Any]) -> Normalized:
    issue = _nr_issue(payload)
    state = (common.line(common.unnested(payload.get("state")), "state", 64) or "").lower()
    trigger = payload.get("trigger", payload.get("triggerEvent"))
    person = str(trigger).upper() == "USER_ACTION"
    if state == "acknowledged" or (person and state in _NR_FIRING):
        return quiet(NEWRELIC, f"issue {common.short(issue)}", "acknowledged")
    if state in _NR_QUIET:
        return quiet(NEWRELIC, f"issue {common.short(issue)}", state)
    if state not in _NR_FIRING | _NR_RESOLVED:
        raise InvalidAlertError(
            f"newrelic state {common.short(payload.get('state'))} is not CREATED, "
            "ACTIVATED, DEACTIVATED, ACKNOWLEDGED or CLOSED"
        )
    conditions = _listed(payload.get("alertConditionNames"))
    when_at, when = first_given(
        ("updatedAt", payload.get("updatedAt")), ("createdAt", payload.get("createdAt"))
    )
    occurred, notes = dated(when, f"newrelic {when_at}")
    labels = labelled(
        ("issue_id", issue),
        ("policy", _listed(payload.get("alertPolicyNames"))),
        ("condition", conditions),
        ("entities", _listed(payload.get("impactedEntities"))),
        ("workflow", payload.get("workflowName")),
        ("incidents", payload.get("totalIncidents")),
    )
    stated, unread = common.first_priority(labels, ("newrelic priority", payload.get("priority")))
    alert = Alert(
        source=NEWRELIC,
        status=Status.RESOLVED if state in _NR_RESOLVED else Status.FIRING,
        title=common.first_title(
            payload.get("title"),
            payload.get("issueTitle"),
            conditions,
            payload.get("condition_name"),
            f"New Relic issue {issue}",
        ),
        description=paragraphs(payload.get("description") or payload.get("details")),
        # The default payload names no team; a template that adds one, as the generic
        # format's `team`, says whose the issue is.
        team=common.word(payload.get("team"), "team"),
        priority=stated,
        severity=common.word(payload.get("priority"), "priority"),
        links=common.links(source=common.url(_nr_url(payload), "issueUrl")),
        labels=labels,
        occurred_at=occurred,
        identity=_nr_identity(payload, issue),
        raw=payload,
    )
    return Normalized((alert,), (), notes + unread)


def _nr_identity(payload: dict[str, Any], issue: str) -> dict[str, str]:
    """The policy, the condition (its id when a template sends `conditionFamilyId`, else its
    name) and the entity the issue opened with (each list's first: incidents that join an open
    issue are listed after it): New Relic opens a new issue, with a new id, each time a closed
    condition is breached again. The issue's id only when it names no condition and no policy
    (a template that left them out)."""
    condition = first_ident(payload.get("conditionFamilyId"), "conditionFamilyId")
    field = "condition_id"
    if not condition:
        field = "condition"
        condition = first_ident(payload.get("alertConditionNames"), "alertConditionNames")
        condition = condition or first_ident(payload.get("condition_name"), "condition_name")
    policy = first_ident(payload.get("alertPolicyNames"), "alertPolicyNames")
    if not condition and not policy:
        return {"issue": issue}
    entity = first_ident(payload.get("impactedEntities"), "impactedEntities")
    keyed = {"policy": policy, field: condition, "entity": entity}
    account = _nr_account(_nr_url(payload))
    return {"account": account, **keyed} if account else keyed


#: The account an issue's page names: ".../accounts/4420147/issues/…" (the default payload
#: names the account nowhere else).
_NR_ACCOUNT = re.compile(r"/accounts/(\d{1,20})/")


def _nr_account(issue_url: Any) -> str | None:
    """The account of the issue's `issueUrl`, so that two accounts' policies, conditions and
    entities of one name (staging's and production's "Golden Signals") are two incidents, as
    a legacy channel's are; None when the link names none."""
    found = _NR_ACCOUNT.search(issue_url[: common.URL_MAX]) if isinstance(issue_url, str) else None
    return found[1] if found else None


# --- New Relic's legacy webhook channel ---------------------------------------------------------

_NR_LEGACY_STATES = {"open": Status.FIRING, "closed": Status.RESOLVED}
_NR_LEGACY_QUIET = frozenset({"acknowledged"})
_NR_LEGACY_TEST = "test"
#: Keys only a legacy channel's default payload (or a template keeping its names) has beside
#: the incident's id and state: one of them is enough.
_NR_LEGACY_NAMES = frozenset({"condition_name", "policy_name", "incident_url"})


def matches_newrelic_legacy(payload: dict[str, Any]) -> bool:
    """A legacy channel's payload: the incident's `incident_id` and `current_state`, with its
    condition's or policy's name or the incident's URL (a workflow sends none of them)."""
    return (
        untitled(payload)
        and {"incident_id", "current_state"} <= payload.keys()
        and not _NR_LEGACY_NAMES.isdisjoint(payload.keys())
    )


def normalize_newrelic_legacy(payload: dict[str, Any]) -> Normalized:
    said = payload.get("current_state")
    state = (common.line(common.unnested(said), "current_state", 64) or "").lower()
    if state == _NR_LEGACY_TEST:
        detail = "newrelic legacy channel test notification: no ticket change"
        return Normalized((), (Skipped(NEWRELIC, "test_notification", detail),))
    incident = common.ident(payload.get("incident_id"), "incident_id")
    if state in _NR_LEGACY_QUIET:
        return quiet(NEWRELIC, f"incident {common.short(incident)}", state)
    if state not in _NR_LEGACY_STATES:
        raise InvalidAlertError(
            f"newrelic current_state {common.short(said)} is not open, acknowledged or closed"
        )
    account = common.ident_or_none(payload.get("account_id"), "account_id") or ""
    occurred, notes = dated(payload.get("timestamp"), "newrelic timestamp")
    labels = labelled(
        ("incident_id", incident),
        ("account", payload.get("account_name")),
        ("policy", payload.get("policy_name")),
        ("condition", payload.get("condition_name")),
        ("targets", _listed(_nr_target_names(payload.get("targets")))),
    )
    severity = common.word(payload.get("severity"), "severity")
    stated, unread = common.first_priority(labels, ("newrelic severity", severity))
    alert = Alert(
        source=NEWRELIC,
        status=_NR_LEGACY_STATES[state],
        title=common.first_title(
            payload.get("details"),
            payload.get("condition_name"),
            f"New Relic incident {incident}",
        ),
        description=paragraphs(payload.get("details")),
        priority=stated,
        severity=severity,
        runbook_url=common.url(payload.get("runbook_url"), "runbook_url"),
        links=common.links(source=common.url(payload.get("incident_url"), "incident_url")),
        labels=labels,
        occurred_at=occurred,
        identity=_nr_legacy_identity(payload, account, incident),
        raw=payload,
    )
    return Normalized((alert,), (), notes + unread)


def _nr_legacy_identity(payload: dict[str, Any], account: str, incident: str) -> dict[str, str]:
    """The account, the condition (`condition_id`, else its name), the policy and the target
    (its id, else its name): a legacy channel's incident is new, with a new `incident_id`, for
    every violation. The account and the incident's id only when it names no condition and no
    policy."""
    condition = first_ident(payload.get("condition_id"), "condition_id")
    field = "condition_id"
    if not condition:
        condition, field = first_ident(payload.get("condition_name"), "condition_name"), "condition"
    policy = first_ident(payload.get("policy_name"), "policy_name")
    if not condition and not policy:
        return {"account": account, "incident": incident}
    targets = [common.obj_or_empty(t) for t in common.items_or_empty(payload.get("targets"))]
    target = first_ident([t.get("id", t.get("name")) for t in targets], "targets[].id")
    return {"account": account, "policy": policy, field: condition, "target": target}


def _nr_target_names(value: Any) -> list[Any]:
    """The names of the incident's targets (its entities)."""
    return [common.obj_or_empty(t).get("name") for t in common.items_or_empty(value)]


# --- Azure Monitor -----------------------------------------------------------------------------

AZURE_SCHEMA = "azureMonitorCommonAlertSchema"
#: The schemas Azure sends other than the common one while an action group's "Enable the
#: common alert schema" is off: metric alerts', activity log alerts', an Application Insights
#: log alert's and a Cost Management budget alert's (a Log Analytics log alert's names none).
AZURE_LEGACY_SCHEMAS = frozenset(
    {
        "AzureMonitorMetricAlert",
        "Microsoft.Insights/activityLogs",
        "Microsoft.Insights/LogAlert",
        "AIP Budget Notification",
    }
)


def matches_azure(payload: dict[str, Any]) -> bool:
    """The common alert schema: its `schemaId` and the `data.essentials` object; or an older
    schema's `schemaId` and `data` (refused, saying what to do)."""
    data = payload.get("data")
    if _azure_legacy(payload):
        return isinstance(data, dict) or "schemaId" not in payload
    return (
        payload.get("schemaId") == AZURE_SCHEMA
        and isinstance(data, dict)
        and isinstance(data.get("essentials"), dict)
    )


#: The subscription every payload of an action group's "Test action group" names in its
#: `alertId` (Microsoft's "Common alert schema definitions for Test Action Group"): a
#: placeholder no real subscription has.
_AZURE_TEST_ALERTS = "/subscriptions/11111111-1111-1111-1111-111111111111/"


def _azure_test(essentials: dict[str, Any]) -> bool:
    """Whether the alert is the action group's test notification, not an alert of its own."""
    alert_id = essentials.get("alertId")
    return isinstance(alert_id, str) and alert_id.strip().lower().startswith(_AZURE_TEST_ALERTS)


#: The older log alert webhook names no schema: it is known by these keys.
_AZURE_LEGACY_LOG_KEYS = frozenset({"WorkspaceId", "AlertRuleName", "SearchQuery"})


def _azure_legacy(payload: dict[str, Any]) -> bool:
    schema = payload.get("schemaId")
    if isinstance(schema, str) and schema in AZURE_LEGACY_SCHEMAS:
        return True
    return "title" not in payload and payload.keys() >= _AZURE_LEGACY_LOG_KEYS


def normalize_azure(payload: dict[str, Any]) -> Normalized:
    if _azure_legacy(payload):
        raise InvalidAlertError(
            f"azure schemaId {common.short(payload.get('schemaId'))} is an older alert schema "
            "(a log alert's has none): turn on the common alert schema for this webhook in "
            "the action group"
        )
    data = common.obj(payload.get("data"), "data", required=True)
    essentials = common.obj(data.get("essentials"), "data.essentials", required=True)
    if _azure_test(essentials):
        detail = "azure action group test notification (Test action group): no ticket change"
        return Normalized((), (Skipped(AZURE, "test_notification", detail),))
    context = common.obj_or_empty(data.get("alertContext"))
    health = azure_stateless.kind(essentials, context)
    if health == azure_stateless.SERVICE_HEALTH:
        return azure_stateless.service_health(payload, essentials)
    if health == azure_stateless.RESOURCE_HEALTH:
        return azure_stateless.resource_health(payload, essentials)
    alert_id = common.ident(essentials.get("alertId"), "data.essentials.alertId")
    status = _azure_status(essentials.get("monitorCondition"))
    rule = common.line(common.unnested(essentials.get("alertRule")), "alertRule")
    items = common.items_or_empty(essentials.get("configurationItems"))
    target = next((i for i in items if isinstance(i, str) and i.strip()), None)
    severity = common.word(essentials.get("severity"), "severity")
    when = essentials.get("resolvedDateTime") if status is Status.RESOLVED else None
    when_at, when = first_given(
        ("data.essentials.resolvedDateTime", when),
        ("data.essentials.firedDateTime", essentials.get("firedDateTime")),
    )
    occurred, notes = dated(when, f"azure {when_at}")
    custom = common.obj_or_empty(data.get("customProperties"))
    labels = azure_stateless.with_custom_properties(
        labelled(
            ("rule", essentials.get("alertRule")),  # whole: `add_label` cuts it
            ("signal_type", essentials.get("signalType")),
            ("monitoring_service", essentials.get("monitoringService")),
            ("target", _listed(essentials.get("alertTargetIDs"))),
            ("configuration_items", _listed(items)),
        ),
        payload,
    )
    alert = Alert(
        source=AZURE,
        status=status,
        title=common.first_title(
            f"{rule} on {target}" if rule and target else rule, f"Azure Monitor alert {alert_id}"
        ),
        team=common.word(custom.get("team"), "team"),
        priority=azure_stateless.PRIORITIES.get((severity or "").lower()),
        severity=severity,
        description=paragraphs(essentials.get("description")),
        labels=labels,
        occurred_at=occurred,
        identity=azure_stateless.rule_identity(essentials, context) or {"alert": alert_id},
        raw=payload,
    )
    return Normalized((alert,), (), notes)


def _azure_status(condition: Any) -> Status:
    """Fired or Resolved; none at all (an activity log alert, which only fires) fires."""
    if condition is None:
        return Status.FIRING
    word = condition.strip().lower() if isinstance(condition, str) else None
    if word == "fired":
        return Status.FIRING
    if word == "resolved":
        return Status.RESOLVED
    raise InvalidAlertError(
        f"azure monitorCondition {common.short(condition)} is not Fired or Resolved"
    )


# --- Google Cloud Monitoring -------------------------------------------------------------------

_GCP_PRIORITY = {"critical": Priority.CRITICAL, "error": Priority.HIGH,
                 "warning": Priority.MEDIUM}  # fmt: skip


def matches_gcp(payload: dict[str, Any]) -> bool:
    """A webhook channel's notification: an `incident` with its `incident_id` and `state`."""
    incident = payload.get("incident")
    return isinstance(incident, dict) and {"incident_id", "state"} <= incident.keys()


def normalize_gcp(payload: dict[str, Any]) -> Normalized:
    incident = common.obj(payload.get("incident"), "incident", required=True)
    incident_id = common.ident(incident.get("incident_id"), "incident.incident_id")
    if payload.get("version") == "test":
        detail = f"gcp test notification {common.short(incident_id)}: no ticket change"
        return Normalized((), (Skipped(GCP, "test_notification", detail),))
    status = _gcp_status(incident.get("state"))
    if status is None:
        return quiet(GCP, f"incident {common.short(incident_id)}", "acknowledged")
    project = common.ident_or_none(incident.get("scoping_project_id"), "scoping_project_id")
    policy = common.line(common.unnested(incident.get("policy_name")), "policy_name")
    # An uptime check's or a log-based policy's incident names its resource only by its
    # resource_name ("Uptime Check URL labels {host=…}").
    resource = common.line(
        common.unnested(incident.get("resource_display_name") or incident.get("resource_name")),
        "resource",
    )
    severity = common.word(incident.get("severity"), "severity")
    user_labels = common.obj_or_empty(incident.get("policy_user_labels"))
    resource_labels = common.obj_or_empty(
        common.obj_or_empty(incident.get("metadata")).get("user_labels")
    )
    documentation = incident.get("documentation")
    if isinstance(documentation, dict):
        documentation = documentation.get("content")
    ended = incident.get("ended_at") if status is Status.RESOLVED else None
    when_at, when = first_given(
        ("incident.ended_at", ended), ("incident.started_at", incident.get("started_at"))
    )
    occurred, notes = dated(when, f"gcp {when_at}")
    labels = labelled(
        ("incident_id", incident_id),
        ("project", project),
        ("policy", incident.get("policy_name")),  # whole, as the resource
        ("condition", incident.get("condition_name")),
        ("resource", incident.get("resource_display_name") or incident.get("resource_name")),
        ("resource_type", incident.get("resource_type_display_name")),
        ("metric", common.obj_or_empty(incident.get("metric")).get("type")),
    )
    add_own_labels(labels, user_labels)
    # After the policy's: a label both set keeps the policy's, which names who owns the alert.
    add_own_labels(labels, resource_labels)
    alert = Alert(
        source=GCP,
        status=status,
        title=common.first_title(
            f"{policy} on {resource}" if policy and resource else policy,
            incident.get("summary"),
            f"Cloud Monitoring incident {incident_id}",
        ),
        team=common.word(user_labels.get("team"), "team")
        or common.word(resource_labels.get("team"), "metadata.user_labels.team"),
        priority=_GCP_PRIORITY.get((severity or "").lower()),
        severity=severity,
        description=paragraphs(incident.get("summary"), documentation),
        links=common.links(source=common.url(incident.get("url"), "url")),
        labels=labels,
        occurred_at=occurred,
        identity=_gcp_identity(incident, project or "", incident_id),
        raw=payload,
    )
    return Normalized((alert,), (), notes)


def _gcp_identity(incident: dict[str, Any], project: str, incident_id: str) -> dict[str, str]:
    """The project, the policy's condition and the time series the incident is about; the
    project and the incident's id when it names neither a policy nor a condition."""
    named = _gcp_ident(common.obj_or_empty(incident.get("condition")), "name", "condition.name")
    if named:
        # "projects/P/alertPolicies/ID/conditions/ID": the policy and condition by id, which a
        # rename of either leaves as it is.
        return {"project": project, "condition": named, "series": _gcp_series(incident)}
    policy = _gcp_ident(incident, "policy_name")
    condition = _gcp_ident(incident, "condition_name")
    if not policy and not condition:
        return {"project": project, "incident": incident_id}
    return {
        "project": project,
        "policy": policy or "",
        "condition": condition or "",
        "series": _gcp_series(incident),
    }


def _gcp_ident(given: dict[str, Any], key: str, field: str = "") -> str | None:
    """A name that keys the incident, whole; None when absent, empty, an object or a list."""
    return common.ident_or_none(common.unnested(given.get(key)), f"incident.{field or key}")


def _gcp_series(incident: dict[str, Any]) -> str:
    """The time series: "type{label=value,…}" of the monitored resource, then the metric's
    labels, each sorted; else (a payload without its `resource`) the resource's name or id."""
    resource = common.obj_or_empty(incident.get("resource"))
    metric = common.obj_or_empty(incident.get("metric"))
    kind = _gcp_ident(resource, "type", "resource.type")
    if kind:
        series = f"{kind}{_gcp_labels(resource.get('labels'))}"
        return f"{series} {_gcp_labels(metric.get('labels'))}"
    for field in ("resource_name", "resource_display_name", "resource_id"):
        named = _gcp_ident(incident, field)
        if named:
            return named
    return ""


def _gcp_labels(value: Any) -> str:
    """Labels as "{name=value,…}", sorted; "{}" when there are none."""
    labels = common.obj_or_empty(value)
    pairs = sorted(f"{common.shown(k)}={common.shown(v)}" for k, v in labels.items())
    return "{" + ",".join(pairs) + "}"


def _gcp_status(state: Any) -> Status | None:
    """open fires, closed resolves, acknowledged (a person's) is None: no ticket change."""
    word = state.strip().lower() if isinstance(state, str) else None
    if word == "open":
        return Status.FIRING
    if word == "closed":
        return Status.RESOLVED
    if word == "acknowledged":
        return None
    raise InvalidAlertError(
        f"gcp incident.state {common.short(state)} is not open or closed (nor acknowledged, "
        "which changes no ticket)"
    )


# --- Uptime Kuma -------------------------------------------------------------------------------

_KUMA_STATUS = {0: Status.FIRING, 1: Status.RESOLVED}
_KUMA_QUIET = {2: "pending", 3: "maintenance"}
#: How the Test button's message ends: the notification's name, then " Testing" (server.js).
_KUMA_TESTING = " Testing"
#: An expiry notice, a certificate's ("[Shop][https://shop.example.com] server certificate
#: shop.example.com will be expired in 7 days", server/model/monitor.js) or, from 2.0, a
#: domain's ("Domain name example.com will expire in 7 days", domain_expiry.js): what
#: expires, then the days left, which the notices at 21, 14 and 7 days count down. The lazy
#: part is bounded, so a hostile message costs a bounded scan.
_KUMA_EXPIRY = re.compile(
    r"(?P<what>.{1,1000}?) will (?:be expired|expire) in (?P<days>-?\d{1,6}) days?"
)


def matches_uptime_kuma(payload: dict[str, Any]) -> bool:
    """The webhook notification: `heartbeat`, `monitor` (null in a test) and `msg`; as JSON,
    as its GET's query (`heartbeat` and `monitor` JSON text) or as its "form-data" (one field,
    `data`, holding that JSON)."""
    body = _kuma_form(payload) or payload
    return {"heartbeat", "monitor", "msg"} <= body.keys() and all(
        body[key] is None or isinstance(body[key], dict | str) for key in ("heartbeat", "monitor")
    )


def _kuma_form(payload: dict[str, Any]) -> dict[str, Any] | None:
    """The notification a "form-data" body's one field `data` holds, or None."""
    text = payload.get("data")
    if payload.keys() != {"data"} or not isinstance(text, str) or '"heartbeat"' not in text:
        return None
    try:
        body = load_json(text, "data")
    except TriageError:
        return None
    return body if isinstance(body, dict) else None


def _kuma_part(value: Any, field: str) -> Any:
    """`heartbeat` or `monitor` as an object: a GET sends each as JSON text."""
    return load_json(value, field) if isinstance(value, str) else value


def _kuma_monitor_id(monitor: dict[str, Any], beat: dict[str, Any]) -> str:
    """The monitor's `id`, else (a monitor object without one) the heartbeat's `monitorID`;
    a refusal names the field it was read from."""
    if "id" in monitor:
        return common.ident(monitor["id"], "monitor.id")
    return common.ident(beat.get("monitorID"), "heartbeat.monitorID")


def normalize_uptime_kuma(payload: dict[str, Any]) -> Normalized:
    raw, payload = payload, _kuma_form(payload) or payload
    beat = _kuma_part(payload["heartbeat"], "heartbeat")
    monitor = _kuma_part(payload["monitor"], "monitor")
    if beat is None and monitor is None:
        return _kuma_notice(payload.get("msg"), raw)
    beat = common.obj(beat, "heartbeat", required=True)
    monitor = common.obj(monitor, "monitor", required=True)
    monitor_id = _kuma_monitor_id(monitor, beat)
    name = common.ident(monitor.get("name"), "monitor.name")
    # A number, or its digits as text (a custom body's "{{ heartbeatJSON.status }}"); a
    # boolean, a word, an object or a list is no heartbeat status.
    code = common.count(beat.get("status"))
    if code in _KUMA_QUIET:
        return quiet(UPTIME_KUMA, f"monitor {common.short(name)}", _KUMA_QUIET[code])
    if code not in _KUMA_STATUS:
        raise InvalidAlertError(
            f"uptimekuma heartbeat.status {common.short(beat.get('status'))} is not 0 (down), "
            "1 (up), 2 (pending) or 3 (maintenance)"
        )
    tags = [t for t in common.items_or_empty(monitor.get("tags")) if isinstance(t, dict)]
    occurred, notes = dated(beat.get("time"), "uptimekuma heartbeat.time")
    labels = labelled(
        ("monitor_id", monitor_id),
        ("type", monitor.get("type")),
        ("url", monitor.get("url")),
        ("host", monitor.get("hostname")),
        ("tags", _listed([t.get("name") for t in tags])),
    )
    valued = _kuma_valued_tags(tags)
    add_own_labels(labels, valued)
    alert = Alert(
        source=UPTIME_KUMA,
        status=_KUMA_STATUS[code],
        title=common.title(name),
        team=common.word(valued.get("team"), "monitor.tags[team]"),
        description=paragraphs(beat.get("msg"), monitor.get("description")),
        links=common.links(check=common.url(monitor.get("url"), "monitor.url")),
        labels=labels,
        occurred_at=occurred,
        identity={"monitor": monitor_id, "name": name},
        raw=raw,
    )
    return Normalized((alert,), (), notes)


def _kuma_valued_tags(tags: list[dict[str, Any]]) -> dict[str, Any]:
    """The monitor's tags that carry a value ("env: prod", the monitor_tag rows Uptime Kuma
    lists as `{tag_id, name, value, color}`), name to value: labels by their own names, read by
    routes and groups as Azure's custom properties are, `team` its team. A tag of one name set
    twice keeps its first value; a tag without a value is only listed in the label `tags`."""
    valued: dict[str, Any] = {}
    for tag in tags:
        name, value = tag.get("name"), tag.get("value")
        if isinstance(name, str) and name.strip() and value not in (None, ""):
            valued.setdefault(name.strip(), value)
    return valued


def _kuma_notice(msg: Any, raw: dict[str, Any]) -> Normalized:
    """A notification with neither monitor nor heartbeat: the Test button's (skipped as
    `test_notification`), or a notice Uptime Kuma sends of its own, a certificate or domain
    about to expire, which fires keyed by what expires (without the days left, so each
    threshold's notice counts on one ticket) or, for another notice, by its text. No notice
    follows a renewal: its ticket waits for `triage incidents close` or `resolve_after_s`."""
    text = common.line(msg, "msg") if isinstance(msg, str) else None
    if not text:
        raise InvalidAlertError(
            f"uptimekuma msg {common.short(msg)} is not the text of a notice: a notification "
            "with no monitor and no heartbeat must say what it is about"
        )
    if text.endswith(_KUMA_TESTING):
        detail = f"uptimekuma test notification {common.short(text)}: no ticket change"
        return Normalized((), (Skipped(UPTIME_KUMA, "test_notification", detail),))
    expiry = _KUMA_EXPIRY.fullmatch(text)
    alert = Alert(
        source=UPTIME_KUMA,
        status=Status.FIRING,
        title=common.title(text, "msg"),
        description=paragraphs(msg),
        labels=labelled(
            ("notice", "expiry" if expiry else "notice"),
            ("days_left", expiry["days"] if expiry else None),
        ),
        # A notice states no time: dated when queued.
        occurred_at=common.now(),
        identity={"notice": common.ident(expiry["what"] if expiry else text, "msg")},
        raw=raw,
    )
    return Normalized((alert,), ())
