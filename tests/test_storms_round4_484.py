"""Round 4 (helper 484): storms, flapping, dedup and priority, red-teamed then fixed. The real
Pipeline on one in-memory store (one or two replicas sharing it), a recording backend, and
messages as SQS hands them out: each test a behaviour a user relies on, or a bug found here
and fixed with it."""

from __future__ import annotations

import json
from pathlib import Path

from test_priority_raised_446 import StatedSummariser
from test_redteam_round4_storms import Cluster, at, grouping, groups, iso, members, pod, webhook
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
