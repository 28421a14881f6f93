"""What a request's head says about its alert, decided before its body is read: the charset
and the form (urlencoded or multipart, and its boundary) the body is to be read as, whether a
GET may carry an alert, and which of the query string's fields may be one. `Body` carries the
answers, with the body once read, to the normaliser (ingest/validate.py).

A head that names something the gateway does not read is refused here, before a byte of the
body is asked for: a charset it does not read or a multipart type other than form-data (415),
a bad multipart boundary, a GET with a body, or a query string it cannot read (400).
"""

from __future__ import annotations

from dataclasses import dataclass

from aiohttp import web
from aiohttp.helpers import parse_mimetype

from triage.ingest.multipart import MalformedForm, check_boundary
from triage.ingest.query import BadQuery, Query, read_query
from triage.ingest.refused import Refused
from triage.ingest.validate import FORM, UnsupportedCharset, codec_for, is_form, reads_query

#: The multipart subtypes registered with IANA (and the streaming one browsers know): the only
#: ones a refusal names. Any other is said as `multipart` alone: what a sender writes there is
#: read lower-cased, so not even a redactor holding the gateway's tokens would know one again.
_MULTIPART_SUBTYPES = frozenset(
    {
        "alternative", "appledouble", "byteranges", "digest", "encrypted", "form-data",
        "header-set", "mixed", "multilingual", "parallel", "related", "report", "signed",
        "vnd.bint.med-plus", "voice-message", "x-mixed-replace",
    }
)  # fmt: skip


@dataclass(frozen=True, slots=True)
class Body:
    """A request's body as read, and how the normaliser is to read it: its charset's codec,
    whether it is a urlencoded form or a multipart one (its boundary), and the query string's
    alert fields, read when the body is blank (None: never, as on Sentry's path and
    Alertmanager's API path)."""

    data: bytes
    codec: str
    form: bool = False
    boundary: str | None = None
    query: tuple[tuple[str, str], ...] | None = None


def declared_codec(request: web.Request) -> str:
    """The codec for the charset the body's Content-Type declares (415 when not one read)."""
    content_type = request.headers.get("Content-Type")
    charsets = parse_mimetype(content_type).parameters.getall("charset", []) if content_type else []
    try:
        return codec_for(charsets)
    except UnsupportedCharset as exc:
        raise Refused(
            415, "unsupported_charset", f"{exc}: send the body as UTF-8, JSON's own charset"
        ) from None


def form_shape(request: web.Request) -> tuple[bool, str | None]:
    """Whether the body is a urlencoded form, and the boundary of a multipart/form-data one;
    Refused for another multipart type (415) or a missing or bad boundary (400)."""
    content_type = request.headers.get("Content-Type")
    if not content_type:
        return False, None
    media = parse_mimetype(content_type)
    if media.type != "multipart":
        return is_form(content_type), None
    if media.subtype != "form-data":
        known = media.subtype in _MULTIPART_SUBTYPES
        named = f"multipart/{media.subtype}" if known else "multipart"
        raise Refused(
            415,
            "unsupported_media_type",
            f"{named} is not read: send JSON, or a form (multipart/form-data or {FORM})",
        )
    boundaries = media.parameters.getall("boundary", [])
    if len(boundaries) > 1:
        raise Refused(400, "bad_boundary", "bad request: more than one multipart boundary")
    try:
        return False, check_boundary(boundaries[0] if boundaries else None)
    except MalformedForm as exc:
        raise Refused(400, "bad_boundary", f"bad request: {exc}") from None


def check_get(request: web.Request) -> None:
    """A GET carries an alert only in its query string: one with a body is refused rather than
    read (400). (Sentry's path takes no GET at all: the router answers 405.)"""
    if request.body_exists:
        raise Refused(
            400,
            "get_with_body",
            "a GET request's body is not read: POST the alert, or send its fields in the "
            "query string",
        )


def query_of(request: web.Request, source: str) -> Query:
    """The request's query string as its fields (400 when it cannot be read); Sentry's is never
    read (its signature covers the body alone: fields in its URL would pass unsigned)."""
    if source == "sentry":
        return Query()
    try:
        return read_query(request.rel_url.raw_query_string)
    except BadQuery as exc:
        raise Refused(400, "bad_query", str(exc)) from None


def unread_query_fields(query: Query, body: Body) -> int:
    """How many of the query's fields the alert leaves unread: none when the alert is them (a
    blank body on a path that reads its query), else all of them, as a body is never merged
    with its URL's fields."""
    if body.query is not None and reads_query(body.data):
        return 0
    return len(query.fields)
