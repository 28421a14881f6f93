"""Red team round 6: storms become one ticket. New ground past rounds 4 and 5: what changes
while a group's first ticket gathers its members (a silence added, the routes reloaded), a
group keyed by label values longer than a label keeps, and storms over many groups at once.
The real Pipeline on one in-memory store, replicas sharing it, a recording sink (round 4's
Cluster). Each xfail fails today for the bug its reason names."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from test_redteam_round4_storms import (
    Cluster,
    at,
    deliver_after_windows,
    grouping,
    groups,
    iso,
    members,
    pod,
    silence,
    webhook,
)
from test_redteam_round5_storms import again
from triage.errors import GatheringError

#: A grouping route on Alertmanager's alerts, its `group_by` and window given.
GROUPING = """
[[route]]
name = "crash-loops"
sinks = ["backend"]
group_by = [{by}]
{window}
[route.match]
source = ["alertmanager"]
"""

#: The same route after a routes change that stops grouping (same name, no `group_by`).
UNGROUPED = """
[[route]]
name = "crash-loops"
sinks = ["backend"]
[route.match]
source = ["alertmanager"]
"""


def routed(tmp_path: Path, by: str, window_s: float = 0) -> Cluster:
    """Two replicas on a grouping route by `by` (TOML strings), with `group_window_s`."""
    routes = tmp_path / "routes.toml"
    window = f"group_window_s = {window_s:g}" if window_s else ""
    routes.write_text(GROUPING.format(by=by, window=window))
    return Cluster(routes=str(routes))


def probe(labels: dict[str, str], minutes: float = 0) -> dict[str, Any]:
    """One firing Alertmanager alert with `labels`, started `minutes` after T0."""
    return {"status": "firing", "labels": labels, "annotations": {"summary": "probe failed"},
            "startsAt": iso(at(minutes)), "endsAt": "0001-01-01T00:00:00Z"}  # fmt: skip


def resolved(alert: dict[str, Any], minutes: float) -> dict[str, Any]:
    """`alert` (firing) resolved `minutes` after T0."""
    return {**alert, "status": "resolved", "endsAt": iso(at(minutes))}


async def still_open(c: Cluster) -> list[str]:
    """The fingerprints of every incident the store holds open."""
    return [i.fingerprint for i in await c.store.incidents() if str(i.state) == "open"]


# --- a silence added while a group's first ticket gathers ------------------------------------


async def test_a_silence_added_while_a_group_gathers_holds_its_first_ticket(
    tmp_path: Path,
) -> None:
    """A 10-pod storm starts a group with a 30 s window; seconds later the on-call silences the
    namespace for 30 minutes and 10 more pods join under it. No sink may hear of the storm
    while the silence matches every member (README, silences: opens nothing); when it ends with
    the storm still firing, the sweep opens one ticket listing all 20."""
    c = grouping(tmp_path, window_s=30, silenced=True)
    first = c.message(webhook([pod(i) for i in range(10)]), 0)
    with pytest.raises(GatheringError):
        await c.deliver(first, 0)
    c.clock.now = at(0.1)
    await silence(c, "namespace=shop", hours=0.5)
    await c.deliver(c.message(webhook([pod(i, minutes=0.2) for i in range(10, 20)]), 0.2), 1)
    await c.deliver(again(first, 1), 0)
    assert c.kinds() == []
    for minutes in (31, 32):
        c.clock.now = at(minutes)
        await c.sweep().once()
    assert c.kinds() == ["open"] and c.summariser.calls == 1
    assert c.sink.effects[0].alert.group is not None
    assert c.sink.effects[0].alert.group.count == 20


# --- the routes reloaded while a group's first ticket gathers --------------------------------


async def test_a_routes_reload_while_a_group_gathers_opens_one_ticket_per_alert(
    tmp_path: Path,
) -> None:
    """A 10-pod message starts a group with a 30 s window; the routes file is reloaded on
    every replica meanwhile and no longer groups. The held message comes back once the window
    is over: each pod then fires on one ticket only (the group's, where it fires, stamped as
    before, or one of its own), never on both (today the first pod, whose claim opened the
    group, opens its own ticket too, while the group's lists it firing); and when all
    resolve, nothing stays open."""
    old, new = tmp_path / "old.toml", tmp_path / "new.toml"
    old.write_text(GROUPING.format(by='"alertname", "namespace"', window="group_window_s = 30"))
    new.write_text(UNGROUPED)
    c = Cluster(routes=str(old))
    storm = [pod(i) for i in range(10)]
    first = c.message(webhook(storm), 0)
    with pytest.raises(GatheringError):
        await c.deliver(first, 0)
    c.routes = str(new)
    c.pipelines = [c._pipeline(), c._pipeline()]
    await c.deliver(again(first, 1), 0)
    grouped = [e for e in c.sink.effects if e.alert.group is not None]
    firing_in_group = {
        m.fingerprint
        for e in grouped
        for m in (e.alert.group.members if e.alert.group else ())
        if str(m.status) == "firing"
    }
    own = {e.fingerprint for e in c.sink.effects if e.alert.group is None}
    assert firing_in_group & own == set(), "a pod fires on its own ticket and on the group's"
    await c.deliver(c.message(webhook([resolved(a, 30) for a in storm]), 30), 1)
    assert await still_open(c) == []


# --- a group keyed by values longer than a label keeps ---------------------------------------


async def test_probes_of_two_long_urls_grouped_by_url_are_two_tickets(tmp_path: Path) -> None:
    """Blackbox probes grouped by `instance` (the probed URL): two URLs sharing their first
    300 characters are two targets, two alerts (their fingerprints hash every label whole),
    and so two groups and two tickets, not one ticket whose resolve waits on the other."""
    c = routed(tmp_path, '"alertname", "instance"')
    base = "https://shop.example.com/search?" + "&".join(f"facet{n}=x" for n in range(30))
    assert len(base) > 300
    alerts = [probe({"alertname": "ProbeFailed", "instance": f"{base}&page={n}"}) for n in (1, 2)]
    await c.deliver(c.message(webhook(alerts), 0))
    assert len({e.fingerprint for e in c.sink.effects}) == 2
    assert c.kinds() == ["open", "open"]


async def test_pods_with_many_labels_in_two_namespaces_are_two_groups(tmp_path: Path) -> None:
    """Kubernetes alerts joined with `kube_pod_labels` carry dozens of `label_*` labels. Two
    pods crash-looping in two namespaces, grouped by alertname and namespace, are two groups
    and two tickets; not one ticket titled `namespace=∅` because `namespace` sorts after the
    64 labels an alert keeps."""
    c = grouping(tmp_path)

    def with_pod_labels(i: int, namespace: str) -> dict[str, Any]:
        alert = pod(i)
        joined = {f"label_app_kubernetes_io_part{n:02d}": f"v{n}" for n in range(70)}
        labels = {**alert["labels"], **joined, "namespace": namespace, "pod": f"{namespace}-{i}"}
        return {**alert, "labels": labels}

    storm = [with_pod_labels(0, "shop"), with_pod_labels(1, "cart")]
    await c.deliver(c.message(webhook(storm), 0))
    assert sorted(dict(g.group.by)["namespace"] for g in await groups(c) if g.group) == [
        "cart",
        "shop",
    ]
    assert c.kinds() == ["open", "open"]


# --- storms over many groups at once (guards) ------------------------------------------------


async def test_a_storm_over_500_hosts_in_two_messages_is_500_tickets_and_500_summaries(
    tmp_path: Path,
) -> None:
    """A network outage pages two alerts for each of 500 hosts, grouped by host with a 30 s
    window, the two alerts of a host in two messages on two replicas: one ticket and one LLM
    call per host, each ticket listing both of its host's alerts."""
    c = routed(tmp_path, '"instance"', window_s=30)
    down = c.message(
        webhook([probe({"alertname": "Down", "instance": f"h-{i}"}) for i in range(500)]), 0
    )
    with pytest.raises(GatheringError):
        await c.deliver(down, 0)
    full = [probe({"alertname": "DiskFull", "instance": f"h-{i}"}, 0.1) for i in range(500)]
    await c.deliver(c.message(webhook(full), 0.1), 1)
    await c.deliver(again(down, 1), 0)
    assert c.kinds() == ["open"] * 500 and c.summariser.calls == 500
    assert {e.alert.group.count for e in c.sink.effects if e.alert.group} == {2}


async def test_a_member_resolving_and_firing_again_inside_the_window_opens_one_ticket(
    tmp_path: Path,
) -> None:
    """Two pods start a group with a 30 s window; one resolves and fires again within it. The
    group's first ticket, once the window ends, lists both firing, and no other opens."""
    c = grouping(tmp_path, window_s=30)
    first = c.message(webhook([pod(0), pod(1)]), 0)
    with pytest.raises(GatheringError):
        await c.deliver(first, 0)
    await c.deliver(c.message(webhook([pod(0, "resolved", 0.1)]), 0.1), 1)
    await deliver_after_windows(c, c.message(webhook([pod(0, minutes=0.2)]), 0.2), 1)
    await c.deliver(again(first, 1), 0)
    assert c.kinds() == ["open"] and c.summariser.calls == 1
    opened = c.sink.effects[0].alert.group
    assert opened is not None and opened.count == 2
    assert {str(m.status) for m in opened.members} == {"firing"}
    [group] = await groups(c)
    assert members(group) == 2
