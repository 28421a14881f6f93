"""Round 12 (helper 417): storms and groups. The real Pipeline on the in-memory store
(round 4's Cluster), a recording sink: each test a bug found in round 12. A test marked xfail
waits for a change in a file this helper does not own (its reason names it)."""

from __future__ import annotations

from pathlib import Path

import pytest

import factories
from test_groups_round4_untracked import KEY, Event
from test_pipeline import POLICY
from test_redteam_round4_storms import Cluster, at, cycle_bodies, grouping, groups, pod, webhook
from triage.incidents import groups as group_rules
from triage.incidents.groups import decide_group
from triage.incidents.lifecycle import Action, Incident, replace_incident
from triage.models import Alert, Priority, Status
from triage.routes import Router, load_router
from triage.settings import Settings


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


async def test_a_member_firing_while_a_flapping_groups_close_waits_is_told_to_the_ticket(
    tmp_path: Path,
) -> None:
    """A flapping group's last member resolves (its close held back), then another member
    fires: for the ticket the group never closed, and it must learn of the members as they
    are (api-1 firing, api-0 resolved), once the update interval allows, not keep listing
    api-0 firing and no api-1 for as long as api-1 fires."""
    c = grouping(tmp_path)
    for n, (minutes, body) in enumerate(cycle_bodies(4, 10)):
        await c.deliver(c.message(body, minutes), n % 2)
    [flapping] = await groups(c)
    assert flapping.flapping and flapping.close_waits(at(2)), c.kinds()
    await c.deliver(c.message(webhook([pod(1, minutes=2)]), 2))
    for minutes in (20, 40):
        c.clock.now = at(minutes)
        await c.sweep().once()
    shown = c.sink.effects[-1].alert.group
    assert c.kinds()[-1] == "update" and shown is not None, c.kinds()
    assert sorted((m.title, str(m.status)) for m in shown.members) == [
        ("KubePodCrashLooping: pod api-0 is crash looping", "resolved"),
        ("KubePodCrashLooping: pod api-1 is crash looping", "firing"),
    ]


async def test_the_same_member_firing_again_while_its_groups_close_waits_adds_no_update(
    tmp_path: Path,
) -> None:
    """The flapping member itself firing again while its group's close waits leaves the
    ticket as it was (it lists that member firing): no update, however long it fires."""
    c = grouping(tmp_path)
    for n, (minutes, body) in enumerate(cycle_bodies(4, 10)):
        await c.deliver(c.message(body, minutes), n % 2)
    before = c.kinds()
    await c.deliver(c.message(webhook([pod(0, minutes=2)]), 2))
    for minutes in (20, 40):
        c.clock.now = at(minutes)
        await c.sweep().once()
    assert c.kinds() == before


def test_a_change_owed_before_a_damped_close_is_owed_when_the_group_fires_again() -> None:
    """api-1 joins a flapping group inside the update interval (owed to the ticket, which
    lists api-0 alone); both resolve and the close is held; api-1 fires again: the ticket
    never heard of api-1, so the update stays owed, not dropped with the held close."""
    stored = ticketed(decide_group(None, member("api-0", 0), at(0), POLICY, KEY).incident)
    stored = replace_incident(stored, flapping=True)
    for event in (member("api-1", 1), member("api-0", 2, RESOLVED), member("api-1", 3, RESOLVED)):
        decision = decide_group(stored, event, at(event.minutes), POLICY, KEY)
        assert decision.incident is not None
        stored = decision.incident
    assert decision.action is Action.DAMPED and stored.update_owed_at is not None
    again = decide_group(stored, member("api-1", 4), at(4), POLICY, KEY)
    assert again.action is Action.COUNT and again.incident is not None
    assert again.incident.update_owed_at == at(15)


RESOLVED = Status.RESOLVED


def member(name: str, minutes: float, status: Status = Status.FIRING) -> Event:
    """Member `name`'s event at `minutes`, its message queued then."""
    return Event(name, status, minutes, minutes)


def ticketed(incident: Incident | None) -> Incident:
    """`incident` once its ticket opened at the backend."""
    assert incident is not None
    return replace_incident(incident, refs={"backend": "T-1"})
