"""Round 13 (helper 438): storms and groups. The real Pipeline on the in-memory store
(round 4's Cluster), a recording sink, and the group rules' pure functions: each test a bug
found in round 13 (or left by round 12), fixed with it."""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from pathlib import Path

import pytest

from factories import T0
from memory_store import MemoryStore
from test_escalate_route_429 import incident as escalation_incident
from test_escalate_route_429 import posts_of_one_escalation
from test_redteam_round4_storms import at, grouping, groups, pod, silence, webhook
from test_untracked_moves import Hosts
from triage.incidents import groups as group_rules
from triage.incidents.lifecycle import Group, replace_incident
from triage.sqs.inbox import Message


async def test_a_late_resolve_between_two_firings_of_a_member_past_the_cap_leaves_it_open(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A member counted past the cap fires again stamped later (minute 10); a resolve of it
    stamped between its two firings (minute 5) arrives late: it is older than the member's
    newest event, so the group stays open while the member fires (the later firing's time
    was kept, as a tracked member's is)."""
    monkeypatch.setattr(group_rules, "MAX_MEMBERS", 1)
    c = grouping(tmp_path)
    await c.deliver(c.message(webhook([pod(0), pod(1)]), 0))
    await c.deliver(c.message(webhook([pod(0, "resolved", 1)]), 1))
    await c.deliver(c.message(webhook([pod(1, minutes=10)]), 10))
    await c.deliver(c.message(webhook([pod(1, "resolved", 5)]), 11))
    [group] = await groups(c)
    assert str(group.state) == "open", c.kinds()
    assert c.kinds() == ["open"], c.kinds()


def _expire(store: MemoryStore, now: datetime) -> None:
    """Drop the records whose time to live has run out at `now`, as DynamoDB's TTL and
    SQLite's purge do (the in-memory store keeps them)."""
    gone = [
        key
        for key, record in store.records.items()
        if record.expires_at is not None and record.expires_at < now.timestamp()
    ]
    for key in gone:
        del store.records[key]


async def _resend(hosts: Hosts, day: int, **fields: object) -> None:
    """Generic alert `disk-a` stamped at T0 (a resend stamped as the first), handled on `day`
    after the store's expired records are dropped."""
    hosts.sent += 1
    when = T0 + timedelta(days=day)
    body = {"title": "disk-a full", "dedup_key": "disk-a", "timestamp": T0.isoformat(), **fields}
    mid = f"m-{hosts.sent}"
    hosts.clock.now = when
    _expire(hosts.store, when)
    await hosts.pipeline.process(Message(mid, json.dumps(body), f"rh-{mid}", 1, when, when))


async def test_a_member_firing_for_forty_days_on_resends_keeps_its_group(tmp_path: Path) -> None:
    """A member fires for 40 days, its resends stamped with when it started (its record of
    the group it fires in kept 30 days past a join): records past their time to live
    dropped, its resolve with its dedup_key only (no host) still finds host a's group and
    closes it, not left open for good."""
    hosts = Hosts(tmp_path)
    for day in range(0, 41, 4):
        await _resend(hosts, day, host="a")
    hosts.sent += 1
    when = T0 + timedelta(days=40, minutes=1)
    body = {"title": "disk-a full", "dedup_key": "disk-a", "status": "resolved",
            "timestamp": when.isoformat()}  # fmt: skip
    hosts.clock.now = when
    await hosts.pipeline.process(Message("m-r", json.dumps(body), "rh-r", 1, when, when))
    assert await hosts.groups() == {"host=a": "closed"}


#: The escalating grouping route `pods`, renamed `crash-loops` keeping its groups' key.
RENAMED_GROUPING_ROUTE = """
[[route]]
name = "crash-loops"
sinks = ["backend"]
group_by = ["alertname"]
group_key = "pods"
escalate_after_s = 1800
[route.match]
source = ["alertmanager"]
[route.escalate]
slack_webhook_url = "{hook}"
"""


async def test_an_open_group_escalates_after_its_grouping_route_is_renamed(tmp_path: Path) -> None:
    """A group opened under route `pods` is still open when the route is renamed
    `crash-loops` with `group_key = "pods"` (so its groups stay the same ones): it is
    escalated by that route, which still groups it, not dropped as a route no longer
    there."""
    group = Group(route="pods", by={"alertname": "KubePodCrashLooping"})
    stored = replace_incident(escalation_incident(group), route="pods")
    assert await posts_of_one_escalation(tmp_path, RENAMED_GROUPING_ROUTE, stored) == 1


async def test_a_silence_on_the_first_member_does_not_hold_the_groups_owed_update(
    tmp_path: Path,
) -> None:
    """A silence on one member's own label (`pod=api-0`, the member the group's ticket opened
    with) does not quiet the storm: the update the group owes for a member that joined
    later goes out when the update interval ends, not when that silence does."""
    c = grouping(tmp_path, silenced=True)
    await c.deliver(c.message(webhook([pod(i) for i in range(3)]), 0))
    await silence(c, "pod=api-0", hours=24)
    await c.deliver(c.message(webhook([pod(5, minutes=2)]), 2))
    c.clock.now = at(20)
    await c.sweep().once()
    assert c.kinds() == ["open", "update"]
    shown = c.sink.effects[-1].alert.group
    assert shown is not None and shown.count == 4


async def test_a_silence_on_what_every_member_shares_still_holds_the_owed_update(
    tmp_path: Path,
) -> None:
    """A silence on a label the group is keyed by (`namespace=shop`) holds the update the
    group owes, as it holds any of its effects, until it ends."""
    c = grouping(tmp_path, silenced=True)
    await c.deliver(c.message(webhook([pod(i) for i in range(3)]), 0))
    await silence(c, "namespace=shop", hours=1)
    await c.deliver(c.message(webhook([pod(5, minutes=2)]), 2))
    c.clock.now = at(20)
    await c.sweep().once()
    assert c.kinds() == ["open"]
    c.clock.now = at(70)
    await c.sweep().once()
    assert c.kinds() == ["open", "update"]


#: The escalating route `pods`, which no longer groups (its `group_by` taken out).
UNGROUPED_ROUTE = """
[[route]]
name = "pods"
sinks = ["backend"]
escalate_after_s = 1800
[route.match]
source = ["alertmanager"]
[route.escalate]
slack_webhook_url = "{hook}"
"""


async def test_an_open_group_of_a_route_that_no_longer_groups_still_escalates(
    tmp_path: Path,
) -> None:
    """A group opened under route `pods`, still open when that route stops grouping: the
    route keeps taking the group's updates and close by its name, and escalates it too."""
    group = Group(route="pods", by={"alertname": "KubePodCrashLooping"})
    stored = replace_incident(escalation_incident(group), route="pods")
    assert await posts_of_one_escalation(tmp_path, UNGROUPED_ROUTE, stored) == 1


async def test_an_open_group_of_a_removed_route_is_not_escalated_by_the_default(
    tmp_path: Path,
) -> None:
    """A group whose route was removed (renamed without keeping its key) is not escalated by
    another route's escalation: the route that asked for it is gone."""
    group = Group(route="old-pods", by={"alertname": "KubePodCrashLooping"})
    stored = replace_incident(escalation_incident(group), route="old-pods")
    assert await posts_of_one_escalation(tmp_path, RENAMED_GROUPING_ROUTE, stored) == 0


async def test_a_silence_on_one_member_does_not_hold_the_update_its_resend_carries(
    tmp_path: Path,
) -> None:
    """api-3 joins an open group (an update owed); a silence on api-0 alone is added, and
    api-0's resend is the next member event once the update is due: the update it carries
    goes out (api-3 is news for the ticket), not held for the day that silence lasts."""
    c = grouping(tmp_path, silenced=True)
    await c.deliver(c.message(webhook([pod(i) for i in range(3)]), 0))
    await c.deliver(c.message(webhook([pod(3, minutes=2)]), 2))
    await silence(c, "pod=api-0", hours=24)
    await c.deliver(c.message(webhook([pod(0)]), 20))
    c.clock.now = at(40)
    await c.sweep().once()
    assert c.kinds() == ["open", "update"]
    shown = c.sink.effects[-1].alert.group
    assert shown is not None and shown.count == 4


async def test_a_silence_on_a_groups_first_member_still_holds_its_open_until_another_joins(
    tmp_path: Path,
) -> None:
    """A silence on api-0 holds the open of the group api-0 starts (all the group is known
    to share so far), and api-1 joining, not silenced, lets it go: one ticket."""
    c = grouping(tmp_path, silenced=True)
    await silence(c, "pod=api-0", hours=24)
    await c.deliver(c.message(webhook([pod(0)]), 0))
    assert c.kinds() == []
    await c.deliver(c.message(webhook([pod(1, minutes=1)]), 1))
    assert c.kinds() == ["open"] and c.summariser.calls == 1


async def test_a_storm_past_every_member_bound_closes_when_every_member_resolves(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """More members than are tracked and known by id (2 and 2 here, 1,000 and 5,000 in
    production) fire, Alertmanager resends the whole group once (stamped as before), then
    every member resolves: the group closes, rather than counting the resent members twice
    and staying open for good."""
    monkeypatch.setattr(group_rules, "MAX_MEMBERS", 2)
    monkeypatch.setattr(group_rules, "MAX_UNTRACKED_IDS", 2)
    c = grouping(tmp_path)
    storm = webhook([pod(i) for i in range(6)])
    await c.deliver(c.message(storm, 0))
    await c.deliver(c.message(storm, 5), 1)
    await c.deliver(c.message(webhook([pod(i, "resolved", 10) for i in range(6)]), 10))
    [group] = await groups(c)
    assert str(group.state) == "closed" and c.kinds()[-1] == "close", c.kinds()
