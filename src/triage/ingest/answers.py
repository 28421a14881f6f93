"""How a webhook request is answered, whatever became of it: the JSON the sender reads, with the
request's id in it and in `X-Request-Id`; its count and latency (`IngestRequests`,
`IngestLatency`); and its one log line, `ingest.accepted`, `ingest.duplicate` or
`ingest.refused` (bounded: ingest/lines.py), with the source, status, id and size, never the
body or a credential.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

import structlog
from aiohttp import web

from triage.ingest.auth import challenge
from triage.ingest.lines import RefusalLines
from triage.ingest.refused import Refused
from triage.metrics import Metrics

log = structlog.get_logger(__name__)


@dataclass(frozen=True, slots=True)
class Accepted:
    """What a 2xx reports: the SQS message id, the body's size, and what the daemon will find."""

    message_id: str
    size_bytes: int
    alerts: int
    skipped: tuple[str, ...]
    #: A delivery accepted before (a Sentry retry, or a replay): answered 200, queued once.
    duplicate: bool = False
    #: Messages the body became: more than one for a batch of alerts too big for one.
    messages: int = 1
    #: Query-string fields the alert left unread (a body is never merged with them).
    query_ignored: int = 0
    #: The names of fields dropped as credentials (ingest/credentials.py), redacted, as shown.
    dropped_fields: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Handling:
    """One request being answered: the source its metrics name, its id, and when it started
    (`time.perf_counter`)."""

    source: str
    request_id: str
    started: float

    def duration_ms(self) -> float:
        return round((time.perf_counter() - self.started) * 1000, 2)


class Answers:
    """Answers each request, counts it and writes its line."""

    def __init__(self, metrics: Metrics, refusal_lines: RefusalLines) -> None:
        self.metrics = metrics
        self.refusal_lines = refusal_lines

    def accepted(self, handling: Handling, status: int, accepted: Accepted) -> web.Response:
        """`status` (202, or 200 on Alertmanager's API path) for a body SQS holds."""
        if accepted.duplicate:
            return self._duplicate(handling, accepted.size_bytes)
        self._count(handling, status)
        fields: dict[str, Any] = {}
        if accepted.query_ignored:
            fields["query_ignored"] = accepted.query_ignored
        if accepted.dropped_fields:
            fields["dropped_fields"] = list(accepted.dropped_fields)
        log.info(
            "ingest.accepted",
            source=handling.source,
            status=status,
            request_id=handling.request_id,
            size_bytes=accepted.size_bytes,
            alerts=accepted.alerts,
            message_id=accepted.message_id,
            messages=accepted.messages,
            duration_ms=handling.duration_ms(),
            **fields,
        )
        answer: dict[str, Any] = {
            "message_id": accepted.message_id,
            "alerts": accepted.alerts,
            "request_id": handling.request_id,
        }
        if accepted.messages > 1:
            answer["messages"] = accepted.messages
        if accepted.skipped:
            answer["skipped"] = list(accepted.skipped)
        if accepted.dropped_fields:
            answer["dropped_fields"] = list(accepted.dropped_fields)
        return web.json_response(
            answer, status=status, headers={"X-Request-Id": handling.request_id}
        )

    def refused(
        self, handling: Handling, request: web.Request, refused: Refused, size: int | None
    ) -> web.Response:
        """The refusal's status and error, with the headers it asks for."""
        self._count(handling, refused.status)
        fields: dict[str, Any] = {}
        if refused.detail is not None:
            fields["detail"] = refused.detail
        if refused.logged:  # (not: another line says it all)
            self.refusal_lines.refused(
                refused.status,
                refused.reason,
                source=handling.source,
                request_id=handling.request_id,
                size_bytes=size,
                duration_ms=handling.duration_ms(),
                **fields,
            )
        headers = {**refused.headers, "X-Request-Id": handling.request_id}
        if refused.retry_after_s is not None:
            headers["Retry-After"] = str(refused.retry_after_s)
        if refused.status == 401:
            # Bearer, and Basic only for a request that tried it (auth.challenge says why).
            headers["WWW-Authenticate"] = challenge(request.headers)
        response = web.json_response(
            {"error": refused.error, "request_id": handling.request_id},
            status=refused.status,
            headers=headers,
        )
        if refused.status == 413 or not request.content.is_eof():
            # The rest of the body is not read (a sender that asked `Expect: 100-continue` may
            # not even send it): the answer says this connection is done, its end follows the
            # answer at once, and what the sender still sends is dropped for at most a second
            # (ingest/server.py).
            response.force_close()
        return response

    def _duplicate(self, handling: Handling, size: int) -> web.Response:
        """200 for a delivery this process already queued: nothing is queued again."""
        self._count(handling, 200)
        log.info(
            "ingest.duplicate",
            source=handling.source,
            status=200,
            request_id=handling.request_id,
            size_bytes=size,
            duration_ms=handling.duration_ms(),
        )
        answer = {"duplicate": True, "request_id": handling.request_id}
        return web.json_response(answer, status=200, headers={"X-Request-Id": handling.request_id})

    def _count(self, handling: Handling, status: int) -> None:
        self.metrics.incr("IngestRequests", source=handling.source, status=str(status))
        self.metrics.observe(
            "IngestLatency", (time.perf_counter() - handling.started) * 1000, source=handling.source
        )
