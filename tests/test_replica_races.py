"""Two replicas on one SQLite file handle two alerts of one incident stamped with the same
time: the store serialises their writes in either order, and both orders must end in the same
state (the message queued later holds the newer event), or replicas would disagree by chance."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

import pytest

from factories import T0
from triage.incidents.lifecycle import Action, Policy, State
from triage.incidents.sqlite import SQLiteStore
from triage.incidents.store import Store, delivery_owner
from triage.models import Status

POLICY = Policy(update_interval=timedelta(minutes=15), reopen_window=timedelta(hours=1))
LEASE = timedelta(minutes=2)
STAMP = T0 + timedelta(minutes=5)


@dataclass(frozen=True)
class Event:
    """An alert of `api-5xx` as the pipeline hands it to the store: with when its message was
    queued."""

    status: Status
    occurred_at: datetime
    queued_at: datetime | None
    fingerprint: str = "f" * 32
    source: str = "generic"
    title: str = "api-5xx is failing"


@pytest.fixture
async def pair(tmp_path: Path) -> AsyncIterator[tuple[Store, Store]]:
    """Two replicas' stores on one SQLite file."""
    stores = [
        SQLiteStore(str(tmp_path / "t.db"), POLICY, LEASE, timedelta(days=30)) for _ in range(2)
    ]
    for store in stores:
        await store.open()
    yield stores[0], stores[1]
    for store in stores:
        await store.aclose()


async def _apply(store: Store, event: Event, mid: str) -> Action:
    """`event` in message `mid`, handled at STAMP; its effect (if any) carried out at once."""
    owner = delivery_owner(f"{mid}#0", "a")
    transition = await store.begin(event, owner, STAMP)
    if transition.action.effect is not None:
        await store.finish(transition.fingerprint, owner)
    return transition.action


@pytest.mark.parametrize(
    ("resolve_queued_last", "ends"),
    [(True, State.CLOSED), (False, State.OPEN)],
    ids=["resolve-queued-last", "repeat-queued-last"],
)
@pytest.mark.parametrize("resolve_written_first", [True, False], ids=["resolve", "repeat"])
async def test_a_resolve_and_a_repeat_stamped_alike_end_alike_in_either_order(
    pair: tuple[Store, Store], resolve_queued_last: bool, ends: State, resolve_written_first: bool
) -> None:
    """A repeat and a resolve stamped with the same time, each on its own replica, end in the
    state of the one queued last, whichever replica writes first (a resolve written first
    and a repeat after it reopened the incident: open for good though the alert had
    resolved last)."""
    one, two = pair
    await _apply(one, Event(Status.FIRING, T0, T0), "m0")
    first, second = STAMP, STAMP + timedelta(seconds=1)
    resolve = Event(Status.RESOLVED, STAMP, second if resolve_queued_last else first)
    repeat = Event(Status.FIRING, STAMP, first if resolve_queued_last else second)
    order = [(two, resolve, "r"), (one, repeat, "f")]
    for store, event, mid in order if resolve_written_first else reversed(order):
        await _apply(store, event, mid)
    stored = await one.get("f" * 32)
    assert stored is not None and stored.state is ends
