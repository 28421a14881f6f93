"""The pipeline with in-memory fakes (store, sinks, summariser): the lifecycle table, the redo of an
abandoned effect, racing workers and failures, in milliseconds. The stores themselves are proven
against SQLite and DynamoDB in test_store.py; the sinks against their services elsewhere."""

from __future__ import annotations

import asyncio
import json
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path

import pytest
import structlog

from factories import T0, alert
from memory_store import MemoryStore
from triage.errors import (
    GatheringError,
    SinkRejectedError,
    SinkUnavailableError,
    StoreBusyError,
    StoreUnavailableError,
)
from triage.incidents import Action, Ledger, Policy
from triage.metrics import Metrics
from triage.models import EffectKind, Priority, Status, Ticket
from triage.pipeline import Pipeline, _raise_first
from triage.redact import Redactor
from triage.routes import load_router
from triage.settings import Settings
from triage.sinks.base import Applied, Effect
from triage.sqs.inbox import Message
from triage.view import RedactedAlert

POLICY = Policy(
    update_interval=timedelta(minutes=15), reopen_window=timedelta(hours=1), flap_threshold=3
)
LEASE = timedelta(minutes=2)


@dataclass
class FakeSink:
    """A sink that records every effect; it can be told to fail the next calls or to wait."""

    name: str = "backend"
    effects: list[Effect] = field(default_factory=list)
    failures: int = 0
    gate: asyncio.Event | None = None

    async def apply(self, effect: Effect) -> Applied:
        if self.gate is not None:
            await self.gate.wait()
        if self.failures:
            self.failures -= 1
            raise SinkUnavailableError("503")
        self.effects.append(effect)
        opened = sum(e.kind is EffectKind.OPEN for e in self.effects)
        return Applied(f"T-{opened}") if effect.kind is EffectKind.OPEN else Applied()

    async def aclose(self) -> None:
        return None

    def kinds(self) -> list[str]:
        return [str(e.kind) for e in self.effects]


@dataclass
class CountingSummariser:
    calls: int = 0

    async def summarise(self, alert: RedactedAlert) -> Ticket:
        self.calls += 1
        return Ticket(title=alert.title, priority=Priority.HIGH, description="d", steps=("s",))

    async def aclose(self) -> None:
        return None


class Clock:
    def __init__(self) -> None:
        self.now = T0

    def __call__(self) -> datetime:
        return self.now

    def at(self, minutes: float) -> None:
        self.now = T0 + timedelta(minutes=minutes)


@dataclass
class Rig:
    store: MemoryStore
    sink: FakeSink
    summariser: CountingSummariser
    clock: Clock
    pipeline: Pipeline

    async def send(
        self, minutes: float, status: Status = Status.FIRING, owner: str | None = None
    ) -> Action:
        """One alert of the incident `api-5xx`, `minutes` after T0, received then (a message
        of its own unless `owner` names one)."""
        self.clock.at(minutes)
        owner = owner or f"m-{minutes}-{status}"
        return await self.pipeline.handle(alert(status=status, minutes=minutes), owner)


def rig(dry_run: bool = False) -> Rig:
    store = MemoryStore(POLICY, LEASE)
    sink, summariser, clock = FakeSink(), CountingSummariser(), Clock()
    pipeline = Pipeline(
        Ledger(store, clock=clock),
        summariser,
        [sink],
        Metrics(),
        redactor=Redactor(),
        policy=POLICY,
        dry_run=dry_run,
    )
    return Rig(store, sink, summariser, clock, pipeline)


async def test_lifecycle_table_through_the_pipeline() -> None:
    """Every cell of the lifecycle table, as the sinks see it: one ticket opened, repeats
    counted, one update per interval, closed, reopened in the window, a new ticket long after."""
    r = rig()
    assert await r.send(0) is Action.OPEN
    assert await r.send(5) is Action.COUNT
    assert await r.send(16) is Action.UPDATE
    assert await r.send(20, Status.RESOLVED) is Action.CLOSE
    assert await r.send(21, Status.RESOLVED) is Action.IGNORE
    assert await r.send(19) is Action.IGNORE  # older than the resolve: never moves state back
    assert await r.send(30) is Action.REOPEN
    assert await r.send(40, Status.RESOLVED) is Action.CLOSE
    assert await r.send(200) is Action.OPEN  # closed long ago: a new ticket
    assert r.sink.kinds() == ["open", "update", "close", "reopen", "close", "open"]
    assert r.summariser.calls == 2  # once per incident, never per message
    keys = [e.idempotency_key for e in r.sink.effects]
    assert len(set(keys)) == len(keys)
    update = r.sink.effects[1]
    assert (update.occurrences, update.new_occurrences) == (3, 2)
    assert r.sink.effects[3].ref == "T-1"  # later effects follow the ticket's reference


async def test_a_resolve_with_nothing_open_is_recorded_without_a_ticket() -> None:
    """A resolved alert for an unknown incident opens nothing and calls no sink."""
    r = rig()
    assert await r.send(0, Status.RESOLVED) is Action.RECORD
    assert r.sink.effects == []


async def test_an_abandoned_effect_is_redone_once_with_its_key() -> None:
    """A worker that claimed an OPEN and died leaves its intent; once the lease ends the next
    alert's worker carries out that OPEN (same idempotency key) and then its own decision."""
    r = rig()
    # The first worker claims the OPEN, then dies before any sink call.
    await r.store.begin(alert(), "crashed", T0)
    assert await r.send(1) is Action.COUNT  # lease still held: just counted, nothing redone
    assert r.sink.effects == []
    action = await r.send(LEASE.total_seconds() / 60 + 1)
    assert action is Action.COUNT
    assert r.sink.kinds() == ["open"]
    assert r.sink.effects[0].idempotency_key.endswith(":1")
    stored = await r.store.get(alert().fingerprint)
    assert stored is not None and stored.pending is None and stored.refs == {"backend": "T-1"}


async def test_a_failed_effect_is_released_and_a_retry_takes_it_over_at_once() -> None:
    """A sink failing releases the claim: the message's retry (or another replica) redoes the
    effect at once, with the same key, and the ticket opens exactly once."""
    r = rig()
    r.sink.failures = 1
    with pytest.raises(SinkUnavailableError):
        await r.send(0, owner="first")
    assert await r.send(0.1, owner="second") is Action.COUNT
    assert r.sink.kinds() == ["open"]
    assert r.sink.effects[0].idempotency_key == f"{alert().fingerprint}:1"
    assert r.summariser.calls == 1


async def test_a_sink_refusing_a_ticket_for_good_does_not_hold_up_the_incident() -> None:
    """A sink that refuses the effect for good (a 410 for a deleted issue, a revoked webhook):
    the message fails (for the DLQ to show), but the refusal is recorded, so later alerts of the
    incident do not redo the refused effect and fail in turn: they are decided as usual."""
    r = rig()
    refusals = [SinkRejectedError("410 gone")]

    async def refusing(effect: Effect) -> Applied:
        if refusals:
            raise refusals.pop()
        r.sink.effects.append(effect)
        return Applied("T-1")

    r.sink.apply = refusing  # type: ignore[method-assign]
    with pytest.raises(SinkRejectedError):
        await r.send(0)
    stored = await r.store.get(alert().fingerprint)
    assert stored is not None and stored.pending is None  # the effect is over, not left behind
    assert await r.send(1) is Action.COUNT
    # It resolves without raising: the sink that refused the ticket holds none, so nothing to
    # close there (before, every later alert redid the refused OPEN and failed with it).
    assert await r.send(2, Status.RESOLVED) is Action.CLOSE
    assert r.sink.effects == []


async def test_two_workers_racing_on_one_new_incident_open_it_once() -> None:
    """Two messages of one new incident handled at the same time: one OPEN, one count; the
    second never waits for the first's sink call."""
    r = rig()
    r.sink.gate = asyncio.Event()
    first = asyncio.create_task(r.pipeline.handle(alert(), "m1"))
    await asyncio.sleep(0)
    second = await r.pipeline.handle(alert(minutes=0.5), "m2")
    assert second is Action.COUNT
    r.sink.gate.set()
    assert await first is Action.OPEN
    assert r.sink.kinds() == ["open"]


async def test_a_repeat_is_decided_at_debug_and_an_effect_at_info() -> None:
    """In a storm every repeat would log twice at info (its message.acked line names the action
    and fingerprint too): a repeat's alert.decided is a debug line, an effect's an info one."""
    r = rig()
    with structlog.testing.capture_logs() as logs:
        await r.send(0)
        await r.send(1)
    decided = [(e["action"], e["log_level"]) for e in logs if e["event"] == "alert.decided"]
    assert decided == [("open", "info"), ("count", "debug")]


async def test_dry_run_decides_and_writes_nothing() -> None:
    """With dry_run, decisions are made as usual but no record is written, no sink called."""
    r = rig(dry_run=True)
    assert await r.send(0) is Action.OPEN
    assert await r.send(1) is Action.OPEN  # nothing was stored: still a new incident
    assert r.sink.effects == [] and r.store.records == {}
    assert r.summariser.calls == 2  # what each new ticket would say


# --- Groups -----------------------------------------------------------------------------------

ROUTES = """
[[route]]
name = "crash-loops"
sinks = ["backend"]
group_by = ["alertname", "namespace"]
group_window_s = {window}
[route.match]
source = ["alertmanager"]
"""


def group_rig(tmp_path: Path, window_s: float = 0) -> Rig:
    routes = tmp_path / "routes.toml"
    routes.write_text(ROUTES.format(window=window_s))
    r = rig()
    r.pipeline.router = load_router(Settings(routes_file=routes))
    return r


def crash_loops(
    pods: range, status: str = "firing", minutes: float = 0, receipt: str = "rh"
) -> Message:
    """One Alertmanager notification: a crash-looping pod each, one alertname, one namespace."""
    at = (T0 + timedelta(minutes=minutes)).isoformat()
    alerts = [
        {
            "status": status,
            "labels": {"alertname": "KubePodCrashLooping", "namespace": "shop", "pod": f"api-{i}"},
            "annotations": {"summary": f"pod api-{i} is crash looping"},
            "startsAt": at,
            "endsAt": at if status == "resolved" else "0001-01-01T00:00:00Z",
        }
        for i in pods
    ]
    body = {"version": "4", "groupKey": "g", "status": status, "alerts": alerts}
    mid = f"msg-{pods.start}-{status}"
    return Message(mid, json.dumps(body), receipt, 1, None, received_at=T0)


async def test_a_group_of_alerts_is_one_ticket_that_closes_when_all_resolve(
    tmp_path: Path,
) -> None:
    """Twenty crash-looping pods of one alertname and namespace over four messages are one
    incident: one summary, one ticket; it closes only when the last pod resolves, and reopens
    when one fires again."""
    r = group_rig(tmp_path)
    for first in range(0, 20, 5):
        await r.pipeline.process(crash_loops(range(first, first + 5)))
    assert r.sink.kinds() == ["open"] and r.summariser.calls == 1
    await r.pipeline.process(crash_loops(range(19), "resolved", minutes=1))
    assert r.sink.kinds() == ["open"]  # one pod still firing
    r.clock.at(2)
    await r.pipeline.process(crash_loops(range(19, 20), "resolved", minutes=2))
    assert r.sink.kinds() == ["open", "close"]
    close = r.sink.effects[-1].alert.group
    assert close is not None and (close.count, close.firing) == (20, 0)
    r.clock.at(3)
    await r.pipeline.process(crash_loops(range(7, 8), minutes=3))
    assert r.sink.kinds() == ["open", "close", "reopen"]
    assert r.summariser.calls == 1


async def test_a_group_gathers_its_members_before_its_first_ticket(tmp_path: Path) -> None:
    """With group_window_s, the message that opens the group is held for the window while the
    others join; then one ticket, summarised once, lists every member."""
    r = group_rig(tmp_path, window_s=30)
    with pytest.raises(GatheringError) as gathering:
        await r.pipeline.process(crash_loops(range(5)))
    assert gathering.value.retry_after_s == pytest.approx(30)
    assert gathering.value.pauses_intake is False
    for first in range(5, 20, 5):  # other messages join meanwhile, and are done at once
        await r.pipeline.process(crash_loops(range(first, first + 5)))
    assert r.sink.effects == [] and r.summariser.calls == 0
    r.clock.now += timedelta(seconds=31)
    await r.pipeline.process(crash_loops(range(5), receipt="rh-2"))  # the held message, back
    [opened] = r.sink.effects
    assert opened.alert.group is not None and opened.alert.group.count == 20
    assert r.summariser.calls == 1


async def test_a_second_delivery_beside_the_first_waits_and_sends_nothing() -> None:
    """SQS hands a message out again while its first delivery still runs (a visibility that
    could not be extended): the second is told to wait, the first finishes, one ticket."""
    r = rig()
    r.sink.gate = asyncio.Event()
    first = asyncio.create_task(r.pipeline.process(crash_loops(range(1), receipt="rh-1")))
    while r.store.records == {}:
        await asyncio.sleep(0)
    with pytest.raises(StoreBusyError, match="another delivery"):
        await r.pipeline.process(crash_loops(range(1), receipt="rh-2"))
    r.sink.gate.set()
    assert [o.action for o in await first] == [Action.OPEN]
    assert r.sink.kinds() == ["open"] and r.summariser.calls == 1
    # The second delivery, back after its wait, finds its alert applied: nothing more.
    [again] = await r.pipeline.process(crash_loops(range(1), receipt="rh-2"))
    assert again.action is Action.IGNORE and r.sink.kinds() == ["open"]
    stored = await r.store.get(again.fingerprint)
    assert stored is not None and stored.occurrences == 1


async def test_a_retry_after_a_failed_delivery_carries_its_own_effect_out_once() -> None:
    """A delivery whose sink failed gives its claim back; the message's next delivery takes
    that claim as its own: the ticket opens once and the alert is counted once."""
    r = rig()
    r.sink.failures = 1
    with pytest.raises(SinkUnavailableError):
        await r.pipeline.process(crash_loops(range(1), receipt="rh-1"))
    [outcome] = await r.pipeline.process(crash_loops(range(1), receipt="rh-2"))
    assert outcome.action is Action.OPEN and r.sink.kinds() == ["open"]
    stored = await r.store.get(outcome.fingerprint)
    assert stored is not None and stored.occurrences == 1 and stored.pending is None


async def test_members_joining_update_the_ticket_at_most_once_per_interval(
    tmp_path: Path,
) -> None:
    """New members after the ticket opened update it, but at most once per update interval."""
    r = group_rig(tmp_path)
    await r.pipeline.process(crash_loops(range(1)))
    r.clock.at(5)
    await r.pipeline.process(crash_loops(range(1, 2), minutes=5))
    r.clock.at(16)
    await r.pipeline.process(crash_loops(range(2, 3), minutes=16))
    r.clock.at(17)
    await r.pipeline.process(crash_loops(range(3, 4), minutes=17))
    assert r.sink.kinds() == ["open", "update"]
    update = r.sink.effects[1].alert.group
    assert update is not None and update.count == 3


async def test_routes_without_group_by_keep_every_fingerprint(tmp_path: Path) -> None:
    """Alerts no grouping route takes are their own incidents, under their own fingerprints."""
    r = group_rig(tmp_path)
    await r.pipeline.handle(alert("a"), "m")
    await r.pipeline.handle(alert("b"), "m")
    assert [e.fingerprint for e in r.sink.effects] == [
        alert("a").fingerprint,
        alert("b").fingerprint,
    ]


async def test_a_reference_holding_a_credential_is_shown_redacted_to_other_sinks() -> None:
    """A service that answers its own token as the ticket id (an echo, a bug) must not have it
    published: the next sink sees that reference redacted; the sink that owns it keeps it."""
    token = "backend-token-" + "x" * 24

    @dataclass
    class Echo(FakeSink):
        async def apply(self, effect: Effect) -> Applied:
            self.effects.append(effect)
            return Applied(token) if effect.kind is EffectKind.OPEN else Applied()

    echo, shown = Echo(name="backend"), FakeSink(name="slack")
    store = MemoryStore(POLICY, LEASE)
    pipeline = Pipeline(
        Ledger(store, clock=Clock()),
        CountingSummariser(),
        [echo, shown],
        Metrics(),
        redactor=Redactor(lambda: [token]),
        policy=POLICY,
    )
    await pipeline.handle(alert(), "m")
    assert dict(shown.effects[0].refs) == {"backend": "[REDACTED:credential]"}
    stored = await store.get(alert().fingerprint)
    assert stored is not None and stored.refs["backend"] == token


def test_the_failure_that_opened_a_breaker_decides_among_equals() -> None:
    """Of a group's alerts failing alike on a sink, the one whose failure opened its breaker
    is the message's failure, so its line is the quiet one (the breaker's line says the
    outage), whichever alert came first."""
    from triage.breaker import CircuitBreaker, note_opened

    first, opener = SinkUnavailableError("slack 503"), SinkUnavailableError("slack 503")
    note_opened(opener, CircuitBreaker("slack", 1, 30.0))
    for results in ([first, opener], [opener, first]):
        with pytest.raises(SinkUnavailableError) as raised:
            _raise_first(results)
        assert raised.value is opener


def test_a_store_failure_beside_a_sink_failure_decides_that_the_message_is_held() -> None:
    """Of a message's alerts, one failing on the store and one on a sink: the store's failure
    decides (the supervisor holds the message), whichever came first."""
    sink = SinkUnavailableError("backend 503")
    store = StoreUnavailableError("sqlite: database is locked")
    for results in ([sink, store], [store, sink]):
        with pytest.raises(StoreUnavailableError):
            _raise_first(results)
