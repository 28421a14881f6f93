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


def test_compose_runs_the_gateway_beside_the_worker() -> None:
    """The `ingest` service runs the same image with `command: ["ingest"]`, puts webhooks on the
    worker's queue, and publishes its port on 127.0.0.1 only."""
    result = run(
        str(BIN / "docker-compose"), "-f", "docker-compose.yml", "config", "--format", "json"
    )
    assert result.returncode == 0, result.stderr
    services = json.loads(result.stdout)["services"]
    ingest, worker = services["ingest"], services["worker"]
    assert ingest["command"] == ["ingest"]
    assert ingest["build"] == worker["build"]
    env = ingest["environment"]
    assert env["ALERT_TRIAGE_QUEUE_URL"] == worker["environment"]["ALERT_TRIAGE_QUEUE_URL"]
    assert env["AWS_ENDPOINT_URL"] == "http://localstack:4566"
    (port,) = ingest["ports"]
    assert (port["host_ip"], port["published"], port["target"]) == ("127.0.0.1", "8081", 8081)
    assert env["TRIAGE_INGEST_PORT"] == "8081"


def test_gateway_reads_its_tokens_from_the_example_env(tmp_path: Path) -> None:
    """With `cp .env.example .env`, compose hands the gateway tokens it accepts: JSON naming
    known sources, each long enough, and settings that load."""
    import shutil

    from triage.ingest.auth import parse_tokens
    from triage.settings import Settings, env_name

    for name in ("docker-compose.yml", "Dockerfile"):
        shutil.copy(ROOT / name, tmp_path / name)
    (tmp_path / "localstack").mkdir()
    shutil.copy(ROOT / "localstack" / "init-aws.sh", tmp_path / "localstack" / "init-aws.sh")
    shutil.copy(ROOT / ".env.example", tmp_path / ".env")
    result = subprocess.run(
        [str(BIN / "docker-compose"), "-f", "docker-compose.yml", "config", "--format", "json"],
        cwd=tmp_path,
        env={"PATH": f"{BIN}{os.pathsep}/usr/bin:/bin", "HOME": str(tmp_path)},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    env = json.loads(result.stdout)["services"]["ingest"]["environment"]
    tokens = parse_tokens(env["TRIAGE_INGEST_TOKENS"], "TRIAGE_INGEST_TOKENS")
    assert set(tokens) == {"grafana", "alertmanager", "generic", "threshold", "sentry"}
    assert not env.get("TRIAGE_INGEST_TOKENS_SECRET_ID")  # the inline tokens are the ones used
    fields = {f: env[env_name(f)] for f in Settings.model_fields if env.get(env_name(f))}
    settings = Settings(**fields)
    assert settings.ingest_port == 8081 and settings.queue_url


def test_dockerfile_runs_either_process() -> None:
    """`docker run IMAGE` is the daemon and `docker run IMAGE ingest` the gateway: the entry
    point is `python -m triage`, the default command `run`, and both ports are exposed."""
    text = (ROOT / "Dockerfile").read_text(encoding="utf-8")
    assert 'ENTRYPOINT ["python", "-m", "triage"]' in text
    assert 'CMD ["run"]' in text
    assert "EXPOSE 8080 8081" in text


def test_dockerfile_passes_hadolint() -> None:
    """The Dockerfile has no hadolint findings."""
    result = run(str(BIN / "hadolint"), "Dockerfile")
    assert result.returncode == 0, result.stdout + result.stderr


def test_init_script_passes_shellcheck() -> None:
    """The LocalStack init script has no shellcheck findings."""
    result = run(str(BIN / "shellcheck"), "localstack/init-aws.sh")
    assert result.returncode == 0, result.stdout + result.stderr


def test_the_image_runs_the_python_ci_tests() -> None:
    """Both stages use one base image, pinned by digest, whose Python is the one running this
    suite (CI's python3) and the one pyproject, ruff and mypy target."""
    import re
    import tomllib

    text = (ROOT / "Dockerfile").read_text(encoding="utf-8")
    bases = re.findall(r"^FROM (\S+)", text, re.M)
    assert len(bases) == 2 and len(set(bases)) == 1, bases
    pinned = re.fullmatch(r"python:(\d+\.\d+)-slim@sha256:[0-9a-f]{64}", bases[0])
    assert pinned is not None, bases[0]
    image = pinned.group(1)
    assert image == f"{sys.version_info.major}.{sys.version_info.minor}"
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    assert project["project"]["requires-python"] == f">={image}"
    assert project["tool"]["ruff"]["target-version"] == "py" + image.replace(".", "")
    assert project["tool"]["mypy"]["python_version"] == image
    assert "docker buildx imagetools inspect" in text  # how to bump the digest
