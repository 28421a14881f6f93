"""A parent alert's deletion closes its children's incidents: a CloudWatch Metrics Insights
alarm (GROUP BY) fires one incident per contributor, and its deletion names none of them, nor
does CloudWatch send them an OK.

Each child's alert names its parent (`Alert.parent`); the store keeps, under the parent's
fingerprint, which children fire (`Store.note_children`), noted each time a child fires and
each time one resolves (an OK the lifecycle ignores too: its incident closed by hand or by the
sweep). The parent's deletion (`Alert.closes_children`) reads that one record and sends each
firing child a resolve, dated and worded as the deletion, through the pipeline's normal
resolve: its own incident or the group it is a member of closes, and every sink sees an
ordinary close. A child whose incident is closed already gets none. The lifecycle makes that
exactly once: another delivery of the deletion, or another replica's, finds the incidents
closed and changes nothing; the children done are noted as the deletion goes, so a delivery
cut off midway is continued by the next.

The record expires `closed_ttl` after a child last fired or resolved (a child reported firing
again keeps it): a child whose OK never comes (its source gone, its incident closed by hand
or by the sweep, which do not tell the record) would otherwise keep it for good.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import datetime
from typing import TYPE_CHECKING

import structlog

from triage.incidents import Action, State
from triage.incidents.shared import Child
from triage.models import Alert, Status
from triage.moves import owner_for

if TYPE_CHECKING:
    from triage.pipeline import Pipeline

log = structlog.get_logger(__name__)


#: Resolves in flight at once for one parent's deletion. Not `alert_concurrency` (the LLM's
#: bound): a child's resolve makes no summary, only sink calls, which each sink's breaker and
#: limits pace; hundreds of contributors 4 at a time could outlast the message's timeout.
CLOSE_CONCURRENCY = 16
#: Children noted done per write while a deletion closes them: a retry of a delivery that
#: failed or was cut off midway reads only the rest, and a record of 500 children (an item
#: DynamoDB bills per KB written) is written a few times, not 500.
NOTE_EVERY = 50


def _no_progress() -> None:
    return None


class Children:
    """The children of parent alerts, for one pipeline (see the module docstring)."""

    def __init__(self, pipeline: Pipeline) -> None:
        self.pipeline = pipeline
        #: At most this many children resolved at once by one deletion (CLOSE_CONCURRENCY).
        self.concurrency = CLOSE_CONCURRENCY

    async def fired(self, alert: Alert) -> None:
        """Child `alert` fired (whatever its incident did: an open, a repeat counted, a
        redelivery), so a child that opened before its parent's record was kept, or whose note
        was lost, is known by its next firing, and a record whose child keeps firing does not
        expire. One read; a write only when this firing is newer than what the record holds,
        or the record's expiry is in its second half."""
        assert alert.parent is not None
        await self._note(alert.parent, self._child(alert, firing=True))

    async def resolved(self, alert: Alert, action: Action) -> None:
        """Child `alert` resolved and was decided `action`. Noted even when the lifecycle
        ignored it: an incident closed by hand or by the sweep ignores its child's OK, which
        must still end the child's firing in the record, or a deletion sends it a resolve it
        does not need. One read;
        a write only when newer than what the record holds (a late resolve of a child that
        fired again since writes nothing)."""
        assert alert.parent is not None
        await self._note(alert.parent, self._child(alert, firing=False))

    async def close(
        self,
        deletion: Alert,
        owner: str,
        queued_at: datetime | None,
        progress: Callable[[], None] = _no_progress,
    ) -> list[Action | BaseException]:
        """The parent `deletion` resolved: send each child the store knows as firing a resolve
        of its own, at most `concurrency` at once, calling `progress` as each one ends. A child
        whose incident is closed already (by hand, by the sweep, by an earlier delivery of this
        deletion) is done without one (IGNORE). The children done are noted resolved as they
        go (NOTE_EVERY a write), so a retry of a delivery that failed or was cut off midway
        continues with the rest. What each resolve did or raised, for the caller to raise the
        failure that decides the message's fate. In a dry run each resolve is only previewed,
        and nothing is noted."""
        p = self.pipeline
        parent = deletion.fingerprint
        firing = [c for c in await p.ledger.store.children(parent) if c.firing]
        if not firing:
            log.info("alert.no_children", parent=parent)
            return []
        slots = asyncio.Semaphore(self.concurrency)
        done = _Done(self, parent, deletion.occurred_at)
        already: list[Child] = []

        async def close_one(child: Child) -> Action:
            async with slots:
                try:
                    if await self._closed_already(child):
                        already.append(child)
                        action = Action.IGNORE
                    else:
                        action = await self._resolve(deletion, child, owner, queued_at)
                finally:
                    progress()
            await done.add(child)
            return action

        results = await asyncio.gather(*map(close_one, firing), return_exceptions=True)
        try:
            await done.flush()
        finally:
            log.info(
                "alert.children_closed",
                parent=parent,
                firing=len(firing),
                closed=sum(r is Action.CLOSE for r in results),
                already_closed=len(already),
                failed=sum(isinstance(r, BaseException) for r in results),
            )
        return results

    async def _resolve(
        self, deletion: Alert, child: Child, owner: str, queued_at: datetime | None
    ) -> Action:
        """The child's resolve through the pipeline's normal resolve (its incident's, or its
        group's), claimed under an owner of its own on this delivery. It answers the child's
        firing: stamped and queued as a firing of the child (one EventBridge batch), it is no
        older than it, and closes the child when written after it."""
        p = self.pipeline
        resolve = child_resolve(deletion, child)
        return await p.handle(
            resolve,
            owner_for(owner, f"child-{child.fingerprint[:16]}"),
            p.group_of(resolve),
            queued_at=queued_at,
            answers_firing=True,
        )

    async def _closed_already(self, child: Child) -> bool:
        """The child's own incident is closed, with nothing left to carry out, since its newest
        event the record knows: a resolve would change nothing. One read. A child that fires
        as a group's member (no incident of its own, or an older one) is not closed here: its
        resolve goes through the group. Nor is one whose close a sink refused for good (its
        deletion's delivery failed for it): the resolve, this delivery's, sends it again."""
        incident = await self.pipeline.ledger.store.get(child.fingerprint)
        return (
            incident is not None
            and incident.state is State.CLOSED
            and incident.pending is None
            and incident.held is None
            and not incident.refused
            and incident.last_event_at >= child.at
        )

    def _child(self, alert: Alert, *, firing: bool) -> Child:
        title = self.pipeline.redactor.text(alert.title)
        return Child(alert.fingerprint, title, firing, alert.occurred_at)

    async def _note(self, parent: str, child: Child) -> None:
        await self._note_all(parent, [child])

    async def _note_all(self, parent: str, children: list[Child]) -> None:
        p = self.pipeline
        await p.ledger.store.note_children(parent, children, p.ledger.clock())


class _Done:
    """The children one deletion has closed (or found closed), noted resolved as of the
    deletion NOTE_EVERY at a time, one write at a time; nothing in a dry run."""

    def __init__(self, children: Children, parent: str, at: datetime) -> None:
        self.children = children
        self.parent = parent
        self.at = at
        self.waiting: list[Child] = []
        self.writing = asyncio.Lock()

    async def add(self, child: Child) -> None:
        self.waiting.append(Child(child.fingerprint, child.title, False, self.at))
        if len(self.waiting) >= NOTE_EVERY:
            await self.flush()

    async def flush(self) -> None:
        """Note the children waiting, if any (and this is not a dry run)."""
        async with self.writing:
            batch, self.waiting = self.waiting, []
            if batch and not self.children.pipeline.dry_run:
                await self.children._note_all(self.parent, batch)


def child_resolve(deletion: Alert, child: Child) -> Alert:
    """The resolve a child is sent when its parent is deleted: the deletion's alert (its time,
    team, labels, and the description that says the alarm was deleted), titled as the child
    and known by the child's fingerprint (the store keeps no child's identity)."""
    resolve = deletion.model_copy(
        update={
            "status": Status.RESOLVED,
            "title": child.title or deletion.title,
            "identity": {**deletion.identity, "child": child.fingerprint},
            "closes_children": False,
        }
    )
    return resolve.known_as(child.fingerprint)
