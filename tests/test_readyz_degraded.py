"""/readyz during an outage of a sink whose outage does not pause intake (Slack, GitHub): the
replica still takes work, so it answers 200, naming the sink under `degraded` with the same
fixed reasons as `failing`; it answers 503 only while it cannot take work (the ticket backend
out, the queue unreachable), naming the degraded sinks there too. Over real HTTP on 127.0.0.1,
as a load balancer or `triage health --ready` asks."""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from pydantic import SecretStr

from github_stub import GitHubServer
from test_cli import Cli
from test_cli import cli as cli  # the in-process CLI fixture
from test_sink_guard import FlakySink, effect
from test_sink_outage import SlackLike, body, rig, slack_sink, until
from test_sink_outage import slack as slack  # the loopback Slack fixture
from triage.breaker import CircuitBreaker
from triage.errors import SinkUnavailableError
from triage.health import Health
from triage.metrics import Metrics
from triage.ops.endpoints import EndpointServer
from triage.settings import Settings
from triage.sinks.github.sink import GitHubSink
from triage.sinks.guard import BREAKER_OPEN, Backpressure, GuardedSink


@contextlib.asynccontextmanager
async def endpoints(health: Health) -> AsyncIterator[EndpointServer]:
    """The daemon's endpoint server for `health` on 127.0.0.1 (an ephemeral port)."""
    server = EndpointServer(health, Metrics(), "127.0.0.1", 0)
    await server.start()
    try:
        yield server
    finally:
        await server.aclose()


async def readyz(port: int) -> tuple[int, dict[str, Any]]:
    """GET /readyz over a real connection: (status, the JSON body)."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    try:
        async with asyncio.timeout(10):
            writer.write(b"GET /readyz HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n")
            await writer.drain()
            raw = await reader.read()
    finally:
        writer.transport.abort()
    head, _, payload = raw.partition(b"\r\n\r\n")
    return int(head.split()[1]), json.loads(payload)


def open_breaker(name: str, now: list[float], *, pauses_intake: bool) -> GuardedSink:
    """A guarded sink named `name` whose breaker (one failure, 30 s reset on `now`) the test
    opens with one failed call."""
    clock = lambda: now[0]  # noqa: E731
    return GuardedSink(
        FlakySink(name=name, answers=["down"]),
        CircuitBreaker(f"sink:{name}", 1, 30, clock=clock),
        clock=clock,
        pauses_intake=pauses_intake,
    )


async def fail_once(guard: GuardedSink) -> None:
    with pytest.raises(SinkUnavailableError):
        await guard.apply(effect())


async def test_a_slack_outage_leaves_the_replica_ready_and_names_slack_as_degraded(
    tmp_path: Path, slack: SlackLike
) -> None:
    """Slack answering 503 while the daemon runs: its messages are held, a backend-only alert
    is acked, and /readyz answers 200 `ready: true` with `degraded: {"breaker:slack": "open"}`
    (it answered 503, and a load balancer took the working replica out)."""
    now = [0.0]
    r = rig(tmp_path, slack_sink(slack.url), reset_s=30, clock=lambda: now[0])
    (held,) = r.queue.put(body("card declines", "payments"))
    serving = asyncio.create_task(r.daemon.serve())
    try:
        async with endpoints(r.health) as server:
            await until(lambda: r.metrics.counter("MessagesHeld", reason=BREAKER_OPEN) > 0)
            (other,) = r.queue.put(body("disk full", "ops"))
            await until(lambda: other in r.queue.deleted)
            assert held not in r.queue.deleted
            answer = await readyz(server.port)
        assert answer == (
            200,
            {"ready": True, "failing": {}, "degraded": {"breaker:slack": "open"}},
        )
    finally:
        serving.cancel()
        await asyncio.gather(serving, return_exceptions=True)
        await r.close()


async def test_a_github_outage_leaves_the_replica_ready_and_names_github_as_degraded(
    tmp_path: Path,
) -> None:
    """GitHub answering 503 to every call (its probe too) while the daemon runs: /readyz
    answers 200 with `degraded: {"breaker:github": "open"}` while a backend-only alert is
    acked; no GitHub error text reaches the body."""
    now = [0.0]
    with GitHubServer(tokens={"ghp_outage": "triage-bot"}, repositories=("acme/ops",)) as hub:
        hub.fail_next(10_000, 503)
        settings = Settings(
            github_api_url=hub.url,
            github_repository="acme/ops",
            github_token=SecretStr("ghp_outage"),
        )
        r = rig(tmp_path, GitHubSink(settings), reset_s=30, clock=lambda: now[0])
        r.queue.put(body("card declines", "payments"))
        serving = asyncio.create_task(r.daemon.serve())
        try:
            async with endpoints(r.health) as server:
                await until(lambda: r.metrics.counter("MessagesHeld", reason=BREAKER_OPEN) > 0)
                (other,) = r.queue.put(body("disk full", "ops"))
                await until(lambda: other in r.queue.deleted)
                answer = await readyz(server.port)
        finally:
            serving.cancel()
            await asyncio.gather(serving, return_exceptions=True)
            await r.close()
    assert answer == (
        200,
        {"ready": True, "failing": {}, "degraded": {"breaker:github": "open"}},
    )


@pytest.mark.parametrize("blocking", ["backend", "queue"])
async def test_a_replica_that_cannot_take_work_is_not_ready_though_slack_only_degrades(
    blocking: str,
) -> None:
    """Slack's open breaker with the backend's open breaker (intake paused) or the queue
    unreachable: 503, the blocking check under `failing` and Slack still under `degraded`, no
    detail served."""
    now = [0.0]
    health = Health()
    slack_guard = open_breaker("slack", now, pauses_intake=False)
    guards = [slack_guard]
    await fail_once(slack_guard)
    if blocking == "backend":
        backend = open_breaker("backend", now, pauses_intake=True)
        await fail_once(backend)
        guards.append(backend)
    else:
        health.set("queue", False, "receive failed: https://sqs.example/123456789012/alerts")
    pressure = Backpressure(guards, health)
    limit = pressure.intake_limit()
    async with endpoints(health) as server:
        answer = await readyz(server.port)
    failing = {"breaker:backend": "open"} if blocking == "backend" else {"queue": "unreachable"}
    assert limit == (0 if blocking == "backend" else None)
    assert answer == (
        503,
        {"ready": False, "failing": failing, "degraded": {"breaker:slack": "open"}},
    )


async def test_degraded_says_half_open_while_probing_and_goes_once_slack_is_back() -> None:
    """A degraded sink whose breaker is half-open shows as `half-open`; once its probe call
    succeeds, /readyz is again exactly `{"ready": true, "failing": {}}`."""
    now = [0.0]
    health = Health()
    slack_guard = open_breaker("slack", now, pauses_intake=False)
    pressure = Backpressure([slack_guard], health)
    await fail_once(slack_guard)
    now[0] = 30.0
    async with endpoints(health) as server:
        assert pressure.intake_limit() is None
        probing = await readyz(server.port)
        await slack_guard.apply(effect())  # the probe: Slack answers
        assert pressure.intake_limit() is None
        back = await readyz(server.port)
    assert probing == (
        200,
        {"ready": True, "failing": {}, "degraded": {"breaker:slack": "half-open"}},
    )
    assert back == (200, {"ready": True, "failing": {}})


async def test_triage_health_ready_exits_0_and_shows_the_degraded_sink(cli: Cli) -> None:
    """`triage health --ready` (the container's probe) against a replica whose Slack is out:
    exit 0, its line showing `degraded` with `breaker:slack`."""
    now = [0.0]
    health = Health()
    slack_guard = open_breaker("slack", now, pauses_intake=False)
    await fail_once(slack_guard)
    Backpressure([slack_guard], health).intake_limit()
    async with endpoints(health) as server:
        env = {"TRIAGE_HTTP_PORT": str(server.port)}
        result = await asyncio.to_thread(cli, "health", "--ready", env=env)
    assert result.returncode == 0, result.stderr
    assert '"degraded": {"breaker:slack": "open"}' in result.stdout


def test_a_degraded_condition_name_outside_the_shown_set_is_not_served() -> None:
    """A degraded condition's name is shown under the same rule as a failing one's: a name
    not from our code is served as `other`, its detail never."""
    health = Health()
    health.set("breaker:Slack <script>", False, "open, token=abc", degraded_only=True)
    assert health.readiness() == {
        "ready": True,
        "failing": {},
        "degraded": {"other": "open"},
    }
