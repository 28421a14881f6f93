"""An outage of one sink holds only the messages that need that sink: Slack (a notification)
answering 503 opens its breaker, its messages are held (no receive spent, nothing posted twice)
and intake goes on for the rest, while the ticket backend's outage still pauses intake.
/readyz and the breaker's gauges name the sink that is out."""

from __future__ import annotations

import asyncio
import json
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from pydantic import SecretStr

from github_stub import GitHubServer
from memory_inbox import MemoryInbox
from memory_store import MemoryStore
from test_pipeline import LEASE, POLICY, CountingSummariser
from test_sink_guard import FlakySink, effect
from test_slack_sink import FakeTime
from triage.breaker import BreakerState, CircuitBreaker, wake_of
from triage.errors import SinkThrottledError, SinkUnavailableError
from triage.health import Health
from triage.incidents import Ledger
from triage.metrics import Metrics
from triage.models import EffectKind
from triage.ops.gauges import watch_breakers
from triage.pipeline import Pipeline
from triage.redact import Redactor
from triage.routes import load_router
from triage.settings import Settings
from triage.sinks.base import Applied, Effect, Sink
from triage.sinks.github.sink import GitHubSink
from triage.sinks.guard import BREAKER_OPEN, Backpressure, GuardedSink
from triage.sinks.slack import SlackSink
from triage.sqs.supervisor import Supervisor, SupervisorConfig

# --- a Slack-like webhook on loopback that can be down ----------------------------------------


@dataclass
class SlackLike:
    """A loopback stand-in for a Slack incoming webhook: while `down`, every POST answers 503
    with no Retry-After (as a Slack outage does); else 200 `ok`. Records every POST's body."""

    down: bool = True
    posts: list[dict[str, Any]] = field(default_factory=list)
    refused: int = 0
    #: The Retry-After header of its 503s, if any.
    retry_after: str | None = None
    lock: threading.Lock = field(default_factory=threading.Lock)
    port: int = 0

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/services/T0/B0/secret"

    def taken(self) -> list[dict[str, Any]]:
        with self.lock:
            return list(self.posts)

    def calls(self) -> int:
        with self.lock:
            return len(self.posts) + self.refused


@pytest.fixture
def slack() -> Iterator[SlackLike]:
    """A SlackLike server on 127.0.0.1 (an ephemeral port), stopped after the test."""
    state = SlackLike()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            raw = self.rfile.read(int(self.headers.get("Content-Length", "0")))
            with state.lock:
                if state.down:
                    state.refused += 1
                    status, text = 503, b"service_unavailable"
                else:
                    state.posts.append(json.loads(raw))
                    status, text = 200, b"ok"
            self.send_response(status)
            self.send_header("Content-Type", "text/plain")
            self.send_header("Content-Length", str(len(text)))
            if status == 503 and state.retry_after is not None:
                self.send_header("Retry-After", state.retry_after)
            self.end_headers()
            self.wfile.write(text)

        def log_message(self, format: str, *args: Any) -> None:  # keep test output quiet
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    state.port = server.server_address[1]
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield state
    finally:
        server.shutdown()
        server.server_close()


def slack_sink(url: str, fake: FakeTime | None = None) -> SlackSink:
    """The real Slack sink on `url`, its pacing on a clock that moves only when it sleeps."""
    fake = fake or FakeTime()
    return SlackSink(Settings(slack_webhook_url=SecretStr(url)), clock=fake.clock, sleep=fake.sleep)


# --- the guard: whose outage pauses intake ----------------------------------------------------


async def test_a_slack_outage_opens_its_breaker_but_leaves_intake_alone(
    slack: SlackLike,
) -> None:
    """Slack answering 503 without Retry-After opens its breaker; intake stays unlimited (the
    backend is healthy), the next Slack call is a hold of its own message only, and /readyz
    stays ready, naming `breaker:slack` as open under `degraded`."""
    now = [0.0]
    clock = lambda: now[0]  # noqa: E731
    sink = slack_sink(slack.url)
    try:
        guard = GuardedSink(sink, CircuitBreaker("sink:slack", 2, 30, clock=clock), clock=clock)
        backend = GuardedSink(FlakySink(), CircuitBreaker("sink:backend", 2, 30, clock=clock))
        health = Health()
        pressure = Backpressure([backend, guard], health)
        for _ in range(2):
            with pytest.raises(SinkUnavailableError):
                await guard.apply(effect())
        assert guard.breaker.state is BreakerState.OPEN
        assert pressure.intake_limit() is None
        assert health.readiness() == {
            "ready": True,
            "failing": {},
            "degraded": {"breaker:slack": "open"},
        }
        with pytest.raises(SinkThrottledError) as held:
            await guard.apply(effect())
        assert held.value.reason == BREAKER_OPEN and not held.value.pauses_intake
        assert slack.calls() == 2
    finally:
        await sink.aclose()


async def test_a_backend_outage_still_pauses_intake() -> None:
    """The ticket backend is the primary: its open breaker takes intake to zero, and the
    message that meets it holds intake too."""
    now = [0.0]
    clock = lambda: now[0]  # noqa: E731
    guard = GuardedSink(
        FlakySink(answers=["down", "down"]),
        CircuitBreaker("sink:backend", 2, 30, clock=clock),
        clock=clock,
    )
    pressure = Backpressure([guard], Health())
    for _ in range(2):
        with pytest.raises(SinkUnavailableError):
            await guard.apply(effect())
    assert pressure.intake_limit() == 0
    with pytest.raises(SinkThrottledError) as held:
        await guard.apply(effect())
    assert held.value.pauses_intake


async def test_a_sink_told_not_to_pause_holds_its_rate_limit_alone() -> None:
    """`pauses_intake=False` (GitHub's sink would say so): its rate-limit deadline and its open
    breaker limit no intake, and a wait it raises itself holds only its message."""
    now = [100.0]
    clock = lambda: now[0]  # noqa: E731

    @dataclass
    class Limited(FlakySink):
        async def apply(self, effect: Effect) -> Applied:
            raise SinkThrottledError("rate limited", retry_after_s=60)

    guard = GuardedSink(
        Limited(name="github", paused=160.0),
        CircuitBreaker("sink:github", 2, 30, clock=clock),
        clock=clock,
        pauses_intake=False,
    )
    health = Health()
    assert Backpressure([guard], health).intake_limit() is None
    assert "breaker:github" in health.failing()
    with pytest.raises(SinkThrottledError) as held:
        await guard.apply(effect())
    assert not held.value.pauses_intake


async def test_a_503_with_retry_after_from_slack_holds_only_its_message(
    slack: SlackLike,
) -> None:
    """A Slack 503 that says when to come back (Retry-After) is a wait of Slack's messages
    alone: the message is held, intake is not paused."""
    slack.retry_after = "20"
    sink = slack_sink(slack.url)
    try:
        guard = GuardedSink(sink, CircuitBreaker("sink:slack", 5, 30))
        with pytest.raises(SinkThrottledError) as held:
            await guard.apply(effect())
        assert held.value.retry_after_s == 20 and not held.value.pauses_intake
    finally:
        await sink.aclose()


# --- no hot loop: a held message waits for the breaker, not a fixed second --------------------


@dataclass
class GatedSlack:
    """A Slack-like sink whose calls wait on the test: each call's answer is set by hand."""

    name: str = "slack"
    calls: list[asyncio.Future[str]] = field(default_factory=list)

    async def apply(self, effect: Effect) -> Applied:
        answer: asyncio.Future[str] = asyncio.get_running_loop().create_future()
        self.calls.append(answer)
        if await answer == "down":
            raise SinkUnavailableError("slack answered 503")
        return Applied("posted")

    async def aclose(self) -> None:
        return None


async def until(condition: Callable[[], bool], timeout_s: float = 10.0) -> None:
    """Wait for `condition`, at most `timeout_s`."""
    async with asyncio.timeout(timeout_s):
        while not condition():
            await asyncio.sleep(0.01)


async def test_a_message_refused_while_the_probe_is_out_waits_for_its_answer() -> None:
    """While a half-open breaker's probe message is out, another message is held for the
    breaker's whole reset (not re-tried every second) and woken as soon as the probe's
    answer closes the breaker."""
    now = [0.0]
    clock = lambda: now[0]  # noqa: E731
    inner = GatedSlack()
    guard = GuardedSink(inner, CircuitBreaker("sink:slack", 1, 30, clock=clock), clock=clock)
    failing = asyncio.create_task(guard.apply(effect()))
    await until(lambda: len(inner.calls) == 1)
    inner.calls[0].set_result("down")
    with pytest.raises(SinkUnavailableError):
        await failing
    now[0] = 30.0
    probe = asyncio.create_task(guard.apply(effect()))
    await until(lambda: len(inner.calls) == 2)
    with pytest.raises(SinkThrottledError) as held:
        await guard.apply(effect())
    assert held.value.retry_after_s == 30
    woken = wake_of(held.value)
    assert woken is not None and not woken.is_set()
    inner.calls[1].set_result("ok")
    await probe
    assert woken.is_set()


def test_the_breaker_wakes_its_waiters_only_when_a_call_may_go() -> None:
    """`ready()` is set when the breaker turns half-open with no probe out (`wake`), when a
    probe slot comes free without an answer, and when it closes; never by a failed probe."""
    now = [0.0]
    breaker = CircuitBreaker("sink:slack", 1, 10, clock=lambda: now[0])
    first = breaker.allow()
    assert first is not None and breaker.failure(first)
    open_wait = breaker.ready()
    breaker.wake()
    assert not open_wait.is_set()  # open: nobody may go yet
    now[0] = 10.0
    breaker.wake()
    assert open_wait.is_set()
    out = breaker.ready()
    probe = breaker.allow()
    assert probe is not None and probe.probe
    breaker.wake()
    assert not out.is_set()  # the probe is out: the others wait for it
    breaker.cancelled(probe)
    assert out.is_set()
    reopened = breaker.ready()
    probe = breaker.allow()
    assert probe is not None and breaker.failure(probe)
    assert not reopened.is_set()
    now[0] = 20.0
    probe = breaker.allow()
    assert probe is not None
    breaker.success(probe)
    assert reopened.is_set() and breaker.state is BreakerState.CLOSED


# --- the daemon: a Slack outage with mixed routes, and a storm for Slack alone ----------------

ROUTES = """
[[route]]
name = "payments"
sinks = ["backend", "{sink}"]
[route.match]
team = ["payments"]
"""


@dataclass
class RecordingBackend:
    """The ticket backend as an in-memory sink: records each effect and opens `T-<n>`."""

    name: str = "backend"
    effects: list[Effect] = field(default_factory=list)

    async def apply(self, effect: Effect) -> Applied:
        self.effects.append(effect)
        return Applied(f"T-{len(self.effects)}") if effect.kind is EffectKind.OPEN else Applied()

    async def aclose(self) -> None:
        return None

    def opened(self) -> list[str]:
        return [e.fingerprint for e in self.effects if e.kind is EffectKind.OPEN]


def body(title: str, team: str) -> str:
    return json.dumps({"title": title, "dedup_key": title, "team": team})


@dataclass
class Rig:
    """The real supervisor and pipeline on an in-memory queue and store, the backend in
    memory and Slack on loopback, each behind its breaker and the backpressure app.py wires."""

    queue: MemoryInbox
    backend: RecordingBackend
    #: The breaker of the sink that goes down (Slack, GitHub).
    breaker: CircuitBreaker
    metrics: Metrics
    health: Health
    daemon: Supervisor
    attempts: list[str]
    sinks: list[GuardedSink]

    async def close(self) -> None:
        for sink in self.sinks:
            await sink.aclose()


def rig(
    tmp_path: Path,
    sink: Sink,
    *,
    concurrency: int = 16,
    reset_s: float = 0.3,
    clock: Callable[[], float] = time.monotonic,
    pauses_intake: bool | None = None,
) -> Rig:
    """The rig, the payments route going to the backend and `sink`, whose breaker opens at
    its first failure and resets on `clock`; other teams go to the backend alone."""
    routes = tmp_path / "routes.toml"
    routes.write_text(ROUTES.format(sink=sink.name))
    metrics, health, backend = Metrics(), Health(), RecordingBackend()
    breaker = CircuitBreaker(f"sink:{sink.name}", 1, reset_s, clock=clock)
    guards = [
        GuardedSink(backend, CircuitBreaker("sink:backend", 5, 30)),
        GuardedSink(sink, breaker, clock=clock, pauses_intake=pauses_intake),
    ]
    watch_breakers(metrics, [g.breaker for g in guards])
    pipeline = Pipeline(
        Ledger(MemoryStore(POLICY, LEASE)),
        CountingSummariser(),
        guards,
        metrics,
        redactor=Redactor(),
        policy=POLICY,
        router=load_router(Settings(routes_file=routes, sinks=("backend",))),
    )
    attempts: list[str] = []

    async def handler(message: Any, progress: Any) -> Any:
        attempts.append(message.id)  # every pass of the handler, to count retries
        return await pipeline.process(message, progress)

    config = SupervisorConfig(
        concurrency=concurrency,
        wait_s=0,
        drain=True,
        retry_base_s=0,
        shutdown_grace_s=1,
        visibility_timeout_s=30,
    )
    queue = MemoryInbox()
    daemon = Supervisor(
        config,
        queue,
        handler,
        metrics,
        health=health,
        intake_limit=Backpressure(guards, health).intake_limit,
    )
    return Rig(queue, backend, breaker, metrics, health, daemon, attempts, guards)


def breaker_state(metrics: Metrics) -> dict[str, float]:
    """Each breaker's `BreakerState` gauge as an export reads it (0 closed, 1 half-open, 2 open)."""
    return {
        dict(key)["breaker"]: gauge.value
        for (name, key), gauge in metrics.gauges().items()
        if name == "BreakerState"
    }


def receives(queue: MemoryInbox, message_id: str) -> int:
    """How many times SQS delivered `message_id` (0 once it is deleted and forgotten)."""
    entry = queue.entries.get(message_id)
    return entry.receives if entry is not None else 0


async def test_while_slack_is_down_other_routes_go_on_and_slacks_messages_wait(
    tmp_path: Path, slack: SlackLike
) -> None:
    """Slack answers 503: a payments alert (backend + Slack) opens its backend ticket once and
    is held for Slack; an alert queued after the outage began, for the backend alone, is
    received and acked while Slack is still down (its breaker's reset far off). Once Slack
    answers and the reset has passed, the held alert is its probe: posted once and acked, the
    backend not called again."""
    now = [0.0]
    r = rig(tmp_path, slack_sink(slack.url), reset_s=30, clock=lambda: now[0])
    (held,) = r.queue.put(body("card declines", "payments"))
    serving = asyncio.create_task(r.daemon.serve())
    try:
        await until(lambda: r.metrics.counter("MessagesHeld", reason=BREAKER_OPEN) > 0)
        assert r.breaker.state is not BreakerState.CLOSED
        (other,) = r.queue.put(body("disk full", "ops"))
        await until(lambda: other in r.queue.deleted)
        assert held not in r.queue.deleted and slack.taken() == []
        assert len(r.backend.opened()) == 2
        assert r.health.readiness() == {
            "ready": True,
            "failing": {},
            "degraded": {"breaker:slack": "open"},
        }
        assert breaker_state(r.metrics) == {"sink:backend": 0.0, "sink:slack": 2.0}  # 2: open
        with slack.lock:
            slack.down = False
        now[0] = 30.0
        await asyncio.wait_for(serving, 20)
    finally:
        serving.cancel()
        await asyncio.gather(serving, return_exceptions=True)
        await r.close()
    assert r.queue.deleted == [other, held]
    assert len(slack.taken()) == 1
    assert len(r.backend.opened()) == 2 and len(r.backend.effects) == 2
    assert r.metrics.counter("MessagesDeadLettered", reason=BREAKER_OPEN) == 0


async def test_a_storm_for_slack_alone_while_it_is_down_neither_spins_nor_dead_letters(
    tmp_path: Path, slack: SlackLike
) -> None:
    """Twenty Slack-routed incidents while Slack answers 503: the first failure opens the
    breaker, the rest are held (their receive counts stay at one), Slack hears one call per
    probe and no more, and once it answers each alert is posted exactly once and acked."""
    r = rig(tmp_path, slack_sink(slack.url), concurrency=8, reset_s=0.2)
    ids = r.queue.put(*(body(f"card declines {n}", "payments") for n in range(20)))
    serving = asyncio.create_task(r.daemon.serve())
    try:
        # Held and probed a few times: three failed probes after the one failure.
        await until(lambda: slack.calls() >= 4)
        held_now = r.metrics.counter("MessagesHeld", reason=BREAKER_OPEN)
        assert held_now > 0
        # Each message in hand (at most twice the workers: held ones give their slot back)
        # ran the handler about once per call Slack had (an opening or a probe), plus its
        # first receive and retry: not on a timer of its own while the probe was out.
        calls = slack.calls()
        assert sum(1 for i in ids if receives(r.queue, i) > 2) == 0
        assert len(r.attempts) <= 2 * 8 * (calls + 1) + 2 * len(ids)
        with slack.lock:
            slack.down = False
        await asyncio.wait_for(serving, 30)
    finally:
        serving.cancel()
        await asyncio.gather(serving, return_exceptions=True)
        await r.close()
    assert sorted(r.queue.deleted) == sorted(ids)
    assert len(slack.taken()) == 20
    assert len({post["text"] for post in slack.taken()}) == 20
    assert len(r.backend.opened()) == 20 and len(r.backend.effects) == 20
    assert r.metrics.counter("MessagesDeadLettered", reason=BREAKER_OPEN) == 0


async def test_while_github_is_down_other_routes_go_on_and_its_messages_wait(
    tmp_path: Path,
) -> None:
    """GitHub answering 503 to every call (its probe too): its breaker opens at the first
    failure, and its outage does not pause intake (`GitHubSink.outage_pauses_intake`): a
    backend-only alert queued during the outage is acked, and the held alert gets its issue
    once GitHub is back (found so by GitHub's own probe), the backend not called again."""
    now = [0.0]
    with GitHubServer(tokens={"ghp_outage": "triage-bot"}, repositories=("acme/ops",)) as hub:
        hub.fail_next(10_000, 503)
        settings = Settings(
            github_api_url=hub.url,
            github_repository="acme/ops",
            github_token=SecretStr("ghp_outage"),
        )
        r = rig(tmp_path, GitHubSink(settings), reset_s=30, clock=lambda: now[0])
        (held,) = r.queue.put(body("card declines", "payments"))
        serving = asyncio.create_task(r.daemon.serve())
        try:
            await until(lambda: r.metrics.counter("MessagesHeld", reason=BREAKER_OPEN) > 0)
            (other,) = r.queue.put(body("disk full", "ops"))
            await until(lambda: other in r.queue.deleted)
            assert held not in r.queue.deleted and hub.issues() == []
            hub.recover()
            now[0] = 30.0
            await asyncio.wait_for(serving, 20)
        finally:
            serving.cancel()
            await asyncio.gather(serving, return_exceptions=True)
            await r.close()
        assert r.queue.deleted == [other, held]
        assert len(hub.issues()) == 1
        assert len(r.backend.opened()) == 2 and len(r.backend.effects) == 2


async def test_messages_held_for_slack_give_their_worker_slots_back(
    tmp_path: Path, slack: SlackLike
) -> None:
    """With two workers and two payments alerts held for Slack's outage, a backend-only alert
    is still received and acked: a message held for a sink's own wait does not keep a worker
    slot, so one sink's messages cannot take every slot. Both come through once Slack is back."""
    now = [0.0]
    r = rig(tmp_path, slack_sink(slack.url), concurrency=2, reset_s=30, clock=lambda: now[0])
    first, second = r.queue.put(body("card declines", "payments"), body("refunds", "payments"))
    serving = asyncio.create_task(r.daemon.serve())
    try:
        await until(lambda: r.metrics.counter("MessagesHeld", reason=BREAKER_OPEN) >= 2)
        (other,) = r.queue.put(body("disk full", "ops"))
        await until(lambda: other in r.queue.deleted)
        assert first not in r.queue.deleted and second not in r.queue.deleted
        with slack.lock:
            slack.down = False
        now[0] = 30.0
        await asyncio.wait_for(serving, 20)
    finally:
        serving.cancel()
        await asyncio.gather(serving, return_exceptions=True)
        await r.close()
    assert sorted(r.queue.deleted) == sorted([first, second, other])
    assert len(slack.taken()) == 2 and len(r.backend.effects) == 3
