"""Two fault leftovers.

- SIGINT ignored at start stays ignored, as SIGHUP under `nohup` does: a script's `triage run &`
  (a shell without job control starts its background jobs with SIGINT ignored, so that a
  Ctrl-C on the terminal reaches only the foreground job) or a supervisor that ignores SIGINT
  for its children. SIGTERM always stops the daemon and the gateway.
- A rate-limited escalation webhook is left alone for its wait: the next escalations to it (the
  sweep's next incidents) are held without a request until the wait has passed, as the Slack
  sink holds its own posts; another webhook is not held by it.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx2
import pytest

from daemon_harness import SRC, Queues, daemon_env, events, settings_for
from hostile_server import answer, hostile
from ingest_harness import bearer, env_for, ingest_settings
from memory_inbox import MemoryInbox
from triage.demo.ticketd import TicketServer
from triage.errors import SinkThrottledError
from triage.health import Health
from triage.incidents.lifecycle import Incident, Outcome, State
from triage.ingest import service as ingest_service
from triage.ingest.service import IngestService
from triage.metrics import Metrics
from triage.ops.escalate import Escalator
from triage.routes import load_router
from triage.settings import Settings
from triage.sqs.inbox import Message
from triage.sqs.supervisor import Supervisor, SupervisorConfig, stop_signals

# --- SIGINT ignored at start ------------------------------------------------------------------

#: Starts "$@" as a script's background job (`&` in `sh -c`, no job control: SIGINT ignored),
#: prints its pid, and waits for it, ending with its exit status.
_BACKGROUND_JOB = '"$@" </dev/null >/dev/null & echo $!; wait $!'


class _BackgroundJob:
    """`python -m triage ARGV &` in a non-interactive shell script, its stderr in `log`."""

    def __init__(self, argv: list[str], env: dict[str, str], log: Path) -> None:
        self.log = log
        with log.open("w") as stderr:
            self.shell = subprocess.Popen(
                ["sh", "-c", _BACKGROUND_JOB, "sh", sys.executable, "-m", "triage", *argv],
                env=env,
                stdin=subprocess.DEVNULL,
                stdout=subprocess.PIPE,
                stderr=stderr,
                text=True,
            )
        assert self.shell.stdout is not None
        with self.shell.stdout:
            self.pid = int(self.shell.stdout.readline())

    def running(self) -> bool:
        """Whether triage still runs (the shell waits for it, and ends when it ends)."""
        return self.shell.poll() is None

    def events(self) -> list[str]:
        return [e["event"] for e in events(self.log.read_text(errors="replace"))]

    def until(self, condition: Callable[[], object], timeout_s: float = 60) -> None:
        """Wait until `condition()` holds, failing with triage's log if `timeout_s` passes."""
        deadline = time.monotonic() + timeout_s
        while not condition():
            assert time.monotonic() < deadline, self.log.read_text(errors="replace")
            time.sleep(0.05)

    def signal(self, sig: signal.Signals) -> None:
        """Send `sig` to triage (not the shell), unless it has ended."""
        if self.running():
            with contextlib.suppress(ProcessLookupError):  # ended, the shell not yet
                os.kill(self.pid, sig)

    def stop(self) -> int:
        """SIGTERM, and triage's exit status once it ended."""
        self.signal(signal.SIGTERM)
        return self.shell.wait(timeout=60)


def _disposition(pid: int, sig: signal.Signals) -> str:
    """What process `pid` does with `sig` as the kernel has it: `ignored`, `caught` (a
    handler of its own) or `default`, read from its /proc status masks."""
    status = Path(f"/proc/{pid}/status").read_text()
    masks = dict(re.findall(r"^(SigIgn|SigCgt):\s*([0-9a-fA-F]+)$", status, re.MULTILINE))
    bit = 1 << (sig - 1)
    if int(masks["SigIgn"], 16) & bit:
        return "ignored"
    return "caught" if int(masks["SigCgt"], 16) & bit else "default"


#: The processes' signal dispositions are read from /proc (Linux).
needs_proc = pytest.mark.skipif(not Path("/proc/self/status").exists(), reason="reads /proc")


@needs_proc
def test_a_daemon_started_in_the_background_by_a_script_leaves_ctrl_c_ignored(
    queues: Queues, backend: TicketServer, tmp_path: Path
) -> None:
    """`triage run &` in a script (SIGINT ignored at start): a Ctrl-C on the terminal, SIGINT,
    does not stop the daemon (an alert queued after it is still ticketed), SIGTERM does."""
    settings = settings_for(queues, backend.url, tmp_path / "triage.db")
    daemon = _BackgroundJob(["run"], daemon_env(settings), tmp_path / "daemon.log")
    try:
        daemon.until(lambda: "daemon.started" in daemon.events() or not daemon.running())
        assert _disposition(daemon.pid, signal.SIGINT) == "ignored", daemon.log.read_text()
        daemon.signal(signal.SIGINT)
        queues.send({"title": "after the ctrl-c", "dedup_key": "ctrl-c", "source": "cron"})
        daemon.until(lambda: backend.tickets or not daemon.running())
        assert daemon.running(), daemon.log.read_text()
        assert len(backend.tickets) == 1
        assert daemon.stop() == 0
    finally:
        daemon.signal(signal.SIGKILL)
        daemon.shell.wait(timeout=60)


@needs_proc
def test_a_gateway_started_in_the_background_by_a_script_leaves_ctrl_c_ignored(
    queues: Queues, tmp_path: Path
) -> None:
    """`triage ingest &` in a script (SIGINT ignored at start): after SIGINT the gateway still
    takes a webhook (202) and queues it; SIGTERM still stops it cleanly."""
    settings = ingest_settings(queues.url, queues.endpoint)
    gateway = _BackgroundJob(["ingest"], env_for(settings), tmp_path / "ingest.log")
    try:
        gateway.until(lambda: "ingest.listening" in gateway.events() or not gateway.running())
        listening = next(
            e for e in events(gateway.log.read_text()) if e["event"] == "ingest.listening"
        )
        # Its stop signals are handled once it serves (SIGTERM caught): SIGINT is not.
        gateway.until(lambda: _disposition(gateway.pid, signal.SIGTERM) == "caught")
        assert _disposition(gateway.pid, signal.SIGINT) == "ignored", gateway.log.read_text()
        gateway.signal(signal.SIGINT)
        answered = httpx2.post(
            f"http://127.0.0.1:{listening['port']}/v1/alerts/generic",
            content=b'{"title": "after the ctrl-c"}',
            headers=bearer("generic"),
            timeout=30,
        )
        assert answered.status_code == 202, (answered.text, gateway.log.read_text())
        assert gateway.running(), gateway.log.read_text()
        assert gateway.stop() == 0
    finally:
        gateway.signal(signal.SIGKILL)
        gateway.shell.wait(timeout=60)


@needs_proc
def test_a_one_shot_command_started_in_the_background_leaves_ctrl_c_ignored(
    tmp_path: Path,
) -> None:
    """`triage send … &` in a script (SIGINT ignored at start): SIGINT while it waits on SQS
    does not interrupt it (no exit 130): it goes on to SQS's answer, here that the queue does
    not exist (exit 2, a configuration mistake)."""
    body = tmp_path / "alert.json"
    body.write_text('{"title": "x"}', encoding="utf-8")
    with socket.create_server(("127.0.0.1", 0)) as sqs:
        url = f"http://127.0.0.1:{sqs.getsockname()[1]}"
        env = {
            "PATH": "/usr/bin:/bin",
            "PYTHONPATH": str(SRC),
            "HOME": str(tmp_path),
            "AWS_ACCESS_KEY_ID": "x",
            "AWS_SECRET_ACCESS_KEY": "y",
            "AWS_REGION": "us-east-1",
            "AWS_ENDPOINT_URL": url,
        }
        command = _BackgroundJob(
            ["send", "--queue-url", f"{url}/1/q", str(body)], env, tmp_path / "send.log"
        )
        try:
            sqs.settimeout(60)
            connection, _ = sqs.accept()
            with connection:
                _read_request(connection)
                assert _disposition(command.pid, signal.SIGINT) == "ignored"
                command.signal(signal.SIGINT)
                connection.sendall(_sqs_refusal())
                assert command.shell.wait(timeout=60) == 2, command.log.read_text()
        finally:
            command.signal(signal.SIGKILL)
            command.shell.wait(timeout=60)
    assert "no such queue" in command.log.read_text()


def _read_request(connection: socket.socket) -> None:
    """Read one HTTP request (its head and Content-Length body) from `connection`."""
    connection.settimeout(60)
    data = b""
    while b"\r\n\r\n" not in data:
        data += connection.recv(65536) or b""
    head, _, body = data.partition(b"\r\n\r\n")
    length = re.search(rb"(?im)^content-length:\s*(\d+)", head)
    missing = (int(length.group(1)) if length else 0) - len(body)
    while missing > 0:
        chunk = connection.recv(65536)
        assert chunk, "the request ended early"
        missing -= len(chunk)


def _sqs_refusal() -> bytes:
    """SQS's JSON-protocol answer that the queue does not exist: refused for good, no retry."""
    body = json.dumps(
        {"__type": "com.amazonaws.sqs#QueueDoesNotExist", "message": "no such queue"}
    ).encode()
    head = (
        "HTTP/1.1 400 Bad Request\r\nContent-Type: application/x-amz-json-1.0\r\n"
        "x-amzn-query-error: AWS.SimpleQueueService.NonExistentQueue;Sender\r\n"
        f"Content-Length: {len(body)}\r\nConnection: close\r\n\r\n"
    )
    return head.encode() + body


@pytest.fixture
def ctrl_c_ignored() -> Iterator[None]:
    """SIGINT ignored, as a script's background job starts; the disposition before is restored."""
    before = signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, before)


@pytest.fixture
def hangup_default() -> Iterator[None]:
    """SIGHUP at its default, as a program started from a terminal has it."""
    before = signal.signal(signal.SIGHUP, signal.SIG_DFL)
    try:
        yield
    finally:
        signal.signal(signal.SIGHUP, before)


@pytest.mark.usefixtures("ctrl_c_ignored", "hangup_default")
def test_the_stop_signals_leave_out_an_ignored_sigint() -> None:
    """SIGINT ignored at start is no stop signal of the daemon's or the gateway's; SIGTERM
    always is, and SIGHUP not ignored still is."""
    assert stop_signals() == [signal.SIGTERM, signal.SIGHUP]
    assert ingest_service._stop_signals() == [signal.SIGTERM, signal.SIGHUP]


@pytest.mark.usefixtures("ctrl_c_ignored")
def test_sigterm_stays_a_stop_signal_with_sigint_and_sighup_ignored() -> None:
    """`nohup triage run &` in a script ignores both SIGINT and SIGHUP: SIGTERM still stops."""
    before = signal.signal(signal.SIGHUP, signal.SIG_IGN)
    try:
        assert stop_signals() == [signal.SIGTERM]
        assert ingest_service._stop_signals() == [signal.SIGTERM]
    finally:
        signal.signal(signal.SIGHUP, before)


async def _no_work(message: Message, _progress: object) -> list[Outcome]:
    return []


@pytest.mark.usefixtures("ctrl_c_ignored")
async def test_the_daemon_and_gateway_leave_an_ignored_sigint_ignored_while_they_run() -> None:
    """With SIGINT ignored at start, neither the daemon's nor the gateway's handlers take it
    over while they run, nor leave Python's KeyboardInterrupt handler behind once removed."""
    config = SupervisorConfig(wait_s=1, drain=False)
    supervisor = Supervisor(config, MemoryInbox(), _no_work, Metrics(), health=Health())
    gateway = IngestService(Settings(queue_url="http://127.0.0.1:9/000000000000/q"))
    for owner in (supervisor, gateway):
        owner._install_signal_handlers()
        try:
            assert signal.SIGINT not in owner._signals
            assert signal.getsignal(signal.SIGINT) is signal.SIG_IGN
        finally:
            owner._remove_signal_handlers()
        assert signal.getsignal(signal.SIGINT) is signal.SIG_IGN


# --- A rate-limited escalation webhook --------------------------------------------------------

T0 = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)
HOOK_PATH = "/services/T01/B02/Sup3rS3cr3tW3bh00kT0k3n"

ROUTES = """
[[route]]
name = "payments"
match = {{ team = "payments" }}
sinks = ["backend"]
escalate_after_s = 1800
[route.escalate]
slack_webhook_url = "{payments}"

[[route]]
name = "search"
sinks = ["backend"]
escalate_after_s = 1800
[route.escalate]
slack_webhook_url = "{search}"
"""


class _Clock:
    """A monotonic clock moved by hand."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def _escalator(tmp_path: Path, payments: str, search: str, clock: _Clock) -> Escalator:
    """An escalator whose `payments` and `search` routes escalate to those two webhooks; Slack's
    spacing of posts (the wait a rate limit without Retry-After gets) is 5 s."""
    routes = tmp_path / "routes.toml"
    routes.write_text(ROUTES.format(payments=payments, search=search))
    settings = Settings(routes_file=routes, slack_min_interval_s=5)
    return Escalator(settings, load_router(settings), clock=clock)


def _incident(number: int, route: str = "payments") -> Incident:
    return Incident(
        fingerprint=f"{number:032x}",
        state=State.OPEN,
        source="generic",
        title=f"incident {number}",
        opened_at=T0,
        last_event_at=T0,
        occurrences=3,
        route=route,
        escalate_after_s=1800,
    )


_LATER = T0 + timedelta(minutes=31)
_OK = answer(200, body=b"ok")
_RATE_LIMITED_BODY = answer(
    200, {"Content-Type": "application/json"}, b'{"ok": false, "error": "ratelimited"}'
)


@pytest.mark.parametrize(
    ("limited", "wait_s"),
    [
        (answer(429, {"Retry-After": "30"}, b"rate_limited"), 30.0),
        (_RATE_LIMITED_BODY, 5.0),
    ],
    ids=["429-retry-after", "ok-false-ratelimited"],
)
async def test_a_rate_limited_escalation_webhook_is_left_alone_for_its_wait(
    tmp_path: Path, limited: object, wait_s: float
) -> None:
    """After a webhook's rate limit (a 429's Retry-After, else Slack's spacing of posts), the
    next escalations to it are held without a request, with what is left of the wait; once it
    has passed the next one posts."""
    clock = _Clock()
    async with hostile(limited, _OK) as server:  # type: ignore[arg-type]
        hook = f"{server.url}{HOOK_PATH}"
        escalator = _escalator(tmp_path, hook, hook, clock)
        try:
            with pytest.raises(SinkThrottledError) as first:
                await escalator.escalate(_incident(1), _LATER)
            assert first.value.retry_after_s == wait_s
            assert len(server.requests) == 1
            clock.now += 1
            with pytest.raises(SinkThrottledError) as held:
                await escalator.escalate(_incident(2), _LATER)
            assert held.value.retry_after_s == pytest.approx(wait_s - 1)
            assert not held.value.pauses_intake
            assert HOOK_PATH not in str(held.value)
            assert len(server.requests) == 1  # no request while the wait lasts
            clock.now += wait_s
            await escalator.escalate(_incident(2), _LATER)
        finally:
            await escalator.aclose()
        assert len(server.requests) == 2


async def test_a_rate_limited_webhook_holds_no_other_webhooks_escalation(tmp_path: Path) -> None:
    """One webhook's rate limit holds its own escalations only: another route's webhook is
    still posted to at once."""
    clock = _Clock()
    limited = answer(429, {"Retry-After": "30"}, b"rate_limited")
    async with hostile(limited) as busy, hostile(_OK) as calm:
        escalator = _escalator(tmp_path, f"{busy.url}{HOOK_PATH}", f"{calm.url}{HOOK_PATH}", clock)
        try:
            with pytest.raises(SinkThrottledError):
                await escalator.escalate(_incident(1, "payments"), _LATER)
            await escalator.escalate(_incident(2, "search"), _LATER)
        finally:
            await escalator.aclose()
        assert (len(busy.requests), len(calm.requests)) == (1, 1)
