"""The records replicas share beside incidents: the budgets every replica draws on (GitHub's
issue-creation budget), which group a member alert last fired in, which children of a
parent alert fire (a CloudWatch Metrics Insights alarm's contributors, which its deletion closes),
and which operator sessions a logout ended (so that every replica refuses a copied cookie).

Apart from `store` because none is an incident: each is a small record of its own kind,
changed by one conditional write, and none takes part in claiming an effect.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import structlog

from triage.incidents.base import StoreBase
from triage.incidents.claims import incident_busy
from triage.incidents.records import (
    BUDGET,
    CHILDREN,
    ENDED_SESSION,
    MEMBER,
    Record,
    other_keys,
)
from triage.ratelimit import Budget

# Logged as the store: its events (`store.*`) keep the logger name they had before the split.
log = structlog.get_logger("triage.incidents.store")

#: Children kept per parent: as many time series as a Metrics Insights alarm evaluates, and
#: with titles held to CHILD_TITLE_CHARS (UTF-8, at most 4 bytes a character), within the
#: store's record bound (a DynamoDB item holds 400 KB).
MAX_CHILDREN = 500
#: A child's title as kept (redacted before it is handed to the store), as a group member's.
CHILD_TITLE_CHARS = 120


@dataclass(frozen=True, slots=True)
class Child:
    """A child of a parent alert as the store keeps it: its fingerprint (never the identity
    it hashes), its redacted title, and whether its newest event, at `at`, fired."""

    fingerprint: str
    title: str
    firing: bool
    at: datetime

    def newer_than(self, other: Child) -> bool:
        """This event of the child is newer than `other`: later, or a firing stamped alike
        (which a deletion then closes, when nothing newer resolved it: a close too many is
        ignored, one too few leaves a ticket open for good)."""
        return self.at > other.at or (self.at == other.at and self.firing and not other.firing)


class SharedRecords(StoreBase):
    """`Store`'s budgets and group members (see the module docstring)."""

    # --- Group members ------------------------------------------------------------------------

    async def member_group(self, fingerprint: str) -> str | None:
        """The key of the group the alert `fingerprint` last fired in, if it fired in one."""
        record = await self._get(MEMBER, fingerprint)
        return record.body if record is not None else None

    async def place_member(
        self,
        fingerprint: str,
        group_key: str,
        now: datetime,
        *,
        first: bool = False,
        left: str | None = None,
        looked: bool = False,
    ) -> None:
        """The alert `fingerprint` fires in the group `group_key` now. Kept `closed_ttl` after
        it last joined (a join within the first half of that writes nothing). With `first`,
        only when it has no group yet (a resolve, recorded where its labels say). With
        `looked`, only while it names no group, `group_key` or `left` (the group the caller
        read it in and is done with), else StoreBusyError: another replica placed the alert
        in another group since it was read (a firing of it for that group taken at once), and
        the caller's retry must look there, or both groups open and keep it firing."""
        expires = (now + self.closed_ttl).timestamp()
        fresh = expires - self.closed_ttl.total_seconds() / 2

        def change(record: Record | None) -> tuple[Record | None, None]:
            if record is not None and first:
                return None, None
            if looked and record is not None and record.body not in (group_key, left):
                raise incident_busy(
                    f"alert {fingerprint} was placed in another group since it was read",
                    retry_after_s=1.0,
                )
            if record is not None and record.body == group_key and (record.expires_at or 0) > fresh:
                return None, None
            version = record.version + 1 if record is not None else 1
            return Record(fingerprint, MEMBER, version, group_key, expires), None

        await self._update(MEMBER, fingerprint, change)

    # --- Children of a parent alert -----------------------------------------------------------

    async def children(self, parent: str) -> list[Child]:
        """The children noted under the alert `parent`, firing or resolved (one read)."""
        return list(_children_of(await self._get(CHILDREN, parent)).values())

    async def note_children(self, parent: str, children: Iterable[Child], now: datetime) -> None:
        """Note `children` of the alert `parent` in one conditional write: each one's newest
        event wins, whatever order replicas write in; nothing is written when nothing changes.
        Past MAX_CHILDREN, the resolved longest ago make room. The record expires `closed_ttl`
        after it changed, or after a child it holds firing fired again (a repeat stamped alike
        writes only in the second half of that, as a member's join does): a child whose OK
        never comes (its source gone, its incident closed by hand or by the sweep, which do
        not tell this record) would otherwise keep it for good. A child firing silently for
        longer than that is no longer closed by its parent's deletion."""
        noted = list(children)
        expires = (now + self.closed_ttl).timestamp()
        fresh = expires - self.closed_ttl.total_seconds() / 2

        def change(record: Record | None) -> tuple[Record | None, None]:
            known = _children_of(record)
            newer = [
                c for c in noted if c.fingerprint not in known or c.newer_than(known[c.fingerprint])
            ]
            if not newer:
                return _refreshed(record, noted, known, expires, fresh), None
            for c in newer:
                known.pop(c.fingerprint, None)
                known[c.fingerprint] = c
            kept = _bounded(parent, known)
            data = {**other_keys(record, _CHILDREN_KEYS), "children": _encoded(kept)}
            body = json.dumps(data, separators=(",", ":"), ensure_ascii=False)
            version = record.version + 1 if record is not None else 1
            return Record(parent, CHILDREN, version, body, expires), None

        await self._update(CHILDREN, parent, change)

    # --- Ended operator sessions --------------------------------------------------------------

    async def end_session(self, session: str, expires_s: float) -> bool:
        """Note the operator session `session` (the page's hash of its id) as ended, in one
        conditional write: True when this call ended it, False when it had been ended already
        (a replayed logout). The record expires at `expires_s` (epoch seconds), past which the
        session is refused for its age anyway, so only sessions still presentable are kept."""
        body = json.dumps({"ended_s": round(self.shared_time(time.time()), 3)})

        def change(record: Record | None) -> tuple[Record | None, bool]:
            if record is not None:
                return None, False
            return Record(session, ENDED_SESSION, 1, body, expires_s), True

        return await self._update(ENDED_SESSION, session, change)

    async def session_ended(self, session: str) -> bool:
        """Whether a logout ended the operator session `session` (one read; its body is not
        read, so a record edited beyond reading still ends the session)."""
        return await self._get(ENDED_SESSION, session) is not None

    # --- Budgets -----------------------------------------------------------------------------

    async def take_token(self, budget: Budget, now_s: float, *, keep: int = 0) -> float:
        """Take one token of `budget`, unless fewer than `keep` would be left: 0.0 when taken,
        else the seconds until one is free. One conditional write per token taken, so every
        replica draws on the same budget."""
        now_s = self.shared_time(now_s)

        def change(record: Record | None) -> tuple[Record | None, float]:
            state = _budget_state(record)
            tokens = budget.tokens(state, now_s)
            if tokens - keep < 1:
                # Dated ahead of this clock (stepped back since): written dated now, so its
                # refill counts from now, not from when the clock gets back there.
                ahead = state is not None and state[1] > now_s
                write = self._budget_record(budget, record, tokens, now_s) if ahead else None
                return write, budget.wait_s(tokens, keep)
            return self._budget_record(budget, record, tokens - 1, now_s), 0.0

        return await self._update(BUDGET, budget.name, change)

    async def give_back_token(self, budget: Budget, now_s: float) -> None:
        """Return a token taken for a call that did not happen (another budget refused it)."""
        now_s = self.shared_time(now_s)

        def change(record: Record | None) -> tuple[Record | None, None]:
            tokens = budget.tokens(_budget_state(record), now_s)
            return self._budget_record(budget, record, tokens + 1, now_s), None

        await self._update(BUDGET, budget.name, change)

    async def budget_tokens(self, budget: Budget, now_s: float) -> float:
        """The tokens `budget` holds now, without taking any."""
        record = await self._get(BUDGET, budget.name)
        return budget.tokens(_budget_state(record), self.shared_time(now_s))

    def _budget_record(
        self, budget: Budget, record: Record | None, tokens: float, now_s: float
    ) -> Record:
        state = {"tokens": min(tokens, budget.capacity), "updated_s": now_s}
        body = json.dumps({**other_keys(record, state), **state})
        # A budget nobody used for two periods is full again: its record may go.
        expires = now_s + 2 * budget.period_s
        return Record(budget.name, BUDGET, (record.version + 1) if record else 1, body, expires)


def _budget_state(record: Record | None) -> tuple[float, float] | None:
    """The tokens and time a budget record holds; None (a full budget) for none, or for one
    that does not read, which the next token taken writes over: a shared budget is no reason
    to fail every message."""
    if record is None:
        return None
    try:
        data = json.loads(record.body)
        return float(data["tokens"]), float(data["updated_s"])
    except (ValueError, KeyError, TypeError) as exc:
        log.warning("store.budget_unreadable", budget=record.key, error=str(exc)[:200])
        return None


_CHILDREN_KEYS = ("children",)


def _refreshed(
    record: Record | None,
    noted: list[Child],
    known: dict[str, Child],
    expires: float,
    fresh: float,
) -> Record | None:
    """`record` expiring at `expires` instead, when a child it holds firing fires again
    (`noted`, nothing newer than `known`) and its expiry is past `fresh` (within the second
    half of its time, or none: a record written before records of firing children expired);
    else None (nothing to write)."""
    if record is None or (record.expires_at is not None and record.expires_at > fresh):
        return None
    if not any(c.firing and c.fingerprint in known and known[c.fingerprint].firing for c in noted):
        return None
    return Record(record.key, CHILDREN, record.version + 1, record.body, expires)


def _children_of(record: Record | None) -> dict[str, Child]:
    """The children a record holds, by fingerprint (`[firing, epoch seconds, title]` each);
    none for none, or for a record that does not read (logged), which the next child noted
    writes over: losing it leaves those children's tickets open, as before they were noted."""
    if record is None:
        return {}
    try:
        raw: dict[str, Any] = json.loads(record.body)["children"]
        return {
            fp: Child(fp, str(title), bool(firing), datetime.fromtimestamp(float(at), UTC))
            for fp, (firing, at, title) in raw.items()
        }
    except (ValueError, KeyError, TypeError, AttributeError, OverflowError, OSError) as exc:
        log.warning("store.children_unreadable", parent=record.key, error=str(exc)[:200])
        return {}


def _encoded(children: dict[str, Child]) -> dict[str, list[Any]]:
    return {
        fp: [int(c.firing), c.at.timestamp(), c.title[:CHILD_TITLE_CHARS]]
        for fp, c in children.items()
    }


def _bounded(parent: str, children: dict[str, Child]) -> dict[str, Child]:
    """`children` held to MAX_CHILDREN: the resolved longest ago go first, then (logged: a
    deletion will not close them) the firing ones that fired longest ago."""
    excess = len(children) - MAX_CHILDREN
    if excess <= 0:
        return children
    oldest = sorted(children.values(), key=lambda c: (c.firing, c.at))[:excess]
    dropped_firing = sum(c.firing for c in oldest)
    if dropped_firing:
        log.warning("store.children_dropped", parent=parent, firing=dropped_firing)
    gone = {c.fingerprint for c in oldest}
    return {fp: c for fp, c in children.items() if fp not in gone}
