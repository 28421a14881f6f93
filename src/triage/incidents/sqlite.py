"""Records in one SQLite file (`TRIAGE_STORE_URL=sqlite:///PATH`): the store of one process,
or of several sharing the file.

Changes are group-committed: while one transaction is on the store's thread, the changes that
arrive meanwhile gather, and go together in the next one (one thread hop, one IMMEDIATE
transaction). Each is applied in the order it came, on top of the ones before it, exactly as
if it had its own transaction; a change that raises fails alone, and each caller is answered
only once the transaction that holds its change is committed. Reads that arrive meanwhile go
in the same hop, after the commit and outside its transaction: a read is answered as the file
is once the writes before it are committed, and a transaction that fails fails no read.

What this connection last read or committed of a record is kept (`_rows`) while no other
connection has written the file since, which `PRAGMA data_version` tells: a storm's repeats,
and a new incident's ticket and confirmation, change the record their claim left without
reading it back. Inside a transaction the check is made under its write lock, so nothing can
change the file between the check and the change.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import sqlite3
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

import structlog

from triage.errors import ConfigError, StoreLockedError, StoreUnavailableError
from triage.incidents.lifecycle import Policy
from triage.incidents.store import INCIDENT, R, Record, RecordChange, Store
from triage.logs import start_background

log = structlog.get_logger(__name__)

#: The free space a store's ping asks of its disk (`SQLiteStore.min_free_bytes`).
MIN_FREE_BYTES = 1024 * 1024


@dataclass(frozen=True, slots=True)
class _Change:
    """One caller's change, waiting for the transaction that will hold it; or, with no
    `change`, one caller's read, waiting for the hop that will make it."""

    kind: str
    key: str
    change: RecordChange[Any] | None
    answer: asyncio.Future[Any]


@dataclass(frozen=True, slots=True)
class _Failed:
    """A change that raised: its caller gets the error, the others' changes still commit."""

    error: Exception


class SQLiteStore(Store):
    """Records in one SQLite file; all I/O on one dedicated thread, never on the event loop.

    Incidents keep the `incidents` table they have always had; other kinds live in `records`.
    Several processes may share the file: every change runs inside an IMMEDIATE transaction, so
    processes take turns and a race cannot lose an update.
    """

    #: Most changes in one transaction: another process sharing the file waits at most that
    #: long for its turn.
    MAX_GROUP = 256
    #: Records kept as this connection last read or committed them (see the module docstring).
    ROWS_KEPT = 1024

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
        #: How long a transaction waits for another process's lock before it fails.
        self.busy_timeout_s = 5.0
        #: Free space on the file's file system below which the ping fails: the writes to come
        #: need room (new pages, the write-ahead log, checkpoints) a nearly full disk lacks.
        self.min_free_bytes = MIN_FREE_BYTES
        #: Changes waiting for the next transaction, and the task that commits them.
        self._waiting: list[_Change] = []
        self._committer: asyncio.Task[None] | None = None
        #: Transactions committed (each holds one or more changes).
        self.transactions = 0
        #: The file the connection has open (device, inode): a file deleted or replaced under
        #: a running store is noticed, instead of writing on to one nobody will read again.
        self._identity: tuple[int, int] | None = None
        #: Per (kind, key): the record as this connection last read or committed it (None:
        #: there was none), valid while the file's `data_version` is `_data_version`. Only on
        #: the store's thread.
        self._rows: dict[tuple[str, str], Record | None] = {}
        self._data_version: int | None = None
        #: Per incident: the expiry and sweep time this connection last committed for it, kept
        #: and forgotten with `_rows` (so its row is there, as committed): a write that keeps
        #: both (a storm's repeat) updates only the version and the body (`_put_sync`).
        self._columns: dict[str, tuple[float | None, float | None]] = {}

    async def open(self) -> None:
        """Open (or create) the file; ConfigError, one line, when it cannot be: not a
        database, a directory that cannot be written, a disk that is full."""
        try:
            await self._call(self._open)
        except asyncio.CancelledError:
            # The store's thread goes on opening (creating) the file: wait for it and close
            # what it opened, so nothing of this store writes once its caller has stopped
            # (a daemon stopped during its start, whose directory is removed next: the demo's).
            await asyncio.shield(self._close_after_open())
            raise
        except (sqlite3.Error, OSError, StoreUnavailableError) as exc:
            if "locked" in str(exc):  # SQLITE_BUSY / SQLITE_LOCKED past the busy timeout
                raise StoreLockedError(
                    f"the SQLite store {self.path!r} is locked by another process: {exc}"
                ) from None
            raise ConfigError(
                f"TRIAGE_STORE_URL: the SQLite store {self.path!r} cannot be opened: "
                f"{_unwritable(self.path) or exc}"
            ) from None

    async def _close_after_open(self) -> None:
        """Close the connection an open cut short made, once the store's one thread has
        finished it (the thread takes its work in order), and let the thread go."""
        await asyncio.get_running_loop().run_in_executor(self._executor, self._close_opened)
        self._executor.shutdown(wait=True)

    def _close_opened(self) -> None:
        if self._conn is not None:
            self._conn.close()
            self._conn = None

    def _open(self) -> None:
        if self.path != ":memory:":
            Path(self.path).parent.mkdir(parents=True, exist_ok=True)
        conn = sqlite3.connect(self.path, timeout=self.busy_timeout_s, isolation_level=None)
        try:
            self._set_up(conn)
        except BaseException:
            conn.close()
            raise
        self._conn = conn
        self._identity = _identity(self.path)
        self._forget_rows()  # a new connection, perhaps to another file
        self._purge_expired()

    def _set_up(self, conn: sqlite3.Connection) -> None:
        self._write_ahead_log(conn)
        conn.execute("PRAGMA synchronous=NORMAL")
        # One IMMEDIATE transaction, so processes opening one new (or old) file at once take
        # turns: each sees the schema the one before it left, and none adds a column twice.
        conn.execute("BEGIN IMMEDIATE")
        try:
            self._create_schema(conn)
        except BaseException:
            conn.execute("ROLLBACK")
            raise
        conn.execute("COMMIT")

    def _write_ahead_log(self, conn: sqlite3.Connection) -> None:
        """The file in WAL mode. Processes switching one new file at once are refused "database
        is locked" at once (the switch waits for no busy handler): tried again, within the
        busy timeout, until one of them has switched it (then it is a no-op for the rest)."""
        deadline = time.monotonic() + self.busy_timeout_s
        while True:
            try:
                conn.execute("PRAGMA journal_mode=WAL")
                return
            except sqlite3.OperationalError as exc:
                if "locked" not in str(exc) or time.monotonic() >= deadline:
                    raise
                time.sleep(0.01)

    @staticmethod
    def _create_schema(conn: sqlite3.Connection) -> None:
        conn.execute(
            "CREATE TABLE IF NOT EXISTS incidents ("
            " fingerprint TEXT PRIMARY KEY, version INTEGER NOT NULL,"
            " body TEXT NOT NULL, expires_at REAL)"
        )
        columns = {row[1] for row in conn.execute("PRAGMA table_info(incidents)")}
        if "sweep_at" not in columns:  # a file from before the sweep existed
            conn.execute("ALTER TABLE incidents ADD COLUMN sweep_at REAL")
        conn.execute(
            "CREATE INDEX IF NOT EXISTS incidents_sweep ON incidents (sweep_at)"
            " WHERE sweep_at IS NOT NULL"
        )
        conn.execute(
            "CREATE TABLE IF NOT EXISTS records ("
            " kind TEXT NOT NULL, key TEXT NOT NULL, version INTEGER NOT NULL,"
            " body TEXT NOT NULL, expires_at REAL, PRIMARY KEY (kind, key))"
        )
        # The ping's own row, so that it can write without touching an incident or a record.
        conn.execute("CREATE TABLE IF NOT EXISTS ping (id INTEGER PRIMARY KEY, at REAL NOT NULL)")

    def _verify(self) -> None:
        """Before each transaction or read: the file at `path` is still the one open. One that
        was replaced (a backup put back, a file moved into place) is opened instead; one that
        was deleted makes the store unavailable (its writes would go to a file nobody reads
        again, and a new empty one would forget every open ticket), until it is back or the
        daemon restarts."""
        if self._identity is None:
            return  # never opened, or in memory
        identity = _identity(self.path)
        if identity == self._identity and self._conn is not None:
            return
        if identity is None:
            raise StoreUnavailableError(f"sqlite: the store file {self.path} was deleted")
        if self._conn is not None:
            log.warning("store.file_replaced", path=self.path)
            with contextlib.suppress(sqlite3.Error):
                # Our write-ahead log is still at PATH-wal: emptied into the old file first, so
                # the new file is not read through the old file's pages.
                self._conn.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchall()
            with contextlib.suppress(sqlite3.Error):
                self._conn.close()
            self._conn = None
        self._open()

    def _purge_expired(self) -> None:
        """Delete the expired records, in a transaction of its own. It runs after a group's
        commit (and at open), so a failure (another process holding the lock past the busy
        timeout, a full disk) only puts it off until the next purge is due: it must not fail
        changes that are committed, nor stop start-up."""
        self._purged_at = time.monotonic()
        now = time.time()
        try:
            for table in ("incidents", "records"):
                self._db().execute(
                    f"DELETE FROM {table} WHERE expires_at IS NOT NULL AND expires_at < ?", (now,)
                )
        except sqlite3.Error as exc:
            log.warning("store.purge_failed", error=str(exc), retry_in_s=self.purge_every_s)
        finally:
            self._forget_rows()  # some of them may be gone

    def _forget_rows(self) -> None:
        self._rows.clear()
        self._columns.clear()
        self._data_version = None

    def _check_others(self) -> None:
        """Forget the kept records if another connection has written the file since the last
        check (its `data_version` moved: this connection's own commits do not move it)."""
        version = self._db().execute("PRAGMA data_version").fetchone()[0]
        if version != self._data_version:
            self._rows.clear()
            self._columns.clear()
            self._data_version = version

    def _read(self, kind: str, key: str) -> Record | None:
        """The record as kept (`_check_others` first), else as read from the file, then kept."""
        at = (kind, key)
        rows = self._rows
        if at in rows:
            return rows[at]
        record = self._get_sync(kind, key)
        self._keep_row(at, record)
        return record

    def _keep_row(self, at: tuple[str, str], record: Record | None) -> None:
        rows = self._rows
        rows.pop(at, None)  # the newest last: the oldest goes first when full
        if len(rows) >= self.ROWS_KEPT:
            del rows[next(iter(rows))]
        rows[at] = record

    async def _call(self, fn: Any, *args: Any) -> Any:
        loop = asyncio.get_running_loop()
        try:
            return await loop.run_in_executor(self._executor, self._verified, fn, *args)
        except sqlite3.Error as exc:
            if not _store_fault(exc):
                raise
            raise StoreUnavailableError(f"sqlite: {exc}") from exc

    def _verified(self, fn: Any, *args: Any) -> Any:
        self._verify()
        return fn(*args)

    def _db(self) -> sqlite3.Connection:
        if self._conn is None:
            raise StoreUnavailableError("sqlite store is not open")
        return self._conn

    async def _update(self, kind: str, key: str, change: RecordChange[R]) -> R:
        # Read, decide and write in an IMMEDIATE transaction on the store's thread: workers of
        # this process never conflict, and other processes on the same file wait their turn.
        result: R = await self._wait_for_hop(_Change(kind, key, change, self._future()))
        return result

    async def _get(self, kind: str, key: str) -> Record | None:
        # With the changes waiting, when there are: one hop fewer (a new incident reads its
        # alert's member record while the other incidents' writes go in).
        record: Record | None = await self._wait_for_hop(_Change(kind, key, None, self._future()))
        return record

    @staticmethod
    def _future() -> asyncio.Future[Any]:
        return asyncio.get_running_loop().create_future()

    async def _wait_for_hop(self, waiting: _Change) -> Any:
        self._waiting.append(waiting)
        if self._committer is None:
            self._committer = start_background(self._commit_waiting(), name="sqlite-commit")
        return await waiting.answer

    async def _commit_waiting(self) -> None:
        """Commit the waiting changes, a group per transaction, and make the waiting reads in
        the same hop, until none are left; those that arrive during a hop make the next."""
        loop = asyncio.get_running_loop()
        try:
            while self._waiting:
                group = self._waiting[: self.MAX_GROUP]
                del self._waiting[: self.MAX_GROUP]
                # A caller cancelled before its change left has nothing written for it.
                group = [c for c in group if not c.answer.done()]
                if not group:
                    continue
                writes, reads = [], []
                changes: list[tuple[str, str, RecordChange[Any]]] = []
                for c in group:
                    if c.change is None:
                        reads.append(c)
                    else:
                        writes.append(c)
                        changes.append((c.kind, c.key, c.change))
                asked = [(c.kind, c.key) for c in reads]
                try:
                    written, read = await loop.run_in_executor(
                        self._executor, self._hop, changes, asked
                    )
                except BaseException as exc:
                    for c in group:
                        _answer_error(c.answer, exc)
                    if not isinstance(exc, Exception):
                        raise
                    continue
                _answer_all(writes, written)
                _answer_all(reads, read)
        finally:
            # Left only if this task was cancelled (the loop is closing): nobody would answer.
            self._committer, waiting, self._waiting = None, self._waiting, []
            for c in waiting:
                _answer_error(c.answer, StoreUnavailableError("sqlite store is closing"))

    def _hop(
        self, changes: list[tuple[str, str, RecordChange[Any]]], reads: list[tuple[str, str]]
    ) -> tuple[list[Any] | Exception, list[Record | None] | Exception]:
        """One hop's work on the store's thread: `changes` in one transaction, then `reads`;
        each side's results, or the error that failed that side."""
        try:
            self._verify()
        except Exception as exc:
            return exc, exc
        written: list[Any] | Exception = []
        if changes:
            try:
                written = self._apply(changes)
            except Exception as exc:
                written = exc
        read: list[Record | None] | Exception = []
        if reads:
            try:
                self._check_others()
                read = [self._read(kind, key) for kind, key in reads]
            except Exception as exc:
                self._forget_rows()
                read = exc
        return written, read

    def _apply(self, changes: list[tuple[str, str, RecordChange[Any]]]) -> list[Any]:
        """Apply `changes` in order in one transaction; each sees the ones before it. A
        record changed several times is written once."""
        db = self._db()
        db.execute("BEGIN IMMEDIATE")
        try:
            self._check_others()  # under the write lock: no other connection writes meanwhile
            written: dict[tuple[str, str], Record] = {}
            results: list[Any] = []
            for kind, key, change in changes:
                at = (kind, key)
                stored = written[at] if at in written else self._read(kind, key)
                try:
                    write, result = change(stored)
                except (
                    Exception
                ) as exc:  # its own failure (a busy incident, a bug): its caller's alone
                    results.append(_Failed(exc))
                    continue
                if write is not None:
                    written[at] = write
                results.append(result)
            for record in written.values():
                self._put_sync(record)
            db.execute("COMMIT")
        except BaseException:
            self._forget_rows()  # what was read or written here may not be the file's
            # SQLite may have rolled back already (a full disk, an I/O error): then ROLLBACK
            # fails too, and must not hide the error that says why.
            if db.in_transaction:
                with contextlib.suppress(sqlite3.Error):
                    db.execute("ROLLBACK")
            raise
        columns = self._columns
        for (kind, key), record in written.items():
            # As a read gives it back (the sweep's time is a column of its own, never read).
            kept = Record(key, kind, record.version, record.body, record.expires_at)
            self._keep_row((kind, key), kept)
            if kind == INCIDENT:
                columns.pop(key, None)  # the newest last, as in `_rows`
                if len(columns) >= self.ROWS_KEPT:
                    del columns[next(iter(columns))]
                columns[key] = (record.expires_at, record.sweep_at)
        self.transactions += 1
        if time.monotonic() - self._purged_at >= self.purge_every_s:
            self._purge_expired()
        return results

    def _get_sync(self, kind: str, key: str) -> Record | None:
        if kind == INCIDENT:
            row = (
                self._db()
                .execute(
                    "SELECT version, CAST(body AS BLOB), expires_at FROM incidents"
                    " WHERE fingerprint = ?",
                    (key,),
                )
                .fetchone()
            )
        else:
            row = (
                self._db()
                .execute(
                    "SELECT version, CAST(body AS BLOB), expires_at FROM records"
                    " WHERE kind = ? AND key = ?",
                    (kind, key),
                )
                .fetchone()
            )
        return Record(key, kind, row[0], _text(row[1]), row[2]) if row else None

    def _put_sync(self, record: Record) -> None:
        # An upsert rewrites the row in place; INSERT OR REPLACE deleted and re-inserted it (and
        # its sweep index entry): 17 -> 11.5 us per read-and-write in a transaction of 15.
        if record.kind == INCIDENT:
            if self._columns.get(record.key) == (record.expires_at, record.sweep_at):
                # A row this connection committed, its expiry and sweep time kept (a storm's
                # repeat): only what changed is written, and the sweep's index is left alone
                # (the upsert rewrote its entry): 5 -> 3.5 us a write in a transaction of 12.
                updated = self._db().execute(
                    "UPDATE incidents SET version = ?, body = ? WHERE fingerprint = ?",
                    (record.version, record.body, record.key),
                )
                if updated.rowcount == 1:
                    return
            self._db().execute(
                "INSERT INTO incidents (fingerprint, version, body, expires_at, sweep_at)"
                " VALUES (?, ?, ?, ?, ?) ON CONFLICT (fingerprint) DO UPDATE SET"
                " version = excluded.version, body = excluded.body,"
                " expires_at = excluded.expires_at, sweep_at = excluded.sweep_at",
                (record.key, record.version, record.body, record.expires_at, record.sweep_at),
            )
        else:
            self._db().execute(
                "INSERT INTO records (kind, key, version, body, expires_at) VALUES (?, ?, ?, ?, ?)"
                " ON CONFLICT (kind, key) DO UPDATE SET"
                " version = excluded.version, body = excluded.body, expires_at = excluded.expires_at",
                (record.kind, record.key, record.version, record.body, record.expires_at),
            )

    async def _scan(self, kind: str) -> list[Record]:
        records: list[Record] = await self._call(self._scan_sync, kind)
        return records

    def _scan_sync(self, kind: str) -> list[Record]:
        if kind == INCIDENT:
            rows = self._db().execute(
                "SELECT CAST(fingerprint AS BLOB), version, CAST(body AS BLOB), expires_at"
                " FROM incidents ORDER BY rowid"
            )
        else:
            rows = self._db().execute(
                "SELECT CAST(key AS BLOB), version, CAST(body AS BLOB), expires_at FROM records"
                " WHERE kind = ? ORDER BY rowid",
                (kind,),
            )
        return [
            Record(_text(key), kind, version, _text(body), expires)
            for key, version, body, expires in rows
        ]

    async def _due(self, now_s: float | None) -> list[str]:
        keys: list[str] = await self._call(self._due_sync, now_s)
        return keys

    async def _dated_after(self, after_s: float) -> list[tuple[str, float]]:
        found: list[tuple[str, float]] = await self._call(self._dated_after_sync, after_s)
        return found

    def _dated_after_sync(self, after_s: float) -> list[tuple[str, float]]:
        # The far end of the index `incidents_sweep`: a range read of it, no row's body.
        rows = self._db().execute(
            "SELECT fingerprint, sweep_at FROM incidents WHERE sweep_at IS NOT NULL"
            " AND sweep_at > ?",
            (after_s,),
        )
        return [(key, float(at)) for key, at in rows]

    def _due_sync(self, now_s: float | None) -> list[str]:
        rows = self._db().execute(
            "SELECT fingerprint FROM incidents WHERE sweep_at IS NOT NULL AND sweep_at <= ?",
            (now_s if now_s is not None else float("inf"),),
        )
        return [key for (key,) in rows]

    async def ping(self) -> None:
        """Fail (StoreUnavailableError) for what the next write would hit: the file deleted, a
        lock another process holds past the busy timeout, a read-only or failing disk (a write
        of the ping's own row, committed), a disk with less than `min_free_bytes` free. A
        `SELECT 1` answered through all of them: it reads no page and takes no lock."""
        await self._call(self._ping_sync)

    def _ping_sync(self) -> None:
        if self._identity is not None:  # a file, not memory
            self._check_room()
        db = self._db()
        db.execute("BEGIN IMMEDIATE")
        try:
            db.execute("INSERT OR REPLACE INTO ping (id, at) VALUES (1, ?)", (time.time(),))
            db.execute("COMMIT")
        except BaseException:
            if db.in_transaction:
                with contextlib.suppress(sqlite3.Error):
                    db.execute("ROLLBACK")
            raise

    def _check_room(self) -> None:
        """A full disk fails a write only once it needs a page the file system cannot give
        (the write-ahead log reuses its own): the free space says so before that."""
        try:
            st = os.statvfs(os.path.dirname(os.path.abspath(self.path)))
        except OSError as exc:
            raise StoreUnavailableError(
                f"sqlite: cannot read the disk's free space: {exc}"
            ) from exc
        free = st.f_bavail * st.f_frsize
        if free < self.min_free_bytes:
            raise StoreUnavailableError(
                f"sqlite: the disk of {self.path} is full ({free} bytes free,"
                f" {self.min_free_bytes} needed)"
            )

    async def aclose(self) -> None:
        if self._committer is not None:
            await asyncio.gather(self._committer, return_exceptions=True)
        if self._conn is not None:
            # Not `_call`: a deleted file must not keep the connection from closing.
            loop = asyncio.get_running_loop()
            await loop.run_in_executor(self._executor, self._conn.close)
            self._conn = None
        self._executor.shutdown(wait=True)


def _answer_all(waiting: list[_Change], outcome: list[Any] | Exception) -> None:
    """Answer each caller with its result (or its own failure), or all with `outcome`'s
    error; a caller cancelled meanwhile is left as it is."""
    if isinstance(outcome, Exception):
        for c in waiting:
            _answer_error(c.answer, outcome)
        return
    for c, result in zip(waiting, outcome, strict=True):
        if c.answer.done():
            continue  # its caller was cancelled while it was written: as before
        if isinstance(result, _Failed):
            c.answer.set_exception(result.error)
        else:
            c.answer.set_result(result)


def _answer_error(answer: asyncio.Future[Any], error: BaseException) -> None:
    """Fail a waiting change with the error of its whole transaction (SQLite's own errors as
    StoreUnavailableError, as a single call's would be)."""
    if answer.done():
        return
    if isinstance(error, sqlite3.Error) and _store_fault(error):
        unavailable = StoreUnavailableError(f"sqlite: {error}")
        unavailable.__cause__ = error
        answer.set_exception(unavailable)
    elif isinstance(error, Exception):
        answer.set_exception(error)
    else:
        answer.cancel()


def _store_fault(error: sqlite3.Error) -> bool:
    """An error of the file or its lock, not of our SQL: locked past the busy timeout, a disk
    that is full or read-only, I/O errors (OperationalError), and a file that is corrupt or no
    database (DatabaseError). The store is down, not the alert at fault: StoreUnavailableError."""
    bug = (sqlite3.ProgrammingError, sqlite3.IntegrityError, sqlite3.InterfaceError)
    return isinstance(error, sqlite3.DatabaseError) and not isinstance(error, bug)


def _identity(path: str) -> tuple[int, int] | None:
    """The file at `path` (device, inode); None when there is none (or it is in memory)."""
    if path == ":memory:":
        return None
    try:
        st = os.stat(path)
    except FileNotFoundError:
        return None
    return st.st_dev, st.st_ino


def _text(stored: bytes) -> str:
    """A TEXT column read as its bytes and decoded here, each byte that is not UTF-8 as U+FFFD:
    sqlite3's own decoding fails the whole read on one such row (another tool wrote it, or the
    file was damaged), which hid every incident from a scan and made the row's alert fail
    every delivery. Written back, the row is UTF-8 again."""
    return stored.decode("utf-8", "replace")


def _unwritable(path: str) -> str | None:
    """Why this process cannot write the store at `path`, or None when that is not why: its
    directory (where SQLite also keeps its journal) or the file is not writable by this user,
    as on a read-only root filesystem or a volume another user owns."""
    if path == ":memory:":
        return None
    file = Path(path)
    for place in (file.parent, file):
        if place.exists() and not os.access(place, os.W_OK):
            return (
                f"{place} is not writable by uid {os.geteuid()} (a read-only root filesystem, "
                "or a volume another user owns): put the file on a writable volume, or use "
                "dynamodb://TABLE"
            )
    return None
