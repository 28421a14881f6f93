"""Netdata Cloud's webhook integration (Space settings > Alerts & Notifications > Webhook), whose
bodies Netdata fixes (learn.netdata.cloud, "Webhook"). Read as format `netdata`, source
`netdata`. Three bodies:

- An alert notification: `message`, `alert`, `info`, `chart`, `context`, `space`, `Rooms`,
  `family`, `class`, `severity` (critical, warning or clear), `date` (ISO 8601), `duration`,
  `additional_active_critical_alerts`, `additional_active_warning_alerts`, `alert_url`.
- A reachability notification: `message`, `url`, `host`, `severity` (critical or info) and
  `status` ({"reachable": bool, "text": "reachable"|"unreachable"}).
- The Test button's: `message`, `title` "Test Notification" and the `token` the dialog asks
  for. Skipped as `test_notification` (it carried a title, so it was a generic alert's ticket);
  its log line quotes the token (a UUID's shape only), which the operator pastes into Netdata's
  dialog to save the webhook.

Identity, alert: the space, the alert and its chart (a node's instance of a context: "disk_space._"
is the root file system), and the node when the body names one (`host` or `node`); never its
message, counts, duration, date or link, which change on every notification. The documented
body names no node: one alert on one chart of two nodes of a space is one incident.
Identity, reachability: the host.
States: critical and warning fire (critical critical, warning medium), clear resolves; any other
severity is refused, naming it. Reachability follows `status.reachable` (else `status.text`):
unreachable fires critical, reachable resolves.
"""

from __future__ import annotations

import re
from typing import Any

from triage.errors import InvalidAlertError
from triage.models import Alert, Priority, Status
from triage.normalize import common
from triage.normalize.common import Normalized, Skipped
from triage.normalize.generic import dated
from triage.normalize.vendors import labelled, paragraphs, untitled

SOURCE = "netdata"

_SEVERITIES: dict[str, tuple[Status, Priority | None]] = {
    "critical": (Status.FIRING, Priority.CRITICAL),
    "warning": (Status.FIRING, Priority.MEDIUM),
    "clear": (Status.RESOLVED, None),
}
#: The Test button's title and the keys its body has.
_TEST_TITLE = "test notification"
_TEST_KEYS = frozenset({"message", "title", "token"})
#: At most this many rooms are listed in a label.
_ROOMS_MAX = 20


def matches(payload: dict[str, Any]) -> bool:
    """An alert notification (its alert named as text, on a chart, at a severity), a
    reachability notification (a host and its reachability), or the Test button's body."""
    return _is_test(payload) or (
        untitled(payload) and (_is_alert(payload) or _is_reachability(payload))
    )


def _is_alert(payload: dict[str, Any]) -> bool:
    return (
        isinstance(payload.get("alert"), str)
        and "chart" in payload
        and "severity" in payload
        and ("context" in payload or "alert_url" in payload)
    )


def _is_reachability(payload: dict[str, Any]) -> bool:
    status = payload.get("status")
    return "host" in payload and isinstance(status, dict) and "reachable" in status


def _is_test(payload: dict[str, Any]) -> bool:
    """The Test button's body, and only it: its three keys, and its title. A script's alert
    titled alike, with a status or anything else, stays a generic alert."""
    title = payload.get("title")
    return (
        payload.keys() == _TEST_KEYS
        and isinstance(title, str)
        and title.strip().lower() == _TEST_TITLE
    )


def normalize(payload: dict[str, Any]) -> Normalized:
    if _is_test(payload):
        return _tested(payload.get("token"))
    if _is_reachability(payload):
        return _reachability(payload)
    return _alert(payload)


#: A verification token as Netdata writes one (a UUID); anything else is never quoted.
_TOKEN = re.compile(r"[A-Za-z0-9][A-Za-z0-9-]{7,63}")


def _tested(token: Any) -> Normalized:
    """The Test button's body, skipped. Its log line quotes the token in it: Netdata's dialog
    asks for that token to save the webhook, and this line is where the operator reads it."""
    shaped = isinstance(token, str) and _TOKEN.fullmatch(token.strip()) is not None
    told = f"; its verification token: {token.strip()}" if shaped else ""
    detail = f"netdata test notification (the webhook's Test button): no ticket change{told}"
    return Normalized((), (Skipped(SOURCE, "test_notification", detail),))


def _alert(payload: dict[str, Any]) -> Normalized:
    said = payload.get("severity")
    word = (common.line(common.unnested(said), "severity", 64) or "").strip().lower()
    read = _SEVERITIES.get(word)
    if read is None:
        raise InvalidAlertError(
            f"netdata severity {common.short(said)} is not critical, warning or clear"
        )
    status, priority = read
    name = common.ident(payload.get("alert"), "alert")
    chart = common.ident(payload.get("chart"), "chart")
    space = common.ident_or_none(common.unnested(payload.get("space")), "space") or ""
    node = _node(payload)
    occurred, notes = dated(payload.get("date"), "netdata date")
    identity = {"space": space, "alert": name, "chart": chart}
    if node:
        identity["node"] = node
    where = f"{chart} on {node}" if node else chart
    alert = Alert(
        source=SOURCE,
        status=status,
        title=common.first_title(f"{name} on {where}", f"Netdata alert {name}"),
        priority=priority,
        severity=word if status is Status.FIRING else None,
        description=paragraphs(payload.get("message"), payload.get("info")),
        links=common.links(source=common.url(payload.get("alert_url"), "alert_url")),
        labels=labelled(
            ("alert", name),
            ("chart", chart),
            ("context", payload.get("context")),
            ("family", payload.get("family")),
            ("class", payload.get("class")),
            ("space", space),
            ("node", node),
            ("rooms", _rooms(payload.get("Rooms"))),
            ("severity", word),
            ("duration", payload.get("duration")),
        ),
        occurred_at=occurred,
        identity=identity,
        raw=payload,
    )
    return Normalized((alert,), (), notes)


def _node(payload: dict[str, Any]) -> str | None:
    """The node the alert is on, when the body names one (`host`, else `node`)."""
    for field in ("host", "node"):
        named = common.ident_or_none(common.unnested(payload.get(field)), field)
        if named:
            return named
    return None


def _rooms(value: Any) -> str:
    """The rooms the node belongs to, by name (Netdata sends name → link)."""
    rooms = common.obj_or_empty(value)
    names = [common.shown(name).strip() for name in list(rooms)[:_ROOMS_MAX]]
    return ", ".join(name for name in names if name)


def _reachability(payload: dict[str, Any]) -> Normalized:
    status_obj = common.obj(payload.get("status"), "status", required=True)
    host = common.ident(payload.get("host"), "host")
    status = _reachable(status_obj)
    alert = Alert(
        source=SOURCE,
        status=status,
        title=common.title(f"Netdata node {host} is unreachable"),
        priority=Priority.CRITICAL if status is Status.FIRING else None,
        severity="critical" if status is Status.FIRING else None,
        description=paragraphs(payload.get("message")),
        links=common.links(source=common.url(payload.get("url"), "url")),
        labels=labelled(("host", host), ("reachability", status_obj.get("text"))),
        occurred_at=common.now(),  # the body carries no time
        identity={"host": host, "check": "reachability"},
        raw=payload,
    )
    return Normalized((alert,), ())


def _reachable(status: dict[str, Any]) -> Status:
    """Unreachable fires, reachable resolves: by `reachable` (a boolean), else by `text`."""
    reachable = status.get("reachable")
    if isinstance(reachable, bool):
        return Status.RESOLVED if reachable else Status.FIRING
    text = common.line(common.unnested(status.get("text")), "status.text", 64) or ""
    word = text.strip().lower()
    if word in ("reachable", "unreachable"):
        return Status.RESOLVED if word == "reachable" else Status.FIRING
    raise InvalidAlertError(
        f"netdata status.reachable {common.short(reachable)} is not true or false"
    )
