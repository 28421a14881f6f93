"""The GitHub issues sink against the loopback GitHub stub over real HTTP, with injected clocks
(no test sleeps or measures wall time)."""

from __future__ import annotations

import dataclasses
import socket
from collections.abc import AsyncIterator, Iterator, MutableMapping
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx2
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from factories import view
from github_stub import GitHubServer, StubApp
from hostile_server import answer, hostile
from triage.errors import (
    ConfigError,
    GitHubUnavailableError,
    SinkRejectedError,
    SinkThrottledError,
    SinkUnavailableError,
    SinkUnreachableError,
)
from triage.incidents.lifecycle import Policy
from triage.incidents.sqlite import SQLiteStore
from triage.metrics import Metrics
from triage.models import Alert, EffectKind, Priority, Status, Ticket
from triage.ratelimit import Budgets
from triage.settings import Settings
from triage.sinks.base import Applied, Effect, NotSent, Target
from triage.sinks.github import GitHubSink, IssueRef
from triage.sinks.github.api import GitHubApi
from triage.sinks.github.auth import AppCredentials, InstallationToken
from triage.view import GroupView, MemberView

BOT_TOKEN = "t-bot"
ALICE_TOKEN = "t-alice"
REPO = "acme/ops"

ALERT = Alert(
    source="generic",
    status=Status.FIRING,
    title="orders-db backup failed",
    team="data",
    priority=Priority.HIGH,
    runbook_url="https://runbooks.example.com/backups",
    links={"dashboard": "https://grafana.example.com/d/db"},
    occurred_at=datetime(2026, 11, 23, 3, tzinfo=UTC),
    identity={"dedup_key": "backup"},
)
RESOLVED = ALERT.model_copy(update={"status": Status.RESOLVED})
TICKET = Ticket(
    title="Backup failed",
    priority=Priority.HIGH,
    description="pg_dump exited 1",
    steps=("Read the log", "Re-run the backup"),
)


class FakeClock:
    """A clock that moves only when told to."""

    def __init__(self, now: float) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


def effect(
    kind: EffectKind = EffectKind.OPEN,
    ref: str | None = None,
    key: str = "fp:1",
    *,
    alert: Alert = ALERT,
    ticket: Ticket = TICKET,
    flapping: bool = False,
    occurrences: int = 1,
    new_occurrences: int = 1,
    target: Target | None = None,
    group: GroupView | None = None,
) -> Effect:
    shown = view(alert) if group is None else dataclasses.replace(view(alert), group=group)
    return Effect(
        kind,
        alert.fingerprint,
        shown,
        ticket,
        ref,
        occurrences,
        new_occurrences,
        flapping,
        key,
        target or Target(),
    )


def incident(n: int) -> Alert:
    """The n-th distinct incident (its own fingerprint). Built anew, not with model_copy, which
    would carry over the cached fingerprint of the original."""
    fields = ALERT.model_dump(exclude={"fingerprint"})
    return Alert(**{**fields, "identity": {"dedup_key": f"incident-{n}"}})


def bot_calls(github: GitHubServer, method: str | None = None) -> list[dict[str, Any]]:
    """The calls the sink made (not the ones a test made as a person)."""
    return [
        c
        for c in github.calls
        if c["headers"].get("authorization") != f"Bearer {ALICE_TOKEN}"
        and (method is None or c["method"] == method)
    ]


async def as_person(github: GitHubServer, method: str, path: str, *bodies: Any) -> list[Any]:
    """Act on the stub as alice, a person, through the same API (one request per body)."""
    headers = {"Authorization": f"Bearer {ALICE_TOKEN}"}
    answers = []
    async with httpx2.AsyncClient(base_url=github.url, headers=headers) as client:
        for body in bodies:
            response = await client.request(method, path, json=body)
            response.raise_for_status()
            answers.append(response.json())
    return answers


@pytest.fixture
def wall() -> FakeClock:
    return FakeClock(1_800_000_000.0)


@pytest.fixture
def mono() -> FakeClock:
    return FakeClock(5_000.0)


@pytest.fixture
def github(wall: FakeClock) -> Iterator[GitHubServer]:
    server = GitHubServer(
        tokens={BOT_TOKEN: "triage-bot", ALICE_TOKEN: "alice"},
        repositories=(REPO, "acme/other"),
        clock=wall,
    )
    with server:
        yield server


@asynccontextmanager
async def open_sink(
    github: GitHubServer,
    mono: FakeClock,
    wall: FakeClock,
    *,
    metrics: Metrics | None = None,
    budgets: Budgets | None = None,
    **settings: Any,
) -> AsyncIterator[GitHubSink]:
    values: dict[str, Any] = {
        "github_api_url": github.url,
        "github_repository": REPO,
        "github_token": BOT_TOKEN,
    }
    values.update(settings)
    sink = GitHubSink(
        Settings(**values), metrics=metrics, budgets=budgets, clock=mono, wall_clock=wall
    )
    try:
        yield sink
    finally:
        await sink.aclose()


@pytest.fixture
async def sink(github: GitHubServer, mono: FakeClock, wall: FakeClock) -> AsyncIterator[GitHubSink]:
    async with open_sink(github, mono, wall) as s:
        yield s


# --- Lifecycle ------------------------------------------------------------------------------


async def test_incident_lifecycle_is_one_issue(sink: GitHubSink, github: GitHubServer) -> None:
    """firing → repeat → repeat → resolved → re-fire is one issue with two update comments,
    a close comment and close, then a reopen and its comment."""
    ref = (await sink.apply(effect())).ref
    assert ref is not None
    update = effect(EffectKind.UPDATE, ref, "fp:2", occurrences=3, new_occurrences=2)
    assert await sink.apply(update) == Applied()
    update = effect(EffectKind.UPDATE, ref, "fp:3", occurrences=7, new_occurrences=4)
    assert await sink.apply(update) == Applied()
    assert (await sink.apply(effect(EffectKind.CLOSE, ref, "fp:4", alert=RESOLVED))).ref is None
    closed = github.issues()[0]
    assert (closed["state"], closed["state_reason"]) == ("closed", "completed")
    assert (await sink.apply(effect(EffectKind.REOPEN, ref, "fp:5"))).ref is None

    [issue] = github.issues()
    assert ref == issue["html_url"] == f"{github.url}/{REPO}/issues/1"
    assert issue["title"] == "[P1] Backup failed"
    assert (issue["state"], issue["state_reason"]) == ("open", "reopened")
    assert [label["name"] for label in issue["labels"]] == [
        "triage",
        "priority:P1",
        "source:generic",
        "team:data",
    ]
    update1, update2, close, reopen = issue["comment_bodies"]
    assert "**2 more occurrences** since the last update, 3 in all" in update1
    assert "**4 more occurrences** since the last update, 7 in all" in update2
    assert close.startswith("Resolved at 2026-11-23 03:00:00 UTC") and "Closing." in close
    assert reopen.startswith("Fired again") and "flapping" not in reopen
    assert "<!-- triage:effect=fp:3 -->" in update2


async def test_issue_body_holds_summary_steps_facts_links_and_marker(
    sink: GitHubSink, github: GitHubServer
) -> None:
    """The body shows summary, numbered steps, the alert facts, the alert's links (each named
    with the host it opens) and ends with the hidden fingerprint marker."""
    await sink.apply(effect(occurrences=4))
    body = github.issues()[0]["body"]
    assert "### Summary\n\npg\\_dump exited 1" in body
    assert "### Steps\n\n1. Read the log\n2. Re-run the backup" in body
    assert "| Occurrences | 4 |" in body
    assert f"| Fingerprint | `{ALERT.fingerprint}` |" in body
    assert "- [runbook \\(runbooks.example.com\\)](<https://runbooks.example.com/backups>)" in body
    assert "- [dashboard \\(grafana.example.com\\)](<https://grafana.example.com/d/db>)" in body
    assert body.endswith(f"<!-- triage:fingerprint={ALERT.fingerprint} -->")


async def test_open_after_a_lost_answer_finds_the_issue(
    sink: GitHubSink, github: GitHubServer
) -> None:
    """An OPEN retried after a crash between create and store returns the same issue and
    creates no second one."""
    first = (await sink.apply(effect())).ref
    second = (await sink.apply(effect())).ref
    assert first == second
    assert len(github.issues()) == 1
    creates = [c for c in bot_calls(github, "POST") if c["path"] == f"/repos/{REPO}/issues"]
    assert len(creates) == 1
    lookups = [c for c in bot_calls(github, "GET") if c["path"] == f"/repos/{REPO}/issues"]
    assert lookups[-1]["query"] == {
        "state": "open",
        "labels": "triage",
        "sort": "created",
        "direction": "desc",
        "per_page": "100",
        "page": "1",
    }


async def test_a_marker_written_in_alert_text_matches_nothing(
    sink: GitHubSink, github: GitHubServer
) -> None:
    """Alert text that imitates another incident's marker cannot make that incident's OPEN
    adopt the wrong issue."""
    other = incident(2)
    forged = TICKET.model_copy(
        update={"description": f"<!-- triage:fingerprint={other.fingerprint} -->"}
    )
    await sink.apply(effect(ticket=forged))
    await sink.apply(effect(alert=other, key="other:1"))
    assert len(github.issues()) == 2


async def test_retried_comment_is_not_posted_twice(sink: GitHubSink, github: GitHubServer) -> None:
    """An UPDATE retried with the same idempotency key finds its comment, even behind more than
    a page of other comments, and posts nothing."""
    ref = (await sink.apply(effect())).ref
    assert ref is not None
    await sink.apply(effect(EffectKind.UPDATE, ref, "fp:2"))
    notes = [{"body": f"note {n}"} for n in range(120)]
    await as_person(github, "POST", f"/repos/{REPO}/issues/1/comments", *notes)
    await sink.apply(effect(EffectKind.UPDATE, ref, "fp:2"))
    await sink.apply(effect(EffectKind.UPDATE, ref, "fp:2"))
    bodies = github.issues()[0]["comment_bodies"]
    assert sum("triage:effect=fp:2" in b for b in bodies) == 1
    assert len(bodies) == 121


async def test_retried_close_does_not_repeat_its_comment(
    sink: GitHubSink, github: GitHubServer
) -> None:
    """A CLOSE whose close call failed after the comment is retried to a closed issue with one
    comment."""
    ref = (await sink.apply(effect())).ref
    github.fail_next(1, 502, method="PATCH")  # the comment is posted, the close fails
    with pytest.raises(SinkUnavailableError):
        await sink.apply(effect(EffectKind.CLOSE, ref, "fp:2", alert=RESOLVED))
    assert github.issues()[0]["state"] == "open"
    await sink.apply(effect(EffectKind.CLOSE, ref, "fp:2", alert=RESOLVED))
    [issue] = github.issues()
    assert issue["state"] == "closed"
    assert len(issue["comment_bodies"]) == 1


# --- People's changes -----------------------------------------------------------------------


async def test_hand_closed_issue_is_left_alone_within_the_hold(
    sink: GitHubSink,
    github: GitHubServer,
    wall: FakeClock,
    logs: list[MutableMapping[str, Any]],
) -> None:
    """An issue a person closed is neither reopened nor commented on within the hold, and is
    reopened once the hold has passed."""
    ref = (await sink.apply(effect())).ref
    await as_person(github, "PATCH", f"/repos/{REPO}/issues/1", {"state": "closed"})
    wall.advance(3600)
    assert (await sink.apply(effect(EffectKind.REOPEN, ref, "fp:2"))).ref is None
    assert (await sink.apply(effect(EffectKind.UPDATE, ref, "fp:3"))).ref is None
    issue = github.issues()[0]
    assert issue["state"] == "closed" and issue["comment_bodies"] == []
    writes = [c["path"] for c in bot_calls(github) if c["method"] in ("PATCH", "POST")]
    assert writes == [f"/repos/{REPO}/issues"]  # the create, nothing since
    held = [e for e in logs if e["event"] == "github.hand_closed"]
    assert [(e["closed_by"], e["effect"]) for e in held] == [
        ("alice", "reopen"),
        ("alice", "update"),
    ]

    wall.advance(86_400)
    await sink.apply(effect(EffectKind.REOPEN, ref, "fp:4"))
    issue = github.issues()[0]
    assert issue["state"] == "open" and len(issue["comment_bodies"]) == 1


async def test_peoples_labels_and_assignees_survive(sink: GitHubSink, github: GitHubServer) -> None:
    """Labels and assignees a person set stay through close and a flapping reopen; triage only
    adds (`flapping`) and never sends labels or assignees to replace them."""
    target = Target(labels=("oncall",), assignees=("bob",))
    ref = (await sink.apply(effect(target=target))).ref
    await as_person(
        github,
        "PATCH",
        f"/repos/{REPO}/issues/1",
        {"labels": ["triage", "customer-impact"], "assignees": ["bob", "alice"]},
    )
    await sink.apply(effect(EffectKind.CLOSE, ref, "fp:2", alert=RESOLVED))
    await sink.apply(effect(EffectKind.REOPEN, ref, "fp:3", flapping=True))
    issue = github.issues()[0]
    assert [label["name"] for label in issue["labels"]] == ["triage", "customer-impact", "flapping"]
    assert [a["login"] for a in issue["assignees"]] == ["bob", "alice"]
    patches = [c["body"] for c in bot_calls(github, "PATCH")]
    assert all(set(body) <= {"state", "state_reason"} for body in patches)
    create = next(c["body"] for c in bot_calls(github, "POST") if c["path"].endswith("/issues"))
    assert create["labels"][-1] == "oncall" and create["assignees"] == ["bob"]
    assert "This alert keeps resolving and firing again" in issue["comment_bodies"][-1]


def label_names(github: GitHubServer) -> list[str]:
    return [label["name"] for label in github.issues()[0]["labels"]]


async def test_the_close_that_ends_flapping_takes_the_label_off(
    sink: GitHubSink, github: GitHubServer
) -> None:
    """A flapping incident's (held) close takes `flapping` off its issue, leaving a person's
    labels, so the reopen counted afresh after it does not show a flapping it does not have."""
    ref = (await sink.apply(effect())).ref
    await as_person(github, "POST", f"/repos/{REPO}/issues/1/labels", {"labels": ["oncall"]})
    await sink.apply(effect(EffectKind.CLOSE, ref, "fp:2", alert=RESOLVED))
    await sink.apply(effect(EffectKind.REOPEN, ref, "fp:3", flapping=True))
    assert "flapping" in label_names(github)
    await sink.apply(effect(EffectKind.CLOSE, ref, "fp:4", alert=RESOLVED, flapping=True))
    assert "flapping" not in label_names(github) and "oncall" in label_names(github)
    await sink.apply(effect(EffectKind.REOPEN, ref, "fp:5"))
    assert "flapping" not in label_names(github)
    deletes = [c["path"] for c in bot_calls(github, "DELETE")]
    assert deletes == [f"/repos/{REPO}/issues/1/labels/flapping"]


async def test_a_reopen_that_no_longer_flaps_takes_an_old_label_off(
    sink: GitHubSink, github: GitHubServer
) -> None:
    """An issue still labelled `flapping` from before (its close went out without taking it
    off) loses the label on a reopen that does not flap; a 404 for the label (someone took it
    off meanwhile) is no failure."""
    ref = (await sink.apply(effect())).ref
    await as_person(github, "POST", f"/repos/{REPO}/issues/1/labels", {"labels": ["flapping"]})
    await sink.apply(effect(EffectKind.REOPEN, ref, "fp:2"))
    assert "flapping" not in label_names(github)
    await as_person(github, "POST", f"/repos/{REPO}/issues/1/labels", {"labels": ["flapping"]})
    github.fail_next(status=404, path="/labels/flapping", method="DELETE")
    assert await sink.apply(effect(EffectKind.CLOSE, ref, "fp:3", flapping=True)) == Applied()
    assert github.issues()[0]["state"] == "closed"


# --- Safe text ------------------------------------------------------------------------------


async def test_hostile_alert_text_arrives_inert(sink: GitHubSink, github: GitHubServer) -> None:
    """Mentions, an image, HTML, a fake heading and table pipes in alert text reach GitHub as
    plain characters; a javascript: link is dropped."""
    hostile = "ping @acme/oncall and @bob ![img](http://x/y.png) <script>alert(1)</script> | a |"
    alert = ALERT.model_copy(  # same identity, so the cached fingerprint stays right
        update={
            "title": hostile,
            "links": {"evil": "javascript:alert(1)", "dash": "https://grafana.example.com/d/x"},
        }
    )
    ticket = TICKET.model_copy(update={"title": hostile, "description": f"# Heading\n{hostile}"})
    ref = (await sink.apply(effect(alert=alert, ticket=ticket))).ref
    await sink.apply(effect(EffectKind.CLOSE, ref, "fp:2", alert=alert, ticket=ticket))
    sent = [c["body"] for c in bot_calls(github) if c["method"] == "POST" and c["body"]]
    create, comment = sent[0], sent[1]
    for text in (create["body"], comment["body"]):
        assert "@acme/oncall" not in text and "@bob" not in text
        assert "@&#8203;acme/oncall" in text
        assert "![img]" not in text and "\\!\\[img\\]\\(http:&#8203;//x/y.png\\)" in text
        assert "<script>" not in text and "&lt;script&gt;" in text
        assert "| a |" not in text
    assert "\n# Heading" not in create["body"] and "#&#8203; Heading" in create["body"]
    assert "javascript:" not in create["body"]
    assert "[dash \\(grafana.example.com\\)](<https://grafana.example.com/d/x>)" in create["body"]
    assert "@acme" not in create["title"] and create["title"].startswith("[P1] ping @\u200bacme")


async def test_a_group_of_hostile_titles_still_fits_githubs_limits(
    sink: GitHubSink, github: GitHubServer
) -> None:
    """Member titles of `@` and `#` (each sign escaped to 8 characters) cannot make the issue
    body or an update comment longer than GitHub's 65,536 characters: the issue is created
    with its marker, and the member list is cut and counted instead."""
    at = datetime(2026, 11, 23, 3, tzinfo=UTC)
    members = tuple(
        MemberView(f"{n:032x}", ("@#" * 100)[:200], Status.FIRING, at) for n in range(50)
    )
    group = GroupView({"service": "@" * 100}, members)
    alert = ALERT.model_copy(update={"labels": {f"{'@' * 58}{n:02}": "#" * 120 for n in range(20)}})
    ref = (await sink.apply(effect(alert=alert, group=group))).ref
    await sink.apply(effect(EffectKind.UPDATE, ref, "fp:2", alert=alert, group=group))
    [issue] = github.issues()
    assert len(issue["body"]) <= 65_536
    assert issue["body"].endswith(f"<!-- triage:fingerprint={ALERT.fingerprint} -->")
    [comment] = issue["comment_bodies"]
    assert len(comment) <= 65_536 and "more" in comment
    assert comment.endswith("<!-- triage:effect=fp:2 -->")


async def test_hostile_steps_still_fit_githubs_limit_on_a_body(
    sink: GitHubSink, github: GitHubServer
) -> None:
    """Twenty steps of `@` (escaped, 80,000 characters) are cut at a line break to fit the
    body, and the body still ends with the marker the issue is found by."""
    ticket = TICKET.model_copy(update={"steps": tuple("@" * 500 for _ in range(20))})
    await sink.apply(effect(ticket=ticket))
    [issue] = github.issues()
    body = issue["body"]
    assert len(body) <= 65_536 and "\n1. @&#8203;@&#8203;" in body
    assert body.endswith(
        "cut to fit GitHub's limit on an issue's length._\n\n"
        f"<!-- triage:fingerprint={ALERT.fingerprint} -->"
    )


# --- Limits and errors ----------------------------------------------------------------------


async def test_secondary_rate_limit_pauses_the_sink(
    sink: GitHubSink, github: GitHubServer, mono: FakeClock
) -> None:
    """A secondary-limit 403 with Retry-After is SinkThrottledError with that delay (the message
    is held, never rejected); paused_until() holds the deadline and no call is made until then."""
    github.fail_next(1, 403, message="You have exceeded a secondary rate limit.", retry_after="30")
    with pytest.raises(SinkThrottledError) as caught:
        await sink.apply(effect())
    assert not isinstance(caught.value, SinkRejectedError)
    assert caught.value.retry_after_s == 30
    assert sink.paused_until() == mono.now + 30
    sent = len(github.calls)
    mono.advance(10)
    with pytest.raises(SinkThrottledError) as again:
        await sink.apply(effect())
    assert again.value.retry_after_s == 20
    assert len(github.calls) == sent
    mono.advance(20)
    assert sink.paused_until() is None
    assert (await sink.apply(effect())).ref is not None


@pytest.mark.parametrize(
    ("status", "message"),
    [(403, "You have exceeded a secondary rate limit"), (429, "Too many requests")],
)
async def test_secondary_limit_without_retry_after_waits_a_minute(
    sink: GitHubSink, github: GitHubServer, mono: FakeClock, status: int, message: str
) -> None:
    """A secondary limit (or any 429) without Retry-After waits 60 s."""
    github.fail_next(1, status, message=message)
    with pytest.raises(SinkThrottledError) as caught:
        await sink.apply(effect())
    assert caught.value.retry_after_s == 60
    assert sink.paused_until() == mono.now + 60


async def test_spent_primary_budget_waits_for_its_reset(
    sink: GitHubSink, github: GitHubServer, mono: FakeClock
) -> None:
    """With x-ratelimit-remaining 0, the call waits until x-ratelimit-reset."""
    github.set_rate_limit(0, reset_in_s=120)
    with pytest.raises(SinkThrottledError, match="rate limit") as caught:
        await sink.apply(effect())
    assert caught.value.retry_after_s == 120
    assert sink.paused_until() == mono.now + 120


async def test_the_last_call_of_the_budget_pauses_before_the_next_fails(
    sink: GitHubSink, github: GitHubServer
) -> None:
    """An answer saying no calls remain pauses the sink: the next call is not even sent."""
    github.set_rate_limit(1, reset_in_s=300)
    with pytest.raises(SinkThrottledError) as caught:
        await sink.apply(effect())  # the look-up spends the last call; the create waits
    assert caught.value.retry_after_s == 300
    assert len(github.calls) == 1


async def test_forbidden_without_a_limit_is_a_wait_for_access_not_a_pause(
    sink: GitHubSink, github: GitHubServer
) -> None:
    """A 403 that is no rate limit (missing permission) to an open is GitHubUnavailableError
    `no_access` (setup, not the message: it waits behind the breaker), and no rate pause."""
    github.fail_next(1, 403, message="Resource not accessible by integration")
    with pytest.raises(GitHubUnavailableError, match="403") as caught:
        await sink.apply(effect())
    assert caught.value.reason == "no_access"
    assert sink.paused_until() is None


async def test_a_wait_of_years_is_capped_at_an_hour(
    sink: GitHubSink, github: GitHubServer, mono: FakeClock
) -> None:
    """A reset or Retry-After years away (a proxy's garbage, a hostile server) pauses the sink
    for an hour at most: a longer pause would stop the daemon's intake until a restart."""
    github.set_rate_limit(0, reset_in_s=10**11)
    with pytest.raises(SinkThrottledError) as caught:
        await sink.apply(effect())
    assert caught.value.retry_after_s == 3600
    assert sink.paused_until() == mono.now + 3600
    mono.advance(3600)
    github.set_rate_limit(5000)
    github.fail_next(1, 429, retry_after="999999999")
    with pytest.raises(SinkThrottledError) as again:
        await sink.apply(effect())
    assert again.value.retry_after_s == 3600


async def test_a_spent_budget_with_an_unreadable_reset_waits_a_minute(
    sink: GitHubSink, github: GitHubServer
) -> None:
    """x-ratelimit-remaining 0 with a reset time that cannot be read is still a rate limit
    (a minute's wait), not a rejection that would dead-letter the message."""
    github.fail_next(
        1,
        403,
        message="API rate limit exceeded",
        headers={"x-ratelimit-remaining": "0", "x-ratelimit-reset": "soon"},
    )
    with pytest.raises(SinkThrottledError) as caught:
        await sink.apply(effect())
    assert caught.value.retry_after_s == 60


async def test_a_5xx_retry_after_is_passed_on(sink: GitHubSink, github: GitHubServer) -> None:
    """A 503 with Retry-After is held (a wait, not a failure) no shorter than GitHub asked."""
    github.fail_next(1, 503, retry_after="9")
    with pytest.raises(SinkThrottledError) as caught:
        await sink.apply(effect())
    assert caught.value.retry_after_s == 9


async def test_an_answer_without_the_issue_is_retried_not_a_crash(
    sink: GitHubSink, github: GitHubServer
) -> None:
    """A 201 whose body is not the created issue (a proxy's page, an empty object) is GitHub
    being unwell: a transient `bad_response`, and the retry opens the issue once."""
    github.fail_next(1, 201, method="POST", path="/issues")
    with pytest.raises(SinkUnavailableError) as caught:
        await sink.apply(effect())
    assert caught.value.reason == "bad_response"
    assert (await sink.apply(effect())).ref is not None
    assert len(github.issues()) == 1


@pytest.mark.parametrize(
    "body",
    [None, b"<html>proxy error</html>", b"\xff\xfe not utf-8", {"items": []}, "issues", [1, 2]],
    ids=["empty", "html", "bad-utf8", "object", "string", "list-of-ints"],
)
async def test_an_issue_list_of_the_wrong_shape_is_retried_not_a_crash(
    sink: GitHubSink, github: GitHubServer, body: Any, logs: list[MutableMapping[str, Any]]
) -> None:
    """A 200 to the marker look-up that is no list of issues is GitHub (or a proxy) being
    unwell: a transient `bad_response` whose error says why (the message's line quotes it; the
    sink's own line is debug), not a TypeError, and the retry opens the issue once."""
    github.fail_next(1, 200, body=body, method="GET", path="/issues")
    # A web page is named as one whatever the call; any other wrong shape by what was wanted.
    said = "a web page" if isinstance(body, bytes) and body.startswith(b"<") else "list of issues"
    with pytest.raises(SinkUnavailableError, match=said) as caught:
        await sink.apply(effect())
    assert caught.value.reason == "bad_response"
    [line] = [e for e in logs if e["event"] == "github.bad_response"]
    assert line["log_level"] == "debug" and said in line["error"]
    assert [e for e in logs if e["log_level"] in ("warning", "error")] == []
    assert (await sink.apply(effect())).ref is not None
    assert len(github.issues()) == 1


async def test_issues_with_fields_of_the_wrong_type_are_read_as_absent(
    sink: GitHubSink, github: GitHubServer
) -> None:
    """A listed issue whose body is a number (or whose closed_by is a string) holds no marker:
    it is passed over, not a TypeError, and the incident gets its own issue."""
    odd = {"number": 9, "body": 7, "closed_by": "alice", "html_url": 5}
    github.fail_next(1, 200, body=[odd], method="GET", path="/issues")
    ref = (await sink.apply(effect())).ref
    assert ref is not None and IssueRef.parse(ref) is not None
    assert len(github.issues()) == 1


@pytest.mark.parametrize(
    "created",
    [
        {"number": 1, "html_url": 5},
        {"number": 1, "html_url": "https://github.com/acme/ops"},
        {"number": 1, "html_url": ["https://github.com/acme/ops/issues/1"]},
    ],
    ids=["number", "no-issue-path", "list"],
)
async def test_a_created_issue_without_a_usable_url_keeps_one_rebuilt_from_its_number(
    sink: GitHubSink, github: GitHubServer, created: dict[str, Any]
) -> None:
    """A create answer whose html_url names no issue is not kept as the reference (no later
    effect could follow it): the issue's URL is rebuilt from the repository and its number
    (one without a usable number is a `bad_response`: `test_github_answers.py`)."""
    github.fail_next(1, 201, body=created, method="POST", path="/issues")
    assert (await sink.apply(effect())).ref == f"{github.url}/{REPO}/issues/1"


@pytest.mark.parametrize(
    ("method", "path", "body"),
    [
        ("GET", "/issues/1", [{"number": 1}]),
        ("GET", "/issues/1", "open"),
        ("GET", "/issues/1", None),
        ("GET", "/issues/1", {"number": 1, "state": "open", "comments": "many"}),
        ("GET", "/issues/1/comments", {"comments": []}),
        ("GET", "/issues/1/comments", [None]),
    ],
    ids=[
        "issue-list",
        "issue-string",
        "issue-empty",
        "count-string",
        "comments-obj",
        "comments-null",
    ],
)
async def test_an_issue_or_comments_of_the_wrong_shape_are_retried_not_a_crash(
    sink: GitHubSink, github: GitHubServer, method: str, path: str, body: Any
) -> None:
    """An UPDATE whose issue or comment list comes back in the wrong shape is a transient
    `bad_response` (no AttributeError), and the retry comments exactly once."""
    ref = (await sink.apply(effect())).ref
    await sink.apply(effect(EffectKind.UPDATE, ref, key="fp:2"))  # one comment to list
    github.fail_next(1, 200, body=body, method=method, path=path)
    with pytest.raises(SinkUnavailableError) as caught:
        await sink.apply(effect(EffectKind.UPDATE, ref, key="fp:3"))
    assert caught.value.reason == "bad_response"
    await sink.apply(effect(EffectKind.UPDATE, ref, key="fp:3"))
    [issue] = github.issues()
    assert len(issue["comment_bodies"]) == 2


async def test_a_closed_by_that_is_no_user_does_not_crash(
    sink: GitHubSink, github: GitHubServer, wall: FakeClock
) -> None:
    """A recently closed issue whose closed_by is a string, not a user, is not provably closed
    by triage: the effect is skipped as closed by hand, not an AttributeError."""
    ref = (await sink.apply(effect())).ref
    assert ref is not None
    closed = {
        "number": 1,
        "state": "closed",
        "closed_at": datetime.fromtimestamp(wall() - 60, UTC).isoformat(),
        "closed_by": "alice",
        "comments": 0,
    }
    github.fail_next(1, 200, body=closed, method="GET", path="/issues/1")
    applied = await sink.apply(effect(EffectKind.REOPEN, ref, key="fp:2"))
    assert applied.skipped is not None and applied.why is NotSent.CLOSED_BY_HAND


@pytest.mark.parametrize("status", [301, 302, 303])
async def test_a_write_redirected_with_a_method_change_is_not_followed(
    sink: GitHubSink, github: GitHubServer, status: int
) -> None:
    """A POST answered 301/302/303 would become a GET whose answer (another issue) would be
    taken for the one created: it is refused instead, and nothing is recorded as opened."""
    await as_person(github, "POST", f"/repos/{REPO}/issues", {"title": "someone else's"})
    github.fail_next(
        1, status, headers={"Location": f"/repos/{REPO}/issues/1"}, method="POST", path="/issues"
    )
    with pytest.raises(SinkRejectedError, match="redirected"):
        await sink.apply(effect())
    assert [i["title"] for i in github.issues()] == ["someone else's"]


@pytest.mark.parametrize("method", ["GET", "POST"])
async def test_a_redirect_to_another_host_is_not_followed(
    sink: GitHubSink,
    github: GitHubServer,
    logs: list[MutableMapping[str, Any]],
    method: str,
) -> None:
    """A redirect off the API's host (GITHUB_API_URL is wrong: http for https, a moved host) is
    not followed, so neither our token nor the issue body goes there; no message can fix it,
    so it is a wait (`redirected`), not a rejected ticket; the error names GITHUB_API_URL and
    the sink's own line is debug (the message's line is the one at warning)."""
    async with hostile(answer(200, body=b"[]")) as elsewhere:
        github.fail_next(
            1, 307, headers={"Location": f"{elsewhere.url}/x"}, method=method, path="/issues"
        )
        with pytest.raises(SinkUnavailableError, match="GITHUB_API_URL") as caught:
            await sink.apply(effect())
    assert caught.value.reason == "redirected"
    assert elsewhere.requests == []
    assert [e["event"] for e in logs if e["log_level"] == "debug"] == ["github.redirected"]


@pytest.mark.parametrize("location", ["http://[::1", "http://127.0.0.1:99999/x"])
async def test_an_unreadable_redirect_is_not_followed(
    sink: GitHubSink, github: GitHubServer, location: str
) -> None:
    """A Location that is no URL is a redirect to nowhere we know: not followed, a wait like
    any other off the API, never an InvalidURL from inside the sink."""
    github.fail_next(1, 302, headers={"Location": location}, method="GET", path="/issues")
    with pytest.raises(SinkUnavailableError) as caught:
        await sink.apply(effect())
    assert caught.value.reason == "redirected"


@pytest.mark.parametrize(
    ("count", "headers"),
    [(1, {}), (GitHubApi.MAX_REDIRECTS + 1, {"Location": f"/repos/{REPO}/issues"})],
    ids=["no-location", "loop"],
)
async def test_a_redirect_that_leads_nowhere_is_a_wait(
    sink: GitHubSink, github: GitHubServer, count: int, headers: dict[str, str]
) -> None:
    """A 3xx with no Location, or redirects within the API that never end, are the API (or a
    proxy) misbehaving for every call, not a bad ticket: a wait (`redirected`), not rejected."""
    github.fail_next(count, 302, headers=headers, method="GET", path="/issues")
    with pytest.raises(SinkUnavailableError) as caught:
        await sink.apply(effect())
    assert caught.value.reason == "redirected"


async def test_a_307_within_the_api_is_followed_with_its_body(
    sink: GitHubSink, github: GitHubServer
) -> None:
    """A renamed repository answers a write with 307 to its new path: followed, method and body
    kept, and the issue is opened."""
    github.fail_next(
        1, 307, headers={"Location": f"/repos/{REPO}/issues"}, method="POST", path="/issues"
    )
    assert (await sink.apply(effect())).ref is not None
    assert len(github.issues()) == 1


@pytest.mark.parametrize("status", [500, 502, 503])
async def test_server_errors_are_transient(
    sink: GitHubSink, github: GitHubServer, status: int
) -> None:
    """5xx is SinkUnavailableError without a pause (it is not a limit)."""
    github.fail_next(1, status)
    with pytest.raises(SinkUnavailableError, match=str(status)):
        await sink.apply(effect())
    assert sink.paused_until() is None


async def test_validation_error_is_rejected_with_status_and_reason(
    sink: GitHubSink, github: GitHubServer
) -> None:
    """A 422 on create is SinkRejectedError naming the status and GitHub's message."""
    github.fail_next(1, 422, message="Validation Failed", path="/issues")
    with pytest.raises(SinkRejectedError, match="422: Validation Failed"):
        await sink.apply(effect())


async def test_missing_repository_is_retried_naming_it(sink: GitHubSink) -> None:
    """A route naming a repository GitHub does not show us (404) while GITHUB_REPOSITORY reads
    is SinkUnreachableError `no_access` naming it: the message is retried (the DLQ after
    maxReceiveCount, redrivable once the route is fixed), never refused for good."""
    with pytest.raises(SinkUnreachableError, match=r"acme/missing.*404") as caught:
        await sink.apply(effect(target=Target(repository="acme/missing")))
    assert caught.value.reason == "no_access"


async def test_route_repository_wins_over_the_default(
    sink: GitHubSink, github: GitHubServer
) -> None:
    """`effect.target.repository` chooses the repository; GITHUB_REPOSITORY is the default."""
    ref = (await sink.apply(effect(target=Target(repository="acme/other")))).ref
    assert ref == f"{github.url}/acme/other/issues/1"
    assert github.issues(REPO) == []


async def test_unreachable_github_is_transient(mono: FakeClock, wall: FakeClock) -> None:
    """A closed port is SinkUnavailableError, not a crash."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    settings = Settings(
        github_api_url=f"http://127.0.0.1:{port}", github_repository=REPO, github_token="x"
    )
    sink = GitHubSink(settings, clock=mono, wall_clock=wall)
    try:
        with pytest.raises(SinkUnavailableError, match="unreachable"):
            await sink.apply(effect())
    finally:
        await sink.aclose()


async def test_effects_without_an_issue_reference_are_skipped(
    sink: GitHubSink, github: GitHubServer
) -> None:
    """UPDATE/CLOSE/REOPEN whose ref is not an issue URL send nothing and return no ticket and
    the word `no ticket`."""
    for kind in (EffectKind.UPDATE, EffectKind.CLOSE, EffectKind.REOPEN):
        applied = await sink.apply(effect(kind, "T-1"))
        assert (applied.ref, applied.why) == (None, NotSent.NO_TICKET)
    assert github.calls == []


async def test_outcomes_are_counted(github: GitHubServer, mono: FakeClock, wall: FakeClock) -> None:
    """Each effect is counted once as SinkCalls{sink=github, outcome=…}."""
    metrics = Metrics()
    async with open_sink(github, mono, wall, metrics=metrics) as sink:
        await sink.apply(effect())
        await sink.apply(effect())
        github.fail_next(1, 422)
        with pytest.raises(SinkRejectedError):
            await sink.apply(effect(alert=incident(2)))
        github.fail_next(1, 403, retry_after="5")
        with pytest.raises(SinkThrottledError):
            await sink.apply(effect(alert=incident(3)))
        with pytest.raises(SinkThrottledError):
            await sink.apply(effect(alert=incident(3)))
    counted = {
        o: metrics.counter("SinkCalls", sink="github", outcome=o)
        for o in ("ok", "found", "rejected", "rate_limited", "paused")
    }
    assert counted == {"ok": 1, "found": 1, "rejected": 1, "rate_limited": 1, "paused": 1}


# --- Creation budget and storm digest -------------------------------------------------------


async def test_minute_budget_tells_refused_callers_when_a_token_is_free(
    github: GitHubServer, mono: FakeClock, wall: FakeClock
) -> None:
    """Past the minute budget a new incident is throttled with the time until a token is free
    (jittered up to a quarter more, so those refused together come back spread out); it comes
    back then and creates its issue, and the budget never pauses the whole sink."""
    async with open_sink(github, mono, wall, github_create_per_minute=2) as sink:
        await sink.apply(effect(alert=incident(1), key="a"))
        await sink.apply(effect(alert=incident(2), key="b"))
        waits = []
        for n, key in ((3, "c"), (4, "d")):
            with pytest.raises(SinkThrottledError) as caught:
                await sink.apply(effect(alert=incident(n), key=key))
            assert caught.value.retry_after_s is not None
            waits.append(caught.value.retry_after_s)
        assert all(30 <= w <= 37.5 for w in waits)
        wall.advance(max(waits))
        await sink.apply(effect(alert=incident(3), key="c"))
        with pytest.raises(SinkThrottledError):
            await sink.apply(effect(alert=incident(4), key="d"))
        assert sink.paused_until() is None  # our own budget never pauses the whole sink
    assert len(github.issues()) == 3


async def test_two_sinks_on_one_store_share_the_creation_budget(
    github: GitHubServer, mono: FakeClock, wall: FakeClock, tmp_path: Path
) -> None:
    """Two replicas' sinks drawing on one store get one budget between them, not one each."""
    store = SQLiteStore(str(tmp_path / "s.db"), Policy(), timedelta(minutes=2), timedelta(days=1))
    await store.open()
    try:
        async with (
            open_sink(github, mono, wall, budgets=store, github_create_per_minute=2) as one,
            open_sink(github, mono, wall, budgets=store, github_create_per_minute=2) as two,
        ):
            await one.apply(effect(alert=incident(1), key="a"))
            await two.apply(effect(alert=incident(2), key="b"))
            with pytest.raises(SinkThrottledError):
                await one.apply(effect(alert=incident(3), key="c"))
            with pytest.raises(SinkThrottledError):
                await two.apply(effect(alert=incident(4), key="d"))
    finally:
        await store.aclose()
    assert len(github.issues()) == 2


async def test_storm_digest_collects_incidents_beyond_the_hourly_budget(
    github: GitHubServer, mono: FakeClock, wall: FakeClock
) -> None:
    """Past the hourly budget new incidents become entries of one digest issue (created with
    the kept token), entries are not duplicated on retry, and later effects edit the entry."""
    async with open_sink(github, mono, wall, github_create_per_hour=3) as sink:
        own = [(await sink.apply(effect(alert=incident(n), key=f"k{n}"))).ref for n in (1, 2)]
        storm = [(await sink.apply(effect(alert=incident(n), key=f"k{n}"))).ref for n in (3, 4, 5)]
        retried = (await sink.apply(effect(alert=incident(4), key="k4"))).ref
        await sink.apply(
            effect(EffectKind.UPDATE, storm[0], "k3:2", alert=incident(3), occurrences=9)
        )
        await sink.apply(effect(EffectKind.CLOSE, storm[1], "k4:2", alert=incident(4)))

    issues = github.issues()
    assert len(issues) == 3
    assert [i["html_url"] for i in issues[:2]] == own
    digest = issues[2]
    assert digest["title"].startswith("[triage] Alert storm")
    assert {label["name"] for label in digest["labels"]} == {"triage", "triage-digest"}
    assert len(digest["comment_bodies"]) == 3
    assert retried == storm[1]
    assert all(ref and ref.startswith(f"{digest['html_url']}#issuecomment-") for ref in storm)
    first, second, third = digest["comment_bodies"]
    assert f"fingerprint `{incident(3).fingerprint}`" in first and "[P1] Backup failed" in first
    assert "source `generic`" in first
    assert "Status: firing, 9 occurrences" in first
    assert "Status: resolved at" in second
    assert "Status: firing since" in third


async def test_without_the_digest_the_hourly_budget_makes_callers_wait(
    github: GitHubServer, mono: FakeClock, wall: FakeClock
) -> None:
    """With TRIAGE_GITHUB_STORM_DIGEST off, incidents past the hourly budget wait for a token
    (1800 s at 2 an hour) instead of going to a digest, and a create the hourly budget refused
    spent no minute token."""
    async with open_sink(
        github,
        mono,
        wall,
        github_create_per_hour=2,
        github_create_per_minute=3,
        github_storm_digest=False,
    ) as sink:
        await sink.apply(effect(alert=incident(1), key="a"))
        await sink.apply(effect(alert=incident(2), key="b"))
        for n, key in ((3, "c"), (4, "d")):  # one minute token left for both to try
            with pytest.raises(SinkThrottledError) as caught:
                await sink.apply(effect(alert=incident(n), key=key))
            assert caught.value.retry_after_s is not None
            assert 1800 <= caught.value.retry_after_s <= 2250
        wall.advance(1800)
        await sink.apply(effect(alert=incident(3), key="c"))
    assert len(github.issues()) == 3


# --- GitHub App authentication --------------------------------------------------------------


def rsa_pem() -> tuple[str, str]:
    """A fresh RSA key pair: (private PEM, public PEM)."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    private = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode()
    public = (
        key.public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        .decode()
    )
    return private, public


@pytest.fixture(scope="module")
def app_keys() -> tuple[str, str]:
    return rsa_pem()


@pytest.fixture
def app_github(wall: FakeClock, app_keys: tuple[str, str]) -> Iterator[GitHubServer]:
    app = StubApp(app_id="4242", slug="triage-app", public_key=app_keys[1], installation_id=77)
    server = GitHubServer(tokens={ALICE_TOKEN: "alice"}, app=app, clock=wall)
    with server:
        yield server


def app_settings(github: GitHubServer, private_pem: str) -> dict[str, Any]:
    return {
        "github_token": None,
        "github_app_id": "4242",
        "github_app_private_key": private_pem,
        "github_app_installation_id": 77,
    }


def exchanges(github: GitHubServer) -> list[dict[str, Any]]:
    return [c for c in github.calls if c["path"] == "/app/installations/77/access_tokens"]


async def test_app_token_is_exchanged_once_and_cached(
    app_github: GitHubServer, app_keys: tuple[str, str], mono: FakeClock, wall: FakeClock
) -> None:
    """The App's RS256 JWT is exchanged for an installation token once; later calls reuse it
    until shortly before it expires, then a new one is minted."""
    settings = app_settings(app_github, app_keys[0])
    async with open_sink(app_github, mono, wall, **settings) as sink:
        await sink.apply(effect(alert=incident(1), key="a"))
        await sink.apply(effect(alert=incident(2), key="b"))
        assert [c["status"] for c in exchanges(app_github)] == [201]
        api_calls = [c for c in app_github.calls if not c["path"].startswith("/app")]
        assert {c["headers"]["authorization"] for c in api_calls} == {"Bearer ghs_stub1"}

        mono.advance(3600 - 300 - 1)
        wall.advance(3600 - 300 - 1)
        await sink.apply(effect(alert=incident(3), key="c"))
        assert len(exchanges(app_github)) == 1
        mono.advance(2)
        wall.advance(2)
        await sink.apply(effect(alert=incident(4), key="d"))
    assert [c["status"] for c in exchanges(app_github)] == [201, 201]
    assert app_github.calls[-1]["headers"]["authorization"] == "Bearer ghs_stub2"
    assert len(app_github.issues()) == 4


@pytest.mark.parametrize(
    "token",
    ["ghs_abc\r\nX-Injected: 1", "ghs_caf\u00e9", "ghs abc", "ghs_\x00"],
    ids=["crlf", "non-ascii", "space", "nul"],
)
async def test_an_installation_token_that_cannot_be_a_header_makes_messages_wait(
    app_github: GitHubServer,
    app_keys: tuple[str, str],
    mono: FakeClock,
    wall: FakeClock,
    token: str,
) -> None:
    """An access_tokens answer whose token cannot go in an Authorization header (a line break
    that would inject a header, non-ASCII, a space) is no token: `no_token`, the message waits,
    and nothing is sent with it (no ValueError or UnicodeEncodeError from inside the sink)."""
    app_github.fail_next(
        1,
        201,
        body={"token": token, "expires_at": "2099-01-01T00:00:00Z"},
        path="/access_tokens",
    )
    async with open_sink(app_github, mono, wall, **app_settings(app_github, app_keys[0])) as sink:
        with pytest.raises(SinkUnavailableError) as caught:
            await sink.apply(effect())
    assert caught.value.reason == "no_token"
    # Who we are (GET /app, with the JWT), then the exchange; nothing with the token.
    assert [c["path"] for c in app_github.calls] == ["/app", "/app/installations/77/access_tokens"]


@pytest.mark.parametrize(
    ("expires_at", "renew_in_s"),
    [
        ("2000-01-01T00:00:00Z", 60.0),  # already past (a clock far off): kept a minute
        ("9999-12-31T23:59:59Z", 3600.0 - 300.0),  # far future: as for GitHub's hour
        ("not a date", 3600.0 - 300.0),
    ],
)
def test_an_installation_tokens_odd_expiry_is_kept_within_bounds(
    expires_at: str, renew_in_s: float, mono: FakeClock, wall: FakeClock, app_keys: tuple[str, str]
) -> None:
    """An expires_at already past would make every call mint a new token (each exchange
    serialised behind one lock); one centuries away would keep a token for ever. The token is
    renewed within GitHub's hour, and not sooner than a minute."""
    credentials = AppCredentials("4242", app_keys[0], 77)
    cache = InstallationToken(credentials, clock=mono, wall_clock=wall)
    cache.remember({"token": "ghs_x", "expires_at": expires_at})
    mono.advance(renew_in_s - 1)
    assert cache.cached() == "ghs_x"
    mono.advance(2)
    assert cache.cached() is None


async def test_app_token_refused_is_renewed_once(
    app_github: GitHubServer, app_keys: tuple[str, str], mono: FakeClock, wall: FakeClock
) -> None:
    """A 401 with a cached installation token mints a new one and repeats the call."""
    async with open_sink(app_github, mono, wall, **app_settings(app_github, app_keys[0])) as sink:
        await sink.apply(effect(alert=incident(1), key="a"))
        app_github.revoke_installation_tokens()
        await sink.apply(effect(alert=incident(2), key="b"))
    assert len(exchanges(app_github)) == 2
    assert [c["status"] for c in app_github.calls].count(401) == 1
    assert len(app_github.issues()) == 2


async def test_app_identity_tells_its_closes_from_a_persons(
    app_github: GitHubServer, app_keys: tuple[str, str], mono: FakeClock, wall: FakeClock
) -> None:
    """For an App, `<slug>[bot]` closing the issue is triage itself (the re-fire reopens it),
    learnt from GET /app with the JWT."""
    async with open_sink(app_github, mono, wall, **app_settings(app_github, app_keys[0])) as sink:
        ref = (await sink.apply(effect())).ref
        await sink.apply(effect(EffectKind.CLOSE, ref, "fp:2", alert=RESOLVED))
        await sink.apply(effect(EffectKind.REOPEN, ref, "fp:3"))
    issue = app_github.issues()[0]
    assert issue["state"] == "open"
    assert [c["status"] for c in app_github.calls if c["path"] == "/app"] == [200]


async def test_an_app_jwt_refused_when_asking_who_we_are_is_a_wait(
    app_github: GitHubServer, app_keys: tuple[str, str], mono: FakeClock, wall: FakeClock
) -> None:
    """GitHub refuses the App's JWT on GET /app after a token was had (the App's id or key
    changed under us): a no_token wait like a refused exchange, never a rejected ticket. (A
    second process, which has a token from an update but has not asked who it is yet.)"""
    settings = app_settings(app_github, app_keys[0])
    async with open_sink(app_github, mono, wall, **settings) as sink:
        kept_open = (await sink.apply(effect(alert=incident(2)))).ref
        ref = (await sink.apply(effect())).ref
        await sink.apply(effect(EffectKind.CLOSE, ref, "fp:2", alert=RESOLVED))
    async with open_sink(app_github, mono, wall, **settings) as sink:
        await sink.apply(effect(EffectKind.UPDATE, kept_open, "fp:u"))  # a token, no GET /app
        assert app_github.app is not None
        app_github.app = dataclasses.replace(app_github.app, app_id="999")  # our JWT's iss is 4242
        with pytest.raises(GitHubUnavailableError) as waited:  # who closed it? asks GET /app
            await sink.apply(effect(EffectKind.REOPEN, ref, "fp:3"))
    assert waited.value.reason == "no_token"
    assert [c["status"] for c in app_github.calls if c["path"] == "/app"] == [200, 401]


async def test_app_key_is_read_from_a_file(
    app_github: GitHubServer,
    app_keys: tuple[str, str],
    mono: FakeClock,
    wall: FakeClock,
    tmp_path: Path,
) -> None:
    """GITHUB_APP_PRIVATE_KEY_FILE works in place of the PEM text."""
    key_file = tmp_path / "app.pem"
    key_file.write_text(app_keys[0], encoding="utf-8")
    settings = app_settings(app_github, app_keys[0])
    settings["github_app_private_key"] = None
    settings["github_app_private_key_file"] = key_file
    async with open_sink(app_github, mono, wall, **settings) as sink:
        assert (await sink.apply(effect())).ref is not None


async def test_a_wrong_app_key_makes_the_sink_wait_not_reject(
    app_github: GitHubServer, mono: FakeClock, wall: FakeClock
) -> None:
    """A JWT GitHub refuses means no token can be had (nor who we are): SinkUnavailableError,
    so messages wait (the key is fixed by configuration, not by the message), and the error
    says what to check."""
    wrong_private, _ = rsa_pem()
    async with open_sink(app_github, mono, wall, **app_settings(app_github, wrong_private)) as sink:
        with pytest.raises(SinkUnavailableError, match="JWT") as caught:
            await sink.apply(effect())
    assert "GITHUB_APP_ID" in str(caught.value) and "private key" in str(caught.value)
    assert app_github.issues() == []


# --- Configuration and references ---------------------------------------------------------


def test_missing_credentials_are_a_config_error() -> None:
    """Neither GITHUB_TOKEN nor an App stops the daemon at startup, naming both."""
    with pytest.raises(ConfigError, match="GITHUB_TOKEN or the GITHUB_APP_"):
        GitHubSink(Settings(github_repository=REPO))


@pytest.mark.parametrize("token", ["t-bot\r\nX-Injected: 1", "t-b\u00f6t", "t bot"])
def test_a_token_that_cannot_be_a_header_is_a_config_error(token: str) -> None:
    """A GITHUB_TOKEN with a line break, a space or non-ASCII inside stops the daemon at
    startup, without quoting it, instead of every call failing deep in the HTTP library."""
    with pytest.raises(ConfigError, match="GITHUB_TOKEN is not a usable token") as caught:
        GitHubSink(Settings(github_repository=REPO, github_token=token))
    assert token.strip() == "" or token not in str(caught.value)


async def test_a_token_read_with_its_trailing_newline_is_stripped(
    github: GitHubServer, mono: FakeClock, wall: FakeClock
) -> None:
    """A GITHUB_TOKEN from a secret file keeps its trailing newline: it is sent stripped."""
    async with open_sink(github, mono, wall, github_token=f"{BOT_TOKEN}\n") as sink:
        assert (await sink.apply(effect())).ref is not None
    assert {c["headers"]["authorization"] for c in github.calls} == {f"Bearer {BOT_TOKEN}"}


def test_incomplete_app_settings_name_what_is_missing() -> None:
    """An App id without key and installation names the two missing settings."""
    with pytest.raises(
        ConfigError, match=r"GITHUB_APP_PRIVATE_KEY or .*GITHUB_APP_INSTALLATION_ID"
    ):
        GitHubSink(Settings(github_app_id="1"))


def test_api_url_without_scheme_is_a_config_error() -> None:
    """GITHUB_API_URL must be http(s)."""
    with pytest.raises(ConfigError, match="GITHUB_API_URL"):
        GitHubSink(Settings(github_api_url="api.github.com", github_token="x"))


@pytest.mark.parametrize(
    ("ref", "parsed"),
    [
        ("https://github.com/acme/ops/issues/12", IssueRef("acme/ops", 12)),
        ("https://github.com/acme/ops/issues/7#issuecomment-99", IssueRef("acme/ops", 7, 99)),
        ("https://ghe.example.com/a-b/c.d/issues/3/", IssueRef("a-b/c.d", 3)),
        ("https://github.com/acme/ops/pull/12", None),
        ("https://github.com/../../issues/12", None),  # would steer later calls off /repos
        ("https://github.com/acme/%2e%2e/issues/12", None),
        ("https://github.com/acme/ops%3Fx/issues/12", None),
        ("T-1", None),
    ],
)
def test_issue_references(ref: str, parsed: IssueRef | None) -> None:
    """An issue's html_url (and a digest entry's comment URL) parse to repository and number;
    one whose owner or name could be no repository's (`..`, escapes) names nothing."""
    assert IssueRef.parse(ref) == parsed


async def test_a_refused_token_makes_messages_wait_without_leaking_it(
    github: GitHubServer,
    mono: FakeClock,
    wall: FakeClock,
    logs: list[MutableMapping[str, Any]],
) -> None:
    """A GITHUB_TOKEN GitHub refuses is SinkUnavailableError (credentials are configuration, not
    the message's fault), after one call, and the token shows in no log or error."""
    async with open_sink(github, mono, wall, github_token="wrong-token-xyz") as sink:
        with pytest.raises(SinkUnavailableError, match="refused our credentials") as caught:
            await sink.apply(effect())
    assert [c["status"] for c in github.calls] == [401]
    assert "wrong-token-xyz" not in str(caught.value)
    assert "wrong-token-xyz" not in repr(logs)


async def test_a_marker_in_alert_text_cannot_adopt_another_incidents_digest_entry(
    github: GitHubServer, mono: FakeClock, wall: FakeClock
) -> None:
    """A digest entry whose team (shown in a code span) imitates another incident's entry
    marker is not taken for that incident's entry: it gets its own, and its CLOSE edits that."""
    victim = incident(4)
    forged = f"<!-- triage:digest-entry={victim.fingerprint} -->"
    hostile = incident(3).model_copy(update={"team": forged, "source": forged})
    async with open_sink(github, mono, wall, github_create_per_hour=2) as sink:
        await sink.apply(effect(alert=incident(1), key="k1"))  # the hour's one issue
        hostile_ref = (await sink.apply(effect(alert=hostile, key="k3"))).ref
        victim_ref = (await sink.apply(effect(alert=victim, key="k4"))).ref
        await sink.apply(effect(EffectKind.CLOSE, victim_ref, "k4:2", alert=victim))
    assert victim_ref != hostile_ref
    _, digest = github.issues()
    hostile_entry, victim_entry = digest["comment_bodies"]
    assert "Status: firing since" in hostile_entry
    assert "Status: resolved at" in victim_entry


async def test_a_persons_comment_with_a_marker_is_not_taken_for_triages(
    github: GitHubServer, mono: FakeClock, wall: FakeClock
) -> None:
    """A marker line in a comment someone else wrote (anyone may comment on a public repo) is
    not taken for triage's: the CLOSE it imitates still posts its comment, and the incident it
    names gets its own digest entry (not one triage could never edit)."""
    victim = incident(4)
    async with open_sink(github, mono, wall, github_create_per_hour=2) as sink:
        ref = (await sink.apply(effect(alert=incident(1), key="k1"))).ref  # the hour's issue
        planted_effect = {"body": "<!-- triage:effect=k1:2 -->"}
        await as_person(github, "POST", f"/repos/{REPO}/issues/1/comments", planted_effect)
        await sink.apply(effect(EffectKind.CLOSE, ref, "k1:2", alert=incident(1)))
        await sink.apply(effect(alert=incident(3), key="k3"))  # opens the digest, issue 2
        forged = f"<!-- triage:digest-entry={victim.fingerprint} -->"
        (planted,) = await as_person(
            github, "POST", f"/repos/{REPO}/issues/2/comments", {"body": forged}
        )
        victim_ref = (await sink.apply(effect(alert=victim, key="k4"))).ref
    issue, digest = github.issues()
    assert any("Resolved at" in body for body in issue["comment_bodies"])
    assert victim_ref is not None and victim_ref != planted["html_url"]
    assert "Status: firing since" in digest["comment_bodies"][-1]


@pytest.mark.parametrize("kind", ["incident", "digest"])
async def test_a_persons_issue_copied_from_triages_is_not_adopted(
    github: GitHubServer, mono: FakeClock, wall: FakeClock, kind: str
) -> None:
    """An issue a person opened with the body of a triage issue copied in (its hidden marker
    comes along) and triage's labels is not taken for the incident's issue, nor for the storm
    digest: triage opens its own, instead of writing into one it did not create."""
    marker = {
        "incident": f"<!-- triage:fingerprint={ALERT.fingerprint} -->",
        "digest": "<!-- triage:digest -->",
    }[kind]
    copy = {"title": "copy", "body": f"Copied.\n\n{marker}", "labels": ["triage"]}
    copy["labels"] += ["triage-digest"] if kind == "digest" else []
    await as_person(github, "POST", f"/repos/{REPO}/issues", copy)
    async with open_sink(github, mono, wall, github_create_per_hour=2) as sink:
        if kind == "digest":  # the hour's first issue; the next incident goes to the digest
            await sink.apply(effect(alert=incident(1), key="k1"))
        ref = (await sink.apply(effect())).ref
    assert ref is not None and not ref.startswith(f"{github.url}/{REPO}/issues/1")
    person, *ours = github.issues()
    assert person["comment_bodies"] == []
    assert [issue["user"]["login"] for issue in ours] == ["triage-bot"] * len(ours)


async def test_team_labels_stop_at_a_bound_of_distinct_teams(
    github: GitHubServer,
    mono: FakeClock,
    wall: FakeClock,
    monkeypatch: pytest.MonkeyPatch,
    logs: list[MutableMapping[str, Any]],
) -> None:
    """A label is the repository's for good and the team comes from the alert: past the bound
    of distinct teams (2 here, 50 shipped) a new team's issue gets no team: label, a known
    team's still does, and the bound is said once."""
    monkeypatch.setattr("triage.sinks.github.sink.TEAM_LABELS", 2)

    def teamed(n: int, team: str) -> Alert:
        return incident(n).model_copy(update={"team": team})

    async with open_sink(github, mono, wall, github_create_per_minute=100) as s:
        for n, team in enumerate(["pay", "data", "pod-7f9c", "pod-1a2b", "PAY"]):
            await s.apply(effect(alert=teamed(n, team), key=f"fp{n}:1"))
    labels = [[x["name"] for x in i["labels"]] for i in github.issues()]
    teams = [[x for x in names if x.startswith("team:")] for names in labels]
    assert sorted(map(tuple, teams)) == sorted(
        [("team:pay",), ("team:data",), (), (), ("team:PAY",)]
    )
    assert [e["event"] for e in logs].count("github.team_labels_bounded") == 1
