"""The github sink tells a repository by GitHub's `id`, not by the name a route gives: after a
rename or a transfer to another owner (GitHub answers the old name with 301) the repository is
the same one, so a write refused there (403) is an access refusal that waits, not an issue
"moved away" and marked gone; a repository deleted and re-created under the same name is
another one, whose old issues are gone. Over real HTTP to a loopback stand-in."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator, Iterator, MutableMapping
from typing import Any

import httpx2
import pytest

from factories import alert
from github_stub import Answer
from test_github_later_life import (
    REPO,
    TOKEN,
    LaterLifeGitHub,
    effect,
    incident,
    opened,
    through_pipeline,
    warnings,
)
from triage.errors import GitHubUnavailableError
from triage.models import EffectKind, Status
from triage.settings import Settings
from triage.sinks.base import Applied, NotSent
from triage.sinks.github import GitHubSink


class RenamingGitHub(LaterLifeGitHub):
    """The later-life stand-in, whose repositories also have GitHub's `id` and move as GitHub
    moves them: renamed or transferred to another owner, the old name answers every call with
    a redirect to `/repositories/{id}/…` (301 for a GET, `write_redirect` for a write) until a
    repository of that name is created again, with a new id."""

    def __init__(self, **kwargs: Any) -> None:
        #: Old lower-case name → the id of the repository that had it.
        self.old_names: dict[str, int] = {}
        #: What a write to an old name is answered with (GitHub documents 307).
        self.write_redirect = 307
        super().__init__(**kwargs)

    def rename(self, old: str, new: str) -> None:
        """Rename (or transfer) `old` to `new`: its issues keep their numbers and its id."""
        super().rename(old, new)
        with self._lock:
            self.old_names[old.lower()] = self._repo_id(new)

    def recreate(self, name: str) -> None:
        """Delete repository `name` with its issues, and create an empty one of that name,
        with a new id: its old name's redirect, if any, ends."""
        with self._lock:
            for repo_id, known in list(self.ids.items()):
                if known == name:
                    del self.ids[repo_id]
            self.old_names.pop(name.lower(), None)
            self.moved = {key: to for key, to in self.moved.items() if key[0] != name}
            self._repos[name] = []
            self._new_repo_id(name)

    def open_issue(self, repository: str, author: str, body: str = "") -> None:
        """`author` opens an issue in `repository`, as a person does on GitHub."""
        with self._lock:
            request = {"title": "Printer on fire", "body": body}
            self._create_issue(author, {"repo": repository}, {}, request)

    def edit_issue(self, repository: str, number: int, **fields: Any) -> None:
        """A person edits issue `number` of `repository` (its `state`, its `body`)."""
        with self._lock:
            issue = self._repos[repository][number - 1]
            for name, value in fields.items():
                setattr(issue, name, value)

    def _route(
        self, method: str, path: str, query: dict[str, str], headers: dict[str, str], body: Any
    ) -> Answer:
        found = re.fullmatch(r"/repositories/(\d+)(/.*)?", path)
        if found and int(found[1]) in self.ids:
            path = f"/repos/{self.ids[int(found[1])]}{found[2] or ''}"
        named = re.fullmatch(r"/repos/([^/]+/[^/]+)(/.*)?", path)
        if named and named[1] not in self._repos and named[1].lower() in self.old_names:
            rest = named[2] or ""
            issue = re.match(r"/issues/(\d+)", rest)
            if issue is None or (named[1], int(issue[1])) not in self.moved:  # the stub's own
                status = 301 if method == "GET" else self.write_redirect
                where = f"{self.url}/repositories/{self.old_names[named[1].lower()]}{rest}"
                return status, {"message": "Moved Permanently", "url": where}, {"Location": where}
        return super()._route(method, path, query, headers, body)


@pytest.fixture
def github() -> Iterator[RenamingGitHub]:
    with RenamingGitHub(tokens={TOKEN: "triage-bot"}, repositories=(REPO, "acme/new")) as server:
        yield server


@pytest.fixture
async def sink(github: RenamingGitHub) -> AsyncIterator[GitHubSink]:
    settings = Settings(github_api_url=github.url, github_repository=REPO, github_token=TOKEN)
    s = GitHubSink(settings)
    try:
        yield s
    finally:
        await s.aclose()


#: Where the route's repository goes: renamed in its owner, or transferred to another owner.
NEW_NAMES = ["acme/renamed", "newco/ops"]


@pytest.mark.parametrize("now", NEW_NAMES)
async def test_a_moved_repository_keeps_working_and_its_reference_follows(
    sink: GitHubSink, github: RenamingGitHub, now: str
) -> None:
    """After the route's repository is renamed or transferred to another owner, an update
    reaches the issue where it is now and hands back its new reference, and a close through
    that reference closes it."""
    ref = await opened(sink)
    github.rename(REPO, now)
    applied = await sink.apply(effect(EffectKind.UPDATE, ref, "fp:2"))
    assert applied == Applied(f"{github.url}/{now}/issues/1")
    assert await sink.apply(effect(EffectKind.CLOSE, applied.ref, "fp:3")) == Applied()
    [issue] = github.issues(now)
    assert (issue["state"], len(issue["comment_bodies"])) == ("closed", 2)


@pytest.mark.parametrize("now", NEW_NAMES)
async def test_a_write_refused_after_a_followed_rename_waits(
    sink: GitHubSink, github: RenamingGitHub, logs: list[MutableMapping[str, Any]], now: str
) -> None:
    """The route's repository renamed (or transferred) mid-incident, then our write there
    refused (403, push access lost): the update waits as any access refusal does
    (`no_access`) instead of calling the issue moved away; once access is back it goes
    through."""
    ref = await opened(sink)
    github.rename(REPO, now)
    github.read_only.add(now)
    with pytest.raises(GitHubUnavailableError) as refused:
        await sink.apply(effect(EffectKind.UPDATE, ref, "fp:2"))
    assert refused.value.reason == "no_access"
    assert "github.issue_moved_away" not in warnings(logs)
    github.read_only.discard(now)
    applied = await sink.apply(effect(EffectKind.UPDATE, ref, "fp:2"))
    assert applied == Applied(f"{github.url}/{now}/issues/1")


@pytest.mark.parametrize("write_redirect", [301, 307])
async def test_a_write_refused_after_a_rename_learnt_on_create_waits(
    sink: GitHubSink,
    github: RenamingGitHub,
    logs: list[MutableMapping[str, Any]],
    write_redirect: int,
) -> None:
    """The route's repository renamed before the incident: its issue opens under the new name
    (the create's redirect followed, or the new name read after a 301); a later write refused
    there (403) waits as an access refusal, never marks the issue moved away."""
    github.rename(REPO, "acme/renamed")
    github.write_redirect = write_redirect
    ref = await opened(sink)
    assert github.issues("acme/renamed")
    github.read_only.add("acme/renamed")
    for kind in (EffectKind.UPDATE, EffectKind.CLOSE, EffectKind.REOPEN):
        with pytest.raises(GitHubUnavailableError, match="wait"):
            await sink.apply(effect(kind, ref, f"fp:{kind}"))
    assert "github.issue_moved_away" not in warnings(logs)
    assert len(github.issues("acme/renamed")) == 1


async def test_a_refused_write_after_a_rename_leaves_the_incident_not_gone(
    sink: GitHubSink, github: RenamingGitHub
) -> None:
    """Through the pipeline: the update refused after the rename fails its message as a wait
    (to be tried again), and the incident does not record its issue as gone, so its close,
    once access is back, closes the issue under the new name."""
    store, send = through_pipeline(sink)
    assert await send(0) == "open"
    github.rename(REPO, "acme/renamed")
    github.read_only.add("acme/renamed")
    with pytest.raises(GitHubUnavailableError):
        await send(20)
    incident = await store.get(alert().fingerprint)
    assert incident is not None and incident.gone == {}
    github.read_only.discard("acme/renamed")
    assert await send(25, Status.RESOLVED) == "close"
    assert github.issues("acme/renamed")[0]["state"] == "closed"


async def test_a_refire_in_the_renamed_archived_repository_is_skipped_as_read_only(
    sink: GitHubSink, github: RenamingGitHub, logs: list[MutableMapping[str, Any]]
) -> None:
    """The route's repository renamed, then archived: its issue's re-fire is skipped as read
    only, as in the route's repository under its old name, instead of taking the archive for
    another repository's and opening a new issue there that GitHub refuses."""
    github.rename(REPO, "acme/renamed")
    ref = await opened(sink)
    github.archived.add("acme/renamed")
    update = await sink.apply(effect(EffectKind.UPDATE, ref, "fp:2"))
    where = update.ref or ref  # opened under the new name already (helper 501's 307 fix)
    assert (update.why, where) == (NotSent.REFUSED, f"{github.url}/acme/renamed/issues/1")
    refire = await sink.apply(effect(EffectKind.REOPEN, where, "fp:3"))
    assert (refire.skipped, refire.why) == ("repository read only", NotSent.REFUSED)
    assert len(github.issues("acme/renamed")) == 1


async def test_an_issue_transferred_to_another_repository_is_still_moved_away(
    sink: GitHubSink, github: RenamingGitHub, logs: list[MutableMapping[str, Any]]
) -> None:
    """An issue transferred into another repository (another id) where our token may not
    write is still out of reach: skipped with `github.issue_moved_away`, marked gone."""
    ref = await opened(sink)
    number = github.transfer(1, "acme/new")
    github.read_only.add("acme/new")
    applied = await sink.apply(effect(EffectKind.UPDATE, ref, "fp:2"))
    assert (applied.skipped, applied.gone) == ("issue moved away (403)", True)
    assert applied.ref == f"{github.url}/acme/new/issues/{number}"
    assert warnings(logs) == ["github.issue_moved_away"]


@pytest.mark.parametrize("learnt", ["on_read", "on_create"])
async def test_the_old_name_taken_by_a_new_repository_is_another_repository(
    sink: GitHubSink, github: RenamingGitHub, logs: list[MutableMapping[str, Any]], learnt: str
) -> None:
    """Renamed (the new name learnt by following a read, or from a create's 301), then a new
    repository created under the route's old name (another id): the issue left in the renamed
    one is no longer in the route's repository, so a write refused there (403) is
    `moved_away` (marked gone), and a re-fire opens a new issue under the route's name, in the
    new repository, not under the name learnt before."""
    if learnt == "on_create":
        github.rename(REPO, "acme/renamed")
        github.write_redirect = 301
        await opened(sink)
    else:
        ref = await opened(sink)
        github.rename(REPO, "acme/renamed")
        await sink.apply(effect(EffectKind.UPDATE, ref, "fp:2"))
    github.recreate(REPO)
    github.read_only.add("acme/renamed")
    moved = f"{github.url}/acme/renamed/issues/1"
    applied = await sink.apply(effect(EffectKind.UPDATE, moved, "fp:3"))
    assert (applied.skipped, applied.gone) == ("issue moved away (403)", True)
    refire = await sink.apply(effect(EffectKind.REOPEN, moved, "fp:4"))
    assert refire.ref == f"{github.url}/{REPO}/issues/1"
    assert len(github.issues(REPO)) == 1


@pytest.mark.parametrize("kind", [EffectKind.UPDATE, EffectKind.CLOSE])
async def test_a_recreated_repository_has_none_of_the_old_issues(
    sink: GitHubSink,
    github: RenamingGitHub,
    logs: list[MutableMapping[str, Any]],
    kind: EffectKind,
) -> None:
    """The route's repository deleted and created again under its name (another id): the
    incident's old issue is gone with it, so an update or close is skipped as gone (one
    warning, marked gone), not a failure of the message."""
    ref = await opened(sink)
    github.recreate(REPO)
    applied = await sink.apply(effect(kind, ref, "fp:2"))
    assert (applied.skipped, applied.gone) == ("issue gone (404)", True)
    assert warnings(logs) == ["github.issue_gone"]


async def test_a_refire_in_a_recreated_repository_opens_a_new_issue(
    sink: GitHubSink, github: RenamingGitHub
) -> None:
    """The route's repository deleted and created again: the incident's re-fire opens one new
    issue in the new repository (found again by its marker on a retry, never a second)."""
    ref = await opened(sink)
    github.recreate(REPO)
    refire = effect(EffectKind.REOPEN, ref, "fp:3")
    first = await sink.apply(refire)
    assert first.ref == f"{github.url}/{REPO}/issues/1"
    assert (await sink.apply(refire)).skipped is None
    [issue] = github.issues(REPO)
    assert issue["state"] == "open" and issue["body"].endswith(
        f"<!-- triage:fingerprint={refire.fingerprint} -->"
    )


@pytest.mark.parametrize("kind", [EffectKind.UPDATE, EffectKind.CLOSE])
async def test_a_persons_issue_under_the_old_number_is_left_alone(
    sink: GitHubSink,
    github: RenamingGitHub,
    logs: list[MutableMapping[str, Any]],
    kind: EffectKind,
) -> None:
    """The route's repository created again, where a person has opened an issue that took
    the number of the incident's old one: the update or close is skipped as gone (one
    `github.issue_gone`), and the person's issue gets no comment and stays open."""
    ref = await opened(sink)
    github.recreate(REPO)
    github.open_issue(REPO, "alice")
    applied = await sink.apply(effect(kind, ref, "fp:2"))
    assert (applied.skipped, applied.gone) == ("issue gone (404)", True)
    [issue] = github.issues(REPO)
    assert (issue["state"], issue["comment_bodies"]) == ("open", [])
    assert warnings(logs) == ["github.issue_gone"]


async def test_a_refire_over_a_persons_issue_opens_a_new_one(
    sink: GitHubSink, github: RenamingGitHub
) -> None:
    """The route's repository created again, with a person's issue under the old number
    (closed): the incident's re-fire opens its own new issue instead of reopening theirs."""
    ref = await opened(sink)
    github.recreate(REPO)
    github.open_issue(REPO, "alice")
    github.edit_issue(REPO, 1, state="closed")
    refire = await sink.apply(effect(EffectKind.REOPEN, ref, "fp:3"))
    assert refire.ref == f"{github.url}/{REPO}/issues/2"
    person, ours = github.issues(REPO)
    assert (person["state"], person["comment_bodies"]) == ("closed", [])
    assert ours["user"]["login"] == "triage-bot" and ours["state"] == "open"


async def test_another_incidents_issue_under_the_old_number_is_not_closed(
    sink: GitHubSink, github: RenamingGitHub
) -> None:
    """The route's repository created again, where triage has since opened another
    incident's issue under the old number: this incident's close leaves that issue open (its
    body names the other incident), even though triage wrote it."""
    ref = await opened(sink)
    github.recreate(REPO)
    assert (await sink.apply(incident(2))).ref == ref
    applied = await sink.apply(effect(EffectKind.CLOSE, ref, "fp:2"))
    assert (applied.skipped, applied.gone) == ("issue gone (404)", True)
    [issue] = github.issues(REPO)
    assert (issue["state"], issue["comment_bodies"]) == ("open", [])


async def test_our_issue_whose_marker_a_person_removed_is_still_ours(
    sink: GitHubSink, github: RenamingGitHub
) -> None:
    """An incident's issue whose body a person rewrote without triage's hidden marker is
    still the incident's (triage opened it): its close closes it."""
    ref = await opened(sink)
    github.edit_issue(REPO, 1, body="rewritten by hand")
    assert await sink.apply(effect(EffectKind.CLOSE, ref, "fp:2")) == Applied()
    assert github.issues(REPO)[0]["state"] == "closed"


class NoIdGitHub(RenamingGitHub):
    """The renaming stand-in, whose repository answers carry no `id` (a GitHub-compatible
    server that leaves it out): the sink tells repositories by the `full_name` answered."""

    def _get_repo(self, actor: str, params: dict[str, str], query: Any, body: Any) -> Answer:
        status, shown, headers = super()._get_repo(actor, params, query, body)
        return status, {k: v for k, v in shown.items() if k != "id"}, headers


async def test_without_an_id_a_repository_is_told_by_the_name_answered() -> None:
    """A stand-in that answers no repository `id`: the renamed route's repository is still
    the route's (a refused write waits, `no_access`), and once a repository is created again
    under the old name, the renamed one is another (a refused write there is moved away)."""
    with NoIdGitHub(tokens={TOKEN: "triage-bot"}, repositories=(REPO, "acme/new")) as github:
        settings = Settings(github_api_url=github.url, github_repository=REPO, github_token=TOKEN)
        sink = GitHubSink(settings)
        try:
            ref = await opened(sink)
            github.rename(REPO, "acme/renamed")
            github.read_only.add("acme/renamed")
            with pytest.raises(GitHubUnavailableError) as refused:
                await sink.apply(effect(EffectKind.UPDATE, ref, "fp:2"))
            assert refused.value.reason == "no_access"
            github.recreate(REPO)
            moved = f"{github.url}/acme/renamed/issues/1"
            applied = await sink.apply(effect(EffectKind.UPDATE, moved, "fp:3"))
            assert (applied.skipped, applied.gone) == ("issue moved away (403)", True)
        finally:
            await sink.aclose()


async def test_the_stub_answers_a_stable_id_per_repository(github: RenamingGitHub) -> None:
    """The stand-in (`github_stub.py`, renaming here) answers GitHub's `id` for a
    repository: the same on every read, another for another repository, kept through a
    rename, new for one created again."""
    async with httpx2.AsyncClient(
        base_url=github.url, headers={"Authorization": f"Bearer {TOKEN}"}
    ) as client:

        async def repo_id(name: str) -> int:
            answer = (await client.get(f"/repos/{name}", follow_redirects=True)).json()
            assert isinstance(answer["id"], int)
            return int(answer["id"])

        first = await repo_id(REPO)
        assert await repo_id(REPO) == first != await repo_id("acme/new")
        github.rename(REPO, "acme/renamed")
        assert await repo_id("acme/renamed") == first
        github.recreate(REPO)
        assert await repo_id(REPO) not in (first, await repo_id("acme/new"))
