"""Deletes in batches: a processed message's delete waits (at most `linger_s`) for company, so a
steady flow makes full `DeleteMessageBatch` calls instead of one call per message.

A delete call SQS refuses as not allowed (`triage.aws.QUEUE_REFUSALS`: a role without
sqs:DeleteMessage, while receives work) makes the daemon not ready (`queue_deletes`): every
message would be handled again at each receive until the DLQ takes it. The mark ends when a
delete call succeeds, or lapses `REFUSED_HOLD_S` after the last refusal (an idle queue sends
no delete to find the role mended). Delete calls failing otherwise (an outage of deletes while
receives work) mark it too once they have failed in a row for `DELETES_UNREADY_S`: every
message handled meanwhile comes back, and none leaves the queue."""

from __future__ import annotations

import asyncio
import contextlib
import time

import structlog

from triage.aws import QUEUE_REFUSALS
from triage.errors import InboxError, TransientError
from triage.health import Health
from triage.logs import start_background
from triage.sqs.inbox import (
    MAX_BATCH,
    MAX_IDS_LOGGED,
    Inbox,
    Message,
    batch_alerts,
    told_code,
)

log = structlog.get_logger(__name__)

#: A delete waiting for its answer: the delivery, and the future its worker awaits.
_Pending = tuple[Message, "asyncio.Future[bool]"]

#: The readiness condition a delete refused as not allowed fails; its detail starts with
#: `refused`, as the gateway's `queue` does for a refused send.
DELETES_CONDITION = "queue_deletes"


class Acker:
    """Batches deletes. A batch leaves when it has ten messages or its first message has waited
    `linger_s`; waiting costs no throughput (the worker slot is already free) and saves SQS
    requests: at a steady flow most batches are full instead of one or two messages."""

    #: How long the first message of a batch waits for others to join it.
    LINGER_S = 0.05
    #: Most `DeleteMessageBatch` calls out at once. One at a time capped the daemon at ten
    #: messages per round trip (~1,000 a second on LocalStack), which a storm reached.
    MAX_CALLS = 4
    #: How long a delete refused as not allowed keeps the daemon not ready without another.
    REFUSED_HOLD_S = 60.0
    #: How long delete calls must keep failing (an outage of deletes, not a refusal) before
    #: the daemon is not ready: every message handled meanwhile comes back and is handled
    #: again, none leaves the queue. One failure, or a few within this, is no outage.
    DELETES_UNREADY_S = 30.0

    def __init__(
        self, inbox: Inbox, linger_s: float = LINGER_S, *, health: Health | None = None
    ) -> None:
        self.inbox = inbox
        self.linger_s = linger_s
        self.health = health
        #: The code of the refusal that marks `DELETES_CONDITION` failing, and its lapse.
        self._refused: str | None = None
        self._refused_lapse: asyncio.TimerHandle | None = None
        self._queue: asyncio.Queue[_Pending | None] = asyncio.Queue()
        #: Set when a full batch (or the stop) is waiting: the lingering batch leaves at once.
        self._ready = asyncio.Event()
        self._stopping = False
        self._calls = asyncio.Semaphore(self.MAX_CALLS)
        #: The calls out, each with the deletes it carries (answered by the stop if cut off).
        self._out: dict[asyncio.Task[None], list[_Pending]] = {}
        #: run() is over: a delete asked now is never sent, so it is answered at once.
        self._ended = False
        #: What a delete call raised that it should not have: it ends the acker.
        self._failure: BaseException | None = None
        #: Why the last delete call failed, while they fail (an outage: every batch would
        #: say it again); said once at warning.
        self._error: str | None = None
        #: The first and the latest failure of the delete calls failing in a row (monotonic),
        #: None while the last one worked: readiness's `queue_deletes` (`_deletes_failing`).
        self._failing_since: float | None = None
        self._failed_at = 0.0
        if health is not None:
            health.watch(DELETES_CONDITION, self._deletes_failing)

    async def delete(self, message: Message) -> bool:
        """Queue `message` for deletion; True once SQS confirmed it."""
        done: asyncio.Future[bool] = asyncio.get_running_loop().create_future()
        if self._ended:
            _cut_off([(message, done)], [])
            return await done
        self._queue.put_nowait((message, done))
        if self._queue.qsize() >= MAX_BATCH:
            self._ready.set()
        return await done

    async def stop(self) -> None:
        """Send what is queued at once (no lingering), then end run()."""
        self._stopping = True
        self._queue.put_nowait(None)
        self._ready.set()

    async def run(self) -> None:
        """Send batches until stopped. However it ends (stopped, cancelled past the stop's
        bound, or failed), every delete it took is answered: one never sent, or in a call
        cut off, as not deleted, so its worker says and counts its message."""
        stopping = False
        #: The batch taken from the queue and not yet handed to a call (waiting for a slot).
        batch: list[_Pending] = []
        try:
            while not stopping and self._failure is None:
                item = await self._queue.get()
                if item is not None and not self._stopping and self._queue.qsize() < MAX_BATCH - 1:
                    self._ready.clear()
                    with contextlib.suppress(TimeoutError):
                        await asyncio.wait_for(self._ready.wait(), self.linger_s)
                while item is not None:
                    batch.append(item)
                    if len(batch) == MAX_BATCH or self._queue.empty():
                        break
                    item = self._queue.get_nowait()
                stopping = item is None
                if batch:
                    await self._calls.acquire()
                    call = start_background(self._flush(batch), name="acker-flush")
                    self._out[call] = batch
                    call.add_done_callback(self._flushed)
                    batch = []
            # Stopping: the calls still out finish (the supervisor bounds how long).
            await asyncio.gather(*self._out, return_exceptions=True)
        except asyncio.CancelledError:
            for call in self._out:
                call.cancel()
            raise
        finally:
            self._ended = True
            if self._refused_lapse is not None:
                self._refused_lapse.cancel()
            # A call cancelled before it ran never reaches its own answers: given here.
            cut = [pending for carried in self._out.values() for pending in carried]
            _cut_off([*batch, *self._take_queued()], cut)
        if self._failure is not None:
            raise self._failure

    def _take_queued(self) -> list[_Pending]:
        """Empty the queue: the deletes no batch took."""
        queued = []
        while not self._queue.empty():
            item = self._queue.get_nowait()
            if item is not None:
                queued.append(item)
        return queued

    def _note_refusal(self, exc: TransientError) -> None:
        """A delete call failed: if SQS refused it as not allowed, mark the daemon not ready
        (the call's `message.delete_failed` warning said why) until `_allowed`."""
        code = told_code(exc) if isinstance(exc, InboxError) else None
        if self.health is None or code not in QUEUE_REFUSALS:
            return
        self._refused = code
        self.health.set(DELETES_CONDITION, False, f"refused: {code}")
        if self._refused_lapse is not None:
            self._refused_lapse.cancel()
        loop = asyncio.get_running_loop()
        self._refused_lapse = loop.call_later(self.REFUSED_HOLD_S, self._allowed)

    def _deletes_failing(self) -> str | None:
        """Readiness's `queue_deletes` while delete calls have failed in a row for
        DELETES_UNREADY_S, the latest of them lately (within REFUSED_HOLD_S: an idle queue
        sends no delete to find SQS back): a refusal says so itself (`_note_refusal`)."""
        since = self._failing_since
        if since is None or self._refused is not None:
            return None
        failing_s = self._failed_at - since
        if failing_s < self.DELETES_UNREADY_S:
            return None
        if time.monotonic() - self._failed_at > self.REFUSED_HOLD_S:
            return None
        return f"delete calls failing for {failing_s:.0f} s"

    def _allowed(self) -> None:
        """A delete call succeeded (or the refusal lapsed): ready again, said once."""
        if self._refused is None or self.health is None:
            return
        if self._refused_lapse is not None:
            self._refused_lapse.cancel()
            self._refused_lapse = None
        log.info("message.deletes_allowed", refused=self._refused)
        self._refused = None
        self.health.set(DELETES_CONDITION, True)

    def _flushed(self, call: asyncio.Task[None]) -> None:
        self._out.pop(call, None)
        self._calls.release()
        if not call.cancelled() and call.exception() is not None and self._failure is None:
            self._failure = call.exception()
            self._queue.put_nowait(None)  # wakes run(), which ends with it

    async def _flush(self, batch: list[_Pending]) -> None:
        messages = [m for m, _ in batch]
        failed = {m.receipt_handle for m in messages}
        try:
            failed = set(await self.inbox.delete(messages))
            self._error = None
            self._failing_since = None
            self._allowed()
        except TransientError as exc:
            self._failed_at = time.monotonic()
            if self._failing_since is None:
                self._failing_since = self._failed_at
            self._note_refusal(exc)
            # Undeleted messages come back after their visibility timeout and are seen as
            # repeats (`MessagesFailed{reason="delete"}` counts each). Each worker says its
            # own message's lost delete at info (`message.not_deleted`): this line says why.
            error = str(exc)
            emit = log.debug if error == self._error else log.warning
            self._error = error
            emit(
                "message.delete_failed",
                error=error,
                count=len(messages),
                message_ids=[m.id for m in messages[:MAX_IDS_LOGGED]],
                alerts=batch_alerts(messages),
            )
        finally:
            # Every waiting worker gets its answer, even when the delete raised something
            # unexpected (which then ends the acker, and the daemon with it: `_flushed`).
            for message, done in batch:
                if not done.done():
                    done.set_result(not _named(message, failed))


def _named(message: Message, failed: set[str]) -> bool:
    """Whether the inbox named `message`'s delivery as not deleted: by its receipt handle, or
    by its message id as inboxes written before answered (every delivery of that message
    then counts as failed: a delete is never confirmed that the inbox said failed)."""
    return message.receipt_handle in failed or message.id in failed


def _cut_off(unsent: list[_Pending], cut: list[_Pending]) -> None:
    """Answer "not deleted" to the deletes a stop cut off (`unsent`: never sent; `cut`: in
    calls cancelled before SQS answered), in one line saying why: each comes back when its
    visibility ends and is handled again as a repeat. A worker no longer waiting (cancelled
    itself) needs no answer."""
    unsent = [(m, done) for m, done in unsent if not done.done()]
    waiting = [*unsent, *((m, done) for m, done in cut if not done.done())]
    if not waiting:
        return
    for _, done in waiting:
        done.set_result(False)
    log.warning(
        "message.delete_failed",
        error="the acker stopped before SQS confirmed the delete",
        count=len(waiting),
        unsent=len(unsent),
        message_ids=[m.id for m, _ in waiting[:MAX_IDS_LOGGED]],
        alerts=batch_alerts([m for m, _ in waiting]),
    )
