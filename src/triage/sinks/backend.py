"""The ticket backend sink: `POST {BACKEND_BASE_URL}{BACKEND_SERVICE_ROUTE}` with a bearer token.

OPEN creates the ticket and returns the backend's reference for it: the answer's `id`, else
`ticket_id`, `ticketId`, `issueId` (Jira Service Management's), `sys_id` (ServiceNow's),
`key`, `issueKey` or `number`, when it is a plausible
ticket id (up to 128 letters, digits
and `._:~-`: no URL, path, space or markup), else the same keys of its one wrapping object
(`data`, `result`, `ticket` …: `{"data": {"id": "T-3"}}`, unless the answer says it failed);
a list of one object, as the answer or in its wrapper, is that object (PostgREST's
`[{"id": …}]`, ServiceNow's import set `{"result": [{"sys_id": …}]}`),
else the one its `Location` names (a plausible
id as the one path segment below the create route, on the backend's own origin, with no
query: `201 Created` with `Location: /api/service/tickets/T-9`); a backend that answers
without any gets the
effect's idempotency key as the reference (stable across retries, so the incident still has one
name), and a `backend.no_ticket_id` warning says so (naming the key of a value it refused,
never the value).
UPDATE and REOPEN post to `TRIAGE_BACKEND_UPDATE_ROUTE`, CLOSE to `TRIAGE_BACKEND_RESOLVE_ROUTE`
(`{ref}` is replaced by that reference, percent-encoded as one path segment; a stored one no
URL can carry, or over 1024 characters, skips the effect with one `backend.ref_unusable`
warning); unset routes skip the effect with a `sink.skipped` line.
Every call carries `Idempotency-Key`, the same on every retry of one effect. Every text in a
body is what a ticket system shows and stores: `display.visible` removes its bidi controls,
invisible and control characters (a NUL, which PostgreSQL's jsonb refuses, included) and makes
a lone surrogate U+FFFD (no UTF-8 encoder takes one: the whole post would fail). Its URL fields
(`runbook_url`, `links`) carry only http(s) URLs with a plain host, each as it opens and as
every surface writes it (`display.link_url`): trimmed, without user info
(`https://github.com@evil.example/` is sent as `https://evil.example/`, a token as the user
name is not sent at all), its host as DNS spells it (`xn--…` for a look-alike). A ticket system
that shows them as links would run a `javascript:` or `data:` one an alert named, and shows a
URL as its text; the others are left out, counted in one `backend.links_left_out` line.

How answers map to errors:

    2xx                            done; but one whose body says the call failed (`ok` or
                                   `success` false, a JSend `status` of fail or error, API
                                   Gateway's `errorMessage`, GraphQL's `errors`), unless it is
                                   a create's that names its ticket, and any that is a web
                                   page (HTML or XML by type or first character: a sign-in
                                   proxy): SinkUnavailableError `bad_response`, retried under
                                   the same Idempotency-Key (a create would otherwise be
                                   recorded and never made, a resolve leave the ticket open);
                                   so is a create's JSON that breaks off in an answer with no
                                   length (HTTP/1.0: it ends where the connection closed),
                                   unless its Location names the ticket (`_broke_off`)
    401                            the token is re-read once and the call repeated; then as 4xx
    429, 409, 425                  SinkThrottledError (the message is held), retry_after_s =
                                   `Retry-After`, else a few seconds (a 429's doubling with
                                   each in a row, `http.UnsaidWaits`): a rate limit, a concurrent
                                   request with the same Idempotency-Key, "too early" (409 and
                                   425 hold only their own message, intake goes on); a 409 to a
                                   later effect for one key past `conflict_s` is no request in
                                   flight but a conflict with the ticket's state: as any other
                                   answer (a create's 409 stays a wait: it has no ticket yet,
                                   unless its body or Location names the ticket the key made,
                                   which is then the create's)
    5xx, 408                       SinkUnavailableError, with `Retry-After` as retry_after_s
                                   (a date in it read against the answer's own Date); one
                                   with a wait is held for it by the guard (`guard.py`)
    303 naming a ticket in its     done: to a create, the ticket is the create's (RFC
    Location (as `201 Created`     9110: a POST whose result exists, as a key's earlier
    would), under the create       try made it), adopted as a 409 naming it is; to a later
    route on the same origin       effect, when it names the effect's own ticket
                                   (post/redirect/get). Never fetched
    3xx                            not followed (the token would go along). On the create
                                   route SinkUnavailableError `redirected`: every new ticket
                                   waits until BACKEND_BASE_URL is fixed. On a later effect's
                                   route TransientError `redirected`, as its wrong-route 404:
                                   one `backend.route_redirected` error line, the breaker not
                                   told, so new tickets go on
    1xx as the final answer        SinkUnavailableError: it broke HTTP's rules (a 101 upgrade
                                   no one asked for); interim 1xx heads before it are skipped
    network error, timeout         SinkUnavailableError
    an answer too large to read,   judged by its status and headers alone (a 2xx create is
    or not in the coding it names  named by its Idempotency-Key): the same request would be
    (gzip that is not gzip)        answered the same way, so it is no network failure
    no token can be had            SinkUnavailableError (the message waits; `triage check` says why)
    any other answer               SinkRejectedError

An error's text (and its debug line's `reason`) names the status, the backend's error code (a
short word or phrase under `error`, `code`, `error_code`, `errorCode`, `message` or `title`)
and its request id (`X-Request-Id` and the like, when it has an id's form); never the body,
which may quote the ticket we sent: without a code, the body's size and type are named. A
redirect names the scheme, host and plain path it points to, never its query.

A failed call's own line (`backend.unavailable`, `backend.rejected` …) is debug: the error's
text says the same, and the supervisor's line for the message (`message.retry`, `.held`,
`.rejected`) is the one that says why at warning.

The ticket's later life: an UPDATE, REOPEN or CLOSE the backend refuses for good (404 or 410:
someone deleted the ticket; 409 that lasts: a person closed it; 422: the update carries a field
the backend now refuses; any other 4xx fails the message, as it says the setup is wrong) is
skipped with one warning (`backend.ticket_gone`,
`backend.update_refused`) instead of failing the message: no retry can change the answer, and
every later update of the incident would otherwise fail its message in turn. A REOPEN the
backend will not apply (410; 404 on a route that has answered for a ticket; a 409 that lasts)
creates a new ticket instead, under `<key>:new`, and the incident keeps its reference.

A group's bodies list its 50 newest members (titles cut to 200 characters), the rest counted in
`members_not_listed`: a body stays far below common 100 KiB JSON limits.

A 404 is also what a wrong `TRIAGE_BACKEND_UPDATE_ROUTE` (or `…_RESOLVE_ROUTE`) answers, for
every ticket. So a 404 says "ticket gone" only on a route that has answered for a ticket (2xx
or 410) since this process started. On a route that has not, it says "wrong route" when the
ticket is one this process created and no later effect reached yet (it existed a moment ago),
or when it is the third different ticket in a row to get one: one `backend.route_not_found`
error line names the route, and the effect fails as transient (`route_not_found`: its message
stays on the queue, retried, to the DLQ at last, and a redrive once fixed) instead of marking
the ticket gone. It is a TransientError, not SinkUnavailableError: the backend answered, so the
sink's breaker does not open and new tickets, which the create route takes, go on. The route's
first answer for a ticket clears it.
"""

from __future__ import annotations

import asyncio
import json
import re
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any, NamedTuple
from urllib.parse import quote

import httpx2
import structlog

from triage.display import link_url, visible_json
from triage.errors import (
    ConfigError,
    SinkRejectedError,
    SinkThrottledError,
    SinkUnavailableError,
    TransientError,
)
from triage.metrics import Metrics
from triage.models import EffectKind
from triage.redact import redact
from triage.secrets import TokenSource
from triage.settings import Settings, base_url_problem
from triage.sinks.aio import UNFRAMED, AiohttpTransport, AnswerUnread, ReusedConnectionDropped
from triage.sinks.base import Applied, Effect, NotSent, ProbeCantTell, priority_moved
from triage.sinks.http import (
    UnsaidWaits,
    certificate_refused,
    error_code,
    json_answer,
    request_id,
    retry_after_of,
    scrub,
    throttle_wait_s,
    transport_error,
    unread_answer,
    web_page,
)
from triage.tls import client_context

log = structlog.get_logger(__name__)

#: 4xx answers that mean "wait, then ask again" (the message is held, not retried): too many
#: requests, a concurrent request with the same idempotency key (409), too early; and how long to
#: wait when the answer has no Retry-After.
_WAIT_4XX = {429: 5.0, 409: 2.0, 425: 2.0}

#: The 4xx that hold only the message they answer: they concern its own Idempotency-Key.
_WAIT_ONE = frozenset({409, 425})

#: Answers to a later effect that mean the ticket itself is no more.
_GONE = frozenset({404, 410})
#: Answers to a later effect about the ticket, which no retry changes: gone, in a state that
#: conflicts (a 409 that lasts: closed by a person), or refusing a field the update carries.
#: Any other 4xx (400, 403, 405 …) says the request or triage's setup is wrong, not the
#: ticket: the message fails as for an open, and a DLQ redrive after the fix sends it.
_OUT_OF_REACH = _GONE | {409, 422}

#: Idempotency keys whose first 409 is remembered (a bounded memory: the oldest go first).
_CONFLICTS_KEPT = 1024

#: On a route that never answered for a ticket, a 404 for this many different tickets in a row
#: says the route is wrong, not that they were all deleted.
_WRONG_ROUTE_404S = 3
#: References of tickets this process created and no later effect reached yet (the newest so
#: many): a 404 for one of them on a route that never answered is the route's, as the ticket
#: existed a moment ago.
_CREATED_KEPT = 1024

#: The answer of a server that does not implement a method (OPTIONS, for many): no outage.
_NOT_IMPLEMENTED = 501

#: How long a refusal of our token is believed while the secret still holds it (`probe`).
#: A backend whose own token check fails (its identity provider down, a key set it cannot
#: fetch) refuses every token; taken for good, the breaker would stay open, and intake paused,
#: until the secret was rotated or the daemon restarted. Past this, one call per half-open
#: asks again.
_REFUSAL_TRUSTED_S = 300.0

#: The ticket id `probe_route` asks about: one no backend has.
_PROBE_REF = "triage-check-no-such-ticket"
#: Headers of a CORS preflight answer: what API Gateway's mock integration, Envoy's CORS
#: filter or an nginx `if ($request_method = OPTIONS)` block write without asking the backend.
_PREFLIGHT_HEADERS = (
    "access-control-allow-origin",
    "access-control-allow-methods",
    "access-control-allow-headers",
)

#: Keys of the create answer that may hold the ticket reference, in order of preference: the
#: id a tracker's own routes take before the one people read. Jira answers both `id` and `key`
#: (`id` stays when an issue moves project, its key does not); ServiceNow's `sys_id` is what
#: its Table API's routes take, its `number` (`INC0010001`) only when it is all there is.
#: Jira Service Management's customer request answers `issueId` and `issueKey` alike.
#: Zendesk's `{"ticket": {"id": …}}` and Freshdesk's `id` are read as any other.
_REF_KEYS = ("id", "ticket_id", "ticketId", "issueId", "sys_id", "key", "issueKey", "number")
#: Keys of a create answer's one wrapping object, whose `_REF_KEYS` name the ticket when the
#: answer's own do not: JSON:API's `data`, ServiceNow's `result`, and the resource's own name.
_ENVELOPE_KEYS = ("data", "result", "ticket", "item", "record", "incident", "issue")

#: Keys of an error body that may hold the backend's error code, in order of preference; the
#: same keys inside an `error` object (`{"error": {"code": …}}`, as JSON:API and Google write
#: it) are read too.
_CODE_KEYS = ("error", "code", "error_code", "errorCode", "message", "title")
#: Headers that carry a request id, and the form one takes (a UUID, a ULID, `req-…`, AWS's).
_REQUEST_ID_HEADERS = ("x-request-id", "x-correlation-id", "request-id", "x-amzn-requestid")
_REQUEST_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._:-]{3,127}")
#: A redirect's path as it may be told: no query (where a login page echoes what it was
#: sent), no escapes, no markup.
_SHOWN_PATH = re.compile(r"/[A-Za-z0-9/._~-]{0,100}")
#: A redirect's host as it may be told: as DNS spells it, or an IP address.
_SHOWN_HOST = re.compile(r"[a-z0-9.-]{1,100}|[0-9a-f:.]{2,45}")


class BackendSink:
    """The `backend` sink; one instance (and one connection pool) shared by all workers."""

    def __init__(
        self,
        settings: Settings,
        token: TokenSource,
        *,
        metrics: Metrics | None = None,
        transport: httpx2.AsyncBaseTransport | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if not settings.backend_base_url.startswith(("http://", "https://")):
            raise ConfigError("BACKEND_BASE_URL must start with http:// or https://")
        problem = base_url_problem(settings.backend_base_url)
        if problem is not None:
            raise ConfigError(f"BACKEND_BASE_URL {problem}")
        self.base_url = settings.backend_base_url.rstrip("/")
        self.create_route = _rooted(settings.backend_service_route) or "/"
        self.update_route = _rooted(settings.backend_update_route)
        self.resolve_route = _rooted(settings.backend_resolve_route)
        self.token = token
        #: The token the backend refused twice in a row, until one is accepted (see `probe`),
        #: and when (`clock`) it last was.
        self._refused: str | None = None
        self._refused_at = 0.0
        self.metrics = metrics if metrics is not None else Metrics()
        self._clock = clock
        #: How long 409s for one idempotency key may go on before they are not "the same key
        #: in flight": a request in flight ends within our own timeout (from any replica),
        #: and a backend's own processing is given a few times as long.
        self.conflict_s = max(60.0, 3 * settings.backend_timeout_s)
        #: Idempotency key → when the backend first answered it 409.
        self._conflicts: OrderedDict[str, float] = OrderedDict()
        #: The waits of 429s that name none (`UnsaidWaits`): a few seconds, doubling.
        self._unsaid = UnsaidWaits(_WAIT_4XX[429])
        #: What this process saw of each later-effect route (see the module docstring).
        self._routes: dict[str, _RouteWitness] = {}
        #: References of the tickets this process created, the newest last.
        #: The value says whether the reference is the effect's idempotency key (the create
        #: answer held no id), which a backend may not find its ticket by.
        self._created: OrderedDict[str, bool] = OrderedDict()
        # httpx2's client API on aiohttp's transport (`aio.py`): a quarter of the CPU per
        # request of httpx2's own.
        self._client = httpx2.AsyncClient(
            timeout=settings.backend_timeout_s,
            transport=transport or AiohttpTransport(client_context()),
        )
        self._requests = _Requests(self._client, self.base_url + self.create_route)

    @property
    def name(self) -> str:
        return "backend"

    async def apply(self, effect: Effect) -> Applied:
        if effect.kind is EffectKind.OPEN:
            return await self._create(effect)
        route = self.resolve_route if effect.kind is EffectKind.CLOSE else self.update_route
        if route is None or effect.ref is None:
            if route is None:
                reason, why = "no route configured", NotSent.NO_ROUTE
            else:
                reason, why = "no ticket reference", NotSent.NO_TICKET
            self.metrics.incr("SinkCalls", sink=self.name, outcome="skipped")
            log.info("sink.skipped", sink=self.name, effect=str(effect.kind), reason=reason)
            return Applied.skip(reason, why=why)
        segment = _segment(effect.ref)
        if isinstance(segment, _Unusable):
            return self._unusable_ref(effect, segment)
        path = route.replace("{ref}", segment)
        body = _close_body(effect) if effect.kind is EffectKind.CLOSE else _update_body(effect)
        witness = self._routes.setdefault(route, _RouteWitness())
        try:
            await self._post(path, body, effect)
        except _RouteRedirected as exc:
            self._report_redirect(witness, route, effect, exc)
            raise
        except SinkRejectedError as exc:
            if exc.status == 404:
                self._check_route(witness, route, effect, exc)
            elif exc.status == 410:
                witness.answered()  # a route that knew the ticket, and that it is deleted
            if effect.kind is EffectKind.REOPEN and _reopen_refused(exc.status, witness):
                return await self._reopen_as_new(effect, exc)
            if exc.status not in _OUT_OF_REACH:
                raise
            return self._out_of_reach(effect, exc)
        witness.answered()
        # The backend knows the ticket: a later 404 for it (on another route) is no longer
        # "it existed a moment ago".
        self._created.pop(effect.ref, None)
        return Applied()

    def _unusable_ref(self, effect: Effect, unusable: _Unusable) -> Applied:
        """A later effect whose stored reference no route can carry (`_segment`): skipped as
        having no ticket, with one warning naming its length and why, never the reference."""
        assert effect.ref is not None  # checked by the caller
        self.metrics.incr("SinkCalls", sink=self.name, outcome="skipped")
        log.warning(
            "backend.ref_unusable",
            effect=str(effect.kind),
            ref_chars=len(effect.ref),
            reason=unusable.why,
            action="skip",
        )
        return Applied.skip(f"unusable ticket reference ({unusable.why})", why=NotSent.NO_TICKET)

    def _check_route(
        self, witness: _RouteWitness, route: str, effect: Effect, exc: SinkRejectedError
    ) -> None:
        """A 404 for `effect`'s ticket on `route`: returns when it says the ticket is gone;
        TransientError `route_not_found` when it says the route is wrong (the first time with
        one error line naming it)."""
        assert effect.ref is not None  # checked by the caller
        created_here = effect.ref in self._created
        if not witness.wrong_after_404(effect.ref, created_here=created_here):
            return
        setting = _route_setting(effect.kind)
        if not witness.reported:
            witness.reported = True
            log.error(
                "backend.route_not_found",
                route=route,
                setting=setting,
                effect=str(effect.kind),
                ref=effect.ref,
                tickets=witness.missing_count,
                created_here=created_here,
                reason=exc.detail,
                action="retry",
            )
        if not created_here:
            which = f"{witness.missing_count} different tickets"
        elif self._created[effect.ref]:
            which = (
                "a ticket it created a moment ago, named by its Idempotency-Key (the create "
                "answer held no id)"
            )
        else:
            which = "a ticket it created a moment ago"
        raise TransientError(
            f"backend answered 404 to {effect.kind} on {route} for {which}, and never "
            f"answered for a ticket there: check {setting}",
            reason="route_not_found",
        )

    def _report_redirect(
        self, witness: _RouteWitness, route: str, effect: Effect, exc: _RouteRedirected
    ) -> None:
        """A later-effect `route` the backend redirects: one `backend.route_redirected` error
        line naming it, its setting and where it points, until the route answers again."""
        if witness.redirect_reported:
            return
        witness.redirect_reported = True
        log.error(
            "backend.route_redirected",
            route=route,
            setting=exc.setting,
            effect=str(effect.kind),
            status=exc.status,
            location=exc.where,
            action="retry",
        )

    async def _create(self, effect: Effect) -> Applied:
        """POST a new ticket; its reference."""
        answered = await self._post(self.create_route, _open_body(effect), effect)
        answer, headers = answered.body, answered.headers
        ref = _named_ticket(answer, headers, self.base_url + self.create_route)
        refused = _ticket_ref(answer)[1]
        if ref is None:
            # Created, but named by nothing we can use: the key names it (stable across
            # retries), and later effects' routes will carry that instead of its id. A value
            # refused as no ticket id (a URL, markup, a credential's shape) is named by its key
            # alone: it is the backend's text, not ours.
            ref = effect.idempotency_key
            got = _answer_kind(answer)
            log.warning("backend.no_ticket_id", answer=got, refused=refused, ref=ref)
        self._created[ref] = ref == effect.idempotency_key
        self._created.move_to_end(ref)
        while len(self._created) > _CREATED_KEPT:
            self._created.popitem(last=False)
        replayed = _replayed(answered)
        if replayed:
            log.info("backend.create_replayed", ref=ref, status=answered.status)
        return Applied(ref, replayed=replayed)

    async def _reopen_as_new(self, effect: Effect, exc: SinkRejectedError) -> Applied:
        """The incident fired again, but the backend will not reopen its ticket
        (`_reopen_refused`: deleted, or a lasting 409 as for one a person closed): a new one,
        under a key of its own (`<key>:new`, the same on every retry, so never a second; not
        the reopen's, which the backend may have kept for the refused update), as GitHub's
        sink opens a new issue for a reopen it is refused. A firing incident is never left
        without an open ticket."""
        log.warning(
            "backend.ticket_gone" if exc.status in _GONE else "backend.update_refused",
            effect=str(effect.kind),
            ref=effect.ref,
            status=exc.status,
            reason=exc.detail,
            action="open_new",
        )
        return await self._create(replace(effect, idempotency_key=f"{effect.idempotency_key}:new"))

    def _out_of_reach(self, effect: Effect, exc: SinkRejectedError) -> Applied:
        """A later effect the backend refuses for good: the one line that says why, and the
        effect skipped. The message is fine; its ticket is deleted, closed by a person, or
        takes no such update, and no retry changes that."""
        gone = exc.status in _GONE
        log.warning(
            "backend.ticket_gone" if gone else "backend.update_refused",
            effect=str(effect.kind),
            ref=effect.ref,
            status=exc.status,
            reason=exc.detail,
            action="skip",
        )
        reason = f"{'ticket gone' if gone else 'refused'} ({exc.status})"
        return Applied.refuse(reason, gone=gone)

    async def aclose(self) -> None:
        await self._client.aclose()

    async def probe(self) -> str:
        """Is the backend usable? Its token can be read (Secrets Manager answers) and is not the
        one the backend last refused, and `OPTIONS` on the create route, which creates nothing,
        is answered below 500 (other than 429). Used after a failed call and while this sink's
        breaker is open: a refused token keeps it open (OPTIONS is answered without one) until
        the secret holds another, or for `_REFUSAL_TRUSTED_S`, after which the probe cannot
        tell and one real call with the token is the probe. An answer a gateway gives on its own (`_gateways_own`: a
        CORS preflight, a bare 204, a 401 or 403 for the token OPTIONS goes without), or a
        501 (a server that does not implement OPTIONS), is `ProbeCantTell`: the guard lets one
        real call be the probe then."""
        token = await self._token()
        if token == self._refused:
            self.token.invalidate(token)  # read it again: it may have been fixed since
            if await self._token() == self._refused:
                refused_s = self._clock() - self._refused_at
                if refused_s < _REFUSAL_TRUSTED_S:
                    raise SinkUnavailableError(
                        "backend refused our token, and it is still the one we read",
                        reason="unauthorized",
                    )
                # The backend's own token check may have been what failed (its identity
                # provider down): only a call with the token can tell, one per half-open.
                return ProbeCantTell(
                    f"backend refused our token {refused_s:.0f} s ago and it is still the one "
                    "we read: one call will tell whether the backend still refuses it"
                )
        url = self.base_url + self.create_route
        try:
            status, headers = await self._options_answer(url)
        except httpx2.TransportError as exc:
            # The class, and a certificate's refusal (our words and OpenSSL's), never more:
            # the probe has no need of the rest of the client's text.
            refused = certificate_refused(exc)
            told = type(exc).__name__ + (f": {refused}" if refused else "")
            raise SinkUnavailableError(f"backend unreachable: {told}") from None
        if status == _NOT_IMPLEMENTED:
            # The server does not implement OPTIONS (Python's http.server, many small
            # services): it answered, but says nothing of the create route. Failing on it would
            # keep the breaker open for good once any outage opened it.
            return ProbeCantTell(
                f"{self.base_url} answered HTTP 501 to OPTIONS (the method not implemented), "
                "which proves nothing about the backend's create route"
            )
        if status < 200 or status >= 500 or status == 429:  # a 1xx is no answer either
            raise SinkUnavailableError(f"backend answered {status}")
        if 300 <= status < 400:  # the route lives elsewhere: misconfigured
            raise SinkUnavailableError(f"backend answered {status} (a redirect)")
        unproven = _gateways_own(status, headers)
        if unproven is not None:
            return ProbeCantTell(
                f"{self.base_url} answered HTTP {status} to OPTIONS ({unproven}), which a "
                "gateway gives on its own: it proves nothing about the backend behind it"
            )
        return f"{self.base_url} answered HTTP {status}"

    async def probe_route(self, route: str) -> int:
        """The status `OPTIONS` on a later-effect `route` answers for a ticket id no backend
        has (`triage check`): OPTIONS creates and changes nothing, and needs no token."""
        path = (_rooted(route) or "/").replace("{ref}", _PROBE_REF)
        return await self._options(self.base_url + path)

    async def _options(self, url: str) -> int:
        """The status an `OPTIONS` on `url` is answered with (`_options_answer`)."""
        return (await self._options_answer(url))[0]

    async def _options_answer(self, url: str) -> tuple[int, httpx2.Headers]:
        """The status and headers an `OPTIONS` on `url` is answered with. Its body is never
        read: only the head is asked for, and a body past what the sink reads would make an
        answer a network failure, keeping the breaker open while the backend answers."""
        response = await self._client.send(self._client.build_request("OPTIONS", url), stream=True)
        await response.aclose()
        return response.status_code, response.headers

    async def _post(self, route: str, body: dict[str, Any], effect: Effect) -> _Answered:
        """POST `body` to `route`: a 2xx answer's body (`_verdict`), its headers and status
        (a create's 409 or 303 naming the ticket its key made, taken as done); any other
        answer raises."""
        url = self.base_url + route
        content = _json_bytes(visible_json(body))
        started = time.perf_counter()
        sent = False
        try:
            for attempt in (1, 2):
                token = await self._token()
                sent = True
                response, unread = await self._send_counted(url, content, token, effect)
                if response.status_code == 401 and attempt == 1:
                    # The token may have been rotated since we read it: read it again, once.
                    self.metrics.incr("SinkCalls", sink=self.name, outcome="unauthorized")
                    log.info("backend.unauthorized", url=url, action="reread_token")
                    self.token.invalidate(token)
                    continue
                break
        finally:
            # Every call that went out, however it ended: a timeout is the slowest call of an
            # outage. An effect whose token could not be read sent nothing, and took no time.
            if sent:
                elapsed_ms = (time.perf_counter() - started) * 1000
                self.metrics.observe("SinkLatency", elapsed_ms, sink=self.name)
        answer = self._verdict(response, url, effect, token, unread)
        return _Answered(answer, response.headers, response.status_code)

    async def _send_counted(
        self, url: str, content: bytes, token: str, effect: Effect
    ) -> tuple[httpx2.Response, str | None]:
        """`_send` with our token and the effect's Idempotency-Key; a request that got no
        answer (connect or read error, any timeout) is counted `network` and raised as
        SinkUnavailableError, its text without the token."""
        headers = (
            ("Authorization", f"Bearer {token}"),
            ("Idempotency-Key", effect.idempotency_key),
        )
        try:
            return await self._send(url, content, headers)
        except asyncio.CancelledError:
            # Cut off by the message's time limit or a stop: timed in SinkLatency as every
            # request that went out is, so counted too.
            self.metrics.incr("SinkCalls", sink=self.name, outcome="cancelled")
            raise
        except httpx2.TransportError as exc:
            self.metrics.incr("SinkCalls", sink=self.name, outcome="network")
            error = transport_error(exc, scrub(str(exc), token))
            log.debug("backend.unreachable", url=url, effect=str(effect.kind), error=error)
            raise SinkUnavailableError(f"backend unreachable: {error}") from None

    async def _send(
        self, url: str, content: bytes, headers: tuple[tuple[str, str], ...]
    ) -> tuple[httpx2.Response, str | None]:
        """The backend's answer to one POST, and why its body was not read (None when it
        was). An answer too large to read, or not in the coding it names (`AnswerUnread`),
        is judged by its status and headers alone: the same request would be answered the
        same way again, so reading it as a network failure would retry a created ticket (or
        a 429's wait, a 410's "gone") until its message reaches the DLQ. An answer that breaks off is a network failure:
        the next one may come whole, and the Idempotency-Key makes the retry safe."""
        response = await self._answer(url, content, headers)
        try:
            await response.aread()
            return response, None
        except AnswerUnread as exc:
            # Our own words (the limit, the coding refused), never the answer's.
            unread = f"{type(exc).__name__}: {exc}"
            return httpx2.Response(response.status_code, headers=response.headers), unread
        finally:
            await response.aclose()

    async def _answer(
        self, url: str, content: bytes, headers: tuple[tuple[str, str], ...]
    ) -> httpx2.Response:
        """The head of the backend's answer to one POST, sent again once, at once, when it
        went on a pooled keep-alive connection that dropped before any answer came
        (`ReusedConnectionDropped`): the server closed it as the request arrived (Node's and
        uvicorn's idle timeout is 5 s, as our pool's). The Idempotency-Key makes a POST safe
        to repeat (RFC 9112 9.3.1; Go's client repeats such a request too); failing instead
        would spend the message's receive and count an outage that is none. A drop on a new
        connection, or a second one, is raised."""
        try:
            return await self._client.send(self._requests.post(url, content, headers), stream=True)
        except ReusedConnectionDropped:
            log.debug("backend.connection_dropped", url=url, action="resend")
        return await self._client.send(self._requests.post(url, content, headers), stream=True)

    async def _token(self) -> str:
        try:
            return await self.token.get()
        except ConfigError as exc:
            # Inside the pipeline a missing token is an outage of this sink, not a bad message:
            # the message waits in SQS (and `triage check` names the setting to fix).
            log.debug("backend.no_token", error=str(exc))
            raise SinkUnavailableError(f"backend token unavailable: {exc}") from None

    def _verdict(
        self, response: httpx2.Response, url: str, effect: Effect, token: str, unread: str | None
    ) -> Any:
        status = response.status_code
        creating = url == self.base_url + self.create_route
        if status == 409 and creating and unread is None:
            answer = _json_answer(response)
            if _named_ticket(answer, response.headers, url) is not None:
                # The key already made its ticket (our earlier try's answer was lost), and the
                # backend names it: that ticket is this create's.
                status = 200
                log.info("backend.create_conflict_adopted", url=url, action="adopt")
        if status == 303 and self._sees_its_ticket(response, creating, effect):
            # See Other: RFC 9110's answer to a POST whose result is a resource that exists,
            # named by its Location under the create route on the backend's own origin: the
            # ticket the key made (a create's), or the effect's own ticket (post/redirect/get
            # after an update or resolve). Done, not a sign of a wrong URL; nothing is fetched.
            return self._see_other(response, url, effect)
        if 200 <= status < 300:
            self._refused = None
            self._unsaid.succeeded()
            self._conflicts.pop(effect.idempotency_key, None)
            self._markup_answer(response, url, effect)
            answer = _Unread(unread) if unread is not None else _json_answer(response)
            cut_short = answer is None and _broke_off(response)
            if creating and cut_short and _named_ticket(None, response.headers, url) is None:
                self.metrics.incr("SinkCalls", sink=self.name, outcome="unavailable")
                log.debug("backend.answer_broke_off", url=url, effect=str(effect.kind))
                raise SinkUnavailableError(
                    f"backend answered {status} to the {effect.kind} with JSON that breaks off "
                    "and no length: its connection closed mid-answer",
                    reason="bad_response",
                )
            self._failed_in_body(answer, response, url, effect, token)
            self.metrics.incr("SinkCalls", sink=self.name, outcome="ok")
            return answer
        reason = _reason(response, token) if unread is None else f"no error code ({unread})"
        fields = {"url": url, "effect": str(effect.kind), "status": status, "reason": reason}
        retry_after_s = retry_after_of(response.headers)
        if status in _WAIT_4XX and not self._lasting_conflict(status, effect, url):
            # A rate limit that names no wait waits longer with each in a row; a key's own
            # wait (409, 425) does not: it says nothing of the backend's load.
            if status == 429:
                wait_s = self._unsaid.wait_s(retry_after_s)
            else:
                wait_s = throttle_wait_s(retry_after_s, _WAIT_4XX[status])
            self.metrics.incr("SinkCalls", sink=self.name, outcome="throttled")
            log.debug("backend.throttled", retry_after_s=wait_s, **fields)
            throttled = SinkThrottledError(
                f"backend answered {status}: {reason}", retry_after_s=wait_s
            )
            # A 429 throttles every call; a 409 or 425 concerns this request's key alone.
            throttled.pauses_intake = status not in _WAIT_ONE
            raise throttled
        if status < 200:
            # A 1xx as the final answer (an upgrade no one asked for): it broke HTTP's rules,
            # as an answer cut short does, and says nothing of the ticket.
            self.metrics.incr("SinkCalls", sink=self.name, outcome="unavailable")
            log.debug("backend.unavailable", **fields)
            raise SinkUnavailableError(f"backend answered {status}, an interim status, as final")
        if status >= 500 or status == 408:
            self.metrics.incr("SinkCalls", sink=self.name, outcome="unavailable")
            log.debug("backend.unavailable", retry_after_s=retry_after_s, **fields)
            raise SinkUnavailableError(
                f"backend answered {status}: {reason}", retry_after_s=retry_after_s
            )
        if 300 <= status < 400:
            # The route answered elsewhere: BACKEND_BASE_URL or the route is wrong (http for
            # https, a moved host), which no message can fix. Not followed (the bearer token
            # would go along). The create route's: every new ticket waits, as for a refused
            # token, until it is fixed. A later effect's route: that route's trouble alone
            # (`_RouteRedirected`), as its 404 is, so new tickets go on.
            self.metrics.incr("SinkCalls", sink=self.name, outcome="unavailable")
            where = _where(response.headers.get("Location"), token)
            if url != self.base_url + self.create_route:
                log.debug("backend.redirected", action="retry", location=where, **fields)
                raise _RouteRedirected(status, where, _route_setting(effect.kind))
            log.debug("backend.redirected", action="wait", location=where, **fields)
            raise SinkUnavailableError(
                f"backend answered {status}, redirecting to {where!r}: check BACKEND_BASE_URL",
                reason="redirected",
            )
        if status == 401:
            # Refused even with the token read again: the credential, not this message, is
            # wrong, and no message can fix it. They wait (the breaker pauses intake) instead of
            # every one of them going to the DLQ until someone fixes the secret.
            self._refused, self._refused_at = token, self._clock()
            self.metrics.incr("SinkCalls", sink=self.name, outcome="unavailable")
            log.debug("backend.unauthorized", action="wait", **fields)
            raise SinkUnavailableError(
                f"backend refused our token ({status}: {reason})", reason="unauthorized"
            )
        self.metrics.incr("SinkCalls", sink=self.name, outcome="rejected")
        log.debug("backend.rejected", **fields)
        raise SinkRejectedError(
            f"backend rejected the {effect.kind} with {status}: {reason}",
            status=status,
            detail=reason,
        )

    def _sees_its_ticket(self, response: httpx2.Response, creating: bool, effect: Effect) -> bool:
        """Whether a 303's Location names a ticket under the create route on the backend's own
        origin (`_ref_at`) that is the effect's: any, for a create (the one its key made);
        the effect's own reference, for a later effect."""
        named = _ref_at(response.headers.get("Location"), self.base_url + self.create_route)
        return named is not None and (creating or named == effect.ref)

    def _see_other(self, response: httpx2.Response, url: str, effect: Effect) -> Any:
        """An effect answered 303 naming its ticket (`_sees_its_ticket`): done, the answer
        taken as empty, so that a create's Location names its ticket (`_named_ticket`); its
        body (a redirect's page) is never read."""
        self._refused = None
        self._conflicts.pop(effect.idempotency_key, None)
        self.metrics.incr("SinkCalls", sink=self.name, outcome="ok")
        log.info("backend.see_other", url=url, effect=str(effect.kind), action="done")
        return None

    def _markup_answer(self, response: httpx2.Response, url: str, effect: Effect) -> None:
        """Raise SinkUnavailableError `bad_response` when a 2xx answer is a web page
        (`http.web_page`: HTML or XML by its type or its body), not a ticket backend's: a sign-in
        proxy (whose session may lapse long after the ticket was made), or a web app answering
        for the route. Taken as done, a create would record the incident with a ticket named
        by its Idempotency-Key that was never made, and an update, reopen or resolve would
        leave the ticket as it was (open while the incident is resolved here); retried under
        the same key instead, until the backend itself answers."""
        if not web_page(response):
            return
        self.metrics.incr("SinkCalls", sink=self.name, outcome="unavailable")
        fields = {"url": url, "effect": str(effect.kind), "status": response.status_code}
        log.debug("backend.not_an_api_answer", reason=unread_answer(response), **fields)
        raise SinkUnavailableError(
            f"backend answered {response.status_code} to the {effect.kind} with a web page, "
            f"not an API answer ({unread_answer(response)})",
            reason="bad_response",
        )

    def _failed_in_body(
        self, answer: Any, response: httpx2.Response, url: str, effect: Effect, token: str
    ) -> None:
        """Raise SinkUnavailableError `bad_response` when a 2xx `answer` says in its body that
        the call failed (`_failure_in`), unless it is a create's that names its ticket
        (`_named_ticket`: in the body's own keys or its Location): what answers for a ticket system may turn a failure
        into a 200 (API Gateway's Lambda integration, a GraphQL server). Taken as done, a
        create would be recorded under its Idempotency-Key and never made; an update or close
        never applied. Retried under the same key instead, as GitHub's 2xx of the wrong shape
        is. Only a create is exempt: naming a ticket proves one was made, while a later
        effect's failure names the ticket it was asked about (`{"ok": false, "ticket_id": …}`)
        and did nothing to it."""
        failure = _failure_in(answer, token)
        if failure is None:
            return
        create_url = self.base_url + self.create_route
        if url == create_url and _named_ticket(answer, response.headers, create_url) is not None:
            return
        self.metrics.incr("SinkCalls", sink=self.name, outcome="unavailable")
        fields = {"url": url, "effect": str(effect.kind), "status": response.status_code}
        log.debug("backend.failed_in_body", reason=failure, **fields)
        raise SinkUnavailableError(
            f"backend answered {response.status_code} to the {effect.kind}, but its body says "
            f"it failed ({failure})",
            reason="bad_response",
        )

    def _lasting_conflict(self, status: int, effect: Effect, url: str) -> bool:
        """Whether this 409 follows others for the same key for `conflict_s` or more: not a
        request in flight, which would have ended, but the ticket's state (closed by a
        person), which waiting does not change. Never for a create: there is no ticket whose
        state could conflict, only a key the backend still holds (a request of ours it never
        finished), and refusing the create for good would leave the incident without its
        ticket, even after a redrive; it is held (then retried) instead."""
        if status != 409 or url == self.base_url + self.create_route:
            return False
        key = effect.idempotency_key
        now = self._clock()
        first = self._conflicts.setdefault(key, now)
        self._conflicts.move_to_end(key)
        while len(self._conflicts) > _CONFLICTS_KEPT:
            self._conflicts.popitem(last=False)
        if now - first < self.conflict_s:
            return False
        del self._conflicts[key]
        return True


def _json_bytes(body: Any) -> bytes:
    """`body` as httpx2 encodes a `json=` argument: compact, UTF-8, no NaN."""
    text = json.dumps(body, ensure_ascii=False, separators=(",", ":"), allow_nan=False)
    return text.encode("utf-8")


class _Requests:
    """The sink's POSTs, each the request `client.build_request("POST", url, json=…,
    headers=…)` makes (the same headers, in the same order and case, the same body bytes and
    timeouts), with what every request shares worked out once: the create URL parsed, the
    client's own headers and its timeouts (`build_request` parses the URL and builds the
    headers anew for every request, the headers four times over). A backend that set a
    cookie gets `build_request` itself, which merges the client's cookie jar."""

    __slots__ = ("_client", "_client_headers", "_create_text", "_create_url", "_extensions")

    def __init__(self, client: httpx2.AsyncClient, create_url: str) -> None:
        self._client = client
        encoding = client.headers.encoding
        self._client_headers = tuple(
            (name.decode(encoding), value.decode(encoding)) for name, value in client.headers.raw
        )
        self._extensions = {"timeout": client.timeout.as_dict()}
        self._create_text = create_url
        #: Parsed at the first create (an unparseable URL fails each call, as httpx2's would).
        self._create_url: httpx2.URL | None = None

    def post(
        self, url: str, content: bytes, headers: tuple[tuple[str, str], ...]
    ) -> httpx2.Request:
        """A POST of the JSON `content` to `url` with `headers` after the client's."""
        if self._client.cookies:  # the backend pins us with a cookie: httpx2 merges its jar
            request = self._client.build_request("POST", url, content=content, headers=headers)
            request.headers[_JSON_TYPE[0]] = _JSON_TYPE[1]  # last, as a `json=` body's
            return request
        parsed = self._parsed(url)
        host = [("Host", parsed.netloc.decode("ascii"))] if parsed.host else []
        length = ("Content-Length", str(len(content)))
        request = httpx2.Request(
            "POST",
            parsed,
            headers=[*host, *self._client_headers, *headers, length, _JSON_TYPE],
            stream=httpx2.ByteStream(content),
            extensions=self._extensions,
        )
        request.read()  # as a built request is: its content readable at once
        return request

    def _parsed(self, url: str) -> httpx2.URL:
        """`url` parsed; the create URL once (later effects' URLs name their ticket)."""
        if url != self._create_text:
            return httpx2.URL(url)
        if self._create_url is None:
            self._create_url = httpx2.URL(url)
        return self._create_url


#: The Content-Type httpx2 gives a `json=` body.
_JSON_TYPE = ("Content-Type", "application/json")


class _Answered(NamedTuple):
    """A POST's answer taken as done (`_post`): its body as read, its headers and status."""

    body: Any
    headers: httpx2.Headers
    status: int


def _replayed(answered: _Answered) -> bool:
    """Whether a create's answer says the backend made no ticket now but answers with the
    one an earlier try under the same Idempotency-Key made (the answer to that try was lost):
    Stripe's `Idempotent-Replayed: true`, a top-level `"replayed": true` (the demo backend's),
    or a 409 or 303 naming the key's ticket (taken as done only then: `_verdict`). A bare 200
    is not one: many backends answer every create 200, and a ticket this call made would be
    said to be an earlier call's (the replay is said, `backend.create_replayed`, and counted
    all the same: `Effects._routed`)."""
    if answered.status in (303, 409):
        return True
    if answered.headers.get("Idempotent-Replayed", "").strip().lower() == "true":
        return True
    return isinstance(answered.body, dict) and answered.body.get("replayed") is True


@dataclass(frozen=True, slots=True)
class _Unread:
    """A 2xx answer whose body was not read, and why (`BackendSink._send`)."""

    why: str


def _broke_off(response: httpx2.Response) -> bool:
    """Whether an answer whose JSON does not parse may be one cut short: it has no length
    (HTTP/1.0, or `Connection: close` without `Content-Length` or chunks, whose end is where
    the connection closed, so a close mid-answer looks whole) and starts as JSON does. Taken
    as a create done, its ticket would be named by its Idempotency-Key, which the backend
    never gave it, and its updates would go to no ticket; retried under the same key, the
    backend's whole answer names it (a Location naming the ticket is believed at once). A framed answer whose JSON breaks was sent so: it is
    read as an answer without an id, as before. Its first character is read from its text,
    as its byte order mark or charset says (UTF-16's `{` is two bytes)."""
    if not response.extensions.get(UNFRAMED):  # said by the transport (`aio.py`)
        return False
    return response.text.lstrip("\ufeff \t\r\n")[:1] in ("{", "[")


def _json_answer(response: httpx2.Response) -> Any:
    """An answer's JSON (`http.json_answer`, in the charset it names), or None: a 2xx
    without usable JSON still did its job."""
    return json_answer(response)


#: A JSend `status` that says the call failed (`{"status": "fail", "data": …}`).
_FAILED_STATUSES = frozenset({"error", "fail", "failed", "failure"})
#: Keys of a failure's body, beside `_CODE_KEYS`, that may hold its short code: API Gateway's
#: `errorType` (`Sandbox.Timedout`) and its `errorMessage`.
_FAILURE_CODE_KEYS = ("errorType", *_CODE_KEYS, "errorMessage")


def _failure_in(answer: Any, token: str) -> str | None:
    """What in a 2xx JSON object says the call failed, and its short error code when it has
    one (`http.error_code`): `ok` or `success` false, a JSend failure `status`, API Gateway's
    `errorMessage` or GraphQL's non-empty `errors`; None when nothing does. An `error` alone
    is not read as one: without `ok` or `success` false beside it, a 2xx's `error` is no
    convention a backend is known to follow. Never the body's free text, which may quote the
    ticket we sent."""
    answer = _only_row(answer)
    marker = _failure_marker(answer)
    if marker is None or not isinstance(answer, dict):
        return None
    code = _failure_code(answer, token)
    return f"{marker}: {code}" if code is not None else marker


def _failure_marker(answer: Any) -> str | None:
    """What in a JSON answer says the call failed (see `_failure_in`), or None."""
    if not isinstance(answer, dict):
        return None
    status = answer.get("status")
    if answer.get("ok") is False:
        return "ok false"
    if answer.get("success") is False:
        return "success false"
    if isinstance(status, str) and status.lower() in _FAILED_STATUSES:
        return f"status {status.lower()}"
    if "errorMessage" in answer:
        return "errorMessage"
    if isinstance(answer.get("errors"), list) and answer["errors"]:
        return "errors"
    return None


def _failure_code(answer: dict[str, Any], token: str) -> str | None:
    """The first short error code (`http.error_code`, without our token) under
    `_FAILURE_CODE_KEYS` of a failure's body, its `error` object or its first `errors`."""
    errors = answer.get("errors")
    first = errors[0] if isinstance(errors, list) and errors else None
    for holder in (answer, answer.get("error"), first):
        if isinstance(holder, dict):
            for key in _FAILURE_CODE_KEYS:
                code = error_code(holder.get(key))
                if code is not None and scrub(code, token) == code:
                    return code
    return None


def _named_ticket(answer: Any, headers: httpx2.Headers, create_url: str) -> str | None:
    """The ticket a create's answer names: its body's (`_ticket_ref`), else its Location's
    (`_ref_at`); None when it names none."""
    ref = _ticket_ref(answer)[0]
    return ref if ref is not None else _ref_at(headers.get("Location"), create_url)


def _answer_kind(answer: Any) -> str:
    """What a create answer without a usable ticket id was, for its warning (never its text)."""
    if isinstance(answer, _Unread):
        return f"unread ({answer.why})"
    return "no JSON" if answer is None else f"JSON {type(answer).__name__}"


class _RouteRedirected(TransientError):
    """A later-effect route answered with a redirect (a slash missing from the route, a moved
    path): the backend answered, so it is transient for the effect (retried, the DLQ at last,
    a redrive once fixed), not SinkUnavailableError, which the breaker would count until it
    held every new ticket, which the create route still takes."""

    def __init__(self, status: int, where: str, setting: str) -> None:
        super().__init__(
            f"backend answered {status} on a later effect's route, redirecting to {where!r} "
            f"(not followed): check {setting}",
            reason="redirected",
        )
        self.status, self.where, self.setting = status, where, setting


def _reopen_refused(status: int | None, witness: _RouteWitness) -> bool:
    """Whether a REOPEN's refusal `status` says the ticket will not be reopened, so the
    re-fire opens a new one: 410 (deleted); 404 on a route that has answered for a ticket
    (`witness.proven`: there it says deleted, where on another it may say the route is wrong,
    which would open a ticket on every re-fire of every incident); and 409, which reaches here
    only once it lasted `conflict_s` (`_lasting_conflict`: a person closed the ticket)."""
    return status in (409, 410) or (status == 404 and witness.proven)


def _route_setting(kind: EffectKind) -> str:
    """The setting that names the route a later effect of `kind` is posted to."""
    if kind is EffectKind.CLOSE:
        return "TRIAGE_BACKEND_RESOLVE_ROUTE"
    return "TRIAGE_BACKEND_UPDATE_ROUTE"


class _RouteWitness:
    """What this process saw of one later-effect route: whether it has answered for a ticket
    (then a 404 there means the ticket is gone), and, until it has, the tickets it answered 404
    for (enough of them mean the route is wrong)."""

    __slots__ = ("missing", "proven", "redirect_reported", "reported", "wrong")

    def __init__(self) -> None:
        self.proven = False
        self.missing: set[str] = set()
        self.wrong = False
        #: The route's `backend.route_not_found` line was logged (once until it answers).
        self.reported = False
        #: The route's `backend.route_redirected` line was logged (once until it answers).
        self.redirect_reported = False

    @property
    def missing_count(self) -> int:
        return len(self.missing)

    def answered(self) -> None:
        """The route answered for a ticket: it exists, and its 404s mean deleted tickets."""
        self.proven, self.wrong, self.reported = True, False, False
        self.redirect_reported = False
        self.missing.clear()

    def wrong_after_404(self, ref: str, *, created_here: bool) -> bool:
        """Whether the route is wrong, now that it answered 404 for `ref`."""
        if self.proven:
            return False
        if len(self.missing) < _WRONG_ROUTE_404S:
            self.missing.add(ref)
        if created_here or len(self.missing) >= _WRONG_ROUTE_404S:
            self.wrong = True
        return self.wrong


#: The most group members a body lists (the newest changes first; the rest are counted), and
#: the most characters of a member's title or a grouping label's value it carries: a group
#: tracks up to 1,000 alerts, and every open, update and close body lists them, so unbounded
#: they would pass the 100 KiB JSON body limit many services keep (Express's default), a 413
#: that fails the group's open for good. GitHub's issue lists the same 50 (`members_text`).
_LISTED_MEMBERS = 50
_MEMBER_TITLE_CHARS = 200
_LABEL_VALUE_CHARS = 200


def _group(effect: Effect) -> dict[str, Any]:
    """A group incident's alerts, for every body: `{"group": {...}}`, or nothing. It lists the
    `_LISTED_MEMBERS` whose state changed last, each title cut to `_MEMBER_TITLE_CHARS`, and
    counts the others in `members_not_listed`, so a body stays within common size limits
    (about 50 KB at most, whatever the alerts' titles)."""
    group = effect.alert.group
    if group is None:
        return {}
    newest = sorted(group.members, key=lambda m: m.since, reverse=True)[:_LISTED_MEMBERS]
    members = [
        {
            "fingerprint": _cut(m.fingerprint, _MEMBER_TITLE_CHARS),
            "title": _cut(m.title, _MEMBER_TITLE_CHARS),
            "status": m.status.value,
        }
        for m in newest
    ]
    return {
        "group": {
            "by": {
                _cut(k, _LABEL_VALUE_CHARS): _cut(v, _LABEL_VALUE_CHARS)
                for k, v in group.by.items()
            },
            "alerts": group.count,
            "firing": group.firing,
            "members": members,
            "members_not_listed": group.count - len(members),
        }
    }


def _cut(text: str, most: int) -> str:
    """`text`, or its first `most` - 1 characters and `…` when it is longer."""
    return text if len(text) <= most else text[: most - 1] + "…"


def _trace(effect: Effect) -> dict[str, Any]:
    """`{"trace_id": …}` when the effect's message was traced: the ticket links to its trace."""
    return {"trace_id": effect.trace_id} if effect.trace_id else {}


def _open_body(effect: Effect) -> dict[str, Any]:
    alert, ticket = effect.alert, effect.ticket
    runbook = _http_link(alert.runbook_url)
    links = {name: url for name, raw in alert.links.items() if (url := _http_link(raw))}
    named = [alert.runbook_url or "", *alert.links.values()]
    left_out = sum(1 for url in named if url.strip()) - len(links) - (runbook is not None)
    if left_out:  # counted, never shown: the URLs and their names are the alert's text
        log.info("backend.links_left_out", links=left_out, reason="not an http(s) URL")
    return (
        _group(effect)
        | {
            "title": ticket.title,
            "priority": ticket.priority.value,
            "description": ticket.description,
            "steps": list(ticket.steps),
            "fingerprint": effect.fingerprint,
            "source": alert.source,
            "status": alert.status.value,
            "team": alert.team,
            "runbook_url": runbook,
            "links": links,
        }
        | _trace(effect)
    )


def _http_link(url: str | None) -> str | None:
    """`url` as the link it opens (`display.link_url`: trimmed, no user info, host as DNS
    spells it) when it is an http(s) address with a host a label can name, else None: a
    ticket system that shows a URL field as a link would run a `javascript:` or `data:` one an
    alert named, so no other scheme is sent as a URL, and shows the URL as its text, so
    `https://github.com@evil.example/` would read as github.com."""
    if url is None:
        return None
    try:
        return _LINKS[url]
    except KeyError:
        pass
    link = link_url(url)
    if len(url) <= _LINK_CHARS_KEPT:
        if len(_LINKS) >= _LINKS_KEPT:
            _LINKS.clear()
        _LINKS[url] = link
    return link


#: URLs `_http_link` judged, and its answer for each: alerts name the same few runbooks and
#: dashboards, and parsing one as httpx2 does is most of what building a create body costs.
#: Forgotten all at once when full; a URL longer than a real link is judged, not kept.
_LINKS: dict[str, str | None] = {}
_LINKS_KEPT = 1024
_LINK_CHARS_KEPT = 2048


def _update_body(effect: Effect) -> dict[str, Any]:
    """UPDATE (more occurrences) and REOPEN (fired again after a close) share the update route."""
    reopen = effect.kind is EffectKind.REOPEN
    body: dict[str, Any] = (
        _group(effect)
        | {
            "fingerprint": effect.fingerprint,
            "status": "firing" if reopen else effect.alert.status.value,
            "occurrences": effect.occurrences,
            "new_occurrences": effect.new_occurrences,
            "flapping": effect.flapping,
        }
        | _trace(effect)
    )
    if reopen:
        body["reopened"] = True
        body["note"] = f"Fired again: {effect.alert.title}"
    else:
        body["note"] = (
            f"{effect.new_occurrences} more occurrence(s) since the last update, "
            f"{effect.occurrences} in all"
        )
    if effect.priority_was is not None:
        # The update that moved the priority: the ticket's priority field follows it.
        body["priority"] = effect.ticket.priority.value
        body["priority_was"] = effect.priority_was.value
        body["note"] = (
            f"{priority_moved(effect.priority_was, effect.ticket.priority)}. " + body["note"]
        )
    return body


def _close_body(effect: Effect) -> dict[str, Any]:
    return (
        _group(effect)
        | {
            "fingerprint": effect.fingerprint,
            "status": "resolved",
            "note": f"Resolved: {effect.alert.title}",
        }
        | _trace(effect)
    )


def _reason(response: httpx2.Response, token: str) -> str:
    """What of the backend's error answer is told, in logs and the error: its error code (see
    `_CODE_KEYS`, `http.error_code`), else the answer's size and type, and its request id when
    it has a request id's form. Never the body: it may quote the ticket we sent, or be a
    proxy's page."""
    code = _error_code(response)
    if code is not None and scrub(code, token) != code:  # the backend quoted our token
        code = None
    reason = code if code is not None else f"no error code ({unread_answer(response)})"
    for header in _REQUEST_ID_HEADERS:
        found = request_id(response.headers.get(header), _REQUEST_ID)
        if found is not None and scrub(found, token) == found:
            return f"{reason} (request {found})"
    return reason


def _error_code(response: httpx2.Response) -> str | None:
    """The first short error code (`http.error_code`) under `_CODE_KEYS` of a JSON error body,
    or of its `error` object."""
    answer = _json_answer(response)
    nested = answer.get("error") if isinstance(answer, dict) else None
    for holder in (answer, nested):
        if isinstance(holder, dict):
            for key in _CODE_KEYS:
                code = error_code(holder.get(key))
                if code is not None:
                    return code
    return None


def _where(location: str | None, token: str) -> str:
    """Where a redirect points, as far as it may be told: scheme, host and port, and the path
    when it is a plain one (`_SHOWN_PATH`); never the query or fragment, where a login page
    echoes what it was sent (a token, the ticket)."""
    try:
        url = httpx2.URL(location or "")
    except (httpx2.InvalidURL, UnicodeError):
        return "an unreadable Location"
    if not location:
        return "no Location"
    shown = ""
    if url.scheme in ("http", "https") and _SHOWN_HOST.fullmatch(url.host):
        port = f":{url.port}" if url.port is not None else ""
        shown = f"{url.scheme}://{url.host}{port}"
    path = url.path if _SHOWN_PATH.fullmatch(url.path) else ""
    if scrub(path, token) != path or redact(path) != path:
        path = ""
    return shown + path or "a Location of another form"


def _gateways_own(status: int, headers: httpx2.Headers) -> str | None:
    """What makes an OPTIONS answer one a gateway may give on its own, whatever the backend
    behind it does (so it proves nothing about the backend), else None: a CORS preflight
    answer (`Access-Control-Allow-*`), a 204 naming no methods (`Allow`), as nginx's
    `return 204` is (a server answering OPTIONS for its own route says what it allows), or a
    refusal of the missing credential (`_CREDENTIAL_REFUSED`: the probe sends no token, and
    an authorizer in front answers that itself: API Gateway's 403 "Missing Authentication
    Token" for a method it does not define, Kong's key-auth 401, an ALB's OIDC deny)."""
    if any(name in headers for name in _PREFLIGHT_HEADERS):
        return "a CORS preflight answer"
    if status == 204 and "allow" not in headers:
        return "no content, no Allow"
    if status in _CREDENTIAL_REFUSED:
        return "a refusal of the credential the probe does not send"
    return None


#: OPTIONS answers refusing the request for its missing credential (`_gateways_own`).
_CREDENTIAL_REFUSED = frozenset({401, 403})


def _rooted(route: str | None) -> str | None:
    """A route with exactly one leading slash (so base URL + route is a valid URL); an empty
    route, as from a variable set to "", means unset."""
    return "/" + route.lstrip("/") if route else None


#: A ticket id as trackers write them (`OPS-7`, `INC0012345`, `42`, a UUID or ULID): up to 128
#: letters, digits and `._:~-`, starting with a letter or digit. No `/` (so no URL to another
#: host, no path that climbs out of a route), no spaces, controls or markup: the reference
#: goes into routes, the store, the incident's history and other sinks' messages.
_PLAUSIBLE_REF = re.compile(r"[A-Za-z0-9][A-Za-z0-9._:~-]{0,127}")


def _ticket_ref(answer: Any) -> tuple[str | None, str | None]:
    """The ticket reference in a create answer (the first plausible one under `_REF_KEYS`, of
    the answer, else of its one wrapping object under `_ENVELOPE_KEYS`: `{"data": {"id": …}}`),
    and the first key whose value was refused as no plausible reference (None if none was).
    The envelope is not read in an answer that says it failed (`_failure_marker`): JSend's
    `{"status": "fail", "data": {"key": "required"}}` holds a validation message there.
    A list of one object, as the answer or its envelope, is that object (`_only_row`), unless
    the row in an envelope says it failed (ServiceNow's import set row of `"status": "error"`)."""
    answer = _only_row(answer)
    if not isinstance(answer, dict):
        return None, None
    ref, refused = _ref_in(answer)
    if ref is not None or _failure_marker(answer) is not None:
        return ref, refused
    for key in _ENVELOPE_KEYS:
        wrapped = _only_row(answer.get(key))
        if wrapped is not answer.get(key) and _failure_marker(wrapped) is not None:
            return None, refused
        if isinstance(wrapped, dict):
            inner, inner_refused = _ref_in(wrapped)
            return inner, refused or (inner_refused and f"{key}.{inner_refused}")
    return None, refused


def _only_row(value: Any) -> Any:
    """The one object of a list that holds only it, else `value`: the rows a create made, as
    PostgREST (`Prefer: return=representation`) and ServiceNow's Import Set API (`"result":
    [{"sys_id": …}]`) answer. A list of several names no one ticket."""
    if isinstance(value, list) and len(value) == 1 and isinstance(value[0], dict):
        return value[0]
    return value


def _ref_in(holder: dict[str, Any]) -> tuple[str | None, str | None]:
    """The first plausible ticket reference under `_REF_KEYS` of one JSON object, and the
    first key whose value was refused as none (None if none was)."""
    refused = None
    for key in _REF_KEYS:
        value = holder.get(key)
        # bool is an int, but `true` is nobody's ticket id.
        if isinstance(value, str | int) and not isinstance(value, bool) and str(value):
            ref = str(value)
            if _PLAUSIBLE_REF.fullmatch(ref) and redact(ref) == ref:
                return ref, refused
            refused = refused or key
    return None, refused


#: The longest stored reference put into a route. Every reference this sink keeps is at most
#: 128 characters (`_PLAUSIBLE_REF`); a longer one (an older release's, another writer's) up to
#: this is still sent, quoted, and past it no tracker's id is meant: a request line that long
#: is refused (414) by most servers, on every retry.
_LONGEST_REF = 1024


@dataclass(frozen=True, slots=True)
class _Unusable:
    """Why a stored reference cannot go into a route (`_segment`)."""

    why: str


def _ref_at(location: str | None, create_url: str) -> str | None:
    """The ticket id a create answer's Location names (`201 Created` with the new ticket's
    address, as REST backends answer), when it resolves, against `create_url`, to one
    plausible id (`_PLAUSIBLE_REF`) directly under the create route on the backend's own
    origin (with one trailing slash or none), with no query or fragment; else None. Nothing is
    fetched from it."""
    if not location:
        return None
    try:
        base = httpx2.URL(create_url)
        url = base.join(location)
    except (httpx2.InvalidURL, UnicodeError, ValueError):
        return None
    if (url.scheme, url.host, url.port) != (base.scheme, base.host, base.port):
        return None
    if url.query or url.fragment:
        return None
    # One trailing slash is how some frameworks end every resource's URL (Django's).
    parent, _, ref = url.path.removesuffix("/").rpartition("/")
    if parent != base.path.rstrip("/"):  # a decoded `%2F` in the id lands here too
        return None
    plausible = _PLAUSIBLE_REF.fullmatch(ref) and redact(ref) == ref
    return ref if plausible else None


def _segment(ref: str) -> str | _Unusable:
    """`ref` as one path segment: quoted, and `.` or `..` escaped, which a URL would otherwise
    resolve away (`/tickets/../resolve` is `/resolve`, another route, with our token). A
    reference no URL can carry (a lone surrogate, which UTF-8 cannot encode) or longer than
    `_LONGEST_REF` is `_Unusable`."""
    if len(ref) > _LONGEST_REF:
        return _Unusable(f"over {_LONGEST_REF} characters")
    try:
        quoted = quote(ref, safe="")
    except UnicodeEncodeError:
        return _Unusable("not encodable as UTF-8")
    return quoted.replace(".", "%2E") if quoted in (".", "..") else quoted
