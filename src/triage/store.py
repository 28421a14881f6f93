"""Where incidents live, and where replicas agree on who does what.

`Store` is the seam; `VersionedStore` holds the protocol every backend shares, on top of two
primitives a backend supplies: read a record (a JSON document with a version), and change it
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
import asyncio
import dataclasses
import json
import sqlite3
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, Protocol, TypeVar
from urllib.parse import urlparse

import structlog

from triage.aws import Aws
from triage.errors import ConfigError, StoreBusyError, StoreUnavailableError
from triage.lifecycle import (
    Action,
    AlertEvent,
    Decision,
    Incident,
    Pending,
    Policy,
    State,
    decide,
)
from triage.models import Ticket
from triage.ratelimit import Budget
from triage.sinks.base import EffectKind

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


class Store(Protocol):
    async def begin(self, alert: AlertEvent, owner: str, now: datetime) -> Transition:
        """Apply `alert` atomically; claim its effect (if any) for `owner`."""
        ...

    async def save_ticket(self, fingerprint: str, owner: str, ticket: Ticket) -> None:
        """Keep the summary, so a redo or a later update never summarises again."""
        ...

    async def confirm(
        self, fingerprint: str, owner: str, sink: str, ref: str | None, *, finish: bool = False
    ) -> None:
        """Record that `sink` carried out the pending effect (and its ticket reference); with
        `finish`, it was the last sink, so the pending effect is cleared in the same write."""
        ...

    async def finish(self, fingerprint: str, owner: str) -> None:
        """Clear the pending effect: every sink confirmed."""
        ...

    async def release(self, fingerprint: str, owner: str) -> None:
        """End the lease early after a failure, so a retry may take the effect over at once."""
        ...

    async def get(self, fingerprint: str) -> Incident | None: ...

    async def ping(self) -> None:
        """Raise StoreUnavailableError if the store cannot be reached."""
        ...

    async def aclose(self) -> None: ...


class VersionedStore(abc.ABC):
    """The claim/confirm/finish protocol and the shared budgets, over two primitives a backend
    supplies: read a record, and change one atomically."""

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

    async def begin(self, alert: AlertEvent, owner: str, now: datetime) -> Transition:
        def change(stored: Incident | None) -> tuple[Incident | None, Transition]:
            transition = self._plan(stored, alert, owner, now)
            unchanged = transition.after is None or transition.after == stored
            return (None if unchanged else transition.after), transition

        return await self._transact(alert.fingerprint, change)

    def _plan(
        self, stored: Incident | None, alert: AlertEvent, owner: str, now: datetime
    ) -> Transition:
        pending = stored.pending if stored else None
        if stored is not None and pending is not None:
            mine = pending.owner == owner
            if mine or pending.until <= now:
                # Our own retry, or an abandoned effect: redo it before anything else.
                claimed = dataclasses.replace(pending, owner=owner, until=now + self.lease)
                after = dataclasses.replace(stored, pending=claimed, version=stored.version + 1)
                return Transition(Action(pending.kind.value), stored, after, redo=not mine)
        decision = decide(stored, alert, now, self.policy)
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
        pending = Pending(effect, owner, now + self.lease, seq, delta=delta)
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


# --- Serialisation (shared by every backend) -----------------------------------------------


def incident_to_json(incident: Incident) -> str:
    # Field by field: dataclasses.asdict would deep-copy the whole incident (ticket included)
    # on every write, and a write happens for every alert.
    data: dict[str, object] = {
        f.name: getattr(incident, f.name) for f in dataclasses.fields(incident)
    }
    data["ticket"] = incident.ticket.model_dump(mode="json") if incident.ticket else None
    pending = incident.pending
    if pending is not None:
        data["pending"] = {f.name: getattr(pending, f.name) for f in dataclasses.fields(pending)}
    return json.dumps(data, default=_json_default, separators=(",", ":"), ensure_ascii=False)


def incident_from_json(text: str) -> Incident:
    data = json.loads(text)
    for key in ("opened_at", "last_event_at", "closed_at", "last_update_at", "applied_at"):
        if data.get(key) is not None:
            data[key] = datetime.fromisoformat(data[key])
    data["state"] = State(data["state"])
    data["ticket"] = Ticket.model_validate(data["ticket"]) if data.get("ticket") else None
    if data.get("pending"):
        p = data["pending"]
        data["pending"] = Pending(
            kind=EffectKind(p["kind"]),
            owner=p["owner"],
            until=datetime.fromisoformat(p["until"]),
            seq=p["seq"],
            delta=p.get("delta", 0),
            done=tuple(p["done"]),
        )
    return Incident(**data)


def _json_default(value: object) -> object:
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, tuple):
        return list(value)
    raise TypeError(f"cannot store {type(value).__name__}")


# --- SQLite --------------------------------------------------------------------------------


class SQLiteStore(VersionedStore):
    """Records in one SQLite file; all I/O on one dedicated thread, never on the event loop.

    Incidents keep the `incidents` table they have always had; other kinds live in `records`.
    Several processes may share the file: every change runs inside an IMMEDIATE transaction, so
    processes take turns and a race cannot lose an update.
    """

    def __init__(self, path: str, policy: Policy, lease: timedelta, closed_ttl: timedelta) -> None:
        super().__init__(policy, lease, closed_ttl)
        self.path = path
        # One thread owns the connection: sqlite3 objects must stay on the thread that made them.
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="triage-sqlite")
        self._conn: sqlite3.Connection | None = None
        #: Expired records are deleted at open and then at most this often (what DynamoDB's
        #: TTL does for the other store), so a long-running daemon's file stays small.
        self.purge_every_s = 3600.0
        self._purged_at = 0.0

    async def open(self) -> None:
        await self._call(self._open)

    def _open(self) -> None:
        if self.path != ":memory:":
            Path(self.path).parent.mkdir(parents=True, exist_ok=True)
        conn = sqlite3.connect(self.path, timeout=5.0, isolation_level=None)
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute("PRAGMA synchronous=NORMAL")
        conn.execute(
            "CREATE TABLE IF NOT EXISTS incidents ("
            " fingerprint TEXT PRIMARY KEY, version INTEGER NOT NULL,"
            " body TEXT NOT NULL, expires_at REAL)"
        )
        conn.execute(
            "CREATE TABLE IF NOT EXISTS records ("
            " kind TEXT NOT NULL, key TEXT NOT NULL, version INTEGER NOT NULL,"
            " body TEXT NOT NULL, expires_at REAL, PRIMARY KEY (kind, key))"
        )
        self._conn = conn
        self._purge_expired()

    def _purge_expired(self) -> None:
        now = time.time()
        for table in ("incidents", "records"):
            self._db().execute(
                f"DELETE FROM {table} WHERE expires_at IS NOT NULL AND expires_at < ?", (now,)
            )
        self._purged_at = time.monotonic()

    async def _call(self, fn: Any, *args: Any) -> Any:
        loop = asyncio.get_running_loop()
        try:
            return await loop.run_in_executor(self._executor, fn, *args)
        except sqlite3.OperationalError as exc:  # locked, disk I/O, …: retrying may help
            raise StoreUnavailableError(f"sqlite: {exc}") from exc

    def _db(self) -> sqlite3.Connection:
        if self._conn is None:
            raise StoreUnavailableError("sqlite store is not open")
        return self._conn

    async def _update(self, kind: str, key: str, change: RecordChange[R]) -> R:
        # Read, decide and write in one IMMEDIATE transaction on the store's thread: workers of
        # this process never conflict, and other processes on the same file wait their turn.
        result: R = await self._call(self._update_sync, kind, key, change)
        return result

    def _update_sync(self, kind: str, key: str, change: RecordChange[R]) -> R:
        db = self._db()
        db.execute("BEGIN IMMEDIATE")
        try:
            write, result = change(self._get_sync(kind, key))
            if write is not None:
                self._put_sync(write)
            db.execute("COMMIT")
        except BaseException:
            db.execute("ROLLBACK")
            raise
        if time.monotonic() - self._purged_at >= self.purge_every_s:
            self._purge_expired()
        return result

    async def _get(self, kind: str, key: str) -> Record | None:
        record: Record | None = await self._call(self._get_sync, kind, key)
        return record

    def _get_sync(self, kind: str, key: str) -> Record | None:
        if kind == INCIDENT:
            row = (
                self._db()
                .execute(
                    "SELECT version, body, expires_at FROM incidents WHERE fingerprint = ?", (key,)
                )
                .fetchone()
            )
        else:
            row = (
                self._db()
                .execute(
                    "SELECT version, body, expires_at FROM records WHERE kind = ? AND key = ?",
                    (kind, key),
                )
                .fetchone()
            )
        return Record(key, kind, row[0], row[1], row[2]) if row else None

    def _put_sync(self, record: Record) -> None:
        if record.kind == INCIDENT:
            self._db().execute(
                "INSERT OR REPLACE INTO incidents (fingerprint, version, body, expires_at)"
                " VALUES (?, ?, ?, ?)",
                (record.key, record.version, record.body, record.expires_at),
            )
        else:
            self._db().execute(
                "INSERT OR REPLACE INTO records (kind, key, version, body, expires_at)"
                " VALUES (?, ?, ?, ?, ?)",
                (record.kind, record.key, record.version, record.body, record.expires_at),
            )

    async def ping(self) -> None:
        await self._call(lambda: self._db().execute("SELECT 1").fetchone())

    async def aclose(self) -> None:
        if self._conn is not None:
            await self._call(self._conn.close)
            self._conn = None
        self._executor.shutdown(wait=True)


async def open_store(
    url: str, policy: Policy, lease: timedelta, closed_ttl: timedelta, aws: Aws | None = None
) -> VersionedStore:
    """Open the store `TRIAGE_STORE_URL` names: `sqlite:///PATH` or `dynamodb://TABLE`."""
    parsed = urlparse(url)
    if parsed.scheme == "sqlite":
        path = url[len("sqlite:///") :] if url.startswith("sqlite:///") else parsed.path
        if not path:
            raise ConfigError(f"TRIAGE_STORE_URL {url!r}: expected sqlite:///PATH")
        store = SQLiteStore(path, policy, lease, closed_ttl)
        await store.open()
        return store
    if parsed.scheme == "dynamodb":
        from triage.store_dynamodb import DynamoDBStore

        if not parsed.netloc:
            raise ConfigError(f"TRIAGE_STORE_URL {url!r}: expected dynamodb://TABLE")
        if aws is None:
            raise ConfigError("TRIAGE_STORE_URL dynamodb:// needs AWS clients")
        return DynamoDBStore(await aws.client("dynamodb"), parsed.netloc, policy, lease, closed_ttl)
    raise ConfigError(
        f"TRIAGE_STORE_URL {url!r}: unsupported scheme {parsed.scheme!r} (sqlite, dynamodb)"
    )
