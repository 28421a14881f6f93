"""The steps one message goes through, in order: decode and normalise, then for each alert
decide (store), summarise (new incidents only), route to the sinks, and record the effect.

`Pipeline.process` either returns (the supervisor acks the message) or raises a `TriageError`
whose kind decides what the supervisor does with it; see `triage.errors`.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from types import MappingProxyType

import structlog

from triage.errors import TriageError
from triage.inbox import Message
from triage.lifecycle import Action, Incident, Outcome, Pending, Policy, decide
from triage.metrics import Metrics
from triage.models import Alert, Ticket
from triage.normalize import Normalized, normalize_body
from triage.routes import Route, Router
from triage.settings import KNOWN_SINKS
from triage.sinks.base import Effect, EffectKind, Sink, Target
from triage.store import Store, Transition
from triage.summarise.base import Summariser
from triage.summarise.deterministic import DeterministicSummariser

log = structlog.get_logger(__name__)

#: Bodies above this size are parsed on a worker thread so the event loop stays responsive.
OFFLOAD_BODY_BYTES = 64 * 1024

#: Counter per action, named as DESIGN.md's metrics.
_ACTION_METRIC = {
    Action.OPEN: "TicketsCreated",
    Action.UPDATE: "TicketsUpdated",
    Action.CLOSE: "TicketsClosed",
    Action.REOPEN: "TicketsReopened",
    Action.COUNT: "DuplicatesSuppressed",
    Action.RECORD: "ResolvedWithoutTicket",
    Action.IGNORE: "AlertsIgnored",
}


async def _normalize(message: Message) -> Normalized:
    """Large bodies are parsed on a worker thread so the event loop stays responsive."""
    hint = message.sentry_resource
    if len(message.body) > OFFLOAD_BODY_BYTES:
        return await asyncio.to_thread(normalize_body, message.body, sentry_resource=hint)
    return normalize_body(message.body, sentry_resource=hint)


class Pipeline:
    def __init__(
        self,
        store: Store,
        summariser: Summariser,
        sinks: Sequence[Sink],
        metrics: Metrics,
        *,
        router: Router | None = None,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self.store = store
        self.summariser = summariser
        self.sinks = {sink.name: sink for sink in sinks}
        self.router = router or _everything_to(sinks)
        self.metrics = metrics
        self.clock = clock

    async def process(self, message: Message) -> list[Outcome]:
        """Run every alert of one message through the lifecycle; return what was done."""
        started = time.perf_counter()
        normalized = await _normalize(message)
        for skipped in normalized.skipped:
            log.info(
                "alert.skipped", source=skipped.source, reason=skipped.reason, detail=skipped.detail
            )
        for note in normalized.notes:
            log.warning("alert.note", note=note)
        outcomes = [
            Outcome(alert.fingerprint, await self.handle(alert, owner=message.id))
            for alert in normalized.alerts
        ]
        self.metrics.observe("ProcessingLatency", (time.perf_counter() - started) * 1000)
        return outcomes

    async def handle(self, alert: Alert, owner: str) -> Action:
        """Apply one alert: decide through the store, then carry out the effect it claimed."""
        with structlog.contextvars.bound_contextvars(
            fingerprint=alert.fingerprint, source=alert.source, team=alert.team
        ):
            # A pending effect abandoned by a crashed worker is redone first (at most a few in a
            # row), then the alert's own action is decided on top of it.
            for _ in range(3):
                transition = await self.store.begin(alert, owner, self.clock())
                if transition.action.effect is not None:
                    await self._carry_out(transition, alert, owner)
                if not transition.redo:
                    break
            self.metrics.incr(_ACTION_METRIC[transition.action])
            log.info("alert.decided", action=str(transition.action), status=str(alert.status))
            return transition.action

    async def _carry_out(self, transition: Transition, alert: Alert, owner: str) -> None:
        incident = transition.after
        assert incident is not None and incident.pending is not None
        pending = incident.pending
        try:
            ticket = incident.ticket
            if ticket is None:
                ticket = await self.summariser.summarise(alert)
                await self.store.save_ticket(incident.fingerprint, owner, ticket)
            route = self.router.route(alert, ticket.priority)
            refs = dict(incident.refs)
            todo = self._sinks_to_run(_sinks_for(pending.kind, route, incident), pending)
            for n, sink in enumerate(todo, start=1):
                effect = self._effect(
                    transition, alert, incident, ticket, sink.name, refs, route.target(sink.name)
                )
                ref = await sink.apply(effect)
                # The last confirmation also clears the pending effect: one write fewer.
                last = n == len(todo)
                await self.store.confirm(incident.fingerprint, owner, sink.name, ref, finish=last)
                if ref is not None:
                    refs[sink.name] = ref
                log.info(
                    "alert.routed",
                    sink=sink.name,
                    route=route.name,
                    effect=str(pending.kind),
                    ref=ref,
                )
            if not todo:
                await self.store.finish(incident.fingerprint, owner)
        except (TriageError, asyncio.CancelledError):
            # Let a retry (ours or another replica's) take the effect over without waiting.
            await asyncio.shield(self.store.release(incident.fingerprint, owner))
            raise

    def _sinks_to_run(self, names: Sequence[str], pending: Pending) -> list[Sink]:
        """The configured sinks among `names` that have not confirmed this effect yet."""
        todo = []
        for name in names:
            if name in pending.done:
                continue
            sink = self.sinks.get(name)
            if sink is None:  # it took the ticket, but is no longer configured
                log.warning("sink.not_configured", sink=name, effect=str(pending.kind))
                continue
            todo.append(sink)
        return todo

    def _effect(
        self,
        transition: Transition,
        alert: Alert,
        incident: Incident,
        ticket: Ticket,
        sink: str,
        refs: dict[str, str],
        target: Target,
    ) -> Effect:
        assert incident.pending is not None
        return Effect(
            kind=incident.pending.kind,
            fingerprint=incident.fingerprint,
            alert=alert,
            ticket=ticket,
            ref=incident.refs.get(sink),
            occurrences=incident.occurrences,
            new_occurrences=incident.pending.delta,
            flapping=incident.flapping,
            idempotency_key=transition.idempotency_key,
            refs=MappingProxyType(dict(refs)),
            target=target,
        )


def _sinks_for(kind: EffectKind, route: Route, incident: Incident) -> tuple[str, ...]:
    """OPEN goes where the route says; later effects follow the ticket: to the sinks that
    returned a reference when it opened (in run order), and nowhere else."""
    if kind is EffectKind.OPEN:
        return route.sinks
    return tuple(name for name in KNOWN_SINKS if name in incident.refs)


def _everything_to(sinks: Sequence[Sink]) -> Router:
    return Router(Route("default", tuple(s.name for s in sinks), {}))


class DryRun:
    """`triage run --dry-run`: the same decisions, logged, with no write, no sink call and no
    LLM call (the deterministic summariser shows what a new ticket would say)."""

    def __init__(
        self,
        store: Store,
        policy: Policy,
        sinks: Sequence[Sink],
        metrics: Metrics,
        *,
        router: Router | None = None,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self.store = store
        self.policy = policy
        self.router = router or _everything_to(sinks)
        self.metrics = metrics
        self.summariser = DeterministicSummariser()
        self.clock = clock

    async def process(self, message: Message) -> list[Outcome]:
        normalized = await _normalize(message)
        for skipped in normalized.skipped:
            log.info(
                "alert.skipped", source=skipped.source, reason=skipped.reason, detail=skipped.detail
            )
        outcomes = []
        for alert in normalized.alerts:
            stored = await self.store.get(alert.fingerprint)
            decision = decide(stored, alert, self.clock(), self.policy)
            effect = decision.action.effect
            details: dict[str, object] = {"sinks": []}
            if effect is EffectKind.OPEN:
                ticket = self.summariser.write(alert)
                route = self.router.route(alert, ticket.priority)
                details.update(
                    title=ticket.title,
                    priority=str(ticket.priority),
                    route=route.name,
                    sinks=list(route.sinks),
                )
            elif effect is not None and stored is not None:
                details["sinks"] = [n for n in KNOWN_SINKS if n in stored.refs]
            self.metrics.incr("DryRunDecisions", action=str(decision.action))
            log.info(
                "alert.dry_run",
                fingerprint=alert.fingerprint,
                source=alert.source,
                action=str(decision.action),
                **details,
            )
            outcomes.append(Outcome(alert.fingerprint, decision.action))
        return outcomes
