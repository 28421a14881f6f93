"""More tools' webhooks on the generic path: StatusCake (an HTML form the gateway queues as JSON),
Better Stack incidents, UptimeRobot, Checkly, Raygun and Honeybadger's certificate notices. Each
is keyed by the tool's own check, incident or error id, so a trigger and its recovery are one
incident; acknowledgements and non-alert webhooks change no ticket; a generic script alert that
happens to carry one of their keys stays generic; odd values are a clear InvalidAlertError."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import httpx2
import pytest

from daemon_harness import Queues
from factories import view
from ingest_harness import bearer, ingest_settings, loopback_client, running
from recording_pipeline import trigger_repeat_recovery
from source_samples import one, run
from triage.errors import InvalidAlertError
from triage.incidents import Action
from triage.ingest.validate import ACCEPTED_FORMATS, FORM_FIELDS_MAX, Invalid, check, form_json
from triage.models import EffectKind, Status
from triage.normalize import normalize_body, recognise_body
from triage.routes import KNOWN_SOURCES
from triage.summarise.deterministic import DeterministicSummariser

PAYLOADS = Path(__file__).parent / "payloads"

#: Each sample's format and fingerprints (pinned: a change re-keys that tool's incidents in
#: production); () when it is skipped.
SAMPLES: dict[str, tuple[str, tuple[str, ...]]] = {
    "betterstack/incident-no-event-started.json": (
        "betterstack",
        ("c85b0e72e60b1a30dc3562f779a83edc",),
    ),
    "uptimerobot/snake-down.json": ("uptimerobot", ("ea2c789af5e6caafe95645d31bea5d03",)),
    "uptimerobot/snake-up.json": ("uptimerobot", ("ea2c789af5e6caafe95645d31bea5d03",)),
    "statuscake/down.json": ("statuscake", ("708cc5c28d9b4753fc323efcb4536a8b",)),
    "statuscake/up.json": ("statuscake", ("708cc5c28d9b4753fc323efcb4536a8b",)),
    "betterstack/incident-started.json": ("betterstack", ("c85b0e72e60b1a30dc3562f779a83edc",)),
    "betterstack/incident-acknowledged.json": ("betterstack", ()),
    "betterstack/incident-resolved.json": ("betterstack", ("c85b0e72e60b1a30dc3562f779a83edc",)),
    "betterstack/monitor-paused.json": ("betterstack", ()),
    "betterstack/on-call-change.json": ("betterstack", ()),
    "betterstack/error-new.json": ("betterstack", ("bef94297105489eafcc3c32bf2223d06",)),
    "betterstack/error-resolved.json": ("betterstack", ("bef94297105489eafcc3c32bf2223d06",)),
    "uptimerobot/down.json": ("uptimerobot", ("c034e0faa5db2325b9fe503912cb8609",)),
    "uptimerobot/up.json": ("uptimerobot", ("c034e0faa5db2325b9fe503912cb8609",)),
    "uptimerobot/ssl-expiry.json": ("uptimerobot", ("1683c19180871355e4e180794a20b13f",)),
    "uptimerobot/test-notification.json": ("uptimerobot", ()),
    "checkly/failure.json": ("checkly", ("4b472d014de24fb0567e93bbbc935f0c",)),
    "checkly/recovery.json": ("checkly", ("4b472d014de24fb0567e93bbbc935f0c",)),
    "checkly/test-message.json": ("checkly", ()),
    "raygun/new-error.json": ("raygun", ("9ee0ddf4814e858a240341a1ba14f731",)),
    "raygun/follow-up.json": ("raygun", ("9ee0ddf4814e858a240341a1ba14f731",)),
    "raygun/status-changed.json": ("raygun", ("9ee0ddf4814e858a240341a1ba14f731",)),
    "raygun/status-active.json": ("raygun", ("9ee0ddf4814e858a240341a1ba14f731",)),
    "raygun/assigned.json": ("raygun", ()),
    "honeybadger/cert-will-expire.json": ("honeybadger", ("c759e5dfaed88568f016efb7ddace4d8",)),
}
#: (trigger, recovery) sample pairs and the source their alerts carry.
PAIRS = [
    ("statuscake/down.json", "statuscake/up.json", "statuscake"),
    ("betterstack/incident-started.json", "betterstack/incident-resolved.json", "betterstack"),
    ("uptimerobot/down.json", "uptimerobot/up.json", "uptimerobot"),
    ("checkly/failure.json", "checkly/recovery.json", "checkly"),
    ("raygun/new-error.json", "raygun/status-changed.json", "raygun"),
    ("betterstack/error-new.json", "betterstack/error-resolved.json", "betterstack-errors"),
]
#: The directories these samples live in (each holds only this file's samples).
DIRS = ("statuscake", "betterstack", "uptimerobot", "checkly", "raygun", "honeybadger")


def sample(name: str) -> dict[str, Any]:
    value: dict[str, Any] = json.loads((PAYLOADS / name).read_text(encoding="utf-8"))
    return value


# --- each tool's samples ----------------------------------------------------------------------


@pytest.mark.parametrize(("name", "expected"), sorted(SAMPLES.items()))
def test_samples_are_read_as_their_tool_with_pinned_fingerprints(
    name: str, expected: tuple[str, tuple[str, ...]]
) -> None:
    """Each sample is recognised as its tool's format and yields exactly its pinned
    fingerprints."""
    recognised = recognise_body((PAYLOADS / name).read_bytes())
    fingerprints = tuple(a.fingerprint for a in recognised.normalized.alerts)
    assert (recognised.format, fingerprints) == expected


def test_every_sample_is_listed() -> None:
    """A new sample in these tools' directories must be listed (and pinned) here too."""
    found = {str(p.relative_to(PAYLOADS)) for d in DIRS for p in (PAYLOADS / d).glob("*.json")}
    assert found == set(SAMPLES)


@pytest.mark.parametrize(("trigger", "recovery", "source"), PAIRS)
def test_trigger_and_recovery_are_one_incident(trigger: str, recovery: str, source: str) -> None:
    """A tool's trigger fires and its recovery resolves one fingerprint, with the tool's name
    as source and the same title."""
    fired, resolved = one(sample(trigger)), one(sample(recovery))
    assert (fired.source, resolved.source) == (source, source)
    assert (fired.status, resolved.status) == (Status.FIRING, Status.RESOLVED)
    assert fired.fingerprint == resolved.fingerprint
    assert fired.title == resolved.title


@pytest.mark.parametrize(
    ("name", "reason"),
    [
        ("betterstack/incident-acknowledged.json", "no_state_change"),
        ("betterstack/monitor-paused.json", "unsupported_resource"),
        ("betterstack/on-call-change.json", "unsupported_resource"),
        ("raygun/assigned.json", "no_state_change"),
    ],
)
def test_acknowledgements_and_other_webhooks_change_no_ticket(name: str, reason: str) -> None:
    """An acknowledgement, a monitor's own webhook and an error group's activity are Skipped
    with a reason, never an alert and never a dead letter."""
    result = run(sample(name))
    assert result.alerts == ()
    assert [s.reason for s in result.skipped] == [reason]


def test_titles_links_and_labels() -> None:
    """Each tool's alert is titled by its check, incident or error, links to it, and labels
    what a route or a reader needs; StatusCake's Token (a hash of the account's API key) is
    shown nowhere."""
    cake = one(sample("statuscake/down.json"))
    assert (cake.title, cake.links) == ("Shop health", {"check": "https://shop.example.com/health"})
    assert cake.description == "StatusCake reports the test down: status code 503."
    assert "0b1e5d6e" not in json.dumps([cake.labels, cake.description, cake.title])
    stack = one(sample("betterstack/incident-started.json"))
    assert (stack.title, stack.description) == ("Checkout API", "Status 502")
    assert stack.labels["monitor_id"] == "1123"
    robot = one(sample("uptimerobot/up.json"))
    assert robot.description == "HTTP 200 - OK\n\nDown for 540 s."
    assert robot.occurred_at.timestamp() == 1795424940
    checkly = one(sample("checkly/failure.json"))
    assert (checkly.title, checkly.labels["check_type"]) == ("Login flow", "BROWSER")
    raygun = one(sample("raygun/follow-up.json"))
    assert raygun.title.startswith("NullReferenceException: Object reference")
    assert "Occurrences: 37; users affected: 14." in raygun.description
    cert = one(sample("honeybadger/cert-will-expire.json"))
    assert cert.title == "TLS certificate of Resume Builder expires"
    assert "Expires at 2026-12-02 11:22:41 UTC." in cert.description


@pytest.mark.parametrize(
    ("name", "secret"),
    [("statuscake/down.json", "0b1e5d6e1e0c4c2b9d5f3a7e8c9d0f12"),
     ("uptimerobot/down.json", "ops@example.com")],
)  # fmt: skip
def test_a_tools_own_credentials_never_reach_the_redacted_view(name: str, secret: str) -> None:
    """StatusCake's Token (a hash of the account's API key) and the e-mail addresses of
    UptimeRobot's alert contacts are gone from the view the sinks and the prompt render from,
    the raw payload's excerpt included."""
    assert secret not in view(one(sample(name))).text


@pytest.mark.parametrize("name", [trigger for trigger, _, _ in PAIRS] + ["raygun/new-error.json"])
def test_the_deterministic_ticket_steps_open_the_tools_page(name: str) -> None:
    """The ticket written without the LLM has a step that opens the check, incident or error
    in the tool itself."""
    alert = one(sample(name))
    steps = DeterministicSummariser().write(view(alert)).steps
    link = next(iter(alert.links.values()))
    assert any(link in step for step in steps), steps


# --- StatusCake -------------------------------------------------------------------------------


def test_statuscake_tests_are_keyed_by_name_and_url() -> None:
    """Two tests of one name on different URLs are two incidents; the status code and check
    rate never key one; Status is read in any case ("UP", as some accounts send it)."""
    down = one(sample("statuscake/down.json"))
    other = one(dict(sample("statuscake/down.json"), URL="https://shop.example.com/other"))
    again = one(dict(sample("statuscake/down.json"), StatusCode="0", CheckRate="60"))
    assert down.fingerprint != other.fingerprint
    assert down.fingerprint == again.fingerprint
    assert again.description == "StatusCake reports the test down: no answer within its timeout."
    assert one(dict(sample("statuscake/up.json"), Status="UP")).status is Status.RESOLVED
    with pytest.raises(InvalidAlertError, match="statuscake Status 'Paused' is not Up or Down"):
        run(dict(sample("statuscake/up.json"), Status="Paused"))


def test_a_form_body_becomes_the_json_of_its_fields() -> None:
    """A form's fields are queued as one JSON object of text, escapes and "+" decoded; a name
    sent twice keeps both values."""
    text = "Name=Shop+health&URL=https%3A%2F%2Fshop.example.com%2F&Tags=a&Tags=b&Empty="
    assert json.loads(form_json(text)) == {
        "Name": "Shop health",
        "URL": "https://shop.example.com/",
        "Tags": ["a", "b"],
        "Empty": "",
    }


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("Name=%FF%FE", "percent-escapes are not UTF-8"),
        ("Name=%ED%A0%80", "percent-escapes are not UTF-8"),  # a lone surrogate
        ("&".join(f"f{i}=1" for i in range(FORM_FIELDS_MAX + 1)), "more than 1,000 fields"),
    ],
)
def test_a_malformed_form_is_refused_naming_why(text: str, reason: str) -> None:
    """A form whose escapes are no UTF-8, or with more fields than any webhook sends, is
    refused (422) with the reason, never queued half-read."""
    with pytest.raises(Invalid, match=reason):
        form_json(text)


def test_a_forms_escapes_are_read_in_its_declared_charset() -> None:
    """A form that declares ISO-8859-1 (or Windows-1252) has its escapes read in it, as its
    plain text is: "Caf%E9" is "Café", not a 422 for escapes that are no UTF-8."""
    form = urlencode(dict(sample("statuscake/down.json"), Name="Caf\u00e9"), encoding="latin-1")
    checked = check("generic", form.encode("ascii"), None, str, codec="latin-1", form=True)
    assert normalize_body(checked.text).alerts[0].title == "Caf\u00e9"
    utf8 = urlencode(dict(sample("statuscake/down.json"), Name="Caf\u00e9"))
    assert json.loads(check("generic", utf8.encode(), None, str, form=True).text)["Name"] == (
        "Caf\u00e9"
    )


def test_uptimerobots_default_form_post_is_read_through_the_gateway_check() -> None:
    """UptimeRobot posts its webhook as a form unless "Send as JSON" is ticked: that form,
    through the gateway's check, is read as UptimeRobot's alert with the JSON body's key."""
    form = urlencode(sample("uptimerobot/down.json")).encode()
    checked = check("generic", form, None, str, form=True)
    assert checked.format == "uptimerobot"
    [alert] = normalize_body(checked.text).alerts
    assert alert.fingerprint == one(sample("uptimerobot/down.json")).fingerprint


@pytest.mark.parametrize("body", [b"Name=Shop&Status=Down&URL=x&StatusCode=0", b"disk full"])
def test_a_text_body_at_the_gateway_is_told_what_the_gateway_takes(body: bytes) -> None:
    """A body that is no JSON (a form sent without its Content-Type, a line of text) is
    refused with what the gateway takes (JSON, or a form labelled as one), not with the
    daemon's advice about SNS raw delivery, which no webhook sender can act on."""
    with pytest.raises(Invalid) as refused:
        check("generic", body, None, str)
    assert "application/x-www-form-urlencoded" in str(refused.value)
    assert "SNS" not in str(refused.value)


@pytest.fixture
async def client(queues: Queues) -> AsyncIterator[httpx2.AsyncClient]:
    """A client of the gateway on a free loopback port, in front of moto's queue."""
    async with (
        running(ingest_settings(queues.url, queues.endpoint)) as service,
        loopback_client(service.port) as c,
    ):
        yield c


def queued(queues: Queues) -> list[str]:
    """The bodies now on the queue (left in place)."""
    response = queues.client().receive_message(
        QueueUrl=queues.url, MaxNumberOfMessages=10, VisibilityTimeout=0
    )
    return [m["Body"] for m in response.get("Messages", [])]


FORM = {"Content-Type": "application/x-www-form-urlencoded"}


async def test_statuscakes_form_through_the_gateway_opens_its_incident(
    client: httpx2.AsyncClient, queues: Queues
) -> None:
    """StatusCake's webhook, posted as a form to /v1/alerts/generic, is 202 and queued as the
    JSON the daemon reads as StatusCake's alert; it was refused as a body that is not JSON."""
    form = urlencode(sample("statuscake/down.json"))
    answer = await client.post(
        "/v1/alerts/generic", content=form, headers={**bearer("generic"), **FORM}
    )
    assert answer.status_code == 202, answer.text
    [body] = queued(queues)
    [alert] = normalize_body(body).alerts
    assert alert.fingerprint == one(sample("statuscake/down.json")).fingerprint


async def test_json_labelled_a_form_and_a_broken_form_at_the_gateway(
    client: httpx2.AsyncClient, queues: Queues
) -> None:
    """JSON sent with a form's Content-Type (what `curl -d` does) is still read as JSON and
    queued as sent; a form whose escapes are no UTF-8 is 422 with the reason, nothing queued."""
    script = json.dumps({"title": "disk full", "dedup_key": "disk-1"})
    headers = {**bearer("generic"), "Content-Type": "Application/X-WWW-Form-Urlencoded; q=1"}
    ok = await client.post("/v1/alerts/generic", content=script, headers=headers)
    assert ok.status_code == 202, ok.text
    assert queued(queues) == [script]
    broken = await client.post(
        "/v1/alerts/generic", content="Name=%FF&Status=Down", headers={**bearer("generic"), **FORM}
    )
    assert broken.status_code == 422
    assert "percent-escapes are not UTF-8" in broken.json()["error"]
    assert queued(queues) == [script]


# --- UptimeRobot and Checkly: bodies their users template ---------------------------------------


def test_uptimerobot_reads_its_variables_however_the_template_sends_them() -> None:
    """alertType as a number or text, or only alertTypeFriendlyName, gives the same state and
    fingerprint; a variable left unfilled ("*monitorID*") counts as absent, and a template
    without the monitor's id is keyed by its name and URL."""
    down = one(sample("uptimerobot/down.json"))
    numeric = one(dict(sample("uptimerobot/down.json"), alertType=1))
    friendly = sample("uptimerobot/down.json")
    del friendly["alertType"]
    assert {numeric.fingerprint, one(friendly).fingerprint} == {down.fingerprint}
    unnamed = dict(sample("uptimerobot/down.json"), monitorID="*monitorID*")
    recovered = dict(sample("uptimerobot/up.json"), monitorID="*monitorID*")
    assert one(unnamed).fingerprint == one(recovered).fingerprint != down.fingerprint
    assert "monitor_id" not in one(unnamed).labels


def test_an_expiry_notice_is_its_own_incident_the_monitors_up_leaves_open() -> None:
    """UptimeRobot's SSL or domain expiry (alertType 3) and Checkly's ALERT_SSL fire an incident
    of their own: the monitor's outage and its recovery never open or close it."""
    expiry = one(sample("uptimerobot/ssl-expiry.json"))
    assert expiry.status is Status.FIRING
    assert expiry.fingerprint != one(sample("uptimerobot/up.json")).fingerprint
    assert "Expires 2026-12-01 (7 days left)." in expiry.description
    ssl = one(dict(sample("checkly/failure.json"), alert_type="ALERT_SSL"))
    assert ssl.status is Status.FIRING
    assert ssl.fingerprint != one(sample("checkly/recovery.json")).fingerprint
    assert ssl.title == "Certificate of Login flow expires soon"


@pytest.mark.parametrize(
    ("alert_type", "status"),
    [("ALERT_FAILURE_REMAIN", Status.FIRING), ("ALERT_DEGRADED", Status.FIRING),
     ("ALERT_DEGRADED_FAILURE", Status.FIRING), ("alert_degraded_recovery", Status.RESOLVED)],
)  # fmt: skip
def test_checkly_alert_types_of_one_check_are_one_incident(alert_type: str, status: Status) -> None:
    """Every Checkly alert type of a check keeps its fingerprint: a degraded or repeated
    failure fires it, a degraded check's recovery resolves it."""
    alert = one(dict(sample("checkly/failure.json"), alert_type=alert_type))
    assert (alert.status, alert.fingerprint) == (
        status,
        one(sample("checkly/failure.json")).fingerprint,
    )


def test_checkly_names_the_check_from_its_own_title_in_any_quotes() -> None:
    """A check's name is its `check_name`, else the one Checkly's alert title quotes (straight
    or curly quotes); a title of the user's own is shown as it is."""
    curly = one(
        dict(sample("checkly/failure.json"), event="Check \u201cPayment API\u201d has failed")
    )
    named = one(dict(sample("checkly/failure.json"), check_name="Payments"))
    own = one(dict(sample("checkly/failure.json"), event="Payments are down"))
    assert (curly.title, named.title, own.title) == ("Payment API", "Payments", "Payments are down")
    assert run(dict(sample("checkly/failure.json"), alert_type="NO_ALERT")).skipped


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (dict(sample("uptimerobot/down.json"), alertType="9", alertTypeFriendlyName="Paused"),
         "uptimerobot alertType '9' and alertTypeFriendlyName 'Paused' name no state"),
        (dict(sample("uptimerobot/down.json"), monitorID="", monitorFriendlyName="*monitorFriendlyName*"),
         "uptimerobot monitorID and monitorFriendlyName are missing"),
        (dict(sample("checkly/failure.json"), alert_type="ALERT_MAYBE"),
         "checkly alert_type 'ALERT_MAYBE' is not one of Checkly's"),
        (dict(sample("checkly/failure.json"), check_id="{{CHECK_ID}}"),
         "check_id is missing or empty"),
        (dict(sample("betterstack/incident-started.json"), event="escalated"),
         "betterstack event 'escalated' is not started, acknowledged or resolved"),
        (dict(sample("raygun/new-error.json"), error={"url": "not a link", "message": "m"}),
         "raygun error.url 'not a link' is no link to an error group"),
    ],
)  # fmt: skip
def test_odd_states_and_missing_ids_are_refused_naming_the_field(
    body: dict[str, Any], message: str
) -> None:
    """A state the tool never sends, or a check without its id, is an InvalidAlertError that
    names the field and value (the message goes to the DLQ), never a guess."""
    with pytest.raises(InvalidAlertError, match=message):
        run(body)


@pytest.mark.parametrize(
    "body",
    [
        {"title": "Checkout is slow", "check_id": "c1", "alert_type": "latency"},
        {"title": "Backup late", "monitorID": "1", "alertType": "1", "status": "firing"},
        {"title": "Shop down", "Name": "n", "URL": "u", "Status": "Down", "StatusCode": "0"},
        {"title": "Crash", "event": "error_notification", "error": {}, "application": {}},
        {"title": "Deploy", "event": "started", "data": {"id": "1", "type": "incident",
                                                          "attributes": {}}},
    ],
)  # fmt: skip
def test_a_script_alert_with_a_title_stays_generic(body: dict[str, Any]) -> None:
    """A script's generic alert (it has a `title`) that happens to carry one of these tools'
    keys stays generic, keyed as it always was."""
    alert = one(body)
    assert alert.source == "generic"
    assert alert.identity == {"source": "generic", "title": body["title"]}


@pytest.mark.parametrize(
    "template",
    [
        # Healthchecks.io's webhook, its body templated with $NAME, $STATUS and $SLUG (never
        # $CODE: the check's UUID is its ping URL's secret, and a dedup_key is shown).
        {"title": "Nightly backup", "status": "{status}", "dedup_key": "hc-nightly-backup"},
        # UptimeRobot's, templated as a script's generic alert.
        {"title": "Example homepage", "status": "{status}", "dedup_key": "797745302"},
    ],
)
def test_a_user_templated_body_with_a_title_lands_on_the_generic_path(
    template: dict[str, Any],
) -> None:
    """A checker's body its user templated as a generic alert, with the tool's down and up
    words as status, opens and resolves one generic incident."""
    down = one({**template, "status": "down"})
    up = one({**template, "status": "up"})
    assert (down.source, down.status, up.status) == ("generic", Status.FIRING, Status.RESOLVED)
    assert down.fingerprint == up.fingerprint


# --- Raygun and Honeybadger ------------------------------------------------------------------


def test_raygun_keys_an_error_group_by_its_link_alone() -> None:
    """Every notification of one error group (its link with any query, fragment or host case)
    is one incident; another group of the application is another."""
    first = one(sample("raygun/new-error.json"))
    body = sample("raygun/follow-up.json")
    body["error"]["url"] = "https://APP.raygun.com/crashreporting/5pz3ab/errors/192837465/?x=1#t"
    assert one(body).fingerprint == first.fingerprint
    body["error"]["url"] = "https://app.raygun.com/crashreporting/5pz3ab/errors/55"
    assert one(body).fingerprint != first.fingerprint


@pytest.mark.parametrize(
    "link",
    [
        "https://ops:hunter2@app.raygun.com/crashreporting/5pz3ab/errors/192837465",
        "http://app.raygun.com:443/crashreporting/5pz3ab/errors/192837465",
    ],
)
def test_raygun_group_key_ignores_credentials_and_port_in_its_link(link: str) -> None:
    """The same error group's link with a user and password or a port in it is the same
    incident: only the host and path key it."""
    body = sample("raygun/new-error.json")
    body["error"]["url"] = link
    assert one(body).fingerprint == one(sample("raygun/new-error.json")).fingerprint


@pytest.mark.parametrize("link", ["http://[::1/errors/1", "https://app.raygun.com:99999/e/1"])
def test_a_raygun_link_that_does_not_parse_is_refused_naming_it(link: str) -> None:
    """A link Python cannot split (a broken IPv6 host, a port out of range) is refused as no
    link to an error group, like any other that is none."""
    body = sample("raygun/new-error.json")
    body["error"]["url"] = link
    with pytest.raises(InvalidAlertError, match="is no link to an error group"):
        run(body)


def test_honeybadger_certificate_notice_is_the_sites_certificate_incident() -> None:
    """A site's certificate notice is an incident apart from the site's outages (its up does
    not close it); it used to go to the DLQ as an event no reader knew."""
    cert = one(sample("honeybadger/cert-will-expire.json"))
    down = normalize_body((PAYLOADS / "tools/honeybadger-down.json").read_bytes()).alerts[0]
    assert (cert.source, cert.status) == ("honeybadger", Status.FIRING)
    assert cert.fingerprint != down.fingerprint


# --- routes, the gateway's table and the pipeline ---------------------------------------------


@pytest.mark.parametrize("name", sorted(SAMPLES))
def test_the_gateway_generic_path_takes_them(name: str) -> None:
    """`/v1/alerts/generic` accepts each tool's webhook and names its format."""
    checked = check("generic", (PAYLOADS / name).read_bytes(), None, lambda text: text)
    assert checked.format == SAMPLES[name][0]
    assert checked.alerts == len(SAMPLES[name][1])


def test_routes_and_the_gateway_know_the_tools() -> None:
    """A route may match each tool's source, and the generic path accepts each format."""
    sources = {
        a.source for name in SAMPLES for a in normalize_body((PAYLOADS / name).read_bytes()).alerts
    }
    assert sources <= set(KNOWN_SOURCES)
    assert {fmt for fmt, _ in SAMPLES.values()} <= ACCEPTED_FORMATS["generic"]


@pytest.mark.parametrize(("trigger", "recovery", "source"), PAIRS)
async def test_trigger_then_recovery_open_and_close_one_ticket(
    trigger: str, recovery: str, source: str
) -> None:
    """Through the pipeline (in-memory store and sink), a tool's trigger, a repeat of it and
    its recovery are one ticket, opened and then closed."""
    actions, effects = await trigger_repeat_recovery(PAYLOADS / trigger, PAYLOADS / recovery)
    assert actions == [Action.OPEN, Action.COUNT, Action.CLOSE]
    assert effects == [EffectKind.OPEN, EffectKind.CLOSE]
