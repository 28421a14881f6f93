"""Round 14 (helper 455): storms and groups. The real Pipeline on the in-memory store, a
recording sink, and the group rules' pure functions: each test a bug found in round 14 (or
left by round 13), fixed with it."""

from __future__ import annotations

import asyncio
import dataclasses
import json
from datetime import datetime, timedelta
from pathlib import Path

import pytest

from factories import T0, alert, view
from memory_store import MemoryStore
from test_pipeline import LEASE, POLICY, Clock, CountingSummariser
from test_priority_raised_452 import GROUPED, ROUTE, GatedSummariser, Rig
from test_redteam_round4_storms import grouping, groups, pod, webhook
from test_untracked_moves import Hosts
from triage.errors import GatheringError, SinkUnavailableError, StoreBusyError, TransientError
from triage.incidents import Action, Incident, Ledger
from triage.incidents import groups as group_rules
from triage.incidents import store as store_module
from triage.incidents.claims import delivery_owner
from triage.incidents.codec import incident_from_json, sent_to_json
from triage.incidents.records import INCIDENT, Sent
from triage.incidents.silences import SilenceCache
from triage.metrics import Metrics
from triage.models import Alert, EffectKind, Priority, Status, Ticket, fingerprint_of
from triage.ops.sweep import Sweep
from triage.pipeline import Pipeline
from triage.redact import Redactor
from triage.routes import load_router
from triage.settings import Settings
from triage.sinks.base import Applied, Effect
from triage.sqs.inbox import Message
from triage.view import GroupView, MemberView


def _member(name: str, minutes: float, priority: Priority) -> Alert:
    """Generic alert `name` of service `api` (the group's key), firing at `priority`."""
    sent = alert(name, minutes=minutes, priority=priority)
    return sent.model_copy(update={"labels": {"service": "api", "pod": name}})


async def _sent_or_busy(r: Rig, minutes: float, sent: Alert) -> Action | None:
    """`r.send`, None when the incident was busy (the message waits for the effect in
    progress, as its retry then does)."""
    try:
        return await r.send(minutes, sent)
    except StoreBusyError:
        return None


async def test_a_raise_while_a_gathered_groups_open_is_in_flight_reaches_the_sinks(
    tmp_path: Path,
) -> None:
    """A group gathers (30 s) from a medium member; once the window is over, its open is
    claimed and summarised (in flight) when a member fires at critical: that raise waits for
    the open and then updates the ticket to critical, rather than being stored as stated
    and never told (the open had read the incident before it)."""
    r = Rig(tmp_path, GROUPED)
    first = _member("api-0", 0, Priority.MEDIUM)
    with pytest.raises(GatheringError):
        await r.send(0, first)
    summariser = GatedSummariser()
    r.pipeline.summariser = summariser
    r.clock.at(1)
    # The window over, the first member's next delivery claims the open as its own.
    owner = delivery_owner("m0", "r-2")
    opening = asyncio.create_task(r.pipeline.handle(first, owner, r.pipeline.group_of(first)))
    await asyncio.wait_for(summariser.waiting.wait(), timeout=30)
    raise_ = _member("api-1", 1.1, Priority.CRITICAL)
    await _sent_or_busy(r, 1.1, raise_)
    summariser.gate.set()
    assert await opening is Action.OPEN
    await _sent_or_busy(r, 1.1, raise_)
    kinds = [e.kind for e in r.backend.effects]
    assert kinds == [EffectKind.OPEN, EffectKind.UPDATE], kinds
    assert r.backend.effects[-1].ticket.priority is Priority.CRITICAL


class _Attempts:
    """The backend, keeping every effect it is sent (each attempt), failing the first
    `failures` of them (a 503: the message is retried)."""

    name = "backend"

    def __init__(self, failures: int = 0) -> None:
        self.tried: list[Effect] = []
        self.failures = failures

    async def apply(self, effect: Effect) -> Applied:
        self.tried.append(effect)
        if self.failures:
            self.failures -= 1
            raise SinkUnavailableError("503")
        return Applied("T-1") if effect.kind is EffectKind.OPEN else Applied()

    async def aclose(self) -> None:
        return None


class _Storm:
    """The real pipeline on an in-memory store, grouping generic alerts by `service` (30 s
    window), into one backend (`_Attempts`) and a summariser that counts its calls."""

    def __init__(self, tmp_path: Path, sink: _Attempts) -> None:
        self.store = MemoryStore(POLICY, LEASE)
        self.clock, self.sink = Clock(), sink
        self.summariser = CountingSummariser()
        routes = tmp_path / "routes.toml"
        routes.write_text(
            '[[route]]\nname = "all"\nsinks = ["backend"]\ngroup_by = ["service"]\n'
            "group_window_s = 30\n"
        )
        self.pipeline = Pipeline(
            Ledger(self.store, clock=self.clock),
            self.summariser,
            [sink],
            Metrics(),
            redactor=Redactor(),
            router=load_router(Settings(routes_file=routes)),
            policy=POLICY,
        )

    async def send(self, minutes: float, sent: Alert, owner: str) -> Action:
        """Handle `sent` at `minutes` as delivery `owner` of its message."""
        self.clock.at(minutes)
        return await self.pipeline.handle(sent, owner, self.pipeline.group_of(sent))


def _described(name: str, minutes: float, description: str = "") -> Alert:
    """`_member` at high, with `description`."""
    return _member(name, minutes, Priority.HIGH).model_copy(update={"description": description})


async def test_a_groups_open_too_large_to_keep_sends_the_same_body_on_its_retry(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A group's open whose body is larger than a record holds (a long description, the
    store's bound made small here) fails at the backend once; a member joins before the
    retry: the retry sends the body the first attempt sent (same members, same summary, the
    summariser called once), as a backend enforcing the idempotency-key draft requires,
    rather than a body built afresh (a 422)."""
    monkeypatch.setattr(store_module, "MAX_RECORD_BYTES", 30_000)
    storm = _Storm(tmp_path, _Attempts(failures=1))
    first = _described("api-0", 0, "x" * 40_000)
    with pytest.raises(GatheringError):
        await storm.send(0, first, delivery_owner("m0", "r-1"))
    await storm.send(0.1, _described("api-1", 0.1), delivery_owner("m1", "r-1"))
    with pytest.raises(TransientError):
        await storm.send(1, first, delivery_owner("m0", "r-2"))
    await storm.send(1.5, _described("api-2", 1.5), delivery_owner("m2", "r-1"))
    await storm.send(3, first, delivery_owner("m0", "r-3"))
    tried, retried = storm.sink.tried
    assert retried.alert == tried.alert and retried.ticket == tried.ticket
    assert storm.summariser.calls == 1


def _listed(description: str, titles: int) -> Sent:
    """The body of a group's open: an alert described by `description`, its group listing
    `titles` members titled 200 characters each."""
    members = tuple(MemberView(f"fp-{i}", "t" * 200, Status.FIRING, T0) for i in range(titles))
    shown = dataclasses.replace(
        view(alert()), description=description, group=GroupView({"service": "api"}, members)
    )
    ticket = Ticket(title="api down", priority=Priority.HIGH, description="d")
    return Sent(1, shown, ticket, 3, 1, False)


def _bytes(sent: Sent) -> int:
    """The size of `sent` as the store keeps it."""
    return len(sent_to_json(sent).encode())


def test_a_body_too_large_to_keep_is_cut_to_fit_description_first() -> None:
    """A body over the bound by a long description is cut there (marked), its members'
    titles kept; one over it by its titles as well loses those (every member still listed),
    keeping the description's first `KEPT_DESCRIPTION_CHARS`: both then fit."""
    by_description = _listed("x" * 30_000, 10)
    fitted = group_rules.sent_fitted(by_description, _bytes, 20_000)
    assert _bytes(fitted) <= 20_000
    assert fitted.alert.description.endswith(group_rules.CUT_NOTE)
    assert fitted.alert.group is not None
    assert all(m.title for m in fitted.alert.group.members)
    by_titles = _listed("x" * 30_000, 100)
    fitted = group_rules.sent_fitted(by_titles, _bytes, 20_000)
    assert _bytes(fitted) <= 20_000 and fitted.alert.group is not None
    assert len(fitted.alert.group.members) == 100
    assert not any(m.title for m in fitted.alert.group.members)
    kept = group_rules.KEPT_DESCRIPTION_CHARS
    assert fitted.alert.description.startswith("x" * kept)


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


async def _on_day(hosts: Hosts, day: float, key: str, **fields: object) -> None:
    """Generic alert `key` stamped at T0 unless `fields` say otherwise (a resend stamped as
    its first), handled `day` days after T0 once the store's expired records are dropped."""
    hosts.sent += 1
    when = T0 + timedelta(days=day)
    body = {"title": f"{key} full", "dedup_key": key, "timestamp": T0.isoformat(), **fields}
    mid = f"m-{hosts.sent}"
    hosts.clock.now = when
    _expire(hosts.store, when)
    await hosts.pipeline.process(Message(mid, json.dumps(body), f"rh-{mid}", 1, when, when))


async def test_a_hashed_member_firing_for_forty_days_is_still_found_by_its_resolve(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """disk-c, past both member bounds (known by its bit) and past the kept times (disk-d's
    took its place), fires for 40 days on resends stamped as its first (its record of the
    group kept 30 days past a join): its resolve with its dedup_key only (no host) still
    finds host a's group and closes it, rather than the group staying open for good."""
    monkeypatch.setattr(group_rules, "MAX_MEMBERS", 1)
    monkeypatch.setattr(group_rules, "MAX_UNTRACKED_IDS", 0)
    monkeypatch.setattr(group_rules, "MAX_UNTRACKED_TIMES", 1)
    hosts = Hosts(tmp_path)
    for day in range(0, 41, 4):
        for key in ("disk-a", "disk-c", "disk-d"):
            await _on_day(hosts, day, key, host="a")
    [group] = [i for i in await hosts.store.incidents() if i.group is not None]
    assert group.group is not None and group.group.untracked == 2, group.group
    disk_d = fingerprint_of("generic", {"dedup_key": "disk-d"})
    assert list(group.group.untracked_times) == [disk_d[: group_rules.UNTRACKED_ID_CHARS]]
    resolved_at = (T0 + timedelta(days=40, minutes=1)).isoformat()
    for key in ("disk-a", "disk-d"):
        await _on_day(hosts, 40.001, key, host="a", status="resolved", timestamp=resolved_at)
    assert await hosts.groups() == {"host=a": "open"}
    await _on_day(hosts, 40.002, "disk-c", status="resolved", timestamp=resolved_at)
    assert await hosts.groups() == {"host=a": "closed"}


async def test_a_persons_priority_change_of_a_member_is_not_older_than_another_members_firing(
    tmp_path: Path,
) -> None:
    """api-0 opens the group's ticket (high); a person lowers api-0's priority at minute 1,
    and api-1 joins stamped minute 2 before that change is handled: the change is newer than
    every event of api-0, so it moves the ticket to low, rather than being taken for older
    than the group's newest event (another member's) and dropped. A change stamped before
    api-0's own firing is still older, and changes nothing."""
    r = Rig(tmp_path, ROUTE + 'group_by = ["service"]\n')
    assert await r.send(0, _member("api-0", 0, Priority.HIGH)) is Action.OPEN
    assert await r.send(2, _member("api-1", 2, Priority.HIGH)) is Action.COUNT
    change = _member("api-0", 1, Priority.LOW).model_copy(update={"priority_changed": True})
    assert await r.send(3, change) is Action.UPDATE
    assert r.backend.effects[-1].ticket.priority is Priority.LOW
    stale = _member("api-0", -1, Priority.CRITICAL).model_copy(update={"priority_changed": True})
    assert await r.send(4, stale) is Action.IGNORE


async def test_a_late_resolve_between_two_firings_of_a_hashed_member_leaves_it_open(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A member past both bounds (known by its bit) fires again stamped later (minute 10); a
    resolve of it stamped between its two firings (minute 5) arrives late: it is older than
    the member's newest event, so the group stays open while the member fires, as for a
    member known by its short id (round 13), rather than closing the group under it."""
    monkeypatch.setattr(group_rules, "MAX_MEMBERS", 1)
    monkeypatch.setattr(group_rules, "MAX_UNTRACKED_IDS", 0)
    c = grouping(tmp_path)
    await c.deliver(c.message(webhook([pod(0), pod(1)]), 0))
    await c.deliver(c.message(webhook([pod(0, "resolved", 1)]), 1))
    await c.deliver(c.message(webhook([pod(1, minutes=10)]), 10))
    await c.deliver(c.message(webhook([pod(1, "resolved", 5)]), 11))
    [group] = await groups(c)
    assert str(group.state) == "open", c.kinds()
    assert c.kinds() == ["open"], c.kinds()


async def test_a_raise_while_the_sweep_opens_a_gathered_group_reaches_the_sinks(
    tmp_path: Path,
) -> None:
    """A gathered group's open that the sweep carries out (its first member's message never
    came back): a member raising to critical while the sweep's worker summarises waits for
    that open and then updates the ticket, as with a message's worker (the sweep's claim
    names no delivery)."""
    r = Rig(tmp_path, GROUPED)
    first = _member("api-0", 0, Priority.MEDIUM)
    with pytest.raises(GatheringError):
        await r.send(0, first)
    summariser = GatedSummariser()
    r.pipeline.summariser = summariser
    r.clock.at(10)
    sweep = Sweep(r.store, r.pipeline, SilenceCache(r.store), None, 1.0, clock=r.clock)
    sweeping = asyncio.create_task(sweep.once())
    await asyncio.wait_for(summariser.waiting.wait(), timeout=30)
    raise_ = _member("api-1", 10.1, Priority.CRITICAL)
    await _sent_or_busy(r, 10.1, raise_)
    summariser.gate.set()
    await sweeping
    await _sent_or_busy(r, 10.1, raise_)
    kinds = [e.kind for e in r.backend.effects]
    assert kinds == [EffectKind.OPEN, EffectKind.UPDATE], kinds
    assert r.backend.effects[-1].ticket.priority is Priority.CRITICAL


async def test_two_priority_changes_out_of_order_leave_the_later_one(tmp_path: Path) -> None:
    """A person lowers the ticket to low at minute 2, having moved it to medium at minute 1,
    and the two changes arrive in the other order: the ticket stays at low, the later
    change, rather than taking the earlier one last."""
    r = Rig(tmp_path, ROUTE + 'group_by = ["service"]\n')
    assert await r.send(0, _member("api-0", 0, Priority.HIGH)) is Action.OPEN
    later = _member("api-0", 2, Priority.LOW).model_copy(update={"priority_changed": True})
    earlier = _member("api-0", 1, Priority.MEDIUM).model_copy(update={"priority_changed": True})
    assert await r.send(3, later) is Action.UPDATE
    assert await r.send(4, earlier) is Action.IGNORE
    _assert_ticket_at(r, later, Priority.LOW)


def _assert_ticket_at(r: Rig, sent: Alert, priority: Priority) -> Incident:
    """The backend was last told `priority`, and the stored ticket (read back through the
    record's JSON) carries it; returns the incident so read."""
    assert r.backend.effects[-1].ticket.priority is priority
    group = r.pipeline.group_of(sent)
    key = sent.fingerprint if group is None else group.key
    stored = incident_from_json(r.store.records[(INCIDENT, key)].body)
    assert stored.ticket is not None
    assert stored.ticket.priority is priority
    return stored


def _changed(minutes: float, priority: Priority) -> Alert:
    """A person's change of the generic alert `api-5xx`'s priority to `priority`, made at
    `minutes`."""
    return alert(minutes=minutes, priority=priority).model_copy(update={"priority_changed": True})


async def test_two_priority_changes_of_one_incident_out_of_order_leave_the_later_one(
    tmp_path: Path,
) -> None:
    """A single incident's ticket: a person's change to low at minute 2 arrives before their
    change to medium at minute 1; the earlier one, older than the change applied, is ignored
    (no firing came between them, so the incident's newest event cannot judge it)."""
    r = Rig(tmp_path)
    assert await r.send(0, alert(minutes=0, priority=Priority.HIGH)) is Action.OPEN
    assert await r.send(3, _changed(2, Priority.LOW)) is Action.UPDATE
    assert await r.send(4, _changed(1, Priority.MEDIUM)) is Action.IGNORE
    assert [e.kind for e in r.backend.effects] == [EffectKind.OPEN, EffectKind.UPDATE]
    kept = _assert_ticket_at(r, _changed(2, Priority.LOW), Priority.LOW)
    assert kept.priority_changed_at == T0 + timedelta(minutes=2)
    # A newer change still moves it, the one applied since being older than it.
    assert await r.send(5, _changed(5, Priority.CRITICAL)) is Action.UPDATE
    _assert_ticket_at(r, _changed(5, Priority.CRITICAL), Priority.CRITICAL)


async def test_a_change_to_the_tickets_own_priority_still_makes_earlier_ones_stale(
    tmp_path: Path,
) -> None:
    """A person sets the high ticket to high at minute 3 (nothing to tell), having lowered it
    to low at minute 2: delivered after it, the lowering is stale and the ticket stays high,
    the priority the person chose last."""
    r = Rig(tmp_path)
    assert await r.send(0, alert(minutes=0, priority=Priority.HIGH)) is Action.OPEN
    assert await r.send(4, _changed(3, Priority.HIGH)) is Action.IGNORE
    assert await r.send(5, _changed(2, Priority.LOW)) is Action.IGNORE
    assert [e.kind for e in r.backend.effects] == [EffectKind.OPEN]
    _assert_ticket_at(r, _changed(3, Priority.HIGH), Priority.HIGH)


async def test_a_priority_change_stamped_far_ahead_holds_no_later_change_back(
    tmp_path: Path,
) -> None:
    """A change stamped an hour ahead of this side's clock (a skewed source) is believed only
    up to `max_future_skew` past when it was applied, as an event's time is: a person's next
    change, ten minutes on, still moves the ticket."""
    r = Rig(tmp_path)
    assert await r.send(0, alert(minutes=0, priority=Priority.HIGH)) is Action.OPEN
    assert await r.send(1, _changed(61, Priority.LOW)) is Action.UPDATE
    assert await r.send(11, _changed(11, Priority.CRITICAL)) is Action.UPDATE
    _assert_ticket_at(r, _changed(11, Priority.CRITICAL), Priority.CRITICAL)
