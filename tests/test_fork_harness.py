"""tests/fork_harness.py: a child forked from the zygote behaves as `python -m triage` does."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import time
from pathlib import Path

import pytest

from daemon_harness import SRC, Queues, daemon_env, run_triage, settings_for
from fork_harness import Zygote
from triage.demo.ticketd import TicketServer

PAYLOADS = Path(__file__).parent / "payloads"


def _env(**extra: str) -> dict[str, str]:
    return {"PATH": "/usr/bin:/bin", "PYTHONPATH": str(SRC), **extra}


def _forked(tmp_path: Path, *argv: str, env: dict[str, str]) -> tuple[int, str, str]:
    out, err = tmp_path / "out", tmp_path / "err"
    process = Zygote.shared().spawn(argv, env=env, stdout=out, stderr=err)
    code = process.wait(timeout=60)
    return code, out.read_text(), err.read_text()


@pytest.mark.parametrize(
    ("argv", "env"),
    [
        # A configuration mistake read from the environment: exit 2, one line on stderr.
        (("run",), _env(ALERT_TRIAGE_QUEUE_URL="http://127.0.0.1:9/q", TRIAGE_CONCURRENCY="x")),
        # What a command prints on stdout, and exit 0.
        (("normalize", str(PAYLOADS / "generic" / "firing.json")), _env()),
        # A usage mistake: argparse's message and exit 2.
        (("no-such-command",), _env()),
    ],
)
def test_a_forked_child_exits_and_prints_as_a_new_interpreter_does(
    tmp_path: Path, argv: tuple[str, ...], env: dict[str, str]
) -> None:
    """Exit code, stdout and stderr of a forked `triage ARGV` are those of `python -m triage
    ARGV` in a new interpreter, in the environment given."""
    expected = run_triage(*argv, env=env)
    code, out, err = _forked(tmp_path, *argv, env=env)
    assert (code, out, err) == (expected.returncode, expected.stdout, expected.stderr)


def test_a_forked_child_is_a_process_of_its_own_that_signals_reach(
    queues: Queues, backend: TicketServer, tmp_path: Path
) -> None:
    """Each child has its own pid; SIGKILL ends one with -9 as Popen reports it while the other
    runs on, SIGTERM stops that one cleanly (exit 0, its closing line written), and a wait
    that times out says so as Popen's does."""
    env = daemon_env(settings_for(queues, backend.url, tmp_path / "t.db"))
    zygote = Zygote.shared()
    first = zygote.spawn(["run"], env=env, stderr=tmp_path / "first.log")
    second = zygote.spawn(["run"], env=env, stderr=tmp_path / "second.log")
    assert len({os.getpid(), first.pid, second.pid}) == 3
    deadline = time.monotonic() + 30
    for process, log in ((first, tmp_path / "first.log"), (second, tmp_path / "second.log")):
        # Started: its signal handlers are in place (before them, SIGTERM kills it, -15).
        while "daemon.started" not in log.read_text():
            assert process.poll() is None, log.read_text()
            assert time.monotonic() < deadline, "the forked daemon never started"
            time.sleep(0.05)
    first.kill()
    assert first.wait(timeout=10) == -signal.SIGKILL
    assert second.poll() is None
    second.send_signal(signal.SIGTERM)
    assert second.wait(timeout=30) == 0, (tmp_path / "second.log").read_text()
    stopped = [
        json.loads(line)
        for line in (tmp_path / "second.log").read_text().splitlines()
        if line.startswith("{")
    ]
    assert any(e["event"] == "daemon.stopped" for e in stopped)
    third = zygote.spawn(["run"], env=env, stderr=tmp_path / "third.log")
    try:
        with pytest.raises(subprocess.TimeoutExpired):
            third.wait(timeout=0.01)
    finally:
        third.kill()
    assert third.wait(timeout=10) == -signal.SIGKILL
