"""Edge validation: the daemon's own normaliser reads each body before it is queued, so a
misconfigured sender sees at once, in the 422 answer, what the DLQ would have told an operator
days later.

A body is read in the charset its Content-Type declares (one of `CHARSETS`; UTF-8 when it
declares none) and queued as the same text, which SQS carries as UTF-8; a character SQS cannot
carry (U+FFFE, U+FFFF) goes as its JSON escape, the same value. It is refused when it is not
JSON in that charset that a normaliser reads, or when its format belongs to another source than
the path's (an Alertmanager payload posted to `/v1/alerts/sentry`, or a webhook group posted to
Alertmanager's API path, which takes only an array of alerts: `API_FORMATS`). The reason quotes
at most a few words of the body, redacted and cut to one short line. A valid body without alerts
(Grafana's test notification, a Sentry installation webhook) is accepted: it is queued like any
other and the daemon logs it as skipped, so a contact point's Test button proves the whole path.

A body sent as an HTML form (`application/x-www-form-urlencoded`, as StatusCake posts its
webhook, or `multipart/form-data`, read by ingest/multipart.py), and the fields of a request
whose body is blank that carries them in its query string (ingest/query.py), are queued as the JSON
object of their fields (`fields_json`), the only body the daemon reads; a form whose one field
is `payload`, holding JSON (GitHub's and Travis CI's form webhooks, Plex's multipart), is
queued as that JSON. A form that carries a webhook's JSON in one field beside others
(ingest/carried.py: Slack- and Mattermost-style `payload` beside `token` or `channel`, Uptime
Kuma's `data`) is queued as that JSON when nothing but credentials came beside it, and
otherwise only when its own fields are no alert, with them beside the JSON's keys: a form read
by its fields stays read so. A urlencoded body that is JSON all the same (`curl -d '{…}'` labels its
JSON a form) is read as JSON. A body whose bytes show it is UTF-16 (a byte-order mark, or a
zero byte beside each of its first two characters) is read in that UTF-16, whatever charset it
declares: neither can begin UTF-8 JSON. A body (or multipart field) labelled UTF-16 whose bytes
are UTF-8 (no zero byte, which UTF-16 JSON always holds, or UTF-8's mark) is read as UTF-8, as
its sender meant (`_utf8_under_utf16`, `_field_codec`). Every Latin-1 label (and US-ASCII) reads as
windows-1252, as browsers read it (`WINDOWS_1252`), and a body (a form's escapes, a multipart field) so labelled whose
bytes hold non-ASCII and read as UTF-8 is read as UTF-8, which its sender meant (`meant_codec`).
"""

from __future__ import annotations

import asyncio
import codecs
import contextlib
import contextvars
import functools
import json
import re
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, replace
from encodings import cp1252
from typing import TypeVar
from urllib.parse import parse_qsl

from triage.decode import EventRecords, PostedAlerts, decode_body
from triage.errors import TriageError
from triage.ingest import several
from triage.ingest.carried import Carried, carried_among
from triage.ingest.credentials import sift
from triage.ingest.encoding import quoted_header_value
from triage.ingest.multipart import FormError, UnreadPart
from triage.ingest.multipart import fields as multipart_fields
from triage.ingest.several import BadBatch, TooManyAlerts, alert_texts
from triage.ingest_tokens import SOURCES
from triage.normalize import RAW_TEXT_HINT, recognise_body
from triage.normalize.common import cut
from triage.normalize.encodings import GZIP_MAGIC, GZIP_UNLABELLED

#: Formats (`triage.normalize.FORMATS`) each webhook path accepts.
ACCEPTED_FORMATS: dict[str, frozenset[str]] = {
    "grafana": frozenset({"grafana", "grafana-legacy"}),
    # A webhook group, or the array of alerts Prometheus posts to Alertmanager's API.
    "alertmanager": frozenset({"alertmanager", "prometheus"}),
    "sentry": frozenset({"sentry"}),
    # The legacy Sentry plugin cannot sign: it posts here, the token in its URL (Basic); so do
    # a project's service hooks (they sign with their own secret, not the integration's).
    # Other tools' webhooks (Datadog, Opsgenie, PagerDuty, New Relic and its legacy channels,
    # Azure Monitor, Google Cloud Monitoring, Uptime Kuma, Splunk and Splunk Observability
    # Cloud, Rollbar, Honeybadger, Bugsnag, Pingdom, Dynatrace,
    # Honeycomb, Grafana OnCall, StatusCake, Better Stack, UptimeRobot, Checkly, Raygun,
    # Statuspage, Kapacitor, Freshping, Graylog, Librato and AppOptics, Site24x7, Netdata,
    # GitHub Actions' workflow runs, Cronitor, Airbrake) post here too, and so does a script
    # that posts the custom notification it publishes for Chatbot.
    "generic": frozenset(
        {"generic", "sentry-plugin", "sentry-service-hook", "datadog", "opsgenie"}
        | {"pagerduty"}
        | {"newrelic", "newrelic-legacy", "azure", "gcp", "uptimekuma", "splunk", "splunk-o11y"}
        | {"rollbar", "honeybadger", "bugsnag", "pingdom", "dynatrace", "honeycomb"}
        | {"grafana-oncall", "statuscake", "betterstack", "uptimerobot", "checkly", "raygun"}
        | {"statuspage", "kapacitor", "freshping", "graylog", "librato", "site24x7"}
        | {"netdata", "github-actions", "cronitor", "airbrake", "chatbot-custom"}
    ),
    "threshold": frozenset({"threshold"}),
}
#: The paths whose bodies may be a batch of alerts, each queued as its own message
#: (ingest/several.py): scripts' and log shippers' paths.
BATCH_SOURCES = frozenset({"generic", "threshold"})
#: Formats Alertmanager's API paths (`/api/v2/alerts`, `/api/v1/alerts`) accept: an array of
#: alerts, as Prometheus and vmalert post it.
API_FORMATS = frozenset({"prometheus"})
#: Bodies above this size are read on a worker thread, so the event loop keeps answering.
OFFLOAD_BODY_BYTES = 64 * 1024
#: … and so are bodies that may hold more objects than this (`_costly`): the normaliser's
#: time grows with the alerts read (~0.1 ms each), not the bytes, and 64 KiB holds ~2,700 tiny
#: ones, ~0.3 s every other request would have waited on the loop; or more form fields.
OFFLOAD_OBJECTS = 50
#: … or more members (of objects and arrays, by their commas) than this: a label costs the
#: normaliser a few microseconds, and 64 KiB holds one alert of ~4,000 (~20 ms). Webhooks
#: send a hundred or so.
OFFLOAD_MEMBERS = 500
#: The most alerts one request's body is read with (an array of them, as Alertmanager's API
#: takes, or an object's `alerts`, a webhook group's): more is 413 before any is read. At ~0.1 ms
#: of CPU each, 1 MiB of 30,000 tiny ones held a worker thread, and the GIL the event loop needs,
#: for ~3 s. No real sender meets it within the 1 MiB body limit: Prometheus posts at most 256
#: alerts at once, and its smallest (the name, the times it always sends) is ~110 bytes;
#: Alertmanager's (status, fingerprint and URL besides) ~200.
MAX_ALERTS = 10_000
#: The longest reason a 422 answer carries.
REASON_MAX = 300

# SQS carries #x9 | #xA | #xD | #x20-#xD7FF | #xE000-#xFFFD | #x10000-#x10FFFF. In text that
# parsed as strict JSON, anything else (U+FFFE and U+FFFF, in practice) stands inside a string,
# where its \uXXXX escape is the same value.
_NOT_FOR_SQS = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


#: The codec every Latin-1 label reads with: WHATWG Encoding's windows-1252, which browsers and
#: the tools that follow them mean by `iso-8859-1` too. Windows tools write `€`, `…` and curly
#: quotes as bytes 0x80-0x9F and label them ISO-8859-1: read as Latin-1 they were C1 control
#: characters, never text. Python's cp1252 refuses its five undefined bytes (a 422, the alert
#: lost); here they are the C1 controls Latin-1 reads, as WHATWG's are, so no byte is refused.
WINDOWS_1252 = "triage-windows-1252"
_WINDOWS_1252_TABLE = "".join(
    chr(byte) if char == "\ufffe" else char for byte, char in enumerate(cp1252.decoding_table)
)
_WINDOWS_1252_ENCODING = codecs.charmap_build(_WINDOWS_1252_TABLE)


def _windows_1252(name: str) -> codecs.CodecInfo | None:
    """The `WINDOWS_1252` codec for Python's codec registry (it asks by the name in lower case,
    hyphens as underscores), so `bytes.decode` and `parse_qsl` read with it by name."""
    if name != WINDOWS_1252.replace("-", "_"):
        return None
    return codecs.CodecInfo(
        name=WINDOWS_1252,
        encode=lambda text, errors="strict": codecs.charmap_encode(
            text, errors, _WINDOWS_1252_ENCODING
        ),
        decode=lambda data, errors="strict": codecs.charmap_decode(
            data, errors, _WINDOWS_1252_TABLE
        ),
    )


codecs.register(_windows_1252)

#: The charsets a body may declare (lower-case, as in Content-Type), by the codec that reads it.
#: Any other is refused, never looked up: Python's codec registry holds more than text
#: encodings (rot13, base64, zlib), and what the daemon reads is JSON, whose charset is UTF-8.
CHARSETS: dict[str, str] = {
    "utf-8": "utf-8",
    "utf8": "utf-8",
    # WHATWG reads US-ASCII as windows-1252 too; UTF-8 under it is UTF-8 (`meant_codec`).
    "us-ascii": WINDOWS_1252,
    "ascii": WINDOWS_1252,
    "iso-8859-1": WINDOWS_1252,
    "iso8859-1": WINDOWS_1252,
    "latin1": WINDOWS_1252,
    "latin-1": WINDOWS_1252,
    "windows-1252": WINDOWS_1252,
    "cp1252": WINDOWS_1252,
    "utf-16": "utf-16",
    "utf-16le": "utf-16-le",
    "utf-16be": "utf-16-be",
}
_UTF16_BOMS = (codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)
#: The codecs of the charsets that declare UTF-16 (`CHARSETS`).
_UTF16_CODECS = frozenset({"utf-16", "utf-16-le", "utf-16-be"})
#: Codecs of charsets many senders declare for UTF-8 they never re-encoded (HTTP/1.1's old
#: default for text, Java's and PHP's clients labelling a string as sent): `meant_codec`.
_MISLABELLED_AS = frozenset({WINDOWS_1252})


class Invalid(Exception):
    """Raised for a body the gateway refuses; the text is the one-line reason, `status` the
    answer's (422: not an alert the daemon reads) and `reason` the word its log line says."""

    status = 422
    reason = "invalid"


class MalformedBody(Invalid):
    """A body that is not what its Content-Type says (a multipart without its closing
    boundary, …): 400."""

    status = 400
    reason = "malformed_body"


class TooMany(Invalid):
    """A batch of more alerts than one request may carry (ingest/several.py): 413."""

    status = 413
    reason = "too_many_alerts"


class UnreadBody(Invalid):
    """A body, or a part of one, the gateway does not read (a form's file): 415."""

    status = 415
    reason = "unsupported_body"


#: What a body of text rather than JSON most likely is at the gateway, and what to do: the
#: daemon's own hint (`RAW_TEXT_HINT`, SNS raw delivery) is no advice a webhook sender can use.
TEXT_HINT = (
    "the body is text: the gateway takes JSON, a form sent with Content-Type "
    "application/x-www-form-urlencoded or multipart/form-data, or an alert's fields in the "
    "query string with no body"
)
#: The media type of an HTML form's body.
FORM = "application/x-www-form-urlencoded"
#: Fields a form body may hold: a webhook sends ten or so; a million tiny ones are an attack.
FORM_FIELDS_MAX = 1_000
#: The one field of a form that carries the webhook's JSON whole.
PAYLOAD_FIELD = "payload"


class UnsupportedCharset(Exception):
    """Raised for a declared charset the gateway does not read (415); the text says which."""


def codec_for(charsets: list[str]) -> str:
    """The codec that reads a body whose Content-Type declares `charsets` (its `charset`
    parameters: none, one, or a sender's mistake of several); UnsupportedCharset if none fits."""
    # Each charset by its lower-case name, and as it was spelt, which a refusal quotes.
    sent = {spelt.lower(): spelt for c in charsets if (spelt := c.strip().strip('"'))}
    if not sent:
        return "utf-8"
    if len(sent) > 1:
        raise UnsupportedCharset("more than one charset declared")
    ((charset, spelled),) = sent.items()
    codec = CHARSETS.get(charset)
    if codec is None:
        raise UnsupportedCharset(f"charset {quoted_header_value(spelled)} is not supported")
    return codec


@dataclass(frozen=True, slots=True)
class Checked:
    """A body that may be queued: its text, and what the daemon will make of it."""

    text: str
    alerts: int
    skipped: tuple[str, ...]
    #: The text's size as SQS counts it: its UTF-8 bytes.
    size_bytes: int
    #: The format (`triage.normalize.FORMATS`) that read it ("batch": several, each its own).
    format: str
    #: A batch's alerts, each to be queued as its own message (empty: `text` is the message).
    parts: tuple[str, ...] = ()
    #: The names of a form's or query's fields dropped, never queued (ingest/credentials.py).
    dropped: tuple[str, ...] = ()


def check(
    source: str,
    body: bytes,
    sentry_resource: str | None,
    redact: Callable[[str], str],
    codec: str = "utf-8",
    formats: frozenset[str] | None = None,
    form: bool = False,
    *,
    boundary: str | None = None,
    query: Sequence[tuple[str, str]] | None = None,
) -> Checked:
    """Read `body` (in `codec`, from `codec_for`) as the daemon will; Invalid with a redacted
    one-line reason if it cannot, or if its format is not one of `formats` (by default, the
    ones `source`'s webhook path takes). A `form` body (`FORM`) is read as its fields' JSON, and
    so is a multipart/form-data body with this `boundary`, or, when the body is blank
    (`reads_query`), the `query` fields (its token already taken out); fields that carry a
    webhook's JSON in one of them are read as that JSON when they are no alert themselves
    (`_read_form`)."""
    reading = _reading(body, codec, form, boundary, query)

    def read(text: str) -> Checked:
        return _read(source, text, reading.codec, len(body), sentry_resource, redact, formats)

    if reading.carried is None:
        checked = read(reading.text)
    else:
        checked = _read_form(reading.text, reading.carried, read)
    dropped = (*reading.dropped, *checked.dropped)
    return replace(checked, dropped=dropped) if dropped else checked


def _read(
    source: str,
    text: str,
    codec: str,
    body_bytes: int,
    sentry_resource: str | None,
    redact: Callable[[str], str],
    formats: frozenset[str] | None,
) -> Checked:
    """`check` of a body read as `text` (in `codec`, of `body_bytes` bytes)."""
    batch_path = source in BATCH_SOURCES and formats is None
    _check_alert_count(text, several.MAX_ALERTS if batch_path else MAX_ALERTS)
    try:
        recognised = recognise_body(text, sentry_resource=sentry_resource)
    except TriageError as exc:
        batch = _batch(text) if source in BATCH_SOURCES and formats is None else None
        if batch is not None:
            return _check_batch(source, batch, redact)
        said = str(exc).replace(RAW_TEXT_HINT, TEXT_HINT)
        raise Invalid(one_line(f"{exc.reason}: {said}", redact)) from None
    accepted = ACCEPTED_FORMATS[source] if formats is None else formats
    if recognised.format not in accepted:
        owner = next(
            (s for s, names in ACCEPTED_FORMATS.items() if recognised.format in names), None
        )
        where = (
            f"post it to /v1/alerts/{owner}"
            if owner
            else "it reaches the queue through SNS, not this gateway"
        )
        wanted = source if formats is None else "an array of alerts"
        raise Invalid(f"wrong_source: this is {recognised.format} JSON, not {wanted}; {where}")
    normalized = recognised.normalized
    _check_alerts_read(len(normalized.alerts))
    if _NOT_FOR_SQS.search(text):
        text, codec = sqs_safe(text), "escaped"
    size = body_bytes if codec == "utf-8" else len(text.encode("utf-8"))
    skipped = tuple(s.reason for s in normalized.skipped)
    return Checked(text, len(normalized.alerts), skipped, size, recognised.format)


def _check_alert_count(text: str, batch_most: int) -> None:
    """TooMany (413) for JSON holding more than MAX_ALERTS alerts (an array of them, or an
    object's `alerts`), before the normaliser reads any (each costs it CPU). The alerts are
    counted where the daemon reads them (`decode_body`): inside an SNS notification's
    `Message`, JSON encoded twice, or a Lambda event's records, summed, as well as bare. The
    answer names the bound the path holds a batch to: `batch_most` for an array
    (ingest/several.py's on a batch path, which refuses fewer than this already). Each alert is
    an object, whose brace is in the text as `{` or, inside a string, escaped (a backslash at
    least), so text with no more of both than MAX_ALERTS is not parsed here; other text is
    parsed once more (a few ms a MiB, against the seconds its alerts would cost). No JSON is
    left to the normaliser."""
    if text.count("{") + text.count("\\") <= MAX_ALERTS:
        return
    try:
        decoded = decode_body(text)
    except (TriageError, ValueError, RecursionError):
        decoded = _bare(text)  # an array of no alert format, say: the normaliser says why
    alerts = _alerts_in(decoded)
    if alerts > MAX_ALERTS:
        most = batch_most if isinstance(decoded, PostedAlerts) else MAX_ALERTS
        raise TooMany(
            f"too_many_alerts: the body holds {alerts:,} alerts; at most {most:,} are "
            "read from one request: send them in smaller batches"
        )


def _check_alerts_read(alerts: int) -> None:
    """TooMany when the daemon would read more than MAX_ALERTS `alerts` from one request: the
    bound for a format whose alerts are under a name of its own (PagerDuty's `messages`), or
    a batch whose webhooks hold them together, which `_check_alert_count` cannot see before
    the normaliser has read them."""
    if alerts > MAX_ALERTS:
        raise TooMany(
            f"too_many_alerts: the body holds {alerts:,} alerts; at most {MAX_ALERTS:,} are "
            "read from one request: send them in smaller batches"
        )


def _alerts_in(decoded: dict[str, object]) -> int:
    """How many alerts the daemon reads from `decoded` (`decode_body`'s answer): its `alerts`,
    or its Lambda records' together (a record that cannot be read holds none)."""
    if isinstance(decoded, EventRecords):
        records = decoded.get("records")
        return sum(_record_alerts(r) for r in records) if isinstance(records, list) else 0
    alerts = decoded.get("alerts")
    return len(alerts) if isinstance(alerts, list) else 0


def _bare(text: str) -> dict[str, object]:
    """`text` parsed as it is, an array as `PostedAlerts` (whatever its items), for the count
    of a body `decode_body` refuses; empty when it is no JSON."""
    try:
        parsed = json.loads(text.lstrip("\ufeff"))
    except (ValueError, RecursionError):
        return {}
    if isinstance(parsed, list):
        return PostedAlerts(alerts=parsed)
    return parsed if isinstance(parsed, dict) else {}


def _record_alerts(record: object) -> int:
    """The alerts of one Lambda record's text (`decode_body`: one level of records)."""
    if not isinstance(record, str):
        return 0
    try:
        return _alerts_in(decode_body(record))
    except (TriageError, ValueError, RecursionError):
        return 0


def _read_form(fields_text: str, carried: Carried, read: Callable[[str], Checked]) -> Checked:
    """A form one of whose fields carries JSON (ingest/carried.py). With nothing but credentials
    beside it, the form is that JSON; else it is read by its fields, as any form is, and only
    when they are no alert, as that JSON with the fields beside it. Refused with the JSON's
    reason when neither reads."""
    as_fields = functools.partial(read, fields_text)
    as_carried = functools.partial(_read_carried, carried, read)
    first, then = (as_carried, as_fields) if carried.alone else (as_fields, as_carried)
    try:
        return first()
    except Invalid as exc:
        first_refusal = exc
    try:
        return then()
    except Invalid as exc:
        raise (first_refusal if carried.alone else exc) from None


def _read_carried(carried: Carried, read: Callable[[str], Checked]) -> Checked:
    """The JSON `carried` holds, read; Invalid naming the field it came in."""
    if carried.text is None:
        raise Invalid(f"form_json: {carried.problem}")
    try:
        return replace(read(carried.text), dropped=carried.dropped)
    except Invalid as exc:
        named = f"the JSON in the form's {carried.field} field: {exc}"
        raise type(exc)(cut(named, REASON_MAX, ellipsis=True)) from None


def _batch(text: str) -> list[str] | None:
    """The alerts of a body that is a batch of them (ingest/several.py), or None."""
    try:
        return alert_texts(text)
    except TooManyAlerts as exc:
        raise TooMany(f"too_many_alerts: {exc}: send at most that many at once") from None
    except BadBatch as exc:
        raise Invalid(f"decode: the body is a batch of alerts, and {exc}") from None


def _check_batch(source: str, texts: list[str], redact: Callable[[str], str]) -> Checked:
    """A batch whose every alert `check` reads on its own; Invalid naming the first that fails."""
    checked: list[Checked] = []
    for index, text in enumerate(texts, 1):
        try:
            checked.append(check(source, text.encode("utf-8"), None, redact))
        except Invalid as exc:
            named = f"alert {index} of {len(texts)}: {exc}"
            raise type(exc)(cut(named, REASON_MAX, ellipsis=True)) from None
    _check_alerts_read(sum(c.alerts for c in checked))
    return Checked(
        text="",
        alerts=sum(c.alerts for c in checked),
        skipped=tuple(reason for c in checked for reason in c.skipped),
        size_bytes=sum(c.size_bytes for c in checked),
        format="batch",
        parts=tuple(c.text for c in checked),
    )


async def check_off_loop(
    source: str,
    body: bytes,
    sentry_resource: str | None,
    redact: Callable[[str], str],
    codec: str = "utf-8",
    formats: frozenset[str] | None = None,
    form: bool = False,
    *,
    boundary: str | None = None,
    query: Sequence[tuple[str, str]] | None = None,
    lane: asyncio.Semaphore | None = None,
) -> Checked:
    """`check`, on a worker thread for a body that may cost more than a few milliseconds of
    CPU (`_costly`), so the event loop keeps answering every other request meanwhile; on a
    check thread (CHECK_THREADS), not the loop's default pool. With a `lane` (a source's own),
    one such body at a time, held until its thread is done: the check threads are shared by
    every source, and one token holder's bodies must not take them all."""
    args = (source, body, sentry_resource, redact, codec, formats, form)
    many_fields = query is not None and len(query) > OFFLOAD_OBJECTS and reads_query(body)
    if not (_costly(body) or many_fields):
        return check(*args, boundary=boundary, query=query)
    read = functools.partial(check, *args, boundary=boundary, query=query)
    if lane is None:
        return await off_loop(read)
    await lane.acquire()
    try:
        reading = _submit(read)
    except BaseException:
        lane.release()
        raise
    # Freed when the thread is done, not when this request is: a request cancelled (the stop
    # after its grace) cannot cancel a thread already reading, and a lane freed then let its
    # source start a second thread beside it, past its one at a time.
    loop = asyncio.get_running_loop()
    reading.add_done_callback(lambda _: _release_soon(loop, lane))
    return await asyncio.wrap_future(reading)


#: The threads costly bodies are read on (`check_off_loop`, `off_loop`), one per source at
#: most: their own, not asyncio's default pool, which the SQS client's DNS lookups and every
#: other `to_thread` share. That pool has `os.cpu_count() + 4` threads, 6 on a 2-CPU task, so
#: five sources' bodies, one at a time each, could still take all but one of them. A body
#: waits here only behind another source's, never behind the event loop's other work.
CHECK_THREADS = len(SOURCES)
_checks = ThreadPoolExecutor(max_workers=CHECK_THREADS, thread_name_prefix="ingest-check")
_T = TypeVar("_T")


def _submit(work: Callable[[], _T]) -> Future[_T]:
    """`work` on a check thread, in this task's context (its log fields, its trace)."""
    return _checks.submit(contextvars.copy_context().run, work)


async def off_loop(work: Callable[[], _T]) -> _T:
    """`work` on a check thread (see CHECK_THREADS), awaited: for the gateway's other costly
    steps on a body (a token search, a split), which are its check's kin."""
    return await asyncio.wrap_future(_submit(work))


def _release_soon(loop: asyncio.AbstractEventLoop, lane: asyncio.Semaphore) -> None:
    """Free `lane` on its loop, from whichever thread finished the work (a check thread, or
    the loop itself when the work was cancelled before it started); nothing once the loop
    has closed, when no request is left to want it."""
    with contextlib.suppress(RuntimeError):
        loop.call_soon_threadsafe(lane.release)


def _costly(body: bytes) -> bool:
    """Whether reading `body` may take long: past OFFLOAD_BODY_BYTES, or holding more than
    OFFLOAD_OBJECTS objects (as JSON, a form's escapes, or UTF-16: its `{` is the same byte
    beside a zero) or form fields (each name is sifted for a credential's, ~30 µs: a form of
    1,000 in 7 KB took ~25 ms), a urlencoded form's or a multipart one's, or more than
    OFFLOAD_MEMBERS members."""
    if len(body) > OFFLOAD_BODY_BYTES:
        return True
    objects = body.count(b"{") + body.count(b"%7B") + body.count(b"%7b")
    fields = body.count(b"&") + body.count(b"\r\n--")
    if max(objects, fields) > OFFLOAD_OBJECTS:
        return True
    return body.count(b",") + body.count(b"%2C") + body.count(b"%2c") > OFFLOAD_MEMBERS


@dataclass(frozen=True, slots=True)
class _Reading:
    """The text the normaliser reads, the codec it came in ("form": made of fields), the
    JSON one of a form's fields carries (ingest/carried.py), to read when the fields are not,
    and the names of the fields dropped from both (ingest/credentials.py)."""

    text: str
    codec: str
    carried: Carried | None = None
    dropped: tuple[str, ...] = ()


def _reading(
    body: bytes,
    codec: str,
    form: bool,
    boundary: str | None,
    query: Sequence[tuple[str, str]] | None,
) -> _Reading:
    """How the normaliser is to read `body`: as JSON, or as a form's or the query's fields."""
    if boundary is not None:
        return _fields_reading(multipart_pairs(body, boundary, codec))
    if query is not None and reads_query(body):
        return _fields_reading(query_pairs(query))
    text, codec = _decode(body, codec)
    if form and not _json_shaped(text):
        return _fields_reading(form_pairs(text, codec))
    return _Reading(text, codec)


def _fields_reading(pairs: Sequence[tuple[str, str]]) -> _Reading:
    sifted = sift(pairs)
    text = _fields_object(sifted.kept)
    carried = carried_among(sifted.kept)
    if carried is not None and carried.text == text:
        carried = None  # the form is its one `payload` field's JSON, as `fields_json` read it
    return _Reading(text, "form", carried, sifted.dropped)


def reads_query(body: bytes) -> bool:
    """Whether a request with this body is read as its query string's fields (on a path that
    reads them): only when the body is blank; a body is never merged with its URL's fields."""
    return not body.strip()


def is_form(content_type: str | None) -> bool:
    """Whether a Content-Type names an HTML form's body (`FORM`, any case, any parameters)."""
    return (content_type or "").split(";", 1)[0].strip().lower() == FORM


def form_json(text: str, codec: str = "utf-8") -> str:
    """A urlencoded form body's fields as `fields_json` writes them (`form_pairs`)."""
    return fields_json(form_pairs(text, codec))


def form_pairs(text: str, codec: str = "utf-8") -> list[tuple[str, str]]:
    """A urlencoded form body's fields, in order. Percent-escapes are read in `codec`, the
    charset the body declares, as its plain text is; under a Latin-1 label, as UTF-8 when
    every escape reads so (`meant_codec`). Invalid for escapes that are no text in it, or more
    than `FORM_FIELDS_MAX` fields. A byte-order mark before the first field (a form sent from
    a file an editor saved with one) is no part of its name, as it is no part of a JSON body."""
    try:
        return _parsed_form(text.removeprefix("\ufeff"), codec)
    except UnicodeDecodeError as exc:
        name = codec.upper()
        raise Invalid(
            f"decode: a form field's percent-escapes are not {name} ({exc.reason})"
        ) from None
    except ValueError:
        raise Invalid(f"decode: the form has more than {FORM_FIELDS_MAX:,} fields") from None


def _parsed_form(text: str, codec: str) -> list[tuple[str, str]]:
    """`form_pairs`' fields; UnicodeDecodeError, or ValueError past FORM_FIELDS_MAX."""
    if codec in _MISLABELLED_AS:
        with contextlib.suppress(UnicodeDecodeError):  # real Latin-1 escapes: as declared
            return _parsed_form(text, "utf-8")
    return parse_qsl(
        text,
        keep_blank_values=True,
        encoding=codec,
        errors="strict",
        max_num_fields=FORM_FIELDS_MAX,
    )


def multipart_json(body: bytes, boundary: str, codec: str = "utf-8") -> str:
    """A multipart/form-data body's text fields as `fields_json` writes them
    (`multipart_pairs`)."""
    return fields_json(multipart_pairs(body, boundary, codec))


def multipart_pairs(body: bytes, boundary: str, codec: str = "utf-8") -> list[tuple[str, str]]:
    """A multipart/form-data body's text fields, in order, each read in the charset its part
    declares, else in `codec`; MalformedBody or UnreadBody (ingest/multipart.py says which) for
    a body that is not such a form or holds a file, Invalid for a value that is no text in its
    charset."""
    try:
        parts = multipart_fields(body, boundary)
    except UnreadPart as exc:
        raise UnreadBody(f"unsupported: {exc}") from None
    except FormError as exc:
        raise MalformedBody(f"malformed: {exc}") from None
    pairs: list[tuple[str, str]] = []
    for part in parts:
        declared = codec if part.charset is None else _part_codec(part.charset)
        part_codec = _field_codec(part.value, declared)
        try:
            pairs.append((part.name, part.value.decode(part_codec)))
        except UnicodeDecodeError:
            name = part_codec.upper()
            raise Invalid(f"decode: a multipart field's value is not {name}") from None
    return pairs


def _field_codec(value: bytes, declared: str) -> str:
    """The codec a multipart field's value is read in, declared `declared`: UTF-8 for UTF-8
    bytes under a UTF-16 label (no zero byte, as UTF-16's ASCII would have, and valid UTF-8:
    clients that label every string "utf-16" send it so), the UTF-16 its mark names, else as
    `meant_codec` says. A field's value may be letters alone, so a value fitting neither is
    read as declared (and refused by it), never refused for holding no zero byte."""
    if declared not in _UTF16_CODECS:
        return meant_codec(value, declared)
    if value.startswith(_UTF16_BOMS):
        return "utf-16"
    if 0 in value:
        return declared
    try:
        value.decode("utf-8")
    except UnicodeDecodeError:
        return declared
    return "utf-8"


def _part_codec(charset: str) -> str:
    try:
        return codec_for([charset])
    except UnsupportedCharset as exc:
        raise UnreadBody(f"unsupported: a multipart field's {exc}") from None


def query_json(query: Sequence[tuple[str, str]]) -> str:
    """The fields of a query string as `fields_json` writes them (`query_pairs`)."""
    return fields_json(query_pairs(query))


def query_pairs(query: Sequence[tuple[str, str]]) -> Sequence[tuple[str, str]]:
    """The fields of a query string (ingest/query.py, its token taken out), checked; Invalid
    when there are none, or an escape is no UTF-8."""
    if not query:
        raise Invalid(
            "empty: the body is empty and the query string holds no alert fields; send the "
            "alert as the body, or as query parameters besides token"
        )
    for name, value in query:
        try:
            name.encode("utf-8")
            value.encode("utf-8")
        except UnicodeEncodeError:
            raise Invalid("decode: a query parameter's percent-escapes are not UTF-8") from None
    return query


def fields_json(pairs: Iterable[tuple[str, str]]) -> str:
    """Form fields as one JSON object of text values, in the order sent, without a field the
    redactor blanks by its name (`token=…`, `api_key=…`, `pass=<random>`: `credentials.sift`);
    a name sent more than once keeps every value, as an array. A form whose one field is
    `PAYLOAD_FIELD` holding a JSON object or array is that JSON's text: the webhook it wraps."""
    return _fields_object(sift(list(pairs)).kept)


def _fields_object(pairs: Iterable[tuple[str, str]]) -> str:
    """`fields_json` of fields already sifted."""
    fields: dict[str, str | list[str]] = {}
    for name, value in pairs:
        given = fields.get(name)
        if given is None:
            fields[name] = value
        else:
            fields[name] = [*given, value] if isinstance(given, list) else [given, value]
    wrapped = fields.get(PAYLOAD_FIELD)
    if len(fields) == 1 and isinstance(wrapped, str) and _json_shaped(wrapped):
        return wrapped
    return json.dumps(fields, ensure_ascii=False)


def _json_shaped(text: str) -> bool:
    """Whether a body labelled a form is JSON after all: a form's first field name never starts
    an object or array, and `curl -d` labels every body it sends a form."""
    return text.lstrip("\ufeff \t\r\n")[:1] in ("{", "[")


def sqs_safe(text: str) -> str:
    """JSON text with every character SQS cannot carry written as its escape, the same value."""
    return _NOT_FOR_SQS.sub(_escaped, text)


def _escaped(match: re.Match[str]) -> str:
    return f"\\u{ord(match.group()):04x}"


def meant_codec(data: bytes, codec: str) -> str:
    """The codec that reads `data` as its sender meant, declared `codec`: UTF-8 for bytes
    declared Latin-1 or windows-1252 that hold non-ASCII and read as UTF-8, else `codec`.
    Many tools declare Latin-1 and send UTF-8, read as declared it is queued garbled (`café`
    as `cafÃ©`); real Latin-1 text almost never forms UTF-8's multi-byte sequences (an
    accented capital followed by one or more of `\x80`-`\xbf`, mostly symbols and C1
    controls: `Ã©` is itself UTF-8 read as Latin-1)."""
    if codec not in _MISLABELLED_AS or data.isascii():
        return codec
    try:
        data.decode("utf-8")
    except UnicodeDecodeError:
        return codec
    return "utf-8"


def _decode(body: bytes, codec: str) -> tuple[str, str]:
    """`body` as text, and the codec that read it: `codec`, the UTF-16 the body is in by its
    own evidence (`_utf16`), or UTF-8 sent under a Latin-1 or UTF-16 label (`meant_codec`,
    `_utf8_under_utf16`)."""
    declared = codec
    if body.startswith(GZIP_MAGIC):
        raise Invalid(f"decode: {GZIP_UNLABELLED}")
    codec = _utf16(body) or _utf8_under_utf16(body, codec) or meant_codec(body, codec)
    try:
        return body.decode(codec), codec
    except UnicodeDecodeError as exc:
        name = codec.upper()
        also = " nor UTF-8" if declared in _UTF16_CODECS else ""
        raise Invalid(
            f"decode: body is not {name}{also}: {exc.reason} at byte {exc.start}"
        ) from None


def _utf8_under_utf16(body: bytes, codec: str) -> str | None:
    """UTF-8 for a body declared UTF-16 whose bytes are UTF-8 (led by UTF-8's mark, or with no
    zero byte and valid as UTF-8), else None. Clients that label every string with their
    language's native charset send UTF-8 as "utf-16"; real UTF-16 JSON always holds zero bytes
    (its `{`, `"` and `:` are ASCII), which UTF-8 JSON never does. Invalid for a body with no
    zero byte that is not UTF-8 either: no reading fits it, and read as UTF-16 it would only
    be refused later as JSON, in characters its sender never wrote."""
    if codec not in _UTF16_CODECS:
        return None
    if body.startswith(codecs.BOM_UTF8):
        return "utf-8"
    if 0 in body:
        return None
    try:
        body.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise Invalid(
            f"decode: body is not {codec.upper()} (it holds no zero byte, as UTF-16 JSON does) "
            f"nor UTF-8 ({exc.reason} at byte {exc.start})"
        ) from None
    return "utf-8"


def _utf16(body: bytes) -> str | None:
    """The UTF-16 codec a body is in, whatever charset it declares, when its bytes say so: a
    UTF-16 byte-order mark leads it (PowerShell's and .NET's writers), or, as RFC 4627 tells
    JSON's encodings apart, a zero byte pairs with each of its first two characters. Neither
    can be UTF-8 JSON, which holds no zero byte and cannot start with a mark's bytes."""
    if body.startswith(_UTF16_BOMS):
        return "utf-16"  # reads the mark, and the order it names
    head = body[:4]
    if len(head) < 4 or head.count(0) != 2:
        return None
    if head[1] == 0 and head[3] == 0:
        return "utf-16-le"
    if head[0] == 0 and head[2] == 0:
        return "utf-16-be"
    return None


def one_line(reason: str, redact: Callable[[str], str]) -> str:
    """A reason safe to answer with: redacted, on one line, at most REASON_MAX characters."""
    flat = " ".join(redact(reason).split())
    return cut(flat, REASON_MAX, ellipsis=True)
