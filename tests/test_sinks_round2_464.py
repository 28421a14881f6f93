"""Round 2 (helper 464): the GitHub and Slack sinks against loopback servers answering as GitHub
and Slack do: credentials GitHub refused for a while (its own auth down, an installation
suspended then restored) are asked about again and found back, as the backend sink's are
(57bc26fa); and GitHub's and Slack's limits, validation errors and moved or gone things."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator, MutableMapping
from contextlib import asynccontextmanager
from dataclasses import replace
from typing import Any

import pytest

from github_stub import GitHubServer, StubApp
from test_github_app_faults import AccessGitHub, held, rsa_pem
from test_github_sink import BOT_TOKEN, REPO, FakeClock, effect, incident
from test_slack_sink import ALERT as SLACK_ALERT
from test_slack_sink import ISSUE_URL, Hook, hook, open_sink
from test_slack_sink import TICKET as SLACK_TICKET
from test_slack_sink import effect as slack_effect
from triage.breaker import BreakerState, CircuitBreaker
from triage.models import EffectKind
from triage.settings import Settings
from triage.sinks.base import Effect, Target
from triage.sinks.github import GitHubSink
from triage.sinks.guard import GuardedSink

__all__ = ["hook"]  # a fixture, used by name

RESET_S = 30.0
#: A second Slack incident (its own fingerprint).
SLACK_ALERT_2 = SLACK_ALERT.model_copy(update={"identity": {"alarm": "other"}})


class AuthDownGitHub(AccessGitHub):
    """The stub, whose token check can fail as a whole (GitHub's own auth down, a token
    refused for a while): every call, the App's JWT too, is 401 "Bad credentials"."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.auth_down = False

    def _route(
        self, method: str, path: str, query: dict[str, str], headers: dict[str, str], body: Any
    ) -> tuple[int, Any, dict[str, str]]:
        if self.auth_down:
            return 401, {"message": "Bad credentials"}, {}
        return super()._route(method, path, query, headers, body)


@pytest.fixture(scope="module")
def app_keys() -> tuple[str, str]:
    return rsa_pem()


@pytest.fixture
def wall() -> FakeClock:
    return FakeClock(1_800_000_000.0)


@pytest.fixture
def mono() -> FakeClock:
    return FakeClock(5_000.0)


@pytest.fixture
def github(wall: FakeClock, app_keys: tuple[str, str]) -> Iterator[AuthDownGitHub]:
    app = StubApp(app_id="4242", slug="triage-app", public_key=app_keys[1], installation_id=77)
    server = AuthDownGitHub(
        tokens={BOT_TOKEN: "triage-bot"}, repositories=(REPO,), app=app, clock=wall
    )
    with server:
        yield server


@asynccontextmanager
async def guarded(
    github: GitHubServer,
    mono: FakeClock,
    wall: FakeClock,
    *,
    app_pem: str | None = None,
    default: str | None = REPO,
    **settings: Any,
) -> AsyncIterator[GuardedSink]:
    """The sink behind its breaker as `app.py` builds it (threshold 5, reset 30 s): a GitHub
    App when `app_pem` is given, else GITHUB_TOKEN; GITHUB_REPOSITORY `default`; `settings`
    besides."""
    values: dict[str, Any] = {
        "github_api_url": github.url,
        "github_repository": default,
        **settings,
    }
    if app_pem is not None:
        values.update(
            github_app_id="4242", github_app_private_key=app_pem, github_app_installation_id=77
        )
    else:
        values["github_token"] = BOT_TOKEN
    sink = GitHubSink(Settings(**values), clock=mono, wall_clock=wall)
    guard = GuardedSink(sink, CircuitBreaker("sink:github", 5, RESET_S, clock=mono), clock=mono)
    try:
        yield guard
    finally:
        await guard.aclose()


def new_incident(n: int, key: str) -> Effect:
    """The open of the n-th incident, routed to REPO by name (so no GITHUB_REPOSITORY is needed)."""
    return effect(alert=incident(n), key=key, target=Target(repository=REPO))


async def open_by_refusals(guard: GuardedSink) -> None:
    """Apply new incidents until the breaker is open (each refused as our credentials)."""
    for n in range(10):
        if guard.breaker.state is BreakerState.OPEN:
            return
        try:
            await guard.apply(new_incident(100 + n, f"refused-{n}"))
        except Exception:  # any failure counts towards the breaker
            continue
    assert guard.breaker.state is BreakerState.OPEN


# --- Credentials refused for a while are found back (the backend's 57bc26fa, for GitHub) -----


@pytest.mark.parametrize("default", [REPO, None], ids=["with-default-repo", "no-default-repo"])
@pytest.mark.parametrize("app", [False, True], ids=["token", "app"])
async def test_github_credentials_refused_for_a_while_are_found_back_by_the_probe(
    github: AuthDownGitHub,
    mono: FakeClock,
    wall: FakeClock,
    app_keys: tuple[str, str],
    default: str | None,
    app: bool,
) -> None:
    """GitHub refusing every token (401 "Bad credentials": its auth down, an App's tokens
    revoked then issued again) holds messages behind the open breaker; once GitHub takes the
    same credentials again, the breaker's probes close it and the issue opens, with no
    secret rotated and no restart."""
    async with guarded(
        github, mono, wall, app_pem=app_keys[0] if app else None, default=default
    ) as guard:
        await guard.apply(new_incident(1, "before"))  # signed in, login known
        github.auth_down = True
        github.revoke_installation_tokens()
        await open_by_refusals(guard)
        await held(guard, alert=incident(2), key="held", target=Target(repository=REPO))
        github.auth_down = False
        for _ in range(12):  # a probe (or one real call) per reset, for up to 6 minutes
            mono.advance(RESET_S)
            wall.advance(RESET_S)
            await guard.probe()
            if guard.breaker.state is not BreakerState.OPEN:
                break
        applied = await guard.apply(new_incident(2, "held"))
        assert applied.ref is not None
        assert guard.breaker.state is BreakerState.CLOSED
    assert len(github.issues()) == 2


async def test_an_installation_suspended_then_restored_is_found_back(
    github: AuthDownGitHub, mono: FakeClock, wall: FakeClock, app_keys: tuple[str, str]
) -> None:
    """An App's installation suspended under a live token (403 "This installation has been
    suspended") and then unsuspended by an owner: the breaker's probes find it back and the
    held incident's issue opens."""
    async with guarded(github, mono, wall, app_pem=app_keys[0], default=None) as guard:
        await guard.apply(new_incident(1, "before"))
        github.installation = "suspended"
        await open_by_refusals(guard)
        github.installation = "installed"
        for _ in range(12):
            mono.advance(RESET_S)
            wall.advance(RESET_S)
            await guard.probe()
            if guard.breaker.state is not BreakerState.OPEN:
                break
        assert (await guard.apply(new_incident(2, "held"))).ref is not None
    assert len(github.issues()) == 2


# --- Slack: a refusal is asked again at the next post (nothing held for good) --------------


@pytest.mark.parametrize(
    ("status", "error"),
    [(404, "no_service"), (200, '{"ok": false, "error": "invalid_token"}'), (403, "token_revoked")],
)
async def test_a_slack_webhook_refused_for_a_while_posts_again_once_it_is_back(
    hook: Hook, logs: list[MutableMapping[str, Any]], status: int, error: str
) -> None:
    """A webhook Slack refused as gone or its token revoked (`no_service`, `invalid_token`,
    `token_revoked`) is not remembered as refused: its post is skipped, and the next post,
    once Slack takes the webhook again, is posted (no breaker held open, no memory to wait
    out), unlike the backend's refused token before 57bc26fa."""
    hook.answer(status, error)
    async with open_sink(hook.url()) as sink:
        first = await sink.apply(slack_effect(EffectKind.OPEN))
        second = await sink.apply(slack_effect(EffectKind.OPEN, alert=SLACK_ALERT_2))
    assert first.skipped is not None and first.ref is None
    assert second.ref == "posted" and len(hook.bodies()) == 2


# --- Slack: a follow-up whose blocks Slack refuses goes as plain text ---------------------


@pytest.mark.parametrize("kind", [EffectKind.CLOSE, EffectKind.REOPEN])
@pytest.mark.parametrize("error", ["invalid_blocks", "invalid_blocks_format"])
async def test_a_follow_up_whose_blocks_slack_refuses_is_posted_as_plain_text(
    hook: Hook, logs: list[MutableMapping[str, Any]], kind: EffectKind, error: str
) -> None:
    """A webhook that refuses blocks (a new incident's went as plain text: `slack.blocks_refused`)
    refuses a resolve's or a re-fire's blocks too: that follow-up is posted again as its ticket
    links and one escaped line, as the open was, so the channel hears it resolved, instead of
    being skipped with a `slack.refused` warning."""
    hook.answer(400, error)
    hostile = SLACK_TICKET.model_copy(update={"title": "<!channel> ``` down"})
    async with open_sink(hook.url()) as sink:
        applied = await sink.apply(slack_effect(kind, ref="posted", ticket=hostile))
    assert applied.skipped is None, applied
    refused, plain = hook.bodies()
    assert "blocks" in refused and "blocks" not in plain
    head, line = plain["text"].split("\n")
    assert head == f"<{ISSUE_URL}|GitHub #12> · backend ticket T-7"
    assert "&lt;!channel&gt; ``` down" in line and "<!channel>" not in plain["text"]
    assert ("Resolved" if kind is EffectKind.CLOSE else "Fired again") in line
    assert plain["unfurl_links"] is False and plain["unfurl_media"] is False
    assert [e["event"] for e in logs if e["log_level"] == "warning"] == ["slack.blocks_refused"]


# --- GitHub: an issue at its 2,500 comments -------------------------------------------------

#: GitHub's cap on an issue's comments, and its refusal past it.
COMMENTS_CAP = 2500
COMMENTS_FULL = "Commenting is disabled on issues with more than 2500 comments"


class CommentCapGitHub(AuthDownGitHub):
    """The stub, refusing a comment on an issue that holds 2,500 as GitHub does (403, for
    good): a long-firing incident's update comments reach it in weeks."""

    def _create_comment(self, actor: str, params: dict[str, str], query: Any, body: Any) -> Any:
        issue = self._issue(params)
        if issue is not None and len(issue.comments) >= COMMENTS_CAP:
            return 403, {"message": COMMENTS_FULL}, {}
        return super()._create_comment(actor, params, query, body)

    #: Whether an issue's `comments` count lags behind (read as 0), so only the POST's 403
    #: says the issue is full.
    stale_count = False

    def _render(self, repo: str, issue: Any) -> dict[str, Any]:
        shown = super()._render(repo, issue)
        return {**shown, "comments": 0} if self.stale_count else shown

    def close_by_triage(self, repository: str, number: int) -> None:
        """Issue `number` closed by triage (its login), as an earlier resolve did."""
        with self._lock:
            issue = self._repos[repository][number - 1]
            issue.state, issue.closed_by, issue.closed_at = "closed", "triage-bot", self.clock()

    def fill_comments(self, repository: str, number: int) -> None:
        """Give issue `number` its 2,500 comments (a person's)."""
        with self._lock:
            issue = self._repos[repository][number - 1]
            for n in range(COMMENTS_CAP - len(issue.comments)):
                comment_id = next(self._comment_ids)
                issue.comments.append(
                    {"id": comment_id, "body": f"note {n}", "user": {"login": "alice"}}
                )


@pytest.fixture
def capped(wall: FakeClock) -> Iterator[CommentCapGitHub]:
    with CommentCapGitHub(tokens={BOT_TOKEN: "triage-bot"}, repositories=(REPO,), clock=wall) as s:
        yield s


@pytest.mark.parametrize("stale", [False, True], ids=["count-read", "refused-on-post"])
@pytest.mark.parametrize("kind", [EffectKind.CLOSE, EffectKind.UPDATE, EffectKind.REOPEN])
async def test_an_issue_at_githubs_comment_cap_holds_up_nothing_else(
    capped: CommentCapGitHub,
    mono: FakeClock,
    wall: FakeClock,
    logs: list[MutableMapping[str, Any]],
    kind: EffectKind,
    stale: bool,
) -> None:
    """An issue at GitHub's 2,500 comments refuses every comment (403 "Commenting is disabled
    …"): that is the issue's refusal, as a lock's is, not our credentials losing write access.
    A close or reopen is still done without its comment, an update is skipped, and the
    breaker stays closed, so every other incident's issue still opens; one warning says it."""
    capped.stale_count = stale
    async with guarded(capped, mono, wall) as guard:
        opened = await guard.apply(new_incident(1, "open-1"))
        assert opened.ref is not None
        capped.fill_comments(REPO, 1)
        if kind is EffectKind.REOPEN:
            capped.close_by_triage(REPO, 1)
        follow = effect(kind, ref=opened.ref, alert=incident(1), key=f"{kind}-1")
        applied = await guard.apply(replace(follow, target=Target(repository=REPO)))
        assert guard.breaker.state is BreakerState.CLOSED
        second = await guard.apply(new_incident(2, "open-2"))
        assert second.ref is not None
    issue = capped.issues(REPO)[0]
    assert len(issue["comment_bodies"]) == COMMENTS_CAP  # nothing posted past the cap
    if kind is EffectKind.CLOSE:
        assert issue["state"] == "closed"
    if kind is EffectKind.REOPEN:
        # A closed issue at the cap stays closed, read as full or its comment refused so:
        # its re-fire opens a new issue (helpers 470, 473).
        assert issue["state"] == "closed"
    if kind is EffectKind.UPDATE:
        assert applied.skipped is not None
    assert not [e for e in logs if e["event"] == "breaker.opened"]
    assert [e["event"] for e in logs if e["log_level"] == "warning"] == [
        "github.issue_comments_full"
    ]


async def test_a_storm_digest_at_githubs_comment_cap_is_replaced_by_a_new_one(
    capped: CommentCapGitHub,
    mono: FakeClock,
    wall: FakeClock,
    logs: list[MutableMapping[str, Any]],
) -> None:
    """A storm digest that took 2,500 entries takes no more (GitHub's 403 "Commenting is
    disabled …"): the next incident past the hour's budget is listed in a new digest once a
    creation token is free, as for a digest a person locked, instead of its 403 being taken for
    our credentials losing write access (the breaker open for every route)."""
    async with guarded(capped, mono, wall, github_create_per_hour=3) as guard:
        for n in (1, 2):
            assert (await guard.apply(new_incident(n, f"own-{n}"))).ref is not None
        first_entry = (await guard.apply(new_incident(3, "storm-3"))).ref
        first_digest = capped.issues(REPO)[2]
        assert first_entry is not None and first_entry.startswith(first_digest["html_url"])
        capped.fill_comments(REPO, first_digest["number"])
        mono.advance(1200)  # a third of the hour: one creation token is free again
        wall.advance(1200)
        entry = (await guard.apply(new_incident(4, "storm-4"))).ref
        assert guard.breaker.state is BreakerState.CLOSED
    second_digest = capped.issues(REPO)[3]
    assert second_digest["title"].startswith("[triage] Alert storm")
    assert entry is not None and entry.startswith(second_digest["html_url"] + "#")
    assert len(capped.issues(REPO)[2]["comment_bodies"]) == COMMENTS_CAP
    assert not [e for e in logs if e["event"] == "breaker.opened"]


# --- GitHub: issues turned off is not every issue deleted ---------------------------------


class IssuesOffGitHub(AuthDownGitHub):
    """The stub, answering every issues call of a repository whose issues are turned off as
    GitHub does: 410 "Issues are disabled for this repo" (a deleted issue's 410 says "This
    issue was deleted"); its issues are back as they were once turned on again."""

    def _refusal(self, method: str, path: str, headers: dict[str, str]) -> tuple[int, str] | None:
        repo = "/".join(path.split("/")[2:4]) if path.startswith("/repos/") else None
        if repo in self.issues_off and "/issues" in path:
            return 410, "Issues are disabled for this repo"
        return super()._refusal(method, path, headers)


@pytest.mark.parametrize("kind", [EffectKind.UPDATE, EffectKind.CLOSE])
async def test_an_issue_while_its_repositorys_issues_are_off_is_not_taken_for_deleted(
    wall: FakeClock, mono: FakeClock, logs: list[MutableMapping[str, Any]], kind: EffectKind
) -> None:
    """An update or close whose issue answers 410 because the repository's issues were turned
    off (a setting, turned on again with every issue as it was) is not the issue deleted: the
    ticket is not marked gone (which would stop its updates for good and have a re-fire open
    a second issue beside it), one warning names the repository, and once issues are back on
    the close closes it."""
    server = IssuesOffGitHub(tokens={BOT_TOKEN: "triage-bot"}, repositories=(REPO,), clock=wall)
    with server:
        async with guarded(server, mono, wall) as guard:
            ref = (await guard.apply(new_incident(1, "open"))).ref
            server.issues_off.add(REPO)
            follow = effect(kind, ref, f"{kind}-while-off", alert=incident(1))
            applied = await guard.apply(replace(follow, target=Target(repository=REPO)))
            assert applied.skipped is not None and not applied.gone, applied
            server.issues_off.discard(REPO)
            close = effect(EffectKind.CLOSE, ref, "close", alert=incident(1))
            await guard.apply(replace(close, target=Target(repository=REPO)))
        (issue,) = server.issues(REPO)
    assert issue["state"] == "closed"
    assert [e for e in logs if e["event"] == "github.issue_gone"] == []
    (line,) = [e for e in logs if e["event"] == "github.repository_out_of_reach"]
    assert line["repository"] == REPO and line["status"] == 410
