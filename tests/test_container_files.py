"""The container files validate with real validators installed from PyPI (there is no Docker
engine here): Compose v5's own `config`, hadolint, shellcheck."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent


def run(*cmd: str) -> subprocess.CompletedProcess[str]:
    env = {"PATH": f"{BIN}{os.pathsep}/usr/bin:/bin", "HOME": str(ROOT)}
    return subprocess.run(
        cmd, cwd=ROOT, env=env, capture_output=True, text=True, timeout=60, check=False
    )


def test_compose_file_validates_and_wires_the_worker_to_localstack() -> None:
    """`docker compose config` accepts docker-compose.yml, the worker points at LocalStack and
    the stand-in backend, and its endpoints listen where the published port can reach them."""
    result = run(
        str(BIN / "docker-compose"), "-f", "docker-compose.yml", "config", "--format", "json"
    )
    assert result.returncode == 0, result.stderr
    config = json.loads(result.stdout)
    assert {"localstack", "backend", "worker"} <= set(config["services"])
    worker = config["services"]["worker"]["environment"]
    assert worker["AWS_ENDPOINT_URL"] == "http://localstack:4566"
    assert worker["BACKEND_BASE_URL"] == "http://backend:4000"
    assert worker["TRIAGE_HTTP_HOST"] == "0.0.0.0"
    [published] = config["services"]["worker"]["ports"]
    assert (published["host_ip"], published["target"]) == ("127.0.0.1", 8080)


def test_dockerfile_passes_hadolint() -> None:
    """The Dockerfile has no hadolint findings."""
    result = run(str(BIN / "hadolint"), "Dockerfile")
    assert result.returncode == 0, result.stdout + result.stderr


def test_init_script_passes_shellcheck() -> None:
    """The LocalStack init script has no shellcheck findings."""
    result = run(str(BIN / "shellcheck"), "localstack/init-aws.sh")
    assert result.returncode == 0, result.stdout + result.stderr
