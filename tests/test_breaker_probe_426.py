"""Task 426: the ticket backend's breaker is not closed by a gateway answering OPTIONS itself.

A gateway in front of the backend (API Gateway's CORS mock, nginx `return 204` on OPTIONS,
Envoy's CORS filter) answers the probe's OPTIONS while the backend behind it is down. Such an
answer proves nothing, so the guard lets one real message through as the probe instead of
closing on it: during the outage messages are held, not retried into the DLQ. Against
loopback servers on 127.0.0.1 and the real sinks, breaker and guard (and the daemon, with
moto's SQS and production's redrive). GitHub's probe, which may ask GitHub nothing, too.
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler
from pathlib import Path
from typing import Any

import httpx2
import pytest
from aiohttp import web

from daemon_harness import TOKEN, DaemonThread, make_queues, settings_for
from factories import view
from github_stub import GitHubServer
from triage.breaker import BreakerState, CircuitBreaker
from triage.demo.ticketd import TicketServer
from triage.errors import SinkThrottledError, SinkUnavailableError
from triage.health import Health
from triage.models import Alert, EffectKind, Priority, Status, Ticket
from triage.secrets import BackendToken
from triage.settings import Settings
from triage.sinks.backend import BackendSink
from triage.sinks.base import Effect, ProbeCantTell, Target
from triage.sinks.github import GitHubSink
from triage.sinks.guard import Backpressure, GuardedSink

ALERT = Alert(
    source="generic",
    status=Status.FIRING,
    title="payments api 5xx",
    team="payments",
    priority=Priority.HIGH,
    occurred_at=datetime(2026, 12, 6, 19, tzinfo=UTC),
    identity={"dedup_key": "api-5xx"},
)
TICKET = Ticket(title="Payments API errors", priority=Priority.HIGH, description="5xx at 30%")
THRESHOLD = 2
RESET_S = 30.0

#: The preflight answers gateways give on their own, whatever the backend behind them does.
CORS_MOCK = {
    "Access-Control-Allow-Origin": "*",
    "Access-Control-Allow-Methods": "OPTIONS,POST",
    "Access-Control-Allow-Headers": "Content-Type,Authorization",
}
GATEWAY_ANSWERS = [
    pytest.param(204, {}, id="nginx-return-204"),
    pytest.param(200, CORS_MOCK, id="api-gateway-cors-mock"),
    pytest.param(204, CORS_MOCK, id="envoy-cors-filter"),
]


@pytest.fixture(autouse=True)
def backend_token(monkeypatch: pytest.MonkeyPatch) -> None:
    """The backend sink's token, from the environment as the daemon reads it."""
    monkeypatch.setenv("BACKEND_TOKEN", "task-426-backend-token")


def effect(key: str) -> Effect:
    return Effect(EffectKind.OPEN, ALERT.fingerprint, view(ALERT), TICKET, None, 1, 1, False, key)


@dataclass
class Gateway:
    """A gateway on 127.0.0.1 that answers OPTIONS itself, and POSTs with the backend's answer
    (`post_status`: 503 while the backend is down)."""

    options_status: int
    options_headers: dict[str, str]
    post_status: int = 503
    posts: int = 0
    url: str = ""
    seen: list[str] = field(default_factory=list)

    async def handle(self, request: web.Request) -> web.Response:
        self.seen.append(request.method)
        if request.method == "OPTIONS":
            return web.Response(status=self.options_status, headers=self.options_headers)
        self.posts += 1
        if self.post_status == 201:
            return web.json_response({"id": f"T-{self.posts}"}, status=201)
        return web.Response(status=self.post_status, text="no healthy upstream")


@asynccontextmanager
async def serving(gateway: Gateway) -> AsyncIterator[Gateway]:
    app = web.Application()
    app.router.add_route("*", "/api/service", gateway.handle)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = runner.addresses[0][1]
    gateway.url = f"http://127.0.0.1:{port}"
    try:
        yield gateway
    finally:
        await runner.cleanup()


@asynccontextmanager
async def guarded_backend(url: str, now: list[float]) -> AsyncIterator[GuardedSink]:
    settings = Settings(backend_base_url=url, backend_service_route="/api/service")
    sink = BackendSink(settings, BackendToken(settings))
    clock = lambda: now[0]  # noqa: E731
    breaker = CircuitBreaker("sink:backend", THRESHOLD, RESET_S, clock=clock)
    guard = GuardedSink(sink, breaker, clock=clock)
    try:
        yield guard
    finally:
        await guard.aclose()


async def deliver(guard: GuardedSink, key: str) -> str:
    """One message's OPEN to the backend, as `deliver_to` says it went."""
    return await deliver_to(guard, effect(key))


async def deliver_to(guard: GuardedSink, opened: Effect) -> str:
    """One message's call as the worker makes it: `retried` (a receive spent), `held` (kept
    invisible, its receive count intact) or `done`."""
    try:
        await guard.apply(opened)
    except SinkUnavailableError:
        return "retried"
    except SinkThrottledError:
        return "held"
    return "done"


async def half_open_round(guard: GuardedSink, pressure: Backpressure, now: list[float]) -> None:
    """The reset time passes and the receive loop asks for its intake limit: the sink's own
    probe is started; wait for it to answer."""
    now[0] += RESET_S
    pressure.intake_limit()
    if guard._probe is not None:
        await guard._probe


@pytest.mark.parametrize(("status", "headers"), GATEWAY_ANSWERS)
async def test_a_gateways_own_options_answer_is_a_probe_that_cannot_tell(
    status: int, headers: dict[str, str]
) -> None:
    """The backend's probe says it cannot tell when OPTIONS is answered as a gateway answers
    it on its own (a CORS preflight answer, a bare 204)."""
    transport = httpx2.MockTransport(lambda request: httpx2.Response(status, headers=headers))
    settings = Settings(backend_base_url="http://backend.test")
    sink = BackendSink(settings, BackendToken(settings), transport=transport)
    try:
        answer = await sink.probe()
    finally:
        await sink.aclose()
    assert isinstance(answer, ProbeCantTell)
    assert "proves nothing" in answer


async def test_an_options_answer_from_the_backends_own_router_still_proves_it_up() -> None:
    """An OPTIONS answer naming the route's methods (`Allow`), with no CORS headers, is the
    backend's own router: the probe says it is up, as before."""
    transport = httpx2.MockTransport(
        lambda request: httpx2.Response(200, headers={"Allow": "OPTIONS, POST"})
    )
    settings = Settings(backend_base_url="http://backend.test")
    sink = BackendSink(settings, BackendToken(settings), transport=transport)
    try:
        answer = await sink.probe()
    finally:
        await sink.aclose()
    assert not isinstance(answer, ProbeCantTell)


@pytest.mark.parametrize(("status", "headers"), GATEWAY_ANSWERS)
async def test_an_outage_behind_a_gateway_answering_options_spends_no_more_receives(
    status: int, headers: dict[str, str]
) -> None:
    """While the backend behind a gateway answering OPTIONS is down, only the failures that
    open the breaker spend receives: every later half-open lets one real message through as
    the probe (held when it fails), so no message is retried into the DLQ."""
    now = [0.0]
    async with (
        serving(Gateway(status, headers)) as gateway,
        guarded_backend(gateway.url, now) as guard,
    ):
        pressure = Backpressure([guard], Health())
        outcomes = [await deliver(guard, f"fp:{n}") for n in range(THRESHOLD)]
        assert outcomes == ["retried"] * THRESHOLD
        assert guard.breaker.state is BreakerState.OPEN
        for cycle in range(4):
            await half_open_round(guard, pressure, now)
            posts_before = gateway.posts
            outcomes = [await deliver(guard, f"fp:{cycle}:{n}") for n in range(3)]
            assert outcomes == ["held"] * 3, f"cycle {cycle}"
            assert gateway.posts - posts_before == 1  # the one trial message
            assert guard.breaker.state is BreakerState.OPEN


@pytest.mark.parametrize(("status", "headers"), GATEWAY_ANSWERS)
async def test_the_trial_messages_success_closes_the_breaker_behind_a_gateway(
    status: int, headers: dict[str, str]
) -> None:
    """Once the backend is back, the half-open breaker's trial message creates its ticket and
    closes the breaker: intake resumes and the next messages go straight through."""
    now = [0.0]
    async with (
        serving(Gateway(status, headers)) as gateway,
        guarded_backend(gateway.url, now) as guard,
    ):
        pressure = Backpressure([guard], Health())
        for n in range(THRESHOLD):
            await deliver(guard, f"fp:{n}")
        gateway.post_status = 201
        await half_open_round(guard, pressure, now)
        assert await deliver(guard, "fp:trial") == "done"
        assert guard.breaker.state is BreakerState.CLOSED
        assert pressure.intake_limit() is None
        assert await deliver(guard, "fp:next") == "done"


# --- GitHub: a probe that asks GitHub nothing proves nothing either -------------------------

GITHUB_TOKEN = "ghp_task426" + "x" * 25
REPO = "acme/ops"


class FlakyGitHub(GitHubServer):
    """The GitHub stub on 127.0.0.1, answering every request 502 while `down`."""

    down = False

    def _route(
        self, method: str, path: str, query: dict[str, str], headers: dict[str, str], body: Any
    ) -> tuple[int, Any, dict[str, str]]:
        if self.down:
            return 502, {"message": "Server Error"}, {}
        return super()._route(method, path, query, headers, body)


@asynccontextmanager
async def guarded_github(github: FlakyGitHub, now: list[float]) -> AsyncIterator[GuardedSink]:
    """The GitHub sink with no GITHUB_REPOSITORY (each route names its repository)."""
    clock = lambda: now[0]  # noqa: E731
    settings = Settings(github_api_url=github.url, github_token=GITHUB_TOKEN)
    sink = GitHubSink(settings, clock=clock)
    breaker = CircuitBreaker("sink:github", THRESHOLD, RESET_S, clock=clock)
    guard = GuardedSink(sink, breaker, clock=clock)
    try:
        yield guard
    finally:
        await guard.aclose()


def issue(key: str) -> Effect:
    return replace(effect(key), target=Target(repository=REPO))


async def test_a_github_probe_that_asks_github_nothing_cannot_tell() -> None:
    """With no GITHUB_REPOSITORY, no repository to recheck and our login known, the GitHub
    probe sends no request: it says it cannot tell, not that GitHub is up."""
    now = [0.0]
    with FlakyGitHub(tokens={GITHUB_TOKEN: "triage-bot"}, repositories=(REPO,)) as github:
        async with guarded_github(github, now) as guard:
            assert (await guard.apply(issue("fp:up"))).ref is not None
            github.down = True
            answer = await guard.inner.probe()  # type: ignore[attr-defined]
    assert isinstance(answer, ProbeCantTell)


async def test_a_github_outage_spends_receives_only_to_open_the_breaker() -> None:
    """GitHub down (502 to everything) for a sink without GITHUB_REPOSITORY: after the
    failures that open its breaker, each half-open lets one message through as the probe
    (held when it fails), instead of a probe that asked nothing closing it every time."""
    now = [0.0]
    with FlakyGitHub(tokens={GITHUB_TOKEN: "triage-bot"}, repositories=(REPO,)) as github:
        async with guarded_github(github, now) as guard:
            pressure = Backpressure([guard], Health())
            assert await deliver_to(guard, issue("fp:up")) == "done"
            github.down = True
            outcomes = [await deliver_to(guard, issue(f"fp:{n}")) for n in range(THRESHOLD)]
            assert outcomes == ["retried"] * THRESHOLD
            for cycle in range(3):
                await half_open_round(guard, pressure, now)
                outcomes = [await deliver_to(guard, issue(f"fp:{cycle}:{n}")) for n in range(3)]
                assert outcomes == ["held"] * 3, f"cycle {cycle}"
            github.down = False
            await half_open_round(guard, pressure, now)
            assert await deliver_to(guard, issue("fp:back")) == "done"
            assert guard.breaker.state is BreakerState.CLOSED


# --- The daemon: a long outage behind a gateway dead-letters nothing -------------------------


class GatewayedTicketd(TicketServer):
    """The demo backend behind a gateway that answers OPTIONS itself (a CORS preflight answer,
    whatever the backend does) and, while the backend is `down`, answers its POSTs 503 with
    no Retry-After ("no healthy upstream")."""

    def __init__(self, token: str) -> None:
        super().__init__(token)
        #: POSTs answered 503 while the backend was down.
        self.failed_posts = 0

    def _post(self, path: str, headers: dict[str, str], raw: bytes) -> tuple[int, Any, str | None]:
        if self.down:
            with self._lock:
                self.failed_posts += 1
            return 503, {"message": "no healthy upstream"}, None
        return super()._post(path, headers, raw)

    def _handler_class(self) -> type[BaseHTTPRequestHandler]:
        backend = super()._handler_class()

        class Gateway(backend):  # type: ignore[valid-type,misc]
            def do_OPTIONS(self) -> None:
                self.send_response(204)
                for name, value in CORS_MOCK.items():
                    self.send_header(name, value)
                self.end_headers()

        return Gateway


def wait_for(condition: Callable[[], bool], timeout_s: float, what: str) -> None:
    """Wait until `condition` holds, polling, or fail naming `what`."""
    deadline = time.monotonic() + timeout_s
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.05)


def test_the_daemon_dead_letters_nothing_in_an_outage_behind_a_gateway_answering_options(
    moto_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A long backend outage behind a gateway answering OPTIONS itself, with the production
    redrive (DLQ after 5 receives): far more failed POSTs than the messages have receives
    pass without a message reaching the DLQ, and after recovery each gets one ticket."""
    monkeypatch.setenv("BACKEND_TOKEN", TOKEN)
    queues = make_queues(moto_url, max_receive_count=5)
    backend = GatewayedTicketd(TOKEN)
    backend.start()
    backend.down = True
    keys = [f"gateway-{n}" for n in range(3)]
    queues.send(*({"title": f"{k} failed", "source": "cron", "dedup_key": k} for k in keys))
    settings = settings_for(
        queues,
        backend.url,
        tmp_path / "triage.db",
        concurrency=3,
        sink_breaker_failures=3,
        sink_breaker_reset_s=0.2,
        retry_base_s=0,
        retry_max_s=0.2,
    )
    daemon = DaemonThread(settings)
    try:
        # Five receives each would be 15 failed POSTs: the fourth message's worth past that.
        wait_for(
            lambda: backend.failed_posts >= 20 or bool(queues.dead_letters()),
            90,
            "twenty failed POSTs (or a dead letter)",
        )
        assert queues.dead_letters() == []
        backend.down = False
        wait_for(lambda: len(backend.tickets) >= len(keys), 60, "every ticket after recovery")
        wait_for(lambda: queues.depth() == 0, 30, "the queue to empty")
        assert daemon.alive(), "the daemon died during the outage"
    finally:
        daemon.stop()
        backend.stop()
    posts = Counter(t["body"]["fingerprint"] for t in backend.tickets)
    assert len(posts) == len(keys) and set(posts.values()) == {1}
    assert queues.dead_letters() == []
