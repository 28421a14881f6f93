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
