"""The ticket backend sink: `POST {BACKEND_BASE_URL}{BACKEND_SERVICE_ROUTE}` with a bearer token.

OPEN creates the ticket; UPDATE/REOPEN and CLOSE go to the optional update and resolve routes
(`{ref}` is the created ticket's id) and are skipped, with a log line, when those are not set.
Every call carries `Idempotency-Key`, the same on every retry of one effect.
"""

from __future__ import annotations

import email.utils
import time
from typing import Any
from urllib.parse import quote

import httpx
import structlog

from triage.errors import SinkRejectedError, SinkUnavailableError
from triage.metrics import Metrics
from triage.secrets import BackendToken
from triage.settings import Settings
from triage.sinks.base import Effect, EffectKind

log = structlog.get_logger(__name__)

#: 4xx answers that mean "try again later" rather than "never".
_RETRYABLE_4XX = {408, 409, 425, 429}


class BackendSink:
    def __init__(
        self,
        settings: Settings,
        token: BackendToken,
        *,
        metrics: Metrics | None = None,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        self.base_url = settings.backend_base_url.rstrip("/")
        self.create_route = settings.backend_service_route
        self.update_route = settings.backend_update_route
        self.resolve_route = settings.backend_resolve_route
        self.token = token
        self.metrics = metrics or Metrics()
        self._client = httpx.AsyncClient(timeout=settings.backend_timeout_s, transport=transport)

    @property
    def name(self) -> str:
        return "backend"

    async def apply(self, effect: Effect) -> str | None:
        if effect.kind is EffectKind.OPEN:
            answer = await self._post(self.create_route, _create_body(effect), effect)
            return _ticket_id(answer) or effect.idempotency_key
        route = self.resolve_route if effect.kind is EffectKind.CLOSE else self.update_route
        if route is None or effect.ref is None:
            log.info(
                "sink.skipped",
                sink=self.name,
                effect=str(effect.kind),
                reason="no route configured",
            )
            return None
        await self._post(
            route.replace("{ref}", quote(effect.ref, safe="")), _event_body(effect), effect
        )
        return None

    async def _post(self, route: str, body: dict[str, Any], effect: Effect) -> Any:
        url = self.base_url + route
        started = time.perf_counter()
        for attempt in (1, 2):
            headers = {
                "Authorization": f"Bearer {await self.token.get()}",
                "Idempotency-Key": effect.idempotency_key,
            }
            try:
                response = await self._client.post(url, json=body, headers=headers)
            except httpx.TransportError as exc:
                self.metrics.incr("SinkCalls", sink=self.name, outcome="network")
                log.warning("backend.unreachable", url=url, error=type(exc).__name__)
                raise SinkUnavailableError(
                    f"backend unreachable: {type(exc).__name__}: {exc}"
                ) from exc
            if response.status_code == 401 and attempt == 1:
                # The token may have been rotated: read it again once before giving up.
                self.token.invalidate()
                continue
            break
        self.metrics.observe("SinkLatency", (time.perf_counter() - started) * 1000, sink=self.name)
        return self._verdict(response, url)

    def _verdict(self, response: httpx.Response, url: str) -> Any:
        status = response.status_code
        if status < 300:
            self.metrics.incr("SinkCalls", sink=self.name, outcome="ok")
            try:
                return response.json()
            except ValueError:
                return None
        reason = " ".join(response.text.split())[:200]
        if status >= 500 or status in _RETRYABLE_4XX:
            self.metrics.incr("SinkCalls", sink=self.name, outcome="unavailable")
            log.warning("backend.unavailable", url=url, status=status, reason=reason)
            raise SinkUnavailableError(
                f"backend answered {status}: {reason}", retry_after_s=_retry_after(response)
            )
        self.metrics.incr("SinkCalls", sink=self.name, outcome="rejected")
        log.error("backend.rejected", url=url, status=status, reason=reason)
        raise SinkRejectedError(f"backend rejected the ticket with {status}: {reason}")

    async def aclose(self) -> None:
        await self._client.aclose()


def _create_body(effect: Effect) -> dict[str, Any]:
    alert, ticket = effect.alert, effect.ticket
    return {
        "title": ticket.title,
        "priority": ticket.priority.value,
        "description": ticket.description,
        "steps": list(ticket.steps),
        "fingerprint": effect.fingerprint,
        "source": alert.source,
        "status": alert.status.value,
        "team": alert.team,
        "runbook_url": alert.runbook_url,
        "links": alert.links,
    }


def _event_body(effect: Effect) -> dict[str, Any]:
    body: dict[str, Any] = {
        "fingerprint": effect.fingerprint,
        "status": effect.alert.status.value,
        "occurrences": effect.occurrences,
        "new_occurrences": effect.new_occurrences,
        "flapping": effect.flapping,
    }
    if effect.kind is EffectKind.CLOSE:
        body["note"] = f"Resolved: {effect.alert.title}"
    elif effect.kind is EffectKind.REOPEN:
        body["reopened"] = True
        body["note"] = f"Fired again: {effect.alert.title}"
    else:
        body["note"] = f"{effect.new_occurrences} more occurrence(s), {effect.occurrences} in all"
    return body


def _ticket_id(answer: Any) -> str | None:
    if isinstance(answer, dict):
        for key in ("id", "ticket_id", "ticketId", "key"):
            value = answer.get(key)
            if isinstance(value, str | int) and str(value):
                return str(value)
    return None


def _retry_after(response: httpx.Response) -> float | None:
    value = response.headers.get("Retry-After")
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:  # an HTTP date
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, when.timestamp() - time.time())
