"""`triage check`'s issue-write probe (an untitled create, which GitHub cannot carry out) read
for every answer a stand-in may give it: each gives one clear, true line, and only GitHub's
422 naming the missing title passes, saying no more than that the create was not refused.
GitHub does not document that it checks permissions before fields, so no answer is read as
write access proven. Against the loopback GitHub stub."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import pytest

from github_stub import Answer, GitHubServer
from test_github_check_issue_write import github_line

#: The route's repository, whose probe create each case answers.
ROUTED = "acme/payments"
VALIDATION = "Validation Failed"


class ProbedGitHub(GitHubServer):
    """The stub, answering a create in ROUTED with `answer` when it is set."""

    answer: Answer | None = None

    def _create_issue(self, actor: str, params: dict[str, str], query: Any, body: Any) -> Answer:
        if params["repo"] == ROUTED and self.answer is not None:
            return self.answer
        return super()._create_issue(actor, params, query, body)


async def line_for(answer: Answer, tmp_path: Path) -> tuple[str, int]:
    """The `github` line of `triage check` when ROUTED's probe create is answered `answer`,
    and how many issues the check made."""
    server = ProbedGitHub(tokens={"t-bot": "triage-bot"}, repositories=("acme/ops", ROUTED))
    server.answer = answer
    with server as github:
        line = await github_line(github, tmp_path)
        made = len(github.issues("acme/ops") + github.issues(ROUTED))
    return line, made


def error(status: int, message: str, **headers: str) -> Answer:
    return status, {"message": message}, headers


TITLE_MISSING = (
    422,
    {
        "message": VALIDATION,
        "errors": [{"resource": "Issue", "field": "title", "code": "missing_field"}],
    },
    {},
)
#: A reset far enough ahead that a long run still reads it as ahead (the module is read at collection).
IN_AN_HOUR = str(int(time.time()) + 3600)

CASES = {
    "422 naming the title": (TITLE_MISSING, "ok", "not refused"),
    "422 title wasn't supplied": (
        (422, {"message": 'Invalid request.\n\n"title" wasn\'t supplied.'}, {}),
        "ok",
        "not refused",
    ),
    "422 without the title": (error(422, VALIDATION), "warn", "not known"),
    "422 spammed": (error(422, "This endpoint has been spammed."), "warn", "not known"),
    "401": (error(401, "Bad credentials"), "FAIL", "Bad credentials (401)"),
    "403": (error(403, "Resource not accessible by personal access token"), "FAIL", "(403"),
    "404": (error(404, "Not Found"), "FAIL", "(404: Not Found)"),
    "410": (
        error(410, "Issues are disabled for this repo"),
        "FAIL",
        "turn the repository's issues on",
    ),
    "451": (error(451, "Repository access blocked"), "FAIL", "(451"),
    "secondary limit, retry-after": (
        error(403, "You have exceeded a secondary rate limit.", **{"Retry-After": "60"}),
        "warn",
        "rate limit",
    ),
    "primary limit spent": (
        error(
            403,
            "API rate limit exceeded for user.",
            **{"x-ratelimit-remaining": "0", "x-ratelimit-reset": IN_AN_HOUR},
        ),
        "warn",
        "rate limit",
    ),
    "503": (error(503, "Service Unavailable"), "warn", "not known"),
}


@pytest.mark.parametrize(("answer", "verdict", "says"), CASES.values(), ids=CASES.keys())
async def test_each_answer_to_the_probe_gives_a_clear_true_line(
    answer: Answer, verdict: str, says: str, tmp_path: Path
) -> None:
    """Only a 422 naming the missing title passes (and says only "not refused"); a refusal
    (401, 403, 404, 410, 451) fails naming the repository, the status and what to do; a limit,
    an outage or a 422 of another kind warns that write access is not known; none creates an
    issue or claims write access."""
    line, made = await line_for(answer, tmp_path)
    assert line.split()[0] == verdict
    assert says in line
    assert made == 0
    assert "may open issues" not in line and "write access ok" not in line
    if verdict != "ok":
        assert ROUTED in line


async def test_an_untitled_issue_a_stand_in_took_is_said_not_passed(tmp_path: Path) -> None:
    """A stand-in that creates the untitled issue (GitHub never does) gets a warning naming
    the issue to close, not a pass."""
    made = (201, {"number": 7, "title": "", "html_url": "http://x/acme/payments/issues/7"}, {})
    line, _ = await line_for(made, tmp_path)
    assert line.startswith("warn  github")
    assert "#7" in line and ROUTED in line


class WholeRepositoryGitHub(GitHubServer):
    """The stub, answering every request about ROUTED (its reads too) with `answer`: a
    repository hidden from the token (404), blocked (451), or a limit."""

    answer: Answer | None = None

    def _route(
        self, method: str, path: str, query: dict[str, str], headers: dict[str, str], body: Any
    ) -> Answer:
        if path.startswith(f"/repos/{ROUTED}") and self.answer is not None:
            return self.answer
        return super()._route(method, path, query, headers, body)


WHOLE = {
    "404": (error(404, "Not Found"), "FAIL", "GitHub hides a private repository"),
    "451": (error(451, "Repository access blocked"), "FAIL", "legal reasons"),
    "secondary limit": (
        error(403, "You have exceeded a secondary rate limit.", **{"Retry-After": "60"}),
        "warn",
        "rate limit",
    ),
}


@pytest.mark.parametrize(("answer", "verdict", "says"), WHOLE.values(), ids=WHOLE.keys())
async def test_a_repository_that_answers_every_read_so_gives_a_clear_line(
    answer: Answer, verdict: str, says: str, tmp_path: Path
) -> None:
    """A route's repository that answers its reads as it answers the create (GitHub hides a
    private repository with 404 from a token without access; 451 blocks it; a limit) fails
    naming the repository and what to do (or, for a limit, warns that it is not known), not
    with the bare error of the read that asks whether it is archived."""
    server = WholeRepositoryGitHub(
        tokens={"t-bot": "triage-bot"}, repositories=("acme/ops", ROUTED)
    )
    server.answer = answer
    with server as github:
        line = await github_line(github, tmp_path)
    assert line.split()[0] == verdict
    assert says in line and ROUTED in line
