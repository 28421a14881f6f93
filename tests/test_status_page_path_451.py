"""The status page reads an incident's path segment as the API does: percent-decoded once."""

from __future__ import annotations

from test_operator_api import BEARER, _seed, serving
from test_store import store as store  # the suite's SQLite and DynamoDB stores
from triage.incidents import Store


async def test_the_status_pages_incident_path_is_percent_decoded_once(store: Store) -> None:
    """`/incidents/{prefix}%20` (a link pasted with its trailing space escaped) shows the
    incident, as `/api/v1/incidents/{prefix}%20` and `triage incidents show` find it."""
    fp = await _seed(store)
    async with serving(store) as client:
        page = await client.get(f"/incidents/{fp[:8]}%20", headers=BEARER)
        assert page.status_code == 200, page.text
        assert fp in page.text


async def test_the_status_pages_incident_path_not_utf8_is_a_page_naming_it(store: Store) -> None:
    """A segment whose escapes are not UTF-8 (`caf%E9`) is a 400 page saying so, not a 404
    that reads as "no such incident"."""
    await _seed(store)
    async with serving(store) as client:
        page = await client.get("/incidents/caf%E9", headers=BEARER)
        assert page.status_code == 400, page.text
        assert "UTF-8" in page.text and "caf" in page.text
