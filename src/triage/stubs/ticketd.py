"""A loopback stand-in for the ticket backend: records tickets, honours `Idempotency-Key`, and
can be told to fail or be slow. Used by `triage demo`, the tests, the benchmarks and the
docker-compose dev stack (`python -m triage.stubs.ticketd --port 4000 --token T`).

Routes (the contract triage expects of a real backend, see the README):
    POST {route}                 create → 201 {"id": "T-1", …}; a repeated Idempotency-Key → 200, same id
    POST {route}/{id}/updates    record an update or reopen → 200
    POST {route}/{id}/resolve    record a resolve → 200
    GET  {route}                 every ticket as JSON
"""

from __future__ import annotations

import argparse
import contextlib
import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


class TicketServer:
    """A threaded HTTP server on 127.0.0.1; start() and stop() from sync or async code alike."""

    def __init__(
        self,
        token: str,
        host: str = "127.0.0.1",
        port: int = 0,
        route: str = "/api/service/tickets",
    ) -> None:
        self.token = token
        self.route = route.rstrip("/")
        #: Seconds every request waits before it is answered (a slow backend).
        self.delay_s = 0.0
        self._lock = threading.Lock()
        self._tickets: list[dict[str, Any]] = []
        self._events: list[dict[str, Any]] = []
        self._by_key: dict[str, str] = {}
        self._failures: list[int] = []
        self._requests = 0
        self._httpd = ThreadingHTTPServer((host, port), self._handler_class())
        self._httpd.daemon_threads = True
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        host, port = self._httpd.server_address[:2]
        return f"http://{host!s}:{port}"

    @property
    def tickets(self) -> list[dict[str, Any]]:
        """Each created ticket: {"id", "body", "headers"} (header names lower-case)."""
        with self._lock:
            return list(self._tickets)

    @property
    def events(self) -> list[dict[str, Any]]:
        """Each update/resolve call: {"id", "kind", "body", "headers"}."""
        with self._lock:
            return list(self._events)

    @property
    def request_count(self) -> int:
        """POSTs received, including failed and replayed ones."""
        with self._lock:
            return self._requests

    def fail_next(self, count: int, status: int = 503) -> None:
        """Answer the next `count` POSTs with `status` (without recording anything)."""
        with self._lock:
            self._failures = [status] * count

    def recover(self) -> None:
        with self._lock:
            self._failures.clear()

    def start(self) -> None:
        self._thread = threading.Thread(
            target=self._httpd.serve_forever, name="ticketd", daemon=True
        )
        self._thread.start()

    def stop(self) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)

    # --- Request handling (on the server's threads) -----------------------------------------

    def _post(self, path: str, headers: dict[str, str], raw: bytes) -> tuple[int, dict[str, Any]]:
        with self._lock:
            self._requests += 1
            if self._failures:
                return self._failures.pop(0), {"error": "injected failure"}
        if headers.get("authorization") != f"Bearer {self.token}":
            return 401, {"error": "bad or missing bearer token"}
        try:
            body = json.loads(raw or b"{}")
        except ValueError:
            return 400, {"error": "body is not JSON"}
        if path == self.route:
            return self._create(body, headers)
        rest = path[len(self.route) + 1 :].split("/") if path.startswith(self.route + "/") else []
        if len(rest) == 2 and rest[1] in ("updates", "resolve"):
            with self._lock:
                if not any(t["id"] == rest[0] for t in self._tickets):
                    return 404, {"error": f"no ticket {rest[0]}"}
                self._events.append(
                    {"id": rest[0], "kind": rest[1], "body": body, "headers": headers}
                )
            return 200, {"id": rest[0], "ok": True}
        return 404, {"error": f"no route {path}"}

    def _create(self, body: Any, headers: dict[str, str]) -> tuple[int, dict[str, Any]]:
        missing = [k for k in ("title", "priority", "description", "steps") if k not in body]
        if missing:
            return 422, {"error": f"missing fields: {', '.join(missing)}"}
        key = headers.get("idempotency-key")
        with self._lock:
            if key and key in self._by_key:
                return 200, {"id": self._by_key[key], "replayed": True}
            ticket_id = f"T-{len(self._tickets) + 1}"
            self._tickets.append({"id": ticket_id, "body": body, "headers": headers})
            if key:
                self._by_key[key] = ticket_id
        return 201, {"id": ticket_id}

    def _list(self) -> list[dict[str, Any]]:
        return [{"id": t["id"], **t["body"]} for t in self.tickets]

    def _handler_class(self) -> type[BaseHTTPRequestHandler]:
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(length)
                time.sleep(server.delay_s)
                headers = {k.lower(): v for k, v in self.headers.items()}
                status, payload = server._post(self.path.split("?")[0], headers, raw)
                self._send(status, payload)

            def do_GET(self) -> None:
                if self.path.split("?")[0] == server.route:
                    self._send(200, server._list())
                else:
                    self._send(404, {"error": "not found"})

            def do_OPTIONS(self) -> None:
                self._send(204, None)

            def _send(self, status: int, payload: Any) -> None:
                data = b"" if payload is None else json.dumps(payload).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, format: str, *args: Any) -> None:
                """Quiet: the tests and the demo print what matters themselves."""

        return Handler


def main() -> None:
    parser = argparse.ArgumentParser(description="Stand-in ticket backend for triage.")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=4000)
    parser.add_argument("--token", required=True, help="the bearer token to accept")
    args = parser.parse_args()
    server = TicketServer(token=args.token, host=args.host, port=args.port)
    print(f"ticketd listening on {server.url}", flush=True)
    with contextlib.suppress(KeyboardInterrupt):
        server._httpd.serve_forever()


if __name__ == "__main__":
    main()
