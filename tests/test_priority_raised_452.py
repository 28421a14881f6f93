"""A raised priority, the cases task 446 left (task 452): Slack posts a ticket it skipped below
TRIAGE_SLACK_MIN_PRIORITY once a raise takes it past the minimum; a reopen at a higher
priority than the closed ticket's carries it, told as a raise; a raise stated before the
ticket's summary is saved (a group still gathering) opens the ticket at it."""

from __future__ import annotations

import asyncio
import json
from datetime import timedelta
from pathlib import Path

import httpx2
import pytest
from pydantic import SecretStr

from factories import T0, alert, view
from memory_store import MemoryStore
from test_pipeline import LEASE, POLICY, Clock, FakeSink
from test_priority_raised_446 import StatedSummariser, stated, ticketed
from triage.errors import GatheringError, StoreBusyError
from triage.incidents import Action, Ledger
from triage.incidents.lifecycle import State, decide, replace_incident
from triage.metrics import Metrics
from triage.models import Alert, EffectKind, Priority, Status, Ticket
from triage.pipeline import Pipeline
from triage.redact import Redactor
from triage.routes import load_router
from triage.settings import Settings
from triage.sinks.base import Effect
from triage.sinks.github import text as github_text
from triage.sinks.slack import SlackSink, follow_up_message
from triage.view import RedactedAlert

ROUTE = '[[route]]\nname = "all"\nsinks = ["backend", "slack"]\n'
GROUPED = ROUTE + 'group_by = ["service"]\ngroup_window_s = 30\n'


class Rig:
    """The real pipeline on an in-memory store, a recording backend and the real Slack sink
    (minimum priority high) whose posts are kept, not sent."""

    def __init__(self, tmp_path: Path, routes: str = ROUTE) -> None:
        self.store = MemoryStore(POLICY, LEASE)
        self.backend, self.clock = FakeSink(), Clock()
        self.posts: list[str] = []
        file = tmp_path / "routes.toml"
        file.write_text(routes)
        self.slack = SlackSink(
            Settings(
                slack_webhook_url=SecretStr("https://hooks.slack.test/services/T/B/x"),
                slack_min_priority=Priority.HIGH,
                slack_min_interval_s=0,
            ),
            transport=httpx2.MockTransport(self._posted),
        )
        self.pipeline = Pipeline(
            Ledger(self.store, clock=self.clock),
            StatedSummariser(),
            [self.backend, self.slack],
            Metrics(),
            redactor=Redactor(),
            router=load_router(Settings(routes_file=file)),
            policy=POLICY,
        )

    def _posted(self, request: httpx2.Request) -> httpx2.Response:
        self.posts.append(request.content.decode())
        return httpx2.Response(200, text="ok")

    async def send(self, minutes: float, sent: Alert) -> Action:
        self.clock.at(minutes)
        group = self.pipeline.group_of(sent)
        return await self.pipeline.handle(sent, f"m{minutes}", group)


def resolved(minutes: float) -> Alert:
    """The generic alert `api-5xx`, resolved."""
    return alert(status=Status.RESOLVED, minutes=minutes)


async def test_a_raise_past_slacks_minimum_posts_the_ticket_there_once(tmp_path: Path) -> None:
    """Opened at medium (below Slack's minimum, high: nothing posted), raised to critical: Slack
    gets the whole new incident's message then, once; a second critical adds nothing, and the
    resolve is posted, as for an incident posted when it opened."""
    r = Rig(tmp_path)
    assert await r.send(0, stated(0, Priority.MEDIUM)) is Action.OPEN
    assert r.posts == []
    assert await r.send(1, stated(1, Priority.CRITICAL)) is Action.UPDATE
    [opened] = r.posts
    assert "api-5xx" in opened and "\N{LARGE RED CIRCLE}" in opened
    assert await r.send(2, stated(2, Priority.CRITICAL)) is Action.COUNT
    assert len(r.posts) == 1
    assert await r.send(3, resolved(3)) is Action.CLOSE
    assert len(r.posts) == 2 and "Resolved" in r.posts[-1]
    assert [e.kind for e in r.backend.effects] == [
        EffectKind.OPEN,
        EffectKind.UPDATE,
        EffectKind.CLOSE,
    ]


async def test_a_raise_still_below_slacks_minimum_posts_nothing(tmp_path: Path) -> None:
    """Low raised to medium stays below Slack's minimum (high): Slack posts nothing; a later
    raise to high posts the incident then."""
    r = Rig(tmp_path)
    await r.send(0, stated(0, Priority.LOW))
    assert await r.send(1, stated(1, Priority.MEDIUM)) is Action.UPDATE
    assert r.posts == []
    assert await r.send(2, stated(2, Priority.HIGH)) is Action.UPDATE
    assert len(r.posts) == 1 and "\N{LARGE ORANGE CIRCLE}" in r.posts[0]


def test_a_reopen_at_a_higher_priority_carries_it_as_a_raise() -> None:
    """A ticket closed at medium reopened by a critical firing: the reopen's ticket is
    critical, remembering it moved from medium; a reopen at low keeps medium and tells no
    move."""
    closed = replace_incident(
        ticketed(Priority.MEDIUM), state=State.CLOSED, closed_at=T0 + timedelta(minutes=1)
    )
    at = T0 + timedelta(minutes=5)
    raised = decide(closed, stated(5, Priority.CRITICAL), at, POLICY)
    assert raised.action is Action.REOPEN
    assert raised.incident is not None and raised.incident.ticket is not None
    assert raised.incident.ticket.priority is Priority.CRITICAL
    assert raised.incident.priority_was is Priority.MEDIUM
    assert raised.incident.priority_stated is Priority.CRITICAL
    lower = decide(closed, stated(5, Priority.LOW), at, POLICY)
    assert lower.action is Action.REOPEN
    assert lower.incident is not None and lower.incident.ticket is not None
    assert lower.incident.ticket.priority is Priority.MEDIUM
    assert lower.incident.priority_was is None


async def test_a_reopen_that_raises_tells_every_sink_the_move(tmp_path: Path) -> None:
    """Through the pipeline: high opens (posted to Slack), resolves, and fires again at
    critical: the backend's reopen carries critical and the move from high, and Slack's
    reopen line says the raise."""
    r = Rig(tmp_path)
    await r.send(0, stated(0, Priority.HIGH))
    await r.send(1, resolved(1))
    assert await r.send(2, stated(2, Priority.CRITICAL)) is Action.REOPEN
    reopen = r.backend.effects[-1]
    assert reopen.kind is EffectKind.REOPEN and reopen.ticket.priority is Priority.CRITICAL
    assert reopen.priority_was is Priority.HIGH
    assert "Priority raised from high to critical" in r.posts[-1]
    assert "Fired again" in json.dumps(follow_up_message(reopen))


async def test_a_reopen_that_raises_past_slacks_minimum_posts_it(tmp_path: Path) -> None:
    """Opened at medium (not posted), resolved, fired again at critical: Slack gets the new
    incident's message with the reopen, and then its close."""
    r = Rig(tmp_path)
    await r.send(0, stated(0, Priority.MEDIUM))
    await r.send(1, resolved(1))
    assert r.posts == []
    assert await r.send(2, stated(2, Priority.CRITICAL)) is Action.REOPEN
    [opened] = r.posts
    assert "\N{LARGE RED CIRCLE}" in opened
    await r.send(3, resolved(3))
    assert len(r.posts) == 2 and "Resolved" in r.posts[-1]


def test_a_raise_before_the_ticket_is_kept_as_stated() -> None:
    """A critical repeat of an incident whose summary is not saved yet (opened at medium, its
    open still pending) keeps critical as the priority its alerts stated."""
    opened = decide(None, stated(0, Priority.MEDIUM), T0, POLICY).incident
    assert opened is not None and opened.ticket is None
    decision = decide(opened, stated(1, Priority.CRITICAL), T0 + timedelta(minutes=1), POLICY)
    assert decision.action is Action.COUNT
    assert decision.incident is not None
    assert decision.incident.priority_stated is Priority.CRITICAL
    lower = decide(decision.incident, stated(2, Priority.LOW), T0 + timedelta(minutes=2), POLICY)
    assert lower.incident is not None and lower.incident.priority_stated is Priority.CRITICAL


async def test_a_member_raising_while_its_group_gathers_opens_the_ticket_at_it(
    tmp_path: Path,
) -> None:
    """A group opened by a member at medium gathers for 30 s; a member firing at critical
    meanwhile: the group's one ticket opens at critical, posted to Slack (minimum high)."""
    r = Rig(tmp_path, GROUPED)

    def member(name: str, minutes: float, priority: Priority) -> Alert:
        sent = alert(name, minutes=minutes, priority=priority)
        return sent.model_copy(update={"labels": {"service": "api", "pod": name}})

    first = member("api-0", 0, Priority.MEDIUM)
    with pytest.raises(GatheringError):
        await r.send(0, first)
    assert await r.send(0.1, member("api-1", 0.1, Priority.CRITICAL)) is Action.COUNT
    r.clock.at(1)
    assert await r.pipeline.handle(first, "m0", r.pipeline.group_of(first)) is Action.OPEN
    [opened] = r.backend.effects
    assert opened.kind is EffectKind.OPEN and opened.ticket.priority is Priority.CRITICAL
    assert len(r.posts) == 1


def test_githubs_reopen_comment_says_the_raise() -> None:
    """GitHub's reopen comment of a re-fire above the closed ticket's priority says the move
    and the new P-number (its label and title prefix move with it)."""
    fired = stated(5, Priority.CRITICAL)
    ticket = Ticket(title="api-5xx is failing", priority=Priority.CRITICAL, description="d")
    reopen = Effect(
        EffectKind.REOPEN, fired.fingerprint, view(fired), ticket, "T-1", 3, 1, False, "fp:3",
        priority_was=Priority.MEDIUM,
    )  # fmt: skip
    assert "**Priority raised from medium to critical** (P0)." in github_text.reopen_comment(reopen)


class GatedSummariser(StatedSummariser):
    """StatedSummariser that waits for `gate` before it answers: an open in flight."""

    def __init__(self) -> None:
        self.gate = asyncio.Event()
        self.waiting = asyncio.Event()

    async def summarise(self, view: RedactedAlert) -> Ticket:
        self.waiting.set()
        await self.gate.wait()
        return await super().summarise(view)


async def test_a_raise_while_the_open_is_in_flight_waits_and_updates(tmp_path: Path) -> None:
    """A critical repeat while the medium open's summary is being written (another worker's
    open in flight) waits for that open, as any effect in progress is waited for; once the
    ticket is out, the repeat raises it at once to critical."""
    r = Rig(tmp_path)
    summariser = GatedSummariser()
    r.pipeline.summariser = summariser
    opening = asyncio.create_task(r.send(0, stated(0, Priority.MEDIUM)))
    await asyncio.wait_for(summariser.waiting.wait(), timeout=30)
    with pytest.raises(StoreBusyError):
        await r.send(0.5, stated(0.5, Priority.CRITICAL))
    summariser.gate.set()
    assert await opening is Action.OPEN
    assert await r.send(0.5, stated(0.5, Priority.CRITICAL)) is Action.UPDATE
    assert [e.kind for e in r.backend.effects] == [EffectKind.OPEN, EffectKind.UPDATE]
    assert r.backend.effects[-1].ticket.priority is Priority.CRITICAL
