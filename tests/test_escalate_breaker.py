"""Escalations through the sweep while a sink's circuit breaker is open: the escalation to that
service waits without a warning of its own (the breaker's `breaker.opened` is the outage's line)
and goes out on the first pass after the breaker lets calls through again."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx2
import pytest
from structlog.testing import capture_logs

from github_stub import GitHubServer
from test_silences import GH_TOKEN, Hook, Rig, _escalating, _set_ref, alert
from triage.breaker import BreakerState, CircuitBreaker
from triage.ops.escalate import Escalator
from triage.sinks.guard import GuardedSink


class _Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


class _GitHubByName:
    """The github sink by name only: the escalator uses its guard's breaker, never the sink."""

    name = "github"

    async def apply(self, effect: object) -> object:
        raise AssertionError("the escalator never applies an effect")

    async def aclose(self) -> None:
        return None


@pytest.fixture
def slack() -> Iterator[Hook]:
    hook = Hook()
    yield hook
    hook.stop()


async def test_an_escalation_waits_quietly_for_githubs_breaker(tmp_path: Path, slack: Hook) -> None:
    """GitHub's sink breaker is open when the incident is due: Slack is told, GitHub is not
    called and no warning is logged on any pass; once the breaker's reset has passed the next
    pass tells GitHub (the escalation is the probe that closes it), and the escalation is done."""
    clock = _Clock()
    breaker = CircuitBreaker("sink:github", 5, 30.0, clock=clock)
    guard = GuardedSink(_GitHubByName(), breaker, clock=clock)  # type: ignore[arg-type]
    breaker.trip()
    github = GitHubServer(tokens={GH_TOKEN: "triage-bot"}, repositories=("acme/ops",)).start()
    try:
        settings, router = _escalating(tmp_path, slack, github)
        escalator = Escalator(settings, router, guards=[guard])
        r = Rig(router, escalator)
        issue = httpx2.post(
            f"{github.url}/repos/acme/ops/issues",
            json={"title": "api-5xx is failing"},
            headers={"Authorization": f"Bearer {GH_TOKEN}"},
        ).json()
        await r.send(0)
        fingerprint = alert().fingerprint
        await _set_ref(r, fingerprint, "github", issue["html_url"])
        calls_before = len(github.calls)
        with capture_logs() as logs:
            for minute in (31, 33):
                r.clock.at(minute)
                await r.sweep("a").once()
        assert len(github.calls) == calls_before
        held = await r.store.get(fingerprint)
        assert held is not None and held.escalation is not None
        assert held.escalation.sent == ("slack",) and held.escalation.done_at is None
        clock.now += 31
        r.clock.at(35)
        await r.sweep("a").once()
        await escalator.aclose()
        [gh_issue] = github.issues()
    finally:
        github.stop()
    assert [e for e in logs if e["log_level"] == "warning"] == []
    assert len(slack.posts) == 1
    assert [a["login"] for a in gh_issue["assignees"]] == ["oncall-lead"]
    assert breaker.state is BreakerState.CLOSED
    done = await r.store.get(fingerprint)
    assert done is not None and done.escalation is not None
    assert done.escalation.sent == ("slack", "github") and done.escalation.done_at is not None
