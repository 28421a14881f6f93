"""`/healthz`, `/readyz` and `/metrics` for the container, on `TRIAGE_HTTP_PORT`.

Three read-only routes on the bounded server of `http_server.py`: they do not justify a web
framework in the daemon, and the limits there keep the port from starving it.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING

from triage.health import Health
from triage.metrics import Metrics
from triage.ops.http_server import (
    DEFAULT_LIMITS,
    Handler,
    HttpServer,
    Limits,
    Request,
    Response,
)

if TYPE_CHECKING:
    from triage.ops.prometheus import PrometheusExposition


class EndpointServer(HttpServer):
    def __init__(
        self,
        health: Health,
        metrics: Metrics,
        host: str = "127.0.0.1",
        port: int = 8080,
        limits: Limits = DEFAULT_LIMITS,
        extra_routes: Mapping[str, Mapping[str, Handler]] | None = None,
    ) -> None:
        self.health = health
        self.metrics = metrics
        #: Built at the first scrape: prometheus_client is not imported before one.
        self._exposition: PrometheusExposition | None = None
        routes = {
            "/healthz": {"GET": self._healthz},
            "/readyz": {"GET": self._readyz},
            "/metrics": {"GET": self._metrics},
            # The operator's API and status page (ops/api.py), when TRIAGE_API_TOKEN is set.
            **(extra_routes or {}),
        }
        super().__init__(routes, metrics, host, port, limits)

    async def _healthz(self, request: Request) -> Response:
        # A stalled loop's name comes from our code (`beat`), never from a request or alert.
        alive, lag_s, stalled = self.health.liveness()
        snapshot = {"alive": alive, "loop_lag_ms": round(lag_s * 1000, 1), "stalled": stalled}
        return Response.json(200 if alive else 503, snapshot)

    async def _readyz(self, request: Request) -> Response:
        # Names and fixed reasons only: a condition's detail can hold URLs and AWS error text.
        # 200 while only `degraded` names something (Slack's or GitHub's outage): the replica
        # still takes work, and a load balancer must not take it out for that.
        readiness = self.health.readiness()
        return Response.json(200 if readiness["ready"] else 503, readiness)

    async def _metrics(self, request: Request) -> Response:
        from triage.ops.prometheus import PROMETHEUS_CONTENT_TYPE, PrometheusExposition

        if self._exposition is None:
            self._exposition = PrometheusExposition(self.metrics)
        return Response(200, self._exposition.text(), PROMETHEUS_CONTENT_TYPE)
