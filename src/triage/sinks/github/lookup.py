"""Finding what triage wrote on GitHub by the hidden markers in it.

Every issue triage opens holds `<!-- triage:fingerprint=… -->` on a line of its own, every
comment it posts `<!-- triage:effect=… -->` (and a storm digest's entries their own): a retry
after a lost answer (a create or comment that went through, its answer or our bookkeeping lost)
finds what the earlier attempt wrote instead of writing it twice. See `text.has_marker` for what
counts as a marker.

    an open issue       the issues list (`state=open`, newest first) for LOOKUP_PAGES pages:
                        the search API's index lags behind a fresh create, the list does not;
                        past that, the search API for the older ones
    a recent comment    the issue's last one to two pages of comments

Which issues are listed depends on what this process saw of the repository's labels
(`note_created`): GitHub silently drops a new issue's labels for a token without push (or
triage) access, and an issue without `triage` is in no `labels=triage` list.

    labels kept         `labels=<label>` (`triage`, or the digest's): one call per look-up
    (a create showed
    it LABELS_KEPT_S
    ago or less)
    labels dropped,     `creator=<our login>` instead (the search: `author:`): the issues
    or not seen yet,    triage opened, labelled or not, for the same one call. Until this
    or not lately       process has created an issue in the repository it cannot know
                        whether the labels stay, and the first create there (another
                        replica's, or one whose answer was lost) may have left an unlabelled
                        issue that no label lists; the creator list finds it however many
                        newer open issues others opened above it

Labels kept is a belief about the token's access, which can change under a running process
(push access taken away: GitHub then drops every new issue's labels without a word). So it
is dropped, and the creator list read again, when anything says it may be stale:

    a create whose answer was lost      it may have made an unlabelled issue, which its
    (`forget_labels`)                   retry must find
    a label add refused (403)           the token may no longer label issues
    LABELS_KEPT_S since the create      another replica may have opened the incident's
    that showed the labels kept         issue unlabelled since (its bookkeeping lost, the
                                        message retried here)

The creator list costs the same one call, so the belief only chooses which list is read.
What is left: within LABELS_KEPT_S of this process's last labelled create, another replica's
unlabelled issue whose message is retried here is not found, and a second issue is opened.
That create shows the labels dropped where they were believed kept, so the sink reads the
issues triage created for an older one with the marker (`find_marked_issue` `besides` the
new one): found, the new one is closed in its favour (`sink.py`), one call more, once per
change of access.

The creator list, not the search API (`author:@me`), is what finds an issue just created: the
search index lags behind a create, which is when a retry looks; and it works alike on
github.com and GitHub Enterprise Server, for a token's user and an App's bot
(`creator=<slug>[bot]`; the search writes that author `app/<slug>`). Past LOOKUP_PAGES pages
the search is asked for the older ones, which its index holds by now.

Only triage's own count: an issue or comment whose author is not triage's login (the token's
user, or the App's bot) is passed over, whatever marker it holds, since anyone who may comment
can copy one.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import structlog

import triage.sinks.github.text as text
from triage.errors import GitHubUnavailableError
from triage.sinks.github.api import (
    AnswerTooLargeError,
    GitHubApi,
    label_named,
    number_field,
    record,
    records,
    text_or_empty,
)

log = structlog.get_logger(__name__)

#: The marker look-up reads at most this many pages of open issues, newest first; older ones
#: are found through the search API, which finds at most SEARCH_PAGES pages.
LOOKUP_PAGES = 10
SEARCH_PAGES = 10
PAGE_SIZE = 100
#: A page of PAGE_SIZE too large to read (`AnswerTooLargeError`) is read again in pages of this
#: size: anyone who may comment can post comments of 65,536 emoji, some 262 KB each, and 100 of
#: them (26 MB) are past what any answer is read to, while 10 are well within.
SMALL_PAGE_SIZE = 10
#: How long a create that showed GitHub keeping the labels is believed (the module docstring).
LABELS_KEPT_S = 300.0


class MarkerLookup:
    """Looks up triage's own issues and comments by marker, for one sink's process."""

    def __init__(self, api: GitHubApi, clock: Callable[[], float]) -> None:
        self._api = api
        self._clock = clock
        #: Repositories said to hold more open triage issues than the list look-up reads.
        self._many_open: set[str] = set()
        #: Lower case repository → whether GitHub kept the labels of the last issue this
        #: process created there, and when (absent: none created yet, or forgotten).
        self._labels_kept: dict[str, tuple[bool, float]] = {}

    def note_created(self, repository: str, issue: dict[str, Any]) -> None:
        """Remember whether GitHub kept the labels of `issue`, just created in `repository`
        (every issue triage opens carries `triage`). When it dropped them (a token without
        push or triage access), later look-ups there list the issues triage created instead,
        and one `github.labels_dropped` warning says so (again only after labels were kept
        there since)."""
        key = repository.lower()
        kept = label_named(issue, text.TRIAGE_LABEL) is not None  # GitHub may show `Triage`
        if self._labels_kept.get(key, (True, 0.0))[0] and not kept:
            log.warning(
                "github.labels_dropped",
                repository=repository,
                issue=number_field(issue, "number"),
                action="look_up_by_creator",
                hint=(
                    "GitHub created the issue without its labels: give the token push (or "
                    "triage) access to the repository; until then issues are looked up by "
                    "their creator"
                ),
            )
        self._labels_kept[key] = (kept, self._clock())

    def forget_labels(self, repository: str) -> None:
        """Whether `repository` keeps new issues' labels is no longer known (a create whose
        answer was lost, a label add refused): look-ups there list the issues triage created
        until a create shows the labels again."""
        key = repository.lower()
        if key in self._labels_kept:
            # What was seen last stays (for `note_created`'s one warning); it is believed no more.
            self._labels_kept[key] = (self._labels_kept[key][0], -math.inf)

    def believed_kept(self, repository: str) -> bool:
        """Whether look-ups in `repository` trust the labels now (`_labels_known_kept`): a
        create made so that shows them dropped may have missed an unlabelled issue."""
        return self._labels_known_kept(repository)

    def _labels_known_kept(self, repository: str) -> bool:
        """Whether a create in `repository` showed GitHub keeping the labels, LABELS_KEPT_S
        ago or less, and nothing said since that it may have stopped."""
        kept, since = self._labels_kept.get(repository.lower(), (False, 0.0))
        return kept and self._clock() - since < LABELS_KEPT_S

    async def find_marked_issue(
        self, repository: str, marker_fingerprint: str, *, besides: int | None = None
    ) -> dict[str, Any] | None:
        """The newest open `triage` issue whose body holds the fingerprint marker (other than
        issue number `besides`)."""
        marker = text.fingerprint_marker(marker_fingerprint)
        return await self.find_open_issue(
            repository, text.TRIAGE_LABEL, marker, term=marker_fingerprint, besides=besides
        )

    async def find_digest(self, repository: str) -> dict[str, Any] | None:
        """The newest open storm digest triage opened in `repository` that takes entries (not
        locked, not at GitHub's cap on comments: `takes_comments`): listed by its
        label, else among the `triage` issues (list pages only), which is where a digest is
        whose `triage-digest` label the token could not create (`StormDigest`). That second
        list is read only when the first finds none, which is once per storm and process (the
        digest is remembered once found): one call per hundred open `triage` issues, at most
        LOOKUP_PAGES. Where labels are not known to be kept, the first list is of the issues
        triage created, every digest among them."""
        found = await self.find_open_issue(
            repository, text.DIGEST_LABEL, text.DIGEST_MARKER, unlocked=True
        )
        if found is not None or not self._labels_known_kept(repository):
            return found
        return await self.find_open_issue(
            repository, text.TRIAGE_LABEL, text.DIGEST_MARKER, unlocked=True, older=False
        )

    async def find_open_issue(
        self,
        repository: str,
        label: str,
        marker: str,
        *,
        unlocked: bool = False,
        term: str | None = None,
        older: bool = True,
        besides: int | None = None,
    ) -> dict[str, Any] | None:
        """The newest open issue with `label` whose body holds `marker` and that triage opened
        (`_first_adoptable`). The issues list is read first, newest first, for LOOKUP_PAGES pages:
        the search API's index lags behind a fresh create (the issue a retried open looks
        for), the list does not. A repository with more such issues than that has its older
        ones found by the search API (for `term`, which the body holds; not with `older`
        False), whose index holds them by now: reading every page for each new incident
        would cost a call per hundred open issues. Only where this process saw GitHub keep
        an issue's labels are the issues with `label` listed; elsewhere those triage created
        (the module docstring). Issue number `besides` is passed over."""
        if self._labels_known_kept(repository):
            by = {"labels": label}
        else:
            by = {"creator": await self._api.whoami()}
        wanted = _Wanted(marker, unlocked, besides)
        found, complete = await self._list_open(repository, by, wanted, LOOKUP_PAGES)
        if found is None and not complete and older:
            self._say_many_open(repository)
            qualifier = f'label:"{label}"' if "labels" in by else _author(by["creator"])
            found = await self._search_open_issue(repository, qualifier, wanted, term)
        return found

    async def _list_open(
        self,
        repository: str,
        by: dict[str, str],
        wanted: _Wanted,
        pages: int,
    ) -> tuple[dict[str, Any] | None, bool]:
        """The first adoptable issue among the open issues `by` selects (a label or a
        creator), newest first, read for at most `pages` pages; and whether every one was
        read."""
        params = {"state": "open", **by, "sort": "created", "direction": "desc"}
        for page in range(1, pages + 1):
            path = f"/repos/{repository}/issues"
            items = await self._page(path, params, page, "a list of issues")
            found = await self._first_adoptable(items, wanted)
            if found is not None:
                return found, True
            if len(items) < PAGE_SIZE:
                return None, True  # every open issue it selects was read
        return None, False

    async def _search_open_issue(
        self, repository: str, qualifier: str, wanted: _Wanted, term: str | None
    ) -> dict[str, Any] | None:
        """The newest open issue the search API finds with `qualifier` (a label, or an
        author) and `term` that holds `marker` and that triage opened. A search that says its
        results are incomplete (it ran out of time) may have missed it: a wait
        (`bad_response`), never a create."""
        query = f"repo:{repository} is:issue is:open {qualifier}"
        if term is not None:
            query += f' "{term}" in:body'
        for page in range(1, SEARCH_PAGES + 1):
            params = {"q": query, "sort": "created", "order": "desc", "per_page": PAGE_SIZE}
            answer = record(
                await self._api.call("GET", "/search/issues", params={**params, "page": page}),
                "search results",
            )
            if answer.get("incomplete_results") is not False:
                raise GitHubUnavailableError(
                    f"GitHub's search for {repository}'s issue answered incomplete results",
                    reason="bad_response",
                )
            items = records(answer.get("items"), "a list of issues")
            found = await self._first_adoptable(items, wanted)
            if found is not None or len(items) < PAGE_SIZE:
                return found
        return None

    async def _first_adoptable(
        self, items: list[dict[str, Any]], wanted: _Wanted
    ) -> dict[str, Any] | None:
        """The first of `items` (issues, newest first) that is an issue (not a pull request),
        holds `marker` on a line of its own and that triage opened (with `unlocked`, one that
        is not locked: the digest, which takes comments). Only triage's own: a person who
        opens an issue with a triage issue's body copied in copies its hidden marker too, and
        the incident (or a storm's entries) would be written into an issue triage did not
        open. Who we are is asked only for an issue that holds the marker (rare: a retried
        effect), so a look-up that finds nothing costs no extra call."""
        for item in items:
            if wanted.unlocked and not takes_comments(item):
                continue
            if wanted.besides is not None and item.get("number") == wanted.besides:
                continue
            body = text_or_empty(item.get("body"))
            if "pull_request" in item or not text.has_marker(body, wanted.marker):
                continue
            if await self._written_by_us(item):
                return item
        return None

    def _say_many_open(self, repository: str) -> None:
        """One warning per repository (per process) that its open triage issues outnumber
        what the list look-up reads, so older ones are looked up through the search API."""
        key = repository.lower()
        if key in self._many_open:
            return
        self._many_open.add(key)
        log.warning(
            "github.many_open_issues",
            repository=repository,
            listed=LOOKUP_PAGES * PAGE_SIZE,
            action="search_older",
            hint="close the incidents' issues that are over, or route to more repositories",
        )

    async def _written_by_us(self, item: dict[str, Any]) -> bool:
        """Whether the author (`user`) of `item`, an issue or a comment, is triage's login
        (the token's user, or the App's bot)."""
        user = item.get("user")
        login = user.get("login") if isinstance(user, dict) else None
        return isinstance(login, str) and login.lower() == (await self._api.whoami()).lower()

    async def recent_comments(
        self, repository: str, number: int, total: int
    ) -> list[dict[str, Any]]:
        """The last one to two pages of the issue's comments (the 100-200 most recent): where a
        comment posted by an earlier attempt of the same effect must be."""
        if total <= 0:
            return []
        last = math.ceil(total / PAGE_SIZE)
        comments: list[dict[str, Any]] = []
        path = f"/repos/{repository}/issues/{number}/comments"
        for page in range(max(1, last - 1), last + 1):
            comments.extend(await self._page(path, {}, page, "a list of comments"))
        return comments

    async def _page(
        self, path: str, params: dict[str, str], page: int, what: str
    ) -> list[dict[str, Any]]:
        """Page `page` (of PAGE_SIZE items) of the list at `path`; read again as pages of
        SMALL_PAGE_SIZE when it is too large to read (`AnswerTooLargeError`), which a flood
        of long comments anyone may post would otherwise make a failure of every retry."""
        try:
            answer = await self._api.call(
                "GET", path, params={**params, "per_page": PAGE_SIZE, "page": page}
            )
            return records(answer, what)
        except AnswerTooLargeError:
            log.info("github.page_too_large", path=path, page=page, action="smaller_pages")
        items: list[dict[str, Any]] = []
        small_pages = PAGE_SIZE // SMALL_PAGE_SIZE  # the small pages one page holds
        for small in range((page - 1) * small_pages + 1, page * small_pages + 1):
            answer = await self._api.call(
                "GET", path, params={**params, "per_page": SMALL_PAGE_SIZE, "page": small}
            )
            part = records(answer, what)
            items.extend(part)
            if len(part) < SMALL_PAGE_SIZE:
                break
        return items

    async def marked_by_us(self, comment: dict[str, Any], marker: str) -> bool:
        """Whether `comment` holds `marker` (`text.has_marker`) and triage wrote it: anyone who
        may comment (on a public repository, anyone) can write a marker line, and one taken for
        ours would skip an effect's comment or give an incident a digest entry triage cannot
        edit."""
        if not text.has_marker(text_or_empty(comment.get("body")), marker):
            return False
        return await self._written_by_us(comment)


def takes_comments(issue: dict[str, Any]) -> bool:
    """Whether `issue` (as GitHub answers it) still takes triage's comments: not locked, and
    below GitHub's cap on comments (`text.COMMENTS_CAP`), past which every comment is refused
    for good. A count of another shape is no count: the comment's own answer will tell."""
    if issue.get("locked") is True:
        return False
    count = issue.get("comments")
    if not isinstance(count, int) or isinstance(count, bool):
        return True
    return count < text.COMMENTS_CAP


@dataclass(frozen=True, slots=True)
class _Wanted:
    """What a look-up adopts: an issue holding `marker`, with `unlocked` only one that takes
    comments (`takes_comments`: not locked, not at GitHub's cap), and never issue number
    `besides`."""

    marker: str
    unlocked: bool
    besides: int | None


def _author(login: str) -> str:
    """The search API's qualifier for issues `login` opened: an App's bot `<slug>[bot]` is
    written `author:app/<slug>` there."""
    if login.endswith("[bot]"):
        return f"author:app/{login.removesuffix('[bot]')}"
    return f"author:{login}"
