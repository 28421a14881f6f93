"""The records replicas share beside incidents: the budgets every replica draws on (GitHub's
issue-creation budget), and which group a member alert last fired in.

Apart from `store` because neither is an incident: each is a small record of its own kind,
changed by one conditional write, and none takes part in claiming an effect.
"""

from __future__ import annotations

import json
from datetime import datetime

import structlog

from triage.incidents.base import StoreBase
from triage.incidents.records import BUDGET, MEMBER, Record, other_keys
from triage.ratelimit import Budget

# Logged as the store: its events (`store.*`) keep the logger name they had before the split.
log = structlog.get_logger("triage.incidents.store")


class SharedRecords(StoreBase):
    """`Store`'s budgets and group members (see the module docstring)."""

    # --- Group members ------------------------------------------------------------------------

    async def member_group(self, fingerprint: str) -> str | None:
        """The key of the group the alert `fingerprint` last fired in, if it fired in one."""
        record = await self._get(MEMBER, fingerprint)
        return record.body if record is not None else None

    async def place_member(
        self, fingerprint: str, group_key: str, now: datetime, *, first: bool = False
    ) -> None:
        """The alert `fingerprint` fires in the group `group_key` now. Kept `closed_ttl` after
        it last joined (a join within the first half of that writes nothing). With `first`,
        only when it has no group yet (a resolve, recorded where its labels say)."""
        expires = (now + self.closed_ttl).timestamp()
        fresh = expires - self.closed_ttl.total_seconds() / 2

        def change(record: Record | None) -> tuple[Record | None, None]:
            if record is not None and first:
                return None, None
            if record is not None and record.body == group_key and (record.expires_at or 0) > fresh:
                return None, None
            version = record.version + 1 if record is not None else 1
            return Record(fingerprint, MEMBER, version, group_key, expires), None

        await self._update(MEMBER, fingerprint, change)

    # --- Budgets -----------------------------------------------------------------------------

    async def take_token(self, budget: Budget, now_s: float, *, keep: int = 0) -> float:
        """Take one token of `budget`, unless fewer than `keep` would be left: 0.0 when taken,
        else the seconds until one is free. One conditional write per token taken, so every
        replica draws on the same budget."""
        now_s = self.shared_time(now_s)

        def change(record: Record | None) -> tuple[Record | None, float]:
            tokens = budget.tokens(_budget_state(record), now_s)
            if tokens - keep < 1:
                return None, budget.wait_s(tokens, keep)
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
