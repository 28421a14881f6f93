"""Whether triage's credentials reach a repository's issues, and what a refusal means.

When GitHub refuses to open an issue in a repository with 404 (the repository is hidden from our
token, or missing), 410 (its issues are turned off) or 403 without a rate limit or an archive
(we may read but not write), the refusal is about our access, not about the ticket. Retrying the
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

Reading a repository's issues (or the user's role there, `permissions` in `GET /repos/{r}`)
does not show that our credentials may open them: a fine-grained token with Issues read-only,
or an App without `issues: write`, reads them all and is refused every create (403 "Resource
not accessible by …"). GitHub has no call that says what a token may do, but it checks the
credentials' permission before the request's fields, so `issue_write_refusal` asks with a
create that has no title: a 422 (the title missing) says they may, a 403 that they may not,
and no issue can come of it (GitHub's `title` is required). `triage check` asks it once per
repository.

A refused write (403) is believed for UNREACHABLE_RECHECK_S even when the repository reads
again: a read cannot show that writes are allowed again. After that the next open tries one.

Everything here is this process's memory, bounded to UNREACHABLE_KEPT repositories each way: it
only decides how a refusal is reported and when to ask GitHub again, nothing replicas must agree
on.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

import structlog

from triage.errors import (
    GitHubUnavailableError,
    SinkRejectedError,
    SinkUnavailableError,
    SinkUnreachableError,
)
from triage.sinks.github.api import GitHubApi

_V = TypeVar("_V")

log = structlog.get_logger(__name__)

#: The statuses of a refusal that is about our access to a repository, not about the ticket.
REPOSITORY_REFUSED = frozenset({403, 404, 410})
#: What an operator does about each of them, said in the error and the warning.
ACCESS_HINT = {
    404: "give the GitHub App (or GITHUB_TOKEN) access to the repository, or fix the route",
    410: "turn the repository's issues on, or route to another repository",
    403: "give the GitHub App (or GITHUB_TOKEN) write access to the repository's issues",
}
#: What to grant when a create is refused, for `triage check`: the 403 names the permission.
_WRITE_HINT = {
    **ACCESS_HINT,
    403: (
        "give the token Issues: Read and write on it (a fine-grained token), or the GitHub "
        "App issues: write"
    ),
}
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

    async def issue_write_refusal(self, repository: str) -> str | None:
        """Why GitHub refuses our credentials to open issues in `repository`, or None when
        it would take one, asked with a create GitHub cannot carry out (no title: the module
        docstring). Other errors (a limit, an outage) are raised."""
        try:
            await self._api.call("POST", f"/repos/{repository}/issues", json={"body": ""})
        except SinkRejectedError as exc:
            if exc.status not in REPOSITORY_REFUSED:
                return None  # the title missing (422): the credentials may open issues
            return (
                f"{repository}: GitHub refuses triage's credentials to open issues there "
                f"({exc.status}: {exc.detail}): {_WRITE_HINT[exc.status]}"
            )
        # Taken without a title: not GitHub's answer (a stand-in's); nothing to say.
        log.warning("github.untitled_create_taken", repository=repository)
        return None

    def opened_in(self, repository: str) -> None:
        """An issue was opened (or found) in `repository`: it reaches us, and is evidence that
        our credentials work when another repository refuses them."""
        key = repository.lower()
        self._unreachable.pop(key, None)
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
                raise self._no_access(repository, exc) or exc from None
            if status == 403 and self._clock() - since < UNREACHABLE_RECHECK_S:
                raise GitHubUnavailableError(
                    f"GitHub refused triage's writes to {repository} (403) less than "
                    f"{UNREACHABLE_RECHECK_S / 60:.0f} min ago: {ACCESS_HINT[403]}",
                    reason="no_access",
                )
            self._unreachable.pop(key, None)

    async def _others_reach(self, repository: str) -> bool:
        """Whether the refusal is `repository`'s alone (a route naming a repository our
        credentials do not reach) rather than our credentials' (the App's repositories
        changed, the token lost its scope): GITHUB_REPOSITORY, when it is another, still
        reads; without one, another repository took an issue in the last REACHED_S. A
        route's mistake then costs only its own messages, not every route's tickets behind
        an open breaker."""
        if self._default and self._default.lower() != repository.lower():
            try:
                await self.read_issues(self._default)
            except (SinkRejectedError, SinkUnavailableError):
                return False
            return True
        now = self._clock()
        return any(
            key != repository.lower() and now - at < REACHED_S for key, at in self._reached.items()
        )

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
        return GitHubUnavailableError(
            f"GitHub refuses triage the issues of {repository} ({exc.status}: {exc.detail}): "
            f"{ACCESS_HINT[exc.status]}; messages routed there wait",
            reason="no_access",
        )


def _remember_newest(memory: dict[str, _V], key: str, value: _V) -> None:
    """Put `key` last in `memory` (dicts keep insertion order) and drop the oldest past
    UNREACHABLE_KEPT."""
    memory.pop(key, None)
    memory[key] = value
    while len(memory) > UNREACHABLE_KEPT:
        del memory[next(iter(memory))]
