"""`triage check` fails on a repository where GitHub would refuse triage's credentials every new
issue (a fine-grained token with Issues read-only, an App without `issues: write`), though they
read its issues and the user's role there says write. It asks with a create GitHub cannot
carry out (no title): refused (403) when the credentials may not open issues, a validation
error naming the missing title (422) when GitHub got past its permission check (read as "not
refused", never as write access proven: `test_github_check_probe_answers.py`); no issue is
ever created. Against the loopback GitHub stub."""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

from github_stub import Answer, GitHubServer
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
NOT_ACCESSIBLE = "Resource not accessible by personal access token"


class ReadOnlyIssuesGitHub(GitHubServer):
    """The stub where the token may read but not write the issues of `read_only`
    repositories, as GitHub answers a fine-grained token with Issues: read-only (its
    permissions checked before the request's fields)."""

    read_only: frozenset[str] = frozenset()

    def _create_issue(self, actor: str, params: dict[str, str], query: Any, body: Any) -> Answer:
        if params["repo"] in self.read_only:
            headers = {"X-Accepted-GitHub-Permissions": "issues=write"}
            return 403, {"message": NOT_ACCESSIBLE}, headers
        return super()._create_issue(actor, params, query, body)


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


def stub(read_only: frozenset[str] = frozenset()) -> ReadOnlyIssuesGitHub:
    server = ReadOnlyIssuesGitHub(
        tokens={TOKEN: "triage-bot"}, repositories=("acme/ops", "acme/payments")
    )
    server.read_only = read_only
    return server


async def test_a_repository_whose_issues_the_token_may_not_write_fails(tmp_path: Path) -> None:
    """A route's repository where GitHub refuses the token's creates fails the check, naming
    the repository, GitHub's reason and what to grant; nothing is created anywhere."""
    with stub(frozenset({"acme/payments"})) as github:
        line = await github_line(github, tmp_path)
        created = github.issues("acme/ops") + github.issues("acme/payments")
    assert line.startswith("FAIL  github   acme/payments: GitHub refuses triage's credentials")
    assert NOT_ACCESSIBLE in line and "Issues" in line and "write" in line
    assert created == []


async def test_repositories_that_take_issues_pass_without_an_issue_created(
    tmp_path: Path,
) -> None:
    """Where the token may open issues, the check passes; its one create per repository has
    no title, so GitHub refuses it (422) and nothing is written."""
    with stub() as github:
        line = await github_line(github, tmp_path)
        created = github.issues("acme/ops") + github.issues("acme/payments")
    posts = [c for c in github.calls if c["method"] != "GET"]
    assert line.startswith("ok    github   acme/ops readable as triage-bot")
    assert created == []
    assert sorted(c["path"] for c in posts) == [
        "/repos/acme/ops/issues",
        "/repos/acme/payments/issues",
    ]
    assert all(c["status"] == 422 and "title" not in c["body"] for c in posts)
