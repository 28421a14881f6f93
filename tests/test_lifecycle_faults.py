"""Faults of the incident lifecycle a hostile or unlucky sender causes: messages delivered out
of order or twice (SQS is at least once), flapping, clocks that disagree, groups whose members
change, workers dying or waiting on each other, models that always fail. The pipeline runs on
the in-memory store and fake sinks of test_pipeline, so most cases take milliseconds; the
member records are proven on SQLite and DynamoDB (moto), and the busy wait under the real
supervisor."""

from __future__ import annotations

import asyncio
import dataclasses
import json
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from factories import T0
from memory_inbox import MemoryInbox
from moto_speed import loopback_aws_client
from test_pipeline import LEASE, POLICY, Rig, crash_loops, group_rig, rig
from test_silences import Rig as SilencedRig
from triage.errors import (
    GatheringError,
    SinkUnavailableError,
    StoreBusyError,
    SummariserError,
)
from triage.incidents import Action, State, store
from triage.incidents.dynamodb import DynamoDBStore, create_table
from triage.incidents.members import JOINING
from triage.incidents.sqlite import SQLiteStore
from triage.incidents.store import BUSY_RECHECK_S, MEMBER, Store
from triage.metrics import Metrics
from triage.models import EffectKind, Status, Ticket
from triage.normalize import normalize_body
from triage.pipeline import OFFLOAD_BODY_BYTES
from triage.redact import Redactor
from triage.routes import load_router
from triage.settings import Settings
from triage.sinks.base import Applied, Effect
from triage.sqs.identity import REDRIVEN_FROM_ATTRIBUTE
from triage.sqs.inbox import RECEIVED_AT_ATTRIBUTE, Message
from triage.sqs.supervisor import Supervisor, SupervisorConfig
from triage.summarise import FallbackSummariser
from triage.summarise.deterministic import DeterministicSummariser
from triage.view import RedactedAlert


def generic(mid: str, sent_min: float, *, receipt: str = "rh-1", **fields: object) -> Message:
    """A generic alert's message `mid`, queued `sent_min` minutes after T0 and received then
    (a redelivery passes another `receipt` and is received later: see `redeliver`)."""
    sent = T0 + timedelta(minutes=sent_min)
    body = json.dumps({"title": "disk full", "dedup_key": "disk-a", **fields})
    return Message(mid, body, receipt, 1, sent, received_at=sent)


def redeliver(message: Message, at_min: float) -> Message:
    """The same message (same id and body) handed out again, received `at_min` after T0."""
    received = T0 + timedelta(minutes=at_min)
    return Message(message.id, message.body, "rh-2", 2, message.sent_at, received_at=received)


def dated(mid: str, minutes: float, **fields: object) -> Message:
    """A generic alert's message, stamped `minutes` after T0 (its own `timestamp`)."""
    at = (T0 + timedelta(minutes=minutes)).isoformat()
    return generic(mid, minutes, timestamp=at, **fields)


async def _process(r: Rig, message: Message, now: datetime | None = None) -> list[Action]:
    """The actions `message` took, handled when it was received (or at `now`)."""
    r.clock.now = now or message.received_at
    return [outcome.action for outcome in await r.pipeline.process(message)]


@pytest.mark.parametrize("padding", [0, OFFLOAD_BODY_BYTES], ids=["small", "offloaded"])
async def test_a_timeless_repeat_delivered_again_after_the_resolve_does_not_reopen(
    padding: int,
) -> None:
    """A repeat whose source gave no time, delivered again after the resolve was applied (its
    ack was lost), is dated when it was queued, before the resolve: it reopens nothing (it was
    dated when it was read, later on each delivery, so the second looked newest)."""
    r = rig()
    repeat = generic("m2", 1, padding="x" * padding)
    assert await _process(r, generic("m1", 0)) == [Action.OPEN]
    assert await _process(r, repeat) == [Action.COUNT]
    assert await _process(r, generic("m3", 2, status="resolved")) == [Action.CLOSE]
    assert await _process(r, redeliver(repeat, 5)) == [Action.IGNORE]
    assert r.sink.kinds() == ["open", "close"]


async def test_a_timeless_repeat_redriven_from_the_dlq_after_the_resolve_does_not_reopen() -> None:
    """A repeat with no time of its own that went to the DLQ and was redriven after the
    resolve (a new SQS message, queued anew) is dated when the gateway received it, which the
    redrive keeps: it reopens nothing (dated by the redrive's SentTimestamp, it looked newest)."""
    r = rig()
    repeat = generic("m2", 1)
    assert await _process(r, generic("m1", 0)) == [Action.OPEN]
    assert await _process(r, dated("m3", 2, status="resolved")) == [Action.CLOSE]
    # As the gateway wrote it, and `triage dlq redrive` carried it over with the identity.
    arrived = {RECEIVED_AT_ATTRIBUTE: "2026-11-23T09:01:00.000Z", REDRIVEN_FROM_ATTRIBUTE: "m2"}
    redriven = generic("m9", 30)
    redriven = dataclasses.replace(redriven, body=repeat.body, attributes=arrived)
    assert await _process(r, redriven) == [Action.IGNORE]
    assert r.sink.kinds() == ["open", "close"]


async def test_a_resolve_delivered_before_its_firing_opens_no_ticket() -> None:
    """Out of order: the resolve arrives first and is remembered; its firing, older, arrives
    after it and opens nothing (the incident is over), while a later firing opens a ticket."""
    r = rig()
    assert await _process(r, dated("m2", 5, status="resolved")) == [Action.RECORD]
    assert await _process(r, dated("m1", 0), now=T0 + timedelta(minutes=6)) == [Action.IGNORE]
    assert r.sink.effects == [] and r.summariser.calls == 0
    assert await _process(r, dated("m3", 7)) == [Action.OPEN]


@pytest.mark.parametrize("stamp", ["not a time", "2026-11-23T09:01:00", "2999-01-01T00:00:00Z"])
async def test_a_received_at_attribute_that_cannot_be_believed_dates_by_sent_timestamp(
    stamp: str,
) -> None:
    """A received_at attribute that does not read, has no zone, or lies after SentTimestamp
    is passed over: the alert is dated when its message was queued."""
    r = rig()
    message = dataclasses.replace(generic("m1", 1), attributes={RECEIVED_AT_ATTRIBUTE: stamp})
    assert await _process(r, message) == [Action.OPEN]
    stored = await r.store.get(generic_fingerprint("disk-a"))
    assert stored is not None and stored.last_event_at == message.sent_at


async def test_a_repeat_dated_far_ahead_delivered_again_after_the_resolve_does_not_reopen() -> None:
    """A repeat stamped far in the future (a clock gone wrong) is dated when its message was
    queued, on every delivery alike: delivered again after the resolve, it reopens nothing
    (it was dated when received, later on each delivery, so the second looked newest)."""
    r = rig()
    ahead = {"timestamp": "2999-01-01T00:00:00Z"}
    repeat = generic("m2", 1, **ahead)
    assert await _process(r, generic("m1", 0, **ahead)) == [Action.OPEN]
    assert await _process(r, repeat) == [Action.COUNT]
    resolved = dated("m3", 2, status="resolved")
    assert await _process(r, resolved) == [Action.CLOSE]
    assert await _process(r, redeliver(repeat, 5)) == [Action.IGNORE]
    assert r.sink.kinds() == ["open", "close"]


async def test_a_reopen_counts_as_the_update_of_its_interval() -> None:
    """A repeat just after a reopen is counted, not posted as an update: the reopen told the
    ticket (with the occurrences so far) a moment ago, and the next update comes an interval
    after it, counting from it (a flapping alert posted a reopen and an update each time)."""
    r = rig()
    await r.send(0)
    await r.send(20, Status.RESOLVED)
    assert await r.send(25) is Action.REOPEN
    assert await r.send(26) is Action.COUNT
    assert await r.send(41) is Action.UPDATE
    assert r.sink.kinds() == ["open", "close", "reopen", "update"]
    reopen, update = r.sink.effects[2:]
    assert (reopen.new_occurrences, update.new_occurrences) == (1, 2)


async def test_a_reopen_a_silence_held_counts_every_occurrence_since_the_last_update() -> None:
    """A reopen held by a silence goes out when it ends with the occurrences since the ticket
    was last told, and the update interval counts from then."""
    r = SilencedRig()
    await r.send(0)
    await r.send(10, Status.RESOLVED)
    await r.silence("team=payments", hours=0.5)
    assert [await r.send(m) for m in (20, 25)] == [Action.SILENCED, Action.SILENCED]
    r.clock.at(41)
    await r.sweep().once()
    assert r.sink.kinds() == ["open", "close", "reopen"]
    assert r.sink.effects[-1].new_occurrences == 2
    assert await r.send(42) is Action.COUNT


async def test_an_incident_whose_model_always_fails_is_asked_once_and_ticketed_once() -> None:
    """A model that fails every call (a revoked key, a model that is gone) is asked once per
    incident: the fallback writes the ticket, which is kept, so repeats, the update, the close
    and the reopen never ask again, and the sinks see each change once."""

    @dataclass
    class Refusing:
        calls: int = 0

        async def summarise(self, alert: RedactedAlert) -> Ticket:
            self.calls += 1
            raise SummariserError("rejected_401")

        async def aclose(self) -> None:
            return None

    r, model, metrics = rig(), Refusing(), Metrics()
    r.pipeline.summariser = FallbackSummariser(
        model, DeterministicSummariser(), metrics, Redactor()
    )
    actions = [await r.send(m) for m in (0, 1, 16)]
    actions += [await r.send(20, Status.RESOLVED), await r.send(21)]
    assert actions == [Action.OPEN, Action.COUNT, Action.UPDATE, Action.CLOSE, Action.REOPEN]
    assert r.sink.kinds() == ["open", "update", "close", "reopen"]
    assert model.calls == 1 and metrics.counter("SummarizationFailures") == 1


# --- Group members whose labels change ---------------------------------------------------------

HOST_GROUPS = """
[[route]]
name = "hosts"
sinks = ["backend"]
group_by = ["host"]
[route.match]
source = ["generic"]
"""


def host_rig(tmp_path: Path) -> Rig:
    """A pipeline whose route groups generic alerts by their `host`."""
    routes = tmp_path / "routes.toml"
    routes.write_text(HOST_GROUPS)
    r = rig()
    r.pipeline.router = load_router(Settings(routes_file=routes))
    return r


async def _groups(r: Rig) -> dict[str, str]:
    """Each stored group's title and state."""
    return {i.title: str(i.state) for i in await r.store.incidents() if i.group is not None}


async def test_a_resolve_without_the_label_its_group_is_keyed_by_closes_that_group(
    tmp_path: Path,
) -> None:
    """A script that resolves with its dedup_key only (no host) resolves the member in the
    group it fired in, and the group's ticket closes (it went to a group of its own, host=∅,
    and the ticket stayed open for good)."""
    r = host_rig(tmp_path)
    assert await _process(r, dated("m1", 0, host="a")) == [Action.OPEN]
    assert await _process(r, dated("m2", 1, status="resolved")) == [Action.CLOSE]
    assert r.sink.kinds() == ["open", "close"]
    assert await _groups(r) == {"host=a": "closed"}


async def test_a_resolve_closes_the_alerts_own_ticket_once_its_route_stopped_grouping(
    tmp_path: Path,
) -> None:
    """After the routes stop grouping by host, an alert that fired in host a's group fires on
    its own (its own ticket); its resolve closes that ticket, the one its labels name, rather
    than going to the group it was remembered in."""
    r = host_rig(tmp_path)
    await _process(r, dated("m1", 0, host="a"))
    other = tmp_path / "other"
    other.mkdir()
    r.pipeline.router = group_rig(other).pipeline.router  # it groups Alertmanager's alerts only
    assert await _process(r, dated("m2", 1, host="a")) == [Action.OPEN]
    assert await _process(r, dated("m3", 2, host="a", status="resolved")) == [Action.CLOSE]
    own = await r.store.get(generic_fingerprint("disk-a"))
    assert own is not None and own.state is State.CLOSED


async def test_a_member_that_moves_to_another_group_resolves_in_the_one_it_left(
    tmp_path: Path,
) -> None:
    """An alert that fires under another host now is a member of that host's group and no
    longer of the first, which closes when none of its members fires; its resolve then closes
    the second. Each ticket opens and closes once, and another delivery changes nothing."""
    r = host_rig(tmp_path)
    await _process(r, dated("m1", 0, host="a"))
    moved = dated("m2", 1, host="b")
    assert await _process(r, moved) == [Action.OPEN]
    assert await _groups(r) == {"host=a": "closed", "host=b": "open"}
    assert await _process(r, redeliver(moved, 2)) == [Action.IGNORE]
    assert await _process(r, dated("m3", 3, host="b", status="resolved")) == [Action.CLOSE]
    assert await _groups(r) == {"host=a": "closed", "host=b": "closed"}
    assert r.sink.kinds() == ["open", "open", "close", "close"]
    assert r.summariser.calls == 2


# --- One busy incident among many -------------------------------------------------------------


async def _until(condition: Callable[[], bool], what: str) -> None:
    """Wait for `condition`, failing after a generous deadline (a hang, not a speed check)."""
    deadline = asyncio.get_running_loop().time() + 10
    while not condition():
        assert asyncio.get_running_loop().time() < deadline, f"never: {what}"
        await asyncio.sleep(0.005)


async def test_a_resolve_beside_its_incidents_open_waits_briefly_and_alone() -> None:
    """A resolve arriving while its incident's open is still being carried out (a flap within
    seconds) waits for it alone and looks again within seconds (it paused the daemon's intake
    and waited a third of the effect lease, 40 s here, however soon the open ended)."""
    r = rig()
    r.sink.gate = asyncio.Event()
    opening = asyncio.create_task(r.send(0))
    await _until(lambda: r.store.records != {}, "the open claimed")
    with pytest.raises(StoreBusyError) as busy:
        await r.send(0.1, Status.RESOLVED)
    assert busy.value.pauses_intake is False
    assert busy.value.retry_after_s is not None and busy.value.retry_after_s <= BUSY_RECHECK_S
    r.sink.gate.set()
    assert await opening is Action.OPEN
    assert await r.send(0.2, Status.RESOLVED) is Action.CLOSE


async def test_an_incident_busy_with_its_effect_holds_its_own_message_not_the_daemon(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Under the supervisor, that resolve is held alone: the daemon goes on taking messages,
    another incident's ticket opens meanwhile, and the resolve closes its own once the open
    is done."""
    monkeypatch.setattr(store, "BUSY_RECHECK_S", 0.05)
    r = rig()
    slow, gate = generic_fingerprint("x"), asyncio.Event()
    fast_apply = r.sink.apply

    async def apply(effect: Effect) -> Applied:
        if effect.fingerprint == slow:
            await gate.wait()
        return await fast_apply(effect)

    r.sink.apply = apply  # type: ignore[method-assign]
    r.pipeline.ledger.clock = lambda: datetime.now(UTC)
    inbox, stop = MemoryInbox(), asyncio.Event()
    config = SupervisorConfig(wait_s=0, retry_base_s=0, concurrency=4)
    supervisor = Supervisor(config, inbox, r.pipeline.process, r.pipeline.metrics, should_exit=stop)
    serving = asyncio.create_task(supervisor.serve())
    now = datetime.now(UTC).isoformat()
    inbox.put(json.dumps({"title": "disk full", "dedup_key": "x", "timestamp": now}))
    await _until(lambda: r.store.records != {}, "the first alert claimed its open")
    inbox.put(json.dumps({"title": "disk full", "dedup_key": "x", "status": "resolved"}))
    await _until(lambda: r.pipeline.metrics.counter("MessagesHeld") > 0, "the resolve held")
    inbox.put(json.dumps({"title": "cpu hot", "dedup_key": "y", "timestamp": now}))
    await _until(lambda: r.sink.kinds() == ["open"], "the other incident's ticket opened")
    gate.set()
    await _until(lambda: len(inbox.deleted) == 3, "every message acked")
    assert r.sink.kinds() == ["open", "open", "close"]
    stop.set()
    await serving


def generic_fingerprint(dedup_key: str) -> str:
    """The fingerprint of a generic alert with `dedup_key`."""
    body = json.dumps({"title": "t", "dedup_key": dedup_key})
    [found] = normalize_body(body).alerts
    return found.fingerprint


async def test_a_move_whose_close_failed_is_finished_by_the_messages_retry(
    tmp_path: Path,
) -> None:
    """When the close of the group a member left fails (the backend answers 503), the message
    fails, and its next delivery closes that group: the claim the failed close left is its
    own (nothing else would ever redo it, the group having no other member)."""
    r = host_rig(tmp_path)
    await _process(r, dated("m1", 0, host="a"))
    failures = [SinkUnavailableError("503")]
    apply = r.sink.apply

    async def failing_close(effect: Effect) -> Applied:
        if effect.kind is EffectKind.CLOSE and failures:
            raise failures.pop()
        return await apply(effect)

    r.sink.apply = failing_close  # type: ignore[method-assign]
    moved = dated("m2", 1, host="b")
    with pytest.raises(SinkUnavailableError):
        await _process(r, moved)
    assert await _process(r, redeliver(moved, 2)) == [Action.IGNORE]
    assert await _groups(r) == {"host=a": "closed", "host=b": "open"}
    assert r.sink.kinds() == ["open", "open", "close"]


async def test_a_resolve_racing_its_members_move_resolves_it_where_its_labels_say(
    tmp_path: Path,
) -> None:
    """A member moves to host b's group, and its resolve (under host b) is handled by another
    worker before the move is remembered: the resolve closes host b's group, the move closes
    host a's, and neither stays open (the resolve went to host a's group, as the member was
    remembered there, and host b's stayed open for good)."""
    r = host_rig(tmp_path)
    await _process(r, dated("m1", 0, host="a"))
    recorded, go_on = asyncio.Event(), asyncio.Event()
    place_member = r.store.place_member

    async def slow_place_member(
        fingerprint: str, group_key: str, now: datetime, *, first: bool = False
    ) -> None:
        # The move's worker, about to remember it in host b (not its note of the move).
        if not recorded.is_set() and not fingerprint.endswith(JOINING):
            recorded.set()
            await go_on.wait()
        await place_member(fingerprint, group_key, now, first=first)

    r.store.place_member = slow_place_member  # type: ignore[method-assign]
    moving = asyncio.create_task(_process(r, dated("m2", 1, host="b")))
    await recorded.wait()
    resolved = dated("m3", 2, host="b", status="resolved")
    r.store.place_member = place_member  # type: ignore[method-assign]
    assert await _process(r, resolved) == [Action.CLOSE]
    go_on.set()
    assert await moving == [Action.OPEN]
    assert await _groups(r) == {"host=a": "closed", "host=b": "closed"}


@pytest.fixture(params=["sqlite", "dynamodb"])
async def any_store(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Store]:
    """SQLite on disk, DynamoDB on moto's server."""
    closed_ttl = timedelta(days=30)
    if request.param == "sqlite":
        sqlite = SQLiteStore(str(tmp_path / "t.db"), POLICY, LEASE, closed_ttl)
        await sqlite.open()
        yield sqlite
        await sqlite.aclose()
        return
    endpoint = request.getfixturevalue("moto_url")
    async with loopback_aws_client("dynamodb", endpoint_url=endpoint) as client:
        await create_table(client, "incidents")
        yield DynamoDBStore(client, "incidents", POLICY, LEASE, closed_ttl)


async def test_every_store_remembers_which_group_a_member_fires_in(any_store: Store) -> None:
    """The member records work on every store: the latest group is kept, they expire like a
    closed incident, and they are no incidents (listing and the sweep never see them)."""
    assert await any_store.member_group("fp") is None
    await any_store.place_member("fp", "group-a", T0)
    await any_store.place_member("fp", "group-b", T0 + timedelta(minutes=1))
    assert await any_store.member_group("fp") == "group-b"
    record = await any_store._get(MEMBER, "fp")
    expires = (T0 + timedelta(minutes=1, days=30)).timestamp()
    assert record is not None and int(record.expires_at or 0) == int(expires)
    assert await any_store.incidents() == [] and await any_store.due(None) == []


async def test_a_group_whose_members_all_resolve_while_it_gathers_opens_no_ticket(
    tmp_path: Path,
) -> None:
    """Every member of a gathering group resolves before its window ends: the ticket that was
    to open is dropped (nobody was told of it), the resolve is done at once instead of waiting
    out the window, and the held message, back after it, changes nothing; the next firing
    gathers a new group."""
    r = group_rig(tmp_path, window_s=30)
    with pytest.raises(GatheringError):
        await r.pipeline.process(crash_loops(range(2)))
    r.clock.now += timedelta(seconds=5)
    resolved = crash_loops(range(2), "resolved", minutes=0.1)
    assert [o.action for o in await r.pipeline.process(resolved)] == [Action.COUNT, Action.RECORD]
    r.clock.now += timedelta(seconds=30)
    back = await r.pipeline.process(crash_loops(range(2), receipt="rh-2"))
    assert [o.action for o in back] == [Action.IGNORE, Action.IGNORE]
    assert r.sink.effects == [] and r.summariser.calls == 0
    with pytest.raises(GatheringError):
        await r.pipeline.process(crash_loops(range(2, 3), minutes=1))


# --- A worker that dies at any step ------------------------------------------------------------


class Crash(BaseException):
    """The process dies here: nothing after it runs, not even the claim's release."""


STEPS = ("summarise", "save_ticket", "before_sink", "after_sink", "confirm")


@pytest.mark.parametrize("step", STEPS)
async def test_a_worker_dying_at_any_step_of_an_open_leaves_one_ticket(step: str) -> None:
    """A replica dies at any step of opening a ticket (its claim never released); the message,
    delivered again once its lease is over, finishes the open with the same idempotency key,
    and a resolve then closes it: the sink sees one ticket key, and the LLM is asked again
    only when the summary died with it."""
    r = rig()
    crash = {step}
    store, sink, summariser = r.store, r.sink, r.summariser

    def dies(at: str) -> None:
        if at in crash:
            crash.clear()
            raise Crash(at)

    summarise, save, confirm, apply = (
        summariser.summarise,
        store.save_ticket,
        store.confirm,
        sink.apply,
    )

    async def summarise_then(view: RedactedAlert) -> Ticket:
        ticket = await summarise(view)
        dies("summarise")
        return ticket

    async def save_then(*args: Any, **kwargs: Any) -> None:
        await save(*args, **kwargs)
        dies("save_ticket")

    async def apply_around(effect: Effect) -> Applied:
        dies("before_sink")
        applied = await apply(effect)
        dies("after_sink")
        return applied

    async def confirm_then(*args: Any, **kwargs: Any) -> bool:
        written: bool = await confirm(*args, **kwargs)
        dies("confirm")
        return written

    async def dead(*args: Any, **kwargs: Any) -> None:
        """A dead process releases nothing."""

    summariser.summarise = summarise_then  # type: ignore[method-assign]
    store.save_ticket = save_then  # type: ignore[method-assign]
    sink.apply = apply_around  # type: ignore[method-assign]
    store.confirm = confirm_then  # type: ignore[method-assign]
    store.release = dead  # type: ignore[method-assign]
    firing = generic("m1", 0, timestamp=T0.isoformat())
    with pytest.raises(Crash):
        await _process(r, firing)
    after_lease = (LEASE * 1.5).total_seconds() / 60
    again = await _process(r, redeliver(firing, after_lease))
    assert again == [Action.IGNORE if step == "confirm" else Action.OPEN]  # confirmed: done
    closing = dated("m2", after_lease + 1, status="resolved")
    assert await _process(r, closing) == [Action.CLOSE]
    opens = {e.idempotency_key for e in sink.effects if e.kind is EffectKind.OPEN}
    assert len(opens) == 1 and sink.kinds()[-1] == "close"
    assert summariser.calls == (2 if step == "summarise" else 1)


async def test_a_move_left_half_done_is_finished_by_the_members_resolve(
    tmp_path: Path,
) -> None:
    """A move whose resolve in the old group failed, retried in place (a held message comes
    back as it was, so nothing tells it was tried), leaves the member firing in both groups:
    its resolve then resolves it in both, and both close (the old group stayed open for good)."""
    r = host_rig(tmp_path)
    await _process(r, dated("m1", 0, host="a"))
    failures = [SinkUnavailableError("503")]
    apply = r.sink.apply

    async def failing_close(effect: Effect) -> Applied:
        if effect.kind is EffectKind.CLOSE and failures:
            raise failures.pop()
        return await apply(effect)

    r.sink.apply = failing_close  # type: ignore[method-assign]
    moved = dated("m2", 1, host="b")
    with pytest.raises(SinkUnavailableError):
        await _process(r, moved)
    assert await _process(r, moved) == [Action.IGNORE]  # the same delivery, tried again
    resolved = dated("m3", 2, host="b", status="resolved")
    assert await _process(r, resolved) == [Action.CLOSE]
    assert await _groups(r) == {"host=a": "closed", "host=b": "closed"}
    assert r.sink.kinds() == ["open", "open", "close", "close"]
