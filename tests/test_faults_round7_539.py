"""Faults, round 7 (helper 539): what an operator on ECS Fargate or a laptop meets that the
earlier rounds left: the interpreter's own environment (warnings made errors, the C locale, no
HOME, a read-only root), memory spent in the store's thread, and AWS's answers to a skewed clock."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import threading
import time
import urllib.request
import uuid
from collections.abc import Callable, Iterator, MutableMapping
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import boto3
import pytest
import structlog

from daemon_harness import (
    TOKEN,
    Daemon,
    DaemonThread,
    Queues,
    daemon_env,
    drain_settings,
    events,
    make_queues,
    settings_for,
)
from fault_proxy import FaultProxy
from ingest_harness import TOKENS, env_for, ingest_settings
from test_faults_round4_483 import CredentialsEndpoint, SkewedAws
from test_faults_round5_505 import _free_port, _incidents_table, _readiness
from triage import aws as aws_module
from triage.aws import Aws
from triage.demo.loopback import KeepAliveHandler, LoopbackServer
from triage.demo.ticketd import TicketServer
from triage.incidents.sqlite import SQLiteStore
from triage.settings import Settings
from triage.sqs.inbox import SqsInbox

#: How long a test waits for something that should happen long before (a bound, not a claim).
PATIENCE_S = 60.0


def _drain(
    queues: Queues, backend: TicketServer, tmp_path: Path, env: dict[str, str], **settings: Any
) -> subprocess.CompletedProcess[bytes]:
    """`python -m triage run --drain` as a new interpreter (the environment is read at its
    start, so only a process shows it) in `env` laid over the daemon's own environment; an
    entry whose value is empty is taken out. Its stdout and stderr are kept as bytes."""
    chosen = drain_settings(settings_for(queues, backend.url, tmp_path / "triage.db", **settings))
    full = {**daemon_env(chosen), **env}
    full = {name: value for name, value in full.items() if value != ""}
    return subprocess.run(
        [sys.executable, "-m", "triage", "run", "--drain"],
        env=full,
        cwd=tmp_path,
        capture_output=True,
        timeout=PATIENCE_S * 2,
        check=False,
    )


def _healthy(done: subprocess.CompletedProcess[bytes]) -> list[dict[str, Any]]:
    """The run's log lines, once it is shown to have exited 0 with nothing at error and no
    traceback: every stderr line one JSON object."""
    said = done.stderr.decode("utf-8")
    assert done.returncode == 0, said[-3000:]
    assert "Traceback" not in said and '"level": "error"' not in said, said[-3000:]
    lines = [line for line in said.splitlines() if line.strip()]
    assert all(line.startswith("{") for line in lines), said[-3000:]
    return events(said)


def test_python_warnings_made_errors_in_the_environment_leave_the_daemon_serving(
    queues: Queues, backend: TicketServer, tmp_path: Path
) -> None:
    """`PYTHONWARNINGS=error` set in a task definition (a debugging habit left in): every
    warning a library gives becomes an exception; the daemon still tickets its queue and
    exits 0."""
    queues.send({"title": "disk full on db-1", "source": "script"})
    done = _drain(queues, backend, tmp_path, {"PYTHONWARNINGS": "error"})
    _healthy(done)
    assert len(backend.tickets) == 1 and queues.depth() == 0
    assert queues.dead_letters() == []


def test_the_c_locale_writes_non_ascii_alerts_to_its_logs_and_metrics(
    queues: Queues, backend: TicketServer, tmp_path: Path
) -> None:
    """`LC_ALL=C` with UTF-8 mode off and no PYTHONIOENCODING (an image without a UTF-8 locale):
    stdout and stderr are ASCII, yet an alert titled in German and Japanese becomes its ticket
    and every log and EMF line is written whole."""
    title = "Zahlung fehlgeschlagen \u2013 Kästchen 決済 down"
    queues.send({"title": title, "source": "script", "team": "zahlungsdienst-ä"})
    env = {"LC_ALL": "C", "LANG": "C", "PYTHONUTF8": "0", "PYTHONIOENCODING": ""}
    done = _drain(queues, backend, tmp_path, env, metrics="emf")
    _healthy(done)
    assert len(backend.tickets) == 1 and queues.depth() == 0
    assert title in json.dumps(backend.tickets, ensure_ascii=False)
    emf = [json.loads(line) for line in done.stdout.decode().splitlines() if line.strip()]
    assert any("TicketsCreated" in json.dumps(line) for line in emf)


def test_a_daemon_without_home_tickets_its_queue(
    queues: Queues, backend: TicketServer, tmp_path: Path
) -> None:
    """HOME unset (a task run as a numeric user with no passwd entry): the daemon reads no
    profile, yet tickets what is queued and exits 0."""
    queues.send({"title": "disk full on db-1", "source": "script"})
    done = _drain(queues, backend, tmp_path, {"HOME": ""})
    _healthy(done)
    assert len(backend.tickets) == 1 and queues.depth() == 0


def _wait_in_thread(condition: Callable[[], object], what: str) -> None:
    """Wait (from a test's own thread) for `condition`, at most `PATIENCE_S`."""
    deadline = time.monotonic() + PATIENCE_S
    while not condition():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.05)


def test_memory_spent_in_the_stores_thread_holds_the_message_rather_than_dead_letter_it(
    queues: Queues,
    backend: TicketServer,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    logs: list[MutableMapping[str, Any]],
) -> None:
    """MemoryError raised in the SQLite store's own thread as it writes (the task near its
    memory limit): the process is short, not the message, so the message waits as in an
    outage, with one warning saying memory ran out, and becomes its ticket once memory is
    free; it is never dead-lettered as a bug."""
    monkeypatch.setenv("BACKEND_TOKEN", TOKEN)
    spent = 4  # more failures than the queue's 2 receives before its DLQ
    put = SQLiteStore._put_sync
    threads: set[str] = set()

    def out_of_memory(self: SQLiteStore, record: Any) -> None:
        nonlocal spent
        threads.add(threading.current_thread().name)
        if spent > 0:
            spent -= 1
            raise MemoryError
        put(self, record)

    monkeypatch.setattr(SQLiteStore, "_put_sync", out_of_memory)
    settings = settings_for(queues, backend.url, tmp_path / "t.db", retry_base_s=1)
    daemon = DaemonThread(settings)
    try:
        queues.send({"title": "disk full on db-1", "source": "script"})
        _wait_in_thread(
            lambda: len(backend.tickets) == 1 or queues.dead_letters(), "a ticket or a letter"
        )
    finally:
        daemon.stop()
    assert threads and all(name.startswith("triage-sqlite") for name in threads), threads
    assert queues.dead_letters() == []
    assert len(backend.tickets) == 1
    assert not [entry for entry in logs if entry["event"] == "message.crashed"]
    said = [e for e in logs if e["log_level"] in ("warning", "error")]
    assert any("memory" in str(e.get("error", "")) for e in said), said


class SkewedAwsWithSts(SkewedAws):
    """SkewedAws whose STS (a query-protocol service: form-encoded requests, XML answers)
    refuses a request signed more than 5 minutes off its clock as STS does:
    `SignatureDoesNotMatch`, "Signature expired: … is now earlier than …"."""

    def __init__(self, upstream: str, ahead_s: float) -> None:
        self.sts_refused = 0
        super().__init__(upstream, ahead_s)

    def _exchange(
        self, method: str, path: str, headers: dict[str, str], body: bytes
    ) -> tuple[int, list[tuple[str, str]], bytes]:
        if b"Action=AssumeRole" not in body:
            return super()._exchange(method, path, headers, body)
        signed = datetime.strptime(headers.get("x-amz-date", ""), "%Y%m%dT%H%M%SZ")
        now = datetime.now(UTC) + timedelta(seconds=self.ahead_s)
        if abs((signed.replace(tzinfo=UTC) - now).total_seconds()) <= 300:
            return self._forward(method, path, headers, body)
        with self._lock:
            self.sts_refused += 1
        stamp = now.strftime("%Y%m%dT%H%M%SZ")
        answer = (
            '<ErrorResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/"><Error>'
            "<Type>Sender</Type><Code>SignatureDoesNotMatch</Code>"
            f"<Message>Signature expired: {headers['x-amz-date']} is now earlier than "
            f"{stamp} ({stamp} - 5 min.)</Message></Error>"
            "<RequestId>c6104cbe-af31-11e0-8154-cbc7ccf896c7</RequestId></ErrorResponse>"
        )
        return 403, [("Content-Type", "text/xml")], answer.encode()


@pytest.fixture
def skewed_sts(queues: Queues) -> Iterator[SkewedAwsWithSts]:
    """SQS and STS (moto) with a clock 15 minutes ahead of this host's; the process's signing
    clock put back as it was afterwards."""
    with SkewedAwsWithSts(queues.endpoint, ahead_s=900) as proxy:
        yield proxy
    aws_module.SIGNING_CLOCK.offset_s = 0.0


def _role_profile(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, sts_url: str) -> None:
    """A profile `ops` that assumes a role with the keys of profile `base` (a laptop's set-up),
    its STS at `sts_url`; no other source of credentials."""
    config = tmp_path / "config"
    config.write_text(
        "[profile base]\naws_access_key_id = AKIAIOSFODNN7EXAMPLE\n"
        "aws_secret_access_key = wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY\n"
        "[profile ops]\nrole_arn = arn:aws:iam::123456789012:role/triage\n"
        "source_profile = base\n"
    )
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN"):
        monkeypatch.delenv(name, raising=False)
    for name in ("AWS_CONTAINER_CREDENTIALS_FULL_URI", "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_PROFILE", "ops")
    monkeypatch.setenv("AWS_CONFIG_FILE", str(config))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "none"))
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    monkeypatch.setenv("AWS_ENDPOINT_URL_STS", sts_url)


async def test_a_role_assumed_on_a_host_clock_sts_refuses_as_skewed_is_assumed_by_aws_time(
    skewed_sts: SkewedAwsWithSts,
    queues: Queues,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A laptop whose clock is 15 minutes behind, with a profile that assumes a role: STS
    refuses the AssumeRole as signed too long ago (SignatureDoesNotMatch, "Signature
    expired"). It is sent once more, signed by the time STS's answer gave, the role's
    credentials come and the queue is read; one line says how far off the clock is."""
    _role_profile(tmp_path, monkeypatch, skewed_sts.url)
    settings = Settings(
        queue_url=skewed_sts.queue_url(queues.url),
        aws_endpoint_url=skewed_sts.url,
        aws_region="us-east-1",
    )
    opened = Aws(settings)
    try:
        queues.send("kept")
        with structlog.testing.capture_logs() as logs:
            sqs = await opened.client("sqs")
            inbox = SqsInbox(sqs, skewed_sts.queue_url(queues.url), answer_slack_s=5)
            received = await inbox.receive(1, 0, 30)
    finally:
        await opened.aclose()
    assert skewed_sts.sts_refused == 1
    assert [m.body for m in received] == ["kept"]
    said = [e for e in logs if e["event"] == "aws.clock_skewed"]
    assert [e["log_level"] for e in said] == ["warning"]
    assert 890 <= said[0]["aws_ahead_s"] <= 910


#: `sh -c` that runs its arguments as ECS's `readonlyRootFilesystem` with a task volume at /tmp
#: does: in a mount namespace of its own, a fresh writable /tmp and the root mounted read-only.
_READ_ONLY_ROOT = 'mount -t tmpfs tmpfs /tmp && mount -o remount,bind,ro / && exec "$@"'


def _read_only_root_works() -> bool:
    """Whether this host lets a test mount its root read-only in a namespace (root, unshare)."""
    if shutil.which("unshare") is None:
        return False
    probe = subprocess.run(
        ["unshare", "-m", "--propagation", "private", "sh", "-c", _READ_ONLY_ROOT, "sh", "true"],
        capture_output=True,
        timeout=PATIENCE_S,
        check=False,
    )
    return probe.returncode == 0


def test_the_daemon_on_a_read_only_root_with_its_table_tickets_its_queue(
    moto_url: str, backend: TicketServer, tmp_path: Path
) -> None:
    """ECS's `readonlyRootFilesystem` (the task definitions' setting) with the DynamoDB store
    and /tmp the one writable path: the daemon writes nothing else (HOME, the working
    directory, the package are read-only), tickets its queue, writes its EMF lines and exits 0
    with nothing at error."""
    if not _read_only_root_works():
        pytest.skip("this host cannot mount a read-only root in a namespace (needs root)")
    queues = make_queues(moto_url)
    ddb = boto3.client("dynamodb", endpoint_url=moto_url, region_name="us-east-1")
    table = f"incidents-{uuid.uuid4().hex[:8]}"
    _incidents_table(ddb, table)
    queues.send({"title": "disk full on db-1", "source": "script"})
    chosen = drain_settings(
        settings_for(
            queues,
            backend.url,
            tmp_path / "unused.db",
            store_url=f"dynamodb://{table}",
            metrics="emf",
        )
    )
    done = subprocess.run(
        [
            "unshare",
            "-m",
            "--propagation",
            "private",
            "sh",
            "-c",
            _READ_ONLY_ROOT,
            "sh",
            sys.executable,
            "-m",
            "triage",
            "run",
            "--drain",
        ],
        env={**daemon_env(chosen), "HOME": "/root"},
        cwd="/",
        capture_output=True,
        timeout=PATIENCE_S * 2,
        check=False,
    )
    _healthy(done)
    assert len(backend.tickets) == 1 and queues.depth() == 0
    assert any(b"TicketsCreated" in line for line in done.stdout.splitlines())


class ExpiringSoonEndpoint(CredentialsEndpoint):
    """The container credentials endpoint handing out credentials that expire in
    `expires_in_s` (ECS's agent late with its rotation), within botocore's advisory refresh
    window (15 minutes before expiry) and outside its mandatory one (10 minutes)."""

    expires_in_s = 12 * 60

    def _answer(self) -> dict[str, str]:
        answer = super()._answer()
        expiry = datetime.now(UTC) + timedelta(seconds=self.expires_in_s)
        return {**answer, "Expiration": expiry.strftime("%Y-%m-%dT%H:%M:%SZ")}


@pytest.fixture
def expiring_endpoint(monkeypatch: pytest.MonkeyPatch) -> Iterator[ExpiringSoonEndpoint]:
    """ExpiringSoonEndpoint, named as the only source of credentials."""
    with ExpiringSoonEndpoint() as server:
        for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN"):
            monkeypatch.delenv(name, raising=False)
        monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", "/nonexistent/credentials")
        monkeypatch.setenv("AWS_CONFIG_FILE", "/nonexistent/config")
        monkeypatch.setenv("AWS_CONTAINER_CREDENTIALS_FULL_URI", f"{server.base_url}/v2/creds")
        yield server


async def test_a_credentials_endpoint_failing_an_early_refresh_is_not_asked_at_every_call(
    expiring_endpoint: ExpiringSoonEndpoint, queues: Queues
) -> None:
    """The task role's endpoint answering 500 while the credentials in hand are inside
    botocore's advisory refresh window (12 minutes left): the credentials in hand sign every
    call; the endpoint is not asked again (three tries, two seconds of sleeps) before each
    call of the receive loop, and the failed refresh is said once, not once per call."""
    settings = Settings(
        queue_url=queues.url, aws_endpoint_url=queues.endpoint, aws_region="us-east-1"
    )
    opened = Aws(settings)
    try:
        sqs = await opened.client("sqs")
        await sqs.get_queue_attributes(QueueUrl=queues.url)
        expiring_endpoint.down = True
        asked_before = expiring_endpoint.asked
        with structlog.testing.capture_logs() as logs:
            for _ in range(5):
                await sqs.get_queue_attributes(QueueUrl=queues.url)
    finally:
        await opened.aclose()
    asked = expiring_endpoint.asked - asked_before
    assert asked <= 3, f"the endpoint was asked {asked} times for 5 calls"
    failed = [e for e in logs if e["log_level"] in ("warning", "error")]
    assert len(failed) <= 1, failed


def test_the_queue_deleted_and_made_again_under_the_daemon_is_served_again(
    queues: Queues,
    backend: TicketServer,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    logs: list[MutableMapping[str, Any]],
) -> None:
    """The alerts queue deleted and made again under the same name (a stack re-applied): the
    same URL names a new, empty queue. Meanwhile the daemon is not ready (`queue: refused`:
    SQS answers that no such queue exists) and says so once; once the queue is back it is ready again, says it
    recovered, and tickets what is sent to the new queue."""
    monkeypatch.setenv("BACKEND_TOKEN", TOKEN)
    port = _free_port()
    settings = settings_for(
        queues,
        backend.url,
        tmp_path / "t.db",
        http_port=port,
        receive_retry_base_s=0.2,
        receive_retry_max_s=1,
    )
    sqs = queues.client()
    attributes = sqs.get_queue_attributes(
        QueueUrl=queues.url, AttributeNames=["VisibilityTimeout", "RedrivePolicy"]
    )["Attributes"]
    name = queues.url.rstrip("/").rsplit("/", 1)[-1]
    daemon = DaemonThread(settings)
    try:
        queues.send({"title": "disk full on db-1", "source": "script"})
        _wait_in_thread(lambda: len(backend.tickets) == 1, "the first ticket")
        _wait_in_thread(lambda: queues.depth() == 0, "the first message deleted")
        sqs.delete_queue(QueueUrl=queues.url)
        _wait_in_thread(
            lambda: _readiness(port)["failing"].get("queue") == "refused",
            "the queue named refused",
        )
        assert sqs.create_queue(QueueName=name, Attributes=attributes)["QueueUrl"] == queues.url
        queues.send({"title": "certificate expires on api-2", "source": "script"})
        _wait_in_thread(lambda: len(backend.tickets) == 2, "the second ticket")
        _wait_in_thread(lambda: queues.depth() == 0, "the second message deleted")
        _wait_in_thread(lambda: _readiness(port)["ready"] is True, "ready again")
        assert daemon.alive()
    finally:
        daemon.stop()
    assert queues.dead_letters() == []
    failed = [e for e in logs if e["event"] == "receive.failed" and e["log_level"] == "warning"]
    assert len(failed) == 1, failed
    assert [e for e in logs if e["event"] == "receive.recovered"]


def _answered(url: str) -> bool:
    """Whether `url` answers at all (a refused or reset connection is no answer)."""
    try:
        with urllib.request.urlopen(url, timeout=5):
            return True
    except urllib.error.HTTPError:
        return True
    except OSError:
        return False


def test_the_gateway_and_its_health_check_run_with_python_warnings_made_errors(
    queues: Queues, tmp_path: Path
) -> None:
    """`PYTHONWARNINGS=error` in the gateway's task definition: `triage ingest` starts, queues
    a webhook, and `triage health` (the container's HEALTHCHECK, run every 30 s in the same
    environment) says healthy; SIGTERM stops the gateway with 0 and no traceback."""
    ingest_port, http_port = _free_port(), _free_port()
    settings = ingest_settings(
        queues.url, queues.endpoint, ingest_port=ingest_port, http_port=http_port
    )
    env = {**env_for(settings), "PYTHONWARNINGS": "error"}
    log = tmp_path / "ingest.log"
    with log.open("wb") as written:
        gateway = subprocess.Popen(
            [sys.executable, "-m", "triage", "ingest"], env=env, stdout=written, stderr=written
        )
    try:
        _wait_in_thread(
            lambda: _answered(f"http://127.0.0.1:{ingest_port}/") or gateway.poll() is not None,
            "the gateway listening",
        )
        assert gateway.poll() is None, log.read_text()[-3000:]
        request = urllib.request.Request(
            f"http://127.0.0.1:{ingest_port}/v1/alerts/generic",
            data=json.dumps({"title": "disk full on db-1"}).encode(),
            headers={
                "Authorization": f"Bearer {TOKENS['generic']}",
                "Content-Type": "application/json",
            },
        )
        with urllib.request.urlopen(request, timeout=30) as answer:
            assert answer.status in (200, 202)
        health = subprocess.run(
            [sys.executable, "-m", "triage", "health"],
            env=env,
            capture_output=True,
            timeout=PATIENCE_S,
            check=False,
        )
        assert health.returncode == 0, health.stderr.decode()[-3000:]
    finally:
        gateway.send_signal(signal.SIGTERM)
        code = gateway.wait(timeout=PATIENCE_S)
    said = log.read_text()
    assert code == 0, said[-3000:]
    assert "Traceback" not in said and '"level": "error"' not in said, said[-3000:]
    _wait_in_thread(lambda: queues.depth() == 1, "the webhook queued")


def test_a_role_without_change_message_visibility_still_tickets_a_retried_alert(
    moto_url: str,
    backend: TicketServer,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    logs: list[MutableMapping[str, Any]],
) -> None:
    """A task role that lost `sqs:ChangeMessageVisibility` only (receives and deletes still
    allowed): a message whose first attempt fails (the backend's 503) cannot be released
    with its backoff, nor its visibility extended; it comes back when its visibility timeout
    ends and becomes its ticket, once. The refusal is one warning naming AccessDenied, not
    one per change."""
    monkeypatch.setenv("BACKEND_TOKEN", TOKEN)
    queues = make_queues(moto_url, max_receive_count=3)
    with FaultProxy(queues.endpoint) as proxy:
        for target in (
            "AmazonSQS.ChangeMessageVisibilityBatch",
            "AmazonSQS.ChangeMessageVisibility",
        ):
            proxy.refuse(target, 403, "com.amazonaws.sqs#AccessDenied", "not authorized")
        settings = settings_for(
            queues,
            backend.url,
            tmp_path / "t.db",
            queue_url=proxy.queue_url(queues.url),
            aws_endpoint_url=proxy.url,
            visibility_timeout_s=3,
        )
        backend.fail_next(1)
        daemon = DaemonThread(settings)
        try:
            queues.send({"title": "disk full on db-1", "source": "script"})
            _wait_in_thread(lambda: len(backend.tickets) == 1, "the ticket")
            _wait_in_thread(lambda: queues.depth() == 0, "the message deleted")
        finally:
            daemon.stop()
        assert proxy.requests("AmazonSQS.ChangeMessageVisibilityBatch") >= 1
    assert queues.dead_letters() == []
    assert len(backend.tickets) == 1
    refused = [
        e for e in logs if e["event"] == "message.visibility_failed" and e["log_level"] == "warning"
    ]
    assert len(refused) == 1 and "AccessDenied" in str(refused[0]), refused


#: The path of the Slack stand-in's incoming webhook.
SLACK_HOOK = "/services/T0SIGINT/B0HALF/hookSecret539"


class SlackHook(LoopbackServer):
    """A Slack incoming webhook on 127.0.0.1 that records each post it answers 200 "ok"; while
    `holding` is set, a post waits (for `release`) before it is read, as a Slack that has
    taken the connection and not yet answered."""

    thread_name = "slack-hook"

    def __init__(self) -> None:
        self.posts: list[dict[str, Any]] = []
        self.arrivals = 0
        self.holding = threading.Event()
        self._released = threading.Event()
        super().__init__()

    def release(self) -> None:
        self.holding.clear()
        self._released.set()

    def _handler_class(self) -> type[Any]:
        hook = self

        class Handler(KeepAliveHandler):
            def do_POST(self) -> None:
                hook.arrivals += 1
                if hook.holding.is_set():
                    hook._released.wait(PATIENCE_S)
                raw = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                hook.posts.append(json.loads(raw))
                body = b"ok"
                self.send_response(200)
                self.send_header("Content-Type", "text/plain")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, format: str, *args: Any) -> None:
                """Quiet: tests assert on what the daemon did."""

        return Handler


def test_ctrl_c_with_the_ticket_made_and_slack_unanswered_posts_slack_once_later(
    queues: Queues,
    backend: TicketServer,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """SIGINT while an alert is half routed (its backend ticket made, its Slack post
    unanswered) and the grace too short for Slack: the daemon exits 0 with a line saying it
    gave the message back; the next daemon makes no second ticket and posts to Slack again
    with the same text (a webhook's post cannot be looked up: at least once, as the design
    chooses); nothing reaches the DLQ."""
    monkeypatch.setenv("BACKEND_TOKEN", TOKEN)
    with SlackHook() as slack:
        slack.holding.set()
        settings = settings_for(
            queues,
            backend.url,
            tmp_path / "t.db",
            sinks="backend,slack",
            slack_webhook_url=slack.base_url + SLACK_HOOK,
            slack_min_priority="low",
            slack_min_interval_s=0,
            shutdown_grace_s=1,
        )
        queues.send({"title": "disk full on db-1", "source": "script", "priority": "high"})
        daemon = Daemon(settings, log_dir=tmp_path)
        try:
            _wait_in_thread(lambda: slack.arrivals >= 1, "the Slack post under way")
            assert len(backend.tickets) == 1
            daemon.signal(signal.SIGINT)
            code = daemon.wait(timeout=PATIENCE_S)
        finally:
            slack.release()
            daemon.kill()
        said = daemon.log
        assert code == 0, said[-3000:]
        assert "Traceback" not in said, said[-3000:]
        lines = daemon.events()
        assert [e for e in lines if e["event"] == "daemon.released"], said[-3000:]
        again = DaemonThread(settings)
        try:
            _wait_in_thread(lambda: queues.depth() == 0, "the message handled by the next daemon")
        finally:
            again.stop()
        assert 1 <= len(slack.posts) <= 2, slack.posts
        assert all(post == slack.posts[0] for post in slack.posts), slack.posts
    assert len(backend.tickets) == 1
    assert queues.dead_letters() == []


def test_dlq_peek_without_home_or_a_passwd_entry_shows_the_letters(
    queues: Queues, backend: TicketServer, tmp_path: Path
) -> None:
    """`triage dlq peek` run as a numeric user with no passwd entry and HOME unset (`docker run
    --user 4242` from a script that cleared its environment, a one-off task): there is no home
    for its notes of earlier looks, so it says they were not kept, in one line, and shows the
    letters."""
    if not hasattr(os, "setresuid") or os.geteuid() != 0:
        pytest.skip("needs root to run the command as a user with no passwd entry")
    queues.client().send_message(QueueUrl=queues.dlq_url, MessageBody='{"title": "x"}')
    chosen = settings_for(queues, backend.url, tmp_path / "t.db")
    env = {
        name: value
        for name, value in daemon_env(chosen).items()
        if name not in ("HOME", "XDG_STATE_HOME")
    }
    done = subprocess.run(
        [sys.executable, "-m", "triage", "dlq", "peek"],
        env=env,
        cwd="/",
        capture_output=True,
        timeout=PATIENCE_S,
        check=False,
        user=54321,
        group=54321,
        extra_groups=[],
    )
    said = done.stderr.decode()
    assert done.returncode == 0, said[-3000:]
    assert "Traceback" not in said, said[-3000:]
    assert "title" in done.stdout.decode(), done.stdout.decode()[-3000:]
