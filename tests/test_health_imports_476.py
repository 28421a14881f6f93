"""`triage health` imports only what its probe uses: the container's HEALTHCHECK runs it every
30 s on a fraction of a CPU, and every library it loads for nothing (aiohttp for one text
helper, botocore, the model client, the redactor's tables) is CPU taken from the daemon it
checks (task 476). Each test runs a fresh interpreter, as the HEALTHCHECK does, and reads its
`sys.modules` after the command, not a clock."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

#: Runs `triage health` against a port nothing listens on (exit 1, "connection refused"),
#: then prints the command's exit code and which of the named modules it had imported.
PROBE = """
import json, sys
import triage.cli
code = triage.cli.main(sys.argv[1:2])
named = json.loads(sys.argv[2])
print(json.dumps({"code": code, "imported": sorted(n for n in named if n in sys.modules)}))
"""

#: What the health path has no use for: the sinks' HTTP client, AWS's SDK, the model client,
#: and the sinks and daemon that bring them.
NOT_FOR_HEALTH = [
    "aiohttp",
    "yarl",
    "botocore",
    "boto3",
    "openai",
    "triage.sinks.aio",
    "triage.app",
    "triage.aws",
]

#: The redactor's rule and needle tables, loaded by the first text redacted (a line logged).
REDACTOR_TABLES = ["triage.redact", "triage.redact.pairs", "triage.redact.named_values"]


@pytest.fixture
def closed_port() -> Iterator[str]:
    """A loopback port bound but not listening: a connection to it is refused at once."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as held:
        held.bind(("127.0.0.1", 0))
        yield str(held.getsockname()[1])


def _health_imports(command: str, port: str, named: list[str]) -> dict[str, object]:
    """Run `triage <command>` in a fresh interpreter; its exit code and which of `named` it
    imported."""
    env = {**os.environ, "TRIAGE_HTTP_PORT": port, "TRIAGE_HTTP_HOST": "127.0.0.1"}
    result = subprocess.run(
        [sys.executable, "-c", PROBE, command, json.dumps(named)],
        capture_output=True,
        text=True,
        timeout=120,
        env=env,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    said: dict[str, object] = json.loads(result.stdout.strip().splitlines()[-1])
    return said


def test_health_imports_no_sink_client_aws_or_model_client(closed_port: str) -> None:
    """`triage health` probes and fails (nothing listens) without importing aiohttp, botocore,
    openai or the sinks: the probe's answer text helpers live apart from aiohttp."""
    said = _health_imports("health", closed_port, NOT_FOR_HEALTH)
    assert said == {"code": 1, "imported": []}


def test_health_imports_no_redactor_tables(closed_port: str) -> None:
    """`triage health` with no warning to log loads none of the redactor's tables: they are
    loaded by the first line logged, not by configuring logging or reading the routes file."""
    said = _health_imports("health", closed_port, REDACTOR_TABLES)
    assert said == {"code": 1, "imported": []}


def test_normalize_loads_no_settings_or_logging(tmp_path: Path) -> None:
    """`triage normalize` (which reads no settings and configures no logging) imports neither
    pydantic-settings, triage's settings and routes, nor aiohttp: cli imports them where a
    command uses them."""
    alert = tmp_path / "alert.json"
    alert.write_text('{"alertname": "x"}')
    probe = (
        "import sys, triage.cli\n"
        f"triage.cli.main(['normalize', {str(alert)!r}])\n"
        "print(sorted(n for n in ('pydantic_settings', 'aiohttp', 'triage.settings',"
        " 'triage.logs', 'triage.routes') if n in sys.modules))"
    )
    result = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, timeout=120, check=True
    )
    assert result.stdout.strip().splitlines()[-1] == "[]", result.stdout + result.stderr
