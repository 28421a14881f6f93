"""An in-memory `Inbox` with SQS's visibility semantics, for supervisor tests that need exact
control of time and of what the queue saw (moto is covered by the end-to-end tests)."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from itertools import islice

from triage.sqs.inbox import Depth, Message


@dataclass
class _Entry:
    message: Message
    visible_at: float = 0.0
    receives: int = 0


@dataclass
class MemoryInbox:
    entries: dict[str, _Entry] = field(default_factory=dict)
    deleted: list[str] = field(default_factory=list)
    #: Every change_visibility call: (message id, timeout_s).
    visibility_calls: list[tuple[str, int]] = field(default_factory=list)
    #: max_messages of every receive call.
    asked: list[int] = field(default_factory=list)

    def put(self, *bodies: str) -> list[str]:
        ids = []
        for body in bodies:
            mid = f"m{len(self.entries) + len(self.deleted)}"
            self.entries[mid] = _Entry(Message(mid, body, "", 0, None))
            ids.append(mid)
        return ids

    async def receive(self, max_messages: int, wait_s: int, visibility_s: int) -> list[Message]:
        self.asked.append(max_messages)
        deadline = time.monotonic() + wait_s
        while True:
            now = time.monotonic()
            # The first visible ones, without reading the rest: a queue of thousands was read
            # whole on every receive (a fifth of an in-process storm's samples).
            visible = (e for e in self.entries.values() if e.visible_at <= now)
            ready = list(islice(visible, max_messages))
            if ready or now >= deadline:
                break
            await asyncio.sleep(0.01)
        out = []
        for entry in ready:
            entry.receives += 1
            entry.visible_at = now + visibility_s
            # A new receipt handle on every receive, as SQS gives.
            handle = f"rh-{entry.message.id}-{entry.receives}"
            out.append(replace(entry.message, receipt_handle=handle, receive_count=entry.receives))
        return out

    async def delete(self, messages: Sequence[Message]) -> list[str]:
        """Delete every one: the receipt handles of the deliveries not deleted (`Inbox.delete`)
        are none. A subclass that fails some answers their `receipt_handle`s."""
        for m in messages:
            self.entries.pop(m.id, None)
            self.deleted.append(m.id)
        return []

    async def change_visibility(self, messages: Sequence[Message], timeout_s: int) -> None:
        for m in messages:
            self.visibility_calls.append((m.id, timeout_s))
            if m.id in self.entries:
                self.entries[m.id].visible_at = time.monotonic() + timeout_s

    async def depth(self) -> Depth:
        now = time.monotonic()
        visible = sum(1 for e in self.entries.values() if e.visible_at <= now)
        return Depth(visible=visible, in_flight=len(self.entries) - visible, delayed=0)
