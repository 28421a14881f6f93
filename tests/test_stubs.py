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


class _Raising(LoopbackServer):
    """A stand-in whose one route raises the error the test sets."""

    def __init__(self, error: Exception) -> None:
        self.error = error
        super().__init__()

    def _handler_class(self) -> type[KeepAliveHandler]:
        server = self

        class Handler(KeepAliveHandler):
            def do_GET(self) -> None:
                raise server.error

        return Handler


def _get_until_closed(url: str) -> None:
    """One GET over a raw socket, read until the server closes it (after its error handling)."""
    host, port = url.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=5) as conn:
        conn.sendall(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
        while conn.recv(4096):
            pass


def test_a_client_that_hung_up_prints_no_traceback(capsys: pytest.CaptureFixture[str]) -> None:
    """A stand-in writing to a client that left (BrokenPipeError, a reset) prints nothing: its
    thread's traceback would otherwise land in the output another test is reading."""
    for error in (BrokenPipeError(32, "Broken pipe"), ConnectionResetError(104, "reset")):
        with _Raising(error) as server:
            _get_until_closed(server.base_url)
    assert capsys.readouterr().err == ""


def test_any_other_error_in_a_stand_in_still_prints_its_traceback(
    capsys: pytest.CaptureFixture[str],
) -> None:
    """A real fault in a stand-in's handler (here a ValueError) is still printed."""
    with _Raising(ValueError("a bug in the stub")) as server:
        _get_until_closed(server.base_url)
    err = capsys.readouterr().err
    assert "Traceback" in err and "ValueError: a bug in the stub" in err
