"""Alert sources, round 16 (helper 500): PagerDuty's older webhooks, and bodies no sender was
expected to send (another text encoding, gzip without its header, a key spelt in another case),
each ticketed as the source means, or refused saying what it is and what to do."""

from __future__ import annotations

import copy
import gzip
import json
from pathlib import Path
from typing import Any

import pytest

from triage.errors import DecodeError, InvalidAlertError, UnknownFormatError
from triage.ingest.validate import Invalid, check
from triage.models import Alert, Status
from triage.normalize import normalize_body, recognise_body
from triage.normalize.common import Normalized

PAYLOADS = Path(__file__).parent / "payloads"


def _read(body: dict[str, Any]) -> Normalized:
    """What `body` becomes."""
    return normalize_body(json.dumps(body))


def _only(body: dict[str, Any]) -> Alert:
    """The one alert `body` becomes."""
    [alert] = _read(body).alerts
    return alert


# --- PagerDuty v2 and v1 webhooks ------------------------------------------------------------

#: One message of a v2 webhook as PagerDuty documented it (developer.pagerduty.com "Webhooks v2
#: Overview"; Zulip's fixture zerver/webhooks/pagerduty/fixtures/trigger_v2.json), cut to the
#: fields anyone reads: `messages[].event` `incident.trigger`, the whole `incident`, `created_on`.
_V2_MESSAGE: dict[str, Any] = {
    "event": "incident.trigger",
    "log_entries": [
        {
            "id": "R2XGXEI3W0FHMSDXHDIBQGBQ5E",
            "type": "trigger_log_entry",
            "summary": "Triggered through the website",
            "channel": {"type": "web_trigger", "summary": "My new incident"},
        }
    ],
    "webhook": {
        "endpoint_url": "https://triage-ingest.example.com/v1/alerts/generic",
        "name": "V2 webhook",
        "type": "webhook",
        "webhook_object": {"id": "PN49J75", "type": "service_reference"},
    },
    "incident": {
        "incident_number": 33,
        "title": "Replica lag on orders-db above 30 s",
        "description": "Replica lag on orders-db above 30 s",
        "created_at": "2017-09-26T15:14:36Z",
        "status": "triggered",
        "incident_key": None,
        "service": {
            "id": "PN49J75",
            "name": "Production XDB Cluster",
            "type": "service",
            "summary": "Production XDB Cluster",
            "html_url": "https://webdemo.pagerduty.com/services/PN49J75",
        },
        "escalation_policy": {"id": "PINYWEF", "summary": "Default"},
        "teams": [{"id": "P4SI59S", "type": "team_reference", "summary": "Engineering"}],
        "priority": {"id": "PSO75BM", "type": "priority", "summary": "P2", "name": "P2"},
        "urgency": "high",
        "id": "PRORDTY",
        "type": "incident",
        "summary": "[#33] Replica lag on orders-db above 30 s",
        "html_url": "https://webdemo.pagerduty.com/incidents/PRORDTY",
    },
    "id": "69a7ced0-a2cd-11e7-a799-22000a15839c",
    "created_on": "2017-09-26T15:14:36Z",
}


def _v2(event: str = "incident.trigger", **incident: Any) -> dict[str, Any]:
    """One `event` of the v2 webhook's incident, its fields replaced by `incident`."""
    message = copy.deepcopy(_V2_MESSAGE)
    message["event"] = event
    message["incident"].update(incident)
    return {"messages": [message]}


def _v3(event_type: str, **data: Any) -> dict[str, Any]:
    """The v3 webhook's event of the same incident (tests/payloads/pagerduty/triggered.json's
    shape, PagerDuty's "V3 Webhooks" example): what the v2 message must be keyed as."""
    sample = json.loads((PAGERDUTY_SAMPLE).read_text())
    sample["event"]["event_type"] = event_type
    sample["event"]["data"].update(
        {"id": "PRORDTY", "service": {"id": "PN49J75", "summary": "Production XDB Cluster"}}
    )
    sample["event"]["data"].update(data)
    return sample


PAGERDUTY_SAMPLE = PAYLOADS / "pagerduty" / "triggered.json"


def test_pagerduty_v2_trigger_fires_keyed_as_v3_incident() -> None:
    """A v2 webhook's incident.trigger (PagerDuty's documented v2 message) fires one pagerduty
    alert with the v3 webhook's fingerprint, title, team and priority, not "no known format"."""
    alert = _only(_v2())
    assert alert.source == "pagerduty"
    assert alert.status is Status.FIRING
    assert alert.title == "Replica lag on orders-db above 30 s"
    assert alert.team == "Engineering"
    assert alert.priority is not None and alert.priority.value == "high"
    assert alert.labels["incident_id"] == "PRORDTY"
    assert alert.fingerprint == _only(_v3("incident.triggered")).fingerprint


def test_pagerduty_v2_resolve_closes_the_trigger_incident() -> None:
    """A v2 incident.resolve resolves the incident its incident.trigger opened (same
    fingerprint), and an incident_key on the service keys it as v3 does."""
    fired = _only(_v2(incident_key="orders-db/replica-lag"))
    resolved = _only(_v2("incident.resolve", incident_key="orders-db/replica-lag"))
    assert resolved.status is Status.RESOLVED
    assert resolved.fingerprint == fired.fingerprint
    v3 = _only(_v3("incident.resolved", incident_key="orders-db/replica-lag"))
    assert resolved.fingerprint == v3.fingerprint


@pytest.mark.parametrize(
    "event", ["incident.acknowledge", "incident.assign", "incident.escalate", "incident.annotate"]
)
def test_pagerduty_v2_other_events_change_no_ticket(event: str) -> None:
    """A v2 acknowledge, assign, escalate or annotate is understood and changes no ticket."""
    read = _read(_v2(event))
    assert read.alerts == ()
    [skipped] = read.skipped
    assert skipped.source == "pagerduty" and skipped.reason == "no_state_change"


def test_pagerduty_v2_unacknowledge_fires_again() -> None:
    """A v2 incident.unacknowledge (its acknowledgement timed out) fires, as v3's does."""
    assert _only(_v2("incident.unacknowledge")).status is Status.FIRING


def test_pagerduty_v2_batch_reads_every_message() -> None:
    """A v2 webhook batches several incidents' messages in one body: each is its own alert."""
    body = _v2()
    other = copy.deepcopy(_V2_MESSAGE)
    other["event"] = "incident.resolve"
    other["incident"]["id"] = "PXYZ123"
    body["messages"].append(other)
    first, second = _read(body).alerts
    assert (first.status, second.status) == (Status.FIRING, Status.RESOLVED)
    assert first.fingerprint != second.fingerprint
    assert second.labels["incident_id"] == "PXYZ123"


def test_pagerduty_v2_message_without_incident_is_refused_naming_it() -> None:
    """A v2 message whose incident is missing is refused naming the message, never a
    "no known format" that hides what was sent, and never an incident of the others."""
    body = _v2()
    body["messages"].append({"event": "incident.trigger", "id": "x", "created_on": "2017"})
    with pytest.raises(InvalidAlertError, match=r"pagerduty.*messages\[1\]"):
        _read(body)


def test_pagerduty_v2_webhook_is_taken_on_the_generic_path() -> None:
    """The gateway's generic path, where the README points PagerDuty, takes a v2 webhook as
    it takes v3 (format "pagerduty"), not as JSON that "reaches the queue through SNS"."""
    checked = check("generic", json.dumps(_v2()).encode(), None, str)
    assert checked.format == "pagerduty" and checked.alerts == 1


#: A v1 webhook as PagerDuty sent it until 2018 (Zulip's fixture
#: zerver/webhooks/pagerduty/fixtures/trigger.json): `type`, and the incident under `data`.
_V1_BODY: dict[str, Any] = {
    "messages": [
        {
            "created_on": "2015-02-07T21:42:52Z",
            "data": {
                "incident": {
                    "created_on": "2015-02-07T21:42:52Z",
                    "escalation_policy": {"deleted_at": None, "id": "PUIGL4T", "name": "Default"},
                    "html_url": "https://zulip-test.pagerduty.com/incidents/P140S4Y",
                    "id": "P140S4Y",
                    "incident_key": "disk-full-web-1",
                    "incident_number": 3,
                    "service": {
                        "deleted_at": None,
                        "html_url": "https://zulip-test.pagerduty.com/services/PIL5CUQ",
                        "id": "PIL5CUQ",
                        "name": "Test service",
                    },
                    "status": "triggered",
                    "trigger_summary_data": {"subject": "Disk full on web-1"},
                    "trigger_type": "web_trigger",
                }
            },
            "id": "44df6240-af12-11e4-8e1e-22000ae31361",
            "type": "incident.trigger",
        }
    ]
}


def test_pagerduty_v1_webhook_is_read_titled_by_its_subject() -> None:
    """A v1 webhook's incident.trigger fires keyed by service and incident_key (as v3 keys
    it), titled by its trigger_summary_data.subject."""
    alert = _only(_V1_BODY)
    assert alert.source == "pagerduty" and alert.status is Status.FIRING
    assert alert.title == "Disk full on web-1"
    v3 = _only(
        _v3(
            "incident.triggered",
            id="P140S4Y",
            incident_key="disk-full-web-1",
            service={"id": "PIL5CUQ"},
        )
    )
    assert alert.fingerprint == v3.fingerprint
    resolve = copy.deepcopy(_V1_BODY)
    resolve["messages"][0]["type"] = "incident.resolve"
    assert _only(resolve).status is Status.RESOLVED


# --- Sentry: an event alert from before `issue_id` ------------------------------------------


def _event_alert_2020() -> dict[str, Any]:
    """An issue alert rule's webhook as Sentry sent it in 2020 (Zulip's fixture
    zerver/webhooks/sentry/fixtures/event_for_exception_golang.json): `data.event` names its
    issue only in `issue_url` (`/api/0/issues/<id>/`) and `web_url`, with no `issue_id`."""
    body = json.loads((PAYLOADS / "sentry" / "event-alert.json").read_text())
    event = body["data"]["event"]
    del event["issue_id"]
    event["issue_url"] = "https://sentry.io/api/0/issues/4504689410/"
    event["web_url"] = (
        "https://sentry.io/organizations/acme/issues/4504689410/events/"
        "6bd14ba1c4e04f8c8ab8e2f6e0cbb2a1/"
    )
    return body


def test_sentry_event_alert_without_issue_id_is_keyed_by_its_issue_url() -> None:
    """An event alert naming its issue only in `issue_url` fires keyed by that issue, with
    the fingerprint the same alert has with `issue_id` (so the issue's resolve closes it)."""
    current = json.loads((PAYLOADS / "sentry" / "event-alert.json").read_text())
    alert = _only(_event_alert_2020())
    assert alert.labels["issue_id"] == "4504689410"
    assert alert.fingerprint == _only(current).fingerprint


def test_sentry_event_alert_issue_in_web_url_only_is_read() -> None:
    """With no `issue_url` either, the issue in `web_url` (`/issues/<id>/events/…`) keys it."""
    body = _event_alert_2020()
    del body["data"]["event"]["issue_url"]
    assert _only(body).labels["issue_id"] == "4504689410"


def test_sentry_event_alert_naming_no_issue_anywhere_is_still_refused() -> None:
    """An event alert whose URLs name no issue (a link elsewhere) is refused as before, never
    keyed by a number taken from another path."""
    body = _event_alert_2020()
    body["data"]["event"]["issue_url"] = "https://sentry.io/api/0/projects/acme/checkout/"
    body["data"]["event"]["web_url"] = "https://sentry.io/organizations/acme/releases/12345/"
    with pytest.raises(InvalidAlertError, match=r"issue_id"):
        _read(body)


# --- an array of a script's alerts ----------------------------------------------------------

#: A script's alerts batched in one array (the README's generic JSON, with `labels`), as a
#: shell loop or `jq -s` writes them.
_SCRIPT_BATCH = [
    {"title": "Nightly backup of orders-db failed", "source": "backup-cron",
     "labels": {"team": "data", "region": "eu-west-1"}},
    {"title": "Nightly backup of users-db failed", "source": "backup-cron",
     "labels": {"team": "data", "region": "eu-west-1"}},
]  # fmt: skip


def test_an_array_of_script_alerts_is_not_read_as_prometheus_alerts() -> None:
    """Queued whole, an array of a script's alerts with `labels` is refused saying what it
    is and what to do, never read as alerts posted to Alertmanager's API (keyed by the
    labels alone, titles lost: two backups' failures one incident)."""
    with pytest.raises(InvalidAlertError, match=r"title.*/v1/alerts/generic"):
        normalize_body(json.dumps(_SCRIPT_BATCH))


def test_the_gateway_queues_each_script_alert_of_an_array_with_labels() -> None:
    """Posted to /v1/alerts/generic, the array is a batch, each alert its own message, as
    one without labels is; not refused as "prometheus JSON" sent to the wrong path."""
    checked = check("generic", json.dumps(_SCRIPT_BATCH).encode(), None, str)
    assert checked.format == "batch" and checked.alerts == 2
    titles = [normalize_body(part).alerts[0].title for part in checked.parts]
    assert titles == [alert["title"] for alert in _SCRIPT_BATCH]


# --- bodies in another encoding ---------------------------------------------------------------

_GROUP = (PAYLOADS / "alertmanager" / "group-firing.json").read_text()


@pytest.mark.parametrize("codec", ["utf-16", "utf-16-be", "utf-32"])
def test_a_body_in_utf16_or_utf32_with_its_byte_order_mark_is_read(codec: str) -> None:
    """A body encoded as UTF-16 or UTF-32 with its byte order mark (PowerShell 5's
    Out-File / Set-Content default; RFC 8259 §8.1 lets a reader ignore the mark) reads as the
    UTF-8 body does: same alerts, same fingerprints."""
    body = _GROUP.encode(codec)
    if codec == "utf-16-be":
        body = b"\xfe\xff" + body
    expected = [a.fingerprint for a in normalize_body(_GROUP.encode()).alerts]
    assert [a.fingerprint for a in normalize_body(body).alerts] == expected


def test_a_gzip_body_without_its_header_is_refused_saying_so() -> None:
    """A gzip-compressed body whose sender left out Content-Encoding is refused naming gzip and
    what to do, not "not UTF-8 … at byte 1"."""
    with pytest.raises(DecodeError, match=r"gzip.*Content-Encoding"):
        normalize_body(gzip.compress(_GROUP.encode()))


def test_the_gateway_refuses_a_gzip_body_without_its_header_saying_so() -> None:
    """Posted without `Content-Encoding: gzip`, a gzip body is refused at the gateway naming
    gzip and the header to send, as `triage normalize` refuses it."""
    with pytest.raises(Invalid, match=r"gzip.*Content-Encoding"):
        check("alertmanager", gzip.compress(_GROUP.encode()), None, str)


def test_utf16_without_a_byte_order_mark_is_read_as_the_gateway_reads_it() -> None:
    """A UTF-16 body without its mark (RFC 4627 §3: a zero byte beside each of its first two
    characters) reads in `triage normalize` as the gateway reads it, not as JSON whose
    property names are unquoted."""
    expected = [a.fingerprint for a in normalize_body(_GROUP.encode()).alerts]
    for codec in ("utf-16-le", "utf-16-be", "utf-32-le"):
        assert [a.fingerprint for a in normalize_body(_GROUP.encode(codec)).alerts] == expected


def test_a_body_that_is_not_the_utf16_it_looks_like_is_refused_naming_utf16() -> None:
    """A body whose mark says UTF-16 but whose bytes end in half a character is refused
    naming UTF-16, not UTF-8."""
    with pytest.raises(DecodeError, match=r"not UTF-16"):
        normalize_body(_GROUP.encode("utf-16")[:-1])


# --- bodies cut short ------------------------------------------------------------------------


@pytest.mark.parametrize("kept", [0.25, 0.5, 0.9])
def test_a_body_cut_short_is_refused_saying_so(kept: float) -> None:
    """A body cut anywhere (inside a string, between keys) is refused saying it ends before
    its JSON does, not only where the parser stopped."""
    body = _GROUP.encode()
    with pytest.raises(DecodeError, match=r"cut short"):
        normalize_body(body[: int(len(body) * kept)])


def test_broken_json_that_is_whole_is_not_called_cut_short() -> None:
    """JSON broken in its middle (a missing comma) and whole is refused as invalid JSON, never
    said to be cut short."""
    broken = _GROUP.replace('"receiver": "triage",', '"receiver": "triage"', 1)
    assert broken != _GROUP
    with pytest.raises(DecodeError, match=r"not valid JSON") as caught:
        normalize_body(broken)
    assert "cut short" not in str(caught.value)


# --- keys spelt in another case ---------------------------------------------------------------


def test_a_title_spelt_in_another_case_is_named_in_the_refusal() -> None:
    """A script's alert whose `Title` (PowerShell's hashtable spelling) is the only title is
    refused naming that key and the `title` it should be, even past the first ten keys listed."""
    body = json.loads((PAYLOADS / "generic" / "firing.json").read_text())
    body["Title"] = body.pop("title")
    with pytest.raises(UnknownFormatError, match=r"'Title'.*'title'"):
        recognise_body(json.dumps(body))


def test_a_key_also_sent_as_spelt_is_not_named_as_misspelt() -> None:
    """A key sent in two spellings, the exact one among them, is not what kept a body from
    being read: the refusal does not tell the sender to fix it."""
    with pytest.raises(UnknownFormatError) as caught:
        recognise_body(json.dumps({"data": 1, "DATA": 2, "hello": "world"}))
    assert "'DATA'" not in str(caught.value).split("top-level keys:")[0]
