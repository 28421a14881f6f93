"""Carrying out the effects the pipeline claimed for an incident: the alert's view, its summary
when none is saved, the route, and each sink in turn, each confirmed in the store as it
answers (`Effects.carry_out`). What the sinks are sent is kept in the store before the first
call (`Work.freeze`): a redo of the effect sends it again as it was. Each confirmation renews
the claim's lease; a worker whose claim was lost while a sink's call ran (it outlasted the
lease; another took the effect over) finds its confirmation refused and calls no later sink
(`Work.confirm`). A sink's answer whose confirmation the store did not write (throttled) is
written by the effect's next attempt in this process without calling the sink again
(`Work.answered`): Slack takes no idempotency key. The pipeline (pipeline.py) decides what to
do; this module does it, for a message's alerts, for the sweep and for a close by hand."""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
from collections.abc import Callable, Iterator, Mapping, Sequence
from types import MappingProxyType
from typing import TYPE_CHECKING, Any

import structlog

from triage.errors import BackpressureError, SinkRejectedError
from triage.incidents import Incident, Work
from triage.incidents.codec import past_cap_kept, view_from_json
from triage.incidents.ledger import SinkAnswer
from triage.incidents.lifecycle import Group, stored_alert
from triage.incidents.records import SentTo
from triage.incidents.store import REFUSED, Routing, Sent
from triage.models import Alert, EffectKind, Ticket
from triage.routes import Route
from triage.settings import KNOWN_SINKS
from triage.sinks.base import Applied, Effect, NotSent, Sink, Target
from triage.summarise.priority import severity_priority
from triage.tracing import current_trace_id
from triage.view import AlertView, GroupView, MemberView, RedactedAlert, redact_ticket

if TYPE_CHECKING:
    from triage.pipeline import Pipeline

log = structlog.get_logger(__name__)

#: Effects a sink carried out (not skipped), counted per sink.
_TICKET_METRIC = {
    EffectKind.OPEN: "TicketsCreated",
    EffectKind.UPDATE: "TicketsUpdated",
    EffectKind.CLOSE: "TicketsClosed",
    EffectKind.REOPEN: "TicketsReopened",
}


class Effects:
    """Carries out the effects claimed for one alert: the view, the summary, the sinks. Without
    an alert (`None`: the sweep, a close by hand) the claim carries its own, redacted."""

    def __init__(
        self,
        pipeline: Pipeline,
        alert: Alert | None,
        redacted: Callable[[], AlertView | None] = lambda: None,
    ) -> None:
        self.pipeline = pipeline
        self.alert = alert
        #: The alert's redaction its event read the stored title from (`AlertView`), if any
        #: by the time the view is made: the view reuses its fields rather than redact them
        #: again. One of another alert is not used.
        self._redacted = redacted
        self._view: RedactedAlert | None = None

    def _excerpts_a_large_payload(self, work: Work) -> bool:
        """Whether the view `view` makes for `work` redacts its alert's whole payload for the
        excerpt (a ticket to open), and that payload holds more than `LARGE_PAYLOAD_CHARS`."""
        return (
            work.alert is None
            and work.ticket is None
            and self.alert is not None
            and self.pipeline.payload_excerpt_chars > 0
            and large_payload(self.alert)
        )

    def view(self, work: Work) -> RedactedAlert:
        """The alert redacted, once; with the payload excerpt only when a summary is due. An
        effect with neither its own alert nor a message's (one a message's alert claimed, whose
        delivery never finished it: the sweep's redo) goes out as the stored incident says."""
        if self._view is None:
            p = self.pipeline
            group = _group_view(work.incident.group)
            if work.alert is not None:
                self._view = view_from_json(work.alert, group)
            elif self.alert is not None:
                opening = work.ticket is None
                chars = p.payload_excerpt_chars if opening else 0
                redacted = self._redacted()
                if redacted is None or redacted.alert is not self.alert:
                    redacted = AlertView(self.alert, p.redactor)
                # The view a ticket opens from keeps the labels past the cap for the store
                # (`_routing`): silences match the ticketed incident by them. No sink reads them.
                self._view = redacted.view(excerpt_chars=chars, group=group, past_cap=opening)
            else:
                self._view = dataclasses.replace(stored_alert(work.incident), group=group)
        return self._view

    async def carry_out(self, work: Work) -> None:
        p = self.pipeline
        if self._view is None and self._excerpts_a_large_payload(work):
            # Off the event loop, as a large body is parsed (`pipeline.OFFLOAD_BODY_BYTES`):
            # hostile text of 200 KB costs the redactor seconds, which on the loop would stall
            # every other message and /healthz past its 5 s.
            view = await asyncio.to_thread(self.view, work)
        else:
            view = self.view(work)
        ticket = work.ticket
        summarised = ticket is None
        if ticket is None:
            with p.tracing.span("summarise"):
                ticket = raised_as_stated(await p.summariser.summarise(view), work.incident, view)
        route = self._route(work, view, ticket)
        if summarised:
            await work.save_ticket(ticket, _routing(route, view))
        kind = work.pending.kind
        # The tickets later sinks link to (Slack's follow-up): not one its sink said is gone.
        refs = {name: ref for name, ref in work.refs.items() if not work.incident.ticket_gone(name)}
        todo = self._sinks_to_run(sinks_for(kind, route, work.incident), work)
        if not todo and not work.pending.done:
            return
        # A redo whose route now lists only sinks its first attempt confirmed (a replica whose
        # routes lack the group's route takes the default) still owes that attempt's others.
        sent = await self._sent(work, view, ticket, route)
        first = self._first_route(work, sent, route)
        if first is not route:
            route = first
            todo = self._sinks_to_run(sinks_for(kind, route, work.incident), work)
        if not todo:
            return
        refusal: SinkRejectedError | None = None
        for n, sink in enumerate(todo, start=1):
            # A sink owed the ticket it refused gets it now, opened (see `sinks_for`).
            sink_kind = kind_for(kind, sink.name, work.incident)
            last = n == len(todo)
            # This process heard the sink answer this effect, and only the store's write
            # confirming it failed (throttled): that answer is written, the sink not called
            # again (Slack takes no idempotency key, and would post twice).
            answer = work.answered(sink.name)
            skipped = answer.why if answer is not None else None
            recalled = answer is not None
            replayed = False
            if answer is None:
                effect = self._effect(work, sent, route, sink.name, sink_kind, refs)
                try:
                    applied = await self._apply(work, sink, effect)
                except SinkRejectedError as exc:
                    # The sink refuses this ticket for good: its part of this attempt is over,
                    # so the effect's other sinks (next in this loop) and the incident's later
                    # alerts are not held up by it. The message still fails, for the DLQ to
                    # show, and its next delivery (or redrive) sends the effect to this sink
                    # again (`Incident.refused`), as an open while it holds no ticket.
                    with _stopping_before(todo, n):
                        await work.confirm(sink.name, None, last=last, why=REFUSED, failing=True)
                    refusal = refusal or exc
                    continue
                answer = SinkAnswer(applied.ref, _gone(applied), why_not_sent(applied))
                skipped, replayed = applied.skipped, applied.replayed
            # The last confirmation also finishes the effect: one write fewer. A ticket the
            # sink says is gone is marked so in the same write, and why it sent nothing.
            try:
                with _stopping_before(todo, n):
                    await work.confirm(
                        sink.name, answer.ref, last=last, gone=answer.gone, why=answer.why
                    )
            except BackpressureError:
                # Not written (throttled, or the effect is no longer this worker's): a retry
                # here recalls the answer, writes it and says it; a new holder says its own.
                raise
            except BaseException:
                # The write may be done though unanswered (DynamoDB's timeout after it, the
                # read back failing too; a cancellation): a retry would find this sink done,
                # or the effect finished, and say nothing. Said now, once: a retry that
                # recalls this answer to write it says it no more.
                if not answer.counted:
                    self._routed(
                        view, route, sink.name, sink_kind, answer, skipped, recalled, replayed
                    )
                    work.counted(sink.name)
                raise
            if answer.ref is not None:
                refs[sink.name] = answer.ref
            if not answer.counted:
                self._routed(view, route, sink.name, sink_kind, answer, skipped, recalled, replayed)
        if refusal is not None:
            raise refusal

    def _routed(
        self,
        view: RedactedAlert,
        route: Route,
        sink: str,
        kind: EffectKind,
        answer: SinkAnswer,
        skipped: str | None,
        recalled: bool,
        replayed: bool = False,
    ) -> None:
        """Count `sink`'s part of the effect (when it sent it) and say where it went. One the
        sink's service answered as a replay of its idempotency key (`Applied.replayed`: an
        earlier attempt's call made the ticket) is said so and still counted: that the earlier
        attempt heard the answer and counted it (its confirmation then lost, the process
        stopped) cannot be told from the commoner case that it never heard it (a timeout after
        the backend made the ticket), which not counting would leave counted nowhere."""
        p = self.pipeline
        if answer.sent:
            p.metrics.incr(
                _TICKET_METRIC[kind],
                sink=sink,
                source=p.metrics.bounded("source", view.source),
                team=p.metrics.bounded("team", view.team),
            )
        log.info(
            "alert.routed",
            sink=sink,
            route=route.name,
            effect=str(kind),
            ref=answer.ref,
            skipped=skipped,
            **({"recalled": True} if recalled else {}),
            **({"replayed": True} if replayed else {}),
        )

    async def _apply(self, work: Work, sink: Sink, effect: Effect) -> Applied:
        """`sink`'s answer to `effect`, in a span of its own; a failed call is named in the
        incident's failure line (`Work.failed_at`)."""
        tracing = self.pipeline.tracing
        with tracing.span(f"sink.{sink.name}", **{"triage.effect": str(effect.kind)}):
            try:
                return await sink.apply(effect)
            except SinkRejectedError:
                raise
            except BaseException:
                work.failed_at(sink.name)
                raise

    def _effect(
        self,
        work: Work,
        sent: Sent,
        route: Route,
        sink: str,
        kind: EffectKind,
        refs: Mapping[str, str],
    ) -> Effect:
        """What `sink` is sent of the effect: `kind` (see `kind_for`), the frozen body, and the
        tickets other sinks hold (`refs`) for it to link to."""
        return Effect(
            kind=kind,
            fingerprint=work.fingerprint,
            alert=sent.alert,
            ticket=sent.ticket,
            ref=work.refs.get(sink),
            occurrences=_occurrences(kind, sent),
            new_occurrences=work.pending.delta,
            flapping=sent.flapping,
            idempotency_key=work.idempotency_key,
            # Shown by other sinks (Slack's "backend ticket …"): a service that answered with
            # a credential for an id (its own token echoed) must not publish it.
            refs=MappingProxyType(
                {name: self.pipeline.redactor.text(ref) for name, ref in refs.items()}
            ),
            target=route.target(sink),
            trace_id=sent.trace_id,
            # The move its update or reopen tells (a sink owed an open gets the ticket as it
            # is now).
            priority_was=work.incident.priority_was if kind in _MOVES else None,
        )

    def _route(self, work: Work, view: RedactedAlert, ticket: Ticket) -> Route:
        """A group keeps the route that grouped it; a single incident is routed by its ticket.
        Without the alert (the sweep's redo, a held open let go, a close), or redoing an open
        whose ticket an earlier attempt saved (`_kept_route`), it goes by the route the
        incident keeps (`Router.recorded`): its ticket's, or before any ticket the one its
        whole alert chose when it was decided (`Router.before_summary`). The stored view shows
        64 labels, cut and redacted (and before a ticket, none), which may match another route
        (other sinks, other targets) than the alert did. None kept (the summary decides it), or
        a route no longer configured, is routed as before, by the view."""
        router = self.pipeline.router
        incident = work.incident
        if incident.group is not None:
            return router.named(incident.group.route)
        kept = router.recorded(incident.route) if self._kept_route(work) else None
        if kept is not None:
            return kept
        subject = self.alert if self.alert is not None else view
        return router.route(subject, ticket.priority, view)

    def _kept_route(self, work: Work) -> bool:
        """The effect goes by the route its incident keeps, not the alert's route now: it
        comes without its alert, or it is the redo of an open whose ticket an earlier attempt
        saved with its route, and may have sent (its worker stopped before confirming; the
        message's retry, another replica, or the alert's next firing redoes it). Routed again
        from the alert, a routes file changed since (a route placed first, on a replica rolled
        out) or the next firing's labels (another `env`) sent the redo to another repository
        or channel: a second ticket, never closed."""
        if self.alert is None:
            return True
        return work.pending.kind is EffectKind.OPEN and work.ticket is not None

    def _first_route(self, work: Work, sent: Sent, now: Route) -> Route:
        """The route the effect's first attempt went by (`Sent.to`, kept with its body), when
        it is not `now`'s: its name, its sinks as they were, GitHub's target as it was, so a
        redo after the routes changed (a route kept its name but moved its repository; a
        replica whose routes lack a group's route, which `Router.named` takes for the default)
        reaches the tickets its first attempt may have made, not a second one elsewhere. A
        Slack webhook is a secret, never kept: it is the one of the route of that name now, or,
        when no route is called that any more, the one of the route this redo takes (`now`:
        Slack's default webhook for the default route), so the post is made, not lost. A body
        an older release kept says nothing: `now`."""
        to = sent.to
        if to is None or to == _sent_to(now):
            return now
        named = self.pipeline.router.recorded(to.route)
        if named is None and "slack" in to.sinks and "slack" not in work.pending.done:
            log.warning("effects.route_gone", route=to.route, now=now.name, sink="slack")
        base = named if named is not None else now
        targets = {name: target for name, target in base.targets.items() if name != "github"}
        if "github" in to.sinks:
            targets["github"] = Target(
                repository=to.github_repository,
                labels=to.github_labels,
                assignees=to.github_assignees,
            )
        return dataclasses.replace(
            base, name=to.route, sinks=to.sinks, targets=MappingProxyType(targets)
        )

    async def _sent(self, work: Work, view: RedactedAlert, ticket: Ticket, route: Route) -> Sent:
        """What this attempt sends the sinks: the body its effect's first attempt sent, kept
        in the store (`Work.freeze`), so that a redo under the same idempotency key (its
        message's retry, or another message or replica taking it over) sends it again as it
        was, whatever changed since: a member that joined the group, occurrences counted, the
        redoing message's trace. A backend that checks a reused key's payload refuses another
        (the IETF Idempotency-Key draft's 422, Stripe). It keeps where it goes (`route`:
        `_sent_to`), so the redo goes there too (`_first_route`)."""
        redactor = self.pipeline.redactor
        incident = work.incident
        built = Sent(
            work.pending.seq,
            # Without the payload excerpt: the summariser's alone (no sink shows it), and the
            # largest part of a new incident's view to keep.
            dataclasses.replace(view, payload_excerpt="") if view.payload_excerpt else view,
            # Redacted again here (not only when written): a credential learned since counts.
            redact_ticket(ticket, redactor),
            incident.occurrences,
            incident.occurrences_at_update,
            incident.flapping,
            current_trace_id(),
            incident.opened_at,
            _sent_to(route),
        )
        sent = await work.freeze(built)
        if sent is built:
            return sent
        # The first attempt's, as it was; its summary redacted again all the same (it is
        # short), so a credential learned since that attempt is not sent to a sink it never
        # reached.
        return dataclasses.replace(sent, ticket=redact_ticket(sent.ticket, redactor))

    def _sinks_to_run(self, names: Sequence[str], work: Work) -> list[Sink]:
        """The configured sinks among `names` that have not confirmed this effect yet."""
        todo = []
        for name in names:
            if name in work.pending.done:
                continue
            sink = self.pipeline.sinks.get(name)
            if sink is None:  # it took the ticket, but is no longer configured
                said = name in self.pipeline.unconfigured
                self.pipeline.unconfigured.add(name)
                emit = log.debug if said else log.warning
                emit("sink.not_configured", sink=name, effect=str(work.pending.kind))
                continue
            todo.append(sink)
        return todo


#: The effects that tell a move of the ticket's priority (`Incident.priority_was`).
_MOVES = (EffectKind.UPDATE, EffectKind.REOPEN)
#: Sinks that send a new ticket nothing below a priority of their own (Slack's
#: TRIAGE_SLACK_MIN_PRIORITY): a raise of the ticket sends each of them the open again, so
#: an incident that becomes urgent reaches them then (`sinks_for`).
OPEN_AT_PRIORITY = frozenset({"slack"})


def raised_as_stated(ticket: Ticket, incident: Incident, view: RedactedAlert) -> Ticket:
    """The summary `ticket`, at the priority the incident's alerts stated by the time its
    open was claimed (`Incident.priority_stated`) when that is above both the summary's and
    what the summarised alert states itself: a later alert raised it before the ticket was
    saved (a group still gathering its members), and the open carries that raise rather
    than an update right after it. A summary that read its own alert lower is kept."""
    stated = incident.priority_stated
    own = view.priority or severity_priority(view.severity)
    if stated is None or stated.rank >= ticket.priority.rank:
        return ticket
    if own is not None and stated.rank >= own.rank:
        return ticket
    return ticket.model_copy(update={"priority": stated})


def raised(incident: Incident) -> bool:
    """The incident's latest effect raised its ticket's priority (`Incident.priority_was`)."""
    was, ticket = incident.priority_was, incident.ticket
    return was is not None and ticket is not None and ticket.priority.rank < was.rank


#: Labels kept with an incident (for listing and for silences matched without an alert).
_KEPT_LABELS = 64
_KEPT_LABEL_CHARS = 256


@contextlib.contextmanager
def _stopping_before(todo: Sequence[Sink], n: int) -> Iterator[None]:
    """Around the `n`th sink's confirmation: a `store.lease_lost` line it logs (the claim was
    lost during the call) names the sink the worker stops before (`stopped_before`), if any
    is left."""
    if n >= len(todo):
        yield
        return
    with structlog.contextvars.bound_contextvars(stopped_before=todo[n].name):
        yield


def _routing(route: Route, view: RedactedAlert) -> Routing:
    """What the store keeps with a new ticket: the route, and the alert's team and labels,
    those past the 64 it shows too (bounded: `past_cap_kept`), which silences match."""
    labels = {
        k[:_KEPT_LABEL_CHARS]: v[:_KEPT_LABEL_CHARS]
        for k, v in list(view.labels.items())[:_KEPT_LABELS]
    }
    return Routing(
        route.name,
        view.team,
        labels,
        route.escalate_after_s,
        route.resolve_after_s,
        labels_past_cap=past_cap_kept(view.labels_past_cap),
    )


def _sent_to(route: Route) -> SentTo:
    """Where an effect going by `route` is sent, as its kept body says (`Sent.to`): the
    route's name and sinks, and GitHub's target; never Slack's webhook (a secret)."""
    if "github" not in route.sinks:
        return SentTo(route.name, route.sinks)
    github = route.target("github")
    return SentTo(route.name, route.sinks, github.repository, github.labels, github.assignees)


def _group_view(group: Group | None) -> GroupView | None:
    """The stored group as the view shows it (its text was redacted before it was stored)."""
    if group is None:
        return None
    members = tuple(
        MemberView(fingerprint, m.title, m.status, m.since)
        for fingerprint, m in group.members.items()
    )
    return GroupView(MappingProxyType(group.by), members, group.untracked)


def sinks_for(kind: EffectKind, route: Route, incident: Incident) -> tuple[str, ...]:
    """OPEN goes where the route says; later effects follow the ticket: to the sinks that
    returned a reference when it opened (in run order), and nowhere else. A ticket its sink
    said is gone gets no more updates (each would be one more call and one more warning, every
    update window of the incident's life). Its close still goes, once: the backend's updates
    and resolves have routes of their own, and a wrong update route (a 404 for every ticket)
    must not keep a single close from being sent. A re-fire goes too: the sink may open a new
    ticket.

    A sink of the route that refused the incident's ticket for good and holds none
    (`Incident.owed`: the message that tried it dead-lettered and dropped, or its redrive
    refused again) is sent an open with the incident's next update or reopen (`kind_for`), so
    it gets the ticket the others have. A close opens nothing there; a sink that sent nothing
    by its own choice (Slack below its minimum priority) owes nothing and is not asked, until
    an update or reopen raises the ticket's priority: then a sink of the route that opens by
    priority (`OPEN_AT_PRIORITY`) and holds no ticket is sent the open again, and posts it
    once it is past its minimum."""
    if kind is EffectKind.OPEN:
        return route.sinks
    owed = () if kind is EffectKind.CLOSE else _owed_or_raised(incident, route)
    names = tuple(
        name
        for name in KNOWN_SINKS
        if name in incident.refs or (name in owed and name in route.sinks)
    )
    if kind is not EffectKind.UPDATE or not incident.gone:
        return names
    for name in names:
        if incident.ticket_gone(name):
            log.debug("sink.ticket_gone", sink=name, effect=str(kind), ref=incident.refs[name])
    return tuple(name for name in names if not incident.ticket_gone(name))


def kind_for(kind: EffectKind, sink: str, incident: Incident) -> EffectKind:
    """What `sink` is sent of the incident's effect `kind`: an open when the sink is owed the
    ticket it refused (`sinks_for` sends it one only with an update or a reopen), else `kind`."""
    if kind in _MOVES and sink not in incident.refs and sink in _owed_or_raised(incident):
        return EffectKind.OPEN
    return kind


def _owed_or_raised(incident: Incident, route: Route | None = None) -> tuple[str, ...]:
    """The sinks an update or reopen of `incident` sends an open: those owed the ticket they
    refused (`Incident.owed`), and, when it raised the ticket's priority, those that open by
    priority (of `route`, when given) and hold no ticket."""
    owed = incident.owed
    if not raised(incident):
        return owed
    gated = (name for name in OPEN_AT_PRIORITY if name not in incident.refs)
    more = tuple(name for name in gated if route is None or name in route.sinks)
    return owed + tuple(name for name in more if name not in owed)


def _occurrences(kind: EffectKind, sent: Sent) -> int:
    """The occurrences an effect tells. An update's or a reopen's are the ones its decision
    counted (`occurrences_at_update`, with `Pending.delta` beside them): a redo under the same
    idempotency key, after more firings were counted, sends the body the first attempt sent,
    which a backend checking a reused key's payload would otherwise refuse. An open or a
    close tells the count so far (a group's first ticket, the members it gathered)."""
    if kind in (EffectKind.UPDATE, EffectKind.REOPEN) and sent.occurrences_at_update:
        return sent.occurrences_at_update
    return sent.occurrences


def _gone(applied: Applied) -> bool | None:
    """What a sink's answer says of its ticket (`Store.confirm`): gone for good (True),
    reached (False: a mark it had is lifted), or neither (None: skipped for another reason)."""
    if applied.gone:
        return True
    return False if applied.skipped is None else None


def why_not_sent(applied: Applied) -> str | None:
    """Why a sink sent nothing, as the fixed word it set (`Applied.why`; None: it sent):
    `refused` when its service refused, else what the skip was for. The free-text reason never
    goes in: it may be reworded, or quote the service's answer."""
    if applied.why is None:
        return None
    return REFUSED if applied.why is NotSent.REFUSED else applied.why.value


#: A payload holding more text than this is redacted on a worker thread (`Effects.carry_out`),
#: the size past which a message's body is parsed there too (`pipeline.OFFLOAD_BODY_BYTES`).
LARGE_PAYLOAD_CHARS = 64 * 1024


def large_payload(alert: Alert) -> bool:
    """Whether `alert`'s payload holds more than `LARGE_PAYLOAD_CHARS` of text: its excerpt
    is redacted on a worker thread."""
    return _holds_more_text(alert.raw, LARGE_PAYLOAD_CHARS)


def _holds_more_text(value: Any, limit: int) -> bool:
    """Whether the strings of `value` (a decoded JSON payload: keys and values, a number as
    its digits) hold more than `limit` characters; walked only until they do."""
    stack, held = [value], 0
    while stack:
        item = stack.pop()
        if isinstance(item, str):
            held += len(item)
        elif isinstance(item, dict):
            held += sum(len(key) for key in item if isinstance(key, str))
            stack.extend(item.values())
        elif isinstance(item, list | tuple):
            stack.extend(item)
        else:
            held += 8
        if held > limit:
            return True
    return False
