"""IngestRequests counts every answer of `triage ingest`, as the README says: also the ones its
HTTP layer gives before any handler runs (an unparsable request's 400, an oversized head's 431),
whose log lines are bounded, so a flood of them shows in the metric."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from structlog.testing import capture_logs

from daemon_harness import Queues
from ingest_harness import TOKENS, ingest_settings, running
from test_ingest_hostile import exchange, head, padded_head, wait_logged
from triage.ingest import IngestService

BEARER = f"Authorization: Bearer {TOKENS['generic']}\r\n"


@pytest.fixture
async def gateway(queues: Queues) -> AsyncIterator[IngestService]:
    """The gateway on a free port, in front of moto's `alerts` queue."""
    async with running(ingest_settings(queues.url, queues.endpoint)) as service:
        yield service


async def test_answers_the_http_layer_gives_are_counted(gateway: IngestService) -> None:
    """A request framed two ways (400) and a 100 KB head (431) each count once in
    IngestRequests under their status, beside the handler's own answers."""
    smuggling = head("/v1/alerts/generic", BEARER + "Content-Length: 2\r\nContent-Length: 3\r\n")
    length = b"\r\nContent-Length: 2\r\n\r\n{}"
    with capture_logs() as logs:
        assert (await exchange(gateway.port, smuggling + b"{}")).status == 400
        assert (await exchange(gateway.port, padded_head(100_000) + length)).status == 431
        await wait_logged(logs, "ingest.bad_http")
    metrics = gateway.metrics
    assert metrics.counter("IngestRequests", status="400") == 1
    assert metrics.counter("IngestRequests", status="431") == 1
    assert metrics.counter("IngestRequests") == 2
