"""Uptime checkers', monitors' and on-call tools' webhooks pointed at the gateway's generic
path: Pingdom's state change webhook, Dynatrace's problem notification (its documented
custom-integration payload), Honeycomb's trigger notification and Grafana OnCall's outgoing
webhook (its "simple" preset, or an advanced one that forwards the whole payload). Each is
known by the keys only that tool sends and keyed by what a check's outages share (the tool's
own id of the check where it sends one), never by a state or time. Dynatrace sends no such id,
nor OnCall without a `groupKey`: each problem or alert group is keyed by its own id, never by a
title two of them open at once may share (the first's close would close the ticket the second
still needs).

Identity, pingdom: the check's id (`check_id`), and for a transaction check its kind too:
Pingdom numbers uptime checks and transaction checks apart, so one number may name one of
each. A check is a transaction check when its `check_type` says TRANSACTION, or, with no type
sent, when its state is FAILING or SUCCESS (the words only transaction checks use).
Identity, dynatrace: the problem's `PID`, which its OPEN, RESOLVED and MERGED notifications
share, whatever title or entities it has by then (kept as the label `pid`; the display id
`ProblemID` as `problem`). Two problems open at once may share an entity and a title, and
Dynatrace opens a new problem, with a new PID, when the same thing goes wrong again after a
close: each is its own ticket. A `PID` that is still a placeholder ("{Pid}": Dynatrace sends a
placeholder it does not know as written) would key every problem as one: refused, naming it;
a `ProblemTitle` still a placeholder is no title.
Identity, honeycomb: the trigger's `id`, else (payloads from before Honeycomb sent it) its name.
Identity, grafana-oncall: the integration (`integration.id`, else the group's
`integration_id`) and what OnCall groups by, the alert payload's `groupKey` (an Alertmanager
or Grafana alerting integration's, kept to one open group), since OnCall opens a new alert
group, with a new id, each time a resolved group's alert fires again; else the group's id,
which every alert keeps as the label `alert_group_id` (never the group's title, which two open
groups may share).
States, pingdom (`current_state`): DOWN (an uptime check) and FAILING (a transaction check) fire,
UP and SUCCESS resolve; `importance_level` HIGH or LOW is the priority.
States, dynatrace (`State`): OPEN fires, RESOLVED and MERGED resolve (a merged problem is over:
the one it joined goes on, on its own ticket); the "Send test notification" button's problem
is skipped. Severity, dynatrace (`ProblemSeverity`, kept as the label
`problem_severity`): AVAILABILITY critical, ERROR high, PERFORMANCE, RESOURCE_CONTENTION and
MONITORING_UNAVAILABLE medium, INFO low; CUSTOM_ALERT or another level, none (medium).
Labels, dynatrace: {Tags} as sent (`tags`), and each tag with a value ("env:prod", an imported
"[Kubernetes]app:checkout") by its own key, `team` its team; never identity.
States, honeycomb (`status`): TRIGGERED fires, OK resolves; a test (`is_test` true, or the
text "true") is skipped.
States, grafana-oncall: OnCall builds the payload when it sends it, so the alert group's
`state` then is the truth (a webhook triggered by hand, or sent after the group moved on, names
an event the group has left): resolved resolves, firing fires, and acknowledged or silenced
keep the ticket as it is on an acknowledge, silence or status change and fire on any other
event (the group is open). Without a state word OnCall documents, `event.type` decides: "alert
group created", "escalation" (a manual or escalation-step trigger), "unresolve",
"unacknowledge", "unsilence" and "personal notification" fire, "resolve" resolves, and
"acknowledge", "silence" and a bare "status change" change no ticket. An event type OnCall does
not document changes no ticket (Skipped). A group of the alert an integration's *Send demo
alert* button makes (alertname TestAlert, the demo's description; a webhook integration's,
its `message` the demo's sentence) is skipped as a test.
Severity and priority, grafana-oncall: the `severity` and `priority` labels of the group
(`alert_group.labels`, what IRM's routing sets), else of the forwarded alert
(`alert_payload.commonLabels`, else `alert_payload.labels`, else the first of
`alert_payload.alerts`), as Alertmanager's own webhook of that alert is read. Team: the
integration's OnCall team, else a `team` label found the same way.
"""

from __future__ import annotations

import re
from typing import Any

from triage.errors import InvalidAlertError
from triage.models import Alert, Priority, Status
from triage.normalize import common
from triage.normalize.common import Normalized, Skipped
from triage.normalize.generic import dated
from triage.normalize.vendors import (
    add_own_labels,
    first_given,
    labelled,
    paragraphs,
    quiet,
    untitled,
)

PINGDOM = "pingdom"
DYNATRACE = "dynatrace"
HONEYCOMB = "honeycomb"
GRAFANA_ONCALL = "grafana-oncall"
SOURCES = (PINGDOM, DYNATRACE, HONEYCOMB, GRAFANA_ONCALL)


# --- Pingdom -----------------------------------------------------------------------------------

_PD_STATES = {
    "down": Status.FIRING,
    "failing": Status.FIRING,
    "up": Status.RESOLVED,
    "success": Status.RESOLVED,
}


#: The states only a transaction check reports.
_PD_TRANSACTION_STATES = frozenset({"failing", "success"})


def matches_pingdom(payload: dict[str, Any]) -> bool:
    """A state change webhook: the check's `check_id` and name, its previous and new state."""
    keys = {"check_id", "check_name", "previous_state", "current_state"}
    return untitled(payload) and keys <= payload.keys()


def normalize_pingdom(payload: dict[str, Any]) -> Normalized:
    check_id = common.ident(payload.get("check_id"), "check_id")
    state = payload.get("current_state")
    status = _PD_STATES.get(state.strip().lower()) if isinstance(state, str) else None
    if status is None:
        raise InvalidAlertError(
            f"pingdom current_state {common.short(state)} is not DOWN, UP, FAILING or SUCCESS"
        )
    params = common.obj_or_empty(payload.get("check_params"))
    importance = common.word(payload.get("importance_level"), "importance_level")
    when_at, when = first_given(
        ("state_changed_timestamp", payload.get("state_changed_timestamp")),
        ("state_changed_utc_time", payload.get("state_changed_utc_time")),
    )
    occurred, notes = dated(when, f"pingdom {when_at}")
    labels = labelled(
        ("check_id", check_id),
        ("check_type", payload.get("check_type")),
        ("host", params.get("hostname")),
        ("url", params.get("full_url")),
        ("tags", _names(payload.get("tags"))),
        ("previous_state", payload.get("previous_state")),
        ("state", state),
    )
    stated, unread = common.first_priority(labels, ("pingdom importance_level", importance))
    alert = Alert(
        source=PINGDOM,
        status=status,
        title=common.first_title(payload.get("check_name"), f"Pingdom check {check_id}"),
        priority=stated,
        severity=importance,
        description=paragraphs(
            payload.get("description"),
            payload.get("long_description"),
            payload.get("custom_message"),
        ),
        links=common.links(check=common.url(params.get("full_url"), "check_params.full_url")),
        labels=labels,
        occurred_at=occurred,
        identity=_pd_identity(check_id, payload.get("check_type"), state),
        raw=payload,
    )
    return Normalized((alert,), (), notes + unread)


def _pd_identity(check_id: str, check_type: Any, state: Any) -> dict[str, str]:
    """An uptime check by its id (as before transaction checks were told apart); a
    transaction check by its id and kind."""
    said = check_type.strip().lower() if isinstance(check_type, str) else ""
    word = state.strip().lower() if isinstance(state, str) else ""
    if said == "transaction" or (not said and word in _PD_TRANSACTION_STATES):
        return {"check": check_id, "kind": "transaction"}
    return {"check": check_id}


def _names(value: Any) -> str:
    """A list of tags (text, or objects with a `name`) as one comma-separated value."""
    names = []
    for item in common.items_or_empty(value)[: common.LABELS_MAX]:
        name = common.obj_or_empty(item).get("name") if isinstance(item, dict) else item
        if isinstance(name, str | int | float) and not isinstance(name, bool):
            names.append(common.shown(name))
    return ",".join(names)


# --- Dynatrace ---------------------------------------------------------------------------------

#: OPEN, RESOLVED, and MERGED: the problem was merged into another, which goes on with its own
#: PID and so its own ticket, while this one's is done.
_DT_STATES = {"open": Status.FIRING, "resolved": Status.RESOLVED, "merged": Status.RESOLVED}
#: Dynatrace's `ProblemSeverity` levels, worst first, as the severity word the default
#: priority reads: a service or host down is critical, a rise in errors high, slowness, a
#: saturated resource and lost monitoring medium, an info event low. A custom alert's
#: level is whatever its author meant, and a level Dynatrace adds later is unknown: no
#: severity (medium). The level as sent stays the label `problem_severity`.
_DT_SEVERITY = {
    "availability": "critical",
    "error": "error",
    "performance": "warning",
    "resource_contention": "warning",
    "monitoring_unavailable": "warning",
    "info": "info",
}
#: What "Send test notification" fills the placeholders with.
_DT_TEST_TITLE = "dynatrace problem notification test run"


def matches_dynatrace(payload: dict[str, Any]) -> bool:
    """A problem notification: its `PID`, `State` and `ProblemTitle` placeholders."""
    return untitled(payload) and {"PID", "State", "ProblemTitle"} <= payload.keys()


#: A Dynatrace placeholder as written ("{PID}", a mistyped "{Pid}"): Dynatrace fills in only
#: the placeholders it knows and sends any other as it was written.
_DT_PLACEHOLDER = re.compile(r"\s*\{[A-Za-z][A-Za-z0-9]{0,63}\}\s*")


def _dt_unfilled(value: Any) -> bool:
    """Whether `value` is a placeholder as written, never a value."""
    return (
        isinstance(value, str) and len(value) <= 80 and _DT_PLACEHOLDER.fullmatch(value) is not None
    )


def _dt_pid(value: Any) -> str:
    """The problem's `PID`; InvalidAlertError when it is a placeholder Dynatrace left as written:
    kept so, it would key every problem as one, and the first RESOLVED would close them all."""
    if _dt_unfilled(value):
        raise InvalidAlertError(
            f"dynatrace PID is the placeholder {common.short(value.strip())}, which Dynatrace "
            "left unfilled: write {PID} in the notification's custom payload"
        )
    return common.ident(value, "PID")


def normalize_dynatrace(payload: dict[str, Any]) -> Normalized:
    pid = _dt_pid(payload.get("PID"))
    given_title = payload.get("ProblemTitle")
    title = common.line(
        None if _dt_unfilled(given_title) else common.unnested(given_title), "ProblemTitle"
    )
    if (title or "").lower() == _DT_TEST_TITLE:
        detail = f"dynatrace test notification {common.short(pid)}: no ticket change"
        return Normalized((), (Skipped(DYNATRACE, "test_notification", detail),))
    state = payload.get("State")
    word = state.strip().lower() if isinstance(state, str) else ""
    status = _DT_STATES.get(word)
    if status is None:
        raise InvalidAlertError(
            f"dynatrace State {common.short(state)} is not OPEN or RESOLVED (nor MERGED into "
            "another problem)"
        )
    link = payload.get("ProblemURL") or payload.get("Problem URL")
    level = common.word(payload.get("ProblemSeverity"), "ProblemSeverity")
    labels = labelled(
        ("problem", payload.get("ProblemID")),
        ("pid", pid),
        ("impact", payload.get("ProblemImpact")),
        ("problem_severity", payload.get("ProblemSeverity")),  # whole, cut as shown
        ("entities", payload.get("ImpactedEntity")),
        ("tags", payload.get("Tags")),
        ("state", state),
    )
    valued = _dt_valued_tags(payload.get("Tags"))
    add_own_labels(labels, valued)
    alert = Alert(
        source=DYNATRACE,
        status=status,
        title=common.first_title(title, f"Dynatrace problem {pid}"),
        severity=_dt_severity(level),
        description=paragraphs(
            payload.get("ProblemDetailsText") or payload.get("ProblemDetailsMarkdown"),
            payload.get("ImpactedEntity"),
        ),
        links=common.links(source=common.url(link, "ProblemURL")),
        team=common.word(valued.get("team"), "Tags[team]"),
        labels=labels,
        # The payload states no time: dated when queued, so its open and resolve order as sent.
        occurred_at=common.now(),
        identity={"problem": pid},
        raw=payload,
    )
    return Normalized((alert,), ())


#: An imported tag's context before its key: "[Kubernetes]app:checkout", "[AWS]Name:web-1".
_DT_TAG_CONTEXT = re.compile(r"\[[^\[\]]{1,64}\]")


def _dt_valued_tags(tags: Any) -> dict[str, str]:
    """The {Tags} that carry a value ("env:prod", "[Kubernetes]app:checkout"), key to value:
    labels by their own keys (without an imported tag's context), read by routes and groups as
    Azure's custom properties are, `team` its team. Dynatrace joins the tags of every impacted
    entity with ", ": a key tagged twice keeps its first value, a bare tag is only listed in the
    label `tags`."""
    if not isinstance(tags, str):
        return {}
    valued: dict[str, str] = {}
    for tag in tags[: common.DESCRIPTION_MAX].split(","):
        key, colon, value = _DT_TAG_CONTEXT.sub("", tag.strip(), count=1).partition(":")
        if colon and key.strip() and value.strip():
            valued.setdefault(key.strip(), value.strip())
    return valued


def _dt_severity(level: str | None) -> str | None:
    """The severity word Dynatrace's level means (`_DT_SEVERITY`); None for a custom alert or
    a level not listed."""
    return _DT_SEVERITY.get((level or "").strip().lower())


# --- Honeycomb ---------------------------------------------------------------------------------

_HC_STATES = {"triggered": Status.FIRING, "ok": Status.RESOLVED}
#: The triggered groups shown, a group a line, up to this many.
_HC_GROUPS = 20


def matches_honeycomb(payload: dict[str, Any]) -> bool:
    """A trigger notification: the trigger's `name`, its `status` and the groups it found."""
    keys = {"name", "status", "result_groups_triggered"}
    return untitled(payload) and keys <= payload.keys()


def normalize_honeycomb(payload: dict[str, Any]) -> Normalized:
    trigger_id = common.ident_or_none(payload.get("id"), "id")
    name = common.line(common.unnested(payload.get("name")), "name")
    if _flagged(payload.get("is_test")):
        detail = f"honeycomb test notification {common.short(name)}: no ticket change"
        return Normalized((), (Skipped(HONEYCOMB, "test_notification", detail),))
    if not trigger_id and not name:
        raise InvalidAlertError(
            "honeycomb id and name are missing: the trigger cannot be identified"
        )
    state = payload.get("status")
    status = _HC_STATES.get(state.strip().lower()) if isinstance(state, str) else None
    if status is None:
        raise InvalidAlertError(f"honeycomb status {common.short(state)} is not TRIGGERED or OK")
    link = common.url(payload.get("trigger_url"), "trigger_url")
    alert = Alert(
        source=HONEYCOMB,
        status=status,
        title=common.first_title(name, f"Honeycomb trigger {trigger_id}"),
        description=paragraphs(
            payload.get("description"),
            payload.get("trigger_description"),
            _hc_groups(payload.get("result_groups_triggered")),
        ),
        links=common.links(source=link or common.url(payload.get("result_url"), "result_url")),
        labels=labelled(
            ("trigger_id", trigger_id),
            ("operator", payload.get("operator")),
            ("threshold", payload.get("threshold")),
            ("dataset", payload.get("dataset_name")),
            ("environment", payload.get("environment")),
        ),
        # The payload states no time: dated when queued, so its trigger and OK order as sent.
        occurred_at=common.now(),
        identity={"trigger": trigger_id} if trigger_id else {"trigger_name": name or ""},
        raw=payload,
    )
    return Normalized((alert,), ())


def _flagged(value: Any) -> bool:
    """Whether a flag is set: JSON true, or "true" in any case (a custom payload template's
    `"{{ .IsTest }}"`, in quotes). Anything else is not set."""
    return value is True or (isinstance(value, str) and value.strip().lower() == "true")


def _hc_groups(value: Any) -> str:
    """The groups over the threshold, "column=value …: result" a line."""
    lines = []
    for entry in common.items_or_empty(value)[:_HC_GROUPS]:
        entry = common.obj_or_empty(entry)
        group = common.obj_or_empty(entry.get("Group"))
        where = " ".join(f"{key}={common.shown(v)}" for key, v in sorted(group.items()))
        lines.append(f"{where or 'all'}: {common.shown(entry.get('Result'))}")
    return "\n".join(["Triggered groups:", *lines]) if lines else ""


# --- Grafana OnCall ----------------------------------------------------------------------------

#: Event types (`event.type`) that put the alert group, or find it, open and escalating.
_OC_OPENING = frozenset(
    {
        "alert group created",
        "escalation",
        "unresolve",
        "unacknowledge",
        "unsilence",
        "personal notification",
    }
)
#: Event types that leave an open group's ticket as it is: someone is on it, or it was quieted.
_OC_QUIET = frozenset({"acknowledge", "silence", "status change"})
_OC_RESOLVED = frozenset({"resolve"})
_OC_KINDS = _OC_OPENING | _OC_QUIET | _OC_RESOLVED
#: The group's states (`alert_group.state`) in which it is open but not escalating.
_OC_HELD = frozenset({"acknowledged", "silenced"})
_OC_STATES = _OC_HELD | {"firing", "resolved"}


def _oncall_status(kind: str, state: str) -> Status | None:
    """The group's status from its `state` when OnCall sent the webhook, else from the event
    type; None: no ticket change."""
    if state == "resolved":
        return Status.RESOLVED
    if state == "firing":
        return Status.FIRING
    if state in _OC_HELD:
        return None if kind in _OC_QUIET else Status.FIRING
    if kind in _OC_RESOLVED:
        return Status.RESOLVED
    return Status.FIRING if kind in _OC_OPENING else None


def matches_grafana_oncall(payload: dict[str, Any]) -> bool:
    """An outgoing webhook's data: the `event` with its `type`, and the `alert_group` by id."""
    event, group = payload.get("event"), payload.get("alert_group")
    return (
        untitled(payload)
        and isinstance(event, dict)
        and "type" in event
        and isinstance(group, dict)
        and "id" in group
    )


def normalize_grafana_oncall(payload: dict[str, Any]) -> Normalized:
    event = common.obj(payload.get("event"), "event", required=True)
    kind = (common.line(common.unnested(event.get("type")), "event.type", 64) or "").lower()
    group = common.obj(payload.get("alert_group"), "alert_group", required=True)
    group_id = common.ident(group.get("id"), "alert_group.id")
    state = (
        common.line(common.unnested(group.get("state")), "alert_group.state", 64) or ""
    ).lower()
    status = _oncall_status(kind, state) if kind in _OC_KINDS else None
    if status is None:
        # Only a state word OnCall documents is named: the field may hold anything.
        shown = state if state in _OC_STATES else "no documented state"
        what = f"alert group {common.short(group_id)} ({shown}) event"
        return quiet(GRAFANA_ONCALL, what, event.get("type"))
    integration = common.obj_or_empty(payload.get("integration"))
    first = common.obj_or_empty(payload.get("alert_payload"))
    annotations = common.obj_or_empty(first.get("annotations"))
    if _oncall_demo(first, annotations):
        detail = f"grafana-oncall alert group {common.short(group_id)} is a demo alert"
        return Normalized((), (Skipped(GRAFANA_ONCALL, "test_notification", detail),))
    occurred, notes = dated(event.get("time"), "grafana-oncall event.time")
    label_sets = _oncall_label_sets(group, first)
    priority, unread = _oncall_priority(label_sets)
    if unread:
        notes = (*notes, common.unread_priority_note("grafana-oncall label priority", unread))
    alert = Alert(
        source=GRAFANA_ONCALL,
        status=status,
        title=common.first_title(group.get("title"), f"Grafana OnCall alert group {group_id}"),
        team=common.word(integration.get("team"), "integration.team")
        or _oncall_label(label_sets, "team"),
        priority=priority,
        description=paragraphs(
            annotations.get("summary"), annotations.get("description"), first.get("message")
        ),
        links=common.links(
            source=common.url(common.obj_or_empty(group.get("permalinks")).get("web"), "web")
        ),
        labels=_oncall_labels(group, integration, kind),
        occurred_at=occurred,
        severity=_oncall_label(label_sets, "severity"),
        identity=_oncall_identity(group, integration, first, group_id),
        raw=payload,
    )
    return Normalized((alert,), (), notes)


#: What an integration's *Send demo alert* button puts in the alert it makes.
#: Some integrations' demos (Zabbix's) say it without "the".
_OC_DEMO_DESCRIPTION = re.compile(
    r"This alert was sent by user for (?:the )?demonstration purposes"
)


def _oncall_demo(forwarded: dict[str, Any], annotations: dict[str, Any]) -> bool:
    """Whether the group is of the demo alert an integration's *Send demo alert* makes: it
    proves the webhook works, no incident. An Alertmanager-style integration's demo is
    alertname TestAlert with the demo's description; the Webhook and Formatted Webhook
    integrations' demo payloads carry the demo's sentence as their `message` (OnCall's
    `example_payload` of each)."""
    labels = common.obj_or_empty(forwarded.get("labels"))
    if labels.get("alertname") == "TestAlert" and _oc_demo_text(annotations.get("description")):
        return True
    return _oc_demo_text(forwarded.get("message"))


def _oc_demo_text(said: Any) -> bool:
    """Whether `said` starts with the sentence OnCall's demo alerts carry."""
    return isinstance(said, str) and _OC_DEMO_DESCRIPTION.match(said.strip()) is not None


def _oncall_label_sets(
    group: dict[str, Any], forwarded: dict[str, Any]
) -> tuple[dict[str, Any], ...]:
    """The label sets a group's team, priority and severity are read from, the first that
    states one winning: the group's own labels (what IRM's routing and label templates set
    for it), then the alert OnCall forwards (`alert_payload`): an Alertmanager group's common
    labels, else the single alert's own (a webhook or Grafana alerting integration's), else
    the group's first alert's, so a group of a critical alert ranks as that alert does
    straight from Alertmanager. A set in a shape no labels have is passed over: it costs the
    group what it would say, not its ticket."""
    alerts = common.items_or_empty(forwarded.get("alerts"))
    first_alert = common.obj_or_empty(alerts[0] if alerts else None)
    return tuple(
        common.obj_or_empty(labels)
        for labels in (
            group.get("labels"),
            forwarded.get("commonLabels"),
            forwarded.get("labels"),
            first_alert.get("labels"),
        )
    )


def _oncall_label(label_sets: tuple[dict[str, Any], ...], name: str) -> str | None:
    """The first label `name` of `label_sets` that shows a value (`common.word`)."""
    for labels in label_sets:
        if said := common.word(labels.get(name), name):
            return said
    return None


def _oncall_priority(
    label_sets: tuple[dict[str, Any], ...],
) -> tuple[Priority | None, list[Any]]:
    """The first `priority` label of `label_sets` that a scale reads, and the stated ones
    before it that none reads (for one note), or None and every stated one."""
    unread: list[Any] = []
    for labels in label_sets:
        value = labels.get("priority")
        if (read := common.priority(value)) is not None:
            return read, unread
        if isinstance(value, str | int | float) and common.states_priority(value):
            unread.append(value)
    return None, unread


def _oncall_identity(
    group: dict[str, Any], integration: dict[str, Any], first: dict[str, Any], group_id: str
) -> dict[str, str]:
    """The integration and the alert payload's `groupKey` (an Alertmanager or Grafana alerting
    integration's, which OnCall groups by and keeps to one open group), so that a group that
    fires again after it resolved reopens its ticket; else the alert group's id. Never the
    group's title: OnCall renders it apart from what it groups by, so two open groups may
    share it."""
    named = integration.get("id", group.get("integration_id"))
    integration_id = common.ident_or_none(common.unnested(named), "integration.id")
    key = common.ident_or_none(common.unnested(first.get("groupKey")), "alert_payload.groupKey")
    if integration_id and key:
        return {"integration": integration_id, "group_key": key}
    return {"alert_group": group_id}


def _oncall_labels(group: dict[str, Any], integration: dict[str, Any], kind: str) -> dict[str, str]:
    """The integration, the group's alert count, event and state, then the group's own labels."""
    labels = labelled(
        ("alert_group_id", group.get("id")),
        ("integration", integration.get("name")),
        ("integration_type", integration.get("type")),
        ("alerts", group.get("alerts_count")),
        ("event", kind),
        ("state", group.get("state")),
    )
    for key, value in sorted(common.obj_or_empty(group.get("labels")).items()):
        if key not in labels:
            common.add_label(labels, key, common.unnested(value))
    return labels
