"""Other tools' webhooks as they are sent today (tests/real_world: the shapes of
Microsoft's Azure Monitor payload samples, Zulip's webhook fixtures, the Datadog templates
that Keep, ilert and Zenduty install): each read to the right state, title and link, keyed so
that its repeats and its recovery are one incident, and its test or ping skipped."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from triage.errors import InvalidAlertError
from triage.models import Alert, Status
from triage.normalize import Normalized, normalize_body

REAL_WORLD = Path(__file__).parent / "real_world"


def sample(name: str) -> dict[str, Any]:
    value: dict[str, Any] = json.loads((REAL_WORLD / name).read_text(encoding="utf-8"))
    return value


def run(body: dict[str, Any]) -> Normalized:
    return normalize_body(json.dumps(body))


def one(body: dict[str, Any]) -> Alert:
    [alert] = run(body).alerts
    return alert


# --- Azure Monitor: activity log alerts are stateless ------------------------------------------


def test_azure_service_health_updates_and_resolution_are_one_incident() -> None:
    """A Service Health event's notifications (each its own alert instance, all "Fired") are
    one incident keyed by its tracking id, and its Resolved stage resolves it."""
    active, update, resolved = (
        one(sample(f"azure-service-health-{name}.json"))
        for name in ("active", "update", "resolved")
    )
    assert active.fingerprint == update.fingerprint == resolved.fingerprint
    assert [a.status for a in (active, update, resolved)] == [
        Status.FIRING, Status.FIRING, Status.RESOLVED
    ]  # fmt: skip
    assert active.title == "Azure SQL Database - East US - Investigating"
    assert active.labels["tracking_id"] == "7TQN-1Z8"
    assert "<p>" not in active.description and "Engineers are investigating." in active.description


def test_azure_planned_maintenance_changes_no_ticket() -> None:
    """A Service Health maintenance notice is planned work: skipped with its reason."""
    body = sample("azure-service-health-active.json")
    body["data"]["alertContext"]["properties"].update(incidentType="Maintenance", stage="Planned")
    result = run(body)
    assert result.alerts == () and [s.reason for s in result.skipped] == ["maintenance"]


def test_azure_service_health_without_tracking_id_is_refused_naming_it() -> None:
    """A Service Health alert with no tracking id cannot be keyed: a clear error names it."""
    body = sample("azure-service-health-active.json")
    del body["data"]["alertContext"]["properties"]["trackingId"]
    with pytest.raises(InvalidAlertError, match="trackingId"):
        run(body)


def test_azure_service_health_unknown_stage_is_refused_naming_it() -> None:
    """A stage Azure has not documented is refused, naming the field, never guessed."""
    body = sample("azure-service-health-active.json")
    body["data"]["alertContext"]["properties"]["stage"] = "Sideways"
    with pytest.raises(InvalidAlertError, match="stage"):
        run(body)


def test_azure_resource_health_recovery_resolves_the_outage() -> None:
    """A resource's health events (each its own alert instance) are one incident per
    resource: Unavailable fires, Available resolves, and the resource id's case is Azure's
    whim, not another resource."""
    down = one(sample("azure-resource-health-unavailable.json"))
    up_body = sample("azure-resource-health-available.json")
    essentials = up_body["data"]["essentials"]
    essentials["alertTargetIDs"] = [essentials["alertTargetIDs"][0].lower()]
    up = one(up_body)
    assert (down.status, up.status) == (Status.FIRING, Status.RESOLVED)
    assert down.fingerprint == up.fingerprint
    assert "unexpected failure on the host server" in down.description


@pytest.mark.parametrize(
    ("current", "expected"),
    [("Degraded", Status.FIRING), ("Unavailable", Status.FIRING), ("Available", Status.RESOLVED)],
)
def test_azure_resource_health_states(current: str, expected: Status) -> None:
    """Each health status Resource Health names is its state."""
    body = sample("azure-resource-health-unavailable.json")
    body["data"]["alertContext"]["properties"]["currentHealthStatus"] = current
    assert one(body).status is expected


def test_azure_resource_health_unknown_changes_no_ticket() -> None:
    """Health "Unknown" (Azure lost the signal) says nothing of an outage: skipped."""
    body = sample("azure-resource-health-unavailable.json")
    body["data"]["alertContext"]["properties"]["currentHealthStatus"] = "Unknown"
    result = run(body)
    assert result.alerts == () and [s.reason for s in result.skipped] == ["no_state_change"]


def test_azure_resource_health_without_a_status_reads_the_operation() -> None:
    """Without currentHealthStatus the operation name (…/Resolved/action) says the state; with
    neither, a clear error names the field."""
    body = sample("azure-resource-health-available.json")
    del body["data"]["alertContext"]["properties"]["currentHealthStatus"]
    assert one(body).status is Status.RESOLVED
    del body["data"]["alertContext"]["operationName"]
    with pytest.raises(InvalidAlertError, match="currentHealthStatus"):
        run(body)


@pytest.mark.parametrize("schema", ["AzureMonitorMetricAlert", "Microsoft.Insights/activityLogs"])
def test_azure_legacy_schemas_are_refused_naming_the_fix(schema: str) -> None:
    """Azure's older, per-type schemas are refused with what to do: turn the common alert
    schema on in the action group."""
    body = {"schemaId": schema, "data": {"status": "Activated", "context": {"name": "x"}}}
    with pytest.raises(InvalidAlertError, match="common alert schema"):
        run(body)
