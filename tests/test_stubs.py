"""What every loopback stand-in server shares (triage.demo.loopback)."""

from __future__ import annotations

import socket
import threading
from collections.abc import Callable

import httpx2
import pytest

from github_stub import GitHubServer
from triage.demo.loopback import KeepAliveHandler, LoopbackServer
from triage.demo.model import ChatServer
from triage.demo.ticketd import TicketServer

STUBS: dict[str, Callable[[], LoopbackServer]] = {
    "openai": ChatServer,
    "ticketd": lambda: TicketServer(token="T"),
    "github": GitHubServer,
}


@pytest.mark.parametrize("make", STUBS.values(), ids=STUBS.keys())
def test_stub_answers_on_a_kept_alive_connection_with_nagle_off(
    make: Callable[[], LoopbackServer],
) -> None:
    """Each stub keeps connections alive and sets TCP_NODELAY on them (else ~40 ms per answer)."""
    server = make()
    handler_class = server._httpd.RequestHandlerClass
    assert isinstance(handler_class, type) and issubclass(handler_class, KeepAliveHandler)
    seen: list[int] = []
    seen_lock = threading.Lock()
    handle = handler_class.setup

    def setup(handler: KeepAliveHandler) -> None:
        handle(handler)
        with seen_lock:
            seen.append(handler.connection.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY))

    handler_class.setup = setup  # type: ignore[method-assign,assignment]
    try:
        with server, httpx2.Client(base_url=server.base_url) as client:
            for _ in range(3):
                client.post("/no-such-route", json={})
    finally:
        del handler_class.setup
    assert len(seen) == 1, "three requests went over one kept-alive connection"
    assert seen[0] != 0
