"""The HTTP face of `triage ingest` (aiohttp.web): its routes, and the flow that takes a
request from its head to SQS, answering 202 once SQS holds the body, or why not.

Routes: `POST /v1/alerts/{source}`, and `GET` there for a sender that puts the alert's fields
in the query string (every source's path but Sentry's, which signs a body); Alertmanager's own
API path, `POST /api/v2/alerts` (and `/api/v1/alerts`, both also under any path prefix), where
Prometheus, vmalert and other rule evaluators send to the gateway as to an Alertmanager: the
`alertmanager` source's token, an array of alerts only (the webhook group goes to
`/v1/alerts/alertmanager`), answered 200 as Alertmanager does, the whole batch one SQS message
as a webhook group is; `GET /healthz` and `GET /readyz`; `OPTIONS *` (200, naming the methods
the gateway takes). Any other path (a source that does
not exist included) is 404; a method neither HTTP defines nor the gateway takes (methods are
case-sensitive: `post` is one) is 501, as on the operators' port (RFC 9110 9.1,
`request_head.not_implemented`); any other, 405 naming in `Allow` only the methods the path
takes.

One request, in order (each step's refusal in brackets):

1. Its head: at most 64 KiB (431); a Host that names a host and a target without a
   `#fragment` (400); the gateway not stopping (503); a sender not limited for the wrong
   credentials it presented (503 with Retry-After, auth_limit.py: `_AUTH_LIMITED_STATUS`
   says why not 429); an `Expect` other than
   100-continue (417; on every path, /healthz and paths that do not exist too, as on the
   operators' port); no browser request made by another site's page (403: `Sec-Fetch-Site`
   `cross-site` or `same-site`, or an `Origin` without Fetch Metadata, `_cross_site`); the
   tokens read (503 when they cannot be); a source that has a token, in the tokens held or in
   the secret read again at most once a refresh interval (404, as for a source that does not
   exist); a GET with a body (400); no
   credential header twice (400); a query string of at most 1,000 parameters (400,
   ingest/shape.py).
2. Its credential (401). A `?token=` is none (ingest/query.py says why; the 401 then says
   where the token goes). A signature over the body (Sentry's; Grafana's, sent instead of a
   token) is checked once the body is read; its shape, and the time sent with it
   (`Sentry-Hook-Timestamp`, `X-Grafana-Alerting-Timestamp`), from the head (401 when stale).
3. The source's rate (503 with Retry-After, which senders retry: `_take_rate`). A signed request's is taken after its
   signature; a signature accepted within the replay window (with Sentry's, the same
   `Sentry-Hook-Timestamp`) is then 200 `duplicate`, nothing queued (ingest/replay.py).
4. The body's shape from the head, and the body (ingest/shape.py, ingest/reader.py): a charset,
   a media type and a multipart boundary the gateway reads (415, 400); at most 1 MiB (413, by
   Content-Length before reading when it is given); a coding it decodes (415; a transfer coding
   besides chunked: 501); within the time and the byte budgets (408, 503). Only then
   `100 Continue`, if the sender waits for it.
5. The normaliser reads it as the path's source (422 with its one-line reason; ingest/validate.py):
   a form, or the query's fields when the body is blank, as the JSON of its fields (the JSON
   one field carries, `payload` or `data`, when those fields are no alert: the other fields
   beside it; ingest/carried.py), every field the redactor blanks by its name dropped (a
   credential's name, or a name and a secret's shape: ingest/credentials.py); a multipart
   body that is not one (400) or holds a file (415); on the generic and threshold paths, a batch
   of alerts as one message each, at most 100 (413, ingest/several.py); at most 10,000 alerts
   (413, validate.py's `MAX_ALERTS`); a body that may cost more than a few milliseconds is read
   on a worker thread, each source's one at a time. A body is never merged
   with its query's fields: the `ingest.accepted` line counts those left unread.
6. Each message fits the queue's message size (413; Alertmanager's API batches are split to fit,
   ingest/messages.py), with every token the gateway holds blanked wherever it stands
   (ingest/credentials.py's `without_tokens`; a query field holding one is dropped by name);
   the queue answers (503 with Retry-After at once when it has not yet, or its
   last call got no answer: ingest/probe.py); SQS holds it (202 with the message id; 503 with
   Retry-After when SQS did not take it, ingest/outbox.py; 422 when SQS refuses the body for
   what it holds, but 503 when it refuses what a FIFO queue requires of our request, no fault
   of the sender's: ingest/probe.py's `fifo_refused`).

Each request gets an id, returned in the answer and the `X-Request-Id` header, and one log line
(`ingest.accepted` / `ingest.refused`; at most 20 refusals a second are logged, the rest summed
up: ingest/lines.py) with the source, status, id and size, and the names of the fields
dropped (`dropped_fields`, also in the answer): never the body or a credential
(ingest/answers.py); a request whose sender went away before it was whole or answered has its
connection's `ingest.aborted` line too (instead, for a body cut short: ingest/aborts.py). Every
step refuses by raising `Refused` (ingest/refused.py). A request that meets a bug is answered
500 with an `ingest.error` line and its traceback, at most ERROR_LINES_PER_S a second (the rest
summed up by error type in one `ingest.error_suppressed` line).
"""

from __future__ import annotations

import asyncio
import functools
import math
import re
import time
import uuid
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import Any

import structlog
from aiohttp import web

import triage.ingest.auth as auth
import triage.ingest.bad_http as bad_http
from triage.auth_limit import GATEWAY, CredentialFailures
from triage.errors import ConfigError
from triage.health import Health
from triage.ingest.aborts import SENDER, SOURCE
from triage.ingest.answers import Accepted, Answers, Handling
from triage.ingest.auth import TokenStore, TokensUnavailable
from triage.ingest.credentials import shown_names, without_tokens
from triage.ingest.limits import Limits
from triage.ingest.lines import RefusalLines
from triage.ingest.messages import messages_for, request_stamp
from triage.ingest.outbox import (
    SOURCE_ATTRIBUTE,
    MessageRejected,
    Outbox,
    OutboxFull,
    Outgoing,
    QueueUnavailable,
)
from triage.ingest.probe import QueueProbe
from triage.ingest.query import Query, without_token_values
from triage.ingest.reader import BodyReader, sender
from triage.ingest.refused import Refused
from triage.ingest.replay import BadTimestamp, Replayed, ReplayGuard, check_timestamp
from triage.ingest.server import (
    CONTINUE,
    MAX_HEAD_BYTES,
    ServerWide,
    expectations,
    name_the_server,
    no_interim,
    unrouted_request,
)
from triage.ingest.shape import (
    Body,
    check_get,
    declared_codec,
    form_shape,
    query_of,
    unread_query_fields,
)
from triage.ingest.validate import (
    API_FORMATS,
    OFFLOAD_BODY_BYTES,
    Checked,
    Invalid,
    check_off_loop,
    off_loop,
    sqs_safe,
)
from triage.linebudget import LineBudget
from triage.metrics import Metrics
from triage.normalize.sentry import resource_hint
from triage.ratelimit import TokenBucket
from triage.redact import Redactor
from triage.request_head import HOST_FAULTS, host_fault, not_implemented
from triage.sqs.fifo import FIFO_SEND_REFUSALS
from triage.sqs.identity import GATEWAY_ID_ATTRIBUTE
from triage.sqs.inbox import (
    RECEIVED_AT_ATTRIBUTE,
    SENTRY_RESOURCE_ATTRIBUTE,
    TRACEPARENT_ATTRIBUTE,
)
from triage.tracing import NO_SPANS, Tracing

log = structlog.get_logger(__name__)

#: Message attributes every queued webhook carries (read by `triage.sqs.inbox.Message.attributes`),
#: with SOURCE_ATTRIBUTE (ingest/outbox.py: a source's share of the webhooks waiting counts by it).
REQUEST_ID_ATTRIBUTE = "request_id"
#: A source's bucket holds this many seconds of its rate, so a short burst passes.
BURST_S = 5.0
#: What a 503 asks the sender to wait (Alertmanager and Grafana retry 5xx on their own).
RETRY_AFTER_S = 5
#: A 401's hint when the token was put in the query string (ingest/query.py says why it is no
#: credential): it says nothing about the token itself.
_QUERY_TOKEN = (
    "unauthorized: a token in the query string is not read; send it as "
    "'Authorization: Bearer <token>', or as the URL's user info (https://triage:<token>@host/…)"
)
#: A 401's hint for an Authorization header a sender's set-up got wrong (`auth.misformed`):
#: what to change, never the credential.
_MISFORMED = {
    # `Bearer Bearer …`: the credentials field holds the scheme as well as the token.
    "scheme_repeated": (
        "unauthorized: the Authorization header names its scheme twice; configure the "
        "sender's credentials as the token alone (it adds 'Bearer ' itself)"
    ),
    # A no-break space a copied page put after the token, or a space inside it.
    "bearer_not_token": (
        "unauthorized: the Bearer credential holds a character no token has (a space, or one "
        "that is not ASCII such as a no-break space from a copied page); send the token alone"
    ),
    # `Authorization: <token>`: a header set by hand, without its scheme.
    "no_scheme": ("unauthorized: the Authorization header names no scheme; send 'Bearer <token>'"),
    # `echo "user:$TOKEN" | base64`: echo's newline is encoded into the password.
    "basic_password_spaced": (
        "unauthorized: HTTP Basic's password has whitespace around it (a newline from echo?); "
        "encode user:token without it (printf, or echo -n)"
    ),
    # The token in Basic's user field: proxies log user names, so only the password is read.
    "basic_without_password": (
        "unauthorized: HTTP Basic's password is empty; the token goes in the password "
        "(any user name)"
    ),
}
#: Where a request keeps its sender (`reader.sender`), for the credential checks.
_WHO = web.RequestKey("triage_ingest_sender_key", str)
#: The status of a sender limited for its wrong credentials (auth_limit.py): 503, not 429.
#: An honest sender behind a guesser's address (a NAT) whose token was not right within
#: PROVEN_S is limited too, and senders drop a 4xx: Alertmanager retries only 5xx (its
#: webhook sets no extra retry codes), SNS only server errors; a 503 they retry, and the
#: alert is delayed, not lost. To the guesser the two say the same: nothing was compared.
_AUTH_LIMITED_STATUS = 503
#: Its error.
_AUTH_LIMITED = (
    "too many requests with a wrong credential from this address: none is compared until "
    "Retry-After has passed; check the sender's token"
)
#: One answer for a path that is not the gateway's (a source that does not exist included) and
#: a source that is off, so neither can be told apart.
_NOT_FOUND = "not found"
#: What the router's own refusals are called in the log, and answered.
_ROUTER_REFUSALS = {
    404: ("unknown_path", _NOT_FOUND),
    405: ("method_not_allowed", "method not allowed"),
}
#: Headers that hold one value: sent twice, which one counts is a guess (a proxy in front may
#: have checked the other), so such a request is refused. (aiohttp itself refuses a second
#: Content-Type, Content-Length or Transfer-Encoding.)
_ONE_VALUE = (
    "Authorization",
    "X-Grafana-Token",
    *auth.GRAFANA_SIGNATURE_HEADERS,
    auth.GRAFANA_TIMESTAMP_HEADER,
    "Sentry-Hook-Signature",
    "Sentry-Hook-Resource",
    "Sentry-Hook-Timestamp",
)


def _bad_host(request: web.Request) -> Refused | None:
    """The 400 for a request whose `Host` breaks RFC 9112 3.2 (`request_head.host_fault`: a
    proxy in front may route by a Host the gateway would ignore), None for a good one. aiohttp
    3.13.4 and later refuse a missing or repeated one as they parse; earlier ones took two."""
    fault = host_fault(request.headers.getall("Host", ()), http_11=request.version >= (1, 1))
    if fault is None:
        return None
    return Refused(400, fault, f"bad request: {HOST_FAULTS[fault]}")


def _fragment(request: web.Request) -> Refused | None:
    """The 400 for a request target holding a `#fragment`: RFC 9112 3.2's targets have none (a
    client keeps it to itself), so one sent is a sender's URL handling gone wrong, which the
    router, reading the path without it, would silently take. None for a target without."""
    if "#" not in request.raw_path:
        return None
    return Refused(400, "fragment", "bad request: a request target holds no #fragment")


#: Fetch Metadata's `Sec-Fetch-Site` values for a request another site's page made.
_OTHER_SITES = frozenset({"cross-site", "same-site"})
_CROSS_SITE = "forbidden: a browser request made by another site's page is not taken"
#: The media types a page can send to another site without asking it first (CORS's "simple"
#: requests: a form, or `fetch` in `no-cors` mode); any other type is preflighted, which the
#: gateway refuses (405 to OPTIONS), so a page can forge no JSON post.
_FORM_TYPES = frozenset({"application/x-www-form-urlencoded", "multipart/form-data", "text/plain"})


def _cross_site(request: web.Request) -> Refused | None:
    """The 403 for a request a browser made for another site's page: a form posted, an image
    or a link followed there, carrying the Basic credentials the browser cached when the
    operator once opened the webhook URL (CSRF). Fetch Metadata says so (`Sec-Fetch-Site`
    `cross-site`, or `same-site`: another host of the same site); a browser without it sends
    an `Origin` on such a POST. No webhook sender sends either (Grafana, Alertmanager,
    Sentry, and uptime checkers are HTTP clients, not pages), and the gateway serves no page
    of its own that could. None for any other request: `same-origin`, and `none` (the user
    typed the URL), are no forgery. An `Origin` alone (an older browser) is refused only on
    what a page can send another site unasked (a GET, or a form's media type): a server that
    adds an `Origin` to its JSON posts is still taken."""
    site = request.headers.get("Sec-Fetch-Site")
    if site is not None:
        return (
            Refused(403, "cross_site", _CROSS_SITE)
            if site.strip().lower() in _OTHER_SITES
            else None
        )
    if "Origin" in request.headers and _forgeable(request):
        return Refused(403, "cross_site", _CROSS_SITE)
    return None


def _forgeable(request: web.Request) -> bool:
    """Whether another site's page could have sent `request` without asking the gateway first:
    a GET or HEAD, or a body of a form's media type (or none named)."""
    if request.method in ("GET", "HEAD"):
        return True
    declared = request.headers.get("Content-Type", "")
    return declared.split(";", 1)[0].strip().lower() in _FORM_TYPES | {""}


#: What `OPTIONS *` answers the gateway as a whole does: every method some path takes.
SERVER_METHODS = ", ".join(bad_http.SERVER_METHODS)


def _unmet_expectation(request: web.BaseRequest) -> Refused | None:
    """The 417 for a request with an expectation other than 100-continue, whatever its path and
    method (RFC 9110 10.1.1; the operators' port refuses one from the head too), or None. Every
    Expect header and item counts: one the gateway does not meet beside `100-continue` must not
    be read past; an empty one (`Expect:` blank) asks nothing."""
    if any(expect != CONTINUE for expect in expectations(request)):
        return Refused(417, "expectation_failed", "the only Expect understood is 100-continue")
    return None


def _server_options(request: web.Request) -> web.Response:
    """`OPTIONS *` (RFC 9112 3.2.4: the server as a whole, not a path), a ping that reads nothing
    and changes nothing: 200 naming in `Allow` every method some path takes, as the operators'
    port answers it (RFC 9110 9.3.7 has a server answer it; no route can, none being `*`)."""
    response = web.Response(status=200, headers={"Allow": SERVER_METHODS})
    if request.body_exists:
        response.force_close()  # its body is not read
    return response


@dataclass(frozen=True, slots=True)
class Route:
    """What a path posts to: the source whose token, rate and metrics it uses, the formats it
    takes (None: the source's webhook formats), and the status that says the body is queued."""

    source: str
    formats: frozenset[str] | None = None
    accepted_status: int = 202


#: Alertmanager's API, as a rule evaluator's notifier posts to it: any 2xx is success to
#: Prometheus and vmalert, and Alertmanager itself answers 200.
ALERTMANAGER_API = Route("alertmanager", API_FORMATS, 200)
#: The API's paths (`api_version: v2`, and v1 for Prometheus before 3.0); a `path_prefix` is
#: any path before them, so a gateway behind a proxy's path rule needs no rewrite.
ALERTMANAGER_API_PATHS = ("/api/v{version:[12]}/alerts", "/{prefix:.+}/api/v{version:[12]}/alerts")
#: The sources that take a GET, their alert in the query string: every one but Sentry, whose
#: signature covers a body (a GET has none).
GET_SOURCES = tuple(source for source in auth.SOURCES if source != "sentry")


def _webhook_path(sources: tuple[str, ...]) -> str:
    """The webhook path for these sources only. The router then answers every other path and
    method itself: 404 for a name that is no source (a path that takes nothing), 405 naming in
    `Allow` only what the path takes (on Sentry's, only POST). It matches the path
    percent-decoded: `sentr%79` is Sentry's path too."""
    return "/v1/alerts/{source:" + "|".join(re.escape(source) for source in sources) + "}"


@dataclass(frozen=True, slots=True)
class Arrival:
    """What is known of a request the moment it arrives: its id, and the time (UTC, to the
    microsecond; its `received_at` is reserved from it once its alerts are counted,
    `request_stamp`)."""

    request_id: str
    arrived: datetime


def _head_bytes(request: web.Request) -> int:
    """About how many bytes the request's head took: its request line and header lines."""
    line = len(request.method) + len(request.raw_path) + len(" HTTP/1.1\r\n") + 1
    return line + sum(len(name) + len(value) + 4 for name, value in request.raw_headers)


def _check_one_value(request: web.Request) -> None:
    """No header of `_ONE_VALUE` sent twice (400)."""
    for name in _ONE_VALUE:
        if len(request.headers.getall(name, ())) > 1:
            raise Refused(400, "duplicate_header", f"more than one {name} header")


def _traceparent(request: web.Request) -> str | None:
    """The sender's `traceparent`: None when it sent none, or more than one (W3C Trace Context:
    which one is meant is a guess, so neither is continued or carried)."""
    values = request.headers.getall("traceparent", ())
    return values[0] if len(values) == 1 else None


def _check_sent_at(
    value: str | None, header: str = "Sentry-Hook-Timestamp", *, now: Callable[[], float]
) -> None:
    """A signed webhook's time of sending, when sent, must be near our clock (`now`):
    Sentry's `Sentry-Hook-Timestamp` is not signed, so this stops only a replay that kept it;
    Grafana's is (ingest/replay.py says what is left)."""
    try:
        check_timestamp(value, header=header, now=now)
    except BadTimestamp as exc:
        if exc.stale:
            raise Refused(401, "stale_timestamp", str(exc)) from None
        raise Refused(400, "bad_timestamp", str(exc)) from None


def _replay_key(
    request: web.Request, source: str, signature: auth.BodySignature
) -> tuple[str, float | None]:
    """What the replay guard remembers a signed delivery by, and the time sent with it (None
    when none was). Sentry's body alone is signed, and Sentry sends a byte-identical one for an
    issue resolved, unresolved and resolved again: its `Sentry-Hook-Timestamp` tells those
    apart, so it is part of the key: its whole second, as Sentry stamps it. That time is not
    signed, so with its fractions in the key one capture would pass once per fraction added
    (`.25`, `.5`, …), as often as the source's rate allows; by the second, at most once per
    second of the window. Grafana's time, when sent, is signed: its digest differs already."""
    key = f"{source}:{signature.digest.strip().lower()}"
    if source == "sentry":
        sent = request.headers.get("Sentry-Hook-Timestamp")
        if sent is None:
            return key, None
        sent_at = float(sent)  # check_timestamp read it as a time
        # One key however the same second is written (`1700000000`, `1700000000.0`, `.5`).
        return f"{key}:{math.floor(sent_at)}", sent_at
    return key, None if signature.signed_time is None else float(signature.signed_time)


def _without_tokens(checked: Checked, tokens: list[str]) -> Checked:
    """`checked` with every token the gateway holds blanked in what is queued (its text, and
    each part of a batch), written again as SQS takes it; as it was when none is in it."""
    text = without_tokens(checked.text, tokens)
    parts = tuple(without_tokens(part, tokens) for part in checked.parts)
    if text is None and all(part is None for part in parts):
        return checked
    if text is not None:
        text = sqs_safe(text)
        checked = replace(checked, text=text, size_bytes=len(text.encode("utf-8")))
    fixed = tuple(
        part if blanked is None else sqs_safe(blanked)
        for part, blanked in zip(checked.parts, parts, strict=True)
    )
    return replace(checked, parts=fixed)


class _QueueSizeLowered(Exception):
    """SQS refused a message larger than the queue's MaximumMessageSize as asked again: the
    size read before (at start) is stale, and the messages are made again for the new one."""


#: `ingest.error` lines (each with its traceback) a second, at most: a request that meets a bug
#: may be sent again and again, by anyone; the rest are summed up by error type in one
#: `ingest.error_suppressed` line.
ERROR_LINES_PER_S = 10


def _errors_suppressed(suppressed: Counter[str]) -> None:
    log.warning("ingest.error_suppressed", count=suppressed.total(), errors=dict(suppressed))


class Gateway:
    """The handlers, and the state they share; `application()` wires them into aiohttp."""

    def __init__(
        self,
        tokens: TokenStore,
        outbox: Outbox,
        probe: QueueProbe,
        limits: Limits,
        metrics: Metrics,
        health: Health,
        *,
        clock: Callable[[], float] = time.monotonic,
        tracing: Tracing = NO_SPANS,
    ) -> None:
        self.tokens = tokens
        #: A span per webhook; its context is the queued message's `traceparent`.
        self.tracing = tracing
        self.health = health
        self.outbox = outbox
        self.probe = probe
        self.limits = limits
        self.metrics = metrics
        capacity = max(1, math.ceil(limits.rate_per_s * BURST_S))
        self._buckets = {
            source: TokenBucket(capacity, capacity / limits.rate_per_s, clock=clock)
            for source in auth.SOURCES
        }
        #: Each source's costly bodies are read one at a time (validate.py's `check_off_loop`):
        #: the worker threads are shared, and one token holder's must not take them all.
        self._lanes = {source: asyncio.Semaphore(1) for source in auth.SOURCES}
        #: Sentry signatures accepted lately: a captured delivery cannot be replayed at will.
        self.replays = ReplayGuard(wall_clock=probe.clock.sqs_time)
        #: The ingest.refused lines, bounded (anyone can cause refusals).
        self.refusal_lines = RefusalLines()
        #: The ingest.error lines of requests that met a bug, bounded as well.
        self.error_lines = LineBudget(ERROR_LINES_PER_S, 1.0, _errors_suppressed, clock)
        #: Every request's answer, metrics and log line.
        self.answers = Answers(metrics, self.refusal_lines)
        # 422 reasons may quote the body: patterns, plus every token held, by value.
        self._redactor = Redactor(tokens.values)
        #: Set at shutdown: new requests are answered 503 while the accepted ones finish.
        self.draining = False
        self.in_flight = 0
        #: Reads bodies within `limits`, holding each one's bytes until it is answered.
        self.bodies = BodyReader()
        #: Wrong credentials by sender: a sender presenting too many is limited (503).
        self.failures = CredentialFailures(GATEWAY, clock)
        self._idle = asyncio.Event()
        self._idle.set()

    def flush_lines(self) -> None:
        """Write the summaries of the refusal and error lines not written (when stopping)."""
        self.refusal_lines.flush()
        self.error_lines.flush()

    def application(self) -> web.Application:
        app = web.Application(
            client_max_size=self.limits.max_body_bytes, middlewares=[self._unrouted()]
        )
        app.on_response_prepare.append(name_the_server)
        # `Expect: 100-continue` is answered by the body's reader, once the head has passed
        # every check.
        app.router.add_post(_webhook_path(auth.SOURCES), self.post_alert, expect_handler=no_interim)
        # A sender that can only GET (an uptime checker's alert in the query string); no HEAD.
        app.router.add_get(
            _webhook_path(GET_SOURCES), self.post_alert, allow_head=False, expect_handler=no_interim
        )
        for path in ALERTMANAGER_API_PATHS:
            app.router.add_post(path, self.post_api_alerts, expect_handler=no_interim)
        # (Neither reads a body: none is asked for with `100 Continue`.)
        app.router.add_get("/healthz", self.healthz, expect_handler=no_interim)
        app.router.add_get("/readyz", self.readyz, expect_handler=no_interim)
        # `OPTIONS *` (which the middleware answers): on no route, aiohttp's own expectation
        # handler would refuse an `Expect` it does not meet in plain text quoting it.
        server_wide = ServerWide()
        app.router.register_resource(server_wide)
        server_wide.add_route("OPTIONS", unrouted_request, expect_handler=no_interim)
        # Last: every other path and method lands here rather than on aiohttp's own refusal,
        # whose route would answer `Expect: 100-continue` before refusing.
        app.router.add_route("*", "/{path:.*}", unrouted_request, expect_handler=no_interim)
        return app

    def _unrouted(self) -> Any:
        """A middleware answering what aiohttp's router refuses (a path that is not the
        gateway's, a method a path does not take) like every other refusal: a JSON error with a
        request id and one ingest.refused line, instead of aiohttp's unlogged plain text."""

        @web.middleware
        async def unrouted(request: web.Request, handler: Any) -> web.StreamResponse:
            started = time.perf_counter()
            if _head_bytes(request) > MAX_HEAD_BYTES:
                # A head that came whole in one read never counted as unfinished
                # (server.py): the same limit, and the same answer, as one that trickled.
                too_large = Refused(
                    431, "head_too_large", f"bad request: request head over {MAX_HEAD_BYTES} bytes"
                )
                return self._unrouted_refusal(request, too_large, started)
            bad_head = _bad_host(request) or _fragment(request)
            if bad_head is not None:
                return self._unrouted_refusal(request, bad_head, started)
            if not_implemented(request.method, bad_http.SERVER_METHODS):
                # One the parser knows (PROPFIND, M-SEARCH …); the others are refused 501 as
                # it parses (bad_http.unknown_method).
                unknown = Refused(501, "not_implemented", bad_http.NOT_IMPLEMENTED)
                return self._unrouted_refusal(request, unknown, started)
            if request.method == "OPTIONS" and request.raw_path == "*":
                if (unmet := _unmet_expectation(request)) is not None:
                    return self._unrouted_refusal(request, unmet, started)
                return _server_options(request)
            try:
                response: web.StreamResponse = await handler(request)
            except web.HTTPException as exc:
                if exc.status < 400:
                    raise
                if (unmet := _unmet_expectation(request)) is not None:
                    # From the head, before the path is looked at, as on the operators' port.
                    return self._unrouted_refusal(request, unmet, started)
                reason, error = _ROUTER_REFUSALS.get(
                    exc.status, ("http_error", (exc.reason or "refused").lower())
                )
                allow = exc.headers.get("Allow")
                refused = Refused(
                    exc.status, reason, error, headers={"Allow": allow} if allow else None
                )
                return self._unrouted_refusal(request, refused, started)
            return response

        return unrouted

    def _unrouted_refusal(
        self, request: web.Request, refused: Refused, started: float
    ) -> web.Response:
        """A refusal before any handler: its source is "unknown", its id new."""
        handling = Handling("unknown", uuid.uuid4().hex, started)
        return self.answers.refused(handling, request, refused, request.content_length)

    async def wait_idle(self, timeout_s: float) -> bool:
        """Wait until no request is being handled; False if `timeout_s` passed first."""
        try:
            await asyncio.wait_for(self._idle.wait(), timeout_s)
        except TimeoutError:
            return False
        return True

    # --- Handlers -------------------------------------------------------------------------

    def _probe_with_body(self, request: web.Request) -> web.Response | None:
        """The 417 for a GET or HEAD of /healthz or /readyz with an Expect other than
        100-continue (`_unmet_expectation`), and the 400 for one that carries a body, as the webhook
        path's GET with one is refused: a body nobody reads would keep the connection (and
        the sender) waiting for it."""
        started = time.perf_counter()
        if (unmet := _unmet_expectation(request)) is not None:
            return self._unrouted_refusal(request, unmet, started)
        if not request.body_exists:
            return None
        refused = Refused(
            400, "get_with_body", f"bad request: a {request.method} request's body is not read"
        )
        return self._unrouted_refusal(request, refused, started)

    async def healthz(self, request: web.Request) -> web.Response:
        """Alive as the daemon's /healthz judges it (the event loop's lag under its bound, no
        watched loop stalled), 503 when not; `alive` alone, since anyone on the internet may
        ask: the lag and the loops' names are on the endpoint port."""
        if (refused := self._probe_with_body(request)) is not None:
            return refused
        alive = self.health.alive
        return web.json_response({"alive": alive}, status=200 if alive else 503)

    async def readyz(self, request: web.Request) -> web.Response:
        """The daemon's /readyz answer (`Health.readiness`: names and fixed reasons only), with
        the queue's condition asked again when the cached answer is stale."""
        if (refused := self._probe_with_body(request)) is not None:
            return refused
        await self.probe.ready()
        self.health.set("tokens", self.tokens.loaded, "" if self.tokens.loaded else "not read yet")
        readiness = self.health.readiness()
        return web.json_response(readiness, status=200 if readiness["ready"] else 503)

    async def post_alert(self, request: web.Request) -> web.StreamResponse:
        return await self._traced(request, Route(request.match_info["source"]))

    async def post_api_alerts(self, request: web.Request) -> web.StreamResponse:
        """Alerts posted as to Alertmanager's API (Prometheus' or vmalert's notifier)."""
        return await self._traced(request, ALERTMANAGER_API)

    async def _traced(self, request: web.Request, route: Route) -> web.StreamResponse:
        """`_handle` within the webhook's span (its context is the queued message's)."""
        source = route.source
        with self.tracing.webhook(_traceparent(request), source):
            response = await self._handle(request, route)
        if request.method == "GET":
            # A GET's answer may otherwise be cached, and a cached 202 queues nothing.
            response.headers["Cache-Control"] = "no-store"
        return response

    async def _handle(self, request: web.Request, route: Route) -> web.StreamResponse:
        """One webhook request, answered whatever becomes of it; counted in flight meanwhile,
        so the stop can wait for it."""
        started = time.perf_counter()
        # Stamped by SQS's clock (this host's while they agree): the daemon believes a
        # stamp only within seconds of SentTimestamp, and the stamp keeps a batch's order.
        arrived = datetime.fromtimestamp(self.probe.clock.sqs_time(), UTC)
        arrival = Arrival(request_id=uuid.uuid4().hex, arrived=arrived)
        source = route.source  # one of auth.SOURCES: the router takes no other
        # For the ingest.aborted line of an answer its sender never reads.
        request[SOURCE] = source
        who = request[_WHO] = sender(request, self.limits.trusted_proxy_hops)
        if self.limits.trusted_proxy_hops:
            request[SENDER] = who
        handling = Handling(source, arrival.request_id, started)
        size = request.content_length
        self.in_flight += 1
        self._idle.clear()
        try:
            accepted = await self._accept(request, route, arrival, who)
        except Refused as refused:
            if refused.status == 401:
                self.failures.failed(who)
            return self.answers.refused(handling, request, refused, size)
        except asyncio.CancelledError:
            # Only the stop does this (past the grace): the sender gets no answer and
            # retries; what SQS may already hold is then delivered twice, never lost.
            log.warning("ingest.cancelled", source=source, request_id=arrival.request_id)
            raise
        except Exception as bug_met:
            # A bug: this request fails alone (500, the sender retries), the gateway goes on.
            if self.error_lines.admit(type(bug_met).__name__):
                log.exception("ingest.error", source=source, request_id=arrival.request_id)
            bug = Refused(500, "internal_error", "internal error")
            return self.answers.refused(handling, request, bug, size)
        finally:
            self.in_flight -= 1
            if self.in_flight == 0:
                self._idle.set()
        return self.answers.accepted(handling, route.accepted_status, accepted)

    async def _accept(
        self, request: web.Request, route: Route, arrival: Arrival, who: str
    ) -> Accepted:
        """The request's steps, in the order the module docstring lists them (`who`: its
        sender, `reader.sender`)."""
        source = route.source
        tokens, query = await self._check_head(request, source, who)
        signature = await self._check_credential(request, source, tokens, query)
        query = without_token_values(query, self.tokens.values())
        body = await self._read_body(request, route, query, signed=signature is not None)
        try:
            accepted = await self._verify_and_enqueue(
                request, route, arrival, tokens, signature, body
            )
        finally:
            self.bodies.release(source, len(body.data))
        dropped = shown_names([*query.dropped, *accepted.dropped_fields], self._redactor.text)
        return replace(
            accepted, query_ignored=unread_query_fields(query, body), dropped_fields=dropped
        )

    async def _check_head(
        self, request: web.Request, source: str, who: str
    ) -> tuple[auth.Tokens, Query]:
        """Step 1: what the head alone decides. The tokens held now, and the query read."""
        if self.draining:
            raise Refused(503, "shutting_down", "shutting down", retry_after_s=1)
        # Before anything the tokens decide (a source that is off included): a sender that
        # presented too many wrong credentials learns nothing more (auth_limit.py).
        wait_s = self.failures.limited(who, source)
        if wait_s is not None:
            self.metrics.incr("IngestAuthLimited", source=source)
            raise Refused(_AUTH_LIMITED_STATUS, "auth_limited", _AUTH_LIMITED, retry_after_s=wait_s)
        if (unmet := _unmet_expectation(request)) is not None:
            raise unmet
        if (forged := _cross_site(request)) is not None:
            raise forged
        tokens = await self._source_tokens(source)
        if request.method == "GET":
            check_get(request)
        _check_one_value(request)
        return tokens, query_of(request, source)

    async def _source_tokens(self, source: str) -> auth.Tokens:
        """The tokens held, once they hold `source`'s: a source added to the secret is read
        again, as a rotated token is (`TokenStore.after_failure`, at most once a refresh
        interval however many requests ask, so requests for a source that stays off cannot
        hammer Secrets Manager), rather than refused until the TTL runs out. 404 when neither
        holds it, or the re-read fails: the held tokens decide, and an off source stays one
        answer with a path that does not exist."""
        tokens = await self._tokens()
        if source in tokens:
            return tokens
        try:
            fresh = await self.tokens.after_failure(tokens)
        except (TokensUnavailable, ConfigError):
            fresh = None  # TokenStore logged why
        if fresh is None or source not in fresh:
            raise Refused(404, "source_disabled", _NOT_FOUND)
        return fresh

    async def _check_credential(
        self, request: web.Request, source: str, tokens: auth.Tokens, query: Query
    ) -> auth.BodySignature | None:
        """Steps 2 and 3 from the head: the source's credential and its rate. A signature
        covers the body (Sentry's always; Grafana's when it sends one and no token), so only
        its shape and time are checked here; it is returned for `_verify_and_enqueue` (None
        when the credential was a token)."""
        signature = self._body_signature(request, source)
        if signature is not None:
            if not signature.shaped:
                raise Refused(401, "unauthorized", "unauthorized")  # no body read for it
            # By SQS's clock: where this host's is off AWS's, the sender's is likely right.
            now = self.probe.clock.sqs_time
            if source == "sentry":
                _check_sent_at(request.headers.get("Sentry-Hook-Timestamp"), now=now)
            else:
                _check_sent_at(signature.signed_time, auth.GRAFANA_TIMESTAMP_HEADER, now=now)
            return signature
        credentials = auth.presented(request.headers)
        try:
            await self._authorize_request(
                request, source, tokens, lambda listed: auth.token_matches(credentials, listed)
            )
        except Refused as refused:
            if refused.status == 401 and query.token_given:
                raise Refused(401, "unauthorized", _QUERY_TOKEN) from None
            misformed = auth.misformed(request.headers) if refused.status == 401 else None
            if misformed is not None:
                hint = _MISFORMED[misformed]
                raise Refused(401, "unauthorized", hint, detail=misformed) from None
            raise
        self._take_rate(source)
        return None

    @staticmethod
    def _body_signature(request: web.Request, source: str) -> auth.BodySignature | None:
        """The signature over the body that is the request's credential: on Sentry's path
        always (an absent one is no signature), on Grafana's when a POST carries one and no
        token (a token presented decides alone). None when a token is the credential."""
        if source == "sentry":
            return auth.BodySignature(request.headers.get("Sentry-Hook-Signature", ""))
        if source != "grafana" or request.method != "POST" or auth.presented(request.headers):
            return None
        return auth.grafana_signature(request.headers)

    async def _read_body(
        self, request: web.Request, route: Route, query: Query, *, signed: bool
    ) -> Body:
        """Step 4: the body, read as its head says, with the query's fields to read when it is
        blank: only on a webhook path, and never when a signature is the credential (it covers
        the body alone: they would pass unsigned). A signed body is read before it can be
        authenticated: as sent, within the unauthenticated budget."""
        source = route.source
        fields = query.fields if route.formats is None and not signed else None
        if request.method == "GET":  # (check_get refused one with a body)
            return Body(b"", "utf-8", query=fields)
        codec = declared_codec(request)
        form, boundary = form_shape(request)
        data = await self.bodies.read(request, self.limits, source=source, authenticated=not signed)
        return Body(data, codec, form, boundary, fields)

    async def _verify_and_enqueue(
        self,
        request: web.Request,
        route: Route,
        arrival: Arrival,
        tokens: auth.Tokens,
        signature: auth.BodySignature | None,
        body: Body,
    ) -> Accepted:
        """A signature over the body, the source's rate and the replay check, then `_enqueue`
        (a token, and the rate after it, were taken from the head)."""
        source = route.source
        if signature is None:
            return await self._enqueue(request, route, arrival, body)
        # A signature covers the body: it can only be checked once read.
        await self._authorize_request(
            request, source, tokens, lambda listed: signature.matches(body.data, listed)
        )
        # The rate is taken before the replay check, as a token's is right after it: a
        # replayed capture must not be answered (and logged) without bound.
        self._take_rate(source)
        try:
            # Remembered only once it is queued; one source's signatures never stand for
            # another's.
            key, sent_at = _replay_key(request, source, signature)
            with self.replays.delivery(key, sent_at=sent_at):
                return await self._enqueue(request, route, arrival, body)
        except Replayed as exc:
            if exc.in_flight:
                raise Refused(
                    503, "replay_in_flight", "the same delivery is being handled", retry_after_s=1
                ) from None
            # Accepted before: a sender's retry (its first answer lost) or a captured request.
            # Either way it is queued once, and a 2xx keeps a retrying sender from counting a
            # failure (Sentry disables an integration whose deliveries keep failing).
            return Accepted("", len(body.data), 0, (), duplicate=True)

    async def _enqueue(
        self, request: web.Request, route: Route, arrival: Arrival, body: Body
    ) -> Accepted:
        """Steps 5 and 6: the authenticated body, read by the normaliser and held by SQS."""
        source = route.source
        hint = (
            resource_hint(request.headers.get("Sentry-Hook-Resource"))
            if source == "sentry"
            else None
        )
        try:
            checked = await check_off_loop(
                source,
                body.data,
                hint,
                self._redactor.text,
                codec=body.codec,
                formats=route.formats,
                form=body.form,
                boundary=body.boundary,
                query=body.query,
                lane=self._lanes[source],
            )
        except Invalid as exc:
            raise Refused(exc.status, exc.reason, str(exc), detail=str(exc)) from None
        tokens = list(self.tokens.values())
        if checked.size_bytes > OFFLOAD_BODY_BYTES:
            # A large body that may spell a token is parsed and searched for it: off the loop.
            checked = await off_loop(functools.partial(_without_tokens, checked, tokens))
        else:
            checked = _without_tokens(checked, tokens)
        received_at = request_stamp(arrival.arrived, checked)
        attributes = self._attributes(request, source, arrival, received_at, hint)
        messages = await self._messages(checked, attributes)
        if not await self.probe.answering():
            # Never answered, or its last call got no answer: a send would wait out botocore's
            # tries (~20 s) before this same 503; the sender retries after Retry-After instead.
            raise Refused(
                503,
                "queue_unavailable",
                "queue unavailable",
                retry_after_s=RETRY_AFTER_S,
                detail="queue_not_answering",
            )
        # In order, each once SQS holds the one before: a part that fails is answered 503 and
        # the sender sends the batch again; the parts already queued are then repeats, counted.
        ids: list[str] = []
        try:
            await self._send_in_order(messages, ids)
        except _QueueSizeLowered:
            # The queue takes smaller messages than it did when it was read: the messages not
            # yet queued are made again for its size now (a group split to fit, or 413 naming
            # the size), as they would have been, never a 422 that loses the alert; those SQS
            # holds already are not sent again.
            unsent = messages[len(ids) :]
            remade = await self._remade(checked, unsent, attributes, whole=not ids)
            await self._send_in_order(remade, ids, recheck_size=False)
        return Accepted(
            ids[0],
            len(body.data),
            checked.alerts,
            checked.skipped,
            messages=len(ids),
            dropped_fields=checked.dropped,
        )

    async def _messages(self, checked: Checked, attributes: dict[str, str]) -> list[Outgoing]:
        """The messages `checked` becomes for the queue's message size (`messages_for`). One
        too big for the size read before is measured again against the size SQS says now (asked
        at most once a second): a queue given a larger MaximumMessageSize since takes it, and a
        413 would lose an alert it can hold."""
        limit = self.probe.max_message_bytes
        try:
            return await messages_for(checked, attributes, limit)
        except Refused as refused:
            if refused.reason != "too_large_for_queue" or await self.probe.size_now() <= limit:
                raise
        return await messages_for(checked, attributes, self.probe.max_message_bytes)

    async def _send_in_order(
        self, messages: list[Outgoing], ids: list[str], *, recheck_size: bool = True
    ) -> None:
        """`messages` sent one after another, each once SQS holds the one before, its id added
        to `ids` as it is held: when one fails, `ids` says how many SQS holds already."""
        for message in messages:
            message_id = await self._send(message, recheck_size=recheck_size)
            ids.append(message_id)

    async def _remade(
        self,
        checked: Checked,
        unsent: list[Outgoing],
        attributes: dict[str, str],
        *,
        whole: bool,
    ) -> list[Outgoing]:
        """The messages `unsent` becomes for the queue's message size now: `checked` made again
        when none of it was queued (`whole`); else each unsent message on its own, a part of a
        split group or batch split again (its own stamp kept), so no alert already queued is
        queued twice."""
        limit = self.probe.max_message_bytes
        if whole:
            return await messages_for(checked, attributes, limit)
        remade: list[Outgoing] = []
        for message in unsent:
            text = message.body
            part = replace(checked, text=text, size_bytes=len(text.encode("utf-8")), parts=())
            own = {k: v for k, v in message.attributes.items() if k != GATEWAY_ID_ATTRIBUTE}
            remade += await messages_for(part, own, limit)
        return remade

    async def _send(self, message: Outgoing, *, recheck_size: bool = True) -> str:
        """The SQS message id once SQS holds `message`; Refused (503 or 422) when it does not.
        A message SQS refuses that is larger than the queue's message size asked again
        (`recheck_size`) is _QueueSizeLowered: sized by what was read before, it was never
        the body's fault."""
        try:
            return await self.outbox.send(message)
        except OutboxFull as exc:
            raise Refused(
                503,
                "busy",
                "too many webhooks waiting for the queue",
                retry_after_s=1,
                detail=exc.code,
            ) from None
        except QueueUnavailable as exc:
            fifo = self._refused_as_fifo(exc.code)  # a call refused whole (SendMessage)
            raise Refused(
                503,
                "queue_unavailable",
                "queue unavailable",
                retry_after_s=RETRY_AFTER_S,
                detail="fifo_queue" if fifo else exc.code,
            ) from None
        except MessageRejected as exc:
            if self._refused_as_fifo(exc.code):
                raise Refused(
                    503,
                    "queue_unavailable",
                    "queue unavailable",
                    retry_after_s=RETRY_AFTER_S,
                    detail="fifo_queue",
                ) from None
            if recheck_size and message.size_bytes > await self.probe.size_now():
                raise _QueueSizeLowered from None
            raise Refused(
                422, "rejected_by_queue", f"the queue refused the body ({exc.code})"
            ) from None

    def _refused_as_fifo(self, code: str) -> bool:
        """Whether SQS refused a send for what a FIFO queue requires of the request, not for
        the body: a parameter missing (only MessageGroupId can be), or an invalid one on a queue
        known FIFO (no MessageDeduplicationId). The sender must retry (an operator fixes the
        queue), not drop the alert as it drops a 422. The probe's one line says why."""
        if code == "MissingParameter" or (code in FIFO_SEND_REFUSALS and self.probe.fifo):
            self.probe.fifo_refused(code)
            return True
        return False

    # --- Steps ------------------------------------------------------------------------------

    async def _tokens(self) -> auth.Tokens:
        try:
            return await self.tokens.current()
        except (TokensUnavailable, ConfigError):
            # TokenStore logged why; this request's own line says tokens_unavailable.
            raise Refused(
                503, "tokens_unavailable", "unavailable", retry_after_s=RETRY_AFTER_S
            ) from None

    async def _authorize(
        self, source: str, tokens: auth.Tokens, matches: Callable[[tuple[bytes, ...]], bool]
    ) -> None:
        """Nothing when the credential matches the source's tokens, or those a re-read of the
        secret brings (a rotation); 401 when it matches neither. A re-read Secrets Manager has
        not answered is 503: the credential may be a token not read yet. A re-read it refused
        (a rotation gone wrong, access denied) leaves the tokens held deciding: the sender of a
        wrong token must not retry it for ever (TokenStore's ingest.tokens_refused says why)."""
        if matches(tokens[source]):
            return
        try:
            fresh = await self.tokens.after_failure(tokens)
        except TokensUnavailable:
            raise Refused(
                503, "tokens_unavailable", "unavailable", retry_after_s=RETRY_AFTER_S
            ) from None
        except ConfigError:
            fresh = None
        if fresh is not None and source in fresh and matches(fresh[source]):
            return
        raise Refused(401, "unauthorized", "unauthorized")

    async def _authorize_request(
        self,
        request: web.Request,
        source: str,
        tokens: auth.Tokens,
        matches: Callable[[tuple[bytes, ...]], bool],
    ) -> None:
        """`_authorize`, and the request's sender proven once it passes (auth_limit.py)."""
        await self._authorize(source, tokens, matches)
        self.failures.succeeded(request[_WHO], source)

    def _take_rate(self, source: str) -> None:
        """Spend one of the source's requests, or refuse this one 503 with Retry-After: its
        sender is honest (authenticated), and Alertmanager and SNS drop an alert answered
        4xx (a 429 too) but retry a 503, so a storm over the rate is delayed, not lost."""
        bucket = self._buckets[source]
        if bucket.has():
            bucket.acquire(source)
            return
        wait_s = (1.0 - bucket.available()) / bucket.rate_per_s
        raise Refused(
            503, "rate_limited", "too many requests", retry_after_s=max(1, math.ceil(wait_s))
        )

    def _attributes(
        self,
        request: web.Request,
        source: str,
        arrival: Arrival,
        received_at: str,
        sentry_resource: str | None,
    ) -> dict[str, str]:
        attributes = {
            SOURCE_ATTRIBUTE: source,
            RECEIVED_AT_ATTRIBUTE: received_at,
            REQUEST_ID_ATTRIBUTE: arrival.request_id,
        }
        # A sender's malformed trace context is dropped, never forwarded.
        traceparent = self.tracing.outgoing_traceparent(_traceparent(request))
        if traceparent is not None:
            attributes[TRACEPARENT_ATTRIBUTE] = traceparent
        if sentry_resource is not None:
            attributes[SENTRY_RESOURCE_ATTRIBUTE] = sentry_resource
        return attributes
