"""One log line says why a message failed: each failure path, driven through the real
Supervisor and Pipeline (in-memory queue and store, real sinks on loopback HTTP), logs exactly
one line at warning or above, naming the reason, the message and the alert; and the teams the
routes name keep their own metric series whatever alerts sent first."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Iterator, MutableMapping, Sequence
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import pytest
import structlog

import hostile_server
from github_stub import GitHubServer
from memory_inbox import MemoryInbox
from memory_store import MemoryStore
from triage.app import pipeline_from
from triage.breaker import CircuitBreaker
from triage.demo.ticketd import TicketServer
from triage.errors import StoreUnavailableError
from triage.incidents import Ledger, Policy
from triage.incidents.store import R, RecordChange
from triage.metrics import MAX_LABEL_VALUES, OTHER, Metrics
from triage.models import Priority, Ticket
from triage.normalize import normalize_body
from triage.pipeline import Pipeline
from triage.redact import Redactor
from triage.routes import load_router
from triage.secrets import BackendToken
from triage.settings import Settings
from triage.sinks.backend import BackendSink
from triage.sinks.base import Applied, Effect, Sink
from triage.sinks.github import GitHubSink
from triage.sinks.guard import GuardedSink
from triage.sinks.slack import SlackSink
from triage.sqs.inbox import Message
from triage.sqs.supervisor import Supervisor, SupervisorConfig
from triage.view import RedactedAlert

PAYLOADS = Path(__file__).parent / "payloads"
BODY = (PAYLOADS / "generic" / "firing.json").read_text()
POLICY = Policy()
#: What ends a message's attempt, one way or another.
FATES = {"message.acked", "message.retry", "message.rejected", "message.held", "message.crashed"}
Logs = list[MutableMapping[str, Any]]


@pytest.fixture
def logs() -> Iterator[Logs]:
    """Every structlog event of the test, debug included, with the context bound per task."""
    saved = structlog.get_config()
    capture = structlog.testing.LogCapture()
    structlog.configure(
        processors=[structlog.contextvars.merge_contextvars, capture],
        wrapper_class=structlog.make_filtering_bound_logger(logging.DEBUG),
        cache_logger_on_first_use=False,
    )
    yield capture.entries
    structlog.configure(**saved)


class Summariser:
    """A summariser with nothing to say wrong: the failures under test are elsewhere."""

    async def summarise(self, alert: RedactedAlert) -> Ticket:
        return Ticket(title=alert.title, priority=Priority.HIGH, description="d", steps=("s",))

    async def aclose(self) -> None:
        return None


class Broken:
    """A sink with a bug: it raises what no sink should."""

    name = "backend"

    async def apply(self, effect: Effect) -> Applied:
        raise KeyError("a bug in the sink")

    async def aclose(self) -> None:
        return None


class Stuck:
    """A sink that never answers (the message's timeout must end it)."""

    name = "backend"

    async def apply(self, effect: Effect) -> Applied:
        await asyncio.Event().wait()
        raise AssertionError("unreachable")

    async def aclose(self) -> None:
        return None


class FailingStore(MemoryStore):
    """A store whose writes fail as a locked or unreachable one does."""

    async def _update(self, kind: str, key: str, change: RecordChange[R]) -> R:
        raise StoreUnavailableError("database is locked")


def pipeline(sinks: list[Sink], store: MemoryStore | None = None) -> Pipeline:
    return Pipeline(
        Ledger(store or MemoryStore(POLICY)),
        Summariser(),
        sinks,
        Metrics(),
        redactor=Redactor(),
        policy=POLICY,
    )


class OnceInbox(MemoryInbox):
    """A queue that delivers each message once: what it is told to do with a message is
    recorded, and nothing comes back, so a test sees the lines of one attempt."""

    async def change_visibility(self, messages: Sequence[Message], timeout_s: int) -> None:
        self.visibility_calls.extend((m.id, timeout_s) for m in messages)


async def run_once(handler: Pipeline, body: str = BODY, **config: Any) -> MemoryInbox:
    """Serve one message until its attempt has met its fate, then stop the daemon."""
    inbox = OnceInbox()
    inbox.put(body)
    stop = asyncio.Event()
    supervisor = Supervisor(
        SupervisorConfig(wait_s=0, retry_base_s=30, shutdown_grace_s=1, **config),
        inbox,
        handler.process,
        Metrics(),
        should_exit=stop,
    )
    serving = asyncio.create_task(supervisor.serve())
    capture = structlog.get_config()["processors"][-1]
    async with asyncio.timeout(10):
        while not any(e["event"] in FATES for e in capture.entries):
            await asyncio.sleep(0.005)
    stop.set()
    await asyncio.wait_for(serving, 10)
    return inbox


def loud(logs: Logs) -> list[MutableMapping[str, Any]]:
    return [e for e in logs if e["log_level"] in ("warning", "error", "critical")]


def the_one_line(logs: Logs, event: str, reason: str) -> MutableMapping[str, Any]:
    """The single line at warning or above: `event`, naming `reason`, the message and the
    alert's fingerprint."""
    lines = loud(logs)
    assert [e["event"] for e in lines] == [event], lines
    [line] = lines
    assert line["reason"] == reason
    assert line["message_id"] == "m0"
    return line


@pytest.fixture
def fingerprint() -> str:
    """The fingerprint of BODY's alert: what every line about it must name."""
    [alert] = normalize_body(BODY.encode()).alerts
    return alert.fingerprint


@pytest.fixture
def ticketd(monkeypatch: pytest.MonkeyPatch, backend: TicketServer) -> TicketServer:
    """The loopback ticket backend, its token in the environment the sink reads."""
    monkeypatch.setenv("BACKEND_TOKEN", backend.token)
    return backend


@asynccontextmanager
async def backend_sink(server: TicketServer) -> AsyncIterator[GuardedSink]:
    """The real backend sink on the loopback ticket server, behind its breaker."""
    settings = Settings(backend_base_url=server.url)
    sink = BackendSink(settings, BackendToken(settings))
    guard = GuardedSink(sink, CircuitBreaker("backend", 5, 60))
    try:
        yield guard
    finally:
        await guard.aclose()


@pytest.mark.parametrize(
    ("body", "reason"),
    [("{not json", "decode"), ('{"nothing": "we know"}', "unknown_format")],
    ids=["decode", "unknown_format"],
)
async def test_a_body_we_cannot_read_is_one_rejected_line(
    logs: Logs, body: str, reason: str
) -> None:
    """A body that does not decode or has no known shape logs `message.rejected` alone."""
    await run_once(pipeline([]), body)
    line = the_one_line(logs, "message.rejected", reason)
    assert line["log_level"] == "error" and line["error"]


async def test_a_backend_5xx_is_one_retry_line(
    logs: Logs, ticketd: TicketServer, fingerprint: str
) -> None:
    """A 503 from the backend (its probe answering) logs `message.retry` alone, naming the
    alert and quoting the backend's answer; the sink's own line is debug."""
    ticketd.fail_next(1, 503)
    async with backend_sink(ticketd) as sink:
        inbox = await run_once(pipeline([sink]))
    line = the_one_line(logs, "message.retry", "sink_unavailable")
    assert line["fingerprint"] == fingerprint and line["source"] == "generic"
    assert "503" in line["error"] and "injected failure" in line["error"]
    assert [e["log_level"] for e in logs if e["event"] == "backend.unavailable"] == ["debug"]
    assert inbox.visibility_calls == [("m0", line["retry_in_s"])]


async def test_a_backend_4xx_is_one_rejected_line(
    logs: Logs, ticketd: TicketServer, fingerprint: str
) -> None:
    """A 422 from the backend logs `message.rejected` alone, naming the alert."""
    ticketd.fail_next(1, 422)
    async with backend_sink(ticketd) as sink:
        await run_once(pipeline([sink]))
    line = the_one_line(logs, "message.rejected", "sink_rejected")
    assert line["fingerprint"] == fingerprint and "422" in line["error"]


async def test_a_backend_rate_limit_is_one_held_line(
    logs: Logs, ticketd: TicketServer, fingerprint: str
) -> None:
    """A 429 logs `message.held` alone (at warning: a service said wait), with the wait; the
    sink's line and `intake.paused` are below warning."""
    ticketd.fail_next(1, 429, retry_after="7")
    async with backend_sink(ticketd) as sink:
        await run_once(pipeline([sink]))
    line = the_one_line(logs, "message.held", "sink_throttled")
    assert line["fingerprint"] == fingerprint and line["retry_in_s"] == 7
    assert "429" in line["error"]


async def test_a_backend_found_down_is_one_breaker_line(
    logs: Logs, ticketd: TicketServer, fingerprint: str
) -> None:
    """A 503 that the backend's probe confirms (it is down) logs `breaker.opened` alone, the
    outage's one line, naming the message, the alert and the failure; the held message's line
    and `sink.down` are below warning."""
    ticketd.down = True
    async with backend_sink(ticketd) as sink:
        await run_once(pipeline([sink]))
    lines = loud(logs)
    assert [e["event"] for e in lines] == ["breaker.opened"]
    assert lines[0]["message_id"] == "m0" and lines[0]["fingerprint"] == fingerprint
    assert "503" in lines[0]["error"]
    [held] = [e for e in logs if e["event"] == "message.held"]
    assert held["log_level"] == "info" and held["reason"] == "breaker_open"


async def test_a_message_held_by_an_open_breaker_adds_no_warning(
    logs: Logs, ticketd: TicketServer, fingerprint: str
) -> None:
    """With the backend's breaker already open (its line said so), a message is held with an
    info line naming the alert, and nothing at warning."""
    async with backend_sink(ticketd) as sink:
        sink.breaker.trip()
        logs.clear()
        await run_once(pipeline([sink]))
    assert loud(logs) == []
    [held] = [e for e in logs if e["event"] == "message.held"]
    assert held["log_level"] == "info" and held["fingerprint"] == fingerprint
    assert "circuit breaker" in held["error"]


@pytest.mark.parametrize(("status", "reason"), [(503, "sink_unavailable"), (400, "sink_rejected")])
async def test_a_slack_failure_is_one_line(
    logs: Logs, fingerprint: str, status: int, reason: str
) -> None:
    """A Slack webhook answering 503 or 400 logs the message's line alone; `slack.…` is debug."""
    async with hostile_server.hostile(hostile_server.answer(status, body=b"no")) as slack:
        sink = SlackSink(Settings(slack_webhook_url=f"{slack.url}/services/T/B/x"))
        try:
            await run_once(pipeline([sink]))
        finally:
            await sink.aclose()
    event = "message.retry" if status == 503 else "message.rejected"
    line = the_one_line(logs, event, reason)
    assert line["fingerprint"] == fingerprint and str(status) in line["error"]


async def test_the_failure_that_opens_a_breaker_is_one_breaker_line(
    logs: Logs, fingerprint: str
) -> None:
    """A Slack webhook answering 503 to the failure that opens its breaker (Slack has no probe:
    the count opens it) logs `breaker.opened` alone at warning, naming the message and the
    alert and quoting the failure; the message's own `message.retry` is info, naming the
    breaker, and the message is still retried."""
    async with hostile_server.hostile(hostile_server.answer(503, body=b"no")) as slack:
        sink = SlackSink(Settings(slack_webhook_url=f"{slack.url}/services/T/B/x"))
        guarded = GuardedSink(sink, CircuitBreaker("sink:slack", 1, 60))
        try:
            inbox = await run_once(pipeline([guarded]))
        finally:
            await guarded.aclose()
    lines = loud(logs)
    assert [e["event"] for e in lines] == ["breaker.opened"], lines
    assert lines[0]["message_id"] == "m0" and lines[0]["fingerprint"] == fingerprint
    assert "503" in lines[0]["error"]  # the one line at warning says why
    [retry] = [e for e in logs if e["event"] == "message.retry"]
    assert retry["log_level"] == "info" and retry["breaker"] == "sink:slack"
    assert retry["reason"] == "sink_unavailable" and "503" in retry["error"]
    assert inbox.visibility_calls == [("m0", retry["retry_in_s"])]


async def test_a_failure_below_the_breakers_threshold_is_still_a_warning(
    logs: Logs, fingerprint: str
) -> None:
    """The same 503 with the breaker still closed after it is the message's own failure:
    `message.retry` at warning, and no `breaker.opened`."""
    async with hostile_server.hostile(hostile_server.answer(503, body=b"no")) as slack:
        sink = SlackSink(Settings(slack_webhook_url=f"{slack.url}/services/T/B/x"))
        guarded = GuardedSink(sink, CircuitBreaker("sink:slack", 2, 60))
        try:
            await run_once(pipeline([guarded]))
        finally:
            await guarded.aclose()
    line = the_one_line(logs, "message.retry", "sink_unavailable")
    assert line["fingerprint"] == fingerprint and "breaker" not in line


async def test_a_backend_down_for_every_alert_of_a_group_is_one_line(
    logs: Logs, ticketd: TicketServer
) -> None:
    """Three alerts of one Alertmanager message failing with the same 503: one
    `message.retry`; the other alerts' `alert.failed` lines, saying the same, are debug."""
    ticketd.fail_next(3, 503)
    body = (PAYLOADS / "alertmanager" / "group-firing.json").read_text()
    async with backend_sink(ticketd) as sink:
        await run_once(pipeline([sink]), body)
    # The payload's own note (alerts the sender left out) is said on receipt, whatever follows.
    logs[:] = [e for e in logs if e["event"] != "alert.note"]
    line = the_one_line(logs, "message.retry", "sink_unavailable")
    failed = [e for e in logs if e["event"] == "alert.failed"]
    assert [e["log_level"] for e in failed] == ["debug", "debug"]
    fingerprints = {line["fingerprint"], *(e["fingerprint"] for e in failed)}
    assert len(fingerprints) == 3


@pytest.mark.parametrize(
    ("status", "event", "reason"),
    [(502, "message.retry", "unavailable"), (422, "message.rejected", "sink_rejected")],
)
async def test_a_github_failure_is_one_line(
    logs: Logs, fingerprint: str, status: int, event: str, reason: str
) -> None:
    """GitHub answering 502 or 422 logs the message's line alone; `github.…` is debug."""
    with GitHubServer(tokens={"ghp_bot": "triage-bot"}, repositories=("acme/ops",)) as github:
        github.fail_next(1, status)
        settings = Settings(
            github_api_url=github.url, github_repository="acme/ops", github_token="ghp_bot"
        )
        sink = GitHubSink(settings)
        try:
            await run_once(pipeline([sink]))
        finally:
            await sink.aclose()
    line = the_one_line(logs, event, reason)
    assert line["fingerprint"] == fingerprint and str(status) in line["error"]


async def test_a_store_that_fails_is_one_line(logs: Logs, fingerprint: str) -> None:
    """A store that fails logs `store.unavailable` once (naming the message and the alert);
    the held message's own line is below warning."""
    await run_once(pipeline([], FailingStore(POLICY)))
    lines = loud(logs)
    assert [e["event"] for e in lines] == ["store.unavailable"]
    assert lines[0]["message_id"] == "m0" and lines[0]["fingerprint"] == fingerprint
    assert "locked" in lines[0]["error"]
    [held] = [e for e in logs if e["event"] == "message.held"]
    assert held["log_level"] == "info" and held["reason"] == "store_unavailable"


async def test_a_timeout_is_one_retry_line_naming_the_alert(logs: Logs, fingerprint: str) -> None:
    """A sink that never answers: `message.retry` for the timeout, naming the alert it cut."""
    await run_once(pipeline([Stuck()]), message_timeout_s=0.05)
    line = the_one_line(logs, "message.retry", "timeout")
    assert line["fingerprint"] == fingerprint and "no progress" in line["error"]


async def test_a_bug_is_one_crashed_line_with_its_traceback(logs: Logs, fingerprint: str) -> None:
    """A bug logs `message.crashed` alone, with the traceback, the alert and when it returns
    (no `message.retry` beside it)."""
    inbox = await run_once(pipeline([Broken()]))
    line = the_one_line(logs, "message.crashed", "bug")
    assert line["log_level"] == "error" and line["fingerprint"] == fingerprint
    assert "a bug in the sink" in line["error"] and line["receive_count"] == 1
    assert isinstance(line["exc_info"], KeyError)
    assert not [e for e in logs if e["event"] == "message.retry"]
    assert inbox.visibility_calls == [("m0", line["retry_in_s"])]


# --- Bounded metric labels ------------------------------------------------------------------


def test_reserved_teams_keep_their_series_after_the_bound_is_spent() -> None:
    """Teams reserved after invented names have spent the bound still count as themselves,
    in any casing under one spelling; the bound still holds for the rest."""
    metrics = Metrics()
    metrics.reserve("team", ["payments", "Data Platform"])
    for i in range(MAX_LABEL_VALUES):
        assert metrics.bounded("team", f"invented-{i}") == f"invented-{i}"
    assert metrics.bounded("team", "payments") == "payments"
    assert metrics.bounded("team", "PAYMENTS") == "payments"
    assert metrics.bounded("team", "data platform") == "Data_Platform"
    assert metrics.bounded("team", "yet-another") == OTHER


def test_the_routes_teams_are_reserved_by_the_daemons_pipeline(tmp_path: Path) -> None:
    """The pipeline the daemon builds reserves every team its routes file matches on, so 20
    invented teams sent first do not make a routed team `other`."""
    routes = tmp_path / "routes.toml"
    routes.write_text(
        '[[route]]\nname = "pay"\nsinks = ["backend"]\n[route.match]\nteam = ["payments", "billing"]\n'
    )
    settings = Settings(routes_file=routes)
    metrics = Metrics()
    for i in range(MAX_LABEL_VALUES):
        metrics.bounded("team", f"invented-{i}")
    pipeline_from(
        settings, MemoryStore(POLICY), Summariser(), [], metrics, Redactor(), load_router(settings)
    )
    assert metrics.bounded("team", "billing") == "billing"
    assert metrics.bounded("team", "Payments") == "payments"
    assert metrics.bounded("team", "marketing") == OTHER
