"""The processes a bench run started, found in /proc, and a stop that leaves none of them: the
bench's daemons live in sessions of their own, so a signal to its process group misses them."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import time
from pathlib import Path

#: A process as /proc names it across time: its id and its start time (so an id the kernel gave
#: again to another process is not taken for it).
Known = tuple[int, str]


def _stat(pid: int) -> list[str] | None:
    """Fields 3 on of /proc/<pid>/stat (state, ppid, …), or None once it is gone."""
    try:
        text = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    return text[text.rindex(")") + 2 :].split()


def descendants(pid: int) -> set[Known]:
    """Every live process below `pid` (children, theirs, …), as `Known`."""
    children: dict[int, list[Known]] = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit() and (fields := _stat(int(entry))) is not None:
            children.setdefault(int(fields[1]), []).append((int(entry), fields[19]))
    found: set[Known] = set()
    todo = [pid]
    while todo:
        for child in children.get(todo.pop(), []):
            if child not in found:
                found.add(child)
                todo.append(child[0])
    return found


def alive(known: Known) -> bool:
    """Whether this very process still runs (a zombie has finished)."""
    fields = _stat(known[0])
    return fields is not None and fields[19] == known[1] and fields[0] not in {"Z", "X"}


def command_line(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()
    except OSError:
        return ""


def wait_until_gone(processes: set[Known], deadline: float) -> set[Known]:
    """Wait until none of `processes` runs, at most until `deadline`; those still running."""
    while (left := {known for known in processes if alive(known)}) and time.monotonic() < deadline:
        time.sleep(0.05)
    return left


def stop_bench(bench: subprocess.Popen[str], grace_s: float = 45.0) -> set[Known]:
    """Stop a bench started in a session of its own: SIGTERM first (its cleanup stops its
    daemons, gateway and LocalStack), wait for it and them at most `grace_s`, then SIGKILL its
    group and each process it started that is still running. Returns those that needed it."""
    started = descendants(bench.pid)
    with contextlib.suppress(ProcessLookupError):
        bench.send_signal(signal.SIGTERM)
    deadline = time.monotonic() + grace_s
    with contextlib.suppress(subprocess.TimeoutExpired):
        bench.wait(timeout=grace_s)
    started |= descendants(bench.pid) if bench.poll() is None else set()
    left = wait_until_gone(started, deadline)
    if bench.poll() is None:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(bench.pid, signal.SIGKILL)
    for pid, _ in left:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)
    bench.wait(timeout=10)
    return left
