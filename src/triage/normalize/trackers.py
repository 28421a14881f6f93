"""Error trackers' webhooks pointed at the gateway's generic path: Rollbar's, Honeybadger's and
Bugsnag's. Each is known by the keys only that tool sends, and its alert is keyed by the tool's
own id of the error (or check), never by its message, counts or times.

Identity, rollbar: the item's id (Rollbar's system-wide id of one grouped error).
Identity, honeybadger: the fault's id; an uptime site's id; a check-in's id; an Insights
alarm's id (its name when Honeybadger sends no id).
Identity, bugsnag: the error's `errorId` (never the event's `id`, new on each occurrence); a
project's error spike, which has no error, its project's id.
States, rollbar (`event_name`): new_item, occurrence, exp_repeat_item, item_velocity,
reactivated_item and reopened_item fire, resolved_item resolves; deploy and any other event
changes no ticket (Skipped), nor does the webhook settings' test notification (event `test`, a
message and no item: Skipped as `test_notification`).
States, honeybadger (`event`): occurred, rate_exceeded, volume_spike and unresolved fire and
resolved resolves a fault; down and up fire and resolve a site; check_in_missing and
check_in_reporting a check-in; alarm_alert and alarm_ok an Insights alarm; cert_will_expire fires
its site's certificate incident (keyed apart from the site's outages; Honeybadger sends no
event when the certificate is renewed, so an operator closes it); assigned, commented and
deployed change no ticket (a v3 bulk action's too, made on several faults at once and naming
them by `fault_ids`), nor does the integration's Test button (its "TestingException").
An event whose shape is not read here is refused naming it, so it reaches the DLQ rather than
being dropped.
States, bugsnag (`trigger.type`): firstException, exception, powerTen, errorEventFrequency and
reopened fire; a person's errorStateManualChange to fixed, ignored or snoozed resolves (as a
resolved or archived Sentry issue does) and to reopened fires; projectSpiking fires its
project's incident (Bugsnag sends no recovery); comments, releases, rate-limit notices and other
state changes change no ticket, nor does the integration's test event (the plugins' example
error of project Example.com, "/errors/example/events/example", no account and no `errorId`:
Skipped as `test_notification`).
"""

from __future__ import annotations

from typing import Any

from triage.errors import InvalidAlertError
from triage.models import Alert, Status
from triage.normalize import airbrake, common
from triage.normalize.common import Normalized, Skipped
from triage.normalize.generic import dated
from triage.normalize.vendors import first_given, labelled, paragraphs, quiet, untitled

ROLLBAR = "rollbar"
HONEYBADGER = "honeybadger"
BUGSNAG = "bugsnag"
#: With Airbrake's, read by a module of its own (`airbrake`).
SOURCES = (ROLLBAR, HONEYBADGER, BUGSNAG, airbrake.SOURCE)


# --- Rollbar -----------------------------------------------------------------------------------

_RB_FIRING = frozenset(
    {
        "new_item",
        "occurrence",
        "exp_repeat_item",
        "item_velocity",
        "reactivated_item",
        "reopened_item",
    }
)
_RB_RESOLVED = frozenset({"resolved_item"})
#: An item's numeric `level`, as Rollbar stores it (its occurrences say the word).
_RB_LEVELS = {10: "debug", 20: "info", 30: "warning", 40: "error", 50: "critical"}


#: The event name of the body the webhook settings' "Send Test Notification" posts: its `data`
#: holds only a `message` ("This is a test payload from Rollbar. If you got this, it works!").
_RB_TEST = "test"


def matches_rollbar(payload: dict[str, Any]) -> bool:
    """A webhook: an `event_name` and the `data` holding its `item` (or `deploy`), or the
    test notification's `message`."""
    data = payload.get("data")
    return (
        untitled(payload)
        and "event_name" in payload  # of any type: a wrong one is refused naming it
        and isinstance(data, dict)
        and ("item" in data or "deploy" in data or _rb_test(payload))
    )


def _rb_test(payload: dict[str, Any]) -> bool:
    """Whether `payload` is Rollbar's test notification: event `test`, a `message` and no item
    or deploy (an event named so that carries an item is no test)."""
    data = common.obj_or_empty(payload.get("data"))
    named = payload.get("event_name")
    return (
        isinstance(named, str)
        and named.strip().lower() == _RB_TEST
        and "message" in data
        and "item" not in data
        and "deploy" not in data
    )


def normalize_rollbar(payload: dict[str, Any]) -> Normalized:
    if _rb_test(payload):
        said = common.obj_or_empty(payload.get("data")).get("message")
        detail = f"rollbar test notification {common.short(said)}: no ticket change"
        return Normalized((), (Skipped(ROLLBAR, "test_notification", detail),))
    kind = (common.line(payload.get("event_name"), "event_name", 64) or "").lower()
    if kind not in _RB_FIRING | _RB_RESOLVED:
        return quiet(ROLLBAR, "event", payload.get("event_name"))
    data = common.obj(payload.get("data"), "data", required=True)
    item = common.obj(data.get("item"), "data.item", required=True)
    item_id = common.ident(item.get("id"), "data.item.id")
    occurrence_at, occurrence = first_given(
        ("data.occurrence", common.obj_or_empty(data.get("occurrence"))),
        ("data.item.last_occurrence", common.obj_or_empty(item.get("last_occurrence"))),
    )
    status = Status.RESOLVED if kind in _RB_RESOLVED else Status.FIRING
    when_at, when = _rb_when(kind, item, (occurrence_at, occurrence))
    occurred, notes = dated(when, f"rollbar {when_at}")
    server = common.obj_or_empty(occurrence.get("server"))
    alert = Alert(
        source=ROLLBAR,
        status=status,
        title=common.first_title(item.get("title"), f"Rollbar item {item_id}"),
        severity=common.word(occurrence.get("level") or _rb_level(item.get("level")), "level"),
        description=_rb_body(occurrence),
        labels=labelled(
            ("item_id", item_id),
            ("counter", item.get("counter")),
            ("project_id", item.get("project_id")),
            ("environment", item.get("environment")),
            ("language", occurrence.get("language")),
            ("host", server.get("host")),
            ("occurrences", item.get("total_occurrences")),
            ("event", kind),
        ),
        occurred_at=occurred,
        identity={"item": item_id},
        raw=payload,
    )
    return Normalized((alert,), (), notes)


def _rb_when(
    kind: str, item: dict[str, Any], occurrence: tuple[str, dict[str, Any]]
) -> tuple[str, Any]:
    """The time an event is dated by, and the field it is read from (`occurrence`: the path of
    the occurrence read and its value). An occurrence's event is dated by the occurrence; a
    resolve by its own time when the item has one; a person's reopen (none of its own) when
    queued. Either of those dated by the item's last occurrence, older than the resolve, would
    be ignored as stale."""
    if kind in _RB_RESOLVED:
        return "data.item.last_resolved_timestamp", item.get("last_resolved_timestamp")
    if kind == "reopened_item":
        return "timestamp", None
    occurrence_at, fields = occurrence
    return first_given(
        (f"{occurrence_at}.timestamp", fields.get("timestamp")),
        ("data.item.last_occurrence_timestamp", item.get("last_occurrence_timestamp")),
    )


def _rb_level(level: Any) -> str | None:
    """An item's numeric level as its word (40: error); anything else is no level."""
    level = common.whole(level)
    return _RB_LEVELS.get(level) if isinstance(level, int) else None


def _rb_body(occurrence: dict[str, Any]) -> str:
    """The occurrence's exception ("class: message") or message body."""
    body = common.obj_or_empty(occurrence.get("body"))
    chain = common.items_or_empty(body.get("trace_chain"))
    trace = common.obj_or_empty(body.get("trace")) or common.obj_or_empty(
        chain[0] if chain else None
    )
    exception = common.obj_or_empty(trace.get("exception"))
    klass = common.line(common.unnested(exception.get("class")), "exception.class", shown=True)
    said = common.text(exception.get("message"), "exception.message")
    shown = f"{klass}: {said}" if klass and said else klass or said
    message = common.obj_or_empty(body.get("message")).get("body")
    return paragraphs(shown, message)


# --- Honeybadger -------------------------------------------------------------------------------

#: Per record an event is about: the events that fire and resolve it.
_HB_FAULT = ({"occurred", "rate_exceeded", "volume_spike", "unresolved"}, {"resolved"})
_HB_SITE = ({"down"}, {"up"})
_HB_CHECK_IN = ({"check_in_missing"}, {"check_in_reporting"})
_HB_ALARM = ({"alarm_alert"}, {"alarm_ok"})
_HB_CERT = ({"cert_will_expire"}, set[str]())
_HB_QUIET = frozenset({"assigned", "commented", "deployed"})
#: What the integration's Test button sends as its fault (an app's own TestingException with
#: another message is a real error).
_HB_TEST_CLASS = "TestingException"
_HB_TEST_MESSAGE = "this is a test error generated by honeybadger"


#: The records a webhook is about; `fault_ids` is a v3 bulk action's (a comment or an
#: assignment made on several faults at once), sent in place of `fault`.
_HB_RECORDS = ("fault", "site", "check_in", "alarm", "deploy", "fault_ids")


def matches_honeybadger(payload: dict[str, Any]) -> bool:
    """A webhook: the `event` name, its one-line `message` and the record it is about."""
    return (
        untitled(payload)
        # Present is enough: an event of the wrong type is refused naming it, and the
        # message, only shown, is read as JSON text.
        and "event" in payload
        and "message" in payload
        and any(key in payload for key in _HB_RECORDS)
    )


def normalize_honeybadger(payload: dict[str, Any]) -> Normalized:
    event = (common.line(payload.get("event"), "event", 64) or "").lower()
    if event in _HB_QUIET:
        return quiet(HONEYBADGER, "event", payload.get("event"))
    for (firing, resolved), read in (
        (_HB_FAULT, _hb_fault), (_HB_SITE, _hb_site), (_HB_CHECK_IN, _hb_check_in),
        (_HB_ALARM, _hb_alarm), (_HB_CERT, _hb_cert),
    ):  # fmt: skip
        if event in firing | resolved:
            return read(payload, Status.RESOLVED if event in resolved else Status.FIRING)
    raise InvalidAlertError(
        f"honeybadger event {common.short(payload.get('event'))} is not read (errors, uptime "
        "sites, check-ins and Insights alarms are): send only those events to triage"
    )


def _hb_fault(payload: dict[str, Any], status: Status) -> Normalized:
    fault = common.obj(payload.get("fault"), "fault", required=True)
    fault_id = common.ident(fault.get("id"), "fault.id")
    klass = common.line(common.unnested(fault.get("klass")), "fault.klass", shown=True)
    said = common.line(common.unnested(fault.get("message")), "fault.message", shown=True)
    if klass == _HB_TEST_CLASS and (said or "").lower().startswith(_HB_TEST_MESSAGE):
        detail = f"honeybadger test notification {common.short(said)}: no ticket change"
        return Normalized((), (Skipped(HONEYBADGER, "test_notification", detail),))
    occurred, notes = dated(_hb_fault_time(payload, status), "honeybadger notice.created_at")
    alert = Alert(
        source=HONEYBADGER,
        status=status,
        title=common.first_title(
            f"{klass}: {said}" if klass and said else klass or said, f"Honeybadger fault {fault_id}"
        ),
        description=paragraphs(payload.get("message")),
        links=common.links(source=common.url(fault.get("url"), "fault.url")),
        labels=_hb_labels(
            payload,
            ("fault_id", fault_id),
            ("environment", fault.get("environment")),
            ("component", fault.get("component")),
            ("action", fault.get("action")),
            ("assignee", fault.get("assignee")),
        ),
        occurred_at=occurred,
        identity={"fault": fault_id},
        raw=payload,
    )
    return Normalized((alert,), (), notes)


def _hb_site(payload: dict[str, Any], status: Status) -> Normalized:
    site = common.obj(payload.get("site"), "site", required=True)
    site_id = common.ident(site.get("id"), "site.id")
    outage = common.obj_or_empty(payload.get("outage"))
    field = "up_at" if status is Status.RESOLVED else "down_at"
    occurred, notes = dated(outage.get(field), f"honeybadger outage.{field}")
    alert = Alert(
        source=HONEYBADGER,
        status=status,
        title=common.first_title(site.get("name"), site.get("url"), f"Honeybadger site {site_id}"),
        # The outage's reason explains a down; an up still carries it, as history.
        description=paragraphs(
            payload.get("message"), outage.get("reason") if status is Status.FIRING else None
        ),
        links=common.links(source=common.url(site.get("details_url"), "site.details_url")),
        labels=_hb_labels(
            payload,
            ("site_id", site_id),
            ("url", site.get("url")),
            ("http_status", outage.get("status")),
        ),
        occurred_at=occurred,
        identity={"site": site_id},
        raw=payload,
    )
    return Normalized((alert,), (), notes)


def _hb_check_in(payload: dict[str, Any], status: Status) -> Normalized:
    check_in = common.obj(payload.get("check_in"), "check_in", required=True)
    check_id = common.ident(check_in.get("id"), "check_in.id")
    # Dated when queued: a missing notice states no time of its own (its expected_at may be
    # later than the report that ends it), and both events must order as they were sent.
    occurred = common.now()
    alert = Alert(
        source=HONEYBADGER,
        status=status,
        title=common.first_title(check_in.get("name"), f"Honeybadger check-in {check_id}"),
        description=paragraphs(payload.get("message")),
        links=common.links(source=common.url(check_in.get("details_url"), "details_url")),
        labels=_hb_labels(
            payload, ("check_in_id", check_id), ("schedule", check_in.get("schedule_type"))
        ),
        occurred_at=occurred,
        identity={"check_in": check_id},
        raw=payload,
    )
    return Normalized((alert,), ())


def _hb_alarm(payload: dict[str, Any], status: Status) -> Normalized:
    """An Insights alarm: keyed by its id, else (Honeybadger may send none) by its name."""
    alarm = common.obj(payload.get("alarm"), "alarm", required=True)
    alarm_id = common.ident_or_none(alarm.get("id"), "alarm.id")
    name = common.line(common.unnested(alarm.get("name")), "alarm.name")
    if not alarm_id and not name:
        raise InvalidAlertError("honeybadger alarm.id and alarm.name are missing: no identity")
    alert = Alert(
        source=HONEYBADGER,
        status=status,
        title=common.first_title(name, f"Honeybadger alarm {alarm_id}"),
        description=paragraphs(payload.get("message")),
        links=common.links(source=common.url(alarm.get("url"), "alarm.url")),
        labels=_hb_labels(payload, ("alarm_id", alarm_id), ("state", alarm.get("state"))),
        # Dated when queued: the payload's only time is when the alarm was created.
        occurred_at=common.now(),
        identity={"alarm": alarm_id} if alarm_id else {"alarm_name": name or ""},
        raw=payload,
    )
    return Normalized((alert,), ())


def _hb_cert(payload: dict[str, Any], status: Status) -> Normalized:
    """An uptime site's TLS certificate about to expire: the site's certificate incident."""
    site = common.obj(payload.get("site"), "site", required=True)
    site_id = common.ident(site.get("id"), "site.id")
    name = common.line(common.unnested(site.get("name") or site.get("url")), "site.name")
    expires = site.get("cert_will_expire_at")
    alert = Alert(
        source=HONEYBADGER,
        status=status,
        title=common.title(f"TLS certificate of {name or f'Honeybadger site {site_id}'} expires"),
        description=paragraphs(
            payload.get("message"), f"Expires at {common.shown(expires)}." if expires else None
        ),
        links=common.links(source=common.url(site.get("details_url"), "site.details_url")),
        labels=_hb_labels(
            payload, ("site_id", site_id), ("url", site.get("url")), ("expires_at", expires)
        ),
        # Dated when queued: the notice's only time is the certificate's expiry, in the future.
        occurred_at=common.now(),
        identity={"site_certificate": site_id},
        raw=payload,
    )
    return Normalized((alert,), ())


def _hb_fault_time(payload: dict[str, Any], status: Status) -> Any:
    """The notice an event carries (an occurrence, a rate) dates it; a resolve or a reopen,
    sent with no time of its own, is dated when queued: the fault's last notice is older than
    a resolve, and a reopen dated by it would read as stale."""
    if status is Status.RESOLVED:
        return None
    return common.obj_or_empty(payload.get("notice")).get("created_at")


def _hb_labels(payload: dict[str, Any], *pairs: tuple[str, Any]) -> dict[str, str]:
    """The project's name and the record's own labels."""
    project = common.obj_or_empty(payload.get("project"))
    return labelled(("project", project.get("name")), *pairs)


# --- Bugsnag -----------------------------------------------------------------------------------

_BS_FIRING = frozenset({"firstexception", "exception", "powerten", "erroreventfrequency",
                        "reopened"})  # fmt: skip
#: A person's change of an error's state (`trigger.stateChange`): fixing, ignoring or snoozing
#: it ends its incident, as resolving or archiving a Sentry issue does; reopening fires it.
_BS_STATE = {"fixed": Status.RESOLVED, "ignored": Status.RESOLVED, "snoozed": Status.RESOLVED,
             "reopened": Status.FIRING}  # fmt: skip
#: A project's own spike has no error and no recovery: it is keyed by the project and fires.
_BS_SPIKE = "projectspiking"


def matches_bugsnag(payload: dict[str, Any]) -> bool:
    """The webhook plugin's payload: its `account`, `project` and the `trigger` by type; or
    the plugins' test event, which has no `account`."""
    trigger = payload.get("trigger")
    return (
        untitled(payload)
        and (isinstance(payload.get("account"), dict) or _bs_test_event(payload))
        and isinstance(payload.get("project"), dict)
        and isinstance(trigger, dict)
        and "type" in trigger
    )


#: The example error of the test event Bugsnag's notification plugins fire
#: (bugsnag/bugsnag-notification-plugins, notification-plugin.js `fireTestEvent`): project
#: Example.com, this link, no account and no `errorId`.
_BS_TEST_ERROR_PATH = "/errors/example/events/example"


def _bs_test_event(payload: dict[str, Any]) -> bool:
    """Whether the body is the plugins' test event: its example error, which names no
    `errorId` (every real error has one), at the example link."""
    error = common.obj_or_empty(payload.get("error"))
    link = error.get("url")
    return (
        not error.get("errorId")
        and isinstance(link, str)
        and link.strip().rstrip("/").endswith(_BS_TEST_ERROR_PATH)
    )


def normalize_bugsnag(payload: dict[str, Any]) -> Normalized:
    if _bs_test_event(payload):
        detail = "bugsnag test event (the example error of project Example.com): no ticket change"
        return Normalized((), (Skipped(BUGSNAG, "test_notification", detail),))
    trigger = common.obj(payload.get("trigger"), "trigger", required=True)
    kind = (common.line(common.unnested(trigger.get("type")), "trigger.type", 64) or "").lower()
    if kind == _BS_SPIKE:
        return _bs_spike(payload, trigger)
    status = _bs_status(kind, trigger.get("stateChange"))
    if status is None:
        field = "stateChange" if kind == "errorstatemanualchange" else "type"
        return quiet(BUGSNAG, f"trigger.{field}", trigger.get(field))
    error = common.obj(payload.get("error"), "error", required=True)
    error_id = common.ident(error.get("errorId"), "error.errorId")
    klass = common.line(
        common.unnested(error.get("exceptionClass")), "error.exceptionClass", shown=True
    )
    said = common.line(common.unnested(error.get("message")), "error.message", shown=True)
    # An event's trigger is dated by the event; a person's change of state (a fix, a reopen)
    # carries the error's last event, older than the change, so it is dated when queued.
    when = None if kind == "errorstatemanualchange" else error.get("receivedAt")
    occurred, notes = dated(when, "bugsnag error.receivedAt")
    alert = Alert(
        source=BUGSNAG,
        status=status,
        title=common.first_title(
            f"{klass}: {said}" if klass and said else klass or said,
            error.get("context"),
            f"Bugsnag error {error_id}",
        ),
        severity=common.word(error.get("severity"), "error.severity"),
        description=paragraphs(trigger.get("message"), error.get("context")),
        links=common.links(source=common.url(error.get("url"), "error.url")),
        labels=_bs_labels(
            payload,
            ("error_id", error_id),
            ("release_stage", error.get("releaseStage")),
            ("app_version", error.get("appVersion")),
            ("trigger", kind),
        ),
        occurred_at=occurred,
        identity={"error": error_id},
        raw=payload,
    )
    return Normalized((alert,), (), notes)


def _bs_status(kind: str, state_change: Any) -> Status | None:
    """Firing for an error's occurrence or reopening; a person's state change as `_BS_STATE`
    says; None for every other trigger (a comment, a release, a rate-limit notice)."""
    if kind in _BS_FIRING:
        return Status.FIRING
    if kind == "errorstatemanualchange" and isinstance(state_change, str):
        return _BS_STATE.get(state_change.strip().lower())
    return None


def _bs_spike(payload: dict[str, Any], trigger: dict[str, Any]) -> Normalized:
    """A project's error spike: one incident per project, firing only (no recovery is sent)."""
    project = common.obj(payload.get("project"), "project", required=True)
    project_id = common.ident(project.get("id"), "project.id")
    name = common.line(common.unnested(project.get("name")), "project.name")
    alert = Alert(
        source=BUGSNAG,
        status=Status.FIRING,
        title=common.title(f"Error spike in {name or f'Bugsnag project {project_id}'}"),
        description=paragraphs(trigger.get("message")),
        links=common.links(source=common.url(project.get("url"), "project.url")),
        labels=_bs_labels(payload, ("trigger", _BS_SPIKE), ("rate", trigger.get("rate"))),
        occurred_at=common.now(),
        identity={"project": project_id, "trigger": _BS_SPIKE},
        raw=payload,
    )
    return Normalized((alert,), ())


def _bs_labels(payload: dict[str, Any], *pairs: tuple[str, Any]) -> dict[str, str]:
    """The account's and project's names, then the alert's own labels."""
    account = common.obj_or_empty(payload.get("account"))
    project = common.obj_or_empty(payload.get("project"))
    return labelled(("account", account.get("name")), ("project", project.get("name")), *pairs)
