"""Helpers for the gateway's tests: tokens, settings, the gateway in-process or as a process, a
proxy in front of moto that holds or fails SQS sends, and real Alertmanager."""

from __future__ import annotations

import base64
import contextlib
import hashlib
import hmac
import json
import os
import shutil
import subprocess
import tempfile
import threading
import time
from collections import Counter
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

from daemon_harness import SRC, Queues, events
from fault_proxy import FaultProxy
from fork_harness import Zygote
from triage.ingest import IngestService
from triage.settings import Settings, env_name

TOKENS = {
    "grafana": "grafana-token-0123456789",
    "alertmanager": "alertmanager-token-0123456789",
    "generic": "generic-token-0123456789",
    "sentry": "sentry-client-secret-0123456789abcdef",
}  # threshold has none: it is disabled
PAYLOADS = Path(__file__).parent / "payloads"


def payload(name: str) -> bytes:
    return (PAYLOADS / name).read_bytes()


def bearer(source: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {TOKENS[source]}"}


def basic(user: str, password: str) -> dict[str, str]:
    return {"Authorization": "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()}


def sentry_headers(
    body: bytes, resource: str = "issue", secret: str | None = None
) -> dict[str, str]:
    key = (secret or TOKENS["sentry"]).encode()
    return {
        "Sentry-Hook-Signature": hmac.new(key, body, hashlib.sha256).hexdigest(),
        "Sentry-Hook-Resource": resource,
        "Content-Type": "application/json",
    }


def ingest_settings(queue_url: str, endpoint: str, **overrides: Any) -> Settings:
    values: dict[str, Any] = {
        "queue_url": queue_url,
        "aws_endpoint_url": endpoint,
        "ingest_host": "127.0.0.1",
        "ingest_port": 0,
        "ingest_tokens": json.dumps(TOKENS),
        "ingest_linger_ms": 2,
        "ingest_rate_per_s": 1000,
        "http_port": 0,
        "http_host": "127.0.0.1",
        "metrics": "off",
        "shutdown_grace_s": 10,
    }
    values.update(overrides)
    return Settings(**values)


@contextlib.asynccontextmanager
async def running(settings: Settings) -> AsyncIterator[IngestService]:
    """The gateway in this test's event loop; stopped (drained) on exit."""
    import asyncio

    service = IngestService(settings, stop=asyncio.Event())
    await service.startup()
    try:
        yield service
    finally:
        service.should_exit.set()
        await service.shutdown()


def loopback_client(port: int) -> Any:
    """An httpx2.AsyncClient for http://127.0.0.1:`port`. Plain HTTP, so no CA bundle is
    loaded (that costs ~40 ms of CPU per client, and the gateway tests make one each)."""
    import httpx2

    return httpx2.AsyncClient(base_url=f"http://127.0.0.1:{port}", timeout=30, verify=False)


async def post_once(settings: Settings, path: str, body: bytes, headers: dict[str, str]) -> Any:
    """Start the gateway in-process, POST one body to `path`, stop it; the httpx2 response."""
    async with running(settings) as service, loopback_client(service.port) as client:
        return await client.post(path, content=body, headers=headers)


def env_for(settings: Settings) -> dict[str, str]:
    """The environment that makes `python -m triage ingest` read exactly `settings`."""
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("TRIAGE_", "BACKEND_", "OPENAI_")) and k != "ALERT_TRIAGE_QUEUE_URL"
    }
    for field, value in settings.model_dump().items():
        if value is None:
            continue
        if isinstance(value, tuple | list):
            value = ",".join(value)
        elif hasattr(value, "get_secret_value"):
            value = value.get_secret_value()
        env[env_name(field)] = str(value)
    env["PYTHONPATH"] = str(SRC)
    return env


def wait_for(predicate: Callable[[], bool], timeout_s: float, poll_s: float = 0.02) -> bool:
    """Poll `predicate` until it is true (True) or `timeout_s` passes (False)."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(poll_s)
    return predicate()


class IngestProcess:
    """`python -m triage ingest` as a child process on a free port; stderr goes to a file.
    Forked from the Python that has imported triage already (tests/fork_harness.py), as the
    daemons are: a process of its own, without a new interpreter's imports."""

    def __init__(self, settings: Settings, log_dir: Path) -> None:
        log_dir.mkdir(parents=True, exist_ok=True)
        fd, name = tempfile.mkstemp(prefix="ingest-", suffix=".log", dir=log_dir)
        os.close(fd)
        self.log_path = Path(name)
        self.process = Zygote.shared().spawn(
            ["ingest"], env=env_for(settings), stderr=self.log_path
        )
        self.port = 0

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def events(self) -> list[dict[str, Any]]:
        return events(self.log_path.read_text(errors="replace"))

    def wait_listening(self, timeout_s: float = 30) -> str:
        """The gateway's base URL once its `ingest.listening` line is written."""

        def listening() -> bool:
            found = [e for e in self.events() if e.get("event") == "ingest.listening"]
            if found:
                self.port = int(found[0]["port"])
            return bool(found) or self.process.poll() is not None

        wait_for(listening, timeout_s)
        assert self.port, f"the gateway did not start: {self.log_path.read_text()}"
        return self.url

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait(timeout=10)


class SqsProxy(FaultProxy):
    """The fault proxy, which also counts the SQS and Secrets Manager calls it relays, can
    hold every send until released, or every call (an SQS that accepts connections and does not
    answer) until `answering` is set, and answers as `Failed` each SendMessageBatch entry whose
    body contains a marker (SenderFault as told), without passing it on to moto."""

    def __init__(self, upstream: str) -> None:
        self.calls: Counter[str] = Counter()
        self.fail_marker: str | None = None
        self.fail_as_sender_fault = False
        #: Cleared: sends wait until it is set again (SQS slow to answer).
        self.released = threading.Event()
        self.released.set()
        self.sends_waiting = 0
        #: Cleared: every call (of `silent_actions` only, when given) waits until it is set
        #: again (SQS, or Secrets Manager, silent).
        self.answering = threading.Event()
        self.answering.set()
        self.silent_actions: frozenset[str] | None = None
        self._count_lock = threading.Lock()
        super().__init__(upstream)

    def count(self, action: str) -> int:
        with self._count_lock:
            return self.calls[action]

    def _exchange(
        self, method: str, path: str, headers: dict[str, str], body: bytes
    ) -> tuple[int, list[tuple[str, str]], bytes]:
        action = headers.get("x-amz-target", "").rsplit(".", 1)[-1]
        with self._count_lock:
            self.calls[action] += 1
        if self.silent_actions is None or action in self.silent_actions:
            self.answering.wait(timeout=60)
        if action in {"SendMessage", "SendMessageBatch"} and not self.released.is_set():
            with self._count_lock:
                self.sends_waiting += 1
            self.released.wait(timeout=60)
        if action == "SendMessageBatch" and self.fail_marker:
            return self._fail_marked(method, path, headers, body)
        return super()._exchange(method, path, headers, body)

    def _fail_marked(
        self, method: str, path: str, headers: dict[str, str], body: bytes
    ) -> tuple[int, list[tuple[str, str]], bytes]:
        assert self.fail_marker is not None
        request = json.loads(body)
        failed = [e for e in request["Entries"] if self.fail_marker in e["MessageBody"]]
        request["Entries"] = [e for e in request["Entries"] if e not in failed]
        answer: dict[str, Any] = {"Successful": []}
        status, reply_headers = 200, [("Content-Type", "application/x-amz-json-1.0")]
        if request["Entries"]:
            status, reply_headers, reply = super()._exchange(
                method, path, headers, json.dumps(request).encode()
            )
            answer = json.loads(reply)
        answer["Failed"] = [
            {
                "Id": e["Id"],
                "SenderFault": self.fail_as_sender_fault,
                "Code": "InvalidMessageContents" if self.fail_as_sender_fault else "InternalError",
                "Message": "injected by the test's proxy",
            }
            for e in failed
        ]
        return status, reply_headers, json.dumps(answer).encode()


# --- Real Alertmanager -------------------------------------------------------------------------

ALERTMANAGER = shutil.which("prometheus-alertmanager") or shutil.which("alertmanager")


def alertmanager_or_skip() -> str:
    """The binary's path; without it the test skips, or fails in CI (whose .ci/run installs
    Debian's prometheus-alertmanager)."""
    from programs import program_or_skip

    return program_or_skip(
        "prometheus-alertmanager",
        "alertmanager",
        install="Debian: apt-get install -y --no-install-recommends prometheus-alertmanager",
    )


class Alertmanager:
    """Debian's prometheus-alertmanager on 127.0.0.1 (free port, no clustering), with the given
    configuration; its log goes to a file."""

    def __init__(self, config: str, workdir: Path, templates: dict[str, str] | None = None) -> None:
        assert ALERTMANAGER is not None
        workdir.mkdir(parents=True, exist_ok=True)
        for name, text in (templates or {}).items():
            (workdir / name).write_text(text)
        (workdir / "alertmanager.yml").write_text(config)
        self.log_path = workdir / "alertmanager.log"
        with self.log_path.open("w") as log:
            self.process = subprocess.Popen(
                [
                    ALERTMANAGER,
                    f"--config.file={workdir / 'alertmanager.yml'}",
                    f"--storage.path={workdir / 'data'}",
                    "--web.listen-address=127.0.0.1:0",
                    "--cluster.listen-address=",
                ],
                cwd=workdir,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        self.url = ""

    def wait_listening(self, timeout_s: float = 30) -> str:
        def listening() -> bool:
            for line in self.log_path.read_text(errors="replace").splitlines():
                if 'msg="Listening on"' in line and "address=" in line:
                    address = line.rsplit("address=", 1)[1].split()[0]
                    if not address.endswith(":0"):
                        self.url = f"http://{address}"
                        return True
            return self.process.poll() is not None

        wait_for(listening, timeout_s)
        assert self.url, f"Alertmanager did not start: {self.log_path.read_text()}"
        return self.url

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


def queue_arn(queues: Queues) -> str:
    attrs = queues.client().get_queue_attributes(QueueUrl=queues.url, AttributeNames=["QueueArn"])
    return str(attrs["Attributes"]["QueueArn"])
