"""`/healthz`, `/readyz` and `/metrics` for the container, on `TRIAGE_HTTP_PORT`.

A deliberately tiny HTTP/1.1 server on asyncio streams (GET only, one request per connection):
three read-only endpoints do not justify a web framework in the daemon.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable

import structlog

from triage.errors import ConfigError
from triage.health import Health
from triage.metrics import Metrics
from triage.metrics_export import prometheus_text

log = structlog.get_logger(__name__)

Route = Callable[[], tuple[int, str, str]]


class EndpointServer:
    def __init__(
        self, health: Health, metrics: Metrics, host: str = "0.0.0.0", port: int = 8080
    ) -> None:
        self.health = health
        self.metrics = metrics
        self.host = host
        self.port = port
        self._server: asyncio.Server | None = None
        self._routes: dict[str, Route] = {
            "/healthz": self._healthz,
            "/readyz": self._readyz,
            "/metrics": self._metrics,
        }

    async def start(self) -> None:
        try:
            self._server = await asyncio.start_server(self._handle, self.host, self.port)
        except OSError as exc:
            raise ConfigError(
                f"TRIAGE_HTTP_PORT {self.port} on {self.host}: {exc.strerror}"
            ) from None
        self.port = self._server.sockets[0].getsockname()[1]
        log.info("http.listening", host=self.host, port=self.port)

    async def aclose(self) -> None:
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            request = await asyncio.wait_for(reader.readline(), timeout=5)
            # Drain the headers; we need none of them.
            while (line := await asyncio.wait_for(reader.readline(), timeout=5)) not in (
                b"\r\n",
                b"\n",
                b"",
            ):
                del line
            parts = request.decode("latin-1").split()
            if len(parts) < 2 or parts[0] not in ("GET", "HEAD"):
                status, ctype, body = 405, "text/plain", "method not allowed\n"
            else:
                route = self._routes.get(parts[1].split("?")[0])
                status, ctype, body = route() if route else (404, "text/plain", "not found\n")
            payload = body.encode()
            head = (
                f"HTTP/1.1 {status} {_REASONS.get(status, '')}\r\nContent-Type: {ctype}\r\n"
                f"Content-Length: {len(payload)}\r\nConnection: close\r\n\r\n"
            )
            writer.write(head.encode() + (payload if parts and parts[0] != "HEAD" else b""))
            await writer.drain()
        except (TimeoutError, ConnectionError):
            pass
        finally:
            writer.close()

    def _healthz(self) -> tuple[int, str, str]:
        snapshot = {
            "alive": self.health.alive,
            "loop_lag_ms": round(self.health.loop_lag_s * 1000, 1),
        }
        return (200 if self.health.alive else 503), "application/json", json.dumps(snapshot) + "\n"

    def _readyz(self) -> tuple[int, str, str]:
        # Names and fixed reasons only: a condition's detail can hold URLs and AWS error text.
        readiness = self.health.readiness()
        return (
            (200 if readiness["ready"] else 503),
            "application/json",
            json.dumps(readiness) + "\n",
        )

    def _metrics(self) -> tuple[int, str, str]:
        return 200, "text/plain; version=0.0.4", prometheus_text(self.metrics)


_REASONS = {200: "OK", 404: "Not Found", 405: "Method Not Allowed", 503: "Service Unavailable"}
