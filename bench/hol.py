# ruff: noqa: RUF001, RUF002 - the report writes the multiplication sign on purpose
"""Head-of-line blocking in a storm (`python3 dev.py bench --only hol`): while repeats of open
incidents flow at a steady rate, new incidents arrive at 10 a second; how long each takes from
its send to its ticket at the backend.

Figure (bench/README.md, "Head-of-line blocking in a storm"): new incidents' send → ticket p99
≤ 1.3 × the model's latency while the storm flows at the issue's rate (1,000 repeats a second);
the same at a rate the daemon sustains on this machine (a share of the storm capacity the phase
measures first), report only.

    python bench/hol.py feed CONFIG_JSON   # the feeder, run by the phase itself
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import math
import os
import re
import subprocess
import sys
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import sections

ROOT = Path(__file__).resolve().parents[1]

P99_MAX_LATENCIES = 1.3
#: Repeats per second in the issue's storm.
ISSUE_STORM_RATE = 1_000.0


@dataclass(frozen=True)
class HolConfig:
    """The phase's parameters; all of them are printed in RESULTS.md."""

    llm_latency_s: float = 0.5
    #: TRIAGE_CONCURRENCY and TRIAGE_LLM_CONCURRENCY of the daemon.
    concurrency: int = 32
    #: Open incidents the storm repeats (each opened by one message before the storm).
    incidents: int = 50
    #: Repeats queued at once (as fast as the feeder sends) to measure the storm capacity.
    capacity_messages: int = 4_000
    #: The issue's storm rate, repeats per second.
    storm_rate: float = ISSUE_STORM_RATE
    #: The second storm's rate as a share of the measured capacity (a rate it sustains here).
    sustained_share: float = 0.5
    #: New incidents per second during each storm.
    new_rate: float = 10.0
    #: Seconds each storm is fed.
    duration_s: float = 20.0


FULL = HolConfig()
#: As small as still measures (a faster model, half-second feeds): the test suite's smoke run.
QUICK = HolConfig(
    llm_latency_s=0.1,
    concurrency=8,
    incidents=2,
    capacity_messages=20,
    storm_rate=40.0,
    new_rate=10.0,
    duration_s=0.5,
)


# --- The feeder (a child process) ----------------------------------------------------------------


async def _serve(config: dict[str, Any]) -> None:
    """The feeder's life: two clients made and warmed up, "ready", then one feed per line of
    stdin (its JSON parameters), each answered with one line of JSON, until stdin closes."""
    from aiobotocore.session import get_session
    from botocore.config import Config

    from triage.aws import keep_alive

    session = get_session()

    def client(pool: int) -> Any:
        cfg = Config(max_pool_connections=pool, retries={"max_attempts": 3, "mode": "standard"})
        return session.create_client(
            "sqs", endpoint_url=config["endpoint"], region_name=config["region"], config=cfg
        )

    # Storm and new incidents use separate clients, so a new incident never waits for a
    # storm batch's pooled connection.
    async with client(64) as storm_sqs, client(8) as new_sqs:
        for sqs in (storm_sqs, new_sqs):
            # A TCP connection per send would spend the cores the daemon is measured on.
            keep_alive(sqs, "sqs")
        # Warm-up: the connections and botocore's models, before the parent starts a clock.
        for sqs in (storm_sqs, new_sqs):
            await sqs.get_queue_attributes(
                QueueUrl=config["queue_url"], AttributeNames=["QueueArn"]
            )
        print("ready", flush=True)
        for line in sys.stdin:
            result = await _feed(storm_sqs, new_sqs, {**config, **json.loads(line)})
            print(json.dumps(result), flush=True)


async def _feed(storm_sqs: Any, new_sqs: Any, config: dict[str, Any]) -> dict[str, Any]:
    """Send `storm` repeats (batches of 10) at `storm_rate` and `new` new incidents (one by one)
    at `new_rate`, each send on its own task at its scheduled time (open loop: a slow answer
    never delays the next send)."""
    import rig

    url, prefix = config["queue_url"], config["prefix"]
    incidents, storm, new = int(config["incidents"]), int(config["storm"]), int(config["new"])
    storm_rate, new_rate = float(config["storm_rate"]), float(config["new_rate"])
    first_occurrence, first_new = int(config["first_occurrence"]), int(config["first_new"])
    start = time.monotonic() + 0.05
    storm_late: list[float] = []
    new_late: list[float] = []
    new_sent: dict[int, float] = {}
    counts = {"storm_sent": 0, "storm_failed": 0}
    last_done = [start]

    async def send_batch(j: int) -> None:
        slot = start + j * 10 / storm_rate
        await asyncio.sleep(max(0.0, slot - time.monotonic()))
        storm_late.append(time.monotonic() - slot)
        entries = []
        for i in range(j * 10, min(storm, j * 10 + 10)):
            k = i % incidents
            body = rig.generic_alert(
                f"{prefix}-{k}", f"{prefix} incident {k}", occurrence=first_occurrence + i
            )
            entries.append({"Id": str(i % 10), "MessageBody": body})
        response = await storm_sqs.send_message_batch(QueueUrl=url, Entries=entries)
        failed = len(response.get("Failed", []))
        counts["storm_failed"] += failed
        counts["storm_sent"] += len(entries) - failed
        last_done[0] = max(last_done[0], time.monotonic())

    async def send_new(s: int) -> None:
        slot = start + s / new_rate
        await asyncio.sleep(max(0.0, slot - time.monotonic()))
        new_late.append(time.monotonic() - slot)
        seq = first_new + s  # each storm's new incidents are new to the daemon
        began = time.time()
        body = rig.generic_alert(f"{prefix}-new-{seq}", f"{prefix} new incident {seq}")
        await new_sqs.send_message(QueueUrl=url, MessageBody=body)
        new_sent[seq] = began
        last_done[0] = max(last_done[0], time.monotonic())

    await asyncio.gather(
        *(send_batch(j) for j in range(math.ceil(storm / 10))),
        *(send_new(s) for s in range(new)),
    )
    return {
        **counts,
        "window_s": last_done[0] - start,
        "storm_late_p99_s": rig.percentile(storm_late, 99) if storm_late else 0.0,
        "new_late_p99_s": rig.percentile(new_late, 99) if new_late else 0.0,
        "new_sent": new_sent,
    }


class Feeder:
    """The feeder, a child process started (imports, clients, a first call) before any clock
    and reused for every feed of the phase; its CPU is read over each feed alone."""

    def __init__(self, queue: Any, prefix: str, incidents: int) -> None:
        import rig

        self.prefix = prefix
        config = {
            "queue_url": queue.url,
            "endpoint": queue.endpoint,
            "region": rig.REGION,
            "prefix": prefix,
            "incidents": incidents,
        }
        env = {
            **os.environ,
            **rig.AWS_ENV,
            "PYTHONPATH": os.pathsep.join([str(ROOT / "src"), str(ROOT / "bench")]),
        }
        self.process = subprocess.Popen(
            [sys.executable, str(Path(__file__)), "feed", json.dumps(config)],
            env=env,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
            start_new_session=True,
        )
        assert self.process.stdout is not None
        if self.process.stdout.readline().strip() != "ready":
            self.stop()
            raise RuntimeError("the feeder did not start")

    def run(
        self,
        storm: int,
        storm_rate: float,
        new: int,
        new_rate: float,
        first_occurrence: int,
        first_new: int = 0,
        started: Any = None,
    ) -> dict[str, Any]:
        """One feed; `started()` is called just before it begins. Returns the feeder's figures,
        with `cpu_s` (its CPU over the feed) and `began` (time.time() as it was asked to go)."""
        import rig

        process = self.process
        assert process.stdin is not None and process.stdout is not None
        feed = {
            "storm": storm,
            "storm_rate": storm_rate,
            "new": new,
            "new_rate": new_rate,
            "first_occurrence": first_occurrence,
            "first_new": first_new,
        }
        if started is not None:
            started()
        cpu0 = rig.process_cpu_s(process.pid)
        began = time.time()
        process.stdin.write(json.dumps(feed) + "\n")
        process.stdin.flush()
        line = process.stdout.readline()
        cpu = rig.process_cpu_s(process.pid) - cpu0
        if not line:
            raise RuntimeError("the feeder died")
        result: dict[str, Any] = json.loads(line)
        result["new_sent"] = {int(k): v for k, v in result["new_sent"].items()}
        return {**result, "cpu_s": cpu, "began": began}

    def stop(self) -> None:
        """Close its stdin (it exits), else kill it."""
        with contextlib.suppress(OSError):
            if self.process.stdin is not None:
                self.process.stdin.close()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


# --- The phase -----------------------------------------------------------------------------------


def measure(bench: Any, cfg: HolConfig) -> dict[str, Any]:
    """One daemon on a fresh queue: open `cfg.incidents` incidents; measure the storm capacity
    (a burst of repeats, first send to empty queue); then two storms, each with new incidents
    at `cfg.new_rate`: at `sustained_share` × that capacity, then at the issue's rate."""
    import rig

    name = "hol"
    queue = rig.make_queue(bench.endpoint, name)
    chat = rig.TimedChat(cfg.llm_latency_s)
    chat.start()
    try:
        settings = rig.bench_settings(
            queue,
            chat,
            bench.backend,
            store_url=f"sqlite:///{bench.workdir / (name + '.db')}",
            concurrency=cfg.concurrency,
            llm_concurrency=cfg.concurrency,
        )
        daemon = rig.Daemon(settings, bench.workdir / f"{name}.log")
        feeder: Feeder | None = None
        try:
            feeder = Feeder(queue, name, cfg.incidents)
            tickets0 = bench.backend.count()
            queue.send_all(
                [
                    rig.generic_alert(f"{name}-{k}", f"{name} incident {k}")
                    for k in range(cfg.incidents)
                ]
            )
            deadline = time.monotonic() + 60 + cfg.incidents * cfg.llm_latency_s
            if (
                not rig.wait_for(
                    lambda: bench.backend.count() >= tickets0 + cfg.incidents or not daemon.alive(),
                    deadline,
                    poll_s=0.02,
                )
                or not daemon.alive()
            ):
                raise RuntimeError(f"the incidents were not opened ({daemon.log_path})")
            _drain(queue, daemon, 60)
            capacity = _capacity(feeder, queue, daemon, bench, cfg)
            sustained_rate = capacity["rate"] * cfg.sustained_share
            runs = []
            occurrence, first_new = cfg.capacity_messages, 0
            # First no storm at all: what a new incident's send → ticket is on this machine.
            plan = (("none", 0.0), ("sustained", sustained_rate), ("issue", cfg.storm_rate))
            for label, rate in plan:
                run = _storm(feeder, queue, daemon, bench, cfg, rate, occurrence, first_new, label)
                occurrence += run["storm_offered"]
                first_new += run["new"]
                runs.append(run)
                if label != "issue":
                    # The next storm starts on an empty queue.
                    _drain(queue, daemon, 60 + run["backlog"] / max(capacity["rate"], 1.0) * 2)
            llm_calls = chat.count()
            tickets = bench.backend.count() - tickets0
            seen = problems(daemon.log_events())
        finally:
            if feeder is not None:
                feeder.stop()
            daemon.stop()
    finally:
        chat.stop()
    new_total = sum(r["new"] for r in runs)
    return {
        "config": cfg,
        "capacity": capacity,
        "runs": runs,
        "llm_calls": llm_calls,
        "tickets": tickets,
        "expected": cfg.incidents + new_total,
        "problems": seen,
    }


def _drain(queue: Any, daemon: Any, timeout_s: float) -> float:
    end = queue.wait_empty(time.monotonic() + timeout_s)
    if end is None:
        raise RuntimeError(f"queue not drained within {timeout_s:.0f} s ({daemon.log_path})")
    return float(end)


def _capacity(
    feeder: Feeder, queue: Any, daemon: Any, bench: Any, cfg: HolConfig
) -> dict[str, Any]:
    """Repeats sent as fast as the feeder can, while the daemon works: repeats ÷ (first send to
    the empty queue), and the daemon's CPU per repeat over that window."""
    import rig

    marks: dict[str, Any] = {}

    def started() -> None:
        marks["cpu0"] = daemon.cpu_s()
        marks["meter"] = rig.CpuMeter(daemon.pid, bench.localstack_pid)

    feed = feeder.run(cfg.capacity_messages, 1e9, 0, 1.0, 0, 0, started)
    if feed["storm_failed"]:
        raise RuntimeError(f"{feed['storm_failed']} repeats were refused by SQS")
    end = _drain(queue, daemon, 60 + cfg.capacity_messages / 20)
    cpu = daemon.cpu_s() - marks["cpu0"]
    window = end - feed["began"]
    return {
        "messages": cfg.capacity_messages,
        "send_s": feed["window_s"],
        "window_s": window,
        "rate": cfg.capacity_messages / window,
        "cpu_per_repeat_ms": cpu / cfg.capacity_messages * 1000,
        "cpu": marks["meter"].stop(),
        "feeder_cpu_s": feed["cpu_s"],
    }


def _storm(
    feeder: Feeder,
    queue: Any,
    daemon: Any,
    bench: Any,
    cfg: HolConfig,
    rate: float,
    first_occurrence: int,
    first_new: int,
    label: str,
) -> dict[str, Any]:
    """One storm at `rate` with new incidents at `cfg.new_rate`, for `cfg.duration_s`: each new
    incident's send → ticket, the backlog when the feed ends, what the daemon got through."""
    import rig

    storm = round(rate * cfg.duration_s / 10) * 10
    new = max(1, round(cfg.new_rate * cfg.duration_s))
    index = bench.backend.count()
    marks: dict[str, Any] = {}

    def started() -> None:
        marks["cpu0"] = daemon.cpu_s()
        marks["meter"] = rig.CpuMeter(daemon.pid, bench.localstack_pid)

    feed = feeder.run(storm, rate, new, cfg.new_rate, first_occurrence, first_new, started)
    fed_at = time.time()
    backlog = queue.depth()
    cpu = daemon.cpu_s() - marks["cpu0"]
    picture = marks["meter"].stop()
    pattern = re.compile(rf"\b{re.escape(feeder.prefix)} new incident (\d+)\b")
    sent = feed["new_sent"]
    ticketed: dict[int, float] = {}

    def all_ticketed() -> bool:
        for at, title in bench.backend.created_since(index):
            match = pattern.search(title)
            if match and int(match[1]) in sent:
                ticketed.setdefault(int(match[1]), at)
        return len(ticketed) >= len(sent) or not daemon.alive()

    # Behind a backlog the last new incidents wait for it to be worked off: give them that long.
    capacity_s = (storm + new) / max(rate, 1.0)
    rig.wait_for(all_ticketed, time.monotonic() + 60 + 2 * capacity_s + backlog / 50, poll_s=0.05)
    latencies = [(ticketed[s] - t) * 1000 for s, t in sent.items() if s in ticketed]
    window = fed_at - feed["began"]
    processed = feed["storm_sent"] + len(sent) - backlog
    return {
        "label": label,
        "rate": rate,
        "storm_offered": storm,
        "storm_sent": feed["storm_sent"],
        "storm_failed": feed["storm_failed"],
        "feed_s": feed["window_s"],
        "achieved_rate": feed["storm_sent"] / feed["window_s"] if feed["window_s"] else 0.0,
        "storm_late_p99_ms": feed["storm_late_p99_s"] * 1000,
        "new_late_p99_ms": feed["new_late_p99_s"] * 1000,
        "new": new,
        "new_sent": len(sent),
        "new_ticketed": len(latencies),
        "p50_ms": rig.percentile(latencies, 50) if latencies else None,
        "p99_ms": rig.percentile(latencies, 99) if latencies else None,
        "max_ms": max(latencies) if latencies else None,
        "backlog": backlog,
        "window_s": window,
        "processed_rate": processed / window,
        "cpu_per_message_ms": cpu / max(processed, 1) * 1000,
        "cpu": picture,
        "feeder_cpu_s": feed["cpu_s"],
    }


def problems(events: list[dict[str, Any]]) -> dict[str, int]:
    """Warning and error events of a daemon's log, counted by event name."""
    counts: dict[str, int] = {}
    for event in events:
        if event.get("level") in {"warning", "error", "critical"}:
            name = str(event.get("event"))
            counts[name] = counts.get(name, 0) + 1
    return counts


# --- RESULTS.md ----------------------------------------------------------------------------------

HEADING = "## Head-of-line blocking in a storm"


def kept_up(run: dict[str, Any]) -> bool:
    """The daemon kept up with a storm when it got through at least 90% of what was sent per
    second and what was left on the queue as the feed ended is at most one second of it."""
    sent = run["achieved_rate"]
    return bool(run["processed_rate"] >= 0.9 * sent and run["backlog"] <= max(sent, 10.0))


def section(m: dict[str, Any] | None, error: str | None, provenance: str) -> tuple[list[str], bool]:
    """This phase's section of RESULTS.md, and whether its target was met."""
    out = [HEADING, "", provenance, ""]
    if m is None:
        return [*out, f"Not measured: {error or 'the phase did not run'}.", ""], False
    cfg: HolConfig = m["config"]
    bound_ms = P99_MAX_LATENCIES * cfg.llm_latency_s * 1000
    cap = m["capacity"]
    rows: list[tuple[str, str, str, bool | None]] = [
        (
            f"storm capacity: {cap['messages']:,} repeats queued at once, ÷ first send to empty queue",
            f"{cap['rate']:.0f} repeats/s (daemon CPU {cap['cpu_per_repeat_ms']:.2f} ms per repeat)",
            "none set",
            None,
        )
    ]
    ok = True
    for run in m["runs"]:
        issue = run["label"] == "issue"
        offered = f"{run['rate']:,.0f} repeats/s"
        where = {
            "none": "with no storm (the reference)",
            "sustained": f"during a storm at {offered} ({cfg.sustained_share:g} × capacity)",
            "issue": f"during a storm at the issue's {offered}"
            if run["rate"] == ISSUE_STORM_RATE
            else f"during a storm at {offered} (`storm_rate`; the issue's is 1,000/s)",
        }[run["label"]]
        complete = run["new_ticketed"] == run["new"] and run["p99_ms"] is not None
        reached = run["achieved_rate"] >= 0.95 * run["rate"]
        if complete:
            value = (
                f"{run['p99_ms']:.0f} ms (p50 {run['p50_ms']:.0f} ms, max {run['max_ms']:.0f} ms; "
                f"{run['p99_ms'] / (cfg.llm_latency_s * 1000):.2f} × the model latency)"
            )
        else:
            value = f"{run['new_ticketed']} of {run['new']} new incidents ticketed by the deadline"
        met = complete and run["p99_ms"] <= bound_ms
        if issue:
            if not reached:
                # Not "not measured": that phrase is kept for a phase that did not run.
                value += (
                    f"; the feeder offered only {run['achieved_rate']:.0f} repeats/s: the "
                    f"storm fell short of {offered}, so this row cannot pass"
                )
            verdict: bool | None = met and reached
            ok = ok and bool(verdict)
            target = f"≤ {bound_ms:.0f} ms ({P99_MAX_LATENCIES:g} × {cfg.llm_latency_s:g} s)"
        else:
            verdict = None
            target = f"report only (≤ {bound_ms:.0f} ms {'met' if met else 'missed'} at this rate)"
        rows.append(
            (
                f"new incidents at {cfg.new_rate:g}/s {where}: send → ticket p99",
                value,
                target,
                verdict,
            )
        )
        if run["label"] == "none":
            continue
        rows.append(
            (
                f"storm at {offered}: repeats offered / processed per second, backlog at the end",
                f"{run['achieved_rate']:.0f} / {run['processed_rate']:.0f} per s, backlog "
                f"{run['backlog']:,} ({'kept up' if kept_up(run) else 'did not keep up'})",
                "none set",
                None,
            )
        )
    calls_ok = m["llm_calls"] == m["expected"] and m["tickets"] == m["expected"]
    rows.append(
        (
            "LLM calls and tickets (one per incident opened; repeats make none)",
            f"{m['llm_calls']} / {m['tickets']}",
            f"exactly {m['expected']}",
            calls_ok,
        )
    )
    ok = ok and calls_ok
    verdicts = {None: "report only", True: "PASS", False: "**FAIL**"}
    out += ["| figure | measured | target | result |", "|---|---|---|---|"]
    out += [f"| {f} | {v} | {t} | {verdicts[k]} |" for f, v, t, k in rows]
    out += [
        "",
        "| storm | repeats sent in s (late p99 ms) | new incidents sent (late p99 ms) | "
        "daemon ms CPU per message | CPU s: daemon / LocalStack / feeder / bench; machine busy |",
        "|---|---|---|---|---|",
    ]
    for run in m["runs"]:
        c = run["cpu"]
        out.append(
            f"| {run['rate']:,.0f}/s for {cfg.duration_s:g} s | {run['storm_sent']:,} in "
            f"{run['feed_s']:.1f} ({run['storm_late_p99_ms']:.0f}) | {run['new_sent']} "
            f"({run['new_late_p99_ms']:.0f}) | {run['cpu_per_message_ms']:.2f} | "
            f"{c.get('daemon', 0):.1f} / {c.get('localstack', 0):.1f} / {run['feeder_cpu_s']:.1f} / "
            f"{c.get('bench', 0):.1f}; {c.get('machine_busy', 0):.1f} of {c.get('machine_total', 0):.1f} |"
        )
    cc = cap["cpu"]
    out += [
        "",
        f"Parameters: {json.dumps(asdict(cfg))}. One daemon (`TRIAGE_CONCURRENCY` = "
        f"`TRIAGE_LLM_CONCURRENCY` = {cfg.concurrency}, the loopback model answering in "
        f"{cfg.llm_latency_s:g} s) on one fresh queue; {cfg.incidents} incidents opened first. "
        f"Capacity burst: {cap['messages']:,} repeats sent in {cap['send_s']:.1f} s, queue empty "
        f"after {cap['window_s']:.1f} s; CPU s daemon / LocalStack / feeder: "
        f"{cc.get('daemon', 0):.1f} / {cc.get('localstack', 0):.1f} / {cap['feeder_cpu_s']:.1f}. "
        f"Warnings in the daemon's log: {m['problems'] or 'none'}.",
        "",
    ]
    return out, ok


def splice(document: str, lines: list[str], heading: str = HEADING) -> str:
    """`document` with the section `heading` replaced by `lines` (or inserted before "## Machine
    and versions", else appended); every other section stays as it was."""
    return sections.replace(document, heading, lines)


if __name__ == "__main__" and len(sys.argv) == 3 and sys.argv[1] == "feed":
    sys.path.insert(0, str(ROOT / "src"))
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(_serve(json.loads(sys.argv[2])))
