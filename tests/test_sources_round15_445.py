"""Alert sources, round 15 (helper 445): Site24x7's webhook as a source, and alerts other real
senders send that triage read wrongly, built from the tools' documented payloads."""

from __future__ import annotations

import json
from typing import Any

import pytest

from triage.errors import InvalidAlertError
from triage.models import Alert, Priority, Status
from triage.normalize import normalize_body, recognise_body
from triage.normalize.common import Normalized


def _read(body: dict[str, Any]) -> Normalized:
    """What `body` becomes."""
    return normalize_body(json.dumps(body))


def _only(body: dict[str, Any]) -> Alert:
    """The one alert `body` becomes."""
    [alert] = _read(body).alerts
    return alert


def _skip_reasons(body: dict[str, Any]) -> list[str]:
    """Why `body` changes no ticket: its skips' reasons (and it makes no alert)."""
    read = _read(body)
    assert read.alerts == ()
    return [skip.reason for skip in read.skipped]


# --- Site24x7: the webhook's incident parameters ----------------------------------------------

_S247_DASHBOARD = "https://www.site24x7.com/app/client#/home/monitors/{id}/Summary"


def _site24x7(
    status: str = "DOWN", monitor: int = 107164000000025001, **more: Any
) -> dict[str, Any]:
    """The incident parameters Site24x7 posts as JSON for monitor `monitor` (the body its
    integrations document), with `status` and any field replaced by `more`."""
    body: dict[str, Any] = {
        "MONITOR_DASHBOARD_LINK": _S247_DASHBOARD.format(id=monitor),
        "MONITORTYPE": "URL",
        "MONITOR_ID": monitor,
        "STATUS": status,
        "MONITORNAME": "Zylker Monitor",
        "FAILED_LOCATIONS": "California-US",
        "INCIDENT_DETAILS": "Service Unavailable",
        "INCIDENT_REASON": "Service Unavailable",
        "OUTAGE_TIME_UNIX_FORMAT": 1705551700037,
        "GROUP_TAGS": ["ZylkerGrp", "URL"],
        "MONITORURL": "http://zylker.com",
        "MONITOR_GROUPNAME": "Zylker Web Group",
        "POLLFREQUENCY": 1,
        "TAGS": ["zylker", "website"],
        "INCIDENT_TIME": "18 Jan 2024 03:21:35 AEDT",
        "INCIDENT_TIME_ISO": "2024-01-17T20:21:35-0800",
    }
    body.update(more)
    return body


def test_a_site24x7_down_is_read_as_site24x7_and_fires_critical() -> None:
    """A monitor gone DOWN is Site24x7's (not an unknown format): it fires, critical, titled by
    the monitor, dated by its ISO incident time, linked to its dashboard, its reason shown."""
    assert recognise_body(json.dumps(_site24x7())).format == "site24x7"
    alert = _only(_site24x7())
    assert (alert.source, alert.status, alert.priority) == (
        "site24x7",
        Status.FIRING,
        Priority.CRITICAL,
    )
    assert alert.title == "Zylker Monitor is DOWN"
    assert alert.occurred_at.isoformat() == "2024-01-18T04:21:35+00:00"
    assert alert.links["dashboard"] == _S247_DASHBOARD.format(id=107164000000025001)
    assert "Service Unavailable" in alert.description
    assert "California-US" in alert.description
    assert alert.labels["monitor_type"] == "URL"
    assert alert.labels["failed_locations"] == "California-US"


def test_a_site24x7_up_resolves_its_down_and_another_monitor_is_its_own() -> None:
    """UP resolves the incident its DOWN opened; another monitor of the same name is another
    incident, so its recovery never closes the first."""
    down = _only(_site24x7())
    up = _only(_site24x7("UP"))
    assert up.status is Status.RESOLVED
    assert up.fingerprint == down.fingerprint
    other = _only(_site24x7(monitor=107164000000025999))
    assert other.fingerprint != down.fingerprint


@pytest.mark.parametrize(
    ("status", "priority"),
    [("CRITICAL", Priority.HIGH), ("TROUBLE", Priority.MEDIUM), ("trouble", Priority.MEDIUM)],
)
def test_site24x7_threshold_states_fire_below_down(status: str, priority: Priority) -> None:
    """A critical threshold fires high and a trouble (warning) one medium: below an outage,
    and never left without a priority."""
    alert = _only(_site24x7(status))
    assert (alert.status, alert.priority) == (Status.FIRING, priority)


def test_a_site24x7_monitor_is_one_incident_by_id_as_number_text_or_link() -> None:
    """MONITOR_ID as the number Site24x7 sends, as a template's text, or missing (read from
    the dashboard link, any data centre) keys one incident: a DOWN and its UP sent either way
    match."""
    by_number = _only(_site24x7())
    by_text = _only(_site24x7(MONITOR_ID="107164000000025001"))
    no_id = _site24x7("UP")
    del no_id["MONITOR_ID"]
    no_id["MONITOR_DASHBOARD_LINK"] = (
        "https://www.site24x7.eu/app/client#/home/monitors/107164000000025001/Summary"
    )
    by_link = _only(no_id)
    assert by_number.fingerprint == by_text.fingerprint == by_link.fingerprint
    assert by_link.status is Status.RESOLVED


def test_a_site24x7_alert_with_no_monitor_id_anywhere_is_refused() -> None:
    """A body with neither MONITOR_ID nor a monitor in its link cannot be keyed: refused with
    a clear error, never filed under its name."""
    body = _site24x7(MONITOR_DASHBOARD_LINK="https://www.site24x7.com")
    del body["MONITOR_ID"]
    with pytest.raises(InvalidAlertError, match="MONITOR_ID"):
        _read(body)


@pytest.mark.parametrize("status", ["MAINTENANCE", "SUSPENDED"])
def test_a_site24x7_monitor_out_of_watch_changes_no_ticket(status: str) -> None:
    """A monitor put in maintenance or suspended is no outage and no recovery: Skipped."""
    assert _skip_reasons(_site24x7(status)) == ["no_state_change"]


def test_an_unknown_site24x7_status_is_refused_naming_it() -> None:
    """A status triage does not know is refused, naming it, not guessed to fire or resolve."""
    with pytest.raises(InvalidAlertError, match="CONFIGURATION_ERROR"):
        _read(_site24x7("CONFIGURATION_ERROR"))


def test_site24x7_tags_with_values_are_labels_and_team_its_team() -> None:
    """Tags "key:value" are labels by their keys (routes match env) and `team` the alert's
    team; bare tags are listed; tags are never identity."""
    alert = _only(_site24x7(TAGS=["env:prod", "team:payments", "website"]))
    assert alert.labels["env"] == "prod"
    assert alert.team == "payments"
    assert "website" in alert.labels["tags"]
    assert alert.fingerprint == _only(_site24x7()).fingerprint


def test_site24x7_incident_parameters_posted_as_a_form_read_alike() -> None:
    """Without "Post as JSON" every parameter arrives as text (the gateway queues a form's
    fields as JSON strings): the same incident, priority and tag labels as the JSON body."""
    as_json = _only(_site24x7(TAGS=["env:prod", "team:web"]))
    as_form = _only(
        {
            key: value
            if isinstance(value, str)
            else ",".join(value)
            if isinstance(value, list)
            else str(value)
            for key, value in _site24x7(TAGS=["env:prod", "team:web"]).items()
        }
    )
    assert as_form.fingerprint == as_json.fingerprint
    assert (as_form.priority, as_form.team, as_form.labels["env"]) == (
        Priority.CRITICAL,
        "web",
        "prod",
    )


# --- Honeybadger: a v3 bulk action names its faults by id only ---------------------------------

#: The v3 payload's `commented` and `assigned` of a bulk action (several faults at once) send
#: `fault_ids` in place of `fault` (docs.honeybadger.io, payloads/v3/commented.schema.json).
_HB_V3_BULK = {
    "payload_version": "v3",
    "project": {"id": "52310", "name": "Crywolf"},
    "links": {"project": "https://app.honeybadger.io/projects/52310"},
    "actor": {"id": "3", "name": "Joshua Wood", "email": "josh@example.com"},
    "fault_ids": ["14108233", "14108234"],
}


@pytest.mark.parametrize(
    ("event", "record"),
    [
        ("commented", {"comment": {"id": "9", "body": "Looking into these."}}),
        ("assigned", {"assignee": {"id": "1", "name": "Ben", "email": "ben@example.com"}}),
    ],
)
def test_a_honeybadger_v3_bulk_comment_or_assignment_changes_no_ticket(
    event: str, record: dict[str, Any]
) -> None:
    """A comment or assignment made on several faults at once is understood and changes no
    ticket, as one fault's is: never refused as an unknown format (Honeybadger retries a
    refused delivery and may turn the webhook off)."""
    body = {"event": event, "message": f"[Crywolf] 2 faults {event}", **_HB_V3_BULK, **record}
    assert _skip_reasons(body) == ["no_state_change"]


# --- Rollbar: the webhook settings' test notification ------------------------------------------

#: What Rollbar's "Send Test Notification" posts (zulip/zulip, zerver/webhooks/rollbar/fixtures/
#: test.json; Mattermost's Rollbar plugin answers the same body): no item, no deploy.
_RB_TEST = {
    "event_name": "test",
    "data": {"message": "This is a test payload from Rollbar. If you got this, it works!"},
}


def test_rollbar_s_test_notification_is_skipped_not_refused() -> None:
    """Rollbar's test body is known as Rollbar's and skipped as a test: it opens no ticket and
    is not refused as an unknown format (a refused test reads as a broken webhook, and Rollbar
    retries it for 16 days into the dead-letter queue)."""
    assert recognise_body(json.dumps(_RB_TEST)).format == "rollbar"
    assert _skip_reasons(_RB_TEST) == ["test_notification"]


def test_a_rollbar_body_named_test_with_an_item_is_still_an_item() -> None:
    """Only the test's own shape (no item, no deploy) is the test: any other event name with
    an item is skipped as an event triage does not read, never taken for a test."""
    body = {"event_name": "test", "data": {"item": {"id": 272716944, "title": "boom"}}}
    assert _skip_reasons(body) == ["no_state_change"]
