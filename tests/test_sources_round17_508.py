"""Sources, round 17 (helper 508): tools triage has no format for, posting their documented
webhook bodies to the generic path. Each must become the right incident, or a clear refusal."""

from __future__ import annotations

import json
from typing import Any

import pytest

from triage.errors import InvalidAlertError, UnknownFormatError
from triage.models import Alert, Status
from triage.normalize import normalize_body
from triage.normalize.common import Normalized


def _read(body: dict[str, Any]) -> Normalized:
    """What `body` becomes."""
    return normalize_body(json.dumps(body))


def _only(body: dict[str, Any]) -> Alert:
    """The one alert `body` becomes."""
    [alert] = _read(body).alerts
    return alert


# --- Oracle Cloud (OCI) Monitoring alarms, through a Notifications HTTPS subscription ---------


#: An alarm message as OCI documents it ("Alarm Message Format",
#: https://docs.oracle.com/iaas/Content/Monitoring/alarm-message-format.htm): `dedupeKey`
#: identifies the alarm (or its metric stream), `type` says why the message was sent
#: (OK_TO_FIRING, FIRING_TO_OK, REPEAT, RESET), `title` may hold dynamic variables.
def _oci(
    kind: str, title: str = "High CPU Utilization", at: str = "2026-11-16T22:21:00Z"
) -> dict[str, Any]:
    """The OCI alarm message of `kind`, titled `title`, evaluated `at`."""
    return {
        "dedupeKey": "exampleuniqueid",
        "title": title,
        "body": "CPU above 90% on the instance pool",
        "type": kind,
        "severity": "CRITICAL",
        "timestampEpochMillis": 1795385260000,
        "timestamp": at,
        "alarmMetaData": [
            {
                "id": "ocid1.alarm.oc1.phx.exampleuniqueid",
                "status": "OK" if kind in ("FIRING_TO_OK", "RESET") else "FIRING",
                "severity": "CRITICAL",
                "query": "CpuUtilization[1m].mean() > 90",
                "totalMetricsFiring": 1,
            }
        ],
        "notificationType": "Split messages per metric stream",
        "version": 1.5,
    }


def test_oci_alarm_ok_message_resolves_the_incident_its_firing_opened() -> None:
    """An OCI alarm's FIRING_TO_OK message resolves the incident its OK_TO_FIRING opened."""
    fired = _only(_oci("OK_TO_FIRING"))
    cleared = _only(_oci("FIRING_TO_OK", at="2026-11-16T22:40:00Z"))
    assert (fired.status, cleared.status) == (Status.FIRING, Status.RESOLVED)
    assert cleared.fingerprint == fired.fingerprint


def test_oci_alarm_repeat_fires_and_reset_resolves() -> None:
    """OCI's REPEAT (still firing) fires and RESET (the stream went away) resolves, one incident."""
    repeat = _only(_oci("REPEAT"))
    reset = _only(_oci("RESET"))
    assert (repeat.status, reset.status) == (Status.FIRING, Status.RESOLVED)
    assert repeat.fingerprint == reset.fingerprint == _only(_oci("OK_TO_FIRING")).fingerprint


def test_oci_alarm_is_keyed_by_its_dedupe_key_not_its_templated_title() -> None:
    """An OCI title built from OCI's own example variables ("{{severity}} alarm triggered at
    {{timestamp}}") changes each message: the alarm's `dedupeKey` keeps it one incident."""
    first = _only(_oci("OK_TO_FIRING", title="CRITICAL alarm triggered at 2026-11-16T22:21:00Z"))
    cleared = _only(_oci("FIRING_TO_OK", title="CRITICAL alarm triggered at 2026-11-16T22:40:00Z"))
    assert cleared.status is Status.RESOLVED
    assert cleared.fingerprint == first.fingerprint


def test_a_scripts_own_type_word_still_fires() -> None:
    """A script's `type` that names no state change ("backup") leaves its alert firing."""
    assert _only({"title": "nightly backup", "type": "backup"}).status is Status.FIRING


# --- Sematext Cloud alerts, through its Custom Webhook notification hook -----------------------


#: The Custom Webhook's default JSON (https://sematext.com/docs/integration/alerts-webhooks-integration/;
#: `back_to_normal` of the AlertNotification model in Sematext's API client): the same `title`
#: when the alert fires and when it is back to normal, told apart by `backToNormal`.
def _sematext(back_to_normal: str) -> dict[str, Any]:
    """Sematext's default webhook body, `$backToNormal` filled in as `back_to_normal`."""
    return {
        "backToNormal": back_to_normal,
        "ruleType": "AF_VALUE",
        "description": "CPU user time on web-1 is above 90%",
        "title": "web-1 CPU user time",
        "applicationId": "1234",
        "url": "https://apps.sematext.com/ui/alerts/1234",
        "createTimestamp": "2026-11-16T22:21:00Z",
        "troubleshootUrl": "https://apps.sematext.com/ui/monitoring/1234",
    }


def test_sematext_back_to_normal_resolves_its_alert() -> None:
    """Sematext's `backToNormal: true` resolves the incident its `false` opened."""
    fired = _only(_sematext("false"))
    normal = _only(_sematext("true"))
    assert (fired.status, normal.status) == (Status.FIRING, Status.RESOLVED)
    assert normal.fingerprint == fired.fingerprint


# --- health and presence words as a `status` --------------------------------------------------


@pytest.mark.parametrize(
    ("word", "status"),
    [
        # Argo CD notifications' {{.app.status.health.status}} (Healthy, Degraded).
        ("Degraded", Status.FIRING),
        ("Healthy", Status.RESOLVED),
        # Gatus' and uptime scripts' health check words.
        ("unhealthy", Status.FIRING),
        # A device's or agent's presence (Hetzner, DigitalOcean droplet agents, scripts).
        ("offline", Status.FIRING),
        ("online", Status.RESOLVED),
    ],
)
def test_health_words_as_a_status_are_read(word: str, status: Status) -> None:
    """A health or presence word as a `status` is the state it names, one incident either way."""
    alert = _only({"title": "guestbook", "status": word})
    assert alert.status is status
    assert alert.fingerprint == _only({"title": "guestbook", "status": "firing"}).fingerprint


@pytest.mark.parametrize(
    "word",
    [
        # ilert's alert status when a responder accepted it (PENDING, ACCEPTED, RESOLVED).
        "ACCEPTED",
        # Squadcast's incident status a suppression rule set (triggered, acknowledged,
        # resolved, suppressed).
        "suppressed",
    ],
)
def test_incident_tools_handled_states_change_no_ticket(word: str) -> None:
    """An incident tool's accepted or suppressed state, sent on, changes no ticket."""
    read = _read({"title": "db-1 down", "status": word})
    assert read.alerts == ()
    assert [skipped.reason for skipped in read.skipped] == ["no_state_change"]


# --- Elastic Kibana rules, through a Webhook connector whose title is `{{context.title}}` -------

#: The Index threshold rule's `context.title` (Kibana's stack_alerts index_threshold
#: action_context.ts: DEFAULT_TITLE "alert {name} group {group} met threshold", RECOVERY_TITLE
#: "alert {name} group {group} recovered"), sent with `{{alert.actionGroupName}}` as its status.
_KIBANA_THRESHOLD_FIRED = {
    "title": "alert cpu-high group host-1 met threshold",
    "status": "Threshold met",
}
_KIBANA_THRESHOLD_RECOVERED = {
    "title": "alert cpu-high group host-1 recovered",
    "status": "Recovered",
}


def test_kibana_index_threshold_recovery_title_closes_its_firing() -> None:
    """A Kibana Index threshold rule's recovery (its context.title "… recovered") resolves the
    incident its "… met threshold" opened, whose key does not move."""
    fired = _only(_KIBANA_THRESHOLD_FIRED)
    recovered = _only(_KIBANA_THRESHOLD_RECOVERED)
    assert recovered.status is Status.RESOLVED
    assert recovered.fingerprint == fired.fingerprint
    assert fired.fingerprint == _only({**_KIBANA_THRESHOLD_FIRED, "status": "firing"}).fingerprint


def test_kibana_es_query_recovery_title_closes_its_firing() -> None:
    """A Kibana Elasticsearch query rule's "rule 'x' recovered" (es_query action_context.ts)
    resolves the incident its "rule 'x' matched query" opened; another rule's stays apart."""
    fired = _only({"title": "rule 'api errors' matched query", "status": "Query matched"})
    recovered = _only({"title": "rule 'api errors' recovered", "status": "Recovered"})
    other = _only({"title": "rule 'db errors' recovered", "status": "Recovered"})
    assert recovered.status is Status.RESOLVED
    assert recovered.fingerprint == fired.fingerprint
    assert other.fingerprint != fired.fingerprint


# --- a tool with no format and no title: refused, saying what to map ---------------------------

#: Falcosidekick's Webhook output posts Falco's event as it is (falcosidekick docs/outputs/
#: webhook.md; Falco's JSON output: output, priority, rule, time, output_fields, source, tags,
#: hostname): no title, no state, nothing triage can key.
_FALCO_EVENT = {
    "output": "22:21:00.123456789: Notice A shell was spawned in a container (user=root)",
    "priority": "Notice",
    "rule": "Terminal shell in container",
    "time": "2026-11-16T22:21:00.123456789Z",
    "output_fields": {"container.id": "0a1b2c3d4e5f", "user.name": "root"},
    "source": "syscall",
    "tags": ["container", "shell", "mitre_execution"],
    "hostname": "node-1",
}


def test_a_body_without_a_title_is_refused_naming_the_fields_to_map() -> None:
    """A tool's body with no format and no title (Falcosidekick's webhook) is refused with a
    reason whose first 300 characters (the gateway's 422) name the generic fields to map."""
    with pytest.raises(UnknownFormatError) as refused:
        _read(_FALCO_EVENT)
    reason = str(refused.value)[:300]
    assert "top-level keys: 'output'" in reason
    assert all(field in reason for field in ("title", "status", "dedup_key")), reason


# --- an event name that says the state: incident.resolved, alert_resolved, monitor_up -----------


#: On-call and monitoring tools name their webhook events "<object>.<state>" (PagerDuty v3's
#: incident.triggered / incident.resolved, which scripts and relays copy into a generic body)
#: or "<object>_<state>"; forwarded with a title, the resolve must close the firing.
@pytest.mark.parametrize(
    ("key", "fired", "cleared"),
    [
        ("event_type", "incident.triggered", "incident.resolved"),
        ("event_type", "incident_triggered", "incident_resolved"),
        ("type", "alert-triggered", "alert-resolved"),
        ("status", "alert.firing", "alert.resolved"),
        ("state", "monitor_down", "monitor_up"),
    ],
)
def test_an_event_name_of_a_state_is_that_state(key: str, fired: str, cleared: str) -> None:
    """An event name "<object>.<state>" (or _ or -) is its state: the resolve closes the firing."""
    opened = _only({"title": "db-1 unreachable", key: fired})
    closed = _only({"title": "db-1 unreachable", key: cleared})
    assert (opened.status, closed.status) == (Status.FIRING, Status.RESOLVED)
    assert closed.fingerprint == opened.fingerprint


def test_an_acknowledged_event_name_changes_no_ticket() -> None:
    """An "incident.acknowledged" event, forwarded, changes no ticket (as "acknowledged" does)."""
    read = _read({"title": "db-1 unreachable", "event_type": "incident.acknowledged"})
    assert read.alerts == ()
    assert [skipped.reason for skipped in read.skipped] == ["no_state_change"]


@pytest.mark.parametrize("event", ["backup_completed", "incident.annotated", "deploy.finished"])
def test_an_event_name_of_no_state_still_fires(event: str) -> None:
    """A script's own event name that names no state leaves its alert firing, as before."""
    assert _only({"title": "nightly job", "event_type": event}).status is Status.FIRING


# --- GitLab's alert format (its HTTP endpoint's), sent to triage instead ------------------------

#: GitLab's documented alert payload (docs.gitlab.com operations/incident_management/
#: integrations, "Customize the alert payload outside of GitLab" and "Recovery alerts"): title,
#: description, start_time, service, monitoring_tool, hosts, severity, fingerprint; `end_time`,
#: when given, resolves the alert. Tools that speak GitLab's format post the same to triage.
_GITLAB_ALERT = {
    "title": "Incident title",
    "description": "Short description of the incident",
    "start_time": "2026-11-16T22:21:00Z",
    "service": "service affected",
    "monitoring_tool": "value",
    "hosts": "value",
    "severity": "high",
    "fingerprint": "d19381d4e8ebca87b55cda6e8eee7385",
    "end_time": None,
}


def test_gitlab_format_end_time_resolves_its_alert() -> None:
    """A GitLab-format alert with its `end_time` given resolves the incident its firing
    (`end_time` null) opened."""
    fired = _only(_GITLAB_ALERT)
    ended = _only({**_GITLAB_ALERT, "end_time": "2026-11-16T22:40:00Z"})
    assert (fired.status, ended.status) == (Status.FIRING, Status.RESOLVED)
    assert ended.fingerprint == fired.fingerprint


def test_an_end_time_still_to_come_leaves_the_alert_firing() -> None:
    """An `end_time` in the future (a window's planned end, as Alertmanager's endsAt) is no
    recovery: the alert fires, and a repeat read later is read again, not remembered."""
    assert _only({**_GITLAB_ALERT, "end_time": "2999-01-01T00:00:00Z"}).status is Status.FIRING


# --- Icinga 2 and Nagios notification commands that post JSON ------------------------------------


#: A notification command's JSON as Icinga 2's documented notification commands pass it (their
#: NOTIFICATIONTYPE = "$notification.type$", SERVICESTATE = "$service.state$": Icinga 2 docs,
#: "Notification Commands"; Nagios' $NOTIFICATIONTYPE$): no `status`, the notification type
#: says a problem or its recovery, the service state CRITICAL or OK.
def _icinga(notification_type: str, service_state: str) -> dict[str, Any]:
    """An Icinga 2 service notification's JSON of `notification_type` in `service_state`."""
    return {
        "title": "disk /var on db-1",
        "notification_type": notification_type,
        "service_state": service_state,
        "host_name": "db-1",
        "service_output": "DISK CRITICAL - free space: /var 312 MB (3%)",
    }


def test_icinga_recovery_notification_resolves_its_problem() -> None:
    """An Icinga 2 or Nagios RECOVERY notification resolves the incident its PROBLEM opened."""
    problem = _only(_icinga("PROBLEM", "CRITICAL"))
    recovery = _only(_icinga("RECOVERY", "OK"))
    assert (problem.status, recovery.status) == (Status.FIRING, Status.RESOLVED)
    assert recovery.fingerprint == problem.fingerprint


@pytest.mark.parametrize("kind", ["ACKNOWLEDGEMENT", "DOWNTIMESTART", "FLAPPINGSTART", "CUSTOM"])
def test_icinga_notifications_of_no_state_change_no_ticket(kind: str) -> None:
    """An acknowledgement, downtime, flapping or custom notification changes no ticket."""
    read = _read(_icinga(kind, "CRITICAL"))
    assert read.alerts == ()
    assert [skipped.reason for skipped in read.skipped] == ["no_state_change"]


# --- a number as text: Zabbix's {EVENT.VALUE} -----------------------------------------------------


def test_a_number_as_text_status_is_refused_as_a_number() -> None:
    """Zabbix's {EVENT.VALUE} ("1" problem, "0" resolved: Zabbix docs, "Supported macros") as a
    `status` is refused saying to send the word, as the number 1 is, not as an unknown word."""
    with pytest.raises(InvalidAlertError, match="send the word, not a number"):
        _read({"title": "High CPU on db-1", "status": "1"})
