"""Deletes in batches: a processed message's delete waits (at most `linger_s`) for company, so a
steady flow makes full `DeleteMessageBatch` calls instead of one call per message."""

from __future__ import annotations

import asyncio
import contextlib

import structlog

from triage.errors import TransientError
from triage.sqs.inbox import MAX_BATCH, MAX_IDS_LOGGED, Inbox, Message

log = structlog.get_logger(__name__)


class Acker:
    """Batches deletes. A batch leaves when it has ten messages or its first message has waited
    `linger_s`; waiting costs no throughput (the worker slot is already free) and saves SQS
    requests: at a steady flow most batches are full instead of one or two messages."""

    #: How long the first message of a batch waits for others to join it.
    LINGER_S = 0.05
    #: Most `DeleteMessageBatch` calls out at once. One at a time capped the daemon at ten
    #: messages per round trip (~1,000 a second on LocalStack), which a storm reached.
    MAX_CALLS = 4

    def __init__(self, inbox: Inbox, linger_s: float = LINGER_S) -> None:
        self.inbox = inbox
        self.linger_s = linger_s
        self._queue: asyncio.Queue[tuple[Message, asyncio.Future[bool]] | None] = asyncio.Queue()
        #: Set when a full batch (or the stop) is waiting: the lingering batch leaves at once.
        self._ready = asyncio.Event()
        self._stopping = False
        self._calls = asyncio.Semaphore(self.MAX_CALLS)
        self._out: set[asyncio.Task[None]] = set()
        #: What a delete call raised that it should not have: it ends the acker.
        self._failure: BaseException | None = None
        #: Why the last delete call failed, while they fail (an outage: every batch would
        #: say it again); said once at warning.
        self._error: str | None = None

    async def delete(self, message: Message) -> bool:
        """Queue `message` for deletion; True once SQS confirmed it."""
        done: asyncio.Future[bool] = asyncio.get_running_loop().create_future()
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
        stopping = False
        try:
            while not stopping and self._failure is None:
                item = await self._queue.get()
                if item is not None and not self._stopping and self._queue.qsize() < MAX_BATCH - 1:
                    self._ready.clear()
                    with contextlib.suppress(TimeoutError):
                        await asyncio.wait_for(self._ready.wait(), self.linger_s)
                batch = []
                while item is not None:
                    batch.append(item)
                    if len(batch) == MAX_BATCH or self._queue.empty():
                        break
                    item = self._queue.get_nowait()
                stopping = item is None
                if batch:
                    await self._calls.acquire()
                    call = asyncio.create_task(self._flush(batch))
                    self._out.add(call)
                    call.add_done_callback(self._flushed)
            # Stopping: the calls still out finish (the supervisor bounds how long).
            await asyncio.gather(*self._out, return_exceptions=True)
        except asyncio.CancelledError:
            for call in self._out:
                call.cancel()
            raise
        if self._failure is not None:
            raise self._failure

    def _flushed(self, call: asyncio.Task[None]) -> None:
        self._out.discard(call)
        self._calls.release()
        if not call.cancelled() and call.exception() is not None and self._failure is None:
            self._failure = call.exception()
            self._queue.put_nowait(None)  # wakes run(), which ends with it

    async def _flush(self, batch: list[tuple[Message, asyncio.Future[bool]]]) -> None:
        messages = [m for m, _ in batch]
        failed = {m.id for m in messages}
        try:
            failed = set(await self.inbox.delete(messages))
            self._error = None
        except TransientError as exc:
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
            )
        finally:
            # Every waiting worker gets its answer, even when the delete raised something
            # unexpected (which then ends the acker, and the daemon with it: `_flushed`).
            for message, done in batch:
                if not done.done():
                    done.set_result(message.id not in failed)
