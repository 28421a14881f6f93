"""The backend sink against the loopback ticket backend over real HTTP (and httpx2's
MockTransport where only the answer's shape matters)."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import AsyncIterator, MutableMapping
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from typing import Any

import httpx2
import pytest
from aiobotocore.config import AioConfig

import hostile_server
from factories import view
from moto_speed import aws_session
from triage.breaker import BreakerState, CircuitBreaker
from triage.demo.ticketd import TicketServer
from triage.errors import ConfigError, SinkRejectedError, SinkThrottledError, SinkUnavailableError
from triage.metrics import Metrics
from triage.models import Alert, EffectKind, Priority, Status, Ticket
from triage.secrets import BackendToken
from triage.settings import Settings
from triage.sinks.backend import BackendSink
from triage.sinks.base import Effect, NotSent
from triage.sinks.guard import GuardedSink

ALERT = Alert(
    source="generic",
    status=Status.FIRING,
    title="orders-db backup failed",
    team="data",
    priority=Priority.HIGH,
    runbook_url="https://runbooks.example.com/backups",
    links={"dashboard": "https://grafana.example.com/d/db"},
    occurred_at=datetime(2026, 11, 23, 3, tzinfo=UTC),
    identity={"dedup_key": "backup"},
)
TICKET = Ticket(
    title="Backup failed",
    priority=Priority.HIGH,
    description="pg_dump exited 1",
    steps=("Read the log", "Re-run the backup"),
)
ROUTES: dict[str, Any] = {
    "backend_update_route": "/api/service/tickets/{ref}/updates",
    "backend_resolve_route": "/api/service/tickets/{ref}/resolve",
}


def effect(
    kind: EffectKind = EffectKind.OPEN,
    ref: str | None = None,
    key: str = "fp:1",
    alert: Alert = ALERT,
    flapping: bool = False,
) -> Effect:
    return Effect(kind, alert.fingerprint, view(alert), TICKET, ref, 3, 2, flapping, key)


@pytest.fixture(autouse=True)
def token_env(monkeypatch: pytest.MonkeyPatch, backend: TicketServer) -> None:
    monkeypatch.setenv("BACKEND_TOKEN", backend.token)


@asynccontextmanager
async def open_sink(
    url: str,
    *,
    token: BackendToken | None = None,
    transport: httpx2.AsyncBaseTransport | None = None,
    metrics: Metrics | None = None,
    **settings: Any,
) -> AsyncIterator[BackendSink]:
    s = Settings(backend_base_url=url, **settings)
    sink = BackendSink(s, token or BackendToken(s), metrics=metrics, transport=transport)
    try:
        yield sink
    finally:
        await sink.aclose()


@pytest.fixture
async def sink(backend: TicketServer) -> AsyncIterator[BackendSink]:
    async with open_sink(backend.url, **ROUTES) as s:
        yield s


def closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
    return port


async def test_open_posts_the_contract(sink: BackendSink, backend: TicketServer) -> None:
    """OPEN posts the ticket fields plus alert facts, with the bearer token and Idempotency-Key."""
    ref = (await sink.apply(effect())).ref
    [ticket] = backend.tickets
    assert ref == ticket["id"] == "T-1"
    assert ticket["headers"]["authorization"] == f"Bearer {backend.token}"
    assert ticket["headers"]["idempotency-key"] == "fp:1"
    assert ticket["headers"]["content-type"] == "application/json"
    assert ticket["body"] == {
        "title": "Backup failed",
        "priority": "high",
        "description": "pg_dump exited 1",
        "steps": ["Read the log", "Re-run the backup"],
        "fingerprint": ALERT.fingerprint,
        "source": "generic",
        "status": "firing",
        "team": "data",
        "runbook_url": "https://runbooks.example.com/backups",
        "links": {"dashboard": "https://grafana.example.com/d/db"},
    }


async def test_replayed_key_creates_no_second_ticket(
    sink: BackendSink, backend: TicketServer
) -> None:
    """Retrying an OPEN with the same idempotency key returns the same ticket and creates none
    (the stand-in counts the create it turned back)."""
    first = (await sink.apply(effect())).ref
    assert backend.replayed_creates == 0
    second = (await sink.apply(effect())).ref
    assert first == second == "T-1"
    assert len(backend.tickets) == 1
    assert backend.request_count == 2 and backend.replayed_creates == 1


@pytest.mark.parametrize(
    ("answer", "ref"),
    [
        ({"ticket_id": 42}, "42"),
        ({"ticketId": "OPS-7"}, "OPS-7"),
        ({"key": "INC-9", "id": None}, "INC-9"),
        ({"ok": True}, "fp:1"),
        ([1, 2], "fp:1"),
        ({"id": "T" * 257}, "fp:1"),  # too long to be an id
        ({"id": "T-1\nInjected: line"}, "fp:1"),  # controls
        ({"id": "not an id"}, "fp:1"),  # spaces
    ],
)
async def test_ticket_reference_from_the_answer(answer: Any, ref: str) -> None:
    """The reference is id, ticket_id, ticketId or key, else the idempotency key; a value
    that cannot be an id (over 256 characters, controls, spaces) is not taken."""
    transport = httpx2.MockTransport(lambda request: httpx2.Response(201, json=answer))
    async with open_sink("http://backend.test", transport=transport) as sink:
        assert (await sink.apply(effect())).ref == ref


async def test_non_json_success_falls_back_to_the_idempotency_key() -> None:
    """A 2xx answer that is not JSON (or is nested past the parser's stack) still opens the
    ticket, named by the idempotency key."""
    deep = b"[" * 100_000 + b"]" * 100_000
    for answer in (httpx2.Response(204), httpx2.Response(201, content=deep)):
        transport = httpx2.MockTransport(lambda request, answer=answer: answer)
        async with open_sink("http://backend.test", transport=transport) as sink:
            assert (await sink.apply(effect(key="fp:9"))).ref == "fp:9"


@pytest.mark.parametrize(
    "body",
    [b"", b"Created", b"\xff\xfe", b"[1, 2]", b'"T-1"', b'{"id": true}', b'{"id": 1e400}'],
    ids=["empty", "text", "bad-utf8", "list", "string", "bool-id", "huge-id"],
)
async def test_a_created_ticket_without_an_id_is_named_by_its_key_and_said(
    body: bytes, logs: list[MutableMapping[str, Any]]
) -> None:
    """A 2xx to a create whose body holds no usable id still opens the ticket (named by the
    idempotency key, stable across retries), and one warning line says the backend gave none."""
    created = hostile_server.answer(201, {"Content-Type": "application/json"}, body)
    async with hostile_server.hostile(created) as server, open_sink(server.url) as sink:
        assert (await sink.apply(effect(key="fp:9"))).ref == "fp:9"
    [line] = [e for e in logs if e["log_level"] != "debug"]
    assert line["event"] == "backend.no_ticket_id" and line["ref"] == "fp:9"


async def test_update_reopen_and_close_bodies(sink: BackendSink, backend: TicketServer) -> None:
    """UPDATE, REOPEN and CLOSE post their documented bodies to the routes, keyed per effect."""
    ref = (await sink.apply(effect())).ref
    assert ref is not None
    resolved = ALERT.model_copy(update={"status": Status.RESOLVED})
    assert (await sink.apply(effect(EffectKind.UPDATE, ref=ref, key="fp:2"))).ref is None
    assert (
        await sink.apply(effect(EffectKind.CLOSE, ref=ref, key="fp:3", alert=resolved))
    ).ref is None
    assert (
        await sink.apply(effect(EffectKind.REOPEN, ref=ref, key="fp:4", flapping=True))
    ).ref is None
    fp = ALERT.fingerprint
    assert [(e["id"], e["kind"], e["headers"]["idempotency-key"]) for e in backend.events] == [
        ("T-1", "updates", "fp:2"),
        ("T-1", "resolve", "fp:3"),
        ("T-1", "updates", "fp:4"),
    ]
    update, close, reopen = (e["body"] for e in backend.events)
    assert update == {
        "fingerprint": fp,
        "status": "firing",
        "occurrences": 3,
        "new_occurrences": 2,
        "flapping": False,
        "note": "2 more occurrence(s) since the last update, 3 in all",
    }
    assert close == {"fingerprint": fp, "status": "resolved", "note": f"Resolved: {ALERT.title}"}
    assert reopen == {
        "fingerprint": fp,
        "status": "firing",
        "occurrences": 3,
        "new_occurrences": 2,
        "flapping": True,
        "reopened": True,
        "note": f"Fired again: {ALERT.title}",
    }


async def test_ref_is_url_quoted_in_routes() -> None:
    """A reference with a slash or space is quoted into the route, not split into segments."""
    seen: list[str] = []

    def handler(request: httpx2.Request) -> httpx2.Response:
        seen.append(request.url.raw_path.decode())
        return httpx2.Response(200, json={})

    transport = httpx2.MockTransport(handler)
    async with open_sink("http://backend.test/", transport=transport, **ROUTES) as sink:
        await sink.apply(effect(EffectKind.CLOSE, ref="OPS/1 a"))
    assert seen == ["/api/service/tickets/OPS%2F1%20a/resolve"]


@pytest.mark.parametrize("ref", ["..", "."])
async def test_a_dot_segment_ref_stays_inside_its_route(ref: str) -> None:
    """A ticket id of `..` or `.` (a hostile create answer) is no id, and a stored one is sent
    escaped: put in the route as it is, it would be resolved away and the update or resolve
    would go, with our token, to another route of the backend."""
    seen: list[str] = []

    def handler(request: httpx2.Request) -> httpx2.Response:
        seen.append(request.url.raw_path.decode())
        return httpx2.Response(201, json={"id": ref})

    transport = httpx2.MockTransport(handler)
    async with open_sink("http://backend.test/", transport=transport, **ROUTES) as sink:
        assert (await sink.apply(effect(key="fp:9"))).ref == "fp:9"
        await sink.apply(effect(EffectKind.CLOSE, ref=ref))
    assert seen[1] == f"/api/service/tickets/{ref.replace('.', '%2E')}/resolve"


async def test_unconfigured_routes_are_skipped(
    backend: TicketServer, logs: list[MutableMapping[str, Any]]
) -> None:
    """UPDATE, REOPEN and CLOSE without routes return no ticket and the word `no route`, send
    nothing and log sink.skipped."""
    metrics = Metrics()
    async with open_sink(backend.url, metrics=metrics) as sink:
        for n, kind in enumerate((EffectKind.UPDATE, EffectKind.REOPEN, EffectKind.CLOSE)):
            applied = await sink.apply(effect(kind, ref="T-1", key=f"fp:{n + 2}"))
            assert (applied.ref, applied.why) == (None, NotSent.NO_ROUTE)
    assert backend.request_count == 0
    skipped = [e for e in logs if e["event"] == "sink.skipped"]
    assert [e["reason"] for e in skipped] == ["no route configured"] * 3
    assert metrics.counter("SinkCalls", sink="backend", outcome="skipped") == 3


@pytest.mark.parametrize("status", [500, 502, 503, 504, 408])
async def test_server_errors_are_transient(
    sink: BackendSink, backend: TicketServer, status: int
) -> None:
    """5xx and 408 raise SinkUnavailableError (the message is retried later)."""
    backend.fail_next(1, status=status)
    with pytest.raises(SinkUnavailableError, match=str(status)) as caught:
        await sink.apply(effect())
    assert caught.value.retry_after_s is None
    assert backend.tickets == []


@pytest.mark.parametrize(("status", "wait_s"), [(429, 5.0), (409, 2.0), (425, 2.0)])
async def test_waits_the_backend_asks_for_hold_the_message(
    sink: BackendSink, backend: TicketServer, status: int, wait_s: float
) -> None:
    """429, 409 (the same Idempotency-Key in flight) and 425 raise SinkThrottledError with a
    default wait: the message is held, not retried, and the breaker counts no failure."""
    backend.fail_next(1, status=status)
    with pytest.raises(SinkThrottledError, match=str(status)) as caught:
        await sink.apply(effect())
    assert caught.value.retry_after_s == wait_s
    assert backend.tickets == []


@pytest.mark.parametrize("status", [400, 403, 404, 422])
async def test_client_errors_are_permanent(
    sink: BackendSink, backend: TicketServer, status: int, logs: list[MutableMapping[str, Any]]
) -> None:
    """Other 4xx raise SinkRejectedError and log backend.rejected with the status and body."""
    backend.fail_next(1, status=status)
    with pytest.raises(SinkRejectedError, match=str(status)):
        await sink.apply(effect())
    [rejected] = [e for e in logs if e["event"] == "backend.rejected"]
    assert rejected["status"] == status
    assert "injected failure" in rejected["reason"]


async def test_retry_after_seconds_is_passed_on(sink: BackendSink, backend: TicketServer) -> None:
    """A 429 with `Retry-After: 17` becomes retry_after_s == 17."""
    backend.fail_next(1, status=429, retry_after="17")
    with pytest.raises(SinkThrottledError) as caught:
        await sink.apply(effect())
    assert caught.value.retry_after_s == 17


async def test_retry_after_http_date_is_passed_on(sink: BackendSink, backend: TicketServer) -> None:
    """A 503 with an HTTP-date Retry-After becomes the seconds until that date."""
    when = datetime.now(UTC) + timedelta(seconds=40)
    backend.fail_next(1, status=503, retry_after=format_datetime(when, usegmt=True))
    with pytest.raises(SinkUnavailableError) as caught:
        await sink.apply(effect())
    assert caught.value.retry_after_s is not None
    assert 35 <= caught.value.retry_after_s <= 40


async def test_unreachable_backend_is_transient() -> None:
    """A closed port is a SinkUnavailableError, not a crash."""
    async with open_sink(f"http://127.0.0.1:{closed_port()}") as sink:
        with pytest.raises(SinkUnavailableError, match="unreachable"):
            await sink.apply(effect())


async def test_dropped_connection_is_transient() -> None:
    """A backend that closes the connection without answering is a SinkUnavailableError."""

    async def hang_up(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.readuntil(b"\r\n\r\n")
        writer.close()

    server = await asyncio.start_server(hang_up, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    try:
        async with open_sink(f"http://127.0.0.1:{port}") as sink:
            with pytest.raises(SinkUnavailableError, match="unreachable"):
                await sink.apply(effect())
    finally:
        server.close()
        await server.wait_closed()


async def test_slow_backend_times_out_as_transient(backend: TicketServer) -> None:
    """A backend slower than TRIAGE_BACKEND_TIMEOUT_S is a SinkUnavailableError."""
    backend.delay_s = 1.0
    async with open_sink(backend.url, backend_timeout_s=0.2) as sink:
        with pytest.raises(SinkUnavailableError, match="Timeout"):
            await sink.apply(effect())


async def test_401_rereads_a_rotated_token_once(backend: TicketServer, moto_url: str) -> None:
    """After a rotation, a 401 makes the sink read the secret again and the retry succeeds."""
    session = aws_session()
    async with session.client("secretsmanager", endpoint_url=moto_url) as secrets:
        await secrets.create_secret(Name="backend", SecretString="old-token")
        settings = Settings(
            backend_base_url=backend.url, backend_token_secret_id="backend", **ROUTES
        )
        token = BackendToken(settings, secrets)
        assert await token.get() == "old-token"  # cached for the default TTL of 300 s
        await secrets.put_secret_value(SecretId="backend", SecretString=backend.token)
        async with open_sink(backend.url, token=token) as sink:
            assert (await sink.apply(effect())).ref == "T-1"
    assert backend.request_count == 2
    assert backend.tickets[0]["headers"]["authorization"] == f"Bearer {backend.token}"


async def test_401_twice_waits_without_leaking_the_token(
    backend: TicketServer,
    monkeypatch: pytest.MonkeyPatch,
    logs: list[MutableMapping[str, Any]],
) -> None:
    """A token refused twice is transient (`unauthorized`) after exactly one retry: no message
    can fix a wrong credential, so none goes to the DLQ for it; no log or error shows it."""
    monkeypatch.setenv("BACKEND_TOKEN", "wrong-token-xyz")
    async with open_sink(backend.url) as sink:
        with pytest.raises(SinkUnavailableError, match="401") as caught:
            await sink.apply(effect())
    assert caught.value.reason == "unauthorized"
    assert backend.request_count == 2
    assert "wrong-token-xyz" not in str(caught.value)
    assert "wrong-token-xyz" not in repr(logs)
    assert [e["event"] for e in logs] == ["backend.unauthorized", "backend.unauthorized"]


async def test_a_refused_token_holds_messages_until_another_can_be_read(
    backend: TicketServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A token refused twice is found by the probe too (the backend answers OPTIONS without
    asking for it): the guarded message is held and the breaker opens, rather than each
    message spending its receives towards the DLQ; once another token can be read, the probe
    passes and tickets flow again."""
    monkeypatch.setenv("BACKEND_TOKEN", "wrong-token-xyz")
    async with open_sink(backend.url) as sink:
        guarded = _guarded(sink)
        with pytest.raises(SinkThrottledError):
            await guarded.apply(effect())
        assert guarded.breaker.state is BreakerState.OPEN
        with pytest.raises(SinkUnavailableError, match="refused") as probed:
            await sink.probe()
        assert probed.value.reason == "unauthorized"
        assert "wrong-token-xyz" not in str(probed.value)
        monkeypatch.setenv("BACKEND_TOKEN", backend.token)  # the secret is fixed
        await sink.probe()
        assert (await sink.apply(effect())).ref == "T-1"


async def test_echoed_token_is_scrubbed_from_errors(
    backend: TicketServer, logs: list[MutableMapping[str, Any]]
) -> None:
    """A backend that echoes the Authorization header back does not put the token (nor any of
    a body that is no error code) in a log line or the error."""

    def handler(request: httpx2.Request) -> httpx2.Response:
        return httpx2.Response(500, text=f"bad header {request.headers['authorization']}")

    async with open_sink("http://backend.test", transport=httpx2.MockTransport(handler)) as sink:
        with pytest.raises(SinkUnavailableError) as caught:
            await sink.apply(effect())
    assert backend.token not in str(caught.value)
    assert backend.token not in repr(logs)
    assert "500" in str(caught.value) and "bad header" not in str(caught.value)


async def test_missing_token_makes_the_sink_unavailable(
    monkeypatch: pytest.MonkeyPatch, backend: TicketServer
) -> None:
    """With neither BACKEND_TOKEN nor a secret, the call is transient and names both settings."""
    monkeypatch.delenv("BACKEND_TOKEN")
    async with open_sink(backend.url) as sink:
        with pytest.raises(SinkUnavailableError, match="BACKEND_TOKEN or BACKEND_TOKEN_SECRET_ID"):
            await sink.apply(effect())
    assert backend.request_count == 0


async def test_outcomes_are_counted(backend: TicketServer) -> None:
    """Each HTTP outcome is counted as SinkCalls{sink=backend, outcome=…}."""
    metrics = Metrics()
    async with open_sink(backend.url, metrics=metrics) as sink:
        await sink.apply(effect())
        backend.fail_next(1, status=503)
        with pytest.raises(SinkUnavailableError):
            await sink.apply(effect(key="fp:2"))
        backend.fail_next(1, status=400)
        with pytest.raises(SinkRejectedError):
            await sink.apply(effect(key="fp:3"))
    outcomes = {
        o: metrics.counter("SinkCalls", sink="backend", outcome=o)
        for o in ("ok", "unavailable", "rejected")
    }
    assert outcomes == {"ok": 1, "unavailable": 1, "rejected": 1}


def test_base_url_without_scheme_is_a_config_error() -> None:
    """BACKEND_BASE_URL without http(s):// fails at startup instead of on every message."""
    settings = Settings(backend_base_url="localhost:4000")
    with pytest.raises(ConfigError, match="BACKEND_BASE_URL"):
        BackendSink(settings, BackendToken(settings))


# --- The breaker's view: an outage is confirmed by the probe before a message is blamed ---


def _guarded(sink: BackendSink, threshold: int = 5) -> GuardedSink:
    return GuardedSink(sink, CircuitBreaker("sink:backend", threshold, 30))


async def test_a_backend_found_down_by_its_probe_holds_a_lone_message(
    sink: BackendSink, backend: TicketServer
) -> None:
    """One failed call whose probe fails too (the backend is down, not this message's call)
    opens the breaker at once and holds the message: a lone alert no longer spends five
    receives, and reaches the DLQ, before five failures open the breaker."""
    backend.down = True
    guarded = _guarded(sink)
    with pytest.raises(SinkThrottledError, match="held until its probe") as held:
        await guarded.apply(effect())
    assert held.value.retry_after_s == 30
    assert guarded.breaker.state is BreakerState.OPEN


async def test_a_failure_the_probe_does_not_confirm_is_the_messages_own(
    sink: BackendSink, backend: TicketServer
) -> None:
    """A 503 for one ticket while the backend answers its probe is retried as the message's
    own failure (a poison payload still reaches the DLQ); the breaker only counts it."""
    backend.fail_next(5)
    guarded = _guarded(sink)
    with pytest.raises(SinkUnavailableError):
        await guarded.apply(effect())
    assert guarded.breaker.state is BreakerState.CLOSED


async def test_an_unreadable_token_keeps_the_backend_down_for_its_probe(
    backend: TicketServer,
) -> None:
    """With Secrets Manager unreachable, the probe fails though the backend answers OPTIONS,
    so the breaker does not close on a backend that cannot be used; the message is held and
    the backend gets nothing."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    session = aws_session()
    # One attempt: botocore's `max_attempts` here counts retries, each after a backoff.
    config = AioConfig(retries={"total_max_attempts": 1, "mode": "standard"}, connect_timeout=1)
    async with session.client(
        "secretsmanager", endpoint_url=f"http://127.0.0.1:{port}", config=config
    ) as secrets:
        settings = Settings(backend_base_url=backend.url, backend_token_secret_id="t", **ROUTES)
        async with open_sink(backend.url, token=BackendToken(settings, secrets), **ROUTES) as s:
            with pytest.raises(SinkUnavailableError, match="secret"):
                await s.probe()
            guarded = _guarded(s)
            with pytest.raises(SinkThrottledError):
                await guarded.apply(effect())
    assert guarded.breaker.state is BreakerState.OPEN
    assert backend.request_count == 0


@pytest.mark.parametrize("status", [301, 302, 307, 308])
async def test_a_redirecting_backend_is_a_wait_not_a_rejected_ticket(status: int) -> None:
    """A backend route that redirects (http for https, a moved host) is a misconfiguration no
    message can fix: the call is a failure to wait out (not followed: the token would go
    along), its probe finds the backend unusable, and the guarded message is held, not sent
    to the DLQ as a rejected ticket."""
    calls: list[str] = []

    def answer(request: httpx2.Request) -> httpx2.Response:
        calls.append(request.method)
        return httpx2.Response(status, headers={"Location": "https://elsewhere.test/x"})

    async with open_sink("http://backend.test", transport=httpx2.MockTransport(answer)) as sink:
        with pytest.raises(SinkUnavailableError, match="BACKEND_BASE_URL") as failed:
            await sink.apply(effect())
        assert failed.value.reason == "redirected"
        guarded = _guarded(sink)
        with pytest.raises(SinkThrottledError):
            await guarded.apply(effect())
    assert guarded.breaker.state is BreakerState.OPEN
    assert set(calls) == {"POST", "OPTIONS"}
