"""More tools' webhooks sent to the generic path (error trackers, uptime checkers, on-call
tools): each known by its own keys and keyed by the tool's own id, so a trigger and its
recovery are one incident; acknowledgements and test buttons change no ticket; odd field types
are a clear InvalidAlertError, never a crash."""

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
from triage.ingest.validate import ACCEPTED_FORMATS, Invalid, check
from triage.models import EffectKind, Priority, Status
from triage.normalize import FORMATS, recognise_body
from triage.routes import KNOWN_SOURCES
from triage.sqs.inbox import Message

TOOLS = Path(__file__).parent / "payloads" / "tools"

#: Each sample's format (as the gateway names it) and fingerprints; () when it is skipped.
SAMPLES: dict[str, tuple[str, tuple[str, ...]]] = {
    "bugsnag-comment.json": ("bugsnag", ()),
    "bugsnag-first-exception.json": ("bugsnag", ("c0c795b491cc25d7e5b2df7151b36976",)),
    "bugsnag-fixed.json": ("bugsnag", ("c0c795b491cc25d7e5b2df7151b36976",)),
    "dynatrace-open.json": ("dynatrace", ("9e4c5a5c3eecb7625701da223a27d402",)),
    "dynatrace-resolved.json": ("dynatrace", ("9e4c5a5c3eecb7625701da223a27d402",)),
    "dynatrace-test.json": ("dynatrace", ()),
    "grafana-oncall-acknowledge.json": ("grafana-oncall", ()),
    "grafana-oncall-alertmanager-created.json": (
        "grafana-oncall",
        ("22038f5ccf1ded3c227a9afe24df57ce",),
    ),
    "grafana-oncall-created.json": ("grafana-oncall", ("dc43ef70f38e1037be2e6d607611293f",)),
    "grafana-oncall-resolve.json": ("grafana-oncall", ("dc43ef70f38e1037be2e6d607611293f",)),
    "honeycomb-ok.json": ("honeycomb", ("430f5f04fe5b534ff68dbd458207f447",)),
    "honeycomb-test.json": ("honeycomb", ()),
    "honeycomb-triggered.json": ("honeycomb", ("430f5f04fe5b534ff68dbd458207f447",)),
    "honeybadger-alarm-alert.json": ("honeybadger", ("c3c9b485e8abe8467add502b83f29bb0",)),
    "honeybadger-alarm-ok.json": ("honeybadger", ("c3c9b485e8abe8467add502b83f29bb0",)),
    "honeybadger-check-in-missing.json": ("honeybadger", ("55d904c03880ef365991031074d55407",)),
    "honeybadger-check-in-reporting.json": ("honeybadger", ("55d904c03880ef365991031074d55407",)),
    "honeybadger-down.json": ("honeybadger", ("b2f326c36905f19d7d37af8707f106b7",)),
    "honeybadger-occurred.json": ("honeybadger", ("bb8e85905e8e31760cfc7fc78dba744a",)),
    "honeybadger-resolved.json": ("honeybadger", ("bb8e85905e8e31760cfc7fc78dba744a",)),
    "honeybadger-test.json": ("honeybadger", ()),
    "honeybadger-up.json": ("honeybadger", ("b2f326c36905f19d7d37af8707f106b7",)),
    "pingdom-http-down.json": ("pingdom", ("043c5dad0e12cd2f1a1840b2a9f2e877",)),
    "pingdom-http-up.json": ("pingdom", ("043c5dad0e12cd2f1a1840b2a9f2e877",)),
    "rollbar-deploy.json": ("rollbar", ()),
    "rollbar-test.json": ("rollbar", ()),
    "rollbar-new-item.json": ("rollbar", ("dc45bc6cebbd249bff774e11cd7d1d95",)),
    "rollbar-occurrence.json": ("rollbar", ("d1deb278c88f51b9dd0079905e40a731",)),
    "rollbar-resolved-item.json": ("rollbar", ("d1deb278c88f51b9dd0079905e40a731",)),
}
#: (trigger, recovery) sample pairs of each tool, and the source their alerts carry.
PAIRS = [
    ("rollbar-occurrence.json", "rollbar-resolved-item.json", "rollbar"),
    ("honeybadger-occurred.json", "honeybadger-resolved.json", "honeybadger"),
    ("honeybadger-down.json", "honeybadger-up.json", "honeybadger"),
    ("honeybadger-check-in-missing.json", "honeybadger-check-in-reporting.json", "honeybadger"),
    ("bugsnag-first-exception.json", "bugsnag-fixed.json", "bugsnag"),
    ("honeybadger-alarm-alert.json", "honeybadger-alarm-ok.json", "honeybadger"),
    ("pingdom-http-down.json", "pingdom-http-up.json", "pingdom"),
    ("dynatrace-open.json", "dynatrace-resolved.json", "dynatrace"),
    ("honeycomb-triggered.json", "honeycomb-ok.json", "honeycomb"),
    ("grafana-oncall-created.json", "grafana-oncall-resolve.json", "grafana-oncall"),
]


def sample(name: str) -> dict[str, Any]:
    value: dict[str, Any] = json.loads((TOOLS / name).read_text(encoding="utf-8"))
    return value


# --- each tool's trigger and recovery ---------------------------------------------------------


@pytest.mark.parametrize(("trigger", "recovery", "source"), PAIRS)
def test_trigger_and_recovery_are_one_incident(trigger: str, recovery: str, source: str) -> None:
    """A tool's trigger fires and its recovery resolves one fingerprint, with the tool's name
    as source and the same title."""
    fired, resolved = one(sample(trigger)), one(sample(recovery))
    assert (fired.source, resolved.source) == (source, source)
    assert (fired.status, resolved.status) == (Status.FIRING, Status.RESOLVED)
    assert fired.fingerprint == resolved.fingerprint
    assert fired.title == resolved.title


@pytest.mark.parametrize(("name", "expected"), sorted(SAMPLES.items()))
def test_samples_are_read_as_their_tool_with_pinned_fingerprints(
    name: str, expected: tuple[str, tuple[str, ...]]
) -> None:
    """Each sample is recognised as its tool's format and yields exactly its pinned
    fingerprints (a change re-keys that tool's incidents in production)."""
    recognised = recognise_body((TOOLS / name).read_bytes())
    fingerprints = tuple(a.fingerprint for a in recognised.normalized.alerts)
    assert (recognised.format, fingerprints) == expected


def test_every_tool_sample_is_listed() -> None:
    """A new sample under payloads/tools must be listed (and pinned) here too."""
    assert {p.name for p in TOOLS.glob("*.json")} == set(SAMPLES)


@pytest.mark.parametrize(
    ("name", "reason"),
    [
        ("rollbar-deploy.json", "no_state_change"),
        ("rollbar-test.json", "test_notification"),
        ("bugsnag-comment.json", "no_state_change"),
        ("dynatrace-test.json", "test_notification"),
        ("honeycomb-test.json", "test_notification"),
        ("honeybadger-test.json", "test_notification"),
        ("grafana-oncall-acknowledge.json", "no_state_change"),
    ],
)
def test_deploys_tests_and_acknowledgements_change_no_ticket(name: str, reason: str) -> None:
    """A deploy, a Test button's notification and an acknowledgement are Skipped with a
    reason, never an alert and never a dead letter."""
    result = run(sample(name))
    assert result.alerts == ()
    assert [s.reason for s in result.skipped] == [reason]


@pytest.mark.parametrize(
    ("event", "status"),
    [("new_item", Status.FIRING), ("reactivated_item", Status.FIRING),
     ("reopened_item", Status.FIRING), ("exp_repeat_item", Status.FIRING),
     ("item_velocity", Status.FIRING), ("RESOLVED_ITEM", Status.RESOLVED)],
)  # fmt: skip
def test_rollbar_events_of_one_item_are_one_incident(event: str, status: Status) -> None:
    """Every Rollbar event about an item keeps its fingerprint: a reactivated or reopened item
    fires the incident its resolve closed again."""
    body = dict(sample("rollbar-occurrence.json"), event_name=event)
    alert = one(body)
    assert (alert.status, alert.fingerprint) == (
        status,
        one(sample("rollbar-occurrence.json")).fingerprint,
    )


def test_rollbar_fields() -> None:
    """A Rollbar item's title, level, exception, environment and host are read; an item's
    numeric level stands for its word when no occurrence says it."""
    alert = one(sample("rollbar-occurrence.json"))
    assert (alert.title, alert.severity) == ("Exception: test exception", "error")
    assert alert.description == "Exception: test 2"
    assert (
        alert.labels["environment"] == "production" and alert.labels["host"] == "web-3.example.com"
    )
    critical = sample("rollbar-resolved-item.json")
    critical["data"]["item"]["level"] = 50
    assert one(critical).severity == "critical"


@pytest.mark.parametrize(
    ("event", "status"),
    [("rate_exceeded", Status.FIRING), ("volume_spike", Status.FIRING),
     ("unresolved", Status.FIRING), ("Resolved", Status.RESOLVED)],
)  # fmt: skip
def test_honeybadger_fault_events(event: str, status: Status) -> None:
    """A Honeybadger fault's rate, spike and reopen events fire its incident again; its
    resolve closes it; all keep the fault's fingerprint."""
    fault = one(sample("honeybadger-occurred.json"))
    alert = one(dict(sample("honeybadger-occurred.json"), event=event))
    assert (alert.status, alert.fingerprint) == (status, fault.fingerprint)


def test_an_apps_own_testing_exception_is_a_real_error() -> None:
    """Only the Test button's fault (its class and message) is skipped: an application's own
    TestingException class with its own message opens a ticket."""
    body = sample("honeybadger-test.json")
    body["fault"]["message"] = "fixture loader failed"
    assert one(body).title == "TestingException: fixture loader failed"


def test_honeybadger_faults_sites_and_check_ins_never_share_a_key() -> None:
    """A fault, a site and a check-in that happen to share an id are three incidents."""
    fault = sample("honeybadger-occurred.json")
    fault["fault"]["id"] = "ff71a50d-dc88-448b-8a1b-97587d8c0fb9"
    site = sample("honeybadger-down.json")
    check_in = sample("honeybadger-check-in-missing.json")
    check_in["check_in"]["id"] = "ff71a50d-dc88-448b-8a1b-97587d8c0fb9"
    assert len({one(fault).fingerprint, one(site).fingerprint, one(check_in).fingerprint}) == 3


def test_honeybadger_events_without_a_reader_go_to_the_dlq_by_name() -> None:
    """An event this reader does not know (one Honeybadger may add) is refused naming it, not
    dropped as if it changed nothing; assignments and comments change no ticket."""
    with pytest.raises(InvalidAlertError, match="honeybadger event 'site_archived' is not"):
        run(dict(sample("honeybadger-down.json"), event="site_archived"))
    for event in ("assigned", "commented"):
        assert run(dict(sample("honeybadger-resolved.json"), event=event)).skipped


def test_a_honeybadger_alarm_without_an_id_is_keyed_by_its_name() -> None:
    """An Insights alarm whose id Honeybadger sends as null is keyed by its name (its alert
    and OK still one incident); with neither, it is refused rather than merged with others."""
    fired, ok = sample("honeybadger-alarm-alert.json"), sample("honeybadger-alarm-ok.json")
    for body in (fired, ok):
        body["alarm"]["id"] = None
    assert one(fired).identity == {"alarm_name": "Checkout errors"}
    assert one(fired).fingerprint == one(ok).fingerprint
    fired["alarm"]["name"] = None
    with pytest.raises(InvalidAlertError, match=r"alarm\.id and alarm\.name are missing"):
        run(fired)


def test_honeybadger_resolve_is_dated_when_queued_not_by_its_last_notice() -> None:
    """A fault's resolve states no time of its own; dated by its older last notice it would
    read as a stale event and never close the incident its later notice opened."""
    resolved = one(sample("honeybadger-resolved.json"))
    fired = one(sample("honeybadger-occurred.json"))
    assert resolved.occurred_at > fired.occurred_at


@pytest.mark.parametrize(
    ("state", "status"),
    [("DOWN", Status.FIRING), ("FAILING", Status.FIRING), ("up", Status.RESOLVED),
     ("SUCCESS", Status.RESOLVED)],
)  # fmt: skip
def test_pingdom_uptime_and_transaction_states(state: str, status: Status) -> None:
    """Pingdom's uptime (DOWN, UP) and transaction (FAILING, SUCCESS) states fire and resolve
    one check's incident; HIGH importance is high priority."""
    down = one(sample("pingdom-http-down.json"))
    alert = one(dict(sample("pingdom-http-down.json"), current_state=state))
    assert (alert.status, alert.fingerprint, alert.priority) == (
        status, down.fingerprint, Priority.HIGH
    )  # fmt: skip


@pytest.mark.parametrize(
    ("trigger", "change", "status"),
    [("exception", None, Status.FIRING), ("powerTen", None, Status.FIRING),
     ("errorEventFrequency", None, Status.FIRING), ("reopened", None, Status.FIRING),
     ("errorStateManualChange", "ignored", Status.RESOLVED),
     ("errorStateManualChange", "snoozed", Status.RESOLVED),
     ("errorStateManualChange", "reopened", Status.FIRING),
     ("errorStateManualChange", "unignored", None), ("release", None, None),
     ("projectApproachingRateLimit", None, None)],
)  # fmt: skip
def test_bugsnag_triggers(trigger: str, change: str | None, status: Status | None) -> None:
    """Bugsnag's error triggers fire the error's incident, a person's fix, ignore or snooze
    resolves it and a reopen fires it again; releases and other changes change no ticket."""
    body = sample("bugsnag-fixed.json")
    body["trigger"] = {"type": trigger, "message": "m", "stateChange": change}
    result = run(body)
    if status is None:
        assert result.alerts == () and [s.reason for s in result.skipped] == ["no_state_change"]
    else:
        [alert] = result.alerts
        assert (alert.status, alert.fingerprint) == (
            status, one(sample("bugsnag-first-exception.json")).fingerprint
        )  # fmt: skip


def test_a_bugsnag_project_spike_fires_its_projects_incident() -> None:
    """A project spike (no error in it) fires one incident per project, never one of an
    error's, and every spike of the project counts on it."""
    body = sample("bugsnag-first-exception.json")
    del body["error"]
    body["trigger"] = {"type": "projectSpiking", "message": "Spike of 5000 events", "rate": 5000}
    spike = one(body)
    assert (spike.status, spike.title) == (Status.FIRING, "Error spike in My Test Project")
    assert spike.identity == {"project": "56b9ca7f17025f8756f69055", "trigger": "projectspiking"}
    again = dict(body, trigger=dict(body["trigger"], rate=9000))
    assert one(again).fingerprint == spike.fingerprint


def test_dynatrace_fields() -> None:
    """A Dynatrace problem's title, display id, impact, entities and link are read; its test
    notification (the documented placeholders' test run) changes no ticket."""
    alert = one(sample("dynatrace-open.json"))
    assert (alert.title, alert.labels["problem"]) == ("Failure rate increase", "P-2512123")
    assert alert.labels["entities"] == "checkout-service" and alert.links["source"].startswith(
        "https://abc12345.live.dynatrace.com/"
    )


def test_honeycomb_fields_and_a_trigger_without_an_id() -> None:
    """A Honeycomb trigger's name, description, triggered groups and link are read; a payload
    from before Honeycomb sent the trigger's id is keyed by its name, and one with neither is
    refused rather than merged with every other."""
    alert = one(sample("honeycomb-triggered.json"))
    assert alert.title == "Checkout p99 latency"
    assert "service=checkout: 2412" in alert.description
    assert alert.links["source"].endswith("/triggers/HpPzqZtCNA5")
    old = {k: v for k, v in sample("honeycomb-triggered.json").items() if k != "id"}
    assert one(old).identity == {"trigger_name": "Checkout p99 latency"}
    assert one(dict(old, status="ok")).fingerprint == one(old).fingerprint
    with pytest.raises(InvalidAlertError, match="honeycomb id and name are missing"):
        run(dict(old, name=None))


def test_grafana_oncall_fields_and_events() -> None:
    """An OnCall alert group's title, integration team, first alert's description and link
    are read; an escalation step or an unresolve fires the group again, a silence does not."""
    alert = one(sample("grafana-oncall-created.json"))
    assert (alert.title, alert.team) == ("Incident", "Webhooks Demo")
    assert "p99 latency of checkout" in alert.description
    assert alert.links["source"].endswith("/alert-groups/I6HNZGUFG4K11")
    for kind in ("escalation", "unresolve"):
        body = sample("grafana-oncall-resolve.json")
        body["event"]["type"] = kind
        body["alert_group"]["state"] = "firing"
        assert (one(body).status, one(body).fingerprint) == (Status.FIRING, alert.fingerprint)
    silenced = sample("grafana-oncall-resolve.json")
    silenced["event"]["type"] = "silence"
    silenced["alert_group"]["state"] = "silenced"
    assert [s.reason for s in run(silenced).skipped] == ["no_state_change"]


# --- hostile and broken variants ----------------------------------------------------------------


def _set(body: dict[str, Any], path: tuple[str, ...], value: Any) -> dict[str, Any]:
    node = body
    for key in path[:-1]:
        node = node[key]
    node[path[-1]] = value
    return body


@pytest.mark.parametrize(
    ("name", "path", "value", "says"),
    [
        ("rollbar-occurrence.json", ("data", "item", "id"), None, "data.item.id is missing"),
        ("rollbar-occurrence.json", ("data", "item", "id"), {"x": 1}, "data.item.id must be text"),
        ("rollbar-occurrence.json", ("data", "item"), [1], "data.item is a JSON array"),
        ("honeybadger-occurred.json", ("fault", "id"), "", "fault.id is missing or empty"),
        ("honeybadger-occurred.json", ("fault",), "x", "fault is a JSON str"),
        ("honeybadger-down.json", ("site", "id"), ["x"], "site.id must be text"),
        ("honeybadger-check-in-missing.json", ("check_in", "id"), None, "check_in.id is missing"),
        ("pingdom-http-down.json", ("current_state",), "PAUSED", "current_state 'PAUSED' is not"),
        ("pingdom-http-down.json", ("current_state",), ["DOWN"], "current_state <JSON array>"),
        ("pingdom-http-down.json", ("check_id",), {"a": 1}, "check_id must be text"),
        ("bugsnag-first-exception.json", ("error", "errorId"), None, "error.errorId is missing"),
        ("bugsnag-first-exception.json", ("error",), [1], "error is a JSON array"),
        ("dynatrace-open.json", ("State",), "CLOSED", "State 'CLOSED' is not OPEN or RESOLVED"),
        ("dynatrace-open.json", ("PID",), {"a": 1}, "PID must be text"),
        ("honeycomb-triggered.json", ("status",), "ALERTING", "status 'ALERTING' is not TRIGGERED"),
        ("honeycomb-triggered.json", ("id",), ["x"], "id must be text"),
        ("grafana-oncall-created.json", ("alert_group", "id"), None, "alert_group.id is missing"),
        ("grafana-oncall-created.json", ("alert_group", "id"), [], "alert_group.id must be text"),
    ],
)  # fmt: skip
def test_broken_identity_or_state_is_a_clear_invalid_alert(
    name: str, path: tuple[str, ...], value: Any, says: str
) -> None:
    """An id of the wrong type or missing, or a state that is none, is an InvalidAlertError
    naming the field (for the DLQ), never a crash or a made-up identity."""
    with pytest.raises(InvalidAlertError, match=says) as refused:
        run(_set(sample(name), path, value))
    assert refused.value.__cause__ is None


def test_odd_display_fields_cost_no_ticket() -> None:
    """Display-only fields of odd JSON types (an item's level as a list, tags as an object,
    an integration that is text, a link that is no URL) are passed over; the alert stays."""
    rb = sample("rollbar-occurrence.json")
    rb["data"]["item"].update(level=[40], title={"t": 1})
    rb["data"]["occurrence"] = "text"
    assert one(rb).title == "Rollbar item 402860571"
    pd = dict(sample("pingdom-http-down.json"), tags={"a": 1}, check_params=[1],
              importance_level=["HIGH"])  # fmt: skip
    assert (one(pd).status, one(pd).priority) == (Status.FIRING, None)
    oc = sample("grafana-oncall-created.json")
    oc.update(integration="x", alert_payload=[1])
    oc["alert_group"].update(permalinks={"web": "javascript:alert(1)"}, labels=[1])
    assert one(oc).links == {} and one(oc).team is None


def test_shapes_without_their_keys_are_not_theirs() -> None:
    """Only a tool's unmistakable keys claim a payload: a Rollbar event without its item, a
    Pingdom body without its check name, an OnCall event without its alert group's id are no
    such alert (and, without a title, no format at all)."""
    rb = sample("rollbar-occurrence.json")
    rb["data"] = {"occurrence": rb["data"]["occurrence"]}
    pd = {k: v for k, v in sample("pingdom-http-down.json").items() if k != "check_name"}
    oc = sample("grafana-oncall-created.json")
    del oc["alert_group"]["id"]
    for body in (rb, pd, oc):
        with pytest.raises(UnknownFormatError):
            run(body)


#: Where each tool puts text a person wrote (or pasted): every such field gets the secrets.
SECRET_FIELDS: dict[str, tuple[tuple[str, ...], ...]] = {
    "rollbar-occurrence.json": (("data", "item", "title"), ("data", "occurrence", "body", "trace",
                                "exception", "message"), ("data", "item", "environment")),
    "honeybadger-occurred.json": (("message",), ("fault", "message"), ("fault", "component")),
    "honeybadger-down.json": (("site", "name"), ("outage", "reason")),
    "pingdom-http-down.json": (("check_name",), ("description",), ("long_description",)),
    "bugsnag-first-exception.json": (("error", "message"), ("error", "context"),
                                     ("trigger", "message")),
    "dynatrace-open.json": (("ProblemTitle",), ("ImpactedEntity",), ("Tags",)),
    "honeycomb-triggered.json": (("name",), ("description",), ("trigger_description",)),
    "grafana-oncall-created.json": (("alert_group", "title"), ("alert_payload", "annotations",
                                    "description"), ("integration", "name")),
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


#: Credentials the tools themselves put in their payloads: a Honeycomb recipient's shared
#: secret (older payloads), a Honeybadger project's and notice's tokens, Rollbar's access token.
TOOL_CREDENTIALS: list[tuple[str, tuple[str, ...], str]] = [
    ("honeycomb-triggered.json", ("shared_secret",), "would you like to play a game"),
    ("honeybadger-occurred.json", ("project", "token"), "5268bd40"),
    ("honeybadger-occurred.json", ("notice", "token"), "f13f6786-87c3-41e0-bb6b-80a08fb72fdf"),
    ("rollbar-new-item.json", ("data", "item", "last_occurrence", "metadata", "access_token"),
     "3f6a9c2e8b1d4f7a9e0c2b5d8f1a4c7e"),
]  # fmt: skip


@pytest.mark.parametrize(("name", "path", "secret"), TOOL_CREDENTIALS)
def test_a_tools_own_credentials_never_reach_the_redacted_view(
    name: str, path: tuple[str, ...], secret: str
) -> None:
    """A token or shared secret the tool itself sends in its payload is gone from the view
    the sinks and the prompt render from (the raw excerpt included)."""
    [alert] = run(_set(sample(name), path, secret)).alerts
    assert secret not in view(alert).text


# --- through the gateway's check, routes and the pipeline -------------------------------------


@pytest.mark.parametrize("name", sorted(SAMPLES))
def test_the_gateway_generic_path_takes_them(name: str) -> None:
    """`/v1/alerts/generic` accepts each tool's webhook and names its format."""
    checked = check("generic", (TOOLS / name).read_bytes(), None, lambda text: text)
    assert checked.format == SAMPLES[name][0]
    assert checked.alerts == len(SAMPLES[name][1])


def test_routes_and_the_gateway_know_the_tools() -> None:
    """A route may match each tool's source, and the generic path accepts each tool's format."""
    sources = {one(sample(trigger)).source for trigger, _, _ in PAIRS}
    assert sources <= set(KNOWN_SOURCES)
    assert {fmt for fmt, _ in SAMPLES.values()} <= ACCEPTED_FORMATS["generic"]


#: Formats that reach the queue from AWS itself (SNS, EventBridge), never by a webhook.
AWS_DELIVERED = {"sns-confirmation", "sns-text", "cloudwatch-alarm", "cloudwatch-eventbridge"}
AWS_DELIVERED |= {"eventbridge", "lambda-destination", "lambda-async-failure"}
AWS_DELIVERED |= {"pipes-dead-letter", "eventbridge-subscriber-dead-letter"}


def test_every_format_but_aws_deliveries_has_a_gateway_path() -> None:
    """Each format triage reads, but those only AWS delivers, is accepted by some webhook path:
    a new source left out of ACCEPTED_FORMATS would be refused as `wrong_source`."""
    accepted = set().union(*ACCEPTED_FORMATS.values())
    assert {f.name for f in FORMATS} - AWS_DELIVERED <= accepted


@pytest.mark.parametrize(("trigger", "recovery", "source"), PAIRS)
async def test_trigger_then_recovery_open_and_close_one_ticket(
    trigger: str, recovery: str, source: str
) -> None:
    """Through the pipeline (in-memory store and sink), a tool's trigger, a repeat of it and
    its recovery are one ticket, opened and then closed."""
    actions, effects = await trigger_repeat_recovery(TOOLS / trigger, TOOLS / recovery)
    assert actions == [Action.OPEN, Action.COUNT, Action.CLOSE]
    assert effects == [EffectKind.OPEN, EffectKind.CLOSE]


def _reopened(name: str) -> str:
    """`name`'s webhook as the tool sends it when a person reopens the resolved incident."""
    body = sample(name)
    if name.startswith("rollbar"):
        body["event_name"] = "reopened_item"
    elif name.startswith("honeybadger"):
        body.update(event="unresolved", message="[My Project/development] RuntimeError reopened")
    elif name.startswith("bugsnag"):
        body["trigger"] = {
            "type": "errorStateManualChange",
            "message": "m",
            "stateChange": "reopened",
        }
    else:
        body["event"] = {"type": "unresolve", "time": "2023-04-19T22:10:00+00:00"}
        body["alert_group"]["state"] = "firing"
    return json.dumps(body)


@pytest.mark.parametrize(
    "recovery",
    ["rollbar-resolved-item.json", "honeybadger-resolved.json", "bugsnag-fixed.json",
     "grafana-oncall-resolve.json"],
)  # fmt: skip
async def test_a_person_reopening_a_resolved_incident_reopens_its_ticket(recovery: str) -> None:
    """A reopen a person sends after the resolve (it carries the error's last occurrence, older
    than the resolve) reopens the ticket; dated by that occurrence it was ignored as stale."""
    trigger = next(t for t, r, _ in PAIRS if r == recovery)
    pipeline = pipeline_into(Sink())
    bodies = [(TOOLS / n).read_text(encoding="utf-8") for n in (trigger, recovery)]
    actions = []
    for minute, body in enumerate([*bodies, _reopened(recovery)]):
        at = T0 + timedelta(minutes=minute)
        outcomes = await pipeline.process(Message(f"m-{minute}", body, f"r-{minute}", 1, at,
                                                  received_at=at))  # fmt: skip
        actions += [o.action for o in outcomes]
    assert actions == [Action.OPEN, Action.CLOSE, Action.REOPEN]


@pytest.mark.parametrize(
    "extra",
    [
        {"event": "deploy", "message": "rolled out", "deploy": {"env": "prod"}},
        {"event": "down", "message": "m", "site": {"id": "s"}},
        {"event_name": "new_item", "data": {"item": {"id": 1}}},
        {"check_id": 7, "check_name": "web", "previous_state": "UP", "current_state": "DOWN"},
        {"account": {}, "project": {}, "trigger": {"type": "exception"}},
        {"PID": "1", "State": "OPEN", "ProblemTitle": "p"},
        {"name": "n", "status": "TRIGGERED", "result_groups_triggered": []},
        {"event": {"type": "resolve"}, "alert_group": {"id": "G1"}},
    ],
)
def test_a_scripts_generic_alert_with_a_tools_keys_stays_generic(extra: dict[str, Any]) -> None:
    """A script's alert (its `title`) that happens to carry one of these tools' keys is still
    the generic alert it was, keyed as before; none of these tools sends a `title`."""
    plain = {"title": "Disk full on db-1", "source": "cron", "dedup_key": "disk-db-1"}
    recognised = recognise_body(json.dumps({**plain, **extra}))
    assert recognised.format == "generic"
    [alert] = recognised.normalized.alerts
    assert alert.fingerprint == one(plain).fingerprint


def test_the_gateway_refuses_them_on_other_paths() -> None:
    """A Rollbar webhook on `/v1/alerts/grafana` is refused, pointing at the generic path."""
    with pytest.raises(Invalid, match="post it to /v1/alerts/generic"):
        check("grafana", (TOOLS / "rollbar-occurrence.json").read_bytes(), None, str)
