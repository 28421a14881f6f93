"""Grafana (unified and legacy) and Alertmanager groups: every alert, identified by its labels."""

from __future__ import annotations

import copy
import json
import re
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from triage.errors import InvalidAlertError
from triage.models import Priority, Status
from triage.normalize import Normalized, normalize_body

PAYLOADS = Path(__file__).parent / "payloads"


def payload(name: str) -> dict[str, Any]:
    value: dict[str, Any] = json.loads((PAYLOADS / name).read_text(encoding="utf-8"))
    return value


def load(name: str) -> Normalized:
    return normalize_body((PAYLOADS / name).read_text(encoding="utf-8"))


def run(body: dict[str, Any]) -> Normalized:
    return normalize_body(json.dumps(body))


def test_grafana_group_gives_every_alert() -> None:
    """A two-alert Grafana group yields two alerts with their own fields and fingerprints."""
    result = load("grafana/group-firing.json")
    assert [a.labels["instance"] for a in result.alerts] == ["db-7:9100", "db-8:9100"]
    first, second = result.alerts
    assert first.fingerprint != second.fingerprint
    assert first.source == "grafana"
    assert first.status is Status.FIRING
    assert first.title == "DiskAlmostFull: Disk on db-7 is almost full"
    assert (first.team, first.priority) == ("platform", Priority.HIGH)
    assert first.runbook_url == "https://runbooks.example.com/disk-full"
    assert first.description == (
        "Filesystem /var/lib/postgresql on db-7 is 93.5% full.\n\nValues: A=93.5, C=1"
    )
    assert set(first.links) == {"source", "silence", "dashboard", "panel"}
    assert first.occurred_at == datetime(2026, 11, 23, 9, 1, tzinfo=UTC)
    assert first.identity == first.raw["alert"]["labels"]
    assert first.raw["groupKey"] == result.alerts[1].raw["groupKey"]
    assert "alerts" not in first.raw
    assert result.skipped == () and result.notes == ()


def test_resolved_shares_the_firing_fingerprint() -> None:
    """The resolved notification of db-7 is the same incident, dated by its endsAt."""
    firing = load("grafana/group-firing.json").alerts[0]
    resolved = load("grafana/group-resolved.json").alerts[0]
    assert resolved.status is Status.RESOLVED
    assert resolved.fingerprint == firing.fingerprint
    assert resolved.occurred_at == datetime(2026, 11, 23, 9, 41, tzinfo=UTC)


def test_grafana_fingerprint_field_is_ignored() -> None:
    """Identity is our hash of the labels: Grafana's own `fingerprint` field changes nothing."""
    body = payload("grafana/group-firing.json")
    before = [a.fingerprint for a in run(body).alerts]
    for alert in body["alerts"]:
        alert["fingerprint"] = "0000000000000000"
    assert [a.fingerprint for a in run(body).alerts] == before


def test_label_order_does_not_matter() -> None:
    """The same label set in another key order is the same incident."""
    body = payload("grafana/group-firing.json")
    before = run(body).alerts[0].fingerprint
    labels = body["alerts"][0]["labels"]
    body["alerts"][0]["labels"] = dict(reversed(list(labels.items())))
    assert run(body).alerts[0].fingerprint == before


def test_volatile_fields_do_not_change_the_fingerprint() -> None:
    """Values, annotations, times and URLs are not identity."""
    body = payload("grafana/group-firing.json")
    before = run(body).alerts[0].fingerprint
    alert = body["alerts"][0]
    alert.update(values={"A": 99.9}, valueString="x", startsAt="2026-12-01T00:00:00Z")
    alert["annotations"]["summary"] = "something else entirely"
    alert["generatorURL"] = "https://grafana.example.com/other"
    assert run(body).alerts[0].fingerprint == before


def test_one_more_label_is_another_incident() -> None:
    """Adding a label changes the label set, hence the incident."""
    body = payload("grafana/group-firing.json")
    before = run(body).alerts[0].fingerprint
    body["alerts"][0]["labels"]["region"] = "eu-west-1"
    assert run(body).alerts[0].fingerprint != before


def test_grafana_8_shape_without_org_or_values() -> None:
    """The Grafana 8 payload (no orgId, only valueString) is recognised and normalised."""
    alert = load("grafana/v8-firing.json").alerts[0]
    assert alert.source == "grafana"
    assert (alert.title, alert.team, alert.priority) == (
        "systemd failures",
        "infra",
        Priority.MEDIUM,
    )
    assert "Values: [ metric='test-grafana-fail-service.service'" in alert.description
    assert alert.occurred_at == datetime(2022, 4, 8, 11, 2, 6, 136489, tzinfo=UTC)


def test_grafana_9_shape_with_org_but_no_values() -> None:
    """The Grafana 9.0/9.1 payload (orgId and valueString, no `values` map yet) is normalised
    with its team, priority, severity, runbook, links and instance-specific identity."""
    [alert] = load("grafana/v9-firing.json").alerts
    assert alert.source == "grafana"
    assert (alert.title, alert.team, alert.priority, alert.severity) == (
        "High memory usage: pay-api-2 memory above 90%",
        "payments",
        Priority.MEDIUM,
        "warning",
    )
    assert alert.runbook_url == "https://runbooks.example.com/payments/memory"
    assert alert.links["panel"].endswith("viewPanel=12")
    assert "value=93.4" in alert.description
    assert alert.identity["instance"] == "pay-api-2:9100"
    assert alert.occurred_at == datetime(2022, 11, 3, 8, 51, 3, 157076, tzinfo=UTC)


def test_contact_point_test_notification_is_skipped() -> None:
    """Grafana's "Test notification" (TestAlert from instance Grafana) makes no ticket."""
    result = load("grafana/test-notification.json")
    assert result.alerts == ()
    assert [(s.source, s.reason) for s in result.skipped] == [("grafana", "test_notification")]


def test_test_alert_beside_a_real_one_skips_only_the_test() -> None:
    """In a mixed group only the test alert is skipped."""
    body = payload("grafana/group-firing.json")
    body["alerts"].append(payload("grafana/test-notification.json")["alerts"][0])
    result = run(body)
    assert len(result.alerts) == 2 and len(result.skipped) == 1


def test_legacy_dashboard_alert_and_its_ok() -> None:
    """Legacy alerting/ok notifications are one incident keyed by org and rule id."""
    firing = load("grafana/legacy-alerting.json").alerts[0]
    resolved = load("grafana/legacy-ok.json").alerts[0]
    assert (firing.status, resolved.status) == (Status.FIRING, Status.RESOLVED)
    assert firing.fingerprint == resolved.fingerprint
    assert firing.identity == {"org_id": "1", "rule_id": "7"}
    assert (firing.title, firing.team, firing.priority) == ("Load peaking!", "web", Priority.HIGH)
    assert firing.severity == "page"
    assert "Values: High value=100, Higher Value=200" in firing.description


@pytest.mark.parametrize(
    ("name", "reason"),
    [
        ("grafana/legacy-no-data.json", "no_data"),
        ("grafana/legacy-test-notification.json", "test_notification"),
    ],
)
def test_legacy_quiet_states_are_skipped(name: str, reason: str) -> None:
    """Legacy no_data and the channel test make no ticket."""
    result = load(name)
    assert result.alerts == () and [s.reason for s in result.skipped] == [reason]


def test_alertmanager_group_and_truncation_note() -> None:
    """Alertmanager v4: all three alerts, and a note that two more were truncated."""
    result = load("alertmanager/group-firing.json")
    assert {a.source for a in result.alerts} == {"alertmanager"}
    assert len({a.fingerprint for a in result.alerts}) == 3
    assert len(result.notes) == 1 and "left 2 alert(s)" in result.notes[0]
    first = result.alerts[0]
    assert (first.team, first.priority, first.severity) == ("payments", Priority.HIGH, "page")
    assert first.title == "HighRequestLatency: High request latency on checkout-1:8080"
    assert "dashboard: https://grafana.example.com/d/checkout" in first.description
    assert first.occurred_at == datetime(2026, 11, 23, 9, 10, tzinfo=UTC)


def test_alertmanager_resolved_shares_fingerprint() -> None:
    """Alertmanager's resolved alert is the firing one's incident."""
    firing = load("alertmanager/group-firing.json").alerts[0]
    resolved = load("alertmanager/group-resolved.json").alerts[0]
    assert resolved.status is Status.RESOLVED
    assert resolved.fingerprint == firing.fingerprint
    assert resolved.occurred_at == datetime(2026, 11, 23, 9, 32, tzinfo=UTC)


def test_same_labels_in_grafana_and_alertmanager_are_different_sources() -> None:
    """The source is part of the fingerprint, so the two systems never merge incidents."""
    grafana = load("grafana/group-firing.json").alerts[0]
    am = payload("alertmanager/group-firing.json")
    am["alerts"] = [copy.deepcopy(grafana.raw["alert"])]
    same_labels = run(am).alerts[0]
    assert same_labels.identity == grafana.identity
    assert same_labels.fingerprint != grafana.fingerprint


def test_alert_status_falls_back_to_the_group_status() -> None:
    """An alert without its own status takes the group's."""
    body = payload("alertmanager/group-resolved.json")
    del body["alerts"][0]["status"]
    assert run(body).alerts[0].status is Status.RESOLVED


@pytest.mark.parametrize(
    ("change", "match"),
    [
        ({"labels": {}}, "no labels"),
        ({"labels": None}, "no labels"),
        ({"status": "exploded"}, "not firing or resolved"),
        ({"labels": {"alertname": {"nested": 1}}}, "must be text"),
    ],
)
def test_a_malformed_alert_is_left_out_of_its_group(change: dict[str, Any], match: str) -> None:
    """An alert without labels, with an unknown status or nested labels is left out with a note
    naming it and why; the group's other alerts are still normalised."""
    body = payload("alertmanager/group-firing.json")
    whole = run(body)
    body["alerts"][1].update(change)
    result = run(body)
    assert len(whole.alerts) >= 2
    assert [a.fingerprint for a in result.alerts] == [
        a.fingerprint for i, a in enumerate(whole.alerts) if i != 1
    ]
    (note,) = [n for n in result.notes if "left out of its group" in n]
    assert "alerts[1]" in note
    assert re.search(match, note)


@pytest.mark.parametrize(
    ("change", "match"),
    [
        ({"labels": {}}, "no labels"),
        ({"status": "exploded"}, "not firing or resolved"),
        ({"labels": {"alertname": {"nested": 1}}}, "must be text"),
    ],
)
def test_a_group_of_only_malformed_alerts_is_refused(change: dict[str, Any], match: str) -> None:
    """When no alert of the group can be read, the message is refused with the first error."""
    body = payload("alertmanager/group-firing.json")
    for alert in body["alerts"]:
        alert.update(change)
    with pytest.raises(InvalidAlertError, match=match):
        run(body)


def test_non_object_alert_is_left_out_naming_its_index() -> None:
    """A group whose alerts[] holds a string keeps its other alerts; the note names the index.
    A group holding nothing but such strings is refused, naming the first."""
    body = payload("grafana/group-firing.json")
    count = len(body["alerts"])
    body["alerts"][1] = "oops"
    result = run(body)
    assert len(result.alerts) == count - 1
    assert "alerts[1]" in result.notes[0]
    body["alerts"] = ["oops", 7]
    with pytest.raises(InvalidAlertError, match=r"alerts\[0\]"):
        run(body)


def test_empty_group_is_skipped() -> None:
    """A notification with an empty alerts list changes nothing and says so."""
    body = payload("alertmanager/group-firing.json")
    body["alerts"] = []
    result = run(body)
    assert result.alerts == () and result.skipped[0].reason == "empty_group"


def test_numeric_label_values_are_text() -> None:
    """A label whose value is a number is coerced to text, in labels and identity alike."""
    body = payload("alertmanager/group-firing.json")
    body["alerts"][0]["labels"]["shard"] = 3
    alert = run(body).alerts[0]
    assert alert.labels["shard"] == alert.identity["shard"] == "3"


def test_grafana_no_data_alerts_are_titled_by_their_rule() -> None:
    """Grafana names every no-data (and query-error) alert DatasourceNoData: the rule in its
    `rulename` label makes the ticket say which one."""
    [alert] = load("grafana/datasource-nodata.json").alerts
    assert alert.title.startswith("DatasourceNoData: Checkout latency p99")


def test_alertmanager_alert_with_a_null_status_takes_the_groups() -> None:
    """`"status": null` on an alert is the group's status, as when it is absent."""
    [alert] = load("alertmanager/alert-status-null.json").alerts
    assert alert.status is Status.RESOLVED


def test_alertmanager_alert_without_a_name_or_summary_is_titled_by_its_labels() -> None:
    """No alertname and no summary: the title names the alert's labels, not the word "alert"."""
    [alert] = load("alertmanager/no-alertname.json").alerts
    assert alert.title == "instance=10.0.0.1:9100, job=node"


@pytest.mark.parametrize("alertname", ["  ", "\x00\u202e", ""])
def test_a_blank_alertname_falls_back_to_the_summary(alertname: str) -> None:
    """An alertname with nothing to show titles the alert by its summary, as a missing one
    does, instead of leaving it out of its group."""
    body = payload("alertmanager/group-firing.json")
    body["alerts"][0]["labels"]["alertname"] = alertname
    result = run(body)
    assert result.alerts[0].title == "High request latency on checkout-1:8080"
    assert len(result.alerts) == 3


def test_a_legacy_alert_without_a_name_is_titled_by_its_rule() -> None:
    """A legacy alert with neither ruleName nor title is titled by its rule id, not refused."""
    body = payload("grafana/legacy-alerting.json")
    body["ruleName"] = body["title"] = ""
    [alert] = run(body).alerts
    assert alert.title == "Grafana alert rule 7"
    assert alert.fingerprint == load("grafana/legacy-alerting.json").alerts[0].fingerprint


@pytest.mark.parametrize(
    ("runbooks", "link", "shown"),
    [
        ({"runbook_url": "https://wiki.example.com/display/OPS/Disk Full"}, None,
         "Runbook: https://wiki.example.com/display/OPS/Disk Full"),
        ({"runbook_url": "see the wiki page 'disks'"}, None, "Runbook: see the wiki page 'disks'"),
        ({"runbook_url": "runbooks/disk.md", "runbook": "https://rb.example.com/disk"},
         "https://rb.example.com/disk", None),
    ],
)  # fmt: skip
def test_a_runbook_annotation_that_is_not_a_link_stays_readable(
    runbooks: dict[str, str], link: str | None, shown: str | None
) -> None:
    """A runbook annotation that is no http(s) link is kept in the description, and a usable
    `runbook` link is taken when `runbook_url` is not one."""
    body = payload("alertmanager/group-firing.json")
    annotations = body["alerts"][0]["annotations"]
    annotations.pop("runbook_url", None)
    annotations.update(runbooks)
    alert = run(body).alerts[0]
    assert alert.runbook_url == link
    if shown:
        assert shown in alert.description
    else:
        assert "Runbook:" not in alert.description


def test_a_legacy_match_without_a_value_reads_null_not_python_s_none() -> None:
    """A legacy evalMatch whose value is null (Grafana's null.Float: a series with no value)
    and a unified alert's null value read "null" in the description, never Python's "None"."""
    body = payload("grafana/legacy-alerting.json")
    body["evalMatches"] = [
        {"value": None, "metric": "db-7", "tags": None},
        {"value": True, "metric": "up"},
    ]
    [legacy] = run(body).alerts
    assert "Values: db-7=null, up=true" in legacy.description
    group = payload("grafana/group-firing.json")
    group["alerts"][0]["values"] = {"B": None, "C": 1}
    unified = run(group).alerts[0]
    assert "Values: B=null, C=1" in unified.description
    assert "None" not in legacy.description + unified.description


def test_a_legacy_runbook_tag_that_is_not_a_link_stays_readable() -> None:
    """A legacy alert's runbook tag that is no http(s) link is kept in the description, and a
    usable `runbook` tag is taken when `runbook_url` is not one."""
    body = payload("grafana/legacy-alerting.json")
    body["tags"]["runbook_url"] = "see the wiki page 'webfronts'"
    [alert] = run(body).alerts
    assert alert.runbook_url is None
    assert alert.description.endswith("\n\nRunbook: see the wiki page 'webfronts'")
    body["tags"]["runbook"] = "https://runbooks.example.com/webfronts"
    [alert] = run(body).alerts
    assert alert.runbook_url == "https://runbooks.example.com/webfronts"
    assert "Runbook:" not in alert.description


def test_legacy_ids_sent_as_whole_floats_read_as_the_identity_does() -> None:
    """A legacy ruleId, dashboardId or panelId sent as 7.0 is labelled "7", as identities read it."""
    body = {**payload("grafana/legacy-alerting.json"), "ruleId": 7.0}
    body |= {"dashboardId": 1.0, "panelId": 2.0}
    [alert] = run(body).alerts
    assert alert.labels["rule_id"] == alert.identity["rule_id"] == "7"
    assert (alert.labels["dashboard_id"], alert.labels["panel_id"]) == ("1", "2")
    assert alert.fingerprint == load("grafana/legacy-alerting.json").alerts[0].fingerprint


@pytest.mark.parametrize(
    ("value_string", "shown"),
    [
        ({"B": 93.5, "labels": {"instance": "a"}}, 'Values: {"B":93.5,"labels":{"instance":"a"}}'),
        ([1, None, True], "Values: [1,null,true]"),
        (93.5, "Values: 93.5"),
    ],
)
def test_a_value_string_of_any_json_type_reads_as_json_text(value_string: Any, shown: str) -> None:
    """A valueString that is an object, array or number is shown as JSON text; the alert stays."""
    body = payload("grafana/v9-firing.json")
    body["alerts"][0]["valueString"] = value_string
    [alert] = run(body).alerts
    assert shown in alert.description


def test_an_annotation_of_odd_type_reads_as_json_text_and_keeps_the_alert() -> None:
    """An object or array as an annotation (summary, description) reads as JSON text; the alert
    keeps its place in its group, as annotations are never its identity."""
    body = payload("grafana/group-firing.json")
    whole = run(body)
    body["alerts"][1]["annotations"] = {"summary": ["a", None], "description": {"k": True}}
    result = run(body)
    assert [a.fingerprint for a in result.alerts] == [a.fingerprint for a in whole.alerts]
    assert result.alerts[1].title.endswith(': ["a",null]')
    assert '{"k":true}' in result.alerts[1].description
    assert not [n for n in result.notes if "left out of its group" in n]


@pytest.mark.parametrize("annotations", [["not", "an", "object"], "text", 7, True])
def test_annotations_that_are_no_object_are_passed_over(annotations: Any) -> None:
    """An alert whose annotations are an array or a scalar is kept (without them), not left out."""
    body = payload("alertmanager/group-firing.json")
    whole = run(body)
    body["alerts"][1]["annotations"] = annotations
    result = run(body)
    assert [a.fingerprint for a in result.alerts] == [a.fingerprint for a in whole.alerts]
    assert not [n for n in result.notes if "left out of its group" in n]


@pytest.mark.parametrize(
    "change",
    [
        {"ruleName": {"name": "Load peaking!"}},
        {"message": ["Load", {"is": "peaking"}]},
        {"tags": {"team": {"name": "web"}, "priority": ["P1"], "severity": {"x": 1}, "k": [1]}},
        {"tags": ["team", "web"]},
        {"evalMatches": {"value": 100}},
        {"evalMatches": "100"},
    ],
)
def test_a_legacy_alert_with_an_odd_display_field_is_still_read(change: dict[str, Any]) -> None:
    """A legacy alert whose rule name, message, tags or evalMatches have an odd JSON type is
    read with the same fingerprint (org + rule id); nothing in it is refused."""
    body = payload("grafana/legacy-alerting.json")
    before = run(body).alerts[0].fingerprint
    body.update(change)
    [alert] = run(body).alerts
    assert alert.fingerprint == before
    assert alert.status is Status.FIRING and alert.title
    assert "None" not in alert.description and "{'" not in alert.description


def test_a_legacy_tag_of_odd_type_is_shown_but_names_no_team() -> None:
    """A legacy tag that is an object is kept as a JSON-text label; as team or severity it is
    passed over, since JSON text would name no real team."""
    body = payload("grafana/legacy-alerting.json")
    body["tags"] = {"team": {"name": "web"}, "severity": ["page"], "zone": {"a": None}}
    [alert] = run(body).alerts
    assert (alert.team, alert.severity) == (None, None)
    assert alert.labels["zone"] == '{"a":null}'


def test_legacy_eval_matches_with_null_metric_and_value_read_null() -> None:
    """A legacy evalMatch with a null metric and value (Grafana's null.Float) reads null=null."""
    body = payload("grafana/legacy-alerting.json")
    body["evalMatches"] = [{"metric": None, "value": None, "tags": None}]
    [alert] = run(body).alerts
    assert "Values: null=null" in alert.description


def test_a_resolved_alert_whose_end_is_go_s_zero_time_is_dated_by_its_start() -> None:
    """A resolved alert whose endsAt is "0001-01-01T00:00:00Z" resolves, dated by its startsAt,
    never by the year 1."""
    body = payload("alertmanager/group-resolved.json")
    body["alerts"][0]["endsAt"] = "0001-01-01T00:00:00Z"
    [alert] = run(body).alerts
    assert alert.status is Status.RESOLVED
    assert alert.occurred_at == datetime.fromisoformat(body["alerts"][0]["startsAt"])
