"""A loopback stand-in for the part of GitHub's REST API the github sink uses; it records every
call and can be told to fail. Used by the tests (and by hand: `python -m github_stub
--port 4010 --token T --repo acme/ops`, then `GITHUB_API_URL=http://127.0.0.1:4010`).

Routes (shapes as GitHub's, trimmed to the fields triage reads):
    GET   /user                                    the token's user (403 for an installation token)
    GET   /app                                     the App (JWT auth)
    POST  /app/installations/{id}/access_tokens    JWT → installation token (RS256 JWT verified)
    GET   /repos/{o}/{r}                           the repository: id, full_name, archived
    GET   /repos/{o}/{r}/issues                    state, labels (all of them), creator, sort,
                                                   direction, per_page, page; newest first
    POST  /repos/{o}/{r}/issues                    create (title required, labels, assignees)
    GET   /repos/{o}/{r}/issues/{n}                one issue, with closed_by
    PATCH /repos/{o}/{r}/issues/{n}                title, body, state, state_reason, labels,
                                                   assignees (labels/assignees are replaced)
    POST  /repos/{o}/{r}/issues/{n}/labels         add labels
    DELETE /repos/{o}/{r}/issues/{n}/labels/{name} remove one label (404 if the issue lacks it)
    GET   /repos/{o}/{r}/issues/{n}/comments       oldest first; per_page, page
    POST  /repos/{o}/{r}/issues/{n}/comments       add a comment
    GET   /repos/{o}/{r}/issues/comments/{id}      one comment
    PATCH /repos/{o}/{r}/issues/comments/{id}      edit a comment

GitHub's limits are enforced with its 422 "Validation Failed" (`_limits_problem`): a title over
256 characters, an issue body or a comment over 65,536, a label name over 50, more than 100
labels on an issue, more than 10 assignees.

Every answer carries `x-ratelimit-*` headers for the `core` budget; when it is spent, calls get
GitHub's 403 "API rate limit exceeded". `fail_next()` injects answers such as a secondary-limit
403 with Retry-After, or a 502. Timestamps come from an injectable wall clock.
"""

from __future__ import annotations

import argparse
import contextlib
import copy
import email.utils
import itertools
import json
import re
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

import jwt

from triage.demo.loopback import KeepAliveHandler, LoopbackServer

Answer = tuple[int, Any, dict[str, str]]

_REPO = r"/repos/(?P<repo>[^/]+/[^/]+)"
_ROUTES: list[tuple[str, re.Pattern[str], str]] = [
    ("GET", re.compile(r"/user"), "_get_user"),
    ("GET", re.compile(r"/app"), "_get_app"),
    ("POST", re.compile(r"/app/installations/(?P<iid>\d+)/access_tokens"), "_exchange"),
    ("GET", re.compile(_REPO), "_get_repo"),
    ("GET", re.compile(_REPO + r"/issues"), "_list_issues"),
    ("POST", re.compile(_REPO + r"/issues"), "_create_issue"),
    ("GET", re.compile(_REPO + r"/issues/comments/(?P<cid>\d+)"), "_get_comment"),
    ("PATCH", re.compile(_REPO + r"/issues/comments/(?P<cid>\d+)"), "_edit_comment"),
    ("GET", re.compile(_REPO + r"/issues/(?P<n>\d+)"), "_get_issue"),
    ("PATCH", re.compile(_REPO + r"/issues/(?P<n>\d+)"), "_edit_issue"),
    ("POST", re.compile(_REPO + r"/issues/(?P<n>\d+)/labels"), "_add_labels"),
    ("DELETE", re.compile(_REPO + r"/issues/(?P<n>\d+)/labels/(?P<label>[^/]+)"), "_remove_label"),
    ("GET", re.compile(_REPO + r"/issues/(?P<n>\d+)/comments"), "_list_comments"),
    ("POST", re.compile(_REPO + r"/issues/(?P<n>\d+)/comments"), "_create_comment"),
]

#: GitHub's bounds on what an issue holds (characters, as GitHub counts them: code points).
TITLE_CHARS = 256
BODY_CHARS = 65_536
LABEL_CHARS = 50
LABELS_PER_ISSUE = 100
ASSIGNEES_PER_ISSUE = 10

#: GitHub refuses an App JWT that expires more than ten minutes ahead.
_JWT_MAX_LIFETIME_S = 600


@dataclass(frozen=True, slots=True)
class StubApp:
    """A GitHub App the stub knows: JWTs must be signed by the private half of `public_key`."""

    app_id: str
    slug: str
    public_key: str  # PEM
    installation_id: int
    token_ttl_s: float = 3600.0


#: `fail_next`'s default body: GitHub's error shape, `{"message": …}`.
ERROR_SHAPE: Any = object()


@dataclass(slots=True)
class _Failure:
    status: int
    message: str
    headers: dict[str, str]
    path: str | None
    method: str | None
    #: What is sent: ERROR_SHAPE, a JSON value (None: an empty body), or raw bytes.
    body: Any = ERROR_SHAPE


@dataclass(slots=True)
class _Issue:
    number: int
    title: str
    body: str
    author: str
    created_at: float
    labels: list[str] = field(default_factory=list)
    assignees: list[str] = field(default_factory=list)
    state: str = "open"
    state_reason: str | None = None
    closed_at: float | None = None
    closed_by: str | None = None
    comments: list[dict[str, Any]] = field(default_factory=list)


def _iso(moment: float) -> str:
    return datetime.fromtimestamp(moment, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


class GitHubServer(LoopbackServer):
    """A threaded HTTP server on 127.0.0.1; usable from sync and async code alike."""

    thread_name = "github-stub"

    def __init__(
        self,
        *,
        tokens: Mapping[str, str] | None = None,
        repositories: tuple[str, ...] = ("acme/ops",),
        app: StubApp | None = None,
        clock: Callable[[], float] = time.time,
        rate_limit: int = 5000,
        host: str = "127.0.0.1",
        port: int = 0,
    ) -> None:
        #: Personal/fixed tokens → the login they act as.
        self.tokens = dict(tokens or {})
        self.app = app
        self.clock = clock
        self._lock = threading.Lock()
        self._repos: dict[str, list[_Issue]] = {r: [] for r in repositories}
        #: Repository id → its name now. GitHub's `id` is stable per repository: a subclass
        #: that renames or transfers one keeps its id, one created again gets a new id.
        self.ids: dict[int, str] = {}
        self._id_numbers = itertools.count(100)
        for name in repositories:
            self._repo_id(name)
        #: Repositories `GET /repos/{o}/{r}` says are archived (a subclass may also refuse
        #: their writes, as GitHub does).
        self.archived: set[str] = set()
        self._comment_ids = itertools.count(1001)
        self._installation_tokens: dict[str, float] = {}  # token → expiry (clock)
        self._token_numbers = itertools.count(1)
        self._calls: list[dict[str, Any]] = []
        self._failures: list[_Failure] = []
        self._rate_limit = rate_limit
        self._rate_remaining = rate_limit
        self._rate_reset = clock() + 3600
        super().__init__(host, port)

    # --- For tests --------------------------------------------------------------------------

    @property
    def url(self) -> str:
        return self.base_url

    @property
    def calls(self) -> list[dict[str, Any]]:
        """Every request: {"method", "path", "query", "body", "headers", "status"}."""
        with self._lock:
            return copy.deepcopy(self._calls)

    def issues(self, repository: str = "acme/ops") -> list[dict[str, Any]]:
        """Every issue of `repository` as the API shows it, plus `comment_bodies`."""
        with self._lock:
            return [
                {**self._render(repository, i), "comment_bodies": [c["body"] for c in i.comments]}
                for i in self._repos[repository]
            ]

    def fail_next(
        self,
        count: int = 1,
        status: int = 503,
        *,
        message: str = "injected failure",
        retry_after: str | None = None,
        headers: Mapping[str, str] | None = None,
        path: str | None = None,
        method: str | None = None,
        body: Any = ERROR_SHAPE,
    ) -> None:
        """Answer the next `count` requests (only those whose path contains `path` and whose
        method is `method`, when given) with `status` and GitHub's error shape (or `body`: any
        JSON value, None for an empty body, bytes sent as they are), changing nothing."""
        extra = dict(headers or {})
        if retry_after is not None:
            extra["Retry-After"] = retry_after
        with self._lock:
            self._failures.extend(
                _Failure(status, message, extra, path, method, body) for _ in range(count)
            )

    def recover(self) -> None:
        """Forget the failures `fail_next` queued and that were not answered yet."""
        with self._lock:
            self._failures.clear()

    def set_rate_limit(self, remaining: int, reset_in_s: float = 3600) -> None:
        """Set what is left of the primary budget and when it resets."""
        with self._lock:
            self._rate_remaining = remaining
            self._rate_reset = self.clock() + reset_in_s

    def revoke_installation_tokens(self) -> None:
        """Forget every installation token handed out (as if the App's install was renewed)."""
        with self._lock:
            self._installation_tokens.clear()

    # --- Dispatch (on the server's threads, under the lock) ---------------------------------

    def _handle(self, method: str, target: str, headers: dict[str, str], raw: bytes) -> Answer:
        parts = urlsplit(target)
        query = {k: v[-1] for k, v in parse_qs(parts.query).items()}
        try:
            body = json.loads(raw) if raw else None
        except ValueError:
            body = None
        with self._lock:
            answer = self._route(method, parts.path, query, headers, body)
            status = answer[0]
            # The budget's headers on every answer, unless an injected failure set its own.
            answer = (status, answer[1], {**self._rate_headers(), **answer[2]})
            self._calls.append(
                {
                    "method": method,
                    "path": parts.path,
                    "query": query,
                    "body": body,
                    "headers": headers,
                    "status": status,
                }
            )
        return answer

    def _route(
        self,
        method: str,
        path: str,
        query: dict[str, str],
        headers: dict[str, str],
        body: Any,
    ) -> Answer:
        for i, failure in enumerate(self._failures):
            if (failure.path is None or failure.path in path) and failure.method in (None, method):
                del self._failures[i]
                body = {"message": failure.message} if failure.body is ERROR_SHAPE else failure.body
                return failure.status, body, dict(failure.headers)
        route = next(
            (
                (handler, found)
                for verb, pattern, handler in _ROUTES
                if verb == method and (found := pattern.fullmatch(path))
            ),
            None,
        )
        if route is None:
            return _error(404, "Not Found")
        handler, found = route
        params = found.groupdict()
        if path.startswith("/app"):
            return self._as_app(headers, handler, params, body)
        actor = self._actor(headers)
        if actor is None:
            return _error(401, "Bad credentials")
        if self._rate_remaining <= 0:
            return _error(403, "API rate limit exceeded for installation.")
        self._rate_remaining -= 1
        if "repo" in params and params["repo"] not in self._repos:
            return _error(404, "Not Found")
        answer: Answer = getattr(self, handler)(actor, params, query, body)
        return answer

    def _rate_headers(self) -> dict[str, str]:
        return {
            "x-ratelimit-limit": str(self._rate_limit),
            "x-ratelimit-remaining": str(max(0, self._rate_remaining)),
            "x-ratelimit-reset": str(int(self._rate_reset)),
            "x-ratelimit-resource": "core",
        }

    def _actor(self, headers: dict[str, str]) -> str | None:
        """The login a request acts as, from its token; None if the token is unknown or expired."""
        token = _bearer(headers)
        if token in self.tokens:
            return self.tokens[token]
        expires = self._installation_tokens.get(token or "")
        if self.app is not None and expires is not None and self.clock() < expires:
            return f"{self.app.slug}[bot]"
        return None

    def _as_app(
        self, headers: dict[str, str], handler: str, params: dict[str, str], body: Any
    ) -> Answer:
        if self.app is None:
            return _error(404, "Not Found")
        problem = self._jwt_problem(_bearer(headers) or "")
        if problem:
            return _error(401, problem)
        if handler == "_get_app":
            return 200, {"id": int(self.app.app_id), "slug": self.app.slug}, {}
        if int(params["iid"]) != self.app.installation_id:
            return _error(404, "Not Found")
        token = f"ghs_stub{next(self._token_numbers)}"
        expires = self.clock() + self.app.token_ttl_s
        self._installation_tokens[token] = expires
        return 201, {"token": token, "expires_at": _iso(expires)}, {}

    def _jwt_problem(self, token: str) -> str | None:
        """Why GitHub would refuse this App JWT, or None: RS256 by the App's key, iss the app
        id, issued no later than now, expiring after now and at most ten minutes ahead."""
        assert self.app is not None
        try:
            claims = jwt.decode(
                token,
                self.app.public_key,
                algorithms=["RS256"],
                options={"verify_exp": False, "verify_iat": False, "require": ["iat", "exp"]},
            )
        except jwt.PyJWTError as exc:
            return f"A JSON web token could not be decoded: {exc}"
        now = self.clock()
        if str(claims.get("iss")) != self.app.app_id:
            return "'Issuer' claim ('iss') must be the app id"
        if claims["iat"] > now + 1:
            return "'Issued at' claim ('iat') must be an Integer representing a time in the past"
        if claims["exp"] <= now or claims["exp"] - now > _JWT_MAX_LIFETIME_S:
            return "'Expiration time' claim ('exp') is too far in the future or already past"
        return None

    # --- Handlers (called under the lock) ---------------------------------------------------

    def _get_user(self, actor: str, params: dict[str, str], query: Any, body: Any) -> Answer:
        if actor.endswith("[bot]"):
            return _error(403, "Resource not accessible by integration")
        return 200, {"login": actor}, {}

    def _get_repo(self, actor: str, params: dict[str, str], query: Any, body: Any) -> Answer:
        repo = params["repo"]
        shown = {"id": self._repo_id(repo), "full_name": repo, "archived": repo in self.archived}
        return 200, shown, {}

    def _list_issues(
        self, actor: str, params: dict[str, str], query: dict[str, str], body: Any
    ) -> Answer:
        repo = params["repo"]
        state = query.get("state", "open")
        wanted = {label for label in query.get("labels", "").split(",") if label}
        creator = query.get("creator", "").lower()
        chosen = [
            i
            for i in self._repos[repo]
            if (state == "all" or i.state == state)
            and wanted <= set(i.labels)
            and creator in ("", i.author.lower())
        ]
        chosen.sort(key=lambda i: i.number, reverse=query.get("direction", "desc") == "desc")
        per_page = min(100, int(query.get("per_page", 30)))
        page = int(query.get("page", 1))
        shown = chosen[(page - 1) * per_page : page * per_page]
        return 200, [self._render(repo, i) for i in shown], {}

    def _create_issue(self, actor: str, params: dict[str, str], query: Any, body: Any) -> Answer:
        if (
            not isinstance(body, dict)
            or not isinstance(body.get("title"), str)
            or not body["title"]
        ):
            return _error(422, "Validation Failed", [{"field": "title", "code": "missing_field"}])
        problem = _limits_problem(body, labels=body.get("labels") or [])
        if problem is not None:
            return problem
        repo = params["repo"]
        issue = _Issue(
            number=len(self._repos[repo]) + 1,
            title=body["title"],
            body=body.get("body") or "",
            author=actor,
            created_at=self.clock(),
            labels=list(dict.fromkeys(body.get("labels") or [])),
            assignees=list(dict.fromkeys(body.get("assignees") or [])),
        )
        self._repos[repo].append(issue)
        return 201, self._render(repo, issue), {}

    def _get_issue(self, actor: str, params: dict[str, str], query: Any, body: Any) -> Answer:
        issue = self._issue(params)
        if issue is None:
            return _error(404, "Not Found")
        return 200, self._render(params["repo"], issue), {}

    def _edit_issue(self, actor: str, params: dict[str, str], query: Any, body: Any) -> Answer:
        issue = self._issue(params)
        if issue is None:
            return _error(404, "Not Found")
        body = body if isinstance(body, dict) else {}
        problem = _limits_problem(body, labels=body.get("labels") or [])
        if problem is not None:
            return problem
        for name in ("title", "body", "labels", "assignees"):
            if name in body:
                setattr(issue, name, body[name])
        state = body.get("state")
        if state == "closed" and issue.state != "closed":
            issue.state, issue.closed_at, issue.closed_by = "closed", self.clock(), actor
            issue.state_reason = body.get("state_reason") or "completed"
        elif state == "open" and issue.state != "open":
            issue.state, issue.state_reason = "open", "reopened"
        return 200, self._render(params["repo"], issue), {}

    def _add_labels(self, actor: str, params: dict[str, str], query: Any, body: Any) -> Answer:
        issue = self._issue(params)
        if issue is None:
            return _error(404, "Not Found")
        added = body.get("labels", []) if isinstance(body, dict) else []
        problem = _limits_problem({}, labels=list(dict.fromkeys([*issue.labels, *added])))
        if problem is not None:
            return problem
        issue.labels = list(dict.fromkeys([*issue.labels, *added]))
        return 200, [{"name": name} for name in issue.labels], {}

    def _remove_label(self, actor: str, params: dict[str, str], query: Any, body: Any) -> Answer:
        issue = self._issue(params)
        name = unquote(params["label"])
        if issue is None or name not in issue.labels:
            return _error(404, "Label does not exist")
        issue.labels.remove(name)
        return 200, [{"name": label} for label in issue.labels], {}

    def _list_comments(
        self, actor: str, params: dict[str, str], query: dict[str, str], body: Any
    ) -> Answer:
        issue = self._issue(params)
        if issue is None:
            return _error(404, "Not Found")
        per_page = min(100, int(query.get("per_page", 30)))
        page = int(query.get("page", 1))
        return 200, copy.deepcopy(issue.comments[(page - 1) * per_page : page * per_page]), {}

    def _create_comment(self, actor: str, params: dict[str, str], query: Any, body: Any) -> Answer:
        issue = self._issue(params)
        if issue is None:
            return _error(404, "Not Found")
        if not isinstance(body, dict) or not body.get("body"):
            return _error(422, "Validation Failed", [{"field": "body", "code": "missing_field"}])
        problem = _limits_problem(body, labels=[])
        if problem is not None:
            return problem
        comment_id = next(self._comment_ids)
        comment = {
            "id": comment_id,
            "body": body["body"],
            "user": {"login": actor},
            "created_at": _iso(self.clock()),
            "html_url": f"{self._html(params['repo'], issue)}#issuecomment-{comment_id}",
        }
        issue.comments.append(comment)
        return 201, copy.deepcopy(comment), {}

    def _get_comment(self, actor: str, params: dict[str, str], query: Any, body: Any) -> Answer:
        found = self._comment(params)
        return (200, copy.deepcopy(found), {}) if found else _error(404, "Not Found")

    def _edit_comment(self, actor: str, params: dict[str, str], query: Any, body: Any) -> Answer:
        found = self._comment(params)
        if found is None:
            return _error(404, "Not Found")
        if not isinstance(body, dict) or not body.get("body"):
            return _error(422, "Validation Failed", [{"field": "body", "code": "missing_field"}])
        problem = _limits_problem(body, labels=[])
        if problem is not None:
            return problem
        found["body"] = body["body"]
        return 200, copy.deepcopy(found), {}

    # --- Helpers ----------------------------------------------------------------------------

    def _repo_id(self, name: str) -> int:
        """The id of repository `name`, given a new one on first sight."""
        for repo_id, known in self.ids.items():
            if known == name:
                return repo_id
        return self._new_repo_id(name)

    def _new_repo_id(self, name: str) -> int:
        """A new id for repository `name`, as GitHub gives one at its creation: never one
        another repository had."""
        repo_id = next(self._id_numbers)
        self.ids[repo_id] = name
        return repo_id

    def _issue(self, params: dict[str, str]) -> _Issue | None:
        number = int(params["n"])
        issues = self._repos[params["repo"]]
        return issues[number - 1] if 0 < number <= len(issues) else None

    def _comment(self, params: dict[str, str]) -> dict[str, Any] | None:
        wanted = int(params["cid"])
        for issue in self._repos[params["repo"]]:
            for comment in issue.comments:
                if comment["id"] == wanted:
                    return comment
        return None

    def _html(self, repo: str, issue: _Issue) -> str:
        return f"{self.url}/{repo}/issues/{issue.number}"

    def _render(self, repo: str, issue: _Issue) -> dict[str, Any]:
        return {
            "number": issue.number,
            "title": issue.title,
            "body": issue.body,
            "state": issue.state,
            "state_reason": issue.state_reason,
            "labels": [{"name": name} for name in issue.labels],
            "assignees": [{"login": login} for login in issue.assignees],
            "user": {"login": issue.author},
            "comments": len(issue.comments),
            "created_at": _iso(issue.created_at),
            "closed_at": _iso(issue.closed_at) if issue.closed_at is not None else None,
            "closed_by": {"login": issue.closed_by} if issue.closed_by else None,
            "html_url": self._html(repo, issue),
        }

    def _handler_class(self) -> type[BaseHTTPRequestHandler]:
        server = self

        class Handler(KeepAliveHandler):
            def _serve(self) -> None:
                try:
                    raw = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                except ValueError:
                    raw = b""
                headers = {k.lower(): v for k, v in self.headers.items()}
                status, payload, extra = server._handle(self.command, self.path, headers, raw)
                if isinstance(payload, bytes):
                    data = payload
                else:
                    data = b"" if payload is None else json.dumps(payload).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json; charset=utf-8")
                self.send_header("Content-Length", str(len(data)))
                for name, value in extra.items():
                    self.send_header(name, value)
                self.end_headers()
                self.wfile.write(data)

            do_GET = do_POST = do_PATCH = do_DELETE = _serve

            def date_time_string(self, timestamp: float | None = None) -> str:
                """The Date header by the stub's clock, as GitHub dates its answers by its own."""
                moment = server.clock() if timestamp is None else timestamp
                return email.utils.formatdate(moment, usegmt=True)

            def log_message(self, format: str, *args: Any) -> None:
                """Quiet: tests read `calls` instead."""

        return Handler


def _bearer(headers: dict[str, str]) -> str | None:
    scheme, _, token = headers.get("authorization", "").partition(" ")
    return token if scheme.lower() in ("bearer", "token") and token else None


def _limits_problem(body: dict[str, Any], *, labels: list[Any]) -> Answer | None:
    """GitHub's 422 for a request past its limits (`labels`: the issue's labels after it),
    else None."""
    for field_name, most in (("title", TITLE_CHARS), ("body", BODY_CHARS)):
        value = body.get(field_name)
        if isinstance(value, str) and len(value) > most:
            error = {
                "resource": "Issue",
                "code": "custom",
                "field": field_name,
                "message": f"{field_name} is too long (maximum is {most} characters)",
            }
            return _error(422, "Validation Failed", [error])
    if len(labels) > LABELS_PER_ISSUE:
        return _error(
            422, f"Validation Failed. Issues cannot have more than {LABELS_PER_ISSUE} labels"
        )
    for name in labels:
        if isinstance(name, str) and len(name) > LABEL_CHARS:
            error = {
                "resource": "Label",
                "code": "custom",
                "field": "name",
                "message": f"name is too long (maximum is {LABEL_CHARS} characters)",
            }
            return _error(422, "Validation Failed", [error])
    if len(body.get("assignees") or []) > ASSIGNEES_PER_ISSUE:
        error = {"resource": "Issue", "code": "invalid", "field": "assignees"}
        return _error(422, "Validation Failed", [error])
    return None


def _error(status: int, message: str, errors: list[dict[str, str]] | None = None) -> Answer:
    payload: dict[str, Any] = {"message": message}
    if errors:
        payload["errors"] = errors
    return status, payload, {}


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="Stand-in GitHub REST API for triage.")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=4010, help="0 picks a free port")
    parser.add_argument("--token", required=True, help="a token to accept (acts as triage-bot)")
    parser.add_argument("--repo", action="append", default=[], help="owner/name; repeatable")
    args = parser.parse_args(argv)
    server = GitHubServer(
        tokens={args.token: "triage-bot"},
        repositories=tuple(args.repo or ["acme/ops"]),
        host=args.host,
        port=args.port,
    )
    print(f"github stub listening on {server.url}", flush=True)
    with contextlib.suppress(KeyboardInterrupt):
        server.serve_forever()
    server.stop()


if __name__ == "__main__":
    main()
