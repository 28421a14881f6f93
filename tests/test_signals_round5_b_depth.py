"""The status page shows the queue's depth as the daemon's poller last read it: a view never
polls SQS once the poller has polled (a failed poll is shown as such, with when the queue was
last read), and views that come before the first poll share one poll."""

from __future__ import annotations

import asyncio
import contextlib
import re
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx2
from botocore.exceptions import ClientError
from pydantic import SecretStr

from test_pipeline import CountingSummariser
from test_store import LEASE, POLICY
from triage.aws import Aws
from triage.health import Health
from triage.incidents.silences import SilenceCache
from triage.incidents.sqlite import SQLiteStore
from triage.metrics import Metrics
from triage.ops.api import OperatorView, operator_routes
from triage.ops.endpoints import EndpointServer
from triage.settings import Settings
from triage.sqs.depth import DepthPoller

TOKEN = "op-token-" + "b5" * 12
BEARER = {"Authorization": f"Bearer {TOKEN}"}
QUEUE_URL = "https://sqs.eu-west-1.amazonaws.com/1/q"
DEPTH = {
    "ApproximateNumberOfMessages": "3",
    "ApproximateNumberOfMessagesNotVisible": "1",
    "ApproximateNumberOfMessagesDelayed": "0",
}


class _Sqs:
    """GetQueueAttributes in memory: answers a depth of 3 while `up`, fails while not; each
    call waits for `gate` (open unless a test closes it)."""

    def __init__(self) -> None:
        self.calls = 0
        self.up = True
        self.gate = asyncio.Event()
        self.gate.set()

    async def get_queue_attributes(self, **_: Any) -> dict[str, Any]:
        self.calls += 1
        await self.gate.wait()
        if not self.up:
            error = {"Error": {"Code": "ServiceUnavailable", "Message": "try again"}}
            raise ClientError(error, "GetQueueAttributes")  # type: ignore[arg-type]
        return {"Attributes": dict(DEPTH)}


@contextlib.asynccontextmanager
async def status_page(tmp_path: Path, poller: DepthPoller) -> AsyncIterator[httpx2.AsyncClient]:
    """A client of the operator's status page on 127.0.0.1, showing `poller`'s depths."""
    settings = Settings(api_token=SecretStr(TOKEN))
    aws = Aws(settings)
    store = SQLiteStore(str(tmp_path / "t.db"), POLICY, LEASE, timedelta(days=30))
    await store.open()
    view = OperatorView(
        settings,
        store,
        SilenceCache(store),
        [],
        CountingSummariser(),
        Health(),
        aws,
        poller.metrics,
        poller,
    )
    server = EndpointServer(
        Health(), poller.metrics, "127.0.0.1", 0, extra_routes=operator_routes(view)
    )
    await server.start()
    try:
        async with httpx2.AsyncClient(base_url=f"http://127.0.0.1:{server.port}") as client:
            yield client
    finally:
        await server.aclose()
        await store.aclose()
        await aws.aclose()


async def page(client: httpx2.AsyncClient) -> str:
    answer = await client.get("/", headers=BEARER)
    assert answer.status_code == 200, answer.text
    return answer.text


async def test_a_failed_poll_after_a_good_one_shows_when_the_queue_was_last_read(
    tmp_path: Path,
) -> None:
    """A poll that worked, then one that failed: the page says the queue could not be read and
    when it last was (the good poll's time), without asking SQS itself."""
    sqs = _Sqs()
    poller = DepthPoller(sqs, QUEUE_URL, Metrics(), 60)
    good = await poller.poll()
    assert good is not None
    sqs.up = False
    assert await poller.poll() is None
    async with status_page(tmp_path, poller) as client:
        text = await page(client)
    assert "could not be read" in text, text
    assert f"last read at {good.polled_at:%Y-%m-%d %H:%M:%S} UTC" in text, text
    assert (sqs.calls, poller.metrics.counter("QueueDepthPollFailures")) == (2, 1)


async def test_a_queue_never_read_says_so_without_polling_again(tmp_path: Path) -> None:
    """The poller's only poll failed: the page says the queue could not be read and has not
    been since the daemon started; two views add no call to SQS."""
    sqs = _Sqs()
    sqs.up = False
    poller = DepthPoller(sqs, QUEUE_URL, Metrics(), 60)
    assert await poller.poll() is None
    async with status_page(tmp_path, poller) as client:
        for _ in range(2):
            text = await page(client)
            assert re.search(r"could not be read.{0,40}never", text), text
    assert sqs.calls == 1


async def test_views_before_the_first_poll_share_one_poll(tmp_path: Path) -> None:
    """Three views at once before any poll (the daemon just started) make one poll between
    them, and all three show its depth."""
    sqs = _Sqs()
    sqs.gate.clear()
    poller = DepthPoller(sqs, QUEUE_URL, Metrics(), 60)
    async with status_page(tmp_path, poller) as client:
        views = [asyncio.ensure_future(page(client)) for _ in range(3)]
        async with asyncio.timeout(10):
            while sqs.calls == 0:
                await asyncio.sleep(0.01)
        sqs.gate.set()
        texts = await asyncio.gather(*views)
    assert sqs.calls == 1  # one poll (of a queue without a DLQ: one call)
    assert all("<td>3</td>" in text for text in texts), texts


async def test_a_read_during_the_daemons_first_poll_waits_for_it() -> None:
    """A read for the page that comes while the poller's own first poll is under way shows
    that poll's depth instead of polling a second time."""
    sqs = _Sqs()
    sqs.gate.clear()
    poller = DepthPoller(sqs, QUEUE_URL, Metrics(), 60)
    first = asyncio.ensure_future(poller.poll())
    async with asyncio.timeout(10):
        while sqs.calls == 0:
            await asyncio.sleep(0.01)
    read = asyncio.ensure_future(poller.read())
    await asyncio.sleep(0)  # one turn of the loop: the read runs up to where it waits
    sqs.gate.set()
    depths = await read
    assert await first is depths is not None
    assert sqs.calls == 1, sqs.calls
