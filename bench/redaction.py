"""The redactor's CPU over the sample payloads, for changes to `src/triage/redact/`.

    .venv/bin/python bench/redaction.py                   # this checkout's src/
    .venv/bin/python bench/redaction.py OLD_SRC NEW_SRC   # two trees, runs alternated
    .venv/bin/python bench/redaction.py --held 6          # as a daemon holding 6 credentials

The texts are every file under tests/payloads/ whole, plus each string and key inside it: what
`Redactor.value` hands to the redactor for a new incident's alert. Each pass redacts every text
once through `Redactor._redacted`, so the memo of short texts (which hides the rules' cost
after the first alert) does not count. A pass is timed by `time.thread_time`; the minimum and
median of the passes are printed. With two trees, each runs in its own child process, in
turn, `--rounds` times, so a busy machine slows both alike. Not part of `dev.py bench`: the
figures are for comparing two versions on one machine, not targets. `--held N` redacts as a
process holding N credentials does (40 random letters and digits each, the same in every run):
each is looked for by value, and spelled out.
"""

from __future__ import annotations

import argparse
import json
import pathlib
import random
import statistics
import subprocess
import sys
import time
from typing import Any

ROOT = pathlib.Path(__file__).resolve().parent.parent


def texts() -> list[str]:
    """Each payload file's text, then every string and key inside its JSON."""
    found: list[str] = []

    def walk(value: Any) -> None:
        if isinstance(value, str):
            found.append(value)
        elif isinstance(value, dict):
            for key, item in value.items():
                found.append(str(key))
                walk(item)
        elif isinstance(value, list):
            for item in value:
                walk(item)

    for path in sorted((ROOT / "tests" / "payloads").rglob("*.json")):
        raw = path.read_text()
        found.append(raw)
        walk(json.loads(raw))
    return found


def held_credentials(count: int) -> tuple[str, ...]:
    """`count` credentials as a process holds them (sorted, as the redactor takes them)."""
    rng = random.Random(count)
    alphabet = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
    return tuple(sorted("".join(rng.choices(alphabet, k=40)) for _ in range(count)))


def passes(count: int, held: int = 0) -> list[float]:
    """`count` passes of the `triage` on `sys.path` over `texts()`, seconds each, holding
    `held` credentials."""
    from triage.redact import Redactor

    redactor = Redactor()
    corpus = texts()
    secrets = held_credentials(held)
    times: list[float] = []
    for _ in range(count):
        started = time.thread_time()
        for text in corpus:
            redactor._redacted(text, secrets)
        times.append(time.thread_time() - started)
    return times


def child(src: str, count: int, held: int) -> list[float]:
    """`passes(count, held)` in a child process importing `triage` from `src`."""
    code = (
        f"import sys, json; sys.path.insert(0, {src!r}); sys.path.insert(0, {str(ROOT)!r}); "
        f"from bench.redaction import passes; print(json.dumps(passes({count}, {held})))"
    )
    out = subprocess.run([sys.executable, "-c", code], check=True, capture_output=True, text=True)
    times: list[float] = json.loads(out.stdout)
    return times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("src", nargs="*", default=[str(ROOT / "src")], help="src/ trees")
    parser.add_argument("--passes", type=int, default=30, help="passes per round")
    parser.add_argument("--rounds", type=int, default=3, help="turns of each tree")
    parser.add_argument("--held", type=int, default=0, help="credentials held, as a daemon's")
    args = parser.parse_args()
    times: dict[str, list[float]] = {src: [] for src in args.src}
    for _ in range(args.rounds):
        for src in args.src:
            times[src] += child(src, args.passes, args.held)
    held = f", {args.held} credentials held" if args.held else ""
    print(f"{len(texts())} texts, {args.rounds} x {args.passes} passes each{held}")
    for src, each in times.items():
        best, median = min(each) * 1e3, statistics.median(each) * 1e3
        print(f"  min {best:6.1f} ms  median {median:6.1f} ms per pass  {src}")


if __name__ == "__main__":
    main()
