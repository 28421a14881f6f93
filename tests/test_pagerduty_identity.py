"""PagerDuty incidents and Opsgenie alerts are keyed by the vendor's own incident or alert, never
by a title two of them may share while both are open: resolving one closes its own ticket only.
A key the vendor keeps unique among open incidents (PagerDuty's `incident_key` on a service,
Opsgenie's alias) still keys them, with the fingerprints it had before (digests pinned from the
release before this change), so a flapping check with such a key still reopens one ticket."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path
from typing import Any

from factories import T0
from recording_pipeline import Sink, pipeline_into
from triage.models import Alert
from triage.normalize import normalize_body
from triage.sqs.inbox import Message

PAYLOADS = Path(__file__).parent / "payloads"
TITLE = "Checkout API 5xx rate high"
MESSAGE = "Disk almost full on db-7"

#: Fingerprints recorded before this change, for identities it must leave as they were.
PAGERDUTY_BY_INCIDENT_KEY = "309616613a4d8eb6326e43ad67a12032"  # service PA2P440, key disk-db-7
PAGERDUTY_BY_ID = "031311547a95460b541555c5b0568e12"  # incident PFQZPSY, as with no service
OPSGENIE_BY_ALIAS = "df35205e00cfc43d26987ac140e85761"  # alias disk-db-7-/var
OPSGENIE_BY_ALERT_ID = "c864e4c7db70f82facb019f5d70c38ac"  # alertId …900f, as with no message


def _sample(name: str) -> dict[str, Any]:
    value: dict[str, Any] = json.loads((PAYLOADS / name).read_text(encoding="utf-8"))
    return value


def _one(body: dict[str, Any]) -> Alert:
    [alert] = normalize_body(json.dumps(body)).alerts
    return alert


async def _lifecycle(bodies: list[dict[str, Any]]) -> list[list[str]]:
    """What one fresh pipeline decides for each body in turn, a minute apart."""
    pipeline = pipeline_into(Sink())
    actions = []
    for minute, body in enumerate(bodies):
        at = T0 + timedelta(minutes=minute)
        message = Message(f"m-{minute}", json.dumps(body), f"r-{minute}", 1, at, received_at=at)
        actions.append([str(outcome.action) for outcome in await pipeline.process(message)])
    return actions


def _pagerduty(event_type: str, incident: str, minute: int, **data: Any) -> dict[str, Any]:
    """A v3 webhook (the documented sample's shape, which sends no `incident_key`) about
    `incident` on the sample's service, titled as an integration titles every incident of one
    check."""
    fired = event_type == "incident.triggered"
    body = _sample("pagerduty/triggered.json" if fired else "pagerduty/resolved.json")
    event = body["event"]
    event["event_type"] = event_type
    event["occurred_at"] = (T0 + timedelta(minutes=minute)).isoformat()
    event["data"] |= {"id": incident, "title": TITLE, "html_url": f"https://x.test/{incident}"}
    event["data"] |= data
    return body


def _opsgenie(action: str, alert_id: str, alias: str | None = None) -> dict[str, Any]:
    """An outgoing webhook about alert `alert_id`; without `alias`, Opsgenie's own filling of
    it (the alert's id), as for an alert created with none."""
    body = _sample("vendors/opsgenie-create.json")
    body["action"] = action
    body["alert"] |= {"alertId": alert_id, "alias": alias or alert_id, "message": MESSAGE}
    return body


async def test_two_open_pagerduty_incidents_of_one_title_keep_their_own_tickets() -> None:
    """Two incidents open at once on one service with one title (no `incident_key`) are two
    tickets: the first's resolve closes its own, and the second's resolve still has one to
    close, rather than the first closing a ticket whose outage goes on."""
    actions = await _lifecycle(
        [
            _pagerduty("incident.triggered", "PA", 0),
            _pagerduty("incident.triggered", "PB", 1),
            _pagerduty("incident.resolved", "PA", 2),
            _pagerduty("incident.resolved", "PB", 3),
        ]
    )
    assert actions == [["open"], ["open"], ["close"], ["close"]]


async def test_a_pagerduty_incident_merged_into_its_twin_leaves_the_twins_ticket_open() -> None:
    """A responder merges one of two same-titled incidents into the other: the merged one's
    resolve closes its own ticket, and the survivor's ticket stays open until its own resolve."""
    merged = {"type": "merge_resolve_reason", "incident": {"id": "PB", "summary": f"[#11] {TITLE}"}}
    actions = await _lifecycle(
        [
            _pagerduty("incident.triggered", "PA", 0),
            _pagerduty("incident.triggered", "PB", 1),
            _pagerduty("incident.resolved", "PA", 2, resolve_reason=merged),
            _pagerduty("incident.resolved", "PB", 3),
        ]
    )
    assert actions == [["open"], ["open"], ["close"], ["close"]]


def test_a_pagerduty_incident_without_incident_key_is_keyed_by_its_id() -> None:
    """With no `incident_key`, the incident's id is the key, whatever its service or title:
    the fingerprint an incident naming no service always had."""
    alert = _one(_pagerduty("incident.triggered", "PFQZPSY", 0))
    assert alert.identity == {"incident": "PFQZPSY"}
    assert alert.fingerprint == PAGERDUTY_BY_ID
    assert alert.labels["incident_id"] == "PFQZPSY"


async def test_a_pagerduty_incident_key_still_keys_a_flapping_checks_incidents() -> None:
    """PagerDuty keeps one open incident per `incident_key` on a service, so the key still keys
    the incident, with its fingerprint as before, and a check's next incident of the same key
    reopens its ticket."""
    first = _pagerduty("incident.triggered", "PA", 0, incident_key="disk-db-7")
    assert _one(first).fingerprint == PAGERDUTY_BY_INCIDENT_KEY
    actions = await _lifecycle(
        [
            first,
            _pagerduty("incident.resolved", "PA", 1, incident_key="disk-db-7"),
            _pagerduty("incident.triggered", "PB", 2, incident_key="disk-db-7"),
        ]
    )
    assert actions == [["open"], ["close"], ["reopen"]]


async def test_two_open_opsgenie_alerts_of_one_message_keep_their_own_tickets() -> None:
    """Opsgenie de-duplicates only by alias: two alerts created with none and one message and
    entity are both open there, so they are two tickets, each closed by its own alert's Close."""
    first, second = "ec03dad6-62c8-4c94-b38b-d88f398e9001", "ec03dad6-62c8-4c94-b38b-d88f398e9002"
    actions = await _lifecycle(
        [
            _opsgenie("Create", first),
            _opsgenie("Create", second),
            _opsgenie("Close", first),
            _opsgenie("Close", second),
        ]
    )
    assert actions == [["open"], ["open"], ["close"], ["close"]]


def test_an_opsgenie_alert_without_an_alias_is_keyed_by_its_id() -> None:
    """An alert whose alias is Opsgenie's filling (its own id) is keyed by that id, with the
    fingerprint an alert without a message always had."""
    alert = _one(_opsgenie("Create", "ec03dad6-62c8-4c94-b38b-d88f398e900f"))
    assert alert.identity == {"alert_id": "ec03dad6-62c8-4c94-b38b-d88f398e900f"}
    assert alert.fingerprint == OPSGENIE_BY_ALERT_ID


def test_an_opsgenie_alias_keeps_its_fingerprint() -> None:
    """An alias the sender set (unique among open alerts in Opsgenie) is still the key, with
    the fingerprint it had before."""
    assert _one(_sample("vendors/opsgenie-create.json")).fingerprint == OPSGENIE_BY_ALIAS
