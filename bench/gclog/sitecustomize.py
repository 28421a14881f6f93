"""Put on a process's PYTHONPATH by the bench (LocalStack's, when the bench starts it): every
garbage collection that stops the process for 5 ms or more, and every full one, is appended to
the JSON-lines file named by BENCH_GC_LOG as {"at": wall-clock start, "ms": duration,
"gen": generation}. A latency figure can then be read beside the pauses of the SQS stand-in.
Without the variable this file does nothing."""

from __future__ import annotations

import gc
import json
import os
import time

_PATH = os.environ.get("BENCH_GC_LOG")
_MIN_MS = 5.0


def _install(path: str) -> None:
    out = open(path, "a", buffering=1)  # noqa: SIM115 - open for the life of the process
    began = [0.0, 0.0]

    def on_gc(phase: str, info: dict[str, int]) -> None:
        if phase == "start":
            began[0], began[1] = time.time(), time.perf_counter()
            return
        ms = (time.perf_counter() - began[1]) * 1000
        if ms >= _MIN_MS or info["generation"] == 2:
            out.write(
                json.dumps({"at": began[0], "ms": round(ms, 2), "gen": info["generation"]}) + "\n"
            )

    gc.callbacks.append(on_gc)


if _PATH:
    _install(_PATH)
