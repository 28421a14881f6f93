"""The quick start's two commands as a newcomer meets them: `python3 dev.py demo` runs on the
embedded default whatever the caller's shell holds (no model, GitHub, Slack or trace export
of theirs is reached), Ctrl-C ends it with one line and 130, and `dev.py` answers a typo, a
Ctrl-C and pytest's arguments and exit codes plainly. dev.py is driven against a stand-in
`.venv` (a `python` and a `uv` that record what they were asked), so no test installs."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx2
import pytest

from daemon_harness import SRC, run_in_process

ROOT = Path(__file__).resolve().parents[1]


class _Listener:
    """A TCP listener on 127.0.0.1 that counts the connections anyone makes to it."""

    def __init__(self) -> None:
        self.sock = socket.create_server(("127.0.0.1", 0))
        self.sock.settimeout(0.2)
        self.url = f"http://127.0.0.1:{self.sock.getsockname()[1]}"
        self.connections = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._accept, daemon=True)
        self._thread.start()

    def _accept(self) -> None:
        while not self._stop.is_set():
            try:
                conn, _ = self.sock.accept()
            except TimeoutError:
                continue
            self.connections += 1
            conn.close()

    def close(self) -> None:
        self._stop.set()
        self._thread.join()
        self.sock.close()


@pytest.fixture
def listener() -> Iterator[_Listener]:
    """Where the caller's model, Slack, GitHub and trace exporter point: nothing may call."""
    server = _Listener()
    yield server
    server.close()


@pytest.mark.timeout(150)
def test_the_demo_reaches_none_of_the_callers_services(
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    moto_url: str,
    loopback_http: httpx2.Client,
    listener: _Listener,
    tmp_path: Path,
) -> None:
    """A shell holding OPENAI_API_KEY, TRIAGE_SINKS=github,slack, an OTLP endpoint, an HTTP
    proxy and an AWS profile no file names still runs the embedded demo: none of those is
    called or read, the report is the usual one, and no file is left where it ran."""
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "PYTHONPATH": str(SRC),
        "OPENAI_API_KEY": "sk-proj-" + "a" * 40,
        "OPENAI_BASE_URL": f"{listener.url}/v1",
        "TRIAGE_SINKS": "backend,github,slack",
        "GITHUB_TOKEN": "ghp_" + "b" * 36,
        "GITHUB_REPOSITORY": "acme/alerts",
        "GITHUB_API_URL": listener.url,
        "SLACK_WEBHOOK_URL": f"{listener.url}/hook",
        "OTEL_EXPORTER_OTLP_ENDPOINT": listener.url,
        "HTTP_PROXY": listener.url,
        "HTTPS_PROXY": listener.url,
        "AWS_PROFILE": "no-such-profile",
    }
    monkeypatch.chdir(tmp_path)
    try:
        proc = run_in_process(monkeypatch, capsys, "demo", env=env)
    finally:
        loopback_http.post(f"{moto_url}/moto-api/reset").raise_for_status()
    assert proc.returncode == 0, proc.stderr
    assert listener.connections == 0
    assert "summariser.fallback" not in proc.stderr
    assert "tickets created      4" in proc.stdout
    assert "dead letters         2" in proc.stdout
    assert list(tmp_path.iterdir()) == []


def _interrupt_after(
    cmd: list[str],
    marker: str,
    *,
    env: dict[str, str],
    cwd: Path,
    sig: signal.Signals = signal.SIGINT,
) -> tuple[int, str, str]:
    """Run `cmd` in a process group of its own with SIGINT as a terminal delivers it, send
    `sig` to the whole group (SIGINT: what Ctrl-C does) once `marker` is on its stderr, and
    return its exit status, stdout and stderr."""
    proc = subprocess.Popen(
        cmd,
        cwd=cwd,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
        # A shell's background job ignores SIGINT, and a child inherits that: not a terminal.
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
    )
    assert proc.stderr is not None and proc.stdout is not None
    err: list[str] = []
    seen = threading.Event()

    def read_stderr() -> None:
        assert proc.stderr is not None
        for line in proc.stderr:
            err.append(line)
            if marker in line:
                seen.set()

    reader = threading.Thread(target=read_stderr, daemon=True)
    reader.start()
    try:
        assert seen.wait(90), "".join(err)
        os.killpg(proc.pid, sig)
        out = proc.stdout.read()
        code = proc.wait(60)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
        reader.join(10)
        proc.stdout.close()
        proc.stderr.close()
    return code, out, "".join(err)


@pytest.mark.timeout(150)
def test_ctrl_c_in_the_demo_ends_it_with_one_line_and_130(tmp_path: Path) -> None:
    """Ctrl-C while the demo's waves run: exit 130, a short line saying so, no traceback, no
    half report, and nothing of it left in the working directory."""
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "PYTHONPATH": str(SRC)}
    code, out, err = _interrupt_after(
        [sys.executable, "-m", "triage", "demo"], "wave 1:", env=env, cwd=tmp_path
    )
    assert code == 130, err
    assert "Traceback" not in err
    assert err.rstrip().splitlines()[-1].startswith("triage demo: interrupted")
    assert "tickets created" not in out
    assert list(tmp_path.iterdir()) == []


@pytest.mark.timeout(150)
def test_sigterm_stops_the_demo_and_leaves_no_temporary_store(tmp_path: Path) -> None:
    """SIGTERM while the waves run (a closed terminal's, a supervisor's): the demo stops what
    it started, says so in one line and exits 143, and its temporary SQLite store is gone."""
    scratch = tmp_path / "tmp"
    scratch.mkdir()
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "PYTHONPATH": str(SRC),
        "TMPDIR": str(scratch),
    }
    code, out, err = _interrupt_after(
        [sys.executable, "-m", "triage", "demo"],
        "wave 1:",
        env=env,
        cwd=tmp_path,
        sig=signal.SIGTERM,
    )
    assert code == 143, err
    assert "Traceback" not in err
    assert err.rstrip().splitlines()[-1].startswith("triage demo: stopped by SIGTERM")
    assert "tickets created" not in out
    assert list(scratch.iterdir()) == []


#: A `python` for the stand-in venv: records its arguments, then acts as DEV_CHILD says.
_FAKE_PYTHON = """\
import os, sys, time
with open(os.environ["DEV_RECORD"], "a") as f:
    f.write(" ".join(sys.argv[1:]) + "\\n")  # the program's name, then its arguments
if os.environ.get("DEV_CHILD") == "wait-for-ctrl-c":
    try:
        print("child: ready", file=sys.stderr, flush=True)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            time.sleep(0.05)
    except KeyboardInterrupt:
        print("child: interrupted", file=sys.stderr, flush=True)
        sys.exit(130)
    sys.exit(1)
sys.exit(int(os.environ.get("DEV_EXIT", "0")))
"""

DevRun = Callable[..., subprocess.CompletedProcess[str]]


@pytest.fixture
def dev_checkout(tmp_path: Path) -> Path:
    """A checkout holding dev.py beside a stand-in .venv whose `python` and `uv` record every
    call in `calls.txt`, and whose warm-up stamp matches its uv.lock."""
    shutil.copy(ROOT / "dev.py", tmp_path / "dev.py")
    (tmp_path / "uv.lock").write_text("stand-in\n")
    bin_dir = tmp_path / ".venv" / "bin"
    bin_dir.mkdir(parents=True)
    (tmp_path / "fake_python.py").write_text(_FAKE_PYTHON)
    # uv always succeeds: DEV_EXIT and DEV_CHILD say what the command's python does.
    for name, prefix in (("python", ""), ("uv", "DEV_EXIT=0 DEV_CHILD= ")):
        script = bin_dir / name
        fake = tmp_path / "fake_python.py"
        script.write_text(f'#!/bin/sh\n{prefix}exec "{sys.executable}" "{fake}" {name} "$@"\n')
        script.chmod(0o755)
    digest = hashlib.sha256(b"stand-in\n").hexdigest()
    (tmp_path / ".venv" / ".triage-warm").write_text(digest + "\n")
    return tmp_path


def _dev_env(checkout: Path, **extra: str) -> dict[str, str]:
    return {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "DEV_RECORD": str(checkout / "calls.txt"),
        **extra,
    }


def _dev(checkout: Path, *args: str, **extra: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, str(checkout / "dev.py"), *args],
        cwd=checkout,
        env=_dev_env(checkout, **extra),
        capture_output=True,
        text=True,
        timeout=60,
    )


def _calls(checkout: Path) -> list[str]:
    record = checkout / "calls.txt"
    return record.read_text().splitlines() if record.exists() else []


def test_a_mistyped_command_is_named_before_anything_is_installed(dev_checkout: Path) -> None:
    """`dev.py dmeo` says the command is unknown and suggests `demo` at once: no venv sync
    (on a fresh clone, a minute of installing) runs first."""
    proc = _dev(dev_checkout, "dmeo")
    assert proc.returncode == 2
    assert "unknown command 'dmeo'" in proc.stderr
    assert "demo" in proc.stderr.split("unknown command 'dmeo'", 1)[1]
    assert _calls(dev_checkout) == []


def test_no_command_prints_the_usage_on_stderr(dev_checkout: Path) -> None:
    """`dev.py` alone is a usage error: the commands on stderr, exit 2, nothing installed."""
    proc = _dev(dev_checkout)
    assert proc.returncode == 2
    assert "python3 dev.py demo" in proc.stderr
    assert proc.stdout == ""
    assert _calls(dev_checkout) == []


def test_dev_test_passes_its_arguments_to_pytest_and_keeps_exit_5(dev_checkout: Path) -> None:
    """`dev.py test -k demo` runs `python -m pytest -k demo`, and pytest's exit 5 (no test
    ran) is dev.py's too, with a line saying why."""
    proc = _dev(dev_checkout, "test", "-k", "demo", DEV_EXIT="5")
    assert proc.returncode == 5
    assert "collected no tests" in proc.stderr
    assert "python -m pytest -k demo" in _calls(dev_checkout)


def test_ctrl_c_reaches_the_command_and_dev_py_exits_with_its_status(dev_checkout: Path) -> None:
    """Ctrl-C during `dev.py demo`: the command handles it and exits 130, and dev.py exits
    130 too, with no traceback of its own and without killing the command first."""
    code, _, err = _interrupt_after(
        [sys.executable, str(dev_checkout / "dev.py"), "demo"],
        "child: ready",
        env=_dev_env(dev_checkout, DEV_CHILD="wait-for-ctrl-c"),
        cwd=dev_checkout,
    )
    assert code == 130, err
    assert "Traceback" not in err
    assert "child: interrupted" in err


def test_dev_py_refuses_python_3_10_naming_3_11(tmp_path: Path) -> None:
    """Under Python 3.10, dev.py says it needs 3.11+ and which Python it is, and exits 1."""
    old = _python_310()
    if old is None:
        pytest.skip("no Python 3.10 on this machine")
    shutil.copy(ROOT / "dev.py", tmp_path / "dev.py")
    proc = subprocess.run(
        [old, str(tmp_path / "dev.py"), "demo"], capture_output=True, text=True, timeout=60
    )
    assert proc.returncode == 1
    assert "needs Python 3.11+" in proc.stderr and "3.10" in proc.stderr
    assert not (tmp_path / ".venv").exists()


def _python_310() -> str | None:
    """A working Python 3.10 interpreter, if this machine has one (pyenv's shim may not run)."""
    candidates = [shutil.which("python3.10"), *sorted(map(str, _pyenv_310()))]
    for candidate in filter(None, candidates):
        try:
            ok = subprocess.run([candidate, "-c", "pass"], capture_output=True, timeout=30)
        except OSError:
            continue
        if ok.returncode == 0:
            return candidate
    return None


def _pyenv_310() -> list[Path]:
    root = Path(os.environ.get("PYENV_ROOT", Path.home() / ".pyenv")) / "versions"
    return list(root.glob("3.10*/bin/python3.10")) if root.is_dir() else []


def test_each_sample_alert_carries_its_own_links_and_values() -> None:
    """No alert of a bundled sample reuses another's Grafana fingerprint, source link,
    dashboard or query value: the demo's latency ticket stated the disk alert's 93.5 and
    linked the node dashboard, copied from the alert beside it."""
    from triage.demo.run import sample_bodies
    from triage.normalize import normalize_body

    for bodies in sample_bodies().values():
        for name, body in bodies:
            if "malformed" in name:
                continue
            alerts = normalize_body(body.encode()).alerts
            for field in ("source", "dashboard", "panel"):
                links = [a.links[field] for a in alerts if field in a.links]
                assert len(links) == len(set(links)), (name, field, links)
            raw = json.loads(body).get("alerts", [])
            fingerprints = [a["fingerprint"] for a in raw if "fingerprint" in a]
            assert len(fingerprints) == len(set(fingerprints)), (name, fingerprints)
            for alert in raw:
                for value in alert.get("values", {}).values():
                    assert f"value={value}" in alert["valueString"], (name, alert["labels"])


@pytest.mark.timeout(150)
def test_a_bad_setting_in_the_shell_does_not_refuse_the_demo(
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    moto_url: str,
    loopback_http: httpx2.Client,
) -> None:
    """TRIAGE_SINKS=bogus and a misspelt log level in the shell are no reason to refuse the
    demo, which uses no setting of the caller's: it runs and prints its report."""
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "PYTHONPATH": str(SRC),
        "TRIAGE_SINKS": "bogus",
        "TRIAGE_LOG_LEVEL": "loud",
    }
    try:
        proc = run_in_process(monkeypatch, capsys, "demo", env=env)
    finally:
        loopback_http.post(f"{moto_url}/moto-api/reset").raise_for_status()
    assert proc.returncode == 0, proc.stderr
    assert "tickets created      4" in proc.stdout


def test_a_ctrl_c_as_the_waves_end_is_still_one_line() -> None:
    """A Ctrl-C that lands after the waves' loop has closed (the demo's last moment) cancels
    nothing and raises nothing: it used to print a RuntimeError traceback, 'loop is closed'."""
    from triage.demo.run import _Waves

    async def done() -> tuple[object, list[dict[str, object]]]:
        return object(), []

    waves = _Waves(done())  # type: ignore[arg-type]
    waves.run_to_end()
    waves.cancel()


def test_a_signal_during_the_wait_still_waits_for_the_waves_to_end() -> None:
    """A Ctrl-C or SIGTERM while the waves run: `run_to_end` raises only once the waves' own
    clean-up (the daemon stopping, its store closing) has ended. Python 3.11's `Thread.join`,
    interrupted by the signal's exception, marked the running thread ended, so the demo
    removed its temporary store under a daemon still opening it."""
    import asyncio

    from triage.demo.run import _Waves

    assert threading.current_thread() is threading.main_thread()
    running, cleaned = threading.Event(), threading.Event()

    async def waves_then_clean_up() -> tuple[object, list[dict[str, object]]]:
        try:
            running.set()
            await asyncio.Event().wait()
        finally:
            await asyncio.sleep(0.3)  # a store that takes a while to close
            cleaned.set()
        raise AssertionError("not reached")

    def interrupt(signum: int, frame: object) -> None:
        raise KeyboardInterrupt

    main = threading.main_thread().ident or 0

    def main_thread_waits_for_the_end() -> bool:
        """The main thread is blocked in `threading`, in `run_to_end`, past the thread's start."""
        frame = sys._current_frames().get(main)
        top = frame.f_code.co_filename if frame is not None else ""
        names = []
        while frame is not None:
            names.append(frame.f_code.co_name)
            frame = frame.f_back
        return top == threading.__file__ and "run_to_end" in names and "start" not in names

    def signal_the_main_thread() -> None:
        running.wait(30)
        deadline = time.monotonic() + 30
        while not main_thread_waits_for_the_end() and time.monotonic() < deadline:
            time.sleep(0.001)
        signal.pthread_kill(main, signal.SIGUSR1)

    previous = signal.signal(signal.SIGUSR1, interrupt)
    sender = threading.Thread(target=signal_the_main_thread, daemon=True)
    try:
        waves = _Waves(waves_then_clean_up())  # type: ignore[arg-type]
        sender.start()
        with pytest.raises(KeyboardInterrupt):
            waves.run_to_end()
        assert cleaned.is_set()
        assert not waves.is_alive()
    finally:
        sender.join(30)
        signal.signal(signal.SIGUSR1, previous)
