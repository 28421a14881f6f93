"""Silences an operator adds twice, over the API on a loopback port, against both stores
(SQLite and DynamoDB on moto): a retried or repeated `silence add` keeps one silence, so
expiring the silence it printed ends the quiet instead of leaving an unseen twin behind."""

from __future__ import annotations

from datetime import datetime

from test_operator_api import BEARER, serving
from test_store import store as store  # the suite's SQLite and DynamoDB stores
from triage.incidents import Store

SILENCE = {"matchers": ["team=payments", "env=prod"], "duration": "2h", "comment": "db work"}


async def test_the_same_silence_added_twice_is_one_silence(store: Store) -> None:
    """A second identical add (a retry whose answer was lost) answers the first silence."""
    async with serving(store) as client:
        first = await client.post("/api/v1/silences", json=SILENCE, headers=BEARER)
        again = await client.post("/api/v1/silences", json=SILENCE, headers=BEARER)
        listed = (await client.get("/api/v1/silences", headers=BEARER)).json()["silences"]
    assert first.status_code == again.status_code == 201
    assert again.json()["id"] == first.json()["id"]
    assert [s["id"] for s in listed] == [first.json()["id"]]


async def test_expiring_a_silence_added_twice_ends_the_quiet(store: Store) -> None:
    """After two identical adds, expiring the printed id leaves no silence in effect."""
    async with serving(store) as client:
        await client.post("/api/v1/silences", json=SILENCE, headers=BEARER)
        added = (await client.post("/api/v1/silences", json=SILENCE, headers=BEARER)).json()
        await client.delete(f"/api/v1/silences/{added['id']}", headers=BEARER)
        listed = (await client.get("/api/v1/silences", headers=BEARER)).json()["silences"]
    assert listed == []


async def test_adding_the_same_silence_for_longer_extends_it(store: Store) -> None:
    """The same matchers (in another order), comment and author for longer extend the one silence."""
    longer = {**SILENCE, "matchers": ["env=prod", "team=payments"], "duration": "1d"}
    async with serving(store) as client:
        first = (await client.post("/api/v1/silences", json=SILENCE, headers=BEARER)).json()
        extended = (await client.post("/api/v1/silences", json=longer, headers=BEARER)).json()
        shorter = (await client.post("/api/v1/silences", json=SILENCE, headers=BEARER)).json()
    assert extended["id"] == shorter["id"] == first["id"]
    ends = datetime.fromisoformat(extended["ends_at"]) - datetime.fromisoformat(first["ends_at"])
    assert ends.total_seconds() >= 22 * 3600
    assert shorter["ends_at"] == extended["ends_at"]  # a shorter add never shortens it


async def test_a_silence_that_differs_in_anything_asked_is_another(store: Store) -> None:
    """Another comment, author or matcher is another silence, with its own id."""
    variants = [
        {**SILENCE, "comment": "other work"},
        {**SILENCE, "author": "bob"},
        {**SILENCE, "matchers": ["team=payments", "env=staging"]},
    ]
    async with serving(store) as client:
        ids = set()
        for body in [SILENCE, *variants]:
            answer = await client.post("/api/v1/silences", json=body, headers=BEARER)
            ids.add(answer.json()["id"])
    assert len(ids) == 4
