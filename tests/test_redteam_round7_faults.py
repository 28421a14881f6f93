"""Red team, round 7: faults. Each xfail is a bug a user would hit, proved at the fastest level
that shows it; it fails today for the reason it names and passes once the bug is fixed.

- `triage dlq redrive` run on a host whose clock is behind SQS's (a laptop or WSL2 after a
  sleep, a container without NTP): it compares each letter's SentTimestamp (SQS's clock) with
  its own start (the host's clock).
- `triage dlq redrive` ends at the first empty short poll of the DLQ, which SQS may answer
  for a small queue that still holds letters (its short polls sample a subset of servers).
- Two gateway replicas whose clocks disagree: the daemon believes a gateway's `received_at`
  stamp however far it lies before SQS's SentTimestamp, so a resolve posted through a replica
  whose clock is behind ranks older than the firing it answers.
- A gateway whose clock runs a few milliseconds ahead of SQS's: its stamps are dropped for
  SentTimestamp, which one SendMessageBatch gives every alert of a batch alike, so a batch's
  firing and then resolve of one alert leave the incident open.
- A receive backoff (`TRIAGE_RECEIVE_RETRY_MAX_S`) longer than the intake beat's promise (the
  long poll plus 45 s): during an SQS outage /healthz says intake is stalled, and the
  container's health check restarts a daemon that is only waiting as told.
- `nohup triage run &`: the daemon installs its own SIGHUP handler over the ignored one it
  inherited, so the terminal closing stops it.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from daemon_harness import Queues, daemon_env, events, run_in_process, settings_for
from factories import T0
from fault_proxy import FaultProxy
from memory_inbox import MemoryInbox
from memory_store import MemoryStore
from recording_pipeline import POLICY, Sink, Summariser
from test_dlq import GOOD, Dlq, bodies, fill_dlq
from test_dlq import dlq as dlq  # the in-process `triage dlq` fixture
from triage.demo.ticketd import TicketServer
from triage.errors import InboxError
from triage.health import Health
from triage.incidents.ledger import Ledger
from triage.incidents.lifecycle import Outcome
from triage.ingest.messages import Stamps, messages_for, request_stamp
from triage.ingest.validate import check
from triage.metrics import Metrics
from triage.ops import dlq as dlq_ops
from triage.pipeline import Pipeline
from triage.redact import Redactor
from triage.sqs.inbox import RECEIVED_AT_ATTRIBUTE, Message
from triage.sqs.supervisor import Supervisor, SupervisorConfig

#: How far behind SQS's clock the operator's host runs.
SKEW = timedelta(minutes=10)


class _LaggingClock(datetime):
    """`datetime` whose now() runs SKEW behind the real clock (as a host behind SQS's does)."""

    @classmethod
    def now(cls, tz: object = None) -> datetime:  # type: ignore[override]
        return datetime.now(UTC) - SKEW


# --- The DLQ's redrive on a host whose clock is behind SQS's ----------------------------------


def test_redrive_moves_dead_letters_when_the_host_clock_is_behind_sqs(
    queues: Queues, dlq: Dlq, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A redrive on a host ten minutes behind SQS still moves letters that died before it ran,
    rather than leaving them in the DLQ as if they had died during the run."""
    fill_dlq(queues, GOOD, GOOD)
    monkeypatch.setattr(dlq_ops, "datetime", _LaggingClock)
    result = dlq("redrive")
    assert result.returncode == 0, result.stderr
    assert "dead since it started" not in result.stderr
    assert bodies(queues, queues.url) == [GOOD, GOOD]
    assert bodies(queues, queues.dlq_url) == []


class ShortPollingProxy(FaultProxy):
    """A proxy in front of moto whose first ReceiveMessage of the queue named `sampled_queue`
    is answered empty without asking moto: what SQS's short poll (WaitTimeSeconds 0) may
    answer a small queue when the servers it sampled hold none of its messages."""

    def __init__(self, upstream: str, sampled_queue: str) -> None:
        super().__init__(upstream)
        self.sampled_queue = sampled_queue
        self.empty_answers_left = 1

    def _exchange(
        self, method: str, path: str, headers: dict[str, str], body: bytes
    ) -> tuple[int, list[tuple[str, str]], bytes]:
        if headers.get("x-amz-target") == "AmazonSQS.ReceiveMessage":
            asked = json.loads(body)
            with self._lock:
                sampled = self.empty_answers_left > 0 and str(asked.get("QueueUrl", "")).endswith(
                    self.sampled_queue
                )
                if sampled and asked.get("WaitTimeSeconds", 0) == 0:
                    self.empty_answers_left -= 1
                    return 200, [("Content-Type", "application/x-amz-json-1.0")], b"{}"
        return super()._exchange(method, path, headers, body)


def test_redrive_moves_every_letter_though_a_short_poll_answers_empty(
    queues: Queues,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """A DLQ of three letters whose first short poll comes back empty (SQS's documented
    behaviour for a small queue) is still redriven whole: no letter stays dead while the run
    says it is done."""
    fill_dlq(queues, GOOD, GOOD, GOOD)
    dlq_name = queues.dlq_url.rsplit("/", 1)[-1]
    with ShortPollingProxy(queues.endpoint, dlq_name) as proxy:
        settings = settings_for(
            queues,
            "http://127.0.0.1:9",
            tmp_path / "t.db",
            queue_url=proxy.queue_url(queues.url),
            aws_endpoint_url=proxy.url,
        )
        result = run_in_process(monkeypatch, capsys, "dlq", "redrive", env=daemon_env(settings))
    assert result.returncode == 0, result.stderr
    assert bodies(queues, queues.url) == [GOOD, GOOD, GOOD], result.stderr
    assert bodies(queues, queues.dlq_url) == []


# --- Gateway replicas whose clocks disagree -----------------------------------------------------


async def _through_gateway(
    payload: dict[str, Any], arrived: datetime, gateway_clock_off: timedelta, n: int
) -> Message:
    """The message a gateway replica queues for `payload`, posted at `arrived`: stamped by
    that replica's own clock (`gateway_clock_off` from the true time), sent to SQS at once
    (SentTimestamp `arrived`, SQS's clock)."""
    checked = check("generic", json.dumps(payload).encode(), None, lambda text: text)
    stamp = request_stamp(arrived + gateway_clock_off, checked, Stamps())
    [queued] = await messages_for(checked, {RECEIVED_AT_ATTRIBUTE: stamp}, 256 * 1024)
    return Message(
        f"m-{n}",
        queued.body,
        f"r-{n}",
        1,
        arrived,
        received_at=arrived,
        attributes=queued.attributes,
    )


async def test_a_resolve_through_a_gateway_replica_behind_closes_its_ticket() -> None:
    """A script's alert (no time of its own) fires through one gateway replica and resolves
    30 s later through another whose clock is five minutes behind: SQS queued the resolve
    after the firing, and the resolve closes the ticket the firing opened."""
    sink = Sink()
    pipeline = Pipeline(
        Ledger(MemoryStore(POLICY)),
        Summariser(),
        [sink],
        Metrics(),
        redactor=Redactor(),
        policy=POLICY,
    )
    alert = {"title": "Backup of orders failed", "dedup_key": "backup-db"}
    firing = await _through_gateway(alert, T0, timedelta(0), 1)
    resolve = await _through_gateway(
        alert | {"status": "resolved"}, T0 + timedelta(seconds=30), -timedelta(minutes=5), 2
    )
    actions = [[str(o.action) for o in await pipeline.process(m)] for m in (firing, resolve)]
    assert actions == [["open"], ["close"]]


async def _batch_through_gateway(
    alerts: list[dict[str, Any]], arrived: datetime, gateway_clock_off: timedelta
) -> list[Message]:
    """The messages a gateway queues for the NDJSON batch `alerts` posted at `arrived`,
    stamped by its own clock (`gateway_clock_off` from the true time) and sent in one
    SendMessageBatch that SQS received a millisecond later (one SentTimestamp for all)."""
    body = "".join(json.dumps(alert) + "\n" for alert in alerts)
    checked = check("generic", body.encode(), None, lambda text: text)
    stamp = request_stamp(arrived + gateway_clock_off, checked, Stamps())
    queued = await messages_for(checked, {RECEIVED_AT_ATTRIBUTE: stamp}, 256 * 1024)
    sent = arrived + timedelta(milliseconds=1)
    return [
        Message(f"b-{n}", m.body, f"rb-{n}", 1, sent, received_at=sent, attributes=m.attributes)
        for n, m in enumerate(queued)
    ]


async def test_a_batch_firing_then_resolve_closes_when_the_gateway_clock_is_a_little_ahead() -> (
    None
):
    """A batch of one alert's firing then its resolve, posted to a gateway whose clock is 5 ms
    ahead of SQS's (within what NTP leaves between hosts), ends with the incident closed, as
    the README promises for a batch: the stamps keep its order."""
    sink = Sink()
    pipeline = Pipeline(
        Ledger(MemoryStore(POLICY)),
        Summariser(),
        [sink],
        Metrics(),
        redactor=Redactor(),
        policy=POLICY,
    )
    alert = {"title": "Backup of orders failed", "dedup_key": "backup-db"}
    batch = await _batch_through_gateway(
        [alert, alert | {"status": "resolved"}], T0, timedelta(milliseconds=5)
    )
    actions = [[str(o.action) for o in await pipeline.process(m)] for m in batch]
    assert actions == [["open"], ["close"]]


# --- /healthz while the receive loop backs off --------------------------------------------------


class _HandClock:
    """A monotonic clock moved by hand, for the health's beats."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


class _DownInbox(MemoryInbox):
    """A queue whose every receive fails, as in an SQS outage; counts the receives."""

    receives = 0

    async def receive(self, max_messages: int, wait_s: int, visibility_s: int) -> list[Message]:
        self.receives += 1
        raise InboxError("receive failed: ServiceUnavailable")


async def _no_work(message: Message, _progress: object) -> list[Outcome]:
    return []


async def _until_async(condition: Callable[[], object], deadline_s: float = 5.0) -> None:
    """Turn the loop until `condition()` holds; TimeoutError past `deadline_s`."""
    async with asyncio.timeout(deadline_s):
        while not condition():
            await asyncio.sleep(0.005)


async def test_a_long_receive_backoff_in_an_outage_is_not_a_stalled_intake(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """SQS down and TRIAGE_RECEIVE_RETRY_MAX_S at 300 s (a gentler backoff an operator may
    choose): while the loop waits between failed receives, as configured, /healthz does not
    call intake stalled once the beat's promise (the long poll plus 45 s) has passed."""
    monkeypatch.setattr(Supervisor, "TURN_S", 0.01)
    inbox, clock = _DownInbox(), _HandClock()
    health = Health(clock=clock)
    settings = SupervisorConfig(
        wait_s=20, drain=False, receive_retry_base_s=300.0, receive_retry_max_s=300.0
    )
    supervisor = Supervisor(settings, inbox, _no_work, Metrics(), health=health)
    serving = asyncio.create_task(supervisor.serve())
    try:
        await _until_async(lambda: inbox.receives == 1 and "queue" in health.failing())
        clock.now += 20 + Supervisor.BEAT_SLACK_S + 1
        with contextlib.suppress(TimeoutError):
            await _until_async(lambda: not health.stalled(), deadline_s=2.0)
        assert health.stalled() == []
        assert inbox.receives == 1  # still in its backoff, as configured
    finally:
        supervisor.handle_exit(signal.SIGTERM)
        await serving


# --- SIGHUP under nohup -------------------------------------------------------------------------


def _until(condition: Callable[[], object], log: Path, timeout_s: float) -> None:
    """Wait until `condition()` holds, failing with the daemon's log if `timeout_s` passes."""
    deadline = time.monotonic() + timeout_s
    while not condition():
        assert time.monotonic() < deadline, log.read_text()
        time.sleep(0.05)


@pytest.mark.skipif(shutil.which("nohup") is None, reason="needs nohup")
def test_a_daemon_started_with_nohup_survives_its_terminal_closing(
    queues: Queues, backend: TicketServer, tmp_path: Path
) -> None:
    """`nohup triage run &` keeps running when the terminal closes (SIGHUP, which nohup
    ignores): an alert queued after the hangup is still ticketed by the same process."""
    settings = settings_for(queues, backend.url, tmp_path / "triage.db")
    log = tmp_path / "daemon.log"
    with log.open("w") as stderr:
        process = subprocess.Popen(
            ["nohup", sys.executable, "-m", "triage", "run"],
            env=daemon_env(settings),
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=stderr,
        )
    try:

        def started() -> bool:
            return "daemon.started" in [e["event"] for e in events(log.read_text())]

        _until(started, log, 60)
        process.send_signal(signal.SIGHUP)
        queues.send({"title": "after the hangup", "dedup_key": "hangup", "source": "cron"})
        _until(lambda: backend.tickets or process.poll() is not None, log, 60)
        assert process.poll() is None, log.read_text()
        assert len(backend.tickets) == 1
    finally:
        process.terminate()
        process.wait(timeout=60)
