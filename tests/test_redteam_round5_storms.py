"""Red team round 5: storms become one ticket. New ground past round 4's storms: counts after a
message half applied, members past the tracked limit arriving out of order or again, groups
closed for want of alerts and firing again, and routes changing mid-storm. The real Pipeline on
one in-memory store, replicas sharing it, a recording sink (round 4's Cluster). Each test either
guards what held when it was written or failed then, and was fixed."""

from __future__ import annotations

import asyncio
import contextlib
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from github_stub import GitHubServer
from test_github_lookup_more import TOKEN as GITHUB_TOKEN
from test_github_lookup_more import github_sink, incident
from test_redteam_round4_storms import (
    Cluster,
    at,
    cycle_bodies,
    grouping,
    groups,
    iso,
    last_ticket_state,
    members,
    pod,
    quiet_route,
    webhook,
)
from triage.errors import (
    BackpressureError,
    GatheringError,
    SinkRejectedError,
    SinkUnavailableError,
)
from triage.incidents import Action
from triage.incidents import groups as group_rules
from triage.ratelimit import Budget, LocalBudgets
from triage.sinks.base import Applied, Effect
from triage.sqs.inbox import Message

#: A grouping route like round 4's, its `group_by` given.
GROUPING_BY = """
[[route]]
name = "crash-loops"
sinks = ["backend"]
group_by = [{by}]
[route.match]
source = ["alertmanager"]
"""


def again(m: Message, minutes: float, count: int = 2) -> Message:
    """Another delivery of `m`, received `minutes` after T0 (its visibility lapsed, or it was
    released to retry after a failure)."""
    return Message(
        m.id, m.body, f"{m.receipt_handle}-{count}", count, m.sent_at, received_at=at(minutes)
    )


def late(c: Cluster, body: str, queued: float, received: float) -> Message:
    """A new message of `body` queued `queued` minutes after T0 but received only at
    `received` (SQS keeps no order: it waited behind others, or on a replica that died)."""
    m = c.message(body, queued)
    return Message(m.id, m.body, m.receipt_handle, 1, m.sent_at, received_at=at(received))


# --- a message of many alerts, retried after part of it was applied --------------------------


async def test_a_storm_message_retried_after_a_sink_failed_halfway_opens_and_counts_each_once() -> (
    None
):
    """A message of 20 ungrouped pods; the backend answers 503 on the 11th open, so the message
    fails and SQS hands it out again: 20 tickets in all, each opened once, each incident
    counting one occurrence (the first ten are not counted twice by the retry)."""
    c = Cluster(replicas=2)
    storm = c.message(webhook([pod(i) for i in range(20)]), 0)
    real_apply = c.sink.apply
    opened = 0

    async def failing_on_the_eleventh(effect: Effect) -> Applied:
        nonlocal opened
        opened += 1
        if opened == 11:
            raise SinkUnavailableError("503")
        return await real_apply(effect)

    c.sink.apply = failing_on_the_eleventh  # type: ignore[method-assign]
    with pytest.raises(SinkUnavailableError):
        await c.deliver(storm, 0)
    await c.deliver(again(storm, 1), 1)
    assert c.kinds() == ["open"] * 20
    assert len({e.fingerprint for e in c.sink.effects}) == 20
    assert sorted(i.occurrences for i in await c.store.incidents()) == [1] * 20


async def test_a_grouped_storm_whose_open_failed_counts_its_members_once_on_retry(
    tmp_path: Path,
) -> None:
    """A 200-pod message opens a group; the backend fails the open (503), the message is
    retried on the other replica: one ticket listing 200 members, 200 occurrences, one summary."""
    c = grouping(tmp_path)
    c.sink.failures = 1
    storm = c.message(webhook([pod(i) for i in range(200)]), 0)
    with pytest.raises(SinkUnavailableError):
        await c.deliver(storm, 0)
    await c.deliver(again(storm, 1), 1)
    assert c.kinds() == ["open"] and c.summariser.calls == 1
    [group] = await groups(c)
    assert members(group) == 200 and group.occurrences == 200


async def test_one_message_on_two_replicas_at_once_in_an_open_group_counts_once(
    tmp_path: Path,
) -> None:
    """An open group; a message of 30 new members is handed to both replicas at once (its
    visibility lapsed under load): the group counts 30 more members and 30 more occurrences,
    not 60, and no second ticket opens."""
    c = grouping(tmp_path)
    await c.deliver(c.message(webhook([pod(i) for i in range(10)]), 0))
    late = c.message(webhook([pod(i, minutes=20) for i in range(10, 40)]), 20)
    await asyncio.gather(c.deliver(late, 0), c.deliver(again(late, 20), 1))
    [group] = await groups(c)
    assert members(group) == 40 and group.occurrences == 40
    assert c.kinds().count("open") == 1


# --- past the tracked members: order and repeats ---------------------------------------------


async def test_an_untracked_members_resolve_before_its_firing_leaves_it_resolved(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Past the tracked members (20 here), pod 21's resolve (stamped 5 min) overtakes its firing
    (stamped 1 min), as SQS may deliver them: the older firing leaves it resolved, so when the
    tracked pods resolve the group closes (README: a member's events are ordered by their own
    time; the group closes when every member has resolved)."""
    monkeypatch.setattr(group_rules, "MAX_MEMBERS", 20)
    c = grouping(tmp_path)
    await c.deliver(c.message(webhook([pod(i) for i in range(21)]), 0))
    await c.deliver(c.message(webhook([pod(21, "resolved", 5, starts=1)]), 5), 1)
    await c.deliver(late(c, webhook([pod(21, minutes=1)]), queued=1, received=5.5), 0)
    await c.deliver(c.message(webhook([pod(i, "resolved", 6) for i in range(21)]), 6), 1)
    [group] = await groups(c)
    assert str(group.state) == "closed"
    assert c.kinds()[-1] == "close"


async def test_a_members_late_copy_after_it_made_room_does_not_hold_the_group_open(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """20 tracked pods (the limit here); five resolve and five new pods take their places; the
    other Alertmanager's copy of the first notification arrives late (older than those five
    resolves): it must not count the five firing again, so when the rest resolve the group
    closes rather than staying open on alerts that ended."""
    monkeypatch.setattr(group_rules, "MAX_MEMBERS", 20)
    c = grouping(tmp_path)
    first = [pod(i) for i in range(20)]
    await c.deliver(c.message(webhook(first, "am-0"), 0))
    await c.deliver(c.message(webhook([pod(i, "resolved", 5) for i in range(5)]), 5), 1)
    await c.deliver(c.message(webhook([pod(i, minutes=6) for i in range(20, 25)]), 6), 0)
    await c.deliver(late(c, webhook(first, "am-1"), queued=0.5, received=7), 1)
    await c.deliver(c.message(webhook([pod(i, "resolved", 8) for i in range(5, 25)]), 8), 0)
    [group] = await groups(c)
    assert str(group.state) == "closed"
    assert c.kinds()[-1] == "close"


async def test_an_untracked_member_resolving_and_firing_again_holds_the_group_open(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Past the tracked members, pod 21 resolves and fires again while the group is open; then
    every other pod resolves: pod 21 still fires, so the group stays open."""
    monkeypatch.setattr(group_rules, "MAX_MEMBERS", 20)
    c = grouping(tmp_path)
    await c.deliver(c.message(webhook([pod(i) for i in range(22)]), 0))
    await c.deliver(c.message(webhook([pod(21, "resolved", 2)]), 2), 1)
    await c.deliver(c.message(webhook([pod(21, minutes=3)]), 3), 0)
    await c.deliver(c.message(webhook([pod(i, "resolved", 6) for i in range(21)]), 6), 1)
    [group] = await groups(c)
    assert str(group.state) == "open"
    assert "close" not in c.kinds()


async def test_a_late_copy_of_an_untracked_members_old_resolve_does_not_close_the_group(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Past the tracked members, pod 21 fires, resolves (2 min) and fires again (3 min); the
    other Alertmanager's copy of the 2-minute resolve arrives after the re-fire: it is older
    than pod 21's newest event, so pod 21 still fires and the group stays open when the
    tracked pods resolve."""
    monkeypatch.setattr(group_rules, "MAX_MEMBERS", 20)
    c = grouping(tmp_path)
    await c.deliver(c.message(webhook([pod(i) for i in range(22)]), 0))
    resolved = [pod(21, "resolved", 2)]
    await c.deliver(c.message(webhook(resolved, "am-0"), 2), 1)
    await c.deliver(c.message(webhook([pod(21, minutes=3)]), 3), 0)
    await c.deliver(late(c, webhook(resolved, "am-1"), queued=2.1, received=4), 1)
    await c.deliver(c.message(webhook([pod(i, "resolved", 6) for i in range(21)]), 6), 0)
    [group] = await groups(c)
    assert str(group.state) == "open"
    assert "close" not in c.kinds()


# --- closed for want of alerts, then firing again --------------------------------------------


@pytest.mark.parametrize("grouped", [False, True])
async def test_an_incident_closed_for_quiet_then_firing_again_shows_open(
    tmp_path: Path, grouped: bool
) -> None:
    """An incident closed by the sweep after `resolve_after_s` (10 min) without an alert fires
    again (a new startsAt) 5 minutes later: one ticket, reopened, and the store shows it open."""
    c = quiet_route(tmp_path, grouped)
    await c.deliver(c.message(webhook([pod(0)]), 0))
    for minute in (5, 11, 12):
        c.clock.now = at(minute)
        await c.sweep().once()
    assert c.kinds() == ["open", "close"]
    await c.deliver(c.message(webhook([pod(0, minutes=17)]), 17), 1)
    assert c.kinds() == ["open", "close", "reopen"]
    stored = [i for i in await c.store.incidents() if str(i.state) == "open"]
    assert len(stored) == 1


@pytest.mark.parametrize("grouped", [False, True])
async def test_a_resend_stamped_as_before_after_a_quiet_close_does_not_reopen(
    tmp_path: Path, grouped: bool
) -> None:
    """Closed for quiet after 10 minutes, then Alertmanager's resend of the same firing (stamped
    with the old startsAt) arrives: the alert is still firing, so the ticket reopens once,
    and a second resend of it adds no effect."""
    c = quiet_route(tmp_path, grouped)
    await c.deliver(c.message(webhook([pod(0)]), 0))
    c.clock.now = at(11)
    await c.sweep().once()
    assert c.kinds() == ["open", "close"]
    await c.deliver(c.message(webhook([pod(0)]), 15), 1)
    await c.deliver(c.message(webhook([pod(0)]), 16), 0)
    assert c.kinds().count("open") == 1
    assert c.kinds().count("reopen") <= 1


# --- a routes change that regroups a storm mid-way --------------------------------------------


def in_namespace(alert: dict[str, Any], namespace: str) -> dict[str, Any]:
    """`alert` (a `pod`) in `namespace`, its pod named after it, so each is an alert of its own."""
    labels = {
        **alert["labels"],
        "namespace": namespace,
        "pod": f"{namespace}-{alert['labels']['pod']}",
    }
    return {**alert, "labels": labels}


def resolved(alert: dict[str, Any], minutes: float) -> dict[str, Any]:
    """`alert` (firing) resolved `minutes` after T0."""
    return {**alert, "status": "resolved", "endsAt": iso(at(minutes))}


async def test_a_storm_regrouped_by_a_routes_change_ends_with_no_ticket_left_open(
    tmp_path: Path,
) -> None:
    """A storm over two namespaces is two groups (by alertname and namespace); a routes change
    regroups by alertname alone, rolled out to one replica first: Alertmanager's resends (stamped
    as before) land on either replica, new pods fire on the new one, then every pod resolves,
    each resolve on either replica. Every ticket opened is closed at the end and no incident is
    left open."""
    old, new = tmp_path / "old.toml", tmp_path / "new.toml"
    old.write_text(GROUPING_BY.format(by='"alertname", "namespace"'))
    new.write_text(GROUPING_BY.format(by='"alertname"'))
    c = Cluster(routes=str(old))
    c.routes = str(new)
    c.pipelines[1] = c._pipeline()
    storm = [in_namespace(pod(i), ns) for i in range(10) for ns in ("shop", "cart")]
    await c.deliver(c.message(webhook(storm), 0), 0)
    await c.deliver(c.message(webhook(storm), 1), 1)
    await c.deliver(c.message(webhook(storm), 1.5), 0)
    joined = [in_namespace(pod(i, minutes=2), "shop") for i in range(10, 15)]
    await c.deliver(c.message(webhook(joined), 2), 1)
    ended = [resolved(a, 30) for a in storm + joined]
    await c.deliver(c.message(webhook(ended[::2]), 30), 0)
    await c.deliver(c.message(webhook(ended[1::2]), 30), 1)
    await c.deliver(c.message(webhook(ended[::-1]), 31), 1)
    await c.deliver(c.message(webhook(ended), 31), 0)
    for minutes in (100, 200):
        c.clock.now = at(minutes)
        await c.sweep().once()
    still = [i for i in await c.store.incidents() if str(i.state) == "open"]
    assert still == []
    refs = {e.fingerprint for e in c.sink.effects if str(e.kind) == "open"}
    closed = {e.fingerprint for e in c.sink.effects if str(e.kind) == "close"}
    assert refs <= closed


async def test_resends_during_a_group_by_rollout_do_not_close_and_reopen_tickets(
    tmp_path: Path,
) -> None:
    """A routes change regroups a firing storm (by alertname and namespace, then by alertname
    alone) and rolls out to one replica of two: Alertmanager's resends, stamped as before,
    land on either replica in turn. The alerts fire all along, so no ticket reopens (each old
    group may close once as its members move) and no ticket opens twice."""
    old, new = tmp_path / "old.toml", tmp_path / "new.toml"
    old.write_text(GROUPING_BY.format(by='"alertname", "namespace"'))
    new.write_text(GROUPING_BY.format(by='"alertname"'))
    c = Cluster(routes=str(old))
    c.routes = str(new)
    c.pipelines[1] = c._pipeline()
    storm = [in_namespace(pod(i), ns) for i in range(10) for ns in ("shop", "cart")]
    for n in range(6):
        await c.deliver(c.message(webhook(storm), n), n % 2)
    assert c.kinds().count("reopen") == 0
    opened = [e.fingerprint for e in c.sink.effects if str(e.kind) == "open"]
    assert len(opened) == len(set(opened))


# --- damping: a replica dying in the quiet period's close -------------------------------------


async def test_a_held_close_whose_replica_dies_mid_call_goes_out_once_from_another() -> None:
    """A check flaps until it is damped; when the quiet period ends, replica A's sweep takes the
    held close and dies inside the backend call. Once its lease is over, replica B's sweep
    closes the ticket: the held close goes out exactly once (one idempotency key), and the
    incident is left closed with nothing pending or held."""
    c = Cluster()
    for n, (minutes, body) in enumerate(cycle_bodies(6, 30)):
        await c.deliver(c.message(body, minutes), n % 2)
    before = len(c.sink.effects)
    [stored] = await c.store.incidents()
    held = stored.close_held_until
    assert held is not None
    entered, gate = asyncio.Event(), asyncio.Event()
    real_apply = c.sink.apply

    async def dying(effect: Effect) -> Applied:
        entered.set()
        await gate.wait()
        return await real_apply(effect)

    c.sink.apply = dying  # type: ignore[method-assign]
    c.clock.now = held + timedelta(seconds=1)
    sweeping = asyncio.create_task(c.sweep("sweep-a").once())
    await asyncio.wait_for(entered.wait(), timeout=10)
    sweeping.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await sweeping
    c.sink.apply = real_apply  # type: ignore[method-assign]
    for minutes in (3, 6, 10):
        c.clock.now = held + timedelta(minutes=minutes)
        await c.sweep("sweep-b").once()
    closes = [e for e in c.sink.effects[before:] if str(e.kind) == "close"]
    assert len({e.idempotency_key for e in closes}) == 1
    assert [str(e.kind) for e in c.sink.effects[before:]] == ["close"]
    [stored] = await c.store.incidents()
    assert stored.pending is None and stored.close_held_until is None
    assert str(stored.state) == "closed"


# --- a group whose first ticket a sink refused -------------------------------------------------


async def test_a_group_whose_open_was_refused_reaches_the_sink_with_its_next_change(
    tmp_path: Path,
) -> None:
    """The backend refuses a group's first ticket for good (a 422 on the first member's
    content); the storm goes on, 50 more pods joining after the update interval: the sink
    hears of the group again, by the time the next interval ends (README: a later effect opens the sink's first ticket for an
    incident it refused), listing all 51 members, and once every pod resolves the group
    is closed with nothing pending."""
    c = grouping(tmp_path)
    real_apply = c.sink.apply
    refusals = [SinkRejectedError("422 unprocessable")]

    async def refusing_once(effect: Effect) -> Applied:
        if refusals:
            raise refusals.pop()
        return await real_apply(effect)

    c.sink.apply = refusing_once  # type: ignore[method-assign]
    with pytest.raises(SinkRejectedError):
        await c.deliver(c.message(webhook([pod(0)]), 0))
    await c.deliver(c.message(webhook([pod(i, minutes=20) for i in range(1, 51)]), 20), 1)
    c.clock.now = at(36)  # the update interval after the one that went out: owed members go
    await c.sweep().once()
    shown = [e.alert.group.count for e in c.sink.effects if e.alert.group is not None]
    assert shown and shown[-1] == 51
    await c.deliver(c.message(webhook([pod(i, "resolved", 40) for i in range(51)]), 40), 0)
    [group] = await groups(c)
    assert str(group.state) == "closed" and group.pending is None


# --- the storm digest under replicas -----------------------------------------------------------


class MeetingBudgets(LocalBudgets):
    """The store's budgets, shared by replicas, where the first two takes of the hour's kept
    token (a digest about to be created) go on only once both have asked: two replicas
    opening the storm digest at the same moment, each having looked for it first."""

    def __init__(self) -> None:
        super().__init__()
        self.meeting = asyncio.Barrier(2)
        self.met = 0

    async def take_token(self, budget: Budget, now_s: float, *, keep: int = 0) -> float:
        if budget.name.endswith(":hour") and keep == 0 and self.met < 2:
            self.met += 1
            async with asyncio.timeout(10):
                await self.meeting.wait()
        return await super().take_token(budget, now_s, keep=keep)


async def test_two_replicas_past_the_hourly_budget_at_once_open_one_digest() -> None:
    """Two replicas sharing the store's budgets spend the hour's issues; then each takes a new
    incident of the storm and looks for the digest at the same moment: both incidents become
    entries of one digest issue at once (README: a storm keeps one digest), neither waits for
    the next hour's budget."""
    budgets = MeetingBudgets()
    with GitHubServer(tokens={GITHUB_TOKEN: "triage-bot"}) as github:
        async with (
            github_sink(github.url, budgets, github_create_per_hour=2) as one,
            github_sink(github.url, budgets, github_create_per_hour=2) as two,
        ):
            await one.apply(incident(1))
            entries = await asyncio.gather(one.apply(incident(2)), two.apply(incident(3)))
        issues = github.issues()
    digests = [i for i in issues if i["title"].startswith("[triage] Alert storm")]
    assert len(digests) == 1
    url = digests[0]["html_url"]
    assert all(a.ref and a.ref.startswith(f"{url}#issuecomment-") for a in entries)


# --- replicas racing on one group's update and close ------------------------------------------


async def test_the_last_members_resolving_on_two_replicas_at_once_close_the_group_once(
    tmp_path: Path,
) -> None:
    """A group of 20 pods; 18 resolve, then the last two resolve in two messages taken by two
    replicas at the same moment: the group closes once, its close showing 20 members none
    firing, and nothing is left pending."""
    c = grouping(tmp_path)
    await c.deliver(c.message(webhook([pod(i) for i in range(20)]), 0))
    await c.deliver(c.message(webhook([pod(i, "resolved", 5) for i in range(18)]), 5), 1)
    last = [c.message(webhook([pod(i, "resolved", 6)]), 6) for i in (18, 19)]
    await asyncio.gather(c.deliver(last[0], 0), c.deliver(last[1], 1))
    assert c.kinds().count("close") == 1
    close = next(e for e in c.sink.effects if str(e.kind) == "close")
    assert close.alert.group is not None
    assert (close.alert.group.count, close.alert.group.firing) == (20, 0)
    [group] = await groups(c)
    assert str(group.state) == "closed" and group.pending is None


async def test_members_joining_on_two_replicas_when_an_update_is_due_send_one_update(
    tmp_path: Path,
) -> None:
    """An open group past its update interval; two new pods join at the same moment on two
    replicas: one update goes out (at most one per interval), and the group counts both; the
    one the update missed is owed and shown by the next sweep after the interval."""
    c = grouping(tmp_path)
    await c.deliver(c.message(webhook([pod(i) for i in range(5)]), 0))
    joining = [c.message(webhook([pod(i, minutes=20)]), 20) for i in (5, 6)]
    await asyncio.gather(c.deliver(joining[0], 0), c.deliver(joining[1], 1))
    assert c.kinds() == ["open", "update"]
    [group] = await groups(c)
    assert members(group) == 7 and group.occurrences == 7
    c.clock.now = at(36)
    await c.sweep().once()
    shown = [e.alert.group.count for e in c.sink.effects if e.alert.group is not None]
    assert shown[-1] == 7


async def test_a_groups_close_and_a_new_members_firing_at_once_leave_it_open(
    tmp_path: Path,
) -> None:
    """The last member of a group resolves on one replica while a new pod fires (stamped later)
    on the other at the same moment: whatever order the store takes them in, the group ends
    open with the new pod firing, and its ticket shows it open."""
    c = grouping(tmp_path)
    await c.deliver(c.message(webhook([pod(0)]), 0))
    closing = c.message(webhook([pod(0, "resolved", 5)]), 5)
    firing = c.message(webhook([pod(1, minutes=5.1)]), 5.1)
    await asyncio.gather(c.deliver(closing, 0), c.deliver(firing, 1))
    [group] = await groups(c)
    assert str(group.state) == "open"
    assert last_ticket_state(c) == "open"


# --- counts shown on the ticket against the store ----------------------------------------------


async def test_the_occurrences_a_ticket_is_told_come_to_what_the_store_counts() -> None:
    """An alert re-firing every minute for 40 minutes (each a new occurrence, stamped later),
    messages alternating over two replicas, sweeps between: each update's `new_occurrences`
    adds up to its `occurrences`, and once the storm is over and an update interval has
    passed, the ticket has been told the 40 the store counts (README, an update: "N more
    occurrences since the last update, M in all"), not the count of the last update inside
    the storm."""
    c = Cluster()
    for minute in range(40):
        await c.deliver(c.message(webhook([pod(0, minutes=minute)]), minute), minute % 2)
        c.clock.now = at(minute + 0.5)
        await c.sweep(f"sweep-{minute % 2}").once()
    for minutes in (60, 120):
        c.clock.now = at(minutes)
        await c.sweep().once()
    told = [e for e in c.sink.effects if str(e.kind) in ("open", "update", "reopen")]
    running = 0
    for effect in told:
        running += effect.new_occurrences
        assert running == effect.occurrences
    [stored] = await c.store.incidents()
    assert stored.occurrences == 40
    assert told[-1].occurrences == 40


# --- a group keyed by a label holding a secret --------------------------------------------------

SECRET = "ghp_R3dT3amRound5StormKey0123456789abcdef"


async def test_a_group_keyed_by_a_label_holding_a_secret_never_shows_or_stores_it(
    tmp_path: Path,
) -> None:
    """A storm whose `namespace` (a `group_by` label) holds a GitHub token: the group is still
    one ticket, and neither its effects (open, update, close), their group's labels and
    members, nor the stored records carry the token."""
    c = grouping(tmp_path)
    storm = [{**p, "labels": {**p["labels"], "namespace": f"tenant {SECRET}"}} for p in
             (pod(i) for i in range(5))]  # fmt: skip
    await c.deliver(c.message(webhook(storm), 0))
    later = [{**p, "labels": {**p["labels"], "namespace": f"tenant {SECRET}"}} for p in
             (pod(i, minutes=20) for i in range(5, 8))]  # fmt: skip
    await c.deliver(c.message(webhook(later), 20), 1)
    await c.deliver(c.message(webhook([resolved(a, 40) for a in storm + later]), 40), 0)
    assert c.kinds().count("open") == 1 and c.kinds()[-1] == "close"
    opened = c.sink.effects[0].alert.group
    assert opened is not None and opened.by["namespace"].startswith("tenant [REDACTED")
    assert all(SECRET not in repr(e) for e in c.sink.effects)
    assert all(SECRET not in repr(i) for i in await c.store.incidents())
    assert SECRET not in repr(c.store.__dict__)


# --- a group closed by hand while its members still fire ---------------------------------------


@pytest.mark.parametrize("grouped", [False, True])
async def test_a_storm_closed_by_hand_while_firing_reopens_at_the_next_resend(
    tmp_path: Path, grouped: bool
) -> None:
    """An operator closes a storm's ticket by hand while its pods still crash-loop; 30 minutes
    later Alertmanager re-sends the firing alerts (stamped as before, as every resend is): the
    alerts still fire, so the ticket reopens, grouped or not alike (a group closed for want
    of alerts reopens so, README), rather than staying closed on firing alerts."""
    c = grouping(tmp_path) if grouped else Cluster()
    await c.deliver(c.message(webhook([pod(0)]), 0))
    [opened] = await c.store.incidents()
    assert await c.pipelines[0].close(opened.fingerprint, "cli-1", "looked at it", "ana") is (
        Action.CLOSE
    )
    await c.deliver(c.message(webhook([pod(0)]), 30), 1)
    assert c.kinds() == ["open", "close", "reopen"]


async def test_a_firing_that_carries_out_a_held_close_and_dies_is_finished_once_by_a_retry() -> (
    None
):
    """After a damped check's quiet period, its next firing first sends the held close and then
    reopens (README); the replica taking that message dies inside the close. SQS hands the
    message to the other replica once its visibility lapses: the ticket is closed once and
    reopened once, and the incident is open with nothing pending."""
    c = Cluster()
    for n, (minutes, body) in enumerate(cycle_bodies(6, 30)):
        await c.deliver(c.message(body, minutes), n % 2)
    before = len(c.sink.effects)
    [stored] = await c.store.incidents()
    held = stored.close_held_until
    assert held is not None
    entered, gate = asyncio.Event(), asyncio.Event()
    real_apply = c.sink.apply

    async def dying(effect: Effect) -> Applied:
        entered.set()
        await gate.wait()
        return await real_apply(effect)

    c.sink.apply = dying  # type: ignore[method-assign]
    minutes = (held - at(0)).total_seconds() / 60 + 1
    firing = c.message(webhook([pod(0, minutes=minutes)]), minutes)
    dead = asyncio.create_task(c.deliver(firing, 0))
    await asyncio.wait_for(entered.wait(), timeout=10)
    dead.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await dead
    c.sink.apply = real_apply  # type: ignore[method-assign]
    await c.deliver(again(firing, minutes + 5), 1)
    assert [str(e.kind) for e in c.sink.effects[before:]] == ["close", "reopen"]
    [stored] = await c.store.incidents()
    assert str(stored.state) == "open" and stored.pending is None


# --- a storm message dead-lettered half applied, then redriven ----------------------------------


def minutes_of(m: Message) -> float:
    """When `m` was received, in minutes after T0."""
    return (m.received_at - at(0)).total_seconds() / 60


def redriven(m: Message, minutes: float) -> Message:
    """`m` sent back from the DLQ by `triage dlq redrive`, received `minutes` after T0: a new
    SQS message carrying the dead letter's identity."""
    return Message(
        f"redriven-{m.id}", m.body, f"rh-redriven-{m.id}", 1, at(minutes), received_at=at(minutes),
        attributes={"redriven_from": m.identity},
    )  # fmt: skip


async def dead_lettered(c: Cluster, m: Message, receives: int = 3) -> None:
    """`m` delivered `receives` times, alternately to each replica, every delivery failing
    (a sink's 503): then SQS moves it to the DLQ."""
    for receive in range(1, receives + 1):
        with pytest.raises(SinkUnavailableError):
            await c.deliver(again(m, minutes_of(m) + receive, count=receive), receive % 2)


async def test_a_storm_message_redriven_after_half_was_applied_counts_each_alert_once() -> None:
    """A message of 20 pods fails on every delivery at its 11th pod's open (the backend
    answers 503 for it) until it is dead-lettered; `triage dlq redrive` sends it back, after
    the backend recovered, to the other replica: each pod's ticket opened once, and each
    incident counts one occurrence (the first ten are not counted once per delivery)."""
    c = Cluster()
    real_apply = c.sink.apply
    opened: list[str] = []
    failing = True

    async def failing_from_the_eleventh(effect: Effect) -> Applied:
        if failing and effect.fingerprint not in opened and len(opened) >= 10:
            raise SinkUnavailableError("503")
        opened.append(effect.fingerprint)
        return await real_apply(effect)

    c.sink.apply = failing_from_the_eleventh  # type: ignore[method-assign]
    storm = c.message(webhook([pod(i) for i in range(20)]), 0)
    await dead_lettered(c, storm)
    failing = False
    await c.deliver(redriven(storm, 30), 1)
    assert c.kinds() == ["open"] * 20
    assert sorted(i.occurrences for i in await c.store.incidents()) == [1] * 20


async def test_a_group_message_redriven_after_its_update_failed_counts_each_member_once(
    tmp_path: Path,
) -> None:
    """An open group; 20 minutes on, a message of 20 new pods: its first pod's joining is due
    to update the ticket, and the backend answers that update 503 on every delivery until the
    message is dead-lettered; redriven after the backend recovered, the group counts 21
    members and 21 occurrences, each new pod once."""
    c = grouping(tmp_path)
    await c.deliver(c.message(webhook([pod(0)]), 0))
    c.sink.failures = 3
    joining = c.message(webhook([pod(i, minutes=20) for i in range(1, 21)]), 20)
    await dead_lettered(c, joining)
    await c.deliver(redriven(joining, 50), 1)
    [group] = await groups(c)
    assert members(group) == 21 and group.occurrences == 21
    assert c.kinds().count("open") == 1


# --- a gathering group whose holder died ---------------------------------------------------------


async def deliver_when_free(c: Cluster, m: Message, replica: int) -> list[Action]:
    """`m` on `replica`, tried again as the supervisor does while it is held (a group gathering,
    an effect another replica holds), each retry received when the hold said: at most ten."""
    for attempt in range(10):
        try:
            return await c.deliver(m, replica)
        except BackpressureError as held:
            later = m.received_at + timedelta(seconds=(held.retry_after_s or 1) + 0.5)
            m = Message(m.id, m.body, f"{m.receipt_handle}-{attempt}", m.receive_count,
                        m.sent_at, received_at=later)  # fmt: skip
    raise AssertionError("still held after ten tries")


async def test_a_gathering_group_whose_first_replica_died_opens_once_with_every_member(
    tmp_path: Path,
) -> None:
    """Replica A holds a group's first message for its 30 s window and dies (the message comes
    back only when its visibility lapses, minutes later). Members keep arriving at replica B:
    the group's ticket opens once, from B, listing them all, and A's message coming back
    adds nothing."""
    c = grouping(tmp_path, window_s=30)
    first = c.message(webhook([pod(i) for i in range(3)]), 0)
    with pytest.raises(GatheringError):
        await c.deliver(first, 0)
    await deliver_when_free(c, c.message(webhook([pod(i) for i in range(3, 6)]), 0.2), 1)
    await deliver_when_free(c, c.message(webhook([pod(i, minutes=4) for i in range(6, 9)]), 4), 1)
    await deliver_when_free(c, again(first, 6), 1)
    assert c.kinds().count("open") == 1 and c.summariser.calls == 1
    [group] = await groups(c)
    assert members(group) == 9 and group.occurrences == 9
    c.clock.now = at(30)
    await c.sweep().once()
    shown = [e.alert.group.count for e in c.sink.effects if e.alert.group is not None]
    assert shown[-1] == 9


# --- a damped group and a new member in its quiet period -------------------------------------


async def test_a_new_member_firing_in_a_damped_groups_quiet_period_keeps_its_ticket_open(
    tmp_path: Path,
) -> None:
    """One pod of a group flaps until the group is damped; its last resolve holds the close.
    During the quiet period another pod of the group starts crash-looping: the group is
    open again with its ticket never closed, and the sweeps after the quiet period close
    nothing while that pod fires."""
    c = grouping(tmp_path)
    for n, (minutes, body) in enumerate(cycle_bodies(6, 30)):
        await c.deliver(c.message(body, minutes), n % 2)
    [group] = await groups(c)
    held = group.close_held_until
    assert held is not None
    before = len(c.sink.effects)
    await c.deliver(c.message(webhook([pod(1, minutes=20)]), 20), 1)
    for minutes in (61, 90, 130):
        c.clock.now = held + timedelta(minutes=minutes)
        await c.sweep().once()
    assert "close" not in c.kinds()[before:]
    [group] = await groups(c)
    assert str(group.state) == "open"
    assert group.group is not None and group.group.firing == 1


async def test_renaming_a_grouping_route_mid_storm_keeps_one_ticket(tmp_path: Path) -> None:
    """A routes change that only renames the grouping route (`crash-loops` to
    `k8s-crash-loops`) rolls out mid-storm: Alertmanager's resend of the firing pods, taken
    by a replica on the new routes, is the same storm: still one ticket, one summary, never
    closed while its pods fire."""
    old, new = tmp_path / "old.toml", tmp_path / "new.toml"
    old.write_text(GROUPING_BY.format(by='"alertname", "namespace"'))
    renamed = GROUPING_BY.replace('name = "crash-loops"', 'name = "k8s-crash-loops"')
    new.write_text(renamed.format(by='"alertname", "namespace"'))
    c = Cluster(routes=str(old))
    c.routes = str(new)
    c.pipelines[1] = c._pipeline()
    storm = [pod(i) for i in range(5)]
    await c.deliver(c.message(webhook(storm), 0), 0)
    await c.deliver(c.message(webhook(storm), 5), 1)
    assert c.kinds() == ["open"] and c.summariser.calls == 1


# --- one message holding a member's firing and its resolve ---------------------------------------


@pytest.mark.parametrize("resolve_first", [True, False])
async def test_one_notification_resolving_a_member_and_firing_another_keeps_the_group_open(
    tmp_path: Path, resolve_first: bool
) -> None:
    """A group open for pod 0; Alertmanager's next notification of the group lists pod 0
    resolved (minute 5) and pod 1 firing since minute 4, in either order: pod 1 fired before
    pod 0 resolved, so the group never had no member firing: no close, no reopen (which
    would also count towards flapping), and the group is open with one pod firing."""
    c = grouping(tmp_path)
    await c.deliver(c.message(webhook([pod(0)]), 0))
    listed = [pod(0, "resolved", 5), pod(1, minutes=5, starts=4)]
    if not resolve_first:
        listed.reverse()
    await c.deliver(c.message(webhook(listed), 5), 1)
    assert c.kinds() == ["open"]
    [group] = await groups(c)
    assert str(group.state) == "open"
    assert group.group is not None and group.group.firing == 1


async def test_an_ha_pairs_copies_past_the_tracked_members_count_each_pod_once(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Past the tracked members (20 here), both Alertmanagers of an HA pair send the same
    30-pod storm, taken by two replicas at once: the group counts 30 pods, not 40, and once
    every pod resolves (each resolve also sent twice) it closes once."""
    monkeypatch.setattr(group_rules, "MAX_MEMBERS", 20)
    c = grouping(tmp_path)
    storm = [pod(i) for i in range(30)]
    copies = [c.message(webhook(storm, f"am-{n}"), 0) for n in range(2)]
    await asyncio.gather(c.deliver(copies[0], 0), c.deliver(copies[1], 1))
    [group] = await groups(c)
    assert members(group) == 30
    ended = [pod(i, "resolved", 5) for i in range(30)]
    copies = [c.message(webhook(ended, f"am-{n}"), 5) for n in range(2)]
    await asyncio.gather(c.deliver(copies[0], 0), c.deliver(copies[1], 1))
    assert c.kinds().count("open") == 1 and c.kinds().count("close") == 1
    [group] = await groups(c)
    assert str(group.state) == "closed"


async def test_a_late_firing_of_a_member_past_the_tracked_ones_does_not_reopen_the_group(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Past the tracked members (20 here), 22 pods crash-loop and all resolve at minute 5: the
    group closes. The other Alertmanager's copy of the first notification (pods firing since
    minute 0, older than their resolves) arrives late: it reopens nothing (round 4's rule for
    a tracked member's late firing), and no ticket is left open on pods that ended."""
    monkeypatch.setattr(group_rules, "MAX_MEMBERS", 20)
    c = grouping(tmp_path)
    storm = [pod(i) for i in range(22)]
    await c.deliver(c.message(webhook(storm, "am-0"), 0))
    await c.deliver(c.message(webhook([pod(i, "resolved", 5) for i in range(22)]), 5), 1)
    assert c.kinds() == ["open", "close"]
    await c.deliver(late(c, webhook(storm, "am-1"), queued=0.5, received=6), 0)
    assert c.kinds() == ["open", "close"]
    [group] = await groups(c)
    assert str(group.state) == "closed"


async def test_resends_while_a_grouping_route_is_added_do_not_close_and_reopen_tickets(
    tmp_path: Path,
) -> None:
    """The sibling README covers: a grouping route added (the alerts had incidents of their
    own) rolls out to one replica of two while Alertmanager re-sends the firing storm,
    stamped as before, to either replica in turn: no ticket reopens and none opens twice."""
    old, new = tmp_path / "old.toml", tmp_path / "new.toml"
    old.write_text(GROUPING_BY.format(by='"alertname", "namespace"').replace("group_by", "# "))
    new.write_text(GROUPING_BY.format(by='"alertname", "namespace"'))
    c = Cluster(routes=str(old))
    c.routes = str(new)
    c.pipelines[1] = c._pipeline()
    storm = [pod(i) for i in range(5)]
    for n in range(6):
        await c.deliver(c.message(webhook(storm), n), n % 2)
    assert c.kinds().count("reopen") == 0
    opened = [e.fingerprint for e in c.sink.effects if str(e.kind) == "open"]
    assert len(opened) == len(set(opened))
