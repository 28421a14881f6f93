"""What a silence quiets, seen before and while it does, against a store of a few hundred open
incidents: `triage silence add --dry-run` (and `POST /api/v1/silences?dry_run=1`) say which
open incidents a silence would match and store nothing; `silence list` and `GET
/api/v1/silences` say how many open incidents each silence matches now, naming the first."""

from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncIterator
from typing import Any

import httpx2
import pytest
from pydantic import SecretStr

from test_operator_filters import BEARER, TOKEN, _expected, _titles, triage
from test_operator_filters import store as store  # 300 open incidents, TRIAGE_STORE_URL's
from test_pipeline import CountingSummariser
from triage.aws import Aws
from triage.health import Health
from triage.incidents import Store
from triage.incidents.silences import SilenceCache
from triage.metrics import Metrics
from triage.ops.api import OperatorView, operator_routes
from triage.ops.endpoints import EndpointServer
from triage.ops.operator import MATCHING_NAMED
from triage.settings import Settings

#: cloudwatch (every 4th) and prod (odd): no incident holds both.
NONE_MATCH = ["--match", "source=cloudwatch", "--match", "env=prod"]
#: sentry (i % 4 == 2) about a disk (i % 10 == 0): 10, 30, 50, … 290.
DISK = ["--match", "source=sentry", "--match", "title=~Disk.*"]
DISK_MATCHED = _expected(lambda i: i % 4 == 2 and i % 10 == 0)


def _matched(shown: dict[str, Any]) -> set[int]:
    return _titles(shown["matching"]["incidents"])


async def _triage(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, list[Any], str]:
    return await asyncio.to_thread(triage, capsys, *args)


async def test_a_dry_run_names_what_a_silence_would_quiet_and_adds_nothing(
    store: Store, capsys: pytest.CaptureFixture[str]
) -> None:
    """`silence add --dry-run` prints the silence it would add with the open incidents it
    would match (how many, the first by title), says on stderr that nothing was added, and
    stores nothing; a matcher it would refuse is still exit 2."""
    add = ["silence", "add", *DISK, "--for", "1h", "--comment", "disk swap"]
    code, [would], err = await _triage(capsys, *add, "--dry-run")
    assert code == 0, err
    assert would["matching"]["open"] == len(DISK_MATCHED) == 15
    assert _matched(would) <= DISK_MATCHED and len(would["matching"]["incidents"]) == 10
    assert "dry run" in err and "nothing was added" in err
    assert (await _triage(capsys, "silence", "list", "--all"))[1] == []
    assert list(await store.silences()) == []
    code, [none], err = await _triage(
        capsys, "silence", "add", *NONE_MATCH, "--for", "1h", "--comment", "c", "--dry-run"
    )
    assert code == 0 and none["matching"] == {"open": 0, "incidents": []}
    assert "matches none of the 300 open incidents" in err
    bad = await _triage(capsys, "silence", "add", "--match", "env", "--for", "1h",
                        "--comment", "c", "--dry-run")  # fmt: skip
    assert bad[0] == 2


async def test_silence_list_says_how_many_open_incidents_each_matches(
    store: Store, capsys: pytest.CaptureFixture[str]
) -> None:
    """Each listed silence carries `matching`: the open incidents it matches now (a count,
    and the first by fingerprint and title), so an operator sees what is quiet and why."""
    for matchers in (DISK, NONE_MATCH):
        code, _, err = await _triage(
            capsys, "silence", "add", *matchers, "--for", "1h", "--comment", "c"
        )
        assert code == 0, err
    code, listed, _ = await _triage(capsys, "silence", "list")
    by_matchers = {tuple(s["matchers"]): s for s in listed}
    disk = by_matchers[("source=sentry", "title=~Disk.*")]
    assert disk["matching"]["open"] == 15 and _matched(disk) <= DISK_MATCHED
    assert len(disk["matching"]["incidents"]) == MATCHING_NAMED
    assert by_matchers[("source=cloudwatch", "env=prod")]["matching"]["open"] == 0


@pytest.fixture
async def client(store: Store) -> AsyncIterator[httpx2.AsyncClient]:
    settings = Settings(api_token=SecretStr(TOKEN))
    aws = Aws(settings)
    view = OperatorView(
        settings, store, SilenceCache(store), [], CountingSummariser(), Health(), aws
    )
    server = EndpointServer(Health(), Metrics(), "127.0.0.1", 0, extra_routes=operator_routes(view))
    await server.start()
    try:
        async with httpx2.AsyncClient(base_url=f"http://127.0.0.1:{server.port}") as opened:
            yield opened
    finally:
        await server.aclose()
        await aws.aclose()


async def test_the_api_previews_a_silence_and_lists_what_each_matches(
    store: Store, client: httpx2.AsyncClient
) -> None:
    """POST /api/v1/silences?dry_run=1 answers 200 with the silence it would add and what it
    would match, storing nothing; GET /api/v1/silences carries `matching` per silence."""
    body = {"matchers": ["source=sentry", "title=~Disk.*"], "duration": "1h", "comment": "c"}
    preview = await client.post("/api/v1/silences?dry_run=1", json=body, headers=BEARER)
    assert preview.status_code == 200, preview.text
    assert preview.json()["matching"]["open"] == 15 and list(await store.silences()) == []
    refused = await client.post("/api/v1/silences?dry_run=maybe", json=body, headers=BEARER)
    assert refused.status_code == 400 and "dry_run" in refused.json()["error"]
    added = await client.post("/api/v1/silences", json=body, headers=BEARER)
    assert added.status_code == 201
    [listed] = (await client.get("/api/v1/silences", headers=BEARER)).json()["silences"]
    assert listed["id"] == added.json()["id"] and listed["matching"]["open"] == 15
    assert _matched(listed) <= DISK_MATCHED


async def test_the_status_page_says_how_many_open_incidents_each_silence_matches(
    store: Store, client: httpx2.AsyncClient
) -> None:
    """The page's Silences table has a column of the open incidents each silence matches now,
    so a silence quieting more than meant is seen at a glance."""
    for matchers in (["source=sentry", "title=~Disk.*"], ["source=cloudwatch", "env=prod"]):
        body = {"matchers": matchers, "duration": "1h", "comment": "c"}
        assert (await client.post("/api/v1/silences", json=body, headers=BEARER)).is_success
    html = (await client.get("/", headers=BEARER)).text
    silences = html.split("<h2>Silences</h2>")[1].split("</table>")[0]
    assert "<th>Open incidents matched</th>" in silences
    row = r"<tr><td>((?:<span[^>]*>[^<]*</span> ?)+)</td><td>[^<]*</td><td>(\d+)</td>"
    rows = {
        tuple(re.findall(r"<span[^>]*>([^<]*)</span>", cell)): matched
        for cell, matched in re.findall(row, silences)
    }
    assert rows == {
        ("source=sentry", "title=~Disk.*"): "15",
        ("source=cloudwatch", "env=prod"): "0",
    }
