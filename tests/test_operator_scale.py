"""The operator's surfaces under a busy team's load, on a loopback port (SQLite store): the
status page and the API share one scan of the store's incidents, so concurrent or repeated
requests cannot each decode every incident on the daemon's event loop, and a scan gives way
to the daemon's other tasks while it decodes; the page's bounded tables say what they leave
out."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx2
import pytest
from pydantic import SecretStr

from factories import alert
from test_pipeline import CountingSummariser
from triage.aws import Aws
from triage.health import Health
from triage.incidents import Incident
from triage.incidents.lifecycle import Policy
from triage.incidents.silences import Matcher, Silence, SilenceCache
from triage.incidents.sqlite import SQLiteStore
from triage.incidents.store import Record
from triage.metrics import Metrics
from triage.ops.api import OperatorView, operator_routes
from triage.ops.endpoints import EndpointServer
from triage.ops.operator import Filter, SharedScan, list_incidents
from triage.settings import Settings

TOKEN = "scale-op-token-" + "s" * 20
BEARER = {"Authorization": f"Bearer {TOKEN}"}
NOW = datetime(2026, 12, 4, 12, 0, tzinfo=UTC)


class CountingStore(SQLiteStore):
    """A SQLite store that counts its full scans of incidents."""

    scans = 0

    async def incidents(self) -> list[Incident]:
        self.scans += 1
        return await super().incidents()


@pytest.fixture
async def store(tmp_path: Path) -> AsyncIterator[CountingStore]:
    opened = CountingStore(
        str(tmp_path / "t.db"), Policy(), timedelta(minutes=2), timedelta(days=1)
    )
    await opened.open()
    for i in range(3):
        await opened.begin(alert(f"busy-{i}"), f"m{i}", NOW)
    yield opened
    await opened.aclose()


class Clock:
    """A monotonic clock the test moves by hand."""

    def __init__(self) -> None:
        self.now_s = 1000.0

    def __call__(self) -> float:
        return self.now_s


@contextlib.asynccontextmanager
async def serving(store: CountingStore, clock: Clock) -> AsyncIterator[httpx2.AsyncClient]:
    settings = Settings(api_token=SecretStr(TOKEN))
    aws = Aws(settings)
    view = OperatorView(
        settings, store, SilenceCache(store), [], CountingSummariser(), Health(), aws
    )
    view.scan = SharedScan(clock=clock)
    server = EndpointServer(Health(), Metrics(), "127.0.0.1", 0, extra_routes=operator_routes(view))
    await server.start()
    try:
        async with httpx2.AsyncClient(base_url=f"http://127.0.0.1:{server.port}") as client:
            yield client
    finally:
        await server.aclose()
        await aws.aclose()


async def test_concurrent_page_and_api_requests_share_one_scan(store: CountingStore) -> None:
    """Six page loads and listings at once decode the store's incidents once, not six times."""
    clock = Clock()
    async with serving(store, clock) as client:
        paths = ["/", "/api/v1/incidents", "/api/v1/incidents?state=all"] * 2
        answers = await asyncio.gather(*(client.get(p, headers=BEARER) for p in paths))
    assert {a.status_code for a in answers} == {200}
    assert answers[1].json()["total"] == 3
    assert store.scans == 1


async def test_a_listing_after_the_shared_scan_ages_reads_the_store_again(
    store: CountingStore,
) -> None:
    """A listing within the scan's max age reuses it; one after it sees a new incident."""
    clock = Clock()
    async with serving(store, clock) as client:
        assert (await client.get("/api/v1/incidents", headers=BEARER)).json()["total"] == 3
        await store.begin(alert("busy-new"), "m-new", NOW)
        assert (await client.get("/api/v1/incidents", headers=BEARER)).json()["total"] == 3
        clock.now_s += SharedScan.MAX_AGE_S
        assert (await client.get("/api/v1/incidents", headers=BEARER)).json()["total"] == 4
    assert store.scans == 2


async def test_the_page_says_how_many_silences_it_does_not_show(store: CountingStore) -> None:
    """With more silences than the page's table holds, it says how many more there are."""
    now = datetime.now(UTC)
    for i in range(53):
        matcher = Matcher.parse(f"service=svc-{i}")
        await store.add_silence(
            Silence.new([matcher], now, now + timedelta(hours=1), "work", "al"), now
        )
    async with serving(store, Clock()) as client:
        page = (await client.get("/", headers=BEARER)).text
    assert page.count("service=svc-") == 50
    assert "… and 3 more silences (see the API)" in page


async def test_the_shared_scan_is_let_go_once_too_old_to_answer_with(
    store: CountingStore,
) -> None:
    """A scan no request reads again is dropped after its max age, not kept for the daemon's life."""
    scan = SharedScan(max_age_s=0.05)
    assert len(await scan.incidents(store)) == 3 and scan.kept == 3
    deadline = asyncio.get_running_loop().time() + 5
    while scan.kept and asyncio.get_running_loop().time() < deadline:
        await asyncio.sleep(0.01)
    assert scan.kept == 0
    assert len(await scan.incidents(store)) == 3 and store.scans == 2


class TickedStore(SQLiteStore):
    """A SQLite store that notes how far a ticking task had got when its scan's rows arrived."""

    ticks_at_rows = -1

    def __init__(self, *args: object, ticker: list[int]) -> None:
        super().__init__(*args)  # type: ignore[arg-type]
        self.ticker = ticker

    async def _scan(self, kind: str) -> list[Record]:
        rows = await super()._scan(kind)
        self.ticks_at_rows = self.ticker[0]
        return rows


async def test_decoding_a_large_scan_gives_way_to_other_tasks(tmp_path: Path) -> None:
    """While 1,000 scanned incidents are decoded, other tasks on the event loop still run."""
    ticker = [0]
    store = TickedStore(
        str(tmp_path / "t.db"), Policy(), timedelta(minutes=2), timedelta(days=1), ticker=ticker
    )
    await store.open()
    try:
        for i in range(1000):
            await store.begin(alert(f"many-{i}"), f"m{i}", NOW)

        async def tick() -> None:
            while True:
                ticker[0] += 1
                await asyncio.sleep(0)

        ticking = asyncio.create_task(tick())
        try:
            assert len(await store.incidents()) == 1000
        finally:
            ticking.cancel()
    finally:
        await store.aclose()
    assert ticker[0] > store.ticks_at_rows >= 0


async def test_a_listing_past_its_limit_is_read_page_by_page(store: CountingStore) -> None:
    """`offset` pages through every match, in the listing's order; a bad offset is a 400."""
    for i in range(3, 7):
        await store.begin(alert(f"busy-{i}"), f"m{i}", NOW)
    async with serving(store, Clock()) as client:
        whole = (await client.get("/api/v1/incidents", headers=BEARER)).json()
        pages = []
        for offset in (0, 3, 6):
            query = f"/api/v1/incidents?limit=3&offset={offset}"
            pages.append((await client.get(query, headers=BEARER)).json())
        refused = [
            (await client.get(f"/api/v1/incidents?offset={bad}", headers=BEARER)).status_code
            for bad in ("-1", "x", "1e3", "٣")
        ]
    assert [len(p["incidents"]) for p in pages] == [3, 3, 1]
    assert {p["total"] for p in pages} == {7}
    paged = [i["fingerprint"] for p in pages for i in p["incidents"]]
    assert paged == [i["fingerprint"] for i in whole["incidents"]]
    assert refused == [400] * 4


async def test_incidents_opened_in_one_instant_list_in_one_order_however_the_store_reads_them(
    store: CountingStore,
) -> None:
    """Incidents alike in urgency and opening time are listed by fingerprint, so the order (and
    every page of it) is the same whatever order the store's scan returned them in."""
    for i in range(6):
        await store.begin(alert(f"same-instant-{i}"), f"s{i}", NOW)
    read = await store.incidents()

    class Reversed:
        async def incidents(self, _store: object) -> list[Incident]:
            return list(reversed(read))

    as_read = await list_incidents(store, Filter())
    reversed_read = await list_incidents(store, Filter(), Reversed())  # type: ignore[arg-type]
    assert [i.fingerprint for i in as_read] == [i.fingerprint for i in reversed_read]
    assert [i.fingerprint for i in as_read] == sorted(i.fingerprint for i in read)
