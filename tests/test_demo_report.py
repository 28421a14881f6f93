"""What `triage demo` prints is written for a terminal: alert text in it (a ticket's title,
source and team, a dead letter's error) cannot drive the terminal that shows it."""

from __future__ import annotations

from triage.app import RunResult
from triage.demo.report import SAMPLE_ATTRIBUTE, report
from triage.metrics import Metrics
from triage.sqs.supervisor import Stats

#: A title that would clear the screen, make a hyperlink to another page, ring the bell,
#: reverse the line (a bidi override) and start a C1 control sequence, if printed as it is.
HOSTILE = "\x1b[2J\x1b]8;;https://evil.example\x07click\x1b]8;;\x07 \u202eoops \x9b31m"


def _printed(tickets: list[dict[str, object]], failures: dict[str, str]) -> str:
    stats = Stats(received=len(tickets))
    for message_id, error in failures.items():
        stats.remember(message_id, "permanent", error)
    dead = [{"MessageId": m, "Body": f"body of {m}"} for m in failures]
    return report(RunResult(stats, Metrics()), tickets, dead, 1.0)


def test_a_hostile_ticket_title_is_printed_escaped() -> None:
    """ESC, OSC, BEL, C1 and bidi characters of a ticket's title, source and team are printed
    as `\\uXXXX`, so the report holds no character a terminal acts on but its line breaks."""
    ticket = {"body": {"priority": "high", "title": HOSTILE, "source": HOSTILE, "team": HOSTILE}}
    out = _printed([ticket], {})
    assert "\\u001b[2J\\u001b]8;;https://evil.example\\u0007click" in out
    assert "\\u202eoops \\u009b31m" in out
    assert all(ch == "\n" or ch.isprintable() for ch in out)


def test_a_dead_letters_error_is_printed_escaped() -> None:
    """A dead letter's error, which may quote alert text, is printed escaped too."""
    out = _printed([], {"m-1": f"cannot decode {HOSTILE}"})
    assert "why: permanent: cannot decode \\u001b[2J" in out
    assert all(ch == "\n" or ch.isprintable() for ch in out)


def test_a_dead_letters_body_is_previewed_without_a_secret_known_by_its_lines() -> None:
    """A dead letter's body is redacted while it has its lines, then joined and cut: a
    password in a YAML block (known only by its lines) is not in the preview."""
    stats = Stats(received=1)
    stats.remember("m-1", "permanent", "cannot decode")
    body = "db:\n  password: |\n    Hunter2SecretValue\n"
    out = report(RunResult(stats, Metrics()), [], [{"MessageId": "m-1", "Body": body}], 1.0)
    assert "db:" in out and "Hunter2" not in out


def test_a_dead_letter_is_named_by_the_sample_file_it_was_sent_from() -> None:
    """A dead letter whose sample-file attribute came back through the redrive is shown under
    that file's name (escaped); one without it is shown by its body alone."""
    stats = Stats(received=2)
    stats.remember("m-1", "permanent", "cannot decode")
    stats.remember("m-2", "permanent", "cannot decode")
    named = {"StringValue": "1-malformed\x1b[2J.json", "DataType": "String"}
    dead = [
        {"MessageId": "m-1", "Body": "first body", "MessageAttributes": {SAMPLE_ATTRIBUTE: named}},
        {"MessageId": "m-2", "Body": "second body"},
    ]
    out = report(RunResult(stats, Metrics()), [], dead, 1.0)
    assert "  1-malformed\\u001b[2J.json: 'first body'" in out
    assert "\n  'second body'" in out
