"""Records in a DynamoDB table, shared by every replica (`TRIAGE_STORE_URL=dynamodb://TABLE`).

One item per record: `fingerprint` (the partition key: an incident's fingerprint, or
`<kind>#<key>` for other kinds), `kind` (absent on incidents, as before other kinds existed),
`version`, `body` (the record as JSON) and `expires_at` (epoch seconds, the table's TTL
attribute: set on closed incidents and on budgets). Every write is conditional on the version
read, so replicas racing on one record agree.

An incident the sweep must look at carries `sweep` ("due") and `sweep_at` (epoch seconds): the
keys of the sparse index `sweep`, which the sweep queries for `sweep_at <= now`, so it reads only
those incidents, never the whole table. Listing incidents (`triage incidents`, the API) scans.

The ping (`/readyz` with no traffic) writes one item of its own, `ping#heartbeat` (kind `ping`,
TTL'd), shared by every replica, which no listing, sweep or lookup of incidents sees.
"""

from __future__ import annotations

import asyncio
import email.utils
import random
import time
import weakref
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import structlog
from botocore.exceptions import ClientError

from triage.aws import AWS_CALL_ERRORS
from triage.errors import (
    ConfigError,
    RecordTooLargeError,
    StoreBusyError,
    StoreCorruptError,
    StoreThrottledError,
    StoreUnavailableError,
    TriageError,
)
from triage.incidents.lifecycle import Policy
from triage.incidents.store import INCIDENT, R, Record, RecordChange, Store

log = structlog.get_logger(__name__)

#: The sparse index of incidents the sweep must look at: `sweep` (always "due") and `sweep_at`.
SWEEP_INDEX = "sweep"
_DUE = "due"

#: Error codes that mean "slow down" or "try again", not "your request is wrong".
#: The table's capacity, not the request: the messages wait (held) this long, intake paused.
_THROTTLED_CODES = {
    "ProvisionedThroughputExceededException",
    "ThrottlingException",
    "RequestLimitExceeded",
}
THROTTLED_WAIT_S = 1.0
#: A write of one item refused because another writer has that item now: the version changed
#: under us, a transaction holds the item, or another Region writes it (a global table). Our
#: write did not happen: a lost race, read again and retried like one.
_LOST_RACE_CODES = {
    "ConditionalCheckFailedException",
    "TransactionConflictException",
    "ReplicatedWriteConflictException",
}

#: The ping's own item, one shared by every replica: a key no incident (a hex digest, never
#: holding `#`) nor record of the store's kinds has, and a `kind` that listing incidents (no
#: `kind`) and every other kind's scan filter out; no sweep keys, so no sweep sees it.
PING = "ping"
PING_ITEM_KEY = f"{PING}#heartbeat"
#: How long the ping item outlives the last ping: the table's TTL deletes it once no replica
#: runs, and each ping moves it on.
PING_TTL_S = 24 * 3600.0
#: Table states in which DynamoDB may still take a write, though not for long: a table being
#: deleted answers writes until it is gone; one whose KMS key DynamoDB cannot use is on its
#: way to being archived. (CREATING refuses writes itself; UPDATING takes them.)
_NOT_FOR_LONG = {"DELETING", "INACCESSIBLE_ENCRYPTION_CREDENTIALS", "ARCHIVING", "ARCHIVED"}


class DynamoDBStore(Store):
    #: Lost races retried inside one call before the message is retried later instead.
    MAX_CONFLICTS = 25
    #: Records kept as this process's tasks last read or wrote them (`_remember`), the oldest
    #: dropped first: a few per message in progress.
    TASK_COPIES_KEPT = 1024

    def __init__(
        self,
        client: Any,
        table: str,
        policy: Policy,
        lease: timedelta,
        closed_ttl: timedelta,
        *,
        wall_clock: Callable[[], float] = time.time,
        steady_clock: Callable[[], float] | None = None,
    ) -> None:
        super().__init__(policy, lease, closed_ttl)
        self._ddb = client
        self.table = table
        self._locks: dict[str, _KeyLock] = {}
        #: Why the sweep index last refused a query (`_index_refusal`: the table lacks it, or
        #: it is still being built), while it does: the sweep scans meanwhile. None: queried.
        self._index_refused: str | None = None
        #: When (time.monotonic()) it last refused: a missing index is queried again
        #: INDEX_RECHECK_S later, as an operator may add it.
        self._index_refused_at = 0.0
        #: This host's clock (epoch seconds), and how far it runs ahead of DynamoDB's when
        #: that is more than CLOCK_TRUSTED_S (else 0: the host's own clock is used).
        self._wall = wall_clock
        self._offset_s = 0.0
        #: When (time.monotonic()) the next read compares the clocks again.
        self._clock_due = 0.0
        #: A clock no step of the host's moves (`_steady_clock`), and what it and the shared
        #: time read at the last comparison (at first, this host's clock taken as it is): a
        #: step of the host's clock between comparisons is measured against it (`_step_s`).
        self._steady = steady_clock or _steady_clock
        self._anchor = (self._steady(), self._wall())
        #: Whether the step of the host's clock found since the last comparison was said.
        self._step_said = False
        #: (kind, key) → the task that read or wrote the record last, and what it saw.
        self._copies: dict[
            tuple[str, str], tuple[weakref.ref[asyncio.Task[Any]], Record | None]
        ] = {}

    def now(self) -> datetime:
        """DynamoDB's time, as near as this host can tell: its own clock, unless that is more
        than CLOCK_TRUSTED_S off the `Date` of DynamoDB's answers. Replicas on several hosts
        compare the times they write (a claim's lease, the update interval, the reopen window),
        so they take them from the one clock they share, not each from its own. A host clock
        stepped since the last comparison (NTP correcting it, a VM resumed) is not followed
        until the next one compares it again (`_step_s`)."""
        return datetime.fromtimestamp(self._wall() - self._offset_s - self._step_s(), UTC)

    def shared_time(self, host_s: float) -> float:
        return host_s - self._offset_s - self._step_s()

    def follow_queue_clock(self, ahead: timedelta) -> None:
        """Not followed: the replicas share DynamoDB's clock, read from its answers (`now`)."""

    def _step_s(self) -> float:
        """How far this host's clock stepped since the last comparison with DynamoDB's (0 when
        by no more than CLOCK_TRUSTED_S), as the steady clock tells: between comparisons
        (a minute apart) a replica whose clock was stepped minutes ahead would take another's
        effect in progress over as a dead worker's, and one stepped back would wait for
        claims long over. The shared time goes on from the last comparison by the steady
        clock instead, and the next read compares again (`store.clock_stepped`, once)."""
        at_steady, at_shared = self._anchor
        step_s = (self._wall() - self._offset_s) - (at_shared + self._steady() - at_steady)
        if abs(step_s) <= CLOCK_TRUSTED_S:
            return 0.0
        self._clock_due = 0.0
        if not self._step_said:
            self._step_said = True
            log.warning(
                "store.clock_stepped",
                step_s=round(step_s, 1),
                using="dynamodb",
                why="replicas compare leases, update intervals and reopen windows",
            )
        return step_s

    async def open(self) -> None:
        """Look at the table once before the daemon starts: ConfigError, one line, when it does
        not exist (a wrong TRIAGE_STORE_URL, a stack not deployed) or is keyed otherwise than
        triage keys its items (another application's table: every read would find nothing and
        every write fail, message by message). Any other fault (DynamoDB
        unreachable, credentials not ready) is the store being down, which the daemon rides
        out: messages are held and /readyz says so until it answers."""
        sent = self._wall()
        try:
            answer = await self._describe()
        except StoreUnavailableError as exc:
            if _code(exc.__cause__) == "ResourceNotFoundException":
                raise ConfigError(
                    f"TRIAGE_STORE_URL dynamodb://{self.table}: no such DynamoDB table"
                ) from None
            log.warning("store.unavailable_at_start", table=self.table, error=str(exc))
            self.unavailable_at_open = str(exc)
            return
        self.unavailable_at_open = None
        problem = _key_problem(answer.get("Table", {}))
        if problem is not None:
            raise ConfigError(f"TRIAGE_STORE_URL dynamodb://{self.table}: {problem}")
        self._compare_clock(answer, sent)

    async def _update(self, kind: str, key: str, change: RecordChange[R]) -> R:
        # Workers of this process take turns on one record: their conditional writes would
        # only fail each other (a group's members all write the group's record). Replicas
        # still race, and the version condition settles it.
        lock = self._locks.setdefault(key, _KeyLock())
        lock.users += 1
        try:
            async with lock.lock:
                return await self._update_once(kind, key, change)
        finally:
            lock.users -= 1
            if not lock.users:
                del self._locks[key]

    async def _update_once(self, kind: str, key: str, change: RecordChange[R]) -> R:
        #: The last write refused by its condition, with what it was to return: its own
        #: (`_landed`) when the read that follows finds it stored.
        refused: tuple[Record, R] | None = None
        known, own = self._task_copy(kind, key)
        if known:
            # This task read or wrote the record last (a unit of work's claim, then its ticket,
            # then its confirm; a member's group looked up, then placed): try the change on
            # that copy, and read only if the write says someone else wrote since. A change
            # that would write nothing, or refuses (an effect in progress: busy), is decided
            # on a fresh read, never on a copy that may be behind.
            tried = _tried_on(change, own)
            if tried is not None:
                write, result = tried
                if write is not None:
                    if await self._put_if(write, own.version if own else None):
                        self._remember(kind, key, write)
                        return result
                    refused = (write, result)
        for attempt in range(self.MAX_CONFLICTS):
            stored = await self._get(kind, key)
            if refused is not None and _landed(refused[0], stored):
                self._remember(kind, key, stored)
                return refused[1]
            write, result = change(stored)
            if write is None:
                return result
            if await self._put_if(write, stored.version if stored else None):
                self._remember(kind, key, write)
                return result
            refused = (write, result)
            # Another replica wrote first: spread the racers out a little before reading again.
            await asyncio.sleep(random.uniform(0, 0.01 * (attempt + 1)))
        # This record's trouble alone (a hot group, an incident every replica counts): its
        # message waits by itself and intake goes on. Jittered, so the messages held for one
        # record do not all come back at once and collide again.
        raise StoreBusyError(
            f"{kind} {key} kept changing under us", retry_after_s=random.uniform(0.5, 1.5)
        )

    def _task_copy(self, kind: str, key: str) -> tuple[bool, Record | None]:
        """Whether this task read or wrote the record last (nothing of this process did after
        it), and what it saw (None: no such record): taken, so it is tried once. Another
        replica may have written since; the write conditional on its version finds out."""
        kept = self._copies.pop((kind, key), None)
        if kept is None or kept[0]() is not asyncio.current_task():
            return False, None
        return True, kept[1]

    def _remember(self, kind: str, key: str, record: Record | None) -> None:
        """Keep what this task just read or wrote, for its own next change of the record. Only
        the task's: repeats that other tasks or replicas count between its writes would make a
        copy shared by everyone stale as often as not, and a stale copy costs a refused write."""
        task = asyncio.current_task()
        if task is None:
            return
        copies = self._copies
        copies.pop((kind, key), None)
        copies[(kind, key)] = (weakref.ref(task), record)
        while len(copies) > self.TASK_COPIES_KEPT:
            del copies[next(iter(copies))]

    async def _get(self, kind: str, key: str) -> Record | None:
        compare = time.monotonic() >= self._clock_due
        sent = self._wall() if compare else 0.0
        try:
            response = await self._ddb.get_item(
                TableName=self.table,
                Key={"fingerprint": {"S": _item_key(kind, key)}},
                ConsistentRead=True,
            )
        except AWS_CALL_ERRORS as exc:
            raise _unavailable("get_item", exc) from exc
        if compare:
            self._compare_clock(response, sent)
        item = response.get("Item")
        record = _record(kind, key, item) if item and _is_kind(item, kind) else None
        self._remember(kind, key, record)
        return record

    async def _put_if(self, record: Record, expected_version: int | None) -> bool:
        item: dict[str, Any] = {
            "fingerprint": {"S": _item_key(record.kind, record.key)},
            "version": {"N": str(record.version)},
            "body": {"S": record.body},
        }
        if record.kind != INCIDENT:
            item["kind"] = {"S": record.kind}
        if record.expires_at is not None:
            item["expires_at"] = {"N": str(int(record.expires_at))}
        if record.sweep_at is not None:
            item["sweep"] = {"S": _DUE}
            item["sweep_at"] = {"N": f"{record.sweep_at:.3f}"}
        if expected_version is None:
            condition: dict[str, Any] = {"ConditionExpression": "attribute_not_exists(fingerprint)"}
        else:
            condition = {
                "ConditionExpression": "version = :v",
                "ExpressionAttributeValues": {":v": {"N": str(expected_version)}},
            }
        try:
            await self._ddb.put_item(TableName=self.table, Item=item, **condition)
        except ClientError as exc:
            code = _code(exc)
            if code in _LOST_RACE_CODES:
                return False
            message = str(exc.response.get("Error", {}).get("Message", ""))
            if code == "ValidationException" and "size" in message.lower():
                # This record cannot grow (MAX_RECORD_BYTES should have said so first): the
                # message's own fault, not the store's, so not held as an outage would be.
                raise RecordTooLargeError(
                    f"dynamodb refused record {record.key}: {message[:120]}"
                ) from exc
            raise _unavailable("put_item", exc) from exc
        except AWS_CALL_ERRORS as exc:
            raise _unavailable("put_item", exc) from exc
        return True

    async def _scan(self, kind: str) -> list[Record]:
        return (await self._scan_counted(kind))[0]

    async def _scan_counted(self, kind: str) -> tuple[list[Record], int]:
        """The records of `kind`, and how many items of it hold none (no body, no version:
        a hand edit in the console), each logged and left out."""
        if kind == INCIDENT:
            request: dict[str, Any] = {"FilterExpression": "attribute_not_exists(#k)"}
        else:
            request = {
                "FilterExpression": "#k = :k",
                "ExpressionAttributeValues": {":k": {"S": kind}},
            }
        request["ExpressionAttributeNames"] = {"#k": "kind"}
        records = []
        unreadable = 0

        async def scan(**page: Any) -> Any:
            return await self._ddb.scan(TableName=self.table, ConsistentRead=True, **page)

        async for item in self._pages("scan", scan, request):
            try:
                key = item["fingerprint"]["S"]
                records.append(
                    _record(kind, key if kind == INCIDENT else key.partition("#")[2], item)
                )
            except StoreCorruptError as exc:
                log.warning("store.unreadable_record", error=str(exc))  # listed without it
                unreadable += 1
        return records, unreadable

    async def _due(self, now_s: float | None) -> list[str]:
        values: dict[str, Any] = {":due": {"S": _DUE}}
        names = {"#s": "sweep"}
        condition = "#s = :due"
        if now_s is not None:
            condition += " AND #t <= :now"
            names["#t"] = "sweep_at"
            values[":now"] = {"N": f"{now_s:.3f}"}
        due = {
            "ExpressionAttributeNames": names,
            "ExpressionAttributeValues": values,
        }
        if self._index_worth_a_query():
            try:
                found = await self._query_due({"KeyConditionExpression": condition, **due})
            except StoreUnavailableError as exc:
                if not self._index_unready(exc):
                    raise
            else:
                self._index_answered()
                return found
        return await self._scan_due({"FilterExpression": condition, **due})

    async def _dated_after(self, after_s: float) -> list[tuple[str, float]]:
        # The far end of the sweep index: one range query, keys only (the index projects its
        # own keys, `sweep_at` among them); without the index, a scan filtered alike.
        condition = "#s = :due AND #t > :after"
        names = {"#s": "sweep", "#t": "sweep_at"}
        values = {":due": {"S": _DUE}, ":after": {"N": f"{after_s:.3f}"}}
        if self._index_worth_a_query():

            async def query(**page: Any) -> Any:
                return await self._ddb.query(TableName=self.table, IndexName=SWEEP_INDEX, **page)

            request = {
                "KeyConditionExpression": condition,
                "ExpressionAttributeNames": names,
                "ExpressionAttributeValues": values,
            }
            try:
                far = [_far_entry(item) async for item in self._pages("query", query, request)]
            except StoreUnavailableError as exc:
                if not self._index_unready(exc):
                    raise
            else:
                self._index_answered()
                return far

        async def scan(**page: Any) -> Any:
            return await self._ddb.scan(TableName=self.table, **page)

        request = {
            "FilterExpression": condition,
            "ProjectionExpression": "#f, #t",
            "ExpressionAttributeNames": {**names, "#f": "fingerprint"},
            "ExpressionAttributeValues": values,
        }
        return [_far_entry(item) async for item in self._pages("scan", scan, request)]

    @property
    def _has_sweep_index(self) -> bool:
        """Whether the sweep index answered its last query (or none was sent yet)."""
        return self._index_refused is None

    def _index_worth_a_query(self) -> bool:
        """Whether the sweep queries its index now: unless the table lacks it, asked again
        every INDEX_RECHECK_S (an index still being built is asked at every pass)."""
        if self._index_refused in (None, _BACKFILLING):
            return True
        return time.monotonic() - self._index_refused_at >= INDEX_RECHECK_S

    def _index_unready(self, exc: StoreUnavailableError) -> bool:
        """Whether a query failed because the sweep index cannot answer it: a table made before
        the index existed, or one it is being added to (DynamoDB builds it from the table's
        items first, minutes to hours). The sweep scans meanwhile (slower, still correct), one
        warning per reason, and asks the index again: an upgrade adds it to running replicas,
        which would otherwise scan the whole table at every pass until restarted."""
        refusal = _index_refusal(exc.__cause__)
        if refusal is None:
            return False
        if refusal != self._index_refused:
            log.warning("store.no_sweep_index", table=self.table, fallback="scan", why=refusal)
        self._index_refused = refusal
        self._index_refused_at = time.monotonic()
        return True

    def _index_answered(self) -> None:
        """The sweep index answered a query: said once when it had refused before."""
        if self._index_refused is not None:
            log.info("store.sweep_index_ready", table=self.table, was=self._index_refused)
            self._index_refused = None

    async def _query_due(self, request: dict[str, Any]) -> list[str]:
        async def query(**page: Any) -> Any:
            return await self._ddb.query(TableName=self.table, IndexName=SWEEP_INDEX, **page)

        return [item["fingerprint"]["S"] async for item in self._pages("query", query, request)]

    async def _scan_due(self, request: dict[str, Any]) -> list[str]:
        async def scan(**page: Any) -> Any:
            return await self._ddb.scan(TableName=self.table, **page)

        names = {**request["ExpressionAttributeNames"], "#f": "fingerprint"}
        request = {**request, "ExpressionAttributeNames": names, "ProjectionExpression": "#f"}
        return [item["fingerprint"]["S"] async for item in self._pages("scan", scan, request)]

    async def _pages(
        self, call: str, fetch: Callable[..., Awaitable[Any]], request: dict[str, Any]
    ) -> AsyncIterator[dict[str, Any]]:
        """Every item of a scan or query (`fetch`, called with `request`), page by page."""
        while True:
            try:
                response = await fetch(**request)
            except AWS_CALL_ERRORS as exc:
                raise _unavailable(call, exc) from exc
            for item in response.get("Items", []):
                yield item
            last = response.get("LastEvaluatedKey")
            if not last:
                return
            request["ExclusiveStartKey"] = last

    async def ping(self) -> None:
        """Fail (StoreUnavailableError) for what the next write would hit, changing no
        incident or record: a conditional write of the ping's own item (the table throttled,
        the role allowed to describe it but not to write it, its KMS key disabled, the table
        gone), then the table's status (a table being deleted still takes writes until it is
        gone, and one whose KMS key DynamoDB cannot use soon stops). DescribeTable alone
        answered through all of them but the last two."""
        await self._write_ping()
        self._check_usable(await self._describe())

    async def _write_ping(self) -> None:
        now_s = self.now().timestamp()
        try:
            await self._ddb.put_item(
                TableName=self.table,
                Item={
                    "fingerprint": {"S": PING_ITEM_KEY},
                    "kind": {"S": PING},
                    "at": {"N": f"{now_s:.3f}"},
                    "expires_at": {"N": str(int(now_s + PING_TTL_S))},
                },
                # Never over an item that is not the ping's own, whatever wrote it there.
                ConditionExpression="attribute_not_exists(fingerprint) OR #k = :ping",
                ExpressionAttributeNames={"#k": "kind"},
                ExpressionAttributeValues={":ping": {"S": PING}},
            )
        except ClientError as exc:
            if _code(exc) in _LOST_RACE_CODES:
                # DynamoDB judged the write on its merits (allowed, not throttled, the table
                # usable) and found the item not ours, or another writer on it: the table
                # takes writes.
                return
            failure = _unavailable("put_item (ping)", exc)
            if isinstance(failure, StoreThrottledError):
                if not failure.pauses_intake:
                    return  # one key range's limit: that record's trouble, not the table's
                raise StoreUnavailableError(str(failure)) from exc
            raise failure from exc
        except AWS_CALL_ERRORS as exc:
            raise _unavailable("put_item (ping)", exc) from exc

    def _check_usable(self, answer: Any) -> None:
        """StoreUnavailableError when DescribeTable's answer says the table takes writes for
        not much longer (`_NOT_FOR_LONG`, or a KMS key found inaccessible while ACTIVE)."""
        table = answer.get("Table", {})
        status = table.get("TableStatus")
        if status in _NOT_FOR_LONG:
            raise StoreUnavailableError(f"dynamodb table {self.table} is {status}")
        lost = table.get("SSEDescription", {}).get("InaccessibleEncryptionDateTime")
        if lost is not None:
            raise StoreUnavailableError(
                f"dynamodb table {self.table}: its KMS key is inaccessible (since {lost})"
            )

    async def _describe(self) -> Any:
        try:
            return await self._ddb.describe_table(TableName=self.table)
        except AWS_CALL_ERRORS as exc:
            raise _unavailable("describe_table", exc) from exc

    async def aclose(self) -> None:
        """The client belongs to the process's AWS session, which closes it."""

    def _compare_clock(self, answer: Any, sent: float) -> None:
        """Compare this host's clock with the `Date` of a DynamoDB answer to a call sent at
        `sent` (one-second precision: the answer was dated within the second it names, while
        the call was out), and decide which clock `now()` reads; at most every CLOCK_CHECK_S.
        A host further off than CLOCK_TRUSTED_S says so once (`store.clock_skew`), and once
        more when it agrees again (`store.clock_agrees`). The time then shared is where a
        later step of the host's clock is measured from (`_step_s`)."""
        self._clock_due = time.monotonic() + CLOCK_CHECK_S
        self._follow_date(answer, sent)
        self._anchor = (self._steady(), self._wall() - self._offset_s)
        self._step_said = False

    def _follow_date(self, answer: Any, sent: float) -> None:
        """Set `_offset_s` from the `Date` of an answer to a call sent at `sent`."""
        dated = _answer_date(answer)
        if dated is None:
            return  # no Date, or not one we can read: nothing to compare
        skew_s = (sent + self._wall()) / 2 - (dated + 0.5)
        # Once off, it stays corrected until well within the bound (no line per wobble).
        bound = CLOCK_TRUSTED_S / 2 if self._offset_s else CLOCK_TRUSTED_S
        if abs(skew_s) <= bound:
            if self._offset_s:
                log.info("store.clock_agrees", skew_s=round(skew_s, 1))
            self._offset_s = 0.0
            return
        if not self._offset_s:
            log.warning(
                "store.clock_skew",
                skew_s=round(skew_s, 1),
                ahead=skew_s > 0,
                using="dynamodb",
                why="replicas compare leases, update intervals and reopen windows",
            )
        if abs(skew_s - self._offset_s) > 1.0:  # the Date's precision: no jitter below it
            self._offset_s = skew_s


#: Replicas compare each other's times: a claim's lease ends on its claimant's clock, and a
#: replica whose clock ran ahead of another's by more than the lease would take that one's live
#: effect over (carried out twice, with one idempotency key). So a host further than this off
#: the `Date` of DynamoDB's answers decides by DynamoDB's time instead of its own.
CLOCK_TRUSTED_S = 5.0
#: How often the clocks are compared again (on the next read after this long): a host's clock
#: stepped by NTP, or drifting, is followed within it.
CLOCK_CHECK_S = 60.0


def _steady_clock() -> float:
    """Seconds on a clock that no step of the host's wall clock moves and that counts time
    suspended (Linux's CLOCK_BOOTTIME; the monotonic clock elsewhere), so a VM resumed with
    its wall clock right is not taken for a clock stepped."""
    boot = getattr(time, "CLOCK_BOOTTIME", None)
    return time.clock_gettime(boot) if boot is not None else time.monotonic()


def _answer_date(answer: Any) -> float | None:
    """The `Date` of a DynamoDB answer in epoch seconds (None when it has none we can read)."""
    date = answer.get("ResponseMetadata", {}).get("HTTPHeaders", {}).get("date")
    try:
        return email.utils.parsedate_to_datetime(date).timestamp()
    except (TypeError, ValueError, IndexError):
        return None


def _landed(write: Record, stored: Record | None) -> bool:
    """Whether the write its condition refused is what the table holds: DynamoDB wrote it but
    its answer was lost (a 500, a read timeout after the write), and botocore's own retry of
    the same request found the item at the version that write made. Taken for another
    replica's write, a confirmation that finished the effect read as a claim lost to someone
    else (`store.lease_lost`, the ticket never counted), and a repeat's count read as a
    delivery counted already. Another writer's item never has the same body: each names its
    owner, message and time."""
    return (
        stored is not None
        and stored.version == write.version
        and stored.body == write.body
        and stored.kind == write.kind
    )


def _tried_on(change: RecordChange[R], copy: Record | None) -> tuple[Record | None, R] | None:
    """What `change` makes of the copy a task kept; None when it raises: a refusal decided on
    a copy another replica may have written past (its effect in progress long finished) is
    decided again on a fresh read, which raises it again if it still holds."""
    try:
        return change(copy)
    except TriageError:
        return None


@dataclass(slots=True)
class _KeyLock:
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)
    users: int = 0


def _record(kind: str, key: str, item: dict[str, Any]) -> Record:
    """The record an item holds; StoreCorruptError, naming it, when it holds none."""
    try:
        expires = item.get("expires_at")
        body = item["body"]["S"]
        if not isinstance(body, str):
            raise TypeError(f"body is {type(body).__name__}")  # noqa: TRY301
        return Record(
            key, kind, int(item["version"]["N"]), body, float(expires["N"]) if expires else None
        )
    except (KeyError, TypeError, ValueError, AttributeError) as exc:
        raise StoreCorruptError(
            f"dynamodb item {_item_key(kind, key)!r} is unreadable: "
            f"{type(exc).__name__} {str(exc)[:80]}"
        ) from None


#: The key triage's items have (`create_table`): a string partition key and no sort key.
KEY_ATTRIBUTE = "fingerprint"


def _key_problem(table: dict[str, Any]) -> str | None:
    """Why a table (a `describe_table` answer's `Table`) cannot hold triage's items, or None:
    its key must be `fingerprint`, a string, alone (a sort key would make every write name it).
    An answer without a key schema (DynamoDB always sends one) is not judged."""
    if "KeySchema" not in table:
        return None
    keys = [
        (str(k.get("AttributeName")), str(k.get("KeyType")))
        for k in table.get("KeySchema", [])
        if isinstance(k, dict)
    ]
    types = {
        str(a.get("AttributeName")): str(a.get("AttributeType"))
        for a in table.get("AttributeDefinitions", [])
        if isinstance(a, dict)
    }
    needed = f"triage needs the partition key {KEY_ATTRIBUTE!r} (type S) and no sort key"
    if keys != [(KEY_ATTRIBUTE, "HASH")]:
        has = ", ".join(f"{name!r} ({kind})" for name, kind in keys) or "none"
        return f"the table is keyed by {has}: {needed}"
    if types.get(KEY_ATTRIBUTE, "S") != "S":
        return f"its key {KEY_ATTRIBUTE!r} is of type {types[KEY_ATTRIBUTE]}: {needed}"
    return None


def _is_kind(item: dict[str, Any], kind: str) -> bool:
    """Whether an item holds a record of `kind`: an incident's carries no `kind`, and the item
    at a key an incident is asked by (`triage incidents show claims#m1`, `ping#heartbeat`)
    may be another kind's, which is no incident. An item of another kind without a `kind` is
    taken as it was before."""
    stored = item.get("kind")
    if stored is None:
        return True
    return isinstance(stored, dict) and stored.get("S") == kind


def _code(exc: BaseException | None) -> str | None:
    """The AWS error code of a ClientError (None for anything else)."""
    if not isinstance(exc, ClientError):
        return None
    return str(exc.response.get("Error", {}).get("Code", "?"))


def _item_key(kind: str, key: str) -> str:
    """Incidents are keyed by their fingerprint alone (a hex digest, so never holding `#`)."""
    return key if kind == INCIDENT else f"{kind}#{key}"


def _far_entry(item: dict[str, Any]) -> tuple[str, float]:
    """An incident of the sweep index's far end: its fingerprint and index time."""
    return item["fingerprint"]["S"], float(item["sweep_at"]["N"])


#: Why the sweep index refused a query (`_index_refusal`).
_MISSING = "missing"
_BACKFILLING = "backfilling"
#: How often a table found without the sweep index is asked again whether it has it now.
INDEX_RECHECK_S = 300.0


def _index_refusal(exc: BaseException | None) -> str | None:
    """Why a query of the sweep index was refused, if it was for the index: `_BACKFILLING`
    while DynamoDB builds it (ValidationException "Cannot read from backfilling global
    secondary index"), else `_MISSING`: the table lacks it (DynamoDB says ValidationException
    "does not have the specified index"; moto and LocalStack ResourceNotFoundException)."""
    if not isinstance(exc, ClientError):
        return None
    error = exc.response.get("Error", {})
    message = str(error.get("Message", "")).lower()
    if error.get("Code") not in ("ValidationException", "ResourceNotFoundException"):
        return None
    if "index" not in message:
        return None
    return _BACKFILLING if "backfilling" in message else _MISSING


def _one_key_throttled(exc: ClientError) -> bool:
    """DynamoDB says why it throttles (`ThrottlingReasons`, e.g.
    `TableWriteKeyRangeThroughputExceeded`): true when every reason is the table's own key
    range, i.e. one partition key's limit, not the table's, an index's or the account's."""
    reasons = exc.response.get("ThrottlingReasons") or exc.response.get("throttlingReasons")
    if not isinstance(reasons, list) or not reasons:
        return False
    return all(
        isinstance(r, dict)
        and str(r.get("reason", "")).startswith("Table")
        and str(r.get("reason", "")).endswith("KeyRangeThroughputExceeded")
        for r in reasons
    )


def _unavailable(call: str, exc: Exception) -> StoreUnavailableError | StoreThrottledError:
    if isinstance(exc, ClientError):
        error = exc.response.get("Error", {})
        code = error.get("Code", "?")
        if code in _THROTTLED_CODES:
            throttled = StoreThrottledError(
                f"dynamodb {call} throttled: {code}", retry_after_s=THROTTLED_WAIT_S
            )
            # One hot key over its partition's limit (a large group record a storm rewrites)
            # is that record's trouble: its message waits alone, the others go on.
            throttled.pauses_intake = not _one_key_throttled(exc)
            return throttled
        return StoreUnavailableError(f"dynamodb {call} failed: {code}: {error.get('Message', '')}")
    return StoreUnavailableError(f"dynamodb {call} failed: {exc}")


async def create_table(client: Any, table: str) -> None:
    """Create the incidents table with its TTL attribute and the sweep index (dev stacks,
    tests, `triage demo`)."""
    await client.create_table(
        TableName=table,
        KeySchema=[{"AttributeName": "fingerprint", "KeyType": "HASH"}],
        AttributeDefinitions=[
            {"AttributeName": "fingerprint", "AttributeType": "S"},
            {"AttributeName": "sweep", "AttributeType": "S"},
            {"AttributeName": "sweep_at", "AttributeType": "N"},
        ],
        GlobalSecondaryIndexes=[
            {
                "IndexName": SWEEP_INDEX,
                "KeySchema": [
                    {"AttributeName": "sweep", "KeyType": "HASH"},
                    {"AttributeName": "sweep_at", "KeyType": "RANGE"},
                ],
                # Keys only: the sweep reads each incident itself, consistently.
                "Projection": {"ProjectionType": "KEYS_ONLY"},
            }
        ],
        BillingMode="PAY_PER_REQUEST",
    )
    await client.get_waiter("table_exists").wait(TableName=table)
    await client.update_time_to_live(
        TableName=table, TimeToLiveSpecification={"Enabled": True, "AttributeName": "expires_at"}
    )
