"""Alert sources, round 13 (helper 424): alerts real senders send that triage read wrongly,
built from the tools' documented payloads, each with the behaviour its fix must keep."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest

from triage.errors import InvalidAlertError
from triage.models import Alert, Priority, Status
from triage.normalize import normalize_body
from triage.normalize.common import Normalized

_PAYLOADS = Path(__file__).parent / "payloads"


def _read(body: dict[str, Any]) -> Normalized:
    """What `body` becomes."""
    return normalize_body(json.dumps(body))


def _only(body: dict[str, Any]) -> Alert:
    """The one alert `body` becomes."""
    [alert] = _read(body).alerts
    return alert


def _sample(name: str) -> dict[str, Any]:
    """A shared sample payload, copied so a test may change it."""
    loaded: dict[str, Any] = json.loads((_PAYLOADS / name).read_text(encoding="utf-8"))
    return copy.deepcopy(loaded)


# --- Kibana: a rule's action group name as the generic status --------------------------------

#: A Kibana rule's Webhook connector body whose status is the Mustache variable
#: `{{alert.actionGroupName}}` (or `{{alert.actionGroup}}`, its id): the Index threshold rule's
#: group is "Threshold met" (id "threshold met"), the Elasticsearch query and ES|QL rules'
#: "Query matched" (id "query matched"), the Log threshold rule's "Fired" (id
#: "logs.threshold.fired"), the Metric threshold rule's id "metrics.threshold.fired"; every
#: rule's recovery is "Recovered" (id "recovered"). The Synthetics and Uptime rules' groups
#: are ids "xpack.<app>.alerts.actionGroups.<group>" ("…monitorStatus", "…tlsCertificate").


def _kibana(status: str) -> dict[str, Any]:
    """A Kibana rule's webhook body with `status` as its action group says it."""
    return {
        "title": "Checkout 5xx over 50 in 5m", "status": status,
        "dedup_key": "kibana-9f1c2b7e", "source": "kibana",
        "description": "Document count is 73 in the last 5m in logs-checkout-*",
    }  # fmt: skip


@pytest.mark.parametrize(
    "group",
    [
        "Threshold met", "threshold met", "Query matched", "query matched", "Fired",
        "logs.threshold.fired", "metrics.threshold.fired", "metrics.inventory_threshold.fired",
        "xpack.synthetics.alerts.actionGroups.monitorStatus",
        "xpack.uptime.alerts.actionGroups.tlsCertificate",
    ],
)  # fmt: skip
def test_a_kibana_rules_action_group_fires(group: str) -> None:
    """A Kibana rule's firing action group, sent as the status, opens its incident."""
    assert _only(_kibana(group)).status is Status.FIRING


def test_a_kibana_rules_recovered_group_resolves_the_same_incident() -> None:
    """Its "Recovered" group resolves the incident its "Query matched" opened."""
    fired, recovered = _only(_kibana("Query matched")), _only(_kibana("Recovered"))
    assert recovered.status is Status.RESOLVED
    assert recovered.fingerprint == fired.fingerprint


def test_a_word_no_tool_sends_is_still_refused() -> None:
    """A dotted word that merely ends like an id ("fired") is not read as one."""
    with pytest.raises(InvalidAlertError):
        _read(_kibana("threshold.misfired"))


# --- Uptime Kuma: a monitor's tags and their values -------------------------------------------

#: Uptime Kuma's monitor object lists its tags as the monitor_tag rows joined to their tag
#: (server/model/monitor.js): `{id, monitor_id, tag_id, value, name, color}`; a tag's value
#: is "" when none was set.


def _kuma_tagged(status: int, *tags: tuple[str, str]) -> dict[str, Any]:
    """Uptime Kuma's JSON webhook of monitor 29 with `tags` (name, value) and `status`."""
    body = _sample("uptimekuma/json-down.json")
    body["heartbeat"]["status"] = status
    body["monitor"]["tags"] = [
        {"id": n, "monitor_id": 29, "tag_id": n, "value": value, "name": name, "color": "#059669"}
        for n, (name, value) in enumerate(tags, start=1)
    ]
    return body


def test_a_kuma_tags_value_is_a_label_of_its_name() -> None:
    """A tag with a value (env: prod) is the label env=prod a route can match."""
    alert = _only(_kuma_tagged(0, ("env", "prod"), ("critical-path", "")))
    assert alert.labels["env"] == "prod"
    assert "critical-path" in alert.labels["tags"]


def test_a_kuma_team_tag_is_its_team() -> None:
    """A tag `team` with a value routes the alert to that team, as Azure's property does."""
    assert _only(_kuma_tagged(0, ("team", "payments"))).team == "payments"


def test_a_kuma_tag_changes_no_incident() -> None:
    """A tag added while the monitor is down keys no new incident: its recovery closes it."""
    down = _only(_kuma_tagged(0))
    up = _only(_kuma_tagged(1, ("env", "prod")))
    assert up.status is Status.RESOLVED
    assert up.fingerprint == down.fingerprint


# --- Graylog: an event definition's custom fields ---------------------------------------------

#: A Graylog event definition's "Fields" step adds fields of its own to every event it raises
#: (EventDto `fields`: a template's or a lookup's value by name, "team", "service" …), beside
#: the `group_by_fields` an aggregation keys its events by.


def _graylog_with_fields(**fields: str) -> dict[str, Any]:
    """Graylog's HTTP notification of the shared sample event, with custom `fields`."""
    body = _sample("graylog/event.json")
    body["event"]["fields"] = fields
    return body


def test_a_graylog_events_custom_fields_are_labels() -> None:
    """An event's custom field (service: sshd) is the label service=sshd a route can match."""
    alert = _only(_graylog_with_fields(service="sshd", env="prod"))
    assert (alert.labels["service"], alert.labels["env"]) == ("sshd", "prod")


def test_a_graylog_team_field_is_its_team() -> None:
    """An event's custom field `team` routes it to that team."""
    assert _only(_graylog_with_fields(team="security")).team == "security"


def test_a_graylog_custom_field_keeps_the_group_by_value_and_the_incident() -> None:
    """A custom field named as a group-by field keeps the group's value; fields key nothing."""
    plain = _only(_graylog_with_fields())
    alert = _only(_graylog_with_fields(source="elsewhere", service="sshd"))
    assert alert.labels["source"] == "web-1"
    assert alert.fingerprint == plain.fingerprint


# --- Cloud Monitoring: the monitored resource's own labels -----------------------------------

#: A webhook notification (schema 1.2) carries, beside the policy's user labels, the metadata
#: of the monitored resource the incident is about: `incident.metadata.user_labels` (the labels
#: its owner put on the VM, the bucket …: team, env) and `system_labels`.


def _gcp_with_resource_labels(resource: dict[str, str], policy: dict[str, str]) -> dict[str, Any]:
    """Cloud Monitoring's notification of the shared sample with these user labels."""
    body = _sample("gcp/uptime-open.json")
    body["incident"]["metadata"] = {"system_labels": {"zone": "europe-west1-b"},
                                    "user_labels": resource}  # fmt: skip
    body["incident"]["policy_user_labels"] = policy
    return body


def test_a_monitored_resources_user_labels_are_labels() -> None:
    """The VM's own label env=prod is a label a route can match."""
    alert = _only(_gcp_with_resource_labels({"env": "prod", "team": "payments"}, {}))
    assert alert.labels["env"] == "prod"
    assert alert.team == "payments"


def test_the_policys_labels_outrank_the_resources() -> None:
    """A label the policy sets too (team) keeps the policy's value, which names the owner."""
    body = _gcp_with_resource_labels({"team": "infra", "env": "prod"}, {"team": "payments"})
    alert = _only(body)
    assert (alert.labels["team"], alert.team, alert.labels["env"]) == ("payments",) * 2 + ("prod",)


def test_a_resources_labels_key_nothing() -> None:
    """Resource labels added while an incident is open make no new incident."""
    plain = _only(_gcp_with_resource_labels({}, {}))
    assert _only(_gcp_with_resource_labels({"env": "prod"}, {})).fingerprint == plain.fingerprint


# --- PagerDuty: an account's priorities renamed SEV-1 to SEV-5 ---------------------------------

#: PagerDuty lets an account rename its five priorities (Incident Priority settings), and many
#: name them SEV-1 to SEV-5: the lowest, SEV-5, is a low incident whatever its urgency.


def _pd_priority(named: str) -> dict[str, Any]:
    """PagerDuty's incident.triggered sample, of high urgency, at the priority `named`."""
    body = _sample("pagerduty/triggered.json")
    body["event"]["data"]["urgency"] = "high"
    body["event"]["data"]["priority"] = {"id": "PSO4NJQ", "summary": named,
                                         "type": "priority_reference"}  # fmt: skip
    return body


@pytest.mark.parametrize("named", ["SEV-5", "Sev5", "SEV 5"])
def test_a_sev5_pagerduty_incident_is_low(named: str) -> None:
    """A SEV-5 incident is stated low, not left to its urgency (high)."""
    assert _only(_pd_priority(named)).priority is Priority.LOW


def test_a_sev1_pagerduty_incident_stays_critical() -> None:
    """SEV-1, the top of the same scale, stays critical."""
    assert _only(_pd_priority("SEV-1")).priority is Priority.CRITICAL
