"""Alert sources, round 11 (helper 408): alerts real senders send that triage read wrongly,
built from the tools' documented payloads, each with the behaviour its fix must keep."""

from __future__ import annotations

import copy
import json
from typing import Any

import pytest

from triage.models import Alert, Priority, Status
from triage.normalize import normalize_body
from triage.normalize.common import Normalized
from triage.summarise.priority import default_priority


def _read(body: dict[str, Any]) -> Normalized:
    """What `body` becomes."""
    return normalize_body(json.dumps(body))


def _only(body: dict[str, Any]) -> Alert:
    """The one alert `body` becomes."""
    [alert] = _read(body).alerts
    return alert


def _skip_reasons(body: dict[str, Any]) -> list[str]:
    """Why `body` changes no ticket: its skips' reasons, and no alert."""
    normalized = _read(body)
    assert normalized.alerts == ()
    return [skip.reason for skip in normalized.skipped]


# --- icinga: a custom notification on a problem opens its own incident ------------------------

#: Icinga 2's mail subject, as its notification scripts write it:
#: "[$NOTIFICATIONTYPE$] $SERVICEDISPLAYNAME$ on $HOSTDISPLAYNAME$ is $SERVICESTATE$!".


def test_an_icinga_custom_note_on_a_problem_joins_its_incident() -> None:
    """A [CUSTOM] notification (a note someone sent on a CRITICAL service) is the problem's
    incident, firing at the problem's severity, never one of its own."""
    problem = _only({"title": "[PROBLEM] Disk on db-1 is CRITICAL!"})
    note = _only({"title": "[CUSTOM] Disk on db-1 is CRITICAL!"})
    assert note.identity == problem.identity
    assert (note.status, note.severity, note.title) == (
        Status.FIRING,
        "CRITICAL",
        "Disk on db-1 is CRITICAL!",
    )


@pytest.mark.parametrize(
    "title",
    [
        "[CUSTOM] Disk on db-1 is OK!",
        "[CUSTOM] Host db-1 is UP!",
        "[CUSTOM] Disk on db-1 is UNKNOWN!",
    ],
)
def test_an_icinga_custom_note_on_a_healthy_check_changes_no_ticket(title: str) -> None:
    """A custom note on a check that is not failing states no problem: no ticket, and no
    resolve either (a note is no recovery)."""
    assert _skip_reasons({"title": title}) == ["no_state_change"]


def test_a_nagios_custom_note_on_a_problem_joins_its_incident() -> None:
    """Nagios' "** CUSTOM Service Alert: …" on a CRITICAL service is its problem's incident
    too, as Icinga's is."""
    problem = _only({"title": "** PROBLEM Service Alert: db-1/Disk is CRITICAL **"})
    note = _only({"title": "** CUSTOM Service Alert: db-1/Disk is CRITICAL **"})
    assert (note.identity, note.status) == (problem.identity, Status.FIRING)
    assert _skip_reasons({"title": "** CUSTOM Service Alert: db-1/Disk is OK **"}) == [
        "no_state_change"
    ]


def test_a_custom_tag_before_a_title_stays_part_of_it() -> None:
    """A script's "[Custom] X" tag (no Icinga check state after it) fires keyed by its whole
    title, as before."""
    alert = _only({"title": "[Custom] nightly export slow"})
    assert (alert.status, alert.identity["title"]) == (
        Status.FIRING,
        "[Custom] nightly export slow",
    )


# --- aws backup: restores of different resources merged ---------------------------------------


def _restore(status: str, source_arn: str | None, job: str = "4d1e2b3c") -> dict[str, Any]:
    """A Restore Job State Change (AWS Backup's EventBridge event; its detail resembles
    DescribeRestoreJob's answer: the source resource's ARN, the recovery point, the type)."""
    detail: dict[str, Any] = {
        "restoreJobId": f"{job}-1111-2222-3333-444455556666",
        "backupSizeInBytes": "8589934592",
        "creationDate": "2026-12-06T09:00:00Z",
        "iamRoleArn": "arn:aws:iam::123456789012:role/service-role/AWSBackupDefaultServiceRole",
        "percentDone": "0.0",
        "resourceType": "RDS",
        "status": status,
        "recoveryPointArn": f"arn:aws:rds:eu-west-1:123456789012:snapshot:awsbackup:job-{job}",
    }
    if source_arn is not None:
        detail["sourceResourceArn"] = source_arn
    return {
        "version": "0",
        "id": f"{job}-aaaa-bbbb-cccc-ddddeeeeffff",
        "detail-type": "Restore Job State Change",
        "source": "aws.backup",
        "account": "123456789012",
        "time": "2026-12-06T09:30:00Z",
        "region": "eu-west-1",
        "resources": [detail["recoveryPointArn"]],
        "detail": detail,
    }


_ORDERS = "arn:aws:rds:eu-west-1:123456789012:db:orders"
_BILLING = "arn:aws:rds:eu-west-1:123456789012:db:billing"


def test_restores_of_two_resources_are_two_incidents() -> None:
    """A failed restore of orders-db and one of billing-db are two incidents: the billing
    restore that completes must not close the orders one."""
    orders = _only(_restore("FAILED", _ORDERS, "aa"))
    billing = _only(_restore("COMPLETED", _BILLING, "bb"))
    assert orders.identity != billing.identity


def test_a_resources_next_restore_that_completes_closes_its_failure() -> None:
    """The next restore of the same resource (a new job, a new recovery point) is the same
    incident: its completion resolves the failure."""
    failed = _only(_restore("FAILED", _ORDERS, "aa"))
    done = _only(_restore("COMPLETED", _ORDERS, "cc"))
    assert (failed.status, done.status) == (Status.FIRING, Status.RESOLVED)
    assert failed.identity == done.identity


def test_a_restore_naming_no_source_is_keyed_as_before() -> None:
    """A restore event that names no source resource keeps the fingerprint it always had
    (its resource type), so no open incident is keyed anew."""
    alert = _only(_restore("FAILED", None))
    assert alert.identity == {
        "account": "123456789012",
        "region": "eu-west-1",
        "source": "aws.backup",
        "detail_type": "Restore Job State Change",
        "resourceType": "RDS",
    }


# --- checkly: a webhook body with a title is read as a script's generic alert -----------------


def _checkly(alert_type: str, said: str) -> dict[str, Any]:
    """A Checkly webhook whose template puts {{ALERT_TITLE}} under `title` (as its templates
    for Pushover, Opsgenie and the like do)."""
    return {
        "title": said,
        "check_id": "6f3c2a8e-3a1d-4a57-9d7b-0f3b1a2c4d5e",
        "check_name": "Login flow",
        "alert_type": alert_type,
        "started_at": "2026-12-06T09:00:05.120Z",
    }


def test_a_titled_checkly_recovery_closes_its_failure() -> None:
    """ALERT_RECOVERY resolves the incident ALERT_FAILURE opened, though the title (Checkly's
    alert title, which changes with the state) is given."""
    failed = _only(_checkly("ALERT_FAILURE", 'Check "Login flow" has failed'))
    recovered = _only(_checkly("ALERT_RECOVERY", 'Check "Login flow" has recovered'))
    assert (failed.source, failed.status, recovered.status) == (
        "checkly",
        Status.FIRING,
        Status.RESOLVED,
    )
    assert failed.identity == recovered.identity


def test_a_titled_body_with_no_checkly_alert_type_stays_generic() -> None:
    """A script's titled alert that carries a `check_id` but no alert type of Checkly's stays
    a generic alert, keyed as before."""
    body = {"title": "disk full", "check_id": "42", "alert_type": "disk"}
    alert = _only(body)
    assert (alert.source, alert.identity) == (
        "generic",
        {"source": "generic", "title": "disk full"},
    )


# --- zabbix: "Not classified" is the unknown default --------------------------------------------


def test_a_zabbix_not_classified_priority_or_severity_stays_the_default() -> None:
    """Zabbix's "Not classified" says the trigger's author gave no severity: sent as the
    priority it is unread, and as the severity it defaults the ticket to medium, the default
    for a severity that says nothing (as round 5 decided), not to low."""
    stated = _only({"title": "Problem: disk full on db-1", "priority": "Not classified"})
    assert stated.priority is None
    alert = _only({"title": "Problem: disk full on db-1", "severity": "Not classified"})
    assert default_priority(alert.severity) is Priority.MEDIUM


# --- grafana oncall: the demo alert of a webhook integration is ticketed -----------------------

_DEMO = "This alert was sent by user for the demonstration purposes"


def _oncall(alert_payload: dict[str, Any], integration_type: str) -> dict[str, Any]:
    """An outgoing webhook's data for an alert group whose alert is `alert_payload` (OnCall's
    documented shape)."""
    return {
        "event": {"type": "alert group created", "time": "2026-12-06T09:00:00+00:00"},
        "user": None,
        "alert_group": {
            "id": "I6HNZGUFG4K11",
            "integration_id": "CZ7URAT4V3QF2",
            "state": "firing",
            "title": "Incident",
            "permalinks": {"web": "https://oncall.example.com/alert-groups/I6HNZGUFG4K11"},
        },
        "alert_group_id": "I6HNZGUFG4K11",
        "alert_payload": alert_payload,
        "integration": {"id": "CZ7URAT4V3QF2", "type": integration_type, "name": "Main"},
    }


#: The demo payloads of OnCall's Webhook, Formatted Webhook, Kapacitor and Zabbix integrations
#: (their `example_payload`, which *Send demo alert* sends; Kapacitor's and Zabbix's say it
#: without "the").
_DEMOS = {
    "webhook": {"message": _DEMO},
    "formatted_webhook": {
        "alert_uid": "08d6891a-835c-e661-39fa-96b6a9e26552",
        "title": "TestAlert: The whole system is down",
        "image_url": "https://upload.wikimedia.org/wikipedia/commons/e/ee/Grumpy_Cat.jpg",
        "state": "alerting",
        "link_to_upstream_details": "https://en.wikipedia.org/wiki/Downtime",
        "message": f"{_DEMO}\nSmth happened. Oh no!",
    },
    "kapacitor": {
        "id": "TestAlert",
        "message": "This alert was sent by user for demonstration purposes",
        "data": "{foo: bar}",
    },
    "zabbix": {
        "alert_uid": "08d6891a-835c-e661-39fa-96b6a9e26552",
        "title": "TestAlert: The whole system is down",
        "state": "alerting",
        "message": "This alert was sent by user for demonstration purposes\nSmth happened. Oh no!",
    },
}


@pytest.mark.parametrize("integration", sorted(_DEMOS))
def test_an_oncall_demo_of_any_integration_opens_no_ticket(integration: str) -> None:
    """*Send demo alert* on a webhook or formatted webhook integration proves the webhook
    works: skipped as a test, never a ticket."""
    body = _oncall(copy.deepcopy(_DEMOS[integration]), integration)
    assert _skip_reasons(body) == ["test_notification"]


def test_an_oncall_webhook_alert_with_its_own_message_fires() -> None:
    """A real alert of a webhook integration (its own message) still fires."""
    body = _oncall({"message": "orders queue backed up for 10 minutes"}, "webhook")
    assert _only(body).status is Status.FIRING


# --- aws batch: an array child's success closes a sibling's failure -----------------------------


def _batch(status: str, index: int | None) -> dict[str, Any]:
    """A Batch Job State Change (AWS Batch's documented event) of an array job's child
    (`arrayProperties.index`, its id the parent's with ":<index>") or, without `index`, of
    the parent (`arrayProperties.size`)."""
    parent = "4c7599ae-0a82-49aa-ba5a-4727fcce14a8"
    job = parent if index is None else f"{parent}:{index}"
    arn = f"arn:aws:batch:eu-west-1:123456789012:job/{job}"
    array = {"size": 10} if index is None else {"index": index}
    return {
        "version": "0",
        "id": f"c8f9c4b5-76e5-d76a-f980-70{index or 0:010d}",
        "detail-type": "Batch Job State Change",
        "source": "aws.batch",
        "account": "123456789012",
        "time": "2026-12-06T01:36:40Z",
        "region": "eu-west-1",
        "resources": [arn],
        "detail": {
            "jobArn": arn,
            "jobName": "render-frames",
            "jobId": job,
            "jobQueue": "arn:aws:batch:eu-west-1:123456789012:job-queue/nightly",
            "status": status,
            "statusReason": "Essential container in task exited" if status == "FAILED" else "",
            "arrayProperties": array,
            "attempts": [],
            "createdAt": 1796433990000,
            "jobDefinition": "arn:aws:batch:eu-west-1:123456789012:job-definition/render:4",
        },
    }


def test_an_array_childs_failure_joins_its_parents_incident() -> None:
    """A failed child of an array job is the array job's incident, not one per index."""
    child = _only(_batch("FAILED", 3))
    other = _only(_batch("FAILED", 7))
    parent = _only(_batch("FAILED", None))
    assert child.identity == other.identity == parent.identity
    assert child.status is Status.FIRING


def test_an_array_childs_success_resolves_nothing() -> None:
    """A child that succeeded says nothing of the array (a sibling may have failed): it
    changes no ticket; the parent's own SUCCEEDED, which needs every child's, resolves."""
    assert _skip_reasons(_batch("SUCCEEDED", 4)) != []
    assert _only(_batch("SUCCEEDED", None)).status is Status.RESOLVED


# --- zabbix: a business service's recovery opens a ticket instead of closing its problem -------

#: Zabbix's default message templates for services (6.0 and later, its media types'
#: "Service", "Service recovery" and "Service update" subjects).
_SERVICE_PROBLEM = 'Service "Checkout" problem: Checkout availability below 99.9%'
_SERVICE_RECOVERY = 'Service "Checkout" resolved in 12m 4s: Checkout availability below 99.9%'
_SERVICE_UPDATE = 'Changed "Checkout" service status to High in 5m 2s'


def test_a_zabbix_service_recovery_closes_its_problem() -> None:
    """The service's recovery resolves the incident its problem opened (one identity)."""
    problem = _only({"title": _SERVICE_PROBLEM, "severity": "High"})
    recovery = _only({"title": _SERVICE_RECOVERY, "severity": "High"})
    assert (problem.status, recovery.status) == (Status.FIRING, Status.RESOLVED)
    assert problem.identity == recovery.identity
    assert problem.title == 'Service "Checkout": Checkout availability below 99.9%'


def test_two_zabbix_services_with_one_problem_name_are_two_incidents() -> None:
    """The service is part of the key: another service's problem of the same name is its own
    incident."""
    checkout = _only({"title": _SERVICE_PROBLEM})
    search = _only({"title": _SERVICE_PROBLEM.replace('"Checkout"', '"Search"', 1)})
    assert checkout.identity != search.identity


def test_a_zabbix_service_update_changes_no_ticket() -> None:
    """A service's status update names no problem and is no new one: no ticket change."""
    assert _skip_reasons({"title": _SERVICE_UPDATE}) == ["no_state_change"]
