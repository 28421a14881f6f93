"""Groups in a storm (round 4): the update a group owes its ticket for members that joined,
fired again or resolved within its update interval goes out with the next member event after
the interval (even a resend stamped as before) or by the sweep. The lifecycle's pure
functions, and the store's sweep write on the in-memory store."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

from factories import T0
from memory_store import MemoryStore
from test_pipeline import LEASE, POLICY
from test_redteam_round4_storms import grouping, pod, webhook
from triage.incidents.groups import GroupKey, decide_group
from triage.incidents.lifecycle import Action, Incident
from triage.models import EffectKind, Status

KEY = GroupKey.of("pods", ("alertname",), {"alertname": "Crash"}, 0, str)


@dataclass(frozen=True)
class Event:
    """A member's event as the pipeline applies it: with when its message was queued."""

    name: str
    status: Status = Status.FIRING
    minutes: float = 0
    queued_minutes: float | None = 0

    @property
    def fingerprint(self) -> str:
        return f"fp-{self.name}"

    @property
    def source(self) -> str:
        return "alertmanager"

    @property
    def title(self) -> str:
        return f"{self.name} crash loops"

    @property
    def occurred_at(self) -> datetime:
        return T0 + timedelta(minutes=self.minutes)

    @property
    def queued_at(self) -> datetime | None:
        if self.queued_minutes is None:
            return None
        return T0 + timedelta(minutes=self.queued_minutes)


def at(minutes: float) -> datetime:
    return T0 + timedelta(minutes=minutes)


def apply(stored: Incident | None, event: Event, minutes: float) -> tuple[Action, Incident | None]:
    """The group decision for `event` applied at `minutes`, and the incident as it is after."""
    decision = decide_group(stored, event, at(minutes), POLICY, KEY)
    return decision.action, decision.incident or stored


def ticketed(incident: Incident | None) -> Incident:
    """`incident` as its first ticket left it."""
    assert incident is not None
    return dataclasses.replace(incident, refs={"backend": "T-1"})


# --- the update a group owes ------------------------------------------------------------------


def test_members_joining_within_the_interval_owe_an_update_a_repeat_sends() -> None:
    """Members that joined inside the update interval are owed to the ticket: a repeat of a
    member stamped as before (Alertmanager's resend) after the interval sends the update."""
    _, stored = apply(None, Event("a"), 0)
    stored = ticketed(stored)
    action, stored = apply(stored, Event("b"), 1)
    assert action is Action.COUNT and stored is not None
    assert stored.update_owed_at == at(15)
    action, after = apply(stored, Event("a"), 20)
    assert action is Action.UPDATE and after is not None
    assert after.update_owed_at is None and after.last_update_at == at(20)


def test_a_member_resolving_within_the_interval_owes_an_update_too() -> None:
    """A member that resolves while others fire, inside the interval, is owed as a join is."""
    stored: Incident | None = None
    for name in "ab":
        _, stored = apply(stored, Event(name), 0)
    stored = ticketed(stored)
    assert stored.update_owed_at is None or stored.update_owed_at == at(15)
    action, stored = apply(stored, Event("b", Status.RESOLVED, 2, 2), 2)
    assert action is Action.COUNT and stored is not None and stored.update_owed_at == at(15)


def test_a_repeat_before_the_owed_update_is_due_writes_nothing() -> None:
    """Inside the interval a resend stamped as before is counted without a write, owed or not."""
    _, stored = apply(None, Event("a"), 0)
    _, stored = apply(ticketed(stored), Event("b"), 1)
    decision = decide_group(stored, Event("a"), at(10), POLICY, KEY)
    assert decision.action is Action.COUNT and decision.incident is None


def test_an_update_sent_clears_what_was_owed() -> None:
    """A change after the interval goes out as the update: nothing is owed after it."""
    _, stored = apply(None, Event("a"), 0)
    _, stored = apply(ticketed(stored), Event("b"), 1)
    action, stored = apply(stored, Event("c", minutes=16, queued_minutes=16), 16)
    assert action is Action.UPDATE and stored is not None and stored.update_owed_at is None


async def test_the_sweep_claims_the_owed_update_once_it_is_due() -> None:
    """The store's sweep write: nothing before the update is due; at it, one UPDATE claimed
    for the sweep, carrying the group as stored; a second sweep finds nothing more."""
    store = MemoryStore(POLICY, LEASE)
    _, stored = apply(None, Event("a"), 0)
    _, stored = apply(ticketed(stored), Event("b"), 1)
    assert stored is not None
    await store._transact(KEY.key, lambda _: (stored, None))
    assert await store.send_owed_update(KEY.key, "sweep-a", at(10)) is None
    sent = await store.send_owed_update(KEY.key, "sweep-a", at(16))
    assert sent is not None and sent.action is Action.UPDATE and sent.after is not None
    assert sent.after.pending is not None and sent.after.pending.kind is EffectKind.UPDATE
    assert sent.after.pending.alert is not None
    assert sent.after.update_owed_at is None and sent.after.last_update_at == at(16)
    assert await store.send_owed_update(KEY.key, "sweep-b", at(17)) is None


async def test_the_sweep_tells_a_ticket_opened_mid_storm_of_its_members(tmp_path: Path) -> None:
    """A 20-pod message opens the group's ticket with its first pod; with no further alert,
    the sweep after the update interval (found by the store's index) sends one update
    listing all 20, and no second one."""
    c = grouping(tmp_path)
    await c.deliver(c.message(webhook([pod(i) for i in range(20)]), 0))
    for minutes in (10, 16, 17, 40):
        c.clock.now = at(minutes)
        await c.sweep().once()
    assert c.kinds() == ["open", "update"]
    shown = [e.alert.group.count for e in c.sink.effects if e.alert.group is not None]
    assert shown == [1, 20]
