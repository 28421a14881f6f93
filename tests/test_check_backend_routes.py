"""`triage check` asks the backend's update and resolve routes `OPTIONS` (which creates and
changes nothing) and warns about one that answers 404 or has no `{ref}`, against a loopback
ticket backend that answers OPTIONS as web frameworks do (404 on a path it has no route for)."""

from __future__ import annotations

import io
import re
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler
from pathlib import Path

import pytest

from triage.demo.ticketd import TicketServer
from triage.ops.check import run_checks
from triage.settings import Settings

TOKEN = "backend-token"


class FrameworkOptions(TicketServer):
    """ticketd, whose OPTIONS answers 204 only on a route it has (the create route and the
    per-ticket `updates` and `resolve` routes) and 404 elsewhere, and counts the requests
    that are not OPTIONS."""

    def __init__(self, token: str) -> None:
        self.writes = 0
        super().__init__(token)

    def _handler_class(self) -> type[BaseHTTPRequestHandler]:
        routes = re.compile(rf"{re.escape(self.route)}(/[^/]+/(updates|resolve))?")
        server = self
        base = super()._handler_class()

        class Handler(base):  # type: ignore[valid-type,misc]
            def do_OPTIONS(self) -> None:
                self._send(204 if routes.fullmatch(self.path) else 404, None)

            def do_POST(self) -> None:
                server.writes += 1
                super().do_POST()

        return Handler


@pytest.fixture
def backend(monkeypatch: pytest.MonkeyPatch) -> Iterator[FrameworkOptions]:
    monkeypatch.setenv("BACKEND_TOKEN", TOKEN)
    with FrameworkOptions(TOKEN) as server:
        yield server


async def backend_lines(backend: FrameworkOptions, tmp_path: Path, **routes: str) -> list[str]:
    """The `backend` lines `triage check` prints with these routes."""
    settings = Settings(
        store_url=f"sqlite:///{tmp_path}/t.db",
        sinks=("backend",),
        llm_provider="none",
        backend_base_url=backend.url,
        **routes,
    )
    out = io.StringIO()
    await run_checks(settings, out)
    return [line for line in out.getvalue().splitlines() if line.split()[1:2] == ["backend"]]


async def test_routes_the_backend_has_pass(backend: FrameworkOptions, tmp_path: Path) -> None:
    """Update and resolve routes the backend answers OPTIONS on are ok, and nothing is sent
    that could create or change a ticket."""
    lines = await backend_lines(
        backend,
        tmp_path,
        backend_update_route="/api/service/tickets/{ref}/updates",
        backend_resolve_route="/api/service/tickets/{ref}/resolve",
    )
    assert lines[-1].startswith("ok    backend  updates to /api/service/tickets/{ref}/updates")
    assert backend.writes == 0 and backend.tickets == []


async def test_a_route_answered_404_is_a_warning_naming_it(
    backend: FrameworkOptions, tmp_path: Path
) -> None:
    """An update route the backend answers 404 on is one warning naming its setting and route,
    and a resolve route without `{ref}` another, in the same line; still no write."""
    lines = await backend_lines(
        backend,
        tmp_path,
        backend_update_route="/tickets/{ref}/updates",
        backend_resolve_route="/api/service/tickets/resolve",
    )
    line = lines[-1]
    assert line.startswith("warn  backend  TRIAGE_BACKEND_UPDATE_ROUTE: OPTIONS /tickets/{ref}")
    assert "answered 404" in line
    assert "TRIAGE_BACKEND_RESOLVE_ROUTE (/api/service/tickets/resolve) has no {ref}" in line
    assert backend.writes == 0


class UpgradingOptions(FrameworkOptions):
    """FrameworkOptions, whose OPTIONS on an `updates` route answers 101 Switching Protocols
    (something in front of the backend that is not it)."""

    def _handler_class(self) -> type[BaseHTTPRequestHandler]:
        base = super()._handler_class()

        class Handler(base):  # type: ignore[valid-type,misc]
            def do_OPTIONS(self) -> None:
                if not self.path.endswith("/updates"):
                    super().do_OPTIONS()
                    return
                self.send_response(101)
                self.send_header("Upgrade", "websocket")
                self.send_header("Connection", "Upgrade")
                self.end_headers()
                self.close_connection = True

        return Handler


async def test_a_route_answered_with_an_upgrade_is_a_warning_naming_it(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """An update route answered 101 (an upgrade no one asked for, as the daemon's update would
    be: retried as the backend unwell, never delivered) is a warning naming its setting, not
    passed as a route the backend has."""
    monkeypatch.setenv("BACKEND_TOKEN", TOKEN)
    with UpgradingOptions(TOKEN) as backend:
        lines = await backend_lines(
            backend,
            tmp_path,
            backend_update_route="/api/service/tickets/{ref}/updates",
            backend_resolve_route="/api/service/tickets/{ref}/resolve",
        )
    line = lines[-1]
    assert line.startswith("warn  backend  TRIAGE_BACKEND_UPDATE_ROUTE: OPTIONS /api/service")
    assert "answered 101" in line
