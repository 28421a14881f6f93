"""Red team, round 5: faults against what changed today; each failed when written, and was fixed.

- The `sent` record kept for an effect's redos (`Store.freeze_effect`): asked by a worker whose
  lease lapsed after another replica finished its effect and the incident moved on; written by
  a newer release (a rolling deploy); outliving the incident it was kept for (DynamoDB's TTL
  deletes items one by one, in no order, up to days late); purged while its effect is retried.
- The sweep's far-end read (`Store.dated_after`), an extra read each pass, throttled.
- A child closed by its parent's deletion (`lifecycle.AnswersFiring`), its firing's message
  delivered again by SQS.
- Messages held for Slack's outage filling what the supervisor may hold in hand (`_park`).
- A silence expired by a replica whose clock was ahead (`Store.end_silence`).
- A shipper's batch stamped a microsecond an alert back from the request's millisecond
  (`ingest/messages.py`), and two requests in one millisecond stamped alike.

Each at the fastest level that shows it: the in-memory store (SQLite for its purge), the
pipeline fed the messages the gateway's own code builds, the supervisor on an in-memory queue
with Slack on loopback."""

from __future__ import annotations

import asyncio
import json
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from factories import T0, alert, view
from memory_store import MemoryStore
from recording_pipeline import POLICY, Sink, Summariser
from test_cloudwatch_contributors_close import contributor, deletion, message, replica, title
from test_lease_clock_sweep import daemon
from test_pipeline import LEASE, Clock
from test_sink_outage import SlackLike, body, rig, slack_sink, until
from test_sink_outage import slack as slack  # the loopback Slack fixture
from triage.errors import StoreThrottledError
from triage.incidents import State
from triage.incidents.codec import sent_to_json
from triage.incidents.ledger import Ledger
from triage.incidents.records import INCIDENT, SENT, Record, Sent
from triage.incidents.silences import Matcher, Silence
from triage.incidents.sqlite import SQLiteStore
from triage.incidents.store import ABANDONED_GRACE
from triage.ingest.messages import Stamps, messages_for, request_stamp
from triage.ingest.validate import check
from triage.metrics import Metrics
from triage.models import EffectKind, Priority, Status, Ticket
from triage.pipeline import Pipeline
from triage.redact import Redactor
from triage.sinks.guard import BREAKER_OPEN
from triage.sqs.inbox import RECEIVED_AT_ATTRIBUTE, Message
from triage.view import RedactedAlert

#: The request's stamp as the gateway writes it: UTC, to the millisecond.
STAMP = T0.isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _pipeline(store: MemoryStore, sink: Sink) -> Pipeline:
    return Pipeline(
        Ledger(store), Summariser(), [sink], Metrics(), redactor=Redactor(), policy=POLICY
    )


def _backup(title: str = "Backup of orders failed", **fields: Any) -> dict[str, Any]:
    return {"title": title, "dedup_key": "backup-db"} | fields


# --- The `sent` record outliving its incident --------------------------------------------------


async def test_a_new_incident_never_sends_the_body_kept_for_an_expired_one() -> None:
    """After a closed incident's record expires while its `sent` record is still there (TTL
    deletions come in no order), the fingerprint's new incident's close sends its own alert
    and ticket, not the old incident's."""
    store, sink = MemoryStore(POLICY), Sink()
    pipeline = _pipeline(store, sink)
    old, new = "Backup of orders failed", "Backup of invoices failed"
    bodies = [_backup(old), _backup(old, status="resolved")]
    for n, payload in enumerate(bodies):
        at = T0 + timedelta(minutes=n)
        await pipeline.process(
            Message(f"m-{n}", json.dumps(payload), f"r-{n}", 1, at, received_at=at)
        )
    assert any(kind == SENT for kind, _ in store.records)
    # The incident's TTL runs out; the `sent` record (frozen after the close) not yet.
    for key in [k for k in store.records if k[0] == INCIDENT]:
        del store.records[key]
    later = T0 + timedelta(days=31)
    for n, payload in enumerate([_backup(new), _backup(new, status="resolved")], start=2):
        at = later + timedelta(minutes=n)
        await pipeline.process(
            Message(f"m-{n}", json.dumps(payload), f"r-{n}", 1, at, received_at=at)
        )
    close = sink.effects[-1]
    assert close.kind is EffectKind.CLOSE
    assert (close.alert.title, close.ticket.title) == (new, new)


class FirstSummaryWaits:
    """A summariser whose first call waits for `gate` (a slow model past the lease); every
    other call answers at once."""

    def __init__(self) -> None:
        self.gate = asyncio.Event()
        self.calls = 0

    async def summarise(self, alert: RedactedAlert) -> Ticket:
        self.calls += 1
        if self.calls == 1:
            await self.gate.wait()
        return Ticket(title=alert.title, priority=Priority.HIGH, description="d", steps=("s",))

    async def aclose(self) -> None:
        return None


@pytest.mark.parametrize("then_closed", [False, True], ids=["open", "then closed"])
async def test_a_worker_whose_effect_was_finished_by_another_sends_it_no_more(
    then_closed: bool,
) -> None:
    """Replica A claims an OPEN and its summariser is slow past the lease; replica B takes the
    OPEN over and sends it (then, in one case, closes the incident). When A's summary comes
    back, A sends no second OPEN (Slack has no idempotency key: a second post)."""
    store, clock, sink, summariser = (
        MemoryStore(POLICY, LEASE),
        Clock(),
        Sink(),
        FirstSummaryWaits(),
    )

    def replica() -> Pipeline:
        return Pipeline(
            Ledger(store, clock=clock), summariser, [sink], Metrics(), redactor=Redactor(),
            policy=POLICY,
        )  # fmt: skip

    a, b = replica(), replica()
    slow = asyncio.create_task(a.handle(alert(), "m1#0@a"))
    async with asyncio.timeout(5):
        while summariser.calls < 1:
            await asyncio.sleep(0)
    clock.now = T0 + LEASE + timedelta(minutes=1)
    await b.handle(alert(minutes=3), "m2#0@b")  # takes the lapsed OPEN over, sends it
    if then_closed:
        clock.now += timedelta(minutes=1)
        await b.handle(alert(status=Status.RESOLVED, minutes=4), "m3#0@b")
    summariser.gate.set()
    await asyncio.gather(slow, return_exceptions=True)
    after = [EffectKind.CLOSE] if then_closed else []
    assert [e.kind for e in sink.effects] == [EffectKind.OPEN, *after]


async def test_a_body_kept_by_a_newer_release_is_sent_again_by_an_older_ones_redo() -> None:
    """During a rolling deploy a newer release froze an effect's body with a field of its own
    in the ticket (as the incident codec lets it); an older replica's redo of that effect
    sends that body's title, and leaves the record as the newer release wrote it."""
    store = MemoryStore(POLICY)
    ticket = Ticket(title="api-5xx is failing", priority=Priority.HIGH, description="d", steps=())
    first = Sent(1, view(alert()), ticket, 3, 1, False, "a" * 32)
    newer = json.loads(sent_to_json(first))
    newer["ticket"]["runbook_url"] = "https://runbooks.example/api-5xx"
    newer["kept_by"] = "release 2"
    body = json.dumps(newer)
    store.records[(SENT, "api-5xx")] = Record("api-5xx", SENT, 1, body, None)
    own = Sent(1, view(alert("orders")), ticket, 4, 1, False, "c" * 32)
    redone = await store.freeze_effect("api-5xx", own)
    assert (redone.alert.title, redone.occurrences) == (first.alert.title, 3)
    assert store.records[(SENT, "api-5xx")].body == body


async def test_a_body_is_kept_while_its_effect_is_still_being_retried(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """TRIAGE_CLOSED_TTL_S is 2 h; an open incident's effect froze its body 3 h ago and is
    still being retried (GitHub down all that while). Its next two redos (SQLite's hourly
    purge running after the first) are each handed the body the first attempt sent."""
    store = SQLiteStore(str(tmp_path / "t.db"), POLICY, LEASE, timedelta(hours=2))
    await store.open()
    try:
        ticket = Ticket(title="api-5xx is failing", priority=Priority.HIGH, description="d",
                        steps=())  # fmt: skip
        first = Sent(1, view(alert()), ticket, 3, 1, False, "a" * 32)
        real_now = store.now
        monkeypatch.setattr(store, "now", lambda: real_now() - timedelta(hours=3))
        await store.freeze_effect("api-5xx", first)
        monkeypatch.setattr(store, "now", real_now)
        store.purge_every_s = 0.0  # the hourly purge is due: it runs after the next call
        own = Sent(1, view(alert("orders")), ticket, 9, 1, False, "c" * 32)
        redos = [await store.freeze_effect("api-5xx", own) for _ in range(2)]
        assert [(r.alert.title, r.occurrences) for r in redos] == [(first.alert.title, 3)] * 2
    finally:
        await store.aclose()


# --- A batch's stamps reaching back before an earlier request ---------------------------------


async def _queued(alerts: list[dict[str, Any]], stamps: Stamps) -> list[Message]:
    """The messages the gateway queues for the batch `alerts` that arrived at T0, stamped as
    the gateway stamps a request (`request_stamp`, from the process's rising `stamps`), and
    queued in that same millisecond (SentTimestamp T0)."""
    body = "".join(json.dumps(alert) + "\n" for alert in alerts)
    checked = check("generic", body.encode(), None, lambda text: text)
    stamp = request_stamp(T0, checked, stamps)
    outgoing = await messages_for(checked, {RECEIVED_AT_ATTRIBUTE: stamp}, 256 * 1024)
    return [
        Message(f"m-{n}", m.body, f"r-{n}", 1, T0, received_at=T0, attributes=m.attributes)
        for n, m in enumerate(outgoing)
    ]


async def test_a_batch_after_a_firing_in_the_same_millisecond_closes_its_ticket() -> None:
    """A firing posted alone, then (within the same millisecond) a batch whose first alert is
    its resolve: the resolve, received after the firing, closes the ticket it opened."""
    sink = Sink()
    pipeline = _pipeline(MemoryStore(POLICY), sink)
    stamps = Stamps()
    firing = await _queued([_backup()], stamps)
    batch = await _queued(
        [_backup(status="resolved"), _backup("Disk full", dedup_key="disk")], stamps
    )
    actions = [[str(o.action) for o in await pipeline.process(m)] for m in [*firing, *batch]]
    assert actions == [["open"], ["close"], ["open"]]


# --- The sweep's far-end read under a store fault ---------------------------------------------


async def test_a_throttled_far_end_read_still_lets_the_pass_redo_the_due_incidents() -> None:
    """A worker died holding an OPEN (its lease past): the index has it due. The pass's extra
    read of the index's far end is throttled; the due OPEN is sent all the same."""
    d = daemon()
    d.sink.gate.set()
    await d.sweep.once()  # the first pass reads every incident: the next one reads the due
    await d.store.begin(alert(), "m1#0@dead", T0)

    async def throttled(after: datetime) -> list[tuple[str, float]]:
        raise StoreThrottledError("dynamodb throttled the range read")

    d.store.dated_after = throttled  # type: ignore[method-assign]
    d.clock.now = T0 + LEASE + ABANDONED_GRACE + timedelta(seconds=5)
    await d.sweep.once()
    assert [effect.kind for effect in d.sink.effects] == [EffectKind.OPEN]


# --- A silence expired while the clock was ahead ----------------------------------------------


async def test_a_silence_expired_by_a_clock_ahead_can_be_ended_now_after_the_step_back() -> None:
    """An operator expires a running silence on a replica whose clock is an hour ahead; the
    clock is stepped back and the silence still mutes alerts (its end an hour off): expiring it
    again ends it now, and the store says this call ended it."""
    store = MemoryStore(POLICY)
    made = Silence.new(
        [Matcher.parse("team=payments")], T0 - timedelta(hours=1), T0 + timedelta(hours=4),
        "deploy", "al",
    )  # fmt: skip
    silence = await store.add_silence(made, T0)
    first = await store.end_silence(silence.id, T0 + timedelta(hours=1))  # clock an hour ahead
    assert first is not None and first[1]
    assert first[0].active(T0)  # after the step back it still mutes
    again = await store.end_silence(silence.id, T0)
    assert again is not None and again[1]
    assert not again[0].active(T0)


# --- A child closed by its parent's deletion, its firing delivered again ----------------------


async def test_a_childs_firing_delivered_again_after_the_deletion_leaves_it_closed() -> None:
    """Child a fires at 15:00 and the alarm's deletion of 15:00 (queued alike) closes it; SQS
    then delivers the child's firing message again (its delete was lost): the child stays
    closed, its ticket closed once."""
    store = MemoryStore(POLICY, LEASE)
    one = replica(store, Clock())
    await one.process(message("f1", contributor("a", "ALARM", "13:00")))
    await one.process(message("f2", contributor("a", "ALARM", "15:00")))
    await one.process(message("del", deletion("15:00")))
    await one.process(message("f2", contributor("a", "ALARM", "15:00"), receive=2))
    states = {i.title: i.state for i in await store.incidents()}
    assert states[title("a")] is State.CLOSED
    assert one.closed() == [title("a")]


# --- Messages held for one sink's outage, more than the workers -------------------------------


async def test_more_messages_held_for_slack_than_twice_the_workers_leave_intake_going(
    tmp_path: Path, slack: SlackLike
) -> None:
    """Two workers, Slack down (its reset far off): five payments alerts are held for Slack;
    a backend-only alert queued after them is still received and acked while Slack is down,
    as one sink's outage holds only its messages."""
    now = [0.0]
    r = rig(tmp_path, slack_sink(slack.url), concurrency=2, reset_s=30, clock=lambda: now[0])
    payments = r.queue.put(*(body(f"card declines {n}", "payments") for n in range(5)))
    serving = asyncio.create_task(r.daemon.serve())
    try:
        await until(lambda: r.metrics.counter("MessagesHeld", reason=BREAKER_OPEN) >= 4)
        (other,) = r.queue.put(body("disk full", "ops"))
        reached = True
        try:
            await until(lambda: other in r.queue.deleted, timeout_s=5)
        except TimeoutError:
            reached = False
        with slack.lock:
            slack.down = False
        now[0] = 30.0
        r.breaker.wake()  # half-open now: the held messages need not wait out their timers
        await asyncio.wait_for(serving, 40)
    finally:
        serving.cancel()
        await asyncio.gather(serving, return_exceptions=True)
        await r.close()
    assert sorted(r.queue.deleted) == sorted([*payments, other])
    assert reached, "the ops alert waited for Slack's reset"


async def test_a_resolve_posted_in_its_firings_millisecond_closes_the_ticket() -> None:
    """A script posts a firing, then its resolve, two requests within one millisecond (each
    queued then too): the resolve, received second, closes the ticket the firing opened."""
    sink = Sink()
    pipeline = _pipeline(MemoryStore(POLICY), sink)
    stamps = Stamps()
    firing = await _queued([_backup()], stamps)
    resolve = await _queued([_backup(status="resolved")], stamps)
    actions = [[str(o.action) for o in await pipeline.process(m)] for m in [*firing, *resolve]]
    assert actions == [["open"], ["close"]]
