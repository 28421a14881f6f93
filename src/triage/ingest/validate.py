"""Edge validation: the daemon's own normaliser reads each body before it is queued, so a
misconfigured sender sees at once, in the 422 answer, what the DLQ would have told an operator
days later.

A body is refused when it is not UTF-8 JSON that a normaliser reads, when its format belongs to
another source than the path's (an Alertmanager payload posted to `/v1/alerts/sentry`), or when
it holds characters SQS cannot carry (U+FFFE, U+FFFF). The reason quotes at most a few words of
the body, redacted and cut to one short line. A valid body without alerts (Grafana's test
notification, a Sentry installation webhook) is accepted: it is queued like any other and the
daemon logs it as skipped, so a contact point's Test button proves the whole path.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import Callable
from dataclasses import dataclass

from triage.errors import TriageError
from triage.normalize import recognise_body
from triage.normalize.common import cut

#: Formats (`triage.normalize.FORMATS`) each webhook path accepts.
ACCEPTED_FORMATS: dict[str, frozenset[str]] = {
    "grafana": frozenset({"grafana", "grafana-legacy"}),
    "alertmanager": frozenset({"alertmanager"}),
    "sentry": frozenset({"sentry"}),
    # The legacy Sentry plugin cannot sign: it posts here, the token in its URL (Basic).
    "generic": frozenset({"generic", "sentry-plugin"}),
    "threshold": frozenset({"threshold"}),
}
#: Bodies above this size are read on a worker thread, so the event loop keeps answering.
OFFLOAD_BODY_BYTES = 64 * 1024
#: The longest reason a 422 answer carries.
REASON_MAX = 300

# SQS carries #x9 | #xA | #xD | #x20-#xD7FF | #xE000-#xFFFD | #x10000-#x10FFFF. Valid JSON can
# hold no other control character unescaped, and UTF-8 no surrogate, which leaves these two.
_NOT_FOR_SQS = re.compile("[\ufffe\uffff]")


class Invalid(Exception):
    """Raised for a body the gateway refuses with 422; the text is the one-line reason."""


@dataclass(frozen=True, slots=True)
class Checked:
    """A body that may be queued: its text, and what the daemon will make of it."""

    text: str
    alerts: int
    skipped: tuple[str, ...]


def check(
    source: str, body: bytes, sentry_resource: str | None, redact: Callable[[str], str]
) -> Checked:
    """Read `body` as the daemon will; Invalid with a redacted one-line reason if it cannot."""
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise Invalid(f"decode: body is not UTF-8: {exc.reason} at byte {exc.start}") from None
    try:
        recognised = recognise_body(text, sentry_resource=sentry_resource)
    except TriageError as exc:
        raise Invalid(one_line(f"{exc.reason}: {exc}", redact)) from None
    accepted = ACCEPTED_FORMATS[source]
    if recognised.format not in accepted:
        owner = next(
            (s for s, names in ACCEPTED_FORMATS.items() if recognised.format in names), None
        )
        where = (
            f"post it to /v1/alerts/{owner}"
            if owner
            else "it reaches the queue through SNS, not this gateway"
        )
        raise Invalid(f"wrong_source: this is {recognised.format} JSON, not {source}; {where}")
    if _NOT_FOR_SQS.search(text):
        raise Invalid("decode: body holds U+FFFE or U+FFFF, characters SQS cannot carry")
    normalized = recognised.normalized
    return Checked(text, len(normalized.alerts), tuple(s.reason for s in normalized.skipped))


async def check_off_loop(
    source: str, body: bytes, sentry_resource: str | None, redact: Callable[[str], str]
) -> Checked:
    """`check`, on a worker thread for large bodies (parsing is CPU work)."""
    if len(body) > OFFLOAD_BODY_BYTES:
        return await asyncio.to_thread(check, source, body, sentry_resource, redact)
    return check(source, body, sentry_resource, redact)


def one_line(reason: str, redact: Callable[[str], str]) -> str:
    """A reason safe to answer with: redacted, on one line, at most REASON_MAX characters."""
    flat = " ".join(redact(reason).split())
    return cut(flat, REASON_MAX, ellipsis=True)
