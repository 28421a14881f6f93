"""GitHub saying "wait": a 5xx that says when to come back holds its message (a wait, not a
failure towards the DLQ), and secondary rate limits in a row wait exponentially longer, within
a bound, until a call goes through again."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass

import pytest
from pydantic import SecretStr

from github_stub import GitHubServer
from triage.errors import GitHubThrottledError, GitHubUnavailableError, SinkThrottledError
from triage.settings import Settings
from triage.sinks.github.api import SECONDARY_LIMIT_MAX_WAIT_S, SECONDARY_LIMIT_WAIT_S, GitHubApi

TOKEN = "ghp_round4WaitsToken000000000000000000000"
REPO = "acme/ops"
SECONDARY = "You have exceeded a secondary rate limit. Please wait a few minutes."
SPAMMED = "Validation Failed: the endpoint has been spammed."


@dataclass
class HandClock:
    """A monotonic clock the test moves by hand."""

    now: float = 1_000.0

    def __call__(self) -> float:
        return self.now


@asynccontextmanager
async def api_for(github: GitHubServer, clock: HandClock) -> AsyncIterator[GitHubApi]:
    settings = Settings(
        github_api_url=github.url, github_repository=REPO, github_token=SecretStr(TOKEN)
    )
    api = GitHubApi(settings, clock=clock)
    try:
        yield api
    finally:
        await api.aclose()


async def limited_wait(api: GitHubApi, clock: HandClock, method: str = "POST") -> float:
    """The wait a limited call is told; the clock is then moved past the pause."""
    with pytest.raises(GitHubThrottledError) as caught:
        await api.call(method, f"/repos/{REPO}/issues", json={"title": "t"})
    wait_s = caught.value.retry_after_s
    assert wait_s is not None
    clock.now += wait_s + 1
    return wait_s


@pytest.mark.parametrize("status", [503, 502, 500])
async def test_a_5xx_with_retry_after_is_a_wait_that_holds_the_message(status: int) -> None:
    """A 5xx with Retry-After (writes in maintenance) is a throttle (held, no receive spent,
    the breaker not told) for as long as GitHub asked; without Retry-After it stays a failure
    that counts towards the breaker and the DLQ."""
    clock = HandClock()
    with GitHubServer(tokens={TOKEN: "triage-bot"}) as github:
        async with api_for(github, clock) as api:
            github.fail_next(1, status, retry_after="30", method="POST")
            assert await limited_wait(api, clock) == 30
            github.fail_next(1, status, method="POST")
            with pytest.raises(GitHubUnavailableError) as failed:
                await api.call("POST", f"/repos/{REPO}/issues", json={"title": "t"})
    assert not isinstance(failed.value, SinkThrottledError)


async def test_secondary_limits_in_a_row_double_their_wait_within_a_bound() -> None:
    """Secondary limits without Retry-After, each met as soon as the last pause ended, wait a
    minute, then twice, four times as long … never more than SECONDARY_LIMIT_MAX_WAIT_S."""
    clock = HandClock()
    with GitHubServer(tokens={TOKEN: "triage-bot"}) as github:
        async with api_for(github, clock) as api:
            github.fail_next(8, 403, message=SECONDARY, method="POST")
            waits = [await limited_wait(api, clock) for _ in range(8)]
    assert waits[:4] == [SECONDARY_LIMIT_WAIT_S * 2**n for n in range(4)]
    assert max(waits) == waits[-1] == SECONDARY_LIMIT_MAX_WAIT_S


async def test_a_write_that_goes_through_starts_the_waits_again_from_a_minute() -> None:
    """After a write goes through, the next secondary limit waits a minute again; a read that
    goes through in between (reads have their own limits) does not shorten the next wait."""
    clock = HandClock()
    with GitHubServer(tokens={TOKEN: "triage-bot"}, repositories=(REPO,)) as github:
        async with api_for(github, clock) as api:
            github.fail_next(2, 403, message=SECONDARY, method="POST")
            first = [await limited_wait(api, clock) for _ in range(2)]
            await api.call("GET", f"/repos/{REPO}")
            github.fail_next(1, 403, message=SECONDARY, method="POST")
            after_a_read = await limited_wait(api, clock)
            await api.call("POST", f"/repos/{REPO}/issues", json={"title": "t"})
            github.fail_next(1, 403, message=SECONDARY, method="POST")
            after_a_write = await limited_wait(api, clock)
    assert first == [60, 120]
    assert after_a_read == 240
    assert after_a_write == 60


async def test_spammed_answers_in_a_row_wait_longer_too() -> None:
    """GitHub's 422 "has been spammed" (content created too fast) is a secondary limit by
    another name: in a row, it waits longer each time as well."""
    clock = HandClock()
    with GitHubServer(tokens={TOKEN: "triage-bot"}) as github:
        async with api_for(github, clock) as api:
            github.fail_next(3, 422, message=SPAMMED, method="POST")
            waits = [await limited_wait(api, clock) for _ in range(3)]
    assert waits == [60, 120, 240]


async def test_a_retry_after_is_obeyed_as_given_in_a_row() -> None:
    """A secondary limit that says how long (Retry-After) is waited as long as it says, in a
    row too: GitHub's own number wins over our doubling."""
    clock = HandClock()
    with GitHubServer(tokens={TOKEN: "triage-bot"}) as github:
        async with api_for(github, clock) as api:
            github.fail_next(3, 403, message=SECONDARY, retry_after="90", method="POST")
            waits = [await limited_wait(api, clock) for _ in range(3)]
    assert waits == [90, 90, 90]
