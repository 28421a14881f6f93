"""The ticket reference a backend answered, put into the update and resolve routes' `{ref}` and
sent over the sinks' real transport (aiohttp) to a loopback server on 127.0.0.1: whatever the
reference holds, the request stays on its route, as one percent-encoded path segment (never a
climb to another endpoint, never a query), or it is not sent at all, with one line saying why
and a counted outcome."""

from __future__ import annotations

from collections.abc import AsyncIterator, MutableMapping
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from typing import Any
from urllib.parse import unquote

import pytest

from factories import view
from hostile_server import HostileServer, answer, hostile
from triage.metrics import Metrics
from triage.models import Alert, EffectKind, Priority, Status, Ticket
from triage.secrets import BackendToken
from triage.settings import Settings
from triage.sinks.backend import BackendSink
from triage.sinks.base import Effect, NotSent

ALERT = Alert(
    source="generic",
    status=Status.FIRING,
    title="orders-db disk full",
    team="data",
    priority=Priority.HIGH,
    occurred_at=datetime(2026, 11, 23, 3, tzinfo=UTC),
    identity={"dedup_key": "disk"},
)
TICKET = Ticket(title="Disk full", priority=Priority.HIGH, description="df says 100%")
UPDATE_ROUTE = "/api/service/tickets/{ref}/updates"
RESOLVE_ROUTE = "/api/service/tickets/{ref}/resolve"
Logs = list[MutableMapping[str, Any]]

#: References a hostile or broken backend might have answered (or an older release stored),
#: each of which a naive route would turn into another endpoint, a query or a broken request.
HOSTILE_REFS = [
    "..",
    ".",
    "../../admin",
    "a/../b",
    "%2E%2E",
    "%2e",
    "%2F",
    "OPS/1",
    "x?delete=all",
    "x#frag",
    "a b",
    "a\r\nX-Injected: 1",
    "a\x00b",
    "\u00e9\u2603\U0001f600",
    "x" * 1000,
]


def effect(kind: EffectKind, ref: str | None, key: str = "fp:2") -> Effect:
    return Effect(kind, ALERT.fingerprint, view(ALERT), TICKET, ref, 3, 1, False, key)


@asynccontextmanager
async def backend_sink(
    url: str, monkeypatch: pytest.MonkeyPatch, metrics: Metrics | None = None
) -> AsyncIterator[BackendSink]:
    monkeypatch.setenv("BACKEND_TOKEN", "backend-token-209")
    settings = Settings(
        backend_base_url=url,
        backend_update_route=UPDATE_ROUTE,
        backend_resolve_route=RESOLVE_ROUTE,
    )
    sink = BackendSink(settings, BackendToken(settings), metrics=metrics)
    try:
        yield sink
    finally:
        await sink.aclose()


def target(server: HostileServer) -> str:
    """The request target of the last request the server received."""
    line = server.requests[-1].head.split(b"\r\n", 1)[0].decode("ascii")
    method, path, version = line.split(" ")
    assert (method, version) == ("POST", "HTTP/1.1")
    return path


@pytest.mark.parametrize("kind", [EffectKind.UPDATE, EffectKind.CLOSE])
@pytest.mark.parametrize("ref", HOSTILE_REFS, ids=lambda ref: repr(ref[:12]))
async def test_a_hostile_reference_stays_one_segment_of_its_route(
    ref: str, kind: EffectKind, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Over the real transport, a reference with dots, slashes, `?`, `#`, escapes, spaces,
    CR LF, NUL or unicode reaches the backend as one percent-encoded segment of the
    configured route, which decodes back to the reference: no dot segment resolved away (our
    token on another endpoint), no query, no second header line."""
    route = RESOLVE_ROUTE if kind is EffectKind.CLOSE else UPDATE_ROUTE
    head, tail = route.split("{ref}")
    async with hostile(answer(200, body=b"{}")) as server:
        async with backend_sink(server.url, monkeypatch) as sink:
            await sink.apply(effect(kind, ref))
        sent = target(server)
        assert b"\r\nX-Injected" not in server.requests[-1].head
    assert sent.startswith(head) and sent.endswith(tail), sent
    segment = sent[len(head) : len(sent) - len(tail)]
    assert "/" not in segment and "?" not in segment and "#" not in segment
    assert segment not in (".", "..")
    assert unquote(segment) == ref


@pytest.mark.parametrize("ref", ["\ud800", "ab\udfffcd", "x" * 10_240])
async def test_a_reference_no_route_can_carry_is_skipped_with_one_line(
    ref: str, monkeypatch: pytest.MonkeyPatch, logs: Logs
) -> None:
    """A stored reference that cannot be put into a URL (a lone surrogate, which no UTF-8
    encoder takes) or is far longer than any ticket id (10 KB) is not sent: the effect is
    skipped as having no ticket (`no ticket`), counted, and one warning names the reference's
    length and why, never the reference; no request is made and nothing crashes."""
    metrics = Metrics()
    async with (
        hostile(answer(200, body=b"{}")) as server,
        backend_sink(server.url, monkeypatch, metrics) as sink,
    ):
        applied = await sink.apply(effect(EffectKind.CLOSE, ref))
    assert server.requests == []
    assert applied.why is NotSent.NO_TICKET
    assert metrics.counter("SinkCalls", sink="backend", outcome="skipped") == 1
    warnings = [e for e in logs if e["log_level"] == "warning"]
    assert [e["event"] for e in warnings] == ["backend.ref_unusable"]
    assert warnings[0]["ref_chars"] == len(ref)
    assert ref not in repr(logs) and ref[:8] not in repr(logs)


@pytest.mark.parametrize(
    ("body", "segment"),
    [
        (b'{"id": 42}', "42"),
        (b'{"id": "42"}', "42"),
        (b'{"id": null}', "fp%3A1"),
        (b'{"id": {"ticket": "T-1"}}', "fp%3A1"),
        (b'{"id": ["T-1"]}', "fp%3A1"),
        (b"{}", "fp%3A1"),
    ],
    ids=["number", "string", "null", "object", "list", "missing"],
)
async def test_the_reference_a_create_gives_is_the_segment_its_updates_carry(
    body: bytes, segment: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A create answered with an id as a number or a string names the ticket alike; one
    answered with null, an object, a list or no id names it by its Idempotency-Key; either
    way the next update goes to that one segment of the update route."""
    created = answer(201, {"Content-Type": "application/json"}, body)
    async with (
        hostile(created, answer(200, body=b"{}")) as server,
        backend_sink(server.url, monkeypatch) as sink,
    ):
        ref = (await sink.apply(effect(EffectKind.OPEN, None, key="fp:1"))).ref
        await sink.apply(effect(EffectKind.UPDATE, ref))
    assert target(server) == UPDATE_ROUTE.replace("{ref}", segment)
