#!/usr/bin/env python3
"""Set up the project's virtualenv and run one of its everyday commands.

Needs only Python 3.11+: it makes `.venv`, installs the pinned uv into it, syncs the locked
dependencies, then runs the command inside the venv. Running it again is cheap (uv is a no-op
when the environment already matches `uv.lock`).

    python3 dev.py demo        # the real daemon on the embedded default (no AWS, no API keys)
    python3 dev.py test        # the test suite; extra arguments go to pytest
    python3 dev.py lint        # ruff and mypy --strict
    python3 dev.py triage ...  # any `python -m triage` command inside the venv
    python3 dev.py bench       # the benchmark (LocalStack, stub model and backend) -> bench/RESULTS.md
"""

from __future__ import annotations

import difflib
import hashlib
import os
import signal
import subprocess
import sys
import venv
from pathlib import Path

ROOT = Path(__file__).resolve().parent
VENV = ROOT / ".venv"
UV_VERSION = "0.13.8"
BIN = VENV / ("Scripts" if os.name == "nt" else "bin")


def _run(*cmd: str | os.PathLike[str], env: dict[str, str] | None = None) -> int:
    """Run `cmd` to its end and return its exit status as a shell gives it (128+N when a
    signal N ended it).

    A Ctrl-C reaches the whole foreground process group, the command as well as this script,
    so the command alone handles it (the demo stops cleanly and exits 130, pytest prints its
    summary): this script waits for it, with no traceback of its own and without killing it
    mid-cleanup, as subprocess.call does 0.25 s after a KeyboardInterrupt. A SIGINT this
    script was started ignoring (a script's background job) stays ignored for the command."""
    ignored = signal.getsignal(signal.SIGINT) == signal.SIG_IGN
    # A handler, not SIG_IGN: the command starts with SIGINT as it was (exec resets handlers).
    previous = None if ignored else signal.signal(signal.SIGINT, _leave_ctrl_c_to_the_command)
    try:
        code = subprocess.Popen([os.fspath(c) for c in cmd], cwd=ROOT, env=env).wait()
    finally:
        if previous is not None:
            signal.signal(signal.SIGINT, previous)
    return 128 - code if code < 0 else code


def _leave_ctrl_c_to_the_command(signum: int, frame: object) -> None:
    """SIGINT while a command runs: the command got it too and decides what it means."""


def setup() -> None:
    """Create .venv and sync it to uv.lock; exits on failure with the tool's own message."""
    if sys.version_info < (3, 11):  # noqa: UP036 - dev.py may be run by an older python3
        sys.exit(f"triage needs Python 3.11+, this is {sys.version.split()[0]}")
    python = BIN / "python"
    if not python.exists():
        print(f"dev.py: creating {VENV.name}", file=sys.stderr)
        venv.EnvBuilder(with_pip=True).create(VENV)
    uv = BIN / "uv"
    if not uv.exists():
        rc = _run(python, "-m", "pip", "install", "--quiet", f"uv=={UV_VERSION}")
        if rc:
            sys.exit(f"dev.py: could not install uv=={UV_VERSION} (pip exit {rc})")
    env = {**os.environ, "UV_PROJECT_ENVIRONMENT": str(VENV)}
    # --inexact keeps uv itself in the venv; --frozen installs exactly what uv.lock says.
    rc = _run(uv, "sync", "--frozen", "--inexact", "--all-extras", "--quiet", env=env)
    if rc:
        sys.exit(f"dev.py: uv sync failed (exit {rc})")


#: The heavy imports of the processes the suite starts (daemon, gateway, CLI, moto's server),
#: beyond what collecting the tests imports.
_WARM_IMPORTS = (
    "import aioboto3, aiohttp.web, jwt, moto.server, openai, prometheus_client, "
    "triage.app, triage.cli, triage.ingest.service, triage.ops.prometheus, "
    "triage.summarise.bedrock, triage.summarise.openai_chat"
)


def warm_bytecode(python: Path) -> None:
    """Write the bytecode of what the suite imports once, before pytest starts its workers.

    uv does not compile a new venv's bytecode, so in a fresh clone pytest's workers and
    the first daemons each compiled the same modules side by side (collecting cold costs
    ~2.6 s more CPU per worker, a daemon's imports ~1.5 s more). Two processes, one per core:
    collecting the tests, and the heavy imports of the processes the tests start. Runs again
    only when uv.lock changes; a failure here only means the suite compiles as before."""
    stamp = VENV / ".triage-warm"
    wanted = hashlib.sha256((ROOT / "uv.lock").read_bytes()).hexdigest()
    if stamp.is_file() and stamp.read_text().strip() == wanted:
        return
    env = bytecode_env()
    collect = ["-m", "pytest", "--collect-only", "-q", "-o", "addopts=", "-p", "no:cacheprovider"]
    warmers = [
        subprocess.Popen(
            [os.fspath(python), *args],
            cwd=ROOT,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        for args in (collect, ["-c", _WARM_IMPORTS])
    ]
    if all(w.wait() == 0 for w in warmers):
        stamp.write_text(wanted + "\n")


def bytecode_env() -> dict[str, str]:
    """pytest's environment: the caller's, except that Python may write bytecode.

    With PYTHONDONTWRITEBYTECODE set (as on this project's machine), each of the five workers
    compiled and assertion-rewrote every test module on every run (~6 s of CPU each to collect,
    ~2.5 s from the cache), and each daemon a test starts compiled any module edited since the
    last warm-up. Written once, each is read from `__pycache__/` (ignored by git) from then on."""
    return {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}


#: What `python3 dev.py COMMAND` accepts.
COMMANDS = ("demo", "test", "lint", "triage", "bench")


def main(argv: list[str]) -> int:
    if argv and argv[0] in {"-h", "--help"}:
        print(__doc__)
        return 0
    if not argv:  # a usage error: the usage goes where errors go
        print(__doc__, file=sys.stderr)
        return 2
    command, rest = argv[0], argv[1:]
    if command not in COMMANDS:
        # Said before setup(), which on a fresh clone installs for a minute first.
        print(f"dev.py: unknown command {command!r}{_did_you_mean(command)}", file=sys.stderr)
        print(
            f"dev.py: commands: {', '.join(COMMANDS)}; see `python3 dev.py --help`", file=sys.stderr
        )
        return 2
    setup()
    python = BIN / "python"
    if command == "test":
        warm_bytecode(python)
        rc = _run(python, "-m", "pytest", *rest, env=bytecode_env())
        if rc == 5:  # pytest: no tests collected. A run that proves nothing must not pass.
            print("dev.py: pytest collected no tests", file=sys.stderr)
        return rc
    if command == "lint":
        return _run(python, "-m", "ruff", "check", ".") or _run(python, "-m", "mypy")
    if command == "demo":
        return _run(python, "-m", "triage", "demo", *rest)
    if command == "triage":
        return _run(python, "-m", "triage", *rest)
    return _run(python, ROOT / "bench" / "run.py", *rest)  # bench


def _did_you_mean(command: str) -> str:
    """ "; did you mean 'demo'?" for a near miss of a command, else nothing."""
    close = difflib.get_close_matches(command.lower(), COMMANDS, n=1, cutoff=0.6)
    return f"; did you mean {close[0]!r}?" if close else ""


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
