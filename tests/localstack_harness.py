"""LocalStack in host mode (no Docker) for tests and benchmarks: SQS, Secrets Manager, CloudWatch.

`ensure_venv()` makes `.localstack/` (a Python 3.13 venv with `localstack/requirements.txt`:
localstack-core with WORKBENCH's pins, and the `aws` CLI that `localstack/init-aws.sh` calls);
once it exists a call costs a file read. `LocalStack(workdir)` is a context manager that starts
LocalStack on a free 127.0.0.1 port with its files and log under `workdir`, waits until
`/_localstack/health` reports the services, and stops it (SIGTERM, then SIGKILL).
`localstack_session(workdir)` is the body of a fixture with the skip/fail policy:
without Python 3.13 it skips, or fails under CI=true (tests/programs.py).

    .venv/bin/python tests/localstack_harness.py setup   # make .localstack/, print the time
    .venv/bin/python tests/localstack_harness.py serve   # run one until Ctrl-C
"""

from __future__ import annotations

import contextlib
import fcntl
import glob
import hashlib
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from types import TracebackType

ROOT = Path(__file__).resolve().parents[1]
VENV = ROOT / ".localstack"
REQUIREMENTS = ROOT / "localstack" / "requirements.txt"
SERVICES = ("sqs", "secretsmanager", "cloudwatch")
#: LocalStack's fixed account; queue URLs are ENDPOINT/ACCOUNT/NAME (SQS_ENDPOINT_STRATEGY=off).
ACCOUNT = "000000000000"
REGION = "us-east-1"

_STAMP = ".triage-requirements"
#: Variables passed through to LocalStack and the aws CLI; nothing else of the caller's
#: environment (AWS_*, a profile, DEBUG, PERSISTENCE...) can change what they do.
_PASSTHROUGH = ("PATH", "HOME", "LANG", "LC_ALL", "TMPDIR", "SSL_CERT_FILE", "SSL_CERT_DIR")


class LocalStackUnavailable(RuntimeError):
    """This machine cannot run LocalStack in host mode (no Python 3.13): skip, or fail in CI."""


class LocalStackError(RuntimeError):
    """Setting up, starting or stopping LocalStack went wrong; the message names the log."""


class _GatewayGaveUp(LocalStackError):
    """LocalStack's ready monitor gave up on its own gateway's port: `start` tries once more."""


#: What LocalStack logs when its gateway's port did not open within its 15 s.
_GATEWAY_GAVE_UP = "gave up waiting for gateway server to start"


def find_python313() -> Path:
    """A working Python 3.13: `python3.13` on PATH, else ~/.pyenv/versions/3.13*, newest first.

    A pyenv shim on PATH that is not switched to 3.13 fails when run, so each candidate is run.
    """
    candidates: list[str] = []
    on_path = shutil.which("python3.13")
    if on_path:
        candidates.append(on_path)
    pyenv_root = Path(os.environ.get("PYENV_ROOT") or Path.home() / ".pyenv")
    pattern = str(pyenv_root / "versions" / "3.13*" / "bin" / "python3.13")
    candidates += sorted(glob.glob(pattern), key=_version_key, reverse=True)
    for candidate in candidates:
        try:
            probe = subprocess.run(
                [candidate, "-c", "import sys, venv; print(sys.version_info[:2] == (3, 13))"],
                capture_output=True,
                text=True,
                timeout=30,
                check=False,
            )
        except (OSError, subprocess.TimeoutExpired):
            continue
        if probe.returncode == 0 and probe.stdout.strip() == "True":
            return Path(candidate)
    raise LocalStackUnavailable(
        "LocalStack in host mode needs Python 3.13, and none was found (looked for python3.13 "
        f"on PATH and {pattern}); install it, e.g. `pyenv install 3.13`"
    )


def _version_key(path: str) -> tuple[int, ...]:
    version = Path(path).parents[1].name  # .../versions/3.13.2/bin/python3.13
    return tuple(int(part) if part.isdigit() else -1 for part in version.split("."))


def _wanted_stamp() -> str:
    return hashlib.sha256(REQUIREMENTS.read_bytes()).hexdigest()


def ensure_venv(venv: Path = VENV) -> Path:
    """Make `venv` (Python 3.13 + localstack/requirements.txt) unless it is already there.

    Returns its bin directory. Idempotent and safe to run from two processes at once (a lock
    file); when the venv matches the requirements it only reads a stamp. Raises
    LocalStackUnavailable without Python 3.13, LocalStackError when the install fails.
    """
    bin_dir = venv / "bin"
    stamp = venv / _STAMP
    if _stamp_ok(stamp, bin_dir):
        return bin_dir
    venv.mkdir(parents=True, exist_ok=True)
    with (venv / ".setup.lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # another process may be installing right now
        if _stamp_ok(stamp, bin_dir):
            return bin_dir
        stamp.unlink(missing_ok=True)
        python = bin_dir / "python"
        if not _runs_python313(python):
            base = find_python313()
            _clear(venv)
            _run_logged([str(base), "-m", "venv", str(venv)], venv / "setup.log")
        _install(python, venv)
        stamp.write_text(_wanted_stamp() + "\n")
    return bin_dir


def warm(venv: Path = VENV) -> bool:
    """Start LocalStack once and call each of its services with the venv's aws CLI, so that
    Python writes the bytecode of what they load here, once, and not in the suite, where the
    first two LocalStacks start at once (a cold start cost ~8 s of CPU, a warm one ~2.3 s) and
    the first aws calls follow. Only when the venv was (re)made since the last warm-up; returns
    whether it ran."""
    stamp = venv / ".warm"
    if stamp.is_file() and stamp.read_text().strip() == _wanted_stamp():
        return False
    import tempfile

    with tempfile.TemporaryDirectory(prefix="localstack-warm-") as tmp, LocalStack(Path(tmp)) as ls:
        env = ls.client_env()
        for service, call in (
            ("sqs", "list-queues"),
            ("secretsmanager", "list-secrets"),
            ("cloudwatch", "list-metrics"),
        ):
            subprocess.run(
                [str(ls.bin_dir / "aws"), "--endpoint-url", ls.endpoint, service, call],
                env=env,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
                timeout=60,
                check=True,
            )
    stamp.write_text(_wanted_stamp() + "\n")
    return True


def _clear(venv: Path) -> None:
    """Empty a venv that is not Python 3.13 (or half made), keeping the lock and the log."""
    for entry in venv.iterdir():
        if entry.name in {".setup.lock", "setup.log"}:
            continue
        if entry.is_dir() and not entry.is_symlink():
            shutil.rmtree(entry)
        else:
            entry.unlink()


def _stamp_ok(stamp: Path, bin_dir: Path) -> bool:
    try:
        current = stamp.read_text().strip()
    except OSError:
        return False
    # A venv whose base interpreter went away has a dangling bin/python.
    return current == _wanted_stamp() and (bin_dir / "python").resolve().exists()


def _runs_python313(python: Path) -> bool:
    if not python.exists():
        return False
    probe = subprocess.run(
        [str(python), "-c", "import sys; print(sys.version_info[:2] == (3, 13))"],
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )
    return probe.returncode == 0 and probe.stdout.strip() == "True"


def _install(python: Path, venv: Path) -> None:
    """Sync the venv to the lock: with the project's uv when there is one (seconds), else pip."""
    log = venv / "setup.log"
    uv = Path(sys.executable).parent / "uv"
    if uv.exists():
        cmd = [str(uv), "pip", "sync", "--python", str(python), str(REQUIREMENTS)]
    else:
        cmd = [str(python), "-m", "pip", "install", "--quiet", "-r", str(REQUIREMENTS)]
    _run_logged(cmd, log)


def _run_logged(cmd: Sequence[str], log: Path) -> None:
    with log.open("a") as out:
        out.write(f"$ {' '.join(cmd)}\n")
        out.flush()
        rc = subprocess.call(list(cmd), stdout=out, stderr=subprocess.STDOUT, cwd=ROOT)
    if rc:
        raise LocalStackError(f"`{' '.join(cmd)}` exited {rc}:\n{_tail(log)}\n(full log: {log})")


def _tail(path: Path, lines: int = 40) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return "(no log)"


def aws_cli_env(endpoint: str, bin_dir: Path = VENV / "bin", **extra: str) -> dict[str, str]:
    """An environment in which `aws` (the venv's, first on PATH) reaches `endpoint` only: fake
    credentials, no profile or config file, nothing of the caller's AWS_* variables."""
    env = {k: os.environ[k] for k in _PASSTHROUGH if k in os.environ}
    env.update(
        PATH=f"{bin_dir}{os.pathsep}{env.get('PATH', os.defpath)}",
        AWS_ENDPOINT_URL=endpoint,
        AWS_REGION=REGION,
        AWS_DEFAULT_REGION=REGION,
        AWS_ACCESS_KEY_ID="test",
        AWS_SECRET_ACCESS_KEY="test",
        AWS_CONFIG_FILE=os.devnull,
        AWS_SHARED_CREDENTIALS_FILE=os.devnull,
        AWS_EC2_METADATA_DISABLED="true",
    )
    env.update(extra)
    return env


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class LocalStack:
    """One LocalStack process on 127.0.0.1; `with LocalStack(tmp) as ls: ls.endpoint`."""

    def __init__(
        self,
        workdir: Path,
        *,
        services: Sequence[str] = SERVICES,
        venv: Path = VENV,
        start_timeout_s: float = 60.0,
        stop_grace_s: float = 5.0,
        extra_env: Mapping[str, str] | None = None,
    ) -> None:
        self.workdir = Path(workdir)
        #: Added to LocalStack's environment (the bench's hook that logs its collections).
        self.extra_env = dict(extra_env or {})
        self.services = tuple(services)
        self.venv = venv
        self.start_timeout_s = start_timeout_s
        self.stop_grace_s = stop_grace_s
        self.port = 0
        self.log_path = self.workdir / "localstack.log"
        self._log_start = 0  # where the LocalStack started last began writing to the log
        self._proc: subprocess.Popen[bytes] | None = None

    @property
    def endpoint(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def bin_dir(self) -> Path:
        """The venv's bin directory: its `aws` is the CLI the init script is tested with."""
        return self.venv / "bin"

    def queue_url(self, name: str) -> str:
        return f"{self.endpoint}/{ACCOUNT}/{name}"

    def client_env(self, **extra: str) -> dict[str, str]:
        """An environment for a subprocess (the aws CLI, a script) that talks to this LocalStack."""
        return aws_cli_env(self.endpoint, self.bin_dir, **extra)

    def start(self) -> None:
        """Start LocalStack and wait until its services are ready. Once more, on another
        port, when its own gateway never came up (`_GATEWAY_GAVE_UP`: its ready monitor waits
        15 s for the port, and then the runtime never becomes ready though it keeps running;
        seen once on a busy machine, with the port picked free taken or the start slow)."""
        for attempt in (1, 2):
            try:
                self._start_once()
                return
            except _GatewayGaveUp:
                if attempt == 2:
                    raise

    def _start_once(self) -> None:
        ensure_venv(self.venv)
        (self.workdir / "tmp").mkdir(parents=True, exist_ok=True)
        self.port = _free_port()
        host = f"127.0.0.1:{self.port}"
        env = {k: os.environ[k] for k in _PASSTHROUGH if k in os.environ}
        env.update(
            GATEWAY_SERVER="hypercorn",
            GATEWAY_LISTEN=host,
            LOCALSTACK_HOST=host,
            DNS_ADDRESS="0",
            SERVICES=",".join(self.services),
            DISABLE_EVENTS="1",
            SKIP_SSL_CERT_DOWNLOAD="1",
            # Queue URLs as http://127.0.0.1:PORT/000000000000/NAME, usable as they are.
            SQS_ENDPOINT_STRATEGY="off",
            FILESYSTEM_ROOT=str(self.workdir / "filesystem"),
            # Where LocalStack keeps its state when it believes it runs in a container (it
            # checks /.dockerenv, which CI's machine has): tempfile.gettempdir()/localstack,
            # which it empties when it starts. With one shared temp dir, each LocalStack that
            # started removed the state of those running (CloudWatch's metrics.db: "unable to
            # open database file"); each has its own.
            TMPDIR=str(self.workdir / "tmp"),
        )
        env.update(self.extra_env)
        with self.log_path.open("ab") as log:
            self._log_start = log.tell()  # this start's lines follow (the log is appended to)
            self._proc = subprocess.Popen(
                [str(self.bin_dir / "python"), "-m", "localstack.runtime.main"],
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                cwd=self.workdir,
                env=env,
                start_new_session=True,  # its own process group, so stop() reaches any child
            )
        try:
            self._wait_healthy()
        except BaseException:
            self.stop()
            raise

    def _wait_healthy(self) -> None:
        assert self._proc is not None
        deadline = time.monotonic() + self.start_timeout_s
        status: dict[str, str] = {}
        while time.monotonic() < deadline:
            if self._proc.poll() is not None:
                raise LocalStackError(
                    f"LocalStack exited with {self._proc.returncode} while starting:\n"
                    f"{_tail(self.log_path)}\n(full log: {self.log_path})"
                )
            status = self.health()
            if all(status.get(s) in {"available", "running"} for s in self.services):
                return
            if not status and _GATEWAY_GAVE_UP in self._this_starts_log():
                raise _GatewayGaveUp(
                    f"LocalStack on {self.endpoint}: its gateway never started:\n"
                    f"{_tail(self.log_path)}\n(full log: {self.log_path})"
                )
            time.sleep(0.1)
        raise LocalStackError(
            f"LocalStack on {self.endpoint} not healthy after {self.start_timeout_s:.0f} s "
            f"(services: {status}):\n{_tail(self.log_path)}\n(full log: {self.log_path})"
        )

    def _this_starts_log(self) -> str:
        """What the LocalStack started last wrote to the log."""
        with self.log_path.open("rb") as log:
            log.seek(self._log_start)
            return log.read().decode(errors="replace")

    def health(self) -> dict[str, str]:
        """Service name -> state from /_localstack/health; empty while it does not answer."""
        try:
            with urllib.request.urlopen(f"{self.endpoint}/_localstack/health", timeout=2) as r:
                body = json.load(r)
        except (OSError, urllib.error.URLError, ValueError):
            return {}
        services = body.get("services", {}) if isinstance(body, dict) else {}
        return {str(k): str(v) for k, v in services.items()}

    def stop(self) -> None:
        """SIGTERM, then SIGKILL to the whole group after `stop_grace_s` (SIGTERM can hang)."""
        proc, self._proc = self._proc, None
        if proc is None:
            return
        if proc.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGTERM)
            with contextlib.suppress(subprocess.TimeoutExpired):
                proc.wait(timeout=self.stop_grace_s)
        # Also after a clean exit: nothing it started may outlive it.
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(timeout=10)

    def __enter__(self) -> LocalStack:
        self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()


def venv_or_skip(venv: Path = VENV) -> Path:
    """`ensure_venv()` for a pytest fixture: skip without Python 3.13, or fail in CI."""
    from programs import missing

    try:
        return ensure_venv(venv)
    except LocalStackUnavailable as exc:
        missing(str(exc))
        raise


def localstack_session(
    workdir: Path, services: Sequence[str] = SERVICES, stop_grace_s: float = 5.0
) -> Iterator[LocalStack]:
    """Body of a module or session fixture: `yield from localstack_session(tmp_path_factory.mktemp(...))`.

    A LocalStack that answered a request after its SIGTERM (a long poll still open when its
    client went away) never exits: its worker waits on the event loop shutdown stopped, so
    `stop` kills it once `stop_grace_s` is over. A fixture whose LocalStack is thrown away
    can pass a short grace."""
    venv_or_skip()
    with LocalStack(workdir, services=services, stop_grace_s=stop_grace_s) as localstack:
        yield localstack


def main(argv: list[str]) -> int:
    command = argv[0] if argv else ""
    if command == "setup":
        started = time.monotonic()
        try:
            bin_dir = ensure_venv()
            warmed = warm()
        except (LocalStackUnavailable, LocalStackError, subprocess.SubprocessError) as exc:
            print(f"localstack_harness: {exc}", file=sys.stderr)
            return 1
        what = " (LocalStack started once to write its bytecode)" if warmed else ""
        print(f"{bin_dir.parent} ready in {time.monotonic() - started:.1f} s{what}")
        return 0
    if command == "serve":
        import tempfile

        def stop(signum: int, frame: object) -> None:
            raise KeyboardInterrupt  # SIGTERM stops LocalStack too, as Ctrl-C does

        signal.signal(signal.SIGTERM, stop)

        with tempfile.TemporaryDirectory(prefix="localstack-") as tmp:
            started = time.monotonic()
            with LocalStack(Path(tmp)) as ls:
                print(
                    f"LocalStack on {ls.endpoint} (healthy in {time.monotonic() - started:.1f} s;"
                    f" log {ls.log_path}); Ctrl-C stops it",
                    flush=True,
                )
                with contextlib.suppress(KeyboardInterrupt):
                    while ls._proc is not None and ls._proc.poll() is None:
                        time.sleep(0.5)
        return 0
    print("usage: localstack_harness.py setup|serve", file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
