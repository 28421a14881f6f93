"""Red team, round 5: alerts nobody sent yet, built from the vendors' documented payloads:
a script's resolve under a key triage does not read, one Grafana rule in two organisations,
a webhook group too big for one queue message, SEV0 and Zabbix severities, a sender's fast
clock, a shipper's batch holding a firing and its resolve, Alertmanager's and Grafana's
default SNS subjects as a group changes, `max_alerts` cutting resolves out, and Grafana's
test alert through an Alertmanager contact point. Each test either guards a behaviour that
held when it was written or failed then, and was fixed."""

from __future__ import annotations

import copy
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from factories import T0
from recording_pipeline import Sink, pipeline_into
from triage.ingest.messages import messages_for
from triage.ingest.validate import check
from triage.models import Priority, Status
from triage.normalize import normalize_body
from triage.sqs.inbox import RECEIVED_AT_ATTRIBUTE, Message
from triage.summarise.priority import default_priority

PAYLOADS = Path(__file__).parent / "payloads"


def _sample(name: str) -> dict[str, Any]:
    value: dict[str, Any] = json.loads((PAYLOADS / name).read_text(encoding="utf-8"))
    return value


async def _lifecycle(bodies: list[dict[str, Any]]) -> list[list[str]]:
    """What one fresh pipeline decides for each body in turn, a minute apart."""
    pipeline = pipeline_into(Sink())
    actions = []
    for minute, body in enumerate(bodies):
        at = T0 + timedelta(minutes=minute)
        message = Message(f"m-{minute}", json.dumps(body), f"r-{minute}", 1, at, received_at=at)
        actions.append([str(outcome.action) for outcome in await pipeline.process(message)])
    return actions


# --- generic: a script's keys in another case -------------------------------------------------


def _backup(**fields: Any) -> dict[str, Any]:
    """A backup script's alert keyed by its dedup_key, with `fields` (capitalised keys, as
    PowerShell's ConvertTo-Json writes a hashtable's names)."""
    return {"title": "Nightly backup of orders-db failed", "dedup_key": "backup-orders-db"} | fields


#: A resolve as scripts write it under a key `_stated` does not read: capitalised (PowerShell),
#: and the PagerDuty Events API's state keys beside the dedup keys `DEDUP_KEYS` already reads
#: from it (v1's `event_type` with `incident_key`, v2's `event_action` with `dedup_key`).
OTHER_STATUS_KEYS = {
    "Status": {"Status": "resolved"},
    "STATUS": {"STATUS": "resolved"},
    "event_type (v1)": {"event_type": "resolve", "incident_key": "backup-orders-db"},
    "event_action (v2)": {"event_action": "resolve"},
}


@pytest.mark.parametrize("fields", OTHER_STATUS_KEYS.values(), ids=OTHER_STATUS_KEYS.keys())
async def test_a_scripts_resolve_under_another_key_closes_its_incident(
    fields: dict[str, str],
) -> None:
    """A script's resolve written `"Status": "resolved"` (or with PagerDuty's state key beside
    the dedup key triage reads) closes the incident its firing opened, rather than counting
    one more repeat of it (a resolve silently read as a firing)."""
    actions = await _lifecycle([_backup(), _backup(**fields)])
    assert actions == [["open"], ["close"]]


def test_a_scripts_capitalised_priority_and_team_are_read() -> None:
    """`"Priority": "P0"` and `"Team": "data"` route and rank the ticket as their lower-case
    spellings do, instead of being dropped without a word."""
    [alert] = normalize_body(json.dumps(_backup(Priority="P0", Team="data"))).alerts
    assert (alert.priority, alert.team) == (Priority.CRITICAL, "data")


def test_a_scripts_lower_case_status_resolve_closes_its_incident() -> None:
    """The documented spelling: `"status": "resolved"` is read as the resolve (the behaviour
    the capitalised cases above are held to)."""
    [alert] = normalize_body(json.dumps(_backup(status="resolved"))).alerts
    assert alert.status is Status.RESOLVED


# --- grafana: one rule in two organisations ---------------------------------------------------


def _grafana_in_org(org_id: int, status: str) -> dict[str, Any]:
    """Grafana's documented webhook group (`orgId` at its top level) holding the sample's
    first alert, as the organisation `org_id` sends it: a rule provisioned alike in every org
    carries the same labels."""
    group = _sample("grafana/group-firing.json")
    alert = copy.deepcopy(group["alerts"][0])
    alert.pop("orgId", None)
    alert["status"] = status
    for link in ("generatorURL", "silenceURL", "dashboardURL", "panelURL"):
        alert[link] = alert[link].replace("orgId=1", f"orgId={org_id}")
    group |= {"orgId": org_id, "status": status, "alerts": [alert]}
    return group


async def test_the_same_grafana_rule_in_two_organisations_is_two_incidents() -> None:
    """Org 1 and org 2 fire the same provisioned rule: two incidents, and org 2's resolve
    closes only its own, leaving org 1's ticket open (its repeat is counted, not reopened)."""
    actions = await _lifecycle(
        [
            _grafana_in_org(1, "firing"),
            _grafana_in_org(2, "firing"),
            _grafana_in_org(2, "resolved"),
            _grafana_in_org(1, "firing"),
        ]
    )
    assert actions == [["open"], ["open"], ["close"], ["count"]]


async def test_one_organisations_grafana_alert_is_one_incident_through_its_states() -> None:
    """Within one organisation the rule opens, counts its repeat and closes with its resolve
    (the behaviour the two-organisation case is held to)."""
    bodies = [_grafana_in_org(1, s) for s in ("firing", "firing", "resolved")]
    assert await _lifecycle(bodies) == [["open"], ["count"], ["close"]]


# --- a group too big for one queue message ----------------------------------------------------

#: The queue's MaximumMessageSize on a queue made before SQS took 1 MiB (the gateway reads it).
OLD_QUEUE_BYTES = 256 * 1024


def _big_group(name: str, count: int) -> dict[str, Any]:
    """The sample group of `name` with `count` alerts of its first alert's shape, one per
    instance (a fleet-wide outage grouped by alertname, `max_alerts: 0` as the README says)."""
    group = _sample(name)
    first = group["alerts"][0]
    group["alerts"] = [
        copy.deepcopy(first)
        | {"labels": first["labels"] | {"instance": f"node-{i}:9100"}, "fingerprint": f"{i:016x}"}
        for i in range(count)
    ]
    group["truncatedAlerts"] = 0
    return group


@pytest.mark.parametrize(
    "name", ["alertmanager/group-firing.json", "grafana/group-firing.json"], ids=["am", "grafana"]
)
async def test_a_webhook_group_too_big_for_one_message_is_queued_whole(name: str) -> None:
    """A 400-alert group (about 300 KB) posted to a queue taking 256 KiB a message is queued
    as several messages, each within the limit, that together hold every alert once."""
    group = _big_group(name, 400)
    source = name.split("/")[0]
    checked = check(source, json.dumps(group).encode(), None, lambda text: text)
    assert checked.size_bytes > OLD_QUEUE_BYTES
    messages = await messages_for(checked, {}, OLD_QUEUE_BYTES)
    assert all(m.size_bytes <= OLD_QUEUE_BYTES for m in messages)
    instances = [
        alert.labels["instance"] for m in messages for alert in normalize_body(m.body).alerts
    ]
    assert sorted(instances) == sorted(a["labels"]["instance"] for a in group["alerts"])


# --- severities a source states, as the ticket's default priority -----------------------------


@pytest.mark.parametrize("severity", ["SEV0", "sev-0", "Sev0"])
def test_a_sev0_severity_defaults_the_ticket_to_critical(severity: str) -> None:
    """An incident process's SEV0, the worst there is, defaults a ticket to critical, as SEV1
    does; never to medium, the default for a severity nobody knows."""
    assert default_priority(severity) is Priority.CRITICAL


@pytest.mark.parametrize("severity", ["Information", "INFORMATION"])
def test_zabbixs_information_severity_defaults_the_ticket_to_low(severity: str) -> None:
    """Zabbix's `{EVENT.SEVERITY}` Information defaults a ticket to low, as its Warning
    defaults to medium and its Disaster to critical (`Not classified` rightly stays medium)."""
    assert default_priority(severity) is Priority.LOW


def test_zabbixs_other_severities_default_as_the_readme_says() -> None:
    """Zabbix's Warning, Average, High and Disaster read as the README's severity table says
    (the order the two cases above complete)."""
    got = [default_priority(s) for s in ("Warning", "Average", "High", "Disaster")]
    assert got == [Priority.MEDIUM, Priority.MEDIUM, Priority.HIGH, Priority.CRITICAL]


# --- a sender whose clock runs about five minutes fast ----------------------------------------


def _stamped(status: str, at: datetime) -> dict[str, Any]:
    """The backup script's alert in `status`, stamped `at` by the sender's clock."""
    return _backup(status=status, timestamp=at.isoformat())


async def _decided_at(bodies: list[tuple[dict[str, Any], datetime]]) -> list[list[str]]:
    """What one fresh pipeline decides for each (body, received at) in turn."""
    pipeline = pipeline_into(Sink())
    actions = []
    for n, (body, at) in enumerate(bodies):
        message = Message(f"m-{n}", json.dumps(body), f"r-{n}", 1, at, received_at=at)
        actions.append([str(outcome.action) for outcome in await pipeline.process(message)])
    return actions


async def test_a_resolve_from_a_fast_clock_closes_the_incident_its_firing_opened() -> None:
    """A sender whose clock runs about five minutes fast (the firing 4.5 minutes ahead, the
    resolve a minute later 5.5 ahead, as delivery latency varies) still closes its ticket:
    correcting a time from the future never puts a resolve before its own firing."""
    skew = timedelta(minutes=5)  # the policy's default max_future_skew
    fired_at, resolved_at = T0, T0 + timedelta(minutes=1)
    bodies = [
        (_stamped("firing", fired_at + skew - timedelta(seconds=30)), fired_at),
        (_stamped("resolved", resolved_at + skew + timedelta(seconds=30)), resolved_at),
    ]
    assert await _decided_at(bodies) == [["open"], ["close"]]


async def test_a_resolve_from_a_clock_fast_by_less_than_the_skew_closes_it() -> None:
    """Both times inside the skew are believed as sent, and the resolve closes the incident
    (the behaviour the case above is held to)."""
    ahead = timedelta(minutes=4)
    bodies = [
        (_stamped("firing", T0 + ahead), T0),
        (_stamped("resolved", T0 + timedelta(minutes=1) + ahead), T0 + timedelta(minutes=1)),
    ]
    assert await _decided_at(bodies) == [["open"], ["close"]]


# --- a shipper's batch holding a firing and its resolve ---------------------------------------


async def _queued_as_the_gateway_does(body: bytes) -> list[Message]:
    """`body` posted to the generic path as the gateway queues it: one message per alert of
    the batch, each with the request's attributes (one `received_at` for all), in order."""
    checked = check("generic", body, None, lambda text: text)
    attributes = {RECEIVED_AT_ATTRIBUTE: T0.isoformat()}
    outgoing = await messages_for(checked, attributes, OLD_QUEUE_BYTES)
    return [
        Message(f"m-{n}", m.body, f"r-{n}", 1, T0, received_at=T0, attributes=dict(m.attributes))
        for n, m in enumerate(outgoing)
    ]


@pytest.mark.parametrize("framing", ["ndjson", "array"])
async def test_a_batch_holding_a_firing_and_its_resolve_closes_the_ticket(framing: str) -> None:
    """Vector or Fluent Bit flushes a check's firing and its recovery in one batch (NDJSON or
    an array): the ticket the firing opens is closed by the resolve after it, not left open."""
    alerts = [_backup(), _backup(status="resolved")]
    if framing == "ndjson":
        body = "".join(json.dumps(a) + "\n" for a in alerts)
    else:
        body = json.dumps(alerts)
    pipeline = pipeline_into(Sink())
    messages = await _queued_as_the_gateway_does(body.encode())
    actions = [[str(o.action) for o in await pipeline.process(m)] for m in messages]
    assert actions == [["open"], ["close"]]


# --- Alertmanager's default SNS subject as its group grows -----------------------------------


def _default_subject(subject: str, minute: int) -> dict[str, Any]:
    """Alertmanager's `sns_configs` notification without a JSON template: its default subject
    (`__subject`: the state, the group labels' values, then in brackets the values of the
    labels every alert of the notification shares beyond those), `minute`s after T0."""
    resolved = subject.startswith("[RESOLVED]")
    body = _sample(f"sns/alertmanager-default-{'resolved' if resolved else 'firing'}.json")
    at = (T0 + timedelta(minutes=minute)).isoformat().replace("+00:00", "Z")
    return body | {"Subject": subject, "MessageId": f"sns-{minute}", "Timestamp": at}


async def test_an_alertmanager_sns_group_that_grows_is_one_incident_closed_by_its_resolve() -> None:
    """A group of `group_by: [alertname]` fires with one instance (its instance among the
    shared labels), a second joins (the instance no longer shared), then all resolve: one
    incident, counted and closed, with no ticket left open."""
    bodies = [
        _default_subject(
            "[FIRING:1] HighRequestLatency (checkout-1:8080 checkout page payments)", 0
        ),
        _default_subject("[FIRING:2] HighRequestLatency (checkout page payments)", 1),
        _default_subject("[RESOLVED] HighRequestLatency (checkout page payments)", 2),
    ]
    assert await _lifecycle(bodies) == [["open"], ["count"], ["close"]]


async def test_an_alertmanager_sns_group_of_one_form_is_one_incident() -> None:
    """A group whose subject keeps one form fires, repeats and resolves as one incident (the
    behaviour the growing group is held to)."""
    subject = "HighRequestLatency (checkout page payments)"
    bodies = [
        _default_subject(f"[FIRING:2] {subject}", 0),
        _default_subject(f"[FIRING:1] {subject}", 1),
        _default_subject(f"[RESOLVED] {subject}", 2),
    ]
    assert await _lifecycle(bodies) == [["open"], ["count"], ["close"]]


# --- Alertmanager's max_alerts cutting resolved alerts out --------------------------------------


def test_the_note_for_a_cut_resolved_group_does_not_promise_its_resolves() -> None:
    """A resolved notification that `max_alerts` cut (`truncatedAlerts: 2`) is noted without
    promising the two resolves will come: Alertmanager never sends them again, so the note
    must not tell the operator to wait for them."""
    group = _sample("alertmanager/group-resolved.json") | {"truncatedAlerts": 2}
    notes = [n for n in normalize_body(json.dumps(group)).notes if "max_alerts" in n]
    assert notes and not any("arrive when the group is next notified" in n for n in notes)


def test_a_cut_firing_group_is_noted() -> None:
    """A firing notification that `max_alerts` cut is noted naming `max_alerts` (the note the
    resolved case above words differently)."""
    notes = normalize_body(json.dumps(_sample("alertmanager/group-firing.json"))).notes
    assert any("max_alerts" in note for note in notes)


# --- Grafana's test notification through its Alertmanager contact point ------------------------


def _grafana_test_to_alertmanager_api() -> list[dict[str, Any]]:
    """What a Grafana contact point of type *Alertmanager* (pointed at the gateway, which
    answers as an Alertmanager does) posts when its *Test* button is pressed: the test alert
    Grafana's webhook sends (alertname TestAlert, instance Grafana, "Notification test"), as
    an Alertmanager API alert that is still firing."""
    now = datetime.now(UTC)
    return [
        {
            "labels": {"alertname": "TestAlert", "instance": "Grafana"},
            "annotations": {"summary": "Notification test"},
            "startsAt": now.isoformat(),
            "endsAt": (now + timedelta(hours=1)).isoformat(),
            "generatorURL": "",
        }
    ]


def test_grafanas_test_alert_posted_to_the_alertmanager_api_opens_no_ticket() -> None:
    """Pressing *Test* on a Grafana contact point of type Alertmanager skips the test alert
    with a reason, as the webhook contact point's test is skipped."""
    normalized = normalize_body(json.dumps(_grafana_test_to_alertmanager_api()))
    assert normalized.alerts == ()
    assert [s.reason for s in normalized.skipped] == ["test_notification"]


def test_grafanas_test_alert_through_its_webhook_opens_no_ticket() -> None:
    """The webhook contact point's test is skipped as `test_notification` (the behaviour the
    Alertmanager contact point's test is held to)."""
    normalized = normalize_body((PAYLOADS / "grafana" / "test-notification.json").read_text())
    assert normalized.alerts == ()
    assert [s.reason for s in normalized.skipped] == ["test_notification"]


async def test_grafanas_partly_resolved_sns_subject_is_the_groups_incident() -> None:
    """Grafana's SNS contact point without a JSON template: a group of two fires, one
    resolves (`[FIRING:1, RESOLVED:1]`), then the other: one incident, counted and closed."""
    group = "DiskAlmostFull Infra (platform)"
    bodies = [
        _default_subject(f"[FIRING:2] {group}", 0),
        _default_subject(f"[FIRING:1, RESOLVED:1] {group}", 1),
        _default_subject(f"[RESOLVED] {group}", 2),
    ]
    assert await _lifecycle(bodies) == [["open"], ["count"], ["close"]]
