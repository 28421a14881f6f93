"""Helpers every HTTP sink shares: reading Retry-After, keeping credentials out of text, and
what of a service's error answer may be told at all.

A service's answer is hostile text: it may quote what we sent (alert text, a secret a bad route
put in a URL), be an HTML page of megabytes, or hold CR LF, ANSI escapes and bidi controls that
would forge a log line or repaint a terminal. So a failure names only what an operator needs:
the status, the service's short error code (`error_code`), its request id when it has the
service's format (`request_id`), or else the answer's size and type (`unread_answer`); and
whatever text is kept goes through `said` (one visible line, redacted, bounded)."""

from __future__ import annotations

import codecs
import email.utils
import json
import math
import re
import ssl
import time
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC
from itertools import pairwise
from typing import Any
from urllib.parse import quote, quote_plus

import httpx2

from triage.display import visible
from triage.normalize.common import cut
from triage.redact import redact

#: The longest wait a service may ask for. A Retry-After (or a rate-limit reset) of years would
#: pause a sink, and with it the daemon's intake, until a restart; an hour is the longest any of
#: the services asks for in practice (GitHub's primary limit resets hourly).
MAX_WAIT_S = 3600.0


#: Delta-seconds as HTTP writes them (ASCII digits), with the fraction some services add and
#: an exponent as a number may be written. Not what else Python's float() reads: a sign, `_`,
#: `inf`, `nan`, other scripts' digits.
_DELTA_SECONDS = re.compile(r"[0-9]+(?:\.[0-9]+)?(?:[eE][+-]?[0-9]+)?", re.ASCII)


def parse_retry_after(
    value: str | None, now: float | None = None, *, date: str | None = None
) -> float | None:
    """Seconds from a Retry-After header: delta-seconds (`_DELTA_SECONDS`) or an HTTP date,
    at most `MAX_WAIT_S`; None if absent or unreadable (a negative number, anything else
    float() reads, no date) or past what a float holds (hundreds of digits, `1e309`: no server
    means that, and the summariser would pause its model for it;
    tests/test_summarise_hostile_more). A date is the service's clock, so it is compared with
    the answer's own `date` (its Date header) when that reads as one; else with `now` (epoch
    seconds, default the wall clock). One already past is 0. A field sent more than once
    (`30, 30`, as HTTP joins it) is the longest wait one of its values asks for, not none."""
    if not value:
        return None
    if "," not in value:
        return _one_retry_after(value, now, date)
    # The field sent twice (a proxy adding its own), which HTTP reads as one value joined by
    # commas: the longest wait any of them asks for. An HTTP date has a comma of its own
    # (after the weekday), so each piece is read alone and with the next; and the whole too,
    # which a lenient date parser may read as the first of two dates alone.
    pieces = [piece.strip() for piece in value.split(",")]
    candidates = [value, *pieces, *(f"{a}, {b}" for a, b in pairwise(pieces))]
    waits = [w for c in candidates if (w := _one_retry_after(c, now, date)) is not None]
    return max(waits, default=None)


def _one_retry_after(value: str, now: float | None, date: str | None) -> float | None:
    """`parse_retry_after` of one Retry-After value."""
    if _DELTA_SECONDS.fullmatch(value.strip()):
        seconds = float(value)  # inf past a float's range: said nothing usable
    else:
        when = http_date(value)
        if when is None:
            return None
        answered = http_date(date) if date else None
        if answered is not None:
            now = answered
        seconds = when - (time.time() if now is None else now)
    return min(max(0.0, seconds), MAX_WAIT_S) if math.isfinite(seconds) else None


def retry_after_of(headers: Mapping[str, str], now: float | None = None) -> float | None:
    """The wait an answer's `headers` ask for (`parse_retry_after`): its Retry-After, a date
    in it read against the answer's own Date. A host whose clock is an hour ahead would
    otherwise read a two-minute wait as none, and one an hour behind as the longest wait.
    `headers` as httpx2 keeps them (any case) or lower-cased, as botocore's are."""
    return parse_retry_after(_header(headers, "retry-after"), now, date=_header(headers, "date"))


def _header(headers: Mapping[str, str], name: str) -> str | None:
    """`name`'s value in `headers`: a case-insensitive mapping's, or a lower-cased dict's."""
    value = headers.get(name)
    return value if isinstance(value, str) else None


def http_date(value: str | None) -> float | None:
    """An HTTP date (a Date header, a Retry-After date) as epoch seconds (one without a zone is
    GMT, as "-0000" parses); None when absent or it reads as none."""
    if not value:
        return None
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError, OverflowError):
        return None
    if when.tzinfo is None:  # "-0000" parses as naive; HTTP dates are GMT
        when = when.replace(tzinfo=UTC)
    try:
        epoch_s = when.timestamp()
    except (OverflowError, OSError, ValueError):
        return None
    return epoch_s if math.isfinite(epoch_s) else None


#: The shortest wait a throttling answer (429, a rate limit) gets. A Retry-After of 0 or of a
#: date already past (our clock, or theirs, is off) would send the held message straight back
#: into the limit that refused it, and every held message with it.
MIN_WAIT_S = 1.0


#: How many times its base the wait of a throttle that names none grows to, doubling with each
#: one in a row (`UnsaidWaits`): GitHub's secondary limit's one minute, at most sixteen.
UNSAID_WAIT_MOST_TIMES = 16
#: Doublings counted at most (a count that large is past the cap anyway).
_MOST_DOUBLINGS = 8


@dataclass(slots=True)
class UnsaidWaits:
    """The waits of throttles (a 429, a service's rate-limit word) that ask for none, or for
    none readable (no Retry-After, `soon`): the service's `base_s`, doubled for each such
    throttle in a row, at most UNSAID_WAIT_MOST_TIMES the base; a success starts again from
    the base. Every sink waits so (Slack from one second, its posting rate; the backend from
    five; GitHub from a minute, its secondary limit's): a limiter that says no wait is not
    asked again at the same pace it has just refused. A readable Retry-After is the wait
    itself (`throttle_wait_s`) and leaves the count as it is."""

    base_s: float
    in_a_row: int = 0

    def wait_s(self, retry_after_s: float | None) -> float:
        """The wait for one more throttle, which asked for `retry_after_s` (None: no wait)."""
        if retry_after_s is not None:
            return throttle_wait_s(retry_after_s, self.base_s)
        wait_s = min(self.base_s * 2.0**self.in_a_row, self.base_s * UNSAID_WAIT_MOST_TIMES)
        self.in_a_row = min(self.in_a_row + 1, _MOST_DOUBLINGS)
        return throttle_wait_s(None, wait_s)

    def succeeded(self) -> None:
        self.in_a_row = 0


def throttle_wait_s(retry_after_s: float | None, default_s: float) -> float:
    """How long a throttled call waits: what the service asked for (`parse_retry_after`), else
    the sink's `default_s`; at least `MIN_WAIT_S`."""
    return max(default_s if retry_after_s is None else retry_after_s, MIN_WAIT_S)


def said(text: str, limit: int) -> str:
    """What a service answered, for a failure's reason and its log line: on one line, redacted
    before it is cut to `limit` characters (marked with "…"), since a cut inside a credential
    the service echoed would keep a piece no redaction rule knows. Scrub our own secrets out of
    `text` first (`scrub`); no more than ten times `limit` is read. Control characters (CR LF
    that would start a forged log line, ANSI escapes, NUL) and bidi controls go first."""
    shown = visible(text[: limit * 10], one_line=True)
    return cut(redact(" ".join(shown.split())), limit, ellipsis=True)


def json_answer(response: httpx2.Response) -> Any:
    """An answer's JSON, or None when it holds none. JSON is UTF-8 (RFC 8259), and its bytes
    are read so whatever charset the answer names; a service (or a gateway in front of it)
    that writes it in the charset its Content-Type names (ISO-8859-1, windows-1252,
    Shift_JIS) is read in that, as its text: one accented letter must not hide a new ticket's
    id, nor an `ok: false` that says nothing was made."""
    try:
        return response.json()
    except (ValueError, RecursionError):
        pass
    if not _names_other_charset(response):
        return None  # not JSON in the UTF it is in: its text would be no more so
    try:
        return json.loads(response.text)  # the charset it names (`aio.readable_text`)
    except (ValueError, RecursionError):
        return None


def _names_other_charset(response: httpx2.Response) -> bool:
    """Whether an answer's text is read in a charset other than UTF-8 (its Content-Type's,
    or its byte order mark's): only then is its text other than what its bytes read as."""
    try:
        return codecs.lookup(response.encoding or "utf-8").name != "utf-8"
    except LookupError:
        return False


#: A service's own word for a refusal: `invalid_payload`, `OPS.not-found`, "injected failure",
#: "unknown fields: flapping". No `/`, `@`, `=`, quotes or markup: no URL, credential
#: assignment or HTML fits in it.
_ERROR_CODE = re.compile(r"[A-Za-z0-9][A-Za-z0-9 _.,:-]{0,79}")


def error_code(value: object) -> str | None:
    """`value` when it is a service's short error code or phrase (`_ERROR_CODE`) that no
    redaction rule changes, else None: what of an error body may be named."""
    if not isinstance(value, str) or not _ERROR_CODE.fullmatch(value):
        return None
    return value if redact(value) == value else None


def request_id(value: str | None, pattern: re.Pattern[str]) -> str | None:
    """A request id header's value when it has the service's format (`pattern`, matched
    whole) and is no credential's shape, else None."""
    if value is None or len(value) > 128 or not pattern.fullmatch(value):
        return None
    return value if redact(value) == value else None


#: A media type as RFC 6838 spells it, nothing else: `text/html`, `application/problem+json`.
_MEDIA_TYPE = re.compile(r"[a-z0-9][a-z0-9.+-]{0,40}/[a-z0-9][a-z0-9.+-]{0,60}")


#: Content types of a web page: what a sign-in proxy or a web app answers, never an API's.
WEB_PAGE_TYPES = ("text/html", "application/xhtml+xml", "text/xml", "application/xml")


def page_body(response: httpx2.Response) -> bool:
    """Whether an answer's body is markup (HTML or XML): `<` first, after any BOM and white
    space, in UTF-16 too when its byte order mark says so (an answer is read as its mark
    says). No API a sink calls answers so; an SSO or egress proxy's sign-in page does."""
    body = response.content
    if body.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        text = body[:_UTF16_HEAD_BYTES].decode("utf-16", errors="ignore")
        return text.lstrip("\ufeff \t\r\n").startswith("<")
    return body.lstrip(b"\xef\xbb\xbf \t\r\n").startswith(b"<")


#: How much of a UTF-16 answer `page_body` decodes: where a page's markup starts.
_UTF16_HEAD_BYTES = 4096


def web_page(response: httpx2.Response) -> bool:
    """Whether an answer is a web page: HTML or XML by its Content-Type or, whatever that
    says, by its body (`page_body`). For APIs that answer JSON or nothing; Slack labels its
    own `ok` text/html, so the Slack sink reads the body alone."""
    kind = response.headers.get("Content-Type", "").split(";", 1)[0].strip().lower()
    return kind in WEB_PAGE_TYPES or page_body(response)


def unread_answer(response: httpx2.Response) -> str:
    """What is said of an answer whose text is not told: its size and media type."""
    media = response.headers.get("content-type", "").split(";", 1)[0].strip().lower()
    kind = media if _MEDIA_TYPE.fullmatch(media) else "unknown type"
    return f"{len(response.content)} bytes of {kind}"


def scrub(text: str, *secrets: str, placeholder: str = "[token]") -> str:
    """`text` without any of `secrets`, in case a service or library echoes one back: as
    written, and as a server writes it back, percent-encoded (a URL's query, a form) or
    JSON-escaped (`/` as `\\/`, as PHP's json_encode does)."""
    forms = {form for secret in secrets if secret for form in _written(secret)}
    # Longest first, so a form that holds another goes whole.
    for form in sorted(forms, key=len, reverse=True):
        text = text.replace(form, placeholder)
    return text


def _written(secret: str) -> tuple[str, ...]:
    """`secret` as it may come back: raw, percent-encoded (in either case), form-encoded and
    JSON-escaped."""
    percent = quote(secret, safe="")
    escaped = json.dumps(secret)[1:-1]
    return (
        secret,
        percent,
        re.sub(r"%[0-9A-F]{2}", lambda escape: escape[0].lower(), percent),
        quote_plus(secret),
        quote(secret),  # `/` left as it is, as in a path
        escaped,
        escaped.replace("/", "\\/"),
    )


#: Transport failures before any answer came, whose text is the OS's or ours (a refused or
#: unreachable host, a timeout, a request we would not send): told, made a said line.
_NO_ANSWER_YET = (httpx2.ConnectError, httpx2.TimeoutException, httpx2.LocalProtocolError)


def transport_error(exc: httpx2.TransportError, scrubbed: str) -> str:
    """A transport failure as told in logs and errors: its class, and its text (`scrubbed`:
    `str(exc)` without our credentials, see `scrub`) made a said line when no answer had come
    (`_NO_ANSWER_YET`). An answer that broke off or broke HTTP's rules is named by its class
    alone: the parser's text quotes the bytes it refused, which are the service's (an echo of
    our request, escapes)."""
    name = type(exc).__name__
    refused = certificate_refused(exc)
    if refused is not None:
        return f"{name}: {refused}"
    if isinstance(exc, _NO_ANSWER_YET):
        return f"{name}: {said(scrubbed, 200)}"
    return f"{name} (the answer broke off or broke HTTP's rules; its text is not told)"


def certificate_refused(exc: BaseException) -> str | None:
    """ "TLS certificate refused: <why>" when `exc` (or what caused it) is the TLS check's
    refusal of the server's certificate (a name that does not match, an issuer not trusted,
    expired), else None. Said first and whole: the client's own text puts it last, after the
    host, the port and the TLS settings, where a long host name's cut (`said`) drops it, and
    a failure to connect then reads as a host that is down. The words are OpenSSL's."""
    seen: set[int] = set()
    cause: BaseException | None = exc
    while cause is not None and id(cause) not in seen:
        seen.add(id(cause))
        found = getattr(cause, "certificate_error", None)  # aiohttp's, around ssl's
        if isinstance(found, ssl.SSLCertVerificationError):
            cause = found
        if isinstance(cause, ssl.SSLCertVerificationError):
            why = cause.verify_message or cause.reason or "verify failed"
            return f"TLS certificate refused: {said(str(why), 160)}"
        cause = cause.__cause__ or cause.__context__
    return None
