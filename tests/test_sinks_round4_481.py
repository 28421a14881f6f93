"""Round 4 (helper 481): the GitHub, Slack and backend sinks against loopback servers
answering as the services do: a re-fire whose reopen GitHub refuses after its comment was
posted, GitHub's limits and faults, Slack's refusals, and a backend's odd answers."""

from __future__ import annotations

from collections.abc import MutableMapping
from dataclasses import dataclass, field, replace
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from hostile_server import answer, hostile
from test_backend_hostile_answers import backend_sink
from test_backend_hostile_answers import effect as backend_effect
from test_github_sink import BOT_TOKEN, REPO, FakeClock, effect, incident
from test_pipeline import LEASE
from test_redo_targets_467 import ELSEWHERE, Replicas, Stopped, generic
from test_sinks_round2_464 import CommentCapGitHub, guarded, new_incident
from test_slack_sink import Hook, hook, open_sink  # noqa: F401 (the `hook` fixture)
from test_slack_sink import effect as slack_effect
from triage.errors import SinkRejectedError, SinkUnavailableError
from triage.models import EffectKind
from triage.routes import Router, load_router
from triage.settings import Settings
from triage.sinks.base import Applied, Effect, Target


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


@dataclass
class DefaultRepositorySink:
    """GitHub as far as a redo's target goes: an OPEN with no repository of its own goes to
    `default` (GITHUB_REPOSITORY as the replica calling it has it); the process stops once its
    first call answered, before confirming it."""

    default: str
    name: str = "github"
    opened_in: list[str] = field(default_factory=list)

    async def apply(self, effect: Effect) -> Applied:
        where = effect.target.repository or self.default
        self.opened_in.append(where)
        if len(self.opened_in) == 1:
            raise Stopped(where)
        return Applied(f"{where}#{len(self.opened_in)}")

    async def aclose(self) -> None:
        return None


def router_with_default(tmp_path: Path, repository: str, routes: str | None) -> Router:
    """A replica's router under GITHUB_REPOSITORY `repository`, with the routes file `routes`
    (None: none, every alert on TRIAGE_SINKS's default route)."""
    path = None
    if routes is not None:
        path = tmp_path / f"{repository.replace('/', '-')}.toml"
        path.write_text(routes, encoding="utf-8")
    return load_router(Settings(routes_file=path, sinks="github", github_repository=repository))


@pytest.mark.parametrize("routes", [None, ELSEWHERE], ids=["no-routes-file", "default-route"])
async def test_a_default_route_redo_goes_to_the_repository_its_first_attempt_went_to(
    tmp_path: Path, routes: str | None
) -> None:
    """Replica A files the issue of a default-route alert in its GITHUB_REPOSITORY and stops
    before confirming it; replica B runs with another GITHUB_REPOSITORY (a rollout that moved
    it). B's redo of the open goes to A's repository, where the first issue is, not a second
    issue in B's that nothing ever closes."""
    github = DefaultRepositorySink("acme/old")
    rig = Replicas([github])  # type: ignore[list-item]
    a = rig.replica(router_with_default(tmp_path, "acme/old", routes))
    b = rig.replica(router_with_default(tmp_path, "acme/new", routes))
    with pytest.raises(Stopped):
        await a.process(generic(1, 0))
    github.default = "acme/new"
    rig.clock.now = rig.clock.now + LEASE + timedelta(minutes=1)
    await b.process(generic(1, 0, receive=2))
    assert github.opened_in == ["acme/old", "acme/old"]


# --- 2. GitHub's faults -----------------------------------------------------------------------

#: GitHub's content-creation limit, as it answers a create.
SECONDARY = "You have exceeded a secondary rate limit. Please wait a few minutes."


@pytest.mark.parametrize(
    ("status", "message", "retry_after"),
    [(403, SECONDARY, "60"), (429, "Too Many Requests", "60")],
    ids=["403-secondary", "429"],
)
async def test_a_storm_digest_create_refused_by_a_limit_gives_the_hours_kept_token_back(
    github: CommentCapGitHub,
    mono: FakeClock,
    wall: FakeClock,
    status: int,
    message: str,
    retry_after: str,
) -> None:
    """The storm digest's create (the hour's last creation token, kept for it) that GitHub's
    limit refused (nothing made) gives its tokens back: once the limit has passed the
    incident is listed in a digest opened then, instead of every incident of the storm
    waiting for the next hour's token."""
    async with guarded(github, mono, wall, github_create_per_hour=2) as guard:
        await guard.apply(new_incident(1, "open-1"))
        github.fail_next(
            status=status, message=message, retry_after=retry_after, path="/issues", method="POST"
        )
        with pytest.raises(Exception, match="rate limit"):
            await guard.apply(new_incident(2, "open-2"))
        mono.advance(61)
        wall.advance(61)
        listed = await guard.apply(new_incident(2, "open-2"))
    issues = github.issues(REPO)
    assert len(issues) == 2 and "storm" in issues[1]["title"].lower(), issues
    assert listed.ref is not None and "#issuecomment-" in listed.ref


# --- 3. Slack ---------------------------------------------------------------------------------


@pytest.mark.parametrize("code", ["no_service", "invalid_token", "channel_not_found"])
@pytest.mark.parametrize("kind", [EffectKind.OPEN, EffectKind.CLOSE])
async def test_a_webhook_answering_2xx_with_slacks_error_code_in_text_is_that_refusal(
    hook: Hook,  # noqa: F811 (the fixture imported above)
    logs: list[MutableMapping[str, Any]],
    code: str,
    kind: EffectKind,
) -> None:
    """A webhook that answers 200 with one of Slack's error codes as its text (`no_service`,
    `invalid_token`: a revoked webhook behind a gateway that keeps the status at 200) took no
    post: it is that refusal (the destination gone: skipped, one `slack.refused` warning),
    not a `slack.posted` for a message no one sees."""
    hook.answer(200, code)
    ref = None if kind is EffectKind.OPEN else "posted"
    async with open_sink(hook.url()) as sink:
        applied = await sink.apply(slack_effect(kind, ref=ref))
    assert applied.skipped == f"slack refused: {code}" and applied.ref is None
    said = [e["event"] for e in logs if e["log_level"] in ("warning", "info")]
    assert said == ["slack.refused"], said


async def test_a_webhook_answering_2xx_with_invalid_payload_in_text_did_not_post(
    hook: Hook,  # noqa: F811 (the fixture imported above)
) -> None:
    """A 200 whose whole text is `invalid_payload` refused the message: the new incident's
    post fails naming Slack's code (its message is retried, then the DLQ shows it), never a
    `slack.posted` for a message no one sees."""
    hook.answer(200, "invalid_payload")
    async with open_sink(hook.url()) as sink:
        with pytest.raises(SinkRejectedError, match="invalid_payload"):
            await sink.apply(slack_effect(EffectKind.OPEN))


# --- 4. The backend ---------------------------------------------------------------------------


@pytest.mark.parametrize("codec", ["utf-16-le", "utf-16-be"])
async def test_a_sign_in_page_in_utf_16_is_no_ticket_made(codec: str) -> None:
    """A 200 whose body is a proxy's sign-in page written in UTF-16 with its byte order mark
    (read as the mark says, as any answer is) is a web page, whatever its Content-Type: no
    ticket is taken from it (the create is retried), as for the same page in UTF-8."""
    page = "\ufeff \r\n<!DOCTYPE html><html><body>Sign in</body></html>".encode(codec)
    reply = answer(200, {"Content-Type": "text/plain"}, page)
    async with hostile(reply) as server, backend_sink(server.url) as sink:
        with pytest.raises(SinkUnavailableError, match="web page"):
            await sink.apply(backend_effect())
