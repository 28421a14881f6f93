"""Round 3 (helper 470): the GitHub issue's later life against a loopback server answering as
GitHub does: a re-fire while the issue's repository is out of reach, an issue at GitHub's
comment cap fired again, and GitHub's answers to moved issues, refused labels and limits."""

from __future__ import annotations

from collections.abc import MutableMapping
from dataclasses import replace
from typing import Any
from urllib.parse import quote, unquote

import pytest

from github_stub import GitHubServer
from test_github_later_life import LaterLifeGitHub
from test_github_sink import BOT_TOKEN, REPO, TICKET, FakeClock, effect, incident
from test_sinks_round2_464 import (
    COMMENTS_CAP,
    CommentCapGitHub,
    IssuesOffGitHub,
    guarded,
    new_incident,
)
from triage.models import EffectKind, Priority
from triage.sinks.base import Target

#: Another repository a route may name now.
OTHER = "acme/elsewhere"


@pytest.fixture
def wall() -> FakeClock:
    return FakeClock(1_800_000_000.0)


@pytest.fixture
def mono() -> FakeClock:
    return FakeClock(5_000.0)


def warnings(logs: list[MutableMapping[str, Any]]) -> list[MutableMapping[str, Any]]:
    return [e for e in logs if e["log_level"] == "warning" and e["event"] != "breaker.opened"]


# --- A re-fire while the issue's whole repository is out of reach -----------------------------


@pytest.mark.parametrize("access", [("hidden", 404), ("issues_off", 410)], ids=["404", "410"])
async def test_a_refire_while_its_repository_is_out_of_reach_waits_for_the_old_issue(
    wall: FakeClock,
    mono: FakeClock,
    logs: list[MutableMapping[str, Any]],
    access: tuple[str, int],
) -> None:
    """A re-fire whose issue answers 404 or 410 because its whole repository does (access
    lost, issues turned off), the route's own, is not the issue deleted: no new issue is
    tried there (it would be refused too, or race the repository's return), the message
    waits with one `github.repository_out_of_reach` line (never `github.issue_gone` "open a
    new one"), and once the repository is back the old issue is reopened, the only one."""
    attribute, status = access
    server = IssuesOffGitHub(tokens={BOT_TOKEN: "triage-bot"}, repositories=(REPO,), clock=wall)
    with server:
        async with guarded(server, mono, wall) as guard:
            ref = (await guard.apply(new_incident(1, "open"))).ref
            close = effect(EffectKind.CLOSE, ref, "close", alert=incident(1))
            await guard.apply(replace(close, target=Target(repository=REPO)))
            getattr(server, attribute).add(REPO)
            refire = effect(EffectKind.REOPEN, ref, "refire", alert=incident(1))
            refire = replace(refire, target=Target(repository=REPO))
            with pytest.raises(Exception, match=str(status)):
                await guard.apply(refire)
            getattr(server, attribute).discard(REPO)
            mono.advance(60)
            await guard.probe()
            again = await guard.apply(refire)
        (issue,) = server.issues(REPO)
    assert issue["state"] == "open" and again.skipped is None
    said = warnings(logs)
    assert [e["event"] for e in said] == ["github.repository_out_of_reach"], said
    assert said[0]["status"] == status and said[0]["action"] == "wait"


async def test_a_refire_whose_old_repository_is_out_of_reach_opens_where_the_route_is_now(
    wall: FakeClock, mono: FakeClock, logs: list[MutableMapping[str, Any]]
) -> None:
    """Decision pinned: a re-fire whose issue is in a repository the route no longer names,
    and which answers 410 as a whole (its issues turned off: often why a team moved), opens
    the incident's issue where the route names now, rather than wait for a repository that
    may never take issues again (the re-fire would be dead-lettered); one warning says so."""
    server = IssuesOffGitHub(
        tokens={BOT_TOKEN: "triage-bot"}, repositories=(REPO, OTHER), clock=wall
    )
    with server:
        async with guarded(server, mono, wall) as guard:
            ref = (await guard.apply(new_incident(1, "open"))).ref
            close = effect(EffectKind.CLOSE, ref, "close", alert=incident(1))
            await guard.apply(replace(close, target=Target(repository=REPO)))
            server.issues_off.add(REPO)
            refire = effect(EffectKind.REOPEN, ref, "refire", alert=incident(1))
            applied = await guard.apply(replace(refire, target=Target(repository=OTHER)))
        (new,) = server.issues(OTHER)
        server.issues_off.discard(REPO)
        (old,) = server.issues(REPO)
    assert applied.ref == new["html_url"] and old["state"] == "closed"
    said = warnings(logs)
    assert [e["event"] for e in said] == ["github.repository_out_of_reach"], said
    assert said[0]["status"] == 410 and said[0]["action"] == "open_new"


# --- A re-fire of an issue at GitHub's 2,500-comment cap --------------------------------------


async def test_a_refire_of_an_issue_at_the_comment_cap_opens_a_new_issue_naming_the_old(
    wall: FakeClock, mono: FakeClock, logs: list[MutableMapping[str, Any]]
) -> None:
    """Decision pinned: a re-fire whose closed issue holds GitHub's 2,500 comments opens a new
    issue that names the old one (`acme/ops#1`, which GitHub shows in the old issue's
    timeline, where no comment fits), instead of reopening an issue that can show neither the
    re-fire nor any update after it; the old one stays closed, one warning says so, and the
    message's retry (its answer lost) finds the new issue rather than opening a third."""
    server = CommentCapGitHub(tokens={BOT_TOKEN: "triage-bot"}, repositories=(REPO,), clock=wall)
    with server:
        async with guarded(server, mono, wall) as guard:
            ref = (await guard.apply(new_incident(1, "open"))).ref
            server.fill_comments(REPO, 1)
            server.close_by_triage(REPO, 1)
            refire = effect(EffectKind.REOPEN, ref, "refire", alert=incident(1))
            refire = replace(refire, target=Target(repository=REPO))
            applied = await guard.apply(refire)
            retried = await guard.apply(refire)
        old, new = server.issues(REPO)
    assert old["state"] == "closed" and len(old["comment_bodies"]) == COMMENTS_CAP
    assert new["state"] == "open" and applied.ref == retried.ref == new["html_url"]
    assert f"{REPO}#1" in new["body"] and new["title"] == old["title"]
    said = warnings(logs)
    assert [e["event"] for e in said] == ["github.issue_comments_full"], said
    assert said[0]["action"] == "open_new" and said[0]["issue"] == 1


async def test_a_second_update_of_an_issue_at_the_comment_cap_is_skipped_too(
    wall: FakeClock, mono: FakeClock, logs: list[MutableMapping[str, Any]]
) -> None:
    """The second update within the quarter hour of an issue at GitHub's comment cap is
    skipped at info as the first was at warning, not a TypeError out of the skip's own log
    line (which failed the message and, retried, every later update of the incident)."""
    server = CommentCapGitHub(tokens={BOT_TOKEN: "triage-bot"}, repositories=(REPO,), clock=wall)
    with server:
        async with guarded(server, mono, wall) as guard:
            ref = (await guard.apply(new_incident(1, "open"))).ref
            server.fill_comments(REPO, 1)
            skipped = []
            for n in (1, 2):
                update = effect(EffectKind.UPDATE, ref, f"update-{n}", alert=incident(1))
                applied = await guard.apply(replace(update, target=Target(repository=REPO)))
                skipped.append(applied.skipped)
    assert all(skipped), skipped
    assert [e["event"] for e in warnings(logs)] == ["github.issue_comments_full"]
    (line,) = [e for e in logs if e["event"] == "sink.skipped"]
    assert line["reason"] == "issue comments full" and line["issue"] == 1


# --- Labels GitHub matches whatever their case ------------------------------------------------


class CaseLabelsGitHub(GitHubServer):
    """The stub, matching label names as GitHub does, whatever their case: a label added to
    an issue that the repository has under another case (`Flapping`, made by a person) is
    the repository's, shown as it is named there; a removal or a list's filter finds it in
    any case."""

    def __init__(self, *, labels: tuple[str, ...], **kwargs: Any) -> None:
        super().__init__(**kwargs)
        #: Lower case → the name as the repository shows it.
        self.labels = {name.lower(): name for name in labels}

    def _as_named(self, names: Any) -> Any:
        if not isinstance(names, list):
            return names
        return [self.labels.setdefault(n.lower(), n) if isinstance(n, str) else n for n in names]

    def _create_issue(self, actor: str, params: dict[str, str], query: Any, body: Any) -> Any:
        if isinstance(body, dict) and "labels" in body:
            body = {**body, "labels": self._as_named(body["labels"])}
        return super()._create_issue(actor, params, query, body)

    def _add_labels(self, actor: str, params: dict[str, str], query: Any, body: Any) -> Any:
        if isinstance(body, dict) and "labels" in body:
            body = {**body, "labels": self._as_named(body["labels"])}
        return super()._add_labels(actor, params, query, body)

    def _remove_label(self, actor: str, params: dict[str, str], query: Any, body: Any) -> Any:
        name = unquote(params["label"])
        params = {**params, "label": quote(self.labels.get(name.lower(), name), safe="")}
        return super()._remove_label(actor, params, query, body)

    def _list_issues(
        self, actor: str, params: dict[str, str], query: dict[str, str], body: Any
    ) -> Any:
        if query.get("labels"):
            named = self._as_named(query["labels"].split(","))
            query = {**query, "labels": ",".join(named)}
        return super()._list_issues(actor, params, query, body)


def label_set(issue: dict[str, Any]) -> set[str]:
    return {label["name"] for label in issue["labels"]}


async def test_flapping_comes_off_at_the_close_when_the_repository_spells_it_otherwise(
    wall: FakeClock, mono: FakeClock
) -> None:
    """A repository whose `flapping` label a person made as `Flapping` (GitHub's label names
    are one whatever their case): a flapping re-fire labels the issue `Flapping`, and the
    close that ends its flapping takes it off, as it does `flapping`; it was left on."""
    server = CaseLabelsGitHub(
        labels=("Flapping",), tokens={BOT_TOKEN: "triage-bot"}, repositories=(REPO,), clock=wall
    )
    with server:
        async with guarded(server, mono, wall) as guard:
            ref = (await guard.apply(new_incident(1, "open"))).ref
            for kind, key in [(EffectKind.CLOSE, "close-1"), (EffectKind.REOPEN, "refire")]:
                follow = effect(kind, ref, key, alert=incident(1), flapping=True)
                await guard.apply(replace(follow, target=Target(repository=REPO)))
            assert "Flapping" in label_set(server.issues(REPO)[0])
            close = effect(EffectKind.CLOSE, ref, "close-2", alert=incident(1), flapping=True)
            await guard.apply(replace(close, target=Target(repository=REPO)))
        (issue,) = server.issues(REPO)
    assert issue["state"] == "closed"
    assert "flapping" not in {name.lower() for name in label_set(issue)}


async def test_a_priority_move_takes_the_old_label_off_whatever_its_case(
    wall: FakeClock, mono: FakeClock
) -> None:
    """A repository whose priority labels a person made as `Priority:P1` …: an update that
    moves the incident to P2 takes the old priority's label off, as it does `priority:P1`,
    instead of leaving the issue labelled with both priorities."""
    server = CaseLabelsGitHub(
        labels=("Priority:P1",), tokens={BOT_TOKEN: "triage-bot"}, repositories=(REPO,), clock=wall
    )
    with server:
        async with guarded(server, mono, wall) as guard:
            ref = (await guard.apply(new_incident(1, "open"))).ref
            update = effect(EffectKind.UPDATE, ref, "moved", alert=incident(1))
            moved = replace(
                update,
                target=Target(repository=REPO),
                ticket=TICKET.model_copy(update={"priority": Priority.MEDIUM}),
                priority_was=Priority.HIGH,
            )
            await guard.apply(moved)
        (issue,) = server.issues(REPO)
    assert issue["title"].startswith("[P2] ")
    assert {name.lower() for name in label_set(issue) if ":" in name} >= {"priority:p2"}
    assert "priority:p1" not in {name.lower() for name in label_set(issue)}


async def test_the_triage_label_in_another_case_is_not_taken_for_labels_dropped(
    wall: FakeClock, mono: FakeClock, logs: list[MutableMapping[str, Any]]
) -> None:
    """A repository that has `triage` as `Triage`: GitHub shows a new issue's label so, and
    that is the label kept, not GitHub dropping new issues' labels (a token without push
    access), which a `github.labels_dropped` warning would wrongly tell the operator to fix."""
    server = CaseLabelsGitHub(
        labels=("Triage",), tokens={BOT_TOKEN: "triage-bot"}, repositories=(REPO,), clock=wall
    )
    with server:
        async with guarded(server, mono, wall) as guard:
            await guard.apply(new_incident(1, "open"))
        (issue,) = server.issues(REPO)
    assert "Triage" in label_set(issue)
    assert [e["event"] for e in warnings(logs)] == []


# --- GitHub Enterprise Server: the API under /api/v3 -----------------------------------------


class EnterpriseGitHub(LaterLifeGitHub):
    """The stub as GitHub Enterprise Server serves it: the API under `/api/v3` (any other
    path 404), issues shown at the host's root, and a transferred issue's redirect to
    `/api/v3/repositories/{id}/issues/{n}`."""

    @property
    def url(self) -> str:
        return f"{self.base_url}/api/v3"

    def _html(self, repo: str, issue: Any) -> str:
        return f"{self.base_url}/{repo}/issues/{issue.number}"

    def _handle(self, method: str, target: str, headers: dict[str, str], raw: bytes) -> Any:
        if not target.startswith("/api/v3/"):
            return 404, {"message": "Not Found"}, {}
        return super()._handle(method, target[len("/api/v3") :], headers, raw)


async def test_an_enterprise_servers_transferred_issue_is_followed_under_api_v3(
    wall: FakeClock, mono: FakeClock
) -> None:
    """On GitHub Enterprise Server (GITHUB_API_URL `…/api/v3`), an issue transferred to
    another repository answers 301 to `/api/v3/repositories/{id}/issues/{n}`: followed, the
    update's comment lands where the issue is now, and the reference handed back is where
    GHES shows issues (the host's root, not under /api/v3); its close and re-fire go there."""
    server = EnterpriseGitHub(
        tokens={BOT_TOKEN: "triage-bot"}, repositories=(REPO, OTHER), clock=wall
    )
    with server:
        async with guarded(server, mono, wall) as guard:
            ref = (await guard.apply(new_incident(1, "open"))).ref
            assert ref == f"{server.base_url}/{REPO}/issues/1"
            server.transfer(1, OTHER)
            refs = []
            for kind in (EffectKind.UPDATE, EffectKind.CLOSE, EffectKind.REOPEN):
                follow = effect(kind, ref, str(kind), alert=incident(1))
                applied = await guard.apply(replace(follow, target=Target(repository=REPO)))
                ref = applied.ref or ref
                refs.append(applied.ref)
        (moved,) = server.issues(OTHER)
    assert refs == [f"{server.base_url}/{OTHER}/issues/1", None, None]
    assert moved["state"] == "open" and len(moved["comment_bodies"]) == 3


# --- A title GitHub trims ---------------------------------------------------------------------


class TrimmingGitHub(GitHubServer):
    """The stub, trimming an issue's title at both ends as GitHub does (`[P1] ` is `[P1]`)."""

    def _trimmed(self, body: Any) -> Any:
        if isinstance(body, dict) and isinstance(body.get("title"), str):
            return {**body, "title": body["title"].strip()}
        return body

    def _create_issue(self, actor: str, params: dict[str, str], query: Any, body: Any) -> Any:
        return super()._create_issue(actor, params, query, self._trimmed(body))

    def _edit_issue(self, actor: str, params: dict[str, str], query: Any, body: Any) -> Any:
        return super()._edit_issue(actor, params, query, self._trimmed(body))


@pytest.mark.parametrize("title", [" ", "\u200b"], ids=["space", "zero-width"])
async def test_a_ticket_title_that_shows_nothing_still_names_the_incident_and_its_priority(
    wall: FakeClock, mono: FakeClock, title: str
) -> None:
    """A summary's title that shows nothing (a space, a zero-width character) made the issue
    `[P1] `, which GitHub trims to a bare `[P1]`: no words to find it by, and a later move to
    P2 no longer recognised the prefix, so the title kept saying P1 beside the P2 label. The
    alert's own title stands in for it, and the priority follows it."""
    server = TrimmingGitHub(tokens={BOT_TOKEN: "triage-bot"}, repositories=(REPO,), clock=wall)
    blank = TICKET.model_copy(update={"title": title})
    with server:
        async with guarded(server, mono, wall) as guard:
            opening = replace(new_incident(1, "open"), ticket=blank)
            ref = (await guard.apply(opening)).ref
            update = effect(EffectKind.UPDATE, ref, "moved", alert=incident(1))
            moved = replace(
                update,
                target=Target(repository=REPO),
                ticket=blank.model_copy(update={"priority": Priority.MEDIUM}),
                priority_was=Priority.HIGH,
            )
            await guard.apply(moved)
        (issue,) = server.issues(REPO)
    assert issue["title"] == f"[P2] {incident(1).title}"


# --- A create GitHub's secondary limit refused costs no creation token -------------------------

#: GitHub's words for its content-creation limit.
SECONDARY = (
    "You have exceeded a secondary rate limit and have been temporarily blocked from "
    "content creation. Please retry your request again later."
)


async def test_a_create_refused_by_githubs_secondary_limit_gives_its_creation_token_back(
    wall: FakeClock, mono: FakeClock
) -> None:
    """A new incident's create that GitHub's content-creation limit refused (403 with
    Retry-After: nothing was created) gives back the creation tokens it took: its retry, and
    the next incident, get issues of their own, instead of the refused attempts using up the
    hour's budget and sending the next incidents into the storm digest."""
    server = GitHubServer(tokens={BOT_TOKEN: "triage-bot"}, repositories=(REPO,), clock=wall)
    with server:
        async with guarded(server, mono, wall, github_create_per_hour=3) as guard:
            server.fail_next(
                status=403, message=SECONDARY, retry_after="60", path="/issues", method="POST"
            )
            with pytest.raises(Exception, match="rate limit"):
                await guard.apply(new_incident(1, "open-1"))
            mono.advance(61)
            wall.advance(61)
            first = await guard.apply(new_incident(1, "open-1"))
            second = await guard.apply(new_incident(2, "open-2"))
        titles = [issue["title"] for issue in server.issues(REPO)]
    assert first.ref is not None and second.ref is not None
    assert len(titles) == 2 and not any("storm" in title.lower() for title in titles), titles


async def test_a_bare_priority_title_an_earlier_version_left_follows_a_priority_move(
    wall: FakeClock, mono: FakeClock
) -> None:
    """An issue an earlier version opened as `[P1] ` (a title that showed nothing), which
    GitHub trimmed to a bare `[P1]`: a move to P2 makes it `[P2]`, not a title that keeps
    saying P1 beside the P2 label."""
    server = TrimmingGitHub(tokens={BOT_TOKEN: "triage-bot"}, repositories=(REPO,), clock=wall)
    with server:
        async with guarded(server, mono, wall) as guard:
            ref = (await guard.apply(new_incident(1, "open"))).ref
            with server._lock:
                server._repos[REPO][0].title = "[P1]"
            update = effect(EffectKind.UPDATE, ref, "moved", alert=incident(1))
            moved = replace(
                update,
                target=Target(repository=REPO),
                ticket=TICKET.model_copy(update={"priority": Priority.MEDIUM}),
                priority_was=Priority.HIGH,
            )
            await guard.apply(moved)
        (issue,) = server.issues(REPO)
    assert issue["title"] == "[P2]"
