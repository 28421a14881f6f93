"""Round 14 (helper 455): storms and groups. The real Pipeline on the in-memory store, a
recording sink, and the group rules' pure functions: each test a bug found in round 14 (or
left by round 13), fixed with it."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from factories import alert
from test_priority_raised_452 import GROUPED, GatedSummariser, Rig
from triage.errors import GatheringError, StoreBusyError
from triage.incidents import Action
from triage.incidents.claims import delivery_owner
from triage.models import Alert, EffectKind, Priority


def _member(name: str, minutes: float, priority: Priority) -> Alert:
    """Generic alert `name` of service `api` (the group's key), firing at `priority`."""
    sent = alert(name, minutes=minutes, priority=priority)
    return sent.model_copy(update={"labels": {"service": "api", "pod": name}})


async def _sent_or_busy(r: Rig, minutes: float, sent: Alert) -> Action | None:
    """`r.send`, None when the incident was busy (the message waits for the effect in
    progress, as its retry then does)."""
    try:
        return await r.send(minutes, sent)
    except StoreBusyError:
        return None


async def test_a_raise_while_a_gathered_groups_open_is_in_flight_reaches_the_sinks(
    tmp_path: Path,
) -> None:
    """A group gathers (30 s) from a medium member; once the window is over, its open is
    claimed and summarised (in flight) when a member fires at critical: that raise waits for
    the open and then updates the ticket to critical, rather than being stored as stated
    and never told (the open had read the incident before it)."""
    r = Rig(tmp_path, GROUPED)
    first = _member("api-0", 0, Priority.MEDIUM)
    with pytest.raises(GatheringError):
        await r.send(0, first)
    summariser = GatedSummariser()
    r.pipeline.summariser = summariser
    r.clock.at(1)
    # The window over, the first member's next delivery claims the open as its own.
    owner = delivery_owner("m0", "r-2")
    opening = asyncio.create_task(r.pipeline.handle(first, owner, r.pipeline.group_of(first)))
    await asyncio.wait_for(summariser.waiting.wait(), timeout=30)
    raise_ = _member("api-1", 1.1, Priority.CRITICAL)
    await _sent_or_busy(r, 1.1, raise_)
    summariser.gate.set()
    assert await opening is Action.OPEN
    await _sent_or_busy(r, 1.1, raise_)
    kinds = [e.kind for e in r.backend.effects]
    assert kinds == [EffectKind.OPEN, EffectKind.UPDATE], kinds
    assert r.backend.effects[-1].ticket.priority is Priority.CRITICAL
