"""Red team round 4: storms, flapping and groups. "A storm becomes one ticket": what a user sees
as one problem opens one ticket, costs one summary, and is neither split nor merged, whatever
order, replica, path or number of deliveries its alerts come by. The real Pipeline on one
in-memory store, one or two replicas (pipelines) sharing it, with a recording sink."""

from __future__ import annotations

import asyncio
import json
import random
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from factories import T0
from memory_store import MemoryStore
from test_pipeline import LEASE, POLICY, Clock, CountingSummariser, FakeSink
from triage.errors import GatheringError
from triage.incidents import Action, Ledger
from triage.incidents import groups as group_rules
from triage.incidents.lifecycle import Incident
from triage.incidents.silences import Matcher, Silence, SilenceCache
from triage.metrics import Metrics
from triage.ops.sweep import Sweep
from triage.pipeline import Pipeline
from triage.redact import Redactor
from triage.routes import load_router
from triage.settings import Settings
from triage.sqs.inbox import Message

PAYLOADS = Path(__file__).parent / "payloads"

#: A route that makes every crash-looping pod of one namespace one incident.
GROUPING = """
[[route]]
name = "crash-loops"
sinks = ["backend"]
group_by = ["alertname", "namespace"]
{window}
[route.match]
source = ["alertmanager"]
"""


def iso(when: datetime) -> str:
    """`when` as Alertmanager and Prometheus write times."""
    return when.isoformat().replace("+00:00", "Z")


def at(minutes: float) -> datetime:
    """`minutes` after T0."""
    return T0 + timedelta(minutes=minutes)


def pod(
    i: int, status: str = "firing", minutes: float = 0, starts: float | None = None
) -> dict[str, Any]:
    """One crash-looping pod as an Alertmanager webhook lists it: firing since `starts`
    (default `minutes`), or resolved at `minutes`."""
    started = at(minutes if starts is None else starts)
    ended = iso(at(minutes)) if status == "resolved" else "0001-01-01T00:00:00Z"
    return {
        "status": status,
        "labels": {"alertname": "KubePodCrashLooping", "namespace": "shop", "pod": f"api-{i}"},
        "annotations": {"summary": f"pod api-{i} is crash looping"},
        "startsAt": iso(started),
        "endsAt": ended,
    }


def webhook(alerts: Sequence[dict[str, Any]], sender: str = "alertmanager-0") -> str:
    """An Alertmanager webhook v4 notification of `alerts`, from one instance of an HA pair."""
    firing = any(a["status"] == "firing" for a in alerts)
    body = {"version": "4", "groupKey": '{}:{alertname="KubePodCrashLooping"}',
            "status": "firing" if firing else "resolved", "receiver": "triage",
            "externalURL": f"http://{sender}:9093", "alerts": list(alerts)}  # fmt: skip
    return json.dumps(body)


@dataclass
class Cluster:
    """Replicas (pipelines) sharing one store, one backend and one model: a ticket opened by
    either is a ticket in the one backend, a summary by either a call to the one model."""

    routes: str | None = None
    replicas: int = 2
    silenced: bool = False
    store: MemoryStore = field(init=False)
    sink: FakeSink = field(init=False)
    summariser: CountingSummariser = field(init=False)
    clock: Clock = field(init=False)
    silences: SilenceCache = field(init=False)
    pipelines: list[Pipeline] = field(init=False)
    sent: int = 0

    def __post_init__(self) -> None:
        self.store = MemoryStore(POLICY, LEASE)
        self.sink, self.summariser, self.clock = FakeSink(), CountingSummariser(), Clock()
        self.silences = SilenceCache(self.store, max_age_s=0.0)
        self.pipelines = [self._pipeline() for _ in range(self.replicas)]

    def _pipeline(self) -> Pipeline:
        router = None
        if self.routes is not None:
            router = load_router(Settings(routes_file=Path(self.routes)))
        return Pipeline(
            Ledger(self.store, clock=self.clock), self.summariser, [self.sink], Metrics(),
            redactor=Redactor(), router=router, policy=POLICY,
            silences=self.silences if self.silenced else None,
        )  # fmt: skip

    def message(self, body: str, minutes: float, mid: str | None = None, count: int = 1) -> Message:
        """`body` queued and received `minutes` after T0 (a new message unless `mid` names one:
        then another delivery of it, `count` its receive count)."""
        self.sent += 1
        when = at(minutes)
        mid = mid or f"m-{self.sent}"
        return Message(mid, body, f"rh-{self.sent}", count, when, received_at=when)

    async def deliver(self, message: Message, replica: int = 0) -> list[Action]:
        """What replica `replica` decides for `message`, handled when it was received."""
        self.clock.now = message.received_at
        return [o.action for o in await self.pipelines[replica].process(message)]

    def kinds(self) -> list[str]:
        return self.sink.kinds()

    def sweep(self, owner: str = "sweep-a") -> Sweep:
        return Sweep(self.store, self.pipelines[0], self.silences, None, 1.0, owner=owner,
                     clock=self.clock)  # fmt: skip


def grouping(tmp_path: Path, window_s: float = 0, **kwargs: Any) -> Cluster:
    """Two replicas on the crash-loops grouping route (with `group_window_s` when given)."""
    routes = tmp_path / "routes.toml"
    window = f"group_window_s = {window_s:g}" if window_s else ""
    routes.write_text(GROUPING.format(window=window))
    return Cluster(routes=str(routes), **kwargs)


async def groups(cluster: Cluster) -> list[Incident]:
    """Every stored group incident."""
    return [i for i in await cluster.store.incidents() if i.group is not None]


def members(incident: Incident) -> int:
    """How many members a stored group counts, tracked or not."""
    assert incident.group is not None
    return len(incident.group.members) + incident.group.untracked


# --- Alertmanager HA pairs and two replicas -------------------------------------------------


async def test_an_ha_pair_sending_one_storm_to_two_replicas_opens_each_incident_once() -> None:
    """Both Alertmanagers of an HA pair send the same 50-alert group, each message taken by
    another replica at once: each alert is one ticket and one summary, not two."""
    c = Cluster()
    alerts = [pod(i) for i in range(50)]
    one = c.message(webhook(alerts, "alertmanager-0"), 0)
    two = c.message(webhook(alerts, "alertmanager-1"), 0)
    await asyncio.gather(c.deliver(one, 0), c.deliver(two, 1))
    assert c.kinds() == ["open"] * 50
    assert c.summariser.calls == 50
    assert len({e.fingerprint for e in c.sink.effects}) == 50


async def test_an_ha_pair_sending_a_grouped_storm_to_two_replicas_is_one_ticket(
    tmp_path: Path,
) -> None:
    """The same with a grouping route: 200 pods in four messages from each Alertmanager, all
    eight taken at once by two replicas, are one ticket and one summary listing 200 members."""
    c = grouping(tmp_path)
    bodies = [webhook([pod(i) for i in range(s, s + 50)], f"am-{n}")
              for s in range(0, 200, 50) for n in range(2)]  # fmt: skip
    messages = [c.message(b, 0) for b in bodies]
    await asyncio.gather(*(c.deliver(m, i % 2) for i, m in enumerate(messages)))
    assert c.kinds()[0] == "open" and c.kinds().count("open") == 1
    assert c.summariser.calls == 1
    [group] = await groups(c)
    assert members(group) == 200


async def test_a_storm_of_1000_members_in_one_message_is_one_ticket_and_one_summary(
    tmp_path: Path,
) -> None:
    """One Alertmanager message of 1,000 pods: one ticket, one LLM call, 1,000 counted; a
    1,001st pod is still counted though no longer listed."""
    c = grouping(tmp_path, window_s=30)
    storm = c.message(webhook([pod(i) for i in range(1000)]), 0)
    with pytest.raises(GatheringError):
        await c.deliver(storm)
    held = Message(storm.id, storm.body, "rh-again", 1, storm.sent_at, received_at=at(0.6))
    await c.deliver(held)
    assert c.kinds() == ["open"] and c.summariser.calls == 1
    [opened] = c.sink.effects
    assert opened.alert.group is not None and opened.alert.group.count == 1000
    await c.deliver(c.message(webhook([pod(1000, minutes=20)]), 20))
    [group] = await groups(c)
    assert members(group) == 1001
    assert c.kinds() == ["open", "update"] and c.summariser.calls == 1


async def test_a_ticket_opened_mid_storm_learns_of_its_members_without_another_alert(
    tmp_path: Path,
) -> None:
    """Without a window, a 200-pod message opens the ticket with its first pod; the 199
    others joined within the update interval. The sweeps after the interval, or
    Alertmanager's repeat of the whole group 4 h later, must tell the ticket of them: it may
    not show one pod of 200 for as long as nothing else changes."""
    c = grouping(tmp_path)
    await c.deliver(c.message(webhook([pod(i) for i in range(200)]), 0))
    assert c.kinds() == ["open"]
    for minutes in (16, 31, 61):
        c.clock.now = at(minutes)
        await c.sweep().once()
    # Alertmanager's repeat_interval (4 h) sends the whole group again, stamped as before.
    await c.deliver(c.message(webhook([pod(i) for i in range(200)]), 240))
    shown = [e.alert.group.count for e in c.sink.effects if e.alert.group is not None]
    assert shown[-1] == 200


async def test_a_storm_of_1000_distinct_messages_over_20_incidents_costs_20_summaries() -> None:
    """1,000 messages over 20 alerts, handed alternately to two replicas: 20 tickets, 20 LLM
    calls (DESIGN: an alert storm of 10,000 messages over 20 incidents costs 20)."""
    c = Cluster()
    messages = [c.message(webhook([pod(n % 20)]), n / 100) for n in range(1000)]
    for n, m in enumerate(messages):
        await c.deliver(m, n % 2)
    assert c.kinds().count("open") == 20 and c.summariser.calls == 20


async def test_redeliveries_during_a_storm_add_no_effect_and_no_count(tmp_path: Path) -> None:
    """Each message of a grouped storm is delivered again to the other replica (a delete that
    failed) while new members keep arriving: one ticket, and the group counts each member's
    alert once."""
    c = grouping(tmp_path)
    firsts = [
        c.message(webhook([pod(i) for i in range(s, s + 10)]), s / 100) for s in range(0, 100, 10)
    ]
    for m in firsts:
        await c.deliver(m, 0)
    for m in firsts:
        again = Message(m.id, m.body, f"{m.receipt_handle}-2", 2, m.sent_at, received_at=at(2))
        await c.deliver(again, 1)
    assert c.kinds() == ["open"] and c.summariser.calls == 1
    [group] = await groups(c)
    assert members(group) == 100
    assert group.occurrences == 100


# --- grouping: order, lateness, windows -----------------------------------------------------


async def test_a_members_resolve_before_its_firing_opens_no_group(tmp_path: Path) -> None:
    """A pod's resolve overtakes its firing (SQS keeps no order): the firing, older than the
    resolve, opens no ticket for a group whose only member has resolved."""
    c = grouping(tmp_path)
    await c.deliver(c.message(webhook([pod(0, "resolved", minutes=2, starts=0)]), 2))
    await c.deliver(c.message(webhook([pod(0, minutes=0)]), 0), 1)
    assert c.kinds() == [] and c.summariser.calls == 0


async def test_a_resolve_before_its_firing_opens_no_ticket() -> None:
    """The same without a group: a resolve recorded first makes its older firing no ticket."""
    c = Cluster()
    assert await c.deliver(c.message(webhook([pod(0, "resolved", minutes=2, starts=0)]), 2)) == [
        Action.RECORD
    ]
    assert await c.deliver(c.message(webhook([pod(0, minutes=0)]), 0), 1) == [Action.IGNORE]
    assert c.kinds() == []


async def test_a_member_resolving_while_others_fire_keeps_the_group_open(tmp_path: Path) -> None:
    """Of three pods, one resolves while two fire: the ticket stays open; it closes when the
    last resolves, whatever order the resolves come in."""
    c = grouping(tmp_path)
    await c.deliver(c.message(webhook([pod(i) for i in range(3)]), 0))
    await c.deliver(c.message(webhook([pod(2, "resolved", 3)]), 3), 1)
    await c.deliver(c.message(webhook([pod(0, "resolved", 5)]), 5), 0)
    assert c.kinds() == ["open"]
    await c.deliver(c.message(webhook([pod(1, "resolved", 6)]), 6), 1)
    assert c.kinds() == ["open", "close"]


async def test_a_members_late_firing_after_the_group_closed_does_not_reopen_it(
    tmp_path: Path,
) -> None:
    """A pod's firing delivered after the group closed, older than that pod's own resolve,
    reopens nothing: the group stays closed."""
    c = grouping(tmp_path)
    await c.deliver(c.message(webhook([pod(0), pod(1)]), 0))
    await c.deliver(c.message(webhook([pod(0, "resolved", 5), pod(1, "resolved", 5)]), 5), 1)
    assert c.kinds() == ["open", "close"]
    await c.deliver(c.message(webhook([pod(1, minutes=3, starts=0)]), 3), 0)
    assert c.kinds() == ["open", "close"]


async def test_a_new_member_after_the_window_joins_the_open_ticket(tmp_path: Path) -> None:
    """With a 30 s window, members arriving during it are in the first ticket; one arriving
    minutes later joins that ticket (an update), never a second ticket."""
    c = grouping(tmp_path, window_s=30)
    first = c.message(webhook([pod(0)]), 0)
    with pytest.raises(GatheringError):
        await c.deliver(first, 0)
    await c.deliver(c.message(webhook([pod(1)]), 0.2), 1)
    held = Message(first.id, first.body, "rh-again", 1, first.sent_at, received_at=at(0.6))
    await c.deliver(held, 0)
    assert c.kinds() == ["open"]
    assert c.sink.effects[0].alert.group is not None
    assert c.sink.effects[0].alert.group.count == 2
    await c.deliver(c.message(webhook([pod(2, minutes=20)]), 20), 1)
    assert c.kinds() == ["open", "update"] and c.summariser.calls == 1


async def test_two_replicas_gathering_one_new_group_open_one_ticket(tmp_path: Path) -> None:
    """Two replicas each receive a first member of a new group at once: both are held for the
    window, and when it ends the group opens once, listing both."""
    c = grouping(tmp_path, window_s=30)
    one, two = c.message(webhook([pod(0)]), 0), c.message(webhook([pod(1)]), 0)
    results = await asyncio.gather(c.deliver(one, 0), c.deliver(two, 1), return_exceptions=True)
    assert any(isinstance(r, GatheringError) for r in results)
    c.clock.now = at(1)
    for n, m in enumerate((one, two)):
        again = Message(m.id, m.body, f"{m.receipt_handle}-2", 1, m.sent_at, received_at=at(1))
        await c.deliver(again, n)
    assert c.kinds() == ["open"] and c.summariser.calls == 1
    assert c.sink.effects[0].alert.group is not None
    assert c.sink.effects[0].alert.group.count == 2


async def test_every_member_resolving_while_the_group_gathers_opens_nothing(tmp_path: Path) -> None:
    """README: if every member resolves while a group is still gathering, no ticket opens."""
    c = grouping(tmp_path, window_s=30)
    first = c.message(webhook([pod(0), pod(1)]), 0)
    with pytest.raises(GatheringError):
        await c.deliver(first, 0)
    await c.deliver(c.message(webhook([pod(0, "resolved", 0.2), pod(1, "resolved", 0.2)]), 0.2), 1)
    held = Message(first.id, first.body, "rh-again", 1, first.sent_at, received_at=at(0.6))
    await c.deliver(held, 0)
    assert c.kinds() == [] and c.summariser.calls == 0


# --- flapping -------------------------------------------------------------------------------


def cycle_bodies(cycles: int, every_s: float) -> list[tuple[float, str]]:
    """A check that fires and resolves every `every_s` seconds: (minutes, body) in order."""
    out = []
    for n in range(cycles):
        fired = n * 2 * every_s / 60
        resolved = fired + every_s / 60
        out.append((fired, webhook([pod(0, minutes=fired)])))
        out.append((resolved, webhook([pod(0, "resolved", resolved, starts=fired)])))
    return out


async def test_a_check_flapping_every_few_seconds_is_one_ticket_with_bounded_effects() -> None:
    """Fire/resolve every 10 s for ten minutes across two replicas: one ticket, opened once,
    reopened until it is marked flapping, then damped: no more closes or reopens."""
    c = Cluster()
    for n, (minutes, body) in enumerate(cycle_bodies(30, 10)):
        await c.deliver(c.message(body, minutes), n % 2)
    kinds = c.kinds()
    assert kinds.count("open") == 1 and c.summariser.calls == 1
    assert kinds.count("reopen") == POLICY.flap_threshold
    assert kinds.count("close") == POLICY.flap_threshold  # the last close is held


async def test_a_flapping_groups_member_is_one_ticket_with_bounded_effects(tmp_path: Path) -> None:
    """The same flapping pod as the only member of a group: one group ticket, damped alike."""
    c = grouping(tmp_path)
    for n, (minutes, body) in enumerate(cycle_bodies(30, 10)):
        await c.deliver(c.message(body, minutes), n % 2)
    kinds = c.kinds()
    assert kinds.count("open") == 1 and c.summariser.calls == 1
    assert kinds.count("reopen") == POLICY.flap_threshold


async def test_a_refire_overtaking_the_resolve_leaves_the_ticket_open() -> None:
    """Fire at 0 s, resolve at 10 s, fire again at 20 s; the re-fire arrives before the
    resolve: the older resolve changes nothing, and the ticket is open."""
    c = Cluster()
    await c.deliver(c.message(webhook([pod(0, minutes=0)]), 0))
    await c.deliver(c.message(webhook([pod(0, minutes=1 / 3)]), 1 / 3), 1)
    await c.deliver(c.message(webhook([pod(0, "resolved", 1 / 6, starts=0)]), 1 / 6), 0)
    assert c.kinds() == ["open"]
    [stored] = await c.store.incidents()
    assert str(stored.state) == "open"


# --- one alert, two paths -------------------------------------------------------------------


def posted(labels: dict[str, str], starts: float, ends: datetime) -> str:
    """What Prometheus posts to `/api/v2/alerts` for one alert."""
    return json.dumps([{"labels": labels, "annotations": {"summary": "crash loop"},
                        "startsAt": iso(at(starts)), "endsAt": iso(ends)}])  # fmt: skip


async def test_one_alert_through_alertmanager_and_prometheus_at_once_is_one_ticket() -> None:
    """Prometheus posts to triage and to an Alertmanager that sends its webhook to triage:
    both messages, taken at once by two replicas, are one incident and one ticket; the
    resolve by either path closes it once."""
    c = Cluster()
    labels = pod(0)["labels"]
    direct = c.message(posted(labels, 0, at(4)), 0)
    via_am = c.message(webhook([pod(0)]), 0)
    await asyncio.gather(c.deliver(direct, 0), c.deliver(via_am, 1))
    assert c.kinds() == ["open"] and c.summariser.calls == 1
    await c.deliver(c.message(webhook([pod(0, "resolved", 3, starts=0)]), 3), 1)
    await c.deliver(c.message(posted(labels, 0, at(3)), 3.5), 0)
    assert c.kinds() == ["open", "close"]


async def test_a_prometheus_resend_after_the_webhooks_resolve_does_not_reopen() -> None:
    """Prometheus keeps re-sending its firing alert (same startsAt) a little while after the
    Alertmanager webhook said it resolved (the paths race): the resend, stamped with the old
    startsAt, reopens nothing."""
    c = Cluster()
    labels = pod(0)["labels"]
    await c.deliver(c.message(webhook([pod(0)]), 0))
    await c.deliver(c.message(webhook([pod(0, "resolved", 3, starts=0)]), 3), 1)
    await c.deliver(c.message(posted(labels, 0, at(7)), 3.2), 0)
    assert c.kinds() == ["open", "close"]


@pytest.mark.parametrize("pair", [("sns-alarm", "eventbridge-alarm"), ("raw-alarm", "sns-alarm")])
async def test_one_cloudwatch_alarm_through_two_deliveries_at_once_is_one_ticket(
    pair: tuple[str, str],
) -> None:
    """One alarm through SNS and through EventBridge (or raw delivery) at once, on two
    replicas: one ticket; its OK through either closes it once."""
    c = Cluster()
    bodies = [(PAYLOADS / "cloudwatch" / f"{name}.json").read_text() for name in pair]
    await asyncio.gather(*(c.deliver(c.message(b, 61), n) for n, b in enumerate(bodies)))
    assert c.kinds() == ["open"] and c.summariser.calls == 1
    ok = (PAYLOADS / "cloudwatch" / "sns-ok.json").read_text()
    eb_ok = (PAYLOADS / "cloudwatch" / "sns-eventbridge-ok.json").read_text()
    await asyncio.gather(c.deliver(c.message(ok, 90), 0), c.deliver(c.message(eb_ok, 90), 1))
    assert c.kinds() == ["open", "close"]


# --- silences during a storm ----------------------------------------------------------------


async def silence(c: Cluster, *matchers: str, hours: float = 1) -> Silence:
    """A silence of `matchers` from now for `hours`, in the cluster's store."""
    made = Silence.new([Matcher.parse(m) for m in matchers], c.clock.now,
                       c.clock.now + timedelta(hours=hours), "maintenance", "alice")  # fmt: skip
    return await c.store.add_silence(made, c.clock.now)


async def test_a_silenced_storm_opens_one_ticket_when_the_silence_ends(tmp_path: Path) -> None:
    """A 300-pod storm under a silence reaches no sink; when the silence ends, two replicas'
    sweeps open one ticket listing every member, with one summary."""
    c = grouping(tmp_path, silenced=True)
    await silence(c, "alertname=KubePodCrashLooping")
    for s in range(0, 300, 100):
        await c.deliver(
            c.message(webhook([pod(i) for i in range(s, s + 100)]), s / 1000), s // 100 % 2
        )
    assert c.kinds() == [] and c.summariser.calls == 0
    c.clock.now = at(61)
    await c.sweep("sweep-a").once()
    await c.sweep("sweep-b").once()
    assert c.kinds() == ["open"] and c.summariser.calls == 1
    assert c.sink.effects[0].alert.group is not None
    assert c.sink.effects[0].alert.group.count == 300


async def test_a_silenced_storm_that_resolves_under_the_silence_opens_nothing(
    tmp_path: Path,
) -> None:
    """Every member of a silenced storm resolves before the silence ends: no ticket, ever."""
    c = grouping(tmp_path, silenced=True)
    await silence(c, "alertname=KubePodCrashLooping")
    await c.deliver(c.message(webhook([pod(i) for i in range(20)]), 0))
    await c.deliver(c.message(webhook([pod(i, "resolved", 5) for i in range(20)]), 5), 1)
    c.clock.now = at(61)
    await c.sweep().once()
    assert c.kinds() == [] and c.summariser.calls == 0


async def test_a_silence_on_one_member_does_not_quiet_the_rest_of_the_storm(tmp_path: Path) -> None:
    """A silence for one pod (its maintenance) while 20 others of its group crash-loop: the
    group's ticket opens for the others, in the message that brought them."""
    c = grouping(tmp_path, silenced=True)
    await silence(c, "pod=api-0")
    await c.deliver(c.message(webhook([pod(i) for i in range(21)]), 0))
    assert c.kinds() == ["open"] and c.summariser.calls == 1


async def test_a_silence_added_mid_storm_holds_updates_but_not_the_close(tmp_path: Path) -> None:
    """A silence added after the group's ticket opened: the members joining under it update
    nothing; the storm's end still closes the ticket (a silence never keeps one open)."""
    c = grouping(tmp_path, silenced=True)
    await c.deliver(c.message(webhook([pod(i) for i in range(5)]), 0))
    await silence(c, "alertname=KubePodCrashLooping")
    await c.deliver(c.message(webhook([pod(i, minutes=20) for i in range(5, 50)]), 20), 1)
    assert c.kinds() == ["open"]
    await c.deliver(c.message(webhook([pod(i, "resolved", 30) for i in range(50)]), 30), 0)
    assert c.kinds() == ["open", "close"]


# --- order: any delivery order of one history ends as its newest event says ----------------


def history(
    member: int, events: int, every_s: float, first_s: float = 0
) -> list[tuple[float, str]]:
    """One pod firing and resolving in turn every `every_s` seconds from `first_s`:
    (minutes, body) per event, the firings stamped with when each began."""
    out = []
    started = first_s / 60
    for n in range(events):
        minutes = (first_s + n * every_s) / 60
        if n % 2 == 0:
            started = minutes
            out.append((minutes, webhook([pod(member, minutes=minutes)])))
        else:
            out.append((minutes, webhook([pod(member, "resolved", minutes, starts=started)])))
    return out


async def settle(c: Cluster, minutes: float) -> None:
    """Sweeps well after every event: held closes and anything owed go out."""
    for later in (minutes + 61, minutes + 122, minutes + 183):
        c.clock.now = at(later)
        await c.sweep().once()


def last_ticket_state(c: Cluster) -> str | None:
    """What the backend shows last: open (after an open, reopen or update) or closed."""
    kinds = [k for k in c.kinds() if k in ("open", "reopen", "update", "close")]
    if not kinds:
        return None
    return "closed" if kinds[-1] == "close" else "open"


@pytest.mark.parametrize("seed", range(12))
async def test_a_flapping_alerts_events_in_any_order_end_as_the_newest_says(seed: int) -> None:
    """Eight fire/resolve events 10 s apart, delivered in a shuffled order to two replicas:
    at most one ticket and one summary, and once settled the ticket shows what the newest
    event says (closed: it ended resolved)."""
    c = Cluster()
    events = history(0, 8, 10)
    order = list(range(len(events)))
    random.Random(seed).shuffle(order)
    for n, i in enumerate(order):
        minutes, body = events[i]
        await c.deliver(c.message(body, minutes + 0.01 * n), n % 2)
    await settle(c, 2)
    assert c.kinds().count("open") <= 1 and c.summariser.calls <= 1
    assert last_ticket_state(c) in (None, "closed")
    [stored] = await c.store.incidents()
    assert str(stored.state) == "closed"


@pytest.mark.parametrize("seed", range(12))
async def test_a_groups_member_events_in_any_order_end_as_the_newest_say(
    tmp_path: Path, seed: int
) -> None:
    """Three pods of one group, each firing and resolving in turn, one left firing; every
    event delivered in a shuffled order to two replicas: one ticket, one summary, and once
    settled the group is open and its ticket shows it open."""
    c = grouping(tmp_path)
    events = history(0, 4, 10) + history(1, 4, 10, first_s=5) + history(2, 5, 10, first_s=3)
    order = list(range(len(events)))
    random.Random(seed).shuffle(order)
    for n, i in enumerate(order):
        minutes, body = events[i]
        await c.deliver(c.message(body, minutes + 0.01 * n), n % 2)
    await settle(c, 2)
    assert c.kinds().count("open") == 1 and c.summariser.calls == 1
    [group] = await groups(c)
    assert str(group.state) == "open"
    assert last_ticket_state(c) == "open"


async def test_a_silenced_first_member_does_not_hold_the_groups_ticket_from_the_rest(
    tmp_path: Path,
) -> None:
    """A pod under maintenance (silenced) fires first, alone; 20 unsilenced pods of its group
    follow in later messages: the group's ticket opens for them then, not when the
    maintenance pod's silence ends."""
    c = grouping(tmp_path, silenced=True)
    await silence(c, "pod=api-0")
    await c.deliver(c.message(webhook([pod(0)]), 0))
    assert c.kinds() == []
    await c.deliver(c.message(webhook([pod(i, minutes=1) for i in range(1, 21)]), 1), 1)
    assert c.kinds() == ["open"] and c.summariser.calls == 1


async def test_a_members_resolve_overtaking_its_firing_in_an_open_group_counts_it_resolved(
    tmp_path: Path,
) -> None:
    """In an open group, pod 5's resolve (2 min) arrives before its firing (1 min): the firing
    is older and leaves pod 5 resolved, so the group closes when the others resolve."""
    c = grouping(tmp_path)
    await c.deliver(c.message(webhook([pod(i) for i in range(3)]), 0))
    await c.deliver(c.message(webhook([pod(5, "resolved", 2, starts=1)]), 2), 1)
    await c.deliver(c.message(webhook([pod(5, minutes=1)]), 1), 0)
    await c.deliver(c.message(webhook([pod(i, "resolved", 3) for i in range(3)]), 3), 1)
    assert c.kinds()[-1] == "close"
    [group] = await groups(c)
    assert str(group.state) == "closed"


# --- the class of the stale ticket: changes inside an interval with nothing after -----------


async def test_a_member_resolving_inside_the_interval_is_shown_resolved_eventually(
    tmp_path: Path,
) -> None:
    """Three pods open a group (gathered in its window); a minute later two of them resolve
    and nothing else happens for hours: the ticket must come to show one pod firing, not
    three."""
    c = grouping(tmp_path, window_s=30)
    first = c.message(webhook([pod(i) for i in range(3)]), 0)
    with pytest.raises(GatheringError):
        await c.deliver(first)
    await c.deliver(
        Message(first.id, first.body, "rh-again", 1, first.sent_at, received_at=at(0.6))
    )
    assert [e.alert.group.firing for e in c.sink.effects if e.alert.group is not None] == [3]
    await c.deliver(c.message(webhook([pod(i, "resolved", 1) for i in range(2)]), 1), 1)
    await settle(c, 1)
    # Alertmanager's repeat of the group, 4 h on: the pod still firing, stamped as before.
    await c.deliver(c.message(webhook([pod(2)]), 240))
    shown = [e.alert.group.firing for e in c.sink.effects if e.alert.group is not None]
    assert shown[-1] == 1


# --- closing for want of alerts while the storm goes on -------------------------------------

QUIET_ROUTE = """
[[route]]
name = "crash-loops"
sinks = ["backend"]
resolve_after_s = 600
{group}
[route.match]
source = ["alertmanager"]
"""


def quiet_route(tmp_path: Path, grouped: bool) -> Cluster:
    """Two replicas on a route that closes an incident after 10 minutes without an alert."""
    routes = tmp_path / "routes.toml"
    group = 'group_by = ["alertname", "namespace"]' if grouped else ""
    routes.write_text(QUIET_ROUTE.format(group=group))
    return Cluster(routes=str(routes))


@pytest.mark.parametrize("grouped", [False, True])
async def test_resends_stamped_as_before_keep_a_firing_storm_from_closing_for_quiet(
    tmp_path: Path, grouped: bool
) -> None:
    """Prometheus re-sends its firing alerts every minute with the same startsAt for 30
    minutes: the incident has alerts all along, so `resolve_after_s = 600` never closes it."""
    c = quiet_route(tmp_path, grouped)
    labels = [pod(i)["labels"] for i in range(3)]
    for minute in range(31):
        alerts = [{"labels": lb, "annotations": {}, "startsAt": iso(at(0)),
                   "endsAt": iso(at(minute + 4))} for lb in labels]  # fmt: skip
        await c.deliver(c.message(json.dumps(alerts), minute), minute % 2)
        c.clock.now = at(minute + 0.5)
        await c.sweep().once()
    assert "close" not in c.kinds()
    assert c.kinds().count("open") == (1 if grouped else 3)


# --- one flapping alert through two paths ---------------------------------------------------


@pytest.mark.parametrize("seed", range(8))
async def test_a_flapping_alert_through_both_paths_is_damped_as_one(seed: int) -> None:
    """Each fire and resolve of a flapping pod arrives twice, by the Alertmanager webhook and
    by Prometheus posting direct, the copies in a shuffled order near each other on two
    replicas: one ticket, and no more reopens than the alert's own (the copies are not
    re-fires)."""
    c = Cluster()
    labels = pod(0)["labels"]
    copies: list[tuple[float, str]] = []
    for n, (minutes, body) in enumerate(history(0, 12, 20)):
        started = minutes if n % 2 == 0 else (n - 1) * 20 / 60
        ends = at(minutes + 4) if n % 2 == 0 else at(minutes)
        pair = [(minutes, body), (minutes, posted(labels, started, ends))]
        random.Random(seed * 100 + n).shuffle(pair)
        copies += pair
    for n, (minutes, body) in enumerate(copies):
        await c.deliver(c.message(body, minutes + 0.001 * n), n % 2)
    kinds = c.kinds()
    assert kinds.count("open") == 1 and c.summariser.calls == 1
    assert kinds.count("reopen") == POLICY.flap_threshold
    [stored] = await c.store.incidents()
    assert str(stored.state) == "closed"


# --- past the tracked members ---------------------------------------------------------------


async def test_a_group_past_1000_members_does_not_close_while_counted_members_fire(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Past the tracked members (1,000; 20 here, the same code, to keep it fast), 22 pods
    crash-loop; Alertmanager's next notification of the group says 20 have resolved and lists
    the 2 others still firing: the ticket stays open (README: it closes when every member has
    resolved), and no close and reopen follow."""
    monkeypatch.setattr(group_rules, "MAX_MEMBERS", 20)
    c = grouping(tmp_path)
    await c.deliver(c.message(webhook([pod(i) for i in range(22)]), 0))
    [group] = await groups(c)
    assert members(group) == 22 and group.group is not None and group.group.untracked == 2
    later = [pod(i, "resolved", 5) for i in range(20)] + [pod(i) for i in range(20, 22)]
    await c.deliver(c.message(webhook(later), 5), 1)
    [group] = await groups(c)
    assert str(group.state) == "open"
    assert c.kinds() == ["open"]


# --- flapping for hours, with the sweeps running --------------------------------------------


@pytest.mark.parametrize("grouped", [False, True])
async def test_two_hours_of_flapping_with_sweeps_is_one_ticket_closed_once_at_the_end(
    tmp_path: Path, grouped: bool
) -> None:
    """A check firing for 30 s and resolved for 30 s, for two hours, both replicas sweeping
    every minute: one ticket, reopened until it is marked flapping, then no effect until it
    stops; one close an hour after its last resolve (README: one ticket, three reopens)."""
    c = grouping(tmp_path) if grouped else Cluster()
    for n, (minutes, body) in enumerate(history(0, 240, 30)):
        await c.deliver(c.message(body, minutes), n % 2)
        if n % 2:
            await c.sweep(f"sweep-{n % 4}").once()
    during = list(c.kinds())
    assert during.count("open") == 1 and during.count("reopen") == POLICY.flap_threshold
    assert during.count("close") == POLICY.flap_threshold
    await settle(c, 120)
    assert c.kinds() == [*during, "close"]
    assert c.summariser.calls == 1


# --- the Alertmanager SNS template beside the webhook ---------------------------------------


def go_time(when: datetime) -> str:
    """A time as Alertmanager's SNS template prints it."""
    return when.strftime("%Y-%m-%d %H:%M:%S +0000 UTC")


def sns_template(alerts: Sequence[dict[str, Any]]) -> str:
    """What the README's SNS template writes for `alerts` (raw message delivery)."""
    written = [
        {**a, "startsAt": go_time(datetime.fromisoformat(a["startsAt"])),
         "endsAt": "0001-01-01 00:00:00 +0000 UTC" if a["status"] == "firing"
         else go_time(datetime.fromisoformat(a["endsAt"]))}
        for a in alerts
    ]  # fmt: skip
    status = "firing" if any(a["status"] == "firing" for a in alerts) else "resolved"
    return json.dumps({"receiver": "triage-sns", "status": status, "alerts": written})


async def test_one_group_through_the_webhook_and_sns_at_once_is_one_ticket(tmp_path: Path) -> None:
    """A team moving from the webhook to `sns_configs` runs both for a while: each
    notification arrives twice, on two replicas at once; one group ticket, one summary,
    closed once."""
    c = grouping(tmp_path)
    alerts = [pod(i) for i in range(20)]
    await asyncio.gather(
        c.deliver(c.message(webhook(alerts), 0), 0),
        c.deliver(c.message(sns_template(alerts), 0), 1),
    )
    assert c.kinds() == ["open"] and c.summariser.calls == 1
    resolved = [pod(i, "resolved", 5) for i in range(20)]
    await asyncio.gather(
        c.deliver(c.message(sns_template(resolved), 5), 0),
        c.deliver(c.message(webhook(resolved), 5), 1),
    )
    assert c.kinds() == ["open", "close"]


# --- a held first message delivered again ---------------------------------------------------


async def test_a_gathering_message_delivered_again_elsewhere_opens_the_group_once(
    tmp_path: Path,
) -> None:
    """The message that opens a group is held for its window on one replica; SQS hands it to
    the other too (its visibility lapsed): both wait, both come back after the window, at
    once, and the group opens once with every member counted once."""
    c = grouping(tmp_path, window_s=30)
    first = c.message(webhook([pod(i) for i in range(10)]), 0)
    with pytest.raises(GatheringError):
        await c.deliver(first, 0)
    again = Message(first.id, first.body, "rh-2", 2, first.sent_at, received_at=at(0.1))
    with pytest.raises(GatheringError):
        await c.deliver(again, 1)
    await c.deliver(c.message(webhook([pod(i) for i in range(10, 20)]), 0.2), 1)
    c.clock.now = at(1)
    retries = [Message(m.id, m.body, m.receipt_handle, m.receive_count, m.sent_at,
                       received_at=at(1)) for m in (first, again)]  # fmt: skip
    await asyncio.gather(*(c.deliver(m, n) for n, m in enumerate(retries)))
    assert c.kinds() == ["open"] and c.summariser.calls == 1
    assert c.sink.effects[0].alert.group is not None
    assert c.sink.effects[0].alert.group.count == 20
    [group] = await groups(c)
    assert group.occurrences == 20


async def test_a_silenced_first_member_does_not_cut_the_groups_window_short(
    tmp_path: Path,
) -> None:
    """With a 30 s window: the maintenance pod (silenced) starts the group alone; 20
    unsilenced pods follow in one message within the window. The group's first ticket lists
    every member, as the window promises, not the first unsilenced pod only."""
    c = grouping(tmp_path, window_s=30, silenced=True)
    await silence(c, "pod=api-0")
    await c.deliver(c.message(webhook([pod(0)]), 0), 0)
    await deliver_after_windows(c, c.message(webhook([pod(i) for i in range(1, 21)]), 0.2), 1)
    assert c.kinds() == ["open"] and c.summariser.calls == 1
    assert c.sink.effects[0].alert.group is not None
    assert c.sink.effects[0].alert.group.count == 21


async def deliver_after_windows(c: Cluster, message: Message, replica: int) -> None:
    """Deliver `message`, and again as the supervisor does each time a group holds it to
    gather members, once the window it names is over."""
    for attempt in range(3):
        try:
            await c.deliver(message, replica)
            return
        except GatheringError as gathering:
            when = message.received_at + timedelta(seconds=(gathering.retry_after_s or 0) + 1)
            message = Message(message.id, message.body, f"{message.receipt_handle}-{attempt}",
                              message.receive_count, message.sent_at, received_at=when)  # fmt: skip
    raise AssertionError("still gathering after three windows")


# --- one flapping CloudWatch alarm through SNS and EventBridge -----------------------------


def cloudwatch_state(path: str, state: str, when: datetime, n: int) -> str:
    """The sample alarm `path` (SNS or EventBridge) changing to `state` at `when`, as
    delivery `n` of its own (a new SNS MessageId or event id)."""
    body = json.loads((PAYLOADS / "cloudwatch" / path).read_text())
    stamp = when.strftime("%Y-%m-%dT%H:%M:%S.") + f"{when.microsecond // 1000:03d}+0000"
    old = "OK" if state == "ALARM" else "ALARM"
    if "Message" in body:
        message = json.loads(body["Message"])
        message.update(NewStateValue=state, OldStateValue=old, StateChangeTime=stamp)
        return json.dumps(body | {"Message": json.dumps(message), "MessageId": f"sns-{n}"})
    body["detail"]["state"].update(value=state, timestamp=stamp)
    body["detail"]["previousState"]["value"] = old
    return json.dumps(body | {"id": f"eb-{n}", "time": iso(when.replace(microsecond=0))})


@pytest.mark.parametrize("seed", range(6))
async def test_a_flapping_alarm_through_sns_and_eventbridge_is_damped_as_one(seed: int) -> None:
    """A CloudWatch alarm going ALARM and OK every minute, each change delivered both through
    SNS and through EventBridge, the copies shuffled near each other over two replicas: one
    ticket, and no more reopens than the alarm's own."""
    c = Cluster()
    copies: list[tuple[float, str]] = []
    for n in range(12):
        changed = 60.0 + n  # the sample alarm's time: 10:00 on T0's day
        state = "ALARM" if n % 2 == 0 else "OK"
        pair = [(changed, cloudwatch_state(path, state, at(changed), n))
                for path in ("sns-alarm.json", "eventbridge-alarm.json")]  # fmt: skip
        random.Random(seed * 100 + n).shuffle(pair)
        copies += pair
    for n, (minutes, body) in enumerate(copies):
        await c.deliver(c.message(body, minutes + 0.001 * n), n % 2)
    kinds = c.kinds()
    assert kinds.count("open") == 1 and c.summariser.calls == 1
    assert kinds.count("reopen") == POLICY.flap_threshold
    [stored] = await c.store.incidents()
    assert str(stored.state) == "closed"


async def test_a_group_opening_anew_long_after_its_close_gathers_its_members_again(
    tmp_path: Path,
) -> None:
    """A group closed hours ago (past the reopen window) fires again: its new first ticket
    waits for the window as a new group's does, and lists the members that joined in it."""
    c = grouping(tmp_path, window_s=30)
    await deliver_after_windows(c, c.message(webhook([pod(i) for i in range(3)]), 0), 0)
    await c.deliver(c.message(webhook([pod(i, "resolved", 5) for i in range(3)]), 5), 1)
    first = c.message(webhook([pod(0, minutes=200)]), 200)
    with pytest.raises(GatheringError):
        await c.deliver(first, 0)
    await c.deliver(c.message(webhook([pod(i, minutes=200.2) for i in range(5, 25)]), 200.2), 1)
    await c.deliver(
        Message(first.id, first.body, "rh-again", 1, first.sent_at, received_at=at(201))
    )
    assert c.kinds() == ["open", "close", "open"] and c.summariser.calls == 2
    reopened = c.sink.effects[-1].alert.group
    assert reopened is not None and reopened.firing == 21


# --- events stamped alike, queued in the same millisecond -----------------------------------


HOSTS = """
[[route]]
name = "hosts"
sinks = ["backend"]
group_by = ["host"]
[route.match]
source = ["generic"]
"""


async def final_state(order: str, routes: str | None = None) -> tuple[str, list[str]]:
    """A script's firing and resolve of one check, stamped with the same second and queued in
    the same millisecond (one SendMessageBatch), delivered in `order` ("fr" or "rf") to two
    replicas (on the routes file `routes`, when given): the state of the incident holding
    it and the backend's effects."""
    c = Cluster(routes=routes)
    alert = {"title": "disk full", "dedup_key": "disk-a", "host": "db-1", "timestamp": iso(at(1))}
    bodies = {"f": alert, "r": alert | {"status": "resolved"}}
    for n, key in enumerate(order):
        message = Message(
            f"m-{key}", json.dumps(bodies[key]), f"rh-{key}", 1, at(1), received_at=at(1)
        )
        await c.deliver(message, n % 2)
    holding = [
        i for i in await c.store.incidents() if (i.group is not None) == (routes is not None)
    ]
    return str(holding[0].state), c.kinds()


@pytest.mark.parametrize("grouped", [False, True])
async def test_a_fire_and_resolve_stamped_and_queued_alike_end_alike_in_either_order(
    tmp_path: Path, grouped: bool
) -> None:
    """Whichever replica takes which first, the fire and resolve of one check queued in one
    batch end the incident (or the group it is a member of) in one state: README, 'replicas
    writing them in either order agree'. (The bug: fire first closed it; resolve first left a
    ticket open for good.)"""
    routes = None
    if grouped:
        (tmp_path / "routes.toml").write_text(HOSTS)
        routes = str(tmp_path / "routes.toml")
    assert await final_state("fr", routes) == await final_state("rf", routes)
