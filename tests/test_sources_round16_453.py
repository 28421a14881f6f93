"""Alert sources, round 16 (helper 453): Netdata Cloud's webhook as a source, and alerts other
real senders send that triage read wrongly, built from the tools' documented payloads."""

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


# --- Netdata Cloud: the webhook integration's alert, reachability and test bodies ---------------

#: learn.netdata.cloud, "Webhook" (Alerts & Notifications > centralized cloud notifications):
#: an alert notification's documented fields, as Netdata Cloud posts them.


def _netdata(severity: str = "critical", **more: Any) -> dict[str, Any]:
    """An alert notification of alert `disk_space_usage` on chart `disk_space._` in space
    `ops`, at `severity`, with any field replaced by `more`."""
    body: dict[str, Any] = {
        "message": "Disk / space utilization is at 96%",
        "alert": "disk_space_usage",
        "info": "Disk / space utilization",
        "chart": "disk_space._",
        "context": "disk.space",
        "space": "ops",
        "Rooms": {"All nodes": "https://app.netdata.cloud/spaces/ops/rooms/all-nodes"},
        "family": "/",
        "class": "Utilization",
        "severity": severity,
        "date": "2026-11-23T09:00:00Z",
        "duration": "1 minute",
        "additional_active_critical_alerts": 0,
        "additional_active_warning_alerts": 1,
        "alert_url": "https://app.netdata.cloud/spaces/ops/rooms/all-nodes/alerts/12345",
    }
    body.update(more)
    return body


def _reachability(reachable: bool, host: str = "web-01") -> dict[str, Any]:
    """A reachability notification of node `host`, as the webhook documents it."""
    return {
        "message": f"{host} is {'reachable' if reachable else 'unreachable'}",
        "url": "https://app.netdata.cloud/spaces/ops/nodes/6a4b",
        "host": host,
        "severity": "info" if reachable else "critical",
        "status": {"reachable": reachable, "text": "reachable" if reachable else "unreachable"},
    }


#: What the configuration's Test button posts: the token the dialog asks for, in a body with a
#: `title` (netdata's payload fixture in public receivers; the docs: "Token will be embedded in
#: the payload").
_NETDATA_TEST = {
    "message": "This is a Test Notification. If you're receiving it, your Webhook integration "
    "is configured properly!",
    "title": "Test Notification",
    "token": "2b633082-34ec-4ec3-946c-5e81076c39af",
}


def test_a_netdata_critical_alert_is_read_as_netdata_and_fires() -> None:
    """A critical alert is Netdata's (never refused as an unknown format, which sends every
    Netdata alert to the dead-letter queue): it fires critical, titled by its alert and
    chart, dated by its date, linked to Netdata Cloud, its message shown."""
    assert recognise_body(json.dumps(_netdata())).format == "netdata"
    alert = _only(_netdata())
    assert (alert.source, alert.status, alert.priority) == (
        "netdata",
        Status.FIRING,
        Priority.CRITICAL,
    )
    assert "disk_space_usage" in alert.title
    assert alert.occurred_at.isoformat() == "2026-11-23T09:00:00+00:00"
    assert alert.links["source"].startswith("https://app.netdata.cloud/")
    assert "96%" in alert.description
    assert (alert.labels["chart"], alert.labels["space"]) == ("disk_space._", "ops")


def test_a_netdata_warning_fires_medium_and_its_clear_resolves_the_same_incident() -> None:
    """A warning fires medium; critical and clear of the same alert on the same chart are one
    incident, the clear resolving it; another chart's alert is another incident."""
    warning = _only(_netdata("warning"))
    critical = _only(_netdata("critical"))
    clear = _only(_netdata("clear", duration="12 minutes", message="back to normal"))
    assert (warning.status, warning.priority) == (Status.FIRING, Priority.MEDIUM)
    assert clear.status is Status.RESOLVED
    assert warning.fingerprint == critical.fingerprint == clear.fingerprint
    other = _only(_netdata(chart="disk_space._var"))
    assert other.fingerprint != critical.fingerprint
    other_space = _only(_netdata(space="staging"))
    assert other_space.fingerprint != critical.fingerprint


def test_a_netdata_renotification_keeps_the_incident_whatever_its_counts_or_link() -> None:
    """What changes between two notifications of one alert (its message, counts, duration,
    date, link) is no identity: the repeat is the same incident."""
    first = _only(_netdata())
    again = _only(
        _netdata(
            message="Disk / space utilization is at 99%",
            additional_active_critical_alerts=3,
            duration="2 hours",
            date="2026-11-23T11:00:00Z",
            alert_url="https://app.netdata.cloud/spaces/ops/rooms/all-nodes/alerts/99999",
        )
    )
    assert again.fingerprint == first.fingerprint


def test_a_netdata_node_unreachable_fires_and_reachable_resolves_it() -> None:
    """A node gone unreachable fires critical; its reachable notice resolves the same
    incident; another node is its own."""
    down = _only(_reachability(False))
    up = _only(_reachability(True))
    assert (down.source, down.status, down.priority) == (
        "netdata",
        Status.FIRING,
        Priority.CRITICAL,
    )
    assert "web-01" in down.title
    assert up.status is Status.RESOLVED
    assert up.fingerprint == down.fingerprint
    assert _only(_reachability(False, "web-02")).fingerprint != down.fingerprint


def test_netdata_s_test_notification_opens_no_ticket_and_its_log_line_gives_the_token() -> None:
    """The Test button's body is skipped as a test: it opened a generic ticket titled "Test
    Notification". Netdata's dialog asks for the token it carries, so the skip's log line
    quotes it; text in no token's shape is never quoted."""
    read = _read(_NETDATA_TEST)
    assert [skip.reason for skip in read.skipped] == ["test_notification"]
    assert read.alerts == ()
    assert _NETDATA_TEST["token"] in read.skipped[0].detail
    hostile = {**_NETDATA_TEST, "token": "x\nFAKE LOG LINE <script>"}
    [skip] = _read(hostile).skipped
    assert "FAKE" not in skip.detail and "<script>" not in skip.detail


def test_a_script_s_generic_alert_titled_like_the_test_is_still_an_alert() -> None:
    """Only the test's own shape (its token beside that title and message) is the test: a
    script's alert with a title and a status stays a generic alert."""
    body = {"title": "Test Notification", "message": "disk full", "status": "firing"}
    assert _only(body).source == "generic"


@pytest.mark.parametrize("severity", ["CRITICAL", " Warning "])
def test_netdata_severity_is_read_in_any_case(severity: str) -> None:
    """Severity is a word in any case or spacing: never refused for its spelling."""
    assert _only(_netdata(severity)).status is Status.FIRING


def test_an_unknown_netdata_severity_is_refused_naming_it() -> None:
    """A severity that is not critical, warning or clear is refused, naming it, not guessed."""
    with pytest.raises(InvalidAlertError, match="removed"):
        _read(_netdata("removed"))


# --- Bugsnag: the integration's test event --------------------------------------------------

#: The test event Bugsnag's notification plugins fire (bugsnag/bugsnag-notification-plugins,
#: notification-plugin.js `fireTestEvent`, posted whole by its webhook plugin): the example
#: error of project Example.com, with no account and no `errorId`.
_BS_TEST = {
    "error": {
        "exceptionClass": "ExampleException",
        "message": "Something really bad happened",
        "context": "home#example",
        "appVersion": "1.0.0",
        "releaseStage": "production",
        "occurrences": 42,
        "firstReceived": "2026-11-23T09:00:00.000Z",
        "usersAffected": 20,
        "url": "http://bugsnag.com/errors/example/events/example",
        "stacktrace": [
            {
                "file": "app/controllers/home_controller.rb",
                "lineNumber": 123,
                "method": "example",
                "inProject": True,
            }
        ],
    },
    "project": {"name": "Example.com", "url": "http://bugsnag.com/projects/example"},
    "trigger": {"type": "firstException", "message": "New exception"},
}


def test_bugsnag_s_test_event_is_skipped_not_refused() -> None:
    """The test event is known as Bugsnag's and skipped as a test: it was refused as an
    unknown format (no `account`), so the integration's test read as broken and the body
    went to the dead-letter queue."""
    assert recognise_body(json.dumps(_BS_TEST)).format == "bugsnag"
    assert _skip_reasons(_BS_TEST) == ["test_notification"]


def test_bugsnag_s_test_event_with_an_account_is_skipped_too() -> None:
    """A Bugsnag that adds its account to the test event still sends the example error, which
    has no `errorId`: skipped as the test, not refused for the missing id."""
    body = {**_BS_TEST, "account": {"name": "Acme", "url": "https://app.bugsnag.com/acme"}}
    assert _skip_reasons(body) == ["test_notification"]


def test_a_real_bugsnag_error_at_an_example_url_with_its_id_still_fires() -> None:
    """Only the example error without an id is the test: a real error (its `errorId` given)
    fires whatever its link says."""
    body = {
        **_BS_TEST,
        "account": {"name": "Acme"},
        "error": {**_BS_TEST["error"], "errorId": "56b9ca7f17025f8756f69057"},
    }
    alert = _only(body)
    assert (alert.source, alert.status) == ("bugsnag", Status.FIRING)
