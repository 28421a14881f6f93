"""The store's writes copy an incident with `replace_incident`, never `dataclasses.replace`
(about 22 µs for an incident against 4.5): over every kind of write in
`test_store_writes_same_bodies`'s scenario, no incident is copied the slow way, and a new
incident's claim, ticket and confirmation copy it once each."""

from __future__ import annotations

import dataclasses
from typing import Any

import pytest

from factories import alert
from memory_store import MemoryStore
from test_store_writes_same_bodies import LEASE, POLICY, TICKET, _at, _scenario
from triage.incidents import lifecycle
from triage.incidents.lifecycle import Incident
from triage.incidents.store import Routing, delivery_owner


@pytest.fixture
def slow_copies(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The fields of every incident copied by `dataclasses.replace` during the test."""
    copies: list[str] = []
    replace = dataclasses.replace

    def counting(obj: Any, /, **changes: Any) -> Any:
        if isinstance(obj, Incident):
            copies.append(",".join(sorted(changes)))
        return replace(obj, **changes)

    monkeypatch.setattr(dataclasses, "replace", counting)
    return copies


async def test_no_write_copies_an_incident_the_slow_way(slow_copies: list[str]) -> None:
    """Each kind of write (claims, tickets, confirmations, releases, closes, reopens, silences,
    groups, the sweep's and an operator's) copies incidents without `dataclasses.replace`."""
    await _scenario(MemoryStore(POLICY, LEASE))
    assert slow_copies == []


async def test_a_new_incident_copies_it_once_per_write(monkeypatch: pytest.MonkeyPatch) -> None:
    """A new incident's claim, its ticket and its one sink's confirmation copy the incident
    once each (its claim made four copies, its ticket and confirmation two each)."""
    copies = 0
    copy = lifecycle._copy_incident

    def counting(incident: Incident) -> Incident:
        nonlocal copies
        copies += 1
        return copy(incident)

    monkeypatch.setattr(lifecycle, "_copy_incident", counting)
    store = MemoryStore(POLICY, LEASE)
    owner = delivery_owner("m1#0", "d1")
    fp = alert("api").fingerprint
    made = []
    await store.begin(alert("api"), owner, _at(0))
    made.append(copies)
    await store.save_ticket(fp, owner, TICKET, Routing("default", "payments", {}))
    made.append(copies)
    await store.confirm(fp, owner, "backend", "T-1", finish=True, now=_at(0.1))
    made.append(copies)
    assert made == [1, 2, 3]


async def test_a_write_compares_no_whole_incidents(monkeypatch: pytest.MonkeyPatch) -> None:
    """A claim whose incident changed is written without comparing it field by field with the
    stored one (2.5 µs a repeat: a new version is never equal to the stored one); one that
    changed nothing is still not written."""
    compared: list[int] = []
    equal = Incident.__eq__

    def counting(self: Incident, other: object) -> bool:
        compared.append(1)
        return equal(self, other)

    monkeypatch.setattr(Incident, "__eq__", counting)
    store = MemoryStore(POLICY, LEASE)
    await store.begin(alert("api"), delivery_owner("m1#0", "d1"), _at(0))
    fp = alert("api").fingerprint
    await store.finish(fp, delivery_owner("m1#0", "d1"))
    repeat = await store.begin(alert("api", minutes=1), delivery_owner("m2#0", "d1"), _at(1))
    assert repeat.after is not None and repeat.after.occurrences == 2
    assert compared == []
    again = await store.begin(alert("api", minutes=1), delivery_owner("m2#0", "d1"), _at(2))
    assert again.redelivery and again.after is None
