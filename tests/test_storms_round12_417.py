"""Round 12 (helper 417): storms and groups. The real Pipeline on the in-memory store
(round 4's Cluster), a recording sink: each test a bug found in round 12. A test marked xfail
waits for a change in a file this helper does not own (its reason names it)."""

from __future__ import annotations

from pathlib import Path

import pytest

import factories
from test_redteam_round4_storms import Cluster, at, grouping, groups, pod, webhook
from triage.incidents import groups as group_rules
from triage.models import Alert, Priority
from triage.routes import Router, load_router
from triage.settings import Settings


@pytest.mark.xfail(
    strict=True,
    reason="GroupView.firing counts only tracked members firing (view.py diff in the report)",
)
async def test_a_ticket_counts_the_members_past_the_cap_that_fire_as_firing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A group whose tracked members all resolved while members past the cap still fire is
    open, and its ticket says so: the members past the cap (only counted while they fire)
    are counted as firing, not `0 firing` beside an open ticket."""
    monkeypatch.setattr(group_rules, "MAX_MEMBERS", 3)
    c = grouping(tmp_path)
    await c.deliver(c.message(webhook([pod(i) for i in range(5)]), 0))
    await c.deliver(c.message(webhook([pod(i, "resolved", 20) for i in range(3)]), 20))
    [group] = await groups(c)
    assert str(group.state) == "open"
    c.clock.now = at(40)
    await c.sweep().once()
    shown = c.sink.effects[-1].alert.group
    assert shown is not None and c.kinds()[-1] == "update"
    assert (shown.count, shown.firing) == (5, 2)


#: A known-error route taking disk-full alerts (a ticket each), before a route
#: grouping everything else Alertmanager sends.
CATEGORY_FIRST = """
[[route]]
name = "disks"
sinks = ["backend"]
[route.match]
category = ["disk-full"]

[[route]]
name = "pods"
sinks = ["backend"]
group_by = ["alertname"]
[route.match]
source = ["alertmanager"]
"""


def node_disk(i: int) -> dict[str, object]:
    """Node `i`'s disk-full alert as Alertmanager lists it (the disk-full pattern's words)."""
    alert = pod(i)
    alert["labels"] = {"alertname": "NodeDiskFull", "node": f"node-{i}"}
    alert["annotations"] = {"summary": f"disk full on node-{i}: no space left on /var"}
    return alert


@pytest.mark.xfail(
    strict=True,
    reason="Pipeline.group_of must hand Router.grouping the alert's view (diff in the report)",
)
async def test_a_known_error_route_before_a_grouping_route_takes_its_alerts(
    tmp_path: Path,
) -> None:
    """The first route whose match fits an alert decides: disk-full alerts that the
    known-error route `disks` (first in the file) takes are its incidents, each its own
    ticket on that route, not members of a later grouping route's group."""
    routes = tmp_path / "routes.toml"
    routes.write_text(CATEGORY_FIRST)
    c = Cluster(routes=str(routes))
    await c.deliver(c.message(webhook([node_disk(i) for i in range(3)]), 0))
    stored = await c.store.incidents()
    assert [i.group for i in stored] == [None] * 3
    assert sorted(i.route or "" for i in stored) == ["disks"] * 3


def _category_first(tmp_path: Path) -> Router:
    routes = tmp_path / "routes.toml"
    routes.write_text(CATEGORY_FIRST)
    return load_router(Settings(routes_file=routes))


def _disk(summary: str) -> Alert:
    """A generic alert titled `summary`, as the route's `source` matcher sees any alert."""
    return factories.alert("disk-1").model_copy(update={"source": "alertmanager", "title": summary})


def test_the_grouping_route_is_the_first_route_that_takes_the_alert(tmp_path: Path) -> None:
    """Router.grouping, given the alert's view, leaves an alert to a known-error route
    placed before the grouping route (not grouped), and groups any other alert of that
    source under the later route, reading the view only for the alert the known-error
    route could take."""
    router = _category_first(tmp_path)
    disk = _disk("disk full on node-1: no space left on /var")
    assert router.grouping(disk, Priority.HIGH, lambda: factories.view(disk)) is None
    other = _disk("pod api-0 is crash looping")
    route = router.grouping(other, Priority.HIGH, lambda: factories.view(other))
    assert route is not None and route.name == "pods"
