"""The backend sink against the loopback ticket backend over real HTTP."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime

import pytest

from daemon_harness import TOKEN
from triage.errors import ConfigError, SinkRejectedError, SinkUnavailableError
from triage.models import Alert, Priority, Status, Ticket
from triage.secrets import BackendToken
from triage.settings import Settings
from triage.sinks.backend import BackendSink
from triage.sinks.base import Effect, EffectKind
from triage.stubs.ticketd import TicketServer

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
    steps=("Read the log",),
)


def effect(kind: EffectKind = EffectKind.OPEN, ref: str | None = None, key: str = "fp:1") -> Effect:
    return Effect(kind, ALERT.fingerprint, ALERT, TICKET, ref, 3, 2, False, key)


@pytest.fixture(autouse=True)
def token_env(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("BACKEND_TOKEN", TOKEN)


async def _sink(url: str, **settings: object) -> AsyncIterator[BackendSink]:
    s = Settings(backend_base_url=url, **settings)  # type: ignore[arg-type]
    sink = BackendSink(s, BackendToken(s))
    yield sink
    await sink.aclose()


@pytest.fixture
async def sink(backend: TicketServer) -> AsyncIterator[BackendSink]:
    async for s in _sink(backend.url):
        yield s


async def test_open_posts_the_contract(sink: BackendSink, backend: TicketServer) -> None:
    """OPEN posts the ticket fields plus alert facts, with the bearer token and Idempotency-Key."""
    ref = await sink.apply(effect())
    [ticket] = backend.tickets
    assert ref == ticket["id"] == "T-1"
    assert ticket["headers"]["authorization"] == f"Bearer {TOKEN}"
    assert ticket["headers"]["idempotency-key"] == "fp:1"
    assert ticket["body"] == {
        "title": "Backup failed",
        "priority": "high",
        "description": "pg_dump exited 1",
        "steps": ["Read the log"],
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
    """Retrying an OPEN with the same idempotency key returns the same ticket and creates none."""
    first = await sink.apply(effect())
    second = await sink.apply(effect())
    assert first == second
    assert len(backend.tickets) == 1


@pytest.mark.parametrize("status", [500, 502, 503, 408, 429])
async def test_server_errors_are_transient(
    sink: BackendSink, backend: TicketServer, status: int
) -> None:
    """5xx, 408 and 429 raise SinkUnavailableError (the message is retried)."""
    backend.fail_next(1, status=status)
    with pytest.raises(SinkUnavailableError, match=str(status)):
        await sink.apply(effect())


@pytest.mark.parametrize("status", [400, 403, 404, 422])
async def test_client_errors_are_permanent(
    sink: BackendSink, backend: TicketServer, status: int
) -> None:
    """Other 4xx raise SinkRejectedError (the message goes to the DLQ)."""
    backend.fail_next(1, status=status)
    with pytest.raises(SinkRejectedError, match=str(status)):
        await sink.apply(effect())


async def test_retry_after_is_passed_on() -> None:
    """A Retry-After header (seconds or HTTP date) becomes the error's retry_after_s."""
    import httpx

    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(429, headers={"Retry-After": "17"}, text="slow down")

    s = Settings(backend_base_url="http://backend.invalid")
    sink = BackendSink(s, BackendToken(s), transport=httpx.MockTransport(handler))
    with pytest.raises(SinkUnavailableError) as caught:
        await sink.apply(effect())
    await sink.aclose()
    assert caught.value.retry_after_s == 17


async def test_unreachable_backend_is_transient() -> None:
    """A closed port is a SinkUnavailableError, not a crash."""
    async for sink in _sink("http://127.0.0.1:9"):
        with pytest.raises(SinkUnavailableError, match="unreachable"):
            await sink.apply(effect())


async def test_401_rereads_the_token_once(
    backend: TicketServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A 401 makes the sink read the token again and retry once, which succeeds after a rotation."""
    backend.fail_next(1, status=401)
    async for sink in _sink(backend.url):
        assert await sink.apply(effect()) == "T-1"
    assert backend.request_count == 2


async def test_unconfigured_update_route_is_skipped(
    sink: BackendSink, backend: TicketServer
) -> None:
    """UPDATE and CLOSE without routes are skipped cleanly: no request, no error."""
    assert await sink.apply(effect(EffectKind.UPDATE, ref="T-1", key="fp:2")) is None
    assert await sink.apply(effect(EffectKind.CLOSE, ref="T-1", key="fp:3")) is None
    assert backend.request_count == 0


async def test_configured_routes_receive_update_and_resolve(backend: TicketServer) -> None:
    """With routes set, UPDATE and CLOSE post to them with the ticket id substituted."""
    async for sink in _sink(
        backend.url,
        backend_update_route="/api/service/tickets/{ref}/updates",
        backend_resolve_route="/api/service/tickets/{ref}/resolve",
    ):
        ref = await sink.apply(effect())
        await sink.apply(effect(EffectKind.UPDATE, ref=ref, key="fp:2"))
        await sink.apply(effect(EffectKind.CLOSE, ref=ref, key="fp:3"))
    kinds = [(e["id"], e["kind"], e["body"]["status"]) for e in backend.events]
    assert kinds == [("T-1", "updates", "firing"), ("T-1", "resolve", "firing")]
    assert backend.events[0]["body"]["new_occurrences"] == 2
    assert backend.events[1]["headers"]["idempotency-key"] == "fp:3"


async def test_missing_token_is_a_config_error(
    monkeypatch: pytest.MonkeyPatch, backend: TicketServer
) -> None:
    """With neither BACKEND_TOKEN nor a secret, the error names both ways to set it."""
    monkeypatch.delenv("BACKEND_TOKEN")
    async for sink in _sink(backend.url):
        with pytest.raises(ConfigError, match="BACKEND_TOKEN"):
            await sink.apply(effect())
