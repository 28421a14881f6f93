"""A queue URL typed with a user and password in it, or a key in its query (a copy from a
proxy's or a browser's address bar), is never printed back: every `triage dlq` and `triage
send` line that names the queue shows where it points (scheme, host, port, path) only."""

from __future__ import annotations

from pathlib import Path

import pytest

from daemon_harness import Queues, daemon_env, run_in_process, settings_for

PASSWORD = "s3cretPassw0rd"
QUERY_KEY = "Zk4m9QpL2vXr7TnB"


def _secret_url(endpoint: str, path: str, *, query: bool = True) -> str:
    host = endpoint.split("//", 1)[1]
    return f"http://alice:{PASSWORD}@{host}{path}" + (f"?key={QUERY_KEY}" if query else "")


@pytest.fixture
def env(queues: Queues, tmp_path: Path) -> dict[str, str]:
    return daemon_env(settings_for(queues, "http://127.0.0.1:9", tmp_path / "t.db"))


def _printed(
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    env: dict[str, str],
    *args: str,
) -> tuple[int, str]:
    result = run_in_process(monkeypatch, capsys, *args, env=env)
    return result.returncode, result.stdout + result.stderr


@pytest.mark.parametrize("action", ["peek", "redrive"])
def test_a_dlq_url_with_credentials_is_not_printed(
    queues: Queues,
    env: dict[str, str],
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    action: str,
) -> None:
    """`triage dlq peek|redrive --dlq-url` naming a queue that does not exist with a user,
    password and query key in its URL exits 2 with a line naming the queue's host and path,
    without the password or the key."""
    url = _secret_url(queues.endpoint, "/123456789012/no-such-dlq")
    code, printed = _printed(monkeypatch, capsys, env, "dlq", action, "--dlq-url", url)
    assert code == 2
    assert "/123456789012/no-such-dlq: no such queue" in printed
    assert PASSWORD not in printed and QUERY_KEY not in printed and "alice" not in printed


@pytest.mark.parametrize("command", [("dlq", "peek"), ("dlq", "redrive", "--dry-run")])
def test_a_queue_setting_with_credentials_is_not_printed(
    queues: Queues,
    env: dict[str, str],
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    command: tuple[str, ...],
) -> None:
    """ALERT_TRIAGE_QUEUE_URL holding a password and a query key: `triage dlq` says the
    queue does not exist, naming its path, never the password or the key."""
    env = dict(env, ALERT_TRIAGE_QUEUE_URL=_secret_url(queues.endpoint, "/123456789012/gone"))
    code, printed = _printed(monkeypatch, capsys, env, *command)
    assert code == 2
    assert "/123456789012/gone: no such queue" in printed
    assert PASSWORD not in printed and QUERY_KEY not in printed


def test_a_working_queue_url_with_a_password_is_not_printed_by_peek_or_send(
    queues: Queues,
    env: dict[str, str],
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
) -> None:
    """The lines of a peek, a dry-run redrive and a send that succeed name the queues without
    the user and password they were given with (SQS finds a queue by its path)."""
    queue_path = queues.url.split(queues.endpoint, 1)[1]
    dlq = _secret_url(queues.endpoint, queues.dlq_url.split(queues.endpoint, 1)[1], query=False)
    body = tmp_path / "alert.json"
    body.write_text('{"title": "disk full"}')
    for args in (
        ("dlq", "peek", "--dlq-url", dlq),
        ("dlq", "redrive", "--dry-run", "--dlq-url", dlq),
        (
            "send",
            "--queue-url",
            _secret_url(queues.endpoint, queue_path, query=False),
            str(body),
        ),
    ):
        code, printed = _printed(monkeypatch, capsys, env, *args)
        assert code == 0, printed
        assert queue_path in printed  # a prefix of its DLQ's path too
        assert PASSWORD not in printed and "alice" not in printed, printed
