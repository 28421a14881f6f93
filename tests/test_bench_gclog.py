"""bench/gclog: a process started with it on PYTHONPATH logs its own garbage collections, and
the bench reads the ones inside a window."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "bench"))

import rig  # noqa: E402


def test_a_full_collection_is_logged_and_read_back_in_its_window(tmp_path: Path) -> None:
    """A child's gc.collect() lands in its log as a full collection; the window finds it, an
    earlier window does not, and no log reads as None."""
    log = tmp_path / "child-gc.jsonl"
    before = time.time()
    subprocess.run(
        [sys.executable, "-c", "import gc; gc.collect(); gc.collect()"],
        env={"PYTHONPATH": str(ROOT / "bench" / "gclog"), "BENCH_GC_LOG": str(log)},
        check=True,
    )
    after = time.time()
    entries = [json.loads(line) for line in log.read_text().splitlines()]
    assert [e["gen"] for e in entries].count(2) >= 2
    assert all(before <= e["at"] <= after for e in entries)
    # Every full collection is kept in the log; the summary counts those of 5 ms or more.
    with log.open("a") as out:
        out.write(json.dumps({"at": (before + after) / 2, "ms": 42.0, "gen": 2}) + "\n")
        out.write(json.dumps({"at": (before + after) / 2, "ms": 6.0, "gen": 1}) + "\n")
    pauses = rig.gc_pauses(log, before, after)
    assert pauses is not None
    assert pauses["longest_ms"] >= 42.0 and pauses["count"] >= 2 and pauses["full"] >= 1
    assert rig.gc_pauses(log, before - 100, before - 50) == {
        "count": 0,
        "longest_ms": 0.0,
        "total_ms": 0,
        "full": 0,
    }
    assert rig.gc_pauses(tmp_path / "absent.jsonl", before, after) is None


def test_without_the_variable_nothing_is_written(tmp_path: Path) -> None:
    """On PYTHONPATH but without BENCH_GC_LOG, the hook stays out of the process."""
    out = subprocess.run(
        [sys.executable, "-c", "import gc; print(len(gc.callbacks))"],
        env={"PYTHONPATH": str(ROOT / "bench" / "gclog")},
        check=True,
        capture_output=True,
        text=True,
    )
    assert out.stdout.strip() == "0"
