"""Runs of the lifecycle model (tests/test_lifecycle_model.py) that broke an invariant on the
plain routes (no routes change rolling out), cut down by hand to the few steps that show each
cause: two replicas sharing the in-memory store, milliseconds each."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path

import pytest

from factories import T0
from test_lifecycle_model import POLICY, ROUTES, Service, World, check_end, drain, sent
from test_pipeline import Clock


@pytest.fixture
def routes(tmp_path: Path) -> Path:
    path = tmp_path / "routes.toml"
    path.write_text(ROUTES)
    return path


@pytest.fixture
async def world(tmp_path: Path, routes: Path) -> AsyncIterator[World]:
    """Two replicas on the grouping routes, sharing the in-memory store, at T0 + 3 minutes."""
    made = World(
        "memory", tmp_path, Clock(), {n: Service(n) for n in ("backend", "github")}, routes
    )
    await made.start(2)
    made.clock.now = T0 + timedelta(minutes=3)
    yield made
    await made.stop()


async def settled(world: World) -> list[str]:
    """Drain the queue and the sweep; what the end check finds."""
    await drain(world)
    return await check_end(world)


async def test_a_late_firing_delivered_again_stays_resolved_where_it_fired_late(
    world: World,
) -> None:
    """A member's late firing (older than its firing in another group) is resolved again in
    the group it reached; SQS delivering that message again leaves it resolved there (the
    firing, stamped as that resolve, was applied over it, and it fired in both groups)."""
    one, two = world.replicas
    await world.deliver(one, await sent(world, "disk-2", "firing", 0, "a"))
    await world.deliver(one, await sent(world, "disk-1", "firing", 1, "b"))
    # Its move to host a fails leaving host b: it fires in both while the message waits.
    two.faults.fail = 1
    await world.deliver(two, await sent(world, "disk-1", "firing", 2, "a"))
    await world.deliver(one, await sent(world, "disk-1", "firing", 4, "b"))
    world.clock.now += POLICY.update_interval  # its resolve at host a lists the members
    late = await sent(world, "disk-1", "firing", 3, "a")
    await world.deliver(one, late, lose_delete=True)
    await world.deliver(two, late)
    assert await settled(world) == []
