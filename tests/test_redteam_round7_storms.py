"""Red team round 7: storms and lifecycle under real delivery. New ground past rounds 4 to 6:
two replicas taking messages at the same moment with a sink that yields mid-call (so claims
really interleave), SQS duplicates and retries of what failed, a sink failing a third of its
calls, replicas sharing SQLite or DynamoDB (moto) as well as memory, and `resolve_after_s`
closes racing an event-only source's late, duplicated or concurrent alerts. The real Pipeline,
a recording sink (round 4's Cluster). Every check here held when it was written: no bug of
this class was found in round 7."""

from __future__ import annotations

import asyncio
import itertools
import json
import random
import uuid
from collections import Counter
from collections.abc import AsyncIterator, Awaitable, Sequence
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path

import pytest

from moto_speed import loopback_aws_client
from test_pipeline import LEASE, POLICY, FakeSink
from test_redteam_round4_storms import (
    Cluster,
    at,
    grouping,
    groups,
    history,
    iso,
    last_ticket_state,
    pod,
    quiet_route,
    settle,
    silence,
    webhook,
)
from test_redteam_round5_storms import again, late
from triage.errors import SinkUnavailableError
from triage.incidents import Ledger
from triage.incidents.dynamodb import DynamoDBStore, create_table
from triage.incidents.sqlite import SQLiteStore
from triage.incidents.store import Store
from triage.sinks.base import Applied, Effect
from triage.sqs.inbox import Message

#: A route for an event-only source (a cron script that never resolves): closed after 10 min
#: without an alert.
EVENTS = """
[[route]]
name = "cron"
sinks = ["backend"]
resolve_after_s = 600
[route.match]
source = ["generic"]
"""

#: Receipt handles of redeliveries: SQS hands out a new one on every receive.
_RECEIPTS = itertools.count()


def event(minutes: float) -> str:
    """The script's alert, stamped `minutes` after T0."""
    body = {"title": "disk full on db-1", "source": "cron", "timestamp": iso(at(minutes))}
    return json.dumps(body)


def events_route(tmp_path: Path) -> Cluster:
    """Two replicas on the event-only route."""
    routes = tmp_path / "routes.toml"
    routes.write_text(EVENTS)
    return Cluster(routes=str(routes))


def received_again(m: Message, minutes: float) -> Message:
    """`m` received once more at `minutes`: a new receipt handle, its receive count raised."""
    handle = f"rh-again-{next(_RECEIPTS)}"
    return Message(m.id, m.body, handle, m.receive_count + 1, m.sent_at, received_at=at(minutes))


@dataclass
class YieldingSink(FakeSink):
    """A backend that answers after a few turns of the event loop (as any network call does),
    so another replica's claim runs meanwhile, and fails `flaky` of its calls with a 503."""

    rng: random.Random = field(default_factory=random.Random)
    flaky: float = 0.0

    async def apply(self, effect: Effect) -> Applied:
        for _ in range(self.rng.randint(0, 4)):
            await asyncio.sleep(0)
        if self.rng.random() < self.flaky:
            raise SinkUnavailableError("503 from the backend")
        return await super().apply(effect)


def on_stores(c: Cluster, stores: Sequence[Store], seed: int) -> Cluster:
    """`c` with a yielding sink and one replica per store in `stores` (the first is the one
    the cluster reads and sweeps)."""
    c.sink = YieldingSink(rng=random.Random(seed))
    c.store = stores[0]  # type: ignore[assignment]
    c.pipelines = []
    for store in stores:
        pipeline = c._pipeline()
        pipeline.ledger = Ledger(store, clock=c.clock)
        c.pipelines.append(pipeline)
    return c


def racy(c: Cluster, seed: int) -> Cluster:
    """`c`'s two replicas on its one memory store, with a yielding sink."""
    return on_stores(c, [c.store, c.store], seed)


async def at_least_once(c: Cluster, events: list[tuple[float, str]], seed: int) -> None:
    """SQS as it is: every event queued, a third of them delivered twice, all in a shuffled
    order, three at a time to the two replicas at once, with a sweep pass beside them every
    other time; a delivery that fails (an effect in progress elsewhere, a group gathering, the
    sink's 503) comes back later with a new receipt handle. No sweep may fail."""
    rng = random.Random(seed)
    queue = [c.message(body, minutes) for minutes, body in events]
    twice = rng.sample(queue, len(queue) // 3)
    queue += [received_again(m, (m.received_at - at(0)).total_seconds() / 60) for m in twice]
    rng.shuffle(queue)
    now = max(minutes for minutes, _ in events)
    for _ in range(800):
        if not queue:
            return
        batch, queue = queue[:3], queue[3:]
        now += 0.01
        c.clock.now = at(now)
        jobs: list[Awaitable[object]] = [c.pipelines[n % 2].process(m) for n, m in enumerate(batch)]
        outcomes = await asyncio.gather(*jobs, return_exceptions=True)
        if rng.random() < 0.5:
            await c.sweep(owner=f"sweep-{rng.randint(0, 1)}").once()
        queue += [
            received_again(m, now)
            for m, outcome in zip(batch, outcomes, strict=True)
            if isinstance(outcome, BaseException)
        ]
    pytest.fail(f"{len(queue)} messages never went through")


#: A group's storm: three pods firing and resolving in turn, api-2 left firing.
GROUP_STORM = history(0, 4, 10) + history(1, 4, 10, first_s=5) + history(2, 5, 10, first_s=3)


async def group_ends_open_and_shown_so(c: Cluster, seed: int) -> None:
    """Run the group storm: one ticket, one summary, and once settled the ticket shows the
    group open, listing each member in the state the store holds."""
    await at_least_once(c, GROUP_STORM, seed)
    c.sink.flaky = 0  # type: ignore[attr-defined]
    await settle(c, 3)
    assert c.kinds().count("open") == 1 and c.summariser.calls == 1, c.kinds()
    assert last_ticket_state(c) == "open", c.kinds()
    shown = c.sink.effects[-1].alert.group
    [stored] = await groups(c)
    assert shown is not None and stored.group is not None
    assert sorted((m.fingerprint, str(m.status)) for m in shown.members) == sorted(
        (fp, str(m.status)) for fp, m in stored.group.members.items()
    )


async def flap_ends_closed(c: Cluster, seed: int) -> None:
    """Run twelve fire/resolve events 10 s apart: one ticket at most, and once settled the
    ticket and the store say closed, as the newest event does."""
    await at_least_once(c, history(0, 12, 10), seed)
    c.sink.flaky = 0  # type: ignore[attr-defined]
    await settle(c, 3)
    assert c.kinds().count("open") <= 1 and c.summariser.calls <= 1, c.kinds()
    assert last_ticket_state(c) in (None, "closed"), c.kinds()
    [stored] = await c.store.incidents()
    assert str(stored.state) == "closed"


# --- two replicas at once, duplicates, retries and a flaky sink --------------------------------


@pytest.mark.parametrize("seed", range(6))
async def test_a_flapping_alert_taken_by_two_replicas_at_once_ends_closed(seed: int) -> None:
    """A check flapping every 10 s, some events delivered twice, taken by two replicas at the
    same moment while the sink answers slowly and the sweep runs beside them: one ticket,
    closed at the end."""
    await flap_ends_closed(racy(Cluster(), seed), seed)


@pytest.mark.parametrize("seed", range(6))
async def test_a_gathering_group_taken_by_two_replicas_at_once_is_one_ticket_shown_right(
    tmp_path: Path, seed: int
) -> None:
    """A group with a 30 s window whose members fire and resolve in turn, every event shuffled,
    some twice, two replicas at once: one ticket, and its last word lists every member as
    the store has it."""
    await group_ends_open_and_shown_so(racy(grouping(tmp_path, window_s=30), seed), seed)


@pytest.mark.parametrize("seed", range(6))
async def test_a_group_storm_through_a_sink_failing_a_third_of_its_calls_is_one_ticket(
    tmp_path: Path, seed: int
) -> None:
    """The same storm while the backend fails a third of its calls with a 503, each failed
    message retried: still one ticket, shown as the store has it once the sink is back."""
    c = racy(grouping(tmp_path, window_s=30), seed)
    c.sink.flaky = 0.3  # type: ignore[attr-defined]
    await group_ends_open_and_shown_so(c, seed)


@pytest.mark.parametrize("seed", range(6))
async def test_six_pods_taken_by_two_replicas_at_once_are_six_tickets(seed: int) -> None:
    """Six ungrouped pods firing, resolving and firing again, shuffled, some twice, two
    replicas at once: one ticket and one summary per pod, and all six open at the end."""
    c = racy(Cluster(), seed)
    events = [e for p in range(6) for e in history(p, 3, 10, first_s=p)]
    await at_least_once(c, events, seed)
    await settle(c, 3)
    opens = Counter(e.fingerprint for e in c.sink.effects if str(e.kind) == "open")
    assert len(opens) == 6 and set(opens.values()) == {1} and c.summariser.calls == 6
    assert [str(i.state) for i in await c.store.incidents()] == ["open"] * 6


@pytest.mark.parametrize("seed", range(6))
async def test_a_group_storm_whose_silence_ends_midway_is_one_ticket_shown_right(
    tmp_path: Path, seed: int
) -> None:
    """The group storm under a silence of its namespace that ends 18 s into it, two replicas
    at once: once the silence is over, one ticket, listing every member as the store has it."""
    c = racy(grouping(tmp_path, window_s=30, silenced=True), seed)
    c.clock.now = at(0.7)
    await silence(c, "namespace=shop", hours=0.3 / 60)
    await group_ends_open_and_shown_so(c, seed)


@pytest.mark.parametrize("seed", range(6))
async def test_two_members_flapping_for_minutes_through_a_flaky_sink_are_one_ticket(
    tmp_path: Path, seed: int
) -> None:
    """Two pods of one group each fire and resolve every 10 s for about seven minutes (81
    events, damped once they flap), a fifth of the sink's calls failing, two replicas at
    once: one ticket and one summary, open at the end as api-1 is firing."""
    c = racy(grouping(tmp_path, window_s=30), seed)
    c.sink.flaky = 0.2  # type: ignore[attr-defined]
    await at_least_once(c, history(0, 40, 10) + history(1, 41, 10, first_s=5), seed)
    c.sink.flaky = 0  # type: ignore[attr-defined]
    await settle(c, 8)
    assert c.kinds().count("open") == 1 and c.summariser.calls == 1, c.kinds()
    assert last_ticket_state(c) == "open", c.kinds()
    [stored] = await groups(c)
    assert str(stored.state) == "open"


# --- replicas sharing SQLite (one host) or DynamoDB ---------------------------------------------


@pytest.fixture(params=["sqlite", "dynamodb"])
async def shared(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[list[Store]]:
    """Two replicas' stores, each on its own connection: to one SQLite file (two processes on
    one host) or to one DynamoDB table on moto."""
    if request.param == "sqlite":
        path = str(tmp_path / "t.db")
        stores = [SQLiteStore(path, POLICY, LEASE, timedelta(days=30)) for _ in "ab"]
        for store in stores:
            await store.open()
        yield list(stores)
        for store in stores:
            await store.aclose()
        return
    moto_url = request.getfixturevalue("moto_url")
    table = f"incidents-{uuid.uuid4().hex[:8]}"
    async with (
        loopback_aws_client("dynamodb", endpoint_url=moto_url) as a,
        loopback_aws_client("dynamodb", endpoint_url=moto_url) as b,
    ):
        await create_table(a, table)
        yield [DynamoDBStore(client, table, POLICY, LEASE, timedelta(days=30)) for client in (a, b)]


@pytest.mark.parametrize("seed", range(3))
async def test_a_group_storm_on_a_shared_store_is_one_ticket_shown_right(
    tmp_path: Path, shared: list[Store], seed: int
) -> None:
    """The group storm with each replica on its own connection to one SQLite file or one
    DynamoDB table: one ticket, shown as the store has it."""
    c = on_stores(grouping(tmp_path, window_s=30), shared, seed)
    await group_ends_open_and_shown_so(c, seed)


@pytest.mark.parametrize("seed", range(3))
async def test_a_flapping_alert_on_a_shared_store_ends_closed(
    shared: list[Store], seed: int
) -> None:
    """The flapping check with each replica on its own connection to one SQLite file or one
    DynamoDB table: one ticket, closed at the end."""
    await flap_ends_closed(on_stores(Cluster(), shared, seed), seed)


# --- `resolve_after_s` racing late, duplicated and concurrent alerts --------------------------


async def test_a_repeat_delivered_after_the_quiet_close_reopens_the_ticket(tmp_path: Path) -> None:
    """The script's repeat at minute 9 waits in SQS until minute 11; the sweep closed the
    incident for 10 minutes without an alert at 10.5. The repeat is an alert the source sent
    while the problem went on: it reopens the ticket rather than being dropped as older."""
    c = events_route(tmp_path)
    await c.deliver(c.message(event(0), 0))
    stuck = late(c, event(9), 9, 11)
    c.clock.now = at(10.5)
    await c.sweep().once()
    await c.deliver(stuck, 1)
    assert c.kinds() == ["open", "close", "reopen"]
    [stored] = await c.store.incidents()
    assert str(stored.state) == "open"


async def test_a_duplicate_of_the_opening_message_after_the_quiet_close_reopens_nothing(
    tmp_path: Path,
) -> None:
    """The message that opened the ticket comes again after the quiet close (its delete was
    lost, its visibility ran out): it was counted, so the closed ticket stays closed."""
    c = events_route(tmp_path)
    first = c.message(event(0), 0)
    await c.deliver(first)
    c.clock.now = at(10.5)
    await c.sweep().once()
    await c.deliver(again(first, 11), 1)
    assert c.kinds() == ["open", "close"]


async def test_a_duplicate_after_a_close_by_hand_reopens_nothing() -> None:
    """An operator closes a firing alert's incident; then SQS delivers the opening message
    again: a duplicate, not a re-send, so the ticket stays closed."""
    c = Cluster()
    first = c.message(webhook([pod(0)]), 0)
    await c.deliver(first)
    c.clock.now = at(5)
    [incident] = await c.store.incidents()
    await c.pipelines[0].close(incident.fingerprint, "op", "fixed", "alice")
    await c.deliver(again(first, 6), 1)
    assert c.kinds() == ["open", "close"]


@pytest.mark.parametrize("order", ["sweep first", "alert first", "at once"])
async def test_a_member_joining_as_the_quiet_close_runs_leaves_the_group_open(
    tmp_path: Path, order: str
) -> None:
    """A group quiet for 10.5 minutes gets a new pod firing the moment one replica's sweep
    would close it for quiet: whichever goes first, or both at once, the group ends open with
    its ticket showing it open (the close, if it went, is followed by a reopen)."""
    c = quiet_route(tmp_path, grouped=True)
    await c.deliver(c.message(webhook([pod(0), pod(1)]), 0))
    joining: Message = c.message(webhook([pod(2, minutes=10.4)]), 10.5)
    c.clock.now = at(10.5)
    if order == "sweep first":
        await c.sweep().once()
        await c.pipelines[1].process(joining)
    elif order == "alert first":
        await c.pipelines[1].process(joining)
        await c.sweep().once()
    else:
        await asyncio.gather(c.sweep().once(), c.pipelines[1].process(joining))
    [group] = await groups(c)
    assert str(group.state) == "open"
    assert last_ticket_state(c) == "open"
