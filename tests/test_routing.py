"""Routing through the daemon: a routes file sends matching incidents to more sinks, and a broken
one stops startup with one line."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from daemon_harness import TOKEN, Queues, daemon_env, drain_settings, run_in_process, settings_for
from triage.app import run_daemon
from triage.demo.ticketd import TicketServer


class Webhook:
    """A loopback Slack incoming webhook that records each JSON body posted to it."""

    def __init__(self) -> None:
        self.bodies: list[dict[str, Any]] = []
        owner = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                raw = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                owner.bodies.append(json.loads(raw))
                self.send_response(200)
                self.send_header("Content-Length", "2")
                self.end_headers()
                self.wfile.write(b"ok")

            def log_message(self, format: str, *args: Any) -> None:
                """Quiet."""

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        # A short poll interval: shutdown() waits for serve_forever's next look (0.5 s by default).
        self.thread = threading.Thread(
            target=self.httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )

    @property
    def url(self) -> str:
        host, port = self.httpd.server_address[:2]
        return f"http://{host!s}:{port}/services/T000/B000/secret"


@pytest.fixture
def webhook() -> Iterator[Webhook]:
    hook = Webhook()
    hook.thread.start()
    yield hook
    hook.httpd.shutdown()
    hook.httpd.server_close()


@pytest.fixture(autouse=True)
def backend_token(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("BACKEND_TOKEN", TOKEN)


def generic(key: str, team: str, priority: str) -> dict[str, Any]:
    return {
        "title": f"{key} failed",
        "source": "cron",
        "status": "firing",
        "dedup_key": key,
        "team": team,
        "priority": priority,
    }


async def test_a_route_sends_matching_incidents_to_slack_too(
    queues: Queues,
    backend: TicketServer,
    webhook: Webhook,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Urgent payments incidents go to the backend and Slack (the route's own webhook, with no
    SLACK_WEBHOOK_URL set); everything else to the backend only."""
    monkeypatch.setenv("PAYMENTS_WEBHOOK", webhook.url)
    routes = tmp_path / "routes.toml"
    routes.write_text(
        '[[route]]\nname = "payments-urgent"\nsinks = ["backend", "slack"]\n'
        '[route.match]\nteam = "payments"\npriority = ["critical", "high"]\n'
        '[route.slack]\nwebhook_url_env = "PAYMENTS_WEBHOOK"\n',
        encoding="utf-8",
    )
    queues.send(
        generic("charge-failures", "payments", "P0"),
        generic("refund-lag", "payments", "P3"),
        generic("disk-full", "infra", "P0"),
    )
    settings = settings_for(
        queues,
        backend.url,
        tmp_path / "triage.db",
        routes_file=routes,
        slack_min_interval_s=0,
    )
    result = await run_daemon(drain_settings(settings), drain=True)
    assert len(backend.tickets) == 3
    assert len(webhook.bodies) == 1
    posted = json.dumps(webhook.bodies[0])
    assert "charge-failures failed" in posted
    assert "T-" in posted  # it names the backend ticket created just before it
    assert result.metrics.counter("SinkCalls", sink="slack", outcome="ok") == 1


def test_broken_routes_file_stops_startup_with_one_line(
    queues: Queues,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """`triage run` with a routes file naming an unknown sink exits 2 with one line."""
    routes = tmp_path / "routes.toml"
    routes.write_text('[[route]]\nname = "ops"\nsinks = ["pager"]\n', encoding="utf-8")
    env = daemon_env(settings_for(queues, "http://127.0.0.1:9", tmp_path / "t.db"))
    env["TRIAGE_ROUTES_FILE"] = str(routes)
    proc = run_in_process(monkeypatch, capsys, "run", env=env)
    assert proc.returncode == 2
    line = proc.stderr.strip()
    assert "\n" not in line
    assert "routes.toml" in line and "route 'ops'.sinks" in line
