"""A `VersionedStore` in a dict, for tests that need the incident protocol but not a database:
the same claim/confirm/finish code as the real stores, with no thread hops or I/O."""

from __future__ import annotations

from datetime import timedelta

from triage.lifecycle import Policy
from triage.store import R, Record, RecordChange, VersionedStore


class MemoryStore(VersionedStore):
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

    async def ping(self) -> None:
        return None

    async def aclose(self) -> None:
        return None
