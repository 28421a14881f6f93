"""An effect a message's alert claimed whose replica was killed mid-way (SIGKILL: no release, no
note for the retry) is finished by the sweep from the stored incident, when the message never
comes back for it: its retry routed elsewhere (a routes change rolling out), or another delivery
of it acked it. Until the lease is over, and a grace after it for the message's own retry, the
sweep leaves it alone; the repeat and new-incident paths cost no more store calls for it. Last,
a move between groups that races a newer firing in the group it leaves (another case of an
alert left in two places, found by the same model)."""

from __future__ import annotations

import asyncio
import json
from collections import Counter
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path

import pytest

from factories import T0, alert
from fault_proxy import FaultProxy
from memory_store import MemoryStore
from moto_speed import loopback_aws_client
from recording_pipeline import Sink, Summariser
from test_lifecycle_model import (
    LEASE,
    ROUTES,
    Service,
    World,
    check_rolling,
    drain,
    play,
    sent,
)
from test_pipeline import Clock
from triage.incidents.dynamodb import DynamoDBStore, create_table
from triage.incidents.groups import GroupKey
from triage.incidents.ledger import Ledger
from triage.incidents.lifecycle import Action, Policy, State
from triage.incidents.silences import SilenceCache
from triage.incidents.store import ABANDONED_GRACE
from triage.metrics import Metrics
from triage.models import EffectKind, Status
from triage.ops.sweep import Sweep
from triage.pipeline import Pipeline
from triage.redact import Redactor
from triage.sqs.inbox import Message

POLICY = Policy(update_interval=timedelta(minutes=15), reopen_window=timedelta(hours=1))


@pytest.fixture
def routes(tmp_path: Path) -> Path:
    path = tmp_path / "routes.toml"
    path.write_text(ROUTES)
    return path


@pytest.fixture
async def rolling(tmp_path: Path, routes: Path) -> AsyncIterator[World]:
    """Two replicas sharing the in-memory store while a routes change rolls out: r0 runs the
    routes before the grouping route was added, r1 after."""
    made = World(
        "memory",
        tmp_path,
        Clock(),
        {n: Service(n) for n in ("backend", "github")},
        routes,
        ungrouped=frozenset({"r0"}),
    )
    await made.start(2)
    yield made
    await made.stop()


# --- Through the replicas: crash schedules the lifecycle model found ---------------------------


async def test_a_close_left_by_a_replica_killed_beside_the_delivery_that_acked_is_finished(
    rolling: World,
) -> None:
    """A resolve handed to a replica on each routes at once: the one on the old routes dies
    after its close's first sink, the other acks the message; the sweep finishes that close
    (it stayed pending for good, the ticket open at the second service)."""
    old, new = rolling.replicas
    rolling.clock.now = T0 + timedelta(minutes=3)
    await rolling.deliver(old, await sent(rolling, "disk-1", "firing", 0, "a"))
    old.faults.crash = True
    resolve = await sent(rolling, "disk-1", "resolved", 1, None)
    await asyncio.gather(rolling.deliver(new, resolve), rolling.deliver(old, resolve))
    assert resolve.end == "acked"
    assert await rolling_left(rolling) == []


async def test_a_seeded_crash_schedule_leaves_no_claim_pending(
    tmp_path: Path, routes: Path
) -> None:
    """Seed 646 of the rolling lifecycle model, cut down: a replica on the old routes dies
    closing an alert's own incident while another delivery of the resolve acks it; nothing is
    left pending once the queue and the sweep are drained (the close stayed pending)."""
    run = [
        ("send", "disk-1", "firing", None, -271, "b"),
        ("deliver", 2, 0.8466719345240914, False),
        ("send", "disk-1", "firing", None, -125, "a"),
        ("send", "api-5xx", "firing", None, -207, None),
        ("deliver2", 2, 0, 0.7501907069911677, 0.6051653206346921, True),
        ("deliver", 0, 0.5707811612338624, False),
        ("send", "queue-lag", "firing", None, -91, None),
        ("deliver", 0, 0.922159770687872, False),
        ("crash", 0),
        ("send", "api-5xx", "resolved", None, -146, None),
        ("send", "queue-lag", "firing", None, -262, None),
        ("send", "disk-1", "resolved", None, -79, None),
        ("deliver", 2, 0.5786610879279673, False),
        ("send", "disk-2", "firing", 1, -211, "a"),
        ("send", "queue-lag", "resolved", None, -270, None),
        ("deliver2", 2, 1, 0.9457351354993215, 0.7420425997698438, True),
        ("deliver2", 1, 0, 0.5547072531402724, 0.11518791782707738, True),
    ]
    problems, steps = await play(3, run, "memory", tmp_path, routes, ungrouped=frozenset({"r0"}))
    assert problems == [], "\n".join(steps)


async def rolling_left(world: World) -> list[str]:
    """Drained (queue and sweep): what the rolling check finds."""
    await drain(world)
    return await check_rolling(world)


# --- The sweep and the store: when a message's claim is the sweep's, and what it writes ---------


def one_sink_pipeline(store: MemoryStore, clock: Clock) -> tuple[Pipeline, Sink, Sweep]:
    """A pipeline on `store` with one recording sink, and its sweep (on `clock`)."""
    sink = Sink()
    pipeline = Pipeline(
        Ledger(store, clock), Summariser(), [sink], Metrics(), redactor=Redactor(), policy=POLICY
    )
    silences = SilenceCache(store, max_age_s=0)
    sweep = Sweep(store, pipeline, silences, None, 1.0, owner="sweep", clock=clock)
    return pipeline, sink, sweep


async def test_a_killed_replicas_open_is_sent_by_the_sweep_once_its_message_had_its_turn() -> None:
    """An open a message's alert claimed, its replica killed before any sink heard of it, is
    left to the message's retry until the lease and a grace after it are over; then the sweep
    sends it, summarised from the stored incident, with the claim's idempotency key (it stayed
    pending for good: the incident open, no ticket anywhere)."""
    store, clock = MemoryStore(POLICY, LEASE), Clock()
    _, sink, sweep = one_sink_pipeline(store, clock)
    claimed = await store.begin(alert(), "m1#0@d1", T0)
    fingerprint = claimed.fingerprint
    turn = T0 + LEASE + ABANDONED_GRACE
    clock.now = turn - timedelta(seconds=1)
    await sweep.once()
    assert sink.effects == []
    clock.now = turn
    await sweep.once()
    [effect] = sink.effects
    assert (effect.kind, effect.idempotency_key) == (EffectKind.OPEN, claimed.idempotency_key)
    assert (effect.alert.title, effect.alert.status) == ("api-5xx is failing", Status.FIRING)
    stored = await store.get(fingerprint)
    assert stored is not None and stored.pending is None and stored.refs == {"backend": "T-1"}


async def test_a_killed_replicas_close_is_sent_resolved_as_the_stored_incident_says() -> None:
    """A close a message's alert claimed, its replica killed after the claim, goes out from
    the sweep as the incident's resolve, to the sink that holds its ticket (it was never sent,
    the ticket open for good)."""
    store, clock = MemoryStore(POLICY, LEASE), Clock()
    pipeline, sink, sweep = one_sink_pipeline(store, clock)
    await pipeline.process(message("m0", 0, "firing"))
    claimed = await store.begin(alert(status=Status.RESOLVED, minutes=1), "m1#0@d1", T0)
    assert claimed.action is Action.CLOSE
    clock.now = T0 + LEASE + ABANDONED_GRACE
    await sweep.once()
    _, closed = sink.effects
    assert (closed.kind, closed.ref, closed.alert.status) == (
        EffectKind.CLOSE,
        "T-1",
        Status.RESOLVED,
    )
    stored = await store.get(claimed.fingerprint)
    assert stored is not None and stored.state is State.CLOSED and stored.pending is None


async def test_a_failed_claim_of_a_message_waits_before_the_sweep_takes_it_again() -> None:
    """A message's claim given back on failure is the message's retry's at once, and the
    sweep's only 30 s later, then twice as long after each further failure (a sink that is down
    is not called every pass)."""
    store = MemoryStore(POLICY, LEASE)
    claimed = await store.begin(alert(), "m1#0@d1", T0)
    fingerprint = claimed.fingerprint
    await store.release(fingerprint, "m1#0@d1")
    second = timedelta(seconds=1)
    assert await store.due(T0 + 29 * second) == []
    assert await store.take_over(fingerprint, "sweep", T0 + 29 * second) is None
    retry = await store.begin(alert(), "m1#0@d2", T0 + second)
    assert retry.action is Action.OPEN
    await store.release(fingerprint, "m1#0@d2")
    stored = await store.get(fingerprint)
    assert stored is not None and stored.pending is not None
    assert stored.pending.attempts == 2
    assert await store.take_over(fingerprint, "sweep", T0 + 60 * second) is None
    assert await store.take_over(fingerprint, "sweep", T0 + 61 * second) is not None


async def test_a_gathering_groups_first_ticket_is_the_sweeps_only_once_its_window_closed() -> None:
    """A group's first ticket waits for members; when its alert's message never comes back
    for it (its retry routed elsewhere), the sweep opens it once the window is over, and not
    before (it was never opened, the group open in the store alone)."""
    store, clock = MemoryStore(POLICY, LEASE), Clock()
    _, sink, sweep = one_sink_pipeline(store, clock)
    window = timedelta(minutes=10)
    group = GroupKey.of("default", ("host",), {"host": "a"}, window.total_seconds(), str)
    claimed = await store.begin(alert("disk-1"), "m1#0@d1", T0, group)
    assert claimed.after is not None and claimed.after.pending is not None
    assert claimed.after.pending.not_before == T0 + window
    clock.now = T0 + window - timedelta(seconds=1)
    await sweep.once()
    assert sink.effects == []
    clock.now = T0 + window
    await sweep.once()
    [effect] = sink.effects
    assert effect.kind is EffectKind.OPEN and effect.alert.group is not None


def message(message_id: str, minutes: float, status: str) -> Message:
    """A generic alert for api-5xx, stamped `minutes` after T0, queued and received then."""
    at = T0 + timedelta(minutes=minutes)
    body = {
        "title": "api-5xx is failing",
        "dedup_key": "api-5xx",
        "status": status,
        "timestamp": at.isoformat(),
    }
    return Message(message_id, json.dumps(body), f"rh-{message_id}", 1, at, received_at=at)


# --- What it costs: DynamoDB calls per message, counted in front of moto's server ---------------

#: The calls a message makes: a new incident (its read, the member look-up and the look-up of
#: a group a first join or a move was going to, `Moves.leave_group`, then the claim, the
#: ticket, the body its effect sends kept before the first sink call (`sent`: its read and
#: write) and the confirmation), a repeat (one conditional write on the copy its task keeps)
#: and a close (the member look-up, the look-up of a group a move was going to, and a read,
#: then its claim, its kept body (read from the task's copy) and confirmation:
#: `Members.resolve_targets`).
CALLS = [
    ("open", {"GetItem": 4, "PutItem": 4}),
    ("count", {"PutItem": 1}),
    ("count", {"PutItem": 1}),
    ("close", {"GetItem": 3, "PutItem": 3}),
]


async def test_a_new_incident_and_a_repeat_cost_no_more_dynamodb_calls(moto_url: str) -> None:
    """A new incident, two repeats and a close make exactly these calls: a claim's entry in
    the sweep index goes in the claim's own write, never in a call of its own, and each
    effect's body is kept (`sent`) in one write before its first sink call."""
    async with loopback_aws_client("dynamodb", endpoint_url=moto_url) as plain:
        await create_table(plain, "incidents")
    with FaultProxy(moto_url) as proxy:
        async with loopback_aws_client("dynamodb", endpoint_url=proxy.url) as client:
            store = DynamoDBStore(client, "incidents", POLICY, LEASE, timedelta(days=30))
            clock = Clock()
            pipeline = Pipeline(
                Ledger(store, clock), Summariser(), [Sink()], Metrics(), redactor=Redactor(),
                policy=POLICY,
            )  # fmt: skip
            made = []
            for n, status in enumerate(("firing", "firing", "firing", "resolved")):
                clock.at(n)
                before = calls(proxy)
                [outcome] = await pipeline.process(message(f"m{n}", n, status))
                made.append((str(outcome.action), dict(calls(proxy) - before)))
    assert made == CALLS


def calls(proxy: FaultProxy) -> Counter[str]:
    """The DynamoDB calls the proxy relayed so far, by operation."""
    names = ("GetItem", "PutItem", "Query", "Scan", "UpdateItem", "DeleteItem")
    return Counter({name: proxy.requests(f"DynamoDB_20120810.{name}") for name in names})


# --- A move racing a newer firing in the group it leaves ----------------------------------------


async def test_a_move_older_than_a_firing_counted_beside_it_in_the_group_it_left_is_undone(
    tmp_path: Path, routes: Path
) -> None:
    """Seed 795 of the lifecycle model, cut down: a member's firing under host b's labels
    (stamped as its firing in host a) moves it while a newer firing under host a's is counted
    there on another replica, which finds it still remembered in host a; the move's firing is
    the late one: it resolves in host b, and the member is remembered in host a again (it fired
    in both groups, remembered in the one its newest event did not name)."""
    run = [
        ("send", "disk-1", "firing", None, -82, "a"),
        ("send", "disk-2", "firing", None, -96, "a"),
        ("deliver", 0, 0.4241986656661134, False),
        ("send", "api-5xx", "firing", 7, -141, None),
        ("deliver", 0, 0.36750976896981613, False),
        ("send", "api-5xx", "firing", None, -168, None),
        ("send", "queue-lag", "resolved", None, 9, None),
        ("deliver", 0, 0.4688789403339255, False),
        ("send", "api-5xx", "firing", None, -176, None),
        ("send", "queue-lag", "firing", None, -31, None),
        ("send", "queue-lag", "firing", None, -126, None),
        ("deliver", 0, 0.16019391464512045, False),
        ("send", "disk-2", "firing", 7, -246, "b"),
        ("clock", 121.0),
        ("deliver", 1, 0.7228818037447726, False),
        ("deliver", 1, 0.2929704759818226, False),
        ("send", "queue-lag", "resolved", None, 10, None),
        ("send", "disk-2", "firing", None, -199, "a"),
        ("send", "disk-1", "resolved", 7, -218, "a"),
        ("send", "disk-1", "resolved", 5, 5, None),
        ("deliver2", 1, 2, 0.28637788520878826, 0.5824312608898818, False),
    ]
    problems, steps = await play(3, run, "memory", tmp_path, routes)
    assert problems == [], "\n".join(steps)
