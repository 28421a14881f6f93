"""The GitHub sink's marker look-up in a repository with more open triage issues than its list
reads (1,200, generated): an incident whose issue is older than the newest 1,000 still finds
it (through the search API, which the loopback GitHub answers as GitHub does) instead of
opening a duplicate; a search that says its results are incomplete is a wait, never a create."""

from __future__ import annotations

import re
import threading
from collections.abc import Iterator, MutableMapping
from typing import Any
from urllib.parse import urlsplit

import pytest

from github_stub import GitHubServer, _Issue
from test_github_sink import BOT_TOKEN, REPO, FakeClock, effect, incident, open_sink
from triage.errors import GitHubUnavailableError
from triage.sinks.github import text
from triage.sinks.github.lookup import LOOKUP_PAGES, PAGE_SIZE

#: More open triage issues than the list look-up reads.
OPEN_ISSUES = LOOKUP_PAGES * PAGE_SIZE + 200


class SearchingGitHub(GitHubServer):
    """The stub plus `GET /search/issues` as GitHub answers it for `repo:`, `is:issue`,
    `is:open`, `label:` and one quoted term (matched in the body), newest first; issues past
    `indexed_upto` are not in the index yet (it lags behind creates), and `incomplete` makes
    it say its results are incomplete (a search that timed out)."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.indexed_upto: int | None = None
        self.incomplete = False
        self.searches: list[str] = []
        self._search_lock = threading.Lock()

    def seed(self, repository: str, count: int, *, author: str, marked: dict[int, str]) -> None:
        """Add `count` open `triage` issues by `author`; issue n's body holds the fingerprint
        marker of `marked[n]` (others: of a fingerprint of their own)."""
        with self._lock:
            issues = self._repos[repository]
            for _ in range(count):
                number = len(issues) + 1
                fingerprint = marked.get(number, f"{number:032x}")
                body = f"An incident\n\n{text.fingerprint_marker(fingerprint)}"
                issues.append(
                    _Issue(number, f"[P2] #{number}", body, author, self.clock(), ["triage"])
                )

    def _route(
        self, method: str, path: str, query: dict[str, str], headers: dict[str, str], body: Any
    ) -> tuple[int, Any, dict[str, str]]:
        if method == "GET" and urlsplit(path).path == "/search/issues":
            if self._actor(headers) is None:
                return 401, {"message": "Bad credentials"}, {}
            return self._search(query)
        return super()._route(method, path, query, headers, body)

    def _search(self, query: dict[str, str]) -> tuple[int, Any, dict[str, str]]:
        q = query.get("q", "")
        with self._search_lock:
            self.searches.append(q)
        repo = re.search(r"\brepo:(\S+)", q)
        label = re.search(r'\blabel:"?([^"\s]+)"?', q)
        term = re.search(r'(?:^|\s)"([^"]+)"', q)
        if repo is None or repo[1] not in self._repos:
            return 422, {"message": "Validation Failed"}, {}
        hits = [
            i
            for i in self._repos[repo[1]]
            if ("is:open" not in q or i.state == "open")
            and (label is None or label[1] in i.labels)
            and (term is None or term[1] in i.body)
            and (self.indexed_upto is None or i.number <= self.indexed_upto)
        ]
        hits.sort(key=lambda i: i.number, reverse=True)
        per_page = min(100, int(query.get("per_page", 30)))
        page = int(query.get("page", 1))
        shown = hits[(page - 1) * per_page : page * per_page]
        return (
            200,
            {
                "total_count": len(hits),
                "incomplete_results": self.incomplete,
                "items": [self._render(repo[1], i) for i in shown],
            },
            {},
        )


@pytest.fixture
def wall() -> FakeClock:
    return FakeClock(1_800_000_000.0)


@pytest.fixture
def mono() -> FakeClock:
    return FakeClock(5_000.0)


@pytest.fixture
def github(wall: FakeClock) -> Iterator[SearchingGitHub]:
    server = SearchingGitHub(tokens={BOT_TOKEN: "triage-bot"}, repositories=(REPO,), clock=wall)
    with server:
        yield server


def list_pages(github: GitHubServer) -> int:
    return len([c for c in github.calls if c["path"] == f"/repos/{REPO}/issues"])


async def test_an_issue_older_than_the_pages_read_is_found_not_duplicated(
    github: SearchingGitHub, mono: FakeClock, wall: FakeClock
) -> None:
    """With 1,200 open triage issues, an OPEN whose issue (#5) is older than the newest 1,000
    finds it (the search API, after the list's pages) and creates nothing."""
    github.seed(REPO, OPEN_ISSUES, author="triage-bot", marked={5: incident(1).fingerprint})
    async with open_sink(github, mono, wall) as sink:
        applied = await sink.apply(effect(alert=incident(1)))
    assert applied.ref == f"{github.url}/{REPO}/issues/5"
    assert len(github.issues()) == OPEN_ISSUES
    assert list_pages(github) == LOOKUP_PAGES
    assert len(github.searches) == 1


async def test_a_new_incident_in_a_crowded_repository_opens_one_issue_said_once(
    github: SearchingGitHub,
    mono: FakeClock,
    wall: FakeClock,
    logs: list[MutableMapping[str, Any]],
) -> None:
    """An incident that has no issue among 1,200 open ones gets exactly one (the search finds
    none), and one warning per repository says the list no longer reads them all."""
    github.seed(REPO, OPEN_ISSUES, author="triage-bot", marked={})
    async with open_sink(github, mono, wall) as sink:
        await sink.apply(effect(alert=incident(1), key="a"))
        await sink.apply(effect(alert=incident(2), key="b"))
        # Retried after its answer was lost: the newest, so found by the list, not searched.
        again = await sink.apply(effect(alert=incident(2), key="b"))
    assert len(github.issues()) == OPEN_ISSUES + 2
    assert again.ref == f"{github.url}/{REPO}/issues/{OPEN_ISSUES + 2}"
    assert len(github.searches) == 2
    (line,) = [e for e in logs if e["event"] == "github.many_open_issues"]
    assert line["repository"] == REPO and line["log_level"] == "warning"


async def test_an_incomplete_search_is_a_wait_not_a_create(
    github: SearchingGitHub, mono: FakeClock, wall: FakeClock
) -> None:
    """A search that says its results are incomplete (it timed out) may have missed the issue:
    the OPEN waits (GitHubUnavailableError) and nothing is created."""
    github.seed(REPO, OPEN_ISSUES, author="triage-bot", marked={5: incident(1).fingerprint})
    github.incomplete = True
    async with open_sink(github, mono, wall) as sink:
        with pytest.raises(GitHubUnavailableError) as caught:
            await sink.apply(effect(alert=incident(1)))
    assert caught.value.reason == "bad_response"
    assert len(github.issues()) == OPEN_ISSUES


async def test_a_search_hit_a_person_opened_is_not_adopted(
    github: SearchingGitHub, mono: FakeClock, wall: FakeClock
) -> None:
    """An old issue a person opened with a triage issue's body (marker included) copied in is
    found by the search but not taken for the incident's: one issue of triage's is created."""
    github.seed(REPO, 1, author="alice", marked={1: incident(1).fingerprint})
    github.seed(REPO, OPEN_ISSUES, author="triage-bot", marked={})
    async with open_sink(github, mono, wall) as sink:
        applied = await sink.apply(effect(alert=incident(1)))
    assert applied.ref == f"{github.url}/{REPO}/issues/{OPEN_ISSUES + 2}"
    assert len(github.searches) == 1
