"""Stored alert text printed for a terminal by the console log lines and `triage demo`'s report
is written as `view.terminal_text` writes it: a title spelling `\\u202e` itself (a backslash and
five letters) reads apart from one holding the bidi override that triage writes as `\\u202e`."""

from __future__ import annotations

import io

import structlog

from triage.app import RunResult
from triage.demo.report import report
from triage.logs import configure_logging
from triage.metrics import Metrics
from triage.sqs.supervisor import Stats

#: A title holding a bidi override, and one spelling that override's escape.
REAL = "db\u202edown"
SPELLED = "db\\u202edown"


def _report(title: str, *, error: str | None = None) -> str:
    """`triage demo`'s report for one ticket titled `title` (and a dead letter failing with
    `error`, when given)."""
    stats = Stats(received=1)
    dead = []
    if error is not None:
        stats.remember("m-1", "permanent", error)
        dead = [{"MessageId": "m-1", "Body": "body"}]
    ticket = {"body": {"priority": "high", "title": title, "source": title, "team": title}}
    return report(RunResult(stats, Metrics()), [ticket], dead, 1.0)


def test_the_demo_report_tells_a_spelled_escape_from_an_escaped_character() -> None:
    """A ticket's title, source and team spelling `\\u202e` are printed with the backslash
    doubled; one holding U+202E as `\\u202e`: the two lines differ."""
    real, spelled = _report(REAL), _report(SPELLED)
    assert "db\\u202edown" in real and "db\\\\u202edown" not in real
    assert "db\\\\u202edown" in spelled
    assert real != spelled


def test_the_demo_report_tells_them_apart_in_a_dead_letters_error() -> None:
    """A dead letter's error quoting alert text is stored text too: its spelled escape of ESC
    is printed with the backslash doubled, ESC itself as `\\u001b`."""
    assert "why: permanent: bad db\\\\u001bdown" in _report("t", error="bad db\\u001bdown")
    assert "why: permanent: bad db\\u001bdown" in _report("t", error="bad db\x1bdown")


def _console(**fields: str) -> str:
    """One console log line with `fields`."""
    out = io.StringIO()
    configure_logging("console", "info", out)
    try:
        structlog.get_logger("t").info("alert.routed", **fields)
    finally:
        configure_logging("json", "info")
    return out.getvalue()


def test_a_console_log_line_tells_a_spelled_escape_from_an_escaped_character() -> None:
    """A console line's field holding ESC (which the redactor keeps) writes it `\\u001b`; one
    spelling `\\u001b` has its backslash doubled, so it does not read as a character triage
    escaped. (The redactor drops U+202E from a log line before it is written.)"""
    real, spelled = _console(title="db\x1bdown"), _console(title="db\\u001bdown")
    assert "db\\u001bdown" in real and "\x1b" not in real
    assert "db\\\\u001bdown" in spelled
