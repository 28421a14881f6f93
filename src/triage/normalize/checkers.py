"""Uptime and synthetic checkers' webhooks pointed at the gateway's generic path: StatusCake's
(an HTML form, queued by the gateway as the JSON of its fields), Better Stack's (Better Uptime)
incident webhook and its Errors product's error webhook, UptimeRobot's and Checkly's (bodies
their users template: read when they carry the tool's own variables under the names its
documentation and its own templates give them). Each is known by those keys and keyed by the
tool's own id of the check, incident or error.

Identity, statuscake: the test's name and URL (StatusCake's form names no test id).
Identity, betterstack: the monitor (or heartbeat) the incident is about
(`data.relationships.monitor` or `.heartbeat`), since Better Stack opens a new incident, with a
new id, for every outage: a flapping monitor's outages are one incident, which reopens. An
incident about neither (one made by hand) is keyed by its own id (`data.id`); every alert keeps
its incident's id as the label `incident_id`.
Identity, betterstack-errors: the error's id (`betterstack_errors`, read here as format
`betterstack`).
Identity, uptimerobot: the monitor's id (`monitorID`), else its name and URL; an SSL or
domain expiry notice (alertType 3) is its own incident of the monitor. Its variables are read
under their camelCase names or in snake_case (`monitor_friendly_name`, `alert_type` …).
Identity, checkly: the check's id (`check_id`); an SSL expiry notice (ALERT_SSL) is its own
incident of the check.
States, statuscake (`Status`): Down fires, Up resolves.
States, betterstack (`event`, else the incident's own `attributes.status`): started fires,
resolved resolves, acknowledged changes no ticket; a monitor's webhook (created, paused …) and the on-call change webhook (an
`on_call_calendar` resource with no `event`: betterstack.com/docs/uptime/webhooks) are no
alert (Skipped).
States, betterstack-errors: `betterstack_errors`.
States, uptimerobot (`alertType`, else `alertTypeFriendlyName`): 1 (Down) fires, 2 (Up)
resolves, 3 (an SSL certificate or domain about to expire) fires its own incident, which no
notice resolves.
States, checkly (`alert_type`): ALERT_FAILURE, ALERT_DEGRADED and their _REMAIN and escalated
forms fire, ALERT_RECOVERY and ALERT_DEGRADED_RECOVERY resolve, NO_ALERT changes no ticket;
ALERT_SSL fires its own incident.
Severity, checkly: the state the alert leaves the check in, which Checkly names last: failing
(ALERT_FAILURE, ALERT_FAILURE_REMAIN, ALERT_DEGRADED_FAILURE) is error (high), degraded
(ALERT_DEGRADED, ALERT_DEGRADED_REMAIN, ALERT_FAILURE_DEGRADED) warning (medium); a recovery
and ALERT_SSL state none.
A value still holding its template variable ("*monitorID*", "{{CHECK_ID}}": a variable the
tool left empty) counts as absent. A body whose monitor or check and alert type are all
still template variables is the tool's test message (its "send test notification" button, which
fills no monitor's variables): Skipped as `test_notification`, never a ticket.
"""

from __future__ import annotations

import re
from typing import Any

from triage.errors import InvalidAlertError
from triage.models import Alert, Status
from triage.normalize import (
    betterstack_errors,
    common,
    cronitor,
    freshping,
    github_actions,
    graylog,
    kapacitor,
    librato,
    netdata,
    site24x7,
    statuspage,
)
from triage.normalize.common import Normalized, Skipped
from triage.normalize.generic import dated
from triage.normalize.vendors import first_given, labelled, paragraphs, quiet, untitled

STATUSCAKE = "statuscake"
BETTERSTACK = "betterstack"
UPTIMEROBOT = "uptimerobot"
CHECKLY = "checkly"
#: With the status pages' (`statuspage`) and the fixed-body senders with modules of their own
#: (`kapacitor`, `freshping`, `graylog`, `librato`, `site24x7`, `netdata`, `cronitor`, and a CI
#: workflow's runs, `github_actions`), which are read beside these checkers.
SOURCES = (
    STATUSCAKE,
    BETTERSTACK,
    betterstack_errors.SOURCE,
    UPTIMEROBOT,
    CHECKLY,
    statuspage.SOURCE,
    kapacitor.SOURCE,
    freshping.SOURCE,
    graylog.SOURCE,
    librato.SOURCE,
    site24x7.SOURCE,
    netdata.SOURCE,
    cronitor.SOURCE,
    github_actions.SOURCE,
)

#: A template variable left as it was written: UptimeRobot's `*name*`, Checkly's `{{NAME}}`.
_PLACEHOLDER_MAX = 200
_PLACEHOLDER = re.compile(r"\s*(?:\*[A-Za-z]\w{0,63}\*|\{\{\s*[A-Za-z_][\w.]{0,63}\s*\}\})\s*")


def given(value: Any) -> Any:
    """`value`, or None when it is an unfilled template variable or blank text."""
    if isinstance(value, str) and (not value.strip() or unfilled(value)):
        return None
    return value


def unfilled(value: Any) -> bool:
    """Whether `value` is a template variable as it was written ("*monitorID*")."""
    return (
        isinstance(value, str)
        and len(value) <= _PLACEHOLDER_MAX
        and _PLACEHOLDER.fullmatch(value) is not None
    )


def _test_message(
    payload: dict[str, Any], named_by: tuple[str, ...], kind: tuple[str, ...]
) -> bool:
    """Whether no variable that names the monitor or check (`named_by`) nor any that gives the
    alert's type (`kind`) is filled, and one of each is still a template variable: the tool's
    test message, which names no monitor and no state."""
    groups = [[payload.get(key) for key in keys] for keys in (named_by, kind)]
    return all(
        any(unfilled(v) for v in values) and all(v is None or given(v) is None for v in values)
        for values in groups
    )


def _tested(source: str) -> Normalized:
    """The test message of `source`, understood and skipped."""
    detail = f"{source} test notification (its template's variables unfilled): no ticket change"
    return Normalized((), (Skipped(source, "test_notification", detail),))


# --- StatusCake --------------------------------------------------------------------------------

_SC_STATES = {"down": Status.FIRING, "up": Status.RESOLVED}


def matches_statuscake(payload: dict[str, Any]) -> bool:
    """The contact group's webhook form: the test's `Name`, `URL`, `Status` and `StatusCode`."""
    return untitled(payload) and {"Name", "URL", "Status", "StatusCode"} <= payload.keys()


def normalize_statuscake(payload: dict[str, Any]) -> Normalized:
    name = common.ident(payload.get("Name"), "Name")
    url = common.ident_or_none(payload.get("URL"), "URL") or ""
    state = payload.get("Status")
    status = _SC_STATES.get(state.strip().lower()) if isinstance(state, str) else None
    if status is None:
        raise InvalidAlertError(f"statuscake Status {common.short(state)} is not Up or Down")
    code = common.word(payload.get("StatusCode"), "StatusCode", 16)
    alert = Alert(
        source=STATUSCAKE,
        status=status,
        title=common.title(name, "Name"),
        description=_sc_said(status, code),
        links=common.links(check=common.url(payload.get("URL"), "URL")),
        # The form's `Token` (a hash of the account's API key) is a credential: never shown.
        labels=labelled(
            ("url", url),
            ("ip", payload.get("IP")),
            ("tags", payload.get("Tags")),
            ("status_code", payload.get("StatusCode")),  # whole: `add_label` cuts it
            ("check_rate_s", payload.get("CheckRate")),
        ),
        # The form states no time: dated when queued, so its down and up order as sent.
        occurred_at=common.now(),
        identity={"test": name, "url": url},
        raw=payload,
    )
    return Normalized((alert,), ())


def _sc_said(status: Status, code: str | None) -> str:
    """What the test saw: its status code, 0 meaning no answer in time."""
    if status is Status.RESOLVED:
        return "StatusCake reports the test up again."
    if code in (None, "0"):
        return "StatusCake reports the test down: no answer within its timeout."
    return f"StatusCake reports the test down: status code {code}."


# --- Better Stack (Better Uptime) ---------------------------------------------------------------

_BS_FIRING = frozenset({"started"})
_BS_RESOLVED = frozenset({"resolved"})
_BS_QUIET = frozenset({"acknowledged"})


def matches_betterstack(payload: dict[str, Any]) -> bool:
    """An outgoing webhook: the JSON:API resource (`data` with its `id`, `type` and
    `attributes`) and the `event` about it, beside it (Uptime's incidents) or among its
    attributes (Errors' errors)."""
    data = payload.get("data")
    return (
        untitled(payload)
        and isinstance(data, dict)
        and isinstance(data.get("type"), str)
        and isinstance(data.get("attributes"), dict)
        and "id" in data
        # The resource's shape recognises the webhook, whatever type its state was sent as:
        # a state of the wrong type is refused naming its field, not as an unknown body.
        and (
            "event" in payload
            or betterstack_errors.matches(data)
            or _bs_on_call(data)
            or _bs_stated(data) is not None
        )
    )


def _bs_stated(data: dict[str, Any]) -> Any:
    """An incident's own `attributes.status` (Started, Acknowledged, Resolved) as sent, for a
    body without the `event` beside it; None for any other resource or when it has none."""
    kind, attributes = data.get("type"), common.obj_or_empty(data.get("attributes"))
    if isinstance(kind, str) and kind.strip().lower() == "incident":
        return attributes.get("status")
    return None


#: The on-call change webhook's resource: the on-call schedule, sent with no `event`.
_BS_ON_CALL = "on_call_calendar"


def _bs_on_call(data: dict[str, Any]) -> bool:
    kind = data.get("type")
    return isinstance(kind, str) and kind.strip().lower() == _BS_ON_CALL


def normalize_betterstack(payload: dict[str, Any]) -> Normalized:
    data = common.obj(payload.get("data"), "data", required=True)
    if "event" not in payload and betterstack_errors.matches(data):
        return betterstack_errors.normalize(data, payload)
    if "event" not in payload and _bs_on_call(data):
        # Names the schedule by id only: its attributes are people's names, e-mail and phones.
        schedule = common.short(common.ident(data.get("id"), "data.id"), 64)
        detail = f"betterstack on-call change of schedule {schedule} is not an alert"
        return Normalized((), (Skipped(BETTERSTACK, "unsupported_resource", detail),))
    kind = (common.line(data.get("type"), "data.type", 64) or "").lower()
    incident_id = common.ident(data.get("id"), "data.id")
    field = "event" if "event" in payload else "data.attributes.status"
    said = payload.get("event") if "event" in payload else _bs_stated(data)
    event = (common.line(said, field, 64) or "").lower()
    if kind != "incident":
        detail = f"betterstack {common.short(kind)} webhook ({common.short(event)}) is not an alert"
        return Normalized((), (Skipped(BETTERSTACK, "unsupported_resource", detail),))
    if event in _BS_QUIET:
        return quiet(BETTERSTACK, f"incident {common.short(incident_id)} event", event)
    if event not in _BS_FIRING | _BS_RESOLVED:
        raise InvalidAlertError(
            f"betterstack {field} {common.short(said)} is not started, acknowledged or resolved"
        )
    status = Status.RESOLVED if event in _BS_RESOLVED else Status.FIRING
    attributes = common.obj(data.get("attributes"), "data.attributes", required=True)
    related = _bs_related(data)
    when = attributes.get("resolved_at") if status is Status.RESOLVED else None
    when_at, when = first_given(
        ("data.attributes.resolved_at", when),
        ("data.attributes.started_at", attributes.get("started_at")),
    )
    occurred, notes = dated(when, f"betterstack {when_at}")
    alert = Alert(
        source=BETTERSTACK,
        status=status,
        title=common.first_title(
            attributes.get("name"), attributes.get("url"), f"Better Stack incident {incident_id}"
        ),
        description=paragraphs(attributes.get("cause")),
        links=common.links(
            check=common.url(attributes.get("url"), "url"),
            screenshot=common.url(attributes.get("screenshot_url"), "screenshot_url"),
        ),
        labels=labelled(
            ("incident_id", incident_id),
            *[(f"{kind}_id", ident) for kind, ident in related.items()],
            ("url", attributes.get("url")),
            ("http_method", attributes.get("http_method")),
            ("team_name", attributes.get("team_name")),
        ),
        occurred_at=occurred,
        identity=related or {"incident": incident_id},
        raw=payload,
    )
    return Normalized((alert,), (), notes)


#: The resources an incident may be about, each an identity of its own kind.
_BS_SUBJECTS = ("monitor", "heartbeat")


def _bs_related(data: dict[str, Any]) -> dict[str, str]:
    """The monitor or heartbeat the incident is about, by kind: {"monitor": "1123"}; {} when
    it names neither."""
    relationships = common.obj_or_empty(data.get("relationships"))
    for kind in _BS_SUBJECTS:
        linked = common.obj_or_empty(common.obj_or_empty(relationships.get(kind)).get("data"))
        field = f"data.relationships.{kind}.data.id"
        ident = common.ident_or_none(common.unnested(linked.get("id")), field)
        if ident:
            return {kind: ident}
    return {}


# --- UptimeRobot -------------------------------------------------------------------------------

#: alertType's numbers, and the words alertTypeFriendlyName says them with.
_UR_TYPES = {"1": Status.FIRING, "2": Status.RESOLVED, "3": Status.FIRING,
             "down": Status.FIRING, "up": Status.RESOLVED}  # fmt: skip
_UR_EXPIRY = "3"
#: The variables that name the monitor, and those that give the alert's type.
_UR_NAMED_BY = ("monitorID", "monitorFriendlyName")
_UR_KIND = ("alertType", "alertTypeFriendlyName")


#: UptimeRobot's variables as templates name them in snake_case (Zulip's documented template:
#: "monitor_friendly_name": "*monitorFriendlyName*"), and the names this reader uses.
_UR_SNAKE = {
    "monitor_id": "monitorID", "monitor_url": "monitorURL",
    "monitor_friendly_name": "monitorFriendlyName", "alert_type": "alertType",
    "alert_type_friendly_name": "alertTypeFriendlyName", "alert_details": "alertDetails",
    "alert_duration": "alertDuration", "alert_datetime": "alertDateTime",
    "ssl_expiry_date": "sslExpiryDate", "ssl_expiry_days_left": "sslExpiryDaysLeft",
}  # fmt: skip


#: Each camelCase variable's snake_case form.
_UR_CAMEL = {camel: snake for snake, camel in _UR_SNAKE.items()}


def _ur_sent(raw: dict[str, Any], camel: str) -> str:
    """The name the body gave variable `camel`: its camelCase name, or the snake_case form
    when only that was sent, so that a refusal or a note names the field the sender wrote."""
    snake = _UR_CAMEL.get(camel, camel)
    return snake if camel not in raw and snake in raw else camel


def _ur_named(payload: dict[str, Any]) -> dict[str, Any]:
    """The body with each snake_case variable also under its camelCase name (a camelCase one
    the body gives wins)."""
    return {camel: payload[snake] for snake, camel in _UR_SNAKE.items() if snake in payload} | {
        key: value for key, value in payload.items() if key not in _UR_SNAKE
    }


def matches_uptimerobot(payload: dict[str, Any]) -> bool:
    """A webhook alert contact's body: the monitor (`monitorID` or `monitorFriendlyName`) and
    the alert's type (`alertType` or `alertTypeFriendlyName`), in camelCase or snake_case."""
    named = _ur_named(payload) if payload.keys() & _UR_SNAKE.keys() else payload
    return (
        untitled(payload)
        and ("monitorID" in named or "monitorFriendlyName" in named)
        and ("alertType" in named or "alertTypeFriendlyName" in named)
    )


def normalize_uptimerobot(payload: dict[str, Any]) -> Normalized:
    raw, payload = payload, _ur_named(payload)
    if _test_message(payload, _UR_NAMED_BY, _UR_KIND):
        return _tested(UPTIMEROBOT)
    monitor_id = common.ident_or_none(given(payload.get("monitorID")), _ur_sent(raw, "monitorID"))
    name = common.ident_or_none(common.unnested(given(payload.get("monitorFriendlyName"))), "name")
    # With a monitor id the URL is only shown, and one that is no text is passed over.
    link = given(payload.get("monitorURL"))
    url = common.ident_or_none(
        common.unnested(link) if monitor_id else link, _ur_sent(raw, "monitorURL")
    )
    if not monitor_id and not name:
        raise InvalidAlertError(
            "uptimerobot monitorID and monitorFriendlyName are missing: the monitor cannot be "
            "identified"
        )
    kind = _ur_type(payload, raw)
    key = {"monitor": monitor_id} if monitor_id else {"name": name or "", "url": url or ""}
    if kind == _UR_EXPIRY:
        key["notice"] = "expiry"
    occurred, notes = dated(
        given(payload.get("alertDateTime")), f"uptimerobot {_ur_sent(raw, 'alertDateTime')}"
    )
    named = name or url or f"monitor {monitor_id}"  # one of the three is given
    alert = Alert(
        source=UPTIMEROBOT,
        status=_UR_TYPES[kind],
        title=common.first_title(
            f"Certificate or domain of {named} expires soon" if kind == _UR_EXPIRY else name,
            url,
            f"UptimeRobot monitor {monitor_id}",
        ),
        description=paragraphs(
            given(payload.get("alertDetails")),
            _ur_duration(given(payload.get("alertDuration"))),
            _ur_expiry(payload),
        ),
        links=common.links(check=common.url(given(payload.get("monitorURL")), "monitorURL")),
        labels=labelled(
            ("monitor_id", monitor_id),
            ("url", url),
            ("alert_type", given(payload.get("alertTypeFriendlyName"))),
        ),
        occurred_at=occurred,
        identity=key,
        raw=raw,
    )
    return Normalized((alert,), (), notes)


def _ur_type(payload: dict[str, Any], raw: dict[str, Any]) -> str:
    """alertType (1, 2 or 3), else alertTypeFriendlyName (Down or Up), as `_UR_TYPES` keys it;
    a refusal names both as the body (`raw`) sent them."""
    for field in ("alertType", "alertTypeFriendlyName"):
        value = common.whole(given(payload.get(field)))
        if isinstance(value, int) and not isinstance(value, bool):
            value = str(value)
        if isinstance(value, str) and value.strip().lower() in _UR_TYPES:
            return value.strip().lower()
    kind, friendly = _ur_sent(raw, "alertType"), _ur_sent(raw, "alertTypeFriendlyName")
    raise InvalidAlertError(
        f"uptimerobot {kind} {common.short(payload.get('alertType'))} and "
        f"{friendly} {common.short(payload.get('alertTypeFriendlyName'))} name no "
        "state (1 Down, 2 Up, 3 expiry)"
    )


def _ur_duration(value: Any) -> str | None:
    """alertDuration: for how many seconds the monitor was down (sent with an Up)."""
    seconds = common.count(value)
    return f"Down for {seconds} s." if seconds is not None and seconds > 0 else None


def _ur_expiry(payload: dict[str, Any]) -> str | None:
    """An expiry notice's date and days left, when the template sends them."""
    date = common.word(given(payload.get("sslExpiryDate")), "sslExpiryDate", 64)
    days = common.word(given(payload.get("sslExpiryDaysLeft")), "sslExpiryDaysLeft", 16)
    if not date and not days:
        return None
    return f"Expires {date or 'soon'}" + (f" ({days} days left)." if days else ".")


# --- Checkly -----------------------------------------------------------------------------------

#: Alert types after which the check is failing: it did not pass (or passed slower than its
#: max response time). Checkly names a transition by the state it ends in, so
#: ALERT_DEGRADED_FAILURE (degraded, now failing) is a failure.
_CK_FAILING = frozenset({"alert_failure", "alert_failure_remain", "alert_degraded_failure",
                         "alert_fail"})  # fmt: skip
#: Alert types after which the check is degraded: it passed, slower than its degraded
#: threshold; ALERT_FAILURE_DEGRADED (failing, now degraded) is a degradation.
_CK_DEGRADED = frozenset({"alert_degraded", "alert_degraded_remain", "alert_failure_degraded"})
_CK_FIRING = _CK_FAILING | _CK_DEGRADED
_CK_RESOLVED = frozenset({"alert_recovery", "alert_degraded_recovery"})
_CK_SSL = "alert_ssl"
_CK_QUIET = "no_alert"


#: Checkly's ALERT_TITLE: 'Check "Login flow" has failed' (its documentation quotes the name
#: with curly quotes too). The name is kept; the state after it changes with each alert.
_CK_TITLE = re.compile(
    r"Check [\"'\u201c\u2018](?P<name>.{1,1000})[\"'\u201d\u2019] (?:has|is) \w+.*"
)


def _ck_name(said: str | None) -> str | None:
    """The check's name from Checkly's alert title, or None when the title is not Checkly's."""
    head = _CK_TITLE.fullmatch(said) if said else None
    return head["name"].strip() or None if head else None


def matches_checkly(payload: dict[str, Any]) -> bool:
    """A webhook body with Checkly's variables: the check's `check_id` and an `alert_type`
    of Checkly's (ALERT_FAILURE …, NO_ALERT), or both still unfilled (a test message). A body
    with a `title` too (a template that puts {{ALERT_TITLE}} there, as Checkly's own for
    Pushover and the like do) is Checkly's only with an alert type of Checkly's: its title
    changes with the state ("has failed", "has recovered"), so read as a script's generic
    alert its recovery would open an incident instead of closing the failure's."""
    kind = payload.get("alert_type")
    if "check_id" not in payload:
        return False
    if not untitled(payload):
        return isinstance(kind, str) and _ck_alert_type(kind)
    if not isinstance(kind, str | None):
        # Checkly's two variables side by side: an alert type that is not text is refused
        # naming `alert_type`, not as an unknown body.
        return True
    return isinstance(kind, str) and (
        _ck_alert_type(kind) or (unfilled(kind) and unfilled(payload["check_id"]))
    )


def _ck_alert_type(kind: str) -> bool:
    """Whether `kind` is written as Checkly writes its alert types (ALERT_…, NO_ALERT)."""
    return kind.strip().upper().startswith(("ALERT_", "NO_ALERT"))


#: The variable that names the check, and the one that gives the alert's type.
_CK_NAMED_BY = ("check_id",)
_CK_KIND = ("alert_type",)


def normalize_checkly(payload: dict[str, Any]) -> Normalized:
    if _test_message(payload, _CK_NAMED_BY, _CK_KIND):
        return _tested(CHECKLY)
    check_id = common.ident(given(payload.get("check_id")), "check_id")
    kind = (common.line(payload.get("alert_type"), "alert_type", 64) or "").lower()
    said = common.line(
        common.unnested(
            given(payload.get("event"))
            or given(payload.get("alert_title"))
            or given(payload.get("title"))
        ),
        "event",
        shown=True,
    )
    name = common.line(common.unnested(given(payload.get("check_name"))), "check_name")
    name = name or _ck_name(said)
    if kind == _CK_QUIET:
        return quiet(CHECKLY, f"check {common.short(name or check_id)}", "NO_ALERT")
    if kind not in _CK_FIRING | _CK_RESOLVED | {_CK_SSL}:
        raise InvalidAlertError(
            f"checkly alert_type {common.short(payload.get('alert_type'))} is not one of "
            "Checkly's (ALERT_FAILURE, ALERT_DEGRADED, ALERT_RECOVERY, ALERT_SSL …)"
        )
    occurred, notes = dated(given(payload.get("started_at")), "checkly started_at")
    link = given(payload.get("result_link")) or given(payload.get("link"))
    alert = Alert(
        source=CHECKLY,
        status=Status.RESOLVED if kind in _CK_RESOLVED else Status.FIRING,
        title=common.first_title(
            f"Certificate of {name} expires soon" if kind == _CK_SSL and name else name,
            said,
            f"Checkly check {check_id}",
        ),
        description=paragraphs(said, given(payload.get("check_error_message"))),
        links=common.links(source=common.url(link, "result_link")),
        labels=labelled(
            ("check_id", check_id),
            ("check_type", given(payload.get("check_type"))),
            ("group", given(payload.get("group_name"))),
            ("location", given(payload.get("run_location")) or given(payload.get("region"))),
            ("response_time_ms", given(payload.get("response_time"))),
            ("alert_type", kind.upper()),
        ),
        occurred_at=occurred,
        severity=_ck_severity(kind),
        identity={"check": check_id, "alert": "ssl"} if kind == _CK_SSL else {"check": check_id},
        raw=payload,
    )
    return Normalized((alert,), (), notes)


def _ck_severity(kind: str) -> str | None:
    """How bad the check is by the state the alert leaves it in: failing is an error (a high
    ticket), degraded a warning (medium), so a failed login flow outranks a slow one. A
    recovery or a certificate notice states none."""
    if kind in _CK_FAILING:
        return "error"
    if kind in _CK_DEGRADED:
        return "warning"
    return None
