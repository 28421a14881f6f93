"""Claims of the README that no other test pinned (helper 449's audit): where `triage health`
probes, `triage ingest` refusing one port for both of its listeners, and the advice given when
a silence's pattern is on a secret-named label."""

from __future__ import annotations

import asyncio
import json
import socket
import subprocess
import threading
from collections.abc import Iterator
from contextlib import ExitStack
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from daemon_harness import run_in_process


class _AliveEndpoint(BaseHTTPRequestHandler):
    """Answers every GET as triage's /healthz and /readyz do when all is well."""

    def do_GET(self) -> None:
        body = json.dumps({"alive": True, "ready": True}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:
        pass


@pytest.fixture
def alive_on_loopback() -> Iterator[int]:
    """A healthy-looking endpoint on 127.0.0.1; yields its port."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), _AliveEndpoint)
    # Its shutdown waits for the serving loop's next look (every 0.5 s by default).
    thread = threading.Thread(
        target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
    )
    thread.start()
    try:
        yield int(server.server_address[1])
    finally:
        server.shutdown()
        server.server_close()


def _health(
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    host: str,
    port: int,
) -> subprocess.CompletedProcess[str]:
    env = {"TRIAGE_HTTP_HOST": host, "TRIAGE_HTTP_PORT": str(port), "PATH": "/usr/bin:/bin"}
    return run_in_process(monkeypatch, capsys, "health", "--timeout", "10", env=env)


def test_health_probes_loopback_when_the_endpoints_listen_on_every_address(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], alive_on_loopback: int
) -> None:
    """Pins the TRIAGE_HTTP_HOST row: with `0.0.0.0`, `triage health` probes 127.0.0.1."""
    ran = _health(monkeypatch, capsys, "0.0.0.0", alive_on_loopback)
    assert ran.returncode == 0, ran.stderr
    assert ran.stdout.startswith(f"http://127.0.0.1:{alive_on_loopback}/healthz: 200")


@pytest.mark.parametrize(("listen", "probed"), [("::1", "[::1]"), ("::", "[::1]")])
def test_health_probes_the_address_the_endpoints_listen_on(
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    alive_on_loopback: int,
    listen: str,
    probed: str,
) -> None:
    """Pins the TRIAGE_HTTP_HOST row (`triage health` probes this address, loopback for `::`):
    a daemon listening on ::1 is not taken as healthy from whatever answers on 127.0.0.1."""
    ran = _health(monkeypatch, capsys, listen, alive_on_loopback)
    # 127.0.0.1 answers healthy on this port; ::1 has nothing there (or no IPv6 at all).
    assert ran.returncode == 1
    assert ran.stderr.startswith(f"triage: health: http://{probed}:{alive_on_loopback}/healthz")


def _free_loopback_ports(count: int) -> list[int]:
    """`count` distinct ports on 127.0.0.1 that nothing listens on now."""
    with ExitStack() as held:
        probes = [held.enter_context(socket.socket()) for _ in range(count)]
        for probe in probes:
            probe.bind(("127.0.0.1", 0))
        return [int(probe.getsockname()[1]) for probe in probes]


def test_ingest_refuses_one_port_for_webhooks_and_the_health_endpoints(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """Pins the TRIAGE_INGEST_PORT row: the same port as TRIAGE_HTTP_PORT stops `triage
    ingest` with one line saying so (exit 2)."""
    # The gateway's port, and one nothing listens on: the SQS it cannot reach, so it listens
    # after its one-second wait for the queue.
    port, sqs = _free_loopback_ports(2)
    env = {
        "PATH": "/usr/bin:/bin",
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_REGION": "us-east-1",
        "AWS_ENDPOINT_URL": f"http://127.0.0.1:{sqs}",
        "ALERT_TRIAGE_QUEUE_URL": f"http://127.0.0.1:{sqs}/000000000000/alerts",
        "TRIAGE_INGEST_TOKENS": json.dumps({"generic": "a-long-generic-token-0123456789"}),
        "TRIAGE_INGEST_HOST": "127.0.0.1",
        "TRIAGE_INGEST_PORT": str(port),
        "TRIAGE_HTTP_HOST": "127.0.0.1",
        "TRIAGE_HTTP_PORT": str(port),
        "TRIAGE_METRICS": "off",
    }
    ran = run_in_process(monkeypatch, capsys, "ingest", env=env)
    assert ran.returncode == 2
    said = [line for line in ran.stderr.splitlines() if line.startswith("triage: ")]
    assert len(said) == 1
    assert said[0].startswith(
        f"triage: config: TRIAGE_HTTP_PORT and TRIAGE_INGEST_PORT are both {port}"
    )


async def _create_store() -> None:
    """The SQLite store a daemon's first run creates (the operator commands need it)."""
    from triage.app import open_configured_store
    from triage.aws import Aws
    from triage.settings import load_settings

    aws = Aws(load_settings())
    store = await open_configured_store(load_settings(), aws)
    await store.aclose()
    await aws.aclose()


def test_a_pattern_on_a_secret_named_label_is_refused_with_advice_that_reads_whole(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    """Pins the Silences paragraph: a pattern on a secret-named label is refused, saying to
    match alerts with the label by `db_password!=` and alerts without it by `db_password=`,
    in advice that reaches the terminal whole (not redacted as if it gave a value)."""
    env = {"PATH": "/usr/bin:/bin", "TRIAGE_STORE_URL": f"sqlite:///{tmp_path / 'triage.db'}"}
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    asyncio.run(_create_store())
    args = ("silence", "add", "--match", "db_password=~hunter.*", "--for", "1h")
    ran = run_in_process(monkeypatch, capsys, *args, "--comment", "c", "--dry-run", env=env)
    assert ran.returncode == 2
    assert "hunter" not in ran.stderr
    assert "REDACTED" not in ran.stderr.split("no pattern tells apart")[1], ran.stderr
    assert (
        "for alerts with one write db_password!=, for alerts without one write db_password="
        in ran.stderr
    ), ran.stderr


def _routes_source_list(readme: str) -> set[str]:
    """The sources the README's Routes section lists as those a route's `source` may name."""
    start = readme.index("an unknown key, sink, priority, `source` (")
    listed = readme[start : readme.index(")", start)].split("(", 1)[1]
    return {word.strip() for word in listed.replace("\n", " ").split(",")}


def test_the_routes_files_source_list_names_every_source() -> None:
    """Pins the Routes section's list of the sources a route's `match.source` takes."""
    from triage.routes import KNOWN_SOURCES

    readme = (Path(__file__).resolve().parent.parent / "README.md").read_text(encoding="utf-8")
    assert _routes_source_list(readme) == set(KNOWN_SOURCES)


def test_a_region_with_a_misspelt_direction_stops_start_up(monkeypatch: pytest.MonkeyPatch) -> None:
    """Pins the Configuration prose: `AWS_REGION` must be an AWS region's name (without a
    local endpoint)."""
    from triage.errors import ConfigError
    from triage.settings import load_settings

    for name in ("AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_SQS", "AWS_DEFAULT_REGION"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_REGION", "eu-wst-1")
    with pytest.raises(ConfigError, match="AWS_REGION"):
        load_settings()
