"""Generic JSON from custom scripts and threshold events from the metric evaluator."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from triage.errors import InvalidAlertError, UnknownFormatError
from triage.models import Alert, Priority, Status
from triage.normalize import normalize_body, normalize_payload

PAYLOADS = Path(__file__).parent / "payloads"


def payload(name: str) -> dict[str, Any]:
    value: dict[str, Any] = json.loads((PAYLOADS / name).read_text(encoding="utf-8"))
    return value


def only(name: str) -> Alert:
    return run(payload(name))


def run(body: dict[str, Any]) -> Alert:
    result = normalize_body(json.dumps(body))
    assert len(result.alerts) == 1, result
    return result.alerts[0]


def test_generic_alert_fields() -> None:
    """Every documented generic field lands in its canonical place; runbook is an alias."""
    alert = only("generic/firing.json")
    assert alert.source == "generic"
    assert alert.status is Status.FIRING
    assert alert.title == "Nightly backup of orders-db failed"
    assert (alert.team, alert.priority, alert.severity) == ("data", Priority.MEDIUM, "error")
    assert alert.runbook_url == "https://runbooks.example.com/backups"
    assert alert.description.startswith("pg_dump exited 1")
    assert alert.labels == {
        "origin": "backup-cron",
        "host": "backup-1",
        "dedup_key": "backup-orders-db",
    }
    assert alert.occurred_at == datetime(2026, 11, 23, 3, 0, tzinfo=UTC)
    assert alert.identity == {"dedup_key": "backup-orders-db"}


def test_generic_resolved_shares_the_dedup_key_incident() -> None:
    """Firing and resolved with one dedup_key are one incident, whatever else changed."""
    resolved = only("generic/resolved.json")
    assert resolved.status is Status.RESOLVED
    assert resolved.fingerprint == only("generic/firing.json").fingerprint


@pytest.mark.parametrize("name", ["deduplication_key", "dedupKey", "incident_key"])
def test_a_templates_other_name_for_the_dedup_key_keys_the_incident(name: str) -> None:
    """Checkly's incident.io template (`deduplication_key`), camelCase and Events API v1's
    `incident_key`: its failure and recovery, titled differently, are one incident, the same as
    under `dedup_key`; an empty one falls to the next name, then to source + title."""
    failed = run({"title": "Check 'Shop' has failed", name: "chk-1"})
    recovered = run({"title": "Check 'Shop' has recovered", name: "chk-1", "status": "resolved"})
    assert failed.fingerprint == recovered.fingerprint
    assert failed.fingerprint == run({"title": "other", "dedup_key": "chk-1"}).fingerprint
    assert recovered.status is Status.RESOLVED
    assert run({"title": "t", "dedup_key": "", name: "chk-1"}).identity == {"dedup_key": "chk-1"}
    assert run({"title": "t", name: ""}).identity == {"source": "generic", "title": "t"}


def test_without_dedup_key_identity_is_source_and_title() -> None:
    """No dedup_key: the script's source plus the title identify the incident."""
    alert = only("generic/no-dedup-key.json")
    assert alert.identity == {
        "source": "cert-checker",
        "title": "Certificate for shop.example.com expires in 7 days",
    }
    assert alert.status is Status.FIRING  # the default
    assert alert.occurred_at == datetime(2026, 11, 23, 6, 0, tzinfo=UTC)  # epoch seconds
    other = payload("generic/no-dedup-key.json") | {"source": "other-checker"}
    assert run(other).fingerprint != alert.fingerprint


def test_long_titles_stay_distinct_in_identity() -> None:
    """Two titles that differ only after 200 characters are different incidents."""
    base = {"title": "x" * 250 + "A", "source": "s"}
    first, second = run(base), run(base | {"title": "x" * 250 + "B"})
    assert first.title == second.title and first.title.endswith("…")
    assert first.fingerprint != second.fingerprint


@pytest.mark.parametrize("title", [None, "", "   ", "\u202e\x00"])
def test_empty_title_is_invalid(title: Any) -> None:
    """A generic alert whose title is empty once cleaned is a InvalidAlertError."""
    with pytest.raises(InvalidAlertError, match="title"):
        normalize_body(json.dumps({"title": title, "source": "s"}))


def test_missing_title_is_an_unknown_format() -> None:
    """Without a title the body matches no format at all."""
    with pytest.raises(UnknownFormatError, match="generic"):
        normalize_body(json.dumps({"source": "s", "status": "firing"}))


@pytest.mark.parametrize(
    ("status", "expected"),
    [
        ("FIRING", Status.FIRING),
        (" resolved ", Status.RESOLVED),
        ("ok", Status.RESOLVED),
        (None, Status.FIRING),
    ],
)
def test_generic_status_words(status: Any, expected: Status) -> None:
    """Status is case- and space-insensitive, with a few synonyms; null means firing."""
    assert run({"title": "t", "status": status}).status is expected


@pytest.mark.parametrize("status", ["exploded", 1, True, ["firing"]])
def test_generic_bad_status_is_invalid(status: Any) -> None:
    """An unknown or non-text status is a InvalidAlertError."""
    with pytest.raises(InvalidAlertError, match="status"):
        normalize_body(json.dumps({"title": "t", "status": status}))


def test_threshold_event_fields() -> None:
    """A triggered threshold event states value against threshold and keeps its facts as labels."""
    alert = only("threshold/triggered.json")
    assert alert.source == "threshold"
    assert alert.status is Status.FIRING
    assert alert.title == "CPU above 90% on edge-router-17.fra1.example.net"
    assert alert.description == (
        "cpu_usage_percent is 97.2 on edge-router-17; the rule fires when it is > 90."
    )
    assert (alert.team, alert.priority) == ("network", Priority.HIGH)
    assert alert.labels["current_value"] == "97.2"
    assert alert.labels["threshold"] == "90"
    assert alert.labels["host"] == "edge-router-17.fra1.example.net"
    assert alert.identity == {
        "rule": "rule-cpu-high",
        "target": "edge-router-17",
        "metric": "cpu_usage_percent",
    }
    assert alert.occurred_at == datetime(2026, 11, 23, 9, 45, 0, 250000, tzinfo=UTC)


def test_threshold_resolved_is_the_same_incident() -> None:
    """resolved shares the triggered event's fingerprint and says the value is back."""
    resolved = only("threshold/resolved.json")
    assert resolved.status is Status.RESOLVED
    assert resolved.fingerprint == only("threshold/triggered.json").fingerprint
    assert "is back to 41.5" in resolved.description


def test_same_rule_on_another_device_is_another_incident() -> None:
    """The same rule on another device has a different fingerprint."""
    assert (
        only("threshold/other-device.json").fingerprint
        != only("threshold/triggered.json").fingerprint
    )


def test_same_rule_on_another_host_is_another_incident() -> None:
    """Without device ids, the host tells incidents apart."""
    first = payload("threshold/host-only.json")
    assert run(first).fingerprint != run(first | {"host": "batch-worker-4"}).fingerprint


def test_threshold_host_only_and_epoch_millis() -> None:
    """A host-only event is identified by its host; evaluated_at in epoch ms is understood."""
    alert = only("threshold/host-only.json")
    assert alert.identity["target"] == "batch-worker-3"
    assert alert.priority is Priority.MEDIUM  # priority 2
    assert alert.occurred_at == datetime(2026, 11, 23, 9, 45, tzinfo=UTC)


def test_threshold_without_device_or_host_is_invalid() -> None:
    """A threshold event that names neither device nor host cannot be identified."""
    body = payload("threshold/triggered.json")
    del body["device_id"], body["host"]
    with pytest.raises(InvalidAlertError, match="device_id or host"):
        normalize_body(json.dumps(body))


def test_threshold_bad_state_is_invalid() -> None:
    """A threshold state other than triggered/resolved is a InvalidAlertError."""
    with pytest.raises(InvalidAlertError, match="triggered or resolved"):
        normalize_body(json.dumps(payload("threshold/triggered.json") | {"state": "meh"}))


@pytest.mark.parametrize(
    ("extra", "title"),
    [
        (
            {"host": "db-replica-3.internal"},
            "replication_lag_seconds ≥ 300 on db-replica-3.internal",
        ),
        ({}, "replication_lag_seconds ≥ 300 on device 3017"),
        ({"rule_name": "Replica lagging"}, "Replica lagging on device 3017"),
        ({"operator": "gt", "host": "db-3"}, "replication_lag_seconds > 300 on db-3"),
    ],
)
def test_threshold_title_says_what_failed_and_where(extra: dict[str, str], title: str) -> None:
    """A threshold title names the metric and comparison when the rule has no name, and the
    host rather than a numeric device id; the fingerprint still follows rule + device + metric."""
    payload = {
        "event_type": "threshold_alert",
        "state": "triggered",
        "rule_id": "rule-repl-lag-300",
        "metric": "replication_lag_seconds",
        "current_value": 412,
        "threshold_value": 300,
        "operator": ">=",
        "device_id": 3017,
        **extra,
    }
    [alert] = normalize_payload(payload).alerts
    assert alert.title == title
    assert alert.identity == {
        "rule": "rule-repl-lag-300",
        "target": "3017",
        "metric": "replication_lag_seconds",
    }


@pytest.mark.parametrize("status", [False, "", 0, []])
def test_a_status_that_is_no_word_is_invalid_not_firing(status: object) -> None:
    """`"status": false` (or "", 0) is refused, not read as firing; only absent or null is."""
    with pytest.raises(InvalidAlertError, match="not firing or resolved"):
        run({"title": "disk full", "status": status})
    assert run({"title": "disk full", "status": None}).status is Status.FIRING


def test_an_id_sent_as_a_whole_float_is_the_same_incident() -> None:
    """dedup_key 4504689410.0 (a sender's JSON library) is the incident of 4504689410."""
    as_float = run({"title": "x", "dedup_key": 4504689410.0})
    assert as_float.fingerprint == run({"title": "x", "dedup_key": "4504689410"}).fingerprint
    assert as_float.fingerprint != run({"title": "x", "dedup_key": 4504689410.5}).fingerprint


def test_a_timestamp_with_a_lower_case_t_and_z_is_read() -> None:
    """RFC 3339 allows "2026-11-23t03:00:00z"; it is not replaced by the time of reading."""
    alert = run({"title": "x", "timestamp": "2026-11-23t03:00:00z"})
    assert alert.occurred_at == datetime(2026, 11, 23, 3, tzinfo=UTC)


def test_a_script_s_http_date_is_its_time_not_now() -> None:
    """A `date -R` / toUTCString() timestamp dates the alert instead of being dropped for now."""
    alert = run({"title": "x", "timestamp": "Mon, 23 Nov 2026 03:00:00 GMT"})
    assert alert.occurred_at == datetime(2026, 11, 23, 3, 0, tzinfo=UTC)


def test_a_nested_label_or_host_is_kept_as_json_text() -> None:
    """A script's label (or host) that is an object or array is kept as compact JSON text
    beside the flat ones, instead of refusing the whole alert or dropping the label."""
    alert = run(
        {
            "title": "x",
            "labels": {"env": "prod", "owner": {"team": "sre", "oncall": ["ana"]}},
            "host": ["db-1", "db-2"],
        }
    )
    assert alert.labels["env"] == "prod"
    assert alert.labels["owner"] == '{"oncall":["ana"],"team":"sre"}'
    assert alert.labels["host"] == '["db-1","db-2"]'
    assert alert.fingerprint == run({"title": "x"}).fingerprint


@pytest.mark.parametrize("name", ["generic/firing.json", "threshold/triggered.json"])
def test_a_runbook_that_is_not_a_link_stays_readable(name: str) -> None:
    """A script's runbook that is no http(s) link is kept in the description, as CloudWatch's
    RUNBOOK is, and a usable `runbook` link is taken when `runbook_url` is not one."""
    body = payload(name)
    body.pop("runbook", None)
    body["runbook_url"] = "see the wiki page 'backups'"
    alert = run(body)
    assert alert.runbook_url is None
    assert alert.description.endswith("\n\nRunbook: see the wiki page 'backups'")
    body["runbook"] = "https://runbooks.example.com/backups"
    alert = run(body)
    assert alert.runbook_url == "https://runbooks.example.com/backups"
    assert "Runbook:" not in alert.description


def test_a_runbook_that_is_an_object_is_passed_over() -> None:
    """A runbook that is an object or a list is neither a link nor text: the alert still comes."""
    body = payload("generic/firing.json")
    body["runbook"] = {"url": "https://runbooks.example.com/backups"}
    alert = run(body)
    assert alert.runbook_url is None
    assert "Runbook:" not in alert.description


@pytest.mark.parametrize("odd", [{"name": "storage"}, ["storage"]])
@pytest.mark.parametrize("name", ["generic/firing.json", "threshold/triggered.json"])
def test_a_team_or_severity_that_is_an_object_is_passed_over(name: str, odd: Any) -> None:
    """A team or severity that is an object or array is left empty; the alert is kept as is."""
    body = payload(name)
    before = run(body)
    body.update(team=odd, severity=odd)
    alert = run(body)
    assert (alert.fingerprint, alert.title, alert.status) == (
        before.fingerprint,
        before.title,
        before.status,
    )
    assert (alert.team, alert.severity) == (None, None)


def test_generic_labels_that_are_no_object_are_passed_over() -> None:
    """A generic alert whose labels are a string or array keeps its ticket, without them."""
    body = payload("generic/firing.json")
    before = run(body)
    body["labels"] = "env=prod"
    alert = run(body)
    assert alert.fingerprint == before.fingerprint and "env" not in alert.labels


def test_threshold_values_of_odd_type_read_as_json_and_an_odd_operator_is_passed_over() -> None:
    """A threshold event's current or threshold value that is an object reads as JSON text and
    an operator that is one is left out; the event is read with its fingerprint."""
    body = payload("threshold/triggered.json")
    before = run(body)
    body.update(current_value={"avg": 97.2}, threshold_value=[90], operator={"op": ">"})
    alert = run(body)
    assert alert.fingerprint == before.fingerprint
    assert alert.labels["current_value"] == '{"avg":97.2}'
    assert alert.description == (
        'cpu_usage_percent is {"avg":97.2} on edge-router-17; threshold [90].'
    )


@pytest.mark.parametrize("odd", [{"name": "cron"}, ["cron"]])
def test_a_source_of_odd_type_is_passed_over_when_a_dedup_key_identifies(odd: Any) -> None:
    """With a dedup_key the source is only shown: an object there is passed over, not refused."""
    body = payload("generic/firing.json")
    before = run(body)
    body["source"] = odd
    alert = run(body)
    assert alert.fingerprint == before.fingerprint and alert.labels["origin"] == "generic"


@pytest.mark.parametrize("odd", [{"name": "r17"}, ["r17"]])
def test_a_host_of_odd_type_is_passed_over_when_a_device_identifies(odd: Any) -> None:
    """With a device_id the host is only shown: an object there is passed over, not refused."""
    body = payload("threshold/triggered.json")
    before = run(body)
    body["host"] = odd
    alert = run(body)
    assert alert.fingerprint == before.fingerprint
    assert (alert.title, alert.labels.get("host")) == ("CPU above 90% on edge-router-17", None)


def test_without_a_dedup_key_a_source_of_odd_type_is_still_refused() -> None:
    """Without a dedup_key the source is identity, so an object there is refused, naming it."""
    body = payload("generic/no-dedup-key.json")
    body["source"] = {"name": "cron"}
    with pytest.raises(InvalidAlertError, match="source must be text"):
        normalize_body(json.dumps(body))


@pytest.mark.parametrize("odd", [{"name": "CPU"}, ["CPU"]])
def test_a_rule_name_of_odd_type_is_passed_over_when_a_rule_id_identifies(odd: Any) -> None:
    """With a rule_id the rule's name is only shown: an object there is passed over (the title
    is the comparison instead), not refused."""
    body = payload("threshold/triggered.json")
    before = run(body)
    body["rule_name"] = odd
    alert = run(body)
    assert alert.fingerprint == before.fingerprint
    assert alert.title == "cpu_usage_percent > 90 on edge-router-17.fra1.example.net"
