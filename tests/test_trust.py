"""Trust, proven on the daemon as a process (issue 12): no secret leaves by any path, time cannot
wedge an incident, backpressure never dead-letters a valid alert, shutdown keeps its promises,
counters say what happened, and titles say what failed where.

Each test runs the daemon against moto's SQS and loopback stand-ins, and fails on the code before
the fix it proves: as `python -m triage run` where a process is what is proven (signals, replicas,
every line of its stderr), else in this process (`triage run --drain` through `triage.cli.main`,
or the daemon as a task of the test's loop), which spares a new interpreter's imports."""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import signal
import subprocess
import time
from collections.abc import AsyncIterator, Callable, Iterator, MutableMapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import boto3
import pytest

from daemon_harness import (
    TOKEN,
    Daemon,
    DaemonThread,
    Queues,
    daemon_env,
    make_queues,
    run_in_process,
    settings_for,
)
from daemon_harness import events as json_events
from fault_proxy import FaultProxy
from github_stub import GitHubServer
from recording_proxy import RecordingProxy
from triage.app import run_daemon
from triage.demo.model import ChatServer, completion
from triage.demo.ticketd import TicketServer
from triage.settings import Settings

PAYLOADS = Path(__file__).parent / "payloads"
GH_TOKEN = "ghp_" + "Tr0stT0k3n" * 4
SLACK_PATH = "/services/T0TRUST/B0TRUST/slackWebhookPathSecret1"
OPENAI_KEY = "sk-trust-openai-key-0123456789abcdef"
UPDATES = "/api/service/tickets/{ref}/updates"
RESOLVES = "/api/service/tickets/{ref}/resolve"


def wait_until(predicate: Callable[[], object], timeout_s: float, what: str) -> None:
    deadline = time.monotonic() + timeout_s
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.1)


def generic(key: str, status: str = "firing", **extra: Any) -> dict[str, Any]:
    return {"title": f"{key} failed", "status": status, "dedup_key": key, **extra}


def events(daemon: Daemon, name: str) -> list[dict[str, Any]]:
    return [e for e in daemon.events() if e["event"] == name]


def stop(daemon: Daemon) -> None:
    """SIGTERM, and the clean exit it must lead to."""
    daemon.signal(signal.SIGTERM)
    assert daemon.wait(timeout=30) == 0, daemon.log[-3000:]


@pytest.fixture(autouse=True)
def backend_token(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("BACKEND_TOKEN", TOKEN)


#: `triage ARGS` with `settings` in this process: its exit code, stdout and stderr.
Cli = Callable[..., subprocess.CompletedProcess[str]]


@pytest.fixture
def cli(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> Cli:
    """The command line through `triage.cli.main`, in the environment `settings` make."""

    def run(settings: Settings, *args: str) -> subprocess.CompletedProcess[str]:
        env = {**daemon_env(settings), "PATH": os.environ.get("PATH", "/usr/bin:/bin")}
        return run_in_process(monkeypatch, capsys, *args, env=env)

    return run


def drained(cli: Cli, settings: Settings) -> list[dict[str, Any]]:
    """`triage run --drain` in this process, which must exit 0: the events of its log. Its
    receives are short polls: a long poll held the drain's end a second per empty receive."""
    result = cli(settings.model_copy(update={"sqs_wait_time": 0}), "run", "--drain")
    assert result.returncode == 0, result.stderr[-3000:]
    return json_events(result.stderr)


def named(lines: list[dict[str, Any]], name: str) -> list[dict[str, Any]]:
    return [e for e in lines if e["event"] == name]


@contextlib.asynccontextmanager
async def running(settings: Settings) -> AsyncIterator[None]:
    """The daemon (`run_daemon`, what `triage run` runs) as a task of the test's loop for the
    block, then stopped as SIGTERM stops it; the `logs` fixture sees its events."""
    stop = asyncio.Event()
    task = asyncio.create_task(run_daemon(settings, stop=stop))
    try:
        yield
    finally:
        stop.set()
        await asyncio.wait_for(task, 30)


async def until(predicate: Callable[[], object], timeout_s: float, what: str) -> None:
    """Wait for `predicate` (run off the loop: it may call SQS) without holding the daemon."""
    deadline = time.monotonic() + timeout_s
    while not await asyncio.to_thread(predicate):
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        await asyncio.sleep(0.05)


Logs = list[MutableMapping[str, Any]]


# --- 1 and 2: no secret leaves the process ----------------------------------------------------

#: Secrets of every kind the redactor knows, and the part of each that must never be seen.
SECRETS = {
    "AKIAZ3MXQ7VJ9PLEKT4R": "AKIAZ3MXQ7VJ9PLEKT4R",
    "db password postgres://app:Pgs3cr3tPassW0rd@db:5432/app": "Pgs3cr3tPassW0rd",
    "DB_PASSWORD=EnvStyl3Val": "EnvStyl3Val",
    'password="quoted pass phrase 42"': "quoted pass phrase 42",
    "ghp_R4nd0mT0k3nValueAbCdEfGhIjKlMnOpQr12": "ghp_R4nd0mT0k3nValueAbCdEfGhIjKlMnOpQr12",
    "xoxb-2048-4096-Qw3rTy5UiOpAsDfGhJkL": "xoxb-2048-4096-Qw3rTy5UiOpAsDfGhJkL",
    "sk_live_51HqLyjWDarjtT1zdp7dc9W2b3": "51HqLyjWDarjtT1zdp7dc9W2b3",
    "AIzaSyD3m0K3yF0rG00gl3Ap1sXyZ1234567890": "AIzaSyD3m0K3yF0rG00gl3Ap1sXyZ1234567890",
    "reporter jane.doe@example.net.": "jane.doe@example.net",
    "console /alarm/key%3DAKIAQ2W3E4R5T6Y7U8I9": "AKIAQ2W3E4R5T6Y7U8I9",
    f"the backend token {TOKEN}": TOKEN,
    f"GITHUB_TOKEN={GH_TOKEN}": GH_TOKEN,
}


def _hostile_bodies() -> list[str]:
    """One message per source, each field that takes text carrying every secret."""
    blob = " | ".join(SECRETS)
    sentry = json.loads((PAYLOADS / "sentry" / "issue-created.json").read_text())
    sentry["data"]["issue"]["title"] = f"OperationalError: could not connect {blob}"
    sentry["data"]["issue"]["culprit"] = blob
    sentry["data"]["issue"]["metadata"]["value"] = blob
    cloudwatch = json.loads((PAYLOADS / "cloudwatch" / "raw-alarm.json").read_text())
    cloudwatch["AlarmName"] = "prod-AKIAZ3MXQ7VJ9PLEKT4R-5xx"
    cloudwatch["AlarmDescription"] = f"TEAM=payments | {blob}"
    cloudwatch["NewStateReason"] = blob
    alertmanager = json.loads((PAYLOADS / "alertmanager" / "group-firing.json").read_text())
    for alert in alertmanager["alerts"]:
        alert["annotations"]["description"] = blob
        alert["annotations"]["summary"] = "DB_PASSWORD=EnvStyl3Val in the pod's env"
        alert["labels"]["db_password"] = "labelValueSekret77"
    return [
        json.dumps(sentry),
        json.dumps(cloudwatch),
        json.dumps(alertmanager),
        json.dumps(
            generic(
                "leaky-job", description=blob, team=TOKEN, runbook=f"https://r.example/{GH_TOKEN}"
            )
        ),
    ]


@pytest.fixture
def github() -> Iterator[GitHubServer]:
    server = GitHubServer(tokens={GH_TOKEN: "triage-bot"}, repositories=("acme/ops",))
    server.start()
    yield server
    server.stop()


def test_no_secret_leaves_a_running_daemon_by_any_path(
    queues: Queues, backend: TicketServer, github: GitHubServer, tmp_path: Path
) -> None:
    """Hostile alerts of four sources carrying secrets of every kind (the daemon's own tokens
    too) are opened, updated, closed and reopened through the backend, GitHub, Slack and the
    LLM: no request that left (body, header or URL) and no log line holds any of them."""
    with (
        ChatServer() as chat,
        RecordingProxy(backend.url) as to_backend,
        RecordingProxy(github.url) as to_github,
        RecordingProxy() as to_slack,
        RecordingProxy(chat.url) as to_llm,
    ):
        chat.responder = lambda request: completion(
            json.dumps(
                {
                    "title": "Leaky alert",
                    "priority": "high",
                    # The worst a model can do: repeat the prompt it was given.
                    "description": request["messages"][-1]["content"][:3500],
                    "steps": ["Read the alert"],
                }
            )
        )
        settings = settings_for(
            queues,
            to_backend.url,
            tmp_path / "triage.db",
            sinks="backend,github,slack",
            backend_update_route=UPDATES,
            backend_resolve_route=RESOLVES,
            github_token=GH_TOKEN,
            github_repository="acme/ops",
            github_api_url=to_github.url,
            slack_webhook_url=to_slack.url + SLACK_PATH,
            slack_min_priority="low",
            slack_min_interval_s=0,
            openai_api_key=OPENAI_KEY,
            openai_base_url=to_llm.url + "/v1",
            update_interval_s=0,
        )
        bodies = _hostile_bodies()
        daemon = Daemon(settings, log_dir=tmp_path)
        try:
            for status in ("firing", "firing", "resolved", "firing"):  # open, update, close, reopen
                queues.send(*(_with_status(body, status) for body in bodies))
                wait_until(lambda: queues.depth() == 0, 60, f"the {status} wave to be handled")
            stop(daemon)
        finally:
            daemon.kill()
        logs = [daemon.log]
        sent = {
            "backend": (to_backend.requests, ("authorization", f"Bearer {TOKEN}")),
            "github": (to_github.requests, ("authorization", f"Bearer {GH_TOKEN}")),
            "slack": (to_slack.requests, None),
            "llm": (to_llm.requests, ("authorization", f"Bearer {OPENAI_KEY}")),
        }
    assert all(requests for requests, _ in sent.values())
    assert len(backend.tickets) >= 4 and len(backend.events) >= 3 * 4
    leaks = [
        f"{service}: {needle!r}"
        for service, (requests, own) in sent.items()
        for request in requests
        for needle in [*SECRETS.values(), "labelValueSekret77"]
        if needle in request.text(except_header=own)
    ]
    leaks += [f"log: {n!r}" for n in SECRETS.values() if any(n in log for log in logs)]
    assert leaks == [], "\n".join(leaks)


def _with_status(body: str, status: str) -> str:
    """The same alert firing or resolved, whatever its source's word for it."""
    payload = json.loads(body)
    if "dedup_key" in payload:
        payload["status"] = status
    elif "AlarmName" in payload:
        payload["NewStateValue"] = "ALARM" if status == "firing" else "OK"
    elif "alerts" in payload:
        payload["status"] = status
        for alert in payload["alerts"]:
            alert["status"] = status
    else:
        payload["action"] = "unresolved" if status == "firing" else "resolved"
    return json.dumps(payload)


def test_dlq_peek_prints_no_secret(queues: Queues, tmp_path: Path, cli: Cli) -> None:
    """`triage dlq peek` on dead letters whose text holds secrets (one undecodable, one with a
    secret in a field the error quotes) prints their reasons and excerpts redacted."""
    sqs = queues.client()
    sqs.send_message(QueueUrl=queues.dlq_url, MessageBody='{"title": "DB_PASSWORD=EnvStyl3Val')
    sqs.send_message(
        QueueUrl=queues.dlq_url,
        MessageBody=json.dumps({"title": "x", "status": "password=Hunt3rTw0Sekret"}),
    )
    proc = cli(settings_for(queues, "http://127.0.0.1:9", tmp_path / "t.db"), "dlq", "peek")
    assert proc.returncode == 0, proc.stderr
    assert len(proc.stdout.splitlines()) == 2
    assert "EnvStyl3Val" not in proc.stdout + proc.stderr
    assert "Hunt3rTw0Sekret" not in proc.stdout + proc.stderr
    assert "[REDACTED" in proc.stdout


# --- 4: time cannot wedge an incident --------------------------------------------------------


@pytest.mark.parametrize("wedge", ["resolved", "firing"])
async def test_an_event_dated_2999_cannot_wedge_an_incident(
    queues: Queues, backend: TicketServer, tmp_path: Path, wedge: str, logs: Logs
) -> None:
    """An event stamped in the year 2999 (a resolve, or a repeat) is taken at the time its message was queued,
    logged with the original, and the real events after it still close and reopen the ticket."""
    settings = settings_for(
        queues,
        backend.url,
        tmp_path / "triage.db",
        backend_update_route=UPDATES,
        backend_resolve_route=RESOLVES,
    )
    after = "resolved" if wedge == "firing" else "firing"
    steps = [("firing", None), (wedge, "2999-01-01T00:00:00Z"), (after, None)]
    async with running(settings):
        for status, stamp in steps:  # one at a time, each stamped when it is sent
            queues.send(generic("wedge", status, timestamp=stamp or datetime.now(UTC).isoformat()))
            await until(lambda: queues.depth() == 0, 30, f"the {status} event to be handled")
    [future] = [e for e in logs if e["event"] == "alert.future_time"]
    assert future["occurred_at"].startswith("2999-01-01")
    kinds = [(e["kind"], e["body"].get("reopened", False)) for e in backend.events]
    expected = {
        "resolved": [("resolve", False), ("updates", True)],  # closed by 2999, then reopened
        "firing": [("resolve", False)],  # the real resolve closes it
    }[wedge]
    assert kinds == expected


# --- 5: backpressure never dead-letters a valid alert -----------------------------------------


def test_a_rate_limited_group_is_held_not_dead_lettered(
    moto_url: str, backend: TicketServer, tmp_path: Path, cli: Cli
) -> None:
    """A five-alert group meets 429s with Retry-After: 1 from the backend, three times, with
    maxReceiveCount 2: the message is held (receive count untouched) until every alert has its
    ticket, and nothing reaches the DLQ."""
    queues = make_queues(moto_url, max_receive_count=2)
    backend.fail_next(3, status=429, retry_after="1")
    group = json.loads((PAYLOADS / "alertmanager" / "group-firing.json").read_text())
    template = group["alerts"][0]
    group["alerts"] = [
        {**template, "labels": {**template["labels"], "pod": f"api-{i}"}} for i in range(5)
    ]
    queues.send(group)
    log = drained(cli, settings_for(queues, backend.url, tmp_path / "t.db"))
    assert len(backend.tickets) == 5
    assert queues.dead_letters() == []
    held = named(log, "message.held")
    assert held and {e["reason"] for e in held} == {"sink_throttled"}
    assert named(log, "message.retry") == []


def test_a_group_too_large_for_one_message_timeout_ends_fully_ticketed(
    queues: Queues, backend: TicketServer, tmp_path: Path, cli: Cli
) -> None:
    """An Alertmanager group of 48 new alerts, a 1.2 s model, 8 model calls at once and a 6 s
    message timeout (the model alone needs 7.2 s): the alerts run concurrently and the timeout
    counts from the last progress, so every alert gets its ticket and nothing reaches the DLQ.
    (A 3 s timeout of a 0.6 s model proved the same, but a loaded machine, the daemon in this
    process, sometimes went 3 s without finishing a call.)"""
    alerts, latency_s, llm_concurrency, timeout_s = 48, 1.2, 8, 6.0
    assert alerts * latency_s / llm_concurrency > timeout_s  # else this proves nothing
    group = json.loads((PAYLOADS / "alertmanager" / "group-firing.json").read_text())
    template = group["alerts"][0]
    group["alerts"] = [
        {**template, "labels": {**template["labels"], "pod": f"api-{i}"}} for i in range(alerts)
    ]
    with ChatServer() as chat:
        chat.latency_s = latency_s
        settings = settings_for(
            queues,
            backend.url,
            tmp_path / "t.db",
            openai_api_key=OPENAI_KEY,
            openai_base_url=chat.url + "/v1",
            llm_concurrency=llm_concurrency,
            message_timeout_s=timeout_s,
            effect_lease_s=10,
            visibility_timeout_s=30,
        )
        queues.send(group)
        log = drained(cli, settings)
    assert len({t["body"]["fingerprint"] for t in backend.tickets}) == alerts
    assert queues.dead_letters() == []
    assert named(log, "message.retry") == []


def test_replicas_share_one_github_issue_budget(
    moto_url: str, github: GitHubServer, tmp_path: Path, logs: Logs
) -> None:
    """Two daemons on one DynamoDB table with a budget of 2 issues a minute create 2 issues
    between them, not 4; the other incidents are held, waiting for a token, not dead-lettered.
    (One is a process, the other a thread of this process: `logs` are its own.)"""
    queues = make_queues(moto_url, max_receive_count=2)
    boto3.client("dynamodb", endpoint_url=moto_url, region_name="us-east-1").create_table(
        TableName="incidents",
        KeySchema=[{"AttributeName": "fingerprint", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "fingerprint", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
    )
    # Twelve: a message held for GitHub's budget gives its worker slot back (intake goes on
    # while only GitHub's messages wait), so one replica may hold up to twice its concurrency
    # (6), and the other must still find some to hold.
    queues.send(*(generic(f"budget-{i}") for i in range(12)))
    settings = settings_for(
        queues,
        "http://127.0.0.1:9",
        tmp_path / "unused.db",
        store_url="dynamodb://incidents",
        sinks="github",
        github_token=GH_TOKEN,
        github_repository="acme/ops",
        github_api_url=github.url,
        github_create_per_minute=2,
        concurrency=3,
    )
    process = Daemon(settings, log_dir=tmp_path)
    thread: DaemonThread | None = None

    def thread_held() -> list[MutableMapping[str, Any]]:
        return [e for e in logs if e["event"] == "message.held"]

    try:
        thread = DaemonThread(settings)
        wait_until(
            lambda: len(github.issues()) >= 2 and events(process, "message.held") and thread_held(),
            45,
            "two issues, and both replicas holding a message for the budget",
        )
        stop(process)
    finally:
        process.kill()
        if thread is not None:
            thread.stop()
    # Counted once both have stopped: nothing can open a third any more.
    assert len(github.issues()) == 2
    assert queues.dead_letters() == []
    held = [*events(process, "message.held"), *thread_held()]
    assert {e["reason"] for e in held} == {"throttled"}


# --- 7: shutdown keeps its promises -----------------------------------------------------------


def test_a_second_ctrl_c_ends_the_grace_at_once(
    queues: Queues, backend: TicketServer, tmp_path: Path
) -> None:
    """While messages wait on a slow backend, a second SIGINT ends the 25 s grace: the rest are
    cancelled and released (reason: second signal) and the daemon exits 0."""
    backend.delay_s = 60.0
    queues.send(generic("slow-a"), generic("slow-b"))
    settings = settings_for(queues, backend.url, tmp_path / "t.db", shutdown_grace_s=25)
    daemon = Daemon(settings, log_dir=tmp_path)
    try:
        wait_until(lambda: backend.arrivals >= 1, 30, "a request held by the backend")
        daemon.signal(signal.SIGINT)
        wait_until(lambda: events(daemon, "daemon.draining"), 10, "the grace to begin")
        daemon.signal(signal.SIGINT)
        assert daemon.wait(timeout=15) == 0, daemon.log
    finally:
        backend.delay_s = 0
        daemon.kill()
    [released] = events(daemon, "daemon.released")
    assert released["reason"] == "second signal"


def test_a_slow_store_cannot_hold_the_exit_past_its_deadline(
    moto_url: str, backend: TicketServer, tmp_path: Path
) -> None:
    """After the grace, the cancelled messages release their claims in DynamoDB; with DynamoDB
    answering after 20 s, the second stage gives up at its deadline with a warning and the
    daemon still exits 0, well inside ECS's 30 s stop timeout."""
    queues = make_queues(moto_url)
    boto3.client("dynamodb", endpoint_url=moto_url, region_name="us-east-1").create_table(
        TableName="incidents",
        KeySchema=[{"AttributeName": "fingerprint", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "fingerprint", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
    )
    backend.delay_s = 60.0
    with FaultProxy(moto_url) as proxy:
        settings = settings_for(
            queues,
            backend.url,
            tmp_path / "unused.db",
            queue_url=proxy.queue_url(queues.url),
            aws_endpoint_url=proxy.url,
            store_url="dynamodb://incidents",
            shutdown_grace_s=1,
            shutdown_cancel_s=2,
        )
        queues.send(generic("slow-store"))
        daemon = Daemon(settings, log_dir=tmp_path)
        try:
            wait_until(lambda: backend.arrivals >= 1, 30, "a request held by the backend")
            proxy.delay("DynamoDB_20120810.", 20.0)
            daemon.signal(signal.SIGTERM)
            assert daemon.wait(timeout=12) == 0, daemon.log
        finally:
            proxy.delay("DynamoDB_20120810.", 0)
            backend.delay_s = 0
            daemon.kill()
    [overran] = events(daemon, "daemon.cancel_overran")
    assert overran["count"] == 1
    assert events(daemon, "daemon.stopped")


# --- 8: counters and reports say what happened --------------------------------------------------


async def test_counters_count_only_what_the_backend_was_sent(
    queues: Queues, backend: TicketServer, tmp_path: Path, logs: Logs, cli: Cli
) -> None:
    """Without update and resolve routes a resolve is skipped for the backend: the final
    counters count one ticket created and none closed, and `triage check` warns about it."""
    settings = settings_for(queues, backend.url, tmp_path / "t.db")
    async with running(settings):
        for status in ("firing", "resolved"):
            queues.send(generic("counted", status))
            await until(lambda: queues.depth() == 0, 30, f"the {status} alert to be handled")
    [counters] = [e for e in logs if e["event"] == "daemon.stopped"]
    assert counters["TicketsCreated.backend"] == 1
    assert [e["action"] for e in logs if e["event"] == "alert.decided"] == ["open", "close"]
    assert "TicketsClosed" not in counters
    assert "TicketsClosed.backend" not in counters
    assert backend.events == []
    check = await asyncio.to_thread(cli, settings, "check")
    [warning] = [line for line in check.stdout.splitlines() if line.startswith("warn")]
    assert "TRIAGE_BACKEND_RESOLVE_ROUTE" in warning and "TRIAGE_BACKEND_UPDATE_ROUTE" in warning


# --- 9: threshold titles say what failed and where ----------------------------------------------


def test_a_threshold_ticket_names_the_metric_and_the_host(
    queues: Queues, backend: TicketServer, tmp_path: Path, cli: Cli
) -> None:
    """A threshold event without a rule name, with a host and a numeric device id, becomes the
    ticket `replication_lag_seconds ≥ 300 on db-replica-3.internal`."""
    queues.send(
        {
            "event_type": "threshold_alert",
            "state": "triggered",
            "rule_id": "rule-repl-lag-300",
            "metric": "replication_lag_seconds",
            "current_value": 412,
            "threshold_value": 300,
            "operator": ">=",
            "device_id": 3017,
            "host": "db-replica-3.internal",
        }
    )
    drained(cli, settings_for(queues, backend.url, tmp_path / "t.db"))
    [ticket] = backend.tickets
    assert ticket["body"]["title"] == "replication_lag_seconds ≥ 300 on db-replica-3.internal"


# --- 10: what an SRE reads of a running daemon (issue 17) ---------------------------------------


def test_a_running_daemons_logs_and_metrics_are_machine_readable(
    queues: Queues, backend: TicketServer, tmp_path: Path
) -> None:
    """At debug level, every line the daemon writes on stderr is one JSON object with `logger`
    and `service`, botocore's and httpx2's own lines included; every line of a message sent with
    a traceparent carries its trace id; and its /metrics, queue-depth gauges included, passes
    `promtool check metrics`."""
    import socket

    import httpx2

    from programs import program_or_skip

    promtool = program_or_skip("promtool", install="Debian: apt-get install prometheus")
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    settings = settings_for(
        queues,
        backend.url,
        tmp_path / "t.db",
        log_level="debug",
        http_port=port,
        queue_depth_poll_s=0.5,
    )
    trace_id = "0af7651916cd43dd8448eb211c80319c"
    queues.client().send_message(
        QueueUrl=queues.url,
        MessageBody=json.dumps(generic("traced")),
        MessageAttributes={
            "traceparent": {
                "DataType": "String",
                "StringValue": f"00-{trace_id}-b7ad6b7169203331-01",
            }
        },
    )
    daemon = Daemon(settings, log_dir=tmp_path)
    try:
        wait_until(lambda: queues.depth() == 0 and backend.tickets, 30, "the traced alert")

        def scrape() -> str:
            try:
                text = httpx2.get(f"http://127.0.0.1:{port}/metrics", timeout=5).text
            except httpx2.HTTPError:
                return ""
            return text if "triage_dlq_messages_visible" in text else ""

        wait_until(scrape, 20, "the queue-depth gauges on /metrics")
        metrics = scrape()
        stop(daemon)
    finally:
        daemon.kill()
    lines = daemon.log.splitlines()
    assert lines
    parsed = [json.loads(line) for line in lines]  # a plain-text line fails here
    assert all(isinstance(p, dict) and p.get("logger") and p.get("service") for p in parsed)
    loggers = {p["logger"].split(".")[0] for p in parsed}
    assert {"botocore", "httpx2", "triage"} <= loggers
    assert backend.tickets[0]["body"]["trace_id"] == trace_id
    [acked] = [p for p in parsed if p["event"] == "message.acked"]
    of_message = [p for p in parsed if p.get("message_id") == acked["message_id"]]
    assert len(of_message) >= 3
    assert [p["event"] for p in of_message if p.get("trace_id") != trace_id] == []
    checked = subprocess.run(
        [promtool, "check", "metrics"], input=metrics, capture_output=True, text=True, timeout=30
    )
    assert checked.returncode == 0 and not (checked.stdout + checked.stderr).strip(), checked
    assert "triage_tickets_created_total{" in metrics and "triage_build_info{" in metrics
