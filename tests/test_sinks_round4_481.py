"""Round 4 (helper 481): the GitHub, Slack and backend sinks against loopback servers
answering as the services do: a re-fire whose reopen GitHub refuses after its comment was
posted, GitHub's limits and faults, Slack's refusals, and a backend's odd answers."""

from __future__ import annotations

from collections.abc import MutableMapping
from dataclasses import replace
from typing import Any

import pytest

from test_github_sink import BOT_TOKEN, REPO, FakeClock, effect, incident
from test_sinks_round2_464 import CommentCapGitHub, guarded, new_incident
from triage.models import EffectKind
from triage.sinks.base import Target


@pytest.fixture
def wall() -> FakeClock:
    return FakeClock(1_800_000_000.0)


@pytest.fixture
def mono() -> FakeClock:
    return FakeClock(5_000.0)


@pytest.fixture
def github(wall: FakeClock) -> Any:
    with CommentCapGitHub(tokens={BOT_TOKEN: "triage-bot"}, repositories=(REPO,), clock=wall) as s:
        yield s


def warnings(logs: list[MutableMapping[str, Any]]) -> list[MutableMapping[str, Any]]:
    return [e for e in logs if e["log_level"] == "warning" and e["event"] != "breaker.opened"]


# --- 1. A re-fire whose reopen GitHub refuses after its comment was posted -------------------

#: What GitHub answers a reopen it will not make: an issue closed by a maintainer where triage
#: is only its author (403), one locked or converted (422).
REOPEN_REFUSALS = [
    (403, "You cannot reopen this issue"),
    (403, "Unable to reopen because issue is locked."),
    (422, "Validation Failed: issue is locked"),
    (422, "Could not reopen the issue"),
]


@pytest.mark.parametrize(
    ("status", "message"), REOPEN_REFUSALS, ids=["403", "403-locked", "422-locked", "422"]
)
async def test_a_refire_whose_reopen_is_refused_opens_a_new_issue_naming_the_old_once(
    github: CommentCapGitHub,
    mono: FakeClock,
    wall: FakeClock,
    logs: list[MutableMapping[str, Any]],
    status: int,
    message: str,
) -> None:
    """A re-fire whose comment went on the closed issue but whose reopen GitHub refuses opens
    a new issue that names the old one (where the re-fire's comment is), and its retry finds
    that issue and posts the comment on the old one no second time."""
    async with guarded(github, mono, wall) as guard:
        ref = (await guard.apply(new_incident(1, "open"))).ref
        github.close_by_triage(REPO, 1)
        refire = effect(EffectKind.REOPEN, ref, "refire", alert=incident(1))
        refire = replace(refire, target=Target(repository=REPO))
        path = f"/repos/{REPO}/issues/1"
        github.fail_next(2, status, message=message, path=path, method="PATCH")
        applied = await guard.apply(refire)
        retried = await guard.apply(refire)
    old, new = github.issues(REPO)
    refire_comments = [b for b in old["comment_bodies"] if "triage:effect=refire" in b]
    assert old["state"] == "closed" and len(refire_comments) == 1
    assert new["state"] == "open" and applied.ref == retried.ref == new["html_url"]
    assert f"{REPO}#1" in new["body"].split("\n")[0]
