"""Prometheus Alertmanager webhook (version "4"), and the alert-group logic Grafana's unified
alerting shares with it: every alert of a group becomes one Alert, not only the first.

Alertmanager's `sns_configs` and Amazon Managed Prometheus deliver through SNS a message their
template writes; AWS's documented JSON template (README, "Getting alerts in") writes the same
group without `version` or `groupKey` (`receiver`, `status`, `alerts`, …) and prints times as Go
does ("2026-11-23 09:00:00 +0000 UTC"). It is read as the same source, so one alert has one
fingerprint whichever way it arrived.

Identity: the alert's full label set, exact and sorted, which is what Alertmanager's own
`fingerprint` field encodes; a label with an empty value is no label (`present`). We hash the labels ourselves (the field is an implementation detail
that Grafana, for one, has computed differently across versions). `truncatedAlerts > 0` means
Alertmanager left alerts out of the message (`max_alerts`); it becomes a note for the log that
says a cut resolve never comes again and advises `max_alerts: 0`, as do `priority` labels
triage cannot read (one note for the group, the labels kept as given).

Grafana's contact-point test alert (`grafana_test`) is skipped on every path here: Grafana's
webhook, an Alertmanager's webhook relaying it, and the Alertmanager API (`prometheus`). So is
kube-prometheus' Watchdog (severity "none", `heartbeat`) on every one of those paths: it fires
forever to prove the pipeline works, for a dead man's switch, and is no incident; and so is
its InfoInhibitor (severity "none", `inhibitor`), which fires only to hold info alerts back.

Annotations and `valueString` are only shown: one that is an object or array reads as JSON
text, and annotations that are no object are passed over, never costing the alert its ticket.

Alerts posted alone, `{"alerts": [{"status": …, "labels": …}]}` (a receiver test sent with curl),
are read as a group without its envelope; `"alerts": null` (how Go writes an empty list) is an
empty group.

Two alerts of a group with one identity are one incident, firing while either fires: a resolve
beside a twin that still fires is held back with a note (Grafana 12's rules of one title in one
folder, whose uids it strips from the labels it sends).

An alert of a group that cannot be read (no labels, an unknown status, an object as a label
value) is left out with a note naming it and why; the group's other alerts are handled. Only a
group none of whose alerts can be read is rejected, with the first alert's error.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pydantic

from triage.errors import InvalidAlertError
from triage.models import Alert, Status
from triage.normalize import common
from triage.normalize.common import Normalized, Skipped

SOURCE = "alertmanager"

_STATUS = {"firing": Status.FIRING, "resolved": Status.RESOLVED}
#: Annotations that have their own place in an Alert; the rest are appended to the description.
_KNOWN_ANNOTATIONS = frozenset({"summary", "description", "message", "runbook_url", "runbook"})
#: Per-alert link fields → names in Alert.links (Grafana adds the last three).
_LINKS = {"generatorURL": "source", "silenceURL": "silence", "dashboardURL": "dashboard"}
_LINKS |= {"panelURL": "panel", "imageURL": "image"}

#: Decides whether one alert of a group is a test that must make no ticket; returns a reason.
TestCheck = Callable[[dict[str, str], dict[str, str]], str | None]
#: Reads one alert's status: (the alert's object, where it is for errors, its group's object).
StatusOf = Callable[[dict[str, Any], str, dict[str, Any]], Status]


def matches(payload: dict[str, Any]) -> bool:
    return has_alert_list(payload) and (
        payload.get("version") == "4"
        or "groupKey" in payload
        # The SNS JSON template: Grafana's shapes (orgId, version "1") were tried before this.
        or (isinstance(payload.get("receiver"), str) and isinstance(payload.get("status"), str))
        # Alerts alone; a generic alert (its `title`) that lists such objects stays generic.
        or ("title" not in payload and _labelled(payload["alerts"]))
    )


def has_alert_list(payload: dict[str, Any]) -> bool:
    """An `alerts` array, or `"alerts": null` beside the `groupKey` both Alertmanager and
    Grafana send: Go writes an empty slice that way, and a group with no alerts is an empty
    group, not an unknown format (nor is another format's `"alerts": null` taken for one)."""
    alerts = payload.get("alerts")
    return isinstance(alerts, list) or (
        alerts is None and "alerts" in payload and "groupKey" in payload
    )


def _labelled(alerts: list[Any] | None) -> bool:
    """Alerts alone, each an object with a `labels` object: what a receiver test posts with
    curl (`{"alerts": [{"status": …, "labels": …}]}`), without the group's envelope."""
    return bool(alerts) and all(
        isinstance(alert, dict) and isinstance(alert.get("labels"), dict) for alert in alerts or ()
    )


def normalize(payload: dict[str, Any]) -> Normalized:
    return normalize_group(payload, SOURCE, is_test=no_incident)


def no_incident(labels: dict[str, str], annotations: dict[str, str]) -> str | None:
    """Why an alert an Alertmanager sends is no incident: Grafana's contact-point test
    (`grafana_test`), a heartbeat (`heartbeat`) or an inhibitor (`inhibitor`); None for every
    other alert."""
    return grafana_test(labels, annotations) or heartbeat(labels) or inhibitor(labels)


#: The always-firing alerts kube-prometheus (and kube-prometheus-stack) ships, as Watchdog,
#: and the prometheus-operator rules before it shipped, as DeadMansSwitch.
_HEARTBEATS = frozenset({"Watchdog", "DeadMansSwitch"})


def heartbeat(labels: dict[str, str]) -> str | None:
    """ "heartbeat" for kube-prometheus' Watchdog (severity "none"): it fires forever so that a
    dead man's switch can tell the alerting pipeline works, and a ticket for it would never
    close. An alert of that name at any real severity is someone's own, and fires."""
    named = labels.get("alertname") in _HEARTBEATS
    return "heartbeat" if named and labels.get("severity", "").strip().lower() == "none" else None


#: The alerts kube-prometheus ships only to drive an inhibit rule: InfoInhibitor fires beside
#: every severity="info" alert of a namespace that has no warning or critical one, so that
#: Alertmanager holds the info alerts back.
_INHIBITORS = frozenset({"InfoInhibitor"})


def inhibitor(labels: dict[str, str]) -> str | None:
    """ "inhibitor" for kube-prometheus' InfoInhibitor (severity "none"): its runbook says it
    has no impact and belongs on a null receiver; it works around a missing Alertmanager
    feature, and a ticket for it would open whenever an info alert fires. An alert of that
    name at any real severity is someone's own, and fires."""
    named = labels.get("alertname") in _INHIBITORS
    return "inhibitor" if named and labels.get("severity", "").strip().lower() == "none" else None


#: What a skipped alert is, for the log line, by the reason `is_test` gives.
_SKIPPED_AS = {
    "heartbeat": "an always-firing heartbeat",
    "inhibitor": "an alert that only drives an inhibit rule",
}


def grafana_test(labels: dict[str, str], annotations: dict[str, str]) -> str | None:
    """ "test_notification" for the alert a Grafana contact point's *Test* button sends
    (alertname TestAlert from instance Grafana, or summarised "Notification test"), whichever
    path it takes: Grafana's webhook, the Alertmanager API a contact point of type Alertmanager
    posts to, or an Alertmanager's webhook relaying it. It proves delivery; it is no incident."""
    if labels.get("alertname") == "TestAlert" and (
        labels.get("instance") == "Grafana" or annotations.get("summary") == "Notification test"
    ):
        return "test_notification"
    return None


def normalize_group(
    payload: dict[str, Any],
    source: str,
    is_test: TestCheck | None = None,
    status_of: StatusOf | None = None,
    keyed: Callable[[Alert], Alert] | None = None,
) -> Normalized:
    """Every alert of an Alertmanager-shaped group, each with the group's common fields as raw.
    `status_of` reads an alert's status where the sender says it otherwise than in `status`;
    `keyed` gives an alert its final identity (Grafana's org), before twins are compared."""
    group = {key: value for key, value in payload.items() if key != "alerts"}
    alerts: list[Alert] = []
    skipped: list[Skipped] = []
    notes: list[str] = []
    left_out: list[tuple[str, InvalidAlertError]] = []
    places: list[str] = []  # where each alert of `alerts` is in the group
    senders: list[str | None] = []  # the sender's own id of each (`fingerprint`), if any
    unread_priorities: list[str] = []  # stated in a label, not read: one note for the group
    for i, item in enumerate(common.items(payload.get("alerts"), "alerts")):
        where = f"alerts[{i}]"
        try:
            entry = common.obj(item, where, required=True)
            labels = common.string_map(entry.get("labels"), f"{where}.labels")
            annotations = common.text_map(entry.get("annotations"))  # shown, never identity
            reason = is_test(labels, annotations) if is_test else None
            if reason:
                name = common.short(labels.get("alertname"))
                what = _SKIPPED_AS.get(reason, "a contact-point test")
                skipped.append(Skipped(source, reason, f"{where} is {what} ({name})"))
                continue
            raw = {**group, "alert": entry}
            status = (status_of or stated_status)(entry, where, payload)
            alert = alert_from(entry, labels, annotations, source, raw, where, status)
            alert = keyed(alert) if keyed else alert
            alerts.append(alert)
            places.append(where)
            senders.append(_sender_id(entry))
            if alert.priority is None and common.states_priority(labels.get("priority")):
                unread_priorities.append(labels["priority"])
        except (InvalidAlertError, pydantic.ValidationError) as exc:
            # One unreadable alert must not take its group's other alerts to the DLQ with it.
            left_out.append((where, _invalid(exc, where)))
    if left_out and not alerts and not skipped:
        raise left_out[0][1]
    alerts, held_back = _twins_firing(alerts, places, senders)
    if held_back:
        notes.append(_held_back_note(source, held_back))
    if left_out:
        notes.append(_left_out_note(source, left_out))
    if unread_priorities:
        field = f"{source} label priority"
        notes.append(common.unread_priority_note(field, unread_priorities))
    truncated = payload.get("truncatedAlerts")
    if isinstance(truncated, int) and not isinstance(truncated, bool) and truncated > 0:
        key = payload.get("groupKey")  # SNS templates may write none
        named = f" of group {common.short(key)}" if isinstance(key, str) and key.strip() else ""
        notes.append(_truncated_note(source, truncated, named))
    if not alerts and not skipped:
        skipped.append(Skipped(source, "empty_group", f"{source} notification with no alerts"))
    return Normalized(tuple(alerts), tuple(skipped), tuple(notes))


def _sender_id(entry: dict[str, Any]) -> str | None:
    """The id the sender gives the alert (Alertmanager's and Grafana's `fingerprint`), if any."""
    given = entry.get("fingerprint")
    return given if isinstance(given, str) and given else None


def _twins_firing(
    alerts: list[Alert], places: list[str], senders: list[str | None]
) -> tuple[list[Alert], list[str]]:
    """`alerts` without each resolve whose identity (its labels) a twin of the group still
    fires under, and where those resolves were. A twin is another alert by the sender's own
    id: two alerts of one group show the same labels with two ids only when the sender tells
    them apart by what it does not show (Grafana 12 lets two rules of one folder share a
    title, grafana/grafana#102067, and strips the rule's uid from the labels it sends). The
    incident is those labels, and fires while any of its alerts does; one rule's resolve
    applied after its twin's firing would close it. One alert sent twice (no id, or the same
    id: Prometheus's batch holding its firing and its end) is applied in the batch's order."""
    firing: dict[str, set[str]] = {}  # identity -> the sender ids firing under it
    for alert, sender in zip(alerts, senders, strict=True):
        if alert.status is Status.FIRING and sender is not None:
            firing.setdefault(alert.fingerprint, set()).add(sender)
    if not firing or len(firing) == len(alerts):
        return alerts, []  # the common case: nothing resolved beside a firing twin
    kept: list[Alert] = []
    held_back: list[str] = []
    for alert, where, sender in zip(alerts, places, senders, strict=True):
        twins = firing.get(alert.fingerprint, set()) - {sender}
        if alert.status is Status.RESOLVED and sender is not None and twins:
            held_back.append(where)
        else:
            kept.append(alert)
    return kept, held_back


def _held_back_note(source: str, held_back: list[str]) -> str:
    """The note for resolves held back because an alert of the same labels still fires."""
    named = ", ".join(held_back[:_LEFT_OUT_QUOTED])
    more = len(held_back) - _LEFT_OUT_QUOTED
    rest = f" and {more} more" if more > 0 else ""
    return (
        f"{source} {named}{rest} resolved, but another alert of the group with the same labels "
        "still fires (two rules of one title in one folder, told apart only by what the sender "
        "does not show): its incident stays open until every alert with those labels resolves"
    )


def _truncated_note(source: str, truncated: int, named: str) -> str:
    """The note for alerts the receiver's `max_alerts` cut out of a message. They may never
    reach triage: Alertmanager deletes a group's resolved alerts once a notification succeeds
    (cut or not), so a resolve cut out is never sent again and its ticket stays open."""
    return (
        f"{source} left {truncated} alert(s){named} out of this message (max_alerts): triage "
        "never sees them, and a resolve cut out is never sent again (Alertmanager forgets a "
        "resolved alert once a notification succeeds), so its ticket stays open until closed "
        "by hand; set max_alerts: 0 (no limit) on the receiver"
    )


#: Reasons one note quotes for the alerts left out of a group; the rest are counted.
_LEFT_OUT_QUOTED = 3


def _left_out_note(source: str, left_out: list[tuple[str, InvalidAlertError]]) -> str:
    """One note for every alert of a group left out: a group of a thousand bad alerts is one
    log line, not a thousand. It names the first few and why."""
    if len(left_out) == 1:
        ((where, error),) = left_out
        return f"{source} {where} left out of its group: {error}"
    quoted = "; ".join(str(error) for _, error in left_out[:_LEFT_OUT_QUOTED])
    more = len(left_out) - _LEFT_OUT_QUOTED
    rest = f"; and {more} more" if more > 0 else ""
    return f"{source} {len(left_out)} alerts left out of its group: {quoted}{rest}"


def _invalid(exc: InvalidAlertError | pydantic.ValidationError, where: str) -> InvalidAlertError:
    if isinstance(exc, InvalidAlertError):
        return exc
    fields = ", ".join(".".join(map(str, e["loc"])) for e in exc.errors()[:5])
    return InvalidAlertError(f"{where}: invalid alert fields: {fields}")


def alert_from(
    entry: dict[str, Any],
    labels: dict[str, str],
    annotations: dict[str, str],
    source: str,
    raw: dict[str, Any],
    where: str,
    status: Status,
) -> Alert:
    """One alert of a group; `labels` and `annotations` are the exact strings it carried."""
    labels = present(labels)
    if not labels:
        raise InvalidAlertError(f"{where} has no labels to identify it (an empty value is none)")
    # Compared and chosen as shown (one line, controls gone), so a blank alertname, or one
    # that shows nothing, falls back as a missing one does instead of leaving the alert
    # without a title.
    summary = common.showing(
        common.line(annotations.get("summary"), f"{where}.annotations.summary")
    )
    name = common.showing(common.line(labels.get("alertname"), f"{where}.labels.alertname"))
    name = name or summary or _labels_title(labels)
    if name in _GRAFANA_NO_RULE_NAME and labels.get("rulename"):
        # Grafana's no-data and query-error alerts are all named alike; the rule tells them apart.
        name = f"{name}: {labels['rulename']}"
    heading = f"{name}: {summary}" if summary and summary != name else name
    started = common.timestamp(entry.get("startsAt"))
    ended = common.timestamp(entry.get("endsAt")) if status is Status.RESOLVED else None
    runbook = runbook_link(annotations)
    return Alert(
        source=source,
        status=status,
        title=common.title(heading, f"{where} alertname"),
        team=common.word(labels.get("team"), "team"),
        priority=common.priority(labels.get("priority")),
        severity=common.word(labels.get("severity"), "severity"),
        description=_description(entry, annotations, where, runbook),
        runbook_url=runbook,
        links={
            name: link
            for key, name in _LINKS.items()
            if (link := common.url(entry.get(key), f"{where}.{key}"))
        },
        labels=common.labels_from(labels),
        occurred_at=ended or started or common.now(),
        identity=labels,
        raw=raw,
    )


def present(labels: dict[str, str]) -> dict[str, str]:
    """The labels that have a value: an empty one is no label, as Prometheus and Alertmanager
    read it (Alertmanager drops it before its webhook), so `{az: ""}` posted by Prometheus and
    the same alert without it are one identity, one incident."""
    if all(labels.values()):
        return labels  # the common case: no empty value, the same dict
    return {key: value for key, value in labels.items() if value}


def stated_status(entry: dict[str, Any], where: str, group: dict[str, Any]) -> Status:
    """The alert's `status` word, else its group's: firing or resolved, else InvalidAlertError."""
    status_word = entry.get("status")
    if status_word is None:  # absent or null: the group's own status
        status_word = group.get("status")
    status = _STATUS.get(status_word.strip().lower()) if isinstance(status_word, str) else None
    if status is None:
        raise InvalidAlertError(
            f"{where}.status {common.short(status_word)} is not firing or resolved"
        )
    return status


#: Grafana's own alert names for a rule that got no data, or whose query failed.
_GRAFANA_NO_RULE_NAME = frozenset({"DatasourceNoData", "DatasourceError"})


def _labels_title(labels: dict[str, str]) -> str:
    """A title for an alert without alertname or summary: its first labels, by name; with
    only Grafana's private labels, the rule they name (`__alert_rule_uid__`)."""
    public = [(k, v) for k, v in sorted(labels.items()) if not k.startswith("__")]
    shown = ", ".join(f"{k}={v}" for k, v in public[:4])
    rule = (labels.get("__alert_rule_uid__") or "").strip()
    return shown or (f"alert rule {rule}" if rule else "alert")


def runbook_link(annotations: dict[str, str]) -> str | None:
    """The first runbook annotation (or legacy Grafana tag) that is an http(s) link."""
    links = (common.url(annotations.get(key), key) for key in ("runbook_url", "runbook"))
    return next((link for link in links if link), None)


def _description(
    entry: dict[str, Any], annotations: dict[str, str], where: str, runbook: str | None
) -> str:
    parts = [annotations.get("description") or annotations.get("message") or ""]
    given = annotations.get("runbook_url") or annotations.get("runbook")
    if given and given.strip() and not runbook:  # not a link, but still what to read
        parts.append(f"Runbook: {given.strip()}")
    value_string = common.line(
        common.flat(entry.get("valueString")), f"{where}.valueString", shown=True
    )
    values = _values(entry.get("values")) or value_string
    if values:
        parts.append(f"Values: {values}")
    extra = sorted(k for k in annotations if k not in _KNOWN_ANNOTATIONS and not k.startswith("__"))
    if extra:
        parts.append("\n".join(f"{k}: {annotations[k]}" for k in extra))
    return common.text("\n\n".join(p for p in parts if p), f"{where}.description",
                       common.DESCRIPTION_MAX) or ""  # fmt: skip


def _values(value: Any) -> str | None:
    """Grafana's `values` object ({"B": 93.5}) as "B=93.5, C=1"."""
    if not isinstance(value, dict) or not value:
        return None
    pairs = (
        f"{k}={common.shown(v)}" for k, v in sorted(value.items()) if not isinstance(v, dict | list)
    )
    return ", ".join(pairs) or None
