"""The marker look-up and the storm digest where GitHub drops or refuses triage's labels,
against the loopback GitHub stub over real HTTP: a retried create finds the issue it made
instead of opening a second one, the storm digest finds itself without a label the token may
not create, and the normal path makes no extra call."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator, MutableMapping
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from typing import Any

import pytest
from pydantic import SecretStr

from factories import view
from github_stub import GitHubServer
from test_github_marker_pages import OPEN_ISSUES, SearchingGitHub
from triage.errors import GitHubUnavailableError
from triage.models import Alert, EffectKind, Priority, Status, Ticket
from triage.ratelimit import Budgets, LocalBudgets
from triage.settings import Settings
from triage.sinks.base import Effect
from triage.sinks.github import GitHubSink

TOKEN = "ghp_lookupMoreTestToken00000000000000000"
REPO = "acme/ops"
ISSUES = f"/repos/{REPO}/issues"
TICKET = Ticket(title="Replication lag", priority=Priority.HIGH, description="lag 90 s")
Logs = list[MutableMapping[str, Any]]


def incident(n: int) -> Effect:
    """The OPEN of the n-th distinct incident (its own fingerprint)."""
    alert = Alert(
        source="generic",
        status=Status.FIRING,
        title=f"orders-db replication lag {n}",
        team="data",
        priority=Priority.HIGH,
        occurred_at=datetime(2026, 11, 23, 3, tzinfo=UTC),
        identity={"dedup_key": f"lag-{n}"},
    )
    return Effect(
        EffectKind.OPEN, alert.fingerprint, view(alert), TICKET, None, 1, 1, False, f"k{n}:1"
    )


class LabelDroppingGitHub(GitHubServer):
    """The stub, dropping every label of a new issue, as GitHub does for a token without push
    access to the repository ("Labels are silently dropped otherwise"); `lose_answers` creates
    answers that are lost after the issue was made (a proxy's 502)."""

    lose_answers = 0

    def _create_issue(self, actor: str, params: dict[str, str], query: Any, body: Any) -> Any:
        kept = {**body, "labels": []} if isinstance(body, dict) else body
        answer = super()._create_issue(actor, params, query, kept)
        if self.lose_answers > 0:
            self.lose_answers -= 1
            return 502, {"message": "Bad Gateway"}, {}
        return answer


class LabelCreationRefusingGitHub(GitHubServer):
    """The stub, where a new issue may carry only the labels the repository has: one it lacks
    would have to be created, which the token may not do (403, as GitHub answers it)."""

    existing = frozenset({"triage", "priority:P1", "source:generic", "team:data"})

    def _create_issue(self, actor: str, params: dict[str, str], query: Any, body: Any) -> Any:
        labels = (body.get("labels") or []) if isinstance(body, dict) else []
        if set(labels) - self.existing:
            error = {"resource": "Repository", "field": "label", "code": "unauthorized"}
            message = "You do not have permission to create labels on this repository."
            return 403, {"message": message, "errors": [error]}, {}
        return super()._create_issue(actor, params, query, body)


@asynccontextmanager
async def github_sink(
    url: str, budgets: Budgets | None = None, **settings: Any
) -> AsyncIterator[GitHubSink]:
    values: dict[str, Any] = {
        "github_api_url": url,
        "github_repository": REPO,
        "github_token": SecretStr(TOKEN),
        **settings,
    }
    sink = GitHubSink(Settings(**values), budgets=budgets)
    try:
        yield sink
    finally:
        await sink.aclose()


def lists(github: GitHubServer) -> list[str]:
    """What each issues list the sink read selected, in order: `labels=…`, `creator=…` or
    `all` (open issues, newest first)."""
    queries = [c["query"] for c in github.calls if c["method"] == "GET" and c["path"] == ISSUES]
    assert all(q["state"] == "open" and q["direction"] == "desc" for q in queries)
    return [
        next((f"{key}={q[key]}" for key in ("labels", "creator") if key in q), "all")
        for q in queries
    ]


def events(logs: Logs, level: str) -> list[str]:
    return [e["event"] for e in logs if e["log_level"] == level]


# --- Labels dropped: a retried create finds its issue --------------------------------------


async def test_a_retried_create_finds_its_unlabelled_issue_once_drops_are_known() -> None:
    """Once GitHub has dropped a new issue's labels in a repository, the look-up lists the
    issues triage created (`creator`) instead of those labelled `triage`: an OPEN retried
    after its bookkeeping was lost finds its unlabelled issue, never a second, and each new
    incident costs one list call (the first too: before any create, the issues triage
    created are listed as well)."""
    with LabelDroppingGitHub(tokens={TOKEN: "triage-bot"}) as github:
        async with github_sink(github.url) as sink:
            first = await sink.apply(incident(1))
            second = await sink.apply(incident(2))
            again = await sink.apply(incident(2))
        issues = github.issues()
    assert (first.ref, again.ref) == (f"{github.url}/{REPO}/issues/1", second.ref)
    assert len(issues) == 2
    assert lists(github) == ["creator=triage-bot"] * 3


async def test_a_create_whose_answer_was_lost_is_found_without_its_labels() -> None:
    """The first create in a repository went through without its labels and its answer was
    lost (a 502): no create has shown the labels kept there yet, so the retry lists the issues
    triage created, and the issue is found, not opened a second time."""
    with LabelDroppingGitHub(tokens={TOKEN: "triage-bot"}) as github:
        github.lose_answers = 1
        async with github_sink(github.url) as sink:
            with pytest.raises(GitHubUnavailableError):
                await sink.apply(incident(1))
            again = await sink.apply(incident(1))
        issues = github.issues()
    assert again.ref == f"{github.url}/{REPO}/issues/1"
    assert len(issues) == 1


async def test_the_normal_path_lists_by_label_alone() -> None:
    """With labels kept, once this process created an issue in the repository, a new incident
    costs one `triage` list and one create, and a retry after a lost answer one list that
    finds it: no other list, no extra call. (Before the first create, and for the retry of a
    create whose answer was lost, the list is of the issues triage created: GitHub may have
    made that issue without its labels, in no label's list.)"""
    with GitHubServer(tokens={TOKEN: "triage-bot"}) as github:
        async with github_sink(github.url) as sink:
            await sink.apply(incident(1))
            first = [(c["method"], c["path"]) for c in github.calls]
            github.fail_next(1, 502, method="POST", path="/issues")
            with pytest.raises(GitHubUnavailableError):
                await sink.apply(incident(2))  # refused before it was made
            made = await sink.apply(incident(2))
            again = await sink.apply(incident(2))
        later = [(c["method"], c["path"]) for c in github.calls][len(first) :]
    assert made.ref == again.ref == f"{github.url}/{REPO}/issues/2"
    assert first == [("GET", "/user"), ("GET", ISSUES), ("POST", ISSUES)]
    assert later == [("GET", ISSUES), ("POST", ISSUES)] * 2 + [("GET", ISSUES)]
    by_creator, by_label = "creator=triage-bot", "labels=triage"
    assert lists(github) == [by_creator, by_label, by_creator, by_label]


# --- The storm digest's own label ------------------------------------------------------------


async def test_a_digest_label_the_token_may_not_create_does_not_refuse_the_storm(
    logs: Logs,
) -> None:
    """A repository without `triage-digest`, and a token that may not create labels (403):
    the digest issue is opened with `triage` alone, with one warning naming the label to
    create, and the storm's incidents become its entries instead of being refused."""
    with LabelCreationRefusingGitHub(tokens={TOKEN: "triage-bot"}) as github:
        async with github_sink(github.url, github_create_per_hour=2) as sink:
            await sink.apply(incident(1))
            storm = [(await sink.apply(incident(n))).ref for n in (2, 3, 4)]
        issues = github.issues()
    assert len(issues) == 2
    digest = issues[1]
    assert [label["name"] for label in digest["labels"]] == ["triage"]
    assert len(digest["comment_bodies"]) == 3
    assert all(ref and ref.startswith(f"{digest['html_url']}#issuecomment-") for ref in storm)
    assert events(logs, "warning") == ["github.digest_label_missing", "github.digest_opened"]
    warning = next(e for e in logs if e["event"] == "github.digest_label_missing")
    assert warning["label"] == "triage-digest" and warning["repository"] == REPO


async def test_another_replica_finds_the_digest_without_its_label() -> None:
    """A replica that did not open the unlabelled digest (or one restarted since) finds it by
    its marker among triage's issues, so a storm has one digest, not one per replica."""
    budgets = LocalBudgets()  # the store's budgets, shared by both replicas
    with LabelCreationRefusingGitHub(tokens={TOKEN: "triage-bot"}) as github:
        async with github_sink(github.url, budgets, github_create_per_hour=2) as one:
            await one.apply(incident(1))
            await one.apply(incident(2))
        async with github_sink(github.url, budgets, github_create_per_hour=2) as two:
            entry = (await two.apply(incident(3))).ref
        issues = github.issues()
    assert len(issues) == 2
    assert entry is not None and entry.startswith(f"{issues[1]['html_url']}#issuecomment-")
    assert len(issues[1]["comment_bodies"]) == 2


async def test_a_digest_in_a_repository_that_drops_labels_is_found_again() -> None:
    """Where GitHub drops every label of a new issue, the digest has none either: it is found
    by the issues triage created, so the storm's entries go into one digest."""
    budgets = LocalBudgets()
    with LabelDroppingGitHub(tokens={TOKEN: "triage-bot"}) as github:
        async with github_sink(github.url, budgets, github_create_per_hour=2) as one:
            await one.apply(incident(1))
            await one.apply(incident(2))
        async with github_sink(github.url, budgets, github_create_per_hour=2) as two:
            entry = (await two.apply(incident(3))).ref
        issues = github.issues()
    assert len(issues) == 2
    assert entry is not None and entry.startswith(f"{issues[1]['html_url']}#issuecomment-")


class UnlabelledSearchingGitHub(SearchingGitHub):
    """The searching stub where new issues lose their labels, and whose search also takes
    `author:` (`author:app/<slug>` for an App's bot), as GitHub's does."""

    def _create_issue(self, actor: str, params: dict[str, str], query: Any, body: Any) -> Any:
        kept = {**body, "labels": []} if isinstance(body, dict) else body
        return super()._create_issue(actor, params, query, kept)

    def _search(self, query: dict[str, str]) -> tuple[int, Any, dict[str, str]]:
        author = re.search(r"\bauthor:(\S+)", query.get("q", ""))
        status, found, headers = super()._search(query)
        if author is not None and isinstance(found, dict):
            login = re.sub(r"^app/(.*)$", r"\1[bot]", author[1])
            found["items"] = [i for i in found["items"] if i["user"]["login"] == login]
        return status, found, headers

    def unlabel_all(self, repository: str) -> None:
        with self._lock:
            for issue in self._repos[repository]:
                issue.labels.clear()


async def test_an_older_unlabelled_issue_is_found_by_searching_its_author() -> None:
    """Where labels are dropped and more open issues than the list reads are triage's, an
    incident whose issue is older than the newest 1,000 is found by the search API through
    its author (no label can find it), not opened a second time."""
    older = incident(5)
    with UnlabelledSearchingGitHub(tokens={TOKEN: "triage-bot"}, repositories=(REPO,)) as github:
        github.seed(REPO, OPEN_ISSUES, author="triage-bot", marked={5: older.fingerprint})
        github.unlabel_all(REPO)
        async with github_sink(github.url) as sink:
            await sink.apply(incident(1))  # learns that labels are dropped here
            found = await sink.apply(older)
        issues = github.issues()
    assert found.ref == f"{github.url}/{REPO}/issues/5"
    assert len(issues) == OPEN_ISSUES + 1
    assert github.searches[-1].startswith(f"repo:{REPO} is:issue is:open author:triage-bot ")


async def test_a_priority_label_the_token_may_not_create_does_not_refuse_the_issue(
    logs: Logs,
) -> None:
    """A repository with `triage` but not the incident's `priority:P1` label, and a token that
    may not create labels: after triage's own labels are refused too, the issue is created
    with `triage` alone (which the look-up lists), not refused as if the repository were out
    of reach; one `github.labels_refused` warning a step."""
    with LabelCreationRefusingGitHub(tokens={TOKEN: "triage-bot"}) as github:
        github.existing = frozenset({"triage"})
        async with github_sink(github.url) as sink:
            applied = await sink.apply(incident(1))
            again = await sink.apply(incident(1))
        issues = github.issues()
    assert applied.ref == again.ref == f"{github.url}/{REPO}/issues/1"
    assert [[label["name"] for label in issue["labels"]] for issue in issues] == [["triage"]]
    assert events(logs, "warning") == ["github.labels_refused", "github.labels_refused"]
