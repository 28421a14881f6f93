"""The GitHub sink when its credentials reach no repository: an App uninstalled or suspended, a
repository the App (or token) may not see or write, issues turned off. Against a loopback GitHub
that answers as GitHub does, through the sink's breaker as the daemon runs it: the message waits
(the breaker opens, its one line says why and what to do) instead of going to the DLQ, and the
issue opens once access is back."""

from __future__ import annotations

import signal
import time
from collections.abc import AsyncIterator, Callable, Iterator, MutableMapping
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from daemon_harness import Daemon, Queues, settings_for
from github_stub import GitHubServer, StubApp
from test_github_sink import ALICE_TOKEN, BOT_TOKEN, REPO, FakeClock, effect, incident
from triage.breaker import BreakerState, CircuitBreaker
from triage.errors import SinkThrottledError, SinkUnreachableError
from triage.models import EffectKind
from triage.settings import Settings
from triage.sinks.base import Target
from triage.sinks.github import GitHubSink
from triage.sinks.github.access import UNREACHABLE_RECHECK_S
from triage.sinks.guard import BREAKER_OPEN, GuardedSink

OTHER = "acme/other"
RESET_S = 30.0


class AccessGitHub(GitHubServer):
    """The stub, plus what an installation and a token may reach, answered as GitHub does:
    an uninstalled App's exchange is 404 (its tokens revoked: 401), a suspended one's 403
    "This installation has been suspended" (its live tokens too); a repository outside the
    token's reach is 404 "Not Found", one it may read but not write 403 "Resource not
    accessible by integration", one with issues turned off 410."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.installation = "installed"  # or "uninstalled", "suspended"
        self.hidden: set[str] = set()
        self.read_only_access: set[str] = set()
        self.issues_off: set[str] = set()

    def _route(
        self, method: str, path: str, query: dict[str, str], headers: dict[str, str], body: Any
    ) -> tuple[int, Any, dict[str, str]]:
        refusal = self._refusal(method, path, headers)
        if refusal is not None:
            return refusal[0], {"message": refusal[1]}, {}
        return super()._route(method, path, query, headers, body)

    def _refusal(self, method: str, path: str, headers: dict[str, str]) -> tuple[int, str] | None:
        installation_token = headers.get("authorization", "").startswith("Bearer ghs_")
        if path.endswith("/access_tokens") and self.installation == "uninstalled":
            return 404, "Integration not found"
        if path.endswith("/access_tokens") and self.installation == "suspended":
            return 403, "This installation has been suspended"
        if installation_token and self.installation == "uninstalled":
            return 401, "Bad credentials"
        if installation_token and self.installation == "suspended":
            return 403, "This installation has been suspended"
        repo = "/".join(path.split("/")[2:4]) if path.startswith("/repos/") else None
        if repo in self.hidden:
            return 404, "Not Found"
        if repo in self.issues_off and path.endswith("/issues"):
            return 410, "Issues are disabled for this repo"
        if repo in self.read_only_access and method != "GET":
            return 403, "Resource not accessible by integration"
        return None


def rsa_pem() -> tuple[str, str]:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    private = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode()
    public = (
        key.public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        .decode()
    )
    return private, public


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
def github(wall: FakeClock, app_keys: tuple[str, str]) -> Iterator[AccessGitHub]:
    app = StubApp(app_id="4242", slug="triage-app", public_key=app_keys[1], installation_id=77)
    server = AccessGitHub(
        tokens={BOT_TOKEN: "triage-bot", ALICE_TOKEN: "alice"},
        repositories=(REPO, OTHER),
        app=app,
        clock=wall,
    )
    with server:
        yield server


@asynccontextmanager
async def guarded(
    github: GitHubServer,
    mono: FakeClock,
    wall: FakeClock,
    *,
    app: bool,
    app_pem: str = "",
    default: str | None = REPO,
) -> AsyncIterator[GuardedSink]:
    """The sink behind its breaker, as `app.py` builds it (threshold 5, reset 30 s), with
    GITHUB_REPOSITORY `default`."""
    values: dict[str, Any] = {"github_api_url": github.url, "github_repository": default}
    if app:
        values.update(
            github_app_id="4242",
            github_app_private_key=app_pem,
            github_app_installation_id=77,
        )
    else:
        values["github_token"] = BOT_TOKEN
    sink = GitHubSink(Settings(**values), clock=mono, wall_clock=wall)
    guard = GuardedSink(sink, CircuitBreaker("sink:github", 5, RESET_S, clock=mono), clock=mono)
    try:
        yield guard
    finally:
        await guard.aclose()


async def held(guard: GuardedSink, **kwargs: Any) -> SinkThrottledError:
    """The effect's outcome when it must wait: SinkThrottledError `breaker_open`."""
    with pytest.raises(SinkThrottledError) as caught:
        await guard.apply(effect(**kwargs))
    assert caught.value.reason == BREAKER_OPEN
    return caught.value


def opened_lines(logs: list[MutableMapping[str, Any]]) -> list[MutableMapping[str, Any]]:
    return [e for e in logs if e["event"] == "breaker.opened"]


@pytest.mark.parametrize("state", ["uninstalled", "suspended"])
async def test_an_app_without_an_installation_holds_the_message_until_it_is_back(
    github: AccessGitHub,
    mono: FakeClock,
    wall: FakeClock,
    app_keys: tuple[str, str],
    logs: list[MutableMapping[str, Any]],
    state: str,
) -> None:
    """An App uninstalled (404) or suspended (403) before its first token: the message is held
    behind an open breaker whose one warning says what to do, and the issue opens once the
    installation is back."""
    github.installation = state
    async with guarded(github, mono, wall, app=True, app_pem=app_keys[0]) as guard:
        await held(guard)
        (line,) = opened_lines(logs)
        assert "installation" in line["error"] and "GITHUB_APP_INSTALLATION_ID" in line["error"]
        github.installation = "installed"
        mono.advance(RESET_S)
        await guard.probe()
        assert guard.breaker.state is BreakerState.CLOSED
        assert (await guard.apply(effect())).ref is not None
    assert len(github.issues()) == 1


async def test_an_installation_suspended_under_a_live_token_holds_the_message(
    github: AccessGitHub,
    mono: FakeClock,
    wall: FakeClock,
    app_keys: tuple[str, str],
    logs: list[MutableMapping[str, Any]],
) -> None:
    """Suspended while its installation token still lives: every call's 403 "This installation
    has been suspended" is no refusal of the ticket but of us: held, one line."""
    async with guarded(github, mono, wall, app=True, app_pem=app_keys[0]) as guard:
        await guard.apply(effect(key="a"))
        github.installation = "suspended"
        await held(guard, alert=incident(2), key="b")
        assert len(opened_lines(logs)) == 1
    assert len(github.issues()) == 1


@pytest.mark.parametrize(
    ("access", "status"),
    [("hidden", 404), ("read_only_access", 403), ("issues_off", 410)],
)
async def test_a_repository_out_of_reach_holds_the_message_until_access_is_given(
    github: AccessGitHub,
    mono: FakeClock,
    wall: FakeClock,
    logs: list[MutableMapping[str, Any]],
    access: str,
    status: int,
) -> None:
    """GITHUB_REPOSITORY, the only repository, which the token may not see (404), may not
    write (403 "Resource not accessible by integration") or whose issues are off (410): our
    credentials reach nothing, so the message waits behind an open breaker naming the
    repository, and the issue opens once access is given."""
    getattr(github, access).add(REPO)
    async with guarded(github, mono, wall, app=False) as guard:
        await held(guard)
        (line,) = opened_lines(logs)
        assert REPO in line["error"] and str(status) in line["error"]
        mono.advance(RESET_S)
        await guard.probe()  # still out of reach: open again, no issue anywhere
        assert guard.breaker.state is BreakerState.OPEN
        getattr(github, access).discard(REPO)
        # A read shows at once that a hidden repository is back; a write refused is believed
        # for a while, as only a write can show it is allowed again.
        mono.advance(UNREACHABLE_RECHECK_S if status == 403 else RESET_S)
        await guard.probe()
        assert guard.breaker.state is BreakerState.CLOSED
        assert (await guard.apply(effect())).ref is not None
    assert len(github.issues(REPO)) == 1 and github.issues(OTHER) == []


@pytest.mark.parametrize("default", [REPO, None], ids=["default-reads", "another-took-one"])
@pytest.mark.parametrize(
    ("access", "status"),
    [("hidden", 404), ("read_only_access", 403), ("issues_off", 410)],
)
async def test_one_routes_repository_out_of_reach_costs_only_its_own_messages(
    github: AccessGitHub,
    mono: FakeClock,
    wall: FakeClock,
    logs: list[MutableMapping[str, Any]],
    access: str,
    status: int,
    default: str | None,
) -> None:
    """A route's repository that refuses us while another reads (GITHUB_REPOSITORY, or one
    that took an issue lately): that route's mistake, not our credentials'. Its message is
    retried (SinkUnreachableError, `no_access`, naming the repository) and the breaker stays
    closed, so every other route's issues still open; once access is given, it opens too."""
    getattr(github, access).add(OTHER)
    async with guarded(github, mono, wall, app=False, default=default) as guard:
        if default is None:
            assert (await guard.apply(effect(key="first", target=Target(repository=REPO)))).ref
        for _ in range(6):  # past the breaker's threshold of 5
            with pytest.raises(SinkUnreachableError) as caught:
                await guard.apply(effect(key="other", target=Target(repository=OTHER)))
        assert caught.value.reason == "no_access"
        assert OTHER in str(caught.value) and str(status) in str(caught.value)
        assert guard.breaker.state is BreakerState.CLOSED and opened_lines(logs) == []
        assert (await guard.apply(effect(key="ok", target=Target(repository=REPO)))).ref
        getattr(github, access).discard(OTHER)
        assert (await guard.apply(effect(key="other", target=Target(repository=OTHER)))).ref
    assert len(github.issues(OTHER)) == 1


def wait_until(condition: Callable[[], bool], what: str, daemon: Daemon) -> None:
    """Wait (60 s at most) until `condition` holds, failing with the daemon's log if not."""
    deadline = time.monotonic() + 60
    while not condition():
        assert time.monotonic() < deadline, f"{what}\n{daemon.log}"
        assert daemon.process.poll() is None, daemon.log
        time.sleep(0.1)


def test_the_daemon_keeps_the_messages_of_a_repository_out_of_reach_on_the_queue(
    queues: Queues, tmp_path: Path
) -> None:
    """Through the daemon (maxReceiveCount 2): while GITHUB_REPOSITORY answers 404 to our
    token, the alerts wait on the queue behind the open breaker (one warning, none in the
    DLQ); once access is given, each gets its one issue and the queue drains."""
    github = AccessGitHub(tokens={BOT_TOKEN: "triage-bot"}, repositories=(REPO,))
    github.hidden.add(REPO)
    with github:
        settings = settings_for(
            queues,
            "http://127.0.0.1:9",
            tmp_path / "triage.db",
            sinks="github",
            github_token=BOT_TOKEN,
            github_repository=REPO,
            github_api_url=github.url,
            sink_breaker_reset_s=0.5,
        )
        keys = [f"job-{i}" for i in range(3)]
        queues.send(*({"title": f"{k} failed", "dedup_key": k, "priority": "P2"} for k in keys))
        daemon = Daemon(settings, log_dir=tmp_path)

        def names() -> list[str]:
            return [e["event"] for e in daemon.events()]

        try:
            wait_until(lambda: "breaker.opened" in names(), "the breaker never opened", daemon)
            refusals = len([c for c in github.calls if c["status"] == 404])
            wait_until(
                lambda: len([c for c in github.calls if c["status"] == 404]) > refusals + 1,
                "the probe never asked again",
                daemon,
            )
            assert queues.dead_letters() == []
            github.hidden.discard(REPO)
            wait_until(lambda: len(github.issues()) == len(keys), "no issues", daemon)
            wait_until(lambda: queues.depth() == 0, "the queue did not drain", daemon)
            daemon.signal(signal.SIGTERM)
            assert daemon.wait(timeout=30) == 0, daemon.log
        finally:
            daemon.kill()
    assert queues.dead_letters() == []
    assert names().count("breaker.opened") == 1
    assert "message.rejected" not in names()


async def test_an_issue_in_a_repository_out_of_reach_is_not_taken_for_deleted(
    github: AccessGitHub,
    mono: FakeClock,
    wall: FakeClock,
    logs: list[MutableMapping[str, Any]],
) -> None:
    """An update whose issue answers 404 because the whole repository does (the token lost
    it, the App's repositories changed) is skipped with one warning naming the repository,
    and the ticket is not marked gone: once access is back, the close still closes it."""
    async with guarded(github, mono, wall, app=False) as guard:
        ref = (await guard.apply(effect(key="open"))).ref
        github.hidden.add(REPO)
        applied = await guard.apply(effect(EffectKind.UPDATE, ref, "update"))
        assert applied.skipped is not None and not applied.gone
        github.hidden.discard(REPO)
        await guard.apply(effect(EffectKind.CLOSE, ref, "close"))
    (issue,) = github.issues()
    assert issue["state"] == "closed"
    (line,) = [e for e in logs if e["event"] == "github.repository_out_of_reach"]
    assert line["repository"] == REPO and line["log_level"] == "warning"
    assert [e for e in logs if e["event"] == "github.issue_gone"] == []


#: What `triage check` says of GITHUB_REPOSITORY's issues refused, per refusal (its test:
#: `test_check_github.py`): the refusal and what to do.
CHECK_SAYS = {
    "hidden": "GitHub hides a private repository from credentials without access to it",
    "issues_off": "turn the repository's issues on",
}


async def outage_then(guard: GuardedSink, github: AccessGitHub, mono: FakeClock) -> None:
    """Open the breaker by an outage (502 to every call), then end the outage and let the
    breaker's reset time pass."""
    github.fail_next(50, 502)
    await held(guard)
    github.recover()
    mono.advance(RESET_S)


@pytest.mark.parametrize("access", ["hidden", "issues_off"])
async def test_the_breaker_probe_names_a_refused_github_repository_as_check_does(
    github: AccessGitHub,
    mono: FakeClock,
    wall: FakeClock,
    logs: list[MutableMapping[str, Any]],
    access: str,
) -> None:
    """The breaker open (an outage), then GITHUB_REPOSITORY, the only repository, refusing
    the probe's read (404 hidden, 410 issues off): the probe keeps the breaker open (our
    credentials reach nothing) and its error is `triage check`'s line, the refusal and what to
    do, said once at warning however many probes ask, never the bare answer; once access is
    given the probe closes the breaker."""
    async with guarded(github, mono, wall, app=False) as guard:
        await outage_then(guard, github, mono)
        getattr(github, access).add(REPO)
        for _ in range(3):
            await guard.probe()
            assert guard.breaker.state is BreakerState.OPEN
            mono.advance(RESET_S)
        getattr(github, access).discard(REPO)
        await guard.probe()
        assert guard.breaker.state is BreakerState.CLOSED
    probed = [e for e in logs if e["event"] in ("sink.probe_failed", "sink.probe_answered")]
    assert [e["event"] for e in probed] == ["sink.probe_failed"] * 3
    assert all(CHECK_SAYS[access] in e["error"] and REPO in e["error"] for e in probed)
    (said,) = [e for e in logs if e["log_level"] == "warning" and e["event"] != "breaker.opened"]
    assert said["event"] == "github.repository_refused" and said["repository"] == REPO
    assert CHECK_SAYS[access] in said["error"]


async def test_a_refused_github_repository_while_another_takes_issues_does_not_hold_the_rest(
    github: AccessGitHub,
    mono: FakeClock,
    wall: FakeClock,
    logs: list[MutableMapping[str, Any]],
) -> None:
    """GITHUB_REPOSITORY refusing the probe's read while a route's repository took an issue
    lately: our credentials work, so the probe closes the breaker (the other routes' issues
    go on) and says GITHUB_REPOSITORY's refusal once at warning with what to do."""
    async with guarded(github, mono, wall, app=False) as guard:
        assert (await guard.apply(effect(key="first", target=Target(repository=OTHER)))).ref
        await outage_then(guard, github, mono)
        github.hidden.add(REPO)
        await guard.probe()
        assert guard.breaker.state is BreakerState.CLOSED
        assert (await guard.apply(effect(key="next", target=Target(repository=OTHER)))).ref
        for _ in range(2):
            await guard.probe()
    said = [e for e in logs if e["event"] == "github.repository_refused"]
    assert len(said) == 1 and said[0]["log_level"] == "warning"
    assert CHECK_SAYS["hidden"] in said[0]["error"] and said[0]["repository"] == REPO
