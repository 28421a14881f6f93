"""The part of `Store` every other part stands on: the primitives a backend supplies (`_get` a
record, `_update` one atomically, `_scan`, `_due`), the state one process keeps beside them, and
reading incidents back (decoded once, and listed without stalling the event loop).

Apart from `store` so that the parts of `Store` split out of it (`claims`, `sweeping`, `shared`)
build on one base class, not on the whole protocol. `Store` itself supplies what they call of
it: `_transact` (the one write of an incident, which holds every record to its size bound),
`_stamp` (a decision as written, with its claim) and `_wait` (how long a busy one waits).
"""

from __future__ import annotations

import abc
import time
from collections import OrderedDict
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import structlog

from triage.errors import StoreCorruptError
from triage.incidents.codec import incident_from_json
from triage.incidents.lifecycle import Decision, Event, Incident, Pending, Policy, replace_incident
from triage.incidents.records import INCIDENT, Change, R, Record, RecordChange
from triage.models import EffectKind

# Logged as the store: its events (`store.*`) keep the logger name they had before the split.
log = structlog.get_logger("triage.incidents.store")

#: Incidents a listing decodes between turns it gives the event loop (about 6 ms of CPU).
_DECODE_BATCH = 200
#: How far this host's clock may be off SQS's before a store on it follows SQS's
#: (`StoreBase.follow_queue_clock`): the bound DynamoDB's store keeps to its answers' `Date`.
QUEUE_CLOCK_TRUSTED_S = 5.0
#: A new estimate of SQS's offset this close to the one followed is not taken.
QUEUE_CLOCK_STEADY_S = 1.0


class StoreBase(abc.ABC):
    """What every part of `Store` shares: the backend's primitives, the policy and lease, the
    incidents this process decoded last, and reading incidents back."""

    #: Incidents kept decoded, the most recently written (see `_decoded`).
    DECODED_KEPT = 1024

    def __init__(self, policy: Policy, lease: timedelta, closed_ttl: timedelta) -> None:
        self.policy = policy
        self.lease = lease
        self.closed_ttl = closed_ttl
        #: The last body this process wrote or read per incident, with the incident it decodes
        #: to: a storm rewrites the same incidents over and over, and a record that no other
        #: replica changed since need not be decoded again. Changed only inside `_update`'s
        #: change (one thread at a time: SQLite's store thread, or the event loop); read on the
        #: event loop too, as a hint that a write then checks (`Store.may_count`).
        self._decoded: dict[str, tuple[str, Incident]] = {}
        #: The silences record last warned about as unreadable (read every second: warned once).
        self._silences_warned: str | None = None
        #: Short ids of counted alerts whose messages SQS confirmed deleted (`settle`), the
        #: newest SETTLED_KEPT: dropped from an incident's `counted_by` by the next write.
        #: Added to on the event loop, read by `_update`'s change (atomic dict operations).
        #: Ordered, so the oldest goes in O(1): a plain dict's first key is found by stepping
        #: over every slot its deletes left since the last resize (up to ~2,700 at 8,192 kept),
        #: ~5 µs at every settle of a storm.
        self._settled: OrderedDict[str, None] = OrderedDict()

    def now(self) -> datetime:
        """The time decisions on this store are taken at: this host's clock, which every
        replica of a SQLite file shares, or SQS's once this host's is found minutes off it
        (`follow_queue_clock`); a store shared across hosts reads its own."""
        return datetime.fromtimestamp(self.host_time() + self._queue_ahead_s, UTC)

    def shared_time(self, host_s: float) -> float:
        """A time read from this host's clock (epoch seconds) as `now()` would say it: what
        the records replicas share (the budgets) are dated with."""
        return host_s + self._queue_ahead_s

    #: This host's clock, in epoch seconds (a test gives a host's clock minutes off).
    host_time: Callable[[], float] = staticmethod(time.time)
    #: How far SQS's clock is ahead of this host's, as `now()` follows it (0: not followed).
    _queue_ahead_s = 0.0

    def follow_queue_clock(self, ahead: timedelta) -> None:
        """SQS's clock is `ahead` of this host's (`Message.sqs_ahead`, told by a first
        delivery). A store on this host's clock follows SQS's once they are more than
        QUEUE_CLOCK_TRUSTED_S apart: the alerts' own stamps are on their senders' clocks, kept
        near SQS's (NTP), and judged against the store's time ("from the future",
        `pipeline.believable_time`). On a host ten minutes slow every fresh alert looked ten
        minutes ahead and was dated back to its receive, but a late one was not, and their
        order flipped (a resolve ignored, or an old one closing a ticket). A new estimate
        within QUEUE_CLOCK_STEADY_S of the one followed is not taken: each is off by its
        receive's round trip, and `now()` should not move back and forth by milliseconds.
        A store shared across hosts (DynamoDB) keeps the clock of its own answers."""
        ahead_s = ahead.total_seconds()
        if abs(ahead_s) <= QUEUE_CLOCK_TRUSTED_S:
            ahead_s = 0.0
        if abs(ahead_s - self._queue_ahead_s) <= QUEUE_CLOCK_STEADY_S:
            return
        if ahead_s:
            log.warning(
                "store.clock_follows_queue",
                sqs_ahead_s=round(ahead_s, 1),
                why="alerts' times are judged on SQS's clock while this host's is off it",
            )
        else:
            log.info("store.clock_in_step", why="this host's clock is within SQS's again")
        self._queue_ahead_s = ahead_s

    @abc.abstractmethod
    async def _get(self, kind: str, key: str) -> Record | None: ...

    @abc.abstractmethod
    async def _update(self, kind: str, key: str, change: RecordChange[R]) -> R:
        """Atomically: read the record, let `change` decide what to write, write it.

        A backend with only conditional writes (DynamoDB) loops: read, change, write if the
        version is still the one read, else read again.
        """

    @abc.abstractmethod
    async def _scan(self, kind: str) -> list[Record]:
        """Every record of `kind` (a scan: operator scale, never on a message's path)."""

    @abc.abstractmethod
    async def _due(self, now_s: float | None) -> list[str]:
        """Keys of the incidents whose `sweep_at` is at most `now_s` (None: every one that has
        a `sweep_at`)."""

    @abc.abstractmethod
    async def ping(self) -> None:
        """Raise StoreUnavailableError if the store cannot be reached."""

    @abc.abstractmethod
    async def aclose(self) -> None: ...

    async def get(self, fingerprint: str) -> Incident | None:
        record = await self._get(INCIDENT, fingerprint)
        return self._decode(record) if record else None

    def _decode(self, record: Record) -> Incident:
        kept = self._decoded.get(record.key)
        if kept is not None and kept[0] == record.body:
            return kept[1]
        try:
            incident = incident_from_json(record.body)
        except (KeyError, TypeError, ValueError, AttributeError) as exc:
            raise StoreCorruptError(
                f"the stored record of incident {record.key} is unreadable: "
                f"{type(exc).__name__} {str(exc)[:80]}"
            ) from None
        self._keep_decoded(record.key, record.body, incident)
        return incident

    def _keep_decoded(self, key: str, body: str, incident: Incident) -> None:
        decoded = self._decoded
        decoded.pop(key, None)  # the newest last: the oldest goes first when full
        if len(decoded) >= self.DECODED_KEPT:
            del decoded[next(iter(decoded))]
        decoded[key] = (body, incident)

    @abc.abstractmethod
    async def incidents(self) -> list[Incident]:
        """Every incident the store holds that can be read (`Store.listing` counts the rest)."""

    # Supplied by `Store` (store.py), declared here so that its parts can call them.

    @abc.abstractmethod
    async def _transact(self, fingerprint: str, change: Change[R]) -> R:
        """`change` applied to the incident (decoded), its result written back (encoded)."""

    @abc.abstractmethod
    def _stamp(
        self,
        stored: Incident | None,
        decision: Decision,
        effect: EffectKind | None,
        owner: str,
        now: datetime,
        *,
        gather: bool = True,
        alert: str | None = None,
        counted: str | None = None,
        history: tuple[Event, ...] | None = None,
    ) -> Incident:
        """The decided incident as written, with the claim of its effect (see `Store._stamp`)."""

    @abc.abstractmethod
    def _wait(self, pending: Pending, now: datetime) -> float:
        """How long a message waits for an effect someone else holds (see `Store._wait`)."""


def next_version(incident: Incident, **changes: object) -> Incident:
    """`incident` with `changes`, as its next version (the one a conditional write expects),
    in one copy (`replace_incident`: a third of `dataclasses.replace`'s time)."""
    return replace_incident(incident, version=incident.version + 1, **changes)
