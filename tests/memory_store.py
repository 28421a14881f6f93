"""A `Store` in a dict, for tests that need the incident protocol but not a database:
the same claim/confirm/finish code as the real stores, with no thread hops or I/O."""

from __future__ import annotations

from datetime import timedelta

from triage.incidents.lifecycle import Policy
from triage.incidents.store import INCIDENT, R, Record, RecordChange, Store


class MemoryStore(Store):
    def __init__(
        self,
        policy: Policy | None = None,
        lease: timedelta = timedelta(minutes=2),
        closed_ttl: timedelta = timedelta(days=30),
    ) -> None:
        super().__init__(policy or Policy(), lease, closed_ttl)
        self.records: dict[tuple[str, str], Record] = {}

    async def _get(self, kind: str, key: str) -> Record | None:
        return self.records.get((kind, key))

    async def _update(self, kind: str, key: str, change: RecordChange[R]) -> R:
        # No await between the read and the write: atomic on one event loop.
        write, result = change(self.records.get((kind, key)))
        if write is not None:
            self.records[(kind, key)] = write
        return result

    async def _scan(self, kind: str) -> list[Record]:
        return [r for (k, _), r in self.records.items() if k == kind]

    async def _due(self, now_s: float | None) -> list[str]:
        limit = now_s if now_s is not None else float("inf")
        return [
            r.key
            for r in self.records.values()
            if r.kind == INCIDENT and r.sweep_at is not None and r.sweep_at <= limit
        ]

    async def ping(self) -> None:
        return None

    async def aclose(self) -> None:
        return None
