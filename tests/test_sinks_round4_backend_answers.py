"""Round 4 faults, the backend's answers: a redirect on a later-effect route is that route's
trouble (transient, the breaker not told), not the backend down; and a 2xx whose body says the
call failed (API Gateway's errorMessage, GraphQL errors, ok/success false, JSend's status) is
retried, not recorded. In-memory: httpx2's MockTransport scripts the backend."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

import httpx2
import pytest
import structlog

from factories import view
from triage.breaker import BreakerState, CircuitBreaker
from triage.errors import SinkUnavailableError, TransientError
from triage.models import Alert, EffectKind, Priority, Status, Ticket
from triage.secrets import BackendToken
from triage.settings import Settings
from triage.sinks.backend import BackendSink
from triage.sinks.base import Effect
from triage.sinks.guard import GuardedSink

ALERT = Alert(
    source="generic",
    status=Status.FIRING,
    title="orders-db replication lag",
    team="data",
    priority=Priority.HIGH,
    occurred_at=datetime(2026, 11, 23, 3, tzinfo=UTC),
    identity={"dedup_key": "lag"},
)
TICKET = Ticket(title="Replication lag", priority=Priority.HIGH, description="lag 90 s")
BASE = "http://backend.test"
ROUTES: dict[str, Any] = {
    "backend_base_url": BASE,
    "backend_service_route": "/tickets",
    "backend_update_route": "/tickets/{ref}/events",
    "backend_resolve_route": "/tickets/{ref}/resolve",
}


@pytest.fixture(autouse=True)
def backend_token(monkeypatch: pytest.MonkeyPatch) -> None:
    """The backend sink's token, from the environment as the daemon reads it."""
    monkeypatch.setenv("BACKEND_TOKEN", "round4-answers-token")


def opening(key: str = "fp:1") -> Effect:
    return Effect(EffectKind.OPEN, ALERT.fingerprint, view(ALERT), TICKET, None, 1, 1, False, key)


def later(kind: EffectKind, ref: str, key: str) -> Effect:
    return replace(opening(key), kind=kind, ref=ref)


Handler = Callable[[httpx2.Request], httpx2.Response]


@asynccontextmanager
async def backend(handle: Handler) -> AsyncIterator[BackendSink]:
    settings = Settings(**ROUTES)
    sink = BackendSink(settings, BackendToken(settings), transport=httpx2.MockTransport(handle))
    try:
        yield sink
    finally:
        await sink.aclose()


def creating_then(later_answer: httpx2.Response) -> Handler:
    """A backend whose create route makes T-1, T-2 …, whose OPTIONS answers 204 and whose
    later-effect routes answer `later_answer`."""
    made = 0

    def handle(request: httpx2.Request) -> httpx2.Response:
        nonlocal made
        if request.method == "OPTIONS":
            return httpx2.Response(204)
        if request.url.path == "/tickets":
            made += 1
            return httpx2.Response(201, json={"id": f"T-{made}"})
        return later_answer

    return handle


# --- A later-effect route that redirects ----------------------------------------------------------


@pytest.mark.parametrize("status", [301, 302, 307, 308])
@pytest.mark.parametrize("kind", [EffectKind.UPDATE, EffectKind.CLOSE, EffectKind.REOPEN])
async def test_a_redirecting_later_route_fails_its_effect_without_opening_the_breaker(
    status: int, kind: EffectKind
) -> None:
    """A later-effect route the backend redirects fails that effect as transient
    (`redirected`, no SinkUnavailableError), so the guard's breaker stays closed and new
    tickets go on being created."""
    moved = httpx2.Response(status, headers={"Location": "/tickets/T-1/events/"})
    async with backend(creating_then(moved)) as inner:
        guarded = GuardedSink(inner, CircuitBreaker("sink:backend", 2, 30))
        first = await guarded.apply(opening())
        assert first.ref is not None
        for n in range(3):
            with pytest.raises(TransientError) as caught:
                await guarded.apply(later(kind, first.ref, f"fp:u{n}"))
            assert not isinstance(caught.value, SinkUnavailableError)
            assert caught.value.reason == "redirected"
        assert guarded.breaker.state is BreakerState.CLOSED
        assert (await guarded.apply(opening("other:1"))).ref == "T-2"


async def test_a_redirecting_later_route_is_named_once_at_error() -> None:
    """The route that redirects is named in one `backend.route_redirected` error line (its
    setting and where it points, never a query), however many effects it fails."""
    moved = httpx2.Response(308, headers={"Location": "/tickets/T-1/events/?token=sekrit"})
    async with backend(creating_then(moved)) as sink:
        first = await sink.apply(opening())
        assert first.ref is not None
        with structlog.testing.capture_logs() as logs:
            for n in range(3):
                with pytest.raises(TransientError):
                    await sink.apply(later(EffectKind.UPDATE, first.ref, f"fp:u{n}"))
    lines = [e for e in logs if e["event"] == "backend.route_redirected"]
    assert len(lines) == 1 and lines[0]["log_level"] == "error"
    assert lines[0]["setting"] == "TRIAGE_BACKEND_UPDATE_ROUTE"
    assert "sekrit" not in json.dumps(lines, default=str)


async def test_a_redirecting_create_route_still_holds_as_the_backend_unusable() -> None:
    """The create route redirecting is BACKEND_BASE_URL (or the route) wrong for every new
    ticket: SinkUnavailableError `redirected`, as before, which the breaker counts."""

    def handle(request: httpx2.Request) -> httpx2.Response:
        return httpx2.Response(301, headers={"Location": "https://backend.test/tickets"})

    async with backend(handle) as sink:
        with pytest.raises(SinkUnavailableError) as caught:
            await sink.apply(opening())
    assert caught.value.reason == "redirected"


# --- A 2xx that says it failed --------------------------------------------------------------------

#: 2xx bodies that say the call failed and name no ticket.
FAILED_IN_BODY: list[dict[str, Any]] = [
    {"errorMessage": "Task timed out after 3.00 seconds", "errorType": "Sandbox.Timedout"},
    {"data": None, "errors": [{"message": "database is locked"}]},
    {"ok": False, "error": "database_unavailable"},
    {"success": False, "message": "could not create the ticket"},
    {"status": "error", "message": "backend overloaded"},
    {"status": "fail", "data": {"title": "required"}},
]


def answering(status: int, body: Any) -> Handler:
    return lambda request: httpx2.Response(status, json=body)


@pytest.mark.parametrize("body", FAILED_IN_BODY)
@pytest.mark.parametrize("status", [200, 201])
async def test_a_create_whose_2xx_says_it_failed_is_retried(status: int, body: Any) -> None:
    """A create answered 2xx whose body says it failed, naming no ticket, is retried
    (SinkUnavailableError `bad_response`) under its Idempotency-Key, not recorded as a ticket
    named by that key."""
    async with backend(answering(status, body)) as sink:
        with pytest.raises(SinkUnavailableError) as caught:
            await sink.apply(opening())
    assert caught.value.reason == "bad_response"


async def test_a_failure_in_a_2xx_body_is_named_by_its_code_never_its_text() -> None:
    """The error names the marker and the backend's short error code, never free text the
    body quotes (which may be the ticket we sent)."""
    body = {"ok": False, "error": "database_unavailable", "detail": "title: orders-db lag <b>"}
    async with backend(answering(200, body)) as sink:
        with pytest.raises(SinkUnavailableError) as caught:
            await sink.apply(opening())
    assert "database_unavailable" in str(caught.value)
    assert "orders-db" not in str(caught.value)


@pytest.mark.parametrize(
    "body",
    [
        pytest.param({"id": "T-9", "errors": [{"message": "webhook to chat failed"}]}, id="id"),
        pytest.param({"ok": True, "id": "T-9"}, id="ok-true"),
        pytest.param({"status": "created", "id": "T-9"}, id="status-created"),
        pytest.param({"errors": []}, id="no-errors"),
        pytest.param({"success": True}, id="success-true"),
    ],
)
async def test_a_2xx_that_names_its_ticket_or_no_failure_is_done(body: Any) -> None:
    """A 2xx that names its ticket (whatever else it lists), or says no failure, is a
    created ticket, as before."""
    async with backend(answering(201, body)) as sink:
        applied = await sink.apply(opening("fp:key"))
    assert applied.ref in ("T-9", "fp:key")


@pytest.mark.parametrize("body", FAILED_IN_BODY)
@pytest.mark.parametrize("kind", [EffectKind.UPDATE, EffectKind.CLOSE, EffectKind.REOPEN])
async def test_a_later_effect_whose_2xx_says_it_failed_is_retried(
    kind: EffectKind, body: Any
) -> None:
    """An update, reopen or close answered 2xx whose body says it failed is retried, not
    taken as done (the ticket would miss its update, or stay open)."""
    async with backend(creating_then(httpx2.Response(200, json=body))) as sink:
        first = await sink.apply(opening())
        assert first.ref is not None
        with pytest.raises(SinkUnavailableError) as caught:
            await sink.apply(later(kind, first.ref, "fp:u1"))
    assert caught.value.reason == "bad_response"
