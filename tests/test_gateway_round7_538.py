"""Round 7 against the webhook gateway and the operators' API (helper 538), over real HTTP on
127.0.0.1: a listing asked for more than any store holds, and what was not yet proven of
both servers' framing, pipelining and authentication."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from factories import alert
from test_operator_hostile import BEARER, client, serving
from test_store import LEASE, POLICY
from triage.incidents.sqlite import SQLiteStore

NOW = datetime(2026, 12, 4, 12, 0, tzinfo=UTC)


@pytest.fixture
async def store(tmp_path: Path) -> AsyncIterator[SQLiteStore]:
    """A SQLite store holding three open incidents."""
    opened = SQLiteStore(str(tmp_path / "t.db"), POLICY, LEASE, POLICY.reopen_window * 24)
    await opened.open()
    for i in range(3):
        await opened.begin(alert(f"disk-{i}"), f"fp{i}", NOW)
    yield opened
    await opened.aclose()


# --- the operators' API: paging past every store ----------------------------------------------


@pytest.mark.parametrize("asked", ["1000000000", "10" + "0" * 30, "0" * 40 + "7000"])
async def test_a_limit_past_any_store_is_cut_to_the_most_one_answer_holds(
    store: SQLiteStore, asked: str
) -> None:
    """`limit=10**9` (a script's "give me everything") is cut to 5,000 as the README says,
    not a 400 saying a positive whole number is not one."""
    async with serving(store) as server, client(server) as http:
        answer = await http.get(f"/api/v1/incidents?limit={asked}", headers=BEARER)
    assert answer.status_code == 200, answer.text
    assert answer.json()["limit"] == 5000
    assert answer.json()["total"] == len(answer.json()["incidents"]) == 3


@pytest.mark.parametrize("asked", ["1000000000", "9" * 40])
async def test_an_offset_past_any_store_is_an_empty_page(store: SQLiteStore, asked: str) -> None:
    """An offset past every incident any store holds answers an empty page whose `total`
    says where the list ended, as an offset just past the end does, not a 400."""
    async with serving(store) as server, client(server) as http:
        answer = await http.get(f"/api/v1/incidents?offset={asked}", headers=BEARER)
    assert answer.status_code == 200, answer.text
    assert answer.json()["incidents"] == []
    assert answer.json()["total"] == 3


@pytest.mark.parametrize(
    ("name", "asked"), [("limit", "0"), ("limit", "000"), ("limit", "-1"), ("offset", "-1")]
)
async def test_a_paging_number_that_is_none_is_still_refused(
    store: SQLiteStore, name: str, asked: str
) -> None:
    """A limit of nothing, or a negative limit or offset, is still a 400 naming the parameter."""
    async with serving(store) as server, client(server) as http:
        answer = await http.get(f"/api/v1/incidents?{name}={asked}", headers=BEARER)
    assert answer.status_code == 400
    assert answer.json()["error"].startswith(name)
