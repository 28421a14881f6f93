"""Site24x7's webhook (Admin > Third-Party Integration > Webhooks, "Send Incident Parameters"
posted as JSON): the monitor's incident parameters flat at the top level, upper case:
`MONITORNAME`, `MONITOR_ID`, `STATUS`, `MONITORTYPE`, `MONITOR_DASHBOARD_LINK`, `MONITORURL`,
`MONITOR_GROUPNAME`, `INCIDENT_REASON`, `INCIDENT_DETAILS`, `FAILED_LOCATIONS`,
`INCIDENT_TIME` (text in the account's zone), `INCIDENT_TIME_ISO`, `OUTAGE_TIME_UNIX_FORMAT`,
`TAGS`, `GROUP_TAGS`, `POLLFREQUENCY` (the body the integrations of FireHydrant, Keep and
Splunk On-Call read). Custom parameters the user adds come in the same object and are kept in
`raw`. Read as format `site24x7`, source `site24x7`.

Identity: the monitor's id (`MONITOR_ID`, a number or its text), else the id in its dashboard
link (".../home/monitors/<id>/Summary", on every Site24x7 data centre); never its name, type,
reason, locations or times.
States (`STATUS`): DOWN (the monitor is unreachable) fires critical, CRITICAL (a critical
threshold crossed) high, TROUBLE (a warning threshold crossed) medium; UP resolves.
MAINTENANCE, SUSPENDED and DISCOVERY change no ticket; any other status is refused, naming it.
Site24x7 documents no mark for its integration's test alert: it is read as any alert is.
Labels: the monitor's id, type, group, URL, status, failed locations and tags; each tag with a
value ("env:prod") by its own key too, `team` its team.
"""

from __future__ import annotations

import re
from typing import Any

from triage.errors import InvalidAlertError
from triage.models import Alert, Priority, Status
from triage.normalize import common
from triage.normalize.common import Normalized, Skipped
from triage.normalize.generic import dated
from triage.normalize.vendors import add_own_labels, labelled, paragraphs, untitled

SOURCE = "site24x7"

#: What each status means: a state, a priority (how bad, by Site24x7's own order: down is an
#: outage, critical and trouble thresholds crossed), and its word as severity.
_STATES: dict[str, tuple[Status, Priority | None]] = {
    "down": (Status.FIRING, Priority.CRITICAL),
    "critical": (Status.FIRING, Priority.HIGH),
    "trouble": (Status.FIRING, Priority.MEDIUM),
    "up": (Status.RESOLVED, None),
}
#: A monitor in maintenance, suspended or still being discovered is not watched: no outage
#: begins or ends.
_QUIET = frozenset({"maintenance", "suspended", "discovery"})
#: The monitor's id in its dashboard link: "#/home/monitors/<id>/Summary".
_LINKED_ID = re.compile(r"/monitors/(\d{1,30})(?:[/?#]|$)")
#: At most this many tags are read.
_TAGS_MAX = 50


def matches(payload: dict[str, Any]) -> bool:
    """Incident parameters: the monitor's name and status, and its id or dashboard link. Never
    a body with a `title`: a script's generic alert."""
    return (
        untitled(payload)
        and "STATUS" in payload
        and "MONITORNAME" in payload
        and ("MONITOR_ID" in payload or "MONITOR_DASHBOARD_LINK" in payload)
    )


def normalize(payload: dict[str, Any]) -> Normalized:
    state = common.word(common.unnested(payload.get("STATUS")), "STATUS")
    word = (state or "").strip().lower()
    read = _STATES.get(word)
    monitor = _monitor_id(payload)
    if read is None:
        if word in _QUIET:
            detail = f"site24x7 monitor {common.short(monitor)} is {word}: no ticket change"
            return Normalized((), (Skipped(SOURCE, "no_state_change", detail),))
        raise InvalidAlertError(
            f"site24x7 STATUS {common.short(payload.get('STATUS'))} is not DOWN, CRITICAL, "
            "TROUBLE or UP (nor MAINTENANCE, SUSPENDED or DISCOVERY)"
        )
    status, priority = read
    name = common.line(common.unnested(payload.get("MONITORNAME")), "MONITORNAME", shown=True)
    occurred, notes = dated(
        payload.get("INCIDENT_TIME_ISO") or payload.get("OUTAGE_TIME_UNIX_FORMAT"),
        "site24x7 INCIDENT_TIME_ISO",
    )
    tags = _tags(payload.get("TAGS"))
    valued = _valued(tags)
    labels = labelled(
        ("monitor_id", monitor),
        ("monitor_type", payload.get("MONITORTYPE")),
        ("monitor_group", payload.get("MONITOR_GROUPNAME")),
        ("monitor_url", payload.get("MONITORURL")),
        ("status", state),
        ("failed_locations", payload.get("FAILED_LOCATIONS")),
        ("tags", ",".join(tags)),
        ("group_tags", ",".join(_tags(payload.get("GROUP_TAGS")))),
    )
    add_own_labels(labels, valued)
    alert = Alert(
        source=SOURCE,
        status=status,
        title=common.first_title(
            f"{name} is {state}" if name else None, f"Site24x7 monitor {monitor} is {state}"
        ),
        team=common.word(valued.get("team"), "TAGS[team]"),
        priority=priority,
        severity=word if status is Status.FIRING else None,
        description=paragraphs(
            payload.get("INCIDENT_REASON"),
            payload.get("INCIDENT_DETAILS"),
            _where(payload.get("FAILED_LOCATIONS")),
        ),
        links=common.links(
            dashboard=common.url(payload.get("MONITOR_DASHBOARD_LINK"), "MONITOR_DASHBOARD_LINK"),
            check=common.url(payload.get("MONITORURL"), "MONITORURL"),
        ),
        labels=labels,
        occurred_at=occurred,
        identity={"monitor": monitor},
        raw=payload,
    )
    return Normalized((alert,), (), notes)


def _monitor_id(payload: dict[str, Any]) -> str:
    """`MONITOR_ID` as text (Site24x7 sends it as a number; a template as text), else the id
    in the monitor's dashboard link: the same monitor is one incident either way."""
    given = common.ident_or_none(common.unnested(payload.get("MONITOR_ID")), "MONITOR_ID")
    if given:
        return given
    link = payload.get("MONITOR_DASHBOARD_LINK")
    found = _LINKED_ID.search(link[: common.URL_MAX]) if isinstance(link, str) else None
    if found is None:
        raise InvalidAlertError(
            "site24x7 MONITOR_ID is missing or empty and MONITOR_DASHBOARD_LINK names no "
            "monitor: the alert cannot be identified"
        )
    return found[1]


def _tags(value: Any) -> list[str]:
    """Tags as Site24x7 lists them (an array, or text split by commas), each as text; an
    object or empty tag is passed over."""
    listed = value.split(",") if isinstance(value, str) else common.items_or_empty(value)
    tags = []
    for item in listed[:_TAGS_MAX]:
        if isinstance(item, str | int | float) and not isinstance(item, bool):
            tag = common.shown(item).strip()
            if tag:
                tags.append(tag)
    return tags


def _valued(tags: list[str]) -> dict[str, str]:
    """The tags with a value ("env:prod"), key to value, a key tagged twice keeping its first."""
    valued: dict[str, str] = {}
    for tag in tags:
        key, colon, value = tag.partition(":")
        if colon and key.strip() and value.strip():
            valued.setdefault(key.strip(), value.strip())
    return valued


def _where(locations: Any) -> str | None:
    """One sentence naming where the monitor failed, when Site24x7 says."""
    shown = common.line(common.unnested(locations), "FAILED_LOCATIONS", shown=True)
    return f"Failed from: {shown}." if shown else None
