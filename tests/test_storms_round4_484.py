"""Round 4 (helper 484): storms, flapping, dedup and priority, red-teamed then fixed. The real
Pipeline on one in-memory store (one or two replicas sharing it), a recording backend, and
messages as SQS hands them out: each test a behaviour a user relies on, or a bug found here
and fixed with it."""

from __future__ import annotations

import asyncio
import dataclasses
import json
from datetime import timedelta
from pathlib import Path

import pytest
from structlog.testing import capture_logs

from test_priority_raised_446 import StatedSummariser
from test_redteam_round4_storms import Cluster, at, grouping, groups, iso, members, pod, webhook
from triage.errors import GatheringError
from triage.incidents.lifecycle import State
from triage.models import EffectKind, Priority


def script(status: str, minutes: float, priority: str = "P2", key: str = "api-5xx") -> str:
    """A script's generic alert `key` at `priority`, stamped `minutes` after T0."""
    return json.dumps({
        "title": f"{key} is failing", "source": "script", "status": status,
        "priority": priority, "dedup_key": key, "timestamp": iso(at(minutes)),
    })  # fmt: skip


def stating(cluster: Cluster) -> Cluster:
    """`cluster` whose tickets open at the priority their alert states."""
    for pipeline in cluster.pipelines:
        pipeline.summariser = StatedSummariser()
    return cluster


async def flapped(cluster: Cluster, times: int = 4, priority: str = "P2") -> float:
    """Fire and resolve `times` times, a second apart (a check flapping): the minute after
    the last resolve."""
    minutes = 0.0
    for _ in range(times):
        await cluster.deliver(cluster.message(script("firing", minutes, priority), minutes))
        resolved = minutes + 1 / 60
        await cluster.deliver(cluster.message(script("resolved", resolved, priority), resolved))
        minutes += 2 / 60
    return minutes


# --- Flapping --------------------------------------------------------------------------------


async def test_a_raise_while_a_flapping_close_waits_updates_the_ticket_at_once() -> None:
    """A flapping incident resolved (its close held for the quiet period) fires again at a
    higher priority: the ticket, open all along, is raised at once (one update) and stays
    open, rather than the firing waiting out the quiet period and then costing a close and
    a reopen."""
    c = stating(Cluster())
    minutes = await flapped(c)
    assert c.kinds() == ["open", "close", "reopen", "close", "reopen", "close", "reopen"]
    [incident] = await c.store.incidents()
    assert incident.close_held_until is not None
    actions = await c.deliver(c.message(script("firing", minutes, "P0"), minutes))
    assert [str(a) for a in actions] == ["update"]
    raised = c.sink.effects[-1]
    assert raised.kind is EffectKind.UPDATE
    assert (raised.ticket.priority, raised.priority_was) == (Priority.CRITICAL, Priority.MEDIUM)
    [incident] = await c.store.incidents()
    assert incident.state is State.OPEN and incident.close_held_until is None
    assert incident.pending is None


def crash_loop(i: int, status: str, minutes: float, severity: str) -> dict[str, object]:
    """Pod `i` of the crash-loops group, with Alertmanager's `severity` label."""
    listed = pod(i, status, minutes)
    listed["labels"] |= {"severity": severity}
    return listed


async def test_a_members_raise_while_a_flapping_groups_close_waits_updates_it_at_once(
    tmp_path: Path,
) -> None:
    """A flapping group (one pod firing and resolving) resolved, its close held; another pod
    fires at critical meanwhile: the group's ticket is raised at once, one update, rather
    than the member waiting out the quiet period and then costing a close and a reopen."""
    c = stating(grouping(tmp_path))
    minutes = 0.0
    for _ in range(4):
        await c.deliver(c.message(webhook([crash_loop(0, "firing", minutes, "warning")]), minutes))
        resolved = minutes + 1 / 60
        sent = webhook([crash_loop(0, "resolved", resolved, "warning")])
        await c.deliver(c.message(sent, resolved))
        minutes += 2 / 60
    assert c.kinds() == ["open", "close", "reopen", "close", "reopen", "close", "reopen"]
    sent = webhook([crash_loop(1, "firing", minutes, "critical")])
    assert [str(a) for a in await c.deliver(c.message(sent, minutes))] == ["update"]
    raised = c.sink.effects[-1]
    assert (raised.ticket.priority, raised.priority_was) == (Priority.CRITICAL, Priority.MEDIUM)
    [group] = await groups(c)
    assert group.state is State.OPEN and group.close_held_until is None and group.pending is None
    assert members(group) == 2


# --- Out of order and duplicates ---------------------------------------------------------------


def published(mid: str, body: str) -> str:
    """`body` in the SNS envelope of publish `mid` (SNS may deliver one publish twice)."""
    return json.dumps({
        "Type": "Notification", "MessageId": mid, "Message": body, "Timestamp": iso(at(0)),
        "TopicArn": "arn:aws:sns:us-east-1:123456789012:checks",
    })  # fmt: skip


async def test_a_storm_of_repeats_handed_out_of_order_counts_every_one() -> None:
    """200 repeats of one open incident, each its own message, SQS handing them to two
    replicas newest first (a standard queue keeps no order): all 200 are counted, not only
    the first taken, as each happened while the incident fired; one ticket, no update yet."""
    c = Cluster()
    firings = [c.message(script("firing", i / 600), 0.5) for i in range(200)]
    for i, message in enumerate(reversed(firings)):
        await c.deliver(message, i % 2)
    [incident] = await c.store.incidents()
    assert (incident.occurrences, c.kinds()) == (200, ["open"])
    assert incident.last_event_at == at(199 / 600)


async def test_a_late_repeat_delivered_again_or_published_twice_is_counted_once() -> None:
    """A late repeat (older than the newest counted) is counted once: its message handed out
    again by SQS adds nothing, and neither does the second SQS message of an SNS publish
    delivered twice, arriving late on the other replica after the first copy's delete was
    confirmed and newer repeats were counted."""
    c = Cluster()
    await c.deliver(c.message(script("firing", 0), 0))
    await c.deliver(c.message(script("firing", 2), 2))
    late = c.message(script("firing", 1), 2.1, mid="late")
    assert [str(a) for a in await c.deliver(late)] == ["count"]
    again = c.message(script("firing", 1), 2.2, mid="late", count=2)
    assert [str(a) for a in await c.deliver(again, 1)] == ["ignore"]
    twin = published("sns-1", script("firing", 3))
    first, second = c.message(twin, 3), c.message(twin, 3)
    assert [str(a) for a in await c.deliver(first)] == ["count"]
    for confirmed in first.on_deleted:
        confirmed()
    await c.deliver(c.message(script("firing", 4), 4))
    assert [str(a) for a in await c.deliver(second, 1)] == ["ignore"]
    [incident] = await c.store.incidents()
    assert incident.occurrences == 5


async def test_a_late_firing_after_the_resolve_stays_ignored_and_is_said_once() -> None:
    """A firing older than the resolve applied (SQS handing the resolve out first) opens or
    reopens nothing, counts nothing, and is one `alert.decided` line saying `ignore`."""
    c = Cluster()
    await c.deliver(c.message(script("firing", 0), 0))
    await c.deliver(c.message(script("resolved", 2), 2))
    with capture_logs() as logs:
        assert [str(a) for a in await c.deliver(c.message(script("firing", 1), 2.1))] == ["ignore"]
    said = [line for line in logs if line["event"] == "alert.decided"]
    assert [line["action"] for line in said] == ["ignore"]
    [incident] = await c.store.incidents()
    assert (incident.state, incident.occurrences, c.kinds()) == (State.CLOSED, 1, ["open", "close"])


async def test_a_firing_stamped_in_2999_or_at_the_epoch_neither_holds_nor_loses_the_incident() -> (
    None
):
    """A firing stamped in 2999 (a clock gone wrong) opens the incident and a real resolve a
    minute later still closes it; a firing stamped at the epoch (a time left unset) is dated
    when it was queued, so it reopens after that resolve rather than being dropped as old."""
    c = Cluster()
    ahead = json.loads(script("firing", 0))
    assert [
        str(a)
        for a in await c.deliver(
            c.message(json.dumps(ahead | {"timestamp": "2999-01-01T00:00:00Z"}), 0)
        )
    ] == ["open"]
    assert [str(a) for a in await c.deliver(c.message(script("resolved", 1), 1))] == ["close"]
    unset = json.dumps(ahead | {"timestamp": "1970-01-01T00:00:00Z"})
    assert [str(a) for a in await c.deliver(c.message(unset, 2))] == ["reopen"]
    assert c.kinds() == ["open", "close", "reopen"]


# --- Flapping edges ----------------------------------------------------------------------------


async def test_dozens_of_flaps_in_seconds_are_one_ticket_with_three_reopens_and_one_held_close() -> (
    None
):
    """Fire and resolve 30 times a second apart: one ticket, three closes and three reopens
    (the third says it flaps), then every resolve damped and every firing counted with no
    effect; the sweep after the quiet period closes the ticket once, saying it waited."""
    c = Cluster()
    await flapped(c, times=30)
    assert c.kinds() == ["open", "close", "reopen", "close", "reopen", "close", "reopen"]
    assert [e.flapping for e in c.sink.effects] == [False] * 6 + [True]
    [incident] = await c.store.incidents()
    assert incident.occurrences == 30 and incident.close_held_until is not None
    c.clock.now = incident.close_held_until - timedelta(seconds=1)
    await c.sweep().once()
    assert len(c.kinds()) == 7
    c.clock.now = incident.close_held_until
    await c.sweep().once()
    await c.sweep("sweep-b").once()
    assert c.kinds()[7:] == ["close"]
    assert "resolving and firing again" in c.sink.effects[-1].alert.title


async def test_a_refire_at_the_reopen_windows_edge_reopens_and_just_after_opens_anew() -> None:
    """Closed at minute 1: a firing exactly one reopen window (an hour) later reopens the
    ticket; closed again, a firing an instant past the window opens a new ticket."""
    c = Cluster()
    await c.deliver(c.message(script("firing", 0), 0))
    await c.deliver(c.message(script("resolved", 1), 1))
    assert [str(a) for a in await c.deliver(c.message(script("firing", 61), 61))] == ["reopen"]
    await c.deliver(c.message(script("resolved", 62), 62))
    past = 122 + 1 / 60_000_000
    assert [str(a) for a in await c.deliver(c.message(script("firing", past), past))] == ["open"]
    assert c.kinds() == ["open", "close", "reopen", "close", "open"]


# --- Storms ------------------------------------------------------------------------------------


async def test_500_distinct_alerts_in_a_second_over_two_replicas_are_one_group_counted_exactly(
    tmp_path: Path,
) -> None:
    """500 pods crash-looping within a second, each its own message, taken by two replicas
    at once: one group, one ticket and one summary, 500 members firing; the same 500 resolving,
    each delivered twice, close it once."""
    c = grouping(tmp_path)
    firing = [c.message(webhook([pod(i, minutes=i / 30_000)]), 0.01) for i in range(500)]
    await asyncio.gather(*(c.deliver(m, i % 2) for i, m in enumerate(firing)))
    [group] = await groups(c)
    assert (members(group), group.occurrences, c.kinds()) == (500, 500, ["open"])
    assert c.summariser.calls == 1
    resolved = [webhook([pod(i, "resolved", minutes=1, starts=i / 30_000)]) for i in range(500)]
    twice = [c.message(body, 1 + n / 10) for n in range(2) for body in resolved]
    await asyncio.gather(*(c.deliver(m, i % 2) for i, m in enumerate(twice)))
    [group] = await groups(c)
    assert group.state is State.CLOSED and c.kinds() == ["open", "close"]


async def test_two_replicas_taking_one_new_incidents_messages_at_once_open_one_ticket() -> None:
    """Ten messages of one new incident (a script firing, and SQS handing the same message
    to both replicas too) taken at the same moment by two replicas: one ticket, one summary,
    every message counted once."""
    c = Cluster()
    messages = [c.message(script("firing", i / 600), 0.1) for i in range(10)]
    copies = [(m, r) for m in messages for r in (0, 1)]
    results = await asyncio.gather(*(c.deliver(m, r) for m, r in copies), return_exceptions=True)
    for (m, r), result in zip(copies, results, strict=True):
        if isinstance(result, BaseException):  # busy: the message is tried again
            await c.deliver(dataclasses.replace(m, receive_count=2), r)
    [incident] = await c.store.incidents()
    assert (incident.occurrences, c.kinds(), c.summariser.calls) == (10, ["open"], 1)


async def test_an_incident_closed_by_hand_while_its_alert_keeps_firing_reopens_once() -> None:
    """A person closes a firing incident while its script keeps firing every ten seconds: the
    message queued before the close reopens nothing, the first queued after reopens the ticket
    once, and the rest are counted, not reopened again nor marked flapping."""
    c = Cluster()
    await c.deliver(c.message(script("firing", 0), 0))
    before = c.message(script("firing", 0.9), 0.9)
    c.clock.now = at(1)
    [incident] = await c.store.incidents()
    closed = await c.pipelines[1].close(incident.fingerprint, "hand", "fixed it", "ana")
    assert str(closed) == "close"
    assert [str(a) for a in await c.deliver(dataclasses.replace(before, received_at=at(1.01)))] == [
        "ignore"
    ]
    actions = []
    for i in range(1, 13):
        minutes = 1 + i / 6
        actions += [str(a) for a in await c.deliver(c.message(script("firing", minutes), minutes))]
    assert actions == ["reopen"] + ["count"] * 11
    assert c.kinds() == ["open", "close", "reopen"]
    assert not any(e.flapping for e in c.sink.effects)


async def test_a_storm_across_the_groups_window_opens_once_and_tells_every_later_member(
    tmp_path: Path,
) -> None:
    """A 30 s gathering window and 60 pods arriving over a minute, one message each: the
    first is held until the window ends, its retry opens one ticket listing the 30 that came
    within it; the 30 after are owed to the ticket, and the sweep at the end of the update
    interval sends one update listing all 60."""
    c = grouping(tmp_path, window_s=30)
    first = c.message(webhook([pod(0)]), 0)
    with pytest.raises(GatheringError):
        await c.deliver(first)
    for i in range(1, 30):
        await c.deliver(c.message(webhook([pod(i, minutes=i / 60)]), i / 60), i % 2)
    assert c.kinds() == []
    await c.deliver(dataclasses.replace(first, receive_count=2, received_at=at(0.5)))
    for i in range(30, 60):
        await c.deliver(c.message(webhook([pod(i, minutes=i / 60)]), i / 60), i % 2)
    listed = [e.alert.group.count for e in c.sink.effects if e.alert.group is not None]
    assert (c.kinds(), listed) == (["open"], [30])
    for minutes in (10, 16, 17):
        c.clock.now = at(minutes)
        await c.sweep().once()
    listed = [e.alert.group.count for e in c.sink.effects if e.alert.group is not None]
    assert (c.kinds(), listed) == (["open", "update"], [30, 60])
