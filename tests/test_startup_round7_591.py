"""Start-up and configuration as a team adopting triage meets them (round 7, helper 591): the
AWS clients' connection pools keep up with TRIAGE_CONCURRENCY, and a refused setting's line
stays one line whatever the value holds."""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator, MutableMapping
from http.server import BaseHTTPRequestHandler
from pathlib import Path
from typing import Any

import pytest

from daemon_harness import SRC, Queues
from moto_speed import loopback_aws_client
from triage.app import deployment_warnings
from triage.aws import Aws
from triage.demo.loopback import KeepAliveHandler, LoopbackServer
from triage.errors import ConfigError
from triage.settings import Settings, load_settings
from triage.sqs.redrive import read_max_receive_count

#: How long a held request waits for the others to arrive before it answers anyway.
HOLD_S = 3.0


class HoldingDynamo(LoopbackServer):
    """Answers DynamoDB's GetItem with no item, each request only once `expected` requests
    are open at once (or HOLD_S has passed): how many the client had open at once is the
    most its connection pool lets through."""

    def __init__(self, expected: int) -> None:
        self.expected = expected
        self.open = 0
        self.most_at_once = 0
        self.released = False
        self._changed = threading.Condition()
        super().__init__()

    def _handler_class(self) -> type[BaseHTTPRequestHandler]:
        server = self

        class Handler(KeepAliveHandler):
            def do_POST(self) -> None:
                self.rfile.read(int(self.headers.get("Content-Length", "0")))
                with server._changed:
                    server.open += 1
                    server.most_at_once = max(server.most_at_once, server.open)
                    # Once all were open at once, every request answers (a latch: the first
                    # answered lowers `open` before the others have woken).
                    server.released |= server.open >= server.expected
                    server._changed.notify_all()
                    deadline = time.monotonic() + HOLD_S
                    while not server.released and time.monotonic() < deadline:
                        server._changed.wait(deadline - time.monotonic())
                body = json.dumps({}).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/x-amz-json-1.0")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)
                with server._changed:
                    server.open -= 1

            def log_message(self, format: str, *args: object) -> None:
                """Quiet."""

        return Handler


@pytest.fixture
def dynamo() -> Iterator[HoldingDynamo]:
    with HoldingDynamo(expected=24) as server:
        yield server


async def test_every_worker_gets_its_own_connection_to_the_store(dynamo: HoldingDynamo) -> None:
    """Proves TRIAGE_CONCURRENCY=24 workers reach DynamoDB at once, not botocore's pool of 10."""
    settings = Settings(
        queue_url=f"{dynamo.base_url}/000000000000/q",
        aws_endpoint_url=dynamo.base_url,
        aws_region="eu-west-1",
        concurrency=24,
    )
    aws = Aws(settings)
    try:
        table = await aws.client("dynamodb")
        await asyncio.gather(
            *(table.get_item(TableName="t", Key={"pk": {"S": str(i)}}) for i in range(24))
        )
    finally:
        await aws.aclose()
    assert dynamo.most_at_once == 24


def test_a_sink_list_holding_a_newline_is_refused_in_one_line(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Proves TRIAGE_SINKS with a newline inside (a YAML block scalar) is one refusal line."""
    monkeypatch.setenv("TRIAGE_SINKS", "backend\nslack")
    with pytest.raises(ConfigError) as caught:
        load_settings()
    assert "\n" not in str(caught.value)
    assert str(caught.value).startswith("TRIAGE_SINKS: ")


async def test_a_queue_without_a_redrive_policy_is_warned_of_at_start(
    queues: Queues, logs: list[MutableMapping[str, Any]]
) -> None:
    """Proves the daemon's start-up read warns once, naming the queue, when it has no DLQ."""
    async with loopback_aws_client("sqs", endpoint_url=queues.endpoint) as client:
        assert await read_max_receive_count(client, queues.url) == 2
        assert not [e for e in logs if e["log_level"] == "warning"]
        assert await read_max_receive_count(client, queues.dlq_url) is None
    warned = [e for e in logs if e["log_level"] == "warning"]
    assert [e["event"] for e in warned] == ["redrive.none"]
    assert warned[0]["queue"] == queues.dlq_url
    assert "dead-letter" in warned[0]["detail"]


ECS = {"ECS_CONTAINER_METADATA_URI_V4": "http://169.254.170.2/v4/abc"}


def test_a_drain_longer_than_ecs_default_stop_timeout_is_warned_of_in_a_task() -> None:
    """Proves a grace of 60 s in an ECS task is warned of, naming the stopTimeout it needs."""
    settings = Settings(shutdown_grace_s=60)
    warned = dict(deployment_warnings(settings, ["github"], ECS))
    detail = warned["config.stop_past_ecs_default"]
    assert "TRIAGE_SHUTDOWN_GRACE_S (60)" in detail and "stopTimeout is at least 67" in detail


@pytest.mark.parametrize(
    ("grace_s", "environ"), [(23.0, ECS), (60.0, {})], ids=["defaults", "outside-ecs"]
)
def test_a_drain_inside_the_stop_timeout_or_outside_ecs_is_not_warned_of(
    grace_s: float, environ: dict[str, str]
) -> None:
    """Proves the defaults (23 + 3 + 4 = 30 s) fit ECS's 30 s, and no ECS means no warning."""
    warned = dict(deployment_warnings(Settings(shutdown_grace_s=grace_s), ["github"], environ))
    assert "config.stop_past_ecs_default" not in warned


AS_THE_IMAGE_USER = ("setpriv", "--reuid=10001", "--regid=10001", "--clear-groups")

#: What the image's user (Dockerfile: uid 10001) sees of a store path: opened in a child.
_OPEN_AS_THE_IMAGE_USER = """
import asyncio, sys
from datetime import timedelta
from triage.errors import ConfigError
from triage.incidents import Policy, open_store
async def main():
    try:
        await open_store(sys.argv[1], Policy(), timedelta(seconds=150), timedelta(days=30))
    except ConfigError as exc:
        print(exc)
asyncio.run(main())
"""


@pytest.mark.skipif(
    os.geteuid() != 0 or shutil.which("setpriv") is None,
    reason="needs root and setpriv to open the store as the image's non-root user",
)
def test_a_sqlite_store_the_image_user_cannot_write_names_the_setting_and_why() -> None:
    """Proves a store in a directory uid 10001 cannot write (a read-only root filesystem, a
    volume owned by root) is one line naming TRIAGE_STORE_URL, the directory and the uid."""
    # Not under tmp_path: pytest's base directory is root's alone (0700), so uid 10001 could
    # not even reach a directory below it.
    with tempfile.TemporaryDirectory(dir="/tmp") as top:
        Path(top).chmod(0o755)
        locked = Path(top) / "ro"
        locked.mkdir(mode=0o555)
        out = subprocess.run(
            [
                *AS_THE_IMAGE_USER,
                sys.executable,
                "-c",
                _OPEN_AS_THE_IMAGE_USER,
                f"sqlite:///{locked}/x.db",
            ],
            env={**os.environ, "PYTHONPATH": str(SRC)},
            capture_output=True,
            text=True,
            check=True,
            cwd="/",
        )
    line = out.stdout.strip()
    assert "\n" not in line, line
    assert line.startswith("TRIAGE_STORE_URL: "), line
    assert f"{locked} is not writable by uid 10001" in line, line


@pytest.mark.parametrize("name", ["OPENAI_MODEL", "TRIAGE_BEDROCK_MODEL_ID"])
@pytest.mark.parametrize("value", ["gpt-4o\nmini", "gpt 4o mini", "gpt-4o\tmini", "gpt\x7f"])
def test_a_model_id_with_whitespace_or_a_control_character_inside_is_refused(
    monkeypatch: pytest.MonkeyPatch, name: str, value: str
) -> None:
    """Proves a model id no server has (a line break, space or control character inside, as a
    YAML block or a pasted sentence leaves it) stops the start naming the variable, in one
    line, instead of every summary falling back to the deterministic one."""
    monkeypatch.setenv(name, value)
    with pytest.raises(ConfigError) as caught:
        load_settings()
    message = str(caught.value)
    assert "\n" not in message and message.startswith(f"{name}: "), message
    assert value not in message


@pytest.mark.parametrize(
    "value",
    ["gpt-4o-mini", "ft:gpt-4o-mini:org::abc123", "meta-llama/Llama-3-8B", "llama3:8b"],
)
def test_model_ids_as_servers_name_them_are_taken(
    monkeypatch: pytest.MonkeyPatch, value: str
) -> None:
    """Proves fine-tuned, Hugging Face and Ollama model names are read as written."""
    monkeypatch.setenv("OPENAI_MODEL", value)
    assert load_settings().openai_model == value
