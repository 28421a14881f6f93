"""`triage incidents list|show --output text`: what an on-call engineer reads at 3 a.m. — one
line per incident, or one incident with its tickets and history, each time absolute and
relative ("12 min ago") — with every alert text redacted and escaped for the terminal (no
escape sequence, bidi control or credential reaches it). JSON stays the default."""

from __future__ import annotations

import asyncio
import re
import sys
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from test_operator_filters import NOW
from triage.app import open_configured_store
from triage.aws import Aws
from triage.cli import main
from triage.incidents import Store
from triage.incidents.store import Routing
from triage.models import Alert, Priority, Status, Ticket
from triage.ops.operator_text import relative
from triage.settings import load_settings

#: Hostile three times: a terminal escape (clears the screen), a bidi override, a password.
HOSTILE = "Disk full \x1b[2J\u202egnp.exe password=hunter2hunter2"


@pytest.fixture(autouse=True)
def now(monkeypatch: pytest.MonkeyPatch) -> datetime:
    """NOW as this test starts: the command line reads the real clock, and "12 min ago" must
    not become 14 when the suite reaches this file minutes after importing it."""
    fresh = datetime.now(UTC).replace(microsecond=0)
    monkeypatch.setattr(sys.modules[__name__], "NOW", fresh)
    return fresh


@pytest.fixture
async def store(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[Store]:
    """TRIAGE_STORE_URL's SQLite store: one hostile incident opened 12 minutes ago with two
    tickets and an update, and a quiet one opened 3 hours ago without a ticket."""
    monkeypatch.setenv("TRIAGE_STORE_URL", f"sqlite:///{tmp_path / 'triage.db'}")
    monkeypatch.setenv("TRIAGE_LOG_LEVEL", "warning")
    settings = load_settings()
    aws = Aws(settings)
    opened = await open_configured_store(settings, aws)
    hostile = Alert(
        source="cloudwatch", status=Status.FIRING, title=HOSTILE, team="payments",
        labels={"env": "prod"}, occurred_at=NOW, identity={"dedup_key": "hostile"},
    )  # fmt: skip
    began = await opened.begin(hostile, "m1", NOW - timedelta(minutes=12))
    assert began.after is not None
    fp = began.after.fingerprint
    ticket = Ticket(title="disk full", priority=Priority.CRITICAL, description="d")
    await opened.save_ticket(fp, "m1", ticket, Routing("db", "payments", {"env": "prod"}))
    answered = NOW - timedelta(minutes=12)
    await opened.confirm(fp, "m1", "backend", "T-812", now=answered)
    issue = "https://github.com/acme/db/issues/7"
    await opened.confirm(fp, "m1", "github", issue, finish=True, now=answered)
    quiet = hostile.model_copy(update={"title": "queue lag", "identity": {"dedup_key": "q"}})
    await opened.begin(quiet, "m2", NOW - timedelta(hours=3))
    yield opened
    await opened.aclose()
    await aws.aclose()


async def _triage(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    def run() -> tuple[int, str, str]:
        code = main(list(args))
        out, err = capsys.readouterr()
        return code, out, err

    return await asyncio.to_thread(run)


def _safe(out: str) -> None:
    assert "\x1b" not in out and "\u202e" not in out and "hunter2" not in out


async def test_list_as_text_is_one_readable_line_per_incident(
    store: Store, capsys: pytest.CaptureFixture[str]
) -> None:
    """Each incident is one line (priority, state, age, alerts, team, source, fingerprint,
    title, tickets), most urgent first, its alert text escaped; filters still apply."""
    code, out, err = await _triage(capsys, "incidents", "list", "--output", "text")
    assert code == 0, err
    lines = out.splitlines()
    assert len(lines) == 2 and lines[0].startswith("critical")
    assert "12 min ago" in lines[0] and "backend T-812" in lines[0] and "payments" in lines[0]
    assert lines[1].startswith("-") and "3 h 0 min ago" in lines[1] and "no ticket" in lines[1]
    _safe(out)
    code, out, _ = await _triage(capsys, "incidents", "list", "--output", "text", "--search", "lag")
    assert code == 0 and len(out.splitlines()) == 1 and "queue lag" in out


async def test_show_as_text_answers_what_happened_and_what_triage_did(
    store: Store, capsys: pytest.CaptureFixture[str]
) -> None:
    """show --output text names the state and when (absolute and relative), the priority,
    team, route and labels, each ticket by sink, and each history line with its time."""
    [incident] = [i for i in await store.incidents() if i.ticket is not None]
    code, out, err = await _triage(
        capsys, "incidents", "show", incident.fingerprint[:8], "--output", "text"
    )
    assert code == 0, err
    assert f"fingerprint  {incident.fingerprint}" in out
    assert "12 min ago" in out and "critical" in out and "route db" in out
    assert "backend: T-812" in out and "github: https://github.com/acme/db/issues/7" in out
    assert "env=prod" in out
    history = out.split("history")[1]
    assert "open" in history and "12 min ago" in history
    _safe(out)


async def test_show_as_text_says_what_each_sink_answered_in_aligned_history_lines(
    store: Store, capsys: pytest.CaptureFixture[str]
) -> None:
    """Each history line names its action and, in one column, what it did: each sink's ticket
    as it answered the open, and the alerts counted since (a storm's repeats, one line)."""
    [incident] = [i for i in await store.incidents() if i.ticket is not None]
    fp = incident.fingerprint
    for n in range(1, 40):
        await store.begin(_hostile(), f"r{n}", NOW - timedelta(minutes=11, seconds=-n))
    code, out, err = await _triage(capsys, "incidents", "show", fp[:8], "--output", "text")
    assert code == 0, err
    lines = out.split("history (oldest first):\n")[1].splitlines()
    assert [re.split(r"\s{2,}", line.strip())[1:] for line in lines] == [
        ["open"],
        ["open", "backend: T-812"],
        ["open", "github: https://github.com/acme/db/issues/7"],
        ["count", "40 alerts (+39)"],
    ]
    notes = [lines[1].index("backend"), lines[2].index("github"), lines[3].index("40 alerts")]
    assert len(set(notes)) == 1, lines  # the notes stand in one column


async def test_show_as_text_escapes_and_redacts_what_a_sink_answered(
    store: Store, capsys: pytest.CaptureFixture[str]
) -> None:
    """A ticket reference a sink answered with (kept in the history) is shown with its escape
    sequence written out, its bidi control dropped and its credential redacted."""
    began = await store.begin(_hostile("answered"), "m9", NOW - timedelta(minutes=1))
    assert began.after is not None
    fp = began.after.fingerprint
    await store.confirm(fp, "m9", "backend", f"T-9 {HOSTILE}", finish=True)
    code, out, err = await _triage(capsys, "incidents", "show", fp[:8], "--output", "text")
    assert code == 0, err
    history = out.split("history (oldest first):")[1]
    assert "backend: T-9 Disk full \\u001b[2Jgnp.exe password=[REDACTED" in history
    _safe(out)


def _hostile(key: str = "hostile") -> Alert:
    """The fixture's hostile alert (its fingerprint by `key`), fired now."""
    return Alert(
        source="cloudwatch", status=Status.FIRING, title=HOSTILE, team="payments",
        labels={"env": "prod"}, occurred_at=NOW, identity={"dedup_key": key},
    )  # fmt: skip


def test_an_unknown_output_is_a_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    """--output takes json or text: anything else is exit 2 before any store is opened."""
    with pytest.raises(SystemExit) as exited:
        main(["incidents", "list", "--output", "table"])
    out, err = capsys.readouterr()
    assert exited.value.code == 2 and out == "" and "--output" in err


def test_relative_times_read_as_a_person_says_them() -> None:
    """Seconds, minutes, hours and days ago; and ahead, for a retry or a held close."""
    assert relative(NOW - timedelta(seconds=40), NOW) == "40 s ago"
    assert relative(NOW - timedelta(minutes=12, seconds=5), NOW) == "12 min ago"
    assert relative(NOW - timedelta(hours=3, minutes=4), NOW) == "3 h 4 min ago"
    assert relative(NOW - timedelta(days=2, hours=5), NOW) == "2 d 5 h ago"
    assert relative(NOW + timedelta(minutes=5), NOW) == "in 5 min"
