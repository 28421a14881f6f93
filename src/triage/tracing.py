"""Traces from webhook to ticket: OpenTelemetry spans when the `otel` extra is installed and
`OTEL_EXPORTER_OTLP_ENDPOINT` (or `…_TRACES_ENDPOINT`) is set, and the trace id in every log
line and ticket of a message either way.

    triage ingest   `ingest.webhook` (a child of the sender's `traceparent` header); its context
                    goes on the queued message as the `traceparent` attribute
    triage run      `message.process`, one per message: a child of that attribute, else of
                    SQS's `AWSTraceHeader` (X-Ray); under it `summarise` and `sink.<name>`

The trace id is bound to the log context as `trace_id` for the whole message (structlog
contextvars) and handed to the sinks (`Effect.trace_id`). Without the extra or an endpoint no
span is made and nothing is exported, but a trace id that came with the message is still
carried, so logs and tickets join the sender's trace. The extra is imported only when an
endpoint is set: triage runs without it.
"""

from __future__ import annotations

import os
import re
import threading
from collections.abc import Callable, Iterator, Mapping
from contextlib import AbstractContextManager, contextmanager, nullcontext
from contextvars import ContextVar
from typing import Any
from urllib.parse import unquote

import structlog

log = structlog.get_logger(__name__)

#: OpenTelemetry's exporter headers: an API key more often than not (`x-api-key=…`), and
#: OpenTelemetry's own warning about an entry it cannot read quotes the entry.
OTEL_HEADER_VARIABLES = ("OTEL_EXPORTER_OTLP_HEADERS", "OTEL_EXPORTER_OTLP_TRACES_HEADERS")


def hold_exporter_headers(environ: Mapping[str, str]) -> None:
    """Hold each credential among the exporter's headers (`name=value`, or a bare value whose
    name was forgotten, which OpenTelemetry's warning quotes whole): redacted wherever it
    appears. A named header's value is one when its name says so or it reads as a key
    (`_credential_header`); a tenant or a dataset is not."""
    from triage.redact import hold

    for name in OTEL_HEADER_VARIABLES:
        for entry in environ.get(name, "").split(","):
            key, equals, value = entry.partition("=")
            secret = (value if equals else key).strip()
            if equals and not _credential_header(unquote(key.strip()), unquote(secret)):
                continue
            hold(secret)
            hold(unquote(secret))


#: The fewest characters of a value that reads as a key under a header whose name does not
#: say secret (Honeycomb's `x-honeycomb-team`: 22 characters or 32 hex digits).
_KEY_CHARS = 16


def _credential_header(name: str, value: str) -> bool:
    """Whether exporter header `name=value` holds a credential: its name says secret
    (`x-api-key`, `Authorization`), or its value reads as a key (16 characters or more, with
    a digit or both cases). A held value is blanked by its exact text everywhere in the
    process, tickets and team dimensions included: Tempo's tenant (`X-Scope-OrgID=payments`)
    or Honeycomb's dataset (`production`) held blanked every team and word so spelled."""
    from triage.redact import secret_named

    if secret_named(name):
        return True
    mixed_case = any(c.isupper() for c in value) and any(c.islower() for c in value)
    return len(value) >= _KEY_CHARS and (mixed_case or any(c.isdigit() for c in value))


#: W3C trace context: version-traceid-parentid-flags. A later version may add fields; only
#: dash-separated hex ones are taken, never free text to carry on into the queue.
_TRACEPARENT = re.compile(
    r"(?P<version>[0-9a-f]{2})-(?P<trace>[0-9a-f]{32})-(?P<span>[0-9a-f]{16})-(?P<flags>[0-9a-f]{2})(?:-[0-9a-f]{1,64}){0,8}"
)
#: X-Ray: Root=1-<8 hex epoch>-<24 hex>;Parent=<16 hex>;Sampled=0|1 (any order, more keys).
_XRAY_ROOT = re.compile(r"(?:^|;)\s*Root=1-(?P<time>[0-9a-f]{8})-(?P<id>[0-9a-f]{24})(?:;|$)")
_XRAY_PARENT = re.compile(r"(?:^|;)\s*Parent=(?P<span>[0-9a-f]{16})(?:;|$)")
_XRAY_SAMPLED = re.compile(r"(?:^|;)\s*Sampled=(?P<flag>[01])(?:;|$)")
_ZERO_TRACE = "0" * 32
_ZERO_SPAN = "0" * 16

_trace_id: ContextVar[str | None] = ContextVar("triage_trace_id", default=None)


def current_trace_id() -> str | None:
    """The trace id of the message being handled in this task (None outside one, or untraced)."""
    return _trace_id.get()


def valid_traceparent(header: str | None) -> str | None:
    """`header` if it is a W3C traceparent with non-zero ids, else None (never forwarded)."""
    header = (header or "").strip()
    match = _TRACEPARENT.fullmatch(header) if len(header) <= 256 else None
    if match is None or match["version"] == "ff":
        return None
    if match["version"] == "00" and len(header) != 55:  # version 00 has exactly four fields
        return None
    if match["trace"] == _ZERO_TRACE or match["span"] == _ZERO_SPAN:
        return None
    return header


def from_xray(header: str | None) -> str | None:
    """SQS's `AWSTraceHeader` (X-Ray format) as a W3C traceparent: the X-Ray trace id is the
    W3C one with its version and dash removed. None when it has no root or parent."""
    if not header:
        return None
    root, parent = _XRAY_ROOT.search(header), _XRAY_PARENT.search(header)
    if root is None or parent is None:
        return None
    sampled = _XRAY_SAMPLED.search(header)
    flags = "01" if sampled is not None and sampled["flag"] == "1" else "00"
    return valid_traceparent(f"00-{root['time']}{root['id']}-{parent['span']}-{flags}")


def trace_id_of(traceparent: str | None) -> str | None:
    match = _TRACEPARENT.fullmatch(traceparent) if traceparent else None
    return match["trace"] if match else None


def carried_trace_id(traceparent: str | None, trace_header: str | None = None) -> str | None:
    """The trace id a message came with: its `traceparent` attribute's when valid, else its
    AWSTraceHeader's (X-Ray); None when untraced. What a line about the message names when it
    is said outside the message's own task (a batch's delete, the heartbeat, a stop), where
    the log context holds no trace of it."""
    return trace_id_of(valid_traceparent(traceparent) or from_xray(trace_header))


class _Bound(AbstractContextManager[str | None]):
    """`trace_id` bound for a message (`current_trace_id`, and `trace_id` in the log context
    when there is one), unbound on the way out, the message failing or not; entering it gives
    the trace id. A class rather than a generator: without spans it is all a message's trace
    costs, once per message of a storm (0.9 us against 3.4 for the generators it replaced)."""

    __slots__ = ("_logged", "_token", "_trace_id_value")

    def __init__(self, trace_id: str | None) -> None:
        self._trace_id_value = trace_id

    def __enter__(self) -> str | None:
        trace_id = self._trace_id_value
        self._token = _trace_id.set(trace_id)
        # Bound and reset by token: `bound_contextvars` copies the whole log context to restore
        # it (7 us against 1.8 us), and this runs for every message that carries a trace.
        self._logged = structlog.contextvars.bind_contextvars(trace_id=trace_id) if trace_id else {}
        return trace_id

    def __exit__(self, *exc_info: object) -> None:
        structlog.contextvars.reset_contextvars(**self._logged)
        _trace_id.reset(self._token)


#: A message that came with no trace, while none is bound: the context it is worked in
#: already has no trace id, so there is nothing to bind (about 1.5 us a message of a storm).
_UNTRACED: AbstractContextManager[str | None] = nullcontext()


class Tracing:
    """One process's tracer. `tracer` is an OpenTelemetry Tracer, or None for no spans."""

    def __init__(self, tracer: Any = None, shutdown: Callable[[], object] | None = None) -> None:
        self._tracer = tracer
        self._shutdown = shutdown

    @property
    def enabled(self) -> bool:
        return self._tracer is not None

    @classmethod
    def from_provider(cls, provider: Any) -> Tracing:
        """Spans through an OpenTelemetry TracerProvider the caller owns (tests: an in-memory
        exporter)."""
        return cls(provider.get_tracer("triage"))

    @classmethod
    def from_environment(cls, service: str) -> Tracing:
        """OTLP/HTTP export when `OTEL_EXPORTER_OTLP_ENDPOINT` or `…_TRACES_ENDPOINT` is set
        (the exporter reads its other `OTEL_*` variables itself); else no spans. The exporter's
        headers are held as credentials first, in every process that traces."""
        if not (
            os.environ.get("OTEL_EXPORTER_OTLP_ENDPOINT")
            or os.environ.get("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT")
        ):
            return cls()
        from triage.settings import tracing_endpoint_problem

        problem = tracing_endpoint_problem(os.environ)
        if problem is not None:  # one line naming the variable: its value may hold a password
            log.warning("tracing.off", reason=problem)
            return cls()
        hold_exporter_headers(os.environ)
        try:
            from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
            from opentelemetry.sdk.resources import Resource
            from opentelemetry.sdk.trace import TracerProvider
            from opentelemetry.sdk.trace.export import BatchSpanProcessor
        except ImportError:
            log.warning(
                "tracing.unavailable",
                reason="OTEL_EXPORTER_OTLP_ENDPOINT is set, but the otel extra is not "
                "installed: pip install 'triage[otel]'",
            )
            return cls()
        otel_service = os.environ.get("OTEL_SERVICE_NAME", service)
        resource = Resource.create({"service.name": otel_service})
        # Shut down by `shutdown()`, bounded; OpenTelemetry's own exit hook would wait again.
        provider = TracerProvider(resource=resource, shutdown_on_exit=False)
        provider.add_span_processor(BatchSpanProcessor(OTLPSpanExporter()))
        # The spans' service name under a key of its own: `service` is `triage` on every
        # line, the gateway's too, and a log query on it must find this one.
        log.info("tracing.enabled", exporter="otlp/http", otel_service=otel_service)
        return cls(provider.get_tracer("triage"), provider.shutdown)

    #: How long the export of what is buffered may hold up the process's exit.
    SHUTDOWN_S = 1.0

    def shutdown(self) -> None:
        """Export what is buffered (at exit), for at most SHUTDOWN_S: a collector that takes
        the connection and never answers held the exit for the exporter's 10 s timeout, past
        the stop budget ECS gives (30 s, most of it the drain's). The export goes on in a
        daemon thread, which the exit does not wait for."""
        if self._shutdown is None:
            return
        export = threading.Thread(target=self._shutdown, name="tracing-shutdown", daemon=True)
        export.start()
        export.join(self.SHUTDOWN_S)
        if export.is_alive():
            log.warning("tracing.shutdown_timeout", timeout_s=self.SHUTDOWN_S)

    def message(
        self, message_id: str, traceparent: str | None, trace_header: str | None = None
    ) -> AbstractContextManager[str | None]:
        """The span of one message, continuing `traceparent` (the gateway's message attribute)
        or else `trace_header` (SQS's AWSTraceHeader); its trace id bound for the message."""
        if self._tracer is None and not traceparent and not trace_header:
            # Untraced, and no span to make: nothing to bind unless a trace is bound already
            # (then it is unbound inside, as `_Bound(None)` does).
            return _UNTRACED if _trace_id.get() is None else _Bound(None)
        parent = valid_traceparent(traceparent) or from_xray(trace_header)
        if self._tracer is None:  # no span: only the trace id that came, bound
            return _Bound(trace_id_of(parent))
        return self._span(
            "message.process",
            parent,
            kind="CONSUMER",
            attributes={"messaging.system": "aws_sqs", "messaging.message.id": message_id},
        )

    def carried(
        self, traceparent: str | None, trace_header: str | None = None
    ) -> AbstractContextManager[str | None]:
        """The trace id a message came with (its `traceparent` attribute, else SQS's
        AWSTraceHeader) bound for a line said about it outside its span, without making a
        span: a stop giving it back undeleted, whose `message.dead_lettered` an operator finds
        by the trace id the ticket and every other line of it carry."""
        return _Bound(carried_trace_id(traceparent, trace_header))

    @contextmanager
    def webhook(self, traceparent: str | None, source: str) -> Iterator[str | None]:
        """The gateway's span of one webhook, continuing the sender's `traceparent`."""
        with self._span(
            "ingest.webhook",
            valid_traceparent(traceparent),
            kind="SERVER",
            attributes={"triage.source": source},
        ) as trace_id:
            yield trace_id

    def outgoing_traceparent(self, incoming: str | None) -> str | None:
        """What the gateway stores as the message's `traceparent`: its own span's context
        when it makes spans, else the sender's header as it came (when valid)."""
        if self._tracer is not None:
            from opentelemetry.trace.propagation.tracecontext import (
                TraceContextTextMapPropagator,
            )

            carrier: dict[str, str] = {}
            TraceContextTextMapPropagator().inject(carrier)
            if "traceparent" in carrier:
                return carrier["traceparent"]
        return valid_traceparent(incoming)

    def failed(self, exc: BaseException) -> None:
        """Mark the current span (a message's) failed by `exc`, as a span an exception escapes
        is marked: its class and fixed reason, never its text. A message's failure is caught
        inside its span (the message is released for a retry or the DLQ, not raised), so its
        `message.process` span would otherwise end as if it had gone well, and a tracing
        backend's error view would show no failed message. No-op without spans."""
        if self._tracer is None:
            return
        from opentelemetry import trace

        _mark_failed(trace.get_current_span(), exc)

    @contextmanager
    def span(self, name: str, **attributes: str) -> Iterator[None]:
        """A child span of the current one (no-op without spans)."""
        if self._tracer is None:
            yield
            return
        with (
            self._tracer.start_as_current_span(name, attributes=attributes, **_NO_TEXT) as span,
            _failures_named(span),
        ):
            yield

    @contextmanager
    def _span(
        self, name: str, parent: str | None, *, kind: str, attributes: dict[str, str]
    ) -> Iterator[str | None]:
        if self._tracer is None:
            with _Bound(trace_id_of(parent)) as trace_id:
                yield trace_id
            return
        from opentelemetry import trace
        from opentelemetry.trace.propagation.tracecontext import TraceContextTextMapPropagator

        context = TraceContextTextMapPropagator().extract({"traceparent": parent} if parent else {})
        with self._tracer.start_as_current_span(
            name,
            context=context,
            kind=getattr(trace.SpanKind, kind),
            attributes=attributes,
            **_NO_TEXT,
        ) as span:
            ids = span.get_span_context()
            trace_id = format(ids.trace_id, "032x") if ids.is_valid else trace_id_of(parent)
            with _Bound(trace_id), _failures_named(span):
                yield trace_id


#: OpenTelemetry would put an escaping exception's message and traceback on the span (an
#: `exception` event, the status description): text that may quote an alert or a service's
#: answer, exported unredacted. `_failures_named` records the failure without it.
_NO_TEXT = {"record_exception": False, "set_status_on_exception": False}
_REASON_CHARS = re.compile(r"[^A-Za-z0-9_.:-]+")


@contextmanager
def _failures_named(span: Any) -> Iterator[None]:
    """Mark the span failed when an exception escapes it (`_mark_failed`)."""
    try:
        yield
    except BaseException as exc:
        _mark_failed(span, exc)
        raise


def _mark_failed(span: Any, exc: BaseException) -> None:
    """Mark `span` failed by `exc`, naming only the exception's class and its fixed reason word
    (`SinkUnavailableError: sink_unavailable`), never its text."""
    from opentelemetry.trace import Status, StatusCode

    kind = type(exc).__name__
    reason = getattr(exc, "reason", None)
    if isinstance(reason, str):
        kind = f"{kind}: {_REASON_CHARS.sub('_', reason)[:64]}"
    span.set_attribute("error.type", type(exc).__name__)
    span.set_status(Status(StatusCode.ERROR, kind))


#: No spans, ids carried: the default wherever no Tracing is passed.
NO_SPANS = Tracing()
