"""Sources, round 15 (helper 479): Alertmanager, Grafana, Sentry, generic and uptime checkers'
bodies in the shapes their vendors document, that triage read wrongly."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

from factories import T0
from recording_pipeline import Sink, pipeline_into
from triage.models import EffectKind, Status
from triage.normalize import normalize_body
from triage.normalize.common import Normalized
from triage.sqs.inbox import Message


def _read(body: Any) -> Normalized:
    """What `body` becomes."""
    return normalize_body(json.dumps(body))


def _sent(body: Any, minutes: float) -> Message:
    """`body` queued and received `minutes` after T0."""
    at = T0 + timedelta(minutes=minutes)
    return Message(f"m-{minutes}", json.dumps(body), f"r-{minutes}", 1, at, received_at=at)


# --- Grafana 12: two rules of one title in one folder -----------------------------------------

#: What Grafana's webhook shows of an alert of a rule titled "High CPU" in folder "Infra": the
#: private labels (`__alert_rule_uid__`) are stripped (grafana/alerting templates
#: `removePrivateItems`), while `fingerprint` hashes them and `ruleUID` names the rule.
_SHOWN = {"alertname": "High CPU", "grafana_folder": "Infra", "instance": "web-1"}


def _rule_alert(
    rule_uid: str, fingerprint: str, status: str, resolved_at: str = "2026-11-23T09:14:00Z"
) -> dict[str, Any]:
    """One alert of a Grafana 12 webhook (grafana/alerting templates.ExtendedAlert), firing
    since 08:51 (T0 is 09:00)."""
    ends = "0001-01-01T00:00:00Z" if status == "firing" else resolved_at
    return {
        "status": status,
        "labels": dict(_SHOWN),
        "annotations": {"summary": "CPU above 90%"},
        "startsAt": "2026-11-23T08:51:03Z",
        "endsAt": ends,
        "generatorURL": f"https://grafana.example.com/alerting/grafana/{rule_uid}/view?orgId=1",
        "fingerprint": fingerprint,
        "ruleUID": rule_uid,
        "silenceURL": "",
        "dashboardURL": "",
        "panelURL": "",
        "values": {"B": 93.5},
        "valueString": "",
    }


def _group(*alerts: dict[str, Any]) -> dict[str, Any]:
    """A Grafana webhook group, grouped by alertname and folder (Grafana's default policy)."""
    firing = any(alert["status"] == "firing" for alert in alerts)
    return {
        "receiver": "triage",
        "status": "firing" if firing else "resolved",
        "orgId": 1,
        "alerts": list(alerts),
        "groupLabels": {"alertname": "High CPU", "grafana_folder": "Infra"},
        "commonLabels": dict(_SHOWN),
        "commonAnnotations": {},
        "externalURL": "https://grafana.example.com/",
        "version": "1",
        "groupKey": '{}/{__grafana_receiver__="triage"}:{alertname="High CPU", grafana_folder="Infra"}',
        "truncatedAlerts": 0,
        "title": "[FIRING:1] High CPU Infra",
        "state": "alerting" if firing else "ok",
        "message": "",
    }


async def test_a_resolve_of_one_grafana_rule_leaves_open_the_twin_rule_that_still_fires() -> None:
    """Grafana 12 lets two rules of one folder share a title (grafana/grafana#102067): their
    alerts show identical labels with different `fingerprint`s, in one group. One rule's
    resolve must not close the incident while the other rule's alert of those labels fires."""
    sink = Sink()
    pipeline = pipeline_into(sink)
    both = _group(_rule_alert("rule-a", "1a2b3c4d5e6f7081", "firing"),
                  _rule_alert("rule-b", "9f8e7d6c5b4a3921", "firing"))  # fmt: skip
    one_left = _group(_rule_alert("rule-a", "1a2b3c4d5e6f7081", "firing"),
                      _rule_alert("rule-b", "9f8e7d6c5b4a3921", "resolved"))  # fmt: skip
    await pipeline.process(_sent(both, 0))
    await pipeline.process(_sent(one_left, 15))
    assert [effect.kind for effect in sink.effects if effect.kind is not EffectKind.UPDATE] == [
        EffectKind.OPEN
    ]
    gone = _group(_rule_alert("rule-a", "1a2b3c4d5e6f7081", "resolved", "2026-11-23T09:29:00Z"),
                  _rule_alert("rule-b", "9f8e7d6c5b4a3921", "resolved"))  # fmt: skip
    await pipeline.process(_sent(gone, 30))
    assert sink.effects[-1].kind is EffectKind.CLOSE


def test_a_resolve_held_back_for_a_twin_still_firing_is_noted() -> None:
    """The resolve left out because an alert of the same labels still fires is not silently
    lost: one note names it, and the firing alert is read as before."""
    read = _read(_group(_rule_alert("rule-a", "1a2b3c4d5e6f7081", "firing"),
                        _rule_alert("rule-b", "9f8e7d6c5b4a3921", "resolved")))  # fmt: skip
    assert [alert.status for alert in read.alerts] == [Status.FIRING]
    assert any("alerts[1]" in note and "still fires" in note for note in read.notes)


# --- PagerDuty Events API v1, as Alertmanager's pagerduty_configs posts it --------------------

_SERVICE_KEY = "e93facc04764012d7bfb002500d5d1a6"


def _events_v1(event_type: str) -> dict[str, Any]:
    """What Alertmanager's `pagerduty_configs` with a `service_key` posts (notify/pagerduty:
    `notifyV1`'s `pagerDutyMessage`, whose `event_action` and `payload` have no omitempty, so
    they come as "" and null): Events API v1's `service_key`, `event_type`, `incident_key`
    (the group key's hash) and `description`; `client` and `client_url` on a trigger only."""
    firing = event_type == "trigger"
    event: dict[str, Any] = {
        "service_key": _SERVICE_KEY,
        "incident_key": "6d1e1f0a5f3c9c7ba5f0f2e6c1a8d4b2e0c7f9a3b6d2e8c4f1a7b3d9e5c2f8a1",
        "event_type": event_type,
        "description": f"[{'FIRING:1' if firing else 'RESOLVED'}] HighLatency (checkout)",
        "event_action": "",
        "payload": None,
        "details": {"firing": "Labels:\n - alertname = HighLatency\n", "num_firing": "1"},
    }
    if firing:
        event |= {"client": "Alertmanager", "client_url": "https://am.example.com/#/alerts"}
    return event


def test_an_events_api_v1_trigger_and_resolve_from_alertmanager_are_one_incident() -> None:
    """Alertmanager's `pagerduty_configs` with a `service_key` sends PagerDuty's Events API v1
    (the v2 event is read already): its trigger fires and its resolve closes one incident,
    keyed by the `incident_key`, titled by the `description`; the service key is not kept."""
    [fired] = _read(_events_v1("trigger")).alerts
    [resolved] = _read(_events_v1("resolve")).alerts
    assert (fired.status, resolved.status) == (Status.FIRING, Status.RESOLVED)
    assert fired.fingerprint == resolved.fingerprint
    assert "HighLatency" in fired.title
    assert _SERVICE_KEY not in json.dumps(fired.raw) + json.dumps(resolved.raw)
    assert _read(_events_v1("acknowledge")).alerts == ()


def test_an_events_api_v1_event_as_pagerduty_documents_it_is_read() -> None:
    """PagerDuty's own Events API v1 example (a trigger of `srv01/HTTP`, then its resolve),
    which Nagios', Zabbix's and Sensu's older plugins send without Alertmanager's empty
    `event_action`: one incident, fired then resolved, not refused as an unknown format."""
    trigger = {"service_key": _SERVICE_KEY, "incident_key": "srv01/HTTP", "event_type": "trigger",
               "description": "FAILURE for production/HTTP on machine srv01.acme.com",
               "client": "Sample Monitoring Service", "client_url": "https://monitoring.service.com",
               "details": {"ping time": "1500ms", "load avg": 0.75}}  # fmt: skip
    resolve = {"service_key": _SERVICE_KEY, "incident_key": "srv01/HTTP", "event_type": "resolve",
               "description": "Andrew fixed the problem.", "details": {"fixed at": "2026-11-23"}}  # fmt: skip
    [fired] = _read(trigger).alerts
    [resolved] = _read(resolve).alerts
    assert (fired.status, resolved.status) == (Status.FIRING, Status.RESOLVED)
    assert fired.fingerprint == resolved.fingerprint


# --- Generic: a resolved flag written as text ------------------------------------------------


def test_a_generic_resolved_flag_written_as_text_true_resolves() -> None:
    """A script that templates its flag into a JSON string (`"resolved": "$RESOLVED"` in a
    shell here-document, what a YAML-to-JSON step makes of a quoted `"true"`) says the alert
    is over as surely as the boolean does: it resolves, and "false" fires, in any case."""
    closing = _read({"title": "Disk full on db-1", "resolved": "true"})
    also = _read({"title": "Disk full on db-1", "resolved": " TRUE "})
    firing = _read({"title": "Disk full on db-1", "resolved": "false"})
    assert [a.status for a in (*closing.alerts, *also.alerts, *firing.alerts)] == [
        Status.RESOLVED,
        Status.RESOLVED,
        Status.FIRING,
    ]
    assert closing.alerts[0].fingerprint == firing.alerts[0].fingerprint


def test_a_generic_resolved_flag_triage_cannot_read_is_noted() -> None:
    """A `resolved` flag that is neither a boolean nor "true"/"false" (`1`, "yes") is not
    guessed at: the alert fires as without it, and a note says the flag was not read, so an
    alert that meant to close a ticket and opened one is explained in the log."""
    read = _read({"title": "Disk full on db-1", "resolved": "yes"})
    assert [alert.status for alert in read.alerts] == [Status.FIRING]
    assert any("resolved" in note and "'yes'" in note for note in read.notes)
