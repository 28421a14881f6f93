"""The gateway's `ingest.error` lines (a bug met while handling one request) are bounded as its
other lines are: a request that keeps meeting the same bug cannot fill the logs with one
traceback each. No client-reachable path raises an unexpected exception today (a garbage SQS
answer is a 503, ingest/outbox.py), so the bug is injected through the `Outbox` seam. So are
the outbox's lines for a send SQS failed: while SQS fails, every webhook's send fails."""

from __future__ import annotations

from typing import Any

import httpx2
from structlog.testing import capture_logs

from daemon_harness import Queues
from fault_proxy import FaultProxy
from ingest_harness import bearer, ingest_settings, loopback_client, payload, running
from triage.ingest import IngestService
from triage.ingest.gateway import ERROR_LINES_PER_S
from triage.ingest.outbox import SEND_FAILURE_LINES_PER_S

GENERIC = payload("generic/firing.json")


def _frozen() -> float:
    """A clock that never moves: a line budget's window then holds every request of a test."""
    return 0.0


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
    # Every request in one window of the budget, however slowly a loaded machine serves them.
    gateway.gateway.error_lines._clock = _frozen
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


async def test_a_failing_sqs_logs_a_bounded_number_of_send_failures(queues: Queues) -> None:
    """While SQS refuses every send (403 AccessDenied: a policy changed under the gateway, not
    retried, so failures come as fast as webhooks), each webhook is answered 503 as before, but past
    SEND_FAILURE_LINES_PER_S in a second the failures get no ingest.queue_unavailable line of
    their own: one ingest.queue_unavailable_suppressed line counts them by error code (flushed
    when the gateway stops, at the latest)."""
    requests = SEND_FAILURE_LINES_PER_S + 15
    with FaultProxy(queues.endpoint) as proxy:
        for call in ("AmazonSQS.SendMessage", "AmazonSQS.SendMessageBatch"):
            proxy.refuse(call, 403, "AccessDenied")
        settings = ingest_settings(proxy.queue_url(queues.url), proxy.url)
        with capture_logs() as logs:
            async with running(settings) as service, loopback_client(service.port) as client:
                assert service.gateway is not None
                # One window of the budget, however slowly a loaded machine serves them.
                service.gateway.outbox._failure_lines._clock = _frozen  # type: ignore[attr-defined]
                statuses = [
                    (
                        await client.post(
                            "/v1/alerts/generic", content=GENERIC, headers=bearer("generic")
                        )
                    ).status_code
                    for _ in range(requests)
                ]
    assert statuses == [503] * requests
    lines = [e for e in logs if e["event"] == "ingest.queue_unavailable"]
    assert 1 <= len(lines) <= SEND_FAILURE_LINES_PER_S
    summaries = [e for e in logs if e["event"] == "ingest.queue_unavailable_suppressed"]
    assert sum(s["count"] for s in summaries) == requests - len(lines)
    assert all(set(s["errors"]) == {"AccessDenied"} for s in summaries)
