"""The command line as a user runs it: check, send, normalize.

Most tests run the CLI's own entry point (`triage.cli.main`) in this process: the same parsing,
output and exit code as `python -m triage`, without a process start (~1 s of CPU each). A few
run the real process, for what only a process shows (`python -m triage` wiring, a daemon)."""

from __future__ import annotations

import io
import json
import logging
import os
import re
import socket
import subprocess
import sys
import threading
import time
import tomllib
from collections.abc import Callable
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from daemon_harness import (
    SRC,
    TOKEN,
    DaemonThread,
    Queues,
    daemon_env,
    events,
    made_store,
    run_triage,
    settings_for,
)
from triage.cli import main
from triage.demo.ticketd import TicketServer

SAMPLES = Path(__file__).resolve().parents[1] / "src" / "triage" / "demo" / "alerts"


@dataclass(frozen=True)
class Ran:
    returncode: int
    stdout: str
    stderr: str


Cli = Callable[..., Ran]


@pytest.fixture
def cli(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> Cli:
    """`triage ARGS` through `triage.cli.main` in this process, with `env` set on top of the
    isolated environment and `stdin` (text or bytes) as standard input. The request log of
    moto's server, which shares this process, is kept out of the CLI's stderr."""
    monkeypatch.setattr(logging.getLogger("werkzeug"), "disabled", True)

    def run(*argv: str, env: dict[str, str] | None = None, stdin: str | bytes | None = None) -> Ran:
        for name, value in (env or {}).items():
            if name not in {"PATH", "PYTHONPATH", "HOME"}:
                monkeypatch.setenv(name, value)
        if stdin is not None:
            data = stdin.encode() if isinstance(stdin, str) else stdin
            monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(data)))
        capsys.readouterr()
        returncode = main(list(argv))
        captured = capsys.readouterr()
        return Ran(returncode, captured.out, captured.err)

    return run


def test_check_passes_when_everything_is_reachable(
    queues: Queues, backend: TicketServer, tmp_path: Path, cli: Cli
) -> None:
    """`triage check` prints one ok line per dependency and exits 0 when all are reachable."""
    env = daemon_env(
        settings_for(
            queues,
            backend.url,
            made_store(tmp_path / "t.db"),  # the daemon's: check warns of one not there yet
            backend_update_route="/api/service/tickets/{ref}/updates",
            backend_resolve_route="/api/service/tickets/{ref}/resolve",
        )
    )
    result = cli("check", env=env)
    assert result.returncode == 0, result.stdout + result.stderr
    lines = result.stdout.splitlines()
    assert [line.split()[1] for line in lines[:-1]] == [
        "config",
        "routes",
        "store",
        "queue",
        "token",
        "backend",
        "backend",
    ]
    assert all(line.startswith("ok") for line in lines[:-1])
    assert "with a DLQ" in result.stdout
    assert lines[-1] == "7 of 7 checks passed"


def test_check_lists_every_problem_at_once(queues: Queues, tmp_path: Path, cli: Cli) -> None:
    """With a missing queue, no token and a dead backend, check names each problem and exits 1."""
    env = daemon_env(settings_for(queues, "http://127.0.0.1:9", made_store(tmp_path / "t.db")))
    env["ALERT_TRIAGE_QUEUE_URL"] = queues.url + "-missing"
    del env["BACKEND_TOKEN"]
    result = cli("check", env=env)
    assert result.returncode == 1
    failed = {line.split()[1] for line in result.stdout.splitlines() if line.startswith("FAIL")}
    assert failed == {"queue", "token", "backend"}
    assert "NonExistentQueue" in result.stdout
    assert "set BACKEND_TOKEN or BACKEND_TOKEN_SECRET_ID" in result.stdout
    assert result.stdout.splitlines()[-1] == "4 of 7 checks passed, 1 with a warning"


def test_check_names_a_broken_routes_file(queues: Queues, tmp_path: Path, cli: Cli) -> None:
    """A routes file with an unknown sink fails `check` with a line naming route and key."""
    routes = tmp_path / "routes.toml"
    routes.write_text('[[route]]\nname = "ops"\nsinks = ["pagerduty"]\n', encoding="utf-8")
    env = daemon_env(settings_for(queues, "http://127.0.0.1:9", tmp_path / "t.db"))
    env["TRIAGE_ROUTES_FILE"] = str(routes)
    result = cli("check", env=env)
    assert result.returncode == 1
    (line,) = [line for line in result.stdout.splitlines() if line.split()[1] == "routes"]
    assert line.startswith("FAIL")
    assert "route 'ops'.sinks" in line and "pagerduty" in line


def test_send_queues_files_and_stdin(queues: Queues, tmp_path: Path, cli: Cli) -> None:
    """`triage send` queues each file and stdin as one message each."""
    env = daemon_env(settings_for(queues, "http://127.0.0.1:9", tmp_path / "t.db"))
    sample = SAMPLES / "1-fire-generic-backup.json"
    result = cli("send", str(sample), "-", env=env, stdin='{"title": "from stdin"}')
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("sent 2 of 2 message(s)")
    response = queues.client().receive_message(
        QueueUrl=queues.url, MaxNumberOfMessages=10, MessageAttributeNames=["All"]
    )
    bodies = sorted(m["Body"] for m in response["Messages"])
    assert bodies == sorted([sample.read_text(), '{"title": "from stdin"}'])
    # Each with an identity of its own that a DLQ redrive keeps, as the gateway's messages.
    stamps = {
        m["MessageAttributes"]["gateway_message_id"]["StringValue"] for m in response["Messages"]
    }
    assert len(stamps) == 2 and all(re.fullmatch(r"gw:[0-9a-f-]{36}", s) for s in stamps)


def test_send_to_missing_queue_fails_with_one_line(
    queues: Queues, tmp_path: Path, cli: Cli
) -> None:
    """Sending to a queue that does not exist is a configuration mistake: exit 2 with one
    line, no traceback."""
    env = daemon_env(settings_for(queues, "http://127.0.0.1:9", tmp_path / "t.db"))
    result = cli("send", "--queue-url", queues.url + "-nope", "-", env=env, stdin="{}")
    assert result.returncode == 2
    assert len(result.stderr.strip().splitlines()) == 1
    assert "Traceback" not in result.stderr


def test_send_refuses_a_file_that_is_not_utf8(tmp_path: Path, cli: Cli) -> None:
    """`triage send` of Latin-1 bytes exits 1 with one line before it talks to SQS."""
    path = tmp_path / "latin1.json"
    path.write_bytes('{"title": "caf\xe9"}'.encode("latin-1"))
    result = cli("send", "--queue-url", "http://127.0.0.1:9/q", str(path))
    assert result.returncode == 1
    assert result.stderr.strip() == f"triage: send: {path}: not UTF-8 at byte 14"


def test_normalize_prints_one_json_line_per_alert(tmp_path: Path, cli: Cli) -> None:
    """`triage normalize` prints every alert of a Grafana group with the documented fields."""
    result = cli("normalize", str(SAMPLES / "1-fire-grafana-group.json"))
    assert result.returncode == 0, result.stderr
    alerts = [json.loads(line) for line in result.stdout.splitlines()]
    assert len(alerts) == 2
    for alert in alerts:
        for field in (
            "source",
            "status",
            "fingerprint",
            "title",
            "team",
            "priority",
            "severity",
            "runbook_url",
            "labels",
            "occurred_at",
        ):
            assert field in alert
    assert alerts[0]["fingerprint"] != alerts[1]["fingerprint"]


def test_normalize_shows_the_notes_the_daemon_would_log(cli: Cli) -> None:
    """A batch Prometheus posts with one alert that has no labels and a generic alert whose
    timestamp is no time: the alerts read are printed, and what was left out or guessed is one
    `note:` line on stderr each, as the daemon's log says it."""
    batch = '[{"labels": {"alertname": "Up"}}, {"annotations": {"summary": "no labels"}}]'
    result = cli("normalize", "-", stdin=batch)
    assert result.returncode == 0, result.stderr
    assert len(result.stdout.splitlines()) == 1
    [note] = result.stderr.strip().splitlines()
    assert note.startswith("triage: normalize: note: ")
    generic = '{"title": "disk full", "timestamp": "around noon"}'
    result = cli("normalize", "-", stdin=generic)
    assert result.returncode == 0 and len(result.stdout.splitlines()) == 1
    [note] = result.stderr.strip().splitlines()
    assert note.startswith("triage: normalize: note: ") and "timestamp" in note


def test_normalize_rejects_a_bad_body_with_one_line(cli: Cli) -> None:
    """A body that cannot be normalised exits 1 with a one-line reason on stderr."""
    result = cli("normalize", "-", stdin='{"hello": "world"}')
    assert result.returncode == 1
    assert result.stdout == ""
    [line] = result.stderr.strip().splitlines()
    assert line.startswith("triage: normalize: unknown_format: no known alert format")


def test_normalize_rejects_bytes_that_are_not_utf8_from_a_file_and_stdin(
    tmp_path: Path, cli: Cli
) -> None:
    """Latin-1 bytes, from a file or stdin, exit 1 with the daemon's one-line decode error."""
    body = '{"title": "caf\xe9 down", "dedup_key": "cafe"}'.encode("latin-1")
    path = tmp_path / "latin1.json"
    path.write_bytes(body)
    from_file = cli("normalize", str(path))
    from_stdin = subprocess.run(
        [sys.executable, "-m", "triage", "normalize", "-"],
        env={"PATH": "/usr/bin:/bin", "PYTHONPATH": str(SRC)},
        input=body,
        capture_output=True,
        check=False,
        timeout=60,
    )
    assert from_file.returncode == from_stdin.returncode == 1
    assert from_stdin.stdout == b"" and from_file.stdout == ""
    [line] = from_file.stderr.strip().splitlines()
    assert line.startswith("triage: normalize: decode: body is not UTF-8")
    assert from_stdin.stderr.decode().strip() == line


def test_run_dry_run_drain_leaves_the_queue_as_it_was(
    queues: Queues, backend: TicketServer, tmp_path: Path, cli: Cli
) -> None:
    """`triage run --dry-run --drain` logs a decision per alert, posts nothing, and exits 0."""
    queues.send('{"title": "disk full", "dedup_key": "disk"}')
    # Short polls: a long poll held the drain's end a second per empty receive.
    env = daemon_env(settings_for(queues, backend.url, tmp_path / "t.db", sqs_wait_time=0))
    result = cli("run", "--dry-run", "--drain", env=env)
    assert result.returncode == 0, result.stderr
    [decision] = [e for e in events(result.stderr) if e["event"] == "alert.dry_run"]
    assert decision["action"] == "open"
    assert decision["title"] == "disk full"
    assert backend.request_count == 0
    assert queues.depth() == 1


def test_health_probes_a_running_daemon(
    queues: Queues,
    backend: TicketServer,
    tmp_path: Path,
    cli: Cli,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """`triage health` exits 0 against a running daemon's /healthz and 1 when nothing answers
    (the daemon runs in a thread: what is probed is its port)."""
    port = _free_port()
    settings = settings_for(queues, backend.url, tmp_path / "t.db", http_port=port)
    env = daemon_env(settings)
    monkeypatch.setenv("BACKEND_TOKEN", TOKEN)
    daemon = DaemonThread(settings)
    try:
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline and daemon.alive() and not _accepts(port):
            time.sleep(0.05)
        result = cli("health", env=env)
        assert result.returncode == 0, result.stderr
        assert '"alive": true' in result.stdout
        assert cli("health", "--ready", env=env).returncode == 0
    finally:
        daemon.stop()
    assert cli("health", env=env).returncode == 1


def _accepts(port: int) -> bool:
    with socket.socket() as s:
        return s.connect_ex(("127.0.0.1", port)) == 0


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def test_version_prints_the_installed_version() -> None:
    """`triage --version` prints the version pyproject.toml and the installed metadata both
    give, and exits 0 (it used to exit 2)."""
    from importlib import metadata

    project = tomllib.loads((SRC.parent / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    result = run_triage("--version")
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == f"triage {project['version']}"
    assert metadata.version("triage") == project["version"]


def test_demo_without_the_demo_extra_says_how_to_get_it_in_one_line() -> None:
    """Without moto (an install without the `demo` extra), `triage demo` prints one line naming
    the extra and exits 2: no ModuleNotFoundError traceback."""
    code = "import sys; sys.modules['moto'] = None\nfrom triage.cli import main\nsys.exit(main(['demo']))"
    result = subprocess.run(
        [sys.executable, "-c", code],
        env={"PATH": "/usr/bin:/bin", "PYTHONPATH": str(SRC)},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 2
    assert result.stderr.splitlines() == [
        "triage: demo: needs the demo extra (cannot import moto.server): pip install 'triage[demo]'"
    ]


@pytest.mark.parametrize("command", ["send", "normalize"])
def test_stdin_closed_is_one_line(command: str, tmp_path: Path) -> None:
    """`triage send -` and `triage normalize -` started with standard input closed (`<&-`)
    exit 1 with one line (it was an AttributeError traceback)."""
    argv = [sys.executable, "-m", "triage", command, "-"]
    if command == "send":
        argv[4:4] = ["--queue-url", "http://127.0.0.1:9/q"]
    result = subprocess.run(
        argv,
        env={"PATH": "/usr/bin:/bin", "PYTHONPATH": str(SRC), "HOME": str(tmp_path)},
        stdin=None,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
        preexec_fn=lambda: os.close(0),
    )
    assert result.returncode == 1
    assert result.stderr.strip() == f"triage: {command}: cannot read -: standard input is closed"


def test_send_refuses_an_empty_file_before_sending_anything(
    queues: Queues, tmp_path: Path, cli: Cli
) -> None:
    """An empty file among others: `triage send` exits 1 naming it and sends none of them
    (SQS refuses an empty message; moto takes it)."""
    good, empty = tmp_path / "good.json", tmp_path / "empty.json"
    good.write_text('{"title": "x"}')
    empty.write_bytes(b"")
    result = cli("send", "--queue-url", queues.url, str(good), str(empty))
    assert result.returncode == 1
    assert result.stderr.strip() == f"triage: send: {empty}: empty, nothing to send"
    assert queues.depth() == 0


class _OtherProgram(BaseHTTPRequestHandler):
    """Another program holding the daemon's port: 200 and a page to any GET."""

    def do_GET(self) -> None:
        body = b"\x1b]0;owned\x07\x1b[2J<html>welcome</html>" + b"x" * 100_000
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:
        pass


@pytest.mark.parametrize("ready", [False, True])
def test_health_does_not_take_another_program_on_the_port_for_the_daemon(
    ready: bool, cli: Cli
) -> None:
    """`triage health` against a port another program holds, answering 200 to anything, exits
    1 with one escaped, cut line (it exited 0 and printed the page, escapes and all)."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), _OtherProgram)
    # Its shutdown waits for the serving loop's next look (every 0.5 s by default).
    serve = {"poll_interval": 0.05}
    threading.Thread(target=server.serve_forever, kwargs=serve, daemon=True).start()
    try:
        port = str(server.server_address[1])
        result = cli("health", *(["--ready"] if ready else []), env={"TRIAGE_HTTP_PORT": port})
    finally:
        server.shutdown()
        server.server_close()
    assert result.returncode == 1
    (line,) = result.stderr.splitlines()
    assert line.startswith(f"triage: health: http://127.0.0.1:{port}/") and "not triage's" in line
    assert "\x1b" not in line and len(line) < 400
    assert result.stdout == ""
