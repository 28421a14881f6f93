"""Escalations under a clock that steps, by the rules every claim follows (`Store.holder_gone`):
an escalation claim dated further ahead than any live claim can be (a lease and
`CLAIM_CLOCK_SLACK` from now: made while the clock was ahead, since stepped back), whether a
dead sweep's claim or a failed escalation's retry time, is due at once, not when the clock
catches up; a live claim from a clock a few seconds ahead, and a retry a minute off, still wait.
Through the store (in memory) and through the sweep, whose escalations post to a loopback
Slack webhook; and an escalation the sweep is carrying out when the clock jumps forward is
posted once."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path

import pytest

from factories import T0, alert
from memory_store import MemoryStore
from test_pipeline import LEASE, POLICY, Clock, CountingSummariser, FakeSink
from triage.incidents import Incident, Ledger, Store
from triage.incidents import store as store_module
from triage.incidents.lifecycle import Pending
from triage.incidents.records import Routing
from triage.incidents.schedule import CLAIM_CLOCK_SLACK, escalation_due
from triage.incidents.silences import Silence, SilenceCache
from triage.metrics import Metrics
from triage.models import EffectKind, Priority, Ticket
from triage.ops.escalate import Escalator
from triage.ops.sweep import ESCALATION_RETRY, Sweep
from triage.pipeline import Pipeline
from triage.redact import Redactor
from triage.routes import load_router
from triage.settings import Settings

HOUR = timedelta(hours=1)
ESCALATE_AFTER = timedelta(minutes=30)
#: A time the incident opened at T0 is due for escalation.
DUE = T0 + ESCALATE_AFTER + timedelta(minutes=1)
TICKET = Ticket(title="api-5xx is failing", priority=Priority.HIGH, description="d", steps=())


def no_silence(_: Incident) -> Silence | None:
    return None


async def opened(store: Store) -> str:
    """An open, ticketed incident of a route that escalates 30 minutes after it opened at T0."""
    transition = await store.begin(alert(), "m0", T0)
    assert transition.after is not None
    fingerprint = transition.after.fingerprint
    after_s = ESCALATE_AFTER.total_seconds()
    routing = Routing("payments", "payments", {}, escalate_after_s=after_s)
    await store.save_ticket(fingerprint, "m0", TICKET, routing)
    await store.confirm(fingerprint, "m0", "backend", "T-1", finish=True)
    return fingerprint


# --- The store: claim_escalation by the claims' clock rules ------------------------------------


async def test_a_dead_sweeps_escalation_claimed_an_hour_ahead_is_taken_at_once() -> None:
    """A sweep whose clock was an hour ahead claimed the escalation and died; the clock was
    stepped back: another sweep claims it now, not an hour later."""
    store = MemoryStore(POLICY, LEASE)
    fingerprint = await opened(store)
    assert await store.claim_escalation(fingerprint, "sweep:dead", DUE + HOUR, no_silence)
    claimed = await store.claim_escalation(fingerprint, "sweep:b", DUE, no_silence)
    assert claimed is not None and claimed.escalation is not None
    assert claimed.escalation.owner == "sweep:b" and claimed.escalation.until == DUE + LEASE


async def test_a_failed_escalations_retry_dated_an_hour_ahead_is_due_at_once() -> None:
    """An escalation failed while the clock was an hour ahead, its retry set a minute after
    that clock: after the step back it is due at once, keeping the targets already told."""
    store = MemoryStore(POLICY, LEASE)
    fingerprint = await opened(store)
    ahead = DUE + HOUR
    assert await store.claim_escalation(fingerprint, "sweep:a", ahead, no_silence)
    await store.escalation_sent(fingerprint, "sweep:a", "slack")
    await store.end_escalation(fingerprint, "sweep:a", ahead, retry_at=ahead + ESCALATION_RETRY)
    claimed = await store.claim_escalation(fingerprint, "sweep:a", DUE, no_silence)
    assert claimed is not None and claimed.escalation is not None
    assert claimed.escalation.sent == ("slack",)


async def test_a_live_escalation_claim_a_few_seconds_ahead_is_left_to_its_holder() -> None:
    """Replicas' clocks differ by seconds: a claim made by a clock up to CLAIM_CLOCK_SLACK
    ahead still runs its lease, and another sweep does not escalate a second time."""
    store = MemoryStore(POLICY, LEASE)
    fingerprint = await opened(store)
    ahead = DUE + CLAIM_CLOCK_SLACK
    assert await store.claim_escalation(fingerprint, "sweep:a", ahead, no_silence)
    assert await store.claim_escalation(fingerprint, "sweep:b", DUE, no_silence) is None
    assert await store.claim_escalation(fingerprint, "sweep:b", ahead + LEASE, no_silence)


@pytest.mark.parametrize("lease", [timedelta(seconds=1), LEASE])
async def test_a_failed_escalation_waits_its_retry_minute_whatever_the_lease(
    lease: timedelta,
) -> None:
    """The retry a minute after a failure is never mistaken for a time set by a clock ahead,
    however short the lease: the escalation is not due before it, and due from it."""
    store = MemoryStore(POLICY, lease)
    fingerprint = await opened(store)
    assert await store.claim_escalation(fingerprint, "sweep:a", DUE, no_silence)
    retry = DUE + ESCALATION_RETRY
    await store.end_escalation(fingerprint, "sweep:a", DUE, retry_at=retry)
    assert await store.claim_escalation(fingerprint, "sweep:b", DUE, no_silence) is None
    assert await store.claim_escalation(fingerprint, "sweep:b", retry, no_silence)


async def test_a_done_escalation_is_never_due_again_whatever_the_clock() -> None:
    """Escalated once: neither a step back nor a jump forward makes it due again."""
    store = MemoryStore(POLICY, LEASE)
    fingerprint = await opened(store)
    assert await store.claim_escalation(fingerprint, "sweep:a", DUE + HOUR, no_silence)
    await store.end_escalation(fingerprint, "sweep:a", DUE + HOUR)
    stored = await store.get(fingerprint)
    assert stored is not None
    for now in (DUE, DUE + HOUR, DUE + 24 * HOUR):
        assert not escalation_due(stored, now, LEASE)


def test_the_store_and_the_schedule_share_one_clock_slack() -> None:
    """`store.CLAIM_CLOCK_SLACK`, which begin()'s rule and older imports read, is the one
    escalations are judged by: the two rules cannot drift apart."""
    assert store_module.CLAIM_CLOCK_SLACK is CLAIM_CLOCK_SLACK


@pytest.mark.parametrize(
    "ahead",
    [LEASE, LEASE + CLAIM_CLOCK_SLACK, LEASE + CLAIM_CLOCK_SLACK + timedelta(seconds=1), HOUR],
)
async def test_an_escalation_claim_is_over_exactly_when_an_effects_would_be(
    ahead: timedelta,
) -> None:
    """An escalation claim ending `ahead` of now is taken over exactly when an effect's claim
    ending then would be (`holder_gone`, begin()'s rule): one rule for every claim."""
    store = MemoryStore(POLICY, LEASE)
    fingerprint = await opened(store)
    claimed_at = DUE + ahead - LEASE  # its clock read this when it claimed
    assert await store.claim_escalation(fingerprint, "sweep:a", claimed_at, no_silence)
    stored = await store.get(fingerprint)
    assert stored is not None
    effect = Pending(EffectKind.UPDATE, "m1#0@a", DUE + ahead, 2)
    assert escalation_due(stored, DUE, LEASE) is store.holder_gone(effect, DUE)


# --- The sweep: its escalation path after a step back and a jump forward -----------------------


@dataclass
class SlackHook:
    """A loopback Slack incoming webhook: answers `failures` posts 503, then 200 `ok`. While
    `gate` is set to a cleared event, each post waits for it (a slow Slack)."""

    failures: int = 0
    gate: asyncio.Event | None = None
    posts: list[bytes] = field(default_factory=list)
    answered: list[int] = field(default_factory=list)
    url: str = ""

    async def serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        head = await reader.readuntil(b"\r\n\r\n")
        length = next(
            int(line.split(b":", 1)[1])
            for line in head.split(b"\r\n")
            if line.lower().startswith(b"content-length:")
        )
        self.posts.append(await reader.readexactly(length))
        if self.gate is not None:
            await self.gate.wait()
        status, reason = (503, b"Service Unavailable") if self.failures else (200, b"OK")
        self.failures = max(0, self.failures - 1)
        writer.write(
            b"HTTP/1.1 %d %s\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok" % (status, reason)
        )
        await writer.drain()
        self.answered.append(status)
        writer.close()


@dataclass
class Process:
    """One daemon process: a pipeline and its sweep on one store and one clock, escalating to
    a loopback Slack webhook."""

    store: MemoryStore
    clock: Clock
    pipeline: Pipeline
    escalator: Escalator
    hook: SlackHook

    def sweep(self, owner: str) -> Sweep:
        """A sweep of this process (a new owner: a process started anew)."""
        silences = SilenceCache(self.store, max_age_s=0.0)
        return Sweep(
            self.store, self.pipeline, silences, self.escalator, 5, owner=owner, clock=self.clock
        )

    async def escalation_of(self, fingerprint: str) -> tuple[str, datetime | None]:
        stored = await self.store.get(fingerprint)
        assert stored is not None and stored.escalation is not None
        return stored.escalation.owner, stored.escalation.done_at


ROUTES = """
[[route]]
name = "payments"
sinks = ["backend"]
escalate_after_s = 1800
[route.match]
team = ["payments"]
[route.escalate]
slack_webhook_url = "{url}"
"""


@pytest.fixture
async def process(tmp_path: Path) -> AsyncIterator[Process]:
    """A process whose incident of the escalating route opened at T0 (its ticket made)."""
    hook = SlackHook()
    server = await asyncio.start_server(hook.serve, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    hook.url = f"http://127.0.0.1:{port}/services/T1/B1/x"
    routes = tmp_path / "routes.toml"
    routes.write_text(ROUTES.format(url=hook.url))
    settings = Settings(routes_file=routes)
    router = load_router(settings)
    store, clock = MemoryStore(POLICY, LEASE), Clock()
    pipeline = Pipeline(
        Ledger(store, clock=clock),
        CountingSummariser(),
        [FakeSink()],
        Metrics(),
        redactor=Redactor(),
        router=router,
        policy=POLICY,
    )
    escalator = Escalator(settings, router)
    await pipeline.handle(alert(), "m0")
    try:
        yield Process(store, clock, pipeline, escalator, hook)
    finally:
        await escalator.aclose()
        server.close()
        await server.wait_closed()


async def until(condition: Callable[[], bool], deadline_s: float = 5.0) -> None:
    """Let the other tasks run until `condition` holds; fails after `deadline_s`."""
    async with asyncio.timeout(deadline_s):
        while not condition():
            await asyncio.sleep(0.001)


async def test_a_restarted_sweep_escalates_at_once_what_a_dead_sweep_claimed_an_hour_ahead(
    process: Process,
) -> None:
    """A sweep whose clock was an hour ahead claimed the escalation and died before posting;
    the process starts again with the clock put right: its first pass posts the escalation."""
    fingerprint = alert().fingerprint
    assert await process.store.claim_escalation(fingerprint, "sweep:dead", DUE + HOUR, no_silence)
    process.clock.now = DUE
    await process.sweep("sweep:new").once()
    assert process.hook.answered == [200]
    assert await process.escalation_of(fingerprint) == ("sweep:new", DUE)


async def test_the_sweep_retries_at_once_after_a_step_back_an_escalation_that_failed_ahead(
    process: Process,
) -> None:
    """Slack failed the escalation while the clock was an hour ahead (retry a minute after that
    clock); the clock is stepped back: the next pass posts it, not an hour later."""
    fingerprint = alert().fingerprint
    process.hook.failures = 1
    sweep = process.sweep("sweep:a")
    process.clock.now = DUE + HOUR
    await sweep.once()
    assert process.hook.answered == [503]
    process.clock.now = DUE + timedelta(minutes=1)
    await sweep.once()
    assert process.hook.answered == [503, 200]
    assert await process.escalation_of(fingerprint) == ("sweep:a", DUE + timedelta(minutes=1))


async def test_an_escalation_the_sweep_carries_out_over_a_jump_forward_is_posted_once(
    process: Process,
) -> None:
    """Slack is slow to answer the escalation while the clock jumps an hour forward, past its
    lease: the pass records it done as its own, and the pass after the jump posts nothing."""
    fingerprint = alert().fingerprint
    process.hook.gate = asyncio.Event()
    sweep = process.sweep("sweep:a")
    process.clock.now = DUE
    first = asyncio.create_task(sweep.once())
    await until(lambda: len(process.hook.posts) == 1)
    process.clock.now = DUE + HOUR
    process.hook.gate.set()
    await first
    await sweep.once()
    assert process.hook.answered == [200]
    assert await process.escalation_of(fingerprint) == ("sweep:a", DUE)
