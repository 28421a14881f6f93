"""Message body → one JSON object, with the SNS envelope unwrapped.

An object's JSON that a forwarder encoded again as a JSON string (`"{\"AlarmName\": …}"`), as
the body or as an SNS Message, is read as that object, once (encoded more often, it is a
DecodeError naming how often). So is an SNS notification that a
forwarder published again to a second topic (SNS inside SNS): the notification inside is read
as if it came alone, its own topic kept; a third envelope is a DecodeError.

A Lambda event queued whole (SNS → Lambda → SQS, a function's dead-letter queue) is read as the
notifications its records carry: an SNS record's `Sns` and an SQS record's `body`, each as if it
came alone. So is what an EventBridge Pipe from another queue sends (one SQS record, or an
array of them), and the event inside a Lambda destination's invocation record (its
`requestPayload`, once; `invocation_record` gives the record itself back, for a record whose
event is no alert: `triage.normalize` reads it as the function's failure). An event of one record is that record's notification; one of
several comes back as an `EventRecords` (each record's text, for `normalize.lambda_events`). At
most `MAX_EVENT_RECORDS` records, one level of them, all of one source (`aws:sns` or `aws:sqs`);
anything else is a DecodeError naming the record. In a batch, a record whose notification cannot
be read (no body, a body that is not JSON, records inside it) is its own DecodeError, in its
place among the texts, and is left out with a note; only a batch of which no record can be read
is refused. An event of other records (S3's) is left as it is, no alert format.

One top-level array is read too: the alerts Prometheus, vmalert and other rule evaluators post to
Alertmanager's API (`POST /api/v2/alerts`, `[{"labels": …, "endsAt": …}, …]`). It comes back
as a `PostedAlerts`, `{"alerts": [...]}`, which only this module makes, so no object a sender
writes can pass for one.

Rejects with DecodeError, before any alert code sees them: empty bodies (said so, not as the
parser's "Expecting value"), bodies over 1 MiB, bodies that are not
UTF-8 JSON (NaN and Infinity included, and numbers too large for a float: 1e999), JSON whose top
level is neither an object nor such an array of alerts (or of SQS records), JSON whose object
gives one key twice (named, with the object's path: readers differ on which value wins), and
JSON nested deeper than 64 levels. Depth is measured by a linear scan of the text *before* parsing, so
`[[[[…` never reaches `json.loads`' recursion. SNS subscription and unsubscription confirmations
are returned as the envelope itself; `normalize_body` turns them into a Skipped. So is a
notification whose Message is text (it does not start with `{` or `[`): `normalize_body` reads
it as an SNS text alert.
"""

from __future__ import annotations

import json
import math
import re
import sys
from collections.abc import Iterable
from itertools import accumulate
from typing import Any

from triage.errors import DecodeError
from triage.redact import redact

MAX_BODY_BYTES = 1_048_576  # SQS's own ceiling: anything bigger did not come from the queue
MAX_DEPTH = 64  # the deepest real alert (a CloudWatch metric-math event) is under 10

#: SNS envelopes read around one alert: its own, and one more when a forwarder (a Lambda
#: fanning accounts in) published the whole notification again to a second topic.
MAX_SNS_ENVELOPES = 2

SNS_NOTIFICATION = "Notification"
SNS_CONFIRMATIONS = frozenset({"SubscriptionConfirmation", "UnsubscribeConfirmation"})

# One escape sequence (backslash + the character after it); consumed pairwise from the left, so
# an escaped backslash never makes the following quote look escaped. Linear: no nested repeats.
_ESCAPE = re.compile(r"\\.", re.DOTALL)
_NOT_BRACKET = re.compile(r"[^\[\]{}]+")
_DEPTH_STEP = {"[": 1, "{": 1, "]": -1, "}": -1}
# A \uD800..\uDFFF escape may decode to a lone surrogate, which no UTF-8 encoder will accept later.
_SURROGATE_ESCAPE = re.compile(r"\\u[dD][89a-fA-F]")


class PostedAlerts(dict[str, Any]):
    """A body that is a JSON array of alert objects, as `{"alerts": [...]}`: what a rule
    evaluator posts to Alertmanager's API. A type of its own rather than a marker key, so a
    sender's object can never claim to be one."""


def decode_body(body: str | bytes) -> dict[str, Any]:
    """The alert object a body carries: the SNS `Message` when enveloped (the innermost one,
    when forwarded through a second topic), a `PostedAlerts` for an array of alerts, else the
    body itself."""
    return decode_envelope(body)[0]


def decode_envelope(body: str | bytes) -> tuple[dict[str, Any], dict[str, Any] | None]:
    """`decode_body`'s alert object, and the SNS notification it came in (the innermost one,
    when forwarded: its topic is the alert's own), or None when it came in none. A Lambda
    event of one record is that record's notification; of several, an `EventRecords`."""
    value = _invoked_with(load_json(_as_text(body), "body"))
    return _decoded(value, "body", records=True)


#: An alert object, and the SNS notification it came in (None when it came in none).
_Decoded = tuple[dict[str, Any], dict[str, Any] | None]


def _decoded(value: Any, what: str, *, records: bool) -> _Decoded:
    """`decode_envelope` of parsed JSON; `records`: whether it may be a Lambda event (false
    for a record's own notification: one level of records is read)."""
    event = lambda_records(value)
    if event is None:
        if isinstance(value, list):
            return posted_alerts(value), None
        return _unwrapped(object_of(value, what))
    if not records:
        raise DecodeError(
            f"{what} is a Lambda event inside a Lambda event's record: one level of records "
            "is read; queue the innermost notification"
        )
    read = [_record_read(outcome, i) for i, outcome in enumerate(event_notifications(event))]
    if len(read) == 1:
        if isinstance(read[0], DecodeError):
            raise read[0]
        return read[0][1]
    unread = [outcome for outcome in read if isinstance(outcome, DecodeError)]
    if len(unread) == len(read):
        raise DecodeError(f"Lambda event: none of its {len(read)} records can be read; {unread[0]}")
    texts = [outcome if isinstance(outcome, DecodeError) else outcome[0] for outcome in read]
    return EventRecords(records=texts), None


def _record_read(
    notification: tuple[Any, str] | DecodeError, index: int
) -> tuple[str, _Decoded] | DecodeError:
    """Record `index`'s text and what it decodes to, or why it cannot be read (a nested
    event, a broken SNS Message): one record's error is its own, not its batch's."""
    if isinstance(notification, DecodeError):
        return notification
    parsed, text = notification
    try:
        # A record's notification is read as a body that came alone: a Lambda invocation
        # record queued to SQS and forwarded in an SQS record is the event it holds.
        return text, _decoded(_invoked_with(parsed), f"record [{index}]", records=False)
    except DecodeError as exc:
        return exc


def _unwrapped(
    payload: dict[str, Any], *, events: bool = True
) -> tuple[dict[str, Any], dict[str, Any] | None]:
    """`payload` without its SNS envelopes (`decode_envelope`); `events`: a Message that is a
    Lambda invocation record is the event it holds (`_event_of_record`), else the record."""
    envelope = None
    envelopes = 0
    while is_sns_envelope(payload) and payload["Type"] == SNS_NOTIFICATION:
        if envelopes == MAX_SNS_ENVELOPES:
            raise DecodeError(
                f"SNS notification inside {envelopes} others: at most {MAX_SNS_ENVELOPES} SNS "
                "envelopes are read (a notification forwarded once, through a second topic); "
                "have the forwarder publish the innermost Message"
            )
        message = payload.get("Message")
        if not isinstance(message, str):
            raise DecodeError("SNS notification has no Message string")
        if is_text_message(message):
            return payload, payload  # prose: `normalize.sns` reads the envelope itself
        envelope = payload
        what = "forwarded SNS Message" if envelopes else "SNS Message"
        payload = load_object(message, what)
        if events:
            payload = _event_of_record(payload)
        envelopes += 1
    return payload, envelope  # an alert, or an SNS confirmation (`normalize_body` skips it)


def _event_of_record(message: dict[str, Any]) -> dict[str, Any]:
    """An SNS Message that is a Lambda invocation record (a destination that is an SNS topic)
    read as the event it holds, as the record is when it comes alone: an object that is no
    Lambda event of records (which one level of `_decoded` reads). Any other Message, or a
    record of any other event (read as the function's failure, `invocation_record`), as it is."""
    if not is_invocation_record(message):
        return message
    event = message["requestPayload"]
    if isinstance(event, dict) and lambda_records(event) is None:
        return event
    return message


#: Lambda's event sources whose records carry a notification triage reads: an SNS record's
#: `Sns` (the notification SNS delivers to a queue, in Lambda's spelling) and an SQS record's
#: `body` (the message as queued).
LAMBDA_SNS = "aws:sns"
LAMBDA_SQS = "aws:sqs"
#: Records read from one Lambda event: an SNS event holds one, an SQS event a batch (10 unless
#: the function's batch size is raised). Each record is an alert or more: a bound on the work
#: one message can ask for.
MAX_EVENT_RECORDS = 100


class EventRecords(dict[str, Any]):
    """A Lambda event of several records, as `{"records": [text, ...]}`: each record's
    notification as the text of a message body that came alone (an SQS record's body as it
    is, an SNS record's notification as JSON). A type of its own, which only this module
    makes, so no object a sender writes can pass for one."""


def lambda_records(value: Any) -> list[Any] | None:
    """The records of a Lambda event that carries SNS or SQS records: its `Records`, an
    EventBridge Pipe's batch of SQS records (a JSON array of them) or one such record alone
    (a Pipe's single message); None for anything else (an S3 event included: it stays the
    unknown format it was)."""
    if isinstance(value, dict):
        if _is_lambda_record(value):
            return [value]
        value = value.get("Records")
    if isinstance(value, list) and any(map(_is_lambda_record, value)):
        return value
    return None


def event_notifications(records: list[Any]) -> list[tuple[Any, str] | DecodeError]:
    """The notifications a Lambda event's records carry, each as parsed JSON and as body
    text, or in its place the DecodeError (naming the record) saying why it cannot be read
    (no body, a body that is not JSON). Raised instead, for the whole event, when what the
    event is is in question: too many records, or a record of another kind than the first."""
    if len(records) > MAX_EVENT_RECORDS:
        raise DecodeError(
            f"Lambda event holds {len(records):,} records, over the limit of "
            f"{MAX_EVENT_RECORDS}: lower the batch size of the function that queues them"
        )
    first = _record_source(records[0])
    for index, record in enumerate(records):
        _check_source(record, index, first)
    return [_notification_or_error(record, i) for i, record in enumerate(records)]


def _invoked_with(value: Any) -> Any:
    """The event a Lambda invocation record holds (what an asynchronous invocation's on-failure
    or on-success destination receives: `requestContext`, `requestPayload`, `responseContext`),
    once; anything else as it is."""
    if not is_invocation_record(value):
        return value
    event = value["requestPayload"]
    if not isinstance(event, dict | list):
        raise DecodeError(
            f"Lambda invocation record's requestPayload is JSON {_kind(event)}, not the "
            "event the function was invoked with"
        )
    return event


def is_invocation_record(value: Any) -> bool:
    """A Lambda asynchronous invocation's record, as its destination receives it: the
    invocation's `requestContext`, the event (`requestPayload`) and its `responseContext`."""
    return (
        isinstance(value, dict)
        and isinstance(value.get("requestContext"), dict)
        and "requestPayload" in value
        and "responseContext" in value
    )


def invocation_record(body: str | bytes) -> dict[str, Any] | None:
    """The Lambda invocation record `body` is, sent alone, as an SNS notification's Message
    (a destination that is a topic the queue subscribes to) or as the notification of a Lambda
    event's one record (an SQS event a function forwards); None for any other body, or one
    that cannot be read. Read again only once the event inside could not be read as an alert:
    `triage.normalize` then reads the record itself (`aws_lambda_destinations`)."""
    try:
        value = _sole_notification(load_json(_as_text(body), "body"))
        if isinstance(value, dict) and not is_invocation_record(value):
            value = _unwrapped(value, events=False)[0]
    except DecodeError:
        return None
    return value if is_invocation_record(value) else None


def _sole_notification(value: Any) -> Any:
    """The notification of a Lambda event of one record (an SQS event, an EventBridge Pipe's
    record), as `decode_envelope` reads it; anything else as it is. An event of several
    records never needs it: each record's text is read again as a body of its own."""
    records = lambda_records(value)
    if records is None or len(records) != 1:
        return value
    return _notification(records[0], 0)[0]


def _is_lambda_record(record: Any) -> bool:
    return _record_source(record) in (LAMBDA_SNS, LAMBDA_SQS)


def _record_source(record: Any) -> Any:
    """A record's event source: SNS records spell it `EventSource`, SQS records `eventSource`."""
    if not isinstance(record, dict):
        return None
    return record.get("EventSource", record.get("eventSource"))


def _check_source(record: Any, index: int, first: Any) -> None:
    """DecodeError naming record `index` when it is of no source triage reads, or of another
    than the event's first (Lambda never mixes them)."""
    what = f"record [{index}]"
    source = _record_source(record)
    if source not in (LAMBDA_SNS, LAMBDA_SQS):
        named = source if _is_aws_source(source) else "of no source triage reads"
        raise DecodeError(
            f"Lambda event's {what} is {named}: only {LAMBDA_SNS} and {LAMBDA_SQS} records are read"
        )
    if source != first:
        raise DecodeError(
            f"Lambda event's {what} is {source} while record [0] is {first}: "
            "one Lambda event holds records of one source"
        )


def _notification_or_error(record: dict[str, Any], index: int) -> tuple[Any, str] | DecodeError:
    try:
        return _notification(record, index)
    except DecodeError as exc:
        return exc


def _notification(record: dict[str, Any], index: int) -> tuple[Any, str]:
    """Record `index`'s notification, parsed and as text (its source already checked);
    DecodeError naming the record when it carries none, or one that is not JSON."""
    what = f"record [{index}]"
    if _record_source(record) == LAMBDA_SQS:
        body = record.get("body")
        if not isinstance(body, str):
            raise DecodeError(f"Lambda event's {what} has no body string")
        return load_json(body, f"{what} body"), body
    notification = record.get("Sns")
    if not (
        isinstance(notification, dict)
        and is_sns_envelope(notification)
        and notification["Type"] == SNS_NOTIFICATION
    ):
        raise DecodeError(
            f"Lambda event's {what} has no SNS notification (Type, TopicArn, Message)"
        )
    # Compact and unescaped, the text is never longer than the body it was read from.
    return notification, json.dumps(notification, ensure_ascii=False, separators=(",", ":"))


#: An AWS event source's name ("aws:s3", "aws:dynamodb"): the only source an error repeats,
#: since a record's other text is the sender's and may hold anything.
_AWS_SOURCE = re.compile(r"aws:[a-z0-9.-]{1,40}")


def _is_aws_source(source: Any) -> bool:
    return isinstance(source, str) and _AWS_SOURCE.fullmatch(source) is not None


def is_text_message(message: str) -> bool:
    """An SNS Message that is text, not JSON: it does not start like an object or an array,
    nor is it an object's JSON encoded again as a JSON string. One that does is read (and
    refused) as JSON, a broken alert rather than prose."""
    stripped = message.lstrip(_LEADING)
    return not stripped.startswith(("{", "[")) and not _encodes_object(stripped)


_LEADING = "\ufeff \t\r\n"


def _encoded_object(text: str) -> str | None:
    """The JSON text inside `text` when `text` is a JSON string holding an object's JSON
    ("\"{\\\"AlarmName\\\": …}\"": a forwarder that serialised the JSON it already had);
    None for anything else. Read as its object, an alarm encoded twice keeps its state and
    fingerprint instead of becoming prose, or a refused string."""
    if not text.startswith('"'):
        return None
    try:
        value = _DECODER.decode(text)
    except (ValueError, RecursionError):
        return None
    if isinstance(value, str) and value.lstrip(_LEADING).startswith("{"):
        return value
    return None


def _encodes_object(text: str) -> bool:
    """Whether `text` is an object's JSON inside JSON strings, once (`_encoded_object`: read as
    that object) or more (refused by `object_of` as a string, not an object): an alarm that
    forwarders encoded over and over is a broken alert, never prose whose Subject would open
    an incident apart from the alarm's, with its OK another."""
    for _ in range(_ENCODINGS_SEEN):
        encoded = _encoded_object(text)
        if encoded is not None:
            return True
        if not text.startswith('"'):
            return False
        try:
            value = _DECODER.decode(text)
        except (ValueError, RecursionError):
            return False
        if not isinstance(value, str):
            return False
        text = value.lstrip(_LEADING)
    return False


#: How deep in JSON strings an object's JSON is still seen as one (and refused) in a Message.
_ENCODINGS_SEEN = 3


def is_sns_envelope(payload: dict[str, Any]) -> bool:
    """True for an SNS notification or confirmation as SNS delivers it to SQS (not raw delivery)."""
    kind = payload.get("Type")
    return (
        isinstance(kind, str)
        and (kind == SNS_NOTIFICATION or kind in SNS_CONFIRMATIONS)
        and isinstance(payload.get("TopicArn"), str)
        and "Message" in payload
    )


def posted_alerts(value: list[Any]) -> PostedAlerts:
    """A top-level array as the alerts it posts: at least one item an object with a `labels`
    object. Any other item (no object, or no labels) is left out by the normaliser with a note,
    as one unreadable alert of a group is, and the others are read. An empty array is an empty
    batch, which Alertmanager's API accepts too. Any other array is no alert format:
    DecodeError saying what it holds (its first item that is no object, if any)."""
    if not value or any(_has_labels(item) for item in value):
        return PostedAlerts(alerts=value)
    for i, item in enumerate(value):
        if not isinstance(item, dict):
            raise DecodeError(
                f"body is a JSON array whose item [{i}] is {_kind(item)}: the only array read "
                "is a list of alert objects, as posted to Alertmanager's /api/v2/alerts"
            )
    raise DecodeError(
        f"body is a JSON array of {len(value)} object(s), none with a labels object: the "
        "only array read is a list of alerts, as posted to Alertmanager's /api/v2/alerts"
    )


def _has_labels(item: Any) -> bool:
    return isinstance(item, dict) and isinstance(item.get("labels"), dict)


def load_object(text: str, what: str) -> dict[str, Any]:
    """Parse JSON text that must be an object, refusing deep nesting before the parser sees it."""
    return object_of(load_json(text, what), what)


def object_of(value: Any, what: str) -> dict[str, Any]:
    """`value`, parsed JSON, as an object: an object's JSON encoded again as a string is read
    as that object, once; anything else is a DecodeError."""
    if isinstance(value, str) and value.lstrip(_LEADING).startswith("{"):
        # An object's JSON encoded again as a string (`_encoded_object`): its object, once.
        return load_object(value.lstrip(_LEADING), f"{what} (JSON encoded twice)")
    if not isinstance(value, dict):
        times = _times_encoded(value) if isinstance(value, str) else None
        if times is not None:
            raise DecodeError(
                f"{what} is an object's JSON encoded {times + 1} times (a JSON string inside a "
                "JSON string): one encoding more than the object's own is read; have the "
                "sender encode the object once"
            )
        raise DecodeError(f"{what} is JSON {_kind(value)}, not an object")
    result: dict[str, Any] = value
    return result


#: Encodings counted around an object before a string is called just a string.
_ENCODINGS_COUNTED = 16


def _times_encoded(text: str) -> int | None:
    """How many times `text` (a JSON string's value) encodes an object's JSON, as a JSON string
    inside JSON strings (`"\\"{…}\\""`), when it does: the error names it, so a sender that
    encodes what it already encoded learns what it did. None for anything else. Read only on
    the way to an error."""
    for times in range(1, _ENCODINGS_COUNTED + 1):
        text = text.lstrip(_LEADING)
        if text.startswith("{"):
            return times
        if not text.startswith('"'):
            return None
        try:
            value = _DECODER.decode(text)
        except ValueError:
            return None
        if not isinstance(value, str):
            return None
        text = value
    return None


def load_json(text: str, what: str) -> Any:
    """Parse JSON text, refusing deep nesting before the parser sees it; lone surrogates in
    its strings become U+FFFD."""
    text = text.removeprefix("\ufeff")  # a byte-order mark, inside an envelope too (SNS)
    # Nesting can be no deeper than the number of opening brackets: most bodies have too few
    # to need the scan (two C-speed counts instead).
    depth = nesting_depth(text) if text.count("{") + text.count("[") > MAX_DEPTH else 0
    if depth > MAX_DEPTH:
        raise DecodeError(f"{what} is nested {depth} levels deep, over the limit of {MAX_DEPTH}")
    try:
        value = _DECODER.decode(text)
    except RecursionError:  # unreachable after the scan; kept so it can never escape
        raise DecodeError(f"{what} is nested too deeply") from None
    except _RepeatedKey:
        raise DecodeError(repeated_key_said(text, what)) from None
    except ValueError as exc:  # JSONDecodeError, NaN/Infinity, ints over 4,300 digits
        if not text.strip():  # the parser would say "Expecting value: line 1 column 1"
            held = "only whitespace" if text else "0 bytes"
            raise DecodeError(f"{what} is empty ({held}): there is no JSON in it") from None
        raise DecodeError(f"{what} is not valid JSON: {_first_line(exc)}") from None
    if _may_hold_lone_surrogates(text):
        value = _replace_lone_surrogates(value)
    return value


def nesting_depth(text: str) -> int:
    """Deepest bracket nesting outside string literals, in linear time and without recursion."""
    unescaped = _ESCAPE.sub("", text)  # no escaped quote is left to fool the split below
    outside_strings = "".join(unescaped.split('"')[::2])
    brackets = _NOT_BRACKET.sub("", outside_strings)
    return max(accumulate(map(_DEPTH_STEP.__getitem__, brackets)), default=0)


def _as_text(body: str | bytes) -> str:
    if isinstance(body, bytes | bytearray):
        if len(body) > MAX_BODY_BYTES:
            raise DecodeError(_too_large(len(body)))
        try:
            text = bytes(body).decode("utf-8")
        except UnicodeDecodeError as exc:
            raise DecodeError(f"body is not UTF-8: {exc.reason} at byte {exc.start}") from None
    elif isinstance(body, str):
        text = body
        # Each code point is 1 to 4 bytes: only a body longer than a quarter MiB needs measuring.
        if len(text) * 4 > MAX_BODY_BYTES:
            size = len(text)
            if size <= MAX_BODY_BYTES:
                size = len(text.encode("utf-8", "surrogatepass"))
            if size > MAX_BODY_BYTES:
                raise DecodeError(_too_large(size))
    else:
        raise DecodeError(f"body is a {type(body).__name__}, not text")
    return text.removeprefix("\ufeff")  # a byte-order mark some editors and tools prepend


def _kind(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int | float):
        return "a number"
    return "a string" if isinstance(value, str) else "an array"


def _too_large(size: int) -> str:
    return f"body is at least {size:,} bytes, over the {MAX_BODY_BYTES:,}-byte limit"


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a JSON value")


def _finite(text: str) -> float:
    """A JSON number with a fraction or exponent; one too large for a float (1e999) would
    become infinity, which JSON cannot carry: refused like the Infinity literal."""
    number = float(text)
    if math.isinf(number):
        raise ValueError(f"{text[:40]} is too large a number")
    return number


class _RepeatedKey(ValueError):
    """An object gave a key twice (only `load_json` sees it: it becomes a DecodeError)."""


def _unique_keys(pairs: list[tuple[str, Any]], dict: type[dict[str, Any]] = dict) -> Any:
    # Built at C speed, then one length compare: most of what the check costs is this call.
    # (`dict` as a default argument: a local name, not a global one, on every object.)
    value = dict(pairs)
    if len(value) != len(pairs):
        raise _RepeatedKey
    return value


#: One decoder for every body: `json.loads` with a keyword builds a new one (and its scanner)
#: on each call. Each key once per object (RFC 8259 §4's SHOULD, made a MUST): parsers keep
#: the first or the last of two, so `"status": "firing", …, "status": "resolved"` would be
#: one alert to triage and another to whatever else reads it.
_DECODER = json.JSONDecoder(
    parse_constant=_reject_constant, parse_float=_finite, object_pairs_hook=_unique_keys
)


class _Repeats(dict[str, Any]):
    """An object read on the way to a repeated key's error, with the keys it was given more
    than once (`repeated`, in order)."""

    repeated: list[str]

    @classmethod
    def of(cls, pairs: list[tuple[str, Any]]) -> _Repeats:
        value = cls(pairs)
        value.repeated = []
        if len(value) != len(pairs):
            seen: set[str] = set()
            for key, _ in pairs:
                if key in seen and key not in value.repeated:
                    value.repeated.append(key)
                seen.add(key)
        return value


_FINDING_REPEATS = json.JSONDecoder(
    parse_constant=_reject_constant, parse_float=_finite, object_pairs_hook=_Repeats.of
)


def repeated_key_said(text: str, what: str) -> str:
    """Why `text` (whose objects give a key twice) is refused: the first such object, in the
    order the text reads, its path and the key, quoted safely (keys are the sender's text).
    Read again, only on the way to the error."""
    found = _first_repeat(_FINDING_REPEATS.decode(text), [])
    if found is None:  # unreachable: the first reading met the same keys
        return f"{what} gives a key twice in one object: send each key once"
    path, key = found
    where = f"the object at {_path_said(path)}" if path else "its top-level object"
    return (
        f"{what} has the key {_key_said(key)} twice in {where}: JSON readers keep either "
        "value (Python's the last, others the first), so what it says is ambiguous; send "
        "each key once"
    )


def _first_repeat(value: Any, path: list[str | int]) -> tuple[list[str | int], str] | None:
    """The path of the first object (depth first, in text order) that repeats a key, and the
    key. Recursion is safe: depth was checked against MAX_DEPTH before parsing."""
    if isinstance(value, _Repeats) and value.repeated:
        return path, value.repeated[0]
    if isinstance(value, dict):
        children: Iterable[tuple[str | int, Any]] = value.items()
    else:
        children = enumerate(value) if isinstance(value, list) else ()
    for step, child in children:
        found = _first_repeat(child, [*path, step])
        if found is not None:
            return found
    return None


#: A key shown as it is (`.labels`) in a path; any other is quoted (`["a key"]`).
_PLAIN_KEY = re.compile(r"[A-Za-z_][A-Za-z0-9_-]{0,39}")
#: Steps of a path named: its first and its last ones, when there are more.
_PATH_HEAD = 3
_PATH_TAIL = 3
#: Characters of a key quoted: enough for any real key's name (fewer for a path's steps).
_KEY_SHOWN = 40
_STEP_SHOWN = 20


def _path_said(path: list[str | int]) -> str:
    """`alerts[1].labels`; a deep path as its first and last steps around an ellipsis."""
    steps = [f"[{step}]" if isinstance(step, int) else _step_said(step) for step in path]
    if len(steps) > _PATH_HEAD + _PATH_TAIL:
        steps = [*steps[:_PATH_HEAD], ".…", *steps[-_PATH_TAIL:]]
    return "".join(steps).removeprefix(".")


def _step_said(key: str) -> str:
    if _PLAIN_KEY.fullmatch(key) and redact(key) == key:
        return f".{key}"
    return f"[{_key_said(key, _STEP_SHOWN)}]"


def _key_said(key: str, limit: int = _KEY_SHOWN) -> str:
    """`key` as an error quotes it: redacted before it is cut (a cut token no longer has the
    shape the redactor knows), then JSON-escaped to ASCII, so no control or bidi character
    reaches a log line."""
    shown = redact(key)
    if len(shown) > limit:
        shown = shown[: limit - 3] + "..."
    return json.dumps(shown)


def _first_line(exc: ValueError) -> str:
    text = str(exc)
    if "integer string conversion" in text:  # Python's advice to raise its limit is not ours
        return f"a number over {sys.get_int_max_str_digits():,} digits"
    return text.splitlines()[0][:200] if text else type(exc).__name__


def _may_hold_lone_surrogates(text: str) -> bool:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return True
    return _SURROGATE_ESCAPE.search(text) is not None


def _replace_lone_surrogates(value: Any) -> Any:
    """Swap lone surrogates for U+FFFD so the payload can be stored and logged as UTF-8.

    Recursion is safe here: depth was checked against MAX_DEPTH before parsing.
    """
    if isinstance(value, str):
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            return "".join("\ufffd" if "\ud800" <= ch <= "\udfff" else ch for ch in value)
        return value
    if isinstance(value, dict):
        return {_replace_lone_surrogates(k): _replace_lone_surrogates(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_replace_lone_surrogates(v) for v in value]
    return value
