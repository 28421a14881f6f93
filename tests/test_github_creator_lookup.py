"""Where GitHub drops triage's labels, a replica that has not created an issue in the repository
yet (another replica did, or this one restarted) finds an incident's unlabelled issue by its
creator, however many newer open issues sit above it, instead of opening a second issue.
Against the loopback GitHub stub over real HTTP."""

from __future__ import annotations

from github_stub import GitHubServer, _Issue
from test_github_lookup_more import (
    REPO,
    TOKEN,
    LabelDroppingGitHub,
    UnlabelledSearchingGitHub,
    github_sink,
    incident,
    lists,
)
from test_github_marker_pages import OPEN_ISSUES

#: More newer open issues than one page of the issues list holds.
NEWER = 150


def add_open_issues(github: GitHubServer, count: int, *, author: str) -> None:
    """Open `count` issues in REPO by `author`, newer than every issue there."""
    with github._lock:
        issues = github._repos[REPO]
        for _ in range(count):
            number = len(issues) + 1
            issues.append(_Issue(number, f"Question {number}", "Hi", author, github.clock()))


async def test_another_replica_finds_an_unlabelled_issue_below_a_page_of_newer_ones() -> None:
    """An incident's issue that lost its labels, with 150 newer open issues by people above
    it, is found by a replica that never created one there: by the issues triage created, not
    by the newest page of all open issues (where it no longer is)."""
    with LabelDroppingGitHub(tokens={TOKEN: "triage-bot"}) as github:
        async with github_sink(github.url) as one:
            first = await one.apply(incident(1))
        add_open_issues(github, NEWER, author="someone")
        async with github_sink(github.url) as two:
            again = await two.apply(incident(1))
        issues = github.issues()
    assert again.ref == first.ref == f"{github.url}/{REPO}/issues/1"
    assert len(issues) == NEWER + 1


async def test_a_replica_that_never_created_here_searches_older_ones_by_author() -> None:
    """Where labels are dropped and triage's own open issues outnumber what the list reads, a
    replica that never created one there finds an issue older than the newest 1,000 through
    the search API by its author, instead of opening a second one."""
    older = incident(5)
    with UnlabelledSearchingGitHub(tokens={TOKEN: "triage-bot"}, repositories=(REPO,)) as github:
        github.seed(REPO, OPEN_ISSUES, author="triage-bot", marked={5: older.fingerprint})
        github.unlabel_all(REPO)
        async with github_sink(github.url) as sink:
            found = await sink.apply(older)
        issues = github.issues()
    assert found.ref == f"{github.url}/{REPO}/issues/5"
    assert len(issues) == OPEN_ISSUES
    assert github.searches[-1].startswith(f"repo:{REPO} is:issue is:open author:triage-bot ")


async def test_before_the_first_create_a_new_incident_costs_one_list() -> None:
    """Until this process has seen GitHub keep an issue's labels in a repository, a new
    incident's look-up is one list of the issues triage created (no second list), and once it
    has, one list of the `triage` issues."""
    with GitHubServer(tokens={TOKEN: "triage-bot"}) as github:
        async with github_sink(github.url) as sink:
            await sink.apply(incident(1))
            await sink.apply(incident(2))
    assert lists(github) == ["creator=triage-bot", "labels=triage"]
