"""What the CLI prints is safe for the terminal it lands in: alert text cannot move the cursor,
clear the screen, set the window title or reorder what the operator reads. The commands run
in this process: what they print is the same text a process writes."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from daemon_harness import Queues, daemon_env, made_store, run_in_process, settings_for
from triage.view import json_line, terminal_line

#: Escape sequences and characters a terminal acts on: clear screen, OSC 52 (write the
#: clipboard), a C1 CSI, a right-to-left override, a line separator, a tag character.
HOSTILE = "\x1b[2J\x1b]52;c;ZWNobyBoaQ==\x07 \x9b31m \u202egnp.exe \u2028 \U000e0041"


def test_a_json_line_escapes_what_a_terminal_would_act_on() -> None:
    """Controls, format characters and separators become \\u escapes (a surrogate pair beyond
    the BMP); other scripts stay readable; the line reads back to the same value."""
    value = {"title": f"café 日本 {HOSTILE}", "n": 1}
    line = json_line(value)
    assert json.loads(line) == value
    assert "café 日本" in line
    assert line.isprintable()
    for escape in ("\\u001b", "\\u0007", "\\u009b", "\\u202e", "\\u2028", "\\udb40\\udc41"):
        assert escape in line


def test_dlq_peek_prints_a_hostile_dead_letter_inert(
    queues: Queues,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """`triage dlq peek` quotes an undecodable body's start: its escape sequences and bidi
    override reach the terminal as \\u escapes, never as the characters."""
    sqs = queues.client()
    sqs.send_message(QueueUrl=queues.dlq_url, MessageBody='{"title": "' + HOSTILE)
    sqs.send_message(QueueUrl=queues.dlq_url, MessageBody=json.dumps({"title": "ok " + HOSTILE}))
    env = daemon_env(settings_for(queues, "http://127.0.0.1:9", tmp_path / "t.db"))
    proc = run_in_process(monkeypatch, capsys, "dlq", "peek", env=env)
    assert proc.returncode == 0, proc.stderr
    lines = proc.stdout.splitlines()
    assert len(lines) == 2
    assert all(line.isprintable() for line in lines), lines
    shown = [json.loads(line) for line in lines]
    # Quoted: its controls escaped on the way (the redactor already dropped the invisible ones)
    assert any("\x1b[2J" in row.get("body", "") for row in shown)


def test_an_error_line_quoting_what_was_typed_is_inert(
    queues: Queues,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """An error on stderr about an id pasted with escape sequences names what it holds by code
    point, inert: `triage silence expire` of such an id (a usage error, exit 2) cannot clear
    the screen, and an unknown id's own line quotes it inert."""
    assert terminal_line("ok é 东京") == "ok é 东京"
    made_store(tmp_path / "t.db")  # the daemon's store: `silence` creates none
    env = daemon_env(settings_for(queues, "http://127.0.0.1:9", tmp_path / "t.db"))
    proc = run_in_process(monkeypatch, capsys, "silence", "expire", "x" + HOSTILE, env=env)
    assert proc.returncode == 2
    assert all(line.isprintable() for line in proc.stderr.splitlines()), proc.stderr
    assert "U+009B" in proc.stderr and "\x1b" not in proc.stderr
    proc = run_in_process(monkeypatch, capsys, "silence", "expire", "ffff0000ffff", env=env)
    assert proc.returncode != 0
    (line,) = proc.stderr.splitlines()
    assert line.isprintable() and "no silence ffff0000ffff" in line, line


def test_triage_normalize_prints_a_hostile_alert_inert(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """`triage normalize` prints each alert as one inert line: a right-to-left override in a
    runbook link or escape sequences in the description never reach the terminal: the redactor
    drops them, as on every output; anything left is a \\u escape."""
    body = {
        "title": "disk full",
        "description": f"see {HOSTILE}",
        "runbook_url": "https://runbooks.example.com/\u202egnp.exe",
    }
    path = tmp_path / "alert.json"
    path.write_text(json.dumps(body), encoding="utf-8")
    proc = run_in_process(
        monkeypatch, capsys, "normalize", str(path), env={"PATH": "/usr/bin:/bin"}
    )
    assert proc.returncode == 0, proc.stderr
    (line,) = proc.stdout.splitlines()
    assert line.isprintable(), line
    assert "\u202e" not in line and "\\u202e" not in line and "\x1b" not in line
    assert json.loads(line)["runbook_url"] == "https://runbooks.example.com/gnp.exe"


def test_console_log_lines_write_alert_text_inert() -> None:
    """With TRIAGE_LOG_FORMAT=console a traceback whose message quotes alert text (escape
    sequences: a screen clear, OSC 52) is written with \\u escapes, as the CLI's lines are."""
    import io

    import structlog

    from triage.logs import configure_logging

    out = io.StringIO()
    configure_logging("console", "info", out)
    log = structlog.get_logger("t")

    def fail() -> None:
        raise ValueError(f"bad value {HOSTILE}")

    try:
        try:
            fail()
        except ValueError:
            log.exception("alert.failed", title=f"x {HOSTILE}")
    finally:
        configure_logging("json", "info")
    text = out.getvalue()
    assert "\x1b" not in text and "\x9b" not in text and "\x07" not in text, text
    assert "bad value \\u001b[2J" in text  # the traceback's message, escaped once
