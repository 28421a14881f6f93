"""Webhooks of other alerting tools pointed at the gateway's generic path: Datadog's Webhooks
integration, Opsgenie's outgoing webhook and PagerDuty's v3 webhooks. Each is known by the
keys only that tool sends, so that its alert is keyed by the tool's own keys rather than read as
generic JSON keyed by a title that changes with its state ("[Triggered] X", "[Recovered] X").

Identity, datadog: the org (`org.id`, else a flat template's `org_id`), the group the title
names ("[Triggered on {host:web-1}] …", else $ALERT_SCOPE as `alert_scope`, `scope` or
`scopes`) and `aggreg_key` ($AGGREG_KEY) when the payload carries it, else the monitor
($ALERT_ID as `alert_id`, `monitor_id` or a nested `alert.id`), else, for the integration's
default payload (no id but the event's own), the monitor's id in the "[[Monitor Status](…)]"
link Datadog ends $EVENT_MSG with (two monitors of one name are two incidents), else the
monitor's name from the title without its state and priority brackets. The templates in use (the integration's docs, Keep's, ilert's,
Zenduty's) name the other variables their own way too: the link `link` or `url`, the message
`body`, `event_msg`, `text_msg` or `message`, the org's name `org.name` or `org_name`. A value
that is still a variable as written ("$AGGREG_KEY", "$ALERT_ID": one Datadog did not fill in) is
absent, never a key every monitor would share; a title or transition that is one is refused
naming it.
Identity, opsgenie: the alert's `alias` (Opsgenie's own de-duplication key, which no two
open alerts share); an alias that is the alert's own `alertId` (what Opsgenie fills in when the
sender gives none, and then de-duplicates nothing) is none, and the alert is keyed by `alertId`.
Its extra properties (`alert.details`: env, region, service …) are labels by their own names,
read by routes and groups as an Alertmanager alert's labels are; `team` among them is its team.
Identity, pagerduty: the service (`event.data.service.id`) and the incident's `incident_key`
(PagerDuty keeps one open incident per key on a service), else the incident's id
(`event.data.id`). Never a title or message: two alerts or incidents open at once may share it,
and the first's close would close the ticket the second still needs. A check that fails again
after its resolve makes a new alert or incident, with a new id: keyed by an alias or
`incident_key` the outages share, it reopens one ticket; keyed by its id, it opens another.
The id is a label either way (`alert_id`, `incident_id`).
States: a Datadog transition (Triggered, Warn, Renotify and their Re- forms fire, Recovered
and Null, a recovery from No Data, resolve; No Data changes no ticket), Opsgenie's `action`
(Create and UnAcknowledge fire, Close and Delete resolve) and PagerDuty's `event_type`
(incident.triggered, .reopened and .unacknowledged fire, .resolved resolves, a resolve by a
merge into another incident too: that one has its own ticket, which goes on); a person's
change of the priority (Opsgenie's UpdatePriority, PagerDuty's incident.priority_updated) is
an alert marked `priority_changed`, firing, which moves an open ticket to the new priority and
opens nothing (a change without a priority it can read is Skipped); every other action or
event (acknowledged, a note, a new responder …) changes no ticket (Skipped), and PagerDuty's
test event (pagey.ping) is Skipped as `test_notification`.
Priorities P1..P5 are these tools' five-step scale: P1 critical, P2 high, P3 medium, P4 and P5
low, and so are the numbers 1 to 5, as an integer or as text ("1" is critical here; a generic
alert's P0..P3 scale, where 1 is high, is another). A stated priority no reader takes is named in a
note for the log, naming this scale, and kept as the label `priority` (`common.first_priority`
with `FIVE_STEPS`).
"""

from __future__ import annotations

import re
from typing import Any

from triage.errors import InvalidAlertError
from triage.models import Alert, Priority, Status
from triage.normalize import common
from triage.normalize.common import Normalized, Skipped
from triage.normalize.generic import dated

DATADOG = "datadog"
OPSGENIE = "opsgenie"
PAGERDUTY = "pagerduty"
SOURCES = (DATADOG, OPSGENIE, PAGERDUTY)
_C, _H, _M, _L = Priority.CRITICAL, Priority.HIGH, Priority.MEDIUM, Priority.LOW

#: These tools' five steps, "P1" to "P5" (a Datadog template's `severity` or `priority` is read
#: only in this form: a bare number there may be something else).
_FIVE_STEPS = {f"p{step}": level for step, level in enumerate((_C, _H, _M, _L, _L), start=1)}
#: What `priority` reads: the five steps as "P1" or as the bare number 1 to 5, and every other
#: level or word (P0, SEV1, critical …) as every source reads it.
_FIVE_STEP_WORDS = {
    **common.PRIORITY_WORDS,
    **_FIVE_STEPS,
    **{name.removeprefix("p"): level for name, level in _FIVE_STEPS.items()},
    # PagerDuty accounts that rename their five priorities SEV-1 to SEV-5: SEV-1 to SEV-4 read
    # as every source reads them; SEV-5, the lowest, is low as P5 is.
    "sev5": _L,
}


def priority(value: Any) -> Priority | None:
    """P1..P5 or 1..5 on these tools' scale, as text or a number (some Opsgenie payloads send
    an integer), spelt any way `common.priority_on` reads ("p-1", "P1 (page)"); a word
    (critical, high …) or SEV level as every source reads it."""
    return common.priority_on(value, _FIVE_STEP_WORDS)


#: These tools' scale, as a note for a priority they state that it cannot read names it.
FIVE_STEPS = common.PriorityScale(
    priority, "P1 to P5, 1 to 5, SEV0 to SEV5, or a word such as critical, high, medium, low"
)


def _description(value: Any) -> str:
    return common.text(value, "description", common.DESCRIPTION_MAX) or ""


def quiet(source: str, what: str, state: Any) -> Normalized:
    """A message of `source` that is understood and changes no ticket."""
    detail = f"{source} {what} is {common.short(state)}: no ticket change"
    return Normalized((), (Skipped(source, "no_state_change", detail),))


def untitled(payload: dict[str, Any]) -> bool:
    """Whether a body has no top-level `title`. The tools read by trackers.py and uptime.py never
    send one: a body with one is a script's generic alert, whatever else it carries, and stays
    keyed as it always was."""
    return "title" not in payload


def first_given(*named: tuple[str, Any]) -> tuple[str, Any]:
    """The first (path, value) whose value is given, as `a or b or c` picks it (the last when
    none is), so that a note or refusal about the value names the field the sender put it in."""
    return next((pair for pair in named if pair[1]), named[-1])


def labelled(*pairs: tuple[str, Any]) -> common.Labels:
    """Labels from (name, value) pairs; a value that is absent, blank or a container is left out
    (`common.add_label`)."""
    labels = common.Labels()
    for key, value in pairs:
        common.add_label(labels, key, common.unnested(value))
    return labels


def add_own_labels(labels: dict[str, str], given: Any) -> None:
    """A tool's own labels of an alert (Opsgenie's extra properties, a Cloud Monitoring
    policy's user labels, an Azure alert's custom properties: env, region, service …) added by
    their own names, sorted, where routes and groups read them as they read an Alertmanager
    alert's; a name the reader labels itself keeps the reader's value, and a value that is an
    object or array is passed over. They are never identity: labels added while an alert is
    open make no new incident."""
    named = common.obj_or_empty(given)
    for key in sorted(k for k in named if isinstance(k, str)):
        if key not in labels:
            common.add_label(labels, key, common.unnested(named[key]))


def first_ident(value: Any, field: str) -> str:
    """The first name or id an array lists (the value itself when it is no array), whole, as
    an identity value; "" for none. The first is what an issue or problem opened with: those
    that join it while it is open are listed after it, so its key stays as it opened. An
    object or an empty value is passed over."""
    for item in value if isinstance(value, list) else [value]:
        cleaned = common.ident_or_none(common.unnested(item), field)
        if cleaned:
            return cleaned
    return ""


def paragraphs(*parts: Any) -> str:
    """The parts given, as text, one paragraph each; a part that repeats an earlier one (a
    Pingdom description and long description alike) is shown once."""
    texts: list[str] = []
    for part in parts:
        text = common.text(part, "description", common.DESCRIPTION_MAX)
        if text and text not in texts:
            texts.append(text)
    return common.text("\n\n".join(texts), "description", common.DESCRIPTION_MAX) or ""


# --- Datadog -----------------------------------------------------------------------------------

#: The Webhooks integration's default payload ($EVENT_MSG, $LAST_UPDATED, $EVENT_TYPE,
#: $EVENT_TITLE, $DATE, $ORG_ID and $ORG_NAME, $ID).
_DATADOG_DEFAULT = frozenset({"body", "last_updated", "event_type", "title", "date", "org", "id"})
_DD_FIRING = frozenset({"triggered", "re-triggered", "warn", "re-warn", "renotify"})
_DD_RESOLVED = frozenset({"recovered"})
_DD_QUIET = frozenset({"no data", "re-no data"})
#: $ALERT_TRANSITION of a recovery from No Data: the monitor reports again and is OK. Read as
#: Recovered (an Alert that went to No Data and came back OK closes its ticket; one that was
#: OK has none to close), unless the title names the state it came back in.
_DD_NO_DATA_RECOVERY = "null"
#: An event title: "[P2] [Recovered on {host:web-1,env:prod}] CPU high on web-1". The group
#: is bounded and brace-free, so a hostile title costs one linear pass.
_DD_TITLE = re.compile(
    r"(?:\[(?P<priority>P[1-5])\]\s*)?"
    r"\[(?P<transition>Re-Triggered|Triggered|Recovered|Re-Warn|Warn|Re-No Data|No Data|Renotify)"
    r"(?: on \{(?P<scope>[^{}]{0,1000})\})?\]\s*(?P<name>.*)",
    re.IGNORECASE | re.DOTALL,
)
#: What Datadog's "Test Notifications" button puts before the monitor's name, and in its message.
_DD_TEST = re.compile(r"\[TEST\]", re.IGNORECASE)
_DD_TEST_BODY = "test notification triggered by"


def matches_datadog(payload: dict[str, Any]) -> bool:
    """The default payload's keys, or a custom payload with `alert_transition` and a title."""
    if isinstance(payload.get("alert_transition"), str):
        return "title" in payload or "alert_title" in payload
    return payload.keys() >= _DATADOG_DEFAULT and isinstance(payload["org"], dict)


def normalize_datadog(payload: dict[str, Any]) -> Normalized:
    given = payload.get("title")
    nested = common.obj_or_empty(payload.get("alert"))
    title_at, title = _filled_at(
        ("title", given), ("alert_title", payload.get("alert_title")),
        ("alert.title", nested.get("title")),
    )  # fmt: skip
    _dd_unfilled_title(given, payload.get("alert_title"), nested.get("title"))
    full = common.ident(title, title_at)
    head = _DD_TITLE.match(full)
    name = (head["name"] if head else full).strip()
    scope = (head["scope"] or "").strip() if head else ""
    scope = scope or _dd_scope(payload, nested)
    given_transitions = (
        ("alert_transition", payload.get("alert_transition")),
        ("alert.transition", nested.get("transition")),
    )
    transition = _transition(_filled_at(*given_transitions), head, given_transitions)
    if transition in _DD_QUIET:
        return quiet(DATADOG, f"monitor {common.short(name)}", transition)
    body = _filled(*(payload.get(key) for key in _DD_MESSAGES))
    if _test_notification(name, body):
        detail = f"datadog test notification for {common.short(name)}: no ticket change"
        return Normalized((), (Skipped(DATADOG, "test_notification", detail),))
    status = Status.RESOLVED if transition in _DD_RESOLVED else Status.FIRING
    org_id, org_name = _dd_org(payload)
    monitor_at, monitor_given = _filled_at(
        ("alert_id", payload.get("alert_id")), ("monitor_id", payload.get("monitor_id")),
        ("alert.id", nested.get("id")),
    )  # fmt: skip
    monitor = common.ident_or_none(monitor_given, monitor_at) or _linked_monitor(body)
    tags = _tags(payload.get("tags"))
    when_at, when = _filled_at(*((key, payload.get(key)) for key in _DD_DATES))
    occurred, notes = dated(when, f"datadog {when_at}")
    link = _filled(payload.get("link"), payload.get("url"))
    labels = _dd_labels(payload, (org_id, org_name), monitor, scope, transition, tags)
    stated, unread = _dd_priority(payload, head, labels)
    alert = Alert(
        source=DATADOG,
        status=status,
        title=common.first_title(
            f"{name} on {scope}" if name and scope else name,
            scope,
            f"Datadog monitor {monitor or org_id}",
        ),
        team=common.word(_tag(tags, "team"), "team"),
        priority=stated,
        severity=_dd_severity(_filled(payload.get("alert_type"), nested.get("type")), transition),
        description=_dd_body(body, _filled(payload.get("alert_status"), nested.get("status"))),
        links=common.links(source=common.url(link, "link")),
        labels=labels,
        occurred_at=occurred,
        identity=_dd_identity(payload, org_id, monitor, name, scope),
        raw=payload,
    )
    return Normalized((alert,), (), notes + unread)


#: Where templates put $EVENT_MSG or $TEXT_ONLY_MSG, in the order read.
_DD_MESSAGES = ("body", "event_msg", "text_msg", "message")
#: Where templates put the event's time ($DATE, $LAST_UPDATED, $DATE_POSIX), in the order read.
_DD_DATES = ("date", "last_updated", "date_posix")
#: Where templates put $ALERT_SCOPE (Keep's template: `scopes`).
_DD_SCOPES = ("alert_scope", "scope", "scopes")


#: A Datadog variable as written ("$AGGREG_KEY", "$ALERT_ID"): what a payload holds where
#: Datadog filled nothing in (a name it has no such variable of, a notification that has none).
_DD_VARIABLE = re.compile(r"\s*\$[A-Z][A-Z0-9_]{1,63}\s*")


def _dd_unfilled(value: Any) -> bool:
    """Whether `value` is a Datadog variable as written, never a value: a `$ALERT_ID` kept so
    would key every monitor as one, and one's recovery would close them all."""
    return isinstance(value, str) and len(value) <= 80 and _DD_VARIABLE.fullmatch(value) is not None


def _dd_given(value: Any) -> bool:
    """Whether a template filled `value`: not absent, not empty text, not a variable as written."""
    return value is not None and value != "" and not _dd_unfilled(value)


def _filled(*values: Any) -> Any:
    """The first value a template filled (`_dd_given`)."""
    return next((value for value in values if _dd_given(value)), None)


def _filled_at(*named: tuple[str, Any]) -> tuple[str, Any]:
    """The first (path, value) a template filled, as `_filled` picks it, so that a refusal of
    the value names the field the sender put it in; the first path and None when none is."""
    picked = next((pair for pair in named if _dd_given(pair[1])), None)
    return picked or (named[0][0], None)


def _dd_unfilled_title(*titles: Any) -> None:
    """InvalidAlertError when no title is given and one is a variable as written ("$EVENT_TITLE"):
    said so, rather than that the title is missing."""
    variable = next((t for t in titles if _dd_unfilled(t)), None)
    if variable is not None and _filled(*titles) is None:
        raise InvalidAlertError(
            f"datadog title is the variable {common.short(variable.strip())}, which Datadog "
            "left unfilled: the alert cannot be identified (check the webhook's payload names "
            "Datadog's variables as its docs spell them)"
        )


def _dd_scope(payload: dict[str, Any], nested: dict[str, Any]) -> str:
    """$ALERT_SCOPE ("host:web-1,env:prod") from the template's own field, for a title that
    names no group: each group of a multi alert is its own incident."""
    # An object or array is no scope: passed over, so a scope written behind it still keys
    # the group (it is part of the incident's identity).
    given = _filled(
        *(common.unnested(payload.get(key)) for key in _DD_SCOPES),
        common.unnested(nested.get("scope")),
    )
    return common.ident_or_none(given, "alert_scope") or ""


def _dd_org(payload: dict[str, Any]) -> tuple[str, Any]:
    """The org's id (part of the identity; "" when none is sent) and name, from the default
    payload's `org` object, else from a flat template's `org_id` and `org_name` ($ORG_ID,
    $ORG_NAME): two orgs' monitors may share an id. A nested id that is no text is refused, as
    it always was; a flat one is passed over, as it was before it was read."""
    org = common.obj_or_empty(payload.get("org"))
    id_at, given = _filled_at(
        ("org.id", org.get("id")), ("org_id", common.unnested(payload.get("org_id")))
    )
    name = _filled(common.unnested(org.get("name")), common.unnested(payload.get("org_name")))
    return common.ident_or_none(given, id_at) or "", name


def _dd_priority(
    payload: dict[str, Any], head: re.Match[str] | None, labels: dict[str, str]
) -> tuple[Priority | None, tuple[str, ...]]:
    """$ALERT_PRIORITY as `alert_priority`, else as `severity` or `priority` when it is on
    Datadog's P1..P5 scale (a template's `priority` may be $PRIORITY, the event's "normal" or
    "low", which is no ticket's priority), else the title's "[P2]". An `alert_priority` stated
    and not read is noted: passed over for the one taken (`common.passed_over_note`), or, when
    none is read, unread (`common.unread_priority`)."""
    given = ("datadog alert_priority", payload.get("alert_priority"))
    stated = priority(given[1])
    if stated is not None:
        return stated, ()
    read_from, fallback = _dd_fallback_priority(payload, head)
    if fallback is None:
        return None, common.unread_priority(labels, given, scale=FIVE_STEPS)
    if not common.states_priority(given[1]):
        return fallback, ()
    return fallback, (common.passed_over_note(*given, FIVE_STEPS, read_from),)


def _dd_fallback_priority(
    payload: dict[str, Any], head: re.Match[str] | None
) -> tuple[str, Priority | None]:
    """Where a priority other than $ALERT_PRIORITY is read (the field's name in a note), and
    the priority: a P1..P5 `severity` or `priority`, else the title's "[P2]"; None if none."""
    for key in ("severity", "priority"):
        value = payload.get(key)
        if isinstance(value, str) and value.strip().lower() in _FIVE_STEPS:
            return f"datadog {key}", _FIVE_STEPS[value.strip().lower()]
    if head and head["priority"]:
        return "datadog title", priority(head["priority"])
    return "", None


def _dd_labels(
    payload: dict[str, Any], org: tuple[str, Any], monitor: str | None, scope: str,
    transition: str, tags: list[str],
) -> dict[str, str]:  # fmt: skip
    """What a route or a reader may want: the org (id and name), monitor, group, host, metric
    and tags."""
    nested = common.obj_or_empty(payload.get("alert"))
    metric = _filled(payload.get("alert_metric"), nested.get("metric"))
    labels = common.Labels()
    for key, value in (
        ("org_id", org[0]), ("org", org[1]), ("monitor_id", monitor),
        ("scope", scope), ("host", common.unnested(payload.get("hostname"))),
        ("event_type", common.unnested(payload.get("event_type"))),
        ("metric", common.unnested(metric)), ("transition", transition),
        ("tags", ",".join(tags)),
    ):  # fmt: skip
        common.add_label(labels, key, value)
    return labels


def _test_notification(name: str, body: Any) -> bool:
    """A "Test Notifications" press: "[TEST] " before the name and, when the message is sent,
    its "Test notification triggered by …" line (a monitor named "[TEST] canary" is real)."""
    if not _DD_TEST.match(name):
        return False
    return not isinstance(body, str) or _DD_TEST_BODY in body[:20_000].lower()


def _transition(
    named: tuple[str, Any], head: re.Match[str] | None, sent: tuple[tuple[str, Any], ...]
) -> str:
    """$ALERT_TRANSITION (`named`: the field it came in and its value) lower-cased, else the
    title's bracket; `Null` (`_DD_NO_DATA_RECOVERY`) under a title that names no state is
    "recovered". InvalidAlertError if neither names a state (blank, a word Datadog never
    sends, or, among the fields `sent`, a variable Datadog left unfilled, named so)."""
    field, given = named
    word = common.line(common.unnested(given), field, 64)
    word = (word or "").strip().lower()
    known = _DD_FIRING | _DD_RESOLVED | _DD_QUIET
    if word not in known and head is not None:
        return head["transition"].lower()
    if word == _DD_NO_DATA_RECOVERY:
        return "recovered"
    unfilled = next((pair for pair in sent if _dd_unfilled(pair[1])), None)
    if word not in known and given is None and unfilled is not None:
        raise InvalidAlertError(
            f"datadog {unfilled[0]} is the variable {common.short(unfilled[1].strip())}, which "
            "Datadog left unfilled, and the title names no monitor state"
        )
    if word not in known:
        raise InvalidAlertError(
            f"datadog {field} {common.short(given)} and the title name no monitor "
            "state (Triggered, Recovered, Warn, No Data, Renotify, Null)"
        )
    return word


def _dd_identity(
    payload: dict[str, Any], org_id: str, monitor: str | None, name: str, scope: str
) -> dict[str, str]:
    """The most stable key the payload holds; never the state, the event's id or its time."""
    aggregate = common.ident_or_none(_filled(payload.get("aggreg_key")), "aggreg_key")
    if aggregate:
        # The group too: whether Datadog keys a multi alert's groups apart is not documented,
        # and a recovery of one host must not close another's incident.
        return {"org": org_id, "aggreg_key": aggregate, "scope": scope}
    if monitor:
        return {"org": org_id, "monitor": monitor, "scope": scope}
    if not name and not scope:
        raise InvalidAlertError("datadog title names no monitor: the alert cannot be identified")
    return {"org": org_id, "monitor_name": name, "scope": scope}


#: The links Datadog appends to every monitor notification's $EVENT_MSG, after the user's own
#: message: "[[Monitor Status](https://app.datadoghq.com/monitors/<id>?group=…)] ·
#: [[Edit Monitor](https://app.datadoghq.com/monitors/<id>/edit)]" ("monitors#<id>" in older
#: events), on any Datadog site (datadoghq.com, datadoghq.eu, us3/us5/ap1, ddog-gov.com).
_DD_MONITOR_LINK = re.compile(
    r"\[\[(?:Monitor Status|Edit Monitor)\]\(https://[a-z0-9.-]{0,64}"
    r"(?:datadoghq\.com|datadoghq\.eu|ddog-gov\.com)/monitors[/#](?P<id>\d{1,20})\b"
)
#: The footer is the message's end: only so far from it is a link read (a long message's own
#: text never costs more than this).
_DD_FOOTER_CHARS = 4_000


def _linked_monitor(body: Any) -> str | None:
    """The monitor's id in the footer links of $EVENT_MSG, for the integration's default
    payload, which carries no $ALERT_ID: two monitors of one name are then two incidents. Only
    the footer's double-bracketed links, the last one, so a link the user wrote in the message
    keys nothing; None without one."""
    if not isinstance(body, str):
        return None
    found = list(_DD_MONITOR_LINK.finditer(body[-_DD_FOOTER_CHARS:]))
    return found[-1]["id"] if found else None


def _tags(value: Any) -> list[str]:
    """$TAGS: "env:prod,team:payments,monitor" (or an array of such tags)."""
    if isinstance(value, str):
        parts: list[Any] = value.split(",")
    else:
        parts = common.items_or_empty(value)
    return [p.strip() for p in parts if isinstance(p, str) and p.strip()][: common.LABELS_MAX]


def _tag(tags: list[str], key: str) -> str | None:
    """The value of the first `key:value` tag."""
    return next((t.split(":", 1)[1] for t in tags if t.lower().startswith(f"{key}:")), None)


#: The $ALERT_TYPE Datadog gives each transition, for a payload that does not carry it (the
#: integration's default): a monitor over its alert threshold is an error, over its warning
#: threshold a warning. A Renotify may be of either, and says nothing.
_DD_TYPE_OF = {
    "triggered": "error",
    "re-triggered": "error",
    "warn": "warning",
    "re-warn": "warning",
}


def _dd_severity(alert_type: Any, transition: str) -> str | None:
    """$ALERT_TYPE (error, warning, success, info) as Datadog says it, else the one its
    transition has (`_DD_TYPE_OF`), so a monitor's Triggered outranks its Warn."""
    stated = common.word(alert_type, "alert_type")
    return stated or _DD_TYPE_OF.get(transition)


def _dd_body(body: Any, status: Any) -> str:
    """$EVENT_MSG without the %%% markers Datadog wraps its Markdown in, else $ALERT_STATUS."""
    text = common.text(body, "body", common.DESCRIPTION_MAX * 2)
    if text:
        text = text.removeprefix("%%%").removesuffix("%%%").strip()
    return common.text(text or status, "description", common.DESCRIPTION_MAX) or ""


# --- Opsgenie ----------------------------------------------------------------------------------

#: An unacknowledged alert notifies again: it is live, whatever triage closed meanwhile.
_OG_FIRING = frozenset({"create", "unacknowledge"})
#: A deleted alert is gone from Opsgenie: no Close will ever follow it.
_OG_RESOLVED = frozenset({"close", "delete"})
#: A person set the alert's priority: its open ticket takes the new one.
_OG_PRIORITY = "updatepriority"


def matches_opsgenie(payload: dict[str, Any]) -> bool:
    """An outgoing webhook: the `action` taken on an `alert` that has its `alertId`."""
    alert = payload.get("alert")
    # `action` present is enough: one of the wrong type is refused naming it.
    return "action" in payload and isinstance(alert, dict) and "alertId" in alert


def normalize_opsgenie(payload: dict[str, Any]) -> Normalized:
    alert = common.obj(payload.get("alert"), "alert", required=True)
    alert_id = common.ident(alert.get("alertId"), "alert.alertId")
    action = (common.line(payload.get("action"), "action", 64) or "").lower()
    if action not in _OG_FIRING | _OG_RESOLVED and action != _OG_PRIORITY:
        return quiet(OPSGENIE, f"alert {common.short(alert_id)} action", payload.get("action"))
    alias = common.ident_or_none(alert.get("alias"), "alert.alias")
    tags = [t for t in common.items_or_empty(alert.get("tags")) if isinstance(t, str)]
    labels = common.Labels()
    for key, value in (
        ("alert_id", alert_id), ("alias", alias), ("tiny_id", common.unnested(alert.get("tinyId"))),
        ("entity", common.unnested(alert.get("entity"))),
        ("origin", common.unnested(alert.get("source"))),
        ("integration", common.unnested(payload.get("integrationName"))),
        ("tags", ",".join(tags[: common.LABELS_MAX])),
    ):  # fmt: skip
        common.add_label(labels, key, value)
    _og_details(labels, alert.get("details"))
    when_at, when = first_given(
        ("alert.updatedAt", alert.get("updatedAt")), ("alert.createdAt", alert.get("createdAt"))
    )
    occurred, notes = dated(when, f"opsgenie {when_at}")
    stated, unread = common.first_priority(
        labels, ("opsgenie alert.priority", alert.get("priority")), scale=FIVE_STEPS
    )
    changed = action == _OG_PRIORITY
    if changed and stated is None:
        return quiet(OPSGENIE, f"alert {common.short(alert_id)} priority", alert.get("priority"))
    parsed = Alert(
        source=OPSGENIE,
        status=Status.RESOLVED if action in _OG_RESOLVED else Status.FIRING,
        priority_changed=changed,
        title=common.first_title(alert.get("message"), alias, f"Opsgenie alert {alert_id}"),
        team=common.word(common.obj_or_empty(alert.get("details")).get("team"), "team"),
        priority=stated,
        description=_description(alert.get("description")),
        labels=labels,
        occurred_at=occurred,
        identity=_og_identity(alias, alert_id),
        raw=payload,
    )
    return Normalized((parsed,), (), notes + unread)


def _og_details(labels: dict[str, str], details: Any) -> None:
    """The alert's extra properties (`alert.details`, which the webhook's "Add Alert Details"
    sends: env, region, service …) as labels by their own names (`add_own_labels`); a name the
    reader labels itself (alias, entity …) keeps the reader's value."""
    add_own_labels(labels, details)


def _og_identity(alias: str | None, alert_id: str) -> dict[str, str]:
    """The alias the sender set (Opsgenie's own de-duplication key, which no two open alerts
    share); when it set none, Opsgenie fills the alias with the alert's id and de-duplicates
    nothing, so two open alerts may share a message and entity: the alert's id is the key."""
    if alias and alias != alert_id:
        return {"alias": alias}
    return {"alert_id": alert_id}


# --- PagerDuty ---------------------------------------------------------------------------------

#: An incident unacknowledged (its acknowledgement timed out) is triggered and pages again.
_PD_FIRING = frozenset({"incident.triggered", "incident.reopened", "incident.unacknowledged"})
_PD_RESOLVED = frozenset({"incident.resolved"})
#: A person set the incident's priority: its open ticket takes the new one.
_PD_PRIORITY = "incident.priority_updated"
#: What a webhook subscription's "Send Test Event" sends (resource type `pagey`).
_PD_PING = "pagey.ping"


def matches_pagerduty(payload: dict[str, Any]) -> bool:
    """A v3 webhook: an `event` with its `event_type`, `resource_type` and `data`."""
    event = payload.get("event")
    return (
        isinstance(event, dict)
        and "event_type" in event  # of any type: a wrong one is refused naming it
        and "resource_type" in event
        and isinstance(event.get("data"), dict)
    )


def normalize_pagerduty(payload: dict[str, Any]) -> Normalized:
    return read_pagerduty_event(common.obj(payload.get("event"), "event", required=True), payload)


def read_pagerduty_event(event: dict[str, Any], raw: dict[str, Any]) -> Normalized:
    """A v3 webhook's `event`, kept with `raw`, what PagerDuty sent (`pagerduty_legacy` reads
    a v2 or v1 message as the v3 event it stands for, keeping the message)."""
    kind = (common.line(event.get("event_type"), "event.event_type", 128) or "").lower()
    if kind == _PD_PING:
        detail = "pagerduty test event (pagey.ping) of a webhook subscription: no ticket change"
        return Normalized((), (Skipped(PAGERDUTY, "test_notification", detail),))
    if kind not in _PD_FIRING | _PD_RESOLVED and kind != _PD_PRIORITY:
        return quiet(PAGERDUTY, "event", event.get("event_type"))
    data = common.obj(event.get("data"), "event.data", required=True)
    incident = common.ident(data.get("id"), "event.data.id")
    service = common.obj_or_empty(data.get("service"))
    teams = [t for t in common.items_or_empty(data.get("teams")) if isinstance(t, dict)]
    labels = common.Labels()
    for key, value in (
        ("incident_id", incident), ("number", common.unnested(data.get("number"))),
        ("service", common.unnested(service.get("summary"))),
        ("escalation_policy",
         common.unnested(common.obj_or_empty(data.get("escalation_policy")).get("summary"))),
        ("urgency", common.unnested(data.get("urgency"))),
    ):  # fmt: skip
        common.add_label(labels, key, value)
    occurred, notes = dated(event.get("occurred_at"), "pagerduty event.occurred_at")
    stated, unread = common.first_priority(
        labels,
        (
            "pagerduty event.data.priority.summary",
            common.obj_or_empty(data.get("priority")).get("summary"),
        ),
        scale=FIVE_STEPS,
    )
    changed = kind == _PD_PRIORITY
    if changed and stated is None:
        return quiet(PAGERDUTY, "incident.priority_updated priority", data.get("priority"))
    alert = Alert(
        source=PAGERDUTY,
        status=Status.RESOLVED if kind in _PD_RESOLVED else Status.FIRING,
        priority_changed=changed,
        title=common.first_title(
            data.get("title"), data.get("summary"), f"PagerDuty incident {incident}"
        ),
        team=common.word(teams[0].get("summary") if teams else None, "team"),
        priority=stated,
        severity=common.word(data.get("urgency"), "urgency"),
        description=_description(data.get("description")),
        links=common.links(
            source=common.url(data.get("html_url"), "html_url"),
            service=common.url(service.get("html_url"), "service.html_url"),
        ),
        labels=labels,
        occurred_at=occurred,
        identity=_pd_identity(data, service, incident),
        raw=raw,
    )
    return Normalized((alert,), (), notes + unread)


def _pd_identity(data: dict[str, Any], service: dict[str, Any], incident: str) -> dict[str, str]:
    """The service and the incident's `incident_key` (the Events API's dedup key), which
    PagerDuty keeps unique among a service's open incidents and gives a check's next incident
    too, so that a flapping check reopens one ticket; else the incident's id. Never the title:
    incidents without a dedup key are new on every event, so two open at once may share it."""
    service_id = common.ident_or_none(common.unnested(service.get("id")), "service.id")
    key = common.ident_or_none(common.unnested(data.get("incident_key")), "incident_key")
    if service_id and key:
        return {"service": service_id, "incident_key": key}
    return {"incident": incident}
