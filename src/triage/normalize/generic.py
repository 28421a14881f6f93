"""Alerts from our own tools: the generic JSON that custom scripts send, and the threshold events
of the metric evaluator (`event_type: threshold_alert`). Fields are listed in DESIGN.md.

Identity, generic: `dedup_key` (or `deduplication_key`, `dedupKey`, `incident_key`, OCI
alarm messages' `dedupeKey`, GitLab's alert format's `fingerprint`) when given, else the
script's `source` + the title. Dated by `timestamp`, else a past `end_time`, else another
tool's name for it (`_TIME_KEYS`: start_time, startsAt, createTimestamp, triggeredAt,
lastOccurrence). A Splunk On-Call REST body (`message_type`, `entity_id`) is read as the
generic alert it says (`normalize_splunk_oncall`): keyed by its entity. A `team`,
`priority` or `severity` missing at the top level is read from `labels`, as Grafana's and
Alertmanager's are, and so is one whose top-level value triage cannot read (a priority `P9`, a
blank or object team): the unread priority is named in a note.
Identity, threshold: the rule (`rule_id`, else `rule_name`) + the target (`device_id`, else
`host`) + the metric, so the same rule on another device or host is another incident.
Shown, generic: the `description` (else `message`, `summary` or `text`) with a nested
`details` object after it a field a line, `tags` (an array or text) as a label, and the link
`url` (else `link`).
Only the identity fields, the title and the status can refuse an alert: a team, severity,
description, label, value or operator of an odd JSON type reads as JSON text or is passed over.
Statuses: generic firing|resolved (default firing), and the words other tools send for them
(`_FIRING`, `_RESOLVED`: Nagios' PROBLEM/RECOVERY, PagerDuty's trigger/resolve, uptime checks'
down/up, cleared, closed …; as a `status` only (`_STATUS_ONLY`), a Nagios, Icinga or Checkmk
check's CRITICAL/CRIT, WARNING and UNREACHABLE/UNREACH, a script's alert, error or failed, and
a Kibana rule's firing action group (Threshold met, Query matched, Fired, an id such as
logs.threshold.fired or xpack.synthetics.alerts.actionGroups.monitorStatus) fire, as do an
AppDynamics health rule violation's event types (POLICY_OPEN_CRITICAL, …_CONTINUES_WARNING,
POLICY_UPGRADED, POLICY_DOWNGRADED, or HEALTH_RULE_…; ranked by the level they name) but
…_CLOSE_… and …_CANCELED_…, which resolve,
and Consul's and Sensu's passing or a job's success resolve); acknowledged, pending, unknown
and no-data states change no ticket (Skipped, `_QUIET`), and so, as a `status` only, do the
notification types that are no state (acknowledgement, flapping, downtime, custom) and a
healthchecks.io grace period or pause (`_QUIET_STATUS_ONLY`); a healthchecks.io test
notification (its dummy check "TEST" without a slug: `_healthchecks_test`) is Skipped as
`test_notification`, down or up. An unread word is an error that
lists the words read; a number is refused (Nagios' 1 is a warning, Uptime Kuma's is up), and
so is one written as text (Zabbix's {EVENT.VALUE} "1"), saying to send the word. A
Nagios or Icinga notification command's `notification_type` (PROBLEM, RECOVERY,
ACKNOWLEDGEMENT …) is read, without a `status`, as that word is. A
script that writes `state` instead of `status` is read the same when its `state` is a firing
or resolved word, and so is PagerDuty's `event_action` (v2) or `event_type` (v1): trigger,
resolve, acknowledge, and a Datadog template's `transition` ($ALERT_TRANSITION: Triggered,
Re-Triggered, Warn and Renotify fire, Recovered and Null resolve, No Data changes no ticket);
without any of them, a `type` that names a state change (OCI alarm
messages' OK_TO_FIRING, FIRING_TO_OK) is the state it changed to, and beside OCI's `dedupeKey`
its REPEAT fires and RESET resolves; else a `"resolved": true` flag (the JSON boolean, or
"true"), or Sematext's `"backToNormal": true`, resolves. An event name that ends with a state
("incident.resolved", "alert_triggered", "monitor-up": an incident's, alert's, alarm's,
monitor's, check's or problem's) as any of these keys is that state. Last, an `end_time`
that is past (GitLab's alert format: given, the alert is resolved) resolves; one to come
does not. As a `status` only, health and
presence words are read (degraded, unhealthy, offline fire; healthy, online resolve) and an
incident tool's accepted (ilert) or suppressed (Squadcast) changes no ticket. Keys are read in any case (`Status`, `STATUS`, `Priority`, `Team`: a
PowerShell hashtable's), the exact lower-case key winning when both are sent and the spelling
passed over noted, but for the identity's (`title`, `source`, the dedup keys), which stay exact
so no incident's fingerprint moves. A title that starts with a state, as tools that send
no `status` write it, is that state unless a `status` says otherwise, and is shown and keyed
without it, so its firing and its recovery are one incident: in brackets ("[Recovered] X",
"[FIRING:2] X", "[P1] [Triggered on {host:a}] X", Icinga's "[PROBLEM] s on h is CRITICAL!"),
before a colon as mail subjects write it (Zabbix's "Problem: X", "Resolved in 5m: X",
"Updated problem: X", an acknowledgement; Nagios' and old Zabbix's "PROBLEM: X", "RECOVERY:
X", "OK: X"; CloudWatch's 'ALARM: "x" in …'; Firing, Triggered, Recovered), after Nagios'
stars ("** PROBLEM Service Alert: h/s is CRITICAL **", "*** RECOVERY *** h / s is OK"; an
ACKNOWLEDGEMENT, DOWNTIMESTART or FLAPPINGSTART changes no ticket), or Checkmk's ("Check_MK:
h/s OK -> CRIT": the state changed to; "Acknowledged (CRIT)", a downtime or flapping changes
no ticket). The check state such a subject ends with ("is CRITICAL", "is OK!") is shown but
not keyed. A Kibana rule's recovery title, as a Webhook connector's `{{context.title}}`
writes it ("alert X group Y recovered", "rule 'X' recovered"), is keyed as its firing title
("… met threshold", "… matched query"), so it closes that incident; a grouped Elasticsearch
query rule's, which names no group, by the group its `conditions` name. A Nagios, Icinga or Checkmk check state of CRITICAL (CRIT) or WARNING (WARN), as
its `status` or at its title's end, is the severity of an alert that states none, so a check's
CRITICAL outranks its WARNING; a host such a subject ends DOWN ranks critical and UNREACHABLE
high (in capitals, as the tools write them). A title that only contains such a word ("Recovery of db-1 failed", "db-1 is
DOWN") keeps its title and key. Threshold: triggered|resolved (also
firing|ok, and the other words a `status` takes); its `state` that changes no ticket (pending,
acknowledged, no_data, unknown …) is Skipped as a generic `status` is.
Events v2: a PagerDuty Events API v2 event (`routing_key`, `event_action`, `dedup_key`,
`payload`), as Alertmanager's, Grafana's and Zabbix's PagerDuty integrations send it to triage,
is read as the generic alert it says (`normalize_events_v2`): keyed by its `dedup_key`, so its
resolve, which carries no payload, closes its trigger; its `routing_key` is never kept.
"""

from __future__ import annotations

import re
import threading
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from triage.errors import InvalidAlertError
from triage.models import Alert, Status
from triage.normalize import common, subjects
from triage.normalize.common import Normalized, Skipped

GENERIC = "generic"
THRESHOLD = "threshold"

_FIRING = ("firing", "triggered", "trigger", "retriggered", "re-triggered", "alerting",
           "problem", "alarm", "active", "open", "down",
           "warn", "re-warn", "renotify")  # fmt: skip
_RESOLVED = ("resolved", "resolve", "ok", "recovered", "recovery", "clear", "cleared", "closed",
             "close", "normal", "up")  # fmt: skip
_STATUS = dict.fromkeys(_FIRING, Status.FIRING) | dict.fromkeys(_RESOLVED, Status.RESOLVED)
#: Words read only as a stated `status`: a title's "[CRITICAL] X" or "[Alert] X" bracket stays
#: part of its title, as it always did, so no incident is keyed anew. A Nagios or Icinga
#: check's states (OK and UNKNOWN are read above) and Checkmk's short ones ($SERVICESHORTSTATE$,
#: $HOSTSHORTSTATE$); the words scripts and jobs write; Consul's and Sensu Go's check states.
_STATUS_ONLY = dict.fromkeys(("critical", "warning", "unreachable", "crit", "unreach", "alert",
                              "error", "failing", "failed", "failure", "fail"),
                             Status.FIRING)  # fmt: skip
_STATUS_ONLY |= dict.fromkeys(("passing", "success", "succeeded"), Status.RESOLVED)
#: Health and presence words: Argo CD notifications' `{{.app.status.health.status}}` (Degraded,
#: Healthy), health checks' unhealthy, a host's or agent's offline and online.
_STATUS_ONLY |= dict.fromkeys(("unhealthy", "degraded", "offline"), Status.FIRING)
_STATUS_ONLY |= dict.fromkeys(("healthy", "online"), Status.RESOLVED)
#: A Kibana rule's firing action group, as a Webhook connector's `{{alert.actionGroupName}}`
#: or `{{alert.actionGroup}}` writes it: the Index threshold rule's "Threshold met", the
#: Elasticsearch query and ES|QL rules' "Query matched", the Log threshold rule's "Fired" (the
#: word Azure's `monitorCondition` says too); its recovery is "Recovered", read above.
_STATUS_ONLY |= dict.fromkeys(("fired", "threshold met", "query matched"), Status.FIRING)
#: A Kibana action group's id (lower-cased) of an Observability rule, "<app>.<rule>.fired"
#: ("logs.threshold.fired", "metrics.inventory_threshold.fired"), or of a Synthetics or Uptime
#: rule, "xpack.<app>.alerts.actiongroups.<group>" ("…monitorstatus", "…tlscertificate"): fires
#: (a rule's recovery is its "recovered" group, whatever the rule).
_KIBANA_FIRED = re.compile(
    r"[a-z_]{1,64}(?:\.[a-z_]{1,64}){0,4}\.fired|xpack\.[a-z_]{1,64}\.alerts\.actiongroups\.\w{1,64}"
)
#: An AppDynamics health rule violation's event type, as an HTTP request template's
#: `${latestEvent.eventType}` writes it (lower-cased): POLICY_OPEN_CRITICAL, …_CONTINUES_WARNING,
#: POLICY_UPGRADED …, or HEALTH_RULE_… as the Alert & Respond API names them. Opened, still
#: going on (resent while it lasts), upgraded or downgraded fire; closed resolves, and so does
#: canceled (the rule was disabled or changed, or its entity is gone: no close will follow).
_APPDYNAMICS_EVENT = re.compile(
    r"(?:policy|health_rule)_(?:(?P<state>open|continues|close|canceled|cancelled)"
    r"_(?P<level>critical|warning)|(?P<change>upgraded|downgraded))"
)
_APPDYNAMICS_ENDED = frozenset({"close", "canceled", "cancelled"})
#: The level an upgraded violation reaches (critical) and a downgraded one keeps (warning).
_APPDYNAMICS_CHANGED_TO = {"upgraded": "critical", "downgraded": "warning"}


def _appdynamics(word: str) -> tuple[Status, str] | None:
    """The state and level an AppDynamics event type (`_APPDYNAMICS_EVENT`, lower-cased) says;
    None for any other word."""
    event = _APPDYNAMICS_EVENT.fullmatch(word)
    if event is None:
        return None
    if event["change"]:
        return Status.FIRING, _APPDYNAMICS_CHANGED_TO[event["change"]]
    ended = event["state"] in _APPDYNAMICS_ENDED
    return (Status.RESOLVED if ended else Status.FIRING), event["level"]


#: States that are neither: a person acknowledged it, or the check has no data yet. Like
#: CloudWatch's INSUFFICIENT_DATA they change no ticket (Skipped), rather than going to the DLQ.
_QUIET = frozenset({"acknowledged", "acknowledge", "ack", "pending", "unknown", "no_data",
                    "nodata", "no data", "re-no data", "insufficient_data"})  # fmt: skip
#: More states that are neither, read only as a stated `status` (as `_STATUS_ONLY`): Checkmk's
#: short UNKNOWN; the notification types of Nagios, Icinga and Checkmk that are no state (an
#: acknowledgement, flapping, downtime, a custom note); Zabbix's update of a problem;
#: healthchecks.io's grace period and paused checks; Uptime Kuma's maintenance; an incident
#: tool's alert a responder accepted (ilert's ACCEPTED) or a rule suppressed (Squadcast's
#: suppressed), sent on: a person or a rule handles it, the problem's state is unchanged.
_QUIET_STATUS_ONLY = frozenset({"unkn", "acknowledgement", "flappingstart", "flappingstop",
                                "flappingend", "flappingdisabled", "downtimestart",
                                "downtimeend", "downtimecancelled", "downtimeremoved", "custom",
                                "update", "updated", "grace", "paused", "maintenance",
                                "accepted", "suppressed"})  # fmt: skip
_SKIPPED = _QUIET | _QUIET_STATUS_ONLY
#: The states a bracket before a title is read as ("[Recovered] X"): the alerting words and the
#: quiet ones, and Icinga's notification types ("[ACKNOWLEDGEMENT] X") but for "[Custom] X", a
#: tag as often as a notification type (Icinga's "[CUSTOM] X is CRITICAL!", which ends in a
#: check state, is read by `subjects` as the problem's note).
_BRACKET_WORDS = _STATUS.keys() | _QUIET | (subjects.NOTIFICATION_TYPES - {"custom"})


def matches_generic(payload: dict[str, Any]) -> bool:
    """A script's generic alert (its `title`), or a PagerDuty Events API v2 or v1 event
    (`matches_events_v2`, `matches_events_v1`), which says one without a title."""
    return (
        "title" in payload
        or matches_events_v2(payload)
        or matches_events_v1(payload)
        or matches_splunk_oncall(payload)
    )


def matches_events_v2(payload: dict[str, Any]) -> bool:
    """A PagerDuty Events API v2 event, as Alertmanager's `pagerduty_configs`, Grafana's
    PagerDuty contact point or Zabbix's PagerDuty media type post it to triage: its
    `event_action` with the integration's `routing_key` or the event's `payload`, and no
    `title` (a script's generic alert with an `event_action` stays generic)."""
    return (
        "title" not in payload
        and isinstance(payload.get("event_action"), str)
        and ("routing_key" in payload or isinstance(payload.get("payload"), dict))
    )


def normalize_events_v2(sent: dict[str, Any]) -> Normalized:
    """An Events API v2 event read as the generic alert it says: its `payload.summary` the
    title (a resolve or acknowledge carries no payload: titled by its key), its `dedup_key`
    the key (so a resolve closes its trigger), `event_action` the state, `payload.severity`
    the severity, `payload.source` the host, component, group and class labels,
    `custom_details` shown as a script's `details` are. The `routing_key` is the
    integration's secret and is neither shown nor kept."""
    event = common.obj_or_empty(sent.get("payload"))
    key = common.unnested(sent.get("dedup_key"))
    summary = common.unnested(event.get("summary"))
    if summary is None and key is None:
        raise InvalidAlertError(
            "PagerDuty event has no payload.summary and no dedup_key: it cannot be identified"
        )
    links = [common.obj_or_empty(link) for link in common.items_or_empty(sent.get("links"))]
    read = {
        "title": summary if summary is not None else f"PagerDuty event {common.shown(key)}",
        "event_action": sent.get("event_action"),
        "dedup_key": key,
        "severity": event.get("severity"),
        "host": event.get("source"),
        "timestamp": event.get("timestamp"),
        "details": event.get("custom_details"),
        "url": sent.get("client_url") or next((link.get("href") for link in links), None),
        "labels": {
            name: value
            for name in ("component", "group", "class")
            if (value := common.unnested(event.get(name))) is not None
        },
    }
    return normalize_generic({name: value for name, value in read.items() if value is not None})


#: The `event_type` words of PagerDuty's Events API v1.
_V1_EVENT_TYPES = frozenset({"trigger", "resolve", "acknowledge"})


def matches_events_v1(payload: dict[str, Any]) -> bool:
    """A PagerDuty Events API v1 event, as Alertmanager's `pagerduty_configs` with a
    `service_key` posts it (and Nagios', Zabbix's and Sensu's older PagerDuty plugins): the
    integration's `service_key` and an `event_type` of v1, and no `title` (a script's generic
    alert with those keys stays generic)."""
    event_type = payload.get("event_type")
    return (
        "title" not in payload
        and "service_key" in payload
        and isinstance(event_type, str)
        and event_type.strip().lower() in _V1_EVENT_TYPES
    )


def normalize_events_v1(sent: dict[str, Any]) -> Normalized:
    """An Events API v1 event read as the generic alert it says: its `description` the title
    (else its key), its `incident_key` the key (Alertmanager's hash of the group key, the
    same for the group's trigger and resolve), `event_type` the state, `details` shown as a
    script's are, `client_url` its link. The `service_key` is the integration's secret and is
    neither shown nor kept."""
    key = common.unnested(sent.get("incident_key"))
    description = common.unnested(sent.get("description"))
    if description is None and key is None:
        raise InvalidAlertError(
            "PagerDuty event has no description and no incident_key: it cannot be identified"
        )
    read = {
        "title": description if description is not None else f"PagerDuty event {common.shown(key)}",
        "event_type": sent.get("event_type"),
        "dedup_key": key,
        "details": sent.get("details"),
        "url": sent.get("client_url"),
        "labels": {"client": client} if (client := common.unnested(sent.get("client"))) else {},
    }
    return normalize_generic({name: value for name, value in read.items() if value is not None})


#: Splunk On-Call's (VictorOps) REST endpoint `message_type`s (its "REST Endpoint Integration
#: Guide"), lower-cased, as the status each is read as: CRITICAL and WARNING fire (ranked as
#: the check states they are), RECOVERY resolves, ACKNOWLEDGEMENT changes no ticket. INFO, a
#: timeline note that opens no incident, is Skipped on its own.
_ONCALL_STATES = {"critical": "critical", "warning": "warning", "recovery": "recovery",
                  "acknowledgement": "acknowledgement"}  # fmt: skip


def matches_splunk_oncall(payload: dict[str, Any]) -> bool:
    """A Splunk On-Call REST endpoint body (or a relay's copy of one): its `message_type` and
    the `entity_id` that identifies the incident, as text, and no `status`, which would say the
    state otherwise. A script's own `message_type` without an `entity_id` is read as before."""
    return (
        isinstance(payload.get("message_type"), str)
        and isinstance(payload.get("entity_id"), str)
        and "status" not in payload
    )


def normalize_splunk_oncall(sent: dict[str, Any]) -> Normalized:
    """A Splunk On-Call body read as the generic alert it says: keyed by its `entity_id` (so
    its RECOVERY closes its CRITICAL whatever the display name says), titled by its `title`,
    else `entity_display_name`, else the entity; `state_message` its description,
    `state_start_time` its time, `host_name` its host, `message_type` its state."""
    kind = sent["message_type"].strip().lower()
    entity = sent["entity_id"]
    if kind == "info":
        detail = f"Splunk On-Call INFO message for {common.short(entity)}: a note, no incident"
        return Normalized((), (Skipped(GENERIC, "no_state_change", detail),))
    read = dict(sent)
    read["status"] = _ONCALL_STATES.get(kind, sent["message_type"])
    if not any(name in sent for name in DEDUP_KEYS):
        read["dedup_key"] = entity
    for key, given in (
        ("title", "entity_display_name"),
        ("description", "state_message"),
        ("timestamp", "state_start_time"),
        ("host", "host_name"),
    ):
        if read.get(key) is None and sent.get(given) is not None:
            read[key] = sent[given]
    read.setdefault("title", entity)
    return normalize_generic(read)


def matches_threshold(payload: dict[str, Any]) -> bool:
    return payload.get("event_type") == "threshold_alert"


def normalize_generic(sent: dict[str, Any]) -> Normalized:
    if "title" not in sent and matches_events_v2(sent):
        return normalize_events_v2(sent)
    if matches_events_v1(sent):
        return normalize_events_v1(sent)
    if matches_splunk_oncall(sent):
        return normalize_splunk_oncall(sent)
    payload, spellings = _any_case(sent)
    time_key = _time_key(payload)
    occurred, dated_notes = dated(payload.get(time_key), f"{GENERIC} {time_key}")
    key = None if spellings else _repeat_key(payload)
    known = _remembered.get(key) if key is not None else None
    if known is not None:  # a repeat: the reading's alert, with its own time and payload
        alert = known.alert.model_copy(update={"occurred_at": occurred, "raw": sent})
        return Normalized((alert,), (), dated_notes + known.notes)
    read = _read(payload, sent, occurred)
    if isinstance(read, Skipped):
        return Normalized((), (read,), spellings)
    if key is not None:
        _remember(key, read)
    return Normalized((read.alert,), (), spellings + dated_notes + read.notes)


@dataclass(frozen=True, slots=True)
class _Read:
    """A generic alert as read, and the notes its reading made but for its time's."""

    alert: Alert
    notes: tuple[str, ...]


#: A storm's repeats are one script's alert sent again and again, alike but for a counter or a
#: time: what was read of one is remembered by every field the reading looks at
#: (`_repeat_key`), so a repeat costs a copy dated anew (~3 µs against ~25 to read it). At most
#: `_REMEMBERED_KEPT`, the oldest forgotten first; alerts whose fields hold more than
#: `_REMEMBERED_CHARS` characters in all are read each time, so it stays small.
_remembered: dict[tuple[object, ...], _Read] = {}
_REMEMBERED_KEPT = 512
_REMEMBERED_CHARS = 4_096
#: A worker thread reads the largest bodies (`pipeline.OFFLOAD_BODY_BYTES`) beside the loop.
_REMEMBERING = threading.Lock()
_NO_VALUE = type(None)


def _repeat_key(payload: dict[str, Any]) -> tuple[object, ...] | None:
    """What the reading of `payload` looks at but its time: the value of each field it reads
    (`_READ_FIELDS`, a key of another case having been read as its own by `_any_case`). None,
    read every time, when one is not text (1 and True hash alike but read apart; an object's
    labels would have to be copied to be kept), when they are long, for a Healthchecks.io
    test's title, whose check reads every field, or with an `end_time`, read against the
    clock (`_ended`)."""
    values = tuple(map(payload.get, _READ_FIELDS))
    if not _TEXT_OR_NONE.issuperset(map(type, values)) or values[0] == "TEST":
        return None
    if payload.get("end_time") is not None:
        return None  # read against the clock: a time to come now may be past at a repeat
    if sum(map(len, filter(None, values))) > _REMEMBERED_CHARS:
        return None
    return values


_TEXT_OR_NONE = frozenset({str, _NO_VALUE})


def _remember(key: tuple[object, ...], read: _Read) -> None:
    """Keep `read` for `key`'s repeats, without its payload: a body may hold up to SQS's
    256 KB of fields the reading never looks at, and each repeat brings its own."""
    kept = _Read(read.alert.model_copy(update={"raw": {}}), read.notes)
    with _REMEMBERING:
        if len(_remembered) >= _REMEMBERED_KEPT:
            del _remembered[next(iter(_remembered))]
        _remembered[key] = kept


def _read(payload: dict[str, Any], sent: dict[str, Any], occurred: datetime) -> _Read | Skipped:
    """A generic alert's reading from `payload` (its keys read in any case), dated `occurred`
    and keeping `sent`; or why it changes no ticket. Looks only at `_READ_FIELDS`, but for a
    Healthchecks.io test's title (`_healthchecks_test`)."""
    # A stated status wins over the title's bracket, but the bracket never keys the incident:
    # "[Triggered] X" and "[Recovered] X" with their `status` are one incident too.
    subject = subjects.title_state(payload.get("title"), _BRACKET_WORDS)
    title = common.title(subject.shown)
    stated_word = _stated(payload)
    word = _given(_given(stated_word, subject.word), "firing")
    if _healthchecks_test(payload):
        detail = "healthchecks.io test notification (its dummy check TEST): no ticket change"
        return Skipped(GENERIC, "test_notification", detail)
    if isinstance(word, str) and word.strip().lower() in _SKIPPED:
        detail = f"generic alert {common.short(title)} is {common.short(word)}: no ticket change"
        return Skipped(GENERIC, "no_state_change", detail)
    dedup_key = _dedup_key(payload)
    # With a dedup_key the source is only shown, and one that is no text is passed over.
    source = common.unnested(payload.get("source")) if dedup_key else payload.get("source")
    origin = common.ident_or_none(source, "source") or GENERIC
    given = common.obj_or_empty(payload.get("labels"))
    labels = common.labels_from({key: common.flat(value) for key, value in given.items()})
    # The label is shown: cut from what was given, marked as a shown cut (`origin` is cut as
    # an identity is, unmarked, and what it keeps of a secret is known for one only so).
    common.add_label(labels, "origin", origin if origin == GENERIC else source)
    common.add_label(labels, "host", common.flat(payload.get("host")))
    tags = payload.get("tags")
    if tags is not None and "tags" not in labels:
        common.add_label(labels, "tags", _tags(tags))
    if dedup_key:
        common.add_label(labels, "dedup_key", dedup_key)
    # Not cut to 200: stays distinct. A Kibana recovery title is keyed as its firing title.
    full_title = common.ident(_fired_title(subject.keyed, payload.get("conditions")), "title")
    notes = (
        tuple(note for name in _RESOLVED_FLAGS for note in _unread_flag(payload.get(name), name))
        if stated_word is None and subject.word is None
        else ()
    )
    stated = (
        (f"{GENERIC} priority", payload.get("priority")),
        (f"{GENERIC} labels.priority", given.get("priority")),
    )
    priority, unread = common.first_priority(labels, *stated)
    unread += common.passed_over(*stated)
    runbook, unlinked = _runbook(payload)
    alert = Alert(
        source=GENERIC,
        status=_status(word, "status"),
        title=title,
        team=_word_or_label(payload, given, "team"),
        priority=priority,
        severity=_word_or_label(payload, given, "severity") or _check_level(word, subject),
        description=_with_runbook(_described(payload), unlinked),
        runbook_url=runbook,
        links=common.links(source=_link(payload)),
        labels=labels,
        occurred_at=occurred,
        identity={"dedup_key": dedup_key} if dedup_key else {"source": origin, "title": full_title},
        raw=sent,
    )
    return _Read(alert, notes + unread)


#: A Kibana rule's recovery `context.title`, and the firing title of the same rule and group
#: it stands for: the Index threshold rule's "alert {name} group {group} recovered" of "… met
#: threshold", the Elasticsearch query rule's "rule '{name}' recovered" of "… matched query"
#: (stack_alerts' action_context.ts). A Webhook connector that sends `{{context.title}}` as
#: the title would otherwise key the recovery apart, and the firing's ticket never closes.
_KIBANA_RECOVERED = (
    (re.compile(r"(alert .{1,1024} group .{1,1024}) recovered", re.DOTALL), "{} met threshold"),
    (re.compile(r"(rule '.{1,1024}') recovered", re.DOTALL), "{} matched query"),
)


def _fired_title(title: Any, conditions: Any = None) -> Any:
    """The title `title` is keyed by: a Kibana rule's recovery title (`_KIBANA_RECOVERED`) as
    the firing title of its rule and group, so its recovery closes what its firing opened; any
    other title as it is (no firing title's key moves). A grouped Elasticsearch query rule's
    recovery title names no group ("rule 'X' recovered"), but its `conditions`
    ({{context.conditions}}) do: keyed as that group's firing title ("rule 'X' matched query
    for group host-1"), so one host's recovery closes its own incident only."""
    if not isinstance(title, str) or not title.endswith(" recovered"):
        return title
    for recovered, fired in _KIBANA_RECOVERED:
        match = recovered.fullmatch(title)
        if match is not None:
            keyed = fired.format(match[1])
            group = _kibana_group(conditions) if fired.endswith("matched query") else None
            return f"{keyed} for group {group}" if group else keyed
    return title


#: The group a Kibana Elasticsearch query or ES|QL rule's `context.conditions` names: 'Number
#: of matching documents for group "host-1" is …', 'Query matched documents for group "g"'.
_KIBANA_GROUP = re.compile(r'documents for group "(?P<group>[^"\n]{1,1024})"')


def _kibana_group(conditions: Any) -> str | None:
    """The group named in a Kibana rule's conditions, or None."""
    if not isinstance(conditions, str):
        return None
    found = _KIBANA_GROUP.search(conditions[:4096])
    return found["group"] if found else None


#: What a template's key ends with when the check's $SLUG it ends with is empty
#: ("healthchecks-$SLUG" → "healthchecks-").
_EMPTY_SLUG = re.compile(r"(?:.{0,200}[-_:/.])?")
#: The dummy check of Healthchecks.io's "send test notification" (hc/front/views.py): named
#: TEST, never saved, so without a slug or tags, and counted 42 pings.
_HC_TEST_CHECK = {"name": "TEST", "slug": "", "n_pings": 42}


def _healthchecks_test(payload: dict[str, Any]) -> bool:
    """A Healthchecks.io test notification through a generic template: the dummy check's name
    TEST as the title, with a key whose $SLUG came out empty ("healthchecks-", ""), or with
    the dummy check itself as $JSON. A real check named TEST has a slug ("test"); a script's
    alert titled TEST that sends no key still fires."""
    if payload.get("title") != "TEST":
        return False
    keys = [payload[name] for name in DEDUP_KEYS if name in payload]
    if any(isinstance(key, str) and _EMPTY_SLUG.fullmatch(key) for key in keys):
        return True
    return any(
        isinstance(value, dict) and all(value.get(k, None) == v for k, v in _HC_TEST_CHECK.items())
        for value in payload.values()
    )


#: The check states of Nagios, Icinga and Checkmk that rank a check's alert (`_check_level`):
#: a CRITICAL check above its WARNING (the priority rule reads each as the severity it names).
_CHECK_LEVELS = frozenset({"critical", "crit", "warning", "warn"})


#: A host's failing states as Nagios, Icinga and Checkmk write them in a title ($HOSTSTATE$,
#: $HOSTSHORTSTATE$), and the severity each ranks as: a host check's CRITICAL result puts the
#: host DOWN, or UNREACHABLE when a parent it sits behind is down (the parent's incident is the
#: critical one). Only in capitals: "… is down" in a script's prose ranks as before.
_HOST_LEVELS = {"DOWN": "critical", "UNREACHABLE": "high", "UNREACH": "high"}


def _check_level(word: Any, subject: subjects.Subject) -> str | None:
    """The severity of an alert that states none: the check state its `status` is
    ("CRITICAL", "WARNING", Checkmk's "CRIT"), else the one its title names ("… is
    CRITICAL", "OK -> CRIT"), so a check gone CRITICAL outranks the same check gone WARNING
    (one incident: the state is not keyed); a host its title names DOWN or UNREACHABLE ranks
    as `_HOST_LEVELS` says, not as a WARNING. Another status ("down", "error") ranks as
    before."""
    for said in (word, subject.check_state):
        if isinstance(said, str) and said.strip().lower() in _CHECK_LEVELS:
            return said.strip()
    appdynamics = _appdynamics(word.strip().lower()) if isinstance(word, str) else None
    if appdynamics and appdynamics[0] is Status.FIRING:
        return appdynamics[1]
    return _HOST_LEVELS.get(subject.check_state or "")


#: A Nagios or Icinga notification command's type ($NOTIFICATIONTYPE$, Icinga 2's
#: `$notification.type$`) as its JSON names it: PROBLEM fires, RECOVERY resolves, and an
#: acknowledgement, flapping, downtime or custom notification changes no ticket. Read before
#: the other state keys: the service's state (CRITICAL) stays CRITICAL in its acknowledgement.
_NOTIFICATION_TYPE_KEYS = ("notification_type", "notificationtype")
#: Where the templates teams copy for Datadog's Webhooks integration put $ALERT_TRANSITION
#: (`"transition": "$ALERT_TRANSITION"`): read as a state, as the `[Recovered]` bracket of a
#: title is, so a template whose title has no bracket still resolves.
_DATADOG_TRANSITION = "transition"
#: The generic keys read in any case (`_any_case`): every one but the identity's (`title`,
#: `source`, `DEDUP_KEYS`), which stay exact so that no incident's fingerprint moves.
_ANY_CASE = frozenset({"status", "state", "event_type", "event_action", "priority", "team",
                       "severity", "description", "message", "summary", "text", "details",
                       "runbook", "runbook_url", "url", "link", "host", "tags", "labels",
                       "timestamp", "resolved", *_NOTIFICATION_TYPE_KEYS})  # fmt: skip


def _any_case(sent: dict[str, Any]) -> tuple[dict[str, Any], tuple[str, ...]]:
    """`sent` with each key of `_ANY_CASE` spelt in another case (PowerShell's `Status`, a
    shell script's `STATUS`) read as its lower-case key, and a note for each spelling passed
    over: the exact lower-case key wins when both are sent, else the first spelling sent."""
    spelt: dict[str, list[str]] = {}
    for key in sent:
        lowered = key.lower() if isinstance(key, str) else None
        if lowered in _ANY_CASE and key != lowered:
            spelt.setdefault(lowered, []).append(key)
    if not spelt:
        return sent, ()  # the common case: every key as documented
    read = dict(sent)
    notes = []
    for lowered, keys in spelt.items():
        chosen = lowered if lowered in sent else keys[0]
        read[lowered] = sent[chosen]
        notes += [
            f"{GENERIC} key {common.short(key)} is ignored: {common.short(chosen)} is read (the "
            "exact lower-case key wins, else the first spelling sent)"
            for key in keys
            if key != chosen
        ]
    return read, tuple(notes)


def _link(payload: dict[str, Any]) -> str | None:
    """The alert's page: `url`, else `link` (what Datadog's $LINK is named in templates)."""
    return common.url(payload.get("url"), "url") or common.url(payload.get("link"), "link")


#: An Oracle Cloud (OCI) Monitoring alarm message's key of its alarm or metric stream, as its
#: JSON spells it and as OCI's "Alarm Message Format" page lists it: the same in the message
#: that fires and the one that clears, whose `title` may be built from dynamic variables.
OCI_DEDUP_KEYS = ("dedupeKey", "dedupekey")
#: What scripts and tools' templates call the key of repeats, in the order read: ours, then
#: incident.io's (Checkly's incident.io template: its title changes from "… has failed" to
#: "… has recovered", so only the key makes the two one incident), camelCase, the Events
#: API v1 name that PagerDuty-style scripts still send, OCI's, and last GitLab's alert
#: format's `fingerprint` ("the unique identifier of the alert", by which GitLab groups an
#: alert's repeats: its title may carry a value that changes).
DEDUP_KEYS = ("dedup_key", "deduplication_key", "dedupKey", "incident_key", *OCI_DEDUP_KEYS,
              "fingerprint")  # fmt: skip
#: Every field a generic alert's reading (`_read`) looks at but its time, which is read again
#: for each repeat: the title first (`_repeat_key` reads it).
_READ_FIELDS = ("title", "source", *DEDUP_KEYS, *sorted(_ANY_CASE - {"timestamp"}), "type",
                "backToNormal", "conditions", _DATADOG_TRANSITION)  # fmt: skip


def _dedup_key(payload: dict[str, Any]) -> str | None:
    """The script's key of repeats under the first of `DEDUP_KEYS` it sends. A `fingerprint`
    that is an object or array (no GitLab key) is passed over, not refused: such bodies were
    read, keyed by their title, before `fingerprint` was a key."""
    for name in DEDUP_KEYS:
        value = payload.get(name)
        if name == "fingerprint":
            value = common.unnested(value)
        key = common.ident_or_none(value, name)
        if key is not None:
            return key
    return None


def normalize_threshold(payload: dict[str, Any]) -> Normalized:
    quiet = _quiet_threshold(payload)
    if quiet is not None:
        return quiet
    status = _status(payload.get("state"), "state")
    rule_id = common.ident_or_none(payload.get("rule_id"), "rule_id")
    # With a rule_id the rule's name is only shown, and one that is no text is passed over.
    given_name = common.unnested(payload.get("rule_name")) if rule_id else payload.get("rule_name")
    # Shown only: one that shows nothing is none, so the title falls back to the comparison.
    rule_name = common.showing(
        common.line(given_name, "rule_name", common.LABEL_VALUE_MAX, shown=True)
    )
    rule = rule_id or common.ident_or_none(payload.get("rule_name"), "rule_name")
    device = common.ident_or_none(payload.get("device_id"), "device_id")
    # With a device the host is only shown, and one that is no text is passed over.
    given_host = common.unnested(payload.get("host")) if device else payload.get("host")
    host = common.ident_or_none(given_host, "host")
    target = device or host
    if not rule or not target:
        raise InvalidAlertError(
            "threshold_alert needs rule_id (or rule_name) and device_id or host"
        )
    metric = common.ident_or_none(payload.get("metric"), "metric") or ""
    # Shown only: a cut says so, so that what it keeps of a secret is known for one.
    value = common.line(common.flat(payload.get("current_value")), "current_value", 64, shown=True)
    threshold = common.line(
        common.flat(payload.get("threshold_value")), "threshold_value", 64, shown=True
    )
    operator = common.line(common.unnested(payload.get("operator")), "operator", 16, shown=True)
    labels = common.Labels()
    # The shown values whole, not as cut for the title: `add_label` shows each cut and keeps
    # it whole for routes and groups.
    for key, field in (
        ("rule_id", rule_id), ("rule_name", given_name), ("metric", metric),
        ("device_id", device), ("host", host),
        ("current_value", common.flat(payload.get("current_value"))),
        ("threshold", common.flat(payload.get("threshold_value"))),
        ("operator", common.unnested(payload.get("operator"))),
    ):  # fmt: skip
        common.add_label(labels, key, field)
    runbook, unlinked = _runbook(payload)
    occurred, notes = dated(payload.get("evaluated_at"), f"{THRESHOLD} evaluated_at")
    priority, unread = common.first_priority(
        labels, (f"{THRESHOLD} priority", payload.get("priority"))
    )
    alert = Alert(
        source=THRESHOLD,
        status=status,
        title=common.title(
            _threshold_title(rule_name, rule, metric, operator, threshold, host, device)
        ),
        team=common.word(payload.get("team"), "team"),
        priority=priority,
        severity=common.word(payload.get("severity"), "severity"),
        description=_with_runbook(
            _comparison(status, metric, value, operator, threshold, target), unlinked
        ),
        runbook_url=runbook,
        labels=labels,
        occurred_at=occurred,
        identity={"rule": rule, "target": target, "metric": metric},
        raw=payload,
    )
    return Normalized((alert,), (), notes + unread)


def _quiet_threshold(payload: dict[str, Any]) -> Normalized | None:
    """A threshold event whose `state` changes no ticket (pending, acknowledged, no_data,
    unknown …: `_SKIPPED`, as a generic `status`) as Skipped; None for any other state."""
    state = payload.get("state")
    if not (isinstance(state, str) and state.strip().lower() in _SKIPPED):
        return None
    rule = _given(payload.get("rule_id"), payload.get("rule_name"))
    target = _given(payload.get("device_id"), payload.get("host"))
    detail = (
        f"threshold rule {common.short(rule)} on {common.short(target)} is "
        f"{common.short(state.strip())}: no ticket change"
    )
    return Normalized((), (Skipped(THRESHOLD, "no_state_change", detail),))


#: Comparison operators as a reader writes them.
_OPERATORS = {">=": "≥", "=>": "≥", "gte": "≥", "ge": "≥", "<=": "≤", "=<": "≤", "lte": "≤",
              "le": "≤", "gt": ">", "lt": "<", "==": "=", "eq": "=", "!=": "≠", "ne": "≠"}  # fmt: skip


def _threshold_title(
    rule_name: str | None, rule: str, metric: str, operator: str | None, threshold: str | None,
    host: str | None, device: str | None,
) -> str:  # fmt: skip
    """What failed and where: the rule's name, else the comparison itself (a rule id says
    nothing to a reader); on the host when there is one (a device id is often a bare number)."""
    if rule_name:
        what = rule_name
    elif metric and threshold:
        op = _OPERATORS.get((operator or "").strip().lower(), (operator or "").strip() or "vs")
        what = f"{metric} {op} {threshold}"
    else:
        what = metric or rule
    if host:
        where = host
    else:
        assert device is not None  # the caller requires a device or a host
        where = f"device {device}" if device.isdigit() else device
    return f"{what} on {where}"


def _shown(identity: str) -> str:
    """An identity (the metric, the device or host), cut unmarked at 1,024 for the fingerprint,
    as shown text is cut: marked, so that what the cut keeps of a secret is known for one."""
    return common.cut(identity, common.LABEL_VALUE_MAX, ellipsis=True, whole_words=True)


def _comparison(
    status: Status, metric: str, value: str | None, operator: str | None, threshold: str | None,
    target: str,
) -> str:  # fmt: skip
    """Value against threshold: 'cpu_usage is 97.5 on db-7; the rule fires when it is > 90.'"""
    what = _shown(metric) if metric else "the metric"
    verb = "is" if status is Status.FIRING else "is back to"
    where = _shown(target)
    now = f"{what} {verb} {value} on {where}" if value else f"{what} on {where}"
    if threshold:
        rule = (
            f"the rule fires when it is {operator} {threshold}"
            if operator
            else f"threshold {threshold}"
        )
        return f"{now}; {rule}."
    return f"{now}."


#: What scripts call the alert's text when they send no `description`, in the order read.
_MESSAGES = ("description", "message", "summary", "text")
#: A script's `details` object is shown a field a line, up to this many fields.
_DETAILS_SHOWN = 30


def _described(payload: dict[str, Any]) -> str | None:
    """The `description` (else a `message`, `summary` or `text`), then the `details` a script
    nests, an object's fields a line each ("used_pct: 97.5"), anything else as given."""
    said = None
    for key in _MESSAGES:
        given = payload.get(key)
        if given is not None and (said := common.text(given, key, common.DESCRIPTION_MAX)):
            break
    details = payload.get("details")
    if details is None:
        return said  # cleaned already: the common case costs no second pass
    if isinstance(details, dict):
        fields = list(details.items())[:_DETAILS_SHOWN]
        details = "\n".join(f"{key}: {common.shown(value)}" for key, value in fields)
    shown = common.text(details, "details", common.DESCRIPTION_MAX)
    parts = [part for part in (said, shown) if part]
    return common.text("\n\n".join(parts), "description", common.DESCRIPTION_MAX)


def _tags(value: Any) -> str | None:
    """A script's `tags`: an array of words as one comma-separated value, or text as it is;
    anything else none."""
    if isinstance(value, list):
        words = [common.shown(v) for v in value[: common.LABELS_MAX] if isinstance(v, str | int)]
        return ",".join(words) or None
    return value if isinstance(value, str) else None


def _runbook(payload: dict[str, Any]) -> tuple[str | None, str | None]:
    """The first of `runbook_url`, `runbook` that is an http(s) link; else the text given, which
    is still worth reading (a wiki page's name, a link with spaces in it)."""
    given = [payload.get(key) for key in ("runbook_url", "runbook")]
    if given == [None, None]:
        return None, None  # the common case: neither given
    link = next((url for url in (common.url(g, "runbook") for g in given) if url), None)
    if link:
        return link, None
    shown = next((g for g in given if g and not isinstance(g, dict | list)), None)
    return None, common.line(shown, "runbook", common.URL_MAX)


def _with_runbook(description: str | None, runbook: str | None) -> str:
    """The description, with a runbook that is no link after it."""
    if not runbook:
        return description or ""
    parts = (description, f"Runbook: {runbook}")
    return common.text("\n\n".join(p for p in parts if p), "description",
                       common.DESCRIPTION_MAX) or ""  # fmt: skip


def dated(value: Any, field: str) -> tuple[datetime, tuple[str, ...]]:
    """The alert's time, and a note for the log when the sender gave one that is no time we
    read: the alert is then dated when it was queued, and the operator learns why. A time
    that says "none" (`common.unset_time`: blank, null, the epoch, Go's zero time) is dated so
    too, without a note."""
    when = common.timestamp(value)
    if when is not None:
        return when, ()
    if common.unset_time(value):
        return common.now(), ()
    note = (
        f"{field} {common.short(value)} is not a time triage reads (ISO 8601, epoch seconds or "
        "milliseconds, RFC 2822): the alert is dated when it was queued"
    )
    return common.now(), (note,)


#: Other tools' names for when the alert began, read when no `timestamp` is sent, in this
#: order: GitLab's alert format's `start_time`, Alertmanager's `startsAt` (a script copying
#: its alerts), Sematext's `createTimestamp`, and `triggeredAt` and `lastOccurrence` as
#: on-call and event tools name theirs. Epoch seconds, ms or µs all read (`common.timestamp`).
_TIME_KEYS = ("start_time", "startsAt", "createTimestamp", "triggeredAt", "lastOccurrence")


def _time_key(payload: dict[str, Any]) -> str:
    """The field that dates a generic alert: its `timestamp` when sent; else a past `end_time`
    (GitLab's format: the alert ended then, and its resolve is dated so, after its firing);
    else the first of `_TIME_KEYS` sent; else `timestamp` (none: dated when queued)."""
    if payload.get("timestamp") is not None:
        return "timestamp"
    if _ended(payload.get("end_time")):
        return "end_time"
    return next((key for key in _TIME_KEYS if payload.get(key) is not None), "timestamp")


def _word_or_label(payload: dict[str, Any], labels: dict[str, Any], key: str) -> str | None:
    """A generic alert's `team` or `severity`: the top-level one when it shows a word, else its
    `labels` entry of that name (scripts that copy Prometheus' habit of labelling the team,
    which routes match on, must not have their alert routed as if it named none). A top-level
    one that shows nothing (blank, invisible, an object) hides no label (`common.word`)."""
    return common.word(payload.get(key), key) or common.word(labels.get(key), f"labels.{key}")


def _stated(payload: dict[str, Any]) -> Any:
    """The generic alert's `status`; when it has none, the first of a `state` and PagerDuty's
    `event_action` (Events API v2) and `event_type` (v1) that is an alerting word (a script
    writing `"state": "resolved"` or `"event_action": "resolve"` must not open a ticket) or one
    that changes nothing (`pending`, `acknowledge`, `no_data`: it must not open one either),
    else "resolved" for a `"resolved": true` flag (`_flag`), else nothing. Words like open, closed, up or down say other things as a `state` (a pull
    request's, a door's), and a script's own `event_type` ("backup") names no state, so they
    count only as a `status`."""
    status = payload.get("status")
    if status is not None:
        return _event_state(status) or status
    for key in _NOTIFICATION_TYPE_KEYS:
        kind = payload.get(key)
        if isinstance(kind, str) and kind.strip().lower() in subjects.NOTIFICATION_TYPES:
            return kind
    for key in _STATE_KEYS:
        state = payload.get(key)
        word = state.strip().lower() if isinstance(state, str) else None
        if word in _STATE_WORDS or word in _QUIET:
            return state
        if key == _DATADOG_TRANSITION and word in _TRANSITION_WORDS:
            return _TRANSITION_WORDS[word]
        named = _event_state(state)
        if named is not None:
            return named
    changed_to = _type_state(payload)
    if changed_to is not None:
        return changed_to
    if any(_flag(payload.get(name)) is True for name in _RESOLVED_FLAGS):
        # A script's flag for "this alert is over", as JSON writes it (PowerShell's $true) or
        # a template quotes it ("true"): it must not open a ticket. False says nothing more
        # than the default, firing.
        return "resolved"
    if _ended(payload.get("end_time")):
        return "resolved"
    return None


#: How far a sender's clock may run ahead: an `end_time` this close after now is a past one.
_CLOCK_SKEW = timedelta(minutes=5)


def _ended(value: Any) -> bool:
    """Whether an `end_time` says the alert is over, as GitLab's alert format does ("if
    provided, the alert is resolved"): a time triage reads that is not yet to come. A time to
    come (a window's planned end, as Alertmanager's endsAt) and an unset one (null, blank)
    say nothing: the alert fires."""
    ended = common.timestamp(value) if value is not None else None
    return ended is not None and ended <= common.now() + _CLOCK_SKEW


#: Flags that say the alert is over: a script's `resolved`, Sematext's `backToNormal` (its
#: Custom Webhook's default body: the same title firing and back to normal).
_RESOLVED_FLAGS = ("resolved", "backToNormal")
#: A state change named from and to, as OCI alarm messages' `type` writes it (OK_TO_FIRING,
#: FIRING_TO_OK; lower-cased): the state it changed to is the alert's.
_TRANSITION = re.compile(r"[a-z]{1,32}_to_(?P<to>[a-z]{1,32})")
#: OCI's message types that name no two states: REPEAT is a firing alarm's reminder; RESET
#: says the stream that fired is gone (its alarm no longer fires for it). Read only beside an
#: OCI `dedupeKey`: a script's `"type": "reset"` may mean anything.
_OCI_TYPES = {"repeat": "firing", "reset": "resolved"}


#: A webhook event's name that says its state: "<object>.<state>", "<object>_<state>" or
#: "<object>-<state>" (lower-cased) of an alert's object, as on-call and monitoring tools name
#: their events (PagerDuty v3's incident.triggered, incident.resolved) and scripts and relays
#: copy them. Not an issue's or a pull request's ("issue_closed" says a tracker's state).
_EVENT_NAME = re.compile(
    r"(?:incident|alert|alarm|monitor|check|problem)[._-](?P<state>[a-z]{1,32})"
)
#: The states such a name may end with: every word a `status` takes.
_NAMED_STATES = _STATUS.keys() | _STATUS_ONLY.keys() | _SKIPPED


def _event_state(value: Any) -> str | None:
    """The state word an event name ends with ("incident.resolved" → "resolved"), when it is
    one `_EVENT_NAME` reads and the word is a state (`_NAMED_STATES`); None for anything else
    ("incident.annotated", "backup_completed"), which is read as it was."""
    if not isinstance(value, str):
        return None
    named = _EVENT_NAME.fullmatch(value.strip().lower())
    if named is None or named["state"] not in _NAMED_STATES:
        return None
    return named["state"]


def _type_state(payload: dict[str, Any]) -> str | None:
    """The state word a `type` says when it names a state change (`_TRANSITION`) to a state
    triage reads, or is one of OCI's other message types beside OCI's key (`_OCI_TYPES`);
    None for any other `type` (a script's "backup", "deploy"), which says no state."""
    given = payload.get("type")
    word = given.strip().lower() if isinstance(given, str) else None
    if word is None:
        return None
    transition = _TRANSITION.fullmatch(word)
    if transition is not None:
        changed_to = transition["to"]
        return changed_to if changed_to in _STATUS or changed_to in _QUIET else None
    named = _event_state(given)
    if named is not None:
        return named
    if any(name in payload for name in OCI_DEDUP_KEYS):
        return _OCI_TYPES.get(word)
    return None


def _flag(value: Any) -> bool | None:
    """A `resolved` flag: the JSON boolean, or "true"/"false" as a template that quotes its
    variables writes it (any case, spaces around); None for anything else (1, "yes", a time),
    which is not guessed at."""
    if isinstance(value, bool):
        return value
    if isinstance(value, str):
        return _FLAG_WORDS.get(value.strip().lower())
    return None


_FLAG_WORDS = {"true": True, "false": False}


def _unread_flag(value: Any, name: str = "resolved") -> tuple[str, ...]:
    """A note for a `resolved` (or `backToNormal`) flag that decided nothing because it is not
    one (`_flag`): the alert fires as if none was sent, and the log says why a ticket meant to
    close opened."""
    if value is None or _flag(value) is not None:
        return ()
    return (
        f"{GENERIC} {name} {common.short(value)} is not true or false: the alert is read as "
        "firing (send the JSON boolean, or a status)",
    )


#: Keys that may hold the state when `status` is absent, in the order read.
_STATE_KEYS = ("state", "event_action", "event_type", _DATADOG_TRANSITION)
#: $ALERT_TRANSITION's words that are no `_STATE_WORDS`: its other firing ones, and `Null`,
#: a monitor back from No Data, which Datadog's own format reads as Recovered too.
_TRANSITION_WORDS = {
    "re-triggered": "re-triggered", "warn": "warn", "re-warn": "re-warn",
    "renotify": "renotify", "null": "recovered",
}  # fmt: skip
_STATE_WORDS = frozenset({"firing", "triggered", "alerting", "problem", "alarm", "resolved",
                          "ok", "recovered", "trigger", "resolve"})  # fmt: skip


def _given(value: Any, default: Any) -> Any:
    """`value`, or `default` when it is absent or null (not when it is false, 0 or "")."""
    return default if value is None else value


def _status(value: Any, field: str) -> Status:
    word = value.strip().lower() if isinstance(value, str) else None
    status = (_STATUS.get(word) or _STATUS_ONLY.get(word)) if word is not None else None
    if status is None and word is not None and _KIBANA_FIRED.fullmatch(word):
        status = Status.FIRING
    if status is None and word is not None and (appdynamics := _appdynamics(word)):
        status = appdynamics[0]
    if status is None:
        expected = "firing or resolved" if field == "status" else "triggered or resolved"
        raise InvalidAlertError(f"{field} {common.short(value)} is not {expected}{_why(value)}")
    return status


#: A status written as a number in text ("1", "-1", "2.0").
_NUMBER_TEXT = re.compile(r"-?\d{1,20}(?:\.\d{1,20})?")


def _why(value: Any) -> str:
    """The rest of an unread status's error: a number is ambiguous; for a word, the words
    triage reads (a sender learns which of its own to map)."""
    # A number as text too: Zabbix's {EVENT.VALUE} writes "1" for a problem, "0" resolved.
    is_number = isinstance(value, int | float) and not isinstance(value, bool)
    if is_number or (isinstance(value, str) and _NUMBER_TEXT.fullmatch(value.strip())):
        return ": send the word, not a number (Nagios' 1 is a warning, Uptime Kuma's 1 is up)"
    return "; the words read" + _WORDS_READ


def _words(words: Any) -> str:
    return ", ".join(sorted(words))


_FIRES = [word for word, status in (_STATUS | _STATUS_ONLY).items() if status is Status.FIRING]
_RESOLVES = [
    word for word, status in (_STATUS | _STATUS_ONLY).items() if status is not Status.FIRING
]
_WORDS_READ = (
    f" (any case): fire: {_words(_FIRES)}; resolve: {_words(_RESOLVES)}; "
    f"change no ticket: {_words(_SKIPPED)}"
)
