"""Two replicas on one SQLite file, a group member moving between groups on one while its
resolve runs on the other: whatever the interleaving (forced here step by step), the member's
newest event wins and no group's ticket stays open for a member that resolved."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

import pytest

from factories import T0
from test_pipeline import LEASE, POLICY, Clock, CountingSummariser, FakeSink
from triage.incidents import Action, Ledger
from triage.incidents.members import JOINING
from triage.incidents.sqlite import SQLiteStore
from triage.metrics import Metrics
from triage.pipeline import Pipeline
from triage.redact import Redactor
from triage.routes import load_router
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


@dataclass
class Replica:
    store: SQLiteStore
    sink: FakeSink
    clock: Clock
    pipeline: Pipeline

    async def process(self, mid: str, minutes: float, **fields: object) -> list[Action]:
        """Alert `disk-a` (stamped `minutes` after T0, and handled then) in message `mid`."""
        at = T0 + timedelta(minutes=minutes)
        body = {"title": "disk full", "dedup_key": "disk-a", "timestamp": at.isoformat()}
        message = Message(mid, json.dumps({**body, **fields}), f"rh-{mid}", 1, at, received_at=at)
        self.clock.now = at
        return [outcome.action for outcome in await self.pipeline.process(message)]


@pytest.fixture
async def replicas(tmp_path: Path) -> AsyncIterator[tuple[Replica, Replica]]:
    """Two daemons' pipelines, each with its own store on one SQLite file."""
    routes = tmp_path / "routes.toml"
    routes.write_text(ROUTES)
    made = []
    for _ in range(2):
        store = SQLiteStore(str(tmp_path / "t.db"), POLICY, LEASE, timedelta(days=30))
        await store.open()
        sink, clock = FakeSink(), Clock()
        pipeline = Pipeline(
            Ledger(store, clock=clock),
            CountingSummariser(),
            [sink],
            Metrics(),
            redactor=Redactor(),
            policy=POLICY,
            router=load_router(Settings(routes_file=routes)),
        )
        made.append(Replica(store, sink, clock, pipeline))
    yield made[0], made[1]
    for replica in made:
        await replica.store.aclose()


async def _groups(replica: Replica) -> dict[str, str]:
    """Each stored group's title and state."""
    found = await replica.store.incidents()
    return {i.title: str(i.state) for i in found if i.group is not None}


def _pause_before(
    obj: object, name: str
) -> tuple[asyncio.Event, asyncio.Event, Callable[..., Awaitable[object]]]:
    """Make `obj.name` (an async method) stop at its first call until `go` is set; returns
    (`reached`, `go`, the original)."""
    original = getattr(obj, name)
    reached, go = asyncio.Event(), asyncio.Event()

    async def paused(*args: object, **kwargs: object) -> object:
        # A move's note of the group it is going to is not the move remembered.
        if not reached.is_set() and not str(args[0]).endswith(JOINING):
            reached.set()
            await go.wait()
        return await original(*args, **kwargs)

    setattr(obj, name, paused)
    return reached, go, original


async def test_a_firing_older_than_the_members_resolve_leaves_no_group_open(
    replicas: tuple[Replica, Replica],
) -> None:
    """The member fires in host a, resolves (under host b's labels), and its firing under
    host b, older than the resolve, reaches the other replica last: host b's group does not
    stay open for it (it did, for good: the resolve had found no member there)."""
    one, two = replicas
    assert await one.process("m1", 0, host="a") == [Action.OPEN]
    assert await one.process("m3", 2, host="b", status="resolved") == [Action.CLOSE]
    await two.process("m2", 1, host="b")
    assert await _groups(one) == {"host=a": "closed", "host=b": "closed"}


async def test_a_resolve_while_the_member_moves_on_another_replica_closes_both_groups(
    replicas: tuple[Replica, Replica],
) -> None:
    """Replica two moves the member to host b and stops before it remembers the move; replica
    one resolves it (no host: where it was remembered, host a) meanwhile. Once the move is
    remembered, host b's group closes too (it stayed open for good)."""
    one, two = replicas
    await one.process("m1", 0, host="a")
    reached, go, _ = _pause_before(two.store, "place_member")
    moving = asyncio.create_task(two.process("m2", 1, host="b"))
    async with asyncio.timeout(10):
        await reached.wait()
    await one.process("m3", 2, status="resolved")
    go.set()
    async with asyncio.timeout(10):
        assert await moving == [Action.OPEN]
    assert await _groups(one) == {"host=a": "closed", "host=b": "closed"}


async def test_a_resolve_that_found_the_old_group_follows_a_move_made_meanwhile(
    replicas: tuple[Replica, Replica],
) -> None:
    """Replica one reads where the member fires (host a) and stops; replica two moves it to
    host b entirely; replica one's resolve, newer than the move, then closes host b's group
    as well as host a's (it closed host a's only, and host b's stayed open for good)."""
    one, two = replicas
    await one.process("m1", 0, host="a")
    reached, go, original = _pause_before(one.store, "get")
    resolving = asyncio.create_task(one.process("m3", 2, status="resolved"))
    async with asyncio.timeout(10):
        await reached.wait()  # resolve_targets read host a, and looks at the group next
    one.store.get = original  # type: ignore[method-assign]
    assert await two.process("m2", 1, host="b") == [Action.OPEN]
    go.set()
    async with asyncio.timeout(10):
        await resolving
    assert await _groups(one) == {"host=a": "closed", "host=b": "closed"}
    assert one.sink.kinds() + two.sink.kinds() == ["open", "close", "open", "close"]


async def test_a_resolve_older_than_the_move_it_races_leaves_the_new_group_open(
    replicas: tuple[Replica, Replica],
) -> None:
    """The same race with the resolve older than the member's firing under host b: the resolve
    follows the move but is older than the member's event there, so host b's group stays open
    while its member fires, and host a's closes."""
    one, two = replicas
    await one.process("m1", 0, host="a")
    reached, go, original = _pause_before(one.store, "get")
    resolving = asyncio.create_task(one.process("m2", 1, status="resolved"))
    async with asyncio.timeout(10):
        await reached.wait()
    one.store.get = original  # type: ignore[method-assign]
    assert await two.process("m3", 2, host="b") == [Action.OPEN]
    go.set()
    async with asyncio.timeout(10):
        await resolving
    assert await _groups(one) == {"host=a": "closed", "host=b": "open"}
