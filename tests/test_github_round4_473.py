"""Round 4 (helper 473): the GitHub sink's comments against a loopback server answering as
GitHub does: a re-fire whose comment GitHub refuses for its 2,500-comment cap (its count read
under it), a retry whose own comment was the issue's 2,500th, and a comment refused as too
long."""

from __future__ import annotations

import dataclasses
from collections.abc import MutableMapping
from dataclasses import replace
from typing import Any

import pytest

from github_stub import _error
from test_github_sink import BOT_TOKEN, REPO, FakeClock, effect, incident
from test_sinks_round2_464 import COMMENTS_CAP, CommentCapGitHub, guarded, new_incident
from triage.models import EffectKind, Status
from triage.sinks.base import Target
from triage.view import GroupView, MemberView

#: The 422 GitHub answers for a body past its limit.
BODY_TOO_LONG = {
    "resource": "IssueComment",
    "code": "custom",
    "field": "body",
    "message": "body is too long (maximum is 65536 characters)",
}


class LosingCapGitHub(CommentCapGitHub):
    """CommentCapGitHub, plus: `lose_comments` comments are posted and then answered 502 (the
    answer lost on its way back); a comment body longer than `body_bytes` UTF-8 bytes is
    refused with GitHub's 422 "body is too long" (a GitHub counting stricter than triage)."""

    lose_comments = 0
    body_bytes: int | None = None

    def _create_comment(self, actor: str, params: dict[str, str], query: Any, body: Any) -> Any:
        said = body.get("body") if isinstance(body, dict) else None
        too_long = isinstance(said, str) and len(said.encode()) > (self.body_bytes or len(said))
        if self.body_bytes is not None and too_long:
            return _error(422, "Validation Failed", [BODY_TOO_LONG])
        answer = super()._create_comment(actor, params, query, body)
        if self.lose_comments and answer[0] == 201:
            self.lose_comments -= 1
            return 502, {"message": "Bad Gateway"}, {}
        return answer

    def leave_room(self, repository: str, number: int, room: int) -> None:
        """Issue `number` filled to GitHub's cap, less `room` comments."""
        self.fill_comments(repository, number)
        with self._lock:
            del self._repos[repository][number - 1].comments[COMMENTS_CAP - room :]


@pytest.fixture
def wall() -> FakeClock:
    return FakeClock(1_800_000_000.0)


@pytest.fixture
def mono() -> FakeClock:
    return FakeClock(5_000.0)


@pytest.fixture
def capped(wall: FakeClock) -> Any:
    with LosingCapGitHub(tokens={BOT_TOKEN: "triage-bot"}, repositories=(REPO,), clock=wall) as s:
        yield s


def warnings(logs: list[MutableMapping[str, Any]]) -> list[MutableMapping[str, Any]]:
    return [e for e in logs if e["log_level"] == "warning" and e["event"] != "breaker.opened"]


async def test_a_refire_whose_comment_is_refused_for_the_cap_opens_a_new_issue_naming_the_old(
    capped: LosingCapGitHub,
    mono: FakeClock,
    wall: FakeClock,
    logs: list[MutableMapping[str, Any]],
) -> None:
    """A closed issue at GitHub's cap whose count GitHub reports under it (only the comment's
    403 says it is full) is re-fired as one read at the cap is: a new issue naming the old
    one, which is never reopened (not even for a moment), one warning; the retry finds the
    new issue rather than opening a third."""
    capped.stale_count = True
    async with guarded(capped, mono, wall) as guard:
        ref = (await guard.apply(new_incident(1, "open"))).ref
        capped.fill_comments(REPO, 1)
        capped.close_by_triage(REPO, 1)
        refire = effect(EffectKind.REOPEN, ref, "refire", alert=incident(1))
        refire = replace(refire, target=Target(repository=REPO))
        applied = await guard.apply(refire)
        retried = await guard.apply(refire)
    old, new = capped.issues(REPO)
    reopens = [
        c for c in capped.calls if c["method"] == "PATCH" and c["path"] == f"/repos/{REPO}/issues/1"
    ]
    assert old["state"] == "closed" and reopens == []
    assert len(old["comment_bodies"]) == COMMENTS_CAP
    assert new["state"] == "open" and applied.ref == retried.ref == new["html_url"]
    assert f"{REPO}#1" in new["body"]
    said = warnings(logs)
    assert [e["event"] for e in said] == ["github.issue_comments_full"], said
    assert said[0]["action"] == "open_new" and said[0]["issue"] == 1


async def test_a_retried_update_whose_comment_was_the_issues_last_is_not_refused(
    capped: LosingCapGitHub,
    mono: FakeClock,
    wall: FakeClock,
    logs: list[MutableMapping[str, Any]],
) -> None:
    """An update whose comment GitHub took as the issue's 2,500th, its answer lost, is found
    posted by its retry (its marker read before the cap is taken for a refusal): applied,
    not skipped as "issue comments full", and no warning says the issue refused it."""
    async with guarded(capped, mono, wall) as guard:
        ref = (await guard.apply(new_incident(1, "open"))).ref
        capped.leave_room(REPO, 1, 1)
        update = effect(EffectKind.UPDATE, ref, "update-1", alert=incident(1))
        update = replace(update, target=Target(repository=REPO))
        capped.lose_comments = 1
        with pytest.raises(Exception, match="502"):
            await guard.apply(update)
        retried = await guard.apply(update)
    (issue,) = capped.issues(REPO)
    assert len(issue["comment_bodies"]) == COMMENTS_CAP
    assert "triage:effect=update-1" in issue["comment_bodies"][-1]
    assert retried.skipped is None
    assert warnings(logs) == []


async def test_a_group_update_refused_as_too_long_is_cut_and_sent_again(
    capped: LosingCapGitHub,
    mono: FakeClock,
    wall: FakeClock,
    logs: list[MutableMapping[str, Any]],
) -> None:
    """A group update listing long member titles that GitHub refuses as too long (422 "body is
    too long") is cut, its marker kept, and posted again, with one `github.body_refused`
    warning: never the message's failure with the update lost; its retry finds it posted."""
    capped.body_bytes = 8_000
    async with guarded(capped, mono, wall) as guard:
        ref = (await guard.apply(new_incident(1, "open"))).ref
        since = incident(1).occurred_at
        members = tuple(
            MemberView(f"{n:064x}", "🔥" * 300, Status.FIRING, since) for n in range(50)
        )
        update = effect(EffectKind.UPDATE, ref, "update-1", alert=incident(1))
        grouped = replace(
            update,
            target=Target(repository=REPO),
            alert=dataclasses.replace(update.alert, group=GroupView({"svc": "db"}, members)),
        )
        applied = await guard.apply(grouped)
        retried = await guard.apply(grouped)
    (issue,) = capped.issues(REPO)
    (comment,) = issue["comment_bodies"]
    assert applied.skipped is None and retried.skipped is None
    assert len(comment.encode()) <= 8_000 and "🔥" in comment
    assert comment.rstrip().endswith("<!-- triage:effect=update-1 -->")
    assert [e["event"] for e in warnings(logs)] == ["github.body_refused"]
