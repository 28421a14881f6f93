"""tests/fork_harness.py: a child forked from the zygote behaves as `python -m triage` does."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from daemon_harness import SRC, Queues, daemon_env, run_triage, settings_for
from fork_harness import ForkedProcess, Zygote
from triage.demo.ticketd import TicketServer

PAYLOADS = Path(__file__).parent / "payloads"


def _env(**extra: str) -> dict[str, str]:
    return {"PATH": "/usr/bin:/bin", "PYTHONPATH": str(SRC), **extra}


def _forked(tmp_path: Path, *argv: str, env: dict[str, str]) -> tuple[int, str, str]:
    out, err = tmp_path / "out", tmp_path / "err"
    process = Zygote.shared().spawn(argv, env=env, stdout=out, stderr=err)
    code = process.wait(timeout=60)
    return code, out.read_text(), err.read_text()


def _children_of(pid: int) -> set[int]:
    """The pids whose parent is `pid` (its own zombies included)."""
    found: set[int] = set()
    for task in Path(f"/proc/{pid}/task").iterdir():
        with contextlib.suppress(FileNotFoundError):
            found.update(int(p) for p in (task / "children").read_text().split())
    return found


def _ended(pid: int) -> bool:
    """True once `pid` has exited (gone, or a zombie nobody reaped yet)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except FileNotFoundError:
        return True
    return stat.rsplit(")", 1)[1].split()[0] in {"Z", "X"}


def _until(condition: Callable[[], bool], timeout_s: float, what: str) -> None:
    deadline = time.monotonic() + timeout_s
    while not condition():
        if time.monotonic() > deadline:
            pytest.fail(what)
        time.sleep(0.02)


def _started(process: ForkedProcess, log: Path) -> None:
    _until(
        lambda: (
            (log.exists() and "daemon.started" in log.read_text()) or process.poll() is not None
        ),
        60,
        "the forked daemon never started",
    )
    assert process.poll() is None, log.read_text()


def _signal_masks(pid: int) -> dict[str, str]:
    status = Path(f"/proc/{pid}/status").read_text().splitlines()
    names = ("SigBlk", "SigIgn", "SigCgt")
    return {k: v.strip() for k, v in (line.split(":", 1) for line in status) if k in names}


def _forked_by(zygote: Zygote, tmp_path: Path, *argv: str) -> tuple[int, str, str]:
    out, err = tmp_path / "out", tmp_path / "err"
    process = zygote.spawn(argv, env=_env(), stdout=out, stderr=err)
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
    for process, log in ((first, tmp_path / "first.log"), (second, tmp_path / "second.log")):
        # Started: its signal handlers are in place (before them, SIGTERM kills it, -15).
        _started(process, log)
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


@pytest.fixture(scope="module")
def stoppable_zygote() -> Iterator[Zygote]:
    """One light zygote for the tests that stop and resume theirs and count its children:
    each leaves it serving with no child, as it found it, so they need not start one each
    (the shared one may still hold a child of another file's test)."""
    zygote = Zygote.light()
    yield zygote
    zygote.close()


def test_a_spawn_that_times_out_leaves_no_child_running(
    stoppable_zygote: Zygote, queues: Queues, backend: TicketServer, tmp_path: Path
) -> None:
    """A request the zygote answers only after spawn() gave up (a stopped, starved zygote)
    gets its child killed once forked, rather than a daemon nobody knows of running on."""
    env = daemon_env(settings_for(queues, backend.url, tmp_path / "t.db"))
    zygote = stoppable_zygote
    zygote.spawn(["no-such-command"], env=env, stderr=tmp_path / "warm.log").wait(timeout=60)
    os.kill(zygote._process.pid, signal.SIGSTOP)
    try:
        with pytest.raises(RuntimeError, match="did not fork"):
            zygote.spawn(["run"], env=env, stderr=tmp_path / "late.log", timeout_s=0.2)
    finally:
        os.kill(zygote._process.pid, signal.SIGCONT)
    # The zygote answers in order: once this one is done, the late child was forked.
    barrier = zygote.spawn(["no-such-command"], env=env, stderr=tmp_path / "barrier.log")
    assert barrier.wait(timeout=60) == 2
    _until(lambda: not _children_of(zygote._process.pid), 30, "the late child is still running")


class _TestTimedOut(Exception):
    """What pytest-timeout raises in the test's thread, from a SIGALRM handler."""


def test_a_spawn_interrupted_by_a_test_timeout_leaves_no_child_running(
    stoppable_zygote: Zygote, queues: Queues, backend: TicketServer, tmp_path: Path
) -> None:
    """A spawn interrupted while it waits for the fork (pytest-timeout raises from a signal
    handler) gets its child killed once forked, rather than a daemon running on."""
    env = daemon_env(settings_for(queues, backend.url, tmp_path / "t.db"))
    zygote = stoppable_zygote

    def timed_out(signum: int, frame: object) -> None:
        raise _TestTimedOut

    previous = signal.signal(signal.SIGALRM, timed_out)
    try:
        zygote.spawn(["no-such-command"], env=env, stderr=tmp_path / "warm.log").wait(60)
        os.kill(zygote._process.pid, signal.SIGSTOP)
        try:
            signal.setitimer(signal.ITIMER_REAL, 0.2)
            with pytest.raises(_TestTimedOut):
                zygote.spawn(["run"], env=env, stderr=tmp_path / "late.log")
        finally:
            signal.setitimer(signal.ITIMER_REAL, 0)
            os.kill(zygote._process.pid, signal.SIGCONT)
        barrier = zygote.spawn(["no-such-command"], env=env, stderr=tmp_path / "barrier.log")
        assert barrier.wait(timeout=60) == 2
        _until(lambda: not _children_of(zygote._process.pid), 30, "the late child is still running")
    finally:
        signal.signal(signal.SIGALRM, previous)


def test_a_child_does_not_outlive_a_killed_zygote(
    queues: Queues, backend: TicketServer, tmp_path: Path
) -> None:
    """A zygote killed outright (no chance to kill its children) takes its children with it,
    so a daemon never runs on past its test's process."""
    env = daemon_env(settings_for(queues, backend.url, tmp_path / "t.db"))
    zygote = Zygote.light()  # the daemon imports what it needs itself
    try:
        child = zygote.spawn(["run"], env=env, stderr=tmp_path / "d.log")
        _started(child, tmp_path / "d.log")
        zygote._process.kill()
        assert child.wait(timeout=30) == -signal.SIGKILL
        _until(lambda: _ended(child.pid), 30, "the daemon outlived its zygote")
    finally:
        zygote.close()


def test_a_ctrl_c_to_the_process_group_leaves_the_zygote_serving(tmp_path: Path) -> None:
    """SIGINT, which a Ctrl-C sends to the test's whole process group, does not end the
    zygote (it ends when the test process does): later spawns still work."""
    zygote = Zygote.shared()  # the one a Ctrl-C would reach; a fresh one proves no more
    ready = zygote.spawn(["no-such-command"], env=_env(), stderr=tmp_path / "a.log")
    assert ready.wait(timeout=60) == 2
    os.kill(zygote._process.pid, signal.SIGINT)
    code, _, err = _forked_by(
        zygote, tmp_path, "normalize", str(PAYLOADS / "generic" / "firing.json")
    )
    assert code == 0, err
    assert zygote._process.poll() is None


@pytest.mark.usefixtures("sigint_not_ignored")
def test_a_forked_daemon_handles_signals_as_a_new_interpreter_does(
    queues: Queues, backend: TicketServer, tmp_path: Path
) -> None:
    """Once started, a forked daemon blocks, ignores and catches exactly the signals a daemon
    started as a new interpreter does: nothing of the zygote's own handling leaks into it."""
    env = daemon_env(settings_for(queues, backend.url, tmp_path / "t.db"))
    forked = Zygote.shared().spawn(["run"], env=env, stderr=tmp_path / "forked.log")
    with (tmp_path / "new.log").open("w") as log:
        new = subprocess.Popen(
            [sys.executable, "-m", "triage", "run"],
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=log,
        )
    try:
        _started(forked, tmp_path / "forked.log")
        _until(
            lambda: (
                "daemon.started" in (tmp_path / "new.log").read_text() or new.poll() is not None
            ),
            60,
            "the new interpreter's daemon never started",
        )
        assert _signal_masks(forked.pid) == _signal_masks(new.pid)
    finally:
        forked.kill()
        new.kill()
        forked.wait(timeout=30)
        new.wait(timeout=30)


def test_the_fork_timeout_does_not_count_the_zygotes_imports(tmp_path: Path) -> None:
    """A first spawn waits for the zygote's imports (seconds on a loaded machine) apart from
    its fork timeout: a zygote held before it is ready does not fail a short-timeout spawn."""
    # All of a daemon's imports: the window the SIGSTOP must land in.
    zygote = Zygote(compile_redactor=False)
    os.kill(zygote._process.pid, signal.SIGSTOP)  # before its imports: it was just started
    result: list[object] = []
    spawner = threading.Thread(
        target=lambda: result.append(
            zygote.spawn(["no-such-command"], env=_env(), stderr=tmp_path / "a.log", timeout_s=0.5)
        ),
        daemon=True,
    )
    try:
        spawner.start()
        spawner.join(timeout=1.5)  # three fork timeouts: it is still waiting for the imports
        assert spawner.is_alive()
    finally:
        os.kill(zygote._process.pid, signal.SIGCONT)
    try:
        spawner.join(timeout=Zygote.startup_timeout_s)
        [process] = result
        assert isinstance(process, ForkedProcess)
        assert process.wait(timeout=60) == 2
    finally:
        zygote.close()


def _fd_targets(pid: int) -> dict[int, str]:
    targets = {}
    for fd in Path(f"/proc/{pid}/fd").iterdir():
        with contextlib.suppress(FileNotFoundError):
            targets[int(fd.name)] = os.readlink(fd)
    return targets


def test_a_forked_daemon_holds_none_of_the_zygotes_files(
    queues: Queues, backend: TicketServer, tmp_path: Path
) -> None:
    """A forked daemon holds no pipe, file or socket of the zygote's (its requests, its
    replies, the test's stderr it writes to): its stdin is /dev/null, its stderr its log."""
    env = daemon_env(settings_for(queues, backend.url, tmp_path / "t.db"))
    zygote = Zygote.shared()
    daemon = zygote.spawn(["run"], env=env, stderr=tmp_path / "d.log")
    try:
        _started(daemon, tmp_path / "d.log")
        held = _fd_targets(daemon.pid)
        zygotes = set(_fd_targets(zygote._process.pid).values()) - {os.devnull}
        assert held[0] == os.devnull
        assert held[2] == str(tmp_path / "d.log")
        assert zygotes.isdisjoint(held.values())
    finally:
        daemon.kill()
        daemon.wait(timeout=30)


def test_a_zygote_that_fails_to_import_makes_spawn_say_so(tmp_path: Path) -> None:
    """A zygote that dies importing what it preloads (a module broken mid-edit) fails each
    spawn with an error naming its exit, not a broken pipe from writing to it."""
    zygote = Zygote(preload=("triage.no_such_module",), compile_redactor=False)
    try:
        with pytest.raises(RuntimeError, match="exited with 1 before it was ready"):
            zygote.spawn(["no-such-command"], env=_env(), stderr=tmp_path / "a.log")
    finally:
        zygote.close()
