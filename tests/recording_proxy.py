"""A loopback HTTP proxy that records every request exactly as it arrived (method, target,
headers, body) and relays it to a stand-in service, or answers 200 itself (a Slack webhook).
Put in front of every service a daemon talks to, it shows what left the process."""

from __future__ import annotations

import http.client
import threading
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler
from typing import Any
from urllib.parse import unquote, urlparse

from triage.demo.loopback import KeepAliveHandler, LoopbackServer

_HOP_HEADERS = frozenset(
    {"connection", "keep-alive", "transfer-encoding", "content-length", "accept-encoding", "host"}
)


@dataclass(frozen=True)
class Recorded:
    method: str
    target: str
    headers: tuple[tuple[str, str], ...]
    body: bytes

    def text(self, *, except_header: tuple[str, str] | None = None) -> str:
        """Everything sent, as one searchable text: the target (percent-decoded too), each
        header but `except_header` (name, value), and the body."""
        headers = [
            f"{name}: {value}"
            for name, value in self.headers
            if except_header is None
            or (name.lower(), value) != (except_header[0].lower(), except_header[1])
        ]
        target = f"{self.target}\n{unquote(unquote(self.target))}"
        return "\n".join([self.method, target, *headers, self.body.decode("utf-8", "replace")])


class RecordingProxy(LoopbackServer):
    thread_name = "recording-proxy"

    def __init__(self, upstream: str | None = None) -> None:
        self._upstream = urlparse(upstream) if upstream else None
        self._lock = threading.Lock()
        self._requests: list[Recorded] = []
        super().__init__()

    @property
    def url(self) -> str:
        return self.base_url

    @property
    def requests(self) -> list[Recorded]:
        with self._lock:
            return list(self._requests)

    def _relay(
        self, method: str, target: str, headers: dict[str, str], body: bytes
    ) -> tuple[int, list[tuple[str, str]], bytes]:
        if self._upstream is None:
            return 200, [("Content-Type", "text/plain")], b"ok"
        assert self._upstream.hostname is not None and self._upstream.port is not None
        connection = http.client.HTTPConnection(
            self._upstream.hostname, self._upstream.port, timeout=60
        )
        try:
            connection.request(method, target, body=body, headers=headers)
            response = connection.getresponse()
            return response.status, response.getheaders(), response.read()
        finally:
            connection.close()

    def _handler_class(self) -> type[BaseHTTPRequestHandler]:
        proxy = self

        class Handler(KeepAliveHandler):
            def _serve(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                with proxy._lock:
                    proxy._requests.append(
                        Recorded(self.command, self.path, tuple(self.headers.items()), body)
                    )
                headers = {k: v for k, v in self.headers.items() if k.lower() not in _HOP_HEADERS}
                status, reply_headers, reply = proxy._relay(self.command, self.path, headers, body)
                self.send_response(status)
                for name, value in reply_headers:
                    if name.lower() not in _HOP_HEADERS and name.lower() not in ("server", "date"):
                        self.send_header(name, value)
                self.send_header("Content-Length", str(len(reply)))
                self.end_headers()
                self.wfile.write(reply)

            do_GET = do_POST = do_PATCH = do_PUT = do_DELETE = do_OPTIONS = _serve

            def log_message(self, format: str, *args: Any) -> None:
                """Quiet: tests read what was recorded."""

        return Handler
