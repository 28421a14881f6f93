"""How many issues triage may open in a repository, and where the new incidents beyond that go.

Issue creation per repository is limited by two budgets (`TRIAGE_GITHUB_CREATE_PER_MINUTE`,
`…_PER_HOUR`) kept in the store, so every replica draws on the same ones (one conditional write
per token). Past the minute budget the caller gets GitHubThrottledError with the time until a
token is free (jittered, so waiting messages come back spread out); the supervisor holds the
message meanwhile instead of spending a receive.

Past the hourly budget, with `TRIAGE_GITHUB_STORM_DIGEST` on, the incident becomes one comment
in the repository's open digest issue (created once, with the hour's last token, which is kept
for it; labelled `triage-digest`, or `triage` alone where that label may not be created, and
found again either way: `MarkerLookup.find_digest`); the reference is that comment's URL (`…/issues/7#issuecomment-99`, rebuilt from the
digest issue and the comment's id: `refs.comment_url`), and its later effects rewrite the
comment's status line in place (firing, occurrences, resolved, fired again): an edit, so no
notification. Two replicas that find no digest at once both ask for the kept token: the one
refused looks for the other's digest for a few seconds (DIGEST_ADOPT_S) and lists its incident
there, instead of being throttled for the rest of the hour.
"""

from __future__ import annotations

import asyncio
import random
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import structlog

import triage.sinks.github.text as text
from triage.errors import (
    GitHubThrottledError,
    GitHubUnavailableError,
    SinkRejectedError,
    SinkThrottledError,
)
from triage.ratelimit import Budget, Budgets
from triage.settings import Settings
from triage.sinks.base import Effect
from triage.sinks.github.api import GitHubApi, count_field, record
from triage.sinks.github.lookup import MarkerLookup, takes_comments
from triage.sinks.github.refs import GONE, IssueRef, WebOrigin, comment_url, issue_number, moved_to

if TYPE_CHECKING:
    from triage.routes import Router

log = structlog.get_logger(__name__)

#: How long a replica refused the hour's kept token looks for the digest another replica is
#: opening with it (its create is one GitHub call), and how often.
DIGEST_ADOPT_S = 5.0
DIGEST_ADOPT_POLL_S = 0.25


def create_budgets(settings: Settings, repository: str) -> tuple[Budget, Budget]:
    """The issue-creation budgets of `repository` (per minute, per hour), shared by replicas.
    Named by the repository in lower case, as GitHub names it whatever its capitals: a route
    writing `Acme/Ops` where GITHUB_REPOSITORY says `acme/ops` draws on the same budgets, not
    on a second pair that would let twice the issues an hour into the one repository."""
    key = repository.lower()
    return (
        Budget(f"github:create:{key}:minute", settings.github_create_per_minute, 60.0),
        Budget(f"github:create:{key}:hour", settings.github_create_per_hour, 3600.0),
    )


def issue_repositories(settings: Settings, router: Router | None) -> list[str]:
    """Every repository issues may be opened in, each once whatever its capitals (one budget
    each, `create_budgets`): GITHUB_REPOSITORY, then each GitHub route's own (GITHUB_REPOSITORY
    alone without a router: a routes file that cannot be read)."""
    named = [settings.github_repository]
    if router is not None:
        routes = [router.default, *(rule.route for rule in router.rules)]
        named += [route.target("github").repository for route in routes if "github" in route.sinks]
    kept: dict[str, str] = {}
    for repository in named:
        if repository:
            kept.setdefault(repository.lower(), repository)
    return list(kept.values())


class StormDigest:
    """The creation budgets of every repository, and each one's open digest issue."""

    def __init__(
        self,
        settings: Settings,
        api: GitHubApi,
        lookup: MarkerLookup,
        budgets: Budgets,
        wall_clock: Callable[[], float],
    ) -> None:
        self._settings = settings
        self._api = api
        self._lookup = lookup
        self._budgets = budgets
        self._wall_clock = wall_clock
        self._origin = WebOrigin.of(settings.github_api_url, settings.github_web_url)
        self._locks: dict[str, asyncio.Lock] = {}
        self._digests: dict[str, int] = {}  # repository → open digest issue number
        #: Repositories (lower case) whose digest GitHub refused its label, said once each.
        self._unlabelled_digests: set[str] = set()

    async def admit_issue(self, repository: str) -> bool:
        """True to create an issue now; False to list the incident in the digest instead;
        GitHubThrottledError with the wait when no creation token is free yet."""
        _, hour = create_budgets(self._settings, repository)
        digest = self._settings.github_storm_digest
        keep = 1 if digest else 0  # the hour's last token is kept for the digest issue
        if digest and await self._budgets.budget_tokens(hour, self._wall_clock()) < 1 + keep:
            return False
        await self._take_create_tokens(repository, keep=keep)
        return True

    async def give_back_issue(self, repository: str) -> None:
        """The creation tokens `admit_issue` took, given back: GitHub refused the create, so
        no issue was made (its content-creation limit, a validation error), and the attempt
        must not count against the budgets (refused retries would spend the hour's, and the
        next incidents go to the digest with no issue opened)."""
        minute, hour = create_budgets(self._settings, repository)
        now = self._wall_clock()
        await self._budgets.give_back_token(minute, now)
        await self._budgets.give_back_token(hour, now)

    async def add(self, repository: str, effect: Effect) -> str:
        """List the incident in the repository's digest issue; returns the entry's URL."""
        digest = await self._open_digest(repository)
        ref = IssueRef(repository, issue_number(digest))
        marker = text.digest_entry_marker(effect.fingerprint)
        total = count_field(digest, "comments")
        for comment in await self._lookup.recent_comments(repository, ref.number, total):
            if await self._lookup.marked_by_us(comment, marker):
                return comment_url(comment, ref, self._origin)
        path = f"/repos/{repository}/issues/{ref.number}/comments"
        try:
            entry = await self._api.call("POST", path, json={"body": text.digest_entry(effect)})
        except SinkRejectedError as exc:
            if exc.status not in (403, 422) or "commenting is disabled" not in exc.detail.lower():
                raise
            # Full (GitHub's cap on comments) though its count, as read, was not yet: the
            # retry reads it full and lists the incident in another digest.
            self._digests.pop(repository, None)
            raise GitHubUnavailableError(
                f"the storm digest {repository}#{ref.number} is at GitHub's cap on comments; "
                "the retry lists the incident in another",
                reason="unavailable",
            ) from None
        log.info("github.digested", repository=repository, digest=ref.number)
        return comment_url(record(entry, "the comment"), ref, self._origin)

    async def update_entry(self, ref: IssueRef, effect: Effect) -> None:
        """Rewrite a digest entry's status line: editing is idempotent and notifies no one."""
        path = f"/repos/{ref.repository}/issues/comments/{ref.comment_id}"
        await self._api.call("PATCH", path, json={"body": text.digest_entry(effect)})

    async def _take_create_tokens(self, repository: str, *, keep: int) -> None:
        """One token from each budget, or GitHubThrottledError with the wait."""
        minute, hour = create_budgets(self._settings, repository)
        await self._take(minute, repository, "minute")
        try:
            await self._take(hour, repository, "hour", keep=keep)
        except SinkThrottledError:
            await self._budgets.give_back_token(minute, self._wall_clock())  # no create now
            raise

    async def _take(self, budget: Budget, repository: str, period: str, keep: int = 0) -> None:
        wait_s = await self._budgets.take_token(budget, self._wall_clock(), keep=keep)
        if wait_s > 0:
            # Jittered, so the messages refused together do not all come back at one instant.
            wait_s *= random.uniform(1.0, 1.25)
            log.info("github.throttled", repository=repository, budget=period, retry_after_s=wait_s)
            raise GitHubThrottledError(
                f"GitHub issue budget per {period} for {repository} spent; "
                f"a token is free in {wait_s:.0f} s",
                reason="throttled",
                retry_after_s=wait_s,
            )

    async def _open_digest(self, repository: str) -> dict[str, Any]:
        """The repository's open digest issue, created (once, under a lock) if there is none."""
        lock = self._locks.setdefault(repository, asyncio.Lock())
        async with lock:
            known = self._digests.pop(repository, None)
            if known is not None:
                issue = await self._known_digest(IssueRef(repository, known))
                if issue is not None:
                    self._digests[repository] = known
                    return issue
            issue = await self._lookup.find_digest(repository)
            if issue is None:
                issue = await self._create_or_adopt_digest(repository)
            self._digests[repository] = issue_number(issue)
            return issue

    async def _create_or_adopt_digest(self, repository: str) -> dict[str, Any]:
        """Create the digest with the hour's kept token; when that token is refused, another
        replica (the lock above is per process) most likely took it a moment ago to create
        the digest itself: look for that one for DIGEST_ADOPT_S before giving up, so the
        incident becomes its entry instead of waiting out the hour."""
        try:
            await self._take_create_tokens(repository, keep=0)  # the hour's kept token
        except GitHubThrottledError:
            _, hour = create_budgets(self._settings, repository)
            if await self._budgets.budget_tokens(hour, self._wall_clock()) >= 1:
                raise  # the minute budget refused: the kept token is there, no digest coming
            found = await self._await_other_digest(repository)
            if found is None:
                raise
            log.info("github.digest_adopted", repository=repository, issue=issue_number(found))
            return found
        try:
            issue = await self._create_digest(repository)
        except (GitHubThrottledError, SinkRejectedError) as exc:
            if not_created(exc):
                # Refused before it was made (a secondary limit, a 4xx): the kept token is
                # the storm's one digest, which its retry opens once the limit has passed.
                await self.give_back_issue(repository)
            raise
        log.warning("github.digest_opened", repository=repository, issue=issue_number(issue))
        return issue

    async def _await_other_digest(self, repository: str) -> dict[str, Any] | None:
        """The digest another replica is opening, looked for every DIGEST_ADOPT_POLL_S until
        DIGEST_ADOPT_S have passed; None when none shows (the kept token went on a digest
        since closed)."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + DIGEST_ADOPT_S
        while True:
            found = await self._lookup.find_digest(repository)
            if found is not None or loop.time() >= deadline:
                return found
            await asyncio.sleep(min(DIGEST_ADOPT_POLL_S, max(0.0, deadline - loop.time())))

    async def _create_digest(self, repository: str) -> dict[str, Any]:
        """POST the digest issue, labelled `triage` and `triage-digest`. A repository that
        lacks `triage-digest`, with a token that may not create labels (403 "You do not have
        permission to create labels", or a 422 about the label), gets it with `triage` alone
        (where `MarkerLookup.find_digest` looks too), and one warning per repository names the
        label to create: a label is not worth a storm's incidents waiting, then dead-lettered,
        as a refused repository."""
        path = f"/repos/{repository}/issues"
        request = {"title": text.digest_title(), "body": text.digest_body()}
        try:
            try:
                labels = [text.TRIAGE_LABEL, text.DIGEST_LABEL]
                created = await self._api.call("POST", path, json={**request, "labels": labels})
            except SinkRejectedError as exc:
                if exc.status not in (403, 422) or "label" not in exc.detail.lower():
                    raise
                self._say_label_missing(repository, exc)
                labels = [text.TRIAGE_LABEL]
                created = await self._api.call("POST", path, json={**request, "labels": labels})
            issue = record(created, "the digest issue")
        except GitHubUnavailableError:
            # Made or not, labelled or not: the next look-up reads the issues triage created.
            self._lookup.forget_labels(repository)
            raise
        self._lookup.note_created(repository, issue)
        return issue

    def _say_label_missing(self, repository: str, exc: SinkRejectedError) -> None:
        """One warning per repository (per process) that its digest goes without its label."""
        key = repository.lower()
        if key in self._unlabelled_digests:
            return
        self._unlabelled_digests.add(key)
        log.warning(
            "github.digest_label_missing",
            repository=repository,
            label=text.DIGEST_LABEL,
            status=exc.status,
            reason=exc.detail,
            action="create_with_triage_label",
            hint=(
                f"create the label {text.DIGEST_LABEL!r} in {repository} (or let the token "
                "create labels): the digest issue is opened with 'triage' alone meanwhile"
            ),
        )

    async def _known_digest(self, ref: IssueRef) -> dict[str, Any] | None:
        """The digest issue used last, if it still takes entries: open, not locked, below
        GitHub's cap on comments (`takes_comments`), and still this repository's issue
        `ref.number`. One a person deleted, locked or transferred away (its number would then
        name another issue here), or one a big storm filled, is forgotten, and another found
        or opened, instead of every new incident of the storm failing on it."""
        try:
            answer = await self._api.call("GET", f"/repos/{ref.repository}/issues/{ref.number}")
        except SinkRejectedError as exc:
            if exc.status not in GONE:
                raise
            return None
        issue = record(answer, "the issue")
        if issue.get("state") != "open" or not takes_comments(issue):
            return None
        return issue if moved_to(ref, issue) is None else None


def not_created(exc: GitHubThrottledError | SinkRejectedError) -> bool:
    """Whether GitHub's refusal of a create says no issue was made: a 4xx refusal, a rate
    limit (secondary or primary, GitHub refuses before it creates), or a call held unsent
    while one is in force; not a 5xx with Retry-After (`unavailable`), which may come after
    the issue was made, nor our own budget's wait (`throttled`: no call was made, and no
    token taken)."""
    return isinstance(exc, SinkRejectedError) or exc.reason in ("rate_limited", "paused")
