"""The operator's API and status page on the daemon's port, behind `TRIAGE_API_TOKEN`.

    GET    /api/v1/incidents[?state=open|closed|all&team=T&flapping=1&source=S&priority=P
                          &search=WORDS&match=K=V…&since=WHEN&before=WHEN&limit=N&offset=N]
                          → {"incidents": […], "total": N, "limit": N, "offset": N,
                             "unreadable": records not read}
    GET    /api/v1/incidents/{fingerprint}                               one, with its history
    GET    /api/v1/silences[?all=1]                                      JSON list
    POST   /api/v1/silences[?dry_run=1]  {"matchers": [...], "duration": "2h" | "until": "…Z",
                                        "comment": "…"}    (dry_run: what it would match)
    DELETE /api/v1/silences/{id}                                         expire it now
    GET    /                                                             the status page
    GET    /incidents/{fingerprint}                                      one incident's page
    POST   /login                                                        the page's login form
    POST   /logout                                                       ends its session everywhere

Who may ask: a request with one `Authorization: Bearer <token>` (two are refused) may do
everything; a browser that logged in holds a session cookie (HttpOnly, SameSite=Lax, signed
with the token, 12 hours, ended for every replica by its logout: `ops/operator_sessions.py`)
that reads only (GET): nothing that changes state can be done with a cookie, so no other site
can make a logged-in browser do it. Lax, not Strict, so that a link to
the page from Slack or a wiki opens it logged in: all a cross-site navigation can do with the
cookie is show the operator their own page. A write a browser sends from another site
is refused even with the bearer header (a proxy in front may add it), as is a body whose
Content-Type is not JSON (a form's, text's: what a browser sends across sites without
asking first). The login form is guarded against
cross-site posts twice: a double-submit token (a cookie and a hidden field that must agree) and
the browser's own `Origin` / `Sec-Fetch-Site`. Tokens and signatures are compared in constant
time, and an address that presented too many wrong tokens (bearer header or login form) is
answered 429 before its next one is compared (`auth_limit`, keyed by the connection's peer,
or behind TRIAGE_HTTP_TRUSTED_PROXY_HOPS by the X-Forwarded-For entry the nearest proxy
appended).

Every answer is built from the store (whose alert text was redacted when stored) and redacted
once more (`ops/operator.py`); the API answers it as JSON with any lone surrogate replaced
(`_json`), and the page escapes it for HTML (`ops/status_page.py`).
"""

from __future__ import annotations

import hmac
import json
import secrets
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import partial
from urllib.parse import parse_qsl, unquote, urlsplit

import structlog

from triage.auth_limit import OPERATORS, CredentialFailures, sender_key
from triage.aws import Aws
from triage.display import whole_unicode
from triage.errors import StoreCorruptError, StoreUnavailableError, TriageError
from triage.health import Health
from triage.incidents import Store
from triage.incidents.silences import Silence, SilenceCache, is_unicode
from triage.metrics import Metrics
from triage.ops.http_server import (
    DEFAULT_LIMITS,
    Handler,
    HeadGuarded,
    RefusalLog,
    Request,
    Response,
    client_excerpt,
)
from triage.ops.operator import (
    OffLoop,
    SharedScan,
    after_cursor,
    end_kept_warning,
    end_named_silence,
    find_incident,
    given_author,
    incident_json,
    list_incidents,
    matching_json,
    new_silence,
    open_subjects,
    page_cursor,
    parse_filter,
    released_by,
    released_said,
    shown_silences,
    silence_json,
    silence_warnings,
    silences_json,
)
from triage.ops.operator_sessions import (
    LOGGED_OUT,
    EndedSessions,
    Session,
    SessionSigner,
    most_telling,
)
from triage.ops.operator_sessions import (
    SESSION_S as SESSION_S,  # the page and its tests read it here
)
from triage.redact import Redactor
from triage.request_head import bearer_token, forwarded_for, scheme_and_credentials
from triage.settings import Settings, did_you_mean
from triage.sinks.guard import GuardedSink
from triage.sqs.depth import DepthPoller
from triage.summarise import Summariser
from triage.view import quoted

log = structlog.get_logger(__name__)

SESSION_COOKIE = "triage_session"
CSRF_COOKIE = "triage_csrf"
_FINGERPRINT_CHARS = 64


@dataclass
class OperatorView:
    """Everything the API and the page read: the store and the daemon's live parts."""

    settings: Settings
    store: Store
    silences: SilenceCache
    sinks: Sequence[GuardedSink]
    summariser: Summariser
    health: Health
    aws: Aws
    metrics: Metrics = field(default_factory=Metrics)
    #: The queue's and DLQ's depth, as the daemon polls it; None when polling is off.
    depth: DepthPoller | None = None
    redactor: Redactor = field(default_factory=Redactor)
    clock: Callable[[], datetime] = lambda: datetime.now(UTC)
    #: The page's and the API's listings share one scan of the store at a time.
    scan: SharedScan = field(default_factory=SharedScan)
    #: Where silences are matched against the open incidents, off the event loop.
    off_loop: OffLoop = field(default_factory=OffLoop)


@dataclass(frozen=True, slots=True)
class SessionVerdict:
    """What a request's session cookies come to: the session `accepted`, or why none was
    (`refused`, one of `operator_sessions`' reasons; None when no cookie was sent), and the
    session a refusal names in its log line (one a logout ended), if any."""

    accepted: Session | None
    refused: str | None = None
    named: Session | None = None


class Auth:
    """The token, the session cookies it signs (and which of them a logout ended, in `store`),
    and the login form's double-submit token. Without a store, an Auth mints and reads cookies
    by signature and age alone (a test's), and a logout cannot be recorded."""

    def __init__(
        self,
        token: str,
        wall_clock: Callable[[], float] = time.time,
        *,
        store: Store | None = None,
        trusted_proxy_hops: int = 0,
    ) -> None:
        self._token = token.encode()
        #: Proxies in front that append the address they saw to X-Forwarded-For.
        self.trusted_proxy_hops = trusted_proxy_hops
        self._signer = SessionSigner(self._token, wall_clock)
        self.ended = EndedSessions(store) if store is not None else None
        #: Wrong tokens by address: one presenting too many is limited (`limited_s`).
        self.guesses = CredentialFailures(OPERATORS)

    def limited_s(self, request: Request) -> int | None:
        """The seconds the request's address must wait before a token it presents is compared
        again (its Retry-After), or None when one may be compared now. Ask before comparing:
        a limit that compared would still tell a right guess from a wrong one."""
        return self.guesses.limited(self._sender(request), _TOKEN_SCOPE)

    def guessed_wrong(self, request: Request) -> None:
        """The request presented a wrong token (a bearer header or the login form's)."""
        self.guesses.failed(self._sender(request))

    def bearer(self, request: Request) -> bool:
        """True for exactly one `Authorization: Bearer <token>` header. Two are refused, right
        or wrong: a proxy in front that reads the other one would disagree about who asks."""
        given = [value for name, value in request.headers if name == "authorization"]
        if len(given) != 1:
            return False
        # The gateway's rule (`request_head.bearer_token`): a Unicode space is never taken
        # off the token, so `<token>` and a no-break space is not the token.
        token = bearer_token(given[0])
        right = token is not None and hmac.compare_digest(token.encode("latin-1"), self._token)
        if right:
            self.guesses.succeeded(self._sender(request), _TOKEN_SCOPE)
        return right

    def bearer_given(self, request: Request) -> bool:
        """Whether the request carries a Bearer credential at all, right or wrong (not another
        scheme's, such as the Basic one a password-asking proxy in front makes browsers send)."""
        return any(
            name == "authorization" and scheme_and_credentials(value)[0] == "bearer"
            for name, value in request.headers
        )

    def token_matches(self, given: str, request: Request) -> bool:
        """Whether `given` (the login form's) is the token; `request`'s address is proven so."""
        right = hmac.compare_digest(given.encode(), self._token)
        if right:
            self.guesses.succeeded(self._sender(request), _TOKEN_SCOPE)
        return right

    def _sender(self, request: Request) -> str:
        """The request's address as the limit counts it: behind `trusted_proxy_hops` proxies
        the X-Forwarded-For entry the nearest one appended, else the connection's peer
        without its port; an IPv6 one as its /64."""
        values = [value for name, value in request.headers if name == "x-forwarded-for"]
        forwarded = forwarded_for(values, self.trusted_proxy_hops)
        if forwarded is not None:
            return sender_key(forwarded)
        host = request.peer.rpartition(":")[0]
        return sender_key(host or request.peer)

    def session(self) -> str:
        """A new session's cookie value."""
        return self._signer.issue()[0]

    def new_session(self) -> tuple[str, Session]:
        """A new session, and its cookie value."""
        return self._signer.issue()

    def presented(self, request: Request) -> tuple[list[Session], list[str]]:
        """The sessions the request's `triage_session` cookies carry that are signed and in
        age, and why each other one is refused. A browser sends every cookie of that name whose
        path and domain fit, one set by a sibling host for a longer path first, and that one
        must not hide ours."""
        sessions: list[Session] = []
        refused: list[str] = []
        for value in cookie_values(request, SESSION_COOKIE):
            read = self._signer.read(value)
            if isinstance(read, Session):
                sessions.append(read)
            else:
                refused.append(read)
        return sessions, refused

    async def session_verdict(self, request: Request) -> SessionVerdict:
        """The first session the request carries that no logout ended (one store read per
        session at most every few seconds: `operator_sessions`), else why none reads."""
        sessions, refused = self.presented(request)
        named = None
        for session in sessions:
            if self.ended is not None and await self.ended.ended(session):
                refused.append(LOGGED_OUT)
                named = session
                continue
            return SessionVerdict(session)
        return SessionVerdict(None, most_telling(refused), named)

    async def end_session(self, session: Session) -> bool:
        """End `session` for every replica (see `EndedSessions.end`)."""
        if self.ended is None:
            raise StoreUnavailableError("no store to record the logout in")
        return await self.ended.end(session)


#: What a right token proves an address for (`auth_limit`): the port has the one token.
_TOKEN_SCOPE = "api_token"


def cookies(request: Request) -> dict[str, str]:
    """The request's cookies (the first of each name)."""
    found: dict[str, str] = {}
    for key, val in _cookie_pairs(request):
        found.setdefault(key, val)
    return found


#: Cookies of one name a request is read for: a browser sends a handful at most.
_MAX_SAME_NAME = 8


def cookie_values(request: Request, name: str) -> list[str]:
    """Every value of cookie `name` the request carries, in the order sent (at most a few)."""
    return [val for key, val in _cookie_pairs(request) if key == name][:_MAX_SAME_NAME]


def _cookie_pairs(request: Request) -> list[tuple[str, str]]:
    pairs = []
    for header, value in request.headers:
        if header != "cookie":
            continue
        for pair in value.split(";"):
            key, eq, val = pair.strip().partition("=")
            if eq:
                pairs.append((key, val))
    return pairs


def cookie(
    name: str, value: str, request: Request, *, max_age_s: int, same_site: str = "Strict"
) -> str:
    """A Set-Cookie value: HttpOnly, SameSite `same_site`, the whole site; Secure behind
    HTTPS (`over_https`)."""
    secure = "; Secure" if over_https(request) else ""
    attributes = f"Path=/; Max-Age={max_age_s}; HttpOnly; SameSite={same_site}{secure}"
    return f"{name}={value}; {attributes}"


def over_https(request: Request) -> bool:
    """Whether the proxy in front says the browser came over HTTPS, in either header proxies
    use: `X-Forwarded-Proto: https` or RFC 7239's `Forwarded: …;proto=https`. Of a list (one
    entry per proxy on the way) the first is the one the browser reached. The port itself
    serves plain HTTP: without a proxy, the browser did too."""
    forwarded_proto = (request.header("x-forwarded-proto") or "").partition(",")[0]
    if forwarded_proto.strip().lower() == "https":
        return True
    first_hop = (request.header("forwarded") or "").partition(",")[0]
    for pair in first_hop.split(";"):
        name, _, value = pair.partition("=")
        if name.strip().lower() == "proto":
            return value.strip().strip('"').lower() == "https"
    return False


def operator_routes(view: OperatorView | None) -> dict[str, Mapping[str, Handler]]:
    """The routes to add to the endpoint server (none without a token)."""
    if view is None or view.settings.api_token is None:
        return {}
    token = view.settings.api_token.get_secret_value()
    if not token:
        return {}
    auth = Auth(token, store=view.store, trusted_proxy_hops=view.settings.http_trusted_proxy_hops)
    api = OperatorApi(view, auth)
    from triage.ops.status_page import StatusPage

    page = StatusPage(view, api.auth, api.refusals)
    return {
        "/api/v1/incidents": {"GET": api.reader(api.incidents)},
        "/api/v1/incidents/*": {"GET": api.reader(api.incident)},
        "/api/v1/silences": {
            "GET": api.reader(api.list_silences),
            "POST": api.writer(api.add_silence),
        },
        "/api/v1/silences/*": {"DELETE": api.writer(api.expire_silence)},
        "/": {"GET": page.index},
        "/incidents/*": {"GET": page.incident},
        # Each refuses another site's form first: from its head, no body asked for or read.
        "/login": {"POST": HeadGuarded(page.login, _from_another_site)},
        "/logout": {"POST": HeadGuarded(page.logout, _from_another_site)},
    }


def _from_another_site(head: Request) -> bool:
    """Whether a browser says `head` comes from another site's page (`same_origin`)."""
    return not same_origin(head)


class OperatorApi:
    def __init__(self, view: OperatorView, auth: Auth) -> None:
        self.view = view
        self.auth = auth
        #: Anyone who reaches the port may guess the token: each refused request counts in
        #: HttpRefused{reason}, and is logged within the server's bounds (`api.refused`).
        self.refusals = RefusalLog(
            view.metrics, DEFAULT_LIMITS.log_burst, DEFAULT_LIMITS.log_window_s, event="api.refused"
        )

    def reader(self, handler: Handler) -> Handler:
        """`handler` for a bearer token or a logged-in browser."""

        async def guarded(request: Request) -> Response:
            if (limited := self.limited(request)) is not None:
                return limited
            if self.auth.bearer(request):
                return await _answer(handler, request)
            verdict = await self.auth.session_verdict(request)
            if verdict.accepted is None:
                return self._unauthorized(request, verdict)
            return await _answer(handler, request)

        return guarded

    def _unauthorized(self, request: Request, verdict: SessionVerdict | None = None) -> Response:
        """401, counted and logged as `wrong_token` when the request carried a bearer token,
        as why its session cookie was refused when it carried one (`session_logged_out`, …),
        else `no_credentials` (never with what it carried)."""
        if self.auth.bearer_given(request):
            reason = "wrong_token"
            self.auth.guessed_wrong(request)
        else:
            reason = (verdict.refused if verdict else None) or "no_credentials"
        named = verdict.named.tag if verdict and verdict.named else None
        self.refusals.refused(
            reason, request.peer, 401, path=client_excerpt(request.path), session=named
        )
        return _unauthorized(misplaced=_credential_in_query(request))

    def writer(self, handler: Handler) -> Handler:
        """`handler` for a bearer token only: a cookie never changes anything. Not from a
        browser on another site (`same_origin`), and a body must be JSON by its Content-Type
        (`json_body`): a proxy in front that adds the bearer header to whatever a browser
        sends would otherwise let any page the operator opens make or expire silences."""

        async def guarded(request: Request) -> Response:
            if (limited := self.limited(request)) is not None:
                return limited
            if not self.auth.bearer(request):
                return self._unauthorized(request)
            if not same_origin(request):
                self.refusals.refused("cross_site", request.peer, 403, method=request.method)
                return _error(403, "refused: a browser sent this from another site")
            refused = json_body(request)
            if refused is not None:
                self.refusals.refused("not_json", request.peer, 415)
                return refused
            return await _answer(handler, request)

        # Refused from the head alone, the server asks for and reads no body (no `100
        # Continue` to a client without the token, or to another site's page).
        return HeadGuarded(guarded, self._refuses_head)

    def _refuses_head(self, head: Request) -> bool:
        """Whether `writer`'s guard refuses `head` before reading its body: an address limited
        for its wrong tokens, no bearer token, or a browser on another site."""
        if self.auth.bearer_given(head) and self.auth.limited_s(head) is not None:
            return True
        return not self.auth.bearer(head) or _from_another_site(head)

    def limited(self, request: Request) -> Response | None:
        """429 with Retry-After, counted in HttpRefused{reason=limited}, for a request with a
        bearer token from an address limited for its wrong ones (its one line is the limit's,
        `api.auth_limited`); None for any other. A request without one is not limited: a
        session cookie is signed with the token, and guessing one is no easier than it."""
        if not self.auth.bearer_given(request):
            return None
        wait_s = self.auth.limited_s(request)
        if wait_s is None:
            return None
        self.view.metrics.incr("HttpRefused", reason="limited")
        body = json.dumps({"error": AUTH_LIMITED}).encode() + b"\n"
        return Response(429, body, "application/json", (("Retry-After", str(wait_s)),))

    async def incidents(self, request: Request) -> Response:
        try:
            query = query_parameters(request, _LISTING_PARAMETERS, repeatable=("match",))
            keep = parse_filter(
                now=self.view.clock(),
                # `?state=` (a dashboard's variable left empty) is refused as a blank team is,
                # not answered as the open incidents.
                state=query.get("state", "open"),
                team=query.get("team"),
                flapping=flag_parameter(request, query, "flapping"),
                source=query.get("source"),
                priority=query.get("priority"),
                search=query.get("search"),
                match=every_value(request, "match"),
                since=query.get("since"),
                before=query.get("before"),
            )
            # Given empty (a pager's `offset=$NEXT` with NEXT unset) each is refused, as
            # `?state=` is: read as 0, every step of the pager was answered the first page.
            limit = _limit(query.get("limit"))
            offset, after = _page_start(query)
            # Refused too when the store's incidents show the filter misleads (FilterRefused).
            found = await list_incidents(self.view.store, keep, self.view.scan)
            rest = found[offset:] if after is None else after_cursor(found, after)
        except ValueError as exc:
            return self._refused(400, exc)
        redactor = self.view.redactor
        page = rest[:limit]
        shown = [incident_json(i, redactor) for i in page]
        # Where the next page starts, by the last incident shown, not by a count of places
        # that shift as incidents open and close meanwhile (`page_cursor`).
        following = page_cursor(page[-1]) if len(rest) > len(page) else None
        # Records the scan could not read are in no count: `unreadable` says how many, so a
        # dashboard showing "0 open" can say that is not the whole store (any filter's).
        unreadable = self.view.store.unreadable_listed
        # The limit used (a larger one asked for is cut to MAX_LIMIT) and the offset: the next
        # page starts at their sum, which a client adding the limit it asked for would skip.
        return _json(
            200,
            {
                "incidents": shown,
                "total": len(found),
                "limit": limit,
                # A page after a cursor starts this far into the listing as it is now.
                "offset": offset if after is None else len(found) - len(rest),
                "next": following,
                "unreadable": unreadable,
            },
        )

    async def incident(self, request: Request) -> Response:
        try:
            query_parameters(request, ())
            given = path_segment(request, "incident")
        except ValueError as exc:
            return self._refused(400, exc)
        if not 0 < len(given) <= _FINGERPRINT_CHARS:
            return _error(404, "no such incident")
        try:
            # As `triage incidents show` takes it: a prefix, and a member's fingerprint
            # answered with its group's, so the two never disagree about a name.
            found = await find_incident(self.view.store, given, self.view.scan)
        except LookupError as exc:
            return self._refused(404, exc)
        return _json(200, incident_json(found, self.view.redactor, history=True))

    async def list_silences(self, request: Request) -> Response:
        try:
            every = flag_parameter(request, query_parameters(request, ("all",)), "all")
        except ValueError as exc:
            return self._refused(400, exc)
        now = self.view.clock()
        shown = shown_silences(await self.view.store.silences(), now, every=every)
        incidents = await self.view.scan.incidents(self.view.store)
        listed = await self.view.off_loop.run(
            partial(silences_json, shown, incidents, self.view.redactor, now, budgeted=True)
        )
        # Stored silences this release cannot read (a newer release's) are in no list, and
        # may still mute on replicas that read them: say how many, as the incidents' does.
        unreadable = len(self.view.store.unreadable_silences)
        return _json(200, {"silences": listed, "unreadable": unreadable})

    async def add_silence(self, request: Request) -> Response:
        now = self.view.clock()
        try:
            dry_run = flag_parameter(request, query_parameters(request, ("dry_run",)), "dry_run")
            matchers, (duration, until), comment, author = _silence_request(request.body)
            silence = new_silence(
                matchers, duration, comment, author, now, self.view.redactor, until=until
            )
            if dry_run:
                return await self._preview_silence(silence, now)
            added = await self.view.store.add_silence(silence, now)
        except (ValueError, TypeError) as exc:  # JSONDecodeError is a ValueError
            return self._refused(400, exc)
        except RecursionError:  # a body nested past the parser's stack
            return _error(400, "body is nested too deeply")
        shown = silence_json(added, self.view.redactor, now)
        _log_added(added, shown)
        warnings = await self._silence_warnings(added, silence)
        if warnings:  # only when there is one, as scripts read the silence's keys as they were
            shown["warnings"] = [self.view.redactor.text(w) for w in warnings]
        return _json(201, shown)

    def _refused(self, status: int, exc: Exception) -> Response:
        """An error answer that names what was sent (a matcher, a query's value) redacted: an
        operator may paste a secret, and no answer, log or warning repeats one."""
        return _error(status, self.view.redactor.text(str(exc)))

    async def _preview_silence(self, silence: Silence, now: datetime) -> Response:
        """`?dry_run=1`: 200 with the silence as it would be added, the open incidents it would
        match and its warnings; nothing is stored."""
        incidents = await self.view.scan.incidents(self.view.store)
        shown = silence_json(silence, self.view.redactor, now)
        shown["matching"] = matching_json(silence, open_subjects(incidents), self.view.redactor)
        silences = await self.view.store.silences()
        warnings = silence_warnings(silence, incidents, silences=silences)
        if warnings:
            shown["warnings"] = [self.view.redactor.text(w) for w in warnings]
        return _json(200, shown)

    async def _silence_warnings(self, silence: Silence, asked: Silence) -> list[str]:
        """`silence_warnings` for `silence`, the store's answer to the add of `asked`, against
        the shared scan; when the store cannot be read, only whether a later end was kept (the
        silence is made, only the advice about the incidents is lost)."""
        try:
            incidents = await self.view.scan.incidents(self.view.store)
            silences = await self.view.store.silences()
        except TriageError as exc:
            log.warning("api.silence_unchecked", silence=silence.id, reason=exc.reason)
            kept = end_kept_warning(asked, silence)
            return [kept] if kept is not None else []
        return silence_warnings(silence, incidents, asked=asked, silences=silences)

    async def expire_silence(self, request: Request) -> Response:
        try:
            query_parameters(request, ())
            given = path_segment(request, "silence")
        except ValueError as exc:
            return self._refused(400, exc)
        now = self.view.clock()
        try:
            # Its id, or an unambiguous prefix of one, as an incident is named.
            ended = await end_named_silence(self.view.store, given[:64], now)
        except LookupError as exc:
            return self._refused(404, exc)
        # Idempotent: a silence that had ended already (a retry, a second operator) is
        # answered as it is, and the audit trail names each expiry once.
        expired, by_this_call = ended
        shown = silence_json(expired, self.view.redactor, now)
        if by_this_call:
            log.info("api.silence_expired", silence=expired.id)
            shown.update(await self._released(expired, now))
        else:
            log.info("api.silence_already_ended", silence=expired.id)
        return _json(200, shown)

    async def _released(self, expired: Silence, now: datetime) -> dict[str, object]:
        """`released` (how many incidents' held effects the sweep now sends) and `warnings`
        (the line saying so), only when the silence held some: scripts read the answer's
        other keys as they were. Nothing when the store cannot be listed: it is expired."""
        try:
            incidents = await self.view.scan.incidents(self.view.store)
            silences = await self.view.store.silences()
        except TriageError as exc:
            log.warning("api.silence_release_unchecked", silence=expired.id, reason=exc.reason)
            return {}
        released, still_held = released_by(expired, incidents, silences, now)
        said = released_said(released, still_held)
        if said is None:
            return {}
        return {"released": released, "warnings": [said]}


def _log_added(added: Silence, shown: Mapping[str, object]) -> None:
    """The `api.silence_added` line. A silence that matches every alert (`title!=`) is made,
    as Alertmanager makes it, but it quiets everything until it ends: its line is a warning
    saying so, with its end, so whoever watches the logs sees a leaked API token or a slip
    silence the whole pager, not one more routine add."""
    if added.matches_every_alert():
        log.warning(
            "api.silence_added",
            silence=added.id,
            matchers=len(added.matchers),
            matches_every_alert=True,
            ends_at=shown["ends_at"],
        )
    else:
        log.info("api.silence_added", silence=added.id, matchers=len(added.matchers))


async def _answer(handler: Handler, request: Request) -> Response:
    """The store briefly down is a 503 the client may retry, not a 500. A record the store
    holds but cannot be read (`store_corrupt`: a hand edit, a disk's damage) is no outage: a
    retry reads the same record, so it is a 500 saying so, without Retry-After."""
    try:
        return await handler(request)
    except StoreCorruptError as exc:
        log.warning("api.unreadable_record", reason=exc.reason, error=str(exc))
        return _error(500, UNREADABLE_ANSWER)
    except TriageError as exc:
        log.warning("api.unavailable", reason=exc.reason, error=str(exc))
        return Response(
            503,
            json.dumps({"error": "store unavailable, try again"}).encode() + b"\n",
            "application/json",
            headers=(("Retry-After", "1"),),
        )


#: The answer for a record that cannot be read. Not the record's error itself, which may
#: quote what is stored: the daemon's log line (`api.unreadable_record`) names it.
UNREADABLE_ANSWER = (
    "the stored record is unreadable (store_corrupt): the store is up and a retry reads the "
    "same record; the daemon's log names it"
)


#: The fields of a POST /api/v1/silences body; any other is refused, not ignored.
_SILENCE_FIELDS = ("matchers", "duration", "until", "comment", "author")


def _silence_request(body: bytes) -> tuple[list[str], tuple[str | None, str | None], str, str]:
    """matchers, (duration, until), comment and author of a POST /api/v1/silences body (one
    of duration and until, as `new_silence` checks). A field this
    API does not know (`autor`, `ends_at`, `startsAt`) is refused rather than ignored: the
    silence it made would not be the one the operator asked for (an author lost, an end
    other than the one they wrote), and nothing would say so."""
    data = _strict_json(body)
    if not isinstance(data, dict):
        raise TypeError("expected a JSON object")
    unknown = [name for name in data if name not in _SILENCE_FIELDS]
    if unknown:
        raise ValueError(
            f"unknown field {quoted(unknown[0], 40)}: a silence takes {', '.join(_SILENCE_FIELDS)}"
            f"{did_you_mean(unknown[0], _SILENCE_FIELDS)}"
        )
    matchers, duration, comment = data.get("matchers"), data.get("duration"), data.get("comment")
    if not isinstance(matchers, list) or not all(isinstance(m, str) for m in matchers):
        raise TypeError("matchers: expected a list of KEY=VALUE strings")
    until = data.get("until")
    if not isinstance(duration, str | None):
        raise TypeError("duration: expected a string such as 90m, 2h or 1d")
    if not isinstance(until, str | None):
        raise TypeError("until: expected a string such as 2026-12-05T06:00Z")
    if not isinstance(comment, str):
        raise TypeError("comment: expected a string saying why")
    author = data.get("author")
    if author is not None and not isinstance(author, str):
        raise TypeError("author: expected a string")
    return matchers, (duration, until), comment, given_author(author, lambda: "api")


def _strict_json(body: bytes) -> object:
    """The body as JSON, as RFC 8259 has it: UTF-8, each key once (Python's parser keeps the
    last of two, so `{"comment": "a", "comment": "b"}` would mean what one reader of it
    thought), no NaN or Infinity, and no number of thousands of digits. ValueError says
    which rule it breaks, in words an operator can act on."""
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ValueError(f"body is not UTF-8 (byte {exc.start})") from None
    try:
        return json.loads(
            text or "null",
            object_pairs_hook=_unique_keys,
            parse_constant=_no_constant,
            parse_int=_bounded_int,
        )
    except json.JSONDecodeError as exc:
        raise ValueError(f"body is not JSON: {exc}") from None


def _unique_keys(pairs: list[tuple[str, object]]) -> dict[str, object]:
    seen: dict[str, object] = {}
    for key, value in pairs:
        if key in seen:
            raise ValueError(f"body has the field {quoted(key, 40)} twice")
        seen[key] = value
    return seen


def _no_constant(name: str) -> object:
    raise ValueError(f"body is not JSON: {name} is not a JSON value")


def _bounded_int(text: str) -> int:
    if len(text) > 20:
        raise ValueError(f"body holds a number of {len(text)} digits")
    return int(text)


#: Values a yes/no parameter takes (`?flapping`, `?all`); a bare name means yes.
_YES = ("", "1", "true", "yes")
_NO = ("0", "false", "no")


#: The filters and paging `GET /api/v1/incidents` takes (`match` as often as wanted).
_LISTING_PARAMETERS = (
    "state", "team", "flapping", "source", "priority", "search", "match", "since", "before",
    "limit", "offset", "after",
)  # fmt: skip


def query_parameters(
    request: Request, allowed: Sequence[str], *, repeatable: Sequence[str] = ()
) -> dict[str, str]:
    """The request's query parameters, each named in `allowed` and given at most once (those
    in `repeatable` as often as wanted: `every_value` reads them all). ValueError for any other: a
    misspelt filter (`?sate=closed`) ignored would answer an unfiltered list that looks
    filtered, and of `?state=open&state=closed` one would be dropped without a word. A name
    or value whose percent-encoded bytes are not UTF-8 is refused too (`_refuse_not_utf8`)."""
    pairs = parse_qsl(request.query, keep_blank_values=True, errors="surrogateescape")
    found: dict[str, str] = {}
    for name, value in pairs:
        _refuse_not_utf8(name, value)
        if name not in allowed:
            raise ValueError(_unknown_parameter(name, allowed))
        if name in found and name not in repeatable:
            raise ValueError(f"query parameter {name!r} given twice")
        found[name] = value
    return found


#: Query parameter names a client puts a credential under (`?access_token=`, `?api_key=`):
#: refused saying where the token goes, since a URL is kept by proxies, logs and history.
_CREDENTIAL_WORDS = ("token", "key", "secret", "password", "auth", "bearer", "jwt")


def _credential_name(name: str) -> bool:
    """Whether query parameter `name` is one a client puts a credential under."""
    lowered = name.lower()
    return any(word in lowered for word in _CREDENTIAL_WORDS)


def _credential_in_query(request: Request) -> bool:
    """Whether `request`'s query names a parameter a client puts a credential under."""
    pairs = parse_qsl(request.query, keep_blank_values=True, errors="replace")
    return any(_credential_name(name) for name, _ in pairs)


def _unknown_parameter(name: str, allowed: Sequence[str]) -> str:
    """Why query parameter `name` is refused, in one line. The name is never followed by a
    colon and a word: every refusal is redacted on its way out, and `'access_token': this`
    read as a credential's name and value left "[REDACTED:password] path takes …"."""
    if _credential_name(name):
        return (
            f"query parameter {quoted(name, 40)} is refused: send the API token in the "
            "Authorization header (Bearer), never in a URL, which proxies, logs and browser "
            "history keep (the status page's login form sets a session instead)"
        )
    takes = f"takes {', '.join(allowed)}" if allowed else "takes no query parameters"
    return f"unknown query parameter {quoted(name, 40)} (this path {takes}){did_you_mean(name, allowed)}"


def _refuse_not_utf8(name: str, value: str) -> None:
    """ValueError when query parameter `name` or its value was percent-encoded from bytes that
    are not UTF-8 (`caf%E9`, Latin-1 from an old script or console): read with each bad byte
    as U+FFFD, a team, search or matcher holding it names no incident, and the answer of none
    would read as "no incident of team café" while one is open."""
    if is_unicode(name) and is_unicode(value):
        return
    shown = name.encode("utf-8", "surrogateescape").decode("utf-8", "replace")
    raise ValueError(
        f"query parameter {quoted(shown, 40)}: not UTF-8; percent-encode its text as UTF-8 "
        "(café is caf%C3%A9)"
    )


def path_segment(request: Request, names: str) -> str:
    """The last segment of `request`'s path, the `names` it is (an incident, a silence),
    percent-decoded once: `/api/v1/incidents/e7f4%20` or `%45%37%46%34` names what `triage
    incidents show "e7f4 "` finds, where the segment read as sent named none (a 404). Once
    only: `%2520` is `%20`, as every URL reader takes it. ValueError naming the segment as
    sent when its escapes are not UTF-8 (`caf%E9`): read with U+FFFD it would name nothing,
    and "no such incident" would send the operator looking for one that is there."""
    sent = request.path.rpartition("/")[2]
    if "%" not in sent:
        return sent
    decoded = unquote(sent, errors="surrogateescape")
    if not is_unicode(decoded):
        raise ValueError(
            f"{names} {client_excerpt(sent, 64)!r} in the path: its percent-escapes are not "
            "UTF-8; percent-encode its text as UTF-8 (café is caf%C3%A9)"
        )
    return decoded


def every_value(request: Request, name: str) -> list[str]:
    """Every value of a repeatable query parameter, in the order given."""
    pairs = parse_qsl(request.query, keep_blank_values=True, errors="replace")
    return [value for given, value in pairs if given == name]


def flag_parameter(request: Request, query: Mapping[str, str], name: str) -> bool:
    """A yes/no parameter: absent is no, the bare name (`?flapping`) yes; anything but its
    spellings of yes and no is a 400, not a silent no (`?flapping=on` listed every incident).
    So is the name with an empty value (`?dry_run=`, a script's `dry_run=$DRY` with DRY
    unset, a dashboard's variable left empty), as `?state=` is: read as the bare name, it
    answered a dry run a script took for the silence made, or only the flapping incidents."""
    value = query.get(name)
    if value is None:
        return False
    # Spaces around it ignored, as around a team, a source or a priority (`?flapping=%20true`,
    # a dashboard's variable with a space): a word of yes or no, not a 400. Spaces alone are
    # as empty: a yes only for the bare name.
    word = value.strip().lower()
    if not word and not (value == "" and _given_bare(request, name)):
        raise ValueError(
            f"{name} is empty: give 1 or 0 (true/false, yes/no), the name alone for yes, or "
            "leave it out for no"
        )
    if word in _YES:
        return True
    if word in _NO:
        return False
    raise ValueError(f"{name} {quoted(value, 20)}: expected 1 or 0 (true/false, yes/no)")


def _given_bare(request: Request, name: str) -> bool:
    """Whether the query names `name` alone, without `=` (`?flapping`): a yes."""
    return any(
        pair.partition("=")[0] == name and "=" not in pair for pair in request.query.split("&")
    )


def same_origin(request: Request) -> bool:
    """False when the browser says the request comes from another site: `Sec-Fetch-Site`
    other than same-origin or none, or without it (an older browser) an `Origin` that is
    `null` (a sandboxed frame's) or names another host than `Host` or, behind a proxy that
    sends its own Host (nginx's default), `X-Forwarded-Host`. No page can set these headers;
    a client that is no browser sends none of them and is taken."""
    fetch_site = request.header("sec-fetch-site")
    if fetch_site is not None:
        # The browser's own word, and the only one that survives a proxy rewriting Host.
        return fetch_site in ("same-origin", "none")
    origin = request.header("origin")
    if origin is None or origin == "null":
        return origin is None
    given = urlsplit(origin).netloc
    hosts = (request.header("host"), request.header("x-forwarded-host"))
    return any(given == host.partition(",")[0].strip() for host in hosts if host)


def json_body(request: Request) -> Response | None:
    """None when `request`'s body may be read as JSON: it has none, or its Content-Type is
    absent (a script's bare request) or a JSON type (`application/json`, any `+json`, any
    parameters); else a 415 saying what to send. A form or text body (`curl -d`'s default,
    an HTML form's) is refused, not read: those are the kinds a browser sends across sites
    without asking first."""
    given = request.header("content-type")
    if not request.body or given is None:
        return None
    kind = given.partition(";")[0].strip().lower()
    if kind == "application/json" or (kind.startswith("application/") and kind.endswith("+json")):
        return None
    return _error(415, "expected a JSON body: send Content-Type: application/json")


def _unauthorized(*, misplaced: bool = False) -> Response:
    """401. When the request put a credential in its query (`?access_token=`, a curl or
    a tool's habit) the error says where the token goes: a bare "unauthorized" reads as a
    wrong token, and the operator rotates one that was right."""
    said = "unauthorized"
    if misplaced:
        said += (
            ": send the API token in the Authorization header (Bearer), never in a URL, "
            "which proxies, logs and browser history keep"
        )
    body = json.dumps({"error": said}).encode() + b"\n"
    return Response(401, body, "application/json", headers=(("WWW-Authenticate", "Bearer"),))


#: A 429's error for an address limited for its wrong tokens.
AUTH_LIMITED = (
    "too many requests with a wrong token from this address: none is compared until "
    "Retry-After has passed; check the API token"
)


def _error(status: int, message: str) -> Response:
    return _json(status, {"error": message})


def _json(status: int, value: object) -> Response:
    """A JSON answer every parser takes: a lone surrogate in stored text (an older release's,
    another writer's) is U+FFFD, not a `\\ud800` escape, which strict parsers (Go's, Rust's)
    refuse. Every other character is answered as stored, `\\u`-escaped outside ASCII."""
    return Response.json(status, whole_unicode(value))


#: Incidents one listing answers at most (`?limit=`, the most urgent first); `total` says how
#: many matched, so a storm of incidents cannot make one answer of hundreds of megabytes.
DEFAULT_LIMIT = 500
MAX_LIMIT = 5000


def _limit(given: str | None) -> int:
    """How many matches one answer holds: `given`, or the default, at most MAX_LIMIT. The
    answer says which (`limit`), so a client paging by it skips nothing."""
    if given is None:
        return min(DEFAULT_LIMIT, MAX_LIMIT)
    _refuse_empty("limit", given)
    # Any whole number is capped at MAX_LIMIT, as the README says: `limit=1000000000` (a
    # script's "everything") was a 400 saying it is not a positive whole number.
    asked = _whole_number(given)
    if not asked:
        raise ValueError(f"limit {quoted(given, 20)}: expected a positive whole number")
    return min(asked, MAX_LIMIT)


def _page_start(query: Mapping[str, str]) -> tuple[int, str | None]:
    """Where a page starts: `offset`, or the `after` cursor of the page before (not both)."""
    after = query.get("after")
    if after is not None and "offset" in query:
        raise ValueError("after and offset both say where a page starts: give one of them")
    return _offset(query.get("offset")), after


def _offset(given: str | None) -> int:
    """How many of the matches to skip: the next page starts at the last one's offset plus
    its limit as the answer says it (`total` says when to stop). Offsets name places in a
    list that changes as incidents open and close, so a page may repeat or miss one that
    moved meanwhile. One past every incident (however many digits) is an empty page."""
    if given is None:
        return 0
    _refuse_empty("offset", given)
    asked = _whole_number(given)
    if asked is None:
        raise ValueError(f"offset {quoted(given, 20)}: expected a whole number (0 or more)")
    return asked


#: More incidents than any store holds: a paging number past it is read as it, so no text
#: of thousands of digits (the request line allows 8 KiB) is ever turned into a number.
_PAST_EVERY_LIST = 10**9


def _whole_number(given: str) -> int | None:
    """The whole number `given` writes in ASCII digits (leading zeros allowed), read as
    _PAST_EVERY_LIST when larger; None when it is not one (a sign, `1e3`, another script's
    digits such as `٣`)."""
    if not (given.isascii() and given.isdigit()):
        return None
    significant = given.lstrip("0")
    if len(significant) > len(str(_PAST_EVERY_LIST)):
        return _PAST_EVERY_LIST
    return min(int(significant or "0"), _PAST_EVERY_LIST)


def _refuse_empty(name: str, given: str) -> None:
    """ValueError for a paging parameter given empty: a script's unset variable, whose pages
    read as the defaults' would each be the first one again."""
    if given == "":
        raise ValueError(f"query parameter {name!r} given empty: leave it out for the default")


def new_csrf() -> str:
    return secrets.token_urlsafe(24)
