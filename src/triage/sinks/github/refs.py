"""What an incident's GitHub reference names, and how an answer from GitHub becomes one.

A reference is the URL of the issue triage opened (`https://github.com/acme/ops/issues/12`),
or, for an incident listed in a storm digest, of its comment there (`…/issues/7#issuecomment-99`).
Every later effect parses it back into owner, repository and number to build API paths, and
Slack, escalations, the status page and `triage incidents show` link to it, so what GitHub
answers is trusted only as far as it must be:

- owner and repository must be names GitHub allows (`OWNER`, `NAME`), numbers positive and
  within GitHub's range (`MAX_NUMBER`, `MAX_ID`): anything else names nothing;
- the URL kept is rebuilt from repository and number (`WebOrigin`). Where issues are shown is
  known from GITHUB_WEB_URL, or from an API URL of GitHub's shape: the URL is always built
  there. Behind a proxy it is not known: an answered `html_url` of the issue's shape is kept on
  its own scheme, host and port. When the answer differs from what is kept (another host,
  scheme or port, userinfo, a query, another repository or number) one
  `github.answer_url_rebuilt` warning says which part differed, never the value;
- a create's or a look-up's issue is the one of the repository asked: an answer cannot steer
  later writes into another repository. Only a read that GitHub answered as moved (a transfer,
  a rename) names another one (`moved_to`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from typing import Any
from urllib.parse import SplitResult, urlsplit

import structlog

from triage.sinks.github.api import OWNER, number_field, record
from triage.sinks.github.text import web_host

log = structlog.get_logger(__name__)

#: A repository's name: at most 100 letters, digits, `-`, `_` and `.` (never `.` or `..`);
#: its owner is an account (`OWNER`, in `api.py` with the logins it checks).
NAME = r"[A-Za-z0-9_.-]{1,100}"
#: GitHub's issue numbers are 32-bit; comment ids 64-bit.
MAX_NUMBER = 2**31 - 1
MAX_ID = 2**63 - 1

#: A reference's path (stored by triage: read as it was written).
_ISSUE_PATH = re.compile(
    rf"/(?P<owner>{OWNER})/(?P<name>{NAME})/issues/(?P<number>[1-9][0-9]{{0,9}})/?$"
)
_COMMENT_FRAGMENT = re.compile(r"^issuecomment-(?P<id>[1-9][0-9]{0,18})$")
#: An answer's `html_url` path: an issue's shape, or the pull request GitHub may show it as.
_ANSWER_PATH = re.compile(
    rf"/(?P<owner>{OWNER})/(?P<name>{NAME})/(?:issues|pull)/(?P<number>[1-9][0-9]{{0,9}})"
)

#: Statuses GitHub answers for an issue that is no more: 410 when it was deleted, 404 when it
#: was deleted or transferred where our token cannot read it (or the token lost the repository).
GONE = frozenset({404, 410})


def valid_repository(repository: str) -> bool:
    """Whether `repository` is `owner/name` as GitHub allows them."""
    owner, _, name = repository.partition("/")
    named = re.fullmatch(OWNER, owner) and re.fullmatch(NAME, name)
    return bool(named) and name not in (".", "..")


@dataclass(frozen=True, slots=True)
class IssueRef:
    """What a reference names: an issue, or (for a storm digest entry) one of its comments."""

    repository: str
    number: int
    comment_id: int | None = None

    @classmethod
    def parse(cls, ref: str) -> IssueRef | None:
        """`https://host/owner/name/issues/12[#issuecomment-34]`; None for anything else."""
        try:
            parts = urlsplit(ref)
        except ValueError:
            return None
        found = _ISSUE_PATH.search(parts.path)
        if found is None or found["name"] in (".", ".."):
            return None
        number = int(found["number"])
        comment = _COMMENT_FRAGMENT.match(parts.fragment)
        comment_id = int(comment["id"]) if comment else None
        if number > MAX_NUMBER or (comment_id is not None and comment_id > MAX_ID):
            return None
        return cls(f"{found['owner']}/{found['name']}", number, comment_id)


def issue_key(ref: IssueRef) -> tuple[str, int]:
    """The issue `ref` names (a digest entry's: its digest issue), as refusals remember it."""
    return ref.repository.lower(), ref.number


#: API hosts whose web host is theirs without `api.`: github.com, GHE.com's `acme.ghe.com`.
_GITHUB_API_HOST = re.compile(r"api\.(?:github\.com|[a-z0-9-]+\.ghe\.com)")
#: A host an answered URL may be kept on: a DNS name or an IP address (never `%`-encoded,
#: spaced or marked up).
_HOST = re.compile(r"[a-z0-9_.-]{1,253}|[0-9a-f:.]{2,45}")
_DEFAULT_PORTS = {"http": 80, "https": 443}


def github_shaped(api_url: str) -> bool:
    """Whether `api_url` is GitHub's own API (api.github.com, `api.<x>.ghe.com`) or an
    Enterprise Server's (`…/api/v3`): its web host can be read from it (`web_host`)."""
    parts = urlsplit(api_url)
    path = parts.path.rstrip("/").lower()
    if path:
        return path.endswith("/api/v3")
    return bool(_GITHUB_API_HOST.fullmatch((parts.hostname or "").lower()))


@dataclass(frozen=True, slots=True)
class WebOrigin:
    """Where GitHub shows issues: GITHUB_WEB_URL when set; else `https://github.com` for
    api.github.com, `acme.ghe.com` for `api.acme.ghe.com`, an Enterprise Server's own host for
    its `/api/v3` (https, unless the API URL itself is http). Those are `fixed`: every URL kept
    is built there. Any other API URL (a proxy in front of GitHub, a stand-in) says nothing of
    where issues are shown: its own origin is not fixed, where only answers that are no issue
    URL are rebuilt."""

    scheme: str
    host: str
    port: int | None
    fixed: bool = True

    @classmethod
    def of(cls, api_url: str, web_url: str | None = None) -> WebOrigin:
        """The origin for GITHUB_API_URL and GITHUB_WEB_URL (None when unset)."""
        if web_url is not None:
            return cls.at(web_url)
        if github_shaped(api_url):
            return replace(cls.at(api_url), host=web_host(api_url))
        return replace(cls.at(api_url), fixed=False)

    @classmethod
    def at(cls, url: str) -> WebOrigin:
        """The origin of `url`: its scheme (http, else https), host and port (none when it is
        the scheme's default)."""
        parts = urlsplit(url)
        scheme = "http" if parts.scheme.lower() == "http" else "https"
        try:
            port = parts.port
        except ValueError:  # the API's own calls fail on it first
            port = None
        default = _DEFAULT_PORTS[scheme]
        return cls(scheme, (parts.hostname or "").lower(), None if port == default else port)

    def rebuild(self, stored: str) -> str | None:
        """A reference kept earlier, as shown now: the URL of what it names, kept as
        `trusted_url` keeps an answer (without its warning), or None when it names nothing
        (for whoever shows references kept before answers' URLs were checked)."""
        ref = IssueRef.parse(stored)
        return None if ref is None else self.kept(stored, ref)[0]

    def url(self, ref: IssueRef) -> str:
        """The URL of the issue (or the comment) `ref` names, on this origin."""
        host = f"[{self.host}]" if ":" in self.host else self.host
        netloc = host if self.port is None else f"{host}:{self.port}"
        fragment = f"#issuecomment-{ref.comment_id}" if ref.comment_id is not None else ""
        return f"{self.scheme}://{netloc}/{ref.repository}/issues/{ref.number}{fragment}"

    def kept(self, url: Any, ref: IssueRef) -> tuple[str, str | None]:
        """The URL kept for the issue (or comment) `ref` names when `url` was answered for
        it, and which part of `url` differs from it (`fault`), or None."""
        why = self.fault(url, ref)
        where = self if why is not None or self.fixed else WebOrigin.at(url)
        return where.url(ref), why

    def fault(self, url: Any, ref: IssueRef) -> str | None:
        """Which part of an answered `url` is not that of the issue (or comment) `ref` names
        on this origin (when not fixed: on any origin of http(s) and a plain host): "missing",
        "scheme", "host", "path", "repository", "number"; None when it is (owner and name read
        without regard to case, a pull request's path too, a default port or none alike)."""
        if not isinstance(url, str):
            return "missing"
        try:
            parts = urlsplit(url)
            port = parts.port
        except ValueError:
            return "host"
        scheme = parts.scheme.lower()
        if scheme != self.scheme and (self.fixed or scheme not in _DEFAULT_PORTS):
            return "scheme"
        if parts.username is not None or parts.password is not None:
            return "host"
        host = parts.hostname or ""
        if port == 0 or not _HOST.fullmatch(host):
            return "host"
        if self.fixed and (host, port) not in ((self.host, self.port), (self.host, _default(self))):
            return "host"
        return _path_fault(parts, ref)


def _default(origin: WebOrigin) -> int | None:
    """The port `origin` is reached on: its own, else its scheme's default."""
    return _DEFAULT_PORTS[origin.scheme] if origin.port is None else origin.port


def _path_fault(parts: SplitResult, ref: IssueRef) -> str | None:
    found = _ANSWER_PATH.fullmatch(parts.path)
    if found is None or parts.query:
        return "path"
    if f"{found['owner']}/{found['name']}".lower() != ref.repository.lower():
        return "repository"
    wanted = f"issuecomment-{ref.comment_id}" if ref.comment_id is not None else ""
    if int(found["number"]) != ref.number or parts.fragment != wanted:
        return "number"
    return None


def trusted_url(answered: Any, ref: IssueRef, origin: WebOrigin) -> str:
    """The URL kept for the issue (or comment) `ref` names (`WebOrigin.kept`): on `origin`
    when it is fixed, else on the answer's own origin if the answer is the issue's URL; one
    warning when GitHub's answer spelled it otherwise (which part, never the value)."""
    url, why = origin.kept(answered, ref)
    if why is not None:
        log.warning(
            "github.answer_url_rebuilt",
            why=why,
            repository=ref.repository,
            issue=ref.number,
            action="rebuilt",
            hint="check GITHUB_WEB_URL, GITHUB_API_URL and any proxy in front of GitHub",
        )
    return url


def issue_number(answer: Any) -> int:
    """An issue's `number`: positive and within GitHub's range, else `bad_response`."""
    return number_field(answer, "number", most=MAX_NUMBER)


def issue_url(answer: Any, repository: str, origin: WebOrigin) -> str:
    """The URL kept for `answer`, an issue of `repository` (created, or found by its marker):
    rebuilt from the repository asked and the answer's number (`trusted_url`). A number that
    is none would leave the incident with a ticket no effect can reach (never updated, never
    closed), so it is a bad answer, retried; and so is an answer that is no issue at all (a
    2xx of no JSON, a list)."""
    issue = record(answer, "the issue")
    return trusted_url(issue.get("html_url"), IssueRef(repository, issue_number(issue)), origin)


def comment_url(answer: Any, issue: IssueRef, origin: WebOrigin) -> str:
    """The URL kept for `answer`, a comment on `issue` (a storm digest's entry), from the
    comment's own `id`."""
    comment_id = number_field(answer, "id", most=MAX_ID)
    ref = IssueRef(issue.repository, issue.number, comment_id)
    return trusted_url(answer.get("html_url"), ref, origin)


def moved_to(ref: IssueRef, issue: dict[str, Any]) -> IssueRef | None:
    """Where `issue`, read through `ref`, lives now, if GitHub's answer names another issue
    (transferred to another repository, or the repository renamed); else None. The owner and
    repository are read from its `html_url`'s path (names GitHub allows, or none), whose number
    must be the answer's `number`: an answer that contradicts itself names no move. Its URL, if
    it moved, is rebuilt (`moved_url`)."""
    url = issue.get("html_url")
    number = issue.get("number")
    try:
        found = _ANSWER_PATH.fullmatch(urlsplit(url).path) if isinstance(url, str) else None
    except ValueError:
        found = None
    if found is None or found["name"] in (".", ".."):
        return None
    if type(number) is not int or int(found["number"]) != number:
        return None
    now = IssueRef(f"{found['owner']}/{found['name']}", int(found["number"]))
    if now.number > MAX_NUMBER or issue_key(now) == issue_key(ref):
        return None
    return now


def moved_url(moved: IssueRef, issue: dict[str, Any], origin: WebOrigin) -> str:
    """The URL kept for an issue that `moved_to` found moved: rebuilt on `origin`."""
    return trusted_url(issue.get("html_url"), moved, origin)
