"""The daemon's CPU per new incident, in-process: the real pipeline with the real OpenAI
summariser, the SQLite store in a temporary directory and the backend sink, fed N distinct
generic alerts at a fixed concurrency through `Pipeline.process` (no SQS: its client's cost is
measured by `run.py`).

    PYTHONPATH=src:tests:bench .venv/bin/python bench/newincident.py N [--concurrency 64]
        [--warmup 128] [--profile OUT.prof] [--repeat R]

The loopback model (`ChatServer`, latency 0) and ticket backend (`TicketServer`) run in a
child process, so `time.process_time()` here counts only what the daemon would spend: the
event loop, the HTTP clients, the SQLite thread. Prints CPU µs per new incident after a
warm-up of distinct alerts of their own (first-use costs, caches of the process).
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import gc
import multiprocessing
import os
import pstats
import sys
import tempfile
import time
from contextlib import AsyncExitStack
from datetime import UTC, datetime
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

TOKEN = "bench-token"


def _serve(conn: Connection) -> None:
    """The child: both stubs until the parent says stop (or goes away)."""
    from triage.demo.model import ChatServer
    from triage.demo.ticketd import TicketServer

    chat = ChatServer()
    tickets = TicketServer(token=TOKEN)
    for server in (chat, tickets):
        # 64 first connections at once would overflow a small backlog (see rig.TimedChat).
        server._httpd.socket.listen(512)
        server.start()
    conn.send((chat.url, tickets.url))
    try:
        conn.recv()
    except EOFError:
        pass
    finally:
        chat.stop()
        tickets.stop()


def _bodies(prefix: str, count: int) -> list[str]:
    from rig import generic_alert

    return [generic_alert(f"{prefix}-{i}", f"{prefix} alert {i}") for i in range(count)]


async def _feed(pipeline: Any, bodies: list[str], concurrency: int, prefix: str) -> None:
    """Every body through `pipeline.process`, at most `concurrency` at once."""
    from triage.sqs.inbox import Message

    gate = asyncio.Semaphore(concurrency)

    async def one(i: int, body: str) -> None:
        async with gate:
            now = datetime.now(UTC)
            await pipeline.process(Message(f"{prefix}-m{i}", body, f"rh-{i}", 1, now, now))

    async with asyncio.TaskGroup() as group:
        for i, body in enumerate(bodies):
            group.create_task(one(i, body))


async def measure(
    chat_url: str,
    backend_url: str,
    count: int,
    concurrency: int,
    warmup: int,
    repeat: int,
    profile: Path | None,
) -> list[float]:
    """CPU µs per new incident for each of `repeat` rounds of `count` distinct alerts."""
    from triage.app import (
        build_sinks,
        guarded,
        hold_credentials,
        open_configured_store,
        pipeline_from,
    )
    from triage.logs import configure_logging
    from triage.metrics import Metrics
    from triage.redact import Redactor
    from triage.routes import load_router
    from triage.settings import Settings
    from triage.summarise import build_summariser

    os.environ["BACKEND_TOKEN"] = TOKEN
    results: list[float] = []
    with tempfile.TemporaryDirectory(prefix="newincident-") as workdir:
        settings = Settings(
            backend_base_url=backend_url,
            openai_api_key="sk-bench-dummy",
            openai_base_url=chat_url,
            store_url=f"sqlite:///{workdir}/triage.db",
            concurrency=concurrency,
            llm_concurrency=concurrency,
            metrics="off",
            log_level="warning",
        )
        configure_logging(settings.log_format, settings.log_level)  # as `run.py`'s daemon
        metrics = Metrics()
        hold_credentials(settings)
        async with AsyncExitStack() as stack:
            store = await open_configured_store(settings, None)  # type: ignore[arg-type]
            stack.push_async_callback(store.aclose)
            router = load_router(settings)
            plain = await build_sinks(settings, None, metrics, router)  # type: ignore[arg-type]
            for sink in plain:
                stack.push_async_callback(sink.aclose)
            redactor = Redactor()
            summariser = build_summariser(settings, metrics, redactor)
            stack.push_async_callback(summariser.aclose)
            pipeline = pipeline_from(
                settings, store, summariser, guarded(settings, plain), metrics, redactor, router
            )
            await _feed(pipeline, _bodies("warm", warmup), concurrency, "warm")
            for r in range(repeat):
                bodies = _bodies(f"run{r}", count)
                gc.collect()
                profiler = cProfile.Profile() if profile is not None else None
                created = metrics.counter("TicketsCreated")
                started = time.process_time()
                if profiler is not None:
                    profiler.enable()
                await _feed(pipeline, bodies, concurrency, f"run{r}")
                if profiler is not None:
                    profiler.disable()
                cpu_s = time.process_time() - started
                made = metrics.counter("TicketsCreated") - created
                if made != count:
                    raise SystemExit(f"{made} tickets for {count} alerts")
                results.append(cpu_s / count * 1e6)
                if profiler is not None and profile is not None:
                    profiler.dump_stats(str(profile) if repeat == 1 else f"{profile}.{r}")
            failures = metrics.counter("SummarizationFailures")
            if failures:
                raise SystemExit(f"{failures} summaries fell back to the deterministic one")
    return results


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("count", type=int, help="distinct alerts per round")
    parser.add_argument("--concurrency", type=int, default=64)
    parser.add_argument("--warmup", type=int, default=128)
    parser.add_argument("--repeat", type=int, default=1)
    parser.add_argument("--profile", type=Path, help="write a cProfile of the rounds here")
    parser.add_argument("--top", type=int, default=0, help="print the profile's top N")
    args = parser.parse_args(argv)
    # The daemon's collector settings (`app._freeze_startup_objects`).
    gc.freeze()
    gc.set_threshold(10_000, 10, 10)
    context = multiprocessing.get_context("spawn")
    parent, child = context.Pipe()
    stubs = context.Process(target=_serve, args=(child,), daemon=True)
    stubs.start()
    try:
        chat_url, backend_url = parent.recv()
        per_incident = asyncio.run(
            measure(
                chat_url,
                backend_url,
                args.count,
                args.concurrency,
                args.warmup,
                args.repeat,
                args.profile,
            )
        )
    finally:
        parent.send("stop")
        stubs.join(10)
    for value in per_incident:
        print(f"{value:.0f} µs CPU per new incident (c{args.concurrency}, n={args.count})")
    if args.profile is not None and args.top:
        stats = pstats.Stats(str(args.profile), stream=sys.stdout)
        stats.sort_stats("tottime").print_stats(args.top)
        stats.sort_stats("cumtime").print_stats(args.top)
    return 0


if __name__ == "__main__":
    sys.exit(main())
