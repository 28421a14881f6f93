"""A raised priority reaches the open ticket (task 446): a repeat of an open incident that states
a priority above its ticket's sends one update at once carrying the new priority, which the
stored ticket then keeps; a lower one changes nothing (a flapping warning/critical must not
churn the ticket); a person's explicit change in PagerDuty or Opsgenie moves it either way."""

from __future__ import annotations

import dataclasses
import json
from datetime import timedelta
from pathlib import Path

from factories import T0, alert, view
from memory_store import MemoryStore
from test_pipeline import LEASE, POLICY, Clock, FakeSink
from triage.incidents import Action, Ledger
from triage.incidents.codec import incident_from_json, incident_to_json
from triage.incidents.lifecycle import Incident, State, decide, replace_incident
from triage.metrics import Metrics
from triage.models import Alert, EffectKind, Priority, Status, Ticket
from triage.normalize import normalize_payload
from triage.pipeline import Pipeline
from triage.redact import Redactor
from triage.routes import load_router
from triage.settings import Settings
from triage.sinks import slack
from triage.sinks.backend import _update_body
from triage.sinks.base import Effect
from triage.sinks.github import text as github_text
from triage.view import RedactedAlert


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


def test_only_the_update_that_moved_the_priority_tells_the_move() -> None:
    """The raise's incident remembers the priority it moved from (its sinks say "raised from
    medium"); a counted repeat keeps that for a redo of the update, and the next effect
    decided (the interval's update, a close) forgets it."""
    raised = decide(ticketed(Priority.MEDIUM), stated(1, Priority.CRITICAL), T0, POLICY).incident
    assert raised is not None and raised.priority_was is Priority.MEDIUM
    counted = decide(raised, stated(2, Priority.CRITICAL), T0 + timedelta(minutes=2), POLICY)
    assert counted.action is Action.COUNT
    assert counted.incident is not None and counted.incident.priority_was is Priority.MEDIUM
    later = T0 + timedelta(minutes=30)
    update = decide(counted.incident, stated(30, Priority.CRITICAL), later, POLICY)
    assert update.action is Action.UPDATE
    assert update.incident is not None and update.incident.priority_was is None
    resolved = alert(status=Status.RESOLVED, minutes=3)
    close = decide(counted.incident, resolved, T0 + timedelta(minutes=3), POLICY)
    assert close.action is Action.CLOSE
    assert close.incident is not None and close.incident.priority_was is None


def test_a_record_written_before_priority_was_still_loads() -> None:
    """An incident record without `priority_was` (an older release's) reads as no move."""
    record = json.loads(incident_to_json(ticketed(Priority.HIGH)))
    record.pop("priority_was", None)
    assert incident_from_json(json.dumps(record)).priority_was is None


def test_a_stored_move_reads_back_as_a_priority() -> None:
    """`priority_was` written reads back as the Priority it was, not as bare text; an
    incident with no move writes no such field (a record an older release reads as before)."""
    assert "priority_was" not in json.loads(incident_to_json(ticketed(Priority.HIGH)))
    stored = replace_incident(ticketed(Priority.HIGH), priority_was=Priority.LOW)
    read = incident_from_json(incident_to_json(stored))
    assert type(read.priority_was) is Priority and read.priority_was is Priority.LOW


def test_a_repeat_stating_a_lower_or_equal_priority_changes_no_ticket() -> None:
    """A repeat at warning of a critical ticket, or at its own priority, is only counted: the
    ticket keeps its priority (no churn while an alert flaps between warning and critical)."""
    stored = ticketed(Priority.CRITICAL)
    for priority in (Priority.MEDIUM, Priority.CRITICAL, None):
        decision = decide(stored, stated(1, priority), T0 + timedelta(minutes=1), POLICY)
        assert decision.action is Action.COUNT
        assert decision.incident is not None and decision.incident.ticket is not None
        assert decision.incident.ticket.priority is Priority.CRITICAL


def test_a_ticket_set_below_what_its_alerts_stated_is_not_raised_back() -> None:
    """A summary that read a warning (medium) as low, or a person who lowered a critical
    ticket, is not undone by the next repeat at that same level; only a priority past every
    one stated before raises it."""
    summarised_low = replace_incident(
        ticketed(Priority.MEDIUM),
        ticket=Ticket(title="api-5xx is failing", priority=Priority.LOW, description="d"),
    )
    assert summarised_low.priority_stated is Priority.MEDIUM
    at = T0 + timedelta(minutes=1)
    assert decide(summarised_low, stated(1, Priority.MEDIUM), at, POLICY).action is Action.COUNT
    assert decide(summarised_low, stated(1, Priority.HIGH), at, POLICY).action is Action.UPDATE
    change = stated(1, Priority.LOW).model_copy(update={"priority_changed": True})
    lowered = decide(ticketed(Priority.CRITICAL), change, at, POLICY).incident
    assert lowered is not None
    again = decide(lowered, stated(2, Priority.CRITICAL), at + timedelta(minutes=1), POLICY)
    assert again.action is Action.COUNT


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


async def test_a_severity_going_warning_to_critical_raises_the_ticket() -> None:
    """A source that states only a severity (Zabbix, Nagios, Datadog's Warn -> Triggered):
    warning opens at medium, critical under the same key raises the ticket to critical."""
    r = Rig()
    assert await r.send(0, stated(0, None, "warning")) is Action.OPEN
    assert await r.send(1, stated(1, None, "critical")) is Action.UPDATE
    assert r.sink.effects[-1].ticket.priority is Priority.CRITICAL


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


def moved_update(was: Priority, now: Priority) -> Effect:
    """The update that moved an incident's ticket from `was` to `now`, as a sink is sent it."""
    fired = stated(1, now)
    ticket = Ticket(title="api-5xx is failing", priority=now, description="d")
    return Effect(
        EffectKind.UPDATE, fired.fingerprint, view(fired), ticket, "T-1", 3, 2, False, "fp:2",
        priority_was=was,
    )  # fmt: skip


async def test_the_raises_update_effect_names_the_priority_it_moved_from() -> None:
    """Through the pipeline, the raise's UPDATE tells its sinks the priority it moved from;
    the interval's next update tells no move."""
    r = Rig()
    await r.send(0, stated(0, Priority.MEDIUM))
    await r.send(1, stated(1, Priority.HIGH))
    assert r.sink.effects[-1].priority_was is Priority.MEDIUM
    assert await r.send(30, stated(30, Priority.HIGH)) is Action.UPDATE
    assert r.sink.effects[-1].priority_was is None


def test_the_backends_update_carries_the_new_priority_and_says_so() -> None:
    """The backend's update body of a raise carries the ticket's priority, what it was, and a
    note saying the move; other updates keep their body as it was."""
    body = _update_body(moved_update(Priority.MEDIUM, Priority.CRITICAL))
    assert body["priority"] == "critical" and body["priority_was"] == "medium"
    assert body["note"].startswith("Priority raised from medium to critical. 2 more")
    plain = _update_body(
        dataclasses.replace(moved_update(Priority.LOW, Priority.HIGH), priority_was=None)
    )
    assert "priority" not in plain and "priority_was" not in plain


def test_githubs_update_comment_says_the_move() -> None:
    """GitHub's update comment opens with the move and the new P-number."""
    comment = github_text.update_comment(moved_update(Priority.CRITICAL, Priority.LOW))
    assert comment.startswith("**Priority lowered from critical to low** (P3).")


def test_slacks_thread_hears_of_a_move() -> None:
    """Slack posts no plain update, but a move is one line in the thread."""
    message = slack.follow_up_message(moved_update(Priority.MEDIUM, Priority.CRITICAL))
    assert "Priority raised from medium to critical: api-5xx is failing" in json.dumps(message)
