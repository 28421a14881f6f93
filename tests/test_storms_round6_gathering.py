"""Storms, round 6 fixes: what changes while a group's first ticket gathers its members. A
silence added during the window holds that ticket when it matches every member (the group's
keys), whether the held message or the sweep comes back for it, and never when it matches one
member alone; a routes reload during the window leaves each alert firing in one place. The
real Pipeline on one in-memory store with two replicas (round 4's Cluster)."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest

from factories import T0
from test_redteam_round4_storms import Cluster, at, grouping, groups, pod, silence, webhook
from test_redteam_round5_storms import again
from test_redteam_round6_storms import GROUPING, UNGROUPED, resolved, still_open
from triage.errors import GatheringError
from triage.incidents.groups import silencing_group
from triage.incidents.lifecycle import Group
from triage.incidents.silences import Matcher, Silence


def made(*matchers: str, hours: float = 1) -> Silence:
    """A silence of `matchers` from T0 for `hours`."""
    parsed = [Matcher.parse(m) for m in matchers]
    return Silence.new(parsed, T0, T0 + timedelta(hours=hours), "maintenance", "alice")


SHOP = Group(route="crash-loops", by={"alertname": "KubePodCrashLooping", "namespace": "shop"})


@pytest.mark.parametrize(
    ("matchers", "holds"),
    [
        (("namespace=shop",), True),
        (("alertname=~Kube.*", "namespace!=cart"), True),
        (("pod=api-0",), False),  # one member's own label
        (("namespace=shop", "pod!=api-0"), False),  # holds for some members only
        (("namespace=cart",), False),
        (("source=alertmanager",), False),  # not a value the group is keyed by
    ],
)
def test_a_silence_holds_a_gathered_group_only_through_the_values_it_is_keyed_by(
    matchers: tuple[str, ...], holds: bool
) -> None:
    """`silencing_group` takes a silence for the whole group only when each matcher reads a
    label the group is keyed by (every member agrees on it) and holds for its value."""
    silence = made(*matchers)
    found = silencing_group([silence], SHOP, T0 + timedelta(minutes=1))
    assert (found is silence) is holds


def test_an_ended_silence_holds_no_gathered_group() -> None:
    """A silence that ended before the window did holds nothing."""
    ended = made("namespace=shop", hours=0.01)
    assert silencing_group([ended], SHOP, T0 + timedelta(hours=1)) is None


async def test_a_gathered_ticket_the_sweep_takes_over_under_a_silence_is_held_until_it_ends(
    tmp_path: Path,
) -> None:
    """The message that started a group never comes back (lost with its replica); a silence on
    the group's namespace is added during the window. The sweep, taking the first ticket over
    once its lease is over, holds it while the silence lasts, then opens it once, listing
    every member."""
    c = grouping(tmp_path, window_s=30, silenced=True)
    with pytest.raises(GatheringError):
        await c.deliver(c.message(webhook([pod(i) for i in range(5)]), 0), 0)
    c.clock.now = at(0.1)
    await silence(c, "namespace=shop", hours=0.5)
    for minutes in (5, 10):
        c.clock.now = at(minutes)
        await c.sweep().once()
    assert c.kinds() == [] and c.summariser.calls == 0
    [held] = await groups(c)
    assert held.held is not None and held.pending is None
    for minutes in (31, 32):
        c.clock.now = at(minutes)
        await c.sweep().once()
    assert c.kinds() == ["open"] and c.summariser.calls == 1
    opened = c.sink.effects[0].alert.group
    assert opened is not None and opened.count == 5


async def test_a_silence_on_the_first_pod_alone_does_not_hold_its_groups_first_ticket(
    tmp_path: Path,
) -> None:
    """A pod starts a group with a 30 s window and is then silenced alone (its own
    maintenance); nine more pods of the group fire. The group's first ticket opens when the
    window ends, as it would have without that silence: one pod's silence does not quiet
    the storm."""
    c = grouping(tmp_path, window_s=30, silenced=True)
    first = c.message(webhook([pod(0)]), 0)
    with pytest.raises(GatheringError):
        await c.deliver(first, 0)
    c.clock.now = at(0.1)
    await silence(c, "pod=api-0", hours=2)
    await c.deliver(c.message(webhook([pod(i, minutes=0.2) for i in range(1, 10)]), 0.2), 1)
    await c.deliver(again(first, 1), 0)
    assert c.kinds() == ["open"] and c.summariser.calls == 1
    opened = c.sink.effects[0].alert.group
    assert opened is not None and opened.count == 10


async def test_a_routes_reload_while_gathering_with_the_groups_open_failing_opens_no_own_ticket(
    tmp_path: Path,
) -> None:
    """The routes stop grouping during a group's window, and the backend fails the group's
    first ticket when the held message comes back: no pod opens a ticket of its own meanwhile,
    the next delivery opens the group's once, and when every pod resolves nothing stays open."""
    old, new = tmp_path / "old.toml", tmp_path / "new.toml"
    old.write_text(GROUPING.format(by='"alertname", "namespace"', window="group_window_s = 30"))
    new.write_text(UNGROUPED)
    c = Cluster(routes=str(old))
    storm = [pod(i) for i in range(3)]
    first = c.message(webhook(storm), 0)
    with pytest.raises(GatheringError):
        await c.deliver(first, 0)
    c.routes = str(new)
    c.pipelines = [c._pipeline(), c._pipeline()]
    c.sink.failures = 1
    with pytest.raises(Exception, match="503"):
        await c.deliver(again(first, 1), 0)
    assert c.kinds() == []
    await c.deliver(again(first, 2, count=3), 1)
    assert c.kinds() == ["open"]
    assert c.sink.effects[0].alert.group is not None
    await c.deliver(c.message(webhook([resolved(a, 30) for a in storm]), 30), 1)
    assert await still_open(c) == []
