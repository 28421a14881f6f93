"""Other tools' webhooks sent to the generic path (Datadog, Opsgenie, PagerDuty v3): each
keyed by the tool's own id, so a trigger and its recovery are one incident; and generic JSON
whose title carries its state in brackets ("[Recovered] X") read as that state."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from factories import T0, view
from recording_pipeline import Sink, pipeline_into, trigger_repeat_recovery
from source_samples import one, run
from triage.errors import InvalidAlertError, UnknownFormatError
from triage.incidents import Action
from triage.ingest.validate import Invalid, check
from triage.models import EffectKind, Priority, Status
from triage.normalize import normalize_body, recognise_body
from triage.routes import KNOWN_SOURCES
from triage.sqs.inbox import Message

VENDORS = Path(__file__).parent / "payloads" / "vendors"
SOURCES = (
    "datadog", "opsgenie", "pagerduty", "newrelic", "azure", "gcp", "uptimekuma", "splunk"
)  # fmt: skip

#: Each sample's fingerprints (pinned: a change re-keys these tools' incidents in production).
PINNED: dict[str, tuple[str, ...]] = {
    "datadog-custom-no-data.json": (),
    "datadog-custom-recovered.json": ("95876a8bd52b85e15662b515bc9fbda5",),
    "datadog-custom-triggered.json": ("95876a8bd52b85e15662b515bc9fbda5",),
    "datadog-default-recovered.json": ("65d507251f3030f0ae0b38780176f13a",),
    "datadog-default-triggered.json": ("65d507251f3030f0ae0b38780176f13a",),
    "opsgenie-acknowledge.json": (),
    "opsgenie-close.json": ("df35205e00cfc43d26987ac140e85761",),
    "opsgenie-create.json": ("df35205e00cfc43d26987ac140e85761",),
    "pagerduty-acknowledged.json": (),
    "pagerduty-resolved.json": ("665f36c2eaea486be09a2dfec8cc96e9",),
    "pagerduty-triggered.json": ("665f36c2eaea486be09a2dfec8cc96e9",),
    "newrelic-activated.json": ("2b475843ce2ed432623c91748ee89f53",),
    "newrelic-acknowledged.json": (),
    "newrelic-closed.json": ("2b475843ce2ed432623c91748ee89f53",),
    "azure-fired.json": ("1cd789b14a834734cee63cdc46853ea0",),
    "azure-resolved.json": ("1cd789b14a834734cee63cdc46853ea0",),
    "gcp-open.json": ("3683893ba529c9361486afd6a08aae80",),
    "gcp-closed.json": ("3683893ba529c9361486afd6a08aae80",),
    "gcp-test.json": (),
    "uptimekuma-down.json": ("c979ed1897992e842e1d8f6949ab8cea",),
    "uptimekuma-pending.json": (),
    "uptimekuma-test.json": (),
    "uptimekuma-up.json": ("c979ed1897992e842e1d8f6949ab8cea",),
    "splunk-alert.json": ("d36bafc385e4a5f9a031359d3a2c9014",),
    "splunk-alert-unnamed.json": ("07aadc9ecac75854ce4611573378294f",),
}
#: (trigger, recovery) sample pairs of each tool, and the source their alerts carry.
PAIRS = [
    ("datadog-default-triggered.json", "datadog-default-recovered.json", "datadog"),
    ("datadog-custom-triggered.json", "datadog-custom-recovered.json", "datadog"),
    ("opsgenie-create.json", "opsgenie-close.json", "opsgenie"),
    ("pagerduty-triggered.json", "pagerduty-resolved.json", "pagerduty"),
    ("newrelic-activated.json", "newrelic-closed.json", "newrelic"),
    ("azure-fired.json", "azure-resolved.json", "azure"),
    ("gcp-open.json", "gcp-closed.json", "gcp"),
    ("uptimekuma-down.json", "uptimekuma-up.json", "uptimekuma"),
]


def sample(name: str) -> dict[str, Any]:
    value: dict[str, Any] = json.loads((VENDORS / name).read_text(encoding="utf-8"))
    return value


# --- each tool's trigger and recovery ---------------------------------------------------------


@pytest.mark.parametrize(("trigger", "recovery", "source"), PAIRS)
def test_trigger_and_recovery_are_one_incident(trigger: str, recovery: str, source: str) -> None:
    """A tool's trigger fires and its recovery resolves one fingerprint, with the tool's name
    as source and no state words left in the title."""
    fired, resolved = one(sample(trigger)), one(sample(recovery))
    assert (fired.source, resolved.source) == (source, source)
    assert (fired.status, resolved.status) == (Status.FIRING, Status.RESOLVED)
    assert fired.fingerprint == resolved.fingerprint
    assert fired.title == resolved.title
    assert not fired.title.startswith("[")


@pytest.mark.parametrize(("name", "expected"), sorted(PINNED.items()))
def test_fingerprints_are_pinned(name: str, expected: tuple[str, ...]) -> None:
    """Each vendor sample still yields exactly its pinned fingerprints."""
    assert tuple(a.fingerprint for a in normalize_body((VENDORS / name).read_bytes()).alerts) == (
        expected
    )


def test_every_vendor_sample_is_pinned() -> None:
    """A new vendor sample must be pinned here too."""
    assert {p.name for p in VENDORS.glob("*.json")} == set(PINNED)


@pytest.mark.parametrize(
    ("name", "reason"),
    [
        ("datadog-custom-no-data.json", "no_state_change"),
        ("opsgenie-acknowledge.json", "no_state_change"),
        ("pagerduty-acknowledged.json", "no_state_change"),
        ("newrelic-acknowledged.json", "no_state_change"),
        ("gcp-test.json", "test_notification"),
        ("uptimekuma-pending.json", "no_state_change"),
        ("uptimekuma-test.json", "test_notification"),
    ],
)
def test_acknowledgements_and_no_data_change_no_ticket(name: str, reason: str) -> None:
    """Acknowledged, no-data and other actions are Skipped with a reason, never an alert."""
    result = run(sample(name))
    assert result.alerts == ()
    assert [s.reason for s in result.skipped] == [reason]


def test_datadog_fields() -> None:
    """A Datadog custom payload's monitor, priority, team tag, severity and link are read;
    the %%% markers of its message are not kept."""
    alert = one(sample("datadog-custom-triggered.json"))
    assert alert.title == "Checkout p99 latency above 2s"
    assert (alert.priority, alert.team, alert.severity) == (Priority.CRITICAL, "payments", "error")
    assert alert.identity == {
        "org": "415600",
        "aggreg_key": "9bd4ac313a4d1e8fae2482df7b77628",
        "scope": "",
    }
    assert alert.labels["monitor_id"] == "18692904"
    assert alert.links == {"source": "https://app.datadoghq.com/event/event?id=6136155280721054654"}
    assert "%%%" not in alert.description and "system.cpu.user" in alert.description


def test_datadog_default_payload_reads_its_title() -> None:
    """The default payload has no id but the event's: the priority and state brackets are
    read from its title and the monitor's group stays part of its identity."""
    alert = one(sample("datadog-default-triggered.json"))
    assert (alert.title, alert.priority) == ("CPU high on host:web-1", Priority.HIGH)
    other_host = dict(sample("datadog-default-triggered.json"),
                      title="[P2] [Triggered on {host:web-2}] CPU high")  # fmt: skip
    assert one(other_host).fingerprint != alert.fingerprint
    renotified = dict(sample("datadog-default-triggered.json"), id="1", date="1795512000000",
                      title="[Re-Triggered on {host:web-1}] CPU high")  # fmt: skip
    assert (one(renotified).status, one(renotified).fingerprint) == (
        Status.FIRING, alert.fingerprint
    )  # fmt: skip


def test_datadog_groups_of_one_aggregation_key_stay_apart() -> None:
    """Two hosts of a multi alert monitor are two incidents even if they share $AGGREG_KEY:
    one host's recovery never closes the other's."""
    web1 = dict(sample("datadog-custom-triggered.json"), title="[Triggered on {host:web-1}] CPU")
    web2 = dict(web1, title="[Recovered on {host:web-2}] CPU", alert_transition="Recovered")
    assert one(web1).fingerprint != one(web2).fingerprint


@pytest.mark.parametrize(
    ("transition", "status"),
    [("Warn", Status.FIRING), ("Re-Warn", Status.FIRING), ("Renotify", Status.FIRING),
     ("Re-Triggered", Status.FIRING), ("recovered", Status.RESOLVED)],
)  # fmt: skip
def test_datadog_transitions(transition: str, status: Status) -> None:
    """Every $ALERT_TRANSITION that keeps or ends an alert maps to firing or resolved."""
    body = dict(sample("datadog-custom-triggered.json"), alert_transition=transition)
    assert one(body).status is status


def test_datadog_test_notification_is_skipped() -> None:
    """The monitor's "Test Notifications" button ("[Triggered] [TEST] …", its message saying
    so) opens no ticket; a monitor named "[TEST] …" whose message does not is a real alert."""
    pressed = dict(sample("datadog-default-triggered.json"), title="[Triggered] [TEST] CPU high",
                   body="%%%\nTest notification triggered by ops@example.com.\n%%%")  # fmt: skip
    assert [s.reason for s in run(pressed).skipped] == ["test_notification"]
    named = dict(sample("datadog-default-triggered.json"), title="[Triggered] [TEST] canary")
    assert one(named).title == "[TEST] canary"


@pytest.mark.parametrize(
    ("given", "expected"),
    [("P1", Priority.CRITICAL), ("P2", Priority.HIGH), ("P3", Priority.MEDIUM),
     ("P4", Priority.LOW), ("p5", Priority.LOW), (3, Priority.MEDIUM), ("nonsense", None)],
)  # fmt: skip
def test_opsgenie_priorities(given: Any, expected: Priority | None) -> None:
    """Opsgenie's P1..P5 (or the bare number) map P1 critical … P4 and P5 low."""
    body = sample("opsgenie-create.json")
    body["alert"] = dict(body["alert"], priority=given)
    assert one(body).priority is expected


def test_pagerduty_fields_and_other_events() -> None:
    """A PagerDuty incident's priority, team, urgency and links are read; a reopened incident
    fires again, an event of no incident (service.created) changes no ticket."""
    alert = one(sample("pagerduty-triggered.json"))
    assert (alert.priority, alert.team, alert.severity) == (Priority.CRITICAL, "payments", "high")
    assert alert.links["source"] == "https://example.pagerduty.com/incidents/PFQZPSY"
    reopened = sample("pagerduty-triggered.json")
    reopened["event"]["event_type"] = "incident.reopened"
    assert (one(reopened).status, one(reopened).fingerprint) == (Status.FIRING, alert.fingerprint)
    service = {"event": {"id": "e", "event_type": "service.created", "resource_type": "service",
                         "occurred_at": "2026-11-23T09:00:00Z",
                         "data": {"id": "PSERVICE1", "type": "service"}}}  # fmt: skip
    assert [s.reason for s in run(service).skipped] == ["no_state_change"]


def test_hosted_monitors_fields() -> None:
    """New Relic's priority and issue link, Azure's severity scale and action-group team,
    Google Cloud's severity, policy label team and documentation are read."""
    nr = one(sample("newrelic-activated.json"))
    assert (nr.priority, nr.labels["condition"]) == (Priority.CRITICAL, "Disk used %")
    assert nr.links["source"].startswith("https://radar-api.service.newrelic.com/")
    azure = one(sample("azure-fired.json"))
    assert (azure.title, azure.priority, azure.team) == (
        "orders-api CPU above 90% on orders-api-1", Priority.HIGH, "orders"
    )  # fmt: skip
    gcp = one(sample("gcp-open.json"))
    assert (gcp.title, gcp.priority, gcp.team) == ("Web CPU high on gke-web-1",
                                                   Priority.CRITICAL, "web")  # fmt: skip
    assert "https://runbooks.example.com/web-cpu" in gcp.description


def test_an_azure_activity_log_alert_fires() -> None:
    """An Azure alert without monitorCondition (activity log alerts only fire) fires."""
    body = sample("azure-fired.json")
    del body["data"]["essentials"]["monitorCondition"]
    assert one(body).status is Status.FIRING


def test_uptime_kuma_monitors_of_two_servers_stay_apart() -> None:
    """Monitor ids restart at 1 on each Uptime Kuma server: the same id with another name is
    another incident, and a monitor without an id or name is refused, not merged."""
    down = sample("uptimekuma-down.json")
    other = dict(down, monitor=dict(down["monitor"], name="Status page"))
    assert one(down).fingerprint != one(other).fingerprint
    assert one(down).title == "Checkout API"
    with pytest.raises(InvalidAlertError, match=r"monitor\.name is missing"):
        run(dict(down, monitor=dict(down["monitor"], name=None)))


def test_splunk_runs_of_one_search_are_one_incident() -> None:
    """Each run of a saved search (another sid, another first row) is the same incident; a
    search Splunk sends unnamed is keyed by its sid without the run's suffix."""
    first = one(sample("splunk-alert.json"))
    later = dict(sample("splunk-alert.json"), sid="scheduler__admin__search__RMD5e_at_1795511580_7",
                 result={"host": "web-9", "count": "90"})  # fmt: skip
    assert (one(later).fingerprint, first.status) == (first.fingerprint, Status.FIRING)
    assert first.title == "Nginx 5xx burst" and "host: web-3" in first.description
    unnamed = one(sample("splunk-alert-unnamed.json"))
    rerun = dict(sample("splunk-alert-unnamed.json"), sid="scheduler_admin_search_W2_at_14239999_5")
    assert unnamed.identity == {
        "app": "search",
        "owner": "admin",
        "search": "scheduler_admin_search_W2",
    }
    assert one(rerun).fingerprint == unnamed.fingerprint
    with pytest.raises(InvalidAlertError, match="search_name and sid are missing"):
        run(dict(sample("splunk-alert-unnamed.json"), sid=None))


async def test_splunk_repeats_count_on_one_ticket() -> None:
    """Through the pipeline, two runs of one Splunk search open one ticket and count a repeat."""
    sink = Sink()
    pipeline = pipeline_into(sink)
    body = (VENDORS / "splunk-alert.json").read_text(encoding="utf-8")
    actions = []
    for minute in (0, 5):
        at = T0 + timedelta(minutes=minute)
        outcomes = await pipeline.process(Message(f"m-{minute}", body, f"r-{minute}", 1, at,
                                                  received_at=at))  # fmt: skip
        actions += [o.action for o in outcomes]
    assert actions == [Action.OPEN, Action.COUNT]


def test_opsgenie_without_alias_is_keyed_by_its_alert_id() -> None:
    """An Opsgenie alert without an alias is identified by its alertId: Opsgenie then
    de-duplicates nothing, so another open alert may repeat its message and entity."""
    body = sample("opsgenie-create.json")
    body["alert"] = {k: v for k, v in body["alert"].items() if k != "alias"}
    assert one(body).identity == {"alert_id": "ec03dad6-62c8-4c94-b38b-d88f398e900f"}


# --- hostile and broken variants ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "change", "says"),
    [
        ("opsgenie-create.json", {"alertId": {"x": 1}}, "alert.alertId must be text"),
        ("opsgenie-create.json", {"alertId": ""}, "alert.alertId is missing or empty"),
        ("datadog-default-triggered.json", {"title": ["x"]}, "title must be text"),
        ("datadog-default-triggered.json", {"title": "CPU high"}, "name no monitor state"),
        ("datadog-custom-triggered.json", {"alert_transition": "Acknowledged", "title": "CPU"},
         "name no monitor state"),
        ("pagerduty-triggered.json", {"id": None}, "event.data.id is missing or empty"),
        ("pagerduty-triggered.json", {"id": {"a": 1}}, "event.data.id must be text"),
        ("newrelic-activated.json", {"state": "PAUSED"}, "state 'PAUSED' is not CREATED"),
        ("newrelic-activated.json", {"id": ""}, "id is missing or empty"),
        ("azure-fired.json", {"monitorCondition": "Flapping"}, "is not Fired or Resolved"),
        ("azure-fired.json", {"alertId": None}, "essentials.alertId is missing"),
        ("gcp-open.json", {"state": ["open"]}, "state <JSON array> is not open or closed"),
        ("gcp-open.json", {"incident_id": {"x": 1}}, "incident.incident_id must be text"),
        ("uptimekuma-down.json", {"status": "down"}, "heartbeat.status 'down' is not 0"),
        ("uptimekuma-down.json", {"status": True}, "heartbeat.status true is not 0"),
        ("uptimekuma-down.json", {"status": ["x"]}, "heartbeat.status <JSON array> is not 0"),
        ("uptimekuma-down.json", {"status": {"k": 1}}, "heartbeat.status <JSON object> is not 0"),
    ],
)  # fmt: skip
def test_broken_identity_or_state_is_a_clear_invalid_alert(
    name: str, change: dict[str, Any], says: str
) -> None:
    """An id of the wrong type or missing, or no state at all, is an InvalidAlertError
    naming the field (for the DLQ), never a crash or a made-up identity."""
    body = sample(name)
    if "alert" in body:
        body["alert"] = dict(body["alert"], **change)
    elif "event" in body:
        body["event"]["data"] = dict(body["event"]["data"], **change)
    elif "heartbeat" in body:
        body["heartbeat"] = dict(body["heartbeat"], **change)
    elif "incident" in body:
        body["incident"] = dict(body["incident"], **change)
    elif "schemaId" in body:
        body["data"]["essentials"] = dict(body["data"]["essentials"], **change)
    else:
        body.update(change)
    with pytest.raises(InvalidAlertError, match=says):
        run(body)


def test_odd_display_fields_cost_no_ticket() -> None:
    """Display-only fields of odd JSON types (tags, org name, priority object, teams) are
    passed over; the alert still opens its ticket."""
    dd = dict(sample("datadog-custom-triggered.json"), tags={"a": 1}, alert_priority=[1],
              hostname={"h": 1}, link="javascript:alert(1)", body=None, org={"name": ["x"]})  # fmt: skip
    assert one(dd).status is Status.FIRING and one(dd).links == {}
    pd = sample("pagerduty-triggered.json")
    pd["event"]["data"].update(priority="P1", teams="payments", service=None, title=None)
    assert one(pd).title == "PagerDuty incident PFQZPSY"


def test_shapes_without_their_keys_are_not_theirs() -> None:
    """Only a tool's unmistakable keys claim a payload: a PagerDuty event without `data` or an
    Opsgenie action without `alertId` is no such alert (and, without a title, no format)."""
    pd = sample("pagerduty-triggered.json")
    del pd["event"]["data"]
    with pytest.raises(UnknownFormatError):
        run(pd)
    og = sample("opsgenie-create.json")
    del og["alert"]["alertId"]
    with pytest.raises(UnknownFormatError):
        run(og)


def test_a_huge_hostile_datadog_title_is_read() -> None:
    """A title of a megabyte of unclosed group braces is read (cut), not refused or stuck."""
    title = "[Triggered on {" + "host:a," * 120_000
    body = dict(sample("datadog-custom-triggered.json"), title=title)
    assert len(one(body).title) <= 200


#: Where each tool puts text a person wrote (or pasted): every such field gets the secrets.
SECRET_FIELDS: dict[str, tuple[tuple[str, ...], ...]] = {
    "datadog-custom-triggered.json": (("title",), ("body",), ("tags",), ("alert_metric",)),
    "opsgenie-create.json": (("alert", "message"), ("alert", "description"), ("alert", "entity")),
    "pagerduty-triggered.json": (("event", "data", "title"), ("event", "data", "service", "summary")),
    "newrelic-activated.json": (("title",), ("workflowName",)),
    "azure-fired.json": (("data", "essentials", "alertRule"), ("data", "essentials", "description")),
    "gcp-open.json": (("incident", "summary"), ("incident", "policy_name")),
    "uptimekuma-down.json": (("heartbeat", "msg"), ("monitor", "description")),
    "splunk-alert.json": (("search_name",), ("owner",)),
}  # fmt: skip
SECRETS = ("AKIAIOSFODNN7EXAMPLE", "hunter2-Sup3r-secret")


@pytest.mark.parametrize("name", sorted(SECRET_FIELDS))
def test_secrets_in_a_tools_text_never_reach_the_redacted_view(name: str) -> None:
    """An access key and a DSN password pasted into any of a tool's text fields are gone from
    everything the sinks and the prompt render from (title, description, labels, excerpt)."""
    body = sample(name)
    for path in SECRET_FIELDS[name]:
        node = body
        for key in path[:-1]:
            node = node[key]
        node[path[-1]] = (
            f"{node[path[-1]]} key AKIAIOSFODNN7EXAMPLE db postgres://app:hunter2-Sup3r-secret@db:5432/x"
        )
    for alert in run(body).alerts:
        shown = view(alert).text
        assert not [secret for secret in SECRETS if secret in shown], shown


# --- generic titles that carry their state -------------------------------------------------------


@pytest.mark.parametrize(
    ("title", "status"),
    [("[Recovered] CPU high on web-1", Status.RESOLVED), ("[RESOLVED] CPU high on web-1",
      Status.RESOLVED), ("[OK] CPU high on web-1", Status.RESOLVED),
     ("[FIRING:2] CPU high on web-1", Status.FIRING), ("[ALARM] CPU high on web-1", Status.FIRING),
     ("[Triggered] CPU high on web-1", Status.FIRING)],
)  # fmt: skip
def test_generic_title_state_prefix_is_its_status(title: str, status: Status) -> None:
    """A generic alert without `status` whose title starts with a bracketed state is that
    state, titled and keyed without it: "[Recovered] X" resolves the incident "X" opened."""
    plain = one({"title": "CPU high on web-1", "source": "uptime"})
    alert = one({"title": title, "source": "uptime"})
    assert (alert.status, alert.title) == (status, "CPU high on web-1")
    assert alert.fingerprint == plain.fingerprint


@pytest.mark.parametrize(
    ("title", "status"),
    [("Problem: High CPU on web-1", Status.FIRING), ("Resolved: High CPU on web-1", Status.RESOLVED),
     ("Resolved in 5m 0s: High CPU on web-1", Status.RESOLVED)],
)  # fmt: skip
def test_zabbix_default_subjects_as_generic_titles(title: str, status: Status) -> None:
    """Zabbix's default subjects forwarded as a generic title are one incident: "Resolved in
    5m 0s: X" resolves "Problem: X"; "Updated problem: X" (an acknowledgement) changes none."""
    alert = one({"title": title, "source": "zabbix"})
    assert (alert.status, alert.title) == (status, "High CPU on web-1")
    assert alert.fingerprint == one({"title": "High CPU on web-1", "source": "zabbix"}).fingerprint
    updated = run({"title": "Updated problem in 2m 10s: High CPU on web-1", "source": "zabbix"})
    assert [s.reason for s in updated.skipped] == ["no_state_change"]


def test_generic_title_prefix_behind_a_control_character() -> None:
    """A control or bidi character before the bracket (removed from the shown title) does not
    hide the state: "\\x07[Recovered] X" resolves "X"."""
    alert = one({"title": "\x07\u202e[Recovered] CPU high", "source": "uptime"})
    assert (alert.status, alert.title) == (Status.RESOLVED, "CPU high")
    assert alert.fingerprint == one({"title": "CPU high", "source": "uptime"}).fingerprint


def test_generic_title_prefix_quiet_and_unknown_words() -> None:
    """ "[Acknowledged] X" changes no ticket; "[PROD] X" is no state and stays the title."""
    assert [s.reason for s in run({"title": "[Acknowledged] X"}).skipped] == ["no_state_change"]
    kept = one({"title": "[PROD] X"})
    assert (kept.title, kept.status) == ("[PROD] X", Status.FIRING)


def test_generic_stated_status_wins_but_the_bracket_never_keys() -> None:
    """A Datadog-style payload in generic form ("status": "$ALERT_TRANSITION", the title
    "[Triggered] X" then "[Recovered] X") is one incident; the stated status wins over the
    bracket, and the bracket is not part of the title or the identity."""
    fired = one({"title": "[Triggered] CPU high", "status": "Triggered", "source": "dd"})
    recovered = one({"title": "[Recovered] CPU high", "status": "Recovered", "source": "dd"})
    assert (fired.status, recovered.status) == (Status.FIRING, Status.RESOLVED)
    assert fired.fingerprint == recovered.fingerprint
    assert recovered.identity == {"source": "dd", "title": "CPU high"}
    disagreeing = one({"title": "[FIRING:1] X", "status": "resolved", "source": "s"})
    assert (disagreeing.status, disagreeing.title) == (Status.RESOLVED, "X")


@pytest.mark.parametrize(
    ("status", "fires"),
    [("Warn", True), ("Re-Warn", True), ("Renotify", True), ("Re-No Data", None)],
)
def test_generic_status_takes_datadog_transitions(status: str, fires: bool | None) -> None:
    """A custom Datadog payload in generic form ("status": "$ALERT_TRANSITION") is read: a
    warning or renotification fires, Re-No Data changes no ticket (none go to the DLQ)."""
    result = run({"title": "CPU", "dedup_key": "k", "status": status})
    if fires is None:
        assert result.alerts == () and result.skipped
    else:
        assert result.alerts[0].status is Status.FIRING


# --- through the gateway's check, routes and the pipeline -------------------------------------


@pytest.mark.parametrize("name", sorted(PINNED))
def test_the_gateway_generic_path_takes_them(name: str) -> None:
    """`/v1/alerts/generic` accepts each tool's webhook and names its format."""
    checked = check("generic", (VENDORS / name).read_bytes(), None, lambda text: text)
    assert checked.format == name.split("-")[0]
    assert checked.alerts == len(PINNED[name])


def test_an_unknown_body_is_refused_naming_its_keys_within_300_characters() -> None:
    """With every tool's format tried, the gateway's 422 reason (cut at 300 characters)
    still names the body's top-level keys, which tell its sender what went wrong."""
    with pytest.raises(Invalid) as refused:
        check("generic", b'{"hello": "world", "note": 1}', None, str)
    reason = str(refused.value)
    assert "top-level keys: 'hello', 'note'" in reason and len(reason) <= 300


def test_the_gateway_refuses_them_on_other_paths() -> None:
    """A Datadog webhook on `/v1/alerts/grafana` is refused, pointing at the generic path."""
    with pytest.raises(Invalid, match="post it to /v1/alerts/generic"):
        check("grafana", (VENDORS / "datadog-default-triggered.json").read_bytes(), None, str)


def test_routes_know_the_sources() -> None:
    """A route may match `source = "datadog"` (or any other tool's name)."""
    assert set(SOURCES) <= set(KNOWN_SOURCES)
    assert recognise_body((VENDORS / "opsgenie-close.json").read_bytes()).format == "opsgenie"


@pytest.mark.parametrize(("trigger", "recovery", "source"), PAIRS)
async def test_trigger_then_recovery_open_and_close_one_ticket(
    trigger: str, recovery: str, source: str
) -> None:
    """Through the pipeline (in-memory store and sink), a tool's trigger, a repeat of it and
    its recovery are one ticket, opened and then closed."""
    actions, effects = await trigger_repeat_recovery(VENDORS / trigger, VENDORS / recovery)
    assert actions == [Action.OPEN, Action.COUNT, Action.CLOSE]
    assert effects == [EffectKind.OPEN, EffectKind.CLOSE]
