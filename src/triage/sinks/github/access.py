"""Whether triage's credentials reach a repository's issues, and what a refusal means.

When GitHub refuses to open an issue in a repository with 404 (the repository is hidden from our
token, or missing), 410 (its issues are turned off), 451 (blocked for legal reasons) or 403
without a rate limit or an archive (we may read but not write), the refusal is about our access,
not about the ticket; so is a 403 to a write on an issue in the route's repository (the sink
asks `same_repository`, which tells repositories by GitHub's `id`: a rename or a transfer to
another owner keeps it). Retrying the
message cannot fix it, and dead-lettering it would lose the ticket. Who is at fault decides what
happens:

    another repository still reads         the route names a repository we cannot reach: that
    (GITHUB_REPOSITORY, or one that took   route's mistake. SinkUnreachableError: its messages
    an issue in the last REACHED_S)        are retried with a backoff, then dead-lettered (and
                                           redriven once fixed); the breaker is not told, so
                                           every other route's tickets go on
    nothing else reads                     our credentials reach nothing: GitHubUnavailableError
                                           `no_access` naming the repository and what to do.
                                           The sink's breaker opens, and its probe (`recheck`)
                                           keeps it open while the repository refuses us, so
                                           messages wait on the queue instead of each going to
                                           the DLQ

The probe reads GITHUB_REPOSITORY's issues too (`read_default`): refused so, it is told as
above, by whether another repository took an issue lately, and said as `triage check` says it
(GitHub's answer and what to do), once at warning (`github.repository_refused`) until it reads.

Reading a repository's issues (or the user's role there, `permissions` in `GET /repos/{r}`)
does not show that our credentials may open them: a fine-grained token with Issues read-only,
or an App without `issues: write`, reads them all and is refused every create (403 "Resource
not accessible by …"). GitHub has no call that says what a fine-grained token may do, so
`probe_issue_write` asks with a create that has no title, of which no issue can come
(GitHub's `title` is required), and reads GitHub's answer (`triage check` asks once per
repository):

    422 naming the title missing      "not_refused": GitHub got as far as the request's
                                      fields. It checks permissions first, as it answers
                                      today, but does not document that order: so this says
                                      the create was not refused, never that writes are
                                      proven allowed
    401, 403 (no limit), 404, 410,    "refused", with what to do: 401 credentials GitHub does
    451                               not take, 403 no write permission, 404 the repository
                                      hidden from our credentials (GitHub answers 404, not
                                      403, for a private repository a token may not see) or
                                      missing, 410 issues turned off, 451 the repository
                                      blocked for legal reasons
    a rate limit (403/429 with        "unknown": nothing was asked, so nothing is known; the
    Retry-After or x-ratelimit-       line says when to ask again
    remaining: 0; 422 "spammed" or
    "submitted too quickly"),
    5xx, a network error, any
    other 422

The repository is read first (`GET /repos/{r}`): an archived one is "refused" without a
create, and a refusal of that read is said as GitHub's answer to it, with what to do. So is
one a classic token's scopes cannot open issues in (GitHub names them in `X-OAuth-Scopes` on
every answer to such a token): without `repo`, or `public_repo` for a public repository, it
reads public data only, whatever the create would answer (an outage's 502, say).
    2xx                               "unknown": an issue was made (GitHub never makes one
                                      without a title: whatever answered is no GitHub), and
                                      the line names it, to be closed

A refused write (403) is believed for UNREACHABLE_RECHECK_S even when the repository reads
again: a read cannot show that writes are allowed again. After that the next open tries one.

Everything here is this process's memory, bounded to UNREACHABLE_KEPT repositories each way: it
only decides how a refusal is reported and when to ask GitHub again, nothing replicas must agree
on.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal, TypeVar

import structlog

from triage.errors import (
    GitHubThrottledError,
    GitHubUnavailableError,
    SinkRejectedError,
    SinkUnavailableError,
    SinkUnreachableError,
)
from triage.sinks.github.api import GitHubApi, record

_V = TypeVar("_V")

log = structlog.get_logger(__name__)

#: The statuses of a refusal that is about our access to a repository, not about the ticket.
REPOSITORY_REFUSED = frozenset({403, 404, 410, 451})
#: What an operator does about each of them, said in the error and the warning.
ACCESS_HINT = {
    404: "give the GitHub App (or GITHUB_TOKEN) access to the repository, or fix the route",
    410: "turn the repository's issues on, or route to another repository",
    403: "give the GitHub App (or GITHUB_TOKEN) write access to the repository's issues",
    451: "GitHub blocks the repository for legal reasons: route its incidents elsewhere",
}
#: What to grant when a create is refused, for `triage check`: the 403 names the permission.
_WRITE_HINT = {
    **ACCESS_HINT,
    403: (
        "give the token Issues: Read and write on it (a fine-grained token), or the GitHub "
        "App issues: write"
    ),
    404: (
        "GitHub hides a private repository from credentials without access to it: "
        + ACCESS_HINT[404]
    ),
}

#: Errors of `api.py` that are GitHub refusing our credentials themselves, not a repository:
#: what the probe's line calls them.
_CREDENTIALS_REFUSED = {
    "unauthorized": "401",
    "suspended": "suspended",
    "no_token": "no installation token",
}
#: How GitHub says a create lacks its title: a validation error naming the field (as `api.py`
#: tells it: `resource field code`), or its schema's sentence ("title" wasn't supplied).
_TITLE_MISSING = re.compile(
    r"\btitle\b\W{0,3}(?:missing|wasn.t supplied|is missing|required)", re.I
)


@dataclass(frozen=True, slots=True)
class WriteProbe:
    """What the untitled create (`RepositoryAccess.probe_issue_write`) says about our
    credentials opening issues in `repository`: `verdict` as the module docstring reads it,
    and `said`, the line that tells it."""

    repository: str
    verdict: Literal["not_refused", "refused", "unknown"]
    said: str


#: Repositories remembered as out of reach (and as reached), at most; the oldest go first.
UNREACHABLE_KEPT = 64
#: How recently another repository must have taken an issue for a refusal to be one
#: repository's alone, when there is no GITHUB_REPOSITORY to read instead.
REACHED_S = 3600.0
#: How long a refused write (403) is believed once the repository reads again.
UNREACHABLE_RECHECK_S = 300.0


class RepositoryAccess:
    """Which repositories refused us lately and which took an issue, for one sink's process."""

    def __init__(
        self, api: GitHubApi, default_repository: str | None, clock: Callable[[], float]
    ) -> None:
        self._api = api
        self._default = default_repository
        self._clock = clock
        #: Lower case → (as the route names it, GitHub's status, when), the newest last.
        self._unreachable: dict[str, tuple[str, int, float]] = {}
        #: Lower case → when an issue was last opened there, the newest last.
        self._reached: dict[str, float] = {}
        #: Lower case → the status of the refusal last said of it at warning, the newest last.
        self._said: dict[str, int] = {}

    async def read_issues(self, repository: str) -> None:
        """Read one of `repository`'s issues (any state): raises as GitHub refuses us."""
        await self._api.call(
            "GET", f"/repos/{repository}/issues", params={"per_page": 1, "state": "all"}
        )

    async def readable(self, repository: str) -> bool:
        """Whether our credentials still read `repository`'s issues: a 404 for an issue is
        its deletion only if they do (else it is the whole repository that answers 404)."""
        try:
            await self.read_issues(repository)
        except SinkRejectedError as exc:
            if exc.status not in REPOSITORY_REFUSED:
                raise
            return False
        return True

    async def same_repository(self, one: str, other: str) -> bool:
        """Whether `one` and `other` name one repository: the same name (any case), or, as
        GitHub answers `GET /repos/{r}` for each (following the redirect a renamed or
        transferred repository's old name answers), the same `id`, which a rename and a
        transfer keep and a repository created again under an old name does not (a stand-in
        that answers no id: the same `full_name`). One whose read is refused is not the
        other. Asked only where a refusal's meaning depends on it (a rare 403)."""
        if one.lower() == other.lower():
            return True
        first, second = await self._identity(one), await self._identity(other)
        return first is not None and first == second

    async def _identity(self, repository: str) -> int | str | None:
        """`repository`'s `id` as GitHub answers it now, else its lower-case `full_name`;
        None when GitHub refuses the read or answers neither."""
        try:
            shown = record(await self._api.call("GET", f"/repos/{repository}"), "a repository")
        except SinkRejectedError:
            return None
        found = shown.get("id")
        if isinstance(found, int) and not isinstance(found, bool):
            return found
        name = shown.get("full_name")
        return name.lower() if isinstance(name, str) and name else None

    async def probe_issue_write(self, repository: str) -> WriteProbe:
        """Whether GitHub refuses our credentials to open issues in `repository`: archived
        (read-only, as `GET /repos/{r}` says; a create would be refused with every other),
        or asked with a create GitHub cannot carry out (no title) and read as the module
        docstring says. The read's own refusal is said as GitHub's answer to the read, with
        what to do: GitHub hides a private repository from a token without access to it with
        404 to both."""
        try:
            shown = record(await self._api.call("GET", f"/repos/{repository}"), "a repository")
        except SinkRejectedError as exc:
            if exc.status is not None and exc.status in _WRITE_HINT:
                return WriteProbe(repository, "refused", refusal_said(exc))
            return _unknown(repository, str(exc))
        except (GitHubThrottledError, GitHubUnavailableError) as exc:
            return _not_answered(repository, exc)
        if shown.get("archived") is True:
            return WriteProbe(
                repository,
                "refused",
                f"{repository} archived (read-only): GitHub refuses every issue there; "
                "unarchive it or route its incidents elsewhere",
            )
        lacking = _scopes_lacking(self._api.classic_scopes, shown.get("private"))
        if lacking is not None:
            return WriteProbe(repository, "refused", f"{repository}: {lacking}")
        try:
            made = await self._api.call("POST", f"/repos/{repository}/issues", json={"body": ""})
        except SinkRejectedError as exc:
            return _read_refusal(repository, exc)
        except (GitHubThrottledError, GitHubUnavailableError) as exc:
            return _not_answered(repository, exc)
        number = made.get("number") if isinstance(made, dict) else None
        log.warning("github.untitled_create_taken", repository=repository, issue=number)
        shown_number = f"#{number}" if isinstance(number, int) else "an issue"
        return _unknown(
            repository,
            f"the untitled test create was taken ({shown_number} made, which GitHub never "
            "does): close it, and check that GITHUB_API_URL is GitHub's",
        )

    def opened_in(self, repository: str) -> None:
        """An issue was opened (or found) in `repository`: it reaches us, and is evidence that
        our credentials work when another repository refuses them."""
        key = repository.lower()
        self._unreachable.pop(key, None)
        self._said.pop(key, None)
        _remember_newest(self._reached, key, self._clock())

    async def refused_open(self, repository: str, exc: SinkRejectedError) -> Exception:
        """The error to raise for GitHub's refusal `exc` to open an issue in `repository`:
        SinkUnreachableError when only this repository refuses us, GitHubUnavailableError
        `no_access` when our credentials reach nothing, `exc` itself when the refusal is
        about the ticket rather than the repository."""
        if exc.status in REPOSITORY_REFUSED and await self._others_reach(repository):
            return SinkUnreachableError(
                f"GitHub refuses triage the issues of {repository} ({exc.status}: "
                f"{exc.detail}) while other repositories read: "
                f"{ACCESS_HINT[exc.status]}; messages routed there are retried, then "
                "dead-lettered (redrive them once fixed)"
            )
        return self._no_access(repository, exc) or exc

    async def recheck(self) -> None:
        """Ask again about each repository that refused us: one that reads now is forgotten,
        unless what it refused was a write (403), which a read cannot show is allowed again:
        that one is believed for UNREACHABLE_RECHECK_S, after which the next open tries.
        Raises GitHubUnavailableError (or GitHub's refusal) while one still refuses us."""
        for key, (repository, status, since) in list(self._unreachable.items()):
            try:
                await self.read_issues(repository)
            except SinkRejectedError as exc:
                raise self._read_refused(repository, exc) or exc from None
            self._said.pop(key, None)
            if status == 403 and self._clock() - since < UNREACHABLE_RECHECK_S:
                raise GitHubUnavailableError(
                    f"GitHub refused triage's writes to {repository} (403) less than "
                    f"{UNREACHABLE_RECHECK_S / 60:.0f} min ago: {ACCESS_HINT[403]}",
                    reason="no_access",
                )
            self._unreachable.pop(key, None)

    async def read_default(self, repository: str) -> str | None:
        """Read GITHUB_REPOSITORY's issues for the sink's probe. A refusal about our access
        (REPOSITORY_REFUSED) is said as `triage check` says it, the refusal and what to do
        (`refusal_said`), once at warning (`github.repository_refused`) until it reads again;
        then, when another repository took an issue lately, it is GITHUB_REPOSITORY's alone
        and the probe answers (the other routes' issues go on; its own messages are refused
        as a route's mistake is), else our credentials reach nothing: GitHubUnavailableError
        `no_access` with that line, which keeps the breaker open. Returns that line when the
        probe answers despite it, else None (the issues read)."""
        try:
            await self.read_issues(repository)
        except SinkRejectedError as exc:
            if exc.status not in REPOSITORY_REFUSED:
                raise
            if not await self._others_reach(repository):
                raise self._read_refused(repository, exc) or exc from None
            line = refusal_said(exc)
            self._say_refused(repository, exc.status, line, "others_go_on")
            return line
        self._said.pop(repository.lower(), None)
        return None

    def _read_refused(
        self, repository: str, exc: SinkRejectedError
    ) -> GitHubUnavailableError | None:
        """The wait for a read of `repository`'s issues that our credentials were refused
        (REPOSITORY_REFUSED), said as `triage check` says it and remembered for `recheck`;
        None for any other refusal."""
        if exc.status not in REPOSITORY_REFUSED:
            return None
        line = refusal_said(exc)
        self._say_refused(repository, exc.status, line, "wait")
        _remember_newest(
            self._unreachable, repository.lower(), (repository, exc.status, self._clock())
        )
        return GitHubUnavailableError(line, reason="no_access")

    def _say_refused(self, repository: str, status: int, line: str, action: str) -> None:
        """One warning for `repository`'s refusal with `status`, unless this
        refusal was said already (by this line, or by the error of an open it refused: the
        breaker's line quotes that): the probe asks every reset time, and the breaker's own
        lines say each probe's failure at info."""
        key = repository.lower()
        if self._said.get(key) == status:
            return
        _remember_newest(self._said, key, status)
        log.warning(
            "github.repository_refused",
            repository=repository,
            status=status,
            error=line,
            action=action,
        )

    async def _others_reach(self, repository: str) -> bool:
        """Whether the refusal is `repository`'s alone (a route naming a repository our
        credentials do not reach) rather than our credentials' (the App's repositories
        changed, the token lost its scope): GITHUB_REPOSITORY, when it is another repository
        (not this one under its old name), still reads; without one, another repository took
        an issue in the last REACHED_S. A
        route's mistake then costs only its own messages, not every route's tickets behind
        an open breaker."""
        if self._default and not await self.same_repository(self._default, repository):
            try:
                await self.read_issues(self._default)
            except (SinkRejectedError, SinkUnavailableError):
                return False
            return True
        now = self._clock()
        recent = [
            key
            for key, at in self._reached.items()
            if key != repository.lower() and now - at < REACHED_S
        ]
        if not recent:
            return False
        # One repository under two names (renamed since an issue was opened under the old
        # one) is no other repository.
        mine = await self._identity(repository)
        for key in recent:
            if mine is None or await self._identity(key) != mine:
                return True
        return False

    def _no_access(self, repository: str, exc: SinkRejectedError) -> GitHubUnavailableError | None:
        """The wait for a refusal that says our credentials do not reach `repository`'s issues
        (REPOSITORY_REFUSED), remembered for `recheck`; None for a refusal of this ticket.
        Setup, not the message: every incident routed there would be refused in turn, each
        to the DLQ with its issue lost, so they wait behind the breaker until someone grants
        access or fixes the route."""
        if exc.status not in REPOSITORY_REFUSED:
            return None
        _remember_newest(
            self._unreachable, repository.lower(), (repository, exc.status, self._clock())
        )
        # The breaker's line (or the message's) says this error: the probe need not again.
        _remember_newest(self._said, repository.lower(), exc.status)
        return GitHubUnavailableError(
            f"GitHub refuses triage the issues of {repository} ({exc.status}: {exc.detail}): "
            f"{ACCESS_HINT[exc.status]}; messages routed there wait",
            reason="no_access",
        )


def refusal_said(exc: SinkRejectedError) -> str:
    """GitHub's refusal `exc` of a read of a repository (or its issues), with what to do when
    it is about our access (404, 410, 451, 403 with no limit: `_WRITE_HINT`), for `triage
    check`'s line; else as it is."""
    if exc.status is not None and exc.status in _WRITE_HINT:
        return f"{exc}: {_WRITE_HINT[exc.status]}"
    return str(exc)


def _remember_newest(memory: dict[str, _V], key: str, value: _V) -> None:
    """Put `key` last in `memory` (dicts keep insertion order) and drop the oldest past
    UNREACHABLE_KEPT."""
    memory.pop(key, None)
    memory[key] = value
    while len(memory) > UNREACHABLE_KEPT:
        del memory[next(iter(memory))]


def _read_refusal(repository: str, exc: SinkRejectedError) -> WriteProbe:
    """The probe's verdict on GitHub's refusal of the untitled create."""
    if exc.status is not None and exc.status in _WRITE_HINT:
        return _refused(repository, exc.status, exc.detail)
    if exc.status == 422 and _names_missing_title(exc.detail):
        return WriteProbe(
            repository,
            "not_refused",
            f"{repository}: the untitled test create was refused for its title alone (422)",
        )
    return _unknown(repository, str(exc))


def _not_answered(
    repository: str, exc: GitHubThrottledError | GitHubUnavailableError
) -> WriteProbe:
    """The probe's verdict when GitHub did not answer the question: refused when it refused
    our credentials themselves (401, a suspended installation, no App token), else not known
    (a rate limit, an outage), said with when to ask again."""
    if isinstance(exc, GitHubThrottledError):
        return _unknown(repository, f"{exc}; run the check again then")
    if exc.reason in _CREDENTIALS_REFUSED:
        return WriteProbe(
            repository,
            "refused",
            f"{repository}: the test create there was refused: {exc} "
            f"({_CREDENTIALS_REFUSED[exc.reason]})",
        )
    return _unknown(repository, str(exc))


def _scopes_lacking(scopes: frozenset[str] | None, private: object) -> str | None:
    """What a classic token's `scopes` lack to open issues in a repository (`private` as
    `GET /repos/{r}` answered it), said with the scope to add; None when they may, or are
    not known (a fine-grained token's or an App's permissions are in no header). GitHub
    gives a classic token without `repo`, or `public_repo` for a public repository, reads
    of public data only: proven by the read alone, whatever a create would answer."""
    if scopes is None or "repo" in scopes:
        return None
    if "public_repo" in scopes and private is not True:
        return None
    named = ", ".join(sorted(scopes)) or "none"
    if "public_repo" in scopes:
        lack = "hold public_repo, not repo, which a private repository's issues need"
    else:
        lack = "hold neither repo nor public_repo, which issues need"
    return (
        f"GitHub refuses triage's classic token every new issue there: its scopes "
        f"(X-OAuth-Scopes: {named}) {lack}: give the token the repo scope (public_repo "
        "serves public repositories only), or use a fine-grained token with Issues: Read "
        "and write"
    )


def _names_missing_title(detail: str) -> bool:
    """Whether a 422's told reason (`api._reason`) names the title missing, as GitHub answers
    a create without one."""
    return _TITLE_MISSING.search(detail) is not None


def _refused(repository: str, status: int, detail: str) -> WriteProbe:
    """A refusal of our access (REPOSITORY_REFUSED): said of the credentials, or of the
    repository where it is the repository that takes no issues (410, 451)."""
    if status in (410, 451):
        refusal = "GitHub takes no issues there"
    else:
        refusal = "GitHub refuses triage's credentials to open issues there"
    return WriteProbe(
        repository,
        "refused",
        f"{repository}: {refusal} ({status}: {detail}): {_WRITE_HINT[status]}",
    )


def _unknown(repository: str, why: str) -> WriteProbe:
    return WriteProbe(
        repository,
        "unknown",
        f"{repository}: whether GitHub lets triage open issues there is not known: {why}",
    )
