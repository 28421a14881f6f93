"""The GitHub sink on a host whose clock is off GitHub's: every time GitHub states (the primary
budget's reset, a dated Retry-After, an installation token's expiry, an App JWT's validity) is
read against GitHub's own clock, which its answers' Date header tells."""

from __future__ import annotations

import email.utils
import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass

import pytest
from pydantic import SecretStr

from github_stub import GitHubServer, StubApp
from test_github_app_faults import rsa_pem
from test_github_sink import ALICE_TOKEN as PERSON_TOKEN
from test_github_sink import as_person, effect
from triage.errors import GitHubThrottledError
from triage.models import EffectKind
from triage.settings import Settings
from triage.sinks.github import GitHubSink
from triage.sinks.github.api import GitHubApi
from triage.sinks.github.clock import GitHubClock

TOKEN = "ghp_round4ClockToken000000000000000000000"
REPO = "acme/ops"
#: How far the host's clock is from GitHub's: ahead (positive) or behind.
SKEWS = [pytest.param(7200.0, id="host-2h-ahead"), pytest.param(-1200.0, id="host-20m-behind")]


@dataclass
class HandClock:
    """A monotonic clock the test moves by hand."""

    now: float = 1_000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture(scope="module")
def app_keys() -> tuple[str, str]:
    """An RSA key pair for the stub's App: (private PEM, public PEM)."""
    return rsa_pem()


def skewed(skew_s: float) -> Callable[[], float]:
    """A wall clock `skew_s` ahead of the real one (GitHub's, the stub's)."""
    return lambda: time.time() + skew_s


@asynccontextmanager
async def token_api(
    github: GitHubServer, skew_s: float, clock: Callable[[], float] = time.monotonic
) -> AsyncIterator[GitHubApi]:
    """The API client with a fixed token, on a host `skew_s` ahead of GitHub."""
    settings = Settings(
        github_api_url=github.url, github_repository=REPO, github_token=SecretStr(TOKEN)
    )
    api = GitHubApi(settings, clock=clock, wall_clock=skewed(skew_s))
    try:
        yield api
    finally:
        await api.aclose()


@asynccontextmanager
async def app_api(
    github: GitHubServer,
    private_pem: str,
    skew_s: float,
    clock: Callable[[], float] = time.monotonic,
) -> AsyncIterator[GitHubApi]:
    """The API client as the stub's App installation, on a host `skew_s` ahead of GitHub."""
    settings = Settings(
        github_api_url=github.url,
        github_repository=REPO,
        github_app_id="4242",
        github_app_private_key=SecretStr(private_pem),
        github_app_installation_id=77,
    )
    api = GitHubApi(settings, clock=clock, wall_clock=skewed(skew_s))
    try:
        yield api
    finally:
        await api.aclose()


def stub_app(public_pem: str) -> StubApp:
    return StubApp(app_id="4242", slug="triage-app", public_key=public_pem, installation_id=77)


@pytest.mark.parametrize("skew_s", SKEWS)
async def test_a_spent_budget_waits_until_its_reset_by_githubs_clock(skew_s: float) -> None:
    """A primary budget spent with its reset half an hour away by GitHub's clock pauses the
    sink about half an hour, however far the host's clock is from GitHub's."""
    with GitHubServer(tokens={TOKEN: "triage-bot"}) as github:
        github.set_rate_limit(0, reset_in_s=1800)
        async with token_api(github, skew_s) as api:
            with pytest.raises(GitHubThrottledError) as caught:
                await api.call("GET", f"/repos/{REPO}")
    assert caught.value.retry_after_s is not None
    assert 1800 - 5 <= caught.value.retry_after_s <= 1800 + 5


@pytest.mark.parametrize("skew_s", SKEWS)
async def test_a_dated_retry_after_is_read_against_githubs_date(skew_s: float) -> None:
    """A 429 whose Retry-After is a date two minutes past GitHub's Date holds the message two
    minutes, however far the host's clock is from GitHub's."""
    with GitHubServer(tokens={TOKEN: "triage-bot"}) as github:
        when = email.utils.formatdate(time.time() + 120, usegmt=True)
        github.fail_next(1, 429, message="slow down", headers={"Retry-After": when})
        async with token_api(github, skew_s) as api:
            with pytest.raises(GitHubThrottledError) as caught:
                await api.call("GET", f"/repos/{REPO}")
    assert caught.value.retry_after_s is not None
    assert 120 - 5 <= caught.value.retry_after_s <= 120 + 5


@pytest.mark.parametrize(
    "skew_s",
    [
        pytest.param(120.0, id="host-2min-ahead"),
        pytest.param(-900.0, id="host-15min-behind"),
        pytest.param(3 * 3600.0, id="host-3h-ahead"),
    ],
)
async def test_an_app_jwt_refused_for_the_hosts_clock_is_signed_again_by_githubs(
    skew_s: float, app_keys: tuple[str, str]
) -> None:
    """GitHub refuses a JWT whose `iat` is in its future or whose `exp` is past; the refusal's
    Date tells GitHub's time, and the JWT signed again by it is taken: the App's identity and
    its installation token are had on a host whose clock is off."""
    with GitHubServer(repositories=(REPO,), app=stub_app(app_keys[1])) as github:
        async with app_api(github, app_keys[0], skew_s) as api:
            assert await api.whoami() == "triage-app[bot]"
            repo = await api.call("GET", f"/repos/{REPO}")
    assert repo["full_name"] == REPO


async def test_an_app_token_is_kept_for_its_life_by_githubs_clock(
    app_keys: tuple[str, str],
) -> None:
    """An installation token that expires in an hour by GitHub's clock is reused for most of
    that hour on a host an hour ahead, not minted again every minute."""
    clock = HandClock()
    with GitHubServer(repositories=(REPO,), app=stub_app(app_keys[1])) as github:
        async with app_api(github, app_keys[0], 3600.0, clock=clock) as api:
            for _ in range(5):
                await api.call("GET", f"/repos/{REPO}")
                clock.now += 120
        minted = [
            c for c in github.calls if c["path"].endswith("/access_tokens") and c["status"] == 201
        ]
    assert len(minted) == 1


async def test_an_issue_a_person_just_closed_is_held_on_a_host_days_ahead() -> None:
    """An issue a person closed a moment ago (by GitHub's `closed_at`) is left closed within
    the hand-closed hold, on a host whose clock is two days ahead of GitHub's: the hold is
    measured by GitHub's clock, not reopened as if it had passed."""
    with GitHubServer(tokens={TOKEN: "triage-bot", PERSON_TOKEN: "alice"}) as github:
        settings = Settings(
            github_api_url=github.url, github_repository=REPO, github_token=SecretStr(TOKEN)
        )
        sink = GitHubSink(settings, wall_clock=skewed(2 * 86_400.0))
        try:
            ref = (await sink.apply(effect())).ref
            await as_person(github, "PATCH", f"/repos/{REPO}/issues/1", {"state": "closed"})
            reopened = await sink.apply(effect(EffectKind.REOPEN, ref, "fp:2"))
        finally:
            await sink.aclose()
        [issue] = github.issues()
    assert reopened.ref is None and issue["state"] == "closed"


@pytest.mark.parametrize(
    "date", ["", "yesterday", "Mon, 32 Foo 2026 25:61:00 GMT", "Fri, 01 Jan 99999 00:00:00 GMT"]
)
def test_a_date_that_is_no_date_leaves_githubs_clock_as_it_was(date: str) -> None:
    """An answer whose Date is missing or unreadable (a proxy's, a hostile one) teaches
    nothing: GitHub's clock stays what the last readable Date said."""
    clock = GitHubClock(lambda: 1_000_000.0)
    clock.observe({"date": "Mon, 12 Jan 1970 13:46:40 GMT"})  # 1_000_000 + 0: agreeing
    clock.observe({"date": "Mon, 12 Jan 1970 14:46:40 GMT"})  # GitHub an hour ahead
    clock.observe({"date": date})
    assert clock.now() == 1_000_000.0 + 3600
