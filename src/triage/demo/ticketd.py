"""A loopback stand-in for the ticket backend: records tickets, honours `Idempotency-Key`, and
can be told to fail or be slow. Used by `triage demo`, the tests, the benchmarks and the
docker-compose dev stack (`python -m triage.demo.ticketd --port 4000 --token T`).

Routes (the contract triage expects of a real backend, see the README):
    POST {route}                 create → 201 {"id": "T-1", …}; a repeated Idempotency-Key → 200, same id
    POST {route}/{id}/updates    record an update or reopen → 200 (a repeated key is not recorded again)
    POST {route}/{id}/resolve    record a resolve → 200
    GET  {route}                 every ticket as JSON
Every POST needs `Authorization: Bearer <token>` (401 otherwise).
"""

from __future__ import annotations

import argparse
import contextlib
import copy
import json
import signal
import threading
from http.server import BaseHTTPRequestHandler
from types import FrameType
from typing import Any

from triage.demo.loopback import KeepAliveHandler, LoopbackServer

#: The sub-routes of a ticket that record an event: `{route}/{id}/updates` and `/resolve`.
_EVENTS = ("updates", "resolve")


class TicketServer(LoopbackServer):
    """A threaded HTTP server (127.0.0.1 by default); usable from sync and async code alike,
    because it runs on its own threads and never on the caller's event loop."""

    thread_name = "ticketd"

    def __init__(
        self,
        token: str,
        host: str = "127.0.0.1",
        port: int = 0,
        route: str = "/api/service/tickets",
    ) -> None:
        #: The bearer token accepted; assign a new one to simulate a rotation.
        self.token = token
        self.route = "/" + route.strip("/")
        #: Seconds every request waits before it is answered (a slow backend), unless
        #: `release_held` ends the wait first.
        self.delay_s = 0.0
        self._released = threading.Event()
        #: While True every request, probes included, is answered 503 and nothing is recorded
        #: (an outage of the whole backend, ended by setting it back to False).
        self.down = False
        self._lock = threading.Lock()
        self._tickets: list[dict[str, Any]] = []
        self._events: list[dict[str, Any]] = []
        self._ticket_by_key: dict[str, str] = {}
        self._event_keys: set[str] = set()
        self._failures: list[tuple[int, str | None]] = []
        self._requests = 0
        self._arrivals = 0
        self._replayed_creates = 0
        super().__init__(host, port)

    @property
    def url(self) -> str:
        return self.base_url

    @property
    def tickets(self) -> list[dict[str, Any]]:
        """A copy of each created ticket: {"id", "body", "headers"} (header names lower-case)."""
        with self._lock:
            return copy.deepcopy(self._tickets)

    @property
    def events(self) -> list[dict[str, Any]]:
        """A copy of each recorded update/resolve: {"id", "kind", "body", "headers"}."""
        with self._lock:
            return copy.deepcopy(self._events)

    @property
    def request_count(self) -> int:
        """POSTs received, including failed, unauthorised and replayed ones."""
        with self._lock:
            return self._requests

    @property
    def replayed_creates(self) -> int:
        """Creates answered with an earlier ticket because their Idempotency-Key was seen: a
        second create of one incident, which the key kept from becoming a second ticket."""
        with self._lock:
            return self._replayed_creates

    @property
    def arrivals(self) -> int:
        """POSTs that have arrived, counted before `delay_s` holds them: while a slow backend
        holds requests, `arrivals - request_count` of them are in flight."""
        with self._lock:
            return self._arrivals

    def fail_next(self, count: int, status: int = 503, retry_after: str | None = None) -> None:
        """Answer the next `count` POSTs with `status` (and a Retry-After header if given),
        recording nothing."""
        with self._lock:
            self._failures = [(status, retry_after)] * count

    def release_held(self) -> None:
        """Answer every request `delay_s` holds now, and every later one at once: a test ends
        the slow backend when it has seen what it waited for, not after a fixed time."""
        self._released.set()

    def recover(self) -> None:
        """Forget any failures still queued by fail_next()."""
        with self._lock:
            self._failures.clear()

    # --- Request handling (on the server's threads) -----------------------------------------

    def _post(self, path: str, headers: dict[str, str], raw: bytes) -> tuple[int, Any, str | None]:
        with self._lock:
            self._requests += 1
            if self.down:
                return 503, {"error": "backend down"}, "1"
            if self._failures:
                status, retry_after = self._failures.pop(0)
                return status, {"error": "injected failure"}, retry_after
        if headers.get("authorization") != f"Bearer {self.token}":
            return 401, {"error": "bad or missing bearer token"}, None
        try:
            body = json.loads(raw or b"{}")
        except ValueError:
            return 400, {"error": "body is not JSON"}, None
        if not isinstance(body, dict):
            return 400, {"error": "body is not a JSON object"}, None
        key = headers.get("idempotency-key")
        if path == self.route:
            return (*self._create(body, headers, key), None)
        parts = path.removeprefix(self.route + "/").split("/")
        if path.startswith(self.route + "/") and len(parts) == 2 and parts[1] in _EVENTS:
            return (*self._event(parts[0], parts[1], body, headers, key), None)
        return 404, {"error": f"no route {path}"}, None

    def _create(
        self, body: dict[str, Any], headers: dict[str, str], key: str | None
    ) -> tuple[int, Any]:
        missing = [k for k in ("title", "priority", "description", "steps") if k not in body]
        if missing:
            return 422, {"error": f"missing fields: {', '.join(missing)}"}
        with self._lock:
            if key and key in self._ticket_by_key:
                self._replayed_creates += 1
                return 200, {"id": self._ticket_by_key[key], "replayed": True}
            ticket_id = f"T-{len(self._tickets) + 1}"
            self._tickets.append({"id": ticket_id, "body": body, "headers": headers})
            if key:
                self._ticket_by_key[key] = ticket_id
        return 201, {"id": ticket_id, "title": body["title"], "status": "open"}

    def _event(
        self,
        ticket_id: str,
        kind: str,
        body: dict[str, Any],
        headers: dict[str, str],
        key: str | None,
    ) -> tuple[int, Any]:
        with self._lock:
            if not any(t["id"] == ticket_id for t in self._tickets):
                return 404, {"error": f"no ticket {ticket_id}"}
            if key and key in self._event_keys:
                return 200, {"id": ticket_id, "replayed": True}
            self._events.append({"id": ticket_id, "kind": kind, "body": body, "headers": headers})
            if key:
                self._event_keys.add(key)
        return 200, {"id": ticket_id, "ok": True}

    def _list(self) -> list[dict[str, Any]]:
        return [{"id": t["id"], **t["body"]} for t in self.tickets]

    def _handler_class(self) -> type[BaseHTTPRequestHandler]:
        server = self

        class Handler(KeepAliveHandler):
            def do_POST(self) -> None:
                try:
                    raw = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                except ValueError:
                    self._send(400, {"error": "bad Content-Length"})
                    return
                with server._lock:
                    server._arrivals += 1
                server._released.wait(server.delay_s)
                headers = {k.lower(): v for k, v in self.headers.items()}
                status, payload, retry_after = server._post(self.path.split("?")[0], headers, raw)
                self._send(status, payload, retry_after)

            def do_GET(self) -> None:
                if self.path.split("?")[0].rstrip("/") == server.route:
                    self._send(200, server._list())
                else:
                    self._send(404, {"error": "not found"})

            def do_OPTIONS(self) -> None:  # `triage check` and the sink's probe use OPTIONS
                if server.down:
                    self._send(503, None)
                    return
                # What the route takes (RFC 9110): a bare 204 is what a gateway gives on its
                # own, which the sink's probe cannot tell from the backend's answer.
                self.send_response(204)
                self.send_header("Allow", "GET, POST, OPTIONS")
                self.end_headers()

            def _send(self, status: int, payload: Any, retry_after: str | None = None) -> None:
                data = b"" if payload is None else json.dumps(payload).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                if retry_after is not None:
                    self.send_header("Retry-After", retry_after)
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, format: str, *args: Any) -> None:
                """Quiet: the tests and the demo print what matters themselves."""

        return Handler


def _exit_on_sigterm(signum: int, frame: FrameType | None) -> None:
    # As PID 1 in a container, a process without a SIGTERM handler ignores `docker stop`.
    raise KeyboardInterrupt


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="Stand-in ticket backend for triage.")
    parser.add_argument("--host", default="127.0.0.1", help="0.0.0.0 only inside a container")
    parser.add_argument("--port", type=int, default=4000, help="0 picks a free port")
    parser.add_argument("--token", required=True, help="the bearer token to accept")
    parser.add_argument("--route", default="/api/service/tickets")
    args = parser.parse_args(argv)
    server = TicketServer(token=args.token, host=args.host, port=args.port, route=args.route)
    signal.signal(signal.SIGTERM, _exit_on_sigterm)
    print(f"ticketd listening on {server.url}{server.route}", flush=True)
    with contextlib.suppress(KeyboardInterrupt):
        server.serve_forever()
    server.stop()


if __name__ == "__main__":
    main()
