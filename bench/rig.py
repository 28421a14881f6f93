"""The bench's rig: the loopback model and ticket backend (with arrival times), queues on
LocalStack, the daemon as a child process with its CPU and memory read from /proc, and py-spy.

Everything listens on 127.0.0.1, and every start has a matching stop that `run.py` calls from a
`finally`, so Ctrl-C leaves nothing behind.
"""

from __future__ import annotations

import contextlib
import gc
import json
import os
import resource
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import boto3  # type: ignore[import-untyped]  # no stubs installed (types-boto3)

from triage.demo.model import ChatServer, Reply, default_model
from triage.demo.ticketd import TicketServer
from triage.settings import Settings, env_name

ROOT = Path(__file__).resolve().parents[1]
TOKEN = "bench-token"
REGION = "us-east-1"
#: Fake credentials: the only endpoint anything talks to is the LocalStack on 127.0.0.1.
AWS_ENV = {
    "AWS_ACCESS_KEY_ID": "test",
    "AWS_SECRET_ACCESS_KEY": "test",
    "AWS_REGION": REGION,
    "AWS_DEFAULT_REGION": REGION,
    "AWS_EC2_METADATA_DISABLED": "true",
    "AWS_CONFIG_FILE": os.devnull,
    "AWS_SHARED_CREDENTIALS_FILE": os.devnull,
}
_CLK_TCK = os.sysconf("SC_CLK_TCK")


class TimedChat:
    """The loopback OpenAI-compatible model with a fixed latency; remembers when each request
    arrived (bench clock, `time.time()`)."""

    def __init__(self, latency_s: float) -> None:
        self.server = ChatServer()
        self.latency_s = latency_s
        self._lock = threading.Lock()
        self.arrivals: list[float] = []
        self.server.responder = self._respond
        # The stub listens with socketserver's backlog of 5; 64 workers opening their first
        # connection at once would see SYNs dropped and a 1 s retransmit. A real server's
        # backlog is far larger, so give the stub one too.
        self.server._httpd.socket.listen(512)

    def _respond(self, request: dict[str, Any]) -> Reply:
        with self._lock:
            self.arrivals.append(time.time())
        reply = default_model(request)
        return Reply(reply.status, reply.body, reply.headers, self.latency_s)

    @property
    def url(self) -> str:
        return self.server.url

    def count(self) -> int:
        with self._lock:
            return len(self.arrivals)

    def arrivals_since(self, index: int) -> list[float]:
        with self._lock:
            return self.arrivals[index:]

    def start(self) -> None:
        self.server.start()

    def stop(self) -> None:
        self.server.stop()


class TimedTickets(TicketServer):
    """The loopback ticket backend; remembers when each ticket was created, by title."""

    def __init__(self) -> None:
        super().__init__(token=TOKEN)
        self._httpd.socket.listen(512)  # see TimedChat
        self.created: list[tuple[float, str]] = []

    def _create(
        self, body: dict[str, Any], headers: dict[str, str], key: str | None
    ) -> tuple[int, Any]:
        status, payload = super()._create(body, headers, key)
        if status == 201:
            with self._lock:
                self.created.append((time.time(), str(body.get("title", ""))))
        return status, payload

    def created_since(self, index: int) -> list[tuple[float, str]]:
        with self._lock:
            return self.created[index:]

    def count(self) -> int:
        with self._lock:
            return len(self.created)


# --- Queues -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Queue:
    endpoint: str
    url: str

    def client(self) -> Any:
        return sqs_client(self.endpoint)

    def depth(self, client: Any | None = None) -> int:
        attrs = (client or self.client()).get_queue_attributes(
            QueueUrl=self.url,
            AttributeNames=[
                "ApproximateNumberOfMessages",
                "ApproximateNumberOfMessagesNotVisible",
                "ApproximateNumberOfMessagesDelayed",
            ],
        )["Attributes"]
        return sum(int(v) for v in attrs.values())

    def send_all(self, bodies: list[str], threads: int = 4) -> float:
        """Send `bodies` in batches of 10 on a few threads; return the seconds it took."""
        batches = [bodies[i : i + 10] for i in range(0, len(bodies), 10)]
        local = threading.local()

        def send(batch: list[str]) -> None:
            if not hasattr(local, "sqs"):
                local.sqs = self.client()
            entries = [{"Id": str(i), "MessageBody": b} for i, b in enumerate(batch)]
            failed = local.sqs.send_message_batch(QueueUrl=self.url, Entries=entries).get("Failed")
            if failed:
                raise RuntimeError(f"send_message_batch failed: {failed}")

        started = time.monotonic()
        with ThreadPoolExecutor(max_workers=threads) as pool:
            list(pool.map(send, batches))
        return time.monotonic() - started

    def wait_empty(self, deadline: float, poll_s: float = 0.05) -> float | None:
        """Poll until nothing is left (visible, in flight or delayed); the time.time() it was
        first seen empty, or None at the deadline (time.monotonic())."""
        client = self.client()
        while time.monotonic() < deadline:
            if self.depth(client) == 0:
                return time.time()
            time.sleep(poll_s)
        return None


def sqs_client(endpoint: str) -> Any:
    return boto3.client(
        "sqs",
        endpoint_url=endpoint,
        region_name=REGION,
        aws_access_key_id="test",
        aws_secret_access_key="test",
    )


def make_queue(endpoint: str, name: str) -> Queue:
    """A fresh queue (and its DLQ, after 5 receives) on LocalStack."""
    sqs = sqs_client(endpoint)
    dlq = sqs.create_queue(QueueName=f"{name}-dlq")["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=dlq, AttributeNames=["QueueArn"])["Attributes"][
        "QueueArn"
    ]
    redrive = json.dumps({"deadLetterTargetArn": arn, "maxReceiveCount": "5"})
    url = sqs.create_queue(
        QueueName=name, Attributes={"VisibilityTimeout": "60", "RedrivePolicy": redrive}
    )["QueueUrl"]
    return Queue(endpoint, url)


def generic_alert(key: str, title: str, **extra: Any) -> str:
    """A generic JSON alert; `key` is its dedup_key, so one key is one incident."""
    return json.dumps(
        {
            "title": title,
            "source": "bench",
            "severity": "error",
            "team": "platform",
            "priority": "P2",
            "description": f"Synthetic alert {title} from the triage benchmark.",
            "dedup_key": key,
            "host": "bench-host-1",
            **extra,
        }
    )


def grouping_routes(window_s: int) -> str:
    """A routes file whose one route groups Alertmanager alerts by alertname and namespace."""
    return (
        '[[route]]\nname = "crash-loops"\nsinks = ["backend"]\n'
        f'group_by = ["alertname", "namespace"]\ngroup_window_s = {window_s}\n'
        '[route.match]\nsource = ["alertmanager"]\n'
    )


def crashloop_notification(
    pods: range, namespace: str = "shop", extra_labels: dict[str, str] | None = None
) -> str:
    """One Alertmanager webhook: a firing KubePodCrashLooping alert per pod (distinct label sets,
    so distinct fingerprints), one namespace, `extra_labels` on every alert."""
    extra = extra_labels or {}
    return json.dumps(
        {
            "version": "4",
            "groupKey": '{}:{alertname="KubePodCrashLooping"}',
            "status": "firing",
            "receiver": "triage",
            "alerts": [
                {
                    "status": "firing",
                    "labels": {
                        "alertname": "KubePodCrashLooping",
                        "namespace": namespace,
                        "pod": f"api-{i}",
                        "team": "shop",
                        "severity": "warning",
                        **extra,
                    },
                    "annotations": {"summary": f"Pod {namespace}/api-{i} is crash looping"},
                    "startsAt": "2026-12-03T09:00:00Z",
                    "endsAt": "0001-01-01T00:00:00Z",
                }
                for i in pods
            ],
        }
    )


# --- The daemon -------------------------------------------------------------------------------


def daemon_env(settings: Settings) -> dict[str, str]:
    """The environment that makes `python -m triage run` read exactly `settings`: nothing of
    the caller's TRIAGE_/BACKEND_/OPENAI_/AWS_ variables, fake AWS credentials."""
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("TRIAGE_", "BACKEND_", "OPENAI_", "AWS_", "GITHUB_", "SLACK_"))
        and k not in {"ALERT_TRIAGE_QUEUE_URL", "SQS_WAIT_TIME", "SQS_MAX_MESSAGES"}
    }
    for field, value in settings.model_dump().items():
        if value is None:
            continue
        if isinstance(value, tuple | list):
            value = ",".join(value)
        elif hasattr(value, "get_secret_value"):
            value = value.get_secret_value()
        env[env_name(field)] = str(value)
    env.update(AWS_ENV)
    env["BACKEND_TOKEN"] = TOKEN
    env["PYTHONPATH"] = str(ROOT / "src")
    return env


def bench_settings(
    queue: Queue, chat: TimedChat, backend: TimedTickets, **overrides: Any
) -> Settings:
    values: dict[str, Any] = {
        "queue_url": queue.url,
        "aws_endpoint_url": queue.endpoint,
        "aws_region": REGION,
        "backend_base_url": backend.url,
        "openai_api_key": "sk-bench-dummy",
        "openai_base_url": chat.url,
        "http_port": 0,
        "http_host": "127.0.0.1",
        "metrics": "off",
        "log_level": "warning",
        "sqs_wait_time": 20,
        "shutdown_grace_s": 10,
    }
    values.update(overrides)
    return Settings(**values)


class Daemon:
    """`python -m triage run` as a child in its own session (so a Ctrl-C at the terminal
    reaches the bench, which stops it); stderr goes to a file."""

    def __init__(
        self, settings: Settings, log_path: Path, extra_env: dict[str, str] | None = None
    ) -> None:
        self.log_path = log_path
        env = {**daemon_env(settings), **(extra_env or {})}
        with log_path.open("w") as log:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "triage", "run"],
                env={k: v for k, v in env.items() if v},
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                cwd=log_path.parent,
                start_new_session=True,
            )

    @property
    def pid(self) -> int:
        return self.process.pid

    def alive(self) -> bool:
        return self.process.poll() is None

    def cpu_s(self) -> float:
        """user + sys seconds of the daemon so far."""
        return process_cpu_s(self.pid)

    def status_kib(self, key: str) -> int:
        """A `kB` line of /proc/<pid>/status, e.g. VmHWM (peak RSS) or VmRSS."""
        for line in Path(f"/proc/{self.pid}/status").read_text().splitlines():
            if line.startswith(key + ":"):
                return int(line.split()[1])
        raise KeyError(key)

    def stop(self, grace_s: float = 15.0) -> int:
        """SIGTERM (the daemon drains), then SIGKILL after `grace_s`; returns the exit code."""
        if self.process.returncode is None:
            with contextlib.suppress(ProcessLookupError):
                self.process.send_signal(signal.SIGTERM)
            code = reaped(self.process, grace_s)
            if code is not None:
                return code
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.process.pid, signal.SIGKILL)
        code = reaped(self.process, 10)
        if code is None:
            raise subprocess.TimeoutExpired(self.process.args, 10)
        return code

    def log_events(self) -> list[dict[str, Any]]:
        events = []
        for line in self.log_path.read_text(errors="replace").splitlines():
            if line.startswith("{"):
                with contextlib.suppress(ValueError):
                    events.append(json.loads(line))
        return events


def reaped(process: subprocess.Popen[Any], timeout_s: float) -> int | None:
    """`process`'s exit code once it ends within `timeout_s`, else None. Reaped with
    `os.waitpid`, not `Popen.wait`: the bench's SIGTERM raises KeyboardInterrupt wherever the
    bench is, and raised inside `Popen.poll` just after it took its waitpid lock, it leaves the
    lock held, so that `Popen.wait` never sees the process end, even a SIGKILLed one."""
    deadline = time.monotonic() + timeout_s
    while process.returncode is None:
        try:
            pid, status = os.waitpid(process.pid, os.WNOHANG)
        except ChildProcessError:  # reaped by a `Popen.poll` meanwhile: it set returncode
            break
        if pid:
            process.returncode = os.waitstatus_to_exitcode(status)
            break
        if time.monotonic() >= deadline:
            return None
        time.sleep(0.02)
    return process.returncode


def process_cpu_s(pid: int) -> float:
    """user + sys seconds of process `pid` so far (/proc/<pid>/stat fields 14 and 15)."""
    stat = Path(f"/proc/{pid}/stat").read_text()
    fields = stat[stat.rindex(")") + 2 :].split()
    return (int(fields[11]) + int(fields[12])) / _CLK_TCK


class CpuMeter:
    """CPU seconds spent over a window by the daemon, LocalStack, this process (the stubs run
    on its threads) and the whole machine (all cores, other people's work included)."""

    def __init__(self, daemon_pid: int, localstack_pid: int | None) -> None:
        self.pids = {"daemon": daemon_pid, "localstack": localstack_pid}
        self.start = self._sample()

    def _sample(self) -> dict[str, float]:
        sample = {name: process_cpu_s(pid) for name, pid in self.pids.items() if pid}
        usage = resource.getrusage(resource.RUSAGE_SELF)
        sample["bench"] = usage.ru_utime + usage.ru_stime
        ticks = [int(x) for x in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:9]]
        sample["machine_total"] = sum(ticks) / _CLK_TCK
        sample["machine_busy"] = (sum(ticks) - ticks[3] - ticks[4]) / _CLK_TCK  # less idle, iowait
        return sample

    def stop(self) -> dict[str, float]:
        """Seconds used since the meter was made, per name."""
        end = self._sample()
        return {name: end[name] - self.start[name] for name in end}


#: The bench's LocalStack logs its collections here, in the work directory (bench/gclog).
LOCALSTACK_GC_LOG = "localstack-gc.jsonl"


def localstack_gc_env(workdir: Path) -> dict[str, str]:
    """The environment that makes a LocalStack the bench starts log its collections."""
    return {
        "PYTHONPATH": str(ROOT / "bench" / "gclog"),
        "BENCH_GC_LOG": str(workdir / LOCALSTACK_GC_LOG),
    }


def gc_pauses(path: Path, since: float, until: float) -> dict[str, float] | None:
    """The collections of 5 ms or more (and every full one) in a log that bench/gclog wrote,
    begun between `since` and `until` (time.time()): how many, the longest, their sum, the
    full ones; None when there is no log (a LocalStack the bench did not start)."""
    if not path.exists():
        return None
    pauses = []
    for line in path.read_text().splitlines():
        with contextlib.suppress(ValueError):
            pause = json.loads(line)
            if since <= pause["at"] <= until and pause["ms"] >= 5.0:
                pauses.append(pause)
    return {
        "count": len(pauses),
        "longest_ms": max((p["ms"] for p in pauses), default=0.0),
        "total_ms": sum(p["ms"] for p in pauses),
        "full": sum(1 for p in pauses if p["gen"] == 2),
    }


@contextlib.contextmanager
def no_gc_pauses() -> Iterator[None]:
    """The bench's own process (a load generator, a latency clock) without cyclic collections
    while it measures: a full collection of its heap stopped it for 25-90 ms, which a latency
    figure would charge to the program under test. Its garbage is collected on the way out."""
    gc.collect()
    gc.freeze()
    gc.disable()
    try:
        yield
    finally:
        gc.enable()
        gc.unfreeze()
        gc.collect()


def wait_for(predicate: Callable[[], bool], deadline: float, poll_s: float = 0.002) -> bool:
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(poll_s)
    return False


class Profiler:
    """py-spy attached to the daemon, writing collapsed stacks ("f1;f2;f3 count" lines)."""

    def __init__(self, pid: int, out: Path, rate_hz: int = 250) -> None:
        exe = Path(sys.executable).parent / "py-spy"
        self.out = out
        self.log_path = out.with_suffix(".log")
        self.error: str | None = None
        self.process: subprocess.Popen[bytes] | None = None
        if not exe.exists():
            self.error = "py-spy is not installed in the venv (it is a dev dependency)"
            return
        with self.log_path.open("w") as log:
            self.process = subprocess.Popen(
                [
                    str(exe),
                    "record",
                    "--pid",
                    str(pid),
                    "--rate",
                    str(rate_hz),
                    "--nonblocking",
                    "--gil",
                    "--format",
                    "raw",
                    "--output",
                    str(out),
                ],
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )

    def stop(self) -> None:
        """SIGINT makes py-spy write its output and exit."""
        proc, self.process = self.process, None
        if proc is None:
            return
        if proc.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                proc.send_signal(signal.SIGINT)
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        if not self.out.exists():
            self.error = f"py-spy wrote nothing: {self.log_path.read_text(errors='replace')[-300:]}"


def percentile(values: Iterable[float], q: float) -> float:
    """Nearest-rank percentile (q in 0..100) of a non-empty collection."""
    ordered = sorted(values)
    if not ordered:
        raise ValueError("no values")
    rank = max(1, min(len(ordered), -(-len(ordered) * q // 100)))
    return ordered[int(rank) - 1]
