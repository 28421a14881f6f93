"""Groups, round 7 leftovers: what changes while a group's first ticket gathers its members. A
silence on labels the group is not keyed by that matches every member holds that ticket; a
route's `group_by` changed during the window sends the old group's ticket with the held
message's retry, not after the sweep takes it over. The real Pipeline on one in-memory store
with two replicas (round 4's Cluster)."""

from __future__ import annotations

from pathlib import Path

import pytest

from test_redteam_round4_storms import Cluster, at, pod, webhook
from test_redteam_round5_storms import again
from test_redteam_round6_storms import GROUPING, resolved, still_open
from triage.errors import GatheringError

# --- a route's group_by changed while a group gathers -----------------------------------------


def regrouped(tmp_path: Path) -> tuple[Cluster, Path]:
    """Two replicas on a route grouping by alertname and namespace with a 30 s window, and
    the routes file that groups by pod as well (another replica's, or a reload's)."""
    old, new = tmp_path / "old.toml", tmp_path / "new.toml"
    old.write_text(GROUPING.format(by='"alertname", "namespace"', window="group_window_s = 30"))
    new.write_text(GROUPING.format(by='"alertname", "namespace", "pod"', window=""))
    return Cluster(routes=str(old)), new


def reload(c: Cluster, routes: Path) -> None:
    """Every replica of `c` reads `routes` now."""
    c.routes = str(routes)
    c.pipelines = [c._pipeline(), c._pipeline()]


async def test_a_group_by_change_while_a_group_gathers_sends_its_ticket_with_the_retry(
    tmp_path: Path,
) -> None:
    """Three pods start a group with a 30 s window; the routes then group by pod as well. The
    held message comes back after the window: the old group's first ticket opens with it,
    once, listing the three pods (not left for the sweep after the lease), and no pod opens a
    ticket elsewhere; when they resolve, nothing stays open."""
    c, new = regrouped(tmp_path)
    storm = [pod(i) for i in range(3)]
    first = c.message(webhook(storm), 0)
    with pytest.raises(GatheringError):
        await c.deliver(first, 0)
    reload(c, new)
    await c.deliver(again(first, 1), 0)
    assert c.kinds() == ["open"]
    opened = c.sink.effects[0].alert.group
    assert opened is not None and opened.count == 3
    await c.deliver(c.message(webhook([resolved(a, 30) for a in storm]), 30), 1)
    assert await still_open(c) == []
    assert c.kinds().count("open") == 1 and c.kinds()[-1] == "close"
