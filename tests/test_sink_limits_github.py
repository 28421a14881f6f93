"""The github sink stays inside GitHub's documented limits (a title of 256 characters, a body or
comment of 65,536, label names of 50, 100 labels and 10 assignees an issue), finds its issue
past the first page of a repository's triage issues, and works under a GitHub Enterprise
Server API URL (`https://host/api/v3`): against the loopback stub, which answers past those
limits with GitHub's 422."""

from __future__ import annotations

import dataclasses
import re
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from factories import view
from github_stub import (
    ASSIGNEES_PER_ISSUE,
    BODY_CHARS,
    LABEL_CHARS,
    LABELS_PER_ISSUE,
    TITLE_CHARS,
    Answer,
    GitHubServer,
)
from triage.models import Alert, EffectKind, Priority, Status, Ticket
from triage.settings import Settings
from triage.sinks.base import Effect, Target
from triage.sinks.github import GitHubSink
from triage.view import GroupView, MemberView

TOKEN = "t-bot"
REPO = "acme/ops"
AT = datetime(2026, 11, 23, 3, tzinfo=UTC)
#: Text that grows most when escaped (`@` and `#` become 8 characters) and an emoji.
HOSTILE = "@#<|`*_~[]!🔥"


def alert(n: int = 0, *, team: str = "data") -> Alert:
    return Alert(
        source="generic",
        status=Status.FIRING,
        title=f"orders-db backup failed {n}",
        team=team,
        priority=Priority.HIGH,
        occurred_at=AT,
        identity={"dedup_key": f"backup-{n}"},
    )


TICKET = Ticket(title="Backup failed", priority=Priority.HIGH, description="pg_dump exited 1")


def effect(
    kind: EffectKind,
    ref: str | None = None,
    key: str = "fp:1",
    *,
    shown: Alert | None = None,
    ticket: Ticket = TICKET,
    target: Target | None = None,
    group: GroupView | None = None,
    flapping: bool = False,
) -> Effect:
    source = shown or alert()
    redacted = view(source) if group is None else dataclasses.replace(view(source), group=group)
    return Effect(
        kind, source.fingerprint, redacted, ticket, ref, 3, 2, flapping, key, target or Target()
    )


@pytest.fixture
def github() -> Iterator[GitHubServer]:
    with GitHubServer(tokens={TOKEN: "triage-bot"}, repositories=(REPO,)) as server:
        yield server


@pytest.fixture
async def sink(github: GitHubServer) -> AsyncIterator[GitHubSink]:
    s = GitHubSink(Settings(github_api_url=github.url, github_repository=REPO, github_token=TOKEN))
    try:
        yield s
    finally:
        await s.aclose()


def label_names(issue: dict[str, Any]) -> list[str]:
    return [label["name"] for label in issue["labels"]]


async def test_a_route_with_more_labels_than_github_takes_still_opens_its_issues(
    sink: GitHubSink, github: GitHubServer
) -> None:
    """A route naming 120 labels (GitHub takes 100 an issue, and refuses more with a 422 that
    would send every incident of the route to the DLQ) opens its issue with 100: triage's own
    and `flapping` first, then the route's first ones."""
    target = Target(labels=tuple(f"component-{n:03}" for n in range(120)))
    ref = (await sink.apply(effect(EffectKind.OPEN, target=target, flapping=True))).ref
    assert ref is not None
    [issue] = github.issues()
    names = label_names(issue)
    assert len(names) == LABELS_PER_ISSUE
    assert names[:5] == ["triage", "priority:P1", "source:generic", "team:data", "flapping"]
    assert names[5] == "component-000"


async def test_a_route_with_more_assignees_than_github_takes_assigns_the_first_ten(
    sink: GitHubSink, github: GitHubServer
) -> None:
    """A route naming 15 assignees (GitHub assigns at most 10) opens its issue assigned to the
    first 10, not refused nor stripped of every assignee."""
    target = Target(assignees=tuple(f"oncall-{n:02}" for n in range(15)))
    await sink.apply(effect(EffectKind.OPEN, target=target))
    [issue] = github.issues()
    assert [a["login"] for a in issue["assignees"]] == [f"oncall-{n:02}" for n in range(10)]
    assert len(issue["assignees"]) == ASSIGNEES_PER_ISSUE


async def test_hostile_text_of_every_size_stays_inside_every_limit(
    sink: GitHubSink, github: GitHubServer
) -> None:
    """A ticket as large as one can be (a title of 200 characters that escape longest, a summary
    of 20,000, 20 steps), a team of 260 (its label), a group of 1,000 members with titles as
    hostile: the issue, its update, close and reopen comments are all accepted, each within
    GitHub's limits and ending with its marker."""
    members = tuple(
        MemberView(f"{n:032x}", HOSTILE * 40, Status.FIRING, AT + timedelta(seconds=n))
        for n in range(1000)
    )
    group = GroupView({"service": HOSTILE * 100}, members)
    shown = alert(team=HOSTILE * 20)
    ticket = Ticket(
        title=(HOSTILE * 20)[:200],
        priority=Priority.HIGH,
        description=(HOSTILE * 2000)[:20_000],
        steps=tuple(HOSTILE * 100 for _ in range(20)),
    )
    ref = (await sink.apply(effect(EffectKind.OPEN, shown=shown, ticket=ticket, group=group))).ref
    for kind, key in ((EffectKind.UPDATE, "fp:2"), (EffectKind.CLOSE, "fp:3")):
        await sink.apply(effect(kind, ref, key, shown=shown, ticket=ticket, group=group))
    await sink.apply(effect(EffectKind.REOPEN, ref, "fp:4", shown=shown, ticket=ticket))
    [issue] = github.issues()
    assert len(issue["title"]) <= TITLE_CHARS and len(issue["body"]) <= BODY_CHARS
    assert issue["body"].endswith(f"<!-- triage:fingerprint={shown.fingerprint} -->")
    assert all(len(name) <= LABEL_CHARS for name in label_names(issue))
    assert [c[-len("fp:2 -->") :] for c in issue["comment_bodies"]] == [
        "fp:2 -->",
        "fp:3 -->",
        "fp:4 -->",
    ]
    assert re.search(r"\n- … and \d+ more\n", issue["comment_bodies"][0])
    assert issue["state"] == "open"


async def test_the_issue_of_a_retried_open_is_found_past_the_first_page(
    github: GitHubServer,
) -> None:
    """With 150 open triage issues newer than the incident's (a page holds 100), an OPEN
    retried after its answer was lost finds the incident's issue on the second page and
    opens no second one."""
    settings = Settings(
        github_api_url=github.url,
        github_repository=REPO,
        github_token=TOKEN,
        github_create_per_minute=1000,
        github_create_per_hour=1000,
    )
    sink = GitHubSink(settings)
    try:
        first = await sink.apply(effect(EffectKind.OPEN, shown=alert(0)))
        for n in range(1, 151):
            await sink.apply(effect(EffectKind.OPEN, shown=alert(n), key=f"k{n}"))
        again = await sink.apply(effect(EffectKind.OPEN, shown=alert(0)))
    finally:
        await sink.aclose()
    assert again.ref == first.ref == f"{github.url}/{REPO}/issues/1"
    assert len(github.issues()) == 151
    pages = [c["query"].get("page") for c in github.calls if c["path"].endswith("/issues")]
    assert pages[-2:] == ["1", "2"]


class EnterpriseServer(GitHubServer):
    """The stub as GitHub Enterprise Server lays it out: the API under `/api/v3` (anything
    else is 404), the issues' `html_url` at the host's root."""

    def _handle(self, method: str, target: str, headers: dict[str, str], raw: bytes) -> Answer:
        if not target.startswith("/api/v3/"):
            return 404, {"message": "Not Found"}, {}
        return super()._handle(method, target.removeprefix("/api/v3"), headers, raw)


async def test_an_enterprise_server_api_url_keeps_its_path() -> None:
    """With GITHUB_API_URL `http://host/api/v3/`, every call goes under `/api/v3` (none to the
    host's root, which is the web site): the probe, the open, update and close all work."""
    with EnterpriseServer(tokens={TOKEN: "triage-bot"}, repositories=(REPO,)) as ghe:
        settings = Settings(
            github_api_url=f"{ghe.url}/api/v3/", github_repository=REPO, github_token=TOKEN
        )
        sink = GitHubSink(settings)
        try:
            assert "readable as triage-bot" in await sink.probe()
            ref = (await sink.apply(effect(EffectKind.OPEN))).ref
            assert ref == f"{ghe.url}/{REPO}/issues/1"
            await sink.apply(effect(EffectKind.UPDATE, ref, "fp:2"))
            await sink.apply(effect(EffectKind.CLOSE, ref, "fp:3"))
        finally:
            await sink.aclose()
        [issue] = ghe.issues()
        assert issue["state"] == "closed" and len(issue["comment_bodies"]) == 2
        assert all(c["status"] < 400 for c in ghe.calls)
