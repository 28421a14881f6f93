"""Librato's and SolarWinds AppOptics' webhook notification service. Both post the same JSON as
the form field `payload` (github-services' format; the ingest gateway queues that JSON):
`alert` (id, name, description, runbook_url, version), `account`, `trigger_time` (epoch
seconds), `incident_key`, the alert's `conditions` (id, type above/below/absent, threshold,
summary_function, duration) and its `violations`, per source a list of (metric, value,
recorded_at, condition_violated). A cleared alert carries `"clear": "normal"` instead of
conditions and violations. Read as format `librato`, source `librato`.

Identity: the alert's id; never its name, sources, values or times. Its clear names no source,
so the alert, not each source, is the incident: the sources in violation are listed in its
description. States: a body whose `clear` names how it cleared resolves (any kind: "normal", or a
clear by hand); every other fires. A body sent by "Send test notification" (`triggered_by_user_test: true`) is
Skipped as `test_notification` with one log line. AppOptics' own page shows the cleared body
inside `{"payload": …}`: a body that is only that wrapper is read as what it wraps.
"""

from __future__ import annotations

from typing import Any

from triage.models import Alert, Status
from triage.normalize import common
from triage.normalize.common import Normalized, Skipped
from triage.normalize.generic import dated
from triage.normalize.vendors import labelled, paragraphs, untitled

SOURCE = "librato"

#: Keys of which a body has at least one beside `alert` and `trigger_time`.
_BODY_KEYS = frozenset({"violations", "conditions", "clear"})
#: At most this many sources, and violations per source, are shown.
_SOURCES_SHOWN = 20
_VIOLATIONS_SHOWN = 5
#: The listing stops adding sources past this many characters (the description holds 4,000).
_LISTING_MAX = 3_000
#: At most this many conditions are read.
_CONDITIONS_MAX = 50


def matches(payload: dict[str, Any]) -> bool:
    """An alert's notification (its `alert` object and trigger time, its violations, its
    conditions or its clear), or the documented wrapper of one."""
    inner = payload.get("payload")
    if payload.keys() == {"payload"} and isinstance(inner, dict):
        return _matches_body(inner)
    return _matches_body(payload)


def _matches_body(payload: dict[str, Any]) -> bool:
    return (
        untitled(payload)
        and isinstance(payload.get("alert"), dict)
        and "trigger_time" in payload
        and not _BODY_KEYS.isdisjoint(payload)
    )


def normalize(payload: dict[str, Any]) -> Normalized:
    if payload.keys() == {"payload"}:
        payload = payload["payload"]
    alert = common.obj(payload.get("alert"), "alert", required=True)
    name = alert.get("name")
    if payload.get("triggered_by_user_test") is True:
        detail = f"librato test notification of alert {common.short(name)}: no ticket change"
        return Normalized((), (Skipped(SOURCE, "test_notification", detail),))
    alert_id = common.ident(alert.get("id"), "alert.id")
    cleared = _clear(payload.get("clear"))
    violations = _violations(payload.get("violations"))
    conditions = _conditions(payload.get("conditions"))
    occurred, notes = dated(payload.get("trigger_time"), "librato trigger_time")
    metrics = dict.fromkeys(_metric(v) for _, listed in violations for v in listed)
    result = Alert(
        source=SOURCE,
        status=Status.RESOLVED if cleared else Status.FIRING,
        title=common.first_title(name, f"Librato alert {alert_id}", field="alert.name"),
        description=paragraphs(alert.get("description"), _listing(violations, conditions)),
        runbook_url=common.url(alert.get("runbook_url"), "alert.runbook_url"),
        labels=labelled(
            ("alert_id", alert_id),
            ("metric", ", ".join(m for m in metrics if m)),
            ("sources", ", ".join(source for source, _ in violations[:_SOURCES_SHOWN])),
            ("sources_in_violation", len(violations) or None),
            ("clear", cleared),
        ),
        occurred_at=occurred,
        identity={"alert": alert_id},
        raw=payload,
    )
    return Normalized((result,), (), notes)


def _clear(value: Any) -> str | None:
    """How the alert cleared ("normal"), or None while it fires: Librato writes the kind as
    text; `true` is read as a clear of no named kind, and `false`, 0 or null as none."""
    if value is True:
        return "true"
    return common.word(value, "clear", 64) if isinstance(value, str) else None


def _violations(value: Any) -> list[tuple[str, list[dict[str, Any]]]]:
    """Each source in violation and its violations (objects only), in the order sent."""
    return [
        (str(source), [v for v in common.items_or_empty(listed) if isinstance(v, dict)])
        for source, listed in common.obj_or_empty(value).items()
    ]


def _conditions(value: Any) -> dict[str, str]:
    """Each condition's id → what it says ("average above 2 for 300 s")."""
    described: dict[str, str] = {}
    for condition in common.items_or_empty(value)[:_CONDITIONS_MAX]:
        if not isinstance(condition, dict) or _plain(condition.get("id")) is None:
            continue
        parts = [_plain(condition.get(key)) for key in ("summary_function", "type", "threshold")]
        duration = _plain(condition.get("duration"))
        text = " ".join(p for p in parts if p) + (f" for {duration} s" if duration else "")
        described[str(_plain(condition.get("id")))] = text.strip()
    return described


def _listing(violations: list[tuple[str, list[dict[str, Any]]]], conditions: dict[str, str]) -> str:
    """One line per violation, grouped by source, within `_LISTING_MAX` characters, and how
    many sources that left out."""
    lines: list[str] = []
    shown = 0
    for source, listed in violations[:_SOURCES_SHOWN]:
        named = common.word(source, "violations source", 200) or "?"
        more = [_line(named, v, conditions) for v in listed[:_VIOLATIONS_SHOWN]] or [named]
        if lines and sum(map(len, lines + more)) > _LISTING_MAX:
            break
        lines += more
        shown += 1
    if len(violations) > shown:
        lines.append(f"…and {len(violations) - shown} more sources")
    return "Violations:\n" + "\n".join(lines) if lines else ""


def _line(source: str, violation: dict[str, Any], conditions: dict[str, str]) -> str:
    """ "web-1: load = 7.19 (average above 2 for 300 s), recorded 2015-10-07 00:24:14 UTC" """
    value = _plain(violation.get("value"))
    text = f"{source}: {_metric(violation) or 'metric'}" + (f" = {value}" if value else "")
    broken = conditions.get(str(_plain(violation.get("condition_violated"))))
    if broken:
        text += f" ({broken})"
    recorded = common.timestamp(violation.get("recorded_at"))
    if recorded is not None:
        text += f", recorded {recorded:%Y-%m-%d %H:%M:%S} UTC"
    return text


def _metric(violation: dict[str, Any]) -> str | None:
    return common.word(violation.get("metric"), "violations[].metric")


def _plain(value: Any) -> str | None:
    """A scalar as one shown line (numbers as JSON writes them), else None: nested values show
    nothing, and text cannot start a line of its own in the listing."""
    if value is None or isinstance(value, dict | list):
        return None
    return common.word(common.shown(value), "violation", 200)
