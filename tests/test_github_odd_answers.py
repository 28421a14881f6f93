"""The github sink against answers a stand-in (or GitHub) may give that no earlier test covers:
a repository renamed whose old name answers 301 to every request (writes too), a repository
blocked for legal reasons (451), a lock said with 422, a body or a label GitHub counts longer
than triage does. Each: one clear log line, nothing lost, no duplicate issue. Over real HTTP
to the loopback stand-in."""

from __future__ import annotations

import dataclasses
import re
from collections.abc import AsyncIterator, Iterator, MutableMapping
from typing import Any

import pytest

from github_stub import Answer, _error
from test_github_later_life import REPO, TOKEN, LaterLifeGitHub, effect, opened
from triage.errors import GitHubThrottledError, GitHubUnavailableError, SinkUnreachableError
from triage.models import EffectKind, Status, Ticket
from triage.settings import Settings
from triage.sinks.base import Applied, NotSent, Target
from triage.sinks.github import GitHubSink
from triage.sinks.github.api import SECONDARY_LIMIT_WAIT_S
from triage.view import GroupView, MemberView

Logs = list[MutableMapping[str, Any]]
NEW = "acme/renamed"


class OddGitHub(LaterLifeGitHub):
    """LaterLifeGitHub, plus: `renamed` old names answer 301 to `/repositories/{id}/…` for
    every method (as a proxy, or an older GitHub, may); `blocked` repositories answer 451;
    `locked_422` issues refuse comments with 422; bodies and label names are measured in
    UTF-8 bytes (stricter than any count GitHub may use)."""

    def __init__(self, **kwargs: Any) -> None:
        self.renamed: dict[str, int] = {}
        self.blocked: set[str] = set()
        self.locked_422: set[tuple[str, int]] = set()
        super().__init__(**kwargs)

    def rename_everywhere(self, old: str, new: str) -> None:
        """Rename `old` to `new`; every request to `old` is answered 301 from now on."""
        self.rename(old, new)
        with self._lock:
            self.renamed[old] = self._repo_id(new)

    def _route(
        self, method: str, path: str, query: dict[str, str], headers: dict[str, str], body: Any
    ) -> Answer:
        bare = re.fullmatch(r"/repositories/(\d+)", path)
        if bare and int(bare[1]) in self.ids:  # the repository itself, by its id
            path = f"/repos/{self.ids[int(bare[1])]}"
        repo = re.match(r"/repos/([^/]+/[^/]+)(/.*)?$", path)
        if repo and repo[1] in self.renamed:
            where = f"{self.url}/repositories/{self.renamed[repo[1]]}{repo[2] or ''}"
            return 301, {"message": "Moved Permanently", "url": where}, {"Location": where}
        if repo and repo[1] in self.blocked:
            return _error(451, "Repository access blocked")
        issue = re.fullmatch(r"/repos/([^/]+/[^/]+)/issues/(\d+)/comments", path)
        if issue and method == "POST" and (issue[1], int(issue[2])) in self.locked_422:
            return _error(422, "Validation Failed", [{"message": "issue is locked"}])
        if issue and method == "POST" and isinstance(body, dict) and _too_long(body):
            return _error(422, "Validation Failed", [BODY_TOO_LONG])
        return super()._route(method, path, query, headers, body)

    def _create_issue(self, actor: str, params: dict[str, str], query: Any, body: Any) -> Answer:
        if isinstance(body, dict) and _too_long(body):
            return _error(422, "Validation Failed", [BODY_TOO_LONG])
        for label in (body.get("labels") or []) if isinstance(body, dict) else []:
            if len(str(label).encode()) > 50:
                error = {
                    "resource": "Label",
                    "code": "custom",
                    "field": "name",
                    "message": "name is too long (maximum is 50 characters)",
                }
                return _error(422, "Validation Failed", [error])
        return super()._create_issue(actor, params, query, body)


BODY_TOO_LONG = {
    "resource": "Issue",
    "code": "custom",
    "field": "body",
    "message": "body is too long (maximum is 65536 characters)",
}


def _too_long(body: dict[str, Any]) -> bool:
    """Whether a request's `body` is over GitHub's limit, counted in UTF-8 bytes."""
    return len(str(body.get("body", "")).encode()) > 65_536


@pytest.fixture
def github() -> Iterator[OddGitHub]:
    with OddGitHub(tokens={TOKEN: "triage-bot"}, repositories=(REPO, "acme/new")) as server:
        yield server


@pytest.fixture
async def sink(github: OddGitHub) -> AsyncIterator[GitHubSink]:
    settings = Settings(github_api_url=github.url, github_repository=REPO, github_token=TOKEN)
    s = GitHubSink(settings)
    try:
        yield s
    finally:
        await s.aclose()


def warnings(logs: Logs) -> list[str]:
    return [e["event"] for e in logs if e["log_level"] == "warning"]


async def test_a_new_incident_in_a_renamed_repository_is_opened_under_its_new_name(
    sink: GitHubSink, github: OddGitHub, logs: Logs
) -> None:
    """A route still naming a repository since renamed, whose old name answers 301 to the
    create too (a POST cannot follow a 301): the issue is opened under the new name, once,
    with one warning naming both names; a retry finds it instead of opening a second."""
    await opened(sink)
    github.rename_everywhere(REPO, NEW)
    fresh = dataclasses.replace(
        effect(EffectKind.OPEN, None, "fp2:1"), fingerprint="f" * 64, idempotency_key="f:1"
    )
    made = await sink.apply(fresh)
    again = await sink.apply(fresh)
    assert made.ref == again.ref == f"{github.url}/{NEW}/issues/2"
    assert len(github.issues(NEW)) == 2
    assert warnings(logs) == ["github.repository_renamed"]
    said = next(e for e in logs if e["event"] == "github.repository_renamed")
    assert (said["repository"], said["now"]) == (REPO, NEW)


async def test_a_blocked_repository_makes_a_new_incident_wait_not_fail(
    sink: GitHubSink, github: OddGitHub
) -> None:
    """A repository GitHub blocks for legal reasons (451) is about the repository, not the
    ticket: the message waits (the route's mistake, or our access), never a rejection that
    dead-letters the incident's ticket."""
    github.blocked.add(REPO)
    with pytest.raises((GitHubUnavailableError, SinkUnreachableError), match="451"):
        await sink.apply(effect(EffectKind.OPEN, None, "fp:1"))


async def test_an_update_in_a_blocked_repository_is_skipped_with_one_warning(
    sink: GitHubSink, github: OddGitHub, logs: Logs
) -> None:
    """An update of an issue whose repository GitHub has since blocked (451) is skipped with
    one warning, the ticket out of reach, not a failure sending the message to the DLQ."""
    ref = await opened(sink)
    github.blocked.add(REPO)
    applied = await sink.apply(effect(EffectKind.UPDATE, ref, "fp:2"))
    assert applied.why is NotSent.REFUSED and applied.skipped == "issue blocked (451)"
    assert warnings(logs) == ["github.issue_blocked"]


async def test_a_lock_said_with_422_still_closes_the_issue(
    sink: GitHubSink, github: OddGitHub, logs: Logs
) -> None:
    """A comment refused with 422 "issue is locked" is a lock as GitHub's 403 is: the close
    goes ahead without its comment, one warning."""
    ref = await opened(sink)
    github.locked_422.add((REPO, 1))
    assert await sink.apply(effect(EffectKind.CLOSE, ref, "fp:2")) == Applied()
    [issue] = github.issues()
    assert (issue["state"], issue["comment_bodies"]) == ("closed", [])
    assert warnings(logs) == ["github.issue_locked"]


async def test_a_body_github_counts_too_long_is_cut_harder_not_lost(
    sink: GitHubSink, github: OddGitHub, logs: Logs
) -> None:
    """A summary of 20,000 emoji fits triage's count of characters, but not one that counts
    bytes: GitHub's 422 "body is too long" gets the issue created again with the body cut to
    fit any count, its marker kept (a retry finds it), one warning; never a lost ticket."""
    opening = effect(EffectKind.OPEN, None, "fp:1")
    ticket = Ticket(
        title="Emoji storm", priority=opening.ticket.priority, description="🔥" * 20_000
    )
    opening = dataclasses.replace(opening, ticket=ticket)
    made = await sink.apply(opening)
    again = await sink.apply(opening)
    [issue] = github.issues()
    assert made.ref == again.ref == issue["html_url"]
    assert len(issue["body"].encode()) <= 65_536
    assert issue["body"].rstrip().endswith(f"<!-- triage:fingerprint={opening.fingerprint} -->")
    assert warnings(logs) == ["github.body_refused"]


async def test_labels_github_counts_too_long_leave_the_issue_its_own(
    sink: GitHubSink, github: OddGitHub, logs: Logs
) -> None:
    """A team of 50 emoji makes a label of 50 characters that is longer by another count: the
    issue is created with triage's own labels, with one warning."""
    opening = effect(EffectKind.OPEN, None, "fp:1")
    alert = dataclasses.replace(opening.alert, team="🚀" * 60)
    routed = dataclasses.replace(opening, alert=alert, target=Target(labels=("ü" * 49,)))
    await sink.apply(routed)
    [issue] = github.issues()
    assert [label["name"] for label in issue["labels"]] == ["triage", "priority:P1"]
    assert warnings(logs) == ["github.labels_refused"]


async def test_a_comment_of_the_largest_group_fits_any_count_of_githubs(
    sink: GitHubSink, github: OddGitHub, logs: Logs
) -> None:
    """An update listing a group of 50 alerts whose titles are all emoji (four UTF-8 bytes,
    two UTF-16 units each) stays inside GitHub's 65,536 however it counts: the members list
    is bounded in characters and each title in length, so the comment is posted whole, once,
    with no refusal to cut it after."""
    ref = await opened(sink)
    since = effect(EffectKind.OPEN, None, "x").alert.occurred_at
    members = tuple(MemberView(f"{n:064x}", "🔥" * 300, Status.FIRING, since) for n in range(50))
    update = effect(EffectKind.UPDATE, ref, "fp:2")
    grouped = dataclasses.replace(
        update, alert=dataclasses.replace(update.alert, group=GroupView({"svc": "db"}, members))
    )
    assert await sink.apply(grouped) == Applied()
    assert await sink.apply(grouped) == Applied()
    [comment] = github.issues()[0]["comment_bodies"]
    assert comment.count("🔥") >= 50 * 150
    assert len(comment.encode()) <= 65_536
    assert warnings(logs) == []


async def test_an_issue_transferred_out_of_sight_then_404_is_gone_and_refires_once(
    sink: GitHubSink, github: OddGitHub, logs: Logs
) -> None:
    """An issue first answered 301 (transferred; the update follows it and keeps the new
    reference), then 404 at its new place (moved again, out of our sight) while the
    repository still reads: the close is skipped with one `github.issue_gone` warning, and a
    re-fire opens one new issue where the route puts them, found again on a retry."""
    ref = await opened(sink)
    number = github.transfer(1, "acme/new")
    moved = await sink.apply(effect(EffectKind.UPDATE, ref, "fp:2"))
    assert moved.ref == f"{github.url}/acme/new/issues/{number}"
    # Its new place answers 404 to each of the three reads below (the close, the re-fire, the
    # re-fire's retry after its answer was lost).
    github.fail_next(3, 404, message="Not Found", method="GET", path=f"/acme/new/issues/{number}")
    closed = await sink.apply(effect(EffectKind.CLOSE, moved.ref, "fp:3"))
    assert (closed.skipped, closed.gone) == ("issue gone (404)", True)
    refire = effect(EffectKind.REOPEN, moved.ref, "fp:4")
    first = await sink.apply(refire)
    again = await sink.apply(refire)
    assert first.ref == again.ref == f"{github.url}/{REPO}/issues/2"
    assert len(github.issues()) == 2
    assert warnings(logs) == ["github.issue_gone"] * 3  # one per attempt


async def test_a_create_refused_as_spam_is_held_not_dead_lettered(
    sink: GitHubSink, github: OddGitHub
) -> None:
    """GitHub's 422 "the endpoint has been spammed" (its docs: validation failed, or the
    endpoint has been spammed) refuses content created too fast, not the ticket: the message
    is held as for a secondary rate limit, never rejected (its ticket would be lost)."""
    github.fail_next(1, 422, message="This endpoint has been spammed.", method="POST")
    with pytest.raises(GitHubThrottledError) as held:
        await sink.apply(effect(EffectKind.OPEN, None, "fp:1"))
    assert held.value.retry_after_s == SECONDARY_LIMIT_WAIT_S
    assert github.issues() == []
