"""triage's benchmark: one command, every figure a ratio of things measured side by side in
this one run, written to bench/RESULTS.md (see bench/README.md for what and how).

    python3 dev.py bench            # the full figures (a few minutes)
    python3 dev.py bench --quick    # a small smoke version (well under a minute)

It starts LocalStack in host mode (SQS), a loopback OpenAI-compatible model with a fixed
latency and a loopback ticket backend, all on 127.0.0.1, and runs `python -m triage run` as a
child process per phase. Everything it starts is stopped, also on Ctrl-C or SIGTERM; every wait
has a deadline. Exit code: 0 every target met, 1 a target missed, 2 the bench could not run.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import random
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from types import FrameType
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))  # the LocalStack harness the tests use

import baseline  # noqa: E402 - bench/ is the script's own directory, first on sys.path
import biggroup as biggroup_phase  # noqa: E402
import hol as hol_phase  # noqa: E402
import ingest as ingest_phase  # noqa: E402
import report  # noqa: E402
import rig  # noqa: E402
import sections  # noqa: E402

from localstack_harness import LocalStack, LocalStackError, LocalStackUnavailable  # noqa: E402


@dataclass(frozen=True)
class Config:
    """Every parameter of a run; all of them are printed in RESULTS.md."""

    mode: str
    llm_latency_s: float = 0.5
    concurrencies: tuple[int, ...] = (8, 32, 64, 128)
    #: Messages per throughput run = concurrency x waves (each wave takes one LLM latency).
    waves: int = 20
    #: The concurrency the speed-up over the sequential loop is taken at (and the latency run).
    reference_concurrency: int = 32
    sequential_messages: int = 20
    sequential_batch: int = 5
    storm_messages: int = 10_000
    storm_incidents: int = 50
    storm_concurrency: int = 32
    #: The grouped storm: a node dies and its pods crash-loop. Alertmanager notifications of
    #: `group_alerts` alerts each (a pod per alert, one alertname and namespace) under a
    #: grouping route: one incident, one ticket, one LLM call.
    group_messages: int = 200
    group_alerts: int = 10
    group_window_s: int = 3
    latency_duration_s: float = 30.0
    #: The latency run's feeder rate, as a share of the capacity measured at the reference
    #: concurrency.
    latency_load: float = 0.5
    profile: bool = True
    profile_rate_hz: int = 250
    #: The throughput run repeated under py-spy (the largest concurrency if not measured).
    profile_concurrency: int = 64
    log_level: str = "warning"


FULL = Config(mode="full")
#: Every phase once, as small as still measures something: the test suite runs it (one
#: concurrency, so one daemon per phase).
QUICK = Config(
    mode="quick",
    concurrencies=(16,),
    reference_concurrency=16,
    waves=2,
    sequential_messages=4,
    storm_messages=100,
    storm_incidents=10,
    storm_concurrency=16,
    group_messages=10,
    latency_duration_s=1.0,
)


@dataclass
class Results:
    """What each phase measured (plain numbers) and what went wrong, for report.py."""

    config: Config
    started_at: datetime
    throughput: dict[int, dict[str, Any]] = field(default_factory=dict)
    sequential: dict[str, Any] = field(default_factory=dict)
    storm: dict[str, Any] = field(default_factory=dict)
    group_storm: dict[str, Any] = field(default_factory=dict)
    latency: dict[str, Any] = field(default_factory=dict)
    #: Profiled repeats of a phase, by label: {"run": figures, "error", "analysis"}.
    profiles: dict[str, dict[str, Any]] = field(default_factory=dict)
    #: The webhook gateway's phase (bench/ingest.py), and why it did not finish if it did not.
    ingest: dict[str, Any] = field(default_factory=dict)
    ingest_error: str | None = None
    #: Start-up CPU and the storm beside the bare SQS client (bench/baseline.py).
    startup: dict[str, Any] | None = None
    startup_error: str | None = None
    peer: dict[str, Any] | None = None
    peer_error: str | None = None
    #: New incidents during a storm, and one message of 1,000 alerts (bench/hol.py, biggroup.py).
    hol: dict[str, Any] | None = None
    hol_error: str | None = None
    biggroup: dict[str, Any] | None = None
    biggroup_error: str | None = None
    errors: list[str] = field(default_factory=list)
    localstack_version: str = "unknown"
    wall_s: float = 0.0


class PhaseError(RuntimeError):
    """A phase could not produce its figure (a deadline passed, the daemon died)."""


class Bench:
    def __init__(
        self, config: Config, endpoint: str, workdir: Path, localstack_pid: int | None = None
    ) -> None:
        self.config = config
        self.localstack_pid = localstack_pid
        self.endpoint = endpoint
        self.workdir = workdir
        self.chat = rig.TimedChat(config.llm_latency_s)
        self.backend = rig.TimedTickets()
        self.results = Results(config, datetime.now().astimezone())

    @contextlib.contextmanager
    def servers(self) -> Iterator[None]:
        self.chat.start()
        try:
            self.backend.start()
            try:
                yield
            finally:
                self.backend.stop()
        finally:
            self.chat.stop()

    def settings(self, queue: rig.Queue, name: str, **overrides: Any) -> Any:
        values: dict[str, Any] = {
            "store_url": f"sqlite:///{self.workdir / (name + '.db')}",
            "log_level": self.config.log_level,
            **overrides,
        }
        return rig.bench_settings(queue, self.chat, self.backend, **values)

    @contextlib.contextmanager
    def daemon(self, settings: Any, name: str) -> Iterator[rig.Daemon]:
        daemon = rig.Daemon(settings, self.workdir / f"{name}.log")
        try:
            yield daemon
        finally:
            daemon.stop()

    def _first_llm_after(self, index: int, daemon: rig.Daemon, timeout_s: float = 60) -> float:
        deadline = time.monotonic() + timeout_s
        if not rig.wait_for(lambda: self.chat.count() > index or not daemon.alive(), deadline):
            raise PhaseError(f"no LLM request within {timeout_s:.0f} s ({daemon.log_path})")
        if not daemon.alive():
            raise PhaseError(
                f"the daemon exited with {daemon.process.returncode}: {daemon.log_path}"
            )
        return self.chat.arrivals_since(index)[0]

    def _drained(self, queue: rig.Queue, daemon: rig.Daemon, timeout_s: float) -> float:
        end = queue.wait_empty(time.monotonic() + timeout_s)
        if end is None:
            raise PhaseError(f"queue not drained within {timeout_s:.0f} s ({daemon.log_path})")
        return end

    # --- Phases ---------------------------------------------------------------------------

    def _profiler(self, daemon: rig.Daemon, name: str, profiled: bool) -> rig.Profiler | None:
        if not profiled:
            return None
        return rig.Profiler(
            daemon.pid, self.workdir / f"{name}.collapsed", self.config.profile_rate_hz
        )

    def _keep_profile(self, label: str, profiler: rig.Profiler, run: dict[str, Any]) -> None:
        entry: dict[str, Any] = {"run": run, "error": profiler.error}
        if profiler.error is None:
            entry["analysis"] = report.analyse_profile(profiler.out)
        self.results.profiles[label] = entry

    def throughput(self, concurrency: int, *, profiled: bool = False) -> None:
        """A queue of new incidents, consumed at `concurrency`: messages per second over the
        window from the first LLM request to the moment the queue is empty (last ack)."""
        name = f"throughput-c{concurrency}" + ("-profiled" if profiled else "")
        count = concurrency * self.config.waves
        queue = rig.make_queue(self.endpoint, name)
        queue.send_all(
            [rig.generic_alert(f"{name}-{i}", f"{name} alert {i}") for i in range(count)]
        )
        llm0, tickets0 = self.chat.count(), self.backend.count()
        settings = self.settings(queue, name, concurrency=concurrency, llm_concurrency=concurrency)
        with self.daemon(settings, name) as daemon:
            first = self._first_llm_after(llm0, daemon)
            meter = rig.CpuMeter(daemon.pid, self.localstack_pid)
            profiler = self._profiler(daemon, name, profiled)
            try:
                deadline = time.monotonic() + 60 + count * self.config.llm_latency_s
                # Every message makes one ticket: wait for the last one in-process first, so the
                # bench does not load the SQS engine it measures by polling its depth meanwhile.
                rig.wait_for(
                    lambda: self.backend.count() >= tickets0 + count or not daemon.alive(),
                    deadline,
                    poll_s=0.01,
                )
                end = self._drained(queue, daemon, max(1.0, deadline - time.monotonic()))
                cpu = meter.stop()
            finally:
                if profiler is not None:
                    profiler.stop()
            warnings = _problems(daemon)
        window = end - first
        measured = {
            "messages": count,
            "window_s": window,
            "rate": count / window,
            "limit": concurrency / self.config.llm_latency_s,
            "llm_calls": self.chat.count() - llm0,
            "tickets": self.backend.count() - tickets0,
            "problems": warnings,
            "cpu": cpu,
        }
        if profiler is None:
            self.results.throughput[concurrency] = measured
        else:
            self._keep_profile(f"throughput at concurrency {concurrency}", profiler, measured)

    def sequential(self) -> None:
        """The baseline: receive up to 5, process each one after the other through the same
        Pipeline, delete; in this process, against the same LocalStack, model and backend."""
        count = self.config.sequential_messages
        queue = rig.make_queue(self.endpoint, "sequential")
        queue.send_all(
            [rig.generic_alert(f"seq-{i}", f"sequential alert {i}") for i in range(count)]
        )
        llm0, tickets0 = self.chat.count(), self.backend.count()
        settings = self.settings(queue, "sequential", sqs_wait_time=1)
        deadline = time.monotonic() + 60 + count * 5 * self.config.llm_latency_s
        done, window = asyncio.run(
            _sequential_loop(settings, count, self.config.sequential_batch, deadline)
        )
        if done < count:
            raise PhaseError(
                f"sequential loop handled {done} of {count} messages before its deadline"
            )
        self.results.sequential = {
            "messages": count,
            "window_s": window,
            "rate": count / window,
            "llm_calls": self.chat.count() - llm0,
            "tickets": self.backend.count() - tickets0,
        }

    def storm(self, *, profiled: bool = False) -> None:
        """10,000 messages over 50 incidents, queued before the daemon starts. Daemon CPU is
        read from /proc at the first LLM request (startup done) and when the queue is empty."""
        cfg = self.config
        name = "storm-profiled" if profiled else "storm"
        measured = self.storm_run(
            name, cfg.storm_messages, cfg.storm_incidents, cfg.storm_concurrency, profiled=profiled
        )
        if "profiler" not in measured:
            self.results.storm = measured
        else:
            self._keep_profile("storm", measured.pop("profiler"), measured)

    def storm_run(
        self, name: str, messages: int, incidents: int, concurrency: int, *, profiled: bool = False
    ) -> dict[str, Any]:
        """One storm on a fresh queue: its figures (and, profiled, the profiler under
        "profiler"). bench/baseline.py's peer phase runs it beside the bare client."""
        queue = rig.make_queue(self.endpoint, name)
        order = [i % incidents for i in range(messages)]
        random.Random(7).shuffle(order)
        bodies = [
            rig.generic_alert(f"{name}-{k}", f"{name} incident {k}", occurrence=i)
            for i, k in enumerate(order)
        ]
        send_s = queue.send_all(bodies)
        llm0, tickets0 = self.chat.count(), self.backend.count()
        settings = self.settings(
            queue,
            name,
            concurrency=concurrency,
            llm_concurrency=concurrency,
        )
        with self.daemon(settings, name) as daemon:
            first = self._first_llm_after(llm0, daemon)
            cpu_start = daemon.cpu_s()
            meter = rig.CpuMeter(daemon.pid, self.localstack_pid)
            profiler = self._profiler(daemon, name, profiled)
            try:
                end = self._drained(queue, daemon, 120 + messages / 20)
                cpu_end = daemon.cpu_s()
                cpu = meter.stop()
                hwm_kib = daemon.status_kib("VmHWM")
                rss_kib = daemon.status_kib("VmRSS")
            finally:
                if profiler is not None:
                    profiler.stop()
            problems = _problems(daemon)
        measured: dict[str, Any] = {
            "messages": messages,
            "incidents": incidents,
            "send_s": send_s,
            "window_s": end - first,
            "rate": messages / (end - first),
            "cpu_startup_s": cpu_start,
            "cpu_s": cpu_end - cpu_start,
            "cpu_per_message_ms": (cpu_end - cpu_start) / messages * 1000,
            "hwm_mib": hwm_kib / 1024,
            "rss_mib": rss_kib / 1024,
            "llm_calls": self.chat.count() - llm0,
            "tickets": self.backend.count() - tickets0,
            "problems": problems,
            "cpu": cpu,
        }
        if profiler is not None:
            measured["profiler"] = profiler
        return measured

    def group_storm(self) -> None:
        """Crash-looping pods under a grouping route (`group_by = ["alertname", "namespace"]`),
        queued while the daemon runs. Daemon CPU is read after a warm-up incident (start-up
        done) and when the queue is empty and the group's ticket is in, so it covers every
        alert's receive, decision (a conditional write of the group's record), hold while the
        group gathers, and ack."""
        cfg = self.config
        alerts = cfg.group_messages * cfg.group_alerts
        queue = rig.make_queue(self.endpoint, "group-storm")
        routes = self.workdir / "group-routes.toml"
        routes.write_text(rig.grouping_routes(cfg.group_window_s))
        llm0, tickets0 = self.chat.count(), self.backend.count()
        settings = self.settings(
            queue,
            "group-storm",
            routes_file=routes,
            concurrency=cfg.storm_concurrency,
            llm_concurrency=cfg.storm_concurrency,
        )
        with self.daemon(settings, "group-storm") as daemon:
            queue.send_all([rig.generic_alert("group-warmup", "group storm warm-up")])
            self._first_llm_after(llm0, daemon)
            self._drained(queue, daemon, 60)
            cpu_start = daemon.cpu_s()
            meter = rig.CpuMeter(daemon.pid, self.localstack_pid)
            notifications = [
                rig.crashloop_notification(range(first, first + cfg.group_alerts))
                for first in range(0, alerts, cfg.group_alerts)
            ]
            started = time.time()
            send_s = queue.send_all(notifications)
            deadline = time.monotonic() + 120 + alerts / 20
            rig.wait_for(
                lambda: self.backend.count() >= tickets0 + 2 or not daemon.alive(),
                deadline,
                poll_s=0.05,
            )
            end = self._drained(queue, daemon, max(1.0, deadline - time.monotonic()))
            cpu_end = daemon.cpu_s()
            cpu = meter.stop()
            problems = _problems(daemon)
        self.results.group_storm = {
            "messages": cfg.group_messages,
            "alerts": alerts,
            "send_s": send_s,
            "window_s": end - started,
            "cpu_s": cpu_end - cpu_start,
            "cpu_per_alert_ms": (cpu_end - cpu_start) / alerts * 1000,
            # The warm-up incident made one call and one ticket of its own.
            "llm_calls": self.chat.count() - llm0 - 1,
            "tickets": self.backend.count() - tickets0 - 1,
            "problems": problems,
            "cpu": cpu,
        }

    def latency(self) -> None:
        """New incidents sent one by one at a fixed rate (half the measured capacity): the
        time from the send (SentTimestamp) to the daemon's `message.acked` log line."""
        cfg = self.config
        ref = self.results.throughput.get(cfg.reference_concurrency)
        capacity = ref["rate"] if ref else cfg.reference_concurrency / cfg.llm_latency_s
        rate = capacity * cfg.latency_load
        count = max(1, round(rate * cfg.latency_duration_s))
        queue = rig.make_queue(self.endpoint, "latency")
        offsets = _sent_timestamp_offsets(rig.make_queue(self.endpoint, "calibration"))
        llm0 = self.chat.count()
        settings = self.settings(
            queue,
            "latency",
            concurrency=cfg.reference_concurrency,
            llm_concurrency=cfg.reference_concurrency,
            # message.acked, the ack's time, is an info event; at half capacity its cost is small.
            log_level="info",
        )
        with self.daemon(settings, "latency") as daemon:
            # Warm-up: one message through, so startup and first connections are not measured.
            queue.send_all([rig.generic_alert("latency-warmup", "latency warm-up")])
            self._first_llm_after(llm0, daemon)
            self._drained(queue, daemon, 60)
            tickets0 = self.backend.count()
            sent, lateness = _feed(queue, count, rate)
            self._drained(queue, daemon, 60 + cfg.latency_duration_s)
            daemon.stop()
            acked = {
                e["message_id"]: datetime.fromisoformat(e["timestamp"]).timestamp()
                for e in daemon.log_events()
                if e.get("event") == "message.acked" and "message_id" in e
            }
            problems = _problems(daemon)
        to_ack = [(acked[mid] - t) * 1000 for mid, (t, _) in sent.items() if mid in acked]
        seq_sent = {seq: t for t, seq in sent.values()}
        to_ticket = []
        for at, title in self.backend.created_since(tickets0):
            match = re.search(r"latency alert (\d+)", title)
            if match and int(match[1]) in seq_sent:
                to_ticket.append((at - seq_sent[int(match[1])]) * 1000)
        if len(to_ack) < count:
            raise PhaseError(f"only {len(to_ack)} of {count} messages have a message.acked line")
        self.results.latency = {
            "capacity": capacity,
            "rate": rate,
            "messages": count,
            "duration_s": cfg.latency_duration_s,
            "send_lateness_p99_ms": rig.percentile(lateness, 99) * 1000,
            "p50_ms": rig.percentile(to_ack, 50),
            "p99_ms": rig.percentile(to_ack, 99),
            "max_ms": max(to_ack),
            "ticket_p50_ms": rig.percentile(to_ticket, 50) if to_ticket else None,
            "ticket_p99_ms": rig.percentile(to_ticket, 99) if to_ticket else None,
            "offset_ms": offsets,
            "problems": problems,
        }

    def ingest(self) -> None:
        """`triage ingest` against LocalStack at concurrency 64 and at half its capacity, beside
        a bare aiobotocore SendMessage loop (bench/ingest.py)."""
        cfg = ingest_phase.QUICK if self.config.mode == "quick" else ingest_phase.FULL
        try:
            self.results.ingest = ingest_phase.measure(
                cfg, self.endpoint, self.workdir, self.localstack_pid
            )
        except (RuntimeError, OSError, ValueError) as exc:
            self.results.ingest_error = str(exc)
            raise PhaseError(str(exc)) from None

    @property
    def baseline_config(self) -> baseline.BaselineConfig:
        return baseline.QUICK if self.config.mode == "quick" else baseline.FULL

    def startup(self) -> None:
        """The daemon's CPU from its start to its first ReceiveMessage (bench/baseline.py)."""
        try:
            self.results.startup = baseline.startup(self, self.baseline_config)
        except (RuntimeError, OSError) as exc:
            self.results.startup_error = str(exc)
            raise PhaseError(str(exc)) from None

    def peer(self) -> None:
        """Storms beside a bare aiobotocore receive-and-delete loop (bench/baseline.py)."""
        try:
            self.results.peer = baseline.peer(self, self.baseline_config)
        except (RuntimeError, OSError, PhaseError) as exc:
            self.results.peer_error = str(exc)
            raise PhaseError(str(exc)) from None

    def hol(self) -> None:
        """New incidents at 10/s while a storm of repeats flows (bench/hol.py)."""
        cfg = hol_phase.QUICK if self.config.mode == "quick" else hol_phase.FULL
        try:
            self.results.hol = hol_phase.measure(self, cfg)
        except (RuntimeError, OSError) as exc:
            self.results.hol_error = str(exc)
            raise PhaseError(str(exc)) from None

    def biggroup(self) -> None:
        """One Alertmanager message of 1,000 new alerts, ungrouped and grouped (bench/biggroup.py)."""
        cfg = biggroup_phase.QUICK if self.config.mode == "quick" else biggroup_phase.FULL
        try:
            self.results.biggroup = biggroup_phase.measure(self, cfg)
        except (RuntimeError, OSError) as exc:
            self.results.biggroup_error = str(exc)
            raise PhaseError(str(exc)) from None

    def run(self, only: set[str] | None = None) -> None:
        cfg = self.config
        phases: list[tuple[str, Any]] = [
            ("startup", self.startup),
            *((f"throughput c={c}", lambda c=c: self.throughput(c)) for c in cfg.concurrencies),
            ("sequential baseline", self.sequential),
            ("storm", self.storm),
            ("group storm", self.group_storm),
            ("peer (bare SQS client beside storms)", self.peer),
        ]
        if cfg.profile:
            phases.append(("storm (profiled)", lambda: self.storm(profiled=True)))
            top = (
                cfg.profile_concurrency
                if cfg.profile_concurrency in cfg.concurrencies
                else max(cfg.concurrencies)
            )
            phases.append(
                (f"throughput c={top} (profiled)", lambda: self.throughput(top, profiled=True))
            )
        phases.append(("latency", self.latency))
        phases.append(("ingest gateway", self.ingest))
        phases.append(("hol (new incidents during a storm)", self.hol))
        phases.append(("biggroup (one message of 1,000 alerts)", self.biggroup))
        for label, phase in phases:
            if only and label.split()[0] not in only:
                continue
            started = time.monotonic()
            _say(f"{label} ...")
            try:
                phase()
            except PhaseError as exc:
                self.results.errors.append(f"{label}: {exc}")
                _say(f"{label}: FAILED: {exc}")
                continue
            _say(f"{label}: done in {time.monotonic() - started:.1f} s")


async def _sequential_loop(
    settings: Any, count: int, batch: int, deadline: float
) -> tuple[int, float]:
    from triage.app import build_sinks, hold_credentials, open_configured_store, pipeline_from
    from triage.aws import Aws
    from triage.metrics import Metrics
    from triage.redact import Redactor
    from triage.sqs.inbox import SqsInbox
    from triage.summarise import build_summariser

    metrics = Metrics()
    aws = Aws(settings)
    store = await open_configured_store(settings, aws)
    sinks = await build_sinks(settings, aws, metrics, budgets=store)
    hold_credentials(settings)
    redactor = Redactor()
    summariser = build_summariser(settings, metrics, redactor)
    try:
        pipeline = pipeline_from(settings, store, summariser, sinks, metrics, redactor)
        inbox = SqsInbox(await aws.client("sqs"), settings.queue_url)
        done = 0
        started = time.monotonic()
        while done < count and time.monotonic() < deadline:
            messages = await inbox.receive(batch, 1, settings.visibility_timeout_s)
            for message in messages:
                await pipeline.process(message)
            await inbox.delete(messages)
            done += len(messages)
        return done, time.monotonic() - started
    finally:
        await summariser.aclose()
        for sink in reversed(sinks):
            await sink.aclose()
        await store.aclose()
        await aws.aclose()


def _feed(
    queue: rig.Queue, count: int, rate: float
) -> tuple[dict[str, tuple[float, int]], list[float]]:
    """Send `count` new incidents at `rate` per second on a fixed schedule (open loop, a few
    sender threads). Returns MessageId -> (time the send call began, sequence number) and how
    late each send started against its schedule."""
    sent: dict[str, tuple[float, int]] = {}
    lateness: list[float] = []
    lock = threading.Lock()
    local = threading.local()
    start = time.monotonic() + 0.2

    def send(seq: int) -> None:
        if not hasattr(local, "sqs"):
            local.sqs = queue.client()
        slot = start + seq / rate
        delay = slot - time.monotonic()
        if delay > 0:
            time.sleep(delay)
        began_wall, began = time.time(), time.monotonic()
        body = rig.generic_alert(f"latency-{seq}", f"latency alert {seq}")
        message_id = local.sqs.send_message(QueueUrl=queue.url, MessageBody=body)["MessageId"]
        with lock:
            sent[message_id] = (began_wall, seq)
            lateness.append(max(0.0, began - slot))

    # Threads take sequence numbers in order, so a slow send never delays the next slot.
    with ThreadPoolExecutor(max_workers=8) as pool:
        list(pool.map(send, range(count)))
    return sent, lateness


def _sent_timestamp_offsets(queue: rig.Queue, samples: int = 20) -> dict[str, float]:
    """Where SQS's SentTimestamp falls relative to the bench's clock at the start of the send
    call: the latency figures start at the send call, so they are high by about this much."""
    sqs = queue.client()
    began: dict[str, float] = {}
    for i in range(samples):
        t = time.time()
        began[sqs.send_message(QueueUrl=queue.url, MessageBody=f"calibration {i}")["MessageId"]] = t
    offsets: list[float] = []
    deadline = time.monotonic() + 20
    while len(offsets) < samples and time.monotonic() < deadline:
        response = sqs.receive_message(
            QueueUrl=queue.url,
            MaxNumberOfMessages=10,
            WaitTimeSeconds=1,
            MessageSystemAttributeNames=["SentTimestamp"],
        )
        for m in response.get("Messages", []):
            offsets.append(int(m["Attributes"]["SentTimestamp"]) - began[m["MessageId"]] * 1000)
            sqs.delete_message(QueueUrl=queue.url, ReceiptHandle=m["ReceiptHandle"])
    if not offsets:
        return {}
    return {"min": min(offsets), "p50": rig.percentile(offsets, 50), "max": max(offsets)}


def _problems(daemon: rig.Daemon) -> dict[str, int]:
    """Warning and error events of the daemon's log, counted by event name."""
    counts: dict[str, int] = {}
    for event in daemon.log_events():
        if event.get("level") in {"warning", "error", "critical"}:
            name = str(event.get("event"))
            counts[name] = counts.get(name, 0) + 1
    return counts


#: The names `--only` takes: each phase's label's first word (Bench.run).
PHASES = {
    "startup",
    "throughput",
    "sequential",
    "storm",
    "group",
    "peer",
    "latency",
    "ingest",
    "hol",
    "biggroup",
}
#: Phases whose figures have a section of their own, rewritten alone by `--only`.
SECTIONED = {"ingest", "startup", "peer", "hol", "biggroup"}
EARLIER = "## Earlier figures"


def _keep_earlier(previous: str, text: str) -> str:
    """`text` with the previous file's "Earlier figures" section (hand-kept history of what
    each change bought) carried over, before "Machine and versions"."""
    found = sections.span(previous, EARLIER)
    if found is None:
        return text
    return sections.replace(text, EARLIER, previous[found[0] : found[1]].split("\n"))


def _provenance(args: argparse.Namespace, localstack: str) -> str:
    """Where a section's figures come from (it may be newer than the rest)."""
    flags = " --quick" if args.quick else ""
    flags += f" --only {args.only}" if args.only else ""
    commit = subprocess.run(
        ["git", "rev-parse", "--short", "HEAD"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    ).stdout.strip()
    load = " / ".join(f"{x:.2f}" for x in os.getloadavg())
    return (
        f"Measured by `python3 dev.py bench{flags}` on {datetime.now().astimezone():%Y-%m-%d %H:%M %Z} "
        f"(commit {commit or 'unknown'}; LocalStack {localstack}; {os.cpu_count()} cores, load average "
        f"{load} at the end)."
    )


def _say(text: str) -> None:
    print(f"bench: {text}", file=sys.stderr, flush=True)


def _raise_interrupt(signum: int, frame: FrameType | None) -> None:
    """SIGTERM cleans up like Ctrl-C, once: the signals after it are ignored, since a
    KeyboardInterrupt raised inside the cleanup (a supervisor repeating its SIGTERM) would stop
    it halfway, leaving daemons that live in sessions of their own running."""
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    raise KeyboardInterrupt


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="a small smoke version (<1 min)")
    parser.add_argument(
        "--output",
        type=Path,
        help="where to write the results (default bench/RESULTS.md; "
        "--quick: bench/RESULTS-quick.md)",
    )
    parser.add_argument("--endpoint", help="use this running LocalStack instead of starting one")
    parser.add_argument("--no-profile", action="store_true", help="skip the profiled storm")
    parser.add_argument(
        "--only",
        help="comma list of phases to run (startup, throughput, sequential, storm, group, "
        "peer, latency, ingest, hol, biggroup); the others are reported as not measured. Only "
        "ingest, startup, peer, hol and biggroup (any of them) rewrite only their own sections "
        "of the results file and keep every other figure",
    )
    parser.add_argument(
        "--keep", action="store_true", help="keep the work directory (logs, profile)"
    )
    args = parser.parse_args(argv)
    unknown = sorted(set(args.only.split(",")) - PHASES) if args.only else []
    if unknown:
        # A misspelt phase ran nothing and reported every figure as not measured.
        parser.error(
            f"--only: no phase named {', '.join(unknown)} (phases: {', '.join(sorted(PHASES))})"
        )
    config = QUICK if args.quick else FULL
    if args.no_profile:
        config = Config(**{**config.__dict__, "profile": False})
    output = args.output or ROOT / "bench" / ("RESULTS-quick.md" if args.quick else "RESULTS.md")
    signal.signal(signal.SIGTERM, _raise_interrupt)
    os.environ.update(rig.AWS_ENV)  # the in-process sequential loop's AWS clients
    os.environ["BACKEND_TOKEN"] = rig.TOKEN
    from triage.logs import configure_logging

    configure_logging("json", "warning")
    workdir = Path(tempfile.mkdtemp(prefix="triage-bench-"))
    started = time.monotonic()
    try:
        with contextlib.ExitStack() as stack:
            endpoint = args.endpoint
            localstack_pid = None
            if endpoint is None:
                _say("starting LocalStack (host mode) ...")
                # SQS only: with CloudWatch enabled too, LocalStack publishes SQS metrics through
                # itself (a PutMetricData HTTP call per message sent, received and deleted): its
                # CPU per message at concurrency 64 was 10.2 ms with them, 1.4 ms without, on
                # the same two cores as the daemon.
                localstack = stack.enter_context(
                    LocalStack(
                        workdir / "localstack",
                        services=("sqs",),
                        extra_env=rig.localstack_gc_env(workdir),
                    )
                )
                endpoint = localstack.endpoint
                process = localstack._proc  # its CPU is part of the picture
                localstack_pid = process.pid if process is not None else None
            bench = Bench(config, endpoint, workdir, localstack_pid)
            bench.results.localstack_version = report.localstack_version(endpoint)
            with bench.servers():
                bench.run(set(args.only.split(",")) if args.only else None)
        bench.results.wall_s = time.monotonic() - started
        only = set(args.only.split(",")) if args.only else None
        provenance = _provenance(args, bench.results.localstack_version)
        lines, ingest_ok = ingest_phase.section(
            bench.results.ingest or None,
            bench.results.ingest_error,
            provenance + " How: [bench/README.md](README.md#ingest-gateway).",
        )
        base_lines, base_ok = baseline.section(
            bench.baseline_config,
            bench.results.startup,
            bench.results.startup_error,
            bench.results.peer,
            bench.results.peer_error,
            provenance + " How: [bench/README.md](README.md#start-up-and-the-bare-sqs-client).",
        )
        hol_lines, hol_ok = hol_phase.section(
            bench.results.hol,
            bench.results.hol_error,
            provenance + " How: [bench/README.md](README.md#head-of-line-blocking-in-a-storm).",
        )
        big_lines, big_ok = biggroup_phase.section(
            bench.results.biggroup,
            bench.results.biggroup_error,
            provenance + " How: [bench/README.md](README.md#one-message-of-a-big-group).",
        )
        previous = output.read_text() if output.exists() else "# triage benchmark results\n"
        if only is not None and only <= SECTIONED:
            # Only sectioned phases ran: their sections replace the old ones, every other
            # figure stays.
            text, all_pass = previous, True
            if "ingest" in only:
                text, all_pass = ingest_phase.splice(text, lines), ingest_ok
            if only & {"startup", "peer"}:
                text = baseline.splice(text, base_lines)
                all_pass = all_pass and base_ok
            if "hol" in only:
                text = hol_phase.splice(text, hol_lines)
                all_pass = all_pass and hol_ok
            if "biggroup" in only:
                text = biggroup_phase.splice(text, big_lines)
                all_pass = all_pass and big_ok
        else:
            text, all_pass = report.render(bench.results)
            text = ingest_phase.splice(text, lines)
            text = baseline.splice(text, base_lines)
            text = _keep_earlier(previous, text)
            all_pass = all_pass and (ingest_ok or (only is not None and "ingest" not in only))
            skipped_base = only is not None and not only & {"startup", "peer"}
            all_pass = all_pass and (base_ok or skipped_base)
            text = hol_phase.splice(text, hol_lines)
            text = biggroup_phase.splice(text, big_lines)
            all_pass = all_pass and (hol_ok or (only is not None and "hol" not in only))
            all_pass = all_pass and (big_ok or (only is not None and "biggroup" not in only))
        output.write_text(text)
        _say(
            f"wrote {output} in {bench.results.wall_s:.0f} s ({'all targets met' if all_pass else 'a target was missed'})"
        )
        return 0 if all_pass else 1
    except (LocalStackUnavailable, LocalStackError) as exc:
        _say(f"cannot start LocalStack: {exc}")
        return 2
    except KeyboardInterrupt:
        _say("interrupted; everything it started is stopped")
        return 130
    finally:
        if args.keep:
            _say(f"logs kept in {workdir}")
        else:
            shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
