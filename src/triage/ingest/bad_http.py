"""What the gateway says, in its answer and in its log, about a request aiohttp cannot parse (a
control character in a header, a bad chunk size, a body after an HTTP/1.0 head without a length,
…): what was wrong, never the request's bytes.

aiohttp answers such a request with a plain-text 400 that quotes the offending bytes (an
`Authorization` header with its token, a slice of the body), and logs it as an ERROR whose
traceback quotes them too. Senders such as Alertmanager write a failed webhook's answer to their
own logs, so the quote would carry the token there. Here the answer is a short JSON reason
(`answer_error`), and the log is one bounded `ingest.bad_http` line (`BadHttpLines`), both from
`what_was_wrong`.
"""

from __future__ import annotations

import ast
import logging
import re
import time
from collections.abc import Callable

import structlog
from aiohttp.http_exceptions import (
    BadHttpMethod,
    BadStatusLine,
    HttpProcessingError,
    InvalidURLError,
    LineTooLong,
)

from triage.linebudget import LineBudget
from triage.normalize.common import cut
from triage.redact import redact
from triage.request_head import LINE_FAULTS, MAX_HEADER_FIELDS, request_line_fault

log = structlog.get_logger(__name__)

#: Where aiohttp's parse error starts quoting the request: a colon, `b'`, or a quote that is
#: not an apostrophe inside a word ("Transfer-Encoding can't be present with Content-Length").
_QUOTED = re.compile(r"""[:]|\bb['"]|(?<![A-Za-z])['"]|['"](?![A-Za-z])""")
#: Header names aiohttp quotes from its own fixed set ("Duplicate 'Content-Length' header
#: found.", "Missing 'Host' header in request."): kept, without their quotes.
_NAMED_HEADER = re.compile(
    r"'(Content-Length|Content-Type|Content-Range|Content-Location|Transfer-Encoding|Host|"
    r"User-Agent|Server|ETag|Max-Forwards)'",
    re.IGNORECASE,
)
#: The parser's (llhttp's) own reasons for a request target it refuses; any other
#: InvalidURLError's message is the target itself, quoted by nothing.
_URL_REASONS = frozenset(
    {
        "Double @ in url",
        "Invalid char in url fragment start",
        "Invalid char in url path",
        "Invalid char in url query",
        "Invalid characters in url",
        "Unexpected char in url schema",
        "Unexpected char in url server",
        "Unexpected start char in url",
    }
)


#: aiohttp's bounds on a request head's lines (its own defaults but the target's): a request
#: target of at most MAX_TARGET_BYTES, header lines of at most MAX_FIELD_BYTES each, and at
#: most MAX_HEADERS of them. The first two differ so that the error aiohttp raises, which names
#: only the bound it met, tells a long target (414) from a long header line (431).
MAX_TARGET_BYTES = 8192
MAX_FIELD_BYTES = 8190
MAX_HEADERS = MAX_HEADER_FIELDS

#: The keyword arguments that set those bounds on aiohttp's server.
LINE_BOUNDS = {
    "max_line_size": MAX_TARGET_BYTES,
    "max_field_size": MAX_FIELD_BYTES,
    "max_headers": MAX_HEADERS,
}


def bound_met(error: BaseException | None) -> tuple[int, str] | None:
    """The status and reason for a head that met one of the line bounds above: 414 for the
    request target (RFC 9110 15.5.15), 431 for a header line or their number (RFC 6585 5); or
    None for any other parse error."""
    if isinstance(error, LineTooLong):
        if error.args[1:2] == (MAX_TARGET_BYTES,):
            return 414, f"request target over {MAX_TARGET_BYTES} bytes"
        return 431, f"a header line over {MAX_FIELD_BYTES} bytes"
    if isinstance(error, HttpProcessingError) and error.message == "Too many headers received":
        return 431, f"more than {MAX_HEADERS} header lines"
    return None


#: Every method some path of the gateway takes (what `OPTIONS *` names).
SERVER_METHODS = ("GET", "HEAD", "OPTIONS", "POST")
#: The error of a 501: a method neither HTTP defines nor the gateway takes, as the operators'
#: port answers one (`request_head.not_implemented`; methods are case-sensitive, so `post`
#: is not POST).
NOT_IMPLEMENTED = (
    "not implemented: a method the gateway does not take (methods are case-sensitive: "
    f"{', '.join(SERVER_METHODS)})"
)
#: The request line llhttp quotes after its reason, as Python writes bytes.
_QUOTED_LINE = re.compile(r"""\n\n  (b'(?:[^'\\\n]|\\.)*'|b"(?:[^"\\\n]|\\.)*")""")


class RequestLineRefused(HttpProcessingError):
    """Raised for a request line `request_head.request_line_fault` refuses (whichever parser
    read it): `code` is its status, `message` what was wrong."""


#: What each of `request_head.LINE_FAULTS` is said to be, in the answer and the log (no colon:
#: `what_was_wrong` cuts there).
LINE_FAULT_TEXT = {
    "bad_request_line": "a request line that is not method, target and version one space apart",
    "not_implemented": "a method the gateway does not take",
    "version_not_supported": "HTTP version not supported (send HTTP/1.1)",
    "fragment": "a request target holds no #fragment",
    "bad_target": "invalid request target",
}


def refuse_line(fault: str) -> RequestLineRefused:
    """The error for a request line refused for `fault` (a key of LINE_FAULTS)."""
    return RequestLineRefused(code=LINE_FAULTS[fault], message=LINE_FAULT_TEXT[fault])


def line_fault(error: BaseException | None) -> str | None:
    """What is wrong with the request line of a request the parser refused, as
    `request_head.request_line_fault` says (so that both parsers, and the operators' port,
    answer one line alike), or None when the error is not the line's. llhttp quotes the line
    it refused after its reason; it takes only the methods it lists, in upper case, and refuses
    any other (`get`, `BREW`) as a parse error, which is 501, not 400."""
    if isinstance(error, RequestLineRefused):
        return next((key for key, text in LINE_FAULT_TEXT.items() if text == error.message), None)
    if not isinstance(error, BadHttpMethod | BadStatusLine | InvalidURLError):
        return None
    quoted = _QUOTED_LINE.search(error.message or "")
    if quoted is None:
        return None
    try:
        line = ast.literal_eval(quoted[1])
    except (ValueError, SyntaxError):
        return None
    if not isinstance(line, bytes):
        return None
    return request_line_fault(line, SERVER_METHODS)


def unknown_method(error: BaseException | None) -> bool:
    """Whether the parser refused a request for a method the gateway does not take (501)."""
    return line_fault(error) == "not_implemented"


def refused_status(status: int, error: BaseException | None) -> int:
    """The status to answer a request aiohttp refused with `status` (always 400 for a parse
    error) because of `error`."""
    if status != 400:
        return status
    fault = line_fault(error)
    if fault is not None:
        return LINE_FAULTS[fault]
    met = bound_met(error)
    return status if met is None else met[0]


def what_was_wrong(error: HttpProcessingError) -> str:
    """What aiohttp found wrong with a request, without the bytes it quotes after a colon or in
    quotes ("Got more than 8190 bytes when reading: b'…'", "Bad status line '…'"), or that are
    the whole message (a request target it cannot read: `POST *sess-id`)."""
    met = bound_met(error)
    if met is not None:
        return met[1]
    fault = line_fault(error)
    if fault is not None:
        return LINE_FAULT_TEXT[fault]
    first_line = (error.message or type(error).__name__).splitlines()[0]
    first_line = _NAMED_HEADER.sub(r"\1", first_line)
    reason = _QUOTED.split(first_line, maxsplit=1)[0].strip() or type(error).__name__
    if isinstance(error, InvalidURLError) and reason not in _URL_REASONS:
        return "invalid request target"
    # Redacted before it is cut: a cut inside a credential leaves a piece no rule knows. What
    # is read is bounded first, and that cut marked "…": redaction may shorten what stands
    # before it and bring it into the line, and the redactor drops a random-looking piece
    # glued to a "…".
    return cut(redact(cut(reason, 1200, ellipsis=True)), 120, ellipsis=True)


def answer_error(status: int, error: BaseException | None) -> str:
    """The `error` of the gateway's answer to a request aiohttp refused with `status`."""
    if status == 501 and unknown_method(error):
        return NOT_IMPLEMENTED
    if status == 505:
        return LINE_FAULT_TEXT["version_not_supported"]
    if status == 500 or not isinstance(error, HttpProcessingError):
        return "internal error" if status >= 500 else "bad request"
    if status < 500:
        return f"bad request: {what_was_wrong(error)}"
    return what_was_wrong(error)  # 505: not a bad request, a protocol not spoken


class BadHttpLines(logging.Filter):
    """On the `aiohttp.server` logger: replaces each record of a request refused before any
    handler saw it (an ERROR whose traceback quotes the request's raw bytes, headers and body)
    by one `ingest.bad_http` warning naming what was wrong and never the bytes, at most
    `per_second` a second (anyone can send these)."""

    def __init__(self, per_second: int = 10, clock: Callable[[], float] = time.monotonic) -> None:
        super().__init__()
        self.per_second = per_second
        self._lines = LineBudget(per_second, 1.0, clock=clock, name="ingest.bad_http")

    def filter(self, record: logging.LogRecord) -> bool:
        error = record.exc_info[1] if record.exc_info else None
        if not isinstance(error, HttpProcessingError):
            return True
        if self._lines.admit():
            status = refused_status(error.code, error)
            log.warning("ingest.bad_http", status=status, reason=what_was_wrong(error))
        return False
