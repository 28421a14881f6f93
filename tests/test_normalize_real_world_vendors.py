"""Other tools' webhooks as they are sent today (the shapes of Microsoft's Azure Monitor payload
samples, Zulip's webhook fixtures, the Datadog templates that Keep, ilert and Zenduty install):
each read to the right state, title and link, keyed so that its repeats and its recovery are one
incident, and its test or ping skipped.

The samples live under tests/payloads/, where the golden-fingerprint, display-field, fuzz and
hostile-text suites walk them with every other sample; their identity paths are in
`test_normalize_hostile.NOT_DISPLAY_IN`.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from source_samples import one, run
from test_normalize_hostile import HOSTILE_VALUES
from test_normalize_hostile import _outcome as outcome
from test_normalize_hostile import _paths as paths
from test_normalize_hostile import _replace as replaced
from triage.errors import InvalidAlertError, TriageError
from triage.models import Priority, Status

PAYLOADS = Path(__file__).parent / "payloads"


def sample(name: str) -> dict[str, Any]:
    value: dict[str, Any] = json.loads((PAYLOADS / name).read_text(encoding="utf-8"))
    return value


# --- Azure Monitor: activity log alerts are stateless ------------------------------------------


def test_azure_service_health_updates_and_resolution_are_one_incident() -> None:
    """A Service Health event's notifications (each its own alert instance, all "Fired") are
    one incident keyed by its tracking id, and its Resolved stage resolves it."""
    active, update, resolved = (
        one(sample(f"azure/service-health-{name}.json"))
        for name in ("active", "update", "resolved")
    )
    assert active.fingerprint == update.fingerprint == resolved.fingerprint
    assert [a.status for a in (active, update, resolved)] == [
        Status.FIRING, Status.FIRING, Status.RESOLVED
    ]  # fmt: skip
    assert active.title == "Azure SQL Database - East US - Investigating"
    assert active.labels["tracking_id"] == "7TQN-1Z8"
    assert "<p>" not in active.description and "Engineers are investigating." in active.description


def test_azure_service_health_html_entities_cannot_smuggle_controls() -> None:
    """A communication's HTML entities are read after its tags go, and what they spell is
    cleaned as any text is: no escape or bidi override reaches the description."""
    body = sample("azure/service-health-active.json")
    body["data"]["alertContext"]["properties"]["communication"] = (
        "<p>a&#x1b;[31m b&#x202e;c &amp; d</p><br>e"
    )
    assert one(body).description == "a[31m bc & d\n\ne"


def test_azure_planned_maintenance_changes_no_ticket() -> None:
    """A Service Health maintenance notice is planned work: skipped with its reason."""
    body = sample("azure/service-health-active.json")
    body["data"]["alertContext"]["properties"].update(incidentType="Maintenance", stage="Planned")
    result = run(body)
    assert result.alerts == () and [s.reason for s in result.skipped] == ["maintenance"]


def test_azure_service_health_without_tracking_id_is_refused_naming_it() -> None:
    """A Service Health alert with no tracking id cannot be keyed: a clear error names it."""
    body = sample("azure/service-health-active.json")
    del body["data"]["alertContext"]["properties"]["trackingId"]
    with pytest.raises(InvalidAlertError, match="trackingId"):
        run(body)


def test_azure_service_health_unknown_stage_is_refused_naming_it() -> None:
    """A stage Azure has not documented is refused, naming the field, never guessed."""
    body = sample("azure/service-health-active.json")
    body["data"]["alertContext"]["properties"]["stage"] = "Sideways"
    with pytest.raises(InvalidAlertError, match="stage"):
        run(body)


def test_azure_resource_health_recovery_resolves_the_outage() -> None:
    """A resource's health events (each its own alert instance) are one incident per
    resource: Unavailable fires, Available resolves, and the resource id's case is Azure's
    whim, not another resource."""
    down = one(sample("azure/resource-health-unavailable.json"))
    up_body = sample("azure/resource-health-available.json")
    essentials = up_body["data"]["essentials"]
    essentials["alertTargetIDs"] = [essentials["alertTargetIDs"][0].lower()]
    up = one(up_body)
    assert (down.status, up.status) == (Status.FIRING, Status.RESOLVED)
    assert down.fingerprint == up.fingerprint
    assert "unexpected failure on the host server" in down.description


def test_azure_log_alert_firings_are_one_incident_per_rule_target_and_dimensions() -> None:
    """A log search alert fires a new alert instance (a new alertId) each time it fires when it
    does not resolve itself: its firings are one incident per rule, target and dimensions,
    another dimension's is another, and a stateful one's Resolved closes it."""
    first = sample("azure/log-stateless-fired.json")
    again = one(sample("azure/log-stateless-fired-again.json"))
    assert one(first).fingerprint == again.fingerprint
    other = json.loads(json.dumps(first))
    other["data"]["alertContext"]["condition"]["allOf"][0]["dimensions"] = [
        {"name": "Computer", "value": "orders-api-2"}
    ]
    assert one(other).fingerprint != again.fingerprint
    resolved = json.loads(json.dumps(first))
    resolved["data"]["essentials"]["monitorCondition"] = "Resolved"
    assert (one(resolved).status, one(resolved).fingerprint) == (Status.RESOLVED, again.fingerprint)


@pytest.mark.parametrize(
    ("current", "expected"),
    [("Degraded", Status.FIRING), ("Unavailable", Status.FIRING), ("Available", Status.RESOLVED)],
)
def test_azure_resource_health_states(current: str, expected: Status) -> None:
    """Each health status Resource Health names is its state."""
    body = sample("azure/resource-health-unavailable.json")
    body["data"]["alertContext"]["properties"]["currentHealthStatus"] = current
    assert one(body).status is expected


def test_azure_resource_health_unknown_changes_no_ticket() -> None:
    """Health "Unknown" (Azure lost the signal) says nothing of an outage: skipped."""
    body = sample("azure/resource-health-unavailable.json")
    body["data"]["alertContext"]["properties"]["currentHealthStatus"] = "Unknown"
    result = run(body)
    assert result.alerts == () and [s.reason for s in result.skipped] == ["no_state_change"]


def test_azure_resource_health_without_a_status_reads_the_operation() -> None:
    """Without currentHealthStatus the operation name (…/Resolved/action) says the state; with
    neither, a clear error names the field."""
    body = sample("azure/resource-health-available.json")
    del body["data"]["alertContext"]["properties"]["currentHealthStatus"]
    assert one(body).status is Status.RESOLVED
    del body["data"]["alertContext"]["operationName"]
    with pytest.raises(InvalidAlertError, match="currentHealthStatus"):
        run(body)


def test_azure_legacy_log_alert_is_refused_naming_the_fix() -> None:
    """The older log alert webhook (no schemaId: WorkspaceId, AlertRuleName, SearchQuery …) is
    refused with what to do, not as an unknown format."""
    body = {"WorkspaceId": "12345a-1234b-123c-123d-12345678e", "AlertRuleName": "AcmeRule",
            "SearchQuery": "search *", "SearchResult": {"tables": []}, "Severity": "Warning"}  # fmt: skip
    with pytest.raises(InvalidAlertError, match="common alert schema"):
        run(body)


@pytest.mark.parametrize("schema", ["AzureMonitorMetricAlert", "Microsoft.Insights/activityLogs"])
def test_azure_legacy_schemas_are_refused_naming_the_fix(schema: str) -> None:
    """Azure's older, per-type schemas are refused with what to do: turn the common alert
    schema on in the action group."""
    body = {"schemaId": schema, "data": {"status": "Activated", "context": {"name": "x"}}}
    with pytest.raises(InvalidAlertError, match="common alert schema"):
        run(body)


# --- every tool: repeats and recovery are one incident; tests, pings and notes skipped --------

#: (firing, resolved, source): a trigger and its recovery as the tool sends them.
PAIRS = [
    ("datadog/keep-triggered.json", "datadog/keep-recovered.json", "datadog"),
    (
        "pagerduty/triggered.json",
        "pagerduty/resolved.json",
        "pagerduty",
    ),
    ("opsgenie/create.json", "opsgenie/close.json", "opsgenie"),
    ("opsgenie/create.json", "opsgenie/delete.json", "opsgenie"),
    ("newrelic/created.json", "newrelic/closed.json", "newrelic"),
    ("gcp/uptime-open.json", "gcp/uptime-closed.json", "gcp"),
    ("generic/script-firing.json", "generic/script-resolved.json", "generic"),
    ("uptimerobot/snake-down.json", "uptimerobot/snake-up.json", "uptimerobot"),
    (
        "azure/service-health-active.json",
        "azure/service-health-resolved.json",
        "azure",
    ),
    (
        "azure/resource-health-unavailable.json",
        "azure/resource-health-available.json",
        "azure",
    ),
]
#: Notifications understood to change no ticket, and why.
QUIET = [
    ("pagerduty/ping.json", "test_notification"),
    ("pagerduty/annotated.json", "no_state_change"),
    ("opsgenie/addnote.json", "no_state_change"),
    ("newrelic/acknowledged-by-user.json", "no_state_change"),
]


@pytest.mark.parametrize(("firing", "resolved", "source"), PAIRS)
def test_trigger_repeat_and_recovery_share_one_fingerprint(
    firing: str, resolved: str, source: str
) -> None:
    """A tool's trigger, the same trigger again and its recovery: one fingerprint, firing then
    resolved, from the tool's own source name."""
    first, again, last = one(sample(firing)), one(sample(firing)), one(sample(resolved))
    assert first.fingerprint == again.fingerprint == last.fingerprint
    assert (first.status, last.status) == (Status.FIRING, Status.RESOLVED)
    assert first.source == last.source == source


@pytest.mark.parametrize(("name", "reason"), QUIET)
def test_pings_tests_and_notes_change_no_ticket(name: str, reason: str) -> None:
    """A ping, a test or a note on an incident is skipped with its reason, never a ticket."""
    result = run(sample(name))
    assert result.alerts == () and [s.reason for s in result.skipped] == [reason]


def test_pagerduty_fields() -> None:
    """PagerDuty's incident link, urgency as severity, and its P1..P5 priority (a later event
    of the incident) are read."""
    alert = one(sample("pagerduty/triggered.json"))
    assert alert.links["source"] == "https://pig208.pagerduty.com/incidents/PFQZPSY"
    assert (alert.severity, alert.priority) == ("high", None)
    body = sample("pagerduty/triggered.json")
    body["event"]["data"]["priority"] = {"summary": "P2", "type": "priority_reference"}
    assert one(body).priority is Priority.HIGH


# --- Datadog: the templates in use name its variables their own way ---------------------------


def test_datadog_keep_template_is_keyed_by_its_monitor_id_and_linked() -> None:
    """Keep's template names $ALERT_ID `monitor_id`, $LINK `url` and $ALERT_PRIORITY
    `severity`: the monitor keys the alert (a renamed monitor is the same incident), the link
    is the event's, and P2 is its priority though the title states none."""
    body = sample("datadog/keep-triggered.json")
    alert = one(body)
    assert alert.links["source"] == body["url"]
    assert alert.labels["monitor_id"] == "12345678"
    renamed = dict(body, title="[Triggered on {host:web-1}] CPU very high on web-1")
    assert one(renamed).fingerprint == alert.fingerprint
    assert one(renamed).priority is Priority.HIGH
    assert one(dict(body, severity="")).priority is Priority.HIGH  # the title's [P2]


def test_datadog_nested_template_reads_its_alert_object() -> None:
    """A template that nests the monitor's variables under `alert` (id, transition, scope,
    type) is read from there; Datadog's event priority "normal" is no ticket priority."""
    body = sample("datadog/nested-triggered.json")
    alert = one(body)
    assert (alert.labels["monitor_id"], alert.severity, alert.priority) == (
        "12345678", "error", None
    )  # fmt: skip
    recovered = json.loads(json.dumps(body))
    recovered["title"] = "[Recovered on {host:web-1}] CPU high"
    recovered["alert"].update(transition="Recovered", type="success")
    assert one(recovered).fingerprint == alert.fingerprint
    assert one(recovered).status is Status.RESOLVED


def test_datadog_zenduty_template_reads_its_message_and_time() -> None:
    """Zenduty's template names $TEXT_ONLY_MSG `event_msg` and $DATE_POSIX `date_posix`: the
    message is the description and the time is the alert's."""
    alert = one(sample("datadog/zenduty-triggered.json"))
    assert "CPU usage is over 90% on web-1." in alert.description
    assert alert.occurred_at.isoformat().startswith("2026-11-23T")


def test_datadog_group_from_a_scope_field_keeps_hosts_apart() -> None:
    """When the title names no group but the template sends $ALERT_SCOPE, each group is its
    own incident: one host's recovery never closes another's."""
    body = dict(sample("datadog/keep-triggered.json"), title="[Triggered] CPU high")
    other = dict(body, scopes="host:web-2")
    assert one(body).fingerprint != one(other).fingerprint
    assert one(body).title == "CPU high on host:web-1"


def test_generic_link_is_its_source_link() -> None:
    """A script (or a tool's template read as generic) that names its link `link` rather than
    `url` keeps it."""
    alert = one(sample("datadog/transition-triggered.json"))
    assert alert.source == "generic" and alert.links["source"].startswith("https://app.datadoghq")


# --- Google Cloud Monitoring ------------------------------------------------------------------


def test_gcp_uptime_check_incident_names_its_resource() -> None:
    """An uptime check's incident (no project, no resource display name, only its
    resource_name) is titled by its policy and resource, and linked to the incident."""
    alert = one(sample("gcp/uptime-open.json"))
    assert alert.title == "api - noc - users on Uptime Check URL labels {host=MYHOST}"
    assert alert.links["source"].startswith("https://app.google.stackdriver.com/incidents/")


def test_gcp_acknowledged_incident_changes_no_ticket() -> None:
    """A person acknowledging the incident in Cloud Monitoring is no state change: skipped."""
    body = sample("gcp/uptime-open.json")
    body["incident"]["state"] = "acknowledged"
    result = run(body)
    assert result.alerts == () and [s.reason for s in result.skipped] == ["no_state_change"]


# --- scripts on the generic path --------------------------------------------------------------


def test_generic_numbers_as_text_read_as_numbers_would_be() -> None:
    """A script's severity, priority and time given as text ("2", "1", "1795424400") read as
    the same values given as numbers: one incident, one priority, one time."""
    firing, resolved = (
        one(sample("generic/script-firing.json")),
        one(sample("generic/script-resolved.json")),
    )
    assert (firing.priority, resolved.priority) == (Priority.HIGH, Priority.HIGH)
    assert (firing.severity, resolved.severity) == ("2", "2")
    assert firing.occurred_at.timestamp() == 1795424400


def test_generic_message_details_and_tags_are_shown() -> None:
    """Without a description, a script's `message` is one and its nested `details` follow it a
    field a line; its `tags` array is a label."""
    alert = one(sample("generic/script-firing.json"))
    assert alert.description.startswith("/var is 97.5% full")
    assert "used_pct: 97.5" in alert.description and 'mounts: ["/","/var"]' in alert.description
    assert alert.labels["tags"] == "db,prod"
    described = dict(sample("generic/script-firing.json"), description="Disk nearly full")
    assert one(described).description.startswith("Disk nearly full")
    assert "/var is 97.5% full" not in one(described).description


@pytest.mark.parametrize("details", [None, "", "text details", 42, ["a", {"b": 1}], {}])
def test_generic_details_of_any_shape_cost_nothing(details: Any) -> None:
    """`details` as null, text, a number, an array or an empty object is shown as given (or
    not at all), never a refusal."""
    alert = one(dict(sample("generic/script-firing.json"), details=details))
    assert alert.title == "Disk full on db-1"


@pytest.mark.parametrize("state", ["CRITICAL", "WARNING", "UNREACHABLE", "Critical"])
def test_generic_nagios_states_fire_and_ok_resolves(state: str) -> None:
    """A script forwarding a Nagios or Icinga check (`"status": "CRITICAL"`, WARNING, a host's
    UNREACHABLE) fires, and its OK resolves the same incident, instead of a refusal."""
    body = {"title": "HTTP on web-1", "status": state, "host": "web-1"}
    firing, ok = one(body), one(dict(body, status="OK"))
    assert (firing.status, ok.status) == (Status.FIRING, Status.RESOLVED)
    assert firing.fingerprint == ok.fingerprint


# --- Splunk -----------------------------------------------------------------------------------


def test_splunk_without_results_link_is_read() -> None:
    """A Splunk alert action body without `results_link` (Zulip's fixture of a real-time
    search) is still Splunk's, keyed by its search, not an unknown format."""
    alert = one(sample("splunk/realtime-no-results-link.json"))
    assert (alert.source, alert.title, alert.links) == ("splunk", "sudo", {})


def test_splunk_realtime_runs_of_an_unnamed_search_are_one_incident() -> None:
    """A real-time search's sid ends "_at_<time>_<n>.<m>": every run of one unnamed search is
    one incident, its run suffix dropped."""
    first = sample("splunk/realtime-unnamed.json")
    later = dict(first, sid="rt_scheduler__admin__search__sudo_at_1483557185_2.3")
    assert one(first).fingerprint == one(later).fingerprint
    assert one(first).labels["search"] == "rt_scheduler__admin__search__sudo"


# --- UptimeRobot ------------------------------------------------------------------------------


def test_uptimerobot_template_in_snake_case_is_read() -> None:
    """A webhook body that names UptimeRobot's variables in snake_case (Zulip's documented
    template: monitor_friendly_name, alert_type …) is UptimeRobot's, read as the camelCase one."""
    alert = one(sample("uptimerobot/snake-down.json"))
    assert (alert.source, alert.title) == ("uptimerobot", "Web Server")
    assert "Host Is Unreachable" in alert.description
    camel = {"monitorFriendlyName": "Web Server", "monitorURL": "server1.example.com",
             "alertType": "1", "alertTypeFriendlyName": "Down"}  # fmt: skip
    assert one(camel).fingerprint == alert.fingerprint


# --- Dynatrace and Better Stack: the states their documentation names ---------------------------


def test_dynatrace_merged_problem_resolves_its_own_key() -> None:
    """MERGED is understood (not the DLQ): the merged problem is over, so it resolves its own
    PID's incident; the problem it joined goes on under its own PID."""
    merged = dict(sample("tools/dynatrace-open.json"), State="MERGED")
    assert one(merged).status is Status.RESOLVED
    assert one(merged).fingerprint == one(sample("tools/dynatrace-open.json")).fingerprint


@pytest.mark.parametrize(
    ("status", "expected"), [("Started", Status.FIRING), ("Resolved", Status.RESOLVED)]
)
def test_betterstack_incident_without_event_reads_its_status(status: str, expected: Status) -> None:
    """A Better Stack incident sent without the `event` beside it (the resource as its API
    gives it) is read by its own `attributes.status`, not refused as an unknown format."""
    body = sample("betterstack/incident-no-event-started.json")
    body["data"]["attributes"]["status"] = status
    alert = one(body)
    assert (alert.source, alert.status, alert.title) == ("betterstack", expected, "Checkout API")


def test_betterstack_incident_without_event_acknowledged_changes_no_ticket() -> None:
    """Its Acknowledged status is no state change: skipped."""
    body = sample("betterstack/incident-no-event-started.json")
    body["data"]["attributes"]["status"] = "Acknowledged"
    assert [s.reason for s in run(body).skipped] == ["no_state_change"]


# --- New Relic --------------------------------------------------------------------------------


def test_newrelic_custom_template_without_title_is_read() -> None:
    """A workflow template that sends the issue's id, link and state but no `title` (Zulip's
    fixture) is New Relic's: titled by its condition, described by its details."""
    alert = one(sample("newrelic/custom-no-title.json"))
    assert (alert.source, alert.status, alert.title) == ("newrelic", Status.FIRING, "Server Down")
    assert alert.description == "Violation description test."
    assert alert.links["source"].startswith("https://alerts.newrelic.com/")


def test_newrelic_default_payload_fields() -> None:
    """The default payload's priority, policy, condition and entity are read."""
    alert = one(sample("newrelic/created.json"))
    assert (alert.priority, alert.labels["policy"], alert.labels["condition"]) == (
        Priority.CRITICAL, "Golden Signals", "High CPU"
    )  # fmt: skip
    assert alert.labels["entities"] == "MAIN-APP-UBUNTU"


# --- Uptime Kuma: its three ways to send --------------------------------------------------------


@pytest.mark.parametrize("name", ["uptimekuma/form-data-down.json", "uptimekuma/get-down.json"])
def test_uptime_kuma_form_data_and_get_are_its_json_alert(name: str) -> None:
    """Uptime Kuma's "form-data" body (one field, `data`, holding the JSON) and its GET (the
    query's `heartbeat` and `monitor` as JSON text) are the alert its JSON body is: same
    fingerprint, state and title."""
    sent = one(sample("uptimekuma/json-down.json"))
    other = one(sample(name))
    assert (other.fingerprint, other.status, other.title) == (sent.fingerprint, sent.status, "Shop")


def test_uptime_kuma_broken_embedded_json_is_refused_naming_it() -> None:
    """A `heartbeat` that is text but no JSON is refused, naming the field."""
    body = dict(sample("uptimekuma/get-down.json"), heartbeat="{not json")
    with pytest.raises(TriageError, match="heartbeat"):
        run(body)


# --- every sample: garbage anywhere fails cleanly -----------------------------------------------

#: The samples this file reads: `test_normalize_hostile` swaps garbage into every field of one
#: representative per format only, so each of these is walked here.
SAMPLES = sorted(
    {
        *(name for pair in PAIRS for name in pair[:2]),
        *(name for name, _ in QUIET),
        "datadog/nested-triggered.json",
        "datadog/transition-triggered.json",
        "datadog/zenduty-triggered.json",
        "azure/log-stateless-fired.json",
        "azure/log-stateless-fired-again.json",
        "azure/service-health-update.json",
        "newrelic/custom-no-title.json",
        "splunk/realtime-no-results-link.json",
        "splunk/realtime-unnamed.json",
        "uptimekuma/form-data-down.json",
        "uptimekuma/get-down.json",
        "uptimekuma/json-down.json",
        "betterstack/incident-no-event-started.json",
        "tools/dynatrace-open.json",
    }
)


@pytest.mark.parametrize("name", SAMPLES)
def test_garbage_in_any_field_fails_cleanly(name: str) -> None:
    """Any field of a real-world sample swapped for garbage gives alerts or a deliberate
    TriageError, never a crash wrapped as a malformed payload."""
    payload = sample(name)
    for path in paths(payload):
        for hostile in HOSTILE_VALUES:
            result = outcome(replaced(payload, path, hostile))
            if isinstance(result, TriageError):
                assert result.__cause__ is None, (path, hostile, result.__cause__)
                continue
            for alert in result.alerts:
                assert alert.title and alert.occurred_at.tzinfo is not None
