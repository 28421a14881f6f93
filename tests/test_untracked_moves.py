"""Moves of group members past the tracked ones (`groups.MAX_MEMBERS`, 1,000; one here, the same
code, to keep it fast): such a member is known to its group only by a short id, and its move to
another group, or its resolve without the labels its group is keyed by, still finds it there.
The real Pipeline on the in-memory store, a generic source grouped by host."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path

import pytest

from factories import T0
from memory_store import MemoryStore
from test_pipeline import LEASE, POLICY, Clock, CountingSummariser, FakeSink
from triage.incidents import Action, Ledger
from triage.incidents import groups as group_rules
from triage.metrics import Metrics
from triage.pipeline import Pipeline
from triage.redact import Redactor
from triage.routes import Router, load_router
from triage.settings import Settings
from triage.sqs.inbox import Message

ROUTES = """
[[route]]
name = "hosts"
sinks = ["backend"]
group_by = ["host"]
[route.match]
source = ["generic"]
"""


class Hosts:
    """One pipeline grouping generic alerts by host, with one member tracked per group."""

    def __init__(self, tmp_path: Path) -> None:
        routes = tmp_path / "routes.toml"
        routes.write_text(ROUTES)
        self.store = MemoryStore(POLICY, LEASE)
        self.sink, self.clock = FakeSink(), Clock()
        self.pipeline = self._pipeline(load_router(Settings(routes_file=routes)))
        #: A replica whose routes group nothing (the grouping route removed from its file).
        self.ungrouped = self._pipeline(None)
        self.sent = 0

    def _pipeline(self, router: Router | None) -> Pipeline:
        return Pipeline(
            Ledger(self.store, clock=self.clock), CountingSummariser(), [self.sink], Metrics(),
            redactor=Redactor(), policy=POLICY, router=router,
        )  # fmt: skip

    async def send(
        self, key: str, minutes: float, *, grouped: bool = True, **fields: object
    ) -> list[Action]:
        """Alert `key` (its dedup_key), stamped `minutes` after T0 and handled then (by the
        replica that groups by host, unless not `grouped`)."""
        self.sent += 1
        at = T0 + timedelta(minutes=minutes)
        body = {"title": f"{key} full", "dedup_key": key, "timestamp": at.isoformat(), **fields}
        mid = f"m-{self.sent}"
        message = Message(mid, json.dumps(body), f"rh-{mid}", 1, at, received_at=at)
        self.clock.now = at
        pipeline = self.pipeline if grouped else self.ungrouped
        return [outcome.action for outcome in await pipeline.process(message)]

    async def groups(self) -> dict[str, str]:
        """Each stored group's title and state."""
        found = await self.store.incidents()
        return {i.title: str(i.state) for i in found if i.group is not None}


@pytest.fixture
def hosts(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Hosts:
    """Groups by host tracking one member each: the second to join is counted past it."""
    monkeypatch.setattr(group_rules, "MAX_MEMBERS", 1)
    return Hosts(tmp_path)


async def _untracked_second_member(hosts: Hosts) -> None:
    """`disk-a` (tracked) and `disk-b` (counted past the tracked one) fire on host a."""
    assert await hosts.send("disk-a", 0, host="a") == [Action.OPEN]
    await hosts.send("disk-b", 1, host="a")
    [group] = [i for i in await hosts.store.incidents() if i.group is not None]
    assert group.group is not None and group.group.untracked == 1


async def test_an_untracked_member_moving_to_another_host_leaves_its_old_group(
    hosts: Hosts,
) -> None:
    """The untracked member fires on host b: it resolves in host a's group, which then closes
    when its tracked member resolves (it stayed open for good, counting the one that left)."""
    await _untracked_second_member(hosts)
    await hosts.send("disk-b", 2, host="b")
    assert await hosts.send("disk-a", 3, host="a", status="resolved") == [Action.CLOSE]
    assert await hosts.groups() == {"host=a": "closed", "host=b": "open"}


async def test_the_last_untracked_member_moving_away_closes_its_old_group(
    hosts: Hosts,
) -> None:
    """The tracked member resolves, then the untracked one, the last firing in host a's group,
    fires on host b: the move is answered with a close in host a's group."""
    await _untracked_second_member(hosts)
    await hosts.send("disk-a", 2, host="a", status="resolved")
    assert await hosts.groups() == {"host=a": "open"}
    await hosts.send("disk-b", 3, host="b")
    assert await hosts.groups() == {"host=a": "closed", "host=b": "open"}
    assert hosts.sink.kinds().count("close") == 1


async def test_an_untracked_members_resolve_without_its_host_closes_its_group(
    hosts: Hosts,
) -> None:
    """The untracked member resolves with its dedup_key only (no host): the resolve finds it in
    host a's group, which closes once the tracked member resolves too."""
    await _untracked_second_member(hosts)
    await hosts.send("disk-b", 2, status="resolved")
    assert await hosts.send("disk-a", 3, host="a", status="resolved") == [Action.CLOSE]
    assert await hosts.groups() == {"host=a": "closed"}


async def test_a_late_firing_of_an_untracked_member_does_not_move_it(hosts: Hosts) -> None:
    """The untracked member resolves on host a; its firing under host b, older than that
    resolve, arrives after it: host b's group does not stay open for it."""
    await _untracked_second_member(hosts)
    await hosts.send("disk-b", 3, host="a", status="resolved")
    await hosts.send("disk-b", 2, host="b")
    groups = await hosts.groups()
    assert groups.get("host=b", "closed") == "closed"


async def test_an_untracked_member_firing_as_its_own_incident_leaves_its_group(
    hosts: Hosts,
) -> None:
    """The grouping route is removed: the untracked member fires on routes that group nothing,
    as an incident of its own, and leaves host a's group, which closes when its tracked member
    resolves."""
    await _untracked_second_member(hosts)
    assert await hosts.send("disk-b", 2, grouped=False, host="a") == [Action.OPEN]
    assert await hosts.send("disk-a", 3, host="a", status="resolved") == [Action.CLOSE]
    assert await hosts.groups() == {"host=a": "closed"}
