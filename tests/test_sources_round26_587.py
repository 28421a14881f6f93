"""Sources, round 26 (helper 587): a body that gives one key twice in an object is refused at
the decoder, naming the key and where it is; a New Relic workflow template that names the
issue's id otherwise (`issueId`, `incident_id`) is a New Relic issue; Splunk Observability
Cloud's (SignalFx's) detector notifications are read."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from source_samples import mutant_failures
from test_normalize_fuzz import ONE_LINE_BANNED
from triage.decode import decode_body
from triage.errors import DecodeError, InvalidAlertError
from triage.ingest.validate import check
from triage.normalize import normalize_body
from triage.routes import KNOWN_SOURCES

PAYLOADS = Path(__file__).parent / "payloads"


def _sample(name: str) -> str:
    return (PAYLOADS / name).read_text(encoding="utf-8")


# --- one key twice in an object -----------------------------------------------------------------


def test_a_status_given_twice_is_refused_naming_the_key() -> None:
    """`"status": "firing", …, "status": "resolved"` is no alert: parsers keep either value,
    so triage refuses it (a DecodeError naming the key and its object) instead of keeping
    the last silently."""
    body = '{"title": "disk full", "status": "firing", "host": "db-1", "status": "resolved"}'
    with pytest.raises(DecodeError) as caught:
        normalize_body(body)
    said = str(caught.value)
    assert '"status" twice' in said and "top-level object" in said, said


def test_a_key_twice_deep_in_a_group_names_its_path() -> None:
    """A label given twice in the second alert of an Alertmanager group is refused naming
    the path of its object (`alerts[1].labels`), so a sender finds it in a body of hundreds."""
    first = '{"status": "firing", "labels": {"alertname": "DiskFull", "team": "db"}}'
    second = '{"status": "firing", "labels": {"alertname": "DiskFull", "team": "db", "team": "x"}}'
    text = f'{{"version": "4", "status": "firing", "alerts": [{first}, {second}]}}'
    with pytest.raises(DecodeError) as caught:
        decode_body(text)
    said = str(caught.value)
    assert '"team" twice' in said and "alerts[1].labels" in said, said


def test_a_key_twice_in_an_sns_message_is_refused_naming_the_message() -> None:
    """The same refusal holds inside an SNS envelope's Message (JSON in a string), and names
    the Message, not the envelope, as where the key is repeated."""
    alarm = '{"AlarmName": "a", "NewStateValue": "OK", "NewStateValue": "ALARM"}'
    envelope = {"Type": "Notification", "TopicArn": "arn:aws:sns:us-east-1:1:t", "Message": alarm}
    with pytest.raises(DecodeError) as caught:
        decode_body(json.dumps(envelope))
    said = str(caught.value)
    assert said.startswith("SNS Message has the key") and '"NewStateValue" twice' in said, said


def test_keys_spelled_apart_but_equal_once_read_are_the_same_key() -> None:
    """`"status"` and `"st\\u0061tus"` are one key once read: refused too, as the check is on
    the keys a reader sees, not on the text."""
    with pytest.raises(DecodeError, match='"status" twice'):
        decode_body('{"title": "t", "status": "firing", "st\\u0061tus": "resolved"}')


def test_one_key_in_several_objects_is_no_repeat() -> None:
    """Every alert of a group has its own `status` and `labels`: a key repeated across objects
    (and an object's key equal to its parent's) is read as before."""
    body = {"status": "firing", "alerts": [{"status": "firing", "labels": {"status": "x"}}] * 3}
    assert decode_body(json.dumps(body))["alerts"][2]["labels"] == {"status": "x"}


def test_a_hostile_repeated_key_is_quoted_safely() -> None:
    """A repeated key of control and bidi characters, a token and 10,000 characters is quoted
    in one line, escaped, redacted and cut: the reason is logged and stored."""
    token = "ghp_" + "a" * 36
    for key in ("\u202eevil\n\x00", token, "k" * 10_000, f"team {token}"):
        text = json.dumps({"title": "t"} | {"x": 1}).replace('"x"', json.dumps(key))
        text = text[:-1] + f", {json.dumps(key)}: 2}}"
        with pytest.raises(DecodeError) as caught:
            decode_body(text)
        said = str(caught.value)
        assert not ONE_LINE_BANNED.search(said) and len(said) < 400, said
        assert token not in said and "\u202e" not in said, said


def test_a_repeated_key_in_a_deep_path_keeps_the_reason_short() -> None:
    """An object 60 levels down under long keys names a path cut to its ends (the first
    steps, then the last), not 60 keys."""
    inner = '{"a": 1, "a": 2}'
    for level in reversed(range(60)):
        inner = f'{{"{"x" * 100 if level % 2 else f"level{level}"}": {inner}}}'
    with pytest.raises(DecodeError) as caught:
        decode_body(inner)
    said = str(caught.value)
    assert len(said) < 400 and said.count('"xxxxxxxxxxxxxxxxx..."') == 3, said
    assert "level0[" in said and ".…[" in said and "level58[" in said, said


def test_no_sample_in_the_corpora_repeats_a_key() -> None:
    """Every sample payload of a real source decodes as before: none gives a key twice (the
    refusal loses no real sender)."""
    refused = []
    for path in sorted(PAYLOADS.rglob("*.json")):
        try:
            decode_body(path.read_text(encoding="utf-8"))
        except DecodeError as exc:
            if "twice" in str(exc):
                refused.append(f"{path.relative_to(PAYLOADS)}: {exc}")
    assert refused == []


# --- New Relic: a workflow template that renames the issue's id --------------------------------

_NR_RENAMED = json.loads(_sample("newrelic/custom-issue-id.json"))
_NR_DEFAULT = json.loads(_sample("newrelic/created.json"))


def _renamed(body: dict[str, Any], **renames: str) -> dict[str, Any]:
    """`body` with each key of `renames` given the name its value says."""
    return {renames.get(key, key): value for key, value in body.items()}


@pytest.mark.parametrize("state", ["ACTIVATED", "CLOSED"])
def test_a_template_of_issue_id_and_issue_page_url_is_new_relic(state: str) -> None:
    """A workflow template built of New Relic's own variable names (`issueId`,
    `issuePageUrl`, `issueTitle`, `triggerEvent`) is a New Relic issue: ACTIVATED fires and
    CLOSED resolves it, where the generic path fired for both."""
    [alert] = normalize_body(json.dumps(_NR_RENAMED | {"state": state})).alerts
    assert alert.source == "newrelic"
    assert alert.status == ("resolved" if state == "CLOSED" else "firing")
    assert alert.title.startswith("checkout-api query result")
    assert alert.labels["issue_id"] == _NR_RENAMED["issueId"]
    assert alert.identity["account"] == "4420147" and alert.team == "payments"


@pytest.mark.parametrize("name", ["issueId", "issue_id", "incidentId", "incident_id"])
def test_an_issue_s_id_under_another_name_keys_it_as_the_default_payload_does(name: str) -> None:
    """A template that keeps the default payload but names the id otherwise opens and closes
    one incident, with the default payload's fingerprint, and labels the issue's id."""
    firing = normalize_body(json.dumps(_renamed(_NR_DEFAULT, id=name))).alerts[0]
    closed = _renamed(_NR_DEFAULT, id=name) | {"state": "CLOSED"}
    [resolved] = normalize_body(json.dumps(closed)).alerts
    [default] = normalize_body(json.dumps(_NR_DEFAULT)).alerts
    assert (firing.source, firing.status, resolved.status) == ("newrelic", "firing", "resolved")
    assert firing.fingerprint == resolved.fingerprint == default.fingerprint
    assert firing.labels["issue_id"] == _NR_DEFAULT["id"]


def test_an_issue_naming_no_condition_is_keyed_by_its_renamed_id() -> None:
    """A template of the id, its page and its state alone is keyed by the id, whichever name
    carries it: its CLOSED closes what its ACTIVATED opened."""
    bare = {"issue_id": "9f1c", "issue_url": _NR_RENAMED["issuePageUrl"], "state": "ACTIVATED"}
    [firing] = normalize_body(json.dumps(bare)).alerts
    [closed] = normalize_body(json.dumps(bare | {"state": "CLOSED"})).alerts
    assert firing.identity == {"issue": "9f1c"} and closed.status == "resolved"
    assert firing.fingerprint == closed.fingerprint and firing.source == "newrelic"


def test_an_issue_url_of_another_service_is_not_new_relic() -> None:
    """`issue_url` and `state` are common words: a body whose issue link is not New Relic's
    is not read as a New Relic issue."""
    other = {"issue_id": "1", "issue_url": "https://example.com/i/1", "state": "open", "title": "x"}
    assert normalize_body(json.dumps(other)).alerts[0].source != "newrelic"


def test_an_incident_s_id_beside_the_issue_s_is_no_key() -> None:
    """A template that adds an incident's `incident_id` beside the issue's `id` is keyed as
    the default payload is, the issue's id labelled: an issue holds several incidents."""
    [alert] = normalize_body(json.dumps(_NR_DEFAULT | {"incident_id": "42"})).alerts
    [default] = normalize_body(json.dumps(_NR_DEFAULT)).alerts
    assert alert.fingerprint == default.fingerprint
    assert alert.labels["issue_id"] == _NR_DEFAULT["id"]


# --- Splunk Observability Cloud (SignalFx) detectors ---------------------------------------------

_SFX = json.loads(_sample("splunk-o11y/anomalous.json"))
_SFX_OK = json.loads(_sample("splunk-o11y/ok.json"))


def test_a_splunk_observability_detector_s_alert_fires_as_it_says() -> None:
    """A detector's notification in the default webhook payload (`sf_schema` 2), refused as
    an unknown format before, fires: titled by its rule and detector, ranked by its severity,
    owned by its signal's `team` dimension, with its runbook and links."""
    [alert] = normalize_body(json.dumps(_SFX)).alerts
    assert (alert.source, alert.status, alert.priority) == ("splunk-o11y", "firing", "critical")
    assert alert.title == "p99 above 400ms (Checkout latency)" and alert.team == "payments"
    assert alert.runbook_url == "https://runbooks.example.com/checkout/latency"
    assert alert.links["source"] == _SFX["detectorUrl"]
    assert alert.labels["incident_id"] == "GAbD2fGAEAA" and alert.labels["sf_service"] == "checkout"
    assert "612.4" in alert.description and "slowest traces" in alert.description
    assert alert.identity == {
        "detector": "GAbC1dEAAAA",
        "rule": "p99 above 400ms",
        "signal": "{sf_environment=prod,sf_service=checkout,team=payments}",
    }


@pytest.mark.parametrize("status", ["ok", "manually resolved", "stopped", "OK"])
def test_its_clear_resolves_what_its_alert_opened(status: str) -> None:
    """The clear (ok), a person's resolve (manually resolved) and a stopped detector resolve
    the incident the alert opened: one fingerprint for both."""
    [firing] = normalize_body(json.dumps(_SFX)).alerts
    [cleared] = normalize_body(json.dumps(_SFX_OK | {"statusExtended": status})).alerts
    assert cleared.status == "resolved" and cleared.fingerprint == firing.fingerprint


def test_the_next_incident_of_one_rule_and_signal_reopens_the_same_ticket() -> None:
    """Splunk gives each new alert of a cleared rule a new incidentId: the same detector, rule
    and signal are one incident (it reopens), another signal another one."""
    [first] = normalize_body(json.dumps(_SFX)).alerts
    [again] = normalize_body(json.dumps(_SFX | {"incidentId": "GAbE3hIAAAA"})).alerts
    other = _SFX | {"dimensions": {"sf_service": "cart", "sf_environment": "prod"}}
    [elsewhere] = normalize_body(json.dumps(other)).alerts
    assert again.fingerprint == first.fingerprint != elsewhere.fingerprint


def test_a_status_splunk_does_not_send_is_refused_naming_it() -> None:
    """A status other than anomalous, ok, manually resolved or stopped is refused, naming both
    fields' values, never read as firing; an extended status of a word Splunk added since is
    read by the plain `status` beside it."""
    body = _SFX | {"statusExtended": "", "status": "flapping"}
    with pytest.raises(InvalidAlertError, match="status 'flapping'"):
        normalize_body(json.dumps(body))
    newer = _SFX_OK | {"statusExtended": "auto resolved", "status": "ok"}
    assert normalize_body(json.dumps(newer)).alerts[0].status == "resolved"


def test_the_documented_examples_are_read() -> None:
    """The docs' examples: no detectorId (the detector's id is read from its link), the signal
    in `inputs` (an input's `dimensions` or `key`), no dimensions of its own."""
    memory = {
        "sf_schema": 2, "detector": "Memory usage detector",
        "detectorUrl": "https://app.us1.signalfx.com/#/detector/ABCDEFGHIJK/edit",
        "incidentId": "BCDEFGHIJKL", "eventType": "exceedMemoryUse", "rule": "Running out of memory",
        "severity": "Minor", "description": "Memory has reached 90% of maximum for 10 minutes",
        "status": "ok", "statusExtended": "ok", "timestamp": "2023-02-08T19:43:30Z",
        "inputs": {"_S1": {"dimensions": {"host": "i-346235qa", "plugin": "o11y-metadata"},
                           "value": 96.2, "fragment": "data('memory.utilization')"}},
    }  # fmt: skip
    [alert] = normalize_body(json.dumps(memory)).alerts
    assert (alert.status, alert.priority) == ("resolved", "medium")
    assert alert.identity["detector"] == "ABCDEFGHIJK"
    assert alert.identity["signal"] == "{host=i-346235qa,plugin=o11y-metadata}"
    latency = memory | {"status": "anomalous", "statusExtended": "anomalous", "inputs": {
        "a": {"key": {"host": "myserver", "dc": "us-west-1"}, "value": 43.4},
        "b": {"key": {"dc": "us-west-1"}, "value": 42.9}, "_S2": {"value": 40}}}  # fmt: skip
    [fired] = normalize_body(json.dumps(latency)).alerts
    assert fired.identity["signal"] == "{dc=us-west-1,host=myserver}"


def test_a_notification_naming_no_detector_is_keyed_by_its_incident() -> None:
    """A template that kept only the incident and its status is keyed by the incidentId (its
    clear shares it); one naming neither is refused, saying what it lacks."""
    bare = {"sf_schema": 2, "incidentId": "GAbD2fGAEAA", "status": "anomalous"}
    [firing] = normalize_body(json.dumps(bare)).alerts
    [cleared] = normalize_body(json.dumps(bare | {"status": "ok"})).alerts
    assert firing.identity == {"incident": "GAbD2fGAEAA"}
    assert firing.fingerprint == cleared.fingerprint
    with pytest.raises(InvalidAlertError, match="names no detector"):
        normalize_body(json.dumps({"sf_schema": 2, "incidentId": "", "status": "ok"}))


def test_the_gateway_s_generic_path_takes_it_and_routes_may_name_it() -> None:
    """The webhook gateway's generic path accepts the format, and a route may match the
    source `splunk-o11y` (a route naming an unknown source is refused)."""
    checked = check("generic", json.dumps(_SFX).encode(), None, lambda text: text)
    assert checked.format == "splunk-o11y"
    assert "splunk-o11y" in KNOWN_SOURCES


def test_hostile_values_in_every_field_never_crash_it() -> None:
    """Seeded mutants of both samples (types swapped, keys dropped, huge and control-laden
    text, deep nesting, keys twice) are each an alert that holds its limits or a clear
    refusal: no crash, no unclear reason."""
    found = [
        *mutant_failures(_sample("splunk-o11y/anomalous.json"), "sfx-587", 400),
        *mutant_failures(_sample("splunk-o11y/ok.json"), "sfx-ok-587", 200),
        *mutant_failures(_sample("newrelic/custom-issue-id.json"), "nr-587", 400),
    ]
    assert found == []


_HOSTILE = [None, -1.5, True, "", ["x"], {"k": "v"}, "\u202e\x00<b>", "x" * 100_000, 10**30]


@pytest.mark.parametrize("name", ["splunk-o11y/anomalous.json", "newrelic/custom-issue-id.json"])
def test_each_field_given_each_hostile_value_is_an_alert_or_a_clear_refusal(name: str) -> None:
    """Every top-level field of the new samples, given each hostile value (null, a number, a
    boolean, nothing, an array, an object, control and bidi text, 100,000 characters), reads
    as one alert of one-line fields or is refused in one clear line: never a crash."""
    body = json.loads(_sample(name))
    for field in body:
        for hostile in _HOSTILE:
            said = _read_or_refused(json.dumps(body | {field: hostile}))
            assert not ONE_LINE_BANNED.search(said) and len(said) < 2_000, (field, said)


def _read_or_refused(text: str) -> str:
    """The titles `text` reads as, or the one reason it is refused with (any other error is
    raised: a crash)."""
    try:
        alerts = normalize_body(text).alerts
    except (DecodeError, InvalidAlertError) as exc:
        return str(exc)
    assert all(len(alert.title) <= 200 for alert in alerts)
    return " ".join(alert.title for alert in alerts)


def test_a_key_twice_in_one_record_of_a_batch_costs_that_record_alone() -> None:
    """In a Lambda event of two SQS records, the record whose body gives a key twice is left
    out with a note naming the record and the key; the other record's alert is read."""
    good = json.dumps({"title": "disk full", "dedup_key": "db-1-disk"})
    bad = '{"title": "cpu", "status": "firing", "status": "resolved"}'
    records = [
        {"eventSource": "aws:sqs", "messageId": str(i), "body": body}
        for i, body in enumerate((bad, good))
    ]
    read = normalize_body(json.dumps({"Records": records}))
    assert [alert.title for alert in read.alerts] == ["disk full"]
    assert any("record [0]" in note and '"status" twice' in note for note in read.notes), read
