"""Deletes in batches: a processed message's delete waits (at most `linger_s`) for company, so a
steady flow makes full `DeleteMessageBatch` calls instead of one call per message."""

from __future__ import annotations

import asyncio
import contextlib

import structlog

from triage.errors import TransientError
from triage.sqs.inbox import MAX_BATCH, Inbox, Message

log = structlog.get_logger(__name__)


class Acker:
    """Batches deletes. A batch leaves when it has ten messages or its first message has waited
    `linger_s`; waiting costs no throughput (the worker slot is already free) and saves SQS
    requests: at a steady flow most batches are full instead of one or two messages."""

    #: How long the first message of a batch waits for others to join it.
    LINGER_S = 0.05

    def __init__(self, inbox: Inbox, linger_s: float = LINGER_S) -> None:
        self.inbox = inbox
        self.linger_s = linger_s
        self._queue: asyncio.Queue[tuple[Message, asyncio.Future[bool]] | None] = asyncio.Queue()
        #: Set when a full batch (or the stop) is waiting: the lingering batch leaves at once.
        self._ready = asyncio.Event()
        self._stopping = False

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
        while not stopping:
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
                await self._flush(batch)

    async def _flush(self, batch: list[tuple[Message, asyncio.Future[bool]]]) -> None:
        messages = [m for m, _ in batch]
        failed = {m.id for m in messages}
        try:
            failed = set(await self.inbox.delete(messages))
        except TransientError as exc:
            # Undeleted messages come back after their visibility timeout and are seen as repeats.
            log.warning("message.delete_failed", error=str(exc), count=len(messages))
        finally:
            # Every waiting worker gets its answer, even when the delete raised something
            # unexpected (which then ends the acker, and the daemon with it).
            for message, done in batch:
                if not done.done():
                    done.set_result(message.id not in failed)
