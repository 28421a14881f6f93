"""Kapacitor's HTTP POST alert handler (`.post()` in a TICKscript, or a topic handler of kind
`post`) without an alert template: the JSON of `alert.Data`, which Kapacitor fixes
(docs.influxdata.com/kapacitor/v1/reference/event_handlers/post/; its JSON tags in
influxdata/kapacitor alert/types.go): `id`, `message`, `details`, `time`, `duration`
(nanoseconds), `level`, `data` (the query result: `series` of name, tags, columns, values),
`previousLevel`, `recoverable`. Read as format `kapacitor`, source `kapacitor`. A body the
user templated (`alert-template`) is theirs and is read as a generic alert, if it is one.

Identity: the alert's `id` (the alert node's `.id()`, by default "{{ .Name }}:{{ .Group }}":
one per rule and group); never its message, details, level or values.
States (`level`, any case): INFO, WARNING and CRITICAL fire, OK resolves; any other is refused,
naming it. The handler's test (services/httppost/service.go posts an empty alert: no id, the
zero time, level OK) is Skipped as `test_notification` with one log line.
"""

from __future__ import annotations

from typing import Any

from triage.errors import InvalidAlertError
from triage.models import Alert, Status
from triage.normalize import common
from triage.normalize.common import Normalized, Skipped
from triage.normalize.generic import dated
from triage.normalize.vendors import labelled, paragraphs, untitled

SOURCE = "kapacitor"

#: The keys every `alert.Data` has; `previousLevel` and `recoverable` are read when present.
_KEYS = frozenset({"id", "message", "details", "time", "duration", "level", "data"})
_FIRING = frozenset({"info", "warning", "critical"})
_RESOLVED = frozenset({"ok"})
#: At most this many of the first series' tags become labels.
_TAGS_MAX = 20


def matches(payload: dict[str, Any]) -> bool:
    """The JSON of `alert.Data`: every one of its keys, and no `title` of a script's."""
    return untitled(payload) and payload.keys() >= _KEYS


def normalize(payload: dict[str, Any]) -> Normalized:
    level = (common.line(common.unnested(payload.get("level")), "level", 64) or "").lower()
    if _is_test(payload, level):
        detail = "kapacitor test notification (an empty alert, no id): no ticket change"
        return Normalized((), (Skipped(SOURCE, "test_notification", detail),))
    if level not in _FIRING | _RESOLVED:
        raise InvalidAlertError(
            f"kapacitor level {common.short(payload.get('level'))} is not OK, INFO, WARNING "
            "or CRITICAL"
        )
    alert_id = common.ident(payload.get("id"), "id")
    series = _first_series(payload.get("data"))
    tags = common.obj_or_empty(series.get("tags"))
    occurred, notes = dated(payload.get("time"), "kapacitor time")
    alert = Alert(
        source=SOURCE,
        status=Status.RESOLVED if level in _RESOLVED else Status.FIRING,
        title=common.first_title(payload.get("message"), f"Kapacitor alert {alert_id}"),
        severity=level,
        description=paragraphs(payload.get("details")) or paragraphs(payload.get("message")),
        team=common.word(tags.get("team"), "data.series[0].tags.team"),
        labels=labelled(
            *_tags(tags),
            ("alert_id", alert_id),
            ("level", level),
            ("previous_level", _lower(payload.get("previousLevel"))),
            ("metric", series.get("name")),
        ),
        occurred_at=occurred,
        identity={"id": alert_id},
        raw=payload,
    )
    return Normalized((alert,), (), notes)


def _is_test(payload: dict[str, Any], level: str) -> bool:
    """The handler's test body: an empty alert, no id, at level OK."""
    return level == "ok" and payload.get("id") in ("", None)


def _lower(value: Any) -> str | None:
    """The previous level, lower-cased and whole (`common.whole_word`): its label shows it cut
    and keeps it whole for routes and groups (`add_label`)."""
    word = common.whole_word(value, "previousLevel")
    return word.lower() if word else None


def _first_series(data: Any) -> dict[str, Any]:
    """The first series of the alert's query result, or {} when there is none."""
    series = common.items_or_empty(common.obj_or_empty(data).get("series"))
    return common.obj_or_empty(series[0]) if series else {}


def _tags(tags: dict[str, Any]) -> list[tuple[str, Any]]:
    """The series' group-by tags (host, region …) as label pairs, at most `_TAGS_MAX`; the
    alert's own labels, added after them, win over a tag of the same name."""
    return list(tags.items())[:_TAGS_MAX]
