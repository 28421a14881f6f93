"""Hostile alert text the markdown escaping does not see: the links an alert names (a link to a
GitHub issue or pull request puts a back-reference in that issue's timeline, every time an
incident is opened) and the labels made from its team and source (sent as they are). Through
the sink, against the GitHub stand-in on a loopback port."""

from __future__ import annotations

import dataclasses
import unicodedata
from typing import Any

import pytest

from github_stub import GitHubServer
from test_github_sink import ALERT, FakeClock, bot_calls, effect, open_sink
from test_github_sink import github as github  # the fixtures these tests use
from test_github_sink import mono as mono
from test_github_sink import sink as sink
from test_github_sink import wall as wall
from triage.sinks.github import GitHubSink, text


def _created(github: GitHubServer) -> dict[str, Any]:
    """The body of the one issue the sink created."""
    [create] = [c for c in bot_calls(github, "POST") if c["path"].endswith("/issues")]
    body: dict[str, Any] = create["body"]
    return body


async def test_links_to_github_issues_and_pulls_leave_no_back_reference(
    sink: GitHubSink, github: GitHubServer
) -> None:
    """A runbook or dashboard link to a github.com issue, pull request or discussion goes
    through redirect.github.com (GitHub's domain for links that reference nothing, as
    Dependabot's): still one click away, and no `mentioned this` line in that issue. Other
    links are left as they are."""
    alert = ALERT.model_copy(
        update={
            "runbook_url": "https://github.com/victim/repo/issues/1",
            "links": {
                "dashboard": "https://www.github.com/victim/repo/pull/2#discussion_r3",
                "source": "https://GitHub.com/victim/repo/discussions/4",
                "wiki": "https://grafana.example.com/d/x",
            },
        }
    )
    await sink.apply(effect(alert=alert))
    body = _created(github)["body"]
    assert "//github.com" not in body.lower() and "www.github.com" not in body
    assert "[runbook](<https://redirect.github.com/victim/repo/issues/1>)" in body
    assert "[dashboard](<https://redirect.github.com/victim/repo/pull/2#discussion_r3>)" in body
    assert "[source](<https://redirect.github.com/victim/repo/discussions/4>)" in body
    assert "[wiki](<https://grafana.example.com/d/x>)" in body


async def test_links_to_an_enterprise_servers_issues_are_shown_not_linked(
    github: GitHubServer, mono: FakeClock, wall: FakeClock
) -> None:
    """GitHub Enterprise has no redirect domain: a link to an issue or pull request on the
    server triage writes to (GITHUB_API_URL's host) is shown as inert text, so it references
    nothing; a link to its other pages, or to another host, stays a link."""
    server = github.url.rstrip("/")
    alert = ALERT.model_copy(
        update={
            "runbook_url": f"{server}/victim/repo/issues/1",
            "links": {
                "dashboard": f"{server}/victim/repo/pull/2/files",
                "wiki": f"{server}/acme/runbooks/blob/main/db.md",
                "other": "https://gitea.example.com/victim/repo/issues/3",
            },
        }
    )
    async with open_sink(github, mono, wall) as enterprise:
        await enterprise.apply(effect(alert=alert))
    body = _created(github)["body"]
    shown = server.replace("://", ":&#8203;//")
    assert f"- runbook: {shown}/victim/repo/issues/1" in body
    assert f"- dashboard: {shown}/victim/repo/pull/2/files" in body
    assert f"](<{server}/victim/" not in body
    assert f"[wiki](<{server}/acme/runbooks/blob/main/db.md>)" in body
    assert "[other](<https://gitea.example.com/victim/repo/issues/3>)" in body


@pytest.mark.parametrize(
    ("api_url", "host"),
    [
        ("https://api.github.com", "github.com"),
        ("https://ghe.example.com/api/v3", "ghe.example.com"),
        ("https://api.acme.ghe.com", "acme.ghe.com"),
        ("http://127.0.0.1:8080", "127.0.0.1"),
    ],
)
def test_the_web_host_is_read_from_the_api_url(api_url: str, host: str) -> None:
    """The host issues are shown on: api.github.com's is github.com, a server's its own."""
    assert text.web_host(api_url) == host


async def test_labels_from_alert_text_hold_no_invisible_or_control_characters(
    sink: GitHubSink, github: GitHubServer
) -> None:
    """A team or source holding zero-width, bidi or control characters is labelled as it reads:
    `team:pay\\u200bments` would be a second label that looks like `team:payments`, and a NUL
    one GitHub refuses, failing the issue."""
    # Past the view's redaction (which drops format characters, not controls): the labels are
    # the sink's last word on what reaches GitHub, whatever the view lets through.
    shown = effect()
    odd = dataclasses.replace(
        shown.alert, team="pay\u200bments\u2060\x00", source="\u202egeneric\x1b[0m"
    )
    shown = dataclasses.replace(shown, alert=odd)
    await sink.apply(shown)
    labels = _created(github)["labels"]
    assert "team:payments" in labels and "source:generic[0m" in labels
    for label in labels:
        assert all(unicodedata.category(ch) not in ("Cc", "Cf") for ch in label), label
