"""A `group_by` change rolling out mid-storm (round 5, part B): a firing stamped like the
member's event in the group it is remembered in leaves it there, as for a grouping route added
or removed; one stamped later moves it. The real Pipeline on round 4's in-memory Cluster, one
replica on the old routes and one on the new."""

from __future__ import annotations

import asyncio
from pathlib import Path

from test_redteam_round4_storms import Cluster, groups, members, pod, webhook
from test_redteam_round5_storms import GROUPING_BY, in_namespace, resolved


def rolling_out(tmp_path: Path) -> Cluster:
    """Replica 0 groups by alertname and namespace, replica 1 (rolled out) by alertname."""
    old, new = tmp_path / "old.toml", tmp_path / "new.toml"
    old.write_text(GROUPING_BY.format(by='"alertname", "namespace"'))
    new.write_text(GROUPING_BY.format(by='"alertname"'))
    c = Cluster(routes=str(old))
    c.routes = str(new)
    c.pipelines[1] = c._pipeline()
    return c


STORM = [in_namespace(pod(i), ns) for i in range(3) for ns in ("shop", "cart")]


async def test_one_storm_message_on_both_routes_at_once_keeps_each_pod_in_one_group(
    tmp_path: Path,
) -> None:
    """The storm is two groups; then each resend is handed to a replica on each routes at the
    same moment: no ticket closes or reopens, none opens twice, and each pod fires in exactly
    one group."""
    c = rolling_out(tmp_path)
    await c.deliver(c.message(webhook(STORM), 0), 0)
    for n in range(1, 4):
        resend = c.message(webhook(STORM), n)
        await asyncio.gather(c.deliver(resend, 0), c.deliver(resend, 1))
    assert c.kinds().count("reopen") == 0 and c.kinds().count("close") == 0
    opened = [e.fingerprint for e in c.sink.effects if str(e.kind) == "open"]
    assert len(opened) == len(set(opened))
    firing = [
        fp
        for g in await groups(c)
        if g.group is not None
        for fp, m in g.group.members.items()
        if str(m.status) == "firing"
    ]
    assert sorted(firing) == sorted(set(firing)) and len(firing) == len(STORM)


async def test_a_pod_firing_again_after_its_resolve_moves_to_the_new_routes_group(
    tmp_path: Path,
) -> None:
    """Resends stamped as before leave the storm in its old groups; a pod that resolved and
    fires again later (stamped later) is a member of the new routes' group, and the old
    groups, every pod of theirs resolved or moved, close."""
    c = rolling_out(tmp_path)
    await c.deliver(c.message(webhook(STORM), 0), 0)
    await c.deliver(c.message(webhook(STORM), 1), 1)
    assert c.kinds() == ["open", "open"]
    ended = [resolved(a, 5) for a in STORM]
    await c.deliver(c.message(webhook(ended), 5), 1)
    assert c.kinds().count("close") == 2
    again = [in_namespace(pod(i, minutes=8), ns) for i in range(3) for ns in ("shop", "cart")]
    await c.deliver(c.message(webhook(again), 8), 1)
    by_route = {tuple(sorted(g.group.by)): g for g in await groups(c) if g.group is not None}
    new = by_route[("alertname",)]
    assert str(new.state) == "open" and members(new) == len(STORM)
    assert all(str(g.state) == "closed" for by, g in by_route.items() if by != ("alertname",))
