"""Helpers for end-to-end tests: a queue with a DLQ on moto, settings, SQS peeks, and the daemon\nand the command line as a process or in this one."""

from __future__ import annotations

import asyncio
import contextlib
import functools
import json
import logging
import os
import sqlite3
import subprocess
import sys
import tempfile
import threading
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import boto3
import pytest

from fork_harness import Zygote
from triage.settings import Settings

TOKEN = "test-token-123"
SRC = Path(__file__).resolve().parents[1] / "src"


@dataclass(frozen=True)
class Queues:
    endpoint: str
    url: str
    dlq_url: str

    def client(self) -> Any:
        return sqs_client(self.endpoint)

    def send(self, *bodies: str | dict[str, Any]) -> None:
        sqs = self.client()
        for body in bodies:
            text = body if isinstance(body, str) else json.dumps(body)
            sqs.send_message(QueueUrl=self.url, MessageBody=text)

    def depth(self, url: str | None = None) -> int:
        """Messages on the queue, visible or in flight. Read twice: moto counts the visible ones
        and then the hidden ones at two instants, so a message whose visibility ends between
        them is in neither count, and one read alone can say 0 for a queue that holds it."""
        return max(self._depth_once(url or self.url) for _ in range(2))

    def _depth_once(self, url: str) -> int:
        attrs = self.client().get_queue_attributes(
            QueueUrl=url,
            AttributeNames=["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"],
        )["Attributes"]
        return int(attrs["ApproximateNumberOfMessages"]) + int(
            attrs["ApproximateNumberOfMessagesNotVisible"]
        )

    def dead_letters(self) -> list[str]:
        response = self.client().receive_message(
            QueueUrl=self.dlq_url, MaxNumberOfMessages=10, WaitTimeSeconds=0, VisibilityTimeout=0
        )
        return [m["Body"] for m in response.get("Messages", [])]


@functools.cache
def sqs_client(endpoint: str) -> Any:
    """One boto3 SQS client per endpoint for the test process. Making one costs ~4 ms of CPU,
    which `make_queues` paid once per test and the test's `Queues` once more (~1,100 tests use
    the `queues` fixture); a poll loop that built two per call spent ~13 ms per iteration beside
    the moto server, which shares this process's GIL. botocore clients are thread-safe, and
    every test has the same fake credentials (conftest's `isolated_test`)."""
    return boto3.client("sqs", endpoint_url=endpoint, region_name="us-east-1")


def make_queues(endpoint: str, *, max_receive_count: int = 2, visibility_s: int = 30) -> Queues:
    """A queue and its DLQ (after `max_receive_count` receives) under names no other call
    gives: moto is emptied between tests but keeps its URLs, so under one fixed name a daemon
    left running by an earlier test would poll, and take, a later test's messages; under a
    name of its own it polls a queue that is gone."""
    sqs = sqs_client(endpoint)
    name = f"alerts-{uuid.uuid4().hex[:12]}"
    # The DLQ keeps letters longer than the queue keeps messages, as AWS advises and
    # `triage check` asks (a letter keeps its first enqueue time).
    keeps = {"MessageRetentionPeriod": "1209600"}
    dlq_url = sqs.create_queue(QueueName=f"{name}-dlq", Attributes=keeps)["QueueUrl"]
    # The DLQ's ARN from its URL (`.../ACCOUNT/NAME`), as SQS forms it: one request fewer.
    account = dlq_url.rstrip("/").split("/")[-2]
    dlq_arn = f"arn:aws:sqs:us-east-1:{account}:{name}-dlq"
    redrive = {"deadLetterTargetArn": dlq_arn, "maxReceiveCount": str(max_receive_count)}
    url = sqs.create_queue(
        QueueName=name,
        Attributes={"VisibilityTimeout": str(visibility_s), "RedrivePolicy": json.dumps(redrive)},
    )["QueueUrl"]
    return Queues(endpoint, url, dlq_url)


def settings_for(queues: Queues, backend_url: str, store: Path, **overrides: Any) -> Settings:
    values: dict[str, Any] = {
        "queue_url": queues.url,
        "aws_endpoint_url": queues.endpoint,
        "backend_base_url": backend_url,
        "store_url": f"sqlite:///{store}",
        "sqs_wait_time": 1,
        "retry_base_s": 0,
        "shutdown_grace_s": 10,
        # Short, so a message taken by a poll cancelled at shutdown reappears quickly.
        "visibility_timeout_s": 5,
        # Endpoints off unless a test asks for them (and then only on 127.0.0.1).
        "http_port": 0,
        "http_host": "127.0.0.1",
        "metrics": "off",
    }
    values.update(overrides)
    return Settings(**values)


def drain_settings(settings: Settings) -> Settings:
    """`settings` with short polls, for a daemon run with --drain whose test is not about the
    long poll: a drain ends only after a receive comes back empty, which a long poll makes
    wait `sqs_wait_time` (1 s here) for nothing, where a short poll answers at once."""
    return settings.model_copy(update={"sqs_wait_time": 0})


def made_store(path: Path) -> Path:
    """A SQLite store file at `path` as the daemon's first run leaves it (its header written):
    `triage check` and the operator commands create none, and take an empty file for none."""
    with contextlib.closing(sqlite3.connect(path)) as conn:
        conn.execute("PRAGMA journal_mode=WAL")
    return path


#: The settings that name the OpenAI model: left to their defaults unless a test set them.
_MODEL_FIELDS = frozenset({"openai_model", "openai_base_url"})


def daemon_env(settings: Settings) -> dict[str, str]:
    """The environment that makes `python -m triage` read exactly these settings."""
    from triage.settings import env_name

    env = {
        k: v for k, v in os.environ.items() if not k.startswith(("TRIAGE_", "BACKEND_", "OPENAI_"))
    }
    for field, value in settings.model_dump().items():
        if value is None:
            continue
        if field in _MODEL_FIELDS and field not in settings.model_fields_set:
            # Named without a key, a model is one `triage run` warns of (config.model_unasked):
            # only a test that set it names it.
            continue
        if isinstance(value, tuple | list):
            value = ",".join(value)
        elif hasattr(value, "get_secret_value"):
            value = value.get_secret_value()
        env[env_name(field)] = str(value)
    env["BACKEND_TOKEN"] = TOKEN
    env["PYTHONPATH"] = str(SRC)
    return env


class Daemon:
    """`python -m triage run` as a child process; its output goes to files, never to a pipe
    that nobody reads (a full pipe would block the daemon's logging). The process is forked
    from a Python that has imported triage already (tests/fork_harness.py), which spares each
    daemon ~0.55 s of CPU; it is a process of its own in every other way."""

    def __init__(
        self, settings: Settings, *args: str, log_dir: Path, env: dict[str, str] | None = None
    ) -> None:
        log_dir.mkdir(parents=True, exist_ok=True)
        fd, name = tempfile.mkstemp(prefix="daemon-", suffix=".log", dir=log_dir)
        os.close(fd)
        self.log_path = Path(name)
        self.process = Zygote.shared().spawn(
            ["run", *args], env={**daemon_env(settings), **(env or {})}, stderr=self.log_path
        )

    def signal(self, sig: int) -> None:
        self.process.send_signal(sig)

    def wait(self, timeout: float) -> int:
        """Wait for the exit code; a daemon still running at the timeout is killed (and fails)."""
        try:
            return self.process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
            raise

    @property
    def log(self) -> str:
        return self.log_path.read_text()

    def events(self) -> list[dict[str, Any]]:
        return events(self.log)

    def kill(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait()


class DaemonThread:
    """The daemon (`run_daemon`, what `triage run` runs) on an event loop of its own, in a
    thread of this process: for a test that waits on it from synchronous code and proves
    nothing only a process shows, without a new interpreter's ~0.6 s of CPU. `stop()` ends it
    as SIGTERM does and raises what made it fail, if anything did. What it reads from the
    environment (BACKEND_TOKEN) is this process's: the test sets it."""

    def __init__(self, settings: Settings) -> None:
        self._ready = threading.Event()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._stop: asyncio.Event | None = None
        self._error: BaseException | None = None
        self._thread = threading.Thread(
            target=self._main, args=(settings,), name="daemon", daemon=True
        )
        self._thread.start()

    def _main(self, settings: Settings) -> None:
        try:
            asyncio.run(self._serve(settings))
        except BaseException as exc:  # handed to stop(), which raises it in the test
            self._error = exc
        finally:
            self._ready.set()  # a daemon that failed before it was ready wakes stop() too

    async def _serve(self, settings: Settings) -> None:
        from triage.app import run_daemon

        self._loop, self._stop = asyncio.get_running_loop(), asyncio.Event()
        self._ready.set()
        await run_daemon(settings, stop=self._stop)

    def alive(self) -> bool:
        return self._thread.is_alive()

    def stop(self, timeout_s: float = 30) -> None:
        self._ready.wait(timeout_s)
        if self._thread.is_alive() and self._loop is not None and self._stop is not None:
            with contextlib.suppress(RuntimeError):  # the loop closed as it ended on its own
                self._loop.call_soon_threadsafe(self._stop.set)
        self._thread.join(timeout_s)
        assert not self._thread.is_alive(), f"the daemon did not stop within {timeout_s} s"
        if self._error is not None:
            raise self._error


def events(stderr: str) -> list[dict[str, Any]]:
    """The JSON log lines of a daemon's stderr; a last line still being written is left for
    the next read."""
    complete = stderr[: stderr.rfind("\n") + 1]
    return [json.loads(line) for line in complete.splitlines() if line.startswith("{")]


def run_in_process(
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    *args: str,
    env: Mapping[str, str],
) -> subprocess.CompletedProcess[str]:
    """`triage ARGS` through `triage.cli.main` in this process, in exactly the environment
    `env` (as `run_triage` gives a process): its exit code and what it printed, without the
    ~0.6 s of CPU a new interpreter spends importing triage. Only what a process alone shows
    (a signal, a kill, a closed pipe, the interpreter's own start) needs `run_triage`. The
    request log of moto's server, which shares this process, is kept out of its stderr."""
    from triage.cli import main

    monkeypatch.setattr(logging.getLogger("werkzeug"), "disabled", True)
    for name in [name for name in os.environ if name not in env]:
        monkeypatch.delenv(name)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    capsys.readouterr()  # what the test printed before is not the command's
    try:
        code = main(list(args))
    except SystemExit as exc:  # argparse's usage error: the process's exit status
        code = exc.code if isinstance(exc.code, int) else 1
    out, err = capsys.readouterr()
    return subprocess.CompletedProcess(["triage", *args], code, out, err)


def run_triage(
    *args: str, env: dict[str, str] | None = None, stdin: str | None = None, timeout: float = 60
) -> subprocess.CompletedProcess[str]:
    """`python -m triage ARGS` to completion (default env: nothing but PATH and our source)."""
    return subprocess.run(
        [sys.executable, "-m", "triage", *args],
        env=env if env is not None else {"PATH": "/usr/bin:/bin", "PYTHONPATH": str(SRC)},
        input=stdin,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
