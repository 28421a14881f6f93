"""/healthz reads its answer's status and body at one instant (`Health.liveness`)."""

from __future__ import annotations

import json
from collections.abc import Iterator

from triage.health import Health
from triage.metrics import Metrics
from triage.ops.endpoints import EndpointServer
from triage.ops.http_server import Request


async def test_healthz_status_and_body_agree_when_a_beat_falls_due_between_reads() -> None:
    """A loop whose beat falls due while /healthz is being answered gives a 503 whose body says
    `"alive": false` and names the loop (or a 200 naming none), never a status the body denies."""
    ticks: Iterator[float] = iter(0.6 * n for n in range(1, 100))
    health = Health(clock=lambda: next(ticks))
    health._due["intake"] = 1.0  # due between the clock's first read (0.6) and its second (1.2)
    server = EndpointServer(health, Metrics(), "127.0.0.1", 0)
    request = Request("GET", "/healthz", "", (), b"", "127.0.0.1")
    response = await server._healthz(request)
    body = json.loads(response.body)
    assert body["alive"] is (response.status == 200)
    assert bool(body["stalled"]) is not body["alive"]
