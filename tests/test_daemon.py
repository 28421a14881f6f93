"""The daemon end to end: moto's SQS with a real DLQ, Secrets Manager, a loopback backend."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

import boto3
import pytest

from daemon_harness import (
    TOKEN,
    Daemon,
    Queues,
    daemon_env,
    drain_settings,
    events,
    run_in_process,
    settings_for,
)
from triage.app import RunResult, run_daemon
from triage.demo.ticketd import TicketServer

GRAFANA_GROUP = Path(__file__).parent / "payloads" / "grafana" / "group-firing.json"


def generic(key: str, status: str = "firing", **extra: Any) -> dict[str, Any]:
    return {
        "title": f"{key} failed",
        "source": "cron",
        "status": status,
        "dedup_key": key,
        "priority": "P2",
        **extra,
    }


async def drain(
    queues: Queues,
    backend: TicketServer,
    tmp_path: Path,
    *,
    dry_run: bool = False,
    **overrides: Any,
) -> RunResult:
    """`run --drain` of what is queued. Short polls (`drain_settings`): these tests prove what
    is done with the messages, not how SQS is polled, and a long poll held each drain's end."""
    settings = drain_settings(
        settings_for(queues, backend.url, tmp_path / "triage.db", **overrides)
    )
    return await run_daemon(settings, drain=True, dry_run=dry_run)


@pytest.fixture(autouse=True)
def backend_token(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("BACKEND_TOKEN", TOKEN)


#: `triage ARGS` in this process with exactly the environment `env`: its exit code and output.
RunCli = Callable[..., subprocess.CompletedProcess[str]]


@pytest.fixture
def run_cli(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> RunCli:
    """The command line in this process; the tests of signals and pipes start processes."""

    def run(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
        return run_in_process(monkeypatch, capsys, *args, env=env)

    return run


async def test_message_becomes_one_ticket_and_is_deleted(
    queues: Queues, backend: TicketServer, tmp_path: Path
) -> None:
    """One alert message produces exactly one backend ticket with the contract's fields, then is deleted."""
    queues.send(generic("nightly-backup", description="pg_dump exited 1", team="data"))
    result = await drain(queues, backend, tmp_path)
    assert len(backend.tickets) == 1
    ticket = backend.tickets[0]
    body = ticket["body"]
    assert ticket["headers"]["authorization"] == f"Bearer {TOKEN}"
    assert body["title"]
    assert body["priority"] == "medium"
    assert body["status"] == "firing"
    assert body["team"] == "data"
    assert body["source"] == "generic"
    assert isinstance(body["steps"], list)
    assert len(body["fingerprint"]) == 32
    assert result.stats.acked == 1
    assert queues.depth() == 0
    assert queues.dead_letters() == []


async def test_repeat_of_open_incident_makes_no_second_ticket(
    queues: Queues, backend: TicketServer, tmp_path: Path
) -> None:
    """Repeats of one incident, in one batch and in a later run, never make a second ticket."""
    queues.send(
        generic("disk-full", timestamp="2026-11-23T09:00:00Z"),
        generic("disk-full", timestamp="2026-11-23T09:01:00Z"),
    )
    await drain(queues, backend, tmp_path)
    queues.send(generic("disk-full", timestamp="2026-11-23T09:02:00Z"))
    result = await drain(queues, backend, tmp_path)
    assert len(backend.tickets) == 1
    assert result.metrics.total("DuplicatesSuppressed") == 1
    assert queues.depth() == 0


async def test_backend_outage_keeps_message_until_dlq(
    queues: Queues, backend: TicketServer, tmp_path: Path
) -> None:
    """A backend answering 503 leaves the message on the queue; after maxReceiveCount it is in the DLQ."""
    backend.fail_next(100, status=503)
    queues.send(generic("api-down"))
    result = await drain(queues, backend, tmp_path)
    assert backend.tickets == []
    assert result.stats.retried == 2  # maxReceiveCount
    assert len(queues.dead_letters()) == 1
    # Read from the queue's redrive policy at start-up: the last release is counted once.
    assert result.metrics.total("MessagesDeadLettered") == 1


async def test_malformed_body_goes_to_dlq_while_others_succeed(
    queues: Queues, backend: TicketServer, tmp_path: Path
) -> None:
    """A malformed body amid good ones ends in the DLQ; the daemon keeps going and the good ones land."""
    queues.send(generic("before"), '{"title": "broken', generic("after"))
    result = await drain(queues, backend, tmp_path)
    titles = sorted(t["body"]["title"] for t in backend.tickets)
    assert len(titles) == 2
    assert queues.dead_letters() == ['{"title": "broken']
    assert result.stats.rejected == 2
    assert result.metrics.counter("MessagesDeadLettered", reason="decode") == 1
    assert {f.reason for f in result.stats.failures.values()} == {"decode"}


async def test_token_is_read_from_secrets_manager(
    queues: Queues, backend: TicketServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """With BACKEND_TOKEN_SECRET_ID set, the bearer token comes from Secrets Manager, not the env."""
    monkeypatch.setenv("BACKEND_TOKEN", "wrong-token")
    secrets = boto3.client("secretsmanager", endpoint_url=queues.endpoint, region_name="us-east-1")
    secrets.create_secret(Name="triage/backend", SecretString=json.dumps({"BACKEND_TOKEN": TOKEN}))
    queues.send(generic("from-secret"))
    await drain(queues, backend, tmp_path, backend_token_secret_id="triage/backend")
    assert len(backend.tickets) == 1


def test_sigterm_with_messages_in_flight_loses_none(
    queues: Queues, backend: TicketServer, tmp_path: Path, run_cli: RunCli
) -> None:
    """SIGTERM while a slow backend holds messages in flight: they finish, none lost, none posted twice."""
    backend.delay_s = 8.0  # released once the daemon drains them; inside the grace anyway
    keys = [f"incident-{i}" for i in range(6)]
    queues.send(*(generic(k) for k in keys))
    # Short polls: the finisher's drain below, with these settings, ends at its first empty receive.
    settings = drain_settings(
        settings_for(
            queues, backend.url, tmp_path / "triage.db", concurrency=3, shutdown_grace_s=10
        )
    )
    daemon = Daemon(settings, log_dir=tmp_path)
    try:
        deadline = time.monotonic() + 20
        # Signal while the first requests are held by the backend, not after they finished:
        # a finished batch frees every slot and the daemon may take the rest before the signal.
        while backend.arrivals == 0 and time.monotonic() < deadline:
            time.sleep(0.02)
        assert backend.arrivals > 0, "the daemon never reached the backend"
        daemon.signal(signal.SIGTERM)
        while "daemon.draining" not in events_of(daemon) and time.monotonic() < deadline:
            time.sleep(0.02)
        backend.release_held()
        assert daemon.wait(timeout=30) == 0, daemon.log
    finally:
        daemon.kill()
    names = events_of(daemon)
    assert "daemon.stopped" in names
    posted_first = {t["body"]["fingerprint"] for t in backend.tickets}
    assert 0 < len(posted_first) < len(keys)  # in-flight ones finished; the rest stayed queued

    # A second daemon (in this process: only the signalled one must be a process) finishes
    # the rest: every incident exactly once, nothing in the DLQ.
    backend.delay_s = 0
    finisher = run_cli("run", "--drain", env=daemon_env(settings))
    assert finisher.returncode == 0, finisher.stderr[-3000:]
    posts = Counter(t["body"]["fingerprint"] for t in backend.tickets)
    assert len(posts) == len(keys)
    assert set(posts.values()) == {1}
    assert backend.request_count == len(keys)
    assert queues.depth() == 0
    assert queues.dead_letters() == []


def events_of(daemon: Daemon) -> list[str]:
    """The names of the events in the daemon's log so far."""
    return [e["event"] for e in daemon.events()]


def test_run_drain_exits_zero_when_queue_empty(
    queues: Queues, backend: TicketServer, tmp_path: Path, run_cli: RunCli
) -> None:
    """`triage run --drain` processes what is queued and exits 0 on its own."""
    queues.send(generic("one"), generic("two"))
    settings = drain_settings(settings_for(queues, backend.url, tmp_path / "triage.db"))
    result = run_cli("run", "--drain", env=daemon_env(settings))
    assert result.returncode == 0, result.stderr
    assert "daemon.drained" in [e["event"] for e in events(result.stderr)]
    assert len(backend.tickets) == 2


def test_ack_lines_name_the_message_and_its_incidents(
    queues: Queues, backend: TicketServer, tmp_path: Path, run_cli: RunCli
) -> None:
    """Each `message.acked` line carries the message id and the fingerprint(s) it ticketed."""
    group = json.loads(GRAFANA_GROUP.read_text())
    queues.send(generic("one"), group)
    settings = drain_settings(settings_for(queues, backend.url, tmp_path / "triage.db"))
    result = run_cli("run", "--drain", env=daemon_env(settings))
    assert result.returncode == 0, result.stderr
    acked = [e for e in events(result.stderr) if e["event"] == "message.acked"]
    assert len(acked) == 2 and all(e["message_id"] for e in acked)
    single = next(e for e in acked if "fingerprint" in e)
    grouped = next(e for e in acked if "fingerprints" in e)
    assert len(grouped["fingerprints"]) == len(group["alerts"]) > 1
    ticketed = {t["body"]["fingerprint"] for t in backend.tickets}
    assert ticketed == {single["fingerprint"], *grouped["fingerprints"]}


def test_missing_queue_url_fails_with_one_line(run_cli: RunCli) -> None:
    """`triage run` with nothing set exits 2 with one line naming all it cannot start without."""
    proc = run_cli("run", env={"PATH": "/usr/bin:/bin"})
    assert proc.returncode == 2
    assert proc.stderr.strip() == (
        "triage: config: missing required setting: ALERT_TRIAGE_QUEUE_URL, "
        "the backend's token (BACKEND_TOKEN or BACKEND_TOKEN_SECRET_ID)"
    )


async def test_lifecycle_end_to_end_updates_closes_and_reopens(
    queues: Queues, backend: TicketServer, tmp_path: Path
) -> None:
    """firing → repeat → resolved → re-fire through the daemon: one ticket, an update, a resolve, a reopen."""
    routes = {
        "backend_update_route": "/api/service/tickets/{ref}/updates",
        "backend_resolve_route": "/api/service/tickets/{ref}/resolve",
        "update_interval_s": 0,  # every repeat may update
    }
    steps = [
        generic("db", timestamp="2026-11-23T09:00:00Z"),
        generic("db", timestamp="2026-11-23T09:01:00Z"),
        generic("db", status="resolved", timestamp="2026-11-23T09:05:00Z"),
        generic("db", timestamp="2026-11-23T09:03:00Z"),  # older than the resolve: ignored
        generic("db", timestamp="2026-11-23T09:10:00Z"),  # re-fire within the reopen window
    ]
    for body in steps:  # one at a time, so the order is the order SQS delivers
        queues.send(body)
        await drain(queues, backend, tmp_path, **routes)
    assert len(backend.tickets) == 1
    kinds = [(e["kind"], e["body"].get("reopened", False)) for e in backend.events]
    assert kinds == [("updates", False), ("resolve", False), ("updates", True)]
    assert backend.events[0]["body"]["occurrences"] == 2
    assert len({e["headers"]["idempotency-key"] for e in backend.events}) == 3


async def test_dry_run_decides_but_changes_nothing(
    queues: Queues, backend: TicketServer, tmp_path: Path
) -> None:
    """run --dry-run logs decisions but posts no ticket, writes no incident and leaves the queue as it was."""
    queues.send(generic("dry-one"), generic("dry-two"), '{"broken')
    result = await drain(queues, backend, tmp_path, dry_run=True)
    assert backend.request_count == 0
    assert result.metrics.counter("DryRunDecisions", action="open") == 2
    assert queues.depth() == 3  # all released unchanged, none in the DLQ
    assert queues.dead_letters() == []
    # A real run afterwards still sees new incidents: the dry run stored nothing.
    result = await drain(queues, backend, tmp_path)
    assert len(backend.tickets) == 2


def test_sighup_stops_the_daemon_cleanly(
    queues: Queues, backend: TicketServer, tmp_path: Path
) -> None:
    """SIGHUP (a closed terminal, a supervisor's stop) is a clean stop like SIGTERM: exit 0 and
    the closing counters, instead of the process dying on the spot."""
    settings = settings_for(queues, backend.url, tmp_path / "triage.db")
    daemon = Daemon(settings, log_dir=tmp_path)
    try:
        deadline = time.monotonic() + 30
        while "daemon.started" not in [e["event"] for e in daemon.events()]:
            assert time.monotonic() < deadline, daemon.log
            time.sleep(0.05)
        daemon.signal(signal.SIGHUP)
        assert daemon.wait(timeout=30) == 0, daemon.log
    finally:
        daemon.kill()
    assert "daemon.stopped" in [e["event"] for e in daemon.events()]


def test_a_closed_stdout_does_not_stop_the_daemon(
    queues: Queues, backend: TicketServer, tmp_path: Path
) -> None:
    """Nobody reading stdout (its pipe closed) costs the metrics lines written there, not the
    alerts: the daemon tickets what is queued and exits 0 (it died of a BrokenPipeError)."""
    queues.send(generic("with-stdout-closed"))
    settings = drain_settings(
        settings_for(queues, backend.url, tmp_path / "triage.db", metrics="emf")
    )
    with (tmp_path / "stderr.log").open("w") as log:
        process = subprocess.Popen(
            [sys.executable, "-m", "triage", "run", "--drain"],
            env=daemon_env(settings),
            stdout=subprocess.PIPE,
            stderr=log,
        )
        assert process.stdout is not None
        process.stdout.close()  # the reader is gone: every write to stdout is EPIPE
        try:
            code = process.wait(timeout=60)
        finally:
            if process.poll() is None:
                process.kill()
    assert code == 0, (tmp_path / "stderr.log").read_text()[-3000:]
    assert len(backend.tickets) == 1


def test_run_warns_once_of_a_model_named_without_a_key(
    queues: Queues, backend: TicketServer, tmp_path: Path, run_cli: RunCli
) -> None:
    """`triage run` with OPENAI_MODEL set and no OPENAI_API_KEY says once that the model is off,
    naming the variable, and still tickets what is queued."""
    queues.send(generic("one"))
    settings = drain_settings(settings_for(queues, backend.url, tmp_path / "triage.db"))
    env = {**daemon_env(settings), "OPENAI_MODEL": "llama3.1"}
    env.pop("OPENAI_API_KEY", None)
    result = run_cli("run", "--drain", env=env)
    assert result.returncode == 0, result.stderr
    warned = [e for e in events(result.stderr) if e["event"] == "config.model_unasked"]
    assert len(warned) == 1
    assert "OPENAI_MODEL" in warned[0]["detail"]
    assert "llama3.1" not in warned[0]["detail"]
    assert len(backend.tickets) == 1
