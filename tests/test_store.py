"""The Store behaviour suite: claims, intents, takeovers and races, run against every store."""

from __future__ import annotations

import asyncio
import contextlib
import json
import sqlite3
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

import pytest
import structlog
from aiobotocore.config import AioConfig

from factories import T0, alert, view
from fault_proxy import FaultProxy
from moto_speed import loopback_aws_client
from triage.errors import (
    BackpressureError,
    ConfigError,
    StoreBusyError,
    StoreCorruptError,
    StoreThrottledError,
    StoreUnavailableError,
)
from triage.incidents import store as store_module
from triage.incidents.codec import (
    incident_from_json,
    incident_to_json,
    view_from_json,
    view_to_json,
)
from triage.incidents.dynamodb import DynamoDBStore, create_table
from triage.incidents.groups import GroupKey
from triage.incidents.lifecycle import Action, Policy, State
from triage.incidents.silences import Matcher, Silence
from triage.incidents.sqlite import SQLiteStore
from triage.incidents.store import (
    BUDGET as BUDGET_KIND,
)
from triage.incidents.store import (
    INCIDENT,
    SILENCES,
    SILENCES_KEY,
    Hold,
    Record,
    Routing,
    Store,
    delivery_owner,
)
from triage.models import EffectKind, Priority, Status, Ticket
from triage.ratelimit import Budget

POLICY = Policy(update_interval=timedelta(minutes=15), reopen_window=timedelta(hours=1))
LEASE = timedelta(minutes=2)
TICKET = Ticket(
    title="api-5xx is failing", priority=Priority.HIGH, description="d", steps=("look",)
)


@pytest.fixture(params=["sqlite", "dynamodb"])
async def store(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Store]:
    """Each test runs once per store: SQLite on disk, DynamoDB on moto's server."""
    if request.param == "sqlite":
        s = SQLiteStore(str(tmp_path / "t.db"), POLICY, LEASE, timedelta(days=30))
        await s.open()
        yield s
        await s.aclose()
        return
    moto_url = request.getfixturevalue("moto_url")
    async with loopback_aws_client("dynamodb", moto_url) as client:
        await create_table(client, "incidents")
        yield DynamoDBStore(client, "incidents", POLICY, LEASE, timedelta(days=30))


async def test_open_claims_effect_and_finish_clears_it(store: Store) -> None:
    """A new incident is claimed with a pending OPEN; confirm+finish store the ref and clear it."""
    t = await store.begin(alert(), "m1", T0)
    assert t.action is Action.OPEN
    assert t.after is not None and t.after.pending is not None
    assert t.idempotency_key.endswith(":1")
    await store.save_ticket(t.after.fingerprint, "m1", TICKET)
    await store.confirm(t.after.fingerprint, "m1", "backend", "T-1")
    await store.finish(t.after.fingerprint, "m1")
    stored = await store.get(t.after.fingerprint)
    assert stored is not None
    assert stored.pending is None
    assert stored.refs == {"backend": "T-1"}
    assert stored.ticket == TICKET


async def test_repeat_while_open_pending_is_counted(store: Store) -> None:
    """A repeat arriving while another worker is still opening the ticket is just counted."""
    await store.begin(alert(), "m1", T0)
    t = await store.begin(alert(minutes=1), "m2", T0 + timedelta(minutes=1))
    assert t.action is Action.COUNT
    assert t.after is not None and t.after.occurrences == 2


async def test_effect_while_other_owner_holds_lease_is_busy(store: Store) -> None:
    """A resolve that needs an effect while another worker holds the pending OPEN is retried later."""
    await store.begin(alert(), "m1", T0)
    with pytest.raises(StoreBusyError):
        await store.begin(alert(status=Status.RESOLVED, minutes=1), "m2", T0 + timedelta(minutes=1))


async def test_abandoned_effect_is_taken_over_with_same_key(store: Store) -> None:
    """After the lease ends, the next worker redoes the abandoned OPEN with the same idempotency key."""
    first = await store.begin(alert(), "m1", T0)
    later = T0 + LEASE + timedelta(seconds=1)
    redo = await store.begin(alert(minutes=3), "m2", later)
    assert redo.action is Action.OPEN
    assert redo.redo
    assert redo.idempotency_key == first.idempotency_key
    assert redo.after is not None and redo.after.pending is not None
    assert redo.after.pending.owner == "m2"


async def test_own_retry_redoes_effect_without_reapplying(store: Store) -> None:
    """The same message retried redoes its own pending effect and is not counted twice."""
    await store.begin(alert(), "m1", T0)
    again = await store.begin(alert(), "m1", T0 + timedelta(seconds=5))
    assert again.action is Action.OPEN
    assert not again.redo
    assert again.after is not None and again.after.occurrences == 1


async def test_a_second_delivery_waits_while_the_first_holds_the_lease(store: Store) -> None:
    """Two deliveries of one message own different claims: while the first holds its lease,
    the second is busy; once the lease ran out (a crash), it takes the claim as its own."""
    first, second = delivery_owner("m1#0", "a"), delivery_owner("m1#0", "b")
    await store.begin(alert(), first, T0)
    with pytest.raises(StoreBusyError, match="another delivery"):
        await store.begin(alert(), second, T0 + timedelta(seconds=5))
    again = await store.begin(alert(), second, T0 + LEASE + timedelta(seconds=1))
    assert again.action is Action.OPEN and not again.redo
    assert again.after is not None and again.after.occurrences == 1
    assert again.after.pending is not None and again.after.pending.owner == second


async def test_a_delivery_of_an_alert_whose_effect_finished_changes_nothing(
    store: Store,
) -> None:
    """SQS delivers at least once: a message's alert delivered again after its effect finished
    is ignored (no second count), while another message's alert is counted."""
    t = await store.begin(alert(), delivery_owner("m1#0", "a"), T0)
    assert t.after is not None
    await store.finish(t.after.fingerprint, delivery_owner("m1#0", "a"))
    again = await store.begin(alert(), delivery_owner("m1#0", "b"), T0 + timedelta(seconds=5))
    assert again.action is Action.IGNORE and again.after is None
    other = await store.begin(alert(), delivery_owner("m2#0", "c"), T0 + timedelta(seconds=6))
    assert other.action is Action.COUNT
    assert other.after is not None and other.after.occurrences == 2


async def test_a_repeat_delivered_again_is_counted_once(store: Store) -> None:
    """A repeat counted by one delivery of its message (whose delete then failed) is ignored
    by the next delivery, in the same single write per repeat; another message's repeat is
    still counted."""
    opened = await store.begin(alert(), delivery_owner("m1#0", "a"), T0)
    await store.finish(opened.fingerprint, delivery_owner("m1#0", "a"))
    counted = await store.begin(alert(minutes=1), delivery_owner("m2#0", "a"), T0)
    assert counted.action is Action.COUNT and counted.after is not None
    assert counted.after.occurrences == 2
    assert opened.after is not None and counted.after.version == opened.after.version + 2
    again = await store.begin(alert(minutes=1), delivery_owner("m2#0", "b"), T0)
    assert again.action is Action.IGNORE and again.after is None
    other = await store.begin(alert(minutes=1), delivery_owner("m3#0", "a"), T0)
    assert other.action is Action.COUNT
    stored = await store.get(opened.fingerprint)
    assert stored is not None and stored.occurrences == 3


async def test_the_repeats_an_incident_remembers_are_bounded(
    store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A storm of repeats none of whose deletes is confirmed keeps the record's size flat:
    only the newest COUNTED_KEPT repeats are remembered, and those are still ignored when
    delivered again."""
    monkeypatch.setattr(store_module, "COUNTED_KEPT", 16)  # the bound, not its size, is tested
    opened = await store.begin(alert(), "m0#0@a", T0)
    await store.finish(opened.fingerprint, "m0#0@a")
    repeats = store_module.COUNTED_KEPT * 3
    for i in range(1, repeats + 1):
        await store.begin(alert(), f"m{i}#0@a", T0)
    stored = await store.get(opened.fingerprint)
    assert stored is not None and stored.occurrences == 1 + repeats
    assert len(stored.counted_by) == store_module.COUNTED_KEPT
    again = await store.begin(alert(), f"m{repeats}#0@b", T0)
    assert again.action is Action.IGNORE


async def test_a_repeat_redelivered_after_a_storm_of_later_repeats_is_counted_once(
    store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A repeat whose delete failed comes back after far more than COUNTED_KEPT later repeats
    (each acked, as in a storm): it is ignored, not counted a second time."""
    monkeypatch.setattr(store_module, "COUNTED_KEPT", 16)  # the bound, not its size, is tested
    opened = await store.begin(alert(), "m0#0@a", T0)
    await store.finish(opened.fingerprint, "m0#0@a")
    lost = await store.begin(alert(), "lost#0@a", T0)
    assert lost.action is Action.COUNT
    later = store_module.COUNTED_KEPT * 4
    for i in range(1, later + 1):
        await store.begin(alert(), f"m{i}#0@a", T0)
        store.settle([f"m{i}#0"])  # SQS confirmed its delete
    again = await store.begin(alert(), "lost#0@b", T0)
    assert again.action is Action.IGNORE
    stored = await store.get(opened.fingerprint)
    assert stored is not None and stored.occurrences == 2 + later
    assert len(stored.counted_by) <= 2  # the lost one, and the last one not yet settled


async def test_a_close_forgets_the_counted_repeats_and_still_ignores_their_return(
    store: Store,
) -> None:
    """The repeats an incident remembers (none of them settled here: a process that stopped
    leaves such ids behind) are dropped when it closes, and one of them delivered again after
    the close is still ignored: it is older than the resolve."""
    opened = await store.begin(alert(), "m0#0@a", T0)
    await store.finish(opened.fingerprint, "m0#0@a")
    await store.begin(alert(minutes=1), "m1#0@a", T0 + timedelta(minutes=1))
    closing = await store.begin(
        alert(status=Status.RESOLVED, minutes=2), "m2#0@a", T0 + timedelta(minutes=2)
    )
    assert closing.action is Action.CLOSE and closing.after is not None
    assert closing.after.counted_by == ()
    await store.finish(opened.fingerprint, "m2#0@a")
    again = await store.begin(alert(minutes=1), "m1#0@b", T0 + timedelta(minutes=3))
    assert again.action is Action.IGNORE
    stored = await store.get(opened.fingerprint)
    assert stored is not None and stored.occurrences == 2 and stored.state is State.CLOSED


async def test_a_retry_after_a_failed_delivery_takes_its_claim_at_once(store: Store) -> None:
    """A delivery that failed released its claim: the message's next delivery takes it as its
    own at once, without counting the alert again."""
    first, second = delivery_owner("m1#0", "a"), delivery_owner("m1#0", "b")
    t = await store.begin(alert(), first, T0)
    assert t.after is not None
    await store.release(t.after.fingerprint, first)
    again = await store.begin(alert(), second, T0 + timedelta(seconds=1))
    assert again.action is Action.OPEN and not again.redo
    assert again.after is not None and again.after.occurrences == 1


async def test_a_gathering_group_is_taken_by_its_alerts_next_delivery(store: Store) -> None:
    """A group gathering members is held by no delivery: the opening alert's next delivery,
    after the window, takes the claim as its own, though the lease has not run out."""
    group = GroupKey.of("pods", ("alertname",), {"alertname": "Crash"}, 30, str)
    first, second = delivery_owner("m0#0", "a"), delivery_owner("m0#0", "b")
    opened = await store.begin(alert("api-0"), first, T0, group)
    assert opened.after is not None and opened.after.pending is not None
    assert opened.after.pending.owner == "m0#0"
    again = await store.begin(alert("api-0"), second, T0 + timedelta(seconds=31), group)
    assert again.action is Action.OPEN and not again.redo
    assert again.after is not None and again.after.pending is not None
    assert again.after.pending.owner == second


async def test_release_lets_a_retry_take_over_at_once(store: Store) -> None:
    """release() after a failure ends the lease, so another worker may take over immediately."""
    first = await store.begin(alert(), "m1", T0)
    assert first.after is not None
    await store.release(first.after.fingerprint, "m1")
    redo = await store.begin(alert(minutes=1), "m2", T0 + timedelta(seconds=1))
    assert redo.redo


async def test_confirmed_sinks_are_remembered_for_redo(store: Store) -> None:
    """A sink that confirmed before a crash is listed as done in the redone effect."""
    t = await store.begin(alert(), "m1", T0)
    assert t.after is not None
    await store.confirm(t.after.fingerprint, "m1", "backend", "T-1")
    redo = await store.begin(alert(), "m2", T0 + LEASE * 2)
    assert redo.after is not None and redo.after.pending is not None
    assert redo.after.pending.done == ("backend",)
    assert redo.after.refs == {"backend": "T-1"}


async def test_last_confirmation_finishes_the_effect_in_the_same_write(
    store: Store,
) -> None:
    """confirm(finish=True) records the ref and clears the pending effect at once."""
    t = await store.begin(alert(), "m1", T0)
    assert t.after is not None
    await store.confirm(t.after.fingerprint, "m1", "backend", "T-1", finish=True)
    stored = await store.get(t.after.fingerprint)
    assert stored is not None
    assert stored.pending is None
    assert stored.refs == {"backend": "T-1"}
    assert stored.version == t.after.version + 1


async def test_racing_workers_open_exactly_once(store: Store) -> None:
    """Twenty workers on two replicas (two store instances on one file or table) racing on one
    new incident produce exactly one OPEN."""
    replica = await _replica_of(store)
    stores = [store, replica]
    try:
        results = await asyncio.gather(
            *(stores[i % 2].begin(alert(), f"m{i}", T0) for i in range(20))
        )
    finally:
        if replica is not store:
            await replica.aclose()
    actions = [t.action for t in results]
    assert actions.count(Action.OPEN) == 1
    assert actions.count(Action.COUNT) == 19


async def test_close_then_reopen_keeps_refs(store: Store) -> None:
    """Open → close → re-fire within the window reopens the same ticket reference."""
    fp = alert().fingerprint
    t = await store.begin(alert(), "m1", T0)
    await store.confirm(fp, "m1", "backend", "T-1")
    await store.finish(fp, "m1")
    close = await store.begin(
        alert(status=Status.RESOLVED, minutes=5), "m2", T0 + timedelta(minutes=5)
    )
    assert close.action is Action.CLOSE
    await store.finish(fp, "m2")
    reopen = await store.begin(alert(minutes=10), "m3", T0 + timedelta(minutes=10))
    assert reopen.action is Action.REOPEN
    assert reopen.after is not None and reopen.after.refs == {"backend": "T-1"}
    assert reopen.after.state is State.OPEN
    assert t.after is not None and reopen.after.pending is not None
    assert reopen.after.pending.seq == 3


async def test_lost_lease_does_not_overwrite_new_owner(store: Store) -> None:
    """A worker whose lease was taken over cannot clear the new owner's pending effect."""
    fp = alert().fingerprint
    await store.begin(alert(), "m1", T0)
    await store.begin(alert(), "m2", T0 + LEASE * 2)
    await store.finish(fp, "m1")
    stored = await store.get(fp)
    assert stored is not None and stored.pending is not None
    assert stored.pending.owner == "m2"


async def test_closed_incidents_carry_an_expiry(store: Store) -> None:
    """A closed incident is stored with an expiry (TTL) closed_ttl after closing; an open one has none."""
    fp = alert().fingerprint
    await store.begin(alert(), "m1", T0)
    await store.finish(fp, "m1")
    opened = await store.get(fp)
    assert opened is not None and store._expiry(opened) is None
    assert await _stored_expiry(store, fp) is None
    await store.begin(alert(status=Status.RESOLVED, minutes=1), "m2", T0 + timedelta(minutes=1))
    closed = await store.get(fp)
    assert closed is not None and closed.state is State.CLOSED
    expected = (T0 + timedelta(minutes=1, days=30)).timestamp()
    assert store._expiry(closed) == expected
    assert await _stored_expiry(store, fp) == int(expected)


async def _replica_of(store: Store) -> Store:
    """A second store on the same data, as another replica would have."""
    if isinstance(store, SQLiteStore):
        replica = SQLiteStore(store.path, POLICY, LEASE, timedelta(days=30))
        await replica.open()
        return replica
    assert isinstance(store, DynamoDBStore)
    return DynamoDBStore(store._ddb, store.table, POLICY, LEASE, timedelta(days=30))


async def _stored_expiry(store: Store, fp: str) -> int | None:
    """The expiry as written: SQLite's expires_at column, DynamoDB's TTL attribute."""
    if isinstance(store, SQLiteStore):
        with contextlib.closing(sqlite3.connect(store.path)) as conn:
            row = conn.execute("SELECT expires_at FROM incidents WHERE fingerprint = ?", (fp,))
            [(value,)] = row.fetchall()
        return None if value is None else int(value)
    assert isinstance(store, DynamoDBStore)
    item = await store._ddb.get_item(TableName=store.table, Key={"fingerprint": {"S": fp}})
    value = item["Item"].get("expires_at")
    return None if value is None else int(value["N"])


async def test_a_full_sqlite_disk_is_reported_as_such_and_the_store_recovers(
    tmp_path: Path,
) -> None:
    """SQLite rolls a transaction back itself when the disk is full: the error says "full"
    (a second ROLLBACK used to fail and hide it), and once there is room writes work again."""
    s = SQLiteStore(str(tmp_path / "t.db"), POLICY, LEASE, timedelta(days=30))
    await s.open()
    try:
        pages = await s._call(lambda: s._db().execute("PRAGMA page_count").fetchone()[0])
        await s._call(lambda: s._db().execute(f"PRAGMA max_page_count = {pages}"))
        big = alert("x" * 100).model_copy(update={"description": "y" * 20_000})

        async def fill() -> None:
            for i in range(50):
                await s.begin(big.model_copy(update={"identity": {"k": str(i)}}), f"m{i}", T0)

        with pytest.raises(StoreUnavailableError, match="full"):
            await fill()
        await s._call(lambda: s._db().execute("PRAGMA max_page_count = 1073741823"))
        assert (await s.begin(alert("after"), "m-after", T0)).action is Action.OPEN
    finally:
        await s.aclose()


async def test_sqlite_deletes_expired_closed_incidents_while_running(tmp_path: Path) -> None:
    """A running SQLite store deletes closed incidents past their expiry (DynamoDB's TTL does
    this for the other store); open incidents stay."""
    # A day's TTL on incidents closed at T0 (2026-11-23): expired by the time any test runs.
    store = SQLiteStore(str(tmp_path / "t.db"), POLICY, LEASE, timedelta(days=1))
    await store.open()
    try:
        closed, still_open = alert("closed"), alert("open")
        for a in (closed, still_open):
            await store.begin(a, "m1", T0)
            await store.finish(a.fingerprint, "m1")
        await store.begin(alert("closed", Status.RESOLVED, minutes=1), "m2", T0)
        assert await store.get(closed.fingerprint) is not None  # purged at most hourly
        store.purge_every_s = 0
        await store.begin(alert("other"), "m3", T0)
        assert await store.get(closed.fingerprint) is None
        assert await store.get(still_open.fingerprint) is not None
    finally:
        await store.aclose()


BUDGET = Budget("github:create:acme/ops:minute", capacity=3, period_s=60.0)
NOW_S = T0.timestamp()


async def test_budget_gives_capacity_tokens_then_says_how_long_to_wait(
    store: Store,
) -> None:
    """A budget hands out `capacity` tokens, then answers with the seconds until the next one,
    and refills at capacity per period."""
    assert [await store.take_token(BUDGET, NOW_S) for _ in range(3)] == [0.0, 0.0, 0.0]
    assert await store.take_token(BUDGET, NOW_S) == pytest.approx(20.0)
    assert await store.take_token(BUDGET, NOW_S + 20) == 0.0
    assert await store.budget_tokens(BUDGET, NOW_S + 20) == pytest.approx(0.0)


async def test_budget_keeps_tokens_back_and_takes_returns(store: Store) -> None:
    """take_token(keep=1) leaves the last token; give_back_token returns one for the next caller."""
    assert await store.take_token(BUDGET, NOW_S, keep=1) == 0.0
    assert await store.take_token(BUDGET, NOW_S, keep=1) == 0.0
    assert await store.take_token(BUDGET, NOW_S, keep=1) == pytest.approx(20.0)
    assert await store.take_token(BUDGET, NOW_S) == 0.0  # the kept one, for who may use it
    await store.give_back_token(BUDGET, NOW_S)
    assert await store.budget_tokens(BUDGET, NOW_S) == pytest.approx(1.0)


async def test_racing_takers_never_overdraw_a_budget(store: Store) -> None:
    """Twenty concurrent takers on a budget of 3 get exactly 3 tokens: one conditional write each."""
    waits = await asyncio.gather(*(store.take_token(BUDGET, NOW_S) for _ in range(20)))
    assert waits.count(0.0) == 3


async def test_a_group_incident_keeps_its_members_in_every_store(store: Store) -> None:
    """Members of a group are decided and written in one record per group, on each backend,
    and read back the same: the group opens with its first member and counts the next."""
    group = GroupKey.of("pods", ("alertname",), {"alertname": "Crash"}, 0, str)
    first = await store.begin(alert("api-0"), "m0", T0, group)
    second = await store.begin(alert("api-1"), "m1", T0 + timedelta(seconds=1), group)
    assert (first.action, second.action) == (Action.OPEN, Action.COUNT)
    stored = await store.get(group.key)
    assert stored is not None and stored.group is not None
    assert set(stored.group.members) == {alert("api-0").fingerprint, alert("api-1").fingerprint}
    assert stored.group.by == {"alertname": "Crash"}
    assert stored.pending is not None and stored.pending.owner == "m0"


@dataclass(frozen=True)
class _Queued:
    """A member event that says when its message was queued (as the pipeline's do)."""

    fingerprint: str
    source: str
    status: Status
    title: str
    occurred_at: datetime
    queued_at: datetime


async def test_a_members_queue_time_orders_its_events_stamped_alike_in_every_store(
    store: Store,
) -> None:
    """A member's queue time is stored and read back on each backend: its firing and resolve
    stamped alike are ordered by when their messages were queued, whichever is written last."""
    group = GroupKey.of("pods", ("alertname",), {"alertname": "Crash"}, 0, str)
    fp = alert("api-0").fingerprint
    later, earlier = T0 + timedelta(seconds=2), T0 + timedelta(seconds=1)
    resolved = _Queued(fp, "generic", Status.RESOLVED, "t", T0, later)
    firing = _Queued(fp, "generic", Status.FIRING, "t", T0, earlier)
    assert (await store.begin(alert("api-1"), "m0", T0, group)).action is Action.OPEN
    await store.finish(group.key, "m0")
    assert (await store.begin(resolved, "m1", T0, group)).action is Action.COUNT
    assert (await store.begin(firing, "m2", T0, group)).action is Action.IGNORE


def test_a_newer_releases_member_values_stay_after_the_queue_time() -> None:
    """A member written by a newer release (values after its queue time) reads its queue time
    and writes every value back unchanged while the member is unchanged."""
    queued = T0.isoformat()
    member = ["firing", "t", T0.isoformat(), T0.isoformat(), queued, 7]
    record = {
        "fingerprint": "g",
        "state": "open",
        "source": "generic",
        "title": "t",
        "opened_at": T0.isoformat(),
        "last_event_at": T0.isoformat(),
        "group": {"route": "r", "by": {}, "members": {"m": member}},
    }
    incident = incident_from_json(json.dumps(record))
    assert incident.group is not None and incident.group.members["m"].last_queued_at == T0
    assert json.loads(incident_to_json(incident))["group"]["members"]["m"] == member


async def test_a_group_past_the_record_bound_leaves_quiet_members_titles_out(
    store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Members with long non-Latin titles would take a group past what a record holds (on
    DynamoDB, a refused write that wedged the incident): every member is still written,
    tracked and counted; resolved members' titles are left out before firing ones'."""
    monkeypatch.setattr(store_module, "MAX_RECORD_BYTES", 12_000)
    group = GroupKey.of("pods", ("alertname",), {"alertname": "Crash"}, 0, str)
    wide = "界" * 120  # 3 bytes each in UTF-8: a member takes ~470 bytes
    names = [f"{i}-{wide}" for i in range(32)]
    for i, name in enumerate(names):
        await store.begin(alert(name), f"m{i}", T0 + timedelta(seconds=i), group)
    for i, name in enumerate(names[:10]):  # ten members resolve
        resolved = alert(name, Status.RESOLVED, T0 + timedelta(minutes=5))
        await store.begin(resolved, f"r{i}", T0 + timedelta(minutes=5), group)
    stored = await store.get(group.key)
    assert stored is not None and stored.group is not None
    members = stored.group.members
    assert len(members) == len(names) and stored.group.untracked == 0
    assert all(m.title == "" for m in members.values() if m.status is Status.RESOLVED)
    assert any(m.title for m in members.values() if m.status is Status.FIRING)
    assert len(incident_to_json(stored).encode()) <= 12_000


async def test_a_group_at_the_record_bound_says_so_once_not_per_join(
    store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Members joining a group whose titles no longer all fit leave titles out on each write;
    the warning that says so comes once per group (its first cut), the later cuts at debug."""
    monkeypatch.setattr(store_module, "MAX_RECORD_BYTES", 12_000)
    group = GroupKey.of("pods", ("alertname",), {"alertname": "Crash"}, 0, str)
    wide = "界" * 120
    with structlog.testing.capture_logs() as logs:
        for i in range(48):
            await store.begin(alert(f"{i}-{wide}"), f"m{i}", T0 + timedelta(seconds=i), group)
    cuts = [e for e in logs if e["event"] == "store.group_titles_left_out"]
    assert len(cuts) > 1 and {e["fingerprint"] for e in cuts} == {group.key}
    assert [e["log_level"] for e in cuts] == ["warning"] + ["debug"] * (len(cuts) - 1)
    stored = await store.get(group.key)
    assert stored is not None and stored.group is not None
    assert len(stored.group.members) == 48


async def test_silences_past_the_record_bound_are_refused_and_the_kept_ones_read(
    store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Adding a silence that would take the one silences record past its bound is refused
    with a plain error (it used to be a store failure retried forever); the kept ones read."""
    monkeypatch.setattr(store_module, "MAX_RECORD_BYTES", 5_000)
    refused: ValueError | None = None
    added = 0
    while refused is None and added < 100:
        wide = Silence.new(
            [Matcher.parse("team=" + "p" * 1000)], T0, SILENCE_END, f"work {added}", "alice"
        )  # each its own comment: the same silence added again is kept once
        try:
            await store.add_silence(wide, T0)
            added += 1
        except ValueError as exc:
            refused = exc
    assert refused is not None and "expire some first" in str(refused)
    assert 0 < added < 100
    assert len(await store.silences()) == added


def test_a_silence_takes_a_bounded_number_of_matchers() -> None:
    """A silence of 33 matchers is refused: all silences share one record read every second."""
    matchers = [Matcher.parse(f"l{i}=v") for i in range(33)]
    with pytest.raises(ValueError, match="at most 32 matchers"):
        Silence.new(matchers, T0, SILENCE_END, "maintenance", "alice")
    assert Silence.new(matchers[:32], T0, SILENCE_END, "maintenance", "alice").matchers


@pytest.mark.parametrize("body", ["{not json", '{"state": "open"}', "[]", '"text"'])
async def test_an_unreadable_record_is_a_clear_permanent_error_and_listing_skips_it(
    store: Store, body: str
) -> None:
    """A record that does not read (edited by hand, written by something else) makes its
    alerts fail with one error naming it (to the DLQ, for an operator to fix and redrive),
    not a crash with a traceback; listing the incidents skips it and shows the others."""
    fine = await store.begin(alert("fine"), "m0", T0)
    bad = alert("bad").fingerprint
    await store._update(INCIDENT, bad, lambda _: (Record(bad, INCIDENT, 1, body), None))
    with pytest.raises(StoreCorruptError, match=bad):
        await store.begin(alert("bad"), "m1", T0)
    assert fine.after is not None
    assert [i.fingerprint for i in await store.incidents()] == [fine.after.fingerprint]


UNREADABLE = ["{not json", "[]", '{"silences": 5}', '{"other": 1}', '{"silences": [7]}']


@pytest.mark.parametrize("body", UNREADABLE)
async def test_an_unreadable_silences_record_silences_nothing_warns_once_and_is_written_over(
    store: Store, body: str
) -> None:
    """A silences record that does not read (read for every message) is no silence, with one
    warning however often it is read, instead of an exception failing every message; the
    next silence added writes over it."""
    await store._update(
        SILENCES, SILENCES_KEY, lambda _: (Record(SILENCES_KEY, SILENCES, 1, body), None)
    )
    with structlog.testing.capture_logs() as logs:
        assert await store.silences() == []
        assert await store.silences() == []
    assert [e["event"] for e in logs] == ["silence.unreadable"]
    added = await store.add_silence(_silence("team=payments"), T0)
    assert await store.silences() == [added]


@pytest.mark.parametrize("body", ["{not json", "[]", '{"tokens": "a", "updated_s": 1}', "{}"])
async def test_an_unreadable_budget_record_is_a_full_budget_and_is_written_over(
    store: Store, body: str
) -> None:
    """A shared budget whose record does not read counts as full (with a warning) and the
    token taken writes a readable record, instead of failing every ticket that draws on it."""
    await store._update(
        BUDGET_KIND, BUDGET.name, lambda _: (Record(BUDGET.name, BUDGET_KIND, 1, body), None)
    )
    assert await store.take_token(BUDGET, NOW_S) == 0.0
    assert await store.budget_tokens(BUDGET, NOW_S) == pytest.approx(BUDGET.capacity - 1)


# --- Operators and the sweep: silences, listing, closing by hand, held effects, escalation ---

SILENCE_END = T0 + timedelta(hours=2)


def _silence(*matchers: str, ends: datetime = SILENCE_END) -> Silence:
    return Silence.new([Matcher.parse(m) for m in matchers], T0, ends, "maintenance", "alice")


def _hold(silence: Silence) -> Hold:
    return Hold(silence.id, silence.ends(), view_to_json(view(alert())))


async def _opened(store: Store, name: str = "api-5xx") -> str:
    """An open incident with a backend ticket, its effect finished."""
    t = await store.begin(alert(name), "m0", T0)
    assert t.after is not None
    fp = t.after.fingerprint
    routing = Routing("default", "payments", {"env": "prod"}, escalate_after_s=600)
    await store.save_ticket(fp, "m0", TICKET, routing)
    await store.confirm(fp, "m0", "backend", "T-1", finish=True)
    return fp


async def test_a_silenced_alert_delivered_again_is_counted_once(store: Store) -> None:
    """An alert a silence holds is counted once: another delivery of its message (its delete
    failed) is ignored, and the held effect stays as the first delivery left it."""
    hold = _hold(_silence("team=payments"))
    fp = await _opened(store)
    due = T0 + POLICY.update_interval  # the repeat's update is what the silence holds
    first = await store.begin(alert(minutes=20), "m1#0@a", due, hold=hold)
    assert first.action is Action.SILENCED and first.after is not None
    again = await store.begin(alert(minutes=20), "m1#0@b", due + timedelta(minutes=1), hold=hold)
    assert again.action is Action.IGNORE and again.after is None
    stored = await store.get(fp)
    assert stored is not None and stored.occurrences == 2 and stored.held == first.after.held


async def test_silences_are_kept_expired_and_seen_by_every_replica(store: Store) -> None:
    """A silence added on one replica is read by another; expiring it ends it there too, once."""
    replica = await _replica_of(store)
    try:
        added = await store.add_silence(_silence("team=payments", "title=~.*5xx.*"), T0)
        [seen] = await replica.silences()
        assert seen == added and seen.active(T0 + timedelta(minutes=1))
        later = T0 + timedelta(minutes=30)
        expired = await replica.expire_silence(added.id, later)
        assert expired is not None and expired.expired_at == later
        again = await store.expire_silence(added.id, later + timedelta(minutes=1))
        assert again == expired  # already ended: unchanged
        [after] = await store.silences()
        assert not after.active(later) and after.active(T0 + timedelta(minutes=29))
        assert await store.expire_silence("nope", later) is None
    finally:
        if replica is not store:
            await replica.aclose()


async def test_listing_returns_incidents_only(store: Store) -> None:
    """incidents() lists every incident (open and closed), and no budget or silence record."""
    await store.take_token(BUDGET, NOW_S)
    await store.add_silence(_silence("team=x"), T0)
    first = await _opened(store, "a")
    second = await store.begin(alert("b", Status.RESOLVED), "m1", T0)
    listed = {i.fingerprint: i for i in await store.incidents()}
    assert second.after is not None
    assert set(listed) == {first, second.after.fingerprint}
    assert listed[first].team == "payments" and listed[first].labels == {"env": "prod"}
    assert listed[first].route == "default"


async def test_a_silenced_alert_is_stored_and_its_open_held_until_released_once(
    store: Store,
) -> None:
    """A new incident under a silence is stored with its OPEN held (no pending effect, due to
    the sweep when the silence ends); once no silence matches, exactly one of two replicas
    claims the OPEN, carrying the held alert."""
    silence = _silence("team=payments")
    t = await store.begin(alert(), "m1", T0, hold=_hold(silence))
    assert t.action is Action.SILENCED
    assert t.after is not None and t.after.pending is None
    assert t.after.held is not None and t.after.held.kind is EffectKind.OPEN
    fp = t.after.fingerprint
    repeat = await store.begin(
        alert(minutes=1), "m2", T0 + timedelta(minutes=1), hold=_hold(silence)
    )
    assert repeat.action is Action.SILENCED
    assert repeat.after is not None and repeat.after.occurrences == 2
    assert await store.due(T0 + timedelta(minutes=5)) == []
    assert await store.due(None) == [fp]
    after_end = SILENCE_END + timedelta(seconds=1)
    assert await store.due(after_end) == [fp]
    still = await store.release_held(fp, "sweep-a", T0 + timedelta(minutes=5), lambda i: silence)
    assert still is None
    replica = await _replica_of(store)
    try:
        claims = await asyncio.gather(
            store.release_held(fp, "sweep-a", after_end, lambda i: None),
            replica.release_held(fp, "sweep-b", after_end, lambda i: None),
        )
    finally:
        if replica is not store:
            await replica.aclose()
    [claim] = [c for c in claims if c is not None]
    assert claim.action is Action.OPEN
    assert claim.after is not None and claim.after.pending is not None
    assert claim.after.pending.alert is not None and claim.after.held is None
    assert view_from_json(claim.after.pending.alert).title == "api-5xx is failing"


async def test_a_live_alert_after_the_silence_ends_carries_the_held_effect(store: Store) -> None:
    """An alert that no silence matches any more takes the held effect out itself (an OPEN for
    an incident whose ticket was held), whatever the update interval says."""
    silence = _silence("team=payments")
    await store.begin(alert(), "m1", T0, hold=_hold(silence))
    t = await store.begin(alert(minutes=1), "m2", T0 + timedelta(minutes=1))
    assert t.action is Action.OPEN
    assert t.after is not None and t.after.held is None and t.after.pending is not None


async def test_an_update_of_a_ticketed_incident_is_held_and_a_resolve_still_closes(
    store: Store,
) -> None:
    """A silenced repeat after the update interval holds its UPDATE; a resolve under the same
    silence closes the ticket as usual (closes are never held)."""
    fp = await _opened(store)
    silence = _silence("team=payments")
    later = T0 + timedelta(minutes=20)
    held = await store.begin(alert(minutes=20), "m1", later, hold=_hold(silence))
    assert held.action is Action.SILENCED
    assert held.after is not None and held.after.held is not None
    assert held.after.held.kind is EffectKind.UPDATE
    close = await store.begin(
        alert(status=Status.RESOLVED, minutes=21), "m2", later, hold=_hold(silence)
    )
    assert close.action is Action.CLOSE
    assert close.after is not None and close.after.held is None
    # Nothing held is left to let go: the claimed close is due only should its owner die.
    assert await store.due(later + LEASE) == []
    assert fp == close.after.fingerprint


async def test_closing_by_hand_claims_a_close_once(store: Store) -> None:
    """close() claims a CLOSE carrying the operator's note; a second close is IGNORE; an
    unknown fingerprint is a LookupError; an incident whose ticket was held closes quietly."""
    fp = await _opened(store)
    note = view_to_json(view(alert(status=Status.RESOLVED)))
    t = await store.close(fp, "cli", T0 + timedelta(minutes=3), note)
    assert t.action is Action.CLOSE
    assert t.after is not None and t.after.state is State.CLOSED
    assert t.after.pending is not None and t.after.pending.alert == note
    await store.finish(fp, "cli")
    again = await store.close(fp, "cli", T0 + timedelta(minutes=4), note)
    assert again.action is Action.IGNORE
    with pytest.raises(LookupError):
        await store.close("0" * 32, "cli", T0, note)
    quiet = await store.begin(alert("q"), "m1", T0, hold=_hold(_silence("team=payments")))
    assert quiet.after is not None
    recorded = await store.close(quiet.after.fingerprint, "cli", T0, note)
    assert recorded.action is Action.RECORD
    assert recorded.after is not None and recorded.after.pending is None


async def test_closing_by_hand_an_incident_whose_open_was_abandoned(store: Store) -> None:
    """An open whose message failed for good (released, its alert off to the DLQ) is left to
    nobody: a close by hand takes its place instead of answering busy forever, and the sinks
    the open reached are told of the close (the backend here), the others nothing."""
    opening = await store.begin(alert(), "m1#0@a", T0)
    fp = opening.fingerprint
    await store.confirm(fp, "m1#0@a", "backend", "T-1")
    await store.release(fp, "m1#0@a")  # GitHub failed, and kept failing
    note = view_to_json(view(alert(status=Status.RESOLVED)))
    live = await store.begin(alert(minutes=1), "m2#0@a", T0 + timedelta(minutes=1))
    assert live.redo  # a message of the incident would redo it: no close by hand beside it
    await store.release(fp, "m2#0@a")
    closed = await store.close(fp, "cli", T0 + timedelta(minutes=2), note)
    assert closed.action is Action.CLOSE
    assert closed.after is not None and closed.after.state is State.CLOSED
    assert closed.after.refs == {"backend": "T-1"}
    assert closed.after.pending is not None and closed.after.pending.kind is EffectKind.CLOSE
    assert closed.idempotency_key != opening.idempotency_key


async def test_closing_by_hand_a_group_still_gathering_sends_nothing(store: Store) -> None:
    """A group whose first ticket still waits for members has told nobody: a close by hand
    closes it quietly (RECORD) instead of answering busy until the window is over, and the
    opening alert's next delivery, after the window, sends no open."""
    group = GroupKey.of("pods", ("alertname",), {"alertname": "Crash"}, 30, str)
    opened = await store.begin(alert("api-0"), delivery_owner("m0#0", "a"), T0, group)
    note = view_to_json(view(alert(status=Status.RESOLVED)))
    closed = await store.close(group.key, "cli", T0 + timedelta(seconds=5), note)
    assert closed.action is Action.RECORD
    assert closed.after is not None and closed.after.state is State.CLOSED
    assert closed.after.pending is None
    later = T0 + timedelta(seconds=31)
    again = await store.begin(alert("api-0"), delivery_owner("m0#0", "b"), later, group)
    assert again.action is Action.IGNORE
    assert opened.after is not None


async def test_escalation_is_claimed_by_one_replica_once(store: Store) -> None:
    """An incident past its route's escalate_after_s is due; of two replicas racing, one claims
    it; once done it is no longer due; a silence matching it keeps it from being claimed."""
    fp = await _opened(store)
    assert await store.due(T0 + timedelta(minutes=5)) == []
    at = T0 + timedelta(minutes=11)
    assert await store.due(at) == [fp]
    silenced = await store.claim_escalation(fp, "a", at, lambda i: _silence("team=payments"))
    assert silenced is None
    replica = await _replica_of(store)
    try:
        claims = await asyncio.gather(
            store.claim_escalation(fp, "a", at, lambda i: None),
            replica.claim_escalation(fp, "b", at, lambda i: None),
        )
    finally:
        if replica is not store:
            await replica.aclose()
    [claimed] = [c for c in claims if c is not None]
    assert claimed.escalation is not None
    await store.end_escalation(fp, claimed.escalation.owner, at)
    assert await store.due(None) == []
    assert await store.claim_escalation(fp, "a", at + LEASE * 2, lambda i: None) is None


async def test_a_failed_escalation_is_due_again_at_its_retry(store: Store) -> None:
    """end_escalation(retry_at=…) leaves it due again from then, for whoever comes."""
    fp = await _opened(store)
    at = T0 + timedelta(minutes=11)
    assert await store.claim_escalation(fp, "a", at, lambda i: None) is not None
    retry = at + timedelta(minutes=1)
    await store.end_escalation(fp, "a", at, retry_at=retry)
    assert await store.due(at) == []
    assert await store.claim_escalation(fp, "b", retry, lambda i: None) is not None


async def test_an_abandoned_effect_with_its_own_alert_is_taken_over(store: Store) -> None:
    """A close claimed by hand whose owner died is taken over by the sweep after the lease,
    with the same idempotency key; not before."""
    fp = await _opened(store)
    note = view_to_json(view(alert(status=Status.RESOLVED)))
    first = await store.close(fp, "cli", T0, note)
    assert await store.take_over(fp, "sweep", T0 + timedelta(seconds=10)) is None
    assert await store.due(T0 + LEASE) == [fp]
    redo = await store.take_over(fp, "sweep", T0 + LEASE + timedelta(seconds=1))
    assert redo is not None and redo.redo and redo.action is Action.CLOSE
    assert redo.idempotency_key == first.idempotency_key


async def test_a_failed_effect_with_its_own_alert_waits_before_the_sweep_takes_it_again(
    store: Store,
) -> None:
    """Released after a failure, an effect carrying its own alert is neither due nor taken
    over until its wait is over (30 s, then 60 s), and the wait survives the store's codec."""
    fp = await _opened(store)
    note = view_to_json(view(alert(status=Status.RESOLVED)))
    await store.close(fp, "cli", T0, note)
    await store.release(fp, "cli")
    second = timedelta(seconds=1)
    assert await store.due(T0 + 29 * second) == []
    assert await store.take_over(fp, "sweep", T0 + 29 * second) is None
    assert await store.due(T0 + 30 * second) == [fp]
    retry = T0 + 30 * second
    assert await store.take_over(fp, "sweep", retry) is not None
    await store.release(fp, "sweep")
    stored = await store.get(fp)
    assert stored is not None and stored.pending is not None
    assert (stored.pending.attempts, stored.pending.retry_at) == (2, retry + 60 * second)
    assert await store.take_over(fp, "sweep", retry + 59 * second) is None
    assert await store.take_over(fp, "sweep", retry + 60 * second) is not None


async def test_a_table_without_the_sweep_index_is_swept_by_scan(moto_url: str) -> None:
    """A DynamoDB table made before the sweep index existed still finds the due incidents
    (by a scan, after one warning), so an older deployment keeps escalating."""
    async with loopback_aws_client("dynamodb", moto_url) as client:
        await client.create_table(
            TableName="old",
            KeySchema=[{"AttributeName": "fingerprint", "KeyType": "HASH"}],
            AttributeDefinitions=[{"AttributeName": "fingerprint", "AttributeType": "S"}],
            BillingMode="PAY_PER_REQUEST",
        )
        store = DynamoDBStore(client, "old", POLICY, LEASE, timedelta(days=30))
        fp = await _opened(store)
        assert await store.due(T0 + timedelta(minutes=11)) == [fp]
        assert await store.due(T0) == []
        assert not store._has_sweep_index


async def test_a_sqlite_file_that_is_no_database_stops_start_up_with_one_line(
    tmp_path: Path,
) -> None:
    """A store file that is not a database (or cannot be written) is a ConfigError naming it,
    which the CLI prints as one line and exits 2, not a traceback."""
    garbage = tmp_path / "t.db"
    garbage.write_bytes(b"this is not a database" * 100)
    s = SQLiteStore(str(garbage), POLICY, LEASE, timedelta(days=30))
    with pytest.raises(ConfigError, match=r"t\.db.*cannot be opened"):
        await s.open()
    await s.aclose()


async def test_a_throttled_dynamodb_table_holds_the_message_instead_of_failing_it(
    moto_url: str,
) -> None:
    """DynamoDB throttling the table (after botocore's own retries) is a wait: the store raises
    StoreThrottledError, which the supervisor holds (intake paused, receive count kept)."""
    async with loopback_aws_client("dynamodb", moto_url) as plain:
        await create_table(plain, "incidents")
    with FaultProxy(moto_url) as proxy:
        proxy.refuse("DynamoDB_20120810.PutItem", 400, "ProvisionedThroughputExceededException")
        # One attempt: `max_attempts` would count retries (a second call after a backoff).
        once = AioConfig(retries={"total_max_attempts": 1, "mode": "standard"})
        async with loopback_aws_client("dynamodb", proxy.url, config=once) as client:
            store = DynamoDBStore(client, "incidents", POLICY, LEASE, timedelta(days=30))
            with pytest.raises(StoreThrottledError, match="throttled") as held:
                await store.begin(alert(), "m1", T0)
    assert isinstance(held.value, BackpressureError) and held.value.retry_after_s == 1.0


async def _ticketed(store: Store) -> str:
    """An open incident whose ticket went out (no effect in progress); its fingerprint."""
    t = await store.begin(alert(), "m1", T0)
    assert t.after is not None
    fp = t.after.fingerprint
    await store.save_ticket(fp, "m1", TICKET)
    await store.confirm(fp, "m1", "backend", "T-1")
    await store.finish(fp, "m1")
    return fp


async def test_a_plain_repeat_is_counted_in_one_write(store: Store) -> None:
    """`count_repeat` counts a plain repeat (count, newest event, its id remembered) as the
    record then reads back; one the interval's update is due for is declined, unwritten."""
    fp = await _ticketed(store)
    assert store.may_count(fp)
    counted = await store.count_repeat(alert(minutes=1), "m2#0", T0 + timedelta(minutes=1))
    assert counted is not None and counted.action is Action.COUNT
    stored = await store.get(fp)
    assert stored == counted.after
    assert stored is not None and stored.occurrences == 2
    assert stored.last_event_at == T0 + timedelta(minutes=1)
    due = T0 + POLICY.update_interval
    assert await store.count_repeat(alert(minutes=15), "m3#0", due) is None
    assert await store.get(fp) == stored


async def test_a_plain_repeat_sees_another_replicas_claim(store: Store) -> None:
    """Another replica claimed the incident's close after this one last read it: this one's
    `count_repeat`, though its memory says open (`may_count`), reads the record as stored,
    declines and writes nothing, leaving the repeat to the general path."""
    fp = await _ticketed(store)
    replica = await _replica_of(store)
    try:
        assert store.may_count(fp)
        closing = await replica.begin(
            alert(status=Status.RESOLVED, minutes=1), "r1#0", T0 + timedelta(minutes=1)
        )
        assert closing.action is Action.CLOSE
        before = await replica.get(fp)
        later = T0 + timedelta(minutes=2)
        assert await store.count_repeat(alert(minutes=2), "m2#0", later) is None
        assert await replica.get(fp) == before
    finally:
        if replica is not store:
            await replica.aclose()
