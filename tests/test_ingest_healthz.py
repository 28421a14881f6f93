"""The gateway's public `/healthz` tells the truth as the daemon's does: 503 when the event
loop lags past its bound or a watched loop has stalled, 200 otherwise; and it says only
`alive`, never the lag or a loop's name, to whoever on the internet asks."""

from __future__ import annotations

import asyncio
import time

import httpx2
import pytest

from triage.health import Health
from triage.ingest import IngestService


async def test_public_healthz_is_200_and_says_only_alive(client: httpx2.AsyncClient) -> None:
    """A healthy gateway answers 200 with `alive` alone: no lag figure, no loop names."""
    response = await client.get("/healthz")
    assert (response.status_code, response.json()) == (200, {"alive": True})


async def test_public_healthz_is_503_while_the_event_loop_lags(
    gateway: IngestService, client: httpx2.AsyncClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A loop blocked past the lag bound (lowered here) is measured by the watchdog, and the
    public /healthz then answers 503 `{"alive": false}` without saying how late it was."""
    monkeypatch.setattr(Health, "MAX_LAG_S", 0.05)
    deadline = time.monotonic() + 10
    while gateway.health.loop_lag_s < Health.MAX_LAG_S:
        assert time.monotonic() < deadline, "the watchdog never measured the lag"
        # Blocking on purpose (ASYNC251): this stall of the event loop is the lag measured.
        time.sleep(0.2)  # noqa: ASYNC251
        await asyncio.sleep(0.6)  # a watchdog tick (every 0.5 s) sees it
    response = await client.get("/healthz")
    assert (response.status_code, response.json()) == (503, {"alive": False})


async def test_public_healthz_is_503_when_a_watched_loop_stalls(
    gateway: IngestService, client: httpx2.AsyncClient
) -> None:
    """A loop that promised to turn and did not makes the public /healthz 503, without its
    name; once it turns again, 200."""
    gateway.health.beat("intake", within_s=-1.0)
    response = await client.get("/healthz")
    assert (response.status_code, response.json()) == (503, {"alive": False})
    gateway.health.beat("intake", within_s=60.0)
    assert (await client.get("/healthz")).status_code == 200
