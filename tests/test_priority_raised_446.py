"""A raised priority reaches the open ticket (task 446): a repeat of an open incident that states
a priority above its ticket's sends one update at once carrying the new priority, which the
stored ticket then keeps; a lower one changes nothing (a flapping warning/critical must not
churn the ticket); a person's explicit change in PagerDuty or Opsgenie moves it either way."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path

import pytest

from factories import T0, alert
from memory_store import MemoryStore
from test_pipeline import LEASE, POLICY, Clock, FakeSink
from triage.incidents import Action, Ledger
from triage.incidents.lifecycle import Incident, State, decide, replace_incident
from triage.metrics import Metrics
from triage.models import Alert, EffectKind, Priority, Status, Ticket
from triage.normalize import normalize_payload
from triage.pipeline import Pipeline
from triage.redact import Redactor
from triage.routes import load_router
from triage.settings import Settings
from triage.view import RedactedAlert

#: The pipeline's events carry the alert's stated priority and its person's-change mark only
#: once the lead applies /work/notes/helpers/446-outside.patch (pipeline.py, groups.py,
#: normalize/vendors.py); until then the tests through the pipeline fail for want of them.
NEEDS_PATCH = pytest.mark.xfail(
    strict=True, reason="needs 446-outside.patch (pipeline._Event priority, groups, vendors)"
)


class StatedSummariser:
    """A ticket at the priority the alert states (medium when it states none), as the real
    summarisers' first rule makes it."""

    async def summarise(self, view: RedactedAlert) -> Ticket:
        priority = Priority(view.priority) if view.priority else Priority.MEDIUM
        return Ticket(title=view.title, priority=priority, description="d", steps=("s",))

    async def aclose(self) -> None:
        return None


class Rig:
    """The real pipeline on an in-memory store, one recording sink and a clock."""

    def __init__(self, routes: Path | None = None) -> None:
        self.store = MemoryStore(POLICY, LEASE)
        self.sink, self.clock = FakeSink(), Clock()
        router = load_router(Settings(routes_file=routes)) if routes is not None else None
        self.pipeline = Pipeline(
            Ledger(self.store, clock=self.clock),
            StatedSummariser(),
            [self.sink],
            Metrics(),
            redactor=Redactor(),
            router=router,
            policy=POLICY,
        )

    async def send(self, minutes: float, sent: Alert) -> Action:
        self.clock.at(minutes)
        group = self.pipeline.group_of(sent)
        return await self.pipeline.handle(sent, f"m{minutes}", group)

    def kinds(self) -> list[EffectKind]:
        return [effect.kind for effect in self.sink.effects]


def stated(minutes: float, priority: Priority | None, severity: str | None = None) -> Alert:
    """The one generic alert `api-5xx`, firing, at `priority` (and `severity`)."""
    sent = alert(minutes=minutes, priority=priority)
    return sent.model_copy(update={"severity": severity})


def ticketed(priority: Priority) -> Incident:
    """The open incident of `api-5xx` whose ticket went out at `priority`."""
    opened = decide(None, stated(0, priority), T0, POLICY).incident
    assert opened is not None
    ticket = Ticket(title="api-5xx is failing", priority=priority, description="d")
    return replace_incident(opened, ticket=ticket, refs={"backend": "T-1"})


def test_a_repeat_stating_a_higher_priority_is_an_update_carrying_it() -> None:
    """Inside the update interval, a repeat at critical of a ticket at medium is an UPDATE
    (not a counted repeat) whose incident's ticket is critical."""
    stored = ticketed(Priority.MEDIUM)
    decision = decide(stored, stated(1, Priority.CRITICAL), T0 + timedelta(minutes=1), POLICY)
    assert decision.action is Action.UPDATE
    assert decision.incident is not None and decision.incident.ticket is not None
    assert decision.incident.ticket.priority is Priority.CRITICAL
    assert decision.incident.update_owed_at_s is None


def test_a_repeat_stating_a_lower_or_equal_priority_changes_no_ticket() -> None:
    """A repeat at warning of a critical ticket, or at its own priority, is only counted: the
    ticket keeps its priority (no churn while an alert flaps between warning and critical)."""
    stored = ticketed(Priority.CRITICAL)
    for priority in (Priority.MEDIUM, Priority.CRITICAL, None):
        decision = decide(stored, stated(1, priority), T0 + timedelta(minutes=1), POLICY)
        assert decision.action is Action.COUNT
        assert decision.incident is not None and decision.incident.ticket is not None
        assert decision.incident.ticket.priority is Priority.CRITICAL


def test_a_persons_priority_change_moves_the_ticket_either_way() -> None:
    """A person's explicit change (PagerDuty's priority_updated, Opsgenie's UpdatePriority)
    lowers the ticket too, at once; the same change again adds nothing."""
    stored = ticketed(Priority.CRITICAL)
    change = stated(1, Priority.LOW).model_copy(update={"priority_changed": True})
    decision = decide(stored, change, T0 + timedelta(minutes=1), POLICY)
    assert decision.action is Action.UPDATE
    assert decision.incident is not None and decision.incident.ticket is not None
    assert decision.incident.ticket.priority is Priority.LOW
    again = decide(decision.incident, change, T0 + timedelta(minutes=2), POLICY)
    assert again.action is Action.IGNORE


def test_a_persons_priority_change_never_opens_nor_reopens() -> None:
    """A priority change of an incident triage has not open (closed, or never seen) writes
    nothing and opens no ticket: it is no firing of the alert."""
    change = stated(1, Priority.LOW).model_copy(update={"priority_changed": True})
    assert decide(None, change, T0, POLICY).action is Action.IGNORE
    stored = ticketed(Priority.CRITICAL)
    closed = replace_incident(stored, state=State.CLOSED, closed_at=T0)
    decision = decide(closed, change, T0 + timedelta(minutes=1), POLICY)
    assert decision.action is Action.IGNORE and decision.incident is None


@NEEDS_PATCH
async def test_a_raise_goes_out_at_once_once_and_stays_in_the_store() -> None:
    """Through the pipeline: medium opens, critical a minute later updates the ticket at once
    at critical, a second critical and a later warning add nothing, and the stored ticket
    (what `triage incidents` and the status page show) is critical."""
    r = Rig()
    assert await r.send(0, stated(0, Priority.MEDIUM)) is Action.OPEN
    assert await r.send(1, stated(1, Priority.CRITICAL)) is Action.UPDATE
    assert await r.send(2, stated(2, Priority.CRITICAL)) is Action.COUNT
    assert await r.send(3, stated(3, Priority.MEDIUM)) is Action.COUNT
    assert r.kinds() == [EffectKind.OPEN, EffectKind.UPDATE]
    assert r.sink.effects[-1].ticket.priority is Priority.CRITICAL
    stored = await r.store.get(stated(0, None).fingerprint)
    assert stored is not None and stored.ticket is not None
    assert stored.ticket.priority is Priority.CRITICAL


@NEEDS_PATCH
async def test_a_severity_going_warning_to_critical_raises_the_ticket() -> None:
    """A source that states only a severity (Zabbix, Nagios, Datadog's Warn -> Triggered):
    warning opens at medium, critical under the same key raises the ticket to critical."""
    r = Rig()
    assert await r.send(0, stated(0, None, "warning")) is Action.OPEN
    assert await r.send(1, stated(1, None, "critical")) is Action.UPDATE
    assert r.sink.effects[-1].ticket.priority is Priority.CRITICAL


@NEEDS_PATCH
async def test_a_member_raising_its_priority_raises_its_groups_ticket(tmp_path: Path) -> None:
    """A group's ticket opened at medium; a member firing at critical updates it at once."""
    routes = tmp_path / "routes.toml"
    routes.write_text('[[route]]\nname = "pods"\nsinks = ["backend"]\ngroup_by = ["service"]\n')
    r = Rig(routes)

    def member(name: str, minutes: float, priority: Priority) -> Alert:
        sent = alert(name, minutes=minutes, priority=priority)
        return sent.model_copy(update={"labels": {"service": "api", "pod": name}})

    assert await r.send(0, member("api-0", 0, Priority.MEDIUM)) is Action.OPEN
    assert await r.send(1, member("api-1", 1, Priority.CRITICAL)) is Action.UPDATE
    assert r.kinds() == [EffectKind.OPEN, EffectKind.UPDATE]
    assert r.sink.effects[-1].ticket.priority is Priority.CRITICAL


@NEEDS_PATCH
async def test_pagerdutys_priority_updated_moves_the_open_ticket() -> None:
    """PagerDuty's `incident.priority_updated` (once skipped) lowers the open ticket from P1
    to P4 with one update; on no open incident it opens nothing."""

    def event(kind: str, priority: str, minutes: float) -> Alert:
        payload = {
            "event": {
                "event_type": kind,
                "resource_type": "incident",
                "occurred_at": (T0 + timedelta(minutes=minutes)).isoformat(),
                "data": {
                    "id": "Q1",
                    "title": "db down",
                    "service": {"id": "S1", "summary": "db"},
                    "priority": {"summary": priority},
                },
            }
        }
        [one] = normalize_payload(json.loads(json.dumps(payload))).alerts
        return one

    r = Rig()
    assert await r.send(0, event("incident.priority_updated", "P4", 0)) is Action.IGNORE
    assert await r.send(1, event("incident.triggered", "P1", 1)) is Action.OPEN
    assert await r.send(2, event("incident.priority_updated", "P4", 2)) is Action.UPDATE
    assert r.kinds() == [EffectKind.OPEN, EffectKind.UPDATE]
    assert r.sink.effects[-1].ticket.priority is Priority.LOW
    assert r.sink.effects[-1].alert.status is Status.FIRING
