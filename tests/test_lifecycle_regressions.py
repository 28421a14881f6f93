"""Runs of the lifecycle model (tests/test_lifecycle_model.py) that broke an invariant, on the
plain routes or while a routes change rolls out, cut down by hand to the few steps that show
each cause: two replicas sharing the in-memory store, milliseconds each."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path

import pytest

from factories import T0
from test_lifecycle_model import (
    POLICY,
    ROUTES,
    Service,
    World,
    check_end,
    check_rolling,
    drain,
    sent,
)
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


@pytest.fixture
async def rolling(tmp_path: Path, routes: Path) -> AsyncIterator[World]:
    """Two replicas while a routes change rolls out: r0 on the routes from before the grouping
    route was added (every alert its own incident), r1 on the grouping routes."""
    made = World(
        "memory",
        tmp_path,
        Clock(),
        {n: Service(n) for n in ("backend", "github")},
        routes,
        ungrouped=frozenset({"r0"}),
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


async def test_a_late_firings_resolve_is_not_taken_for_a_newer_event_on_its_next_delivery(
    rolling: World,
) -> None:
    """An alert's firing opens its own incident (the old routes) and is counted in its group
    on the new routes, where it is resolved again (its own incident keeps it); delivered once
    more, that resolve is its own answer, not a newer event: its own incident stays open (it
    was closed, and the alert fired nowhere)."""
    old, new = rolling.replicas
    await rolling.deliver(new, await sent(rolling, "disk-2", "firing", 0, "a"))
    firing = await sent(rolling, "disk-2", "firing", 1, "a")
    await rolling.deliver(old, firing, lose_delete=True)  # it leaves host a: that closes
    await rolling.deliver(new, await sent(rolling, "disk-1", "firing", 2, "a"))
    await rolling.deliver(new, firing, lose_delete=True)
    await rolling.deliver(new, firing)
    await drain(rolling)
    assert await check_rolling(rolling) == []


async def test_a_move_into_a_group_whose_replica_dies_in_the_open_fires_in_one_place(
    rolling: World,
) -> None:
    """An alert firing in host b's group fires under host a; the replica grouping it dies in
    host a's open, before the move is remembered, and the retry goes to the old routes: the
    alert fires in one place (the retry found host b alone, and the sweep finished host a's
    open beside the alert's own incident: it fired in two)."""
    old, new = rolling.replicas
    await rolling.deliver(new, await sent(rolling, "disk-2", "firing", 0, "b"))
    new.faults.crash = True
    moving = await sent(rolling, "disk-2", "firing", 1, "a")
    await rolling.deliver(new, moving)
    await rolling.deliver(old, moving)
    await drain(rolling)
    assert await check_rolling(rolling) == []


async def test_a_move_into_a_group_whose_sinks_fail_fires_in_one_place(
    rolling: World,
) -> None:
    """An alert's open in host b's group fails, then its move to host a fails too (host a's
    open, then host b's close, so the move is never remembered); the retries go to the old
    routes: the alert fires in one place (they found host b alone, and host a's open was
    finished beside the alert's own incident: it fired in two)."""
    old, new = rolling.replicas
    new.faults.fail = 3
    first = await sent(rolling, "disk-2", "firing", 0, "b")
    await rolling.deliver(new, first)
    moving = await sent(rolling, "disk-2", "firing", 1, "a")
    await rolling.deliver(new, moving)
    await rolling.deliver(old, first)
    await rolling.deliver(old, moving)
    await drain(rolling)
    assert await check_rolling(rolling) == []


async def test_a_resolve_on_the_old_routes_resolves_where_a_failed_move_was_going(
    rolling: World,
) -> None:
    """Seed 1690 of the rolling runs: a member's firings in host b, then host a, fail on the
    new routes (host a's open is noted for the move, not remembered); its resolve on the old
    routes, stamped as the firing in host a and queued after it, resolves it there too, so it
    fires nowhere once the sweep has finished host a's open (the resolve went to host b
    alone, and the open left it firing in host a)."""
    old, new = rolling.replicas
    await rolling.deliver(new, await sent(rolling, "disk-2", "resolved", -3.65, None))
    new.faults.fail = 3
    await rolling.deliver(new, await sent(rolling, "disk-2", "firing", -2.18, "b"))
    moving = await sent(rolling, "disk-2", "firing", -1.98, "a")
    await rolling.deliver(new, moving)
    await rolling.deliver(old, await sent(rolling, "disk-2", "resolved", -1.98, "b"))
    await rolling.deliver(old, moving)
    await drain(rolling)
    assert await check_rolling(rolling) == []


async def test_a_resolve_on_the_old_routes_resolves_where_a_dead_replicas_move_was_going(
    rolling: World,
) -> None:
    """Seed 459 of the rolling runs: a member firing in host b fires under host a; the replica
    moving it dies in host a's open (noted, not remembered there). Its resolve, on the old
    routes, resolves it in host a too, so once the sweep has finished that open it fires
    nowhere (the resolve found nothing to do, and the open left it firing in host a)."""
    old, new = rolling.replicas
    await rolling.deliver(new, await sent(rolling, "disk-2", "firing", 0, "b"))
    new.faults.crash = True
    moving = await sent(rolling, "disk-2", "firing", 1, "a")
    await rolling.deliver(new, moving)
    await rolling.deliver(old, await sent(rolling, "disk-2", "resolved", 2, "b"))
    await rolling.deliver(old, moving)
    await drain(rolling)
    assert await check_rolling(rolling) == []


async def test_an_open_on_the_old_routes_left_by_a_dead_replica_is_finished_with_its_move(
    rolling: World,
) -> None:
    """Seed 2822 of the rolling runs: a member of host a's group fires again in host b,
    stamped alike. A redelivery of its first firing, on the old routes, claims its own
    incident's open (stamped as its firing in host b: its own incident keeps it) and the
    replica dies in the sink call; that message's retry, on the new routes, is a late firing
    in host a. It fires in one place (the sweep finished the open without the move out of
    host b that the dead replica would have made next, and it fired in both)."""
    old, new = rolling.replicas
    first = await sent(rolling, "disk-1", "firing", 0, "a")
    await rolling.deliver(new, first, lose_delete=True)
    await rolling.deliver(new, await sent(rolling, "disk-1", "firing", 0, "b"))
    old.faults.crash = True
    await rolling.deliver(old, first, lose_delete=True)
    await drain(rolling)
    assert await check_rolling(rolling) == []


async def test_an_own_open_is_taken_back_when_its_group_counted_the_same_firing_first(
    rolling: World,
) -> None:
    """Seed 652 of the rolling runs: a member's open in host b's group is left by a replica
    that died in the sink call; its next firing, taken at once by a replica on each routes,
    is counted in host b first. Its own incident's open is taken back, so it fires in one
    place (the open another alert left in host b hid that the group took this very event
    first, and it fired in both)."""
    rolling.replicas[1].faults.crash = True
    await rolling.deliver(rolling.replicas[1], await sent(rolling, "disk-1", "firing", 0, "b"))
    old, new = rolling.replicas
    again = await sent(rolling, "disk-1", "firing", 2, "b")
    await rolling.deliver(new, again)
    await rolling.deliver(old, again)
    await drain(rolling)
    assert await check_rolling(rolling) == []


async def test_a_move_into_a_group_stays_out_when_its_own_incident_counts_a_newer_firing(
    rolling: World,
) -> None:
    """Seed 440 of the rolling runs: an alert fires as its own incident (the old routes); a
    replica on each routes takes one of its firings at once: the newer, counted in its own
    incident, and an older one under host a, whose resolve of its own incident comes after
    that count and is ignored. Its own incident keeps it, so it fires in one place (the move
    went on as if its own incident had closed, and it fired in both)."""
    old, new = rolling.replicas
    await rolling.deliver(old, await sent(rolling, "disk-2", "firing", 0, None))
    newer = await sent(rolling, "disk-2", "firing", 2, None)
    moving = await sent(rolling, "disk-2", "firing", 1, "a")
    await asyncio.gather(rolling.deliver(new, moving), rolling.deliver(old, newer))
    await drain(rolling)
    assert await check_rolling(rolling) == []


async def test_a_firing_its_own_incident_keeps_from_a_group_is_its_newest_event_there(
    rolling: World,
) -> None:
    """Seeds 2822 and 2826 of the rolling runs: an alert's firing opens its own incident (the
    old routes; its delete is lost), and a resend stamped alike reaches host b's group, whose
    open is taken back (its own incident keeps it). The first firing delivered again on the
    new routes leaves it firing in its own incident (the resend's taking back, a resolve in
    host b queued after that firing, was taken for its newest event, and it fired nowhere)."""
    old, new = rolling.replicas
    first = await sent(rolling, "disk-1", "firing", 0, "b")
    await rolling.deliver(old, first, lose_delete=True)
    await rolling.deliver(new, await sent(rolling, "disk-1", "firing", 0, "b"))
    await rolling.deliver(new, first)
    await drain(rolling)
    assert await check_rolling(rolling) == []


async def test_a_group_update_is_taken_back_when_the_alerts_own_incident_opened_at_once(
    rolling: World,
) -> None:
    """Seed 595 of the rolling runs: host b's group is open, its update window over; a second
    alert's firing, taken by a replica on each routes at once, opens its own incident (the
    old routes), then joins host b, whose update is taken back (its own incident keeps it) and
    the replica grouping it, dying in that update's sink call, leaves nothing. It fires in one
    place (an update could not be taken back, the sweep finished it, and it fired in both)."""
    old, new = rolling.replicas
    await rolling.deliver(new, await sent(rolling, "disk-1", "firing", 0, "b"))
    rolling.clock.now += POLICY.update_interval
    joining = await sent(rolling, "disk-2", "firing", 1, "b")
    await rolling.deliver(old, joining)
    new.faults.crash = True
    await rolling.deliver(new, joining)
    await drain(rolling)
    assert await check_rolling(rolling) == []


async def test_a_late_firing_on_the_old_routes_finishes_its_dead_move_into_another_group(
    rolling: World,
) -> None:
    """Seed 300 of the rolling runs: a member fires in host b; an older firing of it under
    host a, past host a's update window, is late: the replica grouping it dies in host a's
    update (it cannot be taken back), and the retry, on the old routes, takes back its own
    incident's open. It finishes host a's update and resolves the alert there, so it fires
    in one place (the retry looked at host b alone, and the sweep finished host a's update:
    it fired in both)."""
    old, new = rolling.replicas
    await rolling.deliver(new, await sent(rolling, "disk-1", "firing", 0, "b"))
    await rolling.deliver(new, await sent(rolling, "disk-2", "firing", 0, "a"))
    rolling.clock.now += POLICY.update_interval
    late = await sent(rolling, "disk-1", "firing", -3, "a")
    new.faults.crash = True
    await rolling.deliver(new, late)
    await rolling.deliver(old, late)
    await drain(rolling)
    assert await check_rolling(rolling) == []


async def test_a_resolve_repeated_in_a_closed_group_is_newer_than_a_firing_queued_before_it(
    world: World,
) -> None:
    """A member resolved in its closed group resolves again, stamped alike and queued after
    a firing stamped alike too, which arrives last: the group stays closed (the repeat was
    not written, and the firing, newer than the first resolve, reopened it)."""
    one, two = world.replicas
    await world.deliver(one, await sent(world, "disk-2", "firing", -2, "a"))
    await world.deliver(one, await sent(world, "disk-2", "resolved", 0, "a"))
    firing = await sent(world, "disk-2", "firing", 0, "a")
    await world.deliver(two, await sent(world, "disk-2", "resolved", 0, "a"))
    await world.deliver(one, firing)
    assert await settled(world) == []


async def test_a_resolve_repeated_in_a_closed_group_keeps_an_older_firing_out_of_its_own(
    rolling: World,
) -> None:
    """Seed 1039 of the rolling runs: a member resolved in host a's closed group resolves
    again (without the label the group is keyed by), stamped alike and queued after a firing
    stamped alike too, which reaches the old routes last: its own incident opens nothing, so
    it fires nowhere, as its newest event says (the repeat was not written, and the firing
    opened its own incident)."""
    old, new = rolling.replicas
    await rolling.deliver(new, await sent(rolling, "disk-2", "resolved", 0, "a"))
    firing = await sent(rolling, "disk-2", "firing", 0, "a")
    await rolling.deliver(new, await sent(rolling, "disk-2", "resolved", 0, None))
    await rolling.deliver(old, firing)
    await drain(rolling)
    assert await check_rolling(rolling) == []
