# ruff: noqa: RUF001 - the report writes the multiplication sign on purpose
"""The gateway's phase of the benchmark (`python3 dev.py bench --only ingest`): `triage ingest`
as a child process against LocalStack, driven over loopback HTTP from the bench's process,
beside a bare aiobotocore `SendMessage` loop (its own child process) measured in the same run.

Figures (bench/README.md, "Ingest gateway"): webhooks per second and p50/p99 to the 202 at
concurrency 64 (closed loop); the gateway's CPU per webhook against the bare loop's CPU per
message (target ≤ 1.5 times); p99 to the 202 at half the measured capacity, on a fixed schedule (open
loop; target ≤ 25 ms). Every 202 is checked to be on the queue.

    python bench/ingest.py bare CONFIG_JSON   # the reference loop, run by the phase itself
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import sections

ROOT = Path(__file__).resolve().parents[1]
TOKEN = "bench-generic-token-0123456789"
#: The gateway's collections, logged by bench/gclog (LocalStack's: rig.LOCALSTACK_GC_LOG).
GATEWAY_GC_LOG = "gateway-gc.jsonl"


@dataclass(frozen=True)
class IngestConfig:
    """The phase's parameters; all of them are printed in RESULTS.md."""

    requests: int = 4000
    warmup: int = 300
    concurrency: int = 64
    open_loop_s: float = 20.0
    load: float = 0.5
    #: The gateway runs at its production default: one `ingest.accepted` info line a request.
    log_level: str = "info"
    linger_ms: float = 5.0
    #: Seconds of a repeat of the open loop with py-spy attached to the gateway (0: none).
    profile_s: float = 8.0
    #: Lighter open loops (shares of the capacity) and their length, to show where the
    #: latency comes from: report only.
    sweep_loads: tuple[float, ...] = (0.1, 0.25)
    sweep_s: float = 8.0


FULL = IngestConfig()
QUICK = IngestConfig(requests=100, warmup=10, open_loop_s=1.0, profile_s=0.0, sweep_loads=())


def body(i: int, prefix: str) -> bytes:
    """A generic alert of the size scripts send (~330 bytes), its own incident each."""
    return json.dumps(
        {
            "title": f"{prefix} webhook {i}",
            "source": "bench",
            "severity": "error",
            "team": "platform",
            "priority": "P2",
            "description": f"Synthetic webhook {i} from the triage benchmark's ingest phase.",
            "dedup_key": f"{prefix}-{i}",
            "host": "bench-host-1",
        }
    ).encode()


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    rank = max(1, min(len(ordered), -(-len(ordered) * q // 100)))
    return ordered[int(rank) - 1]


# --- The gateway as a child process -----------------------------------------------------------


class Gateway:
    """`python -m triage ingest` in its own session, on a free port; stderr to a file."""

    def __init__(self, env: dict[str, str], log_path: Path) -> None:
        self.log_path = log_path
        with log_path.open("w") as log:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "triage", "ingest"],
                env=env,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                cwd=log_path.parent,
                start_new_session=True,
            )
        self.port = 0

    @property
    def pid(self) -> int:
        return self.process.pid

    def wait_listening(self, deadline: float) -> str:
        while time.monotonic() < deadline and self.process.poll() is None:
            for event in self.events():
                if event.get("event") == "ingest.listening":
                    self.port = int(event["port"])
                    return f"http://127.0.0.1:{self.port}"
            time.sleep(0.05)
        raise RuntimeError(f"the gateway did not start: {self.log_path}")

    def events(self) -> list[dict[str, Any]]:
        out = []
        for line in self.log_path.read_text(errors="replace").splitlines():
            if line.startswith("{"):
                with contextlib.suppress(ValueError):
                    out.append(json.loads(line))
        return out

    def stop(self, grace_s: float = 15.0) -> int:
        if self.process.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                self.process.send_signal(signal.SIGTERM)
            try:
                return self.process.wait(timeout=grace_s)
            except subprocess.TimeoutExpired:
                pass
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.process.pid, signal.SIGKILL)
        return self.process.wait(timeout=10)


def gateway_env(
    queue_url: str,
    endpoint: str,
    cfg: IngestConfig,
    aws_env: dict[str, str],
    gc_log: Path | None = None,
) -> dict[str, str]:
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("TRIAGE_", "BACKEND_", "OPENAI_", "AWS_", "GITHUB_", "SLACK_"))
        and k not in {"ALERT_TRIAGE_QUEUE_URL", "SQS_WAIT_TIME", "SQS_MAX_MESSAGES"}
    }
    env.update(aws_env)
    env.update(
        ALERT_TRIAGE_QUEUE_URL=queue_url,
        AWS_ENDPOINT_URL=endpoint,
        TRIAGE_INGEST_HOST="127.0.0.1",
        TRIAGE_INGEST_PORT="0",
        TRIAGE_INGEST_TOKENS=json.dumps({"generic": TOKEN}),
        # The bench measures capacity, not the per-source limit.
        TRIAGE_INGEST_RATE_PER_S="1000000",
        TRIAGE_INGEST_LINGER_MS=str(cfg.linger_ms),
        TRIAGE_HTTP_PORT="0",
        TRIAGE_METRICS="off",
        TRIAGE_LOG_LEVEL=cfg.log_level,
        # bench/gclog logs the gateway's own collections (none over 5 ms once it runs).
        PYTHONPATH=os.pathsep.join([str(ROOT / "src"), str(ROOT / "bench" / "gclog")]),
    )
    if gc_log is not None:
        env["BENCH_GC_LOG"] = str(gc_log)
    return env


# --- Load generators (in the bench's process) --------------------------------------------------


async def closed_loop(url: str, bodies: list[bytes], concurrency: int) -> dict[str, Any]:
    """`concurrency` senders, each posting the next body as soon as its last one was answered."""
    import aiohttp
    import rig

    latencies: list[float] = []
    statuses: dict[int, int] = {}
    todo = iter(bodies)
    headers = {"Authorization": f"Bearer {TOKEN}", "Content-Type": "application/json"}
    connector = aiohttp.TCPConnector(limit=concurrency)
    with rig.no_gc_pauses():
        async with aiohttp.ClientSession(f"{url}", connector=connector) as session:

            async def sender() -> None:
                for data in todo:
                    began = time.perf_counter()
                    async with session.post("/v1/alerts/generic", data=data, headers=headers) as r:
                        await r.read()
                    latencies.append(time.perf_counter() - began)
                    statuses[r.status] = statuses.get(r.status, 0) + 1

            started = time.perf_counter()
            await asyncio.gather(*(sender() for _ in range(concurrency)))
            window = time.perf_counter() - started
    return {"window_s": window, "latencies": latencies, "statuses": statuses}


async def open_loop(url: str, bodies: list[bytes], rate: float) -> dict[str, Any]:
    """One post every 1/`rate` s on a fixed schedule, however long the answers take."""
    import aiohttp
    import rig

    latencies: list[float] = []
    from_schedule: list[float] = []
    lateness: list[float] = []
    statuses: dict[int, int] = {}
    headers = {"Authorization": f"Bearer {TOKEN}", "Content-Type": "application/json"}
    connector = aiohttp.TCPConnector(limit=0)
    with rig.no_gc_pauses():
        async with aiohttp.ClientSession(url, connector=connector) as session:

            async def post(data: bytes, slot: float) -> None:
                began = time.perf_counter()
                lateness.append(max(0.0, began - slot))
                async with session.post("/v1/alerts/generic", data=data, headers=headers) as r:
                    await r.read()
                done = time.perf_counter()
                latencies.append(done - began)
                from_schedule.append(done - slot)
                statuses[r.status] = statuses.get(r.status, 0) + 1

            start = time.perf_counter() + 0.1
            tasks = []
            for i, data in enumerate(bodies):
                slot = start + i / rate
                delay = slot - time.perf_counter()
                if delay > 0:
                    await asyncio.sleep(delay)
                tasks.append(asyncio.create_task(post(data, slot)))
            await asyncio.gather(*tasks)
    return {
        "latencies": latencies,
        "from_schedule": from_schedule,
        "lateness": lateness,
        "statuses": statuses,
    }


# --- The bare SendMessage loop (a child process) -----------------------------------------------


async def _bare(config: dict[str, Any]) -> dict[str, Any]:
    import aioboto3
    from botocore.config import Config

    from triage.aws import keep_alive

    concurrency = int(config["concurrency"])
    session = aioboto3.Session(region_name=config["region"])
    client_config = Config(
        retries={"max_attempts": 3, "mode": "standard"}, max_pool_connections=concurrency
    )
    async with session.client("sqs", endpoint_url=config["endpoint"], config=client_config) as sqs:
        keep_alive(sqs, "sqs")  # as the gateway's client asks (this was missing before 2026-12-04)
        url = config["queue_url"]
        # Warm-up: connections and botocore's models, before the parent reads our CPU.
        await asyncio.gather(*(sqs.send_message(QueueUrl=url, MessageBody=body(i, "bare-warmup").decode())
                               for i in range(concurrency)))  # fmt: skip
        print("ready", flush=True)
        sys.stdin.readline()
        bodies = iter([body(i, "bare").decode() for i in range(int(config["count"]))])
        latencies: list[float] = []

        async def sender() -> None:
            for text in bodies:
                began = time.perf_counter()
                await sqs.send_message(QueueUrl=url, MessageBody=text)
                latencies.append(time.perf_counter() - began)

        started = time.perf_counter()
        await asyncio.gather(*(sender() for _ in range(concurrency)))
        window = time.perf_counter() - started
        print(json.dumps({"window_s": window, "latencies": latencies}), flush=True)
        # Then, on the parent's word, the open loop at half of this loop's own capacity (as the
        # gateway's is at half of its own): one SendMessage per message on a fixed schedule.
        load, duration_s = (float(x) for x in sys.stdin.readline().split())
        rate = load * len(latencies) / window
        count = max(1, round(rate * duration_s))
        open_latencies: list[float] = []

        async def send(text: str) -> None:
            began = time.perf_counter()
            await sqs.send_message(QueueUrl=url, MessageBody=text)
            open_latencies.append(time.perf_counter() - began)

        start = time.perf_counter() + 0.1
        tasks = []
        for i in range(int(count)):
            delay = start + i / rate - time.perf_counter()
            if delay > 0:
                await asyncio.sleep(delay)
            tasks.append(asyncio.create_task(send(body(i, "bare-open").decode())))
        await asyncio.gather(*tasks)
    return {"open_latencies": open_latencies, "open_rate": rate}


def run_bare(
    queue_url: str,
    endpoint: str,
    count: int,
    concurrency: int,
    env: dict[str, str],
    open_load: float,
    open_s: float,
) -> tuple[dict[str, Any], float, Any]:
    """The bare loop in a child: its closed-loop result and its CPU seconds over that window,
    then its open loop at `open_load` times its own capacity for `open_s` (latencies only)."""
    import rig

    config = {
        "queue_url": queue_url,
        "endpoint": endpoint,
        "region": rig.REGION,
        "count": count,
        "concurrency": concurrency,
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
            raise RuntimeError("the bare SendMessage loop did not start")
        meter = rig.CpuMeter(process.pid, None)
        cpu0 = rig.process_cpu_s(process.pid)
        process.stdin.write("go\n")
        process.stdin.flush()
        line = process.stdout.readline()
        cpu = rig.process_cpu_s(process.pid) - cpu0
        picture = meter.stop()
        result = json.loads(line)
        process.stdin.write(f"{open_load} {open_s}\n")
        process.stdin.flush()
        result.update(json.loads(process.stdout.readline()))
        process.wait(timeout=60)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    return result, cpu, picture


# --- The phase -----------------------------------------------------------------------------------


def measure(
    cfg: IngestConfig, endpoint: str, workdir: Path, localstack_pid: int | None
) -> dict[str, Any]:
    """Run the gateway and the bare loop against fresh queues; every number of the section."""
    import rig

    gateway_queue = rig.make_queue(endpoint, "ingest")
    bare_queue = rig.make_queue(endpoint, "ingest-bare")
    env = gateway_env(gateway_queue.url, endpoint, cfg, rig.AWS_ENV, workdir / GATEWAY_GC_LOG)
    gateway = Gateway(env, workdir / "ingest.log")
    try:
        url = gateway.wait_listening(time.monotonic() + 60)
        warm = asyncio.run(
            closed_loop(url, [body(i, "warmup") for i in range(cfg.warmup)], cfg.concurrency)
        )
        meter = rig.CpuMeter(gateway.pid, localstack_pid)
        cpu0 = rig.process_cpu_s(gateway.pid)
        closed = asyncio.run(
            closed_loop(url, [body(i, "closed") for i in range(cfg.requests)], cfg.concurrency)
        )
        gateway_cpu = rig.process_cpu_s(gateway.pid) - cpu0
        closed_picture = meter.stop()
        capacity = cfg.requests / closed["window_s"]
        rate = capacity * cfg.load
        count = max(1, round(rate * cfg.open_loop_s))
        meter = rig.CpuMeter(gateway.pid, localstack_pid)
        cpu0 = rig.process_cpu_s(gateway.pid)
        open_began = time.time()
        opened = asyncio.run(open_loop(url, [body(i, "open") for i in range(count)], rate))
        open_ended = time.time()
        localstack_gc = rig.gc_pauses(workdir / rig.LOCALSTACK_GC_LOG, open_began, open_ended)
        gateway_gc = rig.gc_pauses(workdir / GATEWAY_GC_LOG, open_began, open_ended)
        open_cpu = rig.process_cpu_s(gateway.pid) - cpu0
        open_picture = meter.stop()
        opened["window_s"] = count / rate
        sweep = []
        for load in cfg.sweep_loads:
            light = capacity * load
            n = max(1, round(light * cfg.sweep_s))
            run = asyncio.run(open_loop(url, [body(i, f"sweep{load}") for i in range(n)], light))
            sweep.append({"load": load, "rate": light, "requests": n, **run})
        profile = _profiled_repeat(cfg, gateway, url, rate, workdir)
        exit_code = gateway.stop()
        events = gateway.events()
        accepted_events = [e for e in events if e.get("event") == "ingest.accepted"]
        problems: dict[str, int] = {}
        for event in events:
            if event.get("level") in {"warning", "error", "critical"}:
                problems[str(event.get("event"))] = problems.get(str(event.get("event")), 0) + 1
    finally:
        gateway.stop()
    bare_env = {**env, "PYTHONPATH": os.pathsep.join([str(ROOT / "src"), str(ROOT / "bench")])}
    bare, bare_cpu, bare_picture = run_bare(
        bare_queue.url, endpoint, cfg.requests, cfg.concurrency, bare_env, cfg.load, cfg.open_loop_s
    )
    # The phases run one after the other, so the open loop's webhooks are the accepted lines
    # after the warm-up's and the closed loop's: their time inside the gateway.
    first = warm["statuses"].get(202, 0) + closed["statuses"].get(202, 0)
    inside = [float(e["duration_ms"]) for e in accepted_events[first : first + count]]
    accepted = sum(run["statuses"].get(202, 0) for run in (warm, closed, opened, *sweep))
    accepted += (profile or {}).get("accepted", 0)
    queued = gateway_queue.depth()
    return {
        "config": cfg,
        "gateway_rate": capacity,
        "gateway_window_s": closed["window_s"],
        "gateway_p50_ms": percentile(closed["latencies"], 50) * 1000,
        "gateway_p99_ms": percentile(closed["latencies"], 99) * 1000,
        "gateway_statuses": closed["statuses"],
        "gateway_cpu_s": gateway_cpu,
        "gateway_cpu_ms": gateway_cpu / cfg.requests * 1000,
        "closed_picture": closed_picture,
        "bare_rate": cfg.requests / bare["window_s"],
        "bare_window_s": bare["window_s"],
        "bare_p50_ms": percentile(bare["latencies"], 50) * 1000,
        "bare_p99_ms": percentile(bare["latencies"], 99) * 1000,
        "bare_cpu_s": bare_cpu,
        "bare_cpu_ms": bare_cpu / cfg.requests * 1000,
        "bare_picture": bare_picture,
        "open_rate": rate,
        "open_requests": count,
        "open_p50_ms": percentile(opened["latencies"], 50) * 1000,
        "open_p99_ms": percentile(opened["latencies"], 99) * 1000,
        "open_max_ms": max(opened["latencies"]) * 1000,
        "open_schedule_p99_ms": percentile(opened["from_schedule"], 99) * 1000,
        "open_lateness_p99_ms": percentile(opened["lateness"], 99) * 1000,
        "open_statuses": opened["statuses"],
        "inside_p50_ms": percentile(inside, 50),
        "inside_p99_ms": percentile(inside, 99),
        "open_cpu_ms": open_cpu / count * 1000,
        "open_picture": open_picture,
        "open_window_s": opened["window_s"],
        "open_localstack_gc": localstack_gc,
        "open_gateway_gc": gateway_gc,
        "bare_open_rate": bare["open_rate"],
        "bare_open_p50_ms": percentile(bare["open_latencies"], 50) * 1000,
        "bare_open_p99_ms": percentile(bare["open_latencies"], 99) * 1000,
        "accepted": accepted,
        "queued": queued,
        "bare_queued": bare_queue.depth(),
        "bare_open_count": count,
        "gateway_exit": exit_code,
        "profile": profile,
        "sweep": [
            {
                "load": run["load"],
                "rate": run["rate"],
                "requests": run["requests"],
                "p50_ms": percentile(run["latencies"], 50) * 1000,
                "p99_ms": percentile(run["latencies"], 99) * 1000,
            }
            for run in sweep
        ],
        "problems": problems,
    }


def _profiled_repeat(
    cfg: IngestConfig, gateway: Gateway, url: str, rate: float, workdir: Path
) -> dict[str, Any] | None:
    """py-spy on the gateway during a repeat of the open loop (after the measured one, so the
    figures are unprofiled): where its CPU goes at half capacity."""
    if cfg.profile_s <= 0:
        return None
    import report
    import rig

    # Not "ingest.collapsed": py-spy's own log goes beside it as <stem>.log, the gateway's name.
    profiler = rig.Profiler(gateway.pid, workdir / "ingest-profile.collapsed")
    try:
        count = max(1, round(rate * cfg.profile_s))
        run = asyncio.run(open_loop(url, [body(i, "profiled") for i in range(count)], rate))
    finally:
        profiler.stop()
    accepted = run["statuses"].get(202, 0)
    if profiler.error is not None:
        return {"error": profiler.error, "accepted": accepted}
    analysis = report.analyse_profile(profiler.out)
    return {"analysis": analysis, "requests": count, "accepted": accepted}


# --- RESULTS.md ----------------------------------------------------------------------------------

HEADING = "## Ingest gateway"
CPU_RATIO_MAX = 1.5
OPEN_P99_MAX_MS = 25.0


def section(m: dict[str, Any] | None, error: str | None, provenance: str) -> tuple[list[str], bool]:
    """The "## Ingest gateway" section of RESULTS.md, and whether every target was met."""
    out = [HEADING, "", provenance, ""]
    if m is None:
        return [*out, f"Not measured: {error or 'the phase did not run'}.", ""], False
    cfg: IngestConfig = m["config"]
    ratio = m["gateway_cpu_ms"] / m["bare_cpu_ms"]
    complete = m["queued"] == m["accepted"] and set(m["gateway_statuses"]) == {202}
    rows: list[tuple[str, str, str, bool | None]] = [
        (
            f"webhooks per second to the 202, concurrency {cfg.concurrency} (closed loop)",
            f"{m['gateway_rate']:.0f} /s (bare SendMessage loop: {m['bare_rate']:.0f} msg/s)",
            "none set",
            None,
        ),
        (
            f"time to the 202 at concurrency {cfg.concurrency}, p50 / p99",
            f"{m['gateway_p50_ms']:.1f} / {m['gateway_p99_ms']:.1f} ms "
            f"(bare SendMessage: {m['bare_p50_ms']:.1f} / {m['bare_p99_ms']:.1f} ms)",
            "none set",
            None,
        ),
        (
            "gateway CPU per webhook ÷ bare loop CPU per message",
            f"{ratio:.2f} ({m['gateway_cpu_ms']:.3f} vs {m['bare_cpu_ms']:.3f} ms)",
            f"≤ {CPU_RATIO_MAX:g}",
            ratio <= CPU_RATIO_MAX,
        ),
        (
            f"time to the 202 at {cfg.load:g} × capacity ({m['open_rate']:.0f} /s, open loop), p99",
            f"{m['open_p99_ms']:.1f} ms (p50 {m['open_p50_ms']:.1f} ms)",
            f"≤ {OPEN_P99_MAX_MS:g} ms",
            m["open_p99_ms"] <= OPEN_P99_MAX_MS,
        ),
        (
            f"reference: bare SendMessage at {cfg.load:g} × its capacity ({m['bare_open_rate']:.0f} /s, open loop), p99",
            f"{m['bare_open_p99_ms']:.1f} ms (p50 {m['bare_open_p50_ms']:.1f} ms)",
            "none set",
            None,
        ),
        (
            "every 202 on the queue",
            f"{m['queued']:,} messages for {m['accepted']:,} answers 202",
            "equal",
            complete,
        ),
    ]
    verdict = {None: "report only", True: "PASS", False: "**FAIL**"}
    out += ["| figure | measured | target | result |", "|---|---|---|---|"]
    out += [f"| {f} | {v} | {t} | {verdict[ok]} |" for f, v, t, ok in rows]
    closed, bare = m["closed_picture"], m["bare_picture"]
    out += [
        "",
        f"Closed loop: {cfg.requests:,} webhooks (after {cfg.warmup} warm-up ones) in "
        f"{m['gateway_window_s']:.2f} s; the gateway used {m['gateway_cpu_s']:.2f} s of CPU, "
        f"LocalStack {closed.get('localstack', 0):.2f} s, the bench's process (the HTTP client) "
        f"{closed['bench']:.2f} s; the machine kept {closed['machine_busy'] / m['gateway_window_s']:.2f} "
        f"of {os.cpu_count()} cores busy. Bare loop: {cfg.requests:,} `SendMessage` calls in "
        f"{m['bare_window_s']:.2f} s, {m['bare_cpu_s']:.2f} s of its own CPU; the machine kept "
        f"{bare['machine_busy'] / m['bare_window_s']:.2f} cores busy.",
        "",
        f"Open loop: {m['open_requests']:,} webhooks at {m['open_rate']:.0f} /s ({cfg.load:g} × the "
        f"{m['gateway_rate']:.0f} /s measured above) for {cfg.open_loop_s:g} s; to the 202 p50 "
        f"{m['open_p50_ms']:.1f} ms, p99 {m['open_p99_ms']:.1f} ms, max {m['open_max_ms']:.1f} ms; "
        f"from the scheduled send p99 {m['open_schedule_p99_ms']:.1f} ms; inside the gateway (its log's "
        f"`duration_ms`, request read to answer) p50 {m['inside_p50_ms']:.1f} ms, p99 "
        f"{m['inside_p99_ms']:.1f} ms (sends started at most "
        f"{m['open_lateness_p99_ms']:.1f} ms late, p99). Answers: closed "
        f"{_statuses(m['gateway_statuses'])}, open {_statuses(m['open_statuses'])}. During the open loop "
        f"the gateway used {m['open_cpu_ms']:.2f} ms of CPU per webhook (closed loop: "
        f"{m['gateway_cpu_ms']:.2f}), LocalStack {m['open_picture'].get('localstack', 0) / m['open_requests'] * 1000:.2f} ms, "
        f"and the machine kept {m['open_picture']['machine_busy'] / m['open_window_s']:.2f} of "
        f"{os.cpu_count()} cores busy. The gateway exited "
        f"{m['gateway_exit']} on SIGTERM; warnings/errors in its log: "
        f"{', '.join(f'{k} ×{v}' for k, v in sorted(m['problems'].items())) or 'none'}.",
        "",
        *_pause_lines(m.get("open_localstack_gc"), m.get("open_gateway_gc")),
        f"Parameters: `{cfg}`; the gateway with `TRIAGE_LOG_LEVEL={cfg.log_level}` (one "
        f"`ingest.accepted` line per webhook, as in production), `TRIAGE_INGEST_LINGER_MS={cfg.linger_ms:g}`, "
        "the rate limit out of the way, LocalStack's SQS as the queue; the HTTP client is aiohttp in "
        "the bench's process; the bare loop is aioboto3 `send_message` from 64 tasks on one client "
        "(64 pooled connections, asking for keep-alive like the gateway) in its own process, the "
        "same body size, its CPU from `/proc/<pid>/stat` after its own warm-up.",
        "",
    ]
    sweep = m.get("sweep") or []
    if sweep:
        lighter = "; ".join(
            f"{run['load']:g} × capacity ({run['rate']:.0f} /s, {run['requests']:,} webhooks): "
            f"p50 {run['p50_ms']:.1f} ms, p99 {run['p99_ms']:.1f} ms"
            for run in sweep
        )
        out += [f"Lighter open loops, to the 202 (report only): {lighter}.", ""]
    out += _profile_lines(m.get("profile"))
    return out, all(ok is not False for *_, ok in rows)


def _pause_lines(
    localstack: dict[str, float] | None, gateway: dict[str, float] | None
) -> list[str]:
    """What the processes' own garbage collections stopped them for during the open loop."""
    if localstack is None and gateway is None:
        return []

    def said(who: str, p: dict[str, float] | None) -> str:
        if p is None:
            return f"{who}: not logged (a LocalStack the bench did not start)"
        if not p["count"]:
            return f"{who}: none"
        return (
            f"{who}: {p['count']:.0f} (longest {p['longest_ms']:.1f} ms, "
            f"{p['total_ms']:.0f} ms in all, {p['full']:.0f} of them full)"
        )

    return [
        "Pauses for garbage collection of 5 ms or more during the open loop (bench/gclog; "
        "report only): "
        + "; ".join([said("LocalStack", localstack), said("the gateway", gateway)])
        + ". A pause of LocalStack holds every SendMessageBatch in flight for its length.",
        "",
    ]


def _profile_lines(profile: dict[str, Any] | None) -> list[str]:
    if not profile:
        return []
    if "error" in profile:
        return [f"Profile: not taken ({profile['error']}).", ""]
    a = profile["analysis"]
    total = a["samples"] or 1
    areas = ", ".join(f"{area} {count / total:.0%}" for area, count in a["incl_area"][:6])
    own = ", ".join(f"`{fn}` {c / total:.0%}" for fn, c in a["incl_triage"] if "ingest" in fn)
    return [
        f"Profile (py-spy, 250 Hz, `--gil`, during a repeat of the open loop: {profile['requests']:,} "
        f"webhooks, {a['samples']:,} samples). Share of the gateway's busy samples anywhere in the "
        f"stack: {areas}. The gateway's own functions (inclusive): {own}.",
        "",
    ]


def _statuses(counts: dict[Any, int]) -> str:
    return ", ".join(f"{k}: {v:,}" for k, v in sorted(counts.items(), key=lambda kv: str(kv[0])))


def splice(document: str, lines: list[str]) -> str:
    """`document` with its Ingest gateway section replaced by `lines` (or inserted before
    "## Machine and versions", else appended); every other section stays as it was."""
    return sections.replace(document, HEADING, lines)


if __name__ == "__main__" and len(sys.argv) == 3 and sys.argv[1] == "bare":
    sys.path.insert(0, str(ROOT / "src"))
    result = asyncio.run(_bare(json.loads(sys.argv[2])))
    print(json.dumps(result), flush=True)
