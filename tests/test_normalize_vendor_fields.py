"""A vendor reader that takes one value from several alternative fields (`a`, else `b`, else
`c.d`) names, when it refuses that value or notes it unread, the field the sender actually
sent it in; such a value is refused only with an InvalidAlertError, never another exception."""

from __future__ import annotations

import re
from typing import Any

import pytest

from source_samples import Samples, one, run
from triage.errors import InvalidAlertError

#: A Datadog custom payload that names its monitor state and nothing else.
_DATADOG = {"alert_transition": "Triggered", "title": "CPU high"}

#: (alternative's path, body with a wrong-typed value in that alternative only).
_CASES: list[tuple[str, dict[str, Any]]] = []
for _bad in ([1], {"a": 1}):
    _CASES += [
        ("title", {"alert_transition": "Triggered", "title": _bad}),
        ("alert_title", {"alert_transition": "Triggered", "alert_title": _bad}),
        ("alert.title", {"alert_transition": "Triggered", "title": "", "alert": {"title": _bad}}),
        ("alert_transition", {"alert_transition": "Nope", "title": "CPU"}),
        ("alert.transition", {"alert_transition": "", "title": "CPU", "alert": {"transition": _bad}}),
        ("alert_id", {**_DATADOG, "alert_id": _bad}),
        ("monitor_id", {**_DATADOG, "monitor_id": _bad}),
        ("alert.id", {**_DATADOG, "alert": {"id": _bad}}),
    ]  # fmt: skip


@pytest.mark.parametrize(
    ("path", "body"), _CASES, ids=[f"{path}-{i}" for i, (path, _) in enumerate(_CASES)]
)
def test_a_refused_alternative_is_named_by_its_own_path(path: str, body: dict[str, Any]) -> None:
    """A wrong-typed value in any alternative field is an InvalidAlertError naming that field."""
    with pytest.raises(InvalidAlertError) as refused:
        run(body)
    assert re.search(rf"(^|\s){re.escape(path)}\s", str(refused.value)), str(refused.value)


def _at(body: dict[str, Any], path: str) -> tuple[dict[str, Any], str]:
    """The object holding `path`'s last key (made when missing), and that key."""
    *parents, key = path.split(".")
    for name in parents:
        body = body.setdefault(name, {})
    return body, key


def _sent_in(name: str, path: str, value: Any, earlier: tuple[str, ...]) -> dict[str, Any]:
    """Sample `name` with `value` at `path` and the alternatives read before it removed, so
    that the reader takes its value from `path`."""
    folder, file = name.split("/")
    body = Samples(folder).body(file)
    for before in earlier:
        holder, key = _at(body, before)
        holder.pop(key, None)
    holder, key = _at(body, path)
    holder[key] = value
    return body


#: (sample, the alternatives a reader takes the alert's time from, in the order read).
_TIMES: list[tuple[str, tuple[str, ...]]] = [
    ("vendors/datadog-custom-triggered.json", ("date", "last_updated", "date_posix")),
    ("vendors/opsgenie-create.json", ("alert.updatedAt", "alert.createdAt")),
    ("vendors/newrelic-activated.json", ("updatedAt", "createdAt")),
    ("vendors/azure-resolved.json",
     ("data.essentials.resolvedDateTime", "data.essentials.firedDateTime")),
    ("vendors/gcp-closed.json", ("incident.ended_at", "incident.started_at")),
    ("azure/service-health-active.json",
     ("data.alertContext.eventTimestamp", "data.essentials.firedDateTime")),
    ("azure/resource-health-unavailable.json",
     ("data.alertContext.eventTimestamp", "data.essentials.firedDateTime")),
    ("tools/pingdom-http-down.json", ("state_changed_timestamp", "state_changed_utc_time")),
    ("betterstack/incident-resolved.json",
     ("data.attributes.resolved_at", "data.attributes.started_at")),
    ("tools/rollbar-occurrence.json",
     ("data.occurrence.timestamp", "data.item.last_occurrence_timestamp")),
    ("tools/rollbar-new-item.json",
     ("data.item.last_occurrence.timestamp", "data.item.last_occurrence_timestamp")),
    ("tools/rollbar-resolved-item.json", ("data.item.last_resolved_timestamp",)),
    ("tools/honeybadger-up.json", ("outage.up_at",)),
    ("uptimerobot/down.json", ("alertDateTime",)),
    ("uptimerobot/snake-down.json", ("alert_datetime",)),
    ("tools/honeybadger-down.json", ("outage.down_at",)),
]  # fmt: skip
_TIME_CASES = [
    (name, path, paths[:i], value)
    for name, paths in _TIMES
    for i, path in enumerate(paths)
    for value in ("not a time", [1], {"a": 1})
]


@pytest.mark.parametrize(("name", "path", "earlier", "value"), _TIME_CASES)
def test_an_unread_time_is_noted_under_its_own_path(
    name: str, path: str, earlier: tuple[str, ...], value: Any
) -> None:
    """A time no reader reads, in any alternative field, is noted under that field's path."""
    read = run(_sent_in(name, path, value, earlier))
    assert len(read.alerts) == 1
    assert any(re.search(rf"\s{re.escape(path)}\s", note) for note in read.notes), read.notes


#: (sample, the alternatives a reader takes a value from, a value it refuses: a state it does
#: not know, an id that is no text).
_REFUSED: list[tuple[str, tuple[str, ...], Any]] = [
    ("azure/service-health-active.json",
     ("data.alertContext.properties.stage", "data.alertContext.status"), "Paused"),
    ("betterstack/incident-started.json", ("event",), "paused"),
    ("betterstack/incident-no-event-started.json", ("data.attributes.status",), "Paused"),
    ("azure/resource-health-unavailable.json",
     ("data.essentials.alertTargetIDs", "data.essentials.configurationItems"), [[1]]),
    ("vendors/uptimekuma-down.json", ("monitor.id", "heartbeat.monitorID"), {"a": 1}),
    ("azure/resource-health-unavailable.json",
     ("data.alertContext.properties.currentHealthStatus", "data.alertContext.operationName"),
     "Microsoft.Resourcehealth/healthevent/Paused/action"),
]  # fmt: skip


@pytest.mark.parametrize(
    ("name", "path", "earlier", "value"),
    [(name, path, paths[:i], value) for name, paths, value in _REFUSED
     for i, path in enumerate(paths)],
)  # fmt: skip
def test_a_refused_value_is_named_by_its_own_path(
    name: str, path: str, earlier: tuple[str, ...], value: Any
) -> None:
    """A value a reader refuses, in any alternative field, is refused naming that field."""
    with pytest.raises(InvalidAlertError) as refused:
        run(_sent_in(name, path, value, earlier))
    assert re.search(rf"(^|\s){re.escape(path)}\s", str(refused.value)), str(refused.value)


#: (sample, the field a reader takes the trigger from, a trigger that changes no ticket).
_QUIET: list[tuple[str, str, Any]] = [
    ("tools/bugsnag-fixed.json", "trigger.stateChange", "discarded"),
    ("tools/bugsnag-comment.json", "trigger.type", "comment"),
]


@pytest.mark.parametrize(("name", "path", "value"), _QUIET)
def test_a_quiet_trigger_is_logged_under_its_own_path(name: str, path: str, value: Any) -> None:
    """A trigger that changes no ticket is logged naming the field the trigger came in."""
    read = run(_sent_in(name, path, value, ()))
    [skipped] = read.skipped
    assert re.search(rf"\s{re.escape(path)}\s", skipped.detail), skipped.detail


@pytest.mark.parametrize(
    ("name", "change", "named"),
    [
        ("down.json", {"monitorID": [1]}, ("monitorID",)),
        ("snake-down.json", {"monitor_id": [1]}, ("monitor_id",)),
        ("down.json", {"monitorID": None, "monitorURL": {"a": 1}}, ("monitorURL",)),
        ("snake-down.json", {"monitor_url": {"a": 1}}, ("monitor_url",)),
        ("down.json", {"alertType": "9", "alertTypeFriendlyName": "Sideways"},
         ("alertType", "alertTypeFriendlyName")),
        ("snake-down.json", {"alert_type": "9", "alert_type_friendly_name": "Sideways"},
         ("alert_type", "alert_type_friendly_name")),
    ],
)  # fmt: skip
def test_uptimerobot_names_a_refused_variable_as_it_was_sent(
    name: str, change: dict[str, Any], named: tuple[str, ...]
) -> None:
    """UptimeRobot's variables may come camelCase or snake_case: a refusal names the form sent."""
    with pytest.raises(InvalidAlertError) as refused:
        run(Samples("uptimerobot").body(name) | change)
    for path in named:
        assert re.search(rf"(^|\s){re.escape(path)}\s", str(refused.value)), str(refused.value)


@pytest.mark.parametrize("odd", [{"host": "web-1"}, ["host:web-1"]])
def test_a_datadog_scope_written_as_an_object_gives_way_to_the_one_behind_it(odd: Any) -> None:
    """An object or array under `alert_scope` is no scope: the `scopes` text behind it keys
    the group, as it does alone, so one host's recovery cannot close another's incident."""
    body = Samples("datadog").body("keep-triggered.json")
    body["title"] = "CPU high"  # a title naming no group: the scope keys it
    body["scopes"] = "host:web-2"
    alone = one(body)
    body["alert_scope"] = odd
    assert one(body).fingerprint == alone.fingerprint
    body["scopes"] = "host:web-3"
    assert one(body).fingerprint != alone.fingerprint
