"""Leftovers of task 336 (task 378): the AWS values still cut for show (`common.word`, 256
characters) before they became labels because the same cut value keys the incident. Their
labels now carry the whole value (`add_label` shows it cut and keeps it whole for routes and
groups), while the fingerprint keeps the cut value it was keyed by, so no stored incident is
re-keyed: AWS Backup's job and account, AWS Budgets' alert type, and Security Hub's Region
(ASFF and OCSF)."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from triage.models import Alert
from triage.normalize import normalize_body

PAYLOADS = Path(__file__).parent / "payloads"

#: A value of over 300 characters; two values a test reads differ only past the 256 a label
#: shows.
LONG = "arn:aws:s3:::orders-exports/" + "part-" * 60


def _sample(name: str) -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads((PAYLOADS / name).read_text())
    return loaded


def _alert(payload: dict[str, Any]) -> Alert:
    return normalize_body(json.dumps(payload)).alerts[0]


def _backup_attribute(name: str) -> Callable[[str], Alert]:
    """An AWS Backup job's failure with `value` as its message attribute `name`."""

    def read(value: str) -> Alert:
        payload = _sample("aws/backup-job-failed.json")
        payload["MessageAttributes"][name]["Value"] = value
        return _alert(payload)

    return read


def _budget_alert_type(value: str) -> Alert:
    """A budget's alert with `value` as its "Alert Type" line."""
    payload = _sample("aws/budgets-actual-exceeded.json")
    payload["Message"] = payload["Message"].replace("Alert Type: ACTUAL", f"Alert Type: {value}")
    return _alert(payload)


def _securityhub_region(value: str) -> Alert:
    """A Macie finding Security Hub imported (ASFF), its `Region` `value`: Macie's identity
    names the Region."""
    payload = _sample("eventbridge/securityhub-macie-finding.json")
    payload["detail"]["findings"][0]["Region"] = value
    return _alert(payload)


def _ocsf_region(value: str) -> Alert:
    """A Macie finding Security Hub imported (OCSF), its event's and its cloud's `region`
    `value`."""
    payload = _sample("eventbridge/securityhub-v2-macie-finding.json")
    payload["region"] = value
    payload["detail"]["findings"][0]["cloud"]["region"] = value
    return _alert(payload)


#: (reader of a value, the label that shows it).
READERS: dict[str, tuple[Callable[[str], Alert], str]] = {
    "backup-job": (_backup_attribute("EventType"), "job"),
    "backup-account": (_backup_attribute("AccountId"), "account"),
    "budgets-alert-type": (_budget_alert_type, "alert_type"),
    "securityhub-region": (_securityhub_region, "region"),
    "securityhub-ocsf-region": (_ocsf_region, "region"),
}

#: Values each reader is pinned with: short ones AWS writes, a lower-case known word, and
#: long ones that differ only past 256 characters (and past 1,024).
VALUES = {
    "short": "BACKUP_JOB",
    "account": "210987654321",
    "known-lower": "forecasted",
    "region": "eu-west-1",
    "long-1": f"{LONG}1",
    "long-2": f"{LONG}2",
    "very-long": "x" * 2_000,
}

#: The fingerprint and the labels shown ([fingerprint, labels], sha256, first 16 hex digits)
#: of each reader's alert with each value, recorded at commit e1ac2141, before these labels
#: carried whole values: no incident re-keys and every label shows what it showed.
BEFORE = {
    ("backup-job", "short"): "16c7c84f1dafffd6",
    ("backup-job", "account"): "994c2e4b72a4be00",
    ("backup-job", "known-lower"): "b6c66c759a59a30a",
    ("backup-job", "region"): "6f1a246e40ad630b",
    ("backup-job", "long-1"): "fa3e93dc5956d967",
    ("backup-job", "long-2"): "fa3e93dc5956d967",
    ("backup-job", "very-long"): "a303db394d5286dc",
    ("backup-account", "short"): "f88773c210a56232",
    ("backup-account", "account"): "0f84d2f1c991465a",
    ("backup-account", "known-lower"): "007262355b662db5",
    ("backup-account", "region"): "c318997b00901f0a",
    ("backup-account", "long-1"): "c805d6449ce62d06",
    ("backup-account", "long-2"): "c805d6449ce62d06",
    ("backup-account", "very-long"): "926a23dcc7104817",
    ("budgets-alert-type", "short"): "94d6b7a389312f1c",
    ("budgets-alert-type", "account"): "04d9ce007b0b4f93",
    ("budgets-alert-type", "known-lower"): "8d64d9d0af6be360",
    ("budgets-alert-type", "region"): "6b1dea1c2c6046b0",
    ("budgets-alert-type", "long-1"): "07ccdedb49a70e88",
    ("budgets-alert-type", "long-2"): "07ccdedb49a70e88",
    ("budgets-alert-type", "very-long"): "dfb7e1023c07862c",
    ("securityhub-region", "short"): "2c1487e8af62cbb6",
    ("securityhub-region", "account"): "8050cfb7f91195ec",
    ("securityhub-region", "known-lower"): "7d11d3b3d94bc327",
    ("securityhub-region", "region"): "de1a78bd639c4b39",
    ("securityhub-region", "long-1"): "98ebaeed744534fd",
    ("securityhub-region", "long-2"): "98ebaeed744534fd",
    ("securityhub-region", "very-long"): "e5a8081971fcab58",
    ("securityhub-ocsf-region", "short"): "776797631d878868",
    ("securityhub-ocsf-region", "account"): "153426c945ca7d88",
    ("securityhub-ocsf-region", "known-lower"): "ead2213037566931",
    ("securityhub-ocsf-region", "region"): "baf47fe504a72c65",
    ("securityhub-ocsf-region", "long-1"): "595771cc9aa279ae",
    ("securityhub-ocsf-region", "long-2"): "595771cc9aa279ae",
    ("securityhub-ocsf-region", "very-long"): "a617239f44f35f41",
}


def _digest(alert: Alert) -> str:
    blob = json.dumps([alert.fingerprint, alert.labels], sort_keys=True, ensure_ascii=False)
    return hashlib.sha256(blob.encode()).hexdigest()[:16]


@pytest.mark.parametrize(("reader", "value"), sorted(BEFORE))
def test_fingerprint_and_shown_labels_are_as_before(reader: str, value: str) -> None:
    """The reader's fingerprint (long values too: two that differ past the cut stay one
    incident, as stored) and shown labels are what they were before the label was whole."""
    read, _ = READERS[reader]
    assert _digest(read(VALUES[value])) == BEFORE[(reader, value)]


@pytest.mark.parametrize("reader", sorted(READERS))
def test_a_long_value_keys_its_own_group(reader: str) -> None:
    """Two values that differ only past the 256 characters a label shows show alike (cut,
    "…" marking it) and key one incident as before, but routes and groups read them apart
    (`Alert.label`), each whole to its end."""
    read, label = READERS[reader]
    one, two = read(VALUES["long-1"]), read(VALUES["long-2"])
    assert one.fingerprint == two.fingerprint
    assert one.labels[label] == two.labels[label]
    assert one.labels[label].endswith("…")
    assert one.label(label) != two.label(label)
    assert str(one.label(label)).endswith("part-1")


@pytest.mark.parametrize("reader", sorted(READERS))
@pytest.mark.parametrize("value", ["short", "account", "known-lower", "region"])
def test_a_short_value_is_read_as_shown(reader: str, value: str) -> None:
    """A value within the label limit is read as it is shown: nothing is kept besides."""
    read, _ = READERS[reader]
    assert not read(VALUES[value]).uncut_labels


# --- Other readers that cut a value by hand before it became a label ----------------------


def _set(*path: str | int) -> Callable[[dict[str, Any], str], None]:
    """An edit that sets the field at `path` to the value."""

    def edit(payload: dict[str, Any], value: str) -> None:
        node: Any = payload
        for step in path[:-1]:
            node = node[step]
        node[path[-1]] = value

    return edit


#: Values over 1,024 characters, what a reader cut its own values to (`common.line`): two
#: that differ only past it.
PAST_FIELD = "y" * 1_100

#: (sample, label, edit that puts a value into the field that label shows, the value's
#: start: `LONG` where the reader cut it to 256 characters or fewer, else `PAST_FIELD`).
CUT_BY_HAND = [
    ("azure/service-health-active.json", "incident_type",
     _set("data", "alertContext", "properties", "incidentType"), LONG),
    ("azure/service-health-active.json", "rule", _set("data", "essentials", "alertRule"),
     PAST_FIELD),
    ("azure/resource-health-unavailable.json", "rule", _set("data", "essentials", "alertRule"),
     PAST_FIELD),
    ("vendors/azure-fired.json", "rule", _set("data", "essentials", "alertRule"), PAST_FIELD),
    ("vendors/gcp-open.json", "policy", _set("incident", "policy_name"), PAST_FIELD),
    ("vendors/gcp-open.json", "resource", _set("incident", "resource_display_name"),
     PAST_FIELD),
    ("statuscake/down.json", "status_code", _set("StatusCode"), LONG),
    ("tools/dynatrace-open.json", "problem_severity", _set("ProblemSeverity"), LONG),
    ("freshping/unreachable.json", "application",
     _set("webhook_event_data", "application_name"), LONG),
    ("freshping/unreachable.json", "check_name", _set("webhook_event_data", "check_name"),
     PAST_FIELD),
    ("freshping/unreachable.json", "request_url", _set("webhook_event_data", "request_url"),
     PAST_FIELD),
    ("raygun/new-error.json", "event_type", _set("eventType"), LONG),
    ("raygun/new-error.json", "application", _set("application", "name"), PAST_FIELD),
    ("raygun/status-changed.json", "application", _set("application", "name"), PAST_FIELD),
    ("kapacitor/critical.json", "previous_level", _set("previousLevel"), LONG),
    ("betterstack/error-new.json", "application",
     _set("data", "attributes", "application_name"), PAST_FIELD),
    ("betterstack/error-new.json", "error_type", _set("data", "attributes", "error_type"),
     PAST_FIELD),
    ("cloudwatch/eventbridge-contributor.json", "muted_by",
     _set("detail", "muteDetail", "mutedByArn"), PAST_FIELD),
    ("threshold/triggered.json", "rule_name", _set("rule_name"), LONG),
    ("threshold/triggered.json", "current_value", _set("current_value"), LONG),
    ("threshold/triggered.json", "threshold", _set("threshold_value"), LONG),
    ("threshold/triggered.json", "operator", _set("operator"), LONG),
]  # fmt: skip


#: Per case, recorded at commit e1ac2141 before these labels carried whole values: the
#: sample's [fingerprint, labels] digest as `BEFORE`'s (within the limits nothing changes),
#: and the first 16 hex digits of the fingerprints of its two long values (no incident
#: re-keys: one incident where the reader keyed it by the cut value, two where by the whole).
CUT_BEFORE = {
    ("azure/service-health-active.json", "incident_type"): (
        "a6e3be75b5ac186b",
        "29ee98830728459e",
        "29ee98830728459e",
    ),
    ("azure/service-health-active.json", "rule"): (
        "a6e3be75b5ac186b",
        "29ee98830728459e",
        "29ee98830728459e",
    ),
    ("azure/resource-health-unavailable.json", "rule"): (
        "826cbbe1390935a0",
        "84a6fda4edc8c674",
        "84a6fda4edc8c674",
    ),
    ("vendors/azure-fired.json", "rule"): (
        "0e44314eb2afcf21",
        "e2eb3bd5be69f4ea",
        "87b9af1435aab3fe",
    ),
    ("vendors/gcp-open.json", "policy"): (
        "ba7abf0403f717a3",
        "3683893ba529c936",
        "3683893ba529c936",
    ),
    ("vendors/gcp-open.json", "resource"): (
        "ba7abf0403f717a3",
        "3683893ba529c936",
        "3683893ba529c936",
    ),
    ("statuscake/down.json", "status_code"): (
        "cd18bc8f39c52350",
        "708cc5c28d9b4753",
        "708cc5c28d9b4753",
    ),
    # Its tags env:prod and team:payments are labels too (2026-12-06).
    ("tools/dynatrace-open.json", "problem_severity"): (
        "999e942bcea41236",
        "9e4c5a5c3eecb762",
        "9e4c5a5c3eecb762",
    ),
    ("freshping/unreachable.json", "application"): (
        "d0d0ae2f04033260",
        "3d76e03a469baec1",
        "3d76e03a469baec1",
    ),
    ("freshping/unreachable.json", "check_name"): (
        "d0d0ae2f04033260",
        "3d76e03a469baec1",
        "3d76e03a469baec1",
    ),
    ("freshping/unreachable.json", "request_url"): (
        "d0d0ae2f04033260",
        "3d76e03a469baec1",
        "3d76e03a469baec1",
    ),
    ("raygun/new-error.json", "event_type"): (
        "9324a2aa6328a352",
        "9ee0ddf4814e858a",
        "9ee0ddf4814e858a",
    ),
    ("raygun/new-error.json", "application"): (
        "9324a2aa6328a352",
        "9ee0ddf4814e858a",
        "9ee0ddf4814e858a",
    ),
    ("raygun/status-changed.json", "application"): (
        "63e71d8a2d2b27bf",
        "9ee0ddf4814e858a",
        "9ee0ddf4814e858a",
    ),
    ("kapacitor/critical.json", "previous_level"): (
        "72f1aabea0cc7ea6",
        "2f37d316c4f059bb",
        "2f37d316c4f059bb",
    ),
    ("betterstack/error-new.json", "application"): (
        "c4a4cc84ca9e321e",
        "bef94297105489ea",
        "bef94297105489ea",
    ),
    ("betterstack/error-new.json", "error_type"): (
        "c4a4cc84ca9e321e",
        "bef94297105489ea",
        "bef94297105489ea",
    ),
    ("cloudwatch/eventbridge-contributor.json", "muted_by"): (
        "21f968bb1b12a96a",
        "9ef25f165be6d3bf",
        "9ef25f165be6d3bf",
    ),
    ("threshold/triggered.json", "rule_name"): (
        "486bac7d69255ccb",
        "183f1c66de2ba69f",
        "183f1c66de2ba69f",
    ),
    ("threshold/triggered.json", "current_value"): (
        "486bac7d69255ccb",
        "183f1c66de2ba69f",
        "183f1c66de2ba69f",
    ),
    ("threshold/triggered.json", "threshold"): (
        "486bac7d69255ccb",
        "183f1c66de2ba69f",
        "183f1c66de2ba69f",
    ),
    ("threshold/triggered.json", "operator"): (
        "486bac7d69255ccb",
        "183f1c66de2ba69f",
        "183f1c66de2ba69f",
    ),
}


def _read_with(name: str, edit: Callable[[dict[str, Any], str], None], value: str) -> Alert:
    payload = _sample(name)
    edit(payload, value)
    return _alert(payload)


@pytest.mark.parametrize(
    ("name", "label", "edit", "start"),
    CUT_BY_HAND,
    ids=[f"{case[0]}:{case[1]}" for case in CUT_BY_HAND],
)
def test_a_value_cut_by_hand_is_read_whole(
    name: str, label: str, edit: Callable[[dict[str, Any], str], None], start: str
) -> None:
    """Two values that differ only past where the reader cut them show alike (cut at 256
    characters, as `add_label` cuts every label) and key the incidents they keyed before,
    but routes and groups read them apart (`Alert.label`)."""
    sample, *fingerprints = CUT_BEFORE[(name, label)]
    assert _digest(_alert(_sample(name))) == sample
    one, two = (_read_with(name, edit, f"{start}{n}") for n in (1, 2))
    assert [one.fingerprint[:16], two.fingerprint[:16]] == fingerprints
    assert one.labels[label] == two.labels[label]
    assert one.labels[label].endswith("…")
    assert len(one.labels[label]) > 200  # as `add_label` cuts it, not shorter
    assert one.label(label) != two.label(label)


# --- PagerDuty Events API v2 (red team round 8) -------------------------------------------

_ROUTING_KEY = "R0123456789ABCDEF0123456789ABCDE"


def _events_v2(action: str, **extra: Any) -> dict[str, Any]:
    return {"routing_key": _ROUTING_KEY, "event_action": action, "dedup_key": "k-1", **extra}


def test_an_events_v2_routing_key_is_never_kept() -> None:
    """The integration's routing key (a credential) is in no field of the alert, raw included."""
    payload = {"summary": "Disk full on db-1", "source": "db-1", "severity": "error"}
    alert = _alert(_events_v2("trigger", payload=payload))
    assert _ROUTING_KEY not in alert.model_dump_json()
    assert (alert.title, alert.severity, alert.labels["host"]) == (
        "Disk full on db-1",
        "error",
        "db-1",
    )


def test_an_events_v2_acknowledge_changes_no_ticket() -> None:
    """An acknowledge event (no payload) is skipped, not refused and not a ticket."""
    normalized = normalize_body(json.dumps(_events_v2("acknowledge")))
    assert normalized.alerts == ()
    assert [skip.reason for skip in normalized.skipped] == ["no_state_change"]
