"""Red team, round 8b: the daemon under faults. Each xfail is a bug a user would hit, proved at
the fastest level that shows it; it fails today for the reason it names and passes once the bug
is fixed.

- Slack answered 200, then the store's write confirming it was throttled (DynamoDB's
  ProvisionedThroughputExceeded): the message's retry posts to Slack again, and Slack takes
  no idempotency key, so the channel shows the new incident twice.
- A message the store failed once, then held for Slack's outage: `/readyz` says
  `store: unavailable` (not ready) and the store's probe stays off for the whole Slack outage,
  though the store answers and every other message goes through it.
- The backend's breaker closing as soon as its probe answers: a message held meanwhile (for
  the breaker's whole reset, `TRIAGE_SINK_BREAKER_RESET_S`) is woken and goes through, but
  intake stays paused until that reset would have ended.
- As many groups opening at once as there are workers (a node dies): each opening message
  keeps its worker slot while its group gathers members, so intake stops for the window,
  though a gathering group promises it goes on, and the members meant to join wait in SQS.

(Replicas whose clocks disagree by minutes were tried too, each on its own clock over one
in-memory store: each takes the other's live claims for a dead worker's. Not kept as a bug:
replicas share a store only on DynamoDB, where each corrects its clock by DynamoDB's `Date`
(README, "Replicas compare the times they write"), which tests/test_replica_clocks.py proves.)
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import signal
from dataclasses import dataclass, field
from typing import Any

import pytest

from factories import T0
from memory_inbox import MemoryInbox
from memory_store import MemoryStore
from recording_pipeline import POLICY, Sink, Summariser
from test_sink_outage import until
from triage.breaker import BreakerState, CircuitBreaker, note_wake
from triage.errors import (
    BackpressureError,
    GatheringError,
    SinkThrottledError,
    StoreThrottledError,
    StoreUnavailableError,
)
from triage.health import Health
from triage.incidents import Ledger
from triage.metrics import Metrics
from triage.models import EffectKind
from triage.pipeline import Pipeline
from triage.redact import Redactor
from triage.sinks.guard import BREAKER_OPEN
from triage.sqs.inbox import Message
from triage.sqs.supervisor import Supervisor, SupervisorConfig

# --- Slack posted, its confirmation throttled ----------------------------------------------


class ConfirmThrottledOnce(MemoryStore):
    """The in-memory store whose first confirmation of `sink`'s part is refused as DynamoDB
    refuses a write over the table's throughput: nothing written, the write said failed."""

    def __init__(self, sink: str) -> None:
        super().__init__(POLICY)
        self.refuse_for: str | None = sink

    async def confirm(  # type: ignore[override]
        self, fingerprint: str, owner: str, sink: str, ref: str | None, **fields: Any
    ) -> bool:
        if sink == self.refuse_for:
            self.refuse_for = None
            raise StoreThrottledError("ProvisionedThroughputExceededException")
        return await super().confirm(fingerprint, owner, sink, ref, **fields)


def _delivery(body: str, receive: int) -> Message:
    """The `receive`-th delivery of one message (its id kept, a new receipt handle)."""
    return Message("m-disk", body, f"rh-{receive}", receive, T0, received_at=T0)


async def test_slack_is_posted_once_when_the_write_confirming_its_post_is_throttled() -> None:
    """Slack answers the new incident's post; the write confirming it is throttled, so the
    message is held and tried again: the retry finishes the effect without a second post."""
    backend, slack = Sink(name="backend"), Sink(name="slack")
    store = ConfirmThrottledOnce("slack")
    pipeline = Pipeline(
        Ledger(store), Summariser(), [backend, slack], Metrics(), redactor=Redactor(),
        policy=POLICY,
    )  # fmt: skip
    body = json.dumps({"title": "disk full on db-1", "dedup_key": "disk-db-1"})
    with pytest.raises(BackpressureError):
        await pipeline.process(_delivery(body, 1))
    await pipeline.process(_delivery(body, 2))
    assert [e.kind for e in backend.effects] == [EffectKind.OPEN]
    assert [e.kind for e in slack.effects] == [EffectKind.OPEN], "Slack was posted twice"


# --- Readiness after a message the store failed waits for another reason --------------------


@dataclass
class StoreThenSlack:
    """A handler: `held_id`'s first attempt finds the store locked, every later one Slack's
    breaker open (its messages' own wait: intake goes on) until `slack_back`; every other
    message goes through (its store writes answered)."""

    held_id: str
    slack_back: asyncio.Event = field(default_factory=asyncio.Event)
    attempts: dict[str, int] = field(default_factory=dict)

    async def __call__(self, message: Message, progress: Any) -> list[Any]:
        n = self.attempts[message.id] = self.attempts.get(message.id, 0) + 1
        if message.id != self.held_id or self.slack_back.is_set():
            return []
        if n == 1:
            raise StoreUnavailableError("database is locked")
        refused = SinkThrottledError(
            "slack's breaker is open", retry_after_s=60, reason=BREAKER_OPEN
        )
        refused.pauses_intake = False
        raise refused


async def test_the_store_is_ready_again_while_a_message_it_failed_waits_for_slack() -> None:
    """A message finds the store locked once, then Slack's breaker open; meanwhile the store
    answers every ping and another message goes through it: `/readyz` no longer names the
    store, and the replica is ready (a Slack outage alone leaves it so)."""
    queue = MemoryInbox()
    (held_id,) = queue.put("for slack")
    handler = StoreThenSlack(held_id)
    pings = [0]

    async def ping() -> None:
        pings[0] += 1

    health, metrics = Health(), Metrics()
    config = SupervisorConfig(concurrency=4, wait_s=0, shutdown_grace_s=1, visibility_timeout_s=30)
    daemon = Supervisor(config, queue, handler, metrics, health=health, store_probe=ping)
    daemon.DEFAULT_HOLD_S = 0.05  # the store's first wait
    daemon.STORE_PROBE_S = 0.05
    serving = asyncio.create_task(daemon.serve())
    try:
        await until(lambda: handler.attempts.get(held_id, 0) >= 2)
        (other,) = queue.put("for the backend")
        await until(lambda: other in queue.deleted)
        pinged = pings[0]
        with contextlib.suppress(TimeoutError):
            # Time to ping the store a few times and find it answering.
            await until(lambda: pings[0] > pinged + 2 and "store" not in health.failing(), 2)
        failing = health.failing()
    finally:
        handler.slack_back.set()
        daemon.handle_exit(signal.SIGTERM)
        await asyncio.wait_for(serving, 10)
    assert "store" not in failing, f"readiness still fails the store: {failing}"


# --- Intake after the backend's breaker closes early ------------------------------------------


@dataclass
class HeldForTheBackend:
    """A handler: every message is refused while the backend's `breaker` is not closed, as
    the guard refuses a call while the breaker's probe is out: held for the breaker's whole
    reset (`wait_s`) at most, woken when the breaker lets calls through (`note_wake`)."""

    breaker: CircuitBreaker
    wait_s: float
    handled: list[str] = field(default_factory=list)

    async def __call__(self, message: Message, progress: Any) -> list[Any]:
        if self.breaker.state is not BreakerState.CLOSED:
            refused = SinkThrottledError(
                "backend's probe is out", retry_after_s=self.wait_s, reason=BREAKER_OPEN
            )
            note_wake(refused, self.breaker)
            raise refused
        self.handled.append(message.id)
        return []


async def test_intake_resumes_once_the_breaker_that_held_a_message_closes() -> None:
    """A message is held for the backend's breaker (its probe out: a wait of its whole reset,
    ten minutes here); the probe answers at once, the breaker closes and the held message goes
    through. A message queued after that is received and handled now, not ten minutes on."""
    now = [0.0]
    breaker = CircuitBreaker("sink:backend", 1, 600, clock=lambda: now[0])
    opened = breaker.allow()
    assert opened is not None and breaker.failure(opened)
    queue = MemoryInbox()
    (held,) = queue.put("while the backend is out")
    handler = HeldForTheBackend(breaker, wait_s=600)
    config = SupervisorConfig(concurrency=4, wait_s=0, shutdown_grace_s=1, visibility_timeout_s=30)
    daemon = Supervisor(config, queue, handler, Metrics())
    serving = asyncio.create_task(daemon.serve())
    try:
        await until(lambda: daemon.stats.held >= 1)
        now[0] = 600.0
        probe = breaker.allow()
        assert probe is not None
        breaker.success(probe)  # the probe answered: the backend is back
        await until(lambda: held in queue.deleted)
        (later,) = queue.put("after the backend is back")
        with contextlib.suppress(TimeoutError):
            await until(lambda: later in queue.deleted, timeout_s=10)
    finally:
        daemon.handle_exit(signal.SIGTERM)
        await asyncio.wait_for(serving, 10)
    assert later in handler.handled, "intake was still paused after the breaker closed"


# --- Groups gathering in every worker slot ----------------------------------------------------


@dataclass
class Gathering:
    """A handler: each message whose body starts `group` opens a group that gathers members
    for `window_s` (the ledger's GatheringError: held, intake goes on) until `over`; any other
    message goes through."""

    window_s: float
    over: asyncio.Event = field(default_factory=asyncio.Event)
    handled: list[str] = field(default_factory=list)

    async def __call__(self, message: Message, progress: Any) -> list[Any]:
        if message.body.startswith("group") and not self.over.is_set():
            raise GatheringError(
                f"group of {message.body} gathers members", retry_after_s=self.window_s
            )
        self.handled.append(message.body)
        return []


async def test_groups_gathering_in_every_worker_slot_leave_intake_going() -> None:
    """Two workers; two groups open at once (a node dies: two alertnames, each its own group
    gathering for its window). A message queued next, another group's member or any alert, is
    received and handled while they gather, as a gathering group promises (intake goes on)."""
    queue = MemoryInbox()
    queue.put("group KubePodCrashLooping", "group KubeNodeNotReady")
    handler = Gathering(window_s=60)
    config = SupervisorConfig(concurrency=2, wait_s=0, shutdown_grace_s=1, visibility_timeout_s=30)
    daemon = Supervisor(config, queue, handler, Metrics())
    serving = asyncio.create_task(daemon.serve())
    try:
        await until(lambda: daemon.stats.held >= 2)
        (later,) = queue.put("disk full on db-1")
        with contextlib.suppress(TimeoutError):
            await until(lambda: later in queue.deleted, timeout_s=10)
    finally:
        handler.over.set()
        daemon.handle_exit(signal.SIGTERM)
        await asyncio.wait_for(serving, 10)
    assert "disk full on db-1" in handler.handled, "intake stopped while the groups gathered"
