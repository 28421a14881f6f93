"""Sentry integration-platform webhooks: `issue`, `event_alert` and `metric_alert`; the legacy
Webhooks plugin, and a project's service hooks (`{"project", "group", "event"}`).

The resource is Sentry's `Sentry-Hook-Resource` header when the message carries it (`triage
ingest` forwards it as a message attribute); otherwise it is recognised by what `data` holds.
A resource that is not an alert (installation, error, comment …) is skipped. States:
- issue: created, unresolved (a regression or a person reopening it) and triggered (activity
  alerts) → firing, unless the issue it carries is resolved, ignored or archived (or the activity
  is `set_resolved`): then resolved; resolved → resolved; archived and its old name ignored → resolved too: a person
  chose to silence the issue, and an open ticket nobody will act on is noise. assigned and any other
  action change no state → Skipped("no_state_change").
- event_alert (an issue alert rule fired): always firing; an alert rule's *Send Test
  Notification* (its throwaway "Test Issue", issue type 9001) → Skipped("test_notification").
- metric_alert: critical and warning → firing, resolved → resolved.

Everything but the identity and the action is only shown: a level, status, project, metadata,
activity or trigger list of an odd JSON type is passed over (text fields read it as JSON text),
never refusing the alert.

Identity: the issue id for issues and event alerts (an event alert's ticket is closed by the
issue's `resolved` webhook; an older Sentry's event alert, without `issue_id`, names it in
`issue_url` or `web_url`), the alert rule id for metric alerts. Severity is Sentry's `level`
(fatal, error, warning …), or the trigger (critical, warning) of a metric alert.
"""

from __future__ import annotations

import re
from typing import Any

from triage.models import Alert, Priority, Status
from triage.normalize import common
from triage.normalize.common import Normalized, Skipped

SOURCE = "sentry"

_RESOURCES = ("metric_alert", "event", "issue")
#: `Sentry-Hook-Resource` values that are alerts, and the `data` key each one carries.
HOOK_RESOURCES = {"metric_alert": "metric_alert", "event_alert": "event", "issue": "issue"}
#: An activity alert carries the issue it is about, and is read as the issue's webhook.
HOOK_RESOURCES["activity_alert"] = "issue"
_ISSUE_STATUS = {"created": Status.FIRING, "unresolved": Status.FIRING, "triggered": Status.FIRING}
_ISSUE_STATUS |= {"resolved": Status.RESOLVED, "archived": Status.RESOLVED}
_ISSUE_STATUS |= {"ignored": Status.RESOLVED}
#: What a `Sentry-Hook-Resource` value may look like ("issue", "event_alert" …); others are
#: ignored, so a malformed header can neither inject text nor change how a body is read.
_HOOK_RESOURCE = re.compile(r"[a-z][a-z_]{0,63}")
_METRIC_STATUS = {"critical": Status.FIRING, "warning": Status.FIRING, "resolved": Status.RESOLVED}
_MAX_TAGS = 16
#: Where an event's `priority` tag is named in a note.
_TAG_PRIORITY = "sentry tag priority"
#: The tag is shown as its own label, so an unread one is kept there rather than copied.
_SHOWN_AS = {_TAG_PRIORITY: "tag.priority"}


def matches(payload: dict[str, Any]) -> bool:
    data = payload.get("data")
    return (
        isinstance(data, dict)
        and "action" in payload  # of any type: a wrong one is refused naming it
        and ("installation" in payload or "actor" in payload or any(k in data for k in _RESOURCES))
    )


def resource_hint(value: str | None) -> str | None:
    """A `Sentry-Hook-Resource` value, lower-cased, if it has a resource's shape; else None."""
    if value is None:
        return None
    folded = value.strip().lower()
    return folded if _HOOK_RESOURCE.fullmatch(folded) else None


def matches_hinted(payload: dict[str, Any]) -> bool:
    """A Sentry webhook's frame (`action`, `data`): enough when the sender named the resource."""
    return isinstance(payload.get("data"), dict) and "action" in payload


def normalize(payload: dict[str, Any], resource: str | None = None) -> Normalized:
    """One webhook; `resource` is its `Sentry-Hook-Resource` header when known, and decides."""
    data = common.obj(payload.get("data"), "data", required=True)
    action = (common.line(payload.get("action"), "action") or "").lower()
    if resource is None:
        kind = next((key for key in _RESOURCES if key in data), None)
    else:
        kind = HOOK_RESOURCES.get(resource)
    if kind == "metric_alert":
        return _metric_alert(data, action, payload)
    if kind == "event":
        return _event_alert(data, payload)
    if kind == "issue":
        return _issue(data, action, payload)
    name = common.short(resource or next(iter(data), "unknown"))
    detail = f"Sentry {name} webhook ({common.short(action)}) is not an alert"
    return Normalized((), (Skipped(SOURCE, "unsupported_resource", detail),))


def _issue(data: dict[str, Any], action: str, raw: dict[str, Any]) -> Normalized:
    issue = common.obj(data.get("issue"), "data.issue", required=True)
    issue_id = common.ident(issue.get("id"), "data.issue.id")
    status = _ISSUE_STATUS.get(action)
    if action == "triggered":
        # An alert about the issue (an activity alert): the issue's own state decides, so an
        # alert that the issue was resolved does not open a ticket.
        state = (common.word(issue.get("status"), "data.issue.status") or "").lower()
        activity = common.obj_or_empty(data.get("activity"))
        done = (common.word(activity.get("type"), "data.activity.type") or "").lower()
        if state in ("resolved", "ignored", "archived") or done == "set_resolved":
            status = Status.RESOLVED
    if status is None:
        detail = f"Sentry issue {common.short(issue_id)} was {common.short(action)}"
        return Normalized((), (Skipped(SOURCE, "no_state_change", detail),))
    project = common.obj_or_empty(issue.get("project"))
    metadata = common.obj_or_empty(issue.get("metadata"))
    labels = common.labels_from({"issue_id": issue_id})  # cut as shown, marked
    for key, value in (
        ("project", project.get("slug") or project.get("name")),
        ("short_id", issue.get("shortId")),
        ("culprit", issue.get("culprit")),
        ("platform", issue.get("platform") or project.get("platform")),
        ("level", issue.get("level")),
        ("issue_status", issue.get("status")),
        ("substatus", issue.get("substatus")),
        ("issue_type", issue.get("issueType") or issue.get("type")),
        ("events", issue.get("count")),
        ("users", issue.get("userCount")),
        ("first_seen", issue.get("firstSeen")),
        ("last_seen", issue.get("lastSeen")),
        ("action", action),
    ):
        common.add_label(labels, key, value)
    body = [
        _line(metadata.get("type"), metadata.get("value"), sep=": "),
        f"Culprit: {labels['culprit']}" if "culprit" in labels else "",
        f"Sentry reports the issue {action}." if status is Status.RESOLVED else "",
    ]
    # A state change happens when the webhook is sent; the issue's own times are its events'.
    occurred = common.timestamp(issue.get("firstSeen")) if action == "created" else None
    stated, unread = _priority(labels, ("sentry data.issue.priority", issue.get("priority")))
    return _one(
        Alert(
            source=SOURCE,
            status=status,
            title=common.first_title(
                issue.get("title"),
                metadata.get("title"),
                _line(metadata.get("type"), metadata.get("value"), sep=": "),
                issue.get("culprit"),
                issue.get("shortId"),
                f"Sentry issue {issue_id}",
                field="data.issue.title",
            ),
            priority=stated,
            severity=common.word(issue.get("level"), "level"),
            description=_description(body),
            links=common.links(
                issue=common.url(issue.get("web_url") or issue.get("permalink"), "web_url"),
                project=common.url(issue.get("project_url"), "project_url"),
            ),
            labels=labels,
            occurred_at=occurred or common.now(),
            identity={"issue_id": issue_id},
            raw=raw,
        ),
        unread,
    )


#: The issue an event's API link (`/api/0/issues/<id>/`) or page (`…/issues/<id>/events/…`)
#: names: the only mention of its issue in an event alert from before Sentry sent `issue_id`.
_ISSUE_IN_URL = re.compile(r"/issues/([0-9]{1,20})(?:/|$)")
_ISSUE_URLS = ("issue_url", "web_url")


def _issue_in_urls(event: dict[str, Any]) -> str | None:
    """The issue id in the event's `issue_url`, else its `web_url`: an older Sentry's event
    alert (2020's, say) sends no `issue_id` and names its issue only there."""
    for key in _ISSUE_URLS:
        link = event.get(key)
        if isinstance(link, str) and len(link) <= common.IDENTITY_MAX:
            found = _ISSUE_IN_URL.search(link.split("?", 1)[0])
            if found:
                return found.group(1)
    return None


def _event_alert(data: dict[str, Any], raw: dict[str, Any]) -> Normalized:
    event = common.obj(data.get("event"), "data.event", required=True)
    if _test_notification(event):
        detail = "sentry alert rule test notification (Send Test Notification): no ticket change"
        return Normalized((), (Skipped(SOURCE, "test_notification", detail),))
    issue_id = common.ident(
        event.get("issue_id") or event.get("group_id") or _issue_in_urls(event),
        "data.event.issue_id",
    )
    rule = common.line(
        common.unnested(data.get("triggered_rule")), "data.triggered_rule", shown=True
    )
    tags = _tags(event.get("tags"))
    labels = common.labels_from({"issue_id": issue_id})  # cut as shown, marked
    for key, value in (
        ("triggered_rule", rule),
        ("project", event.get("project")),
        ("environment", event.get("environment")),
        ("release", event.get("release")),
        ("culprit", event.get("culprit")),
        ("platform", event.get("platform")),
        ("level", event.get("level")),
        ("event_id", event.get("event_id")),
    ):
        common.add_label(labels, key, value if not isinstance(value, dict | list) else None)
    _add_tags(labels, tags)
    body = [
        f'Sentry alert rule "{rule}" fired.' if rule else "",
        f"Culprit: {labels['culprit']}" if "culprit" in labels else "",
        common.text(common.unnested(event.get("message")), "data.event.message") or "",
    ]
    metadata = common.obj_or_empty(event.get("metadata"))
    title = common.first_title(
        event.get("title"),
        event.get("message"),
        rule,
        _line(metadata.get("type"), metadata.get("value"), sep=": "),
        event.get("culprit"),
        f"Sentry issue {issue_id}",
        field="data.event.title",
    )
    stated, unread = _priority(labels, (_TAG_PRIORITY, tags.get("priority")))
    return _one(
        Alert(
            source=SOURCE,
            status=Status.FIRING,
            title=title,
            team=common.line(tags.get("team"), "tag team", common.LABEL_VALUE_MAX, shown=True),
            priority=stated,
            severity=common.word(event.get("level"), "level"),
            description=_description(body),
            links=common.links(event=common.url(event.get("web_url"), "web_url")),
            labels=labels,
            occurred_at=common.timestamp(event.get("datetime"))
            or common.timestamp(event.get("timestamp"))
            or common.now(),
            identity={"issue_id": issue_id},
            raw=raw,
        ),
        unread,
    )


#: The issue type of the throwaway issue an issue alert rule's *Send Test Notification*
#: creates (Sentry's `send-test-notification` group type, `get_test_notification_event_data`).
_TEST_ISSUE_TYPE = 9001


def _test_notification(event: dict[str, Any]) -> bool:
    """Whether an event alert is an alert rule's *Send Test Notification*: its event's
    occurrence is of the test issue type, or (a Sentry that sends no occurrence) it is the
    "Test Issue" whose culprit is "Test notification". It proves delivery; a ticket for it
    would be a new incident each press."""
    kind = common.obj_or_empty(event.get("occurrence")).get("type")
    if not isinstance(kind, bool) and kind in (_TEST_ISSUE_TYPE, str(_TEST_ISSUE_TYPE)):
        return True
    return event.get("title") == "Test Issue" and event.get("culprit") == "Test notification"


def matches_legacy(payload: dict[str, Any]) -> bool:
    """The legacy Webhooks plugin: the issue's id, project and culprit at the top level (no
    `action`, no `data`), with its url and the event that triggered it under `event` (Sentry 8
    onward) or, from the first plugin releases, only its message, logger and level."""
    if not all(key in payload for key in ("id", "project", "culprit")) or "data" in payload:
        return False
    if "event" in payload:
        return isinstance(payload["event"], dict) and "url" in payload
    return "level" in payload and "message" in payload


def normalize_legacy(payload: dict[str, Any]) -> Normalized:
    """A legacy plugin webhook: sent when an issue alert rule fires, so always firing (the
    plugin sends nothing on resolve); its identity is the issue's, as for the integration's
    webhooks, so both ways of sending reach one incident."""
    issue_id = common.ident(payload.get("id"), "id")
    event = common.obj(payload.get("event"), "event")
    tags = _tags(event.get("tags"))
    rules = payload.get("triggering_rules")
    labels = common.labels_from({"issue_id": issue_id})  # cut as shown, marked
    for key, value in (
        ("project", payload.get("project_slug") or payload.get("project")),
        ("culprit", payload.get("culprit")),
        ("level", payload.get("level")),
        ("logger", payload.get("logger")),
        ("platform", event.get("platform")),
        ("environment", event.get("environment")),
        ("release", event.get("release")),
        ("event_id", event.get("event_id")),
        (
            "triggering_rules",
            ", ".join(map(common.shown, rules)) if isinstance(rules, list) else None,
        ),
    ):
        common.add_label(labels, key, value if not isinstance(value, dict | list) else None)
    _add_tags(labels, tags)
    message = payload.get("message")
    body = [
        common.text(common.unnested(message), "message") or "",
        f"Culprit: {labels['culprit']}" if "culprit" in labels else "",
    ]
    logentry = common.obj_or_empty(event.get("logentry"))
    title = common.first_title(
        event.get("title"),
        message,
        logentry.get("formatted"),
        payload.get("culprit"),
        f"Sentry issue {issue_id}",
        field="event.title",
    )
    stated, unread = _priority(labels, (_TAG_PRIORITY, tags.get("priority")))
    return _one(
        Alert(
            source=SOURCE,
            status=Status.FIRING,
            title=title,
            team=common.line(tags.get("team"), "tag team", common.LABEL_VALUE_MAX, shown=True),
            priority=stated,
            severity=common.word(payload.get("level"), "level"),
            description=_description(body),
            links=common.links(issue=common.url(payload.get("url"), "url")),
            labels=labels,
            occurred_at=common.timestamp(event.get("timestamp")) or common.now(),
            identity={"issue_id": issue_id},
            raw=payload,
        ),
        unread,
    )


def matches_service_hook(payload: dict[str, Any]) -> bool:
    """A project service hook's body (`event.alert`, `event.created`): the issue (`group`), the
    event and the project, without an integration webhook's `action` or `data`."""
    return (
        isinstance(payload.get("group"), dict)
        and isinstance(payload.get("event"), dict)
        and isinstance(payload.get("project"), dict)
        and "action" not in payload
        and "data" not in payload
    )


def normalize_service_hook(payload: dict[str, Any]) -> Normalized:
    """A service hook: sent when an issue alert rule fires (`event.alert`) or an event arrives
    (`event.created`), so always firing; identified by the issue, as the integration's issue
    webhooks are, so their resolve closes what the hook opened."""
    group = common.obj(payload.get("group"), "group", required=True)
    event = common.obj(payload.get("event"), "event", required=True)
    project = common.obj_or_empty(payload.get("project"))
    issue_id = common.ident(group.get("id"), "group.id")
    metadata = common.obj_or_empty(group.get("metadata")) or common.obj_or_empty(
        event.get("metadata")
    )
    tags = _tags(event.get("tags"))
    labels = common.labels_from({"issue_id": issue_id})  # cut as shown, marked
    for key, value in (
        ("project", project.get("slug") or project.get("name")),
        ("short_id", group.get("shortId")),
        ("culprit", group.get("culprit") or event.get("culprit")),
        ("platform", group.get("platform") or event.get("platform")),
        ("level", group.get("level")),
        ("issue_status", group.get("status")),
        ("issue_type", group.get("issueType") or group.get("type")),
        ("events", group.get("count")),
        ("users", group.get("userCount")),
        ("event_id", event.get("eventID") or event.get("id")),
    ):
        common.add_label(labels, key, value)
    _add_tags(labels, tags)
    error = _line(metadata.get("type"), metadata.get("value"), sep=": ")
    body = [
        error,
        f"Culprit: {labels['culprit']}" if "culprit" in labels else "",
        common.text(common.unnested(event.get("message")), "event.message") or "",
    ]
    title = common.first_title(
        group.get("title"),
        event.get("title"),
        error,
        group.get("culprit") or event.get("culprit"),
        group.get("shortId"),
        f"Sentry issue {issue_id}",
        field="group.title",
    )
    stated, unread = _priority(
        labels,
        ("sentry group.priority", group.get("priority")),
        (_TAG_PRIORITY, tags.get("priority")),
    )
    return _one(
        Alert(
            source=SOURCE,
            status=Status.FIRING,
            title=title,
            team=common.line(tags.get("team"), "tag team", common.LABEL_VALUE_MAX, shown=True),
            priority=stated,
            severity=common.word(group.get("level"), "group.level"),
            description=_description(body),
            links=common.links(
                issue=common.url(group.get("url"), "group.url")
                or common.url(group.get("permalink"), "group.permalink"),
                event=common.url(event.get("url"), "event.url"),
            ),
            labels=labels,
            occurred_at=common.timestamp(event.get("dateCreated"))
            or common.timestamp(event.get("dateReceived"))
            or common.now(),
            identity={"issue_id": issue_id},
            raw=payload,
        ),
        unread,
    )


def _metric_alert(data: dict[str, Any], action: str, raw: dict[str, Any]) -> Normalized:
    incident = common.obj(data.get("metric_alert"), "data.metric_alert", required=True)
    rule = common.obj(incident.get("alert_rule"), "data.metric_alert.alert_rule", required=True)
    rule_id = common.ident(rule.get("id"), "data.metric_alert.alert_rule.id")
    status = _METRIC_STATUS.get(action)
    if status is None:
        detail = f"Sentry metric alert rule {common.short(rule_id)}: action {common.short(action)}"
        return Normalized((), (Skipped(SOURCE, "no_state_change", detail),))
    labels = common.labels_from({"alert_rule_id": rule_id})  # cut as shown, marked
    triggers = [t for t in common.items_or_empty(rule.get("triggers")) if isinstance(t, dict)]
    threshold = next((t.get("alert_threshold") for t in triggers if t.get("label") == action), None)
    projects = rule.get("projects")
    for key, value in (
        ("aggregate", rule.get("aggregate")),
        ("query", rule.get("query")),
        ("dataset", rule.get("dataset")),
        ("environment", rule.get("environment")),
        ("time_window_min", rule.get("time_window")),
        ("threshold", threshold),
        ("resolve_threshold", rule.get("resolve_threshold")),
        (
            "projects",
            ", ".join(map(common.shown, projects)) if isinstance(projects, list) else None,
        ),
        ("incident", incident.get("identifier")),
        ("trigger", action),
    ):
        common.add_label(labels, key, value)
    started = incident.get("date_detected") or incident.get("date_started")
    occurred = incident.get("date_closed") if status is Status.RESOLVED else started
    title = common.first_title(
        rule.get("name"),
        incident.get("title"),
        data.get("description_title"),
        f"Sentry metric alert rule {rule_id}",
        field="data.metric_alert.alert_rule.name",
    )
    return _one(
        Alert(
            source=SOURCE,
            status=status,
            title=title,
            severity=action if status is Status.FIRING else None,
            description=_description(
                [common.text(data.get("description_text"), "data.description_text") or ""]
            ),
            links=common.links(alert=common.url(data.get("web_url"), "data.web_url")),
            labels=labels,
            occurred_at=common.timestamp(occurred) or common.now(),
            identity={"alert_rule_id": rule_id},
            raw=raw,
        )
    )


def _tags(value: Any) -> dict[str, str]:
    """Event tags arrive as [["key", "value"], …] or [{"key": …, "value": …}, …]."""
    tags: dict[str, str] = {}
    for tag in value if isinstance(value, list) else []:
        pair = (tag.get("key"), tag.get("value")) if isinstance(tag, dict) else tag
        if isinstance(pair, list | tuple) and len(pair) == 2:
            key, val = (
                common.line(x, "tag") if not isinstance(x, dict | list) else None for x in pair
            )
            if key and val:
                tags.setdefault(key, val)
    return tags


def _add_tags(labels: dict[str, str], tags: dict[str, str]) -> None:
    """The event's first `_MAX_TAGS` tags as `tag.<key>` labels."""
    for key, value in list(tags.items())[:_MAX_TAGS]:
        common.add_label(labels, f"tag.{key}", value)


def _line(*parts: Any, sep: str) -> str:
    return sep.join(
        p
        for p in (common.line(x, "metadata", shown=True) for x in parts if isinstance(x, str))
        if p
    )


def _description(parts: list[str]) -> str:
    return (
        common.text("\n\n".join(p for p in parts if p), "description", common.DESCRIPTION_MAX) or ""
    )


def _priority(
    labels: dict[str, str], *stated: tuple[str, Any]
) -> tuple[Priority | None, tuple[str, ...]]:
    """The first priority stated that triage reads; when none is, a note for each value stated,
    the first kept as the label `priority`, or as `tag.priority` for the event's own tag
    (`common.first_priority`). An unread value passed over for a later one (a service hook's
    `group.priority` before its `priority` tag) is noted too (`common.passed_over`)."""
    found, unread = common.first_priority(labels, *stated, shown_as=_SHOWN_AS)
    return found, unread + common.passed_over(*stated)


def _one(alert: Alert, notes: tuple[str, ...] = ()) -> Normalized:
    return Normalized((alert,), (), notes)
