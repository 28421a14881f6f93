"""A grouping route's `group_key` (round 5, part B): the name its groups are keyed and looked up
by, so a grouping route can be renamed mid-storm and keep its tickets. The real Pipeline on
round 4's in-memory Cluster, one replica on the old routes and one on the new; and the routes
file's refusals."""

from __future__ import annotations

from pathlib import Path

import pytest

from test_redteam_round4_storms import Cluster, groups, members, pod, webhook
from test_redteam_round5_storms import GROUPING_BY
from triage.errors import ConfigError
from triage.routes import load_router
from triage.settings import Settings

OLD = GROUPING_BY.format(by='"alertname", "namespace"')
RENAMED = OLD.replace('name = "crash-loops"', 'name = "k8s-crash-loops"\ngroup_key = "crash-loops"')


async def test_a_renamed_grouping_route_keeping_its_group_key_keeps_one_ticket_for_new_members(
    tmp_path: Path,
) -> None:
    """`crash-loops` renamed `k8s-crash-loops` with `group_key = "crash-loops"` rolls out
    mid-storm: new pods firing on the new routes join the open group: one ticket, one summary,
    every pod a member, and the group's effects go to the renamed route."""
    old, new = tmp_path / "old.toml", tmp_path / "new.toml"
    old.write_text(OLD)
    new.write_text(RENAMED)
    c = Cluster(routes=str(old))
    c.routes = str(new)
    c.pipelines[1] = c._pipeline()
    await c.deliver(c.message(webhook([pod(i) for i in range(3)]), 0), 0)
    await c.deliver(c.message(webhook([pod(i, minutes=5) for i in range(3, 6)]), 5), 1)
    assert c.kinds().count("open") == 1 and c.summariser.calls == 1
    [group] = await groups(c)
    assert str(group.state) == "open" and members(group) == 6
    assert group.group is not None
    assert c.pipelines[1].router.named(group.group.route).name == "k8s-crash-loops"


def load(tmp_path: Path, text: str) -> None:
    path = tmp_path / "routes.toml"
    path.write_text(text)
    load_router(Settings(routes_file=path, sinks="backend"))


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            OLD.replace("group_by", 'group_key = "x"\n# '),
            "group_key is given but the route has no group_by",
        ),
        (OLD + RENAMED.replace("alertmanager", "grafana"), "group key 'crash-loops' is used twice"),
        (OLD.replace('name = "crash-loops"', 'name = "a"\ngroup_key = ""'), "group_key"),
    ],
)
def test_a_group_key_without_group_by_or_used_twice_is_refused(
    tmp_path: Path, text: str, expected: str
) -> None:
    """A `group_key` on a route that groups nothing, one blank, or one two grouping routes
    share (their groups would merge, or a route's name another's key) stops startup with one
    line saying so."""
    with pytest.raises(ConfigError, match=expected):
        load(tmp_path, text)
