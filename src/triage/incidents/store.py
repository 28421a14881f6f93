"""Where incidents live, and where replicas agree on who does what.

`Store` is the seam: it holds the protocol every backend shares, on top of two primitives a
backend supplies: read a record (a JSON document with a version), and change it
atomically (write it only if its version is unchanged). Records are of a few kinds: incidents,
and the budgets replicas share (GitHub's issue-creation budget), one record per budget.

Per alert, a worker calls `begin()`: one conditional write decides the lifecycle action and, when
it has a sink effect, records a `Pending` intent owned by the worker (its SQS message id) with a
lease. The worker then calls the sinks, `confirm()`s each one, and `finish()`es. A crash in
between leaves the intent; once its lease ends, whoever sees the incident next redoes the effect
with the same idempotency key, so the ticket is neither lost nor duplicated.
"""

from __future__ import annotations

import abc
import dataclasses
import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TypeVar

import structlog

from triage.errors import StoreBusyError
from triage.incidents.codec import incident_from_json, incident_to_json
from triage.incidents.groups import GroupKey, decide_group
from triage.incidents.lifecycle import (
    Action,
    AlertEvent,
    Decision,
    Incident,
    Pending,
    Policy,
    State,
    decide,
)
from triage.models import EffectKind, Ticket
from triage.ratelimit import Budget

log = structlog.get_logger(__name__)

R = TypeVar("R")
#: Given the stored incident (or None), return what to write (None: nothing) and a result.
Change = Callable[[Incident | None], tuple[Incident | None, R]]

#: Record kinds. Incidents keep their own table (SQLite) or carry no kind attribute (DynamoDB),
#: as they did before other kinds existed.
INCIDENT = "incident"
BUDGET = "budget"


@dataclass(frozen=True, slots=True)
class Record:
    """One stored JSON document; `version` makes every write conditional."""

    key: str
    kind: str
    version: int
    body: str
    #: Epoch seconds after which the record may be deleted (SQLite purge, DynamoDB TTL).
    expires_at: float | None = None


#: Given the stored record (or None), return what to write (None: nothing) and a result.
RecordChange = Callable[[Record | None], tuple[Record | None, R]]


@dataclass(frozen=True, slots=True)
class Transition:
    """The outcome of `begin()`: the action to carry out and the incident before and after."""

    action: Action
    before: Incident | None
    after: Incident | None
    #: True when this is someone's unfinished effect being redone, not the alert's own action;
    #: the caller must call `begin()` again for the alert once the redo is finished.
    redo: bool = False

    @property
    def idempotency_key(self) -> str:
        assert self.after is not None and self.after.pending is not None
        return f"{self.after.fingerprint}:{self.after.pending.seq}"


class Store(abc.ABC):
    """The claim/confirm/finish protocol and the shared budgets, over two primitives a backend
    supplies (`_get` a record, `_update` one atomically); `SQLiteStore` and `DynamoDBStore`
    are its backends, and tests add an in-memory one."""

    def __init__(self, policy: Policy, lease: timedelta, closed_ttl: timedelta) -> None:
        self.policy = policy
        self.lease = lease
        self.closed_ttl = closed_ttl

    @abc.abstractmethod
    async def _get(self, kind: str, key: str) -> Record | None: ...

    @abc.abstractmethod
    async def _update(self, kind: str, key: str, change: RecordChange[R]) -> R:
        """Atomically: read the record, let `change` decide what to write, write it.

        A backend with only conditional writes (DynamoDB) loops: read, change, write if the
        version is still the one read, else read again.
        """

    @abc.abstractmethod
    async def ping(self) -> None:
        """Raise StoreUnavailableError if the store cannot be reached."""

    @abc.abstractmethod
    async def aclose(self) -> None: ...

    # --- Incidents ---------------------------------------------------------------------------

    async def get(self, fingerprint: str) -> Incident | None:
        record = await self._get(INCIDENT, fingerprint)
        return incident_from_json(record.body) if record else None

    async def _transact(self, fingerprint: str, change: Change[R]) -> R:
        """`change` applied to the incident (decoded), its result written back (encoded)."""

        def on_record(record: Record | None) -> tuple[Record | None, R]:
            write, result = change(incident_from_json(record.body) if record else None)
            if write is None:
                return None, result
            encoded = Record(
                fingerprint, INCIDENT, write.version, incident_to_json(write), self._expiry(write)
            )
            return encoded, result

        return await self._update(INCIDENT, fingerprint, on_record)

    async def begin(
        self, alert: AlertEvent, owner: str, now: datetime, group: GroupKey | None = None
    ) -> Transition:
        """Apply `alert` (to its own incident, or as a member of `group`'s) in one atomic
        write, claiming the effect the decision has, if any, for `owner`."""

        def change(stored: Incident | None) -> tuple[Incident | None, Transition]:
            transition = self._plan(stored, alert, owner, now, group)
            unchanged = transition.after is None or transition.after == stored
            return (None if unchanged else transition.after), transition

        return await self._transact(group.key if group else alert.fingerprint, change)

    def _plan(
        self,
        stored: Incident | None,
        alert: AlertEvent,
        owner: str,
        now: datetime,
        group: GroupKey | None = None,
    ) -> Transition:
        pending = stored.pending if stored else None
        if stored is not None and pending is not None:
            mine = pending.owner == owner
            if mine or pending.until <= now:
                # Our own retry, or an abandoned effect: redo it before anything else.
                claimed = dataclasses.replace(pending, owner=owner, until=now + self.lease)
                after = dataclasses.replace(stored, pending=claimed, version=stored.version + 1)
                return Transition(Action(pending.kind.value), stored, after, redo=not mine)
        if group is None:
            decision = decide(stored, alert, now, self.policy)
        else:
            decision = decide_group(stored, alert, now, self.policy, group)
        if decision.incident is None:
            return Transition(decision.action, stored, None)
        effect = decision.action.effect
        if effect is not None and pending is not None:
            # Wait for the holder to finish or its lease to run out. A third of the lease at
            # most per try, so the lease of a crashed worker runs out within three tries,
            # while a live holder is not waited on long.
            remaining = (pending.until - now).total_seconds()
            wait = max(1.0, min(remaining + 1.0, self.lease.total_seconds() / 3))
            raise StoreBusyError(
                f"incident {alert.fingerprint} has a {pending.kind} effect in progress",
                retry_after_s=wait,
            )
        return Transition(
            decision.action, stored, self._stamp(stored, decision, effect, owner, now)
        )

    def _stamp(
        self,
        stored: Incident | None,
        decision: Decision,
        effect: EffectKind | None,
        owner: str,
        now: datetime,
    ) -> Incident:
        assert decision.incident is not None
        incident = dataclasses.replace(
            decision.incident, version=(stored.version + 1) if stored else 1
        )
        if effect is None:
            return incident
        seq = incident.seq + 1
        delta = incident.occurrences - (stored.occurrences_at_update if stored else 0)
        gathering = incident.group.window_s if incident.group and effect is EffectKind.OPEN else 0
        pending = Pending(
            effect,
            owner,
            now + self.lease,
            seq,
            delta=delta,
            not_before=now + timedelta(seconds=gathering) if gathering else None,
        )
        return dataclasses.replace(incident, seq=seq, pending=pending)

    async def save_ticket(self, fingerprint: str, owner: str, ticket: Ticket) -> None:
        await self._mutate(fingerprint, owner, lambda i: dataclasses.replace(i, ticket=ticket))

    async def confirm(
        self, fingerprint: str, owner: str, sink: str, ref: str | None, *, finish: bool = False
    ) -> None:
        def apply(incident: Incident) -> Incident:
            assert incident.pending is not None
            done = (*incident.pending.done, sink)
            refs = {**incident.refs, sink: ref} if ref is not None else incident.refs
            pending = None if finish else dataclasses.replace(incident.pending, done=done)
            return dataclasses.replace(incident, refs=refs, pending=pending)

        await self._mutate(fingerprint, owner, apply)

    async def finish(self, fingerprint: str, owner: str) -> None:
        await self._mutate(fingerprint, owner, lambda i: dataclasses.replace(i, pending=None))

    async def release(self, fingerprint: str, owner: str) -> None:
        def apply(incident: Incident) -> Incident:
            # Move the lease's end back to when it was claimed: already past for any later
            # begin(), on the same clock the lease was set with (not this host's wall clock).
            assert incident.pending is not None
            claimed = incident.pending.until - self.lease
            return dataclasses.replace(
                incident, pending=dataclasses.replace(incident.pending, until=claimed)
            )

        await self._mutate(fingerprint, owner, apply)

    async def _mutate(
        self, fingerprint: str, owner: str, edit: Callable[[Incident], Incident]
    ) -> None:
        """Apply `edit` while `owner` still holds the pending effect; else do nothing."""

        def change(stored: Incident | None) -> tuple[Incident | None, bool]:
            if stored is None or stored.pending is None or stored.pending.owner != owner:
                return None, False
            return dataclasses.replace(edit(stored), version=stored.version + 1), True

        if not await self._transact(fingerprint, change):
            # Someone took the effect over (our lease ran out); they redo it with the same
            # idempotency key, so our result is not lost, only not recorded by us.
            log.warning("store.lease_lost", fingerprint=fingerprint, owner=owner)

    def _expiry(self, incident: Incident) -> float | None:
        """Closed incidents expire `closed_ttl` after closing; open ones never do."""
        if incident.state is State.CLOSED and incident.closed_at is not None:
            return (incident.closed_at + self.closed_ttl).timestamp()
        return None

    # --- Budgets -----------------------------------------------------------------------------

    async def take_token(self, budget: Budget, now_s: float, *, keep: int = 0) -> float:
        """Take one token of `budget`, unless fewer than `keep` would be left: 0.0 when taken,
        else the seconds until one is free. One conditional write per token taken, so every
        replica draws on the same budget."""

        def change(record: Record | None) -> tuple[Record | None, float]:
            tokens = budget.tokens(_budget_state(record), now_s)
            if tokens - keep < 1:
                return None, budget.wait_s(tokens, keep)
            return self._budget_record(budget, record, tokens - 1, now_s), 0.0

        return await self._update(BUDGET, budget.name, change)

    async def give_back_token(self, budget: Budget, now_s: float) -> None:
        """Return a token taken for a call that did not happen (another budget refused it)."""

        def change(record: Record | None) -> tuple[Record | None, None]:
            tokens = budget.tokens(_budget_state(record), now_s)
            return self._budget_record(budget, record, tokens + 1, now_s), None

        await self._update(BUDGET, budget.name, change)

    async def budget_tokens(self, budget: Budget, now_s: float) -> float:
        """The tokens `budget` holds now, without taking any."""
        record = await self._get(BUDGET, budget.name)
        return budget.tokens(_budget_state(record), now_s)

    def _budget_record(
        self, budget: Budget, record: Record | None, tokens: float, now_s: float
    ) -> Record:
        body = json.dumps({"tokens": min(tokens, budget.capacity), "updated_s": now_s})
        # A budget nobody used for two periods is full again: its record may go.
        expires = now_s + 2 * budget.period_s
        return Record(budget.name, BUDGET, (record.version + 1) if record else 1, body, expires)


def _budget_state(record: Record | None) -> tuple[float, float] | None:
    if record is None:
        return None
    data = json.loads(record.body)
    return float(data["tokens"]), float(data["updated_s"])
