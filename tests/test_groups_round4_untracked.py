"""Groups in a storm (round 4): members past the tracked ones (`groups.MAX_MEMBERS`) hold the
group open while they fire, and each one's resolve counts once. The lifecycle's pure
functions."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from datetime import datetime, timedelta

import pytest

from factories import T0
from test_pipeline import POLICY
from triage.incidents import groups
from triage.incidents.groups import GroupKey, decide_group
from triage.incidents.lifecycle import Action, Incident, State, auto_closing
from triage.models import Status

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


# --- past the tracked members ---------------------------------------------------------------


def test_untracked_members_firing_hold_the_group_open_until_they_resolve(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """With two members tracked and two more counted: the tracked ones resolving leave the
    group open while the counted ones fire; it closes at the last one's resolve."""
    monkeypatch.setattr(groups, "MAX_MEMBERS", 2)
    stored: Incident | None = None
    for name in "abcd":
        _, stored = apply(stored, Event(name), 0)
    stored = ticketed(stored)
    assert stored.group is not None and stored.group.untracked == 2
    for name in "ab":
        action, stored = apply(stored, Event(name, Status.RESOLVED, 5, 5), 5)
        assert action is Action.COUNT
    action, stored = apply(stored, Event("c", Status.RESOLVED, 6, 6), 6)
    assert action is Action.COUNT
    assert stored is not None and stored.state is State.OPEN
    action, stored = apply(stored, Event("d", Status.RESOLVED, 7, 7), 7)
    assert action is Action.CLOSE
    assert stored is not None and stored.group is not None and stored.group.untracked == 0


def test_an_untracked_members_resolve_delivered_again_counts_once(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A counted member's resolve delivered twice takes one member off, not two: the other
    counted member still holds the group open."""
    monkeypatch.setattr(groups, "MAX_MEMBERS", 1)
    stored: Incident | None = None
    for name in "abc":
        _, stored = apply(stored, Event(name), 0)
    stored = ticketed(stored)
    _, stored = apply(stored, Event("a", Status.RESOLVED, 5, 5), 5)
    for minutes in (6, 7):
        _, stored = apply(stored, Event("b", Status.RESOLVED, 6, 6), minutes)
    assert stored is not None and stored.group is not None
    assert stored.state is State.OPEN and stored.group.untracked == 1


def test_a_closing_for_want_of_alerts_resolves_the_untracked_members_too(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A group closed for want of alerts counts none of its members firing: the next
    firing of a counted member reopens it as any member's does."""
    monkeypatch.setattr(groups, "MAX_MEMBERS", 1)
    stored: Incident | None = None
    for name in "ab":
        _, stored = apply(stored, Event(name), 0)
    stored = dataclasses.replace(ticketed(stored), resolve_after_s=600.0)
    closed = auto_closing(stored, at(30), POLICY).incident
    assert closed is not None and closed.group is not None
    assert closed.state is State.CLOSED and closed.group.still_firing == 0
    action, _ = apply(closed, Event("b", minutes=31, queued_minutes=31), 31)
    assert action is Action.REOPEN
