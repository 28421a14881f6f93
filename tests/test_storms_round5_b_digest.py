"""Storm digest under replicas (round 5, part B): a replica refused the hour's kept token looks
for the digest another replica is opening with it, and still says how long to wait when none
shows. The GitHub stub on loopback, budgets shared in memory as the store shares them."""

from __future__ import annotations

import asyncio
import json
import time
import urllib.request
from typing import Any

import pytest

import triage.sinks.github.digest as digest_module
import triage.sinks.github.text as text
from github_stub import GitHubServer
from test_github_lookup_more import REPO, github_sink, incident
from test_github_lookup_more import TOKEN as GITHUB_TOKEN
from triage.errors import GitHubThrottledError
from triage.ratelimit import Budget, LocalBudgets

DIGEST_TITLE = "[triage] Alert storm"


class RefusalSeen(LocalBudgets):
    """Shared budgets that say when a take of the hour's kept token (keep 0) was refused."""

    def __init__(self) -> None:
        super().__init__()
        self.refused = asyncio.Event()

    async def take_token(self, budget: Budget, now_s: float, *, keep: int = 0) -> float:
        wait_s = await super().take_token(budget, now_s, keep=keep)
        if budget.name.endswith(":hour") and keep == 0 and wait_s > 0:
            self.refused.set()
        return wait_s


def call_as_triage(method: str, url: str, body: dict[str, Any]) -> None:
    """One GitHub call with triage's token, as another replica (or a person) makes it."""
    request = urllib.request.Request(
        url,
        data=json.dumps(body).encode(),
        method=method,
        headers={"Authorization": f"Bearer {GITHUB_TOKEN}", "Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=10) as answer:
        assert answer.status < 300


def open_digest_as_another_replica(url: str) -> None:
    """The digest issue, created the way another replica's StormDigest creates it."""
    body = {
        "title": text.digest_title(),
        "body": text.digest_body(),
        "labels": [text.TRIAGE_LABEL, text.DIGEST_LABEL],
    }
    call_as_triage("POST", f"{url}/repos/{REPO}/issues", body)


async def test_a_replica_refused_the_kept_token_lists_its_incident_in_the_digest_opened_after() -> (
    None
):
    """The hour's kept token is taken by another replica whose digest shows up only after this
    replica was refused it: the incident becomes an entry of that digest, not a throttle."""
    budgets = RefusalSeen()
    with GitHubServer(tokens={GITHUB_TOKEN: "triage-bot"}) as github:
        async with github_sink(github.url, budgets, github_create_per_hour=2) as sink:
            await sink.apply(incident(1))
            hour = Budget(f"github:create:{REPO}:hour", 2, 3600.0)
            assert await budgets.take_token(hour, time.time()) == 0  # another replica's digest
            budgets.refused.clear()
            entry = asyncio.create_task(sink.apply(incident(2)))
            async with asyncio.timeout(10):
                await budgets.refused.wait()
            await asyncio.to_thread(open_digest_as_another_replica, github.url)
            async with asyncio.timeout(10):
                applied = await entry
        digests = [i for i in github.issues() if i["title"].startswith(DIGEST_TITLE)]
    assert len(digests) == 1
    assert applied.ref and applied.ref.startswith(f"{digests[0]['html_url']}#issuecomment-")


async def test_a_refused_kept_token_with_no_digest_showing_still_throttles(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The hour's kept token went on a digest a person has closed since: a new incident past
    the budget looks for a digest a short while, then is throttled with the wait as before,
    and no second digest is opened."""
    monkeypatch.setattr(digest_module, "DIGEST_ADOPT_S", 0.2)
    monkeypatch.setattr(digest_module, "DIGEST_ADOPT_POLL_S", 0.05)
    with GitHubServer(tokens={GITHUB_TOKEN: "triage-bot"}) as github:
        async with github_sink(github.url, LocalBudgets(), github_create_per_hour=2) as sink:
            await sink.apply(incident(1))
            await sink.apply(incident(2))  # opens the digest with the kept token
            [digest] = [i for i in github.issues() if i["title"].startswith(DIGEST_TITLE)]
            issue_url = f"{github.url}/repos/{REPO}/issues/{digest['number']}"
            await asyncio.to_thread(call_as_triage, "PATCH", issue_url, {"state": "closed"})
            with pytest.raises(GitHubThrottledError) as refused:
                await sink.apply(incident(3))
        digests = [i for i in github.issues() if i["title"].startswith(DIGEST_TITLE)]
    assert refused.value.retry_after_s is not None and refused.value.retry_after_s > 60
    assert len(digests) == 1


async def test_a_refusal_by_the_minute_budget_with_the_kept_token_there_throttles_at_once(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Past the hourly budget but with its kept token still there, the digest's create is
    refused by the minute budget: no other replica is opening a digest with the kept token,
    so the incident is throttled for the minute's wait at once, without looking again."""
    monkeypatch.setattr(digest_module, "DIGEST_ADOPT_S", 600.0)
    with GitHubServer(tokens={GITHUB_TOKEN: "triage-bot"}) as github:
        async with github_sink(
            github.url, LocalBudgets(), github_create_per_hour=2, github_create_per_minute=1
        ) as sink:
            await sink.apply(incident(1))
            with pytest.raises(GitHubThrottledError) as refused:
                async with asyncio.timeout(30):
                    await sink.apply(incident(2))
        digests = [i for i in github.issues() if i["title"].startswith(DIGEST_TITLE)]
    assert refused.value.retry_after_s is not None and refused.value.retry_after_s <= 75
    assert digests == []
