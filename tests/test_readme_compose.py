"""The README's compose stack (`cp .env.example .env && docker compose up`) starts the worker
and the gateway only once LocalStack holds what they need: the health check the compose file
gives LocalStack, run by the shell against real LocalStack (host mode) running the real
`localstack/init-aws.sh` from its ready hook, as the compose file mounts it.

Needs Python 3.13 for LocalStack (see tests/localstack_harness.py); without it the LocalStack
test skips, except under CI=true, where it fails.
"""

from __future__ import annotations

import json
import os
import shlex
import subprocess
import sys
import threading
import urllib.request
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import boto3
import pytest

from ingest_harness import wait_for
from localstack_harness import ROOT, LocalStack, venv_or_skip

BIN = Path(sys.executable).parent
#: Where the compose file's LocalStack answers inside the container.
COMPOSE_LOCALSTACK = "http://localhost:4566"


def compose_service(name: str) -> dict[str, object]:
    """A service of docker-compose.yml as `docker compose config` resolves it."""
    result = subprocess.run(
        [str(BIN / "docker-compose"), "-f", "docker-compose.yml", "config", "--format", "json"],
        cwd=ROOT,
        env={"PATH": f"{BIN}{os.pathsep}/usr/bin:/bin", "HOME": str(ROOT)},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    service: dict[str, object] = json.loads(result.stdout)["services"][name]
    return service


def health_check_command(endpoint: str) -> str:
    """LocalStack's health check from the compose file, as its container's shell runs it
    (`$$` is Compose's escape for `$`), pointed at `endpoint`."""
    check = compose_service("localstack")["healthcheck"]
    assert isinstance(check, dict)
    kind, command = check["test"]
    assert kind == "CMD-SHELL"
    assert COMPOSE_LOCALSTACK in command
    return str(command).replace("$$", "$").replace(COMPOSE_LOCALSTACK, endpoint)


def healthy(command: str) -> bool:
    """True when the health check command exits 0, as Docker counts it."""
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin")}
    result = subprocess.run(["sh", "-c", command], env=env, capture_output=True, timeout=10)
    return result.returncode == 0


def ready_stage_completed(endpoint: str) -> bool:
    """True once LocalStack says its ready hooks have all run, whatever their outcome: one
    GET in this process, where each try of the health check forks a shell, curl and grep.
    The test waits on this, then runs the health check once."""
    try:
        with urllib.request.urlopen(f"{endpoint}/_localstack/init/ready", timeout=5) as answer:
            return json.load(answer).get("completed") is True
    except (OSError, ValueError):
        return False


def ready_hook(folder: Path, gate: Path, bin_dir: Path) -> None:
    """LocalStack's ready.d as the compose file fills it, with a first script that waits for
    `gate` (so the test can look while the init script has not run) and an init-aws.sh that
    runs the real one with this LocalStack's address (the container's is localhost:4566)."""
    folder.mkdir(parents=True)
    waiting = folder / "00-wait-for-the-test.sh"
    waiting.write_text(
        "#!/bin/sh\n"
        f"end=$(( $(date +%s) + 60 )); while [ ! -e {shlex.quote(str(gate))} ]"
        ' && [ "$(date +%s)" -lt "$end" ]; do sleep 0.05; done\n'
    )
    init = folder / "init-aws.sh"
    init.write_text(
        "#!/bin/sh\n"
        'export AWS_ENDPOINT_URL="http://$GATEWAY_LISTEN"'
        f' PATH={shlex.quote(str(bin_dir))}:"$PATH"\n'
        f"exec {shlex.quote(str(ROOT / 'localstack' / 'init-aws.sh'))}\n"
    )
    for script in (waiting, init):
        script.chmod(0o755)


def hook_environment() -> dict[str, str]:
    """What the compose file gives LocalStack's container for its hook; the hook makes only
    the queues here (the worker's first need; tests/test_localstack_init.py runs all of it)."""
    environment = compose_service("localstack")["environment"]
    assert isinstance(environment, dict)
    hook = {k: str(v) for k, v in environment.items() if k != "SERVICES"}
    # LocalStack takes this machine for a container (it may be one) and would read its hooks
    # from /etc/localstack/init; on the host, they are under FILESYSTEM_ROOT.
    return {**hook, "TRIAGE_INIT_SERVICES": "sqs", "OVERRIDE_IN_DOCKER": "0"}


@pytest.mark.localstack
def test_localstack_turns_healthy_only_once_its_init_script_has_run(tmp_path: Path) -> None:
    """While the ready hook has not run, LocalStack answers but the compose health check fails
    (so the worker, which would find no queue and exit, waits); once the real init-aws.sh has
    run, the check passes and the worker's queue exists."""
    bin_dir = venv_or_skip()
    gate = tmp_path / "gate"
    workdir = tmp_path / "localstack"
    ready_hook(workdir / "filesystem" / "etc" / "localstack" / "init" / "ready.d", gate, bin_dir)
    localstack = LocalStack(
        workdir, services=("sqs",), extra_env=hook_environment(), stop_grace_s=1.0
    )
    with localstack:
        command = health_check_command(localstack.endpoint)
        sqs = boto3.client(
            "sqs",
            endpoint_url=localstack.endpoint,
            region_name="us-east-1",
            aws_access_key_id="test",
            aws_secret_access_key="test",
        )
        assert "QueueUrls" not in sqs.list_queues()  # SQS answers, with no queue yet
        assert not healthy(command)
        gate.touch()
        ran = wait_for(lambda: ready_stage_completed(localstack.endpoint), 60, poll_s=0.5)
        assert ran, localstack.log_path.read_text()
        assert healthy(command), localstack.log_path.read_text()
        assert sqs.get_queue_url(QueueName="alerts")["QueueUrl"].endswith("/alerts")


class _InitAnswer(BaseHTTPRequestHandler):
    """Answers /_localstack/init/ready with the server's `answer`, as LocalStack does."""

    def do_GET(self) -> None:
        body = json.dumps(self.server.answer).encode()  # type: ignore[attr-defined]
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:
        """Quiet."""


@pytest.fixture
def init_endpoint() -> Iterator[ThreadingHTTPServer]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _InitAnswer)
    thread = threading.Thread(target=server.serve_forever, args=(0.02,), daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()
    thread.join(timeout=10)


@pytest.mark.parametrize(
    ("state", "completed", "verdict"),
    [("SUCCESSFUL", True, True), ("RUNNING", False, False), ("ERROR", True, False)],
)
def test_the_health_check_reads_the_init_scripts_state(
    init_endpoint: ThreadingHTTPServer, state: str, completed: bool, verdict: bool
) -> None:
    """The compose health check passes only for a completed ready stage whose script succeeded:
    a script still running, or one that failed, keeps LocalStack unhealthy (LocalStack's
    answer shape, as its /_localstack/init/ready serves it)."""
    init_endpoint.answer = {  # type: ignore[attr-defined]
        "completed": completed,
        "scripts": [{"stage": "READY", "name": "init-aws.sh", "state": state}],
    }
    host, port = init_endpoint.server_address[:2]
    assert healthy(health_check_command(f"http://{host!s}:{port}")) is verdict
