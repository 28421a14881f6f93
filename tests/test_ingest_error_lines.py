"""The gateway's `ingest.error` lines (a bug met while handling one request) are bounded as its
other lines are: a request that keeps meeting the same bug cannot fill the logs with one
traceback each. No client-reachable path raises an unexpected exception today (a garbage SQS
answer is a 503, ingest/outbox.py), so the bug is injected through the `Outbox` seam."""

from __future__ import annotations

from typing import Any

import httpx2
from structlog.testing import capture_logs

from ingest_harness import bearer
from triage.ingest import IngestService
from triage.ingest.gateway import ERROR_LINES_PER_S


class BrokenOutbox:
    """An Outbox with a bug for every body: it raises what no outbox should."""

    async def send(self, message: Any) -> str:
        raise RuntimeError("a bug in the outbox")


async def test_a_storm_of_bugs_logs_a_bounded_number_of_tracebacks_then_one_summary(
    gateway: IngestService, client: httpx2.AsyncClient
) -> None:
    """Past ERROR_LINES_PER_S requests failing with a bug in a second, the rest get no
    traceback of their own but one ingest.error_suppressed line counting them by error type;
    every request is still answered 500."""
    assert gateway.gateway is not None
    gateway.gateway.outbox = BrokenOutbox()
    requests = ERROR_LINES_PER_S + 15
    with capture_logs() as logs:
        statuses = [
            (
                await client.post(
                    "/v1/alerts/generic", content=b'{"title": "bug"}', headers=bearer("generic")
                )
            ).status_code
            for _ in range(requests)
        ]
        gateway.gateway.flush_lines()
    assert statuses == [500] * requests
    errors = [e for e in logs if e["event"] == "ingest.error"]
    assert 1 <= len(errors) <= ERROR_LINES_PER_S
    assert all(e.get("exc_info") for e in errors)
    summaries = [e for e in logs if e["event"] == "ingest.error_suppressed"]
    assert sum(s["count"] for s in summaries) == requests - len(errors)
    assert all(set(s["errors"]) == {"RuntimeError"} for s in summaries)
