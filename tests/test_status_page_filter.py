"""The status page's filter form, as an operator on a phone uses it against a store of a few
hundred open incidents: `/?search=…&source=…&team=…&priority=…&match=…` lists only the open
incidents every filter keeps (the same strict filters as `triage incidents list`), the form
keeps what was typed (escaped), and a value that names nothing is a 400 page saying why."""

from __future__ import annotations

import re
from collections.abc import Callable

import httpx2
import pytest

from test_operator_filters import BEARER, _expected
from test_operator_filters import store as store  # 300 open incidents
from test_operator_silence_preview import client as client  # the operator's routes
from triage.incidents import Store


def _listed(html: str) -> set[str]:
    """The fingerprints of the rows of the Open incidents section."""
    section = html.split("<h2>Open incidents</h2>")[1].split("<h2>Flapping</h2>")[0]
    return set(re.findall(r'<a href="/incidents/([0-9a-f]+)"', section))


async def _fingerprints(store: Store, keep: Callable[[int], object]) -> set[str]:
    incidents = await store.incidents()
    numbers = {int(i.title.split("#")[1].split()[0]): i.fingerprint for i in incidents}
    return {numbers[n] for n in _expected(keep)}


async def test_the_form_filters_the_open_incidents_and_keeps_what_was_typed(
    store: Store, client: httpx2.AsyncClient
) -> None:
    """search, source, team, priority and a matcher keep exactly their incidents, the page
    says how many of all open ones it shows, and the form holds the values typed."""
    params = {"search": "DISK", "source": "sentry", "team": "payments", "priority": "critical,high,medium",
              "match": "env=staging"}  # fmt: skip
    page = await client.get("/", params=params, headers=BEARER)
    assert page.status_code == 200, page.text
    want = await _fingerprints(store, lambda i: i % 4 == 2 and i % 10 == 0 and i % 3)
    assert _listed(page.text) == want and len(want) == 10
    assert f"{len(want)} of 300 open incidents" in page.text
    assert 'name=search value="DISK"' in page.text and 'value="env=staging"' in page.text
    unfiltered = await client.get("/", headers=BEARER)
    assert "300 open incidents" in unfiltered.text and "<form method=get" in unfiltered.text


@pytest.mark.parametrize(
    ("query", "says"),
    [
        ({"priority": "P9"}, "priority"),
        ({"source": "cloudwach"}, "did you mean"),
        ({"match": 'env="prod"'}, "double quotes"),
        ({"sorce": "sentry"}, "unknown query parameter"),
        ({"search": '"><script>alert(1)</script>'}, None),
    ],
)
async def test_a_value_that_names_nothing_is_a_400_page_saying_why(
    client: httpx2.AsyncClient, query: dict[str, str], says: str | None
) -> None:
    """A filter value that names nothing is a 400 page with the reason and the form (no
    listing that looks filtered); a hostile search is only ever text on the page."""
    page = await client.get("/", params=query, headers=BEARER)
    assert "<script>" not in page.text
    if says is None:
        assert page.status_code == 200 and "&lt;script&gt;" in page.text
        return
    assert page.status_code == 400 and says in page.text.replace("&#x27;", "'")
    assert "<form method=get" in page.text and "<h2>Open incidents</h2>" not in page.text
