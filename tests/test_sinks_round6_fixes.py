"""Round 6 sink fixes: GitHub's rate limits pause only the budget they spend (the search API's
and GraphQL's apart from `core`, while a secondary limit still holds every call), and Slack's
documented answers for a destination gone for good skip a post instead of failing it. Each
sink is the real code over real HTTP to a loopback server on 127.0.0.1 (`hostile_server`)."""

from __future__ import annotations

import json
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime

import pytest
from pydantic import SecretStr

from factories import view
from hostile_server import Answer, HostileServer, answer, hostile
from triage.errors import GitHubThrottledError, SinkUnavailableError
from triage.models import Alert, EffectKind, Priority, Status, Ticket
from triage.settings import Settings
from triage.sinks.base import Effect
from triage.sinks.github.api import GitHubApi
from triage.sinks.slack import DESTINATION_GONE, TEMPORARY_REFUSALS, SlackSink

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
COMMENT = "/repos/acme/ops/issues/7/comments"


def json_answer(status: int, body: object, headers: dict[str, str] | None = None) -> Answer:
    return answer(
        status, {"Content-Type": "application/json", **(headers or {})}, json.dumps(body).encode()
    )


def paths(server: HostileServer) -> list[str]:
    """The request line's path (without its query) of each request the server took, in order."""
    lines = [r.head.split(b"\r\n", 1)[0].split(b" ")[1].decode() for r in server.requests]
    return [line.split("?", 1)[0] for line in lines]


def spent(resource: str, status: int = 403) -> Answer:
    """GitHub's answer when `resource`'s primary budget is spent (or, with a 200, when this
    call spent its last call), resetting in a minute."""
    body: object = {"message": "API rate limit exceeded for user ID 1."} if status >= 400 else {}
    return json_answer(
        status,
        body,
        {
            "x-ratelimit-resource": resource,
            "x-ratelimit-limit": "30",
            "x-ratelimit-remaining": "0",
            "x-ratelimit-reset": str(int(time.time()) + 60),
        },
    )


def commented() -> Answer:
    return json_answer(
        201,
        {"id": 1001, "body": "Resolved", "user": {"login": "triage-bot"}},
        {"x-ratelimit-resource": "core", "x-ratelimit-remaining": "4990"},
    )


@asynccontextmanager
async def github_at(server: HostileServer) -> AsyncIterator[GitHubApi]:
    settings = Settings(github_api_url=server.url, github_token=SecretStr("ghp_" + "a" * 36))
    api = GitHubApi(settings)
    try:
        yield api
    finally:
        await api.aclose()


async def search(api: GitHubApi, path: str = "/search/issues") -> None:
    await api.call("GET", path, params={"q": "repo:acme/ops is:open"})


async def comment(api: GitHubApi) -> None:
    await api.call("POST", COMMENT, json={"body": "Resolved"})


# --- GitHub: which calls a limit holds ------------------------------------------------------


async def test_a_spent_search_budget_holds_the_next_search_without_asking() -> None:
    """The search budget spent, the next search is refused "paused" without reaching GitHub
    (it would be refused too), while the sink as a whole is not paused: `paused_until()`,
    which stops every call, stays None."""
    async with hostile(spent("search"), commented()) as server, github_at(server) as api:
        with pytest.raises(GitHubThrottledError) as first:
            await search(api)
        assert first.value.reason == "rate_limited"
        with pytest.raises(GitHubThrottledError) as again:
            await search(api)
        assert again.value.reason == "paused"
        assert again.value.retry_after_s is not None and 0 < again.value.retry_after_s <= 61
        assert api.paused_until() is None
        await comment(api)
    assert paths(server) == ["/search/issues", COMMENT]


async def test_a_search_that_spends_the_last_search_call_holds_only_searches() -> None:
    """A search answered 200 with no search calls left holds the next search until the
    reset (as the core budget's last call holds every call), but not a comment."""
    results = {"total_count": 0, "incomplete_results": False, "items": []}
    last = json_answer(
        200,
        results,
        {
            "x-ratelimit-resource": "search",
            "x-ratelimit-remaining": "0",
            "x-ratelimit-reset": str(int(time.time()) + 60),
        },
    )
    async with hostile(last, commented()) as server, github_at(server) as api:
        await search(api)
        with pytest.raises(GitHubThrottledError, match="in force"):
            await search(api)
        await comment(api)
        assert api.paused_until() is None
    assert paths(server) == ["/search/issues", COMMENT]


async def test_a_spent_code_search_budget_holds_code_search_alone() -> None:
    """GitHub budgets code search (`code_search`) apart from the other searches: its limit
    holds the next code search, not an issue search."""
    results = json_answer(200, {"total_count": 0, "incomplete_results": False, "items": []})
    async with hostile(spent("code_search"), results) as server, github_at(server) as api:
        with pytest.raises(GitHubThrottledError):
            await search(api, "/search/code")
        with pytest.raises(GitHubThrottledError, match="in force"):
            await search(api, "/search/code")
        await search(api)
    assert paths(server) == ["/search/code", "/search/issues"]


async def test_a_spent_graphql_budget_does_not_hold_rest_calls() -> None:
    """A query that spends GraphQL's last call (its answer's `x-ratelimit-resource` is
    graphql) holds the next query until the reset, not a REST comment."""
    async with hostile(spent("graphql", 200), commented()) as server, github_at(server) as api:
        await api.call("POST", "/graphql", json={"query": "{ viewer { login } }"})
        with pytest.raises(GitHubThrottledError, match="in force"):
            await api.call("POST", "/graphql", json={"query": "{ viewer { login } }"})
        await comment(api)
    assert paths(server) == ["/graphql", COMMENT]


async def test_a_secondary_limit_on_a_search_still_holds_every_call() -> None:
    """A secondary limit (Retry-After, no budget spent) is GitHub's for the whole integration,
    whichever call met it: met by a search, it holds the next comment too, unsent."""
    secondary = json_answer(
        403,
        {"message": "You have exceeded a secondary rate limit."},
        {"x-ratelimit-resource": "search", "x-ratelimit-remaining": "12", "retry-after": "30"},
    )
    async with hostile(secondary, commented()) as server, github_at(server) as api:
        with pytest.raises(GitHubThrottledError) as first:
            await search(api)
        assert first.value.retry_after_s == 30
        with pytest.raises(GitHubThrottledError, match="in force"):
            await comment(api)
        assert api.paused_until() is not None
    assert paths(server) == ["/search/issues"]


async def test_a_spent_core_budget_still_holds_every_call() -> None:
    """The core budget spent (the one nearly every call spends) holds a search too: the
    global pause is kept for `core`."""
    async with hostile(spent("core"), commented()) as server, github_at(server) as api:
        with pytest.raises(GitHubThrottledError):
            await comment(api)
        with pytest.raises(GitHubThrottledError, match="in force"):
            await search(api)
        assert api.paused_until() is not None
    assert paths(server) == [COMMENT]


async def test_a_spent_budget_of_a_resource_we_do_not_know_pauses_nothing_else() -> None:
    """A budget GitHub names that no path of ours maps to (a new resource) holds no other
    call: the call that met it is throttled, the next comment goes out."""
    snapshots = "/repos/acme/ops/dependency-graph/snapshots"
    spent_elsewhere = spent("dependency_snapshots")
    async with hostile(spent_elsewhere, commented()) as server, github_at(server) as api:
        with pytest.raises(GitHubThrottledError):
            await api.call("POST", snapshots, json={})
        await comment(api)
        assert api.paused_until() is None
    assert paths(server) == [snapshots, COMMENT]


# --- Slack: a destination gone for good, and answers that mean "later" -------------------------


def effect(kind: EffectKind = EffectKind.OPEN) -> Effect:
    return Effect(kind, ALERT.fingerprint, view(ALERT), TICKET, None, 1, 1, False, "fp:1")


@asynccontextmanager
async def slack_at(server: HostileServer) -> AsyncIterator[SlackSink]:
    webhook = f"{server.url}/services/T000/B000/round6fixessecret"
    sink = SlackSink(Settings(slack_webhook_url=SecretStr(webhook), slack_min_interval_s=0.0))
    try:
        yield sink
    finally:
        await sink.aclose()


#: Slack's documented answers for a destination that takes no more posts, as they come: an
#: incoming webhook's plain text at its status, or the Web API's (and a workflow webhook's)
#: `{"ok": false, "error"}`.
GONE_FOR_GOOD = [
    (400, "user_not_found"),
    (200, "ekm_access_denied"),
    (200, "access_denied"),
    (200, "accesslimited"),
    (200, "no_permission"),
    (200, "missing_scope"),
    (200, "team_access_not_granted"),
    (200, "restricted_action_read_only_channel"),
    (200, "restricted_action_thread_only_channel"),
    (200, "messages_tab_disabled"),
]


@pytest.mark.parametrize(("status", "code"), GONE_FOR_GOOD)
async def test_a_destination_gone_for_good_skips_a_new_incident(status: int, code: str) -> None:
    """A documented answer that the destination takes no more posts (the user gone, posting
    suspended or restricted there, the app's access withdrawn) skips a new incident's post
    with one warning, as `channel_not_found` does, instead of failing its message."""
    if status == 200:
        refusal = json_answer(200, {"ok": False, "error": code})
    else:
        refusal = answer(status, {"Content-Type": "text/plain"}, code.encode())
    async with hostile(refusal) as server, slack_at(server) as sink:
        applied = await sink.apply(effect())
    assert code in DESTINATION_GONE
    assert applied.refused
    assert applied.skipped == f"slack refused: {code}"


@pytest.mark.parametrize("code", ["team_added_to_org", "org_login_required"])
async def test_a_workspace_migrating_holds_the_post(code: str) -> None:
    """A workspace moving into an Enterprise organisation is unavailable "until the migration
    is complete", Slack says: the post is held and tried again (unavailable), neither
    skipped nor failed as the message's fault."""
    refusal = json_answer(200, {"ok": False, "error": code})
    async with hostile(refusal) as server, slack_at(server) as sink:
        with pytest.raises(SinkUnavailableError, match=code):
            await sink.apply(effect())
    assert code in TEMPORARY_REFUSALS
