"""Message body → canonical alerts. `normalize_body` decodes the body, recognises its format
from its shape (table `FORMATS`, tried in order, each only on a body with one of its `keys`)
and hands it to that source's module.

It raises only DecodeError, UnknownFormatError (naming every format tried) or InvalidAlertError,
all PermanentError; a message that is understood but changes no ticket (an SNS subscription
confirmation, INSUFFICIENT_DATA, a contact-point test, S3's `s3:TestEvent`) comes back as a
`Skipped`; an S3 event notification is refused saying what it is (`aws_s3`). A Lambda
asynchronous invocation's on-failure record is read as the event it holds; when that event is
no alert, as the function's failure (`aws_lambda_destinations`, format `lambda-async-failure`). An SNS
notification whose Message is text rather than JSON is an alert of its own (`sns`), and so is
any EventBridge event that is not a CloudWatch alarm's (`eventbridge`). A JSON array of alerts,
what Prometheus and vmalert post to Alertmanager's API, is read as `prometheus` (source
`alertmanager`: the same fingerprints as the webhook's).

A Sentry webhook's `Sentry-Hook-Resource` header, when the message carries it, is passed as
`sentry_resource`: it decides how a Sentry body is read. A message's string attributes, passed
as `attributes`, make it an EventBridge Scheduler dead letter when they name a schedule
(`aws_scheduler`): read from them, whatever the body holds; so is an EventBridge rule's
dead letter, when they name a rule (`aws_rule_dead_letter`), and an event bus's own, when they
carry an error code and no rule (`aws_bus_dead_letter`). `recognise_body` also names the
format that matched, for callers (the ingest gateway) that check a body came from where it says.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import pydantic

from triage.decode import SNS_CONFIRMATIONS, decode_envelope, invocation_record, is_sns_envelope
from triage.errors import DecodeError, InvalidAlertError, TriageError, UnknownFormatError
from triage.normalize import (
    airbrake,
    alertmanager,
    aws_bus_dead_letter,
    aws_lambda_destinations,
    aws_notices,
    aws_pipes,
    aws_rule_dead_letter,
    aws_s3,
    aws_scheduler,
    aws_subscriber_dead_letter,
    chatbot,
    checkers,
    cloudwatch,
    common,
    cronitor,
    encodings,
    eventbridge,
    freshping,
    generic,
    github_actions,
    grafana,
    graylog,
    kapacitor,
    lambda_events,
    librato,
    monitors,
    netdata,
    pagerduty_legacy,
    prometheus,
    raygun,
    sentry,
    site24x7,
    sns,
    splunk,
    splunk_o11y,
    statuspage,
    trackers,
    uptime,
    vendors,
)
from triage.normalize.common import Normalized, Skipped

__all__ = [
    "FORMATS",
    "Format",
    "Normalized",
    "Recognised",
    "Skipped",
    "normalize_body",
    "normalize_payload",
    "recognise_body",
]


@dataclass(frozen=True, slots=True)
class Format:
    """One format: its recogniser (`matches`), its reader (`parse`), and `keys`: top-level
    keys of which `matches` needs at least one. A body with none of them is not offered to it
    (see `_tried`); None: it is offered every body."""

    name: str
    matches: Callable[[dict[str, Any]], bool]
    parse: Callable[[dict[str, Any]], Normalized]
    keys: frozenset[str] | None = None


def _keys(*names: str) -> frozenset[str]:
    return frozenset(names)


def _sns_confirmation(payload: dict[str, Any]) -> bool:
    return is_sns_envelope(payload) and payload["Type"] in SNS_CONFIRMATIONS


def _skip_sns_confirmation(payload: dict[str, Any]) -> Normalized:
    """An SNS (un)subscription confirmation: no alert, Skipped, and a note (a warning, once per
    message) saying in one line what it means and what to do. Its SubscribeURL is never
    opened and its Token never shown: a URL from a message is not followed."""
    kind = str(payload["Type"])
    topic = common.short(payload.get("TopicArn"), 200)
    if kind == "SubscriptionConfirmation":
        reason = "subscription_confirmation"
        note = (
            f"SNS subscription of this queue to topic {topic} is pending: no alert arrives "
            "from it until it is confirmed; subscribe the queue from the queue's own account "
            "(which SNS confirms itself) or confirm it in SNS (triage never opens a "
            "SubscribeURL from a message)"
        )
    else:
        reason = "unsubscribe_confirmation"
        note = (
            f"SNS subscription of this queue to topic {topic} was removed: no alert arrives "
            "from it any more; subscribe the queue again if that was not meant"
        )
    detail = f"SNS {common.short(kind, 40)} for topic {topic}: not an alert"
    return Normalized((), (Skipped("sns", reason, detail),), (note,))


#: Tried in order; the first whose `matches` is true parses. More specific shapes come first
#: (Grafana groups carry Alertmanager's keys too; almost anything may carry a `title`). A new
#: format's `keys` must be top-level keys its `matches` cannot be true without (one of them is
#: enough; tests/test_normalize_dispatch.py checks it over the sample payloads), or none.
FORMATS: tuple[Format, ...] = (
    Format("sns-confirmation", _sns_confirmation, _skip_sns_confirmation, _keys("TopicArn")),
    Format("sns-text", sns.matches, sns.normalize, _keys("TopicArn")),
    Format(
        "cloudwatch-alarm",
        cloudwatch.matches_alarm,
        cloudwatch.normalize_alarm,
        _keys("AlarmName"),
    ),
    Format(
        "cloudwatch-eventbridge",
        cloudwatch.matches_event,
        cloudwatch.normalize_event,
        _keys("detail", "alarmData"),
    ),
    Format("eventbridge", eventbridge.matches, eventbridge.normalize, _keys("detail-type")),
    Format(
        "lambda-destination",
        aws_lambda_destinations.matches,
        aws_lambda_destinations.normalize,
        _keys("requestContext"),
    ),
    Format(aws_pipes.FORMAT, aws_pipes.matches, aws_pipes.normalize, _keys(aws_pipes.CONTEXT)),
    Format(
        aws_subscriber_dead_letter.FORMAT,
        aws_subscriber_dead_letter.matches,
        aws_subscriber_dead_letter.normalize,
        _keys(aws_subscriber_dead_letter.SUBSCRIBER),
    ),
    Format("grafana", grafana.matches_unified, grafana.normalize_unified, _keys("alerts")),
    Format("alertmanager", alertmanager.matches, alertmanager.normalize, _keys("alerts")),
    Format("grafana-legacy", grafana.matches_legacy, grafana.normalize_legacy, _keys("ruleId")),
    Format("sentry", sentry.matches, sentry.normalize, _keys("action")),
    Format("sentry-plugin", sentry.matches_legacy, sentry.normalize_legacy, _keys("culprit")),
    Format(
        "sentry-service-hook",
        sentry.matches_service_hook,
        sentry.normalize_service_hook,
        _keys("group"),
    ),
    # Other tools' webhooks sent to the generic path: known by their own keys, before
    # `generic` would key them by a title that changes with their state.
    Format(
        "datadog",
        vendors.matches_datadog,
        vendors.normalize_datadog,
        _keys("alert_transition", "org"),
    ),
    Format("opsgenie", vendors.matches_opsgenie, vendors.normalize_opsgenie, _keys("alert")),
    # PagerDuty's v3 webhooks (`event`), and its v2 and v1 webhooks (`messages`) read as v3.
    Format(
        "pagerduty",
        pagerduty_legacy.matches_any,
        pagerduty_legacy.normalize_any,
        _keys("event", "messages"),
    ),
    Format(
        "newrelic",
        monitors.matches_newrelic,
        monitors.normalize_newrelic,
        _keys(*monitors.NR_URL_KEYS, *monitors.NR_URL_KEYS_SHARED),
    ),
    Format(
        "newrelic-legacy",
        monitors.matches_newrelic_legacy,
        monitors.normalize_newrelic_legacy,
        _keys("incident_id", "current_state"),
    ),
    Format(
        "azure",
        monitors.matches_azure,
        monitors.normalize_azure,
        _keys("schemaId", "WorkspaceId"),
    ),
    Format("gcp", monitors.matches_gcp, monitors.normalize_gcp, _keys("incident")),
    Format(
        "uptimekuma",
        monitors.matches_uptime_kuma,
        monitors.normalize_uptime_kuma,
        _keys("heartbeat", "data"),
    ),
    Format("splunk", splunk.matches, splunk.normalize, _keys("sid")),
    Format(
        splunk_o11y.FORMAT, splunk_o11y.matches, splunk_o11y.normalize, _keys(splunk_o11y.SCHEMA)
    ),
    Format("rollbar", trackers.matches_rollbar, trackers.normalize_rollbar, _keys("event_name")),
    Format(
        "honeybadger",
        trackers.matches_honeybadger,
        trackers.normalize_honeybadger,
        _keys("event"),
    ),
    Format("bugsnag", trackers.matches_bugsnag, trackers.normalize_bugsnag, _keys("trigger")),
    Format("pingdom", uptime.matches_pingdom, uptime.normalize_pingdom, _keys("current_state")),
    Format("dynatrace", uptime.matches_dynatrace, uptime.normalize_dynatrace, _keys("PID")),
    Format(
        "honeycomb",
        uptime.matches_honeycomb,
        uptime.normalize_honeycomb,
        _keys("result_groups_triggered"),
    ),
    Format(
        "grafana-oncall",
        uptime.matches_grafana_oncall,
        uptime.normalize_grafana_oncall,
        _keys("alert_group"),
    ),
    Format(
        "statuscake",
        checkers.matches_statuscake,
        checkers.normalize_statuscake,
        _keys("StatusCode"),
    ),
    Format(
        "betterstack",
        checkers.matches_betterstack,
        checkers.normalize_betterstack,
        _keys("data"),
    ),
    Format(
        "uptimerobot",
        checkers.matches_uptimerobot,
        checkers.normalize_uptimerobot,
        _keys("monitorID", "monitorFriendlyName", "monitor_id", "monitor_friendly_name"),
    ),
    Format("checkly", checkers.matches_checkly, checkers.normalize_checkly, _keys("check_id")),
    Format("statuspage", statuspage.matches, statuspage.normalize, _keys("meta")),
    Format("raygun", raygun.matches, raygun.normalize, _keys("error")),
    Format("kapacitor", kapacitor.matches, kapacitor.normalize, _keys("details")),
    Format(
        "freshping",
        freshping.matches,
        freshping.normalize,
        _keys("webhook_event_data", "check_state_name"),
    ),
    Format("graylog", graylog.matches, graylog.normalize, _keys("event_definition_id")),
    Format("librato", librato.matches, librato.normalize, _keys("trigger_time", "payload")),
    Format(
        "site24x7",
        site24x7.matches,
        site24x7.normalize,
        _keys("MONITOR_ID", "MONITOR_DASHBOARD_LINK"),
    ),
    # Netdata's Test button sends a `title`: known by its exact shape, before `generic`.
    Format(
        "netdata",
        netdata.matches,
        netdata.normalize,
        _keys("chart", "host", "token"),
    ),
    # A CI workflow's runs, a cron monitor's and an error tracker's webhooks, known by the
    # keys only they send.
    Format(
        "github-actions",
        github_actions.matches,
        github_actions.normalize,
        _keys("workflow_run", "hook_id"),
    ),
    Format("cronitor", cronitor.matches, cronitor.normalize, _keys("monitor_url", "issue_url")),
    # A Chatbot (Amazon Q Developer in chat applications) custom notification, published to
    # a topic the queue is subscribed to: known by its `content` object.
    Format(chatbot.FORMAT, chatbot.matches, chatbot.normalize, _keys("content")),
    Format("airbrake", airbrake.matches, airbrake.normalize, _keys("airbrake_error_url")),
    Format(
        "threshold",
        generic.matches_threshold,
        generic.normalize_threshold,
        _keys("event_type"),
    ),
    # A PagerDuty Events API v2 or v1 event, or a Splunk On-Call REST body (no title), is read
    # as the generic alert it says.
    Format(
        "generic",
        generic.matches_generic,
        generic.normalize_generic,
        _keys("title", "event_action", "service_key", "entity_id"),
    ),
)


#: A top-level array of alerts, as posted to Alertmanager's API: known by its type alone, and
#: never an object, so it is not among the formats an object is tried against.
POSTED_ALERTS = Format("prometheus", prometheus.matches, prometheus.normalize)
#: A Lambda event of several records (`triage.decode.EventRecords`), known by its type alone:
#: each record's notification read as if it came alone.
EVENT_RECORDS = Format(lambda_events.FORMAT, lambda_events.matches, lambda_events.normalize)


@dataclass(frozen=True, slots=True)
class Recognised:
    """A body's canonical alerts and the name of the format (`FORMATS`) that read it."""

    format: str
    normalized: Normalized


def normalize_body(
    body: str | bytes,
    *,
    sentry_resource: str | None = None,
    attributes: Mapping[str, str] | None = None,
) -> Normalized:
    """Decode one message body and return its canonical alerts (or why it has none)."""
    return recognise_body(body, sentry_resource=sentry_resource, attributes=attributes).normalized


def recognise_body(
    body: str | bytes,
    *,
    sentry_resource: str | None = None,
    attributes: Mapping[str, str] | None = None,
) -> Recognised:
    """Like `normalize_body`, naming the format too. A body read before, byte for byte (an
    Alertmanager group notified again at each repeat_interval), is that reading again in
    copies of its alerts, without being decoded or normalised (`_remembered`). A Scheduler
    dead letter is read from its `attributes` (`aws_scheduler`), never remembered."""
    if attributes and aws_scheduler.is_dead_letter(attributes):
        return _scheduler_dead_letter(body, attributes)
    if attributes and aws_rule_dead_letter.is_dead_letter(attributes):
        name = aws_rule_dead_letter.FORMAT
        read = _parse(name, lambda _: aws_rule_dead_letter.normalize(body, attributes), {})
        return Recognised(name, read)
    if attributes and aws_bus_dead_letter.is_dead_letter(attributes, body):
        name = aws_bus_dead_letter.FORMAT
        read = _parse(name, lambda _: aws_bus_dead_letter.normalize(body, attributes), {})
        return Recognised(name, read)
    if not isinstance(body, str | bytes) or len(body) > _REMEMBERED_CHARS:
        return _read_body(body, sentry_resource)  # a bytearray cannot be a key
    if common.watching():
        # Read inside another body's reading (a Lambda record's event): that reading's watch
        # must see what this one does with the clock, and the memo would hide it.
        return _read_body(body, sentry_resource)
    key = (body, sentry_resource)
    known = _remembered.get(key)
    if known is not None:
        read = known.normalized
        alerts = tuple(alert.model_copy() for alert in read.alerts)
        return Recognised(known.format, Normalized(alerts, read.skipped, read.notes))
    asked, token = common.watch_clock()
    try:
        recognised = _read_body(body, sentry_resource)
    finally:
        common.unwatch_clock(token)
    if not asked:  # the same for every sending: an alert that states no time is dated anew
        _remember(key, recognised)
    return recognised


def _scheduler_dead_letter(body: str | bytes, attributes: Mapping[str, str]) -> Recognised:
    """The failure a Scheduler dead letter's attributes say (`aws_scheduler`)."""
    name = aws_scheduler.FORMAT
    return Recognised(name, _parse(name, lambda _: aws_scheduler.normalize(body, attributes), {}))


#: A storm's repeats are often one notification sent again byte for byte: what each body gave
#: is remembered by the body itself (and the Sentry hint it came with), at most
#: `_REMEMBERED_KEPT`, the oldest forgotten first, and only for bodies of at most
#: `_REMEMBERED_CHARS` characters (or bytes), so it keeps about a megabyte of text at most.
#: A reading that asked the clock (an alert dated by its message's queueing, or one read
#: against the time) is not remembered: each sending is read again. Generic alerts that
#: differ in a field they do not read have a memo of their own (`generic._remembered`).
_remembered: dict[tuple[str | bytes, str | None], Recognised] = {}
_REMEMBERED_KEPT = 128
_REMEMBERED_CHARS = 8_192
#: The gateway reads bodies on worker threads.
_REMEMBERING = threading.Lock()


def _remember(key: tuple[str | bytes, str | None], recognised: Recognised) -> None:
    with _REMEMBERING:
        if len(_remembered) >= _REMEMBERED_KEPT:
            _remembered.pop(next(iter(_remembered)), None)
        _remembered[key] = recognised


def _read_body(body: str | bytes, sentry_resource: str | None) -> Recognised:
    """`recognise_body`'s reading of `body`, from nothing: its alerts, else, for a Lambda
    asynchronous invocation's failure record whose event is no alert, the function's failure
    (and for one whose event is an alert, that alert naming the function's failure; one whose
    event is an alert that cannot be read, the function's failure too)."""
    try:
        read = _read_alerts(body, sentry_resource)
    except (DecodeError, UnknownFormatError, InvalidAlertError):
        failed = _failed_invocation(body)
        if failed is None:
            raise
    else:
        failed = _failed_invocation(body) if _may_hold_record(body) else None
        if failed is None:
            return read
        return Recognised(
            read.format, aws_lambda_destinations.with_failure(read.normalized, failed)
        )
    name = aws_lambda_destinations.ASYNC_FAILURE
    return Recognised(name, _parse(name, aws_lambda_destinations.normalize_failure_record, failed))


#: The key every Lambda invocation record holds: a body without it holds none.
_RECORD_KEY = "requestPayload"


def _may_hold_record(body: str | bytes) -> bool:
    """Whether `body` may be a Lambda invocation record (one read as the alert its event is):
    only such a body is read again (`_failed_invocation`)."""
    if isinstance(body, bytes | bytearray):
        return _RECORD_KEY.encode() in body
    return _RECORD_KEY in body


def _failed_invocation(body: str | bytes) -> dict[str, Any] | None:
    """The on-failure record of a Lambda asynchronous invocation `body` is (read again: only
    once its event could not be read as an alert), or None: an on-success record's event that
    is no alert stays refused as it was."""
    try:
        record = invocation_record(encodings.as_text(body))
    except DecodeError:
        return None
    if record is None or not aws_lambda_destinations.is_async_failure(record):
        return None
    return record


def _read_alerts(body: str | bytes, sentry_resource: str | None) -> Recognised:
    """The alerts `body` carries, or why it carries none."""
    try:
        payload, envelope = decode_envelope(encodings.as_text(body))
    except DecodeError as exc:
        if _is_text(body):
            raise DecodeError(f"{exc}; {RAW_TEXT_HINT}") from None
        if _cut_short(body):
            raise DecodeError(f"{exc}; {CUT_SHORT_HINT}") from None
        raise
    except TriageError:
        raise
    except Exception as exc:  # a decoder bug must still reach the DLQ as a permanent failure
        raise DecodeError(f"body could not be decoded ({type(exc).__name__})") from exc
    resource = sentry.resource_hint(sentry_resource)
    if resource is not None and sentry.matches_hinted(payload):
        parsed = _parse("sentry", lambda p: sentry.normalize(p, resource), payload)
        return Recognised("sentry", parsed)
    try:
        return _recognise(payload)
    except UnknownFormatError as exc:
        # The innermost notification's topic: a notice forwarded through a second topic is
        # keyed by its own account and region, as when it is sent once.
        if aws_notices.matches(payload):
            return _aws_notice(payload, envelope)
        if aws_s3.is_test_event(payload):
            return Recognised("s3-test-event", aws_s3.skip_test_event(payload))
        _refuse_s3_notification(payload, exc)
        if envelope is not None:
            raise UnknownFormatError(f"{exc}; {AWS_SNS_HINT}") from None
        raise


def _refuse_s3_notification(payload: dict[str, Any], unknown: UnknownFormatError) -> None:
    """An S3 event notification refused saying what it is, ahead of the generic reason (a
    reason cut short, as the gateway's 422 keeps 300 characters, keeps what matters)."""
    records = aws_s3.notification_records(payload)
    if records:
        raise UnknownFormatError(f"{aws_s3.refusal(records)}; {unknown}") from None


#: What an unknown JSON message inside an SNS notification most likely is, and what to do.
AWS_SNS_HINT = (
    "an SNS notification that an AWS service published itself is read only from RDS, "
    "DocumentDB, Neptune, DMS, Redshift, Auto Scaling, ElastiCache, MemoryDB, Inspector classic, "
    "CodeDeploy triggers, Run Command, AWS Config, Cost Anomaly Detection, DevOps Guru and "
    "CodeStar notification rules: send other services' events to the queue through an EventBridge rule "
    "instead, which triage reads"
)


#: What a body of text rather than JSON most likely is, and what to do.
RAW_TEXT_HINT = (
    "the body is text: an SNS subscription with raw message delivery sends a text message "
    "(AWS Backup, Budgets, a script's sns publish) without SNS's envelope; turn raw delivery "
    "off and triage reads it as an SNS text alert"
)


def _is_text(body: str | bytes) -> bool:
    """Whether `body` is text that is no JSON at all (read again: only for an error), rather
    than broken or misplaced JSON, which its own error describes."""
    try:
        text = bytes(body).decode("utf-8") if isinstance(body, bytes | bytearray) else body
    except UnicodeDecodeError:
        return False
    stripped = text.lstrip("\ufeff \t\r\n")
    if not stripped or stripped[0] in '{["':
        return False
    try:
        json.loads(stripped)
    except (ValueError, RecursionError):
        return True
    return False


#: What a body whose JSON stops before it is complete most likely is, and what to do.
CUT_SHORT_HINT = (
    "the body ends before its JSON does: it was cut short (a sender's or proxy's size limit, "
    "or a body sent in part); send it whole"
)


def _cut_short(body: str | bytes) -> bool:
    """Whether `body` (read again: only for an error) is JSON that stops before it is complete:
    its parser ran out of text, or a string it opened never closed."""
    try:
        text = encodings.as_text(body)
        if isinstance(text, bytes | bytearray):
            text = bytes(text).decode("utf-8")
    except (DecodeError, UnicodeDecodeError):
        return False
    stripped = text.lstrip("\ufeff \t\r\n").rstrip()
    if not stripped or stripped[0] not in "{[":
        return False
    try:
        json.loads(stripped)
    except json.JSONDecodeError as exc:
        return exc.pos >= len(stripped) or exc.msg.startswith("Unterminated string")
    except (ValueError, RecursionError):
        return False
    return False


def _aws_notice(payload: dict[str, Any], envelope: dict[str, Any] | None) -> Recognised:
    """A notice an AWS service published itself (`aws_notices`), tried only once no format
    read the body, so those formats' alerts stay as they are."""
    parsed = _parse("aws-notice", lambda p: aws_notices.normalize(p, envelope), payload)
    return Recognised("aws-notice", parsed)


def normalize_payload(payload: dict[str, Any]) -> Normalized:
    """Canonical alerts of an already decoded (and SNS-unwrapped) alert object; an AWS
    service's notice is read without its topic (`aws_notices`)."""
    try:
        return _recognise(payload).normalized
    except UnknownFormatError as exc:
        if aws_notices.matches(payload):
            return _aws_notice(payload, None).normalized
        if aws_s3.is_test_event(payload):
            return aws_s3.skip_test_event(payload)
        _refuse_s3_notification(payload, exc)
        raise


#: In the order they are tried: the formats a body with each top-level key is offered (the
#: formats whose `keys` hold it), and the formats offered every body (`keys` None).
_IN_ORDER = (POSTED_ALERTS, EVENT_RECORDS, *FORMATS)


def _by_key() -> dict[str, frozenset[int]]:
    by_key: dict[str, frozenset[int]] = {}
    for index, fmt in enumerate(_IN_ORDER):
        for key in fmt.keys or ():
            by_key[key] = by_key.get(key, frozenset()) | {index}
    return by_key


_BY_KEY = _by_key()
_EVERY_BODY = frozenset(i for i, fmt in enumerate(_IN_ORDER) if fmt.keys is None)


def _tried(payload: dict[str, Any]) -> list[Format]:
    """The formats `payload` is offered, in `FORMATS` order: those it has a key of, and those
    offered every body. What the others' recognisers need is not there, so the first that
    matches is the one trying every format in turn would find (~1 us against ~5)."""
    indexes = set(_EVERY_BODY)
    if len(payload) <= len(_BY_KEY):
        for key in payload:
            found = _BY_KEY.get(key)
            if found is not None:
                indexes |= found
    else:  # a body of many keys is looked up the other way: as many steps as formats' keys
        for key, found in _BY_KEY.items():
            if key in payload:
                indexes |= found
    return [_IN_ORDER[i] for i in sorted(indexes)]


def _recognise(payload: dict[str, Any]) -> Recognised:
    for fmt in _tried(payload):
        if fmt.matches(payload):
            return Recognised(fmt.name, _parse(fmt.name, fmt.parse, payload))
    tried = ", ".join(fmt.name for fmt in FORMATS)
    keys = ", ".join(common.short(key, 40) for key in list(payload)[:10]) or "none"
    # The keys first: they tell the sender what was sent, and a reason cut short (the
    # gateway's 422 keeps 300 characters) loses the long list of formats instead.
    raise UnknownFormatError(
        f"no known alert format matches;{_misspelt(payload)} top-level keys: {keys}; "
        f"{GENERIC_HINT} (tried {tried})"
    )


#: What a tool with no format of its own must send to be read as a generic alert.
GENERIC_HINT = (
    "a tool without its own format is read when it sends a title (with a status firing or "
    "resolved, and a dedup_key so its resolve closes its firing)"
)


#: Each key a format is known by, by its lower-case spelling.
_KNOWN_KEYS = {key.lower(): key for key in sorted(_BY_KEY)}


def _misspelt(payload: dict[str, Any]) -> str:
    """The keys of an unread body that are a format's key in another case (PowerShell's
    `Title`, a shell's `TITLE`), named first: keys are read as spelt, and the sender can
    fix the one that kept the body from being read ("" when there is none)."""
    found = [
        (key, _KNOWN_KEYS[key.lower()])
        for key in payload
        if isinstance(key, str)
        and key not in _BY_KEY
        and key.lower() in _KNOWN_KEYS
        and _KNOWN_KEYS[key.lower()] not in payload  # sent as spelt too: not what kept it out
    ]
    said = ", ".join(f"{common.short(key, 40)} is not {known!r}" for key, known in found[:3])
    return f" {said} (keys are read as spelt);" if said else ""


def _parse(
    name: str, parse: Callable[[dict[str, Any]], Normalized], payload: dict[str, Any]
) -> Normalized:
    """`parse(payload)`, with any failure other than our own errors an InvalidAlertError naming
    the format (the model holds each identity to its limit)."""
    try:
        return parse(payload)
    except TriageError:
        raise
    except pydantic.ValidationError as exc:
        fields = ", ".join(".".join(map(str, e["loc"])) for e in exc.errors()[:5])
        raise InvalidAlertError(f"{name}: invalid alert fields: {fields}") from exc
    except Exception as exc:
        # Every field is validated on the way in; whatever slips through is still this
        # message's fault, and retrying it cannot help.
        raise InvalidAlertError(
            f"{name}: malformed payload ({type(exc).__name__}: {common.short(str(exc))})"
        ) from exc
