"""A parent alert's deletion closes its children's incidents: a CloudWatch Metrics Insights
alarm (GROUP BY) fires one incident per contributor, and its deletion names none of them, nor
does CloudWatch send them an OK.

Each child's alert names its parent (`Alert.parent`); the store keeps, under the parent's
fingerprint, which children fire (`Store.note_children`), noted each time a child fires and
when a resolve changes its incident. The parent's deletion (`Alert.closes_children`) reads that
one record and sends each firing child a resolve, dated and worded as the deletion, through the
pipeline's normal resolve: its own incident or the group it is a member of closes, and every
sink sees an ordinary close. The lifecycle makes that exactly once: another delivery of the
deletion, or another replica's, finds the incidents closed and changes nothing.
"""

from __future__ import annotations

import asyncio
from datetime import datetime
from typing import TYPE_CHECKING

import structlog

from triage.incidents import Action
from triage.incidents.shared import Child
from triage.models import Alert, Status
from triage.moves import owner_for

if TYPE_CHECKING:
    from triage.pipeline import Pipeline

log = structlog.get_logger(__name__)


class Children:
    """The children of parent alerts, for one pipeline (see the module docstring)."""

    def __init__(self, pipeline: Pipeline) -> None:
        self.pipeline = pipeline

    async def fired(self, alert: Alert) -> None:
        """Child `alert` fired (whatever its incident did: an open, a repeat counted, a
        redelivery), so a child that opened before its parent's record was kept, or whose note
        was lost, is known by its next firing. One read; a write only when this firing is newer
        than what the record holds."""
        assert alert.parent is not None
        await self._note(alert.parent, self._child(alert, firing=True))

    async def resolved(self, alert: Alert, action: Action) -> None:
        """Child `alert` resolved and was decided `action`. An ignored resolve (another
        delivery of one applied, or older than the child's newest event) notes nothing: the
        record knows already, and a newer firing would win over it anyway."""
        assert alert.parent is not None
        if action is not Action.IGNORE:
            await self._note(alert.parent, self._child(alert, firing=False))

    async def close(
        self, deletion: Alert, owner: str, queued_at: datetime | None
    ) -> list[Action | BaseException]:
        """The parent `deletion` resolved: send each child the store knows as firing a resolve
        of its own, at most `alert_concurrency` at once, and once all went through, note them
        resolved. What each resolve did or raised, for the caller to raise the failure that
        decides the message's fate: its retry closes the rest, and none twice. In a dry run
        each resolve is only previewed, and nothing is noted."""
        p = self.pipeline
        parent = deletion.fingerprint
        firing = [c for c in await p.ledger.store.children(parent) if c.firing]
        if not firing:
            log.info("alert.no_children", parent=parent)
            return []
        slots = asyncio.Semaphore(p.alert_concurrency)

        async def close_one(child: Child) -> Action:
            resolve = child_resolve(deletion, child)
            async with slots:
                return await p.handle(
                    resolve,
                    owner_for(owner, f"child-{child.fingerprint[:16]}"),
                    p.group_of(resolve),
                    queued_at=queued_at,
                )

        results = await asyncio.gather(*map(close_one, firing), return_exceptions=True)
        closed = sum(r is Action.CLOSE for r in results)
        failed = sum(isinstance(r, BaseException) for r in results)
        log.info(
            "alert.children_closed", parent=parent, firing=len(firing), closed=closed, failed=failed
        )
        if not failed and not p.dry_run:
            at = deletion.occurred_at
            gone = [Child(c.fingerprint, c.title, False, at) for c in firing]
            await self._note_all(parent, gone)
        return results

    def _child(self, alert: Alert, *, firing: bool) -> Child:
        title = self.pipeline.redactor.text(alert.title)
        return Child(alert.fingerprint, title, firing, alert.occurred_at)

    async def _note(self, parent: str, child: Child) -> None:
        await self._note_all(parent, [child])

    async def _note_all(self, parent: str, children: list[Child]) -> None:
        p = self.pipeline
        await p.ledger.store.note_children(parent, children, p.ledger.clock())


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
