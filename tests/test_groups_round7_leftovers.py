"""Groups, round 7 leftovers: what changes while a group's first ticket gathers its members. A
silence on labels the group is not keyed by that matches every member holds that ticket; a
route's `group_by` changed during the window sends the old group's ticket with the held
message's retry, not after the sweep takes it over. The real Pipeline on one in-memory store
with two replicas (round 4's Cluster)."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from factories import T0, alert
from test_redteam_round4_storms import (
    Cluster,
    at,
    grouping,
    groups,
    pod,
    silence,
    webhook,
)
from test_redteam_round5_storms import again
from test_redteam_round6_storms import GROUPING, resolved, still_open
from triage.errors import GatheringError
from triage.incidents.groups import GroupKey, agreed_labels, decide_group, silencing_members
from triage.incidents.lifecycle import Incident, Policy
from triage.incidents.silences import Matcher, Silence
from triage.models import Alert, Status

# --- a silence on labels the group is not keyed by --------------------------------------------


def placed(i: int, cluster: str = "prod-eu", minutes: float = 0) -> dict[str, Any]:
    """Crash-looping pod `i` (grouped by alertname and namespace) in `cluster`, firing since
    `minutes` after T0."""
    alert = pod(i, minutes=minutes)
    return {**alert, "labels": {**alert["labels"], "cluster": cluster}}


def member(i: int, **extra: str) -> tuple[Alert, GroupKey]:
    """Pod `i`'s firing and its group (keyed by alertname and namespace), its labels
    `extra` besides those."""
    labels = {"alertname": "KubePodCrashLooping", "namespace": "shop", "pod": f"api-{i}"}
    key = ("alertname", "namespace")
    return alert(f"api-{i}"), GroupKey.of("crash-loops", key, {**labels, **extra}, 30, str)


def gathered(*events: tuple[Alert, GroupKey]) -> Incident:
    """The group incident `events` (member events and their groups) leave, applied in turn."""
    stored: Incident | None = None
    for event, group in events:
        stored = decide_group(stored, event, T0, Policy(), group).incident or stored
    assert stored is not None
    return stored


def made(*matchers: str) -> Silence:
    """A silence of `matchers` from T0, for an hour."""
    parsed = [Matcher.parse(m) for m in matchers]
    return Silence.new(parsed, T0, T0 + timedelta(hours=1), "maintenance", "alice")


def silenced_by(incident: Incident, *matchers: str) -> bool:
    """A silence of `matchers` holds the gathered group `incident`'s first ticket."""
    silence = made(*matchers)
    return silencing_members([silence], incident, T0 + timedelta(minutes=1)) is silence


def test_a_gathering_group_keeps_the_labels_every_firing_member_shares() -> None:
    """Two pods of one cluster in a gathering group: it keeps the cluster (they share it),
    not a pod's name (they differ); a silence on the cluster holds the group's first ticket,
    one on a pod or on a label they do not both carry does not."""
    group = gathered(member(0, cluster="prod-eu", canary="yes"), member(1, cluster="prod-eu"))
    assert agreed_labels(group) == {
        "alertname": "KubePodCrashLooping",
        "namespace": "shop",
        "cluster": "prod-eu",
    }
    assert silenced_by(group, "cluster=prod-eu")
    assert silenced_by(group, "cluster=~prod-.*", "namespace=shop")
    assert not silenced_by(group, "pod=api-0")
    assert not silenced_by(group, "cluster=prod-eu", "canary=yes")
    assert not silenced_by(group, "cluster=prod-us")


def test_a_resolve_without_labels_leaves_what_the_members_share() -> None:
    """A member's resolve that carries no labels (a script resolving by its key) is no member
    lacking the cluster: the firing ones still share it. A firing whose labels are not at
    hand (its group read from the store) shares nothing."""
    first, second = member(0, cluster="prod-eu"), member(1, cluster="prod-eu")
    bare = alert("api-1", Status.RESOLVED, minutes=0.5)
    unlabelled = GroupKey(second[1].key, second[1].route, second[1].by, second[1].window)
    group = gathered(first, second, (bare, unlabelled))
    assert silenced_by(group, "cluster=prod-eu")
    stranger = alert("api-2", minutes=0.6)
    assert not silenced_by(gathered(first, second, (stranger, unlabelled)), "cluster=prod-eu")


def test_the_labels_a_group_keeps_for_its_members_are_redacted() -> None:
    """What the members share is stored: a secret in a label every member carries is kept
    redacted, as silences read it, never as the alert gave it."""
    token = "ghp_" + "A1b2C3d4E5f6G7h8I9j0K1l2M3n4O5p6Q7r8"
    group = gathered(member(0, api_token=token), member(1, api_token=token))
    kept: Mapping[str, str] = group.labels
    assert "api_token" in kept and token not in kept["api_token"]
    assert token not in repr(group)


async def open_after_silence(c: Cluster) -> None:
    """Sweep passes once the 30-minute silence is over: a held open goes out then."""
    for minutes in (31, 32):
        c.clock.now = at(minutes)
        await c.sweep().once()


async def test_a_silence_on_a_label_every_member_shares_holds_the_gathered_ticket(
    tmp_path: Path,
) -> None:
    """Pods of one cluster start a group keyed by alertname and namespace (30 s window); the
    on-call silences the cluster (a label the group is not keyed by) and more of its pods
    join. When the held message comes back, no sink hears of the storm; once the silence
    ends, the sweep opens one ticket listing every pod."""
    c = grouping(tmp_path, window_s=30, silenced=True)
    first = c.message(webhook([placed(i) for i in range(5)]), 0)
    with pytest.raises(GatheringError):
        await c.deliver(first, 0)
    c.clock.now = at(0.1)
    await silence(c, "cluster=prod-eu", hours=0.5)
    await c.deliver(c.message(webhook([placed(i, minutes=0.2) for i in range(5, 8)]), 0.2), 1)
    await c.deliver(again(first, 1), 0)
    assert c.kinds() == [] and c.summariser.calls == 0
    await open_after_silence(c)
    assert c.kinds() == ["open"] and c.summariser.calls == 1
    opened = c.sink.effects[0].alert.group
    assert opened is not None and opened.count == 8


async def test_the_sweep_holds_a_gathered_ticket_under_a_silence_on_a_shared_label(
    tmp_path: Path,
) -> None:
    """The message that started the group never comes back; a silence on the cluster every
    pod shares is added during the window. The sweep, taking the first ticket over, holds it
    while the silence lasts (the label the silence reads is kept with the held open, so the
    next pass does not let it go), then opens it once."""
    c = grouping(tmp_path, window_s=30, silenced=True)
    with pytest.raises(GatheringError):
        await c.deliver(c.message(webhook([placed(i) for i in range(4)]), 0), 0)
    c.clock.now = at(0.1)
    await silence(c, "cluster=~prod-.*", "namespace!=cart", hours=0.5)
    for minutes in (5, 10, 15):
        c.clock.now = at(minutes)
        await c.sweep().once()
    assert c.kinds() == [] and c.summariser.calls == 0
    [held] = await groups(c)
    assert held.held is not None and held.pending is None
    await open_after_silence(c)
    assert c.kinds() == ["open"]
    opened = c.sink.effects[0].alert.group
    assert opened is not None and opened.count == 4


async def test_a_silence_on_a_label_one_member_lacks_does_not_hold_the_gathered_ticket(
    tmp_path: Path,
) -> None:
    """The same storm, but one pod that joins during the window runs in another cluster: the
    silence on prod-eu does not match every member, so the group's first ticket opens when
    the held message comes back, listing all of them."""
    c = grouping(tmp_path, window_s=30, silenced=True)
    first = c.message(webhook([placed(i) for i in range(3)]), 0)
    with pytest.raises(GatheringError):
        await c.deliver(first, 0)
    c.clock.now = at(0.1)
    await silence(c, "cluster=prod-eu", hours=0.5)
    await c.deliver(c.message(webhook([placed(3, "prod-us", 0.2)]), 0.2), 1)
    await c.deliver(again(first, 1), 0)
    assert c.kinds() == ["open"]
    opened = c.sink.effects[0].alert.group
    assert opened is not None and opened.count == 4


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


async def test_a_held_gathered_ticket_goes_out_when_a_member_the_silence_misses_joins(
    tmp_path: Path,
) -> None:
    """A silence on the cluster holds a gathered group's first ticket; a pod of another
    cluster then joins the group while the silence lasts. The silence no longer matches every
    member, so the ticket is let go, as a held open is when an alert no silence matches
    arrives: it gathers for one more window (a held group's rule) and opens when the new
    pod's message comes back, listing every pod."""
    c = grouping(tmp_path, window_s=30, silenced=True)
    first = c.message(webhook([placed(i) for i in range(3)]), 0)
    with pytest.raises(GatheringError):
        await c.deliver(first, 0)
    c.clock.now = at(0.1)
    await silence(c, "cluster=prod-eu", hours=0.5)
    await c.deliver(again(first, 1), 0)
    assert c.kinds() == []
    joining = c.message(webhook([placed(3, "prod-us", 2)]), 2)
    with pytest.raises(GatheringError):
        await c.deliver(joining, 1)
    await c.deliver(again(joining, 3), 1)
    assert c.kinds() == ["open"]
    opened = c.sink.effects[0].alert.group
    assert opened is not None and opened.count == 4


async def test_a_replica_started_with_a_new_group_by_sends_the_gathered_ticket_once(
    tmp_path: Path,
) -> None:
    """A replica starts with routes that group by pod as well while the other still groups by
    namespace, and takes the held message's retry: the gathered ticket opens then, once.
    Alertmanager's resends of the same pods (stamped as before) on either replica open
    nothing more: each pod stays in the group it fires in."""
    c, new = regrouped(tmp_path)
    storm = [pod(i) for i in range(3)]
    first = c.message(webhook(storm), 0)
    with pytest.raises(GatheringError):
        await c.deliver(first, 0)
    c.routes = str(new)
    c.pipelines[1] = c._pipeline()
    await c.deliver(again(first, 1), 1)
    assert c.kinds() == ["open"]
    await c.deliver(c.message(webhook(storm), 2), 0)
    await c.deliver(c.message(webhook(storm), 3), 1)
    assert c.kinds() == ["open"]
    assert await still_open(c) == [c.sink.effects[0].fingerprint]
