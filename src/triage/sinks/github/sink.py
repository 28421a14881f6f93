"""The GitHub issues sink: one issue per incident, kept current by comments, closed and reopened.

Effects and the calls they make (`{repo}` is the route's repository, else `GITHUB_REPOSITORY`):

    OPEN    list open `triage` issues, newest first, for the fingerprint marker in one triage
            opened (past 1,000 of them, the search API for older ones; unless this process
            saw GitHub keep a new issue's labels in the repository lately, and nothing since
            said they may be dropped, the issues triage created instead: `lookup.py`); found → its URL (a crash between create and
            store never duplicates); else create `[P1] title` with labels
            team/priority/source/`triage` + the route's (100 at most, GitHub's limit) and
            assignees (10 at most); an assignee or a label
            GitHub refuses (422; a label it may not create, 403) is left out and the issue
            created again (`triage` kept), and a missing label the steps single out is left
            out of the repository's next issues for a while (`missing_labels.py`);
            an issue GitHub created without its labels (a token without push access) is said
            once per repository (`github.labels_dropped`), and from then on the look-up lists
            the issues triage created there (`creator=`) instead of the `triage` ones; one
            that duplicates an older unlabelled issue of the incident (another replica's,
            missed by the `triage` list) is closed in its favour (`github.duplicate_closed`)
    UPDATE  read the issue; one comment counting the occurrences since the last update
    CLOSE   read the issue; a comment, then close it (state_reason completed); a flapping
            incident's close also takes `flapping` off (its close ends the flapping)
    REOPEN  read the issue; a comment (first, while it is closed: one refused for GitHub's
            cap opens a new issue instead), reopen it, add `flapping` if it flaps (take it
            off if it no longer does)

The issue's later life (what people and GitHub do to it after triage opened it):

    deleted (410), or moved out of our sight (404)   UPDATE, CLOSE skipped; REOPEN opens a new
                                                     issue (found by its marker on a retry)
    its whole repository answers 404 (access lost)   UPDATE, CLOSE skipped, the ticket not
    or 410 (its issues turned off)                   marked gone (`github.repository_out_of_reach`);
                                                     REOPEN waits for the old issue (the route's
                                                     repository), or opens where the route now
                                                     names (a repository it names no more)
    not reopenable (422 to the reopen, a 403 saying  REOPEN opens a new issue, as above, that
    it is locked or cannot be reopened, or a 410:    names the old one (`owner/name#N`), where
    deleted between the comment and the reopen)
                                                     the re-fire's comment went; a retry finds
                                                     both, and posts and opens nothing again
    transferred, or its repository renamed (301)     the read is followed, the writes go where
                                                     it is now, and its new URL is handed back;
                                                     writes refused there (403) skip the effect,
                                                     the ticket gone, when it is another
                                                     repository (a transfer out of the route's)
    a write refused (403: no limit, archive or       our access, not the issue: the message
    lock) in the route's repository, under any       waits as a refused create does (`access.py`);
    name it had (renamed or moved to another         a repository is the route's by GitHub's
    owner: the same `id`)                            `id`, so one created again under the
                                                     route's name is another (its old issues
                                                     are gone: 404, as a deleted one's)
    its repository created again, another issue      read as gone (as a 404): UPDATE, CLOSE
    under its number (it names another incident,     skipped, REOPEN opens a new issue; that
    or another login opened it)                      issue is never written to
    locked (403 "... issue is locked.")              its comment is left out, the rest is done
    at GitHub's 2,500 comments (403 "Commenting      its comment is left out (an update is
    is disabled on issues with more than 2500        skipped), the rest is done: the issue's
    comments")                                       refusal, not our access (`text.COMMENTS_CAP`);
                                                     a re-fire of it, closed (its count read at
                                                     the cap, or its comment refused so), opens
                                                     a new issue that names it (`owner/name#N`),
                                                     the old one never reopened; our own comment
                                                     found there (a retry) is no refusal
    its repository blocked (451: legal reasons)      the effect is skipped, the ticket gone
    repository archived (403 "... archived ...")     the effect is skipped; a new incident's
                                                     issue is refused (its message fails); an
                                                     issue moved to an archived repository:
                                                     that one is remembered, and a re-fire
                                                     opens a new issue in the route's

Each is one warning (`github.issue_gone`, `.issue_locked`, `.issue_read_only`,
`.issue_blocked`), never a failure
of the message: no retry can change it, and the incident's other sinks and later alerts go on.
A lock and an archived repository are remembered (`refusals.py`) for a quarter of an hour: the
issue's later comments, and every write to the repository, are skipped without asking GitHub
(one `sink.skipped` info line each; an issue read as unlocked is asked at once), then asked
again, as either can be undone.

The reference is the issue's URL, rebuilt from the repository and number where issues are shown
(`GITHUB_WEB_URL`, else read from GITHUB_API_URL; behind a proxy GitHub's own well-formed URL)
(`refs.py`: an answer's `html_url` is trusted only as far as it must be); later effects
parse owner/repo/number from it. An issue a person closed (closed_by is not triage itself) is
neither commented on nor reopened within `TRIAGE_GITHUB_HAND_CLOSED_HOLD_S` of the close: the
effect is skipped with `github.hand_closed`.
Labels and assignees are only ever added, never replaced, so a person's stay; the one label
taken off is triage's own `flapping`, one at a time (DELETE …/labels/flapping).

A comment is never posted twice for one effect: each ends with a hidden
`<!-- triage:effect=<idempotency key> -->`, and the issue's most recent comments are checked for
it before posting (a retry after a lost answer finds its own comment). A comment GitHub refuses
as too long (422) is cut, its marker kept, and sent again, as an issue's body is (`_cut_harder`). A marker counts only on a
line of its own (`text.has_marker`: alert and model text never make one) and, in a comment, only
when triage wrote the comment (anyone who may comment can write a marker line).

Issue creation per repository is limited by two budgets kept in the store, shared by every
replica (`digest.py`): past the minute budget the message is held (GitHubThrottledError with
the wait), past the hourly one, with `TRIAGE_GITHUB_STORM_DIGEST` on, the incident becomes a
comment in the repository's storm digest issue, whose later effects edit that comment.

A new incident's repository that refuses us (404: hidden from our token or missing; 410:
issues turned off; 403 that is no rate limit and no archive: no permission) is setup, not the
message: `access.py` says whether it is one route's mistake (SinkUnreachableError, that route's
messages retried, then dead-lettered) or our credentials' (GitHubUnavailableError `no_access`:
the breaker opens and the probe keeps it open while the repository refuses us).

GitHub's answers become errors in `api.py` (5xx and network errors are transient, rate
limits hold the message, other 4xx are permanent). `paused_until()` tells the supervisor to
take no messages while GitHub's own rate limits refuse every call.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import Any, Literal
from urllib.parse import quote

import httpx2
import structlog

import triage.sinks.github.text as text
from triage.errors import (
    BackpressureError,
    GitHubThrottledError,
    GitHubUnavailableError,
    PermanentError,
    SinkRejectedError,
    SinkUnreachableError,
)
from triage.metrics import Metrics
from triage.models import EffectKind, Priority
from triage.ratelimit import Budgets, LocalBudgets
from triage.settings import Settings
from triage.sinks.aio import AiohttpTransport
from triage.sinks.base import Applied, Effect, NotSent, ProbeCantTell
from triage.sinks.github.access import ACCESS_HINT, RepositoryAccess, WriteProbe
from triage.sinks.github.api import (
    GitHubApi,
    count_field,
    is_login,
    label_named,
    record,
    text_or_empty,
)
from triage.sinks.github.digest import StormDigest, create_budgets, not_created
from triage.sinks.github.lookup import MarkerLookup
from triage.sinks.github.missing_labels import MissingLabels
from triage.sinks.github.refs import (
    GONE,
    IssueRef,
    WebOrigin,
    issue_key,
    issue_number,
    issue_url,
    moved_to,
    moved_url,
    valid_repository,
)
from triage.sinks.github.refusals import RECHECK_S, Refusals
from triage.sinks.github.sent import CountingTransport, tally_requests
from triage.tls import client_context

#: Also importable from here, where they were defined before `refs.py` and `digest.py`.
__all__ = ["TEAM_LABELS", "GitHubSink", "IssueRef", "create_budgets"]

log = structlog.get_logger(__name__)

Outcome = Literal["ok", "found", "skipped", "digested", "refused"]


def _failed_outcome(exc: Exception) -> str:
    """The `SinkCalls` outcome of an effect that `exc` ended: GitHub's errors (and a route's
    repository refusing us) by their reason, a refusal `rejected`, a wait (the store busy, a
    spent budget) `throttled`, and any other failure (the store's, a bug) `unavailable`: the
    message is tried again, as after GitHub's outage."""
    if isinstance(exc, GitHubUnavailableError | GitHubThrottledError | SinkUnreachableError):
        return exc.reason
    if isinstance(exc, PermanentError):
        return "rejected"
    if isinstance(exc, BackpressureError):
        return "throttled"
    return "unavailable"


class GitHubSink:
    """The `github` sink; one instance (one connection pool, one set of budgets) for all workers."""

    #: GitHub holds the tickets of the routes that name it, not of every route: while it is
    #: out (or rate-limits us, or our issue budget is spent) only those routes' messages are
    #: held; intake and the backend's tickets go on (`sinks/guard.py`).
    outage_pauses_intake = False

    def __init__(
        self,
        settings: Settings,
        *,
        metrics: Metrics | None = None,
        budgets: Budgets | None = None,
        transport: httpx2.AsyncBaseTransport | None = None,
        clock: Callable[[], float] = time.monotonic,
        wall_clock: Callable[[], float] = time.time,
    ) -> None:
        # Each request is counted for the effect that sends it (`sent.py`): only an effect
        # that reached GitHub is timed.
        counted = CountingTransport(transport or AiohttpTransport(client_context()))
        self._api = GitHubApi(settings, transport=counted, clock=clock, wall_clock=wall_clock)
        self.settings = settings
        self.metrics = metrics if metrics is not None else Metrics()
        self._clock = clock
        #: Where GitHub shows issues: every URL kept is rebuilt there, or behind a proxy kept
        #: where GitHub answered it (`refs.py`).
        self._origin = WebOrigin.of(settings.github_api_url, settings.github_web_url)
        #: The host issues are shown on, whose issues a body's links must not reference.
        self._web_host = (
            self._origin.host if settings.github_web_url else text.web_host(settings.github_api_url)
        )
        #: Issues whose comments GitHub refused as locked: (repository, number), lower case.
        self._locked = Refusals(clock)
        #: Issues at GitHub's cap on comments whose refusal was said: (repository, number).
        self._comments_full = Refusals(clock)
        #: Repositories GitHub refused a write to as archived (read-only), lower case.
        self._read_only = Refusals(clock)
        #: Labels repositories lack and GitHub refused to create lately (`missing_labels.py`).
        self._missing_labels = MissingLabels(clock)
        #: The teams this process has labelled issues with (`team:<name>`), at most TEAM_LABELS.
        self._team_labels: set[str] = set()
        #: Lower case old name → new name of repositories renamed under a route, learnt
        #: when a create was redirected (`_learn_new_name`), at most RENAMED_KEPT.
        self._renamed: dict[str, str] = {}
        #: Which repositories refused us lately, and which took an issue (`access.py`).
        self._access = RepositoryAccess(self._api, settings.github_repository, clock)
        #: Issues and comments found by their hidden markers (`lookup.py`).
        self._lookup = MarkerLookup(self._api, clock)
        #: The creation budgets, and the storm digest beyond them (`digest.py`): the store's
        #: budgets (shared by replicas); this process's own without a store.
        shared = budgets if budgets is not None else LocalBudgets()
        self._digest = StormDigest(settings, self._api, self._lookup, shared, wall_clock)

    @property
    def name(self) -> str:
        return "github"

    def paused_until(self) -> float | None:
        """A `clock()` deadline before which GitHub is known to refuse every call (a rate limit
        or Retry-After), else None; the supervisor takes no messages until then."""
        return self._api.paused_until()

    async def aclose(self) -> None:
        await self._api.aclose()

    async def probe(self) -> str:
        """Can we reach GitHub and read the default repository's issues, and those of every
        repository that refused us lately (`RepositoryAccess.recheck`)? Creates nothing; used
        by `triage check` and while this sink's breaker is open. Returns what it reached;
        raises GitHubUnavailableError while a repository still refuses us, said as `triage
        check` says it (`RepositoryAccess.read_default`). A probe that sent GitHub no request
        (no GITHUB_REPOSITORY, nothing to recheck, our login known) is `ProbeCantTell`: it
        proves nothing, and closing on it would re-open on the next issues' failures, each
        time spending their receives, so one real call is the breaker's probe instead."""
        with tally_requests() as sent:
            reached = await self._reach()
        if sent.requests == 0:
            return ProbeCantTell(f"{reached}; asked GitHub nothing, which proves nothing")
        return reached

    async def _reach(self) -> str:
        """What `probe` reached (see there)."""
        await self._access.recheck()
        repository = self.settings.github_repository
        if repository:
            refused = await self._access.read_default(repository)
            if refused is not None:
                return f"signed in as {await self._api.whoami()}; {refused}"
            return f"{repository} readable as {await self._api.whoami()}"
        return f"signed in as {await self._api.whoami()} (no GITHUB_REPOSITORY: routes name them)"

    async def probe_issue_write(self, repository: str) -> WriteProbe:
        """Whether GitHub refuses our credentials to open issues in `repository` (archived; a
        fine-grained token with Issues read-only reads them all), for `triage check`; a
        write's refusal says the same to the daemon. Creates nothing on GitHub
        (`RepositoryAccess.probe_issue_write`)."""
        return await self._access.probe_issue_write(repository)

    async def apply(self, effect: Effect) -> Applied:
        """Apply `effect`, counted under one `SinkCalls` outcome however it ends, and timed in
        `SinkLatency` when it sent GitHub a request (a skip or a pause's refusal is no call)."""
        started = time.perf_counter()
        with tally_requests() as sent:
            try:
                applied, outcome = await self._apply(effect)
            except Exception as exc:
                self.metrics.incr("SinkCalls", sink=self.name, outcome=_failed_outcome(exc))
                if isinstance(exc, GitHubUnavailableError) and exc.reason == "bad_response":
                    # The others are logged where they are raised.
                    log.debug("github.bad_response", effect=str(effect.kind), error=str(exc))
                raise
            finally:
                if sent.requests:
                    elapsed_ms = (time.perf_counter() - started) * 1000
                    self.metrics.observe("SinkLatency", elapsed_ms, sink=self.name)
        self.metrics.incr("SinkCalls", sink=self.name, outcome=outcome)
        return applied

    # --- Effects ----------------------------------------------------------------------------

    async def _apply(self, effect: Effect) -> tuple[Applied, Outcome]:
        if effect.kind is EffectKind.OPEN:
            return await self._open(effect)
        ref = IssueRef.parse(effect.ref) if effect.ref else None
        if ref is None:
            return self._skip(effect, "no issue reference", NotSent.NO_TICKET, ref=effect.ref)
        if effect.kind is EffectKind.REOPEN and await self._archived_elsewhere(ref, effect):
            # Its issue is in an archived repository the route does not put issues in (it was
            # moved there): the re-fire gets a new issue where the route puts them.
            log.warning(
                "github.issue_read_only",
                effect=str(effect.kind),
                repository=ref.repository,
                issue=ref.number,
                action="open_new",
            )
            return await self._open(effect)
        still_refused = self._still_refused(ref, effect)
        if still_refused is not None:
            return still_refused
        try:
            if ref.comment_id is not None:
                await self._digest.update_entry(ref, effect)
                return Applied(), "ok"
            return await self._change_issue(ref, effect)
        except SinkRejectedError as exc:
            # The issue's later life: a person (or GitHub) made it something triage can no
            # longer change. No retry can undo that, so the effect ends here for this sink.
            why = _out_of_reach(exc) or await self._moved_away(ref, effect, exc)
            if why is None and exc.status == 403:
                # No limit, archive or lock, in the route's own repository (under any name
                # it had): our credentials may not write there, so the message waits.
                raise await self._access.refused_open(self._named(effect), exc) from None
            if why is None:
                raise
            if (
                why == "gone"
                and exc.status in (404, 410)
                and not await self._access.readable(ref.repository)
            ):
                # The whole repository answers so (our access lost: 404; its issues turned
                # off: 410 "Issues are disabled for this repo"), not this issue deleted.
                # Asked before a re-fire opens a new issue: the old one is still there.
                return await self._repository_out_of_reach(effect, ref, exc)
            if effect.kind is EffectKind.REOPEN and why == "read_only":
                self._read_only.note(ref.repository.lower())
                if await self._archived_elsewhere(ref, effect):
                    return await self._reopen_as_new(ref, effect, "issue_read_only", exc)
            if effect.kind is EffectKind.REOPEN and why in _REOPENED_AS_NEW:
                # A storm's digest entry too: the re-fire gets a ticket, not a skip.
                return await self._reopen_as_new(ref, effect, f"issue_{why}", exc)
            return self._refused(effect, ref, why, exc)

    async def _repository_out_of_reach(
        self, effect: Effect, ref: IssueRef, exc: SinkRejectedError
    ) -> tuple[Applied, Outcome]:
        """An effect whose whole repository answers 404 to us (the token lost it, the App's
        repositories changed, or it was deleted), or 410 (its issues turned off, a setting
        that brings them back as they were), with one warning. An update or close is skipped,
        the ticket not marked gone, so the incident's later effects (its close) try it again
        once access is back. A re-fire in the route's own repository waits (the message is
        held as a refused create's is) and reopens the old issue once it is back: a new one
        there would be refused too, or open beside the old one. A re-fire whose issue is in
        a repository the route no longer names opens where the route names now: the old one
        may never take issues again (issues turned off is often why a team moved)."""
        action = "skip"
        if effect.kind is EffectKind.REOPEN:
            in_routes = await self._in_routes(ref.repository, effect)
            action = "wait" if in_routes else "open_new"
        log.warning(
            "github.repository_out_of_reach",
            effect=str(effect.kind),
            repository=ref.repository,
            issue=ref.number,
            status=exc.status,
            action=action,
            hint=ACCESS_HINT.get(exc.status or 404, ACCESS_HINT[404]),
        )
        if action == "wait":
            raise await self._access.refused_open(ref.repository, exc) from None
        if action == "open_new":
            return await self._open(effect)
        return Applied.refuse(f"repository out of reach ({exc.status})"), "refused"

    def _still_refused(self, ref: IssueRef, effect: Effect) -> tuple[Applied, Outcome] | None:
        """The effect skipped without asking GitHub, when GitHub refused as much lately: any
        write to an archived repository (the ticket out of reach for good, as then), or the
        edit of a digest entry in a locked digest issue (an issue's own comments are checked
        against the issue as read, in `_comment_once`); else None."""
        if self._read_only.known(ref.repository.lower()):
            reason, gone = "repository read only", True
        elif ref.comment_id is not None and self._locked.known(issue_key(ref)):
            reason, gone = "issue locked", False
        else:
            return None
        self._log_skip(effect, reason, repository=ref.repository, issue=ref.number)
        return Applied.refuse(reason, gone=gone), "refused"

    async def _archived_elsewhere(self, ref: IssueRef, effect: Effect) -> bool:
        """Whether `ref`'s repository is known archived and is not the route's (the issue was
        moved there): a re-fire's new issue goes where the route puts them, which the archive
        does not concern. The route's repository renamed is the route's (`_in_routes`)."""
        if not self._read_only.known(ref.repository.lower()):
            return False
        return not await self._in_routes(ref.repository, effect)

    async def _moved_away(
        self, ref: IssueRef, effect: Effect, exc: SinkRejectedError
    ) -> str | None:
        """Why a 403 refused an issue outside the route's repository: "moved_away" (transferred
        where our token may not write, the reference followed); None for one in it, under any
        name (`_in_routes`). The first effect after the transfer learns it from GitHub's
        redirect (`_change_issue`); later ones read the issue where it is now."""
        if exc.status == 403 and not await self._in_routes(ref.repository, effect):
            return "moved_away"
        return None

    def _named(self, effect: Effect) -> str:
        """The repository the route names for `effect` (else GITHUB_REPOSITORY), or ""."""
        return effect.target.repository or self.settings.github_repository or ""

    async def _in_routes(self, repository: str, effect: Effect) -> bool:
        """Whether `repository` (where an issue is now) is the route's repository: the name
        the route gives, or the repository GitHub answers for it, which a rename or a transfer
        to another owner keeps (`RepositoryAccess.same_repository`: by `id`). A new name
        learnt for the route (`_renamed`) that turns out to be another repository now (one
        was created under the route's name since) is forgotten: new issues go where the
        route names again. Without a repository named (none configured any more), none is."""
        named = self._named(effect)
        if not named:
            return False
        if await self._access.same_repository(repository, named):
            return True
        if self._renamed.get(named.lower(), "").lower() == repository.lower():
            del self._renamed[named.lower()]
            log.warning(
                "github.repository_name_taken",
                repository=named,
                was=repository,
                action="open_there",
                hint=f"{named} is a new repository now; name {repository} in the route if "
                "its incidents belong there",
            )
        return False

    async def _change_issue(self, ref: IssueRef, effect: Effect) -> tuple[Applied, Outcome]:
        """UPDATE, CLOSE or REOPEN on the issue `ref` names, or where it lives now."""
        issue = await self._get_issue(ref)
        if await self._anothers_issue(issue, effect):
            # The repository was deleted and created again under its name, and the issue
            # that took the old number is someone else's: the incident's is gone with the
            # old repository, as GitHub's 404 for it would say.
            raise SinkRejectedError(
                f"issue #{ref.number} of {ref.repository} is not this incident's",
                status=404,
                detail="another issue has its number now (the repository created again?)",
            )
        moved = moved_to(ref, issue)
        if moved is None:
            return await self._carry_out(ref, issue, effect, moved=False)
        # Transferred, or its repository renamed: GitHub redirected the read. Writes go to
        # where it is now, and the incident keeps the new reference.
        log.info("github.issue_moved", issue=ref.number, to=f"{moved.repository}#{moved.number}")
        try:
            return await self._carry_out(moved, issue, effect, moved=True)
        except SinkRejectedError as exc:
            why = _out_of_reach(exc)
            if exc.status != 403 or why not in (None, "read_only"):
                raise
            if why is None and await self._in_routes(moved.repository, effect):
                raise  # the route's repository, renamed or transferred: our access (`_apply`)
            if why == "read_only":
                # Where it is now was archived: unless it is the route's own repository under
                # its new name, a re-fire gets a new issue where the route puts them (the
                # archive is remembered under the name it has now).
                if effect.kind is EffectKind.REOPEN and not await self._in_routes(
                    moved.repository, effect
                ):
                    self._read_only.note(moved.repository.lower())
                    return await self._reopen_as_new(moved, effect, "issue_read_only", exc)
                applied, outcome = self._refused(effect, moved, why, exc)
                return replace(applied, ref=moved_url(moved, issue, self._origin)), outcome
            # Transferred to a repository our token (an App installed on chosen repositories)
            # may read but not write: out of reach, as if deleted; the reference follows it.
            # A re-fire gets a new issue where the route puts them.
            if effect.kind is EffectKind.REOPEN:
                return await self._reopen_as_new(moved, effect, "issue_moved_away", exc)
            applied, outcome = self._refused(effect, moved, "moved_away", exc)
            return replace(applied, ref=moved_url(moved, issue, self._origin), gone=True), outcome

    async def _anothers_issue(self, issue: dict[str, Any], effect: Effect) -> bool:
        """Whether `issue`, read through the incident's reference, is not the incident's: it
        lacks the incident's marker and names another incident (triage's issue for it) or
        GitHub names another login as its author (a person's). GitHub never gives a number
        twice in one repository, so that is a repository created again under the old one's
        name. An issue triage opened whose marker a person removed is still the incident's;
        so is one that holds the marker, whoever GitHub says opened it (our credentials may
        have changed), and one whose answer names no author."""
        body = text_or_empty(issue.get("body"))
        if text.has_marker(body, text.fingerprint_marker(effect.fingerprint)):
            return False
        if text.names_an_incident(body):
            return True
        author = _login_of(issue.get("user"))
        return author is not None and author.lower() != (await self._api.whoami()).lower()

    async def _carry_out(
        self, ref: IssueRef, issue: dict[str, Any], effect: Effect, *, moved: bool
    ) -> tuple[Applied, Outcome]:
        """The effect's writes on `issue` (read through `ref`); with `moved`, the effect hands
        back the issue's new reference."""
        if await self._closed_by_hand_recently(issue):
            closer = _closer(issue)
            log.info(
                "github.hand_closed",
                effect=str(effect.kind),
                repository=ref.repository,
                issue=ref.number,
                closed_by=closer,
                closed_at=_shown_time(issue.get("closed_at")),
            )
            return self._skip(
                effect, "closed by hand within the hold", NotSent.CLOSED_BY_HAND, issue=ref.number
            )
        closed = issue.get("state") == "closed"
        not_commented: str | None = None
        if effect.kind is EffectKind.UPDATE:
            if effect.priority_was is not None:
                await self._move_priority(ref, issue, effect.priority_was, effect.ticket.priority)
            not_commented = await self._comment_once(
                ref, issue, text.update_comment(effect), effect
            )
        elif effect.kind is EffectKind.CLOSE:
            # Comment first: a retry after the close finds the comment and does not repeat it.
            await self._comment_once(ref, issue, text.close_comment(effect), effect)
            if not closed:
                await self._set_state(ref, "closed", "completed")
            flapping = label_named(issue, text.FLAPPING_LABEL)
            if effect.flapping and flapping is not None:
                # The close of a flapping incident ends its flapping (a damped close waited
                # for it to stay resolved); a reopen that still flaps labels it again.
                await self._remove_label(ref, flapping)
        else:
            if closed and count_field(issue, "comments") >= text.COMMENTS_CAP:
                return await self._continue_in_new(ref, effect)
            if closed:
                # Comment first, while it is closed: GitHub may count its comments under the
                # cap and refuse ours for it, which a re-fire answers as one read at the cap
                # (a new issue), without reopening the old one first. A retry after the
                # reopen finds the comment and does not repeat it.
                refused = await self._comment_once(
                    ref, issue, text.reopen_comment(effect), effect, say_full=False
                )
                if refused == COMMENTS_FULL:
                    return await self._continue_in_new(ref, effect, status=403)
                try:
                    await self._set_state(ref, "open", "reopened")
                except SinkRejectedError as exc:
                    if await self._deleted_at_reopen(ref, exc):
                        # Deleted between the re-fire's comment and its reopen: as a refused
                        # reopen, the new issue names it (its link says it is gone).
                        return await self._reopen_as_new(
                            ref, effect, "issue_gone", exc, continues=ref
                        )
                    if not _reopen_refused(exc):
                        raise
                    # GitHub will not reopen it (closed by a maintainer where triage is only
                    # its author, locked, converted to a discussion): the re-fire gets a new
                    # issue, which names this one, where the re-fire's comment went.
                    return await self._reopen_as_new(
                        ref, effect, "reopen_refused", exc, continues=ref
                    )
            if effect.flapping:
                await self._add_labels(ref, [text.FLAPPING_LABEL])
            elif (flapping := label_named(issue, text.FLAPPING_LABEL)) is not None:
                # Counted afresh since the close that ended its flapping (or labelled before
                # closes removed it): the label would say it flaps when it does not.
                await self._remove_label(ref, flapping)
            if effect.priority_was is not None:
                await self._move_priority(ref, issue, effect.priority_was, effect.ticket.priority)
            if not closed:
                await self._comment_once(ref, issue, text.reopen_comment(effect), effect)
        new_ref = moved_url(ref, issue, self._origin) if moved else None
        if not_commented is not None:  # an update is its comment: nothing of it went out
            return Applied.refuse(not_commented, ref=new_ref), "refused"
        return Applied(new_ref), "ok"

    async def _deleted_at_reopen(self, ref: IssueRef, exc: SinkRejectedError) -> bool:
        """Whether GitHub's refusal of a reopen says the issue itself is gone (410, or 404),
        while its repository still shows us its issues: a whole repository that answers so
        (our access lost, its issues turned off) is left to `_apply`, which waits for it."""
        if exc.status not in GONE:
            return False
        return await self._access.readable(ref.repository)

    async def _reopen_as_new(
        self,
        ref: IssueRef,
        effect: Effect,
        why: str,
        exc: SinkRejectedError,
        *,
        continues: IssueRef | None = None,
    ) -> tuple[Applied, Outcome]:
        """The incident fired again but its issue is gone (deleted, or moved where we cannot
        read it) or cannot be reopened: a new issue, found by its marker on a retry (never a
        second one; the old issue is closed, and the look-up reads open issues only). An old
        issue that is still there and took the re-fire's comment is the one it `continues`:
        the new one names it, so the people watching either find the other."""
        log.warning(
            f"github.{why}",
            effect=str(effect.kind),
            repository=ref.repository,
            issue=ref.number,
            status=exc.status,
            action="open_new",
        )
        taken_over = None if continues is None else Continues(continues, text.NOT_REOPENED)
        return await self._open(effect, continues=taken_over)

    async def _continue_in_new(
        self, ref: IssueRef, effect: Effect, *, status: int | None = None
    ) -> tuple[Applied, Outcome]:
        """A re-fire whose closed issue holds GitHub's last comment (`text.COMMENTS_CAP`: its
        count read at the cap, or the re-fire's comment refused for it, `status` 403): a
        new issue that names the old one, which stays closed. Reopened, the old one could show
        neither the re-fire nor any update after it, and the people who watch it would see it
        open with no word of why; GitHub shows the new one in the old one's timeline, which
        takes no comment but does take that. A retry finds the new one by its marker (the old
        one is closed: the look-up reads open issues only). One warning a quarter hour per
        issue (a retry's line is info), as for its other effects (`_comments_refused`)."""
        key = issue_key(ref)
        say = log.info if self._comments_full.known(key) else log.warning
        self._comments_full.note(key)
        say(
            "github.issue_comments_full",
            effect=str(effect.kind),
            repository=ref.repository,
            issue=ref.number,
            status=status,
            action="open_new",
            hint=f"GitHub takes no comment past {text.COMMENTS_CAP} on an issue: the re-fire "
            "opens a new issue that names it",
        )
        return await self._open(effect, continues=Continues(ref, text.AT_CAP))

    def _refused(
        self, effect: Effect, ref: IssueRef, why: str, exc: SinkRejectedError
    ) -> tuple[Applied, Outcome]:
        """The one line that says why this sink did nothing more for the effect: a warning,
        not the message's failure (the message is fine; its ticket is out of reach)."""
        log.warning(
            f"github.issue_{why}",
            effect=str(effect.kind),
            repository=ref.repository,
            issue=ref.number,
            status=exc.status,
            reason=exc.detail,
            action="skip",
        )
        if why == "read_only":
            self._read_only.note(ref.repository.lower())
        elif why == "locked":
            self._locked.note(issue_key(ref))
        reason = f"issue {why.replace('_', ' ')} ({exc.status})"
        return Applied.refuse(reason, gone=why in _FOR_GOOD), "refused"

    async def _open(
        self, effect: Effect, *, continues: Continues | None = None
    ) -> tuple[Applied, Outcome]:
        """The incident's issue where its route names: found by its marker, else created (a
        re-fire's `continues` the issue it takes over from, named in the new one's body)."""
        named = self._repository(effect)
        repository = self._renamed.get(named.lower(), named)
        if self._read_only.known(repository.lower()):
            raise SinkRejectedError(
                f"GitHub repository {repository} is archived (read-only): no issue opened "
                f"(GitHub said so less than {RECHECK_S / 60:.0f} min ago; not asked again)",
                status=403,
                detail="read-only",
            )
        try:
            applied = await self._open_in(repository, effect, continues)
        except SinkRejectedError as exc:
            if await self._learn_new_name(repository, exc):
                return await self._open(effect, continues=continues)
            if _out_of_reach(exc) == "read_only":
                # Every new incident routed here would ask, spend a creation token and be
                # refused in turn: they are refused without asking for a while.
                self._read_only.note(repository.lower())
                raise
            # Our access to the repository, or this ticket (`access.py` tells them apart).
            raise await self._access.refused_open(repository, exc) from None
        self._access.opened_in(repository)
        return applied

    async def _learn_new_name(self, repository: str, exc: SinkRejectedError) -> bool:
        """Whether the write `exc` refused was redirected because `repository` was renamed
        (GitHub answers its old name with a redirect, which a POST cannot follow as a 301):
        the repository's new name, as GitHub's answer to a read of the old one says, is used
        for the route's new issues from now on, with one warning asking to update the route
        (the redirect lasts only until someone creates a repository of the old name)."""
        if exc.status not in _METHOD_CHANGING_REDIRECTS:
            return False
        answer = record(await self._api.call("GET", f"/repos/{repository}"), "a repository")
        now = answer.get("full_name")
        if (
            not isinstance(now, str)
            or not valid_repository(now)
            or now.lower() == repository.lower()
        ):
            return False
        self._note_renamed(repository, now)
        return True

    def _note_renamed(self, repository: str, now: str) -> None:
        """`repository` is called `now`: the route's new issues go there from now on, with
        one warning asking to update the route."""
        self._renamed[repository.lower()] = now
        while len(self._renamed) > RENAMED_KEPT:
            del self._renamed[next(iter(self._renamed))]
        log.warning(
            "github.repository_renamed",
            repository=repository,
            now=now,
            action="open_there",
            hint=f"name {now} in the route (or GITHUB_REPOSITORY) instead of {repository}",
        )

    async def _issue_home(self, repository: str, issue: Any) -> str:
        """Where `issue`, created or found in `repository`, is: the repository's new name when
        it was renamed (or moved to another owner) and its old name answered the create with a
        307 (which keeps the method and is followed, `api.py`) or the look-up with a 301, so
        the issue is under the new name; else `repository`. The new name is the one GitHub
        answers for `repository` itself (`full_name`), and only when the answer's `html_url`
        names it too: an answer naming any other repository steers nothing, nor is that
        repository asked about. It is remembered for the route as a 301's is
        (`_learn_new_name`): the old name's redirect lasts only until someone creates a
        repository under it, and the incident's reference must name where its issue is."""
        number = issue_number(issue)
        now = moved_to(IssueRef(repository, number), record(issue, "the issue"))
        if now is None or now.number != number or now.repository.lower() == repository.lower():
            return repository
        try:
            read = await self._api.call("GET", f"/repos/{repository}")
        except (SinkRejectedError, GitHubThrottledError):
            # Made, where it is told later (the old name redirects): the issue is not undone,
            # nor is a create GitHub answered failed by a read after it (the rate limit the
            # create's own call spent).
            return repository
        full_name = record(read, "a repository").get("full_name")
        if not isinstance(full_name, str) or full_name.lower() != now.repository.lower():
            return repository
        self._note_renamed(repository, full_name)
        return full_name

    async def _open_in(
        self, repository: str, effect: Effect, continues: Continues | None = None
    ) -> tuple[Applied, Outcome]:
        """The incident's issue in `repository`: found by its marker, else created (or listed
        in the storm digest)."""
        existing = await self._lookup.find_marked_issue(repository, effect.fingerprint)
        if existing is not None:
            # Created by an earlier attempt whose answer or bookkeeping was lost.
            ref = issue_url(existing, await self._issue_home(repository, existing), self._origin)
            log.info("github.issue_found", repository=repository, issue=issue_number(existing))
            return Applied(ref), "found"
        if not await self._digest.admit_issue(repository):
            return Applied(await self._digest.add(repository, effect)), "digested"
        trusted_labels = self._lookup.believed_kept(repository)
        try:
            issue = await self._create_issue(repository, effect, continues)
        except GitHubUnavailableError:
            # Made or not, with its labels or not: the retry looks among the issues triage
            # created, where an issue GitHub made without its labels is too (`lookup.py`).
            self._lookup.forget_labels(repository)
            raise
        except (GitHubThrottledError, SinkRejectedError) as exc:
            if not_created(exc):
                await self._digest.give_back_issue(repository)
            raise
        log.info("github.issue_created", repository=repository, issue=issue_number(issue))
        self._lookup.note_created(repository, record(issue, "the issue"))
        # Past the create's refusals: whatever the look-up of the issue's home raises, the
        # issue was made, and its creation tokens are not given back.
        ref = issue_url(issue, await self._issue_home(repository, issue), self._origin)
        if trusted_labels and not self._lookup.believed_kept(repository):
            older = await self._lookup.find_marked_issue(
                repository, effect.fingerprint, besides=issue_number(issue)
            )
            if older is not None:
                return await self._close_duplicate(repository, issue, older), "found"
        return Applied(ref), "ok"

    async def _close_duplicate(
        self, repository: str, issue: dict[str, Any], older: dict[str, Any]
    ) -> Applied:
        """`issue`, just created, duplicates `older` (the incident's issue, another replica's,
        which the `triage` list missed as GitHub had dropped its labels: `lookup.py`): it is
        closed, then given a comment naming `older`, with one warning, and the incident keeps
        `older`. Closed first: should the close fail, the message's retry adopts the newest
        open one (this); once it is closed, the retry finds `older`, so a comment that fails
        costs only the comment."""
        number, kept = issue_number(issue), issue_number(older)
        path = f"/repos/{repository}/issues/{number}"
        await self._api.call("PATCH", path, json={"state": "closed", "state_reason": "not_planned"})
        note = (
            f"Opened twice: this incident's issue is #{kept}. GitHub dropped the labels of "
            "new issues (triage's token lost push access), so the first was missed."
        )
        try:
            await self._api.call("POST", f"{path}/comments", json={"body": note})
            commented = True
        except (SinkRejectedError, GitHubUnavailableError, GitHubThrottledError) as exc:
            log.debug("github.duplicate_not_commented", issue=number, error=str(exc))
            commented = False
        log.warning(
            "github.duplicate_closed",
            repository=repository,
            issue=number,
            kept=kept,
            commented=commented,
            hint="give the token push (or triage) access to the repository",
        )
        return Applied(issue_url(older, repository, self._origin))

    async def _create_issue(
        self, repository: str, effect: Effect, continues: Continues | None = None
    ) -> Any:
        """POST the issue. What GitHub refuses in it (422) that is no part of the issue would
        otherwise refuse every issue of the route: it is created again without it, with one
        warning each (`_without_refused`). A label the repository lacks lately is left out
        from the start (`missing_labels.py`), and one these steps tell apart is remembered."""
        path = f"/repos/{repository}/issues"
        labels = text.issue_labels(effect, team_label=self._may_label_team(effect))
        request: dict[str, Any] = {
            "title": text.issue_title(effect),
            "body": text.issue_body(
                effect,
                github_host=self._web_host,
                continues=None if continues is None else continues.named(),
                because=text.AT_CAP if continues is None else continues.because,
            ),
            "labels": self._missing_labels.kept(repository, labels),
            # GitHub takes 10 assignees an issue; a route naming more gets its first 10.
            "assignees": list(dict.fromkeys(effect.target.assignees))[: text.MAX_ASSIGNEES],
        }
        own = self._missing_labels.kept(repository, text.own_labels(effect))
        first_body = request["body"]
        refused_labels: list[str] | None = None
        while True:
            try:
                created = await self._api.call("POST", path, json=request)
            except SinkRejectedError as exc:
                lighter = _without_refused(request, exc, own, repository)
                if lighter is None:
                    cut_before = request["body"] != first_body
                    lighter = _cut_harder(request, exc, repository, cut_before=cut_before)
                if lighter is None:
                    raise
                if lighter["labels"] != request["labels"]:
                    refused_labels = request["labels"]
                request = lighter
                continue
            if refused_labels is not None:
                self._missing_labels.learn(repository, refused_labels, request["labels"])
            return created

    def _may_label_team(self, effect: Effect) -> bool:
        """Whether the issue gets a `team:` label. A label is a repository's for good, and the
        team comes from the alert: a label that holds a pod's name instead, or invented teams,
        would add a label for each. Past TEAM_LABELS distinct teams in this process, the new
        ones are left out (the team is still in the issue's facts), said once. Teams are told
        apart by their label as GitHub shows it (`text.label_of_team`, any case): `pay`, `pay,`
        and `pay` with a zero-width space are one label, so they are one team here too."""
        team = text.label_of_team(effect.alert.team).lower() if effect.alert.team else ""
        if not team or team in self._team_labels:
            return True
        if len(self._team_labels) < TEAM_LABELS:
            self._team_labels.add(team)
            return True
        if len(self._team_labels) == TEAM_LABELS:
            self._team_labels.add("")  # said once: the set is past the bound from now on
            log.warning("github.team_labels_bounded", teams=TEAM_LABELS)
        return False

    def _skip(
        self, effect: Effect, reason: str, why: NotSent, **fields: Any
    ) -> tuple[Applied, Outcome]:
        self._log_skip(effect, reason, **fields)
        return Applied.skip(reason, why=why), "skipped"

    def _log_skip(self, effect: Effect, reason: str, **fields: Any) -> None:
        log.info("sink.skipped", sink=self.name, effect=str(effect.kind), reason=reason, **fields)

    def _repository(self, effect: Effect) -> str:
        repository = effect.target.repository or self.settings.github_repository
        if not repository:
            raise SinkRejectedError("no GitHub repository: set GITHUB_REPOSITORY or the route's")
        if not valid_repository(repository):
            raise SinkRejectedError(f"GitHub repository {repository!r} is not owner/name")
        return repository

    # --- Issues and comments ----------------------------------------------------------------

    async def _get_issue(self, ref: IssueRef) -> dict[str, Any]:
        issue = await self._api.call("GET", f"/repos/{ref.repository}/issues/{ref.number}")
        return record(issue, "the issue")

    async def _comment_once(
        self,
        ref: IssueRef,
        issue: dict[str, Any],
        body: str,
        effect: Effect,
        *,
        say_full: bool = True,
    ) -> str | None:
        """Post `body` unless a comment with this effect's marker is already there; else why
        the issue takes no comment from us (locked, or at GitHub's cap on comments), when the
        rest of a close or reopen still goes ahead. Without `say_full`, a comment refused for
        the cap is `COMMENTS_FULL` unsaid: the caller says what it does instead."""
        if self._known_locked(ref, issue):
            self._log_skip(effect, "issue locked", issue=ref.number)
            return "issue locked"
        marker = text.effect_marker(effect.idempotency_key)
        total = count_field(issue, "comments")
        # Looked for before the cap is read as a refusal: our comment may be the issue's
        # last, GitHub's answer to it lost, and its retry must find it posted.
        for comment in await self._lookup.recent_comments(ref.repository, ref.number, total):
            if await self._lookup.marked_by_us(comment, marker):
                log.info("github.comment_exists", issue=ref.number, effect=str(effect.kind))
                return None
        if total >= text.COMMENTS_CAP:
            # GitHub refuses every comment past it, for good: not asked, said once a while.
            return self._comments_refused(ref, effect, status=None, say=say_full)
        try:
            posted = await self._post_comment(ref, body)
        except SinkRejectedError as exc:
            why = _out_of_reach(exc)
            if why == "comments_full":
                return self._comments_refused(ref, effect, status=exc.status, say=say_full)
            if why != "locked":
                raise
            # Locked to non-collaborators (or converted to a discussion): no retry can post
            # it, and the close or reopen it belongs to can still be done.
            self._locked.note(issue_key(ref))
            log.warning(
                "github.issue_locked",
                effect=str(effect.kind),
                repository=ref.repository,
                issue=ref.number,
                status=exc.status,
                action="no_comment",
            )
            return "issue locked"
        log.info("github.commented", issue=ref.number, effect=str(effect.kind))
        record(posted, "the comment")
        return None

    async def _post_comment(self, ref: IssueRef, body: str) -> Any:
        """POST the comment; one GitHub refuses as too long (422 "body is too long": it counted
        otherwise than triage, or holds a lower limit) is cut, its marker kept, and sent again
        (`_cut_harder`) rather than lost with its update."""
        path = f"/repos/{ref.repository}/issues/{ref.number}/comments"
        request = {"body": body}
        while True:
            try:
                return await self._api.call("POST", path, json=request)
            except SinkRejectedError as exc:
                cut_before = request["body"] != body
                shorter = _cut_harder(request, exc, ref.repository, cut_before=cut_before)
                if shorter is None:
                    raise
                request = shorter

    def _comments_refused(
        self, ref: IssueRef, effect: Effect, *, status: int | None, say: bool = True
    ) -> str:
        """The issue is at GitHub's cap on comments (`text.COMMENTS_CAP`): the comment is left out,
        the rest of a close or reopen still goes ahead. Said at warning once per issue a
        quarter hour (a long-firing incident's update windows would repeat it), else at info;
        not at all without `say` (a re-fire's new issue says it: `_continue_in_new`)."""
        if not say:
            return COMMENTS_FULL
        key = issue_key(ref)
        # The skip's line names the effect itself (`_log_skip`), the warning here.
        fields = {"repository": ref.repository, "issue": ref.number}
        if self._comments_full.known(key):
            self._log_skip(effect, "issue comments full", **fields)
        else:
            self._comments_full.note(key)
            log.warning(
                "github.issue_comments_full",
                effect=str(effect.kind),
                status=status,
                action="no_comment",
                hint=f"GitHub takes no comment past {text.COMMENTS_CAP} on an issue: the "
                "incident's updates are not written there (its state, title and labels are)",
                **fields,
            )
        return COMMENTS_FULL

    def _known_locked(self, ref: IssueRef, issue: dict[str, Any]) -> bool:
        """Whether GitHub refused a comment on this issue as locked lately and the issue, as
        just read, is still locked. Read as unlocked, it is asked at once. A reopen does not
        unlock an issue on GitHub, so it is not a reason to ask again."""
        key = issue_key(ref)
        if issue.get("locked") is not True:
            self._locked.forget(key)
            return False
        return self._locked.known(key)

    async def _set_state(self, ref: IssueRef, state: str, state_reason: str) -> None:
        path = f"/repos/{ref.repository}/issues/{ref.number}"
        await self._api.call("PATCH", path, json={"state": state, "state_reason": state_reason})
        log.info("github.issue_state", issue=ref.number, state=state)

    async def _add_labels(self, ref: IssueRef, labels: list[str]) -> None:
        """Add `labels` (POST …/labels adds; PUT or PATCH would replace the labels a person
        chose). GitHub creates a label the repository lacks (a person deleted or renamed it),
        and refuses to when our token may not (403 "Must have admin rights to Repository."):
        a label is not worth the effect, so that refusal is one warning and the rest of the
        effect goes ahead. A single label refused so is remembered as missing there
        (`missing_labels.py`) and not asked for again for a while."""
        labels = self._missing_labels.kept(ref.repository, labels)
        if not labels:
            log.debug("github.labels_left_out", repository=ref.repository, issue=ref.number)
            return
        path = f"/repos/{ref.repository}/issues/{ref.number}/labels"
        try:
            await self._api.call("POST", path, json={"labels": labels})
        except SinkRejectedError as exc:
            if exc.status not in (403, 422) or _out_of_reach(exc) is not None:
                raise  # the issue itself is out of reach: the whole effect is
            if exc.status == 403:
                # The token may have lost push access, and GitHub then drops new issues'
                # labels too: look issues up by their creator until a create shows them kept.
                self._lookup.forget_labels(ref.repository)
                if len(labels) == 1:
                    self._missing_labels.note(ref.repository, labels[0])
            log.warning(
                "github.label_refused",
                repository=ref.repository,
                issue=ref.number,
                labels=labels,
                status=exc.status,
                reason=exc.detail,
            )

    async def _move_priority(
        self, ref: IssueRef, issue: dict[str, Any], was: Priority, now: Priority
    ) -> None:
        """An update that moved the incident's priority: the issue's `[P2] ` title prefix and
        `priority:` label follow it. A title a person rewrote without the old prefix is left
        as it is; a retry finds the new prefix and label, and changes nothing again."""
        old_prefix = f"[{text.p_number(was)}] "
        title = issue.get("title")
        if isinstance(title, str) and (title + " ").startswith(old_prefix):
            # A bare `[P1]` too: an earlier version's `[P1] ` (a title that showed nothing),
            # which GitHub trimmed.
            moved = f"[{text.p_number(now)}] {title[len(old_prefix) :]}".rstrip()
            path = f"/repos/{ref.repository}/issues/{ref.number}"
            await self._api.call("PATCH", path, json={"title": moved})
        old_label = label_named(issue, f"priority:{text.p_number(was)}")
        if old_label is not None:  # as the issue shows it: `Priority:P1` is the same label
            await self._remove_label(ref, old_label)
        await self._add_labels(ref, [f"priority:{text.p_number(now)}"])

    async def _remove_label(self, ref: IssueRef, label: str) -> None:
        """Take `label` off the issue; a 404 (someone took it off since we read the issue, or
        the label is gone from the repository) is the same outcome."""
        path = f"/repos/{ref.repository}/issues/{ref.number}/labels/{quote(label, safe='')}"
        await self._api.call("DELETE", path, gone_ok=True)
        log.info("github.label_removed", issue=ref.number, label=label)

    async def _closed_by_hand_recently(self, issue: dict[str, Any]) -> bool:
        if issue.get("state") != "closed":
            return False
        closed_at = _timestamp(issue.get("closed_at"))
        hold_s = self.settings.github_hand_closed_hold_s
        # `closed_at` is GitHub's time: measured by GitHub's clock, not a host's that is off.
        if closed_at is None or self._api.github_now() - closed_at >= hold_s:
            return False
        closer = _closer(issue)
        if closer is None:
            return True  # closed by someone GitHub does not name: not provably us
        return closer.lower() != (await self._api.whoami()).lower()


@dataclass(frozen=True, slots=True)
class Continues:
    """The incident's earlier issue a re-fire's new issue takes over from, and why it was not
    reopened (`text.AT_CAP`, `text.NOT_REOPENED`): the new issue's body names it."""

    ref: IssueRef
    because: str

    def named(self) -> str:
        """`owner/name#number`, as GitHub links it in the new issue's body."""
        return f"{self.ref.repository}#{self.ref.number}"


def _reopen_refused(exc: SinkRejectedError) -> bool:
    """Whether GitHub's refusal of a reopen is about the issue, not our access: a 422 (triage
    only its author and a maintainer closed it, converted to a discussion), or a 403 that says
    it is locked or cannot be reopened. A 403 that says neither (an archived repository's, our
    token's) stays what `_apply` makes of it."""
    detail = exc.detail.lower()
    if exc.status == 422:
        return True
    return (
        exc.status == 403
        and "archived" not in detail
        and ("locked" in detail or "reopen" in detail)
    )


#: GitHub's words for its refusal of a comment past `text.COMMENTS_CAP`.
_COMMENTS_FULL = "commenting is disabled"
#: Why a comment was left out of an issue at GitHub's cap on comments.
COMMENTS_FULL = "issue comments full"

#: Distinct teams one process labels issues with (`team:<name>`); later ones get no label.
TEAM_LABELS = 50
#: Renamed repositories whose new names this process remembers (the oldest go first).
RENAMED_KEPT = 64
#: Redirects a write cannot follow (they turn it into a GET: `api.py`).
_METHOD_CHANGING_REDIRECTS = frozenset({301, 302, 303})


#: Refusals (`_out_of_reach`) no later update or close can get past: the incident marks its
#: issue gone, and only a re-fire calls this sink for it again. A locked issue is not one: it
#: is still closed and reopened.
_FOR_GOOD = frozenset({"gone", "read_only", "moved_away", "blocked"})
#: Of those, the ones a re-fire answers with a new issue: the old one is no longer where the
#: route's issues are (an archived repository's issue stays there, and so would a new one).
_REOPENED_AS_NEW = frozenset({"gone", "moved_away"})


def _out_of_reach(exc: SinkRejectedError) -> str | None:
    """Why GitHub refused a call on an existing ticket for good, when the refusal is about the
    issue rather than our request: "gone" (deleted, or moved out of our sight), "blocked"
    (451: its repository blocked for legal reasons), "read_only"
    (403 "Repository was archived so is read-only."), "locked" (403 "Unable to create comment
    because issue is locked."), "comments_full" (403 "Commenting is disabled on issues with
    more than 2500 comments": `text.COMMENTS_CAP`); None for any other refusal (a bad request
    stays an error)."""
    detail = exc.detail.lower()
    if exc.status in GONE:
        return "gone"
    if exc.status == 451:
        return "blocked"
    if exc.status == 403 and "archived" in detail:
        return "read_only"
    if exc.status in (403, 422) and "locked" in detail:
        return "locked"
    if exc.status in (403, 422) and _COMMENTS_FULL in detail:
        return "comments_full"
    return None


def _without_refused(
    request: dict[str, Any], exc: SinkRejectedError, own: list[str], repository: str
) -> dict[str, Any] | None:
    """The create `request` without what GitHub's `exc` refused in it, said in one warning;
    None when nothing more can be left out (the refusal is the message's, or our access's).

    - a route's assignee (422 `assignees` `invalid`: they left the organisation, lost access,
      renamed their account): the issue is created without assignees;
    - a label (422 `Label` `name` `invalid`: the team's or source's, from alert text, or a
      route's; or 403 "You do not have permission to create labels": one the repository lacks
      and the token may not create): with triage's `own` labels alone, which keep `triage`,
      so a retry still finds the issue by its marker; should GitHub refuse those too as
      labels it may not create (403: the repository lacks the priority's), with `triage`
      alone. The warning counts the
      labels left out and names none: some are alert text. Should GitHub refuse `triage`
      too, the refusal stands (a 403: the token's access, `access.py`).
    """
    if exc.status not in (403, 422):
        return None
    if exc.status == 422 and request["assignees"] and "assignee" in exc.detail:
        log.warning(
            "github.assignees_refused",
            repository=repository,
            assignees=request["assignees"],
            reason=exc.detail,
            action="create_without",
        )
        return {**request, "assignees": []}
    if "label" not in exc.detail.lower():
        return None
    steps = [(own, "create_with_own_labels")]
    if exc.status == 403:  # a label the repository lacks: perhaps the priority's
        steps.append(([text.TRIAGE_LABEL], "create_with_triage_label"))
    for fewer, action in steps:
        left_out = len([label for label in request["labels"] if label not in fewer])
        if left_out:
            log.warning(
                "github.labels_refused",
                repository=repository,
                labels_left_out=left_out,
                reason=exc.detail,
                action=action,
            )
            return {**request, "labels": fewer}
    return None


def _too_long(exc: SinkRejectedError) -> bool:
    """Whether GitHub refused a request's `body` as too long (422, its validation error
    naming the field: `body custom: body is too long (maximum is 65536 characters)`)."""
    detail = exc.detail.lower()
    return exc.status == 422 and "body" in detail and "too long" in detail


def _cut_harder(
    request: dict[str, Any], exc: SinkRejectedError, repository: str, *, cut_before: bool = False
) -> dict[str, Any] | None:
    """`request` (a create or a comment) with its body cut when GitHub refused it as too long,
    said in one warning: first to fit GitHub's limit however it counts (`text.cut_to_bytes`),
    and a body that already fits, refused again (a lower limit than GitHub documents), to
    half its length, down to _SHORTEST_CUT bytes; None for any other refusal, or a body
    already that short (the refusal stands). A body `cut_before` is said at info: its
    first cut said the warning."""
    if not _too_long(exc):
        return None
    size = len(request["body"].encode())
    most = text.BODY_BYTES if size > text.BODY_BYTES else size // 2
    if most < _SHORTEST_CUT:
        return None
    cut = text.cut_to_bytes(request["body"], most)
    if cut == request["body"]:
        return None
    say = log.info if cut_before else log.warning
    say(
        "github.body_refused",
        repository=repository,
        chars=len(request["body"]),
        bytes=len(request["body"].encode()),
        reason=exc.detail,
        action="cut_and_send_again",
    )
    return {**request, "body": cut}


#: UTF-8 bytes a body refused as too long is cut to at the least (`_cut_harder`): shorter,
#: the refusal is not about its length.
_SHORTEST_CUT = 2_000


def _closer(issue: dict[str, Any]) -> str | None:
    """The login of whoever closed `issue`, when GitHub names one a login can be (it is
    logged): one of another shape names no one."""
    return _login_of(issue.get("closed_by"))


def _login_of(user: Any) -> str | None:
    """The login of `user`, an account as GitHub answers it, when it has a login's shape."""
    login = user.get("login") if isinstance(user, dict) else None
    return login if is_login(login) else None


def _shown_time(value: Any) -> str | None:
    """A timestamp of GitHub's answer as logged: re-written from the time it reads as."""
    moment = _timestamp(value)
    return None if moment is None else datetime.fromtimestamp(moment, UTC).isoformat()


def _timestamp(value: Any) -> float | None:
    if not isinstance(value, str):
        return None
    try:
        return datetime.fromisoformat(value.replace("Z", "+00:00")).timestamp()
    except ValueError:
        return None
