"""`triage check` fails on a GitHub repository issues would go to that is archived (read-only):
the sink's probe reads issues, which an archived repository still serves, so check said ok
while GitHub would refuse every new incident's issue. Against the loopback GitHub stub."""

from __future__ import annotations

import io
from collections.abc import Iterator
from pathlib import Path

import pytest

from github_stub import GitHubServer
from triage.ops.check import run_checks
from triage.settings import Settings

TOKEN = "t-bot"
ROUTES = """
[[route]]
name = "payments"
sinks = ["github"]
match = { team = ["payments"] }
github = { repository = "acme/payments" }
"""


@pytest.fixture
def github() -> Iterator[GitHubServer]:
    with GitHubServer(
        tokens={TOKEN: "triage-bot"}, repositories=("acme/ops", "acme/payments")
    ) as server:
        yield server


async def github_line(github: GitHubServer, tmp_path: Path) -> str:
    """The `github` line `triage check` prints, with a route to acme/payments."""
    routes = tmp_path / "routes.toml"
    routes.write_text(ROUTES)
    settings = Settings(
        store_url=f"sqlite:///{tmp_path}/t.db",
        sinks=("github",),
        llm_provider="none",
        github_api_url=github.url,
        github_repository="acme/ops",
        github_token=TOKEN,
        routes_file=routes,
    )
    out = io.StringIO()
    await run_checks(settings, out)
    [line] = [x for x in out.getvalue().splitlines() if x.split()[1:2] == ["github"]]
    return line


async def test_repositories_that_take_issues_pass(github: GitHubServer, tmp_path: Path) -> None:
    """The default repository and a route's, neither archived: ok, and nothing written (the
    write check's untitled create is refused)."""
    line = await github_line(github, tmp_path)
    assert line.startswith("ok    github   acme/ops readable as triage-bot")
    assert github.issues("acme/ops") == github.issues("acme/payments") == []
    assert all(c["method"] == "GET" or c["status"] == 422 for c in github.calls)


async def test_an_archived_route_repository_fails_the_check(
    github: GitHubServer, tmp_path: Path
) -> None:
    """A route's repository that is archived fails the github check, naming it."""
    github.archived.add("acme/payments")
    line = await github_line(github, tmp_path)
    assert line.startswith("FAIL  github   acme/payments archived (read-only)")


async def test_a_route_repository_the_token_cannot_see_fails_the_check(
    tmp_path: Path,
) -> None:
    """A route naming a repository GitHub answers 404 for (a typo, or the token has no
    access) fails the github check with GitHub's answer, instead of every issue of the route
    failing at the first incident."""
    with GitHubServer(tokens={TOKEN: "triage-bot"}, repositories=("acme/ops",)) as github:
        line = await github_line(github, tmp_path)
    assert line.startswith("FAIL  github   GitHub rejected GET /repos/acme/payments with 404")


@pytest.mark.parametrize(
    ("status", "message", "what_to_do"),
    [
        (404, "Not Found", "GitHub hides a private repository from credentials without access"),
        (410, "Issues are disabled for this repo", "turn the repository's issues on"),
        (451, "Repository access blocked", "GitHub blocks the repository for legal reasons"),
        (403, "Resource not accessible by integration", "Issues: Read and write on it"),
    ],
)
async def test_github_repository_refusing_the_probe_says_what_to_do(
    github: GitHubServer, tmp_path: Path, status: int, message: str, what_to_do: str
) -> None:
    """GITHUB_REPOSITORY itself refusing the probe's read of its issues (hidden from the
    token, issues off, blocked, no permission) fails the check with GitHub's answer and what
    to do about it, as a route's repository does, not the bare answer."""
    github.fail_next(1, status, message=message, method="GET", path="/repos/acme/ops/issues")
    line = await github_line(github, tmp_path)
    assert line.startswith(
        f"FAIL  github   GitHub rejected GET /repos/acme/ops/issues with {status}: {message}: "
    )
    assert what_to_do in line
