"""The status page at `/`: one server-rendered HTML page, no script, readable on a phone.

It shows open incidents by priority, the flapping ones, the silences (each with the open
incidents it matches now), each sink's breaker (and GitHub's issue-creation budget), the LLM's
health, and the queue's and DLQ's depth. Every text
goes through one function, `_text`, after `ops/operator.py` redacted it again: only visible
characters (`display.visible`: no bidi control, invisible or control character, a lone
surrogate as U+FFFD), then HTML-escaped, quotes included. Each text from an alert, a ticket or
a silence stands in a `<span dir=auto>` (`_isolated`: an element with its own direction is
isolated, as a `<bdi>` is), so right-to-left words cannot reorder the flags and facts beside
it. Its only links are to each incident's own page (`/incidents/{fingerprint}`: its tickets,
labels and history) and to a ticket whose reference is an http(s) address (`display.opened_url`:
to the URL it opens, without user info, labelled with its host, `rel=noreferrer`); it has no
script or image. Its
Content-Security-Policy allows no script at all and only this page's own style (in which every
text may wrap anywhere, so one long word from an alert never widens a page past a phone's
screen), and every answer of the port says `Cache-Control: no-store` and `nosniff` (`ops/http_server.py`).

Without credentials the page is a login form (see `ops/api.py` for the session and CSRF rules,
and `ops/operator_sessions.py` for how its Log out button ends a session on every replica)
that returns to the page asked for: `/` with its filter (only the page's own parameters,
encoded again), or the incident's page a Slack link named (`_return_path`: never another site
or path).
"""

from __future__ import annotations

import base64
import dataclasses
import hashlib
import hmac
import re
import time
from datetime import UTC, datetime, timedelta
from functools import partial
from html import escape
from typing import Any
from urllib.parse import parse_qs, parse_qsl, quote

import structlog

from triage.breaker import CircuitBreaker
from triage.display import link_label, opened_url, visible, written
from triage.errors import ConfigError, StoreCorruptError, TriageError
from triage.incidents import Incident
from triage.incidents.silences import Silence
from triage.models import Priority
from triage.ops.api import (
    CSRF_COOKIE,
    SESSION_COOKIE,
    SESSION_S,
    UNREADABLE_ANSWER,
    Auth,
    OperatorView,
    SessionVerdict,
    cookie,
    cookie_values,
    cookies,
    every_value,
    flag_parameter,
    new_csrf,
    path_segment,
    query_parameters,
    same_origin,
)
from triage.ops.http_server import DEFAULT_LIMITS, RefusalLog, Request, Response
from triage.ops.operator import (
    Filter,
    FilterRefused,
    checked_within_budget,
    find_incident,
    incident_json,
    list_incidents,
    open_subjects,
    parse_filter,
    shown_silences,
    silence_json,
)
from triage.ops.operator_sessions import EXPIRED, GARBLED, INVALID, LOGGED_OUT, most_telling
from triage.ops.operator_text import members_said, occurrences_said, optional_facts, relative
from triage.routes import Router, load_router
from triage.sinks.github.digest import create_budgets, issue_repositories
from triage.sqs.depth import DepthPoller
from triage.view import spelled_look_alikes

log = structlog.get_logger(__name__)

_STYLE = """
body{font:15px/1.4 system-ui,sans-serif;margin:0;padding:12px;color:#111;background:#f6f6f6;
overflow-wrap:anywhere}
h1{font-size:20px;margin:0 0 8px}h2{font-size:16px;margin:18px 0 6px}
section{background:#fff;border-radius:6px;padding:8px 10px;margin-bottom:10px}
table{border-collapse:collapse;width:100%}td,th{text-align:left;padding:4px 6px;
vertical-align:top;border-bottom:1px solid #eee}
.wrap{overflow-x:auto}.muted{color:#666}.bad{color:#a00;font-weight:600}.ok{color:#070}
.tag{display:inline-block;font-size:12px;border-radius:3px;padding:0 4px;background:#eee}
ul{list-style:none;margin:0;padding:0}li{padding:6px;margin:4px 0;border-radius:4px;
background:#fafafa}
.critical{background:#fdd}.high{background:#fed}form{max-width:320px}
input{font:inherit;width:100%;margin:4px 0 8px;padding:6px;box-sizing:border-box}
.out{float:right;margin-left:8px}.out input{width:auto;margin:0;padding:2px 8px}
input[type=checkbox]{width:auto;margin:4px 6px 8px 0}
"""
_STYLE_HASH = base64.b64encode(hashlib.sha256(_STYLE.encode()).digest()).decode()
_HEADERS = (
    (
        "Content-Security-Policy",
        f"default-src 'none'; style-src 'sha256-{_STYLE_HASH}'; form-action 'self'; "
        "frame-ancestors 'none'; base-uri 'none'",
    ),
    ("X-Frame-Options", "DENY"),
    # Not no-referrer: with it a browser posts the login form with `Origin: null`, which is
    # what a sandboxed cross-site frame sends too; same-origin keeps the real origin for us.
    ("Referrer-Policy", "same-origin"),
)
_PRIORITIES = (*(p.value for p in Priority), "unknown")
_WRONG_TOKEN = "Wrong token."
#: The form's note for an address limited for its wrong tokens (`auth_limit`).
_LIMITED = (
    "Too many wrong tokens from your address: none is compared for a few seconds; try again then."
)
_FORM_EXPIRED = "The form expired or came from elsewhere: log in again."
_SESSION_ENDED = "Your session ended (after 12 hours, or the token changed): log in again."
#: What the login form says of a session cookie the page refused, by why.
_SESSION_NOTES = {
    LOGGED_OUT: "This session was logged out (in this browser, or in another holding a copy of "
    "its cookie): log in again.",
    EXPIRED: _SESSION_ENDED,
    INVALID: _SESSION_ENDED,
    GARBLED: "Your session cookie could not be read (an older release's, or changed): log in "
    "again.",
}
#: What a logout that ended no session says, by why: the browser is logged out all the same.
_LOGOUT_NOTES = {
    LOGGED_OUT: "This session had been logged out already.",
    EXPIRED: "This session had ended already (after 12 hours, or the token changed).",
    INVALID: "This session had ended already (after 12 hours, or the token changed).",
    GARBLED: "Your session cookie could not be read: there was no session to log out of.",
}
_LOGOUT_FAILED = (
    "Not logged out: the store is unavailable, so this session could not be ended for every "
    "copy of its cookie. Try again in a moment."
)
#: Rows per table: the page stays small in a storm; the API lists everything.
_ROWS = 50


class StatusPage:
    def __init__(
        self, view: OperatorView, auth: Auth, bearer_refusals: RefusalLog | None = None
    ) -> None:
        self.view = view
        self.auth = auth
        #: Where a wrong bearer header sent to a page counts, as at the API (`api.refused`).
        self.bearer_refusals = bearer_refusals
        #: Anyone who reaches the port may post the login form: refused logins are logged
        #: within the same bounds as the server's refusals (`status_page.login_refused`), as
        #: are refused session cookies and logouts that ended no session.
        self.refusals = _refusal_log(view, "status_page.login_refused")
        self.session_refusals = _refusal_log(view, "status_page.session_refused")
        self.logout_refusals = _refusal_log(view, "status_page.logout_refused")
        #: The repositories whose issue budgets the page shows (`_repositories`).
        self._issue_repositories: list[str] | None = None

    async def index(self, request: Request) -> Response:
        # The login returns here, filtered as it was (`_return_path` keeps the filter).
        back = (_return_path(f"/?{request.query}") if request.query else None) or "/"
        if self.auth.bearer_given(request) and (limited := self._limited(request, back)):
            return limited
        refused = await self._refused(request)
        if refused is not None:
            return self._login_form(request, note=refused, back=back)
        try:
            keep, typed = _page_filter(request, self.view.clock())
        except ValueError as exc:
            return _refused_filter(self._said(exc), _typed(request))
        try:
            body = await self._render(keep, typed, _logout_button(request))
        except FilterRefused as exc:  # parsed, but the store's incidents show it misleads
            return _refused_filter(self._said(exc), typed)
        except TriageError as exc:
            log.warning("status_page.unavailable", reason=exc.reason, error=str(exc))
            return _html(503, await self._render_without_store(_logout_button(request)))
        return _html(200, body)

    async def incident(self, request: Request) -> Response:
        """`/incidents/{fingerprint}` (or an unambiguous prefix, as `incidents show` takes):
        one incident, its tickets and its history; 404 saying why none is shown."""
        # The login returns here: a link from Slack lands on its incident, not on `/`.
        back = _return_path(request.path) or "/"
        if self.auth.bearer_given(request) and (limited := self._limited(request, back)):
            return limited
        refused = await self._refused(request)
        if refused is not None:
            return self._login_form(request, note=refused, back=back)
        try:
            given = path_segment(request, "incident")
        except ValueError as exc:
            said = _text(self._said(exc))
            return _html(400, _page("triage: incident", f"<p class=bad>{said}</p>"))
        if not 0 < len(given) <= _FINGERPRINT_CHARS:
            return _not_found("no such incident")
        try:
            found = await find_incident(self.view.store, given, self.view.scan)
        except LookupError as exc:
            return _not_found(self._said(exc))
        except StoreCorruptError as exc:  # no outage: reloading reads the same record
            log.warning("status_page.unreadable_record", reason=exc.reason, error=str(exc))
            return _html(500, _page("triage", f"<p class=bad>{_text(UNREADABLE_ANSWER)}.</p>"))
        except TriageError as exc:
            log.warning("status_page.unavailable", reason=exc.reason, error=str(exc))
            return _html(503, _page("triage", "<p class=bad>The store is unavailable.</p>"))
        shown = incident_json(found, self.view.redactor, history=True)
        page = _logout_button(request) + _incident_page(shown, self.view.clock())
        return _html(200, _page("triage: incident", page))

    def _said(self, exc: Exception) -> str:
        """Why a filter or a path was refused, redacted as the API's answer is (`api._refused`):
        it names what was typed or pasted, which may be a credential put in the wrong field."""
        return self.view.redactor.text(str(exc))

    async def login(self, request: Request) -> Response:
        if not same_origin(request):
            self.refusals.refused("cross_site", request.peer, 403)
            return _html(403, _page("triage", "<p class=bad>Cross-site login refused.</p>"))
        form = parse_qs(request.body.decode("utf-8", "replace"))
        given_csrf = (form.get("csrf") or [""])[0]
        # Any of the form's cookies (one a sibling host set may come first), as sessions.
        expected = [v for v in cookie_values(request, CSRF_COOKIE) if v]
        # Whitespace around it is from the paste (a terminal's line, a password manager's
        # note): a token has none, as it must fit in a header (settings.HEADER_CREDENTIALS).
        token = (form.get("token") or [""])[0].strip()
        given_back = (form.get("next") or ["/"])[0]
        back = _return_path(given_back) or "/"
        if limited := self._limited(request, back):
            return limited
        if not any(_equal(given_csrf, value) for value in expected):
            # Most often a form left open past its CSRF cookie's hour: the token typed may be
            # right, and "wrong token" would send the operator to rotate a good one.
            self.refusals.refused("csrf", request.peer, 401)
            return self._login_form(request, status=401, note=_FORM_EXPIRED, back=back)
        if not self.auth.token_matches(token, request):
            self.auth.guessed_wrong(request)
            self.refusals.refused("wrong_token", request.peer, 401)
            return self._login_form(request, status=401, note=_WRONG_TOKEN, back=back)
        value, session = self.auth.new_session()
        log.info("status_page.login", peer=request.peer, session=session.tag)
        if back != given_back:
            # A form this page made never carries another page: edited, or posted from
            # elsewhere. Logged once logged in (refused logins are logged within bounds), with
            # its length only: the text is whoever posted the form's, and may mislead.
            log.warning("status_page.return_path_refused", peer=request.peer, chars=len(given_back))
        # Lax: a link from Slack or a wiki opens the page logged in (the cookie only reads).
        set_session = cookie(SESSION_COOKIE, value, request, max_age_s=SESSION_S, same_site="Lax")
        return Response(
            303,
            b"",
            headers=(("Location", back), ("Set-Cookie", set_session), *_HEADERS),
        )

    def _limited(self, request: Request, back: str) -> Response | None:
        """The login form, 429 with Retry-After and counted in HttpRefused{reason=limited}, for
        a request whose token would be compared from an address limited for its wrong ones
        (`OperatorApi.limited`); None when it may be compared."""
        wait_s = self.auth.limited_s(request)
        if wait_s is None:
            return None
        self.view.metrics.incr("HttpRefused", reason="limited")
        form = self._login_form(request, status=429, note=_LIMITED, back=back)
        return _with_header(form, ("Retry-After", str(wait_s)))

    async def _refused(self, request: Request) -> str | None:
        """None when a bearer token or a session may read the page; else what the login form
        says (empty without a session cookie). A refused session cookie is logged within
        bounds with why (`status_page.session_refused`: a copy of a logged-out session's
        cookie in use is named by its session's tag). A wrong bearer header gets the login
        form, as a browser with no session does, but is a guess at the token: counted and
        logged as the API's are, so guessing through the page is seen too."""
        if self.auth.bearer(request):
            return None
        verdict = await self.auth.session_verdict(request)
        if verdict.accepted is not None:
            return None
        if self.bearer_refusals is not None and self.auth.bearer_given(request):
            self.auth.guessed_wrong(request)
            self.bearer_refusals.refused("wrong_token", request.peer, 200)
        if verdict.refused is None:
            return ""
        self._session_refused(self.session_refusals, verdict, request, 200)
        # Said, or the operator who was reading the page a moment ago would wonder why.
        return _SESSION_NOTES[verdict.refused]

    async def logout(self, request: Request) -> Response:
        """The page's "Log out" button: the session is ended for every replica (a copy of
        its cookie stops working too), the browser's cookie dropped, and the browser sent to
        the login form. From another site it is refused (a page elsewhere could otherwise log
        the operator out at will). A logout that ends no session (one that ended already, a cookie
        that does not read) answers the login form saying so, as a 401; one without a session
        cookie is sent to the login form. One the store cannot record is a 503 that keeps the
        cookie, so the operator can try again. Each is one log line."""
        if not same_origin(request):
            self.refusals.refused("cross_site", request.peer, 403)
            return _html(403, _page("triage", "<p class=bad>Cross-site logout refused.</p>"))
        sessions, refused = self.auth.presented(request)
        try:
            ended = [session for session in sessions if await self.auth.end_session(session)]
        except TriageError as exc:
            log.warning("status_page.logout_failed", peer=request.peer, reason=exc.reason)
            page = f"<p class=bad>{_text(_LOGOUT_FAILED)}</p>{_logout_button(request)}"
            return _html(503, _page("triage", page), (("Retry-After", "1"),))
        dropped = cookie(SESSION_COOKIE, "", request, max_age_s=0, same_site="Lax")
        to_login = Response(
            303, b"", headers=(("Location", "/"), ("Set-Cookie", dropped), *_HEADERS)
        )
        for session in ended:
            log.info("status_page.logout", peer=request.peer, session=session.tag)
        if ended:
            return to_login
        if not sessions and not refused:
            # No session cookie at all: logged out already (a second click, a cookie the
            # browser keeps for HTTPS only); the login form is the whole answer.
            self.logout_refusals.refused("no_session", request.peer, 303)
            return to_login
        if sessions:  # each one ended by an earlier logout: this one is a replay
            verdict = SessionVerdict(None, LOGGED_OUT, sessions[0])
        else:
            verdict = SessionVerdict(None, most_telling(refused))
        self._session_refused(self.logout_refusals, verdict, request, 401)
        assert verdict.refused is not None
        form = self._login_form(request, status=401, note=_LOGOUT_NOTES[verdict.refused])
        return _with_header(form, ("Set-Cookie", dropped))

    @staticmethod
    def _session_refused(
        refusals: RefusalLog, verdict: SessionVerdict, request: Request, status: int
    ) -> None:
        assert verdict.refused is not None
        named = verdict.named.tag if verdict.named is not None else None
        refusals.refused(verdict.refused, request.peer, status, session=named)

    def _login_form(
        self, request: Request, *, status: int = 200, note: str = "", back: str = "/"
    ) -> Response:
        """The login form; `back` (a `_return_path`) is the page it returns to once logged in."""
        csrf = new_csrf()
        shown = f"<p class=bad>{_text(note)}</p>" if note else ""
        form = (
            f"{shown}<form method=post action=/login>"
            f"<input type=hidden name=csrf value={_attr(csrf)}>"
            f"<input type=hidden name=next value={_attr(back)}>"
            "<label>API token<input type=password name=token autocomplete=current-password "
            "required></label><input type=submit value='Log in'></form>"
        )
        set_csrf = cookie(CSRF_COOKIE, csrf, request, max_age_s=3600)
        return _html(status, _page("triage: log in", form), (("Set-Cookie", set_csrf),))

    async def _render(
        self, keep: Filter | None = None, typed: Typed | None = None, logout: str = ""
    ) -> str:
        """The page, its open incidents those `keep` keeps (all without one): `typed` is what
        was typed into the filter form; `logout` the button of a logged-in browser, if any."""
        view = self.view
        now = view.clock()
        typed = typed or {}
        everything = await list_incidents(view.store, Filter("open"), view.scan)
        # As the API and the command line list them, refusals (`FilterRefused`) included.
        shown = everything if keep is None else await list_incidents(view.store, keep, view.scan)
        counted = f"{len(shown)} of {len(everything)}" if typed else f"{len(everything)}"
        silences = shown_silences(await view.silences.current(), now, every=False)
        # Each silence against each open incident: seconds in a storm, off the event loop.
        table = partial(self._silences, silences, now, everything)
        parts = [
            f"<p class=muted>{counted} open incidents · "
            f"{_text(now.isoformat(timespec='seconds'))}</p>"
            f"{_unreadable_note(view.store.unreadable_listed)}{logout}",
            _filter_form(typed, bool(typed)),
            _section("Open incidents", self._incidents(shown, now)),
            _section("Flapping", self._incidents([i for i in shown if i.flapping], now)),
            # Of the same scan: closed ones too, as a close by hand a sink fails is in no
            # open list while its ticket stays open.
            _section("Failing effects", self._failing(await view.scan.incidents(view.store), now)),
            _section(
                "Silences",
                _unread_silences_note(view.store.unreadable_silences)
                + await view.off_loop.run(table),
            ),
            _section("Sinks", await self._sinks()),
            _section("LLM", self._llm()),
            _section("Queue", await self._queues()),
        ]
        return _page("triage status", "".join(parts))

    async def _render_without_store(self, logout: str) -> str:
        """The page while the store cannot be read: it says so, and shows what the daemon
        knows without the store (each sink's breaker, the LLM's, the queue's and the DLQ's
        depth), which an operator in that outage needs most. A sink's issue budgets are kept
        in the store and are left out."""
        said = (
            "<p class=bad>The store is unavailable: open incidents and silences cannot be "
            "read now. Reload in a moment.</p>"
        )
        parts = [
            said + logout,
            _section("Sinks", await self._sinks(budgets=False)),
            _section("LLM", self._llm()),
            _section("Queue", await self._queues()),
        ]
        return _page("triage status", "".join(parts))

    def _incidents(self, incidents: list[Incident], now: datetime) -> str:
        if not incidents:
            return "<p class=muted>None.</p>"
        by_priority: dict[str, list[Incident]] = {p: [] for p in _PRIORITIES}
        for incident in incidents:
            key = incident.ticket.priority.value if incident.ticket else "unknown"
            by_priority[key].append(incident)
        out = []
        for priority, rows in by_priority.items():
            if not rows:
                continue
            out.append(f"<h3 class=muted>{_text(priority)} ({len(rows)})</h3><ul>")
            out.extend(self._row(incident, priority, now) for incident in rows[:_ROWS])
            out.append("</ul>")
            if len(rows) > _ROWS:
                out.append(f"<p class=muted>… and {len(rows) - _ROWS} more (see the API)</p>")
        return "".join(out)

    def _failing(self, incidents: list[Incident], now: datetime) -> str:
        """The incidents, open or closed, whose effect a sink has failed and the sweep tries
        again (`Pending.attempts`): a close by hand or a silence's held effect is carried by
        no message, so neither the queue nor the DLQ shows it waiting, and a closed incident
        is in no open list while its ticket stays open. The most failed first."""
        failing = sorted(
            (i for i in incidents if i.pending is not None and i.pending.attempts),
            key=lambda i: (-(i.pending.attempts if i.pending else 0), i.fingerprint),
        )
        if not failing:
            return "<p class=muted>None.</p>"
        items = [self._failing_row(incident, now) for incident in failing[:_ROWS]]
        more = len(failing) - _ROWS
        tail = f"<p class=muted>… and {more} more (see the API)</p>" if more > 0 else ""
        return f"<ul>{''.join(items)}</ul>{tail}"

    def _failing_row(self, incident: Incident, now: datetime) -> str:
        """`close failed 2 times, next try in 1 min`, under the incident's title and state."""
        pending = incident.pending
        assert pending is not None
        times = "time" if pending.attempts == 1 else "times"
        said = f"{pending.kind.value} failed {pending.attempts} {times}"
        if pending.retry_at is not None and pending.retry_at > now:
            said += f", next try in {_age(pending.retry_at - now)}"
        elif pending.retry_at is not None:
            said += ", tried again at the next sweep"
        shown = incident_json(incident, self.view.redactor)
        return (
            f"<li><b>{_isolated(shown['title'])}</b> <span class=tag>{_text(shown['state'])}</span>"
            f"<div class=bad>{_text(said)}</div>"
            f"<div class=muted>{_incident_link(incident.fingerprint)}</div></li>"
        )

    def _row(self, incident: Incident, priority: str, now: datetime) -> str:
        """One incident as a list item: its title, flags, and one line of facts, its team and
        source (alert text) each in a tag of its own, as its tickets are: a team holding
        ` · open 0 min · 1 alert` cannot read as the facts joined to it by ` · `."""
        shown = incident_json(incident, self.view.redactor)
        flags = [
            flag
            for flag, on in (
                ("flapping", incident.flapping),
                # Listed open while its alert has resolved: not an alert still firing.
                ("close held", incident.close_held_until is not None),
                ("silenced", incident.held is not None),
                ("escalated", shown["escalated_at"] is not None),
            )
            if on
        ]
        tickets = _tickets(shown)
        facts = [
            _items([_named(shown["team"])]) if shown["team"] else "no team",
            _items([_named(shown["source"])]),
            f"open {_age(now - (incident.reopened_at or incident.opened_at))}",
            *_counts(shown),
            tickets or "no ticket",
        ]
        tags = "".join(f" <span class=tag>{_text(f)}</span>" for f in flags)
        return (
            f"<li class={_attr(priority)}><b>{_isolated(shown['title'])}</b>{tags}"
            f"<div>{' · '.join(facts)}</div>"
            f"<div class=muted>{_incident_link(incident.fingerprint)}</div></li>"
        )

    def _silences(self, silences: list[Silence], now: datetime, opened: list[Incident]) -> str:
        """The silences in effect or coming, each with how many open incidents it matches."""
        if not silences:
            return "<p class=muted>None.</p>"
        # Within a view's budget: fewer open incidents each as more silences are shown.
        subjects = open_subjects(opened, checked_within_budget(len(silences[:_ROWS])))
        # Matched against at most the first `open_subjects` takes (most urgent first): past
        # them, a count read bare would say "matches exactly this many", as the API's
        # `checked` says it does not.
        checked = f" of the first {len(subjects)} checked ({len(opened)} open)"
        partly = checked if len(subjects) < len(opened) else ""
        headings = ["Matchers", "Ends in", "Open incidents matched", "Comment", "By", "ID"]
        rows = [_table(headings)]
        for silence in silences[:_ROWS]:
            shown = silence_json(silence, self.view.redactor, now)
            state = _age(silence.ends() - now) if shown["active"] else "not started"
            matched = sum(1 for _, subject in subjects if silence.matches(subject))
            rows.append(
                "<tr>"
                + f"<td>{_items(shown['matchers'])}</td>"
                + _td(state)
                + _td(f"{matched}{partly}")
                + _td_isolated(shown["comment"])
                + _td_isolated(shown["author"])
                + _td(shown["id"])
                + "</tr>"
            )
        rows.append("</table></div>")
        if len(silences) > _ROWS:  # one left out may be the one quieting an operator's alert
            rows.append(
                f"<p class=muted>… and {len(silences) - _ROWS} more silences (see the API)</p>"
            )
        return "".join(rows)

    async def _sinks(self, *, budgets: bool = True) -> str:
        """Each sink's breaker, and GitHub's issue budgets (read from the store) when
        `budgets`."""
        view = self.view
        if not view.sinks:
            return "<p class=muted>No sinks.</p>"
        rows = [_table(["Sink", "Breaker", "Budget"])]
        for guard in view.sinks:
            breaker = _breaker(guard.breaker)
            budget = ""
            if guard.name == "github":
                budget = await self._github_budgets() if budgets else "unknown: store unavailable"
            rows.append(f"<tr>{_td(guard.name)}<td>{breaker}</td>{_td(budget)}</tr>")
        return "".join(rows) + "</table></div>"

    async def _github_budgets(self) -> str:
        """The issue-creation budgets of every repository issues go to (`issue_repositories`):
        a route's own repository spends its own, and in a storm there the page must show that
        one spent, not only GITHUB_REPOSITORY's, untouched."""
        settings = self.view.settings
        now_s = time.time()
        lines = []
        for repository in self._repositories():
            shown = []
            for budget in create_budgets(settings, repository):
                tokens = await self.view.store.budget_tokens(budget, now_s)
                period = budget.name.rpartition(":")[2]
                shown.append(f"{int(tokens)}/{budget.capacity} per {period}")
            lines.append(f"{repository}: issues " + ", ".join(shown))
        return "; ".join(lines)

    def _repositories(self) -> list[str]:
        """The repositories issues go to, read from the routes file once (the daemon reads it
        once too, at start)."""
        if self._issue_repositories is None:
            try:
                router: Router | None = load_router(self.view.settings)
            except ConfigError:  # the daemon started with it; a file changed since is unread
                router = None
            self._issue_repositories = issue_repositories(self.view.settings, router)
        return self._issue_repositories

    def _llm(self) -> str:
        breaker = _llm_breaker(self.view.summariser)
        failures = int(self.view.metrics.counter("SummarizationFailures"))
        if breaker is None:
            return "<p>No LLM configured: the deterministic summariser writes every ticket.</p>"
        return f"<p>Breaker: {_breaker(breaker)} · fallbacks since start: {failures}</p>"

    async def _queues(self) -> str:
        # The daemon's own poller (sqs/depth.py, every TRIAGE_QUEUE_DEPTH_POLL_S): reloading
        # the page costs SQS nothing; only pages shown before the first poll ends ask, once.
        poller = self.view.depth
        if poller is None:
            return "<p>The queue's depth is not polled (TRIAGE_QUEUE_DEPTH_POLL_S=0).</p>"
        depths = await poller.read()
        if depths is None:
            return f"<p class=bad>The queue could not be read{_unread_since(poller)}.</p>"
        queue = depths.queue
        rows = [_table(["Queue", "Waiting", "In flight", "Delayed"])]
        rows.append(
            f"<tr>{_td('queue')}{_td(str(queue.visible))}{_td(str(queue.in_flight))}"
            f"{_td(str(queue.delayed))}</tr>"
        )
        if depths.dlq_visible is not None:
            css = " class=bad" if depths.dlq_visible else ""
            rows.append(
                f"<tr>{_td('DLQ')}<td{css}>{depths.dlq_visible}</td>{_td('-')}{_td('-')}</tr>"
            )
        elif depths.dlq_error is not None:
            # Not left out as a queue without a DLQ is: dead letters may be piling up there.
            said = self.view.redactor.text(f"could not be read: {depths.dlq_error}")
            rows.append(f"<tr>{_td('DLQ')}<td class=bad colspan=3>{_text(said)}</td></tr>")
        polled = depths.polled_at.strftime("%H:%M:%S UTC")
        return "".join(rows) + f"</table></div><p>Polled at {polled}.</p>"


def _unread_since(poller: DepthPoller) -> str:
    """Since when the queue's depth is unknown: when a poll last worked (never, since the
    daemon started), and how many have failed since."""
    failed = f"{poller.failed_polls} poll(s) failed"
    if poller.last_poll_at is not None:
        failed += f", the last at {_clock(poller.last_poll_at)}"
    if poller.last_read_at is None:
        return f": never since the daemon started ({failed})"
    return f" (last read at {_clock(poller.last_read_at)}; since then {failed})"


def _clock(when: datetime) -> str:
    return when.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S UTC")


def _refusal_log(view: OperatorView, event: str) -> RefusalLog:
    """Refusals logged as `event`, within the same bounds as the server's own."""
    limits = DEFAULT_LIMITS
    return RefusalLog(view.metrics, limits.log_burst, limits.log_window_s, event=event)


def _with_header(response: Response, header: tuple[str, str]) -> Response:
    return dataclasses.replace(response, headers=(*response.headers, header))


def _logout_button(request: Request) -> str:
    """A "Log out" button for a browser that rides a session cookie (a bearer token's
    client has no session to end)."""
    if SESSION_COOKIE not in cookies(request):
        return ""
    return "<form class=out method=post action=/logout><input type=submit value='Log out'></form>"


#: The filters the page's form has, each as `triage incidents list` takes it (open incidents
#: only), with what its field says before anything is typed in it.
_PAGE_FILTERS = {
    "search": "words of the title",
    "team": "team",
    "source": "source (cloudwatch, sentry, …)",
    "priority": "critical,high or P0..P3",
    "match": "label matcher: env=prod, alertname=~Disk.*",
}


#: The page's yes/no filter, a box in its form: only the flapping incidents (`?flapping=1`,
#: as the API's listing takes it), for the operator who asks "what keeps paging?".
_FLAPPING = "flapping"
#: Every query parameter the page takes.
_PAGE_PARAMETERS = (*_PAGE_FILTERS, _FLAPPING)
#: The page's filters an operator may give more than once (each must hold).
_REPEATABLE = ("match",)
#: What was typed into the form: each filter's values, in the order given (only a
#: `_REPEATABLE` one has more than one).
Typed = dict[str, list[str]]


def _page_filter(request: Request, now: datetime) -> tuple[Filter, Typed]:
    """The page's filter and the values typed for it. A form sends its empty fields too
    (`search=&team=`): empty is not given, here; its unticked box (`flapping`) sends nothing.
    ValueError for a parameter the page does not take or a value that names nothing, as the
    API's listing answers them (`flapping` takes what the API's does)."""
    given = query_parameters(request, _PAGE_PARAMETERS, repeatable=_REPEATABLE)
    flapping = flag_parameter(request, given, _FLAPPING)
    typed = {
        name: value for name, value in given.items() if name in _PAGE_FILTERS and value.strip()
    }
    matchers = [m for m in every_value(request, "match") if m.strip()]
    keep = parse_filter(
        now=now,
        team=typed.get("team"),
        flapping=flapping,
        source=typed.get("source"),
        priority=typed.get("priority"),
        search=typed.get("search"),
        match=matchers,
    )
    shown: Typed = {name: [value] for name, value in typed.items() if name not in _REPEATABLE}
    if matchers:
        shown["match"] = matchers
    if flapping:
        shown[_FLAPPING] = ["1"]
    return keep, shown


def _refused_filter(why: str, typed: Typed) -> Response:
    """The 400 page for a filter that names nothing or can only mislead: why, and the form
    holding what was typed, to correct it."""
    form = f"<p class=bad>{_text(why)}</p>{_filter_form(typed, True)}"
    return _html(400, _page("triage status", form))


def _typed(request: Request) -> Typed:
    """What was typed into the form, read leniently (for the form of a refused filter): the
    last value of a filter given twice, every value of a `_REPEATABLE` one."""
    typed: Typed = {}
    for name, value in parse_qsl(request.query, keep_blank_values=True, errors="replace"):
        if name in _PAGE_FILTERS and value.strip():
            kept = typed.get(name, []) if name in _REPEATABLE else []
            typed[name] = [*kept, value]
        elif name == _FLAPPING:  # ticked, or typed in the URL: the box stays as it was sent
            typed[name] = [value]
    return typed


def _filter_form(typed: Typed, opened: bool) -> str:
    """The filter form (GET /), folded away until a filter is in use. A filter given more
    than once (`match`) has a field for each value and one more, empty, for the next: the
    form submitted again filters as the page it is on does, and can add a matcher."""
    fields = "".join(
        f"<label>{_text(name)}{''.join(_inputs(name, typed.get(name, []), hint))}</label>"
        for name, hint in _PAGE_FILTERS.items()
    )
    ticked = " checked" if _FLAPPING in typed else ""
    box = f"<label><input type=checkbox name={_FLAPPING} value=1{ticked}>flapping only</label>"
    clear = " <a href=/>clear</a>" if typed else ""
    return (
        f"<details{' open' if opened else ''}><summary>Filter</summary>"
        f"<form method=get action=/>{fields}{box}<input type=submit value=Filter>{clear}</form>"
        "</details>"
    )


def _inputs(name: str, values: list[str], hint: str) -> list[str]:
    """The form's fields for filter `name` holding `values`: one (empty when none was typed),
    or for a `_REPEATABLE` filter one per value and an empty one (an empty field has no
    value, only its hint)."""
    shown = [*values, ""] if name in _REPEATABLE else values[-1:] or [""]
    return [
        f"<input name={name}{f' value={_attr(value)}' if value else ''} placeholder={_attr(hint)}>"
        for value in shown
    ]


#: The longest fingerprint (or prefix) an incident's page is asked for, as the API takes.
_FINGERPRINT_CHARS = 64


def _unreadable_note(unreadable: int) -> str:
    """The line saying how many stored incidents could not be read ("" when none): they are
    in no list or count of the page, and an open one left out in silence would hide its
    ticket from everyone who relies on the page."""
    if not unreadable:
        return ""
    records = "1 stored incident" if unreadable == 1 else f"{unreadable} stored incidents"
    shown = "is" if unreadable == 1 else "are"
    return (
        f"<p class=bad>{records} could not be read (unreadable) and {shown} not shown: the "
        "daemon's log names each (store.unreadable_record).</p>"
    )


def _not_found(why: str) -> Response:
    return _html(404, _page("triage: incident", f"<p class=bad>{_text(why)}</p>"))


def _incident_link(fingerprint: str) -> str:
    """A link to the incident's own page, labelled with its fingerprint."""
    return f"<a href={_attr('/incidents/' + quote(fingerprint, safe=''))}>{_text(fingerprint)}</a>"


def _ticket(sink: str, ref: str, *, gone: bool = False) -> str:
    """`sink: ref`, a link when the reference is an http(s) address a label can name the host
    of (a GitHub issue's); text otherwise (a backend's id), and for a ticket that is gone. The
    link is written as every surface writes one (`display.opened_url`, `written`): to the URL
    it opens, without user info, which could be a token or read as another host
    (`https://github.com@evil.example/`), in its address and in its label alike."""
    url = None if gone else opened_url(ref)
    if url is None:
        shown = f"{_text(sink)}: {_isolated(ref)}" + (" (gone)" if gone else "")
    else:
        address = written(url)
        link = f'<a href={_attr(address)} rel="noreferrer noopener">'
        shown = f"{_text(sink)}: {link}{_isolated(link_label(address, url))}</a>"
    return f"<span class=tag>{shown}</span>"


def _tickets(shown: dict[str, Any]) -> str:
    """An incident's tickets (from `incident_json`), those gone marked so, each a tag of its
    own as `_items` shows matchers (a reference holding `, github: …` reads as no second
    ticket)."""
    tickets = [_ticket(sink, ref) for sink, ref in shown["tickets"].items()]
    gone = shown.get("tickets_gone", {})
    tickets += [_ticket(sink, ref, gone=True) for sink, ref in gone.items()]
    return " ".join(tickets)


def _when(value: str | None, now: datetime) -> str:
    """An ISO time from `incident_json` with how long ago (or ahead) it is, as HTML."""
    if value is None:
        return "-"
    return f"{_text(value)} <span class=muted>({_text(relative(datetime.fromisoformat(value), now))})</span>"


def _counts(shown: dict[str, Any]) -> list[str]:
    """A row's counts: an incident of one alert's occurrences as `N alerts`, as its list line
    has them; a group's alerts (members) and occurrences each once, in `incidents show`'s
    words (`12 alerts, 5 firing · 340 occurrences`), not two different `N alerts`."""
    if "members" in shown:
        return [members_said(shown), occurrences_said(shown)]
    count = shown["occurrences"]
    return [f"{count} alerts" if count != 1 else "1 alert"]


def _incident_page(shown: dict[str, Any], now: datetime) -> str:
    """One incident: what it is, its tickets and labels, and its history, oldest first."""
    since = shown["closed_at"] if shown["state"] == "closed" else shown["opened_at"]
    flags = "".join(
        f" <span class=tag>{_text(flag)}</span>" for flag in ("flapping", "silenced") if shown[flag]
    )
    labels = [f"{_named(k)}={_named(v)}" for k, v in shown["labels"].items()]
    facts = [
        ("Fingerprint", _text(shown["fingerprint"])),
        ("State", f"{_text(shown['state'])} since {_when(since, now)}{flags}"),
        ("Priority", _text(shown["priority"] or "-")),
        ("Team", _isolated(_named(shown["team"] or "-"))),
        ("Source", _isolated(_named(shown["source"]))),
        ("Route", _isolated(shown["route"] or "-")),
        ("Alerts", f"{occurrences_said(shown)} · last change {_when(shown['updated_at'], now)}"),
        ("Tickets", _tickets(shown) or "no ticket"),
        ("Labels", _items(labels) if labels else "-"),
    ]
    facts += [
        (label.capitalize(), said) for label, said in optional_facts(shown, now, _text, _when)
    ]
    rows = "".join(f"<tr><th>{_text(name)}</th><td>{value}</td></tr>" for name, value in facts)
    history = [_table(["When", "Action", "Note"])]
    history += [
        f"<tr><td>{_when(e['at'], now)}</td>{_td(e['action'])}{_td_isolated(e['note'])}</tr>"
        for e in shown["history"]
    ]
    history.append("</table></div>")
    return (
        f"<p><a href=/>← status</a></p><section><h2>{_isolated(shown['title'])}</h2>"
        f"<div class=wrap><table>{rows}</table></div></section>"
        + _section("History (oldest first)", "".join(history))
    )


def _llm_breaker(summariser: object) -> CircuitBreaker | None:
    """The LLM's breaker, when an LLM writes tickets (the fallback summariser's primary)."""
    for candidate in (getattr(summariser, "primary", None), summariser):
        breaker = getattr(candidate, "breaker", None)
        if isinstance(breaker, CircuitBreaker):
            return breaker
    return None


def _breaker(breaker: CircuitBreaker) -> str:
    state = breaker.state.value
    css = "ok" if state == "closed" else "bad"
    return f"<span class={css}>{_text(state.replace('_', '-'))}</span>"


#: The pages a login may return to: the status page, or one incident's (its fingerprint, or
#: the prefix of one, in lower-case hex as `incidents show` takes it). Nothing else: not
#: another site (`//host`, `/\host`, `https:`), nor another path of this port.
_RETURN_PATH = re.compile(rf"/(?:incidents/[0-9a-fA-F]{{1,{_FINGERPRINT_CHARS}}})?")


#: The longest return target a login keeps (a filter past it is not worth a long URL).
_RETURN_CHARS = 2048


def _return_path(target: str) -> str | None:
    """The page of this site's own a login may send the browser back to, from `target`: `/`
    or `/incidents/<hex>`, exactly (no percent-encoding, no line end in the path), and for `/`
    its filter (`_page_query`: the page's own parameters, encoded again); else None."""
    if len(target) > _RETURN_CHARS:
        return None
    path, asked, query = target.partition("?")
    if not _RETURN_PATH.fullmatch(path):
        return None
    if not asked:
        return path
    if path != "/" or "#" in query:
        return None
    kept = _page_query(query)
    return f"/?{kept}" if kept else "/"


def _page_query(query: str) -> str:
    """The status page's filter in `query`, percent-encoded again (a `/`, a line end or a `#`
    cannot survive as itself): only its own parameters, each once (`match` may repeat), not
    the empty ones a form sends; a value with a control or format character (a line end, a
    bidi override) is left out. A value whose bytes are not UTF-8 keeps those bytes: the page
    returned to names its parameter (a 400), where U+FFFD in their place would filter by a
    character nobody typed and list nothing, silently."""
    kept: list[tuple[str, str]] = []
    for name, value in parse_qsl(query, errors="surrogateescape"):
        typed = _NOT_UTF8.sub("", value)
        if name not in _PAGE_PARAMETERS or not typed.strip() or not typed.isprintable():
            continue
        if name != "match" and any(name == seen for seen, _ in kept):
            continue
        kept.append((name, value))
    return "&".join(f"{name}={_bytes_quoted(value)}" for name, value in kept)


#: The bytes of a value that were not UTF-8, as `errors="surrogateescape"` reads them.
_NOT_UTF8 = re.compile("[\udc80-\udcff]")


def _bytes_quoted(value: str) -> str:
    """`value` percent-encoded as the bytes it was sent as (those not UTF-8 as they came)."""
    return quote(value.encode("utf-8", "surrogateescape"), safe="")


def _equal(a: str, b: str) -> bool:
    return hmac.compare_digest(a.encode(), b.encode())


def _age(delta: timedelta) -> str:
    seconds = max(0, int(delta.total_seconds()))
    if seconds < 3600:
        return f"{seconds // 60} min"
    if seconds < 86400:
        return f"{seconds // 3600} h {seconds % 3600 // 60} min"
    return f"{seconds // 86400} d {seconds % 86400 // 3600} h"


def _td(text: str) -> str:
    return f"<td>{_text(text)}</td>"


def _td_isolated(text: str) -> str:
    return f"<td>{_isolated(text)}</td>"


def _attr(text: str) -> str:
    """A quoted attribute value."""
    return '"' + _text(text) + '"'


def _text(text: str) -> str:
    """Any text for HTML, an element's content or a quoted attribute value: its visible
    characters only, then `&<>"'` as entities."""
    return escape(visible(text), quote=True)


def _isolated(text: str) -> str:
    """Text from an alert, a ticket or a silence: `_text` in an element whose direction is its
    own (`dir=auto` isolates it, as a `<bdi>` is), so right-to-left words do not reorder what
    stands beside them."""
    return f"<span dir=auto>{_text(text)}</span>"


def _named(text: str) -> str:
    """A name from an alert (a team, a source, a label's key or value) as `incidents show`
    writes it: a letter drawn like a Latin one inside a Latin word as its code
    (`view.spelled_look_alikes`: `p\\u0430yments`), so a team that no `team=payments` silence
    or filter holds for is not drawn as `payments` beside them."""
    return spelled_look_alikes(text)


def _items(texts: list[str]) -> str:
    """Several texts from an alert or a silence (matchers, labels), each `_isolated` in a
    tag of its own rather than joined by commas: a value holding `, team=db` cannot read as
    one more matcher or label."""
    return " ".join(f"<span class=tag dir=auto>{_text(text)}</span>" for text in texts)


def _table(headings: list[str]) -> str:
    head = "".join(f"<th>{_text(h)}</th>" for h in headings)
    return f"<div class=wrap><table><tr>{head}</tr>"


def _unread_silences_note(unreadable: tuple[tuple[str, str], ...]) -> str:
    """The line saying how many stored silences could not be read ("" when none): a newer
    release's, which still mutes alerts on the replicas that read it."""
    if not unreadable:
        return ""
    count = len(unreadable)
    records = "1 stored silence" if count == 1 else f"{count} stored silences"
    shown = "is" if count == 1 else "are"
    return (
        f"<p class=bad>{records} could not be read and {shown} not shown: a replica that reads "
        "it still honours it (the daemon's log names each: silence.unreadable).</p>"
    )


def _section(title: str, body: str) -> str:
    return f"<section><h2>{_text(title)}</h2>{body}</section>"


def _page(title: str, body: str) -> str:
    return (
        "<!doctype html><html lang=en><head><meta charset=utf-8>"
        "<meta name=viewport content='width=device-width, initial-scale=1'>"
        f"<title>{_text(title)}</title><style>{_STYLE}</style></head>"
        f"<body><h1>{_text(title)}</h1>{body}</body></html>"
    )


def _html(status: int, body: str, headers: tuple[tuple[str, str], ...] = ()) -> Response:
    # "replace": a lone surrogate in stored text (which no UTF-8 encoder takes) shows as "?",
    # rather than failing the whole page for every operator while that record is kept.
    page = body.encode("utf-8", "replace")
    return Response(status, page, "text/html; charset=utf-8", (*_HEADERS, *headers))
