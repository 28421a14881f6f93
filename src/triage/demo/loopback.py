"""What every stand-in server shares: a threaded HTTP server on its own threads (usable from sync
and async code alike, never on the caller's event loop), started and stopped the same way."""

from __future__ import annotations

import contextlib
import socket
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Self


class _Server(ThreadingHTTPServer):
    # Handler threads of idle keep-alive connections must not keep the process alive.
    daemon_threads = True
    # The standard library's listen backlog is 5: a burst of connections would be refused.
    request_queue_size = 128

    def handle_error(self, request: object, client_address: object) -> None:
        # A client that hung up (its read timed out, it was cancelled, it was a test that moved
        # on) is routine for a stand-in: printing its traceback from this thread would land in
        # whatever output is being read at the time. Every other error still prints.
        if isinstance(sys.exc_info()[1], ConnectionError):
            return
        super().handle_error(request, client_address)  # type: ignore[arg-type]


class KeepAliveHandler(BaseHTTPRequestHandler):
    """The request handler the stubs build on: HTTP/1.1 keep-alive, like a real server behind a
    client's connection pool, with TCP_NODELAY. BaseHTTPRequestHandler writes an answer's
    headers and body separately; under Nagle's algorithm the body would wait for the client's
    delayed ACK of the headers, ~40 ms on Linux, on most answers of a kept-alive connection."""

    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True


class LoopbackServer:
    """Subclasses set their state, then call `super().__init__(host, port)`, and implement
    `_handler_class()`. 127.0.0.1 by default; port 0 picks a free port."""

    thread_name = "stub"

    def __init__(self, host: str = "127.0.0.1", port: int = 0) -> None:
        self._httpd = _Server((host, port), self._handler_class())
        self._thread: threading.Thread | None = None

    def _handler_class(self) -> type[BaseHTTPRequestHandler]:
        raise NotImplementedError

    @property
    def base_url(self) -> str:
        host, port = self._httpd.server_address[:2]
        return f"http://{host!s}:{port}"

    def start(self) -> Self:
        """Serve on a daemon thread until stop()."""
        self._thread = threading.Thread(
            target=self.serve_forever, name=self.thread_name, daemon=True
        )
        self._thread.start()
        return self

    def serve_forever(self) -> None:
        """Serve on the calling thread until stop() (or Ctrl-C); for a `__main__`."""
        self._httpd.serve_forever(poll_interval=0.1)

    def stop(self) -> None:
        # shutdown() waits for serve_forever to return, so it would hang if that never started.
        if self._thread is not None:
            # serve_forever sees the request to stop when its select() returns: at its next
            # poll, up to 0.1 s away, or at once when a connection arrives. A connection made
            # for that alone saves the wait at every stop (thousands in the test suite).
            stopping = threading.Thread(target=self._httpd.shutdown, daemon=True)
            stopping.start()
            host, port = self._httpd.server_address[:2]
            while stopping.is_alive():
                with contextlib.suppress(OSError):
                    socket.create_connection((str(host), port), timeout=1).close()
                stopping.join(timeout=0.01)
            self._thread.join(timeout=5)
            self._thread = None
        self._httpd.server_close()

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()
