"""`triage ingest`'s refusal lines are bounded: a flood of refused requests (a scan of paths,
wrong credentials) logs at most a burst of `ingest.refused` lines a window and one summary,
while `IngestRequests` still counts every answer."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from structlog.testing import capture_logs

from daemon_harness import Queues
from ingest_harness import ingest_settings, loopback_client, running
from triage.ingest import IngestService
from triage.ingest.lines import RefusalLines


async def test_refusals_past_the_burst_are_one_summary_line_per_window() -> None:
    """Past `burst` refusals in a window, the rest are counted by status and reason into one
    ingest.refused_suppressed line when the next window starts (the first refusal of a kind
    not yet logged still gets its line); that window logs again."""
    now = [100.0]
    lines = RefusalLines(burst=2, window_s=1.0, clock=lambda: now[0])
    with capture_logs() as logs:
        for _ in range(3):
            lines.refused(404, "unknown_path", source="unknown")
        lines.refused(401, "unauthorized", source="generic")
        now[0] += 1.0
        lines.refused(401, "unauthorized", source="generic")
    assert [e["event"] for e in logs] == [
        "ingest.refused",
        "ingest.refused",
        "ingest.refused",
        "ingest.refused_suppressed",
        "ingest.refused",
    ]
    summary = logs[3]
    assert summary["count"] == 1
    assert summary["refused"] == {"404 unknown_path": 1}


@pytest.fixture
async def gateway(queues: Queues) -> AsyncIterator[IngestService]:
    async with running(ingest_settings(queues.url, queues.endpoint)) as service:
        yield service


async def test_a_flood_of_refused_requests_is_a_bounded_number_of_lines(
    gateway: IngestService,
) -> None:
    """A scan of 300 unknown paths is answered 404 each and counted each in IngestRequests,
    but logs at most a burst of lines a second plus summaries that account for the rest."""
    assert gateway.gateway is not None
    lines = gateway.gateway.refusal_lines
    with capture_logs() as logs:
        async with loopback_client(gateway.port) as client:
            statuses = {(await client.post(f"/scan/{n}")).status_code for n in range(300)}
        lines.flush()
    assert statuses == {404}
    assert gateway.metrics.counter("IngestRequests", source="unknown", status="404") == 300
    logged = [e for e in logs if e["event"] == "ingest.refused"]
    suppressed = sum(e["count"] for e in logs if e["event"] == "ingest.refused_suppressed")
    assert len(logged) + suppressed == 300
    assert suppressed > 0
