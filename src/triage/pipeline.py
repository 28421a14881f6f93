"""The steps one message goes through, in order:

    decode and normalise ─► for each alert: correct a time far in the future
    ─► claim the incident's decision (`incidents.Ledger`) ─► when it has an effect: redact
    into the view that leaves the process ─► summarise (new incidents only) ─► route ─► call
    each sink and confirm it ─► the claim ends: finished, or released on failure
    ─► a group member: remember the group it fires in (`incidents.members`); an alert whose
    route changed moves from the place it was remembered in (`triage.moves`)
    ─► a message received again: finish any effect one of its alerts claimed and gave back on
    failure, wherever its alerts are routed by then (`Store.remember_claim`)
    ─► a child alert (a CloudWatch alarm's contributor): note it firing or resolved under its
    parent; a parent's deletion: resolve each child that fires (`triage.children`)

A message's alerts (a Grafana or Alertmanager group) are handled concurrently, at most
`alert_concurrency` at once; alerts of one incident in the order they happened (by time, a
firing before a resolve stamped alike; one fingerprint's in the order they came). With `dry_run`
the same decisions are taken without a write, and logged instead of carried out.

`Pipeline.process` either returns (the supervisor acks the message) or raises a `TriageError`
whose kind decides what the supervisor does with it; see `triage.errors`.
"""

from __future__ import annotations

import asyncio
import functools
import hashlib
import time
from collections.abc import Awaitable, Callable, Container, Sequence
from datetime import datetime, timedelta

import structlog

from triage.breaker import opened_by
from triage.children import Children
from triage.effects import Effects, large_payload, sinks_for
from triage.errors import (
    BackpressureError,
    GatheringError,
    StoreBusyError,
    StoreUnavailableError,
    TransientError,
    TriageError,
)
from triage.incidents import Action, Incident, Ledger, Outcome, Policy, State, Work
from triage.incidents.codec import view_to_json
from triage.incidents.groups import GroupKey, member_silence_holds
from triage.incidents.lifecycle import AlertEvent, AnswersFiring, Decision, closing_note
from triage.incidents.members import Members, renews_own_record
from triage.incidents.silences import Silence, SilenceCache, first_match, none_match
from triage.incidents.store import DELIVERY_MARK, HOLDABLE, Hold, Transition, delivery_owner
from triage.incidents.sweeping import unheld
from triage.logs import get_logger
from triage.metrics import Metrics
from triage.models import Alert, EffectKind, Status
from triage.moves import Looked, Moves, closing, leaving_owner, owner_for
from triage.normalize import Normalized, normalize_body
from triage.normalize.common import queued_at
from triage.redact import Redactor
from triage.routes import Route, Router
from triage.sinks.base import Sink
from triage.sqs.identity import EVENTBRIDGE, SNS
from triage.sqs.inbox import RECEIVED_AT_ATTRIBUTE, Message
from triage.summarise.base import Summariser
from triage.summarise.priority import default_priority, severity_priority
from triage.tracing import NO_SPANS, Tracing
from triage.view import AlertView

log = get_logger(__name__)

#: Bodies above this size are parsed on a worker thread so the event loop stays responsive.
OFFLOAD_BODY_BYTES = 64 * 1024

#: Deliveries that failed remembered at most (a held one is tried again within moments).
ATTEMPTED_KEPT = 4096

#: Decisions that open an incident's ticket (again).
_OPENING = (Action.OPEN, Action.REOPEN)

#: Decisions that change no ticket, counted by what they mean.
_QUIET_METRIC = {
    Action.COUNT: "DuplicatesSuppressed",
    Action.RECORD: "ResolvedWithoutTicket",
    Action.IGNORE: "AlertsIgnored",
    Action.SILENCED: "AlertsSilenced",
    Action.DAMPED: "ClosesHeld",
}
#: Decisions that remember (or found) a counted repeat in its incident: once the message is
#: deleted, it cannot come back, and the store may forget it (`Store.settle`).
_COUNTING = (Action.COUNT, Action.SILENCED, Action.IGNORE)
Progress = Callable[[], None]
_DEFAULT_POLICY = Policy()


def _no_progress() -> None:
    """A handler's caller that does not watch progress."""


class _Event:
    """What the store's lifecycle reads of an alert. Its title, the one text the lifecycle
    keeps, is redacted when first read, and the route it opens on is chosen when first read
    (`alert_route`): a repeat of an open incident reads neither. The title is read from the
    alert's view (`AlertView`), kept as `redacted`: a new incident's effects reuse its fields
    (`Pipeline.apply`) rather than redact them again."""

    __slots__ = (
        "_alert",
        "_redactor",
        "_route",
        "_routed",
        "_router",
        "_title",
        "fingerprint",
        "first_sight",
        "occurred_at",
        "priority",
        "priority_changed",
        "queued_at",
        "redacted",
        "source",
        "status",
    )

    def __init__(
        self,
        alert: Alert,
        redactor: Redactor,
        queued_at: datetime | None = None,
        router: Router | None = None,
        redacted: AlertView | None = None,
        first_sight: bool = False,
    ) -> None:
        self.fingerprint = alert.fingerprint
        self.source = alert.source
        self.status = alert.status
        self.occurred_at = alert.occurred_at
        #: The priority it states, the source's else its severity's: a repeat above its open
        #: ticket's raises it (`lifecycle.with_priority_raised`).
        self.priority = alert.priority or severity_priority(alert.severity)
        self.priority_changed = alert.priority_changed
        #: When its message was first queued: of two events stamped alike, the later queued
        #: is the newer.
        self.queued_at = queued_at
        #: Its message's first delivery, which no other message carries again: a late repeat
        #: of an open incident is counted (`lifecycle.first_sight`).
        self.first_sight = first_sight
        self._redactor = redactor
        #: The alert's view the title is read from: its group key's (`GroupKey.view`, so the
        #: alert is redacted once for both), else made when the title is first read.
        self.redacted = redacted if redacted is not None and redacted.alert is alert else None
        self._title: str | None = None
        self._alert = alert
        self._router = router
        self._route: str | None = None
        self._routed = False

    @property
    def title(self) -> str:
        if self._title is None:
            if self.redacted is None:
                self.redacted = AlertView(self._alert, self._redactor)
            self._title = self.redacted.title
        return self._title

    @property
    def alert_route(self) -> str | None:
        """The route the alert opens its incident on whatever its summary says, kept with the
        new incident (`lifecycle.alert_route`); None when the summary decides it, or without
        a router."""
        if not self._routed:
            router = self._router
            self._route = None if router is None else router.before_summary(self._alert)
            self._routed = True
        return self._route


def _redaction_of(event: AlertEvent, alert: Alert) -> AlertView | None:
    """The redaction of `alert` that `event` shares, the pipeline's own event of it once its
    title was read (a new incident's, once decided): its view reuses the fields rather than
    redact them again. None for any other (a repeat reads no title; a resolve is wrapped)."""
    if isinstance(event, _Event) and event.redacted is not None and event.redacted.alert is alert:
        return event.redacted
    return None


def _shared_view(event: AlertEvent, alert: Alert, redactor: Redactor) -> AlertView:
    """The one view of `alert` its uses in `apply` share: the pipeline's event's (its group
    key's, or the one its title was read from), else a new one that event then reads its title
    from. Nothing is redacted until a use asks (a repeat no silence is matched against: never)."""
    shared = _redaction_of(event, alert)
    if shared is None:
        shared = AlertView(alert, redactor)
        if isinstance(event, _Event) and event.redacted is None:
            event.redacted = shared
    return shared


async def _normalize(message: Message) -> Normalized:
    """Large bodies are parsed on a worker thread so the event loop stays responsive. An
    alert that states no time is dated when its message was queued, on every delivery alike."""
    hint = message.sentry_resource
    # A Scheduler dead letter says what failed in its attributes, not its body (`aws_scheduler`).
    attributes = message.attributes
    with queued_at(_queued_at(message)):  # the worker thread runs in a copy of this context
        if len(message.body) > OFFLOAD_BODY_BYTES:
            return await asyncio.to_thread(
                normalize_body, message.body, sentry_resource=hint, attributes=attributes
            )
        return normalize_body(message.body, sentry_resource=hint, attributes=attributes)


def _log_normalized(normalized: Normalized, *, repeat: bool = False) -> None:
    """Say what the payload itself left out (skipped alerts, its notes). A note is a warning
    once per message: on an attempt after the first (`repeat`: a retry here, a redelivery)
    it is the same payload's, at debug, or maxReceiveCount attempts read as that many new
    problems."""
    for skipped in normalized.skipped:
        log.info(
            "alert.skipped", source=skipped.source, reason=skipped.reason, detail=skipped.detail
        )
    for note in normalized.notes:
        (log.debug if repeat else log.warning)("alert.note", note=note)


def _tried_before(message: Message, tried_here: bool) -> bool:
    """This attempt at `message` is not its first: tried here already (held, or retried
    within this process), or a redelivery by its receive count. One whose count SQS did not
    say is taken for a first: its warnings are said rather than lost."""
    return tried_here or (message.known_receive_count or 1) > 1


#: SentTimestamp is to the millisecond: a stamp within its millisecond is no later than it.
_SENT_PRECISION = timedelta(milliseconds=1)
#: How far a gateway's `received_at` may lie from SentTimestamp and still be believed. A gateway
#: stamps by its own clock, SQS by one clock for every replica: under NTP they agree within
#: milliseconds. A stamp may lie well before SentTimestamp without any clock being wrong: the
#: gateway's wait before SQS holds a message (its linger, a batch gathering behind a slow or
#: retried call) can last seconds, and the stamps are what keep a firing and its resolve held
#: together in order. Ahead of SentTimestamp, only a fast clock puts it. A stamp further off is
#: a clock gone wrong, whose error would rank its events against another replica's: it is
#: dated by SQS alone, which loses only the order of the alerts one SendMessageBatch holds.
_STAMP_SLACK_BEFORE = timedelta(seconds=30)
_STAMP_SLACK_AFTER = timedelta(seconds=2)


def _queued_at(
    message: Message, set_aside: Callable[[timedelta], None] = lambda ahead: None
) -> datetime | None:
    """When `message`'s alerts were first queued: when the gateway received them (to the
    microsecond, so it orders a batch SQS sent in one millisecond), if that reads and is
    believable (`_believable_stamp`), else SentTimestamp; `set_aside` is told how far a stamp
    not believed lay ahead of it (behind: negative)."""
    sent = message.sent_at
    stamp = message.attributes.get(RECEIVED_AT_ATTRIBUTE)
    try:
        arrived = datetime.fromisoformat(stamp) if isinstance(stamp, str) else None
    except ValueError:
        arrived = None
    if arrived is None or arrived.tzinfo is None:
        return sent
    if sent is not None and not _believable_stamp(arrived, sent, redriven=message.redriven):
        set_aside(arrived - sent)
        return sent
    return arrived


def _believable_stamp(arrived: datetime, sent: datetime, *, redriven: bool) -> bool:
    """A gateway's stamp `arrived` tells when its message was queued, SQS having sent it at
    `sent`: up to _STAMP_SLACK_BEFORE before it or _STAMP_SLACK_AFTER after it (SentTimestamp
    read to its millisecond, as SQS writes it), or any time before for a message `triage dlq
    redrive` sent back, whose stamp is when it was first queued and SentTimestamp the
    redrive's. Further before, on a first queueing, the gateway's clock is behind: believed,
    its stamp would date a resolve through it before the firing it answers. Further ahead, its
    clock is fast: believed, its firing would outrank a resolve queued after it through a
    replica in step."""
    if arrived >= sent + _SENT_PRECISION + _STAMP_SLACK_AFTER:
        return False
    return redriven or arrived >= sent - _STAMP_SLACK_BEFORE


#: How many `max_future_skew`s ahead a time is still read as a fast clock's (`believable_time`).
_FAST_CLOCK_SKEWS = 2


def believable_time(
    alert: Alert,
    received_at: datetime,
    max_skew: timedelta,
    sent_at: datetime | None = None,
    *,
    repeat: bool = False,
    first_said: Callable[[str], bool] | None = None,
) -> Alert:
    """`alert`, with its time replaced when it lies more than `max_skew` ahead of when its
    message was queued (`sent_at`, the same on every delivery, so a delivery after a resolve
    is still older than the resolve; else the receive time): a sender stamps an event before
    it sends it, so a time past its queueing is a clock running fast. Believed, a resolve
    stamped minutes ahead outranked a firing a sender in step sent after it, and every re-send
    of that firing (Alertmanager's, stamped when it started) was ignored while the alert
    fired. A time up to twice `max_skew` ahead is a clock running a little fast, whose events
    a moment earlier were believed just inside the skew: it is held at the latest time
    believed, the queueing plus `max_skew`, so it stays after them. A time further ahead (a
    wrong clock, a hostile stamp) tells nothing of order: it becomes the queueing itself, so
    real events after it act.
    Said at warning once per message, at debug on a `repeat` attempt (the same stamp) or when
    `first_said(sender)` says its sender's clock was said lately (`FutureTimes`)."""
    queued = min(sent_at, received_at) if sent_at is not None else received_at
    ahead = alert.occurred_at - queued
    if ahead <= max_skew:
        return alert
    replaced_by = queued + max_skew if ahead <= _FAST_CLOCK_SKEWS * max_skew else queued
    # Per sender as the alert names it: a generic alert's `origin` tells its senders apart.
    sender = f"{alert.source}/{alert.labels.get('origin', '')}"
    loud = not repeat and (first_said is None or first_said(sender))
    (log.warning if loud else log.debug)(
        "alert.future_time",
        fingerprint=alert.fingerprint,
        source=alert.source,
        occurred_at=alert.occurred_at.isoformat(),
        replaced_by=replaced_by.isoformat(),
    )
    return alert.model_copy(update={"occurred_at": replaced_by})


class FutureTimes:
    """When each sender's fast clock was last said at warning (`believable_time`; a sender is
    its alerts' source and `origin` label): a sender whose clock runs seconds fast dates every
    alert ahead, and a storm of them would be a warning per message; one per sender every
    `every_s` says it (the others are debug)."""

    #: Senders remembered at most; the one said longest ago is forgotten first.
    KEPT = 256

    def __init__(self, every_s: float = 600.0, clock: Callable[[], float] = time.monotonic):
        self.every_s = every_s
        self._clock = clock
        self._said: dict[str, float] = {}

    def first_said(self, sender: str) -> bool:
        """True (and remembered) when `sender`'s fast clock was not said within `every_s`."""
        now = self._clock()
        said = self._said.get(sender)
        if said is not None and now - said < self.every_s:
            return False
        self._said.pop(sender, None)
        if len(self._said) >= self.KEPT:
            del self._said[next(iter(self._said))]
        self._said[sender] = now
        return True


class Pipeline:
    def __init__(
        self,
        ledger: Ledger,
        summariser: Summariser,
        sinks: Sequence[Sink],
        metrics: Metrics,
        *,
        redactor: Redactor,
        router: Router | None = None,
        policy: Policy = _DEFAULT_POLICY,
        alert_concurrency: int = 4,
        payload_excerpt_chars: int = 0,
        dry_run: bool = False,
        silences: SilenceCache | None = None,
        tracing: Tracing = NO_SPANS,
    ) -> None:
        self.ledger = ledger
        self.summariser = summariser
        self.sinks = {sink.name: sink for sink in sinks}
        #: Sinks holding tickets but no longer configured, already warned about: a sink taken
        #: out on purpose would otherwise warn at every effect of every incident it took.
        self.unconfigured: set[str] = set()
        self.router = router or _everything_to(sinks)
        self.metrics = metrics
        self.redactor = redactor
        self.policy = policy
        self.alert_concurrency = alert_concurrency
        #: How much of the raw payload the summariser is shown (0: none; only the LLM reads it).
        self.payload_excerpt_chars = payload_excerpt_chars
        #: Decide and log, but write nothing and call no sink (`triage run --dry-run`).
        self.dry_run = dry_run
        #: The store's silences (at most a second old); None: nothing is ever silenced.
        self.silences = silences
        #: Child spans of the message's: the summary and each sink call.
        self.tracing = tracing
        #: Deliveries tried that have not gone through (yet): one tried again is held, not
        #: new (see `process`). The oldest go first past ATTEMPTED_KEPT. Each with the indexes
        #: of its alerts an attempt may have decided (`_reached`): the others, held while their
        #: incident was busy or never reached, are still seen for the first time.
        self._attempted: dict[str, set[int]] = {}
        #: Per message: the claims its alerts gave back on failure, as (incident key, claim
        #: owner without its delivery), kept in the store too for a retry another replica
        #: takes (`Store.remember_claim`). The oldest go first past ATTEMPTED_KEPT.
        self._released: dict[str, dict[tuple[str, str], None]] = {}
        #: Those writes that a cancelled alert started and nobody awaits (kept from the GC).
        self._remembering: set[asyncio.Future[None]] = set()
        #: An alert's moves between the places its routes send it (`triage.moves`).
        self.moves = Moves(self)
        #: The children of parent alerts, which a parent's deletion closes (`triage.children`).
        self.children = Children(self)
        #: When each sender's fast clock was last said at warning (`believable_time`).
        self._future = FutureTimes()
        #: Whether a gateway's stamp set aside was said at warning (`_stamp_set_aside`).
        self._stamp_skew_said = False

    async def process(self, message: Message, progress: Progress = _no_progress) -> list[Outcome]:
        """Run every alert of one message through the lifecycle; return what was done.
        `progress` is called each time one alert is finished, so a large group that keeps
        moving is not taken for a stuck one."""
        started = time.perf_counter()
        # Every attempt is timed, whatever its end: failed, held or cancelled ones too.
        try:
            return await self._process(message, progress)
        finally:
            self.metrics.observe("ProcessingLatency", (time.perf_counter() - started) * 1000)

    async def _process(self, message: Message, progress: Progress) -> list[Outcome]:
        """The steps of `process`, which times them."""
        normalized = await _normalize(message)
        delivery = _delivery(message)
        # A message held (an incident busy, a group gathering) is tried again as it was
        # received, its receive count unchanged: what follows an alert's decision (a member's
        # move) may not have happened, as on a redelivery.
        reached = self._attempted.get(delivery)
        tried_here = reached is not None
        repeat = _tried_before(message, tried_here)
        _log_normalized(normalized, repeat=repeat)
        if message.sqs_ahead is not None:  # a store on this host's clock follows SQS's
            self.ledger.store.follow_queue_clock(message.sqs_ahead)
        skew = self.policy.max_future_skew
        queued = _queued_at(message, self._stamp_set_aside)
        received = self._shared(message.received_at)
        alerts = [
            believable_time(
                a, received, skew, queued, repeat=repeat, first_said=self._future.first_said
            )
            for a in normalized.alerts
        ]
        # One alert: its end is the message's, so there is no progress to report; unless it is
        # a parent's deletion, which reports each child it closes (hundreds may take minutes).
        several = len(alerts) > 1 or any(a.closes_children for a in alerts)
        progress = progress if several else _no_progress
        # Redriven from the DLQ by hand: counted before under its identity, whatever its count.
        redelivered = not message.first_delivery or tried_here or message.redriven
        unseen = _unseen(message, len(alerts), reached)
        reached = reached if reached is not None else set()
        self._attempted[delivery] = reached
        if len(self._attempted) > ATTEMPTED_KEPT:
            del self._attempted[next(iter(self._attempted))]
        actions = await self._each_incident(
            alerts,
            message.identity,
            delivery,
            progress,
            redelivered,
            queued,
            unseen=unseen,
            reached=reached,
        )
        if redelivered and not self.dry_run:
            await self._finish_released(message, alerts, delivery, read=not tried_here)
        self._attempted.pop(delivery, None)
        self._released.pop(message.identity, None)
        if any(action in _COUNTING for action in actions):
            owners = [f"{message.identity}#{i}" for i in range(len(alerts))]
            message.on_deleted.append(lambda: self.ledger.store.settle(owners))
        return [
            Outcome(a.fingerprint, action, a.source)
            for a, action in zip(alerts, actions, strict=True)
        ]

    async def _finish_released(
        self, message: Message, alerts: list[Alert], delivery: str, *, read: bool
    ) -> None:
        """Before a message received again is acked: finish each effect one of its alerts
        claimed and gave back on failure that its alerts' decisions did not reach again. Its
        alert may be routed elsewhere now (a member moved meanwhile, so its resolve goes to
        another group), and acked without coming back, it left the effect half done for good
        (a group's issue never opened or never closed, Slack never told). `read`: this
        delivery's first try in this process, so the store is asked too (an earlier delivery
        may have failed on another replica); a held retry's own failures are known here."""
        released = self._released.get(message.identity, {})
        if read and (not message.first_delivery or message.redriven):
            stored = await self.ledger.store.released_claims(message.identity)
            released = {**released, **dict.fromkeys(stored)}
            if released:
                self._keep_released(message.identity, released)
        for key, alert_owner in released:
            index = _alert_index(alert_owner)
            if index is None or index >= len(alerts):
                continue
            alert = alerts[index]
            # Outside the alert's own work (`handle`), whose lines name it: these do too.
            with structlog.contextvars.bound_contextvars(
                fingerprint=alert.fingerprint, source=alert.source
            ):
                await self._finish_claim(key, delivery_owner(alert_owner, delivery), alert)

    async def _finish_claim(self, key: str, owner: str, alert: Alert) -> None:
        """Take back incident `key`'s claim that `alert`'s failed delivery gave back, and
        carry out its effect, unless another worker took it meanwhile."""
        transition = await self.ledger.store.reclaim(
            key, owner, self.ledger.clock(), carrying=self.ledger.carrying
        )
        if transition is not None:
            log.info("claim.finished_on_retry", incident=key, action=str(transition.action))
            await self.ledger.carry_out(transition, owner, Effects(self, alert).carry_out)

    async def _remember_released(self, owner: str, key: str) -> None:
        """`owner`'s claim on incident `key` was given back on failure: its message's retry
        finishes it (`_finish_released`). Kept here, and in the store for a retry another
        replica takes; a store that fails that write too loses only the latter (logged)."""
        alert_owner = owner.rpartition(DELIVERY_MARK)[0] or owner
        message_id, mark, _ = alert_owner.partition("#")
        if not mark:
            return  # not a message's alert (a test's, or an operator's)
        entry = (key, alert_owner)
        released = self._released.get(message_id, {})
        if entry in released:
            return
        self._keep_released(message_id, {**released, entry: None})
        try:
            await self.ledger.store.remember_claim(message_id, key, owner, self.ledger.clock())
        except TriageError as exc:
            # The store is failing: its outage is the message's own line.
            log.debug("claim.not_remembered", incident=key, reason=exc.reason, error=str(exc))

    def _keep_released(self, message_id: str, released: dict[tuple[str, str], None]) -> None:
        self._released.pop(message_id, None)
        self._released[message_id] = released
        if len(self._released) > ATTEMPTED_KEPT:
            del self._released[next(iter(self._released))]

    def _stamp_set_aside(self, ahead: timedelta) -> None:
        """Say that a gateway's stamp `ahead` of SentTimestamp was not believed: at warning
        once (a gateway's clock off by minutes is off for every message it stamps), then at
        debug."""
        emit = log.debug if self._stamp_skew_said else log.warning
        self._stamp_skew_said = True
        emit(
            "message.stamp_skew",
            stamp_ahead_s=round(ahead.total_seconds(), 1),
            why="the gateway's clock is off SQS's: its alerts are dated by SentTimestamp",
        )

    def _shared(self, host_time: datetime) -> datetime:
        """A time read from this host's clock as the store's clock says it (DynamoDB's, when
        this host is off it): an alert is judged from the future by the time the replicas
        share, or a replica whose clock is behind dates a fresh alert back, before events
        others applied, and ignores it."""
        lead_s = self.ledger.store.shared_time(0.0)
        return host_time + timedelta(seconds=lead_s) if lead_s else host_time

    async def _each_incident(
        self,
        alerts: list[Alert],
        owner: str,
        delivery: str,
        progress: Progress,
        redelivered: bool = False,
        queued_at: datetime | None = None,
        *,
        unseen: Container[int] = (),
        reached: set[int] | None = None,
    ) -> list[Action]:
        """Handle the alerts concurrently, one task per incident (its alerts in the order they
        happened: `as_happened`), at most `alert_concurrency` at once; every task runs to its
        end before a failure is raised. A group gathering members does not stop the alerts
        after it: they join it meanwhile. `unseen`: the indexes of the alerts seen for the
        first time (`_unseen`); `reached` gains those an attempt that fails may have decided."""
        reached = reached if reached is not None else set()

        def handled(i: int, group: GroupKey | None) -> Awaitable[Action]:
            # One claim owner per alert of the message and delivery: a retry of the message
            # finds its own claims again, a second delivery running beside the first waits
            # for it, and alerts of one group never collide.
            claimant = delivery_owner(f"{owner}#{i}", delivery)
            return self.handle(
                alerts[i],
                claimant,
                group,
                redelivered=redelivered,
                queued_at=queued_at,
                progress=progress,
                first_sight=i in unseen,
            )

        if len(alerts) == 1:
            # A storm's every message: nothing to order or to bound, so handled in place,
            # without the incidents' map, a semaphore or a frame of their own (~4 % of a
            # repeat's instructions).
            try:
                group = self.group_of(alerts[0])
                if group is None and not redelivered:
                    claimant = delivery_owner(f"{owner}#0", delivery)
                    counted = await self._plain_repeat(
                        alerts[0], claimant, queued_at, first_sight=0 in unseen
                    )
                    if counted is not None:
                        return [counted]
                return [await handled(0, group)]
            except BaseException as exc:
                _reached(exc, reached, 0)
                raise
            finally:
                progress()
        actions: list[Action | None] = [None] * len(alerts)
        groups = [self.group_of(alert) for alert in alerts]
        by_incident: dict[str, list[int]] = {}
        for i, (alert, group) in enumerate(zip(alerts, groups, strict=True)):
            by_incident.setdefault(group.key if group else alert.fingerprint, []).append(i)
        by_incident = {key: as_happened(alerts, indexes) for key, indexes in by_incident.items()}
        slots = asyncio.Semaphore(self.alert_concurrency)

        async def incident(indexes: list[int]) -> None:
            gathering: GatheringError | None = None
            async with slots:
                for i in indexes:
                    try:
                        actions[i] = await handled(i, groups[i])
                        # Decided: should another alert hold the message, the retry finds
                        # this one applied by the order of its events, not only by its short
                        # id, which a storm of more counted repeats meanwhile pushes out of
                        # `Incident.counted_by` (it keeps the newest 64).
                        reached.add(i)
                    except GatheringError as exc:
                        reached.add(i)
                        gathering = exc
                    except BaseException as exc:
                        _reached(exc, reached, i)
                        raise
                    finally:
                        progress()
            if gathering is not None:
                raise gathering

        if len(by_incident) == 1:  # the common case: no tasks to make
            await incident(next(iter(by_incident.values())))
        else:
            results = await asyncio.gather(
                *(incident(indexes) for indexes in by_incident.values()), return_exceptions=True
            )
            _raise_first(results)
        return [a for a in actions if a is not None]

    async def _plain_repeat(
        self, alert: Alert, owner: str, queued_at: datetime | None, *, first_sight: bool
    ) -> Action | None:
        """A storm's plain repeat counted in one write (`Store.count_repeat`), without a claim,
        a view or a sink: COUNT. None, with nothing written, when the alert may be anything
        else (the general path, `handle`, then decides it): a dry run, a resolve, a person's
        change of priority, a parent or child alert, an active silence not shown to miss it
        (`none_match`: an unrelated one keeps the fast path), or an incident this process
        last saw other than open with nothing in progress (`Store.may_count`), or that the
        store's write finds so. Called for an alert of its own incident (no group) on its
        message's first attempt here (no redelivery)."""
        store = self.ledger.store
        if (
            self.dry_run
            or alert.status is not Status.FIRING
            or alert.priority_changed
            or alert.parent is not None
            or alert.closes_children
            or not store.may_count(alert.fingerprint)
        ):
            return None
        now = self.ledger.clock()
        if self.silences is not None and not none_match(
            await self.silences.in_effect(now), alert, now
        ):
            return None
        try:
            event = self.event(alert, queued_at, first_sight=first_sight)
            transition = await store.count_repeat(event, owner, now)
        except BaseException as exc:
            name_alert(exc, alert)
            raise
        if transition is None:
            return None
        self.metrics.incr(_QUIET_METRIC[Action.COUNT])
        if log.writes_debug:
            with structlog.contextvars.bound_contextvars(
                fingerprint=alert.fingerprint, source=alert.source
            ):
                log.debug("alert.decided", action=str(Action.COUNT), status=str(alert.status))
        return Action.COUNT

    def group_of(self, alert: Alert) -> GroupKey | None:
        """The group `alert` is a member of, when a grouping route takes it: keyed by its
        labels' whole values, past the 64 shown too (`Alert.label`), and shown as the alert's
        view shows them (`GroupKey.of_view`: its event reads its title from the same view)."""
        stated = alert.priority or default_priority(alert.severity)
        # One view for the known-error routes' categories (read only when such a route before
        # the grouping one could take the alert) and the group's shown values.
        view = AlertView(alert, self.redactor)
        route = self.router.grouping(alert, stated, view.view)
        if route is None:
            return None
        return GroupKey.of_view(route.grouping_name, route.group_by, route.group_window_s, view)

    async def handle(
        self,
        alert: Alert,
        owner: str,
        group: GroupKey | None = None,
        *,
        redelivered: bool = False,
        queued_at: datetime | None = None,
        progress: Progress = _no_progress,
        answers_firing: bool = False,
        first_sight: bool = False,
    ) -> Action:
        """Apply one alert (to its own incident, or as a member of `group`'s): claim its
        decision, and carry out the effect the claim holds. A `redelivered` message's alert
        checks its group membership again (its first delivery may have failed before that);
        `queued_at` (when its message was queued) orders it among events stamped alike.
        `answers_firing`: the alert is a resolve triage writes in answer to a firing (a parent's
        deletion closing a child), no older than a firing stamped and queued alike
        (`AnswersFiring`). `first_sight`: its message's first delivery, which no other message
        carries again (`_own_identity`), so a late repeat of it is counted."""
        # Bound and reset by token: `bound_contextvars` copies the whole context to restore it,
        # for every alert of a storm.
        tokens = structlog.contextvars.bind_contextvars(
            fingerprint=alert.fingerprint, source=alert.source
        )
        try:
            event: _Event | AnswersFiring = self.event(alert, queued_at, group, first_sight)
            if answers_firing:
                event = AnswersFiring(event)
            if self.dry_run:
                action = await self._preview(alert, event, group)
                if alert.closes_children:  # what the deletion would do to each child
                    _raise_first(await self.children.close(alert, owner, queued_at, progress))
                return action
            if alert.status is Status.RESOLVED:
                action = await self._resolve(alert, event, owner, group)
                if alert.parent is not None:
                    await self.children.resolved(alert, action)
                if alert.closes_children:  # on every delivery: a retry closes what one left
                    _raise_first(await self.children.close(alert, owner, queued_at, progress))
                return action
            firing = alert.status is Status.FIRING
            looked = Looked(owner=owner)
            joining = looked if group is not None and firing else None
            looks = None
            placed = True
            if joining is not None and group is not None:
                placed = await self.moves.note_before_claim(alert, group)

                async def looks(work: Work) -> bool:
                    return await self.moves.before_joining(
                        work, alert, owner, group, joining, queued_at
                    )

            elif firing:

                async def looks(work: Work) -> bool:
                    return await self.moves.before_owning(work, alert, looked, queued_at)

            try:
                action, wrote, opened = await self.apply(alert, event, owner, group, looks)
            except GatheringError:
                if group is not None and firing:  # the group's first member waits for others
                    await self.moves.join(alert, owner, group, queued_at, joining)
                raise
            except TransientError:
                if joining is not None and group is not None:
                    await self.moves.move_after_failure(alert, owner, group, joining, queued_at)
                raise
            # Counted without a write and not remembered there: another delivery of the
            # message counted it, and may have died (or been throttled) before its `join`.
            counted = action is Action.COUNT and not placed
            if group is not None and firing and (wrote or redelivered or counted):
                await self.moves.join(alert, owner, group, queued_at, joining)
            elif group is None and firing and (action in _OPENING or opened or redelivered):
                await self.moves.leave_group(alert, owner, queued_at, looked)
            if alert.parent is not None and firing:
                await self.children.fired(alert)
            return action
        except BaseException as exc:  # a cancellation too: the timeout it becomes names it
            name_alert(exc, alert)
            raise
        finally:
            structlog.contextvars.reset_contextvars(**tokens)

    def event(
        self,
        alert: Alert,
        queued_at: datetime | None = None,
        group: GroupKey | None = None,
        first_sight: bool = False,
    ) -> _Event:
        """What the store's lifecycle reads of `alert`, its message queued at `queued_at`;
        its title read from the view `group` (the alert's group key) was made of, if any."""
        # Its title as its view shows it: also without a value its labels hold as a secret.
        view = group.view if group is not None else None
        return _Event(alert, self.redactor, queued_at, self.router, view, first_sight)

    async def apply(
        self,
        alert: Alert,
        event: AlertEvent,
        owner: str,
        group: GroupKey | None,
        before_effect: Callable[[Work], Awaitable[bool]] | None = None,
    ) -> tuple[Action, bool, bool]:
        """Claim the alert's decision and carry out its effect; the action, whether the
        decision changed the incident, and whether it opened it (a silenced one too).
        `before_effect` runs once the effect is claimed, before any sink hears of it; when it
        says True, it took the effect back (IGNORE)."""
        # One view of the alert for all its uses here: the silences' match, the held view, the
        # title the claim's decision reads and a new incident's effects (`_shared_view`).
        shared = _shared_view(event, alert, self.redactor)
        effects = Effects(self, alert, lambda: shared)
        hold = await self._hold(alert, shared, group)
        claim = self.ledger.claim(event, owner, redo=effects.carry_out, group=group, hold=hold)
        withdrawn = False
        try:
            async with claim as work:
                if work.effect is not None:
                    withdrawn = before_effect is not None and await before_effect(work)
                    if not withdrawn:
                        await effects.carry_out(work)
        except Exception:
            if claim.released is not None:
                await self._remember_released(owner, claim.released)
            raise
        except BaseException:
            if claim.released is not None:
                # Cancelled (timed out, or a drain's deadline): its message comes back too,
                # but nothing more is awaited here, so a slow store cannot hold the exit.
                remember = asyncio.ensure_future(self._remember_released(owner, claim.released))
                self._remembering.add(remember)
                remember.add_done_callback(self._remembering.discard)
            raise
        for redone in claim.redone:
            await self.moves.after_own_redo(redone, owner)
        if withdrawn:
            return Action.IGNORE, True, False
        if (
            group is not None
            and work.action is Action.COUNT
            and work.before is not None
            and not work.wrote
            and renews_own_record(work.before, alert.fingerprint)
        ):
            # The group keeps no time for this member: its record is renewed here.
            await Members(self.ledger.store).place(alert.fingerprint, group, self.ledger.clock())
        # Another delivery of an alert already decided was counted under its own action then.
        metric = None if work.redelivery else _QUIET_METRIC.get(work.action)
        if metric is not None:
            self.metrics.incr(metric)
        # A repeat is at debug: a storm would log it twice (its message.acked line names
        # the action and the fingerprint too), at 18.7 µs of CPU a line (bench/RESULTS.md).
        quiet = work.action is Action.COUNT or work.redelivery
        if not quiet:
            log.info("alert.decided", action=str(work.action), status=str(alert.status))
        elif log.writes_debug:
            log.debug("alert.decided", action=str(work.action), status=str(alert.status))
        return work.action, work.wrote, work.opened

    async def _resolve(
        self, alert: Alert, event: _Event | AnswersFiring, owner: str, group: GroupKey | None
    ) -> Action:
        """A resolve: it resolves its alert wherever it is a member (see `incidents.members`),
        even where no route groups (a replica the routes change has not reached yet); the
        action is that of the first place."""
        members = Members(self.ledger.store)
        first, *others = await members.resolve_targets(alert.fingerprint, group)
        action, _, _ = await self.apply(alert, event, owner, first)
        if first is not None and not others:
            await members.place_resolved(alert.fingerprint, first, self.ledger.clock())
        for other in others:
            await self.apply(alert, event, leaving_owner(owner), other)
        # Another worker may have moved the member meanwhile; the move looks for this resolve
        # after remembering it, and this looks for the move after resolving: one sees the other.
        moved = await members.moved_to(alert.fingerprint, [first, *others])
        if moved is not None:
            log.info("alert.resolved_after_move", group=moved.key)
            await self.apply(alert, event, owner_for(owner, "moved"), moved)
        if first is not None and None not in others:
            # It may fire as its own incident too (a replica on routes that do not group it,
            # while a routes change rolls out). Looked at after the writes above, as a move
            # is: a firing that opened it meanwhile looks at the group after opening it, so
            # one of the two sees the other (it stayed open for good).
            own = await self.ledger.store.get(alert.fingerprint)
            if own is not None and own.group is None and own.state is State.OPEN:
                await self.apply(alert, event, leaving_owner(owner), None)
            elif own is not None and own.group is None and closing(own):
                await self.moves.finish_close(alert, owner, own, event.queued_at)
        return action

    async def _hold(
        self, alert: Alert, shared: AlertView, group: GroupKey | None = None
    ) -> Hold | None:
        """When a silence matches `alert`: what the store keeps to carry its effect out later
        (the alert redacted, as the ticket would be written from, from the `shared` view the
        match read: its fields are redacted once). A member's silence holds its group's
        effect only as `member_silence_holds` says (the group read only then)."""
        silence = await self._silence_for(alert, shared)
        if silence is None:
            return None
        if group is not None:
            stored = await self.ledger.store.get(group.key)
            if not member_silence_holds(silence, stored, self.ledger.clock()):
                return None
        # With its labels past the cap: the sweep matches the held view, and a silence on
        # one of those (as routes and groups read them) must hold it there too.
        held = functools.partial(
            shared.view, excerpt_chars=self.payload_excerpt_chars, past_cap=True
        )
        if self.payload_excerpt_chars > 0 and large_payload(alert):
            view = await asyncio.to_thread(held)  # as a ticket's excerpt is (`Effects.carry_out`)
        else:
            view = held()
        return Hold(silence.id, silence.ends(), view_to_json(view))

    async def _silence_for(self, alert: Alert, shared: AlertView | None = None) -> Silence | None:
        """The first active silence that matches `alert`, if any, read through the alert's
        `shared` view when given (`first_match`)."""
        if self.silences is None:
            return None
        now = self.ledger.clock()
        silences = await self.silences.in_effect(now)
        return first_match(silences, alert, now, shared) if silences else None

    async def carry_out(self, transition: Transition, owner: str) -> None:
        """Carry out an effect claimed outside a message (by the sweep, or by hand), with the
        alert the claim carries, or as the stored incident says when it carries none (a
        message's claim its delivery never finished)."""
        with structlog.contextvars.bound_contextvars(fingerprint=transition.fingerprint):
            await self.ledger.carry_out(transition, owner, Effects(self, None).carry_out)
            log.info("incident.carried_out", action=str(transition.action), owner=owner)
            await self.moves.after_own_redo(transition, owner)

    async def close(self, fingerprint: str, owner: str, comment: str, author: str) -> Action:
        """Close an incident by hand, through the lifecycle and the sinks a resolve goes to:
        CLOSE (the sinks are told, with the comment), or IGNORE when it is closed already,
        or RECORD when its ticket never went out. Raises LookupError for an unknown one.
        `comment` and `author` are bounded where they are typed (`note_problem`)."""
        incident = await self.ledger.store.get(fingerprint)
        if incident is None:
            raise LookupError(fingerprint)
        now = self.ledger.clock()
        # Whole: the sinks show a close's title (the backend's resolve note, GitHub's closing
        # comment), and a cut here ended the operator's comment mid-word or mid-marker.
        note = self.redactor.text(f"{incident.title} (closed by {author}: {comment})")
        view = closing_note(incident, note, now)
        transition = await self.ledger.store.close(
            fingerprint, owner, now, view_to_json(view), carrying=self.ledger.carrying
        )
        if transition.action.effect is not None:
            await self.carry_out(transition, owner)
        log.info("incident.closed_by_hand", fingerprint=fingerprint, action=str(transition.action))
        return transition.action

    async def _preview(
        self, alert: Alert, event: _Event | AnswersFiring, group: GroupKey | None
    ) -> Action:
        """Dry run: the decision the claim would take, logged with what it would send. A
        silence that matches the alert holds its effect as the claim would (`silenced`, the
        silence named): no summary is written for a ticket that would not go out."""
        decision, stored = await self.ledger.preview(event, group)
        details: dict[str, object] = {"sinks": []}
        shared = _shared_view(event, alert, self.redactor)
        silence = await self._silence_for(alert, shared) if _holds(decision, stored) else None
        if silence is not None:
            decision = Decision(Action.SILENCED, decision.incident)
            details["silence"] = silence.id
        elif stored is not None and stored.held is not None and decision.incident is not None:
            # The silence that held its effect has ended: the claim lets the held effect go
            # with this alert (`Store.claim`), as the dry run says, naming that silence.
            decision = unheld(decision, stored.held, self.ledger.clock())
            details["released"] = stored.held.silence
        effect = decision.action.effect
        if effect is EffectKind.OPEN:
            view = shared.view()
            ticket = await self.summariser.summarise(view)
            route = self.router.route(alert, ticket.priority, view)
            details.update(
                title=ticket.title,
                priority=str(ticket.priority),
                route=route.name,
                sinks=list(route.sinks),
            )
        elif effect is not None and stored is not None:
            details["sinks"] = list(sinks_for(effect, self.router.default, stored))
        self.metrics.incr("DryRunDecisions", action=str(decision.action))
        log.info("alert.dry_run", action=str(decision.action), **details)
        return decision.action


def _holds(decision: Decision, stored: Incident | None) -> bool:
    """Whether a matching silence would hold `decision`'s effect, as the store's claim
    decides (`Store.claim`): the incident stays open and its effect is one a silence holds
    back, or one is held already (a repeat under the silence is counted as held)."""
    decided = decision.incident
    if decided is None or decided.state is not State.OPEN:
        return False
    held = stored.held if stored is not None else None
    return decision.action.effect in HOLDABLE or held is not None


def as_happened(alerts: Sequence[Alert], indexes: list[int]) -> list[int]:
    """`indexes` (one incident's alerts of a message) in the order their events happened:
    by time, a firing before a resolve stamped alike. A notification may list a group's
    member resolved before another member that fired earlier; applied as listed, the group
    would close on the resolve and reopen on the firing (counted towards flapping) though a
    member fired all along. One fingerprint's own alerts keep the order the source gave them:
    the sorted order only decides which fingerprint's turn each place is."""
    by_time = sorted(
        indexes, key=lambda i: (alerts[i].occurred_at, alerts[i].status is Status.RESOLVED)
    )
    own_order: dict[str, list[int]] = {}
    for i in indexes:
        own_order.setdefault(alerts[i].fingerprint, []).append(i)
    turns = {fingerprint: iter(listed) for fingerprint, listed in own_order.items()}
    return [next(turns[alerts[i].fingerprint]) for i in by_time]


def _alert_index(alert_owner: str) -> int | None:
    """Which alert of its message a claim owner (without its delivery) is: `<message>#<index>`,
    or a further alert that one makes (`<message>#<index>/left`)."""
    index = alert_owner.partition("#")[2].partition("/")[0]
    return int(index) if index.isdigit() else None


def _unseen(message: Message, alerts: int, reached: set[int] | None) -> Container[int]:
    """The indexes of `message`'s alerts seen for the first time, whose late repeat is
    counted (`lifecycle.first_sight`): on its first delivery, when its identity is its own
    (`_own_identity`), every alert an earlier attempt here did not reach (`reached`): one held
    while its incident was busy decided nothing, and its retry is no redelivery."""
    if not message.first_delivery or message.redriven or not _own_identity(message):
        return ()
    if not reached:
        return range(alerts)
    return frozenset(range(alerts)).difference(reached)


def _reached(error: BaseException, reached: set[int], index: int) -> None:
    """Alert `index` failed with `error`: unless its incident was busy (StoreBusyError: its
    decision waits for another's effect, unwritten), it may have been decided, so its retry
    is not its first sight. A count written before a later busy (a lost lease, a move) is
    still known by its short id (`Incident.counted_by`, the newest 64 until its message is
    deleted); an alert decided before another alert's busy is `reached` as it ends."""
    if not isinstance(error, StoreBusyError):
        reached.add(index)


def _own_identity(message: Message) -> bool:
    """`message` is the only SQS message its identity names: SQS's own id, or the id the
    gateway stamped on it. An identity read from its body (an SNS publish's, an EventBridge
    event's) may come in a second SQS message (SNS delivers at least once), whose copy a late
    repeat's first delivery cannot tell from a new alert."""
    return not message.identity.startswith((f"{SNS}:", f"{EVENTBRIDGE}:"))


def _delivery(message: Message) -> str:
    """Which delivery of `message` this is: its receipt handle, new on every receive, cut
    short (it is kept on every claim)."""
    return hashlib.blake2b(message.receipt_handle.encode(), digest_size=6).hexdigest()


def _raise_first(results: Sequence[object]) -> None:
    """Raise the failure that decides the message's fate, after logging the others: a bug
    first (loud), then a wait or the store failing (the message is held: neither is its
    fault), a transient failure (retried), and a permanent one last (a retry still helps the
    alerts that failed transiently)."""
    errors = [r for r in results if isinstance(r, BaseException)]
    if not errors:
        return
    for error in errors:
        if not isinstance(error, Exception):
            raise error  # cancellation: nothing to choose

    def rank(error: BaseException) -> int:
        if not isinstance(error, TriageError):
            return 0
        if isinstance(error, BackpressureError | StoreUnavailableError):
            return 1
        return 2 if isinstance(error, TransientError) else 3

    # Among equals, the failure that opened a breaker decides: its line is quiet, as the
    # breaker's own says the outage (another alert's line would repeat it at warning).
    errors.sort(key=lambda error: (rank(error), opened_by(error) is None))
    decisive = errors[0]
    for other in errors[1:]:
        reason = _reason(other)
        # The message's own line says the decisive failure; another alert's failure for the
        # same reason adds nothing to it, so it is a warning only when its reason differs.
        emit = log.debug if reason == _reason(decisive) else log.warning
        text = str(other) or type(other).__name__
        emit("alert.failed", reason=reason, error=text, **alert_fields(other))
    raise decisive


def _reason(error: BaseException) -> str:
    return error.reason if isinstance(error, TriageError) else "bug"


def name_alert(error: BaseException, alert: Alert) -> None:
    """Note on `error` the alert it failed (its first, when it passes through several), so
    the one line that says why a message failed — the supervisor's, after this alert's log
    context is gone — names the alert's fingerprint and source."""
    if "fingerprint" not in vars(error):
        error.fingerprint = alert.fingerprint  # type: ignore[attr-defined]
        error.source = alert.source  # type: ignore[attr-defined]


def alert_fields(error: BaseException) -> dict[str, str]:
    """The `fingerprint` and `source` `name_alert` noted on `error`, or on the error it came
    from (a timeout is raised from the cancellation that cut the alert's work short); empty
    when no alert was reached (a body that does not decode)."""
    seen: set[int] = set()
    current: BaseException | None = error
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        noted = vars(current)
        if "fingerprint" in noted:
            return {"fingerprint": noted["fingerprint"], "source": noted["source"]}
        current = current.__cause__ or current.__context__
    return {}


def _everything_to(sinks: Sequence[Sink]) -> Router:
    return Router(Route("default", tuple(s.name for s in sinks), {}))
