"""Behind a proxy (a GITHUB_API_URL not of GitHub's shape) with GITHUB_WEB_URL unset, triage
keeps each issue's link as GitHub answered it: `triage check` shows a `warn` line for github and
the daemon one start-up warning, both saying to set GITHUB_WEB_URL. Not for GitHub's own API
URLs, an Enterprise Server's `/api/v3`, a loopback stand-in, or with GITHUB_WEB_URL set."""

from __future__ import annotations

import asyncio
import io
from pathlib import Path
from typing import Any

import pytest

from triage.app import deployment_warnings
from triage.ops.check import run_checks
from triage.settings import Settings

EVENT = "config.github_links_from_answers"
PROXY = "https://ghproxy.corp/github"

#: (GITHUB_API_URL, GITHUB_WEB_URL, whether links are taken from GitHub's answers).
CASES = [
    pytest.param("https://api.github.com", None, False, id="api.github.com"),
    pytest.param("https://api.acme.ghe.com", None, False, id="ghe.com"),
    pytest.param("https://ghe.example/api/v3", None, False, id="enterprise-server"),
    pytest.param(PROXY, None, True, id="proxy"),
    pytest.param("http://10.0.0.7:8080", None, True, id="proxy-by-address"),
    pytest.param("http://127.0.0.1:8080", None, False, id="loopback"),
    pytest.param("http://localhost:8080/gh", None, False, id="localhost"),
    pytest.param("http://[::1]:8080", None, False, id="loopback-v6"),
    pytest.param(PROXY, "https://github.com", False, id="web-url-set"),
]


def settings(tmp_path: Path, api_url: str, web_url: str | None, **more: Any) -> Settings:
    """The GitHub sink with `api_url` and `web_url`; no token, so check reaches no network."""
    return Settings(
        store_url=f"sqlite:///{tmp_path}/t.db",
        sinks=("github",),
        llm_provider="none",
        github_api_url=api_url,
        github_web_url=web_url,
        **more,
    )


def github_warnings(config: Settings) -> list[str]:
    """The `warn` lines for github of `triage check`'s report."""
    out = io.StringIO()
    asyncio.run(run_checks(config, out))
    return [line for line in out.getvalue().splitlines() if line.startswith("warn  github ")]


@pytest.mark.parametrize(("api_url", "web_url", "warned"), CASES)
def test_check_warns_only_when_links_are_taken_from_answers(
    api_url: str, web_url: str | None, warned: bool, tmp_path: Path
) -> None:
    """`triage check` has a github `warn` line naming GITHUB_WEB_URL exactly when the API URL
    is no GitHub shape, not loopback, and GITHUB_WEB_URL is unset."""
    lines = github_warnings(settings(tmp_path, api_url, web_url))
    assert len(lines) == (1 if warned else 0)
    if warned:
        assert "taken from GitHub's answers" in lines[0]
        assert "set GITHUB_WEB_URL" in lines[0]


@pytest.mark.parametrize(("api_url", "web_url", "warned"), CASES)
def test_the_daemon_warns_at_start_up_only_when_links_are_taken_from_answers(
    api_url: str, web_url: str | None, warned: bool, tmp_path: Path
) -> None:
    """The daemon's start-up warnings hold `config.github_links_from_answers` under the same
    condition as the check's line, with the same meaning."""
    config = settings(tmp_path, api_url, web_url)
    found = dict(deployment_warnings(config, ("github",), {}))
    assert (EVENT in found) is warned
    if warned:
        assert "taken from GitHub's answers" in found[EVENT]
        assert "set GITHUB_WEB_URL" in found[EVENT]


def test_no_warning_without_the_github_sink(tmp_path: Path) -> None:
    """A proxy GITHUB_API_URL while no route uses GitHub: neither the check nor the daemon
    warns (the setting is unused)."""
    config = Settings(
        store_url="dynamodb://t", sinks=("backend",), github_api_url=PROXY, llm_provider="none"
    )
    assert EVENT not in dict(deployment_warnings(config, ("backend",), {}))
    assert github_warnings(config) == []


def test_the_warning_shows_the_url_without_a_key_or_the_token(tmp_path: Path) -> None:
    """The API URL is shown as scheme, host and path: a proxy's key in its query is not, in the
    check's line or the daemon's warning; the GitHub token is never in the daemon's."""
    api_url = "https://ghproxy.corp/github?key=proxy-key-0123456789"
    [line] = github_warnings(settings(tmp_path, api_url, None))
    config = settings(tmp_path, api_url, None, github_token="ghp_token0123456789abcdefghij")
    detail = dict(deployment_warnings(config, ("github",), {}))[EVENT]
    for text in (line, detail):
        assert "https://ghproxy.corp/github" in text
        assert "proxy-key" not in text
    assert "ghp_token" not in detail
