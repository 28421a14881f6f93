"""`python -m triage ...` as child processes forked from one Python that has imported triage.

A daemon started as a new interpreter spends ~0.55 s of CPU importing triage.app and its
libraries before it does anything a test looks at; the suite starts a few dozen. Here one
process per test process (the *zygote*, this file run as a script) imports what `triage run`
imports, exactly as `triage/__main__.py` does (collector off first), and forks a child per
request. Each child is a process of its own: its own pid, memory, signals and exit status,
stdin from /dev/null, stdout and stderr where the caller says, exactly the caller's
environment; it runs `triage/__main__.py` as `python -m` does and ends as the interpreter
ends (non-daemon threads joined, atexit handlers run, streams flushed, the SystemExit code).
What it does not repeat is the interpreter's start, those imports and the compiling of the
redactor's patterns (done once in the zygote): a test of those (the version line, a missing
extra, start-up time) runs `daemon_harness.run_triage` instead. `daemon_harness.Daemon` and
`ingest_harness.IngestProcess` start their processes here.

The zygote ends when the test process does (its stdin closes; a Ctrl-C to the process group
does not end it), and kills its children then; they die with it whatever ends it. Replies name
the request, not the pid, which is another process's once reaped. Children of requests
spawn() gave up on are killed at once.

Nothing the modules do at import depends on the environment (triage reads it when it builds
Settings), so importing them before the child's environment is set changes nothing.

    zygote = Zygote.shared()
    process = zygote.spawn(["run"], env=env, stderr=log_path)  # Popen-like: wait, poll, kill

A test that needs a zygote of its own (to stop or kill it) starts `Zygote.light()`, which
imports only the command line: its children import the rest, as a new interpreter does.
"""

from __future__ import annotations

import atexit
import contextlib
import json
import os
import select
import signal
import subprocess
import sys
import threading
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import IO, Any, ClassVar

SRC = Path(__file__).resolve().parents[1] / "src"

#: What `triage run` imports whatever its settings: triage.cli's `_run`, and what the daemon
#: imports as it starts (its store, the sweep, the TLS context of its AWS clients). What a
#: setting adds (the OpenAI SDK, the HTTP endpoints' server) is imported by the child that
#: needs it.
PRELOAD = (
    "triage.cli",
    "triage.app",
    "triage.sqs.supervisor",
    "triage.incidents.sqlite",
    "triage.ops.sweep",
    "triage.ops.escalate",
    "httpcore2",
)
#: What `Zygote.light()` imports: what every `python -m triage` imports first (the command
#: line), so that a child that only reads its arguments is a fork and no more; a child that
#: runs the daemon imports the rest itself, as a new interpreter would.
LIGHT_PRELOAD = ("triage.cli",)


class ForkedProcess:
    """The parts of `subprocess.Popen` the tests use, for a child of the zygote."""

    def __init__(self, pid: int) -> None:
        self.pid = pid
        self.returncode: int | None = None
        self._exited = threading.Event()

    def _set_exit(self, code: int) -> None:
        self.returncode = code
        self._exited.set()

    def poll(self) -> int | None:
        return self.returncode

    def wait(self, timeout: float | None = None) -> int:
        if not self._exited.wait(timeout):
            raise subprocess.TimeoutExpired(f"triage (pid {self.pid})", timeout or 0)
        assert self.returncode is not None
        return self.returncode

    def send_signal(self, sig: int) -> None:
        # Once its exit is known the pid may belong to another process: leave it alone, as
        # Popen does.
        if self.returncode is None:
            with contextlib.suppress(ProcessLookupError):
                os.kill(self.pid, sig)

    def terminate(self) -> None:
        self.send_signal(signal.SIGTERM)

    def kill(self) -> None:
        self.send_signal(signal.SIGKILL)


class Zygote:
    """The parent's end: starts the zygote, asks it for children, learns how they ended."""

    #: How long spawn() waits for the zygote's imports: the test's own timeout (120 s) is
    #: the real bound; this one only names the cause.
    startup_timeout_s: ClassVar[float] = 100

    _shared: ClassVar[Zygote | None] = None
    _shared_lock: ClassVar[threading.Lock] = threading.Lock()

    @classmethod
    def shared(cls) -> Zygote:
        """This process's zygote, started on first use and stopped when the process exits."""
        with cls._shared_lock:
            if cls._shared is None or cls._shared._process.poll() is not None:
                cls._shared = cls()
                atexit.register(cls._shared.close)
            return cls._shared

    @classmethod
    def light(cls) -> Zygote:
        """A zygote of the caller's own that imports LIGHT_PRELOAD and compiles no patterns:
        ~0.3 s of CPU to start where a daemon's zygote takes ~1 s. For tests of the zygote
        itself, which start one each; a test's daemons fork from `shared()`."""
        return cls(preload=LIGHT_PRELOAD, compile_redactor=False)

    def __init__(self, preload: Sequence[str] = PRELOAD, *, compile_redactor: bool = True) -> None:
        """Start a zygote that imports `preload` and, with `compile_redactor`, compiles the
        redactor's patterns before it forks anything."""
        prefixes = ("TRIAGE_", "BACKEND_", "OPENAI_", "AWS_", "GITHUB_", "SLACK_", "SQS_")
        env = {k: v for k, v in os.environ.items() if not k.startswith(prefixes)}
        env["PYTHONPATH"] = str(SRC)
        self._process = subprocess.Popen(
            [sys.executable, __file__, json.dumps([list(preload), compile_redactor])],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=None,  # a zygote that fails to import says why in the test's output
            env=env,
        )
        assert self._process.stdin is not None and self._process.stdout is not None
        self._requests: IO[bytes] = self._process.stdin
        self._lock = threading.Lock()
        # All keyed by request id.
        self._children: dict[int, ForkedProcess] = {}
        self._early_exits: dict[int, int] = {}
        self._spawned: dict[int, int] = {}
        self._fork_errors: dict[int, str] = {}
        self._abandoned: set[int] = set()  # spawn() gave up waiting for these
        self._ready = False  # the zygote has imported what it preloads
        self._answered = threading.Condition(self._lock)
        self._next_id = 0
        self._reader = threading.Thread(
            target=self._read, args=(self._process.stdout,), name="zygote-reader", daemon=True
        )
        self._reader.start()

    def spawn(
        self,
        argv: Sequence[str],
        *,
        env: Mapping[str, str],
        stderr: Path,
        stdout: Path | None = None,
        timeout_s: float = 30,
    ) -> ForkedProcess:
        """`python -m triage ARGV` in exactly `env`, stderr appended to `stderr`, stdout to
        `stdout` (default /dev/null), started in this process's working directory."""
        request: dict[str, Any] = {
            "argv": list(argv),
            "env": dict(env),
            "cwd": os.getcwd(),
            "stdout": str(stdout) if stdout is not None else os.devnull,
            "stderr": str(stderr),
        }
        with self._lock:
            # Its imports take ~0.8 s of CPU, many times that on a loaded machine: a wait of
            # their own, so that `timeout_s` is for the fork alone.
            if not self._answered.wait_for(
                lambda: self._ready or self._process.poll() is not None, self.startup_timeout_s
            ):
                raise RuntimeError(f"the zygote did not start within {self.startup_timeout_s} s")
            if not self._ready:  # its traceback is in the test's output
                code = self._process.returncode
                raise RuntimeError(f"the zygote exited with {code} before it was ready")
            self._next_id += 1
            request["id"] = ident = self._next_id
            self._send(request)
            try:
                answered = self._answered.wait_for(
                    lambda: (
                        ident in self._spawned
                        or ident in self._fork_errors
                        or self._process.poll() is not None
                    ),
                    timeout_s,
                )
            except BaseException:  # e.g. pytest-timeout's exception, raised in this wait
                self._abandon(ident)
                raise
            if not answered:
                self._abandon(ident)
                raise RuntimeError(f"the zygote did not fork within {timeout_s} s")
            if ident in self._fork_errors:
                raise RuntimeError(f"the zygote could not fork: {self._fork_errors.pop(ident)}")
            if ident not in self._spawned:
                raise RuntimeError(f"the zygote exited with {self._process.returncode}")
            child = ForkedProcess(self._spawned.pop(ident))
            if ident in self._early_exits:  # it ended before we heard of its pid
                child._set_exit(self._early_exits.pop(ident))
            else:
                self._children[ident] = child
            return child

    def _abandon(self, ident: int) -> None:
        """Nobody will wait for the child of request `ident`. The zygote forks it all the same
        once it reads the request: it is told to kill that child at once, so that no daemon
        runs on, polling the queue a later test reuses."""
        with contextlib.suppress(OSError, ValueError):  # unless the zygote is gone
            self._send({"abandon": ident})
        self._abandoned.add(ident)
        self._spawned.pop(ident, None)
        self._early_exits.pop(ident, None)

    def _send(self, request: Mapping[str, Any]) -> None:
        self._requests.write(json.dumps(request).encode() + b"\n")
        self._requests.flush()

    def _read(self, replies: IO[bytes]) -> None:
        # Replies name the request, not the pid: once the zygote has reaped a child its pid
        # may be a new process's, so a pid alone cannot say whose exit a line reports.
        for line in replies:
            kind, ident_text, value = line.decode().rstrip("\n").split(" ", 2)
            ident = int(ident_text)
            with self._lock:
                if ident in self._abandoned:
                    continue
                if kind == "ready":
                    self._ready = True
                    self._answered.notify_all()
                elif kind == "pid":
                    self._spawned[ident] = int(value)
                    self._answered.notify_all()
                elif kind == "error":
                    self._fork_errors[ident] = value
                    self._answered.notify_all()
                elif kind == "exit":
                    self._exited(ident, int(value))
        # The replies end as the zygote exits, a moment before it can be reaped: wait for
        # that, so a spawn() woken below sees the exit in its `poll()`, rather than sleeping
        # out its whole start-up timeout for a notification that will not come again.
        with contextlib.suppress(subprocess.TimeoutExpired):
            self._process.wait(timeout=30)
        with self._lock:  # the zygote is gone: so are its children (they die with it)
            self._answered.notify_all()
            for child in self._children.values():
                child._set_exit(-signal.SIGKILL)
            self._children.clear()

    def _exited(self, ident: int, code: int) -> None:
        child = self._children.pop(ident, None)
        if child is not None:
            child._set_exit(code)
        elif ident in self._spawned:  # spawn() has not taken its pid yet
            self._early_exits[ident] = code

    def close(self) -> None:
        """End the zygote (it kills any child still running) and wait for it, so its CPU
        and its children's is counted in this process's children."""
        with contextlib.suppress(OSError, ValueError):
            self._requests.close()
        try:
            self._process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            self._process.kill()
            self._process.wait()
        self._reader.join(timeout=15)  # it ends at the replies' end, once the zygote is gone
        if not self._reader.is_alive() and self._process.stdout is not None:
            self._process.stdout.close()


# --- The zygote (this file run as a script) ------------------------------------------------


def _serve() -> None:
    """Write `ready 0 0` once imported; then fork a child for each JSON request line on stdin,
    write `pid ID PID` once forked (`error ID WHY` if it cannot) and `exit ID CODE` once
    reaped, and kill at once the child of a request told `abandon`. Ends, killing the
    children left, when stdin closes."""
    # A Ctrl-C reaches the test's whole process group: the zygote ends with the test process
    # (its stdin closes), not before, so that it still kills its children then. The children
    # get Python's Ctrl-C handler back (`become_child`).
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    import gc

    gc.disable()  # as triage/__main__.py does before its imports
    import importlib

    # `python -m` puts the working directory first on the path, not the script's (tests/,
    # whose modules must not stand in for anything triage imports).
    sys.path[0] = os.getcwd()

    preload, compile_redactor = json.loads(sys.argv[1])
    for name in preload:
        importlib.import_module(name)
    if compile_redactor:
        _compile_redaction_rules()
    replies = os.dup(1)
    devnull = os.open(os.devnull, os.O_RDWR)
    os.dup2(devnull, 1)  # nothing the zygote or a child prints can garble the replies
    wake_r, wake_w = os.pipe()
    os.set_blocking(wake_w, False)
    signal.set_wakeup_fd(wake_w)
    signal.signal(signal.SIGCHLD, lambda signum, frame: None)
    zygote = _ZygoteLoop(replies, devnull, (wake_r, wake_w))
    zygote.reply("ready 0 0")
    try:
        zygote.serve()
    finally:
        zygote.kill_all()


class _ZygoteLoop:
    """The zygote's state: its live children by request id, and the replies pipe."""

    def __init__(self, replies: int, devnull: int, wake: tuple[int, int]) -> None:
        self.replies = replies
        self.devnull = devnull
        self.wake = wake
        self.children: dict[int, int] = {}  # request id -> pid, until reaped

    def serve(self) -> None:
        pending = b""
        while True:
            readable, _, _ = select.select([0, self.wake[0]], [], [])
            if self.wake[0] in readable:
                os.read(self.wake[0], 4096)
            self.reap()
            if 0 not in readable:
                continue
            data = os.read(0, 1 << 20)
            if not data:
                return
            pending += data
            while b"\n" in pending:
                line, pending = pending.split(b"\n", 1)
                self.handle(json.loads(line))

    def handle(self, request: dict[str, Any]) -> None:
        if "abandon" in request:
            # Not reaped yet (only this loop reaps), so the pid is still that child's.
            pid = self.children.get(request["abandon"])
            if pid is not None:
                os.kill(pid, signal.SIGKILL)
            return
        ident = request["id"]
        # Nothing the zygote wrote and did not flush may end up in a child's files.
        for stream in (sys.stdout, sys.stderr):
            with contextlib.suppress(Exception):
                stream.flush()
        zygote = os.getpid()
        try:
            pid = os.fork()
        except OSError as exc:  # e.g. out of memory or processes under load: that spawn fails
            self.reply(f"error {ident} {exc}")
            return
        if pid == 0:
            try:
                self.become_child(request, zygote)
            finally:
                os._exit(70)  # _child never returns; this is for a failure inside it
        self.children[ident] = pid
        self.reply(f"pid {ident} {pid}")

    def become_child(self, request: dict[str, Any], zygote: int) -> None:
        """In the forked child: none of the zygote's fds or signal handling, then triage."""
        # Die with the zygote, whatever ends it, as its kill_all would have made it.
        _die_with_parent(zygote)
        signal.set_wakeup_fd(-1)
        signal.signal(signal.SIGCHLD, signal.SIG_DFL)
        # Python's Ctrl-C handler, as a triage started from a terminal has it, whatever the
        # suite was started from: a script's `pytest &` ignores SIGINT, which triage keeps
        # ignored (tests/test_faults_leftovers_380.py starts processes of its own for that).
        signal.signal(signal.SIGINT, signal.default_int_handler)
        for fd in (self.replies, *self.wake):
            os.close(fd)
        _child(request, self.devnull)

    def reap(self) -> None:
        for ident, pid in list(self.children.items()):
            done, status = os.waitpid(pid, os.WNOHANG)
            if done:
                del self.children[ident]
                self.reply(f"exit {ident} {os.waitstatus_to_exitcode(status)}")

    def reply(self, line: str) -> None:
        os.write(self.replies, line.encode() + b"\n")

    def kill_all(self) -> None:
        for pid in self.children.values():
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
        signal.signal(signal.SIGCHLD, signal.SIG_DFL)
        for pid in self.children.values():
            with contextlib.suppress(ChildProcessError):
                os.waitpid(pid, 0)


def _die_with_parent(parent: int) -> None:
    """SIGKILL this process when its parent ends (Linux's PR_SET_PDEATHSIG); at once if the
    parent ended already. Elsewhere than Linux, a child outlives a zygote that is killed."""
    if not sys.platform.startswith("linux"):
        return
    import ctypes

    pr_set_pdeathsig = 1
    libc = ctypes.CDLL(None, use_errno=True)
    if libc.prctl(pr_set_pdeathsig, signal.SIGKILL, 0, 0, 0) != 0:
        raise OSError(ctypes.get_errno(), "prctl(PR_SET_PDEATHSIG)")
    if os.getppid() != parent:
        os.kill(os.getpid(), signal.SIGKILL)


def _compile_redaction_rules() -> None:
    """Compile the redactor's patterns once, here, rather than in each child.

    A pattern is compiled the first time a text holds one of its needles (triage/redact/
    rule.py), which for a daemon given secrets to redact cost 0.2-0.3 s of CPU, each daemon
    again; all of them take ~0.25 s. The compiled patterns are the same objects either way:
    what the children skip is the compiling (in-process tests prove the lazy compiling
    itself). Only a cost if the redactor's internals move: then children compile as before."""
    from triage.redact import rule, scrub

    for run in getattr(scrub, "_RUNS", ()):
        if isinstance(run[0], rule._Rule):
            run[0].pattern  # noqa: B018 - compiled on first access
    for name, module in list(sys.modules.items()):
        if name.startswith("triage.redact"):
            for value in list(vars(module).values()):
                if isinstance(value, rule._LazyPattern):
                    value.compiled  # noqa: B018 - compiled on first access


def _child(request: dict[str, Any], devnull: int) -> None:
    """In the forked child: the caller's files, directory and environment, then triage."""
    os.dup2(devnull, 0)
    out = os.open(request["stdout"], os.O_WRONLY | os.O_CREAT | os.O_APPEND)
    err = os.open(request["stderr"], os.O_WRONLY | os.O_CREAT | os.O_APPEND)
    os.dup2(out, 1)
    os.dup2(err, 2)
    for fd in {devnull, out, err}:
        os.close(fd)
    os.chdir(request["cwd"])
    sys.path[0] = request["cwd"]
    os.environ.clear()
    os.environ.update(request["env"])
    _run_as_main(request["argv"])


def _run_as_main(argv: list[str]) -> None:
    """`python -m triage ARGV` from here on, ending as the interpreter ends; never returns."""
    import runpy
    import traceback

    sys.argv = ["-m", *argv]  # runpy puts the module's path first, as `-m` does
    code = 0
    try:
        runpy.run_module("triage", run_name="__main__", alter_sys=True)
    except SystemExit as exc:
        code = _exit_code(exc.code)
    except KeyboardInterrupt:
        traceback.print_exc()
        _finish()
        # The interpreter ends an unhandled Ctrl-C by dying of SIGINT.
        signal.signal(signal.SIGINT, signal.SIG_DFL)
        os.kill(os.getpid(), signal.SIGINT)
    except BaseException:
        traceback.print_exc()
        code = 1
    _finish()
    os._exit(code)


def _exit_code(code: object) -> int:
    """The exit status `sys.exit(code)` gives: None 0, an int itself, anything else printed
    and 1."""
    if code is None:
        return 0
    if isinstance(code, int):
        return code & 0xFF
    print(code, file=sys.stderr)
    return 1


def _finish() -> None:
    """What the interpreter does at exit: join non-daemon threads, run atexit, flush."""
    import atexit as exits

    threading._shutdown()  # type: ignore[attr-defined]
    exits._run_exitfuncs()
    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(Exception):
            stream.flush()


if __name__ == "__main__":
    _serve()
