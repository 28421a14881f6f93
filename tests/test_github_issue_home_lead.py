"""An issue GitHub made is the issue made, whatever the read after it answers: the read of a
renamed repository's new name (where the issue is) that GitHub's rate limit refuses does not
fail the effect, take back the creation budget or lose the `github.issue_created` line. Over
real HTTP to a loopback stand-in."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator, Iterator, MutableMapping
from typing import Any

import pytest

from github_stub import Answer
from test_github_later_life import REPO, TOKEN, opened
from test_github_repository_identity import RenamingGitHub
from triage.settings import Settings
from triage.sinks.github import GitHubSink


class RepositoryReadLimited(RenamingGitHub):
    """The renaming stand-in whose `GET` of a repository itself (not its issues) is refused
    by the primary rate limit, as when the create spent the budget's last call."""

    def _route(
        self, method: str, path: str, query: dict[str, str], headers: dict[str, str], body: Any
    ) -> Answer:
        if method == "GET" and re.fullmatch(r"/repositor(ies/\d+|s/[^/]+/[^/]+)", path):
            reset = str(int(self.clock()) + 600)
            limited = {"x-ratelimit-remaining": "0", "x-ratelimit-reset": reset}
            return 403, {"message": "API rate limit exceeded for user."}, limited
        return super()._route(method, path, query, headers, body)


@pytest.fixture
def github() -> Iterator[RepositoryReadLimited]:
    with RepositoryReadLimited(tokens={TOKEN: "triage-bot"}, repositories=(REPO,)) as server:
        yield server


@pytest.fixture
async def sink(github: RepositoryReadLimited) -> AsyncIterator[GitHubSink]:
    settings = Settings(github_api_url=github.url, github_repository=REPO, github_token=TOKEN)
    s = GitHubSink(settings)
    try:
        yield s
    finally:
        await s.aclose()


async def test_a_made_issue_whose_new_home_cannot_be_read_is_still_made(
    sink: GitHubSink, github: RepositoryReadLimited, logs: list[MutableMapping[str, Any]]
) -> None:
    """The route's repository renamed: the create (its 307 followed) makes the issue, and the
    read of the new name is rate limited. The effect is applied once, under the old name (it
    redirects), with `github.issue_created` logged: before, the limit failed the effect after
    the issue was made and gave its creation tokens back."""
    github.rename(REPO, "acme/renamed")
    ref = await opened(sink)
    assert len(github.issues("acme/renamed")) == 1
    assert f"/{REPO}/issues/1" in ref
    assert [e["event"] for e in logs].count("github.issue_created") == 1
