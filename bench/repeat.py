"""A storm repeat's CPU in process: the daemon's pipeline (`app.pipeline_from`) on the SQLite
store in a temporary directory, with its silences and GC settings, no SQS. `incidents` generic
alerts are opened first (one message each), then `N` repeat messages of them (bench/run.py's
storm: `rig.generic_alert` bodies, a seeded shuffle over the incidents) go through
`Pipeline.process` at `concurrency` at once, each message's `on_deleted` called after it, as
the Supervisor's acker does.

    python bench/repeat.py N [--incidents 50] [--concurrency 32] [--profile FILE]
        [--silence MATCHER]... [--deploy-silences N]

`--silence team=payments` adds a silence of that matcher, in effect from before the first
alert for a day (a maintenance window of another team's: the alerts' team is platform).
`--deploy-silences 1000` adds that many more, `service=svc-K` and `env=prod` each (a team that
silences each deploy), none matching the storm's alerts.

Prints one JSON line: CPU µs per repeat of the whole process and of the SQLite store's thread
(its own clock, `pthread_getcpuclockid`), the store's transactions, the repeats counted by the
plain path (`Store.count_repeat`), and the actions taken. Run
it with `PYTHONPATH=<a checkout>/src` to measure another commit's code with the same harness.
"""

from __future__ import annotations

import argparse
import asyncio
import collections
import cProfile
import gc
import json
import random
import sys
import tempfile
import threading
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import rig

from triage.app import pipeline_from, policy_from
from triage.incidents import open_store
from triage.incidents.silences import Matcher, Silence, SilenceCache
from triage.logs import configure_logging
from triage.metrics import Metrics
from triage.models import EffectKind, Priority, Ticket
from triage.pipeline import Pipeline
from triage.redact import Redactor
from triage.settings import Settings
from triage.sinks.base import Applied, Effect
from triage.sqs.inbox import Message


class _Backend:
    """A ticket backend that answers at once (a repeat calls no sink)."""

    name = "backend"

    def __init__(self) -> None:
        self.opened = 0

    async def apply(self, effect: Effect) -> Applied:
        if effect.kind is EffectKind.OPEN:
            self.opened += 1
            return Applied(f"T-{self.opened}")
        return Applied()

    async def aclose(self) -> None:
        return None


class _Summariser:
    """The summary of a new incident, without a model (a repeat never summarises)."""

    async def summarise(self, alert: Any) -> Ticket:
        return Ticket(title=alert.title, priority=Priority.HIGH, description="d", steps=("s",))

    async def aclose(self) -> None:
        return None


def _message(i: int, body: str) -> Message:
    return Message(f"m-{i:08d}", body, f"rh-{i}", 1, datetime.now(UTC))


def _thread_cpu_s(ident: int) -> float:
    return time.clock_gettime(time.pthread_getcpuclockid(ident))


async def _drain(pipeline: Pipeline, messages: list[Message], concurrency: int) -> list[str]:
    """Every message through the pipeline, `concurrency` at a time; their actions."""
    pending = iter(messages)
    actions: list[str] = []

    async def worker() -> None:
        for message in pending:
            outcomes = await pipeline.process(message)
            for deleted in message.on_deleted:
                deleted()
            actions.extend(str(o.action) for o in outcomes)

    async with asyncio.TaskGroup() as tasks:
        for _ in range(concurrency):
            tasks.create_task(worker())
    return actions


async def measure(
    repeats: int,
    incidents: int,
    concurrency: int,
    profile: str | None = None,
    *,
    daemon_gc: bool = False,
    silenced: tuple[str, ...] = (),
    deploy_silences: int = 0,
) -> dict[str, Any]:
    """The figures of one run (see the module docstring). `daemon_gc`: the garbage collector
    set as the daemon sets it once started, for the rest of the process (the script's runs).
    `silenced`: a silence's matcher each, in effect for the whole run."""
    settings = Settings(llm="none", llm_concurrency=concurrency, update_interval_s=900)
    with tempfile.TemporaryDirectory(prefix="triage-repeat-") as tmp:
        store = await open_store(
            f"sqlite:///{Path(tmp) / 'store.db'}",
            policy_from(settings),
            lease=timedelta(seconds=settings.effect_lease_s),
            closed_ttl=timedelta(seconds=settings.closed_ttl_s),
        )
        try:
            metrics = Metrics()
            now = datetime.now(UTC)
            for matcher in silenced:
                quiet = Silence.new(
                    [Matcher.parse(matcher)], now, now + timedelta(days=1), "bench", "bench"
                )
                await store.add_silence(quiet, now)
            for k in range(deploy_silences):
                deploy = [Matcher.parse(f"service=svc-{k}"), Matcher.parse("env=prod")]
                quiet = Silence.new(deploy, now, now + timedelta(days=1), f"deploy {k}", "ci")
                await store.add_silence(quiet, now)
            silences = SilenceCache(store, settings.silence_cache_s)
            pipeline = pipeline_from(
                settings,
                store,
                _Summariser(),
                [_Backend()],
                metrics,
                Redactor(),
                silences=silences,
            )
            firsts = [
                rig.generic_alert(f"storm-{k}", f"storm incident {k}", occurrence=-1 - k)
                for k in range(incidents)
            ]
            opened = await _drain(
                pipeline, [_message(i, b) for i, b in enumerate(firsts)], concurrency
            )
            order = [i % incidents for i in range(repeats)]
            random.Random(7).shuffle(order)
            messages = [
                _message(
                    incidents + i,
                    rig.generic_alert(f"storm-{k}", f"storm incident {k}", occurrence=i),
                )
                for i, k in enumerate(order)
            ]
            sqlite_ident = store._executor.submit(threading.get_ident).result()
            if daemon_gc:  # as the daemon does once it has started (`app._freeze_startup_objects`)
                gc.collect()
                gc.freeze()
                gc.set_threshold(10_000, 10, 10)
            transactions0 = store.transactions
            plain0 = getattr(store, "plain_counts", 0)  # 0: a commit without the plain path
            profiler = cProfile.Profile(time.thread_time) if profile else None
            # The store's thread profiled apart (FILE.sqlite): cProfile sees one thread.
            store_profiler = cProfile.Profile(time.thread_time) if profile else None
            thread0, process0, wall0 = (
                _thread_cpu_s(sqlite_ident),
                time.process_time(),
                time.perf_counter(),
            )
            if profiler is not None and store_profiler is not None:
                store._executor.submit(store_profiler.enable).result()
                profiler.enable()
            actions = await _drain(pipeline, messages, concurrency)
            if profiler is not None and store_profiler is not None:
                profiler.disable()
                store._executor.submit(store_profiler.disable).result()
            process_s = time.process_time() - process0
            wall_s = time.perf_counter() - wall0
            thread_s = _thread_cpu_s(sqlite_ident) - thread0
            if profiler is not None and store_profiler is not None and profile:
                profiler.dump_stats(profile)
                store_profiler.dump_stats(f"{profile}.sqlite")
            return {
                "repeats": repeats,
                "silences": list(silenced),
                "deploy_silences": deploy_silences,
                "incidents": incidents,
                "concurrency": concurrency,
                "process_us": round(process_s / repeats * 1e6, 1),
                "sqlite_thread_us": round(thread_s / repeats * 1e6, 1),
                "other_us": round((process_s - thread_s) / repeats * 1e6, 1),
                "wall_s": round(wall_s, 3),
                "transactions": store.transactions - transactions0,
                "plain": getattr(store, "plain_counts", 0) - plain0,
                "opened": dict(collections.Counter(opened)),
                "actions": dict(collections.Counter(actions)),
            }
        finally:
            await store.aclose()


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("repeats", type=int)
    parser.add_argument("--incidents", type=int, default=50)
    parser.add_argument("--concurrency", type=int, default=32)
    parser.add_argument("--profile", help="write cProfile stats of the repeats to this file")
    parser.add_argument(
        "--silence", action="append", default=[], help="a silence's matcher, in effect (repeat)"
    )
    parser.add_argument("--deploy-silences", type=int, default=0, help="N deploy silences")
    args = parser.parse_args(argv)
    configure_logging("json", "warning")  # as the bench's daemon logs
    figures = asyncio.run(
        measure(
            args.repeats,
            args.incidents,
            args.concurrency,
            args.profile,
            daemon_gc=True,
            silenced=tuple(args.silence),
            deploy_silences=args.deploy_silences,
        )
    )
    print(json.dumps(figures))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
