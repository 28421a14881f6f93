"""Round 12 (helper 416): the sinks against answers their real services give that no earlier
round covers. Each is the real sink over real HTTP to a loopback stand-in on 127.0.0.1.

- GitHub's content-creation limit as it is actually written: a 422 whose validation error says
  the issue or comment "was submitted too quickly" (the docs' "has been spammed" is what the
  sink knew). It is a wait, not the ticket's fault.
- A page of an issue's comments too large to read: anyone who may comment (on a public
  repository, anyone) can post comments of 65,536 emoji each, and 100 of them are 26 MB of
  UTF-8, past the 16 MiB any answer is read to. The look-up for the effect's own comment then
  failed every retry (`bad_response`) until the message was dead-lettered; it reads that page
  again in smaller ones.
- Slack's `404 no_active_hooks`, what a webhook answers once its app's incoming webhooks are
  removed or turned off: a destination gone, skipped as `no_service` is, not a post that fails
  every new incident's message into the DLQ. Nor a bare `410 Gone` (a revoked webhook's, or
  one whose body a proxy kept back): HTTP's word for a destination gone for good.
- A burst of posts to one webhook, spaced TRIAGE_SLACK_MIN_INTERVAL_S apart: a post whose
  turn is further off than the message may take (TRIAGE_MESSAGE_TIMEOUT_S) waited for it
  anyway, so the message timed out, spending a receive towards the DLQ for each try. It is
  held instead (a wait of its webhook alone), as a 429 holds it.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator
from typing import Any

import httpx2
import pytest
from pydantic import SecretStr

from hostile_server import answer, hostile
from test_github_later_life import REPO, TOKEN, LaterLifeGitHub, effect, opened
from test_redteam_round6_sinks import CREATE_ROUTE, backend_at, paths, slack_at
from test_redteam_round6_sinks import effect as backend_effect
from triage.errors import (
    GitHubThrottledError,
    SinkThrottledError,
    SinkUnavailableError,
    TransientError,
)
from triage.models import EffectKind
from triage.settings import Settings
from triage.sinks.aio import AiohttpTransport
from triage.sinks.github import GitHubSink
from triage.sinks.github.api import SECONDARY_LIMIT_WAIT_S
from triage.sinks.slack import SlackSink
from triage.tls import client_context

# --- GitHub -----------------------------------------------------------------------------------


def too_quickly(resource: str) -> dict[str, Any]:
    """GitHub's answer to content created too fast (REST, as octokit and gh report it)."""
    error = {"resource": resource, "code": "custom", "message": "was submitted too quickly"}
    return {
        "message": "Validation Failed",
        "errors": [error],
        "documentation_url": "https://docs.github.com/rest/issues/issues#create-an-issue",
    }


@pytest.fixture
def github() -> Iterator[LaterLifeGitHub]:
    with LaterLifeGitHub(tokens={TOKEN: "triage-bot"}, repositories=(REPO,)) as server:
        yield server


@pytest.fixture
async def sink(github: LaterLifeGitHub) -> AsyncIterator[GitHubSink]:
    settings = Settings(github_api_url=github.url, github_repository=REPO, github_token=TOKEN)
    s = GitHubSink(settings)
    try:
        yield s
    finally:
        await s.aclose()


async def test_a_create_submitted_too_quickly_is_held_not_dead_lettered(
    sink: GitHubSink, github: LaterLifeGitHub
) -> None:
    """GitHub's 422 "was submitted too quickly" on a create is its content-creation limit: the
    message is held for a secondary limit's wait, never rejected (its issue would be lost)."""
    github.fail_next(1, 422, method="POST", body=too_quickly("Issue"))
    with pytest.raises(GitHubThrottledError) as held:
        await sink.apply(effect(EffectKind.OPEN, None, "fp:1"))
    assert held.value.retry_after_s == SECONDARY_LIMIT_WAIT_S
    assert github.issues() == []


async def test_a_comment_submitted_too_quickly_is_held_not_dead_lettered(
    sink: GitHubSink, github: LaterLifeGitHub
) -> None:
    """An update's comment refused as "was submitted too quickly" is held too: the update is
    neither rejected (its message dead-lettered) nor taken as done without its comment."""
    ref = await opened(sink)
    github.fail_next(1, 422, method="POST", path="/comments", body=too_quickly("IssueComment"))
    with pytest.raises(GitHubThrottledError):
        await sink.apply(effect(EffectKind.UPDATE, ref, "fp:2"))


#: The answer bound the comment-flood test reads to, scaled down from the transport's 16 MiB
#: with the comments (4,000 emoji each, 48 KB as the stand-in writes them, against 65,536 and
#: about 262 KB on GitHub): a page of 100 is past it, a page of 10 well within, as on GitHub.
SCALED_BOUND = 1024 * 1024
MALLORY = "t-mallory"


@pytest.fixture
def flooded() -> Iterator[LaterLifeGitHub]:
    """GitHub with a second account, which comments on triage's issues."""
    tokens = {TOKEN: "triage-bot", MALLORY: "mallory"}
    with LaterLifeGitHub(tokens=tokens, repositories=(REPO,)) as server:
        yield server


def flood(github: LaterLifeGitHub, number: int, comments: int) -> None:
    """Post `comments` comments of 4,000 emoji each on issue `number`, as another account."""
    headers = {"Authorization": f"Bearer {MALLORY}"}
    with httpx2.Client(base_url=github.url, headers=headers) as client:
        for _ in range(comments):
            answer = client.post(
                f"/repos/{REPO}/issues/{number}/comments", json={"body": "\N{FIRE}" * 4000}
            )
            assert answer.status_code == 201


async def test_an_update_finds_its_comment_past_a_page_too_large_to_read(
    flooded: LaterLifeGitHub,
) -> None:
    """An issue flooded with comments whose page of 100 is past the bound an answer is read
    to: the update still posts its comment, and its retry (the answer lost) finds that comment
    instead of failing as `bad_response` until the message is dead-lettered or posting twice."""
    transport = AiohttpTransport(client_context(), max_body_bytes=SCALED_BOUND)
    settings = Settings(github_api_url=flooded.url, github_repository=REPO, github_token=TOKEN)
    sink = GitHubSink(settings, transport=transport)
    try:
        ref = await opened(sink)
        flood(flooded, 1, 100)
        update = effect(EffectKind.UPDATE, ref, "fp:2")
        await sink.apply(update)
        await sink.apply(update)  # its retry, the first answer lost
    finally:
        await sink.aclose()
    bodies = flooded.issues()[0]["comment_bodies"]
    assert len(bodies) == 101
    assert sum("triage:effect=fp:2" in body for body in bodies) == 1


# --- the ticket backend -------------------------------------------------------------------------


@pytest.fixture
def backend_token(monkeypatch: pytest.MonkeyPatch) -> None:
    """The backend sink's token, from the environment as the daemon reads it."""
    monkeypatch.setenv("BACKEND_TOKEN", "round12-416-token")


@pytest.mark.usefixtures("backend_token")
async def test_a_create_answered_see_other_naming_the_ticket_adopts_it() -> None:
    """A create the backend answers `303 See Other` with the ticket's address (RFC 9110's
    answer to a POST whose result already exists: the key's ticket) is that ticket: the
    incident gets its reference, instead of a "redirected" outage whose every retry meets the
    same answer until the message is dead-lettered beside a ticket that exists."""
    see_other = answer(303, {"Location": f"{CREATE_ROUTE}/T-9"})
    async with hostile(see_other) as server, backend_at(server.url) as sink:
        applied = await sink.apply(backend_effect(EffectKind.OPEN))
    assert applied.ref == "T-9"
    assert paths(server) == [CREATE_ROUTE]  # named, never fetched


@pytest.mark.usefixtures("backend_token")
async def test_a_resolve_answered_see_other_naming_its_ticket_is_done() -> None:
    """A resolve the backend answers `303 See Other` with the ticket's own address (the
    post/redirect/get pattern: "done, see the ticket") is done, not a route redirected whose
    retries end in the DLQ with the ticket resolved."""
    see_other = answer(303, {"Location": f"{CREATE_ROUTE}/T-9"})
    async with hostile(see_other) as server, backend_at(server.url) as sink:
        applied = await sink.apply(backend_effect(EffectKind.CLOSE, "T-9", key="fp:3"))
    assert applied.skipped is None
    assert paths(server) == [f"{CREATE_ROUTE}/T-9/resolve"]


@pytest.mark.usefixtures("backend_token")
async def test_a_resolve_answered_see_other_naming_another_ticket_still_fails() -> None:
    """A 303 to a later effect that names another ticket than the effect's is no answer about
    its ticket: still a route redirected (retried, then the DLQ), never taken as done."""
    see_other = answer(303, {"Location": f"{CREATE_ROUTE}/T-8"})
    async with hostile(see_other) as server, backend_at(server.url) as sink:
        with pytest.raises(TransientError) as caught:
            await sink.apply(backend_effect(EffectKind.CLOSE, "T-9", key="fp:3"))
    assert caught.value.reason == "redirected"


@pytest.mark.usefixtures("backend_token")
@pytest.mark.parametrize(
    "location",
    ["/login?next=/api/service/tickets", "http://elsewhere.example/api/service/tickets/T-9"],
    ids=["a-login-page", "another-host"],
)
async def test_a_create_answered_see_other_elsewhere_still_waits(location: str) -> None:
    """A 303 that names no ticket under the create route on the backend's own origin (a
    sign-in page, another host) is still a redirect that waits for the setup to be fixed."""
    async with (
        hostile(answer(303, {"Location": location})) as server,
        backend_at(server.url) as sink,
    ):
        with pytest.raises(SinkUnavailableError) as caught:
            await sink.apply(backend_effect(EffectKind.OPEN))
    assert caught.value.reason == "redirected"


# --- Slack ------------------------------------------------------------------------------------


async def test_a_webhook_with_no_active_hooks_is_skipped_as_gone() -> None:
    """A webhook answering `404 no_active_hooks` (its app's incoming webhooks removed or turned
    off) takes no more posts, whatever the message: the post is skipped with one refusal, as
    for `no_service`, instead of failing a new incident's message into the DLQ."""
    gone = answer(404, {"Content-Type": "text/html"}, b"no_active_hooks")
    async with hostile(gone) as server, slack_at(server) as sink:
        applied = await sink.apply(backend_effect(EffectKind.OPEN))
    assert applied.refused
    assert applied.skipped == "slack refused: no_active_hooks"


@pytest.mark.parametrize(
    "body",
    [b"", b"<html><body>Gone</body></html>"],
    ids=["empty", "a-page"],
)
async def test_a_webhook_answering_gone_without_a_code_is_skipped_as_gone(body: bytes) -> None:
    """A webhook answering `410 Gone` with no error code of Slack's (a revoked webhook, or a
    proxy that kept Slack's body back) takes no more posts: the new incident's post is skipped
    with one refusal naming the status, never its body, instead of being dead-lettered."""
    gone = answer(410, {"Content-Type": "text/html"}, body)
    async with hostile(gone) as server, slack_at(server) as sink:
        applied = await sink.apply(backend_effect(EffectKind.OPEN))
    assert applied.refused
    assert applied.skipped == "slack refused (410)"


class FakeTime:
    """A clock that `sleep` moves on at once: a burst's spacing without waiting for it."""

    def __init__(self) -> None:
        self.now_s = 1000.0

    def clock(self) -> float:
        return self.now_s

    async def sleep(self, seconds: float) -> None:
        self.now_s += max(seconds, 0.0)
        await asyncio.sleep(0)


async def test_a_post_whose_turn_is_past_the_message_timeout_is_held_not_timed_out() -> None:
    """A burst of 100 new incidents to one webhook, spaced a second apart, with a message
    timeout of 40 s: no post waits for its turn longer than the message may take (it would
    time out, spending a receive); the posts past that are held as their webhook's own wait
    (intake goes on), and every post that went out is one Slack got."""
    time = FakeTime()
    async with hostile(answer(200, {"Content-Type": "text/html"}, b"ok")) as server:
        webhook = SecretStr(f"{server.url}/services/T000/B000/round12secretpath")
        settings = Settings(
            slack_webhook_url=webhook, slack_min_interval_s=1.0, message_timeout_s=40.0
        )
        sink = SlackSink(settings, clock=time.clock, sleep=time.sleep)
        waited: list[float] = []
        held: list[SinkThrottledError] = []

        async def post(n: int) -> None:
            started = time.clock()
            try:
                await sink.apply(backend_effect(EffectKind.OPEN, key=f"fp{n}:1"))
            except SinkThrottledError as exc:
                held.append(exc)
            else:
                waited.append(time.clock() - started)

        try:
            await asyncio.gather(*(post(n) for n in range(100)))
        finally:
            await sink.aclose()
    assert max(waited) < settings.message_timeout_s
    assert held and all(not exc.pauses_intake and exc.retry_after_s for exc in held)
    assert len(server.requests) == len(waited)
