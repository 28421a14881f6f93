"""Ticket-backend sink and configuration mistakes found in round 13 (helper 444): each is
refused at start-up with one line naming the setting and what is wrong (never the secret it
may hold), or handled as the service meant its answer."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import pytest
from aiohttp import web

from factories import view
from triage.breaker import BreakerState, CircuitBreaker
from triage.errors import ConfigError, SinkThrottledError, SinkUnavailableError
from triage.health import Health
from triage.models import Alert, EffectKind, Priority, Status, Ticket
from triage.routes import load_router, require_github_repository
from triage.secrets import BackendToken
from triage.settings import Settings, load_settings
from triage.sinks.backend import BackendSink
from triage.sinks.base import Effect, ProbeCantTell
from triage.sinks.guard import Backpressure, GuardedSink

#: A function key as Azure Functions and some gateways take it, in the query: a credential.
FUNCTION_KEY = "s3cr3tFunctionKeyValue"


# --- BACKEND_BASE_URL that no route can be appended to --------------------------------------


@pytest.mark.parametrize(
    ("base_url", "said"),
    [
        (f"https://tickets.example/?code={FUNCTION_KEY}", "query"),
        (f"https://tickets.example/api?code={FUNCTION_KEY}", "query"),
        (f"https://tickets.example/#{FUNCTION_KEY}", "fragment"),
        ("https://tickets example", "http:// or https:// URL"),
        ("https://tickets.example/my tickets", "http:// or https:// URL"),
    ],
)
def test_a_base_url_no_route_can_follow_is_refused_when_the_sink_is_built(
    monkeypatch: pytest.MonkeyPatch, base_url: str, said: str
) -> None:
    """BACKEND_BASE_URL with a query or fragment had the route appended inside it (every
    ticket POSTed to `/?code=…/api/service/tickets`, the key logged with the URL), and one
    with a space made every call a network error forever; both are refused at start-up,
    naming the setting and never the query's value."""
    monkeypatch.setenv("BACKEND_TOKEN", "token-for-the-test-0123456789")
    settings = Settings(backend_base_url=base_url)
    with pytest.raises(ConfigError) as caught:
        BackendSink(settings, BackendToken(settings))
    message = str(caught.value)
    assert message.startswith("BACKEND_BASE_URL"), message
    assert said in message, message
    assert FUNCTION_KEY not in message, message


@pytest.mark.parametrize(
    "base_url",
    ["https://tickets.example", "https://tickets.example/prefix/", "http://[::1]:4000"],
)
def test_base_urls_with_a_path_prefix_or_ipv6_literal_stay_accepted(
    monkeypatch: pytest.MonkeyPatch, base_url: str
) -> None:
    """A base URL with a path the routes follow, or an IPv6 literal, is still taken."""
    monkeypatch.setenv("BACKEND_TOKEN", "token-for-the-test-0123456789")
    settings = Settings(backend_base_url=base_url)
    BackendSink(settings, BackendToken(settings))


# --- GitHub as a sink with no repository to open issues in ----------------------------------


def _routes_file(tmp_path: Path, text: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """Write `text` as the routes file TRIAGE_ROUTES_FILE names."""
    path = tmp_path / "routes.toml"
    path.write_text(text, encoding="utf-8")
    monkeypatch.setenv("TRIAGE_ROUTES_FILE", str(path))


def test_github_in_triage_sinks_without_github_repository_is_refused(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """TRIAGE_SINKS=github without GITHUB_REPOSITORY started, then refused every issue at
    run time ("no GitHub repository") and dead-lettered every alert; refused at start-up,
    naming both settings."""
    monkeypatch.setenv("TRIAGE_SINKS", "backend,github")
    settings = load_settings()
    with pytest.raises(ConfigError) as caught:
        require_github_repository(load_router(settings), settings)
    message = str(caught.value)
    assert message.startswith("GITHUB_REPOSITORY"), message
    assert "TRIAGE_SINKS" in message, message


def test_a_route_to_github_without_a_repository_is_refused_naming_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A route sending to GitHub without `[route.github] repository`, and no GITHUB_REPOSITORY
    to fall back on, is refused at start-up naming the route, not found per alert."""
    _routes_file(
        tmp_path,
        '[[route]]\nname = "web"\nsinks = ["github"]\n[route.github]\nrepository = "acme/web"\n'
        '[route.match]\nteam = "web"\n'
        '[[route]]\nname = "data"\nsinks = ["backend", "github"]\n[route.match]\nteam = "data"\n',
        monkeypatch,
    )
    settings = load_settings()
    with pytest.raises(ConfigError) as caught:
        require_github_repository(load_router(settings), settings)
    message = str(caught.value)
    assert message.startswith("GITHUB_REPOSITORY"), message
    assert "route 'data'" in message and "repository" in message, message


def test_github_routes_that_each_name_a_repository_need_no_github_repository(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Routes that all name their repository, with TRIAGE_SINKS not sending to GitHub, need no
    GITHUB_REPOSITORY; and with it set, any route may leave its repository out."""
    _routes_file(
        tmp_path,
        '[[route]]\nname = "web"\nsinks = ["github"]\n[route.github]\nrepository = "acme/web"\n'
        '[route.match]\nteam = "web"\n',
        monkeypatch,
    )
    settings = load_settings()
    require_github_repository(load_router(settings), settings)
    monkeypatch.setenv("TRIAGE_SINKS", "github")
    monkeypatch.setenv("GITHUB_REPOSITORY", "acme/ops")
    settings = load_settings()
    require_github_repository(load_router(settings), settings)


# --- A backend whose server does not implement OPTIONS (501) --------------------------------

ALERT = Alert(
    source="generic",
    status=Status.FIRING,
    title="orders api 5xx",
    team="orders",
    priority=Priority.HIGH,
    occurred_at=datetime(2026, 12, 6, 20, tzinfo=UTC),
    identity={"dedup_key": "orders-5xx"},
)
TICKET = Ticket(title="Orders API errors", priority=Priority.HIGH, description="5xx at 20%")
THRESHOLD = 2
RESET_S = 30.0


def opening(key: str) -> Effect:
    """An OPEN effect under the idempotency key `key`."""
    return Effect(EffectKind.OPEN, ALERT.fingerprint, view(ALERT), TICKET, None, 1, 1, False, key)


@dataclass
class NoOptionsBackend:
    """A ticket backend on 127.0.0.1 whose server answers OPTIONS 501, as Python's
    http.server and other servers do for a method no handler implements; POSTs get
    `post_status` (503 while it is down, 201 with a ticket id once it is back)."""

    post_status: int = 503
    posts: int = 0
    url: str = ""

    async def handle(self, request: web.Request) -> web.Response:
        if request.method == "OPTIONS":
            return web.Response(status=501, text="Unsupported method ('OPTIONS')")
        self.posts += 1
        if self.post_status == 201:
            return web.json_response({"id": f"T-{self.posts}"}, status=201)
        return web.Response(status=self.post_status, text="down for a moment")


@asynccontextmanager
async def serving(backend: NoOptionsBackend) -> AsyncIterator[NoOptionsBackend]:
    """`backend` listening on 127.0.0.1 for the create route."""
    app = web.Application()
    app.router.add_route("*", "/api/service/tickets", backend.handle)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    backend.url = f"http://127.0.0.1:{runner.addresses[0][1]}"
    try:
        yield backend
    finally:
        await runner.cleanup()


@asynccontextmanager
async def guarded(url: str, now: list[float]) -> AsyncIterator[GuardedSink]:
    """The backend sink behind its breaker and guard, on the clock `now[0]`."""
    settings = Settings(backend_base_url=url)
    clock = lambda: now[0]  # noqa: E731
    breaker = CircuitBreaker("sink:backend", THRESHOLD, RESET_S, clock=clock)
    guard = GuardedSink(BackendSink(settings, BackendToken(settings)), breaker, clock=clock)
    try:
        yield guard
    finally:
        await guard.aclose()


async def deliver(guard: GuardedSink, key: str) -> str:
    """One message's OPEN as the worker makes it: `retried`, `held` or `done`."""
    try:
        await guard.apply(opening(key))
    except SinkUnavailableError:
        return "retried"
    except SinkThrottledError:
        return "held"
    return "done"


async def test_a_backend_that_does_not_implement_options_is_a_probe_that_cannot_tell(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A 501 to OPTIONS says the server does not implement the method, not that the backend
    is down: the probe cannot tell (one real call is the probe) rather than failing."""
    monkeypatch.setenv("BACKEND_TOKEN", "token-for-the-test-0123456789")
    async with serving(NoOptionsBackend(post_status=201)) as backend:
        settings = Settings(backend_base_url=backend.url)
        sink = BackendSink(settings, BackendToken(settings))
        try:
            answer = await sink.probe()
        finally:
            await sink.aclose()
    assert isinstance(answer, ProbeCantTell), answer
    assert "501" in answer


async def test_the_breaker_closes_once_a_backend_answering_501_to_options_is_back(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Behind a server that answers OPTIONS 501, one outage opened the breaker for good: every
    probe failed on the 501, intake stayed paused after the backend was back. Now the
    half-open breaker lets one real message through, and its success closes it."""
    monkeypatch.setenv("BACKEND_TOKEN", "token-for-the-test-0123456789")
    now = [0.0]
    async with serving(NoOptionsBackend()) as backend, guarded(backend.url, now) as guard:
        pressure = Backpressure([guard], Health())
        for n in range(THRESHOLD):
            await deliver(guard, f"fp:{n}")
        assert guard.breaker.state is not BreakerState.CLOSED
        backend.post_status = 201
        now[0] += RESET_S
        pressure.intake_limit()  # the receive loop asks: the sink's probe starts
        if guard._probe is not None:
            await guard._probe
        assert await deliver(guard, "fp:trial") == "done"
        assert guard.breaker.state is BreakerState.CLOSED
        assert await deliver(guard, "fp:next") == "done"


# --- A keep-alive connection the server closes as the next request arrives -----------------


class ClosingKeepAlive:
    """A ticket backend on 127.0.0.1 that keeps each connection open after its first answer
    and closes it, unanswered, when the next request comes on it: a server whose keep-alive
    timeout ran out as our request arrived (Node's and uvicorn's is 5 s, as our pool's)."""

    def __init__(self) -> None:
        self.keys: list[str] = []
        self.url = ""
        self._server: asyncio.Server | None = None

    async def __aenter__(self) -> ClosingKeepAlive:
        self._server = await asyncio.start_server(self._serve, "127.0.0.1", 0)
        port = self._server.sockets[0].getsockname()[1]
        self.url = f"http://127.0.0.1:{port}"
        return self

    async def __aexit__(self, *exc: object) -> None:
        assert self._server is not None
        self._server.close()
        await self._server.wait_closed()

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            answered = 0
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                fields = dict(
                    line.split(": ", 1) for line in head.decode().split("\r\n")[1:] if line
                )
                fields = {name.lower(): value for name, value in fields.items()}
                await reader.readexactly(int(fields.get("content-length", "0")))
                self.keys.append(fields["idempotency-key"])
                if answered:
                    return  # the keep-alive timeout ran out: closed, unanswered
                body = json.dumps({"id": f"T-{len(self.keys)}"}).encode()
                writer.write(
                    b"HTTP/1.1 201 Created\r\nContent-Type: application/json\r\n"
                    + f"Content-Length: {len(body)}\r\n\r\n".encode()
                    + body
                )
                await writer.drain()
                answered += 1
        except (asyncio.IncompleteReadError, ConnectionError):
            return
        finally:
            writer.close()


async def test_a_post_on_a_keep_alive_connection_the_server_closed_is_sent_again(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A create sent on a pooled connection the server closed as it arrived (no answer at all)
    failed as an outage: its message spent a receive and the breaker counted it. Its
    Idempotency-Key makes it safe to send again (RFC 9112 9.3.1; Go's client does), so it is
    sent again at once, on a new connection, and the ticket is made."""
    monkeypatch.setenv("BACKEND_TOKEN", "token-for-the-test-0123456789")
    async with ClosingKeepAlive() as backend:
        settings = Settings(backend_base_url=backend.url)
        sink = BackendSink(settings, BackendToken(settings))
        try:
            first = await sink.apply(opening("fp:first"))
            second = await sink.apply(opening("fp:second"))
        finally:
            await sink.aclose()
    assert first.ref == "T-1"
    assert second.ref == "T-3", second
    assert backend.keys == ["fp:first", "fp:second", "fp:second"]


# --- A sign-in proxy answering every request, OPTIONS too, with its login page --------------


@dataclass
class SignInProxy:
    """An SSO or egress proxy on 127.0.0.1 in front of the backend whose session lapsed: it
    answers every request, the probe's OPTIONS too, 200 with its sign-in page."""

    posts: int = 0
    url: str = ""

    async def handle(self, request: web.Request) -> web.Response:
        if request.method != "OPTIONS":
            self.posts += 1
        page = "<!doctype html><html><body><form>Sign in</form></body></html>"
        return web.Response(status=200, text=page, content_type="text/html")


async def test_a_sign_in_page_answering_everything_opens_the_breaker(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Behind a sign-in proxy that answers the probe's OPTIONS with its login page too (so
    the probe reads as up), the creates' web-page answers still open the breaker, and later
    messages are held, not retried into the DLQ."""
    monkeypatch.setenv("BACKEND_TOKEN", "token-for-the-test-0123456789")
    now = [0.0]
    proxy = SignInProxy()
    app = web.Application()
    app.router.add_route("*", "/api/service/tickets", proxy.handle)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    proxy.url = f"http://127.0.0.1:{runner.addresses[0][1]}"
    try:
        async with guarded(proxy.url, now) as guard:
            outcomes = [await deliver(guard, f"fp:{n}") for n in range(THRESHOLD + 3)]
            state = guard.breaker.state
    finally:
        await runner.cleanup()
    assert outcomes[THRESHOLD:] == ["held"] * 3, outcomes
    assert state is BreakerState.OPEN
