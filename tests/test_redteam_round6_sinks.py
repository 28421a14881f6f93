"""Red team, sinks round 6: the ticket backend, GitHub and Slack under answers and ticket
histories real services give. Each sink is the real code over real HTTP to a loopback server
on 127.0.0.1 (`hostile_server` scripts the answers; the later-life ticket backend of
tests/test_backend_later_life keeps tickets). A strict xfail is a bug found: it fails today for
the reason it names, and passes once the bug is fixed."""

from __future__ import annotations

import json
import time
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest
from pydantic import SecretStr

from factories import view
from hostile_server import Answer, HostileServer, answer, hostile
from test_backend_later_life import LaterLifeTickets
from triage.errors import (
    GitHubThrottledError,
    SinkRejectedError,
    SinkThrottledError,
    SinkUnavailableError,
)
from triage.models import Alert, EffectKind, Priority, Status, Ticket
from triage.secrets import BackendToken
from triage.settings import Settings
from triage.sinks.backend import BackendSink
from triage.sinks.base import Effect, NotSent
from triage.sinks.github.api import GitHubApi
from triage.sinks.slack import SlackSink
from triage.view import GroupView, MemberView

TOKEN = "round6-sinks-token"
ALERT = Alert(
    source="generic",
    status=Status.FIRING,
    title="checkout latency p99 over 2 s",
    team="payments",
    priority=Priority.CRITICAL,
    occurred_at=datetime(2026, 12, 6, 3, tzinfo=UTC),
    identity={"dedup_key": "checkout-latency"},
)
TICKET = Ticket(title="Checkout latency", priority=Priority.CRITICAL, description="p99 2.4 s")
CREATE_ROUTE = "/api/service/tickets"
UPDATE_ROUTE = "/api/service/tickets/{ref}/updates"
RESOLVE_ROUTE = "/api/service/tickets/{ref}/resolve"


def effect(kind: EffectKind, ref: str | None = None, key: str = "fp:1") -> Effect:
    return Effect(kind, ALERT.fingerprint, view(ALERT), TICKET, ref, 3, 2, False, key)


@pytest.fixture(autouse=True)
def backend_token(monkeypatch: pytest.MonkeyPatch) -> None:
    """The backend sink's token, from the environment as the daemon reads it."""
    monkeypatch.setenv("BACKEND_TOKEN", TOKEN)


@asynccontextmanager
async def backend_at(url: str) -> AsyncIterator[BackendSink]:
    settings = Settings(
        backend_base_url=url,
        backend_service_route=CREATE_ROUTE,
        backend_update_route=UPDATE_ROUTE,
        backend_resolve_route=RESOLVE_ROUTE,
    )
    sink = BackendSink(settings, BackendToken(settings))
    try:
        yield sink
    finally:
        await sink.aclose()


@asynccontextmanager
async def slack_at(server: HostileServer) -> AsyncIterator[SlackSink]:
    webhook = f"{server.url}/services/T000/B000/round6secretpath"
    sink = SlackSink(Settings(slack_webhook_url=SecretStr(webhook), slack_min_interval_s=0.0))
    try:
        yield sink
    finally:
        await sink.aclose()


def json_answer(status: int, body: object, headers: dict[str, str] | None = None) -> Answer:
    return answer(
        status, {"Content-Type": "application/json", **(headers or {})}, json.dumps(body).encode()
    )


def paths(server: HostileServer) -> list[str]:
    """The request line's path of each request the server took, in order."""
    return [r.head.split(b"\r\n", 1)[0].split(b" ")[1].decode() for r in server.requests]


# --- The ticket backend: create answers ---------------------------------------------------------


async def test_a_create_answered_with_an_html_page_is_not_recorded_as_a_ticket() -> None:
    """A 2xx create whose body is an HTML page (a sign-in proxy or a web app in front of the
    API answers for the route) is no ticket backend's answer: the create fails as transient,
    so its retry reaches the backend, instead of the incident being recorded with a ticket
    that does not exist."""
    page = b"<!doctype html><html><body><form action=/login>Sign in</form></body></html>"
    async with (
        hostile(answer(200, {"Content-Type": "text/html; charset=utf-8"}, page)) as server,
        backend_at(server.url) as sink,
    ):
        with pytest.raises(SinkUnavailableError):
            await sink.apply(effect(EffectKind.OPEN))


async def test_a_create_answer_in_a_data_envelope_names_its_ticket() -> None:
    """A create answered as JSON:API (and many REST backends) answer it, the new resource
    under `data`, names the ticket by its `data.id`: the incident's later update goes to that
    ticket's route, not to one named by the effect's Idempotency-Key, which the backend never
    heard of (its 404 would mark the live ticket gone)."""
    created = json_answer(201, {"data": {"type": "tickets", "id": "T-3"}})
    async with (
        hostile(created, json_answer(200, {"ok": True})) as server,
        backend_at(server.url) as sink,
    ):
        opened = await sink.apply(effect(EffectKind.OPEN, key="fp:1"))
        await sink.apply(effect(EffectKind.UPDATE, opened.ref, key="fp:2"))
    assert opened.ref == "T-3"
    assert paths(server)[1] == "/api/service/tickets/T-3/updates"


async def test_a_create_answered_409_naming_the_ticket_adopts_it() -> None:
    """A retried create (its first answer lost) that the backend answers 409 Conflict with the
    ticket the key already made (its id in the body and its Location, as backends that refuse
    a reused key say) is that ticket: the incident gets its reference, instead of a wait that
    every retry meets again, the incident never holding the ticket that exists."""
    duplicate = json_answer(
        409,
        {"error": "duplicate_idempotency_key", "id": "T-7"},
        {"Location": f"{CREATE_ROUTE}/T-7"},
    )
    async with hostile(duplicate) as server, backend_at(server.url) as sink:
        applied = await sink.apply(effect(EffectKind.OPEN))
    assert applied.ref == "T-7"


#: Express's default JSON body limit (body-parser's `100kb`), what many ticket services
#: behind `POST /api/service/tickets` answer 413 past.
EXPRESS_JSON_LIMIT = 100 * 1024


async def test_a_large_group_is_sent_within_a_common_body_limit() -> None:
    """A group of 1,000 alerts (the members a group tracks) is opened, and updated, in bodies
    a ticket service with a common JSON limit takes (100 KiB, Express's default): the members
    are listed within a bound, as GitHub's issue lists them, the rest counted. Unbounded, the
    group's open is refused 413, which fails its message for good, and so would every update
    window's update."""
    since = datetime(2026, 12, 6, 3, tzinfo=UTC)
    members = tuple(
        MemberView(
            f"{n:032x}",
            f"pod checkout-{n} in namespace payments-prod restarted (OOMKilled), "
            "container api exceeded its memory limit of 512Mi after 3 restarts",
            Status.FIRING,
            since + timedelta(seconds=n),
        )
        for n in range(1000)
    )
    group = GroupView({"alertname": "KubePodCrashLooping"}, members)
    opening = replace(effect(EffectKind.OPEN), alert=replace(view(ALERT), group=group))
    created = json_answer(201, {"id": "T-1"})
    updated = json_answer(200, {"ok": True})
    async with hostile(created, updated) as server, backend_at(server.url) as sink:
        opened = await sink.apply(opening)
        await sink.apply(replace(opening, kind=EffectKind.UPDATE, ref=opened.ref))
    sizes = [len(request.body) for request in server.requests]
    assert max(sizes) <= EXPRESS_JSON_LIMIT, sizes


async def test_a_close_whose_body_says_it_failed_is_not_taken_as_done() -> None:
    """A close answered 200 `{"ok": false, "ticket_id": "T-1", "error": …}` (an API Gateway
    Lambda that turns its failure into a 200, naming the ticket it was asked about) did not
    close the ticket: it is retried under the same Idempotency-Key, as a 2xx failure that
    names no ticket is. Naming the ticket proves a create made one, not that a later effect
    was applied."""
    failed = json_answer(200, {"ok": False, "ticket_id": "T-1", "error": "ticket_locked"})
    async with hostile(failed) as server, backend_at(server.url) as sink:
        with pytest.raises(SinkUnavailableError):
            await sink.apply(effect(EffectKind.CLOSE, "T-1", key="fp:3"))


# --- The ticket backend: a ticket's later life ----------------------------------------------------


@pytest.fixture
def tickets() -> Iterator[LaterLifeTickets]:
    server = LaterLifeTickets(TOKEN)
    server.start()
    yield server
    server.stop()


async def test_a_refire_of_a_deleted_ticket_on_a_proven_route_opens_a_new_one(
    tickets: LaterLifeTickets,
) -> None:
    """Once the update route has answered for other tickets (so it is the right route), a
    reopen answered 404 says this ticket was deleted (most trackers answer 404, not 410, for a
    deleted ticket): the re-fire opens a new ticket, as GitHub's sink does for a deleted issue,
    instead of leaving a firing incident with none (and every later update skipped)."""
    async with backend_at(tickets.url) as sink:
        other = (await sink.apply(effect(EffectKind.OPEN, key="other:1"))).ref
        await sink.apply(effect(EffectKind.UPDATE, other, key="other:2"))
        ref = (await sink.apply(effect(EffectKind.OPEN, key="fp:1"))).ref
        assert ref is not None
        tickets.deleted.add(ref)
        refired = await sink.apply(effect(EffectKind.REOPEN, ref, key="fp:3"))
    assert refired.skipped is None
    assert refired.ref not in (None, ref)
    assert len(tickets.tickets) == 3


class FakeClock:
    """The backend sink's monotonic clock, moved by the test."""

    def __init__(self) -> None:
        self.now = 1_000.0

    def __call__(self) -> float:
        return self.now


async def test_a_refire_the_backend_will_not_reopen_opens_a_new_ticket(
    tickets: LaterLifeTickets,
) -> None:
    """open → close by a person on the backend → re-fire: the backend answers every event for
    the closed ticket 409 Conflict. Once that has lasted `conflict_s` (no request in flight),
    the reopen is refused for good; the incident fires again all the same, so it gets a new
    ticket (under a key of its own), as a reopen of a deleted (410) ticket does."""
    clock = FakeClock()
    settings = Settings(
        backend_base_url=tickets.url,
        backend_update_route=UPDATE_ROUTE,
        backend_resolve_route=RESOLVE_ROUTE,
    )
    sink = BackendSink(settings, BackendToken(settings), clock=clock)
    try:
        ref = (await sink.apply(effect(EffectKind.OPEN, key="fp:1"))).ref
        assert ref is not None
        tickets.closed_by_person.add(ref)
        with pytest.raises(SinkThrottledError):
            await sink.apply(effect(EffectKind.REOPEN, ref, key="fp:2"))
        clock.now += sink.conflict_s
        refired = await sink.apply(effect(EffectKind.REOPEN, ref, key="fp:2"))
    finally:
        await sink.aclose()
    assert refired.skipped is None
    assert refired.ref not in (None, ref)
    assert len(tickets.tickets) == 2


# --- GitHub ---------------------------------------------------------------------------------------


async def test_a_spent_search_budget_does_not_pause_issue_writes() -> None:
    """GitHub budgets the search API apart from the rest (30 calls a minute against the core
    5,000 an hour). The marker look-up's search (past the listed pages) meeting its limit
    holds look-ups, not an incident's comment or close, which the core budget still allows:
    the next comment reaches GitHub instead of being refused "paused" without asking."""
    search_spent = json_answer(
        403,
        {"message": "API rate limit exceeded for user ID 1."},
        {
            "x-ratelimit-resource": "search",
            "x-ratelimit-limit": "30",
            "x-ratelimit-remaining": "0",
            "x-ratelimit-reset": str(int(time.time()) + 60),
        },
    )
    commented = json_answer(
        201,
        {"id": 1001, "body": "Resolved", "user": {"login": "triage-bot"}},
        {"x-ratelimit-resource": "core", "x-ratelimit-remaining": "4990"},
    )
    async with hostile(search_spent, commented) as server:
        settings = Settings(github_api_url=server.url, github_token=SecretStr("ghp_" + "a" * 36))
        api = GitHubApi(settings)
        try:
            with pytest.raises(GitHubThrottledError):
                await api.call("GET", "/search/issues", params={"q": "repo:acme/ops is:open"})
            try:
                await api.call(
                    "POST", "/repos/acme/ops/issues/7/comments", json={"body": "Resolved"}
                )
            except GitHubThrottledError as exc:
                pytest.fail(f"the comment was refused without asking GitHub: {exc}")
        finally:
            await api.aclose()
    assert paths(server)[1] == "/repos/acme/ops/issues/7/comments"


# --- Slack ----------------------------------------------------------------------------------------


async def test_a_webhook_whose_user_is_gone_skips_the_open() -> None:
    """An incoming webhook that posts to a person whose account is gone answers 400
    `user_not_found`, one of Slack's documented webhook errors for a destination that takes
    no more posts: a new incident's post is skipped with one warning, as for
    `channel_not_found`, instead of failing every message routed there."""
    refusal = answer(400, {"Content-Type": "text/plain"}, b"user_not_found")
    async with hostile(refusal) as server, slack_at(server) as sink:
        try:
            applied = await sink.apply(effect(EffectKind.OPEN))
        except SinkRejectedError as exc:
            pytest.fail(f"the open failed its message: {exc}")
    assert applied.refused
    assert applied.skipped == "slack refused: user_not_found"


async def test_a_channel_gone_then_a_refire_posts_nothing_more() -> None:
    """A channel deleted before the incident opened (404 `channel_not_found`): the open is
    skipped as refused, holding no reference, so the re-fire and close that follow are not
    posted (no post to a channel that said it is gone, no second warning)."""
    gone = answer(404, {"Content-Type": "text/plain"}, b"channel_not_found")
    async with hostile(gone) as server, slack_at(server) as sink:
        opened = await sink.apply(effect(EffectKind.OPEN))
        later = [
            await sink.apply(effect(kind, opened.ref, key=f"fp:{n}"))
            for n, kind in enumerate((EffectKind.REOPEN, EffectKind.CLOSE), start=2)
        ]
    assert (opened.ref, opened.why) == (None, NotSent.REFUSED)
    assert [a.why for a in later] == [NotSent.NOT_POSTED_AT_OPEN] * 2
    assert len(server.requests) == 1
