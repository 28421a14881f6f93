"""GitHub's REST API as the github sink sees it: authenticated calls, answers mapped to our
errors, and a pause while GitHub's rate limits are in force.

How answers map to errors (the error's `reason` is the outcome counted in `SinkCalls`):

    2xx                                     the decoded JSON answer (None if there is none)
    401                                     an App's installation token is renewed once and the
                                            call repeated; after that (or with GITHUB_TOKEN)
                                            GitHubUnavailableError "unauthorized": credentials
                                            are configuration, never the message's fault
    403/429 + Retry-After                   GitHubThrottledError "rate_limited"
                                            (retry_after_s = Retry-After), paused
    403/429 + x-ratelimit-remaining: 0      GitHubThrottledError until x-ratelimit-reset, paused
                                            (only calls of the budget it names: see below)
    403/429 "secondary rate limit" (or      GitHubThrottledError (retry_after_s = 60, doubled
    "abuse detection", "rate limit          for each such limit in a row, at most 960; a
    exceeded"), or 429; 422 "... has        read's or write's success starts it again), paused
    been spammed" or "was submitted too
    quickly" (content too fast)
    5xx, 408, 425 + Retry-After             GitHubThrottledError "unavailable": GitHub says when
                                            to come back, so the message is held, not failed
    5xx, 408, 425, network error, timeout   GitHubUnavailableError "unavailable" / "network"
                                            (425 Too Early: a proxy that will not replay early
                                            data; the same call again goes through)
    1xx as the final answer                 GitHubUnavailableError "unavailable": it broke
                                            HTTP's rules (a 101 upgrade no one asked for)
    an answer too large to read, or not in  judged by its status and headers alone, its body
    the coding it names (gzip that is not   taken as empty: a 2xx create is then
    gzip)                                   "bad_response", retried, and its issue found again
                                            by its marker; GitHub would answer the same again
    2xx of the wrong shape (no JSON, a      GitHubUnavailableError "bad_response"
    list for an object, a field missing)
    2xx to a read (GET) too large to read   AnswerTooLargeError, a "bad_response": a list is
                                            read again in smaller pages (`lookup.py`)
    2xx with a web page (HTML or XML by     GitHubUnavailableError "bad_response", whatever the
    type or first character: a proxy's      call (a close or a label's answer is otherwise not
    sign-in page)                           read): it reached no GitHub, so it is retried
    3xx off the API's host (or no URL, no   GitHubUnavailableError "redirected": not followed,
    Location, more than MAX_REDIRECTS)      GITHUB_API_URL is wrong (a 3xx within the API is
                                            followed; a write only by a 307/308)
    no App installation token can be had,   GitHubUnavailableError "no_token" (the message waits;
    or the App's JWT refused on GET /app    a refused exchange's error says what to do: a 404
                                            is no installation, a 403 a suspended one)
    403 "... suspended" (not on /app)       GitHubUnavailableError "suspended": the installation
                                            or the token's account is suspended; the message
                                            waits until an owner lifts it
    any other 4xx (422, 404, a 403 that is  SinkRejectedError naming the status and GitHub's
    no limit …)                             message

An error's text names GitHub's `message`, its validation errors' fields, codes and sentences
(never the `value` they quote back), and the `X-GitHub-Request-Id` when it has GitHub's form;
an answer without a message (a proxy's page) is named by its size and type, never its text.
What is kept is one visible line, redacted, at most 200 characters (`http.said`).

"Paused" means `paused_until()` returns the deadline and every call before it fails at once
(GitHubThrottledError "paused") without reaching GitHub; an answer that spends the last call of
the primary budget pauses too. A throttled message is held, not retried (see `triage.errors`).

GitHub keeps a primary budget per resource (`x-ratelimit-resource`): `core` for nearly every
REST call, and apart from it `search` (30 calls a minute), `code_search`, `graphql` and others.
A spent budget (x-ratelimit-remaining: 0, on a refusal or on the answer that spent its last
call) other than `core` holds only the calls that spend it (`budget_of`), refused "paused"
until its reset while `paused_until()` stays None: a marker look-up's search meeting the search
limit must not stop an incident's comment or close, which `core` still allows. A secondary
limit (Retry-After, GitHub's words, a 429, a 422 "spammed") is the integration's, whichever
call met it, and pauses every call.

Every time GitHub states (x-ratelimit-reset, a dated Retry-After, a token's expiry, an App
JWT's window, an issue's closed_at) is read against GitHub's own clock, which each answer's Date
header tells (`clock.py`), never against the host's alone.

A failed call's own line (`github.unavailable`, `github.rejected` …) is debug: the error's text
says the same, and the supervisor's line for the message is the one that says why at warning.
"""

from __future__ import annotations

import asyncio
import math
import re
import time
from collections.abc import Callable
from typing import Any

import httpx2
import structlog

from triage.errors import (
    ConfigError,
    GitHubThrottledError,
    GitHubUnavailableError,
    SinkRejectedError,
)
from triage.redact import hold
from triage.settings import Settings
from triage.sinks.aio import AiohttpTransport, AnswerTooLarge, AnswerUnread
from triage.sinks.github.auth import InstallationToken, app_credentials, usable_in_header
from triage.sinks.github.clock import SIGNIFICANT_SKEW_S, GitHubClock
from triage.sinks.http import (
    MAX_WAIT_S,
    json_answer,
    parse_retry_after,
    request_id,
    said,
    scrub,
    throttle_wait_s,
    transport_error,
    unread_answer,
    web_page,
)
from triage.tls import client_context

log = structlog.get_logger(__name__)

#: 4xx answers that mean "later", not "never": request timeout, too early.
_RETRYABLE_4XX = frozenset({408, 425})

#: Secondary rate limits without Retry-After: GitHub asks for at least a minute, and for
#: "exponentially increasing" waits while they go on (an integration that keeps asking may be
#: banned): the wait doubles with each limit in a row, up to SECONDARY_LIMIT_MAX_WAIT_S, and
#: starts again from a minute once a call of the same kind (a read, a write) goes through.
SECONDARY_LIMIT_WAIT_S = 60.0
SECONDARY_LIMIT_MAX_WAIT_S = 960.0

#: GitHub's words for a limit in a 403's message: the secondary limit's, its older name (still
#: GitHub Enterprise Server's, often without Retry-After), and the primary limit's (whose
#: x-ratelimit-* headers a proxy may drop). A 403 without them is no limit (a permission).
_LIMIT_WORDS = ("secondary rate limit", "abuse detection", "rate limit exceeded")

#: GitHub's words in a 422 that refuses content created too fast rather than the request: its
#: docs' ("the endpoint has been spammed") and what it answers (a validation error "was
#: submitted too quickly", for an issue and for a comment alike, as octokit and gh report it).
_SPAMMED = ("has been spammed", "submitted too quickly")

#: An answer's extension saying why its body was not read (`GitHubApi._request`), and one
#: saying it was for its size (`AnswerTooLargeError`).
_UNREAD = "triage.unread"
_TOO_LARGE = "triage.too_large"

#: How much of an error body goes into logs and exception messages.
_REASON_CHARS = 200

#: What to do about a suspended installation or account, said in the error.
_SUSPENDED_HINT = (
    "the App's installation (or the token's account) is suspended or refused; an owner "
    "unsuspends it in the account's Settings > GitHub Apps"
)


class GitHubApi:
    """One connection pool, one set of credentials and one rate-limit pause for all workers."""

    def __init__(
        self,
        settings: Settings,
        *,
        transport: httpx2.AsyncBaseTransport | None = None,
        clock: Callable[[], float] = time.monotonic,
        wall_clock: Callable[[], float] = time.time,
    ) -> None:
        if not settings.github_api_url.startswith(("http://", "https://")):
            raise ConfigError("GITHUB_API_URL must start with http:// or https://")
        credentials = app_credentials(settings)
        if credentials is None and settings.github_token is None:
            raise ConfigError("the github sink needs GITHUB_TOKEN or the GITHUB_APP_* settings")
        #: GitHub's own time, learned from its answers' Date: what its resets, dated
        #: Retry-Afters, token expiries and JWT windows are read against.
        self._github_clock = GitHubClock(wall_clock)
        # An App, when configured, wins over a token (CI systems often set GITHUB_TOKEN for
        # themselves; the App is the deliberate choice).
        self._app = (
            InstallationToken(credentials, clock=clock, wall_clock=self._github_clock.now)
            if credentials is not None
            else None
        )
        self._static_token = _static_token(settings) if credentials is None else None
        self._clock = clock
        self._client = httpx2.AsyncClient(
            base_url=settings.github_api_url.rstrip("/"),
            timeout=settings.github_timeout_s,
            # httpx2's client API on aiohttp's transport (`sinks/aio.py`), as the backend sink.
            transport=transport or AiohttpTransport(client_context()),
            # Redirects are followed by `call`, and only within GitHub's API (see `_send`).
            follow_redirects=False,
            headers={
                "Accept": "application/vnd.github+json",
                "X-GitHub-Api-Version": "2022-11-28",
                "User-Agent": "triage-alert-sink",
            },
        )
        self._paused_until: float | None = None
        #: Budgets other than `core` that are spent, → the `clock()` deadline of their reset.
        self._budget_paused_until: dict[str, float] = {}
        #: Secondary limits met in a row without a Retry-After, for reads and for writes.
        self._limits_in_a_row = {"read": 0, "write": 0}
        self._identity: str | None = None
        self._token_lock = asyncio.Lock()
        #: A classic token's scopes, as GitHub's last answer to it named them
        #: (`X-OAuth-Scopes`); None for any other credential, or before an answer.
        self.classic_scopes: frozenset[str] | None = None

    def github_now(self) -> float:
        """GitHub's time now (epoch seconds), as its answers' Date says: what times GitHub
        wrote (an issue's `closed_at`) are compared with."""
        return self._github_clock.now()

    def paused_until(self) -> float | None:
        """A `clock()` deadline before which GitHub is known to refuse every call, else None."""
        if self._paused_until is not None and self._clock() < self._paused_until:
            return self._paused_until
        return None

    async def aclose(self) -> None:
        await self._client.aclose()

    async def whoami(self) -> str:
        """Our login: the token's user (`GET /user`), or the App's bot `<slug>[bot]` (`GET /app`
        with the JWT; an installation token may not call /user)."""
        if self._identity is None:
            if self._app is not None:
                try:
                    app = await self.call("GET", "/app", app_jwt=True)
                except SinkRejectedError as exc:
                    # The App's own credentials refused (its id, its key, a clock far off), as
                    # when its token is exchanged: configuration, so the message waits.
                    log.debug("github.no_token", error=str(exc))
                    hint = self._no_token_hint(exc) if exc.status == 401 else ""
                    raise GitHubUnavailableError(
                        f"the GitHub App's JWT was refused: {exc}{hint}",
                        reason="no_token",
                    ) from None
                self._identity = login(f"{text_field(app, 'slug')}[bot]")
            else:
                user = await self.call("GET", "/user")
                self._identity = login(text_field(user, "login"))
        return self._identity

    async def call(
        self,
        method: str,
        path: str,
        *,
        json: Any = None,
        params: dict[str, Any] | None = None,
        app_jwt: bool = False,
        gone_ok: bool = False,
    ) -> Any:
        """One API call with our credentials; returns the decoded answer or raises (see the
        module docstring). `gone_ok`: a 404 is an answer too (None), for a removal whose
        target is already gone."""
        self._refuse_while_paused(budget_of(path))
        for attempt in (1, 2):
            token = self._jwt() if app_jwt else await self._token()
            headers = {"Authorization": f"Bearer {token}"}
            signed_offset_s = self._github_clock.offset_s
            try:
                response = await self._send(method, path, json, params, headers)
            except httpx2.TransportError as exc:  # connect/read errors and every timeout
                error = transport_error(exc, scrub(str(exc), token))
                log.debug("github.unreachable", method=method, path=path, error=error)
                raise GitHubUnavailableError(
                    f"GitHub unreachable: {error}", reason="network"
                ) from None
            self._github_clock.observe(response.headers)
            self._note_rate_limit(response, path)
            scopes = _scopes(response.headers)
            if scopes is not None and not app_jwt and is_classic_token(token):
                self.classic_scopes = scopes
            if response.status_code == 401 and attempt == 1 and app_jwt:
                if abs(self._github_clock.offset_s - signed_offset_s) < SIGNIFICANT_SKEW_S:
                    break
                # The JWT was dated by a clock GitHub's Date now says is off: signed again by
                # GitHub's time, it fits the window GitHub checks (as Octokit does).
                log.info("github.clock_skew", path=path, offset_s=self._github_clock.offset_s)
                continue
            if response.status_code == 401 and attempt == 1 and self._app and not app_jwt:
                # An installation token may have been revoked before its expiry: mint another.
                log.info("github.unauthorized", path=path, action="renew_token")
                self._app.invalidate(token)
                continue
            break
        if gone_ok and response.status_code == 404:
            return None
        return self._verdict(response, method, path, token)

    #: Redirects followed for one call, at most.
    MAX_REDIRECTS = 3

    async def _send(
        self,
        method: str,
        path: str,
        json: Any,
        params: dict[str, Any] | None,
        headers: dict[str, str],
    ) -> httpx2.Response:
        """The request, following a redirect only to the API's own host (a transferred issue
        or a renamed repository answers one), and for a write only a 307/308, which keeps the
        method and body: a 301/302/303 would turn a POST into a GET whose answer (someone
        else's issue) would be taken for the one created."""
        response = await self._request(method, path, json=json, params=params, headers=headers)
        for _ in range(self.MAX_REDIRECTS):
            location = response.headers.get("location")
            if not response.is_redirect or location is None:
                return response
            status = response.status_code
            try:
                target: httpx2.URL | None = response.url.join(location)
            except (httpx2.InvalidURL, ValueError):  # a port of 99999, an unclosed [
                target = None
            if (
                target is None
                or not target.host
                or (target.scheme, target.host, target.port)
                != (
                    response.url.scheme,
                    response.url.host,
                    response.url.port,
                )
            ):
                # Not followed: our token would go along. Every call is redirected so (the API
                # URL is wrong, or a proxy answers for it), which no message can fix: they wait
                # (the breaker pauses intake) rather than each going to the DLQ.
                log.debug("github.redirected", method=method, path=path, status=status)
                raise GitHubUnavailableError(
                    f"GitHub redirected {method} {path} ({status}) off the API's host; not "
                    "followed: check GITHUB_API_URL",
                    reason="redirected",
                )
            if method != "GET" and status not in (307, 308):
                log.debug("github.redirected", method=method, path=path, status=status)
                raise SinkRejectedError(
                    f"GitHub redirected {method} {path} ({status}) with a method change; "
                    "not followed",
                    status=status,
                    detail="redirected with a method change",
                )
            await response.aclose()
            response = await self._request(method, target, json=json, headers=headers)
        return response

    async def _request(
        self,
        method: str,
        url: httpx2.URL | str,
        *,
        json: Any,
        headers: dict[str, str],
        params: dict[str, Any] | None = None,
    ) -> httpx2.Response:
        """One request's answer. One too large to read, or not in the coding it names
        (`AnswerUnread`), is judged by its status and headers alone, its body taken as empty
        (`_UNREAD` says why): GitHub would
        answer the same again, so a network failure's retry would not change it, and a 410
        (deleted), a 403 limit with its Retry-After, or a 2xx would be misread."""
        request = self._client.build_request(method, url, json=json, params=params, headers=headers)
        response = await self._client.send(request, stream=True)
        try:
            await response.aread()
            return response
        except AnswerUnread as exc:
            unread: dict[str, Any] = {_UNREAD: f"{type(exc).__name__}: {exc}"}  # our words
            unread[_TOO_LARGE] = isinstance(exc, AnswerTooLarge)
            return httpx2.Response(
                response.status_code, headers=response.headers, request=request, extensions=unread
            )
        finally:
            await response.aclose()

    def _verdict(self, response: httpx2.Response, method: str, path: str, token: str) -> Any:
        status = response.status_code
        if 200 <= status < 300 and web_page(response):
            # Checked before any caller reads the answer: a close or a label's answer is not
            # read at all, and a page taken for it would leave the issue as it was.
            kind = unread_answer(response)
            log.debug(
                "github.not_an_api_answer", method=method, path=path, status=status, reason=kind
            )
            raise GitHubUnavailableError(
                f"GitHub answered {method} {path} with {status} and a web page ({kind}), not "
                "the API's answer: a proxy or a web app answers for GITHUB_API_URL",
                reason="bad_response",
            )
        if 200 <= status < 300:
            self._limits_in_a_row[_kind(method)] = 0
            if method == "GET" and response.extensions.get(_TOO_LARGE):
                # A read whose every caller needs its answer: said as too large, so that one
                # reading a list asks for smaller pages (`lookup.py`).
                log.debug("github.answer_too_large", method=method, path=path, status=status)
                raise AnswerTooLargeError(
                    f"GitHub answered {method} {path} with {status} and more than is read of "
                    "an answer",
                    reason="bad_response",
                )
            return json_answer(response)  # None for 204 and friends: nothing usable
        reason = _reason(response, token)
        fields = {"method": method, "path": path, "status": status, "reason": reason}
        limit_s = self._limit_wait_s(response, reason, method) if status in (403, 429) else None
        budget = _spent_budget(response, path) if limit_s is not None else _CORE
        if status == 422 and any(words in reason.lower() for words in _SPAMMED):
            # GitHub's 422 for content created too fast ("the endpoint has been spammed", in
            # its docs beside validation; "was submitted too quickly", as it answers): a wait
            # as for a secondary limit, not the ticket's fault, which a rejection would
            # dead-letter with its issue never opened.
            limit_s = self._secondary_wait_s(method)
        if limit_s is not None:
            wait_s = throttle_wait_s(limit_s, SECONDARY_LIMIT_WAIT_S)
            self._pause(wait_s, budget)
            log.debug("github.rate_limited", retry_after_s=wait_s, budget=budget, **fields)
            raise GitHubThrottledError(
                f"GitHub rate limit ({status}: {reason}); retry in {wait_s:.0f} s",
                reason="rate_limited",
                retry_after_s=wait_s,
            )
        if status == 401 and not app_jwt_path(path):
            log.debug("github.unauthorized", **fields)
            raise GitHubUnavailableError(
                f"GitHub refused our credentials: {reason}", reason="unauthorized"
            )
        if status == 403 and "suspended" in reason.lower() and not app_jwt_path(path):
            # The App's installation (or the token's account) is suspended: GitHub refuses
            # every call until an owner lifts it, which no message can change, so they wait.
            # The token is dropped: the next call asks for one, and is refused as suspended
            # until then (`_token`).
            if self._app is not None:
                self._app.invalidate(token)
            log.debug("github.suspended", **fields)
            raise GitHubUnavailableError(
                f"GitHub refused our credentials ({status}: {reason}): {_SUSPENDED_HINT}",
                reason="suspended",
            )
        if status < 200 or status >= 500 or status in _RETRYABLE_4XX:
            # A 1xx as the final answer (an upgrade no one asked for) says nothing of the
            # call: GitHub, or what answers for it, is unwell, as with a 5xx.
            self._refuse_for_a_while(response, fields)
            log.debug("github.unavailable", **fields)
            raise GitHubUnavailableError(
                f"GitHub answered {status}: {reason}", reason="unavailable"
            )
        if 300 <= status < 400:
            # No Location, or redirects within the API past MAX_REDIRECTS: GitHub (or what
            # answers for it) is misbehaving for every call, which no message can fix.
            log.debug("github.redirected", **fields)
            raise GitHubUnavailableError(
                f"GitHub answered {method} {path} with {status} and no redirect to follow",
                reason="redirected",
            )
        log.debug("github.rejected", **fields)
        raise SinkRejectedError(
            f"GitHub rejected {method} {path} with {status}: {reason}", status=status, detail=reason
        )

    def _refuse_for_a_while(self, response: httpx2.Response, fields: dict[str, Any]) -> None:
        """A 5xx (or 408, 425) that says when to come back (Retry-After: writes in
        maintenance, a deploy) is GitHub asking us to wait, not failing: GitHubThrottledError,
        so the message is held without spending a receive towards the DLQ and the breaker is
        not told. One without Retry-After stays a failure (GitHubUnavailableError)."""
        retry_after_s = parse_retry_after(
            response.headers.get("retry-after"), self._github_clock.now()
        )
        if retry_after_s is None:
            return
        wait_s = throttle_wait_s(retry_after_s, retry_after_s)
        log.debug("github.asked_to_wait", retry_after_s=wait_s, **fields)
        raise GitHubThrottledError(
            f"GitHub answered {fields['status']}: {fields['reason']}; retry in {wait_s:.0f} s",
            reason="unavailable",
            retry_after_s=wait_s,
        )

    # --- Rate limits ------------------------------------------------------------------------

    def _limit_wait_s(self, response: httpx2.Response, reason: str, method: str) -> float | None:
        """Seconds GitHub wants us to wait, in the order its docs give; None if this 403 is
        not a rate limit (a missing permission, say)."""
        retry_after_s = parse_retry_after(
            response.headers.get("retry-after"), self._github_clock.now()
        )
        if retry_after_s is not None:
            return retry_after_s
        if response.headers.get("x-ratelimit-remaining") == "0":
            # Spent, with a reset time we cannot read: wait as for a secondary limit.
            return self._reset_in_s(response) or self._secondary_wait_s(method)
        said_limit = any(words in reason.lower() for words in _LIMIT_WORDS)
        if said_limit or response.status_code == 429:
            return self._secondary_wait_s(method)
        return None

    def _secondary_wait_s(self, method: str) -> float:
        """The wait for one more secondary limit without Retry-After: a minute, doubled for
        each one before it in a row (of the same kind), at most SECONDARY_LIMIT_MAX_WAIT_S."""
        kind = _kind(method)
        in_a_row = self._limits_in_a_row[kind]
        self._limits_in_a_row[kind] = min(in_a_row + 1, _MOST_DOUBLINGS)
        return min(SECONDARY_LIMIT_WAIT_S * float(2**in_a_row), SECONDARY_LIMIT_MAX_WAIT_S)

    def _reset_in_s(self, response: httpx2.Response) -> float | None:
        try:
            reset = float(response.headers["x-ratelimit-reset"])
        except (KeyError, ValueError):
            return None
        if not math.isfinite(reset):
            return None
        return min(max(1.0, reset - self._github_clock.now()), MAX_WAIT_S)

    def _note_rate_limit(self, response: httpx2.Response, path: str) -> None:
        """An answer that spends the last call of a primary budget pauses the calls that spend
        it (every call, for `core`) until the budget resets, instead of letting the next one
        fail."""
        if response.headers.get("x-ratelimit-remaining") == "0":
            reset_s = self._reset_in_s(response)
            if reset_s is not None:
                self._pause(reset_s, _spent_budget(response, path))

    def _pause(self, wait_s: float, budget: str) -> None:
        """Refuse, for `wait_s`, every call (`budget` core, or a secondary limit's) or only
        the calls that spend `budget` (the search API's, GraphQL's …)."""
        now = self._clock()
        deadline = now + wait_s
        if budget != _CORE:
            self._forget_reset_budgets(now)
            if deadline > self._budget_paused_until.get(budget, now):
                self._budget_paused_until[budget] = deadline
            return
        if self._paused_until is None or deadline > self._paused_until:
            self._paused_until = deadline

    def _forget_reset_budgets(self, now: float) -> None:
        """Drop the budgets whose reset has passed, and past _MOST_BUDGETS the soonest to
        reset: an answer's resource name is GitHub's to choose, the memory is ours."""
        for budget, until in list(self._budget_paused_until.items()):
            if until <= now:
                del self._budget_paused_until[budget]
        while len(self._budget_paused_until) >= _MOST_BUDGETS:
            soonest = min(self._budget_paused_until, key=self._budget_paused_until.__getitem__)
            del self._budget_paused_until[soonest]

    def _refuse_while_paused(self, budget: str) -> None:
        """Fail a call at once, unsent, while every call is paused or its own budget is spent:
        GitHub would refuse it, and asking again only prolongs a secondary limit."""
        until = self.paused_until()
        if until is None:
            budget_until = self._budget_paused_until.get(budget)
            if budget_until is not None and self._clock() < budget_until:
                until = budget_until
        if until is not None:
            wait_s = until - self._clock()
            raise GitHubThrottledError(
                f"GitHub rate limit in force for {wait_s:.0f} s more",
                reason="paused",
                retry_after_s=wait_s,
            )

    # --- Credentials ------------------------------------------------------------------------

    def _jwt(self) -> str:
        if self._app is None:
            raise ConfigError("the /app endpoints need GitHub App settings")
        try:
            return self._app.app_jwt()
        except ConfigError as exc:
            log.debug("github.no_token", error=str(exc))
            raise GitHubUnavailableError(str(exc), reason="no_token") from None

    async def _token(self) -> str:
        if self._app is None:
            assert self._static_token is not None  # checked in __init__
            return self._static_token
        token = self._app.cached()
        if token is not None:
            return token
        async with self._token_lock:  # one exchange, however many workers need a token
            token = self._app.cached()
            if token is not None:
                return token
            try:
                answer = await self.call("POST", self._app.exchange_path, app_jwt=True)
                return self._app.remember(answer)
            except (SinkRejectedError, ValueError) as exc:
                # Without a token no call can succeed: the message waits (it is not its fault).
                log.debug("github.no_token", error=str(exc))
                raise GitHubUnavailableError(
                    f"no GitHub App installation token: {exc}{self._no_token_hint(exc)}",
                    reason="no_token",
                ) from None

    def _no_token_hint(self, exc: Exception) -> str:
        """What an operator does about a refused exchange: a 404 is an installation that is
        not there (the App uninstalled, or the wrong id), a 403 one that is suspended, a 401
        a JWT GitHub does not take (another App's id or key, a clock far off)."""
        assert self._app is not None  # only App credentials are exchanged
        status = exc.status if isinstance(exc, SinkRejectedError) else None
        installation = self._app.credentials.installation_id
        if status == 404:
            return (
                f"; GITHUB_APP_INSTALLATION_ID={installation} names no installation of the App: "
                "install it on the account again (or set the installation's id)"
            )
        if status == 403:
            return f"; GITHUB_APP_INSTALLATION_ID={installation}: {_SUSPENDED_HINT}"
        if status == 401:
            return (
                "; GitHub refused the App's JWT: check GITHUB_APP_ID and that the private key "
                "is the App's (one it still lists), and this host's clock"
            )
        return ""


#: Doublings counted at most: the wait is at its bound long before.
_MOST_DOUBLINGS = 16

#: The primary budget nearly every REST call spends: when it is spent, every call is paused.
_CORE = "core"
#: Spent budgets other than `core` remembered at once, at most (GitHub has about a dozen).
_MOST_BUDGETS = 16
#: A budget's name as GitHub writes it in `x-ratelimit-resource` (`code_search`, `graphql`).
_BUDGET_NAME = re.compile(r"[a-z][a-z0-9_]{0,39}")


def budget_of(path: str) -> str:
    """The primary budget a call to `path` spends, by GitHub's name for it: code search and
    the other searches, and GraphQL, have their own; every other call we make spends `core`
    (a budget GitHub names on an answer to one of those, `dependency_snapshots` say, is
    honoured for that call alone: no other call waits on it)."""
    if path == "/search/code" or path.startswith("/search/code/"):
        return "code_search"
    if path.startswith("/search/"):
        return "search"
    if path == "/graphql":
        return "graphql"
    return _CORE


def _spent_budget(response: httpx2.Response, path: str) -> str:
    """The budget a rate-limit answer pauses: a primary budget spent (x-ratelimit-remaining
    0) is the one the answer names (else the call's own), so that only calls spending it
    wait; any other limit (a secondary one, a Retry-After, a 429) is GitHub's for the whole
    integration, and every call waits (`core`)."""
    if response.headers.get("x-ratelimit-remaining") != "0":
        return _CORE
    named = response.headers.get("x-ratelimit-resource", "").strip().lower()
    return named if _BUDGET_NAME.fullmatch(named) else budget_of(path)


#: How GitHub's classic credentials start: a personal access token (classic) and an OAuth
#: App's token; before GitHub's prefixes (and on older Enterprise Servers), 40 hex digits.
#: Only these have scopes: a fine-grained token's or an App's permissions are no header.
_CLASSIC_TOKEN = re.compile(r"(?:ghp_|gho_)[A-Za-z0-9]+|[0-9a-f]{40}")


def is_classic_token(token: str) -> bool:
    """Whether `token` is a classic one, whose scopes GitHub names in `X-OAuth-Scopes`."""
    return _CLASSIC_TOKEN.fullmatch(token) is not None


def _scopes(headers: httpx2.Headers) -> frozenset[str] | None:
    """A classic token's scopes as an answer names them (`X-OAuth-Scopes: repo, read:org`;
    present and empty for a token given none), else None (no such header)."""
    named = headers.get("x-oauth-scopes")
    if named is None:
        return None
    return frozenset(scope.strip() for scope in named.split(",") if scope.strip())


def _kind(method: str) -> str:
    """Which of GitHub's secondary limits a call meets: reads', or writes' (content creation,
    which GitHub limits apart and more tightly)."""
    return "read" if method in ("GET", "HEAD") else "write"


def _static_token(settings: Settings) -> str:
    """GITHUB_TOKEN as it goes in the Authorization header: stripped (a secret file's or a
    variable's trailing newline), and refused at startup if it cannot be a header value."""
    assert settings.github_token is not None  # checked by the caller
    token = settings.github_token.get_secret_value().strip()
    if not token or not usable_in_header(token):
        raise ConfigError(
            "GITHUB_TOKEN is not a usable token (empty, or whitespace, control or non-ASCII "
            "characters inside it)"
        )
    hold(token)  # every redactor in the process hides it from now on
    return token


# --- Answers' shapes ---------------------------------------------------------------------
#
# An answer that is not what GitHub's API promises (an empty body, a proxy's page, a list where
# an object belongs, a field of another type) is GitHub, or something in front of it, being
# unwell, not a bug of ours: GitHubUnavailableError `bad_response`, retried (a created issue is
# found again by its marker and a comment by its own, so nothing is done twice), never a
# TypeError from deep inside the sink.


class AnswerTooLargeError(GitHubUnavailableError):
    """A read (GET) GitHub answered 2xx with more than any answer is read to
    (`aio.MAX_BODY_BYTES`): GitHub would answer the same again, so a caller reading a list asks
    for it in smaller pages (`lookup.py`); for any other it is a `bad_response`."""


def _bad_response(what: str, answer: Any) -> GitHubUnavailableError:
    return GitHubUnavailableError(
        f"GitHub answered without {what} ({type(answer).__name__})", reason="bad_response"
    )


#: An account (user or organisation) as GitHub allows it: at most 39 letters, digits and `-`
#: (and `_`, which Enterprise Managed Users' `name_shortcode` logins hold).
OWNER = r"[A-Za-z0-9][A-Za-z0-9_-]{0,38}"
#: A login as GitHub answers it: an account, or a GitHub App's bot (`<slug>[bot]`).
_LOGIN = re.compile(rf"{OWNER}(?:\[bot\])?")


def is_login(value: Any) -> bool:
    """Whether `value` is a login GitHub could have answered (an account, an App's bot)."""
    return isinstance(value, str) and _LOGIN.fullmatch(value) is not None


def login(value: str) -> str:
    """`value`, our own login (shown by `triage check`), if GitHub could have answered it."""
    if is_login(value):
        return value
    raise GitHubUnavailableError(
        "GitHub answered a login that is no account's name", reason="bad_response"
    )


def text_field(answer: Any, name: str) -> str:
    """`answer[name]`, a non-empty string (a login, a URL)."""
    value = answer.get(name) if isinstance(answer, dict) else None
    if isinstance(value, str) and value:
        return value
    raise _bad_response(f"{name!r} as text", answer if value is None else value)


def number_field(answer: Any, name: str, *, most: int = 2**63 - 1) -> int:
    """`answer[name]`, a positive integer of at most `most` (an issue's number, a comment's
    id)."""
    value = answer.get(name) if isinstance(answer, dict) else None
    if isinstance(value, int) and not isinstance(value, bool) and 0 < value <= most:
        return value
    raise _bad_response(f"{name!r} as a number", answer if value is None else value)


def count_field(answer: dict[str, Any], name: str) -> int:
    """`answer[name]`, a count: 0 when absent or null, else a non-negative integer."""
    value = answer.get(name)
    if value is None:
        return 0
    if isinstance(value, int) and not isinstance(value, bool) and value >= 0:
        return value
    raise _bad_response(f"{name!r} as a count", value)


def record(answer: Any, what: str) -> dict[str, Any]:
    """A JSON object (an issue, a comment)."""
    if isinstance(answer, dict):
        return answer
    raise _bad_response(what, answer)


def records(answer: Any, what: str) -> list[dict[str, Any]]:
    """A JSON list of objects (a page of issues or comments)."""
    if isinstance(answer, list) and all(isinstance(item, dict) for item in answer):
        return answer
    raise _bad_response(what, answer)


def label_names(issue: dict[str, Any]) -> set[str]:
    """The names of an issue's labels (GitHub lists them as objects; odd entries are none)."""
    labels = issue.get("labels")
    return {
        label["name"]
        for label in (labels if isinstance(labels, list) else [])
        if isinstance(label, dict) and isinstance(label.get("name"), str)
    }


def label_named(issue: dict[str, Any], name: str) -> str | None:
    """The issue's label that is `name` as GitHub matches labels, whatever their case (a
    repository has one label of a name, in the case a person first made it: our `flapping`
    added where `Flapping` exists is `Flapping`), as the issue shows it; else None."""
    wanted = name.lower()
    return next((shown for shown in sorted(label_names(issue)) if shown.lower() == wanted), None)


def text_or_empty(value: Any) -> str:
    """A field read as text where absent (or of another type) means empty: an issue's body."""
    return value if isinstance(value, str) else ""


def app_jwt_path(path: str) -> bool:
    """The /app endpoints, which take the App's JWT instead of a token."""
    return path == "/app" or path.startswith("/app/")


#: GitHub's `X-GitHub-Request-Id`: hex fields joined by `:` (`CE3E:1D6A:4A1E7A0:4B3A8E8:…`).
_REQUEST_ID = re.compile(r"[0-9A-Fa-f]{1,16}(?::[0-9A-Fa-f]{1,16}){2,7}")
#: A validation error's `resource`, `field` and `code` as GitHub writes them.
_ERROR_WORD = re.compile(r"[A-Za-z][A-Za-z0-9_.-]{0,39}")


def _reason(response: httpx2.Response, token: str) -> str:
    """What of GitHub's error answer is told, in logs and the error: its `message` and, for
    each validation error, its field and code and GitHub's own sentence, never the `value` it
    quotes back (our title, a label, an assignee) nor any other part of the body; for an
    answer without a message (a proxy's HTML page) its size and type. One visible, redacted
    line (`said`), then the request id when it has GitHub's form, which no cut loses."""
    found = request_id(response.headers.get("x-github-request-id"), _REQUEST_ID)
    suffix = f" (request {found})" if found and scrub(found, token) == found else ""
    return said(scrub(_message(response), token), _REASON_CHARS - len(suffix)) + suffix


def _message(response: httpx2.Response) -> str:
    unread = response.extensions.get(_UNREAD)
    if unread is not None:
        return f"no error message (answer unread: {unread})"
    answer = json_answer(response)
    if not isinstance(answer, dict) or not isinstance(answer.get("message"), str):
        return f"no error message ({unread_answer(response)})"
    errors = answer.get("errors")
    told = [_said_error(error) for error in (errors if isinstance(errors, list) else [])]
    shown = "; ".join(error for error in told if error)
    return f"{answer['message']} ({shown})" if shown else answer["message"]


def _said_error(error: Any) -> str:
    """One validation error as told: `field code: message` (its words that fit `_ERROR_WORD`,
    and GitHub's sentence), or the error itself when GitHub wrote it as a sentence."""
    if isinstance(error, str):
        return error
    if not isinstance(error, dict):
        return ""
    words = [
        value
        for key in ("resource", "field", "code")
        if isinstance(value := error.get(key), str) and _ERROR_WORD.fullmatch(value)
    ]
    message = error.get("message")
    if isinstance(message, str) and message:
        return f"{' '.join(words)}: {message}" if words else message
    return " ".join(words)
