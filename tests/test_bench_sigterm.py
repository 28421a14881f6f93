"""A bench stopped by SIGTERM stops what it started: bench/run.py against moto, SIGTERMed while
its startup phase's daemon runs, exits and leaves no process behind, within a deadline."""

from __future__ import annotations

import signal
import subprocess
import sys
import time
from pathlib import Path

from bench_processes import command_line, descendants, stop_bench, wait_until_gone
from localstack_harness import ROOT

sys.path.insert(0, str(ROOT / "bench"))

import rig


def _bench(endpoint: str, output: Path) -> subprocess.Popen[str]:
    command = [sys.executable, str(ROOT / "bench" / "run.py"), "--quick", "--no-profile"]
    command += ["--only", "startup", "--endpoint", endpoint, "--output", str(output)]
    return subprocess.Popen(
        command,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )


def _daemon_started(bench: subprocess.Popen[str], deadline: float) -> bool:
    while time.monotonic() < deadline and bench.poll() is None:
        if any("-m triage run" in command_line(pid) for pid, _ in descendants(bench.pid)):
            return True
        time.sleep(0.05)
    return False


def test_sigterm_stops_the_bench_and_every_daemon_it_started(moto_url: str, tmp_path: Path) -> None:
    """SIGTERMs to the bench while its daemon runs: the bench exits 130 and no process it
    started (the daemon in its own session included) is left running."""
    bench = _bench(moto_url, tmp_path / "RESULTS.md")
    try:
        assert _daemon_started(bench, time.monotonic() + 60), bench.stderr
        started = descendants(bench.pid)
        # SIGTERM again and again until it exits, as an impatient supervisor may: the ones
        # after the first interrupt no cleanup.
        deadline = time.monotonic() + 60
        while bench.poll() is None and time.monotonic() < deadline:
            bench.send_signal(signal.SIGTERM)
            time.sleep(0.05)
        _, stderr = bench.communicate(timeout=10)
        left = wait_until_gone(started, time.monotonic() + 30)
    finally:
        if bench.poll() is None:
            stop_bench(bench)
    assert not left, [command_line(pid) for pid, _ in left]
    assert bench.returncode == 130, stderr[-2000:]


def test_stop_bench_leaves_nothing_of_a_bench_that_ignores_sigterm(tmp_path: Path) -> None:
    """The smoke test's timeout path: a bench that ignores SIGTERM is killed after the grace,
    and so is the child it started in a session of its own."""
    script = tmp_path / "stubborn.py"
    script.write_text(
        "import signal, subprocess, sys, time\n"
        "signal.signal(signal.SIGTERM, signal.SIG_IGN)\n"
        "subprocess.Popen([sys.executable, '-c', 'import time; time.sleep(600)'],"
        " start_new_session=True)\n"
        "print('started', flush=True)\n"
        "time.sleep(600)\n"
    )
    bench = subprocess.Popen(
        [sys.executable, str(script)], stdout=subprocess.PIPE, text=True, start_new_session=True
    )
    assert bench.stdout is not None
    with bench.stdout:
        assert bench.stdout.readline() == "started\n"
    started = descendants(bench.pid)
    assert started
    left = stop_bench(bench, grace_s=0.5)
    assert left == started
    assert not wait_until_gone(started, time.monotonic() + 10)
    assert bench.returncode == -signal.SIGKILL


def test_a_daemon_is_reaped_though_an_interrupt_left_popens_lock_held(tmp_path: Path) -> None:
    """The bench's SIGTERM raised inside `Popen.poll` can leave Popen's waitpid lock held
    (seen under load: `Daemon.stop` then timed out on a SIGKILLed daemon and the bench exited
    1): `rig.reaped` still gets the exit code, where `Popen.wait` times out."""

    child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(600)"])
    assert child._waitpid_lock.acquire(False)  # as the interrupted poll left it
    child.send_signal(signal.SIGKILL)
    try:
        try:
            child.wait(timeout=0.5)
        except subprocess.TimeoutExpired:
            pass
        else:
            raise AssertionError("Popen.wait reaped despite its lock: the case is not shown")
        assert rig.reaped(child, 30) == -signal.SIGKILL
    finally:
        child._waitpid_lock.release()
