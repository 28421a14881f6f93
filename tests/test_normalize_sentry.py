"""Sentry issue, event_alert and metric_alert webhooks."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from triage.errors import InvalidAlertError
from triage.models import Alert, Priority, Status
from triage.normalize import Normalized, normalize_body

PAYLOADS = Path(__file__).parent / "payloads"


def payload(name: str) -> dict[str, Any]:
    value: dict[str, Any] = json.loads((PAYLOADS / name).read_text(encoding="utf-8"))
    return value


def load(name: str) -> Normalized:
    return normalize_body((PAYLOADS / name).read_text(encoding="utf-8"))


def only(name: str) -> Alert:
    result = load(name)
    assert len(result.alerts) == 1, result
    return result.alerts[0]


def test_issue_created_fires() -> None:
    """A new issue is a firing alert with Sentry's level as severity and its priority."""
    alert = only("sentry/issue-created.json")
    assert alert.source == "sentry"
    assert alert.status is Status.FIRING
    assert alert.title == "ZeroDivisionError: division by zero"
    assert alert.severity == "error"
    assert alert.priority is Priority.HIGH
    assert alert.identity == {"issue_id": "4504689410"}
    assert alert.links["issue"] == "https://acme.sentry.io/issues/4504689410/"
    assert alert.labels["project"] == "checkout-api"
    assert alert.labels["short_id"] == "CHECKOUT-API-1F"
    assert alert.occurred_at == datetime(2026, 11, 23, 9, 20, 11, 512000, tzinfo=UTC)
    assert "Culprit: checkout.pricing in apply_discount" in alert.description


@pytest.mark.parametrize(
    ("name", "status"),
    [
        ("sentry/issue-resolved.json", Status.RESOLVED),
        ("sentry/issue-archived.json", Status.RESOLVED),
        ("sentry/issue-ignored.json", Status.RESOLVED),
        ("sentry/issue-unresolved.json", Status.FIRING),
    ],
)
def test_issue_state_changes_keep_the_issue_fingerprint(name: str, status: Status) -> None:
    """resolved/archived/ignored resolve and unresolved fires again, all on the issue's incident."""
    alert = only(name)
    assert alert.status is status
    assert alert.fingerprint == only("sentry/issue-created.json").fingerprint


def test_state_changes_are_dated_when_received() -> None:
    """A resolution carries no time of its own, so it is dated now (after the issue's events)."""
    before = datetime.now(UTC)
    alert = only("sentry/issue-resolved.json")
    assert before <= alert.occurred_at <= datetime.now(UTC) + timedelta(seconds=1)
    assert "Sentry reports the issue resolved." in alert.description


def test_assignment_changes_no_state() -> None:
    """An assigned issue makes no ticket change."""
    result = load("sentry/issue-assigned.json")
    assert result.alerts == () and [s.reason for s in result.skipped] == ["no_state_change"]


def test_event_alert_is_the_issue_incident() -> None:
    """An issue alert rule firing is identified by its event's issue id, like the issue itself."""
    alert = only("sentry/event-alert.json")
    assert alert.status is Status.FIRING
    assert alert.fingerprint == only("sentry/issue-created.json").fingerprint
    assert alert.fingerprint == only("sentry/issue-resolved.json").fingerprint
    assert alert.labels["triggered_rule"] == "Checkout errors → triage"
    assert alert.labels["environment"] == "production"
    assert alert.labels["tag.server_name"] == "checkout-api-7d9f8b6c4-x2k8q"
    assert alert.team == "payments"
    assert alert.severity == "error"
    assert alert.occurred_at == datetime(2026, 11, 23, 9, 20, 11, 512000, tzinfo=UTC)


@pytest.mark.parametrize(
    ("name", "status", "severity"),
    [
        ("sentry/metric-alert-critical.json", Status.FIRING, "critical"),
        ("sentry/metric-alert-warning.json", Status.FIRING, "warning"),
        ("sentry/metric-alert-resolved.json", Status.RESOLVED, None),
    ],
)
def test_metric_alert_states(name: str, status: Status, severity: str | None) -> None:
    """critical/warning fire, resolved resolves; all share the alert rule's fingerprint."""
    alert = only(name)
    assert (alert.status, alert.severity) == (status, severity)
    assert alert.identity == {"alert_rule_id": "1382"}
    assert alert.title == "Checkout error spike"
    assert alert.fingerprint == only("sentry/metric-alert-critical.json").fingerprint


def test_metric_alert_facts() -> None:
    """A metric alert carries its query, threshold for the trigger and the incident link."""
    alert = only("sentry/metric-alert-warning.json")
    assert alert.labels["aggregate"] == "count()"
    assert alert.labels["threshold"] == "500.0"
    assert alert.links["alert"].endswith("/alerts/rules/details/1382/?alert=86121")
    assert alert.description.startswith("1204 events in the last 10 minutes")
    resolved = only("sentry/metric-alert-resolved.json")
    assert resolved.occurred_at == datetime(2026, 11, 23, 10, 5, tzinfo=UTC)


def test_metric_alert_is_not_an_issue_incident() -> None:
    """A metric alert rule and an issue never share a fingerprint."""
    assert (
        only("sentry/metric-alert-critical.json").fingerprint
        != only("sentry/issue-created.json").fingerprint
    )


def test_other_resources_are_skipped() -> None:
    """Installation (and comment …) webhooks are understood and make no ticket."""
    result = load("sentry/installation-created.json")
    assert result.alerts == () and result.skipped[0].reason == "unsupported_resource"


def test_issue_without_id_is_invalid() -> None:
    """An issue webhook without an id cannot be identified: InvalidAlertError."""
    body = payload("sentry/issue-created.json")
    del body["data"]["issue"]["id"]
    with pytest.raises(InvalidAlertError, match=r"data\.issue\.id"):
        normalize_body(json.dumps(body))


def test_numeric_issue_id_matches_the_string_one() -> None:
    """An issue id sent as a number identifies the same issue as its string form."""
    body = payload("sentry/issue-created.json")
    body["data"]["issue"]["id"] = 4504689410
    alert = normalize_body(json.dumps(body)).alerts[0]
    assert alert.fingerprint == only("sentry/issue-created.json").fingerprint


def test_issue_that_is_not_an_object_is_invalid() -> None:
    """data.issue must be an object."""
    body = payload("sentry/issue-created.json")
    body["data"]["issue"] = "4504689410"
    with pytest.raises(InvalidAlertError, match=r"data\.issue is a JSON str"):
        normalize_body(json.dumps(body))


# --- Sentry-Hook-Resource ------------------------------------------------------------------


def test_resource_header_reads_the_named_resource() -> None:
    """With the header, a body holding both an issue and an event is read as the one it names."""
    both = payload("sentry/issue-resolved.json")
    both["data"]["event"] = payload("sentry/event-alert.json")["data"]["event"]
    body = json.dumps(both)
    assert normalize_body(body).alerts[0].status is Status.FIRING  # guessed: the event alert
    (alert,) = normalize_body(body, sentry_resource="issue").alerts
    assert alert.status is Status.RESOLVED
    assert normalize_body(body, sentry_resource="event_alert").alerts[0].status is Status.FIRING


@pytest.mark.parametrize("resource", ["installation", "error", "comment", "seer"])
def test_resources_that_are_not_alerts_are_skipped(resource: str) -> None:
    """installation, error, comment … webhooks change no ticket, and the skip names the resource."""
    body = json.dumps({"action": "created", "data": {resource: {"id": "1"}}})
    result = normalize_body(body, sentry_resource=resource)
    assert result.alerts == ()
    ((skipped),) = result.skipped
    assert skipped.reason == "unsupported_resource"
    assert resource in skipped.detail


def test_named_resource_missing_from_the_body_is_invalid() -> None:
    """A header naming metric_alert on a body without one is an InvalidAlertError, not a guess."""
    with pytest.raises(InvalidAlertError, match="metric_alert"):
        normalize_body(
            (PAYLOADS / "sentry/issue-created.json").read_text(), sentry_resource="metric_alert"
        )


@pytest.mark.parametrize("garbage", ["Issue; drop", "x" * 100, "", "issue\n"])
def test_a_malformed_resource_header_is_ignored(garbage: str) -> None:
    """A header that is not a resource name changes nothing: the body decides as without it."""
    body = (PAYLOADS / "sentry/issue-created.json").read_text()
    assert normalize_body(body, sentry_resource=garbage) == normalize_body(body)


@pytest.mark.parametrize("hint", [None, "activity_alert"])
def test_an_alert_about_a_resolved_issue_resolves(hint: str | None) -> None:
    """An activity alert ("triggered") carrying an issue Sentry has resolved resolves the
    incident instead of opening a ticket; with its Sentry-Hook-Resource it is read as well."""
    text = (PAYLOADS / "sentry/activity-alert-resolved.json").read_text(encoding="utf-8")
    [alert] = normalize_body(text, sentry_resource=hint).alerts
    assert alert.status is Status.RESOLVED
    assert alert.fingerprint == only("sentry/issue-created.json").fingerprint  # its incident


def test_the_legacy_webhooks_plugin_is_read_as_the_issue() -> None:
    """The legacy Webhooks plugin's body (no action, no data) is a firing alert of the issue,
    with the event's facts and the issue's link."""
    alert = only("sentry/legacy-plugin.json")
    assert alert.status is Status.FIRING and alert.source == "sentry"
    assert alert.title == "This is an example Python exception"
    assert alert.identity == {"issue_id": "27379932"}
    assert alert.labels["environment"] == "prod" and alert.severity == "error"
    assert str(alert.links["issue"]).startswith("https://sentry.io/organizations/example-org/")


def _blank(body: dict[str, Any], *paths: tuple[str, ...]) -> str:
    for path in paths:
        node = body
        for key in path[:-1]:
            node = node[key]
        node[path[-1]] = ""
    return json.dumps(body)


@pytest.mark.parametrize(
    ("name", "paths", "title"),
    [
        (
            "sentry/issue-created.json",
            [("data", "issue", "title")],
            "ZeroDivisionError: division by zero",
        ),
        (
            "sentry/issue-created.json",
            [
                ("data", "issue", "title"),
                ("data", "issue", "metadata", "type"),
                ("data", "issue", "metadata", "value"),
            ],
            "checkout.pricing in apply_discount",
        ),
        (
            "sentry/event-alert.json",
            [("data", "event", "title"), ("data", "triggered_rule")],
            "ZeroDivisionError: division by zero",
        ),
        (
            "sentry/metric-alert-critical.json",
            [
                ("data", "metric_alert", "alert_rule", "name"),
                ("data", "metric_alert", "title"),
                ("data", "description_title"),
            ],
            "Sentry metric alert rule 1382",
        ),
        (
            "sentry/legacy-plugin.json",
            [("event", "title"), ("message",), ("event", "logentry", "formatted"), ("culprit",)],
            "Sentry issue 27379932",
        ),
    ],
)
def test_an_empty_title_falls_back_to_what_else_names_the_alert(
    name: str, paths: list[tuple[str, ...]], title: str
) -> None:
    """A webhook whose title fields are empty is titled by the error, culprit or the issue or
    rule itself, on its usual fingerprint, rather than refused and its alert lost."""
    usual = only(name)
    [alert] = normalize_body(_blank(payload(name), *paths)).alerts
    assert alert.title == title
    assert alert.fingerprint == usual.fingerprint


def test_projects_and_rules_that_are_not_text_read_as_json() -> None:
    """Projects and legacy triggering rules that are objects, null or booleans read as JSON."""
    metric = payload("sentry/metric-alert-critical.json")
    metric["data"]["metric_alert"]["alert_rule"]["projects"] = ["api", {"slug": "a"}, None, True]
    [alert] = normalize_body(json.dumps(metric)).alerts
    assert alert.labels["projects"] == 'api, {"slug":"a"}, null, true'
    legacy = payload("sentry/legacy-plugin.json")
    legacy["triggering_rules"] = ["Page on-call", {"id": 7}, None]
    [alert] = normalize_body(json.dumps(legacy)).alerts
    assert alert.labels["triggering_rules"] == 'Page on-call, {"id":7}, null'


def test_the_fired_rule_is_quoted_as_written_not_as_python_repr() -> None:
    """A rule name with quotes or a backslash is quoted as written, not escaped as Python's repr."""
    event = payload("sentry/event-alert.json")
    event["data"]["triggered_rule"] = 'Ops\' "C:\\logs" rule'
    [alert] = normalize_body(json.dumps(event)).alerts
    assert 'Sentry alert rule "Ops\' "C:\\logs" rule" fired.' in alert.description


@pytest.mark.parametrize(
    ("name", "changes", "title"),
    [
        (
            "sentry/event-alert.json",
            {("data", "event", "title"): "", ("data", "event", "message"): {"x": 1}},
            "Checkout errors → triage",
        ),
        (
            "sentry/event-alert.json",
            {("data", "event", "message"): ["m"], ("data", "triggered_rule"): {"id": 1}},
            "ZeroDivisionError: division by zero",
        ),
        (
            "sentry/event-alert.json",
            {("data", "event", "title"): "", ("data", "triggered_rule"): {"id": 1}},
            "ZeroDivisionError: division by zero",
        ),
        (
            "sentry/legacy-plugin.json",
            {("event", "title"): None, ("message",): {"x": 1}},
            "This is an example Python exception",
        ),
    ],
)
def test_a_title_field_that_is_an_object_falls_through_to_the_next(
    name: str, changes: dict[tuple[str, ...], Any], title: str
) -> None:
    """An event message or fired rule that is an object or array is passed over, not refused."""
    body = payload(name)
    for path, value in changes.items():
        node = body
        for key in path[:-1]:
            node = node[key]
        node[path[-1]] = value
    [alert] = normalize_body(json.dumps(body)).alerts
    assert alert.title == title
    assert alert.fingerprint == only(name).fingerprint
    assert "{" not in alert.description and "None" not in alert.description


def _changed(name: str, path: tuple[str, ...], value: Any) -> dict[str, Any]:
    body = payload(name)
    node = body
    for step in path[:-1]:
        node = node[step]
    node[path[-1]] = value
    return body


ODD = [{"id": "error"}, ["error"]]


@pytest.mark.parametrize("odd", ODD)
@pytest.mark.parametrize(
    ("name", "path"),
    [
        ("sentry/issue-created.json", ("data", "issue", "level")),
        ("sentry/event-alert.json", ("data", "event", "level")),
        ("sentry/legacy-plugin.json", ("level",)),
    ],
)
def test_a_level_that_is_an_object_is_passed_over(
    name: str, path: tuple[str, ...], odd: Any
) -> None:
    """A Sentry level that is an object or array leaves the severity empty; the alert is kept."""
    before = only(name)
    [alert] = normalize_body(json.dumps(_changed(name, path, odd))).alerts
    assert (alert.fingerprint, alert.status) == (before.fingerprint, before.status)
    assert alert.severity is None and "level" not in alert.labels


@pytest.mark.parametrize("odd", ODD)
def test_an_issue_status_that_is_an_object_is_passed_over(odd: Any) -> None:
    """An activity alert whose issue status is an object still reads, from its activity type."""
    name = "sentry/activity-alert-resolved.json"
    before = only(name)
    [alert] = normalize_body(json.dumps(_changed(name, ("data", "issue", "status"), odd))).alerts
    assert (alert.fingerprint, alert.status) == (before.fingerprint, Status.RESOLVED)
    assert "issue_status" not in alert.labels


@pytest.mark.parametrize(
    ("name", "path", "odd"),
    [
        ("sentry/activity-alert-resolved.json", ("data", "activity"), "set_resolved"),
        ("sentry/activity-alert-resolved.json", ("data", "activity", "type"), {"t": 1}),
        ("sentry/issue-created.json", ("data", "issue", "project"), "checkout-api"),
        ("sentry/issue-created.json", ("data", "issue", "metadata"), ["ZeroDivisionError"]),
        ("sentry/event-alert.json", ("data", "event", "metadata"), 7),
        ("sentry/legacy-plugin.json", ("event", "logentry"), "formatted"),
        (
            "sentry/metric-alert-critical.json",
            ("data", "metric_alert", "alert_rule", "triggers"),
            {},
        ),
    ],
)
def test_a_display_only_object_of_odd_type_is_passed_over(
    name: str, path: tuple[str, ...], odd: Any
) -> None:
    """A project, metadata, activity, logentry or trigger list of the wrong JSON type costs the
    alert those facts only, never its ticket or its fingerprint."""
    before = only(name)
    [alert] = normalize_body(json.dumps(_changed(name, path, odd))).alerts
    assert alert.fingerprint == before.fingerprint and alert.title


def test_a_metric_alert_description_that_is_an_object_reads_as_json() -> None:
    """A metric alert's description_text that is an object is shown as JSON text."""
    name = "sentry/metric-alert-critical.json"
    body = _changed(name, ("data", "description_text"), {"count": 1, "x": None})
    [alert] = normalize_body(json.dumps(body)).alerts
    assert alert.description == '{"count":1,"x":null}'
