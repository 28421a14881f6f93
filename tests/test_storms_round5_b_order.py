"""One notification holding several of a group's members (round 5, part B): the group's events
are applied in the order they happened, not the order the array lists them, so one message
never closes a group and reopens it while a member fired all along; one member's own events
keep the order its source gave. The real Pipeline on round 4's in-memory Cluster."""

from __future__ import annotations

from pathlib import Path

from test_redteam_round4_storms import grouping, groups, pod, webhook


async def test_a_members_firing_stamped_like_the_last_ones_resolve_keeps_the_group_open(
    tmp_path: Path,
) -> None:
    """A group open for pod 0; one notification lists pod 0 resolved at minute 5 first and
    pod 1 firing since minute 5: stamped alike, the firing goes first, so the group neither
    closes nor reopens and stays open with one pod firing."""
    c = grouping(tmp_path)
    await c.deliver(c.message(webhook([pod(0)]), 0))
    await c.deliver(c.message(webhook([pod(0, "resolved", 5), pod(1, minutes=5)]), 5), 1)
    assert c.kinds() == ["open"]
    [group] = await groups(c)
    assert str(group.state) == "open"
    assert group.group is not None and group.group.firing == 1


async def test_members_firing_before_the_resolves_listed_first_keep_the_group_open(
    tmp_path: Path,
) -> None:
    """A group open for pods 0 and 1; one notification lists both resolved at minute 5, then
    pods 2 and 3 firing since minute 3: the group always had a pod firing, so no close."""
    c = grouping(tmp_path)
    await c.deliver(c.message(webhook([pod(0), pod(1)]), 0))
    listed = [pod(0, "resolved", 5), pod(1, "resolved", 5)]
    listed += [pod(2, minutes=5, starts=3), pod(3, minutes=5, starts=3)]
    await c.deliver(c.message(webhook(listed), 5), 1)
    assert c.kinds().count("close") == 0 and c.kinds().count("reopen") == 0
    [group] = await groups(c)
    assert str(group.state) == "open"
    assert group.group is not None and group.group.firing == 2


async def test_the_last_pod_resolving_after_such_a_notification_closes_the_group_once(
    tmp_path: Path,
) -> None:
    """A group open for pod 0; one notification lists pod 0 resolved at minute 5 before pod 1
    firing since minute 1, and a later one resolves pod 1: the group closes once, at the end,
    with no close and reopen between."""
    c = grouping(tmp_path)
    await c.deliver(c.message(webhook([pod(0)]), 0))
    await c.deliver(c.message(webhook([pod(0, "resolved", 5), pod(1, minutes=5, starts=1)]), 5))
    await c.deliver(c.message(webhook([pod(1, "resolved", 6)]), 6), 1)
    assert c.kinds() == ["open", "close"]
    [group] = await groups(c)
    assert str(group.state) == "closed"


async def test_one_members_own_events_in_a_notification_keep_their_listed_order(
    tmp_path: Path,
) -> None:
    """A group open for pods 0 and 1; one message lists pod 1 resolved at minute 5 and then
    firing again stamped alike: the source's order says pod 1 fires last, so the group still
    counts two pods firing (ordering a group's events by time never reorders one member's)."""
    c = grouping(tmp_path)
    await c.deliver(c.message(webhook([pod(0), pod(1)]), 0))
    await c.deliver(c.message(webhook([pod(1, "resolved", 5), pod(1, minutes=5)]), 5), 1)
    [group] = await groups(c)
    assert str(group.state) == "open"
    assert group.group is not None and group.group.firing == 2
