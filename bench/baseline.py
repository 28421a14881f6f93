"""Two phases of the benchmark that compare the daemon with a floor (`python3 dev.py bench
--only startup,peer`): its start-up CPU up to the first ReceiveMessage, and its CPU per storm
message beside a bare aiobotocore receive-and-delete loop on an identical queue.

Figures (bench/README.md, "Start-up and the bare SQS client"): daemon CPU from process start
to its first ReceiveMessage (target ≤ 1 s); daemon CPU per storm message ÷ the bare loop's CPU
per message (target ≤ 1.5).

    python bench/baseline.py bare CONFIG_JSON   # the reference loop, run by the phase itself
"""

from __future__ import annotations

import asyncio
import contextlib
import http.client
import json
import os
import socket
import statistics
import subprocess
import sys
import threading
import time
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import sections

ROOT = Path(__file__).resolve().parents[1]


@dataclass(frozen=True)
class BaselineConfig:
    """The phases' parameters; all of them are printed in RESULTS.md."""

    #: Daemons started one after the other, each measured to its first ReceiveMessage.
    startups: int = 5
    #: Storm pairs (the bare loop, then the daemon), each on its own fresh queue.
    pairs: int = 3
    messages: int = 10_000
    incidents: int = 50
    concurrency: int = 32
    #: Receive loops of the bare client running at once (each: receive 10, delete them).
    bare_loops: int = 4
    #: A first start that writes every module's bytecode to a cache of the bench's own and is
    #: reported apart. Off in --quick (the test suite's smoke run): that start costs ~5 s of
    #: CPU, and the measured start then reads the interpreter's usual bytecode.
    compile_first: bool = True


FULL = BaselineConfig()
QUICK = BaselineConfig(
    startups=1, pairs=1, messages=100, incidents=10, concurrency=16, compile_first=False
)

STARTUP_CPU_MAX_S = 1.0
STORM_RATIO_MAX = 1.5


# --- Start-up ------------------------------------------------------------------------------------


class FirstReceive:
    """A loopback HTTP proxy in front of the SQS endpoint that notes the CPU time of process
    `pid` (/proc) the moment the first ReceiveMessage request arrives, and forwards every
    request unchanged."""

    def __init__(self, upstream: str) -> None:
        parts = urlsplit(upstream)
        self.upstream = (parts.hostname or "127.0.0.1", parts.port or 80)
        self.pid: int | None = None
        self.cpu_s: float | None = None
        self.at: float | None = None
        self.before: list[str] = []
        #: Every request forwarded, by operation.
        self.counts: dict[str, int] = {}
        self.seen = threading.Event()
        self._lock = threading.Lock()
        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self._httpd.daemon_threads = True
        self._thread = threading.Thread(target=self._httpd.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._httpd.server_address[1]}"

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()

    def _note(self, operation: str) -> None:
        import rig

        with self._lock:
            self.counts[operation] = self.counts.get(operation, 0) + 1
            if self.cpu_s is not None:
                return
            if operation != "ReceiveMessage":
                self.before.append(operation)
                return
            if self.pid is not None:
                self.cpu_s = rig.process_cpu_s(self.pid)
                self.at = time.monotonic()
                self.seen.set()

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        proxy = self
        local = threading.local()

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, format: str, *args: Any) -> None:
                pass

            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length)
                target = self.headers.get("X-Amz-Target", "")
                if target:
                    operation = target.rpartition(".")[2]
                else:  # the query protocol
                    fields = dict(p.partition("=")[::2] for p in body.decode().split("&"))
                    operation = fields.get("Action", "?")
                proxy._note(operation)
                status, headers, answer = self._forward(body)
                self.send_response(status)
                for name, value in headers:
                    if name.lower() not in {"content-length", "connection", "transfer-encoding"}:
                        self.send_header(name, value)
                self.send_header("Content-Length", str(len(answer)))
                self.end_headers()
                # The daemon is stopped while a long poll is still open: nobody to answer.
                with contextlib.suppress(BrokenPipeError, ConnectionResetError):
                    self.wfile.write(answer)

            def _forward(self, body: bytes) -> tuple[int, list[tuple[str, str]], bytes]:
                if not hasattr(local, "conn"):
                    local.conn = http.client.HTTPConnection(*proxy.upstream, timeout=60)
                headers = {k: v for k, v in self.headers.items() if k.lower() != "connection"}
                try:
                    local.conn.request("POST", self.path, body, headers)
                    response = local.conn.getresponse()
                except (OSError, http.client.HTTPException):
                    local.conn.close()
                    local.conn = http.client.HTTPConnection(*proxy.upstream, timeout=60)
                    try:
                        local.conn.request("POST", self.path, body, headers)
                        response = local.conn.getresponse()
                    except (OSError, http.client.HTTPException):
                        # LocalStack went away (the bench is stopping): a 502, not a traceback.
                        local.conn.close()
                        return 502, [], b""
                return response.status, response.getheaders(), response.read()

        return Handler


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def startup(bench: Any, cfg: BaselineConfig) -> dict[str, Any]:
    """Start `python -m triage run` `cfg.startups` times on an empty queue with the production
    defaults the bench can keep (endpoints on a port, EMF metrics, info logs, the OpenAI model
    and the backend sink): its CPU (user + sys) and wall time from the process's start to its
    first ReceiveMessage."""
    import rig

    queue = rig.make_queue(bench.endpoint, "startup")
    # The image is built with its bytecode compiled (UV_COMPILE_BYTECODE=1); a developer's venv
    # may not be, or may be used with PYTHONDONTWRITEBYTECODE set. The first start writes every
    # module's bytecode to a cache of the bench's own and is reported apart; the measured
    # starts read it, as the image's do.
    extra_env = (
        {"PYTHONPYCACHEPREFIX": str(bench.workdir / "pycache"), "PYTHONDONTWRITEBYTECODE": ""}
        if cfg.compile_first
        else {}
    )
    runs = []
    for i in range(cfg.startups + int(cfg.compile_first)):
        probe = FirstReceive(bench.endpoint)
        probe.start()
        try:
            settings = bench.settings(
                queue,
                f"startup-{i}",
                aws_endpoint_url=probe.url,
                http_port=_free_port(),
                metrics="emf",
                log_level="info",
            )
            started = time.monotonic()
            daemon = rig.Daemon(settings, bench.workdir / f"startup-{i}.log", extra_env)
            try:
                probe.pid = daemon.pid
                deadline = time.monotonic() + 60
                if not rig.wait_for(
                    lambda p=probe, d=daemon: p.seen.is_set() or not d.alive(), deadline
                ):
                    raise RuntimeError(f"no ReceiveMessage within 60 s ({daemon.log_path})")
                if probe.cpu_s is None or probe.at is None:
                    raise RuntimeError(
                        f"the daemon exited with {daemon.process.returncode}: {daemon.log_path}"
                    )
                runs.append(
                    {
                        "cpu_s": probe.cpu_s,
                        "wall_s": probe.at - started,
                        "before": list(probe.before),
                        "rss_mib": daemon.status_kib("VmRSS") / 1024,
                    }
                )
            finally:
                daemon.stop()
        finally:
            probe.stop()
    if not cfg.compile_first:
        return {"compiling": None, "runs": runs}
    return {"compiling": runs[0], "runs": runs[1:]}


# --- The bare receive-and-delete loop -----------------------------------------------------------


async def _bare(config: dict[str, Any]) -> dict[str, Any]:
    """Receive 10 at a time (with the daemon's attribute names) and delete each batch with one
    DeleteMessageBatch, from `loops` tasks on one aiobotocore client, until `count` are gone."""
    from aiobotocore.session import get_session
    from botocore.config import Config

    from triage.aws import keep_alive

    url, count = config["queue_url"], int(config["count"])
    client_config = Config(retries={"max_attempts": 3, "mode": "standard"})
    session = get_session()
    async with session.create_client(
        "sqs", endpoint_url=config["endpoint"], region_name=config["region"], config=client_config
    ) as sqs:
        # Keep-alive as the daemon's clients ask for it: both sides pay the same per call.
        keep_alive(sqs, "sqs")
        # Warm-up: the connection and botocore's models, before the parent reads our CPU.
        await sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])
        print("ready", flush=True)
        sys.stdin.readline()
        return await drain(
            sqs, url, count, int(config["loops"]), time.monotonic() + float(config["timeout_s"])
        )


async def drain(sqs: Any, url: str, count: int, loops: int, deadline: float) -> dict[str, Any]:
    """The bare loop itself on an open client: `loops` tasks receive 10 (with the daemon's
    attribute names) and delete each batch with one DeleteMessageBatch, until `count` are gone
    or `deadline` (time.monotonic()) passes. (bench/framework.py runs it beside the
    Supervisor.)"""
    done = 0
    calls = {"receive": 0, "delete": 0}

    async def loop() -> None:
        nonlocal done
        while done < count and time.monotonic() < deadline:
            response = await sqs.receive_message(
                QueueUrl=url,
                MaxNumberOfMessages=10,
                WaitTimeSeconds=1,
                VisibilityTimeout=60,
                MessageSystemAttributeNames=[
                    "ApproximateReceiveCount",
                    "SentTimestamp",
                    "AWSTraceHeader",
                ],
                MessageAttributeNames=["All"],
            )
            calls["receive"] += 1
            messages = response.get("Messages", [])
            if not messages:
                continue
            entries = [
                {"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]} for i, m in enumerate(messages)
            ]
            await sqs.delete_message_batch(QueueUrl=url, Entries=entries)
            calls["delete"] += 1
            done += len(messages)

    started = time.perf_counter()
    await asyncio.gather(*(loop() for _ in range(loops)))
    window = time.perf_counter() - started
    return {"window_s": window, "done": done, **calls}


def run_bare(queue: Any, count: int, loops: int, env: dict[str, str]) -> dict[str, Any]:
    """The bare loop in a child process over `queue`: its result and its CPU seconds from its
    start signal to its answer (imports, models and the first connection not counted)."""
    import rig

    config = {
        "queue_url": queue.url,
        "endpoint": queue.endpoint,
        "region": rig.REGION,
        "count": count,
        "loops": loops,
        "timeout_s": 60 + count / 20,
    }
    process = subprocess.Popen(
        [sys.executable, str(Path(__file__)), "bare", json.dumps(config)],
        env=env,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )
    assert process.stdin is not None and process.stdout is not None
    try:
        if process.stdout.readline().strip() != "ready":
            raise RuntimeError("the bare receive loop did not start")
        cpu0 = rig.process_cpu_s(process.pid)
        process.stdin.write("go\n")
        process.stdin.flush()
        line = process.stdout.readline()
        cpu = rig.process_cpu_s(process.pid) - cpu0
        if not line:
            raise RuntimeError("the bare receive loop died")
        result: dict[str, Any] = json.loads(line)
        if result["done"] < count:
            raise RuntimeError(
                f"the bare loop received {result['done']} of {count} by its deadline"
            )
        process.wait(timeout=30)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    result["cpu_s"] = cpu
    return result


def storm_bodies(name: str, cfg: BaselineConfig) -> list[str]:
    """The storm's messages (bench/run.py's storm: a seeded shuffle over the incidents)."""
    import random

    import rig

    order = [i % cfg.incidents for i in range(cfg.messages)]
    random.Random(7).shuffle(order)
    return [
        rig.generic_alert(f"{name}-{k}", f"{name} incident {k}", occurrence=i)
        for i, k in enumerate(order)
    ]


def peer(bench: Any, cfg: BaselineConfig) -> dict[str, Any]:
    """`cfg.pairs` times: the bare loop drains a storm's queue, then the daemon drains an
    identical one (bench/run.py's storm); each one's CPU per message."""
    import rig

    env = {
        **os.environ,
        **rig.AWS_ENV,
        "PYTHONPATH": os.pathsep.join([str(ROOT / "src"), str(ROOT / "bench")]),
    }
    pairs = []
    for i in range(cfg.pairs):
        queue = rig.make_queue(bench.endpoint, f"peer-bare-{i}")
        queue.send_all(storm_bodies(f"peer-bare-{i}", cfg))
        meter = rig.CpuMeter(os.getpid(), bench.localstack_pid)
        bare = run_bare(queue, cfg.messages, cfg.bare_loops, env)
        bare["picture"] = meter.stop()
        bare["left"] = queue.depth()
        daemon = bench.storm_run(f"peer-daemon-{i}", cfg.messages, cfg.incidents, cfg.concurrency)
        pairs.append(
            {
                "bare": bare,
                "bare_ms": bare["cpu_s"] / cfg.messages * 1000,
                "daemon": daemon,
                "daemon_ms": daemon["cpu_per_message_ms"],
            }
        )
    return {"pairs": pairs}


# --- RESULTS.md ----------------------------------------------------------------------------------

HEADING = "## Start-up and the bare SQS client"


def _spread(values: list[float], fmt: str) -> str:
    if len(values) == 1:
        return format(values[0], fmt)
    return f"{format(statistics.median(values), fmt)} (runs: {', '.join(format(v, fmt) for v in values)})"


def section(
    cfg: BaselineConfig,
    start: dict[str, Any] | None,
    start_error: str | None,
    pair: dict[str, Any] | None,
    pair_error: str | None,
    provenance: str,
) -> tuple[list[str], bool]:
    """The section of RESULTS.md, and whether every target was met (a phase not run: False)."""
    out = [HEADING, "", provenance, ""]
    rows: list[tuple[str, str, str, bool | None]] = []
    ok = True
    if start is not None:
        cpu = [r["cpu_s"] for r in start["runs"]]
        wall = [r["wall_s"] for r in start["runs"]]
        worst = max(cpu)
        rows.append(
            (
                "start-up: daemon CPU (user + sys) from process start to the first ReceiveMessage, "
                "median and the worst",
                f"{_spread(cpu, '.2f')} s; worst {worst:.2f} s",
                f"≤ {STARTUP_CPU_MAX_S:g} s",
                worst <= STARTUP_CPU_MAX_S,
            )
        )
        rows.append(
            (
                "start-up: wall time to the first ReceiveMessage",
                f"{_spread(wall, '.2f')} s",
                "none set",
                None,
            )
        )
        ok = ok and worst <= STARTUP_CPU_MAX_S
    else:
        rows.append(
            (
                "start-up CPU to the first ReceiveMessage",
                f"not measured: {start_error or 'not run'}",
                f"≤ {STARTUP_CPU_MAX_S:g} s",
                False,
            )
        )
        ok = False
    if pair is not None:
        ratios = [p["daemon_ms"] / p["bare_ms"] for p in pair["pairs"]]
        daemon_ms = [p["daemon_ms"] for p in pair["pairs"]]
        bare_ms = [p["bare_ms"] for p in pair["pairs"]]
        ratio = statistics.median(ratios)
        rows.append(
            (
                "storm: daemon CPU per message ÷ a bare aiobotocore receive-10 / delete-batch loop's",
                f"{_spread(ratios, '.2f')} (daemon {_spread(daemon_ms, '.3f')} ms vs bare "
                f"{_spread(bare_ms, '.3f')} ms)",
                f"≤ {STORM_RATIO_MAX:g}",
                ratio <= STORM_RATIO_MAX,
            )
        )
        ok = ok and ratio <= STORM_RATIO_MAX
    else:
        rows.append(
            (
                "storm CPU per message ÷ the bare loop's",
                f"not measured: {pair_error or 'not run'}",
                f"≤ {STORM_RATIO_MAX:g}",
                False,
            )
        )
        ok = False
    verdict = {None: "report only", True: "PASS", False: "**FAIL**"}
    out += ["| figure | measured | target | result |", "|---|---|---|---|"]
    out += [f"| {f} | {v} | {t} | {verdict[k]} |" for f, v, t, k in rows]
    out.append("")
    if start is not None:
        c = start["compiling"]
        if c is not None:
            out.append(
                "Start-up without compiled bytecode (the first start, which writes it; report "
                f"only): {c['cpu_s']:.2f} s CPU, {c['wall_s']:.2f} s wall."
            )
        else:
            out.append(
                "No bytecode-writing first start (--quick): the starts below read the "
                "interpreter's usual bytecode cache."
            )
        for i, r in enumerate(start["runs"]):
            before = ", ".join(r["before"]) or "none"
            out.append(
                f"Start-up {i + 1}: {r['cpu_s']:.2f} s CPU, {r['wall_s']:.2f} s wall, RSS "
                f"{r['rss_mib']:.1f} MiB at the first ReceiveMessage; SQS calls before it: {before}."
            )
        out.append("")
    if pair is not None:
        out += [
            "| pair | bare: window s, receives / deletes, CPU s | bare ms/msg | daemon: window s, CPU s | daemon ms/msg | ratio | LocalStack CPU s (bare / daemon) |",
            "|---|---|---|---|---|---|---|",
        ]
        for i, p in enumerate(pair["pairs"]):
            b, d = p["bare"], p["daemon"]
            out.append(
                f"| {i + 1} | {b['window_s']:.2f}, {b['receive']} / {b['delete']}, {b['cpu_s']:.2f} "
                f"| {p['bare_ms']:.3f} | {d['window_s']:.2f}, {d['cpu_s']:.2f} | {p['daemon_ms']:.3f} "
                f"| {p['daemon_ms'] / p['bare_ms']:.2f} "
                f"| {b['picture'].get('localstack', 0):.2f} / {d['cpu'].get('localstack', 0):.2f} |"
            )
        d0 = pair["pairs"][0]["daemon"]
        out += [
            "",
            f"Each pair: a fresh queue of {cfg.messages:,} messages over {cfg.incidents} incidents "
            f"(the storm's seeded shuffle) drained by the bare loop ({cfg.bare_loops} receive "
            "loops on one aiobotocore client, in its own process, its CPU counted from after its "
            "imports and first call), then an identical queue drained by the daemon at "
            f"concurrency {cfg.concurrency} (CPU from its first LLM request to the empty queue, as "
            f"in the storm). Daemon LLM calls / tickets in pair 1: {d0['llm_calls']} / "
            f"{d0['tickets']}; warnings in its log: {d0['problems'] or 'none'}.",
            "",
        ]
    return out, ok


#: The row `section` writes for a start-up phase that did not run (`--only peer`).
_STARTUP_NOT_RUN = "| start-up CPU to the first ReceiveMessage | not measured: not run |"
_CARRIED = "Start-up figures carried over from an earlier run (this one ran only the storms):"


def _carry_startup(previous: str, lines: list[str]) -> list[str]:
    """`lines` with the start-up figures of `previous` (the section as it was) in place of
    the start-up phase's "not run" row, when this run measured only the storms: `--only peer`
    must not wipe what `--only startup` measured."""
    not_run = [i for i, line in enumerate(lines) if line.startswith(_STARTUP_NOT_RUN)]
    old = previous.splitlines()
    rows = [line for line in old if line.startswith("| start-up")]
    if not not_run or not rows or any(_STARTUP_NOT_RUN in row for row in rows):
        return lines
    measured = next((line for line in old if line.startswith("Measured by ")), "")
    origin = next((line for line in old if line.startswith(_CARRIED)), None)
    if origin is None:  # measured by that run, not carried over already
        origin = f"{_CARRIED} {measured.removeprefix('Measured by ')}"
    notes = [line for line in old if line.startswith("Start-up ") and line != origin]
    at = not_run[0]
    table_end = next((i for i in range(at, len(lines)) if not lines[i].startswith("|")), len(lines))
    carried = [origin, *notes, ""]
    return [*lines[:at], *rows, *lines[at + 1 : table_end + 1], *carried, *lines[table_end + 1 :]]


def splice(document: str, lines: list[str]) -> str:
    """`document` with this section replaced by `lines` (or inserted before "## Machine and
    versions", else appended); every other section stays as it was."""
    found = sections.span(document, HEADING)
    if found is not None:
        lines = _carry_startup(document[found[0] : found[1]], lines)
    return sections.replace(document, HEADING, lines)


if __name__ == "__main__" and len(sys.argv) == 3 and sys.argv[1] == "bare":
    sys.path.insert(0, str(ROOT / "src"))
    with contextlib.suppress(KeyboardInterrupt):
        print(json.dumps(asyncio.run(_bare(json.loads(sys.argv[2])))), flush=True)
