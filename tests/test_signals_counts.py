"""The alert counters count alerts, not deliveries, and ticket counters what a sink did: a
message SQS hands out again (its delete was lost) adds nothing to them, and its line is a quiet
debug one; an update a gone ticket refused is no TicketsUpdated."""

from __future__ import annotations

import pytest
import structlog

from test_pipeline import Rig, rig
from triage.demo.ticketd import TicketServer
from triage.incidents.lifecycle import Action, Status
from triage.secrets import BackendToken
from triage.settings import Settings
from triage.sinks.backend import BackendSink

#: The counters of alerts that changed no ticket, and those of tickets changed.
ALERT_COUNTERS = (
    "TicketsCreated",
    "TicketsUpdated",
    "TicketsClosed",
    "DuplicatesSuppressed",
    "ResolvedWithoutTicket",
    "AlertsIgnored",
)


def counts(r: Rig) -> dict[str, float]:
    """The alert counters that are not zero, summed over their dimensions."""
    metrics = r.pipeline.metrics
    return {name: metrics.total(name) for name in ALERT_COUNTERS if metrics.total(name)}


async def test_a_redelivered_alert_is_counted_once_under_its_own_action() -> None:
    """An opening alert, a repeat and a resolve, each delivered again (its delete lost), count
    once each (TicketsCreated, DuplicatesSuppressed, TicketsClosed), not a second time as
    AlertsIgnored, and each second delivery's alert.decided is debug."""
    r = rig()
    with structlog.testing.capture_logs() as logs:
        for minutes, status, owner in (
            (10, Status.FIRING, "open"),
            (15, Status.FIRING, "repeat"),
            (20, Status.RESOLVED, "resolve"),
        ):
            first = await r.send(minutes, status, owner=owner)
            assert first is not Action.IGNORE
            assert await r.send(minutes, status, owner=owner) is Action.IGNORE
    assert counts(r) == {"TicketsCreated": 1, "DuplicatesSuppressed": 1, "TicketsClosed": 1}
    decided = [e for e in logs if e["event"] == "alert.decided"]
    assert [e["log_level"] for e in decided] == ["info", "debug", "debug", "debug", "info", "debug"]
    assert r.sink.kinds() == ["open", "close"]


async def test_a_stale_alert_still_counts_as_ignored() -> None:
    """An alert older than the incident's last event, delivered once, is AlertsIgnored at info."""
    r = rig()
    await r.send(10, owner="open")
    await r.send(20, Status.RESOLVED, owner="resolve")
    with structlog.testing.capture_logs() as logs:
        assert await r.send(12, owner="stale") is Action.IGNORE
    assert counts(r) == {"TicketsCreated": 1, "TicketsClosed": 1, "AlertsIgnored": 1}
    [decided] = [e for e in logs if e["event"] == "alert.decided"]
    assert decided["log_level"] == "info"


async def test_a_gone_ticket_counts_no_update_and_says_so_once(
    monkeypatch: pytest.MonkeyPatch, backend: TicketServer
) -> None:
    """Against the loopback backend: the update a 410 refuses (the ticket deleted) is not
    TicketsUpdated, later updates do not call the backend at all, and the whole life of the
    gone ticket is one backend.ticket_gone warning; its close is still sent and counted."""
    monkeypatch.setenv("BACKEND_TOKEN", backend.token)
    settings = Settings(
        backend_base_url=backend.url,
        backend_update_route="/api/service/tickets/{ref}/updates",
        backend_resolve_route="/api/service/tickets/{ref}/resolve",
    )
    sink = BackendSink(settings, BackendToken(settings))
    r = rig()
    r.pipeline.sinks = {sink.name: sink}
    try:
        with structlog.testing.capture_logs() as logs:
            assert await r.send(0) is Action.OPEN
            backend.fail_next(1, status=410)
            assert await r.send(16) is Action.UPDATE
            assert await r.send(32) is Action.UPDATE
            assert await r.send(40, Status.RESOLVED) is Action.CLOSE
    finally:
        await sink.aclose()
    metrics = r.pipeline.metrics
    assert metrics.counter("TicketsUpdated") == 0
    assert (metrics.counter("TicketsCreated"), metrics.counter("TicketsClosed")) == (1, 1)
    assert [e["kind"] for e in backend.events] == ["resolve"]
    loud = [e["event"] for e in logs if e["log_level"] in ("warning", "error")]
    assert loud == ["backend.ticket_gone"]


async def test_a_sink_removed_from_the_config_is_one_warning_not_one_per_effect() -> None:
    """Once a sink that holds tickets is no longer configured, the first effect that would go
    to it says so in one sink.not_configured warning; the following ones (every update of
    every such incident) are debug, and none is counted as carried out."""
    r = rig()
    assert await r.send(0) is Action.OPEN
    r.pipeline.sinks = {}
    with structlog.testing.capture_logs() as logs:
        assert await r.send(16) is Action.UPDATE
        assert await r.send(32) is Action.UPDATE
        assert await r.send(40, Status.RESOLVED) is Action.CLOSE
    skipped = [(e["event"], e["log_level"]) for e in logs if e["event"] == "sink.not_configured"]
    assert skipped == [("sink.not_configured", "warning")] + [("sink.not_configured", "debug")] * 2
    assert counts(r) == {"TicketsCreated": 1}
