"""The steps one message goes through, in order:

    decode and normalise ─► for each alert: correct a time far in the future ─► decide (store)
    ─► redact into the view that leaves the process ─► summarise (new incidents only)
    ─► route to the sinks ─► record the effect

A message's alerts (a Grafana or Alertmanager group) are handled concurrently, at most
`alert_concurrency` at once; alerts of one incident in the order they came.

`Pipeline.process` either returns (the supervisor acks the message) or raises a `TriageError`
whose kind decides what the supervisor does with it; see `triage.errors`.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from types import MappingProxyType

import structlog

from triage.errors import BackpressureError, TransientError, TriageError
from triage.inbox import Message
from triage.lifecycle import Action, Incident, Outcome, Pending, Policy, decide
from triage.metrics import Metrics
from triage.models import Alert, Status, Ticket
from triage.normalize import Normalized, normalize_body
from triage.redact import Redactor
from triage.routes import Route, Router
from triage.settings import KNOWN_SINKS
from triage.sinks.base import Effect, EffectKind, Sink, Target
from triage.store import Store, Transition
from triage.summarise.base import Summariser
from triage.summarise.deterministic import DeterministicSummariser
from triage.view import RedactedAlert, redact_alert, redact_ticket

log = structlog.get_logger(__name__)

#: Bodies above this size are parsed on a worker thread so the event loop stays responsive.
OFFLOAD_BODY_BYTES = 64 * 1024

#: Decisions that change no ticket, counted by what they mean.
_QUIET_METRIC = {
    Action.COUNT: "DuplicatesSuppressed",
    Action.RECORD: "ResolvedWithoutTicket",
    Action.IGNORE: "AlertsIgnored",
}
#: Effects a sink carried out (not skipped), counted per sink.
_TICKET_METRIC = {
    EffectKind.OPEN: "TicketsCreated",
    EffectKind.UPDATE: "TicketsUpdated",
    EffectKind.CLOSE: "TicketsClosed",
    EffectKind.REOPEN: "TicketsReopened",
}

Progress = Callable[[], None]
_DEFAULT_POLICY = Policy()


def _no_progress() -> None:
    """A handler's caller that does not watch progress."""


@dataclass(frozen=True, slots=True)
class _Event:
    """What the store's lifecycle reads of an alert, with the one text it keeps redacted."""

    fingerprint: str
    source: str
    status: Status
    title: str
    occurred_at: datetime


async def _normalize(message: Message) -> Normalized:
    """Large bodies are parsed on a worker thread so the event loop stays responsive."""
    hint = message.sentry_resource
    if len(message.body) > OFFLOAD_BODY_BYTES:
        return await asyncio.to_thread(normalize_body, message.body, sentry_resource=hint)
    return normalize_body(message.body, sentry_resource=hint)


def _log_normalized(normalized: Normalized) -> None:
    for skipped in normalized.skipped:
        log.info(
            "alert.skipped", source=skipped.source, reason=skipped.reason, detail=skipped.detail
        )
    for note in normalized.notes:
        log.warning("alert.note", note=note)


def believable_time(alert: Alert, received_at: datetime, max_skew: timedelta) -> Alert:
    """`alert`, with its time replaced by the receive time when it lies more than `max_skew`
    ahead of it: a clock that is wrong (or a hostile timestamp) must not order events."""
    if alert.occurred_at - received_at <= max_skew:
        return alert
    log.warning(
        "alert.future_time",
        fingerprint=alert.fingerprint,
        occurred_at=alert.occurred_at.isoformat(),
        replaced_by=received_at.isoformat(),
    )
    return alert.model_copy(update={"occurred_at": received_at})


class Pipeline:
    def __init__(
        self,
        store: Store,
        summariser: Summariser,
        sinks: Sequence[Sink],
        metrics: Metrics,
        *,
        redactor: Redactor,
        router: Router | None = None,
        policy: Policy = _DEFAULT_POLICY,
        alert_concurrency: int = 4,
        payload_excerpt_chars: int = 0,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self.store = store
        self.summariser = summariser
        self.sinks = {sink.name: sink for sink in sinks}
        self.router = router or _everything_to(sinks)
        self.metrics = metrics
        self.redactor = redactor
        self.policy = policy
        self.alert_concurrency = alert_concurrency
        #: How much of the raw payload the summariser is shown (0: none; only the LLM reads it).
        self.payload_excerpt_chars = payload_excerpt_chars
        self.clock = clock

    async def process(self, message: Message, progress: Progress = _no_progress) -> list[Outcome]:
        """Run every alert of one message through the lifecycle; return what was done.
        `progress` is called each time one alert is finished, so a large group that keeps
        moving is not taken for a stuck one."""
        started = time.perf_counter()
        normalized = await _normalize(message)
        _log_normalized(normalized)
        skew = self.policy.max_future_skew
        alerts = [believable_time(a, message.received_at, skew) for a in normalized.alerts]
        actions = await self._each_incident(alerts, message.id, progress)
        self.metrics.observe("ProcessingLatency", (time.perf_counter() - started) * 1000)
        return [
            Outcome(alert.fingerprint, action)
            for alert, action in zip(alerts, actions, strict=True)
        ]

    async def _each_incident(
        self, alerts: list[Alert], owner: str, progress: Progress
    ) -> list[Action]:
        """Handle the alerts concurrently, one task per incident (its alerts in order), at most
        `alert_concurrency` at once; every task runs to its end before a failure is raised."""
        actions: list[Action | None] = [None] * len(alerts)
        by_incident: dict[str, list[int]] = {}
        for i, alert in enumerate(alerts):
            by_incident.setdefault(alert.fingerprint, []).append(i)
        slots = asyncio.Semaphore(self.alert_concurrency)

        async def incident(indexes: list[int]) -> None:
            async with slots:
                for i in indexes:
                    try:
                        actions[i] = await self.handle(alerts[i], owner)
                    finally:
                        progress()

        if len(by_incident) == 1:  # the common case: no tasks to make
            await incident(next(iter(by_incident.values())))
        else:
            results = await asyncio.gather(
                *(incident(indexes) for indexes in by_incident.values()), return_exceptions=True
            )
            _raise_first(results)
        return [a for a in actions if a is not None]

    async def handle(self, alert: Alert, owner: str) -> Action:
        """Apply one alert: decide through the store, then carry out the effect it claimed."""
        with structlog.contextvars.bound_contextvars(
            fingerprint=alert.fingerprint, source=alert.source
        ):
            event = _Event(
                alert.fingerprint,
                alert.source,
                alert.status,
                self.redactor.text(alert.title),
                alert.occurred_at,
            )
            view: RedactedAlert | None = None
            # A pending effect abandoned by a crashed worker is redone first (at most a few in a
            # row), then the alert's own action is decided on top of it.
            for _ in range(3):
                transition = await self.store.begin(event, owner, self.clock())
                if transition.action.effect is not None:
                    if view is None:
                        view = self._view(alert, transition)
                    await self._carry_out(transition, view, alert, owner)
                if not transition.redo:
                    break
            metric = _QUIET_METRIC.get(transition.action)
            if metric is not None:
                self.metrics.incr(metric)
            log.info("alert.decided", action=str(transition.action), status=str(alert.status))
            return transition.action

    def _view(self, alert: Alert, transition: Transition) -> RedactedAlert:
        """The alert redacted, once; with the payload excerpt only when a summary is due."""
        needs_summary = transition.after is not None and transition.after.ticket is None
        chars = self.payload_excerpt_chars if needs_summary else 0
        return redact_alert(alert, self.redactor, excerpt_chars=chars)

    async def _carry_out(
        self, transition: Transition, view: RedactedAlert, alert: Alert, owner: str
    ) -> None:
        incident = transition.after
        assert incident is not None and incident.pending is not None
        pending = incident.pending
        try:
            ticket = incident.ticket
            if ticket is None:
                ticket = await self.summariser.summarise(view)
                await self.store.save_ticket(incident.fingerprint, owner, ticket)
            route = self.router.route(alert, ticket.priority)
            # Redacted again here (not only when written): a credential learned since counts.
            public = redact_ticket(ticket, self.redactor)
            refs = dict(incident.refs)
            todo = self._sinks_to_run(_sinks_for(pending.kind, route, incident), pending)
            for n, sink in enumerate(todo, start=1):
                effect = self._effect(
                    transition, view, incident, public, refs, route.target(sink.name), sink.name
                )
                applied = await sink.apply(effect)
                # The last confirmation also clears the pending effect: one write fewer.
                last = n == len(todo)
                await self.store.confirm(
                    incident.fingerprint, owner, sink.name, applied.ref, finish=last
                )
                if applied.ref is not None:
                    refs[sink.name] = applied.ref
                if applied.skipped is None:
                    self.metrics.incr(_TICKET_METRIC[pending.kind], sink=sink.name)
                log.info(
                    "alert.routed",
                    sink=sink.name,
                    route=route.name,
                    effect=str(pending.kind),
                    ref=applied.ref,
                    skipped=applied.skipped,
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
        view: RedactedAlert,
        incident: Incident,
        ticket: Ticket,
        refs: dict[str, str],
        target: Target,
        sink: str,
    ) -> Effect:
        assert incident.pending is not None
        return Effect(
            kind=incident.pending.kind,
            fingerprint=incident.fingerprint,
            alert=view,
            ticket=ticket,
            ref=incident.refs.get(sink),
            occurrences=incident.occurrences,
            new_occurrences=incident.pending.delta,
            flapping=incident.flapping,
            idempotency_key=transition.idempotency_key,
            refs=MappingProxyType(dict(refs)),
            target=target,
        )


def _raise_first(results: Sequence[object]) -> None:
    """Raise the failure that decides the message's fate, after logging the others: a bug
    first (loud), then a wait (the message is held), a transient failure (retried), and a
    permanent one last (a retry still helps the alerts that failed transiently)."""
    errors = [r for r in results if isinstance(r, BaseException)]
    if not errors:
        return
    for error in errors:
        if not isinstance(error, Exception):
            raise error  # cancellation: nothing to choose

    def rank(error: BaseException) -> int:
        if not isinstance(error, TriageError):
            return 0
        if isinstance(error, BackpressureError):
            return 1
        return 2 if isinstance(error, TransientError) else 3

    errors.sort(key=rank)
    for other in errors[1:]:
        reason = other.reason if isinstance(other, TriageError) else "bug"
        log.warning("alert.failed", reason=reason, error=str(other) or type(other).__name__)
    raise errors[0]


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
        redactor: Redactor,
        summariser: DeterministicSummariser,
        router: Router | None = None,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self.store = store
        self.policy = policy
        self.router = router or _everything_to(sinks)
        self.metrics = metrics
        self.redactor = redactor
        self.summariser = summariser
        self.clock = clock

    async def process(self, message: Message, progress: Progress = _no_progress) -> list[Outcome]:
        normalized = await _normalize(message)
        _log_normalized(normalized)
        outcomes = []
        for received in normalized.alerts:
            alert = believable_time(received, message.received_at, self.policy.max_future_skew)
            view = redact_alert(alert, self.redactor)
            stored = await self.store.get(alert.fingerprint)
            decision = decide(stored, view, self.clock(), self.policy)
            effect = decision.action.effect
            details: dict[str, object] = {"sinks": []}
            if effect is EffectKind.OPEN:
                ticket = self.summariser.write(view)
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
            progress()
        return outcomes
