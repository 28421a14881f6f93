"""The backend sink's requests, byte for byte: whatever the sink does to build them cheaply,
each POST is the request httpx2's own `AsyncClient.build_request` makes of the same URL, JSON
body and headers (the same header names, case and order, body bytes and timeouts), and a
cookie the backend sets goes back as httpx2 sends it."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from typing import Any

import httpx2
import pytest

from factories import view
from triage.models import Alert, EffectKind, Priority, Status, Ticket
from triage.secrets import BackendToken
from triage.settings import Settings
from triage.sinks.backend import BackendSink
from triage.sinks.base import Effect

TOKEN = "backend-token-0123456789"
BASE = "http://tickets.example.com:8080/base"
ROUTES: dict[str, Any] = {
    "backend_service_route": "/api/service/tickets",
    "backend_update_route": "/api/service/tickets/{ref}/updates",
    "backend_resolve_route": "/api/service/tickets/{ref}/resolve",
}
ALERT = Alert(
    source="generic",
    status=Status.FIRING,
    title="Zahlungen schlagen fehl — «checkout» ✓",
    team="payments",
    priority=Priority.HIGH,
    description="5xx über 5 % seit 10 min\nzweite Zeile",
    runbook_url="https://runbooks.example.com/checkout",
    links={"dashboard": "https://grafana.example.com/d/checkout?var=a b"},
    labels={"host": "web-1", "région": "eu-west-1"},
    occurred_at=datetime(2026, 11, 23, 3, tzinfo=UTC),
    identity={"dedup_key": "checkout"},
)
TICKET = Ticket(
    title="Checkout fails — 5xx",
    priority=Priority.HIGH,
    description="The checkout answers 5xx ✓",
    steps=("Read the log", "Roll back"),
)


def _effect(kind: EffectKind, ref: str | None = None, key: str = "fp:1") -> Effect:
    return Effect(kind, ALERT.fingerprint, view(ALERT), TICKET, ref, 3, 2, False, key)


@asynccontextmanager
async def _sink(
    monkeypatch: pytest.MonkeyPatch,
    answer: Callable[[list[httpx2.Request]], httpx2.Response] | None = None,
) -> AsyncIterator[tuple[BackendSink, list[httpx2.Request], Settings]]:
    monkeypatch.setenv("BACKEND_TOKEN", TOKEN)
    sent: list[httpx2.Request] = []

    def handler(request: httpx2.Request) -> httpx2.Response:
        sent.append(request)
        if answer is not None:
            return answer(sent)
        return httpx2.Response(201, json={"id": f"T-{len(sent)}"})

    settings = Settings(backend_base_url=BASE, backend_timeout_s=7.5, **ROUTES)
    sink = BackendSink(settings, BackendToken(settings), transport=httpx2.MockTransport(handler))
    try:
        yield sink, sent, settings
    finally:
        await sink.aclose()


def _as_httpx2_builds(
    request: httpx2.Request, settings: Settings, cookies: dict[str, str] | None = None
) -> httpx2.Request:
    """What httpx2's client builds from the same URL, JSON body and headers."""
    client = httpx2.AsyncClient(timeout=settings.backend_timeout_s, cookies=cookies)
    return client.build_request(
        "POST",
        str(request.url),
        json=json.loads(request.content),
        headers={
            "Authorization": request.headers["Authorization"],
            "Idempotency-Key": request.headers["Idempotency-Key"],
        },
    )


def _same(request: httpx2.Request, expected: httpx2.Request) -> None:
    assert request.method == expected.method
    assert request.url == expected.url
    assert request.headers.raw == expected.headers.raw
    assert request.content == expected.content
    assert request.extensions == expected.extensions


@pytest.mark.parametrize(
    ("kind", "ref"),
    [
        (EffectKind.OPEN, None),
        (EffectKind.UPDATE, "OPS-7"),
        (EffectKind.REOPEN, "ticket ü/7"),
        (EffectKind.CLOSE, "INC0012345"),
    ],
)
async def test_each_post_is_the_request_httpx2_would_build(
    monkeypatch: pytest.MonkeyPatch, kind: EffectKind, ref: str | None
) -> None:
    """Every effect's POST (non-ASCII text in its body, a reference that needs quoting in its
    path) has the headers, in order, the body bytes and the timeouts of httpx2's own build."""
    async with _sink(monkeypatch) as (sink, sent, settings):
        await sink.apply(_effect(kind, ref))
        await sink.apply(_effect(kind, ref, key="fp:2"))  # the second, from what was kept
    assert len(sent) == 2
    for request in sent:
        assert request.headers["Authorization"] == f"Bearer {TOKEN}"
        _same(request, _as_httpx2_builds(request, settings))
    assert sent[1].headers["Idempotency-Key"] == "fp:2"


async def test_a_post_after_a_refused_token_is_built_again_with_the_new_token(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A 401 makes the sink read its token again and repeat the call: the repeat carries
    the token read then, with the same body, as httpx2 would build it."""

    def refuse(sent: list[httpx2.Request]) -> httpx2.Response:
        monkeypatch.setenv("BACKEND_TOKEN", "backend-token-rotated-987654")
        return httpx2.Response(401)

    async with _sink(monkeypatch, refuse) as (sink, sent, settings):
        with pytest.raises(Exception, match="refused our token"):
            await sink.apply(_effect(EffectKind.OPEN))
    assert [r.headers["Authorization"] for r in sent] == [
        f"Bearer {TOKEN}",
        "Bearer backend-token-rotated-987654",
    ]
    assert sent[0].content == sent[1].content
    for request in sent:
        _same(request, _as_httpx2_builds(request, settings))


async def test_a_cookie_the_backend_sets_goes_back_as_httpx2_sends_it(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A backend behind a load balancer that pins clients with a cookie gets it back on the
    next call, in the request httpx2 would build with that cookie in its jar."""

    def pin(sent: list[httpx2.Request]) -> httpx2.Response:
        cookie = {"Set-Cookie": "AWSALB=pinned; Path=/"}
        return httpx2.Response(201, json={"id": f"T-{len(sent)}"}, headers=cookie)

    async with _sink(monkeypatch, pin) as (sink, sent, settings):
        await sink.apply(_effect(EffectKind.OPEN))
        await sink.apply(_effect(EffectKind.OPEN, key="fp:2"))
    assert "cookie" not in sent[0].headers
    assert sent[1].headers["Cookie"] == "AWSALB=pinned"
    expected = _as_httpx2_builds(sent[1], settings, cookies={"AWSALB": "pinned"})
    _same(sent[1], expected)
