"""The command line as a user runs it: check, send, normalize."""

from __future__ import annotations

import json
from pathlib import Path

from daemon_harness import Queues, daemon_env, run_triage, settings_for
from triage.stubs.ticketd import TicketServer

SAMPLES = Path(__file__).resolve().parents[1] / "src" / "triage" / "demo_alerts"


triage = run_triage


def test_check_passes_when_everything_is_reachable(
    queues: Queues, backend: TicketServer, tmp_path: Path
) -> None:
    """`triage check` prints one ok line per dependency and exits 0 when all are reachable."""
    env = daemon_env(settings_for(queues, backend.url, tmp_path / "t.db"))
    result = triage("check", env=env)
    assert result.returncode == 0, result.stdout + result.stderr
    lines = result.stdout.splitlines()
    assert [line.split()[1] for line in lines[:-1]] == [
        "config",
        "store",
        "queue",
        "token",
        "backend",
    ]
    assert all(line.startswith("ok") for line in lines[:-1])
    assert "with a DLQ" in result.stdout
    assert lines[-1] == "5 of 5 checks passed"


def test_check_lists_every_problem_at_once(queues: Queues, tmp_path: Path) -> None:
    """With a missing queue, no token and a dead backend, check names each problem and exits 1."""
    env = daemon_env(settings_for(queues, "http://127.0.0.1:9", tmp_path / "t.db"))
    env["ALERT_TRIAGE_QUEUE_URL"] = queues.url + "-missing"
    del env["BACKEND_TOKEN"]
    result = triage("check", env=env)
    assert result.returncode == 1
    failed = {line.split()[1] for line in result.stdout.splitlines() if line.startswith("FAIL")}
    assert failed == {"queue", "token", "backend"}
    assert "NonExistentQueue" in result.stdout
    assert "set BACKEND_TOKEN or BACKEND_TOKEN_SECRET_ID" in result.stdout
    assert result.stdout.splitlines()[-1] == "2 of 5 checks passed"


def test_send_queues_files_and_stdin(queues: Queues, tmp_path: Path) -> None:
    """`triage send` queues each file and stdin as one message each."""
    env = daemon_env(settings_for(queues, "http://127.0.0.1:9", tmp_path / "t.db"))
    sample = SAMPLES / "1-fire-generic-backup.json"
    result = triage("send", str(sample), "-", env=env, stdin='{"title": "from stdin"}')
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("sent 2 of 2 message(s)")
    response = queues.client().receive_message(QueueUrl=queues.url, MaxNumberOfMessages=10)
    bodies = sorted(m["Body"] for m in response["Messages"])
    assert bodies == sorted([sample.read_text(), '{"title": "from stdin"}'])


def test_send_to_missing_queue_fails_with_one_line(queues: Queues, tmp_path: Path) -> None:
    """Sending to a queue that does not exist exits 1 with one line, no traceback."""
    env = daemon_env(settings_for(queues, "http://127.0.0.1:9", tmp_path / "t.db"))
    result = triage("send", "--queue-url", queues.url + "-nope", "-", env=env, stdin="{}")
    assert result.returncode == 1
    assert len(result.stderr.strip().splitlines()) == 1
    assert "Traceback" not in result.stderr


def test_normalize_prints_one_json_line_per_alert(tmp_path: Path) -> None:
    """`triage normalize` prints every alert of a Grafana group with the documented fields."""
    result = triage("normalize", str(SAMPLES / "1-fire-grafana-group.json"))
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


def test_normalize_rejects_a_bad_body_with_one_line() -> None:
    """A body that cannot be normalised exits 1 with a one-line reason on stderr."""
    result = triage("normalize", "-", stdin='{"hello": "world"}')
    assert result.returncode == 1
    assert result.stdout == ""
    [line] = result.stderr.strip().splitlines()
    assert line.startswith("triage: normalize: unknown_format: no known alert format")
